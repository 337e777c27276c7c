/*
 * tests/unit/proxy/test_h1_out.c - what crosses the gateway: the request head rebuilt for
 * the upstream (hop-by-hop and spoofable fields dropped, forwarding fields set) and the
 * response head rebuilt for the client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/h1_out.c"

static struct pc_conf		conf;
static struct pc_conf_route	route;
static struct target		tgt;
static struct conn		client;
static struct exchange		ex;
static struct pc_msg		msg;
static char			head[4096];

static void
prepare(const char *raw, bool trusted_peer)
{
	static struct pc_cidr	 lo = { AF_INET, { 127, 0, 0, 0 }, 8 };
	struct pc_h1_limits	 lim = { 8192, 32768, 100 };
	enum pc_reason		 reason;
	size_t			 n = strlen(raw);

	memset(&conf, 0, sizeof(conf));
	memset(&route, 0, sizeof(route));
	memset(&tgt, 0, sizeof(tgt));
	memset(&client, 0, sizeof(client));
	memset(&ex, 0, sizeof(ex));
	conf.drop_server_header = true;
	conf.trusted_proxies = &lo;
	conf.ntrusted_proxies = 1;
	memcpy(tgt.addr.text, "10.1.1.1:80", 12);
	client.family = AF_INET;
	if (trusted_peer) {
		memcpy(client.addr, (uint8_t[]){ 127, 0, 0, 9 }, 4);
		memcpy(client.ip, "127.0.0.9", 10);
	} else {
		memcpy(client.addr, (uint8_t[]){ 192, 0, 2, 7 }, 4);
		memcpy(client.ip, "192.0.2.7", 10);
	}
	assert_true(n < sizeof(head));
	memcpy(head, raw, n);
	assert_int_equal(pc_h1_parse_request(head, n, &lim, &msg, &reason), (int)n);
	ex.req.conf = &conf;
	ex.req.route = &route;
	ex.tgt = &tgt;
	ex.method = msg.method;
	ex.req.view.path = (char *)(uintptr_t)"/norm/path";
	ex.req.view.path_len = 10;
	memcpy(ex.req.id, "rid-1", 6);
	ex.req.id_len = 5;
	ex.req_body = (msg.flags & PC_MSG_CHUNKED) ? BODY_CHUNKED :
	    (msg.flags & PC_MSG_HAS_CL) ? BODY_LENGTH : BODY_NONE;
	pc_buf_init(&ex.upout, 65536);
}

static char *
out_str(struct pc_buf *b)
{
	assert_int_equal(pc_buf_addc(b, '\0'), 0);
	return (char *)b->data;
}

static void
test_request_rebuilt(void **state)
{
	char *s;

	(void)state;
	prepare("GET /a/../norm/path HTTP/1.1\r\nHost: api.example.com\r\n"
	    "Connection: close, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: 5\r\nUpgrade: h2c\r\n"
	    "Proxy-Connection: x\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n"
	    "Forwarded: for=6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nX-Request-Id: bad id\r\n"
	    "Accept: */*\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", false);
	assert_int_equal(pc_out_request_head(&ex, &msg, &client), 0);
	s = out_str(&ex.upout);
	/* The normalized path, never the raw target. */
	assert_non_null(strstr(s, "GET /norm/path HTTP/1.1\r\nHost: api.example.com\r\n"));
	assert_non_null(strstr(s, "\r\nAccept: */*\r\n"));
	/* Hop-by-hop, named in Connection, and client-asserted forwarding facts: gone. */
	assert_null(strstr(s, "X-Secret"));
	assert_null(strstr(s, "Keep-Alive"));
	assert_null(strstr(s, "Upgrade"));
	assert_null(strstr(s, "Proxy-Connection"));
	assert_null(strstr(s, "6.6.6.6"));
	assert_null(strstr(s, "https"));
	assert_null(strstr(s, "Expect"));
	assert_null(strstr(s, "Connection:"));
	assert_non_null(strstr(s, "X-Forwarded-For: 192.0.2.7\r\n"));
	assert_non_null(strstr(s, "X-Forwarded-Proto: http\r\n"));
	assert_non_null(strstr(s, "X-Request-Id: rid-1\r\n"));
	assert_non_null(strstr(s, "Content-Length: 3\r\n\r\n"));
	pc_buf_fini(&ex.upout);
}

static void
test_trusted_proxy_appends(void **state)
{
	char *s;

	(void)state;
	prepare("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.5\r\n"
	    "X-Forwarded-Proto: https\r\nForwarded: for=203.0.113.5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", true);
	assert_int_equal(pc_out_request_head(&ex, &msg, &client), 0);
	s = out_str(&ex.upout);
	assert_non_null(strstr(s, "X-Forwarded-For: 203.0.113.5, 127.0.0.9\r\n"));
	assert_non_null(strstr(s, "X-Forwarded-Proto: https\r\n"));
	assert_non_null(strstr(s, "Forwarded: for=203.0.113.5\r\n"));
	assert_non_null(strstr(s, "Transfer-Encoding: chunked\r\n\r\n"));
	assert_null(strstr(s, "Content-Length"));
	pc_buf_fini(&ex.upout);
}

static void
test_zero_length_kept(void **state)
{
	char *s;

	(void)state;
	prepare("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", false);
	assert_int_equal(pc_out_request_head(&ex, &msg, &client), 0);
	s = out_str(&ex.upout);
	assert_non_null(strstr(s, "Content-Length: 0\r\n\r\n"));
	pc_buf_fini(&ex.upout);
	prepare("GET /x HTTP/1.1\r\nHost: h\r\n\r\n", false);
	assert_int_equal(pc_out_request_head(&ex, &msg, &client), 0);
	s = out_str(&ex.upout);
	assert_null(strstr(s, "Content-Length"));	/* none invented */
	pc_buf_fini(&ex.upout);
}

static void
test_traceparent(void **state)
{
	static const struct {
		const char	*tp;
		bool		 ok;
	} cases[] = {
		{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true },
		{ "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false },
		{ "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false },
		{ "00-00000000000000000000000000000000-00f067aa0ba902b7-01", false },
		{ "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false },
		{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0", false },
		{ "00-4bf92f3577b34da6a3ce929d0e0e4736x00f067aa0ba902b7-01", false },
		{ "", false },
	};
	size_t	i;
	char	raw[512], *s;

	(void)state;
	for (i = 0; i < PC_NELEM(cases); i++)
		assert_int_equal(traceparent_valid(pc_str_c(cases[i].tp)), cases[i].ok);
	(void)snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: h\r\ntraceparent: %s\r\n"
	    "tracestate: k=v\r\n\r\n", cases[0].tp);
	prepare(raw, false);
	assert_int_equal(pc_out_request_head(&ex, &msg, &client), 0);
	s = out_str(&ex.upout);
	assert_non_null(strstr(s, cases[0].tp));
	assert_non_null(strstr(s, "tracestate: k=v\r\n"));
	pc_buf_fini(&ex.upout);
	(void)snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: h\r\ntraceparent: %s\r\n"
	    "tracestate: k=v\r\n\r\n", cases[1].tp);
	prepare(raw, false);
	assert_int_equal(pc_out_request_head(&ex, &msg, &client), 0);
	s = out_str(&ex.upout);
	assert_null(strstr(s, "traceparent"));	/* invalid: dropped with its state */
	assert_null(strstr(s, "tracestate"));
	pc_buf_fini(&ex.upout);
}

static void
test_response_filtered(void **state)
{
	static char		 raw[] = "HTTP/1.1 200 OK\r\nServer: Apache/2.2\r\n"
	    "X-Powered-By: PHP/5\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
	    "Content-Length: 5\r\nX-Request-Id: spoofed\r\nContent-Type: text/plain\r\n\r\n";
	struct pc_h1_limits	 lim = { 8192, 65536, 100 };
	struct pc_msg		 resp;
	enum pc_reason		 reason;
	struct pc_buf		 out;
	char			*s;

	(void)state;
	prepare("GET / HTTP/1.1\r\nHost: h\r\n\r\n", false);
	assert_true(pc_h1_parse_response(raw, sizeof(raw) - 1, &lim, &resp, &reason) > 0);
	ex.resp = &resp;
	ex.resp_body = BODY_LENGTH;
	ex.resp_left = 5;
	ex.client_keepalive = true;
	pc_buf_init(&out, 65536);
	assert_int_equal(pc_out_response_head(&ex, &out), 0);
	s = out_str(&out);
	assert_true(strncmp(s, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(s, "\r\nDate: "));	/* added: the upstream sent none */
	assert_non_null(strstr(s, " GMT\r\n"));
	assert_null(strstr(s, "Apache"));
	assert_null(strstr(s, "PHP"));
	assert_null(strstr(s, "X-Hop"));
	assert_null(strstr(s, "spoofed"));
	assert_non_null(strstr(s, "Content-Type: text/plain\r\n"));
	assert_non_null(strstr(s, "X-Request-Id: rid-1\r\n"));
	assert_non_null(strstr(s, "Content-Length: 5\r\n\r\n"));
	pc_buf_fini(&out);
	/* With drop_server_header off, Server passes; closing is announced. */
	conf.drop_server_header = false;
	ex.client_keepalive = false;
	pc_buf_init(&out, 65536);
	assert_int_equal(pc_out_response_head(&ex, &out), 0);
	s = out_str(&out);
	assert_non_null(strstr(s, "Server: Apache/2.2\r\n"));
	assert_non_null(strstr(s, "Connection: close\r\n"));
	pc_buf_fini(&out);
	pc_buf_fini(&ex.upout);
}

static void
test_error_body(void **state)
{
	struct pc_buf	out;
	char		*s;

	(void)state;
	memset(&ex, 0, sizeof(ex));
	memcpy(ex.req.id, "r1", 3);
	pc_buf_init(&out, 4096);
	assert_int_equal(pc_out_error(&out, &ex.req, 431, PC_R_LIMIT_HEADERS, true), 0);
	s = out_str(&out);
	assert_non_null(strstr(s, "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
	assert_non_null(strstr(s, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(s, "Connection: close\r\n"));
	assert_non_null(strstr(s, "{\"error\":\"Request Header Fields Too Large\","
	    "\"reason\":\"limit_headers\",\"request_id\":\"r1\"}\n"));
	pc_buf_fini(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_rebuilt),
		cmocka_unit_test(test_trusted_proxy_appends),
		cmocka_unit_test(test_zero_length_kept),
		cmocka_unit_test(test_traceparent),
		cmocka_unit_test(test_response_filtered),
		cmocka_unit_test(test_error_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
