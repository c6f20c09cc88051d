// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/nl.h"

#define NL_DUMP_BUF 32768	/* a dump comes in several messages per read */

int nl_open(struct nl_sock *s)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	s->seq = 0;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s->fd < 0)
		return -errno;
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(s->fd);
		s->fd = -1;
		return err;
	}
	return 0;
}

void nl_close(struct nl_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

void nl_req_init(struct nl_req *r, uint16_t type, uint16_t flags, size_t hdr_len)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(hdr_len);
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST | flags;
}

void nl_add_attr(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (void *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

struct nlmsghdr *nl_talk(struct nl_sock *s, struct nl_req *r, char *buf, int *err)
{
	struct nlmsghdr *h;
	ssize_t len;

	r->nh.nlmsg_seq = ++s->seq;
	if (send(s->fd, r, r->nh.nlmsg_len, 0) < 0) {
		*err = -errno;
		return NULL;
	}
	len = recv(s->fd, buf, NL_BUF, 0);
	if (len < 0) {
		*err = -errno;
		return NULL;
	}
	for (h = (void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_seq != s->seq)
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

int nl_dump(struct nl_sock *s, struct nl_req *r,
	    void (*each)(const struct nlmsghdr *h, void *arg), void *arg)
{
	char *buf = malloc(NL_DUMP_BUF);
	struct nlmsghdr *h;
	int err = buf ? 0 : -ENOMEM;
	ssize_t len;

	r->nh.nlmsg_flags |= NLM_F_DUMP;
	r->nh.nlmsg_seq = ++s->seq;
	if (!err && send(s->fd, r, r->nh.nlmsg_len, 0) < 0)
		err = -errno;
	while (!err) {
		len = recv(s->fd, buf, NL_DUMP_BUF, 0);
		if (len < 0) {
			err = -errno;
			break;
		}
		for (h = (void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != s->seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				goto out;
			}
			each(h, arg);
		}
	}
out:
	free(buf);
	return err;
}
