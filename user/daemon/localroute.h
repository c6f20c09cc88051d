/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * How an http VIP's packets reach the L7 proxy. The XDP program passes them to the kernel
 * (pass_l7); the kernel hands them to the proxy's listeners only if it takes the VIP for one
 * of its own addresses. limpetd makes it so with one route per address of an enabled http
 * frontend:
 *   local VIP dev lo table local proto 76 metric TAG
 * (`ip route show table local proto 76`), rather than the address on lo: a local route is
 * never chosen as the source address of the host's own connections (the proxy's to the
 * servers among them), shows in no `ip addr`, and wakes no daemon watching addresses.
 * TAG is a hash of the serviceName (several limpetd on one host each know their own).
 *
 * Routes found at start (a limpetd killed or stopped keeping its dataplane left them: the
 * dataplane kept passing the VIP's packets up) are taken over: kept while wanted, removed
 * when not.
 */
#ifndef LIMPET_LOCALROUTE_H
#define LIMPET_LOCALROUTE_H

#include <stdbool.h>

#include "config/config.h"

struct localroutes;

/* Open the netlink socket and take over the routes of this service already there. */
int localroutes_new(struct localroutes **out, const char *service_name);
/* Add the routes of cfg's http VIPs that are missing; the others stay. 0 or the first -errno
 * (each failure logged). */
int localroutes_add(struct localroutes *lr, const struct config *cfg);
/* The routes of cfg's http VIPs and no other: add what is missing, remove the rest. */
int localroutes_sync(struct localroutes *lr, const struct config *cfg);
/* Remove every route it holds, unless keep (a dataplane left running still passes the VIPs'
 * packets up, for the next limpetd's proxy); free. */
void localroutes_free(struct localroutes *lr, bool keep);

#endif /* LIMPET_LOCALROUTE_H */
