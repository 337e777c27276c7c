/*
 * tests/unit/auth/test_jwt_cache.c - the verified-token cache: hits return an equal
 * principal, and an entry is never returned for another configuration, another issuer, or
 * past its time; the least recently used entry goes first; deletions keep every other
 * entry reachable (backward-shift deletion in an open-addressing table).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/auth.h"
#include "core/banned.h"

static const struct pc_jwt_issuer iss_a = { .name = "a" }, iss_b = { .name = "b" };
static const struct pc_jwt_issuer *const only_a[] = { &iss_a };
static const struct pc_jwt_issuer *const only_b[] = { &iss_b };

static void
key_of(unsigned i, uint8_t key[32])
{
	char s[32];

	(void)snprintf(s, sizeof(s), "token-%u", i);
	pc_sha256(s, strlen(s), key);
}

static struct pc_principal
sample(void)
{
	static struct pc_str scopes[] = { PC_STR_INIT("items:read"), PC_STR_INIT("admin") };
	static struct pc_str roles[] = { PC_STR_INIT("ops") };
	struct pc_principal p;

	memset(&p, 0, sizeof(p));
	p.type = PC_PRINCIPAL_JWT;
	p.id = PC_STR("alice");
	p.issuer = PC_STR("https://issuer.test");
	p.scopes = scopes;
	p.nscopes = 2;
	p.roles = roles;
	p.nroles = 1;
	p.acr = PC_STR("urn:mfa");
	p.auth_time = 1000;
	p.exp = 5000;
	p.claims = PC_STR("{\"sub\":\"alice\"}");
	return p;
}

static void
test_hit_returns_an_equal_principal(void **state)
{
	struct pc_jwt_cache	*c = pc_jwt_cache_new(8);
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_principal	 p = sample(), got;
	uint8_t			 k[32];

	(void)state;
	key_of(1, k);
	pc_jwt_cache_put(c, k, 7, &iss_a, 2000, &p);
	assert_true(pc_jwt_cache_get(c, k, 7, only_a, 1, 1500, a, &got));
	assert_true(pc_str_eq(got.id, p.id));
	assert_true(pc_str_eq(got.issuer, p.issuer));
	assert_true(pc_str_eq(got.acr, p.acr));
	assert_true(pc_str_eq(got.claims, p.claims));
	assert_int_equal(got.nscopes, 2);
	assert_true(pc_str_eq(got.scopes[1], PC_STR("admin")));
	assert_int_equal(got.nroles, 1);
	assert_true(pc_str_eq(got.roles[0], PC_STR("ops")));
	assert_int_equal(got.exp, 5000);
	assert_ptr_equal(got.via, &iss_a);
	assert_string_equal(got.issuer_name, "a");
	pc_arena_free(a);
	pc_jwt_cache_free(c);
}

static void
test_never_for_another_config_issuer_or_time(void **state)
{
	struct pc_jwt_cache	*c = pc_jwt_cache_new(8);
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_principal	 p = sample(), got;
	uint8_t			 k[32];

	(void)state;
	key_of(1, k);
	pc_jwt_cache_put(c, k, 7, &iss_a, 2000, &p);
	/* Another issuer: a miss, and the entry stays for the routes that accept it. */
	assert_false(pc_jwt_cache_get(c, k, 7, only_b, 1, 1500, a, &got));
	assert_true(pc_jwt_cache_get(c, k, 7, only_a, 1, 1500, a, &got));
	/* Another configuration snapshot: a miss, and the entry is gone. */
	assert_false(pc_jwt_cache_get(c, k, 8, only_a, 1, 1500, a, &got));
	assert_false(pc_jwt_cache_get(c, k, 7, only_a, 1, 1500, a, &got));
	/* Its time is over at <until>, not after. */
	pc_jwt_cache_put(c, k, 7, &iss_a, 2000, &p);
	assert_true(pc_jwt_cache_get(c, k, 7, only_a, 1, 1999, a, &got));
	assert_false(pc_jwt_cache_get(c, k, 7, only_a, 1, 2000, a, &got));
	/* No cache at all is a miss, never a crash. */
	assert_false(pc_jwt_cache_get(NULL, k, 7, only_a, 1, 1500, a, &got));
	pc_jwt_cache_put(NULL, k, 7, &iss_a, 2000, &p);
	pc_arena_free(a);
	pc_jwt_cache_free(c);
}

static void
test_lru_eviction(void **state)
{
	struct pc_jwt_cache	*c = pc_jwt_cache_new(4);
	struct pc_arena		*a = pc_arena_new(1 << 20);
	struct pc_principal	 p = sample(), got;
	uint8_t			 k[32];
	unsigned		 i;

	(void)state;
	for (i = 0; i < 4; i++) {
		key_of(i, k);
		pc_jwt_cache_put(c, k, 1, &iss_a, 9000, &p);
	}
	key_of(0, k);	/* 0 becomes the most recently used; 1 is now the oldest */
	assert_true(pc_jwt_cache_get(c, k, 1, only_a, 1, 100, a, &got));
	key_of(4, k);
	pc_jwt_cache_put(c, k, 1, &iss_a, 9000, &p);
	key_of(1, k);
	assert_false(pc_jwt_cache_get(c, k, 1, only_a, 1, 100, a, &got));
	for (i = 0; i < 5; i++) {
		if (i == 1)
			continue;
		key_of(i, k);
		assert_true(pc_jwt_cache_get(c, k, 1, only_a, 1, 100, a, &got));
	}
	pc_arena_free(a);
	pc_jwt_cache_free(c);
}

static void
test_deletions_keep_the_table_consistent(void **state)
{
	struct pc_jwt_cache	*c = pc_jwt_cache_new(500);
	struct pc_arena		*a = pc_arena_new(1 << 22);
	struct pc_principal	 p = sample(), got;
	uint8_t			 k[32];
	unsigned		 i, round;

	(void)state;
	/* Many insertions, expiries (deletions) and overwrites, then every live entry must
	 * still be found: a deletion that left a hole in a probe run would lose some. */
	for (round = 0; round < 4; round++) {
		for (i = 0; i < 500; i++) {
			key_of(i + round * 250, k);
			pc_jwt_cache_put(c, k, 1, &iss_a, i % 3 == 0 ? 10 : 9000, &p);
		}
		for (i = 0; i < 500; i += 3) {
			key_of(i + round * 250, k);
			assert_false(pc_jwt_cache_get(c, k, 1, only_a, 1, 100, a, &got));
		}
		for (i = 0; i < 500; i++) {
			if (i % 3 == 0)
				continue;
			key_of(i + round * 250, k);
			assert_true(pc_jwt_cache_get(c, k, 1, only_a, 1, 100, a, &got));
		}
		pc_arena_reset(a);
	}
	pc_arena_free(a);
	pc_jwt_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_returns_an_equal_principal),
		cmocka_unit_test(test_never_for_another_config_issuer_or_time),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_deletions_keep_the_table_consistent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
