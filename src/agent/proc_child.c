/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The task's side of a launch (proc_child.h): everything between the
 * agent's spawn and the program's exec, run by aidc-task (task_main.c), the
 * small executable the agent starts for each task. The order and the rules
 * are proc_linux.c's (see there); the shim is described in agent_int.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/proc_child.h"

void agent_child_fail(int fd, int stage)
{
	struct child_err ce = {stage, errno};
	ssize_t w = write(fd, &ce, sizeof ce);
	(void)w;
	_exit(127);
}

/* setgroups, setgid, setuid, and a check that root cannot be regained. */
int agent_child_drop(const struct agent_launch *l, const struct agent_groups *gr)
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

/* Closes every descriptor from 3 up except the n in keep (-1 = none): a
 * child that waits (at its gate, as the shim, or following output) must not
 * hold the write ends of other tasks' gate and stop pipes, or their children
 * would never see EOF when the agent dies. */
void agent_child_close_except(const int *keep, size_t n)
{
	int k[4];
	size_t m = 0;
	for (size_t i = 0; i < n && m < 4; i++)
		if (keep[i] >= 3)
			k[m++] = keep[i];
	for (size_t i = 1; i < m; i++) /* insertion sort of at most 4 */
		for (size_t j = i; j > 0 && k[j - 1] > k[j]; j--) {
			int x = k[j];
			k[j] = k[j - 1];
			k[j - 1] = x;
		}
	unsigned next = 3;
	for (size_t i = 0; i < m; i++) {
		if ((unsigned)k[i] > next)
			close_range(next, (unsigned)k[i] - 1, 0);
		if ((unsigned)k[i] + 1 > next)
			next = (unsigned)k[i] + 1;
	}
	close_range(next, ~0u, 0);
}

/* Waits up to keep_s (for a restarted agent to read the name, or for the
 * agent to kill it); SIGKILL ends it sooner, and so does the removal of the
 * agent's state directory (no agent will come back for it). */
static void keep_name(time_t keep_s, const char *state_dir)
{
	for (time_t waited = 0; waited < keep_s; waited += 2) {
		struct timespec ts = {2, 0};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
		}
		struct stat sb;
		if (state_dir && stat(state_dir, &sb) != 0 && errno == ENOENT)
			return;
	}
}

/* Waits at the gate: the agent writes 'g' once the task is in its state
 * file, or 'x' when it forgets the task (the child exits at once, reaped by
 * that agent). EOF means the agent died first: the program never runs, and
 * the orphan says so in its name for a restarted agent, which then waits for
 * the launch order again. The EOF can arrive before the child is reparented
 * (a dying process closes its files first), so EOF alone decides: getppid()
 * may still name the agent. */
static void wait_gate(int gate_fd, const char *state_dir)
{
	char go = 0;
	ssize_t n;
	do
		n = read(gate_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || go != 'g') {
		prctl(PR_SET_NAME, AGENT_EXIT_COMM "n", 0, 0, 0);
		if (n != 1)
			keep_name(AGENT_GATE_KEEP_S, state_dir);
		_exit(127);
	}
	close(gate_fd);
}

/* Writes the decimal v at p (async-signal-safe); returns the end. */
static char *put_uint(char *p, unsigned v)
{
	char tmp[12];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* The shim: the task's leader process stays the agent's child (root, in the
 * task's session, process group and cgroup; signals other than SIGKILL are
 * ignored) while the program runs in its own child. When the program ends
 * the shim keeps its status in its name (AGENT_EXIT_COMM "e<code>" or
 * "s<signal>"), writes its pid to the agent's notify pipe and waits to be
 * killed: the agent kills it only once the exit is in tasks.json, so a kill
 * -9 of the agent at any moment leaves the status with the shim or in the
 * file, and a restarted agent reports the real exit instead of "lost". */
static void shim(pid_t prog, int notify_fd, pid_t agent, const char *state_dir)
{
	int st;
	pid_t r;
	do
		r = waitpid(prog, &st, 0);
	while (r < 0 && errno == EINTR);
	char name[16] = AGENT_EXIT_COMM, *p = name + sizeof AGENT_EXIT_COMM - 1;
	bool sig = r == prog && WIFSIGNALED(st);
	*p++ = sig ? 's' : 'e';
	p = put_uint(p, r != prog ? 127u : sig ? (unsigned)WTERMSIG(st) : (unsigned)WEXITSTATUS(st));
	*p = '\0';
	prctl(PR_SET_NAME, name, 0, 0, 0);
	pid_t me = getpid();
	/* Non-blocking: a full pipe is retried; a dead agent (EPIPE, or the pipe
	 * closed) is not: a restarted one reads the name. */
	while (notify_fd >= 0) {
		ssize_t w = write(notify_fd, &me, sizeof me);
		if (w == (ssize_t)sizeof me || (w < 0 && errno != EAGAIN && errno != EINTR) ||
		    getppid() != agent)
			break;
		struct timespec ts = {0, 10 * 1000000};
		nanosleep(&ts, NULL);
	}
	if (notify_fd >= 0)
		close(notify_fd);
	keep_name(AGENT_SHIM_KEEP_S, state_dir);
	_exit(127);
}

/* The program's side: privileges, directory, stdio, exec. */
static void program(const struct agent_launch *l, const struct agent_groups *gr, int errfd)
{
	int stage;
	if (l->drop_privileges && (stage = agent_child_drop(l, gr)) != 0)
		agent_child_fail(errfd, stage);
	if (chdir(l->cwd) != 0)
		agent_child_fail(errfd, 5);
	umask(l->has_umask ? l->umask : 022);
	int nul = open("/dev/null", O_RDONLY);
	if (nul >= 0) {
		dup2(nul, 0);
		if (nul > 2)
			close(nul);
	}
	if (dup2(l->out_fd, 1) < 0 || dup2(l->err_fd, 2) < 0)
		agent_child_fail(errfd, 6);
	/* The task gets stdin/stdout/stderr only: whatever else the agent holds
	 * (inherited from its own parent, libcurl sockets, a lock) must not leak
	 * into user code. CLOEXEC, not close: errfd must work until exec. */
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
	execve(l->exe, l->argv, l->envp);
	agent_child_fail(errfd, 6);
}

struct prog_arg {
	const struct agent_launch *l;
	const struct agent_groups *gr;
	int errfd;
};

/* The program's stack while it shares the shim's memory (until exec). */
#define PROG_STACK_BYTES (64 * 1024)

static int program_main(void *arg)
{
	const struct prog_arg *pa = arg;
	program(pa->l, pa->gr, pa->errfd);
	return 127;
}

/* Runs in the child between fork and exec: only async-signal-safe calls.
 * gate_fd: -1, or the read end of the gate (l->gated). */
void agent_child_run(const struct agent_launch *l, const struct agent_groups *gr, int errfd,
		     int gate_fd)
{
	pid_t agent = getppid();
	int notify_fd = l->shim ? l->notify_fd : -1;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	if (setsid() < 0)
		agent_child_fail(errfd, 1);
	for (size_t i = 0; i < l->ncgroup_fds; i++)
		if (l->cgroup_fds[i] >= 0 && write(l->cgroup_fds[i], "0", 1) != 1)
			agent_child_fail(errfd, 7);
	if (l->rlimit_as_bytes) {
		struct rlimit r = {l->rlimit_as_bytes, l->rlimit_as_bytes};
		if (setrlimit(RLIMIT_AS, &r) != 0)
			agent_child_fail(errfd, 8);
	}
	if (l->rlimit_nproc) {
		struct rlimit r = {l->rlimit_nproc, l->rlimit_nproc};
		if (setrlimit(RLIMIT_NPROC, &r) != 0)
			agent_child_fail(errfd, 8);
	}
	struct agent_launch moved;
	if (gate_fd >= 0) {
		/* out/err move to 1/2 now: they are all the waiting child keeps. */
		if (dup2(l->out_fd, 1) < 0 || dup2(l->err_fd, 2) < 0)
			agent_child_fail(errfd, 6);
		agent_child_close_except((const int[]){errfd, gate_fd, notify_fd}, 3);
		wait_gate(gate_fd, l->state_dir);
		moved = *l;
		moved.out_fd = 1;
		moved.err_fd = 2;
		moved.ncgroup_fds = 0;
		if (!l->shim)
			program(&moved, gr, errfd);
		l = &moved;
	}
	if (!l->shim)
		program(l, gr, errfd);
	prctl(PR_SET_NAME, AGENT_SHIM_COMM, 0, 0, 0);
	/* As posix_spawn does: the program's process shares the shim's memory
	 * (no page-table copy of the agent's image, the larger part of a fork's
	 * cost) on its own stack, and the shim sleeps until it execs or exits. */
	struct prog_arg pa = {l, gr, errfd};
	_Alignas(16) char stack[PROG_STACK_BYTES];
	pid_t prog = clone(program_main, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD,
			   &pa);
	if (prog < 0)
		agent_child_fail(errfd, 9);
	/* The start pipe reports the program's exec: the shim lets go of it. */
	agent_child_close_except(&notify_fd, 1);
	int nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD)
			signal(s, SIG_IGN);
	shim(prog, notify_fd, agent, l->state_dir);
}
