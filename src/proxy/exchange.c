/*
 * proxy/exchange.c - one request/response through the gateway, whatever the client speaks:
 * its start (own arena, configuration snapshot), its gateway-made answers, its end (the
 * access log line, security events, metrics) and where its response bytes go.
 * Owns: the exchange lifetime. Does not: read client bytes (conn.c, h2.c) or talk to the
 * upstream (upstream.c). HTTP/1.1 and HTTP/2 differ only where ex->st says so.
 */
#include <string.h>

#include "observe/observe.h"
#include "proxy/proxy_int.h"
#include "tls/tls.h"
#include "core/banned.h"

static void
log_exchange(struct exchange *ex)
{
	const struct conn	*c = ex->c;
	struct pc_req		*req = &ex->req;
	struct pc_log_rec	 rec;
	int			 status = ex->status;

	memset(&rec, 0, sizeof(rec));
	rec.wall_us = req->wall_us;
	rec.request_id = pc_str_make(req->id, req->id_len);
	rec.client_ip = req->client_ip;
	rec.method = ex->method;
	rec.path = req->view.path != NULL ? pc_str_make(req->view.path, req->view.path_len) :
	    ex->raw_target;
	if (req->route != NULL)
		rec.route = pc_str_c(req->route->name);
	if (ex->tgt != NULL && ex->up_start_us != 0)
		rec.upstream = pc_str_c(ex->tgt->addr.text);
	rec.status = status;
	rec.bytes_in = ex->bytes_in;
	rec.bytes_out = ex->bytes_out;
	rec.upstream_us = ex->up_start_us == 0 ? -1 :
	    (int64_t)((ex->up_end_us ? ex->up_end_us : pc_now_us()) - ex->up_start_us);
	rec.total_us = pc_now_us() - req->start_us;
	rec.phase = req->deny_phase;
	rec.detail = pc_str_c(req->detail);
	rec.reason = req->deny_reason;
	rec.would_deny = req->would_deny;
	rec.would_deny_phase = req->would_deny_phase;
	if (req->principal != NULL)
		rec.principal = req->principal->id;
	rec.http = ex->st != NULL ? pc_str_c("2") : pc_str_c(ex->client_v10 ? "1.0" : "1.1");
	if (c->tls_version != NULL)
		rec.tls = pc_str_c(c->tls_version);
	if (c->peer != NULL) {
		rec.client_cert = pc_str_c(c->peer->sha256);
		rec.client_subject = pc_str_c(c->peer->subject);
	}
	pc_log_access(&rec);
	/* A redirect to HTTPS is how a plain listener answers, not a security decision. */
	if (req->deny_reason == PC_R_REDIRECT_HTTPS)
		rec.reason = PC_R_NONE;
	if (rec.reason != PC_R_NONE || req->would_deny != PC_R_NONE)
		pc_log_event(&rec);
	pc_metrics_request(rec.route, status, rec.total_us);
}

static void
exchange_free_cb(void *arg)
{
	struct exchange	*ex = arg;
	struct worker	*w = ex->c->w;
	struct confslot	*slot = ex->slot;

	pc_buf_give(w, &ex->upout);
	pc_arena_give(w, ex->req.arena);	/* ex lives in its own arena */
	pc_worker_conf_release(w, slot);
}

/* Ends the exchange whatever its state: logs once, releases the upstream side. */
void
pc_ex_end(struct exchange *ex)
{
	struct conn *c = ex->c;

	if (ex->up != NULL)
		pc_up_release(ex, false);
	if (ex->status == 0)
		ex->status = ex->req.deny_status ? ex->req.deny_status : 499;
	log_exchange(ex);
	if (ex->st != NULL)
		pc_h2_ex_detach(ex);
	else
		c->ex = NULL;
	ex->ended = true;
	/* Freed after this batch, like connections: callers up the stack may still hold it.
	 * (The connection is freed after it: deferrals run in order.) */
	pc_loop_defer(c->w->loop, &ex->free_later, exchange_free_cb, ex);
}

/*
 * Answers with a gateway error. If a response is already on its way the connection (the
 * stream, on HTTP/2) can only be cut, so the client never mistakes a truncated body for a
 * whole one.
 */
void
pc_ex_deny(struct exchange *ex, enum pc_reason reason, bool close)
{
	struct conn	*c = ex->c;
	int		 status = pc_reason_status(reason);
	size_t		 before;

	if (ex->req.deny_reason == PC_R_NONE) {
		ex->req.deny_reason = reason;
		ex->req.deny_status = status;
	}
	if (ex->req.deny_phase == NULL)
		ex->req.deny_phase = "forward";
	if (ex->st != NULL) {
		/* HTTP/2: the answer (or the reset) concerns this stream only. */
		ex->status = ex->resp_head_sent ? ex->status : status;
		pc_h2_ex_error(ex, status, reason);
		pc_ex_end(ex);
		pc_conn_kick(c);
		return;
	}
	if (ex->resp_head_sent) {
		pc_conn_close(c);
		return;
	}
	/* Unread body bytes leave the connection out of sync; a malformed request says the
	 * client (or something between) does not speak HTTP the way we do: close both. */
	if (!ex->req_done || status == 400)
		close = true;
	ex->status = status;
	if (close)
		c->flags |= C_CLOSING;
	before = c->out.len;
	if (pc_out_error(&c->out, &ex->req, status, reason, close) != 0) {
		pc_conn_close(c);
		return;
	}
	ex->bytes_out += c->out.len - before;
	pc_ex_end(ex);
	pc_conn_kick(c);
}

void
pc_exchange_fail(struct exchange *ex, enum pc_reason reason)
{
	pc_ex_deny(ex, reason, false);
}

/* The response is complete (and, for keep-alive, the request fully read): finish. */
void
pc_ex_done(struct exchange *ex)
{
	struct conn	*c = ex->c;
	bool		 keep = ex->client_keepalive && ex->req_done;

	if (ex->up != NULL)
		pc_up_release(ex, ex->up_keepalive && ex->req_done);
	if (!keep && ex->st == NULL)
		c->flags |= C_CLOSING;
	pc_ex_end(ex);
}

/* Starts an exchange in its own arena (from the worker's cache), on the current
 * configuration slot. <msg> may be NULL (a head that did not parse, or an HTTP/2 stream
 * whose header list is still arriving). */
int
pc_ex_new(struct conn *c, const struct pc_msg *msg, struct exchange **out)
{
	struct worker	*w = c->w;
	struct pc_arena	*a;
	struct exchange	*ex;

	a = pc_arena_take(w, 64 * 1024 + 2 * sizeof(struct pc_msg));
	if (a == NULL)
		return -PC_ENOMEM;
	ex = pc_arena_zalloc(a, sizeof(*ex));
	if (ex == NULL) {
		pc_arena_give(w, a);
		return -PC_ENOMEM;
	}
	ex->req.arena = a;
	ex->c = c;
	ex->slot = w->cur;
	w->cur->users++;
	ex->req.conf = w->cur->conf;
	ex->req.msg = msg;
	ex->req.client_ip = pc_str_c(c->ip);
	ex->req.listener = &ex->req.conf->listeners[c->lidx];
	ex->req.tls = c->ssl != NULL;
	ex->req.peer = c->peer;
	ex->req.jwt_cache = w->jwt_cache;
	ex->req.start_us = pc_now_us();
	ex->req.wall_us = pc_wall_us();
	pc_buf_init(&ex->upout, PC_UPOUT_HIGH + PC_READ_CHUNK * 2 + 64 * 1024);
	pc_buf_take(w, &ex->upout);
	*out = ex;
	return 0;
}

/*
 * Runs the pipeline on <msg> and, if every phase passed, starts the upstream side and
 * serializes the request head for it (ex->req_body must be set: it decides the framing).
 * Returns PC_R_NONE when the request goes on, else the reason to deny it with; nothing has
 * been sent anywhere then. Both protocols come through here: one path to the upstream.
 */
enum pc_reason
pc_ex_start(struct exchange *ex, const struct pc_msg *msg)
{
	const struct pc_hdr	*rid;
	enum pc_verdict		 v;

	ex->meth = msg->meth;
	ex->head_method = msg->meth == PC_M_HEAD;
	ex->method = pc_str_make(pc_arena_strdup(ex->req.arena, msg->method), msg->method.len);
	ex->raw_target = pc_str_make(pc_arena_strdup(ex->req.arena, msg->target),
	    msg->target.len);
	rid = pc_msg_header(msg, PC_STR("X-Request-Id"));
	if (ex->method.ptr == NULL || ex->raw_target.ptr == NULL ||
	    pc_req_set_id(&ex->req, rid != NULL ? rid->value : PC_STR_NULL) != 0)
		return PC_R_INTERNAL;
	ex->req.msg = msg;
	v = pc_pipeline_run(&ex->req);
	if (v == PC_DENY)
		return ex->req.deny_reason;
	/* No phase waits yet and resuming is not built (docs/internals/pipeline.md): fail
	 * closed rather than forward a request a phase has not finished with. */
	if (v != PC_NEXT)
		return PC_R_INTERNAL;
	if (pc_up_start(ex) != 0 || pc_out_request_head(ex, msg, ex->c) != 0)
		return ex->req.deny_reason ? ex->req.deny_reason : PC_R_OVERLOAD;
	ex->req.msg = NULL;	/* the caller's head bytes may go now */
	return PC_R_NONE;
}

/* Where the response for the client goes: the connection's output (HTTP/1.1), or the
 * stream's body buffer that DATA frames are cut from (HTTP/2). */
struct pc_buf *
pc_ex_out(struct exchange *ex)
{
	return ex->st != NULL ? &ex->st->body : &ex->c->out;
}

/* True while the client side holds enough unsent response bytes: stop reading the
 * upstream until it drains (backpressure, both protocols). */
bool
pc_ex_out_full(const struct exchange *ex)
{
	if (ex->st != NULL)
		return ex->st->body.len - ex->st->body_off >= PC_H2_BODY_HIGH;
	return ex->c->out.len >= PC_OUT_HIGH;
}

/* Sends the filtered response head to the client. */
int
pc_ex_response_head(struct exchange *ex)
{
	struct pc_buf	*out = &ex->c->out;
	size_t		 before = out->len;
	int		 rc;

	if (ex->st != NULL)
		return pc_h2_ex_response_head(ex);
	rc = pc_out_response_head(ex, out);
	ex->bytes_out += out->len - before;
	return rc;
}

void
pc_exchange_resp_ready(struct exchange *ex)
{
	if (ex->st != NULL) {
		struct conn *c = ex->c;

		pc_h2_ex_ready(ex);	/* may end <ex> */
		pc_conn_kick_later(c);
		return;
	}
	pc_conn_kick(ex->c);
}
