// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "common/log.h"
#include "daemon/neigh.h"

#define NL_BUF 8192
/*
 * NDA_PROTOCOL of the entries limpetd makes (`ip neigh` shows "proto 76"): what tells them
 * from the operator's, so that a limpetd taking over from one that kept its dataplane running
 * also takes over (and on SIGTERM removes) the entries that one left.
 */
#define NEIGH_PROTO_LIMPET 76

struct hop {
	uint8_t family;
	int ifindex;
	uint32_t addr[4];
};

struct neigh_keeper {
	int fd;
	uint32_t seq;
	size_t n, cap;
	struct hop *owned;	/* entries neigh_keeper_free removes (unless told to keep) */
};

struct nl_req {
	struct nlmsghdr nh;
	union {
		struct rtmsg rt;
		struct ndmsg nd;
	};
	char attrs[128];
};

static int af_of(uint8_t family)
{
	return family == 4 ? AF_INET : AF_INET6;
}

static size_t alen(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static void add_attr(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (void *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Send r and read the answer into buf; returns the payload message, NULL with *err set
 * (0 for a plain ACK, -errno for an error). */
static struct nlmsghdr *nl_talk(struct neigh_keeper *nk, struct nl_req *r, char *buf, int *err)
{
	struct nlmsghdr *h;
	ssize_t len;

	r->nh.nlmsg_seq = ++nk->seq;
	if (send(nk->fd, r, r->nh.nlmsg_len, 0) < 0) {
		*err = -errno;
		return NULL;
	}
	len = recv(nk->fd, buf, NL_BUF, 0);
	if (len < 0) {
		*err = -errno;
		return NULL;
	}
	for (h = (void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_seq != nk->seq)
			continue;
		if (h->nlmsg_type == NLMSG_ERROR) {
			*err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			return NULL;
		}
		*err = 0;
		return h;
	}
	*err = -EPROTO;
	return NULL;
}

/* The egress device and next hop (gateway, or the address itself when on-link). */
static int route_hop(struct neigh_keeper *nk, uint8_t family, const uint32_t addr[4],
		     struct hop *hop)
{
	struct nl_req r = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
				    .nlmsg_type = RTM_GETROUTE, .nlmsg_flags = NLM_F_REQUEST } };
	char buf[NL_BUF];
	struct nlmsghdr *h;
	struct rtattr *a;
	int err, len;

	r.rt.rtm_family = af_of(family);
	r.rt.rtm_dst_len = alen(family) * 8;
	add_attr(&r, RTA_DST, addr, alen(family));
	h = nl_talk(nk, &r, buf, &err);
	if (!h)
		return err ? err : -ENOENT;
	memset(hop, 0, sizeof(*hop));
	hop->family = family;
	memcpy(hop->addr, addr, alen(family));
	len = RTM_PAYLOAD(h);
	for (a = RTM_RTA(NLMSG_DATA(h)); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_OIF)
			hop->ifindex = *(int *)RTA_DATA(a);
		else if (a->rta_type == RTA_GATEWAY)
			memcpy(hop->addr, RTA_DATA(a), alen(family));
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
	struct nl_req r = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
				    .nlmsg_type = RTM_GETNEIGH, .nlmsg_flags = NLM_F_REQUEST } };
	char buf[NL_BUF];
	struct nlmsghdr *h;
	struct ndmsg *nd;
	struct rtattr *a;
	bool managed = false, ours = false;
	int err, len;

	r.nd.ndm_family = af_of(hop->family);
	r.nd.ndm_ifindex = hop->ifindex;
	add_attr(&r, NDA_DST, hop->addr, alen(hop->family));
	h = nl_talk(nk, &r, buf, &err);
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
			ours = *(uint8_t *)RTA_DATA(a) == NEIGH_PROTO_LIMPET;
	}
	if (!managed)
		return NEIGH_NONE;
	return ours ? NEIGH_LIMPET : NEIGH_OPERATOR;
}

static int neigh_manage(struct neigh_keeper *nk, const struct hop *hop)
{
	struct nl_req r = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)), .nlmsg_type = RTM_NEWNEIGH,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE },
	};
	uint32_t managed = NTF_EXT_MANAGED;
	uint8_t proto = NEIGH_PROTO_LIMPET;
	char buf[NL_BUF];
	int err;

	r.nd.ndm_family = af_of(hop->family);
	r.nd.ndm_ifindex = hop->ifindex;
	r.nd.ndm_state = NUD_NONE;
	add_attr(&r, NDA_DST, hop->addr, alen(hop->family));
	add_attr(&r, NDA_FLAGS_EXT, &managed, sizeof(managed));
	add_attr(&r, NDA_PROTOCOL, &proto, sizeof(proto));
	nl_talk(nk, &r, buf, &err);
	return err;
}

int neigh_keeper_new(struct neigh_keeper **out)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct neigh_keeper *nk = calloc(1, sizeof(*nk));

	if (!nk)
		return -ENOMEM;
	nk->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nk->fd < 0 || bind(nk->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		if (nk->fd >= 0)
			close(nk->fd);
		free(nk);
		return err;
	}
	*out = nk;
	return 0;
}

static bool hop_same(const struct hop *a, const struct hop *b)
{
	return a->family == b->family && a->ifindex == b->ifindex &&
	       !memcmp(a->addr, b->addr, alen(a->family));
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
		struct nl_req r = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
					    .nlmsg_type = RTM_DELNEIGH,
					    .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK } };
		char buf[NL_BUF];
		int err;

		r.nd.ndm_family = af_of(nk->owned[i].family);
		r.nd.ndm_ifindex = nk->owned[i].ifindex;
		add_attr(&r, NDA_DST, nk->owned[i].addr, alen(nk->owned[i].family));
		nl_talk(nk, &r, buf, &err);
	}
	close(nk->fd);
	free(nk->owned);
	free(nk);
}
