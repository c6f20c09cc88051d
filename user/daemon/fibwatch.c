// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "daemon/fibwatch.h"
#include "daemon/preflight.h"
#include "daemon/service.h"
#include "dataplane/dataplane.h"

/* What each reason most likely means and how to fix it; forwarding is named per device. */
static const char *const fixes[FIBWATCH_N] = {
	[LB_R_FIB_NO_ROUTE - FIBWATCH_FIRST] =
		"the kernel has no usable route to the server (none, or a blackhole, unreachable, "
		"prohibit or local one); fix: a route to the servers (`ip route get SERVER` shows "
		"the kernel's)",
	[LB_R_FIB_NO_NEIGH - FIBWATCH_FIRST] =
		"the next hop's MAC address is not resolved although limpetd keeps the servers' "
		"neighbours resolved: a server (or router) that does not answer ARP/neighbour "
		"discovery, or a full neighbour table; check `ip neigh show` and that the servers "
		"answer on the LB's segment",
	[LB_R_FIB_OFFLINK - FIBWATCH_FIRST] =
		"a dsr server is reached through a router, which would send the VIP's packets "
		"back; fix: put dsr servers on the LB's own segments, or use \"forwarding\": "
		"\"ipip\" for servers behind a router",
	[LB_R_FIB_OTHER - FIBWATCH_FIRST] =
		"the route to the server leaves through a device limpet is not attached to, is a "
		"lightweight-tunnel route, or gives ipip no source address; check `ip route get "
		"SERVER` and attach limpet to every device the servers are routed through",
};
_Static_assert(FIBWATCH_N == 5, "a fix for every pass_fib_* reason");

void fibwatch_init(struct fibwatch *fw, char ifnames[][IF_NAMESIZE], int n)
{
	*fw = (struct fibwatch){ .ifname = ifnames, .nifaces = n };
}

/* The status warning's key for the i-th reason. */
static void reason_key(int i, char key[32])
{
	snprintf(key, 32, "fib.%s", dataplane_reason_name(FIBWATCH_FIRST + i));
}

static void raise_warning(struct fibwatch *fw, struct service *svc, int i, time_t window)
{
	enum lb_reason why = FIBWATCH_FIRST + i;
	unsigned long long n = fw->r[i].unreported;
	char key[32], fix[512], on[256];

	reason_key(i, key);
	if (why == LB_R_FIB_FWD_DISABLED) {
		preflight_forwarding_off(service_applied_config(svc), fw->ifname, fw->nifaces, on,
					 sizeof(on));
		snprintf(fix, sizeof(fix), "IP forwarding is off on the device they came in on, "
			 "so bpf_fib_lookup refuses to route them and their clients time out; "
			 "fix: sysctl -w %s", on[0] ? on : "net.ipv4.conf.IFACE.forwarding=1 "
			 "net.ipv6.conf.IFACE.forwarding=1 (the devices limpet is attached to)");
	} else {
		snprintf(fix, sizeof(fix), "%s", fixes[i]);
	}
	service_warn(svc, key, "%s: %llu packet%s to servers passed to the kernel in the last "
		     "%lld s: %s", dataplane_reason_name(why), n, n == 1 ? "" : "s",
		     (long long)window, fix);
}

void fibwatch_tick(struct fibwatch *fw, struct service *svc, const struct dataplane *dp)
{
	struct lb_counter v[LB_R_MAX];
	struct timespec ts;
	time_t now;

	if (dataplane_verdicts(dp, v))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec;
	for (int i = 0; i < FIBWATCH_N; i++) {
		struct fibwatch_reason *r = &fw->r[i];
		uint64_t total = v[FIBWATCH_FIRST + i].packets;

		/* the first reading (an adopted dataplane counts from before) is a baseline */
		if (fw->last_tick && total > r->seen) {
			r->unreported += total - r->seen;
			r->last_miss = now;
		}
		r->seen = total;
		if (r->unreported && (!r->raised || now - r->warned >= FIBWATCH_PERIOD)) {
			raise_warning(fw, svc, i, r->raised ? now - r->warned
							    : now > fw->last_tick ? now - fw->last_tick : 1);
			r->raised = true;
			r->warned = now;
			r->unreported = 0;
		} else if (r->raised && now - r->last_miss >= FIBWATCH_PERIOD) {
			char key[32];

			reason_key(i, key);
			service_warn_clear(svc, key);
			pr_info("%s: no new packets for %d s, warning cleared",
				dataplane_reason_name(FIBWATCH_FIRST + i), FIBWATCH_PERIOD);
			r->raised = false;
		}
	}
	fw->last_tick = now;
}
