/*
 * core/b64.c - base64url (RFC 4648 section 5) without padding, as JOSE uses it (RFC 7515
 * section 2). Owns: the strict decoder and the encoder.
 * Refuses: '=' padding, whitespace, the '+' and '/' of plain base64, a length of 1 mod 4
 * (no byte string encodes to it) and non-zero trailing bits. With those refused, every
 * byte string has exactly one accepted text, so two different token texts never carry
 * the same bytes (a signature cannot be "re-encoded" past a cache or a deny list).
 */
#include <string.h>

#include "core/core.h"
#include "core/banned.h"

static const char alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Sextet value + 1 of each alphabet byte; 0 (every other byte) means "not base64url".
 * Stored off by one so the zero-initialised rest of the table is the refusal. */
static const uint8_t sextet1[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7,
	['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
	['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
	['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
	['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
	['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
	['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63,
	['_'] = 64,
};

/*
 * Decodes the base64url text <in> into <out> (<cap> bytes) and sets *<outlen>.
 * Returns 0, -PC_EINVAL for a text that is not canonical unpadded base64url, or
 * -PC_ETOOBIG if the decoded bytes do not fit in <cap> (nothing is written then).
 */
int
pc_b64url_decode(struct pc_str in, uint8_t *out, size_t cap, size_t *outlen)
{
	const uint8_t	*p = (const uint8_t *)in.ptr;
	size_t		 full = in.len / 4, rem = in.len % 4, need, i, j, o = 0;
	uint32_t	 v;
	uint8_t		 last;

	*outlen = 0;
	if (rem == 1)
		return -PC_EINVAL;
	need = full * 3 + (rem == 0 ? 0 : rem - 1);
	/* Validate every character before the size, so that a caller probing with a
	 * small buffer learns "too big" only for texts it could ever accept. */
	for (i = 0; i < in.len; i++)
		if (sextet1[p[i]] == 0)
			return -PC_EINVAL;
	/* One text per byte string: the bits below the last whole byte must be zero
	 * (RFC 4648 3.5 lets decoders refuse them; JOSE texts never have them). */
	if (rem != 0) {
		last = (uint8_t)(sextet1[p[in.len - 1]] - 1);
		if ((rem == 2 && (last & 0x0f) != 0) || (rem == 3 && (last & 0x03) != 0))
			return -PC_EINVAL;
	}
	if (need > cap)
		return -PC_ETOOBIG;
	for (i = 0; i < in.len; i += 4) {
		v = 0;
		for (j = 0; j < 4; j++) {
			v <<= 6;
			if (i + j < in.len)
				v |= (uint32_t)(sextet1[p[i + j]] - 1);
		}
		/* A short last group yields rem - 1 bytes; the rest of <v> is zero. */
		for (j = 0; j < 3 && o < need; j++)
			out[o++] = (uint8_t)(v >> (16 - 8 * j));
	}
	*outlen = o;
	return 0;
}

/*
 * Encodes <n> bytes of <in> into <out> (<cap> characters, no NUL written).
 * Returns the number of characters written, or 0 if <cap> is too small.
 */
size_t
pc_b64url_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t		 i, o = 0, rem = n % 3;
	uint32_t	 v;

	/* PC_B64URL_ENCODED_LEN(n) would overflow past this: no buffer is that big. */
	if (n > (SIZE_MAX - 2) / 4 || PC_B64URL_ENCODED_LEN(n) > cap)
		return 0;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | (uint32_t)in[i + 2];
		out[o++] = alphabet[v >> 18 & 0x3f];
		out[o++] = alphabet[v >> 12 & 0x3f];
		out[o++] = alphabet[v >> 6 & 0x3f];
		out[o++] = alphabet[v & 0x3f];
	}
	if (rem != 0) {
		v = (uint32_t)in[i] << 16;
		if (rem == 2)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18 & 0x3f];
		out[o++] = alphabet[v >> 12 & 0x3f];
		if (rem == 2)
			out[o++] = alphabet[v >> 6 & 0x3f];
	}
	return o;
}
