/*
 * fuzz/introspect.c - libFuzzer target for pc_introspect_judge (auth/introspect.c): the
 * rules an introspection answer (RFC 7662 2.2) must meet before it becomes a principal.
 *
 * Input: the body of an answer.
 * Properties:
 * - the result is one of the reasons the rules name, never a crash or a leak;
 * - accepted only if the body is one JSON object (no duplicate names) whose "active" is the
 *   literal true, with an accepted "aud", and "exp" (if any) not past with leeway: checked
 *   here with jansson directly, independently of the code under test;
 * - an accepted principal is of type INTROSPECTED, has a non-empty id and at most
 *   PC_PRINCIPAL_LIST_MAX scopes and roles, and its views lie inside the arena's copies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/auth.h"
#include "core/banned.h"

#define NOW	1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const auds[] = { "https://api.test" };
static const struct pc_jwt_issuer issuer = {
	.name = "op", .iss = "https://op.test", .audiences = auds, .naudiences = 1,
	.leeway_s = 30, .max_bytes = 4096, .roles_claim = "realm.roles",
};
static const struct pc_introspect intro = {
	.issuer = &issuer, .endpoint = "https://op.test/i", .cache_s = 60, .timeout_ms = 1000,
};

static bool
reason_expected(enum pc_reason r)
{
	switch (r) {
	case PC_R_NONE:
	case PC_R_AUTH_INACTIVE:
	case PC_R_AUTH_INTROSPECTION:
	case PC_R_AUTH_ISSUER:
	case PC_R_AUTH_AUDIENCE:
	case PC_R_AUTH_EXPIRED:
	case PC_R_AUTH_NOT_YET_VALID:
	case PC_R_AUTH_TYP:
	case PC_R_AUTH_CLAIM_MISSING:
	case PC_R_AUTH_MALFORMED:
	case PC_R_INTERNAL:
		return true;
	default:
		return false;
	}
}

/* The independent check of an accepted body. */
static void
accepted_body_ok(const uint8_t *data, size_t size)
{
	json_error_t	 e;
	json_t		*o, *aud, *exp;

	o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
	PC_ASSERT(o != NULL && json_is_object(o));
	PC_ASSERT(json_is_true(json_object_get(o, "active")));
	aud = json_object_get(o, "aud");
	PC_ASSERT(aud != NULL);
	exp = json_object_get(o, "exp");
	if (json_is_integer(exp))
		PC_ASSERT(json_integer_value(exp) + 30 > NOW);
	json_decref(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_arena		*a = pc_arena_new(1 << 20);
	struct pc_principal	 p;
	const char		*d = NULL;
	enum pc_reason		 r;
	char			*body;
	unsigned		 i;

	if (a == NULL)
		abort();
	/* Exactly <size> bytes, so ASan sees any read past the answer. */
	body = malloc(size > 0 ? size : 1);
	if (body == NULL)
		abort();
	if (size > 0)
		memcpy(body, data, size);
	r = pc_introspect_judge(&intro, body, size, NOW, a, &p, &d);
	PC_ASSERT(reason_expected(r));
	if (r == PC_R_NONE) {
		accepted_body_ok(data, size);
		PC_ASSERT(p.type == PC_PRINCIPAL_INTROSPECTED);
		PC_ASSERT(p.id.len > 0 && p.id.ptr != NULL);
		PC_ASSERT(p.nscopes <= PC_PRINCIPAL_LIST_MAX && p.nroles <= PC_PRINCIPAL_LIST_MAX);
		PC_ASSERT(p.via == &issuer);
		for (i = 0; i < p.nscopes; i++)
			PC_ASSERT(p.scopes[i].len > 0);
		PC_ASSERT(p.claims.len == size);
	} else {
		PC_ASSERT(d != NULL);
	}
	free(body);
	pc_arena_free(a);
	return 0;
}
