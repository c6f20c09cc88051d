// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/neigh.h"
#include "daemon/nl.h"

/*
 * NDA_PROTOCOL of the entries limpetd makes (`ip neigh` shows "proto 76"): what tells them
 * from the operator's, so that a limpetd taking over from one that kept its dataplane running
 * also takes over (and on SIGTERM removes) the entries that one left.
 */

struct hop {
	uint8_t family;
	int ifindex;
	uint32_t addr[4];
};

struct neigh_keeper {
	struct nl_sock nl;
	size_t n, cap;
	struct hop *owned;	/* entries neigh_keeper_free removes (unless told to keep) */
};

/* The egress device and next hop (gateway, or the address itself when on-link). */
static int route_hop(struct neigh_keeper *nk, uint8_t family, const uint32_t addr[4],
		     struct hop *hop)
{
	struct nl_req r;
	char buf[NL_BUF];
	struct nlmsghdr *h;
	struct rtattr *a;
	int err, len;

	nl_req_init(&r, RTM_GETROUTE, 0, sizeof(struct rtmsg));
	r.rt.rtm_family = nl_af(family);
	r.rt.rtm_dst_len = nl_alen(family) * 8;
	nl_add_attr(&r, RTA_DST, addr, nl_alen(family));
	h = nl_talk(&nk->nl, &r, buf, &err);
	if (!h)
		return err ? err : -ENOENT;
	memset(hop, 0, sizeof(*hop));
	hop->family = family;
	memcpy(hop->addr, addr, nl_alen(family));
	len = RTM_PAYLOAD(h);
	for (a = RTM_RTA(NLMSG_DATA(h)); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_OIF)
			hop->ifindex = *(int *)RTA_DATA(a);
		else if (a->rta_type == RTA_GATEWAY)
			memcpy(hop->addr, RTA_DATA(a), nl_alen(family));
	}
	return hop->ifindex ? 0 : -ENETUNREACH;
}

enum neigh_owner {
	NEIGH_NONE,		/* none, or an ordinary one the kernel made: ours to manage */
	NEIGH_LIMPET,		/* managed by a limpetd (this one or an earlier): ours */
	NEIGH_OPERATOR,		/* permanent, or managed by someone else: left alone */
};

static enum neigh_owner neigh_owner(struct neigh_keeper *nk, const struct hop *hop)
{
	struct nl_req r;
	char buf[NL_BUF];
	struct nlmsghdr *h;
	struct ndmsg *nd;
	struct rtattr *a;
	bool managed = false, ours = false;
	int err, len;

	nl_req_init(&r, RTM_GETNEIGH, 0, sizeof(struct ndmsg));
	r.nd.ndm_family = nl_af(hop->family);
	r.nd.ndm_ifindex = hop->ifindex;
	nl_add_attr(&r, NDA_DST, hop->addr, nl_alen(hop->family));
	h = nl_talk(&nk->nl, &r, buf, &err);
	if (!h)
		return NEIGH_NONE;
	nd = NLMSG_DATA(h);
	if (nd->ndm_state & NUD_PERMANENT)
		return NEIGH_OPERATOR;
	len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd));
	for (a = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd))); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		if (a->rta_type == NDA_FLAGS_EXT)
			managed = *(uint32_t *)RTA_DATA(a) & NTF_EXT_MANAGED;
		else if (a->rta_type == NDA_PROTOCOL)
			ours = *(uint8_t *)RTA_DATA(a) == NL_PROTO_LIMPET;
	}
	if (!managed)
		return NEIGH_NONE;
	return ours ? NEIGH_LIMPET : NEIGH_OPERATOR;
}

static int neigh_manage(struct neigh_keeper *nk, const struct hop *hop)
{
	struct nl_req r;
	uint32_t managed = NTF_EXT_MANAGED;
	uint8_t proto = NL_PROTO_LIMPET;
	char buf[NL_BUF];
	int err;

	nl_req_init(&r, RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
		    sizeof(struct ndmsg));
	r.nd.ndm_family = nl_af(hop->family);
	r.nd.ndm_ifindex = hop->ifindex;
	r.nd.ndm_state = NUD_NONE;
	nl_add_attr(&r, NDA_DST, hop->addr, nl_alen(hop->family));
	nl_add_attr(&r, NDA_FLAGS_EXT, &managed, sizeof(managed));
	nl_add_attr(&r, NDA_PROTOCOL, &proto, sizeof(proto));
	nl_talk(&nk->nl, &r, buf, &err);
	return err;
}

int neigh_keeper_new(struct neigh_keeper **out)
{
	struct neigh_keeper *nk = calloc(1, sizeof(*nk));
	int err;

	if (!nk)
		return -ENOMEM;
	err = nl_open(&nk->nl);
	if (err) {
		free(nk);
		return err;
	}
	*out = nk;
	return 0;
}

static bool hop_same(const struct hop *a, const struct hop *b)
{
	return a->family == b->family && a->ifindex == b->ifindex &&
	       !memcmp(a->addr, b->addr, nl_alen(a->family));
}

int neigh_keep(struct neigh_keeper *nk, uint8_t family, const uint32_t addr[4])
{
	enum neigh_owner owner;
	struct hop hop;
	int err = route_hop(nk, family, addr, &hop);

	if (err)
		return err;
	owner = neigh_owner(nk, &hop);
	if (owner == NEIGH_OPERATOR)
		return 0;
	if (owner == NEIGH_NONE) {
		err = neigh_manage(nk, &hop);
		if (err)
			return err;
	}
	for (size_t i = 0; i < nk->n; i++)
		if (hop_same(&nk->owned[i], &hop))
			return 0;
	if (nk->n == nk->cap) {
		size_t cap = nk->cap ? nk->cap * 2 : 16;
		struct hop *c = realloc(nk->owned, cap * sizeof(*c));

		if (!c)
			return -ENOMEM;
		nk->owned = c;
		nk->cap = cap;
	}
	nk->owned[nk->n++] = hop;
	return 0;
}

void neigh_keeper_free(struct neigh_keeper *nk, bool keep)
{
	if (!nk)
		return;
	for (size_t i = 0; i < nk->n && !keep; i++) {
		struct nl_req r;
		char buf[NL_BUF];
		int err;

		nl_req_init(&r, RTM_DELNEIGH, NLM_F_ACK, sizeof(struct ndmsg));
		r.nd.ndm_family = nl_af(nk->owned[i].family);
		r.nd.ndm_ifindex = nk->owned[i].ifindex;
		nl_add_attr(&r, NDA_DST, nk->owned[i].addr, nl_alen(nk->owned[i].family));
		nl_talk(&nk->nl, &r, buf, &err);
	}
	nl_close(&nk->nl);
	free(nk->owned);
	free(nk);
}
