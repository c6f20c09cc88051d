/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * GET /metrics: the Prometheus text exposition (format 0.0.4) of the documents GET …/status
 * and GET …/stats answer (docs/api.md), rendered from that JSON so that the API and the
 * metrics cannot disagree.
 */
#ifndef LIMPET_METRICS_H
#define LIMPET_METRICS_H

#include <jansson.h>

/*
 * The exposition text, malloc'ed and NUL-terminated; NULL if out of memory. Parts missing from
 * either document (or of the wrong type, or NULL documents) are left out: the rest is rendered.
 * A family is written, with its HELP and TYPE lines, only if it has a sample.
 */
char *metrics_render(const json_t *status, const json_t *stats);

#endif /* LIMPET_METRICS_H */
