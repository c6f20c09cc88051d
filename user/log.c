// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "log.h"

static enum log_level log_level = LOG_LVL_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

static void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	if (lvl > log_level)
		return;
	fprintf(stderr, "%s: ", level_names[lvl]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_WARN) {
		if (log_level >= LOG_LVL_WARN) {
			fputs("libbpf: ", stderr);
			vfprintf(stderr, fmt, ap);
		}
	} else if (log_level >= LOG_LVL_DEBUG) {
		fputs("libbpf: ", stderr);
		vfprintf(stderr, fmt, ap);
	}
	return 0;
}

void log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
