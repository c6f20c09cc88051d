/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TAP output for the C tests that are not cmocka suites (tests/run.sh counts the lines):
 * one `ok N - name` or `not ok N - name` per subtest, with the reason on a `#` line.
 * CHECK() records a failure with expected-vs-got text and returns false so a subtest can stop.
 */
#ifndef LIMPET_TESTS_TAP_H
#define LIMPET_TESTS_TAP_H

#include <stdbool.h>
#include <stdio.h>

static int tap_n, tap_failed;
static bool tap_ok;

static inline void tap_begin(void)
{
	tap_ok = true;
}

static inline void tap_end(const char *name)
{
	printf("%sok %d - %s\n", tap_ok ? "" : "not ", ++tap_n, name);
	fflush(stdout);
	if (!tap_ok)
		tap_failed++;
}

#define CHECK(cond, ...)                                                                   \
	({                                                                                 \
		bool c_ = (cond);                                                           \
		if (!c_) {                                                                 \
			printf("# %s:%d: ", __FILE__, __LINE__);                           \
			printf(__VA_ARGS__);                                               \
			printf("\n");                                                      \
			tap_ok = false;                                                    \
		}                                                                          \
		c_;                                                                        \
	})

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif /* LIMPET_TESTS_TAP_H */
