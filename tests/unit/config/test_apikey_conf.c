/*
 * tests/unit/config/test_apikey_conf.c - config/apikey_conf.c and the route side of
 * api_keys: in auth_conf.c: a store loads with its pepper, and each mistake is one
 * "file:line:col: message" (the store's own errors carry the store file's line).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "core/banned.h"

#define PEPPER	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char	dir[64], store[128], pepfile[160], text[4096];

/* A store holding one record under PEPPER, and its default pepper file (0600). */
static int
setup(void **state)
{
	struct pc_apikey_store	*s;
	struct pc_buf		 b;
	uint8_t			 pep[32], h[32];
	FILE			*f;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/pc-akconf-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(store, sizeof(store), "%s/keys.db", dir);
	(void)snprintf(pepfile, sizeof(pepfile), "%s.pepper", store);
	if (pc_apikey_pepper_parse(PC_STR(PEPPER), pep) != 0 ||
	    pc_apikey_store_new("x", pep, &s) != 0)
		return -1;
	memset(h, 1, sizeof(h));
	if (pc_apikey_store_add(s, h, PC_STR("acme"), 1, 0, PC_STR("r")) != 0)
		return -1;
	pc_buf_init(&b, 1 << 16);
	if (pc_apikey_store_format(s, &b) != 0 || (f = fopen(store, "w")) == NULL)
		return -1;
	(void)fwrite(b.data, 1, b.len, f);
	(void)fclose(f);
	pc_buf_fini(&b);
	pc_apikey_store_free(s);
	if ((f = fopen(pepfile, "w")) == NULL)
		return -1;
	(void)fprintf(f, "%s\n", PEPPER);
	(void)fclose(f);
	(void)chmod(pepfile, 0600);
	(void)setenv("PC_T_PEPPER", PEPPER, 1);
	(void)setenv("PC_T_HMAC", "0123456789abcdef0123456789abcdef", 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)unlink(pepfile);
	(void)unlink(store);
	(void)rmdir(dir);
	return 0;
}

/* The configuration: <stores> under api_keys:, then one route with <route> lines. */
static const char *
conf(const char *stores, const char *route)
{
	(void)snprintf(text, sizeof(text),
	    "listen: [127.0.0.1:8080]\n"
	    "issuers:\n  corp:\n    issuer: https://i\n    audiences: [a]\n"
	    "    algorithms: [HS256]\n    hmac_secret: ${env:PC_T_HMAC}\n"
	    "api_keys:\n%s"
	    "upstreams:\n  b:\n    targets: [127.0.0.1:9000]\n"
	    "routes:\n  - path: /x\n    upstream: b\n%s", stores, route);
	return text;
}

static void
load_err(const char *t, const char *want)
{
	struct pc_conf		*c = NULL;
	struct pc_conf_diag	 e;

	assert_int_not_equal(pc_conf_load_mem("t.yaml", t, strlen(t), &c, &e), 0);
	assert_null(c);
	if (strstr(e.text, want) == NULL)
		fail_msg("want '%s', got '%s'", want, e.text);
}

static void
test_store_loads(void **state)
{
	struct pc_conf		*c = NULL;
	struct pc_conf_diag	 e;
	char			 st[256];
	const char		*t;

	(void)state;
	(void)snprintf(st, sizeof(st), "  partners:\n    file: %s\n    query_param: k\n", store);
	t = conf(st, "    auth: [partners, corp]\n    scopes: [r]\n"
	    "    forward_credential: false\n");
	if (pc_conf_load_mem("t.yaml", t, strlen(t), &c, &e) != 0)
		fail_msg("%s", e.text);
	assert_int_equal(c->napikeys, 1);
	assert_string_equal(c->apikeys[0].header, "X-API-Key");
	assert_string_equal(c->apikeys[0].query_param, "k");
	assert_int_equal(c->apikeys[0].store->nrecs, 1);
	assert_false(c->routes[0].auth_cert);
	assert_int_equal(c->routes[0].napikeys, 1);
	assert_int_equal(c->routes[0].nauth, 1);
	assert_true(c->routes[0].apikeys[0] == &c->apikeys[0]);
	assert_true(c->routes[0].strip_credential);
	pc_conf_unref(c);
	/* The pepper from the environment instead of the file. */
	(void)snprintf(st, sizeof(st), "  partners:\n    file: %s\n    pepper: ${env:PC_T_PEPPER}\n"
	    "    header: X-Key\n", store);
	t = conf(st, "    auth: [partners]\n");
	if (pc_conf_load_mem("t.yaml", t, strlen(t), &c, &e) != 0)
		fail_msg("%s", e.text);
	assert_string_equal(c->apikeys[0].header, "X-Key");
	pc_conf_unref(c);
	/* client_cert is the reserved name of the certificate method. */
	t = conf(st, "    auth: [client_cert, partners]\n    forward_credential: false\n");
	if (pc_conf_load_mem("t.yaml", t, strlen(t), &c, &e) != 0)
		fail_msg("%s", e.text);
	assert_true(c->routes[0].auth_cert);
	assert_int_equal(c->routes[0].napikeys, 1);
	pc_conf_unref(c);
	t = conf(st, "    auth: [client_cert]\n    identity_headers: true\n");
	if (pc_conf_load_mem("t.yaml", t, strlen(t), &c, &e) != 0)
		fail_msg("%s", e.text);
	assert_true(c->routes[0].auth_cert);
	assert_int_equal(c->routes[0].nauth + c->routes[0].napikeys, 0);
	pc_conf_unref(c);
}

static void
test_errors(void **state)
{
	char	st[512];

	(void)state;
	(void)snprintf(st, sizeof(st), "  partners:\n    file: %s\n", store);
	load_err(conf(st, "    auth: [nobody]\n"),
	    "t.yaml:17:12: route '/x': auth: unknown issuer or api_keys store 'nobody'");
	load_err(conf(st, "    auth: [partners]\n    bound_tokens: true\n"),
	    "bound_tokens: only with auth: naming an issuer");
	load_err(conf(st, "    auth: [corp, partners]\n    bound_tokens: true\n"),
	    "bound_tokens: not with api_keys stores");
	load_err(conf(st, "    auth: [partners]\n    public: true\n"),
	    "public: true contradicts auth:");
	load_err(conf(st, "    public: true\n    forward_credential: false\n"),
	    "forward_credential: only with auth:");
	load_err(conf(st, "    public: true\n    scopes: [a]\n"), "scopes: only with auth:");
	/* A certificate is a credential without scopes. */
	load_err(conf(st, "    auth: [client_cert]\n    scopes: [a]\n"),
	    "scopes: only with auth: naming an issuer or api_keys store");
	load_err(conf("  corp:\n    file: x\n", "    public: true\n"),
	    "t.yaml:9:3: api_keys.corp: the name is also issuers.corp (line 3)");
	load_err(conf("  p:\n    header: X-Key\n", "    public: true\n"),
	    "api_keys.p.missing required key 'file'");
	load_err(conf("  p:\n    file: /nonexistent/keys.db\n", "    public: true\n"),
	    "api_keys.p.file: /nonexistent/keys.db: No such file or directory");
	(void)snprintf(st, sizeof(st), "  p:\n    file: %s\n    pepper: " PEPPER "\n", store);
	load_err(conf(st, "    public: true\n"), "t.yaml:11:13: api_keys.p.pepper: must come "
	    "from ${env:NAME} or ${file:PATH}");
	(void)setenv("PC_T_BAD", "abcd", 1);
	(void)snprintf(st, sizeof(st), "  p:\n    file: %s\n    pepper: ${env:PC_T_BAD}\n", store);
	load_err(conf(st, "    public: true\n"), "pepper: expected 64 hex digits");
	(void)setenv("PC_T_OTHER", "ff23456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef", 1);
	(void)snprintf(st, sizeof(st), "  p:\n    file: %s\n    pepper: ${env:PC_T_OTHER}\n",
	    store);
	load_err(conf(st, "    public: true\n"), "keys.db:2: the store was made under pepper-id");
	(void)snprintf(st, sizeof(st), "  p:\n    file: %s\n    header: Authorization\n", store);
	load_err(conf(st, "    public: true\n"), "header: 'Authorization' is reserved");
	(void)snprintf(st, sizeof(st), "  p:\n    file: %s\n    header: Content-Length\n", store);
	load_err(conf(st, "    public: true\n"), "header:");
	(void)snprintf(st, sizeof(st), "  p:\n    file: %s\n    query_param: 'a b'\n", store);
	load_err(conf(st, "    public: true\n"), "query_param: invalid name");
	(void)snprintf(st, sizeof(st), "  p:\n    file: %s\n    colour: red\n", store);
	load_err(conf(st, "    public: true\n"), "colour");
	(void)chmod(pepfile, 0640);
	(void)snprintf(st, sizeof(st), "  p:\n    file: %s\n", store);
	load_err(conf(st, "    public: true\n"), "is readable by group or others (mode 0640): "
	    "chmod 600 it");
	(void)chmod(pepfile, 0600);
}

static void
test_store_errors_name_the_store_line(void **state)
{
	char	st[256];
	FILE	*f;

	(void)state;
	f = fopen(store, "a");
	assert_non_null(f);
	(void)fputs("0101 acme created=1 expires=never state=active scopes=-\n", f);
	(void)fclose(f);
	(void)snprintf(st, sizeof(st), "  p:\n    file: %s\n", store);
	load_err(conf(st, "    public: true\n"), "keys.db:4: the hash is not 64 lowercase hex");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_loads),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_store_errors_name_the_store_line),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
