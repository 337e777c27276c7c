/*
 * tests/unit/http/test_chunked.c - the chunked decoder: valid framings, every refused shape
 * (TE.CL-style size/data disagreements, signs, "0x", whitespace, bare CR/LF, bad
 * extensions and trailers) and the limits. Every case is decoded in one piece, one byte at
 * a time, and split at every position; all must agree on the result, the bytes consumed
 * and the decoded data. Each call gets an exact-size heap copy so ASan sees overreads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/chunked.c"

struct ccase {
	const char	*name;		/* the rule or attack the case covers */
	struct pc_str	 in;
	int		 rc;		/* 1 complete, 0 needs more, or -PC_E* */
	struct pc_str	 data;		/* decoded body (complete or so far) */
	size_t		 rest;		/* bytes after the message left unconsumed */
};

#define DONE(n, s, d)		{ n, PC_STR_INIT(s), 1, PC_STR_INIT(d), 0 }
#define DONE_REST(n, s, d, r)	{ n, PC_STR_INIT(s), 1, PC_STR_INIT(d), r }
#define MORE(n, s, d)		{ n, PC_STR_INIT(s), 0, PC_STR_INIT(d), 0 }
#define BAD(n, s)		{ n, PC_STR_INIT(s), -PC_EPROTO, PC_STR_INIT(""), 0 }
#define BAD_D(n, s, d)		{ n, PC_STR_INIT(s), -PC_EPROTO, PC_STR_INIT(d), 0 }

static const struct ccase cases[] = {
	DONE("empty body", "0\r\n\r\n", ""),
	DONE("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"),
	DONE("two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"),
	DONE("hex both cases", "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n",
	    "0123456789abcdefghij"),
	DONE("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"),
	DONE("16 digits", "0000000000000005\r\nhello\r\n0\r\n\r\n", "hello"),
	DONE("CRLF and NUL inside data", "4\r\n\r\n\0\n\r\n0\r\n\r\n", "\r\n\0\n"),
	DONE("extension token", "5;a=b\r\nhello\r\n0;x\r\n\r\n", "hello"),
	DONE("extension with BWS", "5 ; a = b ;c\t;d\r\nhello\r\n0\r\n\r\n", "hello"),
	DONE("extension quoted", "5;a=\"q\\\"x y;=\"\r\nhello\r\n0\r\n\r\n", "hello"),
	DONE("extension quoted then more", "5;a=\"\" ;b=c\r\nhello\r\n0\r\n\r\n", "hello"),
	DONE("trailers", "0\r\nX-T: 1\r\nY:\r\nZ: a\tb\x80\r\n\r\n", ""),
	DONE_REST("pipelined request after the body", "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1", "x",
	    14),
	MORE("partial data", "5\r\nhel", "hel"),
	MORE("partial size line", "5;a=", ""),
	MORE("no final CRLF", "0\r\n", ""),
	MORE("max size accepted", "ffffffffffffffff\r\nab", "ab"),

	BAD("empty size", "\r\n\r\n"),
	BAD("sign +", "+5\r\nhello\r\n0\r\n\r\n"),
	BAD("sign -", "-5\r\nhello\r\n0\r\n\r\n"),
	BAD("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"),
	BAD("leading SP", " 5\r\nhello\r\n0\r\n\r\n"),
	BAD("leading HTAB", "\t5\r\nhello\r\n0\r\n\r\n"),
	BAD("trailing SP", "5 \r\nhello\r\n0\r\n\r\n"),
	BAD("non-hex", "g\r\n"),
	BAD("17 digits", "00000000000000005\r\nhello\r\n0\r\n\r\n"),
	BAD("2^64 overflow", "10000000000000000\r\n"),
	BAD("bare LF after size", "5\nhello\r\n0\r\n\r\n"),
	BAD("bare CR after size", "5\rhello\r\n0\r\n\r\n"),
	BAD_D("TE.CL: data longer than size", "5\r\nhello world\r\n0\r\n\r\n", "hello"),
	BAD_D("data then bare LF", "5\r\nhello\n0\r\n\r\n", "hello"),
	BAD_D("data then bare CR", "5\r\nhello\r0\r\n\r\n", "hello"),
	BAD_D("data without CRLF", "5\r\nhello0\r\n\r\n", "hello"),
	BAD("extension empty name", "5;\r\nhello\r\n0\r\n\r\n"),
	BAD("extension no name", "5;=b\r\nhello\r\n0\r\n\r\n"),
	BAD("extension empty value", "5;a=\r\nhello\r\n0\r\n\r\n"),
	BAD("extension BWS before CRLF", "5;a \r\nhello\r\n0\r\n\r\n"),
	BAD("extension two words", "5;a b\r\nhello\r\n0\r\n\r\n"),
	BAD("extension value two words", "5;a=b c\r\nhello\r\n0\r\n\r\n"),
	BAD("extension unterminated quote", "5;a=\"x\r\nhello\r\n0\r\n\r\n"),
	BAD("extension control in quote", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n"),
	BAD("extension junk after quote", "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n"),
	BAD("extension non-token", "5;a(b)\r\nhello\r\n0\r\n\r\n"),
	BAD("extension NUL", "5;a\0\r\nhello\r\n0\r\n\r\n"),
	BAD("trailer bare LF", "0\r\nX: 1\n\r\n"),
	BAD("trailer obs-fold", "0\r\nX: 1\r\n 2\r\n\r\n"),
	BAD("trailer name with space", "0\r\nX T: 1\r\n\r\n"),
	BAD("trailer space before colon", "0\r\nX : 1\r\n\r\n"),
	BAD("trailer NUL", "0\r\nX: \0\r\n\r\n"),
	BAD("trailer no colon", "0\r\nX\r\n\r\n"),
	BAD("trailer empty name", "0\r\n: v\r\n\r\n"),
	BAD("final bare CR", "0\r\n\r\r"),
	BAD("final bare LF", "0\r\n\n"),
};

struct result {
	int		 rc;
	size_t		 consumed;
	struct pc_buf	 data;
};

/*
 * Decodes <in>/<len> feeding at most <piece> bytes per call (and a split at <cut> if
 * nonzero), as a caller would: call again after data or when more bytes arrive.
 */
static void
decode(const char *in, size_t len, size_t piece, size_t cut, struct result *out)
{
	struct pc_chunked	c;
	size_t			pos = 0, n, cons, off, dl;
	char			*copy;
	int			rc = 0;

	pc_chunked_init(&c);
	pc_buf_init(&out->data, 1 << 24);
	while (pos < len) {
		n = len - pos;
		if (n > piece)
			n = piece;
		if (cut > pos && n > cut - pos)
			n = cut - pos;
		copy = malloc(n);
		assert_non_null(copy);
		memcpy(copy, in + pos, n);
		rc = pc_chunked_decode(&c, copy, n, &cons, &off, &dl);
		assert_true(cons <= n);
		if (dl > 0) {
			assert_true(rc == 0);
			assert_true(off + dl <= cons);
			assert_int_equal(pc_buf_add(&out->data, copy + off, dl), 0);
		}
		free(copy);
		pos += cons;
		if (rc != 0)
			break;
		assert_true(cons > 0);	/* progress, or it would spin */
	}
	assert_int_equal(pc_chunked_done(&c), rc == 1);
	out->rc = rc;
	out->consumed = pos;
}

static bool
same(const struct result *a, const struct result *b)
{
	return a->rc == b->rc && a->consumed == b->consumed && a->data.len == b->data.len &&
	    (a->data.len == 0 || memcmp(a->data.data, b->data.data, a->data.len) == 0);
}

static unsigned
check_case(const struct ccase *c)
{
	struct result	whole, bytes, split;
	unsigned	bad = 0;
	size_t		k;

	decode(c->in.ptr, c->in.len, SIZE_MAX, 0, &whole);
	if (whole.rc != c->rc || whole.data.len != c->data.len ||
	    (c->data.len && memcmp(whole.data.data, c->data.ptr, c->data.len) != 0) ||
	    (c->rc == 1 && whole.consumed != c->in.len - c->rest)) {
		print_error("%s: rc %d consumed %zu data %zu, want rc %d data %zu\n", c->name,
		    whole.rc, whole.consumed, whole.data.len, c->rc, c->data.len);
		bad++;
	}
	decode(c->in.ptr, c->in.len, 1, 0, &bytes);
	if (!same(&whole, &bytes)) {
		print_error("%s: byte at a time differs: rc %d consumed %zu\n", c->name, bytes.rc,
		    bytes.consumed);
		bad++;
	}
	pc_buf_fini(&bytes.data);
	for (k = 1; k < c->in.len && c->in.len < 512; k++) {
		decode(c->in.ptr, c->in.len, SIZE_MAX, k, &split);
		if (!same(&whole, &split)) {
			print_error("%s: split at %zu differs\n", c->name, k);
			bad++;
		}
		pc_buf_fini(&split.data);
	}
	pc_buf_fini(&whole.data);
	return bad;
}

static void
test_cases(void **state)
{
	unsigned	bad = 0;
	size_t		i;

	(void)state;
	for (i = 0; i < PC_NELEM(cases); i++)
		bad += check_case(&cases[i]);
	assert_int_equal(bad, 0);
}

static void
check_built(const char *name, struct pc_buf *b, int rc)
{
	struct ccase c = { name, pc_str_make((const char *)b->data, b->len), rc,
		PC_STR_NULL, 0 };

	assert_int_equal(check_case(&c), 0);
	pc_buf_fini(b);
}

static void
test_limits(void **state)
{
	struct pc_buf	b;
	int		i;

	(void)state;
	/* Size line: "1;" + name = exactly 4096 bytes passes, one more does not. */
	pc_buf_init(&b, 1 << 20);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("0;")), 0);
	for (i = 0; i < SIZE_LINE_MAX - 2; i++)
		assert_int_equal(pc_buf_addc(&b, 'a'), 0);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("\r\n\r\n")), 0);
	check_built("size line at limit", &b, 1);

	pc_buf_init(&b, 1 << 20);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("0;")), 0);
	for (i = 0; i < SIZE_LINE_MAX - 1; i++)
		assert_int_equal(pc_buf_addc(&b, 'a'), 0);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("\r\n\r\n")), 0);
	check_built("size line over limit", &b, -PC_ETOOBIG);

	/* Reported before any CRLF arrives. */
	pc_buf_init(&b, 1 << 20);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("5;")), 0);
	for (i = 0; i < 10000; i++)
		assert_int_equal(pc_buf_addc(&b, 'a'), 0);
	check_built("size line over limit, early", &b, -PC_ETOOBIG);

	pc_buf_init(&b, 1 << 20);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("0\r\n")), 0);
	for (i = 0; i < TRAILERS_MAX; i++)
		assert_int_equal(pc_buf_printf(&b, "T%d: v\r\n", i), 0);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("\r\n")), 0);
	check_built("32 trailers", &b, 1);

	pc_buf_init(&b, 1 << 20);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("0\r\n")), 0);
	for (i = 0; i <= TRAILERS_MAX; i++)
		assert_int_equal(pc_buf_printf(&b, "T%d: v\r\n", i), 0);
	check_built("33 trailers, early", &b, -PC_ETOOBIG);

	/* Trailer section: "X: " + v + CRLF + CRLF = 8192 bytes passes, 8193 does not. */
	pc_buf_init(&b, 1 << 20);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("0\r\nX: ")), 0);
	for (i = 0; i < TRAILER_MAX - 7; i++)
		assert_int_equal(pc_buf_addc(&b, 'v'), 0);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("\r\n\r\n")), 0);
	check_built("trailers at limit", &b, 1);

	pc_buf_init(&b, 1 << 20);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("0\r\nX: ")), 0);
	for (i = 0; i < TRAILER_MAX - 6; i++)
		assert_int_equal(pc_buf_addc(&b, 'v'), 0);
	assert_int_equal(pc_buf_add_str(&b, PC_STR("\r\n\r\n")), 0);
	check_built("trailers over limit", &b, -PC_ETOOBIG);
}

/* A large body in many chunks comes back intact, and done is sticky. */
static void
test_large_and_after_done(void **state)
{
	struct pc_buf		 b, want;
	struct pc_chunked	 c;
	struct result		 r;
	size_t			 cons, off, dl;
	int			 i, j;

	(void)state;
	pc_buf_init(&b, 1 << 24);
	pc_buf_init(&want, 1 << 24);
	for (i = 1; i < 300; i += 7) {
		assert_int_equal(pc_buf_printf(&b, "%x\r\n", i), 0);
		for (j = 0; j < i; j++) {
			assert_int_equal(pc_buf_addc(&b, (char)(i + j)), 0);
			assert_int_equal(pc_buf_addc(&want, (char)(i + j)), 0);
		}
		assert_int_equal(pc_buf_add_str(&b, PC_STR("\r\n")), 0);
	}
	assert_int_equal(pc_buf_add_str(&b, PC_STR("0\r\n\r\n")), 0);
	decode((const char *)b.data, b.len, 1, 0, &r);
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.consumed, b.len);
	assert_int_equal(r.data.len, want.len);
	assert_memory_equal(r.data.data, want.data, want.len);
	pc_buf_fini(&r.data);
	pc_buf_fini(&b);
	pc_buf_fini(&want);

	pc_chunked_init(&c);
	assert_int_equal(pc_chunked_decode(&c, "0\r\n\r\nX", 6, &cons, &off, &dl), 1);
	assert_int_equal(cons, 5);
	assert_true(pc_chunked_done(&c));
	assert_int_equal(pc_chunked_decode(&c, "X", 1, &cons, &off, &dl), 1);
	assert_int_equal(cons, 0);
	assert_int_equal(dl, 0);

	pc_chunked_init(&c);
	assert_int_equal(pc_chunked_decode(&c, "x", 1, &cons, &off, &dl), -PC_EPROTO);
	assert_int_equal(pc_chunked_decode(&c, "0\r\n\r\n", 5, &cons, &off, &dl), -PC_EPROTO);
	assert_false(pc_chunked_done(&c));
}

static void
test_class_table(void **state)
{
	static const char tpunct[] = "!#$%&'*+-.^_`|~";
	unsigned c, want;

	(void)state;
	for (c = 0; c < 256; c++) {
		bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z');
		bool ws = c == ' ' || c == '\t';
		bool vchar = c >= 0x21 && c <= 0x7e;

		want = 0;
		if (alnum || (c != 0 && memchr(tpunct, (int)c, sizeof(tpunct) - 1)))
			want |= K_TCHAR;
		if (ws || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) ||
		    c >= 0x80)
			want |= K_QDTEXT;
		if (ws || vchar || c >= 0x80)
			want |= K_QPAIR | K_VALUE;
		if (ws)
			want |= K_WS;
		if (kinds[c] != want)
			fail_msg("class of %#x: %#x, want %#x", c, kinds[c], want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_table),
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_large_and_after_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
