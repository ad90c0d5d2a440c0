/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc scontrol` (and `scontrol`, the same binary under Slurm's name): the
 * parts of Slurm's scontrol that batch scripts use. `show hostnames` and
 * `show hostlist` convert hostlists (util/hostlist) with no controller;
 * `show job`, `hold`, `release` and `requeue` are aidc's own commands under
 * Slurm's words. Everything else is refused naming the word (docs/slurm.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/hostlist.h"
#include "util/util.h"

static const char usage[] =
	"aidc scontrol show hostnames [LIST] | show hostlist NAMES | show job ID |\n"
	"       hold ID... | release ID... | requeue ID";

/* Expands list into *v (n names; aidc_hostlist_free them), or says why. */
static int expand(const char *list, char ***v, size_t *n)
{
	struct aidc_err e;
	aidc_err_clear(&e);
	int rc = aidc_hostlist_expand(list, AIDC_MAX_NODES, v, n, &e);
	if (rc)
		fprintf(stderr, "scontrol: %s\n", aidc_err_text(&e, rc));
	return rc ? CLI_EXIT_USAGE : 0;
}

static int show_hostnames(const char *list)
{
	if (!list)
		list = getenv("SLURM_JOB_NODELIST");
	if (!list || !*list) {
		fprintf(stderr, "scontrol: show hostnames: no hostlist given and "
				"SLURM_JOB_NODELIST is not set\n");
		return CLI_EXIT_USAGE;
	}
	char **v = NULL;
	size_t n = 0;
	int rc = expand(list, &v, &n);
	for (size_t i = 0; !rc && i < n; i++)
		printf("%s\n", v[i]);
	if (!rc)
		aidc_hostlist_free(v, n);
	return rc;
}

static int show_hostlist(const char *names)
{
	char **v = NULL;
	size_t n = 0;
	int rc = expand(names, &v, &n);
	if (rc)
		return rc;
	struct aidc_buf b;
	aidc_buf_init(&b, (size_t)AIDC_MAX_NODES * AIDC_MAX_NAME_BYTES);
	rc = aidc_hostlist_compress(v, n, &b);
	if (!rc)
		printf("%s\n", aidc_buf_str(&b));
	aidc_buf_release(&b);
	aidc_hostlist_free(v, n);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* argv[0] is "show": show hostnames|hostlist|job. */
static int show(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "hostnames") && argc <= 3)
		return show_hostnames(argc == 3 ? argv[2] : NULL);
	if (!strcmp(what, "hostlist") && argc == 3)
		return show_hostlist(argv[2]);
	if (!strcmp(what, "job") && argc >= 3) {
		argv[1] = "job"; /* aidc job ID [options] */
		return cli_job_main(argc - 1, argv + 1);
	}
	if (!strcmp(what, "hostnames") || !strcmp(what, "hostlist") || !strcmp(what, "job")) {
		fprintf(stderr, "scontrol: show %s: wrong arguments\nusage: %s\n", what, usage);
		return CLI_EXIT_USAGE;
	}
	fprintf(stderr, "scontrol: show '%s' is not supported here (hostnames, hostlist, job; "
			"'aidc nodes' and 'aidc jobs' show the rest)\n", what);
	return CLI_EXIT_USAGE;
}

int cli_scontrol_main(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";
	if (!strcmp(verb, "show"))
		return show(argc - 1, argv + 1);
	if (!strcmp(verb, "hold"))
		return cli_hold_main(argc - 1, argv + 1);
	if (!strcmp(verb, "release"))
		return cli_release_main(argc - 1, argv + 1);
	if (!strcmp(verb, "requeue"))
		return cli_requeue_main(argc - 1, argv + 1);
	if (*verb && verb[0] != '-') {
		fprintf(stderr, "scontrol: '%s' is not supported here (show hostnames|hostlist|job, "
				"hold, release, requeue)\n", verb);
		return CLI_EXIT_USAGE;
	}
	const struct cli_cmd cmd = {
		.name = "scontrol",
		.usage = usage,
		.summary = "The parts of Slurm's scontrol that batch scripts use. 'show hostnames'\n"
			   "prints one name per line of a hostlist (default $SLURM_JOB_NODELIST);\n"
			   "'show hostlist' compresses names (n1,n2,n3 -> n[1-3]); 'show job', 'hold',\n"
			   "'release' and 'requeue' are aidc job, hold, release and requeue. Installed\n"
			   "as 'scontrol' too, and on the PATH of every batch job; any other word is\n"
			   "refused naming it.",
		.flags = NULL,
		.nflags = 0,
	};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	fprintf(stderr, "scontrol: expected a command\nusage: %s\n", usage);
	return CLI_EXIT_USAGE;
}
