/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linux process control for the agent (agent_int.h): fork/exec of a task in
 * its own session and process group, privilege drop to the job's uid/gid,
 * working directory, stdout/stderr, and exec-failure reporting through a
 * close-on-exec pipe (0 bytes read = exec succeeded).
 *
 * Order in the child matters: setsid first (the task must not get the
 * agent's terminal signals); groups, gid, then uid (after setuid nothing else
 * can be changed); chdir after the drop so the user's permissions apply.
 */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "util/util.h"

struct child_err {
	int stage; /* 1 setsid, 2 groups, 3 setgid, 4 setuid, 5 chdir, 6 exec */
	int err;
};

static void child_fail(int fd, int stage)
{
	struct child_err ce = {stage, errno};
	ssize_t w = write(fd, &ce, sizeof ce);
	(void)w;
	_exit(127);
}

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static void child(const struct agent_launch *l, int errfd)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	if (setsid() < 0)
		child_fail(errfd, 1);
	if (l->drop_privileges) {
		if (initgroups(l->user, (gid_t)l->gid) != 0 && setgroups(0, NULL) != 0)
			child_fail(errfd, 2);
		if (setgid((gid_t)l->gid) != 0)
			child_fail(errfd, 3);
		if (setuid((uid_t)l->uid) != 0)
			child_fail(errfd, 4);
		/* Refuse to run if root could be regained. */
		if (l->uid != 0 && setuid(0) == 0)
			child_fail(errfd, 4);
	}
	if (chdir(l->cwd) != 0)
		child_fail(errfd, 5);
	int nul = open("/dev/null", O_RDONLY);
	if (nul >= 0) {
		dup2(nul, 0);
		if (nul > 2)
			close(nul);
	}
	if (dup2(l->out_fd, 1) < 0 || dup2(l->err_fd, 2) < 0)
		child_fail(errfd, 6);
	execve(l->exe, l->argv, l->envp);
	child_fail(errfd, 6);
}

int agent_proc_spawn(const struct agent_launch *l, pid_t *out_pid, struct aidc_err *e)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return aidc_errf(e, AIDC_E_IO, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return aidc_errf(e, AIDC_E_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(p[0]);
		child(l, p[1]);
	}
	close(p[1]);
	struct child_err ce;
	ssize_t n;
	do
		n = read(p[0], &ce, sizeof ce);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == (ssize_t)sizeof ce) {
		static const char *const stages[] = {"?", "setsid", "setgroups", "setgid",
						     "setuid", "chdir", "exec"};
		int st;
		waitpid(pid, &st, 0);
		const char *what = ce.stage >= 1 && ce.stage <= 6 ? stages[ce.stage] : "?";
		return aidc_errf(e, AIDC_E_IO, "%s %s: %s", what,
				 ce.stage == 5 ? l->cwd : (ce.stage == 6 ? l->exe : ""),
				 strerror(ce.err));
	}
	*out_pid = pid;
	return 0;
}

void agent_proc_signal(pid_t pid, int sig)
{
	if (pid > 0)
		kill(-pid, sig);
}

int agent_proc_reap(pid_t *pid, int *exit_code, int *term_signal)
{
	int st;
	pid_t r = waitpid(-1, &st, WNOHANG);
	if (r <= 0)
		return 0;
	*pid = r;
	*exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
	*term_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	return 1;
}
