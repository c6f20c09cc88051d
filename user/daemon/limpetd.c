// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * limpetd: loads the balancer, attaches it (libxdp), pins its maps under
 * /sys/fs/bpf/limpet/<serviceName>/, applies the config, keeps the servers' neighbours
 * resolved, re-reads the config on SIGHUP and cleans up on SIGTERM.
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
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "apply/apply.h"
#include "daemon/attach.h"
#include "config/config.h"
#include "dataplane/dataplane.h"
#include "common/log.h"
#include "daemon/neigh.h"

#define LIMPET_VERSION	"0.1.0"
#define BPFFS		"/sys/fs/bpf"
#define RUN_DIR		"/run/limpet"
#define NEIGH_REFRESH	10	/* seconds between neighbour checks */
#define MAX_IFACES	LB_IFACES_MAX

enum exit_code { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct options {
	const char *config;
	const char *ifaces;
	const char *state_dir;
	enum attach_req mode;
	bool check_only;
	bool foreground;
	int log_level;
};

struct daemon {
	struct options opt;
	struct config *cfg;
	struct dataplane *dp;
	struct applier *ap;
	struct neigh_keeper *nk;
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
	  "config file (default /etc/limpet/limpet.json)" },
	{ { "iface", required_argument, NULL, 'i' }, "IFACE[,IFACE...]",
	  "devices to attach the balancer to (required)" },
	{ { "xdp-mode", required_argument, NULL, 'm' }, "native|generic|auto",
	  "XDP attach mode (default auto: native where the driver has it, else generic)" },
	{ { "state-dir", required_argument, NULL, 's' }, "DIR",
	  "where the applied config is saved as <serviceName>.json (default /var/lib/limpet)" },
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
		     "limpet load balancer daemon: XDP dataplane with source-IP stickiness.\n"
		     "SIGHUP re-reads the config; SIGTERM detaches and exits.\n\noptions:\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", opt_docs[i].o.name,
			 opt_docs[i].arg ? " " : "", opt_docs[i].arg ? opt_docs[i].arg : "");
		fprintf(out, "  %-34s %s\n", left, opt_docs[i].help);
	}
	fprintf(out, "\nexit status: 0 ok, 1 runtime failure, 2 bad usage or config\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	struct option lo[NOPTS + 1];
	int c;

	for (size_t i = 0; i < NOPTS; i++)
		lo[i] = opt_docs[i].o;
	memset(&lo[NOPTS], 0, sizeof(lo[NOPTS]));
	*o = (struct options){ .config = "/etc/limpet/limpet.json",
			       .state_dir = "/var/lib/limpet", .log_level = LOG_LVL_INFO };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'i': o->ifaces = optarg; break;
		case 's': o->state_dir = optarg; break;
		case 'f': o->foreground = true; break;
		case 'C': o->check_only = true; break;
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
	snprintf(d->lock_path, sizeof(d->lock_path), RUN_DIR "/%s.lock", d->cfg->service_name);
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

static void keep_one(const struct cfg_server *s, void *arg)
{
	struct neigh_keeper *nk = arg;
	int err = neigh_keep(nk, s->addr.family, s->addr.addr);

	if (err)
		pr_warn("server %u: keeping its neighbour resolved: %s", s->id, strerror(-err));
}

static void refresh_neighbours(struct daemon *d)
{
	config_for_each_server(d->cfg, keep_one, d->nk);
}

/* Health probes come in a later version: say so rather than ignore them silently. */
static void warn_probes(const struct config *cfg)
{
	for (int l = 0; l < CFG_LAYERS; l++)
		for (size_t i = 0; i < cfg->layer[l].nfarms; i++)
			if (cfg->layer[l].farms[i].probe.present)
				pr_warn("%s.farm[%zu].probe: health probes are not run by this "
					"version; servers are eligible by their status alone",
					cfg_layer_name(l), i);
}

/* Save what runs as <state-dir>/<serviceName>.json: written whole, then renamed over the
 * old one, so a reader never sees half a file. */
static void save_applied(const struct daemon *d, const struct config *cfg)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	json_t *doc = config_to_json(cfg);

	snprintf(path, sizeof(path), "%s/%s.json", d->opt.state_dir, cfg->service_name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!doc || json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) ||
	    rename(tmp, path)) {
		pr_warn("saving the applied config to %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	json_decref(doc);
}

static int apply(struct daemon *d, struct config *cfg)
{
	struct apply_counts c;
	int err = applier_apply(d->ap, d->dp, cfg, &c);

	if (err) {
		pr_err("applying the config: %s", strerror(-err));
		return err;
	}
	save_applied(d, cfg);
	warn_probes(cfg);
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

static int attach_all(struct daemon *d)
{
	int fd = dataplane_prog_fd(d->dp), err;

	for (int i = 0; i < d->nifaces; i++) {
		int ifindex = if_nametoindex(d->ifname[i]);
		int stale = attach_clear_stale(ifindex, "limpet_balancer");

		if (stale)
			pr_warn("%s: removed a limpet program left by an earlier run", d->ifname[i]);
		err = dataplane_port_add(d->dp, ifindex);
		if (!err)
			err = attach_prog(fd, ifindex, d->opt.mode, &d->att[i]);
		if (err) {
			pr_err("attaching to %s: %s", d->ifname[i], strerror(-err));
			return err;
		}
		pr_info("attached to %s (%s XDP)", d->ifname[i], attach_mode_name(d->att[i].mode));
	}
	return 0;
}

/* Pins from a run that died without cleaning up: the lock says nobody owns them. */
static void clear_stale_pins(struct daemon *d)
{
	struct stat st;

	if (stat(d->pin_dir, &st))
		return;
	pr_warn("%s: removing pins left by an earlier run", d->pin_dir);
	dataplane_unpin(d->dp, d->pin_dir);
}

static int start(struct daemon *d)
{
	int err;

	err = take_lock(d);
	if (err)
		return err;
	err = mount_bpffs();
	err = err ?: dataplane_open(&d->dp, NULL);
	err = err ?: applier_new(&d->ap);
	err = err ?: neigh_keeper_new(&d->nk);
	if (err)
		return err;
	snprintf(d->pin_dir, sizeof(d->pin_dir), BPFFS "/limpet/%s", d->cfg->service_name);
	clear_stale_pins(d);
	mkdir(BPFFS "/limpet", 0700);
	err = dataplane_pin(d->dp, d->pin_dir);
	if (err) {
		pr_err("pinning under %s: %s", d->pin_dir, strerror(-err));
		d->pin_dir[0] = 0;
		return err;
	}
	err = apply(d, d->cfg);
	if (err)
		return err;
	refresh_neighbours(d);
	return attach_all(d);
}

static void stop(struct daemon *d)
{
	detach_all(d);
	if (d->dp && d->pin_dir[0])
		dataplane_unpin(d->dp, d->pin_dir);
	neigh_keeper_free(d->nk);
	applier_free(d->ap);
	dataplane_close(d->dp);
	config_free(d->cfg);
	if (d->lock_fd >= 0) {
		unlink(d->lock_path);
		close(d->lock_fd);
	}
}

static void reload(struct daemon *d)
{
	struct config *cfg;

	pr_info("SIGHUP: reading %s", d->opt.config);
	cfg = load_config(d->opt.config);
	if (!cfg) {
		pr_warn("keeping the running config");
		return;
	}
	if (apply(d, cfg)) {
		pr_warn("keeping the running config");
		config_free(cfg);
		return;
	}
	config_free(d->cfg);
	d->cfg = cfg;
	refresh_neighbours(d);
}

static int run(struct daemon *d, int sfd)
{
	struct signalfd_siginfo si;

	for (;;) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		int n = poll(&pfd, 1, NEIGH_REFRESH * 1000);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0) {
			refresh_neighbours(d);
			continue;
		}
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			reload(d);
			continue;
		}
		pr_info("%s: stopping", strsignal(si.ssi_signo));
		return 0;
	}
}

int main(int argc, char **argv)
{
	struct daemon d = { .lock_fd = -1 };
	sigset_t set;
	int err, sfd;

	if (parse_args(argc, argv, &d.opt))
		return EXIT_USAGE;
	log_set_level(d.opt.log_level);
	log_route_libs();
	if (d.opt.check_only)
		return check_config(d.opt.config);
	if (resolve_ifaces(&d))
		return EXIT_USAGE;
	d.cfg = load_config(d.opt.config);
	if (!d.cfg)
		return EXIT_USAGE;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		pr_err("signalfd: %s", strerror(errno));
		return EXIT_FAIL;
	}
	if (mkdir(d.opt.state_dir, 0755) && errno != EEXIST)
		pr_warn("%s: %s", d.opt.state_dir, strerror(errno));

	err = start(&d);
	if (err) {
		stop(&d);
		return EXIT_FAIL;
	}
	if (!d.opt.foreground) {
		if (daemon(0, 0)) {
			pr_err("daemon: %s", strerror(errno));
			stop(&d);
			return EXIT_FAIL;
		}
		log_use_syslog("limpetd");
	}
	write_pid(&d);
	pr_info("limpetd %s running for service %s (pid %d)", LIMPET_VERSION,
		d.cfg->service_name, getpid());
	err = run(&d, sfd);
	stop(&d);
	close(sfd);
	pr_info("stopped");
	return err ? EXIT_FAIL : EXIT_OK;
}
