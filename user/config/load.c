// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The config module's entry points: JSON text, a file or a jansson tree in, a validated model
 * out. Above the two passes (parse.c, check.c) and the helpers they share (common.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config-int.h"

#define CFG_FILE_MAX		(64u << 20)

/* Both passes over a parsed document; frees nothing of root. */
static int parse_tree(json_t *root, struct config **out, struct pctx *px)
{
	struct config *c = calloc(1, sizeof(*c));

	if (!c) {
		px->oom = true;
		return -ENOMEM;
	}
	cfg_parse_root(px, root, c);
	if (!px->oom)
		cfg_validate(px, c);
	if (px->nerr > CFG_ERRORS_MAX) {
		size_t more = px->nerr - CFG_ERRORS_MAX;

		px->nerr = CFG_ERRORS_MAX - 1;	/* the summary takes the last place */
		if (px->errs && px->errs->n == CFG_ERRORS_MAX)
			free(px->errs->msg[--px->errs->n]);
		cfg_err_at(px, NULL, "... and %zu more error%s", more + 1, more ? "s" : "");
	}
	if (px->oom || px->nerr) {
		config_free(c);
		return px->oom ? -ENOMEM : -EINVAL;
	}
	*out = c;
	return 0;
}

/* source: prefix of the JSON syntax error position (a file name), or NULL. */
static int parse_text(const char *text, size_t len, const char *source, struct config **out,
		      struct cfg_errors *errs)
{
	struct pctx px = { .errs = errs };
	json_error_t jerr;
	char *where;
	json_t *root;
	int err;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (asprintf(&where, "%s%s%d:%d", source ? source : "", source ? ":" : "",
			     jerr.line, jerr.column) < 0)
			return -ENOMEM;
		cfg_err_at(&px, where, "config is not valid JSON: %s", jerr.text);
		free(where);
		return px.oom ? -ENOMEM : -EINVAL;
	}
	err = parse_tree(root, out, &px);
	json_decref(root);
	return err;
}

int config_from_json(json_t *root, struct config **out, struct cfg_errors *errs)
{
	struct pctx px = { .errs = errs };

	*out = NULL;
	if (errs)
		*errs = (struct cfg_errors){ 0 };
	return parse_tree(root, out, &px);
}

int config_parse(const char *text, size_t len, struct config **out, struct cfg_errors *errs)
{
	*out = NULL;
	if (errs)
		*errs = (struct cfg_errors){ 0 };
	return parse_text(text, len, NULL, out, errs);
}

int config_load_file(const char *path, struct config **out, struct cfg_errors *errs)
{
	struct pctx px = { .errs = errs };
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd, err;

	*out = NULL;
	if (errs)
		*errs = (struct cfg_errors){ 0 };
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		goto close;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto close;
	}
	if (st.st_size > CFG_FILE_MAX) {
		err = -EFBIG;
		goto close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto close;
	}
	/* st_size is a hint (the file may change under us): read until EOF, within the cap. */
	for (size_t cap = (size_t)st.st_size + 1;;) {
		ssize_t r;

		if (len == cap) {
			char *grown = cap >= CFG_FILE_MAX ? NULL : realloc(buf, cap * 2);

			if (!grown) {
				err = cap >= CFG_FILE_MAX ? -EFBIG : -ENOMEM;
				goto close;
			}
			buf = grown;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto close;
		}
		if (!r)
			break;
		len += (size_t)r;
	}
	close(fd);
	err = parse_text(buf, len, path, out, errs);
	free(buf);
	return err;
close:
	close(fd);
fail:
	free(buf);
	if (err == -ENOMEM)
		return err;
	cfg_err_at(&px, path, "cannot read the config: %s", strerror(-err));
	return err;
}
