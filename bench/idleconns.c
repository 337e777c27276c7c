/*
 * bench/idleconns.c - the idle keep-alive connection load of `make bench`.
 * Opens <n> TCP connections to 127.0.0.1:<port>, sends one complete HTTP/1.1 keep-alive
 * GET on each, reads each whole response (200, Content-Length or chunked body, no
 * "Connection: close"), then holds every connection open and silent until SIGTERM or
 * SIGINT, so that bench/run.sh can read the proxy's RSS with n idle connections.
 * Owns: its own sockets and RLIMIT_NOFILE. Does not: talk to anything but 127.0.0.1, or
 * retry a failed connection (a failure is a result, reported and counted).
 *
 * Output on stdout, one line each, for run.sh to parse:
 *   ready ok=<n> failed=<n> ms=<time to open them all>
 *   held ok=<n> closed=<n>        (after the signal: connections the peer closed meanwhile)
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/banned.h"

#define IC_CONNS_MAX	100000u
#define IC_RESP_MAX	8192u	/* a bigger response head+body than this is a failure */
#define IC_WINDOW_DEF	256u	/* connections in flight at once: stays under listen backlogs */

enum ic_state { IC_FREE, IC_CONNECTING, IC_READING, IC_IDLE, IC_FAILED };

struct ic_conn {
	int		 fd;
	enum ic_state	 state;
	char		*buf;		/* only while IC_READING; IC_RESP_MAX bytes */
	size_t		 len;
};

struct ic_stats {
	unsigned	 connect;	/* socket/connect/SO_ERROR failures */
	unsigned	 io;		/* send/recv errors, EOF before the response ended */
	unsigned	 proto;		/* not 200, unparsable, too big, or Connection: close */
	unsigned	 timeout;	/* not answered before the deadline */
};

static volatile sig_atomic_t	stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char		*end;
	unsigned long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Case-insensitive search for header <name> (with its colon) in head <h>/<hlen>; returns
 * the value start or NULL. Good enough for responses from our own two proxies. */
static const char *
find_header(const char *h, size_t hlen, const char *name)
{
	size_t	 nlen = strlen(name), i;

	for (i = 0; i + 2 + nlen <= hlen; i++) {
		if (h[i] != '\r' || h[i + 1] != '\n')
			continue;
		if (strncasecmp(h + i + 2, name, nlen) == 0) {
			const char *v = h + i + 2 + nlen;

			while (v < h + hlen && (*v == ' ' || *v == '\t'))
				v++;
			return v;
		}
	}
	return NULL;
}

/*
 * Returns 1 when <b>/<len> holds one complete 200 keep-alive response, 0 if more bytes
 * are needed, -1 if it is not one we accept.
 */
static int
response_done(const char *b, size_t len)
{
	const char	*eoh, *v;
	size_t		 hlen, body;
	unsigned long	 clen;
	char		 num[24];
	size_t		 n;

	eoh = memmem(b, len, "\r\n\r\n", 4);
	if (eoh == NULL)
		return 0;
	hlen = (size_t)(eoh - b) + 2;	/* keep the last CRLF: find_header wants it */
	body = len - hlen - 2;
	if (hlen < 12 || memcmp(b, "HTTP/1.1 200", 12) != 0)
		return -1;
	v = find_header(b, hlen, "connection:");
	if (v != NULL && strncasecmp(v, "close", 5) == 0)
		return -1;
	v = find_header(b, hlen, "content-length:");
	if (v != NULL) {
		for (n = 0; n < sizeof(num) - 1 && isdigit((unsigned char)v[n]); n++)
			num[n] = v[n];
		num[n] = '\0';
		if (parse_uint(num, IC_RESP_MAX, &clen) != 0)
			return -1;
		if (body > clen)
			return -1;	/* bytes past the response: not a single answer */
		return body == clen;
	}
	v = find_header(b, hlen, "transfer-encoding:");
	if (v != NULL && strncasecmp(v, "chunked", 7) == 0) {
		/* Small bodies only: done when the last-chunk and empty trailer have arrived. */
		if (body >= 5 && memcmp(b + len - 5, "0\r\n\r\n", 5) == 0)
			return 1;
		return 0;
	}
	return -1;	/* a close-delimited body cannot be followed by an idle keep-alive */
}

static void
conn_fail(struct ic_conn *c, unsigned *counter)
{
	(*counter)++;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->state = IC_FAILED;
}

static int
conn_start(int ep, struct ic_conn *c, uint32_t idx, const struct sockaddr_in *sin,
    struct ic_stats *st)
{
	struct epoll_event	ev;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		fprintf(stderr, "idleconns: socket: %s\n", strerror(errno));
		conn_fail(c, &st->connect);
		return -1;
	}
	if (connect(c->fd, (const struct sockaddr *)sin, sizeof(*sin)) == -1 &&
	    errno != EINPROGRESS) {
		fprintf(stderr, "idleconns: connect: %s\n", strerror(errno));
		conn_fail(c, &st->connect);
		return -1;
	}
	c->state = IC_CONNECTING;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	ev.data.u32 = idx;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		fprintf(stderr, "idleconns: epoll_ctl: %s\n", strerror(errno));
		conn_fail(c, &st->connect);
		return -1;
	}
	return 0;
}

static const char	req[] = "GET /bench/idle HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "User-Agent: portcullis-bench-idleconns\r\nAccept: */*\r\n\r\n";

/* One readiness event on <c>. Returns true when the connection left the in-flight set. */
static bool
conn_event(int ep, struct ic_conn *c, uint32_t idx, uint32_t events, struct ic_stats *st)
{
	struct epoll_event	ev;
	int			err = 0, r;
	socklen_t		elen = sizeof(err);
	ssize_t			n;

	if (c->state == IC_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 || err != 0) {
			conn_fail(c, &st->connect);
			return true;
		}
		/* The request is 100 bytes into an empty socket buffer: one write suffices. */
		n = send(c->fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
		if (n != (ssize_t)(sizeof(req) - 1)) {
			conn_fail(c, &st->io);
			return true;
		}
		c->buf = malloc(IC_RESP_MAX);
		if (c->buf == NULL) {
			conn_fail(c, &st->io);
			return true;
		}
		c->len = 0;
		c->state = IC_READING;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = idx;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1) {
			conn_fail(c, &st->io);
			return true;
		}
		return false;
	}
	if (c->state != IC_READING || (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) == 0)
		return false;
	for (;;) {
		n = recv(c->fd, c->buf + c->len, IC_RESP_MAX - c->len, 0);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (n <= 0) {
			conn_fail(c, &st->io);
			return true;
		}
		c->len += (size_t)n;
		r = response_done(c->buf, c->len);
		if (r < 0 || (r == 0 && c->len == IC_RESP_MAX)) {
			if (st->proto == 0)
				fprintf(stderr, "idleconns: unexpected response: %.*s\n",
				    (int)(c->len > 300 ? 300 : c->len), c->buf);
			conn_fail(c, &st->proto);
			return true;
		}
		if (r == 1)
			break;
	}
	/* Idle from here on: keep the socket, drop the buffer and the epoll registration. */
	free(c->buf);
	c->buf = NULL;
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);	/* closing later removes it anyway */
	c->state = IC_IDLE;
	return true;
}

/* A held connection is still open if a non-blocking peek finds neither EOF nor an error. */
static bool
conn_still_open(int fd)
{
	char	b;
	ssize_t	n;

	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return true;
	return n > 0;	/* unsolicited bytes: still open, though unexpected */
}

static void
usage(void)
{
	fprintf(stderr, "usage: idleconns -p port [-n conns] [-w window] [-t timeout_s]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct ic_conn		*conns;
	struct ic_stats		 st;
	struct sockaddr_in	 sin;
	struct epoll_event	 evs[256];
	struct rlimit		 rl;
	struct sigaction	 sa;
	unsigned long		 port = 0, n = 10000, window = IC_WINDOW_DEF, timeout_s = 60, v;
	unsigned		 next = 0, inflight = 0, ok = 0, closed = 0, i;
	uint64_t		 t0, deadline;
	int			 ep, ch, k, ne;

	while ((ch = getopt(argc, argv, "p:n:w:t:")) != -1) {
		if (optarg == NULL || parse_uint(optarg, IC_CONNS_MAX, &v) != 0)
			usage();
		switch (ch) {
		case 'p':
			port = v;
			break;
		case 'n':
			n = v;
			break;
		case 'w':
			window = v;
			break;
		case 't':
			timeout_s = v;
			break;
		default:
			usage();
		}
	}
	if (port == 0 || port > 65535 || n == 0 || window == 0 || timeout_s == 0)
		usage();

	/* Each connection is a descriptor: lift the soft limit to the hard one, and say so
	 * plainly when even that is too low rather than fail n - limit connections. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		perror("idleconns: getrlimit");
		return 1;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		perror("idleconns: setrlimit");
		return 1;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)n + 32) {
		fprintf(stderr, "idleconns: RLIMIT_NOFILE hard limit %" PRIu64 " is below %lu "
		    "connections + 32\n", (uint64_t)rl.rlim_cur, n);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 || sigaction(SIGINT, &sa, NULL) == -1) {
		perror("idleconns: sigaction");
		return 1;
	}

	conns = calloc(n, sizeof(*conns));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (conns == NULL || ep == -1) {
		perror("idleconns: setup");
		return 1;
	}
	for (i = 0; i < n; i++)
		conns[i].fd = -1;
	memset(&st, 0, sizeof(st));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	t0 = now_ms();
	deadline = t0 + (uint64_t)timeout_s * 1000u;
	while (!stop && (next < n || inflight > 0)) {
		while (next < n && inflight < window) {
			if (conn_start(ep, &conns[next], next, &sin, &st) == 0)
				inflight++;
			next++;
		}
		if (now_ms() >= deadline)
			break;
		ne = epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), 100);
		if (ne == -1 && errno != EINTR) {
			perror("idleconns: epoll_wait");
			return 1;
		}
		for (k = 0; k < ne; k++) {
			uint32_t idx = evs[k].data.u32;

			if (conn_event(ep, &conns[idx], idx, evs[k].events, &st))
				inflight--;
		}
	}
	for (i = 0; i < n; i++) {
		if (conns[i].state == IC_CONNECTING || conns[i].state == IC_READING ||
		    conns[i].state == IC_FREE)
			conn_fail(&conns[i], &st.timeout);
		else if (conns[i].state == IC_IDLE)
			ok++;
	}
	printf("ready ok=%u failed=%u ms=%" PRIu64 "\n", ok,
	    st.connect + st.io + st.proto + st.timeout, now_ms() - t0);
	if (st.connect + st.io + st.proto + st.timeout > 0)
		fprintf(stderr, "idleconns: failures: connect %u, io %u, response %u, "
		    "timeout %u\n", st.connect, st.io, st.proto, st.timeout);
	fflush(stdout);

	/* Hold. pause() would race with a signal that arrived before it: poll the flag. */
	while (!stop) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	ok = 0;
	for (i = 0; i < n; i++) {
		if (conns[i].state != IC_IDLE)
			continue;
		if (conn_still_open(conns[i].fd))
			ok++;
		else
			closed++;
		close(conns[i].fd);
	}
	printf("held ok=%u closed=%u\n", ok, closed);
	fflush(stdout);
	close(ep);
	free(conns);
	return 0;
}
