// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Weighted Maglev (Eisenbud et al., NSDI 2016, section 3.4).
 *
 * Every server gets a permutation of the table from its id and the seed (offset and skip, the
 * size being prime so that any skip visits every entry), and servers take turns claiming their
 * next preferred entry that is still free. A server's entries therefore depend mostly on its own
 * permutation, which is what keeps disruption small when the farm changes.
 *
 * Weights: the paper's round robin gives every server one entry per round. Here each server
 * earns its weight in credit per round and claims one entry per max-weight of credit, so after
 * any number of rounds its claims are within one entry of weight / max_weight per round: the
 * shares come out exact to about one entry instead of approximately.
 *
 * Determinism: servers take turns in id order, never in the caller's order, and the
 * permutations come from lb_mix64 only, so equal configs build equal tables on every node.
 */
#include <errno.h>
#include <stdlib.h>

#include "limpet/hash.h"
#include "maglev/maglev.h"

/* Two nothing-up-my-sleeve constants (SHA-512 IVs) so offset and skip hash independently. */
#define MAGLEV_OFFSET_KEY	0x6a09e667f3bcc908ULL
#define MAGLEV_SKIP_KEY		0xbb67ae8584caa73bULL

struct maglev_key {
	uint32_t id;
	uint32_t idx;		/* position in the caller's array: the value an entry holds */
};

struct maglev_perm {
	uint32_t offset;
	uint32_t skip;
	uint32_t next;		/* preferences before this one are known to be taken */
	uint32_t credit;
};

int maglev_check_size(uint32_t size)
{
	if (size < 2 || size > MAGLEV_SIZE_MAX)
		return -EINVAL;
	for (uint32_t d = 2; d <= size / d; d++)
		if (size % d == 0)
			return -EINVAL;
	return 0;
}

static int maglev_check(const struct maglev_server *servers, size_t n, uint32_t size)
{
	int err = maglev_check_size(size);

	if (err)
		return err;
	if (n > size)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (servers[i].weight < MAGLEV_WEIGHT_MIN || servers[i].weight > MAGLEV_WEIGHT_MAX)
			return -EINVAL;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct maglev_key *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Sort the servers by id, the only order the build ever sees; -EINVAL on a duplicate id. */
static int maglev_sort(const struct maglev_server *servers, size_t n, struct maglev_key *keys)
{
	for (size_t i = 0; i < n; i++) {
		keys[i].id = servers[i].id;
		keys[i].idx = (uint32_t)i;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < n; i++)
		if (keys[i].id == keys[i - 1].id)
			return -EINVAL;
	return 0;
}

static void maglev_clear(uint32_t size, uint32_t *table)
{
	for (uint32_t e = 0; e < size; e++)
		table[e] = MAGLEV_ENTRY_NONE;
}

static void perm_init(struct maglev_perm *p, uint32_t id, uint64_t seed, uint32_t size)
{
	uint64_t h = lb_mix64(seed ^ id);

	p->offset = lb_mix64(h ^ MAGLEV_OFFSET_KEY) % size;
	p->skip = lb_mix64(h ^ MAGLEV_SKIP_KEY) % (size - 1) + 1;
	p->next = 0;
	p->credit = 0;
}

/* Give value the most preferred free entry of p; the caller guarantees one is free. */
static void perm_claim(struct maglev_perm *p, uint32_t size, uint32_t *table, uint32_t value)
{
	uint32_t e;

	do
		e = (p->offset + (uint64_t)p->next++ * p->skip) % size;
	while (table[e] != MAGLEV_ENTRY_NONE);
	table[e] = value;
}

static void maglev_fill(const struct maglev_server *servers, const struct maglev_key *keys,
			size_t m, uint64_t seed, uint32_t size, struct maglev_perm *perm,
			uint32_t *table)
{
	uint32_t max_weight = 0, filled = 0;

	for (size_t i = 0; i < m; i++) {
		perm_init(&perm[i], keys[i].id, seed, size);
		if (servers[keys[i].idx].weight > max_weight)
			max_weight = servers[keys[i].idx].weight;
	}
	maglev_clear(size, table);

	/* m >= 1 and the top-weight server claims every round, so this ends. */
	for (;;) {
		for (size_t i = 0; i < m; i++) {
			perm[i].credit += servers[keys[i].idx].weight;
			while (perm[i].credit >= max_weight) {
				perm_claim(&perm[i], size, table, keys[i].idx);
				perm[i].credit -= max_weight;
				if (++filled == size)
					return;
			}
		}
	}
}

int maglev_build(const struct maglev_server *servers, size_t n, uint64_t seed, uint32_t size,
		 uint32_t *table)
{
	struct maglev_key *keys = NULL, *eligible;
	struct maglev_perm *perm = NULL;
	uint32_t *second = NULL;
	size_t m = 0;
	int err;

	err = maglev_check(servers, n, size);
	if (err)
		return err;
	if (n == 0) {
		maglev_clear(size, table);
		return 0;
	}

	/* Everything is allocated and checked before table is written: a failure leaves it be. */
	keys = calloc(2 * n, sizeof(*keys));
	perm = calloc(n, sizeof(*perm));
	if (!keys || !perm) {
		err = -ENOMEM;
		goto out;
	}
	err = maglev_sort(servers, n, keys);
	if (err)
		goto out;
	eligible = keys + n;
	for (size_t i = 0; i < n; i++)
		if (servers[keys[i].idx].eligible)
			eligible[m++] = keys[i];
	if (m > 0 && m < n) {
		second = malloc(size * sizeof(*second));
		if (!second) {
			err = -ENOMEM;
			goto out;
		}
	}

	if (m == 0) {
		maglev_clear(size, table);
		goto out;
	}
	/*
	 * The base table ignores eligibility so that a server going down and up again moves only
	 * its own entries; the second table decides who stands in for it meanwhile.
	 */
	maglev_fill(servers, keys, n, seed, size, perm, table);
	if (second) {
		maglev_fill(servers, eligible, m, seed, size, perm, second);
		for (uint32_t e = 0; e < size; e++)
			if (!servers[table[e]].eligible)
				table[e] = second[e];
	}
out:
	free(second);
	free(perm);
	free(keys);
	return err;
}
