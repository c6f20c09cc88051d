// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A worker's idle backend connections, by server address: the next request to that address
 * takes one instead of connecting. Bounded (L7_POOL_MAX), each closed after T_POOL idle, or as
 * soon as its server closes it (an event while pooled).
 */
#include <string.h>

#include "l7/engine.h"

static unsigned bucket(const struct sockaddr *a, socklen_t len)
{
	const unsigned char *p = (const unsigned char *)a;
	uint32_t h = 2166136261u;	/* FNV-1a over the address bytes */

	for (socklen_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % L7_POOL_BUCKETS;
}

void l7_pool_put(struct l7_worker *w, struct l7_bk *b)
{
	struct l7_bk **head = &w->pool[bucket((const struct sockaddr *)&b->addr, b->addrlen)];

	if (w->npool == L7_POOL_MAX) {
		l7_bk_close(b);
		return;
	}
	b->owner = NULL;
	b->pprev = NULL;
	b->pnext = *head;
	if (*head)
		(*head)->pprev = b;
	*head = b;
	w->npool++;
	atomic_fetch_add_explicit(&w->gauge[G_IDLE], 1, memory_order_relaxed);
	l7_timer_arm(w, &b->c.tm, T_POOL);
}

void l7_pool_remove(struct l7_worker *w, struct l7_bk *b)
{
	if (b->pprev)
		b->pprev->pnext = b->pnext;
	else
		w->pool[bucket((const struct sockaddr *)&b->addr, b->addrlen)] = b->pnext;
	if (b->pnext)
		b->pnext->pprev = b->pprev;
	b->pprev = b->pnext = NULL;
	w->npool--;
	atomic_fetch_sub_explicit(&w->gauge[G_IDLE], 1, memory_order_relaxed);
	l7_timer_stop(&b->c.tm);
}

struct l7_bk *l7_pool_take(struct l7_worker *w, const struct sockaddr *addr, socklen_t len)
{
	struct l7_bk *b = w->pool[bucket(addr, len)];

	while (b && (b->addrlen != len || memcmp(&b->addr, addr, len)))
		b = b->pnext;
	if (b)
		l7_pool_remove(w, b);
	return b;
}
