/*
 * pipeline/guard.c - failed logins are counted, slowed down and locked out (issue 4 item 9,
 * docs/decisions/0013-failed-logins.md).
 * Owns: which failures count, the "guard" phase (a locked-out client address is refused
 *     with 429 before its credentials are even looked at), how a failure's answer is
 *     delayed (parked with pc_req_deny_after: the worker never waits), the lockout event.
 * Does not: keep the counters or decide the thresholds' arithmetic (limit/), read
 *     credentials (authn.c), or write the answer (the proxy adds Retry-After).
 */
#include <stdio.h>
#include <string.h>

#include "limit/limit.h"
#include "observe/observe.h"
#include "pipeline/pipeline.h"
#include "pipeline/pipeline_int.h"
#include "core/banned.h"

static struct pc_failures *
table_for(const struct pc_req *req)
{
	if (req->conf == NULL || !req->conf->failed_auth.enabled)
		return NULL;
	return pc_failures_process();
}

/* Routes whose callers can fail to log in: those that check credentials, and public login
 * endpoints whose upstream does (login: true). */
static bool
guarded(const struct pc_conf_route *r)
{
	return r != NULL && (pc_route_has_auth(r) || r->login);
}

static uint32_t
seconds_left(uint64_t until_ms, uint64_t now_ms)
{
	uint64_t s = until_ms > now_ms ? (until_ms - now_ms + 999) / 1000 : 1;

	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/*
 * What counts: a credential that was presented and refused. Not counted: no credential at
 * all (how every RFC 6750 client starts: it learns from the challenge), and failures that
 * are ours, not the client's (keys or introspection unavailable, out of memory).
 */
static bool
counts(enum pc_reason reason)
{
	switch (reason) {
	case PC_R_AUTH_MISSING:
	case PC_R_AUTH_KEYS_UNAVAILABLE:
	case PC_R_AUTH_INTROSPECTION:
	case PC_R_AUTH_LOCKED_OUT:
	case PC_R_OVERLOAD:
	case PC_R_INTERNAL:
		return false;
	default:
		return pc_reason_status(reason) == 401;
	}
}

/*
 * A locked-out address is answered as slowly as a failure can be (max_delay_ms, parked, not
 * holding the worker) and without keep-alive: answered at once, its 429s came back as fast
 * as it could ask (thousands a second on a few connections), and that load alone cut other
 * clients' traffic by a third in `make bench`. Now each try costs it the delay and a new
 * connection.
 */
static enum pc_verdict
locked_out(struct pc_req *req)
{
	req->close_after = true;
	return pc_req_deny_after(req, PC_R_AUTH_LOCKED_OUT, req->conf->failed_auth.max_delay_ms);
}

enum pc_verdict
pc_guard_run(struct pc_req *req)
{
	struct pc_failures	*t = table_for(req);
	uint64_t		 now, until;

	if (t == NULL || !guarded(req->route))
		return PC_NEXT;
	now = pc_now_ms();
	until = pc_failures_check(t, req->client_ip, now);
	if (until == 0)
		return PC_NEXT;
	req->retry_after_s = seconds_left(until, now);
	req->detail = "client address locked out after repeated failed logins";
	return locked_out(req);
}

/* "lockout started after 30 failures in 60 s (this one: auth_bad_signature); refused for
 * 300 s": the event says once why this address is refused from now on. */
static const char *
lockout_detail(struct pc_req *req, const struct pc_failures_result *res,
    const char *this_one)
{
	char	buf[160];
	int	n;

	n = snprintf(buf, sizeof(buf), "lockout started after %u failures in %u s (this one: "
	    "%s); refused for %u s", res->ip_count, req->conf->failed_auth.window_s, this_one,
	    req->conf->failed_auth.lockout_s);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return "lockout started";
	return pc_arena_strdup(req->arena, pc_str_make(buf, (size_t)n));
}

enum pc_verdict
pc_guard_failed(struct pc_req *req, enum pc_reason reason)
{
	struct pc_failures		*t = table_for(req);
	struct pc_failures_result	 res;
	const char			*d;
	enum pc_verdict			 v;
	uint64_t			 now;

	if (t == NULL || !counts(reason))
		return pc_req_deny(req, reason);
	now = pc_now_ms();
	(void)pc_failures_record(t, &req->conf->failed_auth, req->client_ip, req->claimed_id,
	    now, &res);
	pc_metrics_auth(PC_METRIC_AUTH_FAILURE);
	if (res.lockout_started) {
		/* This failure is the one that locks the address out: it is answered as every
		 * later request will be, and its deny event is the lockout's (once per lockout,
		 * with the failure that caused it in the detail). */
		pc_metrics_auth(PC_METRIC_AUTH_LOCKOUT);
		d = lockout_detail(req, &res, pc_reason_name(reason));
		req->detail = d != NULL ? d : "lockout started";
		req->retry_after_s = seconds_left(res.locked_until_ms, now);
		return locked_out(req);
	}
	v = pc_req_deny_after(req, reason, res.delay_ms);
	if (v == PC_WAIT)
		pc_metrics_auth(PC_METRIC_AUTH_DELAYED);
	return v;
}

void
pc_guard_succeeded(struct pc_req *req)
{
	struct pc_failures *t = table_for(req);

	if (t == NULL || req->principal == NULL)
		return;
	/* The identity's count only: see pc_failures_success(). The claimed name is what the
	 * failures were counted under (an API key's fingerprint, a token's sub). */
	pc_failures_success(t, &req->conf->failed_auth, req->claimed_id.len > 0 ?
	    req->claimed_id : req->principal->id, pc_now_ms());
}

void
pc_guard_login_status(struct pc_req *req, int status)
{
	struct pc_failures		*t = table_for(req);
	struct pc_failures_result	 res;
	struct pc_log_rec		 rec;

	if (t == NULL || req->route == NULL || !req->route->login ||
	    (status != 401 && status != 403))
		return;
	/* The upstream's answer is already on its way: it cannot be delayed, only counted.
	 * The lockout then refuses this address's next requests in the guard phase. */
	(void)pc_failures_record(t, &req->conf->failed_auth, req->client_ip, PC_STR_NULL,
	    pc_now_ms(), &res);
	pc_metrics_auth(PC_METRIC_AUTH_FAILURE);
	if (!res.lockout_started)
		return;
	pc_metrics_auth(PC_METRIC_AUTH_LOCKOUT);
	/* No deny of this request carries the event (the upstream answered it), so the
	 * lockout gets its own line, shaped like every deny event. */
	memset(&rec, 0, sizeof(rec));
	rec.wall_us = pc_wall_us();
	rec.request_id = pc_str_make(req->id, req->id_len);
	rec.client_ip = req->client_ip;
	if (req->view.path != NULL)
		rec.path = pc_str_make(req->view.path, req->view.path_len);
	rec.route = pc_str_c(req->route->name);
	rec.status = pc_reason_status(PC_R_AUTH_LOCKED_OUT);
	rec.phase = "guard";
	rec.reason = PC_R_AUTH_LOCKED_OUT;
	rec.detail = pc_str_c(lockout_detail(req, &res, status == 401 ?
	    "upstream 401 on a login route" : "upstream 403 on a login route"));
	pc_log_event(&rec);
}
