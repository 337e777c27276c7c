/*
 * bench/tlsconns.c - the full-TLS-handshake load of `make bench`.
 * Keeps <c> connections in flight to 127.0.0.1:<port> for <d> seconds; each one is a new
 * TCP connection, a FULL TLS handshake, one "GET <path>" with "Connection: close", the whole
 * 200 response, then close; then the slot starts over. So the rate it reports is full
 * handshakes (plus one proxied request each) per second.
 * Why not wrk or h2load: both keep the previous connection's session and resume it when
 * they reconnect (checked with nginx's $ssl_session_reused: wrk -H 'Connection: close'
 * resumed 3059 of 3061 connections), which measures resumption, not handshakes. Here no
 * session is ever offered: a new SSL per connection, client session cache off, no ticket
 * extension; a resumed handshake would still be counted as an error ("resumed=").
 * Owns: its sockets and SSL objects. Does not: verify the server's chain (the proxies are
 * measured, not the client; the handshake signature itself is still checked by TLS), talk
 * to anything but 127.0.0.1, or retry a failure (it is counted and reported).
 *
 * Output on stdout, for run.sh to parse (one line each):
 *   tls version=<TLSv1.3> cipher=<name> group=<name> sigalg_key=<EC|RSA>   (first connection)
 *   done conns=<n> secs=<s> rate=<n/s> p50_us=<n> p99_us=<n> errors=<n> resumed=<n> bad=<n>
 */
#include <sys/epoll.h>
#include <sys/socket.h>

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

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/banned.h"

#define TC_CONNS_MAX	4096u
#define TC_SECS_MAX	3600u
#define TC_RESP_MAX	8192u	/* a bigger response than this is a failure */
#define TC_SAMPLES_MAX	(4u << 20)	/* latency samples kept; past it, only counted */
#define TC_REQ_MAX	512u

enum tc_state { TC_CONNECTING, TC_HANDSHAKE, TC_WRITING, TC_READING };

struct tc_conn {
	int		 fd;		/* -1: slot idle */
	SSL		*ssl;
	enum tc_state	 state;
	uint64_t	 t0_us;		/* connect() start */
	size_t		 sent;
	size_t		 len;
	char		 buf[TC_RESP_MAX];
};

struct tc_stats {
	uint64_t	 done;		/* complete 200 responses after a full handshake */
	uint64_t	 errors;	/* connect, TLS or I/O failures, EOF before the end */
	uint64_t	 bad;		/* not a 200, unparsable or too big */
	uint64_t	 resumed;	/* resumed handshakes (must stay 0) */
	uint32_t	*lat_us;
	size_t		 nlat;
};

static volatile sig_atomic_t	stop;
static char			req[TC_REQ_MAX];
static size_t			reqlen;
static bool			printed_tls;
/* Non-const: OpenSSL's macros cast these to char *. */
static char			sni[] = "localhost";
static char			groups[] = "X25519:P-256";

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
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

/* 1: <b>/<len> is one complete 200 response with a Content-Length body; 0: more bytes
 * needed; -1: not one we accept. The proxies under test answer exactly that. */
static int
response_done(const char *b, size_t len)
{
	const char	*eoh, *p;
	size_t		 hlen, body, n;
	unsigned long	 clen;
	char		 num[24];

	eoh = memmem(b, len, "\r\n\r\n", 4);
	if (eoh == NULL)
		return len >= TC_RESP_MAX ? -1 : 0;
	hlen = (size_t)(eoh - b) + 4;
	body = len - hlen;
	if (hlen < 12 || memcmp(b, "HTTP/1.1 200", 12) != 0)
		return -1;
	p = b;
	for (;;) {
		p = memmem(p, (size_t)(eoh - p), "\r\n", 2);
		if (p == NULL)
			return -1;
		p += 2;
		if (strncasecmp(p, "content-length:", 15) == 0)
			break;
	}
	p += 15;
	while (*p == ' ' || *p == '\t')
		p++;
	for (n = 0; n < sizeof(num) - 1 && isdigit((unsigned char)p[n]); n++)
		num[n] = p[n];
	num[n] = '\0';
	if (parse_uint(num, TC_RESP_MAX, &clen) != 0 || body > clen)
		return -1;
	return body == clen;
}

static void
conn_end(int ep, struct tc_conn *c)
{
	if (c->fd != -1) {
		(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);	/* no close_notify: the server already sent its whole answer */
	}
	SSL_free(c->ssl);
	c->ssl = NULL;
	c->fd = -1;
}

static int
conn_watch(int ep, struct tc_conn *c, uint32_t idx, uint32_t events, int op)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u32 = idx;
	return epoll_ctl(ep, op, c->fd, &ev);
}

static int
conn_start(int ep, SSL_CTX *ctx, struct tc_conn *c, uint32_t idx,
    const struct sockaddr_in *sin)
{
	int	one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return -1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->t0_us = now_us();
	c->sent = 0;
	c->len = 0;
	c->state = TC_CONNECTING;
	if (connect(c->fd, (const struct sockaddr *)sin, sizeof(*sin)) == -1 &&
	    errno != EINPROGRESS)
		return -1;
	/* A new SSL with no session set: nothing to resume from. */
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, sni) != 1)
		return -1;
	SSL_set_connect_state(c->ssl);
	return conn_watch(ep, c, idx, EPOLLOUT, EPOLL_CTL_ADD);
}

static void
print_tls(SSL *ssl)
{
	EVP_PKEY	*pk;
	const char	*grp;
	int		 nid;

	pk = SSL_get0_peer_certificate(ssl) != NULL ?
	    X509_get0_pubkey(SSL_get0_peer_certificate(ssl)) : NULL;
	nid = SSL_get_negotiated_group(ssl);
	grp = nid != 0 ? SSL_group_to_name(ssl, nid) : NULL;
	printf("tls version=%s cipher=%s group=%s cert_key=%s\n", SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl), grp != NULL ? grp : "none",
	    pk == NULL ? "none" : EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC ? "EC" :
	    EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA ? "RSA" : "other");
	fflush(stdout);
	printed_tls = true;
}

/* <r> from an SSL call that did not succeed: the events to wait for, or 0 = failed. */
static uint32_t
ssl_wait(SSL *ssl, int r)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return EPOLLIN;
	case SSL_ERROR_WANT_WRITE:
		return EPOLLOUT;
	default:
		return 0;
	}
}

/* Advances <c> as far as it goes. 1: response complete; 0: waiting; -1: error; -2: bad. */
static int
conn_step(int ep, struct tc_conn *c, uint32_t idx, struct tc_stats *st)
{
	uint32_t	 want;
	socklen_t	 sl = sizeof(int);
	int		 r, soerr = 0;

	/* Each stage runs on into the next as soon as it completes. */
	if (c->state == TC_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 || soerr != 0)
			return -1;
		c->state = TC_HANDSHAKE;
	}
	if (c->state == TC_HANDSHAKE) {
		r = SSL_do_handshake(c->ssl);
		if (r != 1) {
			want = ssl_wait(c->ssl, r);
			if (want == 0)
				return -1;
			return conn_watch(ep, c, idx, want, EPOLL_CTL_MOD) == -1 ? -1 : 0;
		}
		if (SSL_session_reused(c->ssl))
			st->resumed++;
		if (!printed_tls)
			print_tls(c->ssl);
		c->state = TC_WRITING;
	}
	if (c->state == TC_WRITING) {
		while (c->sent < reqlen) {
			r = SSL_write(c->ssl, req + c->sent, (int)(reqlen - c->sent));
			if (r <= 0) {
				want = ssl_wait(c->ssl, r);
				if (want == 0)
					return -1;
				return conn_watch(ep, c, idx, want, EPOLL_CTL_MOD) == -1 ? -1 : 0;
			}
			c->sent += (size_t)r;
		}
		c->state = TC_READING;
	}
	for (;;) {
		if (c->len >= sizeof(c->buf))
			return -2;
		r = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
		if (r <= 0) {
			want = ssl_wait(c->ssl, r);
			if (want == 0)
				return -1;	/* EOF or error before the end */
			return conn_watch(ep, c, idx, want, EPOLL_CTL_MOD) == -1 ? -1 : 0;
		}
		c->len += (size_t)r;
		r = response_done(c->buf, c->len);
		if (r != 0)
			return r == 1 ? 1 : -2;
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t
pct(const struct tc_stats *st, unsigned p)
{
	size_t	i;

	if (st->nlat == 0)
		return 0;
	i = (st->nlat * p + 99) / 100;
	return st->lat_us[i == 0 ? 0 : i - 1];
}

static void
usage(void)
{
	fprintf(stderr, "usage: tlsconns -p port [-c conns] [-d secs] [-u path]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct epoll_event	 evs[256];
	struct sockaddr_in	 sin;
	struct tc_stats		 st;
	struct tc_conn		*conns;
	SSL_CTX			*ctx;
	unsigned long		 port = 0, nconns = 64, secs = 8;
	const char		*path = "/bench/hello";
	uint64_t		 t_start, t_end, t;
	uint32_t		 i;
	int			 ep, n, k, opt, r;

	while ((opt = getopt(argc, argv, "p:c:d:u:")) != -1) {
		switch (opt) {
		case 'p':
			if (parse_uint(optarg, 65535, &port) != 0 || port == 0)
				usage();
			break;
		case 'c':
			if (parse_uint(optarg, TC_CONNS_MAX, &nconns) != 0 || nconns == 0)
				usage();
			break;
		case 'd':
			if (parse_uint(optarg, TC_SECS_MAX, &secs) != 0 || secs == 0)
				usage();
			break;
		case 'u':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (port == 0 || path[0] != '/' || strpbrk(path, " \r\n") != NULL)
		usage();
	r = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n"
	    "User-Agent: portcullis-bench-tlsconns\r\nConnection: close\r\n\r\n", path);
	if (r < 0 || (size_t)r >= sizeof(req))
		usage();
	reqlen = (size_t)r;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, groups) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	/* Never resume: no client-side session cache, no ticket extension (TLS 1.2), and a
	 * fresh SSL per connection with no SSL_set_session (TLS 1.3 PSK needs one). */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);

	memset(&st, 0, sizeof(st));
	st.lat_us = calloc(TC_SAMPLES_MAX, sizeof(*st.lat_us));
	conns = calloc(nconns, sizeof(*conns));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (st.lat_us == NULL || conns == NULL || ep == -1) {
		fprintf(stderr, "tlsconns: out of memory or epoll_create1 failed\n");
		return 1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	t_start = now_us();
	t_end = t_start + (uint64_t)secs * 1000000u;
	for (i = 0; i < nconns; i++) {
		conns[i].fd = -1;
		if (conn_start(ep, ctx, &conns[i], i, &sin) == -1) {
			st.errors++;
			conn_end(ep, &conns[i]);
		}
	}
	while (!stop && (t = now_us()) < t_end) {
		n = epoll_wait(ep, evs, 256, (int)((t_end - t) / 1000u) + 1);
		if (n == -1 && errno != EINTR) {
			fprintf(stderr, "tlsconns: epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		for (k = 0; k < n; k++) {
			struct tc_conn	*c = &conns[evs[k].data.u32];

			if (c->fd == -1)
				continue;
			r = conn_step(ep, c, evs[k].data.u32, &st);
			if (r == 0)
				continue;
			t = now_us();
			if (r == 1 && t <= t_end) {
				st.done++;
				if (st.nlat < TC_SAMPLES_MAX)
					st.lat_us[st.nlat++] = (uint32_t)(t - c->t0_us > UINT32_MAX ?
					    UINT32_MAX : t - c->t0_us);
			} else if (r == -2) {
				st.bad++;
			} else if (r == -1) {
				st.errors++;
				ERR_clear_error();
			}
			conn_end(ep, c);
		}
		/* Refill every idle slot, including those that failed to start. */
		for (i = 0; i < nconns && now_us() < t_end; i++) {
			if (conns[i].fd != -1)
				continue;
			if (conn_start(ep, ctx, &conns[i], i, &sin) == -1) {
				st.errors++;
				ERR_clear_error();
				conn_end(ep, &conns[i]);
			}
		}
	}
	t = now_us();
	for (i = 0; i < nconns; i++)
		if (conns[i].fd != -1)
			conn_end(ep, &conns[i]);	/* in flight at the end: not counted */
	qsort(st.lat_us, st.nlat, sizeof(*st.lat_us), cmp_u32);
	printf("done conns=%" PRIu64 " secs=%.3f rate=%.1f p50_us=%" PRIu32 " p99_us=%" PRIu32
	    " errors=%" PRIu64 " resumed=%" PRIu64 " bad=%" PRIu64 "\n", st.done,
	    (double)(t - t_start) / 1e6, (double)st.done * 1e6 / (double)(t - t_start),
	    pct(&st, 50), pct(&st, 99), st.errors, st.resumed, st.bad);
	close(ep);
	free(conns);
	free(st.lat_us);
	SSL_CTX_free(ctx);
	return 0;
}
