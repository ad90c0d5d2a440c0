/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job life cycle in the controller: submit (validate, commit, queue),
 * stop (cancel, time limit, gang failure, node loss), settle (the last task
 * ended: finish, fail or requeue), persistence of jobs and tasks, restore
 * after a restart, and the JSON view of a job.
 *
 * Ordering rule: the store is written before anything is acknowledged or
 * dispatched. A new job is queued in the core first (which validates it
 * without side effects visible outside this thread) and removed again if the
 * commit fails, so a failed commit changes nothing.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <malloc.h>
#include <sys/random.h>
#include <unistd.h>

#include "api/sbatch.h"
#include "ctld/ctld_int.h"
#include "util/util.h"

static const char *const job_states[CTLD_JOB_STATE_COUNT_] = {
    "pending",	 "running", "stopping",	 "completed", "failed",
    "cancelled", "timeout", "node_fail", "requeue",
};

const char *ctld_job_state_name(int st)
{
	return st >= 0 && st < CTLD_JOB_STATE_COUNT_ ? job_states[st] : "unknown";
}

int ctld_job_state_parse(const char *s)
{
	for (int i = 0; i < CTLD_JOB_STATE_COUNT_; i++)
		if (strcmp(job_states[i], s) == 0)
			return i;
	return -1;
}

const char *ctld_task_state_name(int st)
{
	static const char *const n[] = {"assigned", "running", "exited", "failed", "lost"};
	return st >= 0 && st < (int)AIDC_ARRAY_LEN(n) ? n[st] : "unknown";
}

bool ctld_job_active(const struct ctld_job *j)
{
	return j->state == CTLD_JOB_RUNNING || j->state == CTLD_JOB_STOPPING;
}

bool ctld_job_ended(const struct ctld_job *j)
{
	return j->state >= CTLD_JOB_COMPLETED && j->state <= CTLD_JOB_NODE_FAIL;
}

/* Bookkeeping of a job that just reached a final state: counted, and freed
 * from memory after the iteration's group commit. */
static void job_ended(struct ctld *c, struct ctld_job *j)
{
	c->ended[j->state]++;
	c->nended_live++;
}

void ctld_jobs_evict(struct ctld *c)
{
	size_t k = 0;
	for (size_t i = 0; i < c->njobs; i++) {
		struct ctld_job *j = c->jobs[i];
		if (ctld_job_ended(j) && j->handle < 0) {
			ctld_output_forget(c, j);
			ctld_job_free(j);
		} else
			c->jobs[k++] = j;
	}
	c->evicted_since_trim += c->njobs - k;
	c->njobs = k;
	c->nended_live = 0;
	/* After a burst (say 100,000 queued jobs that have all run) the freed job
	 * records sit in malloc's free lists; hand them back to the OS so the
	 * footprint follows the live workload. At most once a second: a trim
	 * walks the heap. */
	int64_t now = ctld_now_ms();
	if (c->evicted_since_trim >= 1000 && now - c->last_trim_ms >= 1000) {
		malloc_trim(0);
		c->evicted_since_trim = 0;
		c->last_trim_ms = now;
	}
}

static bool task_terminal(int st)
{
	return st == CTLD_TASK_EXITED || st == CTLD_TASK_FAILED || st == CTLD_TASK_LOST;
}

struct ctld_job *ctld_job_find(struct ctld *c, uint64_t id)
{
	size_t lo = 0, hi = c->njobs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->jobs[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->njobs && c->jobs[lo]->id == id ? c->jobs[lo] : NULL;
}

void ctld_job_free(struct ctld_job *j)
{
	if (!j)
		return;
	aidc_free(j->user);
	aidc_free(j->name);
	aidc_free(j->spec_json);
	aidc_free(j->reason);
	aidc_free(j->tasks);
	api_decoded_release(&api_schema_job_submit, &j->spec);
	if (j->arr)
		aidc_aset_free(j->arr);
	aidc_free(j->arr);
	aidc_free(j->arr_undo);
	aidc_free(j);
}

static void set_reason(struct ctld_job *j, const char *reason)
{
	aidc_free(j->reason);
	j->reason = reason ? aidc_strdup(reason) : NULL;
}

/* ---- persistence ----------------------------------------------------------- */

/* What w wrote into b as a string (caller frees), or NULL when it did not
 * fit (b released). */
static char *json_text(struct aidc_json *w, struct aidc_buf *b)
{
	if (aidc_json_finish(w) != 0) {
		aidc_buf_release(b);
		return NULL;
	}
	return aidc_buf_detach(b);
}

static char *alloc_json(struct ctld *c, const struct ctld_job *j)
{
	if (!j->tasks)
		return NULL;
	struct aidc_buf b;
	aidc_buf_init(&b, 64u << 20);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	aidc_json_ki64(&w, "v", 1);
	aidc_json_ki64(&w, "master_port", j->master_port);
	aidc_json_key(&w, "tasks");
	aidc_json_arr_begin(&w);
	for (uint32_t t = 0; t < j->ntasks; t++) {
		const struct ctld_task *k = &j->tasks[t];
		aidc_json_obj_begin(&w);
		aidc_json_kstr(&w, "node", c->nodes[k->node].name);
		aidc_json_key(&w, "devs");
		aidc_json_arr_begin(&w);
		for (uint32_t d = 0; d < k->ndev; d++)
			aidc_json_u64(&w, k->devs[d]);
		aidc_json_arr_end(&w);
		if (k->ndev && k->dev_milli && k->dev_milli < AIDC_DEVICE_MILLI)
			aidc_json_ki64(&w, "milli", k->dev_milli); /* absent: whole devices */
		aidc_json_obj_end(&w);
	}
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	return json_text(&w, &b);
}

/* The job's row; alloc is borrowed. */
static struct store_job job_row(const struct ctld_job *j, char *alloc)
{
	return (struct store_job){
	    .id = j->id,
	    .uid = j->uid,
	    .gid = j->gid,
	    .user = j->user,
	    .name = j->name,
	    .spec_json = j->spec_json,
	    .alloc_json = alloc,
	    .reason = j->reason,
	    .state = j->state,
	    .target = j->target,
	    .attempt = j->attempt,
	    .exit_code = j->exit_code,
	    .term_signal = j->term_signal,
	    .submit_s = j->submit_s,
	    .start_s = j->start_s,
	    .end_s = j->end_s,
	    .log_key = (char *)j->log_key,
	};
}

static int task_put(struct ctld *c, const struct ctld_job *j, uint32_t t, struct aidc_err *e)
{
	const struct ctld_task *k = &j->tasks[t];
	struct store_task s = {
	    .job_id = j->id,
	    .index = t,
	    .attempt = j->attempt,
	    .node = c->nodes[k->node].name,
	    .state = k->state,
	    .pid = k->pid,
	    .exit_code = k->exit_code,
	    .term_signal = k->term_signal,
	    .start_s = k->start_s,
	    .end_s = k->end_s,
	};
	return c->st->ops->task_put(c->st, &s, e);
}

int ctld_job_persist(struct ctld *c, struct ctld_job *j, bool tasks, struct aidc_err *e)
{
	char *alloc = alloc_json(c, j);
	struct store_job r = job_row(j, alloc);
	int rc = c->st->ops->job_put(c->st, &r, e);
	aidc_free(alloc);
	if (rc || !tasks)
		return rc;
	if (!j->tasks)
		return c->st->ops->task_clear(c->st, j->id, e);
	for (uint32_t t = 0; t < j->ntasks && rc == 0; t++)
		rc = task_put(c, j, t, e);
	return rc;
}

/* A task report rewrote the whole job before (its row, its allocation's
 * JSON and every task row): a 64-node gang's 128 reports cost 8,320 row
 * writes, most of the loop's time at 4,096 nodes (bench/scale/README.md). */
int ctld_task_commit(struct ctld *c, struct ctld_job *j, uint32_t t, struct aidc_err *e)
{
	int rc = ctld_tx_begin(c, e);
	if (rc)
		return rc;
	rc = j->tasks_unsaved ? ctld_job_persist(c, j, true, e) : task_put(c, j, t, e);
	if (rc)
		ctld_tx_rollback(c);
	else
		rc = ctld_tx_release(c, e);
	j->tasks_unsaved = rc != 0;
	return rc;
}

/* One job (and optionally its tasks) as one unit of the group transaction. */
static int commit_job(struct ctld *c, struct ctld_job *j, bool tasks, struct aidc_err *e)
{
	int rc = ctld_tx_begin(c, e);
	if (rc)
		return rc;
	if ((rc = ctld_job_persist(c, j, tasks, e)) != 0) {
		ctld_tx_rollback(c);
		return rc;
	}
	return ctld_tx_release(c, e);
}

/* ---- submit ---------------------------------------------------------------- */

char *ctld_spec_to_json(const struct api_job_submit *s)
{
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_HTTP_BODY_BYTES * 2u);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	aidc_json_ki64(&w, "v", API_JOB_SPEC_VERSION);
#define KS(f)                                                                                      \
	if (s->f)                                                                                  \
	aidc_json_kstr(&w, #f, s->f)
#define KI(f)                                                                                      \
	if (s->f)                                                                                  \
	aidc_json_ki64(&w, #f, s->f)
	KS(name);
	KS(script);
	KS(cwd);
	KS(gpu_model);
	KS(partition);
	KS(stdout_path);
	KS(stderr_path);
	KS(on_node_failure);
	KS(account);
	KS(qos);
	KS(umask);
	KS(dependency);
	KS(array);
	KS(array_pending);
	KS(nodelist);
	KS(exclude);
	KI(array_limit);
	KI(array_count);
	KI(array_min);
	KI(array_max);
	KI(array_step);
	KI(array_failed);
	KI(nodes);
	KI(ntasks);
	KI(ntasks_per_node);
	KI(cpus_per_task);
	KI(mem_mib);
	KI(gpus_per_task);
	KI(time_limit_s);
	KI(priority);
	KI(signal);
	KI(signal_before_s);
	KI(begin_s);
	KI(gpu_milli);
#undef KS
#undef KI
	if (s->array_job_id) { /* an element: index 0 is an index */
		aidc_json_ki64(&w, "array_job_id", s->array_job_id);
		aidc_json_ki64(&w, "array_task_id", s->array_task_id);
	}
	if (s->preemptible)
		aidc_json_kbool(&w, "preemptible", true);
	if (s->kill_on_invalid_dep)
		aidc_json_kbool(&w, "kill_on_invalid_dep", true);
	if (s->signal_batch)
		aidc_json_kbool(&w, "signal_batch", true);
	if (s->slurm_env)
		aidc_json_kbool(&w, "slurm_env", true);
	if (s->exclusive)
		aidc_json_kbool(&w, "exclusive", true);
	if (s->mem_whole)
		aidc_json_kbool(&w, "mem_whole", true);
	const struct api_strv *vv[] = {&s->command, &s->env, &s->script_args};
	const char *names[] = {"command", "env", "script_args"};
	for (int k = 0; k < 3; k++) {
		if (!vv[k]->n)
			continue;
		aidc_json_key(&w, names[k]);
		aidc_json_arr_begin(&w);
		for (size_t i = 0; i < vv[k]->n; i++)
			aidc_json_str(&w, vv[k]->v[i]);
		aidc_json_arr_end(&w);
	}
	aidc_json_obj_end(&w);
	return json_text(&w, &b);
}

/* A share of one device (gpu_milli 1..999) needs exactly one device per task;
 * 1000 is a whole device, the same as none given. */
static int gpu_milli_check(struct api_job_submit *s, struct aidc_err *e)
{
	if (s->gpu_milli && s->gpus_per_task == 0)
		return aidc_errf(e, AIDC_E_INVAL,
				 "gpu_milli %" PRId64 " needs gpus_per_task 1 (a share of one "
				 "device)",
				 s->gpu_milli);
	if (s->gpu_milli && s->gpu_milli < AIDC_DEVICE_MILLI && s->gpus_per_task != 1)
		return aidc_errf(e, AIDC_E_INVAL,
				 "gpu_milli %" PRId64 " (a share of one device) needs "
				 "gpus_per_task 1, not %" PRId64,
				 s->gpu_milli, s->gpus_per_task);
	if (s->gpu_milli == AIDC_DEVICE_MILLI)
		s->gpu_milli = 0;
	return 0;
}

/* Fills defaults and checks what the schema alone cannot. */
static int normalize_spec(struct ctld *c, struct api_job_submit *s, struct aidc_err *e)
{
	if ((s->command.n == 0) == (s->script == NULL))
		return aidc_errf(e, AIDC_E_INVAL, "give exactly one of command and script");
	if (s->script_args.n && !s->script)
		return aidc_errf(e, AIDC_E_INVAL, "script_args needs a script");
	if (s->command.n && s->command.v[0][0] == '\0')
		return aidc_errf(e, AIDC_E_INVAL, "command[0] is empty");
	if (s->cwd && s->cwd[0] != '/')
		return aidc_errf(e, AIDC_E_INVAL, "cwd must be an absolute path");
	int crc = s->script ? api_script_check_text(s->script, e) : 0;
	if (crc)
		return crc;
	/* The agent expands %j %t %u %N %%: another pattern would fail only when
	 * the job runs. */
	bool arr = s->array != NULL;
	if ((crc = api_output_pattern_check_ex("stdout_path", s->stdout_path, arr, e)) != 0 ||
	    (crc = api_output_pattern_check_ex("stderr_path", s->stderr_path, arr, e)) != 0)
		return crc;
	if (s->umask && aidc_parse_umask(s->umask) < 0)
		return aidc_errf(e, AIDC_E_INVAL, "umask '%.8s': 1 to 4 octal digits, at most 0777",
				 s->umask);
	if (s->on_node_failure && strcmp(s->on_node_failure, "requeue") != 0 &&
	    strcmp(s->on_node_failure, "fail") != 0)
		return aidc_errf(e, AIDC_E_INVAL, "on_node_failure must be requeue or fail");
	for (size_t i = 0; i < s->env.n; i++) {
		const char *eq = strchr(s->env.v[i], '=');
		if (!eq || eq == s->env.v[i])
			return aidc_errf(e, AIDC_E_INVAL, "env[%zu]: expected KEY=VALUE", i);
	}
	if (s->ntasks == 0) {
		if (s->nodes && s->ntasks_per_node)
			s->ntasks = s->nodes * s->ntasks_per_node;
		else if (s->nodes)
			s->ntasks = s->nodes;
		else
			s->ntasks = 1;
	}
	if (s->ntasks > AIDC_MAX_TASKS_PER_JOB)
		return aidc_errf(e, AIDC_E_LIMIT, "more than %u tasks", AIDC_MAX_TASKS_PER_JOB);
	if (s->nodes && s->ntasks < s->nodes)
		return aidc_errf(e, AIDC_E_INVAL,
				 "fewer tasks (%" PRId64 ") than nodes (%" PRId64 ")", s->ntasks,
				 s->nodes);
	if (s->nodes && s->ntasks_per_node && s->nodes * s->ntasks_per_node < s->ntasks)
		return aidc_errf(e, AIDC_E_INVAL,
				 "%" PRId64 " tasks do not fit %" PRId64 " nodes at %" PRId64
				 " per node",
				 s->ntasks, s->nodes, s->ntasks_per_node);
	if (s->cpus_per_task == 0)
		s->cpus_per_task = 1;
	if (s->mem_whole && (s->mem_mib || !s->exclusive))
		return aidc_errf(e, AIDC_E_INVAL,
				 "mem_whole (--mem=0: all of a node's memory) needs exclusive and "
				 "no mem_mib");
	if (s->mem_mib == 0 && !s->mem_whole)
		s->mem_mib = c->cfg.default_mem_mib;
	return gpu_milli_check(s, e);
}

static void jobs_append(struct ctld *c, struct ctld_job *j)
{
	AIDC_GROW(c->jobs, c->cap_jobs, c->njobs + 1);
	c->jobs[c->njobs++] = j;
}

/* ---- job ids and log directories ------------------------------------------ */

static void new_log_key(char out[CTLD_LOG_KEY_HEX + 1])
{
	uint8_t raw[CTLD_LOG_KEY_HEX / 2];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		/* Unique enough without the kernel's pool: time and a counter. */
		static uint64_t n;
		uint64_t v = (uint64_t)ctld_now_ms() * 1000003u + ++n;
		memcpy(raw, &v, sizeof raw < sizeof v ? sizeof raw : sizeof v);
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

void ctld_job_log_dir(const struct ctld *c, const struct ctld_job *j, char *buf, size_t size)
{
	if (j->log_key[0])
		snprintf(buf, size, "%.3900s/logs/%" PRIu64 ".%s", c->cfg.state_dir, j->id,
			 j->log_key);
	else
		snprintf(buf, size, "%.3900s/logs/%" PRIu64, c->cfg.state_dir, j->id);
}

#define HWM_DIGITS 20 /* the file holds exactly this many digits and a newline */

/* Raises the high-water mark to at least v (before an id below v is used).
 * One pwrite of a fixed-size record, fsynced at the group commit. */
static int hwm_raise(struct ctld *c, uint64_t v, struct aidc_err *e)
{
	if (v <= c->hwm)
		return 0;
	char rec[HWM_DIGITS + 2];
	snprintf(rec, sizeof rec, "%0*" PRIu64 "\n", HWM_DIGITS, v);
	if (c->hwm_fd < 0 || pwrite(c->hwm_fd, rec, HWM_DIGITS + 1, 0) != HWM_DIGITS + 1)
		return aidc_errf(e, AIDC_E_IO, "cannot write %s/job_id_hwm: %s", c->cfg.state_dir,
				 c->hwm_fd < 0 ? "not open" : strerror(errno));
	c->hwm = v;
	c->hwm_dirty = true;
	return 0;
}

int ctld_hwm_sync(struct ctld *c, struct aidc_err *e)
{
	if (!c->hwm_dirty)
		return 0;
	if (c->cfg.store_sync_full && fdatasync(c->hwm_fd) != 0)
		return aidc_errf(e, AIDC_E_IO, "cannot sync %s/job_id_hwm: %s", c->cfg.state_dir,
				 strerror(errno));
	c->hwm_dirty = false;
	return 0;
}

/* The highest id named by a log directory (logs/<id> or logs/<id>.<key>):
 * the last witness of ids handed out when both the database and the
 * high-water mark file are gone. O(directories) once at start. */
static uint64_t max_logged_id(const struct ctld *c)
{
	char path[AIDC_MAX_PATH_BYTES + 16];
	snprintf(path, sizeof path, "%.4000s/logs", c->cfg.state_dir);
	DIR *d = opendir(path);
	uint64_t max = 0;
	if (!d)
		return 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(de->d_name, &end, 10);
		if (errno == 0 && end != de->d_name && (*end == '\0' || *end == '.') &&
		    v < (unsigned long long)INT64_MAX && v > max)
			max = v;
	}
	closedir(d);
	return max;
}

/* Opens the high-water mark file and sets next_job_id to the highest of: the
 * stored counter, the highest job row + 1 (ended jobs included), the
 * high-water mark, the highest log directory + 1. A counter or mark that does
 * not parse is refused (someone edited it): start only on a clear state. */
static int restore_next_id(struct ctld *c, struct aidc_err *e)
{
	char path[AIDC_MAX_PATH_BYTES + 16];
	snprintf(path, sizeof path, "%.4000s/job_id_hwm", c->cfg.state_dir);
	c->hwm_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->hwm_fd < 0)
		return aidc_errf(e, AIDC_E_IO, "cannot open %s: %s", path, strerror(errno));
	char rec[HWM_DIGITS + 2] = {0};
	ssize_t n = pread(c->hwm_fd, rec, sizeof rec - 1, 0);
	uint64_t next = c->next_job_id;
	int64_t v;
	if (n > 0) {
		while (n > 0 && rec[n - 1] == '\n')
			rec[--n] = '\0';
		if (aidc_parse_i64(rec, 1, INT64_MAX, &v) != 0)
			return aidc_errf(e, AIDC_E_PARSE,
					 "%s does not hold a job id (\"%.24s\"); refusing to start "
					 "(ids must never go backwards)",
					 path, rec);
		c->hwm = (uint64_t)v;
		if (c->hwm > next)
			next = c->hwm;
	}
	char *meta = NULL;
	struct aidc_err me = {0}; /* absent on a fresh database: not an error */
	int rc = c->st->ops->meta_get(c->st, "next_job_id", &meta, &me);
	if (rc == 0) {
		rc = aidc_parse_i64(meta, 1, INT64_MAX, &v);
		if (rc)
			rc = aidc_errf(e, AIDC_E_PARSE,
				       "%s: next_job_id \"%.24s\" is not a job id in 1..%" PRId64
				       "; refusing to start",
				       c->db_shown, meta, INT64_MAX);
		else if ((uint64_t)v > next)
			next = (uint64_t)v;
		aidc_free(meta);
		if (rc)
			return rc;
	} else if (rc != AIDC_E_NOTFOUND) {
		return aidc_errf(e, rc, "%s", me.msg);
	}
	uint64_t max = 0;
	if ((rc = c->st->ops->job_max_id(c->st, &max, e)) != 0)
		return rc;
	if (max + 1 > next)
		next = max + 1;
	max = max_logged_id(c);
	if (max + 1 > next)
		next = max + 1;
	c->next_job_id = next;
	return 0;
}

/* Admission limits of a new job of uid whose stored spec is spec_bytes long
 * (docs/security.md). One pass over the live jobs: O(live jobs) per submit,
 * a few hundred microseconds at 100,000 live jobs. */
static int admit(struct ctld *c, uint32_t uid, size_t spec_bytes, struct aidc_err *e)
{
	const struct ctld_config *k = &c->cfg;
	int64_t free_mib, floor_mib;
	if (ctld_state_fs_low(c, true, &free_mib, &floor_mib))
		return aidc_errf(e, AIDC_E_LIMIT,
				 "the controller's state filesystem has %" PRId64
				 " MiB free, under half its floor of %" PRId64
				 " MiB (min_free_mib): new jobs are refused until space is freed",
				 free_mib, floor_mib * 2);
	if (ctld_state_fs_inodes_low(c, true, &free_mib, &floor_mib)) /* inodes here */
		return aidc_errf(e, AIDC_E_LIMIT,
				 "the controller's state filesystem has %" PRId64
				 " inodes free, under half its floor of %" PRId64
				 " inodes (min_free_mib): new jobs are refused until files are removed",
				 free_mib, floor_mib * 2);
	if (spec_bytes > (uint64_t)k->max_spec_kib * 1024u)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "the job's spec is %zu KiB, over max_spec_kib = %" PRId64
				 " (command, script and environment together)",
				 (spec_bytes + 1023) / 1024, k->max_spec_kib);
	uint64_t pending = 0, live = 0, user_bytes = 0, all_bytes = 0;
	for (size_t i = 0; i < c->njobs; i++) {
		const struct ctld_job *j = c->jobs[i];
		if (ctld_job_ended(j))
			continue;
		size_t b = j->spec_bytes;
		all_bytes += b;
		if (j->uid != uid)
			continue;
		live++;
		user_bytes += b;
		pending += j->state == CTLD_JOB_PENDING;
	}
	if (pending >= (uint64_t)k->max_pending_jobs_per_user)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "you have %" PRIu64
				 " pending jobs (max_pending_jobs_per_user = %" PRId64
				 "); wait for some to start or cancel some",
				 pending, k->max_pending_jobs_per_user);
	if (live >= (uint64_t)k->max_jobs_per_user)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "you have %" PRIu64
				 " jobs not yet ended (max_jobs_per_user = %" PRId64 ")",
				 live, k->max_jobs_per_user);
	if (user_bytes + spec_bytes > (uint64_t)k->max_pending_spec_mib_per_user << 20)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "your jobs not yet ended hold %" PRIu64 " MiB of specs "
				 "(max_pending_spec_mib_per_user = %" PRId64
				 "); wait or cancel some",
				 user_bytes >> 20, k->max_pending_spec_mib_per_user);
	if (all_bytes + spec_bytes > (uint64_t)k->max_pending_spec_mib << 20)
		return aidc_errf(e, AIDC_E_BUSY,
				 "the controller holds %" PRIu64 " MiB of job specs "
				 "(max_pending_spec_mib = %" PRId64 "); try again later",
				 all_bytes >> 20, k->max_pending_spec_mib);
	return 0;
}

/* A job naming a partition no node has would wait forever: refused. */
static int check_partition(struct ctld *c, const char *p, struct aidc_err *e)
{
	if (!p || !*p || strcmp(p, c->cfg.partition) == 0)
		return 0;
	for (size_t i = 0; i < c->nnodes; i++)
		if (c->nodes[i].partition && strcmp(c->nodes[i].partition, p) == 0)
			return 0;
	return aidc_errf(e, AIDC_E_INVAL,
			 "invalid partition specified: %.64s (no node is in it; see aidc nodes)",
			 p);
}

/* A request id names one submission of one user; its characters are safe in
 * logs and URLs. */
static int check_request_id(const char *rid, struct aidc_err *e)
{
	size_t n = strlen(rid);
	if (n == 0 || n > 64 ||
	    strspn(rid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") != n)
		return aidc_errf(e, AIDC_E_INVAL,
				 "request_id: 1 to 64 characters of A-Z a-z 0-9 . _ : -");
	return 0;
}

void ctld_requests_prune(struct ctld *c, int64_t now_ms)
{
	if (now_ms < c->next_req_prune_ms)
		return;
	c->next_req_prune_ms = now_ms + 60000;
	struct aidc_err e = {0};
	uint64_t removed = 0;
	int rc = ctld_tx_begin(c, &e);
	if (rc == 0) {
		rc = c->st->ops->req_prune(c->st, ctld_now_s() - c->cfg.submit_request_ttl_s,
					   &removed, &e);
		if (rc)
			ctld_tx_rollback(c);
		else
			rc = ctld_tx_release(c, &e);
	}
	if (rc)
		aidc_log(AIDC_LOG_WARN, "pruning submission request ids: %s", e.msg);
	else if (removed)
		aidc_log(AIDC_LOG_DEBUG, "pruned %" PRIu64 " submission request ids", removed);
}

/* A pending job with the next id, made from spec (whose contents it takes
 * over: spec is left empty). spec_json is NULL when the spec is too large. */
static struct ctld_job *job_new(struct ctld *c, const struct api_identity *who,
				struct api_job_submit *spec)
{
	struct ctld_job *j = aidc_calloc(1, sizeof *j);
	j->id = c->next_job_id;
	new_log_key(j->log_key);
	j->uid = who->uid;
	j->gid = who->gid;
	j->user = aidc_strdup(who->user);
	j->name = aidc_strdup(spec->name ? spec->name
					 : (spec->command.n ? spec->command.v[0] : "script"));
	j->spec = *spec;
	memset(spec, 0, sizeof *spec); /* ownership moved into the job */
	j->spec_json = ctld_spec_to_json(&j->spec);
	j->spec_bytes = j->spec_json ? (uint32_t)strlen(j->spec_json) : 0;
	j->has_script = j->spec.script != NULL;
	j->state = CTLD_JOB_PENDING;
	j->submit_s = ctld_now_s();
	j->handle = -1;
	j->ntasks = (uint32_t)j->spec.ntasks;
	j->requeue_on_node_failure = j->spec.on_node_failure
					 ? strcmp(j->spec.on_node_failure, "requeue") == 0
					 : c->cfg.requeue_on_node_failure;
	return j;
}

/* Frees the large parts of a stored job's spec (command, script, env and the
 * document) when it is over spec_in_memory_kib: 2,000 pending 960 KB specs
 * held 3.9 GB of the controller's memory (issue 9 item 4). What scheduling,
 * admission and listings read (resources, account, QoS, paths, name) stays. */
static void spec_shed(struct ctld *c, struct ctld_job *j)
{
	if (j->spec_shed || j->spec_bytes <= (uint64_t)c->cfg.spec_in_memory_kib * 1024u)
		return;
	struct api_job_submit *s = &j->spec;
	struct api_strv *vv[] = {&s->command, &s->env};
	for (size_t k = 0; k < AIDC_ARRAY_LEN(vv); k++) {
		for (size_t i = 0; i < vv[k]->n; i++)
			aidc_free(vv[k]->v[i]);
		aidc_free(vv[k]->v);
		vv[k]->v = NULL;
		vv[k]->n = 0;
	}
	aidc_free(s->script);
	s->script = NULL;
	aidc_free(j->spec_json);
	j->spec_json = NULL; /* rows are then updated without it (store keeps it) */
	j->spec_shed = true;
}

int ctld_job_spec(struct ctld *c, const struct ctld_job *j, struct api_job_submit *tmp,
		  const struct api_job_submit **out, struct aidc_err *e)
{
	*out = &j->spec;
	if (!j->spec_shed)
		return 0;
	struct store_job r;
	int rc = c->st->ops->job_get(c->st, j->id, &r, e);
	if (rc)
		return rc;
	rc = r.spec_json
		 ? api_decode(&api_schema_job_submit, r.spec_json, strlen(r.spec_json), tmp, e)
		 : aidc_errf(e, AIDC_E_IO, "job %" PRIu64 ": no spec in the store", j->id);
	store_job_release(&r);
	if (rc == 0)
		*out = tmp;
	return rc;
}

/* Stores a new job, the next id and its request id (if any) in one unit of
 * the iteration's group transaction (rolled back on error). */
static int insert_job(struct ctld *c, const struct ctld_job *j, struct aidc_err *e)
{
	char next[32];
	snprintf(next, sizeof next, "%" PRIu64, j->id + 1);
	int rc = ctld_tx_begin(c, e);
	if (rc)
		return rc;
	struct store_job row = job_row(j, NULL);
	if ((rc = c->st->ops->job_insert(c->st, &row, e)) != 0 ||
	    (rc = c->st->ops->meta_set(c->st, "next_job_id", next, e)) != 0 ||
	    (j->spec.request_id && (rc = c->st->ops->req_put(c->st, j->uid, j->spec.request_id,
							     j->id, j->submit_s, e)) != 0)) {
		ctld_tx_rollback(c);
		return rc;
	}
	return ctld_tx_release(c, e);
}

static int deps_admit(struct ctld *c, const char *spec, struct aidc_err *e);

/* After the QoS's wall-time default: --signal counts back from a limit. */
static int signal_check(const struct api_job_submit *spec, struct aidc_err *e)
{
	if (spec->signal && !spec->time_limit_s)
		return aidc_errf(e, AIDC_E_INVAL,
				 "signal: --signal needs a time limit (-t): it is sent "
				 "signal_before_s before it");
	if (!spec->signal && (spec->signal_before_s || spec->signal_batch))
		return aidc_errf(e, AIDC_E_INVAL, "signal_before_s and signal_batch need signal");
	return 0;
}

int ctld_job_check(struct ctld *c, const struct api_identity *who, struct api_job_submit *spec,
		   struct aidc_err *e)
{
	if (who->uid == 0 && !c->cfg.allow_root_jobs)
		return aidc_errf(e, AIDC_E_PERM,
				 "jobs from root are refused (allow_root_jobs = false); submit as "
				 "an ordinary user");
	int rc;
	if ((rc = normalize_spec(c, spec, e)) != 0 ||
	    (rc = check_partition(c, spec->partition, e)) != 0 ||
	    (rc = ctld_sched_nodelists(c, spec, e)) != 0 ||
	    (rc = ctld_tenancy_admit(c, who, spec, e)) != 0)
		return rc;
	return signal_check(spec, e);
}

/* A new job into the core; held, waiting for dependencies or for --begin:
 * validated by the core as any job (nothing changes on error), then kept
 * out of it until released. */
static int first_queue(struct ctld *c, struct ctld_job *j, struct aidc_err *e)
{
	int rc = ctld_sched_submit(c, j, e);
	j->begin_wait = j->spec.begin_s > ctld_now_s();
	if (rc || !(j->spec.hold || j->spec.dependency || j->begin_wait))
		return rc;
	ctld_sched_release(c, j, false);
	j->dep_wait = j->spec.dependency != NULL;
	j->held = j->spec.hold;
	if (j->held)
		set_reason(j, CTLD_HELD_REASON);
	return 0;
}

int ctld_job_submit(struct ctld *c, const struct api_identity *who, struct api_job_submit *spec,
		    const char *body, size_t body_len, uint64_t *out_id, bool *existing,
		    struct aidc_err *e)
{
	*existing = false;
	if (who->uid == 0 && !c->cfg.allow_root_jobs)
		return aidc_errf(e, AIDC_E_PERM,
				 "jobs from root are refused (allow_root_jobs = false); submit as "
				 "an ordinary user");
	int rc;
	if (spec->request_id) {
		/* A retry of a submission whose reply was lost (a controller restart,
		 * a dropped connection): the job it made, not a second one. The
		 * lookup sees this iteration's uncommitted inserts too (same
		 * connection), so two copies in one batch also make one job. */
		if ((rc = check_request_id(spec->request_id, e)) != 0)
			return rc;
		rc = c->st->ops->req_get(c->st, who->uid, spec->request_id, out_id, e);
		if (rc == 0) {
			*existing = true;
			return 0;
		}
		if (rc != AIDC_E_NOTFOUND)
			return rc;
		aidc_err_clear(e);
	}
	if ((rc = ctld_array_admit(spec, e)) != 0 || (rc = normalize_spec(c, spec, e)) != 0)
		return rc;
	if ((rc = check_partition(c, spec->partition, e)) != 0 ||
	    (rc = ctld_sched_nodelists(c, spec, e)) != 0)
		return rc;
	if ((rc = ctld_tenancy_admit(c, who, spec, e)) != 0)
		return rc;
	if ((rc = signal_check(spec, e)) != 0)
		return rc;
	/* Ids are never reused or wrapped: the last one is INT64_MAX - 1, so the
	 * stored counter (next id) always fits a signed 64-bit column. */
	if (c->next_job_id >= (uint64_t)INT64_MAX)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "job ids are exhausted (next id %" PRIu64
				 "); ids are never reused",
				 c->next_job_id);
	struct ctld_job *j = job_new(c, who, spec);
	if (!j->spec_json) {
		rc = aidc_errf(e, AIDC_E_LIMIT, "job spec too large");
		goto fail;
	}
	if ((rc = ctld_array_attach(j, e)) != 0)
		goto fail;
	if ((rc = admit(c, j->uid, j->spec_bytes, e)) != 0 ||
	    (j->spec.dependency && (rc = deps_admit(c, j->spec.dependency, e)) != 0) ||
	    (rc = hwm_raise(c, j->id + 1, e)) != 0)
		goto fail;
	if ((rc = first_queue(c, j, e)) != 0)
		goto fail;
	if ((rc = insert_job(c, j, e)) != 0)
		goto fail_sched;
	c->next_job_id++;
	spec_shed(c, j);
	jobs_append(c, j);
	c->m_submitted++;
	c->need_pass = true;
	*out_id = j->id;
	return 0;
fail_sched:
	ctld_sched_release(c, j, false);
fail:
	ctld_job_free(j);
	return rc;
}

/* ---- dependencies ---------------------------------------------------------- */

/* What a dependency needs of the job it names. */
struct dep_job {
	int state;
	int64_t start_s, end_s;
};

/* The job a dependency names, live or stored: 0, or AIDC_E_NOTFOUND. */
static int dep_job_get(struct ctld *c, uint64_t id, struct dep_job *out)
{
	struct ctld_job *d = ctld_job_find(c, id);
	if (d) {
		*out = (struct dep_job){d->state, d->start_s, d->end_s};
		return 0;
	}
	struct store_job r;
	int rc = c->st->ops->job_get(c->st, id, &r, NULL);
	if (rc)
		return rc;
	*out = (struct dep_job){r.state, r.start_s, r.end_s};
	store_job_release(&r);
	return 0;
}

static bool dep_ended(int st)
{
	return st >= CTLD_JOB_COMPLETED && st <= CTLD_JOB_NODE_FAIL;
}

/* aftercorr for index idx: element idx of array d->id, as afterok; 2 when
 * there is no such element (the array then counts whole, as Slurm). */
static int dep_corr_state(struct ctld *c, const struct api_dep *d, int64_t idx, struct aidc_err *e)
{
	int st;
	if (idx < 0 || ctld_array_corr_state(c, d->id, idx, &st) != 0)
		return 2;
	if (!dep_ended(st))
		return 0;
	if (st == CTLD_JOB_COMPLETED)
		return 1;
	aidc_errf(e, AIDC_E_STATE, "aftercorr:%" PRIu64 " can never hold for index %" PRId64
		  " (job %" PRIu64 "_%" PRId64 " %s)", d->id, idx, d->id, idx,
		  ctld_job_state_name(st));
	return -1;
}

/* One item: 1 holds, 0 not yet, -1 never will (why in e). singleton is
 * decided by the caller (deps_singleton); idx is aftercorr's index. */
static int dep_item_state(struct ctld *c, const struct api_dep *d, int64_t idx, int64_t now,
			  struct aidc_err *e)
{
	struct dep_job dj;
	int cs = d->type == API_DEP_AFTERCORR ? dep_corr_state(c, d, idx, e) : 2;
	if (cs != 2)
		return cs;
	if (dep_job_get(c, d->id, &dj) != 0) {
		aidc_errf(e, AIDC_E_NOTFOUND, "no job %" PRIu64, d->id);
		return -1;
	}
	bool ended = dep_ended(dj.state);
	if (d->type == API_DEP_AFTER) {
		/* Slurm: once the job has begun (or was cancelled before it could),
		 * plus the item's +MINUTES. */
		int64_t t0 = dj.start_s > 0 ? dj.start_s : ended ? dj.end_s : 0;
		return t0 > 0 && now >= t0 + d->delay_s;
	}
	if (!ended)
		return 0;
	bool ok = dj.state == CTLD_JOB_COMPLETED;
	if (((d->type == API_DEP_AFTEROK || d->type == API_DEP_AFTERCORR) && !ok) ||
	    (d->type == API_DEP_AFTERNOTOK && ok)) {
		aidc_errf(e, AIDC_E_STATE, "%s:%" PRIu64 " can never hold (job %s)",
			  api_dep_type_name(d->type), d->id, ctld_job_state_name(dj.state));
		return -1;
	}
	return 1;
}

/*
 * singleton: no other live job of the same user and name has a smaller id
 * (Slurm: every earlier one of them has ended), so a chain of them runs one at
 * a time in submit order. first maps "user\x1fname" (intern ids) to the
 * smallest live id of that pair; built once per check by deps_singleton_map.
 */
struct deps_singleton {
	struct aidc_intern keys;
	uint64_t *first; /* by intern id */
	size_t cap;
};

static int singleton_key(const struct ctld_job *j, char *buf, size_t sz)
{
	int n =
	    snprintf(buf, sz, "%s\x1f%s", j->user ? j->user : "", j->spec.name ? j->spec.name : "");
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

static void deps_singleton_map(struct ctld *c, struct deps_singleton *m)
{
	char key[2 * AIDC_MAX_NAME_BYTES + 2];
	for (size_t i = 0; i < c->njobs; i++) {
		const struct ctld_job *j = c->jobs[i];
		uint32_t id;
		if (dep_ended(j->state) || singleton_key(j, key, sizeof key) != 0 ||
		    aidc_intern(&m->keys, key, UINT32_MAX, &id) != 0)
			continue;
		if (id >= m->cap) {
			size_t cap = m->cap ? m->cap * 2 : 64;
			while (cap <= id)
				cap *= 2;
			m->first = aidc_reallocarray(m->first, cap, sizeof *m->first);
			for (size_t k = m->cap; k < cap; k++)
				m->first[k] = UINT64_MAX;
			m->cap = cap;
		}
		if (j->id < m->first[id])
			m->first[id] = j->id;
	}
}

static int deps_singleton(const struct ctld_job *j, const struct deps_singleton *m)
{
	char key[2 * AIDC_MAX_NAME_BYTES + 2];
	uint32_t id;
	if (singleton_key(j, key, sizeof key) != 0 || aidc_intern_find(&m->keys, key, &id) != 0)
		return 1;
	return id >= m->cap || m->first[id] >= j->id;
}

/* 1: the job's dependency holds; 0: waiting; -1: it never will (why in e;
 * *corr when an aftercorr item decided it: for its index alone). */
static int deps_state(struct ctld *c, const struct ctld_job *j, const struct deps_singleton *m,
		      int64_t now, struct aidc_err *e, bool *corr)
{
	int64_t idx = ctld_array_corr_index(j);
	struct api_dep d[AIDC_MAX_JOB_DEPS];
	size_t n;
	bool any;
	if (api_parse_dependency(j->spec.dependency, d, &n, &any, e) != 0)
		return -1;
	/* ',' needs every item (one that never holds decides); '?' needs one
	 * (never only when every item never holds). */
	int holding = 0, never = 0;
	struct aidc_err first = {0};
	for (size_t i = 0; i < n; i++) {
		struct aidc_err ie = {0};
		int st = d[i].type == API_DEP_SINGLETON ? deps_singleton(j, m)
							: dep_item_state(c, &d[i], idx, now, &ie);
		holding += st > 0;
		never += st < 0;
		*corr |= st < 0 && d[i].type == API_DEP_AFTERCORR && idx >= 0;
		if (st < 0 && !first.code)
			first = ie;
		if (st < 0 && !any) {
			*e = ie;
			return -1;
		}
	}
	if (any && never == (int)n) {
		aidc_errf(e, first.code, "no item of '?' can hold (first: %s)", first.msg);
		return -1;
	}
	return any ? holding > 0 : holding == (int)n;
}

/* At submit: the list parses and names existing jobs (400 otherwise). */
static int deps_admit(struct ctld *c, const char *spec, struct aidc_err *e)
{
	struct api_dep d[AIDC_MAX_JOB_DEPS];
	size_t n;
	bool any;
	int rc = api_parse_dependency(spec, d, &n, &any, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct dep_job dj;
		if (d[i].type != API_DEP_SINGLETON && dep_job_get(c, d[i].id, &dj) != 0)
			return aidc_errf(e, AIDC_E_INVAL,
					 "--dependency: no job %" PRIu64 "; nothing was submitted",
					 d[i].id);
	}
	return 0;
}

/* A dependency that can never hold: the job stays pending with reason
 * DependencyNeverSatisfied, or is cancelled with --kill-on-invalid-dep. */
static void deps_never(struct ctld *c, struct ctld_job *j, const char *why)
{
	j->dep_never = true;
	aidc_log(AIDC_LOG_INFO, "job %" PRIu64 ": dependency never satisfied: %s", j->id, why);
	if (!j->spec.kill_on_invalid_dep)
		return;
	struct aidc_err e = {0};
	char reason[160];
	snprintf(reason, sizeof reason, "DependencyNeverSatisfied: %.120s", why);
	if (ctld_job_stop(c, j, CTLD_JOB_CANCELLED, reason, &e) != 0)
		aidc_log(AIDC_LOG_WARN, "job %" PRIu64 ": cancelling it: %s", j->id, e.msg);
}

static bool deps_waiting(const struct ctld_job *j)
{
	return j->dep_wait && !j->dep_never && !j->held && !j->begin_wait &&
	       j->state == CTLD_JOB_PENDING;
}

/* --begin has passed: queued, unless held or waiting for dependencies (then
 * their release or ctld_deps_check queues it). */
static void begin_reached(struct ctld *c, struct ctld_job *j)
{
	j->begin_wait = false;
	if (j->state != CTLD_JOB_PENDING || j->held || j->dep_wait || j->handle >= 0)
		return;
	struct aidc_err e = {0};
	if (!ctld_array_may_queue(j)) {
		j->arr_throttled = j->arr && j->arr->count > 0;
	} else if (ctld_array_unwait(c, j) && ctld_sched_submit(c, j, &e) != 0) {
		ctld_array_rewait(c, j);
		aidc_log(AIDC_LOG_WARN, "job %" PRIu64 ": queueing it: %s", j->id, e.msg);
		j->begin_wait = true; /* tried again on the next check */
		return;
	}
	c->need_pass = true;
}

void ctld_deps_check(struct ctld *c)
{
	struct deps_singleton m = {0};
	aidc_intern_init(&m.keys);
	bool mapped = false;
	int64_t now = ctld_now_s();
	for (size_t i = 0; i < c->njobs; i++) {
		struct ctld_job *j = c->jobs[i];
		if (j->begin_wait && j->spec.begin_s <= now)
			begin_reached(c, j);
		if (!deps_waiting(j))
			continue;
		if (!mapped && strstr(j->spec.dependency, "singleton")) {
			deps_singleton_map(c, &m);
			mapped = true;
		}
		struct aidc_err e = {0};
		bool corr = false;
		int st = deps_state(c, j, &m, now, &e, &corr);
		if (st < 0 && corr && j->arr) {
			ctld_array_corr_never(c, j, e.msg); /* that index; the next is checked next */
			c->need_pass = true;
		} else if (st < 0) {
			deps_never(c, j, e.msg);
		} else if (st > 0) {
			if (!ctld_array_may_queue(j)) { /* an array record at its %LIMIT */
				j->arr_throttled = j->arr->count > 0;
			} else if (!ctld_array_unwait(c, j)) {
				/* an element split off: it waits for its array's %LIMIT */
			} else if (ctld_sched_submit(c, j, &e) != 0) {
				ctld_array_rewait(c, j);
				aidc_log(AIDC_LOG_WARN, "job %" PRIu64 ": queueing it: %s", j->id,
					 e.msg);
				continue;
			}
			j->dep_wait = false;
		}
	}
	aidc_intern_release(&m.keys);
	aidc_free(m.first);
}

/* ---- hold and release ------------------------------------------------------ */

int ctld_job_hold(struct ctld *c, struct ctld_job *j, struct aidc_err *e)
{
	if (j->state != CTLD_JOB_PENDING)
		return aidc_errf(e, AIDC_E_STATE,
				 "job %" PRIu64 " is %s; only pending jobs can be held", j->id,
				 ctld_job_state_name(j->state));
	if (j->held)
		return 0;
	char *old = j->reason ? aidc_strdup(j->reason) : NULL;
	ctld_sched_release(c, j, false);
	j->held = true;
	set_reason(j, CTLD_HELD_REASON);
	int rc = commit_job(c, j, false, e);
	if (rc) {
		/* Not stored: back as it was (the core takes it again; it did). */
		j->held = false;
		set_reason(j, old);
		if (ctld_sched_submit(c, j, NULL) == 0)
			c->need_pass = true;
	} else {
		ctld_array_rewait(c, j); /* an element that never started: off %LIMIT */
	}
	aidc_free(old);
	return rc;
}

int ctld_job_release(struct ctld *c, struct ctld_job *j, struct aidc_err *e)
{
	if (!j->held)
		return aidc_errf(e, AIDC_E_STATE, "job %" PRIu64 " is not held (%s)", j->id,
				 ctld_job_state_name(j->state));
	/* Waiting for its dependencies: ctld_deps_check queues it. A waiting
	 * array element queues when its array's %LIMIT allows (arrays.c). */
	bool q = !j->dep_wait && !j->begin_wait && ctld_array_may_queue(j) &&
		 ctld_array_unwait(c, j);
	int rc = q ? ctld_sched_submit(c, j, e) : 0;
	if (rc) {
		ctld_array_rewait(c, j);
		return rc;
	}
	j->held = false;
	set_reason(j, NULL);
	if ((rc = commit_job(c, j, false, e)) != 0) {
		ctld_sched_release(c, j, false);
		ctld_array_rewait(c, j);
		j->held = true;
		set_reason(j, CTLD_HELD_REASON);
		return rc;
	}
	c->need_pass = true;
	return 0;
}

/* ---- stop and settle ------------------------------------------------------- */

int ctld_job_stop(struct ctld *c, struct ctld_job *j, int target, const char *reason,
		  struct aidc_err *e)
{
	if (j->state == CTLD_JOB_PENDING) {
		if (target == CTLD_JOB_REQUEUE)
			return 0;
		ctld_sched_release(c, j, false);
		j->state = target;
		j->end_s = ctld_now_s();
		set_reason(j, reason);
		job_ended(c, j);
		/* The job row and its accounting record (acct.c) in one unit. */
		int rc = ctld_tx_begin(c, e);
		if (rc)
			return rc;
		if ((rc = ctld_job_persist(c, j, false, e)) != 0 ||
		    (rc = ctld_acct_record(c, j, j->state, j->end_s, e)) != 0 ||
		    (rc = ctld_array_element_ended(c, j, e)) != 0) {
			ctld_tx_rollback(c);
			return rc;
		}
		return ctld_tx_release(c, e);
	}
	if (j->state == CTLD_JOB_STOPPING) {
		/* An explicit cancel overrides a pending requeue; nothing else changes. */
		if (target == CTLD_JOB_CANCELLED && j->target == CTLD_JOB_REQUEUE) {
			j->target = target;
			set_reason(j, reason);
			return commit_job(c, j, false, e);
		}
		return 0;
	}
	if (j->state != CTLD_JOB_RUNNING)
		return aidc_errf(e, AIDC_E_STATE, "job %" PRIu64 " has already ended (%s)", j->id,
				 ctld_job_state_name(j->state));
	j->state = CTLD_JOB_STOPPING;
	j->target = target;
	set_reason(j, reason);
	for (uint32_t t = 0; t < j->ntasks; t++) {
		struct ctld_task *k = &j->tasks[t];
		if (task_terminal(k->state))
			continue;
		if (c->nodes[k->node].state == CTLD_NODE_DOWN) {
			k->state = CTLD_TASK_LOST;
			k->end_s = ctld_now_s();
		}
	}
	int rc = commit_job(c, j, true, e);
	if (rc)
		return rc;
	for (uint32_t t = 0; t < j->ntasks; t++)
		if (!task_terminal(j->tasks[t].state))
			ctld_unpark_node(c, j->tasks[t].node);
	return ctld_job_settle(c, j, e);
}

int ctld_job_settle(struct ctld *c, struct ctld_job *j, struct aidc_err *e)
{
	if (!ctld_job_active(j))
		return 0;
	for (uint32_t t = 0; t < j->ntasks; t++)
		if (!task_terminal(j->tasks[t].state))
			return 0;
	int final = j->target;
	if (j->state == CTLD_JOB_RUNNING) {
		final = CTLD_JOB_COMPLETED;
		for (uint32_t t = 0; t < j->ntasks; t++)
			if (j->tasks[t].state != CTLD_TASK_EXITED || j->tasks[t].exit_code ||
			    j->tasks[t].term_signal)
				final = CTLD_JOB_FAILED;
	}
	int rc = ctld_tx_begin(c, e);
	if (rc)
		return rc;
	/* The attempt's accounting record (acct.c), in this unit, before a
	 * requeue forgets its tasks. */
	int64_t now_s = ctld_now_s();
	struct ctld_speed_sample obs;
	bool observed = ctld_speeds_measure(c, j, &obs); /* before a requeue forgets */
	if ((rc = ctld_acct_record(c, j, final, now_s, e)) != 0) {
		ctld_tx_rollback(c);
		return rc;
	}
	ctld_index_remove(c, j);
	if (final == CTLD_JOB_REQUEUE) {
		ctld_sched_release(c, j, true);
		aidc_free(j->tasks);
		j->tasks = NULL;
		j->attempt++;
		j->state = CTLD_JOB_PENDING;
		j->target = 0;
		j->start_s = 0;
	} else {
		ctld_sched_release(c, j, false);
		j->state = final;
		j->end_s = now_s;
		c->m_finished++;
		job_ended(c, j);
	}
	if ((rc = ctld_job_persist(c, j, true, e)) != 0 ||
	    (final != CTLD_JOB_REQUEUE && (rc = ctld_array_element_ended(c, j, e)) != 0) ||
	    (observed && (rc = ctld_speeds_record(c, &obs, e)) != 0)) {
		ctld_tx_rollback(c);
		return rc;
	}
	c->need_pass = true;
	return ctld_tx_release(c, e);
}

/* ---- restore ----------------------------------------------------------------- */

static int decode_alloc(struct ctld *c, struct ctld_job *j, const char *text, struct aidc_err *e)
{
	json_error_t je;
	json_t *root = text ? json_loads(text, 0, &je) : NULL;
	json_t *tasks = root ? json_object_get(root, "tasks") : NULL;
	int rc = 0;
	if (!json_is_array(tasks) || json_array_size(tasks) != j->ntasks ||
	    json_integer_value(json_object_get(root, "v")) != 1) {
		rc = aidc_errf(e, AIDC_E_VERSION, "job %" PRIu64 ": bad allocation record", j->id);
		goto out;
	}
	j->master_port = (uint16_t)json_integer_value(json_object_get(root, "master_port"));
	j->tasks = aidc_calloc(j->ntasks, sizeof *j->tasks);
	for (uint32_t t = 0; t < j->ntasks; t++) {
		json_t *o = json_array_get(tasks, t);
		const char *node = json_string_value(json_object_get(o, "node"));
		json_t *devs = json_object_get(o, "devs");
		uint32_t idx;
		if (!node || !ctld_node_find(c, node, &idx) || !json_is_array(devs) ||
		    json_array_size(devs) > AIDC_MAX_DEVICES_PER_NODE) {
			rc = aidc_errf(e, AIDC_E_VERSION, "job %" PRIu64 ": task %u: bad node",
				       j->id, t);
			goto out;
		}
		struct ctld_task *k = &j->tasks[t];
		k->index = t;
		k->node = idx;
		k->ndev = (uint32_t)json_array_size(devs);
		for (uint32_t d = 0; d < k->ndev; d++)
			k->devs[d] = (uint32_t)json_integer_value(json_array_get(devs, d));
		json_int_t milli = json_integer_value(json_object_get(o, "milli"));
		k->dev_milli = k->ndev == 1 && milli > 0 && milli < AIDC_DEVICE_MILLI
				       ? (uint32_t)milli
				       : AIDC_DEVICE_MILLI;
	}
	/* local ranks follow from the placement */
	for (uint32_t t = 0; t < j->ntasks; t++) {
		struct ctld_task *k = &j->tasks[t];
		for (uint32_t u = 0; u < j->ntasks; u++)
			if (j->tasks[u].node == k->node) {
				if (u < t)
					k->local_rank++;
				k->local_size++;
			}
	}
out:
	json_decref(root);
	return rc;
}

int ctld_job_from_row(struct ctld *c, const struct store_job *r, bool with_tasks,
		      struct ctld_job **out, struct aidc_err *e)
{
	struct ctld_job *j = aidc_calloc(1, sizeof *j);
	j->id = r->id;
	j->uid = r->uid;
	j->gid = r->gid;
	j->user = aidc_strdup(r->user ? r->user : "");
	j->name = aidc_strdup(r->name ? r->name : "");
	j->spec_json = aidc_strdup(r->spec_json ? r->spec_json : "{}");
	j->spec_bytes = (uint32_t)strlen(j->spec_json);
	j->reason = r->reason ? aidc_strdup(r->reason) : NULL;
	j->state = r->state;
	j->target = r->target;
	j->attempt = r->attempt;
	j->exit_code = r->exit_code;
	j->term_signal = r->term_signal;
	j->submit_s = r->submit_s;
	j->start_s = r->start_s;
	j->end_s = r->end_s;
	j->handle = -1;
	j->held =
	    j->state == CTLD_JOB_PENDING && j->reason && strcmp(j->reason, CTLD_HELD_REASON) == 0;
	if (r->log_key && strlen(r->log_key) == CTLD_LOG_KEY_HEX &&
	    strspn(r->log_key, "0123456789abcdef") == CTLD_LOG_KEY_HEX)
		memcpy(j->log_key, r->log_key, CTLD_LOG_KEY_HEX + 1);
	int rc =
	    api_decode(&api_schema_job_submit, j->spec_json, strlen(j->spec_json), &j->spec, e);
	if (rc)
		goto fail;
	j->has_script = j->spec.script != NULL;
	j->ntasks = (uint32_t)j->spec.ntasks;
	j->requeue_on_node_failure = j->spec.on_node_failure
					 ? strcmp(j->spec.on_node_failure, "requeue") == 0
					 : c->cfg.requeue_on_node_failure;
	if ((rc = ctld_array_attach(j, e)) != 0)
		goto fail;
	if (with_tasks && r->alloc_json && (rc = decode_alloc(c, j, r->alloc_json, e)) != 0) {
		if (!ctld_job_ended(j))
			goto fail;
		/* A view of an ended job: show it without its placement. */
		aidc_free(j->tasks);
		j->tasks = NULL;
		if (e)
			aidc_err_clear(e);
		rc = 0;
	}
	*out = j;
	return 0;
fail:
	ctld_job_free(j);
	return rc;
}

/* Task rows of the current attempt onto j's tasks (stale rows are skipped). */
static int apply_task(void *ctx, const struct store_task *t)
{
	struct ctld_job *j = ctx;
	if (!j->tasks || t->index >= j->ntasks || t->attempt != j->attempt)
		return 0; /* a stale row of an earlier attempt */
	struct ctld_task *k = &j->tasks[t->index];
	k->state = t->state;
	k->pid = t->pid;
	k->exit_code = t->exit_code;
	k->term_signal = t->term_signal;
	k->start_s = t->start_s;
	k->end_s = t->end_s;
	return 0;
}

int ctld_job_load(struct ctld *c, uint64_t id, struct ctld_job **out, struct aidc_err *e)
{
	struct store_job r;
	int rc = c->st->ops->job_get(c->st, id, &r, e);
	if (rc)
		return rc;
	rc = ctld_job_from_row(c, &r, true, out, e);
	store_job_release(&r);
	if (rc == 0 && (*out)->tasks &&
	    (rc = c->st->ops->task_list_job(c->st, id, apply_task, *out, e)) != 0) {
		ctld_job_free(*out);
		*out = NULL;
	}
	return rc;
}

struct restore_ctx {
	struct ctld *c;
	struct aidc_err err; /* the first job that could not be restored, named */
};

static int restore_job(void *ctx, const struct store_job *r)
{
	struct restore_ctx *rc_ = ctx;
	struct ctld *c = rc_->c;
	struct aidc_err e = {0};
	struct ctld_job *j;
	int rc = ctld_job_from_row(c, r, true, &j, &e);
	if (rc == 0 && ctld_job_active(j) && !j->tasks)
		rc = aidc_errf(&e, AIDC_E_VERSION, "no allocation record");
	if (rc) {
		aidc_errf(&rc_->err, rc, "job %" PRIu64 " (user %.64s, %s): %s", r->id,
			  r->user ? r->user : "?", ctld_job_state_name(r->state), e.msg);
		aidc_log(AIDC_LOG_ERROR, "restore: %s", rc_->err.msg);
		return rc;
	}
	spec_shed(c, j);
	jobs_append(c, j);
	return 0;
}

int ctld_jobs_restore(struct ctld *c, struct aidc_err *e)
{
	/* Only live jobs come back into memory; ended ones stay in the store and
	 * are only counted. The query walks newest first: reverse to id order. */
	struct store_job_query q = {
	    .state_mask =
		(1u << CTLD_JOB_PENDING) | (1u << CTLD_JOB_RUNNING) | (1u << CTLD_JOB_STOPPING),
	    .uid = -1,
	    .limit = AIDC_MAX_JOBS,
	};
	struct restore_ctx rctx = {.c = c};
	int rc = c->st->ops->job_query(c->st, &q, restore_job, &rctx, e);
	if (rc && rctx.err.msg[0]) {
		aidc_err_clear(e);
		return aidc_errf(e, rc, "restoring jobs from %s failed: %s", c->db_shown,
				 rctx.err.msg);
	}
	if (rc)
		return aidc_errf(e, rc, "restoring jobs from %s failed", c->db_shown);
	for (size_t i = 0; i < c->njobs / 2; i++) {
		struct ctld_job *t = c->jobs[i];
		c->jobs[i] = c->jobs[c->njobs - 1 - i];
		c->jobs[c->njobs - 1 - i] = t;
	}
	if ((rc = c->st->ops->job_count(c->st, c->ended, CTLD_JOB_STATE_COUNT_, e)) != 0)
		return rc;
	for (int st = 0; st < CTLD_JOB_STATE_COUNT_; st++)
		if (st < CTLD_JOB_COMPLETED || st > CTLD_JOB_NODE_FAIL)
			c->ended[st] = 0;
	if ((rc = restore_next_id(c, e)) != 0)
		return rc;
	ctld_arrays_restore(c);
	for (size_t i = 0; i < c->njobs; i++) {
		struct ctld_job *j = c->jobs[i];
		if (j->id >= c->next_job_id)
			c->next_job_id = j->id + 1;
		if (j->tasks &&
		    (rc = c->st->ops->task_list_job(c->st, j->id, apply_task, j, e)) != 0)
			return rc;
		/* A pending job with a dependency waits for ctld_deps_check again (a
		 * requeued one finds it holding still: its jobs ended). */
		j->dep_wait = j->state == CTLD_JOB_PENDING && j->spec.dependency;
		j->begin_wait = j->state == CTLD_JOB_PENDING && j->spec.begin_s > ctld_now_s();
		if (j->state == CTLD_JOB_PENDING && (j->held || j->dep_wait || j->begin_wait ||
						     j->arr_wait || !ctld_array_may_queue(j))) {
			aidc_free(j->tasks); /* held or waiting: stays out of the core */
			j->tasks = NULL;
		} else if (j->state == CTLD_JOB_PENDING) {
			/* A pending job's stale allocation (from before a requeue) is not its own.
			 */
			aidc_free(j->tasks);
			j->tasks = NULL;
			rc = ctld_sched_submit(c, j, e);
		} else if (ctld_job_active(j)) {
			ctld_index_add(c, j);
			ctld_output_restore(c, j);
			rc = ctld_sched_restore_running(c, j, e);
		}
		if (rc) {
			aidc_log(AIDC_LOG_ERROR, "restore: job %" PRIu64 ": %s", j->id, e->msg);
			return rc;
		}
	}
	return ctld_steps_restore(c, e);
}

/* ---- JSON view --------------------------------------------------------------- */

/* A pending job's estimated start, 0 if none: the latest pass's reservation
 * (the core's own plan), else the latest forecast's (docs/scheduler.md
 * "Start estimates"). */
static int64_t start_estimate(const struct ctld *c, const struct ctld_job *j)
{
	if (j->state != CTLD_JOB_PENDING)
		return 0;
	if (j->est_pass && j->est_pass == c->m_passes)
		return j->est_start_s;
	if (j->fc_seq && j->fc_seq == c->fc_seq)
		return j->fc_start_s;
	return 0;
}

static const char *pending_reason(struct ctld *c, const struct ctld_job *j, char *buf, size_t n)
{
	if (j->held)
		return CTLD_HELD_REASON;
	if (j->begin_wait)
		return "BeginTime"; /* Slurm's reason */
	if (j->dep_wait)
		return j->dep_never ? "DependencyNeverSatisfied" : "dependency";
	if (j->arr && !j->arr->count)
		return "none: every index has started";
	if (j->arr_throttled) /* a record, or an element released while at %LIMIT */
		return "JobArrayTaskLimit"; /* Slurm's reason */
	return ctld_sched_reason(c, j, buf, n);
}

const char *ctld_job_pending_reason(struct ctld *c, const struct ctld_job *j, char *buf,
				    size_t n)
{
	return pending_reason(c, j, buf, n);
}

/* The fields of GET /v1/jobs/{id} beyond a listing's: command, resources,
 * tasks. */
static void job_json_detail(struct ctld *c, struct aidc_json *w, const struct ctld_job *j)
{
	struct api_job_submit tmp = {0};
	const struct api_job_submit *full = &j->spec;
	struct aidc_err se = {0};
	if (ctld_job_spec(c, j, &tmp, &full, &se) != 0)
		aidc_log(AIDC_LOG_WARN, "job %" PRIu64 ": reading its spec: %s", j->id, se.msg);
	aidc_json_key(w, "command");
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < full->command.n; i++)
		aidc_json_str(w, full->command.v[i]);
	aidc_json_arr_end(w);
	api_decoded_release(&api_schema_job_submit, &tmp);
	aidc_json_kbool(w, "script", j->has_script);
	aidc_json_kbool(w, "spec_in_store", j->spec_shed);
	aidc_json_kstr(w, "cwd", j->spec.cwd ? j->spec.cwd : "/");
	if (j->tasks) {
		aidc_json_key(w, "tasks");
		aidc_json_arr_begin(w);
		for (uint32_t t = 0; t < j->ntasks; t++) {
			const struct ctld_task *k = &j->tasks[t];
			aidc_json_obj_begin(w);
			aidc_json_ki64(w, "index", t);
			aidc_json_kstr(w, "node", c->nodes[k->node].name);
			aidc_json_kstr(w, "state", ctld_task_state_name(k->state));
			aidc_json_ki64(w, "pid", k->pid);
			aidc_json_ki64(w, "exit_code", k->exit_code);
			aidc_json_ki64(w, "signal", k->term_signal);
			aidc_json_kbool(w, "timed_out", k->timed_out);
			aidc_json_key(w, "devices");
			aidc_json_arr_begin(w);
			for (uint32_t d = 0; d < k->ndev; d++)
				aidc_json_u64(w, k->devs[d]);
			aidc_json_arr_end(w);
			if (k->ndev && k->dev_milli < AIDC_DEVICE_MILLI)
				aidc_json_ki64(w, "device_milli", k->dev_milli);
			aidc_json_obj_end(w);
		}
		aidc_json_arr_end(w);
	}
}

void ctld_job_json(struct ctld *c, struct aidc_json *w, const struct ctld_job *j, bool detail)
{
	aidc_json_obj_begin(w);
	aidc_json_ki64(w, "id", (int64_t)j->id);
	aidc_json_kstr(w, "name", j->name);
	aidc_json_kstr(w, "user", j->user);
	aidc_json_ki64(w, "uid", j->uid);
	aidc_json_kstr(w, "account", j->spec.account ? j->spec.account : "");
	aidc_json_kstr(w, "qos", j->spec.qos ? j->spec.qos : "");
	aidc_json_ki64(w, "priority", ctld_tenancy_priority(c, j));
	aidc_json_kbool(w, "borrowing",
			j->handle >= 0 && sched_job_borrowing(c->sched, (uint32_t)j->handle));
	aidc_json_kstr(w, "state", ctld_job_state_name(j->state));
	if (j->state == CTLD_JOB_STOPPING)
		aidc_json_kstr(w, "stopping_to", ctld_job_state_name(j->target));
	char why[256];
	if (j->state == CTLD_JOB_PENDING)
		aidc_json_kstr(w, "pending_reason", pending_reason(c, j, why, sizeof why));
	int64_t est = start_estimate(c, j);
	if (est)
		aidc_json_ki64(w, "start_estimate_s", est);
	if (j->reason)
		aidc_json_kstr(w, "reason", j->reason);
	aidc_json_ki64(w, "ntasks", j->ntasks);
	aidc_json_ki64(w, "attempt", j->attempt);
	aidc_json_ki64(w, "exit_code", j->exit_code);
	aidc_json_ki64(w, "signal", j->term_signal);
	aidc_json_ki64(w, "submit_s", j->submit_s);
	aidc_json_ki64(w, "start_s", j->start_s);
	aidc_json_ki64(w, "end_s", j->end_s);
	aidc_json_ki64(w, "time_limit_s", j->spec.time_limit_s);
	if (j->spec.begin_s)
		aidc_json_ki64(w, "begin_s", j->spec.begin_s);
	aidc_json_ki64(w, "gpus_per_task", j->spec.gpus_per_task);
	if (j->spec.gpu_milli)
		aidc_json_ki64(w, "gpu_milli", j->spec.gpu_milli);
	aidc_json_kbool(w, "preemptible", j->spec.preemptible);
	if (j->spec.exclusive)
		aidc_json_kbool(w, "exclusive", true);
	if (j->spec.mem_whole)
		aidc_json_kbool(w, "mem_whole", true);
	aidc_json_kbool(w, "slurm_batch", j->spec.slurm_env); /* sbatch: sacct's JOB.batch */
	if (j->spec.nodelist) /* -w, -x as given (Slurm's ReqNodeList, ExcNodeList) */
		aidc_json_kstr(w, "nodelist", j->spec.nodelist);
	if (j->spec.exclude)
		aidc_json_kstr(w, "exclude", j->spec.exclude);
	/* What squeue and sinfo show (cli_squeue.c): partition, CPUs per task,
	 * nodes asked for (0: any), GPU model asked for. */
	aidc_json_kstr(w, "partition", j->spec.partition ? j->spec.partition : c->cfg.partition);
	aidc_json_ki64(w, "cpus_per_task", j->spec.cpus_per_task);
	aidc_json_ki64(w, "nodes_min", j->spec.nodes);
	aidc_json_ki64(w, "mem_mib", j->spec.mem_mib); /* per task; sacct's ReqMem */
	if (j->spec.gpu_model)
		aidc_json_kstr(w, "gpu_model", j->spec.gpu_model);
	if (j->spec.array_job_id) {
		aidc_json_ki64(w, "array_job_id", j->spec.array_job_id);
		aidc_json_ki64(w, "array_task_id", j->spec.array_task_id);
	} else if (j->spec.array) {
		aidc_json_kstr(w, "array_pending",
			       j->spec.array_pending ? j->spec.array_pending : "");
		aidc_json_ki64(w, "array_limit", j->spec.array_limit);
		aidc_json_ki64(w, "array_count", j->spec.array_count);
		aidc_json_ki64(w, "array_failed", j->spec.array_failed);
	}
	if (j->tasks) {
		aidc_json_key(w, "nodes");
		aidc_json_arr_begin(w);
		for (uint32_t t = 0; t < j->ntasks; t++) {
			bool dup = false;
			for (uint32_t u = 0; u < t; u++)
				dup |= j->tasks[u].node == j->tasks[t].node;
			if (!dup)
				aidc_json_str(w, c->nodes[j->tasks[t].node].name);
		}
		aidc_json_arr_end(w);
	}
	if (detail)
		job_json_detail(c, w, j);
	aidc_json_obj_end(w);
}

/* ---- for job arrays (arrays.c) ---------------------------------------------- */

void ctld_jobs_append(struct ctld *c, struct ctld_job *j)
{
	jobs_append(c, j);
}

void ctld_job_new_log_key(char out[CTLD_LOG_KEY_HEX + 1])
{
	new_log_key(out);
}

int ctld_job_insert_row(struct ctld *c, const struct ctld_job *j, struct aidc_err *e)
{
	return insert_job(c, j, e);
}

int ctld_hwm_raise(struct ctld *c, uint64_t v, struct aidc_err *e)
{
	return hwm_raise(c, v, e);
}

void ctld_job_ended_count(struct ctld *c, struct ctld_job *j)
{
	job_ended(c, j);
}
