// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api/routes.h"
#include "api/server.h"
#include "common/log.h"

#define API_BODY_MAX	(8u << 20)	/* a 10 000-server config is ~1.5 MiB */
#define API_CONN_MAX	64
#define API_TIMEOUT	30		/* seconds a connection may stay idle */

struct api_server {
	struct MHD_Daemon *mhd;
	struct service *svc;
	char *token;
	bool metrics_only;
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* One request: its body as it arrives. */
struct request {
	char *body;
	size_t len;
	bool too_big;
	bool answered;
};

/* --- addresses and token ------------------------------------------------------------------- */

int api_addr_parse(const char *spec, bool tcp_only, struct api_addr *out, char why[128])
{
	char host[INET6_ADDRSTRLEN + 2], *end;
	const char *hp = spec, *colon;
	unsigned long port;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	snprintf(out->text, sizeof(out->text), "%s", spec);
	if (!tcp_only && !strncmp(spec, "unix:", 5)) {
		if (spec[5] != '/' || strlen(spec + 5) >= sizeof(out->path)) {
			snprintf(why, 128, "expected unix:/ABSOLUTE/PATH of at most %zu bytes",
				 sizeof(out->path) - 1);
			return -EINVAL;
		}
		out->is_unix = true;
		strcpy(out->path, spec + 5);
		return 0;
	}
	if (!tcp_only) {
		if (strncmp(spec, "tcp:", 4)) {
			snprintf(why, 128, "expected unix:PATH or tcp:ADDR:PORT");
			return -EINVAL;
		}
		hp = spec + 4;
	}
	colon = strrchr(hp, ':');
	if (!colon || colon == hp) {
		snprintf(why, 128, "expected ADDR:PORT (IPv6 in brackets: [::1]:8080)");
		return -EINVAL;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || !port || port > 65535) {
		snprintf(why, 128, "port \"%s\" is not in 1..65535", colon + 1);
		return -EINVAL;
	}
	hlen = (size_t)(colon - hp);
	if (hp[0] == '[' && hlen > 2 && hp[hlen - 1] == ']' && hlen - 2 < sizeof(host)) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;

		memcpy(host, hp + 1, hlen - 2);
		host[hlen - 2] = 0;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		out->len = sizeof(*s6);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1)
			return 0;
	} else if (hlen < sizeof(host)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;

		memcpy(host, hp, hlen);
		host[hlen] = 0;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		out->len = sizeof(*s4);
		if (inet_pton(AF_INET, host, &s4->sin_addr) == 1)
			return 0;
	}
	snprintf(why, 128, "\"%.*s\" is not an IPv4 address or a bracketed IPv6 address",
		 (int)(hlen > 60 ? 60 : hlen), hp);
	return -EINVAL;
}

int api_token_load(const char *path, char **token)
{
	char buf[512];
	struct stat st;
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	if (!fstat(fileno(f), &st) && (st.st_mode & 0077))
		pr_warn("%s: the API token file is readable by others than its owner (mode %03o): "
			"chmod 600 %s", path, st.st_mode & 0777, path);
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = 0;
	if (n < 16) {
		pr_err("%s: the token must be one line of at least 16 characters", path);
		return -EINVAL;
	}
	*token = strdup(buf);
	return *token ? 0 : -ENOMEM;
}

/* Compare in time that depends on the lengths only, not on where they differ. */
static bool token_ok(const char *given, const char *want)
{
	size_t gl = strlen(given), wl = strlen(want);
	unsigned char diff = gl != wl;

	for (size_t i = 0; i < wl; i++)
		diff |= (unsigned char)(want[i] ^ (i < gl ? given[i] : 0));
	return !diff;
}

/* --- answering ----------------------------------------------------------------------------- */

static enum MHD_Result send_answer(struct MHD_Connection *c, struct api_answer *ans)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	const char *type = "application/json";
	char *text = ans->text;

	if (!text) {
		text = ans->json ? json_dumps(ans->json, JSON_COMPACT) : NULL;
		json_decref(ans->json);
		if (!text)
			return MHD_NO;
	} else {
		type = "text/plain; version=0.0.4; charset=utf-8";
	}
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (ans->allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, ans->allow);
	if (ans->status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	ret = MHD_queue_response(c, ans->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result fail(struct MHD_Connection *c, struct request *rq, int status,
			    const char *cls, const char *msg)
{
	struct api_answer ans = { 0 };

	rq->answered = true;
	api_error(&ans, status, cls, "%s", msg);
	return send_answer(c, &ans);
}

static bool authorized(struct api_server *srv, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);

	if (!srv->token)
		return true;
	return h && !strncmp(h, "Bearer ", 7) && token_ok(h + 7, srv->token);
}

static enum MHD_Result first_call(struct api_server *srv, struct MHD_Connection *c,
				  struct request *rq)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (!authorized(srv, c))
		return fail(c, rq, 401, "Client::Unauthorized",
			    "missing or wrong bearer token (Authorization: Bearer TOKEN)");
	if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX)
		return fail(c, rq, 413, "Client::RequestEntityTooLarge",
			    "request body over 8 MiB");
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **ctx)
{
	struct api_server *srv = cls;
	struct request *rq = *ctx;
	struct api_request req;
	struct api_answer ans;
	const char *staged;

	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*ctx = rq;
		return first_call(srv, c, rq);
	}
	if (rq->answered) {	/* the body of a refused request: dropped */
		*size = 0;
		return MHD_YES;
	}
	if (*size) {
		if (rq->len + *size > API_BODY_MAX) {
			rq->too_big = true;
		} else {
			char *grown = realloc(rq->body, rq->len + *size);

			if (!grown)
				return MHD_NO;
			memcpy(grown + rq->len, data, *size);
			rq->body = grown;
			rq->len += *size;
		}
		*size = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return fail(c, rq, 413, "Client::RequestEntityTooLarge", "request body over 8 MiB");
	rq->answered = true;
	if (srv->metrics_only && strcmp(url, "/metrics")) {
		api_error(&ans, 404, "Client::NotFound", "this listener serves /metrics only");
		return send_answer(c, &ans);
	}
	staged = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "staged");
	req = (struct api_request){
		.method = method, .url = url, .body = rq->body, .len = rq->len,
		.staged = staged && (!strcmp(staged, "1") || !strcmp(staged, "true")),
	};
	api_route(srv->svc, &req, &ans);
	if (ans.status >= 500)
		pr_warn("API %s %s: %d", method, url, ans.status);
	else
		pr_debug("API %s %s: %d", method, url, ans.status);
	return send_answer(c, &ans);
}

static void on_done(void *cls, struct MHD_Connection *c, void **ctx,
		    enum MHD_RequestTerminationCode why)
{
	struct request *rq = *ctx;

	(void)cls;
	(void)c;
	(void)why;
	if (rq) {
		free(rq->body);
		free(rq);
	}
	*ctx = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	pr_debug("libmicrohttpd: %s", msg);
}

/* --- listening ----------------------------------------------------------------------------- */

/* A socket at path that answers belongs to a running limpetd: refuse. One that does not is
 * what a crash left behind: remove it. Anything else at path is not ours to remove. */
static int unix_clear(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("%s exists and is not a socket: not replacing it", path);
		return -EEXIST;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	close(fd);
	if (!err) {
		pr_err("%s: another limpetd answers on this API socket: not starting a second one",
		       path);
		return -EADDRINUSE;
	}
	pr_warn("%s: replacing a stale API socket (left by a limpetd that did not stop cleanly)",
		path);
	return unlink(path) ? -errno : 0;
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	mode_t old;
	int fd, err;

	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	mkdir(dirname(dir), 0755);
	err = unix_clear(path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* created 0600 from the start: there is no moment others could connect */
	old = umask(0177);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (!err && listen(fd, API_CONN_MAX))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int listen_tcp(const struct api_addr *a)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, err = 0;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) || listen(fd, API_CONN_MAX))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int api_listen(const struct api_addr *a)
{
	return a->is_unix ? listen_unix(a->path) : listen_tcp(a);
}

int api_server_start(struct api_server **out, int fd, const char *unix_path, const char *token,
		     bool metrics_only, struct service *svc)
{
	struct api_server *srv = calloc(1, sizeof(*srv));

	if (!srv || (token && !(srv->token = strdup(token))))
		goto fail;
	srv->svc = svc;
	srv->metrics_only = metrics_only;
	if (unix_path)
		snprintf(srv->unix_path, sizeof(srv->unix_path), "%s", unix_path);
	srv->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
				    srv, MHD_OPTION_LISTEN_SOCKET, fd,
				    MHD_OPTION_NOTIFY_COMPLETED, on_done, srv,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)API_CONN_MAX,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)API_TIMEOUT,
				    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!srv->mhd)
		goto fail;
	*out = srv;
	return 0;
fail:
	close(fd);
	if (unix_path)
		unlink(unix_path);
	if (srv)
		free(srv->token);
	free(srv);
	return -ENOMEM;
}

int api_server_fd(const struct api_server *srv)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

void api_server_run(struct api_server *srv)
{
	MHD_run(srv->mhd);
}

int api_server_timeout(const struct api_server *srv)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(srv->mhd, &ms) != MHD_YES)
		return -1;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

unsigned int api_server_connections(const struct api_server *srv)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return i ? i->num_connections : 0;
}

void api_server_stop(struct api_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->mhd);
	if (srv->unix_path[0])
		unlink(srv->unix_path);
	free(srv->token);
	free(srv);
}
