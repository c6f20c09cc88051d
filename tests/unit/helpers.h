/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the cmocka unit tests share (tests/unit/helpers.c, linked into the tests that use it).
 * Test code, not part of the product.
 */
#ifndef LIMPET_TEST_HELPERS_H
#define LIMPET_TEST_HELPERS_H

struct config;

/*
 * The config of a JSON document written with single quotes, which become double quotes (so
 * that the C strings need no escapes). A document that does not parse fails the test, its
 * errors printed as "# " lines. The caller frees the config.
 */
struct config *parse_sq(const char *sq);

#endif /* LIMPET_TEST_HELPERS_H */
