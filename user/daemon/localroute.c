// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/addrset.h"
#include "daemon/localroute.h"
#include "daemon/nl.h"

struct localroutes {
	struct nl_sock nl;
	uint32_t tag;		/* the routes' metric: this service's */
	int lo;
	struct addr_set held;	/* the routes in the kernel that are this service's */
};

/* FNV-1a; never 0, the metric of the routes the kernel and operators make. */
static uint32_t tag_of(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h ? h : 1;
}

static int route_msg(struct localroutes *lr, uint16_t type, uint16_t flags, const struct cfg_addr *v)
{
	struct nl_req r;
	char buf[NL_BUF];
	int err;

	nl_req_init(&r, type, NLM_F_ACK | flags, sizeof(struct rtmsg));
	r.rt.rtm_family = nl_af(v->family);
	r.rt.rtm_dst_len = nl_alen(v->family) * 8;
	r.rt.rtm_table = RT_TABLE_LOCAL;
	r.rt.rtm_protocol = NL_PROTO_LIMPET;
	r.rt.rtm_scope = RT_SCOPE_HOST;
	r.rt.rtm_type = RTN_LOCAL;
	nl_add_attr(&r, RTA_DST, v->addr, nl_alen(v->family));
	nl_add_attr(&r, RTA_OIF, &lr->lo, sizeof(lr->lo));
	nl_add_attr(&r, RTA_PRIORITY, &lr->tag, sizeof(lr->tag));
	nl_talk(&lr->nl, &r, buf, &err);
	return err;
}

/* A route of the dump: ours when local, host-wide, proto 76 and of our tag. */
static void found(const struct nlmsghdr *h, void *arg)
{
	struct localroutes *lr = arg;
	const struct rtmsg *rt = NLMSG_DATA(h);
	int len = RTM_PAYLOAD(h);
	struct cfg_addr v = { .family = rt->rtm_family == AF_INET ? 4 : 6 };
	bool dst = false, tag = false;

	if (h->nlmsg_type != RTM_NEWROUTE || rt->rtm_type != RTN_LOCAL ||
	    rt->rtm_protocol != NL_PROTO_LIMPET || rt->rtm_dst_len != nl_alen(v.family) * 8)
		return;
	for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) == nl_alen(v.family)) {
			memcpy(v.addr, RTA_DATA(a), nl_alen(v.family));
			dst = true;
		} else if (a->rta_type == RTA_PRIORITY) {
			tag = *(const uint32_t *)RTA_DATA(a) == lr->tag;
		}
	}
	if (dst && tag && addr_set_find(&lr->held, &v) < 0 && addr_set_add(&lr->held, &v))
		pr_warn("local routes: no memory to take over one of an earlier limpetd");
}

int localroutes_new(struct localroutes **out, const char *service_name)
{
	struct localroutes *lr = calloc(1, sizeof(*lr));
	static const int families[] = { AF_INET, AF_INET6 };
	struct nl_req r;
	int err;

	if (!lr)
		return -ENOMEM;
	lr->tag = tag_of(service_name);
	lr->lo = if_nametoindex("lo");
	err = lr->lo ? nl_open(&lr->nl) : -ENODEV;
	for (size_t i = 0; i < 2 && !err; i++) {
		nl_req_init(&r, RTM_GETROUTE, 0, sizeof(struct rtmsg));
		r.rt.rtm_family = families[i];
		r.rt.rtm_table = RT_TABLE_LOCAL;
		err = nl_dump(&lr->nl, &r, found, lr);
	}
	if (err) {
		if (lr->lo)
			nl_close(&lr->nl);
		addr_set_free(&lr->held);
		free(lr);
		return err;
	}
	if (lr->held.n)
		pr_info("took over %zu local route%s of http VIPs (proto %d metric %u) left by an "
			"earlier limpetd", lr->held.n, lr->held.n == 1 ? "" : "s", NL_PROTO_LIMPET,
			lr->tag);
	*out = lr;
	return 0;
}

static bool wanted(const struct config *cfg, const struct cfg_addr *v)
{
	const struct cfg_layer_cfg *lc = &cfg->layer[CFG_HTTP];

	for (size_t i = 0; i < lc->nfrontends; i++) {
		const struct cfg_frontend *fe = &lc->frontends[i];

		if (!fe->disabled && cfg_addr_eq(&fe->addr, v))
			return true;
	}
	return false;
}

int localroutes_add(struct localroutes *lr, const struct config *cfg)
{
	const struct cfg_layer_cfg *lc = &cfg->layer[CFG_HTTP];
	char a[INET6_ADDRSTRLEN];
	int first = 0, err;

	for (size_t i = 0; i < lc->nfrontends; i++) {
		const struct cfg_frontend *fe = &lc->frontends[i];
		const struct cfg_addr *v = &fe->addr;

		if (fe->disabled || addr_set_find(&lr->held, v) >= 0)
			continue;
		err = route_msg(lr, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, v);
		err = err ?: addr_set_add(&lr->held, v);
		if (err) {
			pr_err("http VIP %s: adding its local route (table local, dev lo): %s",
			       cfg_addr_str(v, a), strerror(-err));
			first = first ?: err;
			continue;
		}
		pr_info("http VIP %s: local route added (the kernel delivers its packets to the "
			"L7 proxy)", cfg_addr_str(v, a));
	}
	return first;
}

/* A route someone else already removed is gone all the same. */
static int route_drop(struct localroutes *lr, const struct cfg_addr *v)
{
	char a[INET6_ADDRSTRLEN];
	int err = route_msg(lr, RTM_DELROUTE, 0, v);

	if (err == -ESRCH || err == -ENOENT)
		err = 0;
	if (err)
		pr_err("http VIP %s: removing its local route: %s", cfg_addr_str(v, a), strerror(-err));
	else
		pr_info("http VIP %s: local route removed", cfg_addr_str(v, a));
	return err;
}

int localroutes_sync(struct localroutes *lr, const struct config *cfg)
{
	int first = localroutes_add(lr, cfg), err;

	for (size_t i = 0; i < lr->held.n;) {
		if (wanted(cfg, &lr->held.a[i])) {
			i++;
			continue;
		}
		err = route_drop(lr, &lr->held.a[i]);
		if (err) {
			first = first ?: err;
			i++;
			continue;
		}
		addr_set_del(&lr->held, i);
	}
	return first;
}

void localroutes_free(struct localroutes *lr, bool keep)
{
	if (!lr)
		return;
	if (keep && lr->held.n)
		pr_info("leaving %zu local route%s of http VIPs for the next limpetd", lr->held.n,
			lr->held.n == 1 ? "" : "s");
	for (size_t i = 0; i < lr->held.n && !keep; i++)
		route_drop(lr, &lr->held.a[i]);
	nl_close(&lr->nl);
	addr_set_free(&lr->held);
	free(lr);
}
