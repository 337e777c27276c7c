/*
 * auth/introspect.c - opaque access tokens through OAuth 2.0 Token Introspection (RFC
 * 7662): one call per token to the issuer's endpoint, off the workers (fetch/), its result
 * kept in a process-wide cache, and the rules an answer must meet to make a principal.
 * Owns: the cache (states pending / active / inactive / failed, bounded, LRU within a set),
 * the call (form body, client_secret_basic), the bound on calls in flight, and the
 * response rules. Does not: read requests or park them (pipeline/authn.c does, on
 * -PC_EAGAIN), or keep a token: entries are keyed by its SHA-256, the POST body is wiped.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt_int.h"
#include "fetch/fetch.h"
#include "core/banned.h"

#define SETS		1024u	/* power of two */
#define WAYS		4u	/* entries per set: 4096 in all, about 0.5 MiB without bodies */
#define STRIPES		64u	/* mutexes; set i uses stripe i % STRIPES */
#define FAILED_HOLD_MS	2000u	/* a failure is reused this long: enough for its waiters,
				 * short enough that a recovered endpoint is asked again */
#define INACTIVE_MAX_S	60u	/* garbage replayed costs one call per minute at most */
#define DELIVER_MS	1000u	/* any result outlives its call this long, so the requests
				 * that waited for it find it when they run again */
#define WAIT_SLACK_MS	250u	/* waiters wait a little past the call's own timeout, so the
				 * call's failure, not their timer, usually answers them */

enum state { E_FREE, E_PENDING, E_ACTIVE, E_INACTIVE, E_FAILED };

struct entry {
	uint8_t		 key[32];	/* SHA-256 of the token */
	uint8_t		 tag[32];	/* struct pc_introspect's tag: whose answer */
	enum state	 state;
	uint64_t	 until_ms;	/* wall clock: not used at or after it (never past exp) */
	uint64_t	 deadline_ms;	/* pending: monotonic; past it the call is presumed lost */
	uint64_t	 used;		/* LRU tick */
	uint64_t	 gen;		/* pending: the call that will fill it */
	char		*body;		/* active: the response, NUL-terminated, owned */
	size_t		 len;
};

/* One call in flight: what its completion needs, nothing of the configuration (which a
 * reload may free meanwhile) and nothing secret. */
struct call {
	uint8_t		 key[32], tag[32];
	uint64_t	 gen;
	uint32_t	 cache_s;
};

static struct entry	 table[SETS][WAYS];
static pthread_mutex_t	 stripes[STRIPES] = { [0 ... STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER };
static uint32_t		 inflight;	/* __atomic */
static uint64_t		 gens;		/* __atomic */
static uint64_t		 ticks;		/* __atomic */
static uint64_t		 seed;		/* set index key: random, so a set cannot be aimed at */
static pthread_once_t	 seed_once = PTHREAD_ONCE_INIT;

/* Seams for the unit tests (which include this file): the transport and the clocks. */
static int		(*submit_fn)(const struct pc_fetch_req *) = pc_fetch_submit;
static uint64_t		(*mono_ms)(void) = pc_now_ms;

static uint64_t
real_wall_ms(void)
{
	return pc_wall_us() / 1000u;
}
static uint64_t		(*wall_ms)(void) = real_wall_ms;

static void
seed_init(void)
{
	/* Without randomness the sets are merely predictable: still bounded and correct. */
	if (pc_random_bytes(&seed, sizeof(seed)) != 0)
		seed = 0x9e3779b97f4a7c15u;
}

static unsigned
set_of(const uint8_t key[32], const uint8_t tag[32])
{
	uint64_t k = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		k = (k << 8) | (uint64_t)(key[i] ^ tag[i]);
	k ^= seed;
	k *= 0xff51afd7ed558ccdu;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53u;
	k ^= k >> 33;
	return (unsigned)(k & (SETS - 1));
}

static bool
entry_is(const struct entry *e, const uint8_t key[32], const uint8_t tag[32])
{
	return e->state != E_FREE && memcmp(e->key, key, 32) == 0 &&
	    memcmp(e->tag, tag, 32) == 0;
}

/* Usable now? A pending entry is, until its call is presumed lost. */
static bool
entry_live(const struct entry *e, uint64_t wall, uint64_t mono)
{
	if (e->state == E_PENDING)
		return mono < e->deadline_ms + FAILED_HOLD_MS;
	return e->state != E_FREE && wall < e->until_ms;
}

static void
entry_clear(struct entry *e)
{
	free(e->body);
	memset(e, 0, sizeof(*e));
}

/*
 * The way of <set> for <key>/<tag>: its entry if there is one, else the one to replace
 * (free, then dead, then least recently used that is not a live pending call). NULL: every
 * way holds a call in flight. Called with the set's stripe held.
 */
static struct entry *
way_for(struct entry *set, const uint8_t key[32], const uint8_t tag[32], uint64_t wall,
    uint64_t mono, bool *found)
{
	struct entry	*victim = NULL;
	unsigned	 i;

	*found = false;
	for (i = 0; i < WAYS; i++)
		if (entry_is(&set[i], key, tag)) {
			*found = true;
			return &set[i];
		}
	for (i = 0; i < WAYS; i++) {
		struct entry *e = &set[i];

		if (e->state == E_FREE || !entry_live(e, wall, mono))
			return e;
		if (e->state == E_PENDING)
			continue;
		if (victim == NULL || e->used < victim->used)
			victim = e;
	}
	return victim;
}

bool
pc_token_is_jws(struct pc_str tok)
{
	size_t	i, dots = 0;

	for (i = 0; i < tok.len; i++) {
		char c = tok.ptr[i];

		if (c == '.')
			dots++;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return dots == 2;
}

/* ---- the rules of an answer ---- */

/* RFC 7662 2.2: only the JSON literal true is active; "true", 1 or absence is not. */
static bool
is_active(const json_t *o)
{
	return json_is_true(json_object_get(o, "active"));
}

static enum pc_reason
check_answer(const struct pc_jwt_tok *t, int64_t now, const char **d)
{
	const json_t	*v;
	int64_t		 exp = 0, nbf = 0, leeway = t->is->leeway_s;
	bool		 has;
	enum pc_reason	 r;

	if (!is_active(t->jp)) {
		*d = "token is not active";
		return PC_R_AUTH_INACTIVE;
	}
	v = json_object_get(t->jp, "iss");
	if (v != NULL && !(json_is_string(v) && pc_str_eq(pc_str_make(json_string_value(v),
	    json_string_length(v)), pc_str_c(t->is->iss)))) {
		*d = "introspection iss is another issuer";
		return PC_R_AUTH_ISSUER;
	}
	if ((r = pc_jwt__aud(t, d)) != PC_R_NONE)
		return r;
	/* The endpoint decides activity on its clock; exp and nbf still bound what we accept,
	 * with the same leeway as for JWTs. */
	if ((r = pc_jwt__time(t->jp, "exp", false, &exp, &has, d)) != PC_R_NONE)
		return r;
	if (has && !(now < exp + leeway)) {
		*d = "exp is past";
		return PC_R_AUTH_EXPIRED;
	}
	if ((r = pc_jwt__time(t->jp, "nbf", true, &nbf, &has, d)) != PC_R_NONE)
		return r;
	if (has && nbf > now + leeway) {
		*d = "nbf is in the future";
		return PC_R_AUTH_NOT_YET_VALID;
	}
	/* A refresh token is a credential for the token endpoint, never for an API (RFC 6749
	 * 1.5); an endpoint that introspects both may say which it saw. */
	v = json_object_get(t->jp, "token_type");
	if (v != NULL && (!json_is_string(v) || pc_str_caseeq(pc_str_make(json_string_value(v),
	    json_string_length(v)), PC_STR("refresh_token")))) {
		*d = "token_type is not an access token";
		return PC_R_AUTH_TYP;
	}
	return PC_R_NONE;
}

enum pc_reason
pc_introspect_judge(const struct pc_introspect *in, const char *body, size_t len, int64_t now,
    struct pc_arena *a, struct pc_principal *p, const char **d)
{
	struct pc_jwt_issuer	 is = *in->issuer;
	struct pc_jwt_tok	 t;
	const json_t		*id;
	enum pc_reason		 r;

	memset(&t, 0, sizeof(t));
	memset(p, 0, sizeof(*p));
	/* RFC 7662 2.2 names the member "scope" (space-separated), whatever the issuer's
	 * JWTs call theirs. */
	is.scopes_claim = "scope";
	t.is = &is;
	t.payload = (uint8_t *)(uintptr_t)body;	/* read only: pc_jwt__principal copies it */
	t.payload_len = len;
	switch (pc_auth__json_object(body, len, &t.jp)) {
	case PC_AUTH_JSON_OK:
		break;
	case PC_AUTH_JSON_NOMEM:
		*d = "out of memory";
		return PC_R_INTERNAL;
	default:
		*d = "introspection answer is not one JSON object without duplicate members";
		return PC_R_AUTH_INTROSPECTION;
	}
	r = check_answer(&t, now, d);
	if (r == PC_R_NONE)
		r = pc_jwt__principal(&t, a, p, d);
	if (r == PC_R_NONE) {
		/* Client-credentials tokens have no resource owner: the client is the caller. */
		id = json_object_get(t.jp, "sub");
		if (id == NULL)
			id = json_object_get(t.jp, "client_id");
		if (!json_is_string(id) || json_string_length(id) == 0) {
			*d = "neither sub nor client_id";
			r = PC_R_AUTH_CLAIM_MISSING;
		} else if (pc_auth__arena_str(a, id, &p->id) != 0) {
			*d = "out of memory";
			r = PC_R_INTERNAL;
		}
	}
	json_decref(t.jp);
	if (r != PC_R_NONE)
		return r;
	p->type = PC_PRINCIPAL_INTROSPECTED;
	p->via = in->issuer;
	p->issuer_name = in->issuer->name;
	if (p->issuer.len == 0)
		p->issuer = pc_str_c(in->issuer->iss);
	return PC_R_NONE;
}

/* ---- the call and its completion ---- */

/*
 * What an answer is worth caching as, decided once on the fetch thread: active (kept until
 * min(now + cache_s, exp)), inactive (a short while), or failed (a few seconds). Every rule
 * is applied again, with the configuration of the day, each time the entry is used.
 */
static enum state
classify(const struct pc_fetch_result *res, uint32_t cache_s, uint64_t now_ms,
    uint64_t *until_ms)
{
	json_t		*o;
	int64_t		 exp;
	uint64_t	 hold;
	enum state	 st;
	const char	*d;
	bool		 has;

	*until_ms = now_ms + FAILED_HOLD_MS;
	if (res->error != NULL || res->status != 200 || res->body == NULL ||
	    res->len > PC_INTROSPECT_BODY_MAX)
		return E_FAILED;
	if (pc_auth__json_object(res->body, res->len, &o) != PC_AUTH_JSON_OK)
		return E_FAILED;
	if (!is_active(o)) {
		hold = cache_s < INACTIVE_MAX_S ? cache_s : INACTIVE_MAX_S;
		*until_ms = now_ms + hold * 1000u;
		st = E_INACTIVE;
	} else {
		*until_ms = now_ms + (uint64_t)cache_s * 1000u;
		/* Never past exp. An unreadable exp is refused at use, not trusted here. */
		if (pc_jwt__time(o, "exp", false, &exp, &has, &d) == PC_R_NONE && has &&
		    (uint64_t)exp * 1000u < *until_ms)
			*until_ms = (uint64_t)exp * 1000u;
		st = E_ACTIVE;
	}
	json_decref(o);
	if (*until_ms < now_ms + DELIVER_MS)
		*until_ms = now_ms + DELIVER_MS;
	return st;
}

static void
call_done(void *arg, const struct pc_fetch_result *res)
{
	struct call	*c = arg;
	struct entry	*set, *e;
	uint64_t	 now = wall_ms(), until;
	enum state	 st;
	char		*body = NULL;
	unsigned	 s, i;

	st = classify(res, c->cache_s, now, &until);
	if (st == E_ACTIVE) {
		body = malloc(res->len + 1);
		if (body == NULL) {
			st = E_FAILED;
			until = now + FAILED_HOLD_MS;
		} else {
			memcpy(body, res->body, res->len);
			body[res->len] = '\0';
		}
	}
	s = set_of(c->key, c->tag);
	set = table[s];
	(void)pthread_mutex_lock(&stripes[s % STRIPES]);
	for (i = 0; i < WAYS; i++) {
		e = &set[i];
		/* Only the entry this call was made for: it may have been replaced meanwhile. */
		if (!entry_is(e, c->key, c->tag) || e->state != E_PENDING || e->gen != c->gen)
			continue;
		e->state = st;
		e->until_ms = until;
		e->body = body;
		e->len = body != NULL ? res->len : 0;
		body = NULL;
		break;
	}
	(void)pthread_mutex_unlock(&stripes[s % STRIPES]);
	free(body);
	(void)__atomic_sub_fetch(&inflight, 1, __ATOMIC_RELAXED);
	free(c);
}

/* application/x-www-form-urlencoded (HTML 5, as RFC 7662 2.1 and RFC 6749 2.3.1 use):
 * everything but ALPHA / DIGIT / "*-._" is percent-encoded. */
static int
form_add(struct pc_buf *b, struct pc_str s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < s.len && rc == 0; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '*' || c == '-' || c == '.' || c == '_')
			rc = pc_buf_addc(b, (char)c);
		else {
			rc = pc_buf_addc(b, '%');
			rc |= pc_buf_addc(b, hex[c >> 4]);
			rc |= pc_buf_addc(b, hex[c & 15]);
		}
	}
	return rc;
}

/* Sends the POST for <tok>. 0, or a negative code (nothing is then in flight). */
static int
start_call(const struct pc_introspect *in, const char *endpoint, struct pc_str tok,
    struct call *c)
{
	struct pc_fetch_req	 fr;
	struct pc_buf		 b;
	int			 rc;

	/* RFC 7662 2.1: token, and the hint that saves the endpoint a lookup. */
	pc_buf_init(&b, 3 * tok.len + 64);	/* every byte percent-encoded, at worst */
	rc = pc_buf_add_str(&b, PC_STR("token="));
	rc |= form_add(&b, tok);
	rc |= pc_buf_add_str(&b, PC_STR("&token_type_hint=access_token"));
	rc |= pc_buf_addc(&b, '\0');
	if (rc != 0) {
		pc_buf_fini(&b);
		return -PC_ENOMEM;
	}
	memset(&fr, 0, sizeof(fr));
	fr.url = endpoint;
	fr.ca_file = in->ca_file;
	fr.body = (const char *)b.data;
	fr.body_len = b.len - 1;
	fr.basic_user = in->basic_user;
	fr.basic_pass = in->basic_pass;
	fr.timeout_ms = in->timeout_ms;
	fr.max_bytes = PC_INTROSPECT_BODY_MAX;
	fr.done = call_done;
	fr.arg = c;
	rc = submit_fn(&fr);	/* copies every string */
	/* The body holds a live credential. */
	explicit_bzero(b.data, b.cap);
	pc_buf_fini(&b);
	return rc;
}

/* The endpoint to call: the configured one, else the one discovery found (none yet: NULL;
 * the string lives as long as the configuration's reference to the ring). */
static const char *
endpoint_of(const struct pc_introspect *in)
{
	if (in->endpoint != NULL)
		return in->endpoint;
	return in->issuer->ring != NULL ? pc_keyring_introspection_endpoint(in->issuer->ring) :
	    NULL;
}

/* Copies the active entry's body into <a> (stripe held). */
static char *
body_copy(const struct entry *e, struct pc_arena *a)
{
	return pc_arena_strdup(a, pc_str_make(e->body, e->len));
}

int
pc_introspect_verify(const struct pc_introspect *in, struct pc_str tok, const uint8_t key[32],
    bool expired, int64_t now, struct pc_arena *a, struct pc_principal *p, uint32_t *wait_ms,
    enum pc_reason *reason, const char **detail)
{
	size_t		 max = in->issuer->max_bytes > 0 ? in->issuer->max_bytes :
			    PC_JWT_MAX_BYTES_DEFAULT;
	const char	*endpoint = NULL, *d = NULL;
	struct entry	*set, *e;
	struct call	*c;
	uint64_t	 wall, mono, gen = 0;
	char		*body = NULL;
	size_t		 len = 0;
	enum state	 st;
	unsigned	 s;
	bool		 found;
	int		 rc;

	*wait_ms = 0;
	*reason = PC_R_NONE;
	if (tok.len > max) {
		*detail = "token over the size limit";
		*reason = PC_R_AUTH_TOO_LARGE;
		return -PC_EPROTO;
	}
	(void)pthread_once(&seed_once, seed_init);
	wall = wall_ms();
	mono = mono_ms();
	s = set_of(key, in->tag);
	set = table[s];
	(void)pthread_mutex_lock(&stripes[s % STRIPES]);
	e = way_for(set, key, in->tag, wall, mono, &found);
	if (found && entry_live(e, wall, mono)) {
		st = e->state;
		e->used = __atomic_add_fetch(&ticks, 1, __ATOMIC_RELAXED);
		if (st == E_ACTIVE && (body = body_copy(e, a)) != NULL)
			len = e->len;
		if (st == E_PENDING && e->deadline_ms > mono)
			*wait_ms = (uint32_t)(e->deadline_ms - mono);
		(void)pthread_mutex_unlock(&stripes[s % STRIPES]);
		switch (st) {
		case E_ACTIVE:
			if (body == NULL) {
				*detail = "out of memory";
				*reason = PC_R_OVERLOAD;
				return -PC_ENOMEM;
			}
			*reason = pc_introspect_judge(in, body, len, now, a, p, detail);
			return *reason == PC_R_NONE ? 0 : -PC_EPROTO;
		case E_INACTIVE:
			*detail = "token is not active";
			*reason = PC_R_AUTH_INACTIVE;
			return -PC_EPROTO;
		case E_PENDING:
			/* Joined (or still waiting for) the call in flight. */
			if (!expired && *wait_ms > 0)
				return -PC_EAGAIN;
			*wait_ms = 0;
			*detail = "introspection timed out";
			break;
		default:
			*detail = "introspection failed";
			break;
		}
		*reason = PC_R_AUTH_INTROSPECTION;
		return -PC_EPROTO;
	}
	/* A miss. After a wait it is not retried: the request has had its chance. */
	if (expired)
		d = "introspection result lost";
	else if ((endpoint = endpoint_of(in)) == NULL)
		d = "no introspection endpoint known";
	else if (e == NULL)
		d = "introspection cache set full of calls in flight";
	else if (__atomic_add_fetch(&inflight, 1, __ATOMIC_RELAXED) >
	    PC_INTROSPECT_INFLIGHT_MAX) {
		(void)__atomic_sub_fetch(&inflight, 1, __ATOMIC_RELAXED);
		d = "too many introspections in flight";
	}
	if (d != NULL) {
		(void)pthread_mutex_unlock(&stripes[s % STRIPES]);
		*detail = d;
		*reason = PC_R_AUTH_INTROSPECTION;
		return -PC_EPROTO;
	}
	entry_clear(e);
	memcpy(e->key, key, 32);
	memcpy(e->tag, in->tag, 32);
	e->state = E_PENDING;
	e->gen = gen = __atomic_add_fetch(&gens, 1, __ATOMIC_RELAXED);
	e->deadline_ms = mono + in->timeout_ms + WAIT_SLACK_MS;
	e->used = __atomic_add_fetch(&ticks, 1, __ATOMIC_RELAXED);
	(void)pthread_mutex_unlock(&stripes[s % STRIPES]);

	c = calloc(1, sizeof(*c));
	rc = c == NULL ? -PC_ENOMEM : 0;
	if (rc == 0) {
		memcpy(c->key, key, 32);
		memcpy(c->tag, in->tag, 32);
		c->gen = gen;
		c->cache_s = in->cache_s;
		rc = start_call(in, endpoint, tok, c);
	}
	if (rc != 0) {
		/* Never sent: a failure for everyone who joined meanwhile, and the slot back. */
		free(c);
		(void)pthread_mutex_lock(&stripes[s % STRIPES]);
		if (entry_is(e, key, in->tag) && e->state == E_PENDING && e->gen == gen) {
			e->state = E_FAILED;
			e->until_ms = wall + FAILED_HOLD_MS;
		}
		(void)pthread_mutex_unlock(&stripes[s % STRIPES]);
		(void)__atomic_sub_fetch(&inflight, 1, __ATOMIC_RELAXED);
		*detail = rc == -PC_EAGAIN ? "fetch queue full" : "introspection not sent";
		*reason = PC_R_AUTH_INTROSPECTION;
		return -PC_EPROTO;
	}
	*wait_ms = in->timeout_ms + WAIT_SLACK_MS;
	return -PC_EAGAIN;
}
