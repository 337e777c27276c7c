/*
 * auth/jwt.c - compact JWS access tokens (RFC 7515 7.1, RFC 7519, RFC 9068, RFC 8725):
 * token -> decoded parts -> issuer -> key -> signature, then jwt_claims.c.
 * Owns: the order of the checks: nothing in the payload but "iss" is read before the
 * signature is verified, and "iss" only chooses whose rules apply.
 * Does not: fetch keys (the header's "jwk", "jku", "x5u", "x5c" are never used: a token
 * must not name its own verifier, RFC 8725 3.10), or understand any "crit" extension.
 */
#include <string.h>

#include "auth/auth_int.h"
#include "auth/jwt_int.h"
#include "core/banned.h"

/* The largest size limit of <issuers>: the token is bounded before anything is decoded,
 * and again by its own issuer's limit once "iss" is known. */
static size_t
size_limit(const struct pc_jwt_issuer *const *issuers, unsigned n)
{
	size_t		 max = 0, m;
	unsigned	 i;

	for (i = 0; i < n; i++) {
		if (issuers[i] == NULL)
			continue;
		m = issuers[i]->max_bytes > 0 ? issuers[i]->max_bytes : PC_JWT_MAX_BYTES_DEFAULT;
		if (m > max)
			max = m;
	}
	/* No issuer at all: bounded all the same, then refused as AUTH_ISSUER. */
	return max > 0 ? max : PC_JWT_MAX_BYTES_DEFAULT;
}

/* Strict base64url of <in> into a fresh arena buffer. */
static enum pc_reason
decode(struct pc_arena *a, struct pc_str in, uint8_t **out, size_t *outlen, const char *bad,
    const char **d)
{
	size_t cap = PC_B64URL_DECODED_MAX(in.len);

	*out = pc_arena_alloc(a, cap > 0 ? cap : 1);
	if (*out == NULL) {
		*d = "out of memory";
		return PC_R_INTERNAL;
	}
	if (pc_b64url_decode(in, *out, cap, outlen) != 0) {
		*d = bad;
		return PC_R_AUTH_MALFORMED;
	}
	return PC_R_NONE;
}

static enum pc_reason
json_part(const uint8_t *p, size_t len, json_t **out, bool header, const char **d)
{
	switch (pc_auth__json_object(p, len, out)) {
	case PC_AUTH_JSON_OK:
		return PC_R_NONE;
	case PC_AUTH_JSON_DUPLICATE:
		*d = header ? "duplicate member in header" : "duplicate member in payload";
		return PC_R_AUTH_MALFORMED;
	case PC_AUTH_JSON_DEEP:
		*d = header ? "header nests too deep" : "payload nests too deep";
		return PC_R_AUTH_MALFORMED;
	case PC_AUTH_JSON_NOT_OBJECT:
		*d = header ? "header is not a JSON object" : "payload is not a JSON object";
		return PC_R_AUTH_MALFORMED;
	case PC_AUTH_JSON_NOMEM:
		*d = "out of memory";
		return PC_R_INTERNAL;
	case PC_AUTH_JSON_SYNTAX:
	default:
		*d = header ? "header is not JSON" : "payload is not JSON";
		return PC_R_AUTH_MALFORMED;
	}
}

/*
 * Splits <token> into its three parts, decodes them and parses the header and payload.
 * Exactly two dots: a JWE (five parts) or a detached or truncated JWS is not an access
 * token here. An empty signature is an Unsecured JWS whatever "alg" claims (RFC 7515 A.5).
 */
static enum pc_reason
split_decode(struct pc_jwt_tok *t, struct pc_str token, struct pc_arena *a, const char **d)
{
	struct pc_str	 sig;
	size_t		 i, dot[2] = { 0, 0 }, ndots = 0;
	enum pc_reason	 r;

	for (i = 0; i < token.len; i++) {
		if (token.ptr[i] != '.')
			continue;
		if (ndots < 2)
			dot[ndots] = i;
		ndots++;
	}
	if (ndots != 2) {
		*d = "not three dot-separated parts";
		return PC_R_AUTH_MALFORMED;
	}
	t->b64_header = pc_str_make(token.ptr, dot[0]);
	t->b64_payload = pc_str_make(token.ptr + dot[0] + 1, dot[1] - dot[0] - 1);
	sig = pc_str_make(token.ptr + dot[1] + 1, token.len - dot[1] - 1);
	if (t->b64_header.len == 0 || t->b64_payload.len == 0) {
		*d = "empty header or payload";
		return PC_R_AUTH_MALFORMED;
	}
	if (sig.len == 0) {
		*d = "empty signature (unsecured JWS)";
		return PC_R_AUTH_MALFORMED;
	}
	r = decode(a, t->b64_header, &t->header, &t->header_len, "header is not base64url", d);
	if (r == PC_R_NONE)
		r = decode(a, t->b64_payload, &t->payload, &t->payload_len,
		    "payload is not base64url", d);
	if (r == PC_R_NONE)
		r = decode(a, sig, &t->sig, &t->sig_len, "signature is not base64url", d);
	if (r == PC_R_NONE)
		r = json_part(t->header, t->header_len, &t->jh, true, d);
	return r;
}

/* "alg" and "crit" of the header (RFC 7515 4.1.1, 4.1.11). */
static enum pc_reason
check_header(struct pc_jwt_tok *t, const char **d)
{
	const json_t *alg = json_object_get(t->jh, "alg");

	if (alg == NULL) {
		*d = "alg missing";
		return PC_R_AUTH_MALFORMED;
	}
	if (!json_is_string(alg)) {
		*d = "alg is not a string";
		return PC_R_AUTH_MALFORMED;
	}
	/* Case-sensitive: "None" and "NONE" are unknown names, so refused like "none". */
	t->alg = pc_jws_alg_from_str(pc_str_make(json_string_value(alg),
	    json_string_length(alg)));
	if (t->alg == PC_ALG_NONE) {
		*d = "alg none or unknown";
		return PC_R_AUTH_ALG;
	}
	/* A recipient must refuse a token whose critical extensions it does not implement
	 * (RFC 7515 4.1.11); we implement none, so any "crit" is refused. */
	if (json_object_get(t->jh, "crit") != NULL) {
		*d = "crit present";
		return PC_R_AUTH_CRIT;
	}
	return PC_R_NONE;
}

/* The issuer whose "iss" is exactly the payload's (RFC 7519 4.1.1: case-sensitive). */
static enum pc_reason
pick_issuer(struct pc_jwt_tok *t, const struct pc_jwt_issuer *const *issuers, unsigned n,
    size_t toklen, const char **d)
{
	const json_t	*iss = json_object_get(t->jp, "iss");
	struct pc_str	 s;
	unsigned	 i;

	if (iss == NULL) {
		*d = "iss missing";
		return PC_R_AUTH_ISSUER;
	}
	if (!json_is_string(iss)) {
		*d = "iss is not a string";
		return PC_R_AUTH_MALFORMED;
	}
	s = pc_str_make(json_string_value(iss), json_string_length(iss));
	for (i = 0; i < n; i++) {
		if (issuers[i] != NULL && issuers[i]->iss != NULL &&
		    pc_str_eq(s, pc_str_c(issuers[i]->iss))) {
			t->is = issuers[i];
			break;
		}
	}
	if (t->is == NULL) {
		*d = "iss not accepted";
		return PC_R_AUTH_ISSUER;
	}
	if (toklen > (t->is->max_bytes > 0 ? t->is->max_bytes : PC_JWT_MAX_BYTES_DEFAULT)) {
		*d = "token over the issuer's size limit";
		return PC_R_AUTH_TOO_LARGE;
	}
	if ((t->is->algs & (1u << t->alg)) == 0) {
		*d = "alg not allowed for this issuer";
		return PC_R_AUTH_ALG;
	}
	return PC_R_NONE;
}

/*
 * The verification key. HS* only ever uses the issuer's configured secret: a public key
 * used as an HMAC secret is the classic key-confusion forgery (RFC 8725 2.1, 3.1).
 */
static enum pc_reason
pick_key(struct pc_jwt_tok *t, struct pc_keyset **hold, const char **d)
{
	const struct pc_jwks	*ks = t->is->keys;
	const struct pc_jwk	*k;
	const json_t		*kid;
	struct pc_str		 s;
	unsigned		 i, nfit = 0;

	if (pc_jws_alg_is_hmac(t->alg)) {
		if (t->is->hmac == NULL || !pc_jws_alg_fits(t->alg, t->is->hmac)) {
			*d = "HMAC alg without a configured secret";
			return PC_R_AUTH_ALG;
		}
		t->key = t->is->hmac;
		return PC_R_NONE;
	}
	if (t->is->ring != NULL) {
		/* Remote keys: the set current now, held until the signature is checked (a
		 * refresh may swap it meanwhile). None fetched yet: fail closed, 503. */
		if ((*hold = pc_keyring_current(t->is->ring)) == NULL) {
			*d = "no key set fetched yet";
			return PC_R_AUTH_KEYS_UNAVAILABLE;
		}
		ks = pc_keyset_jwks(*hold);
	}
	*d = "no key for this token";
	if (ks == NULL)
		return PC_R_AUTH_KEY_UNKNOWN;
	kid = json_object_get(t->jh, "kid");
	if (kid != NULL) {
		if (!json_is_string(kid)) {
			*d = "kid is not a string";
			return PC_R_AUTH_MALFORMED;
		}
		s = pc_str_make(json_string_value(kid), json_string_length(kid));
		for (i = 0; i < ks->nkeys; i++) {
			k = &ks->keys[i];
			if (k->kid == NULL || k->kid[0] == '\0' || !pc_str_eq(s, pc_str_c(k->kid)))
				continue;
			/* A key pinned to one alg never verifies another, even one it fits. */
			if ((k->alg != PC_ALG_NONE && k->alg != t->alg) ||
			    !pc_jws_alg_fits(t->alg, k->key)) {
				*d = "key does not take this alg";
				return PC_R_AUTH_KEY_UNKNOWN;
			}
			t->key = k->key;
			return PC_R_NONE;
		}
		*d = "kid unknown";
		return PC_R_AUTH_KEY_UNKNOWN;
	}
	/* No kid: usable only when exactly one key could have made this signature, so no
	 * key is ever tried in turn (and no verifier is chosen by trial). */
	for (i = 0; i < ks->nkeys; i++) {
		k = &ks->keys[i];
		if ((k->alg == PC_ALG_NONE || k->alg == t->alg) && pc_jws_alg_fits(t->alg, k->key)) {
			t->key = k->key;
			nfit++;
		}
	}
	if (nfit != 1) {
		t->key = NULL;
		*d = nfit == 0 ? "no key fits this alg" : "no kid and several keys fit";
		return PC_R_AUTH_KEY_UNKNOWN;
	}
	return PC_R_NONE;
}

int
pc_jwt_verify(const struct pc_jwt_issuer *const *issuers, unsigned n, struct pc_str token,
    int64_t now, struct pc_arena *a, struct pc_principal *p, enum pc_reason *reason,
    const char **detail)
{
	struct pc_jwt_tok	 t;
	struct pc_principal	 out;
	struct pc_keyset	*hold = NULL;
	uint64_t		 keygen;
	const char		*d = NULL;
	enum pc_reason		 r;
	int			 rc;

	memset(&t, 0, sizeof(t));
	memset(&out, 0, sizeof(out));
	if (token.len == 0 || token.ptr == NULL) {
		d = "empty token";
		r = PC_R_AUTH_MALFORMED;
	} else if (token.len > size_limit(issuers, n)) {
		d = "token too large";
		r = PC_R_AUTH_TOO_LARGE;
	} else
		r = split_decode(&t, token, a, &d);
	if (r == PC_R_NONE)
		r = check_header(&t, &d);
	if (r == PC_R_NONE)
		r = json_part(t.payload, t.payload_len, &t.jp, false, &d);
	if (r == PC_R_NONE)
		r = pick_issuer(&t, issuers, n, token.len, &d);
	if (r == PC_R_NONE)
		r = pick_key(&t, &hold, &d);
	if (r == PC_R_NONE) {
		/* The signing input is the ASCII text as sent, not a re-encoding. */
		rc = pc_jws_verify(t.alg, t.key, (const uint8_t *)token.ptr,
		    t.b64_header.len + 1 + t.b64_payload.len, t.sig, t.sig_len);
		if (rc == -PC_ENOMEM) {
			d = "out of memory";
			r = PC_R_INTERNAL;
		} else if (rc != 0) {
			d = "signature does not verify";
			r = PC_R_AUTH_SIGNATURE;
		}
	}
	keygen = hold != NULL ? pc_keyset_generation(hold) : 0;
	pc_keyset_unref(hold);
	t.key = NULL;
	if (r == PC_R_NONE)
		r = pc_jwt__claims(&t, now, &d);
	if (r == PC_R_NONE)
		r = pc_jwt__principal(&t, a, &out, &d);
	json_decref(t.jh);
	json_decref(t.jp);
	if (r == PC_R_NONE) {
		*p = out;
		p->keygen = keygen;
		*reason = PC_R_NONE;
		if (detail != NULL)
			*detail = NULL;
		return 0;
	}
	*reason = r;
	if (detail != NULL)
		*detail = d;
	/* Whose rules refused it (NULL before "iss" picked one): the caller may refresh that
	 * issuer's remote keys on an unknown kid. */
	p->via = t.is;
	return r == PC_R_INTERNAL ? -PC_ENOMEM : -PC_EPROTO;
}

const char *
pc_principal_type_name(enum pc_principal_type t)
{
	switch (t) {
	case PC_PRINCIPAL_JWT:
		return "jwt";
	case PC_PRINCIPAL_APIKEY:
		return "apikey";
	case PC_PRINCIPAL_CERT:
		return "cert";
	case PC_PRINCIPAL_INTROSPECTED:
		return "introspected";
	default:
		return NULL;	/* no principal: nothing to vouch for */
	}
}

bool
pc_principal_has_scope(const struct pc_principal *p, struct pc_str scope)
{
	unsigned i;

	if (p == NULL)
		return false;
	for (i = 0; i < p->nscopes; i++)
		if (pc_str_eq(p->scopes[i], scope))
			return true;
	return false;
}
