/*
 * auth/keyring.c - remote JWK Sets (JWKS URL, OpenID Connect Discovery 1.0): an issuer's
 * key set swappable at run time, its refresh schedule, and the process-wide registry that
 * lets a ring outlive a configuration reload.
 * Owns: when a set is fetched (schedule, unknown-kid rate limit, backoff), what a discovery
 * document must say (its "issuer" exactly ours, an https jwks_uri), and the lifetime of
 * every fetched set (counted references: the previous set lives while a reader uses it).
 * Does not: speak HTTP or TLS (fetch/), judge keys (jwks.c), or fetch on a worker's loop:
 * fetches run on the fetch thread, or on the main thread at start, reload and check.
 *
 * Locks: <reg_mtx> (the registry list and every ring's <refs>) may be taken before a
 * ring's <mtx>, never after it. Neither is held while calling into fetch/ synchronously.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_int.h"
#include "fetch/fetch.h"
#include "observe/observe.h"
#include "core/banned.h"

#define WELL_KNOWN		"/.well-known/openid-configuration"
#define DISCOVERY_MAX_BYTES	(64u * 1024u)
#define ENDPOINTS_KEPT		16	/* earlier introspection endpoints kept alive */
#define MAX_AGE_FLOOR_S		60	/* a shorter max-age would be a refetch storm */
#define NEVER			UINT64_MAX

struct pc_keyset {
	struct pc_jwks	*jwks;
	int		 refs;		/* atomic */
	uint64_t	 gen;		/* the ring's generation it was published as */
	uint8_t		 digest[32];	/* SHA-256 of the document it was parsed from */
};

enum stage { STAGE_DISCOVERY, STAGE_JWKS };

struct pc_keyring {
	struct pc_keyring *next;	/* registry */
	int		 refs;		/* under reg_mtx: configurations + fetches in flight */
	char		*key;		/* registry key */
	char		*iss, *ca_file, *discovery_url;	/* discovery_url NULL: jwks_uri given */

	pthread_mutex_t	 mtx;		/* everything below */
	struct pc_keyset *cur;		/* NULL until the first good fetch */
	char		*jwks_uri;	/* configured, or from the discovery document; written
					 * only by the owner of the refresh in flight */
	char		*introspection;	/* current; earlier values in <old> */
	char		*old[ENDPOINTS_KEPT];
	unsigned	 nold;
	uint32_t	 refresh_s, min_refresh_s, timeout_ms;
	uint64_t	 last_ok_ms;	/* monotonic; 0: never */
	uint64_t	 last_attempt_ms;
	uint64_t	 next_ms;	/* scheduled refresh; NEVER until primed */
	unsigned	 fails;		/* consecutive failed refreshes (backoff) */
	bool		 inflight;
	enum stage	 stage;		/* of the refresh in flight */
	uint64_t	 generation;	/* atomic: bumped on every swap */
};

static pthread_mutex_t	 reg_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct pc_keyring *registry;

/* ---- sets ---- */

const struct pc_jwks *
pc_keyset_jwks(const struct pc_keyset *s)
{
	return s->jwks;
}

uint64_t
pc_keyset_generation(const struct pc_keyset *s)
{
	return s->gen;
}

void
pc_keyset_unref(struct pc_keyset *s)
{
	if (s == NULL)
		return;
	/* acq_rel: every reader's use of the keys happens before the free. */
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		pc_jwks_free(s->jwks);
		free(s);
	}
}

struct pc_keyset *
pc_keyring_current(struct pc_keyring *r)
{
	struct pc_keyset *s;

	/* A mutex, not a bare atomic pointer: loading the pointer and counting the reference
	 * must be one step, or the writer could free the set in between. Taken on a cache
	 * miss only, next to a signature check that costs a hundred times more. */
	(void)pthread_mutex_lock(&r->mtx);
	s = r->cur;
	if (s != NULL)
		(void)__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	(void)pthread_mutex_unlock(&r->mtx);
	return s;
}

uint64_t
pc_keyring_generation(const struct pc_keyring *r)
{
	return __atomic_load_n(&r->generation, __ATOMIC_ACQUIRE);
}

uint32_t
pc_keyring_fetch_timeout_ms(struct pc_keyring *r)
{
	uint32_t t;

	(void)pthread_mutex_lock(&r->mtx);
	t = r->timeout_ms;
	(void)pthread_mutex_unlock(&r->mtx);
	return t;
}

bool
pc_keyring_is_refreshing(struct pc_keyring *r)
{
	bool b;

	(void)pthread_mutex_lock(&r->mtx);
	b = r->inflight;
	(void)pthread_mutex_unlock(&r->mtx);
	return b;
}

const char *
pc_keyring_introspection_endpoint(struct pc_keyring *r)
{
	const char *s;

	(void)pthread_mutex_lock(&r->mtx);
	s = r->introspection;
	(void)pthread_mutex_unlock(&r->mtx);
	return s;
}

/* ---- what a fetch brings ---- */

static void
log_warn(void *arg, const char *msg)
{
	pc_log_info("issuer '%s': key set: %s (skipped)", (const char *)arg, msg);
}

/* A JWK Set response: parsed, then swapped in. The ring is not locked by the caller. */
static int
take_jwks(struct pc_keyring *r, const struct pc_fetch_result *res, char *err, size_t errlen)
{
	struct pc_keyset	*s, *old;
	struct pc_jwks		*ks = NULL;
	char			 why[256];
	uint8_t			 digest[32];
	bool			 same;

	if (res->error != NULL) {
		(void)snprintf(err, errlen, "%s", res->error);
		return -PC_EIO;
	}
	if (res->status != 200) {
		(void)snprintf(err, errlen, "HTTP status %d", res->status);
		return -PC_EPROTO;
	}
	/* The same document again (every scheduled refresh, mostly): keep the set and its
	 * generation, so tokens verified against it stay cached (jwt_cache.c drops entries
	 * of an older generation: a key the provider withdrew stops working at once). */
	pc_sha256(res->body, res->len, digest);
	(void)pthread_mutex_lock(&r->mtx);
	same = r->cur != NULL && memcmp(r->cur->digest, digest, sizeof(digest)) == 0;
	(void)pthread_mutex_unlock(&r->mtx);
	if (same)
		return 0;
	why[0] = '\0';
	if (pc_jwks_parse(res->body, res->len, &ks, log_warn, r->iss, why, sizeof(why)) != 0) {
		(void)snprintf(err, errlen, "not a usable JWK Set: %s", why);
		return -PC_EINVAL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		pc_jwks_free(ks);
		(void)snprintf(err, errlen, "out of memory");
		return -PC_ENOMEM;
	}
	s->jwks = ks;
	s->refs = 1;
	memcpy(s->digest, digest, sizeof(digest));
	(void)pthread_mutex_lock(&r->mtx);
	old = r->cur;
	r->cur = s;
	s->gen = __atomic_add_fetch(&r->generation, 1, __ATOMIC_RELEASE);
	(void)pthread_mutex_unlock(&r->mtx);
	/* Readers that took the old set keep it alive; the last one frees it. */
	pc_keyset_unref(old);
	return 0;
}

static bool
https_str(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 8 &&
	    strncmp(json_string_value(v), "https://", 8) == 0 &&
	    strlen(json_string_value(v)) == json_string_length(v);
}

/*
 * An OpenID Provider Configuration (OpenID Connect Discovery 1.0 4.3): its "issuer" must
 * be exactly ours, or a document served from one place could vouch for keys of another
 * issuer; jwks_uri must be https. Its introspection_endpoint is kept for introspection.
 */
static int
take_discovery(struct pc_keyring *r, const struct pc_fetch_result *res, char *err,
    size_t errlen)
{
	const json_t	*iss, *ju, *ie;
	json_t		*doc = NULL;
	char		*uri = NULL, *ep = NULL;
	int		 rc = -PC_EINVAL;

	if (res->error != NULL) {
		(void)snprintf(err, errlen, "discovery: %s", res->error);
		return -PC_EIO;
	}
	if (res->status != 200) {
		(void)snprintf(err, errlen, "discovery: HTTP status %d", res->status);
		return -PC_EPROTO;
	}
	if (pc_auth__json_object(res->body, res->len, &doc) != PC_AUTH_JSON_OK) {
		(void)snprintf(err, errlen, "discovery: not a JSON object (or a duplicate "
		    "member)");
		return -PC_EINVAL;
	}
	iss = json_object_get(doc, "issuer");
	ju = json_object_get(doc, "jwks_uri");
	ie = json_object_get(doc, "introspection_endpoint");
	if (!json_is_string(iss) || strlen(r->iss) != json_string_length(iss) ||
	    memcmp(r->iss, json_string_value(iss), json_string_length(iss)) != 0) {
		(void)snprintf(err, errlen, "discovery: \"issuer\" is not exactly '%s'", r->iss);
		goto out;
	}
	if (!https_str(ju)) {
		(void)snprintf(err, errlen, "discovery: jwks_uri missing or not https://");
		goto out;
	}
	if ((uri = strdup(json_string_value(ju))) == NULL ||
	    (https_str(ie) && (ep = strdup(json_string_value(ie))) == NULL)) {
		(void)snprintf(err, errlen, "out of memory");
		rc = -PC_ENOMEM;
		goto out;
	}
	(void)pthread_mutex_lock(&r->mtx);
	free(r->jwks_uri);
	r->jwks_uri = uri;
	uri = NULL;
	if (ep != NULL && (r->introspection == NULL || strcmp(ep, r->introspection) != 0)) {
		/* Someone may still hold the old pointer: it stays until the ring goes. */
		if (r->introspection == NULL || r->nold < ENDPOINTS_KEPT) {
			if (r->introspection != NULL)
				r->old[r->nold++] = r->introspection;
			r->introspection = ep;
			ep = NULL;
		}
	}
	(void)pthread_mutex_unlock(&r->mtx);
	rc = 0;
out:
	free(uri);
	free(ep);
	json_decref(doc);
	return rc;
}

/* After a refresh ends (locked): the next scheduled one. A max-age between 60 s and
 * refresh_s is honoured; failures back off from min_refresh_s, doubling, up to refresh_s. */
static void
schedule(struct pc_keyring *r, int rc, uint32_t max_age_s, uint64_t now)
{
	uint64_t	 iv = r->refresh_s, floor = MAX_AGE_FLOOR_S;
	unsigned	 shift;

	r->inflight = false;
	if (rc == 0) {
		r->fails = 0;
		r->last_ok_ms = now;
		if (floor > r->refresh_s)
			floor = r->refresh_s;
		if (max_age_s > 0)
			iv = max_age_s < floor ? floor : max_age_s > r->refresh_s ? r->refresh_s :
			    max_age_s;
	} else {
		r->fails++;
		shift = r->fails - 1 > 16 ? 16 : r->fails - 1;
		iv = (uint64_t)r->min_refresh_s << shift;
		if (iv > r->refresh_s)
			iv = r->refresh_s;
	}
	r->next_ms = now + iv * 1000;
}

static void
log_outcome(struct pc_keyring *r, int rc, const char *err, bool have_keys)
{
	if (rc == 0)
		return;
	if (have_keys)
		pc_log_error("issuer '%s': key set refresh failed: %s; keeping the last good "
		    "set", r->iss, err);
	else
		pc_log_error("issuer '%s': no key set yet: %s; its tokens are refused (503) "
		    "until a fetch succeeds", r->iss, err);
}

/* ---- refreshes on the fetch thread ---- */

static void	on_fetched(void *arg, const struct pc_fetch_result *res);

/* Submits the current stage's request. The caller owns the refresh (inflight) and has
 * given it a ring reference. */
static int
submit(struct pc_keyring *r)
{
	struct pc_fetch_req	 q;
	char			*url;
	int			 rc;

	memset(&q, 0, sizeof(q));
	(void)pthread_mutex_lock(&r->mtx);
	url = r->stage == STAGE_DISCOVERY ? r->discovery_url : r->jwks_uri;
	q.timeout_ms = r->timeout_ms;
	(void)pthread_mutex_unlock(&r->mtx);
	/* The owner of the refresh is the only writer of jwks_uri: safe to read unlocked. */
	q.url = url;
	q.ca_file = r->ca_file;
	q.max_bytes = r->stage == STAGE_DISCOVERY ? DISCOVERY_MAX_BYTES : PC_JWKS_MAX_BYTES;
	q.done = on_fetched;
	q.arg = r;
	rc = pc_fetch_submit(&q);
	return rc;
}

static void
ring_ref_locked(struct pc_keyring *r)
{
	r->refs++;
}

/*
 * Starts a refresh if none is in flight (the ring is locked by the caller, who must then
 * call launch() after unlocking when this returns true). <full>: a scheduled refresh
 * reads the discovery document again; an unknown kid only refetches the keys.
 */
static bool
begin(struct pc_keyring *r, uint64_t now, bool full)
{
	if (r->inflight)
		return false;
	r->inflight = true;
	r->last_attempt_ms = now;
	r->stage = r->discovery_url != NULL && (full || r->jwks_uri == NULL) ?
	    STAGE_DISCOVERY : STAGE_JWKS;
	return true;
}

/* The fetch of a refresh begun; on a refused submit the refresh ends as a failure. The
 * caller already counted the ring reference the fetch holds. */
static void
launch(struct pc_keyring *r, uint64_t now)
{
	bool	have;
	int	rc;

	rc = submit(r);
	if (rc == 0)
		return;
	(void)pthread_mutex_lock(&r->mtx);
	schedule(r, rc, 0, now);
	have = r->cur != NULL;
	(void)pthread_mutex_unlock(&r->mtx);
	log_outcome(r, rc, rc == -PC_EAGAIN ? "fetch queue full or not running" :
	    pc_strerror(rc), have);
	pc_keyring_unref(r);
}

static void
on_fetched(void *arg, const struct pc_fetch_result *res)
{
	struct pc_keyring	*r = arg;
	char			 err[320];
	bool			 have;
	int			 rc;

	err[0] = '\0';
	if (r->stage == STAGE_DISCOVERY) {
		rc = take_discovery(r, res, err, sizeof(err));
		if (rc == 0) {
			/* Same refresh, next request: the reference moves on with it. */
			r->stage = STAGE_JWKS;
			if ((rc = submit(r)) == 0)
				return;
			(void)snprintf(err, sizeof(err), "cannot queue the key set fetch: %s",
			    pc_strerror(rc));
		}
	} else
		rc = take_jwks(r, res, err, sizeof(err));
	(void)pthread_mutex_lock(&r->mtx);
	schedule(r, rc, rc == 0 ? res->max_age_s : 0, pc_now_ms());
	have = r->cur != NULL;
	(void)pthread_mutex_unlock(&r->mtx);
	log_outcome(r, rc, err, have);
	pc_keyring_unref(r);
}

bool
pc_keyring_want_refresh(struct pc_keyring *r, uint64_t now_ms)
{
	bool go = false;

	(void)pthread_mutex_lock(&r->mtx);
	if (!r->inflight && (r->last_attempt_ms == 0 ||
	    now_ms - r->last_attempt_ms >= (uint64_t)r->min_refresh_s * 1000))
		go = begin(r, now_ms, false);
	(void)pthread_mutex_unlock(&r->mtx);
	if (!go)
		return false;
	(void)pthread_mutex_lock(&reg_mtx);
	ring_ref_locked(r);
	(void)pthread_mutex_unlock(&reg_mtx);
	launch(r, now_ms);
	return pc_keyring_is_refreshing(r);
}

/* The fetch thread's clock: every ring whose scheduled refresh is due starts it. */
static void
tick(uint64_t now)
{
	struct pc_keyring	*r, *due[64];
	unsigned		 n = 0, i;

	(void)pthread_mutex_lock(&reg_mtx);
	for (r = registry; r != NULL && n < PC_NELEM(due); r = r->next) {
		(void)pthread_mutex_lock(&r->mtx);
		if (r->next_ms != NEVER && now >= r->next_ms && begin(r, now, true)) {
			ring_ref_locked(r);
			due[n++] = r;
		}
		(void)pthread_mutex_unlock(&r->mtx);
	}
	(void)pthread_mutex_unlock(&reg_mtx);
	/* More than 64 due at once: the rest start on the next tick. */
	for (i = 0; i < n; i++)
		launch(due[i], now);
}

/* ---- the first fetch, synchronously ---- */

struct sync_ctx {
	struct pc_keyring	*r;
	int			 rc;
	uint32_t		 max_age_s;
	char			 err[320];
};

static void
on_sync(void *arg, const struct pc_fetch_result *res)
{
	struct sync_ctx *c = arg;

	c->max_age_s = res->max_age_s;
	if (c->r->stage == STAGE_DISCOVERY)
		c->rc = take_discovery(c->r, res, c->err, sizeof(c->err));
	else
		c->rc = take_jwks(c->r, res, c->err, sizeof(c->err));
}

static int
sync_step(struct sync_ctx *c)
{
	struct pc_fetch_req	 q;
	struct pc_keyring	*r = c->r;
	int			 rc;

	memset(&q, 0, sizeof(q));
	q.url = r->stage == STAGE_DISCOVERY ? r->discovery_url : r->jwks_uri;
	q.ca_file = r->ca_file;
	q.timeout_ms = r->timeout_ms;
	q.max_bytes = r->stage == STAGE_DISCOVERY ? DISCOVERY_MAX_BYTES : PC_JWKS_MAX_BYTES;
	q.done = on_sync;
	q.arg = c;
	c->rc = -PC_EIO;
	if ((rc = pc_fetch_sync(&q)) != 0) {
		(void)snprintf(c->err, sizeof(c->err), "%s", pc_strerror(rc));
		return rc;
	}
	return c->rc;
}

int
pc_keyring_prime(struct pc_keyring *r, char *err, size_t errlen)
{
	struct sync_ctx	 c;
	uint64_t	 now = pc_now_ms();
	bool		 go;

	memset(&c, 0, sizeof(c));
	c.r = r;
	(void)pthread_mutex_lock(&r->mtx);
	go = r->cur == NULL && begin(r, now, false);
	c.rc = r->cur != NULL ? 0 : -PC_EAGAIN;
	(void)pthread_mutex_unlock(&r->mtx);
	if (!go) {
		if (c.rc != 0)
			(void)snprintf(err, errlen, "a fetch is already in progress");
		return c.rc;
	}
	if (sync_step(&c) == 0 && r->stage == STAGE_DISCOVERY) {
		r->stage = STAGE_JWKS;
		(void)sync_step(&c);
	}
	(void)pthread_mutex_lock(&r->mtx);
	schedule(r, c.rc, c.rc == 0 ? c.max_age_s : 0, pc_now_ms());
	(void)pthread_mutex_unlock(&r->mtx);
	if (c.rc != 0)
		(void)snprintf(err, errlen, "%s", c.err);
	return c.rc;
}

/* ---- the registry ---- */

static void
ring_free(struct pc_keyring *r)
{
	unsigned i;

	pc_keyset_unref(r->cur);
	free(r->key);
	free(r->iss);
	free(r->ca_file);
	free(r->discovery_url);
	free(r->jwks_uri);
	free(r->introspection);
	for (i = 0; i < r->nold; i++)
		free(r->old[i]);
	(void)pthread_mutex_destroy(&r->mtx);
	free(r);
}

void
pc_keyring_unref(struct pc_keyring *r)
{
	struct pc_keyring **pp;

	if (r == NULL)
		return;
	(void)pthread_mutex_lock(&reg_mtx);
	if (--r->refs > 0) {
		(void)pthread_mutex_unlock(&reg_mtx);
		return;
	}
	for (pp = &registry; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	(void)pthread_mutex_unlock(&reg_mtx);
	ring_free(r);
}

static char *
join3(const char *a, const char *b, const char *c)
{
	size_t	 n = strlen(a) + strlen(b) + strlen(c) + 3;
	char	*s = malloc(n);

	if (s != NULL)
		(void)snprintf(s, n, "%s\n%s\n%s", a, b, c);
	return s;
}

static struct pc_keyring *
ring_new(const struct pc_keyring_params *p, char *key)
{
	struct pc_keyring	*r;
	size_t			 n;
	bool			 ok;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->key = key;
	r->iss = strdup(p->iss);
	ok = r->iss != NULL;
	if (p->ca_file != NULL)
		ok = ok && (r->ca_file = strdup(p->ca_file)) != NULL;
	if (p->discovery) {
		/* OpenID Connect Discovery 4: the issuer with any trailing '/' removed. */
		n = strlen(p->iss);
		while (n > 0 && p->iss[n - 1] == '/')
			n--;
		r->discovery_url = malloc(n + sizeof(WELL_KNOWN));
		ok = ok && r->discovery_url != NULL;
		if (r->discovery_url != NULL)
			(void)snprintf(r->discovery_url, n + sizeof(WELL_KNOWN), "%.*s%s", (int)n,
			    p->iss, WELL_KNOWN);
	} else
		ok = ok && (r->jwks_uri = strdup(p->jwks_uri)) != NULL;
	if (!ok || pthread_mutex_init(&r->mtx, NULL) != 0) {
		r->key = NULL;
		free(r->iss);
		free(r->ca_file);
		free(r->discovery_url);
		free(r->jwks_uri);
		free(r);
		return NULL;
	}
	r->refs = 1;
	r->next_ms = NEVER;
	return r;
}

int
pc_keyring_acquire(const struct pc_keyring_params *p, struct pc_keyring **out)
{
	struct pc_keyring	*r;
	char			*key;

	*out = NULL;
	if (p->iss == NULL || p->discovery == (p->jwks_uri != NULL))
		return -PC_EINVAL;
	if ((p->discovery && strncmp(p->iss, "https://", 8) != 0) ||
	    (!p->discovery && strncmp(p->jwks_uri, "https://", 8) != 0))
		return -PC_EINVAL;
	key = p->discovery ? join3("discovery", p->iss, p->ca_file ? p->ca_file : "") :
	    join3("jwks_uri", p->jwks_uri, p->ca_file ? p->ca_file : "");
	if (key == NULL)
		return -PC_ENOMEM;
	(void)pthread_mutex_lock(&reg_mtx);
	for (r = registry; r != NULL; r = r->next)
		if (strcmp(r->key, key) == 0)
			break;
	if (r != NULL) {
		free(key);
		r->refs++;
	} else if ((r = ring_new(p, key)) != NULL) {
		r->next = registry;
		registry = r;
	} else {
		(void)pthread_mutex_unlock(&reg_mtx);
		free(key);
		return -PC_ENOMEM;
	}
	/* The newest configuration's timings win (a reload may change them). */
	(void)pthread_mutex_lock(&r->mtx);
	r->refresh_s = p->refresh_s > 0 ? p->refresh_s : 300;
	r->min_refresh_s = p->min_refresh_s > 0 ? p->min_refresh_s : 10;
	r->timeout_ms = p->fetch_timeout_ms > 0 ? p->fetch_timeout_ms : 5000;
	(void)pthread_mutex_unlock(&r->mtx);
	(void)pthread_mutex_unlock(&reg_mtx);
	/* Scheduled refreshes run from the fetch thread's clock. */
	pc_fetch_on_tick(tick);
	*out = r;
	return 0;
}
