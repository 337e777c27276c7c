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
	for (j = 0; j < tok->len; j++) {
		char c = tok->ptr[j];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' ||
		    c == '='))
			return PC_R_AUTH_MALFORMED;
	}
	return PC_R_NONE;
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

enum pc_verdict
pc_authn_run(struct pc_req *req)
{
	const struct pc_conf_route	*r = req->route;
	struct pc_principal		*p;
	struct pc_str			 tok = PC_STR_NULL;
	enum pc_reason			 reason;
	uint8_t				 key[32];
	int64_t				 now = (int64_t)time(NULL), until;

	if (r->nauth == 0)
		return PC_NEXT;
	if ((reason = bearer(req->msg, &tok)) != PC_R_NONE)
		return pc_req_deny(req, reason);
	p = pc_arena_zalloc(req->arena, sizeof(*p));
	if (p == NULL)
		return pc_req_deny(req, PC_R_OVERLOAD);
	pc_sha256(tok.ptr, tok.len, key);
	if (!pc_jwt_cache_get(req->jwt_cache, key, req->conf->serial, r->auth, r->nauth, now,
	    req->arena, p)) {
		if (pc_jwt_verify(r->auth, r->nauth, tok, now, req->arena, p, &reason,
		    &req->detail) != 0)
			return pc_req_deny(req, reason != PC_R_NONE ? reason :
			    PC_R_AUTH_MALFORMED);
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
