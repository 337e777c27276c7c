/*
 * auth/auth_json.c - the JSON rules that key sets and tokens share: one object, no
 * duplicate names, nesting bounded before the parser builds anything, no trailing bytes,
 * valid UTF-8 and no NUL in strings (jansson's defaults), and NumericDate values.
 * Does not: decide what a member means (jwks.c, jwt.c).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "auth/auth_int.h"
#include "core/banned.h"

/*
 * True if no object or array in <p> nests deeper than PC_AUTH_JSON_DEPTH_MAX. Exact for
 * valid JSON, which is all that matters: whatever it misjudges, jansson refuses anyway.
 * Run first so a "[[[[..." bomb costs one pass and no allocation.
 */
static bool
depth_ok(const char *p, size_t len)
{
	unsigned	 depth = 0;
	bool		 in_str = false, esc = false;
	size_t		 i;

	for (i = 0; i < len; i++) {
		char c = p[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[') {
			if (++depth > PC_AUTH_JSON_DEPTH_MAX)
				return false;
		} else if ((c == '}' || c == ']') && depth > 0)
			depth--;
	}
	return true;
}

enum pc_auth_json_err
pc_auth__json_object(const void *p, size_t len, json_t **out)
{
	json_error_t	 e;
	json_t		*j;

	*out = NULL;
	if (!depth_ok(p, len))
		return PC_AUTH_JSON_DEEP;
	/* No JSON_DISABLE_EOF_CHECK: bytes after the value are an error, not ignored. No
	 * JSON_DECODE_ANY, no JSON_ALLOW_NUL. */
	j = json_loadb(p, len, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL) {
		switch (json_error_code(&e)) {
		case json_error_duplicate_key:
			return PC_AUTH_JSON_DUPLICATE;
		case json_error_out_of_memory:
			return PC_AUTH_JSON_NOMEM;
		default:
			return PC_AUTH_JSON_SYNTAX;
		}
	}
	if (!json_is_object(j)) {
		json_decref(j);
		return PC_AUTH_JSON_NOT_OBJECT;
	}
	*out = j;
	return PC_AUTH_JSON_OK;
}

int
pc_auth__numericdate(const json_t *v, bool round_up, int64_t *out)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0 || i > (json_int_t)1 << 53)
			return -PC_ERANGE;
		*out = (int64_t)i;
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);

		/* Written so that a NaN (which JSON cannot spell, but a library could hand
		 * over) fails too. */
		if (!(d >= 0.0 && d <= PC_NUMERICDATE_MAX))
			return -PC_ERANGE;
		*out = (int64_t)(round_up ? ceil(d) : floor(d));
		return 0;
	}
	return -PC_EINVAL;
}

int
pc_auth__arena_str(struct pc_arena *a, const json_t *v, struct pc_str *out)
{
	struct pc_str	 s = pc_str_make(json_string_value(v), json_string_length(v));
	char		*c = pc_arena_strdup(a, s);

	if (c == NULL)
		return -PC_ENOMEM;
	*out = pc_str_make(c, s.len);
	return 0;
}
