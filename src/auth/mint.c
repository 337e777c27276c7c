/*
 * auth/mint.c - the gateway's own access tokens for upstreams: short-lived RFC 9068 JWTs
 * signed with EdDSA or ES256, so a backend never sees the client's credential and can
 * still verify who vouches for the caller. Also the one compact-JWS builder of the gateway
 * (the demo's issuer signs with it), the signing keys with their kid and public JWK, the
 * key set published on the admin listener, and a per-thread cache of minted tokens.
 * Owns: what a minted token says (claims, escaping, lifetime) and when one is reused.
 * Does not: read key files (config/), decide which routes get a token (config/, proxy/),
 * or hold a private key outside OpenSSL (crypto/).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_int.h"
#include "core/banned.h"

#define THUMB_LEN	PC_B64URL_ENCODED_LEN(32)	/* 43 */
#define CLAIMS_MAX	(PC_MINT_TOKEN_MAX / 4 * 3 - 256)	/* leaves room for header, sig */
#define CACHE_SETS	256
#define CACHE_WAYS	4
#define CACHE_KEYBUF	1024	/* identities longer than this are minted every time */
#define JTI_BYTES	16

struct pc_mint_key {
	int		 refs;		/* atomic */
	struct pc_skey	*sk;
	char		*kid;
	char		 thumb[THUMB_LEN + 1];	/* RFC 7638, base64url: the key's identity */
	char		*jwk;		/* the public JWK, JSON (public members only) */
	char		*hdr64;		/* the JWS header, base64url: the same for every token */
	size_t		 hdr64_len;
};

struct pc_minter {
	uint64_t	 id;		/* unique per minter: cache entries of another miss */
	char		*iss;
	uint32_t	 lifetime_s;
	struct pc_mint_key *cur;	/* signs */
	struct pc_mint_key *prev;	/* published only: what signed before a reload */
	char		*jwks;
	size_t		 jwks_len;
};

/* ---- compact JWS ---- */

/* <hdr64> '.' base64url(<payload>) '.' base64url(signature), appended to <out>. */
static int
compact(const struct pc_skey *k, struct pc_str hdr64, struct pc_str payload,
    struct pc_buf *out)
{
	uint8_t	 sig[64];
	size_t	 start = out->len, n;
	int	 rc, siglen;

	if (payload.len > PC_MINT_TOKEN_MAX)
		return -PC_ETOOBIG;
	rc = pc_buf_reserve(out, hdr64.len + 2 + PC_B64URL_ENCODED_LEN(payload.len) +
	    PC_B64URL_ENCODED_LEN(sizeof(sig)));
	if (rc != 0)
		return rc;
	/* Reserved above: the writes below stay inside out->cap. */
	memcpy(out->data + out->len, hdr64.ptr, hdr64.len);
	out->len += hdr64.len;
	out->data[out->len++] = '.';
	n = pc_b64url_encode((const uint8_t *)payload.ptr, payload.len,
	    (char *)out->data + out->len, out->cap - out->len);
	out->len += n;
	rc = -PC_EINVAL;
	siglen = pc_jws_sign(k, out->data + start, out->len - start, sig, sizeof(sig));
	if (siglen <= 0 || (size_t)siglen > sizeof(sig)) {
		rc = siglen < 0 ? siglen : -PC_EINVAL;
		goto fail;
	}
	out->data[out->len++] = '.';
	n = pc_b64url_encode(sig, (size_t)siglen, (char *)out->data + out->len,
	    out->cap - out->len);
	if (n == 0)
		goto fail;
	out->len += n;
	return 0;
fail:
	out->len = start;
	return rc;
}

int
pc_jws_compact(const struct pc_skey *k, struct pc_str header, struct pc_str payload,
    struct pc_buf *out)
{
	char	h[512];
	size_t	n;

	n = pc_b64url_encode((const uint8_t *)header.ptr, header.len, h, sizeof(h));
	if (n == 0)
		return -PC_ETOOBIG;
	return compact(k, pc_str_make(h, n), payload, out);
}

/* ---- keys ---- */

/* Dumps <j> compactly into a malloc'ed NUL-terminated string; NULL on failure. Takes <j>. */
static char *
dump(json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

int
pc_mint_key_new(struct pc_skey *sk, const char *kid, struct pc_mint_key **out)
{
	struct pc_mint_key	*k;
	enum pc_jws_alg		 alg = pc_skey_alg(sk);
	uint8_t			 d[32];
	char			 x[64], y[64], tp[256], *hdr = NULL;
	json_t			*j;
	size_t			 n;
	int			 rc, len;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		pc_skey_free(sk);
		return -PC_ENOMEM;
	}
	k->refs = 1;
	k->sk = sk;
	if ((rc = pc_skey_public_jwk(sk, x, sizeof(x), y, sizeof(y))) != 0)
		goto fail;
	/* RFC 7638 3: the required members only, in lexicographic order, no whitespace.
	 * x and y are base64url: nothing in them needs escaping. */
	if (alg == PC_ALG_EDDSA)
		len = snprintf(tp, sizeof(tp), "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}",
		    x);
	else
		len = snprintf(tp, sizeof(tp), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\","
		    "\"y\":\"%s\"}", x, y);
	rc = -PC_EINVAL;
	if (len < 0 || (size_t)len >= sizeof(tp))
		goto fail;
	pc_sha256(tp, (size_t)len, d);
	n = pc_b64url_encode(d, sizeof(d), k->thumb, sizeof(k->thumb) - 1);
	k->thumb[n] = '\0';
	rc = -PC_ENOMEM;
	k->kid = strdup(kid != NULL && kid[0] != '\0' ? kid : k->thumb);
	if (k->kid == NULL)
		goto fail;
	if (alg == PC_ALG_EDDSA)
		j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519",
		    "kid", k->kid, "use", "sig", "alg", "EdDSA", "x", x);
	else
		j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256",
		    "kid", k->kid, "use", "sig", "alg", "ES256", "x", x, "y", y);
	if ((k->jwk = dump(j)) == NULL)
		goto fail;
	hdr = dump(json_pack("{s:s, s:s, s:s}", "alg", pc_jws_alg_name(alg), "typ", "at+jwt",
	    "kid", k->kid));
	if (hdr == NULL)
		goto fail;
	n = strlen(hdr);
	k->hdr64 = malloc(PC_B64URL_ENCODED_LEN(n) + 1);
	if (k->hdr64 == NULL)
		goto fail;
	k->hdr64_len = pc_b64url_encode((const uint8_t *)hdr, n, k->hdr64,
	    PC_B64URL_ENCODED_LEN(n) + 1);
	free(hdr);
	*out = k;
	return 0;
fail:
	free(hdr);
	pc_mint_key_unref(k);
	return rc;
}

struct pc_mint_key *
pc_mint_key_ref(struct pc_mint_key *k)
{
	if (k != NULL)
		(void)__atomic_add_fetch(&k->refs, 1, __ATOMIC_RELAXED);
	return k;
}

void
pc_mint_key_unref(struct pc_mint_key *k)
{
	if (k == NULL || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	pc_skey_free(k->sk);
	free(k->kid);
	free(k->jwk);
	free(k->hdr64);
	free(k);
}

const char *
pc_mint_key_kid(const struct pc_mint_key *k)
{
	return k->kid;
}

/* The key made at the first need and kept until exit: without a key_file, every
 * configuration loaded by this process signs with it, so a reload does not invalidate
 * the tokens in flight, and a restart does (backends then refetch the key set). */
static pthread_mutex_t		 eph_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct pc_mint_key	*eph;

int
pc_mint_key_ephemeral(struct pc_mint_key **out)
{
	struct pc_skey	*sk;
	struct pc_pkey	*pub;
	int		 rc = 0;

	(void)pthread_mutex_lock(&eph_mtx);
	if (eph == NULL) {
		rc = pc_skey_generate(PC_ALG_EDDSA, &sk, &pub);
		if (rc == 0) {
			pc_pkey_free(pub);
			rc = pc_mint_key_new(sk, NULL, &eph);
		}
	}
	*out = pc_mint_key_ref(eph);
	(void)pthread_mutex_unlock(&eph_mtx);
	return rc;
}

/* ---- minters ---- */

static int
build_jwks(struct pc_minter *m)
{
	struct pc_buf	b;
	int		rc = 0;

	pc_buf_init(&b, 64 * 1024);
	rc |= pc_buf_add_str(&b, PC_STR("{\"keys\":["));
	rc |= pc_buf_add_str(&b, pc_str_c(m->cur->jwk));
	if (m->prev != NULL) {
		rc |= pc_buf_addc(&b, ',');
		rc |= pc_buf_add_str(&b, pc_str_c(m->prev->jwk));
	}
	rc |= pc_buf_add_str(&b, PC_STR("]}\n"));
	rc |= pc_buf_addc(&b, '\0');
	if (rc != 0) {
		pc_buf_fini(&b);
		return -PC_ENOMEM;
	}
	free(m->jwks);
	m->jwks = (char *)b.data;	/* NUL-terminated above; owned by m now */
	m->jwks_len = b.len - 1;
	return 0;
}

static uint64_t minter_ids;

int
pc_minter_new(const char *iss, uint32_t lifetime_s, struct pc_mint_key *key,
    struct pc_minter **out)
{
	struct pc_minter	*m;
	int			 rc = -PC_ENOMEM;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		pc_mint_key_unref(key);
		return rc;
	}
	m->cur = key;
	m->lifetime_s = lifetime_s;
	m->id = __atomic_add_fetch(&minter_ids, 1, __ATOMIC_RELAXED);
	if ((m->iss = strdup(iss)) == NULL || (rc = build_jwks(m)) != 0) {
		pc_minter_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void
pc_minter_free(struct pc_minter *m)
{
	if (m == NULL)
		return;
	pc_mint_key_unref(m->cur);
	pc_mint_key_unref(m->prev);
	free(m->iss);
	free(m->jwks);
	free(m);
}

int
pc_minter_follow(struct pc_minter *m, const struct pc_minter *old)
{
	struct pc_mint_key *prev;

	if (m == NULL || old == NULL)
		return 0;
	/* The same key (read again from the same file, or the process's own): what it
	 * replaced stays published; a new key: the old one is the previous. */
	prev = strcmp(old->cur->thumb, m->cur->thumb) == 0 ? old->prev : old->cur;
	if (prev != NULL && strcmp(prev->thumb, m->cur->thumb) == 0)
		prev = NULL;	/* rolled back to the key before: once is enough */
	/* One kid for two keys would make every verifier pick one of them at random. */
	if (prev != NULL && strcmp(prev->kid, m->cur->kid) == 0)
		return -PC_EINVAL;
	pc_mint_key_unref(m->prev);
	m->prev = pc_mint_key_ref(prev);
	return build_jwks(m);
}

struct pc_str
pc_minter_jwks(const struct pc_minter *m)
{
	return pc_str_make(m->jwks, m->jwks_len);
}

const struct pc_mint_key *
pc_minter_key(const struct pc_minter *m)
{
	return m->cur;
}

uint32_t
pc_minter_lifetime(const struct pc_minter *m)
{
	return m->lifetime_s;
}

/* ---- minting ---- */

/* RFC 6749 3.3 scope-token: %x21 / %x23-5B / %x5D-7E. Anything else (a space above all,
 * which would split one granted scope into two) is left out of the minted token. */
static bool
scope_ok(struct pc_str s)
{
	size_t i;

	if (s.len == 0)
		return false;
	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* Sets member <name> of <o> to the JSON string of <s>; false if <s> is not UTF-8 (jansson
 * checks) or on allocation failure. NUL and control bytes are escaped by the writer. */
static bool
set_str(json_t *o, const char *name, struct pc_str s)
{
	return json_object_set_new(o, name, json_stringn(s.ptr != NULL ? s.ptr : "", s.len)) == 0;
}

/* The client the original token was issued to: "client_id" (RFC 9068 2.2), else "azp". */
static json_t *
client_id(const struct pc_principal *p)
{
	json_t	*c = NULL, *v;

	if (p->claims.len == 0 ||
	    pc_auth__json_object(p->claims.ptr, p->claims.len, &c) != PC_AUTH_JSON_OK)
		return NULL;
	v = json_object_get(c, "client_id");
	if (!json_is_string(v))
		v = json_object_get(c, "azp");
	v = json_is_string(v) ? json_incref(v) : NULL;
	json_decref(c);
	return v;
}

/* The payload of a token for <p> to <aud>, issued at <iat>, expiring at <exp>, into <out>
 * (<cap> bytes). Returns its length or -PC_E*. */
static int
claims(const struct pc_minter *m, const struct pc_principal *p, struct pc_str aud,
    int64_t iat, int64_t exp, char *out, size_t cap)
{
	uint8_t		 jb[JTI_BYTES];
	char		 jti[PC_B64URL_ENCODED_LEN(JTI_BYTES) + 1];
	const char	*type = pc_principal_type_name(p->type);
	struct pc_buf	 scope;
	json_t		*o, *cid;
	unsigned	 i;
	size_t		 n;
	bool		 ok;
	int		 rc = 0;

	if (type == NULL || p->id.len == 0 || aud.len == 0)
		return -PC_EINVAL;
	if ((rc = pc_random_bytes(jb, sizeof(jb))) != 0)
		return rc;
	n = pc_b64url_encode(jb, sizeof(jb), jti, sizeof(jti) - 1);
	jti[n] = '\0';
	o = json_object();
	if (o == NULL)
		return -PC_ENOMEM;
	ok = set_str(o, "iss", pc_str_c(m->iss)) && set_str(o, "sub", p->id) &&
	    set_str(o, "aud", aud) &&
	    json_object_set_new(o, "iat", json_integer((json_int_t)iat)) == 0 &&
	    json_object_set_new(o, "exp", json_integer((json_int_t)exp)) == 0 &&
	    set_str(o, "jti", pc_str_c(jti)) && set_str(o, "auth_type", pc_str_c(type));
	if (ok && (cid = client_id(p)) != NULL)
		ok = json_object_set_new(o, "client_id", cid) == 0;
	if (ok && p->issuer.len > 0)
		ok = set_str(o, "orig_iss", p->issuer);
	pc_buf_init(&scope, CLAIMS_MAX);
	for (i = 0; ok && i < p->nscopes; i++) {
		if (!scope_ok(p->scopes[i]))
			continue;
		if (scope.len > 0)
			rc |= pc_buf_addc(&scope, ' ');
		rc |= pc_buf_add_str(&scope, p->scopes[i]);
	}
	if (ok && rc == 0 && scope.len > 0)
		ok = set_str(o, "scope", pc_str_make((const char *)scope.data, scope.len));
	pc_buf_fini(&scope);
	if (!ok || rc != 0) {
		json_decref(o);
		return rc != 0 ? -PC_ETOOBIG : -PC_EINVAL;
	}
	n = json_dumpb(o, out, cap, JSON_COMPACT);
	json_decref(o);
	if (n == 0 || n > cap || n > INT32_MAX)
		return -PC_ETOOBIG;
	return (int)n;
}

/* Never longer than the credential it stands for: a client token about to expire must
 * not buy a minute more upstream. One accepted within the verifier's leeway after its
 * exp gets one second. */
static int64_t
expiry(const struct pc_minter *m, const struct pc_principal *p, int64_t now)
{
	int64_t exp = now + (int64_t)m->lifetime_s;

	if (p->exp > 0 && p->exp < exp)
		exp = p->exp > now ? p->exp : now + 1;
	return exp;
}

int
pc_mint_sign(const struct pc_minter *m, const struct pc_principal *p, struct pc_str aud,
    int64_t now, struct pc_buf *out)
{
	char	payload[CLAIMS_MAX];
	int	n;

	n = claims(m, p, aud, now, expiry(m, p, now), payload, sizeof(payload));
	if (n < 0)
		return n;
	return compact(m->cur->sk, pc_str_make(m->cur->hdr64, m->cur->hdr64_len),
	    pc_str_make(payload, (size_t)n), out);
}

/* ---- the per-thread cache ---- */

struct mint_entry {
	uint8_t		 key[32];
	uint64_t	 minter;	/* 0: empty */
	int64_t		 iat, exp;
	char		*tok;
	size_t		 len;
};

struct mint_cache {
	struct mint_entry e[CACHE_SETS][CACHE_WAYS];
	uint64_t	 hits, misses;
};

/*
 * One cache per worker thread without a field in the worker: thread-specific data, made
 * on first use and freed by its destructor when the thread exits. Never shared, so no
 * lock; a worker signs at most once per principal, credential and upstream per half
 * lifetime.
 */
static pthread_once_t	 cache_once = PTHREAD_ONCE_INIT;
static pthread_key_t	 cache_key;
static bool		 cache_key_ok;

static void
cache_free(void *arg)
{
	struct mint_cache	*c = arg;
	unsigned		 i, j;

	for (i = 0; i < CACHE_SETS; i++)
		for (j = 0; j < CACHE_WAYS; j++)
			free(c->e[i][j].tok);
	free(c);
}

static void
cache_init(void)
{
	cache_key_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

static struct mint_cache *
my_cache(void)
{
	struct mint_cache *c;

	(void)pthread_once(&cache_once, cache_init);	/* cannot fail once initialised */
	if (!cache_key_ok)
		return NULL;
	c = pthread_getspecific(cache_key);
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c != NULL && pthread_setspecific(cache_key, c) != 0) {
			free(c);
			c = NULL;
		}
	}
	return c;
}

static int
add_field(struct pc_buf *b, struct pc_str s)
{
	uint32_t n = (uint32_t)s.len;

	if (s.len > UINT32_MAX)
		return -PC_ETOOBIG;
	return pc_buf_add(b, &n, sizeof(n)) | (s.len ? pc_buf_add(b, s.ptr, s.len) : 0);
}

/*
 * What a minted token depends on, hashed: the minter (its configuration snapshot), the
 * audience, and the principal: type, issuer, id, scopes, exp and the verified claims (the
 * credential itself, so a new client token gets a new minted one). Length-prefixed, so
 * no two inputs run together. False if it does not fit CACHE_KEYBUF.
 */
static bool
cache_key_of(const struct pc_minter *m, const struct pc_principal *p, struct pc_str aud,
    uint8_t key[32])
{
	uint8_t		 store[CACHE_KEYBUF], ch[32], t = (uint8_t)p->type;
	struct pc_buf	 b = { store, 0, sizeof(store), sizeof(store) };	/* fixed */
	unsigned	 i;
	int		 rc = 0;

	pc_sha256(p->claims.len ? p->claims.ptr : "", p->claims.len, ch);
	rc |= pc_buf_add(&b, &m->id, sizeof(m->id));
	rc |= pc_buf_add(&b, &t, 1);
	rc |= pc_buf_add(&b, &p->exp, sizeof(p->exp));
	rc |= pc_buf_add(&b, ch, sizeof(ch));
	rc |= add_field(&b, aud);
	rc |= add_field(&b, p->issuer);
	rc |= add_field(&b, p->id);
	for (i = 0; i < p->nscopes && rc == 0; i++)
		rc |= add_field(&b, p->scopes[i]);
	if (rc != 0)
		return false;
	pc_sha256(store, b.len, key);
	return true;
}

int
pc_mint_token(const struct pc_minter *m, const struct pc_principal *p, struct pc_str aud,
    int64_t now, struct pc_buf *out)
{
	struct mint_cache	*c = my_cache();
	struct mint_entry	*set, *e, *victim;
	uint8_t			 key[32];
	size_t			 start = out->len;
	unsigned		 i;
	int			 rc;

	if (c == NULL || !cache_key_of(m, p, aud, key))
		return pc_mint_sign(m, p, aud, now, out);
	set = c->e[key[0] % CACHE_SETS];
	victim = &set[0];
	for (i = 0; i < CACHE_WAYS; i++) {
		e = &set[i];
		if (e->minter == m->id && memcmp(e->key, key, sizeof(key)) == 0) {
			/* Reused while more than half of its own lifetime is left, so the
			 * upstream always gets at least half of it; never one issued "in the
			 * future" after the clock stepped back. */
			if (e->iat <= now && 2 * (e->exp - now) > e->exp - e->iat) {
				c->hits++;
				return pc_buf_add(out, e->tok, e->len);
			}
			victim = e;
			break;
		}
		if (victim->minter != 0 && (e->minter == 0 || e->exp < victim->exp))
			victim = e;
	}
	c->misses++;
	if ((rc = pc_mint_sign(m, p, aud, now, out)) != 0)
		return rc;
	free(victim->tok);
	victim->minter = 0;
	victim->len = out->len - start;
	victim->tok = malloc(victim->len);
	if (victim->tok == NULL)
		return 0;	/* minted, just not remembered */
	memcpy(victim->tok, out->data + start, victim->len);
	memcpy(victim->key, key, sizeof(key));
	victim->minter = m->id;
	victim->iat = now;
	victim->exp = expiry(m, p, now);
	return 0;
}

void
pc_mint_cache_stats(uint64_t *hits, uint64_t *misses)
{
	struct mint_cache *c = my_cache();

	*hits = c != NULL ? c->hits : 0;
	*misses = c != NULL ? c->misses : 0;
}
