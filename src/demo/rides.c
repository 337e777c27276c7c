/*
 * demo/rides.c - the "AnyCompany rides" API that `portcullis demo` puts behind the gateway:
 * riders, drivers, trips and ratings, kept in memory.
 * Owns: the demo data, routing inside the API, validation of request fields, and the
 * shape of every answer (JSON itself is json.c).
 * Does not: touch sockets or HTTP framing (upstream.c), or persist anything: created trips
 * live until the upstream restarts, and there is a cap on how many a run may create.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo/demo_int.h"
#include "core/banned.h"

#define ID_MAX		16
#define PLACE_MAX	128	/* pickup / dropoff, bytes of UTF-8 */
#define COMMENT_MAX	280
#define SEED_TRIPS	6
#define CREATED_MAX	1000	/* trips one run may create; then 503 */
#define LIST_DEFAULT	20
#define LIST_MAX	100

struct rider {
	const char	*id;
	const char	*name;
	const char	*email;
	unsigned	 member_since;	/* year */
	unsigned	 rating_x10;	/* 48 = 4.8 stars */
};

struct driver {
	const char	*id;
	const char	*name;
	const char	*vehicle;
	const char	*plate;
	unsigned	 rating_x10;
	unsigned	 trips_done;
};

struct trip {
	char		 id[ID_MAX];
	char		 rider_id[ID_MAX];
	char		 driver_id[ID_MAX];	/* "" until a driver accepts */
	char		 pickup[PLACE_MAX + 1];
	char		 dropoff[PLACE_MAX + 1];
	const char	*status;	/* requested, in_progress, completed, cancelled */
	uint32_t	 fare_cents;	/* EUR; 0 = no fare yet */
	unsigned	 stars;		/* 0 = not rated */
	char		 comment[COMMENT_MAX + 1];
	char		 requested_at[32];	/* RFC 3339 */
};

/* Names are UTF-8: the demo shows that they pass through the gateway intact. */
static const struct rider riders[] = {
	{ "r-1001", "Ana Souza", "ana.souza@example.com", 2019, 48 },
	{ "r-1002", "Kenji Watanabe", "kenji.w@example.com", 2021, 49 },
	{ "r-1003", "Fatima Zahra", "fatima.zahra@example.com", 2020, 47 },
	{ "r-1004", "Liam O'Connor", "liam.oconnor@example.com", 2023, 45 },
	{ "r-1005", "Zo\xc3\xab M\xc3\xbcller", "zoe.mueller@example.com", 2022, 50 },
};

static const struct driver drivers[] = {
	{ "d-2001", "Marta Kowalska", "Toyota Prius", "AA-12-BC", 49, 3120 },
	{ "d-2002", "Samuel Okafor", "Kia Niro", "BD-34-EF", 48, 1875 },
	{ "d-2003", "Priya Raman", "Hyundai Ioniq 5", "CE-56-GH", 50, 942 },
	{ "d-2004", "Diego Alvarez", "Tesla Model 3", "DF-78-IJ", 47, 2210 },
};

static const struct trip seed_trips[SEED_TRIPS] = {
	{ "t-3001", "r-1001", "d-2001", "Rua Augusta 100", "Lisbon Airport T1", "completed",
	  2450, 5, "Smooth ride, friendly driver.", "2024-05-02T08:15:00.000Z" },
	{ "t-3002", "r-1002", "d-2003", "Parque das Na\xc3\xa7\xc3\xb5" "es", "Bel\xc3\xa9m Tower",
	  "completed", 1830, 4, "", "2024-05-02T09:40:00.000Z" },
	{ "t-3003", "r-1003", "d-2002", "Cais do Sodr\xc3\xa9", "Alfama", "completed", 890, 0, "",
	  "2024-05-03T18:05:00.000Z" },
	{ "t-3004", "r-1004", "d-2004", "Oriente Station", "Campo Pequeno", "cancelled", 0, 0, "",
	  "2024-05-04T07:55:00.000Z" },
	{ "t-3005", "r-1001", "d-2002", "Lisbon Airport T1", "Rua Augusta 100", "in_progress",
	  0, 0, "", "2024-05-05T21:30:00.000Z" },
	{ "t-3006", "r-1005", "", "Pr\xc3\xadncipe Real", "LX Factory", "requested", 0, 0, "",
	  "2024-05-05T21:42:00.000Z" },
};

/* Only the upstream thread calls in today; the lock keeps that an implementation detail. */
static pthread_mutex_t	 trips_lock = PTHREAD_MUTEX_INITIALIZER;
static struct trip	 trips[SEED_TRIPS + CREATED_MAX];
static unsigned		 ntrips;
static bool		 seeded;

/* ---- responses ---- */

static int
reply_error(struct pc_demo_resp *resp, int status, const char *code, const char *msg)
{
	struct pc_demo_jw w;

	resp->status = status;
	resp->body.len = 0;
	pc_demo__jw_init(&w, &resp->body);
	pc_demo__jw_open(&w, NULL, '{');
	pc_demo__jw_str(&w, "error", code);
	pc_demo__jw_str(&w, "message", msg);
	pc_demo__jw_close(&w, '}');
	return w.err;
}

static bool
method_ok(struct pc_demo_resp *resp, enum pc_method meth, bool get, bool post, int *rc)
{
	if ((get && meth == PC_M_GET) || (post && meth == PC_M_POST))
		return true;
	resp->allow = get && post ? "GET, HEAD, POST" : get ? "GET, HEAD" : "POST";
	*rc = reply_error(resp, 405, "method_not_allowed", "method not allowed on this resource");
	return false;
}

static void
rider_json(struct pc_demo_jw *w, const struct rider *r)
{
	pc_demo__jw_open(w, NULL, '{');
	pc_demo__jw_str(w, "id", r->id);
	pc_demo__jw_str(w, "name", r->name);
	pc_demo__jw_str(w, "email", r->email);
	pc_demo__jw_uint(w, "member_since", r->member_since);
	pc_demo__jw_tenths(w, "rating", r->rating_x10);
	pc_demo__jw_close(w, '}');
}

static void
driver_json(struct pc_demo_jw *w, const struct driver *d)
{
	pc_demo__jw_open(w, NULL, '{');
	pc_demo__jw_str(w, "id", d->id);
	pc_demo__jw_str(w, "name", d->name);
	pc_demo__jw_open(w, "vehicle", '{');
	pc_demo__jw_str(w, "model", d->vehicle);
	pc_demo__jw_str(w, "plate", d->plate);
	pc_demo__jw_close(w, '}');
	pc_demo__jw_tenths(w, "rating", d->rating_x10);
	pc_demo__jw_uint(w, "completed_trips", d->trips_done);
	pc_demo__jw_close(w, '}');
}

static void
trip_json(struct pc_demo_jw *w, const struct trip *t)
{
	char amount[24];

	pc_demo__jw_open(w, NULL, '{');
	pc_demo__jw_str(w, "id", t->id);
	pc_demo__jw_str(w, "rider_id", t->rider_id);
	pc_demo__jw_str(w, "driver_id", t->driver_id);
	pc_demo__jw_str(w, "pickup", t->pickup);
	pc_demo__jw_str(w, "dropoff", t->dropoff);
	pc_demo__jw_str(w, "status", t->status);
	if (t->fare_cents > 0) {
		/* Money as a decimal string: binary floating point cannot hold 0.10 exactly. */
		(void)snprintf(amount, sizeof(amount), "%u.%02u", t->fare_cents / 100,
		    t->fare_cents % 100);
		pc_demo__jw_open(w, "fare", '{');
		pc_demo__jw_str(w, "amount", amount);
		pc_demo__jw_str(w, "currency", "EUR");
		pc_demo__jw_close(w, '}');
	} else {
		pc_demo__jw_str(w, "fare", NULL);
	}
	if (t->stars > 0) {
		pc_demo__jw_open(w, "rating", '{');
		pc_demo__jw_uint(w, "stars", t->stars);
		pc_demo__jw_str(w, "comment", t->comment);
		pc_demo__jw_close(w, '}');
	} else {
		pc_demo__jw_str(w, "rating", NULL);
	}
	pc_demo__jw_str(w, "requested_at", t->requested_at);
	pc_demo__jw_close(w, '}');
}

static void
seed_locked(void)
{
	if (seeded)
		return;
	memcpy(trips, seed_trips, sizeof(seed_trips));
	ntrips = SEED_TRIPS;
	seeded = true;
}

void
pc_demo__rides_reset(void)
{
	(void)pthread_mutex_lock(&trips_lock);
	seeded = false;
	seed_locked();
	(void)pthread_mutex_unlock(&trips_lock);
}

static struct trip *
trip_find_locked(struct pc_str id)
{
	unsigned i;

	for (i = 0; i < ntrips; i++)
		if (pc_str_eq(pc_str_c(trips[i].id), id))
			return &trips[i];
	return NULL;
}

/* Reads ?limit=N&offset=N; anything else in the query is ignored, as most APIs do. */
static int
list_window(struct pc_str query, uint64_t *limit, uint64_t *offset)
{
	struct pc_str	param, key;
	uint64_t	*dst;

	*limit = LIST_DEFAULT;
	*offset = 0;
	while (query.len > 0) {
		query = pc_str_split(query, '&', &param);
		param = pc_str_split(param, '=', &key);
		if (pc_str_eq(key, PC_STR("limit")))
			dst = limit;
		else if (pc_str_eq(key, PC_STR("offset")))
			dst = offset;
		else
			continue;
		if (pc_parse_u64(param, dst == limit ? LIST_MAX : 1000000, dst) != 0 ||
		    (dst == limit && *dst == 0))
			return -PC_EINVAL;
	}
	return 0;
}

enum list_kind { LIST_RIDERS, LIST_DRIVERS, LIST_TRIPS };

static int
reply_list(struct pc_demo_resp *resp, enum list_kind kind, struct pc_str query)
{
	static const char	*names[] = { "riders", "drivers", "trips" };
	struct pc_demo_jw		 w;
	uint64_t		 limit, offset, i;
	size_t			 total;

	if (list_window(query, &limit, &offset) != 0)
		return reply_error(resp, 400, "bad_query",
		    "limit must be 1 to 100 and offset a non-negative integer");
	pc_demo__jw_init(&w, &resp->body);
	(void)pthread_mutex_lock(&trips_lock);
	seed_locked();
	total = kind == LIST_RIDERS ? PC_NELEM(riders) :
	    kind == LIST_DRIVERS ? PC_NELEM(drivers) : ntrips;
	pc_demo__jw_open(&w, NULL, '{');
	pc_demo__jw_open(&w, names[kind], '[');
	for (i = offset; i < total && i < offset + limit; i++) {
		if (kind == LIST_RIDERS)
			rider_json(&w, &riders[i]);
		else if (kind == LIST_DRIVERS)
			driver_json(&w, &drivers[i]);
		else
			trip_json(&w, &trips[i]);
	}
	pc_demo__jw_close(&w, ']');
	pc_demo__jw_uint(&w, "total", total);
	pc_demo__jw_uint(&w, "limit", limit);
	pc_demo__jw_uint(&w, "offset", offset);
	pc_demo__jw_close(&w, '}');
	(void)pthread_mutex_unlock(&trips_lock);
	resp->status = 200;
	return w.err;
}

static int
reply_one(struct pc_demo_resp *resp, enum list_kind kind, struct pc_str id)
{
	struct pc_demo_jw	 w;
	struct trip	*t;
	size_t		 i;

	pc_demo__jw_init(&w, &resp->body);
	resp->status = 200;
	if (kind == LIST_RIDERS) {
		for (i = 0; i < PC_NELEM(riders); i++)
			if (pc_str_eq(pc_str_c(riders[i].id), id)) {
				rider_json(&w, &riders[i]);
				return w.err;
			}
		return reply_error(resp, 404, "not_found", "no rider with this id");
	}
	if (kind == LIST_DRIVERS) {
		for (i = 0; i < PC_NELEM(drivers); i++)
			if (pc_str_eq(pc_str_c(drivers[i].id), id)) {
				driver_json(&w, &drivers[i]);
				return w.err;
			}
		return reply_error(resp, 404, "not_found", "no driver with this id");
	}
	(void)pthread_mutex_lock(&trips_lock);
	seed_locked();
	t = trip_find_locked(id);
	if (t != NULL)
		trip_json(&w, t);
	(void)pthread_mutex_unlock(&trips_lock);
	if (t == NULL)
		return reply_error(resp, 404, "not_found", "no trip with this id");
	return w.err;
}

/*
 * Copies string field <key> of <o> into <dst> (NUL-terminated) if it has 1..<max> bytes.
 * Returns NULL, or the message for a 400 in <msg>.
 */
static const char *
get_text(const struct pc_demo_jobj *o, const char *key, bool required, size_t max, char *dst,
    char *msg, size_t msglen)
{
	const struct pc_demo_jfield *f = pc_demo__json_get(o, pc_str_c(key));

	dst[0] = '\0';
	if (f == NULL && !required)
		return NULL;
	if (f == NULL || f->kind != PC_DEMO_J_STRING || f->val.len == 0 || f->val.len > max) {
		(void)snprintf(msg, msglen, "%s must be a string of 1 to %zu bytes", key, max);
		return msg;
	}
	memcpy(dst, f->val.ptr, f->val.len);
	dst[f->val.len] = '\0';
	return NULL;
}

static int
create_trip(struct pc_demo_resp *resp, const struct pc_demo_jobj *o)
{
	struct pc_demo_jw	 w;
	struct trip	 t;
	char		 msg[96];
	const char	*why;
	size_t		 i;

	memset(&t, 0, sizeof(t));
	why = get_text(o, "rider_id", true, ID_MAX - 1, t.rider_id, msg, sizeof(msg));
	if (why == NULL)
		why = get_text(o, "pickup", true, PLACE_MAX, t.pickup, msg, sizeof(msg));
	if (why == NULL)
		why = get_text(o, "dropoff", true, PLACE_MAX, t.dropoff, msg, sizeof(msg));
	if (why != NULL)
		return reply_error(resp, 400, "invalid_field", why);
	for (i = 0; i < PC_NELEM(riders); i++)
		if (strcmp(riders[i].id, t.rider_id) == 0)
			break;
	if (i == PC_NELEM(riders))
		return reply_error(resp, 400, "unknown_rider", "rider_id names no rider");
	t.status = "requested";
	pc_wall_format(pc_wall_us(), t.requested_at);

	pc_demo__jw_init(&w, &resp->body);
	(void)pthread_mutex_lock(&trips_lock);
	seed_locked();
	if (ntrips == PC_NELEM(trips)) {
		(void)pthread_mutex_unlock(&trips_lock);
		return reply_error(resp, 503, "trip_store_full",
		    "this demo keeps at most 1000 new trips; restart it to begin again");
	}
	(void)snprintf(t.id, sizeof(t.id), "t-%u", 3001 + ntrips);
	trips[ntrips++] = t;
	(void)pthread_mutex_unlock(&trips_lock);
	trip_json(&w, &t);
	resp->status = 201;
	(void)snprintf(resp->location, sizeof(resp->location), "/v1/trips/%s", t.id);
	return w.err;
}

static int
rate_trip(struct pc_demo_resp *resp, struct pc_str id, const struct pc_demo_jobj *o)
{
	const struct pc_demo_jfield	*f = pc_demo__json_get(o, PC_STR("stars"));
	struct pc_demo_jw		 w;
	struct trip		*t;
	char			 comment[COMMENT_MAX + 1], msg[96];
	const char		*why;
	uint64_t		 stars = 0;

	/* An integer literal only: 4.5 and 5e0 are refused rather than rounded. */
	if (f == NULL || f->kind != PC_DEMO_J_NUMBER || pc_parse_u64(f->val, 5, &stars) != 0 ||
	    stars == 0)
		return reply_error(resp, 400, "invalid_field",
		    "stars must be an integer from 1 to 5");
	why = get_text(o, "comment", false, COMMENT_MAX, comment, msg, sizeof(msg));
	if (why != NULL)
		return reply_error(resp, 400, "invalid_field", why);

	pc_demo__jw_init(&w, &resp->body);
	(void)pthread_mutex_lock(&trips_lock);
	seed_locked();
	t = trip_find_locked(id);
	if (t != NULL && strcmp(t->status, "completed") == 0) {
		t->stars = (unsigned)stars;
		memcpy(t->comment, comment, sizeof(comment));
		pc_demo__jw_open(&w, NULL, '{');
		pc_demo__jw_str(&w, "trip_id", t->id);
		pc_demo__jw_uint(&w, "stars", t->stars);
		pc_demo__jw_str(&w, "comment", t->comment);
		pc_demo__jw_close(&w, '}');
		(void)snprintf(resp->location, sizeof(resp->location), "/v1/trips/%s", t->id);
	}
	(void)pthread_mutex_unlock(&trips_lock);
	if (t == NULL)
		return reply_error(resp, 404, "not_found", "no trip with this id");
	if (resp->location[0] == '\0')
		return reply_error(resp, 400, "trip_not_completed", "only completed trips can be rated");
	resp->status = 201;
	return w.err;
}

/* Parses the JSON body, then calls <fn>; answers 400 itself if the body is not acceptable. */
static int
with_body(struct pc_demo_resp *resp, struct pc_str body, struct pc_str id,
    int (*fn)(struct pc_demo_resp *, struct pc_str, const struct pc_demo_jobj *))
{
	struct pc_demo_jobj	 o;
	char		*scratch;
	int		 rc;

	scratch = malloc(body.len + 1);
	if (scratch == NULL)
		return -PC_ENOMEM;
	if (pc_demo__json_object(body, scratch, &o) != 0)
		rc = reply_error(resp, 400, "invalid_json", o.err);
	else
		rc = fn(resp, id, &o);
	free(scratch);
	return rc;
}

static int
create_trip_cb(struct pc_demo_resp *resp, struct pc_str id, const struct pc_demo_jobj *o)
{
	(void)id;
	return create_trip(resp, o);
}

/* Splits "/a/b/c" into at most <max> segments, empty ones included; returns how many there
 * were, or max + 1 if there were more (or the path does not start with '/'). */
static unsigned
split_path(struct pc_str path, struct pc_str *seg, unsigned max)
{
	const char	*p, *end, *slash;
	unsigned	 n = 0;

	if (path.len == 0 || path.ptr[0] != '/')
		return max + 1;
	p = path.ptr + 1;
	end = path.ptr + path.len;
	for (;;) {
		if (n == max)
			return max + 1;
		slash = memchr(p, '/', (size_t)(end - p));
		if (slash == NULL) {
			seg[n++] = pc_str_make(p, (size_t)(end - p));
			return n;
		}
		seg[n++] = pc_str_make(p, (size_t)(slash - p));
		p = slash + 1;
	}
}

int
pc_demo__rides_handle(enum pc_method meth, struct pc_str target, struct pc_str body,
    struct pc_demo_resp *resp)
{
	struct pc_str	 path, query, seg[4];
	unsigned	 n;
	int		 rc = 0;

	resp->status = 500;
	resp->allow = NULL;
	resp->location[0] = '\0';
	resp->body.len = 0;
	if (meth == PC_M_HEAD)
		meth = PC_M_GET;
	query = pc_str_split(target, '?', &path);
	n = split_path(path, seg, PC_NELEM(seg));

#define SEG(i, lit)	pc_str_eq(seg[i], PC_STR(lit))
	if (n == 1 && SEG(0, "health")) {
		if (!method_ok(resp, meth, true, false, &rc))
			return rc;
		resp->status = 200;
		return pc_buf_add_str(&resp->body, PC_STR("{\"status\":\"ok\"}"));
	}
	if (n < 2 || n > 4 || !SEG(0, "v1") || seg[n - 1].len == 0)
		return reply_error(resp, 404, "not_found", "no such resource");
	if (n <= 3 && (SEG(1, "riders") || SEG(1, "drivers"))) {
		enum list_kind kind = SEG(1, "riders") ? LIST_RIDERS : LIST_DRIVERS;

		if (!method_ok(resp, meth, true, false, &rc))
			return rc;
		return n == 2 ? reply_list(resp, kind, query) : reply_one(resp, kind, seg[2]);
	}
	if (SEG(1, "trips")) {
		if (n == 2) {
			if (!method_ok(resp, meth, true, true, &rc))
				return rc;
			if (meth == PC_M_GET)
				return reply_list(resp, LIST_TRIPS, query);
			return with_body(resp, body, PC_STR_NULL, create_trip_cb);
		}
		if (n == 3) {
			if (!method_ok(resp, meth, true, false, &rc))
				return rc;
			return reply_one(resp, LIST_TRIPS, seg[2]);
		}
		if (SEG(3, "ratings")) {
			if (!method_ok(resp, meth, false, true, &rc))
				return rc;
			return with_body(resp, body, seg[2], rate_trip);
		}
	}
#undef SEG
	return reply_error(resp, 404, "not_found", "no such resource");
}
