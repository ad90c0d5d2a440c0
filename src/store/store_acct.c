/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log and job accounting records of the SQLite store (schema 6,
 * docs/accounting.md): inserts and filtered reads, never updates or deletes
 * (the schema's triggers refuse those from any writer).
 *
 * Reads build their WHERE clause from the filters given, so that SQLite can
 * pick the index that fits: job_acct_end for a time window, job_acct_uid_end
 * for one user's records, job_acct_account_end for an account. The listing
 * order (end_s, id) is the order of those indexes, so a window query stops
 * at its page limit after reading only the rows it returns. Cost: one
 * prepare per call (tens of microseconds), then O(rows returned + log n).
 */
#include "store/store_int.h"
#include "util/util.h"

/* Values bound to a query built at run time. */
#define MAX_BINDS (AIDC_MAX_ACCT_JOB_IDS + 64)

struct qb {
	struct aidc_buf sql;
	struct {
		bool text;
		const char *s;
		int64_t i;
	} v[MAX_BINDS];
	int n;
};

static int qerr(sqlite3 *db, struct aidc_err *e, const char *what)
{
	int rc = sqlite3_errcode(db);
	int code = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? AIDC_E_BUSY
		   : rc == SQLITE_CONSTRAINT		    ? AIDC_E_EXISTS
							    : AIDC_E_IO;
	return aidc_errf(e, code, "store: %s: %s", what, sqlite3_errmsg(db));
}

static void qb_i64(struct qb *b, const char *clause, int64_t v)
{
	aidc_buf_puts(&b->sql, clause);
	b->v[b->n].text = false;
	b->v[b->n++].i = v;
}

static void qb_text(struct qb *b, const char *clause, const char *s)
{
	aidc_buf_puts(&b->sql, clause);
	b->v[b->n].text = true;
	b->v[b->n++].s = s;
}

static int qb_prepare(sqlite3 *db, struct qb *b, sqlite3_stmt **out, struct aidc_err *e)
{
	if (sqlite3_prepare_v2(db, aidc_buf_str(&b->sql), -1, out, NULL) != SQLITE_OK)
		return qerr(db, e, "preparing a query");
	for (int i = 0; i < b->n; i++) {
		if (b->v[i].text)
			sqlite3_bind_text(*out, i + 1, b->v[i].s, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(*out, i + 1, b->v[i].i);
	}
	return 0;
}

static const char *col(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? (const char *)t : "";
}

/* ---- audit ----------------------------------------------------------------- */

int store_sqlite_audit_add(struct store *st, const struct store_audit *a, uint64_t *out_id,
			   struct aidc_err *e)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO audit (time_s, actor_uid, actor, via, action, target,"
			       " target_uid, detail) VALUES (?,?,?,?,?,?,?,?)",
			       -1, &q, NULL) != SQLITE_OK)
		return qerr(db, e, "audit_add");
	sqlite3_bind_int64(q, 1, a->time_s);
	sqlite3_bind_int64(q, 2, a->actor_uid);
	sqlite3_bind_text(q, 3, a->actor ? a->actor : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, a->via ? a->via : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, a->action ? a->action : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, a->target ? a->target : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 7, a->target_uid);
	sqlite3_bind_text(q, 8, a->detail ? a->detail : "", -1, SQLITE_STATIC);
	int rc = 0;
	if (sqlite3_step(q) != SQLITE_DONE)
		rc = qerr(db, e, "audit_add");
	else if (out_id)
		*out_id = (uint64_t)sqlite3_last_insert_rowid(db);
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_audit_query(struct store *st, const struct store_audit_query *q, store_audit_fn fn,
			     void *ctx, struct aidc_err *e)
{
	sqlite3 *db = store_sqlite_db(st);
	struct qb b = {.n = 0};
	aidc_buf_init(&b.sql, 4096);
	qb_i64(&b,
	       "SELECT id, time_s, actor_uid, actor, via, action, target, target_uid, detail"
	       " FROM audit WHERE id > ?",
	       (int64_t)(q->after_id > (uint64_t)INT64_MAX ? INT64_MAX : q->after_id));
	if (q->uid >= 0) {
		qb_i64(&b, " AND (actor_uid = ?", q->uid);
		qb_i64(&b, " OR target_uid = ?)", q->uid);
	}
	if (q->actor)
		qb_text(&b, " AND actor = ?", q->actor);
	if (q->action)
		qb_text(&b, " AND action = ?", q->action);
	if (q->since_s > INT64_MIN)
		qb_i64(&b, " AND time_s >= ?", q->since_s);
	if (q->until_s > 0)
		qb_i64(&b, " AND time_s < ?", q->until_s);
	qb_i64(&b, " ORDER BY id LIMIT ?",
	       (int64_t)(q->limit > (uint64_t)INT64_MAX ? INT64_MAX : q->limit));
	sqlite3_stmt *s = NULL;
	int rc = qb_prepare(db, &b, &s, e), step = SQLITE_DONE;
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_audit a = {
		    .id = (uint64_t)sqlite3_column_int64(s, 0),
		    .time_s = sqlite3_column_int64(s, 1),
		    .actor_uid = sqlite3_column_int64(s, 2),
		    .actor = col(s, 3),
		    .via = col(s, 4),
		    .action = col(s, 5),
		    .target = col(s, 6),
		    .target_uid = sqlite3_column_int64(s, 7),
		    .detail = col(s, 8),
		};
		rc = fn(ctx, &a);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = qerr(db, e, "audit_query");
	sqlite3_finalize(s);
	aidc_buf_release(&b.sql);
	return rc;
}

/* ---- accounting -------------------------------------------------------------- */

#define ACCT_COLS                                                                                  \
	"id, job_id, attempt, uid, user, account, qos, name, state, exit_code, term_signal,  "     \
	"submit_s, start_s, end_s, ntasks, ndev, nodes, devices, dev_s, dev_s_total, "             \
	"cpu_usec, mem_peak_bytes, tasks, rates, units_ppm"

int store_sqlite_acct_add(struct store *st, const struct store_acct *r, uint64_t *out_id,
			  struct aidc_err *e)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *q = NULL;
	if (r->job_id == 0 || r->job_id > (uint64_t)INT64_MAX)
		return aidc_errf(e, AIDC_E_INVAL, "store: job id out of range");
	if (sqlite3_prepare_v2(
		db,
		"INSERT INTO job_acct (job_id, attempt, uid, user, account, qos, name,"
		" state, exit_code, term_signal, submit_s, start_s, end_s, ntasks, ndev,"
		" nodes, devices, dev_s, dev_s_total, cpu_usec, mem_peak_bytes, tasks, rates,"
		" units_ppm) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		-1, &q, NULL) != SQLITE_OK)
		return qerr(db, e, "acct_add");
	int k = 1;
	sqlite3_bind_int64(q, k++, (sqlite3_int64)r->job_id);
	sqlite3_bind_int64(q, k++, r->attempt);
	sqlite3_bind_int64(q, k++, r->uid);
	const char *texts1[] = {r->user, r->account, r->qos, r->name};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(texts1); i++)
		sqlite3_bind_text(q, k++, texts1[i] ? texts1[i] : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(q, k++, r->state);
	sqlite3_bind_int(q, k++, r->exit_code);
	sqlite3_bind_int(q, k++, r->term_signal);
	sqlite3_bind_int64(q, k++, r->submit_s);
	sqlite3_bind_int64(q, k++, r->start_s);
	sqlite3_bind_int64(q, k++, r->end_s);
	sqlite3_bind_int64(q, k++, r->ntasks);
	sqlite3_bind_int64(q, k++, r->ndev);
	sqlite3_bind_text(q, k++, r->nodes ? r->nodes : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, k++, r->devices ? r->devices : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, k++, r->dev_s ? r->dev_s : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, k++, r->dev_s_total);
	sqlite3_bind_int64(q, k++, r->cpu_usec);
	sqlite3_bind_int64(q, k++, r->mem_peak_bytes);
	sqlite3_bind_text(q, k++, r->tasks ? r->tasks : "[]", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, k++, r->rates ? r->rates : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, k++, r->units_ppm);
	int rc = 0;
	if (sqlite3_step(q) != SQLITE_DONE)
		rc = qerr(db, e, "acct_add");
	else if (out_id)
		*out_id = (uint64_t)sqlite3_last_insert_rowid(db);
	sqlite3_finalize(q);
	return rc;
}

/* The WHERE clause of an accounting query (after "WHERE 1"). */
static int acct_where(struct qb *b, const struct store_acct_query *q, bool cursor,
		      struct aidc_err *e)
{
	if (q->njob_ids > AIDC_MAX_ACCT_JOB_IDS ||
	    q->nscope_accounts > MAX_BINDS - 32 - AIDC_MAX_ACCT_JOB_IDS)
		return aidc_errf(e, AIDC_E_LIMIT, "store: too many job ids or accounts in a query");
	if (q->scoped) {
		qb_i64(b, " AND (uid = ?", q->scope_uid);
		for (size_t i = 0; i < q->nscope_accounts; i++)
			qb_text(b, i ? ",?" : " OR account IN (?", q->scope_accounts[i]);
		aidc_buf_puts(&b->sql, q->nscope_accounts ? "))" : ")");
	}
	if (q->user)
		qb_text(b, " AND user = ?", q->user);
	if (q->account)
		qb_text(b, " AND account = ?", q->account);
	if (q->state_mask)
		qb_i64(b, " AND ((? >> state) & 1) != 0", (int64_t)q->state_mask);
	for (size_t i = 0; i < q->njob_ids; i++)
		qb_i64(b, i ? ",?" : " AND job_id IN (?", (int64_t)q->job_ids[i]);
	if (q->njob_ids)
		aidc_buf_puts(&b->sql, ")");
	if (q->since_s > INT64_MIN)
		qb_i64(b, " AND end_s >= ?", q->since_s);
	if (q->until_s > 0)
		qb_i64(b, " AND end_s < ?", q->until_s);
	if (cursor && (q->after_end_s > INT64_MIN || q->after_id)) {
		/* Row-value comparison: SQLite serves it from the (end_s, id) order
		 * of the index. */
		qb_i64(b, " AND (end_s, id) > (?", q->after_end_s);
		qb_i64(b, ", ?)", (int64_t)q->after_id);
	}
	return 0;
}

int store_sqlite_acct_query(struct store *st, const struct store_acct_query *q, store_acct_fn fn,
			    void *ctx, struct aidc_err *e)
{
	sqlite3 *db = store_sqlite_db(st);
	struct qb *b = aidc_calloc(1, sizeof *b);
	aidc_buf_init(&b->sql, 64 * 1024);
	aidc_buf_puts(&b->sql, "SELECT " ACCT_COLS " FROM job_acct WHERE 1");
	int rc = acct_where(b, q, true, e), step = SQLITE_DONE;
	sqlite3_stmt *s = NULL;
	if (rc == 0) {
		qb_i64(b, " ORDER BY end_s, id LIMIT ?",
		       (int64_t)(q->limit > (uint64_t)INT64_MAX ? INT64_MAX : q->limit));
		rc = qb_prepare(db, b, &s, e);
	}
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_acct r = {
		    .id = (uint64_t)sqlite3_column_int64(s, 0),
		    .job_id = (uint64_t)sqlite3_column_int64(s, 1),
		    .attempt = (uint32_t)sqlite3_column_int64(s, 2),
		    .uid = (uint32_t)sqlite3_column_int64(s, 3),
		    .user = col(s, 4),
		    .account = col(s, 5),
		    .qos = col(s, 6),
		    .name = col(s, 7),
		    .state = sqlite3_column_int(s, 8),
		    .exit_code = sqlite3_column_int(s, 9),
		    .term_signal = sqlite3_column_int(s, 10),
		    .submit_s = sqlite3_column_int64(s, 11),
		    .start_s = sqlite3_column_int64(s, 12),
		    .end_s = sqlite3_column_int64(s, 13),
		    .ntasks = (uint32_t)sqlite3_column_int64(s, 14),
		    .ndev = (uint32_t)sqlite3_column_int64(s, 15),
		    .nodes = col(s, 16),
		    .devices = col(s, 17),
		    .dev_s = col(s, 18),
		    .dev_s_total = sqlite3_column_int64(s, 19),
		    .cpu_usec = sqlite3_column_int64(s, 20),
		    .mem_peak_bytes = sqlite3_column_int64(s, 21),
		    .tasks = col(s, 22),
		    .rates = col(s, 23),
		    .units_ppm = sqlite3_column_int64(s, 24),
		};
		rc = fn(ctx, &r);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = qerr(db, e, "acct_query");
	sqlite3_finalize(s);
	aidc_buf_release(&b->sql);
	aidc_free(b);
	return rc;
}

int store_sqlite_acct_usage(struct store *st, const struct store_acct_query *q, store_usage_fn fn,
			    void *ctx, struct aidc_err *e)
{
	sqlite3 *db = store_sqlite_db(st);
	struct qb *b = aidc_calloc(1, sizeof *b);
	aidc_buf_init(&b->sql, 64 * 1024);
	/* dev_s is the controller's own JSON object {model: seconds}; json_each
	 * (built into SQLite since 3.38) turns it into rows to sum. */
	/* Units: each model's seconds x the rate the record applied (millionths;
	 * 1e6 = rate 1 where the record has none: no exam was published). */
	aidc_buf_puts(&b->sql, "SELECT account, user, m.key, SUM(m.value),"
			       " SUM(m.value * COALESCE(json_extract(job_acct.rates,"
			       " '$.' || json_quote(m.key)), 1000000)), COUNT(*)"
			       " FROM job_acct, json_each(job_acct.dev_s) AS m WHERE 1");
	int rc = acct_where(b, q, false, e), step = SQLITE_DONE;
	sqlite3_stmt *s = NULL;
	if (rc == 0) {
		aidc_buf_puts(&b->sql, " GROUP BY account, user, m.key ORDER BY 1, 2, 3");
		rc = qb_prepare(db, b, &s, e);
	}
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = fn(ctx, col(s, 0), col(s, 1), col(s, 2), sqlite3_column_int64(s, 3),
			sqlite3_column_int64(s, 4), (uint64_t)sqlite3_column_int64(s, 5));
	if (rc == 0 && step != SQLITE_DONE)
		rc = qerr(db, e, "acct_usage");
	sqlite3_finalize(s);
	aidc_buf_release(&b->sql);
	aidc_free(b);
	return rc;
}

/* ---- rates -------------------------------------------------------------------- */

int store_sqlite_rate_put(struct store *st, const struct store_rate *r, struct aidc_err *e)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO model_rates (model, rate_ppm, derived_ppm,"
			       " source, reason, actor, set_s, report) VALUES (?,?,?,?,?,?,?,?)",
			       -1, &q, NULL) != SQLITE_OK)
		return qerr(db, e, "rate_put");
	sqlite3_bind_text(q, 1, r->model, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, r->rate_ppm);
	sqlite3_bind_int64(q, 3, r->derived_ppm);
	sqlite3_bind_text(q, 4, r->source ? r->source : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, r->reason ? r->reason : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, r->actor ? r->actor : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 7, r->set_s);
	sqlite3_bind_text(q, 8, r->report ? r->report : "{}", -1, SQLITE_STATIC);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : qerr(db, e, "rate_put");
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_rate_list(struct store *st, store_rate_fn fn, void *ctx, struct aidc_err *e)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT model, rate_ppm, derived_ppm, source, reason, actor, set_s,"
			       " report FROM model_rates ORDER BY model",
			       -1, &s, NULL) != SQLITE_OK)
		return qerr(db, e, "rate_list");
	int rc = 0, step = SQLITE_DONE;
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_rate r = {
		    .model = col(s, 0),
		    .rate_ppm = sqlite3_column_int64(s, 1),
		    .derived_ppm = sqlite3_column_int64(s, 2),
		    .source = col(s, 3),
		    .reason = col(s, 4),
		    .actor = col(s, 5),
		    .set_s = sqlite3_column_int64(s, 6),
		    .report = col(s, 7),
		};
		rc = fn(ctx, &r);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = qerr(db, e, "rate_list");
	sqlite3_finalize(s);
	return rc;
}

/* ---- srun steps (schema 8) ----------------------------------------------------- */

int store_sqlite_step_put(struct store *st, uint64_t job_id, int64_t step_id, bool live,
			  const char *doc, struct aidc_err *e)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO job_steps (job_id, step_id, live, doc)"
			       " VALUES (?,?,?,?)",
			       -1, &q, NULL) != SQLITE_OK)
		return qerr(db, e, "step_put");
	sqlite3_bind_int64(q, 1, (sqlite3_int64)job_id);
	sqlite3_bind_int64(q, 2, step_id);
	sqlite3_bind_int(q, 3, live);
	sqlite3_bind_text(q, 4, doc, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : qerr(db, e, "step_put");
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_step_get(struct store *st, uint64_t job_id, int64_t step_id, store_step_fn fn,
			  void *ctx, struct aidc_err *e)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT live, doc FROM job_steps WHERE job_id = ? AND step_id = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return qerr(db, e, "step_get");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)job_id);
	sqlite3_bind_int64(s, 2, step_id);
	int step = sqlite3_step(s), rc;
	if (step == SQLITE_ROW)
		rc = fn(ctx, job_id, step_id, sqlite3_column_int(s, 0) != 0, col(s, 1));
	else if (step == SQLITE_DONE)
		rc = aidc_errf(e, AIDC_E_NOTFOUND, "no step %" PRIu64 ".%" PRId64, job_id,
			       step_id);
	else
		rc = qerr(db, e, "step_get");
	sqlite3_finalize(s);
	return rc;
}

int store_sqlite_step_list(struct store *st, uint64_t job_id, store_step_fn fn, void *ctx,
			   struct aidc_err *e)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *s = NULL;
	const char *sql = job_id ? "SELECT job_id, step_id, live, doc FROM job_steps"
				   " WHERE job_id = ? ORDER BY step_id"
				 : "SELECT job_id, step_id, live, doc FROM job_steps"
				   " WHERE live = 1 ORDER BY job_id, step_id";
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return qerr(db, e, "step_list");
	if (job_id)
		sqlite3_bind_int64(s, 1, (sqlite3_int64)job_id);
	int rc = 0, step = SQLITE_DONE;
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = fn(ctx, (uint64_t)sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
			sqlite3_column_int(s, 2) != 0, col(s, 3));
	if (rc == 0 && step != SQLITE_DONE)
		rc = qerr(db, e, "step_list");
	sqlite3_finalize(s);
	return rc;
}
