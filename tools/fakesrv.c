// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fakesrv: the health-probe tests' fake protocol servers (issue 7). A TEST FIXTURE, not part
 * of the product: it speaks just enough of each protocol for a prober to judge it, with the
 * bytes real servers send.
 *
 *   fakesrv --port P --proto smtp|mysql|pgsql|http|tcp [--greeting good|bad|old|ssl]
 *           [--status N] [--body TEXT] [--name NAME] [--silent] [--verbose]
 *
 * On the wildcard address, IPv4 and IPv6 (one socket each), one thread, poll():
 *   smtp   greets "220 NAME ESMTP fakesrv" and answers EHLO/HELO (250), NOOP/RSET (250), QUIT
 *          (221, then closes), anything else 502. --greeting bad: "554 5.3.2 NAME no SMTP
 *          service here" (what a server refusing the client sends), then the same loop.
 *   mysql  sends a MySQL 8.0 "Protocol::HandshakeV10" packet (protocol 10, server version
 *          8.0.36, caching_sha2_password) and waits for the client to close. --greeting bad:
 *          an ERR packet, error 1130 "Host '<peer>' is not allowed to connect to this MySQL
 *          server", then closes (what mysqld sends to a host it refuses); --greeting old: a
 *          protocol 9 handshake (MySQL 3.21), then waits.
 *   pgsql  reads the SSLRequest (or GSSENCRequest) and answers 'N' (no TLS here), or 'S' with
 *          --greeting ssl, then waits for the client to close; --greeting bad: an
 *          ErrorResponse (FATAL 0A000 "unsupported frontend protocol 1234.5679: server
 *          supports 3.0 to 3.0", what PostgreSQL answers a request code it does not know),
 *          then closes. Anything but an SSL/GSSENC request gets that ErrorResponse too.
 *   http   reads one request head and answers status N (default 200) with body TEXT (default
 *          NAME "\n"; no body to HEAD), Connection: close, then closes.
 *   tcp    accepts and holds the connection until the client closes it.
 * --silent: accept and never send a byte (the client's timeout fires), whatever the protocol.
 * Connections idle for 30 s are closed. Quiet unless --verbose, which logs each connection.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"

#define IN_MAX		8192	/* a request head, an SMTP line */
#define OUT_MAX		4096
#define BODY_MAX	2048
#define IDLE_MS		30000
#define ACCEPT_BATCH	64

/* PostgreSQL's special request codes (protocol 1234.5679 and 1234.5680) */
#define PG_SSL_REQUEST		80877103
#define PG_GSSENC_REQUEST	80877104

enum proto { P_SMTP, P_MYSQL, P_PGSQL, P_HTTP, P_TCP };
enum greeting { G_GOOD, G_BAD, G_OLD, G_SSL };

static const char *const proto_names[] = { "smtp", "mysql", "pgsql", "http", "tcp", NULL };
static const char *const greeting_names[] = { "good", "bad", "old", "ssl", NULL };

static struct {
	enum proto proto;
	enum greeting greeting;
	unsigned status;
	const char *name;
	char body[BODY_MAX];
	bool silent;
} cfg = { .proto = P_TCP, .status = 200, .name = "fakesrv" };

/* ---- options: one table drives getopt_long and --help (fixture.h) ---- */

static const struct fx_opt opts[] = {
	{ "port", 1, 'p', "PORT", "TCP port to listen on, IPv4 and IPv6 (required)" },
	{ "proto", 1, 'P', "PROTO", "smtp|mysql|pgsql|http|tcp (default tcp)" },
	{ "greeting", 1, 'g', "KIND",
	  "good (default); bad: smtp 554, mysql ERR 1130, pgsql ErrorResponse; "
	  "old: mysql protocol 9; ssl: pgsql answers 'S'" },
	{ "status", 1, 's', "N", "http: the status code to answer (100..599, default 200)" },
	{ "body", 1, 'b', "TEXT", "http: the body to answer (default NAME and a newline)" },
	{ "name", 1, 'n', "NAME", "host name in greetings and the default body (default fakesrv)" },
	{ "silent", 0, 'S', NULL, "accept connections and never answer" },
	{ "verbose", 0, 'v', NULL, "log each connection to stderr" },
	{ "help", 0, 'h', NULL, "show this help" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: fakesrv --port P --proto smtp|mysql|pgsql|http|tcp [options]\n"
		   "Fake protocol servers for limpet's health-probe tests (a rig fixture).\n\n");
	fx_usage_opts(f, opts, NOPTS, 18);
}

static int pick(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

/* ---- connections ---- */

struct conn {
	int fd;
	bool close_after;	/* close once the output is sent */
	bool answered;		/* pgsql: the SSL/GSSENC request was answered */
	size_t in_len, out_len, out_off;
	int64_t last_ms;
	char peer[INET6_ADDRSTRLEN];
	char in[IN_MAX];
	char out[OUT_MAX];
};

static void put(struct conn *c, const void *p, size_t n)
{
	if (n > sizeof(c->out) - c->out_len)
		n = sizeof(c->out) - c->out_len;	/* never: every answer is < OUT_MAX */
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

static void putf(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->out + c->out_len, sizeof(c->out) - c->out_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->out_len += (size_t)n < sizeof(c->out) - c->out_len ?
				      (size_t)n :
				      sizeof(c->out) - c->out_len - 1;
}

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (24 - 8 * i);
}

/* A MySQL packet: 3-byte little-endian payload length, sequence id, payload. */
static void mysql_packet(struct conn *c, uint8_t seq, const uint8_t *payload, size_t len)
{
	uint8_t hdr[4] = { len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, seq };

	put(c, hdr, 4);
	put(c, payload, len);
}

static void mysql_greet(struct conn *c, uint32_t conn_id)
{
	static const char scramble[] = "0123456789abcdefghij"; /* 20 bytes of "random" salt */
	uint8_t p[256];
	size_t n = 0;

	if (cfg.greeting == G_BAD) {
		/* Sent by mysqld before any handshake: no SQL state marker (the client's
		 * capabilities are not known yet). */
		p[n++] = 0xff;
		le16(p + n, 1130);
		n += 2;
		n += snprintf((char *)p + n, sizeof(p) - n,
			      "Host '%s' is not allowed to connect to this MySQL server", c->peer);
		mysql_packet(c, 0, p, n);
		c->close_after = true;
		return;
	}
	if (cfg.greeting == G_OLD) {
		/* Protocol::HandshakeV9: version, thread id, 8-byte scramble */
		p[n++] = 9;
		memcpy(p + n, "3.21.33\0", 8);
		n += 8;
		le32(p + n, conn_id);
		n += 4;
		memcpy(p + n, scramble, 8);
		n += 8;
		p[n++] = 0;
		mysql_packet(c, 0, p, n);
		return;
	}
	/* Protocol::HandshakeV10 as MySQL 8.0 sends it */
	p[n++] = 10;
	memcpy(p + n, "8.0.36\0", 7);
	n += 7;
	le32(p + n, conn_id);
	n += 4;
	memcpy(p + n, scramble, 8);		/* auth-plugin-data-part-1 */
	n += 8;
	p[n++] = 0;				/* filler */
	le16(p + n, 0xffff);			/* capability flags, lower 16 bits */
	n += 2;
	p[n++] = 255;				/* utf8mb4_0900_ai_ci */
	le16(p + n, 0x0002);			/* SERVER_STATUS_AUTOCOMMIT */
	n += 2;
	le16(p + n, 0xdfff);			/* capability flags, upper 16 bits */
	n += 2;
	p[n++] = 21;				/* length of the auth plugin data */
	memset(p + n, 0, 10);			/* reserved */
	n += 10;
	memcpy(p + n, scramble + 8, 12);	/* auth-plugin-data-part-2, NUL-ended */
	n += 12;
	p[n++] = 0;
	memcpy(p + n, "caching_sha2_password", 22);
	n += 22;
	mysql_packet(c, 0, p, n);
}

/* A PostgreSQL ErrorResponse ('E', length, fields, terminator) of severity FATAL. */
static void pg_error(struct conn *c, const char *code, const char *msg)
{
	uint8_t p[512];
	size_t n = 5;

	n += snprintf((char *)p + n, sizeof(p) - n, "SFATAL%cVFATAL%cC%s%cM%s%c", 0, 0, code, 0,
		      msg, 0);
	p[n++] = 0;
	p[0] = 'E';
	be32(p + 1, n - 1);
	put(c, p, n);
	c->close_after = true;
}

static const char *reason(unsigned status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

/* What the server says first, before reading anything. */
static void conn_greet(struct conn *c, uint32_t conn_id)
{
	if (cfg.silent)
		return;
	switch (cfg.proto) {
	case P_SMTP:
		if (cfg.greeting == G_BAD)
			putf(c, "554 5.3.2 %s no SMTP service here\r\n", cfg.name);
		else
			putf(c, "220 %s ESMTP fakesrv\r\n", cfg.name);
		break;
	case P_MYSQL:
		mysql_greet(c, conn_id);
		break;
	default:
		break;
	}
}

/* Answer what c->in holds, consuming it. false: more input is needed. */
static bool conn_input(struct conn *c)
{
	char *eol;

	if (cfg.silent || cfg.proto == P_TCP || cfg.proto == P_MYSQL) {
		c->in_len = 0;	/* read and forgotten */
		return false;
	}
	switch (cfg.proto) {
	case P_SMTP:
		eol = memmem(c->in, c->in_len, "\r\n", 2);
		if (!eol)
			return false;
		*eol = '\0';
		pr_debug("%s: smtp <- %s", c->peer, c->in);
		if (!strncasecmp(c->in, "QUIT", 4)) {
			putf(c, "221 2.0.0 %s closing connection\r\n", cfg.name);
			c->close_after = true;
		} else if (!strncasecmp(c->in, "EHLO", 4) || !strncasecmp(c->in, "HELO", 4)) {
			putf(c, "250 %s\r\n", cfg.name);
		} else if (!strncasecmp(c->in, "NOOP", 4) || !strncasecmp(c->in, "RSET", 4)) {
			putf(c, "250 2.0.0 OK\r\n");
		} else {
			putf(c, "502 5.5.2 Error: command not recognized\r\n");
		}
		eol += 2;
		c->in_len -= eol - c->in;
		memmove(c->in, eol, c->in_len);
		return true;
	case P_PGSQL: {
		uint8_t *p = (uint8_t *)c->in;
		uint32_t len, code;

		if (c->close_after)
			return false;
		if (c->in_len < 8)
			return false;
		len = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
		code = (uint32_t)p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7];
		if (c->answered) {
			/* a startup packet after our 'N': no logins here */
			pr_debug("%s: pgsql <- startup: no login", c->peer);
			snprintf(c->in, sizeof(c->in), "no pg_hba.conf entry for host \"%s\", "
				 "no encryption", c->peer);
			pg_error(c, "28000", c->in);
			c->in_len = 0;
			return true;
		}
		if (len == 8 && (code == PG_SSL_REQUEST || code == PG_GSSENC_REQUEST) &&
		    cfg.greeting != G_BAD) {
			pr_debug("%s: pgsql <- %s", c->peer,
				 code == PG_SSL_REQUEST ? "SSLRequest" : "GSSENCRequest");
			put(c, code == PG_SSL_REQUEST && cfg.greeting == G_SSL ? "S" : "N", 1);
			c->in_len = 0;
			c->answered = true;
			return true;
		}
		pr_debug("%s: pgsql <- request code %u: ErrorResponse", c->peer, code);
		pg_error(c, "0A000",
			 "unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0");
		c->in_len = 0;
		return true;
	}
	case P_HTTP: {
		bool head;

		if (c->close_after)
			return false;
		eol = memmem(c->in, c->in_len, "\r\n\r\n", 4);
		if (!eol)
			return false;
		head = !strncmp(c->in, "HEAD ", 5);
		*strstr(c->in, "\r\n") = '\0';
		pr_debug("%s: http <- %s -> %u", c->peer, c->in, cfg.status);
		putf(c, "HTTP/1.1 %u %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			"Server: fakesrv\r\nConnection: close\r\n\r\n%s",
		     cfg.status, reason(cfg.status), strlen(cfg.body), head ? "" : cfg.body);
		c->close_after = true;
		c->in_len = 0;
		return true;
	}
	default:
		return false;
	}
}

/* Make all the progress possible. false: the connection is finished; close it. */
static bool conn_run(struct conn *c, int64_t now)
{
	for (;;) {
		ssize_t r;

		while (c->out_off < c->out_len) {
			r = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return true;
				return false;
			}
			c->out_off += r;
			c->last_ms = now;
		}
		c->out_len = c->out_off = 0;
		if (c->close_after)
			return false;
		if (c->in_len && conn_input(c))
			continue;
		if (c->in_len == sizeof(c->in))
			return false;	/* a line or head too long: hang up */
		r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len - 1, MSG_DONTWAIT);
		if (r > 0) {
			c->in_len += r;
			c->in[c->in_len] = '\0';
			c->last_ms = now;
			continue;
		}
		if (r == 0)
			return false;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		if (errno == EINTR)
			continue;
		return false;
	}
}

/* ---- server ---- */

/* A listener of one family; -1 if the family is missing (no IPv6), exits on error. */
static int listen_on(int family, unsigned port)
{
	int fd = fx_listen(family, SOCK_STREAM, port);

	if (fd < 0 && family == AF_INET6 && errno == EAFNOSUPPORT)
		return -1;
	if (fd < 0) {
		pr_warn("listen on %s port %u: %s", family == AF_INET ? "IPv4" : "IPv6", port,
			strerror(errno));
		exit(1);
	}
	return fd;
}

struct srv {
	int lfd[2];		/* IPv4, IPv6 (-1: none) */
	struct conn **conns;
	size_t n, cap;
	uint32_t conn_id;
};

/* Accept what waits on lfd; each new connection is greeted (its greeting queued). */
static void srv_accept(struct srv *s, int lfd, int64_t now)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		struct conn **conns, *c;
		int fd = fx_accept(lfd, &ss);

		if (fd < 0)
			return;
		conns = fx_reserve(s->conns, s->n, &s->cap, sizeof(*conns));
		if (!conns) {
			close(fd);
			return;
		}
		s->conns = conns;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->last_ms = now;
		fx_addr_str(&ss, c->peer, sizeof(c->peer));
		pr_debug("%s: connected", c->peer);
		conn_greet(c, s->conn_id++);
		s->conns[s->n++] = c;
	}
}

static int serve(unsigned port)
{
	struct srv s = { .lfd = { listen_on(AF_INET, port), listen_on(AF_INET6, port) },
			 .conn_id = 7 };
	struct pollfd *pfds = NULL;
	size_t pfd_cap = 0;

	pr_debug("%s on port %u%s", proto_names[cfg.proto], port, cfg.silent ? ", silent" : "");
	for (;;) {
		size_t keep = 0, n0 = s.n;
		int64_t now;
		int n;

		if (pfd_cap < s.n + 2) {
			struct pollfd *p = realloc(pfds, (2 * s.n + 64) * sizeof(*p));

			if (!p) {
				pr_warn("out of memory");
				return 1;
			}
			pfds = p;
			pfd_cap = 2 * s.n + 64;
		}
		/* slots 0, 1: the listeners (fd -1 is ignored by poll) */
		pfds[0] = (struct pollfd){ s.lfd[0], POLLIN, 0 };
		pfds[1] = (struct pollfd){ s.lfd[1], POLLIN, 0 };
		for (size_t i = 0; i < s.n; i++) {
			struct conn *c = s.conns[i];

			pfds[2 + i] = (struct pollfd){ c->fd,
						       c->out_off < c->out_len ? POLLOUT : POLLIN, 0 };
		}
		n = poll(pfds, 2 + s.n, s.n ? 1000 : -1);
		if (n < 0 && errno != EINTR) {
			pr_warn("poll: %s", strerror(errno));
			return 1;
		}
		now = fx_now_ms();
		for (int f = 0; f < 2 && n > 0; f++)
			if (pfds[f].revents)
				srv_accept(&s, s.lfd[f], now);
		/* the new connections send their greeting now; the others run on their events */
		for (size_t i = 0; i < s.n; i++) {
			struct conn *c = s.conns[i];
			bool ready = i >= n0 || (n > 0 && pfds[2 + i].revents);

			if ((ready && !conn_run(c, now)) || now - c->last_ms > IDLE_MS) {
				pr_debug("%s: closed", c->peer);
				close(c->fd);
				free(c);
				continue;
			}
			s.conns[keep++] = c;
		}
		s.n = keep;
	}
}

int main(int argc, char **argv)
{
	unsigned long port = 0, v;
	const char *body = NULL;
	int c, i;

	fx_prog = "fakesrv";
	while ((c = fx_getopt(argc, argv, opts, NOPTS, usage)) != -1) {
		switch (c) {
		case 'p':
			if (!fx_parse_ulong(optarg, 1, 65535, &port)) {
				pr_warn("--port: bad port '%s' (1..65535)", optarg);
				return 2;
			}
			break;
		case 'P':
			if ((i = pick(proto_names, optarg)) < 0) {
				pr_warn("--proto: '%s' is not smtp|mysql|pgsql|http|tcp", optarg);
				return 2;
			}
			cfg.proto = i;
			break;
		case 'g':
			if ((i = pick(greeting_names, optarg)) < 0) {
				pr_warn("--greeting: '%s' is not good|bad|old|ssl", optarg);
				return 2;
			}
			cfg.greeting = i;
			break;
		case 's':
			if (!fx_parse_ulong(optarg, 100, 599, &v)) {
				pr_warn("--status: bad code '%s' (100..599)", optarg);
				return 2;
			}
			cfg.status = v;
			break;
		case 'b':
			body = optarg;
			break;
		case 'n':
			cfg.name = optarg;
			break;
		case 'S':
			cfg.silent = true;
			break;
		}
	}
	if (optind != argc) {
		pr_warn("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!port) {
		pr_warn("--port is required");
		usage(stderr);
		return 2;
	}
	if ((cfg.greeting == G_OLD && cfg.proto != P_MYSQL) ||
	    (cfg.greeting == G_SSL && cfg.proto != P_PGSQL) ||
	    (cfg.greeting == G_BAD && cfg.proto != P_SMTP && cfg.proto != P_MYSQL &&
	     cfg.proto != P_PGSQL)) {
		pr_warn("--greeting %s does not apply to %s", greeting_names[cfg.greeting],
			proto_names[cfg.proto]);
		return 2;
	}
	if (strlen(cfg.name) > 255 || strpbrk(cfg.name, "\r\n")) {
		pr_warn("--name: at most 255 characters, no line breaks");
		return 2;
	}
	if (body && strlen(body) >= BODY_MAX) {
		pr_warn("--body: at most %d bytes", BODY_MAX - 1);
		return 2;
	}
	snprintf(cfg.body, sizeof(cfg.body), body ? "%s" : "%s\n", body ? body : cfg.name);
	fx_raise_nofile(UINT64_MAX);	/* all the hard limit allows */
	signal(SIGPIPE, SIG_IGN);
	return serve(port);
}
