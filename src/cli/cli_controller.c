/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc controller`: the live center's control-plane daemon. Its flags are
 * the config keys of src/ctld/config.c's table (`--node-timeout 15` is
 * `node_timeout_s = 15`), so a key, its default, bounds and help are written
 * once; flags override the config file. (`aidc agent` is cli_agent.c.)
 */
#include "cli/cli.h"
#include "ctld/ctld.h"
#include "sched/sched.h"
#include "util/util.h"

/* The flags of the config keys, built from the table; what the user gave. */
struct key_flags {
	size_t n;
	struct ctld_config_key info[CTLD_CONFIG_MAX_KEYS];
	const char *value[CTLD_CONFIG_MAX_KEYS]; /* borrowed from argv */
	bool on[CTLD_CONFIG_MAX_KEYS];           /* bool keys */
	bool seen[CTLD_CONFIG_MAX_KEYS];
	char help[CTLD_CONFIG_MAX_KEYS][512];
};

static size_t add_key_flags(struct key_flags *kf, struct cli_flag *flags)
{
	kf->n = ctld_config_nkeys();
	for (size_t i = 0; i < kf->n; i++) {
		struct ctld_config_key *k = &kf->info[i];
		ctld_config_key_info(i, k);
		struct aidc_buf h;
		aidc_buf_init(&h, sizeof kf->help[i] - 1);
		aidc_buf_printf(&h, "%s", k->help);
		for (const struct sched_name *c = k->choices; c && c->name; c++)
			aidc_buf_printf(&h, "%s%s", c != k->choices ? "|" : "; one of ", c->name);
		aidc_buf_printf(&h, "; default %s%s (config %s)", k->def[0] ? k->def : "empty",
				k->is_bool && !strcmp(k->def, "true") ? ", =false turns it off" : "",
				k->key);
		snprintf(kf->help[i], sizeof kf->help[i], "%s", aidc_buf_str(&h));
		aidc_buf_release(&h);
		flags[i] = (struct cli_flag){k->flag, k->is_bool ? CLI_BOOL : CLI_STR,
					     k->is_bool ? (void *)&kf->on[i] : (void *)&kf->value[i],
					     k->metavar, kf->help[i], 0, 0, NULL, &kf->seen[i]};
	}
	return kf->n;
}

/* Applies the given flags on top of the config file through the same setter. */
static int apply_key_flags(const struct key_flags *kf, struct ctld_config *cfg)
{
	for (size_t i = 0; i < kf->n; i++) {
		if (!kf->seen[i])
			continue;
		const char *v = kf->info[i].is_bool ? (kf->on[i] ? "true" : "false") : kf->value[i];
		struct aidc_err e = {0};
		if (ctld_config_set(cfg, kf->info[i].key, v, &e) != 0) {
			fprintf(stderr, "aidc controller: --%s: %s\n", kf->info[i].flag, e.msg);
			return CLI_EXIT_USAGE;
		}
	}
	return 0;
}

int cli_controller_main(int argc, char **argv)
{
	const char *config = NULL, *log_file = NULL, *pid_file = NULL;
	bool doc = false, debug = false, background = false;
	static struct key_flags kf;
	struct cli_flag flags[CTLD_CONFIG_MAX_KEYS + 6];
	size_t nf = 0;
	flags[nf++] = (struct cli_flag){"config", CLI_STR, &config, "FILE",
					"key = value config file (docs/config.md); the flags "
					"below override it",
					0, 0, NULL, NULL};
	nf += add_key_flags(&kf, flags + nf);
	flags[nf++] = (struct cli_flag){"config-doc", CLI_BOOL, &doc, NULL,
					"print the config keys as Markdown and exit", 0, 0, NULL,
					NULL};
	flags[nf++] = (struct cli_flag){"debug", CLI_BOOL, &debug, NULL, "debug logging", 0, 0,
					NULL, NULL};
	flags[nf++] = (struct cli_flag){"log-file", CLI_STR, &log_file, "FILE",
					"append the log (and all stderr) to FILE, created 0600 "
					"(default: stderr)",
					0, 0, NULL, NULL};
	flags[nf++] = (struct cli_flag){"pid-file", CLI_STR, &pid_file, "FILE",
					"write the pid to FILE (refused while it names a live "
					"process; removed at a clean stop)",
					0, 0, NULL, NULL};
	flags[nf++] = (struct cli_flag){"background", CLI_BOOL, &background, NULL,
					"detach once listening (needs --log-file); an error "
					"before that is printed and the exit status is 1",
					0, 0, NULL, NULL};
	const struct cli_cmd cmd = {"controller", "aidc controller [options]",
				    "Run the controller: REST API (Unix socket for local users, TCP "
				    "(HTTPS with --tls-cert) for agents and token holders), durable "
				    "state, scheduling, dispatch. Each config key is also a flag; a "
				    "bool flag takes =true or =false.",
				    flags, nf};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (doc) {
		ctld_config_doc(stdout);
		return CLI_EXIT_OK;
	}
	if (debug)
		aidc_log_set_level(AIDC_LOG_DEBUG);
	struct ctld_config cfg;
	struct aidc_err e = {0};
	ctld_config_defaults(&cfg);
	if (config && ctld_config_load(&cfg, config, &e) != 0) {
		fprintf(stderr, "aidc controller: %s\n", e.msg);
		return CLI_EXIT_FAIL;
	}
	if ((rc = apply_key_flags(&kf, &cfg)) != 0)
		return rc;
	if ((rc = cli_daemon_files("controller", log_file, pid_file, background)) != 0)
		return rc;
	rc = ctld_run(&cfg, &e);
	aidc_pidfile_remove();
	if (rc != 0) {
		aidc_daemon_failed(e.msg);
		fprintf(stderr, "aidc controller: %s\n", e.msg);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}
