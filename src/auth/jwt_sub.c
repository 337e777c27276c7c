/*
 * auth/jwt_sub.c - who a token claims to be, before (or without) verifying it.
 * Owns: reading "sub" from an unverified compact JWS, for counting failed logins per
 *     claimed identity (limit/, docs/decisions/0013). Nothing read here is ever trusted:
 *     it only names a counter, so a forged "sub" costs its forger, never its owner (an
 *     identity's failures delay answers; they never lock anyone out).
 * Does not: verify anything (jwt.c), or accept what it reads.
 */
#include <string.h>

#include "auth/auth_int.h"
#include "core/banned.h"

/* Longer claimed names are cut: the counter is keyed by a hash, and a name this long is
 * an attack on the parser, not a user. */
#define CLAIMED_SUB_MAX	256

int
pc_jwt_claimed_sub(struct pc_str token, struct pc_arena *a, struct pc_str *out)
{
	const char	*dot1, *dot2;
	struct pc_str	 b64;
	uint8_t		*buf;
	size_t		 cap, n;
	json_t		*jp = NULL, *sub;
	int		 rc = -PC_EINVAL;

	*out = PC_STR_NULL;
	if (token.len == 0 || token.len > PC_JWT_MAX_BYTES_DEFAULT * 2)
		return -PC_ETOOBIG;
	dot1 = memchr(token.ptr, '.', token.len);
	if (dot1 == NULL)
		return -PC_EINVAL;
	dot2 = memchr(dot1 + 1, '.', token.len - (size_t)(dot1 + 1 - token.ptr));
	if (dot2 == NULL)
		return -PC_EINVAL;
	b64 = pc_str_make(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	cap = PC_B64URL_DECODED_MAX(b64.len);
	if (b64.len == 0 || (buf = pc_arena_alloc(a, cap)) == NULL)
		return b64.len == 0 ? -PC_EINVAL : -PC_ENOMEM;
	if (pc_b64url_decode(b64, buf, cap, &n) != 0)
		return -PC_EINVAL;
	/* The same strict loader as verification: one reading of the payload, everywhere. */
	if (pc_auth__json_object(buf, n, &jp) != PC_AUTH_JSON_OK)
		return -PC_EINVAL;
	sub = json_object_get(jp, "sub");
	if (json_is_string(sub) && json_string_length(sub) > 0) {
		n = json_string_length(sub);
		if (n > CLAIMED_SUB_MAX)
			n = CLAIMED_SUB_MAX;
		out->ptr = pc_arena_strdup(a, pc_str_make(json_string_value(sub), n));
		out->len = out->ptr != NULL ? n : 0;
		rc = out->ptr != NULL ? 0 : -PC_ENOMEM;
	}
	json_decref(jp);
	return rc;
}
