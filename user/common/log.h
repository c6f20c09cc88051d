/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Logging with levels, to stderr (or syslog once a daemon asks for it). */
#ifndef LIMPET_LOG_H
#define LIMPET_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level lvl);
/* Parse "error", "warn", "info", "debug"; -1 if none of them. */
int log_level_parse(const char *s);
/* From now on write to syslog under ident instead of stderr. */
void log_use_syslog(const char *ident);
/* Route libbpf's and libxdp's messages into ours: warnings always, the rest at debug level;
 * while muted (around calls whose failures we report ourselves), warnings too. */
void log_route_libs(void);
void log_mute_libs(bool mute);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...)   log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif /* LIMPET_LOG_H */
