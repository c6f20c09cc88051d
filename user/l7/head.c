// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the proxy changes in a head, without copying it: ranges left out (hop-by-hop lines, the
 * client's X-Forwarded-Proto, the stickiness cookie's pairs) and lines added before the final
 * CRLF; the result is a gather list over the buffer the head was read into.
 */
#include <string.h>

#include "l7/engine.h"

static bool drop(struct l7_range *d, uint8_t *n, uint32_t from, uint32_t to)
{
	if (*n == L7_DROPS_MAX)
		return false;
	d[(*n)++] = (struct l7_range){ from, to };
	return true;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The pairs of one Cookie line named name: the first one's value is the pick's; each run of
 * them goes with the separator after it ("a=1; NAME=x; b=2" keeps "a=1; b=2"), a run at the end
 * with the separator before it, and a line left with nothing goes whole.
 */
static bool cookie_line(const struct l7_msg *m, const struct l7_hdr *h, const char *name,
			size_t name_len, const char **val, size_t *val_len, struct l7_range *d,
			uint8_t *n)
{
	const char *b = m->base, *p = b + h->val, *end = p + h->val_len;
	uint32_t run = 0, run_end = 0, kept_end = 0;
	bool in_run = false, kept = false;

	while (p < end) {
		const char *s = p, *e, *semi = memchr(p, ';', end - p);

		p = semi ? semi + 1 : end;
		while (s < p && is_ws(*s))
			s++;
		e = semi ? semi : end;
		while (e > s && is_ws(e[-1]))
			e--;
		if (s == e)
			continue;
		if ((size_t)(e - s) > name_len && s[name_len] == '=' && !memcmp(s, name, name_len)) {
			if (!*val) {
				*val = s + name_len + 1;
				*val_len = e - *val;
			}
			if (!in_run)
				run = s - b;
			in_run = true;
			run_end = e - b;
			continue;
		}
		if (in_run && !drop(d, n, run, s - b))
			return false;
		in_run = false;
		kept = true;
		kept_end = e - b;
	}
	if (!in_run)
		return true;
	return kept ? drop(d, n, kept_end, run_end) : drop(d, n, h->at, h->end);
}

bool l7_head_drops(const struct l7_msg *m, bool request, const char *cookie, size_t cookie_len,
		   const char **val, size_t *val_len, struct l7_range *d, uint8_t *n)
{
	*n = 0;
	for (uint8_t i = 0; i < m->nh; i++) {
		const struct l7_hdr *h = &m->h[i];

		if (h->kind == H_HOP || (request && h->kind == H_XFP)) {
			if (!drop(d, n, h->at, h->end))
				return false;
		} else if (h->kind == H_COOKIE && cookie) {
			if (!cookie_line(m, h, cookie, cookie_len, val, val_len, d, n))
				return false;
		}
	}
	return true;
}

void l7_head_queue(struct l7_outq *q, const struct l7_msg *m, uint32_t at, uint32_t end,
		   const struct l7_range *d, uint8_t nd, const char *ins, size_t ins_len)
{
	const char *b = m->base;
	uint32_t crlf = m->head_end - 2;

	for (uint8_t i = 0; i < nd; i++) {
		l7_outq_add(q, b + at, d[i].from - at);
		at = d[i].to;
	}
	l7_outq_add(q, b + at, crlf - at);
	l7_outq_add(q, ins, ins_len);
	l7_outq_add(q, b + crlf, end - crlf);
}
