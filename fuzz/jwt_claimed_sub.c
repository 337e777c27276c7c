/*
 * fuzz/jwt_claimed_sub.c - libFuzzer target for pc_jwt_claimed_sub (auth/jwt_sub.c): the
 * unverified "sub" read from any bytes a client sends as a bearer token, to name its
 * failure counter (docs/decisions/0013).
 *
 * Input: a token (any bytes).
 * Properties:
 * - 0 with a sub of 1..256 bytes inside the arena, or an error with an empty sub;
 * - never more than the arena's cap, never a read past the input (ASan);
 * - the same input gives the same answer (no hidden state).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_arena	*a = pc_arena_new(64 * 1024);
	struct pc_str	 tok = pc_str_make((const char *)data, size), sub, again;
	int		 rc, rc2;

	if (a == NULL)
		abort();
	rc = pc_jwt_claimed_sub(tok, a, &sub);
	if (rc == 0)
		PC_ASSERT(sub.len > 0 && sub.len <= 256 && sub.ptr != NULL);
	else
		PC_ASSERT(sub.len == 0 && sub.ptr == NULL);
	rc2 = pc_jwt_claimed_sub(tok, a, &again);
	PC_ASSERT(rc2 == rc || rc2 == -PC_ENOMEM || rc == -PC_ENOMEM);
	if (rc == 0 && rc2 == 0)
		PC_ASSERT(pc_str_eq(sub, again));
	pc_arena_free(a);
	return 0;
}
