// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>

#include "health/sched.h"

static bool before(const struct timer *a, const struct timer *b)
{
	return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static void place(struct sched *s, struct timer *t, size_t i)
{
	s->heap[i] = t;
	t->pos = (uint32_t)i;
}

static void sift_up(struct sched *s, struct timer *t, size_t i)
{
	while (i) {
		size_t parent = (i - 1) / 2;

		if (!before(t, s->heap[parent]))
			break;
		place(s, s->heap[parent], i);
		i = parent;
	}
	place(s, t, i);
}

static void sift_down(struct sched *s, struct timer *t, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->n)
			break;
		if (c + 1 < s->n && before(s->heap[c + 1], s->heap[c]))
			c++;
		if (!before(s->heap[c], t))
			break;
		place(s, s->heap[c], i);
		i = c;
	}
	place(s, t, i);
}

int sched_reserve(struct sched *s, size_t n)
{
	struct timer **heap;

	if (n <= s->cap)
		return 0;
	/* positions are 32-bit, TIMER_IDLE excluded */
	if (n >= TIMER_IDLE)
		return -ENOMEM;
	heap = realloc(s->heap, n * sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	s->heap = heap;
	s->cap = n;
	return 0;
}

void sched_set(struct sched *s, struct timer *t, uint64_t due)
{
	bool later = due > t->due;

	t->due = due;
	if (!timer_queued(t))
		sift_up(s, t, s->n++);
	else if (later)
		sift_down(s, t, t->pos);
	else
		sift_up(s, t, t->pos);
}

void sched_del(struct sched *s, struct timer *t)
{
	size_t i = t->pos;
	struct timer *last;

	if (!timer_queued(t))
		return;
	t->pos = TIMER_IDLE;
	last = s->heap[--s->n];
	if (last == t)
		return;
	/* the last timer takes t's place, then moves whichever way its key says */
	if (i && before(last, s->heap[(i - 1) / 2]))
		sift_up(s, last, i);
	else
		sift_down(s, last, i);
}

void sched_free(struct sched *s)
{
	free(s->heap);
	*s = (struct sched){ 0 };
}
