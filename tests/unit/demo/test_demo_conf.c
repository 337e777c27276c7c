/*
 * tests/unit/demo/test_demo_conf.c - the embedded demo configuration: the exact bytes of
 * examples/demo.yaml, and a configuration config/ accepts with the routes the tour relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "config/config.h"
#include "demo/demo.h"
#include "http/http.h"
#include "core/banned.h"

/* The tests run from the repository root (make unit); with an absolute __FILE__ they run
 * from anywhere. */
static char *
read_example(size_t *len)
{
	static const char	 suffix[] = "tests/unit/demo/test_demo_conf.c";
	const char		*self = __FILE__;
	size_t			 n = strlen(self);
	char			 path[4096];
	FILE			*f;
	char			*buf;
	long			 size;

	assert_true(n >= sizeof(suffix) - 1);
	assert_true(n - (sizeof(suffix) - 1) + sizeof("examples/demo.yaml") <= sizeof(path));
	(void)snprintf(path, sizeof(path), "%.*sexamples/demo.yaml",
	    (int)(n - (sizeof(suffix) - 1)), self);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	buf = malloc((size_t)size);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	(void)fclose(f);
	*len = (size_t)size;
	return buf;
}

static void
test_embedded_bytes_equal_file(void **state)
{
	size_t	 len;
	char	*file = read_example(&len);

	(void)state;
	assert_int_equal(strlen(pc_demo_yaml), len);
	assert_memory_equal(pc_demo_yaml, file, len);
	assert_int_equal(pc_demo_yaml[len], '\0');
	free(file);
}

static const struct pc_conf_route *
route_named(const struct pc_conf *c, const char *name)
{
	unsigned i;

	for (i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].name, name) == 0)
			return &c->routes[i];
	fail_msg("no route named %s", name);
	abort();	/* tells the compiler the result is never NULL */
}

static void
count_warning(void *arg, const char *msg)
{
	(void)msg;
	(*(unsigned *)arg)++;
}

static void
test_config_loads(void **state)
{
	struct pc_conf			*c = NULL;
	struct pc_conf_diag		 err;
	const struct pc_conf_route	*r;
	const struct sockaddr_in	*sin;
	unsigned			 nwarn = 0;
	int				 rc;

	(void)state;
	memset(&err, 0, sizeof(err));
	/* `portcullis demo` sets this (a random token per run) before it loads the file. */
	assert_int_equal(setenv("PC_DEMO_ADMIN_TOKEN", "demo-token-for-the-unit-test", 1), 0);
	rc = pc_conf_load_mem("demo.yaml", pc_demo_yaml, strlen(pc_demo_yaml), &c, &err);
	if (rc != 0)
		fail_msg("demo.yaml refused: %s", err.text);
	assert_int_equal(c->workers, 1);
	assert_int_equal(c->nlisteners, 1);
	assert_string_equal(c->listeners[0].addr.text, "127.0.0.1:8080");
	assert_true(c->admin_enabled);
	assert_string_equal(c->admin_token, "demo-token-for-the-unit-test");
	assert_string_equal(c->admin_addr.text, "127.0.0.1:9901");
	assert_true(c->drop_server_header);
	assert_string_equal(c->access_log, "stdout");
	assert_string_equal(c->event_log, "off");
	assert_int_equal(c->nupstreams, 1);
	assert_string_equal(c->upstreams[0].name, "rides");
	assert_int_equal(c->upstreams[0].ntargets, 1);
	sin = (const struct sockaddr_in *)&c->upstreams[0].targets[0].ss;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 18080);
	assert_int_equal(c->nroutes, 6);
	assert_int_equal(c->limits.header_max_bytes, 16384);

	r = route_named(c, "trip-rating");
	assert_string_equal(r->path, "/v1/trips/{id}/ratings");
	assert_int_equal(r->methods, 1u << PC_M_POST);
	assert_int_equal(r->body_max_bytes, 4096);
	r = route_named(c, "trips");
	assert_int_equal(r->methods, (1u << PC_M_GET) | (1u << PC_M_POST));
	r = route_named(c, "riders");
	assert_true(r->public_);
	assert_int_equal(r->nsegs, 3);
	assert_int_equal(r->segs[2].kind, PC_SEG_WILDCARD);

	/* Public routes are warned about, one by one: the YAML says so to the reader. */
	assert_true(pc_conf_warnings(c, count_warning, &nwarn) >= 6);
	assert_true(nwarn >= 6);
	pc_conf_unref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_bytes_equal_file),
		cmocka_unit_test(test_config_loads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
