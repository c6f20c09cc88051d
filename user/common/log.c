// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "common/log.h"

static enum log_level log_level = LOG_LVL_INFO;
static bool log_syslog, libs_muted;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

int log_level_parse(const char *s)
{
	for (int i = 0; i <= LOG_LVL_DEBUG; i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return -1;
}

void log_use_syslog(const char *ident)
{
	openlog(ident, LOG_PID, LOG_DAEMON);
	log_syslog = true;
}

static void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	if (lvl > log_level)
		return;
	if (log_syslog) {
		vsyslog(prio[lvl], fmt, ap);
		return;
	}
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

static int lib_print(bool warn, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	if (!(warn && !libs_muted ? log_level >= LOG_LVL_WARN : log_level >= LOG_LVL_DEBUG))
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = 0;
	log_msg(warn && !libs_muted ? LOG_LVL_WARN : LOG_LVL_DEBUG, "%s", line);
	return 0;
}

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	return lib_print(lvl == LIBBPF_WARN, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level lvl, const char *fmt, va_list ap)
{
	return lib_print(lvl == LIBXDP_WARN, fmt, ap);
}

void log_route_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

void log_mute_libs(bool mute)
{
	libs_muted = mute;
}
