// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The health probes' protocols (user/health/probe*.c): a table of answers, the real bytes
 * servers send (Postfix, Exim, MariaDB, MySQL, PostgreSQL, nginx...), each judged fed whole
 * and fed byte by byte: PV_MORE until some prefix decides, then the same verdict and error for
 * every longer prefix, the same as fed whole; with the peer's close, every prefix decides.
 * Each prefix is judged in a heap buffer of exactly its length, so ASan sees any overread.
 * Then the requests, the specs, the PROBE_READ_MAX bound and random bytes.
 *
 * TAP output comes from CMOCKA_MESSAGE_OUTPUT=TAP; our own diagnostics are "# " lines.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "health/probe.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define AT_EOF		SIZE_MAX	/* decided only by the peer's close */

/* --- the real bytes ----------------------------------------------------------------------- */

/* MariaDB 10.11.19 (Debian 12) to a client it lets in: protocol 10, "5.5.5-" version prefix,
 * mysql_native_password (captured from mariadbd). */
static const unsigned char mariadb_greeting[] = {
	0x64, 0x00, 0x00, 0x00, 0x0a, 0x35, 0x2e, 0x35, 0x2e, 0x35, 0x2d, 0x31,
	0x30, 0x2e, 0x31, 0x31, 0x2e, 0x31, 0x39, 0x2d, 0x4d, 0x61, 0x72, 0x69,
	0x61, 0x44, 0x42, 0x2d, 0x30, 0x2b, 0x64, 0x65, 0x62, 0x31, 0x32, 0x75,
	0x31, 0x00, 0x05, 0x00, 0x00, 0x00, 0x33, 0x32, 0x40, 0x2c, 0x59, 0x5c,
	0x44, 0x7b, 0x00, 0xfe, 0xf7, 0x2d, 0x02, 0x00, 0xff, 0x81, 0x15, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x62, 0x58, 0x73,
	0x5a, 0x49, 0x3d, 0x34, 0x2f, 0x2c, 0x30, 0x4d, 0x73, 0x00, 0x6d, 0x79,
	0x73, 0x71, 0x6c, 0x5f, 0x6e, 0x61, 0x74, 0x69, 0x76, 0x65, 0x5f, 0x70,
	0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x00,
};

/* The same server to a client whose address no account allows: ERR 1130, no SQL state
 * (none is sent before the client's capabilities are known). */
static const unsigned char mariadb_err_1130[] = {
	0x44, 0x00, 0x00, 0x00, 0xff, 0x6a, 0x04, 0x48, 0x6f, 0x73, 0x74, 0x20,
	0x27, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x27, 0x20,
	0x69, 0x73, 0x20, 0x6e, 0x6f, 0x74, 0x20, 0x61, 0x6c, 0x6c, 0x6f, 0x77,
	0x65, 0x64, 0x20, 0x74, 0x6f, 0x20, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63,
	0x74, 0x20, 0x74, 0x6f, 0x20, 0x74, 0x68, 0x69, 0x73, 0x20, 0x4d, 0x61,
	0x72, 0x69, 0x61, 0x44, 0x42, 0x20, 0x73, 0x65, 0x72, 0x76, 0x65, 0x72,
};

/* MySQL 8.0.42: protocol 10, caching_sha2_password, all capability bits of 8.0. */
static const unsigned char mysql8_greeting[] = {
	0x4a, 0x00, 0x00, 0x00, 0x0a, 0x38, 0x2e, 0x30, 0x2e, 0x34, 0x32, 0x00,
	0x33, 0x00, 0x00, 0x00, 0x5d, 0x2e, 0x75, 0x4d, 0x7f, 0x1e, 0x42, 0x0f,
	0x00, 0xff, 0xff, 0xff, 0x02, 0x00, 0xff, 0xdf, 0x15, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x56, 0x6c, 0x16, 0x15, 0x7b,
	0x48, 0x18, 0x44, 0x48, 0x2f, 0x4c, 0x05, 0x00, 0x63, 0x61, 0x63, 0x68,
	0x69, 0x6e, 0x67, 0x5f, 0x73, 0x68, 0x61, 0x32, 0x5f, 0x70, 0x61, 0x73,
	0x73, 0x77, 0x6f, 0x72, 0x64, 0x00,
};

/* ERR 1040 with a SQL state ("#08004"), as servers send it once protocol 4.1 is known. */
static const unsigned char mysql_err_1040[] = {
	0x1d, 0x00, 0x00, 0x00, 0xff, 0x10, 0x04, '#', '0', '8', '0', '0', '4',
	'T', 'o', 'o', ' ', 'm', 'a', 'n', 'y', ' ', 'c', 'o', 'n', 'n', 'e', 'c', 't', 'i',
	'o', 'n', 's',
};

/* MySQL 3.20's protocol 9 handshake. */
static const unsigned char mysql_v9_greeting[] = {
	0x0d, 0x00, 0x00, 0x00, 0x09, '3', '.', '2', '0', '.', '3', '2', 0x00,
	0x01, 0x00, 0x00, 0x00,
};

/* PostgreSQL's ErrorResponse (protocol 3) for "too many clients". */
static const unsigned char pg_err_too_many[] = {
	'E', 0x00, 0x00, 0x00, 0x55,
	'S', 'F', 'A', 'T', 'A', 'L', 0x00,
	'V', 'F', 'A', 'T', 'A', 'L', 0x00,
	'C', '5', '3', '3', '0', '0', 0x00,
	'M', 's', 'o', 'r', 'r', 'y', ',', ' ', 't', 'o', 'o', ' ', 'm', 'a', 'n', 'y', ' ',
	'c', 'l', 'i', 'e', 'n', 't', 's', ' ', 'a', 'l', 'r', 'e', 'a', 'd', 'y', 0x00,
	'F', 'p', 'r', 'o', 'c', '.', 'c', 0x00,
	'L', '3', '6', '2', 0x00,
	'R', 'I', 'n', 'i', 't', 'P', 'r', 'o', 'c', 'e', 's', 's', 0x00,
	0x00,
};

/* An ErrorResponse with a severity and a code but no message field. */
static const unsigned char pg_err_no_message[] = {
	'E', 0x00, 0x00, 0x00, 0x13,
	'S', 'F', 'A', 'T', 'A', 'L', 0x00, 'C', '5', '3', '3', '0', '0', 0x00, 0x00,
};

/* What the postmaster sends when it cannot fork a backend: protocol 2, before reading
 * anything (report_fork_failure_to_client: "E", the text, "\n" and the NUL). */
#define SMTP_MULTI \
	"220-mx.example.net ESMTP ready\r\n220-No UCE, no bulk mail\r\n220 go ahead\r\n"

#define PG_FORK_FAILURE \
	"Ecould not fork new process for connection: Resource temporarily unavailable\n"

/* nginx 1.22.1 */
#define NGINX_301_BODY \
	"<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n" \
	"<center><h1>301 Moved Permanently</h1></center>\r\n" \
	"<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"
#define NGINX_301 \
	"HTTP/1.1 301 Moved Permanently\r\nServer: nginx/1.22.1\r\n" \
	"Date: Fri, 29 Nov 2024 10:00:00 GMT\r\nContent-Type: text/html\r\n" \
	"Content-Length: 169\r\nConnection: close\r\nLocation: https://www.example.org/\r\n\r\n"
#define NGINX_500 \
	"HTTP/1.1 500 Internal Server Error\r\nServer: nginx/1.22.1\r\n" \
	"Date: Fri, 29 Nov 2024 10:00:00 GMT\r\nContent-Type: text/html\r\n" \
	"Content-Length: 177\r\nConnection: close\r\n\r\n"
#define NGINX_500_BODY \
	"<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n" \
	"<center><h1>500 Internal Server Error</h1></center>\r\n" \
	"<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"
#define NGINX_200 \
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 29 Nov 2024 10:00:00 GMT\r\n" \
	"Content-Type: text/html\r\nContent-Length: 65\r\n" \
	"Last-Modified: Thu, 28 Nov 2024 09:00:00 GMT\r\nConnection: close\r\n" \
	"ETag: \"67483030-41\"\r\nAccept-Ranges: bytes\r\n\r\n"
#define HEALTH_PAGE_TO_PATTERN	"<!DOCTYPE html>\n<html><body><p>status: healthy"
#define HEALTH_PAGE		HEALTH_PAGE_TO_PATTERN "</p></body></html>\n"

/* A JSON health endpoint answering in chunks (Go's net/http, no Content-Length), "healthy"
 * cut across two chunks. */
#define CHUNKED \
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" \
	"Date: Fri, 29 Nov 2024 10:00:00 GMT\r\nConnection: close\r\n" \
	"Transfer-Encoding: chunked\r\n\r\n"
#define CHUNKS_TO_PATTERN	CHUNKED "f\r\n{\"status\":\"heal\r\n10\r\nthy"
#define CHUNKS			CHUNKS_TO_PATTERN "\",\"checks\":3}\r\n0\r\n\r\n"

/* Python's http.server with a handler that sends no length: HTTP/1.0, body to the close. */
#define PY_HEAD \
	"HTTP/1.0 200 OK\r\nServer: BaseHTTP/0.6 Python/3.11.2\r\n" \
	"Date: Fri, 29 Nov 2024 10:00:00 GMT\r\nContent-Type: text/plain\r\n\r\n"
#define PY_OK		PY_HEAD "OK 42"

#define H204 "HTTP/1.1 204 No Content\r\nServer: nginx/1.22.1\r\nConnection: close\r\n\r\n"
#define H304 "HTTP/1.1 304 Not Modified\r\nETag: \"67483030-41\"\r\n\r\n"
#define HEAD_200 \
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n" \
	"Content-Length: 615\r\nConnection: close\r\n\r\n"
#define EARLY_HINTS "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
#define SSH_BANNER "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"

/* --- judging ------------------------------------------------------------------------------ */

struct judge_case {
	const char *what;
	const char *type, *method, *match, *pattern;
	bool negate;
	const char *bytes;
	size_t len;
	bool eof;			/* the peer closes after the bytes */
	enum probe_verdict want;
	const char *err;		/* for PV_DOWN: "=" prefix: the whole text; else a part */
	size_t at;			/* bytes that decide; AT_EOF: the close; 0: not checked */
};

#define BYTES(s)	.bytes = (s), .len = sizeof(s) - 1
#define ARRAY(a)	.bytes = (const char *)(a), .len = sizeof(a)
#define UPTO(s)		(sizeof(s) - 1)

static const char *const verdict_names[] = { "PV_MORE", "PV_UP", "PV_DOWN" };

static const struct judge_case judge_cases[] = {
	/* smtp */
	{ "smtp: a Postfix 220 banner is up", "smtp",
	  BYTES("220 mx1.example.org ESMTP Postfix (Debian/GNU)\r\n"), .want = PV_UP,
	  .at = UPTO("220 mx1.example.org ESMTP Postfix (Debian/GNU)\r\n") },
	{ "smtp: an Exim 220 banner is up", "smtp",
	  BYTES("220 mail.example.com ESMTP Exim 4.96 Fri, 29 Nov 2024 10:00:00 +0000\r\n"),
	  .want = PV_UP },
	{ "smtp: a multi-line 220 greeting is up at its last line", "smtp", BYTES(SMTP_MULTI),
	  .want = PV_UP, .at = UPTO(SMTP_MULTI) },
	{ "smtp: a bare 220 and a bare LF are a greeting", "smtp", BYTES("220\n"), .want = PV_UP },
	{ "smtp: postscreen's 421 is down with the line quoted", "smtp",
	  BYTES("421 4.3.2 All server ports are busy\r\n"), .want = PV_DOWN,
	  .err = "=no 220 greeting: got \"421 4.3.2 All server ports are busy\"",
	  .at = UPTO("421 4.3.2 All server ports are busy\r\n") },
	{ "smtp: a 554 after a 220- line is down with that line", "smtp",
	  BYTES("220-mx.example.net\r\n554 5.7.1 go away\r\n"), .want = PV_DOWN,
	  .err = "=no 220 greeting: got \"554 5.7.1 go away\"" },
	{ "smtp: 2201 is not 220", "smtp", BYTES("2201 hello\r\n"), .want = PV_DOWN,
	  .err = "=no 220 greeting: got \"2201 hello\"" },
	{ "smtp: control bytes, NUL and 8-bit bytes of a line are quoted as ?", "smtp",
	  BYTES("554 \x00\x1b[31mno\xff\r\n"), .want = PV_DOWN,
	  .err = "=no 220 greeting: got \"554 ??[31mno?\"" },
	{ "smtp: a line longer than the error is cut with ...", "smtp",
	  BYTES("554 " "0123456789012345678901234567890123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789012345678901234567890123456789\r\n"),
	  .want = PV_DOWN, .err = "=no 220 greeting: got \"554 "
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "012345678901234567890123456...\"" },
	{ "smtp: a close before any byte is down", "smtp", .eof = true, .want = PV_DOWN,
	  .err = "=no 220 greeting: connection closed", .at = AT_EOF },
	{ "smtp: a close in the middle of the line is down with what came", "smtp",
	  BYTES("220-mx ready\r\n220 mx re"), .eof = true, .want = PV_DOWN,
	  .err = "=no 220 greeting: connection closed after \"220 mx re\"", .at = AT_EOF },
	{ "smtp: a close after 220- lines only is down", "smtp", BYTES("220-mx ready\r\n"),
	  .eof = true, .want = PV_DOWN,
	  .err = "=no 220 greeting: connection closed after a \"220-\" line", .at = AT_EOF },
	{ "smtp: a line without its end waits for more", "smtp", BYTES("220 mx ready"),
	  .want = PV_MORE },

	/* mysql */
	{ "mysql: a MariaDB 10.11 handshake is up at its protocol byte", "mysql",
	  ARRAY(mariadb_greeting), .want = PV_UP, .at = 5 },
	{ "mysql: a MySQL 8.0 handshake is up at its protocol byte", "mysql",
	  ARRAY(mysql8_greeting), .want = PV_UP, .at = 5 },
	{ "mysql: ERR 1130 is down with its code and message, at the packet's end", "mysql",
	  ARRAY(mariadb_err_1130), .want = PV_DOWN,
	  .err = "=error 1130: Host '127.0.0.1' is not allowed to connect to this MariaDB server",
	  .at = sizeof(mariadb_err_1130) },
	{ "mysql: the SQL state of an ERR is not part of its message", "mysql",
	  ARRAY(mysql_err_1040), .want = PV_DOWN, .err = "=error 1040: Too many connections" },
	{ "mysql: protocol 9 is down naming the version", "mysql", ARRAY(mysql_v9_greeting),
	  .want = PV_DOWN, .err = "=protocol version 9, want 10", .at = 5 },
	{ "mysql: an HTTP answer is not a greeting", "mysql",
	  BYTES("HTTP/1.1 400 Bad Request\r\n\r\n"), .want = PV_DOWN,
	  .err = "=protocol version 47, want 10" },
	{ "mysql: an empty packet is down", "mysql", BYTES("\x00\x00\x00\x00\x0a"),
	  .want = PV_DOWN, .err = "=empty greeting packet" },
	{ "mysql: an ERR cut short by the close is down with what came", "mysql",
	  BYTES("\x44\x00\x00\x00\xff\x6a\x04Host '127.0"), .eof = true, .want = PV_DOWN,
	  .err = "=error 1130: Host '127.0", .at = AT_EOF },
	{ "mysql: an ERR without its code is down", "mysql", BYTES("\x01\x00\x00\x00\xff"),
	  .want = PV_DOWN, .err = "=error packet cut short" },
	{ "mysql: a close in the header is down", "mysql", BYTES("\x4a\x00\x00"), .eof = true,
	  .want = PV_DOWN, .err = "=greeting cut short at 3 bytes", .at = AT_EOF },
	{ "mysql: a close before any byte is down", "mysql", .eof = true, .want = PV_DOWN,
	  .err = "=no greeting: connection closed", .at = AT_EOF },

	/* pgsql */
	{ "pgsql: S to the SSLRequest is up", "pgsql", BYTES("S"), .want = PV_UP, .at = 1 },
	{ "pgsql: N to the SSLRequest is up", "pgsql", BYTES("N"), .want = PV_UP, .at = 1 },
	{ "pgsql: an ErrorResponse is down with its message", "pgsql", ARRAY(pg_err_too_many),
	  .want = PV_DOWN, .err = "=server error: sorry, too many clients already",
	  .at = sizeof(pg_err_too_many) },
	{ "pgsql: an ErrorResponse without a message is down", "pgsql",
	  ARRAY(pg_err_no_message), .want = PV_DOWN, .err = "=server error without a message" },
	{ "pgsql: the postmaster's fork failure (protocol 2) is down with its text", "pgsql",
	  .bytes = PG_FORK_FAILURE, .len = sizeof(PG_FORK_FAILURE), .want = PV_DOWN,
	  .err = "=server error: could not fork new process for connection: Resource "
		 "temporarily unavailable", .at = sizeof(PG_FORK_FAILURE) },
	{ "pgsql: an ErrorResponse cut in its message by the close is down with what came",
	  "pgsql", BYTES("E\x00\x00\x00\x55SFATAL\0Msorry, too"), .eof = true,
	  .want = PV_DOWN, .err = "=server error: sorry, too", .at = AT_EOF },
	{ "pgsql: an ErrorResponse shorter than its length field is malformed", "pgsql",
	  BYTES("E\x00\x00\x00\x02"), .want = PV_DOWN,
	  .err = "=malformed error response: length 2" },
	{ "pgsql: an ErrorResponse cut short by the close is down", "pgsql", BYTES("E\x00\x00"),
	  .eof = true, .want = PV_DOWN, .err = "=error response cut short", .at = AT_EOF },
	{ "pgsql: an HTTP answer is down naming its first byte", "pgsql",
	  BYTES("HTTP/1.1 400 Bad Request\r\n\r\n"), .want = PV_DOWN,
	  .err = "=not an answer to SSLRequest: first byte 0x48", .at = 1 },
	{ "pgsql: a close before any byte is down", "pgsql", .eof = true, .want = PV_DOWN,
	  .err = "=no answer to SSLRequest: connection closed", .at = AT_EOF },

	/* http, match default */
	{ "http default: 200 with Content-Length is up at the end of the headers", "http",
	  BYTES(NGINX_200 HEALTH_PAGE), .want = PV_UP, .at = UPTO(NGINX_200) },
	{ "http default: 301 is up", "http", BYTES(NGINX_301 NGINX_301_BODY), .want = PV_UP,
	  .at = UPTO(NGINX_301) },
	{ "http default: 500 is down at the end of the headers", "http",
	  BYTES(NGINX_500 NGINX_500_BODY), .want = PV_DOWN, .err = "=status 500",
	  .at = UPTO(NGINX_500) },
	{ "http default negate: 200 is down", "http", .negate = true,
	  BYTES(NGINX_200 HEALTH_PAGE), .want = PV_DOWN, .err = "=status 200 (negate)" },
	{ "http default negate: 500 is up", "http", .negate = true,
	  BYTES(NGINX_500 NGINX_500_BODY), .want = PV_UP },
	{ "http default: 204 is up", "http", BYTES(H204), .want = PV_UP },
	{ "http default: 103 Early Hints is not the answer, the 500 after it is", "http",
	  BYTES(EARLY_HINTS NGINX_500), .want = PV_DOWN, .err = "=status 500",
	  .at = UPTO(EARLY_HINTS NGINX_500) },
	{ "http default: a 600 is down", "http", BYTES("HTTP/1.1 600 Odd\r\n\r\n"),
	  .want = PV_DOWN, .err = "=status 600" },
	{ "http default: HEAD answered with a length and no body is up", "http", "HEAD",
	  BYTES(HEAD_200), .want = PV_UP },

	/* http, match status */
	{ "http status 200-299,302: 302 is up", "http", NULL, "status", "200-299,302",
	  BYTES("HTTP/1.1 302 Found\r\nLocation: /login\r\nContent-Length: 0\r\n\r\n"),
	  .want = PV_UP },
	{ "http status 200-299,302: 301 is down", "http", NULL, "status", "200-299,302",
	  BYTES(NGINX_301 NGINX_301_BODY), .want = PV_DOWN, .err = "=status 301",
	  .at = UPTO(NGINX_301) },
	{ "http status 200-299,302: 204 is up", "http", NULL, "status", "200-299,302",
	  BYTES(H204), .want = PV_UP },
	{ "http status with spaces: 205 in \" 200 , 204-206\"", "http", NULL, "status",
	  " 200 , 204-206", BYTES("HTTP/1.1 205 Reset Content\r\n\r\n"), .want = PV_UP },
	{ "http status 304: Not Modified is up", "http", NULL, "status", "304", BYTES(H304),
	  .want = PV_UP },
	{ "http status 500 negate: 500 is down", "http", NULL, "status", "500", true,
	  BYTES(NGINX_500 NGINX_500_BODY), .want = PV_DOWN, .err = "=status 500 (negate)" },
	{ "http status 500 negate: 200 is up", "http", NULL, "status", "500", true,
	  BYTES(NGINX_200 HEALTH_PAGE), .want = PV_UP },

	/* http, match contains */
	{ "http contains: found in a Content-Length body is up as soon as seen", "http", NULL,
	  "contains", "healthy", BYTES(NGINX_200 HEALTH_PAGE), .want = PV_UP,
	  .at = UPTO(NGINX_200 HEALTH_PAGE_TO_PATTERN) },
	{ "http contains: absent is down at the end of the body", "http", NULL, "contains",
	  "sick", BYTES(NGINX_200 HEALTH_PAGE), .want = PV_DOWN, .err = "=pattern not found",
	  .at = UPTO(NGINX_200 HEALTH_PAGE) },
	{ "http contains negate: found is down", "http", NULL, "contains", "healthy", true,
	  BYTES(NGINX_200 HEALTH_PAGE), .want = PV_DOWN, .err = "=pattern found (negate)",
	  .at = UPTO(NGINX_200 HEALTH_PAGE_TO_PATTERN) },
	{ "http contains negate: absent is up at the end of the body", "http", NULL, "contains",
	  "sick", true, BYTES(NGINX_200 HEALTH_PAGE), .want = PV_UP,
	  .at = UPTO(NGINX_200 HEALTH_PAGE) },
	{ "http contains: a pattern cut across two chunks is found", "http", NULL, "contains",
	  "healthy", BYTES(CHUNKS), .want = PV_UP, .at = UPTO(CHUNKS_TO_PATTERN) },
	{ "http contains: the chunk sizes are not part of the body", "http", NULL, "contains",
	  "heal\r\n10", BYTES(CHUNKS), .want = PV_DOWN, .err = "=pattern not found",
	  .at = UPTO(CHUNKS) },
	{ "http contains: the headers are not part of the body", "http", NULL, "contains",
	  "nginx", BYTES(NGINX_200 HEALTH_PAGE), .want = PV_DOWN, .err = "=pattern not found" },
	{ "http contains: a body to the close is searched as it comes", "http", NULL,
	  "contains", "OK", BYTES(PY_OK), .eof = true, .want = PV_UP, .at = UPTO(PY_HEAD "OK") },
	{ "http contains: a body cut short by the close is judged as it is", "http", NULL,
	  "contains", "sick", BYTES(NGINX_200 "<!DOCTYPE"), .eof = true, .want = PV_DOWN,
	  .err = "=pattern not found", .at = AT_EOF },
	{ "http contains: a 500 holding the pattern is up (contains judges the body)", "http",
	  NULL, "contains", "Internal", BYTES(NGINX_500 NGINX_500_BODY), .want = PV_UP },
	{ "http contains: HEAD has no body, whatever its Content-Length", "http", "HEAD",
	  "contains", "html", BYTES(HEAD_200), .want = PV_DOWN, .err = "=pattern not found",
	  .at = UPTO(HEAD_200) },
	{ "http contains negate: HEAD with no body is up", "http", "HEAD", "contains", "html",
	  true, BYTES(HEAD_200), .want = PV_UP },
	{ "http contains: 204 has no body", "http", NULL, "contains", "x", BYTES(H204),
	  .want = PV_DOWN, .err = "=pattern not found", .at = UPTO(H204) },
	{ "http contains: bytes after the response are not its body", "http", NULL,
	  "contains", "junk", BYTES(NGINX_200 HEALTH_PAGE "junk"), .want = PV_DOWN,
	  .err = "=pattern not found", .at = UPTO(NGINX_200 HEALTH_PAGE) },

	/* http, match matches */
	{ "http matches: an anchored regex on a body to the close waits for the close", "http",
	  NULL, "matches", "^OK [0-9]+$", BYTES(PY_OK), .eof = true, .want = PV_UP,
	  .at = AT_EOF },
	{ "http matches: $ is the end of the body, not of a line", "http", NULL, "matches",
	  "^OK [0-9]+$", BYTES(PY_HEAD "OK 42\nmore"), .eof = true, .want = PV_DOWN,
	  .err = "=pattern not matched" },
	{ "http matches negate: a match is down", "http", NULL, "matches", "status: (ok|healthy)",
	  true, BYTES(NGINX_200 HEALTH_PAGE), .want = PV_DOWN, .err = "=pattern matched (negate)",
	  .at = UPTO(NGINX_200 HEALTH_PAGE) },
	{ "http matches: an alternation in chunks matches", "http", NULL, "matches",
	  "\"status\":\"(ok|healthy)\"", BYTES(CHUNKS), .want = PV_UP, .at = UPTO(CHUNKS) },
	{ "http matches negate: no match is up", "http", NULL, "matches", "status: sick", true,
	  BYTES(NGINX_200 HEALTH_PAGE), .want = PV_UP },
	{ "http matches: a body with a NUL byte is matched past it", "http", NULL, "matches",
	  "b OK$", BYTES("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\na\0b OK"), .want = PV_UP },

	/* http, what is not a response */
	{ "http: an SSH banner is malformed, at its first byte", "http",
	  BYTES(SSH_BANNER), .want = PV_DOWN,
	  .err = "=malformed response: HPE_INVALID_CONSTANT (invalid constant string)", .at = 1 },
	{ "http: a bad chunk size is malformed", "http", NULL, "contains", "x",
	  BYTES(CHUNKED "zz\r\n"), .want = PV_DOWN, .err = "malformed response: "
	  "HPE_INVALID_CHUNK_SIZE" },
	{ "http: headers cut short by the close are malformed", "http",
	  BYTES("HTTP/1.1 200 OK\r\nContent-Ty"), .eof = true, .want = PV_DOWN,
	  .err = "=malformed response: HPE_INVALID_EOF_STATE (stream ended at an unexpected "
		 "time)", .at = AT_EOF },
	{ "http: a close before any byte is down", "http", .eof = true, .want = PV_DOWN,
	  .err = "=connection closed without a response", .at = AT_EOF },
	{ "http: a close after an interim answer only is down", "http", BYTES(EARLY_HINTS),
	  .eof = true, .want = PV_DOWN, .err = "=connection closed without a response" },
	{ "http: a status line without its headers waits for more", "http",
	  BYTES("HTTP/1.1 200 OK\r\n"), .want = PV_MORE },
};

/* Judge len bytes of s in a heap buffer of exactly that size (ASan's red zone right after). */
static enum probe_verdict judge(const struct probe_spec *spec, const char *s, size_t len,
				bool eof, char err[PROBE_ERR_LEN])
{
	char *copy = malloc(len ? len : 1);
	enum probe_verdict v;

	assert_non_null(copy);
	if (len)
		memcpy(copy, s, len);
	memset(err, 'X', PROBE_ERR_LEN - 1);
	err[PROBE_ERR_LEN - 1] = '\0';
	v = probe_judge(spec, copy, len, eof, err);
	free(copy);
	return v;
}

/* A PV_DOWN error is a C string of printable ASCII, never empty. */
static bool err_sane(enum probe_verdict v, const char *err, const char *what)
{
	size_t n = strnlen(err, PROBE_ERR_LEN);

	if (v != PV_DOWN)
		return true;
	if (!n || n == PROBE_ERR_LEN) {
		printf("# %s: expected an error text of 1..%d bytes, got %zu\n", what,
		       PROBE_ERR_LEN - 1, n);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (err[i] < 0x20 || err[i] > 0x7e) {
			printf("# %s: expected printable ASCII, got byte 0x%02x at %zu of \"%s\"\n",
			       what, (unsigned char)err[i], i, err);
			return false;
		}
	}
	return true;
}

static bool err_is(const char *got, const char *want)
{
	return want[0] == '=' ? !strcmp(got, want + 1) : !!strstr(got, want);
}

static void spec_init_ok(struct probe_spec *spec, const char *type, const char *method,
			 const char *url, const char *match, const char *pattern, bool negate)
{
	struct cfg_probe cfg = {
		.present = true, .type = (char *)type, .interval = 30,
		.method = (char *)method, .url = (char *)url,
		.match = (char *)(match ? match : "default"), .pattern = (char *)pattern,
		.negate = negate, .rise = 2, .fall = 3,
	};
	char err[PROBE_ERR_LEN];
	int ret = probe_spec_init(spec, &cfg, err);

	if (ret)
		fail_msg("probe_spec_init(%s, %s \"%s\"): expected 0, got %d (%s)", type,
			 cfg.match, pattern ? pattern : "", ret, err);
}

/* Whether v and err are what c wants; says what differs in a "# " line. */
static bool verdict_is(const struct judge_case *c, const char *how, enum probe_verdict v,
		       const char *err)
{
	if (v != c->want) {
		printf("# %s: expected %s, got %s (\"%s\")\n", how, verdict_names[c->want],
		       verdict_names[v], v == PV_DOWN ? err : "");
		return false;
	}
	if (v == PV_DOWN && !err_is(err, c->err)) {
		printf("# %s: expected an error %s \"%s\", got \"%s\"\n", how,
		       c->err[0] == '=' ? "equal to" : "containing", c->err + (c->err[0] == '='),
		       err);
		return false;
	}
	return true;
}

static const char *at_name(size_t at, char buf[32])
{
	if (at == AT_EOF)
		return "the close";
	snprintf(buf, 32, "%zu bytes", at);
	return buf;
}

static void test_judge_case(void **state)
{
	const struct judge_case *c = *state;
	char err[PROBE_ERR_LEN], whole_err[PROBE_ERR_LEN], first_err[PROBE_ERR_LEN] = "";
	enum probe_verdict whole, first = PV_MORE, v;
	char want_at[32], got_at[32];
	struct probe_spec spec;
	size_t decided = 0;	/* bytes of the first deciding prefix; 0: none yet */
	bool ok = true;

	spec_init_ok(&spec, c->type, c->method, NULL, c->match, c->pattern, c->negate);

	/* fed whole, then the close if the peer closes */
	whole = judge(&spec, c->bytes, c->len, false, whole_err);
	if (whole == PV_MORE && c->eof)
		whole = judge(&spec, c->bytes, c->len, true, whole_err);
	ok &= err_sane(whole, whole_err, "fed whole");
	ok &= verdict_is(c, "fed whole", whole, whole_err);

	/* byte by byte: no bytes decide nothing; then every prefix, without and with the
	 * close */
	for (size_t i = 0; i <= c->len; i++) {
		v = judge(&spec, c->bytes, i, false, err);
		ok &= err_sane(v, err, "a prefix");
		if (!i && v != PV_MORE) {
			printf("# no bytes: expected PV_MORE, got %s\n", verdict_names[v]);
			ok = false;
		} else if (!decided && v != PV_MORE) {
			decided = i;
			first = v;
			strcpy(first_err, err);
		} else if (decided && (v != first || (v == PV_DOWN && strcmp(err, first_err)))) {
			printf("# byte by byte: decided %s (\"%s\") at %zu bytes, then %s (\"%s\") "
			       "at %zu\n", verdict_names[first], first_err, decided,
			       verdict_names[v], err, i);
			ok = false;
			break;
		}
		v = judge(&spec, c->bytes, i, true, err);
		ok &= err_sane(v, err, "a prefix and the close");
		if (v == PV_MORE) {
			printf("# %zu bytes and the close: expected a verdict, got PV_MORE\n", i);
			ok = false;
		}
	}
	if (!decided && c->eof) {
		first = judge(&spec, c->bytes, c->len, true, first_err);
		decided = AT_EOF;
	}
	ok &= verdict_is(c, "byte by byte", first, first_err);
	if (first == PV_DOWN && whole == PV_DOWN && strcmp(first_err, whole_err)) {
		printf("# expected the same error fed whole and byte by byte, got \"%s\" and "
		       "\"%s\"\n", whole_err, first_err);
		ok = false;
	}
	if (c->at && decided != c->at) {
		printf("# expected the verdict at %s, got it at %s\n", at_name(c->at, want_at),
		       decided ? at_name(decided, got_at) : "no point");
		ok = false;
	}
	probe_spec_free(&spec);
	if (!ok)
		fail_msg("%s: see the lines above", c->what);
}

/* --- the PROBE_READ_MAX bound --------------------------------------------------------------- */

/* An answer of n bytes: head (hlen bytes), filler 'a's, then tail at its very end. */
static char *answer(const char *head, size_t hlen, size_t n, const char *tail)
{
	char *s = malloc(n);

	assert_non_null(s);
	memset(s, 'a', n);
	memcpy(s, head, hlen);
	memcpy(s + n - strlen(tail), tail, strlen(tail));
	return s;
}

static void expect(enum probe_verdict got, const char *err, enum probe_verdict want,
		   const char *want_err, const char *what)
{
	if (got != want)
		fail_msg("%s: expected %s, got %s (\"%s\")", what, verdict_names[want],
			 verdict_names[got], got == PV_DOWN ? err : "");
	if (want == PV_DOWN && !err_is(err, want_err))
		fail_msg("%s: expected an error \"%s\", got \"%s\"", what, want_err, err);
}

static void test_http_body_is_read_up_to_the_bound(void **state)
{
	char head[128], err[PROBE_ERR_LEN];
	size_t big = PROBE_READ_MAX + 4096;
	struct probe_spec spec;
	char *s;

	(void)state;
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", big);
	/* the pattern at the very end of a body longer than the bound is not read */
	s = answer(head, strlen(head), strlen(head) + big, "healthy");
	spec_init_ok(&spec, "http", NULL, NULL, "contains", "healthy", false);
	expect(judge(&spec, s, strlen(head) + big, false, err), err, PV_DOWN, "=pattern not found",
	       "contains, pattern past the bound");
	/* exactly the bound without the close is a verdict: the bound is the caller's close */
	expect(judge(&spec, s, PROBE_READ_MAX, false, err), err, PV_DOWN, "=pattern not found",
	       "contains, PROBE_READ_MAX bytes");
	expect(judge(&spec, s, PROBE_READ_MAX - 1, false, err), err, PV_MORE, NULL,
	       "contains, PROBE_READ_MAX - 1 bytes");
	probe_spec_free(&spec);
	free(s);

	/* the pattern just inside the bound is found */
	s = answer(head, strlen(head), PROBE_READ_MAX, "healthy");
	spec_init_ok(&spec, "http", NULL, NULL, "matches", "healthy$", false);
	expect(judge(&spec, s, PROBE_READ_MAX, false, err), err, PV_UP, NULL,
	       "matches, pattern ending at the bound");
	probe_spec_free(&spec);
	free(s);
}

static void test_endless_greetings_end_at_the_bound(void **state)
{
	char err[PROBE_ERR_LEN];
	struct probe_spec spec;
	char *s;

	(void)state;
	/* a line that never ends */
	s = answer("220 ", 4, PROBE_READ_MAX, "");
	spec_init_ok(&spec, "smtp", NULL, NULL, NULL, NULL, false);
	expect(judge(&spec, s, PROBE_READ_MAX - 1, false, err), err, PV_MORE, NULL,
	       "smtp, a line of PROBE_READ_MAX - 1 bytes");
	expect(judge(&spec, s, PROBE_READ_MAX, false, err), err, PV_DOWN,
	       "no 220 greeting: connection closed after \"220 aaa", "smtp, at the bound");
	probe_spec_free(&spec);
	free(s);

	/* an ERR packet that says 16 MiB */
	s = answer("\xff\xff\xff\x00\xff\x10\x04", 7, PROBE_READ_MAX, "");
	spec_init_ok(&spec, "mysql", NULL, NULL, NULL, NULL, false);
	expect(judge(&spec, s, PROBE_READ_MAX - 1, false, err), err, PV_MORE, NULL,
	       "mysql, an ERR of 16 MiB, PROBE_READ_MAX - 1 bytes");
	expect(judge(&spec, s, PROBE_READ_MAX, false, err), err, PV_DOWN, "error 1040: aaa",
	       "mysql, an ERR of 16 MiB, at the bound");
	probe_spec_free(&spec);
	free(s);

	/* an ErrorResponse that says 16 MiB, its message cut by the bound */
	s = answer("E\x00\xff\xff\xffM", 6, PROBE_READ_MAX, "");
	spec_init_ok(&spec, "pgsql", NULL, NULL, NULL, NULL, false);
	expect(judge(&spec, s, PROBE_READ_MAX - 1, false, err), err, PV_MORE, NULL,
	       "pgsql, an ErrorResponse of 16 MiB, PROBE_READ_MAX - 1 bytes");
	expect(judge(&spec, s, PROBE_READ_MAX, false, err), err, PV_DOWN,
	       "server error: aaa", "pgsql, an ErrorResponse of 16 MiB, at the bound");
	probe_spec_free(&spec);
	free(s);
}

/* --- requests, goodbyes, specs ------------------------------------------------------------ */

static void test_http_request_bytes(void **state)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: 198.18.1.11\r\nConnection: close\r\n"
				  "User-Agent: limpet-probe\r\n\r\n";
	static const char head[] = "HEAD /health?full=1 HTTP/1.1\r\nHost: [2001:db8::11]:8080\r\n"
				   "Connection: close\r\nUser-Agent: limpet-probe\r\n\r\n";
	struct probe_spec spec;
	char buf[256];
	int n;

	(void)state;
	spec_init_ok(&spec, "http", NULL, NULL, NULL, NULL, false);
	n = probe_request(&spec, "198.18.1.11", buf, sizeof(buf));
	if (n != (int)strlen(get) || memcmp(buf, get, strlen(get)))
		fail_msg("default request: expected %zu bytes \"%s\", got %d \"%.*s\"",
			 strlen(get), get, n, n > 0 ? n : 0, buf);
	assert_null(probe_goodbye(&spec));
	/* the NUL needs its byte too */
	assert_int_equal(probe_request(&spec, "198.18.1.11", buf, strlen(get)), -ENOSPC);
	assert_int_equal(probe_request(&spec, "198.18.1.11", buf, strlen(get) + 1),
			 (int)strlen(get));
	/* a host that would end its header line, or none */
	assert_int_equal(probe_request(&spec, "a\r\nX-Evil: 1", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(probe_request(&spec, "a b", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(probe_request(&spec, "", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(probe_request(&spec, NULL, buf, sizeof(buf)), -EINVAL);
	probe_spec_free(&spec);

	spec_init_ok(&spec, "http", "HEAD", "/health?full=1", NULL, NULL, false);
	n = probe_request(&spec, "[2001:db8::11]:8080", buf, sizeof(buf));
	if (n != (int)strlen(head) || memcmp(buf, head, strlen(head)))
		fail_msg("HEAD request: expected %zu bytes \"%s\", got %d \"%.*s\"",
			 strlen(head), head, n, n > 0 ? n : 0, buf);
	probe_spec_free(&spec);
}

static void test_other_requests_and_goodbyes(void **state)
{
	static const char ssl_request[] = { 0x00, 0x00, 0x00, 0x08, 0x04, (char)0xd2, 0x16, 0x2f };
	char buf[16], err[PROBE_ERR_LEN];
	struct probe_spec spec;

	(void)state;
	spec_init_ok(&spec, "pgsql", NULL, NULL, NULL, NULL, false);
	assert_int_equal(probe_request(&spec, "198.18.1.11", buf, sizeof(buf)), 8);
	if (memcmp(buf, ssl_request, sizeof(ssl_request)))
		fail_msg("SSLRequest: expected 00 00 00 08 04 d2 16 2f, got %02x %02x %02x %02x "
			 "%02x %02x %02x %02x", (unsigned char)buf[0], (unsigned char)buf[1],
			 (unsigned char)buf[2], (unsigned char)buf[3], (unsigned char)buf[4],
			 (unsigned char)buf[5], (unsigned char)buf[6], (unsigned char)buf[7]);
	assert_int_equal(probe_request(&spec, "198.18.1.11", buf, 7), -ENOSPC);
	assert_null(probe_goodbye(&spec));
	probe_spec_free(&spec);

	spec_init_ok(&spec, "smtp", NULL, NULL, NULL, NULL, false);
	assert_int_equal(probe_request(&spec, "198.18.1.11", buf, sizeof(buf)), 0);
	assert_string_equal(probe_goodbye(&spec), "QUIT\r\n");
	probe_spec_free(&spec);

	spec_init_ok(&spec, "mysql", NULL, NULL, NULL, NULL, false);
	assert_int_equal(probe_request(&spec, "198.18.1.11", buf, sizeof(buf)), 0);
	assert_null(probe_goodbye(&spec));
	probe_spec_free(&spec);

	/* tcp: nothing to send, nothing to judge (up if asked anyway) */
	spec_init_ok(&spec, "tcp", NULL, NULL, NULL, NULL, false);
	assert_int_equal(probe_request(&spec, "198.18.1.11", NULL, 0), 0);
	assert_null(probe_goodbye(&spec));
	expect(probe_judge(&spec, NULL, 0, true, err), err, PV_UP, NULL, "tcp judged");
	probe_spec_free(&spec);
}

struct spec_case {
	const char *what;
	const char *type, *method, *url, *match, *pattern;
	const char *err;	/* NULL: compiles; else the error, "=" prefix: the whole text */
};

static const struct spec_case spec_cases[] = {
	{ "spec: status codes and ranges compile", "http", NULL, NULL, "status",
	  "200,204-206, 301 - 302", NULL },
	{ "spec: a status pattern of classes is refused", "http", NULL, NULL, "status", "2xx",
	  "=status pattern \"2xx\" is not codes (100-599) or ranges (200-299) separated by "
	  "commas" },
	{ "spec: a status range without its end is refused", "http", NULL, NULL, "status",
	  "200-", "status pattern \"200-\"" },
	{ "spec: a reversed status range is refused", "http", NULL, NULL, "status", "299-200",
	  "status pattern" },
	{ "spec: a status code out of 100-599 is refused", "http", NULL, NULL, "status", "600",
	  "status pattern" },
	{ "spec: a four-digit status is refused", "http", NULL, NULL, "status", "2000",
	  "status pattern" },
	{ "spec: an empty status item is refused", "http", NULL, NULL, "status", "200,,302",
	  "status pattern" },
	{ "spec: an empty status pattern is refused", "http", NULL, NULL, "status", "",
	  "status pattern" },
	{ "spec: an extended regex compiles", "http", NULL, NULL, "matches",
	  "^\\{\"status\": ?\"(ok|up)\"\\}$", NULL },
	{ "spec: a regex that does not compile is refused", "http", NULL, NULL, "matches",
	  "(unclosed", "pattern is not a regex: " },
	{ "spec: a match without its pattern is refused", "http", NULL, NULL, "contains", NULL,
	  "=match \"contains\" needs a pattern" },
	{ "spec: an unknown match is refused", "http", NULL, NULL, "regex", "x",
	  "=unknown match \"regex\"" },
	{ "spec: a method other than GET, HEAD, OPTIONS is refused", "http", "POST", NULL, NULL,
	  NULL, "=method \"POST\" is not GET, HEAD or OPTIONS" },
	{ "spec: a url with a space is refused", "http", NULL, "/a b", NULL, NULL,
	  "=url is empty or has a space or a control byte" },
	{ "spec: a url with a CRLF is refused", "http", NULL, "/\r\nX: 1", NULL, NULL,
	  "url is empty" },
	{ "spec: an empty url is refused", "http", NULL, "", NULL, NULL, "url is empty" },
	{ "spec: an unknown type is refused", "oco", NULL, NULL, NULL, NULL,
	  "=unknown probe type \"oco\"" },
	{ "spec: a missing type is refused", NULL, NULL, NULL, NULL, NULL,
	  "=unknown probe type \"(none)\"" },
	{ "spec: match fields of a non-http probe are left alone", "smtp", NULL, NULL, "status",
	  "not a status", NULL },
};

static void test_spec_case(void **state)
{
	const struct spec_case *c = *state;
	struct cfg_probe cfg = {
		.present = true, .type = (char *)c->type, .interval = 30,
		.method = (char *)c->method, .url = (char *)c->url,
		.match = (char *)(c->match ? c->match : "default"), .pattern = (char *)c->pattern,
	};
	char err[PROBE_ERR_LEN];
	struct probe_spec spec;
	int ret = probe_spec_init(&spec, &cfg, err);

	if (!c->err && ret)
		fail_msg("expected 0, got %d (\"%s\")", ret, err);
	if (c->err && ret != -EINVAL)
		fail_msg("expected %d (-EINVAL), got %d", -EINVAL, ret);
	if (c->err && !err_is(err, c->err))
		fail_msg("expected an error %s \"%s\", got \"%s\"",
			 c->err[0] == '=' ? "equal to" : "containing", c->err + (c->err[0] == '='),
			 err);
	/* freed twice: a failed init leaves a spec that frees, a freed one too */
	probe_spec_free(&spec);
	probe_spec_free(&spec);
}

static void test_spec_from_a_parsed_config(void **state)
{
	static const char doc[] =
		"{\"serviceName\": \"demo\", \"tcp\": {\"frontend\": [], \"farm\": [{\"farmId\": 1,"
		" \"probe\": {\"type\": \"http\", \"url\": \"/healthz\", \"method\": \"HEAD\","
		" \"match\": \"status\", \"pattern\": \"200-299\", \"negate\": true}}]}}";
	const struct cfg_farm *farm;
	char err[PROBE_ERR_LEN], buf[256];
	struct config *cfg = NULL;
	struct probe_spec spec;
	int ret;

	(void)state;
	ret = config_parse(doc, strlen(doc), &cfg, NULL);
	if (ret)
		fail_msg("config_parse: expected 0, got %d", ret);
	farm = config_find_farm(cfg, CFG_TCP, 1);
	assert_non_null(farm);
	ret = probe_spec_init(&spec, &farm->probe, err);
	config_free(cfg);
	if (ret)
		fail_msg("probe_spec_init: expected 0, got %d (\"%s\")", ret, err);
	/* the spec owns its strings: the config is gone */
	assert_int_equal(spec.type, PROBE_HTTP);
	assert_int_equal(spec.match, MATCH_STATUS);
	assert_true(spec.negate);
	ret = probe_request(&spec, "h", buf, sizeof(buf));
	assert_true(ret > 0);
	if (strncmp(buf, "HEAD /healthz HTTP/1.1\r\n", 24))
		fail_msg("request line: expected \"HEAD /healthz HTTP/1.1\", got \"%.*s\"", 24,
			 buf);
	expect(judge(&spec, "HTTP/1.1 204 No Content\r\n\r\n", 27, false, err), err, PV_DOWN,
	       "=status 204 (negate)", "negated status range");
	probe_spec_free(&spec);
}

/* --- arbitrary bytes ----------------------------------------------------------------------- */

static uint64_t rng_state = 0x9c1e52a07d3b4f16ull;

static uint32_t rng(void)
{
	/* xorshift64*: the same bytes on every run, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545f4914f6cdd1dull) >> 32;
}

/* Random bytes after a prefix that gets each parser past its first check, so that the
 * deeper states see garbage too; every verdict sane, every close decisive. */
static void test_arbitrary_bytes_never_crash(void **state)
{
	static const struct { const char *type, *match, *pattern, *prefix; } kinds[] = {
		{ "http", NULL, NULL, "" },
		{ "http", "contains", "ok", "HTTP/1.1 200 OK\r\n" },
		{ "http", "matches", "o+k",
		  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" },
		{ "http", "status", "200-299", "HTTP/1.1 " },
		{ "smtp", NULL, NULL, "" },
		{ "smtp", NULL, NULL, "220-" },
		{ "mysql", NULL, NULL, "" },
		{ "mysql", NULL, NULL, "\x10\x00\x00\x00\xff" },
		{ "pgsql", NULL, NULL, "E" },
		{ "pgsql", NULL, NULL, "E\x00\x00\x00\x10" },
	};
	static const char alphabet[] = "\0\r\n :-0123456789aAfF#EHTP/\xff";
	char buf[96], err[PROBE_ERR_LEN];
	struct probe_spec spec;
	enum probe_verdict v;

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		size_t plen = strlen(kinds[k].prefix);

		/* mysql's binary prefix holds NULs: its length is its first byte's count */
		if (!strcmp(kinds[k].type, "mysql") && kinds[k].prefix[0])
			plen = 5;
		spec_init_ok(&spec, kinds[k].type, NULL, NULL, kinds[k].match, kinds[k].pattern,
			     false);
		for (int round = 0; round < 2000; round++) {
			size_t len = plen + rng() % (sizeof(buf) - plen + 1);

			memcpy(buf, kinds[k].prefix, plen);
			for (size_t i = plen; i < len; i++)
				buf[i] = rng() % 2 ? (char)rng()
						   : alphabet[rng() % (sizeof(alphabet) - 1)];
			v = judge(&spec, buf, len, false, err);
			if (v > PV_DOWN || !err_sane(v, err, kinds[k].type))
				fail_msg("%s: verdict %d on random bytes", kinds[k].type, v);
			v = judge(&spec, buf, len, true, err);
			if (v == PV_MORE || v > PV_DOWN || !err_sane(v, err, kinds[k].type))
				fail_msg("%s: expected a verdict at the close, got %d",
					 kinds[k].type, v);
		}
		probe_spec_free(&spec);
	}
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_http_body_is_read_up_to_the_bound),
		cmocka_unit_test(test_endless_greetings_end_at_the_bound),
		cmocka_unit_test(test_http_request_bytes),
		cmocka_unit_test(test_other_requests_and_goodbyes),
		cmocka_unit_test(test_spec_from_a_parsed_config),
		cmocka_unit_test(test_arbitrary_bytes_never_crash),
	};
	/* One TAP line per answer and per spec, named by what it proves. */
	struct CMUnitTest tests[ARRAY_SIZE(judge_cases) + ARRAY_SIZE(spec_cases) +
				ARRAY_SIZE(fixed)];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(judge_cases); i++)
		tests[n++] = (struct CMUnitTest){
			.name = judge_cases[i].what,
			.test_func = test_judge_case,
			.initial_state = (void *)&judge_cases[i],
		};
	for (size_t i = 0; i < ARRAY_SIZE(spec_cases); i++)
		tests[n++] = (struct CMUnitTest){
			.name = spec_cases[i].what,
			.test_func = test_spec_case,
			.initial_state = (void *)&spec_cases[i],
		};
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[n++] = fixed[i];
	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
