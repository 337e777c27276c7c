/*
 * auth/auth_int.h - private to auth/: the strict JSON loading that key sets and tokens
 * share (jansson, duplicate names refused, bounded nesting) and the NumericDate rules.
 */
#ifndef PC_AUTH_INT_H
#define PC_AUTH_INT_H

#include <jansson.h>

#include "auth/auth.h"

#define PC_AUTH_JSON_DEPTH_MAX	16		/* objects/arrays nested deeper: refused */
#define PC_JWKS_MAX_BYTES	(512u * 1024u)	/* 64 RSA-8192 keys fit in a quarter of it */
#define PC_NUMERICDATE_MAX	9007199254740992.0	/* 2^53: exact in a double */

enum pc_auth_json_err {
	PC_AUTH_JSON_OK,
	PC_AUTH_JSON_SYNTAX,		/* not JSON, trailing bytes, bad UTF-8, \u0000 */
	PC_AUTH_JSON_DUPLICATE,		/* a member name twice in one object */
	PC_AUTH_JSON_DEEP,		/* nested deeper than PC_AUTH_JSON_DEPTH_MAX */
	PC_AUTH_JSON_NOT_OBJECT,	/* valid JSON, but not an object at the top */
	PC_AUTH_JSON_NOMEM,
};

/*
 * Loads the JSON object in <p>/<len> (not NUL-terminated) into *<out>, owned by the caller
 * (json_decref). Duplicate member names are refused: two parsers that keep different
 * copies of "alg" or "exp" would each believe another token (RFC 8725 3.11, RFC 7515 4).
 */
enum pc_auth_json_err pc_auth__json_object(const void *p, size_t len, json_t **out);

/*
 * A NumericDate (RFC 7519 2): a JSON integer or real, 0 <= v <= 2^53. Fractions are rounded
 * down, or up when <round_up> ("not before" must not start early). 0, -PC_EINVAL (not a
 * number) or -PC_ERANGE.
 */
PC_MUST_CHECK int pc_auth__numericdate(const json_t *v, bool round_up, int64_t *out);

/* Copies the JSON string <v> into <a> as a view; -PC_ENOMEM. */
PC_MUST_CHECK int pc_auth__arena_str(struct pc_arena *a, const json_t *v, struct pc_str *out);

#endif
