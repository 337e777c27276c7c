/*
 * tests/unit/http/test_normalize.c - pc_path_normalize(): one table row per attack or rule,
 * the output invariants and idempotence on every accepted row, exact buffer bounds, and a
 * seeded random property run over the tokens attackers combine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"
#include "core/banned.h"

#define OK	PC_R_NONE

static const struct {
	struct pc_str	 in;
	enum pc_reason	 want;		/* PC_R_NONE: accepted */
	const char	*out;		/* expected path when accepted */
	const char	*why;		/* the rule or attack the row stands for */
} cases[] = {
	/* plain paths pass through unchanged */
	{ PC_STR_INIT("/"), OK, "/", "root" },
	{ PC_STR_INIT("/a"), OK, "/a", "one segment" },
	{ PC_STR_INIT("/a/b/c"), OK, "/a/b/c", "several segments" },
	{ PC_STR_INIT("/a/"), OK, "/a/", "trailing slash kept" },
	{ PC_STR_INIT("/a//b"), OK, "/a//b", "empty segment kept (meaningful upstream)" },
	{ PC_STR_INIT("//"), OK, "//", "only empty segments" },
	{ PC_STR_INIT("/a:b@c!$&'()*+,;="), OK, "/a:b@c!$&'()*+,;=", "sub-delims, ':' '@'" },
	{ PC_STR_INIT("/a.b/.c/..d/.../d.."), OK, "/a.b/.c/..d/.../d..",
	    "dots inside names are not dot segments" },
	{ PC_STR_INIT("/\"<>[]^`{|}"), OK, "/\"<>[]^`{|}", "other visible ASCII kept raw" },
	/* dot segments (RFC 3986 5.2.4) */
	{ PC_STR_INIT("/a/./b/../c"), OK, "/a/c", "dot segments resolved" },
	{ PC_STR_INIT("/."), OK, "/", "'/.' at the root" },
	{ PC_STR_INIT("/./"), OK, "/", "'/./' at the root" },
	{ PC_STR_INIT("/./a"), OK, "/a", "leading '.'" },
	{ PC_STR_INIT("/a/."), OK, "/a/", "trailing '/.' leaves '/'" },
	{ PC_STR_INIT("/a/.."), OK, "/", "trailing '/..' leaves '/'" },
	{ PC_STR_INIT("/a/b/.."), OK, "/a/", "trailing '/..' keeps parent's slash" },
	{ PC_STR_INIT("/a/b/../"), OK, "/a/", "'..' then '/'" },
	{ PC_STR_INIT("/a/b/../../c"), OK, "/c", "two levels up, still inside" },
	{ PC_STR_INIT("/a//../b"), OK, "/a/b", "'..' removes the empty segment" },
	{ PC_STR_INIT("//.."), OK, "/", "'..' removes the leading empty segment" },
	{ PC_STR_INIT("/a/././."), OK, "/a/", "repeated '.'" },
	{ PC_STR_INIT("/admin/../public"), OK, "/public", "dots move to another route" },
	{ PC_STR_INIT("/public/../admin"), OK, "/admin", "dots into a protected route" },
	/* dot segments produced by decoding */
	{ PC_STR_INIT("/a/%2e%2E/b"), OK, "/b", "encoded '..' is '..'" },
	{ PC_STR_INIT("/%2e/a"), OK, "/a", "encoded '.'" },
	{ PC_STR_INIT("/a/.%2e"), OK, "/", "half-encoded '..'" },
	{ PC_STR_INIT("/a/%2E."), OK, "/", "other half encoded" },
	{ PC_STR_INIT("/a/b/%2E%2E/%2e%2e/c"), OK, "/c", "two encoded '..'" },
	{ PC_STR_INIT("/admin/%2e%2e/public"), OK, "/public", "encoded dots leave /admin" },
	{ PC_STR_INIT("/public/%2e%2e/admin"), OK, "/admin", "encoded dots reach /admin" },
	/* climbing above the root: rejected, never clamped */
	{ PC_STR_INIT("/.."), PC_R_PATH_TRAVERSAL, NULL, "'..' at the root" },
	{ PC_STR_INIT("/../a"), PC_R_PATH_TRAVERSAL, NULL, "'..' first" },
	{ PC_STR_INIT("/a/../.."), PC_R_PATH_TRAVERSAL, NULL, "one '..' too many" },
	{ PC_STR_INIT("/a/../../etc/passwd"), PC_R_PATH_TRAVERSAL, NULL, "classic traversal" },
	{ PC_STR_INIT("/a/%2e%2e/%2e%2e/etc/passwd"), PC_R_PATH_TRAVERSAL, NULL,
	    "encoded traversal" },
	{ PC_STR_INIT("/%2e%2e/"), PC_R_PATH_TRAVERSAL, NULL, "encoded '..' at the root" },
	{ PC_STR_INIT("/%2E%2E"), PC_R_PATH_TRAVERSAL, NULL, "uppercase encoded '..'" },
	{ PC_STR_INIT("/.%2e/"), PC_R_PATH_TRAVERSAL, NULL, "half-encoded '..' at the root" },
	{ PC_STR_INIT("/./../x"), PC_R_PATH_TRAVERSAL, NULL, "'.' then '..'" },
	{ PC_STR_INIT("//../.."), PC_R_PATH_TRAVERSAL, NULL, "empty segment cannot absorb two" },
	/* dot segments behind path parameters (Tomcat/Jetty strip ";...") */
	{ PC_STR_INIT("/public/..;/admin"), PC_R_PATH_TRAVERSAL, NULL, "Tomcat '..;'" },
	{ PC_STR_INIT("/public/%2e%2e;/admin"), PC_R_PATH_TRAVERSAL, NULL, "encoded '..;'" },
	{ PC_STR_INIT("/a/..;x=1/b"), PC_R_PATH_TRAVERSAL, NULL, "'..;param'" },
	{ PC_STR_INIT("/a/.;/b"), PC_R_PATH_TRAVERSAL, NULL, "'.;'" },
	{ PC_STR_INIT("/a/..;"), PC_R_PATH_TRAVERSAL, NULL, "trailing '..;'" },
	{ PC_STR_INIT("/a/x;/..%3B"), OK, "/a/x;/..%3B", "encoded ';' is not a parameter" },
	/* encoded separators and NUL */
	{ PC_STR_INIT("/..%2f"), PC_R_PATH_ENCODED_SLASH, NULL, "encoded '/' after '..'" },
	{ PC_STR_INIT("/..%2F..%2Fetc"), PC_R_PATH_ENCODED_SLASH, NULL, "encoded '/' (upper)" },
	{ PC_STR_INIT("/admin%2f..%2fpublic"), PC_R_PATH_ENCODED_SLASH, NULL,
	    "hides '/admin' inside one segment" },
	{ PC_STR_INIT("/public/..%2fadmin"), PC_R_PATH_ENCODED_SLASH, NULL, "split mismatch" },
	{ PC_STR_INIT("/a%5cb"), PC_R_PATH_ENCODED_SLASH, NULL, "encoded '\\'" },
	{ PC_STR_INIT("/..%5C"), PC_R_PATH_ENCODED_SLASH, NULL, "encoded '\\' (upper)" },
	{ PC_STR_INIT("/a%00"), PC_R_PATH_NUL, NULL, "encoded NUL" },
	{ PC_STR_INIT("/admin%00.png"), PC_R_PATH_NUL, NULL, "NUL truncation" },
	{ PC_STR_INIT("/a\\b"), PC_R_PATH_BACKSLASH, NULL, "raw backslash" },
	{ PC_STR_INIT("/..\\admin"), PC_R_PATH_BACKSLASH, NULL, "Windows-style traversal" },
	/* double encoding: decoded once only */
	{ PC_STR_INIT("/%252e%252e/"), OK, "/%252e%252e/", "double-encoded '..' stays" },
	{ PC_STR_INIT("/%252E%252E/x/.."), OK, "/%252E%252E/", "double-encoded, upper" },
	{ PC_STR_INIT("/%252f"), OK, "/%252f", "double-encoded '/' stays" },
	{ PC_STR_INIT("/%25%32%65"), OK, "/%252e", "'%' kept, digits decoded: no new escape" },
	{ PC_STR_INIT("/%25"), OK, "/%25", "encoded '%'" },
	/* unreserved decoded, the rest kept encoded with uppercase hex */
	{ PC_STR_INIT("/%61dmin"), OK, "/admin", "encoded letter is the letter" },
	{ PC_STR_INIT("/%41%5a%30%39%2D%5F%7e"), OK, "/AZ09-_~", "all unreserved classes" },
	{ PC_STR_INIT("/%4a%4B"), OK, "/JK", "mixed-case hex" },
	{ PC_STR_INIT("/a%20b"), OK, "/a%20b", "space stays encoded" },
	{ PC_STR_INIT("/a%3a%3A"), OK, "/a%3A%3A", "reserved stays encoded, hex uppercased" },
	{ PC_STR_INIT("/a%3f%23"), OK, "/a%3F%23", "encoded '?' and '#' stay encoded" },
	{ PC_STR_INIT("/a%3b"), OK, "/a%3B", "encoded ';'" },
	{ PC_STR_INIT("/%7b%7D"), OK, "/%7B%7D", "encoded braces" },
	/* percent-encoding syntax and decoded controls */
	{ PC_STR_INIT("/a%"), PC_R_PATH_BAD_ENCODING, NULL, "lone '%'" },
	{ PC_STR_INIT("/a%2"), PC_R_PATH_BAD_ENCODING, NULL, "one hex digit" },
	{ PC_STR_INIT("/a%zz"), PC_R_PATH_BAD_ENCODING, NULL, "not hex" },
	{ PC_STR_INIT("/a%g0"), PC_R_PATH_BAD_ENCODING, NULL, "first digit not hex" },
	{ PC_STR_INIT("/a%0g"), PC_R_PATH_BAD_ENCODING, NULL, "second digit not hex" },
	{ PC_STR_INIT("/a%%30"), PC_R_PATH_BAD_ENCODING, NULL, "'%%' is not an escape" },
	{ PC_STR_INIT("/a%2?x"), PC_R_PATH_BAD_ENCODING, NULL, "escape cut by the query" },
	{ PC_STR_INIT("/a%01"), PC_R_PATH_BAD_ENCODING, NULL, "encoded control" },
	{ PC_STR_INIT("/a%0d%0aSet-Cookie:x"), PC_R_PATH_BAD_ENCODING, NULL, "CRLF injection" },
	{ PC_STR_INIT("/a%09"), PC_R_PATH_BAD_ENCODING, NULL, "encoded tab" },
	{ PC_STR_INIT("/a%1F"), PC_R_PATH_BAD_ENCODING, NULL, "encoded US" },
	{ PC_STR_INIT("/a%7f"), PC_R_PATH_BAD_ENCODING, NULL, "encoded DEL" },
	/* UTF-8: valid shortest form only */
	{ PC_STR_INIT("/caf%c3%a9"), OK, "/caf%C3%A9", "2-byte" },
	{ PC_STR_INIT("/%E2%82%AC"), OK, "/%E2%82%AC", "3-byte (euro)" },
	{ PC_STR_INIT("/%F0%9F%98%80"), OK, "/%F0%9F%98%80", "4-byte (emoji)" },
	{ PC_STR_INIT("/%C2%80%DF%BF"), OK, "/%C2%80%DF%BF", "2-byte bounds" },
	{ PC_STR_INIT("/%E0%A0%80%EF%BF%BF"), OK, "/%E0%A0%80%EF%BF%BF", "3-byte bounds" },
	{ PC_STR_INIT("/%ED%9F%BF%EE%80%80"), OK, "/%ED%9F%BF%EE%80%80", "around surrogates" },
	{ PC_STR_INIT("/%F0%90%80%80%F4%8F%BF%BF"), OK, "/%F0%90%80%80%F4%8F%BF%BF",
	    "4-byte bounds, U+10FFFF" },
	{ PC_STR_INIT("/a%c0%af"), PC_R_PATH_BAD_UTF8, NULL, "overlong '/' (IIS)" },
	{ PC_STR_INIT("/%c0%ae%c0%ae/"), PC_R_PATH_BAD_UTF8, NULL, "overlong '..'" },
	{ PC_STR_INIT("/a%c1%bf"), PC_R_PATH_BAD_UTF8, NULL, "overlong 2-byte (C1)" },
	{ PC_STR_INIT("/a%e0%80%af"), PC_R_PATH_BAD_UTF8, NULL, "overlong 3-byte '/'" },
	{ PC_STR_INIT("/a%e0%9f%bf"), PC_R_PATH_BAD_UTF8, NULL, "overlong 3-byte, top" },
	{ PC_STR_INIT("/a%f0%80%80%af"), PC_R_PATH_BAD_UTF8, NULL, "overlong 4-byte '/'" },
	{ PC_STR_INIT("/a%f0%8f%bf%bf"), PC_R_PATH_BAD_UTF8, NULL, "overlong 4-byte, top" },
	{ PC_STR_INIT("/a%ed%a0%80"), PC_R_PATH_BAD_UTF8, NULL, "surrogate D800" },
	{ PC_STR_INIT("/a%ed%bf%bf"), PC_R_PATH_BAD_UTF8, NULL, "surrogate DFFF" },
	{ PC_STR_INIT("/a%f4%90%80%80"), PC_R_PATH_BAD_UTF8, NULL, "above U+10FFFF" },
	{ PC_STR_INIT("/a%f5%80%80%80"), PC_R_PATH_BAD_UTF8, NULL, "lead F5" },
	{ PC_STR_INIT("/a%ff"), PC_R_PATH_BAD_UTF8, NULL, "lead FF" },
	{ PC_STR_INIT("/a%80"), PC_R_PATH_BAD_UTF8, NULL, "lone continuation" },
	{ PC_STR_INIT("/a%c3"), PC_R_PATH_BAD_UTF8, NULL, "truncated at end" },
	{ PC_STR_INIT("/a%c3/b"), PC_R_PATH_BAD_UTF8, NULL, "truncated by '/'" },
	{ PC_STR_INIT("/a%c3a"), PC_R_PATH_BAD_UTF8, NULL, "continued by raw byte" },
	{ PC_STR_INIT("/a%c3?x"), PC_R_PATH_BAD_UTF8, NULL, "truncated by the query" },
	{ PC_STR_INIT("/a%e2%82"), PC_R_PATH_BAD_UTF8, NULL, "3-byte truncated" },
	{ PC_STR_INIT("/a%f0%9f%98"), PC_R_PATH_BAD_UTF8, NULL, "4-byte truncated" },
	{ PC_STR_INIT("/a%c3%c3%a9"), PC_R_PATH_BAD_UTF8, NULL, "lead where continuation due" },
	{ PC_STR_INIT("/a%c3%2f"), PC_R_PATH_BAD_UTF8, NULL, "'/' where continuation due" },
	{ PC_STR_INIT("/a%c3%61"), PC_R_PATH_BAD_UTF8, NULL, "ASCII where continuation due" },
	/* raw bytes */
	{ PC_STR_INIT("/a b"), PC_R_PATH_BAD, NULL, "raw space" },
	{ PC_STR_INIT("/a\tb"), PC_R_PATH_BAD, NULL, "raw tab" },
	{ PC_STR_INIT("/a\r\nX: y"), PC_R_PATH_BAD, NULL, "raw CRLF" },
	{ PC_STR_INIT("/a\0b"), PC_R_PATH_BAD, NULL, "raw NUL" },
	{ PC_STR_INIT("/a\x7f"), PC_R_PATH_BAD, NULL, "raw DEL" },
	{ PC_STR_INIT("/caf\xc3\xa9"), PC_R_PATH_BAD, NULL, "raw UTF-8" },
	{ PC_STR_INIT("/a\xff"), PC_R_PATH_BAD, NULL, "raw 0xFF" },
	{ PC_STR_INIT("/a#frag"), PC_R_PATH_BAD, NULL, "fragment" },
	{ PC_STR_INIT("/#"), PC_R_PATH_BAD, NULL, "bare '#'" },
	/* not origin-form */
	{ PC_STR_INIT(""), PC_R_PATH_BAD, NULL, "empty" },
	{ PC_STR_INIT("*"), PC_R_PATH_BAD, NULL, "asterisk-form" },
	{ PC_STR_INIT("a/b"), PC_R_PATH_BAD, NULL, "relative" },
	{ PC_STR_INIT("http://x/admin"), PC_R_PATH_BAD, NULL, "absolute-form" },
	{ PC_STR_INIT("?a=b"), PC_R_PATH_BAD, NULL, "query only" },
	{ PC_STR_INIT("%2fadmin"), PC_R_PATH_BAD, NULL, "encoded leading '/'" },
	{ PC_STR_INIT("\\admin"), PC_R_PATH_BAD, NULL, "backslash first" },
	/* the query is split off at the first '?' and never looked into */
	{ PC_STR_INIT("/a?b=c"), OK, "/a", "query split" },
	{ PC_STR_INIT("/a?"), OK, "/a", "empty query" },
	{ PC_STR_INIT("/a/..?x/../y"), OK, "/", "dots in query untouched" },
	{ PC_STR_INIT("/a?%zz%00#\\"), OK, "/a", "query is raw" },
	{ PC_STR_INIT("/a?b?c"), OK, "/a", "second '?' belongs to the query" },
};

/* Checks every promise the output makes; returns NULL or what is wrong. */
static const char *
invariant_violation(const struct pc_path *p, size_t in_len)
{
	size_t	i;

	if (p->path == NULL || p->path_len == 0 || p->path[0] != '/')
		return "does not start with '/'";
	if (strlen(p->path) != p->path_len)
		return "length or NUL wrong";
	if (p->path_len > in_len)
		return "longer than the input";
	for (i = 0; i < p->path_len; i++) {
		unsigned char	c = (unsigned char)p->path[i];
		unsigned	v;

		if (c < 0x21 || c > 0x7E || c == '\\' || c == '#' || c == '?')
			return "forbidden raw byte";
		if (c == '/') {
			const char *s = p->path + i + 1;
			size_t rest = p->path_len - i - 1;

			if ((rest >= 1 && s[0] == '.' && (rest == 1 || s[1] == '/')) ||
			    (rest >= 2 && s[0] == '.' && s[1] == '.' && (rest == 2 || s[2] == '/')))
				return "dot segment left";
		}
		if (c != '%')
			continue;
		if (p->path_len - i < 3 || strchr("0123456789ABCDEF", p->path[i + 1]) == NULL ||
		    strchr("0123456789ABCDEF", p->path[i + 2]) == NULL ||
		    p->path[i + 1] == '\0' || p->path[i + 2] == '\0')
			return "escape not two uppercase hex digits";
		v = (unsigned)strtoul((char[3]){ p->path[i + 1], p->path[i + 2], 0 }, NULL, 16);
		if (v == 0 || v == '/' || v == '\\' || v < 0x20 || v == 0x7F)
			return "forbidden encoded byte";
		if ((v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') || (v >= '0' && v <= '9') ||
		    v == '-' || v == '.' || v == '_' || v == '~')
			return "decodable unreserved escape left";
	}
	return NULL;
}

static void
test_table(void **state)
{
	char		 dst[256], again[256];
	struct pc_path	 p, p2;
	enum pc_reason	 r;
	size_t		 i;
	int		 rc;
	const char	*bad;

	(void)state;
	for (i = 0; i < PC_NELEM(cases); i++) {
		memset(dst, 'X', sizeof(dst));
		rc = pc_path_normalize(cases[i].in, dst, sizeof(dst), &p, &r);
		if (r != cases[i].want || (rc == 0) != (cases[i].want == OK))
			fail_msg("row %zu (%s) \"%.*s\": got %s rc %d, want %s", i, cases[i].why,
			    PC_STR_FMT(cases[i].in), pc_reason_name(r), rc,
			    pc_reason_name(cases[i].want));
		if (rc != 0) {
			assert_int_equal(rc, -PC_EPROTO);
			assert_int_equal(pc_reason_status(r), 400);
			continue;
		}
		if (strcmp(p.path, cases[i].out) != 0)
			fail_msg("row %zu (%s): got \"%s\", want \"%s\"", i, cases[i].why, p.path,
			    cases[i].out);
		bad = invariant_violation(&p, cases[i].in.len);
		if (bad != NULL)
			fail_msg("row %zu (%s): %s", i, cases[i].why, bad);
		/* Idempotence: the upstream could normalize again and must see the same. */
		rc = pc_path_normalize(pc_str_make(p.path, p.path_len), again, sizeof(again), &p2,
		    &r);
		assert_int_equal(rc, 0);
		assert_string_equal(p2.path, p.path);
	}
}

static void
test_query(void **state)
{
	char		 dst[64];
	struct pc_path	 p;
	enum pc_reason	 r;

	(void)state;
	assert_int_equal(pc_path_normalize(PC_STR("/a/./b?x=%2f&y=/../#"), dst, sizeof(dst), &p,
	    &r), 0);
	assert_string_equal(p.path, "/a/b");
	assert_true(p.has_query);
	assert_true(pc_str_eq(p.query, PC_STR("x=%2f&y=/../#")));

	assert_int_equal(pc_path_normalize(PC_STR("/a?"), dst, sizeof(dst), &p, &r), 0);
	assert_true(p.has_query);
	assert_int_equal(p.query.len, 0);

	assert_int_equal(pc_path_normalize(PC_STR("/a"), dst, sizeof(dst), &p, &r), 0);
	assert_false(p.has_query);
	assert_int_equal(p.query.len, 0);
	assert_int_equal(r, PC_R_NONE);

	/* On failure nothing half-written is exposed. */
	assert_int_equal(pc_path_normalize(PC_STR("/a/../..?q"), dst, sizeof(dst), &p, &r),
	    -PC_EPROTO);
	assert_null(p.path);
	assert_int_equal(r, PC_R_PATH_TRAVERSAL);
}

static void
test_bounds(void **state)
{
	char		*dst;
	struct pc_path	 p;
	enum pc_reason	 r;
	size_t		 cap;
	static const struct {
		const char	*in;
		const char	*out;
	} b[] = {
		{ "/", "/" }, { "/abc/def", "/abc/def" }, { "/%61%62", "/ab" },
		{ "/a%20b", "/a%20b" }, { "/a/b/../c", "/a/c" }, { "/x/%e2%82%ac", "/x/%E2%82%AC" },
		{ "/a/.", "/a/" },
	};
	size_t		 i;

	(void)state;
	for (i = 0; i < PC_NELEM(b); i++) {
		size_t inlen = strlen(b[i].in), outlen = strlen(b[i].out);

		/* Exact-size heap buffers so ASan sees any write past the capacity. */
		for (cap = 0; cap <= inlen + 1; cap++) {
			dst = malloc(cap ? cap : 1);
			assert_non_null(dst);
			if (pc_path_normalize(pc_str_c(b[i].in), cap ? dst : NULL, cap, &p, &r) == 0) {
				assert_true(cap >= outlen + 1);
				assert_string_equal(p.path, b[i].out);
			} else {
				assert_int_equal(r, PC_R_PATH_BAD);
			}
			free(dst);
		}
		/* target.len + 1 always suffices. */
		dst = malloc(inlen + 1);
		assert_non_null(dst);
		assert_int_equal(pc_path_normalize(pc_str_c(b[i].in), dst, inlen + 1, &p, &r), 0);
		free(dst);
	}
}

/*
 * Random property run: paths built from the pieces attackers combine. Every accepted output
 * satisfies the invariants and is a fixed point.
 */
static void
test_random_properties(void **state)
{
	static const char *const tok[] = {
		"/", "/", "/", "a", "b", "admin", ".", "..", "%2e", "%2E", "%2f", "%5c", "%00",
		"%25", "%61", "%20", "%7E", "%c3", "%a9", "%e2", "%82", "%ac", "%ed", "%a0",
		"%80", "%f0", "%9f", "%c0", "%af", ";", "..;", "\\", "?", "#", "%", "%4", "~", "-",
		"%3A", "%3a", "%ff",
	};
	char		 in[128], dst[128], again[128];
	struct pc_path	 p, p2;
	enum pc_reason	 r;
	unsigned	 seed = 12345, iter, accepted = 0;
	size_t		 len, k, t, ntok;
	const char	*bad;

	(void)state;
	for (iter = 0; iter < 200000; iter++) {
		in[0] = '/';
		len = 1;
		seed = seed * 1103515245u + 12345u;
		ntok = 1 + (seed >> 16) % 12;
		for (k = 0; k < ntok; k++) {
			seed = seed * 1103515245u + 12345u;
			t = strlen(tok[(seed >> 8) % PC_NELEM(tok)]);
			if (len + t >= sizeof(in))
				break;
			memcpy(in + len, tok[(seed >> 8) % PC_NELEM(tok)], t);
			len += t;
		}
		if (pc_path_normalize(pc_str_make(in, len), dst, sizeof(dst), &p, &r) != 0) {
			assert_true(r >= PC_R_PATH_BAD_ENCODING && r <= PC_R_PATH_BAD);
			continue;
		}
		accepted++;
		bad = invariant_violation(&p, len);
		if (bad != NULL)
			fail_msg("\"%.*s\" -> \"%s\": %s", (int)len, in, p.path, bad);
		assert_int_equal(pc_path_normalize(pc_str_make(p.path, p.path_len), again,
		    sizeof(again), &p2, &r), 0);
		if (strcmp(p2.path, p.path) != 0)
			fail_msg("not idempotent: \"%.*s\" -> \"%s\" -> \"%s\"", (int)len, in,
			    p.path, p2.path);
	}
	/* The generator must exercise the accepting paths too, not only rejections. */
	assert_true(accepted > 10000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_random_properties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
