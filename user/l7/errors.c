// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The proxy's own responses: small, complete, and the connection closes after them. */
#include <stdio.h>
#include <string.h>

#include "l7/engine.h"

static const struct {
	unsigned status;
	enum l7_err err;
	const char *reason, *text;
} errs[] = {
	{ 400, L7_E400, "Bad Request", "malformed request" },
	{ 408, L7_E408, "Request Timeout", "request not received in time" },
	{ 414, L7_E414, "URI Too Long", "request line too long" },
	{ 431, L7_E431, "Request Header Fields Too Large", "request header block too large" },
	{ 502, L7_E502, "Bad Gateway", "the server failed to answer" },
	{ 503, L7_E503, "Service Unavailable", "no server is available" },
	{ 504, L7_E504, "Gateway Timeout", "the server did not answer in time" },
};

size_t l7_error_format(struct l7_registry *reg, unsigned status, char *out)
{
	size_t i = 0, n = sizeof(errs) / sizeof(errs[0]);
	int len;

	while (i < n - 1 && errs[i].status != status)
		i++;
	l7_count_error(reg, errs[i].err);
	len = snprintf(out, L7_INS_MAX,
		       "HTTP/1.1 %u %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
		       "Connection: close\r\n\r\n%s\n",
		       errs[i].status, errs[i].reason, strlen(errs[i].text) + 1, errs[i].text);
	return (size_t)len;
}
