/*
 * proxy/upstream.c - the upstream side of an exchange: target choice (round robin with
 * passive ejection), keep-alive pools, non-blocking connect, writing the request, reading
 * and relaying the response with backpressure, retries and timeouts.
 * Owns: upstream sockets and per-worker target state. Never shared between workers, so no
 * locks: each worker has its own pools and its own view of target health.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "observe/observe.h"
#include "proxy/proxy_int.h"
#include "tls/tls.h"
#include "core/banned.h"

#define U_RUNNING	0x20u
#define U_AGAIN		0x40u

static void	up_io_cb(struct pc_loop *loop, struct pc_io *io, unsigned events);
static void	up_timeout_cb(struct pc_loop *loop, struct pc_timer *t);
static int	up_connect(struct exchange *ex);

/*
 * The worker's state for one target, found by address and TLS settings: two upstreams that
 * reach the same address the same way share pools and health; a plain and a TLS upstream
 * (or two with different CAs) never share a connection.
 */
struct target *
pc_up_target(struct worker *w, const struct pc_addr *addr, const char *pool_key)
{
	struct target	*t;
	unsigned	 i;

	if (pool_key == NULL)
		pool_key = "";
	for (i = 0; i < w->ntargets; i++) {
		t = w->targets[i];
		if (t->addr.len == addr->len && memcmp(&t->addr.ss, &addr->ss, addr->len) == 0 &&
		    strcmp(t->pool_key, pool_key) == 0)
			return t;
	}
	if (w->ntargets == w->captargets) {
		unsigned	  cap = w->captargets ? w->captargets * 2 : 16;
		struct target	**v = realloc(w->targets, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		w->targets = v;
		w->captargets = cap;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->pool_key = strdup(pool_key);
	if (t->pool_key == NULL) {
		free(t);
		return NULL;
	}
	t->addr = *addr;
	w->targets[w->ntargets++] = t;
	return t;
}

static void
up_free_cb(void *arg)
{
	struct upconn *up = arg;

	pc_buf_give(up->w, &up->in);
	free(up);
}

static void
up_close(struct upconn *up)
{
	struct worker *w = up->w;

	if (up->flags & U_CLOSED)
		return;
	up->flags |= U_CLOSED;
	pc_timer_disarm(w->loop, &up->timer);
	/* No EPOLL_CTL_DEL: close() below removes the never-dup'ed fd from the set. */
	if (up->ssl != NULL) {
		pc_tls_close(up->ssl);
		up->ssl = NULL;
	}
	close(up->io.fd);
	up->io.fd = -1;
	up->ex = NULL;
	pc_loop_defer(w->loop, &up->free_later, up_free_cb, up);
}

static void
pool_remove(struct upconn *up)
{
	struct upconn **pp;

	for (pp = &up->tgt->idle; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == up) {
			*pp = up->next;
			up->tgt->nidle--;
			return;
		}
	}
}

static void
target_ok(struct target *t)
{
	t->fails = 0;
}

static void
target_fail(struct exchange *ex, struct target *t, enum pc_reason reason)
{
	struct worker *w = ex->c->w;

	pc_metrics_upstream_error(pc_str_c(ex->ups->name), reason);
	if (ex->ups->max_fails == 0)
		return;
	if (++t->fails >= ex->ups->max_fails) {
		t->fails = 0;
		t->ejected_until_ms = pc_loop_now_ms(w->loop) + ex->ups->fail_timeout_ms;
		pc_log_error("upstream %s target %s ejected for %u ms after %u failures",
		    ex->ups->name, t->addr.text, ex->ups->fail_timeout_ms, ex->ups->max_fails);
	}
}

/*
 * Round robin over the upstream's targets, skipping ejected ones. If every target is
 * ejected, the one whose rest ends first is tried anyway: availability is not a security
 * decision, and a 502 from a real attempt is more honest than a guess.
 */
static struct target *
pick_target(struct exchange *ex, struct target *avoid)
{
	struct worker		*w = ex->c->w;
	const struct pc_conf_upstream *u = ex->ups;
	unsigned		*rr = &ex->slot->rr[ex->req.route->upstream];
	uint64_t		 now = pc_loop_now_ms(w->loop), best_until = UINT64_MAX;
	struct target		*t, *best = NULL;
	unsigned		 i;

	for (i = 0; i < u->ntargets; i++) {
		t = pc_up_target(w, &u->targets[(*rr)++ % u->ntargets], u->pool_key);
		if (t == NULL)
			return NULL;
		if (t == avoid && u->ntargets > 1)
			continue;
		if (t->ejected_until_ms <= now)
			return t;
		if (t->ejected_until_ms < best_until) {
			best_until = t->ejected_until_ms;
			best = t;
		}
	}
	return best;
}

static void
up_attach(struct exchange *ex, struct upconn *up)
{
	ex->up = up;
	up->ex = ex;
	if (ex->up_start_us == 0)
		ex->up_start_us = pc_now_us();
}

static uint64_t
read_deadline(const struct exchange *ex, uint64_t now)
{
	uint64_t d = now + ex->ups->read_timeout_ms;

	return d < ex->deadline_ms ? d : ex->deadline_ms;
}

static void
arm_read_timer(struct upconn *up)
{
	struct worker	*w = up->w;
	uint64_t	 now = pc_loop_now_ms(w->loop);
	uint64_t	 d = read_deadline(up->ex, now);

	pc_timer_arm(w->loop, &up->timer, d > now ? d - now : 0);
}

/* Closes the least recently pooled connections beyond each target's pool size. */
static void
trim_cb(void *arg)
{
	struct worker	*w = arg;
	struct upconn	*up, **pp;
	unsigned	 i, k;

	if (w->trim_pass == 1) {
		/* Once more behind everything queued in this batch (the deferred connects). */
		w->trim_pass = 2;
		pc_loop_defer(w->loop, &w->trim_later, trim_cb, w);
		return;
	}
	w->trim_pass = 0;
	for (i = 0; i < w->ntargets; i++) {
		struct target *t = w->targets[i];

		if (t->nidle <= t->max_idle)
			continue;
		for (pp = &t->idle, k = 0; *pp != NULL && k < t->max_idle; k++)
			pp = &(*pp)->next;
		while ((up = *pp) != NULL) {
			*pp = up->next;
			t->nidle--;
			up_close(up);
		}
	}
}

static void
connect_later_cb(void *arg)
{
	struct exchange *ex = arg;

	ex->connect_pending = false;
	if (ex->ended)
		return;	/* answered or gone meanwhile (its free is queued after this) */
	if (up_connect(ex) != 0) {
		pc_exchange_fail(ex, ex->req.deny_reason ? ex->req.deny_reason :
		    PC_R_UPSTREAM_CONNECT);
		return;
	}
	pc_up_drive(ex->up);
}

/*
 * Picks the target. A pooled connection is taken at once; without one, the connect waits
 * for the end of this batch of events: responses completing in the same batch put their
 * connections back in the pool first (HTTP/2 clients send new requests in bursts, and a
 * burst would otherwise open a connection each while the pool refills behind it).
 */
int
pc_up_start(struct exchange *ex)
{
	const struct pc_conf	*conf = ex->req.conf;
	struct worker		*w = ex->c->w;

	ex->ups = &conf->upstreams[ex->req.route->upstream];
	ex->deadline_ms = pc_loop_now_ms(w->loop) + ex->ups->total_timeout_ms;
	ex->tgt = pick_target(ex, NULL);
	if (ex->tgt == NULL) {
		ex->req.deny_reason = PC_R_OVERLOAD;
		return -PC_ENOMEM;
	}
	if (ex->tgt->idle == NULL && ex->st != NULL) {
		ex->connect_pending = true;
		pc_loop_defer(w->loop, &ex->connect_later, connect_later_cb, ex);
		return 0;
	}
	return up_connect(ex);
}

static bool
may_retry(const struct exchange *ex)
{
	return pc_method_is_idempotent(ex->meth) && ex->tries < 2;
}

/*
 * Connect failed: the request never reached an upstream. Idempotent requests get one more
 * try on another target; everything else is answered 502 (refused) or 504 (timed out).
 * Returns 0 if a retry started, else the error with the deny reason set.
 */
static int
connect_failed(struct exchange *ex, enum pc_reason reason)
{
	struct target *failed = ex->tgt;

	target_fail(ex, failed, reason);
	if (may_retry(ex) && ex->ups->ntargets > 1) {
		ex->tgt = pick_target(ex, failed);
		if (ex->tgt != NULL && ex->tgt != failed)
			return up_connect(ex);
	}
	ex->req.deny_reason = reason;
	ex->req.deny_status = pc_reason_status(reason);
	ex->req.deny_phase = "forward";
	return -PC_ECONNREFUSED;
}

static int
up_connect(struct exchange *ex)
{
	struct worker	*w = ex->c->w;
	struct target	*t = ex->tgt;
	struct upconn	*up;
	int		 fd, one = 1, rc;

	ex->tries++;
	if (t->idle != NULL) {
		up = t->idle;
		t->idle = up->next;
		t->nidle--;
		up->next = NULL;
		up->flags |= U_REUSED;
		pc_timer_disarm(w->loop, &up->timer);
		up_attach(ex, up);
		return 0;
	}
	fd = socket(t->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return connect_failed(ex, PC_R_UPSTREAM_CONNECT);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	up = calloc(1, sizeof(*up));
	if (up == NULL) {
		close(fd);
		ex->req.deny_reason = PC_R_OVERLOAD;
		return -PC_ENOMEM;
	}
	up->io.fd = fd;
	up->io.cb = up_io_cb;
	up->timer.cb = up_timeout_cb;
	up->w = w;
	up->tgt = t;
	up->flags = U_CONNECTING;
	pc_buf_init(&up->in, PC_RESP_HEAD_MAX + PC_READ_CHUNK);
	rc = connect(fd, (const struct sockaddr *)&t->addr.ss, t->addr.len);
	if (rc == -1 && errno != EINPROGRESS) {
		close(fd);
		free(up);
		return connect_failed(ex, PC_R_UPSTREAM_CONNECT);
	}
	if (ex->ups->tls != NULL) {
		up->ssl = pc_tls_client_ssl(ex->ups->tls, fd, (const struct sockaddr *)&t->addr.ss);
		if (up->ssl == NULL) {
			close(fd);
			free(up);
			return connect_failed(ex, PC_R_UPSTREAM_TLS);
		}
		up->flags |= U_HANDSHAKE;
	}
	if (pc_loop_add(w->loop, &up->io) != 0) {
		if (up->ssl != NULL)
			pc_tls_close(up->ssl);
		close(fd);
		free(up);
		return connect_failed(ex, PC_R_UPSTREAM_CONNECT);
	}
	up_attach(ex, up);
	pc_timer_arm(w->loop, &up->timer, ex->ups->connect_timeout_ms);
	return 0;
}

/* Called with a fresh failure on the exchange's current connection. */
static void
up_failed(struct upconn *up, enum pc_reason reason, bool connecting)
{
	struct exchange	*ex = up->ex;
	struct conn	*c = ex->c;
	bool		 stale = (up->flags & U_REUSED) && !ex->got_resp_byte;

	ex->up = NULL;
	up_close(up);
	if (connecting) {
		if (connect_failed(ex, reason) == 0) {
			pc_up_drive(ex->up);
			return;
		}
		pc_exchange_fail(ex, reason);
		return;
	}
	/*
	 * A pooled connection the upstream had closed before our request arrived: nothing was
	 * processed, so an idempotent request without a body goes again on a new connection.
	 */
	if (stale && may_retry(ex) && ex->req_body == BODY_NONE) {
		ex->upout_off = 0;	/* the head is still there (see upout) */
		if (up_connect(ex) == 0) {
			pc_up_drive(ex->up);
			return;
		}
		pc_exchange_fail(ex, ex->req.deny_reason ? ex->req.deny_reason : reason);
		return;
	}
	target_fail(ex, ex->tgt, reason);
	ex->up_end_us = pc_now_us();
	(void)c;
	pc_exchange_fail(ex, reason);
}

static void
up_timeout_cb(struct pc_loop *loop, struct pc_timer *t)
{
	struct upconn *up = (struct upconn *)((char *)t - offsetof(struct upconn, timer));

	(void)loop;
	if (up->ex == NULL) {
		pool_remove(up);	/* idle keep-alive lifetime over */
		up_close(up);
		return;
	}
	/* A connect that never completes is an unreachable upstream (502), like a refused
	 * one; a silent upstream after connecting is a timeout (504). */
	if (up->flags & (U_CONNECTING | U_HANDSHAKE))
		up_failed(up, PC_R_UPSTREAM_CONNECT_TIMEOUT, true);
	else
		up_failed(up, PC_R_UPSTREAM_TIMEOUT, false);
}

/* Writes the exchange's pending request bytes. Returns 0, or -1 after a failure. */
static int
up_write(struct upconn *up)
{
	struct exchange	*ex = up->ex;
	unsigned	 wait = 0;

	if (!(up->flags & U_WR_READY))
		return 0;
	if (pc_send_pending(up->io.fd, up->ssl, &ex->upout, &ex->upout_off, &wait) != 0) {
		up_failed(up, PC_R_UPSTREAM_RESET, false);
		return -1;
	}
	if (wait != 0)
		up->flags &= (uint16_t)~U_WR_READY;
	if (wait == PC_IO_READ)
		up->flags |= U_WR_WANTS_RD;
	if (ex->upout_off == ex->upout.len) {
		if (ex->req_body != BODY_NONE) {
			ex->upout.len = 0;
			ex->upout_off = 0;
		}
	} else if (ex->upout_off > ex->upout.len / 2) {
		pc_buf_consume(&ex->upout, ex->upout_off);
		ex->upout_off = 0;
	}
	return 0;
}

/* Decides the response framing (RFC 9112 6.3) and sends the filtered head to the client. */
static int
start_response(struct exchange *ex, const struct pc_msg *m)
{
	int		 st = m->status;

	if (ex->head_method || st == 204 || st == 304) {
		ex->resp_body = BODY_NONE;
	} else if (m->flags & PC_MSG_CHUNKED) {
		ex->resp_body = BODY_CHUNKED;
		pc_chunked_init(&ex->resp_chunked);
	} else if (m->flags & PC_MSG_HAS_CL) {
		ex->resp_body = BODY_LENGTH;
		ex->resp_left = m->content_length;
	} else {
		ex->resp_body = BODY_CLOSE;
	}
	/* HTTP/2 frames the body itself; HTTP/1.1 needs a length, chunks or a close. */
	if ((ex->resp_body == BODY_CHUNKED || ex->resp_body == BODY_CLOSE) && ex->st == NULL) {
		if (ex->client_v10)
			ex->client_keepalive = false;	/* 1.0 has no chunked: close-delimited */
		else
			ex->chunk_to_client = true;
	}
	ex->up_keepalive = ex->resp_body != BODY_CLOSE &&
	    (m->version_minor == 1 ? !(m->flags & PC_MSG_CONN_CLOSE) :
	    (m->flags & PC_MSG_CONN_KEEPALIVE) != 0);
	ex->status = st;
	/* On a login: true route, a 401/403 is a failed login (docs/decisions/0013). */
	pc_guard_login_status(&ex->req, st);
	ex->resp = (struct pc_msg *)(uintptr_t)m;
	if (pc_ex_response_head(ex) != 0)
		return -PC_ENOMEM;
	ex->resp = NULL;	/* it pointed into up->in, which is about to move */
	ex->resp_head_sent = true;
	if (ex->resp_body == BODY_NONE || (ex->resp_body == BODY_LENGTH && ex->resp_left == 0))
		ex->resp_done = true;
	return 0;
}

/* Appends response body bytes for the client, chunk-encoded when needed. */
static int
emit(struct exchange *ex, const char *p, size_t n)
{
	struct pc_buf	*out = pc_ex_out(ex);
	size_t		 before = out->len;
	int		 rc;

	rc = ex->chunk_to_client ? pc_out_chunk(out, p, n) : pc_buf_add(out, p, n);
	ex->bytes_out += out->len - before;
	return rc;
}

static int
finish_body(struct exchange *ex)
{
	ex->resp_done = true;
	ex->up_end_us = pc_now_us();
	if (!ex->chunk_to_client)
		return 0;
	ex->bytes_out += 5;
	return pc_buf_add_str(pc_ex_out(ex), PC_STR("0\r\n\r\n"));
}

/*
 * Consumes what it can of up->in: the head, then body bytes. Returns 0, or the reason the
 * response is unusable.
 */
static enum pc_reason
relay(struct upconn *up)
{
	struct exchange		*ex = up->ex;
	const struct pc_conf	*conf = ex->req.conf;
	struct pc_h1_limits	 lim;
	enum pc_reason		 reason = PC_R_UPSTREAM_BAD_RESPONSE;
	size_t			 used = 0;
	int			 rc;

	while (!ex->resp_head_sent) {
		lim.request_line_max = conf->limits.request_line_max_bytes;
		lim.head_max = PC_RESP_HEAD_MAX;
		lim.hdr_count_max = PC_HTTP_HDR_MAX;
		rc = pc_h1_parse_response((const char *)up->in.data, up->in.len, &lim,
		    &up->w->msg, &reason);
		if (rc == -PC_EAGAIN) {
			if (up->in.len >= PC_RESP_HEAD_MAX)
				return PC_R_UPSTREAM_BAD_RESPONSE;
			return PC_R_NONE;
		}
		if (rc < 0)
			return PC_R_UPSTREAM_BAD_RESPONSE;
		if (up->w->msg.status < 200) {
			/* Interim responses are the gateway's business (it sent its own 100);
			 * 101 would switch protocols, which this gateway never asked for. */
			if (up->w->msg.status == 101)
				return PC_R_UPSTREAM_BAD_RESPONSE;
			pc_buf_consume(&up->in, (size_t)rc);
			continue;
		}
		target_ok(up->tgt);
		if (start_response(ex, &up->w->msg) != 0)
			return PC_R_OVERLOAD;
		pc_buf_consume(&up->in, (size_t)rc);
	}
	while (!ex->resp_done && used < up->in.len && !pc_ex_out_full(ex)) {
		const char	*p = (const char *)up->in.data + used;
		size_t		 avail = up->in.len - used;

		if (ex->resp_body == BODY_LENGTH) {
			size_t n = avail < ex->resp_left ? avail : (size_t)ex->resp_left;

			if (emit(ex, p, n) != 0)
				return PC_R_OVERLOAD;
			used += n;
			ex->resp_left -= n;
			if (ex->resp_left == 0 && finish_body(ex) != 0)
				return PC_R_OVERLOAD;
		} else if (ex->resp_body == BODY_CHUNKED) {
			size_t consumed = 0, off = 0, dlen = 0;

			rc = pc_chunked_decode(&ex->resp_chunked, p, avail, &consumed, &off, &dlen);
			if (rc < 0)
				return PC_R_UPSTREAM_BAD_RESPONSE;
			if (emit(ex, p + off, dlen) != 0)
				return PC_R_OVERLOAD;
			used += consumed;
			if (rc == 1 && finish_body(ex) != 0)
				return PC_R_OVERLOAD;
			if (consumed == 0 && rc == 0)
				break;
		} else {
			if (emit(ex, p, avail) != 0)
				return PC_R_OVERLOAD;
			used += avail;
		}
	}
	pc_buf_consume(&up->in, used);
	/* Bytes after a complete response were never asked for: do not reuse the socket. */
	if (ex->resp_done && up->in.len > 0)
		ex->up_keepalive = false;
	return PC_R_NONE;
}

/* Reads and relays. Returns false if the exchange ended or moved on (stop touching it). */
static bool
up_read(struct upconn *up)
{
	struct exchange	*ex = up->ex;
	enum pc_reason	 r;
	ssize_t		 n;
	size_t		 want;
	unsigned	 wait = 0;
	bool		 progress = false;

	while ((up->flags & U_RD_READY) && !ex->resp_done && !pc_ex_out_full(ex)) {
		pc_buf_take(up->w, &up->in);
		if (pc_buf_reserve(&up->in, PC_READ_CHUNK) != 0 && up->in.len == up->in.max) {
			up_failed(up, PC_R_UPSTREAM_BAD_RESPONSE, false);
			return false;
		}
		want = up->in.cap - up->in.len;
		n = pc_sock_read(up->io.fd, up->ssl, up->in.data + up->in.len, want, &wait);
		if (n > 0 && (size_t)n < want && !(up->flags & U_HUP) && up->ssl == NULL)
			up->flags &= (uint16_t)~U_RD_READY;	/* drained (see conn_read) */
		if (n == PC_SOCK_AGAIN) {
			up->flags &= (uint16_t)~U_RD_READY;
			if (wait == PC_IO_WRITE)
				up->flags |= U_RD_WANTS_WR;
			break;
		}
		if (n <= 0) {
			/* EOF: the end of a close-delimited body, or a failure. */
			if (ex->resp_head_sent && ex->resp_body == BODY_CLOSE) {
				ex->up_keepalive = false;
				if (finish_body(ex) != 0) {
					pc_exchange_fail(ex, PC_R_OVERLOAD);
					return false;
				}
				pc_exchange_resp_ready(ex);
				return false;
			}
			up_failed(up, ex->got_resp_byte ? PC_R_UPSTREAM_BAD_RESPONSE :
			    PC_R_UPSTREAM_RESET, false);
			return false;
		}
		up->in.len += (size_t)n;
		ex->got_resp_byte = true;
		progress = true;
		r = relay(up);
		if (r != PC_R_NONE) {
			up_failed(up, r, false);
			return false;
		}
	}
	/* Bytes held back by client backpressure are relayed when the client drains. */
	if (up->in.len > 0 && !ex->resp_done && !pc_ex_out_full(ex)) {
		r = relay(up);
		if (r != PC_R_NONE) {
			up_failed(up, r, false);
			return false;
		}
		progress = true;
	}
	if (!ex->resp_done)
		arm_read_timer(up);
	else
		pc_timer_disarm(up->w->loop, &up->timer);
	if (progress) {
		pc_exchange_resp_ready(ex);
		return false;
	}
	return true;
}

/*
 * TLS to the upstream, under the connect timeout: a handshake that fails (certificate not
 * trusted, wrong name, no common protocol) is a failed connect, retried on another target
 * like a refused one. Returns true once done.
 */
static bool
up_handshake(struct upconn *up)
{
	int rc = pc_tls_handshake(up->ssl);

	switch (rc) {
	case 1:
		/* Read-ahead may hold bytes past the handshake already: read, do not wait. */
		up->flags = (uint16_t)((up->flags & ~U_HANDSHAKE) | U_RD_READY);
		arm_read_timer(up);
		return true;
	case PC_TLS_WANT_READ:
		up->flags &= (uint16_t)~U_RD_READY;
		return false;
	case PC_TLS_WANT_WRITE:
		up->flags &= (uint16_t)~U_WR_READY;
		return false;
	default:
		up->ex->req.detail = pc_tls_last_error(up->ssl);
		up_failed(up, PC_R_UPSTREAM_TLS, true);
		return false;
	}
}

static void
up_step(struct upconn *up)
{
	struct exchange	*ex = up->ex;
	int		 err = 0;
	socklen_t	 elen = sizeof(err);

	if (ex == NULL || (up->flags & U_CLOSED))
		return;
	if (up->flags & U_CONNECTING) {
		if (!(up->flags & (U_WR_READY | U_RD_READY)))
			return;
		if (getsockopt(up->io.fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 || err != 0) {
			up_failed(up, err == ETIMEDOUT ? PC_R_UPSTREAM_CONNECT_TIMEOUT :
			    PC_R_UPSTREAM_CONNECT, true);
			return;
		}
		up->flags &= (uint16_t)~U_CONNECTING;
		if (up->ssl == NULL)
			arm_read_timer(up);
	}
	if ((up->flags & U_HANDSHAKE) && !up_handshake(up))
		return;
	if (up_write(up) != 0)
		return;
	if (!ex->req_done && ex->upout.len - ex->upout_off < PC_UPOUT_HIGH &&
	    (ex->st != NULL ? ex->st->unconsumed > 0 :
	    (ex->c->flags & C_RD_READY) || ex->c->in.len > 0)) {
		/* Room for more body: the client side reads when it runs. */
		pc_conn_kick(ex->c);
		if (up->ex != ex || (up->flags & U_CLOSED))
			return;
	}
	(void)up_read(up);
}

void
pc_up_drive(struct upconn *up)
{
	if (up == NULL)
		return;
	if (up->flags & U_RUNNING) {
		up->flags |= U_AGAIN;
		return;
	}
	up->flags |= U_RUNNING;
	do {
		up->flags &= (uint16_t)~U_AGAIN;
		up_step(up);
	} while ((up->flags & U_AGAIN) && !(up->flags & U_CLOSED) && up->ex != NULL);
	up->flags &= (uint16_t)~U_RUNNING;
}

static void
up_io_cb(struct pc_loop *loop, struct pc_io *io, unsigned events)
{
	struct upconn *up = (struct upconn *)((char *)io - offsetof(struct upconn, io));

	(void)loop;
	if (events & PC_IO_READ) {
		up->flags |= U_RD_READY;
		if (up->flags & U_WR_WANTS_RD)
			up->flags = (uint16_t)((up->flags & ~U_WR_WANTS_RD) | U_WR_READY);
	}
	if (events & PC_IO_HUP)
		up->flags |= U_HUP;
	if (events & PC_IO_WRITE) {
		if (up->flags & U_RD_WANTS_WR)
			up->flags = (uint16_t)((up->flags & ~U_RD_WANTS_WR) | U_RD_READY);
		up->flags |= U_WR_READY;
	}
	if (up->ex == NULL) {
		/* Pooled and idle: any readiness to read is the upstream closing (or talking
		 * out of turn). Either way the connection is done. */
		if (events & (PC_IO_READ | PC_IO_HUP)) {
			pool_remove(up);
			up_close(up);
		}
		return;
	}
	pc_up_drive(up);
}

void
pc_up_release(struct exchange *ex, bool reusable)
{
	struct upconn	*up = ex->up;
	struct target	*t = up->tgt;
	struct worker	*w = up->w;

	ex->up = NULL;
	if (ex->up_end_us == 0)
		ex->up_end_us = pc_now_us();
	if (!reusable || ex->ups->keepalive_max == 0 || up->in.len > 0 ||
	    (up->flags & (U_CONNECTING | U_HANDSHAKE | U_CLOSED)) || w->draining) {
		up_close(up);
		return;
	}
	up->ex = NULL;
	up->flags &= (uint16_t)~U_REUSED;
	pc_buf_give(w, &up->in);
	up->next = t->idle;
	t->idle = up;
	t->nidle++;
	t->max_idle = ex->ups->keepalive_max;
	pc_timer_arm(w->loop, &up->timer, ex->ups->keepalive_timeout_ms);
	/* Over the pool's size: kept until the end of this batch of events, when requests
	 * that started in it (their connects wait for that too) have taken what they need;
	 * only then is the surplus closed. Closing it now would open as many again. */
	if (t->nidle > t->max_idle && w->trim_pass == 0) {
		w->trim_pass = 1;
		pc_loop_defer(w->loop, &w->trim_later, trim_cb, w);
	}
}

void
pc_up_worker_fini(struct worker *w)
{
	struct upconn	*up;
	unsigned	 i;

	for (i = 0; i < w->ntargets; i++) {
		while ((up = w->targets[i]->idle) != NULL) {
			w->targets[i]->idle = up->next;
			up_close(up);
		}
		free(w->targets[i]->pool_key);
		free(w->targets[i]);
	}
	free(w->targets);
	w->targets = NULL;
	w->ntargets = 0;
}
