/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linux process control for the agent (agent_int.h): fork/exec of a task in
 * its own session and process group, privilege drop to the job's uid/gid,
 * working directory, stdout/stderr, and exec-failure reporting through a
 * close-on-exec pipe (0 bytes read = exec succeeded). A task under a shim
 * starts as aidc-task (task_main.c, installed beside aidc-daemon), exec'd
 * from a clone(CLONE_VM | CLONE_VFORK) child as posix_spawn does, and runs
 * the child's side (proc_child.c) there: a fork of the agent cost ~6 ms of
 * CPU per task (page-table copy, copy-on-write faults in the agent and the
 * child; bench/live_throughput --sbatch-only). Without aidc-task the agent
 * forks and runs the same code.
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "agent/proc_child.h"
#include "util/util.h"

/* Supplementary groups are looked up BEFORE fork: the agent has threads, so
 * between fork and exec only async-signal-safe calls are allowed, and
 * initgroups (NSS, malloc) is not one of them. The child calls setgroups. */
static void lookup_groups(const struct agent_launch *l, struct agent_groups *gr)
{
	gr->n = AGENT_MAX_GROUPS;
	if (!l->drop_privileges || getgrouplist(l->user, (gid_t)l->gid, gr->g, &gr->n) < 0) {
		/* Unknown user or more groups than we keep: the primary group only. */
		gr->g[0] = (gid_t)l->gid;
		gr->n = 1;
	}
}

/* aidc-task beside this executable (agent_proc_init), or "" (then the
 * agent forks itself for each task, as before aidc-task existed). */
static char task_exe[AIDC_MAX_PATH_BYTES];

/* The message for a child that failed before exec. */
static int child_error(const struct child_err *ce, const char *cwd, const char *exe,
		       struct aidc_err *e)
{
	static const char *const stages[] = {"?",     "setsid", "setgroups", "setgid",
					     "setuid", "chdir", "exec",   "cgroup",
					     "setrlimit", "fork", "exec"};
	const char *what = ce->stage >= 1 && ce->stage <= 10 ? stages[ce->stage] : "?";
	return aidc_errf(e, AIDC_E_IO, "%s %s: %s", what,
			 ce->stage == 5   ? cwd
			 : ce->stage == 6 ? exe
			 : ce->stage == 10 ? task_exe
					  : "",
			 strerror(ce->err));
}

/* "a,b,c" of n values (an allocated string). */
static char *join_i64(const int64_t *v, size_t n)
{
	size_t cap = n * 21 + 1, len = 0;
	char *s = aidc_calloc(cap, 1);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s%lld", i ? "," : "", (long long)v[i]);
	return s;
}

/* aidc-task's arguments (task_main.c reads them); v[0..5] are allocated. */
static char **task_argv(const struct agent_launch *l, const struct agent_groups *gr, int errfd,
			int gate_fd, int env_fd)
{
	size_t argc = 0;
	while (l->argv[argc])
		argc++;
	char **v = aidc_calloc(argc + 10, sizeof *v);
	int64_t fds[6] = {errfd, gate_fd, l->shim ? l->notify_fd : -1, l->out_fd, l->err_fd, env_fd};
	int64_t cg[AGENT_CG_NCTL], g[AGENT_MAX_GROUPS];
	for (size_t i = 0; i < l->ncgroup_fds; i++)
		cg[i] = l->cgroup_fds[i];
	for (int i = 0; i < gr->n; i++)
		g[i] = gr->g[i];
	int64_t rl[2] = {(int64_t)l->rlimit_as_bytes, (int64_t)l->rlimit_nproc};
	int64_t id[6] = {l->drop_privileges, l->uid, l->gid, l->has_umask, l->umask, l->shim};
	v[0] = aidc_strdup(AGENT_TASK_COMM);
	v[1] = join_i64(fds, 6);
	v[2] = join_i64(cg, l->ncgroup_fds);
	v[3] = join_i64(rl, 2);
	v[4] = join_i64(id, 6);
	v[5] = join_i64(g, (size_t)gr->n);
	v[6] = (char *)(l->state_dir ? l->state_dir : "");
	v[7] = (char *)l->cwd;
	v[8] = (char *)l->exe;
	memcpy(v + 9, l->argv, argc * sizeof *v);
	return v;
}

struct task_exec {
	char *const *argv;
	int fds[6 + AGENT_CG_NCTL];
	size_t nfds;
	int errfd;
};

/* The clone()d child until its exec of aidc-task. It shares the agent's
 * memory (CLONE_VM; the agent's thread waits, CLONE_VFORK): its own stack
 * and read-only data only, every signal blocked (aidc-task resets the
 * handlers and the mask); its descriptor table is its own. */
static int task_exec_main(void *arg)
{
	const struct task_exec *x = arg;
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
	for (size_t i = 0; i < x->nfds; i++)
		if (x->fds[i] >= 0 && fcntl(x->fds[i], F_SETFD, 0) != 0)
			agent_child_fail(x->errfd, 10);
	static char *const no_env[] = {NULL};
	execve(task_exe, x->argv, no_env);
	agent_child_fail(x->errfd, 10);
	return 127;
}

/* The child's stack while it shares the agent's memory (until exec). */
#define TASK_EXEC_STACK_BYTES (64 * 1024)

/* The job's environment ("K=V\0" each) in a memfd for aidc-task, -1 with
 * errno: aidc-task runs as root until the task drops to its user, so the
 * user's variables (LD_PRELOAD, LD_LIBRARY_PATH, GLIBC_TUNABLES,
 * ASAN_OPTIONS...) must not be its own environment, which the dynamic
 * loader and libc read before main(). Not argv: /proc/PID/cmdline is
 * world-readable, and the shim (aidc-task) lives as long as the task. */
static int env_memfd(char *const *envp)
{
	size_t len = 0;
	for (char *const *p = envp; *p; p++)
		len += strlen(*p) + 1;
	char *b = aidc_malloc(len + 1), *w = b;
	for (char *const *p = envp; *p; p++) {
		size_t n = strlen(*p) + 1;
		memcpy(w, *p, n);
		w += n;
	}
	int fd = memfd_create("aidc-task-env", MFD_CLOEXEC), err = 0;
	ssize_t n = fd >= 0 ? pwrite(fd, b, len, 0) : -1;
	if (fd >= 0 && n != (ssize_t)len) {
		err = n < 0 ? errno : EIO;
		close(fd);
		fd = -1;
	}
	aidc_free(b);
	if (err)
		errno = err;
	return fd;
}

/* As posix_spawn does: no copy of the agent's page tables, no copy-on-write
 * faults in the agent afterwards. Returns the pid, or -1 with errno. */
static pid_t spawn_task(const struct agent_launch *l, const struct agent_groups *gr, int errfd,
			int gate_fd)
{
	int env_fd = env_memfd(l->envp);
	if (env_fd < 0)
		return -1;
	struct task_exec x = {.errfd = errfd, .nfds = 6 + l->ncgroup_fds};
	char **v = task_argv(l, gr, errfd, gate_fd, env_fd);
	x.argv = v;
	memcpy(x.fds, (const int[]){errfd, gate_fd, l->shim ? l->notify_fd : -1, l->out_fd,
				    l->err_fd, env_fd},
	       6 * sizeof(int));
	for (size_t i = 0; i < l->ncgroup_fds; i++)
		x.fds[6 + i] = l->cgroup_fds[i];
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	_Alignas(16) char stack[TASK_EXEC_STACK_BYTES];
	pid_t pid = clone(task_exec_main, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD,
			  &x);
	int err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(env_fd); /* aidc-task has its own (or the clone failed) */
	for (int i = 0; i < 6; i++)
		aidc_free(v[i]);
	aidc_free(v);
	errno = err;
	return pid;
}

/* aidc-task (or fork + agent_child_run()); the read end of the exec-report pipe goes to *rfd and,
 * with gate_w, the write end of the gate to *gate_w. */
static int spawn_child(const struct agent_launch *l, pid_t *out_pid, int *rfd, int *gate_w,
		       struct aidc_err *e)
{
	struct agent_groups gr;
	lookup_groups(l, &gr);
	int p[2], g[2] = {-1, -1};
	if (pipe2(p, O_CLOEXEC) != 0)
		return aidc_errf(e, AIDC_E_IO, "pipe: %s", strerror(errno));
	if (gate_w && pipe2(g, O_CLOEXEC) != 0) {
		close(p[0]);
		close(p[1]);
		return aidc_errf(e, AIDC_E_IO, "pipe: %s", strerror(errno));
	}
	bool exec_task = l->shim && task_exe[0] && l->ncgroup_fds <= AGENT_CG_NCTL;
	pid_t pid = exec_task ? spawn_task(l, &gr, p[1], g[0]) : fork();
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
		agent_child_run(l, &gr, p[1], g[0]);
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
	char self[AIDC_MAX_PATH_BYTES];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash = n > 0 ? memrchr(self, '/', (size_t)n) : NULL;
	if (slash)
		snprintf(task_exe, sizeof task_exe, "%.*s/%s", (int)(slash - self), self,
			 AGENT_TASK_COMM);
	if (!slash || access(task_exe, X_OK) != 0) {
		aidc_log(AIDC_LOG_WARN, "agent: %s not found beside this executable (%s): each task "
			 "starts with a fork of the agent instead (slower)", AGENT_TASK_COMM,
			 slash ? strerror(errno) : "no /proc/self/exe");
		task_exe[0] = '\0';
	}
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
	if ((comm[0] && !strcmp(comm, self)) || !strcmp(comm, AGENT_TASK_COMM))
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
static void copier(const struct agent_launch *who, const struct agent_groups *gr, const int *srcs,
		   size_t nsrc, const char *path, bool append, int stop_fd)
{
	int keep[2] = {nsrc > 0 ? srcs[0] : -1, nsrc > 1 ? srcs[1] : -1};
	if (stop_fd >= 0) {
		/* Three to keep: park stop_fd at 0 (stdin, unused here). */
		if (dup2(stop_fd, 0) < 0)
			_exit(1);
		stop_fd = 0;
	}
	agent_child_close_except(keep, 2);
	if (who->drop_privileges && agent_child_drop(who, gr) != 0)
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
	struct agent_groups gr;
	lookup_groups(who, &gr);
	pid_t pid = fork();
	if (pid < 0)
		return aidc_errf(e, AIDC_E_IO, "fork: %s", strerror(errno));
	if (pid == 0)
		copier(who, &gr, src_fds, nsrc, path, append, stop_fd);
	*out_pid = pid;
	return 0;
}
