// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The proxy as limpetd sees it (l7.h): the workers, the listeners, the snapshot publication.
 * Runs on the main thread only.
 *
 * An apply opens the new (VIP, port) listeners for every worker first, then hands each worker
 * its own reference to the new snapshot together with the listener changes (a mutex-guarded
 * list and an eventfd wake-up): the worker adopts the snapshot before it watches the new
 * listeners, and closes the listeners that left itself, so no worker ever waits on a closed
 * socket. A snapshot is freed by whoever drops its last reference.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "l7/engine.h"

static bool addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

	return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

static bool in_set(const struct l7_lcmd *set, size_t n, const struct sockaddr_storage *a)
{
	for (size_t i = 0; i < n; i++)
		if (addr_eq(&set[i].addr, a))
			return true;
	return false;
}

/* A listener of one worker: the VIP need not be configured yet (FREEBIND). */
static int listen_open(const struct sockaddr_storage *a, socklen_t len)
{
	int one = 1, fd, v6 = a->ss_family == AF_INET6;

	fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    (v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one)) ||
			  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))
		: setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one))) ||
	    bind(fd, (const struct sockaddr *)a, len) || listen(fd, SOMAXCONN)) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void addr_name(const struct sockaddr_storage *a, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;

		inet_ntop(AF_INET, &x->sin_addr, ip, sizeof(ip));
		snprintf(out, len, "%s:%u", ip, ntohs(x->sin_port));
	} else {
		const struct sockaddr_in6 *x = (const void *)a;

		inet_ntop(AF_INET6, &x->sin6_addr, ip, sizeof(ip));
		snprintf(out, len, "[%s]:%u", ip, ntohs(x->sin6_port));
	}
}

/* Per worker, in order: new listeners (fds open), then those to close (fd -1). */
static int changes(struct l7 *l, const struct l7_snap *s, struct l7_lcmd **cmds, char *err,
		   size_t errlen)
{
	char name[INET6_ADDRSTRLEN + 8];
	struct l7_lcmd **tail[l->nworkers];

	for (unsigned k = 0; k < l->nworkers; k++)
		tail[k] = &cmds[k];
	for (int pass = 0; pass < 2; pass++) {
		size_t n = pass ? l->nlst : s->nlisten;

		for (size_t i = 0; i < n; i++) {
			const struct sockaddr_storage *a = pass ? &l->lst[i].addr : &s->listen[i].addr;
			socklen_t len = pass ? l->lst[i].addrlen : s->listen[i].addrlen;

			if (pass ? l7_snap_listen(s, (const struct sockaddr *)a) != NULL
				 : in_set(l->lst, l->nlst, a) ||
					   (i && addr_eq(&s->listen[i - 1].addr, a)))
				continue;
			for (unsigned k = 0; k < l->nworkers; k++) {
				struct l7_lcmd *c = calloc(1, sizeof(*c));
				int fd = pass || !c ? -1 : listen_open(a, len);

				if (!c || (!pass && fd < 0)) {
					addr_name(a, name, sizeof(name));
					snprintf(err, errlen, "l7: listen on %s: %s", name,
						 strerror(c ? -fd : ENOMEM));
					free(c);
					return c ? fd : -ENOMEM;
				}
				c->fd = fd;
				memcpy(&c->addr, a, len);
				c->addrlen = len;
				*tail[k] = c;
				tail[k] = &c->next;
			}
		}
	}
	return 0;
}

/* The (address, port) pairs of s, once each (s->listen is sorted). */
static struct l7_lcmd *set_of(const struct l7_snap *s, size_t *n)
{
	struct l7_lcmd *set = calloc(s->nlisten ? s->nlisten : 1, sizeof(*set));

	*n = 0;
	for (size_t i = 0; set && i < s->nlisten; i++) {
		if (*n && addr_eq(&set[*n - 1].addr, &s->listen[i].addr))
			continue;
		set[*n].fd = -1;
		memcpy(&set[*n].addr, &s->listen[i].addr, s->listen[i].addrlen);
		set[*n].addrlen = s->listen[i].addrlen;
		(*n)++;
	}
	return set;
}

int l7_apply(struct l7 *l, const struct config *cfg, l7_eligible_fn eligible, void *arg,
	     char *err, size_t errlen)
{
	struct l7_lcmd *cmds[l->nworkers], *set;
	struct l7_snap *s;
	size_t nset;
	int r;

	r = l7_snap_build(cfg, eligible, arg, l->key, l->reg, l->gen + 1, &s, err, errlen);
	if (r)
		return r;
	memset(cmds, 0, sizeof(cmds));
	set = set_of(s, &nset);
	r = set ? changes(l, s, cmds, err, errlen) : -ENOMEM;
	if (r) {
		if (!set)
			snprintf(err, errlen, "l7: out of memory");
		for (unsigned k = 0; k < l->nworkers; k++)
			l7_lcmds_free(cmds[k]);
		free(set);
		l7_snap_put(s);
		return r;
	}
	for (unsigned k = 0; k < l->nworkers; k++) {
		struct l7_worker *w = &l->w[k];
		struct l7_lcmd **tail;

		l7_snap_put(atomic_exchange(&w->next_snap, l7_snap_get(s)));
		pthread_mutex_lock(&w->mu);
		for (tail = &w->cmds; *tail; tail = &(*tail)->next)
			;
		*tail = cmds[k];
		pthread_mutex_unlock(&w->mu);
		l7_worker_wake(w);
	}
	l7_snap_put(l->snap);
	l->snap = s;
	l->gen++;
	free(l->lst);
	l->lst = set;
	l->nlst = nset;
	return 0;
}

int l7_new(struct l7 **out, const struct l7_opts *o, char *err, size_t errlen)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct l7 *l = calloc(1, sizeof(*l));
	unsigned n;
	int r;

	if (!l) {
		snprintf(err, errlen, "l7: out of memory");
		return -ENOMEM;
	}
	r = l7_secret_load(o->state_dir, l->key, err, errlen);
	if (r)
		goto fail;
	r = l7_registry_new(&l->reg);
	n = o->workers ? o->workers : cpus > 0 ? (unsigned)cpus : 1;
	if (!r && !(l->w = calloc(n, sizeof(*l->w))))
		r = -ENOMEM;
	if (r) {
		snprintf(err, errlen, "l7: out of memory");
		goto fail;
	}
	/* l7_free stops the workers started so far */
	for (; l->nworkers < n; l->nworkers++) {
		r = l7_worker_start(l, &l->w[l->nworkers], err, errlen);
		if (r)
			goto fail;
	}
	*out = l;
	return 0;
fail:
	l7_free(l);
	return r;
}

json_t *l7_stats(struct l7 *l)
{
	atomic_uint_least64_t conns[G_KINDS];

	for (int g = 0; g < G_KINDS; g++) {
		uint64_t n = 0;

		for (unsigned k = 0; k < l->nworkers; k++)
			n += atomic_load_explicit(&l->w[k].gauge[g], memory_order_relaxed);
		atomic_init(&conns[g], n);
	}
	return l7_registry_json(l->reg, l->snap, conns);
}

void l7_cookie(const struct l7 *l, uint32_t farm, uint32_t server, char *out)
{
	l7_cookie_token(l->key, farm, server, out);
}

void l7_free(struct l7 *l)
{
	if (!l)
		return;
	for (unsigned k = 0; k < l->nworkers; k++)
		l7_worker_stop(&l->w[k]);
	free(l->w);
	l7_snap_put(l->snap);
	l7_registry_free(l->reg);
	free(l->lst);
	free(l);
}
