/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The leader lease of controllers that share one PostgreSQL database
 * (issue 15 item 4, docs/ha.md): an active controller and standbys, no
 * consensus layer of our own.
 *
 * One row, aidc_leader (id 1), holds the term (the fencing token), who leads
 * and where, and when the lease expires, in milliseconds of the database
 * server's clock. A standby takes the lease only once it has expired, with
 * one UPDATE that raises the term; the row lock makes two standbys' attempts
 * take turns, so one term has one leader. Every commit of the leader renews
 * the lease in the same message as its COMMIT, with a statement that fails
 * (and so rolls the whole transaction back) when the term has moved on: a
 * deposed leader, paused past its lease and resumed, stores nothing. The new
 * leader also terminates the old leader's database session, so a
 * transaction it left open (row locks included) is rolled back at once.
 *
 * The table is not part of the numbered migrations: SQLite has one writer by
 * construction and no lease. It is made on the first acquire, under the
 * migration lock.
 */
#include <libpq-fe.h>

#include "store/store_pg_int.h"
#include "util/util.h"

/* A session's start in microseconds as text (whatever the session's time
 * zone or date style): with its pid, it names one session. */
#define BACKEND_START "(EXTRACT(EPOCH FROM backend_start) * 1000000)::bigint::text"

/* The database server's clock in ms: every lease time is read from it. */
#define NOW_MS "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint"

static const char table_sql[] =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(1634296931);"
    "CREATE TABLE IF NOT EXISTS aidc_leader ("
    " id INT PRIMARY KEY CHECK (id = 1), term BIGINT NOT NULL, holder TEXT NOT NULL,"
    " addr TEXT NOT NULL, expires_ms BIGINT NOT NULL, backend_pid BIGINT NOT NULL,"
    " backend_start TEXT NOT NULL);"
    "INSERT INTO aidc_leader VALUES (1, 0, '', '', 0, 0, '') ON CONFLICT DO NOTHING;"
    "COMMIT";

/* Takes the lease if it has expired, in one statement: the new term and
 * the session of the leader it replaces (to terminate). */
static const char take_sql[] =
    "WITH old AS (SELECT backend_pid, backend_start FROM aidc_leader WHERE id = 1)"
    " UPDATE aidc_leader l SET term = l.term + 1, holder = $1, addr = $2,"
    " expires_ms = " NOW_MS " + $3, backend_pid = pg_backend_pid(),"
    " backend_start = COALESCE((SELECT " BACKEND_START " FROM pg_stat_activity"
    " WHERE pid = pg_backend_pid()), '')"
    " FROM old WHERE l.id = 1 AND l.expires_ms < " NOW_MS
    " RETURNING l.term, old.backend_pid, old.backend_start";

static const char who_sql[] =
    "SELECT term, holder, addr, expires_ms - " NOW_MS " FROM aidc_leader WHERE id = 1";

/* A waiting standby holds this advisory lock, shared, in its session (taken
 * at its first failed attempt, released when it leads; the server drops it
 * with the session): the leader counts them (store_pg_lead_standbys). */
#define STANDBY_KEY "1634296932"
static const char standbys_sql[] =
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0"
    " AND objid = " STANDBY_KEY " AND objsubid = 1 AND granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND pid <> pg_backend_pid()";

/* Only the old leader's own session: a pid the server reused is another's. */
static const char kill_sql[] =
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE pid = $1 AND " BACKEND_START " = $2 AND pid <> pg_backend_pid()";

void store_pg_fence_sql(const struct store_pg_lead *l, const char *tail, char *out, size_t n)
{
	if (l->term <= 0) {
		snprintf(out, n, "%s", tail);
		return;
	}
	/* Zero rows renewed -> 1 / 0 -> the transaction aborts, COMMIT is not run. */
	snprintf(out, n,
		 "WITH u AS (UPDATE aidc_leader SET expires_ms = " NOW_MS " + %" PRId64
		 " WHERE id = 1 AND term = %" PRId64 " RETURNING 1)"
		 " SELECT 1 / (SELECT count(*)::int FROM u)%s%s",
		 l->lease_ms, l->term, tail[0] ? "; " : "", tail);
}

bool store_pg_fenced_out(const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	return state && strcmp(state, "22012") == 0;
}

int store_pg_deposed(struct store_pg_lead *l, struct aidc_err *e)
{
	int64_t term = l->term;
	l->term = 0;
	return aidc_errf(e, AIDC_E_STATE,
			 "store: this controller is no longer the leader: another controller "
			 "took the lease after term %" PRId64 " (nothing was stored)",
			 term);
}

static int ensure_table(struct store *st, struct aidc_err *e)
{
	struct store_pg_lead *l = store_pg_lead_of(st);
	if (l->table_ready)
		return 0;
	PGresult *r = store_pg_exec(st, table_sql, e);
	if (!r)
		return e->code ? e->code : AIDC_E_IO;
	int rc = store_pg_check(st, r, "creating the leader lease table", e);
	if (rc) {
		struct aidc_err ignored = {0};
		PQclear(store_pg_exec(st, "ROLLBACK", &ignored));
		return rc;
	}
	l->table_ready = true;
	return 0;
}

/* Who holds the lease now, into out. */
static int read_holder(struct store *st, struct store_lead *out, struct aidc_err *e)
{
	PGresult *r = NULL;
	int rc = store_pg_run(st, who_sql, NULL, &r, "reading the leader lease", e);
	if (rc)
		return rc;
	if (PQntuples(r) == 1) {
		out->term = store_pg_col_i64(r, 0, 0);
		snprintf(out->holder, sizeof out->holder, "%s", store_pg_col(r, 0, 1));
		snprintf(out->addr, sizeof out->addr, "%s", store_pg_col(r, 0, 2));
		out->left_ms = store_pg_col_i64(r, 0, 3);
	}
	PQclear(r);
	return 0;
}

/* Ends the old leader's session (best effort: the fence already refuses its
 * writes; this rolls back what it left open, locks included). */
static void end_old_session(struct store *st, const PGresult *r)
{
	struct store_pg_params p = {0};
	int64_t pid = store_pg_col_i64(r, 0, 1);
	if (pid <= 0)
		return;
	store_pg_i64(&p, pid);
	store_pg_text(&p, store_pg_col(r, 0, 2));
	struct aidc_err e = {0};
	PGresult *k = NULL;
	if (store_pg_run(st, kill_sql, &p, &k, "ending the old leader's session", &e) != 0) {
		aidc_log(AIDC_LOG_WARN, "%s", e.msg);
		return;
	}
	/* One row, true: signalled; none: that session had already ended. */
	bool ended = PQntuples(k) == 1 && strcmp(store_pg_col(k, 0, 0), "t") == 0;
	PQclear(k);
	aidc_log(AIDC_LOG_INFO, "leader: the previous leader's database session (pid %" PRId64 ") %s",
		 pid, ended ? "was ended" : "had already ended");
}

/* Marks (on) or unmarks this session as a waiting standby; best effort: a
 * leader that sees no standby only keeps leading. Marked at every failed
 * attempt unless the session holds the lock already (a reconnected session
 * lost it). */
static void standby_mark(struct store *st, struct store_pg_lead *l, bool on)
{
	if (!on && !l->standby_mark)
		return;
	struct aidc_err e = {0};
	const char *sql =
		on ? "SELECT pg_advisory_lock_shared(" STANDBY_KEY ") WHERE NOT EXISTS (SELECT 1"
		     " FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = "
		     STANDBY_KEY " AND objsubid = 1 AND pid = pg_backend_pid())"
		   : "SELECT pg_advisory_unlock_all()";
	if (store_pg_run(st, sql, NULL, NULL, "marking this controller a standby", &e) == 0)
		l->standby_mark = on;
	else
		aidc_log(AIDC_LOG_WARN, "%s", e.msg);
}

int store_pg_lead_standbys(struct store *st, int64_t *n, struct aidc_err *e)
{
	PGresult *r = NULL;
	*n = 0;
	int rc = store_pg_run(st, standbys_sql, NULL, &r, "counting the standbys", e);
	if (rc)
		return rc;
	if (PQntuples(r) == 1)
		*n = store_pg_col_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

int store_pg_lead_acquire(struct store *st, const struct store_lead *me, int64_t lease_ms,
			  struct store_lead *out, struct aidc_err *e)
{
	struct store_pg_lead *l = store_pg_lead_of(st);
	memset(out, 0, sizeof *out);
	if (store_pg_in_tx(st))
		return aidc_errf(e, AIDC_E_STATE, "store: lead_acquire inside a transaction");
	if (lease_ms < 1)
		return aidc_errf(e, AIDC_E_INVAL, "store: lease of %" PRId64 " ms", lease_ms);
	int rc = ensure_table(st, e);
	if (rc)
		return rc;
	struct store_pg_params p = {0};
	store_pg_text(&p, me->holder);
	store_pg_text(&p, me->addr);
	store_pg_i64(&p, lease_ms);
	PGresult *r = NULL;
	if ((rc = store_pg_run(st, take_sql, &p, &r, "taking the leader lease", e)) != 0)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		standby_mark(st, l, true);
		rc = read_holder(st, out, e);
		return rc ? rc
			  : aidc_errf(e, AIDC_E_BUSY, "the lease is held by %s (%s), term %" PRId64,
				      out->holder, out->addr, out->term);
	}
	l->term = store_pg_col_i64(r, 0, 0);
	l->lease_ms = lease_ms;
	end_old_session(st, r);
	PQclear(r);
	standby_mark(st, l, false);
	*out = *me;
	out->term = l->term;
	out->left_ms = lease_ms;
	return 0;
}

int store_pg_lead_renew(struct store *st, struct aidc_err *e)
{
	struct store_pg_lead *l = store_pg_lead_of(st);
	if (l->term <= 0)
		return aidc_errf(e, AIDC_E_STATE, "store: this controller holds no leader lease");
	if (store_pg_in_tx(st))
		return aidc_errf(e, AIDC_E_STATE, "store: lead_renew inside a transaction");
	char sql[STORE_PG_FENCE_SQL_MAX];
	store_pg_fence_sql(l, "", sql, sizeof sql);
	PGresult *r = store_pg_exec(st, sql, e);
	if (!r)
		return e->code ? e->code : AIDC_E_IO;
	if (store_pg_fenced_out(r)) {
		PQclear(r);
		return store_pg_deposed(l, e);
	}
	return store_pg_check(st, r, "renewing the leader lease", e);
}

void store_pg_lead_release(struct store *st)
{
	struct store_pg_lead *l = store_pg_lead_of(st);
	if (l->term <= 0 || store_pg_in_tx(st))
		return;
	struct store_pg_params p = {0};
	store_pg_i64(&p, l->term);
	struct aidc_err e = {0};
	if (store_pg_run(st, "UPDATE aidc_leader SET expires_ms = 0 WHERE id = 1 AND term = $1", &p,
			 NULL, "releasing the leader lease", &e) != 0)
		aidc_log(AIDC_LOG_WARN, "%s (a standby takes over when the lease expires)", e.msg);
	l->term = 0;
}
