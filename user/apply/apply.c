// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apply.h"
#include "common/log.h"

/* Which (layer, id) holds a dataplane slot. */
struct slot_owner {
	bool used;
	enum cfg_layer layer;
	uint32_t id;
};

struct slots {
	struct slot_owner farm[LB_FARMS_MAX];
	struct slot_owner frontend[LB_FRONTENDS_MAX];
};

/* The VIPs and allowedSource prefixes a config compiles to. */
struct compiled {
	struct dp_vip *vips;
	size_t nvips;
	struct dp_acl *acls;
	size_t nacls;
};

struct applier {
	struct compiled last;		/* of the applied config: an equal one syncs nothing */
	struct slots slots;		/* of the applied config: changed only by a successful apply */
	struct slots next;		/* scratch of apply_once: the slots being applied */
	struct slot_owner want[LB_FRONTENDS_MAX];	/* scratch: owners wanted by the config */
	struct lb_owners rec;		/* scratch: slots as the dataplane records them */
	const struct config *applied;	/* borrowed: the caller keeps it alive until next apply */
	applier_probe_fn probe_up;	/* NULL: every server is up */
	void *probe_arg;
};

static const enum cfg_layer xdp_layers[] = { CFG_TCP, CFG_UDP };
/* Layers with frontends in the vips map: http frontends are VIP keys too (LB_VIP_F_L7: the
 * program applies their allowedSource, counts them and passes them up to the L7 proxy), but
 * their farms are the proxy's, not the dataplane's. */
static const enum cfg_layer vip_layers[] = { CFG_TCP, CFG_UDP, CFG_HTTP };
#define NLAYERS(a)	(sizeof(a) / sizeof((a)[0]))

int applier_new(struct applier **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void compiled_free(struct compiled *c)
{
	free(c->vips);
	free(c->acls);
	*c = (struct compiled){ 0 };
}

void applier_free(struct applier *ap)
{
	if (ap)
		compiled_free(&ap->last);
	free(ap);
}

/* A refresh of 1000 frontends usually changes none: their 1000+ map updates are skipped. */
static bool compiled_same(const struct compiled *a, const struct compiled *b)
{
	return a->vips && a->nvips == b->nvips && a->nacls == b->nacls &&
	       !memcmp(a->vips, b->vips, a->nvips * sizeof(*a->vips)) &&
	       !memcmp(a->acls, b->acls, a->nacls * sizeof(*a->acls));
}

static int slot_find(const struct slot_owner *s, size_t n, enum cfg_layer l, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].used && s[i].layer == l && s[i].id == id)
			return i;
	return -1;
}

/*
 * Slots of `want` (layer, id) pairs into next, from the current ones in cur: kept ones stay,
 * new ones take the lowest slot free in both. A slot let go by this apply is handed to a new
 * owner only when no other is left: until the VIPs move, the old owner's still point at it.
 */
static int slots_assign(const struct slot_owner *cur, struct slot_owner *next, size_t n,
			const struct slot_owner *want, size_t nwant)
{
	size_t free_slot = 0, reuse_slot = 0;

	memset(next, 0, n * sizeof(*next));
	for (size_t i = 0; i < nwant; i++) {
		int old = slot_find(cur, n, want[i].layer, want[i].id);

		if (old >= 0)
			next[old] = want[i];
	}
	for (size_t i = 0; i < nwant; i++) {
		if (slot_find(next, n, want[i].layer, want[i].id) >= 0)
			continue;
		while (free_slot < n && (next[free_slot].used || cur[free_slot].used))
			free_slot++;
		if (free_slot < n) {
			next[free_slot] = want[i];
			continue;
		}
		while (reuse_slot < n && next[reuse_slot].used)
			reuse_slot++;
		if (reuse_slot == n)
			return -ENOSPC;
		next[reuse_slot] = want[i];
	}
	return 0;
}

/* balance "source" hashes the client address like sourceIp stickiness does; the sticky
 * table only keeps that choice stable across config changes. */
static uint8_t stickiness_of(const struct cfg_farm *f)
{
	return f->stickiness == STICK_SOURCE_IP || f->balance == BAL_SOURCE ? LB_STICKY_SOURCE_IP
									     : LB_STICKY_NONE;
}

void applier_set_probe(struct applier *ap, applier_probe_fn up, void *arg)
{
	ap->probe_up = up;
	ap->probe_arg = arg;
}

bool server_up(const struct applier *ap, enum cfg_layer l, uint32_t farm,
	       const struct cfg_server *s)
{
	return s->active && (!ap->probe_up || ap->probe_up(ap->probe_arg, l, farm, s->id));
}

bool farm_primary_up(const struct applier *ap, enum cfg_layer l, const struct cfg_farm *f)
{
	for (size_t i = 0; i < f->nservers; i++)
		if (!f->servers[i].backup && server_up(ap, l, f->id, &f->servers[i]))
			return true;
	return false;
}

bool http_server_eligible(void *arg, const struct cfg_farm *f, const struct cfg_server *s)
{
	struct http_eligibility *e = arg;

	if (e->farm != f) {
		e->farm = f;
		e->primary_up = farm_primary_up(e->ap, CFG_HTTP, f);
	}
	return server_eligible(e->ap, CFG_HTTP, f, s, e->primary_up);
}

/* Down by its probe alone: its established connections stay, unless it asked otherwise. */
static bool keeps_flows(const struct applier *ap, enum cfg_layer l, const struct cfg_farm *f,
			const struct cfg_server *s)
{
	return s->active && !server_up(ap, l, f->id, s) &&
	       !(s->on_marked_down && !strcmp(s->on_marked_down, "shutdown-sessions"));
}

static int farm_push(const struct applier *ap, const struct slots *sl, struct dataplane *dp,
		     const struct config *cfg, enum cfg_layer l, const struct cfg_farm *f,
		     struct apply_counts *c)
{
	struct dp_server *sv = calloc(f->nservers ? f->nservers : 1, sizeof(*sv));
	bool primary_up = farm_primary_up(ap, l, f);
	struct dp_farm df = {
		.slot = slot_find(sl->farm, LB_FARMS_MAX, l, f->id),
		.seed = cfg->hash_seed,
		.ring_size = f->table_size,
		.timeout = f->stickiness_timeout,
		.stickiness = stickiness_of(f),
		.forwarding = f->forwarding == FWD_IPIP ? LB_FWD_IPIP : LB_FWD_DSR,
		.nservers = f->nservers,
		.servers = sv,
	};
	int err;

	if (!sv)
		return -ENOMEM;
	for (size_t i = 0; i < f->nservers; i++) {
		const struct cfg_server *s = &f->servers[i];

		sv[i] = (struct dp_server){
			.id = s->id,
			.family = s->addr.family,
			.weight = s->weight,
			.eligible = server_eligible(ap, l, f, s, primary_up),
		};
		memcpy(sv[i].addr, s->addr.addr, sizeof(sv[i].addr));
		sv[i].keep_flows = !sv[i].eligible && keeps_flows(ap, l, f, s);
		sv[i].probe_down = s->active && !server_up(ap, l, f->id, s);
		c->eligible += sv[i].eligible;
	}
	err = dataplane_farm_set(dp, &df);
	if (err)
		pr_err("%s farm %u: %s", cfg_layer_name(l), f->id, strerror(-err));
	c->servers += f->nservers;
	free(sv);
	return err;
}

/* Every changed farm is swapped in by one update (one RCU grace period for the whole
 * apply). What a failure left swapped in is reverted by the caller re-applying the previous
 * config. */
static int farms_push(const struct applier *ap, const struct slots *sl, struct dataplane *dp,
		      const struct config *cfg, struct apply_counts *c)
{
	int err = 0, cerr;

	dataplane_batch_begin(dp);
	for (size_t li = 0; li < NLAYERS(xdp_layers) && !err; li++) {
		const struct cfg_layer_cfg *lc = &cfg->layer[xdp_layers[li]];

		for (size_t i = 0; i < lc->nfarms && !err; i++)
			err = farm_push(ap, sl, dp, cfg, xdp_layers[li], &lc->farms[i], c);
		c->farms += lc->nfarms;
	}
	cerr = dataplane_batch_commit(dp);
	return err ?: cerr;
}

/* The http layer's farms are the L7 proxy's, not the dataplane's: counted all the same. */
static void count_http(const struct applier *ap, const struct config *cfg,
		       struct apply_counts *c)
{
	const struct cfg_layer_cfg *lc = &cfg->layer[CFG_HTTP];
	struct http_eligibility el = { .ap = ap };

	c->farms += lc->nfarms;
	for (size_t i = 0; i < lc->nfarms; i++) {
		c->servers += lc->farms[i].nservers;
		for (size_t j = 0; j < lc->farms[i].nservers; j++)
			c->eligible += http_server_eligible(&el, &lc->farms[i],
							    &lc->farms[i].servers[j]);
	}
}

/* Non-first fragments carry no port: they can follow a VIP address only where every
 * frontend of that address and protocol leads to the same sourceIp farm. */
static bool frag_key_ok(const struct config *cfg, enum cfg_layer l, const struct cfg_frontend *fe)
{
	const struct cfg_layer_cfg *lc = &cfg->layer[l];
	const struct cfg_farm *f = config_find_farm(cfg, l, fe->default_farm);

	if (!f || stickiness_of(f) != LB_STICKY_SOURCE_IP)
		return false;
	for (size_t i = 0; i < lc->nfrontends; i++) {
		const struct cfg_frontend *o = &lc->frontends[i];

		if (!o->disabled && !memcmp(&o->addr, &fe->addr, sizeof(o->addr)) &&
		    o->default_farm != fe->default_farm)
			return false;
	}
	return true;
}

static int compile_frontends(const struct slots *sl, const struct config *cfg,
			     struct compiled *out)
{
	size_t nv = 0, na = 0;

	for (size_t li = 0; li < NLAYERS(vip_layers); li++) {
		const struct cfg_layer_cfg *lc = &cfg->layer[vip_layers[li]];

		for (size_t i = 0; i < lc->nfrontends; i++) {
			nv += lc->frontends[i].ports.n;
			na += lc->frontends[i].nallowed;
		}
	}
	out->vips = calloc(nv ? nv : 1, sizeof(*out->vips));
	out->acls = calloc(na ? na : 1, sizeof(*out->acls));
	if (!out->vips || !out->acls)
		return -ENOMEM;
	for (size_t li = 0; li < NLAYERS(vip_layers); li++) {
		enum cfg_layer l = vip_layers[li];
		const struct cfg_layer_cfg *lc = &cfg->layer[l];

		for (size_t i = 0; i < lc->nfrontends; i++) {
			const struct cfg_frontend *fe = &lc->frontends[i];
			uint32_t slot = slot_find(sl->frontend, LB_FRONTENDS_MAX, l, fe->id);
			bool l7 = l == CFG_HTTP;
			/* the kernel reassembles an http VIP's fragments for the proxy */
			bool frag = !l7 && frag_key_ok(cfg, l, fe);
			/* the program never reads an L7 VIP's farm: slot 0 stands in */
			int farm = l7 ? 0 : slot_find(sl->farm, LB_FARMS_MAX, l, fe->default_farm);

			if (fe->disabled)
				continue;
			for (size_t p = 0; p < fe->ports.n; p++) {
				struct dp_vip *v = &out->vips[out->nvips++];

				*v = (struct dp_vip){
					.family = fe->addr.family,
					.proto = l == CFG_UDP ? IPPROTO_UDP : IPPROTO_TCP,
					.port_lo = fe->ports.range[p].lo,
					.port_hi = fe->ports.range[p].hi,
					.farm = farm,
					.frontend = slot,
					.flags = (fe->nallowed ? LB_VIP_F_ACL : 0) |
						 (l7 ? LB_VIP_F_L7 : 0),
					.frag_key = frag,
				};
				memcpy(v->addr, fe->addr.addr, sizeof(v->addr));
			}
			for (size_t a = 0; a < fe->nallowed; a++) {
				struct dp_acl *acl = &out->acls[out->nacls++];

				acl->frontend = slot;
				acl->family = fe->allowed[a].addr.family;
				acl->prefixlen = fe->allowed[a].len;
				memcpy(acl->addr, fe->allowed[a].addr.addr, sizeof(acl->addr));
			}
		}
	}
	return 0;
}

static int owners_of(const struct config *cfg, bool farms, struct slot_owner *out, size_t max,
		     size_t *n)
{
	*n = 0;
	for (size_t li = 0; li < NLAYERS(vip_layers); li++) {
		enum cfg_layer l = vip_layers[li];
		const struct cfg_layer_cfg *lc = &cfg->layer[l];
		size_t cnt = l == CFG_HTTP && farms ? 0 : farms ? lc->nfarms : lc->nfrontends;

		for (size_t i = 0; i < cnt; i++) {
			if (*n == max)
				return -ENOSPC;
			out[(*n)++] = (struct slot_owner){
				.used = true, .layer = l,
				.id = farms ? lc->farms[i].id : lc->frontends[i].id,
			};
		}
	}
	return 0;
}

/* A farm that is not in the dataplane (never pushed, or lost to a failed revert) is gone. */
static int farm_del(struct dataplane *dp, uint32_t slot)
{
	int err = dataplane_farm_del(dp, slot);

	return err == -ENOENT ? 0 : err;
}

/* A slot's owner as the dataplane records it, for a limpetd that adopts it (applier_adopt). */
static struct lb_owner owner_record(const struct slot_owner *o)
{
	static const uint8_t proto[CFG_LAYERS] = {
		[CFG_TCP] = IPPROTO_TCP, [CFG_UDP] = IPPROTO_UDP, [CFG_HTTP] = LB_OWNER_HTTP,
	};

	if (!o->used)
		return (struct lb_owner){ 0 };
	return (struct lb_owner){ .id = o->id, .proto = proto[o->layer] };
}

/* An owner from the dataplane's record: -EPROTO for a layer limpet does not put there. */
static int owner_recorded(const struct lb_owner *o, struct slot_owner *out)
{
	enum cfg_layer l;

	*out = (struct slot_owner){ 0 };
	if (!o->proto)
		return 0;
	if (o->proto == IPPROTO_TCP)
		l = CFG_TCP;
	else if (o->proto == IPPROTO_UDP)
		l = CFG_UDP;
	else if (o->proto == LB_OWNER_HTTP)
		l = CFG_HTTP;
	else
		return -EPROTO;
	*out = (struct slot_owner){ .used = true, .layer = l, .id = o->id };
	return 0;
}

static bool same_owner(const struct slot_owner *a, const struct slot_owner *b)
{
	return a->used == b->used && (!a->used || (a->layer == b->layer && a->id == b->id));
}

/*
 * Slots are committed to ap only when everything applied, so that the revert that follows a
 * failure puts every farm back into the slot it had (its sticky entries and counters are
 * keyed by it); what this attempt put into slots no applied farm holds is removed here.
 */
static int apply_once(struct applier *ap, struct dataplane *dp, const struct config *cfg,
		      struct apply_counts *c)
{
	struct slot_owner *want = ap->want;
	struct slots *next = &ap->next;
	const struct slot_owner *cur = ap->slots.farm;
	struct compiled comp = { 0 };
	size_t n;
	int err;

	memset(c, 0, sizeof(*c));
	err = owners_of(cfg, true, want, LB_FARMS_MAX, &n);
	err = err ?: slots_assign(cur, next->farm, LB_FARMS_MAX, want, n);
	err = err ?: owners_of(cfg, false, want, LB_FRONTENDS_MAX, &n);
	err = err ?: slots_assign(ap->slots.frontend, next->frontend, LB_FRONTENDS_MAX, want, n);
	if (err)
		return err;
	/* a farm taking over a slot (none other was free) starts from an empty one, not from
	 * the servers and counters of the farm that had it */
	for (int s = 0; s < LB_FARMS_MAX && !err; s++)
		if (cur[s].used && next->farm[s].used && !same_owner(&cur[s], &next->farm[s]))
			err = farm_del(dp, s);
	err = err ?: farms_push(ap, next, dp, cfg, c);
	err = err ?: compile_frontends(next, cfg, &comp);
	/* prefixes before the VIPs that need them, stale ones after the VIPs let go */
	if (!err && !compiled_same(&ap->last, &comp)) {
		for (size_t i = 0; i < comp.nacls && !err; i++)
			err = dataplane_acl_add(dp, &comp.acls[i]);
		err = err ?: dataplane_vips_sync(dp, comp.vips, comp.nvips);
		err = err ?: dataplane_acl_sync(dp, comp.acls, comp.nacls);
	}
	for (int s = 0; s < LB_FARMS_MAX && !err; s++)
		if (cur[s].used && !next->farm[s].used)
			err = farm_del(dp, s);
	for (size_t li = 0; li < NLAYERS(vip_layers); li++)
		c->frontends += cfg->layer[vip_layers[li]].nfrontends;
	count_http(ap, cfg, c);
	for (size_t i = 0; i < comp.nvips; i++)
		c->vip_keys += comp.vips[i].port_hi - comp.vips[i].port_lo + 1;
	c->acl = comp.nacls;
	compiled_free(&ap->last);
	if (!err)
		ap->last = comp;
	else
		compiled_free(&comp);
	if (!err) {
		for (size_t s = 0; s < LB_FARMS_MAX; s++)
			ap->rec.farm[s] = owner_record(&next->farm[s]);
		for (size_t s = 0; s < LB_FRONTENDS_MAX; s++)
			ap->rec.frontend[s] = owner_record(&next->frontend[s]);
		err = dataplane_owners_save(dp, &ap->rec);
	}
	if (!err) {
		ap->slots = *next;
		return 0;
	}
	for (int s = 0; s < LB_FARMS_MAX; s++)
		if (next->farm[s].used && !cur[s].used)
			farm_del(dp, s);
	return err;
}

int applier_apply(struct applier *ap, struct dataplane *dp, const struct config *cfg,
		  struct apply_counts *counts)
{
	struct apply_counts ignored;
	int err = apply_once(ap, dp, cfg, counts);

	if (!err) {
		ap->applied = cfg;
		return 0;
	}
	if (ap->applied && apply_once(ap, dp, ap->applied, &ignored))
		pr_err("reverting to the previous config failed too: the dataplane may be mixed");
	return err;
}

int applier_adopt(struct applier *ap, const struct dataplane *dp)
{
	struct slots *sl = &ap->slots;
	int err = dataplane_owners_load(dp, &ap->rec);

	for (size_t s = 0; s < LB_FARMS_MAX && !err; s++) {
		err = owner_recorded(&ap->rec.farm[s], &sl->farm[s]);
		/* a farm no record names: an apply put it there and was cut short. An owner
		 * that is no config's (layer CFG_LAYERS) makes the next apply remove it. */
		if (!err && !sl->farm[s].used && dataplane_has_farm(dp, s))
			sl->farm[s] = (struct slot_owner){ .used = true, .layer = CFG_LAYERS,
							   .id = s };
	}
	for (size_t s = 0; s < LB_FRONTENDS_MAX && !err; s++)
		err = owner_recorded(&ap->rec.frontend[s], &sl->frontend[s]);
	if (err)
		memset(sl, 0, sizeof(*sl));
	return err;
}

int applier_farm_slot(const struct applier *ap, enum cfg_layer l, uint32_t id)
{
	return slot_find(ap->slots.farm, LB_FARMS_MAX, l, id);
}

int applier_frontend_slot(const struct applier *ap, enum cfg_layer l, uint32_t id)
{
	return slot_find(ap->slots.frontend, LB_FRONTENDS_MAX, l, id);
}

bool applier_adopted_down(const struct applier *ap, const struct dataplane *dp,
			  enum cfg_layer l, uint32_t farm, uint32_t server)
{
	int slot = applier_farm_slot(ap, l, farm);

	return slot >= 0 && dataplane_server_probe_down(dp, slot, server);
}

void config_for_each_server(const struct config *cfg,
			    void (*fn)(const struct cfg_server *s, void *arg), void *arg)
{
	for (size_t li = 0; li < NLAYERS(xdp_layers); li++) {
		const struct cfg_layer_cfg *lc = &cfg->layer[xdp_layers[li]];

		for (size_t i = 0; i < lc->nfarms; i++)
			for (size_t j = 0; j < lc->farms[i].nservers; j++)
				fn(&lc->farms[i].servers[j], arg);
	}
}
