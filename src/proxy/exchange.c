/*
 * proxy/exchange.c - one request/response through the gateway, whatever the client speaks:
 * its start (own arena, configuration snapshot), its gateway-made answers, its end (the
 * access log line, security events, metrics) and where its response bytes go.
 * Owns: the exchange lifetime. Does not: read client bytes (conn.c, h2.c) or talk to the
 * upstream (upstream.c). HTTP/1.1 and HTTP/2 differ only where ex->st says so.
 */
#include <stddef.h>
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

static void	unpark(struct exchange *ex);

/* Ends the exchange whatever its state: logs once, releases the upstream side. */
void
pc_ex_end(struct exchange *ex)
{
	struct conn *c = ex->c;

	if (ex->parked) {
		unpark(ex);
		if (ex->status == 0)
			ex->status = 499;	/* gone while parked: nothing was answered */
	}
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
		if (ex->req.close_after)
			pc_h2_ex_goaway(ex);
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
	if (!ex->req_done || status == 400 || !ex->client_keepalive || ex->req.close_after)
		close = true;	/* also: the client said Connection: close (or spoke 1.0) */
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
 * Parking. A phase that cannot decide yet (a key set or an introspection answer is on its
 * way) or whose deny must wait (a slowed-down failed login) returns PC_WAIT: the exchange
 * keeps its request head, arms a timer and sits on the worker's list; nothing is read from
 * the client or sent upstream meanwhile. Parking costs the exchange's arena, so a worker
 * parks at most PC_PARKED_MAX: beyond that a held-back deny leaves at once and a waiting
 * phase is told its time is up, so memory stays bounded under a flood.
 */
#define PC_PARKED_MAX	1024

static void
park_timer_cb(struct pc_loop *loop, struct pc_timer *t)
{
	struct exchange *ex = (struct exchange *)((char *)t -
	    offsetof(struct exchange, park_timer));

	(void)loop;
	ex->req.wait_expired = !ex->req.deny_pending;
	unpark(ex);
	pc_ex_resume(ex);
}

static void
unpark(struct exchange *ex)
{
	struct worker *w = ex->c->w;

	pc_timer_disarm(w->loop, &ex->park_timer);
	if (ex->park_prev != NULL)
		ex->park_prev->park_next = ex->park_next;
	else
		w->parked = ex->park_next;
	if (ex->park_next != NULL)
		ex->park_next->park_prev = ex->park_prev;
	ex->park_prev = ex->park_next = NULL;
	ex->parked = false;
	w->nparked--;
}

/* Returns false if the worker cannot park more (the caller decides at once instead). */
static bool
park(struct exchange *ex)
{
	struct worker	*w = ex->c->w;
	uint64_t	 now = pc_now_ms(), left;

	if (w->nparked >= PC_PARKED_MAX)
		return false;
	/* HTTP/1.1: the head was parsed into the worker's scratch message, which the next
	 * request on any connection reuses: keep a copy (its strings point into c->in, which
	 * stays as it is while parked). HTTP/2 heads live in the arena already. */
	if (ex->st == NULL && ex->req.msg == &w->msg) {
		struct pc_msg *copy = pc_arena_alloc(ex->req.arena, sizeof(*copy));

		if (copy == NULL)
			return false;
		memcpy(copy, &w->msg, sizeof(*copy));
		ex->req.msg = copy;
	}
	/* A phase that parks again after a wake-up keeps its first deadline: wake-ups for
	 * other waiters must not stretch its wait. A held-back deny gets its full delay,
	 * even after its phase waited (an introspection that timed out, say). */
	if (ex->req.deny_pending || ex->park_deadline_ms == 0 ||
	    ex->park_phase != ex->req.next_phase) {
		ex->park_phase = ex->req.next_phase;
		ex->park_deadline_ms = now + ex->req.wait_ms;
	}
	left = ex->park_deadline_ms > now ? ex->park_deadline_ms - now : 0;
	ex->park_timer.cb = park_timer_cb;
	pc_timer_arm(w->loop, &ex->park_timer, left);
	ex->park_gen = w->wake_gen;
	ex->park_prev = NULL;
	ex->park_next = w->parked;
	if (w->parked != NULL)
		w->parked->park_prev = ex;
	w->parked = ex;
	w->nparked++;
	ex->parked = true;
	return true;
}

/*
 * Runs the pipeline from where it stands: parks on PC_WAIT (deciding at once when the
 * worker cannot park more), else returns the deny reason or PC_R_NONE after starting
 * the upstream side and serializing the request head for it.
 */
static enum pc_reason
ex_run(struct exchange *ex)
{
	const struct pc_msg	*msg;
	struct pc_buf		 held;
	enum pc_verdict		 v;
	int			 rc;

	for (;;) {
		v = pc_pipeline_run(&ex->req);
		if (v != PC_WAIT)
			break;
		if (park(ex))
			return PC_R_NONE;
		if (!ex->req.deny_pending)
			ex->req.wait_expired = true;	/* no room to wait: decide now */
	}
	if (v == PC_DENY)
		return ex->req.deny_reason;
	msg = ex->req.msg;
	/* HTTP/2 body bytes that arrived while parked are in upout already, framed: the
	 * head must go in front of them. */
	if (ex->upout.len == 0) {
		rc = pc_up_start(ex) != 0 || pc_out_request_head(ex, msg, ex->c) != 0;
	} else {
		held = ex->upout;
		pc_buf_init(&ex->upout, held.max);
		pc_buf_take(ex->c->w, &ex->upout);
		rc = pc_up_start(ex) != 0 || pc_out_request_head(ex, msg, ex->c) != 0 ||
		    pc_buf_add(&ex->upout, held.data, held.len) != 0;
		pc_buf_give(ex->c->w, &held);
	}
	if (rc != 0)
		return ex->req.deny_reason ? ex->req.deny_reason : PC_R_OVERLOAD;
	ex->req.msg = NULL;	/* the caller's head bytes may go now */
	return PC_R_NONE;
}

/* The parked exchange goes on: its phase runs again (or its held-back deny leaves). */
void
pc_ex_resume(struct exchange *ex)
{
	enum pc_reason reason = ex_run(ex);

	if (ex->parked)
		return;
	if (ex->st != NULL)
		pc_h2_ex_resumed(ex, reason);
	else
		pc_conn_ex_resumed(ex, reason);
}

/* pc_server_wake() reached this worker: every exchange parked before it runs its phase
 * again once (held-back denies are not waiting for anything: they keep their timer). A
 * resumed exchange may end others (its connection closes), so the list is rescanned. */
void
pc_ex_wake_parked(struct worker *w)
{
	struct exchange *ex;
	uint64_t	 gen = ++w->wake_gen;

	for (;;) {
		for (ex = w->parked; ex != NULL; ex = ex->park_next)
			if (ex->park_gen < gen && !ex->req.deny_pending)
				break;
		if (ex == NULL)
			return;
		unpark(ex);
		pc_ex_resume(ex);
	}
}

/*
 * Runs the pipeline on <msg> and, if every phase passed, starts the upstream side and
 * serializes the request head for it (ex->req_body must be set: it decides the framing).
 * Returns PC_R_NONE when the request goes on (or is parked: ex->parked, and the protocol's
 * *_resumed function is called when it goes on), else the reason to deny it with; nothing
 * has been sent anywhere then. Both protocols come through here: one path to the upstream.
 */
enum pc_reason
pc_ex_start(struct exchange *ex, const struct pc_msg *msg)
{
	const struct pc_hdr	*rid;

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
	return ex_run(ex);
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
