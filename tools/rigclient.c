// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rigclient: the rig's client, for tests and the demo (a test fixture, not part of the
 * product). From each of COUNT source addresses (BASE, BASE+1, ...) it makes CONNS requests
 * to a VIP - HTTP/1.0 GETs over fresh TCP connections, or UDP datagrams - and prints one line
 * per source: the source, then what answered each request (the body's first line, "-" when
 * nothing did). namesrv on the backends answers with its name, so the line says who served.
 *
 *   rigclient http|udp VIP PORT BASE COUNT [CONNS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS 2000

union addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

static int parse_addr(const char *s, uint16_t port, union addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4.sin_addr) == 1) {
		a->v4.sin_family = AF_INET;
		a->v4.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->v6.sin6_addr) == 1) {
		a->v6.sin6_family = AF_INET6;
		a->v6.sin6_port = htons(port);
		return 0;
	}
	return -1;
}

/* base + i: the IPv4 address, or the last 32 bits of the IPv6 one */
static void nth_source(const union addr *base, uint32_t i, union addr *out)
{
	*out = *base;
	if (base->sa.sa_family == AF_INET) {
		out->v4.sin_addr.s_addr = htonl(ntohl(base->v4.sin_addr.s_addr) + i);
	} else {
		uint32_t w;

		memcpy(&w, &base->v6.sin6_addr.s6_addr[12], 4);
		w = htonl(ntohl(w) + i);
		memcpy(&out->v6.sin6_addr.s6_addr[12], &w, 4);
	}
}

static socklen_t alen(const union addr *a)
{
	return a->sa.sa_family == AF_INET ? sizeof(a->v4) : sizeof(a->v6);
}

static bool wait_for(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };

	return poll(&p, 1, TIMEOUT_MS) == 1;
}

/* Read until EOF or timeout; the body's first line into out. */
static void read_answer(int fd, bool http, char *out, size_t outlen)
{
	char buf[4096], *body, *nl;
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(buf) - 1 && wait_for(fd, POLLIN)) {
		r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0)
			break;
		n += r;
		if (!http)
			break;
	}
	buf[n] = 0;
	body = http ? strstr(buf, "\r\n\r\n") : buf;
	if (!body || !n) {
		snprintf(out, outlen, "-");
		return;
	}
	body += http ? 4 : 0;
	nl = strchr(body, '\n');
	if (nl)
		*nl = 0;
	snprintf(out, outlen, "%s", *body ? body : "-");
}

static void request(const union addr *src, const union addr *vip, bool http, char *out,
		    size_t outlen)
{
	static const char get[] = "GET / HTTP/1.0\r\nHost: vip\r\n\r\n";
	int fd = socket(vip->sa.sa_family, (http ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
	int err = 0;
	socklen_t el = sizeof(err);

	snprintf(out, outlen, "-");
	if (fd < 0)
		return;
	if (bind(fd, &src->sa, alen(src)))
		goto out;
	if (connect(fd, &vip->sa, alen(vip)) && errno != EINPROGRESS)
		goto out;
	if (!wait_for(fd, POLLOUT) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err)
		goto out;
	if (http ? write(fd, get, sizeof(get) - 1) != sizeof(get) - 1 : write(fd, "?", 1) != 1)
		goto out;
	read_answer(fd, http, out, outlen);
out:
	close(fd);
}

int main(int argc, char **argv)
{
	union addr vip, base, src;
	uint32_t count, conns = 1;
	char text[INET6_ADDRSTRLEN], ans[256];
	bool http;

	if (argc < 6 || argc > 7 || (strcmp(argv[1], "http") && strcmp(argv[1], "udp"))) {
		fprintf(stderr, "usage: rigclient http|udp VIP PORT BASE COUNT [CONNS]\n");
		return 2;
	}
	http = !strcmp(argv[1], "http");
	if (parse_addr(argv[2], atoi(argv[3]), &vip) || parse_addr(argv[4], 0, &base) ||
	    vip.sa.sa_family != base.sa.sa_family) {
		fprintf(stderr, "rigclient: VIP and BASE must be addresses of one family\n");
		return 2;
	}
	count = strtoul(argv[5], NULL, 0);
	if (argc == 7)
		conns = strtoul(argv[6], NULL, 0);
	for (uint32_t i = 0; i < count; i++) {
		nth_source(&base, i, &src);
		inet_ntop(src.sa.sa_family,
			  src.sa.sa_family == AF_INET ? (void *)&src.v4.sin_addr
						      : (void *)&src.v6.sin6_addr,
			  text, sizeof(text));
		printf("%s", text);
		for (uint32_t c = 0; c < conns; c++) {
			request(&src, &vip, http, ans, sizeof(ans));
			printf(" %s", ans);
		}
		printf("\n");
		fflush(stdout);
	}
	return 0;
}
