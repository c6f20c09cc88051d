/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Host preflight: what the dataplane needs from the host, checked before limpetd attaches
 * anything, so that a host which would black-hole every client refuses to start instead.
 *
 * - IP forwarding on each attached device, for each address family of the XDP farms'
 *   servers: without it bpf_fib_lookup answers "forwarding disabled" for every packet that
 *   arrives there, every packet is passed to the kernel and every client times out. Fatal,
 *   unless fix (--set-forwarding): then limpetd turns it on and logs each switch it changed.
 * - The kernel's route to each server (warnings): none (pass_fib_no_route), a dsr server
 *   behind a router (pass_fib_offlink), and for ipip the MTU towards the server against a
 *   full-size client packet plus the outer header (XDP cannot fragment: drop_too_big).
 * - After attaching: the XDP mode obtained (a warning when auto fell back to generic).
 *
 * Device facts come from ioctl and netlink, never /sys/class/net: limpetd may run in a
 * network namespace it entered (nsenter --net), where /sys still shows the host's devices;
 * /proc/sys/net follows the namespace.
 */
#ifndef LIMPET_PREFLIGHT_H
#define LIMPET_PREFLIGHT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "daemon/attach.h"

/* 0, or -EINVAL once every problem has been logged with its fix (nothing was changed then,
 * except forwarding switches that fix turned on). */
int preflight_check(const struct config *cfg, char ifnames[][IF_NAMESIZE], int n, bool fix);

/* Warn when ATTACH_AUTO ended in generic (skb) mode on ifname. */
void preflight_xdp_mode(const char *ifname, enum attach_req req, enum xdp_attach_mode got);

/* The forwarding switches cfg needs on these devices that are off now, as the sysctl(8)
 * assignments that turn them on ("net.ipv4.conf.lb0.forwarding=1 ..."), in buf; "" if none. */
void preflight_forwarding_off(const struct config *cfg, char ifnames[][IF_NAMESIZE], int n,
			      char *buf, size_t len);

#endif /* LIMPET_PREFLIGHT_H */
