/*
 * tests/unit/http/test_h1_parse.c - request/response head parser: every rule, the classic
 * smuggling shapes, streaming (every split point), limits reported early, pipelining, and
 * the helpers. Each input is parsed from an exact-size heap copy so that ASan sees any read
 * past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/h1_parse.c"

static const struct pc_h1_limits deflim = { 8190, 16384, 100 };
static unsigned failures;	/* table tests report every failing case, then fail once */

struct hcase {
	const char	*name;		/* the rule or attack the case covers */
	struct pc_str	 in;
	int		 rc;		/* 0: the whole input is one valid head */
	enum pc_reason	 reason;
	uint32_t	 flags;		/* expected msg->flags when valid */
};

#define OK(n, s, f)	{ n, PC_STR_INIT(s), 0, PC_R_NONE, f }
#define NO(n, s, r)	{ n, PC_STR_INIT(s), -PC_EPROTO, PC_R_##r, 0 }

#define RL	"GET / HTTP/1.1\r\n"
#define H	"Host: a\r\n"

static const struct hcase req_cases[] = {
	/* valid */
	OK("minimal", RL H "\r\n", 0),
	OK("http/1.0 without host", "GET / HTTP/1.0\r\n\r\n", 0),
	OK("options asterisk", "OPTIONS * HTTP/1.1\r\n" H "\r\n", 0),
	OK("unknown method token", "PURGE /x HTTP/1.1\r\n" H "\r\n", 0),
	OK("query and sub-delims in target", "GET /a/b?c=d&e=%20;f!$'()*+,@:~ HTTP/1.1\r\n" H "\r\n", 0),
	OK("htab and obs-text in value", RL H "X-A: a\tb\x80\xff\r\n\r\n", 0),
	OK("empty value", RL H "X-A:\r\n\r\n", 0),
	OK("value ows trimmed", RL H "X-A: \t v \t\r\n\r\n", 0),
	OK("te chunked", RL H "Transfer-Encoding: chunked\r\n\r\n", PC_MSG_CHUNKED),
	OK("te chunked any case", RL H "transfer-encoding: ChUnKeD\r\n\r\n", PC_MSG_CHUNKED),
	/* OWS is not part of a field value (RFC 9110 5.5); we forward a fresh serialization,
	 * so the upstream never sees the whitespace: no differential is possible. */
	OK("te 'chunked ' trailing ows is trimmed", RL H "Transfer-Encoding: chunked \r\n\r\n",
	    PC_MSG_CHUNKED),
	OK("te '\\tchunked' leading htab is ows", RL H "Transfer-Encoding:\tchunked\r\n\r\n",
	    PC_MSG_CHUNKED),
	OK("content-length", RL H "Content-Length: 5\r\n\r\n", PC_MSG_HAS_CL),
	OK("content-length 2^53", RL H "Content-Length: 9007199254740992\r\n\r\n", PC_MSG_HAS_CL),
	OK("content-length leading zeros", RL H "Content-Length: 007\r\n\r\n", PC_MSG_HAS_CL),
	OK("host ipv4 port", RL "Host: 10.0.0.1:8080\r\n\r\n", 0),
	OK("host ipv6", RL "Host: [::1]:443\r\n\r\n", 0),
	OK("host ipv6 no port", RL "Host: [2001:db8::1]\r\n\r\n", 0),
	OK("host reg-name", RL "Host: api-1.example_x.com\r\n\r\n", 0),
	OK("host case-insensitive name", "GET / HTTP/1.1\r\nhOsT: a\r\n\r\n", 0),
	OK("expect 100-continue", RL H "Expect: 100-Continue\r\n\r\n", PC_MSG_EXPECT_CONTINUE),
	OK("expect ignored in http/1.0", "GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", 0),
	OK("connection close", RL H "Connection: close\r\n\r\n", PC_MSG_CONN_CLOSE),
	OK("connection list", RL H "Connection: Keep-Alive, , Upgrade,foo\r\n\r\n",
	    PC_MSG_CONN_KEEPALIVE | PC_MSG_CONN_UPGRADE),
	OK("connection two fields", RL H "Connection: close\r\nConnection: upgrade\r\n\r\n",
	    PC_MSG_CONN_CLOSE | PC_MSG_CONN_UPGRADE),

	/* request line */
	NO("empty line before request line", "\r\nGET / HTTP/1.1\r\n" H "\r\n",
	    HTTP_BAD_REQUEST_LINE),
	NO("double SP after method", "GET  / HTTP/1.1\r\n" H "\r\n", HTTP_BAD_REQUEST_LINE),
	NO("double SP before version", "GET /  HTTP/1.1\r\n" H "\r\n", HTTP_BAD_REQUEST_LINE),
	NO("http/0.9 line", "GET /\r\n\r\n", HTTP_BAD_REQUEST_LINE),
	NO("method only", "GET\r\n\r\n", HTTP_BAD_REQUEST_LINE),
	NO("leading SP (empty method)", " GET / HTTP/1.1\r\n" H "\r\n", HTTP_BAD_METHOD),
	NO("non-token method", "G(T / HTTP/1.1\r\n" H "\r\n", HTTP_BAD_METHOD),
	NO("obs-text in method", "G\xc3\x89T / HTTP/1.1\r\n" H "\r\n", HTTP_BAD_METHOD),
	NO("htab as separator", "GET\t/ HTTP/1.1\r\n" H "\r\n", HTTP_BAD_CHAR),
	NO("absolute-form target", "GET http://a/ HTTP/1.1\r\n" H "\r\n", HTTP_BAD_TARGET),
	NO("authority-form target", "CONNECT a:443 HTTP/1.1\r\n" H "\r\n", HTTP_BAD_TARGET),
	NO("asterisk with GET", "GET * HTTP/1.1\r\n" H "\r\n", HTTP_BAD_TARGET),
	NO("fragment in target", "GET /a#b HTTP/1.1\r\n" H "\r\n", HTTP_BAD_TARGET),
	NO("obs-text in target", "GET /\xc3\xa9 HTTP/1.1\r\n" H "\r\n", HTTP_BAD_TARGET),
	NO("NUL in target", "GET /a\0b HTTP/1.1\r\n" H "\r\n", HTTP_BAD_CHAR),
	NO("DEL in target", "GET /a\x7f HTTP/1.1\r\n" H "\r\n", HTTP_BAD_CHAR),
	NO("HTTP/1.2", "GET / HTTP/1.2\r\n" H "\r\n", HTTP_BAD_VERSION),
	NO("HTTP/2.0", "GET / HTTP/2.0\r\n" H "\r\n", HTTP_BAD_VERSION),
	NO("lowercase version", "GET / http/1.1\r\n" H "\r\n", HTTP_BAD_VERSION),
	NO("trailing SP after version", "GET / HTTP/1.1 \r\n" H "\r\n", HTTP_BAD_VERSION),
	NO("short version", "GET / HTTP/1\r\n" H "\r\n", HTTP_BAD_VERSION),
	NO("bare LF after request line", "GET / HTTP/1.1\n" H "\r\n", HTTP_BAD_CHAR),
	NO("bare CR inside target", "GET /a\rb HTTP/1.1\r\n" H "\r\n", HTTP_BAD_CHAR),
	NO("bare CR after method", "GET\r/ HTTP/1.1\r\n" H "\r\n", HTTP_BAD_CHAR),
	NO("bare CR in name", RL H "X\rA: 1\r\n\r\n", HTTP_BAD_CHAR),
	NO("bare CR after request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", HTTP_BAD_CHAR),

	/* fields */
	NO("bare LF line ends", RL "Host: a\n\n", HTTP_BAD_CHAR),
	NO("bare LF as final line", RL H "\n", HTTP_BAD_CHAR),
	NO("bare CR inside value", RL H "X-A: a\rb\r\n\r\n", HTTP_BAD_CHAR),
	NO("bare CR as final line", RL H "\rX\r\n\r\n", HTTP_BAD_CHAR),
	NO("NUL in value", RL H "X-A: a\0b\r\n\r\n", HTTP_BAD_CHAR),
	NO("NUL in name", RL H "X\0A: b\r\n\r\n", HTTP_BAD_CHAR),
	NO("vertical tab in value", RL H "X-A: \x0b\r\n\r\n", HTTP_BAD_CHAR),
	NO("DEL in value", RL H "X-A: a\x7f\r\n\r\n", HTTP_BAD_CHAR),
	NO("header name with space", RL H "Bad Name: x\r\n\r\n", HTTP_BAD_HEADER),
	NO("'Transfer-Encoding : chunked'", RL H "Transfer-Encoding : chunked\r\n\r\n",
	    HTTP_BAD_HEADER),
	NO("htab before colon", RL H "Content-Length\t: 5\r\n\r\n", HTTP_BAD_HEADER),
	NO("no colon", RL H "NoColon\r\n\r\n", HTTP_BAD_HEADER),
	NO("empty name", RL H ": x\r\n\r\n", HTTP_BAD_HEADER),
	NO("non-token name", RL H "X[1]: x\r\n\r\n", HTTP_BAD_HEADER),
	NO("obs-fold continuation", RL H "X-A: a\r\n b\r\n\r\n", HTTP_OBS_FOLD),
	NO("obs-fold first field", RL " Host: a\r\n\r\n", HTTP_OBS_FOLD),
	/* Folded TE: whichever line gives first, it is refused, never unfolded. */
	NO("obs-fold TE value on next line", RL H "Transfer-Encoding:\r\n chunked\r\n\r\n",
	    HTTP_TE_BAD),
	NO("obs-fold TE list continued", RL H "Transfer-Encoding: chunked\r\n , identity\r\n\r\n",
	    HTTP_OBS_FOLD),
	NO("obs-fold hides TE line", RL H "X-A: a\r\n Transfer-Encoding: chunked\r\n\r\n",
	    HTTP_OBS_FOLD),

	/* Host */
	NO("host missing", RL "\r\n", HTTP_HOST_MISSING),
	NO("host duplicate identical", RL H H "\r\n", HTTP_HOST_DUP),
	NO("host duplicate other case", RL H "host: b\r\n\r\n", HTTP_HOST_DUP),
	NO("host duplicate in http/1.0", "GET / HTTP/1.0\r\n" H H "\r\n", HTTP_HOST_DUP),
	NO("host empty", RL "Host: \r\n\r\n", HTTP_HOST_BAD),
	NO("host userinfo", RL "Host: u@a\r\n\r\n", HTTP_HOST_BAD),
	NO("host with space", RL "Host: a b\r\n\r\n", HTTP_HOST_BAD),
	NO("host with path", RL "Host: a/b\r\n\r\n", HTTP_HOST_BAD),
	NO("host port too big", RL "Host: a:65536\r\n\r\n", HTTP_HOST_BAD),
	NO("host empty port", RL "Host: a:\r\n\r\n", HTTP_HOST_BAD),
	NO("host two ports", RL "Host: a:80:80\r\n\r\n", HTTP_HOST_BAD),
	NO("host open bracket", RL "Host: [::1\r\n\r\n", HTTP_HOST_BAD),
	NO("host empty brackets", RL "Host: []\r\n\r\n", HTTP_HOST_BAD),
	NO("host list", RL "Host: a, b\r\n\r\n", HTTP_HOST_BAD),
	NO("host percent", RL "Host: %61\r\n\r\n", HTTP_HOST_BAD),
	NO("host bad in http/1.0", "GET / HTTP/1.0\r\nHost: a b\r\n\r\n", HTTP_HOST_BAD),

	/* Content-Length */
	NO("CL '5, 5' list", RL H "Content-Length: 5, 5\r\n\r\n", HTTP_CL_BAD),
	NO("CL duplicate identical", RL H "Content-Length: 5\r\nContent-Length: 5\r\n\r\n",
	    HTTP_CL_DUP),
	NO("CL duplicate different", RL H "Content-Length: 5\r\ncontent-length: 6\r\n\r\n",
	    HTTP_CL_DUP),
	NO("CL '+5'", RL H "Content-Length: +5\r\n\r\n", HTTP_CL_BAD),
	NO("CL '-1'", RL H "Content-Length: -1\r\n\r\n", HTTP_CL_BAD),
	NO("CL ' 5 5'", RL H "Content-Length:  5 5\r\n\r\n", HTTP_CL_BAD),
	NO("CL hex", RL H "Content-Length: 0x5\r\n\r\n", HTTP_CL_BAD),
	NO("CL empty", RL H "Content-Length:\r\n\r\n", HTTP_CL_BAD),
	NO("CL 2^53+1", RL H "Content-Length: 9007199254740993\r\n\r\n", HTTP_CL_BAD),
	NO("CL uint64 overflow", RL H "Content-Length: 99999999999999999999999\r\n\r\n",
	    HTTP_CL_BAD),

	/* Transfer-Encoding */
	NO("CL.TE", RL H "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_CL_TE),
	NO("TE.CL", RL H "Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n", HTTP_CL_TE),
	NO("TE 'xchunked'", RL H "Transfer-Encoding: xchunked\r\n\r\n", HTTP_TE_BAD),
	NO("TE 'chunked, identity'", RL H "Transfer-Encoding: chunked, identity\r\n\r\n",
	    HTTP_TE_BAD),
	NO("TE 'gzip, chunked' in a request", RL H "Transfer-Encoding: gzip, chunked\r\n\r\n",
	    HTTP_TE_BAD),
	NO("TE 'chunked, chunked'", RL H "Transfer-Encoding: chunked, chunked\r\n\r\n",
	    HTTP_TE_BAD),
	NO("TE 'chunked;q=1'", RL H "Transfer-Encoding: chunked;q=1\r\n\r\n", HTTP_TE_BAD),
	NO("TE two fields", RL H "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	    HTTP_TE_BAD),
	NO("TE empty", RL H "Transfer-Encoding:\r\n\r\n", HTTP_TE_BAD),
	NO("TE identity", RL H "Transfer-Encoding: identity\r\n\r\n", HTTP_TE_BAD),
	NO("TE in http/1.0", "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_TE_BAD),
	NO("TE vertical tab", RL H "Transfer-Encoding: \x0b" "chunked\r\n\r\n", HTTP_BAD_CHAR),
	NO("TE quoted", RL H "Transfer-Encoding: \"chunked\"\r\n\r\n", HTTP_TE_BAD),

	/* Connection, Expect */
	NO("connection non-token", RL H "Connection: close;x\r\n\r\n", HTTP_BAD_HEADER),
	NO("expect other", RL H "Expect: 200-ok\r\n\r\n", HTTP_EXPECT_BAD),
	NO("expect list", RL H "Expect: 100-continue, x\r\n\r\n", HTTP_EXPECT_BAD),
};

static const struct hcase resp_cases[] = {
	OK("200", "HTTP/1.1 200 OK\r\n\r\n", 0),
	OK("empty reason", "HTTP/1.1 204 \r\n\r\n", 0),
	OK("http/1.0", "HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\n", PC_MSG_HAS_CL),
	OK("100 continue", "HTTP/1.1 100 Continue\r\n\r\n", 0),
	OK("599", "HTTP/1.1 599 x\r\n\r\n", 0),
	OK("obs-text reason", "HTTP/1.1 200 \xc3\xa9\tok\r\n\r\n", 0),
	OK("te gzip, chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	    PC_MSG_CHUNKED),
	OK("te over two fields", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", PC_MSG_CHUNKED),
	OK("connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", PC_MSG_CONN_CLOSE),
	OK("no host rules", "HTTP/1.1 200 OK\r\nHost: a b\r\nHost: c\r\n\r\n", 0),
	NO("missing SP and reason", "HTTP/1.1 200\r\n\r\n", HTTP_BAD_REQUEST_LINE),
	NO("status 99", "HTTP/1.1 099 x\r\n\r\n", HTTP_BAD_REQUEST_LINE),
	NO("status 600", "HTTP/1.1 600 x\r\n\r\n", HTTP_BAD_REQUEST_LINE),
	NO("two-digit status", "HTTP/1.1 20 OK\r\n\r\n", HTTP_BAD_REQUEST_LINE),
	NO("non-digit status", "HTTP/1.1 20x OK\r\n\r\n", HTTP_BAD_REQUEST_LINE),
	NO("double SP", "HTTP/1.1  200 OK\r\n\r\n", HTTP_BAD_REQUEST_LINE),
	NO("HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", HTTP_BAD_VERSION),
	NO("HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", HTTP_BAD_VERSION),
	NO("lowercase", "http/1.1 200 OK\r\n\r\n", HTTP_BAD_VERSION),
	NO("short", "HTTP/1\r\n\r\n", HTTP_BAD_VERSION),
	NO("NUL in reason", "HTTP/1.1 200 O\0K\r\n\r\n", HTTP_BAD_CHAR),
	NO("bare LF", "HTTP/1.1 200 OK\n\n", HTTP_BAD_CHAR),
	NO("bare CR after status code", "HTTP/1.1 200\rOK\r\n\r\n", HTTP_BAD_CHAR),
	NO("te chunked not final", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	    HTTP_TE_BAD),
	NO("te not chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP_TE_BAD),
	NO("te chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	    HTTP_TE_BAD),
	NO("te chunked then field", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n", HTTP_TE_BAD),
	NO("te empty", "HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n", HTTP_TE_BAD),
	NO("te in http/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_TE_BAD),
	NO("CL.TE", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	    HTTP_CL_TE),
	NO("TE.CL", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
	    HTTP_CL_TE),
	NO("CL dup", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
	    HTTP_CL_DUP),
	NO("CL list", "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n", HTTP_CL_BAD),
	NO("obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n", HTTP_OBS_FOLD),
	NO("space before colon", "HTTP/1.1 200 OK\r\nX : a\r\n\r\n", HTTP_BAD_HEADER),
};

typedef int (*parse_fn)(const char *, size_t, const struct pc_h1_limits *, struct pc_msg *,
    enum pc_reason *);

/* Parses exactly <len> bytes of <p> from a heap copy of that size (ASan-visible bounds). */
static int
parse_copy(parse_fn fn, const char *p, size_t len, const struct pc_h1_limits *lim,
    struct pc_msg *msg, enum pc_reason *reason)
{
	char	*copy = malloc(len ? len : 1);
	int	 rc;

	assert_non_null(copy);
	if (len)
		memcpy(copy, p, len);
	*reason = PC_R_COUNT;
	rc = fn(copy, len, lim, msg, reason);
	if (rc > 0)
		assert_true(pc_msg_invariants_ok(msg, copy, len));
	free(copy);
	return rc;
}

/*
 * The streaming contract: every strict prefix either asks for more, or is rejected exactly
 * as the whole input is (a head split at any byte boundary).
 */
static void
check_prefixes(const char *name, parse_fn fn, struct pc_str in, const struct pc_h1_limits *lim,
    int rc, enum pc_reason reason)
{
	static struct pc_msg	msg;
	enum pc_reason		r;
	size_t			k;
	int			prc;

	for (k = 0; k < in.len; k++) {
		prc = parse_copy(fn, in.ptr, k, lim, &msg, &r);
		if (prc == -PC_EAGAIN)
			continue;
		if (prc != rc || r != reason) {
			print_error("%s: prefix %zu: rc %d reason %s, whole: rc %d reason %s\n",
			    name, k, prc, pc_reason_name(r), rc, pc_reason_name(reason));
			failures++;
		}
	}
}

static void
run_cases(parse_fn fn, const struct hcase *cases, size_t n)
{
	static struct pc_msg	msg;
	enum pc_reason		r;
	size_t			i;
	int			rc, want;

	for (i = 0; i < n; i++) {
		const struct hcase *c = &cases[i];

		want = c->rc == 0 ? (int)c->in.len : c->rc;
		rc = parse_copy(fn, c->in.ptr, c->in.len, &deflim, &msg, &r);
		if (rc != want || (rc < 0 && r != c->reason)) {
			print_error("%s: rc %d reason %s, want rc %d reason %s\n", c->name, rc,
			    pc_reason_name(r), want, pc_reason_name(c->reason));
			failures++;
		}
		if (rc > 0 && msg.flags != c->flags) {
			print_error("%s: flags %#x, want %#x\n", c->name, msg.flags, c->flags);
			failures++;
		}
		if (rc > 0)
			assert_int_equal(msg.head_len, (size_t)rc);
		check_prefixes(c->name, fn, c->in, &deflim, want, c->reason);
	}
}

static void
test_request_cases(void **state)
{
	(void)state;
	failures = 0;
	run_cases(pc_h1_parse_request, req_cases, PC_NELEM(req_cases));
	assert_int_equal(failures, 0);
}

static void
test_response_cases(void **state)
{
	(void)state;
	failures = 0;
	run_cases(pc_h1_parse_response, resp_cases, PC_NELEM(resp_cases));
	assert_int_equal(failures, 0);
}

static bool
str_is(struct pc_str s, const char *c)
{
	return pc_str_eq(s, pc_str_c(c));
}

/* The fields of a valid request: zero-copy views, trimmed values, flags, lengths. */
static void
test_request_fields(void **state)
{
	static const char in[] = "POST /api/v1?x=1 HTTP/1.1\r\nHost:  api.example:8443 \r\n"
	    "Content-Length: 42\r\nX-Empty:\r\nConnection: keep-alive\r\n\r\nBODY";
	static struct pc_msg	msg;
	enum pc_reason		r;
	int			rc;

	(void)state;
	rc = pc_h1_parse_request(in, sizeof(in) - 1, &deflim, &msg, &r);
	assert_int_equal(rc, sizeof(in) - 1 - 4);
	assert_true(str_is(msg.method, "POST"));
	assert_int_equal(msg.meth, PC_M_POST);
	assert_true(str_is(msg.target, "/api/v1?x=1"));
	assert_true(msg.target.ptr == in + 5);	/* zero-copy */
	assert_int_equal(msg.version_minor, 1);
	assert_true(str_is(msg.host, "api.example:8443"));
	assert_int_equal(msg.content_length, 42);
	assert_int_equal(msg.flags, PC_MSG_HAS_CL | PC_MSG_CONN_KEEPALIVE);
	assert_int_equal(msg.nhdrs, 4);
	assert_true(str_is(msg.hdrs[2].name, "X-Empty"));
	assert_int_equal(msg.hdrs[2].value.len, 0);
	assert_int_equal(msg.status, 0);
	assert_true(pc_msg_invariants_ok(&msg, in, sizeof(in) - 1));

	rc = pc_h1_parse_request("PURGE * HTTP/1.0\r\n\r\n", 20, &deflim, &msg, &r);
	assert_int_equal(rc, -PC_EPROTO);
	assert_int_equal(r, PC_R_HTTP_BAD_TARGET);
	rc = pc_h1_parse_request("get / HTTP/1.0\r\n\r\n", 18, &deflim, &msg, &r);
	assert_int_equal(rc, 18);
	assert_int_equal(msg.meth, PC_M_OTHER);	/* methods are case-sensitive */
}

static void
test_response_fields(void **state)
{
	static const char in[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n";
	static struct pc_msg	msg;
	enum pc_reason		r;
	int			rc;

	(void)state;
	rc = pc_h1_parse_response(in, sizeof(in) - 1, &deflim, &msg, &r);
	assert_int_equal(rc, sizeof(in) - 1);
	assert_int_equal(msg.status, 404);
	assert_true(str_is(msg.reason_phrase, "Not Found"));
	assert_int_equal(msg.version_minor, 1);
	assert_int_equal(msg.content_length, 9);
	assert_int_equal(msg.method.len, 0);
	assert_int_equal(msg.target.len, 0);
}

/* Pipelined requests: the return value is where the next one starts. */
static void
test_pipelining(void **state)
{
	static const char in[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
	    "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
	    "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n";
	static struct pc_msg	msg;
	enum pc_reason		r;
	size_t			off = 0;
	int			rc;

	(void)state;
	rc = pc_h1_parse_request(in, sizeof(in) - 1, &deflim, &msg, &r);
	assert_int_equal(rc, 28);
	assert_true(str_is(msg.target, "/1"));
	off += (size_t)rc;
	rc = pc_h1_parse_request(in + off, sizeof(in) - 1 - off, &deflim, &msg, &r);
	assert_true(rc > 0);
	assert_true(str_is(msg.target, "/2"));
	off += (size_t)rc + msg.content_length;
	rc = pc_h1_parse_request(in + off, sizeof(in) - 1 - off, &deflim, &msg, &r);
	assert_int_equal(rc, 28);
	assert_true(str_is(msg.target, "/3"));
	assert_int_equal(off + (size_t)rc, sizeof(in) - 1);
}

static char *
repeat(const char *pre, char c, size_t n, const char *post, size_t *len)
{
	size_t	 a = strlen(pre), b = strlen(post);
	char	*s = malloc(a + n + b + 1);

	assert_non_null(s);
	memcpy(s, pre, a);
	memset(s + a, c, n);
	memcpy(s + a + n, post, b + 1);
	*len = a + n + b;
	return s;
}

static void
expect(parse_fn fn, const char *p, size_t len, const struct pc_h1_limits *lim, int want,
    enum pc_reason wreason, const char *what)
{
	static struct pc_msg	msg;
	enum pc_reason		r;
	int			rc;

	rc = parse_copy(fn, p, len, lim, &msg, &r);
	if (rc != want || (rc < 0 && rc != -PC_EAGAIN && r != wreason))
		fail_msg("%s: rc %d reason %s, want %d %s", what, rc, pc_reason_name(r), want,
		    pc_reason_name(wreason));
	if (want != -PC_EAGAIN) {
		failures = 0;
		check_prefixes(what, fn, pc_str_make(p, len), lim, want, wreason);
		assert_int_equal(failures, 0);
	}
}

/* Request line limit: exact fit passes; one more byte fails, early, before any CRLF. */
static void
test_limit_request_line(void **state)
{
	static const struct pc_h1_limits lim = { 64, 1024, 10 };
	char	*s;
	size_t	 len;

	(void)state;
	/* "GET /" + n + " HTTP/1.1" is 14 + n bytes. */
	s = repeat("GET /", 'a', 50, " HTTP/1.1\r\nHost: a\r\n\r\n", &len);
	expect(pc_h1_parse_request, s, len, &lim, (int)len, PC_R_NONE, "line at limit");
	free(s);
	s = repeat("GET /", 'a', 51, " HTTP/1.1\r\nHost: a\r\n\r\n", &len);
	expect(pc_h1_parse_request, s, len, &lim, -PC_ETOOBIG, PC_R_LIMIT_URI, "line over limit");
	free(s);
	/* No CRLF yet, 65 bytes: known to be too long already. */
	s = repeat("GET /", 'a', 60, "", &len);
	expect(pc_h1_parse_request, s, len, &lim, -PC_ETOOBIG, PC_R_LIMIT_URI,
	    "early line limit");
	free(s);
	s = repeat("GET /", 'a', 59, "", &len);
	expect(pc_h1_parse_request, s, len, &lim, -PC_EAGAIN, PC_R_NONE, "line at limit, open");
	free(s);
	/* A line of exactly the limit whose CR has arrived, but not its LF. */
	s = repeat("GET /", 'a', 59, "\r", &len);
	expect(pc_h1_parse_request, s, len, &lim, -PC_EAGAIN, PC_R_NONE, "CR at the limit");
	free(s);
	/* A bad byte inside an over-long line is reported for what it is. */
	s = repeat("GET /\x01", 'a', 80, "", &len);
	expect(pc_h1_parse_request, s, len, &lim, -PC_EPROTO, PC_R_HTTP_BAD_CHAR, "bad then long");
	free(s);
	s = repeat("HTTP/1.1 200 ", 'a', 60, "\r\n\r\n", &len);
	expect(pc_h1_parse_response, s, len, &lim, -PC_ETOOBIG, PC_R_LIMIT_URI, "status line");
	free(s);
}

static void
test_limit_headers(void **state)
{
	static const struct pc_h1_limits lim = { 64, 40, 3 };
	static const struct pc_h1_limits big = { 64, 100000, 500 };
	struct pc_buf	b;
	char		*s;
	size_t		 len;
	int		 i;

	(void)state;
	/* Header block = "Host: a\r\n" (9) + "X: " + n + "\r\n" + "\r\n": 40 at n = 24. */
	s = repeat(RL "Host: a\r\nX: ", 'v', 24, "\r\n\r\n", &len);
	expect(pc_h1_parse_request, s, len, &lim, (int)len, PC_R_NONE, "block at limit");
	free(s);
	s = repeat(RL "Host: a\r\nX: ", 'v', 25, "\r\n\r\n", &len);
	expect(pc_h1_parse_request, s, len, &lim, -PC_ETOOBIG, PC_R_LIMIT_HEADERS,
	    "block over limit");
	free(s);
	/* Early: no CRLF CRLF, the open line alone already overflows. */
	s = repeat(RL "Host: a\r\nX: ", 'v', 500, "", &len);
	expect(pc_h1_parse_request, s, len, &lim, -PC_ETOOBIG, PC_R_LIMIT_HEADERS,
	    "early block limit");
	free(s);
	/* Many small complete lines without the final CRLF. */
	s = repeat(RL, 'x', 0, "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\n", &len);
	expect(pc_h1_parse_request, s, len, &lim, -PC_ETOOBIG, PC_R_LIMIT_HEADERS,
	    "early count limit");
	free(s);
	s = repeat(RL, 'x', 0, "Host: a\r\nB: 2\r\nC: 3\r\n\r\n", &len);
	expect(pc_h1_parse_request, s, len, &lim, (int)len, PC_R_NONE, "count at limit");
	free(s);
	/* The hard ceiling PC_HTTP_HDR_MAX holds even if the configuration says more. */
	pc_buf_init(&b, 1 << 20);
	assert_int_equal(pc_buf_add_str(&b, PC_STR(RL H)), 0);
	for (i = 0; i < PC_HTTP_HDR_MAX; i++)
		assert_int_equal(pc_buf_printf(&b, "X-%d: %d\r\n", i, i), 0);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("\r\n")), 0);
	expect(pc_h1_parse_request, (const char *)b.data, b.len, &big, -PC_ETOOBIG,
	    PC_R_LIMIT_HEADERS, "hard ceiling");
	pc_buf_fini(&b);
}

static void
test_helpers(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Secret\r\n"
	    "x-secret: 1\r\nX-Public: 2\r\n\r\n";
	static struct pc_msg	msg;
	const struct pc_hdr	*h;
	enum pc_reason		r;
	unsigned		i;

	(void)state;
	assert_int_equal(pc_h1_parse_request(in, sizeof(in) - 1, &deflim, &msg, &r),
	    sizeof(in) - 1);
	h = pc_msg_header(&msg, PC_STR("X-SECRET"));
	assert_non_null(h);
	assert_true(str_is(h->value, "1"));
	assert_null(pc_msg_header(&msg, PC_STR("X-Missing")));
	assert_true(pc_h1_is_hop_header(&msg, PC_STR("X-Secret")));
	assert_true(pc_h1_is_hop_header(&msg, PC_STR("close")));
	assert_true(pc_h1_is_hop_header(&msg, PC_STR("transfer-encoding")));
	assert_true(pc_h1_is_hop_header(&msg, PC_STR("Keep-Alive")));
	assert_true(pc_h1_is_hop_header(&msg, PC_STR("proxy-connection")));
	assert_true(pc_h1_is_hop_header(&msg, PC_STR("TE")));
	assert_true(pc_h1_is_hop_header(&msg, PC_STR("Trailer")));
	assert_true(pc_h1_is_hop_header(&msg, PC_STR("upgrade")));
	assert_false(pc_h1_is_hop_header(&msg, PC_STR("X-Public")));
	assert_false(pc_h1_is_hop_header(&msg, PC_STR("Host")));
	assert_false(pc_h1_is_hop_header(NULL, PC_STR("X-Secret")));

	for (i = 1; i < PC_M_COUNT; i++)
		assert_int_equal(pc_method_from_str(pc_str_c(pc_method_name((enum pc_method)i))), i);
	assert_string_equal(pc_method_name(PC_M_OTHER), "");
	assert_string_equal(pc_method_name(PC_M_COUNT), "");
	assert_int_equal(pc_method_from_str(PC_STR("GETX")), PC_M_OTHER);
	assert_int_equal(pc_method_from_str(PC_STR("")), PC_M_OTHER);
	assert_true(pc_method_is_idempotent(PC_M_GET));
	assert_true(pc_method_is_idempotent(PC_M_HEAD));
	assert_true(pc_method_is_idempotent(PC_M_PUT));
	assert_true(pc_method_is_idempotent(PC_M_DELETE));
	assert_true(pc_method_is_idempotent(PC_M_OPTIONS));
	assert_true(pc_method_is_idempotent(PC_M_TRACE));
	assert_false(pc_method_is_idempotent(PC_M_POST));
	assert_false(pc_method_is_idempotent(PC_M_PATCH));
	assert_false(pc_method_is_idempotent(PC_M_CONNECT));
	assert_false(pc_method_is_idempotent(PC_M_OTHER));
}

/* The invariant checker must notice broken messages, or the fuzzers assert nothing. */
static void
test_invariants(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n";
	static const char other[] = "elsewhere";
	static struct pc_msg	msg, m;
	enum pc_reason		r;

	(void)state;
	assert_int_equal(pc_h1_parse_request(in, sizeof(in) - 1, &deflim, &msg, &r),
	    sizeof(in) - 1);
	assert_true(pc_msg_invariants_ok(&msg, in, sizeof(in) - 1));
	assert_false(pc_msg_invariants_ok(&msg, in, sizeof(in) - 2));
	m = msg;
	m.hdrs[1].value = PC_STR("elsewhere");
	m.hdrs[1].value.ptr = other;
	assert_false(pc_msg_invariants_ok(&m, in, sizeof(in) - 1));
	m = msg;
	m.flags |= PC_MSG_CHUNKED | PC_MSG_HAS_CL;
	assert_false(pc_msg_invariants_ok(&m, in, sizeof(in) - 1));
	m = msg;
	m.nhdrs = PC_HTTP_HDR_MAX + 1;
	assert_false(pc_msg_invariants_ok(&m, in, sizeof(in) - 1));
	m = msg;
	m.meth = PC_M_POST;
	assert_false(pc_msg_invariants_ok(&m, in, sizeof(in) - 1));
	m = msg;
	m.hdrs[1].value.ptr--;	/* " y": untrimmed */
	m.hdrs[1].value.len++;
	assert_false(pc_msg_invariants_ok(&m, in, sizeof(in) - 1));
	m = msg;
	m.head_len--;
	assert_false(pc_msg_invariants_ok(&m, in, sizeof(in) - 1));
}

/*
 * Every byte value at every offset of a value and of a target, across word boundaries of
 * the word-at-a-time scanner: only the class table decides. A bare CR is BAD_CHAR too.
 */
static void
test_every_byte(void **state)
{
	static struct pc_msg	msg;
	char			in[128];
	enum pc_reason		r;
	unsigned		c;
	size_t			k, len;
	int			rc;

	(void)state;
	for (c = 0; c < 256; c++) {
		for (k = 0; k < 19; k++) {
			len = (size_t)snprintf(in, sizeof(in), RL H "X: %.19s\r\n\r\n",
			    "aaaaaaaaaaaaaaaaaaa");
			in[sizeof(RL H "X: ") - 1 + k] = (char)c;
			rc = parse_copy(pc_h1_parse_request, in, len, &deflim, &msg, &r);
			if (cls[c] & C_VALUE)
				assert_int_equal(rc, (int)len);
			else if (rc != -PC_EPROTO || r != PC_R_HTTP_BAD_CHAR)
				fail_msg("value byte %#x at %zu: rc %d %s", c, k, rc,
				    pc_reason_name(r));

			len = (size_t)snprintf(in, sizeof(in), "GET /%.19s HTTP/1.1\r\n" H "\r\n",
			    "aaaaaaaaaaaaaaaaaaa");
			in[5 + k] = (char)c;
			rc = parse_copy(pc_h1_parse_request, in, len, &deflim, &msg, &r);
			if (cls[c] & C_TARGET)
				assert_int_equal(rc, (int)len);
			else if (c == ' ')	/* splits the target; last: two SPs */
				assert_int_equal(r, k == 18 ? PC_R_HTTP_BAD_REQUEST_LINE :
				    PC_R_HTTP_BAD_VERSION);
			else if (rc != -PC_EPROTO || r != ((cls[c] & C_CTL) ?
			    PC_R_HTTP_BAD_CHAR : PC_R_HTTP_BAD_TARGET))
				fail_msg("target byte %#x at %zu: rc %d %s", c, k, rc,
				    pc_reason_name(r));
		}
	}
}

/* The class table is data; re-derive it from the RFC definitions. */
static void
test_class_table(void **state)
{
	static const char tpunct[] = "!#$%&'*+-.^_`|~";
	unsigned c, want;

	(void)state;
	for (c = 0; c < 256; c++) {
		bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z');

		want = 0;
		if (alnum || (c != 0 && memchr(tpunct, (int)c, sizeof(tpunct) - 1)))
			want |= C_TCHAR;
		if ((c >= 0x21 && c <= 0x7e) || c >= 0x80 || c == ' ' || c == '\t')
			want |= C_VALUE;
		if (c >= 0x21 && c <= 0x7e && c != '#')
			want |= C_TARGET;
		if (c < 0x20 || c == 0x7f)
			want |= C_CTL;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
			want |= C_HEX;
		if (alnum || c == '-' || c == '.' || c == '_')
			want |= C_HOST;
		if (c >= '0' && c <= '9')
			want |= C_DIGIT;
		if (cls[c] != want)
			fail_msg("class of %#x: %#x, want %#x", c, cls[c], want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_table),
		cmocka_unit_test(test_request_cases),
		cmocka_unit_test(test_response_cases),
		cmocka_unit_test(test_request_fields),
		cmocka_unit_test(test_response_fields),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_limit_request_line),
		cmocka_unit_test(test_limit_headers),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
