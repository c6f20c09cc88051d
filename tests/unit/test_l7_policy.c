// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The L7 proxy's policy half (user/l7/: cookie.c, snapshot.c, balance.c, counters.c): cookie
 * tokens and their secret file, the snapshot built from a parsed config, the server pick of
 * every balance and stickiness (against the XDP path's Maglev table for source), the counters
 * as l7_stats renders them.
 * JSON in this file is written with single quotes, which parse_sq() turns into double quotes.
 * TAP output comes from CMOCKA_MESSAGE_OUTPUT=TAP; our own diagnostics are "# " lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "limpet/abi.h"
#include "limpet/hash.h"
#include "maglev/maglev.h"
#include "l7/l7-int.h"
#include "helpers.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define SEED_HEX	"9c1e52a07d3b4f16"

/* --- helpers ----------------------------------------------------------------------------- */

static const uint8_t key_a[L7_SECRET_LEN] = {
	0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

/* Servers (farm << 32 | server) a test has "probed down"; the rest are eligible if active. */
struct down {
	size_t n;
	uint64_t fs[8];
};

static bool eligible(void *arg, const struct cfg_farm *f, const struct cfg_server *s)
{
	const struct down *d = arg;

	for (size_t i = 0; d && i < d->n; i++)
		if (d->fs[i] == ((uint64_t)f->id << 32 | s->id))
			return false;
	return s->active;
}

static struct l7_snap *snap(const struct config *c, struct l7_registry *reg, struct down *d)
{
	struct l7_snap *s = NULL;
	char err[256] = "";
	int ret = l7_snap_build(c, eligible, d, key_a, reg, 1, &s, err, sizeof(err));

	if (ret)
		fail_msg("l7_snap_build: expected 0, got %d (%s)", ret, err);
	return s;
}

static const struct l7_farm *farm(const struct l7_snap *s, uint32_t id)
{
	for (size_t i = 0; i < s->nfarms; i++)
		if (s->farms[i].id == id)
			return &s->farms[i];
	fail_msg("no farm %u in the snapshot", id);
	return NULL;
}

static const struct l7_server *server(const struct l7_farm *f, uint32_t id)
{
	for (size_t i = 0; i < f->nservers; i++)
		if (f->servers[i].id == id)
			return &f->servers[i];
	fail_msg("no server %u in farm %u", id, f->id);
	return NULL;
}

static struct sockaddr_storage sa(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
	}
	return ss;
}

/* The id of the server l7_pick returns (0: none), with set_cookie. */
static uint32_t pick(const struct l7_farm *f, struct l7_pick_state *ps,
		     const struct l7_req_info *ri, const struct l7_server *avoid, bool *set_cookie)
{
	bool sc;
	const struct l7_server *s = l7_pick(f, ps, ri, avoid, set_cookie ? set_cookie : &sc);

	if (s && avoid)
		assert_ptr_not_equal(s, avoid);
	if (s)
		assert_true(s->eligible);
	return s ? s->id : 0;
}

static uint32_t pick_plain(const struct l7_farm *f, struct l7_pick_state *ps)
{
	struct sockaddr_storage c = sa("192.0.2.1", 40000);
	struct l7_req_info ri = { .client = (struct sockaddr *)&c, .path = "/", .path_len = 1 };

	return pick(f, ps, &ri, NULL, NULL);
}

/* What a pick test holds: a registry, a snapshot of a config in it, one worker's pick state. */
struct picker {
	struct l7_registry *reg;
	struct l7_snap *s;
	struct l7_pick_state *ps;
};

/* A snapshot of c and its pick state in place of p's (after the old ones are freed, as a
 * worker does on a reload). */
static void picker_snap(struct picker *p, const struct config *c, struct down *d)
{
	l7_pick_state_free(p->ps);
	l7_snap_put(p->s);
	p->s = snap(c, p->reg, d);
	p->ps = l7_pick_state_new(p->s);
}

/* A new registry with the first snapshot of c in it. */
static void picker_open(struct picker *p, const struct config *c, struct down *d)
{
	*p = (struct picker){ 0 };
	assert_int_equal(l7_registry_new(&p->reg), 0);
	picker_snap(p, c, d);
}

static void picker_close(struct picker *p)
{
	l7_pick_state_free(p->ps);
	l7_snap_put(p->s);
	l7_registry_free(p->reg);
}

/* The id of the server p picks in farm 1 for the client at address prefix + n, port 1. */
static uint32_t picker_client(const struct picker *p, const char *prefix, unsigned n)
{
	char ip[64];
	struct sockaddr_storage cl;
	struct l7_req_info ri = { .client = (struct sockaddr *)&cl };

	snprintf(ip, sizeof(ip), "%s%u", prefix, n);
	cl = sa(ip, 1);
	return pick(farm(p->s, 1), p->ps, &ri, NULL, NULL);
}

/* --- cookie tokens and the secret -------------------------------------------------------- */

static bool base64url_only(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* Known answers from Python: base64url(HMAC-SHA256(key, label||be32 farm||be32 server)[:16]). */
static void test_cookie_token_known_answers(void **state)
{
	char t[L7_COOKIE_LEN + 1];

	(void)state;
	l7_cookie_token(key_a, 1, 2, t);
	assert_string_equal(t, "lZEbNGnxUDzjZ4NcOGSmTQ");
	l7_cookie_token(key_a, 7, 1000, t);
	assert_string_equal(t, "RwKDQXBXC-fJqyxF9j7LWA");
}

static void test_cookie_token_differs_per_farm_server_secret(void **state)
{
	uint8_t key_b[L7_SECRET_LEN];
	char a[L7_COOKIE_LEN + 1], b[L7_COOKIE_LEN + 1];

	(void)state;
	memcpy(key_b, key_a, sizeof(key_b));
	key_b[31] ^= 1;
	l7_cookie_token(key_a, 1, 1, a);
	assert_int_equal(strlen(a), L7_COOKIE_LEN);
	assert_true(base64url_only(a));
	l7_cookie_token(key_a, 1, 1, b);
	assert_string_equal(a, b);
	l7_cookie_token(key_a, 1, 2, b);
	assert_string_not_equal(a, b);
	l7_cookie_token(key_a, 2, 1, b);
	assert_string_not_equal(a, b);
	l7_cookie_token(key_b, 1, 1, b);
	assert_string_not_equal(a, b);
}

static void test_secret_created_0600_and_reloaded(void **state)
{
	char dir[] = "/tmp/l7secret.XXXXXX", path[64], err[512] = "";
	uint8_t k1[L7_SECRET_LEN], k2[L7_SECRET_LEN], zero[L7_SECRET_LEN] = { 0 };
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, L7_SECRET_FILE);
	assert_int_equal(l7_secret_load(dir, k1, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, L7_SECRET_LEN);
	assert_memory_not_equal(k1, zero, sizeof(k1));
	assert_int_equal(l7_secret_load(dir, k2, err, sizeof(err)), 0);
	assert_memory_equal(k1, k2, sizeof(k1));

	/* readable by others: refused, naming the fix */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(l7_secret_load(dir, k2, err, sizeof(err)), -EPERM);
	printf("# refused: %s\n", err);
	assert_non_null(strstr(err, "chmod 600"));

	/* the wrong size: refused, naming the fix */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(l7_secret_load(dir, k2, err, sizeof(err)), -EINVAL);
	printf("# refused: %s\n", err);
	assert_non_null(strstr(err, "remove it"));

	/* removed: a new, different one (no temporary file left behind) */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(l7_secret_load(dir, k2, err, sizeof(err)), 0);
	assert_memory_not_equal(k1, k2, sizeof(k1));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);	/* fails if anything else is left */

	/* a missing state dir: an error naming the path */
	assert_true(l7_secret_load("/nonexistent/limpet", k2, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/limpet"));
}

/* --- the snapshot -------------------------------------------------------------------------- */

static const char *const snap_doc =
	"{'serviceName': 'l7', 'hashSeed': '" SEED_HEX "', 'http': {"
	" 'frontend': ["
	"  {'frontendId': 1, 'address': '198.18.100.1', 'port': '80,8000-8002', 'defaultFarmId': 1,"
	"   'tlsTerminated': true},"
	"  {'frontendId': 2, 'address': '198.18.100.2', 'port': '80', 'defaultFarmId': 1,"
	"   'disabled': true},"
	"  {'frontendId': 3, 'address': '2001:db8::1', 'port': '80', 'defaultFarmId': 2}],"
	" 'farm': ["
	"  {'farmId': 1, 'port': 9000, 'balance': 'roundrobin', 'stickiness': 'cookie',"
	"   'cookieName': 'SRV', 'server': ["
	"    {'serverId': 1, 'address': '10.0.0.1', 'port': 8080, 'weight': 5},"
	"    {'serverId': 2, 'address': '10.0.0.2', 'proxyProtocolVersion': 'v2'},"
	"    {'serverId': 3, 'address': '10.0.0.3', 'status': 'inactive'}]},"
	"  {'farmId': 2, 'balance': 'first', 'stickiness': 'cookie', 'server': ["
	"    {'serverId': 7, 'address': '2001:db8::7', 'proxyProtocolVersion': 'v1'}]}]}}";

static void assert_listen(const struct l7_snap *s, const char *ip, uint16_t port, uint32_t fe)
{
	struct sockaddr_storage a = sa(ip, port);
	const struct l7_listen *l = l7_snap_listen(s, (struct sockaddr *)&a);

	if (!fe && l)
		fail_msg("%s port %u: expected no frontend, got %u", ip, port, l->fe->id);
	if (fe && (!l || l->fe->id != fe))
		fail_msg("%s port %u: expected frontend %u, got %u", ip, port, fe,
			 l ? l->fe->id : 0);
}

static void test_snapshot_listeners_and_frontends(void **state)
{
	struct config *c = parse_sq(snap_doc);
	struct l7_registry *reg;
	struct l7_snap *s;

	(void)state;
	assert_int_equal(l7_registry_new(&reg), 0);
	s = snap(c, reg, NULL);
	assert_int_equal(s->gen, 1);
	assert_int_equal(s->nfrontends, 2);	/* the disabled one is left out */
	assert_int_equal(s->nlisten, 5);	/* 80, 8000, 8001, 8002 and [2001:db8::1]:80 */
	assert_listen(s, "198.18.100.1", 80, 1);
	assert_listen(s, "198.18.100.1", 8001, 1);
	assert_listen(s, "198.18.100.1", 8002, 1);
	assert_listen(s, "::ffff:198.18.100.1", 8000, 1);	/* a dual-stack accept */
	assert_listen(s, "2001:db8::1", 80, 3);
	assert_listen(s, "198.18.100.1", 81, 0);
	assert_listen(s, "198.18.100.2", 80, 0);		/* disabled */
	assert_listen(s, "2001:db8::1", 8000, 0);
	assert_listen(s, "198.18.100.3", 80, 0);
	assert_true(l7_snap_listen(s, (struct sockaddr *)&(struct sockaddr_storage){ 0 }) == NULL);
	for (size_t i = 0; i < s->nfrontends; i++) {
		const struct l7_frontend *fe = &s->frontends[i];

		assert_int_equal(fe->farm->id, fe->id == 1 ? 1 : 2);
		assert_int_equal(fe->tls_terminated, fe->id == 1);
	}
	l7_snap_put(s);
	l7_registry_free(reg);
	config_free(c);
}

static void assert_addr(const struct l7_server *s, const char *ip, uint16_t port)
{
	struct sockaddr_storage want = sa(ip, port);
	char got[INET6_ADDRSTRLEN] = "?";
	const void *a = s->addr.ss_family == AF_INET
				? (const void *)&((const struct sockaddr_in *)&s->addr)->sin_addr
				: (const void *)&((const struct sockaddr_in6 *)&s->addr)->sin6_addr;
	socklen_t len = want.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						  : sizeof(struct sockaddr_in6);

	inet_ntop(s->addr.ss_family, a, got, sizeof(got));
	if (s->addrlen != len || memcmp(&s->addr, &want, len))
		fail_msg("server %u: expected %s port %u, got %s port %u", s->id, ip, port, got,
			 ntohs(((const struct sockaddr_in *)&s->addr)->sin_port));
}

static void test_snapshot_farms_and_servers(void **state)
{
	struct config *c = parse_sq(snap_doc);
	struct down d = { 1, { (uint64_t)1 << 32 | 2 } };
	struct l7_registry *reg;
	const struct l7_farm *f1, *f2;
	char tok[L7_COOKIE_LEN + 1];
	struct l7_snap *s;

	(void)state;
	assert_int_equal(l7_registry_new(&reg), 0);
	s = snap(c, reg, &d);
	f1 = farm(s, 1);
	f2 = farm(s, 2);
	assert_int_equal(f1->nservers, 3);
	assert_string_equal(f1->cookie_name, "SRV");
	assert_int_equal(f1->cookie_name_len, 3);
	assert_string_equal(f2->cookie_name, L7_COOKIE_NAME_DEFAULT);
	assert_int_equal(f2->balance, BAL_FIRST);
	/* config order, ports: the server's, else the farm's, else 80 */
	assert_int_equal(f1->servers[0].id, 1);
	assert_int_equal(f1->servers[2].id, 3);
	assert_addr(&f1->servers[0], "10.0.0.1", 8080);
	assert_addr(&f1->servers[1], "10.0.0.2", 9000);
	assert_addr(&f2->servers[0], "2001:db8::7", 80);
	assert_int_equal(f1->servers[0].weight, 5);
	/* eligibility: the callback's (2 is down, 3 is inactive) */
	assert_true(f1->servers[0].eligible);
	assert_false(f1->servers[1].eligible);
	assert_false(f1->servers[2].eligible);
	assert_int_equal(f1->servers[0].proxy_protocol, 0);
	assert_int_equal(f1->servers[1].proxy_protocol, 2);
	assert_int_equal(f2->servers[0].proxy_protocol, 1);
	l7_cookie_token(key_a, 2, 7, tok);
	assert_string_equal(f2->servers[0].cookie, tok);
	{
		char line[128];

		snprintf(line, sizeof(line), "Set-Cookie: %s=%s; Path=/; HttpOnly; SameSite=Lax",
			 L7_COOKIE_NAME_DEFAULT, tok);
		assert_string_equal(f2->servers[0].set_cookie, line);
		assert_int_equal(f2->servers[0].set_cookie_len, strlen(line));
	}
	for (size_t i = 0; i < f1->nservers; i++)
		assert_non_null(f1->servers[i].ctr);
	assert_ptr_not_equal(f1->servers[0].ctr, f1->servers[1].ctr);
	assert_int_equal(atomic_load(&s->refs), 1);
	assert_ptr_equal(l7_snap_get(s), s);
	assert_int_equal(atomic_load(&s->refs), 2);
	l7_snap_put(s);
	l7_snap_put(s);
	l7_snap_put(NULL);
	l7_registry_free(reg);
	config_free(c);
}

/* Counters follow (farmId, serverId) across snapshots, whatever the server's position. */
static void test_snapshot_counters_survive_rebuilds(void **state)
{
	struct config *c1 = parse_sq("{'serviceName': 'l7', 'http': {'frontend': [], 'farm': ["
				     "{'farmId': 1, 'server': ["
				     "{'serverId': 1, 'address': '10.0.0.1'},"
				     " {'serverId': 2, 'address': '10.0.0.2'}]}]}}");
	struct config *c2 = parse_sq("{'serviceName': 'l7', 'http': {'frontend': [], 'farm': ["
				     "{'farmId': 1, 'server': ["
				     "{'serverId': 3, 'address': '10.0.0.3'},"
				     " {'serverId': 2, 'address': '10.0.0.2', 'weight': 9}]}]}}");
	struct l7_registry *reg;
	struct l7_snap *s1, *s2;

	(void)state;
	assert_int_equal(l7_registry_new(&reg), 0);
	s1 = snap(c1, reg, NULL);
	s2 = snap(c2, reg, NULL);
	assert_ptr_equal(server(farm(s2, 1), 2)->ctr, server(farm(s1, 1), 2)->ctr);
	assert_ptr_not_equal(server(farm(s2, 1), 3)->ctr, server(farm(s1, 1), 1)->ctr);
	l7_snap_put(s1);
	atomic_fetch_add(&server(farm(s2, 1), 2)->ctr->requests, 1);	/* still valid */
	l7_snap_put(s2);
	l7_registry_free(reg);
	config_free(c1);
	config_free(c2);
}

/* --- the pick ------------------------------------------------------------------------------ */

/* One farm of the given balance/stickiness and servers (JSON of the server array). */
static struct config *farm_cfg(const char *balance, const char *stickiness, const char *servers)
{
	char doc[2048];

	snprintf(doc, sizeof(doc),
		 "{'serviceName': 'l7', 'hashSeed': '" SEED_HEX "', 'http': {'frontend': [],"
		 " 'farm': [{'farmId': 1, 'balance': '%s', 'stickiness': %s, 'server': %s},"
		 " {'farmId': 2, 'stickiness': 'cookie', 'server': ["
		 "  {'serverId': 2, 'address': '10.0.1.2'}]}]}}",
		 balance, stickiness, servers);
	return parse_sq(doc);
}

/* farm_cfg() with servers 1, 2, 3 at 10.0.0.1, .2, .3 of these weights. */
static struct config *farm_cfg3(const char *balance, const char *stickiness, unsigned w1,
				unsigned w2, unsigned w3)
{
	char servers[256];

	snprintf(servers, sizeof(servers),
		 "[{'serverId': 1, 'address': '10.0.0.1', 'weight': %u},"
		 " {'serverId': 2, 'address': '10.0.0.2', 'weight': %u},"
		 " {'serverId': 3, 'address': '10.0.0.3', 'weight': %u}]",
		 w1, w2, w3);
	return farm_cfg(balance, stickiness, servers);
}

static void test_pick_roundrobin_smooth_weighted(void **state)
{
	static const uint32_t want[] = { 1, 1, 2, 1, 3, 1, 1 };	/* nginx's, for 5/1/1 */
	struct config *c = farm_cfg3("roundrobin", "null", 5, 1, 1);
	struct picker p;

	(void)state;
	picker_open(&p, c, NULL);
	assert_non_null(p.ps);
	for (size_t round = 0; round < 3; round++) {
		for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
			uint32_t got = pick_plain(farm(p.s, 1), p.ps);

			if (got != want[i])
				fail_msg("round %zu pick %zu: expected server %u, got %u", round,
					 i, want[i], got);
		}
	}
	picker_close(&p);
	config_free(c);
}

static void test_pick_leastconn_weighted(void **state)
{
	struct config *c = farm_cfg3("leastconn", "null", 1, 2, 1);
	struct picker p;
	const struct l7_farm *f;
	bool seen[4] = { false };

	(void)state;
	picker_open(&p, c, NULL);
	f = farm(p.s, 1);
	for (size_t i = 0; i < 3; i++)
		atomic_store(&f->servers[i].ctr->active, 1);
	/* 1/1, 1/2, 1/1: the heavier server has the least load per weight */
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(pick_plain(f, p.ps), 2);
	/* 1/1, 3/2, 1/1: a tie between 1 and 3, taken in turns */
	atomic_store(&f->servers[1].ctr->active, 3);
	for (size_t i = 0; i < 6; i++)
		seen[pick_plain(f, p.ps)] = true;
	assert_true(seen[1] && seen[3] && !seen[2]);
	/* 1/1, 1/2, 0/1 */
	atomic_store(&f->servers[1].ctr->active, 1);
	atomic_store(&f->servers[2].ctr->active, 0);
	assert_int_equal(pick_plain(f, p.ps), 3);
	picker_close(&p);
	config_free(c);
}

static void test_pick_first_eligible_in_config_order(void **state)
{
	struct config *c = farm_cfg("first", "null",
				    "[{'serverId': 9, 'address': '10.0.0.9'},"
				    " {'serverId': 4, 'address': '10.0.0.4'},"
				    " {'serverId': 6, 'address': '10.0.0.6'}]");
	struct down d = { 1, { (uint64_t)1 << 32 | 9 } };
	struct picker p;
	struct sockaddr_storage cl = sa("192.0.2.1", 1);
	struct l7_req_info ri = { .client = (struct sockaddr *)&cl };

	(void)state;
	picker_open(&p, c, NULL);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(pick_plain(farm(p.s, 1), p.ps), 9);
	assert_int_equal(pick(farm(p.s, 1), p.ps, &ri, server(farm(p.s, 1), 9), NULL), 4);
	picker_snap(&p, c, &d);
	assert_int_equal(pick_plain(farm(p.s, 1), p.ps), 4);
	assert_int_equal(pick(farm(p.s, 1), p.ps, &ri, server(farm(p.s, 1), 4), NULL), 6);
	picker_close(&p);
	config_free(c);
}

/* The XDP path's server for a source: lb_hash_addr(src, hashSeed) into the farm's table. */
static uint32_t xdp_pick(const struct l7_farm *f, uint64_t seed, const uint32_t *table,
			 const struct sockaddr_storage *src)
{
	uint32_t w[4] = { 0 };

	if (src->ss_family == AF_INET)
		w[0] = ((const struct sockaddr_in *)src)->sin_addr.s_addr;
	else
		memcpy(w, &((const struct sockaddr_in6 *)src)->sin6_addr, sizeof(w));
	return f->servers[table[lb_hash_addr(w, seed) % LB_RING_DEFAULT]].id;
}

static void test_pick_source_equals_xdp_ring(void **state)
{
	struct config *c = farm_cfg("source", "null",
				    "[{'serverId': 1, 'address': '10.0.0.1', 'weight': 3},"
				    " {'serverId': 2, 'address': '10.0.0.2', 'weight': 1},"
				    " {'serverId': 5, 'address': '10.0.0.5', 'weight': 2},"
				    " {'serverId': 8, 'address': '10.0.0.8', 'weight': 7}]");
	struct down d = { 1, { (uint64_t)1 << 32 | 5 } };
	uint32_t *table = test_malloc(LB_RING_DEFAULT * sizeof(*table));
	struct maglev_server ms[4];
	struct picker p;
	const struct l7_farm *f;
	unsigned used[9] = { 0 };

	(void)state;
	picker_open(&p, c, &d);
	f = farm(p.s, 1);
	/* the table user/dataplane builds for this farm (servers' ids, weights, eligibility) */
	for (size_t i = 0; i < f->nservers; i++)
		ms[i] = (struct maglev_server){ f->servers[i].id, f->servers[i].weight,
						f->servers[i].eligible };
	assert_int_equal(maglev_build(ms, 4, c->hash_seed, LB_RING_DEFAULT, table), 0);
	for (uint32_t i = 0; i < 2000; i++) {
		char ip[64];
		struct sockaddr_storage src, mapped;
		struct l7_req_info ri = { .client = (struct sockaddr *)&src };
		uint32_t want, got;

		if (i % 2)
			snprintf(ip, sizeof(ip), "2001:db8:%x::%x", (i * 7919) & 0xffff, i);
		else
			snprintf(ip, sizeof(ip), "100.%u.%u.%u", i >> 8, i & 255, (i * 13) & 255);
		src = sa(ip, 1024 + i);
		want = xdp_pick(f, c->hash_seed, table, &src);
		got = pick(f, p.ps, &ri, NULL, NULL);
		if (got != want)
			fail_msg("client %s: expected server %u (XDP ring), got %u", ip, want, got);
		assert_int_not_equal(got, 5);
		used[got]++;
		if (i % 2)
			continue;
		/* a dual-stack socket sees ::ffff:a.b.c.d: the same client */
		snprintf(ip, sizeof(ip), "::ffff:100.%u.%u.%u", i >> 8, i & 255, (i * 13) & 255);
		mapped = sa(ip, 1);
		ri.client = (struct sockaddr *)&mapped;
		assert_int_equal(pick(f, p.ps, &ri, NULL, NULL), want);
		/* avoiding its server: another one, still not the down one */
		got = pick(f, p.ps, &ri, server(f, want), NULL);
		assert_true(got && got != want && got != 5);
	}
	printf("# spread over 1, 2, 8 (weights 3, 1, 7): %u %u %u\n", used[1], used[2], used[8]);
	assert_true(used[8] > used[1] && used[1] > used[2] && used[2] > 0);
	test_free(table);
	picker_close(&p);
	config_free(c);
}

/* balance source remembers its clients as the XDP path does: a weight change moves no known
 * client; new clients follow the new weights. */
static void test_pick_source_clients_stay_across_weight_change(void **state)
{
	struct config *c1 = farm_cfg3("source", "null", 5, 1, 1);
	struct config *c2 = farm_cfg3("source", "null", 1, 1, 200);
	struct picker p;
	uint32_t before[200];
	unsigned to3_known = 0, to3_new = 0;

	(void)state;
	picker_open(&p, c1, NULL);
	for (unsigned i = 0; i < 200; i++)
		before[i] = picker_client(&p, "203.0.113.", i);
	picker_snap(&p, c2, NULL);
	for (unsigned i = 0; i < 200; i++) {
		assert_int_equal(picker_client(&p, "203.0.113.", i), before[i]);
		to3_known += before[i] == 3;
		to3_new += picker_client(&p, "198.51.100.", i) == 3;
	}
	printf("# server 3 (weight 1 -> 200): %u of 200 known clients, %u of 200 new ones\n",
	       to3_known, to3_new);
	assert_true(to3_new > 190 && to3_known < 100);
	picker_close(&p);
	config_free(c1);
	config_free(c2);
}

static void test_pick_uri_consistent(void **state)
{
	struct config *c = farm_cfg3("uri", "null", 5, 1, 1);
	struct l7_registry *reg;
	struct l7_pick_state *ps1, *ps2;
	struct l7_snap *s1, *s2;
	unsigned used[4] = { 0 };

	(void)state;
	assert_int_equal(l7_registry_new(&reg), 0);
	s1 = snap(c, reg, NULL);
	s2 = snap(c, reg, NULL);
	ps1 = l7_pick_state_new(s1);
	ps2 = l7_pick_state_new(s2);
	for (unsigned i = 0; i < 300; i++) {
		char path[64];
		struct sockaddr_storage c1 = sa("192.0.2.1", 1), c2 = sa("2001:db8::99", 2);
		struct l7_req_info r1 = { .client = (struct sockaddr *)&c1, .path = path };
		struct l7_req_info r2 = { .client = (struct sockaddr *)&c2, .path = path };
		uint32_t a;

		r1.path_len = r2.path_len = snprintf(path, sizeof(path), "/static/img/%u.png", i);
		/* same path: same server, whoever asks, in any worker, in a rebuilt snapshot */
		a = pick(farm(s1, 1), ps1, &r1, NULL, NULL);
		assert_int_equal(pick(farm(s1, 1), ps1, &r2, NULL, NULL), a);
		assert_int_equal(pick(farm(s2, 1), ps2, &r2, NULL, NULL), a);
		used[a]++;
	}
	printf("# 300 paths over weights 5/1/1: %u %u %u\n", used[1], used[2], used[3]);
	assert_true(used[1] > used[2] && used[1] > used[3] && used[2] && used[3]);
	l7_pick_state_free(ps1);
	l7_pick_state_free(ps2);
	l7_snap_put(s1);
	l7_snap_put(s2);
	l7_registry_free(reg);
	config_free(c);
}

struct cookie_case {
	const char *name;
	uint32_t farm, server;	/* whose token the request carries (0: none) */
	int tamper;		/* flip this character (-1: none) */
	int len_delta;		/* cookie_len off by this */
	uint32_t down;		/* this server of farm 1 is probed down */
	uint32_t avoid;		/* the engine avoids this server */
	bool stays;		/* the request goes to the cookie's server, no new cookie */
};

static const struct cookie_case cookie_cases[] = {
	{ "valid cookie",		1, 2, -1, 0, 0, 0, true },
	{ "valid cookie, other down",	1, 3, -1, 0, 2, 0, true },
	{ "no cookie",			0, 0, -1, 0, 0, 0, false },
	{ "tampered first char",	1, 2, 0, 0, 0, 0, false },
	{ "tampered last char",		1, 2, 21, 0, 0, 0, false },
	{ "truncated",			1, 2, -1, -1, 0, 0, false },
	{ "foreign farm's token",	2, 2, -1, 0, 0, 0, false },
	{ "removed server's token",	1, 4, -1, 0, 0, 0, false },
	{ "server down",		1, 2, -1, 0, 2, 0, false },
	{ "server refused (avoid)",	1, 2, -1, 0, 0, 2, false },
};

static void test_pick_cookie_cases(void **state)
{
	struct config *c = farm_cfg3("roundrobin", "'cookie'", 5, 1, 1);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cookie_cases); i++) {
		const struct cookie_case *k = &cookie_cases[i];
		struct down d = { k->down ? 1 : 0, { (uint64_t)1 << 32 | k->down } };
		struct sockaddr_storage cl = sa("192.0.2.1", 1);
		char tok[L7_COOKIE_LEN + 2] = "";
		struct l7_req_info ri = { .client = (struct sockaddr *)&cl };
		struct picker p;
		const struct l7_farm *f;
		bool set_cookie = false;

		printf("# %s\n", k->name);
		picker_open(&p, c, &d);
		f = farm(p.s, 1);
		if (k->farm) {
			l7_cookie_token(key_a, k->farm, k->server, tok);
			if (k->tamper >= 0)
				tok[k->tamper] = tok[k->tamper] == 'A' ? 'B' : 'A';
			ri.cookie = tok;
			ri.cookie_len = L7_COOKIE_LEN + k->len_delta;
		}
		/* several picks: redispatch must not depend on the balance's position */
		for (size_t n = 0; n < 7; n++) {
			uint32_t got = pick(f, p.ps, &ri, k->avoid ? server(f, k->avoid) : NULL,
					    &set_cookie);

			if (k->stays && (got != k->server || set_cookie))
				fail_msg("%s: expected server %u without a new cookie, got %u "
					 "(set_cookie %d)", k->name, k->server, got, set_cookie);
			if (!k->stays && (!got || !set_cookie || (k->down && got == k->down)))
				fail_msg("%s: expected a redispatch with a new cookie, got server "
					 "%u (set_cookie %d)", k->name, got, set_cookie);
		}
		picker_close(&p);
	}
	config_free(c);
}

/* DESIGN.md section 3: weight changes and a returning server move no cookie client. */
static void test_pick_cookie_clients_stay_across_changes(void **state)
{
	struct config *c1 = farm_cfg3("roundrobin", "'cookie'", 5, 1, 1);
	struct config *c2 = farm_cfg3("roundrobin", "'cookie'", 1, 200, 1);
	struct down d3 = { 1, { (uint64_t)1 << 32 | 3 } };
	const struct {
		const struct config *c;
		struct down *d;
	} steps[] = {
		{ c1, &d3 },	/* server 3 down */
		{ c2, &d3 },	/* weights changed */
		{ c2, NULL },	/* server 3 back */
	};
	struct picker p;
	char tok[L7_COOKIE_LEN + 1];
	struct l7_req_info ri = { .cookie = tok, .cookie_len = L7_COOKIE_LEN };
	struct sockaddr_storage cl = sa("192.0.2.1", 1);

	(void)state;
	ri.client = (struct sockaddr *)&cl;
	picker_open(&p, steps[0].c, steps[0].d);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		if (i)
			picker_snap(&p, steps[i].c, steps[i].d);
		for (uint32_t id = 1; id <= 2; id++) {
			bool set_cookie = true;

			l7_cookie_token(key_a, 1, id, tok);
			assert_int_equal(pick(farm(p.s, 1), p.ps, &ri, NULL, &set_cookie), id);
			assert_false(set_cookie);
		}
	}
	picker_close(&p);
	config_free(c1);
	config_free(c2);
}

/* sourceIp on an http farm: a remembered server wins while eligible; only its clients move
 * when it goes down, and they stay where they went when it comes back. */
static void test_pick_source_ip_stickiness(void **state)
{
	struct config *c = farm_cfg3("roundrobin", "'sourceIp'", 5, 1, 1);
	struct picker p;
	struct sockaddr_storage cl[8];
	uint32_t first[8], moved[8];
	struct down d = { 1, { 0 } };

	(void)state;
	picker_open(&p, c, NULL);
	for (size_t i = 0; i < 8; i++) {
		char ip[32];
		struct l7_req_info ri = { .client = (struct sockaddr *)&cl[i] };

		snprintf(ip, sizeof(ip), "192.0.2.%zu", 10 + i);
		cl[i] = sa(ip, 1000);
		first[i] = pick(farm(p.s, 1), p.ps, &ri, NULL, NULL);
		for (size_t n = 0; n < 5; n++)	/* roundrobin would rotate: stickiness holds */
			assert_int_equal(pick(farm(p.s, 1), p.ps, &ri, NULL, NULL), first[i]);
	}

	d.fs[0] = (uint64_t)1 << 32 | first[0];	/* the first client's server goes down */
	picker_snap(&p, c, &d);
	for (size_t i = 0; i < 8; i++) {
		struct l7_req_info ri = { .client = (struct sockaddr *)&cl[i] };

		moved[i] = pick(farm(p.s, 1), p.ps, &ri, NULL, NULL);
		if (first[i] == first[0])
			assert_int_not_equal(moved[i], first[0]);
		else
			assert_int_equal(moved[i], first[i]);
	}

	picker_snap(&p, c, NULL);	/* it is back: nobody moves */
	for (size_t i = 0; i < 8; i++) {
		struct l7_req_info ri = { .client = (struct sockaddr *)&cl[i] };

		assert_int_equal(pick(farm(p.s, 1), p.ps, &ri, NULL, NULL), moved[i]);
	}
	picker_close(&p);
	config_free(c);
}

/* Workers pick at once, each with its own pick state: remembered clients stay put, counters
 * add up (and a -fsanitize=thread build of this file reports no race). */
#define WORKERS		4
#define CLIENTS		64

struct worker_arg {
	const struct l7_snap *s;
	const struct sockaddr_storage *cl;
	const uint32_t *want;
	unsigned wrong;
};

static void *worker(void *arg)
{
	struct worker_arg *w = arg;
	struct l7_pick_state *ps = l7_pick_state_new(w->s);
	const struct l7_farm *f = &w->s->farms[0];

	for (unsigned round = 0; ps && round < 200; round++) {
		for (size_t i = 0; i < CLIENTS; i++) {
			struct l7_req_info ri = { .client = (const struct sockaddr *)&w->cl[i] };
			bool sc;
			const struct l7_server *sv = l7_pick(f, ps, &ri, NULL, &sc);

			w->wrong += !sv || sv->id != w->want[i];
			if (sv)
				atomic_fetch_add_explicit(&sv->ctr->requests, 1,
							  memory_order_relaxed);
		}
	}
	w->wrong += !ps;
	l7_pick_state_free(ps);
	return NULL;
}

static void test_pick_concurrent_workers(void **state)
{
	struct config *c = farm_cfg3("leastconn", "'sourceIp'", 5, 1, 1);
	struct sockaddr_storage cl[CLIENTS];
	struct worker_arg args[WORKERS];
	pthread_t th[WORKERS];
	uint32_t want[CLIENTS];
	struct picker p;
	uint64_t total = 0;

	(void)state;
	picker_open(&p, c, NULL);
	for (size_t i = 0; i < CLIENTS; i++) {
		char ip[32];
		struct l7_req_info ri = { .client = (struct sockaddr *)&cl[i] };

		snprintf(ip, sizeof(ip), "2001:db8:1::%zx", i);
		cl[i] = sa(ip, 1);
		want[i] = pick(farm(p.s, 1), p.ps, &ri, NULL, NULL);
	}
	for (size_t t = 0; t < WORKERS; t++) {
		args[t] = (struct worker_arg){ p.s, cl, want, 0 };
		assert_int_equal(pthread_create(&th[t], NULL, worker, &args[t]), 0);
	}
	for (size_t t = 0; t < WORKERS; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		if (args[t].wrong)
			fail_msg("worker %zu: %u picks not the remembered server", t,
				 args[t].wrong);
	}
	for (size_t i = 0; i < farm(p.s, 1)->nservers; i++)
		total += atomic_load(&farm(p.s, 1)->servers[i].ctr->requests);
	assert_int_equal(total, WORKERS * 200 * CLIENTS);
	picker_close(&p);
	config_free(c);
}

/* avoid is never returned, in any balance; alone, it means no server. */
static void test_pick_avoid_never_returned(void **state)
{
	static const char *const balances[] = { "roundrobin", "leastconn", "first", "source",
						"uri" };
	struct down d = { 1, { (uint64_t)1 << 32 | 3 } };
	struct down d23 = { 2, { (uint64_t)1 << 32 | 3, (uint64_t)1 << 32 | 2 } };

	(void)state;
	for (size_t b = 0; b < ARRAY_SIZE(balances); b++) {
		struct config *c = farm_cfg3(balances[b], "null", 5, 1, 1);
		struct l7_registry *reg;
		struct l7_snap *s, *s1;
		struct l7_pick_state *ps, *ps1;

		printf("# %s\n", balances[b]);
		assert_int_equal(l7_registry_new(&reg), 0);
		s = snap(c, reg, &d);
		s1 = snap(c, reg, &d23);
		ps = l7_pick_state_new(s);
		ps1 = l7_pick_state_new(s1);
		for (unsigned i = 0; i < 50; i++) {
			char ip[32], path[16];
			struct sockaddr_storage cl;
			struct l7_req_info ri = { .client = (struct sockaddr *)&cl, .path = path };

			snprintf(ip, sizeof(ip), "198.51.100.%u", i);
			cl = sa(ip, 1);
			ri.path_len = snprintf(path, sizeof(path), "/%u", i);
			assert_int_equal(pick(farm(s, 1), ps, &ri, server(farm(s, 1), 1), NULL), 2);
			assert_int_equal(pick(farm(s, 1), ps, &ri, server(farm(s, 1), 2), NULL), 1);
			assert_int_equal(pick(farm(s1, 1), ps1, &ri, server(farm(s1, 1), 1), NULL),
					 0);
			assert_int_equal(pick(farm(s1, 1), ps1, &ri, NULL, NULL), 1);
		}
		l7_pick_state_free(ps);
		l7_pick_state_free(ps1);
		l7_snap_put(s);
		l7_snap_put(s1);
		l7_registry_free(reg);
		config_free(c);
	}
}

/* --- counters ------------------------------------------------------------------------------ */

/* The value at a dotted path ("farm.0.server.1.requests"), failing the test if absent. */
static json_t *jget(json_t *root, const char *path)
{
	json_t *v = root;
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *t = strtok_r(buf, ".", &save); t && v; t = strtok_r(NULL, ".", &save))
		v = json_is_array(v) ? json_array_get(v, atoi(t)) : json_object_get(v, t);
	if (!v)
		fail_msg("%s: expected a value, found none", path);
	return v;
}

static json_int_t jint(json_t *root, const char *path)
{
	json_t *v = jget(root, path);

	if (!json_is_integer(v))
		fail_msg("%s: expected an integer", path);
	return json_integer_value(v);
}

static void test_counters_json(void **state)
{
	/* the integers l7_registry_json shows, by path, for what is counted below */
	static const struct {
		const char *path;
		json_int_t want;
	} ints[] = {
		{ "connections.client", 5 },
		{ "connections.backendIdle", 2 },
		{ "farm.0.farmId", 1 },
		{ "farm.0.server.1.serverId", 2 },
		{ "farm.0.server.1.requests", 6 },
		{ "farm.0.server.1.active", 1 },
		{ "farm.0.server.1.responses.1xx", 1 },
		{ "farm.0.server.1.responses.2xx", 2 },
		{ "farm.0.server.1.responses.3xx", 1 },
		{ "farm.0.server.1.responses.4xx", 0 },
		{ "farm.0.server.1.responses.5xx", 1 },
		{ "farm.0.server.1.responses.other", 1 },
		{ "farm.0.server.1.latency.count.0", 2 },
		{ "farm.0.server.1.latency.count.1", 3 },
		{ "farm.0.server.1.latency.count.10", 3 },	/* <= 1 s */
		{ "farm.0.server.1.latency.count.11", 4 },	/* <= 2.5 s */
		{ "farm.0.server.1.latency.count.12", 4 },	/* <= 10 s */
		{ "farm.0.server.1.latency.total", 5 },
		{ "farm.0.server.0.requests", 0 },
		{ "errors.502", 2 },
		{ "errors.431", 1 },
		{ "errors.400", 0 },
	};
	struct config *c = farm_cfg3("roundrobin", "null", 5, 1, 1);
	atomic_uint_least64_t conns[3];
	struct l7_registry *reg;
	struct l7_counters *k;
	struct l7_snap *s;
	json_t *j;

	(void)state;
	atomic_init(&conns[0], 5);
	atomic_init(&conns[1], 3);
	atomic_init(&conns[2], 2);
	assert_int_equal(l7_registry_new(&reg), 0);
	s = snap(c, reg, NULL);
	k = farm(s, 1)->servers[1].ctr;
	atomic_fetch_add(&k->requests, 6);
	atomic_fetch_add(&k->active, 1);
	l7_count_response(k, 200, 300);		/* <= 0.0005 s */
	l7_count_response(k, 204, 500);		/* <= 0.0005 s: the bound is inclusive */
	l7_count_response(k, 302, 501);		/* <= 0.001 s */
	l7_count_response(k, 503, 2000000);	/* <= 2.5 s */
	l7_count_response(k, 101, 60000000);	/* +Inf */
	l7_count_response(k, 0, 0);		/* no response */
	l7_count_error(reg, L7_E502);
	l7_count_error(reg, L7_E502);
	l7_count_error(reg, L7_E431);
	j = l7_registry_json(reg, s, conns);
	assert_non_null(j);
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		json_int_t got = jint(j, ints[i].path);

		if (got != ints[i].want)
			fail_msg("%s: expected %lld, got %lld", ints[i].path,
				 (long long)ints[i].want, (long long)got);
	}
	assert_int_equal(json_array_size(jget(j, "farm.0.server.1.latency.le")),
			 L7_LAT_BUCKETS - 1);
	assert_true(json_real_value(jget(j, "farm.0.server.1.latency.le.0")) == l7_lat_le[0]);
	assert_true(fabs(json_real_value(jget(j, "farm.0.server.1.latency.sum")) - 62.001301) <
		    1e-9);
	json_decref(j);
	j = l7_registry_json(reg, NULL, conns);	/* totals only */
	assert_int_equal(json_array_size(json_object_get(j, "farm")), 0);
	assert_int_equal(jint(j, "errors.502"), 2);
	json_decref(j);
	l7_snap_put(s);
	l7_registry_free(reg);
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_token_known_answers),
		cmocka_unit_test(test_cookie_token_differs_per_farm_server_secret),
		cmocka_unit_test(test_secret_created_0600_and_reloaded),
		cmocka_unit_test(test_snapshot_listeners_and_frontends),
		cmocka_unit_test(test_snapshot_farms_and_servers),
		cmocka_unit_test(test_snapshot_counters_survive_rebuilds),
		cmocka_unit_test(test_pick_roundrobin_smooth_weighted),
		cmocka_unit_test(test_pick_leastconn_weighted),
		cmocka_unit_test(test_pick_first_eligible_in_config_order),
		cmocka_unit_test(test_pick_source_equals_xdp_ring),
		cmocka_unit_test(test_pick_source_clients_stay_across_weight_change),
		cmocka_unit_test(test_pick_uri_consistent),
		cmocka_unit_test(test_pick_cookie_cases),
		cmocka_unit_test(test_pick_cookie_clients_stay_across_changes),
		cmocka_unit_test(test_pick_source_ip_stickiness),
		cmocka_unit_test(test_pick_concurrent_workers),
		cmocka_unit_test(test_pick_avoid_never_returned),
		cmocka_unit_test(test_counters_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
