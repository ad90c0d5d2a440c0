/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srun steps of batch jobs (docs/slurm.md "srun inside a batch job", "Job
 * steps"): the loop functions behind POST and GET /v1/jobs/{id}/steps and
 * GET /v1/steps. srun, in the batch script on node 0, registers every step
 * (its name, tasks, nodes and limit; for a step on more nodes also the
 * document the holders run: command, environment and options, opaque here)
 * and ends it with its exit status. The step holders, the job's tasks on
 * its other nodes (agent_launch.c), poll for the steps they run, run their
 * tasks there and post each node's report (exit statuses); srun polls for
 * the reports, and posts signals (forwarded, -K, its time limit), which the
 * holders deliver once each (sig_seq). `scancel JOB.STEP` (op cancel, the
 * job's user or an admin) marks a step cancelled and signals SIGTERM: srun
 * sees the mark at its next poll and ends the step. Each holder's runner
 * stores its node's output of the step here (op output, a file of its own
 * in the job's log directory), so steps running on a node at once never
 * share one. No agent protocol is involved: srun and the holders are the
 * job's own processes.
 *
 * Authorization: only the job's own user (by uid; not admins, since a step
 * runs code as the job's user), only for a running batch job, only on the
 * job's nodes; cancel and the listings also for admins. A job that is not
 * the caller's answers 404 as a missing one.
 *
 * Persistence (store schema 8): every change of a step is written, in the
 * request's unit of the group transaction, as one versioned document per
 * (job, step); a restarted controller loads the live ones (srun and the
 * holders go on polling through the restart). An ended step is kept in the
 * store only (sacct reads it there); a step whose job stopped running before
 * srun ended it is ended by the next step request (state cancelled, timeout
 * or node_fail, as its job). At most AIDC_MAX_LIVE_STEPS live steps,
 * AIDC_MAX_JOB_STEPS per job, each holders' document at most
 * AIDC_MAX_STEP_BYTES; each request costs O(live steps).
 */
#include <jansson.h>
#include <signal.h>
#include <sys/stat.h>

#include "ctld/ctld_int.h"
#include "util/util.h"

#define STEP_DOC_VERSION 1
/* A lost step (its srun's lease ran out): SIGKILL this long after its
 * SIGTERM, and it is ended this long after the SIGKILL at the latest (the
 * holders poll every 200 ms), ms. */
#define STEP_KILL_GRACE_MS 10000
#define STEP_KILL_DELIVER_MS 2000
/* GET /v1/steps?job=: ids per request. */
#define STEP_LIST_MAX_JOBS 256

static void step_free(struct ctld_step *s)
{
	for (uint32_t i = 0; s->reports && i < s->nnodes; i++)
		aidc_free(s->reports[i]);
	aidc_free(s->reports);
	aidc_free(s->out_cut);
	aidc_free(s->local_report);
	aidc_free(s->nodes);
	aidc_free(s->doc);
	aidc_free(s->name);
	aidc_free(s->nodelist);
}

/* "nodes" (the job's node indexes the step runs on) and "reports" (each
 * node's end report, or null) of s: the stored document and the listing
 * srun and the holders poll both carry them. */
static void step_nodes_reports(struct aidc_json *w, const struct ctld_step *s)
{
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
	if (s->local_report) {
		aidc_json_key(w, "local");
		aidc_json_raw(w, s->local_report);
	}
}

/* The stored document of s: live, or ended (state, end_s, exit, signal). */
static void step_record(struct aidc_json *w, const struct ctld_step *s, const char *state,
			int64_t end_s, int64_t code, int64_t sig)
{
	aidc_json_obj_begin(w);
	aidc_json_ki64(w, "v", STEP_DOC_VERSION);
	aidc_json_ki64(w, "attempt", s->attempt);
	aidc_json_kstr(w, "name", s->name ? s->name : "");
	aidc_json_kstr(w, "nodelist", s->nodelist ? s->nodelist : "");
	aidc_json_ki64(w, "ntasks", s->ntasks);
	aidc_json_ki64(w, "nnodes", s->step_nodes);
	aidc_json_ki64(w, "cpus", s->cpus);
	aidc_json_ki64(w, "start_s", s->start_s);
	aidc_json_ki64(w, "time_limit_s", s->limit_s);
	aidc_json_kstr(w, "state", state);
	aidc_json_ki64(w, "end_s", end_s);
	aidc_json_ki64(w, "exit_code", code);
	aidc_json_ki64(w, "signal", sig);
	if (!end_s) { /* what srun and the holders need while it runs */
		aidc_json_kbool(w, "cancelled", s->cancelled);
		aidc_json_ki64(w, "sig", s->sig);
		aidc_json_ki64(w, "sig_seq", s->sig_seq);
		step_nodes_reports(w, s);
		if (s->doc) {
			aidc_json_key(w, "doc");
			aidc_json_raw(w, s->doc);
		}
	}
	aidc_json_obj_end(w);
}

/* Writes s (live when end_s is 0) in a unit of the group transaction. */
static int step_store(struct ctld *c, const struct ctld_step *s, const char *state, int64_t end_s,
		      int64_t code, int64_t sig, struct aidc_err *e)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 4 * AIDC_MAX_STEP_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	step_record(&w, s, state, end_s, code, sig);
	int rc = aidc_json_finish(&w) ? aidc_errf(e, AIDC_E_LIMIT, "step record over %u bytes",
						  4 * AIDC_MAX_STEP_BYTES)
				      : ctld_tx_begin(c, e);
	if (rc == 0) {
		rc = c->st->ops->step_put(c->st, s->job, s->id, end_s == 0, aidc_buf_str(&b), e);
		if (rc)
			ctld_tx_rollback(c);
		else
			rc = ctld_tx_release(c, e);
	}
	aidc_buf_release(&b);
	return rc;
}

/* The state a step ends in when its job stopped running under it. */
static const char *orphan_state(struct ctld *c, const struct ctld_step *s, int64_t *end_s)
{
	struct ctld_job *j = ctld_job_find(c, s->job), *tmp = NULL;
	if (!j && ctld_job_load(c, s->job, &tmp, NULL) == 0)
		j = tmp;
	int st = !j ? CTLD_JOB_CANCELLED : j->state == CTLD_JOB_STOPPING ? j->target : j->state;
	*end_s = j && j->end_s && j->attempt == s->attempt ? j->end_s : ctld_now_s();
	ctld_job_free(tmp);
	return st == CTLD_JOB_TIMEOUT ? "timeout" : st == CTLD_JOB_NODE_FAIL ? "node_fail"
									   : "cancelled";
}

/* Ends the steps whose job is no longer running in that attempt (a store
 * error keeps the step for the next call). */
static void prune(struct ctld *c)
{
	size_t w = 0;
	for (size_t i = 0; i < c->nsteps; i++) {
		struct ctld_step *s = &c->steps[i];
		const struct ctld_job *j = ctld_job_find(c, s->job);
		struct aidc_err e = {0};
		int64_t end_s = 0;
		if (j && j->state == CTLD_JOB_RUNNING && j->attempt == s->attempt) {
			c->steps[w++] = *s;
			continue;
		}
		const char *state = orphan_state(c, s, &end_s);
		if (step_store(c, s, state, end_s, 0, SIGTERM, &e)) {
			aidc_log(AIDC_LOG_WARN, "step %" PRIu64 ".%" PRId64 ": not ended: %s", s->job,
				 s->id, e.msg);
			c->steps[w++] = *s;
		} else {
			step_free(s);
		}
	}
	c->nsteps = w;
}

/* The running batch job {id} of the caller (or, with admin_too, of anyone
 * for an admin), or NULL with m->err. */
static struct ctld_job *step_job(struct ctld *c, struct ctld_msg *m, bool admin_too)
{
	int64_t id;
	struct ctld_job *j = NULL, *tmp = NULL;
	bool may = false;
	if (aidc_parse_i64(m->req->params[0], 1, INT64_MAX, &id) == 0) {
		j = ctld_job_find(c, (uint64_t)id);
		if (!j && admin_too && ctld_job_load(c, (uint64_t)id, &tmp, NULL) == 0)
			j = tmp;
	}
	may = j && (j->uid == m->req->who.uid || (admin_too && m->req->who.admin));
	if (!may) {
		aidc_errf(&m->err, AIDC_E_NOTFOUND, "no job %.32s", m->req->params[0]);
		j = NULL;
	} else if (j->state != CTLD_JOB_RUNNING || !j->spec.slurm_env) {
		aidc_errf(&m->err, AIDC_E_STATE,
			  "job %" PRIu64 " is not a running batch job (aidc sbatch) (%s)", j->id,
			  ctld_job_state_name(j->state));
		j = NULL;
	}
	ctld_job_free(tmp);
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

/* Whether each of keys[0..n) of in is an integer (or, unless need, absent):
 * a wrong type is refused, not read as 0. */
static bool step_ints(json_t *in, const char *const *keys, size_t n, bool need)
{
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(in, keys[i]);
		if (v ? !json_is_integer(v) : need)
			return false;
	}
	return true;
}

/* A bounded string of in (NULL when absent), else dflt. */
static char *step_str(json_t *in, const char *k, const char *dflt, size_t max)
{
	const char *v = json_string_value(json_object_get(in, k));
	v = v && *v ? v : dflt;
	return aidc_strndup(v, strnlen(v, max));
}

/* What squeue -s and sacct show: name, nodelist, ntasks, nnodes, cpus,
 * time_limit_s of the start op; -1 after the error. */
static int step_info(struct ctld_msg *m, const struct ctld_job *j, json_t *in, struct ctld_step *s)
{
	json_t *nt = json_object_get(in, "ntasks"), *nn = json_object_get(in, "nnodes");
	s->ntasks = json_is_integer(nt) ? json_integer_value(nt) : 1;
	s->step_nodes = json_is_integer(nn) ? json_integer_value(nn) : 1;
	s->cpus = json_integer_value(json_object_get(in, "cpus"));
	s->limit_s = json_integer_value(json_object_get(in, "time_limit_s"));
	/* srun on node 0 runs that node's tasks itself; under salloc (external)
	 * every node of the step is a holder's, node 0 included. */
	bool external = json_is_true(json_object_get(in, "external"));
	static const char *const ints[] = {"ntasks", "nnodes", "cpus", "time_limit_s"};
	if (!step_ints(in, ints, AIDC_ARRAY_LEN(ints), false) || s->ntasks < 1 ||
	    s->ntasks > 1 << 20 ||
	    s->step_nodes != (int64_t)s->nnodes + !external || (external && !s->nnodes) ||
	    s->cpus < 0 || s->cpus > INT32_MAX || s->limit_s < 0)
		return aidc_errf(&m->err, AIDC_E_INVAL,
				 "ntasks (1..), nnodes (the step's nodes: 1 + the other nodes "
				 "named, or those named when external), cpus and time_limit_s "
				 "(>= 0) of a step"),
		       -1;
	s->name = step_str(in, "name", "step", AIDC_MAX_NAME_BYTES - 1);
	s->nodelist = step_str(in, "nodelist", "", 8192);
	s->start_s = ctld_now_s();
	return 0;
}

/* The nodes a step's holders run (nodes: [K, ...], may be empty): the job's
 * other nodes, and node 0 too when srun runs outside the job (external:
 * salloc). */
static int step_nodes(struct ctld_msg *m, const struct ctld_job *j, json_t *in,
		      struct ctld_step *s)
{
	json_t *nodes = json_object_get(in, "nodes");
	json_int_t lo = json_is_true(json_object_get(in, "external")) ? 0 : 1;
	size_t n = json_array_size(nodes);
	if (!json_is_array(nodes) || n > j->ntasks - (uint32_t)lo)
		return aidc_errf(&m->err, AIDC_E_INVAL,
				 "a step needs nodes (0..%u of the job's other node numbers)",
				 j->ntasks - 1);
	s->nodes = aidc_calloc(n + 1, sizeof *s->nodes);
	s->reports = aidc_calloc(n + 1, sizeof *s->reports);
	s->out_cut = aidc_calloc(n + 1, sizeof *s->out_cut);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(nodes, i);
		json_int_t k = json_is_integer(v) ? json_integer_value(v) : 0;
		if (!json_is_integer(v) || k < lo || k >= (json_int_t)j->ntasks ||
		    step_node(s, k) >= 0)
			return aidc_errf(&m->err, AIDC_E_INVAL,
					 "nodes: %lld is not one of the job's %s nodes (%lld..%u), or "
					 "is named twice",
					 (long long)k, lo ? "other" : "", (long long)lo, j->ntasks - 1);
		s->nodes[s->nnodes++] = (uint32_t)k;
	}
	return 0;
}

static int step_ended(struct ctld *c, struct ctld_msg *m, const struct ctld_job *j, int64_t id);

/* {"op":"start","step":S,"nodes":[K,...],"doc":{...},"name":..,"ntasks":..} */
static int step_start(struct ctld *c, struct ctld_msg *m, const struct ctld_job *j, json_t *in,
		      int64_t id)
{
	json_t *doc = json_object_get(in, "doc");
	size_t live = 0;
	if (id >= (int64_t)AIDC_MAX_JOB_STEP_COUNT)
		return aidc_errf(&m->err, AIDC_E_LIMIT,
				 "a job's step ids are 0..%u (AIDC_MAX_JOB_STEP_COUNT)",
				 AIDC_MAX_JOB_STEP_COUNT - 1);
	if (step_find(c, j->id, id))
		return aidc_errf(&m->err, AIDC_E_EXISTS, "step %" PRIu64 ".%" PRId64 " exists",
				 j->id, id);
	/* Its record is kept (sacct): an ended step's id is not taken again. */
	int rc = step_ended(c, m, j, id);
	if (rc)
		return rc;
	size_t user_live = 0;
	for (size_t i = 0; i < c->nsteps; i++) {
		const struct ctld_job *o = ctld_job_find(c, c->steps[i].job);
		live += c->steps[i].job == j->id;
		user_live += o && o->uid == j->uid;
	}
	if (live >= AIDC_MAX_JOB_STEPS || user_live >= AIDC_MAX_USER_LIVE_STEPS ||
	    c->nsteps >= AIDC_MAX_LIVE_STEPS)
		return aidc_errf(&m->err, AIDC_E_LIMIT,
				 "too many running steps (at most %u per job, %u of one user's "
				 "jobs, %u in all)",
				 AIDC_MAX_JOB_STEPS, (unsigned)AIDC_MAX_USER_LIVE_STEPS,
				 AIDC_MAX_LIVE_STEPS);
	struct ctld_step s = {.job = j->id, .attempt = j->attempt, .id = id,
			      .seen_ms = ctld_now_ms()};
	rc = step_nodes(m, j, in, &s);
	if (!rc && s.nnodes && !json_is_object(doc))
		rc = aidc_errf(&m->err, AIDC_E_INVAL, "a step on other nodes needs doc");
	if (!rc && step_info(m, j, in, &s) != 0)
		rc = m->err.code;
	if (!rc && s.nnodes && !(s.doc = json_dumps(doc, JSON_COMPACT)))
		rc = aidc_errf(&m->err, AIDC_E_NOMEM, "step document");
	if (!rc)
		rc = step_store(c, &s, "running", 0, 0, 0, &m->err);
	if (rc) {
		step_free(&s);
		return rc;
	}
	c->steps = aidc_reallocarray(c->steps, c->nsteps + 1, sizeof *c->steps);
	c->steps[c->nsteps++] = s;
	aidc_buf_printf(&m->resp->body, "{\"ok\":true,\"step\":%" PRId64 "}", id);
	return CTLD_DONE;
}

/* {"op":"end","step":S,"exit_code":X,"signal":G,"timeout":B}: srun's status
 * of the step; the step is kept in the store only from then on. */
static int step_end(struct ctld *c, struct ctld_msg *m, struct ctld_step *s, json_t *in)
{
	json_int_t code = json_integer_value(json_object_get(in, "exit_code")),
		   sig = json_integer_value(json_object_get(in, "signal"));
	static const char *const ints[] = {"exit_code", "signal"};
	if (!step_ints(in, ints, 2, true) || code < 0 || code > 255 || sig < 0 || sig > 64)
		return aidc_errf(&m->err, AIDC_E_INVAL, "exit_code: 0..255, signal: 0..64");
	const char *state = s->cancelled				    ? "cancelled"
			    : json_is_true(json_object_get(in, "timeout")) ? "timeout"
			    : code || sig				    ? "failed"
									    : "completed";
	int64_t end_s = ctld_now_s() > s->start_s ? ctld_now_s() : s->start_s;
	int rc = step_store(c, s, state, end_s ? end_s : 1, code, sig, &m->err);
	if (rc)
		return rc;
	step_free(s);
	*s = c->steps[--c->nsteps];
	return 0;
}

/* signal and cancel: SIGTERM for cancel, once (each holder delivers it). */
static int step_signal(struct ctld *c, struct ctld_msg *m, struct ctld_step *s, int sig,
		       bool cancel)
{
	if (sig < 1 || sig > 64)
		return aidc_errf(&m->err, AIDC_E_INVAL, "signal: 1..64");
	if (cancel && s->cancelled)
		return 0;
	struct ctld_step was = *s;
	s->sig = sig;
	s->sig_seq++;
	s->cancelled |= cancel;
	int rc = step_store(c, s, "running", 0, 0, 0, &m->err);
	if (rc) {
		s->sig = was.sig;
		s->sig_seq = was.sig_seq;
		s->cancelled = was.cancelled;
	}
	return rc;
}

/* A node's report: the first one of a node holds. Node 0 of a batch job's
 * step is srun's own (local_report). */
static int step_report(struct ctld *c, struct ctld_msg *m, struct ctld_step *s, json_t *in)
{
	json_int_t node = json_integer_value(json_object_get(in, "node"));
	bool local = node == 0 && s->step_nodes == (int64_t)s->nnodes + 1;
	int k = local ? -1 : step_node(s, node);
	char **slot = local ? &s->local_report : k >= 0 ? &s->reports[k] : NULL;
	json_t *rep = json_object_get(in, "report");
	static const char *const ints[] = {"node"};
	if (!slot || !json_is_object(rep) || !step_ints(in, ints, 1, true))
		return aidc_errf(&m->err, AIDC_E_INVAL,
				 "a report needs node (one of the step's) and report");
	if (*slot)
		return 0;
	*slot = json_dumps(rep, JSON_COMPACT);
	int rc = step_store(c, s, "running", 0, 0, 0, &m->err);
	if (rc) {
		aidc_free(*slot);
		*slot = NULL;
	}
	return rc;
}

/* signal, report, end and cancel of an existing step. */
static int step_op(struct ctld *c, struct ctld_msg *m, struct ctld_step *s, const char *op,
		   json_t *in)
{
	int rc;
	json_t *g = json_object_get(in, "signal");
	json_int_t sig = json_integer_value(g);
	if (!strcmp(op, "signal") || !strcmp(op, "end"))
		s->seen_ms = ctld_now_ms(); /* srun's: its lease */
	if (!strcmp(op, "signal")) /* 0 (refused) for what is not 1..64, never cut to an int */
		rc = step_signal(c, m, s, json_is_integer(g) && sig >= 1 && sig <= 64 ? (int)sig : 0,
				 false);
	else if (!strcmp(op, "cancel"))
		rc = step_signal(c, m, s, SIGTERM, true);
	else if (!strcmp(op, "report"))
		rc = step_report(c, m, s, in);
	else if (!strcmp(op, "end"))
		rc = step_end(c, m, s, in);
	else if (!strcmp(op, "started"))
		rc = 0; /* where output began in the node's log: older runners' (op output) */
	else
		rc = aidc_errf(&m->err, AIDC_E_INVAL,
			       "op: '%.16s' is not start, signal, report, started, end, cancel or "
			       "release",
			       op);
	if (rc)
		return rc;
	aidc_buf_puts(&m->resp->body, "{\"ok\":true}");
	return CTLD_DONE;
}

/* A stored step of the job's current attempt: its state copied into state
 * (n bytes), found. */
struct step_look {
	uint32_t attempt;
	char *state;
	size_t n;
	bool found;
};

static int step_look_row(void *ctx, uint64_t job, int64_t step, bool live, const char *doc)
{
	(void)job;
	(void)live;
	(void)step;
	struct step_look *l = ctx;
	json_error_t je;
	json_t *d = json_loads(doc, 0, &je);
	if (d && json_integer_value(json_object_get(d, "attempt")) == l->attempt) {
		const char *st = json_string_value(json_object_get(d, "state"));
		snprintf(l->state, l->n, "%s", st ? st : "?");
		l->found = true;
	}
	json_decref(d);
	return 0;
}

static int step_max_row(void *ctx, uint64_t job, int64_t step, bool live, const char *doc)
{
	(void)job;
	(void)live;
	(void)doc;
	int64_t *max = ctx;
	*max = step > *max ? step : *max;
	return 0;
}

/* A step id for srun under salloc (start with step -1): one more than any
 * step of the job the store has (running ones are stored too), at most
 * AIDC_MAX_JOB_STEP_COUNT (refused by step_start; a stored id may be past
 * it, from before the limit). */
static int64_t step_next_id(struct ctld *c, struct ctld_msg *m, const struct ctld_job *j)
{
	int64_t max = -1;
	if (c->st->ops->step_list(c->st, j->id, step_max_row, &max, &m->err) != 0)
		return -1;
	return max < (int64_t)AIDC_MAX_JOB_STEP_COUNT ? max + 1 : AIDC_MAX_JOB_STEP_COUNT;
}

/* The error for step id of job j that is not running but stored for its
 * current attempt (an ended step), or 0 when it is not. */
static int step_ended(struct ctld *c, struct ctld_msg *m, const struct ctld_job *j, int64_t id)
{
	char state[32];
	struct step_look l = {.attempt = j->attempt, .state = state, .n = sizeof state};
	struct aidc_err e = {0};
	int rc = c->st->ops->step_get(c->st, j->id, id, step_look_row, &l, &e);
	if (rc && rc != AIDC_E_NOTFOUND)
		return aidc_errf(&m->err, rc, "%s", e.msg);
	return l.found ? aidc_errf(&m->err, AIDC_E_STATE,
				   "step %" PRIu64 ".%" PRId64 " has already ended (%s)", j->id,
				   id, state)
		       : 0;
}

/* The error for an op on step id of job j that is not running. */
static int step_missing(struct ctld *c, struct ctld_msg *m, const struct ctld_job *j, int64_t id)
{
	int rc = step_ended(c, m, j, id);
	return rc ? rc
		  : aidc_errf(&m->err, AIDC_E_NOTFOUND, "no step %" PRIu64 ".%" PRId64, j->id, id);
}

/* {"op":"release","step":0,"exit_code":X}: salloc's command exited X; node
 * 0's step holder (the job's script under salloc) exits X when it sees it. */
static int step_release(struct ctld_msg *m, struct ctld_job *j, json_t *in)
{
	json_t *x = json_object_get(in, "exit_code");
	if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 255)
		return aidc_errf(&m->err, AIDC_E_INVAL, "release: exit_code 0..255");
	j->released = true;
	j->release_code = (uint8_t)json_integer_value(x);
	aidc_buf_puts(&m->resp->body, "{\"ok\":true}");
	return CTLD_DONE;
}

/* POST ...steps?op=output&step=S&node=K&stream=out|err&offset=B with the
 * bytes as the body: a runner storing what node K's tasks of step S wrote
 * (cli_srun.c), in the job's log directory as ATTEMPT.sS.K.STREAM (srun reads
 * it with GET /v1/jobs/{id}/logs?step=S&task=K), within the job's output
 * quotas; idempotent: bytes already stored are skipped. {"size":N}. */
static int step_output(struct ctld *c, struct ctld_msg *m)
{
	struct ctld_job *j = step_job(c, m, false);
	if (!j)
		return m->err.code;
	const char *ss = api_query(m->req, "step"), *ns = api_query(m->req, "node"),
		   *st = api_query(m->req, "stream"), *os = api_query(m->req, "offset");
	int64_t sid, node, off, size;
	if (!ss || aidc_parse_i64(ss, 0, INT64_MAX, &sid) || !ns ||
	    aidc_parse_i64(ns, 0, (int64_t)j->ntasks - 1, &node) || !st ||
	    (strcmp(st, "out") && strcmp(st, "err")) || !os ||
	    aidc_parse_i64(os, 0, INT64_MAX - AIDC_MAX_LOG_CHUNK_BYTES, &off))
		return aidc_errf(&m->err, AIDC_E_INVAL,
				 "output needs step, node (0..%u), stream=out|err and offset",
				 j->ntasks - 1);
	if (m->req->body_len > AIDC_MAX_LOG_CHUNK_BYTES)
		return aidc_errf(&m->err, AIDC_E_LIMIT, "output chunk over %u bytes",
				 AIDC_MAX_LOG_CHUNK_BYTES);
	struct ctld_step *s = step_find(c, j->id, sid);
	int k = s ? step_node(s, node) : -1;
	if (!s)
		return step_missing(c, m, j, sid);
	if (k < 0)
		return aidc_errf(&m->err, AIDC_E_INVAL,
				 "node %" PRId64 " does not run step %" PRId64, node, sid);
	char name[64];
	snprintf(name, sizeof name, "%u.s%" PRId64 ".%" PRId64 ".%s", j->attempt, sid, node, st);
	int q = strcmp(st, "out") != 0;
	int rc = ctld_output_write_file(c, j, name, &s->out_cut[k], q, off, m->req->body,
					m->req->body_len, &size, &m->err);
	if (rc)
		return rc;
	/* A cut stream (output.c) answers size past what it holds, so that a
	 * runner moves on; "stored" is where the stored copy really ends (the
	 * marker's end): the runner reports that to srun, which would else wait
	 * (30 s per node and stream) for bytes that never come. */
	int64_t stored = -1;
	if (s->out_cut[k] & (1u << q)) {
		char dir[AIDC_MAX_PATH_BYTES], path[AIDC_MAX_PATH_BYTES + 64];
		struct stat sb;
		ctld_job_log_dir(c, j, dir, sizeof dir);
		snprintf(path, sizeof path, "%s/%s", dir, name);
		stored = lstat(path, &sb) == 0 ? sb.st_size : 0;
	}
	aidc_buf_printf(&m->resp->body, "{\"size\":%" PRId64, size);
	if (stored >= 0)
		aidc_buf_printf(&m->resp->body, ",\"stored\":%" PRId64, stored);
	aidc_buf_puts(&m->resp->body, "}");
	return CTLD_DONE;
}

int ctld_lf_steps_post(struct ctld *c, struct ctld_msg *m)
{
	prune(c);
	const char *qop = api_query(m->req, "op");
	if (qop && !strcmp(qop, "output"))
		return step_output(c, m);
	if (m->req->body_len > AIDC_MAX_STEP_BYTES)
		return aidc_errf(&m->err, AIDC_E_LIMIT, "a step document over %u bytes",
				 AIDC_MAX_STEP_BYTES);
	json_error_t je;
	json_t *in = json_loadb(m->req->body, m->req->body_len, JSON_REJECT_DUPLICATES, &je);
	const char *op = json_string_value(json_object_get(in, "op"));
	json_t *sid = json_object_get(in, "step");
	int rc;
	struct ctld_job *j = NULL;
	bool start = op && !strcmp(op, "start");
	if (!json_is_object(in) || !op || !json_is_integer(sid) ||
	    json_integer_value(sid) < (start ? -1 : 0)) {
		rc = aidc_errf(&m->err, AIDC_E_INVAL,
			       "need a JSON object with op and step (>= 0; start: -1 for the next)");
	} else if (!(j = step_job(c, m, !strcmp(op, "cancel")))) {
		rc = m->err.code;
	} else if (!strcmp(op, "release")) {
		rc = step_release(m, j, in);
	} else if (start) {
		int64_t id = json_integer_value(sid);
		if (id < 0 && (id = step_next_id(c, m, j)) < 0)
			rc = m->err.code;
		else
			rc = step_start(c, m, j, in, id);
	} else {
		struct ctld_step *s = step_find(c, j->id, json_integer_value(sid));
		rc = s ? step_op(c, m, s, op, in)
		       : step_missing(c, m, j, json_integer_value(sid));
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
	aidc_json_kbool(w, "cancelled", s->cancelled);
	if (k >= 0) {
		aidc_json_key(w, "doc");
		aidc_json_raw(w, s->doc ? s->doc : "{}");
	} else {
		step_nodes_reports(w, s);
	}
	aidc_json_obj_end(w);
}

/* GET /v1/jobs/{id}/steps[?node=K|?step=S]: with K, the steps K runs and
 * has not reported (for its holder); without, every running step with its
 * reports and whether it was cancelled (srun), with S that step alone. srun's
 * poll renews its step's lease (with S; without, every step of the job's, as
 * sruns before the lease polled). */
int ctld_lf_steps_get(struct ctld *c, struct ctld_msg *m)
{
	prune(c);
	struct ctld_job *j = step_job(c, m, false);
	if (!j)
		return m->err.code;
	const char *node = api_query(m->req, "node"), *step = api_query(m->req, "step");
	int64_t k = -1, only = -1;
	if (node && aidc_parse_i64(node, 0, (int64_t)j->ntasks - 1, &k) != 0)
		return aidc_errf(&m->err, AIDC_E_INVAL, "node: 0..%u", j->ntasks - 1);
	if (step && (node || aidc_parse_i64(step, 0, INT64_MAX, &only) != 0))
		return aidc_errf(&m->err, AIDC_E_INVAL, "step: a step id (0..), without node");
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_key(&w, "steps");
	aidc_json_arr_begin(&w);
	for (size_t i = 0; i < c->nsteps; i++) {
		struct ctld_step *s = &c->steps[i];
		int at = k >= 0 ? step_node(s, k) : 0;
		if (s->job != j->id || at < 0 || (k >= 0 && s->reports[at]) ||
		    (only >= 0 && s->id != only))
			continue;
		if (k < 0)
			s->seen_ms = ctld_now_ms();
		step_json(&w, s, k);
	}
	aidc_json_arr_end(&w);
	if (k == 0 && j->released) /* salloc's command has exited: node 0's holder ends */
		aidc_json_ki64(&w, "release", j->release_code);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w) ? aidc_errf(&m->err, AIDC_E_LIMIT, "reply too large")
				    : CTLD_DONE;
}

/* ---- srun's lease -------------------------------------------------------------- */

static bool step_all_reported(const struct ctld_step *s)
{
	for (uint32_t i = 0; i < s->nnodes; i++)
		if (!s->reports[i])
			return false;
	return true;
}

/* Whether every task of s has reported its end: each holder's, and srun's
 * own tasks (node 0 of a batch job's step) too. */
static bool step_all_known(const struct ctld_step *s)
{
	return step_all_reported(s) && (s->step_nodes == (int64_t)s->nnodes || s->local_report);
}

/* The end of a lost step whose every task reported (step_all_known): what
 * srun's own end would have said (cli_srun.c sr_status): the highest exit
 * code, or 0 and the first signal that killed a task; a node whose tasks
 * could not all start counts as exit code 1. */
static const char *reports_state(const struct ctld_step *s, int64_t *code, int64_t *sig)
{
	*code = *sig = 0;
	for (uint32_t i = 0; i <= s->nnodes; i++) {
		const char *text = i < s->nnodes ? s->reports[i] : s->local_report;
		json_error_t je;
		json_t *rep = text ? json_loads(text, 0, &je) : NULL,
		       *tasks = json_object_get(rep, "tasks");
		if (text && (!json_is_array(tasks) || json_object_get(rep, "error")))
			*code = *code > 1 ? *code : 1;
		for (size_t t = 0; t < json_array_size(tasks); t++) {
			json_t *x = json_array_get(tasks, t);
			json_int_t e = json_integer_value(json_object_get(x, "exit")),
				   g = json_integer_value(json_object_get(x, "signal"));
			if (g > 0 && g <= 64 && !*sig)
				*sig = g;
			if (e > *code && e <= 255)
				*code = e;
		}
		json_decref(rep);
	}
	if (*sig)
		*code = 0; /* srun's own end: 0 and the signal */
	return *code || *sig ? "failed" : "completed";
}

/* Sends sig to a lost step's tasks through its holders (stored, as a cancel). */
static void lease_signal(struct ctld *c, struct ctld_step *s, int sig)
{
	struct aidc_err e = {0};
	s->sig = sig;
	s->sig_seq++;
	s->cancelled = true;
	if (step_store(c, s, "running", 0, 0, 0, &e))
		aidc_log(AIDC_LOG_WARN, "step %" PRIu64 ".%" PRId64 ": signal %d not stored: %s",
			 s->job, s->id, sig, e.msg);
}

/* The lease of step s at now: false when the step was ended (freed). A step
 * on node 0 alone has no holder: its tasks died with srun (PR_SET_PDEATHSIG)
 * and it ends at once. */
static bool lease_one(struct ctld *c, struct ctld_step *s, int64_t now)
{
	if (!s->lost_ms) {
		if (now - s->seen_ms < c->cfg.step_lease_s * 1000)
			return true;
		aidc_log(AIDC_LOG_WARN,
			 "step %" PRIu64 ".%" PRId64 ": srun silent for %" PRId64 " s (step_lease_s): "
			 "cancelled",
			 s->job, s->id, (now - s->seen_ms) / 1000);
		s->lost_ms = now;
		if (s->nnodes && !step_all_reported(s)) {
			lease_signal(c, s, SIGTERM);
			return true;
		}
	} else if (!s->killed && !step_all_reported(s)) {
		if (now - s->lost_ms < STEP_KILL_GRACE_MS)
			return true;
		s->killed = true;
		lease_signal(c, s, SIGKILL);
		return true;
	} else if (!step_all_reported(s) &&
		   now - s->lost_ms < STEP_KILL_GRACE_MS + STEP_KILL_DELIVER_MS) {
		return true;
	}
	/* Every task had ended before the step was lost (nothing signalled, not
	 * scancelled): it ends as they did, as Slurm's steps end from their
	 * nodes' reports whatever srun does; else it was cancelled. */
	struct aidc_err e = {0};
	int64_t end_s = ctld_now_s() > s->start_s ? ctld_now_s() : s->start_s, code = 0,
		sig = s->killed ? SIGKILL : SIGTERM;
	const char *state =
	    !s->cancelled && step_all_known(s) ? reports_state(s, &code, &sig) : "cancelled";
	if (step_store(c, s, state, end_s ? end_s : 1, code, sig, &e)) {
		aidc_log(AIDC_LOG_WARN, "step %" PRIu64 ".%" PRId64 ": not ended: %s", s->job,
			 s->id, e.msg);
		return true;
	}
	step_free(s);
	return false;
}

void ctld_steps_tick(struct ctld *c, int64_t now_ms)
{
	if (!c->nsteps || now_ms < c->next_steps_tick_ms)
		return;
	c->next_steps_tick_ms = now_ms + 500;
	prune(c);
	size_t w = 0;
	for (size_t i = 0; i < c->nsteps; i++)
		if (lease_one(c, &c->steps[i], now_ms))
			c->steps[w++] = c->steps[i];
	c->nsteps = w;
}

/* ---- GET /v1/steps ------------------------------------------------------------ */

struct step_list {
	struct ctld *c;
	struct ctld_msg *m;
	struct aidc_json *w;
	const struct ctld_job *job; /* with ?job=: the job walked */
	int64_t step;               /* with ?job=J.S: that step only, else -1 */
};

/* The job of a step if the caller may see it (tmp: loaded, to free). */
static const struct ctld_job *list_job(struct step_list *l, uint64_t id, struct ctld_job **tmp)
{
	const struct ctld_job *j = l->job && l->job->id == id ? l->job : ctld_job_find(l->c, id);
	if (!j && ctld_job_load(l->c, id, tmp, NULL) == 0)
		j = *tmp;
	if (j && !l->m->req->who.admin && j->uid != l->m->req->who.uid)
		j = NULL;
	return j;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* One step of the listing: the stored record's public part with its job's
 * user, partition and account (only the job's current attempt). */
static int list_row(void *ctx, uint64_t job, int64_t step, bool live, const char *doc)
{
	(void)live;
	struct step_list *l = ctx;
	struct ctld_job *tmp = NULL;
	const struct ctld_job *j = l->step < 0 || l->step == step ? list_job(l, job, &tmp) : NULL;
	json_error_t je;
	json_t *d = j ? json_loads(doc, 0, &je) : NULL;
	if (d && json_integer_value(json_object_get(d, "attempt")) == j->attempt) {
		static const char *const drop[] = {"v",	  "attempt", "cancelled", "sig",
						   "sig_seq", "nodes",   "reports",	  "doc"};
		for (size_t i = 0; i < AIDC_ARRAY_LEN(drop); i++)
			json_object_del(d, drop[i]);
		char id[48];
		snprintf(id, sizeof id, "%" PRIu64 ".%" PRId64, job, step);
		json_object_set_new(d, "id", json_string(id));
		json_object_set_new(d, "job", json_integer((json_int_t)job));
		json_object_set_new(d, "step", json_integer(step));
		json_object_set_new(d, "user", json_string(or_empty(j->user)));
		json_object_set_new(d, "job_name", json_string(or_empty(j->name)));
		json_object_set_new(d, "partition", json_string(j->spec.partition ? j->spec.partition
									   : l->c->cfg.partition));
		json_object_set_new(d, "account", json_string(or_empty(j->spec.account)));
		char *text = json_dumps(d, JSON_COMPACT);
		if (text)
			aidc_json_raw(l->w, text);
		free(text);
	}
	json_decref(d);
	ctld_job_free(tmp);
	return 0;
}

/* ?job=ID[.STEP][,...]: every step (running and ended) of these jobs. */
static int list_jobs(struct step_list *l, const char *jobs)
{
	char *copy = aidc_strdup(jobs), *save = NULL;
	int rc = 0, n = 0;
	for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
		char *dot = strchr(t, '.');
		int64_t id, step = -1;
		if (dot)
			*dot = '\0';
		if (++n > STEP_LIST_MAX_JOBS || aidc_parse_i64(t, 1, INT64_MAX, &id) != 0 ||
		    (dot && aidc_parse_i64(dot + 1, 0, INT64_MAX, &step) != 0)) {
			rc = aidc_errf(&l->m->err, AIDC_E_INVAL,
				       "job: at most %d of ID or ID.STEP, comma-separated",
				       STEP_LIST_MAX_JOBS);
			break;
		}
		struct ctld_job *tmp = NULL;
		l->job = NULL;
		l->job = list_job(l, (uint64_t)id, &tmp);
		l->step = step;
		if (l->job)
			rc = l->c->st->ops->step_list(l->c->st, (uint64_t)id, list_row, l,
						      &l->m->err);
		l->job = NULL;
		ctld_job_free(tmp);
	}
	aidc_free(copy);
	return rc;
}

/* GET /v1/steps[?job=IDS]: the running steps of every job the caller may
 * see (admins: all), or with job= every step of those jobs. */
int ctld_lf_steps_list(struct ctld *c, struct ctld_msg *m)
{
	prune(c);
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_key(&w, "steps");
	aidc_json_arr_begin(&w);
	struct step_list l = {.c = c, .m = m, .w = &w, .step = -1};
	const char *jobs = api_query(m->req, "job");
	int rc = jobs ? list_jobs(&l, jobs) : c->st->ops->step_list(c->st, 0, list_row, &l, &m->err);
	if (rc)
		return rc;
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w) ? aidc_errf(&m->err, AIDC_E_LIMIT, "reply too large")
				    : CTLD_DONE;
}

/* ---- restart ------------------------------------------------------------------ */

/* A live step document back in memory (-1 when it is not one). */
static int restore_one(struct ctld_step *s, json_t *d)
{
	json_t *nodes = json_object_get(d, "nodes"), *reps = json_object_get(d, "reports"),
	       *doc = json_object_get(d, "doc");
	size_t n = json_array_size(nodes);
	if (json_integer_value(json_object_get(d, "v")) != STEP_DOC_VERSION || n > UINT32_MAX ||
	    json_array_size(reps) != n || (n && !json_is_object(doc)))
		return -1;
	s->attempt = (uint32_t)json_integer_value(json_object_get(d, "attempt"));
	s->nodes = aidc_calloc(n + 1, sizeof *s->nodes);
	s->reports = aidc_calloc(n + 1, sizeof *s->reports);
	s->out_cut = aidc_calloc(n + 1, sizeof *s->out_cut);
	for (size_t i = 0; i < n; i++, s->nnodes++) {
		s->nodes[i] = (uint32_t)json_integer_value(json_array_get(nodes, i));
		json_t *r = json_array_get(reps, i);
		s->reports[i] = json_is_object(r) ? json_dumps(r, JSON_COMPACT) : NULL;
	}
	s->doc = n ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_t *local = json_object_get(d, "local");
	s->local_report = json_is_object(local) ? json_dumps(local, JSON_COMPACT) : NULL;
	s->sig = (int32_t)json_integer_value(json_object_get(d, "sig"));
	s->sig_seq = (uint32_t)json_integer_value(json_object_get(d, "sig_seq"));
	s->cancelled = json_is_true(json_object_get(d, "cancelled"));
	s->name = step_str(d, "name", "step", AIDC_MAX_NAME_BYTES - 1);
	s->nodelist = step_str(d, "nodelist", "", 8192);
	s->ntasks = json_integer_value(json_object_get(d, "ntasks"));
	s->step_nodes = json_integer_value(json_object_get(d, "nnodes"));
	s->cpus = json_integer_value(json_object_get(d, "cpus"));
	s->start_s = json_integer_value(json_object_get(d, "start_s"));
	s->limit_s = json_integer_value(json_object_get(d, "time_limit_s"));
	s->seen_ms = ctld_now_ms(); /* a restart renews the lease: srun polls again */
	return 0;
}

static int restore_row(void *ctx, uint64_t job, int64_t step, bool live, const char *doc)
{
	struct ctld *c = ctx;
	json_error_t je;
	json_t *d = live ? json_loads(doc, 0, &je) : NULL;
	struct ctld_step s = {.job = job, .id = step};
	if (c->nsteps >= AIDC_MAX_LIVE_STEPS || !d || restore_one(&s, d) != 0) {
		aidc_log(AIDC_LOG_WARN, "restore: step %" PRIu64 ".%" PRId64 " left as stored (%s)",
			 job, step, d ? "not a live step document, or too many" : je.text);
		step_free(&s);
	} else {
		c->steps = aidc_reallocarray(c->steps, c->nsteps + 1, sizeof *c->steps);
		c->steps[c->nsteps++] = s;
	}
	json_decref(d);
	return 0;
}

int ctld_steps_restore(struct ctld *c, struct aidc_err *e)
{
	int rc = c->st->ops->step_list(c->st, 0, restore_row, c, e);
	if (rc == 0 && c->nsteps)
		aidc_log(AIDC_LOG_INFO, "restore: %zu running srun step(s)", c->nsteps);
	return rc;
}

void ctld_steps_release(struct ctld *c)
{
	for (size_t i = 0; i < c->nsteps; i++)
		step_free(&c->steps[i]);
	aidc_free(c->steps);
	c->steps = NULL;
	c->nsteps = 0;
}
