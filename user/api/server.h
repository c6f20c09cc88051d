/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The API's HTTP listeners (libmicrohttpd): a root-only Unix socket, or TCP with a bearer
 * token, and the token-less /metrics listener. They run on limpetd's event loop: the caller
 * polls api_server_fd() and calls api_server_run() when it is readable (and at least once a
 * second, for timeouts), so requests and everything else limpetd does never run at once.
 */
#ifndef LIMPET_API_SERVER_H
#define LIMPET_API_SERVER_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

struct api_server;
struct service;

struct api_addr {
	bool is_unix;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* is_unix */
	struct sockaddr_storage ss;					/* TCP */
	socklen_t len;
	char text[160];		/* as given, for messages */
};

/* "unix:PATH" or "tcp:ADDR:PORT" (tcp_only: "ADDR:PORT", for --metrics); ADDR an IPv4
 * address or an IPv6 one in brackets. -EINVAL with a message in why. */
int api_addr_parse(const char *spec, bool tcp_only, struct api_addr *out, char why[128]);

/* Read the bearer token: the file's first line, not empty. */
int api_token_load(const char *path, char **token);

/*
 * The listening socket for a: a fd, or -errno. A Unix socket is made mode 0600; one left by
 * a crashed limpetd is replaced, one that answers (another limpetd) is refused with
 * -EADDRINUSE. Done before limpetd touches the dataplane, so a refused start changes nothing.
 */
int api_listen(const struct api_addr *a);

/* Serve svc on the listening socket fd (taken over). token: required on every request when
 * set. metrics_only: serve GET /metrics only. unix_path: removed on stop, or NULL. */
int api_server_start(struct api_server **out, int fd, const char *unix_path, const char *token,
		     bool metrics_only, struct service *svc);
int api_server_fd(const struct api_server *srv);
void api_server_run(struct api_server *srv);
/* How long the loop may wait before api_server_run() has work again, in ms (-1: no limit):
 * libmicrohttpd reads a request body one buffer per run, so 0 while one is arriving. */
int api_server_timeout(const struct api_server *srv);
/* Connections still open (a stopping daemon lets its last answers go out first). */
unsigned int api_server_connections(const struct api_server *srv);
void api_server_stop(struct api_server *srv);

#endif /* LIMPET_API_SERVER_H */
