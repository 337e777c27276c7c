/*
 * fuzz/h2_msg.c - libFuzzer target for the HTTP/2 request header-list builder
 * (pc_h2_req_init/field/finish, http/h2_msg.c), without an nghttp2 session: the fields go
 * in as HPACK would hand them over, already decoded.
 *
 * Input format:
 *   byte 0     options: bit 0 END_STREAM on the HEADERS frame; bit 1 tiny limits (list
 *              512 bytes, 4 fields) instead of roomy ones (16 KiB, 100); bit 2 a 64-byte
 *              request arena (the joined Cookie does not fit); other bits ignored.
 *   the rest   name NUL value NUL name NUL value NUL ... ; a name without its value gets
 *              an empty one. 0x01 escapes the next byte, so "\x01\x00" is a NUL inside a
 *              name or value and "\x01\x01" a 0x01. At most FIELDS_MAX fields.
 * Each name and value is an exact-size heap copy, so ASan sees any read past its end.
 *
 * Properties:
 * - every call returns 0, -PC_EPROTO or -PC_ETOOBIG; once a field is refused every later
 *   one is, and so is the list; the list size is counted to the end (RFC 9113 6.5.2:
 *   name + value + 32), and a list over the limit always ends as PC_R_LIMIT_HEADERS;
 * - the reason is set if and only if there is an error, and of the kind of the error;
 * - an accepted request has a non-empty token method that is not CONNECT, a target that
 *   starts with '/' (or is "*" for OPTIONS), a valid host, at most count_max fields, none
 *   of them a pseudo-header, connection-specific, te, host, content-length or expect, no
 *   uppercase or empty name, no value with a control byte or leading/trailing whitespace,
 *   at most one cookie field; every string but the joined cookie borrows from the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "http/http.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS_MAX	256
#define OPT_END_STREAM	0x01u
#define OPT_TINY	0x02u
#define OPT_TINY_ARENA	0x04u
#define ESC		0x01

struct field {
	char	*n, *v;
	size_t	 nlen, vlen;
};

static struct field	 fields[FIELDS_MAX];
static struct pc_msg	 msg;

/* Unescapes one NUL-terminated token of <in> from *<pos> into a new exact-size copy. */
static char *
token(const uint8_t *in, size_t len, size_t *pos, size_t *out_len)
{
	size_t	 i = *pos, n = 0, k;
	char	*s;

	/* First pass: the length, so the copy is exactly that big. */
	for (k = i; k < len && in[k] != 0; k++, n++)
		if (in[k] == ESC && k + 1 < len)
			k++;
	s = malloc(n ? n : 1);
	if (s == NULL)
		abort();
	for (n = 0; i < len && in[i] != 0; i++) {
		if (in[i] == ESC && i + 1 < len)
			i++;
		s[n++] = (char)in[i];
	}
	*pos = i < len ? i + 1 : i;	/* past the NUL */
	*out_len = n;
	return s;
}

static bool
in_field(struct pc_str s, size_t nf)
{
	size_t i;

	for (i = 0; i < nf; i++) {
		if (s.ptr >= fields[i].n && s.ptr + s.len <= fields[i].n + fields[i].nlen)
			return true;
		if (s.ptr >= fields[i].v && s.ptr + s.len <= fields[i].v + fields[i].vlen)
			return true;
	}
	return false;
}

static bool
is_token(struct pc_str s)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	size_t i;

	if (s.len == 0)
		return false;
	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c != 0 && memchr(tchar, c, sizeof(tchar) - 1) != NULL)))
			return false;
	}
	return true;
}

/* RFC 9110 5.5 field value as forwarded: VCHAR, obs-text, SP, HTAB, none at either end. */
static bool
value_ok(struct pc_str v)
{
	size_t i;

	for (i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.ptr[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return v.len == 0 || (v.ptr[0] != ' ' && v.ptr[0] != '\t' && v.ptr[v.len - 1] != ' ' &&
	    v.ptr[v.len - 1] != '\t');
}

static bool
name_is(struct pc_str n, const char *lit)
{
	return pc_str_caseeq(n, pc_str_c(lit));
}

static void
check_ok(const struct pc_h2_req *r, size_t nf, unsigned count_max)
{
	static const char *const gone[] = {
		"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
		"te", "host", "content-length", "expect",
	};
	unsigned	i, j, cookies = 0;

	PC_ASSERT(r->reason == PC_R_NONE);
	PC_ASSERT(r->list_bytes <= r->list_max);
	PC_ASSERT(is_token(msg.method) && in_field(msg.method, nf));
	PC_ASSERT(msg.meth == pc_method_from_str(msg.method) && msg.meth != PC_M_CONNECT);
	PC_ASSERT(msg.target.len > 0 && in_field(msg.target, nf));
	PC_ASSERT(msg.target.ptr[0] == '/' ||
	    (msg.meth == PC_M_OPTIONS && pc_str_eq(msg.target, PC_STR("*"))));
	PC_ASSERT(memchr(msg.target.ptr, '#', msg.target.len) == NULL);
	PC_ASSERT(msg.host.len > 0 && in_field(msg.host, nf));
	PC_ASSERT(memchr(msg.host.ptr, '@', msg.host.len) == NULL);
	PC_ASSERT(value_ok(msg.host) && memchr(msg.host.ptr, ' ', msg.host.len) == NULL);
	PC_ASSERT(msg.version_minor == 1 && msg.status == 0 && msg.reason_phrase.len == 0);
	PC_ASSERT((msg.flags & ~PC_MSG_HAS_CL) == 0);
	PC_ASSERT((msg.flags & PC_MSG_HAS_CL) || msg.content_length == 0);
	PC_ASSERT(msg.nhdrs <= count_max && msg.nhdrs <= PC_HTTP_HDR_MAX);
	for (i = 0; i < msg.nhdrs; i++) {
		struct pc_str n = msg.hdrs[i].name, v = msg.hdrs[i].value;

		PC_ASSERT(is_token(n) && in_field(n, nf));
		for (j = 0; j < n.len; j++)
			PC_ASSERT(!(n.ptr[j] >= 'A' && n.ptr[j] <= 'Z'));
		for (j = 0; j < PC_NELEM(gone); j++)
			PC_ASSERT(!name_is(n, gone[j]));
		PC_ASSERT(value_ok(v));
		if (name_is(n, "cookie"))
			cookies++;
		else
			PC_ASSERT(in_field(v, nf));	/* only the joined cookie is a copy */
	}
	PC_ASSERT(cookies <= 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_h2_req	 r;
	struct pc_arena		*a;
	size_t			 pos = 1, nf = 0, i, list = 0;
	size_t			 list_max;
	unsigned		 count_max, opt;
	int			 rc, first = 0;
	bool			 es;

	if (size == 0)
		return 0;
	opt = data[0];
	es = (opt & OPT_END_STREAM) != 0;
	list_max = (opt & OPT_TINY) ? 512 : 16384;
	count_max = (opt & OPT_TINY) ? 4 : 100;
	while (pos < size && nf < FIELDS_MAX) {
		fields[nf].n = token(data, size, &pos, &fields[nf].nlen);
		fields[nf].v = token(data, size, &pos, &fields[nf].vlen);
		nf++;
	}
	a = pc_arena_new((opt & OPT_TINY_ARENA) ? 64 : 256 * 1024);
	if (a == NULL)
		abort();
	pc_h2_req_init(&r, &msg, a, list_max, count_max);
	for (i = 0; i < nf; i++) {
		rc = pc_h2_req_field(&r, pc_str_make(fields[i].n, fields[i].nlen),
		    pc_str_make(fields[i].v, fields[i].vlen));
		list += fields[i].nlen + fields[i].vlen + 32;
		PC_ASSERT(rc == 0 || rc == -PC_EPROTO || rc == -PC_ETOOBIG);
		PC_ASSERT((rc == 0) == (r.reason == PC_R_NONE));
		PC_ASSERT(first == 0 || rc != 0);	/* refused once, refused to the end */
		PC_ASSERT(rc != -PC_ETOOBIG || r.reason == PC_R_LIMIT_HEADERS);
		if (first == 0)
			first = rc;
		PC_ASSERT(r.list_bytes == list);
		if (list > list_max)
			PC_ASSERT(rc == -PC_ETOOBIG);
	}
	rc = pc_h2_req_finish(&r, es);
	PC_ASSERT(rc == 0 || rc == -PC_EPROTO || rc == -PC_ETOOBIG);
	PC_ASSERT((rc == 0) == (r.reason == PC_R_NONE));
	PC_ASSERT(first == 0 || rc != 0);
	if (rc == -PC_ETOOBIG)
		PC_ASSERT(r.reason == PC_R_LIMIT_HEADERS);
	else if (rc == -PC_EPROTO)
		PC_ASSERT(r.reason >= PC_R_HTTP_BAD_REQUEST_LINE &&
		    r.reason <= PC_R_HTTP_EXPECT_BAD);
	else
		check_ok(&r, nf, count_max);
	if (list > list_max)
		PC_ASSERT(rc == -PC_ETOOBIG && r.reason == PC_R_LIMIT_HEADERS);
	pc_arena_free(a);
	for (i = 0; i < nf; i++) {
		free(fields[i].n);
		free(fields[i].v);
	}
	return 0;
}
