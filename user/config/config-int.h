/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internal to the config module: included by its files (common.c, parse.c, check.c, json.c,
 * load.c) only. The module's contract with the rest of limpet is config.h.
 *
 * What the files share: the error collector the two passes report into, the JSON paths the
 * errors carry, the names and text of model values, and the two passes themselves.
 */
#ifndef LIMPET_CONFIG_INT_H
#define LIMPET_CONFIG_INT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"

/* Longest path: http.farm[N].server[N].proxyProtocolVersion, with room to spare. */
#define PATH_LEN		128

/* One config_parse(): every error of both passes, and whether an allocation failed. */
struct pctx {
	struct cfg_errors *errs;	/* NULL: count only */
	size_t nerr;
	bool oom;
};

/* errors and paths (common.c); errors past CFG_ERRORS_MAX are counted, not kept */
#define CFG_ERRORS_MAX		1000
void __attribute__((format(printf, 3, 4)))
cfg_err_at(struct pctx *px, const char *path, const char *fmt, ...);
void cfg_path_fit(char *out, int len);
void cfg_path_key(char *out, const char *parent, const char *key);
void cfg_path_idx(char *out, const char *parent, const char *key, size_t i);
void *cfg_alloc_array(struct pctx *px, size_t n, size_t size);

/* names and text of model values (common.c); the tables are indexed by the enums of config.h */
extern const char *const cfg_balance_names[];
extern const char *const cfg_stickiness_names[];
extern const char *const cfg_forwarding_names[];
const char *cfg_family_name(uint8_t family);
char *cfg_ports_str(const struct cfg_ports *p);
int cfg_farm_index(const struct cfg_layer_cfg *lc, uint32_t id);

/* the two passes: parse fills c from the document (parse.c), validate checks it whole
 * (check.c); both report into px and go on */
void cfg_parse_root(struct pctx *px, json_t *root, struct config *c);
void cfg_validate(struct pctx *px, const struct config *c);

#endif /* LIMPET_CONFIG_INT_H */
