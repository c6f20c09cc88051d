// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The API's resource tree (user/config/edit.c) and pendingChanges (user/config/diff.c): paths,
 * every verb on every resource kind with its errors, the round trip through the real validator,
 * and the diff of two documents. Documents are built the way limpetd builds them:
 * config_parse() of a text, then config_to_json().
 *
 * JSON in this file is written with single quotes, which q() turns into double quotes.
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
#include "config/edit.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Ids out of document order, so that "ascending" and "highest + 1" are really tested:
 * tcp frontends 4, 1; tcp farms 2 (servers 1, 2) and 1 (servers 3, 1); udp frontend 1 and
 * farm 5 (no server); http empty.
 */
static const char base_sq[] =
	"{'serviceName': 'demo', 'zone': 'local', 'hashSeed': '0123456789abcdef',"
	" 'tcp': {'frontend': ["
	"   {'frontendId': 4, 'address': '198.18.100.2', 'port': '80', 'defaultFarmId': 2},"
	"   {'frontendId': 1, 'address': '198.18.100.1', 'port': '80', 'defaultFarmId': 1}],"
	"  'farm': ["
	"   {'farmId': 2, 'balance': 'source', 'stickiness': 'sourceIp', 'server': ["
	"     {'serverId': 1, 'address': '198.18.2.11'}, {'serverId': 2, 'address': '198.18.2.12'}]},"
	"   {'farmId': 1, 'probe': {'type': 'tcp', 'interval': 2}, 'server': ["
	"     {'serverId': 3, 'address': '198.18.1.13', 'weight': 5},"
	"     {'serverId': 1, 'address': '198.18.1.11'}]}]},"
	" 'udp': {'frontend': ["
	"   {'frontendId': 1, 'address': '198.18.100.1', 'port': '53', 'defaultFarmId': 5}],"
	"  'farm': [{'farmId': 5}]}}";

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

static json_t *json_sq(const char *sq)
{
	json_error_t jerr;
	char *s = q(sq);
	json_t *j = json_loads(s, JSON_DECODE_ANY, &jerr);

	if (!j)
		fail_msg("test bug: %s: %s", s, jerr.text);
	free(s);
	return j;
}

static void errors_print(const struct cfg_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		printf("#   %s\n", e->msg[i]);
}

/* The canonical document of a single-quoted config text, as limpetd stages it. */
static json_t *doc_new(const char *sq)
{
	struct cfg_errors errs;
	struct config *c = NULL;
	char *text = q(sq);
	json_t *doc;
	int err;

	err = config_parse(text, strlen(text), &c, &errs);
	free(text);
	if (err) {
		printf("# errors:\n");
		errors_print(&errs);
		cfg_errors_free(&errs);
		fail_msg("config_parse of the test document: expected 0, got %d", err);
	}
	cfg_errors_free(&errs);
	doc = config_to_json(c);
	config_free(c);
	assert_non_null(doc);
	return doc;
}

static json_t *base(void)
{
	return doc_new(base_sq);
}

static struct res_ref ref(const char *path)
{
	struct res_ref r;
	int err = res_parse(path, &r);

	if (err)
		fail_msg("res_parse(\"%s\"): expected 0, got %d", path, err);
	return r;
}

static void expect_same(const json_t *got, const json_t *want, const char *what)
{
	if (!json_equal(got, want)) {
		char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);

		fail_msg("%s: expected %s, got %s", what, w, g ? g : "NULL");
	}
}

static void expect_json(const json_t *got, const char *want_sq, const char *what)
{
	json_t *want = json_sq(want_sq);

	expect_same(got, want, what);
	json_decref(want);
}

/* The classes docs/api.md gives each status, written out here rather than shared with
 * edit.c: the test checks the code against the document. */
static const struct {
	int status;
	const char *cls;
} api_classes[] = {
	{ 400, "Client::BadRequest" }, { 404, "Client::NotFound" },
	{ 405, "Client::MethodNotAllowed" }, { 409, "Client::Conflict" },
};

static const char *class_of(int status)
{
	for (size_t i = 0; i < sizeof(api_classes) / sizeof(api_classes[0]); i++)
		if (api_classes[i].status == status)
			return api_classes[i].cls;
	return "Server::InternalServerError";
}

/* got must be NULL with e saying status, its class and exactly msg. */
static void expect_err(json_t *got, const struct edit_err *e, int status, const char *msg,
		       const char *what)
{
	if (got) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);

		fail_msg("%s: expected error %d \"%s\", got a result: %s", what, status, msg, g);
	}
	if (e->status != status)
		fail_msg("%s: expected status %d, got %d (\"%s\")", what, status, e->status, e->msg);
	if (!e->cls || strcmp(e->cls, class_of(status)))
		fail_msg("%s: expected class %s, got %s", what, class_of(status),
			 e->cls ? e->cls : "NULL");
	if (strcmp(e->msg, msg))
		fail_msg("%s: expected message \"%s\", got \"%s\"", what, msg, e->msg);
}

static void expect_ok(const json_t *got, const struct edit_err *e, const char *what)
{
	if (!got)
		fail_msg("%s: expected a result, got error %d \"%s\"", what, e->status, e->msg);
}

/* The verbs by path and single-quoted body; bodies are freed here. */
static json_t *list(const json_t *doc, const char *path, struct edit_err *e)
{
	struct res_ref r = ref(path);

	return res_list(doc, &r, e);
}

static json_t *get(const json_t *doc, const char *path, struct edit_err *e)
{
	struct res_ref r = ref(path);

	return res_get(doc, &r, e);
}

static json_t *create(const json_t *doc, const char *path, const char *body_sq, uint32_t *id,
		      struct edit_err *e)
{
	struct res_ref r = ref(path);
	json_t *body = json_sq(body_sq), *out;

	out = res_create(doc, &r, body, id, e);
	json_decref(body);
	return out;
}

static json_t *update(const json_t *doc, const char *path, const char *body_sq,
		      struct edit_err *e)
{
	struct res_ref r = ref(path);
	json_t *body = json_sq(body_sq), *out;

	out = res_update(doc, &r, body, e);
	json_decref(body);
	return out;
}

static json_t *del(const json_t *doc, const char *path, struct edit_err *e)
{
	struct res_ref r = ref(path);

	return res_delete(doc, &r, e);
}

/* Edits that must succeed: each takes doc over and answers the new document. */
static json_t *then_create(json_t *doc, const char *path, const char *body_sq, uint32_t want_id)
{
	struct edit_err e;
	uint32_t id = 0;
	json_t *out = create(doc, path, body_sq, &id, &e);

	expect_ok(out, &e, path);
	if (id != want_id)
		fail_msg("POST %s: expected id %u, got %u", path, want_id, id);
	json_decref(doc);
	return out;
}

static json_t *then_update(json_t *doc, const char *path, const char *body_sq)
{
	struct edit_err e;
	json_t *out = update(doc, path, body_sq, &e);

	expect_ok(out, &e, path);
	json_decref(doc);
	return out;
}

static json_t *then_delete(json_t *doc, const char *path)
{
	struct edit_err e;
	json_t *out = del(doc, path, &e);

	expect_ok(out, &e, path);
	json_decref(doc);
	return out;
}

static void expect_resource(const json_t *doc, const char *path, const char *want_sq)
{
	struct edit_err e;
	json_t *got = get(doc, path, &e);

	expect_ok(got, &e, path);
	expect_json(got, want_sq, path);
	json_decref(got);
}

static void expect_list(const json_t *doc, const char *path, const char *want_sq)
{
	struct edit_err e;
	json_t *got = list(doc, path, &e);

	expect_ok(got, &e, path);
	expect_json(got, want_sq, path);
	json_decref(got);
}

static void expect_absent(const json_t *doc, const char *path, const char *msg)
{
	struct edit_err e;

	expect_err(get(doc, path, &e), &e, 404, msg, path);
}

/* The real validator on doc: it must pass; *out (if given) receives the model. */
static void expect_valid(json_t *doc, const char *what, struct config **out)
{
	struct cfg_errors errs;
	struct config *c = NULL;
	int err = config_from_json(doc, &c, &errs);

	if (err) {
		printf("# %s: errors:\n", what);
		errors_print(&errs);
		cfg_errors_free(&errs);
		fail_msg("%s: config_from_json: expected 0, got %d", what, err);
	}
	cfg_errors_free(&errs);
	if (out)
		*out = c;
	else
		config_free(c);
}

/* The real validator on doc: it must fail with exactly one error, want. */
static void expect_invalid(json_t *doc, const char *want, const char *what)
{
	struct cfg_errors errs;
	struct config *c = NULL;
	int err = config_from_json(doc, &c, &errs);
	bool ok = err == -EINVAL && errs.n == 1 && !strcmp(errs.msg[0], want);

	if (!ok) {
		printf("# %s: errors:\n", what);
		errors_print(&errs);
	}
	cfg_errors_free(&errs);
	config_free(c);
	if (!ok)
		fail_msg("%s: expected -EINVAL with the one error \"%s\", got %d", what, want, err);
}

static void expect_diff(const json_t *from, const json_t *to, const char *want_sq,
			const char *what)
{
	json_t *got = config_diff(from, to);

	assert_non_null(got);
	expect_json(got, want_sq, what);
	json_decref(got);
}

/* --- res_parse --------------------------------------------------------------------------- */

/* r written back as a path: the one spelling res_parse accepts for it. */
static void ref_str(const struct res_ref *r, char *buf, size_t n)
{
	static const char *const kinds[] = { "frontend", "farm", "server" };
	int k;

	if (r->kind == RES_SERVER)
		k = snprintf(buf, n, "%s/farm/%u/server", cfg_layer_name(r->layer), r->farm);
	else
		k = snprintf(buf, n, "%s/%s", cfg_layer_name(r->layer), kinds[r->kind]);
	if (r->has_id)
		snprintf(buf + k, n - (size_t)k, "/%u", r->id);
}

static void test_res_parse_accepts_every_resource_path(void **state)
{
	static const struct {
		const char *path;
		struct res_ref want;
	} cases[] = {
		{ "tcp/frontend", { CFG_TCP, RES_FRONTEND, 0, false, 0 } },
		{ "udp/frontend/7", { CFG_UDP, RES_FRONTEND, 0, true, 7 } },
		{ "http/farm", { CFG_HTTP, RES_FARM, 0, false, 0 } },
		{ "tcp/farm/1", { CFG_TCP, RES_FARM, 0, true, 1 } },
		{ "tcp/farm/4294967295", { CFG_TCP, RES_FARM, 0, true, UINT32_MAX } },
		{ "udp/farm/12/server", { CFG_UDP, RES_SERVER, 12, false, 0 } },
		{ "http/farm/3/server/40", { CFG_HTTP, RES_SERVER, 3, true, 40 } },
		{ "tcp/farm/4294967295/server/4294967295",
		  { CFG_TCP, RES_SERVER, UINT32_MAX, true, UINT32_MAX } },
		{ "tcp/frontend/1000000000", { CFG_TCP, RES_FRONTEND, 0, true, 1000000000 } },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct res_ref *w = &cases[i].want;
		struct res_ref r = ref(cases[i].path);

		if (r.layer != w->layer || r.kind != w->kind || r.has_id != w->has_id ||
		    r.id != w->id || (w->kind == RES_SERVER && r.farm != w->farm))
			fail_msg("res_parse(\"%s\"): expected layer %d kind %d farm %u has_id %d "
				 "id %u, got %d %d %u %d %u", cases[i].path, w->layer, w->kind,
				 w->farm, w->has_id, w->id, r.layer, r.kind, r.farm, r.has_id, r.id);
	}
}

static void test_res_parse_rejects_malformed_paths_and_leaves_ref_alone(void **state)
{
	static const char *const bad[] = {
		"", "/", "//", "tcp", "tcp/", "/tcp/farm", "tcp/farm/", "tcp//farm", "tcp/farm//1",
		"tcp/farm/1/", "tcp/farm/1//server", "TCP/farm", "Tcp/farm", "tcpx/farm", "tc/farm",
		"sctp/farm", "tcp/farms", "tcp/Farm", "tcp/frontends", "tcp/front", "tcp/farm/0",
		"tcp/farm/00", "tcp/farm/01", "tcp/farm/+1", "tcp/farm/-1", "tcp/farm/ 1",
		"tcp/farm/1 ", "tcp/farm/1a", "tcp/farm/0x1", "tcp/farm/1.0", "tcp/farm/1e3",
		"tcp/farm/4294967296", "tcp/farm/9999999999", "tcp/farm/99999999999",
		"tcp/farm/18446744073709551617", "tcp/frontend/4294967296",
		"tcp/farm/1/server/", "tcp/farm/1/servers", "tcp/farm/1/server/0",
		"tcp/farm/1/server/01", "tcp/farm/1/server/-2", "tcp/farm/1/server/1/x",
		"tcp/farm/1/server/1/", "tcp/farm/1/server/2/server/3", "tcp/farm/01/server/1",
		"tcp/farm/0/server", "tcp/farm/x/server", "tcp/frontend/1/server",
		"tcp/frontend/1/server/2", "tcp/farm/1/frontend", "tcp/farm/server",
		"tcp/farm/server/1", "tcp/farm/1/1", "tcp/farm/1?x=1", "tcp/farm/1%20",
		"tcp/farm/\xef\xbc\x91", "tcp/farm/1\n", "tcp/farm/1/server/1\t", "farm/1",
		"frontend", "config", "refresh", "pendingChanges", "tcp/config", "a/b/c/d/e/f",
		"tcp/farm/1/server/1/server", " tcp/farm", "tcp /farm", "tcp\\farm", "tcp.farm",
		"./tcp/farm", "tcp/./farm", "tcp/../farm",
	};
	const struct res_ref sentinel = { CFG_HTTP, RES_SERVER, 77, true, 88 };
	size_t failed = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct res_ref r = sentinel;
		int err = res_parse(bad[i], &r);

		if (err != -ENOENT) {
			printf("# res_parse(\"%s\"): expected %d (-ENOENT), got %d\n", bad[i],
			       -ENOENT, err);
			failed++;
		} else if (memcmp(&r, &sentinel, sizeof(r))) {
			printf("# res_parse(\"%s\"): expected ref untouched on error\n", bad[i]);
			failed++;
		}
	}
	if (failed)
		fail_msg("%zu of %zu malformed paths were not rejected cleanly", failed,
			 ARRAY_SIZE(bad));
}

/* xorshift64: reproducible without touching libc's generator. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A fuzz pass: mutations of good paths (a character inserted, deleted or replaced, from an
 * alphabet that makes near misses likely). Whatever res_parse accepts must be the one
 * canonical spelling of what it returned; whatever it refuses is -ENOENT.
 */
static void test_res_parse_accepts_only_canonical_spellings_of_mutated_paths(void **state)
{
	static const char *const seeds[] = {
		"tcp/frontend", "udp/frontend/7", "http/farm", "tcp/farm/10",
		"udp/farm/4294967295/server", "tcp/farm/1/server/20", "http/farm/9/server/4294967295",
	};
	static const char alphabet[] = "/0123456789+- .xtcpudhfarmonesv\x01\xff";
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t accepted = 0;
	char buf[64], back[64];

	(void)state;
	for (int it = 0; it < 200000; it++) {
		size_t n;

		snprintf(buf, sizeof(buf), "%s", seeds[rnd(&seed) % ARRAY_SIZE(seeds)]);
		for (int m = (int)(rnd(&seed) % 3) + 1; m > 0; m--) {
			char c = alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
			size_t at;

			n = strlen(buf);
			at = rnd(&seed) % (n + 1);
			switch (rnd(&seed) % 3) {
			case 0:
				if (n + 1 < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, n - at + 1);
					buf[at] = c;
				}
				break;
			case 1:
				if (at < n)
					memmove(buf + at, buf + at + 1, n - at);
				break;
			default:
				if (at < n)
					buf[at] = c;
				break;
			}
		}
		struct res_ref r;
		int err = res_parse(buf, &r);

		if (err && err != -ENOENT)
			fail_msg("res_parse(\"%s\"): expected 0 or -ENOENT, got %d", buf, err);
		if (err)
			continue;
		ref_str(&r, back, sizeof(back));
		if (strcmp(back, buf))
			fail_msg("res_parse accepted \"%s\", which is not the spelling of what it "
				 "returned, \"%s\"", buf, back);
		accepted++;
	}
	printf("# %zu of 200000 mutated paths were valid paths and accepted\n", accepted);
	assert_true(accepted > 0);
}

/* --- GET --------------------------------------------------------------------------------- */

static void test_list_answers_ids_ascending_in_each_collection(void **state)
{
	json_t *doc = base();

	(void)state;
	expect_list(doc, "tcp/frontend", "[1, 4]");
	expect_list(doc, "tcp/farm", "[1, 2]");
	expect_list(doc, "tcp/farm/1/server", "[1, 3]");
	expect_list(doc, "tcp/farm/2/server", "[1, 2]");
	expect_list(doc, "udp/frontend", "[1]");
	expect_list(doc, "udp/farm/5/server", "[]");
	expect_list(doc, "http/frontend", "[]");
	expect_list(doc, "http/farm", "[]");
	json_decref(doc);
}

static void test_list_of_servers_of_an_unknown_farm_is_404(void **state)
{
	json_t *doc = base();
	struct edit_err e;

	(void)state;
	expect_err(list(doc, "tcp/farm/7/server", &e), &e, 404, "no farm 7 in tcp", "tcp farm 7");
	expect_err(list(doc, "udp/farm/1/server", &e), &e, 404, "no farm 1 in udp",
		   "farm 1 exists in tcp only");
	expect_err(list(doc, "http/farm/1/server", &e), &e, 404, "no farm 1 in http",
		   "empty layer");
	json_decref(doc);
}

static void test_get_answers_a_copy_with_every_effective_value(void **state)
{
	json_t *doc = base(), *before = json_deep_copy(doc), *farm;
	struct edit_err e;

	(void)state;
	expect_resource(doc, "tcp/frontend/4",
			"{'frontendId': 4, 'address': '198.18.100.2', 'port': '80',"
			" 'defaultFarmId': 2, 'allowedSource': [], 'disabled': false}");
	expect_resource(doc, "tcp/farm/1/server/3",
			"{'serverId': 3, 'address': '198.18.1.13', 'weight': 5, 'status': 'active',"
			" 'backup': false, 'probe': false}");
	/* a farm without its servers: they are resources of their own */
	expect_resource(doc, "tcp/farm/1",
			"{'farmId': 1, 'balance': 'roundrobin', 'stickiness': null,"
			" 'forwarding': 'dsr', 'probe': {'type': 'tcp', 'interval': 2,"
			" 'timeout': 2, 'match': 'default', 'negate': false, 'forceSsl': false,"
			" 'rise': 2, 'fall': 3}}");
	expect_resource(doc, "udp/farm/5",
			"{'farmId': 5, 'balance': 'roundrobin', 'stickiness': null,"
			" 'forwarding': 'dsr'}");

	/* the answer is the caller's to change */
	farm = get(doc, "tcp/farm/2", &e);
	expect_ok(farm, &e, "tcp/farm/2");
	json_object_set_new(farm, "balance", json_string("first"));
	json_decref(farm);
	assert_true(json_equal(doc, before));
	json_decref(before);
	json_decref(doc);
}

static void test_get_of_an_unknown_resource_is_404_naming_it(void **state)
{
	json_t *doc = base();

	(void)state;
	expect_absent(doc, "tcp/frontend/9", "no frontend 9 in tcp");
	expect_absent(doc, "udp/frontend/4", "no frontend 4 in udp");
	expect_absent(doc, "tcp/farm/9", "no farm 9 in tcp");
	expect_absent(doc, "http/farm/1", "no farm 1 in http");
	expect_absent(doc, "tcp/farm/1/server/2", "no server 2 in tcp farm 1");
	expect_absent(doc, "tcp/farm/9/server/1", "no farm 9 in tcp");
	expect_absent(doc, "udp/farm/5/server/1", "no server 1 in udp farm 5");
	json_decref(doc);
}

/* --- POST -------------------------------------------------------------------------------- */

static void test_create_assigns_the_highest_id_plus_one(void **state)
{
	json_t *doc = base();

	(void)state;
	doc = then_create(doc, "tcp/frontend",
			  "{'address': '198.18.100.3', 'port': '443', 'defaultFarmId': 1}", 5);
	doc = then_create(doc, "tcp/farm", "{'displayName': 'new'}", 3);
	doc = then_create(doc, "tcp/farm/1/server", "{'address': '198.18.1.14'}", 4);
	doc = then_create(doc, "tcp/farm/2/server", "{'address': '198.18.2.13'}", 3);
	doc = then_create(doc, "udp/farm", "{}", 6);
	expect_list(doc, "tcp/frontend", "[1, 4, 5]");
	expect_list(doc, "tcp/farm", "[1, 2, 3]");
	expect_list(doc, "tcp/farm/1/server", "[1, 3, 4]");
	expect_resource(doc, "tcp/frontend/5",
			"{'frontendId': 5, 'address': '198.18.100.3', 'port': '443',"
			" 'defaultFarmId': 1}");
	expect_resource(doc, "tcp/farm/3", "{'farmId': 3, 'displayName': 'new'}");
	expect_resource(doc, "tcp/farm/1/server/4", "{'serverId': 4, 'address': '198.18.1.14'}");
	json_decref(doc);
}

static void test_create_in_an_empty_collection_assigns_1(void **state)
{
	json_t *doc = base();

	(void)state;
	doc = then_create(doc, "udp/farm/5/server", "{'address': '198.18.5.1'}", 1);
	doc = then_create(doc, "http/frontend", "{}", 1);
	doc = then_create(doc, "http/farm", "{}", 1);
	doc = then_create(doc, "http/farm/1/server", "{}", 1);
	expect_list(doc, "udp/farm/5/server", "[1]");
	expect_list(doc, "http/farm/1/server", "[1]");
	json_decref(doc);
}

static void test_create_keeps_the_id_given_in_the_body(void **state)
{
	json_t *doc = base(), *arr;

	(void)state;
	doc = then_create(doc, "tcp/farm/1/server", "{'serverId': 10, 'address': '198.18.1.20'}",
			  10);
	doc = then_create(doc, "tcp/frontend", "{'frontendId': 2, 'address': '198.18.100.9',"
			  " 'port': '80', 'defaultFarmId': 1}", 2);
	doc = then_create(doc, "tcp/farm", "{'farmId': 4294967295}", UINT32_MAX);
	/* a null id is an absent one: assigned */
	doc = then_create(doc, "udp/frontend", "{'frontendId': null}", 2);
	expect_resource(doc, "tcp/farm/1/server/10", "{'serverId': 10, 'address': '198.18.1.20'}");
	expect_list(doc, "tcp/frontend", "[1, 2, 4]");
	/* appended: the order of the user's document is kept; a farm gets an empty server list */
	arr = json_object_get(json_object_get(doc, "tcp"), "farm");
	expect_json(json_array_get(arr, json_array_size(arr) - 1),
		    "{'farmId': 4294967295, 'server': []}", "the farm created, in the document");
	json_decref(doc);
}

static void test_create_leaves_null_fields_out(void **state)
{
	json_t *doc = base();

	(void)state;
	doc = then_create(doc, "tcp/farm/2/server",
			  "{'address': '198.18.2.13', 'weight': null, 'displayName': null}", 3);
	expect_resource(doc, "tcp/farm/2/server/3", "{'serverId': 3, 'address': '198.18.2.13'}");
	json_decref(doc);
}

static void test_create_with_an_existing_id_is_409(void **state)
{
	json_t *doc = base();
	struct edit_err e;
	uint32_t id = 99;

	(void)state;
	expect_err(create(doc, "tcp/frontend", "{'frontendId': 4}", &id, &e), &e, 409,
		   "frontendId 4 exists already in tcp", "frontend");
	expect_err(create(doc, "tcp/farm", "{'farmId': 2}", &id, &e), &e, 409,
		   "farmId 2 exists already in tcp", "farm");
	expect_err(create(doc, "tcp/farm/1/server", "{'serverId': 3}", &id, &e), &e, 409,
		   "serverId 3 exists already in tcp farm 1", "server");
	expect_err(create(doc, "udp/farm", "{'farmId': 5}", &id, &e), &e, 409,
		   "farmId 5 exists already in udp", "udp farm");
	assert_int_equal(id, 99);
	json_decref(doc);
}

static void test_create_with_an_id_that_is_not_one_is_400(void **state)
{
	static const struct {
		const char *body, *msg;
	} cases[] = {
		{ "{'farmId': 0}", "farmId must be an integer in 1..4294967295, got 0" },
		{ "{'farmId': -1}", "farmId must be an integer in 1..4294967295, got -1" },
		{ "{'farmId': 4294967296}",
		  "farmId must be an integer in 1..4294967295, got 4294967296" },
		{ "{'farmId': '7'}", "farmId must be an integer in 1..4294967295, got \"7\"" },
		{ "{'farmId': 1.5}", "farmId must be an integer in 1..4294967295, got 1.5" },
		{ "{'farmId': true}", "farmId must be an integer in 1..4294967295, got true" },
		{ "{'farmId': [3]}", "farmId must be an integer in 1..4294967295, got [3]" },
		{ "{'farmId': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}",
		  "farmId must be an integer in 1..4294967295, got "
		  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..." },
	};
	json_t *doc = base();
	struct edit_err e;
	uint32_t id;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_err(create(doc, "tcp/farm", cases[i].body, &id, &e), &e, 400, cases[i].msg,
			   cases[i].body);
	expect_err(create(doc, "tcp/farm/1/server", "{'serverId': 'x'}", &id, &e), &e, 400,
		   "serverId must be an integer in 1..4294967295, got \"x\"", "server");
	expect_err(create(doc, "tcp/frontend", "{'frontendId': 0}", &id, &e), &e, 400,
		   "frontendId must be an integer in 1..4294967295, got 0", "frontend");
	json_decref(doc);
}

static void test_create_past_the_highest_possible_id_needs_an_explicit_one(void **state)
{
	json_t *doc = doc_new("{'serviceName': 'demo', 'tcp': {'farm': [{'farmId': 4294967295}]}}");
	struct edit_err e;
	uint32_t id;

	(void)state;
	expect_err(create(doc, "tcp/farm", "{}", &id, &e), &e, 409,
		   "no farmId left to assign in tcp: give one in the body", "farm");
	doc = then_create(doc, "tcp/farm", "{'farmId': 1}", 1);
	json_decref(doc);
}

static void test_create_of_a_server_in_an_unknown_farm_is_404(void **state)
{
	json_t *doc = base();
	struct edit_err e;
	uint32_t id;

	(void)state;
	expect_err(create(doc, "tcp/farm/7/server", "{'address': '198.18.1.1'}", &id, &e), &e,
		   404, "no farm 7 in tcp", "tcp farm 7");
	expect_err(create(doc, "http/farm/1/server", "{}", &id, &e), &e, 404,
		   "no farm 1 in http", "empty layer");
	json_decref(doc);
}

static void test_create_refuses_a_body_that_is_not_an_object(void **state)
{
	static const struct {
		const char *path, *body, *msg;
	} cases[] = {
		{ "tcp/farm", "[1]", "a farm must be given as a JSON object, got [1]" },
		{ "tcp/frontend", "'x'", "a frontend must be given as a JSON object, got \"x\"" },
		{ "tcp/farm/1/server", "3", "a server must be given as a JSON object, got 3" },
		{ "tcp/farm", "null", "a farm must be given as a JSON object, got null" },
	};
	struct res_ref r = ref("tcp/farm");
	json_t *doc = base();
	struct edit_err e;
	uint32_t id;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_err(create(doc, cases[i].path, cases[i].body, &id, &e), &e, 400,
			   cases[i].msg, cases[i].body);
	expect_err(res_create(doc, &r, NULL, &id, &e), &e, 400,
		   "a farm must be given as a JSON object, got no body", "no body");
	json_decref(doc);
}

static void test_create_refuses_servers_in_a_farm_body(void **state)
{
	static const char msg[] = "\"server\" is not a field of a farm's body: servers are edited "
				  "under /tcp/farm/{farmId}/server";
	json_t *doc = base();
	struct edit_err e;
	uint32_t id;

	(void)state;
	expect_err(create(doc, "tcp/farm", "{'server': [{'serverId': 1, 'address': '198.18.1.1'}]}",
			  &id, &e), &e, 400, msg, "a server list");
	expect_err(create(doc, "tcp/farm", "{'server': []}", &id, &e), &e, 400, msg,
		   "an empty server list");
	expect_err(create(doc, "tcp/farm", "{'server': null}", &id, &e), &e, 400, msg,
		   "a null server list");
	json_decref(doc);
}

/* --- PUT --------------------------------------------------------------------------------- */

static void test_update_merges_the_body_and_keeps_other_fields(void **state)
{
	json_t *doc = base();

	(void)state;
	doc = then_update(doc, "tcp/farm/1/server/3", "{'weight': 7, 'displayName': 'b'}");
	expect_resource(doc, "tcp/farm/1/server/3",
			"{'serverId': 3, 'address': '198.18.1.13', 'weight': 7, 'status': 'active',"
			" 'backup': false, 'probe': false, 'displayName': 'b'}");
	doc = then_update(doc, "tcp/frontend/1", "{'port': '80,443', 'frontendId': 1}");
	expect_resource(doc, "tcp/frontend/1",
			"{'frontendId': 1, 'address': '198.18.100.1', 'port': '80,443',"
			" 'defaultFarmId': 1, 'allowedSource': [], 'disabled': false}");
	/* a nested object is a field: replaced whole */
	doc = then_update(doc, "tcp/farm/1", "{'probe': {'type': 'http', 'url': '/health'},"
			  " 'farmId': 1}");
	expect_resource(doc, "tcp/farm/1",
			"{'farmId': 1, 'balance': 'roundrobin', 'stickiness': null,"
			" 'forwarding': 'dsr', 'probe': {'type': 'http', 'url': '/health'}}");
	/* an empty body changes nothing */
	doc = then_update(doc, "udp/farm/5", "{}");
	expect_resource(doc, "udp/farm/5",
			"{'farmId': 5, 'balance': 'roundrobin', 'stickiness': null,"
			" 'forwarding': 'dsr'}");
	json_decref(doc);
}

static void test_update_of_a_farm_keeps_its_servers(void **state)
{
	json_t *doc = base();

	(void)state;
	doc = then_update(doc, "tcp/farm/1", "{'displayName': 'web'}");
	expect_list(doc, "tcp/farm/1/server", "[1, 3]");
	expect_resource(doc, "tcp/farm/1/server/3",
			"{'serverId': 3, 'address': '198.18.1.13', 'weight': 5, 'status': 'active',"
			" 'backup': false, 'probe': false}");
	json_decref(doc);
}

static void test_update_with_null_removes_the_field_so_its_default_applies(void **state)
{
	json_t *doc = base();
	struct config *c;

	(void)state;
	doc = then_update(doc, "tcp/farm/1/server/3", "{'weight': null, 'displayName': null}");
	expect_resource(doc, "tcp/farm/1/server/3",
			"{'serverId': 3, 'address': '198.18.1.13', 'status': 'active',"
			" 'backup': false, 'probe': false}");
	doc = then_update(doc, "tcp/farm/1", "{'probe': null}");
	expect_resource(doc, "tcp/farm/1",
			"{'farmId': 1, 'balance': 'roundrobin', 'stickiness': null,"
			" 'forwarding': 'dsr'}");
	expect_valid(doc, "after null removals", &c);
	assert_int_equal(c->layer[CFG_TCP].farms[1].servers[0].weight, 1);
	assert_false(c->layer[CFG_TCP].farms[1].probe.present);
	config_free(c);
	json_decref(doc);
}

static void test_update_with_an_id_other_than_the_paths_is_400(void **state)
{
	json_t *doc = base();
	struct edit_err e;

	(void)state;
	expect_err(update(doc, "tcp/farm/1", "{'farmId': 2}", &e), &e, 400,
		   "farmId in the body (2) differs from the path's (1)", "farm");
	expect_err(update(doc, "tcp/frontend/4", "{'frontendId': '4'}", &e), &e, 400,
		   "frontendId in the body (\"4\") differs from the path's (4)", "a string id");
	expect_err(update(doc, "tcp/farm/1/server/3", "{'serverId': null}", &e), &e, 400,
		   "serverId in the body (null) differs from the path's (3)", "a null id");
	expect_err(update(doc, "tcp/farm/1/server/3", "{'serverId': 3.0}", &e), &e, 400,
		   "serverId in the body (3.0) differs from the path's (3)", "a real id");
	json_decref(doc);
}

static void test_update_refuses_servers_in_a_farm_body(void **state)
{
	static const char msg[] = "\"server\" is not a field of a farm's body: servers are edited "
				  "under /udp/farm/{farmId}/server";
	json_t *doc = base();
	struct edit_err e;

	(void)state;
	expect_err(update(doc, "udp/farm/5", "{'server': []}", &e), &e, 400, msg, "server list");
	expect_err(update(doc, "udp/farm/5", "{'server': null}", &e), &e, 400, msg,
		   "null would drop every server");
	json_decref(doc);
}

static void test_update_of_an_unknown_resource_is_404(void **state)
{
	json_t *doc = base();
	struct edit_err e;

	(void)state;
	expect_err(update(doc, "tcp/frontend/2", "{}", &e), &e, 404, "no frontend 2 in tcp",
		   "frontend");
	expect_err(update(doc, "udp/farm/1", "{}", &e), &e, 404, "no farm 1 in udp", "farm");
	expect_err(update(doc, "tcp/farm/2/server/3", "{}", &e), &e, 404,
		   "no server 3 in tcp farm 2", "server");
	expect_err(update(doc, "tcp/farm/3/server/1", "{}", &e), &e, 404, "no farm 3 in tcp",
		   "server of an unknown farm");
	json_decref(doc);
}

static void test_update_refuses_a_body_that_is_not_an_object(void **state)
{
	json_t *doc = base();
	struct edit_err e;

	(void)state;
	expect_err(update(doc, "tcp/farm/1/server/3", "[{'weight': 2}]", &e), &e, 400,
		   "a server must be given as a JSON object, got [{\"weight\":2}]", "array");
	expect_err(update(doc, "tcp/frontend/1", "false", &e), &e, 400,
		   "a frontend must be given as a JSON object, got false", "boolean");
	json_decref(doc);
}

/* --- DELETE ------------------------------------------------------------------------------ */

static void test_delete_removes_that_resource_only(void **state)
{
	json_t *doc = base();

	(void)state;
	doc = then_delete(doc, "tcp/farm/1/server/3");
	expect_list(doc, "tcp/farm/1/server", "[1]");
	expect_list(doc, "tcp/farm/2/server", "[1, 2]");
	doc = then_delete(doc, "tcp/frontend/4");
	expect_list(doc, "tcp/frontend", "[1]");
	expect_list(doc, "udp/frontend", "[1]");
	doc = then_delete(doc, "tcp/farm/2");
	expect_list(doc, "tcp/farm", "[1]");
	expect_absent(doc, "tcp/farm/2/server/1", "no farm 2 in tcp");
	doc = then_delete(doc, "udp/farm/5");
	expect_list(doc, "udp/farm", "[]");
	expect_resource(doc, "tcp/farm/1/server/1",
			"{'serverId': 1, 'address': '198.18.1.11', 'weight': 1, 'status': 'active',"
			" 'backup': false, 'probe': false}");
	json_decref(doc);
}

static void test_delete_of_an_unknown_resource_is_404(void **state)
{
	json_t *doc = base();
	struct edit_err e;

	(void)state;
	expect_err(del(doc, "udp/frontend/4", &e), &e, 404, "no frontend 4 in udp", "frontend");
	expect_err(del(doc, "tcp/farm/5", &e), &e, 404, "no farm 5 in tcp", "farm");
	expect_err(del(doc, "udp/farm/5/server/1", &e), &e, 404, "no server 1 in udp farm 5",
		   "server");
	expect_err(del(doc, "http/farm/1/server/1", &e), &e, 404, "no farm 1 in http",
		   "server of an unknown farm");
	json_decref(doc);
}

/* --- every verb -------------------------------------------------------------------------- */

static void test_a_verb_on_the_wrong_kind_of_path_is_405(void **state)
{
	struct res_ref coll = ref("tcp/farm"), one = ref("tcp/farm/1/server/3");
	json_t *doc = base(), *body = json_object();
	struct edit_err e;
	uint32_t id;

	(void)state;
	expect_err(res_list(doc, &one, &e), &e, 405,
		   "GET (list) needs a collection path, got tcp/farm/1/server/3", "list");
	expect_err(res_get(doc, &coll, &e), &e, 405, "GET needs a resource path, got tcp/farm",
		   "get");
	expect_err(res_create(doc, &one, body, &id, &e), &e, 405,
		   "POST needs a collection path, got tcp/farm/1/server/3", "create");
	expect_err(res_update(doc, &coll, body, &e), &e, 405,
		   "PUT needs a resource path, got tcp/farm", "update");
	expect_err(res_delete(doc, &coll, &e), &e, 405,
		   "DELETE needs a resource path, got tcp/farm", "delete");
	json_decref(body);
	json_decref(doc);
}

static void test_no_verb_changes_its_input_document_or_body(void **state)
{
	static const char *const bodies[] = {
		"{'weight': null, 'displayName': 'x', 'probe': {'type': 'tcp'}}", "{'serverId': 3}",
		"{'farmId': 1}", "{}", "[1]",
	};
	static const char *const paths[] = {
		"tcp/frontend", "tcp/frontend/4", "tcp/farm", "tcp/farm/1", "tcp/farm/2/server",
		"tcp/farm/1/server/3", "tcp/farm/9/server", "tcp/farm/9/server/1", "http/farm",
		"udp/farm/5/server", "udp/farm/5/server/1",
	};
	json_t *doc = base(), *doc0 = json_deep_copy(doc);
	struct edit_err e;
	uint32_t id;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		struct res_ref r = ref(paths[i]);

		json_decref(res_list(doc, &r, &e));
		json_decref(res_get(doc, &r, &e));
		json_decref(res_delete(doc, &r, &e));
		for (size_t j = 0; j < ARRAY_SIZE(bodies); j++) {
			json_t *body = json_sq(bodies[j]), *body0 = json_deep_copy(body);

			json_decref(res_create(doc, &r, body, &id, &e));
			json_decref(res_update(doc, &r, body, &e));
			if (!json_equal(body, body0))
				fail_msg("%s with %s: the body changed", paths[i], bodies[j]);
			json_decref(body);
			json_decref(body0);
		}
		if (!json_equal(doc, doc0))
			fail_msg("%s: a verb changed its input document", paths[i]);
	}
	json_decref(doc0);
	json_decref(doc);
}

/* --- with the real validator ------------------------------------------------------------- */

static void test_valid_edits_give_documents_the_validator_accepts(void **state)
{
	json_t *doc = base();
	struct config *c;

	(void)state;
	doc = then_create(doc, "tcp/farm", "{'balance': 'source', 'stickiness': 'sourceIp',"
			  " 'probe': {'type': 'http', 'url': '/health', 'interval': 5}}", 3);
	expect_valid(doc, "farm created", NULL);
	doc = then_create(doc, "tcp/farm/3/server", "{'address': '198.18.3.11', 'weight': 20}", 1);
	doc = then_create(doc, "tcp/farm/3/server", "{'address': '198.18.3.12', 'status':"
			  " 'inactive'}", 2);
	expect_valid(doc, "servers created", NULL);
	doc = then_create(doc, "tcp/frontend", "{'address': '198.18.100.3', 'port': '443',"
			  " 'defaultFarmId': 3, 'allowedSource': ['198.18.0.0/15']}", 5);
	expect_valid(doc, "frontend created", NULL);
	doc = then_update(doc, "tcp/farm/3/server/1", "{'weight': 256}");
	doc = then_update(doc, "tcp/frontend/5", "{'disabled': true}");
	doc = then_delete(doc, "tcp/farm/3/server/2");
	expect_valid(doc, "after updates and a delete", &c);
	assert_int_equal(c->layer[CFG_TCP].nfarms, 3);
	assert_int_equal(c->layer[CFG_TCP].farms[2].id, 3);
	assert_int_equal(c->layer[CFG_TCP].farms[2].nservers, 1);
	assert_int_equal(c->layer[CFG_TCP].farms[2].servers[0].weight, 256);
	assert_true(c->layer[CFG_TCP].frontends[2].disabled);
	config_free(c);
	json_decref(doc);
}

static void test_an_edit_that_breaks_the_config_fails_validation_naming_the_path(void **state)
{
	json_t *doc = base(), *bad;

	(void)state;
	bad = then_update(json_incref(doc), "tcp/farm/1/server/3", "{'weight': 300}");
	expect_invalid(bad, "tcp.farm[1].server[0].weight: 300 is out of range 1..256",
		       "weight 300");
	json_decref(bad);
	bad = then_create(json_incref(doc), "tcp/farm/2/server",
			  "{'address': '198.18.2.13', 'wieght': 2}", 3);
	expect_invalid(bad, "tcp.farm[0].server[2]: unknown field \"wieght\" (did you mean "
		       "\"weight\"?)", "a typo");
	json_decref(bad);
	bad = then_delete(json_incref(doc), "tcp/farm/2");
	expect_invalid(bad, "tcp.frontend[0].defaultFarmId: no farm 2 in tcp",
		       "a farm still in use");
	json_decref(bad);
	json_decref(doc);
}

/* --- config_diff ------------------------------------------------------------------------- */

static void test_diff_of_equal_documents_is_empty(void **state)
{
	json_t *doc = base(), *copy = json_deep_copy(doc);

	(void)state;
	expect_diff(doc, doc, "[]", "the same document");
	expect_diff(doc, copy, "[]", "a copy");
	expect_diff(NULL, NULL, "[]", "two empty documents");
	json_decref(copy);
	json_decref(doc);
}

static void test_diff_lists_creates_updates_and_deletes_of_each_kind(void **state)
{
	json_t *from = base(), *to = json_incref(from);

	(void)state;
	to = then_create(to, "tcp/frontend", "{'address': '198.18.100.3', 'port': '443',"
			 " 'defaultFarmId': 2}", 5);
	to = then_update(to, "tcp/frontend/4", "{'port': '8080', 'displayName': 'web'}");
	to = then_delete(to, "tcp/frontend/1");
	to = then_create(to, "tcp/farm", "{}", 3);
	to = then_update(to, "tcp/farm/2", "{'balance': 'roundrobin'}");
	to = then_delete(to, "tcp/farm/1");
	to = then_create(to, "tcp/farm/2/server", "{'address': '198.18.2.13'}", 3);
	to = then_update(to, "tcp/farm/2/server/1", "{'weight': 9}");
	to = then_delete(to, "tcp/farm/2/server/2");
	to = then_update(to, "udp/frontend/1", "{'port': '5353'}");
	expect_diff(from, to,
		    "[{'resource': '/tcp/frontend/1', 'action': 'delete'},"
		    " {'resource': '/tcp/frontend/4', 'action': 'update',"
		    "  'fields': ['displayName', 'port']},"
		    " {'resource': '/tcp/frontend/5', 'action': 'create'},"
		    " {'resource': '/tcp/farm/1', 'action': 'delete'},"
		    " {'resource': '/tcp/farm/1/server/1', 'action': 'delete'},"
		    " {'resource': '/tcp/farm/1/server/3', 'action': 'delete'},"
		    " {'resource': '/tcp/farm/2', 'action': 'update', 'fields': ['balance']},"
		    " {'resource': '/tcp/farm/2/server/1', 'action': 'update',"
		    "  'fields': ['weight']},"
		    " {'resource': '/tcp/farm/2/server/2', 'action': 'delete'},"
		    " {'resource': '/tcp/farm/2/server/3', 'action': 'create'},"
		    " {'resource': '/tcp/farm/3', 'action': 'create'},"
		    " {'resource': '/udp/frontend/1', 'action': 'update', 'fields': ['port']}]",
		    "an edit of each kind");
	/* and the other way round: every create is a delete */
	expect_diff(to, from,
		    "[{'resource': '/tcp/frontend/1', 'action': 'create'},"
		    " {'resource': '/tcp/frontend/4', 'action': 'update',"
		    "  'fields': ['displayName', 'port']},"
		    " {'resource': '/tcp/frontend/5', 'action': 'delete'},"
		    " {'resource': '/tcp/farm/1', 'action': 'create'},"
		    " {'resource': '/tcp/farm/1/server/1', 'action': 'create'},"
		    " {'resource': '/tcp/farm/1/server/3', 'action': 'create'},"
		    " {'resource': '/tcp/farm/2', 'action': 'update', 'fields': ['balance']},"
		    " {'resource': '/tcp/farm/2/server/1', 'action': 'update',"
		    "  'fields': ['weight']},"
		    " {'resource': '/tcp/farm/2/server/2', 'action': 'create'},"
		    " {'resource': '/tcp/farm/2/server/3', 'action': 'delete'},"
		    " {'resource': '/tcp/farm/3', 'action': 'delete'},"
		    " {'resource': '/udp/frontend/1', 'action': 'update', 'fields': ['port']}]",
		    "the edits undone");
	json_decref(to);
	json_decref(from);
}

static void test_diff_field_names_are_sorted_and_include_added_and_removed_ones(void **state)
{
	json_t *from = base(), *to;

	(void)state;
	to = then_update(json_incref(from), "tcp/farm/1/server/3",
			 "{'weight': null, 'status': 'inactive', 'displayName': 'c',"
			 " 'backup': true, 'probe': false}");
	expect_diff(from, to,
		    "[{'resource': '/tcp/farm/1/server/3', 'action': 'update',"
		    "  'fields': ['backup', 'displayName', 'status', 'weight']}]",
		    "a server's fields");
	json_decref(to);
	to = then_update(json_incref(from), "tcp/farm/1",
			 "{'stickiness': 'sourceIp', 'probe': {'type': 'tcp', 'interval': 3},"
			 " 'balance': 'source', 'displayName': 'a'}");
	expect_diff(from, to,
		    "[{'resource': '/tcp/farm/1', 'action': 'update',"
		    "  'fields': ['balance', 'displayName', 'probe', 'stickiness']}]",
		    "a farm's fields, a nested one counted once");
	json_decref(to);
	json_decref(from);
}

static void test_diff_of_service_fields_is_resource_root_listed_first(void **state)
{
	json_t *from = base(), *to = json_deep_copy(from);

	(void)state;
	json_object_set_new(to, "zone", json_string("rbx"));
	json_object_set_new(to, "hashSeed", json_string("00000000000000aa"));
	assert_int_equal(json_array_remove(json_object_get(json_object_get(to, "udp"),
							   "frontend"), 0), 0);
	expect_diff(from, to,
		    "[{'resource': '/', 'action': 'update', 'fields': ['hashSeed', 'zone']},"
		    " {'resource': '/udp/frontend/1', 'action': 'delete'}]",
		    "zone and hashSeed");
	json_decref(to);
	json_decref(from);
}

static void test_diff_does_not_list_a_farm_whose_servers_only_changed(void **state)
{
	json_t *from = base(), *to;

	(void)state;
	to = then_update(json_incref(from), "tcp/farm/1/server/3", "{'weight': 6}");
	to = then_create(to, "tcp/farm/1/server", "{'address': '198.18.1.14'}", 4);
	expect_diff(from, to,
		    "[{'resource': '/tcp/farm/1/server/3', 'action': 'update',"
		    "  'fields': ['weight']},"
		    " {'resource': '/tcp/farm/1/server/4', 'action': 'create'}]",
		    "server changes only");
	json_decref(to);
	json_decref(from);
}

static void test_diff_orders_by_layer_then_frontends_then_farms_with_their_servers(void **state)
{
	json_t *from = base(), *to;

	(void)state;
	/* made in the reverse of the expected order */
	to = then_create(json_incref(from), "udp/farm/5/server", "{'address': '198.18.5.1'}", 1);
	to = then_update(to, "udp/frontend/1", "{'disabled': true}");
	to = then_update(to, "tcp/farm/2/server/2", "{'weight': 2}");
	to = then_update(to, "tcp/farm/2", "{'displayName': 'b'}");
	to = then_update(to, "tcp/farm/1/server/3", "{'weight': 2}");
	to = then_update(to, "tcp/farm/1/server/1", "{'weight': 2}");
	to = then_update(to, "tcp/farm/1", "{'displayName': 'a'}");
	to = then_update(to, "tcp/frontend/4", "{'disabled': true}");
	to = then_update(to, "tcp/frontend/1", "{'disabled': true}");
	json_object_set_new(to, "zone", json_string("gra"));
	expect_diff(from, to,
		    "[{'resource': '/', 'action': 'update', 'fields': ['zone']},"
		    " {'resource': '/tcp/frontend/1', 'action': 'update', 'fields': ['disabled']},"
		    " {'resource': '/tcp/frontend/4', 'action': 'update', 'fields': ['disabled']},"
		    " {'resource': '/tcp/farm/1', 'action': 'update', 'fields': ['displayName']},"
		    " {'resource': '/tcp/farm/1/server/1', 'action': 'update',"
		    "  'fields': ['weight']},"
		    " {'resource': '/tcp/farm/1/server/3', 'action': 'update',"
		    "  'fields': ['weight']},"
		    " {'resource': '/tcp/farm/2', 'action': 'update', 'fields': ['displayName']},"
		    " {'resource': '/tcp/farm/2/server/2', 'action': 'update',"
		    "  'fields': ['weight']},"
		    " {'resource': '/udp/frontend/1', 'action': 'update', 'fields': ['disabled']},"
		    " {'resource': '/udp/farm/5/server/1', 'action': 'create'}]",
		    "the order of changes");
	json_decref(to);
	json_decref(from);
}

/* The diff of the base document against no document: the service's fields, then every
 * resource with action. */
static json_t *everything(const char *action)
{
	static const char *const all[] = {
		"/tcp/frontend/1", "/tcp/frontend/4", "/tcp/farm/1", "/tcp/farm/1/server/1",
		"/tcp/farm/1/server/3", "/tcp/farm/2", "/tcp/farm/2/server/1",
		"/tcp/farm/2/server/2", "/udp/frontend/1", "/udp/farm/5",
	};
	json_t *want = json_sq("[{'resource': '/', 'action': 'update',"
			       " 'fields': ['hashSeed', 'serviceName', 'zone']}]");

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		assert_int_equal(json_array_append_new(want, json_pack("{s:s, s:s}", "resource",
								       all[i], "action", action)),
				 0);
	return want;
}

static void test_diff_against_no_document_creates_or_deletes_everything(void **state)
{
	json_t *doc = base(), *want, *got;

	(void)state;
	want = everything("create");
	got = config_diff(NULL, doc);
	expect_same(got, want, "from nothing");
	json_decref(got);
	json_decref(want);
	want = everything("delete");
	got = config_diff(doc, NULL);
	expect_same(got, want, "to nothing");
	json_decref(got);
	json_decref(want);
	json_decref(doc);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_res_parse_accepts_every_resource_path),
		cmocka_unit_test(test_res_parse_rejects_malformed_paths_and_leaves_ref_alone),
		cmocka_unit_test(test_res_parse_accepts_only_canonical_spellings_of_mutated_paths),
		cmocka_unit_test(test_list_answers_ids_ascending_in_each_collection),
		cmocka_unit_test(test_list_of_servers_of_an_unknown_farm_is_404),
		cmocka_unit_test(test_get_answers_a_copy_with_every_effective_value),
		cmocka_unit_test(test_get_of_an_unknown_resource_is_404_naming_it),
		cmocka_unit_test(test_create_assigns_the_highest_id_plus_one),
		cmocka_unit_test(test_create_in_an_empty_collection_assigns_1),
		cmocka_unit_test(test_create_keeps_the_id_given_in_the_body),
		cmocka_unit_test(test_create_leaves_null_fields_out),
		cmocka_unit_test(test_create_with_an_existing_id_is_409),
		cmocka_unit_test(test_create_with_an_id_that_is_not_one_is_400),
		cmocka_unit_test(test_create_past_the_highest_possible_id_needs_an_explicit_one),
		cmocka_unit_test(test_create_of_a_server_in_an_unknown_farm_is_404),
		cmocka_unit_test(test_create_refuses_a_body_that_is_not_an_object),
		cmocka_unit_test(test_create_refuses_servers_in_a_farm_body),
		cmocka_unit_test(test_update_merges_the_body_and_keeps_other_fields),
		cmocka_unit_test(test_update_of_a_farm_keeps_its_servers),
		cmocka_unit_test(test_update_with_null_removes_the_field_so_its_default_applies),
		cmocka_unit_test(test_update_with_an_id_other_than_the_paths_is_400),
		cmocka_unit_test(test_update_refuses_servers_in_a_farm_body),
		cmocka_unit_test(test_update_of_an_unknown_resource_is_404),
		cmocka_unit_test(test_update_refuses_a_body_that_is_not_an_object),
		cmocka_unit_test(test_delete_removes_that_resource_only),
		cmocka_unit_test(test_delete_of_an_unknown_resource_is_404),
		cmocka_unit_test(test_a_verb_on_the_wrong_kind_of_path_is_405),
		cmocka_unit_test(test_no_verb_changes_its_input_document_or_body),
		cmocka_unit_test(test_valid_edits_give_documents_the_validator_accepts),
		cmocka_unit_test(test_an_edit_that_breaks_the_config_fails_validation_naming_the_path),
		cmocka_unit_test(test_diff_of_equal_documents_is_empty),
		cmocka_unit_test(test_diff_lists_creates_updates_and_deletes_of_each_kind),
		cmocka_unit_test(test_diff_field_names_are_sorted_and_include_added_and_removed_ones),
		cmocka_unit_test(test_diff_of_service_fields_is_resource_root_listed_first),
		cmocka_unit_test(test_diff_does_not_list_a_farm_whose_servers_only_changed),
		cmocka_unit_test(test_diff_orders_by_layer_then_frontends_then_farms_with_their_servers),
		cmocka_unit_test(test_diff_against_no_document_creates_or_deletes_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
