/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `aidc` binary: dispatches to a subcommand from one table. Adding a
 * subcommand means one row here and one cli_<name>.c file.
 */
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "util/util.h"

#ifdef AIDC_CLI_LEAN
/*
 * aidc without the daemons (src/cli/CMakeLists.txt): `aidc controller`,
 * `aidc agent` and `aidc help` (which prints every command's flags, the
 * daemons' too) exec aidc-daemon, the executable beside this one, with the
 * same arguments, so their pid, arguments and environment are the caller's.
 */
static char *main_argv0;

static int run_in_daemon(int argc, char **argv)
{
	char self[AIDC_MAX_PATH_BYTES], path[AIDC_MAX_PATH_BYTES + 16];
	if (cli_self_exe(self, sizeof self) != 0) {
		fprintf(stderr, "aidc %s: cannot find this executable (/proc/self/exe): %s\n",
			argv[0], strerror(errno));
		return CLI_EXIT_FAIL;
	}
	char *slash = strrchr(self, '/');
	snprintf(path, sizeof path, "%.*s/aidc-daemon", slash ? (int)(slash - self) : 1,
		 slash ? self : ".");
	char **v = aidc_calloc((size_t)argc + 2, sizeof *v);
	v[0] = main_argv0;
	memcpy(v + 1, argv, (size_t)argc * sizeof *v);
	execv(path, v);
	fprintf(stderr,
		"aidc %s: cannot run %s: %s (the controller and the agent run in aidc-daemon, "
		"installed beside aidc)\n",
		argv[0], path, strerror(errno));
	aidc_free(v);
	return CLI_EXIT_FAIL;
}
#define cli_controller_main run_in_daemon
#define cli_agent_main run_in_daemon
#define cli_help_main run_in_daemon
#endif

const struct cli_subcmd cli_subcmds[] = {
	{"sim", cli_sim_main, "replay a workload trace through the scheduling core", "openb", true},
	{"exam", cli_exam_main, "grade an accelerator with a standard exam of AI workloads",
	 "run list devices report compare conformance publish", false},
	{"errors", cli_errors_main, "list every error code, its HTTP status and message", NULL, true},
	/* the live center (cli_controller.c, cli_up.c, cli_submit.c, cli_client.c) */
	{"controller", cli_controller_main, "run the controller (API, state, scheduling)", NULL, true},
	{"agent", cli_agent_main, "run a node agent (launches tasks, reports, logs)", NULL, true},
	{"up", cli_up_main, "start a local center: a controller plus N mock agents", NULL, true},
	{"down", cli_down_main, "stop the local center started by 'aidc up'", NULL, true},
	{"submit", cli_submit_main, "submit a command or batch script (#SBATCH understood)", NULL,
	 true},
	{"sbatch", cli_sbatch_main,
	 "submit a Slurm batch script as sbatch does (every option applied or refused; "
	 "docs/slurm.md)",
	 NULL, true},
	{"jobs", cli_jobs_main, "list jobs, with why pending ones wait", NULL, true},
	{"job", cli_job_main, "show one job and its tasks", NULL, true},
	{"cancel", cli_cancel_main, "cancel a job", NULL, true},
	{"requeue", cli_requeue_main, "stop a running job and queue it again", NULL, true},
	{"hold", cli_hold_main, "hold pending jobs (they never start until released)", NULL, true},
	{"release", cli_release_main, "release held jobs", NULL, true},
	{"logs", cli_logs_main, "print (or follow with -f) a task's output", NULL, true},
	{"nodes", cli_nodes_main, "list nodes", NULL, true},
	{"drain", cli_drain_main, "stop starting jobs on a node (admin)", NULL, true},
	{"resume", cli_resume_main, "undo a drain (admin)", NULL, true},
	{"token", cli_token_main, "create, list or revoke per-user API tokens", "create list revoke",
	 false},
	{"account", cli_account_main,
	 "accounts: organizations and projects, their QoS and limits (docs/tenancy.md)",
	 "add list show modify delete", false},
	{"user", cli_user_main, "users' associations with accounts and default account",
	 "add list show modify delete", false},
	{"qos", cli_qos_main, "quality-of-service levels: priority, preemption, max wall time",
	 "add list modify delete", false},
	{"acct", cli_acct_main, "job accounting records, sacct-like (docs/accounting.md)", NULL,
	 true},
	{"usage", cli_usage_main, "device-hours per account, user or organization and model", NULL,
	 true},
	{"rates", cli_rates_main,
	 "per-model rates of normalized units from exam reports, and overrides", "list set",
	 false},
	{"speeds", cli_speeds_main,
	 "the speed table of job classes on device models, from jobs' progress reports "
	 "(docs/placement.md)",
	 NULL, true},
	{"progress", cli_progress_main,
	 "inside a job: report its throughput (steps/s) for heterogeneity-aware placement", NULL,
	 true},
	{"audit", cli_audit_main, "the audit log of changes (admins: all; others: their own)", NULL,
	 true},
	{"share", cli_share_main,
	 "the fair-share tree: shares, decayed usage, fair-share factor (as sshare)", NULL, true},
	{"scontrol", cli_scontrol_main,
	 "Slurm's scontrol for batch scripts: show hostnames|hostlist|job, hold, release, requeue",
	 NULL, true},
	{"squeue", cli_squeue_main,
	 "Slurm's squeue: jobs with squeue's columns, filters and -o formats (docs/slurm.md)", NULL,
	 true},
	{"scancel", cli_scancel_main,
	 "Slurm's scancel: cancel jobs by id or by user, state, name, partition (docs/slurm.md)",
	 NULL, true},
	{"sinfo", cli_sinfo_main,
	 "Slurm's sinfo: nodes grouped by partition and state, -o formats (docs/slurm.md)", NULL,
	 true},
	{"sacct", cli_sacct_main,
	 "Slurm's sacct: the caller's jobs, finished ones too, with sacct's fields (docs/slurm.md)",
	 NULL, true},
	{"srun", cli_srun_main,
	 "Slurm's srun inside an aidc sbatch job: a step of -n tasks on the job's node "
	 "(docs/slurm.md)",
	 NULL, true},
	{"salloc", cli_salloc_main,
	 "Slurm's salloc: an allocation, then a command (default: your shell) here with the "
	 "job's SLURM_* set; srun in it runs steps on the allocation (docs/slurm.md)",
	 NULL, true},
	{"serve", cli_serve_main,
	 "run a command as a long-running service: replicas, probes, restarts, one address "
	 "(docs/services.md)",
	 NULL, true},
	{"services", cli_services_main, "list services: state, ready replicas, address, requests",
	 NULL, true},
	{"service", cli_service_main, "show, scale, update (rolling) or delete a service",
	 "show scale update delete", false},
	{"priority", cli_priority_main,
	 "a pending job's multifactor priority, factor by factor (as sprio)", NULL, true},
	{"catalog", cli_catalog_main,
	 "the model and algorithm catalogue: list, show and run recipes (docs/catalog.md)",
	 "list show run check", false},
	{"help", cli_help_main, "help on a command; man pages and bash completion", NULL, true},
};
const size_t cli_nsubcmds = AIDC_ARRAY_LEN(cli_subcmds);

/*
 * --cacert FILE (or --cacert=FILE), accepted by every command that talks to
 * the controller: the CA certificate(s) verifying an https controller
 * ($AIDC_CACERT is the same). Taken out of argv here, before the command's
 * own flags (for submit, only before the job's command); a missing or
 * unreadable file is refused naming its path.
 * `aidc agent` has its own --cacert flag.
 */
static int take_cacert(int *argc, char **argv)
{
	for (int i = 2; i < *argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		/* The job's own argv starts at submit's first operand: never ours. */
		if ((!strcmp(argv[1], "submit") || !strcmp(argv[1], "sbatch")) &&
		    argv[i][0] != '-')
			break;
		const char *v = NULL;
		int used = 0;
		if (!strcmp(argv[i], "--cacert")) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "aidc %s: --cacert needs a FILE\n", argv[1]);
				return CLI_EXIT_USAGE;
			}
			v = argv[i + 1];
			used = 2;
		} else if (!strncmp(argv[i], "--cacert=", 9)) {
			v = argv[i] + 9;
			used = 1;
		} else {
			continue;
		}
		FILE *f = fopen(v, "r");
		if (!f) {
			fprintf(stderr, "aidc %s: --cacert %s: %s\n", argv[1], v, strerror(errno));
			return CLI_EXIT_FAIL;
		}
		fclose(f);
		if (setenv("AIDC_CACERT", v, 1) != 0) {
			fprintf(stderr, "aidc %s: --cacert: %s\n", argv[1], strerror(errno));
			return CLI_EXIT_FAIL;
		}
		memmove(&argv[i], &argv[i + used], (size_t)(*argc - i - used + 1) * sizeof *argv);
		*argc -= used;
		i--;
	}
	return 0;
}

void cli_usage(FILE *out)
{
	fprintf(out, "usage: aidc <command> [options]\n\n"
		     "AIDC, an open operating system for AI computing centers.\n\ncommands:\n");
	for (size_t i = 0; i < cli_nsubcmds; i++)
		fprintf(out, "  %-10s %s\n", cli_subcmds[i].name, cli_subcmds[i].summary);
	fprintf(out, "\n'aidc <command> --help' describes each command; 'aidc --version' "
		     "prints the version.\n"
		     "Commands that talk to a remote controller (AIDC_CONTROLLER=https://HOST:PORT) "
		     "take --cacert FILE\n(or AIDC_CACERT): the CA certificate that verifies it.\n");
}

/*
 * Run under a Slurm command's name (a link named sbatch, scontrol, squeue,
 * scancel, sinfo, sacct, srun or salloc, as
 * batch jobs find them on their PATH): argv becomes `aidc NAME ARGS...`.
 * Returns argv itself otherwise. The new vector lives as long as the
 * process (it is main's argv); the static keeps it reachable.
 */
static char **as_slurm_command(int *argc, char **argv)
{
	static char **slurm_argv;
	static const char *const names[] = {"sbatch", "scontrol", "squeue", "scancel",
					    "sinfo",  "sacct",    "srun",   "salloc"};
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(names); i++) {
		if (strcmp(base, names[i]) != 0)
			continue;
		char **v = aidc_calloc((size_t)*argc + 2, sizeof *v);
		v[0] = "aidc";
		for (int k = 1; k < *argc; k++)
			v[k + 1] = argv[k];
		v[1] = (char *)names[i];
		(*argc)++;
		slurm_argv = v;
		return slurm_argv;
	}
	return argv;
}

int main(int argc, char **argv)
{
#ifdef AIDC_CLI_LEAN
	main_argv0 = argv[0];
#endif
	argv = as_slurm_command(&argc, argv);
	if (argc < 2) {
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    (strcmp(cmd, "help") == 0 && argc == 2)) {
		cli_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("aidc %s\n", AIDC_VERSION);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < cli_nsubcmds; i++) {
		if (strcmp(cmd, cli_subcmds[i].name) != 0)
			continue;
		int rc;
		if (strcmp(cmd, "agent") != 0 && (rc = take_cacert(&argc, argv)) != 0)
			return rc;
		return cli_subcmds[i].main_fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "aidc: unknown command '%s' (see 'aidc --help')\n", cmd);
	return CLI_EXIT_USAGE;
}
