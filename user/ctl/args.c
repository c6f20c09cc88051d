// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/args.h"

const char *const arg_layers[] = { "tcp", "udp", "http", NULL };

int arg_layer(const struct ctx *ctx, const char *s, const char **layer)
{
	if (!s)
		return usage_err(ctx, "missing LAYER (tcp, udp or http)");
	for (const char *const *l = arg_layers; *l; l++) {
		if (!strcmp(s, *l)) {
			*layer = *l;
			return 0;
		}
	}
	return usage_err(ctx, "bad LAYER '%s': expected tcp, udp or http", s);
}

int arg_id(const struct ctx *ctx, const char *what, const char *s, uint32_t *id)
{
	unsigned long long v = 0;
	const char *p = s;

	if (!s)
		return usage_err(ctx, "missing %s", what);
	/* the API's own id grammar: no sign, no leading zero */
	if (*p < '1' || *p > '9')
		goto bad;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		v = v * 10 + (*p - '0');
		if (v > UINT32_MAX)
			goto bad;
	}
	*id = v;
	return 0;
bad:
	return usage_err(ctx, "bad %s '%s': expected an id, 1..%u", what, s, UINT32_MAX);
}

static bool is_string_field(const struct res_type *rt, const char *field)
{
	for (const char *const *f = rt->strings; f && *f; f++)
		if (!strcmp(*f, field))
			return true;
	return false;
}

/* Field names are the API's: camelCase identifiers. */
static bool is_field_name(const char *s, size_t len)
{
	if (!len || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return true;
}

static int arg_field(const struct ctx *ctx, const struct res_type *rt, const char *arg,
		     json_t *obj)
{
	const char *eq = strchr(arg, '='), *val;
	char *field;
	json_t *v;
	int err;

	if (!eq || !is_field_name(arg, eq - arg))
		return usage_err(ctx, "bad FIELD=VALUE '%s': expected a field name, '=', a value",
				 arg);
	field = strndup(arg, eq - arg);
	if (!field)
		return -ENOMEM;
	val = eq + 1;
	if (json_object_get(obj, field)) {
		err = usage_err(ctx, "field '%s' given twice", field);
		goto out;
	}
	v = json_loads(val, JSON_DECODE_ANY, NULL);
	if (!v || (is_string_field(rt, field) && !json_is_string(v) && !json_is_null(v))) {
		json_decref(v);
		v = json_string(val);
		if (!v) {
			err = usage_err(ctx, "bad FIELD=VALUE '%s': VALUE is not UTF-8", arg);
			goto out;
		}
	}
	err = json_object_set_new(obj, field, v) ? -ENOMEM : 0;
out:
	free(field);
	return err;
}

int arg_fields(const struct ctx *ctx, const struct res_type *rt, int argc, char **argv,
	       json_t **out)
{
	json_t *obj = json_object();
	int err = 0;

	if (!obj)
		return -ENOMEM;
	for (int i = 0; i < argc && !err; i++)
		err = arg_field(ctx, rt, argv[i], obj);
	if (err) {
		json_decref(obj);
		return err;
	}
	*out = obj;
	return 0;
}
