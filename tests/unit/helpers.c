// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the cmocka unit tests share. See helpers.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "helpers.h"

struct config *parse_sq(const char *sq)
{
	struct cfg_errors errs;
	struct config *c = NULL;
	char *text = strdup(sq);
	int err;

	assert_non_null(text);
	for (char *p = text; *p; p++)
		if (*p == '\'')
			*p = '"';
	err = config_parse(text, strlen(text), &c, &errs);
	free(text);
	for (size_t i = 0; i < errs.n; i++)
		printf("#   %s\n", errs.msg[i]);
	cfg_errors_free(&errs);
	if (err)
		fail_msg("config_parse: expected 0, got %d (%s)", err, strerror(-err));
	return c;
}
