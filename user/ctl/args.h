/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The grammar of the resource commands' arguments: LAYER, ids, FIELD=VALUE. Each parser
 * reports a usage error of ctx's command itself and returns -EINVAL.
 */
#ifndef LIMPET_CTL_ARGS_H
#define LIMPET_CTL_ARGS_H

#include <stdint.h>

#include <jansson.h>

#include "ctl/cmd.h"

/* tcp, udp, http and NULL */
extern const char *const arg_layers[];

/* one of arg_layers; s NULL: missing */
int arg_layer(const struct ctx *ctx, const char *s, const char **layer);

/* A resource id, decimal 1..UINT32_MAX (what names it in --help: "ID", "FARM"); s NULL:
 * missing */
int arg_id(const struct ctx *ctx, const char *what, const char *s, uint32_t *id);

/*
 * FIELD=VALUE arguments into a new object (*out). VALUE is JSON where it parses as JSON,
 * else the string itself; a field listed in rt->strings takes VALUE as a string unless VALUE
 * is a JSON string or null. A field given twice is an error.
 */
int arg_fields(const struct ctx *ctx, const struct res_type *rt, int argc, char **argv,
	       json_t **out);

#endif /* LIMPET_CTL_ARGS_H */
