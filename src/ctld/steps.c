/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srun steps of multi-node batch jobs on the job's other nodes (docs/slurm.md
 * "srun inside a batch job"): the loop functions behind POST and
 * GET /v1/jobs/{id}/steps. srun, in the batch script on node 0, posts a
 * step (its command, environment and options as one document, opaque here)
 * naming the job's nodes it runs on; the step holders, the job's tasks on
 * those nodes (agent_launch.c), poll for it, run its tasks there and post
 * each node's report (exit statuses); srun polls for the reports, and posts
 * signals (forwarded, -K, its time limit), which the holders deliver once
 * each (sig_seq). No agent protocol is involved: the holders are the job's
 * own processes, inside its allocation.
 *
 * Authorization: only the job's own user (by uid; not admins, since a step
 * runs code as the job's user), only for a running multi-node batch job,
 * only on the job's nodes. A job that is not the caller's answers 404 as a
 * missing one.
 *
 * Steps live in memory only (a restarted controller forgets them; the
 * holders and srun then see 404s and end the step): at most
 * AIDC_MAX_LIVE_STEPS, AIDC_MAX_JOB_STEPS per job, each document at most
 * AIDC_MAX_STEP_BYTES. Steps of jobs that ended are dropped on the next step
 * request; each request costs O(live steps).
 */
#include <jansson.h>

#include "ctld/ctld_int.h"
#include "util/util.h"

static void step_free(struct ctld_step *s)
{
	for (uint32_t i = 0; i < s->nnodes; i++)
		aidc_free(s->reports[i]);
	aidc_free(s->reports);
	aidc_free(s->nodes);
	aidc_free(s->doc);
}

/* Drops the steps whose job is no longer running in that attempt. */
static void prune(struct ctld *c)
{
	size_t w = 0;
	for (size_t i = 0; i < c->nsteps; i++) {
		struct ctld_step *s = &c->steps[i];
		const struct ctld_job *j = ctld_job_find(c, s->job);
		if (!j || j->state != CTLD_JOB_RUNNING || j->attempt != s->attempt)
			step_free(s);
		else
			c->steps[w++] = *s;
	}
	c->nsteps = w;
}

/* The running multi-node batch job {id} of the caller, or NULL with m->err. */
static struct ctld_job *step_job(struct ctld *c, struct ctld_msg *m)
{
	int64_t id;
	struct ctld_job *j = NULL;
	if (aidc_parse_i64(m->req->params[0], 1, INT64_MAX, &id) == 0)
		j = ctld_job_find(c, (uint64_t)id);
	if (!j || j->uid != m->req->who.uid) {
		aidc_errf(&m->err, AIDC_E_NOTFOUND, "no job %.32s", m->req->params[0]);
		return NULL;
	}
	if (j->state != CTLD_JOB_RUNNING || !j->spec.slurm_env || j->ntasks < 2) {
		aidc_errf(&m->err, AIDC_E_STATE,
			  "job %" PRIu64 " is not a running multi-node batch job (%s)", j->id,
			  ctld_job_state_name(j->state));
		return NULL;
	}
	return j;
}

static struct ctld_step *step_find(struct ctld *c, uint64_t job, int64_t id)
{
	for (size_t i = 0; i < c->nsteps; i++)
		if (c->steps[i].job == job && c->steps[i].id == id)
			return &c->steps[i];
	return NULL;
}

/* The index of node k in the step, or -1. */
static int step_node(const struct ctld_step *s, int64_t k)
{
	for (uint32_t i = 0; i < s->nnodes; i++)
		if ((int64_t)s->nodes[i] == k)
			return (int)i;
	return -1;
}

/* {"op":"start","step":S,"nodes":[K,...],"doc":{...}} */
static int step_start(struct ctld *c, struct ctld_msg *m, const struct ctld_job *j, json_t *in,
		      int64_t id)
{
	json_t *nodes = json_object_get(in, "nodes"), *doc = json_object_get(in, "doc");
	size_t n = json_array_size(nodes), live = 0;
	if (!json_is_array(nodes) || n == 0 || n >= j->ntasks || !json_is_object(doc))
		return aidc_errf(&m->err, AIDC_E_INVAL,
				 "a step needs nodes (1..%u of the job's node numbers) and doc",
				 j->ntasks - 1);
	if (step_find(c, j->id, id))
		return aidc_errf(&m->err, AIDC_E_EXISTS, "step %" PRIu64 ".%" PRId64 " exists",
				 j->id, id);
	for (size_t i = 0; i < c->nsteps; i++)
		live += c->steps[i].job == j->id;
	if (live >= AIDC_MAX_JOB_STEPS || c->nsteps >= AIDC_MAX_LIVE_STEPS)
		return aidc_errf(&m->err, AIDC_E_LIMIT,
				 "too many running steps (at most %u per job, %u in all)",
				 AIDC_MAX_JOB_STEPS, AIDC_MAX_LIVE_STEPS);
	struct ctld_step s = {.job = j->id, .attempt = j->attempt, .id = id};
	s.nodes = aidc_calloc(n, sizeof *s.nodes);
	s.reports = aidc_calloc(n, sizeof *s.reports);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(nodes, i);
		json_int_t k = json_is_integer(v) ? json_integer_value(v) : 0;
		if (k < 1 || k >= (json_int_t)j->ntasks || step_node(&s, k) >= 0) {
			step_free(&s);
			return aidc_errf(&m->err, AIDC_E_INVAL,
					 "nodes: %lld is not one of the job's other nodes (1..%u), or "
					 "is named twice",
					 (long long)k, j->ntasks - 1);
		}
		s.nodes[s.nnodes++] = (uint32_t)k;
	}
	s.doc = json_dumps(doc, JSON_COMPACT);
	if (!s.doc) {
		step_free(&s);
		return aidc_errf(&m->err, AIDC_E_NOMEM, "step document");
	}
	c->steps = aidc_reallocarray(c->steps, c->nsteps + 1, sizeof *c->steps);
	c->steps[c->nsteps++] = s;
	aidc_buf_printf(&m->resp->body, "{\"ok\":true,\"step\":%" PRId64 "}", id);
	return CTLD_DONE;
}

/* signal, report and end of an existing step. */
static int step_op(struct ctld *c, struct ctld_msg *m, struct ctld_step *s, const char *op,
		   json_t *in)
{
	if (!strcmp(op, "signal")) {
		json_int_t sig = json_integer_value(json_object_get(in, "signal"));
		if (sig < 1 || sig > 64)
			return aidc_errf(&m->err, AIDC_E_INVAL, "signal: 1..64");
		s->sig = (int32_t)sig;
		s->sig_seq++;
	} else if (!strcmp(op, "report")) {
		int k = step_node(s, json_integer_value(json_object_get(in, "node")));
		json_t *rep = json_object_get(in, "report");
		if (k < 0 || !json_is_object(rep))
			return aidc_errf(&m->err, AIDC_E_INVAL,
					 "a report needs node (one of the step's) and report");
		if (!s->reports[k]) /* the first report of a node holds */
			s->reports[k] = json_dumps(rep, JSON_COMPACT);
	} else if (!strcmp(op, "end")) {
		step_free(s);
		*s = c->steps[--c->nsteps];
	} else {
		return aidc_errf(&m->err, AIDC_E_INVAL,
				 "op: '%.16s' is not start, signal, report or end", op);
	}
	aidc_buf_puts(&m->resp->body, "{\"ok\":true}");
	return CTLD_DONE;
}

int ctld_lf_steps_post(struct ctld *c, struct ctld_msg *m)
{
	prune(c);
	struct ctld_job *j = step_job(c, m);
	if (!j)
		return m->err.code;
	if (m->req->body_len > AIDC_MAX_STEP_BYTES)
		return aidc_errf(&m->err, AIDC_E_LIMIT, "a step document over %u bytes",
				 AIDC_MAX_STEP_BYTES);
	json_error_t je;
	json_t *in = json_loadb(m->req->body, m->req->body_len, JSON_REJECT_DUPLICATES, &je);
	const char *op = json_string_value(json_object_get(in, "op"));
	json_t *sid = json_object_get(in, "step");
	int rc;
	if (!json_is_object(in) || !op || !json_is_integer(sid) || json_integer_value(sid) < 0) {
		rc = aidc_errf(&m->err, AIDC_E_INVAL, "need a JSON object with op and step (>= 0)");
	} else if (!strcmp(op, "start")) {
		rc = step_start(c, m, j, in, json_integer_value(sid));
	} else {
		struct ctld_step *s = step_find(c, j->id, json_integer_value(sid));
		rc = s ? step_op(c, m, s, op, in)
		       : aidc_errf(&m->err, AIDC_E_NOTFOUND, "no step %" PRIu64 ".%lld", j->id,
				   (long long)json_integer_value(sid));
	}
	json_decref(in);
	return rc;
}

/* One step in GET's reply: for node k (>= 0) its document, else the reports. */
static void step_json(struct aidc_json *w, const struct ctld_step *s, int64_t k)
{
	aidc_json_obj_begin(w);
	aidc_json_ki64(w, "step", s->id);
	aidc_json_ki64(w, "signal", s->sig);
	aidc_json_ki64(w, "sig_seq", s->sig_seq);
	if (k >= 0) {
		aidc_json_key(w, "doc");
		aidc_json_raw(w, s->doc);
	} else {
		aidc_json_key(w, "nodes");
		aidc_json_arr_begin(w);
		for (uint32_t i = 0; i < s->nnodes; i++)
			aidc_json_i64(w, s->nodes[i]);
		aidc_json_arr_end(w);
		aidc_json_key(w, "reports");
		aidc_json_arr_begin(w);
		for (uint32_t i = 0; i < s->nnodes; i++)
			if (s->reports[i])
				aidc_json_raw(w, s->reports[i]);
			else
				aidc_json_null(w);
		aidc_json_arr_end(w);
	}
	aidc_json_obj_end(w);
}

/* GET /v1/jobs/{id}/steps[?node=K]: with K, the steps K runs and has not
 * reported (for its holder); without, every step with its reports (srun). */
int ctld_lf_steps_get(struct ctld *c, struct ctld_msg *m)
{
	prune(c);
	struct ctld_job *j = step_job(c, m);
	if (!j)
		return m->err.code;
	const char *node = api_query(m->req, "node");
	int64_t k = -1;
	if (node && aidc_parse_i64(node, 1, (int64_t)j->ntasks - 1, &k) != 0)
		return aidc_errf(&m->err, AIDC_E_INVAL, "node: 1..%u", j->ntasks - 1);
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_key(&w, "steps");
	aidc_json_arr_begin(&w);
	for (size_t i = 0; i < c->nsteps; i++) {
		const struct ctld_step *s = &c->steps[i];
		int at = k >= 0 ? step_node(s, k) : 0;
		if (s->job == j->id && at >= 0 && (k < 0 || !s->reports[at]))
			step_json(&w, s, k);
	}
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w) ? aidc_errf(&m->err, AIDC_E_LIMIT, "reply too large")
				    : CTLD_DONE;
}

void ctld_steps_release(struct ctld *c)
{
	for (size_t i = 0; i < c->nsteps; i++)
		step_free(&c->steps[i]);
	aidc_free(c->steps);
	c->steps = NULL;
	c->nsteps = 0;
}
