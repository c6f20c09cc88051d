/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A set of VIP addresses, unordered: the routes announce.c and localroute.c hold in the kernel
 * (theirs to remove).
 */
#ifndef LIMPET_ADDRSET_H
#define LIMPET_ADDRSET_H

#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"

struct addr_set {
	size_t n, cap;
	struct cfg_addr *a;
};

/* The index of x in s, -1 if it is not there. */
ssize_t addr_set_find(const struct addr_set *s, const struct cfg_addr *x);
/* x added (the caller knows it is not there yet); 0 or -ENOMEM, s unchanged. */
int addr_set_add(struct addr_set *s, const struct cfg_addr *x);
/* The element at i removed; the last one takes its place. */
void addr_set_del(struct addr_set *s, size_t i);
void addr_set_free(struct addr_set *s);

#endif /* LIMPET_ADDRSET_H */
