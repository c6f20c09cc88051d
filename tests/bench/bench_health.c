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
 *   bench_health floor tcp|http FARMS PER SECONDS
 *       in the LB: the baseline prober, the least a prober of this design can do: the same
 *       FARMS x PER probes a second to the same servers and ports, evenly spread, each a
 *       non-blocking connect on one epoll set (http: the same request, the answer read to
 *       its end), closed with a reset; no state, no timers but one timerfd tick a
 *       millisecond. After a second of warm-up, its own CPU (getrusage) over SECONDS: prints
 *       "PCT USER SYS probes=N failed=N" (percent of one core).
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
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
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
			printf(", \"probe\": {\"type\": \"%s\", \"interval\": 1, \"port\": %d}",
			       type, BH_PORT0 + f + 1);
		printf(", \"server\": [");
		for (int s = 0; s < per; s++)
			printf("%s{\"serverId\": %d, \"address\": \"198.19.%d.%d\", "
			       "\"probe\": %s}", s ? ", " : "", s + 1, s / 250, 1 + s % 250,
			       probe ? "true" : "false");
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

/* What the listener keeps: the accept records, once recording. */
struct listener {
	int ep;
	bool http;
	struct stamp *st;
	size_t n, cap;
};

static int listener_record(struct listener *l, int fd, const struct timespec *now)
{
	struct sockaddr_in local;
	socklen_t sl = sizeof(local);

	if (l->n == l->cap) {
		struct stamp *st = realloc(l->st, (l->cap ? 2 * l->cap : 1 << 16) * sizeof(*st));

		if (!st)
			return -1;
		l->st = st;
		l->cap = l->cap ? 2 * l->cap : 1 << 16;
	}
	getsockname(fd, (void *)&local, &sl);
	l->st[l->n++] = (struct stamp){ *now, local.sin_addr.s_addr, ntohs(local.sin_port) };
	return 0;
}

/* Accept all that waits on lfd: tcp probes are closed at once, http ones read. */
static int listener_accept(struct listener *l, int lfd)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct timespec now;
		struct hconn *c;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return 0;
		clock_gettime(CLOCK_REALTIME, &now);
		if (recording && listener_record(l, fd, &now))
			return -1;
		c = l->http ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		ev.data.u64 = (uint64_t)(uintptr_t)c | 1;	/* bit 0 set: a connection */
		epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

/* An http probe's request: answered 200 once its head is in, then closed. */
static void listener_read(struct hconn *c)
{
	ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);

	if (r < 0 && errno == EAGAIN)
		return;
	if (r > 0) {
		c->len += r;
		c->buf[c->len] = 0;
		if (!strstr(c->buf, "\r\n\r\n") && c->len < sizeof(c->buf) - 1)
			return;
		send(c->fd, http_ok, sizeof(http_ok) - 1, MSG_NOSIGNAL);
	}
	close(c->fd);	/* which takes it out of the epoll set */
	free(c);
}

static int do_listen(int lo, int hi, const char *proto, const char *out)
{
	struct listener l = { .ep = epoll_create1(EPOLL_CLOEXEC), .http = !strcmp(proto, "http") };
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
			fprintf(stderr, "bench_health: port %d: %s\n", p, strerror(errno));
			return 1;
		}
		ev.data.u64 = (uint64_t)fd << 1;	/* bit 0 clear: a listener */
		epoll_ctl(l.ep, EPOLL_CTL_ADD, fd, &ev);
	}
	fprintf(stderr, "bench_health: listening on %d ports (%s)\n", hi - lo + 1, proto);
	while (!stopping) {
		struct epoll_event evs[256];
		int k = epoll_wait(l.ep, evs, 256, 200);

		for (int i = 0; i < k; i++) {
			uint64_t d = evs[i].data.u64;

			if (!(d & 1) && listener_accept(&l, (int)(d >> 1)))
				return 1;
			if (d & 1)
				listener_read((struct hconn *)(uintptr_t)(d & ~1ull));
		}
	}
	f = fopen(out, "w");
	if (!f) {
		fprintf(stderr, "bench_health: %s: %s\n", out, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < l.n; i++) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &l.st[i].addr, a, sizeof(a));
		fprintf(f, "%lld.%09ld %s %u\n", (long long)l.st[i].t.tv_sec, l.st[i].t.tv_nsec, a,
			l.st[i].port);
	}
	fclose(f);
	fprintf(stderr, "bench_health: %zu accepts recorded\n", l.n);
	return 0;
}

/* --- floor: the baseline prober ----------------------------------------------------------- */

struct ftarget {
	struct sockaddr_in addr;
	int fd;
	size_t got;		/* http: answer bytes read */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	return *user + *sys;
}

static void floor_close(struct ftarget *t)
{
	static const struct linger reset = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	close(t->fd);
	t->fd = -1;
}

struct floor {
	int ep;
	bool http;
	struct ftarget *t;
	size_t n, next;		/* targets; the next to start */
	size_t probes, failed;
};

static const char floor_req[] = "GET / HTTP/1.1\r\nHost: 198.19.0.1\r\nConnection: close\r\n"
				"User-Agent: limpet-probe\r\n\r\n";

/* Start every probe due by now: target j at j/n of each second since t0. */
static void floor_start_due(struct floor *fl, double elapsed)
{
	size_t due = (size_t)(elapsed * fl->n);
	int one = 1;

	for (; fl->next < due; fl->next++) {
		struct ftarget *y = &fl->t[fl->next % fl->n];
		struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = y };

		if (y->fd >= 0) {	/* not done after a second */
			fl->failed++;
			floor_close(y);
		}
		fl->probes++;
		y->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (y->fd < 0) {
			fl->failed++;
			continue;
		}
		/* as limpetd's http probe does: its request in one segment */
		if (fl->http)
			setsockopt(y->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(y->fd, (void *)&y->addr, sizeof(y->addr)) && errno != EINPROGRESS) {
			fl->failed++;
			close(y->fd);
			y->fd = -1;
			continue;
		}
		y->got = 0;
		epoll_ctl(fl->ep, EPOLL_CTL_ADD, y->fd, &ev);
	}
}

/* A probe's event: connected (tcp: done; http: the request sent) or answer bytes. */
static void floor_event(struct floor *fl, struct ftarget *x, uint32_t events)
{
	char buf[4096];
	ssize_t r;

	if (events & EPOLLOUT) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = x };
		int e = 0;
		socklen_t el = sizeof(e);

		getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &e, &el);
		if (e || !fl->http) {
			fl->failed += e != 0;
			floor_close(x);
			return;
		}
		send(x->fd, floor_req, sizeof(floor_req) - 1, MSG_NOSIGNAL);
		epoll_ctl(fl->ep, EPOLL_CTL_MOD, x->fd, &ev);
		return;
	}
	/* the answer, read to its end (the listener closes after it) */
	r = recv(x->fd, buf, sizeof(buf), 0);
	if (r < 0 && errno == EAGAIN)
		return;
	if (r > 0) {
		x->got += r;
		if (x->got < sizeof(http_ok) - 1)
			return;
	} else {
		fl->failed++;
	}
	floor_close(x);
}

static int do_floor(const char *type, int farms, int per, double seconds)
{
	struct floor fl = { .ep = epoll_create1(EPOLL_CLOEXEC), .http = !strcmp(type, "http"),
			    .n = (size_t)farms * per };
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	struct itimerspec its = { { 0, 1000000 }, { 0, 1000000 } };
	struct epoll_event tev = { .events = EPOLLIN, .data.ptr = NULL };
	double t0, start = -1, now, c0 = 0, u0 = 0, s0 = 0, u1, s1, c1;
	struct rlimit rl;

	fl.t = calloc(fl.n, sizeof(*fl.t));
	if (!fl.t || fl.ep < 0 || tfd < 0)
		return 1;
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* farms interleaved, as limpetd's hash spreads them; servers as do_config names them */
	for (int f = 0; f < farms; f++) {
		for (int i = 0; i < per; i++) {
			struct ftarget *x = &fl.t[(size_t)i * farms + f];

			x->fd = -1;
			x->addr.sin_family = AF_INET;
			x->addr.sin_port = htons(BH_PORT0 + f + 1);
			/* 198.19.(i / 250).(1 + i % 250) */
			x->addr.sin_addr.s_addr =
				htonl(0xc6130000u | (uint32_t)(i / 250) << 8 | (1 + i % 250));
		}
	}
	timerfd_settime(tfd, 0, &its, NULL);
	epoll_ctl(fl.ep, EPOLL_CTL_ADD, tfd, &tev);
	t0 = now_s();
	for (now = t0; start < 0 || now - start < seconds; now = now_s()) {
		struct epoll_event evs[256];
		int k = epoll_wait(fl.ep, evs, 256, -1);
		uint64_t ticks;

		if (start < 0 && now - t0 >= 1) {	/* a second of warm-up */
			start = now;
			c0 = cpu_s(&u0, &s0);
			fl.probes = fl.failed = 0;
		}
		for (int i = 0; i < k; i++) {
			if (evs[i].data.ptr)
				floor_event(&fl, evs[i].data.ptr, evs[i].events);
			else if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
				floor_start_due(&fl, now_s() - t0);
		}
	}
	c1 = cpu_s(&u1, &s1);
	printf("%.2f %.2f %.2f probes=%zu failed=%zu\n", 100 * (c1 - c0) / (now - start),
	       100 * (u1 - u0) / (now - start), 100 * (s1 - s0) / (now - start), fl.probes,
	       fl.failed);
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
	if (argc == 6 && !strcmp(argv[1], "floor"))
		return do_floor(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
	if (argc >= 5 && !strcmp(argv[1], "spread"))
		return do_spread(atof(argv[2]), atof(argv[3]), argc - 4, argv + 4);
	fprintf(stderr, "usage: bench_health config FARMS PER none|tcp|http\n"
			"       bench_health listen PORT_LO PORT_HI tcp|http OUT\n"
			"       bench_health floor tcp|http FARMS PER SECONDS\n"
			"       bench_health spread INTERVAL WINDOW FILE...\n");
	return 2;
}
