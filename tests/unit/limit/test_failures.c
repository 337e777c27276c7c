/*
 * tests/unit/limit/test_failures.c - failed-login counters: the delay rule (threshold,
 * doubling, cap), the two-window count and its expiry, the address lockout and its end, an
 * identity that never locks, success forgetting the identity only, addresses counted by
 * their bytes (IPv6 per /64), eviction in a full probe window, SipHash against its
 * reference vectors, and two threads on one key losing no count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "../../../src/limit/failures.c"

#define T0	1080000000ull	/* a multiple of every window used below (60 s) */

static struct pc_failures_conf
conf_default(void)
{
	struct pc_failures_conf c = { .enabled = true, .window_s = 60, .delay_after = 5,
		.delay_ms = 250, .max_delay_ms = 4000, .lockout_after = 30, .lockout_s = 300,
		.entries = 4096 };

	return c;
}

static void
test_siphash_reference_vectors(void **state)
{
	uint8_t		 k[16], m[15];
	unsigned	 i;

	(void)state;
	for (i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	for (i = 0; i < 15; i++)
		m[i] = (uint8_t)i;
	/* SipHash paper, appendix A (15 bytes) and the reference test table (empty input). */
	assert_true(siphash24(le64(k), le64(k + 8), m, 15) == 0xa129ca6149be45e5ull);
	assert_true(siphash24(le64(k), le64(k + 8), m, 0) == 0x726fdb47dd0e0e31ull);
}

static void
test_delay_rule(void **state)
{
	struct pc_failures_conf	c = conf_default();
	static const struct {
		uint32_t	 n, want;
	} cases[] = {
		{ 0, 0 }, { 1, 0 }, { 5, 0 }, { 6, 250 }, { 7, 500 }, { 8, 1000 }, { 9, 2000 },
		{ 10, 4000 }, { 11, 4000 }, { 40, 4000 }, { UINT32_MAX, 4000 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < PC_NELEM(cases); i++)
		assert_int_equal(pc_failures_delay(&c, cases[i].n), cases[i].want);
	c.delay_ms = 0;
	assert_int_equal(pc_failures_delay(&c, 20), 0);
	c.delay_ms = 3000;
	c.max_delay_ms = 5000;
	assert_int_equal(pc_failures_delay(&c, 6), 3000);
	assert_int_equal(pc_failures_delay(&c, 7), 5000);
}

static void
test_thresholds_doubling_and_cap(void **state)
{
	struct pc_failures		*t = pc_failures_new(1024);
	struct pc_failures_conf		 c = conf_default();
	struct pc_failures_result	 r;
	static const uint32_t		 want[] = { 0, 0, 0, 0, 0, 250, 500, 1000, 2000, 4000,
		4000, 4000 };
	size_t				 i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < PC_NELEM(want); i++) {
		assert_int_equal(pc_failures_record(t, &c, PC_STR("192.0.2.1"), PC_STR_NULL,
		    T0 + i, &r), want[i]);
		assert_int_equal(r.ip_count, i + 1);
		assert_false(r.lockout_started);
	}
	/* Another address starts from nothing. */
	assert_int_equal(pc_failures_record(t, &c, PC_STR("192.0.2.2"), PC_STR_NULL, T0, &r), 0);
	assert_int_equal(r.ip_count, 1);
	pc_failures_free(t);
}

static void
test_window_expiry(void **state)
{
	struct pc_failures	*t = pc_failures_new(1024);
	struct pc_failures_conf	 c = conf_default();
	struct pc_str		 ip = PC_STR("198.51.100.7");
	unsigned		 i;

	(void)state;
	for (i = 0; i < 10; i++)
		(void)pc_failures_record(t, &c, ip, PC_STR_NULL, T0 + 1000, NULL);
	assert_int_equal(pc_failures_count(t, &c, true, ip, T0 + 59000), 10);
	/* Half a window later, half of the previous window still overlaps. */
	assert_int_equal(pc_failures_count(t, &c, true, ip, T0 + 90000), 5);
	/* Two windows on, all is forgotten, and a new failure is the first again. */
	assert_int_equal(pc_failures_count(t, &c, true, ip, T0 + 120000), 0);
	assert_int_equal(pc_failures_record(t, &c, ip, PC_STR_NULL, T0 + 120000, NULL), 0);
	assert_int_equal(pc_failures_count(t, &c, true, ip, T0 + 120000), 1);
	/* Rolled at one window: the previous count weighs in fully at the window's start. */
	for (i = 0; i < 9; i++)
		(void)pc_failures_record(t, &c, ip, PC_STR_NULL, T0 + 150000, NULL);
	assert_int_equal(pc_failures_record(t, &c, ip, PC_STR_NULL, T0 + 180000, NULL),
	    pc_failures_delay(&c, 11));
	assert_int_equal(pc_failures_count(t, &c, true, ip, T0 + 180000), 11);
	pc_failures_free(t);
}

static void
test_lockout_and_its_end(void **state)
{
	struct pc_failures		*t = pc_failures_new(1024);
	struct pc_failures_conf		 c = conf_default();
	struct pc_failures_result	 r;
	struct pc_str			 ip = PC_STR("203.0.113.9");
	unsigned			 i, started = 0;

	(void)state;
	for (i = 1; i <= 29; i++) {
		(void)pc_failures_record(t, &c, ip, PC_STR_NULL, T0 + i, &r);
		assert_false(r.lockout_started);
		assert_int_equal(pc_failures_check(t, ip, T0 + i), 0);
	}
	(void)pc_failures_record(t, &c, ip, PC_STR_NULL, T0 + 30, &r);
	assert_true(r.lockout_started);
	assert_true(r.locked_until_ms == T0 + 30 + 300000);
	assert_true(pc_failures_check(t, ip, T0 + 31) == T0 + 30 + 300000);
	/* Later failures while locked (a login route's upstream answers) do not extend it. */
	for (i = 0; i < 10; i++) {
		(void)pc_failures_record(t, &c, ip, PC_STR_NULL, T0 + 1000, &r);
		started += r.lockout_started;
	}
	assert_int_equal(started, 0);
	assert_true(pc_failures_check(t, ip, T0 + 1000) == T0 + 30 + 300000);
	assert_true(pc_failures_check(t, ip, T0 + 30 + 299999) != 0);
	assert_int_equal(pc_failures_check(t, ip, T0 + 30 + 300000), 0);
	/* Other addresses were never locked. */
	assert_int_equal(pc_failures_check(t, PC_STR("203.0.113.10"), T0 + 31), 0);
	pc_failures_free(t);
}

static void
test_identity_delays_but_never_locks(void **state)
{
	struct pc_failures		*t = pc_failures_new(1024);
	struct pc_failures_conf		 c = conf_default();
	struct pc_failures_result	 r;
	char				 ip[32];
	unsigned			 i;

	(void)state;
	/* 100 addresses, one failure each, all claiming "alice": only alice's count grows. */
	for (i = 0; i < 100; i++) {
		(void)snprintf(ip, sizeof(ip), "10.0.%u.%u", i / 250, i % 250 + 1);
		(void)pc_failures_record(t, &c, pc_str_c(ip), PC_STR("alice"), T0 + i, &r);
		assert_false(r.lockout_started);
		assert_int_equal(r.ip_count, 1);
		assert_int_equal(r.id_count, i + 1);
		assert_int_equal(r.delay_ms, pc_failures_delay(&c, i + 1));
	}
	assert_int_equal(pc_failures_check(t, PC_STR("10.0.0.1"), T0 + 200), 0);
	/* A fresh address and identity: no delay. */
	assert_int_equal(pc_failures_record(t, &c, PC_STR("10.9.9.9"), PC_STR("bob"), T0, &r), 0);
	pc_failures_free(t);
}

static void
test_success_forgets_the_identity_only(void **state)
{
	struct pc_failures	*t = pc_failures_new(1024);
	struct pc_failures_conf	 c = conf_default();
	struct pc_str		 ip = PC_STR("192.0.2.50");
	unsigned		 i;

	(void)state;
	for (i = 0; i < 8; i++)
		(void)pc_failures_record(t, &c, ip, PC_STR("carol"), T0, NULL);
	pc_failures_success(t, &c, PC_STR("carol"), T0 + 1);
	assert_int_equal(pc_failures_count(t, &c, false, PC_STR("carol"), T0), 0);
	assert_int_equal(pc_failures_count(t, &c, true, ip, T0), 8);
	/* The address keeps slowing its next failure down. */
	assert_int_equal(pc_failures_record(t, &c, ip, PC_STR("carol"), T0, NULL), 2000);
	pc_failures_success(t, &c, PC_STR("nobody"), T0);
	pc_failures_success(t, &c, PC_STR_NULL, T0);
	/* Two windows after the last identity failure, nothing is left to forget. */
	(void)pc_failures_record(t, &c, ip, PC_STR("erin"), T0, NULL);
	pc_failures_success(t, &c, PC_STR("erin"), T0 + 120000);
	assert_int_equal(pc_failures_count(t, &c, false, PC_STR("erin"), T0 + 1), 1);
	pc_failures_free(t);
}

static void
test_addresses_by_bytes_and_ipv6_per_64(void **state)
{
	struct pc_failures	*t = pc_failures_new(1024);
	struct pc_failures_conf	 c = conf_default();

	(void)state;
	(void)pc_failures_record(t, &c, PC_STR("2001:db8:1:2::1"), PC_STR_NULL, T0, NULL);
	(void)pc_failures_record(t, &c, PC_STR("2001:db8:1:2:ffff::9"), PC_STR_NULL, T0, NULL);
	(void)pc_failures_record(t, &c, PC_STR("2001:0db8:0001:0002::7"), PC_STR_NULL, T0, NULL);
	assert_int_equal(pc_failures_count(t, &c, true, PC_STR("2001:db8:1:2::42"), T0), 3);
	assert_int_equal(pc_failures_count(t, &c, true, PC_STR("2001:db8:1:3::1"), T0), 0);
	(void)pc_failures_record(t, &c, PC_STR("::ffff:192.0.2.77"), PC_STR_NULL, T0, NULL);
	assert_int_equal(pc_failures_count(t, &c, true, PC_STR("192.0.2.77"), T0), 1);
	/* An identity spelled like an address is another key. */
	assert_int_equal(pc_failures_count(t, &c, false, PC_STR("192.0.2.77"), T0), 0);
	pc_failures_free(t);
}

/* Keys made to share shard 0 and home slot 3, so one probe window holds them all. */
static uint64_t
crafted(unsigned i)
{
	return ((uint64_t)(i + 1) << 16) | 3u;
}

static void
test_eviction_when_the_window_is_full(void **state)
{
	struct pc_failures	*t = pc_failures_new(1024);
	struct shard		*s;
	struct entry		*e;
	uint64_t		 w = 60000, now = T0 + 1000;
	unsigned		 i, j;

	(void)state;
	s = &t->shards[0];
	for (i = 0; i < PC_FAILURES_PROBE; i++) {
		e = get(s, crafted(i), w, now);
		assert_true(e->key == crafted(i));
		roll(e, w, now);
		for (j = 0; j < 10 + i; j++)
			e->cur++;
	}
	/* Slot 0 (crafted(0), 10 failures) is the least useful: a newcomer takes it. */
	e = get(s, crafted(100), w, now);
	assert_true(e->key == crafted(100));
	assert_int_equal(e->cur, 0);
	assert_null(lookup(s, crafted(0)));
	for (i = 1; i < PC_FAILURES_PROBE; i++)
		assert_non_null(lookup(s, crafted(i)));
	/* Locked entries go last: lock all but crafted(5), which then goes even though it
	 * has more failures than the newcomer. */
	for (i = 1; i < PC_FAILURES_PROBE; i++)
		if (i != 5)
			lookup(s, crafted(i))->locked_until_ms = now + 1000 + i;
	lookup(s, crafted(100))->locked_until_ms = now + 5000;
	e = get(s, crafted(200), w, now);
	assert_null(lookup(s, crafted(5)));
	/* All locked: the lock that ends first goes. */
	e->locked_until_ms = now + 9000;
	e = get(s, crafted(300), w, now);
	assert_null(lookup(s, crafted(1)));
	assert_non_null(lookup(s, crafted(2)));
	/* A forgotten entry (two windows old, not locked) is reused before anything else. */
	e = get(s, crafted(400), w, now + 10 * w);
	assert_true(e->key == crafted(400));
	pc_failures_free(t);
}

static void
test_table_memory_is_bounded(void **state)
{
	struct pc_failures *t = pc_failures_new(65536);

	(void)state;
	assert_int_equal(t->per_shard, 1024);
	assert_true(pc_failures_bytes(t) < 65536u * PC_FAILURES_ENTRY_BYTES + 16384);
	assert_int_equal(sizeof(struct entry), PC_FAILURES_ENTRY_BYTES);
	pc_failures_free(t);
	t = pc_failures_new(0);
	assert_int_equal(t->per_shard, PER_SHARD_MIN);
	pc_failures_free(t);
	t = pc_failures_new(1000);	/* rounded up to a power of two per shard */
	assert_int_equal(t->per_shard, 16);
	pc_failures_free(t);
}

#define HAMMER	50000

struct hammer {
	struct pc_failures		*t;
	const struct pc_failures_conf	*c;
};

static void *
hammer(void *arg)
{
	struct hammer	*h = arg;
	unsigned	 i;

	for (i = 0; i < HAMMER; i++)
		(void)pc_failures_record(h->t, h->c, PC_STR("192.0.2.99"), PC_STR("dave"), T0,
		    NULL);
	return NULL;
}

static void
test_two_threads_on_one_key_count_exactly(void **state)
{
	struct pc_failures_conf	 c = conf_default();
	struct hammer		 h;
	pthread_t		 a, b;

	(void)state;
	c.lockout_after = 1000000;
	h.t = pc_failures_new(1024);
	h.c = &c;
	assert_int_equal(pthread_create(&a, NULL, hammer, &h), 0);
	assert_int_equal(pthread_create(&b, NULL, hammer, &h), 0);
	assert_int_equal(pthread_join(a, NULL), 0);
	assert_int_equal(pthread_join(b, NULL), 0);
	assert_int_equal(pc_failures_count(h.t, &c, true, PC_STR("192.0.2.99"), T0), 2 * HAMMER);
	assert_int_equal(pc_failures_count(h.t, &c, false, PC_STR("dave"), T0), 2 * HAMMER);
	pc_failures_free(h.t);
}

static void
test_process_table(void **state)
{
	struct pc_failures *t = pc_failures_new(1024);

	(void)state;
	assert_null(pc_failures_process());
	pc_failures_set_process(t);
	assert_ptr_equal(pc_failures_process(), t);
	pc_failures_set_process(NULL);
	pc_failures_free(t);
	pc_failures_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_reference_vectors),
		cmocka_unit_test(test_delay_rule),
		cmocka_unit_test(test_thresholds_doubling_and_cap),
		cmocka_unit_test(test_window_expiry),
		cmocka_unit_test(test_lockout_and_its_end),
		cmocka_unit_test(test_identity_delays_but_never_locks),
		cmocka_unit_test(test_success_forgets_the_identity_only),
		cmocka_unit_test(test_addresses_by_bytes_and_ipv6_per_64),
		cmocka_unit_test(test_eviction_when_the_window_is_full),
		cmocka_unit_test(test_table_memory_is_bounded),
		cmocka_unit_test(test_two_threads_on_one_key_count_exactly),
		cmocka_unit_test(test_process_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
