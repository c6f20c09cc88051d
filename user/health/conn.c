// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One probe's connection: a non-blocking connect, the protocol's request (probe.h), the answer
 * read into a pooled buffer and judged as it arrives, a goodbye, close. Every step is one
 * readiness event on the prober's epoll fd, so a silent server costs one idle socket until
 * its deadline and holds up nobody.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "health/health-int.h"

/* strerror in the lower case of the rest of the message: "connection refused" */
static const char *err_text(int e, char out[PROBE_ERR_LEN])
{
	snprintf(out, PROBE_ERR_LEN, "%s", strerror(e));
	out[0] = (char)tolower((unsigned char)out[0]);
	return out;
}

/* A failure of ours, not the server's (no socket, no memory): the round is skipped without a
 * result, so that a starved prober does not take servers down. Logged once until a probe
 * starts again, not once per server per interval. */
static void local_fail(struct health *h, struct target *t, const char *what, int e)
{
	char name[128];

	if (h->sock_err == e)
		return;
	h->sock_err = e;
	pr_warn("health: probe of %s skipped: %s: %s (logged once until probes start again)",
		target_name(t, name), what, strerror(e));
}

/* A connect error of ours: no local port left (EADDRNOTAVAIL), no memory. */
static bool local_errno(int e)
{
	return e == EADDRNOTAVAIL || e == EAGAIN || e == ENOBUFS || e == ENOMEM;
}

static char *buf_get(struct health *h)
{
	return h->nbufs ? h->bufs[--h->nbufs] : malloc(PROBE_READ_MAX);
}

/* health_sync reserves room for as many buffers as there are targets, and a target holds one
 * at most, so the pool never overflows. */
static void buf_put(struct health *h, char *buf)
{
	h->bufs[h->nbufs++] = buf;
}

/*
 * rst: close with a reset (SO_LINGER 0) rather than a FIN, as HAProxy does for its checks:
 * thousands of probes a second would otherwise leave as many sockets in TIME_WAIT here.
 */
static void conn_close(struct health *h, struct target *t, bool rst)
{
	static const struct linger reset = { .l_onoff = 1, .l_linger = 0 };

	if (rst)
		setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	close(t->fd);
	t->fd = -1;
	t->phase = CONN_IDLE;
	sched_del(&h->sched, &t->deadline);
	if (t->buf) {
		buf_put(h, t->buf);
		t->buf = NULL;
	}
}

static void conn_end(struct health *h, struct target *t, bool ok, const char *err)
{
	/* a socket that never connected has nothing to reset */
	conn_close(h, t, t->phase != CONN_CONNECTING);
	target_result(h, t, ok, err);
}

void conn_abort(struct health *h, struct target *t)
{
	if (t->fd >= 0)
		conn_close(h, t, t->phase != CONN_CONNECTING);
}

static socklen_t addr_len(const struct target *t)
{
	return t->addr.sa.sa_family == AF_INET ? sizeof(t->addr.v4) : sizeof(t->addr.v6);
}

void conn_start(struct health *h, struct target *t, uint64_t deadline)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = t };
	char text[PROBE_ERR_LEN];
	int fd, one = 1;

	fd = socket(t->addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		local_fail(h, t, "socket", errno);
		return;
	}
	/* a request goes out in one segment, its goodbye without waiting for an ACK; a tcp
	 * probe sends nothing, so it spares the call */
	if (t->hf->spec.type != PROBE_TCP &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))) {
		local_fail(h, t, "setsockopt TCP_NODELAY", errno);
		goto err;
	}
	if (connect(fd, &t->addr.sa, addr_len(t)) && errno != EINPROGRESS) {
		int e = errno;

		if (local_errno(e)) {
			local_fail(h, t, "connect", e);
			goto err;
		}
		/* refused or unreachable at once: a result like any other */
		close(fd);
		target_result(h, t, false, err_text(e, text));
		return;
	}
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		local_fail(h, t, "epoll_ctl", errno);
		goto err;
	}
	h->sock_err = 0;
	t->fd = fd;
	t->phase = CONN_CONNECTING;
	sched_set(&h->sched, &t->deadline, deadline);
	return;
err:
	close(fd);
}

/* The Host header's value: the server's address, IPv6 in brackets, and its port unless it is
 * http's own. */
static void host_header(const struct target *t, char host[INET6_ADDRSTRLEN + 8])
{
	char a[INET6_ADDRSTRLEN];
	bool v6 = t->addr.sa.sa_family == AF_INET6;
	uint16_t port = ntohs(v6 ? t->addr.v6.sin6_port : t->addr.v4.sin_port);

	if (v6)
		inet_ntop(AF_INET6, &t->addr.v6.sin6_addr, a, sizeof(a));
	else
		inet_ntop(AF_INET, &t->addr.v4.sin_addr, a, sizeof(a));
	if (port == 80)
		snprintf(host, INET6_ADDRSTRLEN + 8, v6 ? "[%s]" : "%s", a);
	else
		snprintf(host, INET6_ADDRSTRLEN + 8, v6 ? "[%s]:%u" : "%s:%u", a, port);
}

/* Connected: what to send, from the buffer the answer will then be read into. */
static int conn_request(struct health *h, struct target *t)
{
	char host[INET6_ADDRSTRLEN + 8];
	int n;

	host_header(t, host);
	t->buf = buf_get(h);
	if (!t->buf)
		return -ENOMEM;
	n = probe_request(&t->hf->spec, host, t->buf, PROBE_READ_MAX);
	if (n < 0)
		return n;
	t->reqlen = (size_t)n;
	t->sent = 0;
	return 0;
}

/* Send what is left of the request; true when all is sent (the answer is awaited then). */
static bool conn_send(struct health *h, struct target *t)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = t };
	char text[PROBE_ERR_LEN];

	while (t->sent < t->reqlen) {
		ssize_t n = send(t->fd, t->buf + t->sent, t->reqlen - t->sent, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return false;
			conn_end(h, t, false, err_text(errno, text));
			return false;
		}
		t->sent += (size_t)n;
	}
	if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, t->fd, &ev)) {
		local_fail(h, t, "epoll_ctl", errno);
		conn_abort(h, t);
		return false;
	}
	t->phase = CONN_READING;
	t->len = 0;
	return true;
}

static void conn_connected(struct health *h, struct target *t)
{
	char text[PROBE_ERR_LEN];
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &e, &len))
		e = errno;
	if (e) {
		conn_end(h, t, false, err_text(e, text));
		return;
	}
	t->phase = CONN_SENDING;
	if (t->hf->spec.type == PROBE_TCP) {
		conn_end(h, t, true, NULL);
		return;
	}
	e = conn_request(h, t);
	if (e) {
		local_fail(h, t, "probe request", -e);
		conn_abort(h, t);
		return;
	}
	conn_send(h, t);
}

/* Read what came and judge it; the answer past PROBE_READ_MAX is judged as it is. */
static void conn_read(struct health *h, struct target *t)
{
	char err[PROBE_ERR_LEN] = "", text[PROBE_ERR_LEN];
	const char *bye;
	enum probe_verdict v;
	bool eof, full;
	ssize_t n;

	do {
		n = recv(t->fd, t->buf + t->len, PROBE_READ_MAX - t->len, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_end(h, t, false, err_text(errno, text));
			return;
		}
		t->len += (size_t)n;
		eof = !n;
		full = t->len == PROBE_READ_MAX;
		v = probe_judge(&t->hf->spec, t->buf, t->len, eof || full, err);
	} while (v == PV_MORE && !eof && !full);

	switch (v) {
	case PV_UP:
		bye = probe_goodbye(&t->hf->spec);
		if (!bye) {
			conn_end(h, t, true, NULL);
			break;
		}
		/* best effort, and a polite close after it rather than a reset */
		send(t->fd, bye, strlen(bye), MSG_NOSIGNAL | MSG_DONTWAIT);
		conn_close(h, t, false);
		target_result(h, t, true, NULL);
		break;
	case PV_DOWN:
		conn_end(h, t, false, err);
		break;
	case PV_MORE:
		/* a judge asked to decide at the end of the answer and did not */
		conn_end(h, t, false, eof ? "connection closed before an answer" :
			 "answer too long to judge");
		break;
	}
}

void conn_event(struct health *h, struct target *t)
{
	switch (t->phase) {
	case CONN_CONNECTING:
		conn_connected(h, t);
		break;
	case CONN_SENDING:
		conn_send(h, t);
		break;
	case CONN_READING:
		conn_read(h, t);
		break;
	case CONN_IDLE:
		break;
	}
}

void conn_timeout(struct health *h, struct target *t)
{
	char text[PROBE_ERR_LEN];

	snprintf(text, sizeof(text), "timeout after %llu s",
		 (unsigned long long)(t->hf->timeout / NS_PER_S));
	conn_end(h, t, false, text);
}
