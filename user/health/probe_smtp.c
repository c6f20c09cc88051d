// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The smtp probe: the server's greeting must be a complete 220 reply (RFC 5321 4.2: lines
 * "220-text" then a last "220 text" or "220"); then the engine says QUIT. Anything else is
 * down with the offending line quoted: "554 No SMTP service here" is a server turning
 * clients away, "421 Too many connections" one that is busy.
 */
#include <string.h>

#include "health/probe-int.h"

#define NO_GREETING	"no 220 greeting: got "

enum probe_verdict probe_smtp_judge(const char *buf, size_t len, bool eof,
				    char err[PROBE_ERR_LEN])
{
	const char *line = buf, *end = buf + len, *nl;
	size_t n;

	while (line < end && (nl = memchr(line, '\n', end - line))) {
		/* a bare LF ends a line too: some servers send one, and it decides no less */
		n = nl - line - (nl > line && nl[-1] == '\r');
		if (n < 3 || memcmp(line, "220", 3) ||
		    (n > 3 && line[3] != ' ' && line[3] != '-')) {
			probe_err_put(err, NO_GREETING, line, n, true);
			return PV_DOWN;
		}
		if (n == 3 || line[3] == ' ')
			return PV_UP;
		line = nl + 1;
	}
	if (!eof)
		return PV_MORE;
	if (!len)
		probe_err_put(err, "no 220 greeting: connection closed", NULL, 0, false);
	else if (line < end)
		probe_err_put(err, "no 220 greeting: connection closed after ", line, end - line,
			      true);
	else
		probe_err_put(err, "no 220 greeting: connection closed after a \"220-\" line",
			      NULL, 0, false);
	return PV_DOWN;
}
