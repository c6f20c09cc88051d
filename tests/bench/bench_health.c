// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Health-probe benchmark helper (issue 7), driven by tests/bench/bench_health.sh:
 *
 *   bench_health config FARMS PER none|tcp|http
 *       print a config (serviceName "bench-hc") of FARMS farms of PER servers each, every farm
 *       behind one tcp frontend (ipip), probing at interval 1 s (none: no probe). The servers
 *       of each farm are the addresses 198.19.(i / 250).(1 + i % 250), i < PER, the same in
 *       every farm; farm f probes port BH_PORT0 + f. So FARMS x PER servers are FARMS ports
 *       on PER addresses.
 *   bench_health listen PORT_LO PORT_HI tcp|http OUT
 *       in a backend: accept on every port of the range (IPv4 wildcard), answer http probes
 *       with 200 and close, close tcp probes at once; from SIGUSR1 on, record the time of
 *       each accept and the (address, port) it was for; on SIGTERM write them to OUT (one
 *       "sec.nsec address port" line each) and exit.
 *   bench_health spread INTERVAL WINDOW FILE...
 *       from the listeners' records: probes seen, the probes started per 100 ms slot of the
 *       window (how evenly the prober spreads them: no thundering herd) and the period of
 *       each server (time between two accepts for one address and port) against INTERVAL.
 *       Prints a human line and a last line "probes=N servers=N slot_cv=X period_p99=S".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BH_PORT0	10000
#define BH_SERVICE	"bench-hc"
#define BH_SEED		0x9c1e52a07d3b4f16ull

/* --- config ---------------------------------------------------------------------------------- */

static int do_config(int farms, int per, const char *type)
{
	bool probe = strcmp(type, "none");

	printf("{\"serviceName\": \"%s\", \"hashSeed\": \"%016llx\", \"tcp\": {\"frontend\": [",
	       BH_SERVICE, (unsigned long long)BH_SEED);
	for (int f = 0; f < farms; f++)
		printf("%s{\"frontendId\": %d, \"address\": \"198.18.100.%d\", \"port\": \"80\", "
		       "\"defaultFarmId\": %d}", f ? ", " : "", f + 1, 101 + f, f + 1);
	printf("], \"farm\": [");
	for (int f = 0; f < farms; f++) {
		printf("%s{\"farmId\": %d, \"stickiness\": \"sourceIp\", \"forwarding\": \"ipip\"",
		       f ? ", " : "", f + 1);
		if (probe)
			printf(", \"probe\": {\"type\": \"%s\", \"interval\": 1, \"port\": %d}", type,
			       BH_PORT0 + f + 1);
		printf(", \"server\": [");
		for (int s = 0; s < per; s++)
			printf("%s{\"serverId\": %d, \"address\": \"198.19.%d.%d\", \"probe\": %s}",
			       s ? ", " : "", s + 1, s / 250, 1 + s % 250, probe ? "true" : "false");
		printf("]}");
	}
	printf("]}}\n");
	return 0;
}

/* --- listener ------------------------------------------------------------------------------- */

struct stamp {
	struct timespec t;
	uint32_t addr;		/* network order */
	uint16_t port;
};

static volatile sig_atomic_t recording, stopping;
static void on_usr1(int sig) { (void)sig; recording = 1; }
static void on_term(int sig) { (void)sig; stopping = 1; }

/* A connection of an http probe, until its request head is read. */
struct hconn {
	int fd;
	size_t len;
	char buf[1024];
};

static const char http_ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			      "Content-Length: 3\r\nConnection: close\r\n\r\nok\n";

static int do_listen(int lo, int hi, const char *proto, const char *out)
{
	bool http = !strcmp(proto, "http");
	int nports = hi - lo + 1, ep = epoll_create1(EPOLL_CLOEXEC);
	struct stamp *st = NULL;
	size_t n = 0, cap = 0;
	struct rlimit rl;
	FILE *f;

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGUSR1, on_usr1);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	for (int p = lo; p <= hi; p++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(p) };
		struct epoll_event ev = { .events = EPOLLIN };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(fd, (void *)&a, sizeof(a)) || listen(fd, 4096)) {
			fprintf(stderr, "bench_health: listen on port %d: %s\n", p, strerror(errno));
			return 1;
		}
		ev.data.u64 = (uint64_t)fd << 1;	/* bit 0 clear: a listener */
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	fprintf(stderr, "bench_health: listening on %d ports (%s)\n", nports, proto);
	while (!stopping) {
		struct epoll_event evs[256];
		int k = epoll_wait(ep, evs, 256, 200);

		for (int i = 0; i < k; i++) {
			if (!(evs[i].data.u64 & 1)) {
				int lfd = evs[i].data.u64 >> 1;

				for (;;) {
					struct sockaddr_in local;
					socklen_t sl = sizeof(local);
					struct timespec now;
					int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

					if (fd < 0)
						break;
					clock_gettime(CLOCK_REALTIME, &now);
					if (recording) {
						if (n == cap) {
							cap = cap ? 2 * cap : 1 << 16;
							st = realloc(st, cap * sizeof(*st));
							if (!st)
								return 1;
						}
						getsockname(fd, (void *)&local, &sl);
						st[n++] = (struct stamp){ now, local.sin_addr.s_addr,
									  ntohs(local.sin_port) };
					}
					if (!http) {
						close(fd);
						continue;
					}
					struct hconn *c = calloc(1, sizeof(*c));
					struct epoll_event ev = { .events = EPOLLIN };

					if (!c) {
						close(fd);
						continue;
					}
					c->fd = fd;
					ev.data.u64 = (uint64_t)(uintptr_t)c | 1;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			struct hconn *c = (void *)(uintptr_t)(evs[i].data.u64 & ~1ull);
			ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);

			if (r > 0) {
				c->len += r;
				c->buf[c->len] = 0;
				if (!strstr(c->buf, "\r\n\r\n") && c->len < sizeof(c->buf) - 1)
					continue;
				send(c->fd, http_ok, sizeof(http_ok) - 1, MSG_NOSIGNAL);
			} else if (r < 0 && errno == EAGAIN) {
				continue;
			}
			close(c->fd);	/* closing removes it from the epoll set */
			free(c);
		}
	}
	f = fopen(out, "w");
	if (!f) {
		fprintf(stderr, "bench_health: %s: %s\n", out, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &st[i].addr, a, sizeof(a));
		fprintf(f, "%lld.%09ld %s %u\n", (long long)st[i].t.tv_sec, st[i].t.tv_nsec, a,
			st[i].port);
	}
	fclose(f);
	fprintf(stderr, "bench_health: %zu accepts recorded\n", n);
	return 0;
}

/* --- spread ---------------------------------------------------------------------------------- */

struct rec {
	double t;
	uint32_t addr;
	uint16_t port;
};

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->t < y->t ? -1 : x->t > y->t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int do_spread(double interval, double window, int nfiles, char **files)
{
	struct rec *r = NULL;
	size_t n = 0, cap = 0, servers = 0, ngaps = 0;
	double t0 = INFINITY, *gaps, mean, var = 0, smin = INFINITY, smax = 0;
	int nslots = (int)(window * 10 + 0.5);
	size_t *slots;

	for (int i = 0; i < nfiles; i++) {
		FILE *f = fopen(files[i], "r");
		char a[64];
		double t;
		unsigned port;

		if (!f) {
			fprintf(stderr, "bench_health: %s: %s\n", files[i], strerror(errno));
			return 1;
		}
		while (fscanf(f, "%lf %63s %u", &t, a, &port) == 3) {
			if (n == cap) {
				cap = cap ? 2 * cap : 1 << 16;
				r = realloc(r, cap * sizeof(*r));
				if (!r)
					return 1;
			}
			r[n].t = t;
			inet_pton(AF_INET, a, &r[n].addr);
			r[n++].port = port;
			if (t < t0)
				t0 = t;
		}
		fclose(f);
	}
	if (!n) {
		printf("no probe was seen by the listeners\nprobes=0 servers=0 slot_cv=0 "
		       "period_p50=0 period_p99=0 period_max=0\n");
		return 0;
	}
	qsort(r, n, sizeof(*r), cmp_rec);
	gaps = calloc(n, sizeof(*gaps));
	slots = calloc(nslots, sizeof(*slots));
	for (size_t i = 0; i < n; i++) {
		int s = (int)((r[i].t - t0) * 10);

		if (s >= 0 && s < nslots)
			slots[s]++;
		if (i && r[i].addr == r[i - 1].addr && r[i].port == r[i - 1].port)
			gaps[ngaps++] = r[i].t - r[i - 1].t;
		else
			servers++;
	}
	mean = 0;
	for (int s = 0; s < nslots; s++) {
		mean += slots[s];
		smin = slots[s] < smin ? slots[s] : smin;
		smax = slots[s] > smax ? slots[s] : smax;
	}
	mean /= nslots;
	for (int s = 0; s < nslots; s++)
		var += (slots[s] - mean) * (slots[s] - mean);
	var /= nslots;
	qsort(gaps, ngaps, sizeof(*gaps), cmp_double);
#define Q(q) (ngaps ? gaps[(size_t)((q) * (ngaps - 1))] : 0)
	printf("%zu probes of %zu servers in %.0f s; starts per 100 ms: mean %.0f, min %.0f, max "
	       "%.0f (cv %.1f%%); period of a server (want %.1f s): p1 %.3f, p50 %.3f, p99 %.3f, "
	       "max %.3f s\n", n, servers, window, mean, smin, smax,
	       mean ? 100 * sqrt(var) / mean : 0, interval, Q(0.01), Q(0.5), Q(0.99),
	       ngaps ? gaps[ngaps - 1] : 0);
	printf("probes=%zu servers=%zu slot_cv=%.1f period_p50=%.3f period_p99=%.3f "
	       "period_max=%.3f\n", n, servers, mean ? 100 * sqrt(var) / mean : 0, Q(0.5), Q(0.99),
	       ngaps ? gaps[ngaps - 1] : 0);
#undef Q
	free(gaps);
	free(slots);
	free(r);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "config"))
		return do_config(atoi(argv[2]), atoi(argv[3]), argv[4]);
	if (argc == 6 && !strcmp(argv[1], "listen"))
		return do_listen(atoi(argv[2]), atoi(argv[3]), argv[4], argv[5]);
	if (argc >= 5 && !strcmp(argv[1], "spread"))
		return do_spread(atof(argv[2]), atof(argv[3]), argc - 4, argv + 4);
	fprintf(stderr, "usage: bench_health config FARMS PER none|tcp|http\n"
			"       bench_health listen PORT_LO PORT_HI tcp|http OUT\n"
			"       bench_health spread INTERVAL WINDOW FILE...\n");
	return 2;
}
