/*
 * tests/unit/http/test_h2_msg.c - HTTP/2 request header list -> struct pc_msg (RFC 9113
 * 8.2, 8.3): every rule and reason code of http/h2_msg.c, the list size accounting of
 * RFC 9113 6.5.2 with its "keep counting after an error" contract, the field count limit,
 * cookie joining, and the fields of the resulting message. Every name and value is fed from
 * an exact-size heap copy so that ASan sees any read past its end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/http.h"

#define LIST_MAX	16384
#define COUNT_MAX	100
#define NF_MAX		12
#define FIN		(-1)	/* the error comes from pc_h2_req_finish(), not from a field */

static unsigned failures;	/* table tests report every failing case, then fail once */

struct fld {
	struct pc_str	 n, v;
};

struct h2case {
	const char	*name;		/* the rule the case covers */
	struct fld	 f[NF_MAX];	/* ends at the first entry whose name pointer is NULL */
	bool		 end_stream;
	int		 at;		/* index of the first field refused, or FIN */
	int		 rc;		/* 0 or -PC_E* */
	enum pc_reason	 reason;
	uint32_t	 flags;		/* msg->flags when valid */
};

#define F(n, v)		{ PC_STR_INIT(n), PC_STR_INIT(v) }
#define M(v)		F(":method", v)
#define S(v)		F(":scheme", v)
#define A(v)		F(":authority", v)
#define P(v)		F(":path", v)
#define BASE		M("GET"), S("https"), A("a.example"), P("/")	/* fields 0-3 */

#define OK(nm, fl, ...)	 { nm, { __VA_ARGS__ }, false, FIN, 0, PC_R_NONE, fl }
#define OKES(nm, fl, ...) { nm, { __VA_ARGS__ }, true, FIN, 0, PC_R_NONE, fl }
#define NO(nm, at, r, ...) { nm, { __VA_ARGS__ }, false, at, -PC_EPROTO, PC_R_##r, 0 }
#define NOES(nm, at, r, ...) { nm, { __VA_ARGS__ }, true, at, -PC_EPROTO, PC_R_##r, 0 }

static const struct h2case cases[] = {
	/* valid */
	OK("minimal", 0, BASE),
	OKES("minimal, end_stream", 0, BASE),
	OK("pseudo-headers in any order", 0, P("/"), A("a"), S("https"), M("GET")),
	OK("scheme http", 0, M("GET"), S("http"), A("a"), P("/")),
	OK("OPTIONS *", 0, M("OPTIONS"), S("https"), A("a"), P("*")),
	OK("unknown method token", 0, M("PURGE"), S("https"), A("a"), P("/x")),
	OK("query and sub-delims in :path", 0, M("GET"), S("https"), A("a"),
	    P("/a/b?c=d&e=%20;f!$'()*+,@:~")),
	OK("authority ipv4 and port", 0, M("GET"), S("https"), A("10.0.0.1:8443"), P("/")),
	OK("authority ipv6 and port", 0, M("GET"), S("https"), A("[::1]:443"), P("/")),
	OK("host only, no :authority", 0, M("GET"), S("https"), P("/"), F("host", "a.example")),
	OK("host equal to :authority", 0, BASE, F("host", "a.example")),
	OK("host equal to :authority but for case", 0, BASE, F("host", "A.Example")),
	OK("te trailers", 0, BASE, F("te", "trailers")),
	OK("te Trailers (case-insensitive)", 0, BASE, F("te", "Trailers")),
	OK("content-length", PC_MSG_HAS_CL, BASE, F("content-length", "5")),
	OKES("content-length 0 with end_stream", PC_MSG_HAS_CL, BASE, F("content-length", "0")),
	OK("content-length leading zeros", PC_MSG_HAS_CL, BASE, F("content-length", "007")),
	OK("content-length 2^53", PC_MSG_HAS_CL, BASE,
	    F("content-length", "9007199254740992")),
	OK("expect 100-continue dropped, no flag", 0, BASE, F("expect", "100-continue")),
	OK("expect other value dropped too", 0, BASE, F("expect", "200-ok")),
	OK("empty value", 0, BASE, F("x-empty", "")),
	OK("SP and HTAB inside a value", 0, BASE, F("x-a", "a \tb")),
	OK("obs-text in a value", 0, BASE, F("x-a", "\x80\xff")),
	OK("every tchar in a name", 0, BASE, F("x-a!#$%&'*+.^_`|~09", "v")),
	OK("single cookie", 0, BASE, F("cookie", "a=1")),
	OK("split cookies", 0, BASE, F("cookie", "a=1"), F("cookie", "b=2")),

	/* pseudo-header fields (RFC 9113 8.3) */
	NO(":status in a request", 4, HTTP_BAD_REQUEST_LINE, BASE, F(":status", "200")),
	NO(":status first", 0, HTTP_BAD_REQUEST_LINE, F(":status", "200"), BASE),
	NO(":protocol (no extended CONNECT)", 4, HTTP_BAD_REQUEST_LINE, BASE,
	    F(":protocol", "websocket")),
	NO("unknown pseudo-header", 4, HTTP_BAD_REQUEST_LINE, BASE, F(":foo", "x")),
	NO("bare ':'", 4, HTTP_BAD_REQUEST_LINE, BASE, F(":", "x")),
	NO("uppercase pseudo-header name", 0, HTTP_BAD_REQUEST_LINE, F(":Method", "GET"),
	    S("https"), A("a"), P("/")),
	NO("duplicate :method", 4, HTTP_BAD_REQUEST_LINE, BASE, M("GET")),
	NO("duplicate :scheme", 4, HTTP_BAD_REQUEST_LINE, BASE, S("https")),
	NO("duplicate :authority", 4, HTTP_BAD_REQUEST_LINE, BASE, A("a.example")),
	NO("duplicate :path", 4, HTTP_BAD_REQUEST_LINE, BASE, P("/")),
	NO("pseudo-header after a regular field", 4, HTTP_BAD_REQUEST_LINE,
	    M("GET"), S("https"), A("a"), F("x-a", "1"), P("/")),
	NO("pseudo-header after host", 2, HTTP_BAD_REQUEST_LINE,
	    M("GET"), F("host", "a"), S("https"), P("/")),
	NO("missing :method", FIN, HTTP_BAD_REQUEST_LINE, S("https"), A("a"), P("/")),
	NO("missing :scheme", FIN, HTTP_BAD_REQUEST_LINE, M("GET"), A("a"), P("/")),
	NO("missing :path", FIN, HTTP_BAD_REQUEST_LINE, M("GET"), S("https"), A("a")),
	NO("regular fields only", FIN, HTTP_BAD_REQUEST_LINE, F("x-a", "1")),

	/* :method */
	NO("empty :method", 0, HTTP_BAD_METHOD, M(""), S("https"), A("a"), P("/")),
	NO("non-token :method", 0, HTTP_BAD_METHOD, M("G(T"), S("https"), A("a"), P("/")),
	NO("SP inside :method", 0, HTTP_BAD_METHOD, M("G T"), S("https"), A("a"), P("/")),
	NO("obs-text in :method", 0, HTTP_BAD_METHOD, M("G\xc3\x89T"), S("https"), A("a"),
	    P("/")),
	NO("trailing SP in :method", 0, HTTP_BAD_CHAR, M("GET "), S("https"), A("a"), P("/")),
	NO("NUL in :method", 0, HTTP_BAD_CHAR, M("GE\0T"), S("https"), A("a"), P("/")),
	NO("CONNECT", FIN, HTTP_BAD_METHOD, M("CONNECT"), A("a.example:443")),
	NO("CONNECT with every pseudo-header", FIN, HTTP_BAD_METHOD, M("CONNECT"), S("https"),
	    A("a.example:443"), P("/")),

	/* :scheme */
	NO("bad :scheme", 1, HTTP_BAD_REQUEST_LINE, M("GET"), S("ftp"), A("a"), P("/")),
	NO("empty :scheme", 1, HTTP_BAD_REQUEST_LINE, M("GET"), S(""), A("a"), P("/")),
	/* Strictest reading: RFC 9113 8.3.1 has the client send the scheme in lowercase. */
	NO("uppercase :scheme", 1, HTTP_BAD_REQUEST_LINE, M("GET"), S("HTTPS"), A("a"), P("/")),
	NO(":scheme with trailing HTAB", 1, HTTP_BAD_CHAR, M("GET"), S("https\t"), A("a"),
	    P("/")),

	/* :authority and host */
	NO(":authority with userinfo", 2, HTTP_HOST_BAD, M("GET"), S("https"), A("u@a"), P("/")),
	NO(":authority with user:pass", 2, HTTP_HOST_BAD, M("GET"), S("https"),
	    A("u:p@a.example"), P("/")),
	NO("empty :authority", 2, HTTP_HOST_BAD, M("GET"), S("https"), A(""), P("/")),
	NO(":authority with SP", 2, HTTP_HOST_BAD, M("GET"), S("https"), A("a b"), P("/")),
	NO(":authority with a path", 2, HTTP_HOST_BAD, M("GET"), S("https"), A("a/b"), P("/")),
	NO(":authority with a percent", 2, HTTP_HOST_BAD, M("GET"), S("https"), A("%61"),
	    P("/")),
	NO(":authority port too big", 2, HTTP_HOST_BAD, M("GET"), S("https"), A("a:65536"),
	    P("/")),
	NO(":authority empty port", 2, HTTP_HOST_BAD, M("GET"), S("https"), A("a:"), P("/")),
	NO(":authority open bracket", 2, HTTP_HOST_BAD, M("GET"), S("https"), A("[::1"),
	    P("/")),
	NO(":authority list", 2, HTTP_HOST_BAD, M("GET"), S("https"), A("a,b"), P("/")),
	NO(":authority with NUL", 2, HTTP_BAD_CHAR, M("GET"), S("https"), A("a\0b"), P("/")),
	NO(":authority leading SP", 2, HTTP_BAD_CHAR, M("GET"), S("https"), A(" a"), P("/")),
	NO("host with userinfo", 3, HTTP_HOST_BAD, M("GET"), S("https"), P("/"),
	    F("host", "u@a")),
	NO("host empty", 4, HTTP_HOST_BAD, BASE, F("host", "")),
	NO("host duplicate identical", 5, HTTP_HOST_DUP, M("GET"), S("https"), A("a"), P("/"),
	    F("host", "a"), F("host", "a")),
	NO("host differs from :authority", FIN, HTTP_HOST_BAD, BASE, F("host", "b.example")),
	NO("host differs from :authority by port", FIN, HTTP_HOST_BAD, BASE,
	    F("host", "a.example:443")),
	NO("neither :authority nor host", FIN, HTTP_HOST_MISSING, M("GET"), S("https"), P("/")),

	/* :path */
	NO("empty :path", 3, HTTP_BAD_TARGET, M("GET"), S("https"), A("a"), P("")),
	NO(":path without '/'", FIN, HTTP_BAD_TARGET, M("GET"), S("https"), A("a"), P("a")),
	NO(":path query only", FIN, HTTP_BAD_TARGET, M("GET"), S("https"), A("a"), P("?q")),
	NO("absolute-form :path", FIN, HTTP_BAD_TARGET, M("GET"), S("https"), A("a"),
	    P("http://a/")),
	NO("* with GET", FIN, HTTP_BAD_TARGET, M("GET"), S("https"), A("a"), P("*")),
	NO("OPTIONS *x", FIN, HTTP_BAD_TARGET, M("OPTIONS"), S("https"), A("a"), P("*x")),
	NO("fragment in :path", 3, HTTP_BAD_TARGET, M("GET"), S("https"), A("a"), P("/a#b")),
	NO("SP in :path", 3, HTTP_BAD_TARGET, M("GET"), S("https"), A("a"), P("/a b")),
	NO("obs-text in :path", 3, HTTP_BAD_TARGET, M("GET"), S("https"), A("a"),
	    P("/\xc3\xa9")),
	NO("DEL in :path", 3, HTTP_BAD_CHAR, M("GET"), S("https"), A("a"), P("/a\x7f")),
	NO("CR LF in :path", 3, HTTP_BAD_CHAR, M("GET"), S("https"), A("a"),
	    P("/a\r\nx-injected: 1")),
	NO("leading SP in :path", 3, HTTP_BAD_CHAR, M("GET"), S("https"), A("a"), P(" /")),

	/* connection-specific fields (RFC 9113 8.2.2) */
	NO("connection", 4, HTTP_BAD_HEADER, BASE, F("connection", "keep-alive")),
	NO("keep-alive", 4, HTTP_BAD_HEADER, BASE, F("keep-alive", "timeout=5")),
	NO("proxy-connection", 4, HTTP_BAD_HEADER, BASE, F("proxy-connection", "close")),
	NO("transfer-encoding", 4, HTTP_BAD_HEADER, BASE, F("transfer-encoding", "chunked")),
	NO("upgrade", 4, HTTP_BAD_HEADER, BASE, F("upgrade", "h2c")),
	NO("te gzip", 4, HTTP_TE_BAD, BASE, F("te", "gzip")),
	NO("te trailers, gzip", 4, HTTP_TE_BAD, BASE, F("te", "trailers, gzip")),
	NO("te empty", 4, HTTP_TE_BAD, BASE, F("te", "")),

	/* content-length */
	NO("content-length duplicate identical", 5, HTTP_CL_DUP, BASE,
	    F("content-length", "5"), F("content-length", "5")),
	NO("content-length duplicate different", 5, HTTP_CL_DUP, BASE,
	    F("content-length", "5"), F("content-length", "6")),
	NO("content-length list", 4, HTTP_CL_BAD, BASE, F("content-length", "5, 5")),
	NO("content-length +5", 4, HTTP_CL_BAD, BASE, F("content-length", "+5")),
	NO("content-length -1", 4, HTTP_CL_BAD, BASE, F("content-length", "-1")),
	NO("content-length hex", 4, HTTP_CL_BAD, BASE, F("content-length", "0x5")),
	NO("content-length empty", 4, HTTP_CL_BAD, BASE, F("content-length", "")),
	NO("content-length 2^53+1", 4, HTTP_CL_BAD, BASE,
	    F("content-length", "9007199254740993")),
	NO("content-length uint64 overflow", 4, HTTP_CL_BAD, BASE,
	    F("content-length", "99999999999999999999999")),
	NO("content-length leading SP", 4, HTTP_BAD_CHAR, BASE, F("content-length", " 5")),
	NOES("content-length 5 with end_stream", FIN, HTTP_CL_BAD, BASE,
	    F("content-length", "5")),

	/* names (RFC 9113 8.2.1) */
	NO("uppercase name", 4, HTTP_BAD_HEADER, BASE, F("X-Foo", "1")),
	NO("uppercase Host", 4, HTTP_BAD_HEADER, BASE, F("Host", "a.example")),
	NO("uppercase Content-Length", 4, HTTP_BAD_HEADER, BASE, F("Content-Length", "5")),
	NO("one uppercase letter", 4, HTTP_BAD_HEADER, BASE, F("cookiE", "a=1")),
	NO("empty name", 4, HTTP_BAD_HEADER, BASE, F("", "x")),
	NO("empty name first", 0, HTTP_BAD_HEADER, F("", "x"), BASE),
	NO("SP in name", 4, HTTP_BAD_HEADER, BASE, F("x a", "1")),
	NO("colon inside name", 4, HTTP_BAD_HEADER, BASE, F("x:a", "1")),
	NO("NUL in name", 4, HTTP_BAD_HEADER, BASE, F("x\0a", "1")),
	NO("CR LF in name", 4, HTTP_BAD_HEADER, BASE, F("x\r\na", "1")),
	NO("obs-text in name", 4, HTTP_BAD_HEADER, BASE, F("x\x80", "1")),
	NO("separator in name", 4, HTTP_BAD_HEADER, BASE, F("x(a)", "1")),

	/* values */
	NO("NUL in value", 4, HTTP_BAD_CHAR, BASE, F("x-a", "a\0b")),
	NO("CR in value", 4, HTTP_BAD_CHAR, BASE, F("x-a", "a\rb")),
	NO("LF in value", 4, HTTP_BAD_CHAR, BASE, F("x-a", "a\nb")),
	NO("CR LF injection in value", 4, HTTP_BAD_CHAR, BASE,
	    F("x-a", "a\r\ntransfer-encoding: chunked")),
	NO("DEL in value", 4, HTTP_BAD_CHAR, BASE, F("x-a", "a\x7f")),
	NO("vertical tab in value", 4, HTTP_BAD_CHAR, BASE, F("x-a", "\x0b")),
	NO("leading SP in value", 4, HTTP_BAD_CHAR, BASE, F("x-a", " v")),
	NO("trailing SP in value", 4, HTTP_BAD_CHAR, BASE, F("x-a", "v ")),
	NO("leading HTAB in value", 4, HTTP_BAD_CHAR, BASE, F("x-a", "\tv")),
	NO("trailing HTAB in value", 4, HTTP_BAD_CHAR, BASE, F("x-a", "v\t")),
	NO("value of one SP", 4, HTTP_BAD_CHAR, BASE, F("x-a", " ")),

	/* the first reason stays */
	NO("first error wins", 4, HTTP_BAD_HEADER, BASE, F("X", "1"), F("te", "gzip"),
	    F("x-a", "\0")),
	NO("field error before a finish error", 3, HTTP_BAD_HEADER, M("GET"), S("https"),
	    P("/"), F("connection", "close")),
};

static bool
str_is(struct pc_str s, const char *c)
{
	return pc_str_eq(s, pc_str_c(c));
}

/* An exact-size heap copy of <s>, so that ASan sees any read past its end. */
static struct pc_str
heap_copy(struct pc_str s, char **keep)
{
	char *p = malloc(s.len ? s.len : 1);

	assert_non_null(p);
	if (s.len)
		memcpy(p, s.ptr, s.len);
	*keep = p;
	return pc_str_make(p, s.len);
}

static size_t
nfields(const struct fld *f)
{
	size_t n = 0;

	while (n < NF_MAX && f[n].n.ptr != NULL)
		n++;
	return n;
}

/* RFC 9113 6.5.2: what the list of <f> counts for. */
static size_t
list_size(const struct fld *f, size_t n)
{
	size_t i, sz = 0;

	for (i = 0; i < n; i++)
		sz += f[i].n.len + f[i].v.len + 32;
	return sz;
}

/*
 * Feeds every field of <c> and finishes; checks each call's return against the contract:
 * 0 before the first refused field, the case's code from it on (to the end: the list is
 * still fed), the same code from finish, the reason set if and only if there is an error.
 */
static void
run_case(const struct h2case *c)
{
	static struct pc_msg	 msg;
	struct pc_h2_req	 r;
	struct pc_arena		*a = pc_arena_new(64 * 1024);
	char			*keep[2 * NF_MAX];
	size_t			 i, n = nfields(c->f);
	int			 rc, want;
	bool			 bad = false;

	assert_non_null(a);
	pc_h2_req_init(&r, &msg, a, LIST_MAX, COUNT_MAX);
	for (i = 0; i < n; i++) {
		want = c->at != FIN && (int)i >= c->at ? c->rc : 0;
		rc = pc_h2_req_field(&r, heap_copy(c->f[i].n, &keep[2 * i]),
		    heap_copy(c->f[i].v, &keep[2 * i + 1]));
		if (rc != want) {
			print_error("%s: field %zu: rc %d, want %d (reason %s)\n", c->name, i, rc,
			    want, pc_reason_name(r.reason));
			bad = true;
		}
	}
	rc = pc_h2_req_finish(&r, c->end_stream);
	if (rc != c->rc || r.reason != c->reason) {
		print_error("%s: finish rc %d reason %s, want rc %d reason %s\n", c->name, rc,
		    pc_reason_name(r.reason), c->rc, pc_reason_name(c->reason));
		bad = true;
	}
	if (r.list_bytes != list_size(c->f, n)) {
		print_error("%s: list_bytes %zu, want %zu\n", c->name, r.list_bytes,
		    list_size(c->f, n));
		bad = true;
	}
	if (rc == 0) {
		if (msg.flags != c->flags) {
			print_error("%s: flags %#x, want %#x\n", c->name, msg.flags, c->flags);
			bad = true;
		}
		if (msg.method.len == 0 || msg.target.len == 0 || msg.host.len == 0 ||
		    msg.version_minor != 1 || msg.status != 0) {
			print_error("%s: incomplete message\n", c->name);
			bad = true;
		}
	}
	if (bad)
		failures++;
	for (i = 0; i < 2 * n; i++)
		free(keep[i]);
	pc_arena_free(a);
}

static void
test_cases(void **state)
{
	size_t i;

	(void)state;
	failures = 0;
	for (i = 0; i < PC_NELEM(cases); i++)
		run_case(&cases[i]);
	assert_int_equal(failures, 0);
}

/* Every reason code h2_msg.c can give appears in the table. */
static void
test_reasons_covered(void **state)
{
	static const enum pc_reason all[] = {
		PC_R_HTTP_BAD_REQUEST_LINE, PC_R_HTTP_BAD_METHOD, PC_R_HTTP_BAD_TARGET,
		PC_R_HTTP_BAD_HEADER, PC_R_HTTP_BAD_CHAR, PC_R_HTTP_HOST_MISSING,
		PC_R_HTTP_HOST_DUP, PC_R_HTTP_HOST_BAD, PC_R_HTTP_CL_BAD, PC_R_HTTP_CL_DUP,
		PC_R_HTTP_TE_BAD,
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < PC_NELEM(all); i++) {
		for (j = 0; j < PC_NELEM(cases) && cases[j].reason != all[i]; j++)
			;
		if (j == PC_NELEM(cases))
			fail_msg("no case for %s", pc_reason_name(all[i]));
	}
	/* PC_R_LIMIT_HEADERS: test_list_limit, test_count_limit, test_cookie_limits. */
}

/* A field list built at run time (the limit tests need long and many fields). */
struct list {
	struct pc_str	 n[200], v[200];
	char		*keep[400];
	size_t		 len;
};

static void
add(struct list *l, const char *n, const char *v)
{
	assert_true(l->len < PC_NELEM(l->n));
	l->n[l->len] = heap_copy(pc_str_c(n), &l->keep[2 * l->len]);
	l->v[l->len] = heap_copy(pc_str_c(v), &l->keep[2 * l->len + 1]);
	l->len++;
}

static void
add_base(struct list *l)
{
	add(l, ":method", "GET");
	add(l, ":scheme", "https");
	add(l, ":authority", "a.example");
	add(l, ":path", "/");
}

/* A value of <n> copies of <c>, NUL-terminated; the caller frees it. */
static char *
filled(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
list_free(struct list *l)
{
	size_t i;

	for (i = 0; i < 2 * l->len; i++)
		free(l->keep[i]);
	l->len = 0;
}

/* Feeds <l>; returns the first non-zero field return (0 if none), then finishes. */
static int
feed(struct list *l, struct pc_h2_req *r, int *frc)
{
	size_t	i;
	int	rc;

	*frc = 0;
	for (i = 0; i < l->len; i++) {
		rc = pc_h2_req_field(r, l->n[i], l->v[i]);
		if (rc != 0 && *frc == 0)
			*frc = rc;
	}
	return pc_h2_req_finish(r, false);
}

/* RFC 9113 6.5.2: name + value + 32 per field; the limit itself fits, one byte over fails. */
static void
test_list_limit(void **state)
{
	static struct pc_msg	 msg;
	static struct list	 l;
	struct pc_h2_req	 r;
	struct pc_arena		*a = pc_arena_new(64 * 1024);
	char			*big = filled('v', 100);
	int			 frc;

	(void)state;
	add_base(&l);
	add(&l, "x-big", big);
	/* 7+3 + 7+5 + 10+9 + 5+1 + 5+100, plus 32 per field */
	pc_h2_req_init(&r, &msg, a, 312, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), 0);
	assert_int_equal(frc, 0);
	assert_int_equal(r.list_bytes, 312);
	assert_int_equal(r.reason, PC_R_NONE);

	pc_h2_req_init(&r, &msg, a, 311, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), -PC_ETOOBIG);
	assert_int_equal(frc, -PC_ETOOBIG);
	assert_int_equal(r.reason, PC_R_LIMIT_HEADERS);
	assert_int_equal(msg.nhdrs, 0);	/* the field over the limit is not kept */

	/* Empty names and values still count 32 each (the HPACK bomb of empty fields). */
	list_free(&l);
	add_base(&l);
	add(&l, "x", "");
	pc_h2_req_init(&r, &msg, a, 175 + 33, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), 0);
	pc_h2_req_init(&r, &msg, a, 175 + 32, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), -PC_ETOOBIG);
	assert_int_equal(r.reason, PC_R_LIMIT_HEADERS);
	list_free(&l);
	free(big);
	pc_arena_free(a);
}

/*
 * After an error the caller keeps feeding the list (HPACK state stays in step), and the
 * size is still counted. A malformed field first must not hide an oversized list behind
 * it: the reason becomes PC_R_LIMIT_HEADERS, the one that closes the connection (an HPACK
 * bomb behind one bad field otherwise got a plain 400 and a connection that stays open).
 */
static void
test_keep_counting(void **state)
{
	static struct pc_msg	 msg;
	static struct list	 l;
	struct pc_h2_req	 r;
	struct pc_arena		*a = pc_arena_new(64 * 1024);
	char			*big = filled('v', 4096);
	size_t			 i;
	int			 rc;

	(void)state;
	pc_h2_req_init(&r, &msg, a, 8192, COUNT_MAX);
	add_base(&l);
	add(&l, "Bad", "1");
	for (i = 0; i < 3; i++)
		add(&l, "x-bomb", big);
	for (i = 0; i < 4; i++)
		assert_int_equal(pc_h2_req_field(&r, l.n[i], l.v[i]), 0);
	assert_int_equal(pc_h2_req_field(&r, l.n[4], l.v[4]), -PC_EPROTO);
	assert_int_equal(r.reason, PC_R_HTTP_BAD_HEADER);
	assert_int_equal(r.list_bytes, 175 + 3 + 1 + 32);
	/* Under the limit still: malformed, counted, not kept. */
	assert_int_equal(pc_h2_req_field(&r, l.n[5], l.v[5]), -PC_EPROTO);
	assert_int_equal(r.reason, PC_R_HTTP_BAD_HEADER);
	assert_int_equal(r.list_bytes, 175 + 36 + 6 + 4096 + 32);
	assert_int_equal(msg.nhdrs, 0);
	/* Over it: the limit takes over, and stays. */
	assert_int_equal(pc_h2_req_field(&r, l.n[6], l.v[6]), -PC_ETOOBIG);
	assert_int_equal(r.reason, PC_R_LIMIT_HEADERS);
	assert_int_equal(pc_h2_req_field(&r, l.n[7], l.v[7]), -PC_ETOOBIG);
	assert_int_equal(r.list_bytes, 175 + 36 + 3 * (6 + 4096 + 32));
	rc = pc_h2_req_finish(&r, false);
	assert_int_equal(rc, -PC_ETOOBIG);
	assert_int_equal(r.reason, PC_R_LIMIT_HEADERS);

	/* A limit error first: later fields say -PC_ETOOBIG too, not "malformed". */
	pc_h2_req_init(&r, &msg, a, 8192, 1);
	list_free(&l);
	add_base(&l);
	add(&l, "x-a", "1");
	add(&l, "x-b", "2");
	add(&l, "x-c", "3");
	add(&l, "Bad", "4");
	for (i = 0; i < 5; i++)
		assert_int_equal(pc_h2_req_field(&r, l.n[i], l.v[i]), 0);
	assert_int_equal(pc_h2_req_field(&r, l.n[5], l.v[5]), -PC_ETOOBIG);
	assert_int_equal(pc_h2_req_field(&r, l.n[6], l.v[6]), -PC_ETOOBIG);
	assert_int_equal(pc_h2_req_field(&r, l.n[7], l.v[7]), -PC_ETOOBIG);
	assert_int_equal(r.reason, PC_R_LIMIT_HEADERS);
	assert_int_equal(r.list_bytes, 175 + 4 * (3 + 1 + 32));
	assert_int_equal(pc_h2_req_finish(&r, false), -PC_ETOOBIG);

	/* A malformed list that stays under the limit keeps its first reason. */
	pc_h2_req_init(&r, &msg, a, 8192, COUNT_MAX);
	list_free(&l);
	add_base(&l);
	add(&l, "connection", "close");
	add(&l, "Bad", "1");
	for (i = 0; i < l.len; i++)
		(void)pc_h2_req_field(&r, l.n[i], l.v[i]);
	assert_int_equal(pc_h2_req_finish(&r, false), -PC_EPROTO);
	assert_int_equal(r.reason, PC_R_HTTP_BAD_HEADER);
	list_free(&l);
	free(big);
	pc_arena_free(a);
}

/* <count_max> regular fields fit; one more is refused; te/host/content-length/expect are
 * not kept, so they do not count; the ceiling is PC_HTTP_HDR_MAX whatever is asked. */
static void
test_count_limit(void **state)
{
	static struct pc_msg	 msg;
	static struct list	 l;
	struct pc_h2_req	 r;
	struct pc_arena		*a = pc_arena_new(64 * 1024);
	char			 name[16];
	int			 frc, i;

	(void)state;
	add_base(&l);
	add(&l, "x-a", "1");
	add(&l, "te", "trailers");
	add(&l, "host", "a.example");
	add(&l, "x-b", "2");
	add(&l, "content-length", "0");
	add(&l, "expect", "100-continue");
	add(&l, "cookie", "c=1");
	pc_h2_req_init(&r, &msg, a, LIST_MAX, 3);
	assert_int_equal(feed(&l, &r, &frc), 0);
	assert_int_equal(msg.nhdrs, 3);
	add(&l, "x-c", "3");
	pc_h2_req_init(&r, &msg, a, LIST_MAX, 3);
	assert_int_equal(feed(&l, &r, &frc), -PC_ETOOBIG);
	assert_int_equal(frc, -PC_ETOOBIG);
	assert_int_equal(r.reason, PC_R_LIMIT_HEADERS);
	assert_int_equal(msg.nhdrs, 3);

	/* Zero: no regular field at all. */
	list_free(&l);
	add_base(&l);
	pc_h2_req_init(&r, &msg, a, LIST_MAX, 0);
	assert_int_equal(feed(&l, &r, &frc), 0);
	add(&l, "x-a", "1");
	pc_h2_req_init(&r, &msg, a, LIST_MAX, 0);
	assert_int_equal(feed(&l, &r, &frc), -PC_ETOOBIG);

	/* A configured count over the ceiling is clamped to PC_HTTP_HDR_MAX. */
	list_free(&l);
	add_base(&l);
	for (i = 0; i < PC_HTTP_HDR_MAX; i++) {
		(void)snprintf(name, sizeof(name), "x-%d", i);
		add(&l, name, "v");
	}
	pc_h2_req_init(&r, &msg, a, 1 << 20, 1000);
	assert_int_equal(feed(&l, &r, &frc), 0);
	assert_int_equal(msg.nhdrs, PC_HTTP_HDR_MAX);
	add(&l, "x-last", "v");
	pc_h2_req_init(&r, &msg, a, 1 << 20, 1000);
	assert_int_equal(feed(&l, &r, &frc), -PC_ETOOBIG);
	assert_int_equal(r.reason, PC_R_LIMIT_HEADERS);
	assert_int_equal(msg.nhdrs, PC_HTTP_HDR_MAX);
	list_free(&l);
	pc_arena_free(a);
}

/* The fields of a valid request: method, target, host, flags, length, kept fields in order,
 * zero-copy views of the caller's strings. */
static void
test_msg_fields(void **state)
{
	static struct pc_msg	 msg;
	static struct list	 l;
	struct pc_h2_req	 r;
	struct pc_arena		*a = pc_arena_new(64 * 1024);
	int			 frc;

	(void)state;
	memset(&msg, 0xa5, sizeof(msg));	/* init clears what a previous use left */
	add(&l, ":method", "POST");
	add(&l, ":scheme", "https");
	add(&l, ":authority", "api.example:8443");
	add(&l, ":path", "/api/v1?x=1");
	add(&l, "content-type", "application/json");
	add(&l, "host", "API.example:8443");
	add(&l, "content-length", "42");
	add(&l, "te", "trailers");
	add(&l, "expect", "100-continue");
	add(&l, "x-empty", "");
	add(&l, "accept", "*/*");
	pc_h2_req_init(&r, &msg, a, LIST_MAX, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), 0);
	assert_int_equal(frc, 0);
	assert_int_equal(r.reason, PC_R_NONE);
	assert_true(str_is(msg.method, "POST"));
	assert_true(msg.method.ptr == l.v[0].ptr);
	assert_int_equal(msg.meth, PC_M_POST);
	assert_true(str_is(msg.target, "/api/v1?x=1"));
	assert_true(msg.target.ptr == l.v[3].ptr);
	/* :authority wins over an equal host (it is what the client used). */
	assert_true(str_is(msg.host, "api.example:8443"));
	assert_true(msg.host.ptr == l.v[2].ptr);
	assert_int_equal(msg.flags, PC_MSG_HAS_CL);
	assert_int_equal(msg.content_length, 42);
	assert_int_equal(msg.version_minor, 1);
	assert_int_equal(msg.status, 0);
	assert_int_equal(msg.reason_phrase.len, 0);
	assert_int_equal(msg.nhdrs, 3);
	assert_true(str_is(msg.hdrs[0].name, "content-type"));
	assert_true(str_is(msg.hdrs[0].value, "application/json"));
	assert_true(msg.hdrs[0].value.ptr == l.v[4].ptr);
	assert_true(str_is(msg.hdrs[1].name, "x-empty"));
	assert_int_equal(msg.hdrs[1].value.len, 0);
	assert_true(str_is(msg.hdrs[2].name, "accept"));
	assert_true(str_is(msg.hdrs[2].value, "*/*"));
	assert_int_equal(r.list_bytes, 7 + 4 + 7 + 5 + 10 + 16 + 5 + 11 + 12 + 16 + 4 + 16 +
	    14 + 2 + 2 + 8 + 6 + 12 + 7 + 0 + 6 + 3 + 11 * 32);

	/* host only: it becomes the message's host; no length, no flags. */
	list_free(&l);
	add(&l, ":method", "get");
	add(&l, ":scheme", "http");
	add(&l, ":path", "/");
	add(&l, "host", "h.example");
	pc_h2_req_init(&r, &msg, a, LIST_MAX, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), 0);
	assert_true(str_is(msg.host, "h.example"));
	assert_true(msg.host.ptr == l.v[3].ptr);
	assert_int_equal(msg.meth, PC_M_OTHER);	/* methods are case-sensitive */
	assert_int_equal(msg.flags, 0);
	assert_int_equal(msg.content_length, 0);
	assert_int_equal(msg.nhdrs, 0);

	/* Each known method maps to its enum. */
	list_free(&l);
	add(&l, ":method", "OPTIONS");
	add(&l, ":scheme", "https");
	add(&l, ":authority", "a");
	add(&l, ":path", "*");
	pc_h2_req_init(&r, &msg, a, LIST_MAX, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), 0);
	assert_int_equal(msg.meth, PC_M_OPTIONS);
	assert_true(str_is(msg.target, "*"));
	list_free(&l);
	pc_arena_free(a);
}

/* RFC 9113 8.2.3: crumbs joined with "; " in order, in the first cookie's place; other
 * fields keep their order; a single cookie is left as it came (no copy). */
static void
test_cookies(void **state)
{
	static struct pc_msg	 msg;
	static struct list	 l;
	struct pc_h2_req	 r;
	struct pc_arena		*a = pc_arena_new(64 * 1024);
	int			 frc;

	(void)state;
	add_base(&l);
	add(&l, "x-a", "1");
	add(&l, "cookie", "a=1");
	add(&l, "x-b", "2");
	add(&l, "cookie", "b=2");
	add(&l, "x-c", "3");
	add(&l, "cookie", "c=3");
	pc_h2_req_init(&r, &msg, a, LIST_MAX, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), 0);
	assert_int_equal(msg.nhdrs, 4);
	assert_true(str_is(msg.hdrs[0].name, "x-a"));
	assert_true(str_is(msg.hdrs[1].name, "cookie"));
	assert_true(str_is(msg.hdrs[1].value, "a=1; b=2; c=3"));
	assert_true(str_is(msg.hdrs[2].name, "x-b"));
	assert_true(str_is(msg.hdrs[2].value, "2"));
	assert_true(str_is(msg.hdrs[3].name, "x-c"));
	assert_true(str_is(msg.hdrs[3].value, "3"));

	/* Empty crumbs are left out: "a=1; " or "; " would end in whitespace, which no
	 * HTTP/1.1 field value may. Before the fix: "a=1; ", "; b=2", "; ". */
	list_free(&l);
	add_base(&l);
	add(&l, "cookie", "a=1");
	add(&l, "cookie", "");
	add(&l, "x-z", "z");
	pc_h2_req_init(&r, &msg, a, LIST_MAX, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), 0);
	assert_int_equal(msg.nhdrs, 2);
	assert_true(str_is(msg.hdrs[0].value, "a=1"));
	assert_true(str_is(msg.hdrs[1].name, "x-z"));
	list_free(&l);
	add_base(&l);
	add(&l, "cookie", "");
	add(&l, "cookie", "b=2");
	pc_h2_req_init(&r, &msg, a, LIST_MAX, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), 0);
	assert_int_equal(msg.nhdrs, 1);
	assert_true(str_is(msg.hdrs[0].value, "b=2"));
	list_free(&l);
	add_base(&l);
	add(&l, "cookie", "");
	add(&l, "cookie", "");
	pc_h2_req_init(&r, &msg, a, LIST_MAX, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), 0);
	assert_int_equal(msg.nhdrs, 1);
	assert_true(str_is(msg.hdrs[0].name, "cookie"));
	assert_int_equal(msg.hdrs[0].value.len, 0);

	/* A single cookie: untouched, the caller's own string. */
	list_free(&l);
	add_base(&l);
	add(&l, "x-a", "1");
	add(&l, "cookie", "only=1; two=2");
	pc_h2_req_init(&r, &msg, a, LIST_MAX, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), 0);
	assert_int_equal(msg.nhdrs, 2);
	assert_true(msg.hdrs[1].value.ptr == l.v[5].ptr);
	assert_true(str_is(msg.hdrs[1].value, "only=1; two=2"));
	list_free(&l);
	pc_arena_free(a);
}

/* The joined Cookie is bounded (64 KiB counting "; " per crumb) and lives in the request
 * arena: its cap is a limit too (431), never a crash. */
static void
test_cookie_limits(void **state)
{
	static struct pc_msg	 msg;
	static struct list	 l;
	struct pc_h2_req	 r;
	struct pc_arena		*a = pc_arena_new(256 * 1024), *tiny;
	char			*c1 = filled('a', 65534), *c2 = filled('b', 1);
	int			 frc;

	(void)state;
	/* One crumb of 65534 + 2 = 65536: at the limit. */
	add_base(&l);
	add(&l, "cookie", c1);
	pc_h2_req_init(&r, &msg, a, 1 << 20, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), 0);
	/* One more byte of crumbs, in a second field: over. */
	add(&l, "cookie", c2);
	pc_h2_req_init(&r, &msg, a, 1 << 20, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), -PC_ETOOBIG);
	assert_int_equal(frc, -PC_ETOOBIG);
	assert_int_equal(r.reason, PC_R_LIMIT_HEADERS);

	/* The arena cannot hold the joined value: -PC_ETOOBIG, LIMIT_HEADERS. */
	list_free(&l);
	add_base(&l);
	add(&l, "cookie", "a=0123456789");
	add(&l, "cookie", "b=0123456789");
	tiny = pc_arena_new(16);
	assert_non_null(tiny);
	pc_h2_req_init(&r, &msg, tiny, LIST_MAX, COUNT_MAX);
	assert_int_equal(feed(&l, &r, &frc), -PC_ETOOBIG);
	assert_int_equal(frc, 0);
	assert_int_equal(r.reason, PC_R_LIMIT_HEADERS);
	/* And it says so again if asked again. */
	assert_int_equal(pc_h2_req_finish(&r, false), -PC_ETOOBIG);
	pc_arena_free(tiny);
	list_free(&l);
	free(c1);
	free(c2);
	pc_arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_reasons_covered),
		cmocka_unit_test(test_list_limit),
		cmocka_unit_test(test_keep_counting),
		cmocka_unit_test(test_count_limit),
		cmocka_unit_test(test_msg_fields),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_cookie_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
