/*
 * core/loop.c - one event loop per worker thread: edge-triggered epoll, a binary min-heap of
 * timers, an eventfd for cross-thread wake-ups, and deferred frees.
 * Owns: readiness and time. Knows nothing of connections, HTTP or configuration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/core.h"
#include "core/banned.h"

#define LOOP_EVENTS	256

struct pc_loop {
	int		 epfd;
	struct pc_io	 wake;		/* eventfd */
	bool		 stop;
	uint64_t	 now_ms;
	struct pc_timer	**heap;		/* 1-based; heap[0] unused */
	uint32_t	 nheap, capheap;
	struct pc_defer	*defer_head;	/* FIFO of deferred calls */
	struct pc_defer	**defer_tail;
	void		(*notify_cb)(struct pc_loop *, void *);
	void		*notify_arg;
	void		(*iter_cb)(struct pc_loop *, void *);
	void		*iter_arg;
	void		*data;
};

static void
wake_cb(struct pc_loop *loop, struct pc_io *io, unsigned events)
{
	uint64_t	v;

	/* Registered for writes too (every io is): only a readable counter is a notify. */
	if (!(events & PC_IO_READ))
		return;
	/* Drain the counter: the notification is level information ("something changed"). */
	while (read(io->fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
	if (loop->notify_cb != NULL)
		loop->notify_cb(loop, loop->notify_arg);
}

struct pc_loop *
pc_loop_new(void)
{
	struct pc_loop *loop = calloc(1, sizeof(*loop));

	if (loop == NULL)
		return NULL;
	loop->wake.fd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd == -1)
		goto fail;
	loop->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->wake.fd == -1)
		goto fail;
	loop->wake.cb = wake_cb;
	if (pc_loop_add(loop, &loop->wake) != 0)
		goto fail;
	loop->now_ms = pc_now_ms();
	loop->defer_tail = &loop->defer_head;
	return loop;
fail:
	if (loop->wake.fd != -1)
		close(loop->wake.fd);
	if (loop->epfd != -1)
		close(loop->epfd);
	free(loop);
	return NULL;
}

static void	run_deferred(struct pc_loop *loop);

void
pc_loop_free(struct pc_loop *loop)
{
	if (loop == NULL)
		return;
	run_deferred(loop);
	close(loop->wake.fd);
	close(loop->epfd);
	free(loop->heap);
	free(loop);
}

int
pc_loop_add(struct pc_loop *loop, struct pc_io *io)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	/* Edge-triggered, registered once: no epoll_ctl per state change on the hot path. The
	 * owner reads/writes until EAGAIN and remembers readiness itself. */
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = io;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, io->fd, &ev) == -1)
		return pc_err_errno(errno);
	return 0;
}

void
pc_loop_del(struct pc_loop *loop, struct pc_io *io)
{
	if (io->fd >= 0)
		(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

/* ---- timers: binary min-heap, each timer knows its slot so disarm is O(log n) ---- */

static void
heap_set(struct pc_loop *loop, uint32_t i, struct pc_timer *t)
{
	loop->heap[i] = t;
	t->idx = i;
}

static void
heap_up(struct pc_loop *loop, uint32_t i)
{
	struct pc_timer *t = loop->heap[i];

	while (i > 1 && loop->heap[i / 2]->deadline_ms > t->deadline_ms) {
		heap_set(loop, i, loop->heap[i / 2]);
		i /= 2;
	}
	heap_set(loop, i, t);
}

static void
heap_down(struct pc_loop *loop, uint32_t i)
{
	struct pc_timer	*t = loop->heap[i];
	uint32_t	 c;

	for (;;) {
		c = 2 * i;
		if (c > loop->nheap)
			break;
		if (c + 1 <= loop->nheap &&
		    loop->heap[c + 1]->deadline_ms < loop->heap[c]->deadline_ms)
			c++;
		if (loop->heap[c]->deadline_ms >= t->deadline_ms)
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void
pc_timer_disarm(struct pc_loop *loop, struct pc_timer *t)
{
	uint32_t	 i = t->idx;
	struct pc_timer	*last;

	if (i == 0)
		return;
	t->idx = 0;
	last = loop->heap[loop->nheap--];
	if (i > loop->nheap)
		return;
	heap_set(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->idx);
}

void
pc_timer_arm(struct pc_loop *loop, struct pc_timer *t, uint64_t delay_ms)
{
	uint64_t deadline = loop->now_ms + delay_ms;

	if (t->idx != 0) {
		/* Re-arming later (the common case: activity pushes an idle deadline out). */
		if (deadline == t->deadline_ms)
			return;
		t->deadline_ms = deadline;
		heap_up(loop, t->idx);
		heap_down(loop, t->idx);
		return;
	}
	if (loop->nheap + 1 >= loop->capheap) {
		uint32_t	  cap = loop->capheap ? loop->capheap * 2 : 256;
		struct pc_timer	**h = realloc(loop->heap, cap * sizeof(*h));

		/* Timers guard every connection: a loop that cannot grow its heap cannot keep
		 * its promises, so this is one of the few startup-like allocations that dies. */
		PC_ASSERT(h != NULL);
		loop->heap = h;
		loop->capheap = cap;
	}
	t->deadline_ms = deadline;
	heap_set(loop, ++loop->nheap, t);
	heap_up(loop, loop->nheap);
}

static void
run_timers(struct pc_loop *loop)
{
	struct pc_timer *t;

	while (loop->nheap > 0 && loop->heap[1]->deadline_ms <= loop->now_ms) {
		t = loop->heap[1];
		pc_timer_disarm(loop, t);
		t->cb(loop, t);
	}
}

void
pc_loop_defer(struct pc_loop *loop, struct pc_defer *d, void (*fn)(void *), void *arg)
{
	d->fn = fn;
	d->arg = arg;
	d->next = NULL;
	*loop->defer_tail = d;
	loop->defer_tail = &d->next;
}

static void
run_deferred(struct pc_loop *loop)
{
	struct pc_defer *d;

	/* Unlink before calling: the call may free the node, or defer it (or others) again,
	 * which then run in this same pass. */
	while ((d = loop->defer_head) != NULL) {
		loop->defer_head = d->next;
		if (loop->defer_head == NULL)
			loop->defer_tail = &loop->defer_head;
		d->fn(d->arg);
	}
}

int
pc_loop_run(struct pc_loop *loop)
{
	struct epoll_event	evs[LOOP_EVENTS];
	int			n, i, timeout;
	struct pc_io		*io;
	unsigned		 events;
	uint32_t		 e;

	loop->stop = false;	/* a loop can be run again after pc_loop_stop() */
	while (!loop->stop) {
		timeout = -1;
		if (loop->nheap > 0) {
			uint64_t d = loop->heap[1]->deadline_ms;

			timeout = d <= loop->now_ms ? 0 :
			    (d - loop->now_ms > 60000 ? 60000 : (int)(d - loop->now_ms));
		}
		n = epoll_wait(loop->epfd, evs, LOOP_EVENTS, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return pc_err_errno(errno);
		}
		loop->now_ms = pc_now_ms();
		for (i = 0; i < n; i++) {
			io = evs[i].data.ptr;
			if (io->fd < 0)
				continue;
			e = evs[i].events;
			events = 0;
			if (e & EPOLLIN)
				events |= PC_IO_READ;
			if (e & EPOLLOUT)
				events |= PC_IO_WRITE;
			if (e & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
				events |= PC_IO_HUP | PC_IO_READ;
			io->cb(loop, io, events);
		}
		run_deferred(loop);
		run_timers(loop);
		run_deferred(loop);
		if (loop->iter_cb != NULL)
			loop->iter_cb(loop, loop->iter_arg);
	}
	return 0;
}

void
pc_loop_stop(struct pc_loop *loop)
{
	loop->stop = true;
}

void
pc_loop_notify(struct pc_loop *loop)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: the loop will wake anyway. */
	(void)!write(loop->wake.fd, &one, sizeof(one));
}

void
pc_loop_on_notify(struct pc_loop *loop, void (*cb)(struct pc_loop *, void *), void *arg)
{
	loop->notify_cb = cb;
	loop->notify_arg = arg;
}

void
pc_loop_on_iteration(struct pc_loop *loop, void (*cb)(struct pc_loop *, void *), void *arg)
{
	loop->iter_cb = cb;
	loop->iter_arg = arg;
}

uint64_t
pc_loop_now_ms(const struct pc_loop *loop)
{
	return loop->now_ms;
}

void *
pc_loop_data(const struct pc_loop *loop)
{
	return loop->data;
}

void
pc_loop_set_data(struct pc_loop *loop, void *data)
{
	loop->data = data;
}
