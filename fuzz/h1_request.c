/*
 * fuzz/h1_request.c - libFuzzer target for pc_h1_parse_request(); the properties it
 * asserts are in h1_common.h.
 */
#include "core/core.h"
#include "http/http.h"

#define H1_PARSE	pc_h1_parse_request
#include "h1_common.h"

static int
start_line(struct pc_buf *b, const struct pc_msg *m)
{
	return pc_buf_printf(b, "%.*s %.*s HTTP/1.%d\r\n", PC_STR_FMT(m->method),
	    PC_STR_FMT(m->target), m->version_minor);
}

static bool
same_start(const struct pc_msg *a, const struct pc_msg *b)
{
	return pc_str_eq(a->method, b->method) && a->meth == b->meth &&
	    pc_str_eq(a->target, b->target);
}
