// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * namesrv: the rig backends' tiny server (DESIGN.md section 6: "each running an HTTP server
 * that answers with its own name").
 *
 * This is a TEST FIXTURE, not part of the product. Its HTTP handling is deliberately minimal
 * (read until the blank line, take method and path from the request line, look at three
 * headers); the product's L7 proxy uses an established HTTP parser, not this code.
 *
 * Server mode:
 *   TCP: HTTP/1.1 on the wildcard address (IPv4 and IPv6 sockets, so VIPs held on the
 *   loopback are served too). Every request gets `200 OK`, text/plain, body NAME "\n";
 *   `GET /bytes/N` gets N bytes (N <= 1e9) streamed in chunks. Keep-alive and pipelining.
 *   UDP: every datagram gets NAME "\n" back, sent from the address the datagram was sent to
 *   (IP_PKTINFO / IPV6_PKTINFO): with DSR the client must see the reply come from the VIP.
 *   One thread, poll(), non-blocking sockets; a client that vanishes costs one closed fd,
 *   one that stalls is closed after --idle-timeout. Quiet unless --verbose.
 *
 * Client mode (--udp-probe ADDR PORT): send a datagram to ADDR:PORT on a connected UDP
 * socket, which only accepts a reply whose source is ADDR:PORT, print the reply, exit 0
 * (1: no reply). With --ipip-via HOST the datagram is sent inside an IPIP (IPv4) or
 * IPv6-in-IPv6 tunnel to HOST, the way limpet's balancer forwards in ipip mode, with the
 * inner source this host would use for ADDR: the reply must then come back directly.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define NAME_LEN_MAX	255
#define REQ_MAX		16384		/* request line + headers */
#define OUT_MAX		1024		/* response headers + a short body */
#define CHUNK		65536		/* body bytes per send() for /bytes/N */
#define BYTES_MAX	1000000000ULL	/* largest N of /bytes/N */
#define WRITE_BUDGET	(4u << 20)	/* bytes per connection per wakeup, so one fast reader
					 * cannot starve the others */
#define ACCEPT_BATCH	256
#define UDP_BATCH	64

static bool verbose;

static void pr_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	fputs("namesrv: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("namesrv: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- options: one table drives getopt_long and --help ---- */

struct opt {
	const char *name;
	int has_arg;
	int val;
	const char *arg;
	const char *help;
};

static const struct opt opts[] = {
	{ "name", 1, 'n', "NAME", "server: the name to answer with (required, 1-255 characters)" },
	{ "port", 1, 'p', "PORT", "server: HTTP port on TCP, 0 = no TCP (default 80)" },
	{ "udp-port", 1, 'u', "PORT", "server: UDP port, 0 = no UDP (default 80)" },
	{ "idle-timeout", 1, 'i', "SEC",
	  "server: close HTTP connections idle this long, 0 = never (default 300)" },
	{ "udp-probe", 1, 'P', "ADDR PORT",
	  "client: send one datagram to ADDR PORT, print the reply (exit 0), exit 1 if none" },
	{ "ipip-via", 1, 'I', "HOST",
	  "client: send the probe encapsulated (IPIP / IPv6-in-IPv6) to HOST" },
	{ "timeout", 1, 't', "MS", "client: how long to wait for the reply (default 2000)" },
	{ "verbose", 0, 'v', NULL, "log connections, requests and datagrams to stderr" },
	{ "help", 0, 'h', NULL, "show this help" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *f)
{
	char left[64];

	fprintf(f, "usage: namesrv --name NAME [--port 80] [--udp-port 80] [--verbose]\n"
		   "       namesrv --udp-probe ADDR PORT [--ipip-via HOST] [--timeout MS]\n"
		   "Test fixture for the limpet rig: HTTP and UDP server answering its name.\n\n");
	for (size_t i = 0; i < NOPTS; i++) {
		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
			 opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-24s %s\n", left, opts[i].help);
	}
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	}
	return buf;
}

/* ---- server ---- */

struct conn {
	int fd;
	bool want_write;	/* poll for POLLOUT, not POLLIN */
	bool close_after;	/* close once the output is sent */
	size_t in_len;
	size_t out_len, out_off;
	uint64_t body_left;	/* generated /bytes body still to send */
	uint64_t discard;	/* request body bytes still to skip */
	int64_t last_ms;	/* last progress, for the idle timeout */
	char peer[INET6_ADDRSTRLEN + 8];
	char out[OUT_MAX];	/* headers and at most NAME_LEN_MAX + 1 body bytes */
	char in[REQ_MAX];
};

struct srv {
	const char *name;
	char body[NAME_LEN_MAX + 2];	/* NAME "\n" */
	int64_t idle_ms;		/* 0: never */
	int tcp[2], udp[2];		/* IPv4, IPv6; -1: none */
	int64_t accept_paused_until;
	struct conn **conns;
	size_t nconns, cap;
};

static char filler[CHUNK];

enum { KEEP_NO, KEEP_11, KEEP_10 };	/* close after; HTTP/1.1 default; HTTP/1.0 asked for it */

/* Queue a response whose body is the text `body`, or `gen` generated bytes if body is NULL. */
static void conn_respond(const struct srv *s, struct conn *c, int status, const char *reason,
			 bool head, int keep, const char *body, uint64_t gen)
{
	size_t blen = body ? strlen(body) : 0;
	int n;

	n = snprintf(c->out, sizeof(c->out),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: text/plain\r\n"
		     "Content-Length: %llu\r\n"
		     "X-Backend: %s\r\n"
		     "%s"
		     "\r\n",
		     status, reason, (unsigned long long)(body ? blen : gen), s->name,
		     keep == KEEP_10 ? "Connection: keep-alive\r\n" :
		     keep == KEEP_11 ? "" : "Connection: close\r\n");
	/* OUT_MAX holds the longest name twice plus the fixed text: no truncation */
	if (!head && body) {
		memcpy(c->out + n, body, blen);
		n += blen;
	}
	c->out_len = n;
	c->out_off = 0;
	c->body_left = head || body ? 0 : gen;
	c->close_after = !keep;
}

/* Does the comma-separated header value v hold the token tok? */
static bool token_has(const char *v, const char *tok)
{
	size_t tl = strlen(tok);

	for (const char *p = v; (p = strcasestr(p, tok)); p += tl) {
		bool start = p == v || p[-1] == ' ' || p[-1] == ',' || p[-1] == '\t';
		char e = p[tl];

		if (start && (e == '\0' || e == ' ' || e == ',' || e == '\t'))
			return true;
	}
	return false;
}

/*
 * If the request at the head of c->in is complete, queue its response and drop it from the
 * buffer. false: more input is needed.
 */
static bool conn_request(const struct srv *s, struct conn *c)
{
	char *hend, *line, *next, *method, *path = NULL, *version = NULL, *q;
	bool http11 = false, head = false, bad = false;
	int keep;
	bool conn_close = false, conn_keep = false, chunked = false;
	unsigned long long clen = 0;
	unsigned long nbytes = 0;
	int bytes_req = 0;	/* 1: /bytes/N; -1: /bytes/ with a bad N */
	size_t hlen;

	/* tolerate empty lines before a request (RFC 9112 section 2.2) */
	while (c->in_len >= 2 && c->in[0] == '\r' && c->in[1] == '\n') {
		memmove(c->in, c->in + 2, c->in_len - 2);
		c->in_len -= 2;
	}
	hend = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	if (!hend)
		return false;
	hlen = hend - c->in + 4;
	hend[2] = '\0';		/* the head is now one string of "\r\n"-ended lines */
	if (strlen(c->in) != (size_t)(hend + 2 - c->in))
		bad = true;	/* a NUL inside the head */

	/* request line: METHOD SP PATH SP HTTP/1.x */
	method = c->in;
	next = strstr(method, "\r\n");
	*next = '\0';
	if (!bad) {
		path = strchr(method, ' ');
		if (path) {
			*path++ = '\0';
			version = strchr(path, ' ');
			if (version)
				*version++ = '\0';
		}
		if (!path || !version || !*method || !*path || strncmp(version, "HTTP/1.", 7) ||
		    (version[7] != '0' && version[7] != '1') || version[8])
			bad = true;
	}
	if (!bad) {
		http11 = version[7] == '1';
		head = !strcmp(method, "HEAD");
	}

	/* headers: only the three that decide the framing */
	for (line = next + 2; !bad && *line; line = next + 2) {
		char *colon, *v, *end;

		next = strstr(line, "\r\n");
		*next = '\0';
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		end = v + strlen(v);
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!strcasecmp(line, "connection")) {
			conn_close |= token_has(v, "close");
			conn_keep |= token_has(v, "keep-alive");
		} else if (!strcasecmp(line, "content-length")) {
			errno = 0;
			clen = strtoull(v, &end, 10);
			if (errno || end == v || *end || *v < '0' || *v > '9')
				bad = true;
		} else if (!strcasecmp(line, "transfer-encoding")) {
			chunked = true;	/* a body we do not frame: answer, then close */
		}
	}

	if (!bad) {
		q = strchr(path, '?');
		if (q)
			*q = '\0';
		if (!strncmp(path, "/bytes/", 7))
			bytes_req = parse_ulong(path + 7, BYTES_MAX, &nbytes) ? 1 : -1;
	}

	if (bad || chunked)
		keep = KEEP_NO;
	else if (http11)
		keep = conn_close ? KEEP_NO : KEEP_11;
	else
		keep = conn_keep ? KEEP_10 : KEEP_NO;
	if (bad)
		conn_respond(s, c, 400, "Bad Request", false, KEEP_NO, "bad request\n", 0);
	else if (bytes_req < 0)
		conn_respond(s, c, 400, "Bad Request", head, keep,
			     "bad byte count: want /bytes/N, N in 0..1000000000\n", 0);
	else if (bytes_req > 0)
		conn_respond(s, c, 200, "OK", head, keep, NULL, nbytes);
	else
		conn_respond(s, c, 200, "OK", head, keep, s->body, 0);
	pr_debug("%s: %s %s -> %s%s", c->peer, bad ? "(bad request)" : method, bad ? "" : path,
		 bad || bytes_req < 0 ? "400" : "200", keep ? "" : ", close");

	if (keep) {
		memmove(c->in, c->in + hlen, c->in_len - hlen);
		c->in_len -= hlen;
		c->discard = clen;
	} else {
		c->in_len = 0;
	}
	return true;
}

/* Send pending output. 1: all sent; 0: would block or budget spent; -1: connection gone. */
static int conn_write(struct conn *c, size_t *budget)
{
	while (c->out_off < c->out_len || c->body_left) {
		size_t hdr = c->out_len - c->out_off;
		struct iovec iov[2];
		struct msghdr m = { .msg_iov = iov };
		ssize_t w;

		if (!*budget)
			return 0;
		/* headers and the first body chunk in one send: no lone small segment */
		if (hdr) {
			iov[m.msg_iovlen].iov_base = c->out + c->out_off;
			iov[m.msg_iovlen++].iov_len = hdr;
		}
		if (c->body_left) {
			iov[m.msg_iovlen].iov_base = filler;
			iov[m.msg_iovlen++].iov_len = c->body_left < CHUNK ? c->body_left : CHUNK;
		}
		w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			pr_debug("%s: send: %s", c->peer, strerror(errno));
			return -1;
		}
		*budget = (size_t)w >= *budget ? 0 : *budget - w;
		if ((size_t)w <= hdr) {
			c->out_off += w;
		} else {
			c->out_off = c->out_len;
			c->body_left -= w - hdr;
		}
	}
	return 1;
}

/* Make all the progress possible on c. false: the connection is finished; close it. */
static bool conn_run(const struct srv *s, struct conn *c, int64_t now)
{
	size_t budget = WRITE_BUDGET;

	for (;;) {
		ssize_t r;

		if (c->out_off < c->out_len || c->body_left) {
			size_t before = budget;
			int w = conn_write(c, &budget);

			if (budget != before)
				c->last_ms = now;
			if (w < 0)
				return false;
			if (w == 0) {
				c->want_write = true;
				return true;
			}
			continue;
		}
		if (c->close_after)
			return false;
		c->want_write = false;
		if (c->discard && c->in_len) {
			size_t k = c->discard < c->in_len ? c->discard : c->in_len;

			memmove(c->in, c->in + k, c->in_len - k);
			c->in_len -= k;
			c->discard -= k;
		}
		if (!c->discard) {
			if (conn_request(s, c))
				continue;
			if (c->in_len == REQ_MAX) {
				conn_respond(s, c, 431, "Request Header Fields Too Large", false,
					     KEEP_NO, "request head too large\n", 0);
				c->in_len = 0;
				continue;
			}
		}
		r = recv(c->fd, c->in + c->in_len, REQ_MAX - c->in_len, MSG_DONTWAIT);
		if (r > 0) {
			c->in_len += r;
			c->last_ms = now;
			continue;
		}
		if (r == 0)
			return false;	/* peer closed; an unfinished request goes with it */
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		if (errno == EINTR)
			continue;
		pr_debug("%s: recv: %s", c->peer, strerror(errno));
		return false;
	}
}

static void conn_close(struct conn *c, const char *why)
{
	pr_debug("%s: closed%s", c->peer, why);
	close(c->fd);
	free(c);
}

static void srv_accept(struct srv *s, int lfd, int64_t now)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct conn *c;
		int fd, one = 1;

		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* out of fds or memory: stop accepting for a moment, do not spin */
				pr_debug("accept: %s; pausing accepts", strerror(errno));
				s->accept_paused_until = now + 100;
			}
			return;
		}
		if (s->nconns == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 64;
			struct conn **p = realloc(s->conns, cap * sizeof(*p));

			if (!p) {
				close(fd);
				s->accept_paused_until = now + 100;
				return;
			}
			s->conns = p;
			s->cap = cap;
		}
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			s->accept_paused_until = now + 100;
			return;
		}
		memset(c, 0, offsetof(struct conn, out));
		c->fd = fd;
		c->last_ms = now;
		addr_str(&ss, c->peer, sizeof(c->peer));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		s->conns[s->nconns++] = c;
		pr_debug("%s: connected", c->peer);
	}
}

/*
 * Answer every queued datagram with NAME "\n", from the address it was sent to: the
 * received pktinfo goes back as the reply's pktinfo, so a datagram to a VIP held on lo is
 * answered from the VIP even though it arrived on another interface (DSR).
 */
static void srv_udp(const struct srv *s, int fd)
{
	for (int i = 0; i < UDP_BATCH; i++) {
		union {
			char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
			struct cmsghdr align;
		} cin, cout;
		char buf[2048], who[INET6_ADDRSTRLEN + 8], to[INET6_ADDRSTRLEN] = "?";
		struct sockaddr_storage peer;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = {
			.msg_name = &peer, .msg_namelen = sizeof(peer), .msg_iov = &iov,
			.msg_iovlen = 1, .msg_control = cin.buf, .msg_controllen = sizeof(cin.buf),
		};
		struct iovec riov = { (void *)s->body, strlen(s->body) };
		struct msghdr r = { .msg_iov = &riov, .msg_iovlen = 1 };
		struct cmsghdr *cm;
		ssize_t n;

		n = recvmsg(fd, &m, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;		/* EAGAIN, or an error queued by ICMP: nothing to do */
		}
		r.msg_name = &peer;
		r.msg_namelen = m.msg_namelen;
		memset(&cout, 0, sizeof(cout));
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			struct cmsghdr *o = (struct cmsghdr *)cout.buf;

			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi, po = { 0 };

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				/* on receive, spec_dst is the local address the datagram was for */
				po.ipi_spec_dst = pi.ipi_spec_dst;
				o->cmsg_level = IPPROTO_IP;
				o->cmsg_type = IP_PKTINFO;
				o->cmsg_len = CMSG_LEN(sizeof(po));
				memcpy(CMSG_DATA(o), &po, sizeof(po));
				r.msg_control = cout.buf;
				r.msg_controllen = CMSG_SPACE(sizeof(po));
				inet_ntop(AF_INET, &pi.ipi_addr, to, sizeof(to));
			} else if (cm->cmsg_level == IPPROTO_IPV6 &&
				   cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi, po = { 0 };

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				if (!IN6_IS_ADDR_MULTICAST(&pi.ipi6_addr))
					po.ipi6_addr = pi.ipi6_addr;
				if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
					po.ipi6_ifindex = pi.ipi6_ifindex;
				o->cmsg_level = IPPROTO_IPV6;
				o->cmsg_type = IPV6_PKTINFO;
				o->cmsg_len = CMSG_LEN(sizeof(po));
				memcpy(CMSG_DATA(o), &po, sizeof(po));
				r.msg_control = cout.buf;
				r.msg_controllen = CMSG_SPACE(sizeof(po));
				inet_ntop(AF_INET6, &pi.ipi6_addr, to, sizeof(to));
			}
		}
		if (sendmsg(fd, &r, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			pr_debug("udp %s -> %s: reply: %s", addr_str(&peer, who, sizeof(who)), to,
				 strerror(errno));
		else
			pr_debug("udp %s -> %s: %zd bytes, answered",
				 addr_str(&peer, who, sizeof(who)), to, n);
	}
}

/* A wildcard socket of one family; -1 if the family is missing (no IPv6), exits on error. */
static int srv_socket(int family, int type, unsigned port)
{
	struct sockaddr_storage ss = { .ss_family = family };
	int fd, one = 1, err;

	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && family == AF_INET6 && errno == EAFNOSUPPORT) {
		pr_debug("no IPv6 here: serving IPv4 only");
		return -1;
	}
	if (fd < 0)
		goto fail;
	if (family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		err = type == SOCK_DGRAM ?
			     setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) : 0;
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		/* one socket per family, whatever net.ipv6.bindv6only says */
		err = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (!err && type == SOCK_DGRAM)
			err = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	}
	if (!err && type == SOCK_STREAM)
		err = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (err)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss,
		 family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)))
		goto fail;
	if (type == SOCK_STREAM && listen(fd, SOMAXCONN))
		goto fail;
	return fd;
fail:
	pr_warn("%s %s port %u: %s", type == SOCK_STREAM ? "tcp" : "udp",
		family == AF_INET ? "IPv4" : "IPv6", port, strerror(errno));
	exit(1);
}

/* Enough fds for the connections tests open (>= 500): soft limit up to the hard one. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < 65536 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int do_serve(struct srv *s, unsigned tcp_port, unsigned udp_port)
{
	struct pollfd *pfds = NULL;
	size_t pfd_cap = 0;

	memset(filler, 'x', sizeof(filler));
	raise_nofile();
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;

		s->tcp[f] = tcp_port ? srv_socket(family, SOCK_STREAM, tcp_port) : -1;
		s->udp[f] = udp_port ? srv_socket(family, SOCK_DGRAM, udp_port) : -1;
	}
	pr_debug("%s: serving http on tcp %u, udp %u", s->name, tcp_port, udp_port);

	for (;;) {
		int64_t now = now_ms();
		size_t np = 0, nconns = s->nconns, keep;
		bool paused = now < s->accept_paused_until;
		int timeout = -1, n;

		if (!pfds || pfd_cap < nconns + 4) {
			pfd_cap = 2 * (nconns + 4);
			free(pfds);
			pfds = malloc(pfd_cap * sizeof(*pfds));
			if (!pfds) {
				pr_warn("out of memory");
				return 1;
			}
		}
		/* slots 0..3: listeners and UDP sockets (fd -1 is ignored by poll) */
		for (int f = 0; f < 2; f++) {
			pfds[np++] = (struct pollfd){ paused ? -1 : s->tcp[f], POLLIN, 0 };
			pfds[np++] = (struct pollfd){ s->udp[f], POLLIN, 0 };
		}
		for (size_t i = 0; i < nconns; i++)
			pfds[np++] = (struct pollfd){ s->conns[i]->fd,
						      s->conns[i]->want_write ? POLLOUT : POLLIN,
						      0 };
		if (s->idle_ms && nconns)
			timeout = 1000;
		if (paused)
			timeout = 100;

		n = poll(pfds, np, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_warn("poll: %s", strerror(errno));
			return 1;
		}
		now = now_ms();
		for (int f = 0; f < 2; f++) {
			if (pfds[2 * f].revents)
				srv_accept(s, s->tcp[f], now);
			if (pfds[2 * f + 1].revents)
				srv_udp(s, s->udp[f]);
		}
		/* connections accepted just now sit past nconns: first poll them next round */
		keep = 0;
		for (size_t i = 0; i < s->nconns; i++) {
			struct conn *c = s->conns[i];

			if (i < nconns && pfds[4 + i].revents && !conn_run(s, c, now)) {
				conn_close(c, "");
				continue;
			}
			if (s->idle_ms && now - c->last_ms > s->idle_ms) {
				conn_close(c, " (idle)");
				continue;
			}
			s->conns[keep++] = c;
		}
		s->nconns = keep;
	}
}

/* ---- client: --udp-probe ---- */

static bool parse_addr(const char *s, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return true;
	}
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return true;
	}
	return false;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/*
 * The inner packet of an ipip probe: IPv4 or IPv6 header + UDP from src to dst (the local
 * socket's address and the probed address), so that the reply finds the probe's socket.
 */
static size_t build_inner(uint8_t *pkt, const struct sockaddr_storage *src,
			  const struct sockaddr_storage *dst, const char *msg)
{
	size_t mlen = strlen(msg), ulen = 8 + mlen, ihl, alen;
	const uint8_t *sa, *da;
	uint16_t sport, dport;
	uint32_t sum;
	uint8_t *udp;

	if (src->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)src, *d4 = (const void *)dst;

		ihl = 20;
		alen = 4;
		sa = (const uint8_t *)&s4->sin_addr;
		da = (const uint8_t *)&d4->sin_addr;
		sport = ntohs(s4->sin_port);
		dport = ntohs(d4->sin_port);
		memset(pkt, 0, ihl);
		pkt[0] = 0x45;
		put16(pkt + 2, ihl + ulen);
		put16(pkt + 4, (uint16_t)getpid());
		pkt[8] = 64;
		pkt[9] = IPPROTO_UDP;
		memcpy(pkt + 12, sa, 4);
		memcpy(pkt + 16, da, 4);
		put16(pkt + 10, csum_fold(csum_add(0, pkt, ihl)));
	} else {
		const struct sockaddr_in6 *s6 = (const void *)src, *d6 = (const void *)dst;

		ihl = 40;
		alen = 16;
		sa = (const uint8_t *)&s6->sin6_addr;
		da = (const uint8_t *)&d6->sin6_addr;
		sport = ntohs(s6->sin6_port);
		dport = ntohs(d6->sin6_port);
		memset(pkt, 0, ihl);
		pkt[0] = 0x60;
		put16(pkt + 4, ulen);
		pkt[6] = IPPROTO_UDP;
		pkt[7] = 64;
		memcpy(pkt + 8, sa, 16);
		memcpy(pkt + 24, da, 16);
	}
	udp = pkt + ihl;
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, ulen);
	put16(udp + 6, 0);
	memcpy(udp + 8, msg, mlen);
	/* pseudo header: addresses, protocol, UDP length (same sum for both families) */
	sum = csum_add(0, sa, alen);
	sum = csum_add(sum, da, alen);
	sum += IPPROTO_UDP + ulen;
	sum = csum_add(sum, udp, ulen);
	put16(udp + 6, csum_fold(sum) ? csum_fold(sum) : 0xffff);
	return ihl + ulen;
}

static int do_probe(const char *addr, const char *port_s, const char *via, int timeout_ms)
{
	static const char msg[] = "namesrv probe\n";
	struct sockaddr_storage dst, src, hop;
	socklen_t dlen, slen = sizeof(src), hlen = 0;
	uint8_t pkt[128];
	size_t plen = 0;
	unsigned long port;
	int fd, raw = -1;
	int64_t deadline, next_send = 0;
	char buf[2048];

	if (!parse_ulong(port_s, 65535, &port) || !port) {
		pr_warn("--udp-probe: bad port '%s'", port_s);
		return 2;
	}
	if (!parse_addr(addr, port, &dst, &dlen)) {
		pr_warn("--udp-probe: bad address '%s' (want an IPv4 or IPv6 literal)", addr);
		return 2;
	}
	if (via && (!parse_addr(via, 0, &hop, &hlen) || hop.ss_family != dst.ss_family)) {
		pr_warn("--ipip-via: bad address '%s' (want a literal of the probed family)", via);
		return 2;
	}
	fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* connected: the kernel drops any reply that does not come from ADDR:PORT */
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, dlen)) {
		pr_warn("udp %s: %s", addr, strerror(errno));
		return 1;
	}
	if (via) {
		if (getsockname(fd, (struct sockaddr *)&src, &slen)) {
			pr_warn("getsockname: %s", strerror(errno));
			return 1;
		}
		/* the kernel adds the outer header: IPPROTO_IPIP (4) or IPv6-in-IPv6 (41) */
		raw = socket(dst.ss_family, SOCK_RAW | SOCK_CLOEXEC,
			     dst.ss_family == AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6);
		if (raw < 0) {
			pr_warn("raw socket: %s", strerror(errno));
			return 1;
		}
		plen = build_inner(pkt, &src, &dst, msg);
	}
	deadline = now_ms() + timeout_ms;
	for (;;) {
		int64_t now = now_ms(), wait;
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (now >= deadline)
			break;
		if (now >= next_send) {
			/* resend every 500 ms: a first datagram may die in neighbour resolution */
			if (via)
				n = sendto(raw, pkt, plen, 0, (struct sockaddr *)&hop, hlen);
			else
				n = send(fd, msg, sizeof(msg) - 1, 0);
			if (n < 0 && errno != ECONNREFUSED)
				pr_debug("send: %s", strerror(errno));
			next_send = now + 500;
		}
		wait = (next_send < deadline ? next_send : deadline) - now;
		if (poll(&p, 1, (int)wait) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ECONNREFUSED)
				pr_debug("%s port %lu: ICMP unreachable (nothing listening?)", addr,
					 port);
			continue;
		}
		fwrite(buf, 1, n, stdout);
		fflush(stdout);
		pr_debug("reply of %zd bytes from %s port %lu", n, addr, port);
		return 0;
	}
	pr_warn("no reply from %s port %lu%s%s within %d ms", addr, port, via ? " via " : "",
		via ? via : "", timeout_ms);
	return 1;
}

int main(int argc, char **argv)
{
	struct option lopts[NOPTS + 1];
	char shorts[3 * NOPTS + 1], *sp = shorts;
	struct srv s = { .tcp = { -1, -1 }, .udp = { -1, -1 } };
	unsigned long tcp_port = 80, udp_port = 80, idle = 300, timeout = 2000;
	const char *probe = NULL, *via = NULL;
	int c;

	for (size_t i = 0; i < NOPTS; i++) {
		lopts[i] = (struct option){ opts[i].name, opts[i].has_arg, NULL, opts[i].val };
		*sp++ = opts[i].val;
		if (opts[i].has_arg)
			*sp++ = ':';
	}
	*sp = '\0';
	memset(&lopts[NOPTS], 0, sizeof(lopts[NOPTS]));

	while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			s.name = optarg;
			break;
		case 'p':
		case 'u':
			if (!parse_ulong(optarg, 65535, c == 'p' ? &tcp_port : &udp_port)) {
				pr_warn("--%s: bad port '%s' (0..65535)",
					c == 'p' ? "port" : "udp-port", optarg);
				return 2;
			}
			break;
		case 'i':
			if (!parse_ulong(optarg, 86400, &idle)) {
				pr_warn("--idle-timeout: bad seconds '%s' (0..86400)", optarg);
				return 2;
			}
			break;
		case 'P':
			probe = optarg;
			break;
		case 'I':
			via = optarg;
			break;
		case 't':
			if (!parse_ulong(optarg, 600000, &timeout) || !timeout) {
				pr_warn("--timeout: bad milliseconds '%s' (1..600000)", optarg);
				return 2;
			}
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);	/* a vanished client is an error return, never a death */

	if (probe) {
		if (optind != argc - 1) {
			pr_warn("--udp-probe ADDR PORT: want exactly one PORT after ADDR");
			return 2;
		}
		return do_probe(probe, argv[optind], via, (int)timeout);
	}
	if (optind != argc) {
		pr_warn("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (via) {
		pr_warn("--ipip-via goes with --udp-probe");
		return 2;
	}
	if (!s.name || !*s.name || strlen(s.name) > NAME_LEN_MAX ||
	    strpbrk(s.name, "\r\n")) {
		pr_warn("--name NAME is required: 1..%d characters, no line breaks", NAME_LEN_MAX);
		return 2;
	}
	if (!tcp_port && !udp_port) {
		pr_warn("nothing to serve: --port and --udp-port are both 0");
		return 2;
	}
	snprintf(s.body, sizeof(s.body), "%s\n", s.name);
	s.idle_ms = (int64_t)idle * 1000;
	return do_serve(&s, tcp_port, udp_port);
}
