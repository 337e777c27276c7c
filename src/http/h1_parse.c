/*
 * http/h1_parse.c - HTTP/1.1 message head parser (RFC 9112 sections 2-6, RFC 9110 5).
 * Owns: bytes -> struct pc_msg for client requests and upstream responses, the size and
 * count limits on a head, the framing decision (Content-Length / Transfer-Encoding), the
 * method helpers, field lookup and the hop-by-hop test.
 * Does not: allocate, copy (every pc_str borrows from the caller's buffer), normalize the
 * target, or decide policy.
 * Refuses every leniency the RFCs merely allow a recipient (bare LF, obs-fold, empty lines
 * before the request line, whitespace before ':', lists in Content-Length): each one is a
 * parser differential between us and some upstream, i.e. a request-smuggling vector.
 *
 * The parser is stateless and re-parses from the start on every call. It checks bytes
 * strictly left to right, so a prefix of a message is either "need more" or rejected for
 * the same reason as the whole message (the fuzzers assert this): a line is first checked
 * byte by byte as far as it has arrived, and judged as a whole only once its CR and the
 * byte after it are in.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "http/http.h"
#include "http/http_int.h"
#include "core/banned.h"

/* Largest Content-Length accepted: 2^53, so that any JSON/JS consumer holds it exactly. */
#define CL_MAX		(UINT64_C(1) << 53)

/* Character classes (RFC 9110 5.6.2, 5.5; RFC 9112 3.2; RFC 3986 3.2.2). */
#define C_TCHAR		0x01u	/* token character */
#define C_VALUE		0x02u	/* field-value byte: VCHAR, obs-text, SP, HTAB */
#define C_TARGET	0x04u	/* request-target byte: 0x21-0x7E except '#' */
#define C_CTL		0x08u	/* 0x00-0x1F and DEL: never valid outside HTAB in a value */
#define C_HEX		0x10u	/* HEXDIG */
#define C_HOST		0x20u	/* reg-name subset we accept: ALPHA DIGIT '-' '.' '_' */
#define C_DIGIT		0x40u	/* DIGIT */

/* Generated once from the definitions above; tests/unit/http/test_h1_parse.c re-derives it. */
static const uint8_t cls[256] = {
	0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0a, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
	0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
	0x02, 0x07, 0x06, 0x03, 0x07, 0x07, 0x07, 0x07, 0x06, 0x06, 0x07, 0x07, 0x06, 0x27, 0x27, 0x06,
	0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06,
	0x06, 0x37, 0x37, 0x37, 0x37, 0x37, 0x37, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27,
	0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x06, 0x06, 0x06, 0x07, 0x27,
	0x07, 0x37, 0x37, 0x37, 0x37, 0x37, 0x37, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27,
	0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x27, 0x06, 0x07, 0x06, 0x07, 0x08,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
};

static inline bool
is(char c, unsigned mask)
{
	return (cls[(unsigned char)c] & mask) != 0;
}

/*
 * Word-at-a-time scanning (Hacker's Delight 6-1): values and targets are most of a head,
 * and almost every byte in them is plain. A word with anything unusual in it is rechecked
 * byte by byte with the table, so the table alone decides what is valid.
 */
#define ONES		UINT64_C(0x0101010101010101)
#define HIGHS		UINT64_C(0x8080808080808080)
#define HAS_LESS(w, n)	((((w) - ONES * (n)) & ~(w) & HIGHS) != 0)	/* some byte < n */
#define HAS_BYTE(w, b)	HAS_LESS((w) ^ (ONES * (b)), 1)

static inline uint64_t
load64(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* Returns the index of the first byte of <p>[<i>..<n>) outside <mask>, or <n>. */
static size_t
span(const char *p, size_t i, size_t n, unsigned mask)
{
	size_t		end;
	uint64_t	w;

	for (;;) {
		while (i + 8 <= n) {
			w = load64(p + i);
			if (mask == C_VALUE ? HAS_LESS(w, 0x20) || HAS_BYTE(w, 0x7f) :
			    HAS_LESS(w, 0x21) || (w & HIGHS) != 0 || HAS_BYTE(w, 0x7f) ||
			    HAS_BYTE(w, '#'))
				break;
			i += 8;
		}
		end = i + 8 < n ? i + 8 : n;
		while (i < end && is(p[i], mask))
			i++;
		if (i < end || i == n)
			return i;
	}
}

/* Everything one parse needs; lives on the stack of the public entry points. */
struct parse {
	const char		*buf;
	size_t			 len;
	const struct pc_h1_limits *lim;
	struct pc_msg		*msg;
	enum pc_reason		*reason;
	bool			 request;
	unsigned		 nhost, ncl, nte;
	bool			 te_chunked_last;	/* response: last coding seen is chunked */
};

static int
reject(struct parse *ps, enum pc_reason r, int err)
{
	*ps->reason = r;
	return -err;
}

static int
bad(struct parse *ps, enum pc_reason r)
{
	return reject(ps, r, PC_EPROTO);
}

static const struct pc_str method_names[PC_M_COUNT] = {
	[PC_M_OTHER] = PC_STR_INIT(""),
	[PC_M_GET] = PC_STR_INIT("GET"),
	[PC_M_HEAD] = PC_STR_INIT("HEAD"),
	[PC_M_POST] = PC_STR_INIT("POST"),
	[PC_M_PUT] = PC_STR_INIT("PUT"),
	[PC_M_DELETE] = PC_STR_INIT("DELETE"),
	[PC_M_PATCH] = PC_STR_INIT("PATCH"),
	[PC_M_OPTIONS] = PC_STR_INIT("OPTIONS"),
	[PC_M_TRACE] = PC_STR_INIT("TRACE"),
	[PC_M_CONNECT] = PC_STR_INIT("CONNECT"),
};

/* Methods are case-sensitive (RFC 9110 9.1): "get" is a valid, unknown token. */
enum pc_method
pc_method_from_str(struct pc_str m)
{
	unsigned i;

	for (i = 1; i < PC_M_COUNT; i++)
		if (pc_str_eq(m, method_names[i]))
			return (enum pc_method)i;
	return PC_M_OTHER;
}

const char *
pc_method_name(enum pc_method m)
{
	if ((unsigned)m >= PC_M_COUNT)
		return "";
	return method_names[m].ptr;
}

bool
pc_method_is_idempotent(enum pc_method m)
{
	switch (m) {
	case PC_M_GET:
	case PC_M_HEAD:
	case PC_M_PUT:
	case PC_M_DELETE:
	case PC_M_OPTIONS:
	case PC_M_TRACE:
		return true;
	default:
		return false;
	}
}

const struct pc_hdr *
pc_msg_header(const struct pc_msg *msg, struct pc_str name)
{
	uint16_t i;

	for (i = 0; i < msg->nhdrs && i < PC_HTTP_HDR_MAX; i++)
		if (pc_str_caseeq(msg->hdrs[i].name, name))
			return &msg->hdrs[i];
	return NULL;
}

/*
 * Calls <fn> on each element of the comma-separated list <v> (RFC 9110 5.6.1), OWS
 * trimmed; empty elements are skipped as the RFC requires. Stops at the first nonzero
 * return and returns it.
 */
static int
each_elem(struct pc_str v, int (*fn)(struct pc_str e, void *arg), void *arg)
{
	struct pc_str	e;
	int		rc;

	while (v.len > 0) {
		v = pc_str_split(v, ',', &e);
		e = pc_str_trim_ows(e);
		if (e.len == 0)
			continue;
		rc = fn(e, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

bool
pc_http__token_ok(struct pc_str s)
{
	size_t i;

	if (s.len == 0)
		return false;
	for (i = 0; i < s.len; i++)
		if (!is(s.ptr[i], C_TCHAR))
			return false;
	return true;
}

bool
pc_http__value_ok(struct pc_str v)
{
	size_t i;

	for (i = 0; i < v.len; i++)
		if (!is(v.ptr[i], C_VALUE))
			return false;
	return true;
}

bool
pc_http__target_ok(struct pc_str t)
{
	size_t i;

	if (t.len == 0)
		return false;
	for (i = 0; i < t.len; i++)
		if (!is(t.ptr[i], C_TARGET))
			return false;
	return true;
}

struct hop_match {
	struct pc_str name;
};

static int
hop_elem(struct pc_str e, void *arg)
{
	const struct hop_match *hm = arg;

	return pc_str_caseeq(e, hm->name) ? 1 : 0;
}

bool
pc_h1_is_hop_header(const struct pc_msg *msg, struct pc_str name)
{
	static const struct pc_str hop[] = {
		PC_STR_INIT("Connection"), PC_STR_INIT("Keep-Alive"),
		PC_STR_INIT("Proxy-Connection"), PC_STR_INIT("TE"),
		PC_STR_INIT("Transfer-Encoding"), PC_STR_INIT("Upgrade"),
		PC_STR_INIT("Trailer"),
	};
	struct hop_match	hm = { name };
	size_t			i;

	for (i = 0; i < PC_NELEM(hop); i++)
		if (pc_str_caseeq(name, hop[i]))
			return true;
	if (msg == NULL)
		return false;
	/* RFC 9110 7.6.1: every option named in Connection is hop-by-hop too. */
	for (i = 0; i < msg->nhdrs && i < PC_HTTP_HDR_MAX; i++)
		if (pc_str_caseeq(msg->hdrs[i].name, PC_STR("Connection")) &&
		    each_elem(msg->hdrs[i].value, hop_elem, &hm) == 1)
			return true;
	return false;
}

/*
 * Locates the line at <p>/<avail> whose content may be at most <maxc> bytes. Sets *<n> to
 * the content length (bytes before CR) when the whole line is present, else to the number
 * of bytes that can be checked already. Content may hold a stray LF: the caller's class
 * check rejects it as a control.
 */
enum { LINE_FULL, LINE_PART, LINE_LONG };

static int
find_line(const char *p, size_t avail, size_t maxc, size_t *n)
{
	size_t		 w = avail > maxc ? maxc + 1 : avail;
	const char	*cr = w > 0 ? memchr(p, '\r', w) : NULL;

	if (cr != NULL) {
		*n = (size_t)(cr - p);
		return *n + 1 < avail ? LINE_FULL : LINE_PART;
	}
	*n = w;
	return w > maxc ? LINE_LONG : LINE_PART;
}

/*
 * How the checked bytes of a line end: not yet known, CRLF, or a CR followed by something
 * else. Byte checks come first, then a bare CR, then what the whole line means: that order
 * is what keeps a prefix's verdict equal to the whole input's.
 */
enum { END_PART, END_CRLF, END_BARE_CR };

/* The scan of a line reached its end; <r> is the verdict for a complete line. */
static int
at_end(struct parse *ps, int end, enum pc_reason r)
{
	if (end == END_PART)
		return 0;
	if (end == END_BARE_CR)
		return bad(ps, PC_R_HTTP_BAD_CHAR);
	return r == PC_R_NONE ? 0 : bad(ps, r);
}

/*
 * Checks the request line <p>/<n>; <end> says how the line ends. A partial line is checked
 * as far as it goes, with the same verdicts the whole line would get.
 */
static int
scan_request_line(struct parse *ps, const char *p, size_t n, int end)
{
	struct pc_msg	*msg = ps->msg;
	size_t		 i = 0, t0, v0;
	struct pc_str	 v;

	while (i < n && is(p[i], C_TCHAR))
		i++;
	if (i == n)
		return at_end(ps, end, PC_R_HTTP_BAD_REQUEST_LINE);
	if (is(p[i], C_CTL))
		return bad(ps, PC_R_HTTP_BAD_CHAR);
	if (p[i] != ' ' || i == 0)
		return bad(ps, PC_R_HTTP_BAD_METHOD);
	t0 = ++i;
	i = span(p, i, n, C_TARGET);
	if (i == n)
		return at_end(ps, end, PC_R_HTTP_BAD_REQUEST_LINE);
	if (is(p[i], C_CTL))
		return bad(ps, PC_R_HTTP_BAD_CHAR);
	if (p[i] != ' ')
		return bad(ps, PC_R_HTTP_BAD_TARGET);	/* '#' fragment, obs-text */
	if (i == t0)
		return bad(ps, PC_R_HTTP_BAD_REQUEST_LINE);	/* two SPs */
	v0 = ++i;
	for (; i < n; i++)
		if (is(p[i], C_CTL))
			return bad(ps, PC_R_HTTP_BAD_CHAR);
	if (end != END_CRLF)
		return at_end(ps, end, PC_R_NONE);

	msg->method = pc_str_make(p, t0 - 1);
	msg->meth = pc_method_from_str(msg->method);
	msg->target = pc_str_make(p + t0, v0 - 1 - t0);
	v = pc_str_make(p + v0, n - v0);
	if (pc_str_eq(v, PC_STR("HTTP/1.1")))
		msg->version_minor = 1;
	else if (pc_str_eq(v, PC_STR("HTTP/1.0")))
		msg->version_minor = 0;
	else if (v.len > 0 && v.ptr[0] == ' ')
		return bad(ps, PC_R_HTTP_BAD_REQUEST_LINE);	/* two SPs */
	else
		return bad(ps, PC_R_HTTP_BAD_VERSION);
	/* Origin-form only, or "*" for OPTIONS (RFC 9112 3.2.4). Absolute- and authority-form
	 * would give the target its own idea of the host, next to Host. */
	if (msg->target.ptr[0] == '/')
		return 0;
	if (msg->target.len == 1 && msg->target.ptr[0] == '*' && msg->meth == PC_M_OPTIONS)
		return 0;
	return bad(ps, PC_R_HTTP_BAD_TARGET);
}

/* Checks the status line "HTTP/1.x SP 3DIGIT SP reason" (RFC 9112 4), same contract. */
static int
scan_status_line(struct parse *ps, const char *p, size_t n, int end)
{
	static const char	 ver[] = "HTTP/1.";
	struct pc_msg		*msg = ps->msg;
	size_t			 i;

	for (i = 0; i < 8 && i < n; i++) {
		if (is(p[i], C_CTL))
			return bad(ps, PC_R_HTTP_BAD_CHAR);
		if (i < 7 ? p[i] != ver[i] : (p[i] != '0' && p[i] != '1'))
			return bad(ps, PC_R_HTTP_BAD_VERSION);
	}
	for (; i < 13 && i < n; i++) {
		if (is(p[i], C_CTL))
			return bad(ps, PC_R_HTTP_BAD_CHAR);
		if ((i == 8 || i == 12) ? p[i] != ' ' : !is(p[i], C_DIGIT))
			return bad(ps, PC_R_HTTP_BAD_REQUEST_LINE);
	}
	for (; i < n; i++)
		if (!is(p[i], C_VALUE))
			return bad(ps, PC_R_HTTP_BAD_CHAR);
	if (end != END_CRLF)
		return at_end(ps, end, PC_R_NONE);
	if (n < 8)
		return bad(ps, PC_R_HTTP_BAD_VERSION);
	if (n < 13)
		return bad(ps, PC_R_HTTP_BAD_REQUEST_LINE);	/* the SP before reason is required */
	msg->version_minor = p[7] - '0';
	msg->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	msg->reason_phrase = pc_str_make(p + 13, n - 13);
	if (msg->status < 100 || msg->status > 599)
		return bad(ps, PC_R_HTTP_BAD_REQUEST_LINE);
	return 0;
}

/* Checks one field line <p>/<n> (RFC 9112 5) and fills *<h> (meaningful on a full line). */
static int
scan_field(struct parse *ps, const char *p, size_t n, int end, struct pc_hdr *h)
{
	size_t i = 0, v0;

	if (n > 0 && (p[0] == ' ' || p[0] == '\t'))
		return bad(ps, PC_R_HTTP_OBS_FOLD);	/* RFC 9112 5.2: reject, never unfold */
	while (i < n && is(p[i], C_TCHAR))
		i++;
	if (i == n)
		return at_end(ps, end, PC_R_HTTP_BAD_HEADER);
	if (p[i] != ':') {
		/* "Transfer-Encoding : chunked" is the classic: some servers strip the space. */
		if (p[i] == ' ' || p[i] == '\t' || !is(p[i], C_CTL))
			return bad(ps, PC_R_HTTP_BAD_HEADER);
		return bad(ps, PC_R_HTTP_BAD_CHAR);
	}
	if (i == 0)
		return bad(ps, PC_R_HTTP_BAD_HEADER);
	h->name = pc_str_make(p, i);
	i++;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	v0 = i;
	i = span(p, i, n, C_VALUE);
	if (i < n || end == END_BARE_CR)
		return bad(ps, PC_R_HTTP_BAD_CHAR);
	while (i > v0 && (p[i - 1] == ' ' || p[i - 1] == '\t'))
		i--;
	h->value = pc_str_make(p + v0, i - v0);
	return 0;
}

/*
 * Host (RFC 9110 7.2, RFC 3986 3.2.2): reg-name restricted to letters, digits, '-', '.',
 * '_' (no userinfo, percent-encoding or sub-delims: nothing routes on those), which covers
 * IPv4; or "[" IPv6 "]"; then an optional ":" port of 1-5 digits <= 65535.
 */
bool
pc_http__host_ok(struct pc_str h)
{
	size_t		i = 0;
	uint64_t	port;

	if (h.len == 0)
		return false;
	if (h.ptr[0] == '[') {
		for (i = 1; i < h.len && (is(h.ptr[i], C_HEX) || h.ptr[i] == ':' ||
		    h.ptr[i] == '.'); i++)
			;
		if (i == 1 || i == h.len || h.ptr[i] != ']')
			return false;
		i++;
	} else {
		while (i < h.len && is(h.ptr[i], C_HOST))
			i++;
		if (i == 0)
			return false;
	}
	if (i == h.len)
		return true;
	if (h.ptr[i] != ':' || h.len - i - 1 > 5)
		return false;
	return pc_parse_u64(pc_str_make(h.ptr + i + 1, h.len - i - 1), 65535, &port) == 0;
}

static int
conn_elem(struct pc_str e, void *arg)
{
	struct pc_msg *msg = arg;

	if (!pc_http__token_ok(e))
		return 1;
	if (pc_str_caseeq(e, PC_STR("close")))
		msg->flags |= PC_MSG_CONN_CLOSE;
	else if (pc_str_caseeq(e, PC_STR("keep-alive")))
		msg->flags |= PC_MSG_CONN_KEEPALIVE;
	else if (pc_str_caseeq(e, PC_STR("upgrade")))
		msg->flags |= PC_MSG_CONN_UPGRADE;
	return 0;
}

/*
 * Response Transfer-Encoding: a list of codings where chunked, if present, must be the
 * last and appear once (RFC 9112 6.1, 7). Parameters are refused: nothing needs them.
 */
static int
te_elem(struct pc_str e, void *arg)
{
	struct parse *ps = arg;

	if (!pc_http__token_ok(e) || ps->te_chunked_last)
		return 1;
	ps->te_chunked_last = pc_str_caseeq(e, PC_STR("chunked"));
	return 0;
}

/*
 * Case-insensitive compare of the field name <n> with <lc>, a lowercase literal of letters
 * and '-'. Exact for token characters: only a letter ORed with 0x20 gives a letter, and no
 * tchar gives '-' that way but '-' itself.
 */
static inline bool
name_is(struct pc_str n, const char *lc)
{
	size_t i;

	for (i = 0; i < n.len; i++)
		if ((n.ptr[i] | 0x20) != lc[i])
			return false;
	return true;
}

/* Applies the meaning of the framing and connection fields of the full field <h>. */
static int
field_semantics(struct parse *ps, const struct pc_hdr *h)
{
	struct pc_msg	*msg = ps->msg;
	struct pc_str	 n = h->name;

	switch (n.len) {
	case 4:
		if (!ps->request || !name_is(n, "host"))
			return 0;
		/* Two Hosts: the router and the upstream may each pick a different one. */
		if (++ps->nhost > 1)
			return bad(ps, PC_R_HTTP_HOST_DUP);
		if (!pc_http__host_ok(h->value))
			return bad(ps, PC_R_HTTP_HOST_BAD);
		msg->host = h->value;
		return 0;
	case 6:
		if (!ps->request || !name_is(n, "expect"))
			return 0;
		if (!pc_str_caseeq(h->value, PC_STR("100-continue")))
			return bad(ps, PC_R_HTTP_EXPECT_BAD);
		/* RFC 9110 10.1.1: a 100-continue in an HTTP/1.0 request is ignored. */
		if (msg->version_minor == 1)
			msg->flags |= PC_MSG_EXPECT_CONTINUE;
		return 0;
	case 10:
		if (!name_is(n, "connection"))
			return 0;
		if (each_elem(h->value, conn_elem, msg) != 0)
			return bad(ps, PC_R_HTTP_BAD_HEADER);
		return 0;
	case 14:
		if (!name_is(n, "content-length"))
			return 0;
		/* Even "Content-Length: 5" twice is refused: RFC 9112 6.3 lets a recipient
		 * merge identical values, and a peer that does not is a smuggling target. */
		if (++ps->ncl > 1)
			return bad(ps, PC_R_HTTP_CL_DUP);
		if (pc_parse_u64(h->value, CL_MAX, &msg->content_length) != 0)
			return bad(ps, PC_R_HTTP_CL_BAD);
		msg->flags |= PC_MSG_HAS_CL;
		break;
	case 17:
		if (!name_is(n, "transfer-encoding"))
			return 0;
		/* HTTP/1.0 has no chunked coding (RFC 9112 6.1); a 1.0 peer would read the
		 * body some other way. */
		if (msg->version_minor == 0)
			return bad(ps, PC_R_HTTP_TE_BAD);
		ps->nte++;
		if (!ps->request) {
			if (each_elem(h->value, te_elem, ps) != 0 || h->value.len == 0)
				return bad(ps, PC_R_HTTP_TE_BAD);
			break;
		}
		/* Requests: exactly one field, exactly "chunked". Lists and other codings are
		 * where implementations disagree about which coding is final. */
		if (ps->nte > 1 || !pc_str_caseeq(h->value, PC_STR("chunked")))
			return bad(ps, PC_R_HTTP_TE_BAD);
		msg->flags |= PC_MSG_CHUNKED;
		break;
	default:
		return 0;
	}
	/* Both CL and TE: refuse instead of choosing. A proxy and an upstream that pick
	 * differently is the classic request-smuggling setup (RFC 9112 6.1). */
	if (ps->ncl > 0 && ps->nte > 0)
		return bad(ps, PC_R_HTTP_CL_TE);
	return 0;
}

static void
msg_reset(struct pc_msg *msg)
{
	msg->method = PC_STR_NULL;
	msg->meth = PC_M_OTHER;
	msg->target = PC_STR_NULL;
	msg->status = 0;
	msg->reason_phrase = PC_STR_NULL;
	msg->version_minor = 0;
	msg->flags = 0;
	msg->content_length = 0;
	msg->host = PC_STR_NULL;
	msg->head_len = 0;
	msg->nhdrs = 0;
}

static int
line_end(const char *p, size_t n, int kind)
{
	if (kind != LINE_FULL)
		return END_PART;
	return p[n + 1] == '\n' ? END_CRLF : END_BARE_CR;
}

static int
parse_head(struct parse *ps)
{
	const struct pc_h1_limits *lim = ps->lim;
	struct pc_msg	*msg = ps->msg;
	const char	*p = ps->buf;
	size_t		 off, hb, n, maxc;
	unsigned	 nmax = lim->hdr_count_max < PC_HTTP_HDR_MAX ?
			    lim->hdr_count_max : PC_HTTP_HDR_MAX;
	struct pc_hdr	 h;
	int		 kind, end, rc;

	msg_reset(msg);
	*ps->reason = PC_R_NONE;

	/* Start line. An empty line first is refused (RFC 9112 2.2 only "should" skip it). */
	kind = find_line(p, ps->len, lim->request_line_max, &n);
	end = line_end(p, n, kind);
	rc = ps->request ? scan_request_line(ps, p, n, end) : scan_status_line(ps, p, n, end);
	if (rc != 0)
		return rc;
	if (kind == LINE_LONG)
		return reject(ps, PC_R_LIMIT_URI, PC_ETOOBIG);
	if (kind == LINE_PART)
		return -PC_EAGAIN;
	hb = off = n + 2;

	/* Fields. The header block (from here through the final CRLF) must fit head_max:
	 * a field line leaves room for its own CRLF and the final one, so an oversized block
	 * is reported as soon as it is certain, not when CRLF CRLF finally arrives. */
	for (;;) {
		if (lim->head_max < off - hb + 2)
			return reject(ps, PC_R_LIMIT_HEADERS, PC_ETOOBIG);
		maxc = lim->head_max - (off - hb);
		maxc = maxc >= 4 ? maxc - 4 : 0;
		kind = find_line(p + off, ps->len - off, maxc, &n);
		if (kind == LINE_FULL && n == 0) {
			if (p[off + 1] != '\n')
				return bad(ps, PC_R_HTTP_BAD_CHAR);
			off += 2;
			break;
		}
		rc = scan_field(ps, p + off, n, line_end(p + off, n, kind), &h);
		if (rc != 0)
			return rc;
		if (kind == LINE_LONG)
			return reject(ps, PC_R_LIMIT_HEADERS, PC_ETOOBIG);
		if (kind == LINE_PART)
			return -PC_EAGAIN;
		if (msg->nhdrs >= nmax)
			return reject(ps, PC_R_LIMIT_HEADERS, PC_ETOOBIG);
		rc = field_semantics(ps, &h);
		if (rc != 0)
			return rc;
		msg->hdrs[msg->nhdrs++] = h;
		off += n + 2;
	}

	if (ps->request && msg->version_minor == 1 && ps->nhost == 0)
		return bad(ps, PC_R_HTTP_HOST_MISSING);
	if (!ps->request && ps->nte > 0) {
		/* RFC 9112 6.3: a response whose final coding is not chunked is delimited by
		 * closing the connection; we refuse it rather than read to EOF. */
		if (!ps->te_chunked_last)
			return bad(ps, PC_R_HTTP_TE_BAD);
		msg->flags |= PC_MSG_CHUNKED;
	}
	if (off > INT32_MAX)
		return reject(ps, PC_R_LIMIT_HEADERS, PC_ETOOBIG);
	msg->head_len = off;
	return (int)off;
}

int
pc_h1_parse_request(const char *buf, size_t len, const struct pc_h1_limits *lim,
    struct pc_msg *msg, enum pc_reason *reason)
{
	struct parse ps = { buf, len, lim, msg, reason, true, 0, 0, 0, false };

	return parse_head(&ps);
}

int
pc_h1_parse_response(const char *buf, size_t len, const struct pc_h1_limits *lim,
    struct pc_msg *msg, enum pc_reason *reason)
{
	struct parse ps = { buf, len, lim, msg, reason, false, 0, 0, 0, false };

	return parse_head(&ps);
}

static bool
str_in(struct pc_str s, const char *buf, size_t len)
{
	if (s.ptr == NULL)
		return s.len == 0;
	return s.ptr >= buf && s.len <= len && (size_t)(s.ptr - buf) <= len - s.len;
}

static bool
str_all(struct pc_str s, unsigned mask)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (!is(s.ptr[i], mask))
			return false;
	return true;
}

bool
pc_msg_invariants_ok(const struct pc_msg *msg, const char *buf, size_t len)
{
	size_t	 hl = msg->head_len;
	uint16_t i;
	bool	 request = msg->method.len > 0;

	if (hl < 4 || hl > len || msg->nhdrs > PC_HTTP_HDR_MAX)
		return false;
	if (buf[hl - 4] != '\r' || buf[hl - 3] != '\n' || buf[hl - 2] != '\r' ||
	    buf[hl - 1] != '\n')
		return false;
	if (msg->version_minor != 0 && msg->version_minor != 1)
		return false;
	if (!str_in(msg->method, buf, hl) || !str_in(msg->target, buf, hl) ||
	    !str_in(msg->reason_phrase, buf, hl) || !str_in(msg->host, buf, hl))
		return false;
	if (request) {
		if (!str_all(msg->method, C_TCHAR) || msg->meth != pc_method_from_str(msg->method))
			return false;
		if (msg->target.len == 0 || !str_all(msg->target, C_TARGET))
			return false;
		if (msg->target.ptr[0] != '/' && !(msg->target.len == 1 &&
		    msg->meth == PC_M_OPTIONS))
			return false;
		if (msg->status != 0 || msg->reason_phrase.len != 0)
			return false;
		if (msg->version_minor == 1 && msg->host.len == 0)
			return false;
	} else {
		if (msg->status < 100 || msg->status > 599 || msg->target.len != 0 ||
		    msg->host.len != 0 || !str_all(msg->reason_phrase, C_VALUE))
			return false;
	}
	if ((msg->flags & PC_MSG_CHUNKED) && (msg->flags & PC_MSG_HAS_CL))
		return false;
	if ((msg->flags & PC_MSG_HAS_CL) ? msg->content_length > CL_MAX :
	    msg->content_length != 0)
		return false;
	if ((msg->flags & PC_MSG_CHUNKED) && msg->version_minor == 0)
		return false;
	for (i = 0; i < msg->nhdrs; i++) {
		struct pc_str n = msg->hdrs[i].name, v = msg->hdrs[i].value;

		if (!str_in(n, buf, hl) || !str_in(v, buf, hl) || n.len == 0 ||
		    !str_all(n, C_TCHAR) || !str_all(v, C_VALUE))
			return false;
		if (v.len > 0 && (v.ptr[0] == ' ' || v.ptr[0] == '\t' ||
		    v.ptr[v.len - 1] == ' ' || v.ptr[v.len - 1] == '\t'))
			return false;
	}
	return true;
}
