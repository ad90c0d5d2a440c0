/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A task's files: the agent's own per-task log files (stdout and stderr of
 * the task, pushed to the controller for `aidc logs`), recycled through a
 * bounded pool of spare files, and the -o/-e files the job asked for,
 * written by a process running as the job's user.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "util/util.h"

/* ---- recycled log files ----------------------------------------------------------------
 *
 * Every task needs two output files. Creating a file is the agent's largest
 * per-task cost under load (ext4 inode allocation: ~40% of an agent's CPU in
 * the throughput bench), so the files of reported tasks are renamed to
 * <state_dir>/tasks/spare.N and a new task takes one by rename + O_TRUNC: no
 * inode is allocated while the pool has files. The pool is bounded; files
 * beyond it are removed. A restarted agent takes over the spare files it
 * finds.
 *
 * Only files no process can still write are recycled: a stray process of an
 * old task holding its stdout would otherwise write into a later task's
 * (maybe another user's) output. So only with cgroup limits (every process of
 * a task, escapees of its process group included, is in its cgroup and is
 * killed when the leader ends) and once the task's cgroup has been removed
 * (empty). With rlimits or no limits the files stay where they are. A task
 * forgotten while its cgroup is still being removed (its shim is killed only
 * after the exit is saved, so this is the usual case under load) leaves its
 * files in place, marked on the cgroup's entry, and they are recycled when
 * the cgroup is gone (agent_recycle_left_files); a restarted agent removes
 * them (agent_files_sweep). */

/* Whether the files of a reported task may be recycled now (see above);
 * *pending: its cgroup, still being removed, or NULL. */
static bool recyclable(struct agent *a, const struct task *t, struct agent_cgroup **pending)
{
	*pending = NULL;
	if (a->lim.kind != AGENT_LIMITS_CGROUP1 && a->lim.kind != AGENT_LIMITS_CGROUP2)
		return false;
	char name[64];
	snprintf(name, sizeof name, "%" PRId64 ".%u.%u", t->job, t->attempt, t->index);
	for (size_t i = 0; i < a->ngc; i++)
		if (!strcmp(a->gc[i].name, name)) {
			*pending = &a->gc[i];
			return false; /* processes may remain until it is removed */
		}
	return true;
}

static void spare_path(const struct agent *a, uint64_t n, char *out, size_t cap)
{
	snprintf(out, cap, "%.3900s/tasks/spare.%" PRIu64, a->cfg.state_dir, n);
}

/* The output file of a task that was reported done: into the pool, or gone. */
static void recycle_file(struct agent *a, const char *path)
{
	if (a->nspare < AGENT_SPARE_LOGS) {
		char sp[AIDC_MAX_PATH_BYTES + 32];
		uint64_t n = a->spare_seq++;
		spare_path(a, n, sp, sizeof sp);
		if (rename(path, sp) == 0) {
			AIDC_GROW(a->spare, a->cap_spare, a->nspare + 1);
			a->spare[a->nspare++] = n;
		}
		return;
	}
	unlink(path);
}

static void script_path(const struct agent *a, const struct task *t, char *out, size_t cap)
{
	snprintf(out, cap, "%.3900s/tasks/%" PRId64 ".%u.%u.sh", a->cfg.state_dir, t->job,
		 t->attempt, t->index);
}

void agent_task_files_gc(struct agent *a, const struct task *t)
{
	/* Without cgroups a stray process of the task may still hold an output
	 * file: removing it is safe (the process writes to an unnamed file),
	 * recycling it would not be. */
	struct agent_cgroup *pending;
	bool again = recyclable(a, t, &pending);
	const char *files[2] = {t->out_path, t->err_path};
	if (pending && t->out_path[0])
		pending->files_left = true; /* recycled once the cgroup is gone */
	for (int k = 0; k < 2 && !pending; k++) {
		if (!files[k][0])
			continue;
		if (again)
			recycle_file(a, files[k]);
		else
			unlink(files[k]);
	}
	char sh[AIDC_MAX_PATH_BYTES];
	script_path(a, t, sh, sizeof sh);
	unlink(sh);
	agent_progress_path(a, t->job, t->attempt, t->index, sh, sizeof sh);
	unlink(sh);
}

void agent_recycle_left_files(struct agent *a, const struct agent_cgroup *cg)
{
	if (!cg->files_left)
		return;
	static const char *const ext[2] = {"out", "err"};
	for (int k = 0; k < 2; k++) {
		char path[AIDC_MAX_PATH_BYTES + 80];
		snprintf(path, sizeof path, "%.3900s/tasks/%.63s.%s", a->cfg.state_dir, cg->name,
			 ext[k]);
		recycle_file(a, path);
	}
}

/* The agent's directory of task files (state_dir/tasks), or NULL. */
static DIR *tasks_dir_open(const struct agent *a)
{
	char dir[AIDC_MAX_PATH_BYTES + 16];
	snprintf(dir, sizeof dir, "%.4000s/tasks", a->cfg.state_dir);
	return opendir(dir);
}

void agent_files_sweep(struct agent *a)
{
	DIR *d = tasks_dir_open(a);
	if (!d)
		return;
	struct dirent *de;
	size_t removed = 0;
	while ((de = readdir(d)) != NULL) {
		int64_t job;
		unsigned attempt, index;
		char ext[5];
		int end = 0;
		if (sscanf(de->d_name, "%" SCNd64 ".%u.%u.%4[a-z]%n", &job, &attempt, &index, ext,
			   &end) != 4 || de->d_name[end] != '\0' ||
		    (strcmp(ext, "out") && strcmp(ext, "err") && strcmp(ext, "sh") &&
		     strcmp(ext, "rate")) ||
		    agent_task_find(a, job, index, attempt))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	if (removed)
		aidc_log(AIDC_LOG_INFO, "agent %s: removed %zu files of tasks done before the restart",
			 a->cfg.name, removed);
}

void agent_adopt_spares(struct agent *a)
{
	DIR *d = tasks_dir_open(a);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		int64_t v;
		if (strncmp(de->d_name, "spare.", 6) != 0 ||
		    aidc_parse_i64(de->d_name + 6, 0, INT64_MAX - 1, &v) != 0)
			continue;
		uint64_t n = (uint64_t)v;
		if (a->nspare < AGENT_SPARE_LOGS) {
			AIDC_GROW(a->spare, a->cap_spare, a->nspare + 1);
			a->spare[a->nspare++] = n;
		} else {
			char sp[AIDC_MAX_PATH_BYTES + 32];
			spare_path(a, n, sp, sizeof sp);
			unlink(sp);
		}
		a->spare_seq = AIDC_MAX(a->spare_seq, n + 1);
	}
	closedir(d);
}

int agent_open_log(struct agent *a, const char *path, struct aidc_err *e)
{
	while (a->nspare > 0) {
		char sp[AIDC_MAX_PATH_BYTES + 32];
		spare_path(a, a->spare[--a->nspare], sp, sizeof sp);
		if (rename(sp, path) == 0)
			break; /* opened with O_TRUNC below: nothing of the old task is left */
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		agent_disk_failed(a, errno);
		aidc_errf(e, AIDC_E_IO, "%s: %s", path, strerror(errno));
	}
	return fd;
}

/* Appends one line from the agent to the task's stderr (pushed with its logs). */
void agent_note_err(const struct task *t, const char *line)
{
	int fd = open(t->err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		dprintf(fd, "aidc agent: %s\n", line);
		close(fd);
	}
}

void agent_progress_path(const struct agent *a, int64_t job, uint32_t attempt, uint32_t index,
			 char *out, size_t cap)
{
	snprintf(out, cap, "%.3900s/tasks/%" PRId64 ".%u.%u.rate", a->cfg.state_dir, job, attempt,
		 index);
}

bool agent_progress_create(struct agent *a, const char *path, uint32_t uid, uint32_t gid)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	bool ok = fd >= 0 && (geteuid() != 0 || fchown(fd, uid, gid) == 0);
	if (!ok)
		aidc_log(AIDC_LOG_WARN, "agent %s: progress file %s: %s", a->cfg.name, path,
			 strerror(errno));
	if (fd >= 0)
		close(fd);
	return ok;
}

/* The file holds one decimal: the job's throughput (docs/placement.md). */
void agent_progress_read(struct agent *a, struct task *t)
{
	char path[AIDC_MAX_PATH_BYTES], buf[64], line[160];
	if (t->progress_read)
		return;
	t->progress_read = true;
	agent_progress_path(a, t->job, t->attempt, t->index, path, sizeof path);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	if (fd < 0)
		return;
	ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, sizeof buf) : -1;
	close(fd);
	if (n < 0 || (size_t)n == sizeof buf) {
		agent_note_err(t, "progress file: not a regular file of at most 63 bytes; ignored");
		return;
	}
	buf[n] = '\0';
	char *s = buf, *e = buf + n;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	double v;
	if (!*s)
		return; /* nothing reported */
	if (aidc_parse_f64(s, 0.001, AIDC_MAX_PROGRESS_RATE, &v) != 0) {
		snprintf(line, sizeof line,
			 "progress file: '%.40s' is not a throughput in 0.001..%u; ignored", s,
			 AIDC_MAX_PROGRESS_RATE);
		agent_note_err(t, line);
		aidc_log(AIDC_LOG_WARN, "agent %s: job %" PRId64 " task %u: %s", a->cfg.name,
			 t->job, t->index, line);
		return;
	}
	t->progress_milli = (int64_t)(v * 1000.0 + 0.5);
}

/* Expands Slurm's filename patterns of -o/-e: %j job id, %t task index,
 * %u user, %N node name, %% a percent sign. Returns false if the result is
 * too long, empty or uses another pattern. */
static bool expand(const struct agent *a, const struct task *t, const char *pat, char *out,
		   size_t cap)
{
	size_t n = 0;
	for (const char *p = pat; *p; p++) {
		char tmp[AIDC_MAX_NAME_BYTES + 32];
		if (*p != '%') {
			tmp[0] = *p;
			tmp[1] = '\0';
		} else {
			switch (*++p) {
			case 'j':
				snprintf(tmp, sizeof tmp, "%" PRId64, t->job);
				break;
			case 't':
				snprintf(tmp, sizeof tmp, "%u", t->index);
				break;
			case 'u':
				snprintf(tmp, sizeof tmp, "%s", t->user ? t->user : "");
				break;
			case 'N':
				snprintf(tmp, sizeof tmp, "%s", a->cfg.name);
				break;
			case '%':
				snprintf(tmp, sizeof tmp, "%%");
				break;
			default:
				return false;
			}
		}
		size_t k = strlen(tmp);
		if (n + k + 1 > cap)
			return false;
		memcpy(out + n, tmp, k + 1);
		n += k;
	}
	return n > 0;
}

/* The -o/-e paths of a task expanded: path[k] for req[k] (NULL = not asked
 * or a bad pattern; with note, a bad pattern is said in the task's stderr). */
static void expand_paths(const struct agent *a, const struct task *t, bool note,
			 const char *req[2], char path[2][AIDC_MAX_PATH_BYTES])
{
	req[0] = t->stdout_req;
	req[1] = t->stderr_req;
	for (int k = 0; k < 2; k++)
		if (req[k] && !expand(a, t, req[k], path[k], sizeof path[k])) {
			char m[AIDC_MAX_PATH_BYTES + 64];
			snprintf(m, sizeof m, "bad -o/-e pattern '%.3000s' (known: %%j %%t %%u %%N %%%%)",
				 req[k]);
			if (note)
				agent_note_err(t, m);
			req[k] = NULL;
		}
}

/* Starts the processes that write the task's output to its -o/-e paths as
 * the user: with follow, while the task runs (each follows the agent's log
 * files until t->follow_fd is closed, then copies the rest and exits); else
 * once. Slurm's rule: without -e, stderr goes to the -o file too (in the
 * order the pieces are seen, about every AGENT_FOLLOW_MS). Several tasks of
 * a job sharing one path (no %t) append. */
static void start_writers(struct agent *a, struct task *t, bool follow)
{
	if ((!t->stdout_req && !t->stderr_req) || !t->user || !t->cwd)
		return;
	char path[2][AIDC_MAX_PATH_BYTES];
	const char *req[2];
	expand_paths(a, t, !follow, req, path);
	if (!req[0] && !req[1])
		return;
	bool merged = req[0] && (!t->stderr_req || (req[1] && !strcmp(path[0], path[1])));
	/* /dev/null takes no writer: what it would copy is discarded anyway,
	 * and each writer is a fork of the agent (sbatch -o /dev/null). */
	for (int k = 0; k < 2; k++)
		if (req[k] && !strcmp(path[k], "/dev/null"))
			req[k] = NULL;
	if (!req[0] && (!req[1] || merged)) {
		t->writers_started = true;
		return;
	}
	int stop[2] = {-1, -1};
	if (follow && pipe2(stop, O_CLOEXEC) != 0) {
		aidc_log(AIDC_LOG_WARN, "job %" PRId64 " task %u: pipe: %s (-o/-e written at the end)",
			 t->job, t->index, strerror(errno));
		return;
	}
	int fds[2] = {open(t->out_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW),
		      open(t->err_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
	struct agent_launch who = {.uid = t->uid, .gid = t->gid, .user = t->user,
				   .cwd = t->cwd, .drop_privileges = geteuid() == 0,
				   .has_umask = t->has_umask, .umask = t->umask};
	for (int k = 0; k < 2; k++) {
		if (!req[k] || (k == 1 && merged))
			continue;
		int src[2] = {fds[k], k == 0 && merged ? fds[1] : -1};
		bool append = t->world_size > 1 && !strstr(req[k], "%t");
		struct aidc_err e = {0};
		if (agent_proc_copy_as_user(&who, src, 2, path[k], append, stop[0],
					    &t->copy_pid[k], &e))
			aidc_log(AIDC_LOG_WARN, "job %" PRId64 " task %u: %s", t->job, t->index,
				 e.msg);
	}
	for (int k = 0; k < 2; k++)
		if (fds[k] >= 0)
			close(fds[k]);
	if (stop[0] >= 0)
		close(stop[0]);
	t->follow_fd = stop[1];
	t->writers_started = true;
}

void agent_output_start(struct agent *a, struct task *t)
{
	start_writers(a, t, true);
}

static void note_failed(const struct task *t, int k)
{
	if (t->writer_notreg & (1u << k))
		agent_note_err(t, k ? "the -e path is not a regular file (a FIFO, socket or "
				      "directory): refused, nothing written to it"
				    : "the -o path is not a regular file (a FIFO, socket or "
				      "directory): refused, nothing written to it");
	else
		agent_note_err(t, k ? "could not write the -e file as the user"
				    : "could not write the -o file as the user");
}

void agent_output_failed(struct task *t, int k, int code)
{
	if (code == AGENT_COPY_NOTREG)
		t->writer_notreg |= (uint8_t)(1u << k);
	if (t->state == T_RUNNING)
		t->writer_failed |= (uint8_t)(1u << k);
	else
		note_failed(t, k);
}

void agent_output_overdue(struct task *t)
{
	if (!t->exited_ms || agent_mono_ms() - t->exited_ms < AGENT_COPY_GRACE_MS)
		return;
	for (int k = 0; k < 2; k++)
		if (t->copy_pid[k] > 0) {
			/* Our child, not yet reaped: the pid cannot have been reused. */
			kill(t->copy_pid[k], SIGKILL);
			agent_note_err(t, k ? "the -e writer did not finish in time: stopped"
					    : "the -o writer did not finish in time: stopped");
			t->copy_pid[k] = -t->copy_pid[k]; /* killed; reaped by agent_reap */
		}
}

void agent_output_finish(struct agent *a, struct task *t)
{
	if (!t->writers_started) {
		start_writers(a, t, false); /* never ran: its stderr says why */
		return;
	}
	/* The agent's own lines first, so that the writers' last pass has them. */
	char path[2][AIDC_MAX_PATH_BYTES];
	const char *req[2];
	expand_paths(a, t, true, req, path);
	for (int k = 0; k < 2; k++)
		if (t->writer_failed & (1u << k))
			note_failed(t, k);
	if (t->follow_fd >= 0)
		close(t->follow_fd); /* the writers copy the rest and exit */
	t->follow_fd = -1;
}
