// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sd_notify from libsystemd rather than our own datagram to NOTIFY_SOCKET: it handles the
 * abstract-namespace and vsock addresses and the credentials systemd checks, and it returns
 * 0 without a syscall when NOTIFY_SOCKET is unset. The environment is kept (unset_environment
 * 0) so a reload's notifications reach the same socket.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "daemon/notify.h"

/* A failed notification is not fatal: systemd times the start out and says why. */
static void notify_send(const char *msg)
{
	int err = sd_notify(0, msg);

	if (err < 0)
		pr_warn("sd_notify %.*s: %s", (int)strcspn(msg, "\n"), msg, strerror(-err));
}

void notify_ready(const char *fmt, ...)
{
	char status[256], msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	notify_send(msg);
}

void notify_reloading(void)
{
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nSTATUS=reloading the config\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000);
	notify_send(msg);
}

void notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=stopping");
}
