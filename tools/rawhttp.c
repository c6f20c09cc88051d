// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rawhttp: send exact bytes over one TCP connection and print every byte that comes back (a
 * TEST FIXTURE for the L7 proxy's tests, not part of the product). What curl will not send
 * (conflicting framing, bad chunk sizes, obs-fold, a head trickled byte by byte) goes out as
 * written.
 *
 *   rawhttp [--slow MS] [--pause MS] [--idle MS] [--timeout MS] [--source ADDR]
 *           [--half-close] ADDR PORT DATA...
 *
 * Each DATA is sent in turn (C escapes: \r \n \t \0 \\ \xNN), with --pause MS between two of
 * them; --slow MS sends every byte on its own, MS apart (slowloris). Meanwhile and afterwards
 * whatever the server sends is copied to stdout, until it closes the connection, nothing came
 * for --idle MS (default 2000) after the last DATA went out, or --timeout MS in all (default
 * 30000). Then one last line on stdout says how it ended, the test's evidence:
 *   "\n#rawhttp: closed by peer" | "\n#rawhttp: reset by peer" | "\n#rawhttp: still open"
 * and (for --slow) how many bytes of DATA the server took before it ended the connection.
 * Exit 0 once connected, 1 if the connection fails, 2 for bad usage.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"

static const struct fx_opt opts[] = {
	{ "slow", 1, 's', "MS", "send byte by byte, MS apart (slowloris)" },
	{ "pause", 1, 'p', "MS", "wait MS between two DATA arguments (default 0)" },
	{ "idle", 1, 'i', "MS", "stop reading after MS without a byte, once all is sent (2000)" },
	{ "timeout", 1, 't', "MS", "stop after MS in all (default 30000)" },
	{ "source", 1, 'S', "ADDR", "bind to this source address first" },
	{ "half-close", 0, 'H', NULL, "shutdown(SHUT_WR) once all DATA is sent" },
	{ "verbose", 0, 'v', NULL, "say what happens on stderr" },
	{ "help", 0, 'h', NULL, "show this help" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: rawhttp [options] ADDR PORT DATA...\n"
		   "Test fixture: send exact bytes (C escapes) over TCP, print what comes back.\n\n");
	fx_usage_opts(f, opts, NOPTS, 20);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescape s into a new buffer; its length in *len. NULL on a bad escape. */
static char *unescape(const char *s, size_t *len)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		switch (*++s) {
		case 'r': *o++ = '\r'; break;
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case '0': *o++ = '\0'; break;
		case '\\': *o++ = '\\'; break;
		case 'x':
			if (hexval(s[1]) < 0 || hexval(s[2]) < 0)
				goto bad;
			*o++ = (char)(hexval(s[1]) << 4 | hexval(s[2]));
			s += 2;
			break;
		default:
			goto bad;
		}
	}
	*len = o - out;
	return out;
bad:
	free(out);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long slow = 0, pause_ms = 0, idle = 2000, timeout = 30000, port;
	const char *source = NULL;
	bool half_close = false, sent_all = false;
	struct sockaddr_storage dst, src;
	socklen_t dlen, slen;
	char **data;
	size_t *dlens, ndata, di = 0, off = 0, sent_total = 0;
	int64_t start, next_send, last_rx;
	const char *end = "still open";
	int c, fd, one = 1;

	fx_prog = "rawhttp";
	while ((c = fx_getopt(argc, argv, opts, NOPTS, usage)) != -1) {
		unsigned long *v = c == 's' ? &slow : c == 'p' ? &pause_ms : c == 'i' ? &idle :
				   c == 't' ? &timeout : NULL;

		if (c == 'S') {
			source = optarg;
		} else if (c == 'H') {
			half_close = true;
		} else if (v && !fx_parse_ulong(optarg, 0, 3600000, v)) {
			pr_warn("bad milliseconds '%s'", optarg);
			return 2;
		}
	}
	if (argc - optind < 3) {
		usage(stderr);
		return 2;
	}
	if (!fx_parse_ulong(argv[optind + 1], 1, 65535, &port) ||
	    !fx_parse_addr(argv[optind], port, &dst, &dlen)) {
		pr_warn("bad address or port: %s %s", argv[optind], argv[optind + 1]);
		return 2;
	}
	ndata = argc - optind - 2;
	data = calloc(ndata, sizeof(*data));
	dlens = calloc(ndata, sizeof(*dlens));
	if (!data || !dlens)
		return 1;
	for (size_t i = 0; i < ndata; i++) {
		data[i] = unescape(argv[optind + 2 + i], &dlens[i]);
		if (!data[i]) {
			pr_warn("bad escape in DATA %zu: %s", i + 1, argv[optind + 2 + i]);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	fd = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		pr_warn("socket: %s", strerror(errno));
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (source && (!fx_parse_addr(source, 0, &src, &slen) ||
		       bind(fd, (struct sockaddr *)&src, slen))) {
		pr_warn("bind %s: %s", source, strerror(errno));
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&dst, dlen)) {
		pr_warn("connect %s port %lu: %s", argv[optind], port, strerror(errno));
		return 1;
	}
	start = next_send = last_rx = fx_now_ms();
	for (;;) {
		int64_t now = fx_now_ms(), wait = -1;
		struct pollfd p = { fd, POLLIN, 0 };
		char buf[65536];
		ssize_t n;

		/* send what is due */
		while (!sent_all && now >= next_send) {
			size_t k = dlens[di] - off;

			if (slow && k > 1)
				k = 1;
			n = k ? send(fd, data[di] + off, k, MSG_NOSIGNAL) : 0;
			if (n < 0) {
				pr_debug("send: %s", strerror(errno));
				sent_all = true;	/* the server ended it: go on reading */
				break;
			}
			off += n;
			sent_total += n;
			if (slow)
				next_send = now + slow;
			if (off == dlens[di]) {
				di++;
				off = 0;
				if (di < ndata && pause_ms)
					next_send = now + pause_ms;
			}
			if (di == ndata) {
				sent_all = true;
				last_rx = now;
				if (half_close)
					shutdown(fd, SHUT_WR);
			}
		}
		if (now - start >= (int64_t)timeout)
			break;
		if (sent_all && now - last_rx >= (int64_t)idle)
			break;
		wait = start + (int64_t)timeout - now;
		if (!sent_all && next_send - now < wait)
			wait = next_send - now;
		if (sent_all && last_rx + (int64_t)idle - now < wait)
			wait = last_rx + idle - now;
		if (poll(&p, 1, wait < 0 ? 0 : (int)wait) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			fwrite(buf, 1, n, stdout);
			last_rx = fx_now_ms();
			continue;
		}
		if (n == 0) {
			end = "closed by peer";
			break;
		}
		if (errno == EINTR || errno == EAGAIN)
			continue;
		end = errno == ECONNRESET ? "reset by peer" : strerror(errno);
		break;
	}
	printf("\n#rawhttp: %s", end);
	if (slow)
		printf(" (%zu bytes sent)", sent_total);
	printf("\n");
	close(fd);
	return 0;
}
