// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pgsql probe: an SSLRequest, which a PostgreSQL server (or a pooler in front of one)
 * answers with one byte before any authentication: 'S' (will do TLS) or 'N' (will not) are
 * both a server ready for clients, and the engine closes. 'E' is an error message: down with
 * its text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "health/probe-int.h"

#define PG_SSLREQUEST_LEN	8
#define PG_SSLREQUEST_CODE	80877103	/* 1234 << 16 | 5679 */

int probe_pgsql_request(char *buf, size_t cap)
{
	static const uint32_t req[2] = { PG_SSLREQUEST_LEN, PG_SSLREQUEST_CODE };

	if (cap < PG_SSLREQUEST_LEN)
		return -ENOSPC;
	/* big endian, like every integer of the protocol */
	for (size_t i = 0; i < PG_SSLREQUEST_LEN; i++)
		buf[i] = (char)(req[i / 4] >> (24 - 8 * (i % 4)));
	return PG_SSLREQUEST_LEN;
}

/* The 'M' field of a protocol 3 ErrorResponse body (fields: a type byte and a C string each,
 * then a 0 byte), as much of it as came, or NULL. */
static const char *pg_error_message(const char *f, size_t n, size_t *mlen)
{
	const char *end = f + n, *nul;

	while (f < end && *f) {
		nul = memchr(f + 1, '\0', end - f - 1);
		if (*f == 'M') {
			*mlen = (nul ? nul : end) - f - 1;
			return f + 1;
		}
		if (!nul)
			break;
		f = nul + 1;
	}
	return NULL;
}

/* After the 'E': b, n bytes. */
static enum probe_verdict pg_error(const char *b, size_t n, bool eof, char err[PROBE_ERR_LEN])
{
	const unsigned char *u = (const unsigned char *)b;
	const char *msg, *nul;
	size_t want, have, mlen;

	if (n < 4 && !eof)
		return PV_MORE;
	/* A protocol 2 error is "E", a text and a NUL: what the postmaster still sends when it
	 * cannot fork a backend. The high byte of a protocol 3 length is 0 for any real
	 * message, a text's first byte is not. */
	if (n && u[0]) {
		nul = memchr(b, '\0', n);
		if (!nul && !eof)
			return PV_MORE;
		mlen = nul ? (size_t)(nul - b) : n;
		probe_err_put(err, "server error: ", b, mlen - (mlen && b[mlen - 1] == '\n'),
			      false);
		return PV_DOWN;
	}
	if (n < 4) {
		snprintf(err, PROBE_ERR_LEN, "error response cut short");
		return PV_DOWN;
	}
	want = (size_t)u[0] << 24 | u[1] << 16 | u[2] << 8 | u[3];
	if (want < 4) {
		snprintf(err, PROBE_ERR_LEN, "malformed error response: length %zu", want);
		return PV_DOWN;
	}
	want -= 4;
	have = n - 4 < want ? n - 4 : want;
	if (have < want && !eof)
		return PV_MORE;
	msg = pg_error_message(b + 4, have, &mlen);
	if (msg)
		probe_err_put(err, "server error: ", msg, mlen, false);
	else
		snprintf(err, PROBE_ERR_LEN, "server error without a message");
	return PV_DOWN;
}

enum probe_verdict probe_pgsql_judge(const char *buf, size_t len, bool eof,
				     char err[PROBE_ERR_LEN])
{
	if (!len) {
		if (eof)
			snprintf(err, PROBE_ERR_LEN, "no answer to SSLRequest: connection closed");
		return eof ? PV_DOWN : PV_MORE;
	}
	switch (buf[0]) {
	case 'S':
	case 'N':
		return PV_UP;
	case 'E':
		return pg_error(buf + 1, len - 1, eof, err);
	default:
		snprintf(err, PROBE_ERR_LEN, "not an answer to SSLRequest: first byte 0x%02x",
			 (unsigned char)buf[0]);
		return PV_DOWN;
	}
}
