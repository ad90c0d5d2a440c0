/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL implementation of struct store_ops (store.h), over libpq,
 * for centers whose operators keep their state in a replicated PostgreSQL
 * (issue 15 item 3). Same tables, the same numbered migrations recorded in
 * schema_version and the same semantics as store_sqlite.c, so the controller
 * cannot tell the two apart:
 *
 * Durability: a COMMIT returns once the server has flushed its WAL
 * (synchronous_commit = on, the server's default) when sync_full is set;
 * otherwise synchronous_commit = off, which survives a crash of the
 * controller (the server has the commit) but may lose the last commits if
 * the server itself crashes, as synchronous=NORMAL does for SQLite. The
 * controller acknowledges nothing before its group commit returns.
 * busy_timeout_ms becomes lock_timeout: a writer waits that long for another
 * connection's row lock, then fails with AIDC_E_BUSY.
 *
 * Errors inside a transaction: PostgreSQL aborts the whole transaction at a
 * failed statement, where SQLite only undoes the statement. The outcomes a
 * caller expects (an id already taken, a request id or accounting record
 * already recorded) are therefore found with ON CONFLICT DO NOTHING and a
 * row count, never with a failing statement; any other failure is undone by
 * the caller's rollback_to (savepoints work as in SQLite), and a commit of a
 * transaction that an error aborted fails with that error instead of
 * reporting success (PostgreSQL answers such a COMMIT with ROLLBACK).
 *
 * Migrations: each runs in its own transaction with the schema_version row it
 * adds, under a transaction-level advisory lock, so two controllers starting
 * on one empty database do not both migrate it. A database of a newer build
 * is refused untouched.
 *
 * Text is ordered COLLATE "C" (bytes, as SQLite orders it), whatever the
 * database's locale.
 *
 * Cost: statements of the fixed ops are prepared once per connection; every
 * op is one round trip to the server (tens of microseconds over a Unix
 * socket). Listings fetch their rows in one result (libpq keeps them in
 * client memory while the visitor runs, so visitors may call other ops);
 * the controller's listings are bounded by their limits.
 *
 * The connection string never appears in an error: the URI's password is
 * what an operator must never find in a log (store_redact).
 */
#include <libpq-fe.h>

#include "store/store.h"
#include "store/store_pg_int.h"
#include "util/util.h"

/* ---- schema ---------------------------------------------------------------- */

/* SQLite's INTEGER is 64-bit: BIGINT here. "user" is a reserved word in
 * PostgreSQL and is quoted; an AUTOINCREMENT id is an identity column (its
 * sequence never hands out a value twice). */
static const char *const migrations[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE jobs ("
	" id BIGINT PRIMARY KEY, uid BIGINT NOT NULL, gid BIGINT NOT NULL,"
	" \"user\" TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, alloc TEXT,"
	" reason TEXT, state BIGINT NOT NULL, target BIGINT NOT NULL, attempt BIGINT NOT NULL,"
	" exit_code BIGINT NOT NULL, term_signal BIGINT NOT NULL,"
	" submit_s BIGINT NOT NULL, start_s BIGINT NOT NULL, end_s BIGINT NOT NULL);"
	"CREATE INDEX jobs_state ON jobs(state);"
	"CREATE TABLE tasks ("
	" job_id BIGINT NOT NULL, idx BIGINT NOT NULL, attempt BIGINT NOT NULL,"
	" node TEXT NOT NULL, state BIGINT NOT NULL, pid BIGINT NOT NULL,"
	" exit_code BIGINT NOT NULL, term_signal BIGINT NOT NULL,"
	" start_s BIGINT NOT NULL, end_s BIGINT NOT NULL,"
	" PRIMARY KEY (job_id, idx));"
	"CREATE TABLE nodes ("
	" name TEXT PRIMARY KEY, info TEXT NOT NULL, state BIGINT NOT NULL,"
	" registered_s BIGINT NOT NULL);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
	/* 1 -> 2: per-user API tokens (docs/security.md). */
	"CREATE TABLE tokens ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, uid BIGINT NOT NULL,"
	" gid BIGINT NOT NULL, \"user\" TEXT NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL,"
	" created_s BIGINT NOT NULL, expires_s BIGINT NOT NULL, revoked_s BIGINT NOT NULL);"
	"CREATE INDEX tokens_uid ON tokens(uid);",
	/* 2 -> 3: the log directory key of a job (store_sqlite.c). */
	"ALTER TABLE jobs ADD COLUMN log_key TEXT NOT NULL DEFAULT '';",
	/* 3 -> 4: tenancy (docs/tenancy.md). */
	"CREATE TABLE tenancy ("
	" kind TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,"
	" PRIMARY KEY (kind, name));",
	/* 4 -> 5: client request ids of submissions. */
	"CREATE TABLE submit_requests ("
	" uid BIGINT NOT NULL, request_id TEXT NOT NULL, job_id BIGINT NOT NULL,"
	" created_s BIGINT NOT NULL, PRIMARY KEY (uid, request_id));"
	"CREATE INDEX submit_requests_created ON submit_requests(created_s);",
	/* 5 -> 6: the audit log and job accounting, append-only. The triggers
	 * refuse UPDATE and DELETE from any writer, as in SQLite, and TRUNCATE
	 * too (which PostgreSQL has and which no row trigger sees). */
	"CREATE OR REPLACE FUNCTION aidc_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$"
	" BEGIN RAISE EXCEPTION '% records are append-only', TG_ARGV[0]; END $f$;"
	"CREATE TABLE audit ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, time_s BIGINT NOT NULL,"
	" actor_uid BIGINT NOT NULL, actor TEXT NOT NULL, via TEXT NOT NULL,"
	" action TEXT NOT NULL, target TEXT NOT NULL, target_uid BIGINT NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE INDEX audit_time ON audit(time_s);"
	"CREATE INDEX audit_actor ON audit(actor_uid);"
	"CREATE INDEX audit_target ON audit(target_uid);"
	"CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit"
	" FOR EACH ROW EXECUTE FUNCTION aidc_append_only('audit');"
	"CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit"
	" FOR EACH STATEMENT EXECUTE FUNCTION aidc_append_only('audit');"
	"CREATE TABLE job_acct ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job_id BIGINT NOT NULL,"
	" attempt BIGINT NOT NULL, uid BIGINT NOT NULL, \"user\" TEXT NOT NULL,"
	" account TEXT NOT NULL, qos TEXT NOT NULL, name TEXT NOT NULL, state BIGINT NOT NULL,"
	" exit_code BIGINT NOT NULL, term_signal BIGINT NOT NULL, submit_s BIGINT NOT NULL,"
	" start_s BIGINT NOT NULL, end_s BIGINT NOT NULL, ntasks BIGINT NOT NULL,"
	" ndev BIGINT NOT NULL, nodes TEXT NOT NULL, devices TEXT NOT NULL, dev_s TEXT NOT NULL,"
	" dev_s_total BIGINT NOT NULL, cpu_usec BIGINT NOT NULL,"
	" mem_peak_bytes BIGINT NOT NULL, tasks TEXT NOT NULL, UNIQUE (job_id, attempt));"
	"CREATE INDEX job_acct_end ON job_acct(end_s);"
	"CREATE INDEX job_acct_uid_end ON job_acct(uid, end_s);"
	"CREATE INDEX job_acct_account_end ON job_acct(account, end_s);"
	"CREATE TRIGGER job_acct_no_change BEFORE UPDATE OR DELETE ON job_acct"
	" FOR EACH ROW EXECUTE FUNCTION aidc_append_only('accounting');"
	"CREATE TRIGGER job_acct_no_truncate BEFORE TRUNCATE ON job_acct"
	" FOR EACH STATEMENT EXECUTE FUNCTION aidc_append_only('accounting');",
	/* 6 -> 7: per-model rates and the rates and units of each record. */
	"CREATE TABLE model_rates ("
	" model TEXT PRIMARY KEY, rate_ppm BIGINT NOT NULL, derived_ppm BIGINT NOT NULL,"
	" source TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL,"
	" set_s BIGINT NOT NULL, report TEXT NOT NULL);"
	"ALTER TABLE job_acct ADD COLUMN rates TEXT NOT NULL DEFAULT '{}';"
	"ALTER TABLE job_acct ADD COLUMN units_ppm BIGINT NOT NULL DEFAULT -1;",
	/* 7 -> 8: srun steps of batch jobs (docs/slurm.md). */
	"CREATE TABLE job_steps ("
	" job_id BIGINT NOT NULL, step_id BIGINT NOT NULL, live BIGINT NOT NULL,"
	" doc TEXT NOT NULL, PRIMARY KEY (job_id, step_id));"
	"CREATE INDEX job_steps_live ON job_steps(live, job_id, step_id);",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == STORE_SCHEMA_VERSION,
	       "one migration per schema version");

/* Serializes migrations of one database between controllers ("aidc" in ASCII). */
#define MIGRATION_LOCK "SELECT pg_advisory_xact_lock(1634296931)"

enum stmt_id {
	ST_JOB_INSERT,
	ST_JOB_UPDATE,
	ST_JOB_MAX_ID,
	ST_JOB_GET,
	ST_JOB_LIST,
	ST_JOB_QUERY,
	ST_JOB_COUNT,
	ST_TASK_PUT,
	ST_TASK_CLEAR,
	ST_TASK_LIST,
	ST_TASK_LIST_JOB,
	ST_NODE_PUT,
	ST_NODE_LIST,
	ST_META_GET,
	ST_META_SET,
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

#define OWNER_COLS "id, uid, gid, \"user\", name"
#define JOB_COLS                                                                                   \
	OWNER_COLS ", spec, alloc, reason, state, target, attempt, exit_code, "                    \
		   "term_signal, submit_s, start_s, end_s, log_key"
#define TOKEN_COLS OWNER_COLS ", hash, created_s, expires_s, revoked_s"
#define TASK_COLS "job_id, idx, attempt, node, state, pid, exit_code, term_signal, start_s, end_s"

static const char *const stmt_sql[ST_COUNT_] = {
	/* Inserted once, never replaced: a taken id inserts nothing (a row count
	 * of 0 is AIDC_E_EXISTS) and does not abort the transaction. */
	[ST_JOB_INSERT] = "INSERT INTO jobs (" JOB_COLS ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,"
			  "$11,$12,$13,$14,$15,$16,$17) ON CONFLICT (id) DO NOTHING",
	[ST_JOB_UPDATE] = "UPDATE jobs SET name = $5, spec = COALESCE($6, spec), alloc = $7,"
			  " reason = $8, state = $9, target = $10, attempt = $11, exit_code = $12,"
			  " term_signal = $13, submit_s = $14, start_s = $15, end_s = $16"
			  " WHERE id = $1 AND uid = $2 AND gid = $3 AND \"user\" = $4",
	[ST_JOB_MAX_ID] = "SELECT COALESCE(MAX(id), 0) FROM jobs",
	[ST_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = $1",
	[ST_JOB_LIST] = "SELECT " JOB_COLS " FROM jobs ORDER BY id",
	/* $1 state mask (bit per state), $2 uid or -1, $3 user or NULL, $4 ids
	 * below this, $5 limit; the primary key walked backwards. */
	[ST_JOB_QUERY] = "SELECT " JOB_COLS " FROM jobs WHERE state BETWEEN 0 AND 63"
			 " AND (($1::bigint >> state::int) & 1) <> 0"
			 " AND ($2::bigint < 0 OR uid = $2) AND ($3::text IS NULL OR \"user\" = $3)"
			 " AND id < $4 ORDER BY id DESC LIMIT $5",
	[ST_JOB_COUNT] = "SELECT state, COUNT(*) FROM jobs GROUP BY state",
	[ST_TASK_PUT] = "INSERT INTO tasks (" TASK_COLS ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
			" ON CONFLICT (job_id, idx) DO UPDATE SET attempt = EXCLUDED.attempt,"
			" node = EXCLUDED.node, state = EXCLUDED.state, pid = EXCLUDED.pid,"
			" exit_code = EXCLUDED.exit_code, term_signal = EXCLUDED.term_signal,"
			" start_s = EXCLUDED.start_s, end_s = EXCLUDED.end_s",
	[ST_TASK_CLEAR] = "DELETE FROM tasks WHERE job_id = $1",
	[ST_TASK_LIST] = "SELECT " TASK_COLS " FROM tasks ORDER BY job_id, idx",
	[ST_TASK_LIST_JOB] = "SELECT " TASK_COLS " FROM tasks WHERE job_id = $1 ORDER BY idx",
	[ST_NODE_PUT] = "INSERT INTO nodes (name, info, state, registered_s) VALUES ($1,$2,$3,$4)"
			" ON CONFLICT (name) DO UPDATE SET info = EXCLUDED.info,"
			" state = EXCLUDED.state, registered_s = EXCLUDED.registered_s",
	[ST_NODE_LIST] = "SELECT name, info, state, registered_s FROM nodes"
			 " ORDER BY name COLLATE \"C\"",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = $1",
	[ST_META_SET] = "INSERT INTO meta (key, value) VALUES ($1, $2)"
			" ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
	[ST_TOKEN_ADD] = "INSERT INTO tokens (uid, gid, \"user\", name, hash, created_s, expires_s,"
			 " revoked_s) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id",
	[ST_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM tokens WHERE id = $1",
	[ST_TOKEN_LIST] = "SELECT " TOKEN_COLS " FROM tokens WHERE ($1::bigint < 0 OR uid = $1)"
			  " ORDER BY id",
	[ST_TOKEN_REVOKE] = "UPDATE tokens SET revoked_s = $2 WHERE id = $1 AND revoked_s = 0",
	[ST_TENANCY_PUT] = "INSERT INTO tenancy (kind, name, doc) VALUES ($1,$2,$3)"
			   " ON CONFLICT (kind, name) DO UPDATE SET doc = EXCLUDED.doc",
	[ST_TENANCY_DEL] = "DELETE FROM tenancy WHERE kind = $1 AND name = $2",
	[ST_TENANCY_LIST] = "SELECT kind, name, doc FROM tenancy"
			     " ORDER BY kind COLLATE \"C\", name COLLATE \"C\"",
	[ST_REQ_GET] = "SELECT job_id FROM submit_requests WHERE uid = $1 AND request_id = $2",
	/* A request id already recorded inserts nothing: AIDC_E_EXISTS. */
	[ST_REQ_PUT] = "INSERT INTO submit_requests (uid, request_id, job_id, created_s)"
		       " VALUES ($1,$2,$3,$4) ON CONFLICT (uid, request_id) DO NOTHING",
	[ST_REQ_PRUNE] = "DELETE FROM submit_requests WHERE created_s < $1",
};

struct store_pg {
	struct store base; /* first: struct store * <-> struct store_pg * */
	PGconn *conn;
	int version;
	bool in_tx;
	uint32_t nsave;    /* open savepoints as the caller sees them */
	uint32_t pg_depth; /* savepoints the server has: nsave + releases not yet sent */
	/* The first error of the open transaction: what its commit reports. */
	char tx_err[AIDC_ERRMSG_MAX];
	char session_sql[160]; /* the SET commands of every (re)connection */
	struct store_pg_lead lead; /* the leader lease this connection holds (store_pg_lead.c) */
};

static struct store_pg *self(struct store *st)
{
	return (struct store_pg *)st;
}

void store_pg_i64(struct store_pg_params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof p->num[p->n], "%" PRId64, v);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

void store_pg_text(struct store_pg_params *p, const char *s)
{
	p->v[p->n++] = s;
}

int64_t store_pg_col_i64(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *store_pg_col(const PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col); /* "" for NULL */
}

static char *col_strdup(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : aidc_strdup(PQgetvalue(r, row, col));
}

/* libpq's message without its trailing newline, into buf. */
static const char *pq_message(PGconn *conn, const PGresult *r, char *buf, size_t n)
{
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	snprintf(buf, n, "%s", m ? m : PQerrorMessage(conn));
	size_t l = strlen(buf);
	while (l && (buf[l - 1] == '\n' || buf[l - 1] == ' '))
		buf[--l] = '\0';
	/* One line: libpq puts hints on lines of their own ("\n\tIs the server..."). */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	return buf[0] ? buf : "unknown error";
}

/* Maps a failed result (or a failure to get one) to an AIDC_E_* code: a
 * constraint (SQLSTATE class 23) is EXISTS, a lock or serialization conflict
 * BUSY, anything else (the connection included) IO. */
static int pg_fail(struct store_pg *s, const PGresult *r, const char *what, struct aidc_err *e)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	int code = AIDC_E_IO;
	if (state && strncmp(state, "23", 2) == 0)
		code = AIDC_E_EXISTS;
	else if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01") ||
			   !strcmp(state, "55P03")))
		code = AIDC_E_BUSY;
	char msg[512];
	pq_message(s->conn, r, msg, sizeof msg);
	if (s->in_tx && !s->tx_err[0])
		snprintf(s->tx_err, sizeof s->tx_err, "%.100s: %.380s", what, msg);
	return aidc_errf(e, code, "store: %s: %s", what, msg);
}

/* Checks a result: 0 and *out = r (or r freed when out is NULL), else the error. */
static int pg_result(struct store_pg *s, PGresult *r, PGresult **out, const char *what,
		     struct aidc_err *e)
{
	ExecStatusType t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
		int rc = pg_fail(s, r, what, e);
		PQclear(r);
		return rc;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return 0;
}

static int prepare_all(struct store_pg *s, struct aidc_err *e);

/* A connection found lost (the server restarted, an operator terminated the
 * backend) is re-established before the next op that is not inside a
 * transaction: the op that met the loss failed, a transaction that was open
 * is gone with it (its commit fails), and the next ones work again. */
static int reconnect_if_lost(struct store_pg *s, struct aidc_err *e)
{
	if (s->in_tx || PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	PQreset(s->conn);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		char msg[512];
		return aidc_errf(e, AIDC_E_IO, "store: reconnecting to PostgreSQL failed: %s",
				 pq_message(s->conn, NULL, msg, sizeof msg));
	}
	int rc = pg_result(s, PQexec(s->conn, s->session_sql), NULL, "reconnecting", e);
	return rc ? rc : prepare_all(s, e);
}

int store_pg_run(struct store *st, const char *sql, const struct store_pg_params *p,
		 PGresult **out, const char *what, struct aidc_err *e)
{
	struct store_pg *s = self(st);
	int rc = reconnect_if_lost(s, e);
	if (rc)
		return rc;
	PGresult *r = PQexecParams(s->conn, sql, p ? p->n : 0, NULL, p ? p->v : NULL, NULL, NULL, 0);
	return pg_result(s, r, out, what, e);
}

PGresult *store_pg_exec(struct store *st, const char *sql, struct aidc_err *e)
{
	struct store_pg *s = self(st);
	if (reconnect_if_lost(s, e) != 0)
		return NULL;
	return PQexec(s->conn, sql);
}

int store_pg_check(struct store *st, PGresult *r, const char *what, struct aidc_err *e)
{
	return pg_result(self(st), r, NULL, what, e);
}

static const char *const stmt_what[ST_COUNT_] = {
	[ST_JOB_INSERT] = "inserting a job", [ST_JOB_UPDATE] = "job_put",
	[ST_JOB_MAX_ID] = "reading the highest job id", [ST_JOB_GET] = "job_get",
	[ST_JOB_LIST] = "job_list", [ST_JOB_QUERY] = "job_query", [ST_JOB_COUNT] = "job_count",
	[ST_TASK_PUT] = "task_put", [ST_TASK_CLEAR] = "task_clear", [ST_TASK_LIST] = "task_list",
	[ST_TASK_LIST_JOB] = "task_list", [ST_NODE_PUT] = "node_put", [ST_NODE_LIST] = "node_list",
	[ST_META_GET] = "meta_get", [ST_META_SET] = "meta_set", [ST_TOKEN_ADD] = "token_add",
	[ST_TOKEN_GET] = "token", [ST_TOKEN_LIST] = "token_list", [ST_TOKEN_REVOKE] = "token_revoke",
	[ST_TENANCY_PUT] = "tenancy_put", [ST_TENANCY_DEL] = "tenancy_delete",
	[ST_TENANCY_LIST] = "tenancy_list", [ST_REQ_GET] = "req_get", [ST_REQ_PUT] = "req_put",
	[ST_REQ_PRUNE] = "req_prune",
};

/* Runs prepared statement id (named "aidc_<id>" on this connection). */
static int run(struct store_pg *s, enum stmt_id id, const struct store_pg_params *p,
	       PGresult **out, struct aidc_err *e)
{
	int rc = reconnect_if_lost(s, e);
	if (rc)
		return rc;
	char name[32];
	snprintf(name, sizeof name, "aidc_%d", (int)id);
	PGresult *r = PQexecPrepared(s->conn, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0);
	return pg_result(s, r, out, stmt_what[id], e);
}

/* Rows a statement without a result set changed. */
static uint64_t changes(const PGresult *r)
{
	return strtoull(PQcmdTuples((PGresult *)r), NULL, 10);
}

/* Runs a statement whose row count matters; *n = rows changed. */
static int run_count(struct store_pg *s, enum stmt_id id, const struct store_pg_params *p,
		     uint64_t *n, struct aidc_err *e)
{
	PGresult *r = NULL;
	int rc = run(s, id, p, &r, e);
	if (rc == 0) {
		*n = changes(r);
		PQclear(r);
	}
	return rc;
}

/* Runs a plain SQL command (transaction control, migrations). */
static int exec_sql(struct store_pg *s, const char *sql, struct aidc_err *e)
{
	return pg_result(s, PQexec(s->conn, sql), NULL, "executing SQL", e);
}

/* ---- transactions ---------------------------------------------------------- */

static int op_begin(struct store *st, struct aidc_err *e)
{
	struct store_pg *s = self(st);
	if (s->in_tx)
		return aidc_errf(e, AIDC_E_STATE, "store: nested transaction");
	s->tx_err[0] = '\0';
	int rc = reconnect_if_lost(s, e);
	if (rc == 0)
		rc = exec_sql(s, "BEGIN", e);
	if (rc == 0)
		s->in_tx = true;
	return rc;
}

static void end_tx(struct store_pg *s)
{
	if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		PQclear(PQexec(s->conn, "ROLLBACK"));
	s->in_tx = false;
	s->nsave = s->pg_depth = 0;
}

static int op_commit(struct store *st, struct aidc_err *e)
{
	struct store_pg *s = self(st);
	if (!s->in_tx)
		return aidc_errf(e, AIDC_E_STATE, "store: commit without begin");
	int rc;
	if (PQtransactionStatus(s->conn) == PQTRANS_INERROR) {
		rc = aidc_errf(e, AIDC_E_IO, "store: commit refused: an earlier statement failed "
				 "(%s); the transaction was rolled back", s->tx_err);
	} else {
		/* A leader's commit is fenced: the lease renewal that fails when the
		 * term moved on travels with COMMIT in one message, so no lock on
		 * the lease row is held between them (a paused leader holds none). */
		char sql[STORE_PG_FENCE_SQL_MAX];
		store_pg_fence_sql(&s->lead, "COMMIT", sql, sizeof sql);
		PGresult *got = PQexec(s->conn, sql), *r = NULL;
		if (store_pg_fenced_out(got)) {
			rc = store_pg_deposed(&s->lead, e);
			PQclear(got);
		} else {
			rc = pg_result(s, got, &r, "commit", e);
		}
		/* A transaction the server aborted "commits" as ROLLBACK. */
		if (rc == 0 && strcmp(PQcmdStatus(r), "COMMIT") != 0)
			rc = aidc_errf(e, AIDC_E_IO, "store: commit answered %s; nothing was stored",
				       PQcmdStatus(r));
		PQclear(r);
	}
	end_tx(s);
	return rc;
}

static void op_rollback(struct store *st)
{
	struct store_pg *s = self(st);
	if (s->in_tx)
		end_tx(s);
}

/*
 * Savepoints cost one round trip per unit, not two: savepoint k is named
 * "u<k>" by its depth, and a release is only noted. The next savepoint of
 * the same depth releases the old one in the same message ("RELEASE
 * SAVEPOINT u1; SAVEPOINT u1"), COMMIT releases whatever is left, and a
 * rollback_to names its own depth, so a released savepoint above it (still
 * on the server) is undone with it, as its unit was part of this one.
 */
static int op_savepoint(struct store *st, struct aidc_err *e)
{
	struct store_pg *s = self(st);
	if (!s->in_tx)
		return aidc_errf(e, AIDC_E_STATE, "store: savepoint outside a transaction");
	char sql[64];
	uint32_t d = s->nsave + 1;
	if (s->pg_depth >= d)
		snprintf(sql, sizeof sql, "RELEASE SAVEPOINT u%u; SAVEPOINT u%u", d, d);
	else
		snprintf(sql, sizeof sql, "SAVEPOINT u%u", d);
	int rc = exec_sql(s, sql, e);
	if (rc == 0)
		s->nsave = s->pg_depth = d;
	return rc;
}

static int op_release(struct store *st, struct aidc_err *e)
{
	struct store_pg *s = self(st);
	if (!s->in_tx || s->nsave == 0)
		return aidc_errf(e, AIDC_E_STATE, "store: release without a savepoint");
	/* A failed statement aborted the transaction: RELEASE would fail, so
	 * send it now to report that, as an immediate RELEASE would. */
	if (PQtransactionStatus(s->conn) == PQTRANS_INERROR) {
		char sql[48];
		snprintf(sql, sizeof sql, "RELEASE SAVEPOINT u%u", s->nsave);
		int rc = exec_sql(s, sql, e);
		if (rc)
			return rc;
		s->pg_depth = s->nsave - 1;
	}
	s->nsave--;
	return 0;
}

static void op_rollback_to(struct store *st)
{
	struct store_pg *s = self(st);
	if (!s->in_tx || s->nsave == 0)
		return;
	/* ROLLBACK TO keeps the savepoint open (and ends an aborted state the
	 * unit caused); RELEASE closes it. The unit's error is forgotten. */
	char sql[96];
	snprintf(sql, sizeof sql, "ROLLBACK TO SAVEPOINT u%u; RELEASE SAVEPOINT u%u", s->nsave,
		 s->nsave);
	exec_sql(s, sql, NULL);
	if (PQtransactionStatus(s->conn) == PQTRANS_INTRANS)
		s->tx_err[0] = '\0';
	s->nsave--;
	s->pg_depth = s->nsave;
}

/* ---- jobs ------------------------------------------------------------------ */

static void job_params(struct store_pg_params *p, const struct store_job *j)
{
	p->n = 0;
	store_pg_i64(p, (int64_t)j->id);
	store_pg_i64(p, j->uid);
	store_pg_i64(p, j->gid);
	store_pg_text(p, j->user ? j->user : "");
	store_pg_text(p, j->name ? j->name : "");
	store_pg_text(p, j->spec_json); /* NULL: an update keeps the stored spec */
	store_pg_text(p, j->alloc_json);
	store_pg_text(p, j->reason);
	store_pg_i64(p, j->state);
	store_pg_i64(p, j->target);
	store_pg_i64(p, j->attempt);
	store_pg_i64(p, j->exit_code);
	store_pg_i64(p, j->term_signal);
	store_pg_i64(p, j->submit_s);
	store_pg_i64(p, j->start_s);
	store_pg_i64(p, j->end_s);
}

static int check_job_id(const struct store_job *j, struct aidc_err *e)
{
	if (j->id == 0 || j->id > (uint64_t)INT64_MAX)
		return aidc_errf(e, AIDC_E_INVAL, "store: job id %" PRIu64 " out of range", j->id);
	return 0;
}

static int op_job_insert(struct store *st, const struct store_job *j, struct aidc_err *e)
{
	struct store_pg *s = self(st);
	int rc = check_job_id(j, e);
	if (rc)
		return rc;
	if (!j->spec_json)
		return aidc_errf(e, AIDC_E_INVAL, "store: job %" PRIu64 " inserted without a spec",
				 j->id);
	struct store_pg_params p;
	job_params(&p, j);
	store_pg_text(&p, j->log_key ? j->log_key : "");
	uint64_t n = 0;
	if ((rc = run_count(s, ST_JOB_INSERT, &p, &n, e)) != 0)
		return rc;
	if (n != 1)
		return aidc_errf(e, AIDC_E_EXISTS,
				 "store: job id %" PRIu64 " is already taken (a tampered or restored "
				 "next_job_id?); the row was not replaced",
				 j->id);
	return 0;
}

static int op_job_put(struct store *st, const struct store_job *j, struct aidc_err *e)
{
	struct store_pg *s = self(st);
	int rc = check_job_id(j, e);
	if (rc)
		return rc;
	struct store_pg_params p;
	job_params(&p, j);
	uint64_t n = 0;
	if ((rc = run_count(s, ST_JOB_UPDATE, &p, &n, e)) != 0)
		return rc;
	if (n != 1)
		return aidc_errf(e, AIDC_E_NOTFOUND, "store: no job %" PRIu64 " of uid %u to update",
				 j->id, (unsigned)j->uid);
	return 0;
}

static int op_job_max_id(struct store *st, uint64_t *out, struct aidc_err *e)
{
	struct store_pg *s = self(st);
	PGresult *r = NULL;
	int rc = run(s, ST_JOB_MAX_ID, NULL, &r, e);
	if (rc == 0) {
		*out = (uint64_t)store_pg_col_i64(r, 0, 0);
		PQclear(r);
	}
	return rc;
}

/* Columns 0-4 of a job or token row (OWNER_COLS): who owns it and its name. */
static void read_owner(const PGresult *r, int i, uint64_t *id, uint32_t *uid, uint32_t *gid,
		       char **user, char **name)
{
	*id = (uint64_t)store_pg_col_i64(r, i, 0);
	*uid = (uint32_t)store_pg_col_i64(r, i, 1);
	*gid = (uint32_t)store_pg_col_i64(r, i, 2);
	*user = col_strdup(r, i, 3);
	*name = col_strdup(r, i, 4);
}

static struct store_job read_job(const PGresult *r, int i)
{
	struct store_job j = {0};
	read_owner(r, i, &j.id, &j.uid, &j.gid, &j.user, &j.name);
	j.spec_json = col_strdup(r, i, 5);
	j.alloc_json = col_strdup(r, i, 6);
	j.reason = col_strdup(r, i, 7);
	j.state = (int)store_pg_col_i64(r, i, 8);
	j.target = (int)store_pg_col_i64(r, i, 9);
	j.attempt = (uint32_t)store_pg_col_i64(r, i, 10);
	j.exit_code = (int32_t)store_pg_col_i64(r, i, 11);
	j.term_signal = (int32_t)store_pg_col_i64(r, i, 12);
	j.submit_s = store_pg_col_i64(r, i, 13);
	j.start_s = store_pg_col_i64(r, i, 14);
	j.end_s = store_pg_col_i64(r, i, 15);
	j.log_key = col_strdup(r, i, 16);
	return j;
}

/* Runs statement id with $1 = id: 0 with *out holding one row, else NOTFOUND
 * ("no <what> <id>") or the error. */
static int row_by_id(struct store_pg *s, enum stmt_id sid, uint64_t id, const char *what,
		     PGresult **out, struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, (int64_t)id);
	int rc = run(s, sid, &p, out, e);
	if (rc == 0 && PQntuples(*out) == 0) {
		PQclear(*out);
		*out = NULL;
		rc = aidc_errf(e, AIDC_E_NOTFOUND, "store: no %s %" PRIu64, what, id);
	}
	return rc;
}

static int op_job_get(struct store *st, uint64_t id, struct store_job *out, struct aidc_err *e)
{
	PGresult *r = NULL;
	int rc = row_by_id(self(st), ST_JOB_GET, id, "job", &r, e);
	if (rc == 0) {
		*out = read_job(r, 0);
		PQclear(r);
	}
	return rc;
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

/* Runs statement id and calls row(r, i, w) on each row in order, stopping at
 * the first nonzero return, which it returns. */
static int walk_rows(struct store_pg *s, enum stmt_id id, const struct store_pg_params *p,
		     int (*row)(const PGresult *, int, const struct walk *), const struct walk *w,
		     struct aidc_err *e)
{
	PGresult *r = NULL;
	int rc = run(s, id, p, &r, e);
	for (int i = 0; rc == 0 && i < PQntuples(r); i++)
		rc = row(r, i, w);
	PQclear(r);
	return rc;
}

static int job_row(const PGresult *r, int i, const struct walk *w)
{
	struct store_job j = read_job(r, i);
	int ret = w->fn.job(w->ctx, &j);
	store_job_release(&j);
	return ret;
}

static int op_job_list(struct store *st, store_job_fn fn, void *ctx, struct aidc_err *e)
{
	struct walk w = {.fn.job = fn, .ctx = ctx};
	return walk_rows(self(st), ST_JOB_LIST, NULL, job_row, &w, e);
}

static int op_job_query(struct store *st, const struct store_job_query *qq, store_job_fn fn,
			void *ctx, struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, (int64_t)qq->state_mask);
	store_pg_i64(&p, qq->uid);
	store_pg_text(&p, qq->user);
	store_pg_i64(&p, qq->before_id && qq->before_id <= (uint64_t)INT64_MAX
				 ? (int64_t)qq->before_id
				 : INT64_MAX);
	/* SQLite reads a limit past INT64_MAX as "no limit"; PostgreSQL refuses
	 * a negative one. */
	store_pg_i64(&p, qq->limit > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)qq->limit);
	struct walk w = {.fn.job = fn, .ctx = ctx};
	return walk_rows(self(st), ST_JOB_QUERY, &p, job_row, &w, e);
}

static int op_job_count(struct store *st, uint64_t *counts, size_t n, struct aidc_err *e)
{
	PGresult *r = NULL;
	memset(counts, 0, n * sizeof *counts);
	int rc = run(self(st), ST_JOB_COUNT, NULL, &r, e);
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		int64_t state = store_pg_col_i64(r, i, 0);
		if (state >= 0 && (uint64_t)state < n)
			counts[state] = (uint64_t)store_pg_col_i64(r, i, 1);
	}
	PQclear(r);
	return rc;
}

/* ---- tasks ----------------------------------------------------------------- */

static int op_task_put(struct store *st, const struct store_task *t, struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, (int64_t)t->job_id);
	store_pg_i64(&p, t->index);
	store_pg_i64(&p, t->attempt);
	store_pg_text(&p, t->node ? t->node : "");
	store_pg_i64(&p, t->state);
	store_pg_i64(&p, t->pid);
	store_pg_i64(&p, t->exit_code);
	store_pg_i64(&p, t->term_signal);
	store_pg_i64(&p, t->start_s);
	store_pg_i64(&p, t->end_s);
	return run(self(st), ST_TASK_PUT, &p, NULL, e);
}

static int op_task_clear(struct store *st, uint64_t job_id, struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, (int64_t)job_id);
	return run(self(st), ST_TASK_CLEAR, &p, NULL, e);
}

static int task_row(const PGresult *r, int i, const struct walk *w)
{
	struct store_task t = {
		.job_id = (uint64_t)store_pg_col_i64(r, i, 0),
		.index = (uint32_t)store_pg_col_i64(r, i, 1),
		.attempt = (uint32_t)store_pg_col_i64(r, i, 2),
		.node = col_strdup(r, i, 3),
		.state = (int)store_pg_col_i64(r, i, 4),
		.pid = (int32_t)store_pg_col_i64(r, i, 5),
		.exit_code = (int32_t)store_pg_col_i64(r, i, 6),
		.term_signal = (int32_t)store_pg_col_i64(r, i, 7),
		.start_s = store_pg_col_i64(r, i, 8),
		.end_s = store_pg_col_i64(r, i, 9),
	};
	int ret = w->fn.task(w->ctx, &t);
	store_task_release(&t);
	return ret;
}

static int op_task_list(struct store *st, store_task_fn fn, void *ctx, struct aidc_err *e)
{
	struct walk w = {.fn.task = fn, .ctx = ctx};
	return walk_rows(self(st), ST_TASK_LIST, NULL, task_row, &w, e);
}

static int op_task_list_job(struct store *st, uint64_t job_id, store_task_fn fn, void *ctx,
			    struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, (int64_t)job_id);
	struct walk w = {.fn.task = fn, .ctx = ctx};
	return walk_rows(self(st), ST_TASK_LIST_JOB, &p, task_row, &w, e);
}

/* ---- nodes and metadata ---------------------------------------------------- */

static int op_node_put(struct store *st, const struct store_node *n, struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_text(&p, n->name);
	store_pg_text(&p, n->info_json ? n->info_json : "{}");
	store_pg_i64(&p, n->state);
	store_pg_i64(&p, n->registered_s);
	return run(self(st), ST_NODE_PUT, &p, NULL, e);
}

static int node_row(const PGresult *r, int i, const struct walk *w)
{
	struct store_node n = {
		.name = col_strdup(r, i, 0),
		.info_json = col_strdup(r, i, 1),
		.state = (int)store_pg_col_i64(r, i, 2),
		.registered_s = store_pg_col_i64(r, i, 3),
	};
	int ret = w->fn.node(w->ctx, &n);
	store_node_release(&n);
	return ret;
}

static int op_node_list(struct store *st, store_node_fn fn, void *ctx, struct aidc_err *e)
{
	struct walk w = {.fn.node = fn, .ctx = ctx};
	return walk_rows(self(st), ST_NODE_LIST, NULL, node_row, &w, e);
}

static int op_meta_get(struct store *st, const char *key, char **out, struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_text(&p, key);
	PGresult *r = NULL;
	int rc = run(self(st), ST_META_GET, &p, &r, e);
	if (rc)
		return rc;
	if (PQntuples(r) == 0)
		rc = aidc_errf(e, AIDC_E_NOTFOUND, "store: no metadata '%s'", key);
	else
		*out = col_strdup(r, 0, 0);
	PQclear(r);
	return rc;
}

static int op_meta_set(struct store *st, const char *key, const char *value, struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_text(&p, key);
	store_pg_text(&p, value);
	return run(self(st), ST_META_SET, &p, NULL, e);
}

/* ---- submission request ids ------------------------------------------------- */

static int op_req_get(struct store *st, uint32_t uid, const char *request_id, uint64_t *job_id,
		      struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, uid);
	store_pg_text(&p, request_id);
	PGresult *r = NULL;
	int rc = run(self(st), ST_REQ_GET, &p, &r, e);
	if (rc)
		return rc;
	if (PQntuples(r) == 0)
		rc = aidc_errf(e, AIDC_E_NOTFOUND, "store: no request '%s'", request_id);
	else
		*job_id = (uint64_t)store_pg_col_i64(r, 0, 0);
	PQclear(r);
	return rc;
}

static int op_req_put(struct store *st, uint32_t uid, const char *request_id, uint64_t job_id,
		      int64_t created_s, struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, uid);
	store_pg_text(&p, request_id);
	store_pg_i64(&p, (int64_t)job_id);
	store_pg_i64(&p, created_s);
	uint64_t n = 0;
	int rc = run_count(self(st), ST_REQ_PUT, &p, &n, e);
	if (rc == 0 && n != 1)
		rc = aidc_errf(e, AIDC_E_EXISTS, "store: request '%s' of uid %u is already recorded",
			       request_id, (unsigned)uid);
	return rc;
}

static int op_req_prune(struct store *st, int64_t before_s, uint64_t *removed, struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, before_s);
	uint64_t n = 0;
	int rc = run_count(self(st), ST_REQ_PRUNE, &p, &n, e);
	if (rc == 0 && removed)
		*removed = n;
	return rc;
}

/* ---- tokens ----------------------------------------------------------------- */

static int op_token_add(struct store *st, const struct store_token *t, uint64_t *out_id,
			struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, t->uid);
	store_pg_i64(&p, t->gid);
	store_pg_text(&p, t->user ? t->user : "");
	store_pg_text(&p, t->name ? t->name : "");
	store_pg_text(&p, t->hash_hex ? t->hash_hex : "");
	store_pg_i64(&p, t->created_s);
	store_pg_i64(&p, t->expires_s);
	store_pg_i64(&p, t->revoked_s);
	PGresult *r = NULL;
	int rc = run(self(st), ST_TOKEN_ADD, &p, &r, e);
	if (rc == 0) {
		*out_id = (uint64_t)store_pg_col_i64(r, 0, 0);
		PQclear(r);
	}
	return rc;
}

static struct store_token read_token(const PGresult *r, int i)
{
	struct store_token t = {0};
	read_owner(r, i, &t.id, &t.uid, &t.gid, &t.user, &t.name);
	t.hash_hex = col_strdup(r, i, 5);
	t.created_s = store_pg_col_i64(r, i, 6);
	t.expires_s = store_pg_col_i64(r, i, 7);
	t.revoked_s = store_pg_col_i64(r, i, 8);
	return t;
}

static int op_token_get(struct store *st, uint64_t id, struct store_token *out,
			struct aidc_err *e)
{
	PGresult *r = NULL;
	int rc = row_by_id(self(st), ST_TOKEN_GET, id, "token", &r, e);
	if (rc == 0) {
		*out = read_token(r, 0);
		PQclear(r);
	}
	return rc;
}

static int token_row(const PGresult *r, int i, const struct walk *w)
{
	struct store_token t = read_token(r, i);
	int ret = w->fn.token(w->ctx, &t);
	store_token_release(&t);
	return ret;
}

static int op_token_list(struct store *st, int64_t uid, store_token_fn fn, void *ctx,
			 struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, uid);
	struct walk w = {.fn.token = fn, .ctx = ctx};
	return walk_rows(self(st), ST_TOKEN_LIST, &p, token_row, &w, e);
}

static int op_token_revoke(struct store *st, uint64_t id, int64_t revoked_s, struct aidc_err *e)
{
	struct store_token t;
	int rc = op_token_get(st, id, &t, e);
	if (rc)
		return rc;
	store_token_release(&t);
	struct store_pg_params p = {.n = 0};
	store_pg_i64(&p, (int64_t)id);
	store_pg_i64(&p, revoked_s);
	return run(self(st), ST_TOKEN_REVOKE, &p, NULL, e);
}

/* ---- tenancy ---------------------------------------------------------------- */

static int op_tenancy_put(struct store *st, const char *kind, const char *name, const char *doc,
			  struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_text(&p, kind);
	store_pg_text(&p, name);
	store_pg_text(&p, doc);
	return run(self(st), ST_TENANCY_PUT, &p, NULL, e);
}

static int op_tenancy_delete(struct store *st, const char *kind, const char *name,
			     struct aidc_err *e)
{
	struct store_pg_params p = {.n = 0};
	store_pg_text(&p, kind);
	store_pg_text(&p, name);
	uint64_t n = 0;
	int rc = run_count(self(st), ST_TENANCY_DEL, &p, &n, e);
	if (rc == 0 && n == 0)
		rc = aidc_errf(e, AIDC_E_NOTFOUND, "store: no %s '%s'", kind, name);
	return rc;
}

static int tenancy_row(const PGresult *r, int i, const struct walk *w)
{
	return w->fn.tenancy(w->ctx, store_pg_col(r, i, 0), store_pg_col(r, i, 1),
			     store_pg_col(r, i, 2));
}

static int op_tenancy_list(struct store *st, store_tenancy_fn fn, void *ctx, struct aidc_err *e)
{
	struct walk w = {.fn.tenancy = fn, .ctx = ctx};
	return walk_rows(self(st), ST_TENANCY_LIST, NULL, tenancy_row, &w, e);
}

static int op_schema_version(struct store *st)
{
	return self(st)->version;
}

static void op_close(struct store *st)
{
	struct store_pg *s = self(st);
	if (s->conn) {
		op_rollback(st);
		PQfinish(s->conn);
	}
	aidc_free(s);
}

static const struct store_ops pg_ops = {
	.version = STORE_OPS_VERSION,
	.name = "postgresql",
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
	.audit_add = store_pg_audit_add,
	.audit_query = store_pg_audit_query,
	.acct_add = store_pg_acct_add,
	.acct_query = store_pg_acct_query,
	.acct_usage = store_pg_acct_usage,
	.rate_put = store_pg_rate_put,
	.rate_list = store_pg_rate_list,
	.step_put = store_pg_step_put,
	.step_list = store_pg_step_list,
	.step_get = store_pg_step_get,
	.lead_acquire = store_pg_lead_acquire,
	.lead_renew = store_pg_lead_renew,
	.lead_release = store_pg_lead_release,
	.lead_standbys = store_pg_lead_standbys,
};

struct store_pg_lead *store_pg_lead_of(struct store *st)
{
	return &self(st)->lead;
}

bool store_pg_in_tx(struct store *st)
{
	return self(st)->in_tx;
}

/* ---- open and migrate ------------------------------------------------------ */

/* The newest version recorded, read inside the migration lock. */
static int read_version(struct store_pg *s, int *out, struct aidc_err *e)
{
	PGresult *r = NULL;
	int rc = pg_result(s, PQexec(s->conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version"),
			   &r, "reading schema_version", e);
	if (rc == 0) {
		*out = (int)store_pg_col_i64(r, 0, 0);
		PQclear(r);
	}
	return rc;
}

/* One step: under the lock, reads the version and (if older) applies the
 * next migration with its schema_version row. *v = the version after it. */
static int migrate_step(struct store_pg *s, int *v, struct aidc_err *e)
{
	int rc;
	if ((rc = exec_sql(s, "BEGIN", e)) != 0 || (rc = exec_sql(s, MIGRATION_LOCK, e)) != 0 ||
	    (rc = exec_sql(s,
			   "CREATE TABLE IF NOT EXISTS schema_version ("
			   " version BIGINT PRIMARY KEY, applied_s BIGINT NOT NULL)",
			   e)) != 0 ||
	    (rc = read_version(s, v, e)) != 0)
		goto fail;
	if (*v > STORE_SCHEMA_VERSION) {
		rc = aidc_errf(e, AIDC_E_VERSION,
			       "store: database schema version %d is newer than this build's %d; "
			       "use a newer aidc",
			       *v, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (*v < STORE_SCHEMA_VERSION) {
		char rec[160];
		snprintf(rec, sizeof rec,
			 "INSERT INTO schema_version (version, applied_s) "
			 "VALUES (%d, EXTRACT(EPOCH FROM now())::bigint)",
			 *v + 1);
		if ((rc = exec_sql(s, migrations[*v], e)) != 0 || (rc = exec_sql(s, rec, e)) != 0) {
			rc = aidc_errf(e, rc, "store: migration to version %d failed", *v + 1);
			goto fail;
		}
		++*v;
	}
	if ((rc = exec_sql(s, "COMMIT", e)) == 0)
		return 0;
fail:
	PQclear(PQexec(s->conn, "ROLLBACK"));
	return rc;
}

static int migrate(struct store_pg *s, struct aidc_err *e)
{
	int v = 0, prev = -1, rc;
	/* Each step moves one version up (or finds another controller did). */
	while (v != prev && v <= STORE_SCHEMA_VERSION) {
		prev = v;
		if ((rc = migrate_step(s, &v, e)) != 0)
			return rc;
		if (v == STORE_SCHEMA_VERSION)
			break;
	}
	s->version = v;
	return 0;
}

/* Discards the server's notices ("relation ... already exists, skipping"):
 * the store reports what matters through its error buffer. */
static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static int prepare_all(struct store_pg *s, struct aidc_err *e)
{
	for (int i = 0; i < ST_COUNT_; i++) {
		char name[32];
		snprintf(name, sizeof name, "aidc_%d", i);
		int rc = pg_result(s, PQprepare(s->conn, name, stmt_sql[i], 0, NULL), NULL,
				   stmt_what[i], e);
		if (rc)
			return rc;
	}
	return 0;
}

/* Connects; the URI's own settings override the defaults before it. */
static int connect_pg(struct store_pg *s, const char *uri, const char *shown, struct aidc_err *e)
{
	const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *const vals[] = {"10", "aidc-controller", uri, NULL};
	s->conn = PQconnectdbParams(keys, vals, 1);
	if (!s->conn)
		return aidc_errf(e, AIDC_E_NOMEM, "store: cannot connect to %s: out of memory", shown);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		char msg[512];
		pq_message(s->conn, NULL, msg, sizeof msg);
		char pw[256];
		/* libpq quotes a malformed URI back: never with its password. */
		if (store_uri_password(uri, pw, sizeof pw) && strstr(msg, pw))
			snprintf(msg, sizeof msg, "libpq refused the URI (its message is withheld: it "
						  "quotes the password)");
		return aidc_errf(e, AIDC_E_IO, "store: cannot connect to %s: %s", shown, msg);
	}
	if (PQserverVersion(s->conn) < 110000)
		return aidc_errf(e, AIDC_E_VERSION,
				 "store: %s runs PostgreSQL %d; the store needs 11 or newer", shown,
				 PQserverVersion(s->conn) / 10000);
	PQsetNoticeProcessor(s->conn, quiet, NULL);
	return 0;
}

int store_open_pg(const char *uri, const struct store_options *o, struct store **out,
		  struct aidc_err *e)
{
	struct store_options def;
	if (!o) {
		store_options_defaults(&def);
		o = &def;
	}
	*out = NULL;
	if (!uri || !store_is_pg_uri(uri) || strlen(uri) >= AIDC_MAX_PATH_BYTES)
		return aidc_errf(e, AIDC_E_INVAL, "store: bad PostgreSQL URI");
	char shown[512];
	store_redact(uri, shown, sizeof shown);
	struct store_pg *s = aidc_calloc(1, sizeof *s);
	s->base.ops = &pg_ops;
	snprintf(s->session_sql, sizeof s->session_sql,
		 "SET synchronous_commit = %s; SET lock_timeout = %d", o->sync_full ? "on" : "off",
		 o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 0);
	/* Errors name the database (redacted), after the root cause. */
	struct aidc_err le = {0};
	int rc;
	if ((rc = connect_pg(s, uri, shown, &le)) != 0 || (rc = exec_sql(s, s->session_sql, &le)) != 0 ||
	    (rc = migrate(s, &le)) != 0 || (rc = prepare_all(s, &le)) != 0) {
		if (strstr(le.msg, shown))
			aidc_errf(e, rc, "%s", le.msg);
		else
			aidc_errf(e, rc, "%s (database %s)", le.msg, shown);
		op_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
