/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The keyed hashes of the dataplane, shared by the XDP program and user space so that tests
 * and tools can predict where a source lands. A 64-bit finaliser (MurmurHash3 fmix64) over the
 * address words, keyed by the farm's hashSeed: deterministic across nodes, cheap in BPF (no
 * loops), and well mixed. It is not a MAC: the sticky table's flood resistance comes from its
 * insert policy (bpf/pick.h), not from the secrecy of the seed.
 */
#ifndef LIMPET_HASH_H
#define LIMPET_HASH_H

#include <linux/types.h>

static inline __u64 lb_mix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static inline __u64 lb_pair(__u32 hi, __u32 lo)
{
	return (__u64)hi << 32 | lo;
}

/* Hash of a source address (IPv4 in w[0], the rest zero). */
static inline __u64 lb_hash_addr(const __u32 *w, __u64 seed)
{
	__u64 h = lb_mix64(seed ^ lb_pair(w[0], w[1]));

	return lb_mix64(h ^ lb_pair(w[2], w[3]) ^ 0x9e3779b97f4a7c15ULL);
}

/* The bit of a destination address in vip_addrs (abi.h): one multiply, since it runs for every
 * packet that is not for a VIP; an IPv4 address is w[0], the rest zero. */
static inline __u32 lb_vip_addr_bit(const __u32 *w)
{
	return ((w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9e3779b1u) >> 16;
}

/* Hash of a flow: both addresses, both ports and the protocol. */
static inline __u64 lb_hash_flow(const __u32 *src, const __u32 *dst, __u32 ports, __u32 proto,
				 __u64 seed)
{
	__u64 h = lb_hash_addr(src, seed);

	h = lb_mix64(h ^ lb_pair(dst[0], dst[1]));
	h = lb_mix64(h ^ lb_pair(dst[2], dst[3]));
	return lb_mix64(h ^ lb_pair(ports, proto));
}

/* Sticky-table position of a source within a farm: bucket from the low bits, tag from the
 * high ones, so the two are independent; the farm slot keeps farms apart. The source's hash
 * under another key, not a mix of lb_hash_addr()'s: a known client's lookup waits for two
 * rounds of lb_mix64, not three (the farm's round does not wait for the source). The farm is
 * mixed before it keys the hash: xored in plain, farms f and g would give source a the
 * position of source a ^ ((f ^ g) << 16) (IPv4: the third octet). */
static inline __u64 lb_sticky_hash(const __u32 *w, __u64 seed, __u32 farm)
{
	return lb_hash_addr(w, seed ^ lb_mix64(lb_pair(farm, 0x5bd1e995)));
}

static inline __u32 lb_sticky_tag(__u64 sh)
{
	return (__u32)(sh >> 32) | 1;
}

/* The other bucket a tag may live in (two-choice, bpf/pick.h): the same function takes either
 * bucket to the other, so an entry can be moved without knowing its source. */
static inline __u32 lb_sticky_alt(__u32 idx, __u32 tag, __u32 mask)
{
	/* the tag is already well mixed: one multiply spreads it over the bucket bits (the
	 * high half of the product depends on every bit of the tag) */
	return (idx ^ (__u32)(((__u64)tag * 0x9e3779b97f4a7c15ULL) >> 32)) & mask;
}

/* The bit of a tag in its bucket's summary (abi.h lb_sticky_sum): tag bits 1-5 (bit 0 is
 * always set; the bucket bits are the other half of the hash). */
static inline __u32 lb_sticky_tag_bit(__u32 tag)
{
	return 1u << ((tag >> 1) & 31);
}

#endif /* LIMPET_HASH_H */
