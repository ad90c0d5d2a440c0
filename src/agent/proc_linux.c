/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linux process control for the agent (agent_int.h): fork/exec of a task in
 * its own session and process group, privilege drop to the job's uid/gid,
 * working directory, stdout/stderr, and exec-failure reporting through a
 * close-on-exec pipe (0 bytes read = exec succeeded).
 *
 * Order in the child matters: setsid first (the task must not get the
 * agent's terminal signals); then into the task's cgroup(s) and rlimits
 * while still privileged (cgroup.procs was opened by the agent; writing "0"
 * moves the writer); groups, gid, then uid (after setuid nothing else can be
 * changed); chdir after the drop so the user's permissions apply.
 *
 * Also here: process identity across pid reuse (/proc/PID/stat start time),
 * the subreaper setting, and the copier that writes -o/-e files as the user.
 */
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "util/util.h"

struct child_err {
	int stage; /* 1 setsid, 2 groups, 3 setgid, 4 setuid, 5 chdir, 6 exec, 7 cgroup, 8 rlimit */
	int err;
};

static void child_fail(int fd, int stage)
{
	struct child_err ce = {stage, errno};
	ssize_t w = write(fd, &ce, sizeof ce);
	(void)w;
	_exit(127);
}

/* Supplementary groups are looked up BEFORE fork: the agent has threads, so
 * between fork and exec only async-signal-safe calls are allowed, and
 * initgroups (NSS, malloc) is not one of them. The child calls setgroups. */
#define MAX_GROUPS 1024

struct groups {
	gid_t g[MAX_GROUPS];
	int n;
};

static void lookup_groups(const struct agent_launch *l, struct groups *gr)
{
	gr->n = MAX_GROUPS;
	if (!l->drop_privileges || getgrouplist(l->user, (gid_t)l->gid, gr->g, &gr->n) < 0) {
		/* Unknown user or more groups than we keep: the primary group only. */
		gr->g[0] = (gid_t)l->gid;
		gr->n = 1;
	}
}

/* setgroups, setgid, setuid, and a check that root cannot be regained. */
static int drop(const struct agent_launch *l, const struct groups *gr)
{
	if (setgroups((size_t)gr->n, gr->g) != 0)
		return 2;
	if (setgid((gid_t)l->gid) != 0)
		return 3;
	if (setuid((uid_t)l->uid) != 0)
		return 4;
	if (l->uid != 0 && setuid(0) == 0)
		return 4;
	return 0;
}

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static void child(const struct agent_launch *l, const struct groups *gr, int errfd)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	if (setsid() < 0)
		child_fail(errfd, 1);
	for (size_t i = 0; i < l->ncgroup_fds; i++)
		if (l->cgroup_fds[i] >= 0 && write(l->cgroup_fds[i], "0", 1) != 1)
			child_fail(errfd, 7);
	if (l->rlimit_as_bytes) {
		struct rlimit r = {l->rlimit_as_bytes, l->rlimit_as_bytes};
		if (setrlimit(RLIMIT_AS, &r) != 0)
			child_fail(errfd, 8);
	}
	if (l->rlimit_nproc) {
		struct rlimit r = {l->rlimit_nproc, l->rlimit_nproc};
		if (setrlimit(RLIMIT_NPROC, &r) != 0)
			child_fail(errfd, 8);
	}
	int stage;
	if (l->drop_privileges && (stage = drop(l, gr)) != 0)
		child_fail(errfd, stage);
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
	/* The task gets stdin/stdout/stderr only: whatever else the agent holds
	 * (inherited from its own parent, libcurl sockets, a lock) must not leak
	 * into user code. CLOEXEC, not close: errfd must work until exec. */
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
	execve(l->exe, l->argv, l->envp);
	child_fail(errfd, 6);
}

/* The message for a child that failed before exec. */
static int child_error(const struct child_err *ce, const char *cwd, const char *exe,
		       struct aidc_err *e)
{
	static const char *const stages[] = {"?",      "setsid", "setgroups", "setgid", "setuid",
					     "chdir",  "exec",   "cgroup",    "setrlimit"};
	const char *what = ce->stage >= 1 && ce->stage <= 8 ? stages[ce->stage] : "?";
	return aidc_errf(e, AIDC_E_IO, "%s %s: %s", what,
			 ce->stage == 5 ? cwd : (ce->stage == 6 ? exe : ""), strerror(ce->err));
}

/* fork + child(); the read end of the exec-report pipe goes to *rfd. */
static int spawn_child(const struct agent_launch *l, pid_t *out_pid, int *rfd, struct aidc_err *e)
{
	struct groups gr;
	lookup_groups(l, &gr);
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
		child(l, &gr, p[1]);
	}
	close(p[1]);
	*out_pid = pid;
	*rfd = p[0];
	return 0;
}

int agent_proc_spawn(const struct agent_launch *l, pid_t *out_pid, struct aidc_err *e)
{
	pid_t pid;
	int rfd;
	int rc = spawn_child(l, &pid, &rfd, e);
	if (rc)
		return rc;
	struct child_err ce;
	ssize_t n;
	do
		n = read(rfd, &ce, sizeof ce);
	while (n < 0 && errno == EINTR);
	close(rfd);
	if (n == (ssize_t)sizeof ce) {
		int st;
		waitpid(pid, &st, 0);
		return child_error(&ce, l->cwd, l->exe, e);
	}
	*out_pid = pid;
	return 0;
}

int agent_proc_spawn_async(const struct agent_launch *l, pid_t *out_pid, int *out_fd,
			   struct aidc_err *e)
{
	int rc = spawn_child(l, out_pid, out_fd, e);
	/* Only the parent's read end becomes non-blocking (the child's write end
	 * is a separate file description). Failing that, result() would block
	 * until exec: slower, still correct. */
	if (rc == 0)
		(void)fcntl(*out_fd, F_SETFL, O_NONBLOCK);
	return rc;
}

int agent_proc_spawn_result(int *fd, const char *cwd, const char *exe, struct aidc_err *e)
{
	if (*fd < 0)
		return 0;
	struct child_err ce;
	ssize_t n;
	do
		n = read(*fd, &ce, sizeof ce);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 1; /* the child is still between fork and exec */
	close(*fd);
	*fd = -1;
	/* The child writes its record in one write() of a few bytes (atomic on a
	 * pipe), then exits: a short read cannot happen; treat it as success. */
	if (n == (ssize_t)sizeof ce)
		return child_error(&ce, cwd, exe, e);
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

void agent_proc_init(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int agent_proc_start_ticks(pid_t pid, uint64_t *ticks)
{
	char p[64], buf[1024];
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	int fd = pid > 0 ? open(p, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return AIDC_E_NOTFOUND;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return AIDC_E_NOTFOUND;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold spaces and parens; fields
	 * restart after the LAST ')'. State is field 3, starttime field 22. */
	char *r = strrchr(buf, ')');
	if (!r || r[1] != ' ' || r[2] == 'Z' || r[2] == 'X')
		return AIDC_E_NOTFOUND;
	char *save = NULL, *f = strtok_r(r + 2, " ", &save);
	for (int field = 3; f && field < 22; field++)
		f = strtok_r(NULL, " ", &save);
	if (!f)
		return AIDC_E_NOTFOUND;
	*ticks = strtoull(f, NULL, 10);
	return 0;
}

/* Runs in the copier child: become the user, then copy. Exit 0 or 1. */
static void copier(const struct agent_launch *who, const struct groups *gr, const int *srcs,
		   size_t nsrc, const char *path, bool append)
{
	if (who->drop_privileges && drop(who, gr) != 0)
		_exit(1);
	if (path[0] != '/' && chdir(who->cwd) != 0)
		_exit(1);
	umask(022);
	int dst = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
	if (dst < 0)
		_exit(1);
	char buf[65536];
	for (size_t i = 0; i < nsrc; i++) {
		off_t off = 0;
		for (;;) {
			ssize_t n = srcs[i] >= 0 ? pread(srcs[i], buf, sizeof buf, off) : 0;
			if (n <= 0)
				break;
			for (ssize_t done = 0; done < n;) {
				ssize_t w = write(dst, buf + done, (size_t)(n - done));
				if (w <= 0)
					_exit(1);
				done += w;
			}
			off += n;
		}
	}
	_exit(close(dst) == 0 ? 0 : 1);
}

int agent_proc_copy_as_user(const struct agent_launch *who, const int *src_fds, size_t nsrc,
			    const char *path, bool append, pid_t *out_pid, struct aidc_err *e)
{
	struct groups gr;
	lookup_groups(who, &gr);
	pid_t pid = fork();
	if (pid < 0)
		return aidc_errf(e, AIDC_E_IO, "fork: %s", strerror(errno));
	if (pid == 0)
		copier(who, &gr, src_fds, nsrc, path, append);
	*out_pid = pid;
	return 0;
}
