/*
 * observe/metrics.c - Prometheus counters and their text exposition (format 0.0.4).
 * Owns: every counter, the bounded (name, code) series tables, label escaping.
 * Does not: lock or allocate on the record side, grow without bound, or trust a name to be
 *     a valid label value (names are escaped and non-UTF-8 bytes replaced).
 *
 * Recording is lock-free: a series slot is claimed once with a compare-and-swap and then
 * only counted into with relaxed atomic adds. Slots are never freed, so a reader holding a
 * slot pointer can never see it change meaning. A full table counts into per-code "other"
 * counters (route="__other__") instead of failing.
 */
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "observe/observe_int.h"
#include "core/banned.h"

#define NAME_MAX_BYTES	120	/* longer route / upstream names are truncated in labels */
#define REQ_SLOTS	1024	/* powers of two */
#define UPS_SLOTS	256
#define PROBE_MAX	128	/* bounded probing: a crowded table degrades to "other", fast */
#define STATUS_MAX	999	/* statuses outside 0..999 are counted as 0 */
#define OTHER_NAME	"__other__"

enum { SLOT_EMPTY, SLOT_BUSY, SLOT_READY };

struct series {
	uint32_t	 state;		/* atomic: SLOT_* */
	uint32_t	 code;		/* status or enum pc_reason; written before READY */
	uint32_t	 name_len;
	char		 name[NAME_MAX_BYTES];
	uint64_t	 count;		/* atomic, relaxed */
};

struct table {
	struct series	*slots;
	unsigned	 nslots;
	uint64_t	*other;		/* atomic; per code, when no slot was free */
	unsigned	 ncodes;
};

static struct series	req_slots[REQ_SLOTS];
static uint64_t		req_other[STATUS_MAX + 1];
static struct table	req_table = { req_slots, REQ_SLOTS, req_other, STATUS_MAX + 1 };

static struct series	ups_slots[UPS_SLOTS];
static uint64_t		ups_other[PC_R_COUNT];
static struct table	ups_table = { ups_slots, UPS_SLOTS, ups_other, PC_R_COUNT };

/* Upper bounds in microseconds; the last bucket (index NBUCKETS) is +Inf. */
static const struct {
	uint64_t	 us;
	const char	*le;
} buckets[] = {
	{ 500, "0.0005" }, { 1000, "0.001" }, { 2500, "0.0025" }, { 5000, "0.005" },
	{ 10000, "0.01" }, { 25000, "0.025" }, { 50000, "0.05" }, { 100000, "0.1" },
	{ 250000, "0.25" }, { 500000, "0.5" }, { 1000000, "1" }, { 2500000, "2.5" },
	{ 5000000, "5" }, { 10000000, "10" },
};
#define NBUCKETS	PC_NELEM(buckets)

static uint64_t		dur_bucket[NBUCKETS + 1];	/* not cumulative; summed at render */
static uint64_t		dur_sum_us;
static int64_t		conns_open;
static uint64_t		rejections[PC_R_COUNT];
static uint64_t		would_denies[PC_R_COUNT];
static uint64_t		auth_counts[3];	/* enum pc_metric_auth */

/* FNV-1a over the name, then the code mixed in. */
static uint32_t
series_hash(struct pc_str name, uint32_t code)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < name.len; i++) {
		h ^= (uint8_t)name.ptr[i];
		h *= 16777619u;
	}
	h ^= code * 0x9e3779b9u;
	h ^= h >> 15;
	return h;
}

static bool
series_is(const struct series *s, struct pc_str name, uint32_t code)
{
	return s->code == code && s->name_len == name.len &&
	    (name.len == 0 || memcmp(s->name, name.ptr, name.len) == 0);
}

/* Returns the slot for (<name>, <code>), claiming one if needed; NULL if none is free. */
static struct series *
series_get(struct table *t, struct pc_str name, uint32_t code)
{
	uint32_t	 h, st, expect;
	unsigned	 probe, spins;
	struct series	*s;

	if (name.len > NAME_MAX_BYTES)
		name.len = NAME_MAX_BYTES;
	h = series_hash(name, code);
	for (probe = 0; probe < PROBE_MAX && probe < t->nslots; probe++) {
		s = &t->slots[(h + probe) & (t->nslots - 1)];
		st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		if (st == SLOT_EMPTY) {
			expect = SLOT_EMPTY;
			if (__atomic_compare_exchange_n(&s->state, &expect, SLOT_BUSY, false,
			    __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
				s->code = code;
				s->name_len = (uint32_t)name.len;
				if (name.len > 0)
					memcpy(s->name, name.ptr, name.len);
				__atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
				return s;
			}
			st = expect;
		}
		/* Another thread is writing this slot's key: a few stores, so wait for it. */
		for (spins = 0; st == SLOT_BUSY; spins++) {
			if (spins > 64)
				(void)sched_yield();
			st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		}
		if (series_is(s, name, code))
			return s;
	}
	return NULL;
}

static void
series_add(struct table *t, struct pc_str name, uint32_t code)
{
	struct series *s = series_get(t, name, code);

	if (s != NULL)
		__atomic_add_fetch(&s->count, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&t->other[code < t->ncodes ? code : 0], 1, __ATOMIC_RELAXED);
}

void
pc_metrics_request(struct pc_str route, int status, uint64_t total_us)
{
	size_t i;

	series_add(&req_table, route, status >= 0 && status <= STATUS_MAX ? (uint32_t)status : 0);
	for (i = 0; i < NBUCKETS && total_us > buckets[i].us; i++)
		;
	__atomic_add_fetch(&dur_bucket[i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&dur_sum_us, total_us, __ATOMIC_RELAXED);
}

void
pc_metrics_reject(enum pc_reason reason)
{
	if ((unsigned)reason >= PC_R_COUNT)
		reason = PC_R_INTERNAL;
	__atomic_add_fetch(&rejections[reason], 1, __ATOMIC_RELAXED);
}

void
pc_observe__count_would_deny(enum pc_reason reason)
{
	if ((unsigned)reason >= PC_R_COUNT)
		reason = PC_R_INTERNAL;
	__atomic_add_fetch(&would_denies[reason], 1, __ATOMIC_RELAXED);
}

void
pc_metrics_auth(enum pc_metric_auth what)
{
	if ((unsigned)what < PC_NELEM(auth_counts))
		__atomic_add_fetch(&auth_counts[what], 1, __ATOMIC_RELAXED);
}

void
pc_metrics_conn(int delta)
{
	__atomic_add_fetch(&conns_open, (int64_t)delta, __ATOMIC_RELAXED);
}

void
pc_metrics_upstream_error(struct pc_str upstream, enum pc_reason reason)
{
	if ((unsigned)reason >= PC_R_COUNT)
		reason = PC_R_INTERNAL;
	series_add(&ups_table, upstream, (uint32_t)reason);
}

/* ---- rendering ---- */

/* Length of the valid UTF-8 sequence at <p> (RFC 3629: no overlongs, surrogates, > U+10FFFF),
 * or 0. */
static size_t
utf8_len(const uint8_t *p, size_t n)
{
	size_t		len, i;
	uint32_t	cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07u;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0u) != 0x80u)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Appends <s> as a label value: '\\', '"' and newline escaped as the exposition format
 * says; other control bytes and invalid UTF-8 become '?', so a scraper never chokes.
 */
static int
add_label_value(struct pc_buf *b, struct pc_str s)
{
	const uint8_t	*p = (const uint8_t *)s.ptr;
	size_t		 i = 0, n;
	int		 rc = 0;

	while (i < s.len && rc == 0) {
		n = utf8_len(p + i, s.len - i);
		if (n == 1 && p[i] == '\\')
			rc = pc_buf_add(b, "\\\\", 2);
		else if (n == 1 && p[i] == '"')
			rc = pc_buf_add(b, "\\\"", 2);
		else if (n == 1 && p[i] == '\n')
			rc = pc_buf_add(b, "\\n", 2);
		else if (n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7f)))
			rc = pc_buf_addc(b, '?');
		else
			rc = pc_buf_add(b, p + i, n);
		i += n == 0 ? 1 : n;
	}
	return rc;
}

static int
add_header(struct pc_buf *b, const char *name, const char *type, const char *help)
{
	return pc_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
series_cmp(const void *a, const void *b)
{
	const struct series	*x = *(const struct series *const *)a;
	const struct series	*y = *(const struct series *const *)b;
	size_t			 n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int			 c = memcmp(x->name, y->name, n);

	if (c != 0)
		return c;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return x->code < y->code ? -1 : x->code > y->code;
}

/*
 * Renders every ready series of <t> sorted by (name, code), then the non-zero "other"
 * counters, as <metric>{<k1>="name",<k2>="code"} count. <code_name> turns a code into its
 * label text.
 */
static int
render_table(struct pc_buf *b, const struct table *t, const char *metric, const char *k1,
    const char *k2, void (*code_name)(uint32_t code, char *out, size_t n))
{
	struct series	**v;
	unsigned	  i, nv = 0;
	char		  code[48];
	uint64_t	  cnt;
	int		  rc = 0;

	v = calloc(t->nslots, sizeof(*v));
	if (v == NULL)
		return -PC_ENOMEM;
	for (i = 0; i < t->nslots; i++)
		if (__atomic_load_n(&t->slots[i].state, __ATOMIC_ACQUIRE) == SLOT_READY)
			v[nv++] = &t->slots[i];
	qsort(v, nv, sizeof(*v), series_cmp);
	for (i = 0; i < nv && rc == 0; i++) {
		code_name(v[i]->code, code, sizeof(code));
		rc = pc_buf_printf(b, "%s{%s=\"", metric, k1);
		if (rc == 0)
			rc = add_label_value(b, pc_str_make(v[i]->name, v[i]->name_len));
		if (rc == 0)
			rc = pc_buf_printf(b, "\",%s=\"%s\"} %" PRIu64 "\n", k2, code,
			    __atomic_load_n(&v[i]->count, __ATOMIC_RELAXED));
	}
	for (i = 0; i < t->ncodes && rc == 0; i++) {
		cnt = __atomic_load_n(&t->other[i], __ATOMIC_RELAXED);
		if (cnt == 0)
			continue;
		code_name(i, code, sizeof(code));
		rc = pc_buf_printf(b, "%s{%s=\"" OTHER_NAME "\",%s=\"%s\"} %" PRIu64 "\n", metric,
		    k1, k2, code, cnt);
	}
	free(v);
	return rc;
}

static void
status_name(uint32_t code, char *out, size_t n)
{
	(void)snprintf(out, n, "%u", code);
}

static void
reason_name(uint32_t code, char *out, size_t n)
{
	(void)snprintf(out, n, "%s", pc_reason_name((enum pc_reason)code));
}

static int
render_reasons(struct pc_buf *b, const char *metric, const uint64_t *counts)
{
	unsigned	i;
	int		rc = 0;

	/* Every reason, zeros included: a fixed set, and rate() needs the series to exist
	 * before the first attack, not from it on. */
	for (i = 1; i < PC_R_COUNT && rc == 0; i++)
		rc = pc_buf_printf(b, "%s{reason=\"%s\"} %" PRIu64 "\n", metric,
		    pc_reason_name((enum pc_reason)i), __atomic_load_n(&counts[i], __ATOMIC_RELAXED));
	return rc;
}

static int
render_duration(struct pc_buf *b)
{
	const char	*m = "portcullis_request_duration_seconds";
	uint64_t	 cum = 0, sum;
	size_t		 i;
	int		 rc;

	rc = add_header(b, m, "histogram", "Time from accepting a request to its last response "
	    "byte.");
	for (i = 0; i <= NBUCKETS && rc == 0; i++) {
		cum += __atomic_load_n(&dur_bucket[i], __ATOMIC_RELAXED);
		rc = pc_buf_printf(b, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", m,
		    i < NBUCKETS ? buckets[i].le : "+Inf", cum);
	}
	sum = __atomic_load_n(&dur_sum_us, __ATOMIC_RELAXED);
	/* _count is the +Inf bucket, read once, so the two can never disagree. */
	if (rc == 0)
		rc = pc_buf_printf(b, "%s_sum %" PRIu64 ".%06u\n%s_count %" PRIu64 "\n", m,
		    sum / 1000000, (unsigned)(sum % 1000000), m, cum);
	return rc;
}

static int
render_auth(struct pc_buf *b)
{
	static const struct {
		const char	*name, *help;
	} m[] = {
		{ "portcullis_auth_failures_total", "Failed authentications counted against a "
		    "client address (and the identity they claimed)." },
		{ "portcullis_auth_lockouts_total", "Client addresses locked out after too many "
		    "failed authentications." },
		{ "portcullis_auth_delayed_total", "Failed authentications answered after a delay." },
	};
	size_t	i;
	int	rc = 0;

	for (i = 0; i < PC_NELEM(m) && rc == 0; i++) {
		rc = add_header(b, m[i].name, "counter", m[i].help);
		if (rc == 0)
			rc = pc_buf_printf(b, "%s %" PRIu64 "\n", m[i].name,
			    __atomic_load_n(&auth_counts[i], __ATOMIC_RELAXED));
	}
	return rc;
}

int
pc_metrics_render(struct pc_buf *out)
{
	size_t	mark = out->len;
	int	rc;

	rc = add_header(out, "portcullis_build_info", "gauge", "Build information.");
	if (rc == 0)
		rc = pc_buf_printf(out, "portcullis_build_info{version=\"%s\"} 1\n", PC_VERSION);
	if (rc == 0)
		rc = add_header(out, "portcullis_requests_total", "counter",
		    "Requests answered, by route and status.");
	if (rc == 0)
		rc = render_table(out, &req_table, "portcullis_requests_total", "route", "status",
		    status_name);
	if (rc == 0)
		rc = render_duration(out);
	if (rc == 0)
		rc = add_header(out, "portcullis_connections_open", "gauge",
		    "Client connections currently open.");
	if (rc == 0)
		rc = pc_buf_printf(out, "portcullis_connections_open %" PRId64 "\n",
		    __atomic_load_n(&conns_open, __ATOMIC_RELAXED));
	if (rc == 0)
		rc = add_header(out, "portcullis_upstream_errors_total", "counter",
		    "Failed upstream exchanges, by upstream target and reason.");
	if (rc == 0)
		rc = render_table(out, &ups_table, "portcullis_upstream_errors_total", "upstream",
		    "reason", reason_name);
	if (rc == 0)
		rc = add_header(out, "portcullis_rejections_total", "counter",
		    "Requests denied, by reason.");
	if (rc == 0)
		rc = render_reasons(out, "portcullis_rejections_total", rejections);
	if (rc == 0)
		rc = add_header(out, "portcullis_would_deny_total", "counter",
		    "Requests a report-only phase would have denied, by reason.");
	if (rc == 0)
		rc = render_reasons(out, "portcullis_would_deny_total", would_denies);
	if (rc == 0)
		rc = render_auth(out);
	if (rc == 0)
		rc = add_header(out, "portcullis_log_lines_dropped_total", "counter",
		    "Log lines lost to a full pipe or a write error.");
	if (rc == 0)
		rc = pc_buf_printf(out, "portcullis_log_lines_dropped_total{log=\"access\"} %"
		    PRIu64 "\nportcullis_log_lines_dropped_total{log=\"events\"} %" PRIu64 "\n",
		    pc_observe__log_dropped(0), pc_observe__log_dropped(1));
	if (rc != 0)
		out->len = mark;
	return rc;
}
