/*
 * fuzz/chunked.c - libFuzzer target for the chunked decoder.
 * Property: decoding in one piece, one byte at a time, and split at an input-derived
 * point gives the same result, the same bytes consumed and the same decoded data; data
 * spans always lie inside the consumed part, and every call makes progress.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "http/http.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
	int		 rc;
	size_t		 consumed;
	struct pc_buf	 out;
};

static void
decode(const char *in, size_t len, size_t piece, size_t cut, struct result *r)
{
	struct pc_chunked	c;
	size_t			pos = 0, n, cons, off, dl;
	int			rc = 0;

	pc_chunked_init(&c);
	pc_buf_init(&r->out, 1 << 24);
	while (pos < len) {
		n = len - pos;
		if (n > piece)
			n = piece;
		if (cut > pos && n > cut - pos)
			n = cut - pos;
		rc = pc_chunked_decode(&c, in + pos, n, &cons, &off, &dl);
		PC_ASSERT(cons <= n);
		PC_ASSERT(rc == 1 || rc == 0 || rc == -PC_EPROTO || rc == -PC_ETOOBIG);
		if (dl > 0) {
			PC_ASSERT(rc == 0 && off + dl <= cons);
			PC_ASSERT(pc_buf_add(&r->out, in + pos + off, dl) == 0);
		}
		pos += cons;
		if (rc != 0)
			break;
		PC_ASSERT(cons > 0);
	}
	PC_ASSERT(pc_chunked_done(&c) == (rc == 1));
	r->rc = rc;
	r->consumed = pos;
}

static void
same(const struct result *a, const struct result *b)
{
	PC_ASSERT(a->rc == b->rc && a->consumed == b->consumed);
	PC_ASSERT(a->out.len == b->out.len);
	PC_ASSERT(a->out.len == 0 || memcmp(a->out.data, b->out.data, a->out.len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in = (const char *)data;
	struct result	 whole, bytes, split;
	size_t		 cut = size > 0 ? (data[0] * 131u + size) % size : 0;

	decode(in, size, SIZE_MAX, 0, &whole);
	decode(in, size, 1, 0, &bytes);
	decode(in, size, SIZE_MAX, cut, &split);
	same(&whole, &bytes);
	same(&whole, &split);
	/* The decoded body never outgrows its framing. */
	PC_ASSERT(whole.out.len <= whole.consumed);
	pc_buf_fini(&whole.out);
	pc_buf_fini(&bytes.out);
	pc_buf_fini(&split.out);
	return 0;
}
