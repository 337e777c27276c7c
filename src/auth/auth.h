/*
 * auth/auth.h - the public interface of auth/: JSON Web Key Sets (RFC 7517) and JWS/JWT
 * access tokens (RFC 7515, 7519, 9068, 8725) verified into a principal.
 * Owns: every rule about what makes a token acceptable: algorithms, key choice, encodings,
 * claims. Does not: read files or the network (config/ and later fetchers hand it bytes),
 * or decide what a route allows (pipeline/ compares scopes).
 */
#ifndef PC_AUTH_H
#define PC_AUTH_H

#include "core/core.h"
#include "crypto/crypto.h"

#define PC_JWT_MAX_BYTES_DEFAULT	8192
#define PC_JWKS_KEYS_MAX		64
#define PC_PRINCIPAL_LIST_MAX		64	/* scopes, roles, audiences kept */

/* ---- key sets ---- */

/* One usable key of a set: its kid (may be empty), the alg it is pinned to (PC_ALG_NONE:
 * any that fits the key type), and the key. */
struct pc_jwk {
	char		*kid;
	enum pc_jws_alg	 alg;
	struct pc_pkey	*key;
};

struct pc_jwks {
	struct pc_jwk	*keys;
	unsigned	 nkeys;
};

/*
 * Parses a JWK Set. Keys that cannot be used are skipped, each with a call to <warn>
 * ("key 'k1': RSA key of 1024 bits; at least 2048 required", "key 'e1': use is enc",
 * "key #3: kty 'oct' is not accepted in a key set", unsupported kty/crv, private members
 * present...): they are never used. A set that is not JSON, has duplicate member names,
 * no "keys" array, two usable keys with one kid, or more than PC_JWKS_KEYS_MAX keys is an
 * error (-PC_EINVAL, message in <err>). A set with no usable key at all is an error too.
 */
PC_MUST_CHECK int pc_jwks_parse(const char *json, size_t len, struct pc_jwks **out,
    void (*warn)(void *arg, const char *msg), void *arg, char *err, size_t errlen);
void		 pc_jwks_free(struct pc_jwks *ks);	/* accepts NULL */

/* ---- issuers and tokens ---- */

/* What a configuration says about one token issuer (config/ fills it). */
struct pc_jwt_issuer {
	const char	*name;		/* configuration name, for logs */
	const char	*iss;		/* exact "iss" */
	const char *const *audiences;	/* "aud" must contain one of these */
	unsigned	 naudiences;
	uint32_t	 algs;		/* bit (1u << enum pc_jws_alg): allowed algorithms */
	const struct pc_jwks *keys;	/* public keys (never used for HS*) */
	struct pc_keyring *ring;	/* remote keys (jwks_uri, discovery): the current set
					 * is taken from here instead of <keys>; NULL: static */
	const struct pc_pkey *hmac;	/* an explicitly configured HS* secret, or NULL */
	uint32_t	 leeway_s;	/* clock skew allowed on exp/nbf/iat; default 30 */
	uint32_t	 max_lifetime_s;	/* exp - iat (or exp - nbf, or exp - now) above it: refused */
	size_t		 max_bytes;	/* token size limit; default PC_JWT_MAX_BYTES_DEFAULT */
	bool		 require_at_jwt;	/* typ must be "at+jwt" (RFC 9068) */
	const char *const *required_claims;	/* must be present */
	unsigned	 nrequired;
	const char	*scopes_claim;	/* default "scope" (space-separated) or "scp" (array) */
	const char	*roles_claim;	/* dotted path, e.g. "realm_access.roles"; NULL: none */
};

enum pc_principal_type { PC_PRINCIPAL_NONE, PC_PRINCIPAL_JWT, PC_PRINCIPAL_APIKEY,
	PC_PRINCIPAL_CERT, PC_PRINCIPAL_INTROSPECTED /* an opaque token (RFC 7662) */ };

/* Who made the request, as the later phases and the log see it. Strings live in the arena
 * given to the verifier. */
struct pc_principal {
	enum pc_principal_type type;
	struct pc_str	 id;		/* sub; key name; certificate identity */
	struct pc_str	 issuer;	/* iss (its configuration name is in issuer_name) */
	const char	*issuer_name;
	const struct pc_jwt_issuer *via;	/* the issuer that verified it */
	struct pc_str	*scopes;
	unsigned	 nscopes;
	struct pc_str	*roles;
	unsigned	 nroles;
	struct pc_str	 acr;
	struct pc_str	 amr;		/* the "amr" array joined with spaces */
	int64_t		 auth_time;	/* 0 if absent */
	int64_t		 exp;		/* 0 if none (not for JWTs: exp is required) */
	struct pc_str	 cnf_x5t;	/* "cnf"."x5t#S256" (RFC 8705), or empty */
	struct pc_str	 claims;	/* the verified payload JSON, for later phases */
	uint64_t	 keygen;	/* remote keys: the key set generation that verified
					 * it (the cache forgets it when the set changes) */
};

/*
 * Verifies a compact JWS access token against the issuers a route accepts: the "iss" of
 * the (not yet trusted) payload picks the issuer, whose rules then apply in full; the
 * signature is checked before any claim is believed. <now> is Unix seconds. On success
 * returns 0 and fills <p> (strings in <a>). On failure returns -PC_EPROTO (or -PC_ENOMEM)
 * with *<reason> one of the PC_R_AUTH_* codes below and <detail> (may be NULL) a short
 * static text for the security event; never the token.
 *
 * Refused: more than max_bytes; not three base64url parts (strict: no padding, canonical
 * trailing bits); header or payload not a JSON object, or with a duplicate member name;
 * "alg" none, unknown, not in the issuer's list, or HS* without a configured secret (and
 * never HS* with a public key); "jwk", "jku", "x5u", "x5c" are never used to find a key;
 * "crit" present (no extension is understood); no key in the issuer's set with that "kid"
 * (or, without kid, not exactly one fitting key); bad signature; "iss" not exactly an
 * accepted issuer's; "aud" (string or array) without a configured audience; "exp" missing,
 * not a number, or past (plus leeway); "nbf" or "iat" in the future (minus leeway); a
 * lifetime over max_lifetime_s; "typ" not "at+jwt" when required; a required claim
 * missing; "sub" missing or not a string.
 * On failure only <p>->via is set: the issuer the token's "iss" picked, or NULL. An issuer
 * with a key ring and no set fetched yet refuses with PC_R_AUTH_KEYS_UNAVAILABLE.
 */
PC_MUST_CHECK int pc_jwt_verify(const struct pc_jwt_issuer *const *issuers, unsigned n,
    struct pc_str token, int64_t now, struct pc_arena *a, struct pc_principal *p,
    enum pc_reason *reason, const char **detail);

/*
 * The verified-token cache (jwt_cache.c): one per worker thread, never shared, so no lock.
 * Entries are found by the SHA-256 of the token and belong to one configuration snapshot
 * (<serial>) and one issuer; an entry is never returned past its <until> (the earlier of
 * the token's exp and the configured TTL). Least recently used entries go first.
 */
struct pc_jwt_cache;
struct pc_jwt_cache *pc_jwt_cache_new(unsigned entries);	/* NULL: no memory */
void		 pc_jwt_cache_free(struct pc_jwt_cache *c);	/* accepts NULL */
/* On a hit for one of <issuers>, fills <p> with copies in <a> and returns true. */
bool		 pc_jwt_cache_get(struct pc_jwt_cache *c, const uint8_t key[32],
    uint64_t serial, const struct pc_jwt_issuer *const *issuers, unsigned n, int64_t now,
    struct pc_arena *a, struct pc_principal *p);
void		 pc_jwt_cache_put(struct pc_jwt_cache *c, const uint8_t key[32], uint64_t serial,
    const struct pc_jwt_issuer *issuer, int64_t until, const struct pc_principal *p);

/* "jwt", "apikey", "cert", "introspected"; NULL for PC_PRINCIPAL_NONE. What the upstream
 * and the logs are told about how a caller authenticated. */
const char	*pc_principal_type_name(enum pc_principal_type t);

/* True if the principal was granted <scope> (exact, case-sensitive match). */
bool		 pc_principal_has_scope(const struct pc_principal *p, struct pc_str scope);

/* ---- opaque tokens: OAuth 2.0 Token Introspection (RFC 7662), introspect.c ---- */

#define PC_INTROSPECT_INFLIGHT_MAX	256	/* calls in flight per process; beyond: 503 */
#define PC_INTROSPECT_BODY_MAX		8192	/* a longer response is a failed call */

/* An issuer's introspection endpoint (config/ fills it; the strings are config's). */
struct pc_introspect {
	const struct pc_jwt_issuer *issuer;	/* iss, audiences, leeway, roles, max_bytes */
	const char	*endpoint;	/* https:// URL; NULL: the discovery document's */
	const char	*ca_file;	/* trust for the call; NULL: the system store */
	const char	*basic_user;	/* client_id, form-urlencoded (RFC 6749 2.3.1) */
	const char	*basic_pass;	/* client_secret, the same; a secret */
	uint32_t	 cache_s;	/* a result is reused at most this long */
	uint32_t	 timeout_ms;	/* the whole call */
	uint8_t		 tag[32];	/* SHA-256 of iss, endpoint, client_id: whose answer an
					 * entry of the process-wide cache holds */
};

/* True if <tok> has the shape of a compact JWS: exactly three dot-separated parts of
 * base64url characters. Anything else is an opaque token. */
bool		 pc_token_is_jws(struct pc_str tok);

/*
 * Authenticates the opaque access token <tok> (<key>: its SHA-256) through <in>, with the
 * process-wide result cache (shared by all workers, behind striped mutexes; one call per
 * token: concurrent requests join the call in flight). <now> is Unix seconds.
 * Returns 0 with <p> filled (strings in <a>, type PC_PRINCIPAL_INTROSPECTED); -PC_EAGAIN
 * with *<wait_ms> set: a call is in flight, park the request and ask again when woken or
 * when the time is up (then with <expired> true, which never waits again); or -PC_EPROTO
 * with *<reason> (PC_R_AUTH_INACTIVE, claim reasons as for JWTs, or PC_R_AUTH_INTROSPECTION
 * (503) when the endpoint is down, answers other than 200, answers no JSON object, or too
 * many calls are in flight) and <detail> a static text. Never logs or keeps the token.
 */
PC_MUST_CHECK int pc_introspect_verify(const struct pc_introspect *in, struct pc_str tok,
    const uint8_t key[32], bool expired, int64_t now, struct pc_arena *a,
    struct pc_principal *p, uint32_t *wait_ms, enum pc_reason *reason, const char **detail);

/*
 * The rules of RFC 7662 2.2 for one response <body>/<len> of <in>'s endpoint at <now>:
 * a JSON object without duplicate members (else PC_R_AUTH_INTROSPECTION); "active" the
 * literal true (else PC_R_AUTH_INACTIVE); "iss" if present exactly the issuer's; "aud" with
 * a configured audience (absent: refused); "exp" not past, "nbf" not future (leeway);
 * "token_type" not "refresh_token"; "sub", else "client_id", the principal's id; scopes
 * from "scope"; roles, acr, amr, auth_time and cnf as for JWTs. Returns PC_R_NONE with <p>.
 */
enum pc_reason	 pc_introspect_judge(const struct pc_introspect *in, const char *body,
    size_t len, int64_t now, struct pc_arena *a, struct pc_principal *p, const char **detail);

/* ---- API keys (apikey.c, apikey_store.c; docs/decisions/0011-api-keys.md) ---- */

/*
 * A key is "pck_" + 43 base62 characters drawn uniformly from the kernel CSPRNG (256 bits)
 * + 6 base62 characters of the CRC-32 of the 47 before them: 53 characters. The gateway
 * never holds a key, only HMAC-SHA-256(pepper, key) in a store.
 */
#define PC_APIKEY_PREFIX	"pck_"
#define PC_APIKEY_LEN		53
#define PC_APIKEY_PEPPER_BYTES	32
#define PC_APIKEY_NAME_MAX	64
#define PC_APIKEY_SCOPES_MAX	32
#define PC_APIKEY_SCOPES_BYTES	1024	/* a record's scope list, as written */
#define PC_APIKEY_FPR_LEN	12	/* fingerprint: the first hex digits of the hash */
#define PC_APIKEY_RECORDS_MAX	100000

/* Writes a fresh key and a NUL into <out>. 0, or -PC_E* if the CSPRNG failed. */
PC_MUST_CHECK int pc_apikey_generate(char out[PC_APIKEY_LEN + 1]);
/* True if <key> has the prefix, the length, the alphabet and a matching checksum. */
bool		 pc_apikey_well_formed(struct pc_str key);
/* True if the raw (percent-encoded) query value <v> decodes to text starting with the
 * key prefix: a key where the route does not read one. */
bool		 pc_apikey_looks_like(struct pc_str v);
/* A name of a key: [A-Za-z0-9._-]{1,64}. */
bool		 pc_apikey_name_ok(struct pc_str name);
/* A fresh pepper from the kernel CSPRNG, and its file text: 64 hex digits, a newline and a
 * NUL (the caller writes <text>, 0600, and wipes both). 0 or -PC_E*. */
#define PC_APIKEY_PEPPER_TEXT	(2 * PC_APIKEY_PEPPER_BYTES + 2)
PC_MUST_CHECK int pc_apikey_pepper_new(uint8_t pepper[PC_APIKEY_PEPPER_BYTES],
    char text[PC_APIKEY_PEPPER_TEXT]);
/* A pepper: exactly 64 hex digits -> 32 bytes. 0 or -PC_EINVAL. */
PC_MUST_CHECK int pc_apikey_pepper_parse(struct pc_str hex, uint8_t out[PC_APIKEY_PEPPER_BYTES]);
/* The pepper's public id: 16 hex digits of HMAC(pepper, "portcullis pepper id"), NUL-ended. */
void		 pc_apikey_pepper_id(const uint8_t pepper[PC_APIKEY_PEPPER_BYTES], char out[17]);
/* The first PC_APIKEY_FPR_LEN hex digits of <hash>, NUL-ended: names a key in logs and
 * in `keys list` without revealing it. */
void		 pc_apikey_fingerprint(const uint8_t hash[32], char out[PC_APIKEY_FPR_LEN + 1]);

/* One key of a store. */
struct pc_apikey_rec {
	uint8_t		 hash[32];	/* HMAC-SHA-256(pepper, key) */
	char		 name[PC_APIKEY_NAME_MAX + 1];
	int64_t		 created;	/* Unix seconds */
	int64_t		 expires;	/* Unix seconds; 0: never */
	bool		 disabled;
	char		*scope_text;	/* owned: "a,b", "" for none */
	struct pc_str	*scopes;	/* owned array, views into scope_text */
	unsigned	 nscopes;
	int		 line;		/* in the file it was read from; 0 if added */
};

/* A store: its records in file order and an open-addressed table over their hashes.
 * Immutable once loaded, so workers share it without a lock. */
struct pc_apikey_store {
	const char	*name;		/* configuration name (not owned) */
	uint8_t		 pepper[PC_APIKEY_PEPPER_BYTES];	/* wiped by _free */
	struct pc_apikey_rec *recs;
	unsigned	 nrecs, cap;
	uint32_t	*table;		/* record index + 1; 0 = empty slot */
	size_t		 mask;
};

/* An empty store under <pepper>; <name> is borrowed. 0 or -PC_ENOMEM. */
PC_MUST_CHECK int pc_apikey_store_new(const char *name,
    const uint8_t pepper[PC_APIKEY_PEPPER_BYTES], struct pc_apikey_store **out);
/*
 * Parses the text of a store file (strict: docs/decisions/0011). On error returns
 * -PC_EINVAL (or -PC_ENOMEM) with the 1-based line in *<line> (0: the file as a whole) and a
 * message without file name or line in <err>; a pepper-id other than <pepper>'s is an error.
 */
PC_MUST_CHECK int pc_apikey_store_parse(const char *name, const char *text, size_t len,
    const uint8_t pepper[PC_APIKEY_PEPPER_BYTES], struct pc_apikey_store **out, int *line,
    char *err, size_t errlen);
void		 pc_apikey_store_free(struct pc_apikey_store *s);	/* accepts NULL */
/* Appends a record (scopes: "a,b" or "" for none). -PC_EINVAL on a bad name or scope list
 * or a hash already present, -PC_ETOOBIG past PC_APIKEY_RECORDS_MAX, -PC_ENOMEM. */
PC_MUST_CHECK int pc_apikey_store_add(struct pc_apikey_store *s, const uint8_t hash[32],
    struct pc_str name, int64_t created, int64_t expires, struct pc_str scopes);
/* The store's file text (header and every record), appended to <out>. 0 or -PC_E*. */
PC_MUST_CHECK int pc_apikey_store_format(const struct pc_apikey_store *s, struct pc_buf *out);
/* HMAC-SHA-256 of <key> under the store's pepper. */
void		 pc_apikey_hash(const struct pc_apikey_store *s, struct pc_str key,
    uint8_t out[32]);
/*
 * Looks <key> up at <now> (Unix seconds). 0 and <p> filled (type PC_PRINCIPAL_APIKEY, id =
 * the key's name, its scopes, exp = its expiry or 0, issuer_name = the store's name; strings
 * in <a>), or -PC_EPROTO with *<reason> PC_R_AUTH_APIKEY_MALFORMED (before any lookup),
 * _UNKNOWN, _DISABLED or _EXPIRED; -PC_ENOMEM. The final comparison is constant-time.
 */
PC_MUST_CHECK int pc_apikey_lookup(const struct pc_apikey_store *s, struct pc_str key,
    int64_t now, struct pc_arena *a, struct pc_principal *p, enum pc_reason *reason);


/* ---- remote key sets (keyring.c): JWKS URL or OIDC discovery, swapped at run time ----
 *
 * A key ring holds an issuer's current JWK Set, fetched over HTTPS by the fetch thread
 * (fetch/), and the refresh state. Rings live in a process-wide registry keyed by their
 * source (jwks_uri, or issuer + discovery) and ca_file, reference-counted, so a reload that
 * keeps an issuer keeps its ring and its keys: no refetch, no window without keys.
 * Readers (the verifier, any worker thread) take a counted reference to the current set;
 * the writer (the fetch thread) swaps it; the previous set lives until its last reader
 * lets go. A fetched set that does not parse is logged and the last good one kept.
 */
struct pc_keyring;
struct pc_keyset;

struct pc_keyring_params {
	const char	*iss;		/* the issuer; discovery: the document's "issuer" must
					 * equal it exactly (OpenID Connect Discovery 4.3) */
	const char	*jwks_uri;	/* https://; NULL with discovery */
	bool		 discovery;	/* GET {iss}/.well-known/openid-configuration */
	const char	*ca_file;	/* trust anchors for the fetches; NULL: the system store */
	uint32_t	 refresh_s;	/* scheduled refresh; a max-age between 60 and this wins */
	uint32_t	 min_refresh_s;	/* on-demand (unknown kid) refreshes at most this often */
	uint32_t	 fetch_timeout_ms;
};

/* The ring for <p>'s source, a new reference (created empty if none). 0 or -PC_ENOMEM /
 * -PC_EINVAL (no https:// source). A found ring takes <p>'s timings. */
PC_MUST_CHECK int pc_keyring_acquire(const struct pc_keyring_params *p,
    struct pc_keyring **out);
void		 pc_keyring_unref(struct pc_keyring *r);	/* accepts NULL */
/*
 * The first fetch, synchronously on the caller's thread (run start, reload, check),
 * bounded by the fetch timeout per request: 0 if the ring holds a set (fetched now or
 * before), else -PC_E* with the reason in <err>. Failure or success, the fetch thread's
 * schedule takes over from here (retries with backoff from min_refresh_s).
 */
PC_MUST_CHECK int pc_keyring_prime(struct pc_keyring *r, char *err, size_t errlen);
/* The current set, a new reference, or NULL if none was ever fetched (fail closed). */
struct pc_keyset *pc_keyring_current(struct pc_keyring *r);
const struct pc_jwks *pc_keyset_jwks(const struct pc_keyset *s);
void		 pc_keyset_unref(struct pc_keyset *s);	/* accepts NULL */
uint64_t	 pc_keyset_generation(const struct pc_keyset *s);	/* as published */
/*
 * An unknown kid (or no set at all) was seen at <now_ms> (pc_now_ms()): starts a refresh
 * and returns true, unless one is in flight or one started less than min_refresh_s ago
 * (the rate limit that keeps a flood of random kids from hammering the provider).
 */
bool		 pc_keyring_want_refresh(struct pc_keyring *r, uint64_t now_ms);
bool		 pc_keyring_is_refreshing(struct pc_keyring *r);
uint64_t	 pc_keyring_generation(const struct pc_keyring *r);	/* bumped per swap */
uint32_t	 pc_keyring_fetch_timeout_ms(struct pc_keyring *r);
/*
 * The discovery document's introspection_endpoint (RFC 8414 2), or NULL (no discovery, not
 * fetched yet, or none). The string stays valid while the caller holds its reference to
 * the ring, even if a later document names another one.
 */
const char	*pc_keyring_introspection_endpoint(struct pc_keyring *r);

/* ---- minted tokens (mint.c): the gateway's own JWTs to upstreams (0014) ----
 *
 * A route with upstream_token: true sends its upstream "Authorization: Bearer <minted>"
 * instead of the client's credential: an RFC 9068 access token signed with the gateway's
 * key (EdDSA or ES256), header {alg, typ "at+jwt", kid}, claims iss, sub (the principal's
 * id), aud (the upstream's audience), iat, exp (iat + lifetime, never past the client
 * credential's own exp), jti (random), auth_type (jwt, apikey, cert, introspected),
 * client_id and orig_iss when known, scope (space-joined). Built with jansson: every
 * string is escaped, a principal string that is not UTF-8 is refused (-PC_EINVAL).
 */
#define PC_MINT_TOKEN_MAX	8192	/* bytes of a minted token's payload; more: refused */

/*
 * The gateway's one compact-JWS builder: base64url(<header>) '.' base64url(<payload>) '.'
 * base64url(signature by <k>), appended to <out> (unchanged on error). <header> and
 * <payload> are JSON texts the caller built safely. 0 or -PC_E*.
 */
PC_MUST_CHECK int pc_jws_compact(const struct pc_skey *k, struct pc_str header,
    struct pc_str payload, struct pc_buf *out);

/* A signing key with its kid and public JWK: immutable, reference-counted, shared by the
 * configuration snapshots that publish it. */
struct pc_mint_key;
/* Takes <sk>. <kid> NULL or "": the key's RFC 7638 JWK thumbprint. 0 or -PC_E*. */
PC_MUST_CHECK int pc_mint_key_new(struct pc_skey *sk, const char *kid,
    struct pc_mint_key **out);
/* A new reference to this process's own Ed25519 key, made on first use and kept until
 * exit (gateway_identity without key_file). 0 or -PC_E*. */
PC_MUST_CHECK int pc_mint_key_ephemeral(struct pc_mint_key **out);
struct pc_mint_key *pc_mint_key_ref(struct pc_mint_key *k);
void		 pc_mint_key_unref(struct pc_mint_key *k);	/* accepts NULL */
const char	*pc_mint_key_kid(const struct pc_mint_key *k);

/* What gateway_identity: configures: issuer, lifetime, the signing key and the previous
 * one, and the public JWK Set served at the admin listener's /jwks.json. */
struct pc_minter;
/* Takes <key>; copies <iss>. 0 or -PC_ENOMEM. */
PC_MUST_CHECK int pc_minter_new(const char *iss, uint32_t lifetime_s,
    struct pc_mint_key *key, struct pc_minter **out);
void		 pc_minter_free(struct pc_minter *m);	/* accepts NULL */
/*
 * Before the snapshot holding <m> replaces the one holding <old> (reload): the key set of
 * <m> keeps the key <old> signed with if it differs from <m>'s (tokens minted just before
 * still verify), else <old>'s previous one: the last two keys. Either may be NULL.
 * -PC_EINVAL if that previous key has <m>'s kid (two keys, one kid); -PC_ENOMEM.
 */
PC_MUST_CHECK int pc_minter_follow(struct pc_minter *m, const struct pc_minter *old);
/* {"keys":[current, previous]}: public members only. Valid while <m> lives. */
struct pc_str	 pc_minter_jwks(const struct pc_minter *m);
const struct pc_mint_key *pc_minter_key(const struct pc_minter *m);
uint32_t	 pc_minter_lifetime(const struct pc_minter *m);

/*
 * Appends a token for <p> to audience <aud> at <now> (Unix seconds) to <out>. A worker
 * signs once per principal, credential, audience and configuration, then reuses the token
 * from its thread's cache (1024 entries) while more than half of its lifetime is left.
 * 0, -PC_EINVAL (no principal type or id, or not UTF-8), -PC_ETOOBIG, -PC_ENOMEM.
 */
PC_MUST_CHECK int pc_mint_token(const struct pc_minter *m, const struct pc_principal *p,
    struct pc_str aud, int64_t now, struct pc_buf *out);
/* The same, always signing anew, without the cache. */
PC_MUST_CHECK int pc_mint_sign(const struct pc_minter *m, const struct pc_principal *p,
    struct pc_str aud, int64_t now, struct pc_buf *out);
/* This thread's cache counters (tests, measurements). */
void		 pc_mint_cache_stats(uint64_t *hits, uint64_t *misses);


/*
 * The "sub" of <token>'s payload WITHOUT verifying anything (jwt_sub.c): who a failed token
 * claimed to be, for failure counting only, never for a decision. *<out> is a copy in <a>
 * (at most 256 bytes). 0, or -PC_EINVAL (no readable string sub) / -PC_ETOOBIG / -PC_ENOMEM.
 */
PC_MUST_CHECK int pc_jwt_claimed_sub(struct pc_str token, struct pc_arena *a,
    struct pc_str *out);

#endif
