// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What every command needs: usage errors, calls on the service, printing an answer. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/client.h"
#include "ctl/cmd.h"
#include "ctl/print.h"

int usage_err(const struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "limpetctl: %s: ", ctx->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

/* Without --service: the one service limpetd serves. */
static int ctx_find_service(struct ctx *ctx)
{
	json_t *list, *name;
	size_t n;
	int err;

	err = client_call(ctx->client, "GET", "/ipLoadbalancing", NULL, &list);
	if (err)
		return err;
	n = json_array_size(list);
	name = json_array_get(list, 0);
	if (n == 1 && json_is_string(name)) {
		ctx->service_found = strdup(json_string_value(name));
		err = ctx->service_found ? 0 : -ENOMEM;
		ctx->service = ctx->service_found;
	} else if (n > 1) {
		char *names = json_dumps(list, JSON_COMPACT);

		err = usage_err(ctx, "limpetd at %s serves %zu services %s: choose one with "
				"--service NAME", ctx->api, n, names ? names : "");
		free(names);
	} else {
		fprintf(stderr, "limpetctl: limpetd at %s serves no service\n", ctx->api);
		err = -ENOENT;
	}
	json_decref(list);
	return err;
}

/* serviceName percent-encoded for the path: whatever --service holds stays one segment */
static char *path_escape(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *p = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (isalnum((unsigned char)*s) || strchr("-._~", *s))
			*p++ = *s;
		else
			p += sprintf(p, "%%%02X", (unsigned char)*s);
	}
	*p = '\0';
	return out;
}

int svc_call(struct ctx *ctx, const char *method, const json_t *body, json_t **answer,
	     const char *fmt, ...)
{
	char *svc = NULL, *suffix = NULL, *path = NULL;
	va_list ap;
	int err, n;

	if (!ctx->service) {
		err = ctx_find_service(ctx);
		if (err)
			return err;
	}
	va_start(ap, fmt);
	n = vasprintf(&suffix, fmt, ap);
	va_end(ap);
	err = -ENOMEM;
	if (n < 0) {
		suffix = NULL;
		goto out;
	}
	svc = path_escape(ctx->service);
	if (!svc)
		goto out;
	if (asprintf(&path, "/ipLoadbalancing/%s%s", svc, suffix) < 0) {
		path = NULL;
		goto out;
	}
	err = client_call(ctx->client, method, path, body, answer);
out:
	free(path);
	free(svc);
	free(suffix);
	return err;
}

int ctx_print(const struct ctx *ctx, json_t *answer)
{
	return ctx->json ? print_json(answer, stdout) : print_fields(answer, stdout);
}
