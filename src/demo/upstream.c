/*
 * demo/upstream.c - the demo upstream's HTTP/1.1 server: one thread, one epoll loop, the
 * rides API (rides.c) behind it.
 * Owns: its listening socket and thread, its connections, request framing (Content-Length
 * and chunked bodies, 100-continue, keep-alive, pipelining) and the response head, which
 * carries the Server and X-Powered-By fields the gateway is expected to remove.
 * Does not: decide anything about the API, or defend itself the way the gateway does: it is
 * the service being protected. It is still bounded: connections, buffers and idle time.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "demo/demo.h"
#include "demo/demo_int.h"
#include "http/http.h"
#include "core/banned.h"

#define CONN_MAX	256
#define READ_CHUNK	(16u * 1024)
/* One head plus one body with its chunk framing; a request that does not fit is refused. */
#define IN_MAX		(PC_DEMO_BODY_MAX + 160u * 1024)
/* Stop answering pipelined requests while this much is unsent (the client is not reading). */
#define OUT_HIGH	(256u * 1024)
#define OUT_MAX		(OUT_HIGH + PC_DEMO_RESP_MAX + 4096u)
#define IDLE_MS		120000u
#define LINGER_MS	2000u
#define SWEEP_MS	1000u

struct conn {
	int		 fd;
	unsigned	 slot;		/* index in srv.conns */
	uint32_t	 events;	/* what epoll watches now */
	bool		 closing;	/* last answer queued: flush, then close */
	bool		 lingering;	/* write side shut: read and drop until EOF */
	bool		 eof;		/* the peer shut its write side */
	bool		 continued;	/* 100 Continue already sent for the request at hand */
	uint64_t	 last_ms;
	struct pc_buf	 in, out;
};

static struct {
	bool		 running;
	pthread_t	 thread;
	int		 lfd, epfd, stopfd;
	int		 port;
	char		 text[64];	/* "127.0.0.1:18080", for the tour */
	struct conn	*conns[CONN_MAX];
	unsigned	 nconns;
} srv = { .lfd = -1, .epfd = -1, .stopfd = -1, .port = -1 };

static void
conn_close(struct conn *c)
{
	/* close() also removes the fd from the epoll set: nothing else holds it. */
	(void)close(c->fd);
	srv.nconns--;
	srv.conns[c->slot] = srv.conns[srv.nconns];
	srv.conns[c->slot]->slot = c->slot;
	pc_buf_fini(&c->in);
	pc_buf_fini(&c->out);
	free(c);
}

/* Queues a framing error and marks the connection for closing: after a framing error the
 * next request cannot be found reliably, so nothing more is read (RFC 9112 9.6). */
static int
answer_error(struct conn *c, int status, const char *why)
{
	char	body[160];
	int	n;

	if (status < 400 || status > 599)
		status = 400;
	n = snprintf(body, sizeof(body), "{\"error\":\"bad_request\",\"message\":\"%s\"}\n",
	    why);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -PC_EINVAL;
	c->closing = true;
	return pc_buf_printf(&c->out, "HTTP/1.1 %d %s\r\n"
	    "Server: rides-demo/1.0\r\n"
	    "X-Powered-By: AnyCompany-PHP/5.6\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %d\r\n"
	    "Connection: close\r\n"
	    "\r\n%s", status, pc_status_text(status), n, body);
}

static int
answer(struct conn *c, const struct pc_msg *msg, const struct pc_demo_resp *r)
{
	bool	keep;
	int	rc;

	/* HTTP/1.1 persists unless told otherwise; HTTP/1.0 only if asked (RFC 9112 9.3). */
	if (msg->version_minor == 1)
		keep = (msg->flags & PC_MSG_CONN_CLOSE) == 0;
	else
		keep = (msg->flags & (PC_MSG_CONN_KEEPALIVE | PC_MSG_CONN_CLOSE)) ==
		    PC_MSG_CONN_KEEPALIVE;
	/* The body ends with a newline (counted), so `curl` output does not run into the
	 * shell prompt. */
	rc = pc_buf_printf(&c->out, "HTTP/1.1 %d %s\r\n"
	    "Server: rides-demo/1.0\r\n"
	    "X-Powered-By: AnyCompany-PHP/5.6\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n", r->status, pc_status_text(r->status), r->body.len + 1);
	if (rc == 0 && r->allow != NULL)
		rc = pc_buf_printf(&c->out, "Allow: %s\r\n", r->allow);
	if (rc == 0 && r->location[0] != '\0')
		rc = pc_buf_printf(&c->out, "Location: %s\r\n", r->location);
	if (rc == 0 && !keep)
		rc = pc_buf_add_str(&c->out, PC_STR("Connection: close\r\n"));
	else if (rc == 0 && msg->version_minor == 0)
		rc = pc_buf_add_str(&c->out, PC_STR("Connection: keep-alive\r\n"));
	if (rc == 0)
		rc = pc_buf_add_str(&c->out, PC_STR("\r\n"));
	/* HEAD: the same head as GET, Content-Length included, and no body (RFC 9110 9.3.2). */
	if (rc == 0 && msg->meth != PC_M_HEAD)
		rc = pc_buf_add(&c->out, r->body.data, r->body.len);
	if (rc == 0 && msg->meth != PC_M_HEAD)
		rc = pc_buf_addc(&c->out, '\n');
	if (!keep)
		c->closing = true;
	return rc;
}

/*
 * Finds the body of the request whose head is the first <head_len> bytes of c->in.
 * Content-Length: <body> borrows from c->in. Chunked: the data is decoded into <dec>.
 * Neither: no body (RFC 9112 6.3). Sets *<used> to head + body bytes on the wire.
 * Returns 0, -PC_EAGAIN if the body has not all arrived, -PC_ETOOBIG or -PC_EPROTO.
 */
static int
find_body(struct conn *c, const struct pc_msg *msg, size_t head_len, struct pc_buf *dec,
    struct pc_str *body, size_t *used)
{
	const char		*p = (const char *)c->in.data + head_len;
	size_t			 avail = c->in.len - head_len, off = 0, n, doff, dlen;
	struct pc_chunked	 ch;
	int			 rc;

	*body = PC_STR_NULL;
	if (msg->flags & PC_MSG_CHUNKED) {
		/* Decoded from the start each time more bytes arrive: bodies are small here, and
		 * the connection needs no decoder state between reads. */
		pc_chunked_init(&ch);
		dec->len = 0;
		while (off < avail) {
			rc = pc_chunked_decode(&ch, p + off, avail - off, &n, &doff, &dlen);
			if (rc < 0)
				return rc;
			/* A declared chunk that cannot fit is refused now, not after it arrives. */
			if (ch.remaining > PC_DEMO_BODY_MAX - dec->len - dlen)
				return -PC_ETOOBIG;
			if (dlen > 0 && pc_buf_add(dec, p + off + doff, dlen) != 0)
				return -PC_ETOOBIG;
			off += n;
			if (rc == 1) {
				*body = pc_str_make((const char *)dec->data, dec->len);
				*used = head_len + off;
				return 0;
			}
			if (n == 0)
				break;
		}
		return -PC_EAGAIN;
	}
	if (msg->flags & PC_MSG_HAS_CL) {
		if (msg->content_length > PC_DEMO_BODY_MAX)
			return -PC_ETOOBIG;
		if (avail < msg->content_length)
			return -PC_EAGAIN;
		*body = pc_str_make(p, (size_t)msg->content_length);
	}
	*used = head_len + body->len;
	return 0;
}

/*
 * Answers the first request in c->in if it has all arrived, and drops it from c->in.
 * Returns 0 (answered, or an error answer queued), -PC_EAGAIN (wait for more bytes), or
 * another -PC_E* if the answer could not be queued (close at once).
 */
static int
serve_one(struct conn *c)
{
	/* Generous: the gateway in front enforces the real limits; these only bound memory. */
	static const struct pc_h1_limits lim = { 16 * 1024, 64 * 1024, PC_HTTP_HDR_MAX };
	struct pc_msg		 msg;
	struct pc_demo_resp	 resp;
	struct pc_buf		 dec;
	struct pc_str		 body;
	enum pc_reason		 reason = PC_R_NONE;
	size_t			 used = 0;
	int			 rc;

	rc = pc_h1_parse_request((const char *)c->in.data, c->in.len, &lim, &msg, &reason);
	if (rc == -PC_EAGAIN && c->in.len < c->in.max)
		return -PC_EAGAIN;
	if (rc == -PC_EAGAIN)
		return answer_error(c, 431, "request head too large");
	if (rc < 0)
		return answer_error(c, pc_reason_status(reason), pc_reason_name(reason));

	pc_buf_init(&dec, PC_DEMO_BODY_MAX);
	pc_buf_init(&resp.body, PC_DEMO_RESP_MAX);
	rc = find_body(c, &msg, (size_t)rc, &dec, &body, &used);
	if (rc == -PC_EAGAIN && c->in.len >= c->in.max)
		rc = -PC_ETOOBIG;
	if (rc == -PC_EAGAIN) {
		/* The client waits for this before sending a body (RFC 9110 10.1.1). */
		if ((msg.flags & PC_MSG_EXPECT_CONTINUE) && msg.version_minor == 1 &&
		    !c->continued) {
			c->continued = true;
			rc = pc_buf_add_str(&c->out, PC_STR("HTTP/1.1 100 Continue\r\n\r\n"));
			if (rc == 0)
				rc = -PC_EAGAIN;
		}
	} else if (rc == -PC_ETOOBIG) {
		rc = answer_error(c, 413, "request body too large");
	} else if (rc < 0) {
		rc = answer_error(c, 400, "invalid chunked body");
	} else {
		rc = pc_demo__rides_handle(msg.meth, msg.target, body, &resp);
		if (rc == 0)
			rc = answer(c, &msg, &resp);
		else
			rc = answer_error(c, 500, "internal error");
		pc_buf_consume(&c->in, used);
		c->continued = false;
	}
	pc_buf_fini(&dec);
	pc_buf_fini(&resp.body);
	return rc;
}

/* Returns 0, or -PC_E* if the connection must close now. */
static int
conn_read(struct conn *c)
{
	char	 drop[4096];
	ssize_t	 r;
	size_t	 n;

	for (;;) {
		if (c->lingering) {
			r = recv(c->fd, drop, sizeof(drop), 0);
		} else {
			n = c->in.max - c->in.len;
			if (n == 0)
				return 0;
			if (n > READ_CHUNK)
				n = READ_CHUNK;
			if (pc_buf_reserve(&c->in, n) != 0)
				return -PC_ENOMEM;
			r = recv(c->fd, c->in.data + c->in.len, n, 0);
		}
		if (r > 0) {
			if (!c->lingering)
				c->in.len += (size_t)r;
			continue;
		}
		if (r == 0) {
			c->eof = true;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return pc_err_errno(errno);
	}
}

static int
conn_flush(struct conn *c)
{
	ssize_t w;

	while (c->out.len > 0) {
		w = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return pc_err_errno(errno);
		}
		pc_buf_consume(&c->out, (size_t)w);
	}
	return 0;
}

static void
conn_event(struct conn *c, uint64_t now)
{
	struct epoll_event	ev;
	uint32_t		want;
	size_t			before;
	int			rc;

	c->last_ms = now;
	if (!c->eof && conn_read(c) != 0)
		goto close;
	do {
		before = c->in.len;
		rc = 0;
		while (!c->closing && !c->lingering && c->out.len < OUT_HIGH && c->in.len > 0 &&
		    rc == 0)
			rc = serve_one(c);
		if (rc != 0 && rc != -PC_EAGAIN)
			goto close;
		if (conn_flush(c) != 0)
			goto close;
	} while (c->in.len != before && c->out.len < OUT_HIGH);

	if (c->out.len == 0 && (c->eof || c->lingering))
		goto close;
	if (c->out.len == 0 && c->closing) {
		/* Closing with unread input makes the kernel send RST, which can destroy the
		 * answer before the client reads it: shut our side, then drain (nginx's
		 * lingering close). */
		(void)shutdown(c->fd, SHUT_WR);
		c->lingering = true;
	}
	want = 0;
	if (c->lingering || (!c->closing && !c->eof && c->out.len < OUT_HIGH &&
	    c->in.len < c->in.max))
		want |= EPOLLIN;
	if (c->out.len > 0)
		want |= EPOLLOUT;
	if (want == 0)
		goto close;
	if (want != c->events) {
		memset(&ev, 0, sizeof(ev));
		ev.events = want;
		ev.data.ptr = c;
		if (epoll_ctl(srv.epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
			goto close;
		c->events = want;
	}
	return;
close:
	conn_close(c);
}

static void
accept_all(uint64_t now)
{
	struct epoll_event	 ev;
	struct conn		*c;
	int			 fd, one = 1;

	for (;;) {
		fd = accept4(srv.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		/* Past the cap, accept and close at once: the backlog drains and the client
		 * learns immediately, instead of a SYN that waits. */
		c = srv.nconns < CONN_MAX ? calloc(1, sizeof(*c)) : NULL;
		if (c == NULL) {
			(void)close(fd);
			continue;
		}
		/* Answers are written whole; Nagle would only delay the next pipelined one. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->last_ms = now;
		c->events = EPOLLIN;
		pc_buf_init(&c->in, IN_MAX);
		pc_buf_init(&c->out, OUT_MAX);
		memset(&ev, 0, sizeof(ev));
		ev.events = c->events;
		ev.data.ptr = c;
		if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			(void)close(fd);
			free(c);
			continue;
		}
		c->slot = srv.nconns;
		srv.conns[srv.nconns++] = c;
	}
}

static void
sweep_idle(uint64_t now)
{
	unsigned	 i = 0;
	struct conn	*c;

	while (i < srv.nconns) {
		c = srv.conns[i];
		if (now - c->last_ms > (c->lingering ? LINGER_MS : IDLE_MS))
			conn_close(c);	/* moves the last connection into slot i */
		else
			i++;
	}
}

static void *
serve(void *arg)
{
	struct epoll_event	evs[64];
	uint64_t		now, last_sweep = pc_now_ms();
	int			i, n;

	(void)arg;
	for (;;) {
		n = epoll_wait(srv.epfd, evs, (int)PC_NELEM(evs), (int)SWEEP_MS);
		if (n == -1 && errno != EINTR)
			break;
		now = pc_now_ms();
		for (i = 0; i < n; i++) {
			/* A connection is freed only by its own event, and appears once per
			 * batch, so no later event in this batch can point at freed memory. */
			if (evs[i].data.ptr == &srv.stopfd)
				goto out;
			if (evs[i].data.ptr == &srv.lfd)
				accept_all(now);
			else
				conn_event(evs[i].data.ptr, now);
		}
		if (now - last_sweep >= SWEEP_MS) {
			sweep_idle(now);
			last_sweep = now;
		}
	}
out:
	while (srv.nconns > 0)
		conn_close(srv.conns[0]);
	return NULL;
}

static void
close_fds(void)
{
	if (srv.lfd != -1)
		(void)close(srv.lfd);
	if (srv.epfd != -1)
		(void)close(srv.epfd);
	if (srv.stopfd != -1)
		(void)close(srv.stopfd);
	srv.lfd = srv.epfd = srv.stopfd = -1;
	srv.port = -1;
}

/* The bound address as "a.b.c.d:port" or "[v6]:port", and the port alone. */
static void
addr_format(const struct sockaddr_storage *ss, char *text, size_t len, int *port)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;
	char				 host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		*port = ntohs(sin->sin_port);
		if (inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)) == NULL)
			host[0] = '\0';
		(void)snprintf(text, len, "%s:%d", host, *port);
	} else {
		*port = ntohs(sin6->sin6_port);
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)) == NULL)
			host[0] = '\0';
		(void)snprintf(text, len, "[%s]:%d", host, *port);
	}
}

static int
watch(int fd, void *ptr)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = ptr;
	if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return pc_err_errno(errno);
	return 0;
}

int
pc_demo_upstream_start(const struct pc_addr *addr)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	sigset_t		 all, old;
	int			 rc, one = 1;

	if (srv.running)
		return -PC_EINVAL;
	if (addr->ss.ss_family != AF_INET && addr->ss.ss_family != AF_INET6)
		return -PC_EINVAL;
	srv.lfd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv.lfd == -1)
		goto fail_errno;
	/* A restarted demo must rebind at once, despite connections in TIME_WAIT. */
	if (setsockopt(srv.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail_errno;
	if (bind(srv.lfd, (const struct sockaddr *)&addr->ss, addr->len) == -1)
		goto fail_errno;
	if (listen(srv.lfd, 128) == -1)
		goto fail_errno;
	if (getsockname(srv.lfd, (struct sockaddr *)&ss, &sl) == -1)
		goto fail_errno;
	addr_format(&ss, srv.text, sizeof(srv.text), &srv.port);
	srv.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv.epfd == -1)
		goto fail_errno;
	srv.stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv.stopfd == -1)
		goto fail_errno;
	rc = watch(srv.lfd, &srv.lfd);
	if (rc == 0)
		rc = watch(srv.stopfd, &srv.stopfd);
	if (rc != 0)
		goto fail;
	pc_demo__rides_reset();

	/* Signals belong to the gateway's main thread: this thread starts with all blocked. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&srv.thread, NULL, serve, NULL);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		rc = pc_err_errno(rc);
		goto fail;
	}
	srv.running = true;
	return 0;
fail_errno:
	rc = pc_err_errno(errno);
fail:
	close_fds();
	return rc;
}

void
pc_demo_upstream_stop(void)
{
	uint64_t one = 1;

	if (!srv.running)
		return;
	/* An eventfd write of 1 cannot fail short of a counter overflow. */
	(void)!write(srv.stopfd, &one, sizeof(one));
	(void)pthread_join(srv.thread, NULL);
	close_fds();
	srv.running = false;
}

int
pc_demo_upstream_port(void)
{
	return srv.running ? srv.port : -1;
}

const char *
pc_demo__upstream_text(void)
{
	return srv.running ? srv.text : NULL;
}
