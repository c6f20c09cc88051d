/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the rig's test fixtures (namesrv, fakesrv, rawhttp) share: the option table behind
 * getopt_long and --help, messages to stderr, numbers, clocks, addresses and wildcard sockets.
 * Test code, not part of the product.
 */
#ifndef LIMPET_FIXTURE_H
#define LIMPET_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* ---- messages: "PROG: text\n" on stderr ---- */

extern const char *fx_prog;	/* PROG, set by main before the first message */
extern bool fx_verbose;		/* pr_debug prints only when set */

void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- options: one table drives getopt_long and --help ---- */

struct fx_opt {
	const char *name;
	int has_arg;		/* 0 or 1 */
	int val;		/* the short option, and what getopt_long returns */
	const char *arg;	/* the argument's name in --help; NULL: none */
	const char *help;
};

#define FX_OPTS_MAX 16

/*
 * getopt_long over the table (at most FX_OPTS_MAX options), for main's option loop. It handles
 * what every fixture has: 'v' (--verbose) sets fx_verbose; 'h' (--help) prints usage to stdout
 * and exits 0; an unknown option or a missing argument, once getopt_long has said so, prints
 * usage to stderr and exits 2. Returns the next other option's val, -1 after the last one.
 */
int fx_getopt(int argc, char **argv, const struct fx_opt *opts, size_t n, void (*usage)(FILE *f));
/* The --help line of each option, "--name ARG" left-aligned in a column of width. */
void fx_usage_opts(FILE *f, const struct fx_opt *opts, size_t n, int width);

/* ---- numbers, time, addresses ---- */

/* A decimal in lo..hi, digits only (no sign, no space); false leaves *out alone. */
bool fx_parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out);
/* Milliseconds on CLOCK_MONOTONIC, for timeouts. */
int64_t fx_now_ms(void);
/* ss (and *len) for the IPv4 or IPv6 address s and port; false if s is neither. */
bool fx_parse_addr(const char *s, unsigned port, struct sockaddr_storage *ss, socklen_t *len);
/* The address of an AF_INET or AF_INET6 ss as text, without the port; returns buf. */
const char *fx_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len);
/* The same with the port: "ADDR:PORT", "[ADDR]:PORT"; returns buf. */
const char *fx_addr_port_str(const struct sockaddr_storage *ss, char *buf, size_t len);

/* ---- server plumbing ---- */

/* accept4 on listener lfd: the new connection is non-blocking and close-on-exec. */
int fx_accept(int lfd, struct sockaddr_storage *peer);

/*
 * A non-blocking SOCK_STREAM (listening) or SOCK_DGRAM socket bound to the wildcard address of
 * family on port. IPv6 sockets are V6ONLY, so that each family has its own socket whatever
 * net.ipv6.bindv6only says; datagram sockets receive pktinfo, to reply from the address a
 * datagram was sent to. -1 and errno on failure (EAFNOSUPPORT: no such family here).
 */
int fx_listen(int family, int type, unsigned port);
/* Raise the soft RLIMIT_NOFILE towards the hard one, to cap at most: tests open many fds. */
void fx_raise_nofile(uint64_t cap);
/*
 * Room for one more element of size bytes in arr, which holds n of *cap: arr itself, or when
 * full arr grown to twice *cap (64 at first). NULL when out of memory, arr and *cap unchanged.
 */
void *fx_reserve(void *arr, size_t n, size_t *cap, size_t size);

#endif /* LIMPET_FIXTURE_H */
