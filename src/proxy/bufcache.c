/*
 * proxy/bufcache.c - per-worker free lists of standard I/O buffers and request arenas.
 * Owns: reuse of the memory every request needs (a 16 KiB read buffer, an arena), so the
 * request path does not go through malloc and the heap does not grow and shrink (mprotect)
 * under load. Bounded: beyond PC_CACHE_MAX objects memory goes back to malloc.
 */
#include <stdlib.h>

#include "proxy/proxy_int.h"
#include "core/banned.h"

/* Gives the empty buffer <b> a standard-size allocation (cached when possible). Failure
 * leaves <b> unallocated; the next pc_buf_reserve() reports it. */
void
pc_buf_take(struct worker *w, struct pc_buf *b)
{
	if (b->data != NULL || b->max < PC_BUF_STD)
		return;
	b->data = w->nbufs > 0 ? w->bufs[--w->nbufs] : malloc(PC_BUF_STD);
	b->cap = b->data != NULL ? PC_BUF_STD : 0;
	b->len = 0;
}

/* Releases <b>'s memory and leaves it empty. */
void
pc_buf_give(struct worker *w, struct pc_buf *b)
{
	if (b->data != NULL && b->cap == PC_BUF_STD && w->nbufs < PC_CACHE_MAX)
		w->bufs[w->nbufs++] = b->data;
	else
		free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

struct pc_arena *
pc_arena_take(struct worker *w, size_t max)
{
	/* All request arenas of a worker have the same cap, so any cached one fits. */
	if (w->narenas > 0)
		return w->arenas[--w->narenas];
	return pc_arena_new(max);
}

void
pc_arena_give(struct worker *w, struct pc_arena *a)
{
	if (a == NULL)
		return;
	if (w->narenas >= PC_CACHE_MAX) {
		pc_arena_free(a);
		return;
	}
	pc_arena_reset(a);
	w->arenas[w->narenas++] = a;
}

void
pc_cache_fini(struct worker *w)
{
	while (w->nbufs > 0)
		free(w->bufs[--w->nbufs]);
	while (w->narenas > 0)
		pc_arena_free(w->arenas[--w->narenas]);
}
