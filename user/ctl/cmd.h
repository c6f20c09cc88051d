/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpetctl's commands: the table entry each one is, what a handler is given, and the
 * handlers. A handler checks all its arguments before it asks anything of limpetd, so that a
 * usage error never depends on a daemon. Handlers return 0 or a negative errno, reported where
 * it arose; -EINVAL means a usage error (exit 2), anything else a failure (exit 1).
 */
#ifndef LIMPET_CTL_CMD_H
#define LIMPET_CTL_CMD_H

#include <getopt.h>
#include <stdbool.h>

#include <jansson.h>

struct client;
struct ctx;

/* An option: getopt_long's entry and its --help line, from one table. */
struct opt_doc {
	struct option o;
	const char *arg, *help;
};

/* A column of a list: header, and the field shown: "probe.type" reads a nested field,
 * "#server" counts the entries of an array. */
struct column {
	const char *header, *field;
};

/* A kind of resource of the API's tree (docs/api.md). */
struct res_type {
	const char *name;		/* "farm": path segment and config document key */
	bool in_farm;			/* servers live under /{layer}/farm/{farmId} */
	const char *const *strings;	/* fields whose VALUE is sent as a string even when it
					 * reads as a JSON number or boolean (NULL-terminated) */
	const struct column *columns;	/* what `list` shows (NULL-terminated by header) */
};

struct cmd {
	const char *name;		/* the words that select it: "farm add" */
	const char *args;		/* its arguments, for --help: "LAYER [FIELD=VALUE...]" */
	const char *help;
	int (*run)(struct ctx *ctx, int argc, char **argv);	/* argv: the arguments only */
	const struct res_type *res;	/* resource commands: which kind */
	const struct opt_doc *opts;	/* its own options, besides the global ones */
};

struct ctx {
	const struct cmd *cmd;
	struct client *client;
	const char *api, *token_file;
	const char *service;		/* --service, or the one limpetd serves (asked once) */
	char *service_found;
	bool json;
	/* the commands' own options */
	const char *zone;
	bool staged, keep_dataplane;
};

/* Report a usage error of the current command on one line; returns -EINVAL. */
int usage_err(const struct ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* method on /ipLoadbalancing/{serviceName} followed by the formatted suffix (client_call()'s
 * contract). The serviceName is resolved on first use. */
int svc_call(struct ctx *ctx, const char *method, const json_t *body, json_t **answer,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The answer as --json asks: pretty JSON, or "field  value" lines. */
int ctx_print(const struct ctx *ctx, json_t *answer);

extern const struct res_type res_frontend, res_farm, res_server;

/* res.c: frontend, farm and server commands (ctx->cmd->res says which) */
int do_res_list(struct ctx *ctx, int argc, char **argv);
int do_res_show(struct ctx *ctx, int argc, char **argv);
int do_res_add(struct ctx *ctx, int argc, char **argv);
int do_res_set(struct ctx *ctx, int argc, char **argv);
int do_res_del(struct ctx *ctx, int argc, char **argv);
/* svc.c: the service's own commands */
int do_refresh(struct ctx *ctx, int argc, char **argv);
int do_pending(struct ctx *ctx, int argc, char **argv);
int do_status(struct ctx *ctx, int argc, char **argv);
int do_shutdown(struct ctx *ctx, int argc, char **argv);
int do_drain(struct ctx *ctx, int argc, char **argv);
int do_config_export(struct ctx *ctx, int argc, char **argv);
int do_config_import(struct ctx *ctx, int argc, char **argv);
/* stats.c */
int do_stats(struct ctx *ctx, int argc, char **argv);

#endif /* LIMPET_CTL_CMD_H */
