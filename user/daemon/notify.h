/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Readiness for a service manager (systemd's Type=notify, sd_notify(3)): READY=1 once the
 * balancer is attached, the config applied and the API listening; RELOADING=1 then READY=1
 * around a SIGHUP reload; STOPPING=1 when limpetd stops; STATUS= lines for `systemctl
 * status`. Each call is a no-op when NOTIFY_SOCKET is unset (limpetd not run by systemd).
 */
#ifndef LIMPET_NOTIFY_H
#define LIMPET_NOTIFY_H

/* READY=1 with a STATUS= line (printf format) */
void notify_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* RELOADING=1 (and MONOTONIC_USEC=, which systemd 253's Type=notify-reload wants) */
void notify_reloading(void);
/* STOPPING=1 */
void notify_stopping(void);

#endif /* LIMPET_NOTIFY_H */
