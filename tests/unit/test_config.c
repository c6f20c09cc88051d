// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The config parser and validator (user/config.c): a table of bad documents, each with the
 * errors it must produce (all of them, in one pass, with their JSON path), and good documents
 * whose model must hold the expected values, including the defaults, and survive a round trip
 * through config_to_json().
 *
 * JSON in this file is written with single quotes, which q() turns into double quotes: no
 * config needs an apostrophe and the documents stay readable.
 * TAP output comes from CMOCKA_MESSAGE_OUTPUT=TAP; our own diagnostics are "# " lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "limpet/abi.h"
#include "config/config.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define WANT_MAX	6

/* --- helpers ----------------------------------------------------------------------------- */

static char *q(const char *sq)
{
	char *s = strdup(sq);

	assert_non_null(s);
	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	return s;
}

static void errors_print(const struct cfg_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		printf("#   %s\n", e->msg[i]);
}

/* Parse a single-quoted document, expecting success; fails the test with every error. */
static struct config *parse_ok(const char *sq)
{
	struct cfg_errors errs;
	struct config *c = NULL;
	char *text = q(sq);
	int err;

	err = config_parse(text, strlen(text), &c, &errs);
	free(text);
	if (err) {
		size_t n = errs.n;

		printf("# errors:\n");
		errors_print(&errs);
		cfg_errors_free(&errs);
		fail_msg("config_parse: expected 0, got %d with %zu errors", err, n);
	}
	if (errs.n)
		fail_msg("config_parse: expected no errors on success, got %zu", errs.n);
	assert_non_null(c);
	return c;
}

static bool has_error(const struct cfg_errors *e, const char *want)
{
	bool exact = want[0] == '=';

	for (size_t i = 0; i < e->n; i++)
		if (exact ? !strcmp(e->msg[i], want + 1) : !!strstr(e->msg[i], want))
			return true;
	return false;
}

/* Parse text expecting -EINVAL with every wanted error ("=" prefix: the whole message) and,
 * when nerr is not 0, exactly nerr errors; says what differs in "# " lines. */
static bool expect_errors(const char *what, const char *text, size_t len, size_t nerr,
			  const char *const want[])
{
	struct cfg_errors errs;
	struct config *c = (struct config *)1;
	bool ok = true;
	int err;

	err = config_parse(text, len, &c, &errs);
	if (err != -EINVAL) {
		printf("# %s: expected %d (-EINVAL), got %d\n", what, -EINVAL, err);
		ok = false;
	}
	if (c) {
		printf("# %s: expected no config on error, got one\n", what);
		config_free(c);
		ok = false;
	}
	for (size_t i = 0; i < WANT_MAX && want[i]; i++) {
		if (!has_error(&errs, want[i])) {
			printf("# %s: expected an error %s \"%s\", got none\n", what,
			       want[i][0] == '=' ? "equal to" : "containing",
			       want[i] + (want[i][0] == '='));
			ok = false;
		}
	}
	if (nerr && errs.n != nerr) {
		printf("# %s: expected %zu errors, got %zu\n", what, nerr, errs.n);
		ok = false;
	}
	if (!ok) {
		printf("# %s: the errors were:\n", what);
		errors_print(&errs);
	}
	cfg_errors_free(&errs);
	return ok;
}

static struct cfg_addr addr(const char *s)
{
	struct cfg_addr a = { 0 };

	if (inet_pton(AF_INET, s, a.addr) == 1)
		a.family = LB_V4;
	else if (inet_pton(AF_INET6, s, a.addr) == 1)
		a.family = LB_V6;
	else
		fail_msg("test bug: %s is not an address", s);
	return a;
}

static void assert_addr(const struct cfg_addr *got, const char *want, const char *what)
{
	struct cfg_addr w = addr(want);

	if (got->family != w.family || memcmp(got->addr, w.addr, sizeof(w.addr)))
		fail_msg("%s: expected %s (family %u), got family %u", what, want, w.family,
			 got->family);
}

static void assert_str(const char *got, const char *want, const char *what)
{
	const char *wq = want ? "\"" : "", *gq = got ? "\"" : "";

	if (!got != !want || (got && strcmp(got, want)))
		fail_msg("%s: expected %s%s%s, got %s%s%s", what, wq, want ? want : "NULL", wq, gq,
			 got ? got : "NULL", gq);
}

static void assert_num(unsigned long long got, unsigned long long want, const char *what)
{
	if (got != want)
		fail_msg("%s: expected %llu, got %llu", what, want, got);
}

/* --- bad documents --------------------------------------------------------------------------- */

/* A tcp layer that is valid on its own: bad cases change one thing of it. */
#define FE1	"{'frontendId': 1, 'address': '198.18.100.1', 'port': '80', 'defaultFarmId': 1}"
#define SRV(id)	"{'serverId': " #id ", 'address': '198.18.1.1" #id "'}"

struct bad_case {
	const char *what;
	const char *json;		/* single-quoted */
	size_t nerr;			/* exact error count; 0: do not check */
	const char *want[WANT_MAX];	/* substrings; "=" prefix: the whole message */
};

static const struct bad_case bad_cases[] = {
	{ "malformed JSON is one error with line and column",
	  "{'serviceName': 'demo',}", 1,
	  { "=1:24: config is not valid JSON: string or '}' expected near '}'" } },
	{ "a key given twice is malformed JSON, not last-one-wins",
	  "{'serviceName': 'demo', 'serviceName': 'other'}", 1,
	  { "config is not valid JSON: duplicate object key" } },
	{ "top level must be an object",
	  "[]", 1, { "=(top level): expected an object, got an array" } },
	{ "unknown field names the object and the field",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'server': [" SRV(1) ", {'serverId': 2, 'address': '198.18.1.12', 'wieght': 5}]}]}}", 1,
	  { "=tcp.farm[0].server[1]: unknown field \"wieght\" (did you mean \"weight\"?)" } },
	{ "unknown top-level field",
	  "{'serviceName': 'demo', 'tpc': {}}", 1,
	  { "=(top level): unknown field \"tpc\" (did you mean \"tcp\"?)" } },
	{ "wrong type names the expected and the given type",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'server': [" SRV(1) ", {'serverId': 2, 'address': '198.18.1.12',"
	  " 'weight': '5'}]}]}}", 1,
	  { "=tcp.farm[0].server[1].weight: expected an integer, got a string" } },
	{ "wrong types: real, boolean, array, element",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 ", 7], 'farm': [{'farmId': 1.0,"
	  " 'port': true, 'server': {}}]}}", 4,
	  { "=tcp.frontend[1]: expected an object, got an integer",
	    "=tcp.farm[0].farmId: expected an integer, got a real number",
	    "=tcp.farm[0].port: expected an integer, got a boolean",
	    "=tcp.farm[0].server: expected an array, got an object" } },
	{ "a layer must be an object",
	  "{'serviceName': 'demo', 'udp': []}", 1, { "=udp: expected an object, got an array" } },
	{ "weight out of range",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'server': [" SRV(1) ", " SRV(2) ", {'serverId': 3, 'address': '198.18.1.13',"
	  " 'weight': 300}]}]}}", 1,
	  { "=tcp.farm[0].server[2].weight: 300 is out of range 1..256" } },
	{ "ids, ports and enums out of range",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'stickiness': 'sticky', 'server': [{'serverId': 0, 'address': '198.18.1.11',"
	  " 'port': 65536, 'weight': 0, 'status': 'up'}]}]}}", 5,
	  { "=tcp.farm[0].server[0].serverId: 0 is out of range 1..4294967295",
	    "=tcp.farm[0].server[0].port: 65536 is out of range 1..65535",
	    "=tcp.farm[0].server[0].weight: 0 is out of range 1..256",
	    "=tcp.farm[0].server[0].status: \"up\" is not one of active|inactive",
	    "=tcp.farm[0].stickiness: \"sticky\" is not one of null|sourceIp|cookie" } },
	{ "missing required fields",
	  "{'tcp': {'frontend': [{'frontendId': 1, 'defaultFarmId': 1}], 'farm': [{'farmId': 1,"
	  " 'probe': {'interval': 5}, 'server': [{'address': '198.18.1.11'}]}]}}", 5,
	  { "=serviceName: required field missing",
	    "=tcp.frontend[0].address: required field missing",
	    "=tcp.frontend[0].port: required field missing",
	    "=tcp.farm[0].probe.type: required field missing",
	    "=tcp.farm[0].server[0].serverId: required field missing" } },
	{ "duplicate serverId in a farm",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'server': [" SRV(1) ", " SRV(2) ", {'serverId': 1, 'address': '198.18.1.13'}]}]}}", 1,
	  { "=tcp.farm[0].server[2].serverId: duplicate serverId 1 (tcp.farm[0].server[0] has it "
	    "too)" } },
	{ "duplicate farmId in a layer",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1},"
	  " {'farmId': 2}, {'farmId': 1}]}}", 1,
	  { "=tcp.farm[2].farmId: duplicate farmId 1 (tcp.farm[0] has it too)" } },
	{ "duplicate frontendId in a layer",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 ", {'frontendId': 1, 'address':"
	  " '198.18.100.2', 'port': '80', 'defaultFarmId': 1}], 'farm': [{'farmId': 1}]}}", 1,
	  { "=tcp.frontend[1].frontendId: duplicate frontendId 1 (tcp.frontend[0] has it too)" } },
	{ "the same ids in two layers are fine, a farm of another layer is not",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1}]},"
	  " 'udp': {'frontend': [" FE1 ", {'frontendId': 2, 'address': '198.18.100.1',"
	  " 'port': '53', 'defaultFarmId': 7}], 'farm': [{'farmId': 1}]}}", 1,
	  { "=udp.frontend[1].defaultFarmId: no farm 7 in udp" } },
	{ "dangling defaultFarmId",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [{'frontendId': 1, 'address':"
	  " '198.18.100.1', 'port': '80', 'defaultFarmId': 7}], 'farm': [{'farmId': 1}]}}", 1,
	  { "=tcp.frontend[0].defaultFarmId: no farm 7 in tcp" } },
	{ "cookie stickiness on tcp",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'stickiness': 'cookie', 'cookieName': 'LB'}]}}", 1,
	  { "=tcp.farm[0].stickiness: cookie stickiness needs an http farm (the L7 path)" } },
	{ "cookieName without cookie stickiness",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'stickiness': 'sourceIp', 'cookieName': 'LB'}, {'farmId': 2, 'cookieName': 'a b'}]}}",
	  3,
	  { "=tcp.farm[0].cookieName: only meaningful with cookie stickiness",
	    "=tcp.farm[1].cookieName: \"a b\" is not a cookie name (1..64 token characters)",
	    "=tcp.farm[1].cookieName: only meaningful with cookie stickiness" } },
	{ "balance leastconn on udp",
	  "{'serviceName': 'demo', 'udp': {'frontend': [{'frontendId': 1, 'address':"
	  " '198.18.100.1', 'port': '53', 'defaultFarmId': 1}], 'farm': [{'farmId': 1,"
	  " 'balance': 'leastconn'}, {'farmId': 2, 'balance': 'uri'}, {'farmId': 3,"
	  " 'balance': 'source'}]}}", 2,
	  { "=udp.farm[0].balance: leastconn needs an http farm (the L7 path); udp farms serve "
	    "roundrobin or source",
	    "udp.farm[1].balance: uri needs an http farm" } },
	{ "proxyProtocolVersion needs an http farm",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'server': [{'serverId': 1, 'address': '198.18.1.11',"
	  " 'proxyProtocolVersion': 'v2'}]}]}}", 1,
	  { "=tcp.farm[0].server[0].proxyProtocolVersion: needs an http farm (the L7 path); dsr "
	    "forward does not touch the payload" } },
	{ "IPv6 VIP with an IPv4 server in dsr",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [{'frontendId': 3, 'address':"
	  " '2001:db8::1', 'port': '80', 'defaultFarmId': 1}], 'farm': [{'farmId': 1,"
	  " 'server': [{'serverId': 1, 'address': '2001:db8:1::11'}, " SRV(2) "]}]}}", 1,
	  { "=tcp.farm[0].server[1].address: IPv4 server in a farm of IPv6 frontend 3 (dsr/ipip "
	    "forward without translation)" } },
	{ "a farm used by both families cannot have servers of either",
	  "{'serviceName': 'demo', 'udp': {'frontend': [{'frontendId': 1,"
	  " 'address': '198.18.100.1', 'port': '53', 'defaultFarmId': 1}, {'frontendId': 2,"
	  " 'address': '2001:db8::1', 'port': '53', 'defaultFarmId': 1}], 'farm': [{'farmId': 1,"
	  " 'forwarding': 'ipip',"
	  " 'server': [" SRV(1) ", {'serverId': 2, 'address': '2001:db8:1::12'}]}]}}", 2,
	  { "udp.farm[0].server[0].address: IPv4 server in a farm of IPv6 frontend 2",
	    "udp.farm[0].server[1].address: IPv6 server in a farm of IPv4 frontend 1" } },
	{ "port range frontend with a server port",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [{'frontendId': 1, 'address':"
	  " '198.18.100.1', 'port': '8000-8100', 'defaultFarmId': 1}], 'farm': [{'farmId': 1,"
	  " 'server': [{'serverId': 1, 'address': '198.18.1.11', 'port': 8000}]}]}}", 1,
	  { "=tcp.farm[0].server[0].port: must be absent: tcp.frontend[0] (frontendId 1) listens "
	    "on \"8000-8100\" and dsr forward keeps each packet's port" } },
	{ "single port frontend with another farm or server port",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'port': 8080, 'server': [{'serverId': 1, 'address': '198.18.1.11', 'port': 80},"
	  " {'serverId': 2, 'address': '198.18.1.12', 'port': 81}]}]}}", 2,
	  { "=tcp.farm[0].port: 8080 differs from port 80 of tcp.frontend[0] (frontendId 1): dsr "
	    "forward cannot translate ports",
	    "=tcp.farm[0].server[1].port: 81 differs from port 80 of tcp.frontend[0]"
	    " (frontendId 1): dsr forward cannot translate ports" } },
	{ "bad port strings",
	  "{'serviceName': 'demo', 'tcp': {'frontend': ["
	  "{'frontendId': 1, 'address': '198.18.100.1', 'port': '0', 'defaultFarmId': 1},"
	  "{'frontendId': 2, 'address': '198.18.100.2', 'port': '70000', 'defaultFarmId': 1},"
	  "{'frontendId': 3, 'address': '198.18.100.3', 'port': '90-80', 'defaultFarmId': 1},"
	  "{'frontendId': 4, 'address': '198.18.100.4', 'port': 'a', 'defaultFarmId': 1},"
	  "{'frontendId': 5, 'address': '198.18.100.5', 'port': '80,,443', 'defaultFarmId': 1},"
	  "{'frontendId': 6, 'address': '198.18.100.6', 'port': '80-', 'defaultFarmId': 1},"
	  "{'frontendId': 7, 'address': '198.18.100.7', 'port': 80, 'defaultFarmId': 1}],"
	  " 'farm': [{'farmId': 1}]}}", 7,
	  { "=tcp.frontend[0].port: port 0 is out of range 1..65535",
	    "=tcp.frontend[1].port: port 70000 is out of range 1..65535",
	    "=tcp.frontend[2].port: range 90-80 is reversed (90 > 80)",
	    "=tcp.frontend[3].port: \"a\" is not a port or a port range (expected e.g. \"80\", "
	    "\"80,443\", \"8000-8100\")",
	    "=tcp.frontend[4].port: \"80,,443\": empty entry (expected e.g. \"80\", \"80,443\", "
	    "\"8000-8100\")",
	    "=tcp.frontend[6].port: expected a string, got an integer" } },
	{ "bad addresses",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [{'frontendId': 1, 'address':"
	  " '198.18.100', 'port': '80', 'defaultFarmId': 1}], 'farm': [{'farmId': 1,"
	  " 'server': [{'serverId': 1, 'address': 'backend.example'}]}]}}", 2,
	  { "=tcp.frontend[0].address: \"198.18.100\" is not an IPv4 or IPv6 address",
	    "=tcp.farm[0].server[0].address: \"backend.example\" is not an IPv4 or IPv6 "
	    "address" } },
	{ "bad CIDR in allowedSource",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [{'frontendId': 1, 'address':"
	  " '198.18.100.1', 'port': '80', 'defaultFarmId': 1, 'allowedSource': ['198.18.0.0/15',"
	  " '10.0.0.0/33', '10.0.0.1/8', '2001:db8::/32', 'nonsense', 5, '10.0.0.0/']}],"
	  " 'farm': [{'farmId': 1}]}}", 6,
	  { "=tcp.frontend[0].allowedSource[1]: \"10.0.0.0/33\": prefix length 33 exceeds 32 for "
	    "IPv4",
	    "=tcp.frontend[0].allowedSource[2]: \"10.0.0.1/8\" has host bits set (the prefix is "
	    "10.0.0.0/8)",
	    "=tcp.frontend[0].allowedSource[3]: IPv6 prefix for an IPv4 frontend address",
	    "=tcp.frontend[0].allowedSource[4]: \"nonsense\" is not an address or a prefix "
	    "(address/length)",
	    "=tcp.frontend[0].allowedSource[5]: expected a string, got an integer",
	    "tcp.frontend[0].allowedSource[6]: \"10.0.0.0/\" is not an address or a prefix" } },
	{ "ssl refused",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [{'frontendId': 1, 'address':"
	  " '198.18.100.1', 'port': '443', 'defaultFarmId': 1, 'ssl': true}],"
	  " 'farm': [{'farmId': 1}]}}", 1,
	  { "=tcp.frontend[0].ssl: not supported by limpet (TLS is not terminated here)" } },
	{ "server ssl and chain, farm vrackNetworkId refused",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'vrackNetworkId': 12, 'server': [{'serverId': 1, 'address': '198.18.1.11',"
	  " 'ssl': true, 'chain': '-----BEGIN CERTIFICATE-----'}]}]}}", 3,
	  { "tcp.farm[0].vrackNetworkId: not supported by limpet (no vRack",
	    "=tcp.farm[0].server[0].ssl: not supported by limpet (TLS is not terminated here)",
	    "tcp.farm[0].server[0].chain: not supported by limpet" } },
	{ "probe types oco and internal refused",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'probe': {'type': 'oco'}}, {'farmId': 2, 'probe': {'type': 'internal'}},"
	  " {'farmId': 3, 'probe': {'type': 'icmp'}}]}}", 3,
	  { "tcp.farm[0].probe.type: probe type \"oco\" is not supported by limpet",
	    "tcp.farm[1].probe.type: probe type \"internal\" is not supported by limpet",
	    "=tcp.farm[2].probe.type: \"icmp\" is not one of tcp|http|smtp|mysql|pgsql" } },
	{ "probe patterns the prober could not use, and TLS probes",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'probe': {'type': 'http', 'match': 'status', 'pattern': '200-99,abc'}},"
	  " {'farmId': 2, 'probe': {'type': 'http', 'match': 'matches', 'pattern': 'a(b'}},"
	  " {'farmId': 3, 'probe': {'type': 'http', 'match': 'status', 'pattern': '200-299, 302',"
	  "  'forceSsl': true}}]}}", 3,
	  { "=tcp.farm[0].probe.pattern: \"200-99,abc\" is not a list of status codes 100..599 "
	    "and ranges (e.g. \"200-299,302\")",
	    "tcp.farm[1].probe.pattern: not a POSIX extended regular expression: ",
	    "=tcp.farm[2].probe.forceSsl: TLS probes are not served by limpet: probe the server's "
	    "plain port, or use a tcp probe on the TLS port" } },
	{ "probe options its type does not use",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'probe': {'type': 'tcp', 'url': '/health', 'method': 'GET', 'match': 'status',"
	  " 'interval': 0, 'rise': 0}}]}}", 6,
	  { "=tcp.farm[0].probe.url: only meaningful for an http probe (type is tcp)",
	    "=tcp.farm[0].probe.method: only meaningful for an http probe (type is tcp)",
	    "=tcp.farm[0].probe.match: only meaningful for an http probe (type is tcp)",
	    "=tcp.farm[0].probe.pattern: required with match \"status\"",
	    "=tcp.farm[0].probe.interval: 0 is out of range 1..3600",
	    "=tcp.farm[0].probe.rise: 0 is out of range 1..100" } },
	{ "probe interval and timeout out of range",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'probe': {'type': 'tcp', 'interval': 3601, 'timeout': 0}}, {'farmId': 2,"
	  " 'probe': {'type': 'tcp', 'timeout': 3601}}]}}", 3,
	  { "=tcp.farm[0].probe.interval: 3601 is out of range 1..3600",
	    "=tcp.farm[0].probe.timeout: 0 is out of range 1..3600",
	    "=tcp.farm[1].probe.timeout: 3601 is out of range 1..3600" } },
	{ "probe timeout longer than its interval, even the default one",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'probe': {'type': 'tcp', 'interval': 2, 'timeout': 3}}, {'farmId': 2,"
	  " 'probe': {'type': 'tcp', 'timeout': 31}}, {'farmId': 3,"
	  " 'probe': {'type': 'tcp', 'interval': 0, 'timeout': 31}}]}}", 3,
	  { "=tcp.farm[0].probe.timeout: 3 s is longer than the interval (2 s)",
	    "=tcp.farm[1].probe.timeout: 31 s is longer than the interval (30 s)",
	    "=tcp.farm[2].probe.interval: 0 is out of range 1..3600" } },
	{ "http farms refuse forwarding; their maglevTableSize is checked as on tcp",
	  "{'serviceName': 'demo', 'http': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'forwarding': 'dsr', 'stickinessTimeout': 60, 'maglevTableSize': 250}]}}", 2,
	  { "=http.farm[0].forwarding: not used by http farms: the L7 proxy opens its own "
	    "connections to the servers (dsr and ipip are the XDP path's)",
	    "=http.farm[0].maglevTableSize: 250 is not a prime" } },
	{ "cookieName: only with cookie stickiness, and a token",
	  "{'serviceName': 'demo', 'http': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'stickiness': 'sourceIp', 'cookieName': 'SRV'}, {'farmId': 2, 'stickiness': 'cookie',"
	  " 'cookieName': 'a=b'}, {'farmId': 3, 'stickiness': 'cookie', 'cookieName': ''}]}}", 3,
	  { "=http.farm[0].cookieName: only meaningful with cookie stickiness",
	    "=http.farm[1].cookieName: \"a=b\" is not a cookie name (1..64 token characters)",
	    "=http.farm[2].cookieName: \"\" is not a cookie name (1..64 token characters)" } },
	{ "tlsTerminated: http frontends only",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [{'frontendId': 1, 'address':"
	  " '198.18.100.1', 'port': '80', 'defaultFarmId': 1, 'tlsTerminated': true}],"
	  " 'farm': [{'farmId': 1}]}, 'udp': {'frontend': [{'frontendId': 1, 'address':"
	  " '198.18.100.1', 'port': '80', 'defaultFarmId': 1, 'tlsTerminated': 1}],"
	  " 'farm': [{'farmId': 1}]}}", 2,
	  { "=tcp.frontend[0].tlsTerminated: only meaningful for an http frontend (the L7 "
	    "proxy's X-Forwarded-Proto and Secure cookie); the XDP path does not read the payload",
	    "=udp.frontend[0].tlsTerminated: expected a boolean, got an integer" } },
	{ "an http and a tcp frontend share an (address, port): both are TCP",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [{'frontendId': 1, 'address':"
	  " '198.18.100.1', 'port': '80-90', 'defaultFarmId': 1}], 'farm': [{'farmId': 1}]},"
	  " 'http': {'frontend': [{'frontendId': 1, 'address': '198.18.100.1', 'port': '443,85',"
	  " 'defaultFarmId': 1}], 'farm': [{'farmId': 1}]}}", 1,
	  { "=http.frontend[0].port: 198.18.100.1 port 85/tcp is already claimed by "
	    "tcp.frontend[0] (frontendId 1)" } },
	{ "more http ports than the L7 proxy listens on",
	  "{'serviceName': 'demo', 'http': {'frontend': [{'frontendId': 1, 'address':"
	  " '198.18.100.1', 'port': '1-1000', 'defaultFarmId': 1}, {'frontendId': 2, 'address':"
	  " '198.18.100.2', 'port': '1-25', 'defaultFarmId': 1, 'disabled': true}],"
	  " 'farm': [{'farmId': 1}]}}", 1,
	  { "=http.frontend[1].port: brings the ports of http frontends to 1025: at most 1024 in "
	    "all (CFG_HTTP_PORTS_MAX; the L7 proxy listens on each)" } },
	{ "http: dangling defaultFarmId, bad proxyProtocolVersion, duplicate ids",
	  "{'serviceName': 'demo', 'http': {'frontend': [{'frontendId': 1, 'address':"
	  " '198.18.100.1', 'port': '80', 'defaultFarmId': 2}], 'farm': [{'farmId': 1,"
	  " 'server': [{'serverId': 1, 'address': '198.18.1.11', 'proxyProtocolVersion': 'v3'},"
	  " {'serverId': 1, 'address': '198.18.1.12'}]}, {'farmId': 1}]}}", 4,
	  { "=http.frontend[0].defaultFarmId: no farm 2 in http",
	    "=http.farm[0].server[0].proxyProtocolVersion: \"v3\" is not one of v1|v2",
	    "=http.farm[0].server[1].serverId: duplicate serverId 1 (http.farm[0].server[0] has "
	    "it too)",
	    "=http.farm[1].farmId: duplicate farmId 1 (http.farm[0] has it too)" } },
	{ "bad hashSeed: not hex",
	  "{'serviceName': 'demo', 'hashSeed': 'xyz'}", 1,
	  { "=hashSeed: \"xyz\" is not 16 hex digits" } },
	{ "bad hashSeed: 15 digits; bad zone",
	  "{'serviceName': 'demo', 'hashSeed': '9c1e52a07d3b4f1', 'zone': 'a b'}", 2,
	  { "=hashSeed: \"9c1e52a07d3b4f1\" is not 16 hex digits",
	    "=zone: \"a b\" is not 1..32 characters of A-Z a-z 0-9 _ -" } },
	{ "bad hashSeed: 0x prefix", "{'serviceName': 'demo', 'hashSeed': '0x1e52a07d3b4f16'}", 1,
	  { "=hashSeed: \"0x1e52a07d3b4f16\" is not 16 hex digits" } },
	{ "bad hashSeed: integer", "{'serviceName': 'demo', 'hashSeed': 1234}", 1,
	  { "=hashSeed: expected a string, got an integer" } },
	{ "bad serviceName: characters",
	  "{'serviceName': 'bad name!'}", 1,
	  { "=serviceName: \"bad name!\" is not 1..32 characters of A-Z a-z 0-9 _ -" } },
	{ "bad serviceName: empty", "{'serviceName': ''}", 1,
	  { "serviceName: \"\" is not 1..32 characters" } },
	{ "bad serviceName: 33 characters",
	  "{'serviceName': 'abcdefghijklmnopqrstuvwxyz0123456'}", 1,
	  { "serviceName: \"abcdefghijklmnopqrstuvwxyz0123456\" is not 1..32 characters" } },
	{ "bad serviceName: null", "{'serviceName': null}", 1,
	  { "=serviceName: required, got null" } },
	{ "duplicate (address, port) on two enabled frontends",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 ", {'frontendId': 2, 'address':"
	  " '198.18.100.1', 'port': '443,80', 'defaultFarmId': 1}], 'farm': [{'farmId': 1}]}}", 1,
	  { "=tcp.frontend[1].port: 198.18.100.1 port 80/tcp is already claimed by tcp.frontend[0] "
	    "(frontendId 1)" } },
	{ "overlapping IPv6 port ranges",
	  "{'serviceName': 'demo', 'udp': {'frontend': [{'frontendId': 1, 'address': '2001:db8::1',"
	  " 'port': '8000-8100', 'defaultFarmId': 1}, {'frontendId': 2, 'address':"
	  " '2001:0db8:0::1', 'port': '9000,8100-8200', 'defaultFarmId': 1}],"
	  " 'farm': [{'farmId': 1}]}}", 1,
	  { "=udp.frontend[1].port: 2001:db8::1 port 8100/udp is already claimed by "
	    "udp.frontend[0] (frontendId 1)" } },
	{ "maglevTableSize must be a prime, in range, not below the servers",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'maglevTableSize': 1000}, {'farmId': 2, 'maglevTableSize': 65539}, {'farmId': 3,"
	  " 'maglevTableSize': 2, 'server': [" SRV(1) ", " SRV(2) ", " SRV(3) "]},"
	  " {'farmId': 4, 'maglevTableSize': 65537}, {'farmId': 5, 'maglevTableSize': 1}]}}", 4,
	  { "=tcp.farm[0].maglevTableSize: 1000 is not a prime",
	    "=tcp.farm[1].maglevTableSize: 65539 exceeds 65537, the largest table of the dataplane "
	    "(LB_RING_MAX)",
	    "=tcp.farm[2].maglevTableSize: 2 is smaller than the farm's 3 servers",
	    "=tcp.farm[4].maglevTableSize: 1 is not a prime" } },
	{ "stickinessTimeout range",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	  " 'stickinessTimeout': 86401}]}}", 1,
	  { "=tcp.farm[0].stickinessTimeout: 86401 is out of range 1..86400" } },
	{ "five distinct errors, all reported in one pass",
	  "{'serviceName': 'demo', 'tcp': {'frontend': [{'frontendId': 1, 'address':"
	  " '198.18.100.1', 'port': '80', 'defaultFarmId': 7}, {'frontendId': 2, 'address':"
	  " '198.18.100.2', 'port': '70000', 'defaultFarmId': 1}], 'farm': [{'farmId': 1,"
	  " 'stickiness': 'cookie', 'server': [" SRV(1) ", {'serverId': 2, 'address':"
	  " '198.18.1.12', 'weight': 300, 'colour': 'red'}]}]}}", 5,
	  { "=tcp.frontend[0].defaultFarmId: no farm 7 in tcp",
	    "=tcp.frontend[1].port: port 70000 is out of range 1..65535",
	    "=tcp.farm[0].stickiness: cookie stickiness needs an http farm (the L7 path)",
	    "=tcp.farm[0].server[1].weight: 300 is out of range 1..256",
	    "=tcp.farm[0].server[1]: unknown field \"colour\"" } },
};

static void test_bad_case(void **state)
{
	const struct bad_case *bc = *state;
	char *text = q(bc->json);

	bool ok = expect_errors(bc->what, text, strlen(text), bc->nerr, bc->want);

	free(text);
	if (!ok)
		fail_msg("%s: errors not as expected (see above)", bc->what);
}

/* --- limits, built with jansson ------------------------------------------------------------ */

static json_t *jnew(const char *sq)
{
	char *text = q(sq);
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	free(text);
	if (!j)
		fail_msg("test bug: %d:%d: %s", e.line, e.column, e.text);
	return j;
}

static void expect_json_errors(const char *what, json_t *doc, size_t nerr,
			       const char *const want[])
{
	char *text = json_dumps(doc, JSON_COMPACT);

	bool ok;

	assert_non_null(text);
	ok = expect_errors(what, text, strlen(text), nerr, want);
	free(text);
	json_decref(doc);
	if (!ok)
		fail_msg("%s: errors not as expected (see above)", what);
}

static void test_more_servers_than_a_farm_holds(void **state)
{
	json_t *doc = jnew("{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "],"
			   " 'farm': [{'farmId': 1, 'server': []}]}}");
	json_t *servers = json_object_get(json_array_get(json_object_get(
		json_object_get(doc, "tcp"), "farm"), 0), "server");
	const char *want[] = { "=tcp.farm[0].server: 1025 servers, at most 1024 per farm "
			       "(LB_FARM_SERVERS_MAX)", NULL };
	char a[32];

	(void)state;
	for (int i = 0; i < LB_FARM_SERVERS_MAX + 1; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.1", i / 256, i % 256);
		json_array_append_new(servers, json_pack("{s:i, s:s}", "serverId", i + 1,
							 "address", a));
	}
	expect_json_errors("1025 servers", doc, 1, want);
}

static void test_more_farms_than_the_dataplane_holds(void **state)
{
	json_t *doc = jnew("{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': []},"
			   " 'udp': {'farm': []}}");
	json_t *tcp = json_object_get(json_object_get(doc, "tcp"), "farm");
	json_t *udp = json_object_get(json_object_get(doc, "udp"), "farm");
	const char *want[] = { "=udp.farm[224]: farm number 1025 of the config: at most 1024 farms "
			       "in all layers (LB_FARMS_MAX)", NULL };

	(void)state;
	for (int i = 0; i < 800; i++)
		json_array_append_new(tcp, json_pack("{s:i}", "farmId", i + 1));
	for (int i = 0; i < 228; i++)
		json_array_append_new(udp, json_pack("{s:i}", "farmId", i + 1));
	expect_json_errors("1028 farms", doc, 1, want);
}

static void test_more_servers_than_the_server_counters_hold(void **state)
{
	json_t *doc = jnew("{'serviceName': 'demo', 'udp': {'farm': []}}");
	json_t *farms = json_object_get(json_object_get(doc, "udp"), "farm");
	const char *want[] = { "=udp.farm[16].server: brings the servers to 17000: at most 16384 "
			       "in all farms (LB_SERVER_STATS_MAX)", NULL };
	char a[32];

	(void)state;
	for (int j = 0; j < 20; j++) {
		json_t *servers = json_array();

		for (int i = 0; i < 1000; i++) {
			snprintf(a, sizeof(a), "10.%d.%d.%d", j, i / 256, i % 256);
			json_array_append_new(servers, json_pack("{s:i, s:s}", "serverId", i + 1,
								 "address", a));
		}
		json_array_append_new(farms, json_pack("{s:i, s:o}", "farmId", j + 1, "server",
						       servers));
	}
	expect_json_errors("20000 servers in 20 farms", doc, 1, want);
}

static void test_more_frontends_than_the_dataplane_holds(void **state)
{
	json_t *doc = jnew("{'serviceName': 'demo', 'tcp': {'frontend': [],"
			   " 'farm': [{'farmId': 1}]}}");
	json_t *fes = json_object_get(json_object_get(doc, "tcp"), "frontend");
	const char *want[] = { "=tcp.frontend[1024]: frontend number 1025 of the config: at most "
			       "1024 frontends in all layers (LB_FRONTENDS_MAX)", NULL };
	char a[32];

	(void)state;
	for (int i = 0; i < LB_FRONTENDS_MAX + 1; i++) {
		snprintf(a, sizeof(a), "198.18.%d.%d", i / 256, i % 256);
		json_array_append_new(fes, json_pack("{s:i, s:s, s:s, s:i}", "frontendId",
						     i + 1, "address", a, "port", "80",
						     "defaultFarmId", 1));
	}
	expect_json_errors("1025 frontends", doc, 1, want);
}

static void test_more_vip_keys_than_the_dataplane_holds(void **state)
{
	const char *want[] = { "=udp.frontend[0].port: brings the VIP keys (its ports and a "
			       "fragment key each) to 131072: at most 65536 in all "
			       "(LB_VIP_KEYS_MAX)", NULL };
	char *text = q("{'serviceName': 'demo', 'tcp': {'frontend': [{'frontendId': 1, 'address':"
		       " '198.18.100.1', 'port': '1-65535', 'defaultFarmId': 1}],"
		       " 'farm': [{'farmId': 1}]}, 'udp': {'frontend': [{'frontendId': 1,"
		       " 'address': '198.18.100.1', 'port': '1-65535', 'defaultFarmId': 1}],"
		       " 'farm': [{'farmId': 1}]}}");

	bool ok;

	(void)state;
	ok = expect_errors("two full port ranges", text, strlen(text), 1, want);
	free(text);
	if (!ok)
		fail_msg("two full port ranges: errors not as expected (see above)");
}

static void test_more_acl_prefixes_than_the_dataplane_holds(void **state)
{
	json_t *doc = jnew("{'serviceName': 'demo', 'tcp': {'frontend': [{'frontendId': 1,"
			   " 'address': '198.18.100.1', 'port': '80', 'defaultFarmId': 1,"
			   " 'allowedSource': []}], 'farm': [{'farmId': 1}]}}");
	json_t *acl = json_object_get(json_array_get(json_object_get(
		json_object_get(doc, "tcp"), "frontend"), 0), "allowedSource");
	const char *want[] = { "=tcp.frontend[0].allowedSource: brings the allowedSource prefixes "
			       "to 16385: at most 16384 in all frontends (LB_ACL_MAX)", NULL };
	char a[32];

	(void)state;
	for (int i = 0; i < LB_ACL_MAX + 1; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.0/24", i / 256, i % 256);
		json_array_append_new(acl, json_string(a));
	}
	expect_json_errors("16385 prefixes", doc, 1, want);
}

/* --- good documents ------------------------------------------------------------------------ */

/* DESIGN.md section 4, verbatim. */
static const char design_example[] =
	"{\n"
	"  'serviceName': 'demo', 'zone': 'local', 'hashSeed': '9c1e52a07d3b4f16',\n"
	"  'tcp': {\n"
	"    'frontend': [{'frontendId': 1, 'address': '198.18.100.1', 'port': '80', "
	"'defaultFarmId': 1}],\n"
	"    'farm': [{'farmId': 1, 'balance': 'roundrobin', 'stickiness': 'sourceIp', "
	"'forwarding': 'dsr',\n"
	"              'probe': {'type': 'tcp', 'interval': 2},\n"
	"              'server': [{'serverId': 1, 'address': '198.18.1.11', 'port': 80, "
	"'weight': 1,\n"
	"                          'status': 'active', 'probe': true}]}]\n"
	"  },\n"
	"  'udp': {'frontend': [], 'farm': []},\n"
	"  'http': {'frontend': [], 'farm': []}\n"
	"}\n";

static void test_design_example_parses_with_its_values(void **state)
{
	struct config *c = parse_ok(design_example);
	const struct cfg_frontend *fe;
	const struct cfg_farm *f;
	const struct cfg_server *s;

	(void)state;
	assert_str(c->service_name, "demo", "serviceName");
	assert_str(c->zone, "local", "zone");
	assert_num(c->hash_seed, 0x9c1e52a07d3b4f16ULL, "hashSeed");
	assert_num(c->layer[CFG_TCP].nfrontends, 1, "tcp frontends");
	assert_num(c->layer[CFG_TCP].nfarms, 1, "tcp farms");
	for (int l = CFG_UDP; l < CFG_LAYERS; l++) {
		assert_num(c->layer[l].nfrontends, 0, "udp/http frontends");
		assert_num(c->layer[l].nfarms, 0, "udp/http farms");
	}
	fe = &c->layer[CFG_TCP].frontends[0];
	assert_num(fe->id, 1, "frontendId");
	assert_addr(&fe->addr, "198.18.100.1", "frontend address");
	assert_num(fe->ports.n, 1, "port ranges");
	assert_num(fe->ports.range[0].lo, 80, "port lo");
	assert_num(fe->ports.range[0].hi, 80, "port hi");
	assert_num(fe->default_farm, 1, "defaultFarmId");
	assert_num(fe->disabled, false, "disabled");
	assert_num(fe->nallowed, 0, "allowedSource");

	f = config_find_farm(c, CFG_TCP, 1);
	assert_ptr_equal(f, &c->layer[CFG_TCP].farms[0]);
	assert_num(f->balance, BAL_ROUNDROBIN, "balance");
	assert_num(f->stickiness, STICK_SOURCE_IP, "stickiness");
	assert_num(f->forwarding, FWD_DSR, "forwarding");
	assert_num(f->probe.present, true, "probe present");
	assert_str(f->probe.type, "tcp", "probe type");
	assert_num(f->probe.interval, 2, "probe interval");
	assert_num(f->probe.timeout, 2, "probe timeout (default: the interval, under 5 s)");
	assert_num(f->probe.rise, 2, "probe rise (default)");
	assert_num(f->probe.fall, 3, "probe fall (default)");
	assert_num(f->nservers, 1, "servers");
	s = &f->servers[0];
	assert_num(s->id, 1, "serverId");
	assert_addr(&s->addr, "198.18.1.11", "server address");
	assert_num(s->port, 80, "server port");
	assert_num(s->weight, 1, "weight");
	assert_num(s->active, true, "status active");
	assert_num(s->probe, true, "server probe");
	assert_num(s->backup, false, "backup");
	config_free(c);
}

static const char minimal[] =
	"{'serviceName': 'demo', 'tcp': {'frontend': [" FE1 "], 'farm': [{'farmId': 1,"
	" 'server': [" SRV(1) "]}, {'farmId': 2, 'probe': {'type': 'http'}}]}}";

static void test_defaults_are_applied(void **state)
{
	struct config *c = parse_ok(minimal), *again = parse_ok(minimal), *other;
	const struct cfg_farm *f, *f2;
	const struct cfg_server *s;

	(void)state;
	other = parse_ok("{'serviceName': 'demo2'}");
	assert_str(c->zone, "local", "zone");
	if (!c->hash_seed)
		fail_msg("hashSeed: expected a non-zero default, got 0");
	assert_num(again->hash_seed, c->hash_seed, "default hashSeed of the same serviceName");
	if (other->hash_seed == c->hash_seed)
		fail_msg("hashSeed: expected demo and demo2 to get different defaults, both got "
			 "%llx", (unsigned long long)c->hash_seed);

	f = config_find_farm(c, CFG_TCP, 1);
	assert_non_null(f);
	assert_num(f->port, 0, "farm port");
	assert_num(f->balance, BAL_ROUNDROBIN, "balance");
	assert_num(f->stickiness, STICK_NULL, "stickiness");
	assert_num(f->forwarding, FWD_DSR, "forwarding");
	assert_num(f->stickiness_timeout, 0, "stickinessTimeout");
	assert_num(f->table_size, 0, "maglevTableSize");
	assert_num(f->probe.present, false, "probe present");
	assert_str(f->cookie_name, NULL, "cookieName");
	assert_str(f->display_name, NULL, "displayName");
	s = &f->servers[0];
	assert_num(s->port, 0, "server port");
	assert_num(s->weight, 1, "weight");
	assert_num(s->active, true, "status");
	assert_num(s->backup, false, "backup");
	assert_num(s->probe, false, "server probe");
	assert_str(s->on_marked_down, NULL, "onMarkedDown");
	assert_str(s->proxy_protocol, NULL, "proxyProtocolVersion");

	f2 = config_find_farm(c, CFG_TCP, 2);
	assert_non_null(f2);
	assert_num(f2->probe.present, true, "probe present");
	assert_num(f2->probe.interval, 30, "probe interval");
	assert_num(f2->probe.timeout, 5, "probe timeout");
	assert_num(f2->probe.rise, 2, "probe rise");
	assert_num(f2->probe.fall, 3, "probe fall");
	assert_num(f2->probe.port, 0, "probe port");
	assert_str(f2->probe.match, "default", "probe match");
	assert_str(f2->probe.method, NULL, "probe method");
	assert_num(f2->probe.negate, false, "probe negate");
	assert_num(f2->probe.force_ssl, false, "probe forceSsl");

	assert_null(config_find_farm(c, CFG_TCP, 3));
	assert_null(config_find_farm(c, CFG_UDP, 1));
	config_free(c);
	config_free(again);
	config_free(other);
}

static void addr_equal(const struct cfg_addr *a, const struct cfg_addr *b, const char *what)
{
	if (a->family != b->family || memcmp(a->addr, b->addr, sizeof(a->addr)))
		fail_msg("%s: addresses differ", what);
}

static void probe_equal(const struct cfg_probe *a, const struct cfg_probe *b)
{
	assert_num(b->present, a->present, "probe present");
	assert_str(b->type, a->type, "probe type");
	assert_num(b->interval, a->interval, "probe interval");
	assert_num(b->timeout, a->timeout, "probe timeout");
	assert_num(b->port, a->port, "probe port");
	assert_str(b->url, a->url, "probe url");
	assert_str(b->method, a->method, "probe method");
	assert_str(b->match, a->match, "probe match");
	assert_str(b->pattern, a->pattern, "probe pattern");
	assert_num(b->negate, a->negate, "probe negate");
	assert_num(b->force_ssl, a->force_ssl, "probe forceSsl");
	assert_num(b->rise, a->rise, "probe rise");
	assert_num(b->fall, a->fall, "probe fall");
}

static void server_equal(const struct cfg_server *a, const struct cfg_server *b)
{
	assert_num(b->id, a->id, "serverId");
	assert_str(b->display_name, a->display_name, "server displayName");
	addr_equal(&a->addr, &b->addr, "server address");
	assert_num(b->port, a->port, "server port");
	assert_num(b->weight, a->weight, "weight");
	assert_num(b->active, a->active, "status");
	assert_num(b->backup, a->backup, "backup");
	assert_num(b->probe, a->probe, "server probe");
	assert_str(b->on_marked_down, a->on_marked_down, "onMarkedDown");
	assert_str(b->proxy_protocol, a->proxy_protocol, "proxyProtocolVersion");
}

static void farm_equal(const struct cfg_farm *a, const struct cfg_farm *b)
{
	assert_num(b->id, a->id, "farmId");
	assert_str(b->display_name, a->display_name, "farm displayName");
	assert_num(b->port, a->port, "farm port");
	assert_num(b->balance, a->balance, "balance");
	assert_num(b->stickiness, a->stickiness, "stickiness");
	assert_num(b->forwarding, a->forwarding, "forwarding");
	assert_num(b->stickiness_timeout, a->stickiness_timeout, "stickinessTimeout");
	assert_num(b->table_size, a->table_size, "maglevTableSize");
	assert_str(b->cookie_name, a->cookie_name, "cookieName");
	probe_equal(&a->probe, &b->probe);
	assert_num(b->nservers, a->nservers, "servers");
	for (size_t k = 0; k < a->nservers; k++)
		server_equal(&a->servers[k], &b->servers[k]);
}

static void frontend_equal(const struct cfg_frontend *a, const struct cfg_frontend *b)
{
	assert_num(b->id, a->id, "frontendId");
	assert_str(b->display_name, a->display_name, "frontend displayName");
	addr_equal(&a->addr, &b->addr, "frontend address");
	assert_num(b->ports.n, a->ports.n, "port ranges");
	for (size_t i = 0; i < a->ports.n; i++) {
		assert_num(b->ports.range[i].lo, a->ports.range[i].lo, "port lo");
		assert_num(b->ports.range[i].hi, a->ports.range[i].hi, "port hi");
	}
	assert_num(b->default_farm, a->default_farm, "defaultFarmId");
	assert_num(b->nallowed, a->nallowed, "allowedSource");
	for (size_t i = 0; i < a->nallowed; i++) {
		addr_equal(&a->allowed[i].addr, &b->allowed[i].addr, "allowedSource address");
		assert_num(b->allowed[i].len, a->allowed[i].len, "allowedSource length");
	}
	assert_num(b->disabled, a->disabled, "disabled");
	assert_num(b->tls_terminated, a->tls_terminated, "tlsTerminated");
}

static void config_equal(const struct config *a, const struct config *b)
{
	assert_str(b->service_name, a->service_name, "serviceName");
	assert_str(b->zone, a->zone, "zone");
	assert_num(b->hash_seed, a->hash_seed, "hashSeed");
	for (int l = 0; l < CFG_LAYERS; l++) {
		const struct cfg_layer_cfg *la = &a->layer[l], *lb = &b->layer[l];

		assert_num(lb->nfrontends, la->nfrontends, "frontends");
		for (size_t i = 0; i < la->nfrontends; i++)
			frontend_equal(&la->frontends[i], &lb->frontends[i]);
		assert_num(lb->nfarms, la->nfarms, "farms");
		for (size_t j = 0; j < la->nfarms; j++)
			farm_equal(&la->farms[j], &lb->farms[j]);
	}
}

/* Every field set to something other than its default somewhere, both families, both layers. */
static const char rich[] =
	"{'serviceName': 'rich_1', 'zone': 'gra', 'hashSeed': '00000000DEADBEEF',"
	" 'tcp': {'frontend': ["
	"  {'frontendId': 1, 'displayName': 'web', 'address': '198.18.100.1', 'port': '80',"
	"   'defaultFarmId': 1, 'allowedSource': ['198.18.0.0/15', '203.0.113.7'],"
	"   'ssl': false},"
	"  {'frontendId': 2, 'address': '2001:db8::1', 'port': '443, 80,8000-8100,8050,81',"
	"   'defaultFarmId': 2, 'allowedSource': ['2001:db8::/32', '2001:db8:1::5'],"
	"   'disabled': true}],"
	" 'farm': ["
	"  {'farmId': 1, 'displayName': 'pool', 'port': 80, 'balance': 'source',"
	"   'stickiness': 'sourceIp', 'forwarding': 'ipip', 'stickinessTimeout': 600,"
	"   'maglevTableSize': 251, 'vrackNetworkId': null,"
	"   'probe': {'type': 'http', 'interval': 1, 'port': 8080, 'url': '/health',"
	"    'method': 'HEAD', 'match': 'contains', 'pattern': 'ok', 'negate': true,"
	"    'forceSsl': false, 'rise': 4, 'fall': 5},"
	"   'server': [{'serverId': 1, 'displayName': 'a', 'address': '198.18.1.11', 'port': 80,"
	"     'weight': 256, 'status': 'inactive', 'backup': true, 'probe': true,"
	"     'onMarkedDown': 'shutdown-sessions', 'cookie': 'opaque', 'ssl': false,"
	"     'chain': null},"
	"    {'serverId': 7, 'address': '198.18.1.17', 'weight': 3}]},"
	"  {'farmId': 2, 'stickiness': null,"
	"   'server': [{'serverId': 1, 'address': '2001:db8:1::11'}]}]},"
	" 'udp': {'frontend': [{'frontendId': 9, 'address': '198.18.100.1', 'port': '80',"
	"   'defaultFarmId': 3}],"
	"  'farm': [{'farmId': 3, 'stickiness': 'null',"
	"   'probe': {'type': 'tcp', 'interval': 3600, 'timeout': 3600},"
	"   'server': [{'serverId': 2, 'address': '198.18.1.12', 'port': 80}]}]},"
	" 'http': {'frontend': [{'frontendId': 1, 'address': '198.18.100.1', 'port': '8080,8443',"
	"   'defaultFarmId': 5, 'allowedSource': ['198.18.0.0/15'], 'tlsTerminated': true},"
	"  {'frontendId': 2, 'address': '2001:db8::1', 'port': '8080', 'defaultFarmId': 6,"
	"   'tlsTerminated': false, 'disabled': true}],"
	"  'farm': [{'farmId': 5, 'port': 8000, 'balance': 'leastconn', 'stickiness': 'cookie',"
	"   'cookieName': 'SRVID', 'probe': {'type': 'http', 'url': '/'},"
	"   'server': [{'serverId': 1, 'address': '2001:db8:1::11', 'cookie': 'opaque',"
	"     'proxyProtocolVersion': 'v2'},"
	"    {'serverId': 2, 'address': '198.18.1.12', 'port': 9000,"
	"     'proxyProtocolVersion': 'v1', 'backup': true}]},"
	"   {'farmId': 6, 'balance': 'uri', 'stickiness': 'sourceIp', 'stickinessTimeout': 90,"
	"    'maglevTableSize': 13},"
	"   {'farmId': 7, 'balance': 'first'}]}}";

static void test_round_trip_gives_an_equal_config(void **state)
{
	struct config *c = parse_ok(rich), *back = NULL;
	struct cfg_errors errs;
	char *text, *text2;
	json_t *j;
	int err;

	(void)state;
	j = config_to_json(c);
	assert_non_null(j);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(text);
	err = config_parse(text, strlen(text), &back, &errs);
	if (err) {
		printf("# %s\n", text);
		errors_print(&errs);
		cfg_errors_free(&errs);
		fail_msg("parse(to_json(c)): expected 0, got %d", err);
	}
	config_equal(c, back);

	/* The canonical document is a fixed point. */
	j = config_to_json(back);
	text2 = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (strcmp(text, text2))
		fail_msg("to_json(parse(to_json(c))): expected\n%s\ngot\n%s", text, text2);
	free(text);
	free(text2);
	config_free(c);
	config_free(back);
}

static void test_canonical_document_spells_effective_values(void **state)
{
	struct config *c = parse_ok(rich);
	json_t *j = config_to_json(c), *tcp, *fe1, *fe2, *farm1, *farm2, *udp_farm, *srv;
	char *acl;

	(void)state;
	assert_non_null(j);
	assert_str(json_string_value(json_object_get(j, "hashSeed")), "00000000deadbeef",
		   "hashSeed");
	tcp = json_object_get(j, "tcp");
	fe1 = json_array_get(json_object_get(tcp, "frontend"), 0);
	fe2 = json_array_get(json_object_get(tcp, "frontend"), 1);
	farm1 = json_array_get(json_object_get(tcp, "farm"), 0);
	farm2 = json_array_get(json_object_get(tcp, "farm"), 1);
	udp_farm = json_array_get(json_object_get(json_object_get(j, "udp"), "farm"), 0);
	assert_str(json_string_value(json_object_get(fe2, "port")), "80-81,443,8000-8100",
		   "normalised port list");
	acl = json_dumps(json_object_get(fe1, "allowedSource"), JSON_COMPACT);
	assert_str(acl, "[\"198.18.0.0/15\",\"203.0.113.7/32\"]", "allowedSource");
	free(acl);
	assert_true(json_is_false(json_object_get(fe1, "disabled")));
	assert_str(json_string_value(json_object_get(farm1, "stickiness")), "sourceIp",
		   "stickiness sourceIp");
	assert_true(json_is_null(json_object_get(farm2, "stickiness")));
	assert_true(json_is_null(json_object_get(udp_farm, "stickiness")));
	/* a default timeout is written as its value: min(interval, 5) */
	assert_num(json_integer_value(json_object_get(json_object_get(farm1, "probe"), "timeout")),
		   1, "probe timeout (interval 1)");
	assert_str(json_string_value(json_object_get(farm2, "balance")), "roundrobin", "balance");
	assert_str(json_string_value(json_object_get(farm2, "forwarding")), "dsr", "forwarding");
	srv = json_array_get(json_object_get(farm2, "server"), 0);
	assert_num(json_integer_value(json_object_get(srv, "weight")), 1, "weight");
	assert_str(json_string_value(json_object_get(srv, "status")), "active", "status");
	assert_true(json_is_false(json_object_get(srv, "backup")));
	/* read-only and refused-but-off fields are not written back */
	srv = json_array_get(json_object_get(farm1, "server"), 0);
	assert_null(json_object_get(srv, "cookie"));
	assert_null(json_object_get(srv, "ssl"));
	assert_null(json_object_get(fe1, "ssl"));
	/* tlsTerminated is an http frontend's field, forwarding a tcp/udp farm's */
	assert_null(json_object_get(fe1, "tlsTerminated"));
	fe1 = json_array_get(json_object_get(json_object_get(j, "http"), "frontend"), 1);
	assert_true(json_is_false(json_object_get(fe1, "tlsTerminated")));
	farm1 = json_array_get(json_object_get(json_object_get(j, "http"), "farm"), 0);
	assert_null(json_object_get(farm1, "forwarding"));
	assert_str(json_string_value(json_object_get(farm1, "cookieName")), "SRVID", "cookieName");
	srv = json_array_get(json_object_get(farm1, "server"), 0);
	assert_null(json_object_get(srv, "cookie"));
	json_decref(j);
	config_free(c);
}

static void test_http_layer_with_its_defaults(void **state)
{
	struct config *c = parse_ok(
		"{'serviceName': 'web', 'tcp': {'frontend': [{'frontendId': 1, 'address':"
		" '198.18.100.1', 'port': '443', 'defaultFarmId': 1}], 'farm': [{'farmId': 1}]},"
		" 'http': {'frontend': [{'frontendId': 1, 'address': '198.18.100.1', 'port': '80',"
		" 'defaultFarmId': 1}, {'frontendId': 2, 'address': '198.18.100.1', 'port': '443',"
		" 'defaultFarmId': 1, 'disabled': true}],"
		" 'farm': [{'farmId': 1, 'stickiness': 'cookie', 'server': ["
		" {'serverId': 1, 'address': '2001:db8:1::11', 'port': 8080}]}]}}");
	const struct cfg_frontend *fe = &c->layer[CFG_HTTP].frontends[0];
	const struct cfg_farm *f = config_find_farm(c, CFG_HTTP, 1);

	(void)state;
	assert_num(fe->tls_terminated, false, "tlsTerminated (default)");
	assert_num(c->layer[CFG_HTTP].frontends[1].disabled, true,
		   "a disabled http frontend may share a tcp frontend's (address, port)");
	assert_non_null(f);
	assert_num(f->balance, BAL_ROUNDROBIN, "balance (default)");
	assert_num(f->stickiness, STICK_COOKIE, "stickiness");
	assert_str(f->cookie_name, NULL, "cookieName (NULL: L7_COOKIE_NAME_DEFAULT)");
	assert_num(f->servers[0].addr.family, LB_V6,
		   "an IPv6 server behind an IPv4 http frontend (the proxy connects itself)");
	assert_num(f->servers[0].port, 8080, "server port");
	config_free(c);
}

static void test_ipv6_frontend_with_ipv6_servers(void **state)
{
	struct config *c = parse_ok(
		"{'serviceName': 'v6', 'tcp': {'frontend': [{'frontendId': 3, 'address':"
		" '2001:db8::10', 'port': '443', 'defaultFarmId': 1, 'allowedSource': ['::/0']}],"
		" 'farm': [{'farmId': 1, 'forwarding': 'ipip', 'stickiness': 'sourceIp',"
		" 'server': [{'serverId': 1, 'address': '2001:db8:1::11', 'port': 443},"
		" {'serverId': 2, 'address': '2001:DB8:1:0::12'}]}]}}");
	const struct cfg_farm *f = config_find_farm(c, CFG_TCP, 1);

	(void)state;
	assert_addr(&c->layer[CFG_TCP].frontends[0].addr, "2001:db8::10", "frontend");
	assert_num(c->layer[CFG_TCP].frontends[0].addr.family, LB_V6, "frontend family");
	assert_num(c->layer[CFG_TCP].frontends[0].nallowed, 1, "allowedSource");
	assert_num(c->layer[CFG_TCP].frontends[0].allowed[0].len, 0, "::/0 length");
	assert_addr(&f->servers[0].addr, "2001:db8:1::11", "server 1");
	assert_addr(&f->servers[1].addr, "2001:db8:1::12", "server 2");
	assert_num(f->forwarding, FWD_IPIP, "forwarding");
	config_free(c);
}

static void test_port_lists_and_ranges(void **state)
{
	struct config *c = parse_ok(
		"{'serviceName': 'ports', 'tcp': {'frontend': ["
		" {'frontendId': 1, 'address': '198.18.100.1', 'port': '80,443',"
		"  'defaultFarmId': 1},"
		" {'frontendId': 2, 'address': '198.18.100.2', 'port': '8000-8100',"
		"  'defaultFarmId': 1},"
		" {'frontendId': 3, 'address': '198.18.100.3', 'port': '9000-9010,8999,9005,1',"
		"  'defaultFarmId': 1},"
		" {'frontendId': 4, 'address': '198.18.100.4', 'port': '1024-65535',"
		"  'defaultFarmId': 1},"
		" {'frontendId': 5, 'address': '198.18.100.5', 'port': '7-7', 'defaultFarmId': 2}],"
		" 'farm': [{'farmId': 1, 'server': [" SRV(1) "]},"
		"  {'farmId': 2, 'port': 7, 'server': [{'serverId': 1, 'address': '198.18.1.11',"
		"   'port': 7}]}]}}");
	const struct cfg_frontend *fe = c->layer[CFG_TCP].frontends;

	(void)state;
	assert_num(fe[0].ports.n, 2, "80,443 ranges");
	assert_num(fe[0].ports.range[0].lo, 80, "80,443 first");
	assert_num(fe[0].ports.range[1].lo, 443, "80,443 second");
	assert_num(fe[1].ports.n, 1, "8000-8100 ranges");
	assert_num(fe[1].ports.range[0].lo, 8000, "8000-8100 lo");
	assert_num(fe[1].ports.range[0].hi, 8100, "8000-8100 hi");
	assert_num(fe[2].ports.n, 2, "merged list ranges");
	assert_num(fe[2].ports.range[0].lo, 1, "merged list: 1");
	assert_num(fe[2].ports.range[0].hi, 1, "merged list: 1");
	assert_num(fe[2].ports.range[1].lo, 8999, "merged list: 8999 adjacent to 9000");
	assert_num(fe[2].ports.range[1].hi, 9010, "merged list: 9010");
	assert_num(fe[3].ports.range[0].lo, 1024, "open range lo");
	assert_num(fe[3].ports.range[0].hi, 65535, "open range hi");
	assert_num(fe[4].ports.n, 1, "7-7 is one port");
	assert_num(fe[4].ports.range[0].hi, 7, "7-7 hi");
	config_free(c);
}

static void test_stickiness_null_three_ways(void **state)
{
	struct config *c = parse_ok(
		"{'serviceName': 's', 'udp': {'farm': [{'farmId': 1, 'stickiness': 'null'},"
		" {'farmId': 2, 'stickiness': null}, {'farmId': 3}]}}");

	(void)state;
	for (size_t j = 0; j < 3; j++)
		assert_num(c->layer[CFG_UDP].farms[j].stickiness, STICK_NULL, "stickiness");
	config_free(c);
}

static void test_same_vip_port_on_tcp_and_udp_or_disabled_is_fine(void **state)
{
	struct config *c = parse_ok(
		"{'serviceName': 'dns', 'tcp': {'frontend': [{'frontendId': 1, 'address':"
		" '198.18.100.1', 'port': '53', 'defaultFarmId': 1}, {'frontendId': 2, 'address':"
		" '198.18.100.1', 'port': '53', 'defaultFarmId': 1, 'disabled': true},"
		" {'frontendId': 3, 'address': '198.18.100.1', 'port': '54-60',"
		"  'defaultFarmId': 1}],"
		" 'farm': [{'farmId': 1}]},"
		" 'udp': {'frontend': [{'frontendId': 1, 'address': '198.18.100.1', 'port': '53',"
		" 'defaultFarmId': 1}], 'farm': [{'farmId': 1}]}}");

	(void)state;
	assert_num(c->layer[CFG_TCP].frontends[1].disabled, true, "disabled");
	config_free(c);
}

static void test_a_farm_without_frontend_may_have_any_port(void **state)
{
	struct config *c = parse_ok(
		"{'serviceName': 'spare', 'tcp': {'farm': [{'farmId': 1, 'port': 8080,"
		" 'server': [{'serverId': 1, 'address': '198.18.1.11', 'port': 9090}]}]}}");

	(void)state;
	assert_num(c->layer[CFG_TCP].farms[0].port, 8080, "farm port");
	config_free(c);
}

static char *temp_file(const char *content)
{
	char *path = strdup("/tmp/limpet-test-config-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return path;
}

static void test_load_file(void **state)
{
	const char *missing = "/nonexistent/limpet.json";
	struct cfg_errors errs;
	struct config *c = NULL;
	char *text = q(design_example), *path, *bad;
	int err;

	(void)state;
	err = config_load_file(missing, &c, &errs);
	assert_int_equal(err, -ENOENT);
	assert_null(c);
	assert_num(errs.n, 1, "errors for a missing file");
	assert_str(errs.msg[0], "/nonexistent/limpet.json: cannot read the config: No such file or "
		   "directory", "missing file error");
	cfg_errors_free(&errs);

	err = config_load_file("/tmp", &c, &errs);
	assert_int_equal(err, -EISDIR);
	assert_num(errs.n, 1, "errors for a directory");
	cfg_errors_free(&errs);

	path = temp_file(text);
	err = config_load_file(path, &c, &errs);
	assert_int_equal(err, 0);
	assert_num(errs.n, 0, "errors for a good file");
	assert_str(c->service_name, "demo", "serviceName from file");
	config_free(c);
	unlink(path);
	free(path);

	path = temp_file("{\n\"serviceName\": \"demo\",\n}\n");
	err = config_load_file(path, &c, &errs);
	assert_int_equal(err, -EINVAL);
	assert_num(errs.n, 1, "errors for a malformed file");
	if (asprintf(&bad, "%s:3:1: config is not valid JSON: ", path) < 0)
		fail();
	if (strncmp(errs.msg[0], bad, strlen(bad)))
		fail_msg("malformed file: expected an error starting \"%s\", got \"%s\"", bad,
			 errs.msg[0]);
	free(bad);
	cfg_errors_free(&errs);
	unlink(path);
	free(path);
	free(text);
}

static void test_misc_entry_points(void **state)
{
	struct cfg_errors errs = { 0 };
	struct config *c = NULL;
	const char *bad = "{";

	(void)state;
	assert_str(cfg_layer_name(CFG_TCP), "tcp", "layer name");
	assert_str(cfg_layer_name(CFG_UDP), "udp", "layer name");
	assert_str(cfg_layer_name(CFG_HTTP), "http", "layer name");
	config_free(NULL);
	cfg_errors_free(&errs);
	cfg_errors_free(NULL);
	assert_null(config_to_json(NULL));
	assert_null(config_find_farm(NULL, CFG_TCP, 1));
	/* errs may be NULL: the result still says it failed */
	assert_int_equal(config_parse(bad, strlen(bad), &c, NULL), -EINVAL);
	assert_null(c);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_more_servers_than_a_farm_holds),
		cmocka_unit_test(test_more_farms_than_the_dataplane_holds),
		cmocka_unit_test(test_more_servers_than_the_server_counters_hold),
		cmocka_unit_test(test_more_frontends_than_the_dataplane_holds),
		cmocka_unit_test(test_more_vip_keys_than_the_dataplane_holds),
		cmocka_unit_test(test_more_acl_prefixes_than_the_dataplane_holds),
		cmocka_unit_test(test_design_example_parses_with_its_values),
		cmocka_unit_test(test_defaults_are_applied),
		cmocka_unit_test(test_round_trip_gives_an_equal_config),
		cmocka_unit_test(test_canonical_document_spells_effective_values),
		cmocka_unit_test(test_http_layer_with_its_defaults),
		cmocka_unit_test(test_ipv6_frontend_with_ipv6_servers),
		cmocka_unit_test(test_port_lists_and_ranges),
		cmocka_unit_test(test_stickiness_null_three_ways),
		cmocka_unit_test(test_same_vip_port_on_tcp_and_udp_or_disabled_is_fine),
		cmocka_unit_test(test_a_farm_without_frontend_may_have_any_port),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_misc_entry_points),
	};
	/* One TAP line per bad document, named by what it proves. */
	struct CMUnitTest tests[ARRAY_SIZE(bad_cases) + ARRAY_SIZE(fixed)];

	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++)
		tests[i] = (struct CMUnitTest){
			.name = bad_cases[i].what,
			.test_func = test_bad_case,
			.initial_state = (void *)&bad_cases[i],
		};
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[ARRAY_SIZE(bad_cases) + i] = fixed[i];
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
