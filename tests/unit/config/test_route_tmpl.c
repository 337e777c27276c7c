/*
 * tests/unit/config/test_route_tmpl.c - route templates: the grammar (accepted shapes,
 * every refusal with its column), the precedence order (pairs, antisymmetry, transitivity)
 * and both sort paths (insertion and merge) for order and stability.
 * Includes the .c to reach the two sort routines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/route_tmpl.c"
#include "route/route.h"

/* config/ repeats route/'s capture limit; a template must never capture more than fits. */
_Static_assert(TMPL_PARAMS_MAX == PC_ROUTE_PARAMS_MAX, "template and capture limits differ");

static int
parse(struct pc_conf_route *r, const char *path, char *err, unsigned *col)
{
	memset(r, 0, sizeof(*r));
	r->path = (char *)(uintptr_t)path;	/* the parser only reads it */
	return pc_conf__route_parse_path(r, err, 256, col);
}

static void
test_parse_ok(void **state)
{
	struct pc_conf_route	r;
	char			err[256];
	unsigned		col;

	(void)state;
	assert_int_equal(parse(&r, "/", err, &col), 0);
	assert_int_equal(r.nsegs, 0);

	assert_int_equal(parse(&r, "/health", err, &col), 0);
	assert_int_equal(r.nsegs, 1);
	assert_int_equal(r.segs[0].kind, PC_SEG_LITERAL);
	assert_true(pc_str_eq(r.segs[0].text, PC_STR("health")));

	assert_int_equal(parse(&r, "/users/{id}/posts/{post_id}", err, &col), 0);
	assert_int_equal(r.nsegs, 4);
	assert_int_equal(r.segs[1].kind, PC_SEG_PARAM);
	assert_true(pc_str_eq(r.segs[1].text, PC_STR("id")));
	assert_int_equal(r.segs[2].kind, PC_SEG_LITERAL);
	assert_true(pc_str_eq(r.segs[2].text, PC_STR("posts")));
	assert_true(pc_str_eq(r.segs[3].text, PC_STR("post_id")));
	/* Views point into the route's own path string. */
	assert_ptr_equal(r.segs[1].text.ptr, r.path + 8);

	assert_int_equal(parse(&r, "/static/**", err, &col), 0);
	assert_int_equal(r.nsegs, 2);
	assert_int_equal(r.segs[1].kind, PC_SEG_WILDCARD);

	assert_int_equal(parse(&r, "/**", err, &col), 0);
	assert_int_equal(r.nsegs, 1);
	assert_int_equal(r.segs[0].kind, PC_SEG_WILDCARD);

	assert_int_equal(parse(&r, "/{a}/**", err, &col), 0);
	assert_int_equal(r.nsegs, 2);

	assert_int_equal(parse(&r, "/a:b@c/x-y.z_~/!$&'()+,;=/a*b/.../.a/a.", err, &col), 0);
	assert_int_equal(r.nsegs, 7);

	assert_int_equal(parse(&r, "/{_}/{A9_z}/{abcdefghijabcdefghijabcdefghijab}", err, &col),
	    0);
	assert_int_equal(r.nsegs, 3);
}

static void
test_parse_limits(void **state)
{
	struct pc_conf_route	r;
	char			path[512], err[256];
	unsigned		col, i;
	size_t			len;

	(void)state;
	/* 32 segments pass, 33 do not. */
	len = 0;
	for (i = 0; i < 32; i++)
		len += (size_t)snprintf(path + len, sizeof(path) - len, "/s%u", i);
	assert_int_equal(parse(&r, path, err, &col), 0);
	assert_int_equal(r.nsegs, 32);
	(void)snprintf(path + len, sizeof(path) - len, "/x");
	assert_int_equal(parse(&r, path, err, &col), -PC_EINVAL);
	assert_int_equal(col, len + 1);
	assert_int_equal(r.nsegs, 0);

	/* 16 parameters pass, 17 do not. */
	len = 0;
	for (i = 0; i < 16; i++)
		len += (size_t)snprintf(path + len, sizeof(path) - len, "/{p%u}", i);
	assert_int_equal(parse(&r, path, err, &col), 0);
	(void)snprintf(path + len, sizeof(path) - len, "/{q}");
	assert_int_equal(parse(&r, path, err, &col), -PC_EINVAL);
	assert_int_equal(col, len + 1);
	assert_non_null(strstr(err, "16"));

	/* A too-small error buffer truncates, never overflows. */
	memset(&r, 0, sizeof(r));
	r.path = (char *)(uintptr_t)"/a//b";
	assert_int_equal(pc_conf__route_parse_path(&r, err, 4, &col), -PC_EINVAL);
	assert_int_equal(strlen(err), 3);
	assert_int_equal(pc_conf__route_parse_path(&r, NULL, 0, NULL), -PC_EINVAL);
}

static const struct {
	const char	*path;
	unsigned	 col;
	const char	*msg;	/* substring of the message */
} bad[] = {
	{ "", 0, "start with '/'" },
	{ "users", 0, "start with '/'" },
	{ "*", 0, "start with '/'" },
	{ "//", 1, "empty segment" },
	{ "/a//b", 3, "empty segment" },
	{ "/a/", 3, "empty segment" },
	{ "/a/**/b", 3, "last segment" },
	{ "/**/**", 1, "last segment" },
	{ "/a/*", 3, "not a wildcard" },
	{ "/a/***", 3, "not a wildcard" },
	{ "/a/b**", 4, "not a wildcard" },
	{ "/*/x", 1, "not a wildcard" },
	{ "/{}", 2, "empty parameter" },
	{ "/{id", 3, "whole segment" },
	{ "/{id}x", 5, "whole segment" },
	{ "/a{id}", 2, "whole segment" },
	{ "/a}", 2, "whole segment" },
	{ "/{1d}", 2, "[A-Za-z_]" },
	{ "/{i-d}", 3, "[A-Za-z_]" },
	{ "/{i}d}", 3, "[A-Za-z_]" },
	{ "/{a b}", 3, "[A-Za-z_]" },
	{ "/{id}/{id}", 7, "duplicate" },
	{ "/{id}/x/{id}/y", 9, "duplicate" },
	{ "/{abcdefghijabcdefghijabcdefghijabc}", 2, "longer than 32" },
	{ "/a%20b", 2, "'%'" },
	{ "/%2e%2e", 1, "'%'" },
	{ "/a b", 2, "invalid character" },
	{ "/a?b", 2, "invalid character" },
	{ "/a#b", 2, "invalid character" },
	{ "/a\\b", 2, "invalid character" },
	{ "/a\"", 2, "invalid character" },
	{ "/caf\xc3\xa9", 4, "invalid character" },
	{ "/a\tb", 2, "invalid character" },
	{ "/.", 1, "never match" },
	{ "/a/..", 3, "never match" },
	{ "/./a", 1, "never match" },
};

static void
test_parse_errors(void **state)
{
	struct pc_conf_route	r;
	char			err[256];
	unsigned		col;
	size_t			i;

	(void)state;
	for (i = 0; i < PC_NELEM(bad); i++) {
		err[0] = '\0';
		col = 999;
		if (parse(&r, bad[i].path, err, &col) != -PC_EINVAL)
			fail_msg("\"%s\" accepted", bad[i].path);
		if (col != bad[i].col || strstr(err, bad[i].msg) == NULL)
			fail_msg("\"%s\": col %u \"%s\", want col %u \"%s\"", bad[i].path, col, err,
			    bad[i].col, bad[i].msg);
		assert_int_equal(r.nsegs, 0);
	}
	memset(&r, 0, sizeof(r));
	assert_int_equal(pc_conf__route_parse_path(&r, err, sizeof(err), &col), -PC_EINVAL);
}

/* A route for the order tests: <path>, optional host, method bits, file order. */
static void
mk(struct pc_conf_route *r, const char *path, const char *host, uint32_t methods,
    unsigned order)
{
	char		err[256];
	unsigned	col;

	if (parse(r, path, err, &col) != 0)
		fail_msg("template \"%s\": %s", path, err);
	r->host = (char *)(uintptr_t)host;
	r->methods = methods;
	r->order = order;
	r->name = (char *)(uintptr_t)path;
}

static void
test_cmp_pairs(void **state)
{
	static const struct {
		const char	*a, *ah;
		uint32_t	 am;
		const char	*b, *bh;
		uint32_t	 bm;
	} before[] = {	/* a must come before b (a has the higher file order) */
		{ "/users/me", NULL, 0, "/users/{id}", NULL, 0 },
		{ "/users/{id}", NULL, 0, "/users/**", NULL, 0 },
		{ "/users/me", NULL, 0, "/users/**", NULL, 0 },
		{ "/a", NULL, 0, "/a/**", NULL, 0 },
		{ "/", NULL, 0, "/**", NULL, 0 },
		{ "/a/**", NULL, 0, "/{x}", NULL, 0 },
		{ "/{x}", NULL, 0, "/**", NULL, 0 },
		{ "/a/{x}", NULL, 0, "/{y}/b", NULL, 0 },
		{ "/a/b/**", NULL, 0, "/a/**", NULL, 0 },
		{ "/a/{x}/**", NULL, 0, "/a/**", NULL, 0 },
		{ "/a/{x}", NULL, 0, "/a", NULL, 0 },
		{ "/a/b", NULL, 0, "/a", NULL, 0 },
		{ "/a", NULL, 0, "/{x}/**", NULL, 0 },
		{ "/x", "h", 0, "/x", NULL, 0 },
		{ "/x", NULL, 2, "/x", NULL, 0 },
		{ "/x", "h", 0, "/x", NULL, 2 },
		{ "/x/**", "h", 2, "/x/**", "h", 0 },
		/* the path decides before the host or the methods do */
		{ "/users/me", NULL, 0, "/users/{id}", "h", 2 },
		{ "/a", NULL, 0, "/a/**", "h", 2 },
	};
	struct pc_conf_route	a, b;
	size_t			i;

	(void)state;
	for (i = 0; i < PC_NELEM(before); i++) {
		mk(&a, before[i].a, before[i].ah, before[i].am, 9);
		mk(&b, before[i].b, before[i].bh, before[i].bm, 1);
		if (pc_conf__route_cmp(&a, &b) >= 0 || pc_conf__route_cmp(&b, &a) <= 0)
			fail_msg("row %zu: \"%s\" should precede \"%s\"", i, before[i].a,
			    before[i].b);
	}
	/* Full tie on everything but file order. */
	mk(&a, "/a/{x}", "h", 2, 1);
	mk(&b, "/b/{y}", "g", 6, 2);
	assert_true(pc_conf__route_cmp(&a, &b) < 0);
	assert_true(pc_conf__route_cmp(&b, &a) > 0);
	b.order = 1;
	assert_int_equal(pc_conf__route_cmp(&a, &b), 0);
	assert_int_equal(pc_conf__route_cmp(&a, &a), 0);
}

static const char *const pool[] = {
	"/", "/**", "/a", "/a/**", "/a/b", "/a/{x}", "/{x}", "/{x}/**", "/{x}/b", "/a/b/**",
	"/a/{x}/**", "/{x}/{y}", "/a/b/c", "/users/me", "/users/{id}", "/users/**", "/b",
	"/{x}/{y}/**", "/a/b/{c}",
};

static void
mk_random(struct pc_conf_route *r, unsigned *seed, unsigned order)
{
	*seed = *seed * 1103515245u + 12345u;
	mk(r, pool[(*seed >> 8) % PC_NELEM(pool)], ((*seed >> 20) & 1) ? "h" : NULL,
	    ((*seed >> 21) & 1) ? 2u : 0u, order);
}

static void
test_cmp_order_laws(void **state)
{
	struct pc_conf_route	*v;
	size_t			 n = PC_NELEM(pool) * 4, i, j, k;
	int			 ij, jk, ik;

	(void)state;
	v = calloc(n, sizeof(*v));
	assert_non_null(v);
	for (i = 0; i < n; i++)
		mk(&v[i], pool[i % PC_NELEM(pool)], (i / PC_NELEM(pool)) & 1 ? "h" : NULL,
		    (i / PC_NELEM(pool)) & 2 ? 2u : 0u, (unsigned)(i % 3));
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			ij = pc_conf__route_cmp(&v[i], &v[j]);
			if ((ij > 0) - (ij < 0) != -((pc_conf__route_cmp(&v[j], &v[i]) > 0) -
			    (pc_conf__route_cmp(&v[j], &v[i]) < 0)))
				fail_msg("not antisymmetric: %zu %zu", i, j);
			for (k = 0; k < n; k++) {
				jk = pc_conf__route_cmp(&v[j], &v[k]);
				ik = pc_conf__route_cmp(&v[i], &v[k]);
				if ((ij <= 0 && jk <= 0 && ik > 0) || (ij == 0 && jk == 0 && ik != 0))
					fail_msg("not transitive: %zu %zu %zu", i, j, k);
			}
		}
	free(v);
}

static void
test_sort_small(void **state)
{
	static const char *const want[] = {
		"/users/me", "/users/{id}", "/a", "/a/**", "/users/**", "/{x}", "/", "/**",
	};	/* "/a/" + "**" ties "/users/" + "**" on kinds: file order decides */
	struct pc_conf_route	v[8];
	unsigned		i;

	(void)state;
	mk(&v[0], "/**", NULL, 0, 0);
	mk(&v[1], "/a/**", NULL, 0, 1);
	mk(&v[2], "/users/{id}", NULL, 0, 2);
	mk(&v[3], "/", NULL, 0, 3);
	mk(&v[4], "/users/**", NULL, 0, 4);
	mk(&v[5], "/{x}", NULL, 0, 5);
	mk(&v[6], "/a", NULL, 0, 6);
	mk(&v[7], "/users/me", NULL, 0, 7);
	pc_conf__routes_sort(v, 8);
	for (i = 0; i < 8; i++)
		assert_string_equal(v[i].path, want[i]);
	/* Segment views still point into each route's own path after the moves. */
	assert_ptr_equal(v[4].segs[1].text.ptr, v[4].path + 7);

	pc_conf__routes_sort(v, 0);
	pc_conf__routes_sort(v, 1);
	assert_string_equal(v[0].path, "/users/me");
}

/* Sorted by cmp, a permutation of the input, and ties (equal order) kept in input order. */
static void
check_sorted(const struct pc_conf_route *v, size_t n, const struct pc_conf_route *in)
{
	size_t	i, j, seen;

	for (i = 0; i + 1 < n; i++) {
		assert_true(pc_conf__route_cmp(&v[i], &v[i + 1]) <= 0);
		if (pc_conf__route_cmp(&v[i], &v[i + 1]) == 0)
			assert_true(v[i].line < v[i + 1].line);	/* stability */
	}
	for (i = 0; i < n; i++) {
		seen = 0;
		for (j = 0; j < n; j++)
			seen += v[j].line == in[i].line;
		assert_int_equal(seen, 1);
	}
}

static void
test_sort_large_and_stable(void **state)
{
	static const unsigned sizes[] = { 2, 15, 16, 17, 31, 32, 33, 100, 257, 1000 };
	struct pc_conf_route	*in, *a, *b;
	unsigned		 seed = 7, s, i, n;

	(void)state;
	for (s = 0; s < PC_NELEM(sizes); s++) {
		n = sizes[s];
		in = calloc(n, sizeof(*in));
		a = calloc(n, sizeof(*a));
		b = calloc(n, sizeof(*b));
		assert_true(in != NULL && a != NULL && b != NULL);
		/* Few distinct orders, so many full ties: only stability decides those. */
		for (i = 0; i < n; i++) {
			mk_random(&in[i], &seed, (unsigned)(i % 4));
			in[i].line = (int)i;
		}
		memcpy(a, in, n * sizeof(*in));
		memcpy(b, in, n * sizeof(*in));
		pc_conf__routes_sort(a, n);
		insertion_sort(b, n);	/* the allocation-failure fallback */
		check_sorted(a, n, in);
		check_sorted(b, n, in);
		for (i = 0; i < n; i++)
			assert_int_equal(a[i].line, b[i].line);
		free(in);
		free(a);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_cmp_pairs),
		cmocka_unit_test(test_cmp_order_laws),
		cmocka_unit_test(test_sort_small),
		cmocka_unit_test(test_sort_large_and_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
