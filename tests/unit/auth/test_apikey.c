/*
 * tests/unit/auth/test_apikey.c - auth/apikey.c and apikey_store.c: the key format and its
 * CRC-32 (the zlib check value), every malformed form, the store grammar with the line of
 * each error, a wrong pepper, lookups (ok, unknown, disabled, expired) including keys whose
 * hashes share a probe sequence, and format -> parse round trips.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth/apikey.c"
#include "auth/apikey_store.c"
#include "core/banned.h"

static const uint8_t pepper[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

static void
test_crc32_check_value(void **state)
{
	(void)state;
	/* The CRC-32 (zlib, IEEE) check value of "123456789" is 0xCBF43926. */
	assert_int_equal(crc32("123456789", 9), 0xCBF43926u);
	assert_int_equal(crc32("", 0), 0);
}

static void
test_generated_keys_are_well_formed_and_distinct(void **state)
{
	char		k[PC_APIKEY_LEN + 1], prev[PC_APIKEY_LEN + 1] = "";
	unsigned	i, counts[62] = { 0 };
	size_t		j;

	(void)state;
	for (i = 0; i < 2000; i++) {
		assert_int_equal(pc_apikey_generate(k), 0);
		assert_int_equal(strlen(k), PC_APIKEY_LEN);
		assert_memory_equal(k, "pck_", 4);
		assert_true(pc_apikey_well_formed(pc_str_make(k, PC_APIKEY_LEN)));
		assert_string_not_equal(k, prev);
		for (j = 4; j < 47; j++)
			counts[b62_val(k[j])]++;
		memcpy(prev, k, sizeof(k));
	}
	/* 86000 draws over 62 digits: about 1387 each; rejection sampling keeps the first
	 * eight digits from being likelier (modulo bias would give them ~1.25x). */
	for (i = 0; i < 62; i++)
		assert_in_range(counts[i], 1150, 1650);
}

static void
test_malformed_keys(void **state)
{
	char	k[PC_APIKEY_LEN + 1], bad[PC_APIKEY_LEN + 2];
	size_t	i;

	(void)state;
	assert_int_equal(pc_apikey_generate(k), 0);
	/* Every single-character change is caught: by the alphabet or by the CRC. */
	for (i = 0; i < PC_APIKEY_LEN; i++) {
		memcpy(bad, k, PC_APIKEY_LEN);
		bad[i] = bad[i] == 'x' ? 'y' : 'x';
		assert_false(pc_apikey_well_formed(pc_str_make(bad, PC_APIKEY_LEN)));
	}
	assert_false(pc_apikey_well_formed(pc_str_make(k, PC_APIKEY_LEN - 1)));
	memcpy(bad, k, PC_APIKEY_LEN);
	bad[PC_APIKEY_LEN] = 'a';
	assert_false(pc_apikey_well_formed(pc_str_make(bad, PC_APIKEY_LEN + 1)));
	assert_false(pc_apikey_well_formed(PC_STR("")));
	memcpy(bad, k, PC_APIKEY_LEN);
	bad[3] = '-';				/* prefix */
	assert_false(pc_apikey_well_formed(pc_str_make(bad, PC_APIKEY_LEN)));
	memcpy(bad, k, PC_APIKEY_LEN);
	bad[20] = '\0';				/* NUL inside */
	assert_false(pc_apikey_well_formed(pc_str_make(bad, PC_APIKEY_LEN)));
	memcpy(bad, k, PC_APIKEY_LEN);
	bad[PC_APIKEY_LEN - 1] = '_';		/* alphabet of the checksum */
	assert_false(pc_apikey_well_formed(pc_str_make(bad, PC_APIKEY_LEN)));
	/* A checksum that is right mod 2^32 but written with a larger number: "zzzzzz". */
	memcpy(bad, k, PC_APIKEY_LEN);
	memcpy(bad + 47, "zzzzzz", 6);
	assert_false(pc_apikey_well_formed(pc_str_make(bad, PC_APIKEY_LEN)));
}

static void
test_looks_like_and_names(void **state)
{
	(void)state;
	assert_true(pc_apikey_looks_like(PC_STR("pck_abc")));
	assert_true(pc_apikey_looks_like(PC_STR("pck%5Fabc")));
	assert_true(pc_apikey_looks_like(PC_STR("%70%63%6b%5f")));
	assert_false(pc_apikey_looks_like(PC_STR("pck")));
	assert_false(pc_apikey_looks_like(PC_STR("PCK_abc")));
	assert_false(pc_apikey_looks_like(PC_STR("pck%5")));
	assert_false(pc_apikey_looks_like(PC_STR("")));
	assert_true(pc_apikey_name_ok(PC_STR("a.b_c-9")));
	assert_false(pc_apikey_name_ok(PC_STR("")));
	assert_false(pc_apikey_name_ok(PC_STR("a b")));
	assert_false(pc_apikey_name_ok(PC_STR("a/b")));
	{
		char long_name[66];

		memset(long_name, 'a', sizeof(long_name));
		assert_true(pc_apikey_name_ok(pc_str_make(long_name, 64)));
		assert_false(pc_apikey_name_ok(pc_str_make(long_name, 65)));
	}
}

static void
test_pepper(void **state)
{
	uint8_t	p[32];
	char	id[17], id2[17];

	(void)state;
	assert_int_equal(pc_apikey_pepper_parse(PC_STR("000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191A1B1C1D1E1F"), p), 0);
	assert_int_equal(p[31], 0x1f);
	assert_int_equal(pc_apikey_pepper_parse(PC_STR("00"), p), -PC_EINVAL);
	assert_int_equal(pc_apikey_pepper_parse(PC_STR("000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1g"), p), -PC_EINVAL);
	pc_apikey_pepper_id(pepper, id);
	assert_int_equal(strlen(id), 16);
	pc_apikey_pepper_id(p, id2);
	assert_string_not_equal(id, id2);
	/* A new pepper: its file text parses back to it; two are never equal. */
	{
		uint8_t	n1[32], n2[32], back[32];
		char	t1[PC_APIKEY_PEPPER_TEXT], t2[PC_APIKEY_PEPPER_TEXT];

		assert_int_equal(pc_apikey_pepper_new(n1, t1), 0);
		assert_int_equal(pc_apikey_pepper_new(n2, t2), 0);
		assert_int_equal(strlen(t1), 65);
		assert_int_equal(t1[64], '\n');
		assert_int_equal(pc_apikey_pepper_parse(pc_str_make(t1, 64), back), 0);
		assert_memory_equal(back, n1, 32);
		assert_memory_not_equal(n1, n2, 32);
	}
}

/* A store text under <pepper> with <body> after the header. */
static char *
store_text(const uint8_t *pep, const char *body)
{
	char	id[17], *s;

	pc_apikey_pepper_id(pep, id);
	if (asprintf(&s, "# c\nportcullis-keys v1 pepper-id=%s\n%s", id, body) == -1)
		abort();
	return s;
}

#define H64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define H64B "10112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void
test_parse_errors_have_lines(void **state)
{
	static const struct {
		const char	*body;
		int		 line;
		const char	*msg;
	} cases[] = {
		{ H64 " a created=1 expires=never state=active scopes=-\nx\n", 4, "6 fields" },
		{ H64 " a created=1 expires=never state=active scopes=- \n", 3, "6 fields" },
		{ H64 "  a created=1 expires=never state=active scopes=-\n", 3, "empty field" },
		{ "00 a created=1 expires=never state=active scopes=-\n", 3, "64 lowercase" },
		{ H64 " a/b created=1 expires=never state=active scopes=-\n", 3, "invalid name" },
		{ H64 " a created=x expires=never state=active scopes=-\n", 3, "created=" },
		{ H64 " a created=1 expires=0 state=active scopes=-\n", 3, "expires=" },
		{ H64 " a created=1 expires=soon state=active scopes=-\n", 3, "expires=" },
		{ H64 " a created=1 expires=never state=on scopes=-\n", 3, "state=" },
		{ H64 " a created=1 expires=never state=active scopes=\n", 3, "scopes=" },
		{ H64 " a created=1 expires=never state=active scopes=a,,b\n", 3,
		    "invalid scopes" },
		{ H64 " a created=1 expires=never state=active scopes=a\"\n", 3, "invalid scopes" },
		{ H64 " a created=1 expires=never state=active scopes=-\r\n", 3, "carriage" },
		{ "\n\n" H64 " a created=1 expires=never state=active scopes=-\n"
		    H64 " b created=1 expires=never state=active scopes=-\n", 6, "line 5" },
		{ H64 " a state=active created=1 expires=never scopes=-\n", 3, "created=" },
	};
	struct pc_apikey_store	*s;
	const char		*c;
	char			*t, err[256];
	unsigned		 i;
	int			 line;

	(void)state;
	for (i = 0; i < PC_NELEM(cases); i++) {
		t = store_text(pepper, cases[i].body);
		err[0] = '\0';
		assert_int_equal(pc_apikey_store_parse("x", t, strlen(t), pepper, &s, &line, err,
		    sizeof(err)), -PC_EINVAL);
		assert_null(s);
		if (line != cases[i].line || strstr(err, cases[i].msg) == NULL)
			fail_msg("case %u: line %d '%s'", i, line, err);
		free(t);
	}
	/* No header, a wrong version, a wrong pepper. */
	c = "# only a comment\n";
	assert_int_equal(pc_apikey_store_parse("x", c, strlen(c), pepper, &s, &line, err,
	    sizeof(err)), -PC_EINVAL);
	assert_non_null(strstr(err, "header"));
	c = "portcullis-keys v2 pepper-id=0000000000000000\n";
	assert_int_equal(pc_apikey_store_parse("x", c, strlen(c), pepper, &s, &line, err,
	    sizeof(err)), -PC_EINVAL);
	assert_int_equal(line, 1);
	assert_non_null(strstr(err, "version"));
	c = H64 " a created=1 expires=never state=active scopes=-\n";
	assert_int_equal(pc_apikey_store_parse("x", c, strlen(c), pepper, &s, &line, err,
	    sizeof(err)), -PC_EINVAL);
	assert_non_null(strstr(err, "header"));
	{
		uint8_t other[32];

		memset(other, 7, sizeof(other));
		t = store_text(other, "");
		assert_int_equal(pc_apikey_store_parse("x", t, strlen(t), pepper, &s, &line,
		    err, sizeof(err)), -PC_EINVAL);
		assert_int_equal(line, 2);
		assert_non_null(strstr(err, "wrong pepper"));
		free(t);
	}
	c = "portcullis-keys v1 pepper-id=0000000000000000\0";
	assert_int_equal(pc_apikey_store_parse("x", c, 47, pepper, &s, &line, err,
	    sizeof(err)), -PC_EINVAL);
	assert_non_null(strstr(err, "control"));
}

static void
test_lookup_results(void **state)
{
	struct pc_apikey_store	*s;
	struct pc_principal	 p;
	struct pc_arena		*a = pc_arena_new(1 << 16);
	enum pc_reason		 reason;
	char			 ok[PC_APIKEY_LEN + 1], off[PC_APIKEY_LEN + 1];
	char			 old[PC_APIKEY_LEN + 1], unk[PC_APIKEY_LEN + 1];
	uint8_t			 h[32];
	struct pc_buf		 b;
	char			 err[200];
	int			 line;

	(void)state;
	assert_int_equal(pc_apikey_store_new("partners", pepper, &s), 0);
	assert_int_equal(pc_apikey_generate(ok), 0);
	assert_int_equal(pc_apikey_generate(off), 0);
	assert_int_equal(pc_apikey_generate(old), 0);
	assert_int_equal(pc_apikey_generate(unk), 0);
	pc_apikey_hash(s, pc_str_c(ok), h);
	assert_int_equal(pc_apikey_store_add(s, h, PC_STR("acme"), 1, 0, PC_STR("a,b:c")), 0);
	assert_int_equal(pc_apikey_store_add(s, h, PC_STR("acme"), 1, 0, PC_STR("")),
	    -PC_EINVAL);	/* the same hash twice */
	pc_apikey_hash(s, pc_str_c(off), h);
	assert_int_equal(pc_apikey_store_add(s, h, PC_STR("acme"), 1, 0, PC_STR("")), 0);
	s->recs[1].disabled = true;
	pc_apikey_hash(s, pc_str_c(old), h);
	assert_int_equal(pc_apikey_store_add(s, h, PC_STR("acme"), 1, 1000, PC_STR("")), 0);

	assert_int_equal(pc_apikey_lookup(s, pc_str_c(ok), 999, a, &p, &reason), 0);
	assert_int_equal(p.type, PC_PRINCIPAL_APIKEY);
	assert_true(pc_str_eq(p.id, PC_STR("acme")));
	assert_string_equal(p.issuer_name, "partners");
	assert_int_equal(p.nscopes, 2);
	assert_true(pc_principal_has_scope(&p, PC_STR("b:c")));
	assert_int_equal(p.exp, 0);
	assert_int_equal(pc_apikey_lookup(s, pc_str_c(old), 999, a, &p, &reason), 0);
	assert_int_equal(p.exp, 1000);
	assert_int_equal(pc_apikey_lookup(s, pc_str_c(old), 1000, a, &p, &reason), -PC_EPROTO);
	assert_int_equal(reason, PC_R_AUTH_APIKEY_EXPIRED);
	assert_int_equal(pc_apikey_lookup(s, pc_str_c(off), 1, a, &p, &reason), -PC_EPROTO);
	assert_int_equal(reason, PC_R_AUTH_APIKEY_DISABLED);
	assert_int_equal(pc_apikey_lookup(s, pc_str_c(unk), 1, a, &p, &reason), -PC_EPROTO);
	assert_int_equal(reason, PC_R_AUTH_APIKEY_UNKNOWN);
	unk[10] ^= 1;
	assert_int_equal(pc_apikey_lookup(s, pc_str_c(unk), 1, a, &p, &reason), -PC_EPROTO);
	assert_int_equal(reason, PC_R_AUTH_APIKEY_MALFORMED);

	/* Round trip: format, parse, same answers. */
	pc_buf_init(&b, 1 << 20);
	assert_int_equal(pc_apikey_store_format(s, &b), 0);
	pc_apikey_store_free(s);
	assert_int_equal(pc_apikey_store_parse("partners", (const char *)b.data, b.len, pepper,
	    &s, &line, err, sizeof(err)), 0);
	pc_buf_fini(&b);
	assert_int_equal(s->nrecs, 3);
	assert_int_equal(pc_apikey_lookup(s, pc_str_c(ok), 999, a, &p, &reason), 0);
	assert_int_equal(p.nscopes, 2);
	assert_int_equal(pc_apikey_lookup(s, pc_str_c(off), 1, a, &p, &reason), -PC_EPROTO);
	assert_int_equal(reason, PC_R_AUTH_APIKEY_DISABLED);
	assert_int_equal(pc_apikey_lookup(s, pc_str_c(old), 1000, a, &p, &reason), -PC_EPROTO);
	assert_int_equal(reason, PC_R_AUTH_APIKEY_EXPIRED);
	pc_apikey_store_free(s);
	pc_arena_free(a);
}

/*
 * Hashes that start alike land on one probe sequence: a lookup then compares several
 * entries in constant time and must still find exactly its own, and not-found must end
 * at an empty slot.
 */
static void
test_probe_collisions(void **state)
{
	struct pc_apikey_store	*s;
	uint8_t			 h[32];
	unsigned		 i;

	(void)state;
	assert_int_equal(pc_apikey_store_new("c", pepper, &s), 0);
	for (i = 0; i < 300; i++) {
		memset(h, 0xab, sizeof(h));
		h[31] = (uint8_t)i;
		h[30] = (uint8_t)(i >> 8);
		assert_int_equal(pc_apikey_store_add(s, h, PC_STR("n"), 1, 0, PC_STR("")), 0);
	}
	for (i = 0; i < 300; i++) {
		const struct pc_apikey_rec *r;

		memset(h, 0xab, sizeof(h));
		h[31] = (uint8_t)i;
		h[30] = (uint8_t)(i >> 8);
		r = find(s, h);
		assert_non_null(r);
		assert_memory_equal(r->hash, h, 32);
	}
	memset(h, 0xab, sizeof(h));
	h[30] = 0xff;
	assert_null(find(s, h));
	assert_true(s->mask + 1 >= 2 * s->nrecs);
	pc_apikey_store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32_check_value),
		cmocka_unit_test(test_generated_keys_are_well_formed_and_distinct),
		cmocka_unit_test(test_malformed_keys),
		cmocka_unit_test(test_looks_like_and_names),
		cmocka_unit_test(test_pepper),
		cmocka_unit_test(test_parse_errors_have_lines),
		cmocka_unit_test(test_lookup_results),
		cmocka_unit_test(test_probe_collisions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
