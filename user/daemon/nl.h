/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The little rtnetlink limpetd needs (neighbours, announced routes): a socket, a request with
 * room for a few attributes, one request answered by one message or an ACK, and dumps.
 * Addresses are limpet's: family 4 or 6, network-order words.
 */
#ifndef LIMPET_NL_H
#define LIMPET_NL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#define NL_BUF 8192
/* The protocol number (neighbours' NDA_PROTOCOL, routes' rtm_protocol) of the entries limpetd
 * makes: `ip neigh` and `ip route` show "proto 76". */
#define NL_PROTO_LIMPET 76

struct nl_sock {
	int fd;
	uint32_t seq;
};

struct nl_req {
	struct nlmsghdr nh;
	union {
		struct rtmsg rt;
		struct ndmsg nd;
	};
	char attrs[128];
};

static inline int nl_af(uint8_t family)
{
	return family == 4 ? AF_INET : AF_INET6;
}

static inline size_t nl_alen(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

int nl_open(struct nl_sock *s);
void nl_close(struct nl_sock *s);
/* A request of this type and flags, its family header (rtmsg or ndmsg) zeroed. */
void nl_req_init(struct nl_req *r, uint16_t type, uint16_t flags, size_t hdr_len);
void nl_add_attr(struct nl_req *r, unsigned short type, const void *data, size_t len);
/* Send r and read the answer into buf (NL_BUF bytes); returns the payload message, NULL with
 * *err set (0 for a plain ACK, -errno for an error). */
struct nlmsghdr *nl_talk(struct nl_sock *s, struct nl_req *r, char *buf, int *err);
/* Send the dump request r (NLM_F_DUMP added) and call each(msg, arg) for every message of the
 * answer. 0 or -errno. */
int nl_dump(struct nl_sock *s, struct nl_req *r,
	    void (*each)(const struct nlmsghdr *h, void *arg), void *arg);

#endif /* LIMPET_NL_H */
