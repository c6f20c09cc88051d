// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Backend connections: opened non-blocking from the LB's own address (the kernel picks), with
 * TCP_NODELAY and, for a server that wants it, the PROXY header first; kept by their client
 * between its exchanges, then pooled for the worker's other clients (not those carrying a
 * client's PROXY header: that names one client).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "l7/engine.h"

static bool bk_for(const struct l7_bk *b, const struct l7_server *s)
{
	return b->addrlen == s->addrlen && !memcmp(&b->addr, &s->addr, s->addrlen) &&
	       b->pp == s->proxy_protocol;
}

static struct l7_bk *bk_ready(struct l7_cli *c, struct l7_bk *b)
{
	b->owner = c;
	b->reused = true;
	b->c.rd = false;	/* an idle connection had nothing to read, or it was closed */
	return b;
}

struct l7_bk *l7_bk_get(struct l7_cli *c, const struct l7_server *s, int *err)
{
	struct l7_bk *b = c->bk;

	c->bk = NULL;
	if (b && bk_for(b, s))
		return bk_ready(c, b);
	if (b)
		l7_bk_park(b);
	if (!s->proxy_protocol &&
	    (b = l7_pool_take(c->w, (const struct sockaddr *)&s->addr, s->addrlen)))
		return bk_ready(c, b);
	return l7_bk_connect(c, s, err);
}

struct l7_bk *l7_bk_connect(struct l7_cli *c, const struct l7_server *s, int *err)
{
	struct l7_worker *w = c->w;
	struct l7_bk *b = w->free_bk;
	int one = 1, fd;

	fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&s->addr, s->addrlen) && errno != EINPROGRESS) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	if (b) {
		w->free_bk = (struct l7_bk *)b->c.dead;
		w->nfree_bk--;
	} else if (!(b = malloc(sizeof(*b)))) {
		*err = -ENOMEM;
		close(fd);
		return NULL;
	}
	memset(b, 0, offsetof(struct l7_bk, in.d));
	b->c.fd = fd;
	b->c.type = C_BACKEND;
	b->w = w;
	b->owner = c;
	memcpy(&b->addr, &s->addr, s->addrlen);
	b->addrlen = s->addrlen;
	b->pp = s->proxy_protocol;
	if (b->pp)
		b->pp_len = (uint8_t)l7_pp_build(b->pp_hdr, b->pp,
						 (const struct sockaddr *)&c->peer,
						 (const struct sockaddr *)&c->local);
	*err = l7_epoll_add(w, &b->c, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
	atomic_fetch_add_explicit(&w->gauge[G_BACKEND], 1, memory_order_relaxed);
	if (*err) {
		l7_bk_close(b);
		return NULL;
	}
	return b;
}

void l7_bk_park(struct l7_bk *b)
{
	if (b->pp)
		l7_bk_close(b);
	else
		l7_pool_put(b->w, b);
}

void l7_bk_close(struct l7_bk *b)
{
	struct l7_worker *w = b->w;

	if (!b->owner)
		l7_pool_remove(w, b);
	l7_timer_stop(&b->c.tm);
	close(b->c.fd);
	b->c.fd = -1;
	atomic_fetch_sub_explicit(&w->gauge[G_BACKEND], 1, memory_order_relaxed);
	l7_conn_dead(w, &b->c);
}

void l7_bk_event(struct l7_bk *b, uint32_t ev)
{
	struct l7_cli *c = b->owner;
	bool rd = ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);

	if (rd)
		b->c.rd = true;
	if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		b->c.hup = true;
	if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		b->c.wr = true;
	if (ev & EPOLLOUT && !(ev & (EPOLLHUP | EPOLLERR)))
		b->connected = true;
	if (c && c->st == CS_XCHG && c->bk == b) {
		l7_cli_run(c);
		return;
	}
	/* idle (pooled, or kept by its client): the server closed it, or talks out of turn */
	if (!rd)
		return;
	if (c)
		c->bk = NULL;
	l7_bk_close(b);
}
