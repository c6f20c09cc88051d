// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the config document and the API's resource edits, the two ways untrusted
 * JSON reaches limpetd (a config file or SIGHUP, and the REST API).
 *
 * Each input is used twice:
 *   1. whole, as a config document: config_parse(); the same tree through config_from_json()
 *      must answer alike; a config that parsed must survive config_to_json() and a parse of
 *      its dump unchanged (the canonical document is what the daemon stages and persists).
 *   2. split at the first newline into an API path ("tcp/farm/1/server/2", as res_parse()
 *      takes it) and a JSON body: the path parsed, then every verb run against a fixed valid
 *      document, each new document validated, canonicalised and diffed as the daemon does. The
 *      path "config" stands for PUT …/config: the body is a whole document.
 *
 * Each edit, diff and canonical document is made a second time with one of jansson's
 * allocations failing (which one: a hash of the input): the result must be the same, or the
 * failure reported (NULL, 500), never a document silently missing a part, nor a leak.
 *
 * A sanitizer report is a crash; so is a broken invariant of the module's contract
 * (config.h, edit.h), which names itself on stderr before trapping.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "config/edit.h"

#define PATH_MAX_LEN	128	/* longer than any path res_parse accepts */

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			broken(__LINE__, what);                                                    \
	} while (0)

static void __attribute__((noreturn)) broken(int line, const char *what)
{
	fprintf(stderr, "fuzz_config.c:%d: invariant broken: %s\n", line, what);
	__builtin_trap();
}

/* The document the API verbs edit: small, valid, both families, every layer, a farm without
 * frontend, servers with and without ports, the highest id (canonicalised once, as the daemon
 * stages it). */
static const char base_text[] =
	"{\"serviceName\": \"fuzz\", \"zone\": \"gra\", \"hashSeed\": \"00000000deadbeef\","
	" \"tcp\": {\"frontend\": ["
	"  {\"frontendId\": 1, \"address\": \"198.18.100.1\", \"port\": \"80\","
	"   \"defaultFarmId\": 1, \"allowedSource\": [\"198.18.0.0/15\"]},"
	"  {\"frontendId\": 2, \"displayName\": \"v6\", \"address\": \"2001:db8::1\","
	"   \"port\": \"443,8000-8100\", \"defaultFarmId\": 2, \"disabled\": true}],"
	"  \"farm\": ["
	"  {\"farmId\": 1, \"balance\": \"source\", \"stickiness\": \"sourceIp\","
	"   \"forwarding\": \"ipip\", \"probe\": {\"type\": \"http\", \"url\": \"/health\","
	"   \"match\": \"status\", \"pattern\": \"200\"},"
	"   \"server\": [{\"serverId\": 1, \"address\": \"198.18.1.11\", \"port\": 80,"
	"    \"weight\": 2}, {\"serverId\": 2, \"address\": \"198.18.1.12\","
	"    \"status\": \"inactive\"}]},"
	"  {\"farmId\": 2, \"server\": [{\"serverId\": 1, \"address\": \"2001:db8:1::11\"}]},"
	"  {\"farmId\": 3, \"port\": 8080, \"server\": [{\"serverId\": 4294967295,"
	"   \"address\": \"198.18.1.99\"}]}]},"
	" \"udp\": {\"frontend\": [{\"frontendId\": 1, \"address\": \"198.18.100.1\","
	"   \"port\": \"53\", \"defaultFarmId\": 1}],"
	"  \"farm\": [{\"farmId\": 1, \"maglevTableSize\": 251,"
	"   \"server\": [{\"serverId\": 3, \"address\": \"198.18.1.13\"}]}]},"
	" \"http\": {\"frontend\": [], \"farm\": []}}";

static json_t *base;

/* --- one failing allocation -------------------------------------------------------------- */

static long alloc_fail_at = -1;	/* jansson allocations to go before the one that fails */
static bool alloc_failed;
static long alloc_fail_n;	/* this input's choice */

static void *fuzz_malloc(size_t size)
{
	if (alloc_fail_at >= 0 && !alloc_fail_at--) {
		alloc_failed = true;
		return NULL;
	}
	return malloc(size);
}

/* Arm the failure before a call, disarm after: whether it happened. */
static void oom_arm(void)
{
	alloc_fail_at = alloc_fail_n;
	alloc_failed = false;
}

static bool oom_disarm(void)
{
	alloc_fail_at = -1;
	return alloc_failed;
}

/* got was made with an allocation failing, want without: equal, or got NULL after a failure
 * (or without, when want is NULL too: the caller compares the errors). */
static void oom_same(const json_t *got, const json_t *want, bool failed, const char *what)
{
	char *a, *b;

	if (got ? want && json_equal(got, want) : failed || !want)
		return;
	a = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	b = want ? json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	fprintf(stderr, "allocation %ld %s\nwith it: %.2000s\nwithout: %.2000s\n", alloc_fail_n,
		failed ? "failed" : "did not fail", a ? a : "NULL", b ? b : "NULL");
	broken(__LINE__, what);
}

/* --- invariants -------------------------------------------------------------------------- */

/* Messages end up in logs and in the API's JSON answers: non-empty, no control characters,
 * valid UTF-8 (else json_string() refuses them and the answer loses the error). */
static void errors_check(const struct cfg_errors *e)
{
	for (size_t i = 0; i < e->n; i++) {
		const char *m = e->msg[i];
		json_t *s;

		CHECK(m && *m, "an error message is empty");
		for (const char *c = m; *c; c++)
			CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
			      "an error message holds a control character");
		s = json_string(m);
		CHECK(s, "an error message is not valid UTF-8");
		json_decref(s);
	}
}

/* What config.h promises of a result: a config and no error, or errors and no config. */
static void result_check(int err, const struct config *c, const struct cfg_errors *e)
{
	if (!err) {
		CHECK(c, "success without a config");
		CHECK(!e->n, "success with errors");
		return;
	}
	CHECK(!c, "a config returned on failure");
	CHECK(err == -EINVAL || err == -ENOMEM, "failure other than -EINVAL or -ENOMEM");
	CHECK(err != -EINVAL || e->n, "-EINVAL without any error");
	errors_check(e);
}

static bool errors_equal(const struct cfg_errors *a, const struct cfg_errors *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->msg[i], b->msg[i]))
			return false;
	return true;
}

/*
 * c parsed: its canonical document (new reference) after checking that the document parses
 * again, from its text and as a tree, into a config with the same canonical document.
 */
static json_t *canonical(const struct config *c)
{
	struct config *again = NULL;
	struct cfg_errors errs;
	json_t *doc, *doc2;
	char *text;
	int err;

	doc = config_to_json(c);
	CHECK(doc, "config_to_json of a parsed config");
	oom_arm();
	doc2 = config_to_json(c);
	oom_same(doc2, doc, oom_disarm(), "config_to_json under a failed allocation");
	json_decref(doc2);
	text = json_dumps(doc, JSON_COMPACT);
	CHECK(text, "json_dumps of the canonical document");
	err = config_parse(text, strlen(text), &again, &errs);
	if (err)
		fprintf(stderr, "canonical document: %s\nfirst error: %s\n", text,
			errs.n ? errs.msg[0] : "none");
	CHECK(!err, "the canonical document does not parse");
	result_check(err, again, &errs);
	doc2 = config_to_json(again);
	CHECK(doc2 && json_equal(doc, doc2), "the canonical document changes through a parse");
	free(text);
	json_decref(doc2);
	config_free(again);
	cfg_errors_free(&errs);

	err = config_from_json(doc, &again, &errs);
	CHECK(!err, "config_from_json refuses the canonical document");
	doc2 = config_to_json(again);
	CHECK(doc2 && json_equal(doc, doc2), "the canonical document changes through a tree");
	json_decref(doc2);
	config_free(again);
	cfg_errors_free(&errs);
	return doc;
}

/* --- 1. the input as a config document --------------------------------------------------- */

static void fuzz_document(const uint8_t *data, size_t size)
{
	struct config *c = NULL, *c2 = NULL;
	struct cfg_errors errs, errs2;
	json_t *root, *doc;
	int err, err2;

	err = config_parse((const char *)data, size, &c, &errs);
	result_check(err, c, &errs);
	if (!err) {
		doc = canonical(c);
		json_decref(doc);
	}

	/* The API stages trees: the same document must be judged the same way. */
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (root) {
		err2 = config_from_json(root, &c2, &errs2);
		result_check(err2, c2, &errs2);
		CHECK(err == err2 && errors_equal(&errs, &errs2),
		      "config_from_json and config_parse disagree");
		config_free(c2);
		cfg_errors_free(&errs2);
		json_decref(root);
	}
	config_free(c);
	cfg_errors_free(&errs);
}

/* --- 2. the input as an API request ------------------------------------------------------ */

static void edit_err_check(const struct edit_err *e)
{
	json_t *s;

	CHECK(e->status == 400 || e->status == 404 || e->status == 405 || e->status == 409 ||
	      e->status == 500, "edit error status");
	CHECK(e->cls && e->msg[0], "edit error without class or message");
	s = json_string(e->msg);
	CHECK(s, "edit error message is not valid UTF-8");
	json_decref(s);
}

/* r as res_parse takes it: there is one spelling per resource. */
static void ref_path(const struct res_ref *r, char *buf, size_t size)
{
	static const char *const kinds[] = { "frontend", "farm", "server" };
	int n;

	if (r->kind == RES_SERVER)
		n = snprintf(buf, size, "%s/farm/%u/server", cfg_layer_name(r->layer), r->farm);
	else
		n = snprintf(buf, size, "%s/%s", cfg_layer_name(r->layer), kinds[r->kind]);
	if (r->has_id)
		snprintf(buf + n, size - (size_t)n, "/%u", r->id);
}

/* The changes from a to b (canonical documents), checked against the reverse changes. */
static void diff_check(const json_t *a, const json_t *b, bool same_order)
{
	json_t *ab = config_diff(a, b), *ba = config_diff(b, a), *again;
	bool failed;
	size_t n;

	CHECK(ab && ba, "config_diff failed");
	CHECK(json_is_array(ab), "config_diff gave no array");
	oom_arm();
	again = config_diff(a, b);
	failed = oom_disarm();
	oom_same(again, ab, failed, "config_diff under a failed allocation");
	json_decref(again);
	n = json_array_size(ab);
	CHECK(n == json_array_size(ba), "config_diff of a to b and b to a differ in length");
	if (json_equal(a, b))
		CHECK(!n, "config_diff of equal documents is not empty");
	/* Documents derived by one edit keep the order of their arrays, so no change listed
	 * means the same document. */
	else if (same_order)
		CHECK(n, "config_diff misses a change");
	json_decref(ab);
	json_decref(ba);
}

/*
 * doc, a new document an edit made (or a PUT …/config body), through what the daemon does
 * with it: validate, canonicalise, diff against the base. r: the edited resource (id set),
 * NULL for a whole document.
 */
static void stage(json_t *doc, const struct res_ref *r, bool deleted)
{
	struct config *c = NULL;
	struct cfg_errors errs;
	struct edit_err e;
	json_t *canon, *res, *d;
	int err;

	if (r) {
		/* Any document an edit made can be diffed, valid or not. */
		d = config_diff(base, doc);
		CHECK(d, "config_diff of an edited document failed");
		json_decref(d);
	}
	err = config_from_json(doc, &c, &errs);
	result_check(err, c, &errs);
	cfg_errors_free(&errs);
	if (err)
		return;
	canon = canonical(c);
	config_free(c);
	diff_check(base, canon, r != NULL);
	d = config_diff(canon, canon);
	CHECK(d && !json_array_size(d), "config_diff of a document with itself is not empty");
	json_decref(d);
	if (r) {
		/* The daemon answers a POST or PUT with the staged resource. */
		res = res_get(canon, r, &e);
		if (deleted)
			CHECK(!res && e.status == 404, "a deleted resource is still there");
		else
			CHECK(res, "the created or updated resource is not in the staged document");
		json_decref(res);
	}
	json_decref(canon);
}

enum verb { VERB_LIST, VERB_GET, VERB_CREATE, VERB_UPDATE, VERB_DELETE, VERBS };

static json_t *verb_run(enum verb v, const struct res_ref *r, const json_t *body, uint32_t *id,
			struct edit_err *e)
{
	memset(e, 0, sizeof(*e));
	switch (v) {
	case VERB_LIST:
		return res_list(base, r, e);
	case VERB_GET:
		return res_get(base, r, e);
	case VERB_CREATE:
		return res_create(base, r, body, id, e);
	case VERB_UPDATE:
		return res_update(base, r, body, e);
	case VERB_DELETE:
	case VERBS:
		break;
	}
	return res_delete(base, r, e);
}

/* What edit.h promises of a list or a read. */
static void read_check(enum verb v, const struct res_ref *r, const json_t *out)
{
	json_int_t last = 0;
	size_t i;
	json_t *x;

	if (v == VERB_GET) {
		CHECK(json_is_object(out) && r->has_id, "res_get result");
		return;
	}
	CHECK(!r->has_id, "res_list on a resource");
	json_array_foreach(out, i, x) {
		CHECK(json_is_integer(x) && json_integer_value(x) > last,
		      "res_list ids not ascending");
		last = json_integer_value(x);
	}
}

/* Every verb on r against the base; the new documents staged as the daemon would. */
static void fuzz_verbs(const struct res_ref *r, const json_t *body)
{
	for (enum verb v = 0; v < VERBS; v++) {
		struct edit_err e, e2;
		uint32_t id = 0, id2 = 0;
		struct res_ref at = *r;
		json_t *out, *again;
		bool failed;

		out = verb_run(v, r, body, &id, &e);
		if (!out)
			edit_err_check(&e);

		oom_arm();
		again = verb_run(v, r, body, &id2, &e2);
		failed = oom_disarm();
		oom_same(again, out, failed, "an edit under a failed allocation");
		if (again)
			CHECK(id2 == id, "an edit under a failed allocation picks another id");
		else if (failed)
			CHECK(e2.status == 500 || e2.status == e.status,
			      "a failed allocation not reported as 500");
		else
			CHECK(e2.status == e.status, "an edit answers differently the second time");
		if (!again)
			edit_err_check(&e2);
		json_decref(again);

		if (out && v <= VERB_GET) {
			read_check(v, r, out);
		} else if (out) {
			if (v == VERB_CREATE) {
				CHECK(id, "res_create gave id 0");
				at.has_id = true;
				at.id = id;
			}
			stage(out, &at, v == VERB_DELETE);
		}
		json_decref(out);
	}
}

static void fuzz_request(const char *path, const char *text, size_t len)
{
	char spelled[PATH_MAX_LEN];
	struct res_ref ref;
	json_t *body;

	body = len ? json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL) : NULL;
	if (!strcmp(path, "config")) {
		if (json_is_object(body))
			stage(body, NULL, false);
	} else if (!res_parse(path, &ref)) {
		CHECK((unsigned int)ref.layer < CFG_LAYERS && ref.kind <= RES_SERVER,
		      "res_parse result");
		CHECK(!ref.has_id || ref.id, "res_parse gave id 0");
		ref_path(&ref, spelled, sizeof(spelled));
		CHECK(!strcmp(spelled, path), "res_parse accepts a second spelling of a path");
		fuzz_verbs(&ref, body);
	}
	json_decref(body);
}

/* --- entry points ------------------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config *c = NULL;
	struct cfg_errors errs;
	int err;

	(void)argc;
	(void)argv;
	json_set_alloc_funcs(fuzz_malloc, free);
	err = config_parse(base_text, strlen(base_text), &c, &errs);
	if (err) {
		fprintf(stderr, "fuzz_config: the base document does not parse: %s\n",
			errs.n ? errs.msg[0] : strerror(-err));
		abort();
	}
	base = config_to_json(c);
	config_free(c);
	cfg_errors_free(&errs);
	if (!base)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	char path[PATH_MAX_LEN];
	size_t plen;

	uint32_t h = 2166136261u;

	/* Which jansson allocation fails in the second run of each edit, diff and canonical
	 * document: one of the first 512 (about what one of them makes from the base document),
	 * from an FNV-1a hash of the input. */
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	alloc_fail_n = h % 512;

	fuzz_document(data, size);

	/* The path line: no NUL (a C string to res_parse), short enough to name anything. */
	plen = nl ? (size_t)(nl - (const char *)data) : size;
	if (plen < sizeof(path) && !memchr(data, '\0', plen)) {
		memcpy(path, data, plen);
		path[plen] = '\0';
		fuzz_request(path, nl ? nl + 1 : "", nl ? size - plen - 1 : 0);
	}
	return 0;
}
