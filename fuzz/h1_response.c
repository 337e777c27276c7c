/*
 * fuzz/h1_response.c - libFuzzer target for pc_h1_parse_response(); the properties it
 * asserts are in h1_common.h.
 */
#include "core/core.h"
#include "http/http.h"

#define H1_PARSE	pc_h1_parse_response
#include "h1_common.h"

static int
start_line(struct pc_buf *b, const struct pc_msg *m)
{
	return pc_buf_printf(b, "HTTP/1.%d %03d %.*s\r\n", m->version_minor, m->status,
	    PC_STR_FMT(m->reason_phrase));
}

static bool
same_start(const struct pc_msg *a, const struct pc_msg *b)
{
	return a->status == b->status && pc_str_eq(a->reason_phrase, b->reason_phrase);
}
