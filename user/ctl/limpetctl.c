// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * limpetctl: the command-line client of limpetd's REST API (docs/api.md). The options and the
 * commands are tables; the parser and --help both read them.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl/client.h"
#include "ctl/cmd.h"

enum exit_code { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define DEFAULT_API	"unix:/run/limpet/limpet.sock"
#define MAX_OPTS	16	/* the global options and a command's own */
#define HELP_WIDTH	80	/* columns of a terminal */

static const struct opt_doc global_opts[] = {
	{ { "api", required_argument, NULL, 'a' }, "unix:PATH|http://HOST:PORT",
	  "limpetd's API (default $LIMPET_API, else " DEFAULT_API "; tcp:ADDR:PORT, "
	  "limpetd's spelling, works too)" },
	{ { "token-file", required_argument, NULL, 't' }, "FILE",
	  "bearer token for a TCP listener: the file's first line (default $LIMPET_TOKEN_FILE)" },
	{ { "service", required_argument, NULL, 's' }, "NAME",
	  "the serviceName (default: the only one limpetd serves)" },
	{ { "json", no_argument, NULL, 'j' }, NULL,
	  "print the API's JSON answer, pretty, instead of tables" },
	{ { "help", no_argument, NULL, 'h' }, NULL, "show this help and exit" },
	{ .arg = NULL },	/* the end */
};

static const struct opt_doc refresh_opts[] = {
	{ { "zone", required_argument, NULL, 'z' }, "ZONE", "apply ZONE only (default: all)" },
	{ .arg = NULL },	/* the end */
};

static const struct opt_doc export_opts[] = {
	{ { "staged", no_argument, NULL, 'S' }, NULL,
	  "the staged config instead of the applied one" },
	{ .arg = NULL },	/* the end */
};

static const struct opt_doc shutdown_opts[] = {
	{ { "keep-dataplane", no_argument, NULL, 'k' }, NULL,
	  "leave the XDP program attached and its maps pinned, for the next limpetd to adopt" },
	{ .arg = NULL },	/* the end */
};

#define RES_CMDS(kind, type, what)                                                             \
	{ .name = kind " list", .args = "[LAYER]", .run = do_res_list, .res = type,            \
	  .help = "list " what "s of LAYER, or of every layer" },                              \
	{ .name = kind " show", .args = "LAYER ID", .run = do_res_show, .res = type,           \
	  .help = "show a " what },                                                            \
	{ .name = kind " add", .args = "LAYER [FIELD=VALUE...]", .run = do_res_add, .res = type, \
	  .help = "create a " what },                                                          \
	{ .name = kind " set", .args = "LAYER ID FIELD=VALUE...", .run = do_res_set,           \
	  .res = type, .help = "change fields of a " what },                                   \
	{ .name = kind " del", .args = "LAYER ID", .run = do_res_del, .res = type,             \
	  .help = "delete a " what }

static const struct cmd cmds[] = {
	RES_CMDS("frontend", &res_frontend, "frontend"),
	RES_CMDS("farm", &res_farm, "farm"),
	{ .name = "server list", .args = "LAYER FARM", .run = do_res_list, .res = &res_server,
	  .help = "list the servers of a farm" },
	{ .name = "server show", .args = "LAYER FARM ID", .run = do_res_show, .res = &res_server,
	  .help = "show a server" },
	{ .name = "server add", .args = "LAYER FARM [FIELD=VALUE...]", .run = do_res_add,
	  .res = &res_server, .help = "add a server to a farm" },
	{ .name = "server set", .args = "LAYER FARM ID FIELD=VALUE...", .run = do_res_set,
	  .res = &res_server, .help = "change fields of a server" },
	{ .name = "server del", .args = "LAYER FARM ID", .run = do_res_del, .res = &res_server,
	  .help = "delete a server" },
	{ .name = "refresh", .args = "", .run = do_refresh, .opts = refresh_opts,
	  .help = "apply the staged config and print what changed" },
	{ .name = "pending", .args = "", .run = do_pending, .help = "what refresh would change" },
	{ .name = "status", .args = "", .run = do_status,
	  .help = "limpetd's state: interfaces, counts, last refresh, warnings" },
	{ .name = "stats", .args = "", .run = do_stats,
	  .help = "packets, bytes, sticky entries per frontend, farm, server; verdicts" },
	{ .name = "config export", .args = "[FILE]", .run = do_config_export, .opts = export_opts,
	  .help = "the applied config as JSON, to FILE or stdout" },
	{ .name = "config import", .args = "FILE|-", .run = do_config_import,
	  .help = "replace the staged config by FILE's (-: stdin)" },
	{ .name = "shutdown", .args = "", .run = do_shutdown, .opts = shutdown_opts,
	  .help = "stop limpetd" },
	{ .name = "drain", .args = "", .run = do_drain,
	  .help = "withdraw every VIP from BGP and keep forwarding what still comes, until "
		  "shutdown or undrain" },
	{ .name = "undrain", .args = "", .run = do_drain,
	  .help = "announce again the VIPs ready to serve" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* --- help, from the tables ---------------------------------------------------------------- */

/* "  LEFT  TEXT", TEXT from column col, wrapped at HELP_WIDTH under itself */
static void help_line(const char *left, int col, const char *text)
{
	int pos = printf("  %-*s ", col - 3, left);

	while (*text) {
		int len = strcspn(text, " ");

		if (pos > col && pos + 1 + len > HELP_WIDTH)
			pos = printf("\n%*s", col, "") - 1;
		else if (pos > col)
			pos += printf(" ");
		pos += printf("%.*s", len, text);
		text += len + strspn(text + len, " ");
	}
	putchar('\n');
}

static void help_opt(const struct opt_doc *o)
{
	char left[64];

	snprintf(left, sizeof(left), "%s--%s%s%s", o->o.val == 'h' ? "-h, " : "", o->o.name,
		 o->arg ? " " : "", o->arg ? o->arg : "");
	help_line(left, 37, o->help);
}

/* only: print the option whose getopt value it is, or every option (0) */
static void help_opts(const struct opt_doc *opts, int only)
{
	for (; opts->o.name; opts++)
		if (!only || opts->o.val == only)
			help_opt(opts);
}

static void help_cmd_line(const struct cmd *c)
{
	char left[64];

	snprintf(left, sizeof(left), "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
	help_line(left, 43, c->help);
}

/* c is the command key names, or one of its group ("farm"), or key is "" */
static bool cmd_in(const struct cmd *c, const char *key)
{
	size_t len = strlen(key);

	return !len || (!strncmp(c->name, key, len) && (!c->name[len] || c->name[len] == ' '));
}

static const char note_layer[] = "LAYER is tcp, udp or http; ids are integers 1..4294967295.\n";

static const char note_fields[] =
	"FIELD=VALUE sets a field of the resource, named as in the config document\n"
	"(docs/api.md). VALUE is JSON when it parses as JSON (80, true, null,\n"
	"'\"quoted\"', 'probe={\"type\":\"tcp\"}'), else a string (address=198.18.1.14).\n"
	"A frontend's port and every displayName are strings: port=80,443 and\n"
	"port=80 both send a string. null resets a field to its default. A field is\n"
	"given once. Edits change the staged config; refresh applies it.\n";

static const char note_list[] =
	"list shows the staged config. With --json it prints the config's array (a\n"
	"farm's servers included), for every layer an object {\"tcp\": [...], ...}.\n";

/* What the arguments of the commands of key (as cmd_in()) mean. */
static void help_notes(const char *key)
{
	bool layer = false, fields = false, list = false;

	for (size_t i = 0; i < NCMDS; i++) {
		if (!cmd_in(&cmds[i], key))
			continue;
		layer |= strstr(cmds[i].args, "LAYER") != NULL;
		fields |= strstr(cmds[i].args, "FIELD=VALUE") != NULL;
		list |= cmds[i].run == do_res_list;
	}
	if (layer)
		printf("\n%s", note_layer);
	if (fields)
		printf("\n%s", note_fields);
	if (list)
		printf("\n%s", note_list);
}

static void help_top(void)
{
	printf("usage: limpetctl [options] COMMAND [ARGS...]\n\n"
	       "Command-line client of limpetd's REST API: edit the staged config, apply it,\n"
	       "watch the service.\n\noptions:\n");
	help_opts(global_opts, 0);
	printf("\ncommands:\n");
	for (size_t i = 0; i < NCMDS; i++)
		help_cmd_line(&cmds[i]);
	help_notes("");
	printf("\n'limpetctl COMMAND --help' shows a command's own options.\n"
	       "exit status: 0 ok, 1 API error or no connection, 2 usage error\n");
}

/* limpetctl farm --help: the commands of a group */
static void help_group(const char *group)
{
	printf("usage: limpetctl [options] %s COMMAND [ARGS...]\n\ncommands:\n", group);
	for (size_t i = 0; i < NCMDS; i++)
		if (cmd_in(&cmds[i], group))
			help_cmd_line(&cmds[i]);
	help_notes(group);
	printf("\nglobal options: limpetctl --help\n");
}

static void help_cmd(const struct cmd *c)
{
	printf("usage: limpetctl [options] %s%s%s\n\n%s\n\noptions:\n", c->name,
	       c->args[0] ? " " : "", c->args, c->help);
	if (c->opts)
		help_opts(c->opts, 0);
	help_opts(global_opts, 'h');
	help_notes(c->name);
	printf("\nglobal options: limpetctl --help\n");
}

/* --- parsing ------------------------------------------------------------------------------ */

static void hint(const char *cmd)
{
	fprintf(stderr, "Try 'limpetctl %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
}

/*
 * getopt_long over the global options and cmd's own (cmd NULL: the global ones only, up to the
 * first word that is not an option). 0, 1 for --help, or -EINVAL (reported).
 */
static int parse_opts(int argc, char **argv, const struct cmd *cmd, struct ctx *ctx)
{
	const struct opt_doc *tables[] = { global_opts, cmd ? cmd->opts : NULL };
	struct option lo[MAX_OPTS + 1];
	const char *where = cmd ? cmd->name : NULL;
	size_t n = 0;
	int c;

	for (size_t t = 0; t < 2; t++)
		for (const struct opt_doc *o = tables[t]; o && o->o.name && n < MAX_OPTS; o++)
			lo[n++] = o->o;
	memset(&lo[n], 0, sizeof(lo[n]));
	optind = 0;	/* GNU: start over, permutation state included */
	opterr = 0;	/* our messages, naming the command */
	while ((c = getopt_long(argc, argv, cmd ? ":h" : "+:h", lo, NULL)) != -1) {
		switch (c) {
		case 'a': ctx->api = optarg; break;
		case 't': ctx->token_file = optarg; break;
		case 's': ctx->service = optarg; break;
		case 'j': ctx->json = true; break;
		case 'z': ctx->zone = optarg; break;
		case 'S': ctx->staged = true; break;
		case 'k': ctx->keep_dataplane = true; break;
		case 'h': return 1;
		case ':':
			fprintf(stderr, "limpetctl: %s%soption '%s' needs a value\n",
				where ? where : "", where ? ": " : "", argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "limpetctl: %s%sunknown option ", where ? where : "",
				where ? ": " : "");
			if (optopt && strncmp(argv[optind - 1], "--", 2))
				fprintf(stderr, "'-%c'\n", optopt);
			else
				fprintf(stderr, "'%s'\n", argv[optind - 1]);
			return -EINVAL;
		}
	}
	return 0;
}

/* How many words of argv name c ("farm add": 2), 0 if they do not. */
static int cmd_words(const struct cmd *c, int argc, char **argv)
{
	const char *p = c->name;
	int i;

	for (i = 0; i < argc; i++) {
		size_t len = strcspn(p, " ");

		if (strlen(argv[i]) != len || strncmp(p, argv[i], len))
			return 0;
		p += len;
		if (!*p)
			return i + 1;
		p++;
	}
	return 0;
}

/* A word that starts command names of several words, like "farm". */
static bool is_group(const char *word)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (*word && cmd_in(&cmds[i], word) && strcmp(cmds[i].name, word))
			return true;
	return false;
}

/* The command argv names, with *words set; NULL when none (reported, or help shown: *help). */
static const struct cmd *cmd_find(int argc, char **argv, int *words, bool *help)
{
	for (size_t i = 0; i < NCMDS; i++) {
		*words = cmd_words(&cmds[i], argc, argv);
		if (*words)
			return &cmds[i];
	}
	if (!is_group(argv[0])) {
		fprintf(stderr, "limpetctl: unknown command '%s'\n", argv[0]);
		hint(NULL);
	} else if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		help_group(argv[0]);
		*help = true;
	} else {
		if (argc > 1)
			fprintf(stderr, "limpetctl: %s: unknown command '%s'\n", argv[0], argv[1]);
		else
			fprintf(stderr, "limpetctl: %s: missing command\n", argv[0]);
		hint(argv[0]);
	}
	return NULL;
}

/*
 * The command line into ctx, and (*argc, *argv) to the command's arguments. 0: run ctx->cmd;
 * 1: help was asked for and shown; -EINVAL: a usage error, reported.
 */
static int parse_cmdline(int *argc, char ***argv, struct ctx *ctx)
{
	bool help = false;
	int err, words;

	err = parse_opts(*argc, *argv, NULL, ctx);
	if (err == 1) {
		help_top();
		return 1;
	}
	if (!err && optind == *argc) {
		fprintf(stderr, "limpetctl: missing command\n");
		err = -EINVAL;
	}
	if (err) {
		hint(NULL);
		return err;
	}
	*argc -= optind;
	*argv += optind;
	ctx->cmd = cmd_find(*argc, *argv, &words, &help);
	if (!ctx->cmd)
		return help ? 1 : -EINVAL;
	/* the command's last word stands as argv[0] for getopt, which skips it */
	*argc -= words - 1;
	*argv += words - 1;
	err = parse_opts(*argc, *argv, ctx->cmd, ctx);
	if (err == 1)
		help_cmd(ctx->cmd);
	else if (err)
		hint(ctx->cmd->name);
	*argc -= optind;
	*argv += optind;
	return err;
}

/* The one place a command's outcome becomes the exit status. */
static int exit_status(const struct ctx *ctx, int err)
{
	if (err == -EINVAL) {
		/* without a client, --api (a global option) was not understood */
		hint(ctx->client ? ctx->cmd->name : NULL);
		return EXIT_USAGE;
	}
	if (!err && (fflush(stdout) || ferror(stdout))) {
		fprintf(stderr, "limpetctl: stdout: %s\n", strerror(errno));
		err = -EIO;
	}
	if (err == -ENOMEM)
		fprintf(stderr, "limpetctl: out of memory\n");
	return err ? EXIT_FAIL : EXIT_OK;
}

int main(int argc, char **argv)
{
	struct ctx ctx = { .api = getenv("LIMPET_API"), .token_file = getenv("LIMPET_TOKEN_FILE") };
	int err;

	if (!ctx.api || !ctx.api[0])
		ctx.api = DEFAULT_API;
	if (ctx.token_file && !ctx.token_file[0])
		ctx.token_file = NULL;
	err = parse_cmdline(&argc, &argv, &ctx);
	if (err)
		return err > 0 ? EXIT_OK : EXIT_USAGE;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "limpetctl: libcurl failed to initialise\n");
		return EXIT_FAIL;
	}
	err = client_new(&ctx.client, ctx.api, ctx.token_file);
	if (!err)
		err = ctx.cmd->run(&ctx, argc, argv);
	err = exit_status(&ctx, err);
	client_free(ctx.client);
	free(ctx.service_found);
	curl_global_cleanup();
	return err;
}
