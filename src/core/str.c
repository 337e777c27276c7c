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

static inline unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

bool
pc_str_caseeq(struct pc_str a, struct pc_str b)
{
	size_t i;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++)
		if (lower((unsigned char)a.ptr[i]) != lower((unsigned char)b.ptr[i]))
			return false;
	return true;
}

bool
pc_str_has_prefix(struct pc_str s, struct pc_str prefix)
{
	return s.len >= prefix.len && memcmp(s.ptr, prefix.ptr, prefix.len) == 0;
}

struct pc_str
pc_str_split(struct pc_str s, char sep, struct pc_str *head)
{
	const char *p = s.len ? memchr(s.ptr, sep, s.len) : NULL;

	if (p == NULL) {
		*head = s;
		return pc_str_make(s.ptr + s.len, 0);
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
pc_buf_add_json_str(struct pc_buf *b, struct pc_str s)
{
	static const char hex[] = "0123456789abcdef";
	size_t	i, run = 0;
	int	rc;

	for (i = 0; i < s.len; i++) {
		unsigned char	c = (unsigned char)s.ptr[i];
		char		esc[6];
		size_t		n = 0;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f)
			continue;
		rc = pc_buf_add(b, s.ptr + run, i - run);
		if (rc != 0)
			return rc;
		run = i + 1;
		esc[n++] = '\\';
		if (c == '"' || c == '\\') {
			esc[n++] = (char)c;
		} else if (c == '\n') {
			esc[n++] = 'n';
		} else if (c == '\r') {
			esc[n++] = 'r';
		} else if (c == '\t') {
			esc[n++] = 't';
		} else {
			/* Controls, DEL and every non-ASCII byte: logs stay valid JSON even when
			 * the input is not UTF-8, and no byte is lost. */
			esc[n++] = 'u';
			esc[n++] = '0';
			esc[n++] = '0';
			esc[n++] = hex[c >> 4];
			esc[n++] = hex[c & 15];
		}
		rc = pc_buf_add(b, esc, n);
		if (rc != 0)
			return rc;
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
