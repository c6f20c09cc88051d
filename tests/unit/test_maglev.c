// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Weighted Maglev (user/maglev.c): shares follow weights, disabling or deleting a server
 * disrupts little, the build is deterministic, extremes work and bad input is refused.
 * TAP output comes from CMOCKA_MESSAGE_OUTPUT=TAP; our own diagnostics are "# " lines.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "maglev/maglev.h"

#define SEED		0x6c696d706574ULL	/* any fixed value: no test depends on it */
#define SIZE		65537			/* the dataplane's table (LB_RING_DEFAULT) */

/* Numerical Recipes LCG: fixed, portable pseudo-random weights and shuffles. */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;		/* the low bits of an LCG are weak */
}

/*
 * n eligible servers with distinct, non-contiguous ids and weights drawn from
 * min_weight..MAGLEV_WEIGHT_MAX by an LCG seeded with rng; rng == 0 gives every server weight 1.
 */
static struct maglev_server *servers_new(size_t n, uint32_t rng, uint32_t min_weight)
{
	struct maglev_server *s = test_calloc(n, sizeof(*s));
	uint32_t span = MAGLEV_WEIGHT_MAX - min_weight + 1;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		s[i].id = 1000 + 7 * (uint32_t)i;
		s[i].weight = rng ? min_weight + lcg(&rng) % span : 1;
		s[i].eligible = true;
	}
	return s;
}

static uint32_t *table_new(uint32_t size)
{
	uint32_t *t = test_malloc(size * sizeof(*t));

	assert_non_null(t);
	return t;
}

static void build_ok(const struct maglev_server *s, size_t n, uint32_t size, uint32_t *table)
{
	int err = maglev_build(s, n, SEED, size, table);

	if (err)
		fail_msg("maglev_build(n=%zu, size=%u): expected 0, got %d", n, size, err);
}

static uint64_t weight_sum(const struct maglev_server *s, size_t n)
{
	uint64_t w = 0;

	for (size_t i = 0; i < n; i++)
		w += s[i].weight;
	return w;
}

/* counts[i] = entries of table pointing at server i; every entry must point at one. */
static uint32_t *count_entries(const uint32_t *table, uint32_t size, size_t n)
{
	uint32_t *counts = test_calloc(n, sizeof(*counts));

	assert_non_null(counts);
	for (uint32_t e = 0; e < size; e++) {
		if (table[e] >= n)
			fail_msg("entry %u: expected a server index < %zu, got %u", e, n, table[e]);
		counts[table[e]]++;
	}
	return counts;
}

static double absd(double x)
{
	return x < 0 ? -x : x;
}

static double maxd(double a, double b)
{
	return a > b ? a : b;
}

static uint32_t next_prime(uint32_t x)
{
	while (maglev_check_size(x))
		x++;
	return x;
}

/* Every server's entries within 2% of its weight share of the table, or 1 entry if more. */
static void check_shares(const struct maglev_server *s, size_t n, const uint32_t *table,
			 uint32_t size)
{
	uint32_t *counts = count_entries(table, size, n);
	double total = (double)weight_sum(s, n);

	for (size_t i = 0; i < n; i++) {
		double want = (double)size * s[i].weight / total;
		double tol = maxd(want * 0.02, 1.0);

		if (absd(counts[i] - want) > tol)
			fail_msg("n=%zu size=%u server %zu (weight %u): expected %.1f +- %.1f "
				 "entries, got %u", n, size, i, s[i].weight, want, tol, counts[i]);
	}
	test_free(counts);
}

static void shares_follow_weights(const struct maglev_server *s, size_t n, uint32_t size)
{
	uint32_t *table = table_new(size);

	build_ok(s, n, size, table);
	check_shares(s, n, table, size);
	test_free(table);
}

static void test_shares_follow_weights_3_10_100_servers(void **state)
{
	const size_t n[] = { 3, 10, 100 };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct maglev_server *s = servers_new(n[i], 42 + (uint32_t)n[i], MAGLEV_WEIGHT_MIN);

		shares_follow_weights(s, n[i], SIZE);
		test_free(s);
	}
}

/*
 * For 2% to mean something every server must expect ~100 entries, so the size is the first
 * prime above 100 * total weight / min weight. With weights 1..256 that is ~12.9M entries and
 * 18 s under ASan; with weights 16..256 (still a 16x spread) it is ~850k entries, where the
 * lightest server expects ~100 entries and the mean one ~850. Weight 1 is covered by the
 * 100-server case and by the 1-vs-256 test.
 */
static void test_shares_follow_weights_1000_servers(void **state)
{
	const size_t n = 1000;
	struct maglev_server *s = servers_new(n, 42 + (uint32_t)n, 16);
	uint32_t min_weight = MAGLEV_WEIGHT_MAX, size;

	(void)state;
	for (size_t i = 0; i < n; i++)
		if (s[i].weight < min_weight)
			min_weight = s[i].weight;
	size = next_prime(100 * weight_sum(s, n) / min_weight);
	print_message("# 1000 servers, weights %u..%u: table size %u\n", min_weight,
		      MAGLEV_WEIGHT_MAX, size);
	shares_follow_weights(s, n, size);
	test_free(s);
}

/*
 * Disable server d, check that exactly its entries moved and where they went, re-enable it and
 * check the table is back. Returns the worst relative deviation of the split (for a diagnostic)
 * or -1 if check_split is false.
 */
static double disable_one(struct maglev_server *s, size_t n, size_t d, const uint32_t *base,
			  bool check_split)
{
	uint32_t *table = table_new(SIZE), *to = test_calloc(n, sizeof(*to));
	double others = (double)(weight_sum(s, n) - s[d].weight), worst = -1;
	double share = s[d].weight / (double)weight_sum(s, n);
	uint32_t moved = 0;

	assert_non_null(to);
	s[d].eligible = false;
	build_ok(s, n, SIZE, table);
	s[d].eligible = true;
	for (uint32_t e = 0; e < SIZE; e++) {
		if (base[e] != d && table[e] != base[e])
			fail_msg("disable %zu: entry %u expected to stay on server %u, got %u",
				 d, e, base[e], table[e]);
		if (base[e] != d)
			continue;
		if (table[e] >= n || table[e] == d)
			fail_msg("disable %zu: entry %u expected on another server, got %u", d, e,
				 table[e]);
		to[table[e]]++;
		moved++;
	}
	if (moved > 1.2 * share * SIZE)
		fail_msg("disable %zu (weight %u): expected <= %.0f entries moved, got %u", d,
			 s[d].weight, 1.2 * share * SIZE, moved);

	/*
	 * The moved entries are split by the second table, whose shares are exact but which
	 * differs from the base table among the other servers by Maglev's own churn (test 3: a
	 * few % of the table at N = 10). That churn, not the weights, perturbs the split: 9% worst
	 * measured at N = 10, so 25% + 5 entries catches a split that ignores weights.
	 */
	for (size_t i = 0; check_split && i < n; i++) {
		double want = i == d ? 0 : moved * s[i].weight / others;

		if (absd(to[i] - want) > 0.25 * want + 5)
			fail_msg("disable %zu: server %zu (weight %u) expected %.1f +- %.1f of the "
				 "%u moved entries, got %u", d, i, s[i].weight, want,
				 0.25 * want + 5, moved, to[i]);
		if (want > 0 && absd(to[i] - want) / want > worst)
			worst = absd(to[i] - want) / want;
	}

	build_ok(s, n, SIZE, table);
	if (memcmp(table, base, SIZE * sizeof(*table)))
		fail_msg("enable %zu: expected the original table back, got a different one", d);
	test_free(to);
	test_free(table);
	return worst;
}

static void test_disable_moves_only_its_entries_by_weight_and_enable_restores(void **state)
{
	const size_t n = 10;
	struct maglev_server *s = servers_new(n, 7, MAGLEV_WEIGHT_MIN);
	uint32_t *base = table_new(SIZE);
	double worst = 0;

	(void)state;
	build_ok(s, n, SIZE, base);
	for (size_t d = 0; d < n; d++)
		worst = maxd(worst, disable_one(s, n, d, base, true));
	print_message("# disable 1 of %zu: worst split deviation from weights %.1f%%\n", n,
		      100 * worst);
	test_free(base);
	test_free(s);
}

/* At N = 100 a server's ~650 entries split into ~7 per server: too few to test the split. */
static void test_disable_1_of_100_moves_only_its_entries_and_enable_restores(void **state)
{
	const size_t n = 100;
	struct maglev_server *s = servers_new(n, 7, MAGLEV_WEIGHT_MIN);
	uint32_t *base = table_new(SIZE);

	(void)state;
	build_ok(s, n, SIZE, base);
	for (size_t d = 0; d < n; d += 9)
		disable_one(s, n, d, base, false);
	test_free(base);
	test_free(s);
}

/*
 * Delete every step-th server of n (equal weights) from the array and compare the tables by
 * id. Returns the worst total and collateral changes (entries that pointed at a server still
 * present), in units of a server's share size / n, and prints them as a diagnostic.
 */
static void delete_one(size_t n, uint32_t size, size_t step, double *total, double *collateral)
{
	struct maglev_server *s = servers_new(n, 0, 1), *rest = servers_new(n - 1, 0, 1);
	uint32_t *base = table_new(size), *table = table_new(size);
	double sum = 0;
	size_t runs = 0;

	*total = *collateral = 0;
	build_ok(s, n, size, base);
	for (size_t d = 0; d < n; d += step, runs++) {
		uint32_t changed = 0, other = 0;

		memcpy(rest, s, d * sizeof(*s));
		memcpy(rest + d, s + d + 1, (n - d - 1) * sizeof(*s));
		build_ok(rest, n - 1, size, table);
		for (uint32_t e = 0; e < size; e++) {
			if (s[base[e]].id == rest[table[e]].id)
				continue;
			changed++;
			other += base[e] != d;
		}
		*total = maxd(*total, changed * (double)n / size);
		*collateral = maxd(*collateral, other * (double)n / size);
		sum += other * (double)n / size;
	}
	print_message("# delete 1 of %zu, size %u (%zu deletions): changed <= %.3f/N, "
		      "collateral <= %.3f/N (mean %.3f/N, %.2f%% of the table)\n", n, size, runs,
		      *total, *collateral, sum / runs, 100 * sum / runs / n);
	test_free(table);
	test_free(base);
	test_free(rest);
	test_free(s);
}

static void check_delete(size_t n, uint32_t size, size_t step, double max_total,
			 double max_collateral)
{
	double total, collateral;

	delete_one(n, size, step, &total, &collateral);
	if (total > max_total)
		fail_msg("delete 1 of %zu, size %u: expected <= %.2f/N entries changed, got %.3f/N",
			 n, size, max_total, total);
	if (collateral >= max_collateral)
		fail_msg("delete 1 of %zu, size %u: expected < %.2f/N collateral changes, "
			 "got %.3f/N", n, size, max_collateral, collateral);
}

static void test_delete_1_of_10_changes_at_most_1_2_over_n(void **state)
{
	(void)state;
	check_delete(10, SIZE, 1, 1.2, 0.2);
}

/*
 * Maglev's collateral churn shrinks as size / N grows: at N = 100 and 65537 entries (655 per
 * server) it is ~0.56/N (next test). 655373 gives the same 6553 entries per server as N = 10
 * in 65537, where the 1.2/N and 0.2/N bounds hold.
 */
static void test_delete_1_of_100_in_655373_changes_at_most_1_2_over_n(void **state)
{
	(void)state;
	check_delete(100, 655373, 33, 1.2, 0.2);
}

/*
 * The dataplane's table holds at most 65537 entries (LB_RING_MAX). There, deleting 1 of 100
 * servers measured 1.59/N changed and 0.59/N collateral: the bounds below only guard against
 * a regression from that; they are not the goal. Disabling first (test 2) moves only 1/N.
 */
static void test_delete_1_of_100_in_65537_changes_at_most_1_7_over_n(void **state)
{
	(void)state;
	check_delete(100, SIZE, 10, 1.7, 0.7);
}

static void test_same_input_gives_byte_identical_table(void **state)
{
	const size_t n = 100;
	struct maglev_server *s = servers_new(n, 3, MAGLEV_WEIGHT_MIN);
	uint32_t *a = table_new(SIZE), *b = table_new(SIZE);

	(void)state;
	for (size_t i = 0; i < n; i += 7)
		s[i].eligible = false;	/* cover the second table too */
	build_ok(s, n, SIZE, a);
	build_ok(s, n, SIZE, b);
	if (memcmp(a, b, SIZE * sizeof(*a)))
		fail_msg("two builds of the same input: expected identical tables, got different");
	test_free(b);
	test_free(a);
	test_free(s);
}

static void test_input_order_does_not_change_table(void **state)
{
	const size_t n = 100;
	struct maglev_server *s = servers_new(n, 3, MAGLEV_WEIGHT_MIN);
	struct maglev_server *shuffled = servers_new(n, 3, MAGLEV_WEIGHT_MIN);
	uint32_t *a = table_new(SIZE), *b = table_new(SIZE), rng = 99;

	(void)state;
	for (size_t i = 0; i < n; i += 7)
		s[i].eligible = false;
	memcpy(shuffled, s, n * sizeof(*s));
	for (size_t i = n - 1; i > 0; i--) {	/* Fisher-Yates */
		size_t j = lcg(&rng) % (i + 1);
		struct maglev_server t = shuffled[i];

		shuffled[i] = shuffled[j];
		shuffled[j] = t;
	}
	build_ok(s, n, SIZE, a);
	build_ok(shuffled, n, SIZE, b);
	for (uint32_t e = 0; e < SIZE; e++)
		if (s[a[e]].id != shuffled[b[e]].id)
			fail_msg("entry %u: expected server id %u, got id %u (shuffled input)", e,
				 s[a[e]].id, shuffled[b[e]].id);
	test_free(b);
	test_free(a);
	test_free(shuffled);
	test_free(s);
}

static void test_weights_1_and_256_share_1_to_256(void **state)
{
	const struct maglev_server s[] = {
		{ .id = 5, .weight = 1, .eligible = true },
		{ .id = 9, .weight = 256, .eligible = true },
	};
	uint32_t *table = table_new(SIZE);

	(void)state;
	build_ok(s, 2, SIZE, table);
	check_shares(s, 2, table, SIZE);
	test_free(table);
}

static void check_all(const uint32_t *table, uint32_t size, uint32_t want, const char *what)
{
	for (uint32_t e = 0; e < size; e++)
		if (table[e] != want)
			fail_msg("%s: entry %u expected %#x, got %#x", what, e, want, table[e]);
}

static void test_single_server_gets_every_entry(void **state)
{
	const struct maglev_server s = { .id = 77, .weight = 3, .eligible = true };
	uint32_t *table = table_new(SIZE);

	(void)state;
	build_ok(&s, 1, SIZE, table);
	check_all(table, SIZE, 0, "single server");
	test_free(table);
}

static void test_no_eligible_server_gives_none_everywhere(void **state)
{
	struct maglev_server *s = servers_new(10, 5, MAGLEV_WEIGHT_MIN);
	uint32_t *table = table_new(SIZE);

	(void)state;
	for (size_t i = 0; i < 10; i++)
		s[i].eligible = false;
	build_ok(s, 10, SIZE, table);
	check_all(table, SIZE, MAGLEV_ENTRY_NONE, "all ineligible");

	memset(table, 0, SIZE * sizeof(*table));
	build_ok(NULL, 0, SIZE, table);
	check_all(table, SIZE, MAGLEV_ENTRY_NONE, "no server");
	test_free(table);
	test_free(s);
}

#define UP(i, w) { .id = (i), .weight = (w), .eligible = true }

static const struct reject_case {
	const char *what;
	struct maglev_server s[3];
	size_t n;
	uint32_t size;
} rejects[] = {
	{ "size smaller than server count", { UP(1, 1), UP(2, 1), UP(3, 1) }, 3, 2 },
	{ "size not a prime",		    { UP(1, 1) },		      1, 65536 },
	{ "size 0",			    { UP(1, 1) },		      1, 0 },
	{ "size 1",			    { UP(1, 1) },		      1, 1 },
	{ "size 0, no server",		    { UP(1, 1) },		      0, 0 },
	{ "size above MAGLEV_SIZE_MAX",	    { UP(1, 1) },		      1, 16777259 },
	{ "weight 0",			    { UP(1, 1), UP(2, 0) },	      2, 7 },
	{ "weight 257",			    { UP(1, 257), UP(2, 1) },	      2, 7 },
	{ "duplicate ids",		    { UP(4, 1), UP(2, 1), UP(4, 2) }, 3, 7 },
};

static void test_rejected_inputs_return_einval_and_leave_table_untouched(void **state)
{
	uint32_t table[8], want[8];

	(void)state;
	memset(want, 0xa5, sizeof(want));
	for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		const struct reject_case *c = &rejects[i];
		int err;

		memcpy(table, want, sizeof(table));
		err = maglev_build(c->s, c->n, SEED, c->size, table);
		if (err != -EINVAL)
			fail_msg("%s: expected %d (-EINVAL), got %d", c->what, -EINVAL, err);
		if (memcmp(table, want, sizeof(table)))
			fail_msg("%s: expected the table untouched, got it written", c->what);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares_follow_weights_3_10_100_servers),
		cmocka_unit_test(test_shares_follow_weights_1000_servers),
		cmocka_unit_test(test_disable_moves_only_its_entries_by_weight_and_enable_restores),
		cmocka_unit_test(test_disable_1_of_100_moves_only_its_entries_and_enable_restores),
		cmocka_unit_test(test_delete_1_of_10_changes_at_most_1_2_over_n),
		cmocka_unit_test(test_delete_1_of_100_in_655373_changes_at_most_1_2_over_n),
		cmocka_unit_test(test_delete_1_of_100_in_65537_changes_at_most_1_7_over_n),
		cmocka_unit_test(test_same_input_gives_byte_identical_table),
		cmocka_unit_test(test_input_order_does_not_change_table),
		cmocka_unit_test(test_weights_1_and_256_share_1_to_256),
		cmocka_unit_test(test_single_server_gets_every_entry),
		cmocka_unit_test(test_no_eligible_server_gives_none_everywhere),
		cmocka_unit_test(test_rejected_inputs_return_einval_and_leave_table_untouched),
	};

	return cmocka_run_group_tests_name("maglev", tests, NULL, NULL);
}
