/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The state directory: the applied config of each service, <dir>/<serviceName>.json, so that
 * a limpetd started without --config runs what ran before. Saved atomically: a reader (or a
 * limpetd started after a crash at any point) sees the previous file or the new one whole.
 */
#ifndef LIMPET_STATE_H
#define LIMPET_STATE_H

#include <limits.h>

#include <jansson.h>

/* Write doc to <dir>/<name>.json: temp file, fsync, rename over the old one, fsync dir. */
int state_save(const char *dir, const char *name, const json_t *doc);

/* The one saved config in dir: its path in out. -ENOENT when there is none, -EEXIST when
 * there are several (names them in the log: --config must choose). */
int state_find(const char *dir, char out[PATH_MAX]);

#endif /* LIMPET_STATE_H */
