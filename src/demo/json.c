/*
 * demo/json.c - the little JSON the rides API needs: a writer with a sticky error, and a
 * strict reader (RFC 8259) for one flat object of scalars, the shape of every request body.
 * Owns: escaping on the way out, validation on the way in (UTF-8, escapes, numbers,
 * duplicate keys).
 * Does not: allocate (decoded strings go to the caller's scratch), or accept nesting: a
 * body with an object or array inside is refused, which keeps the reader short.
 */
#include <string.h>

#include "demo/demo_int.h"
#include "core/banned.h"

/* ---- JSON out ---- */

bool
pc_demo__utf8_valid(struct pc_str s)
{
	const unsigned char	*p = (const unsigned char *)s.ptr, *end = p + s.len;
	unsigned		 c, n, cp, min;

	while (p < end) {
		c = *p++;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if ((size_t)(end - p) < n)
			return false;
		while (n-- > 0) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*p++ & 0x3fu);
		}
		/* Overlong forms, UTF-16 surrogates and values past Unicode are not UTF-8. */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

static void
jw_raw(struct pc_demo_jw *w, const char *s, size_t n)
{
	if (w->err == 0)
		w->err = pc_buf_add(w->b, s, n);
}

/*
 * Writes <s> as a JSON string. Valid UTF-8 passes through as is, so "Zoë" stays readable;
 * a string that is not UTF-8 (a hostile id in a path) has each high byte escaped instead.
 * pc_buf_add_json_str() always does the latter, which turns "ë" into "Ã«" for a reader.
 */
static void
jw_quoted(struct pc_demo_jw *w, struct pc_str s)
{
	static const char	 hex[] = "0123456789abcdef";
	bool			 utf8 = pc_demo__utf8_valid(s);
	char			 esc[6] = { '\\', 'u', '0', '0', 0, 0 };
	size_t			 i, run = 0;

	jw_raw(w, "\"", 1);
	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f && (c < 0x80 || utf8))
			continue;
		jw_raw(w, s.ptr + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			jw_raw(w, esc, 2);
			esc[1] = 'u';
		} else {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			jw_raw(w, esc, 6);
		}
	}
	jw_raw(w, s.ptr + run, s.len - run);
	jw_raw(w, "\"", 1);
}

/* Starts a value: the comma before it, and its key inside an object (<key> NULL in arrays). */
static void
jw_sep(struct pc_demo_jw *w, const char *key)
{
	if (w->more[w->depth])
		jw_raw(w, ",", 1);
	w->more[w->depth] = true;
	if (key != NULL) {
		jw_quoted(w, pc_str_c(key));
		jw_raw(w, ":", 1);
	}
}

void
pc_demo__jw_open(struct pc_demo_jw *w, const char *key, char c)
{
	jw_sep(w, key);
	jw_raw(w, &c, 1);
	PC_ASSERT(w->depth + 1 < PC_DEMO_JW_DEPTH_MAX);
	w->more[++w->depth] = false;
}

void
pc_demo__jw_close(struct pc_demo_jw *w, char c)
{
	PC_ASSERT(w->depth > 0);
	w->depth--;
	jw_raw(w, &c, 1);
}

void
pc_demo__jw_str(struct pc_demo_jw *w, const char *key, const char *v)
{
	jw_sep(w, key);
	if (v == NULL || v[0] == '\0')
		jw_raw(w, "null", 4);
	else
		jw_quoted(w, pc_str_c(v));
}

void
pc_demo__jw_uint(struct pc_demo_jw *w, const char *key, uint64_t v)
{
	jw_sep(w, key);
	if (w->err == 0)
		w->err = pc_buf_printf(w->b, "%llu", (unsigned long long)v);
}

/* <x10> tenths as a JSON number: 48 -> 4.8. */
void
pc_demo__jw_tenths(struct pc_demo_jw *w, const char *key, unsigned x10)
{
	jw_sep(w, key);
	if (w->err == 0)
		w->err = pc_buf_printf(w->b, "%u.%u", x10 / 10, x10 % 10);
}

void
pc_demo__jw_init(struct pc_demo_jw *w, struct pc_buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* ---- JSON in ---- */

struct jparse {
	const char	*p, *end;
	char		*out;	/* decoded strings; never longer than their encoding */
	struct pc_demo_jobj	*o;
};

static int
jerr(struct jparse *jp, const char *why)
{
	jp->o->err = why;
	return -PC_EPROTO;
}

static void
jws(struct jparse *jp)
{
	while (jp->p < jp->end &&
	    (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static bool
jeat(struct jparse *jp, char c)
{
	if (jp->p < jp->end && *jp->p == c) {
		jp->p++;
		return true;
	}
	return false;
}

static bool
jeat_lit(struct jparse *jp, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, lit, n) != 0)
		return false;
	jp->p += n;
	return true;
}

/* Reads the 4 hex digits of a \u escape. */
static int
jhex4(struct jparse *jp, unsigned *cp)
{
	unsigned i, d;

	if (jp->end - jp->p < 4)
		return jerr(jp, "truncated \\u escape");
	*cp = 0;
	for (i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)*jp->p++;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20u) - 'a' + 10;
		else
			return jerr(jp, "bad hex digit in \\u escape");
		*cp = *cp << 4 | d;
	}
	return 0;
}

/* The \u escape whose "\u" was just read: a code point, surrogate pairs combined. */
static int
jescape_u(struct jparse *jp)
{
	unsigned	cp, lo;
	char		*o = jp->out;

	if (jhex4(jp, &cp) != 0)
		return -PC_EPROTO;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return jerr(jp, "lone low surrogate in \\u escape");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (!jeat_lit(jp, "\\u") || jhex4(jp, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
			return jerr(jp, "high surrogate without its low half");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	/* Decoded strings become C strings in the trip store: NUL would cut them short. */
	if (cp == 0)
		return jerr(jp, "\\u0000 is not accepted");
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	jp->out = o;
	return 0;
}

static int
jstring(struct jparse *jp, struct pc_str *out)
{
	char		*start = jp->out;
	unsigned char	 c;

	if (!jeat(jp, '"'))
		return jerr(jp, "expected a string");
	for (;;) {
		if (jp->p == jp->end)
			return jerr(jp, "unterminated string");
		c = (unsigned char)*jp->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return jerr(jp, "control character in a string");
		if (c != '\\') {
			*jp->out++ = (char)c;
			continue;
		}
		if (jp->p == jp->end)
			return jerr(jp, "unterminated string");
		c = (unsigned char)*jp->p++;
		switch (c) {
		case '"': case '\\': case '/':
			*jp->out++ = (char)c;
			break;
		case 'b': *jp->out++ = '\b'; break;
		case 'f': *jp->out++ = '\f'; break;
		case 'n': *jp->out++ = '\n'; break;
		case 'r': *jp->out++ = '\r'; break;
		case 't': *jp->out++ = '\t'; break;
		case 'u':
			if (jescape_u(jp) != 0)
				return -PC_EPROTO;
			break;
		default:
			return jerr(jp, "unknown escape in a string");
		}
	}
	*out = pc_str_make(start, (size_t)(jp->out - start));
	if (!pc_demo__utf8_valid(*out))
		return jerr(jp, "string is not valid UTF-8");
	return 0;
}

static bool
jdigits(struct jparse *jp)
{
	const char *s = jp->p;

	while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
		jp->p++;
	return jp->p > s;
}

/* number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ] */
static int
jnumber(struct jparse *jp, struct pc_str *out)
{
	const char *s = jp->p;

	(void)jeat(jp, '-');
	if (jeat(jp, '0')) {
		if (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			return jerr(jp, "leading zero in a number");
	} else if (!jdigits(jp)) {
		return jerr(jp, "expected a value");
	}
	if (jeat(jp, '.') && !jdigits(jp))
		return jerr(jp, "expected digits after '.'");
	if (jeat(jp, 'e') || jeat(jp, 'E')) {
		if (!jeat(jp, '+'))
			(void)jeat(jp, '-');
		if (!jdigits(jp))
			return jerr(jp, "expected digits in the exponent");
	}
	*out = pc_str_make(s, (size_t)(jp->p - s));
	return 0;
}

const struct pc_demo_jfield *
pc_demo__json_get(const struct pc_demo_jobj *o, struct pc_str key)
{
	unsigned i;

	for (i = 0; i < o->n; i++)
		if (pc_str_eq(o->f[i].key, key))
			return &o->f[i];
	return NULL;
}

static int
jvalue(struct jparse *jp, struct pc_demo_jfield *f)
{
	f->val = PC_STR_NULL;
	if (jp->p == jp->end)
		return jerr(jp, "expected a value");
	switch (*jp->p) {
	case '"':
		f->kind = PC_DEMO_J_STRING;
		return jstring(jp, &f->val);
	case '{': case '[':
		return jerr(jp, "nested objects and arrays are not accepted here");
	case 't':
		f->kind = PC_DEMO_J_TRUE;
		return jeat_lit(jp, "true") ? 0 : jerr(jp, "expected a value");
	case 'f':
		f->kind = PC_DEMO_J_FALSE;
		return jeat_lit(jp, "false") ? 0 : jerr(jp, "expected a value");
	case 'n':
		f->kind = PC_DEMO_J_NULL;
		return jeat_lit(jp, "null") ? 0 : jerr(jp, "expected a value");
	default:
		f->kind = PC_DEMO_J_NUMBER;
		return jnumber(jp, &f->val);
	}
}

/*
 * Parses <body> as one JSON object whose values are scalars. Decoded strings go to
 * <scratch>, which must hold body.len bytes. Duplicate keys are refused: two readers that
 * keep different duplicates is a known way to slip a value past a checker.
 */
int
pc_demo__json_object(struct pc_str body, char *scratch, struct pc_demo_jobj *o)
{
	struct jparse	 jp = { body.ptr, body.ptr, scratch, o };
	struct pc_demo_jfield	*f;

	o->n = 0;
	o->err = NULL;
	if (body.len == 0)	/* also: no arithmetic on the NULL of an absent body */
		return jerr(&jp, "the body must be a JSON object");
	jp.end = body.ptr + body.len;
	jws(&jp);
	if (!jeat(&jp, '{'))
		return jerr(&jp, "the body must be a JSON object");
	jws(&jp);
	if (!jeat(&jp, '}')) {
		for (;;) {
			if (o->n == PC_DEMO_JSON_FIELDS_MAX)
				return jerr(&jp, "too many fields");
			f = &o->f[o->n];
			jws(&jp);
			if (jstring(&jp, &f->key) != 0)
				return -PC_EPROTO;
			if (pc_demo__json_get(o, f->key) != NULL)
				return jerr(&jp, "duplicate key");
			jws(&jp);
			if (!jeat(&jp, ':'))
				return jerr(&jp, "expected ':' after a key");
			jws(&jp);
			if (jvalue(&jp, f) != 0)
				return -PC_EPROTO;
			o->n++;
			jws(&jp);
			if (jeat(&jp, ','))
				continue;
			if (jeat(&jp, '}'))
				break;
			return jerr(&jp, "expected ',' or '}'");
		}
	}
	jws(&jp);
	if (jp.p != jp.end)
		return jerr(&jp, "data after the JSON object");
	return 0;
}
