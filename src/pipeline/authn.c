/*
 * pipeline/authn.c - the authenticate and authorize phases: the bearer token of a request
 * to a route with auth:, verified (or found in the worker's cache) into req->principal,
 * certificate-bound tokens held to their certificate, then the route's required scopes.
 * Owns: where a token is read from and what a route requires of its principal. Does not:
 * judge tokens (auth/) or write the answer (the proxy adds WWW-Authenticate).
 */
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "crypto/crypto.h"
#include "pipeline/pipeline.h"
#include "pipeline/pipeline_int.h"
#include "core/banned.h"

/* RFC 6750 2.1 b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" then "="s (the
 * padding is not checked for position: the verifier refuses anything that is not three
 * strict base64url parts anyway). */
#define B64T_RANGE(a, b)	[a ... b] = true
static const bool b64token[256] = {
	B64T_RANGE('a', 'z'), B64T_RANGE('A', 'Z'), B64T_RANGE('0', '9'),
	['-'] = true, ['.'] = true, ['_'] = true, ['~'] = true, ['+'] = true, ['/'] = true,
	['='] = true,
};
#undef B64T_RANGE

/* RFC 6750 2.1: "Bearer" 1*SP b64token, the scheme case-insensitive. Anything else in the
 * one Authorization field is malformed; two Authorization fields are too. */
static enum pc_reason
bearer(const struct pc_msg *m, struct pc_str *tok)
{
	const struct pc_hdr	*h = NULL;
	struct pc_str		 v;
	unsigned		 i;
	size_t			 j;

	for (i = 0; i < m->nhdrs; i++) {
		if (!pc_str_caseeq(m->hdrs[i].name, PC_STR("Authorization")))
			continue;
		if (h != NULL)
			return PC_R_AUTH_MALFORMED;
		h = &m->hdrs[i];
	}
	if (h == NULL)
		return PC_R_AUTH_MISSING;
	v = h->value;
	if (v.len < 7 || !pc_str_caseeq(pc_str_make(v.ptr, 6), PC_STR("Bearer")) ||
	    v.ptr[6] != ' ')
		return PC_R_AUTH_MISSING;	/* another scheme: no bearer credentials */
	for (j = 6; j < v.len && v.ptr[j] == ' '; j++)
		;
	*tok = pc_str_make(v.ptr + j, v.len - j);
	if (tok->len == 0)
		return PC_R_AUTH_MALFORMED;
	/* A table, not a chain of comparisons: this loop runs over every byte of every token
	 * on every request (a cache hit included), and showed in profiles. */
	for (j = 0; j < tok->len; j++)
		if (!b64token[(unsigned char)tok->ptr[j]])
			return PC_R_AUTH_MALFORMED;
	return PC_R_NONE;
}

/* ---- API keys (auth: naming api_keys stores) ---- */

/* A key a request carries, and the first of the route's stores that reads it there. */
struct key_cred {
	struct pc_str			 key;
	const struct pc_conf_apikeys	*from;
	bool				 in_query;
};

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* <v> percent-decoded into <a> (keys are unreserved characters, so a client need not
 * encode them; one that does still gets its key read). -PC_ENOMEM past the arena cap. */
static int
pct_decode(struct pc_arena *a, struct pc_str v, struct pc_str *out)
{
	char	*d;
	size_t	 i, n = 0;
	int	 hi, lo;

	*out = v;
	if (v.len == 0 || memchr(v.ptr, '%', v.len) == NULL)
		return 0;
	if ((d = pc_arena_alloc(a, v.len)) == NULL)
		return -PC_ENOMEM;
	for (i = 0; i < v.len; i++) {
		if (v.ptr[i] == '%' && i + 2 < v.len && (hi = hexval(v.ptr[i + 1])) >= 0 &&
		    (lo = hexval(v.ptr[i + 2])) >= 0) {
			d[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			d[n++] = v.ptr[i];
		}
	}
	*out = pc_str_make(d, n);
	return 0;
}

/* Records the key <v> found for store <st>; two different keys in one request are
 * ambiguous (which one would the upstream believe?). */
static enum pc_reason
key_found(struct key_cred *kc, struct pc_str v, const struct pc_conf_apikeys *st, bool query)
{
	if (kc->from != NULL)
		return pc_str_eq(kc->key, v) ? PC_R_NONE : PC_R_AUTH_AMBIGUOUS;
	kc->key = v;
	kc->from = st;
	kc->in_query = query;
	return PC_R_NONE;
}

/*
 * The API key of a request to a route with api_keys stores: the header of each store
 * (exactly one field: two are malformed), and the raw query of the target only for a
 * store that sets query_param. Any other query value that looks like a key is refused
 * (PC_R_AUTH_APIKEY_IN_QUERY): keys in URLs leak into logs, histories and Referer.
 */
static enum pc_reason
api_key(struct pc_req *req, struct key_cred *kc)
{
	const struct pc_conf_route	*r = req->route;
	const struct pc_msg		*m = req->msg;
	struct pc_str			 q, rest, param, name, v, dv;
	enum pc_reason			 reason;
	unsigned			 i, k, n;
	bool				 seen;

	for (k = 0; k < r->napikeys; k++) {
		const struct pc_hdr *h = NULL;

		for (i = 0, n = 0; i < m->nhdrs; i++)
			if (pc_str_caseeq(m->hdrs[i].name, pc_str_c(r->apikeys[k]->header))) {
				h = &m->hdrs[i];
				n++;
			}
		if (n > 1)
			return PC_R_AUTH_APIKEY_MALFORMED;
		if (h != NULL && (reason = key_found(kc, h->value, r->apikeys[k], false)) !=
		    PC_R_NONE)
			return reason;
	}
	rest = pc_str_split(m->target, '?', &q);
	if (rest.len == 0)
		return PC_R_NONE;
	while (rest.len > 0) {
		rest = pc_str_split(rest, '&', &param);
		v = pc_str_split(param, '=', &name);
		for (k = 0, seen = false; k < r->napikeys; k++) {
			if (r->apikeys[k]->query_param == NULL ||
			    !pc_str_eq(name, pc_str_c(r->apikeys[k]->query_param)))
				continue;
			if (kc->from != NULL && kc->in_query && !seen &&
			    pc_str_eq(pc_str_c(kc->from->query_param), name))
				return PC_R_AUTH_APIKEY_MALFORMED;	/* the parameter twice */
			if (pct_decode(req->arena, v, &dv) != 0)
				return PC_R_OVERLOAD;
			if ((reason = key_found(kc, dv, r->apikeys[k], true)) != PC_R_NONE)
				return reason;
			seen = true;
		}
		if (!seen && pc_apikey_looks_like(v))
			return PC_R_AUTH_APIKEY_IN_QUERY;
	}
	return PC_R_NONE;
}

/* The key's fingerprint as the claimed identity of a failure (never the key). */
static void
claim_key(struct pc_req *req, const struct key_cred *kc)
{
	char	 fpr[PC_APIKEY_FPR_LEN + 1];
	uint8_t	 hash[32];
	char	*s;

	pc_apikey_hash(kc->from->store, kc->key, hash);
	pc_apikey_fingerprint(hash, fpr);
	s = pc_arena_strdup(req->arena, pc_str_make(fpr, PC_APIKEY_FPR_LEN));
	if (s != NULL)
		req->claimed_id = pc_str_make(s, PC_APIKEY_FPR_LEN);
}

/* Looks the key up in each of the route's stores that read it where it was found; the
 * most telling failure wins (disabled or expired over unknown). */
static enum pc_verdict
key_run(struct pc_req *req, const struct key_cred *kc)
{
	const struct pc_conf_route	*r = req->route;
	struct pc_principal		*p;
	enum pc_reason			 reason, worst = PC_R_AUTH_APIKEY_UNKNOWN;
	unsigned			 k;
	int64_t				 now = (int64_t)time(NULL);
	int				 rc;

	if (!pc_apikey_well_formed(kc->key))
		return pc_req_deny(req, PC_R_AUTH_APIKEY_MALFORMED);	/* no lookup */
	claim_key(req, kc);
	p = pc_arena_zalloc(req->arena, sizeof(*p));
	if (p == NULL)
		return pc_req_deny(req, PC_R_OVERLOAD);
	for (k = 0; k < r->napikeys; k++) {
		const struct pc_conf_apikeys *st = r->apikeys[k];

		if (kc->in_query ? !pc_str_eq(pc_str_c(st->query_param),
		    pc_str_c(kc->from->query_param)) || st->query_param == NULL :
		    !pc_str_caseeq(pc_str_c(st->header), pc_str_c(kc->from->header)))
			continue;
		rc = pc_apikey_lookup(st->store, kc->key, now, req->arena, p, &reason);
		if (rc == 0) {
			req->principal = p;
			return PC_NEXT;
		}
		if (rc == -PC_ENOMEM)
			return pc_req_deny(req, PC_R_OVERLOAD);
		if (reason != PC_R_AUTH_APIKEY_UNKNOWN)
			worst = reason;
	}
	return pc_req_deny(req, worst);
}

/* RFC 8705 3: a token bound to a certificate is good only on a connection that proved
 * possession of that certificate (its SHA-256 thumbprint, base64url). */
static bool
binding_ok(const struct pc_req *req, const struct pc_principal *p)
{
	char	x5t[PC_B64URL_ENCODED_LEN(32) + 1];
	size_t	n;

	if (p->cnf_x5t.len == 0)
		return !req->route->bound_tokens;
	if (req->peer == NULL)
		return false;
	n = pc_b64url_encode(req->peer->sha256_raw, 32, x5t, sizeof(x5t));
	return n == p->cnf_x5t.len && pc_ct_equal(x5t, p->cnf_x5t.ptr, n);
}

/* An opaque token (not a JWS) on a route with an introspecting issuer (RFC 7662): the
 * answer comes from the process-wide cache, or the request waits for the one call. */
static enum pc_verdict
opaque(struct pc_req *req, struct pc_str tok, const uint8_t key[32], int64_t now,
    struct pc_principal *p)
{
	enum pc_reason	reason = PC_R_NONE;
	uint32_t	wait_ms = 0;
	int		rc;

	rc = pc_introspect_verify(req->route->introspect, tok, key, req->wait_expired, now,
	    req->arena, p, &wait_ms, &reason, &req->detail);
	if (rc == -PC_EAGAIN)
		return pc_req_wait(req, wait_ms);
	if (rc != 0)
		return pc_req_deny(req, reason != PC_R_NONE ? reason : PC_R_AUTH_INTROSPECTION);
	return PC_NEXT;
}

/*
 * A kid the issuer's remote set does not hold (rotation), or no set yet: ask for a refresh
 * (rate-limited by the ring) and, while one is in flight, park the request instead of
 * refusing it; the fetch thread's completion wakes it and this phase runs again. Once the
 * wait has expired the answer is final.
 */
static bool
keys_refreshing(const struct pc_req *req, const struct pc_jwt_issuer *is, enum pc_reason r)
{
	if (is == NULL || is->ring == NULL || req->wait_expired ||
	    (r != PC_R_AUTH_KEY_UNKNOWN && r != PC_R_AUTH_KEYS_UNAVAILABLE))
		return false;
	(void)pc_keyring_want_refresh(is->ring, pc_now_ms());
	return pc_keyring_is_refreshing(is->ring);
}

/*
 * auth: client_cert: the certificate the listener verified (chain to its client_ca, not
 * revoked) is the credential. Its identity is the first URI SAN (SPIFFE-style workload
 * ids), else the first DNS SAN, else the subject DN. No certificate: 403 on a route that
 * takes nothing else (as client_cert: required), else a 401 inviting the other methods.
 */
static enum pc_verdict
cert_run(struct pc_req *req)
{
	const struct pc_tls_peer	*peer = req->peer;
	struct pc_principal		*p;
	const char			*id, *copy;

	if (peer == NULL)
		return pc_req_deny(req, req->route->nauth == 0 && req->route->napikeys == 0 ?
		    PC_R_TLS_CLIENT_CERT_REQUIRED : PC_R_AUTH_MISSING);
	id = peer->san_uri[0] != '\0' ? peer->san_uri : peer->san_dns[0] != '\0' ?
	    peer->san_dns : peer->subject;
	p = pc_arena_zalloc(req->arena, sizeof(*p));
	copy = pc_arena_strdup(req->arena, pc_str_c(id));
	if (p == NULL || copy == NULL)
		return pc_req_deny(req, PC_R_OVERLOAD);
	p->type = PC_PRINCIPAL_CERT;
	p->id = pc_str_c(copy);
	p->issuer_name = "client_cert";
	req->principal = p;
	return PC_NEXT;
}

static enum pc_verdict
authenticate(struct pc_req *req)
{
	const struct pc_conf_route	*r = req->route;
	struct pc_principal		*p;
	struct pc_str			 tok = PC_STR_NULL;
	enum pc_reason			 reason;
	enum pc_verdict			 v;
	uint8_t				 key[32];
	int64_t				 now = (int64_t)time(NULL), until;

	if (!pc_route_has_auth(r))
		return PC_NEXT;
	/* Authorization is read only where tokens or keys are accepted: on a route that
	 * takes certificates alone it is the upstream's business. */
	reason = r->nauth > 0 || r->napikeys > 0 ? bearer(req->msg, &tok) : PC_R_AUTH_MISSING;
	if (r->napikeys > 0) {
		struct key_cred		kc = { PC_STR_NULL, NULL, false };
		enum pc_reason		kr = api_key(req, &kc);

		if (kr != PC_R_NONE)
			return pc_req_deny(req, kr);
		/* A bearer token and a key: refuse rather than choose (RFC 6750 3.1
		 * invalid_request: more than one method). */
		if (kc.from != NULL && reason != PC_R_AUTH_MISSING)
			return pc_req_deny(req, PC_R_AUTH_AMBIGUOUS);
		if (kc.from != NULL)
			return key_run(req, &kc);
	}
	/* No token or key presented (or none accepted): a certificate, if the route takes
	 * one. A credential that was presented and failed never falls back to it. */
	if (r->auth_cert && (reason == PC_R_AUTH_MISSING || r->nauth == 0))
		return cert_run(req);
	if (r->nauth == 0)
		return pc_req_deny(req, PC_R_AUTH_MISSING);
	if (reason != PC_R_NONE)
		return pc_req_deny(req, reason);
	p = pc_arena_zalloc(req->arena, sizeof(*p));
	if (p == NULL)
		return pc_req_deny(req, PC_R_OVERLOAD);
	pc_sha256(tok.ptr, tok.len, key);
	if (r->introspect != NULL && !pc_token_is_jws(tok)) {
		if ((v = opaque(req, tok, key, now, p)) != PC_NEXT)
			return v;
	} else if (!pc_jwt_cache_get(req->jwt_cache, key, req->conf->serial, r->auth, r->nauth,
	    now, req->arena, p)) {
		if (pc_jwt_verify(r->auth, r->nauth, tok, now, req->arena, p, &reason,
		    &req->detail) != 0) {
			if (keys_refreshing(req, p->via, reason))
				return pc_req_wait(req, pc_keyring_fetch_timeout_ms(p->via->ring));
			return pc_req_deny(req, reason != PC_R_NONE ? reason :
			    PC_R_AUTH_MALFORMED);
		}
		/* Remembered until the earlier of its own expiry and the configured TTL. */
		until = now + (int64_t)req->conf->auth_cache_ttl_s;
		if (p->exp < until)
			until = p->exp;
		if (until > now)
			pc_jwt_cache_put(req->jwt_cache, key, req->conf->serial, p->via, until, p);
	}
	if (!binding_ok(req, p)) {
		req->detail = p->cnf_x5t.len == 0 ? "route requires a certificate-bound token" :
		    "token bound to another certificate";
		return pc_req_deny(req, PC_R_AUTH_CERT_BINDING);
	}
	req->principal = p;
	return PC_NEXT;
}

/*
 * Every deny of this phase is a failed login (pipeline/guard.c, docs/decisions/0013): it is
 * counted against the client address and the identity the credential claimed, and its
 * answer is delayed or turned into a lockout there. One exit, so no deny path can skip it.
 */
enum pc_verdict
pc_authn_run(struct pc_req *req)
{
	enum pc_verdict	v = authenticate(req);
	struct pc_str	tok;

	if (v == PC_NEXT && req->principal != NULL)
		pc_guard_succeeded(req);
	if (v != PC_DENY)
		return v;
	/* A bad token is counted under the "sub" it claims: unverified, so it only ever
	 * names a counter (identities are delayed, never locked out). */
	if (req->claimed_id.len == 0 && bearer(req->msg, &tok) == PC_R_NONE &&
	    pc_jwt_claimed_sub(tok, req->arena, &req->claimed_id) != 0)
		req->claimed_id = PC_STR_NULL;	/* no readable sub: the address alone counts */
	return pc_guard_failed(req, req->deny_reason);
}

/* The route's scopes, every one of them (OAuth 2.0 scopes are grants, not alternatives). */
enum pc_verdict
pc_authz_run(struct pc_req *req)
{
	const struct pc_conf_route	*r = req->route;
	unsigned			 i;

	if (r->nscopes == 0)
		return PC_NEXT;
	/* Report-only may have let an unauthenticated request through: it has no scope. */
	if (req->principal == NULL)
		return pc_req_deny(req, PC_R_AUTHZ_SCOPE);
	for (i = 0; i < r->nscopes; i++)
		if (!pc_principal_has_scope(req->principal, pc_str_c(r->scopes[i])))
			return pc_req_deny(req, PC_R_AUTHZ_SCOPE);
	return PC_NEXT;
}
