// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * namesrv: the rig backends' tiny server (DESIGN.md section 6: "each running an HTTP server
 * that answers with its own name").
 *
 * This is a TEST FIXTURE, not part of the product. Its HTTP handling is deliberately minimal
 * (read until the blank line, take method and path from the request line, look at three
 * headers); the product's L7 proxy uses an established HTTP parser, not this code.
 *
 * Server mode:
 *   TCP: HTTP/1.1 on the wildcard address (IPv4 and IPv6 sockets, so VIPs held on the
 *   loopback are served too). Every request gets `200 OK`, text/plain, body NAME "\n";
 *   `GET /bytes/N` gets N bytes (N <= 1e9) streamed in chunks. Keep-alive and pipelining.
 *   For the L7 proxy's tests (issue 8), what a proxy sent is observable:
 *     GET /headers       the body is the request head as received (request line, headers,
 *                        blank line), preceded by the connection's PROXY protocol header if
 *                        it had one: "PROXY-V1: PROXY TCP4 SRC DST SPORT DPORT" or
 *                        "PROXY-V2: TCP4 SRC DST SPORT DPORT" (or "PROXY-V2: LOCAL")
 *     GET /chunked/N     N bytes like /bytes/N, Transfer-Encoding: chunked (HTTP/1.1)
 *     GET /eof/N         N bytes, no Content-Length: the body ends when the connection closes
 *     GET /delay/MS      the name, answered MS milliseconds (<= 600000) later
 *     any /upload        reads the request body (Content-Length or chunked) and answers
 *                        "N CRC" once it is all in: its length and zlib CRC-32 (8 hex digits);
 *                        with Expect: 100-continue, "100 Continue" first
 *   A PROXY protocol header (v1 or v2) at the start of a connection is taken and remembered
 *   (whatever the options). --fail reset|close: every request gets no answer, the connection
 *   is reset (RST) or closed (FIN) once its head is in: a backend failing before answering.
 *   UDP: every datagram gets NAME "\n" back, sent from the address the datagram was sent to
 *   (IP_PKTINFO / IPV6_PKTINFO): with DSR the client must see the reply come from the VIP.
 *   One thread, poll(), non-blocking sockets; a client that vanishes costs one closed fd,
 *   one that stalls is closed after --idle-timeout. Quiet unless --verbose.
 *
 * Client mode (--udp-probe ADDR PORT): send a datagram to ADDR:PORT on a connected UDP
 * socket, which only accepts a reply whose source is ADDR:PORT, print the reply, exit 0
 * (1: no reply). With --ipip-via HOST the datagram is sent inside an IPIP (IPv4) or
 * IPv6-in-IPv6 tunnel to HOST, the way limpet's balancer forwards in ipip mode, with the
 * inner source this host would use for ADDR: the reply must then come back directly.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fixture.h"

#define NAME_LEN_MAX	255
#define REQ_MAX		16384		/* request line + headers */
#define OUT_MAX		1024		/* response headers + a short body */
#define CHUNK		65536		/* body bytes per send() for /bytes/N */
#define BYTES_MAX	1000000000ULL	/* largest N of /bytes/N */
#define WRITE_BUDGET	(4u << 20)	/* bytes per connection per wakeup, so one fast reader
					 * cannot starve the others */
#define ACCEPT_BATCH	256
#define UDP_BATCH	64
#define DELAY_MAX	600000ULL	/* largest MS of /delay/MS */
#define PROXY_MAX	128		/* the PROXY header, as /headers shows it */

/* ---- options: one table drives getopt_long and --help (fixture.h) ---- */

static const struct fx_opt opts[] = {
	{ "name", 1, 'n', "NAME", "server: the name to answer with (required, 1-255 characters)" },
	{ "port", 1, 'p', "PORT", "server: HTTP port on TCP, 0 = no TCP (default 80)" },
	{ "udp-port", 1, 'u', "PORT", "server: UDP port, 0 = no UDP (default 80)" },
	{ "idle-timeout", 1, 'i', "SEC",
	  "server: close HTTP connections idle this long, 0 = never (default 300)" },
	{ "udp-probe", 1, 'P', "ADDR PORT",
	  "client: send one datagram to ADDR PORT, print the reply (exit 0), exit 1 if none" },
	{ "ipip-via", 1, 'I', "HOST",
	  "client: send the probe encapsulated (IPIP / IPv6-in-IPv6) to HOST" },
	{ "timeout", 1, 't', "MS", "client: how long to wait for the reply (default 2000)" },
	{ "fail", 1, 'f', "MODE",
	  "server: answer no request: reset (RST) or close (FIN) once its head is in" },
	{ "verbose", 0, 'v', NULL, "log connections, requests and datagrams to stderr" },
	{ "help", 0, 'h', NULL, "show this help" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: namesrv --name NAME [--port 80] [--udp-port 80] [--fail reset|close]"
		   " [--verbose]\n"
		   "       namesrv --udp-probe ADDR PORT [--ipip-via HOST] [--timeout MS]\n"
		   "Test fixture for the limpet rig: HTTP and UDP server answering its name.\n\n");
	fx_usage_opts(f, opts, NOPTS, 24);
}

/* ---- server ---- */

struct conn {
	int fd;
	bool want_write;	/* poll for POLLOUT, not POLLIN */
	bool close_after;	/* close once the output is sent */
	size_t in_len;
	size_t out_len, out_off;
	uint64_t body_left;	/* generated /bytes body still to send */
	uint64_t discard;	/* request body bytes still to skip */
	bool out_chunked;	/* the generated body goes out chunked (/chunked/N) */
	bool out_eof;		/* the body ends with the connection (/eof/N): no framing */
	bool chunk_started;	/* a chunk's data went out: the next size line needs a CRLF */
	uint64_t chunk_left;	/* data of the current chunk still to send */
	char *xbody;		/* a body too big for out (/headers), malloc'd; sent after out */
	size_t xbody_len, xbody_off;
	int64_t delay_until;	/* /delay/MS: hold the queued response until then; 0: none */
	enum { UP_NONE, UP_CL, UP_CHUNK_SIZE, UP_CHUNK_DATA, UP_CHUNK_CRLF, UP_TRAILER } up;
	uint64_t up_left;	/* /upload: body (UP_CL) or chunk (UP_CHUNK_DATA) bytes to read */
	uint64_t up_count;	/* /upload: body bytes read */
	uint32_t up_crc;
	int up_keep;		/* /upload: the keep-alive decision of its request */
	bool up_head;
	unsigned nreq;		/* requests seen: a PROXY header may only come first */
	char proxy[PROXY_MAX];	/* the PROXY header seen, as /headers shows it; "" if none */
	int64_t last_ms;	/* last progress, for the idle timeout */
	char peer[INET6_ADDRSTRLEN + 8];
	char out[OUT_MAX];	/* headers and at most NAME_LEN_MAX + 1 body bytes */
	char in[REQ_MAX];
};

struct srv {
	const char *name;
	char body[NAME_LEN_MAX + 2];	/* NAME "\n" */
	int64_t idle_ms;		/* 0: never */
	enum { FAIL_NONE, FAIL_RESET, FAIL_CLOSE } fail;
	int tcp[2], udp[2];		/* IPv4, IPv6; -1: none */
	int64_t accept_paused_until;
	struct conn **conns;
	size_t nconns, cap;
};

static char filler[CHUNK];
static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/* zlib's crc32(crc, p, n): start with 0 */
static uint32_t crc_update(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

enum { KEEP_NO, KEEP_11, KEEP_10 };	/* close after; HTTP/1.1 default; HTTP/1.0 asked for it */

/* Queue a response whose body is the text `body`, or `gen` generated bytes if body is NULL. */
static void conn_respond(const struct srv *s, struct conn *c, int status, const char *reason,
			 bool head, int keep, const char *body, uint64_t gen)
{
	size_t blen = body ? strlen(body) : 0;
	char framing[64];
	int n;

	if (c->out_eof) {
		framing[0] = '\0';
		keep = KEEP_NO;
	} else if (c->out_chunked)
		snprintf(framing, sizeof(framing), "Transfer-Encoding: chunked\r\n");
	else
		snprintf(framing, sizeof(framing), "Content-Length: %llu\r\n",
			 (unsigned long long)(body ? blen : gen));
	n = snprintf(c->out, sizeof(c->out),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: text/plain\r\n"
		     "%s"
		     "X-Backend: %s\r\n"
		     "%s"
		     "\r\n",
		     status, reason, framing, s->name,
		     keep == KEEP_10 ? "Connection: keep-alive\r\n" :
		     keep == KEEP_11 ? "" : "Connection: close\r\n");
	/* OUT_MAX holds the longest name twice plus the fixed text: no truncation */
	if (!head && body) {
		memcpy(c->out + n, body, blen);
		n += blen;
	}
	c->out_len = n;
	c->out_off = 0;
	c->body_left = head || body ? 0 : gen;
	c->close_after = !keep;
	if (head || body)
		c->out_chunked = false;
	c->chunk_started = false;
	c->chunk_left = 0;
}

/*
 * A PROXY protocol header at the start of the connection (v1 text line or v2 binary), taken
 * from c->in and described in c->proxy. 1: taken or none there; 0: more input needed;
 * -1: malformed.
 */
static int conn_proxy(struct conn *c)
{
	static const char sig2[12] = "\r\n\r\n\0\r\nQUIT\n";
	size_t n = c->in_len, take;

	if (n && c->in[0] == 'P' && !memcmp(c->in, "PROXY ", n < 6 ? n : 6)) {
		char *eol = memmem(c->in, n, "\r\n", 2);

		if (!eol)
			return n < 108 ? 0 : -1;
		take = eol - c->in + 2;
		snprintf(c->proxy, sizeof(c->proxy), "PROXY-V1: %.*s", (int)(take - 2), c->in);
	} else if (n && !memcmp(c->in, sig2, n < 12 ? n : 12)) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
		const uint8_t *u = (const uint8_t *)c->in;
		size_t len;

		if (n < 16)
			return 0;
		len = (size_t)u[14] << 8 | u[15];
		if (n < 16 + len)
			return 0;
		take = 16 + len;
		if ((u[12] & 0xf0) != 0x20)
			return -1;
		if ((u[12] & 0x0f) == 0) {
			snprintf(c->proxy, sizeof(c->proxy), "PROXY-V2: LOCAL");
		} else if (u[13] == 0x11 && len >= 12) {
			inet_ntop(AF_INET, u + 16, a, sizeof(a));
			inet_ntop(AF_INET, u + 20, b, sizeof(b));
			snprintf(c->proxy, sizeof(c->proxy), "PROXY-V2: TCP4 %s %s %u %u", a, b,
				 u[24] << 8 | u[25], u[26] << 8 | u[27]);
		} else if (u[13] == 0x21 && len >= 36) {
			inet_ntop(AF_INET6, u + 16, a, sizeof(a));
			inet_ntop(AF_INET6, u + 32, b, sizeof(b));
			snprintf(c->proxy, sizeof(c->proxy), "PROXY-V2: TCP6 %s %s %u %u", a, b,
				 u[48] << 8 | u[49], u[50] << 8 | u[51]);
		} else {
			snprintf(c->proxy, sizeof(c->proxy), "PROXY-V2: family 0x%02x", u[13]);
		}
	} else {
		return 1;
	}
	pr_debug("%s: %s", c->peer, c->proxy);
	memmove(c->in, c->in + take, n - take);
	c->in_len -= take;
	return 1;
}

/*
 * /upload: read what c->in holds of the request body (c->up says where in it we are). true
 * when progress was made (or the body is done: its answer is queued), false when more input
 * is needed.
 */
static bool conn_upload(const struct srv *s, struct conn *c)
{
	char *eol, *end, ans[64];
	size_t k;

	switch (c->up) {
	case UP_CL:
	case UP_CHUNK_DATA:
		k = c->up_left < c->in_len ? c->up_left : c->in_len;
		if (!k && c->up_left)
			return false;
		c->up_crc = crc_update(c->up_crc, c->in, k);
		c->up_count += k;
		c->up_left -= k;
		memmove(c->in, c->in + k, c->in_len - k);
		c->in_len -= k;
		if (c->up_left)
			return true;
		if (c->up == UP_CHUNK_DATA) {
			c->up = UP_CHUNK_CRLF;
			return true;
		}
		break;
	case UP_CHUNK_CRLF:
		if (c->in_len < 2)
			return false;
		if (memcmp(c->in, "\r\n", 2))
			goto bad;
		memmove(c->in, c->in + 2, c->in_len - 2);
		c->in_len -= 2;
		c->up = UP_CHUNK_SIZE;
		return true;
	case UP_CHUNK_SIZE:
	case UP_TRAILER:
		eol = memmem(c->in, c->in_len, "\r\n", 2);
		if (!eol) {
			if (c->in_len == REQ_MAX)
				goto bad;
			return false;
		}
		*eol = '\0';
		k = eol - c->in + 2;
		if (c->up == UP_CHUNK_SIZE) {
			errno = 0;
			c->up_left = strtoull(c->in, &end, 16);
			if (errno || end == c->in || (*end && *end != ';' && *end != ' '))
				goto bad;
			c->up = c->up_left ? UP_CHUNK_DATA : UP_TRAILER;
		} else if (k == 2) {
			c->up = UP_NONE;	/* the blank line after the trailers */
		}
		memmove(c->in, c->in + k, c->in_len - k);
		c->in_len -= k;
		if (c->up != UP_NONE)
			return true;
		break;
	case UP_NONE:
		return false;
	}
	c->up = UP_NONE;
	snprintf(ans, sizeof(ans), "%llu %08x\n", (unsigned long long)c->up_count, c->up_crc);
	conn_respond(s, c, 200, "OK", c->up_head, c->up_keep, ans, 0);
	pr_debug("%s: upload of %llu bytes, crc %08x", c->peer, (unsigned long long)c->up_count,
		 c->up_crc);
	return true;
bad:
	c->up = UP_NONE;
	c->in_len = 0;
	conn_respond(s, c, 400, "Bad Request", false, KEEP_NO, "bad chunked body\n", 0);
	return true;
}

/* Does the comma-separated header value v hold the token tok? */
static bool token_has(const char *v, const char *tok)
{
	size_t tl = strlen(tok);

	for (const char *p = v; (p = strcasestr(p, tok)); p += tl) {
		bool start = p == v || p[-1] == ' ' || p[-1] == ',' || p[-1] == '\t';
		char e = p[tl];

		if (start && (e == '\0' || e == ' ' || e == ',' || e == '\t'))
			return true;
	}
	return false;
}

/*
 * If the request at the head of c->in is complete, queue its response and drop it from the
 * buffer. false: more input is needed.
 */
static bool conn_request(const struct srv *s, struct conn *c)
{
	char *hend, *line, *next, *method, *path = NULL, *version = NULL, *q;
	bool http11 = false, head = false, bad = false;
	int keep;
	bool conn_close = false, conn_keep = false, chunked = false;
	unsigned long long clen = 0;
	unsigned long nbytes = 0;
	int bytes_req = 0;	/* 1: /bytes/N; -1: /bytes/ with a bad N */
	bool chunked_req = false, upload = false, expect100 = false;
	unsigned long delay = 0;
	size_t hlen;

	if (!c->nreq) {
		int r = conn_proxy(c);

		if (r == 0)
			return false;
		if (r < 0) {
			c->in_len = 0;
			conn_respond(s, c, 400, "Bad Request", false, KEEP_NO,
				     "bad PROXY protocol header\n", 0);
			return true;
		}
	}
	/* tolerate empty lines before a request (RFC 9112 section 2.2) */
	while (c->in_len >= 2 && c->in[0] == '\r' && c->in[1] == '\n') {
		memmove(c->in, c->in + 2, c->in_len - 2);
		c->in_len -= 2;
	}
	hend = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	if (!hend)
		return false;
	hlen = hend - c->in + 4;
	c->nreq++;
	if (s->fail) {
		if (s->fail == FAIL_RESET) {
			struct linger lg = { 1, 0 };

			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		pr_debug("%s: request not answered (--fail)", c->peer);
		c->in_len = 0;
		c->close_after = true;
		return true;
	}
	free(c->xbody);
	c->xbody = NULL;
	c->xbody_len = c->xbody_off = 0;
	if (hlen >= 13 && !memcmp(c->in, "GET /headers", 12) &&
	    (c->in[12] == ' ' || c->in[12] == '?')) {
		size_t pl = c->proxy[0] ? strlen(c->proxy) + 2 : 0;

		c->xbody = malloc(pl + hlen);
		if (c->xbody) {
			if (pl)
				memcpy(c->xbody, c->proxy, pl - 2);
			if (pl)
				memcpy(c->xbody + pl - 2, "\r\n", 2);
			memcpy(c->xbody + pl, c->in, hlen);
			c->xbody_len = pl + hlen;
		}
	}
	hend[2] = '\0';		/* the head is now one string of "\r\n"-ended lines */
	if (strlen(c->in) != (size_t)(hend + 2 - c->in))
		bad = true;	/* a NUL inside the head */

	/* request line: METHOD SP PATH SP HTTP/1.x */
	method = c->in;
	next = strstr(method, "\r\n");
	*next = '\0';
	if (!bad) {
		path = strchr(method, ' ');
		if (path) {
			*path++ = '\0';
			version = strchr(path, ' ');
			if (version)
				*version++ = '\0';
		}
		if (!path || !version || !*method || !*path || strncmp(version, "HTTP/1.", 7) ||
		    (version[7] != '0' && version[7] != '1') || version[8])
			bad = true;
	}
	if (!bad) {
		http11 = version[7] == '1';
		head = !strcmp(method, "HEAD");
	}

	/* headers: only the three that decide the framing */
	for (line = next + 2; !bad && *line; line = next + 2) {
		char *colon, *v, *end;

		next = strstr(line, "\r\n");
		*next = '\0';
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		end = v + strlen(v);
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!strcasecmp(line, "connection")) {
			conn_close |= token_has(v, "close");
			conn_keep |= token_has(v, "keep-alive");
		} else if (!strcasecmp(line, "content-length")) {
			errno = 0;
			clen = strtoull(v, &end, 10);
			if (errno || end == v || *end || *v < '0' || *v > '9')
				bad = true;
		} else if (!strcasecmp(line, "transfer-encoding")) {
			chunked = true;	/* a body we do not frame: answer, then close */
			chunked_req = token_has(v, "chunked");
		} else if (!strcasecmp(line, "expect")) {
			expect100 = !strcasecmp(v, "100-continue");
		}
	}

	if (!bad) {
		q = strchr(path, '?');
		if (q)
			*q = '\0';
		if (!strncmp(path, "/bytes/", 7))
			bytes_req = fx_parse_ulong(path + 7, 0, BYTES_MAX, &nbytes) ? 1 : -1;
		if (!strncmp(path, "/chunked/", 9)) {
			bytes_req = fx_parse_ulong(path + 9, 0, BYTES_MAX, &nbytes) ? 1 : -1;
			/* RFC 9112 6.1: no Transfer-Encoding to an HTTP/1.0 request */
			c->out_chunked = bytes_req > 0 && !head && http11;
		}
		if (!strncmp(path, "/eof/", 5)) {
			bytes_req = fx_parse_ulong(path + 5, 0, BYTES_MAX, &nbytes) ? 1 : -1;
			c->out_eof = bytes_req > 0;
		}
		if (!strncmp(path, "/delay/", 7) && !fx_parse_ulong(path + 7, 0, DELAY_MAX, &delay))
			bytes_req = -1;
		/* a body we frame, chunked or not: the connection may stay open */
		upload = !strcmp(path, "/upload") && (!chunked || chunked_req);
		if (upload)
			chunked = false;
	}

	if (bad || chunked)
		keep = KEEP_NO;
	else if (http11)
		keep = conn_close ? KEEP_NO : KEEP_11;
	else
		keep = conn_keep ? KEEP_10 : KEEP_NO;
	if (!bad && upload) {
		/* answered once the body is in (conn_upload) */
		c->up = chunked_req ? UP_CHUNK_SIZE : UP_CL;
		c->up_left = chunked_req ? 0 : clen;
		c->up_count = 0;
		c->up_crc = 0;
		c->up_keep = keep;
		c->up_head = head;
		clen = 0;
		memmove(c->in, c->in + hlen, c->in_len - hlen);
		c->in_len -= hlen;
		if (expect100 && http11) {	/* the interim response, then the body */
			c->out_len = snprintf(c->out, sizeof(c->out), "HTTP/1.1 100 Continue\r\n\r\n");
			c->out_off = 0;
		}
		pr_debug("%s: %s %s (upload, %s)", c->peer, method, path,
			 chunked_req ? "chunked" : "content-length");
		return true;
	}
	if (bad)
		conn_respond(s, c, 400, "Bad Request", false, KEEP_NO, "bad request\n", 0);
	else if (c->xbody)
		conn_respond(s, c, 200, "OK", head, keep, NULL, c->xbody_len);
	else if (bytes_req < 0)
		conn_respond(s, c, 400, "Bad Request", head, keep,
			     "bad byte count: want /bytes/N, N in 0..1000000000\n", 0);
	else if (bytes_req > 0)
		conn_respond(s, c, 200, "OK", head, keep, NULL, nbytes);
	else
		conn_respond(s, c, 200, "OK", head, keep, s->body, 0);
	if (c->xbody) {
		c->body_left = 0;	/* the body is xbody, not generated */
		if (head)
			c->xbody_len = 0;
	}
	if (delay)
		c->delay_until = fx_now_ms() + (int64_t)delay;
	pr_debug("%s: %s %s -> %s%s", c->peer, bad ? "(bad request)" : method, bad ? "" : path,
		 bad || bytes_req < 0 ? "400" : "200", keep ? "" : ", close");

	if (keep) {
		memmove(c->in, c->in + hlen, c->in_len - hlen);
		c->in_len -= hlen;
		c->discard = clen;
	} else {
		c->in_len = 0;
	}
	return true;
}

/* Is output pending: queued bytes, an xbody, a generated body or chunk framing? */
static bool conn_pending(const struct conn *c)
{
	return c->out_off < c->out_len || c->xbody_off < c->xbody_len || c->body_left ||
	       c->out_chunked;
}

/* Send pending output. 1: all sent; 0: would block or budget spent; -1: connection gone. */
static int conn_write(struct conn *c, size_t *budget)
{
	while (conn_pending(c)) {
		size_t hdr, x, gen;
		struct iovec iov[3];
		struct msghdr m = { .msg_iov = iov };
		ssize_t w;

		if (!*budget)
			return 0;
		/* chunked: once out is sent, out holds the framing before the next data */
		if (c->out_chunked && c->out_off == c->out_len && !c->chunk_left) {
			int n = snprintf(c->out, sizeof(c->out), "%s",
					 c->chunk_started ? "\r\n" : "");

			if (c->body_left) {
				c->chunk_left = c->body_left < CHUNK ? c->body_left : CHUNK;
				n += snprintf(c->out + n, sizeof(c->out) - n, "%llx\r\n",
					      (unsigned long long)c->chunk_left);
				c->chunk_started = true;
			} else {
				n += snprintf(c->out + n, sizeof(c->out) - n, "0\r\n\r\n");
				c->out_chunked = false;
			}
			c->out_len = n;
			c->out_off = 0;
		}
		hdr = c->out_len - c->out_off;
		x = c->xbody_len - c->xbody_off;
		gen = c->out_chunked ? c->chunk_left : c->body_left;
		if (gen > CHUNK)
			gen = CHUNK;
		/* headers and the first body chunk in one send: no lone small segment */
		if (hdr) {
			iov[m.msg_iovlen].iov_base = c->out + c->out_off;
			iov[m.msg_iovlen++].iov_len = hdr;
		}
		if (x) {
			iov[m.msg_iovlen].iov_base = c->xbody + c->xbody_off;
			iov[m.msg_iovlen++].iov_len = x;
		}
		if (gen) {
			iov[m.msg_iovlen].iov_base = filler;
			iov[m.msg_iovlen++].iov_len = gen;
		}
		if (!m.msg_iovlen)
			return 1;	/* cannot happen: pending means something to send */
		w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			pr_debug("%s: send: %s", c->peer, strerror(errno));
			return -1;
		}
		*budget = (size_t)w >= *budget ? 0 : *budget - w;
		if ((size_t)w <= hdr) {
			c->out_off += w;
			continue;
		}
		c->out_off = c->out_len;
		w -= hdr;
		if ((size_t)w <= x) {
			c->xbody_off += w;
			continue;
		}
		c->xbody_off = c->xbody_len;
		w -= x;
		c->body_left -= w;
		if (c->out_chunked)
			c->chunk_left -= w;
	}
	return 1;
}

/* Make all the progress possible on c. false: the connection is finished; close it. */
static bool conn_run(const struct srv *s, struct conn *c, int64_t now)
{
	size_t budget = WRITE_BUDGET;

	for (;;) {
		ssize_t r;

		if (c->delay_until) {
			if (now < c->delay_until) {
				c->want_write = false;
				return true;
			}
			c->delay_until = 0;
		}
		if (conn_pending(c)) {
			size_t before = budget;
			int w = conn_write(c, &budget);

			if (budget != before)
				c->last_ms = now;
			if (w < 0)
				return false;
			if (w == 0) {
				c->want_write = true;
				return true;
			}
			continue;
		}
		if (c->close_after)
			return false;
		c->want_write = false;
		if (c->up != UP_NONE) {
			if (conn_upload(s, c))
				continue;
		} else if (c->discard && c->in_len) {
			size_t k = c->discard < c->in_len ? c->discard : c->in_len;

			memmove(c->in, c->in + k, c->in_len - k);
			c->in_len -= k;
			c->discard -= k;
		}
		if (!c->discard && c->up == UP_NONE) {
			if (conn_request(s, c))
				continue;
			if (c->in_len == REQ_MAX) {
				conn_respond(s, c, 431, "Request Header Fields Too Large", false,
					     KEEP_NO, "request head too large\n", 0);
				c->in_len = 0;
				continue;
			}
		}
		r = recv(c->fd, c->in + c->in_len, REQ_MAX - c->in_len, MSG_DONTWAIT);
		if (r > 0) {
			c->in_len += r;
			c->last_ms = now;
			continue;
		}
		if (r == 0)
			return false;	/* peer closed; an unfinished request goes with it */
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		if (errno == EINTR)
			continue;
		pr_debug("%s: recv: %s", c->peer, strerror(errno));
		return false;
	}
}

static void conn_close(struct conn *c, const char *why)
{
	pr_debug("%s: closed%s", c->peer, why);
	close(c->fd);
	free(c->xbody);
	free(c);
}

static void srv_accept(struct srv *s, int lfd, int64_t now)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		struct conn **conns, *c;
		int fd, one = 1;

		fd = fx_accept(lfd, &ss);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* out of fds or memory: stop accepting for a moment, do not spin */
				pr_debug("accept: %s; pausing accepts", strerror(errno));
				s->accept_paused_until = now + 100;
			}
			return;
		}
		conns = fx_reserve(s->conns, s->nconns, &s->cap, sizeof(*conns));
		if (!conns) {
			close(fd);
			s->accept_paused_until = now + 100;
			return;
		}
		s->conns = conns;
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			s->accept_paused_until = now + 100;
			return;
		}
		memset(c, 0, offsetof(struct conn, out));
		c->fd = fd;
		c->last_ms = now;
		fx_addr_port_str(&ss, c->peer, sizeof(c->peer));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		s->conns[s->nconns++] = c;
		pr_debug("%s: connected", c->peer);
	}
}

/*
 * Answer every queued datagram with NAME "\n", from the address it was sent to: the
 * received pktinfo goes back as the reply's pktinfo, so a datagram to a VIP held on lo is
 * answered from the VIP even though it arrived on another interface (DSR).
 */
static void srv_udp(const struct srv *s, int fd)
{
	for (int i = 0; i < UDP_BATCH; i++) {
		union {
			char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
			struct cmsghdr align;
		} cin, cout;
		char buf[2048], who[INET6_ADDRSTRLEN + 8], to[INET6_ADDRSTRLEN] = "?";
		struct sockaddr_storage peer;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = {
			.msg_name = &peer, .msg_namelen = sizeof(peer), .msg_iov = &iov,
			.msg_iovlen = 1, .msg_control = cin.buf, .msg_controllen = sizeof(cin.buf),
		};
		struct iovec riov = { (void *)s->body, strlen(s->body) };
		struct msghdr r = { .msg_iov = &riov, .msg_iovlen = 1 };
		struct cmsghdr *cm;
		ssize_t n;

		n = recvmsg(fd, &m, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;		/* EAGAIN, or an error queued by ICMP: nothing to do */
		}
		r.msg_name = &peer;
		r.msg_namelen = m.msg_namelen;
		memset(&cout, 0, sizeof(cout));
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			struct cmsghdr *o = (struct cmsghdr *)cout.buf;

			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi, po = { 0 };

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				/* on receive, spec_dst is the local address the datagram was for */
				po.ipi_spec_dst = pi.ipi_spec_dst;
				o->cmsg_level = IPPROTO_IP;
				o->cmsg_type = IP_PKTINFO;
				o->cmsg_len = CMSG_LEN(sizeof(po));
				memcpy(CMSG_DATA(o), &po, sizeof(po));
				r.msg_control = cout.buf;
				r.msg_controllen = CMSG_SPACE(sizeof(po));
				inet_ntop(AF_INET, &pi.ipi_addr, to, sizeof(to));
			} else if (cm->cmsg_level == IPPROTO_IPV6 &&
				   cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi, po = { 0 };

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				if (!IN6_IS_ADDR_MULTICAST(&pi.ipi6_addr))
					po.ipi6_addr = pi.ipi6_addr;
				if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
					po.ipi6_ifindex = pi.ipi6_ifindex;
				o->cmsg_level = IPPROTO_IPV6;
				o->cmsg_type = IPV6_PKTINFO;
				o->cmsg_len = CMSG_LEN(sizeof(po));
				memcpy(CMSG_DATA(o), &po, sizeof(po));
				r.msg_control = cout.buf;
				r.msg_controllen = CMSG_SPACE(sizeof(po));
				inet_ntop(AF_INET6, &pi.ipi6_addr, to, sizeof(to));
			}
		}
		if (sendmsg(fd, &r, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			pr_debug("udp %s -> %s: reply: %s",
				 fx_addr_port_str(&peer, who, sizeof(who)), to, strerror(errno));
		else
			pr_debug("udp %s -> %s: %zd bytes, answered",
				 fx_addr_port_str(&peer, who, sizeof(who)), to, n);
	}
}

/* A wildcard socket of one family; -1 if the family is missing (no IPv6), exits on error. */
static int srv_socket(int family, int type, unsigned port)
{
	int fd = fx_listen(family, type, port);

	if (fd < 0 && family == AF_INET6 && errno == EAFNOSUPPORT) {
		pr_debug("no IPv6 here: serving IPv4 only");
		return -1;
	}
	if (fd < 0) {
		pr_warn("%s %s port %u: %s", type == SOCK_STREAM ? "tcp" : "udp",
			family == AF_INET ? "IPv4" : "IPv6", port, strerror(errno));
		exit(1);
	}
	return fd;
}

static int do_serve(struct srv *s, unsigned tcp_port, unsigned udp_port)
{
	struct pollfd *pfds = NULL;
	size_t pfd_cap = 0;

	memset(filler, 'x', sizeof(filler));
	crc_init();
	fx_raise_nofile(65536);	/* enough fds for the connections tests open (>= 500) */
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;

		s->tcp[f] = tcp_port ? srv_socket(family, SOCK_STREAM, tcp_port) : -1;
		s->udp[f] = udp_port ? srv_socket(family, SOCK_DGRAM, udp_port) : -1;
	}
	pr_debug("%s: serving http on tcp %u, udp %u", s->name, tcp_port, udp_port);

	for (;;) {
		int64_t now = fx_now_ms();
		size_t np = 0, nconns = s->nconns, keep;
		bool paused = now < s->accept_paused_until;
		int timeout = -1, n;

		if (!pfds || pfd_cap < nconns + 4) {
			pfd_cap = 2 * (nconns + 4);
			free(pfds);
			pfds = malloc(pfd_cap * sizeof(*pfds));
			if (!pfds) {
				pr_warn("out of memory");
				return 1;
			}
		}
		/* slots 0..3: listeners and UDP sockets (fd -1 is ignored by poll) */
		for (int f = 0; f < 2; f++) {
			pfds[np++] = (struct pollfd){ paused ? -1 : s->tcp[f], POLLIN, 0 };
			pfds[np++] = (struct pollfd){ s->udp[f], POLLIN, 0 };
		}
		for (size_t i = 0; i < nconns; i++) {
			const struct conn *c = s->conns[i];

			/* a held response (/delay) waits for its time, not for the socket */
			pfds[np++] = (struct pollfd){ c->fd,
						      c->delay_until ? 0 :
						      c->want_write ? POLLOUT : POLLIN, 0 };
		}
		if (s->idle_ms && nconns)
			timeout = 1000;
		if (paused)
			timeout = 100;
		for (size_t i = 0; i < nconns; i++) {
			int64_t d = s->conns[i]->delay_until;

			if (d && (timeout < 0 || d - now < timeout))
				timeout = d > now ? (int)(d - now) : 0;
		}

		n = poll(pfds, np, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_warn("poll: %s", strerror(errno));
			return 1;
		}
		now = fx_now_ms();
		for (int f = 0; f < 2; f++) {
			if (pfds[2 * f].revents)
				srv_accept(s, s->tcp[f], now);
			if (pfds[2 * f + 1].revents)
				srv_udp(s, s->udp[f]);
		}
		/* connections accepted just now sit past nconns: first poll them next round */
		keep = 0;
		for (size_t i = 0; i < s->nconns; i++) {
			struct conn *c = s->conns[i];

			if (i < nconns && c->delay_until && (pfds[4 + i].revents & (POLLERR | POLLHUP))) {
				conn_close(c, " (while its response was held)");
				continue;
			}
			if (i < nconns && (pfds[4 + i].revents ||
					   (c->delay_until && c->delay_until <= now)) &&
			    !conn_run(s, c, now)) {
				conn_close(c, "");
				continue;
			}
			if (s->idle_ms && now - c->last_ms > s->idle_ms) {
				conn_close(c, " (idle)");
				continue;
			}
			s->conns[keep++] = c;
		}
		s->nconns = keep;
	}
}

/* ---- client: --udp-probe ---- */

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/*
 * The inner packet of an ipip probe: IPv4 or IPv6 header + UDP from src to dst (the local
 * socket's address and the probed address), so that the reply finds the probe's socket.
 */
static size_t build_inner(uint8_t *pkt, const struct sockaddr_storage *src,
			  const struct sockaddr_storage *dst, const char *msg)
{
	size_t mlen = strlen(msg), ulen = 8 + mlen, ihl, alen;
	const uint8_t *sa, *da;
	uint16_t sport, dport;
	uint32_t sum;
	uint8_t *udp;

	if (src->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)src, *d4 = (const void *)dst;

		ihl = 20;
		alen = 4;
		sa = (const uint8_t *)&s4->sin_addr;
		da = (const uint8_t *)&d4->sin_addr;
		sport = ntohs(s4->sin_port);
		dport = ntohs(d4->sin_port);
		memset(pkt, 0, ihl);
		pkt[0] = 0x45;
		put16(pkt + 2, ihl + ulen);
		put16(pkt + 4, (uint16_t)getpid());
		pkt[8] = 64;
		pkt[9] = IPPROTO_UDP;
		memcpy(pkt + 12, sa, 4);
		memcpy(pkt + 16, da, 4);
		put16(pkt + 10, csum_fold(csum_add(0, pkt, ihl)));
	} else {
		const struct sockaddr_in6 *s6 = (const void *)src, *d6 = (const void *)dst;

		ihl = 40;
		alen = 16;
		sa = (const uint8_t *)&s6->sin6_addr;
		da = (const uint8_t *)&d6->sin6_addr;
		sport = ntohs(s6->sin6_port);
		dport = ntohs(d6->sin6_port);
		memset(pkt, 0, ihl);
		pkt[0] = 0x60;
		put16(pkt + 4, ulen);
		pkt[6] = IPPROTO_UDP;
		pkt[7] = 64;
		memcpy(pkt + 8, sa, 16);
		memcpy(pkt + 24, da, 16);
	}
	udp = pkt + ihl;
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, ulen);
	put16(udp + 6, 0);
	memcpy(udp + 8, msg, mlen);
	/* pseudo header: addresses, protocol, UDP length (same sum for both families) */
	sum = csum_add(0, sa, alen);
	sum = csum_add(sum, da, alen);
	sum += IPPROTO_UDP + ulen;
	sum = csum_add(sum, udp, ulen);
	put16(udp + 6, csum_fold(sum) ? csum_fold(sum) : 0xffff);
	return ihl + ulen;
}

static int do_probe(const char *addr, const char *port_s, const char *via, int timeout_ms)
{
	static const char msg[] = "namesrv probe\n";
	struct sockaddr_storage dst, src, hop;
	socklen_t dlen, slen = sizeof(src), hlen = 0;
	uint8_t pkt[128];
	size_t plen = 0;
	unsigned long port;
	int fd, raw = -1;
	int64_t deadline, next_send = 0;
	char buf[2048];

	if (!fx_parse_ulong(port_s, 1, 65535, &port)) {
		pr_warn("--udp-probe: bad port '%s'", port_s);
		return 2;
	}
	if (!fx_parse_addr(addr, port, &dst, &dlen)) {
		pr_warn("--udp-probe: bad address '%s' (want an IPv4 or IPv6 literal)", addr);
		return 2;
	}
	if (via && (!fx_parse_addr(via, 0, &hop, &hlen) || hop.ss_family != dst.ss_family)) {
		pr_warn("--ipip-via: bad address '%s' (want a literal of the probed family)", via);
		return 2;
	}
	fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* connected: the kernel drops any reply that does not come from ADDR:PORT */
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, dlen)) {
		pr_warn("udp %s: %s", addr, strerror(errno));
		return 1;
	}
	if (via) {
		if (getsockname(fd, (struct sockaddr *)&src, &slen)) {
			pr_warn("getsockname: %s", strerror(errno));
			return 1;
		}
		/* the kernel adds the outer header: IPPROTO_IPIP (4) or IPv6-in-IPv6 (41) */
		raw = socket(dst.ss_family, SOCK_RAW | SOCK_CLOEXEC,
			     dst.ss_family == AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6);
		if (raw < 0) {
			pr_warn("raw socket: %s", strerror(errno));
			return 1;
		}
		plen = build_inner(pkt, &src, &dst, msg);
	}
	deadline = fx_now_ms() + timeout_ms;
	for (;;) {
		int64_t now = fx_now_ms(), wait;
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (now >= deadline)
			break;
		if (now >= next_send) {
			/* resend every 500 ms: a first datagram may die in neighbour resolution */
			if (via)
				n = sendto(raw, pkt, plen, 0, (struct sockaddr *)&hop, hlen);
			else
				n = send(fd, msg, sizeof(msg) - 1, 0);
			if (n < 0 && errno != ECONNREFUSED)
				pr_debug("send: %s", strerror(errno));
			next_send = now + 500;
		}
		wait = (next_send < deadline ? next_send : deadline) - now;
		if (poll(&p, 1, (int)wait) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ECONNREFUSED)
				pr_debug("%s port %lu: ICMP unreachable (nothing listening?)", addr,
					 port);
			continue;
		}
		fwrite(buf, 1, n, stdout);
		fflush(stdout);
		pr_debug("reply of %zd bytes from %s port %lu", n, addr, port);
		return 0;
	}
	pr_warn("no reply from %s port %lu%s%s within %d ms", addr, port, via ? " via " : "",
		via ? via : "", timeout_ms);
	return 1;
}

int main(int argc, char **argv)
{
	struct srv s = { .tcp = { -1, -1 }, .udp = { -1, -1 } };
	unsigned long tcp_port = 80, udp_port = 80, idle = 300, timeout = 2000;
	const char *probe = NULL, *via = NULL;
	int c;

	fx_prog = "namesrv";
	while ((c = fx_getopt(argc, argv, opts, NOPTS, usage)) != -1) {
		switch (c) {
		case 'n':
			s.name = optarg;
			break;
		case 'p':
		case 'u':
			if (!fx_parse_ulong(optarg, 0, 65535, c == 'p' ? &tcp_port : &udp_port)) {
				pr_warn("--%s: bad port '%s' (0..65535)",
					c == 'p' ? "port" : "udp-port", optarg);
				return 2;
			}
			break;
		case 'i':
			if (!fx_parse_ulong(optarg, 0, 86400, &idle)) {
				pr_warn("--idle-timeout: bad seconds '%s' (0..86400)", optarg);
				return 2;
			}
			break;
		case 'P':
			probe = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "reset")) {
				s.fail = FAIL_RESET;
			} else if (!strcmp(optarg, "close")) {
				s.fail = FAIL_CLOSE;
			} else {
				pr_warn("--fail: want reset or close, not '%s'", optarg);
				return 2;
			}
			break;
		case 'I':
			via = optarg;
			break;
		case 't':
			if (!fx_parse_ulong(optarg, 1, 600000, &timeout)) {
				pr_warn("--timeout: bad milliseconds '%s' (1..600000)", optarg);
				return 2;
			}
			break;
		}
	}
	signal(SIGPIPE, SIG_IGN);	/* a vanished client is an error return, never a death */

	if (probe) {
		if (optind != argc - 1) {
			pr_warn("--udp-probe ADDR PORT: want exactly one PORT after ADDR");
			return 2;
		}
		return do_probe(probe, argv[optind], via, (int)timeout);
	}
	if (optind != argc) {
		pr_warn("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (via) {
		pr_warn("--ipip-via goes with --udp-probe");
		return 2;
	}
	if (!s.name || !*s.name || strlen(s.name) > NAME_LEN_MAX ||
	    strpbrk(s.name, "\r\n")) {
		pr_warn("--name NAME is required: 1..%d characters, no line breaks", NAME_LEN_MAX);
		return 2;
	}
	if (!tcp_port && !udp_port) {
		pr_warn("nothing to serve: --port and --udp-port are both 0");
		return 2;
	}
	snprintf(s.body, sizeof(s.body), "%s\n", s.name);
	s.idle_ms = (int64_t)idle * 1000;
	return do_serve(&s, tcp_port, udp_port);
}
