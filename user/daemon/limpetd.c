// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * limpetd: loads the balancer, attaches it (libxdp), pins its maps under
 * /sys/fs/bpf/limpet/<serviceName>/, applies the config, keeps the servers' neighbours
 * resolved, probes the servers and re-applies the config when a probe changes a server's
 * eligibility, serves the REST API (staged config, refresh), re-reads the config file on
 * SIGHUP and cleans up on SIGTERM. Everything runs on one epoll loop: signals, a 1 s tick,
 * the API, the prober.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include "api/server.h"
#include "apply/apply.h"
#include "common/log.h"
#include "config/config.h"
#include "daemon/announce.h"
#include "daemon/attach.h"
#include "daemon/daemonize.h"
#include "daemon/fibwatch.h"
#include "daemon/localroute.h"
#include "daemon/neigh.h"
#include "daemon/nl.h"
#include "daemon/notify.h"
#include "daemon/preflight.h"
#include "daemon/service.h"
#include "daemon/state.h"
#include "daemon/version.h"
#include "dataplane/dataplane.h"
#include "health/health.h"
#include "l7/l7.h"

#define BPFFS		"/sys/fs/bpf"
#define RUN_DIR		"/run/limpet"
#define NEIGH_REFRESH	10	/* seconds between neighbour checks */
#define MAX_IFACES	LB_IFACES_MAX
#define DEFAULT_CONFIG	"/etc/limpet/limpet.json"
#define DEFAULT_API	"unix:" RUN_DIR "/limpet.sock"
#define STOP_DRAIN_MS	1000	/* how long a stopping limpetd lets its last answers go out */
#define WHY_NAMED	3	/* probe transitions a re-apply's log line names */
#define L7_WORKERS_MAX	1024	/* --l7-workers */
#define ANNOUNCE_PROTO	NL_PROTO_LIMPET	/* one tag for every netlink entry limpetd makes */

enum exit_code { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct options {
	const char *config;		/* NULL: the state directory's, else DEFAULT_CONFIG */
	const char *ifaces;
	const char *state_dir;
	const char *api;
	const char *token_file;
	const char *metrics;
	enum attach_req mode;
	bool set_forwarding;
	bool check_only;
	bool foreground;
	bool replace_dataplane;
	uint64_t sticky_capacity;	/* --sticky-capacity; 0: the default table */
	int log_level;
	uint32_t announce_table;	/* 0: announce nothing */
	uint8_t announce_proto;
	const char *instance;		/* NULL, or the suffix of the pin dir and lock names */
	unsigned l7_workers;		/* 0: one per online CPU */
};

struct daemon {
	struct options opt;
	const char *config_path;	/* the file SIGHUP re-reads, NULL if none */
	struct config *cfg;		/* until the service takes it over */
	struct service *svc;
	struct api_addr api_addr, metrics_addr;
	char *token;
	int api_fd, metrics_fd;		/* listening, until the servers take them over */
	struct api_server *api, *metrics;
	bool neigh_due;			/* servers' neighbours to check after this loop turn */
	bool neigh_loud;		/* the config changed since the last check: warn */
	struct dataplane *dp;
	bool adopted;			/* dp is the one an earlier limpetd left pinned */
	struct applier *ap;
	struct health *health;
	/* probe transitions since the last re-apply: applied together after the loop turn */
	struct server_ref *changed;
	size_t nchanged, changed_cap;
	bool elig_dirty;		/* re-apply after this loop turn */
	bool elig_retry;		/* the last re-apply failed: again at the next tick */
	struct neigh_keeper *nk;
	struct announcer *ann;		/* NULL: --announce-table not given */
	struct l7 *l7;			/* the L7 proxy: serves the http frontends */
	struct localroutes *routes;	/* the http VIPs' local routes, for the proxy */
	struct attachment att[MAX_IFACES];
	char ifname[MAX_IFACES][IF_NAMESIZE];
	int nifaces;
	char pin_dir[PATH_MAX];
	char lock_path[PATH_MAX];
	int lock_fd;
};

/* One table for getopt_long and --help, so the help cannot drift from the code. */
static const struct opt_doc {
	struct option o;
	const char *arg, *help;
} opt_docs[] = {
	{ { "config", required_argument, NULL, 'c' }, "FILE",
	  "config file, re-read on SIGHUP (default: the config last applied, saved in the state "
	  "directory; if none, " DEFAULT_CONFIG ")" },
	{ { "iface", required_argument, NULL, 'i' }, "IFACE[,IFACE...]",
	  "devices to attach the balancer to (required)" },
	{ { "set-forwarding", no_argument, NULL, 'F' }, NULL,
	  "turn IP forwarding on where the balancer needs it (net.ipv4|ipv6.conf.IFACE.forwarding"
	  " of the --iface devices) and log each change; without it limpetd refuses to start" },
	{ { "xdp-mode", required_argument, NULL, 'm' }, "native|generic|auto",
	  "XDP attach mode (default auto: native where the driver has it, else generic)" },
	{ { "replace-dataplane", no_argument, NULL, 'R' }, NULL,
	  "replace the dataplane an earlier limpetd left pinned instead of adopting it (needed "
	  "when its ABI differs; sticky and connection tables start empty)" },
	{ { "sticky-capacity", required_argument, NULL, 'S' }, "SOURCES",
	  "size the sticky table to record this many live client sources without a hole "
	  "(default 1887436: 2^19 buckets, 34 MiB); an adopted dataplane keeps its own size" },
	{ { "state-dir", required_argument, NULL, 's' }, "DIR",
	  "where the applied config is saved as <serviceName>.json (default /var/lib/limpet)" },
	{ { "api", required_argument, NULL, 'a' }, "unix:PATH|tcp:ADDR:PORT",
	  "where the REST API listens (default " DEFAULT_API ", mode 0600; tcp needs "
	  "--api-token-file)" },
	{ { "api-token-file", required_argument, NULL, 't' }, "FILE",
	  "bearer token for the API (first line of FILE), required with --api tcp:" },
	{ { "metrics", required_argument, NULL, 'M' }, "ADDR:PORT",
	  "also serve GET /metrics (Prometheus) on this TCP address, without a token" },
	{ { "announce-table", required_argument, NULL, 'T' }, "N",
	  "keep a blackhole route per VIP ready to serve in kernel routing table N, for the "
	  "node's BIRD to learn and announce over BGP (1..4294967295 but 253-255; default 0: "
	  "announce nothing)" },
	{ { "announce-proto", required_argument, NULL, 'P' }, "P",
	  "the routing protocol number of those routes (5..255 but 12, BIRD's own; default 76, "
	  "as limpet's neighbour entries)" },
	{ { "instance", required_argument, NULL, 'I' }, "NAME",
	  "run beside other limpetd of the same service on one host (one per network "
	  "namespace): pins under " BPFFS "/limpet/<serviceName>@NAME, lock " RUN_DIR
	  "/<serviceName>@NAME.lock" },
	{ { "l7-workers", required_argument, NULL, 'W' }, "N",
	  "threads of the L7 proxy serving the http frontends, each with its own listener per "
	  "VIP and port (0..1024; default 0: one per online CPU)" },
	{ { "foreground", no_argument, NULL, 'f' }, NULL,
	  "stay in the foreground and log to stderr (default: detach, log to syslog)" },
	{ { "log-level", required_argument, NULL, 'l' }, "error|warn|info|debug",
	  "how much to log (default info)" },
	{ { "check", no_argument, NULL, 'C' }, NULL,
	  "validate the config, print what it holds, and exit (no --iface needed)" },
	{ { "help", no_argument, NULL, 'h' }, NULL, "show this help and exit" },
	{ { "version", no_argument, NULL, 'V' }, NULL, "show the version and exit" },
};

#define NOPTS (sizeof(opt_docs) / sizeof(opt_docs[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: limpetd --iface IFACE[,IFACE...] [options]\n"
		     "       limpetd --check [--config FILE]\n\n"
		     "limpet load balancer daemon: XDP dataplane with source-IP stickiness, REST API\n"
		     "with staged config and refresh (limpetctl). SIGHUP re-reads the config file\n"
		     "and applies it; SIGTERM detaches, unpins and exits. A dataplane left\n"
		     "running (crash, kill -9, shutdown keeping it) is adopted with its sticky\n"
		     "and connection tables: no client moves.\n\noptions:\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", opt_docs[i].o.name,
			 opt_docs[i].arg ? " " : "", opt_docs[i].arg ? opt_docs[i].arg : "");
		fprintf(out, "  %-34s %s\n", left, opt_docs[i].help);
	}
	fprintf(out, "\nexit status: 0 ok, 1 runtime failure, 2 bad usage or config\n");
}

/* --announce-table (c 'T') and --announce-proto ('P'): tables the kernel uses itself and
 * protocol numbers BIRD does not learn (kernel, redirect) or takes for its own are refused. */
static int parse_announce(int c, const char *arg, struct options *o)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (c == 'T' && !errno && !*end && *arg && v <= UINT32_MAX && (v < 253 || v > 255)) {
		o->announce_table = v;
		return 0;
	}
	if (c == 'P' && !errno && !*end && *arg && v >= 5 && v <= 255 && v != 12) {
		o->announce_proto = v;
		return 0;
	}
	fprintf(stderr, "limpetd: --announce-%s %s: expected %s\n", c == 'T' ? "table" : "proto",
		arg, c == 'T' ? "0..4294967295 but 253, 254 and 255 (default, main, local)"
			      : "5..255 but 12");
	return -EINVAL;
}

/* --sticky-capacity: the live sources the table is rated for (LB_STICKY_RATED) */
static int parse_sticky_capacity(const char *arg, struct options *o)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!errno && *arg && *arg != '-' && !*end && v && dataplane_sticky_buckets_for(v)) {
		o->sticky_capacity = v;
		return 0;
	}
	fprintf(stderr, "limpetd: --sticky-capacity %s: expected 1..%llu\n", arg,
		(unsigned long long)LB_STICKY_RATED(LB_STICKY_BUCKETS_MAX));
	return -EINVAL;
}

static int parse_l7_workers(const char *arg, struct options *o)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (!errno && *arg && *arg != '-' && !*end && n <= L7_WORKERS_MAX) {
		o->l7_workers = n;
		return 0;
	}
	fprintf(stderr, "limpetd: --l7-workers %s: expected 0..%d (0: one per online CPU)\n", arg,
		L7_WORKERS_MAX);
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	struct option lo[NOPTS + 1];
	int c;

	for (size_t i = 0; i < NOPTS; i++)
		lo[i] = opt_docs[i].o;
	memset(&lo[NOPTS], 0, sizeof(lo[NOPTS]));
	*o = (struct options){ .state_dir = "/var/lib/limpet", .api = DEFAULT_API,
			       .log_level = LOG_LVL_INFO, .announce_proto = ANNOUNCE_PROTO };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'i': o->ifaces = optarg; break;
		case 'F': o->set_forwarding = true; break;
		case 's': o->state_dir = optarg; break;
		case 'a': o->api = optarg; break;
		case 't': o->token_file = optarg; break;
		case 'M': o->metrics = optarg; break;
		case 'f': o->foreground = true; break;
		case 'R': o->replace_dataplane = true; break;
		case 'S':
			if (parse_sticky_capacity(optarg, o))
				return -EINVAL;
			break;
		case 'T':
		case 'P':
			if (parse_announce(c, optarg, o))
				return -EINVAL;
			break;
		case 'I':
			if (!optarg[0] || strlen(optarg) > 32 ||
			    optarg[strspn(optarg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "0123456789._-")]) {
				fprintf(stderr, "limpetd: --instance %s: expected 1 to 32 letters, "
						"digits, '.', '_' or '-'\n", optarg);
				return -EINVAL;
			}
			o->instance = optarg;
			break;
		case 'C': o->check_only = true; break;
		case 'W':
			if (parse_l7_workers(optarg, o))
				return -EINVAL;
			break;
		case 'm':
			if (attach_req_parse(optarg, &o->mode)) {
				fprintf(stderr, "limpetd: --xdp-mode %s: expected native, generic "
						"or auto\n", optarg);
				return -EINVAL;
			}
			break;
		case 'l':
			o->log_level = log_level_parse(optarg);
			if (o->log_level < 0) {
				fprintf(stderr, "limpetd: --log-level %s: expected error, warn, "
						"info or debug\n", optarg);
				return -EINVAL;
			}
			break;
		case 'h': usage(stdout); exit(EXIT_OK);
		case 'V': printf("limpetd %s\n", LIMPET_VERSION); exit(EXIT_OK);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "limpetd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->ifaces && !o->check_only) {
		fprintf(stderr, "limpetd: --iface is required\n");
		return -EINVAL;
	}
	return 0;
}

/* Load and validate the config; print every error. */
static struct config *load_config(const char *path)
{
	struct cfg_errors errs = { 0 };
	struct config *cfg = NULL;

	if (config_load_file(path, &cfg, &errs)) {
		for (size_t i = 0; i < errs.n; i++)
			pr_err("%s: %s", path, errs.msg[i]);
		pr_err("%s: %zu error%s, config rejected", path, errs.n, errs.n == 1 ? "" : "s");
		cfg_errors_free(&errs);
		return NULL;
	}
	return cfg;
}

/* --check: validate, and say what the config holds */
static int check_config(const char *path)
{
	struct config *cfg = load_config(path);

	if (!cfg)
		return EXIT_USAGE;
	printf("%s: ok: service %s", path, cfg->service_name);
	for (int l = 0; l < CFG_LAYERS; l++)
		printf(", %s %zu frontend%s %zu farm%s", cfg_layer_name(l),
		       cfg->layer[l].nfrontends, cfg->layer[l].nfrontends == 1 ? "" : "s",
		       cfg->layer[l].nfarms, cfg->layer[l].nfarms == 1 ? "" : "s");
	printf("\n");
	config_free(cfg);
	return EXIT_OK;
}

static int resolve_ifaces(struct daemon *d)
{
	char buf[1024], *save = NULL, *name;

	if (strlen(d->opt.ifaces) >= sizeof(buf))
		return -E2BIG;
	strcpy(buf, d->opt.ifaces);
	for (name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		if (d->nifaces == MAX_IFACES) {
			fprintf(stderr, "limpetd: --iface: more than %d devices\n", MAX_IFACES);
			return -E2BIG;
		}
		if (strlen(name) >= IF_NAMESIZE || !if_nametoindex(name)) {
			fprintf(stderr, "limpetd: --iface %s: no such interface\n", name);
			return -ENODEV;
		}
		for (int i = 0; i < d->nifaces; i++) {
			if (!strcmp(d->ifname[i], name)) {
				fprintf(stderr, "limpetd: --iface %s given twice\n", name);
				return -EINVAL;
			}
		}
		strcpy(d->ifname[d->nifaces++], name);
	}
	if (!d->nifaces) {
		fprintf(stderr, "limpetd: --iface: no device named\n");
		return -EINVAL;
	}
	return 0;
}

/* One daemon per serviceName: an flock on /run/limpet/<serviceName>.lock, holding our pid. */
static int take_lock(struct daemon *d)
{
	char pid[32] = "";

	mkdir(RUN_DIR, 0755);
	snprintf(d->lock_path, sizeof(d->lock_path), RUN_DIR "/%s%s%s.lock", d->cfg->service_name,
		 d->opt.instance ? "@" : "", d->opt.instance ? d->opt.instance : "");
	d->lock_fd = open(d->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (d->lock_fd < 0) {
		pr_err("%s: %s", d->lock_path, strerror(errno));
		return -errno;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB)) {
		if (read(d->lock_fd, pid, sizeof(pid) - 1) < 0)
			pid[0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		pr_err("service %s is already running (pid %s, lock %s): not starting a second "
		       "instance", d->cfg->service_name, pid[0] ? pid : "?", d->lock_path);
		close(d->lock_fd);
		d->lock_fd = -1;
		return -EEXIST;
	}
	return 0;
}

static void write_pid(struct daemon *d)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d\n", getpid());

	if (ftruncate(d->lock_fd, 0) || pwrite(d->lock_fd, pid, n, 0) != n)
		pr_warn("%s: cannot record the pid: %s", d->lock_path, strerror(errno));
}

static int mount_bpffs(void)
{
	struct statfs st;

	if (!statfs(BPFFS, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS, "bpf", 0, "mode=0700")) {
		pr_err("mounting bpffs at " BPFFS ": %s", strerror(errno));
		return -errno;
	}
	pr_info("mounted bpffs at " BPFFS);
	return 0;
}

/* Said once per apply; the periodic re-checks of an unchanged config say it at debug level
 * (a server without a route would otherwise fill the log every NEIGH_REFRESH seconds). */
static void keep_one(const struct cfg_server *s, void *arg)
{
	struct daemon *d = arg;
	int err = neigh_keep(d->nk, s->addr.family, s->addr.addr);

	if (err)
		log_msg(d->neigh_loud ? LOG_LVL_WARN : LOG_LVL_DEBUG,
			"server %u: keeping its neighbour resolved: %s", s->id, strerror(-err));
}

/* After every refresh: new servers get their neighbours resolved, once the answer is out
 * (a netlink round trip per server would otherwise lengthen every refresh). */
static void on_applied(void *arg, const struct config *cfg)
{
	struct daemon *d = arg;

	(void)cfg;
	d->neigh_due = true;
	d->neigh_loud = true;
}

/* The applier asks the prober (applier_set_probe). */
static bool probe_up(void *arg, enum cfg_layer l, uint32_t farm, uint32_t server)
{
	return health_up(arg, l, farm, server);
}

/*
 * A probe result changed a server's eligibility. Nothing is applied here: the results of one
 * loop turn are re-applied together after it (one farm swap for all of them, when a switch
 * or a backend host takes many servers down at once).
 */
static void on_probe(void *arg, enum cfg_layer l, uint32_t farm, uint32_t server, bool up)
{
	struct daemon *d = arg;
	struct server_ref *more;

	(void)up;	/* the state when the re-apply runs is the one that counts */
	d->elig_dirty = true;
	if (d->nchanged == d->changed_cap) {
		more = reallocarray(d->changed, d->changed_cap ? d->changed_cap * 2 : 16,
				    sizeof(*more));
		if (!more) {
			pr_err("%s farm %u: server %u: no memory to record the probe result: "
			       "re-applied without its shutdown-sessions", cfg_layer_name(l), farm,
			       server);
			return;
		}
		d->changed = more;
		d->changed_cap = d->changed_cap ? d->changed_cap * 2 : 16;
	}
	d->changed[d->nchanged++] = (struct server_ref){ l, farm, server };
}

/* Re-apply the applied config with the probe state (not a refresh: nothing is saved), then
 * remove the sessions of servers gone down with onMarkedDown shutdown-sessions. */
static void reapply_probes(struct daemon *d)
{
	char why[256] = "probe results";
	size_t len = 0;

	for (size_t i = 0; i < d->nchanged && i < WHY_NAMED; i++) {
		const struct server_ref *r = &d->changed[i];

		len += snprintf(why + len, sizeof(why) - len, "%s%s farm %u: server %u %s",
				i ? ", " : "", cfg_layer_name(r->layer), r->farm, r->server,
				health_up(d->health, r->layer, r->farm, r->server) ? "up" : "down");
	}
	if (d->nchanged > WHY_NAMED)
		snprintf(why + len, sizeof(why) - len, " and %zu more", d->nchanged - WHY_NAMED);
	d->elig_dirty = false;
	d->elig_retry = !!service_reapply(d->svc, why);
	if (d->elig_retry)
		return;
	service_shutdown_sessions(d->svc, d->changed, d->nchanged);
	d->nchanged = 0;
}

static json_t *interfaces_json(void *arg)
{
	struct daemon *d = arg;
	json_t *a = json_array();

	for (int i = 0; i < d->nifaces; i++)
		json_array_append_new(a, json_pack("{s:s, s:i, s:s}", "name", d->ifname[i],
						   "ifindex", d->att[i].ifindex, "mode",
						   d->att[i].prog ? attach_mode_name(d->att[i].mode)
								  : "detached"));
	return a;
}

/* The first apply, before the service exists; later ones go through service_refresh. */
static int apply_initial(struct daemon *d)
{
	struct http_eligibility el = { .ap = d->ap };
	struct apply_counts c;
	char msg[256];
	json_t *doc;
	int err;

	/* as service_refresh does: the http layer before the dataplane passes it packets */
	err = localroutes_add(d->routes, d->cfg);
	if (err) {
		pr_err("adding the local routes of the http VIPs: %s", strerror(-err));
		return err;
	}
	err = l7_apply(d->l7, d->cfg, http_server_eligible, &el, msg, sizeof(msg));
	if (err) {
		pr_err("starting the L7 proxy on the config: %s", msg);
		return err;
	}
	err = applier_apply(d->ap, d->dp, d->cfg, &c);
	if (err) {
		pr_err("applying the config: %s", strerror(-err));
		return err;
	}
	/* those an earlier limpetd left for VIPs the config no longer has */
	localroutes_sync(d->routes, d->cfg);
	doc = config_to_json(d->cfg);
	err = doc ? state_save(d->opt.state_dir, d->cfg->service_name, doc) : -ENOMEM;
	if (err)
		pr_warn("saving the applied config in %s: %s", d->opt.state_dir, strerror(-err));
	json_decref(doc);
	pr_info("config applied: %zu farm%s, %zu servers (%zu eligible), %zu frontends, %zu VIP "
		"keys, %zu allowedSource prefixes", c.farms, c.farms == 1 ? "" : "s", c.servers,
		c.eligible, c.frontends, c.vip_keys, c.acl);
	return 0;
}

static void detach_all(struct daemon *d)
{
	for (int i = 0; i < d->nifaces; i++) {
		if (d->att[i].prog)
			pr_info("detaching from %s", d->ifname[i]);
		attach_release(&d->att[i]);
	}
}

/* The adopted program still runs on a device this limpetd is not given (--iface changed). */
static void detach_elsewhere(struct daemon *d)
{
	struct if_nameindex *all = if_nameindex();
	struct attachment a;

	for (struct if_nameindex *n = all; n && n->if_index; n++) {
		bool given = false;

		for (int i = 0; i < d->nifaces && !given; i++)
			given = !strcmp(d->ifname[i], n->if_name);
		if (given || attach_adopt(dataplane_prog_fd(d->dp), n->if_index, &a) <= 0)
			continue;
		pr_info("%s: detaching the adopted program (not in --iface)", n->if_name);
		attach_release(&a);
	}
	if_freenameindex(all);
}

/* Where the adopted program runs it stays, without a gap; elsewhere the program is attached. */
static int attach_all(struct daemon *d)
{
	int fd = dataplane_prog_fd(d->dp), err, kept;

	for (int i = 0; i < d->nifaces; i++) {
		int ifindex = if_nametoindex(d->ifname[i]);
		struct attachment *a = &d->att[i];

		err = dataplane_port_add(d->dp, ifindex);
		kept = !err && d->adopted ? attach_adopt(fd, ifindex, a) : 0;
		if (kept > 0) {
			pr_info("%s: the adopted program stays attached (%s XDP)", d->ifname[i],
				attach_mode_name(a->mode));
			if (d->opt.mode != ATTACH_AUTO &&
			    (d->opt.mode == ATTACH_GENERIC) != (a->mode == XDP_MODE_SKB))
				pr_warn("%s: --xdp-mode asks for another mode; the adopted program "
					"keeps its own (--replace-dataplane attaches anew)",
					d->ifname[i]);
			preflight_xdp_mode(d->ifname[i], d->opt.mode, a->mode);
			continue;
		}
		err = err ?: kept;
		if (!err && attach_clear_stale(ifindex, "limpet_balancer", fd))
			pr_warn("%s: removed a limpet program left by an earlier run",
				d->ifname[i]);
		if (!err)
			err = attach_prog(fd, ifindex, d->opt.mode, a);
		if (err) {
			pr_err("attaching to %s: %s", d->ifname[i], strerror(-err));
			return err;
		}
		pr_info("attached to %s (%s XDP)", d->ifname[i], attach_mode_name(a->mode));
		preflight_xdp_mode(d->ifname[i], d->opt.mode, a->mode);
	}
	if (d->adopted)
		detach_elsewhere(d);
	return 0;
}

static int create_dataplane(struct daemon *d)
{
	struct dataplane_opts o = {
		/* 0: the default size */
		.sticky_buckets = d->opt.sticky_capacity
					  ? dataplane_sticky_buckets_for(d->opt.sticky_capacity)
					  : 0,
	};
	int err = dataplane_open(&d->dp, &o);

	if (err)
		return err;
	mkdir(BPFFS "/limpet", 0700);
	err = dataplane_pin(d->dp, d->pin_dir);
	if (err) {
		pr_err("pinning under %s: %s", d->pin_dir, strerror(-err));
		d->pin_dir[0] = 0;
	}
	return err;
}

#define REPLACE_HINT	"start limpetd with --replace-dataplane to replace it (its sticky and " \
			"connection tables are lost: clients may move)"

/*
 * A dataplane pinned under pin_dir was left running by an earlier limpetd (a crash, kill -9,
 * a shutdown keeping it): adopt it with every sticky and connection entry, so that no client
 * moves. One that cannot be adopted (another ABI) keeps running untouched, and limpetd stops,
 * unless told to replace it.
 */
static int open_dataplane(struct daemon *d)
{
	struct dp_census sticky = { 0 }, conns = { 0 };
	char why[256];
	int err, nfarms;

	if (dataplane_pinned(d->pin_dir) && d->opt.replace_dataplane) {
		pr_warn("%s: replacing the dataplane pinned there (--replace-dataplane): "
			"sticky and connection tables start empty", d->pin_dir);
		err = dataplane_unpin(d->pin_dir);
		if (err) {
			pr_err("%s: removing the pins: %s", d->pin_dir, strerror(-err));
			return err;
		}
	}
	if (!dataplane_pinned(d->pin_dir))
		return create_dataplane(d);
	nfarms = dataplane_adopt(&d->dp, d->pin_dir, why);
	if (nfarms < 0) {
		pr_err("%s: cannot adopt the dataplane pinned there: %s. It keeps running as it "
		       "is; " REPLACE_HINT, d->pin_dir, why);
		return nfarms;
	}
	d->adopted = true;
	err = applier_adopt(d->ap, d->dp);
	if (err) {
		pr_err("%s: reading the slot record of the pinned dataplane: %s; " REPLACE_HINT,
		       d->pin_dir, strerror(-err));
		return err;
	}
	if (dataplane_sticky_census(d->dp, &sticky) || dataplane_conn_census(d->dp, &conns))
		pr_warn("%s: counting the adopted sticky and connection entries failed",
			d->pin_dir);
	pr_info("adopted the dataplane pinned under %s (%d farm%s, %llu sticky entr%s and %llu "
		"connection%s kept)", d->pin_dir, nfarms, nfarms == 1 ? "" : "s",
		(unsigned long long)sticky.entries, sticky.entries == 1 ? "y" : "ies",
		(unsigned long long)conns.entries, conns.entries == 1 ? "" : "s");
	dp_census_free(&sticky);
	dp_census_free(&conns);
	return 0;
}

/* What the sticky table holds and costs; an adopted one keeps the size it was made with. */
static void sticky_size_log(const struct daemon *d)
{
	uint32_t b = dataplane_sticky_buckets(d->dp);
	uint32_t want = dataplane_sticky_buckets_for(d->opt.sticky_capacity);

	pr_info("sticky table: %u buckets, rated for %llu live sources, %.1f MiB with its "
		"summaries", b, (unsigned long long)LB_STICKY_RATED(b),
		b * (sizeof(struct lb_sticky_bucket) +
		     sizeof(struct lb_sticky_sum) / (double)LB_STICKY_SUM_BUCKETS) / (1 << 20));
	if (d->adopted && d->opt.sticky_capacity && want != b)
		pr_warn("--sticky-capacity %llu ignored: the adopted table keeps its size; start "
			"with --replace-dataplane to resize it (clients may move)",
			(unsigned long long)d->opt.sticky_capacity);
}

/* Servers the adopted dataplane had down by their probe start down, not "checking": until
 * rise good checks, the restart hands them no new clients (nor moves old ones back). */
static void seed_adopted_down(struct daemon *d)
{
	size_t n = 0;

	for (int l = 0; l < CFG_LAYERS; l++) {
		const struct cfg_layer_cfg *lc = &d->cfg->layer[l];

		for (size_t j = 0; j < lc->nfarms; j++) {
			const struct cfg_farm *f = &lc->farms[j];

			for (size_t k = 0; k < f->nservers && f->probe.present; k++) {
				const struct cfg_server *s = &f->servers[k];

				if (s->probe && s->active &&
				    applier_adopted_down(d->ap, d->dp, l, f->id, s->id))
					n += health_seed_down(d->health, l, f->id, s->id);
			}
		}
	}
	if (n)
		pr_info("health: %zu server%s down before the restart: %s down until %s rise "
			"checks", n, n == 1 ? " was" : "s were", n == 1 ? "it stays" : "they stay",
			n == 1 ? "it passes" : "they pass");
}

/* A proxy holds two sockets per request in flight: the soft open-file limit (1024 under
 * systemd) goes up to the hard one (the prober raises it further for its own if need be). */
static void nofile_for_l7(void)
{
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (!setrlimit(RLIMIT_NOFILE, &rl))
		pr_info("raised the open-file limit (RLIMIT_NOFILE) from %llu to %llu for the L7 "
			"proxy's connections", (unsigned long long)was,
			(unsigned long long)rl.rlim_cur);
}

/* The proxy (its workers wait with an empty config; the state directory holds its cookie
 * secret) and the local routes of its VIPs, those a previous limpetd left taken over. */
static int start_l7(struct daemon *d)
{
	struct l7_opts o = { .workers = d->opt.l7_workers, .state_dir = d->opt.state_dir };
	char msg[256];
	int err = localroutes_new(&d->routes, d->cfg->service_name);

	if (err) {
		pr_err("reading the local routes of the http VIPs: %s", strerror(-err));
		return err;
	}
	nofile_for_l7();
	err = l7_new(&d->l7, &o, msg, sizeof(msg));
	if (err)
		pr_err("starting the L7 proxy: %s", msg);
	return err;
}

static int start(struct daemon *d)
{
	int err;

	err = mount_bpffs();
	err = err ?: applier_new(&d->ap);
	err = err ?: neigh_keeper_new(&d->nk);
	if (err)
		return err;
	snprintf(d->pin_dir, sizeof(d->pin_dir), BPFFS "/limpet/%s%s%s", d->cfg->service_name,
		 d->opt.instance ? "@" : "", d->opt.instance ? d->opt.instance : "");
	err = open_dataplane(d);
	if (err)
		return err;
	sticky_size_log(d);
	/* the prober before the first apply, which asks it: every probed server is "checking"
	 * (eligible) until its first result, but for those an adopted dataplane had down */
	err = health_new(&d->health, &(struct health_cb){ .changed = on_probe, .arg = d });
	err = err ?: health_sync(d->health, d->cfg);
	if (err) {
		pr_err("starting the prober: %s", strerror(-err));
		return err;
	}
	if (d->adopted)
		seed_adopted_down(d);
	applier_set_probe(d->ap, probe_up, d->health);
	err = start_l7(d);
	err = err ?: apply_initial(d);
	if (err)
		return err;
	d->neigh_loud = true;
	config_for_each_server(d->cfg, keep_one, d);
	d->neigh_loud = false;
	err = attach_all(d);
	/* attached: the VIPs may be announced (the service syncs them once it runs) */
	if (!err && d->opt.announce_table) {
		err = announcer_new(&d->ann, d->opt.announce_table, d->opt.announce_proto);
		if (err)
			pr_err("announce: reading routing table %u: %s", d->opt.announce_table,
			       strerror(-err));
	}
	return err;
}

/* keep: leave the program attached and the maps pinned, for the next limpetd to adopt. */
static void stop(struct daemon *d, bool keep)
{
	api_server_stop(d->api);
	api_server_stop(d->metrics);
	if (d->api_fd >= 0) {
		close(d->api_fd);
		if (d->api_addr.is_unix)
			unlink(d->api_addr.path);
	}
	if (d->metrics_fd >= 0)
		close(d->metrics_fd);
	/* routes first: the routers stop sending before the balancer goes */
	announcer_free(d->ann, keep);
	/* the proxy's connections end with it; a dataplane kept still passes the http VIPs'
	 * packets up, for the next limpetd's proxy: their local routes stay with it */
	l7_free(d->l7);
	localroutes_free(d->routes, keep);
	if (keep) {
		for (int i = 0; i < d->nifaces; i++)
			attach_forget(&d->att[i]);
		pr_info("leaving the dataplane attached and pinned under %s for the next limpetd",
			d->pin_dir);
	} else {
		detach_all(d);
		if (d->dp && d->pin_dir[0])
			dataplane_unpin(d->pin_dir);
	}
	neigh_keeper_free(d->nk, keep);
	applier_free(d->ap);
	dataplane_close(d->dp);
	service_free(d->svc);
	health_free(d->health);
	free(d->changed);
	config_free(d->cfg);
	free(d->token);
	if (d->lock_fd >= 0) {
		unlink(d->lock_path);
		close(d->lock_fd);
	}
}

/* SIGHUP: the file becomes the staged config, and is applied. */
static void reload(struct daemon *d)
{
	struct config *cfg;
	json_t *doc, *report = NULL, *pending;
	int err;

	if (!d->config_path) {
		pr_warn("SIGHUP: limpetd runs the config restored from %s and has no config file "
			"to re-read (start it with --config FILE); change it through the API",
			d->opt.state_dir);
		return;
	}
	pr_info("SIGHUP: reading %s", d->config_path);
	cfg = load_config(d->config_path);
	if (!cfg) {
		pr_warn("keeping the running config");
		return;
	}
	doc = config_to_json(cfg);
	if (doc && strcmp(cfg->service_name, service_name(d->svc))) {
		pr_err("%s: serviceName changed from \"%s\" to \"%s\": restart limpetd to serve "
		       "another service; keeping the running config", d->config_path,
		       service_name(d->svc), cfg->service_name);
		goto out;
	}
	pending = service_pending(d->svc);
	if (json_integer_value(json_object_get(json_array_get(pending, 0), "number")))
		pr_info("SIGHUP: %s replaces the staged config (staged API changes are dropped)",
			d->config_path);
	json_decref(pending);
	err = doc ? service_stage(d->svc, doc, NULL) : -ENOMEM;
	if (err)
		pr_err("SIGHUP: staging %s: %s; keeping the running config", d->config_path,
		       strerror(-err));
	else
		service_refresh(d->svc, "sighup", &report);
	json_decref(report);
out:
	json_decref(doc);
	config_free(cfg);
}

/* The config to start with: --config, else the one last applied, else the default file. */
static int choose_config(struct daemon *d)
{
	static char saved[PATH_MAX];
	int err;

	if (d->opt.config) {
		d->config_path = d->opt.config;
	} else {
		err = state_find(d->opt.state_dir, saved);
		if (err == -EEXIST)
			return err;
		if (!err) {
			pr_info("restoring the config last applied: %s", saved);
			d->cfg = load_config(saved);
			return d->cfg ? 0 : -EINVAL;
		}
		d->config_path = DEFAULT_CONFIG;
	}
	d->cfg = load_config(d->config_path);
	return d->cfg ? 0 : -EINVAL;
}

/* Listeners first: a refused API socket must stop limpetd before it touches the dataplane. */
static int open_listeners(struct daemon *d)
{
	char why[128];
	int err;

	if (api_addr_parse(d->opt.api, false, &d->api_addr, why)) {
		fprintf(stderr, "limpetd: --api %s: %s\n", d->opt.api, why);
		return -EINVAL;
	}
	if (!d->api_addr.is_unix && !d->opt.token_file) {
		fprintf(stderr, "limpetd: --api %s: a TCP API requires --api-token-file (clients "
				"send Authorization: Bearer TOKEN)\n", d->opt.api);
		return -EINVAL;
	}
	if (d->opt.metrics && api_addr_parse(d->opt.metrics, true, &d->metrics_addr, why)) {
		fprintf(stderr, "limpetd: --metrics %s: %s\n", d->opt.metrics, why);
		return -EINVAL;
	}
	if (d->opt.token_file) {
		err = api_token_load(d->opt.token_file, &d->token);
		if (err) {
			fprintf(stderr, "limpetd: --api-token-file %s: %s\n", d->opt.token_file,
				err == -EINVAL ? "no usable token" : strerror(-err));
			return -EINVAL;
		}
	}
	d->api_fd = api_listen(&d->api_addr);
	if (d->api_fd < 0) {
		pr_err("API %s: %s", d->opt.api, strerror(-d->api_fd));
		return d->api_fd;
	}
	if (d->opt.metrics) {
		d->metrics_fd = api_listen(&d->metrics_addr);
		if (d->metrics_fd < 0) {
			pr_err("metrics %s: %s", d->opt.metrics, strerror(-d->metrics_fd));
			return d->metrics_fd;
		}
	}
	return 0;
}

static int serve(struct daemon *d)
{
	struct service_env env = {
		.dp = d->dp, .ap = d->ap, .health = d->health, .state_dir = d->opt.state_dir,
		.pin_dir = d->pin_dir,
		.adopted = d->adopted,
		.announcer = d->ann, .l7 = d->l7, .routes = d->routes,
		.interfaces = interfaces_json, .applied = on_applied, .arg = d,
	};
	int err = service_new(&d->svc, &env, d->cfg);

	if (err)
		return err;
	d->cfg = NULL;
	err = api_server_start(&d->api, d->api_fd, d->api_addr.is_unix ? d->api_addr.path : NULL,
			       d->token, false, d->svc);
	d->api_fd = -1;
	if (!err && d->opt.metrics) {
		err = api_server_start(&d->metrics, d->metrics_fd, NULL, NULL, true, d->svc);
		d->metrics_fd = -1;
	}
	if (err) {
		pr_err("starting the API: %s", strerror(-err));
		return err;
	}
	pr_info("API listening on %s%s%s", d->opt.api, d->opt.metrics ? ", metrics on " : "",
		d->opt.metrics ? d->opt.metrics : "");
	return 0;
}

static int watch(int epfd, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* A stopping limpetd still sends the answers it owes (the shutdown request's among them). */
static void drain(struct daemon *d)
{
	for (int ms = 0; ms < STOP_DRAIN_MS && api_server_connections(d->api); ms += 10) {
		api_server_run(d->api);
		usleep(10000);
	}
}

/* The listeners' own timeouts: the shortest, or -1. */
static int loop_timeout(const struct daemon *d)
{
	int a = api_server_timeout(d->api), m = d->metrics ? api_server_timeout(d->metrics) : -1;

	return a < 0 ? m : m < 0 ? a : a < m ? a : m;
}

static void run_servers(struct daemon *d)
{
	api_server_run(d->api);
	if (d->metrics)
		api_server_run(d->metrics);
}

/* Returns 1 to stop and clean up, 2 to stop and keep the dataplane, <0 on failure. */
static int run(struct daemon *d, int sfd)
{
	struct itimerspec tick = { { 1, 0 }, { 1, 0 } };
	int epfd = epoll_create1(EPOLL_CLOEXEC), tfd, err, seconds = 0, stop = 0;
	struct signalfd_siginfo si;
	struct epoll_event ev[8];
	struct fibwatch fw;
	uint64_t expired;

	fibwatch_init(&fw, d->ifname, d->nifaces);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (epfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &tick, NULL)) {
		err = -errno;
		goto out;
	}
	err = watch(epfd, sfd, &sfd);
	err = err ?: watch(epfd, tfd, &tfd);
	err = err ?: watch(epfd, api_server_fd(d->api), d->api);
	err = err ?: watch(epfd, health_fd(d->health), d->health);
	if (!err && d->metrics)
		err = watch(epfd, api_server_fd(d->metrics), d->metrics);
	while (!err && !stop) {
		int n = epoll_wait(epfd, ev, 8, loop_timeout(d));

		if (n < 0 && errno != EINTR)
			err = -errno;
		if (!n)		/* a listener's timeout: its work is due */
			run_servers(d);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == &tfd) {
				if (read(tfd, &expired, sizeof(expired)) < 0)
					continue;
				fibwatch_tick(&fw, d->svc, d->dp);
				announcer_retry(d->ann);
				d->neigh_due |= ++seconds % NEIGH_REFRESH == 0;
				d->elig_dirty |= d->elig_retry;
			} else if (ev[i].data.ptr == &sfd) {
				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					notify_reloading();
					reload(d);
					notify_ready("serving service %s", service_name(d->svc));
					continue;
				}
				pr_info("%s: stopping", strsignal(si.ssi_signo));
				stop = 1;
			} else if (ev[i].data.ptr == d->health) {
				health_run(d->health);
			} else {
				api_server_run(ev[i].data.ptr);
			}
		}
		if (d->elig_dirty)
			reapply_probes(d);
		if (d->neigh_due) {
			config_for_each_server(service_applied_config(d->svc), keep_one, d);
			d->neigh_loud = false;
			d->neigh_due = false;
		}
		if (!stop && service_stop_requested(d->svc)) {
			drain(d);
			stop = service_stop_requested(d->svc);
		}
	}
out:
	if (tfd >= 0)
		close(tfd);
	if (epfd >= 0)
		close(epfd);
	return err ? err : stop;
}

int main(int argc, char **argv)
{
	struct daemon d = { .lock_fd = -1, .api_fd = -1, .metrics_fd = -1 };
	sigset_t set;
	int err, sfd;

	if (parse_args(argc, argv, &d.opt))
		return EXIT_USAGE;
	log_set_level(d.opt.log_level);
	log_route_libs();
	if (d.opt.check_only)
		return check_config(d.opt.config ? d.opt.config : DEFAULT_CONFIG);
	if (resolve_ifaces(&d))
		return EXIT_USAGE;
	if (choose_config(&d))
		return EXIT_USAGE;
	if (take_lock(&d)) {
		stop(&d, false);
		return EXIT_FAIL;
	}
	/* before anything is touched: a host that would black-hole every client is refused */
	if (preflight_check(d.cfg, d.ifname, d.nifaces, d.opt.set_forwarding)) {
		stop(&d, false);
		return EXIT_USAGE;
	}
	err = open_listeners(&d);
	if (err) {
		stop(&d, false);
		return err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		pr_err("signalfd: %s", strerror(errno));
		stop(&d, false);
		return EXIT_FAIL;
	}
	if (mkdir(d.opt.state_dir, 0755) && errno != EEXIST)
		pr_warn("%s: %s", d.opt.state_dir, strerror(errno));
	/* before the L7 proxy's threads start: a fork keeps only its caller's */
	err = d.opt.foreground ? 0 : daemonize_begin();
	if (err) {
		pr_err("going to the background: %s", strerror(-err));
		stop(&d, false);
		return EXIT_FAIL;
	}

	err = start(&d);
	err = err ?: serve(&d);
	/* a limpetd that fails leaves an adopted dataplane running, as it found it */
	if (err) {
		stop(&d, d.adopted);
		return EXIT_FAIL;
	}
	if (!d.opt.foreground) {
		daemonize_done();
		log_use_syslog("limpetd");
	}
	write_pid(&d);
	pr_info("limpetd %s running for service %s (pid %d)", LIMPET_VERSION,
		service_name(d.svc), getpid());
	/* attached, config applied, API listening: systemd (Type=notify) may start what needs it */
	notify_ready("serving service %s", service_name(d.svc));
	err = run(&d, sfd);
	notify_stopping();
	stop(&d, err == 2);
	close(sfd);
	pr_info("stopped");
	return err < 0 ? EXIT_FAIL : EXIT_OK;
}
