/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Aligned text tables for humans, like `xdp-loader status`: a header row, then one row per
 * item, columns padded to their widest cell and two spaces apart, no trailing blanks.
 */
#ifndef LIMPET_CTL_TABLE_H
#define LIMPET_CTL_TABLE_H

#include <stdio.h>

struct table;

/* headers: NULL-terminated; NULL on allocation failure */
struct table *table_new(const char *const *headers);
/* The same without a header row: "field  value" lines. */
struct table *table_new_cols(size_t ncols);
/* Append a cell to the current row; a row is complete after as many cells as headers. An
 * allocation failure is remembered and reported by table_print(). */
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s (malloc'ed, taken over) as a cell; NULL records an allocation failure. */
void table_put(struct table *t, char *s);
/* 0, or -ENOMEM when a cell could not be stored (nothing is printed then). */
int table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

#endif /* LIMPET_CTL_TABLE_H */
