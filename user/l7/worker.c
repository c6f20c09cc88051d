// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A worker: one thread, one epoll loop. It accepts on its own SO_REUSEPORT listeners, runs its
 * clients and backend connections, fires its timers, and takes from the main thread (eventfd
 * wake-up) a new snapshot and listener changes. Objects closed while a batch of events is
 * handled are freed after it, so a later event of the batch never touches freed memory.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "l7/engine.h"

#define EVENTS_MAX 128

static uint64_t now_ms(void)
{
	struct timespec ts;

	/* a few ms of resolution is plenty for timeouts of seconds, and costs no syscall */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void l7_conn_dead(struct l7_worker *w, struct l7_conn *c)
{
	c->dead = w->dead;
	w->dead = c;
}

/* Freed after the batch; connections go to the free lists for the next ones. */
static void reap(struct l7_worker *w)
{
	while (w->dead) {
		struct l7_conn *c = w->dead;

		w->dead = c->dead;
		if (c->type == C_CLIENT && w->nfree_cli < L7_FREE_MAX) {
			c->dead = (struct l7_conn *)w->free_cli;
			w->free_cli = (struct l7_cli *)c;
			w->nfree_cli++;
		} else if (c->type == C_BACKEND && w->nfree_bk < L7_FREE_MAX) {
			c->dead = (struct l7_conn *)w->free_bk;
			w->free_bk = (struct l7_bk *)c;
			w->nfree_bk++;
		} else {
			free(c);
		}
	}
}

static void wsnap_free(struct l7_wsnap *ws)
{
	l7_pick_state_free(ws->ps);
	l7_snap_put(ws->snap);
	free(ws);
}

void l7_wsnap_unuse(struct l7_worker *w, struct l7_wsnap *ws)
{
	struct l7_wsnap **p = &w->ws;

	if (--ws->users || ws == w->ws)
		return;
	while (*p != ws)
		p = &(*p)->next;
	*p = ws->next;
	wsnap_free(ws);
}

/* The snapshot s (a reference handed over) is the one new requests use from now on. */
static void adopt(struct l7_worker *w, struct l7_snap *s)
{
	struct l7_wsnap *ws = calloc(1, sizeof(*ws)), *old = w->ws;
	struct l7_cli *c, *next;

	if (!ws || !(ws->ps = l7_pick_state_new(s))) {
		pr_err("l7: worker out of memory: keeps serving the previous config");
		free(ws);
		l7_snap_put(s);
		return;
	}
	ws->snap = s;
	ws->next = old;
	w->ws = ws;
	/* the previous one goes once no client of ours is bound to it (l7_wsnap_unuse) */
	if (old && !old->users) {
		ws->next = old->next;
		wsnap_free(old);
	}
	for (c = w->clients.next; c != &w->clients; c = next) {
		next = c->next;
		l7_cli_rebind(c);
	}
}

static void listener_add(struct l7_worker *w, struct l7_lcmd *cmd)
{
	struct l7_lsock *ls = calloc(1, sizeof(*ls));

	if (ls) {
		ls->c.fd = cmd->fd;
		ls->c.type = C_LISTEN;
		memcpy(&ls->addr, &cmd->addr, cmd->addrlen);
		ls->addrlen = cmd->addrlen;
	}
	/* level-triggered: accepts are batched, what is left raises the next event */
	if (!ls || l7_epoll_add(w, &ls->c, EPOLLIN)) {
		pr_err("l7: worker can't watch a listener: out of memory");
		close(cmd->fd);
		free(ls);
		return;
	}
	ls->next = w->ls;
	w->ls = ls;
}

static void listener_del(struct l7_worker *w, const struct l7_lcmd *cmd)
{
	struct l7_lsock **p = &w->ls, *ls;

	while (*p && ((*p)->addrlen != cmd->addrlen || memcmp(&(*p)->addr, &cmd->addr, cmd->addrlen)))
		p = &(*p)->next;
	if (!(ls = *p))
		return;
	*p = ls->next;
	l7_timer_stop(&ls->c.tm);
	epoll_ctl(w->ep, EPOLL_CTL_DEL, ls->c.fd, NULL);
	close(ls->c.fd);
	ls->c.fd = -1;
	l7_conn_dead(w, &ls->c);
}

/* The main thread's news: first the snapshot, then the listeners it covers. */
static void mailbox(struct l7_worker *w)
{
	struct l7_snap *s = atomic_exchange(&w->next_snap, NULL);
	struct l7_lcmd *cmd;
	uint64_t v;

	if (read(w->ev.fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("l7: worker eventfd: %s", strerror(errno));
	if (s)
		adopt(w, s);
	pthread_mutex_lock(&w->mu);
	cmd = w->cmds;
	w->cmds = NULL;
	pthread_mutex_unlock(&w->mu);
	while (cmd) {
		struct l7_lcmd *next = cmd->next;

		if (cmd->fd >= 0)
			listener_add(w, cmd);
		else
			listener_del(w, cmd);
		free(cmd);
		cmd = next;
	}
}

static void accept_some(struct l7_worker *w, struct l7_lsock *ls)
{
	for (int i = 0; i < L7_ACCEPT_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(ls->c.fd, (struct sockaddr *)&peer, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			l7_cli_accept(w, ls, fd, &peer);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN) {
			/* out of fds or memory: the level-triggered listener would spin */
			struct epoll_event ev = { .events = 0, .data.ptr = &ls->c };

			pr_warn("l7: accept: %s: pausing the listener for 1 s", strerror(errno));
			epoll_ctl(w->ep, EPOLL_CTL_MOD, ls->c.fd, &ev);
			l7_timer_arm(w, &ls->c.tm, T_PAUSE);
		}
		return;
	}
}

static void fire(struct l7_worker *w, struct l7_tnode *t, enum l7_tkind k)
{
	struct l7_conn *c = (struct l7_conn *)((char *)t - offsetof(struct l7_conn, tm));

	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	if (c->type == C_CLIENT)
		l7_cli_timeout((struct l7_cli *)c, k);
	else if (c->type == C_BACKEND)	/* idle in the pool too long */
		l7_bk_close((struct l7_bk *)c);
	else	/* a paused listener */
		epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void dispatch(struct l7_worker *w, struct l7_conn *c, uint32_t ev)
{
	if (c->fd < 0)
		return;
	switch (c->type) {
	case C_LISTEN:
		accept_some(w, (struct l7_lsock *)c);
		break;
	case C_EVENT:
		mailbox(w);
		break;
	case C_CLIENT:
		l7_cli_event((struct l7_cli *)c, ev);
		break;
	default:
		l7_bk_event((struct l7_bk *)c, ev);
		break;
	}
}

/* A list of listener changes, freed with the fds it still holds. */
void l7_lcmds_free(struct l7_lcmd *c)
{
	while (c) {
		struct l7_lcmd *next = c->next;

		if (c->fd >= 0)
			close(c->fd);
		free(c);
		c = next;
	}
}

/* Everything the worker holds, closed and freed (its thread ends). */
static void worker_cleanup(struct l7_worker *w)
{
	while (w->clients.next != &w->clients)
		l7_cli_close(w->clients.next);
	for (unsigned i = 0; i < L7_POOL_BUCKETS; i++)
		while (w->pool[i])
			l7_bk_close(w->pool[i]);
	while (w->ls) {
		struct l7_lsock *ls = w->ls;

		w->ls = ls->next;
		close(ls->c.fd);
		free(ls);
	}
	l7_lcmds_free(w->cmds);
	w->cmds = NULL;
	reap(w);
	while (w->free_cli) {
		struct l7_cli *c = w->free_cli;

		w->free_cli = (struct l7_cli *)c->c.dead;
		free(c);
	}
	while (w->free_bk) {
		struct l7_bk *b = w->free_bk;

		w->free_bk = (struct l7_bk *)b->c.dead;
		free(b);
	}
	while (w->ws) {
		struct l7_wsnap *ws = w->ws;

		w->ws = ws->next;
		wsnap_free(ws);
	}
	l7_snap_put(atomic_exchange(&w->next_snap, NULL));
}

static void *worker_main(void *arg)
{
	struct l7_worker *w = arg;
	struct epoll_event ev[EVENTS_MAX];

	while (!atomic_load(&w->stop)) {
		int n = epoll_wait(w->ep, ev, EVENTS_MAX, l7_timer_next(w));

		if (n < 0 && errno != EINTR) {
			pr_err("l7: epoll_wait: %s", strerror(errno));
			break;
		}
		w->now = now_ms();
		for (int i = 0; i < n; i++)
			dispatch(w, ev[i].data.ptr, ev[i].events);
		l7_timer_run(w, fire);
		reap(w);
	}
	worker_cleanup(w);
	return NULL;
}

int l7_worker_start(struct l7 *l, struct l7_worker *w, char *err, size_t errlen)
{
	sigset_t all, old;
	int r;

	w->l = l;
	w->clients.next = w->clients.prev = &w->clients;
	w->ev.type = C_EVENT;
	w->now = now_ms();
	l7_timer_init(w);
	pthread_mutex_init(&w->mu, NULL);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->ev.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ep < 0 || w->ev.fd < 0 || l7_epoll_add(w, &w->ev, EPOLLIN)) {
		r = -errno;
		snprintf(err, errlen, "l7 worker: %s", strerror(errno));
		goto fail;
	}
	/* signals are the main thread's (signalfd): the workers take none */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&w->th, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!r)
		return 0;
	snprintf(err, errlen, "l7 worker thread: %s", strerror(-r));
fail:
	if (w->ep >= 0)
		close(w->ep);
	if (w->ev.fd >= 0)
		close(w->ev.fd);
	w->ep = w->ev.fd = -1;
	pthread_mutex_destroy(&w->mu);
	return r;
}

void l7_worker_wake(struct l7_worker *w)
{
	uint64_t one = 1;

	if (write(w->ev.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("l7: waking a worker: %s", strerror(errno));
}

void l7_worker_stop(struct l7_worker *w)
{
	atomic_store(&w->stop, true);
	l7_worker_wake(w);
	pthread_join(w->th, NULL);
	close(w->ep);
	close(w->ev.fd);
	pthread_mutex_destroy(&w->mu);
}
