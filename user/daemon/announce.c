// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/addrset.h"
#include "daemon/announce.h"
#include "daemon/nl.h"

enum vip_why {
	WHY_READY,		/* announced (or being) */
	WHY_DRAINING,		/* withdrawn: limpetctl drain */
	WHY_NO_SERVER,		/* withdrawn: no enabled frontend on it has an eligible server */
	WHY_DISABLED,		/* withdrawn: every frontend on it is disabled */
};

static const char *const why_name[] = {
	[WHY_READY] = "ready",
	[WHY_DRAINING] = "draining",
	[WHY_NO_SERVER] = "noEligibleServer",
	[WHY_DISABLED] = "frontendsDisabled",
};

struct vip {
	struct cfg_addr addr;
	bool enabled;		/* some frontend on it is enabled */
	bool serving;		/* ... and leads to a farm with an eligible server */
	int err;		/* the last route change failed: -errno */
};

struct announcer {
	struct nl_sock nl;
	uint32_t table;
	uint8_t proto;
	bool draining;
	bool failed;		/* a route change failed: announcer_retry tries again */
	struct vip *vips;	/* the VIPs of the config last synced */
	size_t nvips;
	struct addr_set routes;	/* the routes installed (ours to remove) */
};

/* RTM_NEWROUTE (blackhole, create only: someone else's route for the VIP is left alone) or
 * RTM_DELROUTE of our route for x. */
static int route_change(struct announcer *a, const struct cfg_addr *x, bool add)
{
	struct nl_req r;
	char buf[NL_BUF];
	int err;

	nl_req_init(&r, add ? RTM_NEWROUTE : RTM_DELROUTE,
		    NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0), sizeof(struct rtmsg));
	r.rt.rtm_family = nl_af(x->family);
	r.rt.rtm_dst_len = nl_alen(x->family) * 8;
	r.rt.rtm_table = a->table < 256 ? a->table : RT_TABLE_UNSPEC;
	r.rt.rtm_protocol = a->proto;
	r.rt.rtm_scope = RT_SCOPE_UNIVERSE;
	r.rt.rtm_type = RTN_BLACKHOLE;
	nl_add_attr(&r, RTA_DST, x->addr, nl_alen(x->family));
	nl_add_attr(&r, RTA_TABLE, &a->table, sizeof(a->table));
	nl_talk(&a->nl, &r, buf, &err);
	if (!add && err == -ESRCH)	/* gone already (the operator's ip route del) */
		err = 0;
	return err;
}

struct dump_ctx {
	struct announcer *a;
	int err;
};

/* One route of the dump: ours if it is a host route in our table with our protocol. */
static void take_over(const struct nlmsghdr *h, void *arg)
{
	struct dump_ctx *d = arg;
	const struct rtmsg *rt = NLMSG_DATA(h);
	struct cfg_addr x = { .family = rt->rtm_family == AF_INET ? 4 : 6 };
	uint32_t table = rt->rtm_table;
	bool dst = false;
	int len = RTM_PAYLOAD(h);

	if (h->nlmsg_type != RTM_NEWROUTE || rt->rtm_protocol != d->a->proto ||
	    (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6) ||
	    rt->rtm_dst_len != nl_alen(x.family) * 8)
		return;
	for (const struct rtattr *at = RTM_RTA(rt); RTA_OK(at, len); at = RTA_NEXT(at, len)) {
		if (at->rta_type == RTA_TABLE) {
			table = *(const uint32_t *)RTA_DATA(at);
		} else if (at->rta_type == RTA_DST && RTA_PAYLOAD(at) == nl_alen(x.family)) {
			memcpy(x.addr, RTA_DATA(at), nl_alen(x.family));
			dst = true;
		}
	}
	if (dst && table == d->a->table && addr_set_find(&d->a->routes, &x) < 0 && !d->err)
		d->err = addr_set_add(&d->a->routes, &x);
}

int announcer_new(struct announcer **out, uint32_t table, uint8_t proto)
{
	struct announcer *a = calloc(1, sizeof(*a));
	struct dump_ctx d = { .a = a };
	struct nl_req r;
	int err;

	if (!a)
		return -ENOMEM;
	a->table = table;
	a->proto = proto;
	err = nl_open(&a->nl);
	if (err) {
		free(a);
		return err;
	}
	nl_req_init(&r, RTM_GETROUTE, 0, sizeof(struct rtmsg));
	r.rt.rtm_family = AF_UNSPEC;
	err = nl_dump(&a->nl, &r, take_over, &d) ?: d.err;
	if (err) {
		announcer_free(a, true);
		return err;
	}
	if (a->routes.n)
		pr_info("announce: %zu route%s of an earlier limpetd found in table %u (proto %u): "
			"taken over", a->routes.n, a->routes.n == 1 ? "" : "s", table, proto);
	*out = a;
	return 0;
}

static enum vip_why vip_why(const struct announcer *a, const struct vip *v)
{
	if (!v->enabled)
		return WHY_DISABLED;
	if (!v->serving)
		return WHY_NO_SERVER;
	return a->draining ? WHY_DRAINING : WHY_READY;
}

static struct vip *vip_find(const struct announcer *a, const struct cfg_addr *x)
{
	for (size_t i = 0; i < a->nvips; i++)
		if (cfg_addr_eq(&a->vips[i].addr, x))
			return &a->vips[i];
	return NULL;
}

/* Make the routes what the VIPs want: withdrawals first, then announcements. */
static int announce_apply(struct announcer *a)
{
	char text[INET6_ADDRSTRLEN];
	int first = 0, err;

	for (size_t i = 0; i < a->nvips; i++)
		a->vips[i].err = 0;
	for (size_t i = a->routes.n; i-- > 0;) {
		const struct cfg_addr *x = &a->routes.a[i];
		struct vip *v = vip_find(a, x);
		enum vip_why why = v ? vip_why(a, v) : WHY_DISABLED;

		if (why == WHY_READY)
			continue;
		err = route_change(a, x, false);
		if (err) {
			pr_warn("announce: withdrawing %s: %s", cfg_addr_str(x, text), strerror(-err));
			first = first ?: err;
			if (v)
				v->err = err;
			continue;
		}
		pr_info("announce: withdrew %s (%s)", cfg_addr_str(x, text),
			v ? why_name[why] : "no longer in the config");
		addr_set_del(&a->routes, i);
	}
	for (size_t i = 0; i < a->nvips; i++) {
		struct vip *v = &a->vips[i];

		if (vip_why(a, v) != WHY_READY || addr_set_find(&a->routes, &v->addr) >= 0)
			continue;
		err = route_change(a, &v->addr, true);
		err = err ?: addr_set_add(&a->routes, &v->addr);
		if (err) {
			pr_warn("announce: adding the route of %s to table %u: %s",
				cfg_addr_str(&v->addr, text), a->table, strerror(-err));
			v->err = err;
			first = first ?: err;
			continue;
		}
		pr_info("announce: announcing %s (table %u)", cfg_addr_str(&v->addr, text), a->table);
	}
	a->failed = first != 0;
	return first;
}

int announcer_sync(struct announcer *a, const struct config *cfg, announce_ready_fn ready,
		   void *arg)
{
	struct vip *vips = NULL, *v;
	size_t n = 0, cap = 0;

	for (int l = 0; l < CFG_LAYERS; l++) {
		const struct cfg_layer_cfg *lc = &cfg->layer[l];

		for (size_t i = 0; i < lc->nfrontends; i++) {
			const struct cfg_frontend *fe = &lc->frontends[i];

			for (v = vips; v < vips + n && !cfg_addr_eq(&v->addr, &fe->addr); v++)
				;
			if (v == vips + n) {
				if (n == cap) {
					cap = cap ? cap * 2 : 16;
					v = reallocarray(vips, cap, sizeof(*v));
					if (!v) {
						free(vips);
						return -ENOMEM;
					}
					vips = v;
				}
				v = &vips[n++];
				*v = (struct vip){ .addr = fe->addr };
			}
			if (fe->disabled)
				continue;
			v->enabled = true;
			v->serving = v->serving || ready(arg, l, fe->default_farm);
		}
	}
	free(a->vips);
	a->vips = vips;
	a->nvips = n;
	return announce_apply(a);
}

int announcer_drain(struct announcer *a, bool drain)
{
	if (a->draining != drain)
		pr_info("announce: %s", drain ? "draining: withdrawing every VIP, forwarding what "
						"still comes" : "undrained: announcing the VIPs ready");
	a->draining = drain;
	return announce_apply(a);
}

bool announcer_draining(const struct announcer *a)
{
	return a->draining;
}

void announcer_retry(struct announcer *a)
{
	if (a && a->failed)
		announce_apply(a);
}

json_t *announcer_json(const struct announcer *a)
{
	json_t *vips = json_array();
	char text[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < a->nvips && vips; i++) {
		const struct vip *v = &a->vips[i];
		json_t *o = json_pack("{s:s, s:b, s:s}", "address", cfg_addr_str(&v->addr, text),
				      "announced", addr_set_find(&a->routes, &v->addr) >= 0,
				      "reason", why_name[vip_why(a, v)]);

		if (o && v->err)
			json_object_set_new(o, "error", json_string(strerror(-v->err)));
		json_array_append_new(vips, o);
	}
	return json_pack("{s:I, s:i, s:b, s:o}", "table", (json_int_t)a->table, "protocol",
			 a->proto, "draining", a->draining, "vips", vips);
}

void announcer_free(struct announcer *a, bool keep)
{
	char text[INET6_ADDRSTRLEN];
	int err;

	if (!a)
		return;
	for (size_t i = 0; i < a->routes.n && !keep; i++) {
		err = route_change(a, &a->routes.a[i], false);
		if (err)
			pr_warn("announce: withdrawing %s: %s", cfg_addr_str(&a->routes.a[i], text),
				strerror(-err));
	}
	if (a->routes.n && !keep)
		pr_info("announce: withdrew every VIP");
	nl_close(&a->nl);
	addr_set_free(&a->routes);
	free(a->vips);
	free(a);
}
