/*
 * pipeline/phases.c - the request pipeline: the one table that says in which order the
 * deciding phases run, and the runner with its report-only rule.
 * Owns: the order. Does not: decide anything itself, or touch sockets (STYLE.md 2).
 *
 * Parsing happens before this table (the proxy owns the bytes); forwarding, the response
 * filter and the log happen after it. Later protections (authenticate, authorize, validate,
 * waf, ratelimit) are rows added here, nothing else.
 */
#include <string.h>

#include "pipeline/pipeline.h"
#include "pipeline/pipeline_int.h"
#include "core/banned.h"

enum pc_verdict
pc_req_deny(struct pc_req *req, enum pc_reason reason)
{
	req->deny_reason = reason;
	req->deny_status = pc_reason_status(reason);
	return PC_DENY;
}

static bool	report_only(const struct pc_req *req);

enum pc_verdict
pc_req_wait(struct pc_req *req, uint32_t max_ms)
{
	req->wait_ms = max_ms;
	return PC_WAIT;
}

enum pc_verdict
pc_req_deny_after(struct pc_req *req, enum pc_reason reason, uint32_t delay_ms)
{
	(void)pc_req_deny(req, reason);
	/* Report-only must not change what callers see, and that includes their latency. */
	if (delay_ms == 0 || report_only(req))
		return PC_DENY;
	req->deny_pending = true;
	req->wait_ms = delay_ms;
	return PC_WAIT;
}

static enum pc_verdict
normalize_run(struct pc_req *req)
{
	enum pc_reason	 reason = PC_R_PATH_BAD;
	char		*dst;
	size_t		 cap = req->msg->target.len + 1;

	dst = pc_arena_alloc(req->arena, cap);
	if (dst == NULL)
		return pc_req_deny(req, PC_R_LIMIT_HEADERS);
	if (pc_path_normalize(req->msg->target, dst, cap, &req->view, &reason) != 0)
		return pc_req_deny(req, reason);
	return PC_NEXT;
}

/*
 * A plain listener configured with redirect_https answers every request with a 308 to the
 * same host and normalized target on HTTPS: nothing is forwarded in clear text. The host
 * comes from the parsed Host field (validated by the parser: no '/', '@', spaces), so the
 * Location cannot point anywhere but this host.
 */
static enum pc_verdict
redirect_run(struct pc_req *req)
{
	struct pc_str	 host = req->msg->host;
	struct pc_buf	 b;
	size_t		 i;
	int		 rc = 0;

	if (req->listener == NULL || req->listener->redirect_https == 0)
		return PC_NEXT;
	if (host.len == 0)
		return pc_req_deny(req, PC_R_HTTP_HOST_MISSING);
	/* Drop the port: "[v6]:p" keeps its brackets, "name:p" loses ":p". */
	for (i = host.len; i > 0; i--) {
		if (host.ptr[i - 1] == ']')
			break;
		if (host.ptr[i - 1] == ':') {
			host.len = i - 1;
			break;
		}
	}
	pc_buf_init(&b, 16 + host.len + 8 + req->view.path_len + 1 + req->view.query.len);
	rc |= pc_buf_add_str(&b, PC_STR("https://"));
	rc |= pc_buf_add_str(&b, host);
	if (req->listener->redirect_https != 443) {
		rc |= pc_buf_addc(&b, ':');
		rc |= pc_buf_add_u64(&b, req->listener->redirect_https);
	}
	rc |= pc_buf_add(&b, req->view.path, req->view.path_len);
	if (req->view.has_query) {
		rc |= pc_buf_addc(&b, '?');
		rc |= pc_buf_add_str(&b, req->view.query);
	}
	if (rc == 0) {
		struct pc_str	 loc = pc_str_make((const char *)b.data, b.len);
		const char	*copy = pc_arena_strdup(req->arena, loc);

		if (copy != NULL)
			req->location = pc_str_make(copy, b.len);
	}
	pc_buf_fini(&b);
	if (req->location.len == 0)
		return pc_req_deny(req, PC_R_INTERNAL);
	return pc_req_deny(req, PC_R_REDIRECT_HTTPS);
}

static enum pc_verdict
route_run(struct pc_req *req)
{
	enum pc_reason reason = PC_R_ROUTE_NOT_FOUND;

	req->route = pc_route_match(req->conf, req->msg->meth, req->msg->host,
	    pc_str_make(req->view.path, req->view.path_len), &req->params, &reason);
	if (req->route == NULL)
		return pc_req_deny(req, reason);
	/* Deny by default: a route is public or names how callers authenticate (a token,
	 * a client certificate). The loader refuses anything else, and this re-checks it at
	 * request time so a future loader bug fails closed. */
	if (!req->route->public_ && !req->route->client_cert && !pc_route_has_auth(req->route))
		return pc_req_deny(req, PC_R_ROUTE_NOT_PUBLIC);
	return PC_NEXT;
}

/* Mutual TLS per route: only a certificate the listener verified (chain to its client_ca,
 * not revoked) counts; on a plain listener there is never one. */
static enum pc_verdict
client_cert_run(struct pc_req *req)
{
	if (req->route->client_cert && req->peer == NULL)
		return pc_req_deny(req, PC_R_TLS_CLIENT_CERT_REQUIRED);
	return PC_NEXT;
}

static enum pc_verdict
body_limit_run(struct pc_req *req)
{
	/* A declared length over the route's limit is refused before a byte is forwarded;
	 * chunked bodies are counted as they stream (proxy/). */
	if ((req->msg->flags & PC_MSG_HAS_CL) &&
	    req->msg->content_length > req->route->body_max_bytes)
		return pc_req_deny(req, PC_R_LIMIT_BODY);
	return PC_NEXT;
}

static const struct pc_phase phases[] = {
	{ "normalize",	normalize_run,	false },
	{ "redirect",	redirect_run,	false },
	{ "route",	route_run,	false },
	{ "client_cert", client_cert_run, true },
	{ "guard",	pc_guard_run,	true },
	{ "authenticate", pc_authn_run,	true },
	{ "authorize",	pc_authz_run,	true },
	{ "limits",	body_limit_run,	false },
};

static bool
report_only(const struct pc_req *req)
{
	return req->conf->report_only || (req->route != NULL && req->route->report_only);
}

enum pc_verdict
pc_pipeline_run_table(struct pc_req *req, const struct pc_phase *tab, unsigned n)
{
	enum pc_verdict v;

	while (req->next_phase < n) {
		const struct pc_phase *ph = &tab[req->next_phase];

		/* Resumed after pc_req_deny_after: the phase already decided; only the answer
		 * was held back. */
		if (req->deny_pending) {
			req->deny_pending = false;
			v = PC_DENY;
		} else {
			v = ph->run(req);
		}
		if (v == PC_WAIT)
			return PC_WAIT;
		req->next_phase++;
		req->wait_expired = false;	/* a new phase gets its own wait */
		if (v == PC_NEXT)
			continue;
		if (ph->may_report_only && report_only(req)) {
			/* Report-only: keep the first would-be deny, log it, let the request on. */
			if (req->would_deny == PC_R_NONE) {
				req->would_deny = req->deny_reason;
				req->would_deny_phase = ph->name;
			}
			req->deny_reason = PC_R_NONE;
			req->deny_status = 0;
			continue;
		}
		req->deny_phase = ph->name;
		return PC_DENY;
	}
	return PC_NEXT;
}

enum pc_verdict
pc_pipeline_run(struct pc_req *req)
{
	return pc_pipeline_run_table(req, phases, PC_NELEM(phases));
}

bool
pc_req_id_is_valid(struct pc_str id)
{
	size_t i;

	if (id.len == 0 || id.len > PC_REQ_ID_MAX)
		return false;
	for (i = 0; i < id.len; i++) {
		unsigned char c = (unsigned char)id.ptr[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/*
 * Request ids must be unique, not secret: a per-thread random prefix (one getrandom per
 * thread) and a counter give 32 hex characters without a syscall per request.
 */
static __thread uint64_t id_prefix, id_counter;

int
pc_req_set_id(struct pc_req *req, struct pc_str client_id)
{
	static const char	hex[] = "0123456789abcdef";
	uint64_t		v[2];
	size_t			i;
	int			rc;

	if (pc_req_id_is_valid(client_id)) {
		memcpy(req->id, client_id.ptr, client_id.len);
		req->id_len = client_id.len;
		req->id[req->id_len] = '\0';
		return 0;
	}
	if (id_prefix == 0) {
		rc = pc_random_bytes(&id_prefix, sizeof(id_prefix));
		if (rc != 0)
			return rc;
		id_prefix |= 1;
	}
	v[0] = id_prefix;
	v[1] = ++id_counter;
	for (i = 0; i < 16; i++) {
		unsigned b = (unsigned)(v[i / 8] >> (8 * (7 - i % 8))) & 0xff;

		req->id[2 * i] = hex[b >> 4];
		req->id[2 * i + 1] = hex[b & 15];
	}
	req->id_len = 32;
	req->id[req->id_len] = '\0';
	return 0;
}
