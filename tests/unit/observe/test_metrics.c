/*
 * tests/unit/observe/test_metrics.c - the exposition text for a small known case, label
 * escaping, exact totals from concurrent recorders, and a full series table. Includes
 * metrics.c to reach its statics. The counters are process-global, so the tests run in
 * order: the exact-output case first, the table-filling case last.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "observe/metrics.c"

static char *
render(void)
{
	struct pc_buf	 b;
	char		*s;

	pc_buf_init(&b, 4 << 20);
	assert_int_equal(pc_metrics_render(&b), 0);
	s = strndup((const char *)b.data, b.len);
	assert_non_null(s);
	pc_buf_fini(&b);
	return s;
}

static void
test_render_small(void **state)
{
	char *s;

	(void)state;
	pc_metrics_request(PC_STR("health"), 200, 1200);
	pc_metrics_request(PC_STR("health"), 200, 400);
	pc_metrics_request(PC_STR("api"), 404, 600000);
	pc_metrics_request(PC_STR(""), 400, 20000000);
	pc_metrics_conn(3);
	pc_metrics_conn(-1);
	pc_metrics_upstream_error(PC_STR("127.0.0.1:9000"), PC_R_UPSTREAM_CONNECT);
	pc_metrics_upstream_error(PC_STR("127.0.0.1:9000"), PC_R_UPSTREAM_CONNECT);
	pc_metrics_reject(PC_R_ROUTE_NOT_FOUND);
	s = render();
	assert_non_null(strstr(s,
	    "# HELP portcullis_build_info Build information.\n"
	    "# TYPE portcullis_build_info gauge\n"
	    "portcullis_build_info{version=\"" PC_VERSION "\"} 1\n"
	    "# HELP portcullis_requests_total Requests answered, by route and status.\n"
	    "# TYPE portcullis_requests_total counter\n"
	    "portcullis_requests_total{route=\"\",status=\"400\"} 1\n"
	    "portcullis_requests_total{route=\"api\",status=\"404\"} 1\n"
	    "portcullis_requests_total{route=\"health\",status=\"200\"} 2\n"
	    "# HELP portcullis_request_duration_seconds "));
	assert_non_null(strstr(s,
	    "# TYPE portcullis_request_duration_seconds histogram\n"
	    "portcullis_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"
	    "portcullis_request_duration_seconds_bucket{le=\"0.001\"} 1\n"
	    "portcullis_request_duration_seconds_bucket{le=\"0.0025\"} 2\n"
	    "portcullis_request_duration_seconds_bucket{le=\"0.005\"} 2\n"
	    "portcullis_request_duration_seconds_bucket{le=\"0.01\"} 2\n"
	    "portcullis_request_duration_seconds_bucket{le=\"0.025\"} 2\n"
	    "portcullis_request_duration_seconds_bucket{le=\"0.05\"} 2\n"
	    "portcullis_request_duration_seconds_bucket{le=\"0.1\"} 2\n"
	    "portcullis_request_duration_seconds_bucket{le=\"0.25\"} 2\n"
	    "portcullis_request_duration_seconds_bucket{le=\"0.5\"} 2\n"
	    "portcullis_request_duration_seconds_bucket{le=\"1\"} 3\n"
	    "portcullis_request_duration_seconds_bucket{le=\"2.5\"} 3\n"
	    "portcullis_request_duration_seconds_bucket{le=\"5\"} 3\n"
	    "portcullis_request_duration_seconds_bucket{le=\"10\"} 3\n"
	    "portcullis_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"
	    "portcullis_request_duration_seconds_sum 20.601600\n"
	    "portcullis_request_duration_seconds_count 4\n"
	    "# HELP portcullis_connections_open Client connections currently open.\n"
	    "# TYPE portcullis_connections_open gauge\n"
	    "portcullis_connections_open 2\n"
	    "# HELP portcullis_upstream_errors_total "));
	assert_non_null(strstr(s,
	    "# TYPE portcullis_upstream_errors_total counter\n"
	    "portcullis_upstream_errors_total{upstream=\"127.0.0.1:9000\","
	    "reason=\"upstream_connect_failed\"} 2\n"
	    "# HELP portcullis_rejections_total Requests denied, by reason.\n"
	    "# TYPE portcullis_rejections_total counter\n"
	    "portcullis_rejections_total{reason=\"http_bad_request_line\"} 0\n"));
	assert_non_null(strstr(s, "\nportcullis_rejections_total{reason=\"route_not_found\"} 1\n"));
	assert_non_null(strstr(s, "\nportcullis_rejections_total{reason=\"internal_error\"} 0\n"
	    "# HELP portcullis_would_deny_total "));
	assert_null(strstr(s, "reason=\"none\""));
	assert_non_null(strstr(s, "portcullis_log_lines_dropped_total{log=\"access\"} 0\n"
	    "portcullis_log_lines_dropped_total{log=\"events\"} 0\n"));
	/* Text ends with a newline and holds no NUL. */
	assert_int_equal(s[strlen(s) - 1], '\n');
	free(s);
}

static void
test_render_fails_whole(void **state)
{
	struct pc_buf b;

	(void)state;
	pc_buf_init(&b, 300);
	assert_int_equal(pc_buf_add(&b, "keep", 4), 0);
	assert_int_equal(pc_metrics_render(&b), -PC_ETOOBIG);
	assert_int_equal(b.len, 4);	/* nothing half-rendered left behind */
	pc_buf_fini(&b);
}

static void
test_label_escaping(void **state)
{
	static const struct {
		struct pc_str	 in;
		const char	*want;
	} cases[] = {
		{ PC_STR_INIT("plain"), "plain" },
		{ PC_STR_INIT("a\"b"), "a\\\"b" },
		{ PC_STR_INIT("a\\b"), "a\\\\b" },
		{ PC_STR_INIT("a\nb"), "a\\nb" },
		{ PC_STR_INIT("a\rb\x01\x7f"), "a?b??" },
		{ PC_STR_INIT("nul\0x"), "nul?x" },
		{ PC_STR_INIT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa9"),
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa9" },
		{ PC_STR_INIT("\xff\xc0\xaf"), "???" },			/* invalid, overlong */
		{ PC_STR_INIT("\xed\xa0\x80"), "???" },			/* surrogate */
		{ PC_STR_INIT("\xf4\x90\x80\x80"), "????" },		/* > U+10FFFF */
		{ PC_STR_INIT("\xe2\x82"), "??" },			/* truncated */
		{ PC_STR_INIT("\xe0\x80\xaf"), "???" },			/* overlong 3-byte */
	};
	struct pc_buf	b;
	size_t		i;

	(void)state;
	for (i = 0; i < PC_NELEM(cases); i++) {
		pc_buf_init(&b, 1024);
		assert_int_equal(add_label_value(&b, cases[i].in), 0);
		assert_int_equal(pc_buf_addc(&b, '\0'), 0);
		assert_string_equal((char *)b.data, cases[i].want);
		pc_buf_fini(&b);
	}

	/* Through the renderer: a hostile upstream name stays one well-formed line. */
	pc_metrics_upstream_error(PC_STR("x\"} 999\nfake 1"), PC_R_UPSTREAM_RESET);
	{
		char *s = render();

		assert_non_null(strstr(s, "\nportcullis_upstream_errors_total{upstream="
		    "\"x\\\"} 999\\nfake 1\",reason=\"upstream_reset\"} 1\n"));
		assert_null(strstr(s, "\nfake 1"));
		free(s);
	}
}

#define NROUTES		50
#define PER_THREAD	200000

static void *
recorder(void *arg)
{
	char	name[16];
	int	i;

	(void)arg;
	for (i = 0; i < PER_THREAD; i++) {
		(void)snprintf(name, sizeof(name), "mt%d", i % NROUTES);
		pc_metrics_request(pc_str_c(name), 200 + (i / NROUTES) % 3, 100);
		pc_metrics_conn(1);
		pc_metrics_reject(PC_R_LIMIT_BODY);
		pc_metrics_conn(-1);
	}
	return NULL;
}

static void
test_concurrent_totals(void **state)
{
	pthread_t	 t[2];
	char		 name[16];
	struct series	*sr;
	unsigned	 i, found, j;
	uint64_t	 total = 0, before_hist, before_rej;

	(void)state;
	before_hist = dur_bucket[0];
	before_rej = rejections[PC_R_LIMIT_BODY];
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, recorder, NULL), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (i = 0; i < NROUTES; i++) {
		for (j = 200; j < 203; j++) {
			(void)snprintf(name, sizeof(name), "mt%u", i);
			sr = series_get(&req_table, pc_str_c(name), j);
			assert_non_null(sr);
			total += sr->count;
		}
	}
	assert_int_equal(total, 2 * PER_THREAD);
	/* Each key was claimed exactly once despite the race to claim it. */
	found = 0;
	for (i = 0; i < REQ_SLOTS; i++)
		if (req_slots[i].state == SLOT_READY && req_slots[i].name_len >= 2 &&
		    memcmp(req_slots[i].name, "mt", 2) == 0)
			found++;
	assert_int_equal(found, NROUTES * 3);
	assert_int_equal(dur_bucket[0] - before_hist, 2 * PER_THREAD);
	assert_int_equal(rejections[PC_R_LIMIT_BODY] - before_rej, 2 * PER_THREAD);
	assert_int_equal(conns_open, 2);	/* as left by test_render_small */
}

static void
test_table_full(void **state)
{
	char		 name[32], *s;
	unsigned	 i;
	uint64_t	 other;

	(void)state;
	for (i = 0; i < 3000; i++) {
		(void)snprintf(name, sizeof(name), "full%u", i);
		pc_metrics_request(pc_str_c(name), 503, 1);
	}
	other = req_other[503];
	assert_true(other > 0);
	for (i = 0; i < REQ_SLOTS; i++)
		assert_int_equal(req_slots[i].state, SLOT_READY);
	/* Statuses outside 0..999 are folded to 0, never indexing past the table. */
	pc_metrics_request(PC_STR("full0"), 1000, 1);
	pc_metrics_request(PC_STR("full0"), -5, 1);
	pc_metrics_upstream_error(PC_STR("u"), (enum pc_reason)1000);
	pc_metrics_reject((enum pc_reason)-1);
	s = render();
	{
		char want[128];

		(void)snprintf(want, sizeof(want),
		    "\nportcullis_requests_total{route=\"__other__\",status=\"503\"} %llu\n",
		    (unsigned long long)other);
		assert_non_null(strstr(s, want));
	}
	assert_non_null(strstr(s, "reason=\"internal_error\"} 1\n"));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_small),
		cmocka_unit_test(test_render_fails_whole),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_concurrent_totals),
		cmocka_unit_test(test_table_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
