/*
 * fuzz/h1_common.h - the body shared by the h1_request and h1_response fuzz targets.
 * The including file defines H1_PARSE (the parser under test), start_line() (serializes
 * the first line of a parsed message) and same_start() (compares two first lines).
 * Properties, under two sets of limits (roomy and tiny):
 * - an accepted head satisfies pc_msg_invariants_ok() and its length is the return value;
 * - a rejection carries a reason of the right kind (-PC_EPROTO: HTTP_*, -PC_ETOOBIG: LIMIT_*);
 * - streaming: a prefix is "need more" or rejected exactly like the whole input, and an
 *   accepted head parses the same with nothing after it;
 * - parse -> serialize -> parse is stable (same first line, fields, flags, Host, length).
 */
#ifndef PC_FUZZ_H1_COMMON_H
#define PC_FUZZ_H1_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "http/http.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static int	start_line(struct pc_buf *b, const struct pc_msg *m);
static bool	same_start(const struct pc_msg *a, const struct pc_msg *b);

static const struct pc_h1_limits lims[] = {
	{ 8190, 16384, 100 },
	{ 24, 48, 3 },
};
static const struct pc_h1_limits roomy = { 1 << 20, 1 << 20, PC_HTTP_HDR_MAX };

static struct pc_msg msg, again, part;

static void
check_reason(int rc, enum pc_reason r)
{
	if (rc == -PC_EAGAIN)
		PC_ASSERT(r == PC_R_NONE);
	else if (rc == -PC_ETOOBIG)
		PC_ASSERT(r == PC_R_LIMIT_URI || r == PC_R_LIMIT_HEADERS);
	else if (rc == -PC_EPROTO)
		PC_ASSERT(r >= PC_R_HTTP_BAD_REQUEST_LINE && r <= PC_R_HTTP_EXPECT_BAD);
	else
		PC_ASSERT(rc > 0);
}

static void
check_prefix(const char *buf, size_t n, const struct pc_h1_limits *lim, int rc,
    enum pc_reason r)
{
	enum pc_reason	pr;
	int		prc;

	prc = H1_PARSE(buf, n, lim, &part, &pr);
	PC_ASSERT(prc == -PC_EAGAIN || (prc == rc && pr == r));
}

static void
reserialize(void)
{
	struct pc_buf	b;
	enum pc_reason	r;
	uint16_t	i;
	int		rc;

	pc_buf_init(&b, 1 << 22);
	rc = start_line(&b, &msg);
	for (i = 0; rc == 0 && i < msg.nhdrs; i++)
		rc = pc_buf_printf(&b, "%.*s: %.*s\r\n", PC_STR_FMT(msg.hdrs[i].name),
		    PC_STR_FMT(msg.hdrs[i].value));
	if (rc == 0)
		rc = pc_buf_add_str(&b, PC_STR("\r\n"));
	PC_ASSERT(rc == 0);
	rc = H1_PARSE((const char *)b.data, b.len, &roomy, &again, &r);
	PC_ASSERT(rc > 0 && (size_t)rc == b.len);
	PC_ASSERT(pc_msg_invariants_ok(&again, (const char *)b.data, b.len));
	PC_ASSERT(same_start(&again, &msg));
	PC_ASSERT(again.version_minor == msg.version_minor && again.flags == msg.flags);
	PC_ASSERT(again.content_length == msg.content_length);
	PC_ASSERT(pc_str_eq(again.host, msg.host) && again.nhdrs == msg.nhdrs);
	for (i = 0; i < msg.nhdrs; i++) {
		PC_ASSERT(pc_str_eq(again.hdrs[i].name, msg.hdrs[i].name));
		PC_ASSERT(pc_str_eq(again.hdrs[i].value, msg.hdrs[i].value));
	}
	pc_buf_fini(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*buf = (const char *)data;
	enum pc_reason	 r;
	size_t		 i;
	int		 rc;

	for (i = 0; i < PC_NELEM(lims); i++) {
		r = PC_R_COUNT;
		rc = H1_PARSE(buf, size, &lims[i], &msg, &r);
		check_reason(rc, r);
		if (rc > 0) {
			PC_ASSERT((size_t)rc == msg.head_len && (size_t)rc <= size);
			PC_ASSERT(pc_msg_invariants_ok(&msg, buf, size));
			check_prefix(buf, (size_t)rc - 1, &lims[i], rc, r);
			/* Nothing after the head changes it (pipelining). */
			PC_ASSERT(H1_PARSE(buf, (size_t)rc, &lims[i], &part, &r) == rc);
			reserialize();
		} else if (size > 0) {
			check_prefix(buf, size - 1, &lims[i], rc, r);
			check_prefix(buf, size / 2, &lims[i], rc, r);
		}
	}
	return 0;
}

#endif
