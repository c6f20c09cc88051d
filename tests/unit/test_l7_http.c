// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The L7 proxy's HTTP pieces (user/l7/http.c, head.c, proxyproto.c): strict request parsing
 * (what is refused and with which status), where heads and messages end, and the head the
 * backend gets (stickiness cookie removed with other cookies intact, hop-by-hop lines gone,
 * lines added), the PROXY headers.
 * TAP output comes from CMOCKA_MESSAGE_OUTPUT=TAP.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "l7/engine.h"

/* A request parsed whole from text: its head's status (0: accepted) or the parser's refusal. */
static unsigned req_status(const char *text, struct l7_msg *m)
{
	size_t len = strlen(text);

	l7_msg_init(m, HTTP_REQUEST, text, 0);
	switch (l7_msg_parse(m, (uint32_t)len)) {
	case P_HEAD:
		if (l7_msg_parse(m, (uint32_t)len) == P_ERR)
			return 400;
		return l7_req_check(m);
	case P_MORE:
		return 1;	/* incomplete */
	default:
		return 400;
	}
}

static void test_strict_request(void **state)
{
	static const struct {
		const char *what, *text;
		unsigned status;
	} cases[] = {
		{ "plain GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0 },
		{ "HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", 0 },
		{ "chunked body", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "3\r\nabc\r\n0\r\n\r\n", 0 },
		{ "Content-Length and Transfer-Encoding",
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked"
		  "\r\n\r\n0\r\n\r\n", 400 },
		{ "differing Content-Length",
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		  400 },
		{ "bad chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
				    "zz\r\n", 400 },
		{ "obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400 },
		{ "space before colon", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n"
					"hello", 400 },
		{ "bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400 },
		{ "no Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", 400 },
		{ "two Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "coding other than chunked",
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400 },
		{ "CONNECT", "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "head not yet whole", "GET / HTTP/1.1\r\nHost: a\r\n", 1 },
	};
	struct l7_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned got = req_status(cases[i].text, &m);

		if (got != cases[i].status)
			fail_msg("%s: expected %u, got %u", cases[i].what, cases[i].status, got);
	}
}

static void test_request_line_limit(void **state)
{
	static char text[L7_LINE_MAX + 64];
	struct l7_msg m;
	int n = snprintf(text, sizeof(text), "GET /");

	(void)state;
	memset(text + n, 'a', L7_LINE_MAX);
	strcpy(text + n + L7_LINE_MAX, " HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(req_status(text, &m), 414);
}

/* Two pipelined requests: the first ends where the second starts. */
static void test_message_end(void **state)
{
	const char *text = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
			   "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
	const char *second = strstr(text, "GET");
	struct l7_msg m;

	(void)state;
	l7_msg_init(&m, HTTP_REQUEST, text, 0);
	assert_int_equal(l7_msg_parse(&m, strlen(text)), P_HEAD);
	assert_int_equal(m.head_end, strstr(text, "abc") - text);
	assert_int_equal(l7_msg_parse(&m, strlen(text)), P_DONE);
	assert_int_equal(m.pp, second - text);
}

static void test_response_framing(void **state)
{
	const char *close_delimited = "HTTP/1.1 200 OK\r\nX: y\r\n\r\nbody";
	const char *no_content = "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n";
	struct l7_msg m;

	(void)state;
	l7_msg_init(&m, HTTP_RESPONSE, close_delimited, 0);
	assert_int_equal(l7_msg_parse(&m, strlen(close_delimited)), P_HEAD);
	assert_true(l7_resp_needs_eof(&m));
	assert_int_equal(l7_msg_parse(&m, strlen(close_delimited)), P_MORE);
	assert_int_equal(l7_msg_eof(&m), P_DONE);

	/* 204: no body whatever Content-Length says */
	l7_msg_init(&m, HTTP_RESPONSE, no_content, 0);
	assert_int_equal(l7_msg_parse(&m, strlen(no_content)), P_HEAD);
	assert_false(l7_resp_needs_eof(&m));
	assert_int_equal(l7_msg_parse(&m, strlen(no_content)), P_DONE);
	assert_int_equal(m.pp, strlen(no_content));
}

/* What the backend gets for text: the head rewritten, ins added; the cookie value seen. */
static void rewrite(const char *text, const char *cookie, const char *ins, char *out,
		    char *value)
{
	struct l7_range d[L7_DROPS_MAX];
	struct l7_outq q;
	struct l7_msg m;
	const char *v = NULL;
	size_t vlen = 0, n = 0;
	uint8_t nd;

	l7_msg_init(&m, HTTP_REQUEST, text, 0);
	assert_int_equal(l7_msg_parse(&m, strlen(text)), P_HEAD);
	assert_int_equal(l7_msg_parse(&m, strlen(text)), P_DONE);
	assert_true(l7_head_drops(&m, true, cookie, cookie ? strlen(cookie) : 0, &v, &vlen, d,
				  &nd));
	l7_outq_reset(&q);
	l7_head_queue(&q, &m, 0, m.pp, d, nd, ins, strlen(ins));
	for (uint8_t i = q.i; i < q.n; i++) {
		memcpy(out + n, q.v[i].iov_base, q.v[i].iov_len);
		n += q.v[i].iov_len;
	}
	out[n] = 0;
	snprintf(value, 64, "%.*s", (int)vlen, v ? v : "");
}

static void test_cookie_strip(void **state)
{
	static const struct {
		const char *what, *cookie, *expect, *value;
	} cases[] = {
		{ "alone: the line goes", "S=tok", "", "tok" },
		{ "first", "S=tok; a=1", "Cookie: a=1\r\n", "tok" },
		{ "middle", "a=1; S=tok; b=2", "Cookie: a=1; b=2\r\n", "tok" },
		{ "last", "a=1; S=tok", "Cookie: a=1\r\n", "tok" },
		{ "twice, the first counts", "S=t1; a=1; S=t2", "Cookie: a=1\r\n", "t1" },
		{ "a longer name is another cookie", "SS=x; S=tok", "Cookie: SS=x\r\n", "tok" },
		{ "none of ours", "a=1;b=2", "Cookie: a=1;b=2\r\n", "" },
	};
	char text[512], out[512], expect[512], value[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "GET / HTTP/1.1\r\nHost: a\r\nCookie: %s\r\nX: y\r\n\r\n", cases[i].cookie);
		snprintf(expect, sizeof(expect), "GET / HTTP/1.1\r\nHost: a\r\n%sX: y\r\nI: 1\r\n\r\n",
			 cases[i].expect);
		rewrite(text, "S", "I: 1\r\n", out, value);
		if (strcmp(out, expect) || strcmp(value, cases[i].value))
			fail_msg("%s: expected\n%s(value %s), got\n%s(value %s)", cases[i].what,
				 expect, cases[i].value, out, value);
	}
}

static void test_hop_by_hop(void **state)
{
	const char *text = "POST /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
			   "X-Forwarded-Proto: https\r\nKeep-Alive: 5\r\nContent-Length: 2\r\n\r\nab";
	char out[512], value[64];

	(void)state;
	rewrite(text, NULL, "X-Forwarded-Proto: http\r\n", out, value);
	assert_string_equal(out, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
				 "X-Forwarded-Proto: http\r\n\r\nab");
}

static void test_proxy_protocol(void **state)
{
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(40000) };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(80) };
	char out[L7_PP_MAX + 1];
	size_t n;

	(void)state;
	inet_pton(AF_INET, "198.18.0.10", &src.sin_addr);
	inet_pton(AF_INET, "198.18.100.1", &dst.sin_addr);
	n = l7_pp_build(out, 1, (struct sockaddr *)&src, (struct sockaddr *)&dst);
	out[n] = 0;
	assert_string_equal(out, "PROXY TCP4 198.18.0.10 198.18.100.1 40000 80\r\n");
	n = l7_pp_build(out, 2, (struct sockaddr *)&src, (struct sockaddr *)&dst);
	assert_int_equal(n, 28);
	assert_memory_equal(out, "\r\n\r\n\0\r\nQUIT\n", 12);
	assert_memory_equal(out + 12, "\x21\x11\x00\x0c", 4);
	assert_memory_equal(out + 16, &src.sin_addr, 4);
	assert_memory_equal(out + 20, &dst.sin_addr, 4);
	assert_memory_equal(out + 24, "\x9c\x40\x00\x50", 4);

	struct sockaddr_in6 src6 = { .sin6_family = AF_INET6, .sin6_port = htons(40000) };
	struct sockaddr_in6 dst6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };

	inet_pton(AF_INET6, "2001:db8::10", &src6.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:100::1", &dst6.sin6_addr);
	n = l7_pp_build(out, 1, (struct sockaddr *)&src6, (struct sockaddr *)&dst6);
	out[n] = 0;
	assert_string_equal(out, "PROXY TCP6 2001:db8::10 2001:db8:100::1 40000 80\r\n");
	n = l7_pp_build(out, 2, (struct sockaddr *)&src6, (struct sockaddr *)&dst6);
	assert_int_equal(n, 52);
	assert_memory_equal(out, "\r\n\r\n\0\r\nQUIT\n", 12);
	assert_memory_equal(out + 12, "\x21\x21\x00\x24", 4);
	assert_memory_equal(out + 16, &src6.sin6_addr, 16);
	assert_memory_equal(out + 32, &dst6.sin6_addr, 16);
	assert_memory_equal(out + 48, "\x9c\x40\x00\x50", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_request),
		cmocka_unit_test(test_request_line_limit),
		cmocka_unit_test(test_message_end),
		cmocka_unit_test(test_response_framing),
		cmocka_unit_test(test_cookie_strip),
		cmocka_unit_test(test_hop_by_hop),
		cmocka_unit_test(test_proxy_protocol),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
