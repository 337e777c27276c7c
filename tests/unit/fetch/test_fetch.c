/*
 * tests/unit/fetch/test_fetch.c - fetch/fetch.c against a local HTTPS server made by the
 * test (tests/unit/fetch/https_server.py): https only, CA verification (the configured CA
 * passes, another CA and the system store fail), redirects not followed, timeouts, the
 * response size cap (declared and streamed), POST with HTTP Basic, strict max-age, the
 * bounded queue, and stop completing what is in flight.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <cmocka.h>

#include "fetch/fetch.h"
#include "fetch/fetch_int.h"
#include "../fetch/server.h"
#include "core/banned.h"


struct outcome {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	unsigned	 ncalls;
	int		 status;
	char		 body[4096];
	size_t		 len;
	char		 error[256];
	uint32_t	 max_age_s;
	pthread_t	 thread;
};

static void
outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->mtx, NULL);
	pthread_cond_init(&o->cv, NULL);
}

static void
on_done(void *arg, const struct pc_fetch_result *res)
{
	struct outcome *o = arg;

	pthread_mutex_lock(&o->mtx);
	o->ncalls++;
	o->status = res->status;
	o->len = res->len;
	o->max_age_s = res->max_age_s;
	o->thread = pthread_self();
	(void)snprintf(o->body, sizeof(o->body), "%s", res->body != NULL ? res->body : "");
	(void)snprintf(o->error, sizeof(o->error), "%s", res->error != NULL ? res->error : "");
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mtx);
}

static void
wait_calls(struct outcome *o, unsigned n)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&o->mtx);
	while (o->ncalls < n)
		if (pthread_cond_timedwait(&o->cv, &o->mtx, &ts) != 0)
			break;
	pthread_mutex_unlock(&o->mtx);
	assert_int_equal(o->ncalls, n);
}

static struct pc_fetch_req
req_for(const char *path, const char *ca, struct outcome *o)
{
	static char		 url[256];
	struct pc_fetch_req	 q;

	memset(&q, 0, sizeof(q));
	(void)snprintf(url, sizeof(url), "%s%s", srv.base, path);
	q.url = url;
	q.ca_file = ca;
	q.timeout_ms = 5000;
	q.done = on_done;
	q.arg = o;
	return q;
}

/* One request on the fetch thread, waited for. */
static void
fetch_async(const char *path, const char *ca, struct outcome *o, uint32_t timeout_ms,
    size_t max_bytes)
{
	struct pc_fetch_req q = req_for(path, ca, o);

	q.timeout_ms = timeout_ms;
	q.max_bytes = max_bytes;
	assert_int_equal(pc_fetch_submit(&q), 0);
	wait_calls(o, 1);
}

static void
test_max_age(void **state)
{
	static const struct {
		struct pc_str	 in;
		uint32_t	 want;
	} cases[] = {
		{ PC_STR_INIT("max-age=300"), 300 },
		{ PC_STR_INIT("public, max-age=120"), 120 },
		{ PC_STR_INIT("Max-Age=60, must-revalidate"), 60 },
		{ PC_STR_INIT("no-cache"), 0 },
		{ PC_STR_INIT(""), 0 },
		{ PC_STR_INIT("max-age=0"), 0 },
		{ PC_STR_INIT("max-age=\"300\""), 0 },		/* quoted: not delta-seconds */
		{ PC_STR_INIT("max-age=-1"), 0 },
		{ PC_STR_INIT("max-age=+5"), 0 },
		{ PC_STR_INIT("max-age= 5"), 0 },
		{ PC_STR_INIT("max-age=5s"), 0 },
		{ PC_STR_INIT("max-age="), 0 },
		{ PC_STR_INIT("max-age"), 0 },
		{ PC_STR_INIT("max-age=10, max-age=20"), 0 },	/* repeated: believe neither */
		{ PC_STR_INIT("max-age=99999999999"), 2147483648u },	/* RFC 9111 1.2.2 */
		{ PC_STR_INIT("max-age=4294967296"), 2147483648u },
		{ PC_STR_INIT("s-maxage=10, max-age=30"), 30 },
		{ PC_STR_INIT("xmax-age=30"), 0 },
		{ PC_STR_INIT("max-age=3\0"), 0 },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < PC_NELEM(cases); i++) {
		uint32_t got = pc_fetch__max_age(cases[i].in);

		if (got != cases[i].want)
			fail_msg("case %u '%.*s': got %u, want %u", i, PC_STR_FMT(cases[i].in),
			    got, cases[i].want);
	}
}

static void
test_https_only(void **state)
{
	struct outcome		 o;
	struct pc_fetch_req	 q;
	static const char *const bad[] = { "http://127.0.0.1/", "ftp://x/", "file:///etc/passwd",
		"https://", "127.0.0.1/", "" };
	unsigned		 i;

	(void)state;
	outcome_init(&o);
	q = req_for("/jwks", srv.ca, &o);
	for (i = 0; i < PC_NELEM(bad); i++) {
		q.url = bad[i];
		assert_int_equal(pc_fetch_submit(&q), -PC_EINVAL);
		assert_int_equal(pc_fetch_sync(&q), -PC_EINVAL);
	}
	q.url = NULL;
	assert_int_equal(pc_fetch_submit(&q), -PC_EINVAL);
	assert_int_equal(o.ncalls, 0);
}

static void
test_get_ok(void **state)
{
	struct outcome o;

	(void)state;
	outcome_init(&o);
	fetch_async("/jwks", srv.ca, &o, 5000, 0);
	assert_int_equal(o.status, 200);
	assert_string_equal(o.error, "");
	assert_non_null(strstr(o.body, "\"k1\""));
	assert_int_equal(o.len, strlen(o.body));
	assert_int_equal(o.max_age_s, 120);
	assert_false(pthread_equal(o.thread, pthread_self()));
}

static void
test_sync(void **state)
{
	struct outcome		 o;
	struct pc_fetch_req	 q;

	(void)state;
	outcome_init(&o);
	q = req_for("/jwks", srv.ca, &o);
	assert_int_equal(pc_fetch_sync(&q), 0);
	assert_int_equal(o.ncalls, 1);	/* before it returned, on this thread */
	assert_true(pthread_equal(o.thread, pthread_self()));
	assert_int_equal(o.status, 200);
	assert_int_equal(o.max_age_s, 120);
}

static void
test_verification_fails(void **state)
{
	struct outcome o;

	(void)state;
	outcome_init(&o);
	fetch_async("/jwks", srv.other_ca, &o, 5000, 0);
	assert_int_equal(o.status, 0);
	assert_true(o.error[0] != '\0');
	assert_int_equal(o.len, 0);
	/* Without a CA file: the system store, which never signed the test CA. */
	outcome_init(&o);
	fetch_async("/jwks", NULL, &o, 5000, 0);
	assert_int_equal(o.status, 0);
	assert_true(o.error[0] != '\0');
}

static void
test_redirect_not_followed(void **state)
{
	struct outcome o;

	(void)state;
	outcome_init(&o);
	fetch_async("/redirect", srv.ca, &o, 5000, 0);
	assert_int_equal(o.status, 302);
	assert_null(strstr(o.body, "k1"));
}

static void
test_timeout(void **state)
{
	struct outcome	o;
	uint64_t	t0 = pc_now_ms();

	(void)state;
	outcome_init(&o);
	fetch_async("/slow", srv.ca, &o, 500, 0);
	assert_int_equal(o.status, 0);
	assert_true(o.error[0] != '\0');
	assert_true(pc_now_ms() - t0 < 2500);
}

static void
test_size_cap(void **state)
{
	struct outcome		 o;
	struct pc_fetch_req	 q;

	(void)state;
	outcome_init(&o);
	fetch_async("/big-cl", srv.ca, &o, 5000, 4096);		/* declared length */
	assert_int_equal(o.status, 0);
	assert_string_equal(o.error, "response larger than the limit");
	outcome_init(&o);
	fetch_async("/big-stream", srv.ca, &o, 5000, 100000);	/* chunked, no length */
	assert_int_equal(o.status, 0);
	assert_string_equal(o.error, "response larger than the limit");
	/* Exactly at the limit is fine. */
	outcome_init(&o);
	q = req_for("/jwks", srv.ca, &o);
	assert_int_equal(pc_fetch_sync(&q), 0);
	q.max_bytes = o.len;
	outcome_init(&o);
	assert_int_equal(pc_fetch_sync(&q), 0);
	assert_int_equal(o.status, 200);
	q.max_bytes = o.len - 1;
	outcome_init(&o);
	assert_int_equal(pc_fetch_sync(&q), 0);
	assert_int_equal(o.status, 0);
}

static void
test_post_basic(void **state)
{
	struct outcome		 o;
	struct pc_fetch_req	 q;
	static const char	 body[] = "token=abc&token_type_hint=access_token";

	(void)state;
	outcome_init(&o);
	q = req_for("/introspect", srv.ca, &o);
	q.body = body;
	q.body_len = sizeof(body) - 1;
	q.basic_user = "client";
	q.basic_pass = "s3cret";
	assert_int_equal(pc_fetch_submit(&q), 0);
	wait_calls(&o, 1);
	assert_int_equal(o.status, 200);
	assert_non_null(strstr(o.body, "\"body\": \"token=abc&token_type_hint=access_token\""));
	assert_non_null(strstr(o.body, "Basic Y2xpZW50OnMzY3JldA=="));	/* client:s3cret */
	assert_non_null(strstr(o.body, "application/x-www-form-urlencoded"));
}

static void
test_cache_control_from_server(void **state)
{
	struct outcome	o;
	char		path[128];

	(void)state;
	outcome_init(&o);
	/* "max-age=30" and "max-age=40" in two fields: one list, max-age twice: none. */
	(void)snprintf(path, sizeof(path), "/cc/%s", "bWF4LWFnZT0zMAptYXgtYWdlPTQw");
	fetch_async(path, srv.ca, &o, 5000, 0);
	assert_int_equal(o.status, 200);
	assert_int_equal(o.max_age_s, 0);
	outcome_init(&o);
	(void)snprintf(path, sizeof(path), "/cc/%s", "bm8tdHJhbnNmb3JtLCBtYXgtYWdlPTkw");
	fetch_async(path, srv.ca, &o, 5000, 0);		/* "no-transform, max-age=90" */
	assert_int_equal(o.max_age_s, 90);
}

/* 256 in flight fill the queue; the next is refused; stop completes all 256, once. */
static void
test_queue_bound_and_stop(void **state)
{
	struct outcome		 o;
	struct pc_fetch_req	 q;
	unsigned		 i;

	(void)state;
	outcome_init(&o);
	q = req_for("/slow", srv.ca, &o);
	q.timeout_ms = 30000;
	for (i = 0; i < 256; i++)
		assert_int_equal(pc_fetch_submit(&q), 0);
	assert_int_equal(pc_fetch_submit(&q), -PC_EAGAIN);
	pc_fetch_stop();
	assert_int_equal(o.ncalls, 256);
	assert_string_equal(o.error, "stopping");
	assert_int_equal(pc_fetch_submit(&q), -PC_EAGAIN);	/* stopped */
	pc_fetch_stop();					/* idempotent */
	assert_int_equal(pc_fetch_start(), 0);
	outcome_init(&o);
	fetch_async("/jwks", srv.ca, &o, 5000, 0);
	assert_int_equal(o.status, 200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_age),
		cmocka_unit_test(test_https_only),
		cmocka_unit_test(test_get_ok),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_verification_fails),
		cmocka_unit_test(test_redirect_not_followed),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_post_basic),
		cmocka_unit_test(test_cache_control_from_server),
		cmocka_unit_test(test_queue_bound_and_stop),
	};

	return cmocka_run_group_tests(tests, test_server_setup, test_server_teardown);
}
