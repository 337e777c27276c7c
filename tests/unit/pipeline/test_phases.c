/*
 * tests/unit/pipeline/test_phases.c - the phase runner (order, deny, report-only, wait),
 * the real phase table on hand-built requests, and request ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/phases.c"

static int calls[8];

static enum pc_verdict
ph_next0(struct pc_req *req)
{
	(void)req;
	calls[0]++;
	return PC_NEXT;
}

static enum pc_verdict
ph_deny1(struct pc_req *req)
{
	calls[1]++;
	return pc_req_deny(req, PC_R_ROUTE_NOT_PUBLIC);
}

static enum pc_verdict
ph_deny2(struct pc_req *req)
{
	calls[2]++;
	return pc_req_deny(req, PC_R_LIMIT_BODY);
}

static enum pc_verdict
ph_wait3(struct pc_req *req)
{
	(void)req;
	calls[3]++;
	return calls[3] == 1 ? PC_WAIT : PC_NEXT;
}

/* Waits until its time is up, then lets the request on. */
static enum pc_verdict
ph_wait4(struct pc_req *req)
{
	calls[4]++;
	if (!req->wait_expired)
		return pc_req_wait(req, 250);
	return PC_NEXT;
}

/* A failure whose answer is held back (a slowed-down failed login). */
static enum pc_verdict
ph_slow5(struct pc_req *req)
{
	calls[5]++;
	return pc_req_deny_after(req, PC_R_AUTH_SIGNATURE, 400);
}

static struct pc_conf		 conf;
static struct pc_conf_route	 route;

static void
setup_req(struct pc_req *req)
{
	memset(calls, 0, sizeof(calls));
	memset(req, 0, sizeof(*req));
	memset(&conf, 0, sizeof(conf));
	memset(&route, 0, sizeof(route));
	req->conf = &conf;
}

static void
test_deny_stops(void **state)
{
	static const struct pc_phase tab[] = {
		{ "a", ph_next0, true }, { "b", ph_deny1, true }, { "c", ph_deny2, true },
	};
	struct pc_req req;

	(void)state;
	setup_req(&req);
	assert_int_equal(pc_pipeline_run_table(&req, tab, 3), PC_DENY);
	assert_int_equal(calls[0], 1);
	assert_int_equal(calls[1], 1);
	assert_int_equal(calls[2], 0);	/* a deny is final: later phases never run */
	assert_int_equal(req.deny_reason, PC_R_ROUTE_NOT_PUBLIC);
	assert_int_equal(req.deny_status, 401);
	assert_string_equal(req.deny_phase, "b");
}

static void
test_report_only_global(void **state)
{
	static const struct pc_phase tab[] = {
		{ "a", ph_next0, true }, { "b", ph_deny1, true }, { "c", ph_deny2, true },
	};
	struct pc_req req;

	(void)state;
	setup_req(&req);
	conf.report_only = true;
	assert_int_equal(pc_pipeline_run_table(&req, tab, 3), PC_NEXT);
	assert_int_equal(calls[2], 1);
	/* The first would-be deny is what the log reports. */
	assert_int_equal(req.would_deny, PC_R_ROUTE_NOT_PUBLIC);
	assert_string_equal(req.would_deny_phase, "b");
	assert_int_equal(req.deny_reason, PC_R_NONE);
	assert_int_equal(req.deny_status, 0);
	assert_null(req.deny_phase);
}

static void
test_report_only_per_route(void **state)
{
	static const struct pc_phase tab[] = { { "b", ph_deny1, true } };
	struct pc_req req;

	(void)state;
	setup_req(&req);
	route.report_only = true;
	req.route = &route;
	assert_int_equal(pc_pipeline_run_table(&req, tab, 1), PC_NEXT);
	assert_int_equal(req.would_deny, PC_R_ROUTE_NOT_PUBLIC);
	route.report_only = false;
	setup_req(&req);
	req.route = &route;
	assert_int_equal(pc_pipeline_run_table(&req, tab, 1), PC_DENY);
}

static void
test_never_report_only_phase(void **state)
{
	static const struct pc_phase tab[] = { { "parse", ph_deny2, false } };
	struct pc_req req;

	(void)state;
	setup_req(&req);
	conf.report_only = true;
	/* Parsing, normalization and routing can never be switched to report-only. */
	assert_int_equal(pc_pipeline_run_table(&req, tab, 1), PC_DENY);
	assert_int_equal(req.would_deny, PC_R_NONE);
	assert_int_equal(req.deny_reason, PC_R_LIMIT_BODY);
}

static void
test_wait_resumes(void **state)
{
	static const struct pc_phase tab[] = {
		{ "a", ph_next0, true }, { "w", ph_wait3, true }, { "b", ph_deny1, true },
	};
	struct pc_req req;

	(void)state;
	setup_req(&req);
	assert_int_equal(pc_pipeline_run_table(&req, tab, 3), PC_WAIT);
	assert_int_equal(calls[1], 0);
	assert_int_equal(pc_pipeline_run_table(&req, tab, 3), PC_DENY);
	assert_int_equal(calls[0], 1);	/* resumed where it parked, not from the start */
	assert_int_equal(calls[3], 2);
}

static void
test_wait_expired(void **state)
{
	static const struct pc_phase tab[] = {
		{ "w", ph_wait4, true }, { "w2", ph_wait4, true },
	};
	struct pc_req req;

	(void)state;
	setup_req(&req);
	assert_int_equal(pc_pipeline_run_table(&req, tab, 2), PC_WAIT);
	assert_int_equal(req.wait_ms, 250);
	assert_int_equal(req.next_phase, 0);
	/* Woken early: the phase runs again and parks again. */
	assert_int_equal(pc_pipeline_run_table(&req, tab, 2), PC_WAIT);
	/* Time up: the phase decides; the next phase gets a wait of its own. */
	req.wait_expired = true;
	assert_int_equal(pc_pipeline_run_table(&req, tab, 2), PC_WAIT);
	assert_int_equal(req.next_phase, 1);
	assert_false(req.wait_expired);
	assert_int_equal(calls[4], 4);
}

static void
test_deny_after(void **state)
{
	static const struct pc_phase tab[] = {
		{ "s", ph_slow5, true }, { "b", ph_deny1, true },
	};
	struct pc_req req;

	(void)state;
	setup_req(&req);
	assert_int_equal(pc_pipeline_run_table(&req, tab, 2), PC_WAIT);
	assert_true(req.deny_pending);
	assert_int_equal(req.wait_ms, 400);
	/* On resume the recorded deny comes out; the phase does not run (or count) again. */
	assert_int_equal(pc_pipeline_run_table(&req, tab, 2), PC_DENY);
	assert_int_equal(calls[5], 1);
	assert_int_equal(calls[1], 0);
	assert_false(req.deny_pending);
	assert_int_equal(req.deny_reason, PC_R_AUTH_SIGNATURE);
	assert_string_equal(req.deny_phase, "s");
	/* Report-only: no delay (callers must not notice), the request goes on. */
	setup_req(&req);
	conf.report_only = true;
	assert_int_equal(pc_pipeline_run_table(&req, tab, 2), PC_NEXT);
	assert_int_equal(req.would_deny, PC_R_AUTH_SIGNATURE);
	assert_false(req.deny_pending);
	/* No delay asked: a plain deny. */
	setup_req(&req);
	assert_int_equal(pc_req_deny_after(&req, PC_R_AUTH_EXPIRED, 0), PC_DENY);
	assert_false(req.deny_pending);
}

static void
test_real_phases(void **state)
{
	static const char	 yaml[] =
	    "listen: [127.0.0.1:1]\n"
	    "upstreams: {u: {targets: [127.0.0.1:2]}}\n"
	    "routes:\n"
	    "  - {name: small, path: \"/up/{id}\", methods: [POST], upstream: u, public: true,\n"
	    "     body_max_bytes: 10}\n"
	    "  - {name: any, path: /pub/**, upstream: u, public: true}\n";
	static const struct {
		const char	*method;
		const char	*target;
		uint64_t	 cl;
		enum pc_verdict	 want;
		enum pc_reason	 reason;
		const char	*route;
		const char	*path;
	} cases[] = {
		{ "GET", "/pub/a/../b?x=1", 0, PC_NEXT, PC_R_NONE, "any", "/pub/b" },
		{ "GET", "/pub/%2e%2e/%2e%2e/x", 0, PC_DENY, PC_R_PATH_TRAVERSAL, NULL, NULL },
		{ "GET", "/pub%2fx", 0, PC_DENY, PC_R_PATH_ENCODED_SLASH, NULL, NULL },
		{ "GET", "/nope", 0, PC_DENY, PC_R_ROUTE_NOT_FOUND, NULL, NULL },
		{ "GET", "/up/7", 0, PC_DENY, PC_R_ROUTE_METHOD, NULL, NULL },
		{ "POST", "/up/7", 10, PC_NEXT, PC_R_NONE, "small", "/up/7" },
		{ "POST", "/up/7", 11, PC_DENY, PC_R_LIMIT_BODY, "small", "/up/7" },
	};
	struct pc_conf_diag	 diag;
	struct pc_conf		*c;
	size_t			 i;

	(void)state;
	assert_int_equal(pc_conf_load_mem("t.yaml", yaml, sizeof(yaml) - 1, &c, &diag), 0);
	for (i = 0; i < PC_NELEM(cases); i++) {
		struct pc_req	req;
		struct pc_msg	msg;

		memset(&req, 0, sizeof(req));
		memset(&msg, 0, sizeof(msg));
		msg.method = pc_str_c(cases[i].method);
		msg.meth = pc_method_from_str(msg.method);
		msg.target = pc_str_c(cases[i].target);
		msg.host = PC_STR("example.com");
		if (cases[i].cl) {
			msg.flags |= PC_MSG_HAS_CL;
			msg.content_length = cases[i].cl;
		}
		req.conf = c;
		req.msg = &msg;
		req.arena = pc_arena_new(4096);
		assert_non_null(req.arena);
		assert_int_equal(pc_pipeline_run(&req), cases[i].want);
		assert_int_equal(req.deny_reason, cases[i].reason);
		if (cases[i].route != NULL)
			assert_string_equal(req.route->name, cases[i].route);
		if (cases[i].path != NULL)
			assert_string_equal(req.view.path, cases[i].path);
		pc_arena_free(req.arena);
	}
	pc_conf_unref(c);
}

static void
test_request_ids(void **state)
{
	struct pc_req	req;
	char		long_id[200];
	char		first[PC_REQ_ID_MAX + 1];

	(void)state;
	memset(&req, 0, sizeof(req));
	assert_int_equal(pc_req_set_id(&req, PC_STR("abc-DEF_1.2")), 0);
	assert_string_equal(req.id, "abc-DEF_1.2");
	/* Anything that could break a log line or a header is replaced, never kept. */
	assert_int_equal(pc_req_set_id(&req, PC_STR("a b")), 0);
	assert_int_equal(req.id_len, 32);
	memcpy(first, req.id, sizeof(first));
	assert_int_equal(pc_req_set_id(&req, PC_STR("x\r\nSet-Cookie: a")), 0);
	assert_int_equal(req.id_len, 32);
	assert_string_not_equal(req.id, first);	/* generated ids are unique */
	memset(long_id, 'a', sizeof(long_id));
	assert_false(pc_req_id_is_valid(pc_str_make(long_id, 129)));
	assert_true(pc_req_id_is_valid(pc_str_make(long_id, 128)));
	assert_false(pc_req_id_is_valid(PC_STR("")));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deny_stops),
		cmocka_unit_test(test_report_only_global),
		cmocka_unit_test(test_report_only_per_route),
		cmocka_unit_test(test_never_report_only_phase),
		cmocka_unit_test(test_wait_resumes),
		cmocka_unit_test(test_wait_expired),
		cmocka_unit_test(test_deny_after),
		cmocka_unit_test(test_real_phases),
		cmocka_unit_test(test_request_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
