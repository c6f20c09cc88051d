// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "common/log.h"
#include "daemon/nl.h"
#include "daemon/preflight.h"
#include "limpet/abi.h"

/* The largest client packet assumed: the attached devices' MTU, but no more than the
 * internet carries, so that jumbo frames on the servers' side are not taken for jumbo
 * clients (with one device for both, its MTU is raised for the servers' sake). */
#define CLIENT_MTU_MAX	1500

static int ipip_hlen(int family)
{
	return family == LB_V4 ? 20 : 40;
}

/* inner IP + TCP headers: what an MSS leaves room for */
static int tcpip_hlen(int family)
{
	return family == LB_V4 ? 40 : 60;
}

static const int families[] = { LB_V4, LB_V6 };

/* The families (bits 1 << LB_V4, 1 << LB_V6) of the servers the XDP program forwards to;
 * those of the http layer are the L7 proxy's, reached through the kernel stack. */
static unsigned int families_needed(const struct config *cfg)
{
	unsigned int fams = 0;

	for (int l = 0; l < CFG_LAYERS; l++) {
		if (l == CFG_HTTP)
			continue;
		for (size_t i = 0; i < cfg->layer[l].nfarms; i++) {
			const struct cfg_farm *f = &cfg->layer[l].farms[i];

			for (size_t j = 0; j < f->nservers; j++)
				fams |= 1u << f->servers[j].addr.family;
		}
	}
	return fams;
}

/* A per-device sysctl: its file, and its name as sysctl(8) spells it. */
struct dev_sysctl {
	char path[PATH_MAX];
	char name[48 + IF_NAMESIZE];
};

static void dev_sysctl(int family, const char *ifname, const char *key, struct dev_sysctl *s)
{
	size_t at, i;

	snprintf(s->path, sizeof(s->path), "/proc/sys/net/ipv%d/conf/%s/%s", family, ifname, key);
	at = snprintf(s->name, sizeof(s->name), "net.ipv%d.conf.", family);
	/* sysctl(8) separates with dots: those of a device name ("eth0.100") are slashes */
	for (i = 0; ifname[i] && at + i < sizeof(s->name) - 1; i++)
		s->name[at + i] = ifname[i] == '.' ? '/' : ifname[i];
	snprintf(s->name + at + i, sizeof(s->name) - at - i, ".%s", key);
}

static int sysctl_read(const char *path, int *val)
{
	char buf[16] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		err = -errno;
	close(fd);
	if (!err)
		*val = atoi(buf);
	return err;
}

static int sysctl_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* A device that forwards IPv6 ignores router advertisements unless accept_ra is 2. */
static void warn_accept_ra(const char *ifname)
{
	struct dev_sysctl ra;
	int val;

	dev_sysctl(LB_V6, ifname, "accept_ra", &ra);
	if (!sysctl_read(ra.path, &val) && val == 1)
		pr_warn("%s: now that it forwards IPv6 it ignores router advertisements (accept_ra=1 "
			"applies to hosts only): if its addresses or routes come from them, "
			"sysctl -w %s=2", ifname, ra.name);
}

/* IP forwarding of one family on one device: bpf_fib_lookup checks the ingress device's. */
static int check_forwarding(int family, const char *ifname, bool fix)
{
	struct dev_sysctl fwd;
	int on, err;

	dev_sysctl(family, ifname, "forwarding", &fwd);
	err = sysctl_read(fwd.path, &on);
	if (err) {
		pr_err("%s: cannot read %s: %s%s: the IPv%d servers cannot be reached through it",
		       ifname, fwd.path, strerror(-err),
		       err == -ENOENT && family == LB_V6 ? " (IPv6 disabled on this host?)" : "",
		       family);
		return err;
	}
	if (on)
		return 0;
	if (!fix) {
		pr_err("%s: IPv%d forwarding is off (%s = 0): bpf_fib_lookup refuses to route "
		       "packets that arrive on %s, so every packet to the IPv%d servers would be "
		       "passed to the kernel and every client would time out; fix: sysctl -w %s=1, "
		       "or start limpetd with --set-forwarding", ifname, family, fwd.name, ifname,
		       family, fwd.name);
		return -EINVAL;
	}
	err = sysctl_write(fwd.path, "1");
	if (err) {
		pr_err("%s: --set-forwarding: writing %s=1: %s", ifname, fwd.name, strerror(-err));
		return err;
	}
	pr_info("%s: set %s=1 (was 0; --set-forwarding): bpf_fib_lookup routes only what "
		"arrives on a forwarding device", ifname, fwd.name);
	if (family == LB_V6)
		warn_accept_ra(ifname);
	return 0;
}

struct route {
	unsigned char type;	/* RTN_* */
	int oif;
	unsigned int mtu;	/* the route's, 0: the device's */
	bool via;		/* through a gateway */
};

static unsigned int metric_mtu(struct rtattr *metrics)
{
	int len = RTA_PAYLOAD(metrics);

	for (struct rtattr *m = RTA_DATA(metrics); RTA_OK(m, len); m = RTA_NEXT(m, len))
		if (m->rta_type == RTAX_MTU)
			return *(uint32_t *)RTA_DATA(m);
	return 0;
}

/* The kernel's route to a, as `ip route get` shows it; -errno when there is none. */
static int route_get(struct nl_sock *s, const struct cfg_addr *a, struct route *rt)
{
	struct nl_req r;
	char buf[NL_BUF];
	struct nlmsghdr *h;
	struct rtmsg *rtm;
	int err, len;

	nl_req_init(&r, RTM_GETROUTE, 0, sizeof(struct rtmsg));
	r.rt.rtm_family = nl_af(a->family);
	r.rt.rtm_dst_len = nl_alen(a->family) * 8;
	nl_add_attr(&r, RTA_DST, a->addr, nl_alen(a->family));
	h = nl_talk(s, &r, buf, &err);
	if (!h)
		return err ?: -EPROTO;
	rtm = NLMSG_DATA(h);
	*rt = (struct route){ .type = rtm->rtm_type };
	len = RTM_PAYLOAD(h);
	for (struct rtattr *at = RTM_RTA(rtm); RTA_OK(at, len); at = RTA_NEXT(at, len)) {
		if (at->rta_type == RTA_OIF)
			rt->oif = *(int *)RTA_DATA(at);
		else if (at->rta_type == RTA_GATEWAY || at->rta_type == RTA_VIA)
			rt->via = true;
		else if (at->rta_type == RTA_METRICS)
			rt->mtu = metric_mtu(at);
	}
	return 0;
}

/* netdevice(7): the device ioctls work on any socket, the netlink one included. */
static int dev_mtu(int fd, const char *ifname, unsigned int *mtu)
{
	struct ifreq ifr = { 0 };

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -EINVAL;
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		return -errno;
	*mtu = ifr.ifr_mtu;
	return 0;
}

/* What a farm's servers need from the routes: one warning per problem, naming the first
 * server that has it. path: the farm's JSON path ("tcp.farm[0]"). */
static void check_farm_routes(struct nl_sock *nl, const char *path, const struct cfg_farm *f,
			      unsigned int client_mtu)
{
	char no_route[INET6_ADDRSTRLEN + 64] = "", offlink[INET6_ADDRSTRLEN] = "";
	char small[INET6_ADDRSTRLEN] = "", small_dev[IF_NAMESIZE] = "";
	size_t nno_route = 0, nofflink = 0, nsmall = 0;
	unsigned int small_mtu = UINT_MAX;
	int small_fam = LB_V4;

	for (size_t i = 0; i < f->nservers; i++) {
		const struct cfg_addr *a = &f->servers[i].addr;
		char addr[INET6_ADDRSTRLEN], dev[IF_NAMESIZE];
		unsigned int mtu;
		struct route rt;
		int err;

		cfg_addr_str(a, addr);
		err = route_get(nl, a, &rt);
		if (!err && rt.type != RTN_UNICAST)	/* local, broadcast...: not forwarded */
			err = rt.type == RTN_LOCAL ? -EADDRINUSE : -ENETUNREACH;
		if (err) {
			if (!nno_route++)
				snprintf(no_route, sizeof(no_route), "%s: %s", addr,
					 err == -EADDRINUSE ? "a local address" : strerror(-err));
			continue;
		}
		if (f->forwarding == FWD_DSR) {
			if (rt.via && !nofflink++)
				snprintf(offlink, sizeof(offlink), "%s", addr);
			continue;
		}
		if (!if_indextoname(rt.oif, dev) || dev_mtu(nl->fd, dev, &mtu))
			continue;
		if (rt.mtu)
			mtu = rt.mtu;
		if (mtu >= client_mtu + ipip_hlen(a->family))
			continue;
		nsmall++;
		if (mtu < small_mtu) {
			small_mtu = mtu;
			small_fam = a->family;
			snprintf(small, sizeof(small), "%s", addr);
			snprintf(small_dev, sizeof(small_dev), "%s", dev);
		}
	}
	if (nno_route)
		pr_warn("%s: no usable route to %zu of its %zu servers (%s): packets to them will "
			"be passed to the kernel (pass_fib_no_route) until there is one", path,
			nno_route, f->nservers, no_route);
	if (nofflink)
		pr_warn("%s (dsr): a router stands between the LB and %zu of its %zu servers (%s): "
			"dsr reaches only servers on the LB's own segments, so packets to them will be "
			"passed to the kernel (pass_fib_offlink); put them on-link or use "
			"\"forwarding\": \"ipip\"",
			path, nofflink, f->nservers, offlink);
	if (nsmall)
		pr_warn("%s (ipip): the MTU towards %zu of its %zu servers is below a full-size "
			"client packet (%u bytes) plus the %d-byte outer header (%s: %u through %s): "
			"XDP cannot fragment, so such packets are dropped (drop_too_big); fix: raise "
			"the MTU of the path to the servers to %u or more (ip link set dev %s mtu %u, "
			"and on the servers' side), or clamp the MSS the servers advertise to %u",
			path, nsmall, f->nservers, client_mtu, ipip_hlen(small_fam), small, small_mtu,
			small_dev, client_mtu + ipip_hlen(small_fam), small_dev,
			client_mtu + ipip_hlen(small_fam),
			small_mtu - ipip_hlen(small_fam) - tcpip_hlen(small_fam));
}

/* The largest client packet: see CLIENT_MTU_MAX. */
static unsigned int client_mtu(int fd, char ifnames[][IF_NAMESIZE], int n)
{
	unsigned int max = 0, mtu;

	for (int i = 0; i < n; i++)
		if (!dev_mtu(fd, ifnames[i], &mtu) && mtu > max)
			max = mtu;
	return max && max < CLIENT_MTU_MAX ? max : CLIENT_MTU_MAX;
}

int preflight_check(const struct config *cfg, char ifnames[][IF_NAMESIZE], int n, bool fix)
{
	unsigned int fams = families_needed(cfg), mtu;
	char path[64];
	struct nl_sock nl;
	int bad = 0, err;

	for (int i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof(families) / sizeof(families[0]); k++)
			if ((fams & 1u << families[k]) &&
			    check_forwarding(families[k], ifnames[i], fix))
				bad++;
	if (bad) {
		pr_err("host preflight: %d problem%s above; not starting (nothing attached)", bad,
		       bad == 1 ? "" : "s");
		return -EINVAL;
	}
	err = nl_open(&nl);
	if (err) {
		pr_warn("host preflight: netlink: %s; the routes to the servers are not checked",
			strerror(-err));
		return 0;
	}
	mtu = client_mtu(nl.fd, ifnames, n);
	for (int l = 0; l < CFG_LAYERS; l++) {
		if (l == CFG_HTTP)
			continue;
		for (size_t i = 0; i < cfg->layer[l].nfarms; i++) {
			snprintf(path, sizeof(path), "%s.farm[%zu]", cfg_layer_name(l), i);
			check_farm_routes(&nl, path, &cfg->layer[l].farms[i], mtu);
		}
	}
	nl_close(&nl);
	return 0;
}

void preflight_xdp_mode(const char *ifname, enum attach_req req, enum xdp_attach_mode got)
{
	if (req == ATTACH_AUTO && got == XDP_MODE_SKB)
		pr_warn("%s: the balancer runs in generic (skb) XDP, native was not available: each "
			"packet pays for an skb before limpet sees it, several times the native cost; "
			"use a driver with native XDP, or say --xdp-mode generic if this is intended "
			"(--xdp-mode native refuses to start instead)", ifname);
}

void preflight_forwarding_off(const struct config *cfg, char ifnames[][IF_NAMESIZE], int n,
			      char *buf, size_t len)
{
	unsigned int fams = families_needed(cfg);
	struct dev_sysctl fwd;
	size_t at = 0;
	int on;

	buf[0] = 0;
	for (int i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(families) / sizeof(families[0]); k++) {
			if (!(fams & 1u << families[k]))
				continue;
			dev_sysctl(families[k], ifnames[i], "forwarding", &fwd);
			if (sysctl_read(fwd.path, &on) || on || at >= len)
				continue;
			at += snprintf(buf + at, len - at, "%s%s=1", at ? " " : "", fwd.name);
		}
	}
}
