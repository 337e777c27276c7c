/*
 * tests/unit/demo/test_rides.c - the rides API without sockets: path splitting, every route
 * and its errors, the cap on created trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "demo/rides.c"

static void
test_split_path(void **state)
{
	struct pc_str	seg[4];

	(void)state;
	assert_int_equal(split_path(PC_STR("/health"), seg, 4), 1);
	assert_true(pc_str_eq(seg[0], PC_STR("health")));
	assert_int_equal(split_path(PC_STR("/v1/trips/t-1/ratings"), seg, 4), 4);
	assert_true(pc_str_eq(seg[3], PC_STR("ratings")));
	assert_int_equal(split_path(PC_STR("/v1/riders/"), seg, 4), 3);
	assert_int_equal(seg[2].len, 0);
	assert_int_equal(split_path(PC_STR("/"), seg, 4), 1);
	assert_int_equal(seg[0].len, 0);
	assert_int_equal(split_path(PC_STR("/a/b/c/d/e"), seg, 4), 5);
	assert_int_equal(split_path(PC_STR("a/b"), seg, 4), 5);
	assert_int_equal(split_path(PC_STR(""), seg, 4), 5);
}

/* Calls the API; returns the status, leaves the body NUL-terminated in <body>. */
static int
call(enum pc_method m, const char *target, const char *body, struct pc_demo_resp *r)
{
	pc_buf_fini(&r->body);
	pc_buf_init(&r->body, PC_DEMO_RESP_MAX);
	assert_int_equal(pc_demo__rides_handle(m, pc_str_c(target), pc_str_c(body), r), 0);
	assert_int_equal(pc_buf_addc(&r->body, '\0'), 0);
	r->body.len--;
	return r->status;
}

#define BODY(r)		((const char *)(r).body.data)
#define HAS(r, s)	(strstr(BODY(r), (s)) != NULL)

static const struct {
	enum pc_method	 m;
	const char	*target;
	const char	*body;
	int		 status;
	const char	*expect;	/* a substring of the answer */
} route_cases[] = {
	{ PC_M_GET, "/health", NULL, 200, "{\"status\":\"ok\"}" },
	{ PC_M_HEAD, "/health", NULL, 200, "ok" },
	{ PC_M_POST, "/health", "{}", 405, "method_not_allowed" },
	{ PC_M_GET, "/v1/riders", NULL, 200, "\"total\":5" },
	{ PC_M_GET, "/v1/riders/r-1001", NULL, 200, "\"name\":\"Ana Souza\"" },
	{ PC_M_GET, "/v1/riders/r-1005", NULL, 200, "Zo\xc3\xab M\xc3\xbcller" },
	{ PC_M_GET, "/v1/riders/r-9999", NULL, 404, "no rider" },
	{ PC_M_GET, "/v1/riders/r-1001?verbose=1", NULL, 200, "r-1001" },
	{ PC_M_DELETE, "/v1/riders/r-1001", NULL, 405, "method_not_allowed" },
	{ PC_M_GET, "/v1/drivers", NULL, 200, "\"total\":4" },
	{ PC_M_GET, "/v1/drivers/d-2003", NULL, 200, "Hyundai Ioniq 5" },
	{ PC_M_GET, "/v1/drivers/d-1", NULL, 404, "no driver" },
	{ PC_M_GET, "/v1/trips", NULL, 200, "\"total\":6" },
	{ PC_M_GET, "/v1/trips?limit=2", NULL, 200, "\"limit\":2" },
	{ PC_M_GET, "/v1/trips?limit=2&offset=5", NULL, 200, "t-3006" },
	{ PC_M_GET, "/v1/trips?limit=0", NULL, 400, "bad_query" },
	{ PC_M_GET, "/v1/trips?limit=101", NULL, 400, "bad_query" },
	{ PC_M_GET, "/v1/trips?offset=-1", NULL, 400, "bad_query" },
	{ PC_M_GET, "/v1/trips?offset=99", NULL, 200, "\"trips\":[]" },
	{ PC_M_GET, "/v1/trips/t-3001", NULL, 200, "\"amount\":\"24.50\"" },
	{ PC_M_GET, "/v1/trips/t-3004", NULL, 200, "\"fare\":null" },
	{ PC_M_GET, "/v1/trips/t-0", NULL, 404, "no trip" },
	{ PC_M_PUT, "/v1/trips/t-3001", "{}", 405, "method_not_allowed" },
	{ PC_M_GET, "/v1/trips/t-3001/ratings", NULL, 405, "method_not_allowed" },
	{ PC_M_GET, "/", NULL, 404, "not_found" },
	{ PC_M_GET, "/v1", NULL, 404, "not_found" },
	{ PC_M_GET, "/v1/", NULL, 404, "not_found" },
	{ PC_M_GET, "/v1/riders/", NULL, 404, "not_found" },
	{ PC_M_GET, "/v1/riders/r-1001/x", NULL, 404, "not_found" },
	{ PC_M_GET, "/v1/trips/t-3001/x", NULL, 404, "not_found" },
	{ PC_M_GET, "/v1/trips/t-3001/ratings/x", NULL, 404, "not_found" },
	{ PC_M_GET, "/v2/riders", NULL, 404, "not_found" },
	{ PC_M_GET, "*", NULL, 404, "not_found" },
	{ PC_M_POST, "/v1/trips", NULL, 400, "invalid_json" },
	{ PC_M_POST, "/v1/trips", "rider_id=r-1001", 400, "invalid_json" },
	{ PC_M_POST, "/v1/trips", "{\"pickup\":\"a\",\"dropoff\":\"b\"}", 400,
	  "rider_id must be a string" },
	{ PC_M_POST, "/v1/trips", "{\"rider_id\":1001,\"pickup\":\"a\",\"dropoff\":\"b\"}", 400,
	  "rider_id must be a string" },
	{ PC_M_POST, "/v1/trips", "{\"rider_id\":\"r-1001\",\"pickup\":\"\",\"dropoff\":\"b\"}",
	  400, "pickup must be" },
	{ PC_M_POST, "/v1/trips", "{\"rider_id\":\"r-1001\",\"pickup\":\"a\"}", 400,
	  "dropoff must be" },
	{ PC_M_POST, "/v1/trips", "{\"rider_id\":\"r-9\",\"pickup\":\"a\",\"dropoff\":\"b\"}", 400,
	  "unknown_rider" },
	{ PC_M_POST, "/v1/trips/t-3001/ratings", "{\"stars\":0}", 400, "stars must be" },
	{ PC_M_POST, "/v1/trips/t-3001/ratings", "{\"stars\":6}", 400, "stars must be" },
	{ PC_M_POST, "/v1/trips/t-3001/ratings", "{\"stars\":4.5}", 400, "stars must be" },
	{ PC_M_POST, "/v1/trips/t-3001/ratings", "{\"stars\":-1}", 400, "stars must be" },
	{ PC_M_POST, "/v1/trips/t-3001/ratings", "{\"stars\":\"5\"}", 400, "stars must be" },
	{ PC_M_POST, "/v1/trips/t-3001/ratings", "{}", 400, "stars must be" },
	{ PC_M_POST, "/v1/trips/t-3001/ratings", "{\"stars\":5,\"comment\":7}", 400,
	  "comment must be" },
	{ PC_M_POST, "/v1/trips/t-3005/ratings", "{\"stars\":5}", 400, "trip_not_completed" },
	{ PC_M_POST, "/v1/trips/t-404/ratings", "{\"stars\":5}", 404, "no trip" },
	{ PC_M_POST, "/v1/trips/t-3003/ratings", "{\"stars\":3,\"comment\":\"ok \\u00e9\"}", 201,
	  "\"comment\":\"ok \xc3\xa9\"" },
};

static void
test_routes(void **state)
{
	struct pc_demo_resp	r;
	size_t			i;

	(void)state;
	pc_demo__rides_reset();
	pc_buf_init(&r.body, 0);
	for (i = 0; i < PC_NELEM(route_cases); i++) {
		call(route_cases[i].m, route_cases[i].target, route_cases[i].body, &r);
		if (r.status != route_cases[i].status || !HAS(r, route_cases[i].expect))
			fail_msg("case %zu %s: %d %s", i, route_cases[i].target, r.status, BODY(r));
		assert_true(pc_demo__utf8_valid(pc_str_make(BODY(r), r.body.len)));
		if (r.status == 405)
			assert_non_null(r.allow);
		else
			assert_null(r.allow);
	}
	/* The rating stuck, with its comment. */
	assert_int_equal(call(PC_M_GET, "/v1/trips/t-3003", NULL, &r), 200);
	assert_true(HAS(r, "\"rating\":{\"stars\":3,\"comment\":\"ok \xc3\xa9\"}"));
	assert_int_equal(call(PC_M_POST, "/v1/trips/t-3003/ratings", "{\"stars\":5}", &r), 201);
	assert_string_equal(r.location, "/v1/trips/t-3003");
	assert_int_equal(call(PC_M_GET, "/v1/trips/t-3003", NULL, &r), 200);
	assert_true(HAS(r, "\"rating\":{\"stars\":5,\"comment\":null}"));
	assert_int_equal(call(PC_M_POST, "/v1/trips", "{}", &r), 400);
	assert_string_equal(r.allow == NULL ? "" : r.allow, "");
	assert_int_equal(call(PC_M_GET, "/v1/trips", NULL, &r), 200);
	assert_string_equal(r.location, "");
	assert_int_equal(call(PC_M_PATCH, "/v1/trips", NULL, &r), 405);
	assert_string_equal(r.allow, "GET, HEAD, POST");
	pc_buf_fini(&r.body);
}

static void
test_create_trips_until_full(void **state)
{
	struct pc_demo_resp	r;
	char			want[64];
	unsigned		i;

	(void)state;
	pc_demo__rides_reset();
	pc_buf_init(&r.body, 0);
	for (i = 0; i < CREATED_MAX; i++) {
		assert_int_equal(call(PC_M_POST, "/v1/trips", "{\"rider_id\":\"r-1002\","
		    "\"pickup\":\"Bel\\u00e9m\",\"dropoff\":\"Alfama \\\"old town\\\"\"}", &r), 201);
		(void)snprintf(want, sizeof(want), "/v1/trips/t-%u", 3001 + SEED_TRIPS + i);
		assert_string_equal(r.location, want);
	}
	assert_true(HAS(r, "\"pickup\":\"Bel\xc3\xa9m\",\"dropoff\":\"Alfama \\\"old town\\\"\""));
	assert_true(HAS(r, "\"status\":\"requested\""));
	assert_int_equal(call(PC_M_POST, "/v1/trips", "{\"rider_id\":\"r-1002\","
	    "\"pickup\":\"a\",\"dropoff\":\"b\"}", &r), 503);
	assert_true(HAS(r, "trip_store_full"));
	assert_int_equal(call(PC_M_GET, "/v1/trips/t-4006", NULL, &r), 200);
	assert_int_equal(call(PC_M_GET, "/v1/trips?offset=1000&limit=100", NULL, &r), 200);
	assert_true(HAS(r, "\"total\":1006"));
	assert_true(HAS(r, "t-4006"));

	/* A restart begins from the seed data. */
	pc_demo__rides_reset();
	assert_int_equal(call(PC_M_GET, "/v1/trips/t-3007", NULL, &r), 404);
	assert_int_equal(call(PC_M_GET, "/v1/trips/t-3003", NULL, &r), 200);
	assert_true(HAS(r, "\"rating\":null"));
	pc_buf_fini(&r.body);
}

/* A place name at the limit is kept whole; one byte more is refused. */
static void
test_field_lengths(void **state)
{
	struct pc_demo_resp	r;
	char			body[512], place[PLACE_MAX + 2];

	(void)state;
	pc_demo__rides_reset();
	pc_buf_init(&r.body, 0);
	memset(place, 'p', sizeof(place));
	place[PLACE_MAX] = '\0';
	(void)snprintf(body, sizeof(body),
	    "{\"rider_id\":\"r-1001\",\"pickup\":\"%s\",\"dropoff\":\"x\"}", place);
	assert_int_equal(call(PC_M_POST, "/v1/trips", body, &r), 201);
	assert_true(HAS(r, place));
	place[PLACE_MAX] = 'p';
	place[PLACE_MAX + 1] = '\0';
	(void)snprintf(body, sizeof(body),
	    "{\"rider_id\":\"r-1001\",\"pickup\":\"%s\",\"dropoff\":\"x\"}", place);
	assert_int_equal(call(PC_M_POST, "/v1/trips", body, &r), 400);
	pc_buf_fini(&r.body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_path),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_create_trips_until_full),
		cmocka_unit_test(test_field_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
