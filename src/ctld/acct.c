/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job accounting (issue 12 item 1, docs/accounting.md): one record per
 * attempt of a job, written by ctld_acct_record in the transaction that ends
 * the attempt (job end, requeue, cancel while pending), and the read routes
 * GET /v1/acct (sacct-like) and GET /v1/usage (sreport-like). Reads use the
 * job_acct table only, never the live jobs table.
 *
 * Device-seconds: each task's devices (times its share: gpu_milli) times its run time (its start
 * to its end; the attempt's start and end where the task has none), summed
 * per device model (the node's model; "mixed" for a node of several models).
 * CPU time (summed over tasks) and peak memory (the largest task's) come from
 * each task's end report: the agent's cgroup counters (v2 cpu.stat and
 * memory.peak, v1 memory.max_usage_in_bytes), else the rusage of the task's
 * leader. When any task's value is unknown the record says "not measured"
 * (-1, null in JSON) rather than a partial sum.
 *
 * Visibility: admins read all records; an account coordinator the records of
 * the accounts they coordinate (an organization's coordinator: its projects
 * too) and their own; anyone else their own records only.
 */
#include "ctld/ctld_int.h"
#include "util/util.h"

/* Per-model sums of one attempt: at most one entry per distinct model. */
struct model_sum {
	const char *model; /* borrowed from the node */
	int64_t devices, dev_s;
};

static void add_model(struct model_sum *v, size_t *n, size_t cap, const char *model,
		      int64_t devices, int64_t dev_s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i].model, model) == 0) {
			v[i].devices += devices;
			v[i].dev_s += dev_s;
			return;
		}
	if (*n < cap)
		v[(*n)++] = (struct model_sum){model, devices, dev_s};
}

static void write_models(struct aidc_buf *b, const struct model_sum *v, size_t n, bool secs)
{
	struct aidc_json w;
	aidc_json_init(&w, b, false);
	aidc_json_obj_begin(&w);
	for (size_t i = 0; i < n; i++)
		aidc_json_ki64(&w, v[i].model, secs ? v[i].dev_s : v[i].devices);
	aidc_json_obj_end(&w);
	aidc_json_finish(&w);
}

/* The pieces of one attempt's record gathered from its tasks. */
struct attempt_sums {
	struct aidc_buf nodes, devices, dev_s, tasks, rates;
	int64_t total, ndev;
	int64_t units_ppm; /* sum over models of dev_s x rate (millionths) */
	int64_t cpu_usec, mem_peak_bytes; /* sum / max over tasks; -1 when one is unknown */
};

static void task_json(struct aidc_json *tw, const struct ctld_task *k, uint32_t t, const char *node,
		      const char *model, int64_t dev_s)
{
	aidc_json_obj_begin(tw);
	aidc_json_ki64(tw, "index", t);
	aidc_json_kstr(tw, "node", node);
	aidc_json_kstr(tw, "state", ctld_task_state_name(k->state));
	aidc_json_ki64(tw, "exit_code", k->exit_code);
	aidc_json_ki64(tw, "signal", k->term_signal);
	aidc_json_ki64(tw, "start_s", k->start_s);
	aidc_json_ki64(tw, "end_s", k->end_s);
	aidc_json_ki64(tw, "devices", k->ndev);
	aidc_json_kstr(tw, "model", model);
	aidc_json_ki64(tw, "device_seconds", dev_s);
	aidc_json_key(tw, "cpu_usec");
	if (k->usage_set && k->cpu_usec >= 0)
		aidc_json_i64(tw, k->cpu_usec);
	else
		aidc_json_null(tw);
	aidc_json_key(tw, "mem_peak_bytes");
	if (k->usage_set && k->mem_peak_bytes >= 0)
		aidc_json_i64(tw, k->mem_peak_bytes);
	else
		aidc_json_null(tw);
	aidc_json_obj_end(tw);
}

/* Normalized units: each model's device-seconds x its published rate (rate 1,
 * 1,000,000 millionths, for a model without one: it is then absent from the
 * record's rates). Saturates rather than wraps (beyond 9.2e12 units). */
static void charge(const struct ctld *c, const struct model_sum *ms, size_t n,
		   struct attempt_sums *a)
{
	struct aidc_json w;
	aidc_json_init(&w, &a->rates, false);
	aidc_json_obj_begin(&w);
	for (size_t i = 0; i < n; i++) {
		int64_t ppm = ctld_rate_ppm(c, ms[i].model), u;
		if (ppm > 0)
			aidc_json_ki64(&w, ms[i].model, ppm);
		if (__builtin_mul_overflow(ms[i].dev_s, ppm > 0 ? ppm : 1000000, &u) ||
		    __builtin_add_overflow(a->units_ppm, u, &a->units_ppm))
			a->units_ppm = INT64_MAX;
	}
	aidc_json_obj_end(&w);
	aidc_json_finish(&w);
}

/* Fills a (its buffers initialized by the caller) from j's tasks; 0 or the
 * JSON writer's error. */
static int sum_tasks(struct ctld *c, const struct ctld_job *j, int64_t end_s,
		     struct attempt_sums *a)
{
	size_t cap = j->ntasks ? j->ntasks : 1, nms = 0;
	struct model_sum *ms = aidc_calloc(cap, sizeof *ms);
	struct aidc_json tw;
	aidc_json_init(&tw, &a->tasks, false);
	aidc_json_arr_begin(&tw);
	for (uint32_t t = 0; j->tasks && t < j->ntasks; t++) {
		const struct ctld_task *k = &j->tasks[t];
		const struct ctld_node *n = &c->nodes[k->node];
		int64_t s = k->start_s ? k->start_s : j->start_s;
		int64_t en = k->end_s ? k->end_s : end_s;
		int64_t run = s > 0 && en > s ? en - s : 0;
		const char *model = n->model[0] ? n->model : "unknown";
		/* A share of a device is charged its part (rounded): 0.5 x 10 s = 5 s. */
		uint32_t milli = k->dev_milli ? k->dev_milli : AIDC_DEVICE_MILLI;
		int64_t ds =
			((int64_t)k->ndev * run * milli + AIDC_DEVICE_MILLI / 2) / AIDC_DEVICE_MILLI;
		if (k->ndev)
			add_model(ms, &nms, cap, model, k->ndev, ds);
		a->total += ds;
		a->ndev += k->ndev;
		/* Node names, each once, in task order. */
		bool seen = false;
		for (uint32_t u = 0; u < t && !seen; u++)
			seen = j->tasks[u].node == k->node;
		if (!seen)
			aidc_buf_printf(&a->nodes, "%s%s", a->nodes.len ? "," : "", n->name);
		task_json(&tw, k, t, n->name, model, ds);
		/* CPU time adds up over tasks; peak memory is the largest task's. */
		if (!k->usage_set || k->cpu_usec < 0 || a->cpu_usec < 0)
			a->cpu_usec = -1;
		else
			a->cpu_usec += k->cpu_usec;
		if (!k->usage_set || k->mem_peak_bytes < 0 || a->mem_peak_bytes < 0)
			a->mem_peak_bytes = -1;
		else if (k->mem_peak_bytes > a->mem_peak_bytes)
			a->mem_peak_bytes = k->mem_peak_bytes;
	}
	aidc_json_arr_end(&tw);
	write_models(&a->devices, ms, nms, false);
	write_models(&a->dev_s, ms, nms, true);
	charge(c, ms, nms, a);
	aidc_free(ms);
	return aidc_json_finish(&tw);
}

int ctld_acct_record(struct ctld *c, const struct ctld_job *j, int state, int64_t end_s,
		     struct aidc_err *e)
{
	/* An attempt without tasks (cancelled while pending) used none. */
	struct attempt_sums a = {.total = 0, .cpu_usec = 0, .mem_peak_bytes = 0};
	aidc_buf_init(&a.nodes, 1u << 20);
	aidc_buf_init(&a.devices, 1u << 20);
	aidc_buf_init(&a.dev_s, 1u << 20);
	aidc_buf_init(&a.tasks, 4u << 20);
	aidc_buf_init(&a.rates, 1u << 20);
	int rc = sum_tasks(c, j, end_s, &a);
	struct store_acct r = {
	    .job_id = j->id,
	    .attempt = j->attempt,
	    .uid = j->uid,
	    .user = j->user,
	    .account = j->spec.account ? j->spec.account : "",
	    .qos = j->spec.qos ? j->spec.qos : "",
	    .name = j->name,
	    .state = state,
	    .exit_code = j->exit_code,
	    .term_signal = j->term_signal,
	    .submit_s = j->submit_s,
	    .start_s = j->tasks ? j->start_s : 0,
	    .end_s = end_s,
	    .ntasks = j->ntasks,
	    .ndev = (uint32_t)a.ndev,
	    .nodes = aidc_buf_str(&a.nodes),
	    .devices = aidc_buf_str(&a.devices),
	    .dev_s = aidc_buf_str(&a.dev_s),
	    .dev_s_total = a.total,
	    .cpu_usec = a.cpu_usec,
	    .mem_peak_bytes = a.mem_peak_bytes,
	    .tasks = aidc_buf_str(&a.tasks),
	    .rates = a.rates.len ? aidc_buf_str(&a.rates) : "{}",
	    .units_ppm = a.units_ppm,
	};
	if (rc == 0)
		rc = c->st->ops->acct_add(c->st, &r, NULL, e);
	else
		aidc_errf(e, rc, "accounting record of job %" PRIu64 " too large", j->id);
	aidc_buf_release(&a.nodes);
	aidc_buf_release(&a.devices);
	aidc_buf_release(&a.dev_s);
	aidc_buf_release(&a.tasks);
	aidc_buf_release(&a.rates);
	return rc;
}

/* ---- reading ------------------------------------------------------------------ */

static bool has_name(const struct ctld_names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

/* Sets the query's scope for a caller who is not an admin: their own
 * records and those of the accounts they coordinate. names is caller-freed
 * (aidc_free; the strings are borrowed from the tenancy tables). */
static void scope(struct ctld *c, const struct api_identity *who, struct store_acct_query *q,
		  const char ***names)
{
	*names = NULL;
	if (who->admin)
		return;
	q->scoped = true;
	q->scope_uid = who->uid;
	size_t n = 0, cap = 0;
	const char **v = NULL;
	for (size_t i = 0; i < c->ten.acct.n; i++) {
		const struct ctld_account *a = c->ten.acct.v[i];
		const struct ctld_account *org =
		    a->parent[0] ? ctld_account_find(c, a->parent) : NULL;
		if (has_name(&a->coordinators, who->user) ||
		    (org && has_name(&org->coordinators, who->user))) {
			AIDC_GROW(v, cap, n + 1);
			v[n++] = a->name;
		}
	}
	q->scope_accounts = v;
	q->nscope_accounts = n;
	*names = v;
}

static int parse_states(const char *s, uint64_t *mask, struct aidc_err *e)
{
	char buf[256];
	if (strlen(s) >= sizeof buf)
		return aidc_errf(e, AIDC_E_INVAL, "state: too long");
	snprintf(buf, sizeof buf, "%s", s);
	*mask = 0;
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int st = ctld_job_state_parse(t);
		if (st < CTLD_JOB_COMPLETED)
			return aidc_errf(
			    e, AIDC_E_INVAL,
			    "state: '%.32s' is not a state of an ended attempt (completed, "
			    "failed, cancelled, timeout, node_fail, requeue)",
			    t);
		*mask |= UINT64_C(1) << st;
	}
	if (!*mask)
		return aidc_errf(e, AIDC_E_INVAL, "state: empty");
	return 0;
}

static int parse_ids(const char *s, uint64_t *ids, size_t *n, struct aidc_err *e)
{
	*n = 0;
	const char *p = s;
	while (*p) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p || errno || v == 0 || v > INT64_MAX || (*end && *end != ',') ||
		    *p == '-' || *p == '+' || *p == ' ')
			return aidc_errf(e, AIDC_E_INVAL, "jobs: comma-separated job ids");
		if (*n == AIDC_MAX_ACCT_JOB_IDS)
			return aidc_errf(e, AIDC_E_LIMIT, "jobs: at most %u ids",
					 AIDC_MAX_ACCT_JOB_IDS);
		ids[(*n)++] = v;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return aidc_errf(e, AIDC_E_INVAL, "jobs: comma-separated job ids");
	}
	if (!*n)
		return aidc_errf(e, AIDC_E_INVAL, "jobs: empty");
	return 0;
}

/* The filters common to /v1/acct and /v1/usage; ids is caller storage. */
static int parse_filters(struct ctld_msg *m, struct store_acct_query *q, uint64_t *ids)
{
	const struct api_request *r = m->req;
	const char *since = api_query(r, "since"), *until = api_query(r, "until"),
		   *state = api_query(r, "state"), *jobs = api_query(r, "jobs");
	q->user = api_query(r, "user");
	q->account = api_query(r, "account");
	q->since_s = INT64_MIN;
	q->after_end_s = INT64_MIN;
	if (q->user && !*q->user)
		return aidc_errf(&m->err, AIDC_E_INVAL, "user: a login name");
	if (q->account && !*q->account)
		return aidc_errf(&m->err, AIDC_E_INVAL, "account: an account name");
	if (since && aidc_parse_i64(since, 0, INT64_MAX, &q->since_s))
		return aidc_errf(&m->err, AIDC_E_INVAL, "since: Unix seconds");
	if (until && aidc_parse_i64(until, 1, INT64_MAX, &q->until_s))
		return aidc_errf(&m->err, AIDC_E_INVAL, "until: Unix seconds (above 0)");
	if (since && until && q->until_s <= q->since_s)
		return aidc_errf(&m->err, AIDC_E_INVAL, "until must be after since");
	if (state && parse_states(state, &q->state_mask, &m->err))
		return AIDC_E_INVAL;
	if (jobs) {
		int rc = parse_ids(jobs, ids, &q->njob_ids, &m->err);
		if (rc)
			return rc;
		q->job_ids = ids;
	}
	return 0;
}

struct acct_rows {
	struct ctld *c;
	struct aidc_json *w;
	bool tasks; /* include the per-task detail */
	uint64_t n, max, last_id;
	int64_t last_end_s;
	bool more;
};

static void ki64_or_null(struct aidc_json *w, const char *k, int64_t v)
{
	aidc_json_key(w, k);
	if (v < 0)
		aidc_json_null(w);
	else
		aidc_json_i64(w, v);
}

static int acct_row(void *ctx, const struct store_acct *a)
{
	struct acct_rows *r = ctx;
	struct aidc_json *w = r->w;
	if (r->n == r->max) {
		r->more = true;
		return 1;
	}
	aidc_json_obj_begin(w);
	aidc_json_ki64(w, "record", (int64_t)a->id);
	aidc_json_ki64(w, "job_id", (int64_t)a->job_id);
	aidc_json_ki64(w, "attempt", a->attempt);
	aidc_json_ki64(w, "uid", a->uid);
	aidc_json_kstr(w, "user", a->user);
	aidc_json_kstr(w, "account", a->account);
	aidc_json_kstr(w, "qos", a->qos);
	aidc_json_kstr(w, "name", a->name);
	aidc_json_kstr(w, "state", ctld_job_state_name(a->state));
	aidc_json_ki64(w, "exit_code", a->exit_code);
	aidc_json_ki64(w, "signal", a->term_signal);
	aidc_json_ki64(w, "submit_s", a->submit_s);
	aidc_json_ki64(w, "start_s", a->start_s);
	aidc_json_ki64(w, "end_s", a->end_s);
	aidc_json_ki64(w, "elapsed_s",
		       a->start_s > 0 && a->end_s > a->start_s ? a->end_s - a->start_s : 0);
	aidc_json_ki64(w, "ntasks", a->ntasks);
	aidc_json_ki64(w, "ndevices", a->ndev);
	aidc_json_kstr(w, "nodes", a->nodes);
	/* devices, device_seconds and tasks are documents the controller wrote
	 * itself (ctld_acct_record), copied as they are. */
	aidc_json_key(w, "devices");
	aidc_json_raw(w, a->devices);
	aidc_json_key(w, "device_seconds");
	aidc_json_raw(w, a->dev_s);
	aidc_json_ki64(w, "device_seconds_total", a->dev_s_total);
	/* Units in millionths, printed as an exact decimal. */
	aidc_json_key(w, "normalized_units");
	if (a->units_ppm >= 0) {
		char us[32];
		ctld_ppm_str(a->units_ppm, us, sizeof us);
		aidc_json_raw(w, us);
	} else {
		aidc_json_null(w);
	}
	aidc_json_key(w, "rates");
	aidc_json_raw(w, a->rates[0] ? a->rates : "{}");
	if (a->units_ppm < 0)
		aidc_json_kstr(w, "units_note", "recorded before normalized units existed");
	else
		aidc_json_kstr(w, "units_note",
			       "device-seconds x rate of the model; a model absent from rates had "
			       "no published exam and is charged at rate 1");
	ki64_or_null(w, "cpu_usec", a->cpu_usec);
	ki64_or_null(w, "mem_peak_bytes", a->mem_peak_bytes);
	if (a->cpu_usec < 0 || a->mem_peak_bytes < 0)
		aidc_json_kstr(w, "missing",
			       "cpu_usec or mem_peak_bytes: not measured for every task (an agent "
			       "without the cgroup counters and no rusage, or a task that ended "
			       "across an agent or controller restart)");
	if (r->tasks) {
		aidc_json_key(w, "tasks");
		aidc_json_raw(w, a->tasks);
	}
	aidc_json_obj_end(w);
	r->n++;
	r->last_id = a->id;
	r->last_end_s = a->end_s;
	return 0;
}

/* GET /v1/acct?user=&account=&state=a,b&jobs=1,2&since=S&until=S&after=END:ID&limit=N&tasks=0|1 */
int ctld_lf_acct_list(struct ctld *c, struct ctld_msg *m)
{
	struct store_acct_query q = {0};
	uint64_t ids[AIDC_MAX_ACCT_JOB_IDS];
	int rc = parse_filters(m, &q, ids);
	if (rc)
		return rc;
	const char *after = api_query(m->req, "after"), *lim = api_query(m->req, "limit"),
		   *tasks = api_query(m->req, "tasks");
	if (tasks && strcmp(tasks, "0") && strcmp(tasks, "1"))
		return aidc_errf(&m->err, AIDC_E_INVAL, "tasks: 0 or 1");
	int64_t limit = AIDC_MAX_ACCT_PAGE;
	if (lim && aidc_parse_i64(lim, 1, AIDC_MAX_ACCT_PAGE, &limit))
		return aidc_errf(&m->err, AIDC_E_INVAL, "limit: 1..%u records", AIDC_MAX_ACCT_PAGE);
	if (after) {
		long long ae, ai;
		int used = 0;
		if (sscanf(after, "%lld:%lld%n", &ae, &ai, &used) != 2 || after[used] || ai < 0)
			return aidc_errf(
			    &m->err, AIDC_E_INVAL,
			    "after: END_S:RECORD (the next_after of the previous page)");
		q.after_end_s = ae;
		q.after_id = (uint64_t)ai;
	}
	q.limit = (uint64_t)limit + 1;
	const char **names;
	scope(c, &m->req->who, &q, &names);
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_key(&w, "records");
	aidc_json_arr_begin(&w);
	struct acct_rows r = {
	    .c = c, .w = &w, .max = (uint64_t)limit, .tasks = !tasks || !strcmp(tasks, "1")};
	rc = c->st->ops->acct_query(c->st, &q, acct_row, &r, &m->err);
	aidc_free(names);
	if (rc < 0)
		return rc;
	aidc_json_arr_end(&w);
	aidc_json_kbool(&w, "more", r.more);
	if (r.more) {
		char cur[48];
		snprintf(cur, sizeof cur, "%" PRId64 ":%" PRIu64, r.last_end_s, r.last_id);
		aidc_json_kstr(&w, "next_after", cur);
	}
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}

/* ---- usage -------------------------------------------------------------------- */

enum { BY_ACCOUNT, BY_USER, BY_ORG };

struct usage_row {
	char key[2 * AIDC_MAX_NAME_BYTES + 2]; /* group key: org, account or account/user */
	char account[AIDC_MAX_NAME_BYTES], user[AIDC_MAX_NAME_BYTES];
	char model[AIDC_MAX_NAME_BYTES];
	int64_t dev_s, units_ppm;
	uint64_t records;
};

struct usage_acc {
	struct ctld *c;
	int by;
	struct usage_row *v;
	size_t n, cap;
};

static int usage_add(void *ctx, const char *account, const char *user, const char *model,
		     int64_t dev_s, int64_t units_ppm, uint64_t records)
{
	struct usage_acc *u = ctx;
	const char *group = account;
	if (u->by == BY_ORG) {
		const struct ctld_account *a = *account ? ctld_account_find(u->c, account) : NULL;
		group = a && a->parent[0] ? a->parent : account;
	}
	char key[sizeof u->v->key];
	if (u->by == BY_USER)
		snprintf(key, sizeof key, "%s/%s", account, user);
	else
		snprintf(key, sizeof key, "%s", group);
	/* Rows come grouped by (account, user, model): by user every key is new;
	 * by account or organization rows merge, found by a scan of the groups so
	 * far (accounts x models: small). */
	for (size_t i = 0; u->by != BY_USER && i < u->n; i++)
		if (!strcmp(u->v[i].key, key) && !strcmp(u->v[i].model, model)) {
			u->v[i].dev_s += dev_s;
			u->v[i].units_ppm += units_ppm;
			u->v[i].records += records;
			return 0;
		}
	AIDC_GROW(u->v, u->cap, u->n + 1);
	struct usage_row *r = &u->v[u->n++];
	memset(r, 0, sizeof *r);
	snprintf(r->key, sizeof r->key, "%s", key);
	snprintf(r->account, sizeof r->account, "%s", u->by == BY_ORG ? group : account);
	snprintf(r->user, sizeof r->user, "%s", u->by == BY_USER ? user : "");
	snprintf(r->model, sizeof r->model, "%s", model);
	r->dev_s = dev_s;
	r->units_ppm = units_ppm;
	r->records = records;
	return 0;
}

/* GET /v1/usage?by=account|user|organization&(the filters of /v1/acct) */
int ctld_lf_usage(struct ctld *c, struct ctld_msg *m)
{
	struct store_acct_query q = {0};
	uint64_t ids[AIDC_MAX_ACCT_JOB_IDS];
	int rc = parse_filters(m, &q, ids);
	if (rc)
		return rc;
	const char *bys = api_query(m->req, "by");
	int by = BY_ACCOUNT;
	if (bys && !strcmp(bys, "user"))
		by = BY_USER;
	else if (bys && !strcmp(bys, "organization"))
		by = BY_ORG;
	else if (bys && strcmp(bys, "account"))
		return aidc_errf(&m->err, AIDC_E_INVAL, "by: account, user or organization");
	const char **names;
	scope(c, &m->req->who, &q, &names);
	struct usage_acc u = {.c = c, .by = by};
	rc = c->st->ops->acct_usage(c->st, &q, usage_add, &u, &m->err);
	aidc_free(names);
	if (rc) {
		aidc_free(u.v);
		return rc;
	}
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_kstr(&w, "by",
		       by == BY_USER  ? "user"
		       : by == BY_ORG ? "organization"
				      : "account");
	aidc_json_key(&w, "since_s");
	if (q.since_s == INT64_MIN)
		aidc_json_null(&w);
	else
		aidc_json_i64(&w, q.since_s);
	aidc_json_key(&w, "until_s");
	if (q.until_s <= 0)
		aidc_json_null(&w);
	else
		aidc_json_i64(&w, q.until_s);
	aidc_json_key(&w, "rows");
	aidc_json_arr_begin(&w);
	int64_t total = 0, units = 0;
	char us[32];
	for (size_t i = 0; i < u.n; i++) {
		const struct usage_row *r = &u.v[i];
		aidc_json_obj_begin(&w);
		aidc_json_kstr(&w, by == BY_ORG ? "organization" : "account", r->account);
		if (by == BY_USER)
			aidc_json_kstr(&w, "user", r->user);
		aidc_json_kstr(&w, "model", r->model);
		aidc_json_ki64(&w, "device_seconds", r->dev_s);
		aidc_json_kf64(&w, "device_hours", (double)r->dev_s / 3600.0, 4);
		aidc_json_ki64(&w, "records", (int64_t)r->records);
		ctld_ppm_str(r->units_ppm, us, sizeof us);
		aidc_json_key(&w, "normalized_units");
		aidc_json_raw(&w, us);
		aidc_json_kbool(&w, "rated", ctld_rate_ppm(c, r->model) > 0);
		aidc_json_obj_end(&w);
		total += r->dev_s;
		units += r->units_ppm;
	}
	aidc_json_arr_end(&w);
	aidc_json_ki64(&w, "device_seconds_total", total);
	aidc_json_kf64(&w, "device_hours_total", (double)total / 3600.0, 4);
	ctld_ppm_str(units, us, sizeof us);
	aidc_json_key(&w, "normalized_units_total");
	aidc_json_raw(&w, us);
	aidc_json_kstr(&w, "units_note",
		       "normalized units = device-seconds x the rate of the model when each record "
		       "was written; rated false: no exam published for the model, charged at "
		       "rate 1 (aidc rates)");
	aidc_json_obj_end(&w);
	aidc_free(u.v);
	return aidc_json_finish(&w);
}
