/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `aidc` binary: dispatches to a subcommand from one table. Adding a
 * subcommand means one row here and one cli_<name>.c file.
 */
#include "cli/cli.h"
#include "util/util.h"

struct subcmd {
	const char *name;
	int (*main_fn)(int argc, char **argv);
	const char *summary;
};

static const struct subcmd subcmds[] = {
	{"sim", cli_sim_main, "replay a workload trace through the scheduling core"},
	{"exam", cli_exam_main, "grade an accelerator with a standard exam of AI workloads"},
	{"errors", cli_errors_main, "list every error code, its HTTP status and message"},
	/* the live center (cli_controller.c, cli_up.c, cli_submit.c, cli_client.c) */
	{"controller", cli_controller_main, "run the controller (API, state, scheduling)"},
	{"agent", cli_agent_main, "run a node agent (launches tasks, reports, logs)"},
	{"up", cli_up_main, "start a local center: a controller plus N mock agents"},
	{"down", cli_down_main, "stop the local center started by 'aidc up'"},
	{"submit", cli_submit_main, "submit a command or batch script (#SBATCH understood)"},
	{"jobs", cli_jobs_main, "list jobs, with why pending ones wait"},
	{"job", cli_job_main, "show one job and its tasks"},
	{"cancel", cli_cancel_main, "cancel a job"},
	{"requeue", cli_requeue_main, "stop a running job and queue it again"},
	{"logs", cli_logs_main, "print (or follow with -f) a task's output"},
	{"nodes", cli_nodes_main, "list nodes"},
	{"drain", cli_drain_main, "stop starting jobs on a node (admin)"},
	{"resume", cli_resume_main, "undo a drain (admin)"},
	{"token", cli_token_main, "create, list or revoke per-user API tokens"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: aidc <command> [options]\n\n"
		     "AIDC, an open operating system for AI computing centers.\n\ncommands:\n");
	for (size_t i = 0; i < AIDC_ARRAY_LEN(subcmds); i++)
		fprintf(out, "  %-10s %s\n", subcmds[i].name, subcmds[i].summary);
	fprintf(out, "\n'aidc <command> --help' describes each command; 'aidc --version' "
		     "prints the version.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("aidc %s\n", AIDC_VERSION);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < AIDC_ARRAY_LEN(subcmds); i++)
		if (strcmp(cmd, subcmds[i].name) == 0)
			return subcmds[i].main_fn(argc - 1, argv + 1);
	fprintf(stderr, "aidc: unknown command '%s' (see 'aidc --help')\n", cmd);
	return CLI_EXIT_USAGE;
}
