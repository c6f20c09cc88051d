// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Prometheus renderer (user/api/metrics.c): exact lines for a representative status and
 * stats pair, label escaping, documents with parts missing or mistyped, and every rendering
 * read back by the reference parser (tests/unit/check_metrics.py, python3-prometheus-client).
 * TAP output comes from CMOCKA_MESSAGE_OUTPUT=TAP; run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "api/metrics.h"

#define CHECKER "tests/unit/check_metrics.py"

static const char status_json[] =
	"{\"serviceName\": \"demo\", \"zone\": \"local\", \"version\": \"0.2.0\", \"pid\": 1234,"
	" \"dataplane\": {\"pinDir\": \"/sys/fs/bpf/limpet/demo\", \"adopted\": false},"
	" \"interfaces\": [{\"name\": \"eth1\", \"ifindex\": 3, \"mode\": \"native\"}],"
	" \"counts\": {\"frontends\": 2, \"farms\": 2, \"servers\": 3, \"eligible\": 2},"
	" \"pendingChanges\": 4,"
	" \"lastRefresh\": {\"time\": \"2026-11-29T18:00:00Z\", \"result\": \"ok\","
	"                 \"message\": \"\", \"durationMs\": 1.2, \"trigger\": \"api\"},"
	" \"refreshes\": {\"ok\": 3, \"failed\": 1}, \"warnings\": []}";

static const char stats_json[] =
	"{\"verdicts\": {\"tx\": 10, \"redirect\": 0, \"pass_not_vip\": 3},"
	" \"sticky\": {\"entries\": 12, \"capacity\": 2621440, \"rated\": 1887436,"
	"             \"full\": 3},"
	" \"connections\": {\"entries\": 7, \"capacity\": 262144},"
	" \"frontends\": [{\"layer\": \"tcp\", \"frontendId\": 1, \"packets\": 5, \"bytes\": 400},"
	"                {\"layer\": \"udp\", \"frontendId\": 1, \"packets\": 2, \"bytes\": 120}],"
	" \"farms\": [{\"layer\": \"tcp\", \"farmId\": 1, \"stickyEntries\": 12, \"servers\": ["
	"     {\"serverId\": 1, \"packets\": 5, \"bytes\": 400, \"stickyEntries\": 12,"
	"      \"eligible\": true, \"state\": \"up\"},"
	"     {\"serverId\": 2, \"packets\": 9, \"bytes\": 800, \"stickyEntries\": 0,"
	"      \"eligible\": false, \"state\": \"down\"}]},"
	"   {\"layer\": \"udp\", \"farmId\": 3, \"stickyEntries\": 7, \"servers\": ["
	"     {\"serverId\": 1, \"packets\": 2, \"bytes\": 120, \"stickyEntries\": 7,"
	"      \"eligible\": true, \"state\": \"checking\"}]}]}";

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j)
		fail_msg("test JSON line %d: %s", e.line, e.text);
	return j;
}

static char *render(const char *status, const char *stats)
{
	json_t *a = parse(status), *b = parse(stats);
	char *text = metrics_render(a, b);

	json_decref(a);
	json_decref(b);
	assert_non_null(text);
	return text;
}

/* line is one whole line of text. */
static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("want the line\n  %s\nin\n%s", line, text);
}

/* Feed text to the reference parser's checker with these arguments; it must accept it. */
static void assert_parser_accepts(const char *text, const char *const *args)
{
	const char *argv[64] = { CHECKER };
	size_t n = 1, len = strlen(text);
	int fd[2], status;
	pid_t pid;

	for (; args[n - 1]; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(fd[0], 0);
		close(fd[0]);
		close(fd[1]);
		execv(CHECKER, (char *const *)argv);
		perror("# exec " CHECKER);
		_exit(127);
	}
	close(fd[0]);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd[1], text + off, len - off);

		assert_true(w > 0);
		off += w;
	}
	close(fd[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("%s rejected the text (exit %d; its complaints are above):\n%s", CHECKER,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, text);
}

static void test_representative(void **state)
{
	static const char *const families[] = {
		"--exact",
		"--family", "limpet_build_info=gauge",
		"--family", "limpet_frontend_packets_total=counter",
		"--family", "limpet_frontend_bytes_total=counter",
		"--family", "limpet_server_packets_total=counter",
		"--family", "limpet_server_bytes_total=counter",
		"--family", "limpet_server_eligible=gauge",
		"--family", "limpet_server_up=gauge",
		"--family", "limpet_server_state=gauge",
		"--family", "limpet_server_sticky_entries=gauge",
		"--family", "limpet_verdict_packets_total=counter",
		"--family", "limpet_sticky_entries=gauge",
		"--family", "limpet_sticky_capacity=gauge",
		"--family", "limpet_sticky_rated_sources=gauge",
		"--family", "limpet_sticky_full_total=counter",
		"--family", "limpet_conn_entries=gauge",
		"--family", "limpet_conn_capacity=gauge",
		"--family", "limpet_refresh_total=counter",
		"--family", "limpet_refresh_duration_seconds=gauge",
		"--family", "limpet_last_refresh_timestamp_seconds=gauge",
		"--family", "limpet_pending_changes=gauge",
		"--family", "limpet_interfaces_attached=gauge",
		"--sample", "limpet_server_sticky_entries{serviceName=\"demo\",layer=\"udp\","
			    "farmId=\"3\",serverId=\"1\"} 7",
		"--sample", "limpet_frontend_bytes_total{layer=\"udp\",frontendId=\"1\","
			    "serviceName=\"demo\"} 120",
		"--sample", "limpet_refresh_duration_seconds{serviceName=\"demo\"} 0.0012",
		"--sample", "limpet_server_state{serviceName=\"demo\",layer=\"tcp\","
			    "farmId=\"1\",serverId=\"1\",state=\"disabled\"} 0",
		NULL,
	};
	char *text = render(status_json, stats_json);

	(void)state;
	assert_line(text,
		    "# HELP limpet_build_info Always 1; the labels name the running limpetd.");
	assert_line(text, "# TYPE limpet_build_info gauge");
	assert_line(text, "limpet_build_info{serviceName=\"demo\",version=\"0.2.0\"} 1");
	assert_line(text, "# TYPE limpet_frontend_packets_total counter");
	assert_line(text, "limpet_frontend_packets_total{serviceName=\"demo\",layer=\"tcp\","
			  "frontendId=\"1\"} 5");
	assert_line(text, "limpet_server_bytes_total{serviceName=\"demo\",layer=\"tcp\","
			  "farmId=\"1\",serverId=\"2\"} 800");
	assert_line(text, "limpet_server_eligible{serviceName=\"demo\",layer=\"tcp\","
			  "farmId=\"1\",serverId=\"2\"} 0");
	assert_line(text, "limpet_server_sticky_entries{serviceName=\"demo\",layer=\"tcp\","
			  "farmId=\"1\",serverId=\"1\"} 12");
	assert_line(text, "# HELP limpet_server_up 1 if the server is active and its probe up or "
			  "checking (or it has no probe), else 0 (down or disabled).");
	assert_line(text, "limpet_server_up{serviceName=\"demo\",layer=\"tcp\",farmId=\"1\","
			  "serverId=\"2\"} 0");
	assert_line(text, "limpet_server_up{serviceName=\"demo\",layer=\"udp\",farmId=\"3\","
			  "serverId=\"1\"} 1");
	assert_line(text, "# TYPE limpet_server_state gauge");
	assert_line(text, "limpet_server_state{serviceName=\"demo\",layer=\"tcp\",farmId=\"1\","
			  "serverId=\"2\",state=\"down\"} 1");
	assert_line(text, "limpet_server_state{serviceName=\"demo\",layer=\"tcp\",farmId=\"1\","
			  "serverId=\"2\",state=\"up\"} 0");
	assert_line(text, "limpet_server_state{serviceName=\"demo\",layer=\"udp\",farmId=\"3\","
			  "serverId=\"1\",state=\"checking\"} 1");
	assert_line(text, "limpet_verdict_packets_total{serviceName=\"demo\",reason=\"tx\"} 10");
	assert_line(text, "limpet_sticky_capacity{serviceName=\"demo\"} 2621440");
	assert_line(text, "limpet_sticky_rated_sources{serviceName=\"demo\"} 1887436");
	assert_line(text, "# TYPE limpet_sticky_full_total counter");
	assert_line(text, "limpet_sticky_full_total{serviceName=\"demo\"} 3");
	assert_line(text, "limpet_conn_entries{serviceName=\"demo\"} 7");
	assert_line(text, "limpet_refresh_total{serviceName=\"demo\",result=\"ok\"} 3");
	assert_line(text, "limpet_refresh_total{serviceName=\"demo\",result=\"failed\"} 1");
	assert_line(text, "limpet_refresh_duration_seconds{serviceName=\"demo\"} 0.0012");
	assert_line(text, "limpet_last_refresh_timestamp_seconds{serviceName=\"demo\"} 1795975200");
	assert_line(text, "limpet_pending_changes{serviceName=\"demo\"} 4");
	assert_line(text, "limpet_interfaces_attached{serviceName=\"demo\"} 1");
	assert_parser_accepts(text, families);
	free(text);
}

static void test_empty_documents(void **state)
{
	static const char *const none[] = { "--exact", NULL };
	char *text = render("{}", "{}");

	(void)state;
	assert_string_equal(text, "");
	assert_parser_accepts(text, none);
	free(text);
	text = metrics_render(NULL, NULL);
	assert_non_null(text);
	assert_string_equal(text, "");
	free(text);
}

/* Mistyped or incomplete parts are left out, the rest is rendered. */
static void test_mistyped_parts(void **state)
{
	static const char *const only[] = {
		"--exact", "--family", "limpet_pending_changes=gauge",
		"--family", "limpet_server_packets_total=counter", NULL,
	};
	char *text = render("{\"serviceName\": \"demo\", \"interfaces\": {}, \"pendingChanges\": 2,"
			    " \"refreshes\": [], \"lastRefresh\": {\"time\": \"yesterday\","
			    " \"durationMs\": \"1\"}}",
			    "{\"frontends\": [{\"layer\": \"tcp\", \"packets\": 1}],"
			    " \"verdicts\": [1], \"sticky\": {\"entries\": \"12\"},"
			    " \"connections\": 3,"
			    " \"farms\": [{\"layer\": \"tcp\", \"farmId\": 1, \"servers\": ["
			    "   {\"serverId\": 1, \"packets\": 4, \"bytes\": \"x\"},"
			    "   {\"packets\": 5}]}, \"nonsense\"]}");

	(void)state;
	assert_line(text, "limpet_pending_changes{serviceName=\"demo\"} 2");
	assert_line(text, "limpet_server_packets_total{serviceName=\"demo\",layer=\"tcp\","
			  "farmId=\"1\",serverId=\"1\"} 4");
	assert_parser_accepts(text, only);
	free(text);
}

static void test_label_escaping(void **state)
{
	static const char *const args[] = {
		"--sample",
		"limpet_build_info{serviceName=\"a\\\"b\\\\c\\nd\",version=\"0.2.0\"} 1",
		"--sample", "limpet_verdict_packets_total{serviceName=\"a\\\"b\\\\c\\nd\","
			    "reason=\"odd\\\\\\\"\\n\"} 2",
		NULL,
	};
	char *text = render("{\"serviceName\": \"a\\\"b\\\\c\\nd\", \"version\": \"0.2.0\"}",
			    "{\"verdicts\": {\"odd\\\\\\\"\\n\": 2}}");

	(void)state;
	assert_line(text, "limpet_build_info{serviceName=\"a\\\"b\\\\c\\nd\",version=\"0.2.0\"} 1");
	assert_line(text, "limpet_verdict_packets_total{serviceName=\"a\\\"b\\\\c\\nd\","
			  "reason=\"odd\\\\\\\"\\n\"} 2");
	assert_parser_accepts(text, args);
	free(text);
}

static void test_refresh_time_with_offset(void **state)
{
	char *text = render("{\"lastRefresh\": {\"time\": \"2026-11-29T19:30:00.25+01:30\"}}",
			    "{}");

	(void)state;
	assert_string_equal(text, "# HELP limpet_last_refresh_timestamp_seconds When the last "
				  "refresh ran, in seconds since the epoch.\n"
				  "# TYPE limpet_last_refresh_timestamp_seconds gauge\n"
				  "limpet_last_refresh_timestamp_seconds 1795975200.25\n");
	free(text);
}

/* status.announce: one limpet_vip_announced series per VIP, and limpet_draining */
static void test_announce(void **state)
{
	static const char *const families[] = {
		"--exact",
		"--family", "limpet_vip_announced=gauge",
		"--family", "limpet_draining=gauge",
		"--sample", "limpet_vip_announced{serviceName=\"demo\","
			    "address=\"2001:2:0:100::1\"} 0",
		NULL,
	};
	char *text = render("{\"serviceName\": \"demo\", \"announce\": {\"table\": 100,"
			    " \"protocol\": 76, \"draining\": false, \"vips\": ["
			    " {\"address\": \"198.18.100.1\", \"announced\": true, \"reason\": \"ready\"},"
			    " {\"address\": \"2001:2:0:100::1\", \"announced\": false,"
			    "  \"reason\": \"noEligibleServer\"}]}}", "{}");

	(void)state;
	assert_line(text, "# TYPE limpet_vip_announced gauge");
	assert_line(text, "limpet_vip_announced{serviceName=\"demo\",address=\"198.18.100.1\"} 1");
	assert_line(text, "limpet_draining{serviceName=\"demo\"} 0");
	assert_parser_accepts(text, families);
	free(text);
}

/* stats.l7: per-server requests, responses by class, the latency histogram and requests in
 * flight (labelled like the XDP path's per-server series), connections by side, errors */
static void test_l7(void **state)
{
	static const char *const families[] = {
		"--exact",
		"--family", "limpet_l7_requests_total=counter",
		"--family", "limpet_l7_responses_total=counter",
		"--family", "limpet_l7_response_seconds=histogram",
		"--family", "limpet_l7_active_requests=gauge",
		"--family", "limpet_l7_connections=gauge",
		"--family", "limpet_l7_errors_total=counter",
		"--sample", "limpet_l7_response_seconds_bucket{serviceName=\"demo\",layer=\"http\","
			    "farmId=\"1\",serverId=\"2\",le=\"0.01\"} 3",
		"--sample", "limpet_l7_response_seconds_count{serviceName=\"demo\",layer=\"http\","
			    "farmId=\"1\",serverId=\"2\"} 4",
		"--sample", "limpet_l7_errors_total{serviceName=\"demo\",status=\"502\"} 2",
		NULL,
	};
	char *text = render("{\"serviceName\": \"demo\"}",
			    "{\"l7\": {\"connections\": {\"client\": 5, \"backend\": 2,"
			    " \"backendIdle\": 1},"
			    " \"farm\": [{\"farmId\": 1, \"server\": [{\"serverId\": 2,"
			    "  \"requests\": 4, \"active\": 1, \"responses\": {\"1xx\": 0,"
			    "  \"2xx\": 3, \"3xx\": 0, \"4xx\": 0, \"5xx\": 1, \"other\": 0},"
			    "  \"latency\": {\"le\": [0.001, 0.01, 1], \"count\": [1, 3, 4],"
			    "  \"sum\": 0.25, \"total\": 4}}]}],"
			    " \"errors\": {\"400\": 0, \"502\": 2, \"503\": 1}}}");

	(void)state;
	assert_line(text, "# TYPE limpet_l7_response_seconds histogram");
	assert_line(text, "limpet_l7_requests_total{serviceName=\"demo\",layer=\"http\","
			  "farmId=\"1\",serverId=\"2\"} 4");
	assert_line(text, "limpet_l7_responses_total{serviceName=\"demo\",layer=\"http\","
			  "farmId=\"1\",serverId=\"2\",class=\"5xx\"} 1");
	assert_line(text, "limpet_l7_response_seconds_bucket{serviceName=\"demo\",layer=\"http\","
			  "farmId=\"1\",serverId=\"2\",le=\"0.001\"} 1");
	assert_line(text, "limpet_l7_response_seconds_bucket{serviceName=\"demo\",layer=\"http\","
			  "farmId=\"1\",serverId=\"2\",le=\"+Inf\"} 4");
	assert_line(text, "limpet_l7_response_seconds_sum{serviceName=\"demo\",layer=\"http\","
			  "farmId=\"1\",serverId=\"2\"} 0.25");
	assert_line(text, "limpet_l7_active_requests{serviceName=\"demo\",layer=\"http\","
			  "farmId=\"1\",serverId=\"2\"} 1");
	assert_line(text, "limpet_l7_connections{serviceName=\"demo\",side=\"backendIdle\"} 1");
	assert_line(text, "limpet_l7_errors_total{serviceName=\"demo\",status=\"503\"} 1");
	assert_parser_accepts(text, families);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_representative),
		cmocka_unit_test(test_empty_documents),
		cmocka_unit_test(test_mistyped_parts),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_refresh_time_with_offset),
		cmocka_unit_test(test_announce),
		cmocka_unit_test(test_l7),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
