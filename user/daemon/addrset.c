// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>

#include "daemon/addrset.h"

ssize_t addr_set_find(const struct addr_set *s, const struct cfg_addr *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (cfg_addr_eq(&s->a[i], x))
			return i;
	return -1;
}

int addr_set_add(struct addr_set *s, const struct cfg_addr *x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct cfg_addr *a = reallocarray(s->a, cap, sizeof(*a));

		if (!a)
			return -ENOMEM;
		s->a = a;
		s->cap = cap;
	}
	s->a[s->n++] = *x;
	return 0;
}

void addr_set_del(struct addr_set *s, size_t i)
{
	s->a[i] = s->a[--s->n];
}

void addr_set_free(struct addr_set *s)
{
	free(s->a);
	*s = (struct addr_set){ 0 };
}
