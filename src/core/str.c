/*
 * core/str.c - bounded string views, numbers, and the growable buffer.
 * Owns: pc_str helpers, pc_parse_u64, pc_buf. Knows nothing of HTTP.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/banned.h"

struct pc_str
pc_str_c(const char *cstr)
{
	return cstr == NULL ? PC_STR_NULL : pc_str_make(cstr, strlen(cstr));
}

bool
pc_str_eq(struct pc_str a, struct pc_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool
pc_str_caseeq(struct pc_str a, struct pc_str b)
{
	size_t i;

	if (a.len != b.len)
		return false;
	/* Hot (field names on every request): bytes that are equal cost one XOR; bytes
	 * that differ must differ by exactly the case bit and be letters. */
	for (i = 0; i < a.len; i++) {
		unsigned char x = (unsigned char)(a.ptr[i] ^ b.ptr[i]);
		unsigned char c;

		if (x == 0)
			continue;
		c = (unsigned char)(a.ptr[i] | 0x20);
		if (x != 0x20 || c < 'a' || c > 'z')
			return false;
	}
	return true;
}

bool
pc_str_has_prefix(struct pc_str s, struct pc_str prefix)
{
	/* An empty view may have a NULL pointer: memcmp(NULL, ..., 0) is still UB. */
	return prefix.len == 0 || (s.len >= prefix.len &&
	    memcmp(s.ptr, prefix.ptr, prefix.len) == 0);
}

struct pc_str
pc_str_split(struct pc_str s, char sep, struct pc_str *head)
{
	const char *p = s.len ? memchr(s.ptr, sep, s.len) : NULL;

	if (p == NULL) {
		*head = s;
		/* NULL + 0 is UB in C: an empty view stays as it came. */
		return s.len ? pc_str_make(s.ptr + s.len, 0) : s;
	}
	*head = pc_str_make(s.ptr, (size_t)(p - s.ptr));
	return pc_str_make(p + 1, s.len - (size_t)(p - s.ptr) - 1);
}

struct pc_str
pc_str_trim_ows(struct pc_str s)
{
	while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
		s.ptr++;
		s.len--;
	}
	while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
		s.len--;
	return s;
}

int
pc_parse_u64(struct pc_str s, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (s.len == 0)
		return -PC_EINVAL;
	for (i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.ptr[i] - '0';

		if (d > 9)
			return -PC_EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -PC_ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return -PC_ERANGE;
	*out = v;
	return 0;
}

void
pc_buf_init(struct pc_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void
pc_buf_fini(struct pc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int
pc_buf_reserve(struct pc_buf *b, size_t extra)
{
	size_t	 need, cap;
	uint8_t	*p;

	if (extra > b->max || b->len > b->max - extra)
		return -PC_ETOOBIG;
	need = b->len + extra;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max)
		cap = b->max;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -PC_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
pc_buf_add(struct pc_buf *b, const void *p, size_t n)
{
	int rc;

	if (n == 0)
		return 0;
	rc = pc_buf_reserve(b, n);
	if (rc != 0)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
pc_buf_add_str(struct pc_buf *b, struct pc_str s)
{
	return pc_buf_add(b, s.ptr, s.len);
}

int
pc_buf_addc(struct pc_buf *b, char c)
{
	return pc_buf_add(b, &c, 1);
}

int
pc_buf_printf(struct pc_buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -PC_EINVAL;
	rc = pc_buf_reserve(b, (size_t)n + 1);
	if (rc != 0)
		return rc;
	va_start(ap, fmt);
	(void)vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int
pc_buf_add_u64(struct pc_buf *b, uint64_t v)
{
	char	tmp[20];
	size_t	n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return pc_buf_add(b, tmp + n, sizeof(tmp) - n);
}

int
pc_buf_add_hex(struct pc_buf *b, uint64_t v)
{
	static const char	hex[] = "0123456789abcdef";
	char			tmp[16];
	size_t			n = sizeof(tmp);

	do {
		tmp[--n] = hex[v & 15];
		v >>= 4;
	} while (v != 0);
	return pc_buf_add(b, tmp + n, sizeof(tmp) - n);
}

/*
 * Length of the well-formed UTF-8 sequence at <p> (RFC 3629: shortest form, no surrogates,
 * at most U+10FFFF), or 0 if the bytes there are not one.
 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
			return 0;	/* overlong; surrogates */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
			return 0;	/* overlong; above U+10FFFF */
		return 4;
	}
	return 0;
}

int
pc_buf_add_json_str(struct pc_buf *b, struct pc_str s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*u = (const unsigned char *)s.ptr;
	size_t			 i = 0, run = 0, n;
	int			 rc;

	if (s.len == 0)
		return 0;

	while (i < s.len) {
		unsigned char	c = u[i];
		char		esc[6];
		size_t		k = 0;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
			i++;
			continue;
		}
		if (c >= 0x80 && (n = utf8_len(u + i, s.len - i)) > 0) {
			i += n;	/* well-formed UTF-8 is kept as it is: logs stay readable */
			continue;
		}
		rc = pc_buf_add(b, s.ptr + run, i - run);
		if (rc != 0)
			return rc;
		esc[k++] = '\\';
		if (c == '"' || c == '\\') {
			esc[k++] = (char)c;
		} else if (c == '\n') {
			esc[k++] = 'n';
		} else if (c == '\r') {
			esc[k++] = 'r';
		} else if (c == '\t') {
			esc[k++] = 't';
		} else if (c < 0x80) {
			esc[k++] = 'u';
			esc[k++] = '0';
			esc[k++] = '0';
			esc[k++] = hex[c >> 4];
			esc[k++] = hex[c & 15];
		} else {
			/* A byte that is not UTF-8: written as the text \xNN, so the line stays
			 * valid JSON and the byte's value is not lost. */
			esc[k++] = '\\';
			esc[k++] = 'x';
			esc[k++] = hex[c >> 4];
			esc[k++] = hex[c & 15];
		}
		rc = pc_buf_add(b, esc, k);
		if (rc != 0)
			return rc;
		i++;
		run = i;
	}
	return pc_buf_add(b, s.ptr + run, s.len - run);
}

void
pc_buf_consume(struct pc_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}
