/* SPDX-License-Identifier: Apache-2.0 */
/*
 * THE route table of the controller (the OpenAPI document at /v1/openapi.json
 * is generated from it) and the handlers. Each HTTP-side handler decodes its
 * body on the HTTP thread, then hands a loop function to the event loop with
 * ctld_call; only loop functions touch controller state. Log reads are the
 * exception in one respect: the loop authorizes and names the file, and the
 * HTTP thread reads it (and, for follow, waits for more) without holding the
 * loop.
 *
 * Authorization: users act on their own jobs only (uid from SO_PEERCRED, a
 * bearer token (src/ctld/auth.c) or a MUNGE credential); admins on all. A job
 * that is not the caller's answers 404 like a missing
 * one, so job ids of other users are not disclosed.
 */
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "ctld/ctld_int.h"
#include "util/clock.h"
#include "util/util.h"

/* ---- helpers --------------------------------------------------------------------- */

static int via(void *ctx, struct api_request *req, struct api_response *resp, struct aidc_err *e,
	       ctld_loop_fn fn, const struct api_schema *schema)
{
	void *body = NULL;
	int rc;
	if (schema) {
		body = aidc_malloc(schema->size);
		if ((rc = api_decode(schema, req->body, req->body_len, body, e)) != 0) {
			aidc_free(body);
			return rc;
		}
	}
	struct ctld_msg m;
	rc = ctld_call(ctx, fn, req, resp, body, &m, e);
	if (schema)
		api_decoded_release(schema, body);
	aidc_free(body);
	return rc;
}

/* The job named by {id} if the caller may see it: a live job from memory, an
 * ended one read back from the store (owned by m->tmp_job). */
static struct ctld_job *req_job(struct ctld *c, struct ctld_msg *m)
{
	int64_t id;
	struct ctld_job *j = NULL;
	if (aidc_parse_i64(m->req->params[0], 1, INT64_MAX, &id) == 0) {
		j = ctld_job_find(c, (uint64_t)id);
		if (!j && ctld_job_load(c, (uint64_t)id, &m->tmp_job, NULL) == 0)
			j = m->tmp_job;
	} else if (strchr(m->req->params[0], '_')) { /* "12_5": an array's element */
		j = ctld_array_find_ref(c, m->req->params[0], &m->tmp_job);
	}
	if (j && !m->req->who.admin && j->uid != m->req->who.uid)
		j = NULL;
	if (!j)
		aidc_errf(&m->err, AIDC_E_NOTFOUND, "no job %.32s", m->req->params[0]);
	return j;
}

/* The reply of a job endpoint: job j (with its tasks when detail). */
static int job_reply(struct ctld *c, struct ctld_msg *m, const struct ctld_job *j, bool detail)
{
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	ctld_job_json(c, &w, j, detail);
	return aidc_json_finish(&w);
}

/* ---- jobs ------------------------------------------------------------------------ */

static int lf_submit(struct ctld *c, struct ctld_msg *m)
{
	uint64_t id;
	bool existing;
	int rc = ctld_job_submit(c, &m->req->who, m->body, m->req->body, m->req->body_len, &id,
				 &existing, &m->err);
	if (rc)
		return rc;
	/* A retried submission: 200 with the job the first attempt made (it may
	 * have ended and left memory since). */
	m->resp->status = existing ? 200 : 201;
	struct ctld_job *j = ctld_job_find(c, id), *loaded = NULL;
	if (!j && (rc = ctld_job_load(c, id, &loaded, &m->err)) != 0)
		return rc;
	rc = job_reply(c, m, j ? j : loaded, false);
	ctld_job_free(loaded);
	return rc;
}

/* Rows of a listing, newest first, as the store returns them. */
struct list_rows {
	struct store_job *v;
	size_t n, cap;
};

static int keep_row(void *ctx, const struct store_job *r)
{
	struct list_rows *l = ctx;
	AIDC_GROW(l->v, l->cap, l->n + 1);
	struct store_job *d = &l->v[l->n++];
	*d = *r;
	d->user = r->user ? aidc_strdup(r->user) : NULL;
	d->name = r->name ? aidc_strdup(r->name) : NULL;
	d->spec_json = r->spec_json ? aidc_strdup(r->spec_json) : NULL;
	d->alloc_json = r->alloc_json ? aidc_strdup(r->alloc_json) : NULL;
	d->reason = r->reason ? aidc_strdup(r->reason) : NULL;
	d->log_key = r->log_key ? aidc_strdup(r->log_key) : NULL;
	return 0;
}

/* The listing comes from the store, which holds every job (this iteration's
 * changes included: the loop reads inside its own transaction); live jobs are
 * shown from memory (pending reason, placement), ended ones from their row. */
static int lf_list(struct ctld *c, struct ctld_msg *m)
{
	const char *state = api_query(m->req, "state");
	const char *user = api_query(m->req, "user");
	const char *lim = api_query(m->req, "limit"), *bef = api_query(m->req, "before");
	int want_state = -1;
	int64_t limit = AIDC_MAX_LIST_JOBS, before = 0;
	if (state && (want_state = ctld_job_state_parse(state)) < 0)
		return aidc_errf(&m->err, AIDC_E_INVAL, "state: unknown '%.32s'", state);
	if (lim && aidc_parse_i64(lim, 1, AIDC_MAX_LIST_JOBS, &limit))
		return aidc_errf(&m->err, AIDC_E_INVAL, "limit: 1..%u jobs", AIDC_MAX_LIST_JOBS);
	if (bef && aidc_parse_i64(bef, 1, INT64_MAX, &before))
		return aidc_errf(&m->err, AIDC_E_INVAL, "before: a job id");
	/* One row more than the page: whether older jobs remain (a cursor). */
	struct store_job_query q = {
		.state_mask = want_state >= 0 ? UINT64_C(1) << want_state : ~UINT64_C(0),
		.uid = m->req->who.admin ? -1 : (int64_t)m->req->who.uid,
		.user = user,
		.before_id = (uint64_t)before,
		.limit = (uint64_t)limit + 1,
	};
	struct list_rows rows = {0};
	int rc = c->st->ops->job_query(c->st, &q, keep_row, &rows, &m->err);
	bool more = rows.n > (size_t)limit;
	if (more)
		store_job_release(&rows.v[--rows.n]);
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_key(&w, "jobs");
	aidc_json_arr_begin(&w);
	/* Newest AIDC_MAX_LIST_JOBS matches, oldest first. */
	for (size_t i = rows.n; rc == 0 && i-- > 0;) {
		struct ctld_job *j = ctld_job_find(c, rows.v[i].id), *tmp = NULL;
		if (!j && ctld_job_from_row(c, &rows.v[i], true, &tmp, NULL) == 0)
			j = tmp;
		if (j)
			ctld_job_json(c, &w, j, false);
		ctld_job_free(tmp);
	}
	uint64_t rows_oldest = rows.n ? rows.v[rows.n - 1].id : 0;
	for (size_t i = 0; i < rows.n; i++)
		store_job_release(&rows.v[i]);
	aidc_free(rows.v);
	if (rc)
		return rc;
	aidc_json_arr_end(&w);
	/* The page holds the newest `limit` matches below `before`; with more,
	 * next_before is the cursor of the next (older) page. */
	aidc_json_kbool(&w, "more", more);
	if (more)
		aidc_json_ki64(&w, "next_before", (int64_t)rows_oldest);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}

static int lf_get(struct ctld *c, struct ctld_msg *m)
{
	struct ctld_job *j = req_job(c, m);
	return j ? job_reply(c, m, j, true) : AIDC_E_NOTFOUND;
}

static int lf_priority(struct ctld *c, struct ctld_msg *m)
{
	struct ctld_job *j = req_job(c, m);
	return j ? ctld_job_priority_json(c, m, j) : AIDC_E_NOTFOUND;
}

static int stop_reply(struct ctld *c, struct ctld_msg *m, int target, const char *why)
{
	struct ctld_job *j = req_job(c, m);
	if (!j)
		return AIDC_E_NOTFOUND;
	if (target == CTLD_JOB_REQUEUE && j->state == CTLD_JOB_PENDING)
		return aidc_errf(&m->err, AIDC_E_STATE, "job %" PRIu64 " is pending already", j->id);
	int rc = ctld_job_stop(c, j, target, why, &m->err);
	return rc ? rc : job_reply(c, m, j, false);
}

int ctld_lf_job_cancel(struct ctld *c, struct ctld_msg *m)
{
	char why[96];
	snprintf(why, sizeof why, "cancelled by %.60s", m->req->who.user);
	/* Job arrays (arrays.c): "12_5" is one element; 12 the whole array. */
	const char *ref = m->req->params[0];
	struct ctld_job *a = NULL;
	int64_t id;
	int rc = -1;
	if (strchr(ref, '_'))
		rc = ctld_array_cancel_one(c, &m->req->who, ref, why, &a, &m->err);
	else if (aidc_parse_i64(ref, 1, INT64_MAX, &id) == 0 &&
		 (a = ctld_job_find(c, (uint64_t)id)) && a->arr && a->state == CTLD_JOB_PENDING &&
		 (m->req->who.admin || a->uid == m->req->who.uid))
		rc = ctld_array_cancel_all(c, a, why, &m->err);
	if (rc >= 0)
		return rc ? rc : job_reply(c, m, a, false);
	return stop_reply(c, m, CTLD_JOB_CANCELLED, why);
}

int ctld_lf_job_requeue(struct ctld *c, struct ctld_msg *m)
{
	char why[96];
	snprintf(why, sizeof why, "requeued by %.60s", m->req->who.user);
	return stop_reply(c, m, CTLD_JOB_REQUEUE, why);
}

/* Hold and release: req_job answers 404 for another user's job (admins see all). */
static int hold_reply(struct ctld *c, struct ctld_msg *m, bool hold)
{
	struct ctld_job *j = NULL;
	int rc;
	if (strchr(m->req->params[0], '_')) { /* one element of an array (arrays.c) */
		rc = ctld_array_hold_one(c, &m->req->who, m->req->params[0], hold, &j, &m->err);
		return rc ? rc : job_reply(c, m, j, false);
	}
	if (!(j = req_job(c, m)))
		return AIDC_E_NOTFOUND;
	if (j->arr && j->state == CTLD_JOB_PENDING) { /* the whole array, elements too */
		rc = ctld_array_hold_all(c, j, hold, &m->err);
		return rc ? rc : job_reply(c, m, j, false);
	}
	rc = hold ? ctld_job_hold(c, j, &m->err) : ctld_job_release(c, j, &m->err);
	return rc ? rc : job_reply(c, m, j, false);
}

int ctld_lf_job_hold(struct ctld *c, struct ctld_msg *m)
{
	return hold_reply(c, m, true);
}

int ctld_lf_job_release(struct ctld *c, struct ctld_msg *m)
{
	return hold_reply(c, m, false);
}

/* Authorizes a log read and names the file (read by the HTTP thread). */
static int lf_log_where(struct ctld *c, struct ctld_msg *m)
{
	struct ctld_job *j = req_job(c, m);
	if (!j)
		return AIDC_E_NOTFOUND;
	const char *ts = api_query(m->req, "task");
	const char *stream = api_query(m->req, "stream");
	int64_t task = 0;
	if (ts && aidc_parse_i64(ts, 0, (int64_t)j->ntasks - 1, &task))
		return aidc_errf(&m->err, AIDC_E_INVAL, "task: 0..%u", j->ntasks - 1);
	if (stream && strcmp(stream, "out") && strcmp(stream, "err"))
		return aidc_errf(&m->err, AIDC_E_INVAL, "stream: out or err");
	/* A pending job after a requeue shows the previous attempt's output. */
	uint32_t attempt = j->attempt;
	if (j->state == CTLD_JOB_PENDING && attempt > 0)
		attempt--;
	char dir[AIDC_MAX_PATH_BYTES - 64];
	ctld_job_log_dir(c, j, dir, sizeof dir);
	if (ctld_output_expired(c, j) && access(dir, F_OK) != 0)
		return aidc_errf(&m->err, AIDC_E_NOTFOUND,
				 "job %" PRIu64 "'s output was removed: it ended over "
				 "output_retention_s = %" PRId64 " s ago",
				 j->id, c->cfg.output_retention_s);
	/* ?step=S: what srun step S's tasks on node `task` wrote (steps.c
	 * step_output), not the task's own output. */
	const char *ss = api_query(m->req, "step");
	int64_t step = -1;
	if (ss && aidc_parse_i64(ss, 0, INT64_MAX, &step))
		return aidc_errf(&m->err, AIDC_E_INVAL, "step: a step id (0..)");
	if (step >= 0)
		snprintf(m->log_path, sizeof m->log_path, "%s/%u.s%" PRId64 ".%u.%s", dir, attempt,
			 step, (unsigned)task, stream ? stream : "out");
	else
		snprintf(m->log_path, sizeof m->log_path, "%s/%u.%u.%s", dir, attempt,
			 (unsigned)task, stream ? stream : "out");
	m->job_done = !ctld_job_active(j) && j->state != CTLD_JOB_PENDING;
	return CTLD_DONE;
}

static int h_logs(void *ctx, struct api_request *req, struct api_response *resp,
		  struct aidc_err *e)
{
	const char *os = api_query(req, "offset"), *fs = api_query(req, "follow"),
		   *ws = api_query(req, "wait");
	int64_t off = 0, wait_s = 10;
	if (os && aidc_parse_i64(os, 0, INT64_MAX, &off))
		return aidc_errf(e, AIDC_E_INVAL, "offset: a byte offset");
	if (ws && aidc_parse_i64(ws, 0, AIDC_MAX_LONGPOLL_S, &wait_s))
		return aidc_errf(e, AIDC_E_INVAL, "wait: 0..%d seconds", AIDC_MAX_LONGPOLL_S);
	bool follow = fs && strcmp(fs, "0") != 0;
	int64_t until = aidc_mono_ms() + wait_s * 1000;
	char *chunk = aidc_malloc(AIDC_MAX_LOG_CHUNK_BYTES);
	ssize_t n = 0;
	bool done = false;
	int rc;
	for (;;) {
		struct ctld_msg m;
		if ((rc = ctld_call(ctx, lf_log_where, req, resp, NULL, &m, e)) != 0)
			goto out;
		done = m.job_done;
		int fd = open(m.log_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		n = 0;
		if (fd >= 0) {
			n = pread(fd, chunk, AIDC_MAX_LOG_CHUNK_BYTES, off);
			close(fd);
			if (n < 0)
				n = 0;
		}
		/* Long-poll: wait for output while the job may still produce some. */
		if (n > 0 || done || !follow || aidc_mono_ms() >= until)
			break;
		struct timespec nap = {0, 100 * 1000000};
		nanosleep(&nap, NULL);
	}
	rc = aidc_buf_append(&resp->body, chunk, (size_t)n);
	resp->content_type = "text/plain; charset=utf-8";
	resp->hdr_name[0] = "X-AIDC-Offset";
	snprintf(resp->hdr_value[0], sizeof resp->hdr_value[0], "%" PRId64, off + (int64_t)n);
	resp->hdr_name[1] = "X-AIDC-Done";
	snprintf(resp->hdr_value[1], sizeof resp->hdr_value[1], "%d", done && n == 0);
	resp->nhdr = 2;
out:
	aidc_free(chunk);
	return rc;
}

/* ---- service ------------------------------------------------------------------- */

static int lf_health(struct ctld *c, struct ctld_msg *m)
{
	uint64_t ended = 0;
	for (int s = 0; s < CTLD_JOB_STATE_COUNT_; s++)
		ended += c->ended[s];
	aidc_buf_printf(&m->resp->body,
			"{\"ok\":true,\"version\":\"%s\",\"jobs\":%" PRIu64
			",\"nodes\":%zu,\"schema\":%d,\"leader_term\":%" PRId64 "}",
			AIDC_VERSION, (uint64_t)(c->njobs - c->nended_live) + ended, c->nnodes,
			c->st->ops->schema_version(c->st), c->lead_term);
	return CTLD_DONE;
}

static int h_openapi(void *ctx, struct api_request *req, struct api_response *resp,
		     struct aidc_err *e)
{
	int rc = api_openapi(ctld_routes, ctld_nroutes, "AIDC controller API", &resp->body);
	return rc ? aidc_errf(e, rc, "OpenAPI document too large") : 0;
}

/* ---- HTTP-side handlers: one line each ------------------------------------------- */

#define VIA(hname, lf, schema)                                                              \
	static int hname(void *ctx, struct api_request *req, struct api_response *resp,     \
			 struct aidc_err *e)                                                \
	{                                                                                   \
		return via(ctx, req, resp, e, lf, schema);                                  \
	}

VIA(h_submit, lf_submit, &api_schema_job_submit)
VIA(h_list, lf_list, NULL)
VIA(h_get, lf_get, NULL)
VIA(h_cancel, ctld_lf_audited_job_cancel, NULL)
VIA(h_requeue, ctld_lf_audited_job_requeue, NULL)
VIA(h_hold, ctld_lf_audited_job_hold, NULL)
VIA(h_release, ctld_lf_audited_job_release, NULL)
VIA(h_nodes, ctld_lf_nodes_list, NULL)
VIA(h_node, ctld_lf_node_get, NULL)
VIA(h_drain, ctld_lf_audited_node_drain, NULL)
VIA(h_resume, ctld_lf_audited_node_resume, NULL)
VIA(h_health, lf_health, NULL)
VIA(h_metrics, ctld_lf_metrics, NULL)
VIA(h_metrics_services, ctld_lf_metrics_services, NULL)
VIA(h_register, ctld_lf_register, &api_schema_agent_register)
VIA(h_heartbeat, ctld_lf_heartbeat, &api_schema_heartbeat)
VIA(h_work, ctld_lf_work, NULL)
VIA(h_task_status_batch, ctld_lf_task_status_batch, &api_schema_task_status_batch)
VIA(h_task_logs, ctld_lf_task_logs, NULL)
VIA(h_token_create, ctld_lf_audited_token_create, &api_schema_token_create)
VIA(h_token_list, ctld_lf_token_list, NULL)
VIA(h_token_revoke, ctld_lf_audited_token_revoke, NULL)
VIA(h_account_list, ctld_lf_account_list, NULL)
VIA(h_account_add, ctld_lf_audited_account_add, NULL)
VIA(h_account_get, ctld_lf_account_get, NULL)
VIA(h_account_modify, ctld_lf_audited_account_modify, NULL)
VIA(h_account_delete, ctld_lf_audited_account_delete, NULL)
VIA(h_user_list, ctld_lf_user_list, NULL)
VIA(h_user_add, ctld_lf_audited_user_add, NULL)
VIA(h_user_get, ctld_lf_user_get, NULL)
VIA(h_user_modify, ctld_lf_audited_user_modify, NULL)
VIA(h_user_delete, ctld_lf_audited_user_delete, NULL)
VIA(h_qos_list, ctld_lf_qos_list, NULL)
VIA(h_qos_add, ctld_lf_audited_qos_add, NULL)
VIA(h_qos_modify, ctld_lf_audited_qos_modify, NULL)
VIA(h_qos_delete, ctld_lf_audited_qos_delete, NULL)
VIA(h_audit, ctld_lf_audit_list, NULL)
VIA(h_acct, ctld_lf_acct_list, NULL)
VIA(h_usage, ctld_lf_usage, NULL)
VIA(h_exam_publish, ctld_lf_exam_publish, NULL)
VIA(h_services, ctld_lf_service_list, NULL)
VIA(h_service_create, ctld_lf_service_create, &api_schema_service_spec)
VIA(h_service_get, ctld_lf_service_get, NULL)
VIA(h_service_update, ctld_lf_audited_service_update, &api_schema_service_spec)
VIA(h_service_scale, ctld_lf_audited_service_scale, &api_schema_service_scale)
VIA(h_service_delete, ctld_lf_audited_service_delete, NULL)
VIA(h_rates, ctld_lf_rates_list, NULL)
VIA(h_rate_set, ctld_lf_rate_set, NULL)
VIA(h_speeds, ctld_lf_speeds, NULL)
VIA(h_share, ctld_lf_share, NULL)
VIA(h_queue, ctld_lf_queue, NULL)
VIA(h_priority, lf_priority, NULL)
VIA(h_steps_post, ctld_lf_steps_post, NULL)
VIA(h_steps_get, ctld_lf_steps_get, NULL)
VIA(h_steps_list, ctld_lf_steps_list, NULL)

const struct api_route ctld_routes[] = {
	{"POST", "/v1/jobs", h_submit, API_ROLE_USER, "JobSubmit", "Job",
	 "submit a job; it runs as the caller's uid"},
	{"GET", "/v1/jobs", h_list, API_ROLE_USER, NULL, "JobList",
	 "list jobs (?state=, ?user=); users see their own, admins all"},
	{"GET", "/v1/queue", h_queue, API_ROLE_USER, NULL, "Queue",
	 "live jobs one page at a time with counts by state and pending reason "
	 "(?state=&user=&account=&partition=&reason=&limit=&offset=|after=); users see their "
	 "own, admins all"},
	{"GET", "/v1/jobs/{id}", h_get, API_ROLE_USER, NULL, "Job", "one job with its tasks"},
	{"POST", "/v1/jobs/{id}/cancel", h_cancel, API_ROLE_USER, NULL, "Job", "cancel a job"},
	{"POST", "/v1/jobs/{id}/requeue", h_requeue, API_ROLE_USER, NULL, "Job",
	 "stop a running job and queue it again"},
	{"POST", "/v1/jobs/{id}/hold", h_hold, API_ROLE_USER, NULL, "Job",
	 "hold a pending job: it stays pending (reason \"held\") and never starts until "
	 "released; 409 for a job that is not pending"},
	{"POST", "/v1/jobs/{id}/release", h_release, API_ROLE_USER, NULL, "Job",
	 "release a held job: it is queued again; 409 for a job that is not held"},
	{"GET", "/v1/jobs/{id}/logs", h_logs, API_ROLE_USER, NULL, "text/plain",
	 "task output (?task=N&stream=out|err&offset=B&follow=1&wait=S; &step=S: that srun "
	 "step's output on node N); X-AIDC-Offset is the "
	 "next offset, X-AIDC-Done=1 once the job ended and all output was read"},
	{"POST", "/v1/jobs/{id}/steps", h_steps_post, API_ROLE_USER, NULL, "Ok",
	 "srun steps of a running batch job, the job's own user only: {op: "
	 "start|signal|report|end, step, ...}; {op: cancel, step} also admins; "
	 "?op=output&step=S&node=N&stream=out|err&offset=B: a node's output (docs/slurm.md)"},
	{"GET", "/v1/jobs/{id}/steps", h_steps_get, API_ROLE_USER, NULL, NULL,
	 "the job's running srun steps with their reports; ?node=K: those node K runs and has "
	 "not reported (its step holder)"},
	{"GET", "/v1/steps", h_steps_list, API_ROLE_USER, NULL, NULL,
	 "running srun steps of the jobs the caller may see; ?job=ID[.STEP][,...]: every step of "
	 "those jobs, ended ones included (squeue -s, sacct)"},
	{"GET", "/v1/nodes", h_nodes, API_ROLE_USER, NULL, "NodeList", "list nodes"},
	{"GET", "/v1/nodes/{name}", h_node, API_ROLE_USER, NULL, "Node", "one node"},
	{"POST", "/v1/nodes/{name}/drain", h_drain, API_ROLE_ADMIN, NULL, "Node",
	 "let running jobs finish, start nothing new (?reason=TEXT)"},
	{"POST", "/v1/nodes/{name}/resume", h_resume, API_ROLE_ADMIN, NULL, "Node",
	 "undo a drain"},
	{"POST", "/v1/tokens", h_token_create, API_ROLE_USER, "TokenCreate", "TokenCreated",
	 "create a per-user API token (Unix socket only); the token is in this reply only"},
	{"GET", "/v1/tokens", h_token_list, API_ROLE_USER, NULL, "TokenList",
	 "list tokens (never their secrets); users see their own, admins all"},
	{"POST", "/v1/tokens/{id}/revoke", h_token_revoke, API_ROLE_USER, NULL, "Token",
	 "revoke a token at once"},
	{"GET", "/v1/accounts", h_account_list, API_ROLE_USER, NULL, "AccountList",
	 "accounts the caller may see (admins all; docs/tenancy.md)"},
	{"POST", "/v1/accounts", h_account_add, API_ROLE_USER, "Account", "Account",
	 "add an account: admins; coordinators of an organization add its projects"},
	{"GET", "/v1/accounts/{name}", h_account_get, API_ROLE_USER, NULL, "Account",
	 "one account with its users, projects and live jobs"},
	{"POST", "/v1/accounts/{name}", h_account_modify, API_ROLE_USER, "Account", "Account",
	 "change the fields given (admins; coordinators: description and limits)"},
	{"POST", "/v1/accounts/{name}/delete", h_account_delete, API_ROLE_ADMIN, NULL, "Deleted",
	 "delete an account without projects, users or live jobs"},
	{"GET", "/v1/users", h_user_list, API_ROLE_USER, NULL, "UserList",
	 "user associations the caller may see"},
	{"POST", "/v1/users", h_user_add, API_ROLE_USER, "User", "User",
	 "add a user with its accounts (admins; coordinators for their accounts)"},
	{"GET", "/v1/users/{name}", h_user_get, API_ROLE_USER, NULL, "User", "one user"},
	{"POST", "/v1/users/{name}", h_user_modify, API_ROLE_USER, "User", "User",
	 "change a user's accounts (add_accounts, remove_accounts) or default_account"},
	{"POST", "/v1/users/{name}/delete", h_user_delete, API_ROLE_USER, NULL, "Deleted",
	 "remove a user without live jobs from the accounts"},
	{"GET", "/v1/qos", h_qos_list, API_ROLE_USER, NULL, "QosList", "every QoS"},
	{"POST", "/v1/qos", h_qos_add, API_ROLE_ADMIN, "Qos", "Qos", "add a QoS (admins)"},
	{"POST", "/v1/qos/{name}", h_qos_modify, API_ROLE_ADMIN, "Qos", "Qos",
	 "change the fields given (admins)"},
	{"POST", "/v1/qos/{name}/delete", h_qos_delete, API_ROLE_ADMIN, NULL, "Deleted",
	 "delete a QoS no account allows and no live job uses"},
	{"GET", "/v1/audit", h_audit, API_ROLE_USER, NULL, "AuditList",
	 "audit records (?since=S&until=S&actor=NAME&action=A&after=ID&limit=N); admins "
	 "read all, others their own (docs/accounting.md)"},
	{"GET", "/v1/acct", h_acct, API_ROLE_USER, NULL, "AcctList",
	 "job accounting records (?user=&account=&state=&jobs=&since=S&until=S&after=&limit=)"},
	{"GET", "/v1/usage", h_usage, API_ROLE_USER, NULL, "Usage",
	 "device-seconds by account, user or organization and device model (?by=&since=&until=)"},
	{"POST", "/v1/exam/publish", h_exam_publish, API_ROLE_ADMIN, NULL, NULL,
	 "record a device model's exam report and its derived rate (admins; audited)"},
	{"GET", "/v1/rates", h_rates, API_ROLE_USER, NULL, NULL,
	 "per-model rates: normalized units per device-second (docs/accounting.md)"},
	{"POST", "/v1/rates", h_rate_set, API_ROLE_ADMIN, NULL, NULL,
	 "override a model's rate: {model, rate_ppm, reason} (admins; audited)"},
	{"GET", "/v1/speeds", h_speeds, API_ROLE_USER, NULL, NULL,
	 "the speed table of job classes on device models, from progress reports "
	 "(docs/placement.md)"},
	{"GET", "/v1/services", h_services, API_ROLE_USER, NULL, "ServiceList",
	 "the caller's services (all for admins) and whether the router runs"},
	{"POST", "/v1/services", h_service_create, API_ROLE_USER, "ServiceSpec", "Service",
	 "create a service: replicas of one command behind one address (docs/services.md)"},
	{"GET", "/v1/services/{name}", h_service_get, API_ROLE_USER, NULL, "Service",
	 "one service with its replicas"},
	{"POST", "/v1/services/{name}", h_service_update, API_ROLE_USER, "ServiceSpec", "Service",
	 "a new spec: a rolling update, rolled back if its replicas keep failing"},
	{"POST", "/v1/services/{name}/scale", h_service_scale, API_ROLE_USER, "ServiceScale",
	 "Service", "a new replica count"},
	{"POST", "/v1/services/{name}/delete", h_service_delete, API_ROLE_USER, NULL, "Service",
	 "delete a service: its replicas leave the router, then stop"},
	{"GET", "/v1/share", h_share, API_ROLE_USER, NULL, "Share",
	 "the fair-share tree: shares, decayed usage and fair-share factor of the groups the "
	 "caller may see (docs/tenancy.md)"},
	{"GET", "/v1/jobs/{id}/priority", h_priority, API_ROLE_USER, NULL, "JobPriority",
	 "a pending job's multifactor priority, factor by factor"},
	{"GET", "/v1/health", h_health, API_ROLE_PUBLIC, NULL, "Health",
	 "liveness of the event loop"},
	{"GET", "/", ctld_h_ui_root, API_ROLE_PUBLIC, NULL, NULL, "redirects to the dashboard (/ui)"},
	{"GET", "/ui", ctld_h_ui_file, API_ROLE_PUBLIC, NULL, "text/html",
	 "the web dashboard (docs/dashboard.md)"},
	{"GET", "/ui/{file}", ctld_h_ui_file, API_ROLE_PUBLIC, NULL, "text/plain",
	 "the dashboard's static files (.html, .js, .css, .svg)"},
	{"POST", "/ui/login", ctld_h_ui_login, API_ROLE_PUBLIC, "UiLogin", "Whoami",
	 "checks a token and keeps it in an HttpOnly SameSite=Strict cookie (aidc_token) that "
	 "authenticates GET /v1/... requests"},
	{"POST", "/ui/logout", ctld_h_ui_logout, API_ROLE_PUBLIC, NULL, "Whoami",
	 "clears the dashboard's cookie"},
	{"GET", "/v1/whoami", ctld_h_whoami, API_ROLE_USER, NULL, "Whoami",
	 "the caller's identity: user, uid, admin, how authenticated"},
	{"GET", "/metrics", h_metrics, API_ROLE_PUBLIC, NULL, "text/plain",
	 "Prometheus metrics"},
	{"GET", "/metrics/services", h_metrics_services, API_ROLE_USER, NULL, "text/plain",
	 "Prometheus metrics per inference service, named: the caller's services (admins: "
	 "every one)"},
	{"GET", "/v1/openapi.json", h_openapi, API_ROLE_PUBLIC, NULL, "OpenAPI",
	 "this API's OpenAPI 3 document"},
	{"POST", "/v1/agents/register", h_register, API_ROLE_AGENT, "AgentRegister", "AgentOk",
	 "an agent announces its node, identity (agent_id, epoch) and what it still runs; "
	 "refused for another agent protocol version or a name a live agent holds"},
	{"POST", "/v1/agents/{node}/heartbeat", h_heartbeat, API_ROLE_AGENT, "Heartbeat", "AgentOk",
	 "liveness, the tasks the agent runs, and its problem (drains the node)"},
	{"GET", "/v1/nodes/{node}/work", h_work, API_ROLE_AGENT, NULL, "Work",
	 "long-poll (?wait=S&epoch=E) for launch and kill orders"},
	{"POST", "/v1/agents/{node}/tasks/status", h_task_status_batch, API_ROLE_AGENT,
	 "TaskStatusBatch", "Ok",
	 "task reports (started, exited, failed to start, lost), applied in order"},
	{"POST", "/v1/agents/{node}/tasks/{job}/{task}/logs", h_task_logs, API_ROLE_AGENT, NULL,
	 "LogSize",
	 "append task output (?stream=out|err&offset=B&attempt=A&epoch=E; raw body; "
	 "idempotent; 409 for another attempt)"},
};
const size_t ctld_nroutes = sizeof ctld_routes / sizeof ctld_routes[0];
