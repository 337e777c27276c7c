/*
 * http/normalize.c - the normalized view of an origin-form request target (RFC 3986 6.2.2).
 * Owns: raw target -> struct pc_path. Routing, authorization and the upstream all see
 * exactly the path written here, so that no two components can disagree about it.
 * Does not: decode anything but unreserved characters, merge "//", clamp ".." at the root,
 * touch the query beyond splitting it off, allocate, or decide policy.
 * Refuses (fails closed) every form that some server somewhere reads differently from us:
 * encoded '/', '\\' or NUL, raw backslash, controls, bad or non-shortest UTF-8, ".." above
 * the root, and dot segments hidden behind Tomcat-style path parameters ("..;x").
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "http/http.h"
#include "core/banned.h"

/* Per byte: what the path scanner does with it. */
enum {
	CC_BAD = 0,	/* control, space, DEL, >= 0x80, '#': PATH_BAD */
	CC_OK,		/* copied as is */
	CC_PCT,		/* '%' */
	CC_SLASH,	/* '/' */
	CC_BSLASH,	/* '\\' */
};

static const uint8_t cclass[256] = {
	['!'] = CC_OK, ['"'] = CC_OK, ['$'] = CC_OK, ['%'] = CC_PCT, ['&'] = CC_OK,
	['\''] = CC_OK, ['('] = CC_OK, [')'] = CC_OK, ['*'] = CC_OK, ['+'] = CC_OK,
	[','] = CC_OK, ['-'] = CC_OK, ['.'] = CC_OK, ['/'] = CC_SLASH,
	['0'] = CC_OK, ['1'] = CC_OK, ['2'] = CC_OK, ['3'] = CC_OK, ['4'] = CC_OK,
	['5'] = CC_OK, ['6'] = CC_OK, ['7'] = CC_OK, ['8'] = CC_OK, ['9'] = CC_OK,
	[':'] = CC_OK, [';'] = CC_OK, ['<'] = CC_OK, ['='] = CC_OK, ['>'] = CC_OK,
	['@'] = CC_OK,	/* '?' never gets here: the query is split off first */
	['A'] = CC_OK, ['B'] = CC_OK, ['C'] = CC_OK, ['D'] = CC_OK, ['E'] = CC_OK,
	['F'] = CC_OK, ['G'] = CC_OK, ['H'] = CC_OK, ['I'] = CC_OK, ['J'] = CC_OK,
	['K'] = CC_OK, ['L'] = CC_OK, ['M'] = CC_OK, ['N'] = CC_OK, ['O'] = CC_OK,
	['P'] = CC_OK, ['Q'] = CC_OK, ['R'] = CC_OK, ['S'] = CC_OK, ['T'] = CC_OK,
	['U'] = CC_OK, ['V'] = CC_OK, ['W'] = CC_OK, ['X'] = CC_OK, ['Y'] = CC_OK,
	['Z'] = CC_OK, ['['] = CC_OK, ['\\'] = CC_BSLASH, [']'] = CC_OK, ['^'] = CC_OK,
	['_'] = CC_OK, ['`'] = CC_OK,
	['a'] = CC_OK, ['b'] = CC_OK, ['c'] = CC_OK, ['d'] = CC_OK, ['e'] = CC_OK,
	['f'] = CC_OK, ['g'] = CC_OK, ['h'] = CC_OK, ['i'] = CC_OK, ['j'] = CC_OK,
	['k'] = CC_OK, ['l'] = CC_OK, ['m'] = CC_OK, ['n'] = CC_OK, ['o'] = CC_OK,
	['p'] = CC_OK, ['q'] = CC_OK, ['r'] = CC_OK, ['s'] = CC_OK, ['t'] = CC_OK,
	['u'] = CC_OK, ['v'] = CC_OK, ['w'] = CC_OK, ['x'] = CC_OK, ['y'] = CC_OK,
	['z'] = CC_OK, ['{'] = CC_OK, ['|'] = CC_OK, ['}'] = CC_OK, ['~'] = CC_OK,
};

static const char hexdig[16] = "0123456789ABCDEF";

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 3986 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
static bool
is_unreserved(unsigned v)
{
	return (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') || (v >= '0' && v <= '9') ||
	    v == '-' || v == '.' || v == '_' || v == '~';
}

/*
 * Closes the segment dst[<seg>, *<o>) (dst[<seg> - 1] is its '/'), resolving it if it is a
 * dot segment (RFC 3986 5.2.4). <last>: no '/' follows, so a removed dot segment leaves a
 * trailing "/". Returns 0, or -1 if ".." would climb above the root: we reject instead of
 * clamping, because a request that tries it is an attack and the upstream might not clamp.
 * Also -1 for ".;x" and "..;x": Tomcat and Jetty strip path parameters before resolving
 * dots, so "/public/..;/admin" is "/admin" to them and under "/public/" to us.
 */
static int
end_segment(char *dst, size_t seg, size_t *o, bool last)
{
	size_t	len = *o - seg;
	size_t	p;

	if (len == 0 || dst[seg] != '.')
		return 0;
	if (len == 1) {
		*o = last ? seg : seg - 1;
		return 0;
	}
	if (dst[seg + 1] == ';')
		return -1;
	if (dst[seg + 1] != '.')
		return 0;
	if (len > 2)
		return dst[seg + 2] == ';' ? -1 : 0;
	/* "..": drop it together with the previous segment and that segment's '/'. */
	if (seg == 1)
		return -1;
	p = seg - 1;
	while (p > 0 && dst[p - 1] != '/')
		p--;
	*o = last ? p : p - 1;
	return 0;
}

/*
 * UTF-8 lead byte (RFC 3629 4): how many continuation bytes follow and the range allowed for
 * the first one. The narrowed ranges are what exclude overlong forms (C0, C1, E0 80-9F,
 * F0 80-8F), surrogates (ED A0-BF) and code points above U+10FFFF (F4 90+, F5-FF).
 */
static unsigned
utf8_lead(unsigned v, unsigned *lo, unsigned *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (v >= 0xC2 && v <= 0xDF)
		return 1;
	if (v == 0xE0)
		*lo = 0xA0;
	else if (v == 0xED)
		*hi = 0x9F;
	if (v >= 0xE0 && v <= 0xEF)
		return 2;
	if (v == 0xF0)
		*lo = 0x90;
	else if (v == 0xF4)
		*hi = 0x8F;
	if (v >= 0xF0 && v <= 0xF4)
		return 3;
	return 0;
}

static int
fail(enum pc_reason *reason, enum pc_reason r)
{
	*reason = r;
	return -PC_EPROTO;
}

int
pc_path_normalize(struct pc_str target, char *dst, size_t dst_cap, struct pc_path *out,
    enum pc_reason *reason)
{
	const unsigned char	*s = (const unsigned char *)target.ptr;
	const char		*q;
	size_t			 n, i, o, seg, lim;
	unsigned		 need = 0, lo = 0x80, hi = 0xBF, v;
	int			 h1, h2;

	*reason = PC_R_NONE;
	out->path = NULL;
	out->path_len = 0;
	out->query = PC_STR_NULL;
	out->has_query = false;

	q = target.len ? memchr(target.ptr, '?', target.len) : NULL;
	n = q != NULL ? (size_t)(q - target.ptr) : target.len;
	if (q != NULL) {
		out->has_query = true;
		out->query = pc_str_make(q + 1, target.len - n - 1);
	}
	/* Origin-form only: "*" and absolute-form are the parser's business, never a path. */
	if (n == 0 || s[0] != '/' || dst == NULL || dst_cap < 2)
		return fail(reason, PC_R_PATH_BAD);

	lim = dst_cap - 1;	/* room for the NUL; o <= lim holds throughout */
	dst[0] = '/';
	o = seg = 1;
	for (i = 1; i < n; i++) {
		unsigned char c = s[i];

		/* A multi-byte UTF-8 sequence must continue with another %XX, nothing else. */
		if (need > 0 && c != '%')
			return fail(reason, PC_R_PATH_BAD_UTF8);
		switch (cclass[c]) {
		case CC_OK:
			if (o >= lim)
				return fail(reason, PC_R_PATH_BAD);
			dst[o++] = (char)c;
			break;
		case CC_SLASH:
			if (end_segment(dst, seg, &o, false) != 0)
				return fail(reason, PC_R_PATH_TRAVERSAL);
			if (o >= lim)
				return fail(reason, PC_R_PATH_BAD);
			dst[o++] = '/';
			seg = o;
			break;
		case CC_BSLASH:
			/* Windows and some frameworks treat '\\' as '/': a second separator. */
			return fail(reason, PC_R_PATH_BACKSLASH);
		case CC_PCT:
			h1 = n - i >= 3 ? hexval(s[i + 1]) : -1;
			h2 = h1 >= 0 ? hexval(s[i + 2]) : -1;
			if (h2 < 0)
				return fail(reason, PC_R_PATH_BAD_ENCODING);
			i += 2;
			v = (unsigned)(h1 << 4 | h2);
			if (need > 0) {
				if (v < lo || v > hi)
					return fail(reason, PC_R_PATH_BAD_UTF8);
				need--;
				lo = 0x80;
				hi = 0xBF;
			} else if (v >= 0x80) {
				need = utf8_lead(v, &lo, &hi);
				if (need == 0)
					return fail(reason, PC_R_PATH_BAD_UTF8);
			} else if (v == 0) {
				/* C strings upstream end here: "/admin%00.png" is "/admin". */
				return fail(reason, PC_R_PATH_NUL);
			} else if (v == '/' || v == '\\') {
				/* Decoded by some upstreams, not by others: a segment split nobody
				 * agrees on ("/public/..%2fadmin"). */
				return fail(reason, PC_R_PATH_ENCODED_SLASH);
			} else if (v < 0x20 || v == 0x7F) {
				return fail(reason, PC_R_PATH_BAD_ENCODING);
			} else if (is_unreserved(v)) {
				/* RFC 3986 6.2.2.2: "%61" and "a" are the same resource, so
				 * "%2e%2e" is a dot segment and "/%61dmin" is "/admin". */
				if (o >= lim)
					return fail(reason, PC_R_PATH_BAD);
				dst[o++] = (char)v;
				break;
			}
			/* Everything else stays encoded, once, with uppercase hex (6.2.2.1):
			 * "%252e" stays "%252e" (an escaped '%' then "2e"), never a second
			 * decoding into ".". */
			if (lim - o < 3)
				return fail(reason, PC_R_PATH_BAD);
			dst[o++] = '%';
			dst[o++] = hexdig[v >> 4];
			dst[o++] = hexdig[v & 0xF];
			break;
		default:
			/* '#' (a fragment never reaches a server), controls, space, DEL and raw
			 * bytes >= 0x80: the parser refuses them too; we must stand alone. */
			return fail(reason, PC_R_PATH_BAD);
		}
	}
	if (need > 0)
		return fail(reason, PC_R_PATH_BAD_UTF8);
	if (end_segment(dst, seg, &o, true) != 0)
		return fail(reason, PC_R_PATH_TRAVERSAL);
	dst[o] = '\0';
	out->path = dst;
	out->path_len = o;
	return 0;
}
