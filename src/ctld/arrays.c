/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job arrays (sbatch --array), Slurm's design: an array is ONE pending job
 * record (its id is the array's id) whose spec carries the indices not
 * started yet as compact ranges; the core sees it as one pending job with an
 * element's resources. When a pass starts it, a new job is split off for the
 * lowest pending index (its own id, array_job_id and array_task_id in its
 * spec, SLURM_ARRAY_* in its environment, %A %a written into its output
 * paths) and takes over the start; the record drops that index and queues
 * again while indices remain and fewer than its %LIMIT elements are live.
 * The element and the record are stored in the pass's unit of the group
 * transaction, so a restart neither loses nor repeats an element. The record
 * ends with its last element: completed, or failed when any element did not
 * complete (dependencies on the array id wait for all its elements).
 * Memory: one record per array plus one job per live element.
 */
#include <stdio.h>
#include <string.h>

#include "ctld/ctld_int.h"
#include "util/util.h"

#define ARRAY_ENV_VARS 6 /* SLURM_ARRAY_JOB_ID, _TASK_ID, _COUNT, _MIN, _MAX, _STEP */

int ctld_array_admit(struct api_job_submit *s, struct aidc_err *e)
{
	if (s->array_pending || s->array_limit || s->array_count || s->array_min || s->array_max ||
	    s->array_step || s->array_failed || s->array_job_id || s->array_task_id)
		return aidc_errf(e, AIDC_E_INVAL,
				 "array_pending, array_limit, array_count, array_min, array_max, "
				 "array_step, array_failed, array_job_id and array_task_id are the "
				 "controller's; give array");
	if (!s->array)
		return 0;
	struct aidc_aset set;
	int64_t lim;
	struct aidc_err ae = {0};
	int rc = aidc_aset_parse(s->array, &set, &lim, &ae);
	if (rc)
		return aidc_errf(e, rc, "array '%.64s': %s; nothing was submitted", s->array,
				 ae.msg);
	if (s->env.n + ARRAY_ENV_VARS > AIDC_MAX_ENV) {
		aidc_aset_free(&set);
		return aidc_errf(e, AIDC_E_LIMIT,
				 "array: more than %u environment entries with SLURM_ARRAY_*",
				 (unsigned)AIDC_MAX_ENV);
	}
	size_t n = aidc_aset_format_len(&set);
	s->array_pending = aidc_malloc(n + 1);
	aidc_aset_format(&set, s->array_pending, n + 1);
	s->array_limit = lim;
	s->array_count = set.count;
	aidc_aset_bounds(&set, &s->array_min, &s->array_max, &s->array_step);
	aidc_aset_free(&set);
	return 0;
}

int ctld_array_attach(struct ctld_job *j, struct aidc_err *e)
{
	if (!j->spec.array || j->spec.array_job_id || j->arr)
		return 0;
	j->arr = aidc_calloc(1, sizeof *j->arr);
	int rc = aidc_aset_read(j->spec.array_pending ? j->spec.array_pending : "", j->arr, e);
	if (rc) {
		aidc_free(j->arr);
		j->arr = NULL;
	}
	return rc;
}

bool ctld_array_may_queue(const struct ctld_job *j)
{
	if (!j->arr)
		return true;
	return j->arr->count > 0 &&
	       (!j->spec.array_limit ||
		(int64_t)j->arr_live - (int64_t)j->arr_waiting < j->spec.array_limit);
}

/* Whether %LIMIT leaves room for one more element of record m. */
static bool limit_room(const struct ctld_job *m)
{
	return !m->spec.array_limit ||
	       (int64_t)m->arr_live - (int64_t)m->arr_waiting < m->spec.array_limit;
}

bool ctld_array_unwait(struct ctld *c, struct ctld_job *el)
{
	if (!el->arr_wait)
		return true;
	struct ctld_job *m = ctld_job_find(c, (uint64_t)el->spec.array_job_id);
	el->arr_throttled = m && !limit_room(m);
	if (el->arr_throttled)
		return false;
	el->arr_wait = false;
	if (m)
		m->arr_waiting -= m->arr_waiting > 0;
	return true;
}

void ctld_array_rewait(struct ctld *c, struct ctld_job *el)
{
	if (!el->spec.array_job_id)
		return;
	struct ctld_job *m = ctld_job_find(c, (uint64_t)el->spec.array_job_id);
	if (el->arr_wait || el->state != CTLD_JOB_PENDING || el->attempt || el->start_s || !m)
		return;
	el->arr_wait = true;
	m->arr_waiting++;
}

/* The record's pending indices as text in its spec. */
static void pending_text(struct ctld_job *m)
{
	size_t n = aidc_aset_format_len(m->arr);
	char *t = aidc_malloc(n + 1);
	aidc_aset_format(m->arr, t, n + 1);
	aidc_free(m->spec.array_pending);
	m->spec.array_pending = t;
}

/* Stores the record with its pending indices and failed count as they are
 * in memory (a shed spec: the whole document read back, updated, written). */
static int record_store(struct ctld *c, struct ctld_job *m, struct aidc_err *e)
{
	pending_text(m);
	if (!m->spec_shed) {
		char *js = ctld_spec_to_json(&m->spec);
		if (!js)
			return aidc_errf(e, AIDC_E_LIMIT, "job %" PRIu64 ": spec too large", m->id);
		aidc_free(m->spec_json);
		m->spec_json = js;
		m->spec_bytes = (uint32_t)strlen(js);
		return ctld_job_persist(c, m, false, e);
	}
	struct api_job_submit tmp = {0};
	const struct api_job_submit *full;
	int rc = ctld_job_spec(c, m, &tmp, &full, e);
	if (rc == 0) {
		aidc_free(tmp.array_pending);
		tmp.array_pending = aidc_strdup(m->spec.array_pending);
		tmp.array_failed = m->spec.array_failed;
		m->spec_json = ctld_spec_to_json(&tmp);
		rc = m->spec_json
			 ? ctld_job_persist(c, m, false, e)
			 : aidc_errf(e, AIDC_E_LIMIT, "job %" PRIu64 ": spec too large", m->id);
		aidc_free(m->spec_json);
		m->spec_json = NULL;
	}
	api_decoded_release(&api_schema_job_submit, &tmp);
	return rc;
}

/* pat with %A (the array's id) and %a (the index) written; %% kept. */
static char *subst_paths(const char *pat, uint64_t aid, int64_t idx)
{
	if (!pat)
		return NULL;
	size_t cap = strlen(pat) * 11 + 1; /* each "%A" at most 20 digits */
	char *out = aidc_malloc(cap), *o = out;
	for (const char *p = pat; *p; p++) {
		if (*p == '%' && (p[1] == 'A' || p[1] == 'a')) {
			o += snprintf(o, cap - (size_t)(o - out), "%" PRId64,
				      p[1] == 'A' ? (int64_t)aid : idx);
			p++;
		} else if (*p == '%' && p[1]) {
			*o++ = *p++;
			*o++ = *p;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

static void env_add(struct api_strv *v, const char *k, int64_t x)
{
	char kv[64];
	snprintf(kv, sizeof kv, "%s=%" PRId64, k, x);
	v->v[v->n++] = aidc_strdup(kv);
}

/* An element's spec from a copy of its record's: one index, no array fields,
 * no request id, hold or dependency (the record had them), SLURM_ARRAY_*. */
static void element_spec(struct api_job_submit *s, const struct ctld_job *m, int64_t idx)
{
	char **owned[] = {&s->array, &s->array_pending, &s->request_id, &s->dependency};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(owned); i++) {
		aidc_free(*owned[i]);
		*owned[i] = NULL;
	}
	s->hold = false;
	s->array_limit = s->array_count = s->array_min = s->array_max = s->array_step = 0;
	s->array_failed = 0;
	s->array_job_id = (int64_t)m->id;
	s->array_task_id = idx;
	size_t k = 0; /* the submitter's own SLURM_ARRAY_* (sbatch in an array) go */
	for (size_t i = 0; i < s->env.n; i++) {
		if (strncmp(s->env.v[i], "SLURM_ARRAY_", 12) == 0)
			aidc_free(s->env.v[i]);
		else
			s->env.v[k++] = s->env.v[i];
	}
	s->env.n = k;
	s->env.v = aidc_reallocarray(s->env.v, k + ARRAY_ENV_VARS, sizeof *s->env.v);
	env_add(&s->env, "SLURM_ARRAY_JOB_ID", (int64_t)m->id);
	env_add(&s->env, "SLURM_ARRAY_TASK_ID", idx);
	env_add(&s->env, "SLURM_ARRAY_TASK_COUNT", m->spec.array_count);
	env_add(&s->env, "SLURM_ARRAY_TASK_MIN", m->spec.array_min);
	env_add(&s->env, "SLURM_ARRAY_TASK_MAX", m->spec.array_max);
	env_add(&s->env, "SLURM_ARRAY_TASK_STEP", m->spec.array_step);
	char *o = subst_paths(s->stdout_path, m->id, idx);
	char *er = subst_paths(s->stderr_path, m->id, idx);
	aidc_free(s->stdout_path);
	aidc_free(s->stderr_path);
	s->stdout_path = o;
	s->stderr_path = er;
}

/* The element's job record (not yet stored or listed). */
static struct ctld_job *element_new(struct ctld *c, const struct ctld_job *m, int64_t idx,
				    const char *doc, struct aidc_err *e)
{
	struct ctld_job *el = aidc_calloc(1, sizeof *el);
	el->handle = -1;
	if (api_decode(&api_schema_job_submit, doc, strlen(doc), &el->spec, e) != 0) {
		ctld_job_free(el);
		return NULL;
	}
	element_spec(&el->spec, m, idx);
	el->id = c->next_job_id;
	ctld_job_new_log_key(el->log_key);
	el->uid = m->uid;
	el->gid = m->gid;
	el->user = aidc_strdup(m->user);
	el->name = aidc_strdup(m->name);
	el->spec_json = ctld_spec_to_json(&el->spec);
	if (!el->spec_json) {
		aidc_errf(e, AIDC_E_LIMIT, "job %" PRIu64 "_%" PRId64 ": spec too large", m->id,
			  idx);
		ctld_job_free(el);
		return NULL;
	}
	el->spec_bytes = (uint32_t)strlen(el->spec_json);
	el->has_script = el->spec.script != NULL;
	el->state = CTLD_JOB_PENDING;
	el->submit_s = m->submit_s; /* as Slurm: the array's submit time */
	el->ntasks = (uint32_t)el->spec.ntasks;
	el->requeue_on_node_failure = m->requeue_on_node_failure;
	return el;
}

/* Back to the indices before a split (undo text saved by it). */
static void record_restore(struct ctld_job *m, const char *undo)
{
	aidc_aset_free(m->arr);
	if (aidc_aset_read(undo, m->arr, NULL) != 0)
		aidc_log(AIDC_LOG_ERROR, "job %" PRIu64 ": restoring its indices", m->id);
	aidc_free(m->spec.array_pending);
	m->spec.array_pending = aidc_strdup(undo);
	if (!m->spec_shed) {
		char *js = ctld_spec_to_json(&m->spec);
		if (js) {
			aidc_free(m->spec_json);
			m->spec_json = js;
			m->spec_bytes = (uint32_t)strlen(js);
		}
	}
}

struct ctld_job *ctld_array_split(struct ctld *c, struct ctld_job *m, struct aidc_err *e)
{
	if (!m->arr->count || m->handle < 0) {
		aidc_errf(e, AIDC_E_INTERNAL, "job %" PRIu64 ": started with no index", m->id);
		return NULL;
	}
	struct api_job_submit tmp = {0};
	const struct api_job_submit *full;
	if (ctld_job_spec(c, m, &tmp, &full, e) != 0)
		return NULL;
	char *doc = ctld_spec_to_json(full);
	api_decoded_release(&api_schema_job_submit, &tmp);
	int64_t idx = m->arr->r[0].lo;
	struct ctld_job *el = doc ? element_new(c, m, idx, doc, e) : NULL;
	aidc_free(doc);
	if (!el)
		return NULL;
	char *undo = aidc_strdup(m->spec.array_pending ? m->spec.array_pending : "");
	aidc_aset_pop(m->arr);
	if (sched_job_set_id(c->sched, (uint32_t)m->handle, el->id, e) != 0 ||
	    ctld_hwm_raise(c, el->id + 1, e) != 0 || ctld_job_insert_row(c, el, e) != 0 ||
	    record_store(c, m, e) != 0) {
		sched_job_set_id(c->sched, (uint32_t)m->handle, m->id, NULL);
		record_restore(m, undo);
		aidc_free(undo);
		ctld_job_free(el);
		return NULL;
	}
	c->next_job_id++;
	ctld_jobs_append(c, el);
	m->arr_live++;
	el->arr_new = true;
	el->arr_undo = undo;
	return el;
}

struct ctld_job *ctld_array_unsplit(struct ctld *c, struct ctld_job *el)
{
	struct ctld_job *m = ctld_job_find(c, (uint64_t)el->spec.array_job_id);
	for (size_t i = c->njobs; i-- > 0;)
		if (c->jobs[i] == el) {
			memmove(&c->jobs[i], &c->jobs[i + 1], (c->njobs - i - 1) * sizeof *c->jobs);
			c->njobs--;
			break;
		}
	if (el->id < c->next_job_id)
		c->next_job_id = el->id;
	if (el->handle >= 0)
		sched_job_set_id(c->sched, (uint32_t)el->handle, m ? m->id : el->id, NULL);
	if (m) {
		record_restore(m, el->arr_undo);
		m->arr_live -= m->arr_live > 0;
	}
	ctld_job_free(el);
	return m;
}

/* Queues record m when it may run another element, else notes why not;
 * whether it was queued. */
static bool record_queue(struct ctld *c, struct ctld_job *m)
{
	if (m->state != CTLD_JOB_PENDING || m->held || m->dep_wait || m->begin_wait ||
	    m->handle >= 0)
		return false;
	m->arr_throttled = m->arr->count > 0 && !ctld_array_may_queue(m);
	if (!ctld_array_may_queue(m))
		return false;
	if (ctld_array_has_corr(m)) { /* aftercorr: its next index is checked first */
		m->dep_wait = true;
		c->need_pass = true;
		return false;
	}
	struct aidc_err e = {0};
	if (ctld_sched_submit(c, m, &e) != 0) {
		aidc_log(AIDC_LOG_WARN, "job %" PRIu64 ": queueing the array again: %s", m->id,
			 e.msg);
		return false;
	}
	c->need_pass = true;
	return true;
}

size_t ctld_array_after_starts(struct ctld *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->dec.n; i++) {
		const struct sched_decision *d = &c->dec.v[i];
		struct ctld_job *el = d->kind == SCHED_DECIDE_START ? c->by_handle[d->job] : NULL;
		if (!el || !el->arr_new)
			continue;
		el->arr_new = false;
		aidc_free(el->arr_undo);
		el->arr_undo = NULL;
		struct ctld_job *m = ctld_job_find(c, (uint64_t)el->spec.array_job_id);
		if (m && m->arr)
			n += record_queue(c, m);
	}
	return n;
}

/* Queues waiting element el (released) when its record's %LIMIT allows. */
static void element_queue(struct ctld *c, struct ctld_job *el)
{
	if (el->state != CTLD_JOB_PENDING || el->handle >= 0 || el->dep_wait || el->begin_wait ||
	    !ctld_array_unwait(c, el))
		return;
	struct aidc_err e = {0};
	if (ctld_sched_submit(c, el, &e) != 0) {
		aidc_log(AIDC_LOG_WARN, "job %" PRIu64 ": queueing the element: %s", el->id, e.msg);
		ctld_array_rewait(c, el);
		return;
	}
	c->need_pass = true;
}

void ctld_array_refill(struct ctld *c)
{
	c->arr_refill = false;
	for (size_t i = 0; i < c->njobs; i++) {
		struct ctld_job *m = c->jobs[i];
		if (m->arr && m->arr_throttled)
			record_queue(c, m);
		else if (m->arr_wait && m->arr_throttled && !m->held)
			element_queue(c, m);
	}
}

/* The record's last element ended (or its last pending index was dropped). */
static int record_end(struct ctld *c, struct ctld_job *m, struct aidc_err *e)
{
	if (m->handle >= 0)
		ctld_sched_release(c, m, false);
	m->state = m->spec.array_failed ? CTLD_JOB_FAILED : CTLD_JOB_COMPLETED;
	m->exit_code = m->spec.array_failed ? 1 : 0;
	m->end_s = ctld_now_s();
	char why[96];
	snprintf(why, sizeof why, "%" PRId64 " of %" PRId64 " elements did not complete",
		 m->spec.array_failed, m->spec.array_count);
	aidc_free(m->reason);
	m->reason = m->spec.array_failed ? aidc_strdup(why) : NULL;
	ctld_job_ended_count(c, m);
	return record_store(c, m, e);
}

int ctld_array_element_ended(struct ctld *c, struct ctld_job *el, struct aidc_err *e)
{
	if (!el->spec.array_job_id)
		return 0;
	struct ctld_job *m = ctld_job_find(c, (uint64_t)el->spec.array_job_id);
	if (!m || !m->arr || m->state != CTLD_JOB_PENDING)
		return 0; /* the array was cancelled: nothing to count */
	m->arr_live -= m->arr_live > 0;
	if (el->arr_wait) {
		el->arr_wait = false;
		m->arr_waiting -= m->arr_waiting > 0;
	}
	bool bad = el->state != CTLD_JOB_COMPLETED;
	m->spec.array_failed += bad;
	if (!m->arr->count && !m->arr_live)
		return record_end(c, m, e);
	if (m->arr_throttled || m->arr_waiting)
		c->arr_refill = true;
	return bad ? record_store(c, m, e) : 0;
}

void ctld_arrays_restore(struct ctld *c)
{
	for (size_t i = 0; i < c->njobs; i++) {
		const struct ctld_job *el = c->jobs[i];
		if (!el->spec.array_job_id || ctld_job_ended(el))
			continue;
		struct ctld_job *m = ctld_job_find(c, (uint64_t)el->spec.array_job_id);
		if (m && m->arr)
			m->arr_live++;
		/* Never started: split off by a hold; it waits (held), or queues
		 * again below when %LIMIT allows (it was released). */
		if (m && m->arr && el->state == CTLD_JOB_PENDING && !el->attempt && !el->start_s) {
			c->jobs[i]->arr_wait = true;
			m->arr_waiting++;
		}
	}
	for (size_t i = 0; i < c->njobs; i++) {
		struct ctld_job *j = c->jobs[i];
		if (j->arr_wait && !j->held && !j->spec.dependency)
			ctld_array_unwait(c, j); /* released: it queues (or waits for %LIMIT) */
	}
	for (size_t i = 0; i < c->njobs; i++) {
		struct ctld_job *m = c->jobs[i];
		if (m->arr)
			m->arr_throttled = m->arr->count > 0 && !ctld_array_may_queue(m);
	}
}

int ctld_array_cancel_all(struct ctld *c, struct ctld_job *m, const char *why, struct aidc_err *e)
{
	/* The record first: its elements' ends then count for nothing. */
	int rc = ctld_job_stop(c, m, CTLD_JOB_CANCELLED, why, e);
	for (size_t i = 0; rc == 0 && i < c->njobs; i++) {
		struct ctld_job *el = c->jobs[i];
		if ((uint64_t)el->spec.array_job_id == m->id && !ctld_job_ended(el) &&
		    !(el->state == CTLD_JOB_STOPPING && el->target == CTLD_JOB_CANCELLED))
			rc = ctld_job_stop(c, el, CTLD_JOB_CANCELLED, why, e);
	}
	return rc;
}

/* "A_T" -> A and T; -1 when it is not that. */
static int parse_ref(const char *ref, uint64_t *aid, int64_t *idx)
{
	const char *us = strchr(ref, '_');
	char a[32];
	int64_t v;
	if (!us || (size_t)(us - ref) >= sizeof a)
		return -1;
	memcpy(a, ref, (size_t)(us - ref));
	a[us - ref] = '\0';
	if (aidc_parse_i64(a, 1, INT64_MAX, &v) != 0 ||
	    aidc_parse_i64(us + 1, 0, AIDC_MAX_ARRAY_INDEX, idx) != 0)
		return -1;
	*aid = (uint64_t)v;
	return 0;
}

/* The element for index idx of array aid that has not ended, or NULL. A
 * scan of the live jobs (as a cancel's). */
static struct ctld_job *live_element(struct ctld *c, uint64_t aid, int64_t idx)
{
	for (size_t i = 0; i < c->njobs; i++) {
		struct ctld_job *el = c->jobs[i];
		if ((uint64_t)el->spec.array_job_id == aid && el->spec.array_task_id == idx &&
		    !ctld_job_ended(el))
			return el;
	}
	return NULL;
}

/* Drops pending index idx of record m (cancelled: counted as not completed). */
static int drop_index(struct ctld *c, struct ctld_job *m, int64_t idx, struct aidc_err *e)
{
	char *undo = aidc_strdup(m->spec.array_pending ? m->spec.array_pending : "");
	aidc_aset_remove(m->arr, idx);
	m->spec.array_failed++;
	int rc = ctld_tx_begin(c, e);
	if (rc == 0) {
		rc = !m->arr->count && !m->arr_live ? record_end(c, m, e) : record_store(c, m, e);
		if (rc)
			ctld_tx_rollback(c);
		else
			rc = ctld_tx_release(c, e);
	}
	if (rc) {
		m->spec.array_failed--;
		record_restore(m, undo);
		m->state = CTLD_JOB_PENDING;
	} else if (m->handle >= 0 && (!m->arr->count || ctld_array_has_corr(m))) {
		ctld_sched_release(c, m, false);
		m->dep_wait = m->arr->count > 0 && m->state == CTLD_JOB_PENDING;
	}
	aidc_free(undo);
	return rc;
}

int ctld_array_cancel_one(struct ctld *c, const struct api_identity *who, const char *ref,
			  const char *why, struct ctld_job **out, struct aidc_err *e)
{
	uint64_t aid;
	int64_t idx;
	if (parse_ref(ref, &aid, &idx) != 0)
		return aidc_errf(e, AIDC_E_NOTFOUND, "no job %.32s", ref);
	struct ctld_job *el = live_element(c, aid, idx);
	if (el && (who->admin || el->uid == who->uid)) {
		*out = el;
		return ctld_job_stop(c, el, CTLD_JOB_CANCELLED, why, e);
	}
	struct ctld_job *m = ctld_job_find(c, aid);
	if (!m || !m->arr || m->state != CTLD_JOB_PENDING || (!who->admin && m->uid != who->uid) ||
	    !aidc_aset_contains(m->arr, idx))
		return aidc_errf(e, AIDC_E_NOTFOUND, "no pending or running job %.32s", ref);
	*out = m;
	return drop_index(c, m, idx, e);
}

/* An ended element's row: its spec names its array and index (the
 * controller writes both keys together, in this order). Rows come newest
 * first; every element's id is above its array's, so the walk stops there. */
struct ref_scan {
	uint64_t aid, found;
	int state;
	char needle[80];
};

static int scan_row(void *ctx, const struct store_job *r)
{
	struct ref_scan *s = ctx;
	if (r->id <= s->aid)
		return 1;
	const char *p = r->spec_json ? strstr(r->spec_json, s->needle) : NULL;
	char next = p ? p[strlen(s->needle)] : '\0';
	if (next != ',' && next != '}')
		return 0;
	s->found = r->id;
	s->state = r->state;
	return 1;
}

/* The stored element for index idx of array aid: its id (0 if none). */
static uint64_t scan_element(struct ctld *c, uint64_t aid, int64_t idx, int *state)
{
	struct ref_scan s = {.aid = aid};
	snprintf(s.needle, sizeof s.needle, "\"array_job_id\":%" PRIu64 ",\"array_task_id\":%" PRId64,
		 aid, idx);
	struct store_job_query q = {.state_mask = ~UINT64_C(0), .uid = -1, .limit = INT64_MAX};
	if (c->st->ops->job_query(c->st, &q, scan_row, &s, NULL) < 0)
		return 0;
	*state = s.state;
	return s.found;
}

struct ctld_job *ctld_array_find_ref(struct ctld *c, const char *ref, struct ctld_job **tmp)
{
	uint64_t aid;
	int64_t idx;
	if (parse_ref(ref, &aid, &idx) != 0)
		return NULL;
	struct ctld_job *el = live_element(c, aid, idx);
	if (el)
		return el;
	struct ctld_job *m = ctld_job_find(c, aid);
	if (m && m->arr && m->state == CTLD_JOB_PENDING && aidc_aset_contains(m->arr, idx))
		return m;
	int st;
	uint64_t found = scan_element(c, aid, idx, &st);
	if (!found || ctld_job_load(c, found, tmp, NULL) != 0)
		return NULL;
	if ((uint64_t)(*tmp)->spec.array_job_id == aid && (*tmp)->spec.array_task_id == idx)
		return *tmp;
	ctld_job_free(*tmp);
	*tmp = NULL;
	return NULL;
}

/* Index idx of pending record m as an element of its own, held or (m held,
 * released) queued when %LIMIT allows: stored with m's record in one unit. */
/* The element keeps its array's dependency while the array waits for it,
 * or with aftercorr (then for its own index; never: it cannot hold for it).
 * Stored, so a restart checks it again. */
static int keep_dependency(struct ctld_job *el, const struct ctld_job *m, bool never,
			   struct aidc_err *e)
{
	el->spec.dependency = aidc_strdup(m->spec.dependency);
	char *js = ctld_spec_to_json(&el->spec);
	if (!js)
		return aidc_errf(e, AIDC_E_LIMIT, "job %" PRIu64 ": spec too large", el->id);
	aidc_free(el->spec_json);
	el->spec_json = js;
	el->spec_bytes = (uint32_t)strlen(js);
	el->dep_wait = true;
	el->dep_never = never;
	el->spec.kill_on_invalid_dep = m->spec.kill_on_invalid_dep && !never;
	return 0;
}

/* How split_off leaves the new element: held, queued (when %LIMIT allows),
 * or pending with its array's dependency, which never holds for its index. */
enum { SPLIT_HELD, SPLIT_QUEUED, SPLIT_DEP_NEVER };

static int split_off(struct ctld *c, struct ctld_job *m, int64_t idx, int how,
		     struct ctld_job **out, struct aidc_err *e)
{
	bool held = how == SPLIT_HELD;
	struct api_job_submit tmp = {0};
	const struct api_job_submit *full;
	int rc = ctld_job_spec(c, m, &tmp, &full, e);
	if (rc)
		return rc;
	char *doc = ctld_spec_to_json(full);
	api_decoded_release(&api_schema_job_submit, &tmp);
	struct ctld_job *el = doc ? element_new(c, m, idx, doc, e) : NULL;
	aidc_free(doc);
	if (!el)
		return e->code ? e->code : AIDC_E_LIMIT;
	if (m->spec.dependency && (m->dep_wait || ctld_array_has_corr(m)) &&
	    (rc = keep_dependency(el, m, how == SPLIT_DEP_NEVER, e)) != 0) {
		ctld_job_free(el);
		return rc;
	}
	el->held = held;
	el->reason = held ? aidc_strdup(CTLD_HELD_REASON) : NULL;
	el->begin_wait = m->begin_wait; /* its array's --begin, stored in its spec */
	char *undo = aidc_strdup(m->spec.array_pending ? m->spec.array_pending : "");
	aidc_aset_remove(m->arr, idx);
	if ((rc = ctld_tx_begin(c, e)) == 0) {
		if ((rc = ctld_hwm_raise(c, el->id + 1, e)) != 0 ||
		    (rc = ctld_job_insert_row(c, el, e)) != 0 || (rc = record_store(c, m, e)) != 0)
			ctld_tx_rollback(c);
		else
			rc = ctld_tx_release(c, e);
	}
	if (rc) {
		record_restore(m, undo);
		aidc_free(undo);
		ctld_job_free(el);
		return rc;
	}
	aidc_free(undo);
	c->next_job_id++;
	ctld_jobs_append(c, el);
	m->arr_live++;
	m->arr_waiting++;
	el->arr_wait = true;
	if (m->handle >= 0 && (!m->arr->count || ctld_array_has_corr(m))) {
		/* nothing left for it to start, or aftercorr: the next index first */
		ctld_sched_release(c, m, false);
		m->dep_wait = m->arr->count > 0;
	}
	if (how == SPLIT_QUEUED)
		element_queue(c, el);
	*out = el;
	return 0;
}


int ctld_array_hold_one(struct ctld *c, const struct api_identity *who, const char *ref,
			bool hold, struct ctld_job **out, struct aidc_err *e)
{
	uint64_t aid;
	int64_t idx;
	if (parse_ref(ref, &aid, &idx) != 0)
		return aidc_errf(e, AIDC_E_NOTFOUND, "no job %.32s", ref);
	struct ctld_job *el = live_element(c, aid, idx);
	if (el && (who->admin || el->uid == who->uid)) {
		*out = el;
		return hold ? ctld_job_hold(c, el, e) : ctld_job_release(c, el, e);
	}
	struct ctld_job *m = ctld_job_find(c, aid);
	if (!m || !m->arr || m->state != CTLD_JOB_PENDING || (!who->admin && m->uid != who->uid) ||
	    !aidc_aset_contains(m->arr, idx))
		return aidc_errf(e, AIDC_E_NOTFOUND, "no pending or running job %.32s", ref);
	if (!hold && !m->held)
		return aidc_errf(e, AIDC_E_STATE,
				 "job %.32s is not held (a pending index of array %" PRIu64 ")", ref,
				 m->id);
	return split_off(c, m, idx, hold ? SPLIT_HELD : SPLIT_QUEUED, out, e);
}

int ctld_array_hold_all(struct ctld *c, struct ctld_job *m, bool hold, struct aidc_err *e)
{
	size_t n = 0;
	int rc = 0;
	if (m->held != hold) {
		rc = hold ? ctld_job_hold(c, m, e) : ctld_job_release(c, m, e);
		n++;
	}
	for (size_t i = 0; rc == 0 && i < c->njobs; i++) {
		struct ctld_job *el = c->jobs[i];
		if ((uint64_t)el->spec.array_job_id != m->id || el->state != CTLD_JOB_PENDING ||
		    el->held == hold)
			continue;
		rc = hold ? ctld_job_hold(c, el, e) : ctld_job_release(c, el, e);
		n++;
	}
	if (rc == 0 && n == 0 && !hold)
		rc = aidc_errf(e, AIDC_E_STATE,
			       "job %" PRIu64 " is not held, nor is any of its pending elements",
			       m->id);
	return rc;
}

/* ---- aftercorr --------------------------------------------------------------- */

bool ctld_array_has_corr(const struct ctld_job *j)
{
	return j->spec.dependency && strstr(j->spec.dependency, "aftercorr");
}

int64_t ctld_array_corr_index(const struct ctld_job *j)
{
	if (j->spec.array_job_id)
		return j->spec.array_task_id;
	return j->arr && j->arr->count ? j->arr->r[0].lo : -1;
}

/* Whether idx is one of the indices array record m was submitted with. */
static bool submitted_index(const struct ctld_job *m, int64_t idx)
{
	struct aidc_aset set;
	int64_t lim;
	if (!m->spec.array || aidc_aset_parse(m->spec.array, &set, &lim, NULL) != 0)
		return false;
	bool in = aidc_aset_contains(&set, idx);
	aidc_aset_free(&set);
	return in;
}

int ctld_array_corr_state(struct ctld *c, uint64_t aid, int64_t idx, int *state)
{
	struct ctld_job *el = live_element(c, aid, idx);
	if (el) {
		*state = el->state;
		return 0;
	}
	struct ctld_job *m = ctld_job_find(c, aid);
	if (m && (!m->arr || !submitted_index(m, idx)))
		return AIDC_E_NOTFOUND; /* not an array, or not one of its indices */
	if (m && m->state == CTLD_JOB_PENDING && aidc_aset_contains(m->arr, idx)) {
		*state = CTLD_JOB_PENDING;
		return 0;
	}
	return scan_element(c, aid, idx, state) ? 0 : AIDC_E_NOTFOUND;
}

int ctld_array_corr_never(struct ctld *c, struct ctld_job *m, const char *why)
{
	int64_t idx = ctld_array_corr_index(m);
	struct aidc_err e = {0};
	struct ctld_job *el = NULL;
	aidc_log(AIDC_LOG_INFO, "job %" PRIu64 "_%" PRId64 ": dependency never satisfied: %s",
		 m->id, idx, why);
	/* As Slurm: that index alone waits (DependencyNeverSatisfied), or is
	 * cancelled with --kill-on-invalid-dep; the others go on. */
	int rc = m->spec.kill_on_invalid_dep ? drop_index(c, m, idx, &e)
					     : split_off(c, m, idx, SPLIT_DEP_NEVER, &el, &e);
	if (rc)
		aidc_log(AIDC_LOG_WARN, "job %" PRIu64 "_%" PRId64 ": %s", m->id, idx, e.msg);
	return rc;
}
