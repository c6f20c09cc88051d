// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Remembered sources on the L7 path (sourceIp, balance source): a farm's client -> serverId
 * memory, shared by the workers. Set-associative like the XDP sticky table (bpf/pick.h): a
 * fixed size, so a flood of sources costs old entries, never memory; a bucket's stalest entry
 * makes room. Locks are per group of buckets: a request takes one for a few loads and stores.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "l7/policy.h"

#define STICKY_BUCKETS	4096	/* x STICKY_WAYS clients remembered per farm (~1 MiB) */
#define STICKY_WAYS	8
#define STICKY_LOCKS	64	/* bucket b is under lock b % STICKY_LOCKS */

struct sticky_ent {
	uint32_t w[4];
	uint32_t server;
	uint32_t seen;		/* monotonic seconds + 1; 0: empty */
	uint8_t family;
};

struct l7_sticky {
	pthread_mutex_t lock[STICKY_LOCKS];
	struct sticky_ent b[STICKY_BUCKETS][STICKY_WAYS];
};

int l7_sticky_new(struct l7_sticky **out)
{
	struct l7_sticky *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < STICKY_LOCKS; i++)
		pthread_mutex_init(&t->lock[i], NULL);
	*out = t;
	return 0;
}

void l7_sticky_free(struct l7_sticky *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < STICKY_LOCKS; i++)
		pthread_mutex_destroy(&t->lock[i]);
	free(t);
}

static uint32_t now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec + 1;
}

static bool live(const struct sticky_ent *e, uint32_t now, uint32_t timeout)
{
	return e->seen && now - e->seen <= timeout;
}

static bool same(const struct sticky_ent *e, const struct l7_client *c)
{
	return e->family == c->family && !memcmp(e->w, c->w, sizeof(e->w));
}

/* The bucket of c, locked. */
static struct sticky_ent *bucket_lock(struct l7_sticky *t, const struct l7_client *c,
				      pthread_mutex_t **lock)
{
	size_t b = c->hash % STICKY_BUCKETS;

	*lock = &t->lock[b % STICKY_LOCKS];
	pthread_mutex_lock(*lock);
	return t->b[b];
}

bool l7_sticky_get(struct l7_sticky *t, const struct l7_client *c, uint32_t timeout,
		   uint32_t *server)
{
	uint32_t now = now_sec();
	pthread_mutex_t *lock;
	struct sticky_ent *b = bucket_lock(t, c, &lock);
	bool found = false;

	for (size_t i = 0; i < STICKY_WAYS; i++) {
		if (same(&b[i], c) && live(&b[i], now, timeout)) {
			b[i].seen = now;
			*server = b[i].server;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(lock);
	return found;
}

void l7_sticky_set(struct l7_sticky *t, const struct l7_client *c, uint32_t timeout,
		   uint32_t server)
{
	uint32_t now = now_sec();
	pthread_mutex_t *lock;
	struct sticky_ent *b = bucket_lock(t, c, &lock);
	size_t victim = STICKY_WAYS;

	/* c's own entry, else a dead one, else the stalest */
	for (size_t i = 0; i < STICKY_WAYS && victim == STICKY_WAYS; i++)
		if (same(&b[i], c))
			victim = i;
	for (size_t i = 0; i < STICKY_WAYS && victim == STICKY_WAYS; i++)
		if (!live(&b[i], now, timeout))
			victim = i;
	if (victim == STICKY_WAYS) {
		victim = 0;
		for (size_t i = 1; i < STICKY_WAYS; i++)
			if (b[i].seen < b[victim].seen)
				victim = i;
	}
	b[victim] = (struct sticky_ent){ .server = server, .seen = now, .family = c->family };
	memcpy(b[victim].w, c->w, sizeof(b[victim].w));
	pthread_mutex_unlock(lock);
}
