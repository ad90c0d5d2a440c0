/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job table of the scheduling core: validation and submission, the
 * running/stopped transitions (finish, requeue, cancel), per-job accessors and
 * the run-time estimate. Handles index s->jobs; freed handles are reused LIFO
 * (deterministic). The driver's id maps to a handle through an open-addressing
 * table used only for lookups (never iterated, so it decides nothing).
 * Costs: submit O(1) amortized plus the string copies; finish/requeue/cancel
 * O(allocations of the job) plus O(log n) heap pushes under Tiresias.
 */
#include "sched/sched_int.h"

/* ---- id map -------------------------------------------------------------------- */

static size_t id_hash(uint64_t id, size_t cap)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id & (cap - 1);
}

void sched_idmap_release(struct sched_idmap *m)
{
	aidc_free(m->keys);
	aidc_free(m->vals);
	memset(m, 0, sizeof *m);
}

static uint32_t idmap_get(const struct sched_idmap *m, uint64_t id)
{
	if (!m->cap)
		return UINT32_MAX;
	for (size_t i = id_hash(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->vals[i] == UINT32_MAX)
			return UINT32_MAX;
		if (m->keys[i] == id)
			return m->vals[i];
	}
}

static void idmap_put(struct sched_idmap *m, uint64_t id, uint32_t h)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct sched_idmap old = *m;
		m->cap = old.cap ? old.cap * 2 : 64;
		m->keys = aidc_calloc(m->cap, sizeof *m->keys);
		m->vals = aidc_malloc(m->cap * sizeof *m->vals);
		memset(m->vals, 0xff, m->cap * sizeof *m->vals);
		m->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.vals[i] != UINT32_MAX)
				idmap_put(m, old.keys[i], old.vals[i]);
		aidc_free(old.keys);
		aidc_free(old.vals);
	}
	for (size_t i = id_hash(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->vals[i] == UINT32_MAX) {
			m->keys[i] = id;
			m->vals[i] = h;
			m->n++;
			return;
		}
	}
}

/* Linear probing with backward-shift deletion: no tombstones to accumulate. */
static void idmap_del(struct sched_idmap *m, uint64_t id)
{
	size_t mask = m->cap - 1, i, j;

	if (!m->cap)
		return;
	for (i = id_hash(id, m->cap);; i = (i + 1) & mask) {
		if (m->vals[i] == UINT32_MAX)
			return;
		if (m->keys[i] == id)
			break;
	}
	j = i;
	for (;;) {
		size_t k;
		j = (j + 1) & mask;
		if (m->vals[j] == UINT32_MAX)
			break;
		k = id_hash(m->keys[j], m->cap);
		/* move j back to i unless its home k lies cyclically in (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->vals[i] = UINT32_MAX;
	m->n--;
}

/* ---- helpers ------------------------------------------------------------------- */

static struct sched_job *live_job(const struct sched *s, uint32_t h)
{
	if (h >= s->njob_slots || !s->jobs[h].live)
		return NULL;
	return &s->jobs[h];
}

static int64_t sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
	if (a == 0 || b == 0)
		return 0;
	return a > INT64_MAX / b ? INT64_MAX : a * b;
}

uint64_t sched_job_dev_milli(const struct sched_job *j)
{
	return (uint64_t)j->ntasks * j->task.ndev * j->task.dev_milli;
}

int64_t sched_job_est(const struct sched *s, const struct sched_job *j)
{
	if (j->time_limit_s > 0)
		return j->time_limit_s;
	if (j->predicted_s > 0)
		return j->predicted_s;
	if (j->hist_s > 0)
		return j->hist_s;
	return s->cfg.default_estimate_s;
}

int64_t sched_job_run_s(const struct sched_job *j, int64_t now_s)
{
	return j->executed_s + (j->running ? now_s - j->run_start_s : 0);
}

static int64_t clamp_now(struct sched *s, int64_t now_s)
{
	if (now_s < s->now_last)
		now_s = s->now_last;
	s->now_last = now_s;
	return now_s;
}

/* ---- submit -------------------------------------------------------------------- */

static int check_str(const char *what, const char *v, struct aidc_err *e)
{
	if (v && strnlen(v, AIDC_MAX_NAME_BYTES) >= AIDC_MAX_NAME_BYTES)
		return aidc_errf(e, AIDC_E_LIMIT, "job %s longer than %u bytes", what,
				 AIDC_MAX_NAME_BYTES - 1);
	return 0;
}

static int check_dur(const char *what, int64_t v, uint64_t id, struct aidc_err *e)
{
	if (v < 0 || v > AIDC_MAX_DURATION_S)
		return aidc_errf(e, AIDC_E_INVAL,
				 "job %" PRIu64 ": %s %" PRId64 " s out of range 0..%lld", id, what,
				 v, (long long)AIDC_MAX_DURATION_S);
	return 0;
}

static int check_req(const struct sched *s, const struct sched_job_spec *sp, struct aidc_err *e)
{
	const struct sched_req *r = &sp->task;
	uint64_t units;

	if (sp->ntasks < 1 || sp->ntasks > AIDC_MAX_TASKS_PER_JOB)
		return aidc_errf(e, AIDC_E_LIMIT, "job %" PRIu64 ": %u tasks, allowed 1..%u",
				 sp->id, sp->ntasks, AIDC_MAX_TASKS_PER_JOB);
	if (r->ndev > AIDC_MAX_DEVICES_PER_NODE)
		return aidc_errf(e, AIDC_E_LIMIT, "job %" PRIu64 ": %u devices per task > %u",
				 sp->id, r->ndev, AIDC_MAX_DEVICES_PER_NODE);
	units = (uint64_t)sp->ntasks * AIDC_MAX(r->ndev, 1u);
	if (units > AIDC_MAX_DEVICES_PER_JOB)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "job %" PRIu64 ": %" PRIu64 " devices in all > %u", sp->id, units,
				 AIDC_MAX_DEVICES_PER_JOB);
	if (r->dev_milli > AIDC_DEVICE_MILLI)
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": device share %u > %u milli",
				 sp->id, r->dev_milli, AIDC_DEVICE_MILLI);
	if (r->ndev == 0 && r->dev_milli)
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": device share without devices",
				 sp->id);
	if (r->dev_milli && r->dev_milli < AIDC_DEVICE_MILLI && r->ndev != 1)
		return aidc_errf(e, AIDC_E_INVAL,
				 "job %" PRIu64 ": a fractional share needs "
				 "exactly 1 device per task, not %u",
				 sp->id, r->ndev);
	if (r->ndev == 0 && r->model_mask)
		return aidc_errf(e, AIDC_E_INVAL,
				 "job %" PRIu64 ": model constraint without devices", sp->id);
	if (r->model_mask & ~sched_all_models(s))
		return aidc_errf(e, AIDC_E_INVAL,
				 "job %" PRIu64 ": model mask 0x%" PRIx64 " names unknown models",
				 sp->id, r->model_mask);
	if (r->cpu_milli > AIDC_MAX_NODE_CPU_MILLI || r->mem_mib > AIDC_MAX_NODE_MEM_MIB)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "job %" PRIu64 ": per-task CPU or memory above "
				 "the largest node allowed",
				 sp->id);
	if (r->ndev == 0 && r->cpu_milli == 0 && r->mem_mib == 0)
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": tasks request nothing", sp->id);
	return 0;
}

/* Node constraints (sched.h). Non-trivial ones need a gang placement policy and
 * whole devices or CPU-only tasks. */
static int check_nodes(const struct sched *s, const struct sched_job_spec *sp, struct aidc_err *e)
{
	uint32_t nn = sp->nodes, per = sp->tasks_per_node;

	if (nn > sp->ntasks)
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": %u nodes for only %u tasks",
				 sp->id, nn, sp->ntasks);
	if (per > AIDC_MAX_TASKS_PER_NODE)
		return aidc_errf(e, AIDC_E_LIMIT, "job %" PRIu64 ": %u tasks per node > %u", sp->id,
				 per, AIDC_MAX_TASKS_PER_NODE);
	if (nn && per && (uint64_t)nn * per < sp->ntasks)
		return aidc_errf(e, AIDC_E_INVAL,
				 "job %" PRIu64 ": %u tasks do not fit %u nodes at %u per node",
				 sp->id, sp->ntasks, nn, per);
	if (sp->ntasks == 1 || (!nn && (!per || per >= sp->ntasks) && !sp->task.exclusive))
		return 0; /* no constraint beyond the gang itself */
	if (sched_frag_policy(s->cfg.placement))
		return aidc_errf(e, AIDC_E_INVAL,
				 "job %" PRIu64 ": node constraints (nodes, tasks per node, "
				 "exclusive) need a gang placement policy (consolidate, topology, "
				 "spread, helios)",
				 sp->id);
	if (sp->task.ndev && sp->task.dev_milli && sp->task.dev_milli < AIDC_DEVICE_MILLI)
		return aidc_errf(e, AIDC_E_INVAL,
				 "job %" PRIu64
				 ": node constraints (nodes, tasks per node, exclusive) are not "
				 "supported with fractional device shares",
				 sp->id);
	return 0;
}

/* Keeps at most one constraint: an even spread over nnodes nodes already
 * respects any per-node limit check_nodes accepted. */
static void norm_nodes(struct sched_job *j, const struct sched_job_spec *sp)
{
	j->nnodes = sp->nodes;
	j->per_node = sp->tasks_per_node;
	if (j->nnodes)
		j->per_node = 0;
	if (j->per_node >= j->ntasks)
		j->per_node = 0;
	if (j->ntasks == 1)
		j->nnodes = 0;
}

/* The node filter's ids (sched.h): known nodes, bounded counts. */
static int check_filter(const struct sched *s, const struct sched_job_spec *sp, struct aidc_err *e)
{
	const uint32_t *v[2] = {sp->include_nodes, sp->exclude_nodes};
	uint32_t n[2] = {sp->ninclude, sp->nexclude};

	for (int k = 0; k < 2; k++) {
		if (n[k] > AIDC_MAX_NODES || (n[k] && !v[k]))
			return aidc_errf(e, AIDC_E_INVAL,
					 "job %" PRIu64 ": bad %s node list (%u ids)", sp->id,
					 k ? "exclude" : "include", n[k]);
		for (uint32_t i = 0; i < n[k]; i++)
			if (v[k][i] >= s->nnodes)
				return aidc_errf(e, AIDC_E_INVAL,
						 "job %" PRIu64 ": %s node id %u unknown", sp->id,
						 k ? "exclude" : "include", v[k][i]);
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static bool sorted_has(const uint32_t *v, uint32_t n, uint32_t x)
{
	return n && bsearch(&x, v, n, sizeof *v, cmp_u32) != NULL;
}

bool sched_nfilter_admits(const struct sched_nfilter *f, uint32_t node)
{
	return sorted_has(f->ids, f->n, node) == f->allow;
}

/* Job j's filter from the spec: include less exclude (allow), or exclude
 * (deny); sorted, unique. NULL without one. O(k log k). */
static struct sched_nfilter *make_filter(const struct sched_job_spec *sp)
{
	bool allow = sp->ninclude > 0;
	uint32_t n = allow ? sp->ninclude : sp->nexclude, k = 0;
	uint32_t *ex = NULL;
	struct sched_nfilter *f;

	if (!sp->ninclude && !sp->nexclude)
		return NULL;
	f = aidc_calloc(1, sizeof *f + (size_t)n * sizeof f->ids[0]);
	f->allow = allow;
	memcpy(f->ids, allow ? sp->include_nodes : sp->exclude_nodes, n * sizeof f->ids[0]);
	qsort(f->ids, n, sizeof f->ids[0], cmp_u32);
	if (allow && sp->nexclude) {
		ex = aidc_reallocarray(NULL, sp->nexclude, sizeof *ex);
		memcpy(ex, sp->exclude_nodes, sp->nexclude * sizeof *ex);
		qsort(ex, sp->nexclude, sizeof *ex, cmp_u32);
	}
	for (uint32_t i = 0; i < n; i++)
		if ((i == 0 || f->ids[i] != f->ids[i - 1]) &&
		    !sorted_has(ex, ex ? sp->nexclude : 0, f->ids[i]))
			f->ids[k++] = f->ids[i];
	f->n = k;
	f->nf_nnodes = UINT32_MAX; /* no never-fits answer yet */
	aidc_free(ex);
	return f;
}

static int check_spec(const struct sched *s, const struct sched_job_spec *sp, int64_t now_s,
		      struct aidc_err *e)
{
	int rc;

	if (sp->partition >= s->nparts)
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": unknown partition %u", sp->id,
				 sp->partition);
	if (sp->priority < AIDC_MIN_PRIORITY || sp->priority > AIDC_MAX_PRIORITY)
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": priority %d out of range",
				 sp->id, sp->priority);
	if (now_s < AIDC_MIN_TIME_S || now_s > AIDC_MAX_TIME_S || sp->submit_s < AIDC_MIN_TIME_S ||
	    sp->submit_s > now_s)
		return aidc_errf(e, AIDC_E_INVAL,
				 "job %" PRIu64 ": submit time %" PRId64
				 " not in %lld..now (%" PRId64 ")",
				 sp->id, sp->submit_s, (long long)AIDC_MIN_TIME_S, now_s);
	if ((rc = check_dur("time limit", sp->time_limit_s, sp->id, e)) ||
	    (rc = check_dur("prediction", sp->predicted_s, sp->id, e)) ||
	    (rc = check_dur("oracle duration", sp->oracle_s, sp->id, e)))
		return rc;
	if (sp->flags & ~(uint32_t)(SCHED_JOB_PREEMPTIBLE | SCHED_JOB_QOS_PREEMPT))
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": unknown flags 0x%x", sp->id,
				 sp->flags);
	if (sp->ngroups > SCHED_MAX_JOB_GROUPS)
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": more than %u groups", sp->id,
				 SCHED_MAX_JOB_GROUPS);
	for (uint32_t k = 0; k < sp->ngroups; k++)
		if (sp->groups[k] >= s->ngroups)
			return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": unknown group %u", sp->id,
					 sp->groups[k]);
	if (sp->qos_milli > 1000)
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": QoS factor %u above 1000", sp->id,
				 sp->qos_milli);
	if (sp->speed_class > AIDC_MAX_SPEED_CLASSES)
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": speed class %u above %u", sp->id,
				 sp->speed_class, AIDC_MAX_SPEED_CLASSES);
	if (sp->qos_class > SCHED_MAX_QOS_CLASS)
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": QoS class %u above %u", sp->id,
				 sp->qos_class, SCHED_MAX_QOS_CLASS);
	if ((rc = check_str("name", sp->name, e)) || (rc = check_str("user", sp->user, e)) ||
	    (rc = check_str("tenant", sp->tenant, e)))
		return rc;
	if ((rc = check_req(s, sp, e)) || (rc = check_nodes(s, sp, e)) ||
	    (rc = check_filter(s, sp, e)))
		return rc;
	if (idmap_get(&s->ids, sp->id) != UINT32_MAX)
		return aidc_errf(e, AIDC_E_EXISTS, "job %" PRIu64 " already exists", sp->id);
	if (s->njobs >= AIDC_MAX_JOBS)
		return aidc_errf(e, AIDC_E_LIMIT, "more than %u jobs", AIDC_MAX_JOBS);
	return 0;
}

int sched_submit(struct sched *s, const struct sched_job_spec *spec, int64_t now_s,
		 struct aidc_err *e)
{
	struct sched_job *j;
	uint32_t h;
	int rc;

	if (!spec)
		return aidc_errf(e, AIDC_E_INVAL, "no job spec");
	now_s = now_s < s->now_last ? s->now_last : now_s;
	rc = check_spec(s, spec, now_s, e);
	if (rc)
		return rc;
	clamp_now(s, now_s);
	if (s->free_job != UINT32_MAX) {
		h = s->free_job;
		s->free_job = s->jobs[h].next_free;
	} else {
		SCHED_GROW_COPY(s->jobs, s->cap_jobs, (size_t)s->njob_slots + 1);
		h = s->njob_slots++;
	}
	j = &s->jobs[h];
	memset(j, 0, sizeof *j);
	j->live = true;
	j->id = spec->id;
	j->seq = s->next_seq++;
	j->name = aidc_strdup(spec->name ? spec->name : "");
	j->user = aidc_strdup(spec->user ? spec->user : "");
	j->tenant = aidc_strdup(spec->tenant ? spec->tenant : "");
	j->part = spec->partition;
	j->priority = spec->priority;
	j->submit_s = spec->submit_s;
	j->ntasks = spec->ntasks;
	norm_nodes(j, spec);
	j->task = spec->task;
	if (j->task.ndev == 0)
		j->task.dev_milli = 0;
	else if (j->task.dev_milli == 0)
		j->task.dev_milli = AIDC_DEVICE_MILLI;
	j->time_limit_s = spec->time_limit_s;
	j->predicted_s = spec->predicted_s;
	j->oracle_s = spec->oracle_s;
	j->flags = spec->flags;
	j->qos_class = spec->qos_class;
	j->preempt_qos = spec->preempt_qos;
	j->qos_milli = spec->qos_milli;
	j->ngroups = spec->ngroups;
	memcpy(j->groups, spec->groups, sizeof j->groups);
	j->filter = make_filter(spec);
	j->speed_class = spec->speed_class;
	j->user_id = *j->user ? sched_intern(s, j->user) : UINT32_MAX;
	j->name_id = *j->name ? sched_intern(s, j->name) : UINT32_MAX;
	j->hist_s = sched_predict_lookup(s, j);
	idmap_put(&s->ids, j->id, h);
	s->njobs++;
	s->parts[j->part].use.jobs_pending++;
	sched_hot_fill(s, h);
	sched_queue_push(s, h, now_s);
	return (int)h;
}

/* ---- running <-> stopped ----------------------------------------------------------- */

void sched_job_mark_started(struct sched *s, uint32_t h, int64_t now_s, const struct sched_alloc *a,
			    uint32_t n)
{
	struct sched_job *j = &s->jobs[h];
	struct sched_partition *p = &s->parts[j->part];

	j->allocs = aidc_reallocarray(NULL, n ? n : 1, sizeof *a);
	memcpy(j->allocs, a, n * sizeof *a);
	j->nalloc = n;
	j->running = true;
	j->run_start_s = now_s;
	j->fs_charged_s = now_s;
	j->run_no++;
	s->hot[h].reason = SCHED_REASON_NONE;
	AIDC_GROW(p->running, p->cap_running, (size_t)p->nrunning + 1);
	j->run_idx = p->nrunning;
	int64_t left = sched_job_est(s, j) - j->executed_s;
	sched_run_ends_add(s, p, (struct sched_endev){now_s + AIDC_MAX(left, 1), j->seq, h});
	p->running[p->nrunning++] = h;
	p->use.jobs_pending--;
	p->use.jobs_running++;
	sched_quota_charge(s, h, +1);
	sched_tiresias_started(s, h, now_s);
	sched_gittins_started(s, h, now_s);
}

/* Gives back a running job's resources and accounts its run segment. */
static void job_stop(struct sched *s, uint32_t h, int64_t now_s)
{
	struct sched_job *j = &s->jobs[h];
	struct sched_partition *p = &s->parts[j->part];
	int64_t ran = now_s - j->run_start_s;
	uint32_t last;

	sched_allocs_apply(s, j->allocs, j->nalloc, &j->task, -1);
	sched_quota_charge(s, h, -1);
	sched_fs_charge(s, h, now_s);
	aidc_free(j->allocs);
	j->allocs = NULL;
	j->nalloc = 0;
	sched_run_ends_del(s, p, s->end_pos[h]);
	last = p->running[--p->nrunning];
	p->running[j->run_idx] = last;
	s->jobs[last].run_idx = j->run_idx;
	j->executed_s = sat_add(j->executed_s, ran);
	j->attained_ms = sat_add(j->attained_ms, sat_mul((int64_t)sched_job_dev_milli(j), ran));
	j->running = false;
	p->use.jobs_running--;
	if (j->victim) {
		struct sched_job *f = live_job(s, j->victim_for);
		if (f && f->seq == j->victim_for_seq && s->hot[j->victim_for].victims_pending)
			s->hot[j->victim_for].victims_pending--;
		j->victim = false;
	}
}

static void job_forget(struct sched *s, uint32_t h)
{
	struct sched_job *j = &s->jobs[h];

	idmap_del(&s->ids, j->id);
	aidc_free(j->name);
	aidc_free(j->user);
	aidc_free(j->tenant);
	aidc_free(j->filter);
	j->filter = NULL;
	j->name = j->user = j->tenant = NULL;
	j->live = false;
	j->next_free = s->free_job;
	s->free_job = h;
	s->njobs--;
}

/* Stops a live, running job at *now_s (clamped, and written back for the
 * caller): what finishing and requeueing both begin with. */
static int stop_running(struct sched *s, uint32_t job, int64_t *now_s, struct aidc_err *e)
{
	struct sched_job *j = live_job(s, job);

	if (!j)
		return aidc_errf(e, AIDC_E_NOTFOUND, "no job handle %u", job);
	if (!j->running)
		return aidc_errf(e, AIDC_E_STATE, "job %" PRIu64 " is not running", j->id);
	*now_s = clamp_now(s, *now_s);
	job_stop(s, job, *now_s);
	return 0;
}

int sched_job_finish(struct sched *s, uint32_t job, int64_t now_s, struct aidc_err *e)
{
	int rc = stop_running(s, job, &now_s, e);
	if (rc)
		return rc;
	struct sched_job *j = &s->jobs[job];
	sched_predict_feed(s, j, j->executed_s);
	sched_forecast_feed(s, j);
	sched_tiresias_finished(s, j);
	sched_gittins_feed(s, j, j->executed_s);
	job_forget(s, job);
	return 0;
}

int sched_job_requeue(struct sched *s, uint32_t job, int64_t now_s, struct aidc_err *e)
{
	int rc = stop_running(s, job, &now_s, e);
	if (rc)
		return rc;
	struct sched_job *j = &s->jobs[job];
	j->preemptions++;
	s->parts[j->part].use.jobs_pending++;
	sched_queue_push(s, job, now_s);
	return 0;
}

static int cmp_alloc(const void *a, const void *b)
{
	const struct sched_alloc *x = a, *y = b;
	if (x->task != y->task)
		return x->task < y->task ? -1 : 1;
	return x->dev < y->dev ? -1 : x->dev > y->dev;
}

/* One alloc of a restored job, against the job's request and the cluster as it
 * is with the job's earlier tasks already taken. */
static int check_restore_alloc(const struct sched *s, const struct sched_job *j,
			       const struct sched_alloc *a, const struct sched_alloc *first,
			       struct aidc_err *e)
{
	const struct sched_device *d;

	if (a->task >= j->ntasks || a->node >= s->nnodes)
		return aidc_errf(e, AIDC_E_NOTFOUND,
				 "job %" PRIu64 ": task %u on node %u: no such %s", j->id, a->task,
				 a->node, a->task >= j->ntasks ? "task" : "node");
	if (s->nodes[a->node].partition != j->part || s->nodes[a->node].state == SCHED_NODE_DOWN)
		return aidc_errf(e, AIDC_E_STATE, "job %" PRIu64 ": node %s is %s", j->id,
				 s->nodes[a->node].name,
				 s->nodes[a->node].partition != j->part ? "in another partition"
									: "down");
	if (a->node != first->node)
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": task %u spans nodes %s and %s",
				 j->id, a->task, s->nodes[first->node].name,
				 s->nodes[a->node].name);
	if (j->task.ndev == 0)
		return a->dev == SCHED_NO_DEVICE
			   ? 0
			   : aidc_errf(e, AIDC_E_INVAL,
				       "job %" PRIu64 ": CPU-only task %u holds a device", j->id,
				       a->task);
	if (a->dev >= s->ndevs || s->devs[a->dev].node != a->node)
		return aidc_errf(e, AIDC_E_NOTFOUND, "job %" PRIu64 ": node %s has no device %u",
				 j->id, s->nodes[a->node].name, a->dev);
	d = &s->devs[a->dev];
	if (j->task.model_mask && !((j->task.model_mask >> d->model) & 1))
		return aidc_errf(e, AIDC_E_INVAL,
				 "job %" PRIu64 ": device %u is not of an accepted model", j->id,
				 a->dev);
	if (a->milli != j->task.dev_milli || d->free_milli < a->milli)
		return aidc_errf(e, AIDC_E_STATE,
				 "job %" PRIu64 ": device %u of node %s: %u milli wanted, %u free",
				 j->id, a->dev, s->nodes[a->node].name, a->milli, d->free_milli);
	return 0;
}

/* Checks a task's allocs (sorted, contiguous a[0 .. n)) and takes them. */
static int restore_task(struct sched *s, const struct sched_job *j, const struct sched_alloc *a,
			uint32_t n, struct aidc_err *e)
{
	const struct sched_node *nd = &s->nodes[a[0].node];
	uint32_t want = j->task.ndev ? j->task.ndev : 1;
	int rc;

	if (n != want)
		return aidc_errf(e, AIDC_E_INVAL,
				 "job %" PRIu64 ": task %u holds %u allocations, not %u", j->id,
				 a[0].task, n, want);
	for (uint32_t i = 0; i < n; i++) {
		if ((rc = check_restore_alloc(s, j, &a[i], &a[0], e)) != 0)
			return rc;
		if (i && a[i].dev == a[i - 1].dev)
			return aidc_errf(e, AIDC_E_INVAL,
					 "job %" PRIu64 ": task %u holds device %u twice", j->id,
					 a[0].task, a[i].dev);
	}
	if (nd->cpu_free_milli < j->task.cpu_milli || nd->mem_free_mib < j->task.mem_mib)
		return aidc_errf(e, AIDC_E_STATE,
				 "job %" PRIu64 ": node %s has no CPU or memory left for task %u",
				 j->id, nd->name, a[0].task);
	sched_allocs_apply(s, a, n, &j->task, 1);
	return 0;
}

int sched_job_restore(struct sched *s, uint32_t job, const struct sched_alloc *allocs, uint32_t n,
		      int64_t now_s, struct aidc_err *e)
{
	struct sched_job *j = live_job(s, job);
	uint32_t done = 0, t = 0;
	int rc = 0;

	if (!j)
		return aidc_errf(e, AIDC_E_NOTFOUND, "no job handle %u", job);
	if (j->running)
		return aidc_errf(e, AIDC_E_STATE, "job %" PRIu64 " is already running", j->id);
	if (!allocs || n > (uint64_t)j->ntasks * AIDC_MAX(j->task.ndev, 1u))
		return aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": %u allocations for %u tasks",
				 j->id, n, j->ntasks);
	AIDC_GROW(s->scr, s->cap_scr, (size_t)n + 1);
	memcpy(s->scr, allocs, n * sizeof *allocs);
	for (uint32_t i = 0; i < n; i++)
		if (j->task.ndev == 0)
			s->scr[i].milli = 0;
	qsort(s->scr, n, sizeof *s->scr, cmp_alloc);
	while (done < n && rc == 0) {
		uint32_t k = done;
		while (k < n && s->scr[k].task == s->scr[done].task)
			k++;
		if (s->scr[done].task != t)
			rc = aidc_errf(e, AIDC_E_INVAL,
				       "job %" PRIu64 ": task %u has no allocation", j->id, t);
		else if ((rc = restore_task(s, j, s->scr + done, k - done, e)) == 0)
			done = k, t++;
	}
	if (rc == 0 && t != j->ntasks)
		rc = aidc_errf(e, AIDC_E_INVAL, "job %" PRIu64 ": task %u has no allocation", j->id,
			       t);
	if (rc) {
		sched_allocs_apply(s, s->scr, done, &j->task, -1);
		return rc;
	}
	now_s = clamp_now(s, now_s);
	sched_queue_remove(s, job);
	sched_job_mark_started(s, job, now_s, s->scr, n);
	return 0;
}

int sched_job_cancel(struct sched *s, uint32_t job, int64_t now_s, struct aidc_err *e)
{
	struct sched_job *j = live_job(s, job);

	if (!j)
		return aidc_errf(e, AIDC_E_NOTFOUND, "no job handle %u", job);
	now_s = clamp_now(s, now_s);
	if (j->running) {
		job_stop(s, job, now_s);
	} else {
		sched_queue_remove(s, job);
		s->parts[j->part].use.jobs_pending--;
	}
	job_forget(s, job);
	return 0;
}

/* ---- accessors: a dead handle reads as a pending job with id 0 ---------------------- */

uint32_t sched_job_count(const struct sched *s)
{
	return s->njobs;
}

enum sched_job_state sched_job_state(const struct sched *s, uint32_t job)
{
	const struct sched_job *j = live_job(s, job);
	return j && j->running ? SCHED_JOB_RUNNING : SCHED_JOB_PENDING;
}

enum sched_reason sched_job_reason(const struct sched *s, uint32_t job)
{
	const struct sched_job *j = live_job(s, job);

	if (!j || j->running)
		return SCHED_REASON_NONE;
	if (s->hot[job].reason_pass == s->npasses && s->npasses)
		return (enum sched_reason)s->hot[job].reason;
	/* Not visited by the latest pass: a STRICT queue stopped before it. */
	return j->enq_pass < s->npasses ? SCHED_REASON_PRIORITY : SCHED_REASON_NONE;
}

int sched_job_set_id(struct sched *s, uint32_t job, uint64_t id, struct aidc_err *e)
{
	struct sched_job *j = live_job(s, job);
	if (!j)
		return aidc_errf(e, AIDC_E_NOTFOUND, "no live job %u", job);
	if (j->id == id)
		return 0;
	if (idmap_get(&s->ids, id) != UINT32_MAX)
		return aidc_errf(e, AIDC_E_EXISTS, "job %" PRIu64 " already exists", id);
	idmap_del(&s->ids, j->id);
	j->id = id;
	idmap_put(&s->ids, id, job);
	if (job < s->cap_hot)
		s->hot[job].id = id;
	return 0;
}

int sched_job_set_speed_class(struct sched *s, uint32_t job, uint32_t cls, struct aidc_err *e)
{
	struct sched_job *j = live_job(s, job);
	if (!j)
		return aidc_errf(e, AIDC_E_NOTFOUND, "no live job %u", job);
	if (cls > AIDC_MAX_SPEED_CLASSES)
		return aidc_errf(e, AIDC_E_INVAL, "speed class %u is over %u", cls,
				 AIDC_MAX_SPEED_CLASSES);
	j->speed_class = cls;
	return 0;
}

uint64_t sched_job_id(const struct sched *s, uint32_t job)
{
	const struct sched_job *j = live_job(s, job);
	return j ? j->id : 0;
}

int64_t sched_job_estimate(const struct sched *s, uint32_t job)
{
	const struct sched_job *j = live_job(s, job);
	return j ? sched_job_est(s, j) : 0;
}

uint32_t sched_job_preemptions(const struct sched *s, uint32_t job)
{
	const struct sched_job *j = live_job(s, job);
	return j ? j->preemptions : 0;
}

int sched_find_job(const struct sched *s, uint64_t id)
{
	uint32_t h = idmap_get(&s->ids, id);
	return h == UINT32_MAX ? -1 : (int)h;
}
