// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HTTP/1.1 messages parsed in place with libhttp-parser: the parser pauses at the end of the
 * head (so the proxy rewrites it before any body byte moves) and at the end of the message (so
 * the proxy knows where the next one starts). The callbacks note the lines the proxy looks at;
 * the checks the library leaves out (obs-fold, bare LF, Content-Length with Transfer-Encoding,
 * several Host) are l7_req_check's.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "l7/engine.h"

enum { CB_NONE, CB_FIELD, CB_VALUE };

static struct l7_msg *msg_of(http_parser *p)
{
	return p->data;
}

static uint32_t off(const struct l7_msg *m, const char *at)
{
	return (uint32_t)(at - m->base);
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct l7_msg *m = msg_of(p);

	if (!m->url_len)
		m->url = off(m, at);
	m->url_len += len;
	return 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
	struct l7_msg *m = msg_of(p);

	m->line_done = true;
	if (m->last == CB_FIELD) {	/* the name came in pieces (several reads) */
		m->field_len += len;
		return 0;
	}
	if (m->nh && !m->h[m->nh - 1].end)
		m->h[m->nh - 1].end = off(m, at);
	m->field = off(m, at);
	m->field_len = len;
	m->last = CB_FIELD;
	return 0;
}

static const struct {
	const char *name;
	uint8_t len, kind;
} known[] = {
	{ "host", 4, H_HOST },
	{ "content-length", 14, H_CL },
	{ "transfer-encoding", 17, H_TE },
	{ "cookie", 6, H_COOKIE },
	/* hop-by-hop: each side's own business (RFC 9110 7.6.1) */
	{ "connection", 10, H_HOP },
	{ "keep-alive", 10, H_HOP },
	{ "proxy-connection", 16, H_HOP },
	{ "x-forwarded-proto", 17, H_XFP },
};

static uint8_t classify(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (len == known[i].len && !strncasecmp(name, known[i].name, len))
			return known[i].kind;
	return H_OTHER;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
	struct l7_msg *m = msg_of(p);
	struct l7_hdr *h;
	uint8_t kind;

	if (m->last == CB_VALUE) {	/* in pieces; an obs-fold is refused by l7_req_check */
		if (m->nh && !m->h[m->nh - 1].end)
			m->h[m->nh - 1].val_len = off(m, at) + len - m->h[m->nh - 1].val;
		return 0;
	}
	m->last = CB_VALUE;
	/* the library takes SP as a name byte: "Content-Length : 5" would be another header to
	 * it, and a framing header to the next hop (RFC 9112 5.1: reject) */
	if (memchr(m->base + m->field, ' ', m->field_len))
		m->bad = true;
	kind = classify(m->base + m->field, m->field_len);
	m->nhost += kind == H_HOST;
	m->ncl += kind == H_CL;
	m->nte += kind == H_TE;
	if (kind == H_OTHER || kind == H_HOST)
		return 0;
	if (m->nh == L7_HDRS_MAX) {
		m->too_many = true;
		return 0;
	}
	h = &m->h[m->nh++];
	*h = (struct l7_hdr){ .at = m->field, .val = off(m, at), .val_len = len, .kind = kind };
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct l7_msg *m = msg_of(p);
	unsigned sc = p->status_code;

	m->line_done = true;
	http_parser_pause(p, 1);
	if (p->type == HTTP_REQUEST) {
		/* no upgrades: the proxy drops Connection, so the request is a plain one */
		m->bad |= p->method == HTTP_CONNECT;
		p->upgrade = 0;
		return 0;
	}
	/* 1: no body, whatever the head says (RFC 9112 6.3) */
	return m->skip_body || sc / 100 == 1 || sc == 204 || sc == 304;
}

static int on_message_complete(http_parser *p)
{
	msg_of(p)->done = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_header_field = on_field,
	.on_header_value = on_value,
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

void l7_msg_init(struct l7_msg *m, enum http_parser_type t, const char *base, uint32_t at)
{
	memset(m, 0, offsetof(struct l7_msg, h));
	http_parser_init(&m->hp, t);
	m->hp.data = m;
	m->base = base;
	m->start = m->pp = at;
}

enum l7_parse l7_msg_parse(struct l7_msg *m, uint32_t w)
{
	size_t len = w - m->pp, n;

	if (m->pp >= w)
		return P_MORE;
	n = http_parser_execute(&m->hp, &settings, m->base + m->pp, len);
	switch (HTTP_PARSER_ERRNO(&m->hp)) {
	case HPE_OK:
		m->pp += n;
		return n == len ? P_MORE : P_ERR;
	case HPE_PAUSED:
		http_parser_pause(&m->hp, 0);
		m->pp += n;
		if (m->done)
			return P_DONE;
		/* paused at the head's last LF, not consumed: the body parse starts there */
		m->head_end = m->pp + 1;
		if (m->nh && !m->h[m->nh - 1].end)
			m->h[m->nh - 1].end = m->head_end - 2;
		return P_HEAD;
	default:
		return P_ERR;
	}
}

enum l7_parse l7_msg_eof(struct l7_msg *m)
{
	http_parser_execute(&m->hp, &settings, NULL, 0);
	if (HTTP_PARSER_ERRNO(&m->hp) == HPE_PAUSED)
		http_parser_pause(&m->hp, 0);
	return m->done ? P_DONE : P_ERR;
}

/* Every line ends with CRLF and none starts with white space (obs-fold, RFC 9112 5.2). */
static bool lines_clean(const struct l7_msg *m)
{
	const char *from = m->base + m->start, *p = from, *end = m->base + m->head_end;

	while ((p = memchr(p, '\n', end - p))) {
		if (p == from || p[-1] != '\r')
			return false;
		if (++p < end && (*p == ' ' || *p == '\t'))
			return false;
	}
	return true;
}

static bool value_is(const struct l7_msg *m, const struct l7_hdr *h, const char *v)
{
	const char *s = m->base + h->val;
	size_t n = h->val_len;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == strlen(v) && !strncasecmp(s, v, n);
}

/* The request line's length: from the head's start to the LF after the target. */
static uint32_t line_len(const struct l7_msg *m)
{
	const char *t = m->base + m->url + m->url_len, *end = m->base + m->head_end;
	const char *lf = memchr(t, '\n', end - t);

	return lf ? (uint32_t)(lf - (m->base + m->start)) : m->head_end - m->start;
}

unsigned l7_req_check(const struct l7_msg *m)
{
	const http_parser *p = &m->hp;

	if (line_len(m) > L7_LINE_MAX)
		return 414;
	if (m->too_many)
		return 431;
	if (m->bad || p->http_major != 1 || !lines_clean(m))
		return 400;
	if (m->nhost > 1 || (!m->nhost && p->http_minor >= 1))
		return 400;
	/* request smuggling: one framing only, and chunked as the only coding */
	if ((m->ncl && m->nte) || m->nte > 1)
		return 400;
	for (uint8_t i = 0; i < m->nh; i++)
		if (m->h[i].kind == H_TE && !value_is(m, &m->h[i], "chunked"))
			return 400;
	return 0;
}

unsigned l7_resp_check(const struct l7_msg *m)
{
	bool bad = m->bad || m->too_many || m->hp.http_major != 1 || m->hp.status_code == 101;

	return bad ? 502 : 0;
}

bool l7_resp_needs_eof(const struct l7_msg *m)
{
	unsigned sc = m->hp.status_code;

	if (m->skip_body || sc / 100 == 1 || sc == 204 || sc == 304)
		return false;
	return !(m->hp.flags & F_CHUNKED) && m->hp.content_length == ULLONG_MAX;
}
