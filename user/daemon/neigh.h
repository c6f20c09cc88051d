/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Keep the neighbour entries of the servers resolved, so that bpf_fib_lookup finds a MAC for
 * a client's very first packet instead of passing it to the stack (LB_R_FIB_NO_NEIGH).
 *
 * For each server the kernel's route gives the egress device and next hop; the next hop gets
 * a "managed" neighbour entry (NTF_EXT_MANAGED, Linux 5.16+): the kernel resolves it at once
 * and keeps it reachable by re-probing, without traffic. Entries the operator made permanent
 * or managed are left alone; entries a limpetd made (this one, or an earlier one that left its
 * dataplane running) are this one's.
 */
#ifndef LIMPET_NEIGH_H
#define LIMPET_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct neigh_keeper;

int neigh_keeper_new(struct neigh_keeper **out);
/* Make sure next hops of these addresses (family 4/6, network order words) are managed. */
int neigh_keep(struct neigh_keeper *nk, uint8_t family, const uint32_t addr[4]);
/* Delete the entries neigh_keep made or took over, unless keep (a dataplane left running
 * needs them, and the next limpetd takes them over); free the keeper. */
void neigh_keeper_free(struct neigh_keeper *nk, bool keep);

#endif /* LIMPET_NEIGH_H */
