/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The config model: the JSON document of DESIGN.md section 4, parsed (jansson) and validated
 * whole. It is the one source of truth that the dataplane and the L7 path are compiled from.
 *
 * Validation reports every error, each as "<json path>: <what is wrong>", e.g.
 *   tcp.farm[0].server[2].weight: 300 is out of range 1..256
 * and a config with any error is not returned at all.
 */
#ifndef LIMPET_CONFIG_H
#define LIMPET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum cfg_layer { CFG_TCP, CFG_UDP, CFG_HTTP, CFG_LAYERS };
enum cfg_balance { BAL_FIRST, BAL_LEASTCONN, BAL_ROUNDROBIN, BAL_SOURCE, BAL_URI };
enum cfg_stickiness { STICK_NULL, STICK_SOURCE_IP, STICK_COOKIE };
enum cfg_forwarding { FWD_DSR, FWD_IPIP };

#define CFG_WEIGHT_MIN		1
#define CFG_WEIGHT_MAX		256
#define CFG_NAME_MAX		32	/* serviceName: [A-Za-z0-9_-], it names the pin folder */

struct cfg_addr {
	uint8_t family;		/* 4 or 6 (LB_V4 / LB_V6) */
	uint32_t addr[4];	/* network order, IPv4 in [0] */
};

struct cfg_cidr {
	struct cfg_addr addr;
	uint8_t len;
};

struct cfg_ports {		/* "80", "80,443", "8000-8100" */
	size_t n;
	struct { uint16_t lo, hi; } *range;
};

struct cfg_probe {
	bool present;
	char *type;		/* tcp|http|smtp|mysql|pgsql */
	uint32_t interval;	/* seconds, >= 1 */
	uint16_t port;		/* 0: the server's port */
	char *url, *method, *match, *pattern;
	bool negate, force_ssl;
	uint32_t rise, fall;
};

struct cfg_server {
	uint32_t id;
	char *display_name;
	struct cfg_addr addr;
	uint16_t port;		/* 0: the farm's */
	uint32_t weight;
	bool active;		/* status "active" */
	bool backup;
	bool probe;
	char *on_marked_down;	/* NULL or "shutdown-sessions" */
	char *proxy_protocol;	/* NULL, "v1" or "v2" */
};

struct cfg_farm {
	uint32_t id;
	char *display_name;
	uint16_t port;
	enum cfg_balance balance;
	enum cfg_stickiness stickiness;
	enum cfg_forwarding forwarding;
	uint32_t stickiness_timeout;	/* seconds, 0: default */
	uint32_t table_size;		/* maglevTableSize, 0: default */
	char *cookie_name;
	struct cfg_probe probe;
	size_t nservers;
	struct cfg_server *servers;
};

struct cfg_frontend {
	uint32_t id;
	char *display_name;
	struct cfg_addr addr;
	struct cfg_ports ports;
	uint32_t default_farm;	/* farmId in the same layer */
	size_t nallowed;
	struct cfg_cidr *allowed;
	bool disabled;
};

struct cfg_layer_cfg {
	size_t nfrontends;
	struct cfg_frontend *frontends;
	size_t nfarms;
	struct cfg_farm *farms;
};

struct config {
	char *service_name;
	char *zone;
	uint64_t hash_seed;
	struct cfg_layer_cfg layer[CFG_LAYERS];
};

struct cfg_errors {
	size_t n;
	char **msg;
};

/* Parse and validate; 0 and *out set, or -EINVAL with every problem in errs (which the
 * caller frees with cfg_errors_free), or -ENOMEM / -errno for the file. */
int config_parse(const char *text, size_t len, struct config **out, struct cfg_errors *errs);
int config_load_file(const char *path, struct config **out, struct cfg_errors *errs);
void config_free(struct config *c);
void cfg_errors_free(struct cfg_errors *e);

/* The document back (round-trips through config_parse), new reference. */
json_t *config_to_json(const struct config *c);

const char *cfg_layer_name(enum cfg_layer l);
const struct cfg_farm *config_find_farm(const struct config *c, enum cfg_layer l, uint32_t id);

#endif /* LIMPET_CONFIG_H */
