/*
 * tests/unit/config/test_limit_conf.c - failed_auth: and a route's login: key: defaults (on
 * only where a credential can fail), true/false/mapping forms, every range and consistency
 * error with its exact "file:line:col: message".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/banned.h"

#define LS	"listen: [127.0.0.1:8080]\n"
#define UP	"upstreams:\n  b:\n    targets: [127.0.0.1:9000]\n"
#define RT	"routes:\n  - path: /x\n    upstream: b\n    public: true\n"
#define LOGIN	"routes:\n  - path: /login\n    upstream: b\n    public: true\n    login: true\n"

static struct pc_conf *
load_ok(const char *text)
{
	struct pc_conf		*c = NULL;
	struct pc_conf_diag	 e;

	if (pc_conf_load_mem("t.yaml", text, strlen(text), &c, &e) != 0)
		fail_msg("unexpected error: %s", e.text);
	assert_non_null(c);
	return c;
}

static void
load_err(const char *text, const char *want)
{
	struct pc_conf		*c = NULL;
	struct pc_conf_diag	 e;

	assert_int_not_equal(pc_conf_load_mem("t.yaml", text, strlen(text), &c, &e), 0);
	assert_null(c);
	assert_string_equal(e.text, want);
}

static void
assert_defaults(const struct pc_failures_conf *fa)
{
	assert_int_equal(fa->window_s, 60);
	assert_int_equal(fa->delay_after, 5);
	assert_int_equal(fa->delay_ms, 250);
	assert_int_equal(fa->max_delay_ms, 4000);
	assert_int_equal(fa->lockout_after, 30);
	assert_int_equal(fa->lockout_s, 300);
	assert_int_equal(fa->entries, 65536);
}

static void
test_defaults(void **state)
{
	struct pc_conf *c;

	(void)state;
	/* Only public routes: no credential can fail, nothing to count. */
	c = load_ok(LS UP RT);
	assert_false(c->failed_auth.enabled);
	assert_defaults(&c->failed_auth);
	assert_false(c->routes[0].login);
	pc_conf_unref(c);
	/* A login route turns it on. */
	c = load_ok(LS UP LOGIN);
	assert_true(c->failed_auth.enabled);
	assert_defaults(&c->failed_auth);
	assert_true(c->routes[0].login);
	pc_conf_unref(c);
}

static void
test_forms(void **state)
{
	struct pc_conf *c;

	(void)state;
	c = load_ok(LS UP RT "failed_auth: true\n");
	assert_true(c->failed_auth.enabled);
	assert_defaults(&c->failed_auth);
	pc_conf_unref(c);
	c = load_ok(LS UP RT "failed_auth: false\n");
	assert_false(c->failed_auth.enabled);
	pc_conf_unref(c);
	c = load_ok(LS UP RT "failed_auth:\n  window_s: 30\n  delay_after: 2\n  delay_ms: 100\n"
	    "  max_delay_ms: 800\n  lockout_after: 10\n  lockout_s: 60\n  entries: 1024\n");
	assert_true(c->failed_auth.enabled);
	assert_int_equal(c->failed_auth.window_s, 30);
	assert_int_equal(c->failed_auth.delay_after, 2);
	assert_int_equal(c->failed_auth.delay_ms, 100);
	assert_int_equal(c->failed_auth.max_delay_ms, 800);
	assert_int_equal(c->failed_auth.lockout_after, 10);
	assert_int_equal(c->failed_auth.lockout_s, 60);
	assert_int_equal(c->failed_auth.entries, 1024);
	pc_conf_unref(c);
	/* delay_ms: 0 counts and locks out without ever delaying. */
	c = load_ok(LS UP RT "failed_auth:\n  delay_ms: 0\n  max_delay_ms: 0\n");
	assert_int_equal(c->failed_auth.delay_ms, 0);
	pc_conf_unref(c);
}

static const struct {
	const char	*name;
	const char	*yaml;
	const char	*want;
} errs[] = {
	{ "delay_after_not_below_lockout", LS UP RT "failed_auth:\n  delay_after: 30\n",
	    "t.yaml:10:16: failed_auth.delay_after: 30 must be below lockout_after (30)" },
	{ "lockout_below_default_delay_after", LS UP RT "failed_auth:\n  lockout_after: 3\n",
	    "t.yaml:10:18: failed_auth.delay_after: 5 must be below lockout_after (3)" },
	{ "max_delay_below_delay", LS UP RT "failed_auth:\n  delay_ms: 500\n  max_delay_ms: 100\n",
	    "t.yaml:11:17: failed_auth.max_delay_ms: 100 is below delay_ms (500)" },
	{ "max_delay_below_delay_default", LS UP RT "failed_auth:\n  delay_ms: 5000\n",
	    "t.yaml:10:13: failed_auth.max_delay_ms: 4000 is below delay_ms (5000)" },
	{ "window_zero", LS UP RT "failed_auth:\n  window_s: 0\n",
	    "t.yaml:10:13: failed_auth.window_s: 0 is out of range (1..86400)" },
	{ "delay_too_long", LS UP RT "failed_auth:\n  delay_ms: 60001\n",
	    "t.yaml:10:13: failed_auth.delay_ms: 60001 is out of range (0..60000)" },
	{ "entries_too_few", LS UP RT "failed_auth:\n  entries: 10\n",
	    "t.yaml:10:12: failed_auth.entries: 10 is out of range (1024..4194304)" },
	{ "entries_too_many", LS UP RT "failed_auth:\n  entries: 99999999\n",
	    "t.yaml:10:12: failed_auth.entries: 99999999 is out of range (1024..4194304)" },
	{ "lockout_s_zero", LS UP RT "failed_auth:\n  lockout_s: 0\n",
	    "t.yaml:10:14: failed_auth.lockout_s: 0 is out of range (1..86400)" },
	{ "not_a_number", LS UP RT "failed_auth:\n  lockout_s: soon\n",
	    "t.yaml:10:14: failed_auth.lockout_s: expected an integer from 1 to 86400, found "
	    "'soon'" },
	{ "unknown_key", LS UP RT "failed_auth:\n  lockout_secs: 10\n",
	    "t.yaml:10:3: unknown key 'lockout_secs' in failed_auth (did you mean "
	    "'lockout_s'?)" },
	{ "sequence", LS UP RT "failed_auth: [1]\n",
	    "t.yaml:9:14: failed_auth: expected false, true or a mapping, found a list" },
	{ "not_bool", LS UP RT "failed_auth: maybe\n",
	    "t.yaml:9:14: failed_auth: expected true or false, found 'maybe'" },
	{ "login_disabled", LS UP LOGIN "failed_auth: false\n",
	    "t.yaml:10:14: failed_auth: false, but route '/login' (line 6) has login: true, "
	    "which counts failed logins here" },
	{ "login_not_public", LS UP "routes:\n  - path: /login\n    upstream: b\n"
	    "    client_cert: required\n    login: true\n",
	    "t.yaml:9:12: route '/login': login: true only on a public route (public: true): "
	    "an authenticated route counts its failures already" },
	{ "login_not_bool", LS UP "routes:\n  - path: /login\n    upstream: b\n"
	    "    public: true\n    login: yes please\n",
	    "t.yaml:9:12: route '/login': login: expected true or false, found 'yes please'" },
};

static void
test_errors(void **state)
{
	struct pc_conf		*c;
	struct pc_conf_diag	 e;
	size_t			 i;

	(void)state;
	for (i = 0; i < PC_NELEM(errs); i++) {
		c = NULL;
		if (pc_conf_load_mem("t.yaml", errs[i].yaml, strlen(errs[i].yaml), &c, &e) == 0)
			fail_msg("%s: loaded", errs[i].name);
		assert_null(c);
		if (strcmp(e.text, errs[i].want) != 0)
			fail_msg("%s: got '%s', want '%s'", errs[i].name, e.text, errs[i].want);
		/* Every message points somewhere in the file. */
		assert_true(strncmp(e.text, "t.yaml:", 7) == 0);
	}
	load_err(LS UP RT "failed_auth:\n  window_s: 0\n",
	    "t.yaml:10:13: failed_auth.window_s: 0 is out of range (1..86400)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
