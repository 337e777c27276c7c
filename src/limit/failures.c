/*
 * limit/failures.c - failed-authentication counters shared by every worker thread
 * (docs/decisions/0013-failed-logins.md).
 * Owns: the table and its memory bound, the hash key, the window arithmetic, the delay and
 *     lockout rules.
 * Does not: know about requests, routes or answers (pipeline/guard.c does), or read a
 *     clock (callers pass <now_ms>, so every rule is a pure function of its inputs).
 *
 * 64 shards, each a mutex and a fixed open-addressed array: workers that fail on different
 * keys rarely meet on one lock, and nothing is allocated after start. A key is the SipHash
 * of (kind, bytes) under a per-process random key, so a client cannot choose addresses or
 * identities that pile into one probe window to evict someone else's count.
 *
 * Counting is the two-window approximation of a sliding window: the current fixed window's
 * count plus the previous window's, weighted by how much of it still overlaps the sliding
 * window. Two integers per key, no timestamps per failure, exact when failures are evenly
 * spread and never off by more than the previous window's share; everything is forgotten
 * two windows after the last failure. (A decaying count needs a float and an exponential,
 * and "N failures in 60 s" no longer means what an operator reads.)
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "limit/limit.h"
#include "core/banned.h"

#define PER_SHARD_MIN	16u
#define PER_SHARD_MAX	(1u << 20)

enum key_kind { KIND_IP4 = 1, KIND_IP6 = 2, KIND_IP_TEXT = 3, KIND_ID = 4 };

/* PC_FAILURES_ENTRY_BYTES each; key 0 is an empty slot. */
struct entry {
	uint64_t	 key;
	uint64_t	 win_start_ms;	/* start of the current fixed window */
	uint64_t	 locked_until_ms;	/* addresses only; 0: never locked */
	uint32_t	 cur, prev;	/* failures in the current and the previous window */
};

/*
 * Two summaries are read without the lock (atomics), so the common case costs no lock:
 * every request to an authenticating route asks "locked out?" and every success "any
 * failures to forget?", and without failures the answer is no for the whole shard.
 */
struct shard {
	_Alignas(64) pthread_mutex_t mu;	/* its own cache line: no false sharing */
	struct entry	*e;
	uint32_t	 mask;
	uint64_t	 lock_max_ms;	/* atomic: no lockout in this shard ends later */
	uint64_t	 id_fail_ms;	/* atomic: the last identity failure counted here */
};

struct pc_failures {
	struct shard	 shards[PC_FAILURES_SHARDS];
	uint64_t	 k0, k1;	/* SipHash key, random per process */
	uint32_t	 per_shard;
};

/* ---- SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed PRF over short inputs ---- */

#define ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND(v0, v1, v2, v3) do {						\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);		\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;					\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;					\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);		\
} while (0)

static uint64_t
le64(const uint8_t *p)
{
	uint64_t	v = 0;
	unsigned	i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t
siphash24(uint64_t k0, uint64_t k1, const uint8_t *p, size_t n)
{
	uint64_t	v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t	v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	uint64_t	m, b = (uint64_t)n << 56;
	size_t		i, left = n & 7;

	for (i = 0; i + 8 <= n; i += 8) {
		m = le64(p + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (i = 0; i < left; i++)
		b |= (uint64_t)p[n - left + i] << (8 * i);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The kind goes into the key, not the input: an identity whose bytes equal an address's
 * is another key all the same. Never 0 (the empty slot). */
static uint64_t
key_hash(const struct pc_failures *t, enum key_kind kind, const void *p, size_t n)
{
	uint64_t h = siphash24(t->k0, t->k1 ^ ((uint64_t)kind * 0x9e3779b97f4a7c15ull), p, n);

	return h == 0 ? 1 : h;
}

/*
 * An address is counted by its bytes, not its spelling ("::1" and "0::1" are one client),
 * an IPv4-mapped IPv6 address as its IPv4 address, and IPv6 per /64: one subscriber usually
 * gets a whole /64 and could otherwise start afresh from each of its 2^64 addresses.
 */
static uint64_t
ip_key(const struct pc_failures *t, struct pc_str ip)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char			 text[64];
	uint8_t			 a[16];

	if (ip.len > 0 && ip.len < sizeof(text)) {
		memcpy(text, ip.ptr, ip.len);
		text[ip.len] = '\0';
		if (inet_pton(AF_INET, text, a) == 1)
			return key_hash(t, KIND_IP4, a, 4);
		if (inet_pton(AF_INET6, text, a) == 1) {
			if (memcmp(a, mapped, sizeof(mapped)) == 0)
				return key_hash(t, KIND_IP4, a + 12, 4);
			return key_hash(t, KIND_IP6, a, 8);
		}
	}
	return key_hash(t, KIND_IP_TEXT, ip.ptr, ip.len);
}

static struct shard *
shard_of(struct pc_failures *t, uint64_t key)
{
	return &t->shards[key >> 58];	/* the top 6 bits: PC_FAILURES_SHARDS == 64 */
}

/* ---- windows ---- */

static uint64_t
window_ms(const struct pc_failures_conf *c)
{
	return c->window_s == 0 ? 1000 : (uint64_t)c->window_s * 1000;
}

/* Moves <e> to the fixed window holding <now>. A reload may change the window length, so
 * "adjacent" means less than two windows apart rather than exactly one. */
static void
roll(struct entry *e, uint64_t w, uint64_t now)
{
	uint64_t start = now - now % w;

	if (start <= e->win_start_ms)
		return;	/* same window (or a shorter one after a reload): keep counting */
	e->prev = start - e->win_start_ms < 2 * w ? e->cur : 0;
	e->cur = 0;
	e->win_start_ms = start;
}

/* The sliding-window estimate at <now>: cur + prev * (the part of the previous window
 * still inside the last <w> ms). */
static uint32_t
estimate(const struct entry *e, uint64_t w, uint64_t now)
{
	uint64_t	elapsed, n;

	if (now < e->win_start_ms)
		return e->cur;
	elapsed = now - e->win_start_ms;
	if (elapsed >= 2 * w)
		return 0;
	/* Not rolled yet: its current window is already the previous one. */
	if (elapsed >= w)
		return (uint32_t)((uint64_t)e->cur * (2 * w - elapsed) / w);
	n = e->cur + (uint64_t)e->prev * (w - elapsed) / w;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static bool
is_locked(const struct entry *e, uint64_t now)
{
	return e->locked_until_ms > now;
}

/* ---- the table ---- */

static struct entry *
lookup(struct shard *s, uint64_t key)
{
	uint32_t i, idx = (uint32_t)key & s->mask;

	for (i = 0; i < PC_FAILURES_PROBE; i++) {
		struct entry *e = &s->e[(idx + i) & s->mask];

		if (e->key == key)
			return e;
	}
	return NULL;
}

/*
 * Finds <key> or takes a slot for it in its probe window: an empty or forgotten one, else
 * the least useful: the unlocked entry with the fewest failures (the oldest on a tie), or,
 * when every one is locked, the lock that ends first. Evicting is the price of a bounded
 * table; the hash key makes aiming an eviction at someone a guess.
 */
static struct entry *
get(struct shard *s, uint64_t key, uint64_t w, uint64_t now)
{
	struct entry	*e, *victim = NULL;
	uint32_t	 i, idx = (uint32_t)key & s->mask, n, best = 0;

	if ((e = lookup(s, key)) != NULL)
		return e;
	for (i = 0; i < PC_FAILURES_PROBE; i++) {
		e = &s->e[(idx + i) & s->mask];
		if (e->key == 0 || (!is_locked(e, now) && estimate(e, w, now) == 0)) {
			victim = e;
			break;
		}
		if (is_locked(e, now)) {
			if (victim == NULL || (is_locked(victim, now) &&
			    e->locked_until_ms < victim->locked_until_ms))
				victim = e;
			continue;
		}
		n = estimate(e, w, now);
		if (victim == NULL || is_locked(victim, now) || n < best ||
		    (n == best && e->win_start_ms < victim->win_start_ms)) {
			victim = e;
			best = n;
		}
	}
	PC_ASSERT(victim != NULL);	/* the window has PC_FAILURES_PROBE > 0 slots */
	memset(victim, 0, sizeof(*victim));
	victim->key = key;
	victim->win_start_ms = now - now % w;
	return victim;
}

struct pc_failures *
pc_failures_new(uint32_t entries)
{
	struct pc_failures	*t;
	uint32_t		 per = PER_SHARD_MIN, want;
	unsigned		 i;

	want = entries / PC_FAILURES_SHARDS + (entries % PC_FAILURES_SHARDS != 0);
	while (per < want && per < PER_SHARD_MAX)
		per <<= 1;
	t = aligned_alloc(64, sizeof(*t));
	if (t == NULL)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->per_shard = per;
	if (pc_random_bytes(&t->k0, sizeof(t->k0)) != 0 ||
	    pc_random_bytes(&t->k1, sizeof(t->k1)) != 0) {
		free(t);
		return NULL;
	}
	for (i = 0; i < PC_FAILURES_SHARDS; i++) {
		struct shard *s = &t->shards[i];

		s->e = calloc(per, sizeof(*s->e));
		if (s->e == NULL || pthread_mutex_init(&s->mu, NULL) != 0) {
			free(s->e);
			s->e = NULL;
			break;
		}
		s->mask = per - 1;
	}
	if (i < PC_FAILURES_SHARDS) {
		while (i-- > 0) {
			(void)pthread_mutex_destroy(&t->shards[i].mu);
			free(t->shards[i].e);
		}
		free(t);
		return NULL;
	}
	return t;
}

void
pc_failures_free(struct pc_failures *t)
{
	unsigned i;

	if (t == NULL)
		return;
	for (i = 0; i < PC_FAILURES_SHARDS; i++) {
		(void)pthread_mutex_destroy(&t->shards[i].mu);
		free(t->shards[i].e);
	}
	free(t);
}

size_t
pc_failures_bytes(const struct pc_failures *t)
{
	return sizeof(*t) + (size_t)PC_FAILURES_SHARDS * t->per_shard * sizeof(struct entry);
}

uint32_t
pc_failures_delay(const struct pc_failures_conf *c, uint32_t n)
{
	uint32_t	steps;
	uint64_t	d;

	if (n <= c->delay_after || c->delay_ms == 0)
		return 0;
	steps = n - c->delay_after - 1;
	/* Doubling past 2^32 ms says nothing the cap does not. */
	if (steps >= 32)
		return c->max_delay_ms;
	d = (uint64_t)c->delay_ms << steps;
	return d > c->max_delay_ms ? c->max_delay_ms : (uint32_t)d;
}

uint64_t
pc_failures_check(struct pc_failures *t, struct pc_str ip, uint64_t now_ms)
{
	uint64_t	 key = ip_key(t, ip), until = 0;
	struct shard	*s = shard_of(t, key);
	struct entry	*e;

	if (__atomic_load_n(&s->lock_max_ms, __ATOMIC_ACQUIRE) <= now_ms)
		return 0;
	pthread_mutex_lock(&s->mu);
	e = lookup(s, key);
	if (e != NULL && is_locked(e, now_ms))
		until = e->locked_until_ms;
	pthread_mutex_unlock(&s->mu);
	return until;
}

/* One failure for <key>; returns the estimate with it. Addresses may start a lockout. */
static uint32_t
count_one(struct pc_failures *t, const struct pc_failures_conf *c, uint64_t key, bool is_ip,
    uint64_t now, struct pc_failures_result *res)
{
	struct shard	*s = shard_of(t, key);
	struct entry	*e;
	uint64_t	 w = window_ms(c);
	uint32_t	 n;

	pthread_mutex_lock(&s->mu);
	e = get(s, key, w, now);
	roll(e, w, now);
	if (e->cur < UINT32_MAX)
		e->cur++;
	n = estimate(e, w, now);
	if (is_ip) {
		/* Locked already: the count goes on, the lockout is not extended (a client
		 * cannot be kept out forever by failures someone else provokes in its name). */
		if (!is_locked(e, now) && c->lockout_after > 0 && n >= c->lockout_after) {
			e->locked_until_ms = now + (uint64_t)c->lockout_s * 1000;
			res->lockout_started = true;
			if (e->locked_until_ms > __atomic_load_n(&s->lock_max_ms, __ATOMIC_RELAXED))
				__atomic_store_n(&s->lock_max_ms, e->locked_until_ms,
				    __ATOMIC_RELEASE);
		}
		if (is_locked(e, now))
			res->locked_until_ms = e->locked_until_ms;
	} else if (now > __atomic_load_n(&s->id_fail_ms, __ATOMIC_RELAXED)) {
		__atomic_store_n(&s->id_fail_ms, now, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

uint32_t
pc_failures_record(struct pc_failures *t, const struct pc_failures_conf *c, struct pc_str ip,
    struct pc_str claimed_id, uint64_t now_ms, struct pc_failures_result *res)
{
	struct pc_failures_result	 r;
	uint32_t			 d_ip, d_id = 0;

	memset(&r, 0, sizeof(r));
	/* One lock at a time: two keys never wait on each other, so no lock order to keep. */
	r.ip_count = count_one(t, c, ip_key(t, ip), true, now_ms, &r);
	d_ip = pc_failures_delay(c, r.ip_count);
	if (claimed_id.len > 0) {
		r.id_count = count_one(t, c, key_hash(t, KIND_ID, claimed_id.ptr, claimed_id.len),
		    false, now_ms, &r);
		d_id = pc_failures_delay(c, r.id_count);
	}
	r.delay_ms = d_ip > d_id ? d_ip : d_id;
	if (res != NULL)
		*res = r;
	return r.delay_ms;
}

void
pc_failures_success(struct pc_failures *t, const struct pc_failures_conf *c,
    struct pc_str id, uint64_t now_ms)
{
	uint64_t	 key, last;
	struct shard	*s;
	struct entry	*e;

	if (id.len == 0)
		return;
	key = key_hash(t, KIND_ID, id.ptr, id.len);
	s = shard_of(t, key);
	/* Two windows after the shard's last identity failure every identity count in it
	 * is 0 (a longer window after a reload only leaves a count unforgotten: harmless). */
	last = __atomic_load_n(&s->id_fail_ms, __ATOMIC_ACQUIRE);
	if (last == 0 || now_ms >= last + 2 * window_ms(c))
		return;
	pthread_mutex_lock(&s->mu);
	e = lookup(s, key);
	if (e != NULL)
		e->cur = e->prev = 0;
	pthread_mutex_unlock(&s->mu);
}

uint32_t
pc_failures_count(struct pc_failures *t, const struct pc_failures_conf *c, bool is_ip,
    struct pc_str key, uint64_t now_ms)
{
	uint64_t	 k = is_ip ? ip_key(t, key) : key_hash(t, KIND_ID, key.ptr, key.len);
	struct shard	*s = shard_of(t, k);
	struct entry	*e;
	uint32_t	 n = 0;

	pthread_mutex_lock(&s->mu);
	e = lookup(s, k);
	if (e != NULL)
		n = estimate(e, window_ms(c), now_ms);
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Set once by the main thread before any worker starts, read by workers afterwards (the
 * thread creation orders the two); an atomic all the same, so TSan has nothing to say. */
static struct pc_failures *process_table;

void
pc_failures_set_process(struct pc_failures *t)
{
	__atomic_store_n(&process_table, t, __ATOMIC_RELEASE);
}

struct pc_failures *
pc_failures_process(void)
{
	return __atomic_load_n(&process_table, __ATOMIC_ACQUIRE);
}
