// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The mysql probe (MySQL, MariaDB): the server speaks first with one packet, a 3-byte
 * little-endian payload length, a sequence id, then the payload. A payload that starts with
 * protocol version 10 is the handshake of every server since MySQL 3.21: up, and the engine
 * closes. One that starts with 0xff is an ERR packet, the server refusing the client before
 * any handshake ("Host '...' is not allowed to connect", "Too many connections"): down with
 * its code and message.
 */
#include <stdio.h>

#include "health/probe-int.h"

#define MYSQL_HEADER	4	/* payload length (3, little endian), sequence id */
#define MYSQL_HANDSHAKE	10
#define MYSQL_ERR	0xff

/* The ERR packet's payload (a of n bytes): 0xff, error code (2, little endian), and the
 * message, after "#" and a 5-byte SQL state when the server put one. */
static void mysql_err(const unsigned char *a, size_t n, char err[PROBE_ERR_LEN])
{
	char prefix[32];

	if (n < 3) {
		probe_err_put(err, "error packet cut short", NULL, 0, false);
		return;
	}
	snprintf(prefix, sizeof(prefix), "error %d: ", a[1] | a[2] << 8);
	a += 3;
	n -= 3;
	if (n >= 6 && a[0] == '#') {
		a += 6;
		n -= 6;
	}
	probe_err_put(err, prefix, (const char *)a, n, false);
}

enum probe_verdict probe_mysql_judge(const char *buf, size_t len, bool eof,
				     char err[PROBE_ERR_LEN])
{
	const unsigned char *b = (const unsigned char *)buf;
	size_t want, have;

	if (len <= MYSQL_HEADER) {
		if (!eof)
			return PV_MORE;
		if (!len)
			snprintf(err, PROBE_ERR_LEN, "no greeting: connection closed");
		else
			snprintf(err, PROBE_ERR_LEN, "greeting cut short at %zu bytes", len);
		return PV_DOWN;
	}
	want = b[0] | b[1] << 8 | (size_t)b[2] << 16;
	have = len - MYSQL_HEADER < want ? len - MYSQL_HEADER : want;
	if (!want) {
		snprintf(err, PROBE_ERR_LEN, "empty greeting packet");
		return PV_DOWN;
	}
	switch (b[MYSQL_HEADER]) {
	case MYSQL_HANDSHAKE:
		return PV_UP;
	case MYSQL_ERR:
		/* the message runs to the end of the packet */
		if (have < want && !eof)
			return PV_MORE;
		mysql_err(b + MYSQL_HEADER, have, err);
		return PV_DOWN;
	default:
		snprintf(err, PROBE_ERR_LEN, "protocol version %d, want %d", b[MYSQL_HEADER],
			 MYSQL_HANDSHAKE);
		return PV_DOWN;
	}
}
