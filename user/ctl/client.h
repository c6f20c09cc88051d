/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * HTTP client of limpetd's REST API (docs/api.md), over libcurl: a Unix socket or a URL, JSON
 * in and out, an optional bearer token. It reports its own failures on stderr, naming the
 * socket or URL, or with the API's message and every one of its "errors".
 */
#ifndef LIMPET_CTL_CLIENT_H
#define LIMPET_CTL_CLIENT_H

#include <jansson.h>

struct client;

/*
 * api: "unix:PATH", "http://HOST:PORT", "https://HOST:PORT" or "tcp:ADDR:PORT" (limpetd's own
 * spelling of its TCP listener, taken as http://). token_file: NULL, or a file whose first line
 * is the bearer token; it is read on the first call. 0, -EINVAL (api not understood: reported),
 * -ENOMEM.
 */
int client_new(struct client **out, const char *api, const char *token_file);
void client_free(struct client *c);

/*
 * method on path (from "/", query included); body: NULL or a JSON document to send. 0 with
 * *answer the parsed JSON of a 2xx answer (new reference); else reported and:
 * -EIO no answer (connection failure), -EREMOTEIO the API answered 4xx/5xx, -EBADMSG the
 * answer is not JSON, -errno the token file cannot be read, -ENOMEM.
 */
int client_call(struct client *c, const char *method, const char *path, const json_t *body,
		json_t **answer);

#endif /* LIMPET_CTL_CLIENT_H */
