// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl/client.h"

/* Long enough for a refresh that compiles 10 000 servers, short enough not to hang a script
 * on a daemon that stopped answering. */
#define CONNECT_TIMEOUT	5L	/* seconds */
#define CALL_TIMEOUT	120L

struct client {
	CURL *curl;
	const char *api;	/* as given, to name it in messages */
	const char *unix_path;	/* NULL: a URL */
	char *base;		/* what paths are appended to */
	const char *token_file;
	char *auth;		/* the Authorization header, once the token file is read */
	char errbuf[CURL_ERROR_SIZE];
};

struct buf {
	char *p;
	size_t len;
};

int client_new(struct client **out, const char *api, const char *token_file)
{
	struct client *c;
	int n;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->api = api;
	c->token_file = token_file;
	if (!strncmp(api, "unix:", 5) && api[5]) {
		c->unix_path = api + 5;
		/* the host is not used on a Unix socket, but HTTP/1.1 needs one */
		n = asprintf(&c->base, "http://localhost");
	} else if (!strncmp(api, "tcp:", 4) && api[4]) {
		n = asprintf(&c->base, "http://%s", api + 4);
	} else if (!strncmp(api, "http://", 7) || !strncmp(api, "https://", 8)) {
		n = asprintf(&c->base, "%s", api);
		if (n > 0 && c->base[n - 1] == '/')
			c->base[n - 1] = '\0';
	} else {
		fprintf(stderr, "limpetctl: --api %s: expected unix:PATH, http://HOST:PORT or "
				"tcp:ADDR:PORT\n", api);
		free(c);
		return -EINVAL;
	}
	if (n < 0) {
		c->base = NULL;
		client_free(c);
		return -ENOMEM;
	}
	c->curl = curl_easy_init();
	if (!c->curl) {
		client_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void client_free(struct client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->base);
	free(c->auth);
	free(c);
}

/* The token is the file's first line. */
static int client_auth(struct client *c)
{
	size_t cap = 0;
	char *line = NULL;
	ssize_t len;
	FILE *f;
	int err = 0;

	if (!c->token_file || c->auth)
		return 0;
	f = fopen(c->token_file, "re");
	if (!f) {
		err = -errno;
		fprintf(stderr, "limpetctl: token file %s: %s\n", c->token_file, strerror(-err));
		return err;
	}
	len = getline(&line, &cap, f);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (len <= 0) {
		fprintf(stderr, "limpetctl: token file %s: no token on its first line\n",
			c->token_file);
		err = -ENODATA;
	} else if (asprintf(&c->auth, "Authorization: Bearer %s", line) < 0) {
		c->auth = NULL;
		err = -ENOMEM;
	}
	free(line);
	fclose(f);
	return err;
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	char *p = realloc(b->p, b->len + size * n);

	if (!p)
		return 0;	/* curl fails the transfer */
	memcpy(p + b->len, data, size * n);
	b->p = p;
	b->len += size * n;
	return size * n;
}

static void report_transport(struct client *c, CURLcode rc)
{
	long oserr = 0;

	curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
	if (rc == CURLE_COULDNT_CONNECT && oserr)
		fprintf(stderr, "limpetctl: cannot connect to %s: %s (is limpetd running?)\n",
			c->api, strerror(oserr));
	else
		fprintf(stderr, "limpetctl: %s: %s\n", c->api,
			c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
}

/* The API's {"class", "message", "errors"} answer, or what we know without it. */
static void report_api(struct client *c, long status, const struct buf *b)
{
	json_t *doc = json_loadb(b->p ? b->p : "", b->len, 0, NULL);
	json_t *msg = json_object_get(doc, "message"), *errs = json_object_get(doc, "errors"), *e;
	size_t i;

	if (json_is_string(msg))
		fprintf(stderr, "limpetctl: %s\n", json_string_value(msg));
	else
		fprintf(stderr, "limpetctl: %s answered HTTP %ld\n", c->api, status);
	/* the message quotes the first error: the list adds something only when longer */
	if (json_array_size(errs) > 1)
		json_array_foreach(errs, i, e)
			fprintf(stderr, "  %s\n", json_is_string(e) ? json_string_value(e) : "?");
	json_decref(doc);
}

/* NULL on allocation failure */
static struct curl_slist *client_headers(const struct client *c, const char *body)
{
	/* "Expect:" off: no 100-continue round trip before a large body */
	const char *lines[] = { "Accept: application/json", "Expect:",
				body ? "Content-Type: application/json" : NULL, c->auth };
	struct curl_slist *hdr = NULL, *h;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (!lines[i])
			continue;
		h = curl_slist_append(hdr, lines[i]);
		if (!h) {
			curl_slist_free_all(hdr);
			return NULL;
		}
		hdr = h;
	}
	return hdr;
}

static int client_setup(struct client *c, const char *method, const char *url,
			struct curl_slist *hdr, const char *text, struct buf *in)
{
	CURL *h = c->curl;
	int rc = 0;	/* nonzero once any option failed: only allocations can */

	curl_easy_reset(h);
	c->errbuf[0] = '\0';
	rc |= curl_easy_setopt(h, CURLOPT_URL, url);
	if (c->unix_path)
		rc |= curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
	rc |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (text) {
		rc |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
		rc |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	}
	rc |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	rc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	rc |= curl_easy_setopt(h, CURLOPT_WRITEDATA, in);
	rc |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	rc |= curl_easy_setopt(h, CURLOPT_TIMEOUT, CALL_TIMEOUT);
	rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	return rc ? -ENOMEM : 0;
}

int client_call(struct client *c, const char *method, const char *path, const json_t *body,
		json_t **answer)
{
	struct curl_slist *hdr = NULL;
	struct buf in = { 0 };
	char *url = NULL, *text = NULL;
	json_error_t jerr;
	long status = 0;
	CURLcode rc;
	int err;

	err = client_auth(c);
	if (err)
		return err;
	err = -ENOMEM;
	if (asprintf(&url, "%s%s", c->base, path) < 0) {
		url = NULL;
		goto out;
	}
	if (body && !(text = json_dumps(body, JSON_COMPACT)))
		goto out;
	hdr = client_headers(c, text);
	if (!hdr)
		goto out;
	err = client_setup(c, method, url, hdr, text, &in);
	if (err)
		goto out;
	rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		report_transport(c, rc);
		err = rc == CURLE_WRITE_ERROR ? -ENOMEM : -EIO;
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		report_api(c, status, &in);
		err = -EREMOTEIO;
		goto out;
	}
	*answer = json_loadb(in.p ? in.p : "", in.len, 0, &jerr);
	if (!*answer) {
		fprintf(stderr, "limpetctl: %s %s: the answer is not JSON: %s\n", method, path,
			jerr.text);
		err = -EBADMSG;
		goto out;
	}
	err = 0;
out:
	curl_slist_free_all(hdr);
	free(in.p);
	free(text);
	free(url);
	return err;
}
