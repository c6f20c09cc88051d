// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A client connection: read a request head (CS_HEAD), hand it to an exchange (CS_XCHG,
 * exchange.c), then the next request already in the buffer or a new read; after an error
 * response, drain and close (CS_CLOSING).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "l7/engine.h"

bool l7_cli_bind(struct l7_cli *c, struct l7_wsnap *ws)
{
	if (c->ws)
		l7_wsnap_unuse(c->w, c->ws);
	c->ws = ws;
	ws->users++;
	c->ln = l7_snap_listen(ws->snap, (const struct sockaddr *)&c->local);
	return c->ln != NULL;
}

/* The client lets its backend connection go: one kept between exchanges may serve another
 * client; one in the middle of an exchange is unusable. */
static void cli_drop_bk(struct l7_cli *c)
{
	if (!c->bk)
		return;
	if (c->st == CS_XCHG)
		l7_bk_close(c->bk);
	else
		l7_bk_park(c->bk);
	c->bk = NULL;
}

/* --- the next request --- */

void l7_cli_next(struct l7_cli *c, uint32_t at)
{
	/* pipelined bytes move to the front: a head is always parsed from offset 0 */
	memmove(c->in.d, c->in.d + at, c->in.w - at);
	c->in.w -= at;
	l7_msg_init(&c->req, HTTP_REQUEST, c->in.d, 0);
	c->st = CS_HEAD;
	c->set_cookie = c->retried = c->stale_retried = false;
	c->req_sent = c->resp_started = c->streamed = false;
	c->qp = 0;
	c->ndrops = 0;
	l7_timer_arm(c->w, &c->c.tm, c->in.w ? T_HEAD : T_IDLE);
}

int l7_cli_abort(struct l7_cli *c)
{
	l7_cli_close(c);
	return R_FREED;
}

/* --- CS_HEAD: a request head --- */

static int cli_head(struct l7_cli *c)
{
	ssize_t n;

	for (;;) {
		if (!c->req.pp) {	/* empty lines before a request are ignored (RFC 9112 2.2) */
			uint32_t i = 0;

			while (i < c->in.w && (c->in.d[i] == '\r' || c->in.d[i] == '\n'))
				i++;
			if (i) {
				memmove(c->in.d, c->in.d + i, c->in.w - i);
				c->in.w -= i;
			}
		}
		switch (l7_msg_parse(&c->req, c->in.w)) {
		case P_HEAD:
			return l7_xchg_begin(c);
		case P_MORE:
			break;
		default:
			return l7_cli_fail(c, 400);
		}
		if (!c->req.line_done && c->in.w > L7_LINE_MAX)
			return l7_cli_fail(c, 414);
		if (c->in.w == L7_BUF_SIZE)
			return l7_cli_fail(c, c->req.line_done ? 431 : 414);
		if (!c->c.rd)
			return R_STOP;
		n = l7_read(&c->c, &c->in);
		if (n == -EAGAIN)
			return R_STOP;
		if (n <= 0)	/* gone between requests or mid-head */
			return l7_cli_abort(c);
		if (c->c.tm.kind == T_IDLE)
			l7_timer_arm(c->w, &c->c.tm, T_HEAD);
	}
}

/* --- CS_CLOSING: the last response out, then a lingering close --- */

int l7_cli_fail(struct l7_cli *c, unsigned status)
{
	if (c->resp_started)
		return l7_cli_abort(c);
	cli_drop_bk(c);
	l7_xchg_release(c);
	l7_outq_reset(&c->rs);
	l7_outq_add(&c->rs, c->rs_ins, l7_error_format(c->w->l->reg, status, c->rs_ins));
	c->st = CS_CLOSING;
	return R_AGAIN;
}

/*
 * Closing right away would reset the connection if the client sent more (a pipelined request,
 * a body): the reset can destroy the response in flight. So: shut down writing, read and drop
 * until the client closes too or T_LINGER runs out.
 */
static int cli_closing(struct l7_cli *c)
{
	ssize_t n;

	if (!c->lingering) {	/* the whole of it is bounded */
		c->lingering = true;
		l7_timer_arm(c->w, &c->c.tm, T_LINGER);
	}
	if (!l7_outq_empty(&c->rs)) {
		if (!c->c.wr)
			return R_STOP;
		if (l7_outq_flush(&c->rs, &c->c) < 0)
			return l7_cli_abort(c);
		if (!l7_outq_empty(&c->rs))
			return R_STOP;
	}
	if (!c->shut) {
		c->shut = true;
		shutdown(c->c.fd, SHUT_WR);
	}
	while (c->c.rd) {
		c->in.w = 0;
		n = l7_read(&c->c, &c->in);
		if (n == -EAGAIN)
			return R_STOP;
		if (n <= 0)
			return l7_cli_abort(c);
	}
	return R_STOP;
}

/* --- the connection --- */

void l7_cli_run(struct l7_cli *c)
{
	int r;

	do {
		switch (c->st) {
		case CS_HEAD:
			r = cli_head(c);
			break;
		case CS_XCHG:
			r = l7_xchg_run(c);
			break;
		default:
			r = cli_closing(c);
			break;
		}
	} while (r == R_AGAIN);
}

void l7_cli_event(struct l7_cli *c, uint32_t ev)
{
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->c.rd = true;
	if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->c.hup = true;
	if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->c.wr = true;
	l7_cli_run(c);
}

void l7_cli_timeout(struct l7_cli *c, enum l7_tkind k)
{
	int r = R_STOP;

	if (c->st == CS_CLOSING) {	/* T_LINGER, or the one before the error response */
		l7_cli_abort(c);
		return;
	}
	switch (k) {
	case T_HEAD:	/* slowloris; a connection that never sent anything just goes */
		r = c->in.w ? l7_cli_fail(c, 408) : l7_cli_abort(c);
		break;
	case T_CONNECT:
	case T_RESP:
		r = l7_cli_fail(c, 504);
		break;
	case T_IDLE:	/* between requests: silently; a stalled body: 408 if still possible */
		r = c->st == CS_XCHG && !c->req_sent ? l7_cli_fail(c, 408) : l7_cli_abort(c);
		break;
	default:
		r = l7_cli_abort(c);
		break;
	}
	if (r == R_AGAIN)
		l7_cli_run(c);
}

void l7_cli_rebind(struct l7_cli *c)
{
	if (c->st == CS_HEAD && !l7_cli_bind(c, c->w->ws))
		l7_cli_abort(c);
}

/* The X-Forwarded-For line, the same for all the connection's requests: the start of rq_ins,
 * which each request's exchange completes (rq_ins_build). */
static void xff_build(struct l7_cli *c, const struct sockaddr_storage *peer)
{
	static const char xff[] = "X-Forwarded-For: ";
	char *addr = c->rq_ins + sizeof(xff) - 1;

	memcpy(c->rq_ins, xff, sizeof(xff) - 1);
	if (peer->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, addr,
			  INET6_ADDRSTRLEN);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, addr,
			  INET6_ADDRSTRLEN);
	c->rq_xff_len = (uint16_t)strlen(c->rq_ins);
	memcpy(c->rq_ins + c->rq_xff_len, "\r\n", 2);
	c->rq_xff_len += 2;
}

void l7_cli_accept(struct l7_worker *w, struct l7_lsock *ls, int fd,
		   const struct sockaddr_storage *peer)
{
	struct l7_cli *c = w->free_cli;
	int one = 1;

	if (c) {
		w->free_cli = (struct l7_cli *)c->c.dead;
		w->nfree_cli--;
	} else if (!(c = malloc(sizeof(*c)))) {
		close(fd);
		return;
	}
	/* all but the buffer's bytes */
	memset(c, 0, offsetof(struct l7_cli, in.d));
	c->c.fd = fd;
	c->c.type = C_CLIENT;
	c->c.wr = true;
	c->w = w;
	c->peer = *peer;
	memcpy(&c->local, &ls->addr, ls->addrlen);
	xff_build(c, peer);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->next = w->clients.next;
	c->prev = &w->clients;
	c->next->prev = c;
	w->clients.next = c;
	atomic_fetch_add_explicit(&w->gauge[G_CLIENT], 1, memory_order_relaxed);
	if (!w->ws || !l7_cli_bind(c, w->ws) ||
	    l7_epoll_add(w, &c->c, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)) {
		l7_cli_close(c);
		return;
	}
	l7_cli_next(c, 0);
}

void l7_cli_close(struct l7_cli *c)
{
	struct l7_worker *w = c->w;

	l7_xchg_release(c);
	cli_drop_bk(c);
	l7_timer_stop(&c->c.tm);
	close(c->c.fd);
	c->c.fd = -1;
	c->prev->next = c->next;
	c->next->prev = c->prev;
	if (c->ws)
		l7_wsnap_unuse(w, c->ws);
	c->ws = NULL;
	atomic_fetch_sub_explicit(&w->gauge[G_CLIENT], 1, memory_order_relaxed);
	l7_conn_dead(w, &c->c);
}
