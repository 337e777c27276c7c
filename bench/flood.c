/*
 * bench/flood.c - the invalid-token flood of `make bench` (bench/auth.sh): keep-alive
 * HTTP/1.1 GETs with a bearer token whose signature does not verify, from a client address
 * of its own (wrk cannot choose one), as fast as the answers come.
 * Owns: its sockets. Does not: talk to anything but the given 127.0.0.0/8 addresses, or
 * pace itself (an attacker does not), or parse anything but what it needs from a response
 * head (status, Content-Length, Connection: close).
 *
 * Usage: flood -p PORT -t TOKEN [-s SRC_ADDR] [-c CONNS] [-d SECS] [-u PATH] [-x]
 * Opens CONNS connections from SRC_ADDR (default 127.0.0.2) to 127.0.0.1:PORT, each sending
 * "GET PATH" with "Authorization: Bearer TOKEN", the next one as soon as the last answer is
 * complete; a connection the server closes is opened again. -x: every request carries a
 * different token: characters 1..11 of the signature part are overwritten with a counter,
 * so no two signatures are alike (a verifier cannot remember a refusal; the token stays
 * strict base64url, its last character untouched). Runs SECS seconds (default: until
 * SIGTERM or SIGINT), then prints one line on stdout:
 *   flood conns=8 secs=8.00 requests=N rate=R s2xx=N s401=N s429=N other=N connects=N
 *   closed=N errors=N
 * (requests: complete answers; closed: connections the server ended, after a complete
 * answer or not; errors: connect/send/recv failures and unparsable answers).
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/banned.h"

#define FL_CONNS_MAX	4096u
#define FL_TOKEN_MAX	16384u
#define FL_REQ_MAX	(FL_TOKEN_MAX + 1024u)
#define FL_RESP_MAX	16384u	/* a gateway's own answer is far smaller */
#define FL_MARK_LEN	11u	/* counter characters written into the signature */

struct fl_conn {
	int		 fd;
	bool		 connecting;
	size_t		 sent;		/* bytes of the current request written */
	char		 resp[FL_RESP_MAX];
	size_t		 len;		/* bytes of the current answer read */
	char		 req[FL_REQ_MAX];	/* this connection's copy: -x rewrites it */
	size_t		 reqlen;
	size_t		 mark;		/* offset of the counter characters in req, 0: none */
};

struct fl_stats {
	uint64_t	 requests, s2xx, s401, s429, other, connects, closed, errors;
};

static volatile sig_atomic_t	 stop;
static struct fl_stats		 st;
static struct sockaddr_in	 src, dst;
static int			 ep;
static uint64_t			 counter;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: flood -p port -t token [-s src_addr] [-c conns] [-d secs] "
	    "[-u path] [-x]\n");
	exit(2);
}

static double
now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long
number(const char *s, unsigned long min, unsigned long max, const char *what)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "flood: %s: want %lu..%lu, got '%s'\n", what, min, max, s);
		exit(2);
	}
	return v;
}

/* Writes the next counter value as FL_MARK_LEN base64url digits at <c>'s mark. */
static void
remark(struct fl_conn *c)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_";
	uint64_t		 v = ++counter;
	unsigned		 i;

	if (c->mark == 0)
		return;
	for (i = 0; i < FL_MARK_LEN; i++) {
		c->req[c->mark + FL_MARK_LEN - 1 - i] = b64[v & 63];
		v >>= 6;
	}
}

static void
conn_close(struct fl_conn *c)
{
	if (c->fd != -1)
		(void)close(c->fd);	/* close also leaves the epoll set */
	c->fd = -1;
}

/* (Re)opens <c>: a non-blocking connect from <src>. False if that failed at once. */
static bool
conn_open(struct fl_conn *c)
{
	struct epoll_event	 ev;
	int			 one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return false;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(c->fd, (const struct sockaddr *)&src, sizeof(src)) == -1)
		goto fail;
	if (connect(c->fd, (const struct sockaddr *)&dst, sizeof(dst)) == -1 &&
	    errno != EINPROGRESS)
		goto fail;
	c->connecting = true;
	c->sent = 0;
	c->len = 0;
	remark(c);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		goto fail;
	st.connects++;
	return true;
fail:
	conn_close(c);
	return false;
}

/* Writes what is left of the request. False: the connection failed. */
static bool
conn_send(struct fl_conn *c)
{
	ssize_t n;

	while (c->sent < c->reqlen) {
		n = send(c->fd, c->req + c->sent, c->reqlen - c->sent, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN;
		}
		c->sent += (size_t)n;
	}
	return true;
}

/* The value of header <name> (with its colon) in the head <h>/<hlen>, or NULL. */
static const char *
header(const char *h, size_t hlen, const char *name, size_t *vlen)
{
	const char	*p = memchr(h, '\n', hlen), *end = h + hlen, *eol, *v;
	size_t		 n = strlen(name);

	while (p != NULL && p + 1 < end) {
		p++;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0) {
			v = p + n;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vlen = (size_t)(eol - v);
			while (*vlen > 0 && (v[*vlen - 1] == '\r' || v[*vlen - 1] == ' '))
				(*vlen)--;
			return v;
		}
		p = eol;
	}
	return NULL;
}

/*
 * Is the answer in <c> complete? 1: yes, counted, *<close> says whether the server ends
 * the connection; 0: read on; -1: unparsable.
 */
static int
answer_done(struct fl_conn *c, bool *close_after)
{
	const char	*eoh, *v;
	size_t		 hlen, vlen, body = 0;
	unsigned	 status, i;

	eoh = memmem(c->resp, c->len, "\r\n\r\n", 4);
	if (eoh == NULL)
		return c->len >= sizeof(c->resp) ? -1 : 0;
	hlen = (size_t)(eoh - c->resp) + 4;
	if (hlen < 12 || memcmp(c->resp, "HTTP/1.1 ", 9) != 0)
		return -1;
	for (status = 0, i = 9; i < 12; i++) {
		if (c->resp[i] < '0' || c->resp[i] > '9')
			return -1;
		status = status * 10 + (unsigned)(c->resp[i] - '0');
	}
	if (header(c->resp, hlen, "transfer-encoding:", &vlen) != NULL)
		return -1;	/* the gateway's own answers have a length; so does the backend's */
	if ((v = header(c->resp, hlen, "content-length:", &vlen)) != NULL) {
		for (i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9' || body > FL_RESP_MAX)
				return -1;
			body = body * 10 + (size_t)(v[i] - '0');
		}
	}
	if (hlen + body > sizeof(c->resp))
		return -1;
	if (c->len < hlen + body)
		return 0;
	if (c->len > hlen + body)
		return -1;	/* nothing was asked for beyond this answer */
	v = header(c->resp, hlen, "connection:", &vlen);
	*close_after = v != NULL && vlen == 5 && strncasecmp(v, "close", 5) == 0;
	st.requests++;
	if (status >= 200 && status < 300)
		st.s2xx++;
	else if (status == 401)
		st.s401++;
	else if (status == 429)
		st.s429++;
	else
		st.other++;
	return 1;
}

/* Handles readiness of <c>. False: the connection is gone (closed, failed). */
static bool
conn_event(struct fl_conn *c, uint32_t events)
{
	struct epoll_event	 ev;
	ssize_t			 n;
	bool			 close_after = false;
	int			 err = 0, r;
	socklen_t		 elen = sizeof(err);

	if (c->connecting) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 || err != 0) {
			st.errors++;
			return false;
		}
		c->connecting = false;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1 || !conn_send(c)) {
			st.errors++;
			return false;
		}
		return true;
	}
	if (events & EPOLLOUT) {
		if (!conn_send(c)) {
			st.errors++;
			return false;
		}
	}
	for (;;) {
		n = recv(c->fd, c->resp + c->len, sizeof(c->resp) - c->len, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return true;
			st.errors++;
			return false;
		}
		if (n == 0) {
			/* The server ended the connection; mid-answer, that is an error too. */
			st.closed++;
			if (c->len > 0)
				st.errors++;
			return false;
		}
		c->len += (size_t)n;
		r = answer_done(c, &close_after);
		if (r < 0) {
			st.errors++;
			return false;
		}
		if (r == 0)
			continue;
		if (close_after) {
			st.closed++;
			return false;
		}
		c->len = 0;
		c->sent = 0;
		remark(c);
		if (!conn_send(c)) {
			st.errors++;
			return false;
		}
		if (c->sent < c->reqlen) {
			/* Rare: the request did not fit the socket buffer; finish it on EPOLLOUT. */
			memset(&ev, 0, sizeof(ev));
			ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
			ev.data.ptr = c;
			if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1) {
				st.errors++;
				return false;
			}
		}
	}
}

int
main(int argc, char **argv)
{
	static struct epoll_event	 evs[256];
	struct fl_conn			*conns;
	struct sigaction		 sa;
	const char			*token = NULL, *path = "/", *srcs = "127.0.0.2", *dot;
	unsigned long			 port = 0, nconns = 8, secs = 0;
	double				 t0, t1;
	bool				 vary = false;
	size_t				 mark = 0;
	unsigned			 i;
	int				 opt, n, k, len;
	char				 req[FL_REQ_MAX];

	while ((opt = getopt(argc, argv, "p:t:s:c:d:u:x")) != -1) {
		switch (opt) {
		case 'p':
			port = number(optarg, 1, 65535, "-p");
			break;
		case 't':
			token = optarg;
			break;
		case 's':
			srcs = optarg;
			break;
		case 'c':
			nconns = number(optarg, 1, FL_CONNS_MAX, "-c");
			break;
		case 'd':
			secs = number(optarg, 1, 86400, "-d");
			break;
		case 'u':
			path = optarg;
			break;
		case 'x':
			vary = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || port == 0 || token == NULL || strlen(token) > FL_TOKEN_MAX ||
	    path[0] != '/' || strpbrk(path, " \r\n") != NULL || strpbrk(token, " \r\n") != NULL)
		usage();
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, srcs, &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr) != 1 ||
	    (ntohl(src.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "flood: -s: want a 127.0.0.0/8 address, got '%s'\n", srcs);
		return 2;
	}
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%lu\r\n"
	    "Authorization: Bearer %s\r\n\r\n", path, port, token);
	if (len < 0 || (size_t)len >= sizeof(req))
		usage();
	if (vary) {
		/* The signature part: after the second dot, long enough to keep its first and
		 * last characters (the last one carries the canonical trailing bits). */
		dot = strchr(token, '.');
		dot = dot != NULL ? strchr(dot + 1, '.') : NULL;
		if (dot == NULL || strlen(dot + 1) < FL_MARK_LEN + 2) {
			fprintf(stderr, "flood: -x: the token has no signature part long enough\n");
			return 2;
		}
		mark = (size_t)(strstr(req, token) - req) + (size_t)(dot - token) + 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("flood: epoll_create1");
		return 1;
	}
	if ((conns = calloc(nconns, sizeof(*conns))) == NULL) {
		perror("flood: calloc");
		return 1;
	}
	for (i = 0; i < nconns; i++) {
		memcpy(conns[i].req, req, (size_t)len);
		conns[i].reqlen = (size_t)len;
		conns[i].mark = mark;
		conns[i].fd = -1;
	}
	t0 = now_s();
	for (i = 0; i < nconns; i++)
		if (!conn_open(&conns[i]))
			st.errors++;
	while (!stop) {
		if (secs > 0 && now_s() - t0 >= (double)secs)
			break;
		n = epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), 100);
		if (n == -1 && errno != EINTR) {
			perror("flood: epoll_wait");
			return 1;
		}
		for (k = 0; k < n; k++) {
			struct fl_conn *c = evs[k].data.ptr;

			if (!conn_event(c, evs[k].events))
				conn_close(c);
		}
		/* Connections that ended or never opened come back: the flood does not stop. */
		for (i = 0; i < nconns && !stop; i++)
			if (conns[i].fd == -1 && !conn_open(&conns[i]))
				st.errors++;
	}
	t1 = now_s();
	printf("flood conns=%lu secs=%.2f requests=%llu rate=%.0f s2xx=%llu s401=%llu "
	    "s429=%llu other=%llu connects=%llu closed=%llu errors=%llu\n", nconns, t1 - t0,
	    (unsigned long long)st.requests, (double)st.requests / (t1 - t0),
	    (unsigned long long)st.s2xx, (unsigned long long)st.s401,
	    (unsigned long long)st.s429, (unsigned long long)st.other,
	    (unsigned long long)st.connects, (unsigned long long)st.closed,
	    (unsigned long long)st.errors);
	for (i = 0; i < nconns; i++)
		conn_close(&conns[i]);
	free(conns);
	return 0;
}
