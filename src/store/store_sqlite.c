/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite implementation of struct store_ops (store.h).
 *
 * Durability: journal_mode=WAL, so readers never block the single writer and a
 * commit is one append to the WAL. synchronous=FULL by default: each commit
 * fsyncs the WAL, which is what "acknowledged means durable" needs across a
 * power loss; synchronous=NORMAL (an option) is still safe against a crash of
 * the controller process (the WAL is in the OS page cache) and costs no fsync
 * per commit. busy_timeout lets an operator's sqlite3 shell read the file
 * without making the controller fail.
 *
 * Migrations: migrations[k] takes the schema from version k to k+1. Each runs
 * in its own BEGIN IMMEDIATE transaction together with the row it adds to
 * schema_version, so a crash mid-migration leaves the previous version intact.
 * A database whose newest schema_version row is above STORE_SCHEMA_VERSION was
 * written by a newer build and is refused without being touched.
 *
 * Group commit: the controller opens one transaction per event-loop iteration
 * and wraps each unit of change in a savepoint (savepoint/release/rollback_to),
 * so a failed unit is undone alone while the whole iteration costs one commit
 * (one WAL fsync under synchronous=FULL) however many requests it handled.
 *
 * Cost: statements are prepared once per open and reused; every call is one
 * indexed row operation except the listings, which scan in primary-key order
 * (job_query walks the key backwards and stops at its limit).
 */
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"
#include "util/util.h"

/* ---- schema ---------------------------------------------------------------- */

static const char *const migrations[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE jobs ("
	" id INTEGER PRIMARY KEY, uid INTEGER NOT NULL, gid INTEGER NOT NULL,"
	" user TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, alloc TEXT,"
	" reason TEXT, state INTEGER NOT NULL, target INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	" exit_code INTEGER NOT NULL, term_signal INTEGER NOT NULL,"
	" submit_s INTEGER NOT NULL, start_s INTEGER NOT NULL, end_s INTEGER NOT NULL);"
	"CREATE INDEX jobs_state ON jobs(state);"
	"CREATE TABLE tasks ("
	" job_id INTEGER NOT NULL, idx INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	" node TEXT NOT NULL, state INTEGER NOT NULL, pid INTEGER NOT NULL,"
	" exit_code INTEGER NOT NULL, term_signal INTEGER NOT NULL,"
	" start_s INTEGER NOT NULL, end_s INTEGER NOT NULL,"
	" PRIMARY KEY (job_id, idx));"
	"CREATE TABLE nodes ("
	" name TEXT PRIMARY KEY, info TEXT NOT NULL, state INTEGER NOT NULL,"
	" registered_s INTEGER NOT NULL);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
	/* 1 -> 2: per-user API tokens (docs/security.md). AUTOINCREMENT: an id is
	 * never reused, so a token string can never come to name another row. */
	"CREATE TABLE tokens ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, uid INTEGER NOT NULL, gid INTEGER NOT NULL,"
	" user TEXT NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL,"
	" created_s INTEGER NOT NULL, expires_s INTEGER NOT NULL, revoked_s INTEGER NOT NULL);"
	"CREATE INDEX tokens_uid ON tokens(uid);",
	/* 2 -> 3: a job's log directory is named after its id AND this key (random,
	 * made at submit), so logs left by another job that had the same id (a
	 * database lost or restored from a backup) are never served to it. Rows of
	 * older builds keep '' (their logs/<id> directory). */
	"ALTER TABLE jobs ADD COLUMN log_key TEXT NOT NULL DEFAULT '';",
	/* 3 -> 4: tenancy (docs/tenancy.md): accounts, user associations and QoS,
	 * one versioned JSON document per (kind, name) that the controller
	 * defines. Jobs name their account and QoS inside their spec document. */
	"CREATE TABLE tenancy ("
	" kind TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,"
	" PRIMARY KEY (kind, name));",
	/* 4 -> 5: client request ids of submissions (issue 14 item 4), so a submit
	 * retried after a lost reply names the job it made instead of making a
	 * second one. Kept for a bounded time (submit_request_ttl_s), pruned by
	 * created_s. */
	"CREATE TABLE submit_requests ("
	" uid INTEGER NOT NULL, request_id TEXT NOT NULL, job_id INTEGER NOT NULL,"
	" created_s INTEGER NOT NULL, PRIMARY KEY (uid, request_id));"
	"CREATE INDEX submit_requests_created ON submit_requests(created_s);",
	/* 5 -> 6: the audit log and job accounting (docs/accounting.md), both
	 * append-only: no store op updates or deletes them, and the triggers
	 * refuse it from any other writer (an operator's sqlite3 shell included,
	 * unless they drop the triggers first, which is beyond any API). Reads
	 * never touch the live jobs table: acct is indexed by end time (the
	 * window of `aidc acct`), alone and per user and account. */
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, time_s INTEGER NOT NULL,"
	" actor_uid INTEGER NOT NULL, actor TEXT NOT NULL, via TEXT NOT NULL,"
	" action TEXT NOT NULL, target TEXT NOT NULL, target_uid INTEGER NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE INDEX audit_time ON audit(time_s);"
	"CREATE INDEX audit_actor ON audit(actor_uid);"
	"CREATE INDEX audit_target ON audit(target_uid);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;"
	"CREATE TABLE job_acct ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	" uid INTEGER NOT NULL, user TEXT NOT NULL, account TEXT NOT NULL, qos TEXT NOT NULL,"
	" name TEXT NOT NULL, state INTEGER NOT NULL, exit_code INTEGER NOT NULL,"
	" term_signal INTEGER NOT NULL, submit_s INTEGER NOT NULL, start_s INTEGER NOT NULL,"
	" end_s INTEGER NOT NULL, ntasks INTEGER NOT NULL, ndev INTEGER NOT NULL,"
	" nodes TEXT NOT NULL, devices TEXT NOT NULL, dev_s TEXT NOT NULL,"
	" dev_s_total INTEGER NOT NULL, cpu_usec INTEGER NOT NULL,"
	" mem_peak_bytes INTEGER NOT NULL, tasks TEXT NOT NULL, UNIQUE (job_id, attempt));"
	"CREATE INDEX job_acct_end ON job_acct(end_s);"
	"CREATE INDEX job_acct_uid_end ON job_acct(uid, end_s);"
	"CREATE INDEX job_acct_account_end ON job_acct(account, end_s);"
	"CREATE TRIGGER job_acct_no_update BEFORE UPDATE ON job_acct"
	" BEGIN SELECT RAISE(ABORT, 'accounting records are append-only'); END;"
	"CREATE TRIGGER job_acct_no_delete BEFORE DELETE ON job_acct"
	" BEGIN SELECT RAISE(ABORT, 'accounting records are append-only'); END;",
	/* 6 -> 7: per-model rates from exam reports (docs/accounting.md), and
	 * the rates and normalized units of each accounting record (older
	 * records keep units_ppm -1: written before rates existed). */
	"CREATE TABLE model_rates ("
	" model TEXT PRIMARY KEY, rate_ppm INTEGER NOT NULL, derived_ppm INTEGER NOT NULL,"
	" source TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL,"
	" set_s INTEGER NOT NULL, report TEXT NOT NULL);"
	"ALTER TABLE job_acct ADD COLUMN rates TEXT NOT NULL DEFAULT '{}';"
	"ALTER TABLE job_acct ADD COLUMN units_ppm INTEGER NOT NULL DEFAULT -1;",
	/* 7 -> 8: srun steps of batch jobs (docs/slurm.md), one versioned JSON
	 * document per step; live steps are found again after a restart. */
	"CREATE TABLE job_steps ("
	" job_id INTEGER NOT NULL, step_id INTEGER NOT NULL, live INTEGER NOT NULL,"
	" doc TEXT NOT NULL, PRIMARY KEY (job_id, step_id));"
	"CREATE INDEX job_steps_live ON job_steps(live, job_id, step_id);",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == STORE_SCHEMA_VERSION,
	       "one migration per schema version");

/* Prepared statements, indexed by enum stmt_id. */
enum stmt_id {
	ST_JOB_INSERT,
	ST_JOB_UPDATE,
	ST_JOB_MAX_ID,
	ST_JOB_GET,
	ST_JOB_LIST,
	ST_TASK_PUT,
	ST_TASK_CLEAR,
	ST_TASK_LIST,
	ST_NODE_PUT,
	ST_NODE_LIST,
	ST_META_GET,
	ST_META_SET,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_JOB_QUERY,
	ST_JOB_COUNT,
	ST_TASK_LIST_JOB,
	ST_TOKEN_ADD,
	ST_TOKEN_GET,
	ST_TOKEN_LIST,
	ST_TOKEN_REVOKE,
	ST_TENANCY_PUT,
	ST_TENANCY_DEL,
	ST_TENANCY_LIST,
	ST_REQ_GET,
	ST_REQ_PUT,
	ST_REQ_PRUNE,
	ST_COUNT_
};

/* Jobs and tokens begin alike (read_owner). */
#define OWNER_COLS "id, uid, gid, user, name"
#define JOB_COLS                                                                             \
	OWNER_COLS ", spec, alloc, reason, state, target, attempt, exit_code, "    \
	"term_signal, submit_s, start_s, end_s, log_key"
#define TOKEN_COLS OWNER_COLS ", hash, created_s, expires_s, revoked_s"
#define TASK_COLS "job_id, idx, attempt, node, state, pid, exit_code, term_signal, start_s, end_s"

static const char *const stmt_sql[ST_COUNT_] = {
	/* A job row is inserted once and then only updated: an id that is already
	 * taken is an error (AIDC_E_EXISTS), never a silent replacement of another
	 * job. The update leaves uid, gid, user and log_key as inserted. */
	[ST_JOB_INSERT] = "INSERT INTO jobs (" JOB_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_JOB_UPDATE] = "UPDATE jobs SET name = ?5, spec = COALESCE(?6, spec), alloc = ?7, reason = ?8, state = ?9,"
			  " target = ?10, attempt = ?11, exit_code = ?12, term_signal = ?13,"
			  " submit_s = ?14, start_s = ?15, end_s = ?16"
			  " WHERE id = ?1 AND uid = ?2 AND gid = ?3 AND user = ?4",
	[ST_JOB_MAX_ID] = "SELECT COALESCE(MAX(id), 0) FROM jobs",
	[ST_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?",
	[ST_JOB_LIST] = "SELECT " JOB_COLS " FROM jobs ORDER BY id",
	[ST_TASK_PUT] = "INSERT OR REPLACE INTO tasks (" TASK_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?)",
	[ST_TASK_CLEAR] = "DELETE FROM tasks WHERE job_id = ?",
	[ST_TASK_LIST] = "SELECT " TASK_COLS " FROM tasks ORDER BY job_id, idx",
	[ST_NODE_PUT] = "INSERT OR REPLACE INTO nodes (name, info, state, registered_s) "
			"VALUES (?,?,?,?)",
	[ST_NODE_LIST] = "SELECT name, info, state, registered_s FROM nodes ORDER BY name",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?",
	[ST_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT u",
	[ST_RELEASE] = "RELEASE u",
	[ST_ROLLBACK_TO] = "ROLLBACK TO u",
	/* Newest first; ?1 state mask (bit per state), ?2 uid or -1, ?3 user or NULL,
	 * ?4 ids below this, ?5 limit. Served by the primary key walked backwards. */
	[ST_JOB_QUERY] = "SELECT " JOB_COLS " FROM jobs WHERE ((?1 >> state) & 1) != 0"
			 " AND (?2 < 0 OR uid = ?2) AND (?3 IS NULL OR user = ?3)"
			 " AND id < ?4 ORDER BY id DESC LIMIT ?5",
	[ST_JOB_COUNT] = "SELECT state, COUNT(*) FROM jobs GROUP BY state",
	[ST_TASK_LIST_JOB] = "SELECT " TASK_COLS " FROM tasks WHERE job_id = ? ORDER BY idx",
	[ST_TOKEN_ADD] = "INSERT INTO tokens (uid, gid, user, name, hash, created_s, expires_s,"
			 " revoked_s) VALUES (?,?,?,?,?,?,?,?)",
	[ST_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM tokens WHERE id = ?",
	[ST_TOKEN_LIST] = "SELECT " TOKEN_COLS " FROM tokens WHERE (?1 < 0 OR uid = ?1) ORDER BY id",
	[ST_TOKEN_REVOKE] = "UPDATE tokens SET revoked_s = ?2 WHERE id = ?1 AND revoked_s = 0",
	[ST_TENANCY_PUT] = "INSERT OR REPLACE INTO tenancy (kind, name, doc) VALUES (?,?,?)",
	[ST_TENANCY_DEL] = "DELETE FROM tenancy WHERE kind = ? AND name = ?",
	[ST_TENANCY_LIST] = "SELECT kind, name, doc FROM tenancy ORDER BY kind, name",
	[ST_REQ_GET] = "SELECT job_id FROM submit_requests WHERE uid = ? AND request_id = ?",
	/* Plain INSERT: a request id already recorded is AIDC_E_EXISTS. */
	[ST_REQ_PUT] = "INSERT INTO submit_requests (uid, request_id, job_id, created_s)"
		       " VALUES (?,?,?,?)",
	[ST_REQ_PRUNE] = "DELETE FROM submit_requests WHERE created_s < ?",
};

struct store_sqlite {
	struct store base; /* first: struct store * <-> struct store_sqlite * */
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT_];
	int version;
	bool in_tx;
	uint32_t nsave; /* open savepoints inside the transaction */
};

static struct store_sqlite *self(struct store *st)
{
	return (struct store_sqlite *)st;
}

static int db_err(struct store_sqlite *s, struct aidc_err *e, const char *what)
{
	int code = AIDC_E_IO;
	int rc = sqlite3_errcode(s->db);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		code = AIDC_E_BUSY;
	else if (rc == SQLITE_CONSTRAINT)
		code = AIDC_E_EXISTS;
	return aidc_errf(e, code, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

/* Runs one prepared statement that returns no rows, then resets it. */
static int step_done(struct store_sqlite *s, enum stmt_id id, struct aidc_err *e)
{
	sqlite3_stmt *st = s->stmt[id];
	int rc = sqlite3_step(st);
	int ret = 0;
	if (rc != SQLITE_DONE)
		ret = db_err(s, e, stmt_sql[id]);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

static char *col_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? aidc_strdup((const char *)t) : NULL;
}

static void bind_text_or_null(sqlite3_stmt *st, int col, const char *t)
{
	if (t)
		sqlite3_bind_text(st, col, t, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

/* Leaves statement q ready for its next use. */
static void stmt_done(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/* Steps q, which returns at most one row. 0: q is positioned on the row (the
 * caller reads its columns, then calls stmt_done); 1: there is no row; else the
 * database error (about what). q is left reset on all but 0. */
static int step_row(struct store_sqlite *s, sqlite3_stmt *q, const char *what,
		    struct aidc_err *e)
{
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		return 0;
	int ret = rc == SQLITE_DONE ? 1 : db_err(s, e, what);
	stmt_done(q);
	return ret;
}

/* A listing's callback (of the listing's kind) and its context. */
struct walk {
	union {
		store_job_fn job;
		store_task_fn task;
		store_node_fn node;
		store_token_fn token;
		store_tenancy_fn tenancy;
	} fn;
	void *ctx;
};

/* Calls row(q, w) on each row q steps to, stopping at the first nonzero
 * return, which it returns; a failed step is the database error (about what).
 * q is left reset either way. */
static int walk_rows(struct store_sqlite *s, sqlite3_stmt *q,
		     int (*row)(sqlite3_stmt *, const struct walk *), const struct walk *w,
		     const char *what, struct aidc_err *e)
{
	int ret = 0, rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if ((ret = row(q, w)) != 0)
			break;
	if (!ret && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = db_err(s, e, what);
	stmt_done(q);
	return ret;
}

/* ---- transactions ---------------------------------------------------------- */

static int op_begin(struct store *st, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	if (s->in_tx)
		return aidc_errf(e, AIDC_E_STATE, "store: nested transaction");
	int rc = step_done(s, ST_BEGIN, e);
	if (rc == 0)
		s->in_tx = true;
	return rc;
}

static int op_commit(struct store *st, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	if (!s->in_tx)
		return aidc_errf(e, AIDC_E_STATE, "store: commit without begin");
	int rc = step_done(s, ST_COMMIT, e);
	if (rc != 0) {
		/* A failed COMMIT may leave the transaction open; make the state definite. */
		if (!sqlite3_get_autocommit(s->db))
			step_done(s, ST_ROLLBACK, NULL);
	}
	s->in_tx = false;
	s->nsave = 0;
	return rc;
}

static void op_rollback(struct store *st)
{
	struct store_sqlite *s = self(st);
	if (s->in_tx && !sqlite3_get_autocommit(s->db))
		step_done(s, ST_ROLLBACK, NULL);
	s->in_tx = false;
	s->nsave = 0;
}

static int op_savepoint(struct store *st, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	if (!s->in_tx)
		return aidc_errf(e, AIDC_E_STATE, "store: savepoint outside a transaction");
	int rc = step_done(s, ST_SAVEPOINT, e);
	if (rc == 0)
		s->nsave++;
	return rc;
}

static int op_release(struct store *st, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	if (!s->in_tx || s->nsave == 0)
		return aidc_errf(e, AIDC_E_STATE, "store: release without a savepoint");
	int rc = step_done(s, ST_RELEASE, e);
	if (rc == 0)
		s->nsave--;
	return rc;
}

static void op_rollback_to(struct store *st)
{
	struct store_sqlite *s = self(st);
	if (!s->in_tx || s->nsave == 0)
		return;
	/* ROLLBACK TO keeps the savepoint open; RELEASE closes it (now empty). */
	step_done(s, ST_ROLLBACK_TO, NULL);
	step_done(s, ST_RELEASE, NULL);
	s->nsave--;
}

/* ---- jobs ------------------------------------------------------------------ */

static void bind_job(sqlite3_stmt *q, const struct store_job *j)
{
	sqlite3_bind_int64(q, 1, (sqlite3_int64)j->id);
	sqlite3_bind_int64(q, 2, j->uid);
	sqlite3_bind_int64(q, 3, j->gid);
	sqlite3_bind_text(q, 4, j->user ? j->user : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, j->name ? j->name : "", -1, SQLITE_STATIC);
	bind_text_or_null(q, 6, j->spec_json); /* NULL: an update keeps the stored spec */
	bind_text_or_null(q, 7, j->alloc_json);
	bind_text_or_null(q, 8, j->reason);
	sqlite3_bind_int(q, 9, j->state);
	sqlite3_bind_int(q, 10, j->target);
	sqlite3_bind_int64(q, 11, j->attempt);
	sqlite3_bind_int(q, 12, j->exit_code);
	sqlite3_bind_int(q, 13, j->term_signal);
	sqlite3_bind_int64(q, 14, j->submit_s);
	sqlite3_bind_int64(q, 15, j->start_s);
	sqlite3_bind_int64(q, 16, j->end_s);
}

static int check_job_id(const struct store_job *j, struct aidc_err *e)
{
	if (j->id == 0 || j->id > (uint64_t)INT64_MAX)
		return aidc_errf(e, AIDC_E_INVAL, "store: job id %" PRIu64 " out of range", j->id);
	return 0;
}

static int op_job_insert(struct store *st, const struct store_job *j, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	int rc = check_job_id(j, e);
	if (rc)
		return rc;
	if (!j->spec_json)
		return aidc_errf(e, AIDC_E_INVAL, "store: job %" PRIu64 " inserted without a spec",
				 j->id);
	sqlite3_stmt *q = s->stmt[ST_JOB_INSERT];
	bind_job(q, j);
	sqlite3_bind_text(q, 17, j->log_key ? j->log_key : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	int ret = 0;
	if (rc == SQLITE_CONSTRAINT)
		ret = aidc_errf(e, AIDC_E_EXISTS,
				"store: job id %" PRIu64 " is already taken (a tampered or restored "
				"next_job_id?); the row was not replaced",
				j->id);
	else if (rc != SQLITE_DONE)
		ret = db_err(s, e, "inserting a job");
	stmt_done(q);
	return ret;
}

static int op_job_put(struct store *st, const struct store_job *j, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	int rc = check_job_id(j, e);
	if (rc)
		return rc;
	bind_job(s->stmt[ST_JOB_UPDATE], j);
	if ((rc = step_done(s, ST_JOB_UPDATE, e)) != 0)
		return rc;
	if (sqlite3_changes(s->db) != 1)
		return aidc_errf(e, AIDC_E_NOTFOUND, "store: no job %" PRIu64 " of uid %u to update",
				 j->id, (unsigned)j->uid);
	return 0;
}

static int op_job_max_id(struct store *st, uint64_t *out, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_JOB_MAX_ID];
	int rc = step_row(s, q, "reading the highest job id", e);
	if (rc == 1)
		return db_err(s, e, "reading the highest job id");
	if (rc == 0) {
		*out = (uint64_t)sqlite3_column_int64(q, 0);
		stmt_done(q);
	}
	return rc;
}

/* Steps statement st with ?1 = id. On a row returns 0 with *qp positioned on
 * it (the caller reads the columns, then calls stmt_done); otherwise resets
 * the statement and returns NOTFOUND ("no <what> <id>") or the database error. */
static int row_by_id(struct store_sqlite *s, int st, uint64_t id, const char *what,
		     sqlite3_stmt **qp, struct aidc_err *e)
{
	sqlite3_stmt *q = s->stmt[st];
	sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
	int rc = step_row(s, q, what, e);
	if (rc == 1)
		return aidc_errf(e, AIDC_E_NOTFOUND, "store: no %s %" PRIu64, what, id);
	if (rc == 0)
		*qp = q;
	return rc;
}

/* Columns 0-4 of a job or token row (OWNER_COLS): who owns it and its name. */
static void read_owner(sqlite3_stmt *q, uint64_t *id, uint32_t *uid, uint32_t *gid, char **user,
		       char **name)
{
	*id = (uint64_t)sqlite3_column_int64(q, 0);
	*uid = (uint32_t)sqlite3_column_int64(q, 1);
	*gid = (uint32_t)sqlite3_column_int64(q, 2);
	*user = col_strdup(q, 3);
	*name = col_strdup(q, 4);
}

static struct store_job read_job(sqlite3_stmt *q)
{
	struct store_job j = {0};
	read_owner(q, &j.id, &j.uid, &j.gid, &j.user, &j.name);
	j.spec_json = col_strdup(q, 5);
	j.alloc_json = col_strdup(q, 6);
	j.reason = col_strdup(q, 7);
	j.state = sqlite3_column_int(q, 8);
	j.target = sqlite3_column_int(q, 9);
	j.attempt = (uint32_t)sqlite3_column_int64(q, 10);
	j.exit_code = sqlite3_column_int(q, 11);
	j.term_signal = sqlite3_column_int(q, 12);
	j.submit_s = sqlite3_column_int64(q, 13);
	j.start_s = sqlite3_column_int64(q, 14);
	j.end_s = sqlite3_column_int64(q, 15);
	j.log_key = col_strdup(q, 16);
	return j;
}

static int op_job_get(struct store *st, uint64_t id, struct store_job *out, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = NULL;
	int rc = row_by_id(s, ST_JOB_GET, id, "job", &q, e);
	if (rc == 0) {
		*out = read_job(q);
		stmt_done(q);
	}
	return rc;
}

static int job_row(sqlite3_stmt *q, const struct walk *w)
{
	struct store_job j = read_job(q);
	int ret = w->fn.job(w->ctx, &j);
	store_job_release(&j);
	return ret;
}

static int op_job_list(struct store *st, store_job_fn fn, void *ctx, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	struct walk w = { .fn.job = fn, .ctx = ctx };
	return walk_rows(s, s->stmt[ST_JOB_LIST], job_row, &w, "job_list", e);
}

static int op_job_query(struct store *st, const struct store_job_query *qq, store_job_fn fn,
			void *ctx, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_JOB_QUERY];
	sqlite3_bind_int64(q, 1, (sqlite3_int64)qq->state_mask);
	sqlite3_bind_int64(q, 2, qq->uid);
	bind_text_or_null(q, 3, qq->user);
	sqlite3_bind_int64(q, 4, qq->before_id ? (sqlite3_int64)qq->before_id : INT64_MAX);
	sqlite3_bind_int64(q, 5, (sqlite3_int64)qq->limit);
	struct walk w = { .fn.job = fn, .ctx = ctx };
	return walk_rows(s, q, job_row, &w, "job_query", e);
}

static int op_job_count(struct store *st, uint64_t *counts, size_t n, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_JOB_COUNT];
	memset(counts, 0, n * sizeof *counts);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int state = sqlite3_column_int(q, 0);
		if (state >= 0 && (size_t)state < n)
			counts[state] = (uint64_t)sqlite3_column_int64(q, 1);
	}
	int ret = rc == SQLITE_DONE ? 0 : db_err(s, e, "job_count");
	sqlite3_reset(q);
	return ret;
}

/* ---- tasks ----------------------------------------------------------------- */

static int op_task_put(struct store *st, const struct store_task *t, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_TASK_PUT];
	sqlite3_bind_int64(q, 1, (sqlite3_int64)t->job_id);
	sqlite3_bind_int64(q, 2, t->index);
	sqlite3_bind_int64(q, 3, t->attempt);
	sqlite3_bind_text(q, 4, t->node ? t->node : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 5, t->state);
	sqlite3_bind_int(q, 6, t->pid);
	sqlite3_bind_int(q, 7, t->exit_code);
	sqlite3_bind_int(q, 8, t->term_signal);
	sqlite3_bind_int64(q, 9, t->start_s);
	sqlite3_bind_int64(q, 10, t->end_s);
	return step_done(s, ST_TASK_PUT, e);
}

static int op_task_clear(struct store *st, uint64_t job_id, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_bind_int64(s->stmt[ST_TASK_CLEAR], 1, (sqlite3_int64)job_id);
	return step_done(s, ST_TASK_CLEAR, e);
}

static int task_row(sqlite3_stmt *q, const struct walk *w)
{
	struct store_task t = {
		.job_id = (uint64_t)sqlite3_column_int64(q, 0),
		.index = (uint32_t)sqlite3_column_int64(q, 1),
		.attempt = (uint32_t)sqlite3_column_int64(q, 2),
		.node = col_strdup(q, 3),
		.state = sqlite3_column_int(q, 4),
		.pid = sqlite3_column_int(q, 5),
		.exit_code = sqlite3_column_int(q, 6),
		.term_signal = sqlite3_column_int(q, 7),
		.start_s = sqlite3_column_int64(q, 8),
		.end_s = sqlite3_column_int64(q, 9),
	};
	int ret = w->fn.task(w->ctx, &t);
	store_task_release(&t);
	return ret;
}

static int task_walk(struct store_sqlite *s, sqlite3_stmt *q, store_task_fn fn, void *ctx,
		     struct aidc_err *e)
{
	struct walk w = { .fn.task = fn, .ctx = ctx };
	return walk_rows(s, q, task_row, &w, "task_list", e);
}

static int op_task_list(struct store *st, store_task_fn fn, void *ctx, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	return task_walk(s, s->stmt[ST_TASK_LIST], fn, ctx, e);
}

static int op_task_list_job(struct store *st, uint64_t job_id, store_task_fn fn, void *ctx,
			    struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_bind_int64(s->stmt[ST_TASK_LIST_JOB], 1, (sqlite3_int64)job_id);
	return task_walk(s, s->stmt[ST_TASK_LIST_JOB], fn, ctx, e);
}

/* ---- nodes and metadata ---------------------------------------------------- */

static int op_node_put(struct store *st, const struct store_node *n, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_NODE_PUT];
	sqlite3_bind_text(q, 1, n->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, n->info_json ? n->info_json : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, n->state);
	sqlite3_bind_int64(q, 4, n->registered_s);
	return step_done(s, ST_NODE_PUT, e);
}

static int node_row(sqlite3_stmt *q, const struct walk *w)
{
	struct store_node n = {
		.name = col_strdup(q, 0),
		.info_json = col_strdup(q, 1),
		.state = sqlite3_column_int(q, 2),
		.registered_s = sqlite3_column_int64(q, 3),
	};
	int ret = w->fn.node(w->ctx, &n);
	store_node_release(&n);
	return ret;
}

static int op_node_list(struct store *st, store_node_fn fn, void *ctx, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	struct walk w = { .fn.node = fn, .ctx = ctx };
	return walk_rows(s, s->stmt[ST_NODE_LIST], node_row, &w, "node_list", e);
}

static int op_meta_get(struct store *st, const char *key, char **out, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_META_GET];
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	int rc = step_row(s, q, "meta_get", e);
	if (rc == 1)
		return aidc_errf(e, AIDC_E_NOTFOUND, "store: no metadata '%s'", key);
	if (rc == 0) {
		*out = col_strdup(q, 0);
		stmt_done(q);
	}
	return rc;
}

static int op_meta_set(struct store *st, const char *key, const char *value, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_META_SET];
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	return step_done(s, ST_META_SET, e);
}

/* ---- submission request ids ------------------------------------------------- */

static int op_req_get(struct store *st, uint32_t uid, const char *request_id, uint64_t *job_id,
		      struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_REQ_GET];
	sqlite3_bind_int64(q, 1, uid);
	sqlite3_bind_text(q, 2, request_id, -1, SQLITE_STATIC);
	int rc = step_row(s, q, "req_get", e);
	if (rc == 1)
		return aidc_errf(e, AIDC_E_NOTFOUND, "store: no request '%s'", request_id);
	if (rc == 0) {
		*job_id = (uint64_t)sqlite3_column_int64(q, 0);
		stmt_done(q);
	}
	return rc;
}

static int op_req_put(struct store *st, uint32_t uid, const char *request_id, uint64_t job_id,
		      int64_t created_s, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_REQ_PUT];
	sqlite3_bind_int64(q, 1, uid);
	sqlite3_bind_text(q, 2, request_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)job_id);
	sqlite3_bind_int64(q, 4, created_s);
	return step_done(s, ST_REQ_PUT, e);
}

static int op_req_prune(struct store *st, int64_t before_s, uint64_t *removed, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_bind_int64(s->stmt[ST_REQ_PRUNE], 1, before_s);
	int rc = step_done(s, ST_REQ_PRUNE, e);
	if (rc == 0 && removed)
		*removed = (uint64_t)sqlite3_changes(s->db);
	return rc;
}

/* ---- tokens ----------------------------------------------------------------- */

static int op_token_add(struct store *st, const struct store_token *t, uint64_t *out_id,
			struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_TOKEN_ADD];
	sqlite3_bind_int64(q, 1, t->uid);
	sqlite3_bind_int64(q, 2, t->gid);
	sqlite3_bind_text(q, 3, t->user ? t->user : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, t->name ? t->name : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, t->hash_hex ? t->hash_hex : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, t->created_s);
	sqlite3_bind_int64(q, 7, t->expires_s);
	sqlite3_bind_int64(q, 8, t->revoked_s);
	int rc = step_done(s, ST_TOKEN_ADD, e);
	if (rc == 0)
		*out_id = (uint64_t)sqlite3_last_insert_rowid(s->db);
	return rc;
}

static struct store_token read_token(sqlite3_stmt *q)
{
	struct store_token t = {0};
	read_owner(q, &t.id, &t.uid, &t.gid, &t.user, &t.name);
	t.hash_hex = col_strdup(q, 5);
	t.created_s = sqlite3_column_int64(q, 6);
	t.expires_s = sqlite3_column_int64(q, 7);
	t.revoked_s = sqlite3_column_int64(q, 8);
	return t;
}

static int op_token_get(struct store *st, uint64_t id, struct store_token *out,
			struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = NULL;
	int rc = row_by_id(s, ST_TOKEN_GET, id, "token", &q, e);
	if (rc == 0) {
		*out = read_token(q);
		stmt_done(q);
	}
	return rc;
}

static int token_row(sqlite3_stmt *q, const struct walk *w)
{
	struct store_token t = read_token(q);
	int ret = w->fn.token(w->ctx, &t);
	store_token_release(&t);
	return ret;
}

static int op_token_list(struct store *st, int64_t uid, store_token_fn fn, void *ctx,
			 struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_TOKEN_LIST];
	sqlite3_bind_int64(q, 1, uid);
	struct walk w = { .fn.token = fn, .ctx = ctx };
	return walk_rows(s, q, token_row, &w, "token_list", e);
}

static int op_token_revoke(struct store *st, uint64_t id, int64_t revoked_s, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	struct store_token t;
	int rc = op_token_get(st, id, &t, e);
	if (rc)
		return rc;
	store_token_release(&t);
	sqlite3_stmt *q = s->stmt[ST_TOKEN_REVOKE];
	sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(q, 2, revoked_s);
	return step_done(s, ST_TOKEN_REVOKE, e);
}

/* ---- tenancy ---------------------------------------------------------------- */

static int op_tenancy_put(struct store *st, const char *kind, const char *name, const char *doc,
			  struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_TENANCY_PUT];
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, doc, -1, SQLITE_STATIC);
	return step_done(s, ST_TENANCY_PUT, e);
}

static int op_tenancy_delete(struct store *st, const char *kind, const char *name,
			     struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	sqlite3_stmt *q = s->stmt[ST_TENANCY_DEL];
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	int rc = step_done(s, ST_TENANCY_DEL, e);
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		rc = aidc_errf(e, AIDC_E_NOTFOUND, "store: no %s '%s'", kind, name);
	return rc;
}

static int tenancy_row(sqlite3_stmt *q, const struct walk *w)
{
	return w->fn.tenancy(w->ctx, (const char *)sqlite3_column_text(q, 0),
		     (const char *)sqlite3_column_text(q, 1),
		     (const char *)sqlite3_column_text(q, 2));
}

static int op_tenancy_list(struct store *st, store_tenancy_fn fn, void *ctx, struct aidc_err *e)
{
	struct store_sqlite *s = self(st);
	struct walk w = { .fn.tenancy = fn, .ctx = ctx };
	return walk_rows(s, s->stmt[ST_TENANCY_LIST], tenancy_row, &w, "tenancy_list", e);
}

static int op_schema_version(struct store *st)
{
	return self(st)->version;
}

static void op_close(struct store *st)
{
	struct store_sqlite *s = self(st);
	op_rollback(st);
	for (int i = 0; i < ST_COUNT_; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	aidc_free(s);
}

static const struct store_ops sqlite_ops = {
	.version = STORE_OPS_VERSION,
	.name = "sqlite",
	.close = op_close,
	.begin = op_begin,
	.commit = op_commit,
	.rollback = op_rollback,
	.savepoint = op_savepoint,
	.release = op_release,
	.rollback_to = op_rollback_to,
	.job_put = op_job_put,
	.job_insert = op_job_insert,
	.job_max_id = op_job_max_id,
	.job_get = op_job_get,
	.job_list = op_job_list,
	.job_query = op_job_query,
	.job_count = op_job_count,
	.task_put = op_task_put,
	.task_clear = op_task_clear,
	.task_list = op_task_list,
	.task_list_job = op_task_list_job,
	.node_put = op_node_put,
	.node_list = op_node_list,
	.meta_get = op_meta_get,
	.meta_set = op_meta_set,
	.token_add = op_token_add,
	.token_get = op_token_get,
	.token_list = op_token_list,
	.token_revoke = op_token_revoke,
	.schema_version = op_schema_version,
	.tenancy_put = op_tenancy_put,
	.tenancy_delete = op_tenancy_delete,
	.tenancy_list = op_tenancy_list,
	.req_get = op_req_get,
	.req_put = op_req_put,
	.req_prune = op_req_prune,
	.audit_add = store_sqlite_audit_add,
	.audit_query = store_sqlite_audit_query,
	.acct_add = store_sqlite_acct_add,
	.acct_query = store_sqlite_acct_query,
	.acct_usage = store_sqlite_acct_usage,
	.rate_put = store_sqlite_rate_put,
	.rate_list = store_sqlite_rate_list,
	.step_put = store_sqlite_step_put,
	.step_list = store_sqlite_step_list,
	.step_get = store_sqlite_step_get,
};

sqlite3 *store_sqlite_db(struct store *st)
{
	return self(st)->db;
}

/* ---- open and migrate ------------------------------------------------------ */

static int exec_sql(struct store_sqlite *s, const char *sql, struct aidc_err *e)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int code = sqlite3_errcode(s->db) == SQLITE_BUSY ? AIDC_E_BUSY : AIDC_E_IO;
		aidc_errf(e, code, "store: %s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return code;
	}
	return 0;
}

static int read_version(struct store_sqlite *s, int *out, struct aidc_err *e)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", -1,
			       &q, NULL) != SQLITE_OK)
		return db_err(s, e, "reading schema_version");
	int rc = sqlite3_step(q);
	int ret = 0;
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(q, 0);
	else
		ret = db_err(s, e, "reading schema_version");
	sqlite3_finalize(q);
	return ret;
}

/* PRAGMA quick_check (O(database size), much cheaper than integrity_check):
 * a damaged database is refused at open with SQLite's first complaint, instead
 * of being reported healthy and failing at the first write. */
static int quick_check(struct store_sqlite *s, const char *path, struct aidc_err *e)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &q, NULL) != SQLITE_OK)
		return aidc_errf(e, AIDC_E_IO, "store: %s fails PRAGMA quick_check: %s", path,
				 sqlite3_errmsg(s->db));
	int rc = sqlite3_step(q);
	int ret = 0;
	const char *r = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(q, 0) : NULL;
	if (!r || strcmp(r, "ok") != 0)
		ret = aidc_errf(e, AIDC_E_IO,
				"store: %s is damaged (PRAGMA quick_check: %.300s); refusing to "
				"start on it: restore it from a backup or move it away",
				path, r ? r : sqlite3_errmsg(s->db));
	sqlite3_finalize(q);
	return ret;
}

static int migrate(struct store_sqlite *s, struct aidc_err *e)
{
	int rc = exec_sql(s,
			  "CREATE TABLE IF NOT EXISTS schema_version ("
			  " version INTEGER PRIMARY KEY, applied_s INTEGER NOT NULL)",
			  e);
	if (rc)
		return rc;
	int v = 0;
	if ((rc = read_version(s, &v, e)) != 0)
		return rc;
	if (v > STORE_SCHEMA_VERSION)
		return aidc_errf(e, AIDC_E_VERSION,
				 "store: database schema version %d is newer than this build's %d; "
				 "use a newer aidc",
				 v, STORE_SCHEMA_VERSION);
	for (; v < STORE_SCHEMA_VERSION; v++) {
		if ((rc = exec_sql(s, "BEGIN IMMEDIATE", e)) != 0)
			return rc;
		char rec[160];
		snprintf(rec, sizeof rec,
			 "INSERT INTO schema_version (version, applied_s) "
			 "VALUES (%d, CAST(strftime('%%s','now') AS INTEGER))",
			 v + 1);
		rc = exec_sql(s, migrations[v], e);
		if (rc == 0)
			rc = exec_sql(s, rec, e);
		if (rc == 0)
			rc = exec_sql(s, "COMMIT", e);
		if (rc != 0) {
			exec_sql(s, "ROLLBACK", NULL);
			return aidc_errf(e, rc, "store: migration to version %d failed", v + 1);
		}
	}
	s->version = v;
	return 0;
}

void store_options_defaults(struct store_options *o)
{
	o->sync_full = true;
	o->busy_timeout_ms = 5000;
}

int store_open_sqlite(const char *path, const struct store_options *o, struct store **out,
		      struct aidc_err *e)
{
	struct store_options def;
	if (!o) {
		store_options_defaults(&def);
		o = &def;
	}
	*out = NULL;
	if (!path || !*path || strlen(path) >= AIDC_MAX_PATH_BYTES)
		return aidc_errf(e, AIDC_E_INVAL, "store: bad database path");
	struct store_sqlite *s = aidc_calloc(1, sizeof *s);
	s->base.ops = &sqlite_ops;
	int rc;
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = aidc_errf(e, AIDC_E_IO, "store: cannot open %s: %s", path,
			       s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, o->busy_timeout_ms);
	sqlite3_extended_result_codes(s->db, 0);
	/* Check the version before changing anything, including the journal mode. */
	if ((rc = exec_sql(s, "PRAGMA foreign_keys=ON", e)) != 0)
		goto fail;
	if ((rc = quick_check(s, path, e)) != 0)
		goto fail;
	if ((rc = migrate(s, e)) != 0)
		goto fail;
	if ((rc = exec_sql(s, "PRAGMA journal_mode=WAL", e)) != 0)
		goto fail;
	if ((rc = exec_sql(s, o->sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
			   e)) != 0)
		goto fail;
	for (int i = 0; i < ST_COUNT_; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &s->stmt[i], NULL) != SQLITE_OK) {
			rc = db_err(s, e, stmt_sql[i]);
			goto fail;
		}
	*out = &s->base;
	return 0;
fail:
	op_close(&s->base);
	return rc;
}

void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

/* ---- row helpers ----------------------------------------------------------- */

void store_job_release(struct store_job *j)
{
	aidc_free(j->user);
	aidc_free(j->name);
	aidc_free(j->spec_json);
	aidc_free(j->alloc_json);
	aidc_free(j->reason);
	aidc_free(j->log_key);
	j->user = j->name = j->spec_json = j->alloc_json = j->reason = j->log_key = NULL;
}

void store_task_release(struct store_task *t)
{
	aidc_free(t->node);
	t->node = NULL;
}

void store_node_release(struct store_node *n)
{
	aidc_free(n->name);
	aidc_free(n->info_json);
	n->name = n->info_json = NULL;
}

void store_token_release(struct store_token *t)
{
	aidc_free(t->user);
	aidc_free(t->name);
	aidc_free(t->hash_hex);
	t->user = t->name = t->hash_hex = NULL;
}
