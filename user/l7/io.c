// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Socket reads into a connection's buffer and gathered writes from an output queue. */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "l7/engine.h"

void l7_outq_reset(struct l7_outq *q)
{
	q->i = q->n = 0;
}

void l7_outq_add(struct l7_outq *q, const void *p, size_t len)
{
	/* callers bound their pieces by L7_IOV_MAX (drops are capped at L7_DROPS_MAX) */
	if (!len || q->n == L7_IOV_MAX)
		return;
	q->v[q->n].iov_base = (void *)p;
	q->v[q->n].iov_len = len;
	q->n++;
}

int l7_outq_flush(struct l7_outq *q, struct l7_conn *c)
{
	while (q->i < q->n) {
		/* sendmsg, not writev: the socket call skips the VFS layer; MSG_NOSIGNAL: a peer
		 * gone is EPIPE, never a SIGPIPE */
		struct msghdr mh = { .msg_iov = &q->v[q->i], .msg_iovlen = q->n - q->i };
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				c->wr = false;
				return 0;
			}
			return -errno;
		}
		size_t want = 0;

		for (unsigned j = q->i; j < q->n; j++)
			want += q->v[j].iov_len;
		/* short: the socket's buffer is full, the next write would say EAGAIN */
		if ((size_t)n < want)
			c->wr = false;
		while (n > 0 && q->i < q->n) {
			struct iovec *v = &q->v[q->i];

			if ((size_t)n < v->iov_len) {
				v->iov_base = (char *)v->iov_base + n;
				v->iov_len -= n;
				n = 0;
			} else {
				n -= v->iov_len;
				q->i++;
			}
		}
		if (!c->wr && q->i < q->n)
			return 0;
	}
	l7_outq_reset(q);
	return 0;
}

ssize_t l7_read(struct l7_conn *c, struct l7_buf *b)
{
	size_t room = sizeof(b->d) - b->w;

	if (!room)
		return -ENOBUFS;
	for (;;) {
		ssize_t n = recv(c->fd, b->d + b->w, room, 0);	/* no VFS layer, as sendmsg */

		if (n > 0) {
			b->w += n;
			/* a short read drained the socket: with edge-triggered epoll, what comes
			 * next raises a new event, so skip the read that would say EAGAIN - unless
			 * the peer's FIN is already in: its event came with this data, no other
			 * will, and only the next read() sees the end (close-delimited bodies) */
			if ((size_t)n < room && !c->hup)
				c->rd = false;
			return n;
		}
		if (!n)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			c->rd = false;
		return -errno;
	}
}

int l7_epoll_add(struct l7_worker *w, struct l7_conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	return epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) ? -errno : 0;
}
