/*
 * core/arena.c - bump allocator with a hard cap and deferred cleanups (nginx pools).
 * Owns: request- and connection-lifetime memory. A cap hit is a NULL, never an abort.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/banned.h"

#define ARENA_CHUNK	4096u
#define ARENA_ALIGN	16u

struct chunk {
	struct chunk	*next;
	size_t		 cap, used;
	_Alignas(16) uint8_t data[];
};

struct defer {
	struct defer	*next;
	void		(*fn)(void *);
	void		*arg;
};

struct pc_arena {
	struct chunk	*head;
	struct defer	*defers;
	size_t		 total;		/* bytes of chunks allocated */
	size_t		 max;
};

struct pc_arena *
pc_arena_new(size_t max_bytes)
{
	struct pc_arena *a = calloc(1, sizeof(*a));

	if (a != NULL)
		a->max = max_bytes;
	return a;
}

void
pc_arena_free(struct pc_arena *a)
{
	struct chunk	*c, *cn;
	struct defer	*d;

	if (a == NULL)
		return;
	/* Cleanups run newest first, like destructors; they may not allocate from <a>. */
	for (d = a->defers; d != NULL; d = d->next)
		d->fn(d->arg);
	for (c = a->head; c != NULL; c = cn) {
		cn = c->next;
		free(c);
	}
	free(a);
}

void
pc_arena_reset(struct pc_arena *a)
{
	struct chunk	*c, *cn, *keep = NULL;
	struct defer	*d;

	for (d = a->defers; d != NULL; d = d->next)
		d->fn(d->arg);
	a->defers = NULL;
	for (c = a->head; c != NULL; c = cn) {
		cn = c->next;
		if (keep == NULL && c->cap == ARENA_CHUNK) {
			keep = c;
			continue;
		}
		free(c);
	}
	a->head = keep;
	a->total = 0;
	if (keep != NULL) {
		keep->next = NULL;
		keep->used = 0;
		a->total = keep->cap;
	}
}

void *
pc_arena_alloc(struct pc_arena *a, size_t n)
{
	struct chunk	*c = a->head;
	size_t		 cap, off;

	/* Bounds first, so neither the rounding nor the chunk header can wrap. */
	if (n > a->max || n > SIZE_MAX / 2)
		return NULL;
	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (c != NULL && c->cap - c->used >= n) {
		off = c->used;
		c->used += n;
		return c->data + off;
	}
	cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
	if (cap > a->max - a->total) {
		if (n > a->max - a->total)
			return NULL;
		cap = n;
	}
	c = malloc(sizeof(*c) + cap);
	if (c == NULL)
		return NULL;
	c->cap = cap;
	c->used = n;
	a->total += cap;
	/* Keep the fuller chunk behind: a big allocation does not strand the head's free room. */
	if (a->head != NULL && cap == n) {
		c->next = a->head->next;
		a->head->next = c;
	} else {
		c->next = a->head;
		a->head = c;
	}
	return c->data;
}

void *
pc_arena_zalloc(struct pc_arena *a, size_t n)
{
	void *p = pc_arena_alloc(a, n);

	if (p != NULL)
		memset(p, 0, n);
	return p;
}

char *
pc_arena_strdup(struct pc_arena *a, struct pc_str s)
{
	char *p;

	if (s.len == SIZE_MAX)
		return NULL;
	p = pc_arena_alloc(a, s.len + 1);
	if (p == NULL)
		return NULL;
	if (s.len)
		memcpy(p, s.ptr, s.len);
	p[s.len] = '\0';
	return p;
}

int
pc_arena_defer(struct pc_arena *a, void (*fn)(void *), void *arg)
{
	struct defer *d = pc_arena_alloc(a, sizeof(*d));

	if (d == NULL)
		return -PC_ENOMEM;
	d->fn = fn;
	d->arg = arg;
	d->next = a->defers;
	a->defers = d;
	return 0;
}

size_t
pc_arena_used(const struct pc_arena *a)
{
	return a->total;
}
