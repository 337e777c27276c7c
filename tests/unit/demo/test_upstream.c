/*
 * tests/unit/demo/test_upstream.c - the demo upstream over real sockets: status and fields,
 * keep-alive, pipelining, Content-Length and chunked bodies arriving in pieces,
 * 100-continue, HEAD, closing rules, framing errors, the connection cap, start and stop.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <cmocka.h>

#include "demo/demo.h"
#include "core/banned.h"

struct client {
	int	 fd;
	size_t	 len;
	char	 buf[512 * 1024];
};

struct reply {
	int	 status;
	char	 head[4096];	/* NUL-terminated, without the final CRLF CRLF */
	char	*body;		/* NUL-terminated; owned */
	size_t	 body_len;
};

static struct pc_addr
loopback(uint16_t port)
{
	struct pc_addr		 a;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a.ss;

	memset(&a, 0, sizeof(a));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.len = sizeof(*sin);
	return a;
}

static struct client *
client_open(void)
{
	struct client	*c = calloc(1, sizeof(*c));
	struct pc_addr	 a = loopback((uint16_t)pc_demo_upstream_port());
	struct timeval	 tv = { 5, 0 };

	assert_non_null(c);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	/* A hung server fails the test instead of hanging it. */
	assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&a.ss, a.len), 0);
	return c;
}

static void
client_close(struct client *c)
{
	(void)close(c->fd);
	free(c);
}

static void
client_send(struct client *c, const char *s)
{
	size_t	n = strlen(s), off = 0;
	ssize_t	w;

	while (off < n) {
		w = send(c->fd, s + off, n - off, MSG_NOSIGNAL);
		assert_true(w > 0);
		off += (size_t)w;
	}
}

/* Reads until the server closes: returns true if it did (EOF or reset), with nothing else. */
static bool
client_sees_close(struct client *c)
{
	char	b[64];
	ssize_t	r = recv(c->fd, b, sizeof(b), 0);

	return r == 0 || (r == -1 && errno == ECONNRESET);
}

static size_t
content_length(const char *head)
{
	const char	*p = strcasestr(head, "\r\nContent-Length: ");
	size_t		 n = 0;

	assert_non_null(p);
	for (p += 18; *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (size_t)(*p - '0');
	return n;
}

/* Reads one response; <head_only> for the answer to HEAD. Returns 0, or -1 on EOF. */
static int
client_reply(struct client *c, struct reply *r, bool head_only)
{
	const char	*end;
	size_t		 hlen, blen, total;
	ssize_t		 n;

	for (;;) {
		c->buf[c->len] = '\0';
		end = strstr(c->buf, "\r\n\r\n");
		if (end != NULL) {
			hlen = (size_t)(end - c->buf);
			assert_true(hlen < sizeof(r->head));
			memcpy(r->head, c->buf, hlen);
			r->head[hlen] = '\0';
			assert_true(strncmp(r->head, "HTTP/1.1 ", 9) == 0);
			r->status = (int)strtol(r->head + 9, NULL, 10);
			blen = r->status < 200 || head_only ? 0 : content_length(r->head);
			total = hlen + 4 + blen;
			if (c->len >= total) {
				r->body = malloc(blen + 1);
				assert_non_null(r->body);
				memcpy(r->body, c->buf + hlen + 4, blen);
				r->body[blen] = '\0';
				r->body_len = blen;
				memmove(c->buf, c->buf + total, c->len - total);
				c->len -= total;
				return 0;
			}
		}
		assert_true(c->len < sizeof(c->buf) - 1);
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			return -1;
		assert_true(n > 0);
		c->len += (size_t)n;
	}
}

static void
reply_free(struct reply *r)
{
	free(r->body);
	r->body = NULL;
}

/* One request on a fresh connection; returns the status, fills <r>. */
static int
exchange(const char *req, struct reply *r)
{
	struct client *c = client_open();

	client_send(c, req);
	assert_int_equal(client_reply(c, r, false), 0);
	client_close(c);
	return r->status;
}

static int
group_setup(void **state)
{
	struct pc_addr a = loopback(0);

	(void)state;
	if (pc_demo_upstream_start(&a) != 0)
		return -1;
	return pc_demo_upstream_port() > 0 ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	pc_demo_upstream_stop();
	return 0;
}

static void
test_get_rider(void **state)
{
	struct reply r;

	(void)state;
	assert_int_equal(exchange("GET /v1/riders/r-1001 HTTP/1.1\r\nHost: rides\r\n\r\n", &r),
	    200);
	assert_non_null(strstr(r.head, "\r\nServer: rides-demo/1.0\r\n"));
	assert_non_null(strstr(r.head, "\r\nX-Powered-By: AnyCompany-PHP/5.6\r\n"));
	assert_non_null(strstr(r.head, "\r\nContent-Type: application/json"));
	assert_null(strstr(r.head, "Connection:"));
	assert_string_equal(r.body, "{\"id\":\"r-1001\",\"name\":\"Ana Souza\","
	    "\"email\":\"ana.souza@example.com\",\"member_since\":2019,\"rating\":4.8}\n");
	reply_free(&r);
}

static void
test_not_found(void **state)
{
	struct reply r;

	(void)state;
	assert_int_equal(exchange("GET /v1/riders/r-0 HTTP/1.1\r\nHost: rides\r\n\r\n", &r), 404);
	assert_non_null(strstr(r.body, "\"error\":\"not_found\""));
	reply_free(&r);
	assert_int_equal(exchange("GET /admin HTTP/1.1\r\nHost: rides\r\n\r\n", &r), 404);
	reply_free(&r);
	assert_int_equal(exchange("DELETE /v1/riders/r-1001 HTTP/1.1\r\nHost: rides\r\n\r\n", &r),
	    405);
	assert_non_null(strstr(r.head, "\r\nAllow: GET, HEAD"));
	reply_free(&r);
}

static void
test_post_trip(void **state)
{
	static const char	 body[] =
	    "{\"rider_id\":\"r-1003\",\"pickup\":\"Alfama\",\"dropoff\":\"Bel\\u00e9m\"}";
	struct reply		 r;
	char			 req[512], loc[64];
	const char		*p;

	(void)state;
	(void)snprintf(req, sizeof(req), "POST /v1/trips HTTP/1.1\r\nHost: rides\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    sizeof(body) - 1, body);
	assert_int_equal(exchange(req, &r), 201);
	assert_non_null(strstr(r.body, "\"dropoff\":\"Bel\xc3\xa9m\""));
	p = strstr(r.head, "\r\nLocation: /v1/trips/t-");
	assert_non_null(p);
	(void)snprintf(loc, sizeof(loc), "GET %.*s HTTP/1.1\r\nHost: rides\r\n\r\n",
	    (int)strcspn(p + 12, "\r"), p + 12);
	reply_free(&r);
	/* The new trip can be read back. */
	assert_int_equal(exchange(loc, &r), 200);
	assert_non_null(strstr(r.body, "\"pickup\":\"Alfama\""));
	reply_free(&r);
}

static void
test_rating_validation(void **state)
{
	struct reply r;

	(void)state;
	assert_int_equal(exchange("POST /v1/trips/t-3001/ratings HTTP/1.1\r\nHost: rides\r\n"
	    "Content-Length: 11\r\n\r\n{\"stars\":9}", &r), 400);
	assert_non_null(strstr(r.body, "stars must be an integer from 1 to 5"));
	reply_free(&r);
	assert_int_equal(exchange("POST /v1/trips/t-3001/ratings HTTP/1.1\r\nHost: rides\r\n"
	    "Content-Length: 10\r\n\r\n{\"stars\":4", &r), 400);
	assert_non_null(strstr(r.body, "invalid_json"));
	reply_free(&r);
	assert_int_equal(exchange("POST /v1/trips/t-3001/ratings HTTP/1.1\r\nHost: rides\r\n"
	    "Content-Length: 11\r\n\r\n{\"stars\":4}", &r), 201);
	reply_free(&r);
}

static void
test_keepalive_pipelined(void **state)
{
	struct client	*c = client_open();
	struct reply	 r;

	(void)state;
	/* Three requests in one write: answered in order on the same connection. */
	client_send(c, "GET /health HTTP/1.1\r\nHost: rides\r\n\r\n"
	    "POST /v1/trips/t-3002/ratings HTTP/1.1\r\nHost: rides\r\nContent-Length: 11\r\n\r\n"
	    "{\"stars\":5}"
	    "GET /v1/drivers/d-2004 HTTP/1.1\r\nHost: rides\r\n\r\n");
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\":\"ok\"}\n");
	reply_free(&r);
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_int_equal(r.status, 201);
	assert_non_null(strstr(r.body, "\"trip_id\":\"t-3002\""));
	reply_free(&r);
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Tesla Model 3"));
	reply_free(&r);
	/* Still open for a fourth. */
	client_send(c, "GET /v1/riders/r-1002 HTTP/1.1\r\nHost: rides\r\n\r\n");
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	client_close(c);
}

static void
test_chunked_body_in_pieces(void **state)
{
	static const char *const pieces[] = {
		"POST /v1/trips HTTP/1.1\r\nHost: rides\r\nTransfer-Encoding: chunked\r\n\r\n",
		"28\r\n{\"rider_id\":\"r-1004\",\"pic",	/* a chunk split across writes */
		"kup\":\"Oriente\",\r",
		"\n13;ext=1\r\n\"dropoff\":\"Alfama\"}\r\n",
		"0\r\nX-Trailer: t\r\n",
		"\r\n",
	};
	struct client	*c = client_open();
	struct reply	 r;
	size_t		 i;

	(void)state;
	for (i = 0; i < PC_NELEM(pieces); i++) {
		client_send(c, pieces[i]);
		(void)usleep(20000);
	}
	assert_int_equal(client_reply(c, &r, false), 0);
	if (r.status != 201)
		fail_msg("%d %s", r.status, r.body);
	assert_non_null(strstr(r.body, "\"rider_id\":\"r-1004\""));
	assert_non_null(strstr(r.body, "\"dropoff\":\"Alfama\""));
	reply_free(&r);
	/* The connection stays usable after a chunked body. */
	client_send(c, "GET /health HTTP/1.1\r\nHost: rides\r\n\r\n");
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	client_close(c);
}

static void
test_content_length_in_pieces(void **state)
{
	struct client	*c = client_open();
	struct reply	 r;

	(void)state;
	client_send(c, "POST /v1/trips/t-3001/ratings HTTP/1.1\r\nHo");
	(void)usleep(20000);
	client_send(c, "st: rides\r\nContent-Length: 28\r\n\r\n{\"stars\":3,");
	(void)usleep(20000);
	client_send(c, "\"comment\":\"late\"}");
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_int_equal(r.status, 201);
	assert_non_null(strstr(r.body, "\"comment\":\"late\""));
	reply_free(&r);
	client_close(c);
}

static void
test_expect_continue(void **state)
{
	struct client	*c = client_open();
	struct reply	 r;

	(void)state;
	client_send(c, "POST /v1/trips/t-3001/ratings HTTP/1.1\r\nHost: rides\r\n"
	    "Expect: 100-continue\r\nContent-Length: 11\r\n\r\n");
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_int_equal(r.status, 100);
	reply_free(&r);
	client_send(c, "{\"stars\":2}");
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_int_equal(r.status, 201);
	reply_free(&r);
	client_close(c);
}

static void
test_head(void **state)
{
	struct client	*c = client_open();
	struct reply	 r;

	(void)state;
	client_send(c, "HEAD /v1/riders HTTP/1.1\r\nHost: rides\r\n\r\n"
	    "GET /health HTTP/1.1\r\nHost: rides\r\n\r\n");
	assert_int_equal(client_reply(c, &r, true), 0);
	assert_int_equal(r.status, 200);
	assert_true(content_length(r.head) > 100);
	reply_free(&r);
	/* Had a body followed the HEAD answer, this would read it instead. */
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_string_equal(r.body, "{\"status\":\"ok\"}\n");
	reply_free(&r);
	client_close(c);
}

static void
test_close_rules(void **state)
{
	struct client	*c;
	struct reply	 r;

	(void)state;
	c = client_open();
	client_send(c, "GET /health HTTP/1.1\r\nHost: rides\r\nConnection: close\r\n\r\n");
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_non_null(strstr(r.head, "\r\nConnection: close"));
	reply_free(&r);
	assert_true(client_sees_close(c));
	client_close(c);

	c = client_open();
	client_send(c, "GET /health HTTP/1.0\r\n\r\n");
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_true(client_sees_close(c));
	client_close(c);

	c = client_open();
	client_send(c, "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_non_null(strstr(r.head, "\r\nConnection: keep-alive"));
	reply_free(&r);
	client_send(c, "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	client_close(c);

	/* The client shuts its side after the request: it still gets the answer. */
	c = client_open();
	client_send(c, "GET /health HTTP/1.1\r\nHost: rides\r\n\r\n");
	assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_true(client_sees_close(c));
	client_close(c);
}

static void
test_framing_errors(void **state)
{
	static const struct {
		const char	*req;
		int		 status;
	} cases[] = {
		{ "GARBAGE\r\n\r\n", 400 },
		{ "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "POST /v1/trips HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
		{ "POST /v1/trips HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n", 413 },
		{ "POST /v1/trips HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "zz\r\n", 400 },
		{ "POST /v1/trips HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "10001\r\n", 413 },
	};
	struct client	*c;
	struct reply	 r;
	size_t		 i;

	(void)state;
	for (i = 0; i < PC_NELEM(cases); i++) {
		c = client_open();
		client_send(c, cases[i].req);
		assert_int_equal(client_reply(c, &r, false), 0);
		if (r.status != cases[i].status)
			fail_msg("case %zu: %d %s", i, r.status, r.body);
		assert_non_null(strstr(r.head, "\r\nConnection: close"));
		reply_free(&r);
		assert_true(client_sees_close(c));
		client_close(c);
	}
}

static void
test_oversized_chunked_body(void **state)
{
	struct client	*c = client_open();
	struct reply	 r;
	char		 chunk[6 + 8192 + 2];
	int		 i;

	(void)state;
	client_send(c, "POST /v1/trips HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
	/* 9 chunks of 8 KiB: past the 64 KiB body limit, each chunk on its own valid. */
	memset(chunk, 'x', sizeof(chunk));
	memcpy(chunk, "2000\r\n", 6);
	memcpy(chunk + 6 + 8192, "\r\n", 2);
	for (i = 0; i < 9; i++)
		if (send(c->fd, chunk, sizeof(chunk), MSG_NOSIGNAL) <= 0)
			break;
	assert_int_equal(client_reply(c, &r, false), 0);
	assert_int_equal(r.status, 413);
	reply_free(&r);
	client_close(c);
}

static void
test_connection_cap(void **state)
{
	enum { N = 256 + 8 };
	struct client	*cs[N];
	struct reply	 r;
	int		 i, closed = 0;

	(void)state;
	(void)usleep(100000);	/* connections of earlier tests are gone */
	for (i = 0; i < N; i++)
		cs[i] = client_open();
	(void)usleep(100000);
	for (i = N - 8; i < N; i++)
		closed += client_sees_close(cs[i]);
	/* The cap holds: the last ones were accepted and closed at once. */
	assert_int_equal(closed, 8);
	client_send(cs[0], "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(client_reply(cs[0], &r, false), 0);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	for (i = 0; i < N; i++)
		client_close(cs[i]);
	(void)usleep(100000);
	/* Room again once they are gone. */
	assert_int_equal(exchange("GET /health HTTP/1.1\r\nHost: a\r\n\r\n", &r), 200);
	reply_free(&r);
}

static void
test_tour(void **state)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&text, &len);
	char	 up[64];

	(void)state;
	assert_non_null(f);
	pc_demo_print_tour(f, "127.0.0.1:8080", "127.0.0.1:9901", "0123456789abcdef0123");
	assert_int_equal(fclose(f), 0);
	(void)snprintf(up, sizeof(up), "curl -si http://127.0.0.1:%d/health",
	    pc_demo_upstream_port());
	assert_non_null(strstr(text, up));
	assert_non_null(strstr(text, "curl -s -w ' -> %{http_code}\\n' "
	    "http://127.0.0.1:8080/v1/riders/r-1001\n"));
	assert_non_null(strstr(text, "--path-as-is http://127.0.0.1:8080/v1/../../etc/passwd"));
	assert_non_null(strstr(text, "'http://127.0.0.1:8080/v1/riders%2F..%2Fadmin'"));
	assert_non_null(strstr(text, "-H 'Transfer-Encoding: chunked' -H 'Content-Length: 3'"));
	assert_non_null(strstr(text, "$(head -c 20000 /dev/zero | tr '\\0' a)"));
	assert_non_null(strstr(text, "curl -s -H 'Authorization: Bearer 0123456789abcdef0123' "
	    "http://127.0.0.1:9901/metrics\n"));
	assert_non_null(strstr(text, "-> 431"));
	free(text);

	/* Admin disabled: no admin lines at all. */
	f = open_memstream(&text, &len);
	assert_non_null(f);
	pc_demo_print_tour(f, "127.0.0.1:8080", NULL, NULL);
	assert_int_equal(fclose(f), 0);
	assert_null(strstr(text, "  admin  "));
	assert_null(strstr(text, "/metrics"));
	assert_null(strstr(text, "(null)"));
	assert_non_null(strstr(text, "--path-as-is"));
	free(text);
}

static void
test_start_stop(void **state)
{
	struct pc_addr		 a = loopback(0), busy;
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	struct reply		 r;
	int			 fd;

	(void)state;
	/* One at a time. */
	assert_int_equal(pc_demo_upstream_start(&a), -PC_EINVAL);
	pc_demo_upstream_stop();
	assert_int_equal(pc_demo_upstream_port(), -1);
	pc_demo_upstream_stop();

	/* A port someone else listens on is reported, and leaves nothing behind. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a.ss, a.len), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	busy = loopback(ntohs(sin.sin_port));
	assert_true(pc_demo_upstream_start(&busy) < 0);
	assert_int_equal(pc_demo_upstream_port(), -1);
	(void)close(fd);

	memset(&busy, 0, sizeof(busy));
	busy.ss.ss_family = AF_UNIX;
	assert_int_equal(pc_demo_upstream_start(&busy), -PC_EINVAL);

	/* A restart serves again, from the seed data. */
	assert_int_equal(pc_demo_upstream_start(&a), 0);
	assert_true(pc_demo_upstream_port() > 0);
	assert_int_equal(exchange("GET /v1/trips/t-3007 HTTP/1.1\r\nHost: a\r\n\r\n", &r), 404);
	reply_free(&r);
}

/* Stopping with connections open (idle and mid-request) closes them all. */
static void
test_stop_with_open_connections(void **state)
{
	struct pc_addr	 a = loopback(0);
	struct client	*idle, *mid;

	(void)state;
	idle = client_open();
	mid = client_open();
	client_send(mid, "GET /health HTTP/1.1\r\nHo");
	(void)usleep(50000);
	pc_demo_upstream_stop();
	assert_true(client_sees_close(idle));
	assert_true(client_sees_close(mid));
	client_close(idle);
	client_close(mid);
	assert_int_equal(pc_demo_upstream_start(&a), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_rider),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_post_trip),
		cmocka_unit_test(test_rating_validation),
		cmocka_unit_test(test_keepalive_pipelined),
		cmocka_unit_test(test_chunked_body_in_pieces),
		cmocka_unit_test(test_content_length_in_pieces),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_close_rules),
		cmocka_unit_test(test_framing_errors),
		cmocka_unit_test(test_oversized_chunked_body),
		cmocka_unit_test(test_connection_cap),
		cmocka_unit_test(test_tour),
		cmocka_unit_test(test_start_stop),
		cmocka_unit_test(test_stop_with_open_connections),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
