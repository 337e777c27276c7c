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
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "demo/demo.h"
#include "http/http.h"
#include "tls/tls.h"
#include "core/banned.h"

static char	tls_dir[64];
static struct pc_demo_tokens tokens;

/* What `portcullis demo` does before loading its configuration: a throwaway certificate in
 * a private directory named by PC_DEMO_TLS_DIR. */
static int
demo_tls_dir(void)
{
	char cert[128], key[128], fp[96];

	(void)snprintf(tls_dir, sizeof(tls_dir), "/tmp/pc-test-demo-XXXXXX");
	if (pc_tls_init() != 0 || mkdtemp(tls_dir) == NULL)
		return -1;
	(void)snprintf(cert, sizeof(cert), "%s/demo.crt", tls_dir);
	(void)snprintf(key, sizeof(key), "%s/demo.key", tls_dir);
	if (pc_tls_selfsigned("localhost", 1, cert, key, fp) != 0)
		return -1;
	(void)snprintf(cert, sizeof(cert), "%s/jwks.json", tls_dir);
	if (pc_demo_issuer_make(cert, &tokens) != 0)
		return -1;
	/* ... and its API key store with the pepper beside it. */
	(void)snprintf(cert, sizeof(cert), "%s/api-keys.db", tls_dir);
	(void)snprintf(key, sizeof(key), "%s/api-keys.db.pepper", tls_dir);
	if (pc_demo_apikey_make(cert, key, &tokens) != 0)
		return -1;
	if (strlen(fp) != 95)
		return -1;
	return setenv("PC_DEMO_TLS_DIR", tls_dir, 1);
}

static void
demo_tls_dir_remove(void)
{
	char path[128];

	(void)snprintf(path, sizeof(path), "%s/demo.crt", tls_dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/demo.key", tls_dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/jwks.json", tls_dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/api-keys.db", tls_dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/api-keys.db.pepper", tls_dir);
	(void)unlink(path);
	(void)rmdir(tls_dir);
}

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
	/* ... and makes its TLS certificate in a fresh directory named by PC_DEMO_TLS_DIR. */
	assert_int_equal(demo_tls_dir(), 0);
	rc = pc_conf_load_mem("demo.yaml", pc_demo_yaml, strlen(pc_demo_yaml), &c, &err);
	if (rc != 0)
		fail_msg("demo.yaml refused: %s", err.text);
	assert_int_equal(c->workers, 1);
	assert_int_equal(c->nlisteners, 2);
	assert_string_equal(c->listeners[0].addr.text, "127.0.0.1:8080");
	assert_null(c->listeners[0].tls);
	assert_string_equal(c->listeners[1].addr.text, "127.0.0.1:8443");
	assert_non_null(c->listeners[1].tls);
	assert_string_equal(c->listeners[1].hsts, "max-age=31536000");
	assert_int_equal(c->nresponse_headers, 2);
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
	assert_int_equal(c->nroutes, 7);
	assert_int_equal(c->nissuers, 1);
	assert_int_equal(c->issuers[0].jwks->nkeys, 1);
	assert_int_equal(c->limits.header_max_bytes, 16384);

	r = route_named(c, "trip-rating");
	assert_string_equal(r->path, "/v1/trips/{id}/ratings");
	assert_int_equal(r->methods, 1u << PC_M_POST);
	assert_int_equal(r->body_max_bytes, 4096);
	r = route_named(c, "trips");
	assert_int_equal(r->methods, 1u << PC_M_GET);
	assert_true(r->public_);
	r = route_named(c, "trip-request");
	assert_int_equal(r->methods, 1u << PC_M_POST);
	assert_int_equal(r->nauth, 1);
	assert_int_equal(r->nscopes, 1);
	assert_string_equal(r->scopes[0], "trips:write");
	r = route_named(c, "riders");
	assert_true(r->public_);
	assert_int_equal(r->nsegs, 3);
	assert_int_equal(r->segs[2].kind, PC_SEG_WILDCARD);

	/* Public routes are warned about, one by one: the YAML says so to the reader. */
	assert_true(pc_conf_warnings(c, count_warning, &nwarn) >= 4);
	assert_true(nwarn >= 4);
	pc_conf_unref(c);
	demo_tls_dir_remove();
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
