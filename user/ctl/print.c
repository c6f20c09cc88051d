// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/print.h"

int print_json(const json_t *v, FILE *out)
{
	if (json_dumpf(v, out, JSON_INDENT(2) | JSON_ENCODE_ANY) || fputc('\n', out) == EOF)
		return -EIO;
	return 0;
}

char *json_text(const json_t *v)
{
	char *s;

	if (!v)
		return strdup("-");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	/* durations and the like: no 17-digit tails for humans */
	if (json_is_real(v))
		return asprintf(&s, "%g", json_real_value(v)) < 0 ? NULL : s;
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

void table_json(struct table *t, const json_t *v)
{
	table_put(t, json_text(v));
}

/* A non-empty array of objects: shown as a table of its own. */
static bool is_table(const json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_array_size(v))
		return false;
	json_array_foreach(v, i, e)
		if (!json_is_object(e))
			return false;
	return true;
}

static char *join(const char *prefix, const char *key)
{
	char *s;

	return asprintf(&s, "%s%s", prefix, key) < 0 ? NULL : s;
}

static void add_lines(struct table *t, const char *prefix, json_t *obj)
{
	const char *key;
	json_t *v, *e;
	size_t i;

	json_object_foreach(obj, key, v) {
		char *name = join(prefix, key), *sub;

		if (!name) {
			table_put(t, NULL);
		} else if (json_is_object(v) && json_object_size(v)) {
			sub = join(name, ".");
			if (sub)
				add_lines(t, sub, v);
			else
				table_put(t, NULL);
			free(sub);
		} else if (json_array_size(v) && !is_table(v)) {
			json_array_foreach(v, i, e) {
				table_put(t, strdup(i ? "" : name));
				table_json(t, e);
			}
		} else if (!is_table(v)) {
			table_put(t, strdup(name));
			table_json(t, v);
		}
		free(name);
	}
}

static char *upper(const char *s)
{
	char *u = strdup(s);

	for (char *p = u; p && *p; p++)
		*p = toupper((unsigned char)*p);
	return u;
}

/* Columns: every key of the objects, in the order they first appear. */
static int print_object_table(json_t *arr, FILE *out)
{
	json_t *cols = json_object(), *o, *v;
	const char *key;
	struct table *t = NULL;
	int err = -ENOMEM;
	size_t i;

	if (!cols)
		return -ENOMEM;
	json_array_foreach(arr, i, o)
		json_object_foreach(o, key, v)
			if (json_object_set(cols, key, json_true()))
				goto out;
	t = table_new_cols(json_object_size(cols));
	if (!t)
		goto out;
	json_object_foreach(cols, key, v)
		table_put(t, upper(key));
	json_array_foreach(arr, i, o)
		json_object_foreach(cols, key, v)
			table_json(t, json_object_get(o, key));
	err = table_print(t, out);
out:
	table_free(t);
	json_decref(cols);
	return err;
}

static int print_tables(const char *prefix, json_t *obj, FILE *out)
{
	const char *key;
	int err = 0;
	json_t *v;

	json_object_foreach(obj, key, v) {
		char *name = join(prefix, key), *sub = NULL;

		if (!name)
			return -ENOMEM;
		if (json_is_object(v)) {
			sub = join(name, ".");
			err = sub ? print_tables(sub, v, out) : -ENOMEM;
		} else if (is_table(v)) {
			fprintf(out, "\n%s:\n", name);
			err = print_object_table(v, out);
		}
		free(sub);
		free(name);
		if (err)
			return err;
	}
	return 0;
}

int print_fields(json_t *obj, FILE *out)
{
	struct table *t = table_new_cols(2);
	int err;

	if (!t)
		return -ENOMEM;
	add_lines(t, "", obj);
	err = table_print(t, out);
	table_free(t);
	return err ? err : print_tables("", obj, out);
}
