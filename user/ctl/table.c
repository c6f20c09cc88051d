// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/table.h"

struct table {
	size_t ncols;
	size_t ncells;
	char **cell;		/* row-major, the header row (if any) first */
	bool failed;
};

void table_put(struct table *t, char *s)
{
	char **cell;

	if (!s)
		goto fail;
	cell = realloc(t->cell, (t->ncells + 1) * sizeof(*cell));
	if (!cell) {
		free(s);
		goto fail;
	}
	t->cell = cell;
	t->cell[t->ncells++] = s;
	return;
fail:
	t->failed = true;
}

struct table *table_new_cols(size_t ncols)
{
	struct table *t = calloc(1, sizeof(*t));

	if (t)
		t->ncols = ncols;
	return t;
}

struct table *table_new(const char *const *headers)
{
	size_t n = 0;
	struct table *t;

	while (headers[n])
		n++;
	t = table_new_cols(n);
	if (!t)
		return NULL;
	for (size_t i = 0; i < n; i++)
		table_put(t, strdup(headers[i]));
	if (t->failed) {
		table_free(t);
		return NULL;
	}
	return t;
}

void table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	table_put(t, s);
}

int table_print(const struct table *t, FILE *out)
{
	size_t *width;

	if (t->failed)
		return -ENOMEM;
	width = calloc(t->ncols, sizeof(*width));
	if (!width)
		return -ENOMEM;
	for (size_t i = 0; i < t->ncells; i++) {
		size_t len = strlen(t->cell[i]);

		if (len > width[i % t->ncols])
			width[i % t->ncols] = len;
	}
	/* padding is written only before a non-empty cell: no trailing blanks */
	for (size_t i = 0, pad = 0; i < t->ncells; i++) {
		size_t col = i % t->ncols, len = strlen(t->cell[i]);

		if (len) {
			fprintf(out, "%*s%s", (int)pad, "", t->cell[i]);
			pad = 0;
		}
		pad += width[col] - len + 2;
		if (col == t->ncols - 1 || i == t->ncells - 1) {
			fputc('\n', out);
			pad = 0;
		}
	}
	free(width);
	return 0;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cell[i]);
	free(t->cell);
	free(t);
}
