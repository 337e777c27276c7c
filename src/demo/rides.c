/*
 * demo/rides.c - the "AnyCompany rides" API that `portcullis demo` puts behind the gateway:
 * riders, drivers, trips and ratings, kept in memory.
 * Owns: the demo data, routing inside the API, a strict reader for flat JSON objects
 * (RFC 8259) and the JSON it answers with.
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
#define JSON_FIELDS_MAX	16
#define JW_DEPTH_MAX	8

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

/* ---- JSON out: a writer with a sticky error, so a handler checks once, at the end ---- */

struct jw {
	struct pc_buf	*b;
	int		 err;			/* first error; later calls do nothing */
	unsigned	 depth;
	bool		 more[JW_DEPTH_MAX];	/* a value was already written at this level */
};

static bool
utf8_valid(struct pc_str s)
{
	const unsigned char	*p = (const unsigned char *)s.ptr, *end = p + s.len;
	unsigned		 c, n, cp, min;

	while (p < end) {
		c = *p++;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if ((size_t)(end - p) < n)
			return false;
		while (n-- > 0) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*p++ & 0x3fu);
		}
		/* Overlong forms, UTF-16 surrogates and values past Unicode are not UTF-8. */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

static void
jw_raw(struct jw *w, const char *s, size_t n)
{
	if (w->err == 0)
		w->err = pc_buf_add(w->b, s, n);
}

/*
 * Writes <s> as a JSON string. Valid UTF-8 passes through as is, so "Zoë" stays readable;
 * a string that is not UTF-8 (a hostile id in a path) has each high byte escaped instead.
 * pc_buf_add_json_str() always does the latter, which turns "ë" into "Ã«" for a reader.
 */
static void
jw_quoted(struct jw *w, struct pc_str s)
{
	static const char	 hex[] = "0123456789abcdef";
	bool			 utf8 = utf8_valid(s);
	char			 esc[6] = { '\\', 'u', '0', '0', 0, 0 };
	size_t			 i, run = 0;

	jw_raw(w, "\"", 1);
	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f && (c < 0x80 || utf8))
			continue;
		jw_raw(w, s.ptr + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			jw_raw(w, esc, 2);
			esc[1] = 'u';
		} else {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			jw_raw(w, esc, 6);
		}
	}
	jw_raw(w, s.ptr + run, s.len - run);
	jw_raw(w, "\"", 1);
}

/* Starts a value: the comma before it, and its key inside an object (<key> NULL in arrays). */
static void
jw_sep(struct jw *w, const char *key)
{
	if (w->more[w->depth])
		jw_raw(w, ",", 1);
	w->more[w->depth] = true;
	if (key != NULL) {
		jw_quoted(w, pc_str_c(key));
		jw_raw(w, ":", 1);
	}
}

static void
jw_open(struct jw *w, const char *key, char c)
{
	jw_sep(w, key);
	jw_raw(w, &c, 1);
	PC_ASSERT(w->depth + 1 < JW_DEPTH_MAX);
	w->more[++w->depth] = false;
}

static void
jw_close(struct jw *w, char c)
{
	PC_ASSERT(w->depth > 0);
	w->depth--;
	jw_raw(w, &c, 1);
}

static void
jw_str(struct jw *w, const char *key, const char *v)
{
	jw_sep(w, key);
	if (v == NULL || v[0] == '\0')
		jw_raw(w, "null", 4);
	else
		jw_quoted(w, pc_str_c(v));
}

static void
jw_uint(struct jw *w, const char *key, uint64_t v)
{
	jw_sep(w, key);
	if (w->err == 0)
		w->err = pc_buf_printf(w->b, "%llu", (unsigned long long)v);
}

/* <x10> tenths as a JSON number: 48 -> 4.8. */
static void
jw_tenths(struct jw *w, const char *key, unsigned x10)
{
	jw_sep(w, key);
	if (w->err == 0)
		w->err = pc_buf_printf(w->b, "%u.%u", x10 / 10, x10 % 10);
}

static void
jw_init(struct jw *w, struct pc_buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* ---- JSON in: one flat object of scalars; strict, because it is fed untrusted bytes ---- */

enum jkind { J_STRING, J_NUMBER, J_TRUE, J_FALSE, J_NULL };

struct jfield {
	struct pc_str	 key;	/* decoded, valid UTF-8 */
	enum jkind	 kind;
	struct pc_str	 val;	/* J_STRING: decoded; J_NUMBER: the literal as written */
};

struct jobj {
	struct jfield	 f[JSON_FIELDS_MAX];
	unsigned	 n;
	const char	*err;	/* why parsing failed, for the 400 body */
};

struct jparse {
	const char	*p, *end;
	char		*out;	/* decoded strings; never longer than their encoding */
	struct jobj	*o;
};

static int
jerr(struct jparse *jp, const char *why)
{
	jp->o->err = why;
	return -PC_EPROTO;
}

static void
jws(struct jparse *jp)
{
	while (jp->p < jp->end &&
	    (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static bool
jeat(struct jparse *jp, char c)
{
	if (jp->p < jp->end && *jp->p == c) {
		jp->p++;
		return true;
	}
	return false;
}

static bool
jeat_lit(struct jparse *jp, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, lit, n) != 0)
		return false;
	jp->p += n;
	return true;
}

/* Reads the 4 hex digits of a \u escape. */
static int
jhex4(struct jparse *jp, unsigned *cp)
{
	unsigned i, d;

	if (jp->end - jp->p < 4)
		return jerr(jp, "truncated \\u escape");
	*cp = 0;
	for (i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)*jp->p++;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20u) - 'a' + 10;
		else
			return jerr(jp, "bad hex digit in \\u escape");
		*cp = *cp << 4 | d;
	}
	return 0;
}

/* The \u escape whose "\u" was just read: a code point, surrogate pairs combined. */
static int
jescape_u(struct jparse *jp)
{
	unsigned	cp, lo;
	char		*o = jp->out;

	if (jhex4(jp, &cp) != 0)
		return -PC_EPROTO;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return jerr(jp, "lone low surrogate in \\u escape");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (!jeat_lit(jp, "\\u") || jhex4(jp, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
			return jerr(jp, "high surrogate without its low half");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	/* Decoded strings become C strings in the trip store: NUL would cut them short. */
	if (cp == 0)
		return jerr(jp, "\\u0000 is not accepted");
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	jp->out = o;
	return 0;
}

static int
jstring(struct jparse *jp, struct pc_str *out)
{
	char		*start = jp->out;
	unsigned char	 c;

	if (!jeat(jp, '"'))
		return jerr(jp, "expected a string");
	for (;;) {
		if (jp->p == jp->end)
			return jerr(jp, "unterminated string");
		c = (unsigned char)*jp->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return jerr(jp, "control character in a string");
		if (c != '\\') {
			*jp->out++ = (char)c;
			continue;
		}
		if (jp->p == jp->end)
			return jerr(jp, "unterminated string");
		c = (unsigned char)*jp->p++;
		switch (c) {
		case '"': case '\\': case '/':
			*jp->out++ = (char)c;
			break;
		case 'b': *jp->out++ = '\b'; break;
		case 'f': *jp->out++ = '\f'; break;
		case 'n': *jp->out++ = '\n'; break;
		case 'r': *jp->out++ = '\r'; break;
		case 't': *jp->out++ = '\t'; break;
		case 'u':
			if (jescape_u(jp) != 0)
				return -PC_EPROTO;
			break;
		default:
			return jerr(jp, "unknown escape in a string");
		}
	}
	*out = pc_str_make(start, (size_t)(jp->out - start));
	if (!utf8_valid(*out))
		return jerr(jp, "string is not valid UTF-8");
	return 0;
}

static bool
jdigits(struct jparse *jp)
{
	const char *s = jp->p;

	while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
		jp->p++;
	return jp->p > s;
}

/* number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ] */
static int
jnumber(struct jparse *jp, struct pc_str *out)
{
	const char *s = jp->p;

	(void)jeat(jp, '-');
	if (jeat(jp, '0')) {
		if (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			return jerr(jp, "leading zero in a number");
	} else if (!jdigits(jp)) {
		return jerr(jp, "expected a value");
	}
	if (jeat(jp, '.') && !jdigits(jp))
		return jerr(jp, "expected digits after '.'");
	if (jeat(jp, 'e') || jeat(jp, 'E')) {
		if (!jeat(jp, '+'))
			(void)jeat(jp, '-');
		if (!jdigits(jp))
			return jerr(jp, "expected digits in the exponent");
	}
	*out = pc_str_make(s, (size_t)(jp->p - s));
	return 0;
}

static const struct jfield *
jget(const struct jobj *o, struct pc_str key)
{
	unsigned i;

	for (i = 0; i < o->n; i++)
		if (pc_str_eq(o->f[i].key, key))
			return &o->f[i];
	return NULL;
}

static int
jvalue(struct jparse *jp, struct jfield *f)
{
	f->val = PC_STR_NULL;
	if (jp->p == jp->end)
		return jerr(jp, "expected a value");
	switch (*jp->p) {
	case '"':
		f->kind = J_STRING;
		return jstring(jp, &f->val);
	case '{': case '[':
		return jerr(jp, "nested objects and arrays are not accepted here");
	case 't':
		f->kind = J_TRUE;
		return jeat_lit(jp, "true") ? 0 : jerr(jp, "expected a value");
	case 'f':
		f->kind = J_FALSE;
		return jeat_lit(jp, "false") ? 0 : jerr(jp, "expected a value");
	case 'n':
		f->kind = J_NULL;
		return jeat_lit(jp, "null") ? 0 : jerr(jp, "expected a value");
	default:
		f->kind = J_NUMBER;
		return jnumber(jp, &f->val);
	}
}

/*
 * Parses <body> as one JSON object whose values are scalars. Decoded strings go to
 * <scratch>, which must hold body.len bytes. Duplicate keys are refused: two readers that
 * keep different duplicates is a known way to slip a value past a checker.
 */
static int
jparse_object(struct pc_str body, char *scratch, struct jobj *o)
{
	struct jparse	 jp = { body.ptr, body.ptr, scratch, o };
	struct jfield	*f;

	o->n = 0;
	o->err = NULL;
	if (body.len == 0)	/* also: no arithmetic on the NULL of an absent body */
		return jerr(&jp, "the body must be a JSON object");
	jp.end = body.ptr + body.len;
	jws(&jp);
	if (!jeat(&jp, '{'))
		return jerr(&jp, "the body must be a JSON object");
	jws(&jp);
	if (!jeat(&jp, '}')) {
		for (;;) {
			if (o->n == JSON_FIELDS_MAX)
				return jerr(&jp, "too many fields");
			f = &o->f[o->n];
			jws(&jp);
			if (jstring(&jp, &f->key) != 0)
				return -PC_EPROTO;
			if (jget(o, f->key) != NULL)
				return jerr(&jp, "duplicate key");
			jws(&jp);
			if (!jeat(&jp, ':'))
				return jerr(&jp, "expected ':' after a key");
			jws(&jp);
			if (jvalue(&jp, f) != 0)
				return -PC_EPROTO;
			o->n++;
			jws(&jp);
			if (jeat(&jp, ','))
				continue;
			if (jeat(&jp, '}'))
				break;
			return jerr(&jp, "expected ',' or '}'");
		}
	}
	jws(&jp);
	if (jp.p != jp.end)
		return jerr(&jp, "data after the JSON object");
	return 0;
}

/* ---- responses ---- */

static int
reply_error(struct pc_demo_resp *resp, int status, const char *code, const char *msg)
{
	struct jw w;

	resp->status = status;
	resp->body.len = 0;
	jw_init(&w, &resp->body);
	jw_open(&w, NULL, '{');
	jw_str(&w, "error", code);
	jw_str(&w, "message", msg);
	jw_close(&w, '}');
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
rider_json(struct jw *w, const struct rider *r)
{
	jw_open(w, NULL, '{');
	jw_str(w, "id", r->id);
	jw_str(w, "name", r->name);
	jw_str(w, "email", r->email);
	jw_uint(w, "member_since", r->member_since);
	jw_tenths(w, "rating", r->rating_x10);
	jw_close(w, '}');
}

static void
driver_json(struct jw *w, const struct driver *d)
{
	jw_open(w, NULL, '{');
	jw_str(w, "id", d->id);
	jw_str(w, "name", d->name);
	jw_open(w, "vehicle", '{');
	jw_str(w, "model", d->vehicle);
	jw_str(w, "plate", d->plate);
	jw_close(w, '}');
	jw_tenths(w, "rating", d->rating_x10);
	jw_uint(w, "completed_trips", d->trips_done);
	jw_close(w, '}');
}

static void
trip_json(struct jw *w, const struct trip *t)
{
	char amount[24];

	jw_open(w, NULL, '{');
	jw_str(w, "id", t->id);
	jw_str(w, "rider_id", t->rider_id);
	jw_str(w, "driver_id", t->driver_id);
	jw_str(w, "pickup", t->pickup);
	jw_str(w, "dropoff", t->dropoff);
	jw_str(w, "status", t->status);
	if (t->fare_cents > 0) {
		/* Money as a decimal string: binary floating point cannot hold 0.10 exactly. */
		(void)snprintf(amount, sizeof(amount), "%u.%02u", t->fare_cents / 100,
		    t->fare_cents % 100);
		jw_open(w, "fare", '{');
		jw_str(w, "amount", amount);
		jw_str(w, "currency", "EUR");
		jw_close(w, '}');
	} else {
		jw_str(w, "fare", NULL);
	}
	if (t->stars > 0) {
		jw_open(w, "rating", '{');
		jw_uint(w, "stars", t->stars);
		jw_str(w, "comment", t->comment);
		jw_close(w, '}');
	} else {
		jw_str(w, "rating", NULL);
	}
	jw_str(w, "requested_at", t->requested_at);
	jw_close(w, '}');
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
	struct jw		 w;
	uint64_t		 limit, offset, i;
	size_t			 total;

	if (list_window(query, &limit, &offset) != 0)
		return reply_error(resp, 400, "bad_query",
		    "limit must be 1 to 100 and offset a non-negative integer");
	jw_init(&w, &resp->body);
	(void)pthread_mutex_lock(&trips_lock);
	seed_locked();
	total = kind == LIST_RIDERS ? PC_NELEM(riders) :
	    kind == LIST_DRIVERS ? PC_NELEM(drivers) : ntrips;
	jw_open(&w, NULL, '{');
	jw_open(&w, names[kind], '[');
	for (i = offset; i < total && i < offset + limit; i++) {
		if (kind == LIST_RIDERS)
			rider_json(&w, &riders[i]);
		else if (kind == LIST_DRIVERS)
			driver_json(&w, &drivers[i]);
		else
			trip_json(&w, &trips[i]);
	}
	jw_close(&w, ']');
	jw_uint(&w, "total", total);
	jw_uint(&w, "limit", limit);
	jw_uint(&w, "offset", offset);
	jw_close(&w, '}');
	(void)pthread_mutex_unlock(&trips_lock);
	resp->status = 200;
	return w.err;
}

static int
reply_one(struct pc_demo_resp *resp, enum list_kind kind, struct pc_str id)
{
	struct jw	 w;
	struct trip	*t;
	size_t		 i;

	jw_init(&w, &resp->body);
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
get_text(const struct jobj *o, const char *key, bool required, size_t max, char *dst,
    char *msg, size_t msglen)
{
	const struct jfield *f = jget(o, pc_str_c(key));

	dst[0] = '\0';
	if (f == NULL && !required)
		return NULL;
	if (f == NULL || f->kind != J_STRING || f->val.len == 0 || f->val.len > max) {
		(void)snprintf(msg, msglen, "%s must be a string of 1 to %zu bytes", key, max);
		return msg;
	}
	memcpy(dst, f->val.ptr, f->val.len);
	dst[f->val.len] = '\0';
	return NULL;
}

static int
create_trip(struct pc_demo_resp *resp, const struct jobj *o)
{
	struct jw	 w;
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

	jw_init(&w, &resp->body);
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
rate_trip(struct pc_demo_resp *resp, struct pc_str id, const struct jobj *o)
{
	const struct jfield	*f = jget(o, PC_STR("stars"));
	struct jw		 w;
	struct trip		*t;
	char			 comment[COMMENT_MAX + 1], msg[96];
	const char		*why;
	uint64_t		 stars = 0;

	/* An integer literal only: 4.5 and 5e0 are refused rather than rounded. */
	if (f == NULL || f->kind != J_NUMBER || pc_parse_u64(f->val, 5, &stars) != 0 ||
	    stars == 0)
		return reply_error(resp, 400, "invalid_field",
		    "stars must be an integer from 1 to 5");
	why = get_text(o, "comment", false, COMMENT_MAX, comment, msg, sizeof(msg));
	if (why != NULL)
		return reply_error(resp, 400, "invalid_field", why);

	jw_init(&w, &resp->body);
	(void)pthread_mutex_lock(&trips_lock);
	seed_locked();
	t = trip_find_locked(id);
	if (t != NULL && strcmp(t->status, "completed") == 0) {
		t->stars = (unsigned)stars;
		memcpy(t->comment, comment, sizeof(comment));
		jw_open(&w, NULL, '{');
		jw_str(&w, "trip_id", t->id);
		jw_uint(&w, "stars", t->stars);
		jw_str(&w, "comment", t->comment);
		jw_close(&w, '}');
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
    int (*fn)(struct pc_demo_resp *, struct pc_str, const struct jobj *))
{
	struct jobj	 o;
	char		*scratch;
	int		 rc;

	scratch = malloc(body.len + 1);
	if (scratch == NULL)
		return -PC_ENOMEM;
	if (jparse_object(body, scratch, &o) != 0)
		rc = reply_error(resp, 400, "invalid_json", o.err);
	else
		rc = fn(resp, id, &o);
	free(scratch);
	return rc;
}

static int
create_trip_cb(struct pc_demo_resp *resp, struct pc_str id, const struct jobj *o)
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
