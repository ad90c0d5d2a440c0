/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/store: the PostgreSQL implementation's pieces that live in
 * more than one file. store_pg.c owns the connection, the statements of the
 * fixed ops and the migrations; store_pg_acct.c implements the audit and
 * accounting ops (schema 6 and 7) over it with queries built per call.
 */
#ifndef AIDC_STORE_STORE_PG_INT_H
#define AIDC_STORE_STORE_PG_INT_H

#include <libpq-fe.h>

#include "store/store.h"
#include "util/limits.h"

/* Parameters of one statement, in libpq's text format: numbers are printed
 * into num[], strings are borrowed, NULL is SQL NULL. */
#define STORE_PG_MAX_PARAMS (AIDC_MAX_ACCT_JOB_IDS + 64)
struct store_pg_params {
	int n;
	const char *v[STORE_PG_MAX_PARAMS];
	char num[STORE_PG_MAX_PARAMS][24];
};

/* Appends a parameter; the caller keeps n under STORE_PG_MAX_PARAMS. */
void store_pg_i64(struct store_pg_params *p, int64_t v);
void store_pg_text(struct store_pg_params *p, const char *s);

/*
 * Runs sql (with $1..$n from p, which may be NULL for none). On success
 * returns 0 and *out (may be NULL to discard it) is the result, which the
 * caller frees with PQclear; otherwise the error (about what) mapped to an
 * AIDC_E_* code as store.h's ops return it.
 */
int store_pg_run(struct store *st, const char *sql, const struct store_pg_params *p,
		 PGresult **out, const char *what, struct aidc_err *e);

/* PQexec of sql (several statements allowed) after re-establishing a lost
 * connection: the result, which may be an error (the caller PQclears it), or
 * NULL with e set when the connection cannot be had. store_pg_check maps a
 * result as store_pg_run does (0 or the error) and frees it. */
PGresult *store_pg_exec(struct store *st, const char *sql, struct aidc_err *e);
int store_pg_check(struct store *st, PGresult *r, const char *what, struct aidc_err *e);

/* Column col of row as int64 (0 if NULL) and as text ("" if NULL); the text
 * is borrowed from r. */
int64_t store_pg_col_i64(const PGresult *r, int row, int col);
const char *store_pg_col(const PGresult *r, int row, int col);

/* The store_ops entries of schema 6 and 7 (store.h documents them). */
int store_pg_audit_add(struct store *st, const struct store_audit *a, uint64_t *out_id,
		       struct aidc_err *e);
int store_pg_audit_query(struct store *st, const struct store_audit_query *q, store_audit_fn fn,
			 void *ctx, struct aidc_err *e);
int store_pg_acct_add(struct store *st, const struct store_acct *r, uint64_t *out_id,
		      struct aidc_err *e);
int store_pg_acct_query(struct store *st, const struct store_acct_query *q, store_acct_fn fn,
			void *ctx, struct aidc_err *e);
int store_pg_acct_usage(struct store *st, const struct store_acct_query *q, store_usage_fn fn,
			void *ctx, struct aidc_err *e);
int store_pg_rate_put(struct store *st, const struct store_rate *r, struct aidc_err *e);
int store_pg_rate_list(struct store *st, store_rate_fn fn, void *ctx, struct aidc_err *e);
int store_pg_step_put(struct store *st, uint64_t job_id, int64_t step_id, bool live,
		      const char *doc, struct aidc_err *e);
int store_pg_step_get(struct store *st, uint64_t job_id, int64_t step_id, store_step_fn fn,
		      void *ctx, struct aidc_err *e);
int store_pg_step_list(struct store *st, uint64_t job_id, store_step_fn fn, void *ctx,
		       struct aidc_err *e);

/*
 * The leader lease (store_pg_lead.c, docs/ha.md): one row of table
 * aidc_leader, outside the numbered migrations (only controllers sharing a
 * PostgreSQL database need it). Times are the database server's clock
 * (clock_timestamp()), so controllers' clocks never matter.
 */
struct store_pg_lead {
	int64_t term;     /* the term this connection leads; 0 = not the leader */
	int64_t lease_ms; /* each renewal extends the lease this far */
	bool table_ready; /* aidc_leader exists (made once per store) */
	bool standby_mark; /* this session holds the standbys' shared advisory lock */
};
#define STORE_PG_FENCE_SQL_MAX 512
/* Into out: the fencing statement (renews the lease; a division by zero when
 * the term is no longer l->term) followed by tail ("COMMIT"), or just tail
 * when this connection leads nothing. One message: see op_commit. */
void store_pg_fence_sql(const struct store_pg_lead *l, const char *tail, char *out, size_t n);
/* True when r is the fencing statement's failure (SQLSTATE 22012). */
bool store_pg_fenced_out(const PGresult *r);
/* AIDC_E_STATE naming the deposition; forgets the term. */
int store_pg_deposed(struct store_pg_lead *l, struct aidc_err *e);
struct store_pg_lead *store_pg_lead_of(struct store *st);
bool store_pg_in_tx(struct store *st);
int store_pg_lead_acquire(struct store *st, const struct store_lead *me, int64_t lease_ms,
			  struct store_lead *out, struct aidc_err *e);
int store_pg_lead_renew(struct store *st, struct aidc_err *e);
void store_pg_lead_release(struct store *st);
int store_pg_lead_standbys(struct store *st, int64_t *n, struct aidc_err *e);

#endif
