// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fixture: what the rig's test fixtures (namesrv, fakesrv, rawhttp) share. See fixture.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

const char *fx_prog = "fixture";
bool fx_verbose;

static void vlog(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", fx_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;

	if (!fx_verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

int fx_getopt(int argc, char **argv, const struct fx_opt *opts, size_t n, void (*usage)(FILE *f))
{
	/* getopt_long's view of the table, built at the first call: it stays the same */
	static struct option lopts[FX_OPTS_MAX + 1];
	static char shorts[2 * FX_OPTS_MAX + 1];
	int c;

	if (n > FX_OPTS_MAX)
		abort();	/* a programming error: raise FX_OPTS_MAX */
	if (!lopts[0].name) {
		char *sp = shorts;

		for (size_t i = 0; i < n; i++) {
			lopts[i] = (struct option){ opts[i].name, opts[i].has_arg, NULL,
						    opts[i].val };
			*sp++ = opts[i].val;
			if (opts[i].has_arg)
				*sp++ = ':';
		}
		*sp = '\0';
	}
	for (;;) {
		c = getopt_long(argc, argv, shorts, lopts, NULL);
		switch (c) {
		case 'v':
			fx_verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case '?':
			usage(stderr);
			exit(2);
		default:
			return c;
		}
	}
}

void fx_usage_opts(FILE *f, const struct fx_opt *opts, size_t n, int width)
{
	char left[64];

	for (size_t i = 0; i < n; i++) {
		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
			 opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-*s %s\n", width, left, opts[i].help);
	}
}

bool fx_parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	/* strtoul alone would take leading space, a sign, and "" as 0 */
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

int64_t fx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool fx_parse_addr(const char *s, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
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

const char *fx_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, len);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, len);
	return buf;
}

const char *fx_addr_port_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in *s4 = (const void *)ss;
	const struct sockaddr_in6 *s6 = (const void *)ss;
	char a[INET6_ADDRSTRLEN] = "?";

	fx_addr_str(ss, a, sizeof(a));
	if (ss->ss_family == AF_INET)
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	else
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	return buf;
}

int fx_accept(int lfd, struct sockaddr_storage *peer)
{
	socklen_t len = sizeof(*peer);

	return accept4(lfd, (struct sockaddr *)peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int fx_listen(int family, int type, unsigned port)
{
	struct sockaddr_storage ss = { .ss_family = family };
	int fd, one = 1, err, e;

	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		err = type == SOCK_DGRAM ?
			      setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) : 0;
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		err = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (!err && type == SOCK_DGRAM)
			err = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	}
	if (!err && type == SOCK_STREAM)
		err = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!err)
		err = bind(fd, (struct sockaddr *)&ss,
			   family == AF_INET ? sizeof(struct sockaddr_in) :
					       sizeof(struct sockaddr_in6));
	if (!err && type == SOCK_STREAM)
		err = listen(fd, SOMAXCONN);
	if (!err)
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

void fx_raise_nofile(uint64_t cap)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < cap && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < cap ? rl.rlim_max : cap;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

void *fx_reserve(void *arr, size_t n, size_t *cap, size_t size)
{
	size_t c = *cap ? 2 * *cap : 64;
	void *p;

	if (n < *cap)
		return arr;
	p = realloc(arr, c * size);
	if (p)
		*cap = c;
	return p;
}
