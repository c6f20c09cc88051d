// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Control-plane benchmark (DESIGN.md section 7, issue: refresh latency and API latency).
 *
 *   bench_api config SERVERS FARMS      print a config of SERVERS servers spread over FARMS
 *                                       farms (one tcp frontend each), serviceName "bench"
 *   bench_api measure SOCK SERVERS FARMS NAME
 *                                       against the limpetd serving that config on SOCK
 *
 * refresh: a PUT changes server 1 of farm 1 between active and inactive (not timed; a weight
 * change would leave a one-server farm's table as it was), then POST …/refresh is
 * timed from the call to the answer. refresh is synchronous: it answers once the farm's new
 * inner map is in the farms map, and this is confirmed by reading the pinned farms map back
 * (exactly one slot must hold a new inner map). Baseline: maglev_build() alone for that farm
 * (same servers, weights and table size), in this process.
 * get: GET …/tcp/farm/1 over the Unix socket with a kept-alive connection. Baseline: the same
 * client against a libmicrohttpd server in this process answering "{}" on another Unix socket
 * (the transport and the client, without limpetd's work).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>

#include "limpet/abi.h"
#include "maglev/maglev.h"

#define SEED		0x9c1e52a07d3b4f16ull
#define REFRESHES	21
#define GETS		5000
#define WARMUP		200
#define FARMS_PIN	"/sys/fs/bpf/limpet/bench/farms"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double quantile(double *v, size_t n, double q)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t)(q * (n - 1))];
}

/* --- config -------------------------------------------------------------------------------- */

static int do_config(int servers, int farms)
{
	int per = servers / farms, g = 0;

	printf("{\"serviceName\": \"bench\", \"hashSeed\": \"%016llx\", \"tcp\": {\"frontend\": [",
	       (unsigned long long)SEED);
	for (int f = 0; f < farms; f++)
		printf("%s{\"frontendId\": %d, \"address\": \"198.18.%d.%d\", \"port\": \"80\", "
		       "\"defaultFarmId\": %d}", f ? ", " : "", f + 1, 128 + f / 250, 1 + f % 250,
		       f + 1);
	printf("], \"farm\": [");
	for (int f = 0; f < farms; f++) {
		printf("%s{\"farmId\": %d, \"stickiness\": \"sourceIp\", \"forwarding\": \"ipip\", \"server\": [", f ? ", " : "",
		       f + 1);
		for (int s = 0; s < per; s++, g++)
			printf("%s{\"serverId\": %d, \"address\": \"198.19.%d.%d\", \"weight\": 1}",
			       s ? ", " : "", s + 1, g / 250, 1 + g % 250);
		printf("]}");
	}
	printf("]}}\n");
	return 0;
}

/* --- HTTP client ---------------------------------------------------------------------------- */

/* The last answer's body (the refresh report is read back for its phases). */
static char answer[1 << 16];
static size_t answer_len;

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	size_t room = sizeof(answer) - 1 - answer_len, len = size * n;

	(void)arg;
	memcpy(answer + answer_len, p, len < room ? len : room);
	answer_len += len < room ? len : room;
	answer[answer_len] = 0;
	return size * n;
}

static CURL *client(const char *sock)
{
	CURL *c = curl_easy_init();

	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	return c;
}

/* A phase of the last refresh report, in ms (limpetd's own clock). */
static double phase_ms(const char *name)
{
	json_t *doc = json_loads(answer, 0, NULL);
	double v = json_real_value(json_object_get(json_object_get(doc, "phasesMs"), name));

	json_decref(doc);
	return v;
}

/* One request; its status, or -1 on a transport error. */
static long request(CURL *c, const char *method, const char *url, const char *body)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	long status = -1;

	answer_len = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (!body)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	return status;
}

/* p99 of GETs of url, in microseconds; -1 if one failed. */
static double get_p99(const char *sock, const char *url, double *p50)
{
	double *t = calloc(GETS, sizeof(*t)), p99 = -1;
	CURL *c = client(sock);

	for (int i = 0; i < WARMUP + GETS; i++) {
		double t0 = now_us();

		if (request(c, "GET", url, NULL) != 200)
			goto out;
		if (i >= WARMUP)
			t[i - WARMUP] = now_us() - t0;
	}
	*p50 = quantile(t, GETS, 0.5);
	p99 = quantile(t, GETS, 0.99);
out:
	curl_easy_cleanup(c);
	free(t);
	return p99;
}

static enum MHD_Result answer_empty(void *cls, struct MHD_Connection *c, const char *url,
				    const char *method, const char *version, const char *data,
				    size_t *size, void **ctx)
{
	static char body[] = "{}";
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls, (void)url, (void)method, (void)version, (void)data, (void)size;
	if (!*ctx) {
		*ctx = body;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(2, body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* The baseline server: libmicrohttpd on a Unix socket, answering "{}". */
static struct MHD_Daemon *baseline_start(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16))
		return NULL;
	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
				answer_empty, NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_END);
}

/* --- refresh -------------------------------------------------------------------------------- */

/* The id of the inner map in every slot of the pinned farms map (0: empty). */
static int inner_ids(int fd, uint32_t *ids)
{
	for (uint32_t s = 0; s < LB_FARMS_MAX; s++)
		if (bpf_map_lookup_elem(fd, &s, &ids[s]))
			ids[s] = 0;
	return 0;
}

static double maglev_ms(int per)
{
	struct maglev_server *ms = calloc(per, sizeof(*ms));
	uint32_t *table = calloc(LB_RING_DEFAULT, sizeof(*table));
	double t[REFRESHES];

	for (int i = 0; i < per; i++)
		ms[i] = (struct maglev_server){ .id = i + 1, .weight = 1, .eligible = i > 0 };
	for (int r = 0; r < REFRESHES; r++) {
		double t0 = now_us();

		maglev_build(ms, per, SEED, LB_RING_DEFAULT, table);
		t[r] = (now_us() - t0) / 1e3;
	}
	free(ms);
	free(table);
	return quantile(t, REFRESHES, 0.5);
}

static int do_measure(const char *sock, int servers, int farms, const char *name)
{
	static uint32_t before[LB_FARMS_MAX], after[LB_FARMS_MAX];
	const char *base = "http://localhost/ipLoadbalancing/bench";
	char url[256], base_sock[108], body[64];
	double t[REFRESHES], p50, p99, b50, b99, mg, valid[REFRESHES], dpl[REFRESHES];
	double save[REFRESHES];
	int fd = bpf_obj_get(FARMS_PIN), per = servers / farms;
	struct MHD_Daemon *bd;
	CURL *c = client(sock);

	if (fd < 0) {
		fprintf(stderr, "bench_api: %s: %s\n", FARMS_PIN, strerror(errno));
		return 1;
	}
	for (int r = 0; r < REFRESHES; r++) {
		int changed = 0;
		double t0;

		snprintf(url, sizeof(url), "%s/tcp/farm/1/server/1", base);
		snprintf(body, sizeof(body), "{\"status\": \"%s\"}", r % 2 ? "active" : "inactive");
		if (request(c, "PUT", url, body) != 200) {
			fprintf(stderr, "bench_api: PUT %s failed\n", url);
			return 1;
		}
		inner_ids(fd, before);
		snprintf(url, sizeof(url), "%s/refresh", base);
		t0 = now_us();
		if (request(c, "POST", url, "{\"zone\": \"all\"}") != 200) {
			fprintf(stderr, "bench_api: refresh failed\n");
			return 1;
		}
		t[r] = (now_us() - t0) / 1e3;
		valid[r] = phase_ms("validate");
		dpl[r] = phase_ms("dataplane");
		save[r] = phase_ms("save");
		inner_ids(fd, after);
		for (int s = 0; s < LB_FARMS_MAX; s++)
			changed += before[s] != after[s];
		if (changed != 1) {
			fprintf(stderr, "bench_api: refresh %d swapped %d farms (want 1)\n", r,
				changed);
			return 1;
		}
	}
	curl_easy_cleanup(c);
	mg = maglev_ms(per);
	p50 = quantile(t, REFRESHES, 0.5);	/* sorts t */
	printf("refresh, %d servers in %d farm%s, one server's status changed: median %.2f ms "
	       "(min %.2f, max %.2f); maglev_build of that farm alone: %.2f ms\n", servers, farms,
	       farms == 1 ? "" : "s", p50, t[0], t[REFRESHES - 1], mg);
	printf("  where the time goes (medians, limpetd's clock): validate+diff %.2f ms (done when the "
	       "edit was staged, so ~0 here), dataplane "
	       "%.2f ms, save (write, fsync, rename, fsync dir) %.2f ms\n",
	       quantile(valid, REFRESHES, 0.5), quantile(dpl, REFRESHES, 0.5),
	       quantile(save, REFRESHES, 0.5));
	printf("BENCH api.refresh_%s value=%.3f unit=ms baseline=%.3f ratio=%.2f\n", name, p50,
	       mg, p50 / mg);

	snprintf(base_sock, sizeof(base_sock), "/tmp/bench-api-base-%d.sock", getpid());
	bd = baseline_start(base_sock);
	snprintf(url, sizeof(url), "%s/tcp/farm/1", base);
	p99 = get_p99(sock, url, &p50);
	b99 = bd ? get_p99(base_sock, "http://localhost/", &b50) : -1;
	if (bd)
		MHD_stop_daemon(bd);
	unlink(base_sock);
	if (p99 < 0 || b99 < 0) {
		fprintf(stderr, "bench_api: GET failed\n");
		return 1;
	}
	printf("GET farm, %d servers: p50 %.0f us, p99 %.0f us; baseline (libmicrohttpd "
	       "answering {}): p50 %.0f us, p99 %.0f us\n", servers, p50, p99, b50, b99);
	printf("BENCH api.get_p99_%s value=%.1f unit=us baseline=%.1f ratio=%.2f\n", name, p99,
	       b99, p99 / b99);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "config"))
		return do_config(atoi(argv[2]), atoi(argv[3]));
	if (argc == 6 && !strcmp(argv[1], "measure"))
		return do_measure(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5]);
	fprintf(stderr, "usage: bench_api config SERVERS FARMS\n"
			"       bench_api measure SOCK SERVERS FARMS NAME\n");
	return 2;
}
