// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The model back to the canonical document (config_to_json; config.h says what is written and
 * what is left out). It only reads a config that parsed, so there is nothing to report but an
 * allocation failure.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config/config-int.h"

struct jctx {
	bool ok;
};

/* Set o[key] = v (stealing v); a NULL v (allocation failure) marks the document failed. */
static void put(struct jctx *jx, json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v))
		jx->ok = false;
}

static void put_str(struct jctx *jx, json_t *o, const char *key, const char *s)
{
	if (s)
		put(jx, o, key, json_string(s));
}

static void append(struct jctx *jx, json_t *a, json_t *v)
{
	if (!v || json_array_append_new(a, v))
		jx->ok = false;
}

static json_t *addr_json(const struct cfg_addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	return json_string(cfg_addr_str(a, buf));
}

static json_t *probe_json(struct jctx *jx, const struct cfg_probe *pr)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	put_str(jx, o, "type", pr->type);
	put(jx, o, "interval", json_integer(pr->interval));
	put(jx, o, "timeout", json_integer(pr->timeout));
	if (pr->port)
		put(jx, o, "port", json_integer(pr->port));
	put_str(jx, o, "url", pr->url);
	put_str(jx, o, "method", pr->method);
	put_str(jx, o, "match", pr->match ? pr->match : "default");
	put_str(jx, o, "pattern", pr->pattern);
	put(jx, o, "negate", json_boolean(pr->negate));
	put(jx, o, "forceSsl", json_boolean(pr->force_ssl));
	put(jx, o, "rise", json_integer(pr->rise));
	put(jx, o, "fall", json_integer(pr->fall));
	return o;
}

static json_t *server_json(struct jctx *jx, const struct cfg_server *s)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	put(jx, o, "serverId", json_integer(s->id));
	put_str(jx, o, "displayName", s->display_name);
	put(jx, o, "address", addr_json(&s->addr));
	if (s->port)
		put(jx, o, "port", json_integer(s->port));
	put(jx, o, "weight", json_integer(s->weight));
	put(jx, o, "status", json_string(s->active ? "active" : "inactive"));
	put(jx, o, "backup", json_boolean(s->backup));
	put(jx, o, "probe", json_boolean(s->probe));
	put_str(jx, o, "onMarkedDown", s->on_marked_down);
	put_str(jx, o, "proxyProtocolVersion", s->proxy_protocol);
	return o;
}

static json_t *farm_json(struct jctx *jx, enum cfg_layer l, const struct cfg_farm *f)
{
	json_t *o = json_object(), *servers = json_array();

	if (!o || !servers) {
		json_decref(o);
		json_decref(servers);
		return NULL;
	}
	put(jx, o, "farmId", json_integer(f->id));
	put_str(jx, o, "displayName", f->display_name);
	if (f->port)
		put(jx, o, "port", json_integer(f->port));
	put(jx, o, "balance", json_string(cfg_balance_names[f->balance]));
	put(jx, o, "stickiness", f->stickiness == STICK_NULL ? json_null() :
	    json_string(cfg_stickiness_names[f->stickiness]));
	if (l != CFG_HTTP)
		put(jx, o, "forwarding", json_string(cfg_forwarding_names[f->forwarding]));
	if (f->stickiness_timeout)
		put(jx, o, "stickinessTimeout", json_integer(f->stickiness_timeout));
	if (f->table_size)
		put(jx, o, "maglevTableSize", json_integer(f->table_size));
	put_str(jx, o, "cookieName", f->cookie_name);
	if (f->probe.present)
		put(jx, o, "probe", probe_json(jx, &f->probe));
	for (size_t k = 0; k < f->nservers; k++)
		append(jx, servers, server_json(jx, &f->servers[k]));
	put(jx, o, "server", servers);
	return o;
}

static json_t *frontend_json(struct jctx *jx, enum cfg_layer l, const struct cfg_frontend *fe)
{
	json_t *o = json_object(), *acl = json_array();
	char net[INET6_ADDRSTRLEN + 5], a[INET6_ADDRSTRLEN], *ports;

	if (!o || !acl) {
		json_decref(o);
		json_decref(acl);
		return NULL;
	}
	put(jx, o, "frontendId", json_integer(fe->id));
	put_str(jx, o, "displayName", fe->display_name);
	put(jx, o, "address", addr_json(&fe->addr));
	ports = cfg_ports_str(&fe->ports);
	put(jx, o, "port", ports ? json_string(ports) : NULL);
	free(ports);
	put(jx, o, "defaultFarmId", json_integer(fe->default_farm));
	for (size_t i = 0; i < fe->nallowed; i++) {
		snprintf(net, sizeof(net), "%s/%u", cfg_addr_str(&fe->allowed[i].addr, a),
			 fe->allowed[i].len);
		append(jx, acl, json_string(net));
	}
	put(jx, o, "allowedSource", acl);
	put(jx, o, "disabled", json_boolean(fe->disabled));
	if (l == CFG_HTTP)
		put(jx, o, "tlsTerminated", json_boolean(fe->tls_terminated));
	return o;
}

json_t *config_to_json(const struct config *c)
{
	struct jctx jx = { .ok = true };
	char seed[17];
	json_t *root;

	if (!c)
		return NULL;
	root = json_object();
	if (!root)
		return NULL;
	put_str(&jx, root, "serviceName", c->service_name);
	put_str(&jx, root, "zone", c->zone);
	snprintf(seed, sizeof(seed), "%016llx", (unsigned long long)c->hash_seed);
	put(&jx, root, "hashSeed", json_string(seed));
	for (int l = 0; l < CFG_LAYERS; l++) {
		const struct cfg_layer_cfg *lc = &c->layer[l];
		json_t *layer = json_object(), *fes = json_array(), *farms = json_array();

		if (!layer || !fes || !farms) {
			json_decref(layer);
			json_decref(fes);
			json_decref(farms);
			jx.ok = false;
			break;
		}
		for (size_t i = 0; i < lc->nfrontends; i++)
			append(&jx, fes, frontend_json(&jx, l, &lc->frontends[i]));
		for (size_t j = 0; j < lc->nfarms; j++)
			append(&jx, farms, farm_json(&jx, l, &lc->farms[j]));
		put(&jx, layer, "frontend", fes);
		put(&jx, layer, "farm", farms);
		put(&jx, root, cfg_layer_name(l), layer);
	}
	if (!jx.ok) {
		json_decref(root);
		return NULL;
	}
	return root;
}
