/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The config model: the JSON document of DESIGN.md section 4, parsed (jansson) and validated
 * whole. It is the one source of truth that the dataplane and the L7 path are compiled from.
 *
 * Validation reports every error (up to 1000; then how many more), each as "<json path>: <what
 * is wrong>", e.g.
 *   tcp.farm[0].server[2].weight: 300 is out of range 1..256
 * and a config with any error is not returned at all. Errors that concern no field have a
 * position instead: "(top level)", "<line>:<column>" of a JSON syntax error (prefixed with the
 * file name by config_load_file), or the file name when it cannot be read.
 *
 * The model holds effective values: defaults are filled in, except the few fields where 0 or
 * NULL is documented to mean "the default" (the consumer picks it, e.g. from abi.h).
 * A config that parsed is one limpet can serve as it is: tcp/udp farms (the XDP path) are
 * roundrobin|source with stickiness sourceIp|null, their servers have the address family and
 * (absent or equal) port of the frontends using their farm; http farms (the L7 proxy) take
 * every balance and stickiness, cookieName (cookie stickiness only), proxyProtocolVersion, and
 * refuse forwarding (the XDP path's); tlsTerminated is for http frontends only. No two enabled frontends of a protocol share an (address, port)
 * (http frontends are TCP: they count with tcp ones), and every abi.h limit (and
 * CFG_HTTP_PORTS_MAX) holds counting all frontends, disabled or not (so enabling one never
 * crosses a limit).
 * Hosted-product fields limpet does not serve (ssl, chain, vrackNetworkId) are refused unless
 * their value means "off" (false or null), so that an export of a service without them loads;
 * probe types oco and internal are refused.
 */
#ifndef LIMPET_CONFIG_H
#define LIMPET_CONFIG_H

#include <netinet/in.h>
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
#define CFG_HTTP_PORTS_MAX	1024	/* ports of all http frontends: a listener each per worker */
#define CFG_HTTP_PORT_DEFAULT	80	/* an http server's port: its own, else its farm's, else this */

struct cfg_addr {
	uint8_t family;		/* 4 or 6 (LB_V4 / LB_V6) */
	uint32_t addr[4];	/* network order, IPv4 in [0] */
};

struct cfg_cidr {
	struct cfg_addr addr;	/* host bits are zero (a prefix with host bits set is refused) */
	uint8_t len;		/* a bare address in the document is a /32 or /128 */
};

struct cfg_ports {		/* "80", "80,443", "8000-8100": sorted, disjoint, non-adjacent */
	size_t n;
	struct { uint16_t lo, hi; } *range;
};

struct cfg_probe {
	bool present;
	char *type;		/* tcp|http|smtp|mysql|pgsql */
	uint32_t interval;	/* seconds, 1..3600, default 30 */
	uint32_t timeout;	/* seconds, 1..3600 and <= interval, default min(interval, 5) */
	uint16_t port;		/* 0: the server's port */
	char *url, *method;	/* NULL if unset; only an http probe may set them */
	char *match;		/* default|status|contains|matches, never NULL when present */
	char *pattern;		/* NULL if unset; required when match is not "default" */
	bool negate, force_ssl;
	uint32_t rise, fall;	/* 1..100, default 2 and 3 */
};

struct cfg_server {
	uint32_t id;
	char *display_name;
	struct cfg_addr addr;
	uint16_t port;		/* 0: the farm's (for dsr/ipip: equal to the frontend's anyway;
				 * http: the farm's, else CFG_HTTP_PORT_DEFAULT) */
	uint32_t weight;	/* 1..256, default 1 */
	bool active;		/* status "active" */
	bool backup;
	bool probe;
	char *on_marked_down;	/* NULL or "shutdown-sessions" */
	char *proxy_protocol;	/* NULL, "v1" or "v2" */
};

struct cfg_farm {
	uint32_t id;
	char *display_name;
	uint16_t port;			/* 0: unset */
	enum cfg_balance balance;
	enum cfg_stickiness stickiness;
	enum cfg_forwarding forwarding;
	uint32_t stickiness_timeout;	/* seconds, 0: LB_STICKY_TIMEOUT_DEFAULT */
	uint32_t table_size;		/* maglevTableSize, prime >= nservers; 0: LB_RING_DEFAULT */
	char *cookie_name;		/* NULL: L7_COOKIE_NAME_DEFAULT (l7/cookie.h) */
	struct cfg_probe probe;		/* present: false when the farm has none */
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
	bool tls_terminated;	/* tlsTerminated (http): TLS ended upstream, cookies get Secure */
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
	uint64_t hash_seed;	/* hashSeed, default: a fixed hash of service_name */
	struct cfg_layer_cfg layer[CFG_LAYERS];
};

struct cfg_errors {
	size_t n;
	char **msg;
};

/*
 * Parse and validate; 0 and *out set, or -EINVAL with every problem in errs, or -ENOMEM, or
 * -errno when the file cannot be read (one error naming it). *out is NULL on failure. errs is
 * overwritten (it need not be initialised; free an earlier one first), may be NULL, and is
 * freed by the caller with cfg_errors_free() whatever the result.
 */
int config_parse(const char *text, size_t len, struct config **out, struct cfg_errors *errs);
int config_load_file(const char *path, struct config **out, struct cfg_errors *errs);
/* The same from a document already parsed (the API's staged tree); root is not changed. */
int config_from_json(json_t *root, struct config **out, struct cfg_errors *errs);
void config_free(struct config *c);
void cfg_errors_free(struct cfg_errors *e);

/*
 * The canonical document, new reference (NULL on allocation failure); config_parse() of it
 * gives an equal config. Every field with its effective value, except those left unset: NULL
 * strings, 0 ports, 0 stickinessTimeout / maglevTableSize (the defaults) and an absent probe
 * are omitted. stickiness null is JSON null, as the hosted API writes it (the string "null"
 * is accepted on input too); hashSeed is 16 lowercase hex digits; port strings are the
 * normalised list ("80-81,443"); allowedSource entries always carry their length. The
 * read-only server cookie is not written, nor are refused fields: forwarding is written for
 * tcp/udp farms only, tlsTerminated for http frontends only.
 */
json_t *config_to_json(const struct config *c);

const char *cfg_layer_name(enum cfg_layer l);
const struct cfg_farm *config_find_farm(const struct config *c, enum cfg_layer l, uint32_t id);
/* The same address (family and bytes). */
bool cfg_addr_eq(const struct cfg_addr *a, const struct cfg_addr *b);
/* An address as text ("?" if it cannot be). */
const char *cfg_addr_str(const struct cfg_addr *a, char buf[INET6_ADDRSTRLEN]);

#endif /* LIMPET_CONFIG_H */
