// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The prober's engine (user/health/): real probes against listeners this test opens on
 * 127.0.0.1 and ::1, in this process, driven by health_run() whenever health_fd() is readable
 * in the test's own epoll loop, which also accepts (and, for http, answers) the probes.
 * Servers go up, down by connection refused or by timeout (a listener whose accept queue is
 * full drops SYNs), come back after `rise`, keep their state across a sync, and their first
 * probes spread over the interval. Intervals are 1 s, the shortest: the suite takes ~10 s.
 * TAP output comes from CMOCKA_MESSAGE_OUTPUT=TAP; our own diagnostics are "# " lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "config/config.h"
#include "health/health.h"
#include "helpers.h"

#define LISTENERS_MAX	4
#define ACCEPTS_MAX	256
#define CHANGES_MAX	32
#define HTTP_CONNS	16
#define TAG_HEALTH	UINT32_MAX
#define TAG_CONN	0x10000u	/* | index in the world's http connections */

/* --- a tiny world: the prober, listeners, the callbacks seen ---------------------------------- */

struct listener {
	int fd, family;
	uint16_t port;
	int status;		/* http: the status to answer; 0: accept and close */
	char host[64];		/* http: the Host header of the last request */
	size_t accepts;
	double at[ACCEPTS_MAX];	/* seconds since the world's t0 */
};

/* An accepted http probe, answered once its request head is in. */
struct hconn {
	int fd;			/* -1: free slot */
	struct listener *l;
	char req[2048];
	size_t len;
};

struct change {
	enum cfg_layer layer;
	uint32_t farm, server;
	bool up;
};

struct world {
	struct health *h;
	int ep;
	double t0;
	struct listener *l[LISTENERS_MAX];
	size_t nl;
	struct change ch[CHANGES_MAX];
	size_t nch;
	struct hconn hc[HTTP_CONNS];
	int resync_rc;		/* what health_sync answered from inside the callback */
	const struct config *cfg;
	struct config *cfgs[4];	/* parsed by the test, freed at its teardown */
	size_t ncfg;
	/* the engine's log lines: stderr is a memory stream while the engine runs (cmocka
	 * reports on stderr outside, and the sanitizers on fd 2) */
	FILE *log_f, *saved_stderr;
	char *log;
	size_t log_len;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_changed(void *arg, enum cfg_layer l, uint32_t farm, uint32_t server, bool up)
{
	struct world *w = arg;

	if (w->nch < CHANGES_MAX)
		w->ch[w->nch++] = (struct change){ l, farm, server, up };
	w->resync_rc = health_sync(w->h, w->cfg);
}

static void watch(struct world *w, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	assert_int_equal(epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev), 0);
}

static int world_init(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	*state = w;
	w->resync_rc = 1;
	for (size_t i = 0; i < HTTP_CONNS; i++)
		w->hc[i].fd = -1;
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(w->ep >= 0);
	assert_int_equal(health_new(&w->h, &(struct health_cb){ .changed = on_changed, .arg = w }),
			 0);
	watch(w, health_fd(w->h), TAG_HEALTH);
	log_set_level(LOG_LVL_DEBUG);
	w->log_f = open_memstream(&w->log, &w->log_len);
	assert_non_null(w->log_f);
	w->saved_stderr = stderr;
	w->t0 = now_s();
	return 0;
}

static void expect_log(struct world *w, const char *want)
{
	fflush(w->log_f);
	if (!strstr(w->log, want)) {
		fprintf(stderr, "%s", w->log);
		fail_msg("log: expected a line containing \"%s\", got none (log above)", want);
	}
}

/* The engine's log lines into the world's, around each call that may log. */
static void capture(struct world *w, bool on)
{
	fflush(stderr);
	stderr = on ? w->log_f : w->saved_stderr;
}

/* Run even when the test failed: everything closed and freed. */
static int world_free(void **state)
{
	struct world *w = *state;

	capture(w, false);
	fclose(w->log_f);
	free(w->log);
	health_free(w->h);
	for (size_t i = 0; i < w->nl; i++) {
		if (w->l[i]->fd >= 0)
			close(w->l[i]->fd);
		free(w->l[i]);
	}
	for (size_t i = 0; i < HTTP_CONNS; i++)
		if (w->hc[i].fd >= 0)
			close(w->hc[i].fd);
	for (size_t i = 0; i < w->ncfg; i++)
		config_free(w->cfgs[i]);
	close(w->ep);
	free(w);
	return 0;
}

static int bound_socket(int family, uint16_t port)
{
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} a = { 0 };
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		a.v4.sin_family = AF_INET;
		a.v4.sin_port = htons(port);
		a.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		a.v6.sin6_family = AF_INET6;
		a.v6.sin6_port = htons(port);
		a.v6.sin6_addr = in6addr_loopback;
	}
	if (bind(fd, (struct sockaddr *)&a, family == AF_INET ? sizeof(a.v4) : sizeof(a.v6)))
		fail_msg("bind port %u: %s", port, strerror(errno));
	return fd;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in6 a;
	socklen_t len = sizeof(a);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin6_port);	/* same offset in sockaddr_in */
}

/* A listener on the loopback address of family, port 0: any; backlog < 0: the test does not
 * watch it (nobody accepts). */
static struct listener *listen_on(struct world *w, int family, uint16_t port, int backlog)
{
	struct listener *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	assert_true(w->nl < LISTENERS_MAX);
	l->family = family;
	l->fd = bound_socket(family, port);
	l->port = local_port(l->fd);
	assert_int_equal(listen(l->fd, backlog < 0 ? 0 : backlog), 0);
	fcntl(l->fd, F_SETFL, O_NONBLOCK);
	if (backlog >= 0)
		watch(w, l->fd, (uint32_t)w->nl);
	w->l[w->nl++] = l;
	return l;
}

static void listener_close(struct world *w, struct listener *l)
{
	epoll_ctl(w->ep, EPOLL_CTL_DEL, l->fd, NULL);
	close(l->fd);
	l->fd = -1;
}

/* A port of family's loopback that nobody listens on (refused). */
static uint16_t closed_port(int family)
{
	int fd = bound_socket(family, 0);
	uint16_t port = local_port(fd);

	close(fd);
	return port;
}

/* More of an http probe's request; once its head is in, the answer, and close. */
static void http_read(struct hconn *hc)
{
	char resp[160], *host;
	ssize_t n;

	n = recv(hc->fd, hc->req + hc->len, sizeof(hc->req) - 1 - hc->len, 0);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n > 0) {
		hc->len += (size_t)n;
		hc->req[hc->len] = 0;
		if (!strstr(hc->req, "\r\n\r\n") && hc->len < sizeof(hc->req) - 1)
			return;
		host = strstr(hc->req, "\r\nHost: ");
		if (host)
			sscanf(host + 8, "%63[^\r]", hc->l->host);
		n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 2\r\n"
			     "Connection: close\r\n\r\nok", hc->l->status);
		send(hc->fd, resp, (size_t)n, MSG_NOSIGNAL);
	}
	close(hc->fd);
	hc->fd = -1;
}

static void accept_all(struct world *w, struct listener *l)
{
	int c;

	while ((c = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		size_t i = 0;

		if (l->accepts < ACCEPTS_MAX)
			l->at[l->accepts] = now_s() - w->t0;
		l->accepts++;
		if (!l->status) {
			close(c);
			continue;
		}
		while (i < HTTP_CONNS && w->hc[i].fd >= 0)
			i++;
		assert_true(i < HTTP_CONNS);
		w->hc[i] = (struct hconn){ .fd = c, .l = l };
		watch(w, c, TAG_CONN | (uint32_t)i);
	}
}

/* Run the loop for up to seconds, or until done(w) says so; whether done was reached. */
static bool pump(struct world *w, double seconds, bool (*done)(struct world *w))
{
	double end = now_s() + seconds;
	struct epoll_event ev[16];

	while (!(done && done(w))) {
		double left = end - now_s();
		int n;

		if (left <= 0)
			return false;
		n = epoll_wait(w->ep, ev, 16, (int)(left * 1000) + 1);
		for (int i = 0; i < n; i++) {
			uint32_t tag = ev[i].data.u32;

			if (tag == TAG_HEALTH) {
				capture(w, true);
				health_run(w->h);
				capture(w, false);
			} else if (tag & TAG_CONN) {
				http_read(&w->hc[tag & ~TAG_CONN]);
			} else {
				accept_all(w, w->l[tag]);
			}
		}
	}
	return true;
}

/* The config of a single-quoted document, freed at the test's teardown. */
static struct config *parse(struct world *w, const char *sq)
{
	struct config *c = parse_sq(sq);

	assert_true(w->ncfg < sizeof(w->cfgs) / sizeof(w->cfgs[0]));
	w->cfgs[w->ncfg++] = c;
	return c;
}

/* Free a config before the test ends: the engine must hold no pointer into it. */
static void drop(struct world *w, struct config *c)
{
	for (size_t i = 0; i < w->ncfg; i++) {
		if (w->cfgs[i] == c) {
			config_free(c);
			w->cfgs[i] = w->cfgs[--w->ncfg];
			return;
		}
	}
	fail_msg("test bug: config %p is not the test's", (void *)c);
}

static void sync_ok(struct world *w, const struct config *cfg)
{
	int err;

	capture(w, true);
	err = health_sync(w->h, cfg);
	capture(w, false);

	if (err)
		fail_msg("health_sync: expected 0, got %d (%s)", err, strerror(-err));
	w->cfg = cfg;
}

static const char *state_name(enum health_state s)
{
	static const char *const names[] = { "none", "checking", "up", "down" };

	return names[s];
}

static void expect_state(struct world *w, uint32_t farm, uint32_t server, enum health_state want)
{
	enum health_state got = health_state(w->h, CFG_TCP, farm, server);

	if (got != want)
		fail_msg("farm %u server %u: expected state %s, got %s", farm, server,
			 state_name(want), state_name(got));
}

/* A field of the server's health_server_json as text ("null" for JSON null). */
static char *field(struct world *w, uint32_t farm, uint32_t server, const char *key)
{
	json_t *j = health_server_json(w->h, CFG_TCP, farm, server), *v;
	char *s;

	if (!j)
		fail_msg("farm %u server %u: expected its health JSON, got NULL", farm, server);
	v = json_object_get(j, key);
	if (!v)
		fail_msg("farm %u server %u: expected a field \"%s\"", farm, server, key);
	s = json_is_string(v) ? strdup(json_string_value(v)) :
				json_dumps(v, JSON_ENCODE_ANY);
	json_decref(j);
	assert_non_null(s);
	return s;
}

static void expect_field(struct world *w, uint32_t farm, uint32_t server, const char *key,
			 const char *want)
{
	char *got = field(w, farm, server, key);

	if (strcmp(got, want)) {
		char copy[160];

		snprintf(copy, sizeof(copy), "%s", got);
		free(got);
		fail_msg("farm %u server %u: expected %s %s, got %s", farm, server, key, want,
			 copy);
	}
	free(got);
}

static long checks(struct world *w, uint32_t farm, uint32_t server)
{
	char *s = field(w, farm, server, "checks");
	long n = atol(s);

	free(s);
	return n;
}

static void expect_change(struct world *w, size_t i, uint32_t farm, uint32_t server, bool up)
{
	if (i >= w->nch)
		fail_msg("callback %zu: expected farm %u server %u %s, got only %zu callbacks", i,
			 farm, server, up ? "up" : "down", w->nch);
	if (w->ch[i].layer != CFG_TCP || w->ch[i].farm != farm || w->ch[i].server != server ||
	    w->ch[i].up != up)
		fail_msg("callback %zu: expected tcp farm %u server %u %s, got %s farm %u server "
			 "%u %s", i, farm, server, up ? "up" : "down",
			 cfg_layer_name(w->ch[i].layer), w->ch[i].farm, w->ch[i].server,
			 w->ch[i].up ? "up" : "down");
}

#define SRV4(id) "{'serverId': " #id ", 'address': '127.0.0.1', 'port': %u, 'probe': true}"

/* --- up, down, rise, fall --------------------------------------------------------------------- */

static bool first_results(struct world *w)
{
	return health_state(w->h, CFG_TCP, 1, 1) != HS_CHECKING &&
	       health_state(w->h, CFG_TCP, 1, 2) != HS_CHECKING &&
	       health_state(w->h, CFG_TCP, 1, 3) != HS_CHECKING;
}

static bool s1_down_s2_up(struct world *w)
{
	return health_state(w->h, CFG_TCP, 1, 1) == HS_DOWN &&
	       health_state(w->h, CFG_TCP, 1, 2) == HS_UP;
}

static void test_up_refused_then_rise_and_fall(void **state)
{
	struct world *w = *state;
	struct listener *l4, *l6;
	struct config *cfg;
	uint16_t dead;
	char doc[1024], want[160];

	l4 = listen_on(w, AF_INET, 0, 64);
	l6 = listen_on(w, AF_INET6, 0, 64);
	dead = closed_port(AF_INET);
	snprintf(doc, sizeof(doc), "{'serviceName': 't', 'tcp': {'farm': [{'farmId': 1,"
		 " 'probe': {'type': 'tcp', 'interval': 1, 'rise': 2, 'fall': 2}, 'server': ["
		 SRV4(1) ", " SRV4(2) ", {'serverId': 3, 'address': '::1',"
		 " 'port': %u, 'probe': true}]}]}}", l4->port, dead, l6->port);
	cfg = parse(w, doc);
	sync_ok(w, cfg);
	expect_state(w, 1, 1, HS_CHECKING);
	assert_true(health_up(w->h, CFG_TCP, 1, 1));
	expect_field(w, 1, 1, "state", "checking");
	expect_field(w, 1, 1, "lastCheck", "null");

	/* the first result sets the state at once, whatever rise and fall say */
	if (!pump(w, 1.5, first_results))
		fail_msg("expected every server's first result within its interval, got none");
	expect_state(w, 1, 1, HS_UP);
	expect_state(w, 1, 3, HS_UP);
	expect_state(w, 1, 2, HS_DOWN);
	assert_false(health_up(w->h, CFG_TCP, 1, 2));
	expect_field(w, 1, 2, "state", "down");
	expect_field(w, 1, 2, "lastResult", "failed");
	expect_field(w, 1, 2, "error", "connection refused");
	expect_field(w, 1, 1, "lastResult", "ok");
	expect_field(w, 1, 1, "error", "null");
	snprintf(want, sizeof(want), "info: tcp farm 1 server 2 (127.0.0.1:%u): down after its "
		 "first check: connection refused", dead);
	expect_log(w, want);
	snprintf(want, sizeof(want), "debug: tcp farm 1 server 3 ([::1]:%u): up after its first "
		 "check", l6->port);
	expect_log(w, want);
	/* checking -> up changes no eligibility: the only callback is server 2 going down */
	assert_int_equal(w->nch, 1);
	expect_change(w, 0, 1, 2, false);
	assert_int_equal(w->resync_rc, -EBUSY);

	/* server 2's port opens, server 1's closes: 2 good checks up, 2 failed checks down */
	listen_on(w, AF_INET, dead, 64);
	listener_close(w, l4);
	if (!pump(w, 3.5, s1_down_s2_up))
		fail_msg("expected server 1 down and server 2 up within 3.5 s, got %s and %s",
			 state_name(health_state(w->h, CFG_TCP, 1, 1)),
			 state_name(health_state(w->h, CFG_TCP, 1, 2)));
	snprintf(want, sizeof(want), "info: tcp farm 1 server 2 (127.0.0.1:%u): up after 2 good "
		 "checks", dead);
	expect_log(w, want);
	snprintf(want, sizeof(want), "info: tcp farm 1 server 1 (127.0.0.1:%u): down after 2 "
		 "failed checks: connection refused", l4->port);
	expect_log(w, want);
	assert_int_equal(checks(w, 1, 2), 3);
	assert_int_equal(w->nch, 3);
	for (size_t i = 1; i < 3; i++) {
		if (w->ch[i].server == 1)
			expect_change(w, i, 1, 1, false);
		else
			expect_change(w, i, 1, 2, true);
	}
	expect_state(w, 1, 3, HS_UP);
}

/* --- seeded down (an adopting limpetd): rise good checks to come up ------------------------- */

static bool s1_checked(struct world *w)
{
	return checks(w, 1, 1) >= 1;
}

static bool s1_up(struct world *w)
{
	return health_state(w->h, CFG_TCP, 1, 1) == HS_UP;
}

static void test_seeded_down_needs_rise_checks(void **state)
{
	struct world *w = *state;
	struct listener *l4;
	struct config *cfg;
	char doc[512];

	l4 = listen_on(w, AF_INET, 0, 64);
	snprintf(doc, sizeof(doc), "{'serviceName': 't', 'tcp': {'farm': [{'farmId': 1,"
		 " 'probe': {'type': 'tcp', 'interval': 1, 'rise': 2, 'fall': 2}, 'server': ["
		 SRV4(1) "]}]}}", l4->port);
	cfg = parse(w, doc);
	sync_ok(w, cfg);
	assert_false(health_seed_down(w->h, CFG_TCP, 1, 2));	/* not probed */
	assert_true(health_seed_down(w->h, CFG_TCP, 1, 1));
	assert_false(health_seed_down(w->h, CFG_TCP, 1, 1));	/* no longer checking */
	expect_state(w, 1, 1, HS_DOWN);
	assert_false(health_up(w->h, CFG_TCP, 1, 1));
	expect_field(w, 1, 1, "state", "down");

	/* its first good check is one of rise: it stays down, and nothing is called back */
	if (!pump(w, 1.5, s1_checked))
		fail_msg("expected a first check within the interval");
	expect_state(w, 1, 1, HS_DOWN);
	assert_int_equal(w->nch, 0);
	if (!pump(w, 1.5, s1_up))
		fail_msg("expected up after 2 good checks, got %s",
			 state_name(health_state(w->h, CFG_TCP, 1, 1)));
	assert_int_equal(checks(w, 1, 1), 2);
	assert_int_equal(w->nch, 1);
	expect_change(w, 0, 1, 1, true);
}

/* --- a silent server: timeout, and the others keep their schedule ----------------------------- */

static void test_timeout_does_not_delay_the_others(void **state)
{
	struct world *w = *state;
	struct listener *hole, *ok;
	struct config *cfg;
	char doc[512], want[160];
	int filler;

	ok = listen_on(w, AF_INET, 0, 64);
	/* backlog 0 holds one connection: with it taken and never accepted, the kernel drops
	 * further SYNs, so the probe's connect never completes */
	hole = listen_on(w, AF_INET, 0, -1);
	filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(hole->port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		assert_int_equal(connect(filler, (struct sockaddr *)&a, sizeof(a)), 0);
	}
	snprintf(doc, sizeof(doc), "{'serviceName': 't', 'tcp': {'farm': [{'farmId': 1,"
		 " 'probe': {'type': 'tcp', 'interval': 1, 'timeout': 1}, 'server': ["
		 SRV4(1) ", " SRV4(2) "]}]}}", hole->port, ok->port);
	cfg = parse(w, doc);
	sync_ok(w, cfg);
	pump(w, 3.2, NULL);

	expect_state(w, 1, 1, HS_DOWN);
	expect_field(w, 1, 1, "error", "timeout after 1 s");
	snprintf(want, sizeof(want), "info: tcp farm 1 server 1 (127.0.0.1:%u): down after its "
		 "first check: timeout after 1 s", hole->port);
	expect_log(w, want);
	/* a timeout as long as the interval ends as the next probe starts: one a second */
	if (checks(w, 1, 1) < 2)
		fail_msg("silent server: expected a timed-out check every second (>= 2 in 3.2 s), "
			 "got %ld", checks(w, 1, 1));
	expect_state(w, 1, 2, HS_UP);
	if (ok->accepts < 3)
		fail_msg("healthy server: expected >= 3 probes in 3.2 s, got %zu", ok->accepts);
	for (size_t i = 1; i < ok->accepts; i++) {
		double gap = ok->at[i] - ok->at[i - 1];

		if (gap < 0.9 || gap > 1.1)
			fail_msg("healthy server: expected a probe every 1 s, got %.3f s between "
				 "probes %zu and %zu", gap, i - 1, i);
	}
	close(filler);
}

/* --- sync ------------------------------------------------------------------------------------- */

static bool two_results(struct world *w)
{
	return checks(w, 1, 1) >= 1 && checks(w, 1, 2) >= 1;
}

static bool s4_checked(struct world *w)
{
	return health_state(w->h, CFG_TCP, 1, 4) != HS_CHECKING;
}

static void test_sync_keeps_the_state_of_servers_that_stay(void **state)
{
	struct world *w = *state;
	struct config *a, *b, *c;
	struct listener *l;
	uint16_t dead = closed_port(AF_INET);
	char doc[1024];
	long n1;

	l = listen_on(w, AF_INET, 0, 64);
	snprintf(doc, sizeof(doc), "{'serviceName': 't', 'tcp': {'farm': [{'farmId': 1,"
		 " 'probe': {'type': 'tcp', 'interval': 1}, 'server': [" SRV4(1) ", "
		 SRV4(2) ", " SRV4(3) "]}]}}", l->port, dead, l->port);
	a = parse(w, doc);
	sync_ok(w, a);
	if (!pump(w, 1.5, two_results))
		fail_msg("expected first results within the interval");
	expect_state(w, 1, 1, HS_UP);
	expect_state(w, 1, 2, HS_DOWN);

	/* 1 stays; 2 moves to the listener's port (new: starts over); 3 goes inactive; 4 is
	 * new; a server without probe and a farm without one are not probed */
	snprintf(doc, sizeof(doc), "{'serviceName': 't', 'tcp': {'farm': [{'farmId': 1,"
		 " 'probe': {'type': 'tcp', 'interval': 1}, 'server': [" SRV4(1) ", "
		 SRV4(2) ", {'serverId': 3, 'address': '127.0.0.1', 'port': %u,"
		 " 'probe': true, 'status': 'inactive'}, " SRV4(4) ", {'serverId': 5,"
		 " 'address': '127.0.0.1', 'port': %u}]}, {'farmId': 2, 'server': ["
		 SRV4(1) "]}]}}", l->port, l->port, l->port, l->port, l->port, l->port);
	b = parse(w, doc);
	n1 = checks(w, 1, 1);
	sync_ok(w, b);
	drop(w, a);
	expect_state(w, 1, 1, HS_UP);
	assert_int_equal(checks(w, 1, 1), n1);
	expect_state(w, 1, 2, HS_CHECKING);
	assert_int_equal(checks(w, 1, 2), 0);
	expect_state(w, 1, 3, HS_NONE);
	expect_field(w, 1, 3, "state", "disabled");
	expect_state(w, 1, 4, HS_CHECKING);
	expect_state(w, 1, 5, HS_NONE);
	assert_null(health_server_json(w->h, CFG_TCP, 1, 5));
	assert_null(health_server_json(w->h, CFG_TCP, 2, 1));
	assert_null(health_server_json(w->h, CFG_UDP, 1, 1));
	if (!pump(w, 1.5, s4_checked))
		fail_msg("expected the new server's first result within the interval");
	expect_state(w, 1, 4, HS_UP);
	expect_state(w, 1, 1, HS_UP);

	/* changed probe settings: every server of the farm starts over */
	snprintf(doc, sizeof(doc), "{'serviceName': 't', 'tcp': {'farm': [{'farmId': 1,"
		 " 'probe': {'type': 'tcp', 'interval': 1, 'rise': 3}, 'server': ["
		 SRV4(1) "]}]}}", l->port);
	c = parse(w, doc);
	sync_ok(w, c);
	drop(w, b);
	expect_state(w, 1, 1, HS_CHECKING);
	assert_int_equal(checks(w, 1, 1), 0);
	expect_state(w, 1, 4, HS_NONE);
	assert_null(health_server_json(w->h, CFG_TCP, 1, 4));
	/* syncs are not transitions: no callback */
	assert_int_equal(w->nch, 1);
	expect_change(w, 0, 1, 2, false);
}

/* --- the schedule ----------------------------------------------------------------------------- */

static bool all_checked(struct world *w)
{
	for (uint32_t i = 1; i <= 100; i++)
		if (health_state(w->h, CFG_TCP, 7, i) == HS_CHECKING)
			return false;
	return true;
}

static void test_first_probes_spread_over_the_interval(void **state)
{
	struct world *w = *state;
	enum { N = 100, BUCKETS = 10 };
	size_t len = 0, cap = 96 * N, count[BUCKETS] = { 0 };
	char *doc = malloc(cap);
	struct config *cfg;
	struct listener *l;

	assert_non_null(doc);
	l = listen_on(w, AF_INET, 0, 256);
	len += (size_t)snprintf(doc + len, cap - len, "{'serviceName': 't', 'tcp': {'farm': "
				"[{'farmId': 7, 'probe': {'type': 'tcp', 'interval': 1},"
				" 'server': [");
	for (int i = 1; i <= N; i++)
		len += (size_t)snprintf(doc + len, cap - len, "%s{'serverId': %d, 'address':"
					" '127.0.0.1', 'port': %u, 'probe': true}",
					i > 1 ? ", " : "", i, l->port);
	snprintf(doc + len, cap - len, "]}]}}");
	cfg = parse(w, doc);
	free(doc);
	w->t0 = now_s();
	sync_ok(w, cfg);
	/* every server probed in the first interval, ~N / BUCKETS per tenth of it */
	if (!pump(w, 1.05, all_checked) || l->accepts < N)
		fail_msg("expected a result for each of the %d servers within the interval, got "
			 "%zu probes", N, l->accepts);
	for (size_t i = 0; i < N; i++)
		count[(size_t)(l->at[i] * BUCKETS) % BUCKETS]++;
	for (size_t b = 0; b < BUCKETS; b++)
		if (count[b] < 3 || count[b] > 20)
			fail_msg("expected 3..20 first probes in [%.1f, %.1f) s, got %zu",
				 b / (double)BUCKETS, (b + 1) / (double)BUCKETS, count[b]);
}

/* --- http ------------------------------------------------------------------------------------- */

static bool two_http_results(struct world *w)
{
	return health_state(w->h, CFG_TCP, 1, 1) != HS_CHECKING &&
	       health_state(w->h, CFG_TCP, 1, 2) != HS_CHECKING;
}

static void test_http_probe_reads_the_status(void **state)
{
	struct world *w = *state;
	struct listener *good, *bad;
	struct config *cfg;
	char doc[512], want[64];

	good = listen_on(w, AF_INET6, 0, 64);
	good->status = 200;
	bad = listen_on(w, AF_INET, 0, 64);
	bad->status = 500;
	snprintf(doc, sizeof(doc), "{'serviceName': 't', 'tcp': {'farm': [{'farmId': 1,"
		 " 'probe': {'type': 'http', 'interval': 1, 'url': '/health'}, 'server': ["
		 "{'serverId': 1, 'address': '::1', 'port': %u, 'probe': true}, "
		 SRV4(2) "]}]}}", good->port, bad->port);
	cfg = parse(w, doc);
	sync_ok(w, cfg);
	if (!pump(w, 1.5, two_http_results))
		fail_msg("expected both http results within the interval");
	expect_state(w, 1, 1, HS_UP);
	expect_state(w, 1, 2, HS_DOWN);
	expect_field(w, 1, 2, "error", "status 500");
	snprintf(want, sizeof(want), "[::1]:%u", good->port);
	if (strcmp(good->host, want))
		fail_msg("http Host: expected \"%s\", got \"%s\"", want, good->host);
}

int main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, world_init, world_free)
	const struct CMUnitTest tests[] = {
		TEST(test_up_refused_then_rise_and_fall),
		TEST(test_seeded_down_needs_rise_checks),
		TEST(test_timeout_does_not_delay_the_others),
		TEST(test_sync_keeps_the_state_of_servers_that_stay),
		TEST(test_first_probes_spread_over_the_interval),
		TEST(test_http_probe_reads_the_status),
	};

	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
