/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The API's JSON answers as text: pretty JSON for scripts, field lines and tables for humans. */
#ifndef LIMPET_CTL_PRINT_H
#define LIMPET_CTL_PRINT_H

#include <stdio.h>

#include <jansson.h>

#include "ctl/table.h"

/* One document, indented, newline-terminated. 0 or -EIO. */
int print_json(const json_t *v, FILE *out);

/* A value for a human: strings as they are, numbers, true, false, null; arrays and objects as
 * compact JSON; an absent value (NULL) is "-". malloc'ed, NULL on allocation failure. */
char *json_text(const json_t *v);

/* Append json_text(v) as the table's next cell. */
void table_json(struct table *t, const json_t *v);

/*
 * An object as aligned "field  value" lines, nested objects flattened ("probe.type  tcp"),
 * each element of an array of scalars on a line of its own; arrays of objects follow as
 * tables, each under its field's name. 0 or -ENOMEM.
 */
int print_fields(json_t *obj, FILE *out);

#endif /* LIMPET_CTL_PRINT_H */
