/*
 * tests/unit/core/test_loop.c - core/loop.c: lifecycle, the timer heap (arm, disarm,
 * re-arm, deadline order, duplicates, a timer re-arming itself), io readiness on pipes and
 * socketpairs (data, peer close, del, a closed io skipped within its batch), cross-thread
 * notify, deferred calls after the batch, and the per-iteration hook. Delays are a few ms;
 * a guard timer fails any test that would otherwise hang, and alarm() backs it up.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "core/banned.h"

#define CONTAINER(p, type, field) ((type *)(void *)((char *)(p) - offsetof(type, field)))

static bool g_guard_fired;

/* Fails the test (after the loop returns) instead of letting it hang. */
static void
guard_cb(struct pc_loop *loop, struct pc_timer *t)
{
	(void)t;
	g_guard_fired = true;
	pc_loop_stop(loop);
}

static void
run_guarded(struct pc_loop *loop, struct pc_timer *guard, uint64_t ms)
{
	memset(guard, 0, sizeof(*guard));
	guard->cb = guard_cb;
	g_guard_fired = false;
	pc_timer_arm(loop, guard, ms);
	assert_int_equal(pc_loop_run(loop), 0);
	pc_timer_disarm(loop, guard);
	assert_false(g_guard_fired);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* ---- lifecycle ---- */

static void
test_new_free(void **state)
{
	struct pc_loop	*loop;
	int		 x;
	uint64_t	 now;

	(void)state;
	loop = pc_loop_new();
	assert_non_null(loop);
	assert_null(pc_loop_data(loop));
	pc_loop_set_data(loop, &x);
	assert_ptr_equal(pc_loop_data(loop), &x);
	/* The cached clock starts at "now", not at 0: timers armed before run are sane. */
	now = pc_now_ms();
	assert_true(pc_loop_now_ms(loop) <= now && now - pc_loop_now_ms(loop) < 1000);
	pc_loop_free(loop);
	pc_loop_free(NULL);				/* accepts NULL */

	/* Many loops in a row: no fd leak makes the 200th fail. */
	for (x = 0; x < 200; x++) {
		loop = pc_loop_new();
		assert_non_null(loop);
		pc_loop_free(loop);
	}
}

/* ---- timers ---- */

#define NTIMERS	50

struct tt {
	struct pc_timer	 t;
	int		 id;
	uint64_t	 want_deadline;
	bool		 disarmed;
	int		 fired;
};

static struct {
	struct tt	 tt[NTIMERS];
	int		 order[NTIMERS];
	int		 nfired, nexpected;
} g_tm;

static void
tt_cb(struct pc_loop *loop, struct pc_timer *t)
{
	struct tt *x = CONTAINER(t, struct tt, t);

	/* A timer is disarmed before its callback: the callback may re-arm it. */
	assert_false(pc_timer_armed(t));
	/* Never early: the loop's clock has reached the deadline. */
	assert_true(pc_loop_now_ms(loop) >= t->deadline_ms);
	x->fired++;
	g_tm.order[g_tm.nfired++] = x->id;
	/* Stop from the last expected timer's callback. */
	if (g_tm.nfired == g_tm.nexpected)
		pc_loop_stop(loop);
}

/*
 * 50 timers with pseudo-random delays (duplicates certain, 0 included), some disarmed,
 * some re-armed earlier or later: they fire once each, in deadline order, and disarmed
 * ones never fire.
 */
static void
test_timer_order(void **state)
{
	struct pc_loop	*loop = pc_loop_new();
	struct pc_timer	 guard;
	uint32_t	 x = 2463534242u;
	uint64_t	 base, d;
	int		 i, prev;

	(void)state;
	memset(&g_tm, 0, sizeof(g_tm));
	base = pc_loop_now_ms(loop);
	for (i = 0; i < NTIMERS; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		d = i == 0 ? 0 : x % 12;		/* 0..11 ms: many duplicates */
		g_tm.tt[i].id = i;
		g_tm.tt[i].t.cb = tt_cb;
		assert_false(pc_timer_armed(&g_tm.tt[i].t));
		pc_timer_arm(loop, &g_tm.tt[i].t, d);
		assert_true(pc_timer_armed(&g_tm.tt[i].t));
		g_tm.tt[i].want_deadline = base + d;
	}
	/* Disarm every 7th (including the heap root candidate 0 and the last armed). */
	for (i = 0; i < NTIMERS; i += 7) {
		pc_timer_disarm(loop, &g_tm.tt[i].t);
		assert_false(pc_timer_armed(&g_tm.tt[i].t));
		pc_timer_disarm(loop, &g_tm.tt[i].t);	/* twice: harmless */
		g_tm.tt[i].disarmed = true;
	}
	pc_timer_disarm(loop, &g_tm.tt[NTIMERS - 1].t);
	g_tm.tt[NTIMERS - 1].disarmed = true;
	/* Re-arm some armed ones: later, earlier, and to the same deadline. */
	for (i = 3; i < NTIMERS - 1; i += 5) {
		if (g_tm.tt[i].disarmed)
			continue;
		d = (uint64_t)((i * 3) % 15);
		pc_timer_arm(loop, &g_tm.tt[i].t, d);
		assert_true(pc_timer_armed(&g_tm.tt[i].t));
		g_tm.tt[i].want_deadline = base + d;
	}
	pc_timer_arm(loop, &g_tm.tt[4].t, g_tm.tt[4].want_deadline - base);	/* same */
	/* Disarm then re-arm: it is live again. */
	pc_timer_disarm(loop, &g_tm.tt[14].t);
	pc_timer_arm(loop, &g_tm.tt[14].t, 6);
	g_tm.tt[14].disarmed = false;
	g_tm.tt[14].want_deadline = base + 6;
	for (i = 0; i < NTIMERS; i++)
		if (!g_tm.tt[i].disarmed)
			g_tm.nexpected++;

	run_guarded(loop, &guard, 1000);

	assert_int_equal(g_tm.nfired, g_tm.nexpected);
	prev = -1;
	for (i = 0; i < g_tm.nfired; i++) {
		struct tt *t = &g_tm.tt[g_tm.order[i]];

		assert_int_equal(t->t.deadline_ms, t->want_deadline);
		if (prev >= 0 && t->want_deadline < g_tm.tt[prev].want_deadline)
			fail_msg("timer %d (deadline +%ju) fired after %d (+%ju)", t->id,
			    (uintmax_t)(t->want_deadline - base), prev,
			    (uintmax_t)(g_tm.tt[prev].want_deadline - base));
		prev = t->id;
	}
	for (i = 0; i < NTIMERS; i++) {
		assert_int_equal(g_tm.tt[i].fired, g_tm.tt[i].disarmed ? 0 : 1);
		assert_false(pc_timer_armed(&g_tm.tt[i].t));
	}
	pc_loop_free(loop);
}

static int g_repeat;

static void
repeat_cb(struct pc_loop *loop, struct pc_timer *t)
{
	/* Re-arming from its own callback is the idle-timer pattern. */
	if (++g_repeat < 4)
		pc_timer_arm(loop, t, 1);
	else
		pc_loop_stop(loop);
}

static void
test_timer_rearm_in_cb(void **state)
{
	struct pc_loop	*loop = pc_loop_new();
	struct pc_timer	 t = { 0, 0, repeat_cb }, guard;
	uint64_t	 t0 = pc_now_ms();

	(void)state;
	g_repeat = 0;
	pc_timer_arm(loop, &t, 1);
	run_guarded(loop, &guard, 1000);
	assert_int_equal(g_repeat, 4);
	assert_false(pc_timer_armed(&t));
	/* Four 1 ms waits take at least about 3 ms of real time (the loop does not spin). */
	assert_true(pc_now_ms() - t0 >= 3);
	pc_loop_free(loop);
}

static void
never_cb(struct pc_loop *loop, struct pc_timer *t)
{
	(void)loop;
	(void)t;
	fail_msg("a disarmed timer fired");
}

static void
stop_cb(struct pc_loop *loop, struct pc_timer *t)
{
	(void)t;
	pc_loop_stop(loop);
}

/* Timers still armed when the loop is freed are simply dropped; a far one never fires. */
static void
test_timer_far_and_free(void **state)
{
	struct pc_loop	*loop = pc_loop_new();
	struct pc_timer	 far = { 0, 0, never_cb }, near = { 0, 0, stop_cb }, guard;
	struct pc_timer	 many[600];
	int		 i;

	(void)state;
	pc_timer_arm(loop, &far, 3600 * 1000);		/* past the 60 s epoll clamp */
	/* More than the initial heap capacity (256): the heap grows. */
	for (i = 0; i < 600; i++) {
		many[i].cb = never_cb;
		many[i].idx = 0;
		pc_timer_arm(loop, &many[i], 100000 + (uint64_t)i);
	}
	for (i = 0; i < 600; i += 2)
		pc_timer_disarm(loop, &many[i]);
	pc_timer_arm(loop, &near, 2);
	run_guarded(loop, &guard, 1000);
	assert_true(pc_timer_armed(&far));
	for (i = 0; i < 600; i++)
		assert_int_equal(pc_timer_armed(&many[i]), i % 2 == 1);
	pc_loop_free(loop);
}

/* ---- io ---- */

struct iot {
	struct pc_io	 io;
	int		 peer;		/* the other end, closed after the first data */
	int		 reads, hups;
	unsigned	 all;
	char		 got[16];
	size_t		 ngot;
};

static void
io_cb(struct pc_loop *loop, struct pc_io *io, unsigned events)
{
	struct iot	*x = CONTAINER(io, struct iot, io);
	ssize_t		 n;
	char		 buf[16];

	x->all |= events;
	/* PC_IO_HUP always comes with PC_IO_READ: the handler reads to learn what happened. */
	if (events & PC_IO_HUP)
		assert_true(events & PC_IO_READ);
	if (!(events & PC_IO_READ))
		return;
	x->reads++;
	if (events & PC_IO_HUP)
		x->hups++;
	for (;;) {
		n = read(io->fd, buf, sizeof(buf));
		if (n > 0) {
			assert_true(x->ngot + (size_t)n <= sizeof(x->got));
			memcpy(x->got + x->ngot, buf, (size_t)n);
			x->ngot += (size_t)n;
			continue;
		}
		if (n == 0) {				/* EOF: the peer closed */
			assert_true(x->hups > 0);
			pc_loop_stop(loop);
			return;
		}
		assert_int_equal(errno, EAGAIN);	/* edge-triggered: read to EAGAIN */
		break;
	}
	if (x->ngot > 0 && x->peer >= 0) {
		/* Data arrived: now the peer closes, which must give HUP|READ. */
		close(x->peer);
		x->peer = -1;
	}
}

static void
io_roundtrip(int rfd, int wfd)
{
	struct pc_loop	*loop = pc_loop_new();
	struct pc_timer	 guard;
	struct iot	 x;

	memset(&x, 0, sizeof(x));
	x.io.fd = rfd;
	x.io.cb = io_cb;
	x.peer = wfd;
	assert_int_equal(pc_loop_add(loop, &x.io), 0);
	assert_int_equal(write(wfd, "hello", 5), 5);
	run_guarded(loop, &guard, 1000);
	assert_int_equal(x.ngot, 5);
	assert_memory_equal(x.got, "hello", 5);
	assert_true(x.all & PC_IO_READ);
	assert_true(x.all & PC_IO_HUP);
	assert_true(x.hups >= 1);
	assert_int_equal(x.peer, -1);
	pc_loop_del(loop, &x.io);
	close(rfd);
	pc_loop_free(loop);
}

static void
test_io_socketpair(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
	    0);
	io_roundtrip(sv[0], sv[1]);
}

static void
test_io_pipe(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	io_roundtrip(p[0], p[1]);
}

/* A writable socket reports PC_IO_WRITE (the io is registered for both directions). */
static void
wr_cb(struct pc_loop *loop, struct pc_io *io, unsigned events)
{
	struct iot *x = CONTAINER(io, struct iot, io);

	x->all |= events;
	if (events & PC_IO_WRITE)
		pc_loop_stop(loop);
}

static void
test_io_write(void **state)
{
	struct pc_loop	*loop = pc_loop_new();
	struct pc_timer	 guard;
	struct iot	 x;
	int		 sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	memset(&x, 0, sizeof(x));
	x.io.fd = sv[0];
	x.io.cb = wr_cb;
	assert_int_equal(pc_loop_add(loop, &x.io), 0);
	run_guarded(loop, &guard, 1000);
	assert_true(x.all & PC_IO_WRITE);
	assert_false(x.all & PC_IO_HUP);
	pc_loop_del(loop, &x.io);
	close(sv[0]);
	close(sv[1]);
	pc_loop_free(loop);
}

/* Adding a bad fd fails with a code, and its callback is never called. */
static void
never_io(struct pc_loop *loop, struct pc_io *io, unsigned events)
{
	(void)loop;
	(void)io;
	(void)events;
	fail_msg("callback of a failed or deleted io was called");
}

static void
test_io_add_fail(void **state)
{
	struct pc_loop	*loop = pc_loop_new();
	struct pc_io	 io = { -1, never_io };
	struct pc_timer	 t = { 0, 0, stop_cb }, guard;
	int		 p[2], rc;

	(void)state;
	rc = pc_loop_add(loop, &io);
	assert_true(rc < 0 && -rc < PC_E_COUNT);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	io.fd = p[0];
	assert_int_equal(pc_loop_add(loop, &io), 0);
	assert_true(pc_loop_add(loop, &io) < 0);	/* twice: EEXIST, a code */
	/* After del, data on the fd wakes no one. */
	pc_loop_del(loop, &io);
	assert_int_equal(write(p[1], "x", 1), 1);
	pc_timer_arm(loop, &t, 3);
	run_guarded(loop, &guard, 1000);
	close(p[0]);
	close(p[1]);
	pc_loop_free(loop);
}

/*
 * Two ios ready in the same batch: the first callback "closes" the other (fd = -1, the
 * documented convention) and defers its free; the other's callback must not run, and the
 * deferred free runs after the whole batch.
 */
struct pairt {
	struct pc_io	 io[2];
	int		 fds[2][2];
	int		 called[2];
	int		 log[8];
	int		 nlog;
	bool		 deferred_ran;
};

static struct pairt g_pair;
static struct pc_defer g_pair_defer;

static void
pair_deferred(void *arg)
{
	struct pairt *pt = arg;

	pt->log[pt->nlog++] = 100;
	pt->deferred_ran = true;
}

static void
pair_cb(struct pc_loop *loop, struct pc_io *io, unsigned events)
{
	int me = io == &g_pair.io[0] ? 0 : 1;

	(void)events;
	assert_false(g_pair.deferred_ran);		/* deferrals wait for the batch end */
	g_pair.called[me]++;
	g_pair.log[g_pair.nlog++] = me;
	g_pair.io[1 - me].fd = -1;
	pc_loop_defer(loop, &g_pair_defer, pair_deferred, &g_pair);
}

static void
pair_iter(struct pc_loop *loop, void *arg)
{
	struct pairt *pt = arg;

	pt->log[pt->nlog++] = 200;
	pc_loop_stop(loop);
}

static void
test_defer_and_closed_io(void **state)
{
	struct pc_loop	*loop = pc_loop_new();
	struct pc_timer	 guard;
	int		 i;

	(void)state;
	memset(&g_pair, 0, sizeof(g_pair));
	for (i = 0; i < 2; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
		    g_pair.fds[i]), 0);
		g_pair.io[i].fd = g_pair.fds[i][0];
		g_pair.io[i].cb = pair_cb;
		assert_int_equal(pc_loop_add(loop, &g_pair.io[i]), 0);
	}
	pc_loop_on_iteration(loop, pair_iter, &g_pair);
	run_guarded(loop, &guard, 1000);
	/* Exactly one ran: the other was closed within the same batch. */
	assert_int_equal(g_pair.called[0] + g_pair.called[1], 1);
	/* Order: the io callback, then the deferral, then the iteration hook. */
	assert_int_equal(g_pair.nlog, 3);
	assert_true(g_pair.log[0] == 0 || g_pair.log[0] == 1);
	assert_int_equal(g_pair.log[1], 100);
	assert_int_equal(g_pair.log[2], 200);
	for (i = 0; i < 2; i++) {
		close(g_pair.fds[i][0]);
		close(g_pair.fds[i][1]);
	}
	pc_loop_free(loop);
}

/* A deferral may defer again: both run in the same pass; free runs what is left. */
static int g_chain;
static struct pc_defer g_chain_defer;

static void
chain_fn(void *arg)
{
	struct pc_loop *loop = arg;

	/* The node that just ran is free again: deferring it from its own call is allowed. */
	if (++g_chain < 100)
		pc_loop_defer(loop, &g_chain_defer, chain_fn, loop);
}

static void
chain_timer(struct pc_loop *loop, struct pc_timer *t)
{
	(void)t;
	pc_loop_defer(loop, &g_chain_defer, chain_fn, loop);
}

static int g_iters;

static void
chain_iter(struct pc_loop *loop, void *arg)
{
	(void)arg;
	g_iters++;
	/* The whole chain (100 deferrals, the list grows past 64) ran before this hook. */
	if (g_chain > 0) {
		assert_int_equal(g_chain, 100);
		pc_loop_stop(loop);
	}
}

static void
count_fn(void *arg)
{
	(*(int *)arg)++;
}

static void
test_defer_chain(void **state)
{
	static struct pc_defer count_defer;
	struct pc_loop	*loop = pc_loop_new();
	struct pc_timer	 t = { 0, 0, chain_timer }, guard;
	int		 n = 0;

	(void)state;
	g_chain = 0;
	g_iters = 0;
	pc_loop_on_iteration(loop, chain_iter, NULL);
	pc_timer_arm(loop, &t, 1);
	run_guarded(loop, &guard, 1000);
	assert_int_equal(g_chain, 100);
	assert_true(g_iters >= 1);
	/* Deferred outside a run: pc_loop_free still calls it (no leak of the owner's object). */
	pc_loop_defer(loop, &count_defer, count_fn, &n);
	pc_loop_free(loop);
	assert_int_equal(n, 1);
}

/* on_iteration is called once per loop iteration, including timer-only ones. */
static void
iter_count(struct pc_loop *loop, void *arg)
{
	if (++*(int *)arg == 5)
		pc_loop_stop(loop);
}

static void
tick_cb(struct pc_loop *loop, struct pc_timer *t)
{
	pc_timer_arm(loop, t, 1);
}

static void
test_on_iteration(void **state)
{
	struct pc_loop	*loop = pc_loop_new();
	struct pc_timer	 tick = { 0, 0, tick_cb }, guard;
	int		 n = 0;

	(void)state;
	pc_loop_on_iteration(loop, iter_count, &n);
	pc_timer_arm(loop, &tick, 1);
	run_guarded(loop, &guard, 1000);
	assert_int_equal(n, 5);
	/* pc_loop_free leaves idx set: a timer that outlives its loop must be disarmed first. */
	pc_timer_disarm(loop, &tick);
	pc_loop_free(loop);

	/* A cleared hook is no longer called (a fresh loop: see test_run_again). */
	loop = pc_loop_new();
	pc_loop_on_iteration(loop, iter_count, &n);
	pc_loop_on_iteration(loop, NULL, NULL);
	{
		struct pc_timer stop = { 0, 0, stop_cb };

		pc_timer_arm(loop, &tick, 1);
		pc_timer_arm(loop, &stop, 4);
		run_guarded(loop, &guard, 1000);
		pc_timer_disarm(loop, &stop);
	}
	assert_int_equal(n, 5);
	pc_timer_disarm(loop, &tick);
	pc_loop_free(loop);
}

/*
 * Known bug (loop.c pc_loop_run): loop->stop is set by pc_loop_stop and never cleared, so
 * a second pc_loop_run on the same loop returns 0 at once without waiting for anything
 * (libuv clears its stop flag when uv_run returns). (Fixed; kept as a regression test.)
 */
static void
test_run_again(void **state)
{
	struct pc_loop	*loop;
	struct pc_timer	 a = { 0, 0, stop_cb }, b = { 0, 0, stop_cb }, guard;

	(void)state;
	loop = pc_loop_new();
	pc_timer_arm(loop, &a, 1);
	run_guarded(loop, &guard, 1000);
	pc_timer_arm(loop, &b, 2);
	run_guarded(loop, &guard, 1000);
	/* b must have fired (and been disarmed) during the second run. */
	assert_false(pc_timer_armed(&b));
	pc_timer_disarm(loop, &b);
	pc_loop_free(loop);
}

/* ---- notify ---- */

struct notifyt {
	pthread_t	 loop_thread;
	int		 calls;
	bool		 wrong_thread;
	int		 sent;		/* set by the notifier thread just before notifying */
	struct pc_loop	*loop;
};

static void
notify_cb(struct pc_loop *loop, void *arg)
{
	struct notifyt *n = arg;

	if (!pthread_equal(pthread_self(), n->loop_thread))
		n->wrong_thread = true;
	/* Only a call after the notify counts: a spurious early one (test_notify_not_spurious)
	 * must not let this test pass without a real cross-thread wake-up. */
	if (__atomic_load_n(&n->sent, __ATOMIC_ACQUIRE)) {
		n->calls++;
		pc_loop_stop(loop);
	}
}

static void *
notifier(void *arg)
{
	struct notifyt *n = arg;

	sleep_ms(3);					/* let the loop block in epoll_wait */
	__atomic_store_n(&n->sent, 1, __ATOMIC_RELEASE);
	pc_loop_notify(n->loop);
	return NULL;
}

static void
test_notify(void **state)
{
	struct notifyt	 n;
	struct pc_timer	 guard;
	pthread_t	 th;
	uint64_t	 t0;
	int		 round;

	(void)state;
	memset(&n, 0, sizeof(n));
	n.loop_thread = pthread_self();
	/* A fresh loop per round: a stopped loop cannot run again (test_run_again). */
	for (round = 1; round <= 3; round++) {
		n.loop = pc_loop_new();
		n.calls = 0;
		n.sent = 0;
		pc_loop_on_notify(n.loop, notify_cb, &n);
		assert_int_equal(pthread_create(&th, NULL, notifier, &n), 0);
		t0 = pc_now_ms();
		run_guarded(n.loop, &guard, 1000);
		assert_int_equal(pthread_join(th, NULL), 0);
		assert_true(n.calls >= 1);
		assert_false(n.wrong_thread);
		assert_true(pc_now_ms() - t0 < 500);	/* woken, not timed out */
		pc_loop_free(n.loop);
	}
}

/*
 * Several notifies before the loop runs still wake it. Exactly-once is not asserted: the
 * notify callback may also run spuriously (see test_notify_not_spurious).
 */
static void
test_notify_collapse(void **state)
{
	struct notifyt	 n;
	struct pc_timer	 guard;

	(void)state;
	memset(&n, 0, sizeof(n));
	n.loop_thread = pthread_self();
	n.loop = pc_loop_new();
	pc_loop_on_notify(n.loop, notify_cb, &n);
	n.sent = 1;
	pc_loop_notify(n.loop);
	pc_loop_notify(n.loop);
	pc_loop_notify(n.loop);
	run_guarded(n.loop, &guard, 1000);
	assert_true(n.calls >= 1);
	assert_false(n.wrong_thread);
	pc_loop_free(n.loop);
}

/*
 * Known bug (loop.c wake_cb / pc_loop_new): the eventfd is registered with EPOLLOUT too,
 * and wake_cb calls the notify callback for any event. An eventfd is writable, so the
 * first iteration (and the writable edge after each drain) calls on_notify although no one
 * called pc_loop_notify. (Fixed; kept as a regression test.)
 */
static void
count_notify(struct pc_loop *loop, void *arg)
{
	(void)loop;
	(*(int *)arg)++;
}

static void
test_notify_not_spurious(void **state)
{
	struct pc_loop	*loop;
	struct pc_timer	 t = { 0, 0, stop_cb }, guard;
	int		 calls = 0;

	(void)state;
	loop = pc_loop_new();
	pc_loop_on_notify(loop, count_notify, &calls);
	pc_timer_arm(loop, &t, 3);
	run_guarded(loop, &guard, 1000);
	assert_int_equal(calls, 0);
	pc_loop_free(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timer_rearm_in_cb),
		cmocka_unit_test(test_timer_far_and_free),
		cmocka_unit_test(test_io_socketpair),
		cmocka_unit_test(test_io_pipe),
		cmocka_unit_test(test_io_write),
		cmocka_unit_test(test_io_add_fail),
		cmocka_unit_test(test_defer_and_closed_io),
		cmocka_unit_test(test_defer_chain),
		cmocka_unit_test(test_on_iteration),
		cmocka_unit_test(test_run_again),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_notify_collapse),
		cmocka_unit_test(test_notify_not_spurious),
	};

	/* Backstop for a hang the guard timers cannot catch (epoll never returning). */
	alarm(20);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
