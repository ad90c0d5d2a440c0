/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/store: the SQLite implementation's pieces that live in more
 * than one file. store_acct.c implements the audit and accounting ops
 * (schema 6) over the handle of store_sqlite.c.
 */
#ifndef AIDC_STORE_STORE_INT_H
#define AIDC_STORE_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

/* The open database of a store made by store_open_sqlite; borrowed. */
sqlite3 *store_sqlite_db(struct store *st);

/* The store_ops entries of schema 6 (store.h documents them). */
int store_sqlite_audit_add(struct store *st, const struct store_audit *a, uint64_t *out_id,
			   struct aidc_err *e);
int store_sqlite_audit_query(struct store *st, const struct store_audit_query *q, store_audit_fn fn,
			     void *ctx, struct aidc_err *e);
int store_sqlite_acct_add(struct store *st, const struct store_acct *r, uint64_t *out_id,
			  struct aidc_err *e);
int store_sqlite_acct_query(struct store *st, const struct store_acct_query *q, store_acct_fn fn,
			    void *ctx, struct aidc_err *e);
int store_sqlite_rate_put(struct store *st, const struct store_rate *r, struct aidc_err *e);
int store_sqlite_rate_list(struct store *st, store_rate_fn fn, void *ctx, struct aidc_err *e);
int store_sqlite_acct_usage(struct store *st, const struct store_acct_query *q, store_usage_fn fn,
			    void *ctx, struct aidc_err *e);

int store_sqlite_step_put(struct store *st, uint64_t job_id, int64_t step_id, bool live,
			  const char *doc, struct aidc_err *e);
int store_sqlite_step_get(struct store *st, uint64_t job_id, int64_t step_id, store_step_fn fn,
			  void *ctx, struct aidc_err *e);
int store_sqlite_step_list(struct store *st, uint64_t job_id, store_step_fn fn, void *ctx,
			   struct aidc_err *e);

#endif
