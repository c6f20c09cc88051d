// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * An exchange: a client's request, from its pick to the end of its response. The request head
 * goes to the backend rewritten (a gather list over the client's buffer), its body streams
 * through the same buffer; the response comes back the same way through the backend
 * connection's buffer, with the stickiness cookie added when the pick asked for it. A backend
 * that fails before answering gets the request again (xchg_fail says when).
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "l7/engine.h"

static int xchg_fail(struct l7_cli *c, int err);

/* --- the server of the exchange: what the counters and leastconn see --- */

static void srv_use(struct l7_cli *c, const struct l7_server *s)
{
	c->srv = s;
	c->counted = false;
	atomic_fetch_add_explicit(&s->ctr->requests, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->ctr->active, 1, memory_order_relaxed);
}

void l7_xchg_release(struct l7_cli *c)
{
	if (!c->srv)
		return;
	if (!c->counted)
		l7_count_response(c->srv->ctr, 0, 0);
	atomic_fetch_sub_explicit(&c->srv->ctr->active, 1, memory_order_relaxed);
	c->srv = NULL;
}

/* --- the request --- */

static bool idempotent(unsigned method)
{
	return method == HTTP_GET || method == HTTP_HEAD || method == HTTP_OPTIONS ||
	       method == HTTP_PUT || method == HTTP_DELETE || method == HTTP_TRACE;
}

/* The request's gather list from its first byte, for the exchange's backend connection. */
static void rq_build(struct l7_cli *c)
{
	struct l7_bk *b = c->bk;

	l7_outq_reset(&c->rq);
	if (b->pp && !b->reused)
		l7_outq_add(&c->rq, b->pp_hdr, b->pp_len);
	l7_head_queue(&c->rq, &c->req, 0, c->req.pp, c->drops, c->ndrops, c->rq_ins,
		      c->rq_ins_len);
	c->qp = c->req.pp;
}

/* What the exchange waits for bounds it: the connect, the response head, or progress. */
static void xchg_timer(struct l7_cli *c)
{
	const struct l7_bk *b = c->bk;
	enum l7_tkind k = !b->connected		     ? T_CONNECT
			  : c->req_sent && !c->counted ? T_RESP
						       : T_IDLE;

	if (k != c->c.tm.kind || k == T_IDLE)
		l7_timer_arm(c->w, &c->c.tm, k);
}

/* Send the request to s, on a new connection when fresh (a pooled one just failed). */
static int xchg_start(struct l7_cli *c, const struct l7_server *s, bool fresh)
{
	struct l7_bk *b;
	int err = 0;

	b = fresh ? l7_bk_connect(c, s, &err) : l7_bk_get(c, s, &err);
	if (!b)
		return xchg_fail(c, err);
	c->bk = b;
	c->req_sent = false;
	b->owner = c;
	b->in.w = 0;
	b->qp = 0;
	b->got = false;
	l7_msg_init(&b->resp, HTTP_RESPONSE, b->in.d, 0);
	b->resp.skip_body = c->req.hp.method == HTTP_HEAD;
	rq_build(c);
	xchg_timer(c);
	return R_AGAIN;
}

/*
 * The backend connection failed (refused, reset, closed) or could not be opened. Before any
 * response byte, a request still whole in the buffer is sent again: on a new connection when
 * a reused one failed (it was stale; not the one retry), else once to another server when the
 * method is idempotent (a cookie for the failed server is redispatched, with a new cookie).
 */
static int xchg_fail(struct l7_cli *c, int err)
{
	struct l7_bk *b = c->bk;
	bool before = !b || !b->got, reused = b && b->reused;
	const struct l7_server *s = c->srv;

	pr_debug("l7: farm %u server %u: %s", l7_cli_farm(c)->id, s->id,
		 strerror(err < 0 ? -err : ECONNRESET));
	if (b) {
		c->bk = NULL;
		l7_bk_close(b);
	}
	if (!before || c->resp_started)
		return c->resp_started ? l7_cli_abort(c) : l7_cli_fail(c, 502);
	if (c->streamed)
		return l7_cli_fail(c, 502);
	if (reused && !c->stale_retried) {
		c->stale_retried = true;
		return xchg_start(c, s, true);
	}
	if (c->retried || !idempotent(c->req.hp.method))
		return l7_cli_fail(c, 502);
	c->retried = true;
	l7_xchg_release(c);
	s = l7_pick(l7_cli_farm(c), c->ws->ps, &c->ri, s, &c->set_cookie);
	if (!s)	/* no other server: the failure is the answer */
		return l7_cli_fail(c, 502);
	srv_use(c, s);
	return xchg_start(c, s, false);
}

/* Append s (n bytes) to the lines in buf at *at, if it fits (it always does: the names and
 * values are bounded well below L7_INS_MAX). memcpy, not snprintf: this runs per request. */
static void ins_put(char *buf, uint16_t *at, const char *s, size_t n)
{
	if (*at + n <= L7_INS_MAX) {
		memcpy(buf + *at, s, n);
		*at = (uint16_t)(*at + n);
	}
}
#define INS_LIT(buf, at, lit) ins_put(buf, at, lit, sizeof(lit) - 1)

/* After the X-Forwarded-For line the client's connection keeps (l7_cli_accept). */
static void rq_ins_build(struct l7_cli *c)
{
	uint16_t n = c->rq_xff_len;

	if (c->ln->fe->tls_terminated)
		INS_LIT(c->rq_ins, &n, "X-Forwarded-Proto: https\r\n");
	else
		INS_LIT(c->rq_ins, &n, "X-Forwarded-Proto: http\r\n");
	/* HTTP/1.0 keeps a connection only when asked to: ask the backend so */
	if (c->req.hp.http_minor == 0)
		INS_LIT(c->rq_ins, &n, "Connection: keep-alive\r\n");
	c->rq_ins_len = n;
}

static void req_path(struct l7_cli *c)
{
	const char *u = c->in.d + c->req.url, *q;
	size_t n = c->req.url_len;
	struct http_parser_url pu;

	if (n && *u != '/') {	/* absolute-form: its path */
		http_parser_url_init(&pu);
		if (!http_parser_parse_url(u, n, 0, &pu) && (pu.field_set & (1 << UF_PATH))) {
			u += pu.field_data[UF_PATH].off;
			n = pu.field_data[UF_PATH].len;
		}
	}
	q = memchr(u, '?', n);
	c->ri.path = u;
	c->ri.path_len = q ? (size_t)(q - u) : n;
}

int l7_xchg_begin(struct l7_cli *c)
{
	struct l7_msg *m = &c->req;
	const struct l7_farm *f;
	const struct l7_server *s;
	unsigned status;

	/* a newer snapshot: this request is the first to use it (its frontend may be gone) */
	if (c->ws != c->w->ws && !l7_cli_bind(c, c->w->ws))
		return l7_cli_abort(c);
	f = l7_cli_farm(c);
	status = l7_req_check(m);
	if (status)
		return l7_cli_fail(c, status);
	c->ri = (struct l7_req_info){ .client = (const struct sockaddr *)&c->peer };
	if (!l7_head_drops(m, true, f->stickiness == STICK_COOKIE ? f->cookie_name : NULL,
			   f->cookie_name_len, &c->ri.cookie, &c->ri.cookie_len, c->drops,
			   &c->ndrops))
		return l7_cli_fail(c, 431);
	req_path(c);
	/* the body bytes already here go with the head */
	if (l7_msg_parse(m, c->in.w) == P_ERR)
		return l7_cli_fail(c, 400);
	c->close_after = !http_should_keep_alive(&m->hp);
	rq_ins_build(c);
	s = l7_pick(f, c->ws->ps, &c->ri, NULL, &c->set_cookie);
	if (!s)
		return l7_cli_fail(c, 503);
	c->st = CS_XCHG;
	srv_use(c, s);
	return xchg_start(c, s, false);
}

/* More of the request body (the queue to the backend is empty): 1 moved, 0 waiting. */
static int req_more(struct l7_cli *c)
{
	ssize_t n;

	if (c->req.pp == c->in.w) {
		if (!c->c.rd)
			return R_STOP;
		if (c->in.w) {	/* all of it went: the buffer is the relay window again */
			c->in.w = c->req.pp = c->qp = 0;
			c->streamed = true;
		}
		n = l7_read(&c->c, &c->in);
		if (n == -EAGAIN)
			return R_STOP;
		if (n <= 0)
			return l7_cli_abort(c);
	}
	if (l7_msg_parse(&c->req, c->in.w) == P_ERR)
		return l7_cli_fail(c, 400);
	l7_outq_add(&c->rq, c->in.d + c->qp, c->req.pp - c->qp);
	c->qp = c->req.pp;
	return R_AGAIN;
}

/* --- the response --- */

static void rs_ins_build(struct l7_cli *c, bool closing)
{
	uint16_t n = 0;

	if (c->set_cookie) {
		ins_put(c->rs_ins, &n, c->srv->set_cookie, c->srv->set_cookie_len);
		if (c->ln->fe->tls_terminated)
			INS_LIT(c->rs_ins, &n, "; Secure");
		INS_LIT(c->rs_ins, &n, "\r\n");
	}
	if (closing)
		INS_LIT(c->rs_ins, &n, "Connection: close\r\n");
	else if (c->req.hp.http_minor == 0)
		INS_LIT(c->rs_ins, &n, "Connection: keep-alive\r\n");
	c->rs_ins_len = n;
}

/* The final response's head: counted, rewritten, queued. */
static int resp_head(struct l7_cli *c)
{
	struct l7_bk *b = c->bk;
	struct l7_msg *m = &b->resp;
	struct l7_range d[L7_DROPS_MAX];
	uint8_t nd;
	unsigned sc = m->hp.status_code;

	if (sc / 100 == 1) {	/* interim: passed as is, the final one follows */
		c->resp_started = true;
		b->qp = m->start;
		return R_AGAIN;
	}
	if (l7_resp_check(m) || !l7_head_drops(m, false, NULL, 0, NULL, NULL, d, &nd))
		return l7_cli_fail(c, 502);
	l7_count_response(c->srv->ctr, sc, c->req_sent ? l7_now_us() - c->t_sent : 0);
	c->counted = true;
	if (l7_resp_needs_eof(m))
		c->close_after = true;
	rs_ins_build(c, c->close_after);
	l7_head_queue(&c->rs, m, m->start, m->head_end, d, nd, c->rs_ins, c->rs_ins_len);
	b->qp = m->head_end;
	c->resp_started = true;
	return R_AGAIN;
}

/* Parse what the backend sent and queue it; stops after an interim response so the queue
 * never holds more than one head. */
static int resp_parse(struct l7_cli *c)
{
	struct l7_bk *b = c->bk;
	struct l7_msg *m = &b->resp;
	int r;

	for (;;) {
		enum l7_parse p = l7_msg_parse(m, b->in.w);

		if (p == P_ERR)
			return c->resp_started ? l7_cli_abort(c) : l7_cli_fail(c, 502);
		if (p == P_HEAD) {
			r = resp_head(c);
			if (r != R_AGAIN)
				return r;
			continue;
		}
		if (m->head_end) {
			l7_outq_add(&c->rs, b->in.d + b->qp, m->pp - b->qp);
			b->qp = m->pp;
		}
		if (p == P_DONE && m->hp.status_code / 100 == 1) {
			bool skip = m->skip_body;

			l7_msg_init(m, HTTP_RESPONSE, b->in.d, m->pp);
			m->skip_body = skip;
		}
		return R_AGAIN;
	}
}

static int resp_more(struct l7_cli *c)
{
	struct l7_bk *b = c->bk;
	struct l7_msg *m = &b->resp;
	ssize_t n;

	if (m->pp < b->in.w)	/* left after an interim response */
		return resp_parse(c);
	if (!b->c.rd)
		return R_STOP;
	/* all of it went (rs is empty): the buffer is the relay window again */
	if (b->qp == b->in.w && m->pp == b->in.w && (m->head_end || m->start == b->in.w))
		b->in.w = m->pp = b->qp = m->start = 0;
	if (b->in.w == L7_BUF_SIZE)	/* a head that does not fit */
		return l7_cli_fail(c, 502);
	n = l7_read(&b->c, &b->in);
	if (n == -EAGAIN)
		return R_STOP;
	if (n < 0)
		return xchg_fail(c, (int)n);
	if (!n) {
		if (!b->got)
			return xchg_fail(c, -ECONNRESET);
		/* the end of a close-delimited body, else a truncated response */
		if (m->head_end && l7_msg_eof(m) == P_DONE)
			return R_AGAIN;
		return c->resp_started ? l7_cli_abort(c) : l7_cli_fail(c, 502);
	}
	b->got = true;
	return resp_parse(c);
}

/* The response went whole: the next request, or the end of the connection. */
/* --- the whole --- */

static int xchg_end(struct l7_cli *c)
{
	struct l7_bk *b = c->bk;
	bool reuse = c->req_sent && http_should_keep_alive(&b->resp.hp) && b->resp.pp == b->in.w;

	l7_xchg_release(c);
	if (!reuse) {
		c->bk = NULL;
		l7_bk_close(b);
	}
	/* the client's request body was not all read (early response): its connection can't go on */
	if (c->close_after || !c->req_sent) {
		c->st = CS_CLOSING;
		return R_AGAIN;
	}
	l7_cli_next(c, c->req.pp);
	if (c->ws != c->w->ws && !l7_cli_bind(c, c->w->ws))
		return l7_cli_abort(c);
	return R_AGAIN;
}

/* Whether the run loop goes on with the exchange: r is a handler's answer. */
static bool xchg_left(const struct l7_cli *c, int r)
{
	return r == R_FREED || c->st != CS_XCHG;
}

int l7_xchg_run(struct l7_cli *c)
{
	struct l7_bk *b = c->bk;
	bool moved = false;
	int r;

	if (!c->req_sent) {
		if (!l7_outq_empty(&c->rq) && b->c.wr) {
			r = l7_outq_flush(&c->rq, &b->c);
			if (r < 0)
				return xchg_fail(c, r);
			b->connected = moved = true;
		}
		if (l7_outq_empty(&c->rq)) {
			if (c->req.done) {
				c->req_sent = moved = true;
				c->t_sent = l7_now_us();
			} else {
				r = req_more(c);
				if (xchg_left(c, r))
					return r;
				moved |= r == R_AGAIN;
			}
		}
	}
	if (!l7_outq_empty(&c->rs)) {
		if (!c->c.wr)
			goto out;
		if (l7_outq_flush(&c->rs, &c->c) < 0)
			return l7_cli_abort(c);
		moved = true;
		if (!l7_outq_empty(&c->rs))
			goto out;
	}
	if (b->resp.done)
		return xchg_end(c);
	r = resp_more(c);
	if (xchg_left(c, r))
		return r;
	moved |= r == R_AGAIN;
out:
	if (!moved)
		return R_STOP;
	xchg_timer(c);
	return R_AGAIN;
}
