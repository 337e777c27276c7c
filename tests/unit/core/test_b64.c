/*
 * tests/unit/core/test_b64.c - core/b64.c: RFC 4648 test vectors in the url alphabet, every
 * byte outside the alphabet at every position of a group, padding, whitespace, lengths of
 * 1 mod 4, non-zero trailing bits (exactly the canonical last characters pass), buffer
 * limits on both sides, and round trips of every length 0..64.
 * Refuses: nothing outside b64.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "core/banned.h"

static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
dec(const char *s, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	return pc_b64url_decode(pc_str_make(s, len), out, cap, outlen);
}

/* RFC 4648 section 10, minus the padding, plus the two characters only base64url has. */
static void
test_vectors(void **state)
{
	static const struct {
		const char	*bytes;
		size_t		 n;
		const char	*text;
	} rows[] = {
		{ "", 0, "" },
		{ "f", 1, "Zg" },
		{ "fo", 2, "Zm8" },
		{ "foo", 3, "Zm9v" },
		{ "foob", 4, "Zm9vYg" },
		{ "fooba", 5, "Zm9vYmE" },
		{ "foobar", 6, "Zm9vYmFy" },
		{ "\xfb\xff", 2, "-_8" },		/* '+' and '/' in plain base64 */
		{ "\xfb\xef\xbe", 3, "----" },
		{ "\xff\xff\xff", 3, "____" },
		{ "\0\0\0", 3, "AAAA" },
		{ "\0", 1, "AA" },
		{ "{\"alg\":\"RS256\"}", 15, "eyJhbGciOiJSUzI1NiJ9" },	/* RFC 7515 A.2.1 */
	};
	uint8_t	 out[32];
	char	 txt[32];
	size_t	 i, len;

	(void)state;
	for (i = 0; i < PC_NELEM(rows); i++) {
		len = pc_b64url_encode((const uint8_t *)rows[i].bytes, rows[i].n, txt,
		    sizeof(txt));
		if (len != strlen(rows[i].text) || memcmp(txt, rows[i].text, len) != 0)
			fail_msg("row %zu: encode gave '%.*s'", i, (int)len, txt);
		assert_int_equal(PC_B64URL_ENCODED_LEN(rows[i].n), len);
		if (dec(rows[i].text, strlen(rows[i].text), out, sizeof(out), &len) != 0)
			fail_msg("row %zu: decode of '%s' failed", i, rows[i].text);
		assert_int_equal(len, rows[i].n);
		if (len > 0)
			assert_memory_equal(out, rows[i].bytes, len);
	}
}

/* Each of the 256 - 64 other bytes, at each position of a 4-character group, and in a
 * 2-character tail: refused, and nothing reported as decoded. */
static void
test_every_bad_byte(void **state)
{
	uint8_t	 out[8];
	char	 txt[8];
	size_t	 len, pos;
	int	 c, bad = 0;

	(void)state;
	for (c = 0; c < 256; c++) {
		if (c != 0 && memchr(alpha, c, 64) != NULL)
			continue;
		bad++;
		for (pos = 0; pos < 4; pos++) {
			memcpy(txt, "QUJD", 4);		/* "ABC" */
			txt[pos] = (char)c;
			len = 99;
			if (dec(txt, 4, out, sizeof(out), &len) != -PC_EINVAL)
				fail_msg("byte 0x%02x at %zu accepted", c, pos);
			assert_int_equal(len, 0);
			memcpy(txt, "QUJDQQ", 6);	/* "ABCA" */
			txt[4 + pos % 2] = (char)c;
			if (dec(txt, 6, out, sizeof(out), &len) != -PC_EINVAL)
				fail_msg("byte 0x%02x in tail at %zu accepted", c, pos % 2);
		}
	}
	assert_int_equal(bad, 256 - 64);
}

static void
test_refused(void **state)
{
	static const struct pc_str rows[] = {
		PC_STR_INIT("Zg=="),		/* padding */
		PC_STR_INIT("Zm8="),
		PC_STR_INIT("Zm9v===="),
		PC_STR_INIT("="),
		PC_STR_INIT("Zm9v Yg"),		/* whitespace anywhere */
		PC_STR_INIT("Zm9v\nYg"),
		PC_STR_INIT("Zm9v\r\nYg"),
		PC_STR_INIT(" Zm9v"),
		PC_STR_INIT("Zm9v\t"),
		PC_STR_INIT("A"),		/* 1 mod 4: no byte string encodes to it */
		PC_STR_INIT("Zm9vY"),
		PC_STR_INIT("Zm9vYmFyA"),
		PC_STR_INIT("Zh"),		/* trailing bits set */
		PC_STR_INIT("Zm9"),
		PC_STR_INIT("__"),
		PC_STR_INIT("Zm+v"),		/* plain base64 alphabet */
		PC_STR_INIT("Zm/v"),
		PC_STR_INIT("Zm9v\0Yg"),	/* NUL inside */
		PC_STR_INIT("Zm9%76"),		/* percent-encoding is not decoded */
		PC_STR_INIT("Zm9v."),		/* a JWS separator */
	};
	uint8_t	 out[16];
	size_t	 i, len;

	(void)state;
	for (i = 0; i < PC_NELEM(rows); i++)
		if (pc_b64url_decode(rows[i], out, sizeof(out), &len) != -PC_EINVAL)
			fail_msg("row %zu accepted", i);
}

/* Of the 64 possible last characters, exactly those with zero bits below the last whole
 * byte decode: 4 after one byte (2 characters), 16 after two (3 characters). */
static void
test_trailing_bits(void **state)
{
	uint8_t	 out[4], back[4];
	char	 txt[4], re[4];
	size_t	 len, i, ok2 = 0, ok3 = 0;

	(void)state;
	for (i = 0; i < 64; i++) {
		txt[0] = 'Q';
		txt[1] = alpha[i];
		if (dec(txt, 2, out, sizeof(out), &len) == 0) {
			ok2++;
			assert_int_equal(i & 0x0f, 0);
			/* accepted text == the encoding of its bytes: one text per string */
			assert_int_equal(pc_b64url_encode(out, len, re, sizeof(re)), 2);
			assert_memory_equal(re, txt, 2);
		}
		txt[2] = alpha[i];
		txt[1] = 'Q';
		if (dec(txt, 3, out, sizeof(out), &len) == 0) {
			ok3++;
			assert_int_equal(i & 0x03, 0);
			assert_int_equal(pc_b64url_encode(out, len, re, sizeof(re)), 3);
			assert_memory_equal(re, txt, 3);
			assert_int_equal(dec(re, 3, back, sizeof(back), &len), 0);
		}
	}
	assert_int_equal(ok2, 4);
	assert_int_equal(ok3, 16);
}

static void
test_limits(void **state)
{
	uint8_t	 out[8];
	char	 txt[8];
	size_t	 len = 99;

	(void)state;
	/* Decoding: exactly enough room is fine, one byte less is TOOBIG, nothing written. */
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(dec("Zm9vYmE", 7, out, 4, &len), -PC_ETOOBIG);
	assert_int_equal(len, 0);
	assert_int_equal(out[0], 0xaa);
	assert_int_equal(dec("Zm9vYmE", 7, out, 5, &len), 0);
	assert_int_equal(len, 5);
	/* A bad character is INVAL even when the buffer is too small too. */
	assert_int_equal(dec("Zm9v=mE", 7, out, 1, &len), -PC_EINVAL);
	/* The empty text, even as a NULL view, is the empty string. */
	assert_int_equal(pc_b64url_decode(PC_STR_NULL, NULL, 0, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(dec("", 0, NULL, 0, &len), 0);
	assert_int_equal(dec("AA", 2, NULL, 0, &len), -PC_ETOOBIG);
	/* Encoding: 0 if it does not fit, with nothing written past <cap>. */
	memset(txt, '#', sizeof(txt));
	assert_int_equal(pc_b64url_encode((const uint8_t *)"foob", 4, txt, 5), 0);
	assert_int_equal(pc_b64url_encode((const uint8_t *)"foob", 4, txt, 6), 6);
	assert_int_equal(txt[6], '#');
	assert_int_equal(pc_b64url_encode(NULL, 0, NULL, 0), 0);
	/* A length whose encoded size would overflow size_t is refused, not wrapped. */
	assert_int_equal(pc_b64url_encode((const uint8_t *)"x", SIZE_MAX / 2, txt, 8), 0);
	/* PC_B64URL_DECODED_MAX is a bound for sizing buffers: never below the exact size. */
	for (len = 0; len <= 64; len++)
		if (len % 4 != 1)
			assert_true(PC_B64URL_DECODED_MAX(len) >= len / 4 * 3 +
			    (len % 4 ? len % 4 - 1 : 0));
}

static void
test_round_trip(void **state)
{
	uint8_t	 in[64], out[64];
	char	 txt[PC_B64URL_ENCODED_LEN(64)];
	size_t	 n, i, len, tlen;
	uint32_t x = 0x12345678;

	(void)state;
	for (n = 0; n <= 64; n++) {
		for (i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;	/* any bytes; the seed is fixed */
			in[i] = (uint8_t)(x >> 16);
		}
		if (n > 0)
			in[n - 1] = (uint8_t)(n * 37);	/* include 0x00 and 0xff-ish tails */
		tlen = pc_b64url_encode(in, n, txt, sizeof(txt));
		assert_int_equal(tlen, PC_B64URL_ENCODED_LEN(n));
		assert_int_not_equal(tlen % 4, 1);
		assert_true(PC_B64URL_DECODED_MAX(tlen) >= n);
		for (i = 0; i < tlen; i++)
			assert_non_null(memchr(alpha, txt[i], 64));
		if (dec(txt, tlen, out, n, &len) != 0)
			fail_msg("length %zu: decode failed", n);
		assert_int_equal(len, n);
		if (n > 0) {
			assert_memory_equal(in, out, n);
			assert_int_equal(dec(txt, tlen, out, n - 1, &len), -PC_ETOOBIG);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_every_bad_byte),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_trailing_bits),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
