/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Weighted Maglev lookup tables.
 *
 * maglev_build() is a pure function of (server ids, weights, eligibility, seed, table size):
 * the order of the input array does not matter and no pointer or hash-table order leaks in,
 * so two nodes with the same config build byte-identical tables.
 *
 * Eligibility: the base table is built over every server in the farm (eligible or not). The
 * entries of ineligible servers are then handed out by a second weighted Maglev over the
 * eligible servers only. Disabling a server (or its probe failing) therefore changes exactly
 * the entries that pointed at it, and re-enabling it takes back exactly those.
 */
#ifndef LIMPET_MAGLEV_H
#define LIMPET_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAGLEV_WEIGHT_MIN	1
#define MAGLEV_WEIGHT_MAX	256
#define MAGLEV_SIZE_MAX		(1u << 24)
#define MAGLEV_ENTRY_NONE	0xffffffffu	/* entry value when no server is eligible */

struct maglev_server {
	uint32_t id;		/* stable identity (serverId): decides the permutation */
	uint32_t weight;	/* MAGLEV_WEIGHT_MIN..MAGLEV_WEIGHT_MAX */
	bool eligible;
};

/* 0 if size is a prime in [2, MAGLEV_SIZE_MAX], else -EINVAL. */
int maglev_check_size(uint32_t size);

/*
 * Fill table[0..size) with indices into servers[] (their position in the caller's array).
 * n == 0, or no eligible server, fills every entry with MAGLEV_ENTRY_NONE.
 * Returns 0; -EINVAL if size is not a valid prime (maglev_check_size()), size < n, two servers
 * share an id or a weight is out of range; -ENOMEM. On error table is left untouched.
 */
int maglev_build(const struct maglev_server *servers, size_t n, uint64_t seed, uint32_t size,
		 uint32_t *table);

#endif /* LIMPET_MAGLEV_H */
