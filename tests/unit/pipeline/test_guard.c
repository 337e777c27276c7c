/*
 * tests/unit/pipeline/test_guard.c - the guard phase and failure counting on hand-built
 * requests: which denies count, the delay as a parked deny, the failure that starts a
 * lockout answered 429 with Retry-After and its event detail, the guard refusing a locked
 * address on guarded routes only, login routes counting upstream 401/403, report-only
 * delaying nothing, and failed_auth off counting nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "limit/limit.h"
#include "pipeline/pipeline.h"
#include "pipeline/pipeline_int.h"
#include "core/banned.h"

#define CONF	"listen: [127.0.0.1:8080]\n"					\
		"upstreams:\n  b:\n    targets: [127.0.0.1:9000]\n"		\
		"routes:\n"							\
		"  - {path: /login, upstream: b, public: true, login: true}\n"	\
		"  - {path: /pub, upstream: b, public: true}\n"			\
		"failed_auth: {delay_after: 2, delay_ms: 100, max_delay_ms: 300, "	\
		"lockout_after: 4, lockout_s: 30}\n"

static struct pc_conf *conf;
static struct pc_failures *table;

static const struct pc_conf_route *
route(const char *path)
{
	unsigned i;

	for (i = 0; i < conf->nroutes; i++)
		if (strcmp(conf->routes[i].path, path) == 0)
			return &conf->routes[i];
	fail_msg("no route %s", path);
	return NULL;
}

static struct pc_req
req_for(const char *path, const char *ip, struct pc_arena *a)
{
	struct pc_req r;

	memset(&r, 0, sizeof(r));
	r.arena = a;
	r.conf = conf;
	r.route = route(path);
	r.client_ip = pc_str_c(ip);
	return r;
}

static int
setup(void **state)
{
	struct pc_conf_diag e;

	(void)state;
	if (pc_conf_load_mem("t.yaml", CONF, strlen(CONF), &conf, &e) != 0)
		fail_msg("%s", e.text);
	table = pc_failures_new(1024);
	pc_failures_set_process(table);
	return table == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	pc_failures_set_process(NULL);
	pc_failures_free(table);
	pc_conf_unref(conf);
	return 0;
}

static void
test_what_counts_and_the_delays(void **state)
{
	struct pc_arena	*a = pc_arena_new(1 << 16);
	struct pc_req	 r;
	unsigned	 i;

	(void)state;
	/* No credential, or the gateway's own trouble: never counted. */
	for (i = 0; i < 10; i++) {
		r = req_for("/login", "192.0.2.1", a);
		assert_int_equal(pc_guard_failed(&r, PC_R_AUTH_MISSING), PC_DENY);
		r = req_for("/login", "192.0.2.1", a);
		assert_int_equal(pc_guard_failed(&r, PC_R_AUTH_KEYS_UNAVAILABLE), PC_DENY);
		assert_int_equal(r.deny_reason, PC_R_AUTH_KEYS_UNAVAILABLE);
	}
	assert_int_equal(pc_failures_check(table, PC_STR("192.0.2.1"), pc_now_ms()), 0);
	/* Two free failures, then parked denies of 100 and 200 ms. */
	for (i = 0; i < 2; i++) {
		r = req_for("/login", "192.0.2.1", a);
		assert_int_equal(pc_guard_failed(&r, PC_R_AUTH_SIGNATURE), PC_DENY);
	}
	r = req_for("/login", "192.0.2.1", a);
	assert_int_equal(pc_guard_failed(&r, PC_R_AUTH_EXPIRED), PC_WAIT);
	assert_true(r.deny_pending);
	assert_int_equal(r.wait_ms, 100);
	assert_int_equal(r.deny_reason, PC_R_AUTH_EXPIRED);
	assert_int_equal(r.retry_after_s, 0);
	/* The fourth locks the address out: 429 after the longest delay, no keep-alive,
	 * Retry-After, the lockout's detail. */
	r = req_for("/login", "192.0.2.1", a);
	r.claimed_id = PC_STR("mallory");
	assert_int_equal(pc_guard_failed(&r, PC_R_AUTH_KEY_UNKNOWN), PC_WAIT);
	assert_true(r.deny_pending && r.close_after);
	assert_int_equal(r.wait_ms, r.conf->failed_auth.max_delay_ms);
	assert_int_equal(r.deny_reason, PC_R_AUTH_LOCKED_OUT);
	assert_int_equal(r.deny_status, 429);
	assert_int_equal(r.retry_after_s, 30);
	assert_non_null(strstr(r.detail, "lockout started after 4 failures in 60 s"));
	assert_non_null(strstr(r.detail, "auth_key_unknown"));
	/* The guard now refuses it on the login route, not on a public one. */
	r = req_for("/login", "192.0.2.1", a);
	assert_int_equal(pc_guard_run(&r), PC_WAIT);
	assert_true(r.deny_pending && r.close_after);
	assert_int_equal(r.deny_reason, PC_R_AUTH_LOCKED_OUT);
	assert_true(r.retry_after_s >= 29 && r.retry_after_s <= 30);
	r = req_for("/pub", "192.0.2.1", a);
	assert_int_equal(pc_guard_run(&r), PC_NEXT);
	r = req_for("/login", "192.0.2.2", a);
	assert_int_equal(pc_guard_run(&r), PC_NEXT);
	pc_arena_free(a);
}

static void
test_login_route_upstream_statuses(void **state)
{
	struct pc_arena	*a = pc_arena_new(1 << 16);
	struct pc_req	 r;
	unsigned	 i;

	(void)state;
	/* Only 401 and 403, only on a login route. */
	for (i = 0; i < 10; i++) {
		r = req_for("/login", "198.51.100.1", a);
		pc_guard_login_status(&r, i % 2 ? 200 : 500);
		r = req_for("/pub", "198.51.100.1", a);
		pc_guard_login_status(&r, 401);
	}
	r = req_for("/login", "198.51.100.1", a);
	assert_int_equal(pc_guard_run(&r), PC_NEXT);
	for (i = 0; i < 4; i++) {
		r = req_for("/login", "198.51.100.1", a);
		pc_guard_login_status(&r, i % 2 ? 401 : 403);
	}
	r = req_for("/login", "198.51.100.1", a);
	assert_int_equal(pc_guard_run(&r), PC_WAIT);	/* the 429, held back */
	assert_int_equal(r.deny_status, 429);
	pc_arena_free(a);
}

static void
test_report_only_delays_nothing(void **state)
{
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_req		 r;
	unsigned		 i;

	(void)state;
	conf->report_only = true;
	for (i = 0; i < 3; i++) {
		r = req_for("/login", "203.0.113.1", a);
		assert_int_equal(pc_guard_failed(&r, PC_R_AUTH_SIGNATURE), PC_DENY);
		assert_false(r.deny_pending);
	}
	conf->report_only = false;
	/* Turned off: nothing counted, nothing refused. */
	conf->failed_auth.enabled = false;
	for (i = 0; i < 10; i++) {
		r = req_for("/login", "203.0.113.2", a);
		assert_int_equal(pc_guard_failed(&r, PC_R_AUTH_SIGNATURE), PC_DENY);
	}
	conf->failed_auth.enabled = true;
	assert_int_equal(pc_failures_check(table, PC_STR("203.0.113.2"), pc_now_ms()), 0);
	pc_arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_what_counts_and_the_delays),
		cmocka_unit_test(test_login_route_upstream_statuses),
		cmocka_unit_test(test_report_only_delays_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
