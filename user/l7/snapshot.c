// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The snapshot of the http layer (l7-int.h): what the workers read, built whole by the main
 * thread, never changed once published, freed by whoever drops the last reference.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limpet/abi.h"
#include "l7/policy.h"

static socklen_t sockaddr_set(struct sockaddr_storage *ss, const struct cfg_addr *a,
			      uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == LB_V4) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = a->addr[0];
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	memcpy(&in6->sin6_addr, a->addr, sizeof(in6->sin6_addr));
	return sizeof(*in6);
}

/* Listen entries order: family, address words, port (l7_addr_words' form, so that a v4-mapped
 * local address of a dual-stack socket finds the v4 VIP). */
struct listen_key {
	uint8_t family;
	uint32_t w[4];
	uint16_t port;
};

static struct listen_key key_of(const struct sockaddr *sa)
{
	struct listen_key k;

	k.family = l7_addr_words(sa, k.w, &k.port);
	return k;
}

static int key_cmp(const struct listen_key *a, const struct listen_key *b)
{
	int c = memcmp(a->w, b->w, sizeof(a->w));

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (c)
		return c;
	return (a->port > b->port) - (a->port < b->port);
}

static int listen_cmp(const void *a, const void *b)
{
	struct listen_key ka = key_of((const struct sockaddr *)&((const struct l7_listen *)a)->addr);
	struct listen_key kb = key_of((const struct sockaddr *)&((const struct l7_listen *)b)->addr);

	return key_cmp(&ka, &kb);
}

const struct l7_listen *l7_snap_listen(const struct l7_snap *s, const struct sockaddr *local)
{
	struct listen_key k = key_of(local);
	size_t lo = 0, hi = s->nlisten;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct listen_key m = key_of((const struct sockaddr *)&s->listen[mid].addr);
		int c = key_cmp(&k, &m);

		if (!c)
			return &s->listen[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static void snap_free(struct l7_snap *s)
{
	for (size_t i = 0; i < s->nfarms; i++) {
		l7_farm_policy_free(s->farms[i].policy);
		for (size_t j = 0; j < s->farms[i].nservers; j++)
			free(s->farms[i].servers[j].set_cookie);
		free(s->farms[i].servers);
		free((char *)s->farms[i].cookie_name);
	}
	free(s->farms);
	free(s->frontends);
	free(s->listen);
	free(s);
}

void l7_snap_put(struct l7_snap *s)
{
	if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
		snap_free(s);
}

static int farm_build(struct l7_farm *f, const struct cfg_farm *cf, size_t index,
		      const struct config *cfg, l7_eligible_fn eligible, void *arg,
		      const uint8_t key[L7_SECRET_LEN], struct l7_registry *reg)
{
	f->id = cf->id;
	f->balance = cf->balance;
	f->stickiness = cf->stickiness;
	/* a copy: workers read it after the config it came from is freed */
	f->cookie_name = strdup(cf->cookie_name ? cf->cookie_name : L7_COOKIE_NAME_DEFAULT);
	if (!f->cookie_name)
		return -ENOMEM;
	f->cookie_name_len = strlen(f->cookie_name);
	f->servers = calloc(cf->nservers ? cf->nservers : 1, sizeof(*f->servers));
	if (!f->servers)
		return -ENOMEM;
	f->nservers = cf->nservers;
	for (size_t j = 0; j < cf->nservers; j++) {
		const struct cfg_server *cs = &cf->servers[j];
		struct l7_server *s = &f->servers[j];
		/* config.h: the server's port, else the farm's, else HTTP's */
		uint16_t port = cs->port ? cs->port : cf->port ? cf->port : CFG_HTTP_PORT_DEFAULT;
		int n;

		s->id = cs->id;
		s->addrlen = sockaddr_set(&s->addr, &cs->addr, port);
		s->weight = cs->weight;
		s->eligible = eligible(arg, cf, cs);
		s->proxy_protocol = !cs->proxy_protocol ? 0 : !strcmp(cs->proxy_protocol, "v2") ? 2 : 1;
		l7_cookie_token(key, cf->id, cs->id, s->cookie);
		n = asprintf(&s->set_cookie, "Set-Cookie: %s=%s; Path=/; HttpOnly; SameSite=Lax",
			     f->cookie_name, s->cookie);
		if (n < 0) {
			s->set_cookie = NULL;
			return -ENOMEM;
		}
		s->set_cookie_len = (size_t)n;
		s->ctr = l7_registry_counters(reg, cf->id, cs->id);
		if (!s->ctr)
			return -ENOMEM;
	}
	return l7_farm_policy_new(f, cf, cfg->hash_seed, index, reg);
}

/* The frontends and their listen entries; nlisten is counted by the caller. */
static int frontends_build(struct l7_snap *s, const struct cfg_layer_cfg *lc, char *err,
			   size_t errlen)
{
	size_t nl = 0;

	for (size_t i = 0; i < lc->nfrontends; i++) {
		const struct cfg_frontend *cfe = &lc->frontends[i];
		struct l7_frontend *fe = &s->frontends[s->nfrontends];

		if (cfe->disabled)
			continue;
		fe->id = cfe->id;
		fe->tls_terminated = cfe->tls_terminated;
		for (size_t j = 0; j < s->nfarms && !fe->farm; j++)
			if (s->farms[j].id == cfe->default_farm)
				fe->farm = &s->farms[j];
		if (!fe->farm) {
			snprintf(err, errlen, "http frontend %u: no farm %u", cfe->id,
				 cfe->default_farm);
			return -EINVAL;
		}
		s->nfrontends++;
		for (size_t r = 0; r < cfe->ports.n; r++) {
			for (uint32_t p = cfe->ports.range[r].lo; p <= cfe->ports.range[r].hi; p++) {
				struct l7_listen *l = &s->listen[nl++];

				l->addrlen = sockaddr_set(&l->addr, &cfe->addr, p);
				l->fe = fe;
			}
		}
	}
	qsort(s->listen, nl, sizeof(*s->listen), listen_cmp);
	for (size_t i = 1; i < nl; i++) {
		if (!listen_cmp(&s->listen[i - 1], &s->listen[i])) {
			snprintf(err, errlen, "http frontends %u and %u share an address and port",
				 s->listen[i - 1].fe->id, s->listen[i].fe->id);
			return -EINVAL;
		}
	}
	return 0;
}

int l7_snap_build(const struct config *cfg, l7_eligible_fn eligible, void *arg,
		  const uint8_t key[L7_SECRET_LEN], struct l7_registry *reg, uint64_t gen,
		  struct l7_snap **out, char *err, size_t errlen)
{
	const struct cfg_layer_cfg *lc = &cfg->layer[CFG_HTTP];
	struct l7_snap *s = calloc(1, sizeof(*s));
	size_t nl = 0;
	int ret = -ENOMEM;

	*out = NULL;
	for (size_t i = 0; i < lc->nfrontends; i++) {
		const struct cfg_ports *ports = &lc->frontends[i].ports;

		for (size_t r = 0; r < ports->n && !lc->frontends[i].disabled; r++)
			nl += ports->range[r].hi - ports->range[r].lo + 1;
	}
	if (!s)
		goto fail;
	atomic_init(&s->refs, 1);
	s->gen = gen;
	s->farms = calloc(lc->nfarms ? lc->nfarms : 1, sizeof(*s->farms));
	s->frontends = calloc(lc->nfrontends ? lc->nfrontends : 1, sizeof(*s->frontends));
	s->listen = calloc(nl ? nl : 1, sizeof(*s->listen));
	if (!s->farms || !s->frontends || !s->listen)
		goto fail;
	for (size_t i = 0; i < lc->nfarms; i++) {
		s->nfarms = i + 1;	/* snap_free frees what a failed farm holds too */
		ret = farm_build(&s->farms[i], &lc->farms[i], i, cfg, eligible, arg, key, reg);
		if (ret) {
			snprintf(err, errlen, "http farm %u: %s", lc->farms[i].id, strerror(-ret));
			goto out;
		}
	}
	s->nlisten = nl;
	ret = frontends_build(s, lc, err, errlen);
	if (ret)
		goto out;
	*out = s;
	return 0;
fail:
	snprintf(err, errlen, "http snapshot: %s", strerror(-ret));
out:
	if (s)
		snap_free(s);
	return ret;
}
