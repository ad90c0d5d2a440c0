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
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
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

#include "agent/agent_int.h"
#include "util/util.h"

struct child_err {
	int stage; /* 1 setsid, 2 groups, 3 setgid, 4 setuid, 5 chdir, 6 exec, 7 cgroup, 8 rlimit,
		    * 9 fork (of the shim) */
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

/* Closes every descriptor from 3 up except the n in keep (-1 = none): a
 * child that waits (at its gate, as the shim, or following output) must not
 * hold the write ends of other tasks' gate and stop pipes, or their children
 * would never see EOF when the agent dies. */
static void close_except(const int *keep, size_t n)
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
static void program(const struct agent_launch *l, const struct groups *gr, int errfd)
{
	int stage;
	if (l->drop_privileges && (stage = drop(l, gr)) != 0)
		child_fail(errfd, stage);
	if (chdir(l->cwd) != 0)
		child_fail(errfd, 5);
	umask(l->has_umask ? l->umask : 022);
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

struct prog_arg {
	const struct agent_launch *l;
	const struct groups *gr;
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
static void child(const struct agent_launch *l, const struct groups *gr, int errfd, int gate_fd)
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
	struct agent_launch moved;
	if (gate_fd >= 0) {
		/* out/err move to 1/2 now: they are all the waiting child keeps. */
		if (dup2(l->out_fd, 1) < 0 || dup2(l->err_fd, 2) < 0)
			child_fail(errfd, 6);
		close_except((const int[]){errfd, gate_fd, notify_fd}, 3);
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
		child_fail(errfd, 9);
	/* The start pipe reports the program's exec: the shim lets go of it. */
	close_except(&notify_fd, 1);
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

/* The message for a child that failed before exec. */
static int child_error(const struct child_err *ce, const char *cwd, const char *exe,
		       struct aidc_err *e)
{
	static const char *const stages[] = {"?",     "setsid", "setgroups", "setgid",
					     "setuid", "chdir", "exec",   "cgroup",
					     "setrlimit", "fork"};
	const char *what = ce->stage >= 1 && ce->stage <= 9 ? stages[ce->stage] : "?";
	return aidc_errf(e, AIDC_E_IO, "%s %s: %s", what,
			 ce->stage == 5 ? cwd : (ce->stage == 6 ? exe : ""), strerror(ce->err));
}

/* fork + child(); the read end of the exec-report pipe goes to *rfd and,
 * with gate_w, the write end of the gate to *gate_w. */
static int spawn_child(const struct agent_launch *l, pid_t *out_pid, int *rfd, int *gate_w,
		       struct aidc_err *e)
{
	struct groups gr;
	lookup_groups(l, &gr);
	int p[2], g[2] = {-1, -1};
	if (pipe2(p, O_CLOEXEC) != 0)
		return aidc_errf(e, AIDC_E_IO, "pipe: %s", strerror(errno));
	if (gate_w && pipe2(g, O_CLOEXEC) != 0) {
		close(p[0]);
		close(p[1]);
		return aidc_errf(e, AIDC_E_IO, "pipe: %s", strerror(errno));
	}
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		for (int i = 0; i < 2; i++) {
			close(p[i]);
			if (g[i] >= 0)
				close(g[i]);
		}
		return aidc_errf(e, AIDC_E_IO, "fork: %s", strerror(err));
	}
	if (pid == 0) {
		close(p[0]);
		if (g[1] >= 0)
			close(g[1]);
		child(l, &gr, p[1], g[0]);
	}
	close(p[1]);
	if (g[0] >= 0)
		close(g[0]);
	*out_pid = pid;
	*rfd = p[0];
	if (gate_w)
		*gate_w = g[1];
	return 0;
}

int agent_proc_spawn(const struct agent_launch *l, pid_t *out_pid, struct aidc_err *e)
{
	pid_t pid;
	int rfd;
	int rc = spawn_child(l, &pid, &rfd, NULL, e);
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
			   int *out_gate, struct aidc_err *e)
{
	if (out_gate)
		*out_gate = -1;
	int rc = spawn_child(l, out_pid, out_fd, out_gate, e);
	/* Only the parent's read end becomes non-blocking (the child's write end
	 * is a separate file description). Failing that, result() would block
	 * until exec: slower, still correct. */
	if (rc == 0)
		(void)fcntl(*out_fd, F_SETFL, O_NONBLOCK);
	return rc;
}

static void send_gate(int *gate, char what)
{
	if (*gate < 0)
		return;
	ssize_t w = write(*gate, &what, 1);
	(void)w; /* EPIPE: the child is gone already (killed), reaped as usual */
	close(*gate);
	*gate = -1;
}

void agent_proc_open_gate(int *gate)
{
	send_gate(gate, 'g');
}

void agent_proc_cancel_gate(int *gate)
{
	send_gate(gate, 'x');
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

int agent_proc_reap_usage(pid_t *pid, int *exit_code, int *term_signal, int64_t *cpu_usec,
			  int64_t *maxrss_bytes)
{
	int st;
	struct rusage ru;
	pid_t r = wait4(-1, &st, WNOHANG, &ru);
	if (r <= 0)
		return 0;
	*pid = r;
	*exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
	*term_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	*cpu_usec = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
		    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	*maxrss_bytes = (int64_t)ru.ru_maxrss * 1024; /* Linux: KiB */
	return 1;
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

/* /proc/PID/stat read into buf: "pid (comm) S ppid ...", where comm may hold
 * spaces and parens, so the fields restart after the LAST ')'. Returns the
 * text from field 3 (the state) on, or NULL when pid is gone or unreadable. */
static char *proc_stat_fields(pid_t pid, char *buf, size_t size)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	int fd = pid > 0 ? open(p, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	char *r = strrchr(buf, ')');
	return r && r[1] == ' ' ? r + 2 : NULL;
}

/* The command name, parent and session of pid from /proc/PID/stat. */
static int proc_parent_session(pid_t pid, char *comm, size_t n, pid_t *ppid, pid_t *sid)
{
	char buf[1024], p[64];
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	char *open_ = strchr(buf, '('), *close_ = strrchr(buf, ')');
	if (!open_ || !close_ || close_ < open_)
		return -1;
	snprintf(comm, n, "%.*s", (int)(close_ - open_ - 1), open_ + 1);
	char state;
	int pp, pg, ss;
	if (sscanf(close_ + 1, " %c %d %d %d", &state, &pp, &pg, &ss) != 4)
		return -1;
	*ppid = pp;
	*sid = ss;
	return state == 'Z' || state == 'X' ? -1 : 0;
}

int agent_proc_signal_job(pid_t leader, int sig, bool batch)
{
	DIR *d = opendir("/proc");
	if (!d || leader <= 0) {
		if (d)
			closedir(d);
		return 0;
	}
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		char comm[64];
		pid_t ppid, sid;
		if (*end || pid <= 0 || pid == leader ||
		    proc_parent_session((pid_t)pid, comm, sizeof comm, &ppid, &sid) != 0 ||
		    sid != leader)
			continue;
		bool script = ppid == leader;
		if (batch ? !script : (script || !strcmp(comm, "srun")))
			continue;
		n += kill((pid_t)pid, sig) == 0;
	}
	closedir(d);
	return n;
}

int agent_proc_start_ticks(pid_t pid, uint64_t *ticks)
{
	char buf[1024];
	/* State is field 3, starttime field 22; a zombie has no start to compare. */
	char *s = proc_stat_fields(pid, buf, sizeof buf);
	if (!s || s[0] == 'Z' || s[0] == 'X')
		return AIDC_E_NOTFOUND;
	char *save = NULL, *f = strtok_r(s, " ", &save);
	for (int field = 3; f && field < 22; field++)
		f = strtok_r(NULL, " ", &save);
	if (!f)
		return AIDC_E_NOTFOUND;
	*ticks = strtoull(f, NULL, 10);
	return 0;
}

int agent_proc_cpu_usec(pid_t pid, int64_t *cpu_usec)
{
	char buf[1024];
	/* utime 14, stime 15, cutime 16, cstime 17 (clock ticks); cutime/cstime
	 * hold the children it waited for. */
	char *s = proc_stat_fields(pid, buf, sizeof buf);
	if (!s)
		return AIDC_E_NOTFOUND;
	char *save = NULL, *f = strtok_r(s, " ", &save);
	uint64_t sum = 0;
	for (int field = 3; f && field <= 17; field++, f = strtok_r(NULL, " ", &save))
		if (field >= 14)
			sum += strtoull(f, NULL, 10);
	if (!f)
		return AIDC_E_NOTFOUND;
	long hz = sysconf(_SC_CLK_TCK);
	*cpu_usec = (int64_t)(sum * (uint64_t)1000000 / (uint64_t)(hz > 0 ? hz : 100));
	return 0;
}

/* The comm of pid ("" if gone). */
static void read_comm(const char *pid, char *buf, size_t cap)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%s/comm", pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

enum agent_shim_state agent_proc_shim_state(pid_t pid, int *exit_code, int *term_signal)
{
	char id[16], comm[32], self[32];
	snprintf(id, sizeof id, "%d", (int)pid);
	read_comm(pid > 0 ? id : "0", comm, sizeof comm);
	read_comm("self", self, sizeof self);
	size_t k = sizeof AGENT_EXIT_COMM - 1;
	int64_t v;
	if (!strcmp(comm, AGENT_SHIM_COMM))
		return AGENT_SHIM_RUNNING;
	if (comm[0] && !strcmp(comm, self))
		return AGENT_SHIM_FORKED;
	if (strncmp(comm, AGENT_EXIT_COMM, k) != 0)
		return AGENT_SHIM_OTHER;
	if (!strcmp(comm + k, "n"))
		return AGENT_SHIM_NEVER_RAN;
	if ((comm[k] != 'e' && comm[k] != 's') || aidc_parse_i64(comm + k + 1, 0, 255, &v) != 0)
		return AGENT_SHIM_OTHER;
	*exit_code = comm[k] == 'e' ? (int)v : 0;
	*term_signal = comm[k] == 's' ? (int)v : 0;
	return AGENT_SHIM_ENDED;
}

/* Copies what src gained since *off into dst; exits 1 on a write error. */
static void copy_new(int src, int dst, off_t *off, char *buf, size_t cap)
{
	for (;;) {
		ssize_t n = src >= 0 ? pread(src, buf, cap, *off) : 0;
		if (n <= 0)
			return;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(dst, buf + done, (size_t)(n - done));
			if (w <= 0)
				_exit(1);
			done += w;
		}
		*off += n;
	}
}

/* Runs in the copier child: become the user, then copy (following the
 * sources until stop_fd reads EOF, if stop_fd >= 0). Exit 0 or 1. Only its
 * own descriptors are kept: a long-lived copier must not hold the write ends
 * of other tasks' gate and stop pipes. */
static void copier(const struct agent_launch *who, const struct groups *gr, const int *srcs,
		   size_t nsrc, const char *path, bool append, int stop_fd)
{
	int keep[2] = {nsrc > 0 ? srcs[0] : -1, nsrc > 1 ? srcs[1] : -1};
	if (stop_fd >= 0) {
		/* Three to keep: park stop_fd at 0 (stdin, unused here). */
		if (dup2(stop_fd, 0) < 0)
			_exit(1);
		stop_fd = 0;
	}
	close_except(keep, 2);
	if (who->drop_privileges && drop(who, gr) != 0)
		_exit(1);
	if (path[0] != '/' && chdir(who->cwd) != 0)
		_exit(1);
	/* Slurm's modes: 0666 less the job's umask; 0644 when it gave none. */
	umask(who->has_umask ? who->umask : 022);
	/* O_NONBLOCK: a FIFO without a reader fails at once instead of holding
	 * this writer, and with it the task's stop, forever. Only regular files
	 * and character devices (/dev/null) are written; O_TRUNC is applied
	 * after that check, so a FIFO or socket is never touched. */
	int dst = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK | (append ? O_APPEND : 0),
		       who->has_umask ? 0666 : 0644);
	struct stat sb;
	if (dst < 0 && (errno == ENXIO || errno == EISDIR))
		_exit(AGENT_COPY_NOTREG); /* a FIFO without a reader, a directory */
	if (dst < 0 || fstat(dst, &sb) != 0)
		_exit(1);
	if (!S_ISREG(sb.st_mode) && !S_ISCHR(sb.st_mode))
		_exit(AGENT_COPY_NOTREG);
	if (S_ISREG(sb.st_mode) && !append && ftruncate(dst, 0) != 0)
		_exit(1);
	char buf[65536];
	off_t off[2] = {0, 0};
	for (;;) {
		for (size_t i = 0; i < nsrc && i < 2; i++)
			copy_new(srcs[i], dst, &off[i], buf, sizeof buf);
		if (stop_fd < 0)
			break;
		struct pollfd p = {.fd = stop_fd, .events = POLLIN};
		if (poll(&p, 1, AGENT_FOLLOW_MS) > 0) {
			stop_fd = -1; /* EOF: one last pass copies the rest */
		}
	}
	_exit(close(dst) == 0 ? 0 : 1);
}

int agent_proc_copy_as_user(const struct agent_launch *who, const int *src_fds, size_t nsrc,
			    const char *path, bool append, int stop_fd, pid_t *out_pid,
			    struct aidc_err *e)
{
	struct groups gr;
	lookup_groups(who, &gr);
	pid_t pid = fork();
	if (pid < 0)
		return aidc_errf(e, AIDC_E_IO, "fork: %s", strerror(errno));
	if (pid == 0)
		copier(who, &gr, src_fds, nsrc, path, append, stop_fd);
	*out_pid = pid;
	return 0;
}
