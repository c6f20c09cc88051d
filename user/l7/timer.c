// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The worker's timeouts: one FIFO list per duration (engine.h's l7_tkind). Every entry of a list
 * was armed for the same duration, so appending keeps the list sorted by expiry: arming and
 * stopping are O(1), and expiry looks only at list heads.
 */
#include <time.h>

#include "l7/engine.h"

static const uint32_t dur_ms[T_KINDS] = {
	[T_HEAD] = 10000, [T_IDLE] = 60000, [T_CONNECT] = 5000,
	[T_RESP] = 30000, [T_POOL] = 10000, [T_LINGER] = 2000, [T_PAUSE] = 1000,
};

void l7_timer_init(struct l7_worker *w)
{
	for (int k = 0; k < T_KINDS; k++)
		w->tl[k].prev = w->tl[k].next = &w->tl[k];
}

void l7_timer_stop(struct l7_tnode *t)
{
	if (t->kind == T_NONE)
		return;
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->prev = t->next = NULL;
	t->kind = T_NONE;
}

void l7_timer_arm(struct l7_worker *w, struct l7_tnode *t, enum l7_tkind k)
{
	struct l7_tnode *h = &w->tl[k];

	l7_timer_stop(t);
	t->at = w->now + dur_ms[k];
	t->kind = k;
	t->prev = h->prev;
	t->next = h;
	h->prev->next = t;
	h->prev = t;
}

int l7_timer_next(const struct l7_worker *w)
{
	uint64_t best = UINT64_MAX;

	for (int k = 1; k < T_KINDS; k++)
		if (w->tl[k].next != &w->tl[k] && w->tl[k].next->at < best)
			best = w->tl[k].next->at;
	if (best == UINT64_MAX)
		return -1;
	return best <= w->now ? 0 : (int)(best - w->now);
}

void l7_timer_run(struct l7_worker *w,
		  void (*fire)(struct l7_worker *, struct l7_tnode *, enum l7_tkind))
{
	for (enum l7_tkind k = 1; k < T_KINDS; k++) {
		struct l7_tnode *h = &w->tl[k];

		while (h->next != h && h->next->at <= w->now) {
			struct l7_tnode *t = h->next;

			l7_timer_stop(t);
			fire(w, t, k);
		}
	}
}

uint64_t l7_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
