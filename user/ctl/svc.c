// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The service's own commands: refresh, pending, status, config export/import, shutdown,
 * drain/undrain. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/cmd.h"
#include "ctl/print.h"
#include "ctl/table.h"

static int no_args(const struct ctx *ctx, int argc, char **argv)
{
	return argc ? usage_err(ctx, "unexpected argument '%s'", argv[0]) : 0;
}

/* CHANGEs (docs/api.md) as a table: what refresh applied, or would apply. */
static int print_changes(const json_t *changes)
{
	static const char *const headers[] = { "ACTION", "RESOURCE", "FIELDS", NULL };
	struct table *t = table_new(headers);
	json_t *c, *f;
	size_t i, j;
	int err;

	if (!t)
		return -ENOMEM;
	json_array_foreach(changes, i, c) {
		char *fields = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&fields, &len);

		table_json(t, json_object_get(c, "action"));
		table_json(t, json_object_get(c, "resource"));
		if (m) {
			json_array_foreach(json_object_get(c, "fields"), j, f)
				fprintf(m, "%s%s", j ? "," : "",
					json_is_string(f) ? json_string_value(f) : "?");
			fclose(m);
		}
		table_put(t, m ? fields : NULL);
	}
	err = table_print(t, stdout);
	table_free(t);
	return err;
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* A string field of an answer, "?" when the daemon left it out. */
static const char *str_field(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "?";
}

int do_refresh(struct ctx *ctx, int argc, char **argv)
{
	json_t *body, *answer = NULL, *changes;
	int err = no_args(ctx, argc, argv);
	size_t n;

	if (err)
		return err;
	body = json_pack("{s:s}", "zone", ctx->zone ? ctx->zone : "all");
	if (!body)
		return -ENOMEM;
	err = svc_call(ctx, "POST", body, &answer, "/refresh");
	json_decref(body);
	if (err)
		return err;
	if (ctx->json) {
		err = print_json(answer, stdout);
		goto out;
	}
	changes = json_object_get(answer, "changes");
	n = json_array_size(changes);
	printf("applied zone %s in %.1f ms: %zu change%s\n", str_field(answer, "zone"),
	       json_number_value(json_object_get(answer, "durationMs")), n, plural(n));
	err = n ? print_changes(changes) : 0;
out:
	json_decref(answer);
	return err;
}

int do_pending(struct ctx *ctx, int argc, char **argv)
{
	json_t *answer = NULL, *zone, *changes;
	int err = no_args(ctx, argc, argv);
	size_t i, n;

	if (err)
		return err;
	err = svc_call(ctx, "GET", NULL, &answer, "/pendingChanges");
	if (err)
		return err;
	if (ctx->json) {
		err = print_json(answer, stdout);
		goto out;
	}
	json_array_foreach(answer, i, zone) {
		changes = json_object_get(zone, "changes");
		n = json_integer_value(json_object_get(zone, "number"));
		printf("zone %s: %zu pending change%s\n", str_field(zone, "zone"), n, plural(n));
		err = json_array_size(changes) ? print_changes(changes) : 0;
		if (err)
			break;
	}
out:
	json_decref(answer);
	return err;
}

int do_status(struct ctx *ctx, int argc, char **argv)
{
	json_t *answer = NULL;
	int err = no_args(ctx, argc, argv);

	if (err)
		return err;
	err = svc_call(ctx, "GET", NULL, &answer, "/status");
	if (!err)
		err = ctx_print(ctx, answer);
	json_decref(answer);
	return err;
}

int do_shutdown(struct ctx *ctx, int argc, char **argv)
{
	json_t *body, *answer = NULL;
	int err = no_args(ctx, argc, argv);

	if (err)
		return err;
	body = json_pack("{s:b}", "keepDataplane", ctx->keep_dataplane);
	if (!body)
		return -ENOMEM;
	err = svc_call(ctx, "POST", body, &answer, "/shutdown");
	json_decref(body);
	if (err)
		return err;
	if (ctx->json)
		err = print_json(answer, stdout);
	else if (json_is_true(json_object_get(answer, "keepDataplane")))
		printf("limpetd is stopping; the dataplane stays attached for the next limpetd\n");
	else
		printf("limpetd is stopping; the dataplane is detached\n");
	json_decref(answer);
	return err;
}

/* drain and undrain (ctx->cmd->name says which): the VIPs' announcement state after it */
int do_drain(struct ctx *ctx, int argc, char **argv)
{
	bool drain = !strcmp(ctx->cmd->name, "drain");
	json_t *answer = NULL;
	int err = no_args(ctx, argc, argv);

	if (err)
		return err;
	err = svc_call(ctx, "POST", NULL, &answer, drain ? "/drain" : "/undrain");
	if (err)
		return err;
	if (!ctx->json)
		printf(drain ? "draining: every VIP withdrawn, forwarding goes on (limpetctl "
			       "shutdown once the routers have moved the traffic)\n"
			     : "undrained: the VIPs ready to serve are announced\n");
	err = ctx_print(ctx, answer);
	json_decref(answer);
	return err;
}

int do_config_export(struct ctx *ctx, int argc, char **argv)
{
	const char *file = argc ? argv[0] : NULL;
	json_t *doc = NULL;
	FILE *out = stdout;
	int err;

	if (argc > 1)
		return usage_err(ctx, "unexpected argument '%s'", argv[1]);
	err = svc_call(ctx, "GET", NULL, &doc, "/config%s", ctx->staged ? "?staged=1" : "");
	if (err)
		return err;
	if (file) {
		out = fopen(file, "we");
		if (!out) {
			err = -errno;
			fprintf(stderr, "limpetctl: %s: %s\n", file, strerror(-err));
			goto out;
		}
	}
	err = print_json(doc, out);
	if (file && fclose(out) && !err)
		err = -errno;
	if (err)
		fprintf(stderr, "limpetctl: %s: %s\n", file ? file : "stdout", strerror(-err));
out:
	json_decref(doc);
	return err;
}

/* FILE, or stdin for "-", as JSON; -EBADMSG (reported) when it is not */
static int load_doc(const char *file, json_t **doc)
{
	bool std = !strcmp(file, "-");
	json_error_t jerr;

	if (std)
		*doc = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
	else
		*doc = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (*doc)
		return 0;
	/* jansson's text names a file it could not open; a syntax error has a position */
	if (jerr.line < 1)
		fprintf(stderr, "limpetctl: %s\n", jerr.text);
	else
		fprintf(stderr, "limpetctl: %s:%d:%d: %s\n", std ? "stdin" : file, jerr.line,
			jerr.column, jerr.text);
	return -EBADMSG;
}

int do_config_import(struct ctx *ctx, int argc, char **argv)
{
	json_t *doc, *answer = NULL;
	json_int_t n;
	int err;

	if (!argc)
		return usage_err(ctx, "missing FILE (- for stdin)");
	if (argc > 1)
		return usage_err(ctx, "unexpected argument '%s'", argv[1]);
	err = load_doc(argv[0], &doc);
	if (err)
		return err;
	err = svc_call(ctx, "PUT", doc, &answer, "/config");
	json_decref(doc);
	if (err)
		return err;
	if (ctx->json) {
		err = print_json(answer, stdout);
	} else {
		n = json_integer_value(json_object_get(answer, "pendingChanges"));
		printf("staged config replaced: %lld pending change%s (limpetctl refresh applies "
		       "the staged config)\n", (long long)n, plural(n));
	}
	json_decref(answer);
	return err;
}
