/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's state file <state_dir>/tasks.json (see agent.c, "Restart"):
 * written after every change of the task table that a restart needs, read
 * by a restarted agent that adopts the tasks still alive, reports the
 * others, and kills task cgroups nobody owns (orphans).
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "util/util.h"

/* ---- the state file (restart) ------------------------------------------------------ */

#define STATE_VERSION 1

/* Members of a tasks.json object: "" / 0 when absent (borrowed from o). */
static const char *agent_jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int64_t agent_jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void state_path(const struct agent *a, char *out, size_t cap, bool tmp)
{
	snprintf(out, cap, "%.4000s/tasks.json%s", a->cfg.state_dir, tmp ? ".tmp" : "");
}

static void task_json(struct aidc_json *w, const struct task *t)
{
	aidc_json_obj_begin(w);
	aidc_json_ki64(w, "job", t->job);
	aidc_json_ki64(w, "task", t->index);
	aidc_json_ki64(w, "attempt", t->attempt);
	aidc_json_kstr(w, "state", t->state == T_RUNNING && !t->status_held ? "running" : "exited");
	aidc_json_ki64(w, "pid", t->pid);
	aidc_json_ki64(w, "start_ticks", (int64_t)t->start_ticks);
	aidc_json_ki64(w, "start_ms", t->start_ms);
	aidc_json_ki64(w, "limit_s", t->limit_s);
	aidc_json_ki64(w, "grace_s", t->grace_s);
	aidc_json_ki64(w, "term_ms", t->term_ms);
	aidc_json_ki64(w, "sig", t->sig);
	aidc_json_ki64(w, "sig_before_s", t->sig_before_s);
	aidc_json_kbool(w, "sig_batch", t->sig_batch);
	aidc_json_kbool(w, "sig_sent", t->sig_sent);
	aidc_json_kbool(w, "timed_out", t->timed_out);
	aidc_json_kbool(w, "failed", t->failed);
	aidc_json_kbool(w, "lost", t->lost);
	aidc_json_ki64(w, "exit_code", t->exit_code);
	aidc_json_ki64(w, "signal", t->term_signal);
	aidc_json_kstr(w, "message", t->message);
	aidc_json_ki64(w, "mem_mib", (int64_t)t->mem_mib);
	aidc_json_kstr(w, "cgroup", t->cg.name);
	aidc_json_ki64(w, "out_off", t->out_off);
	aidc_json_ki64(w, "err_off", t->err_off);
	aidc_json_obj_end(w);
}

/*
 * Puts the new state file tmp in place of dst atomically: a kill -9 at any
 * point leaves dst whole, old or new. The two files are exchanged, so the
 * previous state becomes tmp and the next save overwrites it in place
 * (write, then truncate to the new length; tmp is read by nobody): a save
 * allocates and frees no inode, which on ext4 was the larger part of its
 * cost (inode allocation scans recently freed inodes), and replaces no file
 * (ext4 starts writeback of a file renamed over another). A plain rename
 * where there is nothing to exchange yet (first save) or the filesystem
 * cannot exchange.
 */
static bool replace_state(const char *tmp, const char *dst)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_EXCHANGE) == 0)
		return true;
	return rename(tmp, dst) == 0;
}

/* Rewrites tasks.json with every task not yet reported done. */
void agent_save_state(struct agent *a)
{
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_SMALL_FILE_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	aidc_json_ki64(&w, "v", STATE_VERSION);
	aidc_json_key(&w, "tasks");
	aidc_json_arr_begin(&w);
	for (size_t i = 0; i < a->ntasks; i++)
		if (a->tasks[i].state != T_DONE && !a->tasks[i].tombstone)
			task_json(&w, &a->tasks[i]);
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	char tmp[AIDC_MAX_PATH_BYTES + 16], dst[AIDC_MAX_PATH_BYTES + 16];
	state_path(a, tmp, sizeof tmp, true);
	state_path(a, dst, sizeof dst, false);
	bool ok = aidc_json_finish(&w) == 0;
	if (ok) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		ok = fd >= 0 && pwrite(fd, aidc_buf_str(&b), b.len, 0) == (ssize_t)b.len &&
		     ftruncate(fd, (off_t)b.len) == 0;
		if (fd >= 0)
			ok &= close(fd) == 0;
		ok = ok && replace_state(tmp, dst);
	}
	if (!ok)
		agent_disk_failed(a, errno);
	if (!ok)
		aidc_log(AIDC_LOG_WARN, "agent %s: cannot write %s: %s (a restart could not adopt "
			 "tasks)", a->cfg.name, dst, strerror(errno));
	aidc_buf_release(&b);
	a->state_dirty = false;
}

/* One entry of tasks.json: adopt it if its process is still the same one,
 * else report it lost (or with the exit it had when the agent died). */
/* A task whose gate never opened (the agent died between saving it and
 * starting it): its child is killed and the task forgotten, so the launch
 * order the controller sends again (the task was never reported) runs it.
 * A child that has not noticed its agent's death yet gets a moment. */
static bool never_ran(struct agent *a, const struct task *t)
{
	int code, sig;
	enum agent_shim_state st = agent_proc_shim_state(t->pid, &code, &sig);
	for (int i = 0; i < 100 && st == AGENT_SHIM_FORKED; i++) {
		agent_nap_ms(10);
		st = agent_proc_shim_state(t->pid, &code, &sig);
	}
	if (st != AGENT_SHIM_NEVER_RAN)
		return false;
	kill(t->pid, SIGKILL);
	aidc_log(AIDC_LOG_INFO,
		 "agent %s: job %" PRId64 " task %u never started (the agent stopped first); "
		 "its launch order will come again",
		 a->cfg.name, t->job, t->index);
	return true;
}

static void restore_task(struct agent *a, json_t *o)
{
	int64_t job = agent_jint(o, "job"), pid = agent_jint(o, "pid");
	int64_t index = agent_jint(o, "task"), attempt = agent_jint(o, "attempt");
	if (job <= 0 || index < 0 || index >= AIDC_MAX_TASKS_PER_JOB || attempt < 0 ||
	    attempt > INT32_MAX || agent_task_find(a, job, (uint32_t)index, (uint32_t)attempt))
		return;
	struct task *t = agent_task_new(a, job, (uint32_t)index, (uint32_t)attempt);
	t->pid = pid > 1 && pid <= INT32_MAX ? (pid_t)pid : -1;
	t->start_ticks = (uint64_t)agent_jint(o, "start_ticks");
	t->start_ms = agent_jint(o, "start_ms");
	t->limit_s = agent_jint(o, "limit_s");
	t->grace_s = agent_jint(o, "grace_s");
	t->term_ms = agent_jint(o, "term_ms");
	t->sig = (int)agent_jint(o, "sig");
	t->sig_before_s = agent_jint(o, "sig_before_s");
	t->sig_batch = json_is_true(json_object_get(o, "sig_batch"));
	t->sig_sent = json_is_true(json_object_get(o, "sig_sent"));
	t->timed_out = json_is_true(json_object_get(o, "timed_out"));
	t->failed = json_is_true(json_object_get(o, "failed"));
	t->lost = json_is_true(json_object_get(o, "lost"));
	t->exit_code = (int)agent_jint(o, "exit_code");
	t->term_signal = (int)agent_jint(o, "signal");
	t->mem_mib = (uint64_t)agent_jint(o, "mem_mib");
	t->out_off = agent_jint(o, "out_off");
	t->err_off = agent_jint(o, "err_off");
	snprintf(t->message, sizeof t->message, "%s", agent_jstr(o, "message"));
	const char *cg = agent_jstr(o, "cgroup");
	if (*cg && !strchr(cg, '/') && strcmp(cg, ".") && strcmp(cg, ".."))
		snprintf(t->cg.name, sizeof t->cg.name, "%s", cg);
	snprintf(t->out_path, sizeof t->out_path, "%.3900s/tasks/%" PRId64 ".%u.%u.out",
		 a->cfg.state_dir, job, t->attempt, t->index);
	snprintf(t->err_path, sizeof t->err_path, "%.3900s/tasks/%" PRId64 ".%u.%u.err",
		 a->cfg.state_dir, job, t->attempt, t->index);
	uint64_t ticks;
	if (!strcmp(agent_jstr(o, "state"), "running")) {
		t->state = T_RUNNING;
		t->adopted = true;
		if (t->pid > 0 && t->start_ticks &&
		    agent_proc_start_ticks(t->pid, &ticks) == 0 && ticks == t->start_ticks) {
			if (never_ran(a, t)) {
				agent_task_release(t);
				a->ntasks--;
				return;
			}
			aidc_log(AIDC_LOG_INFO, "agent %s: adopted job %" PRId64 " task %u (pid %d)",
				 a->cfg.name, job, t->index, (int)t->pid);
			return;
		}
		t->lost = true;
		snprintf(t->message, sizeof t->message,
			 "the task ended while its agent was down; its exit status is unknown");
		aidc_log(AIDC_LOG_WARN, "agent %s: job %" PRId64 " task %u: %s", a->cfg.name, job,
			 t->index, t->message);
		agent_task_ended(a, t);
	} else {
		/* Exited before the agent died: report that exit. Its shim may still
		 * wait to be killed (the agent died between saving and killing). */
		int code, sig;
		pid_t saved = t->pid;
		bool same = saved > 0 && t->start_ticks &&
			    agent_proc_start_ticks(saved, &ticks) == 0 && ticks == t->start_ticks;
		if (same && agent_proc_shim_state(saved, &code, &sig) == AGENT_SHIM_ENDED)
			agent_proc_signal(saved, SIGKILL);
		t->pid = same ? saved : -1; /* a reused pid's group is not signalled */
		agent_task_ended(a, t);
		t->pid = saved;
	}
}

static void sweep_orphan(const char *name, void *arg)
{
	struct agent *a = arg;
	for (size_t i = 0; i < a->ntasks; i++)
		if (a->tasks[i].state == T_RUNNING && !strcmp(a->tasks[i].cg.name, name))
			return;
	for (size_t i = 0; i < a->ngc; i++)
		if (!strcmp(a->gc[i].name, name))
			return; /* an ended task's cgroup, already being removed */
	struct agent_cgroup cg;
	agent_cgroup_init(&cg);
	snprintf(cg.name, sizeof cg.name, "%s", name);
	aidc_log(AIDC_LOG_WARN, "agent %s: killing orphaned task cgroup %s", a->cfg.name, name);
	agent_cgroup_kill(&a->lim, &cg);
	AIDC_GROW(a->gc, a->cap_gc, a->ngc + 1);
	a->gc[a->ngc++] = cg;
}

/* Reads tasks.json of a previous run (if any), adopts or reports its tasks,
 * and kills task cgroups that belong to none of them. */
void agent_restore(struct agent *a)
{
	char path[AIDC_MAX_PATH_BYTES + 16];
	state_path(a, path, sizeof path, false);
	struct stat sb;
	if (stat(path, &sb) == 0 && sb.st_size > (off_t)AIDC_MAX_SMALL_FILE_BYTES) {
		aidc_log(AIDC_LOG_WARN, "agent %s: %s is over %u bytes: ignored", a->cfg.name, path,
			 AIDC_MAX_SMALL_FILE_BYTES);
	} else if (stat(path, &sb) == 0) {
		json_error_t je;
		json_t *root = json_load_file(path, 0, &je);
		if (!root || agent_jint(root, "v") != STATE_VERSION)
			aidc_log(AIDC_LOG_WARN, "agent %s: %s: %s: ignored", a->cfg.name, path,
				 root ? "unknown version" : je.text);
		size_t i;
		json_t *it;
		json_array_foreach(root ? json_object_get(root, "tasks") : NULL, i, it)
			if (agent_jint(root, "v") == STATE_VERSION)
				restore_task(a, it);
		json_decref(root);
	}
	agent_cgroup_list(&a->lim, sweep_orphan, a);
	agent_save_state(a);
}
