// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The validate pass, over the model the parse pass built: what the dataplane can serve. The
 * layer split, each frontend's defaultFarmId, forwarding without NAT (ports and address
 * families of servers against the frontends using their farm), duplicate ids, (address, port)
 * claimed twice, the abi.h limits. A field the parse pass found wrong keeps its default or 0
 * ("unset"), which the checks pass over rather than report again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limpet/abi.h"
#include "config/config-int.h"
#include "maglev/maglev.h"

/* Pairwise checks (duplicate ids, overlapping VIPs) are quadratic: beyond the abi.h limits the
 * limit error is reported and they are skipped, so a hostile document cannot stall the daemon. */
#define PAIRWISE_MAX		4096

/* --- addresses and port sets ------------------------------------------------------------- */

static bool addr_eq(const struct cfg_addr *a, const struct cfg_addr *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static uint64_t ports_count(const struct cfg_ports *p)
{
	uint64_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->range[i].hi - p->range[i].lo + 1u;
	return n;
}

static bool ports_single(const struct cfg_ports *p)
{
	return p->n == 1 && p->range[0].lo == p->range[0].hi;
}

/* First port in both sets (sorted, disjoint ranges), 0 if none. */
static uint32_t ports_overlap(const struct cfg_ports *a, const struct cfg_ports *b)
{
	size_t i = 0, j = 0;

	while (i < a->n && j < b->n) {
		uint32_t lo = a->range[i].lo > b->range[j].lo ? a->range[i].lo : b->range[j].lo;
		uint32_t hi = a->range[i].hi < b->range[j].hi ? a->range[i].hi : b->range[j].hi;

		if (lo <= hi)
			return lo;
		if (a->range[i].hi < b->range[j].hi)
			i++;
		else
			j++;
	}
	return 0;
}

/* --- validate: what the dataplane can serve ---------------------------------------------- */

static void validate_farm(struct pctx *px, enum cfg_layer l, const struct cfg_layer_cfg *lc,
			  size_t j)
{
	const struct cfg_farm *f = &lc->farms[j];
	const char *name = cfg_layer_name(l);
	char path[PATH_LEN], p[PATH_LEN], sp[PATH_LEN];

	snprintf(path, sizeof(path), "%s.farm[%zu]", name, j);

	if (f->id && lc->nfarms <= PAIRWISE_MAX) {
		for (size_t k = 0; k < j; k++) {
			if (lc->farms[k].id == f->id) {
				cfg_path_key(p, path, "farmId");
				cfg_err_at(px, p, "duplicate farmId %u (%s.farm[%zu] has it too)",
					   f->id, name, k);
				break;
			}
		}
	}

	if (f->nservers > LB_FARM_SERVERS_MAX) {
		cfg_path_key(p, path, "server");
		cfg_err_at(px, p, "%zu servers, at most %d per farm (LB_FARM_SERVERS_MAX)",
			   f->nservers, LB_FARM_SERVERS_MAX);
	} else {
		for (size_t i = 0; i < f->nservers; i++) {
			if (!f->servers[i].id)
				continue;
			for (size_t k = 0; k < i; k++) {
				if (f->servers[k].id != f->servers[i].id)
					continue;
				cfg_path_fit(sp, snprintf(sp, sizeof(sp), "%s.server[%zu].serverId",
							  path, i));
				cfg_err_at(px, sp, "duplicate serverId %u (%s.server[%zu] has it "
					   "too)", f->servers[i].id, path, k);
				break;
			}
		}
	}

	if (f->table_size) {
		cfg_path_key(p, path, "maglevTableSize");
		if (f->table_size > LB_RING_MAX)
			cfg_err_at(px, p, "%u exceeds %d, the largest table of the dataplane "
				   "(LB_RING_MAX)", f->table_size, LB_RING_MAX);
		else if (maglev_check_size(f->table_size))
			cfg_err_at(px, p, "%u is not a prime", f->table_size);
		else if (f->table_size < f->nservers)
			cfg_err_at(px, p, "%u is smaller than the farm's %zu servers",
				   f->table_size, f->nservers);
	}

	if (f->cookie_name && f->stickiness != STICK_COOKIE) {
		cfg_path_key(p, path, "cookieName");
		cfg_err_at(px, p, "only meaningful with cookie stickiness");
	}

	/* The L7 proxy serves every balance and stickiness, connects to any port and family. */
	if (l == CFG_HTTP)
		return;
	/* The XDP path (DESIGN.md section 4, layer split). */
	if (f->balance != BAL_ROUNDROBIN && f->balance != BAL_SOURCE) {
		cfg_path_key(p, path, "balance");
		cfg_err_at(px, p, "%s needs an http farm (the L7 path); %s farms serve roundrobin "
			   "or source", cfg_balance_names[f->balance], name);
	}
	if (f->stickiness == STICK_COOKIE) {
		cfg_path_key(p, path, "stickiness");
		cfg_err_at(px, p, "cookie stickiness needs an http farm (the L7 path)");
	}
	for (size_t i = 0; i < f->nservers; i++) {
		if (!f->servers[i].proxy_protocol)
			continue;
		snprintf(sp, sizeof(sp), "%s.farm[%zu].server[%zu].proxyProtocolVersion", name, j,
			 i);
		cfg_err_at(px, sp, "needs an http farm (the L7 path); %s forward does not touch "
			   "the payload", cfg_forwarding_names[f->forwarding]);
	}
}

/*
 * dsr and ipip deliver the packet as the client sent it: the server sees the VIP's port and
 * the VIP's address family. A port to translate to, or a server of the other family, cannot
 * be served, so it is an error rather than a setting that would be ignored.
 */

/* The ports of frontend i against its farm j: the farm's port and every server's. */
static void validate_ports(struct pctx *px, enum cfg_layer l, const struct cfg_layer_cfg *lc,
			   size_t i, size_t j)
{
	const struct cfg_frontend *fe = &lc->frontends[i];
	const struct cfg_farm *f = &lc->farms[j];
	const char *name = cfg_layer_name(l), *fwd = cfg_forwarding_names[f->forwarding];
	bool single = ports_single(&fe->ports);
	char p[PATH_LEN], ports[48], *text;

	text = cfg_ports_str(&fe->ports);
	if (!text) {
		px->oom = true;
		return;
	}
	if (strlen(text) > 40)
		snprintf(ports, sizeof(ports), "%.37s...", text);
	else
		snprintf(ports, sizeof(ports), "%s", text);
	free(text);

	/* k == nservers stands for the farm's own port */
	for (size_t k = 0; k <= f->nservers; k++) {
		uint16_t port = k < f->nservers ? f->servers[k].port : f->port;

		if (!port || (single && port == fe->ports.range[0].lo))
			continue;
		if (k < f->nservers)
			snprintf(p, sizeof(p), "%s.farm[%zu].server[%zu].port", name, j, k);
		else
			snprintf(p, sizeof(p), "%s.farm[%zu].port", name, j);
		if (single)
			cfg_err_at(px, p, "%u differs from port %u of %s.frontend[%zu] (frontendId "
				   "%u): %s forward cannot translate ports", port,
				   fe->ports.range[0].lo, name, i, fe->id, fwd);
		else
			cfg_err_at(px, p, "must be absent: %s.frontend[%zu] (frontendId %u) "
				   "listens on \"%s\" and %s forward keeps each packet's port",
				   name, i, fe->id, ports, fwd);
	}
}

/* Every server of farm j has the family of every frontend that uses it. */
static void validate_families(struct pctx *px, enum cfg_layer l, const struct cfg_layer_cfg *lc,
			      size_t j, const int *fe_farm)
{
	const struct cfg_frontend *v4 = NULL, *v6 = NULL, *other;
	const struct cfg_farm *f = &lc->farms[j];
	char p[PATH_LEN];

	for (size_t i = 0; i < lc->nfrontends; i++) {
		const struct cfg_frontend *fe = &lc->frontends[i];

		if (fe_farm[i] != (int)j)
			continue;
		if (fe->addr.family == LB_V4 && !v4)
			v4 = fe;
		if (fe->addr.family == LB_V6 && !v6)
			v6 = fe;
	}
	for (size_t k = 0; k < f->nservers; k++) {
		const struct cfg_server *s = &f->servers[k];

		other = s->addr.family == LB_V4 ? v6 : s->addr.family == LB_V6 ? v4 : NULL;
		if (!other)
			continue;
		snprintf(p, sizeof(p), "%s.farm[%zu].server[%zu].address", cfg_layer_name(l), j, k);
		cfg_err_at(px, p, "%s server in a farm of %s frontend %u (dsr/ipip forward "
			   "without translation)", cfg_family_name(s->addr.family),
			   cfg_family_name(other->addr.family), other->id);
	}
}

static void validate_frontends(struct pctx *px, enum cfg_layer l, const struct cfg_layer_cfg *lc)
{
	const char *name = cfg_layer_name(l);
	char path[PATH_LEN], p[PATH_LEN];
	bool unsure = false, follow;
	int *fe_farm;

	if (!lc->nfrontends)
		return;
	/* Each reference is a scan of the farms and each farm's families a scan of the
	 * frontends: past the limits (which validate_limits reports) they are not followed. */
	follow = lc->nfarms <= PAIRWISE_MAX && lc->nfrontends <= PAIRWISE_MAX;
	fe_farm = cfg_alloc_array(px, lc->nfrontends, sizeof(*fe_farm));
	if (!fe_farm)
		return;
	/* A farm whose farmId was already reported may be the one a frontend names. */
	for (size_t j = 0; j < lc->nfarms; j++)
		if (!lc->farms[j].id)
			unsure = true;
	for (size_t i = 0; i < lc->nfrontends; i++) {
		const struct cfg_frontend *fe = &lc->frontends[i];

		snprintf(path, sizeof(path), "%s.frontend[%zu]", name, i);
		if (fe->id && lc->nfrontends <= PAIRWISE_MAX) {
			for (size_t k = 0; k < i; k++) {
				if (lc->frontends[k].id != fe->id)
					continue;
				cfg_path_key(p, path, "frontendId");
				cfg_err_at(px, p, "duplicate frontendId %u (%s.frontend[%zu] has "
					   "it too)", fe->id, name, k);
				break;
			}
		}
		fe_farm[i] = -1;
		if (!fe->default_farm || !follow)
			continue;
		fe_farm[i] = cfg_farm_index(lc, fe->default_farm);
		if (fe_farm[i] < 0 && !unsure) {
			cfg_path_key(p, path, "defaultFarmId");
			cfg_err_at(px, p, "no farm %u in %s", fe->default_farm, name);
		}
	}
	if (l != CFG_HTTP && follow) {
		for (size_t i = 0; i < lc->nfrontends; i++)
			if (fe_farm[i] >= 0 && lc->frontends[i].ports.n)
				validate_ports(px, l, lc, i, (size_t)fe_farm[i]);
		for (size_t j = 0; j < lc->nfarms; j++)
			validate_families(px, l, lc, j, fe_farm);
	}
	free(fe_farm);
}

/* abi.h limits (and the L7 proxy's CFG_HTTP_PORTS_MAX), counted over every frontend (enabled
 * or not), so that enabling a frontend through the API can never push a valid config over a
 * limit of the dataplane. */
static void validate_limits(struct pctx *px, const struct config *c)
{
	size_t farms = 0, servers = 0, frontends = 0, acl = 0;
	uint64_t keys = 0, http_ports = 0;
	bool farms_over = false, servers_over = false, fe_over = false, keys_over = false;
	bool acl_over = false, http_over = false;
	char p[PATH_LEN];

	for (int l = 0; l < CFG_LAYERS; l++) {
		const struct cfg_layer_cfg *lc = &c->layer[l];
		const char *name = cfg_layer_name(l);

		for (size_t j = 0; j < lc->nfarms; j++) {
			if (!farms_over && ++farms > LB_FARMS_MAX) {
				snprintf(p, sizeof(p), "%s.farm[%zu]", name, j);
				cfg_err_at(px, p, "farm number %zu of the config: at most %d farms "
					   "in all layers (LB_FARMS_MAX)", farms, LB_FARMS_MAX);
				farms_over = true;
			}
			servers += lc->farms[j].nservers;
			if (!servers_over && servers > LB_SERVER_STATS_MAX) {
				snprintf(p, sizeof(p), "%s.farm[%zu].server", name, j);
				cfg_err_at(px, p, "brings the servers to %zu: at most %d in all "
					   "farms (LB_SERVER_STATS_MAX)",
					   servers, LB_SERVER_STATS_MAX);
				servers_over = true;
			}
		}
		for (size_t i = 0; i < lc->nfrontends; i++) {
			const struct cfg_frontend *fe = &lc->frontends[i];

			if (!fe_over && ++frontends > LB_FRONTENDS_MAX) {
				snprintf(p, sizeof(p), "%s.frontend[%zu]", name, i);
				cfg_err_at(px, p, "frontend number %zu of the config: at most %d "
					   "frontends in all layers (LB_FRONTENDS_MAX)", frontends,
					   LB_FRONTENDS_MAX);
				fe_over = true;
			}
			/* A key per port, and the frontend's fragment key (port 0). */
			keys += ports_count(&fe->ports) + 1;
			/* Each worker of the L7 proxy holds a listener per (VIP, port). */
			if (l == CFG_HTTP)
				http_ports += ports_count(&fe->ports);
			if (!http_over && http_ports > CFG_HTTP_PORTS_MAX) {
				snprintf(p, sizeof(p), "%s.frontend[%zu].port", name, i);
				cfg_err_at(px, p, "brings the ports of http frontends to %llu: at "
					   "most %d in all (CFG_HTTP_PORTS_MAX; the L7 proxy "
					   "listens on each)", (unsigned long long)http_ports,
					   CFG_HTTP_PORTS_MAX);
				http_over = true;
			}
			if (!keys_over && keys > LB_VIP_KEYS_MAX) {
				snprintf(p, sizeof(p), "%s.frontend[%zu].port", name, i);
				cfg_err_at(px, p, "brings the VIP keys (its ports and a fragment "
					   "key each) to %llu: at most %d in all (LB_VIP_KEYS_MAX)",
					   (unsigned long long)keys, LB_VIP_KEYS_MAX);
				keys_over = true;
			}
			acl += fe->nallowed;
			if (!acl_over && acl > LB_ACL_MAX) {
				snprintf(p, sizeof(p), "%s.frontend[%zu].allowedSource", name, i);
				cfg_err_at(px, p, "brings the allowedSource prefixes to %zu: at "
					   "most %d in all frontends (LB_ACL_MAX)", acl,
					   LB_ACL_MAX);
				acl_over = true;
			}
		}
	}
}

struct fe_ref {
	enum cfg_layer l;
	size_t i;
	const struct cfg_frontend *fe;
};

static void report_claim(struct pctx *px, const struct fe_ref *a, const struct fe_ref *b,
			 uint32_t port, const char *proto)
{
	char p[PATH_LEN], addr[INET6_ADDRSTRLEN];

	snprintf(p, sizeof(p), "%s.frontend[%zu].port", cfg_layer_name(b->l), b->i);
	cfg_err_at(px, p, "%s port %u/%s is already claimed by %s.frontend[%zu] (frontendId %u)",
		   cfg_addr_str(&b->fe->addr, addr), port, proto, cfg_layer_name(a->l), a->i,
		   a->fe->id);
}

/*
 * No two enabled frontends of one protocol may claim the same (address, port): the vips map
 * has one entry per key. http frontends are TCP too.
 */
static void validate_claims(struct pctx *px, const struct config *c)
{
	static const struct {
		const char *name;
		enum cfg_layer layers[2];
		size_t nlayers;
	} protos[] = {
		{ "tcp", { CFG_TCP, CFG_HTTP }, 2 },
		{ "udp", { CFG_UDP }, 1 },
	};
	struct fe_ref *refs;
	size_t total = 0, n;

	for (int l = 0; l < CFG_LAYERS; l++)
		total += c->layer[l].nfrontends;
	if (total > PAIRWISE_MAX)
		return;
	refs = cfg_alloc_array(px, total, sizeof(*refs));
	if (!refs)
		return;

	for (size_t pr = 0; pr < sizeof(protos) / sizeof(protos[0]); pr++) {
		n = 0;
		for (size_t k = 0; k < protos[pr].nlayers; k++) {
			const struct cfg_layer_cfg *lc = &c->layer[protos[pr].layers[k]];

			for (size_t i = 0; i < lc->nfrontends; i++) {
				const struct cfg_frontend *fe = &lc->frontends[i];

				if (!fe->disabled && fe->addr.family && fe->ports.n)
					refs[n++] = (struct fe_ref){ protos[pr].layers[k], i, fe };
			}
		}
		for (size_t b = 1; b < n; b++) {
			for (size_t a = 0; a < b; a++) {
				uint32_t port;

				if (!addr_eq(&refs[a].fe->addr, &refs[b].fe->addr))
					continue;
				port = ports_overlap(&refs[a].fe->ports, &refs[b].fe->ports);
				if (port)
					report_claim(px, &refs[a], &refs[b], port, protos[pr].name);
			}
		}
	}
	free(refs);
}

void cfg_validate(struct pctx *px, const struct config *c)
{
	for (int l = 0; l < CFG_LAYERS; l++) {
		for (size_t j = 0; j < c->layer[l].nfarms; j++)
			validate_farm(px, l, &c->layer[l], j);
		validate_frontends(px, l, &c->layer[l]);
	}
	validate_limits(px, c);
	validate_claims(px, c);
}
