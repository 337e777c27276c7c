/*
 * fuzz/normalize.c - libFuzzer target for pc_path_normalize().
 * Asserts properties, not just "no crash": an accepted output starts with '/', has no dot
 * segment, no '\\', no forbidden or decodable-unreserved escape, no raw byte outside
 * 0x21-0x7E, is no longer than the input, and is a fixed point (normalize twice == once).
 * Rejections must carry a PC_R_PATH_* reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "http/http.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;	/* lowercase hex in the output is a bug too */
}

static void
check_output(const struct pc_path *p, size_t in_len)
{
	size_t	i;

	PC_ASSERT(p->path != NULL && p->path_len > 0 && p->path[0] == '/');
	PC_ASSERT(p->path_len <= in_len && p->path[p->path_len] == '\0');
	for (i = 0; i < p->path_len; i++) {
		unsigned char	c = (unsigned char)p->path[i];
		const char	*s = p->path + i + 1;
		size_t		 rest = p->path_len - i - 1;
		int		 v;

		PC_ASSERT(c >= 0x21 && c <= 0x7E && c != '\\' && c != '#' && c != '?');
		if (c == '/') {
			PC_ASSERT(!(rest >= 1 && s[0] == '.' && (rest == 1 || s[1] == '/')));
			PC_ASSERT(!(rest >= 2 && s[0] == '.' && s[1] == '.' &&
			    (rest == 2 || s[2] == '/' || s[2] == ';')));
			PC_ASSERT(!(rest >= 2 && s[0] == '.' && s[1] == ';'));
		}
		if (c != '%')
			continue;
		PC_ASSERT(rest >= 2 && hexv(s[0]) >= 0 && hexv(s[1]) >= 0);
		v = hexv(s[0]) << 4 | hexv(s[1]);
		PC_ASSERT(v >= 0x20 && v != 0x7F && v != '/' && v != '\\');
		PC_ASSERT(!((v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') ||
		    (v >= '0' && v <= '9') || v == '-' || v == '.' || v == '_' || v == '~'));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_path	 p, p2;
	enum pc_reason	 r;
	char		*dst, *again;
	int		 rc;

	/* Exact-size heap buffers: ASan catches a write past target.len + 1. */
	dst = malloc(size + 1);
	again = malloc(size + 1);
	PC_ASSERT(dst != NULL && again != NULL);
	rc = pc_path_normalize(pc_str_make((const char *)data, size), dst, size + 1, &p, &r);
	if (rc != 0) {
		PC_ASSERT(rc == -PC_EPROTO);
		PC_ASSERT(r >= PC_R_PATH_BAD_ENCODING && r <= PC_R_PATH_BAD);
		PC_ASSERT(p.path == NULL);
	} else {
		PC_ASSERT(r == PC_R_NONE);
		check_output(&p, size);
		if (p.has_query)
			PC_ASSERT(p.query.ptr >= (const char *)data &&
			    p.query.ptr + p.query.len == (const char *)data + size);
		rc = pc_path_normalize(pc_str_make(p.path, p.path_len), again, p.path_len + 1,
		    &p2, &r);
		PC_ASSERT(rc == 0 && p2.path_len == p.path_len);
		PC_ASSERT(memcmp(p2.path, p.path, p.path_len) == 0);
	}
	free(dst);
	free(again);
	return 0;
}
