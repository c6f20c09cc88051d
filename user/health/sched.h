/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The prober's timer queue: a binary min-heap of timers keyed by due time (CLOCK_MONOTONIC,
 * ns), each timer embedded in its owner and knowing its place in the heap, so that adding,
 * moving and removing one is O(log n) and the earliest is O(1). Room is reserved up front
 * (sched_reserve, at sync) so that the event loop never allocates.
 */
#ifndef LIMPET_HEALTH_SCHED_H
#define LIMPET_HEALTH_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMER_IDLE	UINT32_MAX

struct timer {
	uint64_t due;		/* CLOCK_MONOTONIC, ns */
	uint32_t pos;		/* index in the heap, TIMER_IDLE when not queued */
	uint8_t order;		/* among timers due at the same time, lower ones first */
};

struct sched {
	struct timer **heap;
	size_t n, cap;
};

static inline void timer_init(struct timer *t, uint8_t order)
{
	*t = (struct timer){ .pos = TIMER_IDLE, .order = order };
}

static inline bool timer_queued(const struct timer *t)
{
	return t->pos != TIMER_IDLE;
}

/* Room for n timers in all; 0 or -ENOMEM (the queue is unchanged then). */
int sched_reserve(struct sched *s, size_t n);
/* Queue t at due, or move it there if it is queued already; room must be reserved. */
void sched_set(struct sched *s, struct timer *t, uint64_t due);
void sched_del(struct sched *s, struct timer *t);
/* The earliest timer, NULL when none is queued. */
static inline struct timer *sched_first(const struct sched *s)
{
	return s->n ? s->heap[0] : NULL;
}
void sched_free(struct sched *s);

#endif /* LIMPET_HEALTH_SCHED_H */
