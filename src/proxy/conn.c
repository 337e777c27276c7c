/*
 * proxy/conn.c - client connections: read and parse request heads, run the pipeline,
 * stream request bodies to the upstream side, write responses, keep-alive and pipelining.
 * Owns: the client socket, its buffers and timers, and the exchange lifetime.
 * Does not: decide policy (pipeline/), talk to upstreams (upstream.c), format logs (observe/).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "observe/observe.h"
#include "proxy/proxy_int.h"
#include "tls/tls.h"
#include "core/banned.h"

static void	conn_run(struct conn *c);
static void	conn_step(struct conn *c);
static void	conn_io_cb(struct pc_loop *loop, struct pc_io *io, unsigned events);
static void	conn_reject_head(struct conn *c, enum pc_reason reason);

static void
conn_free_cb(void *arg)
{
	struct conn *c = arg;

	pc_buf_give(c->w, &c->in);
	pc_buf_give(c->w, &c->out);
	free(c->peer);
	free(c->peer_hdr);
	free(c);
}

/* Ends TLS on the connection: close_notify if it got that far, then the SSL and the
 * listener's TLS state it held go. */
static void
conn_tls_end(struct conn *c)
{
	if (c->ssl == NULL)
		return;
	pc_tls_close(c->ssl);
	c->ssl = NULL;
	pc_tls_server_unref(c->tls);
	c->tls = NULL;
}

static size_t
in_max(const struct pc_conf *conf)
{
	return (size_t)conf->limits.request_line_max_bytes + conf->limits.header_max_bytes +
	    PC_READ_CHUNK + 4;
}

static const struct pc_conf *
conn_conf(const struct conn *c)
{
	return c->ex != NULL ? c->ex->req.conf : c->w->cur->conf;
}

void
pc_conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->flags & C_CLOSED)
		return;
	c->flags |= C_CLOSED;
	if (c->ex != NULL)
		pc_ex_end(c->ex);
	if (c->h2 != NULL)
		pc_h2_free(c);	/* ends every stream's exchange */
	pc_timer_disarm(w->loop, &c->timer);
	/* No EPOLL_CTL_DEL: the fd was never dup'ed, so close() takes it out of the epoll
	 * set; one syscall less per connection (upstream connections churn under HTTP/2). */
	conn_tls_end(c);
	close(c->io.fd);
	c->io.fd = -1;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->nconns--;
	pc_worker_conn_closed(w);
	pc_metrics_conn(-1);
	/* Freed after this batch of events: a later event may still name this connection. */
	pc_loop_defer(w->loop, &c->free_later, conn_free_cb, c);
	if (w->draining && w->nconns == 0)
		pc_loop_stop(w->loop);
}

/*
 * Closes after an answer while the client may still be sending (a refused request with a
 * body, pipelined bytes): closing with unread bytes makes the kernel send a reset, which
 * can destroy our answer in the client's receive buffer. So: half-close, discard what
 * arrives for a short while (bounded in time and bytes), then close (nginx lingering_close).
 */
#define LINGER_MS	2000
#define LINGER_BYTES	(256u * 1024u)

void
pc_conn_linger(struct conn *c)
{
	char	junk[4096];
	ssize_t	n;

	if (!(c->flags & C_LINGER)) {
		c->flags |= C_LINGER;
		c->linger_bytes = 0;
		pc_buf_give(c->w, &c->in);
		pc_buf_give(c->w, &c->out);
		/* TLS: close_notify first, so the client knows the answer is whole; what
		 * arrives after it is discarded as raw bytes. */
		conn_tls_end(c);
		if (shutdown(c->io.fd, SHUT_WR) == -1) {
			pc_conn_close(c);
			return;
		}
		pc_timer_arm(c->w->loop, &c->timer, LINGER_MS);
	}
	while (c->flags & C_RD_READY) {
		n = read(c->io.fd, junk, sizeof(junk));
		if (n > 0) {
			c->linger_bytes += (uint32_t)n;
			if (c->linger_bytes > LINGER_BYTES)
				break;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->flags &= (uint16_t)~C_RD_READY;
			return;	/* wait for more, or for the timer */
		}
		break;	/* EOF or error: the client is done */
	}
	pc_conn_close(c);
}

static void
conn_timeout_cb(struct pc_loop *loop, struct pc_timer *t)
{
	struct conn	*c = (struct conn *)((char *)t - offsetof(struct conn, timer));
	struct exchange	*ex = c->ex;

	(void)loop;
	if ((c->flags & C_LINGER) || c->h2 != NULL) {
		/* HTTP/2 arms it only while no stream is open (idle, or no preface yet). */
		pc_conn_close(c);
		return;
	}
	if (ex == NULL) {
		if (c->flags & C_HEAD) {
			/* Slowloris: the whole head must arrive within header_timeout_ms. */
			conn_reject_head(c, PC_R_TIMEOUT_HEADER);
			return;
		}
		pc_conn_close(c);	/* idle keep-alive connection: close quietly */
		return;
	}
	/* A client that stops sending its body or stops reading its response. */
	if (!ex->resp_head_sent && !ex->req_done) {
		pc_exchange_fail(ex, PC_R_TIMEOUT_BODY);
		return;
	}
	pc_conn_close(c);
}

void
pc_conn_accept(struct worker *w, unsigned lidx, int fd, const struct sockaddr_storage *ss)
{
	const struct pc_conf	*conf = w->cur->conf;
	struct pc_tls_server	*tls = conf->listeners[lidx].tls;
	struct conn		*c = calloc(1, sizeof(*c));

	if (c == NULL) {
		close(fd);
		return;
	}
	if (tls != NULL) {
		/* The connection holds the listener's TLS state: a reload may free the
		 * configuration while this handshake still calls back into it (SNI). */
		c->ssl = pc_tls_server_ssl(tls, fd);
		if (c->ssl == NULL) {
			free(c);
			close(fd);
			return;
		}
		c->tls = pc_tls_server_ref(tls);
		c->flags |= C_HANDSHAKE;
	}
	c->lidx = (uint8_t)lidx;
	c->io.fd = fd;
	c->io.cb = conn_io_cb;
	c->w = w;
	c->timer.cb = conn_timeout_cb;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		c->family = AF_INET;
		memcpy(c->addr, &sin->sin_addr, 4);
		(void)inet_ntop(AF_INET, &sin->sin_addr, c->ip, sizeof(c->ip));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		c->family = AF_INET6;
		memcpy(c->addr, &sin6->sin6_addr, 16);
		(void)inet_ntop(AF_INET6, &sin6->sin6_addr, c->ip, sizeof(c->ip));
	}
	pc_buf_init(&c->in, in_max(conf));
	pc_buf_init(&c->out, SIZE_MAX);
	if (pc_loop_add(w->loop, &c->io) != 0) {
		conn_tls_end(c);
		close(fd);
		free(c);
		return;
	}
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	pc_metrics_conn(1);
	/* The first request must start within the header timeout too. */
	pc_timer_arm(w->loop, &c->timer, conf->limits.header_timeout_ms);
}

/* Reads once into c->in. Returns bytes read, 0 on EAGAIN, -1 on EOF or error. */
ssize_t
pc_conn_read(struct conn *c, size_t want)
{
	ssize_t		n;
	unsigned	wait = 0;

	pc_buf_take(c->w, &c->in);
	if (pc_buf_reserve(&c->in, want) != 0) {
		want = c->in.max - c->in.len;
		if (want == 0 || pc_buf_reserve(&c->in, want) != 0)
			return 0;	/* full: the caller decides (limit or backpressure) */
	}
	want = c->in.cap - c->in.len;
	n = pc_sock_read(c->io.fd, c->ssl, c->in.data + c->in.len, want, &wait);
	if (n > 0) {
		c->in.len += (size_t)n;
		/* A short read drained the socket: with edge-triggered epoll the next byte
		 * brings a new event, so the read that would only say EAGAIN is skipped (one
		 * syscall per request). Not after a FIN: read to EOF. Not with TLS: OpenSSL
		 * hands out one record at a time and may hold more than it returned. */
		if ((size_t)n < want && !(c->flags & C_HUP) && c->ssl == NULL)
			c->flags &= (uint16_t)~C_RD_READY;
		return n;
	}
	if (n == PC_SOCK_AGAIN) {
		c->flags &= (uint16_t)~C_RD_READY;
		if (wait == PC_IO_WRITE)
			c->flags |= C_RD_WANTS_WR;
		return 0;
	}
	c->flags |= C_EOF;
	return -1;
}

/* Writes pending output. Returns 0, or -1 if the connection failed. */
int
pc_conn_flush(struct conn *c)
{
	unsigned wait = 0;

	if (!(c->flags & C_WR_READY))
		return 0;
	if (pc_send_pending(c->io.fd, c->ssl, &c->out, &c->out_off, &wait) != 0)
		return -1;
	if (wait != 0)
		c->flags &= (uint16_t)~C_WR_READY;
	if (wait == PC_IO_READ)
		c->flags |= C_WR_WANTS_RD;
	if (c->out_off == c->out.len) {
		/* Nothing pending: give the buffer back (idle connections hold none). */
		c->out_off = 0;
		pc_buf_give(c->w, &c->out);
	} else if (c->out_off > c->out.len / 2) {
		pc_buf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
	return 0;
}

static size_t
out_pending(const struct conn *c)
{
	return c->out.len - c->out_off;
}


/* Moves request body bytes from c->in to the upstream output. Returns false on a deny. */
static bool
pump_body(struct exchange *ex)
{
	struct conn	*c = ex->c;
	size_t		 used = 0;

	while (!ex->req_done && used < c->in.len &&
	    ex->upout.len - ex->upout_off < PC_UPOUT_HIGH) {
		const char	*p = (const char *)c->in.data + used;
		size_t		 avail = c->in.len - used;

		if (ex->req_body == BODY_LENGTH) {
			size_t n = avail < ex->req_left ? avail : (size_t)ex->req_left;

			if (pc_buf_add(&ex->upout, p, n) != 0)
				goto nomem;
			used += n;
			ex->req_left -= n;
			ex->req_seen += n;
			if (ex->req_left == 0)
				ex->req_done = true;
		} else {
			size_t	consumed = 0, off = 0, dlen = 0;
			int	rc = pc_chunked_decode(&ex->req_chunked, p, avail, &consumed,
			    &off, &dlen);

			if (rc < 0) {
				c->in.len = 0;
				pc_ex_deny(ex, PC_R_HTTP_CHUNK_BAD, true);
				return false;
			}
			ex->req_seen += dlen;
			if (ex->req_seen > ex->req.route->body_max_bytes) {
				c->in.len = 0;
				pc_ex_deny(ex, PC_R_LIMIT_BODY, true);
				return false;
			}
			if (pc_out_chunk(&ex->upout, p + off, dlen) != 0)
				goto nomem;
			used += consumed;
			if (rc == 1) {
				if (pc_buf_add_str(&ex->upout, PC_STR("0\r\n\r\n")) != 0)
					goto nomem;
				ex->req_done = true;
			}
			if (consumed == 0 && rc == 0)
				break;
		}
	}
	pc_buf_consume(&c->in, used);
	ex->bytes_in += used;
	return true;
nomem:
	pc_ex_deny(ex, PC_R_OVERLOAD, true);
	return false;
}


/* A request head that could not be parsed: answer, log, close. */
static void
conn_reject_head(struct conn *c, enum pc_reason reason)
{
	struct exchange	*ex;
	struct pc_str	 line, rest;

	c->flags |= C_CLOSING;
	if (pc_ex_new(c, NULL, &ex) != 0) {
		pc_conn_close(c);
		return;
	}
	c->ex = ex;
	if (pc_req_set_id(&ex->req, PC_STR_NULL) != 0)
		ex->req.id[0] = '\0';	/* no randomness: the error goes out without an id */
	/* Log what the request line looked like, bounded, so the reason has context. */
	rest = pc_str_split(pc_str_make((const char *)c->in.data,
	    c->in.len < 256 ? c->in.len : 256), ' ', &line);
	ex->method = pc_str_make(pc_arena_strdup(ex->req.arena, line), line.len);
	(void)pc_str_split(rest, ' ', &line);
	ex->raw_target = pc_str_make(pc_arena_strdup(ex->req.arena, line), line.len);
	if (ex->method.ptr == NULL || ex->raw_target.ptr == NULL)
		ex->method = ex->raw_target = PC_STR_NULL;
	ex->bytes_in = c->in.len;
	ex->req.deny_phase = "parse";
	c->in.len = 0;
	pc_ex_deny(ex, reason, true);
}

static void	conn_exchange_go(struct exchange *ex, enum pc_reason reason);

/*
 * A complete head of <head_len> bytes is at the start of c->in and parsed in w->msg: copy
 * what the log needs (the head buffer is reused by the next request), run the pipeline,
 * then serialize the head for the upstream and start streaming the body.
 */
static void
conn_start_exchange(struct conn *c, size_t head_len)
{
	struct worker		*w = c->w;
	const struct pc_msg	*msg = &w->msg;
	struct exchange		*ex;
	enum pc_reason		 reason;

	if (pc_ex_new(c, msg, &ex) != 0) {
		pc_conn_close(c);
		return;
	}
	c->ex = ex;
	c->nreq++;
	c->flags &= (uint16_t)~C_HEAD;
	pc_timer_disarm(w->loop, &c->timer);	/* the head clock stops; conn_watch takes over */
	ex->bytes_in = head_len;
	ex->client_v10 = msg->version_minor == 0;
	ex->client_keepalive = ex->client_v10 ? (msg->flags & PC_MSG_CONN_KEEPALIVE) != 0 :
	    (msg->flags & PC_MSG_CONN_CLOSE) == 0;
	if (c->nreq >= ex->req.conf->limits.max_requests_per_connection || w->draining)
		ex->client_keepalive = false;
	ex->expect = (msg->flags & PC_MSG_EXPECT_CONTINUE) != 0;
	if (msg->flags & PC_MSG_CHUNKED) {
		ex->req_body = BODY_CHUNKED;
		pc_chunked_init(&ex->req_chunked);
	} else if ((msg->flags & PC_MSG_HAS_CL) && msg->content_length > 0) {
		ex->req_body = BODY_LENGTH;
		ex->req_left = msg->content_length;
	} else {
		ex->req_body = BODY_NONE;
		ex->req_done = true;
	}
	/* The head is serialized for the upstream inside, while <msg> still points into
	 * c->in; after it the head bytes go (a parked request keeps them until it goes on:
	 * pc_conn_ex_resumed). */
	ex->head_len = head_len;
	reason = pc_ex_start(ex, msg);
	if (ex->parked)
		return;
	conn_exchange_go(ex, reason);
}

/* The pipeline decided about the request at the start of c->in: answer or forward. */
static void
conn_exchange_go(struct exchange *ex, enum pc_reason reason)
{
	struct conn *c = ex->c;

	pc_buf_consume(&c->in, ex->head_len);
	ex->head_len = 0;
	if (reason != PC_R_NONE) {
		pc_ex_deny(ex, reason, reason == PC_R_INTERNAL || ex->req_body != BODY_NONE);
		return;
	}
	/* RFC 9110 10.1.1: say "go on" only once the request passed every check. */
	if (ex->expect && !ex->req_done && c->in.len == 0 && !ex->client_v10 &&
	    pc_buf_add_str(&c->out, PC_STR("HTTP/1.1 100 Continue\r\n\r\n")) != 0) {
		pc_ex_deny(ex, PC_R_OVERLOAD, true);
		return;
	}
	if (!pump_body(ex))
		return;
	pc_up_drive(ex->up);
}

void
pc_conn_ex_resumed(struct exchange *ex, enum pc_reason reason)
{
	struct conn *c = ex->c;

	conn_exchange_go(ex, reason);
	if (!(c->flags & C_CLOSED))
		pc_conn_kick(c);	/* pipelined input, output to flush: go round again */
}

/* Tries to read and parse the next request head. */
static void
conn_read_head(struct conn *c)
{
	const struct pc_conf	*conf = c->w->cur->conf;
	struct pc_h1_limits	 lim;
	enum pc_reason		 reason = PC_R_HTTP_BAD_REQUEST_LINE;
	ssize_t			 n;
	int			 rc;
	bool			 fresh = c->in.len > 0;

	lim.request_line_max = conf->limits.request_line_max_bytes;
	lim.head_max = conf->limits.header_max_bytes;
	lim.hdr_count_max = conf->limits.header_max_count;
	for (;;) {
		if (c->nreq == 0 && c->in.len > 0 && conf->listeners[c->lidx].h2c) {
			bool complete;

			/* h2c with prior knowledge (RFC 9113 3.3): the connection preface instead
			 * of a first request line. */
			if (pc_h2_preface(c->in.data, c->in.len, &complete)) {
				if (complete) {
					if (pc_h2_start(c) != 0) {
						pc_conn_close(c);
						return;
					}
					c->flags |= C_AGAIN;	/* conn_run goes on as HTTP/2 */
					return;
				}
				fresh = false;	/* a prefix of it so far: wait for the rest */
			}
		}
		if (fresh) {
			rc = pc_h1_parse_request((const char *)c->in.data, c->in.len, &lim,
			    &c->w->msg, &reason);
			if (rc > 0) {
				conn_start_exchange(c, (size_t)rc);
				return;
			}
			if (rc != -PC_EAGAIN) {
				conn_reject_head(c, reason);
				return;
			}
			if (c->in.len >= c->in.max) {
				conn_reject_head(c, PC_R_LIMIT_HEADERS);
				return;
			}
		}
		if (!(c->flags & C_RD_READY) || (c->flags & (C_EOF | C_CLOSING)))
			break;
		n = pc_conn_read(c, PC_READ_CHUNK);
		if (n < 0) {
			pc_conn_close(c);	/* EOF between or inside heads: nothing to answer */
			return;
		}
		if (n == 0)
			break;
		if (!(c->flags & C_HEAD)) {
			c->flags |= C_HEAD;
			pc_timer_arm(c->w->loop, &c->timer, conf->limits.header_timeout_ms);
		}
		/* Parse again only when a line ended or a limit may be crossed: a client
		 * sending one byte at a time cannot make us re-parse the head per byte. */
		fresh = memchr(c->in.data + c->in.len - n, '\n', (size_t)n) != NULL ||
		    c->in.len > lim.request_line_max;
	}
	if (c->in.len == 0 && !(c->flags & C_HEAD)) {
		/* Idle keep-alive: give the buffer back (memory per idle connection). */
		pc_buf_give(c->w, &c->in);
	}
}

/* Reads more request body from the client when the upstream side has room. */
static void
conn_read_body(struct conn *c)
{
	struct exchange	*ex = c->ex;
	uint64_t	 seen = ex->req_seen;
	bool		 done = ex->req_done;
	ssize_t		 n;

	if (c->in.len > 0 && !pump_body(ex))
		return;	/* bytes held back while the upstream output was full */
	while (!ex->req_done && (c->flags & C_RD_READY) &&
	    ex->upout.len - ex->upout_off < PC_UPOUT_HIGH) {
		n = pc_conn_read(c, PC_READ_CHUNK);
		if (n < 0) {
			/* The client went away mid-body: the upstream must not get half a
			 * request that looks whole, so both sides are cut. */
			ex->req.deny_reason = PC_R_HTTP_BODY_TRUNCATED;
			ex->req.deny_phase = "forward";
			ex->status = 400;
			pc_conn_close(c);
			return;
		}
		if (n == 0)
			break;
		pc_timer_disarm(c->w->loop, &c->timer);	/* progress; conn_watch re-arms */
		if (!pump_body(ex))
			return;
	}
	/* Only new bytes for the upstream are a reason to drive it: calling it without
	 * progress would make the two sides wake each other forever. */
	if (ex->up != NULL && (ex->req_seen != seen || ex->req_done != done))
		pc_up_drive(ex->up);
}

/* Keeps one timer on a busy connection: armed while we wait on the client, else off. */
static void
conn_watch(struct conn *c, struct exchange *ex)
{
	bool wait_write = out_pending(c) > 0 && !(c->flags & C_WR_READY);
	bool wait_read = !ex->req_done && !(c->flags & C_RD_READY) &&
	    ex->upout.len - ex->upout_off < PC_UPOUT_HIGH;

	if (wait_write || wait_read) {
		if (!pc_timer_armed(&c->timer))
			pc_timer_arm(c->w->loop, &c->timer, ex->req.conf->limits.body_timeout_ms);
	} else {
		pc_timer_disarm(c->w->loop, &c->timer);
	}
}

/*
 * Drives the client side as far as it can go: flush output, finish the exchange, read the
 * next head or more body. Called on every client event and whenever the upstream side
 * produced output; re-entrant calls (from the upstream side, from a deny) only ask the
 * running one to go round again, so pipelined requests never deepen the stack.
 */
static void
conn_run(struct conn *c)
{
	if (c->flags & C_RUNNING) {
		c->flags |= C_AGAIN;
		return;
	}
	c->flags |= C_RUNNING;
	do {
		c->flags &= (uint16_t)~C_AGAIN;
		conn_step(c);
	} while ((c->flags & C_AGAIN) && !(c->flags & C_CLOSED));
	c->flags &= (uint16_t)~C_RUNNING;
}

/* A failed TLS handshake is a security event (scanners, downgrade attempts, a client
 * certificate that does not verify); a client that only connected and left is not. */
static void
conn_tls_failed(struct conn *c, int rc)
{
	struct pc_log_rec rec;

	if (rc == PC_TLS_ERROR) {
		memset(&rec, 0, sizeof(rec));
		rec.wall_us = pc_wall_us();
		rec.client_ip = pc_str_c(c->ip);
		rec.phase = "tls";
		rec.reason = PC_R_TLS_HANDSHAKE;
		rec.detail = pc_str_c(pc_tls_last_error(c->ssl));
		pc_log_event(&rec);
	}
	pc_conn_close(c);
}

/* Drives the TLS handshake. Returns true once it is done (the identity is then known). */
static bool
conn_handshake(struct conn *c)
{
	int rc = pc_tls_handshake(c->ssl);

	switch (rc) {
	case 1:
		/* With read-ahead, the handshake's last read may have taken the first request
		 * into OpenSSL's buffer: no new edge will say so, so try a read now (it clears
		 * the flag again with WANT_READ if there was nothing). */
		c->flags = (uint16_t)((c->flags & ~C_HANDSHAKE) | C_RD_READY);
		c->peer = pc_tls_peer_get(c->ssl);
		c->tls_version = pc_tls_version_name(c->ssl);
		if (pc_str_eq(pc_tls_alpn(c->ssl), PC_STR("h2")) && pc_h2_start(c) != 0) {
			pc_conn_close(c);
			return false;
		}
		return true;
	case PC_TLS_WANT_READ:
		c->flags &= (uint16_t)~C_RD_READY;
		return false;
	case PC_TLS_WANT_WRITE:
		c->flags &= (uint16_t)~C_WR_READY;
		return false;
	default:
		conn_tls_failed(c, rc);
		return false;
	}
}

static void
conn_step(struct conn *c)
{
	struct exchange *ex;

	if ((c->flags & C_HANDSHAKE) && !conn_handshake(c))
		return;
	if (c->h2 != NULL) {
		pc_h2_step(c);
		return;
	}
	for (;;) {
		if (c->flags & C_CLOSED)
			return;
		if (out_pending(c) > 0 && pc_conn_flush(c) != 0) {
			pc_conn_close(c);
			return;
		}
		ex = c->ex;
		if (ex != NULL && ex->parked)
			return;	/* nothing is read or timed but the park (exchange.c) */
		if (ex != NULL) {
			if (ex->resp_done && ex->req_done) {
				pc_ex_done(ex);
				continue;
			}
			if (ex->resp_done && !ex->req_done) {
				/* The upstream answered before the body ended (an early 413, say):
				 * the rest of the body is unread, so the connection must close. */
				ex->client_keepalive = false;
				pc_ex_done(ex);
				continue;
			}
			if (!ex->req_done)
				conn_read_body(c);
			else if (ex->up != NULL && out_pending(c) < PC_OUT_HIGH &&
			    (ex->up->in.len > 0 || (ex->up->flags & U_RD_READY)))
				pc_up_drive(ex->up);	/* held back by backpressure: resume */
			if (c->ex == ex && !(c->flags & C_CLOSED))
				conn_watch(c, ex);
			return;
		}
		if (c->flags & C_CLOSING) {
			if (out_pending(c) == 0)
				pc_conn_linger(c);
			return;
		}
		if (out_pending(c) >= PC_OUT_HIGH)
			return;	/* a pipelining client that does not read: wait */
		if (!(c->flags & C_HEAD)) {
			if (c->in.len > 0) {
				/* A pipelined head already waiting: its header clock starts now. */
				c->flags |= C_HEAD;
				pc_timer_arm(c->w->loop, &c->timer,
				    conn_conf(c)->limits.header_timeout_ms);
			} else if (c->w->draining) {
				pc_conn_close(c);
				return;
			} else {
				pc_timer_arm(c->w->loop, &c->timer,
				    conn_conf(c)->limits.idle_timeout_ms);
			}
		}
		conn_read_head(c);
		if (c->ex == NULL || (c->flags & C_CLOSED))
			return;
	}
}

static void
conn_io_cb(struct pc_loop *loop, struct pc_io *io, unsigned events)
{
	struct conn *c = (struct conn *)((char *)io - offsetof(struct conn, io));

	(void)loop;
	if (events & PC_IO_READ) {
		c->flags |= C_RD_READY;
		if (c->flags & C_WR_WANTS_RD)	/* TLS: a blocked write can go on */
			c->flags = (uint16_t)((c->flags & ~C_WR_WANTS_RD) | C_WR_READY);
	}
	if (events & PC_IO_HUP)
		c->flags |= C_HUP;
	if (events & PC_IO_WRITE) {
		if (c->flags & C_RD_WANTS_WR)
			c->flags = (uint16_t)((c->flags & ~C_RD_WANTS_WR) | C_RD_READY);
		c->flags |= C_WR_READY;
		if (c->ex != NULL && out_pending(c) > 0)
			pc_timer_disarm(c->w->loop, &c->timer);
	}
	conn_run(c);
}

static void
conn_step_later_cb(void *arg)
{
	struct conn *c = arg;

	c->flags &= (uint16_t)~C_STEP_LATER;
	if (!(c->flags & C_CLOSED))
		conn_run(c);
}

void
pc_conn_kick_later(struct conn *c)
{
	/* Deferrals run in order, so this runs before a later close's deferred free. */
	if (c->flags & (C_STEP_LATER | C_CLOSED))
		return;
	c->flags |= C_STEP_LATER;
	pc_loop_defer(c->w->loop, &c->step_later, conn_step_later_cb, c);
}

void
pc_conn_kick(struct conn *c)
{
	if (c->ex != NULL && c->ex->resp_done)
		pc_timer_disarm(c->w->loop, &c->timer);
	conn_run(c);
}


void
pc_conn_drain(struct worker *w)
{
	struct conn *c, *next;

	/* Idle connections close now; busy ones close after their current response. */
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->h2 != NULL)
			pc_h2_drain(c);	/* GOAWAY: streams in flight finish */
		else if (c->ex == NULL && out_pending(c) == 0)
			pc_conn_close(c);
		else if (c->ex != NULL)
			c->ex->client_keepalive = false;
	}
}
