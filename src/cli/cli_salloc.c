/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc salloc` (and `salloc`): Slurm's salloc. cli_sbatch.c checks the
 * options (sbatch's, less the few salloc does not have) and submits a batch
 * job whose script is srun's step holder (AIDC_SALLOC=1: node 0 holds too);
 * here: wait until the job runs, run the command on this host with the
 * allocation's SLURM_* variables, then end the job with the command's
 * status (completed, or failed with its code, as Slurm's salloc). srun in
 * the command sees AIDC_SALLOC=1 and runs every task of its steps through
 * the holders (cli_srun.c, docs/slurm.md).
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "cli/cli_slurm.h"
#include "util/clock.h"
#include "util/hostlist.h"
#include "util/util.h"

static volatile sig_atomic_t sa_signal;
/* The command the user ran: every message's prefix ("salloc", or "srun"
 * when srun makes its allocation, cli_srun_alloc.c). */
static const char *sa_me = "salloc";

static void sa_on_signal(int sig)
{
	sa_signal = sig;
}

/* Ends the allocation (the job's cancel); quiet when it has ended already. */
static void sa_release(const char *sp, long long id)
{
	char path[64];
	snprintf(path, sizeof path, "/v1/jobs/%lld/cancel", id);
	struct api_call c = {0};
	cli_call_retry(sa_me, sp, "POST", path, NULL, 0, &c,
		       cli_call_wait_flag(sp) | CLI_CALL_QUIET);
	aidc_buf_release(&c.reply);
}

/* Waits until job id runs: 0 with *job, else the exit code after a line. */
static int sa_wait(const char *sp, long long id, json_t **job)
{
	bool said = false;
	for (;;) {
		json_t *j = NULL;
		char why[256];
		int rc = cli_slurm_get_job(sa_me, sp, id, &j, why, sizeof why);
		if (rc)
			return rc == 1 ? fprintf(stderr, "%s: error: job %lld: %s\n", sa_me, id, why),
			       CLI_EXIT_FAIL : rc;
		const char *st = cli_slurm_str(j, "state");
		if (!strcmp(st, "running")) {
			*job = j;
			return 0;
		}
		if (strcmp(st, "pending")) {
			fprintf(stderr, "%s: error: Job allocation %lld ended before it was "
					"granted (%s%s%s)\n", sa_me,
				id, st, *cli_slurm_str(j, "reason") ? ": " : "",
				cli_slurm_str(j, "reason"));
			json_decref(j);
			return CLI_EXIT_FAIL;
		}
		if (!said)
			fprintf(stderr, "%s: job %lld queued and waiting for resources (%s)\n", sa_me,
				id, cli_slurm_str(j, "pending_reason"));
		said = true;
		json_decref(j);
		if (sa_signal) {
			sa_release(sp, id);
			fprintf(stderr, "%s: Job allocation %lld has been revoked.\n", sa_me, id);
			return 128 + sa_signal;
		}
		poll(NULL, 0, 250);
	}
}

/* PATH with aidc's folder of Slurm names first (srun, scontrol, ...), as a
 * batch job has it (beside the binary, or libexec/aidc/slurm-bin). */
static void sa_path(void)
{
	char exe[AIDC_MAX_PATH_BYTES], dir[AIDC_MAX_PATH_BYTES + 64];
	ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
	char *slash = k > 0 ? (exe[k] = '\0', strrchr(exe, '/')) : NULL;
	if (slash)
		*slash = '\0';
	static const char *const where[] = {"%s/slurm-bin", "%s/../libexec/aidc/slurm-bin"};
	for (size_t i = 0; slash && i < AIDC_ARRAY_LEN(where); i++) {
		char probe[sizeof dir + 16];
		snprintf(dir, sizeof dir, where[i], exe);
		snprintf(probe, sizeof probe, "%s/srun", dir);
		if (access(probe, X_OK) != 0)
			continue;
		const char *path = getenv("PATH");
		size_t n = strlen(dir) + (path ? strlen(path) : 0) + 2;
		char *v = aidc_malloc(n);
		snprintf(v, n, "%s%s%s", dir, path && *path ? ":" : "", path ? path : "");
		setenv("PATH", v, 1);
		aidc_free(v);
		return;
	}
	fprintf(stderr, "%s: warning: no slurm-bin folder beside aidc: the srun on your PATH "
			"may not be aidc's\n", sa_me);
}

/* The allocation's variables: vars (submit time) and the job's id and nodes. */
static int sa_env(long long id, json_t *job, const char *vars)
{
	json_error_t je;
	json_t *v = json_loads(vars ? vars : "[]", 0, &je), *x;
	size_t i;
	json_array_foreach(v, i, x)
		if (json_is_string(x) && strchr(json_string_value(x), '='))
			putenv(aidc_strdup(json_string_value(x))); /* environ's from now on */
	json_decref(v);
	struct aidc_buf b;
	aidc_buf_init(&b, 1u << 20);
	const char *list = cli_slurm_nodelist(job, "", &b);
	char ids[32];
	snprintf(ids, sizeof ids, "%lld", id);
	int rc = setenv("SLURM_JOB_ID", ids, 1) | setenv("SLURM_JOBID", ids, 1) |
		 setenv("SLURM_JOB_NODELIST", list, 1) | setenv("SLURM_NODELIST", list, 1) |
		 setenv("AIDC_SALLOC", "1", 1);
	aidc_buf_release(&b);
	unsetenv("AIDC_JOB_ID"); /* salloc inside a job: srun runs this allocation's steps */
	sa_path();
	return rc;
}

/* Whether job id has ended (its time limit, scancel): said on stderr. */
static bool sa_ended(const char *sp, long long id)
{
	json_t *j = NULL;
	char why[256];
	if (cli_slurm_get_job(sa_me, sp, id, &j, why, sizeof why) != 0)
		return false;
	const char *st = cli_slurm_str(j, "state");
	bool ended = strcmp(st, "running") && strcmp(st, "pending");
	if (ended)
		fprintf(stderr, "%s: Job allocation %lld has been revoked (%s%s%s): srun "
				"cannot start steps on it now\n", sa_me,
			id, st, *cli_slurm_str(j, "reason") ? ": " : "", cli_slurm_str(j, "reason"));
	json_decref(j);
	return ended;
}

/* Runs cmd (NULL: $SHELL) and waits; its status as a shell gives it. While it
 * runs, the job is looked at once a second (its end is said). */
static int sa_command(const char *sp, long long id, char **cmd)
{
	const char *shell = getenv("SHELL");
	char *dflt[] = {(char *)(shell && *shell ? shell : "/bin/sh"), NULL};
	char **argv = cmd && cmd[0] ? cmd : dflt;
	pid_t pid = fork();
	if (pid < 0)
		return fprintf(stderr, "%s: error: fork: %s\n", sa_me, strerror(errno)), CLI_EXIT_FAIL;
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: error: %s: %s\n", sa_me, argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	int st = 0;
	bool revoked = false;
	for (int64_t next = 0;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return CLI_EXIT_FAIL;
		if (sa_signal == SIGTERM || sa_signal == SIGHUP)
			kill(pid, sa_signal);
		sa_signal = 0;
		if (!revoked && aidc_mono_ms() >= next) { /* the allocation's end: said once */
			next = aidc_mono_ms() + 1000;
			revoked = sa_ended(sp, id);
		}
		poll(NULL, 0, 50);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Ends the allocation with the command's status, as Slurm's salloc: node 0's
 * step holder (the job's script) exits with it, so the job ends completed (or
 * failed with the code). A job still running SA_END_WAIT_MS later (the
 * release lost in a controller restart) is cancelled. */
#define SA_END_WAIT_MS 15000
static void sa_end(const char *sp, long long id, int rc)
{
	char path[64], body[96];
	snprintf(path, sizeof path, "/v1/jobs/%lld/steps", id);
	snprintf(body, sizeof body, "{\"op\":\"release\",\"step\":0,\"exit_code\":%d}",
		 rc < 0 ? 1 : rc > 255 ? 255 : rc);
	struct api_call c = {0};
	int posted = cli_call_retry(sa_me, sp, "POST", path, body, strlen(body), &c,
				    cli_call_wait_flag(sp) | CLI_CALL_QUIET);
	aidc_buf_release(&c.reply);
	for (int64_t end = aidc_mono_ms() + SA_END_WAIT_MS; posted == 0 && aidc_mono_ms() < end;) {
		json_t *j = NULL;
		char why[256];
		if (cli_slurm_get_job(sa_me, sp, id, &j, why, sizeof why) != 0)
			break;
		bool live = !strcmp(cli_slurm_str(j, "state"), "running");
		json_decref(j);
		if (!live)
			return;
		poll(NULL, 0, 100);
	}
	sa_release(sp, id); /* quiet when the job has ended already */
}

int cli_salloc_session(const char *me, const char *sp, long long id, char **cmd,
		       const char *vars)
{
	sa_me = me;
	struct sigaction sa = {.sa_handler = sa_on_signal};
	sigemptyset(&sa.sa_mask);
	const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (size_t k = 0; k < AIDC_ARRAY_LEN(sigs); k++)
		sigaction(sigs[k], &sa, NULL);
	fprintf(stderr, "%s: Pending job allocation %lld\n", sa_me, id);
	json_t *job = NULL;
	int rc = sa_wait(sp, id, &job);
	if (rc)
		return rc;
	fprintf(stderr, "%s: Granted job allocation %lld\n", sa_me, id);
	bool sa_ok = false; /* the command ran: its status ends the allocation */
	if (sa_env(id, job, vars) != 0) {
		fprintf(stderr, "%s: error: cannot set the allocation's environment\n", sa_me);
		rc = CLI_EXIT_FAIL;
	} else {
		signal(SIGINT, SIG_IGN); /* the terminal's ^C is the command's */
		signal(SIGQUIT, SIG_IGN);
		rc = sa_command(sp, id, cmd);
		sa_ok = true;
	}
	json_decref(job);
	fprintf(stderr, "%s: Relinquishing job allocation %lld\n", sa_me, id);
	if (sa_ok)
		sa_end(sp, id, rc);
	else
		sa_release(sp, id);
	return rc;
}
