/*
 * tests/unit/core/test_arena.c - core/arena.c: the hard cap (a NULL, never an abort),
 * 16-byte alignment, zeroing, strdup, large allocations, deferred cleanups (newest first,
 * on free and on reset), reset reusing its chunk, and pc_arena_used. Runs under ASan: every
 * byte an allocation promises is written, so a short chunk is a reported overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "core/banned.h"

#define ALIGNED16(p)	(((uintptr_t)(p) & 15u) == 0)

/* Allocations up to the cap succeed, the first one past it is NULL, and nothing aborts. */
static void
test_cap(void **state)
{
	static const size_t	caps[] = { 16, 100, 4096, 4097, 10000, 65536 };
	size_t			i, got, n;
	struct pc_arena		*a;
	void			*p;

	(void)state;
	for (i = 0; i < PC_NELEM(caps); i++) {
		a = pc_arena_new(caps[i]);
		assert_non_null(a);
		got = 0;
		while ((p = pc_arena_alloc(a, 16)) != NULL) {
			memset(p, 0x5a, 16);
			got += 16;
			/* Chunk bytes held never exceed the cap. */
			assert_true(pc_arena_used(a) <= caps[i]);
			assert_true(got <= caps[i]);
		}
		/* The cap is usable, not just an upper bound: at least half reachable. */
		assert_true(got * 2 >= caps[i] - caps[i] % 16);
		/* Once full, stays full: further allocations keep failing cleanly. */
		assert_null(pc_arena_alloc(a, 16));
		assert_null(pc_arena_alloc(a, 1000000));
		pc_arena_free(a);
	}

	/* A single request above the cap is NULL even on an empty arena. */
	a = pc_arena_new(1000);
	assert_null(pc_arena_alloc(a, 1001));
	assert_null(pc_arena_zalloc(a, 1001));
	assert_null(pc_arena_alloc(a, SIZE_MAX));
	assert_null(pc_arena_alloc(a, SIZE_MAX - 15));
	/* The cap counts sizes rounded up to 16: 1000 bytes are 1008 and do not fit 1000. */
	assert_null(pc_arena_alloc(a, 1000));
	n = 992;
	p = pc_arena_alloc(a, n);				/* the largest that fits */
	assert_non_null(p);
	memset(p, 1, n);
	assert_null(pc_arena_alloc(a, 16));
	pc_arena_free(a);
	a = pc_arena_new(1024);
	p = pc_arena_alloc(a, 1024);				/* exactly an aligned cap */
	assert_non_null(p);
	memset(p, 1, 1024);
	assert_null(pc_arena_alloc(a, 1));
	pc_arena_free(a);

	/* Cap 0: nothing but NULLs. */
	a = pc_arena_new(0);
	assert_non_null(a);
	assert_null(pc_arena_alloc(a, 1));
	assert_int_equal(pc_arena_used(a), 0);
	pc_arena_free(a);
}

/* pc_arena_array refuses n * size overflow instead of allocating a short array. */
static void
test_array_overflow(void **state)
{
	struct pc_arena	*a = pc_arena_new(1 << 20);
	uint64_t	*v;
	size_t		 i;

	(void)state;
	assert_null(pc_arena_array(a, uint64_t, SIZE_MAX / 4));
	assert_null(pc_arena_array(a, uint64_t, SIZE_MAX / 8 + 1));
	v = pc_arena_array(a, uint64_t, 100);
	assert_non_null(v);
	for (i = 0; i < 100; i++)
		assert_int_equal(v[i], 0);			/* arrays are zeroed */
	pc_arena_free(a);
}

/* Every pointer is 16-aligned, whatever the sizes before it. */
static void
test_alignment(void **state)
{
	struct pc_arena	*a = pc_arena_new(1 << 22);
	size_t		 n;
	char		*p, *prev = NULL;
	size_t		 prevn = 0;

	(void)state;
	for (n = 1; n <= 300; n++) {
		p = pc_arena_alloc(a, n);
		assert_non_null(p);
		if (!ALIGNED16(p))
			fail_msg("alloc(%zu) = %p not 16-aligned", n, (void *)p);
		memset(p, (int)n, n);
		/* No overlap with the previous allocation of the same chunk. */
		if (prev != NULL && p > prev)
			assert_true(p >= prev + prevn);
		prev = p;
		prevn = n;
	}
	/* Large ones (own chunk) are aligned too. */
	p = pc_arena_alloc(a, 100001);
	assert_non_null(p);
	assert_true(ALIGNED16(p));
	p = pc_arena_strdup(a, PC_STR("x"));
	assert_true(ALIGNED16(p));
	pc_arena_free(a);
}

/* zalloc zeroes even memory that held data before (reset hands back the same chunk). */
static void
test_zalloc(void **state)
{
	struct pc_arena	*a = pc_arena_new(1 << 20);
	unsigned char	*p, *q;
	size_t		 i;

	(void)state;
	p = pc_arena_alloc(a, 1000);
	memset(p, 0xaa, 1000);
	pc_arena_reset(a);
	q = pc_arena_zalloc(a, 1000);
	assert_ptr_equal(p, q);				/* reused, so the test means something */
	for (i = 0; i < 1000; i++)
		assert_int_equal(q[i], 0);
	q = pc_arena_zalloc(a, 50000);			/* large: its own chunk */
	for (i = 0; i < 50000; i++)
		assert_int_equal(q[i], 0);
	pc_arena_free(a);
}

static void
test_strdup(void **state)
{
	static const struct {
		struct pc_str	 in;
	} rows[] = {
		{ PC_STR_INIT("hello") },
		{ PC_STR_INIT("") },			/* empty: just the NUL */
		{ { NULL, 0 } },			/* NULL view: empty string, no memcpy */
		{ PC_STR_INIT("a\0b") },		/* embedded NUL copied, length kept */
		{ PC_STR_INIT("\xff\x80") },
	};
	struct pc_arena	*a = pc_arena_new(1 << 16);
	char		*p;
	size_t		 i;

	(void)state;
	for (i = 0; i < PC_NELEM(rows); i++) {
		p = pc_arena_strdup(a, rows[i].in);
		assert_non_null(p);
		if (rows[i].in.len)
			assert_memory_equal(p, rows[i].in.ptr, rows[i].in.len);
		assert_int_equal(p[rows[i].in.len], '\0');	/* always terminated */
		assert_true(p != rows[i].in.ptr);		/* a copy, not the view */
	}
	/* Only the view's bytes are copied, not up to a NUL. */
	p = pc_arena_strdup(a, pc_str_make("abcdef", 3));
	assert_string_equal(p, "abc");
	/* A view longer than the cap is NULL, and the length + 1 cannot wrap. */
	assert_null(pc_arena_strdup(a, pc_str_make("x", SIZE_MAX)));
	pc_arena_free(a);

	/* The NUL counts towards the cap: 16 bytes of text do not fit in a 16-byte arena. */
	a = pc_arena_new(16);
	assert_null(pc_arena_strdup(a, PC_STR("0123456789abcdef")));
	assert_non_null(pc_arena_strdup(a, PC_STR("0123456789abcde")));
	pc_arena_free(a);
}

/* Large allocations get their own chunk and do not strand the small chunk's free room. */
static void
test_large(void **state)
{
	struct pc_arena	*a = pc_arena_new(1 << 22);
	char		*s1, *big, *s2, *big2;

	(void)state;
	s1 = pc_arena_alloc(a, 16);
	big = pc_arena_alloc(a, 100000);
	assert_non_null(big);
	memset(big, 0x33, 100000);			/* ASan: all of it is ours */
	s2 = pc_arena_alloc(a, 16);
	assert_ptr_equal(s2, s1 + 16);			/* small ones continue the same chunk */
	big2 = pc_arena_alloc(a, 1 << 21);		/* 2 MiB */
	assert_non_null(big2);
	memset(big2, 0x44, 1 << 21);
	assert_true(big2 + (1 << 21) <= big || big2 >= big + 100000);
	assert_true(pc_arena_used(a) >= 100000 + (1 << 21));
	/* A large request that would pass the cap fails; the small chunk still works. */
	assert_null(pc_arena_alloc(a, 1 << 21));
	assert_ptr_equal(pc_arena_alloc(a, 16), s2 + 16);
	pc_arena_free(a);
}

struct order {
	int	seen[16];
	int	n;
};

static struct order *g_order;

static void
record(void *arg)
{
	g_order->seen[g_order->n++] = (int)(intptr_t)arg;
}

/* Cleanups run newest first (like destructors), exactly once, on free. */
static void
test_defer_free(void **state)
{
	struct order	 o = { { 0 }, 0 };
	struct pc_arena	*a = pc_arena_new(1 << 16);
	int		 i;

	(void)state;
	g_order = &o;
	for (i = 1; i <= 5; i++)
		assert_int_equal(pc_arena_defer(a, record, (void *)(intptr_t)i), 0);
	assert_int_equal(o.n, 0);			/* nothing runs before free */
	pc_arena_free(a);
	assert_int_equal(o.n, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(o.seen[i], 5 - i);
	pc_arena_free(NULL);				/* accepts NULL */
}

/* On reset too, newest first; they are then forgotten, so free does not run them again. */
static void
test_defer_reset(void **state)
{
	struct order	 o = { { 0 }, 0 };
	struct pc_arena	*a = pc_arena_new(1 << 16);

	(void)state;
	g_order = &o;
	assert_int_equal(pc_arena_defer(a, record, (void *)1), 0);
	assert_int_equal(pc_arena_defer(a, record, (void *)2), 0);
	assert_int_equal(pc_arena_defer(a, record, (void *)3), 0);
	pc_arena_reset(a);
	assert_int_equal(o.n, 3);
	assert_int_equal(o.seen[0], 3);
	assert_int_equal(o.seen[1], 2);
	assert_int_equal(o.seen[2], 1);
	/* After reset the arena takes new cleanups, run at free. */
	assert_int_equal(pc_arena_defer(a, record, (void *)7), 0);
	pc_arena_reset(a);
	assert_int_equal(o.n, 4);
	assert_int_equal(o.seen[3], 7);
	assert_int_equal(pc_arena_defer(a, record, (void *)8), 0);
	pc_arena_free(a);
	assert_int_equal(o.n, 5);
	assert_int_equal(o.seen[4], 8);
}

/* A full arena cannot take a cleanup: -PC_ENOMEM, and the callback is never called. */
static void
test_defer_full(void **state)
{
	struct order	 o = { { 0 }, 0 };
	struct pc_arena	*a = pc_arena_new(16);

	(void)state;
	g_order = &o;
	assert_non_null(pc_arena_alloc(a, 16));
	assert_int_equal(pc_arena_defer(a, record, (void *)1), -PC_ENOMEM);
	pc_arena_free(a);
	assert_int_equal(o.n, 0);
}

/* Reset forgets every allocation and hands the kept chunk out again, many times over. */
static void
test_reset_reuse(void **state)
{
	struct pc_arena	*a = pc_arena_new(64 * 1024);
	char		*first, *p;
	int		 round, k;

	(void)state;
	first = pc_arena_alloc(a, 100);
	assert_non_null(first);
	assert_int_equal(pc_arena_used(a), 4096);	/* one standard chunk */
	for (round = 0; round < 100; round++) {
		/* Fill to the cap with small and large pieces... */
		for (k = 0; (p = pc_arena_alloc(a, (size_t)(k % 7 == 6 ? 5000 : 200))) != NULL;
		    k++)
			memset(p, round, k % 7 == 6 ? 5000 : 200);
		assert_true(pc_arena_used(a) <= 64 * 1024);
		pc_arena_reset(a);
		/* ...and after reset one standard chunk is kept and serves the next small
		 * allocations without a new malloc (used stays at one chunk). */
		assert_int_equal(pc_arena_used(a), 4096);
		p = pc_arena_alloc(a, 100);
		assert_non_null(p);
		assert_int_equal(pc_arena_used(a), 4096);
	}
	/* With only small allocations, the kept chunk is the very same memory. */
	pc_arena_reset(a);
	first = pc_arena_alloc(a, 100);
	assert_non_null(pc_arena_alloc(a, 200));
	pc_arena_reset(a);
	assert_ptr_equal(pc_arena_alloc(a, 100), first);
	/* Reset of an arena that never allocated is fine and keeps it empty. */
	pc_arena_free(a);
	a = pc_arena_new(1024);
	pc_arena_reset(a);
	assert_int_equal(pc_arena_used(a), 0);
	assert_non_null(pc_arena_alloc(a, 1024));
	pc_arena_free(a);
}

/* pc_arena_used counts chunk bytes held, grows with allocations, and starts at 0. */
static void
test_used(void **state)
{
	struct pc_arena	*a = pc_arena_new(1 << 20);
	size_t		 u0, u1;

	(void)state;
	assert_int_equal(pc_arena_used(a), 0);
	assert_non_null(pc_arena_alloc(a, 1));
	u0 = pc_arena_used(a);
	assert_true(u0 >= 16);
	assert_non_null(pc_arena_alloc(a, 16));		/* same chunk: no change */
	assert_int_equal(pc_arena_used(a), u0);
	assert_non_null(pc_arena_alloc(a, 10000));	/* own chunk of 10000 */
	u1 = pc_arena_used(a);
	assert_int_equal(u1, u0 + 10000);
	pc_arena_free(a);
}

/*
 * Known bug (arena.c pc_arena_alloc): with a cap near SIZE_MAX, rounding n up to 16
 * wraps ("n = (n + 15) & ~15" makes SIZE_MAX - 7 into 0, so a non-NULL pointer to zero
 * bytes comes back), and "a->total + cap" / "sizeof(*c) + cap" wrap, so malloc gets a
 * tiny size and the chunk header is written past it. Caps in the tree are small today, so
 * this is latent. (Fixed; kept as a regression test.)
 */
static void
test_huge_cap(void **state)
{
	struct pc_arena *a;

	(void)state;
	a = pc_arena_new(SIZE_MAX);
	assert_null(pc_arena_alloc(a, SIZE_MAX - 7));
	assert_non_null(pc_arena_alloc(a, 16));
	assert_null(pc_arena_alloc(a, SIZE_MAX - 31));
	assert_null(pc_arena_strdup(a, pc_str_make("x", SIZE_MAX - 1)));
	pc_arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_array_overflow),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_zalloc),
		cmocka_unit_test(test_strdup),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_defer_free),
		cmocka_unit_test(test_defer_reset),
		cmocka_unit_test(test_defer_full),
		cmocka_unit_test(test_reset_reuse),
		cmocka_unit_test(test_used),
		cmocka_unit_test(test_huge_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
