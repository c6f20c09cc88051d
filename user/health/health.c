// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The prober's loop and its targets: one epoll fd holding a timerfd and the probes' sockets,
 * one timer queue (sched.h) of every target's next start and every probe's deadline, the
 * timerfd armed to the earliest; and health_sync, which turns a config into targets and keeps
 * the state of those that stay.
 *
 * Each target starts at a stable pseudo-random offset into its interval (a hash of its ids),
 * then every interval from its previous start, so that probes neither drift nor herd.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "limpet/hash.h"
#include "common/log.h"
#include "health/health-int.h"

#define HEALTH_EVENTS		256
/* Timers due within this much are run in one wakeup: at 10 000 probes a second that starts
 * about ten at a time, each at most 1 ms early. */
#define HEALTH_SLACK_NS		1000000ULL
/* Open files left to the rest of limpetd when RLIMIT_NOFILE is sized for the probes. */
#define HEALTH_FD_RESERVE	1024

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

int health_new(struct health **out, const struct health_cb *cb)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct health *h = calloc(1, sizeof(*h));
	int err;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->tfd = -1;
	if (cb)
		h->cb = *cb;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0)
		goto err;
	h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (h->tfd < 0)
		goto err;
	/* data.ptr NULL tells the timerfd from the probes' sockets, whose data is their target */
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->tfd, &ev))
		goto err;
	*out = h;
	return 0;
err:
	err = -errno;
	health_free(h);
	return err;
}

static void hfarm_free(struct hfarm *hf)
{
	if (!hf->sig)
		return;
	probe_spec_free(&hf->spec);
	free(hf->sig);
	hf->sig = NULL;
}

static void farms_free(struct hfarm *farms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hfarm_free(&farms[i]);
	free(farms);
}

void health_free(struct health *h)
{
	if (!h)
		return;
	/* every probe ends before any target goes: aborting one touches the timer heap, which
	 * still holds the others' timers */
	for (size_t i = 0; i < h->n; i++)
		conn_abort(h, h->t[i]);
	for (size_t i = 0; i < h->n; i++)
		free(h->t[i]);
	free(h->t);
	farms_free(h->farms, h->nfarms);
	for (size_t i = 0; i < h->nbufs; i++)
		free(h->bufs[i]);
	free(h->bufs);
	sched_free(&h->sched);
	if (h->tfd >= 0)
		close(h->tfd);
	if (h->epfd >= 0)
		close(h->epfd);
	free(h);
}

int health_fd(const struct health *h)
{
	return h->epfd;
}

/* --- the loop ---------------------------------------------------------------------------- */

static void arm(struct health *h)
{
	struct timer *first = sched_first(&h->sched);
	uint64_t due = first ? first->due : 0;
	struct itimerspec its = {
		.it_value = { .tv_sec = due / NS_PER_S, .tv_nsec = due % NS_PER_S },
	};

	if (due == h->armed)
		return;
	/* an it_value of zero (no timer queued) disarms */
	if (timerfd_settime(h->tfd, TFD_TIMER_ABSTIME, &its, NULL)) {
		pr_warn("health: timerfd_settime: %s", strerror(errno));
		return;
	}
	h->armed = due;
}

static void target_start(struct health *h, struct target *t, uint64_t now)
{
	uint64_t ivl = t->hf->interval, next = t->start.due + ivl;

	/* a loop held up longer than an interval skips the starts it missed, keeping the phase */
	if (next <= now)
		next += (now - next) / ivl * ivl + ivl;
	sched_set(&h->sched, &t->start, next);
	/* validation keeps timeout <= interval and a deadline runs before a start due at the
	 * same time, so this is a guard: a probe is never started twice */
	if (t->fd >= 0)
		return;
	conn_start(h, t, now + t->hf->timeout < next ? now + t->hf->timeout : next);
}

static void timers_run(struct health *h)
{
	uint64_t now = now_ns();
	struct timer *tm;

	while ((tm = sched_first(&h->sched)) && tm->due <= now + HEALTH_SLACK_NS) {
		/* each moves its timer on: a deadline is dequeued, a start requeued later */
		if (tm->order == TIMER_DEADLINE)
			conn_timeout(h, container_of(tm, struct target, deadline));
		else
			target_start(h, container_of(tm, struct target, start), now);
	}
	arm(h);
}

void health_run(struct health *h)
{
	struct epoll_event ev[HEALTH_EVENTS];
	uint64_t ticks;
	int n;

	h->running = true;
	n = epoll_wait(h->epfd, ev, HEALTH_EVENTS, 0);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr)
			conn_event(h, ev[i].data.ptr);
		else if (read(h->tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
			h->armed = 0;
	}
	/* after the sockets: an answer in this batch beats a deadline that passed meanwhile */
	timers_run(h);
	h->running = false;
}

/* --- sync: the config into targets ------------------------------------------------------- */

/* Every probe setting in one string, strings length-prefixed so that no two settings spell
 * the same; a target whose farm's string changed starts over. */
static char *probe_sig(const struct cfg_probe *p)
{
	const char *const strs[] = { p->type, p->url, p->method, p->match, p->pattern };
	char *sig = NULL;
	size_t len;
	FILE *f = open_memstream(&sig, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strs[i])
			fprintf(f, "%zu:%s ", strlen(strs[i]), strs[i]);
		else
			fputs("- ", f);
	}
	fprintf(f, "%u %u %u %u %u %d %d", p->interval, p->timeout, p->port, p->rise, p->fall,
		p->negate, p->force_ssl);
	if (fclose(f)) {
		free(sig);
		return NULL;
	}
	return sig;
}

/* 0, -ENOMEM, or another -errno when the probe does not compile (logged: the farm's servers
 * are not probed). */
static int hfarm_init(struct hfarm *hf, enum cfg_layer l, const struct cfg_farm *f)
{
	char err[PROBE_ERR_LEN] = "";
	int rc;

	hf->sig = probe_sig(&f->probe);
	if (!hf->sig)
		return -ENOMEM;
	rc = probe_spec_init(&hf->spec, &f->probe, err);
	if (rc) {
		free(hf->sig);
		hf->sig = NULL;
		if (rc != -ENOMEM)
			pr_warn("health: %s farm %u: probe: %s: its servers are not probed",
				cfg_layer_name(l), f->id, err[0] ? err : strerror(-rc));
		return rc;
	}
	hf->interval = f->probe.interval * NS_PER_S;
	hf->timeout = f->probe.timeout * NS_PER_S;
	hf->rise = f->probe.rise;
	hf->fall = f->probe.fall;
	return 0;
}

/* The port of a tcp/udp server when neither the probe, the server nor the farm gives one: the
 * first port of a frontend sending to the farm, an enabled one first (dsr and ipip keep the
 * VIP's port). */
static uint16_t frontend_port(const struct cfg_layer_cfg *lc, uint32_t farm)
{
	uint16_t port = 0;

	for (size_t i = 0; i < lc->nfrontends; i++) {
		const struct cfg_frontend *fe = &lc->frontends[i];

		if (fe->default_farm != farm || !fe->ports.n)
			continue;
		if (!fe->disabled)
			return fe->ports.range[0].lo;
		if (!port)
			port = fe->ports.range[0].lo;
	}
	return port;
}

static void target_addr(struct target *t, const struct cfg_addr *a, uint16_t port)
{
	memset(&t->addr, 0, sizeof(t->addr));
	if (a->family == 6) {
		t->addr.v6.sin6_family = AF_INET6;
		t->addr.v6.sin6_port = htons(port);
		memcpy(&t->addr.v6.sin6_addr, a->addr, sizeof(t->addr.v6.sin6_addr));
	} else {
		t->addr.v4.sin_family = AF_INET;
		t->addr.v4.sin_port = htons(port);
		t->addr.v4.sin_addr.s_addr = a->addr[0];
	}
}

/* A target of the new config and the farm it will point to once the sync commits. */
struct pick {
	struct target *t;
	struct hfarm *hf;
};

static int pick_cmp(const void *a, const void *b)
{
	return target_cmp(&((const struct pick *)a)->t, &((const struct pick *)b)->t);
}

/* The current target if it stays as it is (marked keep), else a new one; NULL: no memory. */
static struct target *target_get(struct health *h, const struct target *want,
				 const struct hfarm *hf)
{
	struct target *t = target_find(h, want->layer, want->farm, want->server);

	if (t && !t->keep && !memcmp(&t->addr, &want->addr, sizeof(t->addr)) &&
	    t->disabled == want->disabled && !strcmp(t->hf->sig, hf->sig)) {
		t->keep = true;
		return t;
	}
	t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	*t = *want;
	t->state = t->disabled ? HS_NONE : HS_CHECKING;
	t->since = time(NULL);
	t->fd = -1;
	timer_init(&t->start, TIMER_START);
	timer_init(&t->deadline, TIMER_DEADLINE);
	return t;
}

/* What a sync builds before it commits: nothing of h changes meanwhile but the keep marks
 * of the targets that stay. */
struct build {
	struct pick *picks;
	size_t n;
	struct hfarm *farms;
	size_t nfarms;
};

/* Farm f's probe and its probed servers into b; 0 or -ENOMEM. */
static int farm_build(struct health *h, struct build *b, enum cfg_layer l,
		      const struct cfg_layer_cfg *lc, const struct cfg_farm *f)
{
	struct hfarm *hf = &b->farms[b->nfarms];
	/* an http server is probed where the L7 proxy connects to it (config.h) */
	uint16_t fport = f->port ? f->port : l == CFG_HTTP ? CFG_HTTP_PORT_DEFAULT
							 : frontend_port(lc, f->id);
	char name[128];
	int err;

	err = hfarm_init(hf, l, f);
	if (err)
		return err == -ENOMEM ? err : 0;
	b->nfarms++;
	for (size_t k = 0; k < f->nservers; k++) {
		const struct cfg_server *s = &f->servers[k];
		struct target want = { .layer = l, .farm = f->id, .server = s->id,
				       .disabled = !s->active };
		uint16_t port = f->probe.port ? f->probe.port : s->port ? s->port : fport;
		struct pick *p = &b->picks[b->n];

		if (!s->probe)
			continue;
		target_addr(&want, &s->addr, port);
		if (!port) {
			pr_warn("health: %s: no port to probe (none in the probe, the server, the "
				"farm or a frontend of the farm): not probed",
				target_name(&want, name));
			continue;
		}
		p->hf = hf;
		p->t = target_get(h, &want, hf);
		if (!p->t)
			return -ENOMEM;
		b->n++;
	}
	return 0;
}

/* Room for a socket per enabled target: raised if need be (and said), never lowered. */
static void nofile_raise(size_t probed)
{
	rlim_t want = probed + HEALTH_FD_RESERVE, was;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	was = rl.rlim_cur;
	rl.rlim_cur = want;
	/* root may raise the hard limit too (CAP_SYS_RESOURCE, up to fs.nr_open) */
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		if (rl.rlim_cur <= was || setrlimit(RLIMIT_NOFILE, &rl))
			rl.rlim_cur = was;
	}
	if (rl.rlim_cur > was)
		pr_info("health: raised the open-file limit (RLIMIT_NOFILE) from %llu to %llu for "
			"%zu probed servers", (unsigned long long)was,
			(unsigned long long)rl.rlim_cur, probed);
	if (rl.rlim_cur < want)
		pr_warn("health: the open-file limit (RLIMIT_NOFILE) is %llu, %llu wanted for %zu "
			"probed servers: probes that find no free descriptor are skipped",
			(unsigned long long)rl.rlim_cur, (unsigned long long)want, probed);
}

/* Where in its interval a new target starts: stable for its ids, spread over the interval. */
static uint64_t first_offset(const struct target *t)
{
	return lb_mix64(lb_pair(t->layer, t->farm) ^ lb_mix64(t->server)) % t->hf->interval;
}

int health_sync(struct health *h, const struct config *cfg)
{
	size_t nt = 0, nf = 0, fresh = 0, gone = 0, probed = 0;
	struct build b = { 0 };
	struct target **t = NULL;
	uint64_t now = now_ns();
	char **bufs;
	int err;

	/* the callback must not resync under the loop's feet: the targets it walks would go */
	if (h->running)
		return -EBUSY;
	for (int l = 0; l < CFG_LAYERS; l++) {
		for (size_t j = 0; j < cfg->layer[l].nfarms; j++) {
			const struct cfg_farm *f = &cfg->layer[l].farms[j];

			if (!f->probe.present)
				continue;
			nf++;
			for (size_t k = 0; k < f->nservers; k++)
				nt += f->servers[k].probe;
		}
	}
	err = -ENOMEM;
	b.farms = calloc(nf ? nf : 1, sizeof(*b.farms));
	b.picks = calloc(nt ? nt : 1, sizeof(*b.picks));
	t = calloc(nt ? nt : 1, sizeof(*t));
	if (!b.farms || !b.picks || !t)
		goto err;
	/* what the loop will need, so that it never allocates: a start and a deadline timer
	 * and at most one answer buffer per target */
	if (sched_reserve(&h->sched, 2 * (nt > h->n ? nt : h->n)))
		goto err;
	if (nt > h->bufs_cap) {
		bufs = realloc(h->bufs, nt * sizeof(*bufs));
		if (!bufs)
			goto err;
		h->bufs = bufs;
		h->bufs_cap = nt;
	}
	for (int l = 0; l < CFG_LAYERS; l++) {
		const struct cfg_layer_cfg *lc = &cfg->layer[l];

		for (size_t j = 0; j < lc->nfarms; j++) {
			if (!lc->farms[j].probe.present)
				continue;
			err = farm_build(h, &b, l, lc, &lc->farms[j]);
			if (err)
				goto err;
		}
	}

	/* commit: nothing fails from here */
	for (size_t i = 0; i < h->n; i++) {
		struct target *o = h->t[i];

		if (o->keep) {
			o->keep = false;
			continue;
		}
		conn_abort(h, o);
		sched_del(&h->sched, &o->start);
		free(o);
		gone++;
	}
	qsort(b.picks, b.n, sizeof(*b.picks), pick_cmp);
	for (size_t i = 0; i < b.n; i++) {
		struct target *x = b.picks[i].t;
		bool new = !x->hf;	/* a kept target has its old farm till now */

		x->hf = b.picks[i].hf;
		t[i] = x;
		probed += !x->disabled;
		if (!new)
			continue;
		fresh++;
		if (!x->disabled)
			sched_set(&h->sched, &x->start, now + first_offset(x));
	}
	free(b.picks);
	free(h->t);
	farms_free(h->farms, h->nfarms);
	h->t = t;
	h->n = b.n;
	h->farms = b.farms;
	h->nfarms = b.nfarms;
	arm(h);
	if (fresh || gone)
		pr_info("health: %zu servers with a probe (%zu inactive): %zu new or changed, %zu "
			"kept their state, %zu gone", b.n, b.n - probed, fresh, b.n - fresh, gone);
	nofile_raise(probed);
	return 0;
err:
	for (size_t i = 0; i < b.n; i++) {
		if (b.picks[i].t->keep)
			b.picks[i].t->keep = false;
		else
			free(b.picks[i].t);
	}
	farms_free(b.farms, b.nfarms);
	free(b.picks);
	free(t);
	return err;
}
