// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * limpet balancer: parse -> find the VIP -> filter the source -> pick a server (sticky table
 * or connection table, then weighted Maglev) -> forward (DSR or IPIP).
 * Anything that is not for a VIP, or that we cannot parse, goes to the stack untouched.
 */
#include "forward.h"
#include "maps.h"
#include "parse.h"
#include "pick.h"
#include "stats.h"

/* Whether the destination may be a VIP address: its bit (lb_vip_addr_bit()) in vip_addrs. */
static __always_inline bool vip_addr_maybe(__u32 bit)
{
	__u32 zero = 0;
	struct lb_vip_addrs *a = bpf_map_lookup_elem(&vip_addrs, &zero);

	return !a || (a->bits[bit / 64 % (LB_VIP_ADDR_BITS / 64)] >> (bit % 64) & 1);
}

static __always_inline bool vip_key_eq(const struct lb_vip_key *a, const struct lb_vip_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4]));
}

/* The VIP of the packet: this CPU's copy (vip_cache) if still good, else from vips. The copy
 * is this CPU's alone and XDP runs do not nest on a CPU, so it is never seen half written. */
static __always_inline struct lb_vip *find_vip(const struct pkt_info *pi, __u32 addr_bit)
{
	struct lb_vip_key k = {
		/* a non-first fragment has no ports: its farm is found by address alone */
		.port = pi->frag == FRAG_LATER ? 0 : pi->dport,
		.proto = pi->proto,
		.family = pi->family,
	};
	__u32 zero = 0, slot = (addr_bit ^ k.port) % LB_VIP_CACHE_SLOTS, g;
	__u32 *gen = bpf_map_lookup_elem(&vip_gen, &zero);
	struct lb_vip_cached *c = bpf_map_lookup_elem(&vip_cache, &slot);
	struct lb_vip *v;

	__builtin_memcpy(k.addr, pi->dst, sizeof(k.addr));
	if (!gen || !c)
		return bpf_map_lookup_elem(&vips, &k);
	g = *gen;
	if (c->gen == g && vip_key_eq(&c->key, &k))
		return &c->vip;
	/* g was read before the lookup: a write to vips after it bumps vip_gen past g */
	v = bpf_map_lookup_elem(&vips, &k);
	if (v) {
		c->gen = g;
		c->key = k;
		c->vip = *v;
	}
	return v;
}

static __always_inline bool acl_allows(const struct lb_vip *vip, const struct pkt_info *pi)
{
	struct lb_acl_key k = {
		.prefixlen = 32 + (pi->family == LB_V4 ? 32 : 128),
		.frontend = bpf_htonl(vip->frontend),
	};

	__builtin_memcpy(k.addr, pi->src, sizeof(k.addr));
	return bpf_map_lookup_elem(&acl, &k) != NULL;
}

static __always_inline struct lb_farm *find_farm(__u32 slot)
{
	__u32 zero = 0;
	void *inner = bpf_map_lookup_elem(&farms, &slot);

	return inner ? bpf_map_lookup_elem(inner, &zero) : NULL;
}

SEC("xdp")
int limpet_balancer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 len = end - data;
	struct pkt_info pi = {};
	struct lb_server *s;
	struct lb_farm *f;
	struct lb_vip *vip;
	__u32 now, bit;
	int rc;

	rc = parse_packet(data, end, &pi);
	if (rc != PARSE_OK)
		return lb_exit(rc, XDP_PASS, len);
	/* most of an edge host's traffic is not for a VIP: one bit says so before the hash */
	bit = lb_vip_addr_bit(pi.dst);
	vip = vip_addr_maybe(bit) ? find_vip(&pi, bit) : NULL;
	if (!vip)
		return lb_exit(LB_R_NOT_VIP, XDP_PASS, len);
	count(&stats_vip, vip->frontend, len);
	if ((vip->flags & LB_VIP_F_ACL) && !acl_allows(vip, &pi))
		return lb_exit(LB_R_ACL, XDP_DROP, len);
	if (vip->flags & LB_VIP_F_L7)
		return lb_exit(LB_R_L7, XDP_PASS, len);

	f = find_farm(vip->farm);
	if (!f)
		return lb_exit(LB_R_NO_SERVER, XDP_DROP, len);
	now = now_sec();
	if (f->hdr.stickiness == LB_STICKY_SOURCE_IP)
		s = pick_source(f, vip->farm, &pi, now);
	else if (pi.frag == FRAG_LATER)
		return lb_exit(LB_R_FRAG, XDP_PASS, len);
	else
		s = pick_flow(f, vip->farm, &pi, now);
	if (!s)
		return lb_exit(LB_R_NO_SERVER, XDP_DROP, len);
	return forward(ctx, f, s, &pi, len, now);
}

/* The clock sticky and connection entries are stamped with, for user space (BPF_PROG_TEST_RUN)
 * to age them by: the same now_sec() with the same CONFIG_HZ, so the two sides cannot disagree. */
SEC("syscall")
int limpet_clock(void *ctx)
{
	return now_sec();
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
