/*
 * http/chunked.c - streaming decoder of the chunked transfer coding (RFC 9112 7.1).
 * Owns: chunk framing -> body data spans, the limits on size lines and trailers.
 * Does not: buffer or copy data (it points into the caller's bytes), keep extensions or
 * trailer fields (both are validated and dropped: nothing downstream may act on them),
 * or allocate.
 * Refuses every shape decoders disagree on: signs, "0x", leading or trailing whitespace
 * around the size, more than 16 hex digits, bare CR or LF anywhere, data not followed by
 * exactly CRLF, obs-fold in trailers. Disagreement about where a chunk ends is how
 * TE.CL-style smuggling hides a second request inside a body.
 *
 * A byte-wise state machine, so any split of the input gives the same result; data bytes
 * are handed back in bulk.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "http/http.h"
#include "core/banned.h"

#define SIZE_LINE_MAX	4096	/* bytes of a size line, extensions included, CRLF excluded */
#define SIZE_DIGITS_MAX	16	/* 16 hex digits fill a uint64_t exactly: no overflow check */
#define TRAILER_MAX	8192	/* bytes of the whole trailer section, final CRLF included */
#define TRAILERS_MAX	32	/* trailer fields */

enum {
	S_SIZE,		/* chunk-size digits */
	S_EXT_WS,	/* BWS before ";" */
	S_EXT_NAME0,	/* after ";": BWS, then an extension name */
	S_EXT_NAME,
	S_EXT_NAME_WS,	/* BWS after the name: "=" or ";" must follow */
	S_EXT_VAL0,	/* after "=": BWS, then token or quoted-string */
	S_EXT_VAL,	/* token value */
	S_EXT_QS,	/* inside a quoted-string */
	S_EXT_QP,	/* after a backslash in a quoted-string */
	S_EXT_QEND,	/* after the closing quote */
	S_SIZE_LF,	/* CR of the size line seen */
	S_DATA,
	S_DATA_CR,	/* the CRLF that must follow chunk data */
	S_DATA_LF,
	S_TR_START,	/* start of a trailer line, or the final CRLF */
	S_TR_NAME,
	S_TR_VALUE,
	S_TR_LF,
	S_FINAL_LF,
	S_DONE,
	S_ERR_PROTO,
	S_ERR_TOOBIG,
};

/* Per byte: what the framing states need to know (RFC 9110 5.6.2, 5.6.4). */
#define K_TCHAR		0x01u
#define K_QDTEXT	0x02u	/* HTAB SP 0x21 0x23-0x5B 0x5D-0x7E obs-text */
#define K_QPAIR		0x04u	/* HTAB SP VCHAR obs-text: the byte after a backslash */
#define K_VALUE		0x08u	/* field-value byte (same as K_QPAIR) */
#define K_WS		0x10u	/* SP HTAB */

/* Generated from the definitions above; tests/unit/http/test_chunked.c re-derives it. */
static const uint8_t kinds[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x1e, 0x0f, 0x0c, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0e, 0x0e, 0x0f, 0x0f, 0x0e, 0x0f, 0x0f, 0x0e,
	0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e,
	0x0e, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f,
	0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0e, 0x0c, 0x0e, 0x0f, 0x0f,
	0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f,
	0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0e, 0x0f, 0x0e, 0x0f, 0x00,
	0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e,
	0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e,
	0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e,
	0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e,
	0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e,
	0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e,
	0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e,
	0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e,
};

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void
pc_chunked_init(struct pc_chunked *c)
{
	c->remaining = 0;
	c->line_len = 0;
	c->state = S_SIZE;
	c->ndigits = 0;
	c->ntrailers = 0;
}

bool
pc_chunked_done(const struct pc_chunked *c)
{
	return c->state == S_DONE;
}

/*
 * Advances <c> by one framing byte <ch>. Returns the next state (an S_ERR_* or S_DONE
 * included).
 */
static uint8_t
step(struct pc_chunked *c, unsigned char ch)
{
	unsigned	k = kinds[ch];
	int		v;

	if (c->state <= S_EXT_QEND && ch != '\r' && ++c->line_len > SIZE_LINE_MAX)
		return S_ERR_TOOBIG;
	if (c->state >= S_TR_START && c->state <= S_FINAL_LF && ++c->remaining > TRAILER_MAX)
		return S_ERR_TOOBIG;

	switch (c->state) {
	case S_SIZE:
		v = hexval(ch);
		if (v >= 0) {
			if (++c->ndigits > SIZE_DIGITS_MAX)
				return S_ERR_PROTO;
			c->remaining = (c->remaining << 4) | (unsigned)v;
			return S_SIZE;
		}
		/* At least one digit; "0x", signs and leading whitespace all land here. */
		if (c->ndigits == 0)
			return S_ERR_PROTO;
		if (ch == ';')
			return S_EXT_NAME0;
		if (k & K_WS)
			return S_EXT_WS;
		return ch == '\r' ? S_SIZE_LF : S_ERR_PROTO;
	case S_EXT_WS:
		if (k & K_WS)
			return S_EXT_WS;
		/* Whitespace is only "BWS" before a ';': "5 \r\n" is refused. */
		return ch == ';' ? S_EXT_NAME0 : S_ERR_PROTO;
	case S_EXT_NAME0:
		if (k & K_WS)
			return S_EXT_NAME0;
		return (k & K_TCHAR) ? S_EXT_NAME : S_ERR_PROTO;
	case S_EXT_NAME:
		if (k & K_TCHAR)
			return S_EXT_NAME;
		if (k & K_WS)
			return S_EXT_NAME_WS;
		if (ch == '=')
			return S_EXT_VAL0;
		if (ch == ';')
			return S_EXT_NAME0;
		return ch == '\r' ? S_SIZE_LF : S_ERR_PROTO;
	case S_EXT_NAME_WS:
		if (k & K_WS)
			return S_EXT_NAME_WS;
		if (ch == '=')
			return S_EXT_VAL0;
		return ch == ';' ? S_EXT_NAME0 : S_ERR_PROTO;
	case S_EXT_VAL0:
		if (k & K_WS)
			return S_EXT_VAL0;
		if (ch == '"')
			return S_EXT_QS;
		return (k & K_TCHAR) ? S_EXT_VAL : S_ERR_PROTO;
	case S_EXT_VAL:
		if (k & K_TCHAR)
			return S_EXT_VAL;
		if (k & K_WS)
			return S_EXT_WS;
		if (ch == ';')
			return S_EXT_NAME0;
		return ch == '\r' ? S_SIZE_LF : S_ERR_PROTO;
	case S_EXT_QS:
		if (ch == '"')
			return S_EXT_QEND;
		if (ch == '\\')
			return S_EXT_QP;
		return (k & K_QDTEXT) ? S_EXT_QS : S_ERR_PROTO;
	case S_EXT_QP:
		return (k & K_QPAIR) ? S_EXT_QS : S_ERR_PROTO;
	case S_EXT_QEND:
		if (k & K_WS)
			return S_EXT_WS;
		if (ch == ';')
			return S_EXT_NAME0;
		return ch == '\r' ? S_SIZE_LF : S_ERR_PROTO;
	case S_SIZE_LF:
		if (ch != '\n')
			return S_ERR_PROTO;
		if (c->remaining > 0)
			return S_DATA;
		/* last-chunk: the trailer section follows; reuse <remaining> as its size. */
		return S_TR_START;
	case S_DATA_CR:
		return ch == '\r' ? S_DATA_LF : S_ERR_PROTO;
	case S_DATA_LF:
		if (ch != '\n')
			return S_ERR_PROTO;
		c->remaining = 0;
		c->ndigits = 0;
		c->line_len = 0;
		return S_SIZE;
	case S_TR_START:
		if (ch == '\r')
			return S_FINAL_LF;
		/* obs-fold in a trailer is refused like in a head (RFC 9112 5.2). */
		if (!(k & K_TCHAR))
			return S_ERR_PROTO;
		if (++c->ntrailers > TRAILERS_MAX)
			return S_ERR_TOOBIG;
		return S_TR_NAME;
	case S_TR_NAME:
		if (k & K_TCHAR)
			return S_TR_NAME;
		return ch == ':' ? S_TR_VALUE : S_ERR_PROTO;
	case S_TR_VALUE:
		if (k & K_VALUE)
			return S_TR_VALUE;
		return ch == '\r' ? S_TR_LF : S_ERR_PROTO;
	case S_TR_LF:
		return ch == '\n' ? S_TR_START : S_ERR_PROTO;
	case S_FINAL_LF:
		return ch == '\n' ? S_DONE : S_ERR_PROTO;
	default:
		return S_ERR_PROTO;
	}
}

int
pc_chunked_decode(struct pc_chunked *c, const char *in, size_t len, size_t *consumed,
    size_t *data_off, size_t *data_len)
{
	size_t i = 0, k;

	*consumed = 0;
	*data_off = 0;
	*data_len = 0;
	for (;;) {
		switch (c->state) {
		case S_DONE:
			*consumed = i;
			return 1;
		case S_ERR_PROTO:
			*consumed = i;
			return -PC_EPROTO;
		case S_ERR_TOOBIG:
			*consumed = i;
			return -PC_ETOOBIG;
		default:
			break;
		}
		if (i == len)
			break;
		if (c->state == S_DATA) {
			/* One data span per call: the caller forwards it before we go on. */
			k = len - i;
			if (c->remaining < k)
				k = (size_t)c->remaining;
			*data_off = i;
			*data_len = k;
			c->remaining -= k;
			if (c->remaining == 0)
				c->state = S_DATA_CR;
			*consumed = i + k;
			return 0;
		}
		c->state = step(c, (unsigned char)in[i]);
		if (c->state != S_ERR_PROTO && c->state != S_ERR_TOOBIG)
			i++;
	}
	*consumed = i;
	return 0;
}
