/*
 * http/h2_msg.c - an HTTP/2 request header list (RFC 9113 8.2, 8.3) -> struct pc_msg, so an
 * HTTP/2 request goes through the same phases, and is forwarded by the same HTTP/1.1
 * serializer, as an HTTP/1.1 one.
 * Owns: what makes an HTTP/2 request malformed, and the translation (pseudo-headers to the
 * request line and Host, split cookies joined). Does not: decode HPACK or frames (libnghttp2
 * does, in proxy/h2.c), or decide policy.
 *
 * nghttp2 validates most of this too; the rules are repeated here so that no HTTP/2 request
 * reaches the pipeline on the strength of a library default, and so the fuzzer can reach
 * them without a session.
 */
#include <string.h>

#include "http/http.h"
#include "http/http_int.h"
#include "core/banned.h"

#define CL_MAX		(UINT64_C(1) << 53)	/* as HTTP/1.1 (h1_parse.c) */
#define COOKIE_MAX	65536u

enum { P_METHOD = 1u, P_SCHEME = 2u, P_AUTHORITY = 4u, P_PATH = 8u };

void
pc_h2_req_init(struct pc_h2_req *r, struct pc_msg *msg, struct pc_arena *a, size_t list_max,
    unsigned count_max)
{
	memset(r, 0, sizeof(*r));
	memset(msg, 0, offsetof(struct pc_msg, hdrs));
	msg->version_minor = 1;
	r->msg = msg;
	r->arena = a;
	r->list_max = list_max;
	r->count_max = count_max < PC_HTTP_HDR_MAX ? count_max : PC_HTTP_HDR_MAX;
}

static int
fail(struct pc_h2_req *r, enum pc_reason reason, int err)
{
	if (r->reason == PC_R_NONE)
		r->reason = reason;
	return err;
}

static bool
has_upper(struct pc_str s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (s.ptr[i] >= 'A' && s.ptr[i] <= 'Z')
			return true;
	return false;
}

/* RFC 9113 8.2.1: no leading or trailing SP/HTAB in a value. */
static bool
value_ok(struct pc_str v)
{
	if (v.len > 0 && (v.ptr[0] == ' ' || v.ptr[0] == '\t' || v.ptr[v.len - 1] == ' ' ||
	    v.ptr[v.len - 1] == '\t'))
		return false;
	return pc_http__value_ok(v);
}

static int
pseudo(struct pc_h2_req *r, struct pc_str name, struct pc_str value)
{
	unsigned bit;

	if (r->regular_seen)	/* RFC 9113 8.3: pseudo-header fields come first */
		return fail(r, PC_R_HTTP_BAD_REQUEST_LINE, -PC_EPROTO);
	if (pc_str_eq(name, PC_STR(":method")))
		bit = P_METHOD;
	else if (pc_str_eq(name, PC_STR(":scheme")))
		bit = P_SCHEME;
	else if (pc_str_eq(name, PC_STR(":authority")))
		bit = P_AUTHORITY;
	else if (pc_str_eq(name, PC_STR(":path")))
		bit = P_PATH;
	else	/* :status in a request, :protocol (no extended CONNECT), anything else */
		return fail(r, PC_R_HTTP_BAD_REQUEST_LINE, -PC_EPROTO);
	if (r->pseudo & bit)
		return fail(r, PC_R_HTTP_BAD_REQUEST_LINE, -PC_EPROTO);
	r->pseudo |= bit;
	switch (bit) {
	case P_METHOD:
		if (!pc_http__token_ok(value))
			return fail(r, PC_R_HTTP_BAD_METHOD, -PC_EPROTO);
		r->msg->method = value;
		r->msg->meth = pc_method_from_str(value);
		break;
	case P_SCHEME:
		if (!pc_str_eq(value, PC_STR("https")) && !pc_str_eq(value, PC_STR("http")))
			return fail(r, PC_R_HTTP_BAD_REQUEST_LINE, -PC_EPROTO);
		break;
	case P_AUTHORITY:
		/* No userinfo: "user@host" is deprecated (RFC 9113 8.3.1) and a classic way
		 * to confuse whatever reads the host next. */
		if (!pc_http__host_ok(value))
			return fail(r, PC_R_HTTP_HOST_BAD, -PC_EPROTO);
		r->authority = value;
		break;
	case P_PATH:
		if (!pc_http__target_ok(value))
			return fail(r, PC_R_HTTP_BAD_TARGET, -PC_EPROTO);
		r->msg->target = value;
		break;
	}
	return 0;
}

/* Fields that mean something to the framing or the connection (RFC 9113 8.2.2). */
static int
regular(struct pc_h2_req *r, struct pc_str name, struct pc_str value)
{
	struct pc_msg	*m = r->msg;
	uint64_t	 cl;

	if (pc_str_eq(name, PC_STR("connection")) || pc_str_eq(name, PC_STR("keep-alive")) ||
	    pc_str_eq(name, PC_STR("proxy-connection")) ||
	    pc_str_eq(name, PC_STR("transfer-encoding")) || pc_str_eq(name, PC_STR("upgrade")))
		return fail(r, PC_R_HTTP_BAD_HEADER, -PC_EPROTO);
	if (pc_str_eq(name, PC_STR("te"))) {
		if (!pc_str_caseeq(value, PC_STR("trailers")))
			return fail(r, PC_R_HTTP_TE_BAD, -PC_EPROTO);
		return 0;	/* hop-by-hop: not forwarded */
	}
	if (pc_str_eq(name, PC_STR("content-length"))) {
		if (m->flags & PC_MSG_HAS_CL)
			return fail(r, PC_R_HTTP_CL_DUP, -PC_EPROTO);
		if (pc_parse_u64(value, CL_MAX, &cl) != 0)
			return fail(r, PC_R_HTTP_CL_BAD, -PC_EPROTO);
		m->flags |= PC_MSG_HAS_CL;
		m->content_length = cl;
		return 0;	/* the serializer writes its own */
	}
	if (pc_str_eq(name, PC_STR("host"))) {
		if (r->host.ptr != NULL)
			return fail(r, PC_R_HTTP_HOST_DUP, -PC_EPROTO);
		if (!pc_http__host_ok(value))
			return fail(r, PC_R_HTTP_HOST_BAD, -PC_EPROTO);
		r->host = value;
		return 0;
	}
	if (pc_str_eq(name, PC_STR("expect"))) {
		/* The gateway never sends 100 (continue) on HTTP/2: the client's DATA flow
		 * control already says "go on". Dropped, like HTTP/1.1's. */
		return 0;
	}
	if (pc_str_eq(name, PC_STR("cookie"))) {
		/* RFC 9113 8.2.3: split crumbs are joined with "; " for HTTP/1.1. */
		r->ncookies++;
		if (r->cookie_bytes + value.len + 2 > COOKIE_MAX)
			return fail(r, PC_R_LIMIT_HEADERS, -PC_ETOOBIG);
		r->cookie_bytes += value.len + 2;
	}
	if (m->nhdrs >= r->count_max)
		return fail(r, PC_R_LIMIT_HEADERS, -PC_ETOOBIG);
	m->hdrs[m->nhdrs].name = name;
	m->hdrs[m->nhdrs].value = value;
	m->nhdrs++;
	return 0;
}

int
pc_h2_req_field(struct pc_h2_req *r, struct pc_str name, struct pc_str value)
{
	/* RFC 9113 6.5.2: the size a field takes in the list is name + value + 32. */
	r->list_bytes += name.len + value.len + 32;
	if (r->list_bytes > r->list_max) {
		/* The size limit overrides an earlier malformation: it is the reason that ends
		 * the connection (an HPACK bomb), and one bad field sent first must not turn
		 * a bomb into a plain 400 on a connection that stays open. */
		r->reason = PC_R_LIMIT_HEADERS;
		return -PC_ETOOBIG;
	}
	if (r->reason != PC_R_NONE)	/* already bad: only the size is still counted */
		return r->reason == PC_R_LIMIT_HEADERS ? -PC_ETOOBIG : -PC_EPROTO;
	if (name.len == 0)
		return fail(r, PC_R_HTTP_BAD_HEADER, -PC_EPROTO);
	if (name.ptr[0] == ':') {
		if (!value_ok(value))
			return fail(r, PC_R_HTTP_BAD_CHAR, -PC_EPROTO);
		return pseudo(r, name, value);
	}
	r->regular_seen = true;
	if (!pc_http__token_ok(name) || has_upper(name))
		return fail(r, PC_R_HTTP_BAD_HEADER, -PC_EPROTO);
	if (!value_ok(value))
		return fail(r, PC_R_HTTP_BAD_CHAR, -PC_EPROTO);
	return regular(r, name, value);
}

/*
 * Several cookie fields become one, in order, in the first one's place. Empty crumbs are
 * left out: joined, they would give "a=1; " or "; ", a value ending in whitespace, which
 * no HTTP/1.1 field value may (RFC 9110 5.5) and which no cookie-string is (RFC 6265 4.2.1).
 */
static int
join_cookies(struct pc_h2_req *r)
{
	struct pc_msg	*m = r->msg;
	struct pc_buf	 b;
	unsigned	 i, j;
	char		*copy;
	int		 rc = 0;
	bool		 first;

	if (r->ncookies < 2)
		return 0;
	pc_buf_init(&b, r->cookie_bytes + 1);
	for (i = 0; i < m->nhdrs; i++) {
		if (!pc_str_eq(m->hdrs[i].name, PC_STR("cookie")) || m->hdrs[i].value.len == 0)
			continue;
		if (b.len > 0)
			rc |= pc_buf_add_str(&b, PC_STR("; "));
		rc |= pc_buf_add_str(&b, m->hdrs[i].value);
	}
	copy = rc == 0 ? pc_arena_strdup(r->arena, pc_str_make((const char *)b.data, b.len)) :
	    NULL;
	if (copy == NULL) {
		/* The request arena's cap: a limit like the others (431), and the same code
		 * a second finish() would return. */
		pc_buf_fini(&b);
		return fail(r, PC_R_LIMIT_HEADERS, -PC_ETOOBIG);
	}
	for (i = j = 0, first = true; i < m->nhdrs; i++) {
		if (pc_str_eq(m->hdrs[i].name, PC_STR("cookie"))) {
			if (!first)
				continue;
			m->hdrs[i].value = pc_str_make(copy, b.len);
			first = false;
		}
		m->hdrs[j++] = m->hdrs[i];
	}
	m->nhdrs = (uint16_t)j;
	pc_buf_fini(&b);
	return 0;
}

int
pc_h2_req_finish(struct pc_h2_req *r, bool end_stream)
{
	struct pc_msg *m = r->msg;

	if (r->reason != PC_R_NONE)
		return r->reason == PC_R_LIMIT_HEADERS ? -PC_ETOOBIG : -PC_EPROTO;
	/* CONNECT (tunnels) is not proxied; every other method needs all three. */
	if (m->meth == PC_M_CONNECT)
		return fail(r, PC_R_HTTP_BAD_METHOD, -PC_EPROTO);
	if ((r->pseudo & (P_METHOD | P_SCHEME | P_PATH)) != (P_METHOD | P_SCHEME | P_PATH))
		return fail(r, PC_R_HTTP_BAD_REQUEST_LINE, -PC_EPROTO);
	if (m->target.ptr[0] != '/' &&
	    !(m->meth == PC_M_OPTIONS && pc_str_eq(m->target, PC_STR("*"))))
		return fail(r, PC_R_HTTP_BAD_TARGET, -PC_EPROTO);
	/* Host and :authority naming two hosts is how a request gets routed by one and
	 * served by another. */
	if (r->authority.ptr != NULL && r->host.ptr != NULL &&
	    !pc_str_caseeq(r->authority, r->host))
		return fail(r, PC_R_HTTP_HOST_BAD, -PC_EPROTO);
	m->host = r->authority.ptr != NULL ? r->authority : r->host;
	if (m->host.ptr == NULL)
		return fail(r, PC_R_HTTP_HOST_MISSING, -PC_EPROTO);
	if (end_stream && (m->flags & PC_MSG_HAS_CL) && m->content_length != 0)
		return fail(r, PC_R_HTTP_CL_BAD, -PC_EPROTO);
	return join_cookies(r);
}
