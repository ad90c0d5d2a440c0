/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log, job accounting records and rates of the PostgreSQL store
 * (schema 6 and 7, docs/accounting.md), as store_acct.c does them for SQLite:
 * inserts and filtered reads, never updates or deletes (the schema's
 * triggers refuse those, TRUNCATE included).
 *
 * Reads build their WHERE clause from the filters given, so the planner can
 * use the index that fits (job_acct_end, job_acct_uid_end,
 * job_acct_account_end); the listing order (end_s, id) is theirs. The usage
 * sums read each record's dev_s and rates JSON text as jsonb. Cost: one
 * round trip per call (the query is planned each time, as SQLite prepares
 * it each time), then O(rows returned + log n).
 */
#include "store/store_pg_int.h"
#include "util/util.h"

/* A query built at run time and its parameters. */
struct qb {
	struct aidc_buf sql;
	struct store_pg_params p;
};

/* Appends clause, whose one placeholder "?" becomes $<next>, with value v. */
static void put(struct qb *b, const char *clause, bool text, const char *s, int64_t v)
{
	const char *q = strchr(clause, '?');
	aidc_buf_append(&b->sql, clause, q ? (size_t)(q - clause) : strlen(clause));
	if (!q)
		return;
	aidc_buf_printf(&b->sql, "$%d", b->p.n + 1);
	aidc_buf_puts(&b->sql, q + 1);
	if (text)
		store_pg_text(&b->p, s);
	else
		store_pg_i64(&b->p, v);
}

static void qb_i64(struct qb *b, const char *clause, int64_t v)
{
	put(b, clause, false, NULL, v);
}

static void qb_text(struct qb *b, const char *clause, const char *s)
{
	put(b, clause, true, s, 0);
}

static struct qb *qb_new(const char *head)
{
	struct qb *b = aidc_calloc(1, sizeof *b);
	aidc_buf_init(&b->sql, 64 * 1024);
	aidc_buf_puts(&b->sql, head);
	return b;
}

static void qb_free(struct qb *b)
{
	aidc_buf_release(&b->sql);
	aidc_free(b);
}

static int64_t clamp_u64(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Text parameters default to "" as in store_acct.c. */
static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* ---- audit ----------------------------------------------------------------- */

int store_pg_audit_add(struct store *st, const struct store_audit *a, uint64_t *out_id,
		       struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, a->time_s);
	store_pg_i64(&p, a->actor_uid);
	store_pg_text(&p, or_empty(a->actor));
	store_pg_text(&p, or_empty(a->via));
	store_pg_text(&p, or_empty(a->action));
	store_pg_text(&p, or_empty(a->target));
	store_pg_i64(&p, a->target_uid);
	store_pg_text(&p, or_empty(a->detail));
	PGresult *r = NULL;
	int rc = store_pg_run(st,
			      "INSERT INTO audit (time_s, actor_uid, actor, via, action, target,"
			      " target_uid, detail) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id",
			      &p, &r, "audit_add", e);
	if (rc == 0 && out_id)
		*out_id = (uint64_t)store_pg_col_i64(r, 0, 0);
	PQclear(r);
	return rc;
}

int store_pg_audit_query(struct store *st, const struct store_audit_query *q, store_audit_fn fn,
			 void *ctx, struct aidc_err *e)
{
	struct qb *b = qb_new("SELECT id, time_s, actor_uid, actor, via, action, target,"
			      " target_uid, detail FROM audit WHERE ");
	qb_i64(b, "id > ?", clamp_u64(q->after_id));
	if (q->uid >= 0) {
		qb_i64(b, " AND (actor_uid = ?", q->uid);
		qb_i64(b, " OR target_uid = ?)", q->uid);
	}
	if (q->actor)
		qb_text(b, " AND actor = ?", q->actor);
	if (q->action)
		qb_text(b, " AND action = ?", q->action);
	if (q->since_s > INT64_MIN)
		qb_i64(b, " AND time_s >= ?", q->since_s);
	if (q->until_s > 0)
		qb_i64(b, " AND time_s < ?", q->until_s);
	qb_i64(b, " ORDER BY id LIMIT ?", clamp_u64(q->limit));
	PGresult *r = NULL;
	int rc = store_pg_run(st, aidc_buf_str(&b->sql), &b->p, &r, "audit_query", e);
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		struct store_audit a = {
		    .id = (uint64_t)store_pg_col_i64(r, i, 0),
		    .time_s = store_pg_col_i64(r, i, 1),
		    .actor_uid = store_pg_col_i64(r, i, 2),
		    .actor = store_pg_col(r, i, 3),
		    .via = store_pg_col(r, i, 4),
		    .action = store_pg_col(r, i, 5),
		    .target = store_pg_col(r, i, 6),
		    .target_uid = store_pg_col_i64(r, i, 7),
		    .detail = store_pg_col(r, i, 8),
		};
		rc = fn(ctx, &a);
	}
	PQclear(r);
	qb_free(b);
	return rc;
}

/* ---- accounting -------------------------------------------------------------- */

#define ACCT_COLS                                                                                  \
	"id, job_id, attempt, uid, \"user\", account, qos, name, state, exit_code, term_signal, "  \
	"submit_s, start_s, end_s, ntasks, ndev, nodes, devices, dev_s, dev_s_total, "             \
	"cpu_usec, mem_peak_bytes, tasks, rates, units_ppm"

int store_pg_acct_add(struct store *st, const struct store_acct *r, uint64_t *out_id,
		      struct aidc_err *e)
{
	if (r->job_id == 0 || r->job_id > (uint64_t)INT64_MAX)
		return aidc_errf(e, AIDC_E_INVAL, "store: job id out of range");
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, (int64_t)r->job_id);
	store_pg_i64(&p, r->attempt);
	store_pg_i64(&p, r->uid);
	const char *texts1[] = {r->user, r->account, r->qos, r->name};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(texts1); i++)
		store_pg_text(&p, or_empty(texts1[i]));
	const int64_t nums[] = {r->state,   r->exit_code, r->term_signal, r->submit_s,
				r->start_s, r->end_s,     r->ntasks,      r->ndev};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(nums); i++)
		store_pg_i64(&p, nums[i]);
	store_pg_text(&p, or_empty(r->nodes));
	store_pg_text(&p, r->devices ? r->devices : "{}");
	store_pg_text(&p, r->dev_s ? r->dev_s : "{}");
	store_pg_i64(&p, r->dev_s_total);
	store_pg_i64(&p, r->cpu_usec);
	store_pg_i64(&p, r->mem_peak_bytes);
	store_pg_text(&p, r->tasks ? r->tasks : "[]");
	store_pg_text(&p, r->rates ? r->rates : "{}");
	store_pg_i64(&p, r->units_ppm);
	/* A (job_id, attempt) already recorded inserts nothing (AIDC_E_EXISTS)
	 * and leaves the transaction usable. */
	PGresult *res = NULL;
	int rc = store_pg_run(
	    st,
	    "INSERT INTO job_acct (job_id, attempt, uid, \"user\", account, qos, name,"
	    " state, exit_code, term_signal, submit_s, start_s, end_s, ntasks, ndev,"
	    " nodes, devices, dev_s, dev_s_total, cpu_usec, mem_peak_bytes, tasks, rates,"
	    " units_ppm) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,"
	    "$19,$20,$21,$22,$23,$24) ON CONFLICT (job_id, attempt) DO NOTHING RETURNING id",
	    &p, &res, "acct_add", e);
	if (rc == 0 && PQntuples(res) == 0)
		rc = aidc_errf(e, AIDC_E_EXISTS,
			       "store: acct_add: job %" PRIu64 " attempt %u is already recorded",
			       r->job_id, r->attempt);
	else if (rc == 0 && out_id)
		*out_id = (uint64_t)store_pg_col_i64(res, 0, 0);
	PQclear(res);
	return rc;
}

/* The WHERE clause of an accounting query (after "WHERE TRUE"). */
static int acct_where(struct qb *b, const struct store_acct_query *q, bool cursor,
		      struct aidc_err *e)
{
	if (q->njob_ids > AIDC_MAX_ACCT_JOB_IDS ||
	    q->nscope_accounts > STORE_PG_MAX_PARAMS - 32 - AIDC_MAX_ACCT_JOB_IDS)
		return aidc_errf(e, AIDC_E_LIMIT, "store: too many job ids or accounts in a query");
	if (q->scoped) {
		qb_i64(b, " AND (uid = ?", q->scope_uid);
		for (size_t i = 0; i < q->nscope_accounts; i++)
			qb_text(b, i ? ",?" : " OR account IN (?", q->scope_accounts[i]);
		aidc_buf_puts(&b->sql, q->nscope_accounts ? "))" : ")");
	}
	if (q->user)
		qb_text(b, " AND \"user\" = ?", q->user);
	if (q->account)
		qb_text(b, " AND account = ?", q->account);
	if (q->state_mask)
		qb_i64(b, " AND state BETWEEN 0 AND 63 AND ((?::bigint >> state::int) & 1) <> 0",
		       (int64_t)q->state_mask);
	for (size_t i = 0; i < q->njob_ids; i++)
		qb_i64(b, i ? ",?" : " AND job_id IN (?", (int64_t)q->job_ids[i]);
	if (q->njob_ids)
		aidc_buf_puts(&b->sql, ")");
	if (q->since_s > INT64_MIN)
		qb_i64(b, " AND end_s >= ?", q->since_s);
	if (q->until_s > 0)
		qb_i64(b, " AND end_s < ?", q->until_s);
	if (cursor && (q->after_end_s > INT64_MIN || q->after_id)) {
		qb_i64(b, " AND (end_s, id) > (?", q->after_end_s);
		qb_i64(b, ", ?)", clamp_u64(q->after_id));
	}
	return 0;
}

static struct store_acct read_acct(const PGresult *r, int i)
{
	return (struct store_acct){
	    .id = (uint64_t)store_pg_col_i64(r, i, 0),
	    .job_id = (uint64_t)store_pg_col_i64(r, i, 1),
	    .attempt = (uint32_t)store_pg_col_i64(r, i, 2),
	    .uid = (uint32_t)store_pg_col_i64(r, i, 3),
	    .user = store_pg_col(r, i, 4),
	    .account = store_pg_col(r, i, 5),
	    .qos = store_pg_col(r, i, 6),
	    .name = store_pg_col(r, i, 7),
	    .state = (int)store_pg_col_i64(r, i, 8),
	    .exit_code = (int32_t)store_pg_col_i64(r, i, 9),
	    .term_signal = (int32_t)store_pg_col_i64(r, i, 10),
	    .submit_s = store_pg_col_i64(r, i, 11),
	    .start_s = store_pg_col_i64(r, i, 12),
	    .end_s = store_pg_col_i64(r, i, 13),
	    .ntasks = (uint32_t)store_pg_col_i64(r, i, 14),
	    .ndev = (uint32_t)store_pg_col_i64(r, i, 15),
	    .nodes = store_pg_col(r, i, 16),
	    .devices = store_pg_col(r, i, 17),
	    .dev_s = store_pg_col(r, i, 18),
	    .dev_s_total = store_pg_col_i64(r, i, 19),
	    .cpu_usec = store_pg_col_i64(r, i, 20),
	    .mem_peak_bytes = store_pg_col_i64(r, i, 21),
	    .tasks = store_pg_col(r, i, 22),
	    .rates = store_pg_col(r, i, 23),
	    .units_ppm = store_pg_col_i64(r, i, 24),
	};
}

int store_pg_acct_query(struct store *st, const struct store_acct_query *q, store_acct_fn fn,
			void *ctx, struct aidc_err *e)
{
	struct qb *b = qb_new("SELECT " ACCT_COLS " FROM job_acct WHERE TRUE");
	int rc = acct_where(b, q, true, e);
	PGresult *r = NULL;
	if (rc == 0) {
		qb_i64(b, " ORDER BY end_s, id LIMIT ?", clamp_u64(q->limit));
		rc = store_pg_run(st, aidc_buf_str(&b->sql), &b->p, &r, "acct_query", e);
	}
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		struct store_acct a = read_acct(r, i);
		rc = fn(ctx, &a);
	}
	PQclear(r);
	qb_free(b);
	return rc;
}

int store_pg_acct_usage(struct store *st, const struct store_acct_query *q, store_usage_fn fn,
			void *ctx, struct aidc_err *e)
{
	/* Each model's seconds, and seconds x the rate the record applied
	 * (millionths; 1e6 = rate 1 where the record has none), as SQLite's
	 * json_each sums them. The sums are exact (numeric), then int64. */
	struct qb *b = qb_new("SELECT account, \"user\", m.key, SUM(m.value::numeric)::bigint,"
			      " SUM(m.value::numeric * COALESCE((job_acct.rates::jsonb ->> m.key)"
			      "::numeric, 1000000))::bigint, COUNT(*)"
			      " FROM job_acct, jsonb_each_text(job_acct.dev_s::jsonb) AS m"
			      " WHERE TRUE");
	int rc = acct_where(b, q, false, e);
	PGresult *r = NULL;
	if (rc == 0) {
		/* COLLATE "C": byte order, as SQLite orders text. */
		aidc_buf_puts(&b->sql, " GROUP BY account, \"user\", m.key"
				       " ORDER BY account COLLATE \"C\", \"user\" COLLATE \"C\","
				       " m.key COLLATE \"C\"");
		rc = store_pg_run(st, aidc_buf_str(&b->sql), &b->p, &r, "acct_usage", e);
	}
	for (int i = 0; rc == 0 && i < PQntuples(r); i++)
		rc = fn(ctx, store_pg_col(r, i, 0), store_pg_col(r, i, 1), store_pg_col(r, i, 2),
			store_pg_col_i64(r, i, 3), store_pg_col_i64(r, i, 4),
			(uint64_t)store_pg_col_i64(r, i, 5));
	PQclear(r);
	qb_free(b);
	return rc;
}

/* ---- rates -------------------------------------------------------------------- */

int store_pg_rate_put(struct store *st, const struct store_rate *r, struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_text(&p, r->model);
	store_pg_i64(&p, r->rate_ppm);
	store_pg_i64(&p, r->derived_ppm);
	store_pg_text(&p, or_empty(r->source));
	store_pg_text(&p, or_empty(r->reason));
	store_pg_text(&p, or_empty(r->actor));
	store_pg_i64(&p, r->set_s);
	store_pg_text(&p, r->report ? r->report : "{}");
	return store_pg_run(st,
			    "INSERT INTO model_rates (model, rate_ppm, derived_ppm, source, reason,"
			    " actor, set_s, report) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
			    " ON CONFLICT (model) DO UPDATE SET rate_ppm = EXCLUDED.rate_ppm,"
			    " derived_ppm = EXCLUDED.derived_ppm, source = EXCLUDED.source,"
			    " reason = EXCLUDED.reason, actor = EXCLUDED.actor,"
			    " set_s = EXCLUDED.set_s, report = EXCLUDED.report",
			    &p, NULL, "rate_put", e);
}

int store_pg_rate_list(struct store *st, store_rate_fn fn, void *ctx, struct aidc_err *e)
{
	PGresult *r = NULL;
	int rc = store_pg_run(st,
			      "SELECT model, rate_ppm, derived_ppm, source, reason, actor, set_s,"
			      " report FROM model_rates ORDER BY model COLLATE \"C\"",
			      NULL, &r, "rate_list", e);
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		struct store_rate a = {
		    .model = store_pg_col(r, i, 0),
		    .rate_ppm = store_pg_col_i64(r, i, 1),
		    .derived_ppm = store_pg_col_i64(r, i, 2),
		    .source = store_pg_col(r, i, 3),
		    .reason = store_pg_col(r, i, 4),
		    .actor = store_pg_col(r, i, 5),
		    .set_s = store_pg_col_i64(r, i, 6),
		    .report = store_pg_col(r, i, 7),
		};
		rc = fn(ctx, &a);
	}
	PQclear(r);
	return rc;
}

/* ---- srun steps (schema 8) ----------------------------------------------------- */

int store_pg_step_put(struct store *st, uint64_t job_id, int64_t step_id, bool live,
		      const char *doc, struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, (int64_t)job_id);
	store_pg_i64(&p, step_id);
	store_pg_i64(&p, live);
	store_pg_text(&p, doc);
	return store_pg_run(st,
			    "INSERT INTO job_steps (job_id, step_id, live, doc) VALUES ($1,$2,$3,$4)"
			    " ON CONFLICT (job_id, step_id) DO UPDATE SET live = EXCLUDED.live,"
			    " doc = EXCLUDED.doc",
			    &p, NULL, "step_put", e);
}

int store_pg_step_get(struct store *st, uint64_t job_id, int64_t step_id, store_step_fn fn,
		      void *ctx, struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, (int64_t)job_id);
	store_pg_i64(&p, step_id);
	PGresult *r = NULL;
	int rc = store_pg_run(st,
			      "SELECT live, doc FROM job_steps WHERE job_id = $1 AND step_id = $2",
			      &p, &r, "step_get", e);
	if (rc == 0 && PQntuples(r) == 0)
		rc = aidc_errf(e, AIDC_E_NOTFOUND, "no step %" PRIu64 ".%" PRId64, job_id,
			       step_id);
	else if (rc == 0)
		rc = fn(ctx, job_id, step_id, store_pg_col_i64(r, 0, 0) != 0,
			store_pg_col(r, 0, 1));
	PQclear(r);
	return rc;
}

int store_pg_step_list(struct store *st, uint64_t job_id, store_step_fn fn, void *ctx,
		       struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, (int64_t)job_id);
	PGresult *r = NULL;
	int rc = store_pg_run(st,
			      job_id ? "SELECT job_id, step_id, live, doc FROM job_steps"
				       " WHERE job_id = $1 ORDER BY step_id"
				     : "SELECT job_id, step_id, live, doc FROM job_steps"
				       " WHERE live = 1 AND $1 = 0 ORDER BY job_id, step_id",
			      &p, &r, "step_list", e);
	for (int i = 0; rc == 0 && i < PQntuples(r); i++)
		rc = fn(ctx, (uint64_t)store_pg_col_i64(r, i, 0), store_pg_col_i64(r, i, 1),
			store_pg_col_i64(r, i, 2) != 0, store_pg_col(r, i, 3));
	PQclear(r);
	return rc;
}
