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
	PC_PRINCIPAL_CERT };

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

/* True if the principal was granted <scope> (exact, case-sensitive match). */
bool		 pc_principal_has_scope(const struct pc_principal *p, struct pc_str scope);

#endif
