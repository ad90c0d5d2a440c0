/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durable state of the live center behind a small vtable (cf. sqlite3_vfs):
 * jobs, their tasks, nodes, per-user API tokens (hashes only), tenancy
 * (accounts, user associations, QoS), the audit log and job accounting
 * records (schema 6, append-only: no op updates or deletes them, and the
 * database refuses it with triggers), and a few
 * key-value metadata rows (the next job id). The controller is the only writer; it commits every externally visible
 * change inside store_begin()/store_commit() BEFORE it acknowledges it, so a
 * kill -9 at any moment loses nothing that a client was told about.
 *
 * The store knows rows, not meaning: a job's spec and allocation are opaque,
 * versioned JSON documents produced and decoded by the controller; states are
 * small integers whose names belong to the controller (ctld.h).
 *
 * Implementations: "sqlite" (store_sqlite.c, embedded, the default) and
 * "postgresql" (store_pg.c, libpq; for centers that keep their state in a
 * replicated PostgreSQL). store_open picks one from the controller's `db`.
 */
#ifndef AIDC_STORE_STORE_H
#define AIDC_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* The schema version this build writes; a database from a newer build is refused. */
#define STORE_SCHEMA_VERSION 8

/* One job row. Strings are owned by the struct (store_job_release frees them). */
struct store_job {
	uint64_t id;
	uint32_t uid, gid;
	char *user;       /* login name at submit time */
	char *name;       /* job name */
	char *spec_json;  /* versioned spec document (controller-defined); required by
			   * job_insert, NULL in job_put keeps the stored one */
	char *alloc_json; /* node allocations of the current attempt, or NULL */
	char *reason;     /* why it ended / why it is stopping, or NULL */
	int state;        /* controller's enum ctld_job_state */
	int target;       /* while stopping: the state it ends in (controller-defined) */
	uint32_t attempt; /* 0 for the first run, +1 on every requeue */
	int32_t exit_code;   /* first failing task's exit code, or 0 */
	int32_t term_signal; /* first failing task's signal, or 0 */
	int64_t submit_s, start_s, end_s; /* Unix seconds; 0 = not yet */
	char *log_key; /* schema 3: names the job's log directory with its id; "" = older row */
};

/* One task row of a job's current attempt. */
struct store_task {
	uint64_t job_id;
	uint32_t index;   /* 0..ntasks-1 = RANK */
	uint32_t attempt;
	char *node;       /* owned */
	int state;        /* controller's enum ctld_task_state */
	int32_t pid;
	int32_t exit_code;
	int32_t term_signal;
	int64_t start_s, end_s;
};

/* One per-user API token (schema version 2). Only a hash of the token's
 * secret part is stored; strings are owned (store_token_release). */
struct store_token {
	uint64_t id;       /* assigned by token_add */
	uint32_t uid, gid; /* the identity the token stands for */
	char *user;        /* login name of uid when created */
	char *name;        /* the owner's label ("laptop"), may be "" */
	char *hash_hex;    /* SHA-256 of the secret part, 64 lowercase hex digits */
	int64_t created_s;
	int64_t expires_s; /* Unix seconds; 0 = never */
	int64_t revoked_s; /* Unix seconds; 0 = not revoked */
};

/* One node row. */
struct store_node {
	char *name;      /* owned */
	char *info_json; /* registration document (CPUs, memory, devices); owned */
	int state;       /* controller's node state */
	int64_t registered_s;
};

void store_job_release(struct store_job *j);
void store_task_release(struct store_task *t);
void store_node_release(struct store_node *n);
void store_token_release(struct store_token *t);

struct store;

/* A filtered listing of jobs, newest first (store_ops.job_query). */
struct store_job_query {
	uint64_t state_mask; /* bit (1 << state) for each state wanted */
	int64_t uid;         /* only this uid, or -1 for all */
	const char *user;    /* only this login name, or NULL; borrowed */
	uint64_t before_id;  /* only ids below this, or 0 for no bound */
	uint64_t limit;      /* at most this many rows */
};

/* Row visitors for listings; a non-zero return stops the walk and is returned. */
typedef int (*store_job_fn)(void *ctx, const struct store_job *j);
typedef int (*store_task_fn)(void *ctx, const struct store_task *t);
typedef int (*store_node_fn)(void *ctx, const struct store_node *n);
typedef int (*store_token_fn)(void *ctx, const struct store_token *t);
/* A tenancy row (schema 4): kind ("account", "user", "qos"), name, document;
 * all borrowed until the visitor returns. */
typedef int (*store_tenancy_fn)(void *ctx, const char *kind, const char *name, const char *doc);

/* One audit record (schema 6, docs/accounting.md). Strings are borrowed: by
 * audit_add for the call, in visitors until the visitor returns. */
struct store_audit {
	uint64_t id;        /* assigned by audit_add: increasing, never reused */
	int64_t time_s;
	int64_t actor_uid;
	const char *actor;  /* login name of actor_uid */
	const char *via;    /* how the actor was identified ("socket", "token 7") */
	const char *action; /* controller-defined ("token.create", "job.cancel") */
	const char *target; /* what was acted on ("job 12", "node n1"), may be "" */
	int64_t target_uid; /* the uid owning the target, or -1 */
	const char *detail; /* JSON document or "" */
};

/* A filtered listing of audit records in id order (store_ops.audit_query). */
struct store_audit_query {
	int64_t uid;        /* only records whose actor_uid or target_uid is uid; -1 all */
	const char *actor;  /* only this actor name, or NULL; borrowed */
	const char *action; /* only this action, or NULL; borrowed */
	int64_t since_s;    /* time_s >= since_s */
	int64_t until_s;    /* time_s < until_s; <= 0 no bound */
	uint64_t after_id;  /* only ids above this (a page cursor) */
	uint64_t limit;     /* at most this many rows */
};

/* One job accounting record (schema 6): one per attempt of a job, written in
 * the transaction that ends the attempt (a requeued attempt has state
 * "requeue"). Strings are borrowed as for struct store_audit. */
struct store_acct {
	uint64_t id; /* record id, assigned by acct_add (page cursor with end_s) */
	uint64_t job_id;
	uint32_t attempt, uid;
	const char *user, *account, *qos, *name;
	int state; /* controller's enum ctld_job_state */
	int32_t exit_code, term_signal;
	int64_t submit_s, start_s, end_s; /* start_s 0: it never started */
	uint32_t ntasks, ndev;
	const char *nodes;   /* comma-separated node names, "" when none */
	const char *devices; /* JSON object: device model -> devices held */
	const char *dev_s;   /* JSON object: device model -> device-seconds */
	int64_t dev_s_total; /* the sum of dev_s */
	int64_t cpu_usec;    /* CPU time of all tasks; -1 = not measured */
	int64_t mem_peak_bytes; /* largest task peak; -1 = not measured */
	const char *tasks;   /* JSON array, one object per task */
	/* Schema 7: the published rates applied (JSON object: model -> rate in
	 * millionths; a model absent was charged at rate 1) and the attempt's
	 * normalized units in millionths (sum of dev_s x rate); -1 in records
	 * written before schema 7. */
	const char *rates;
	int64_t units_ppm;
};

/* One device model's rate (schema 7, docs/accounting.md). Strings borrowed
 * as for struct store_audit. */
struct store_rate {
	const char *model;
	int64_t rate_ppm;    /* in force: normalized units per device-second, x 1e6 */
	int64_t derived_ppm; /* derived from the last published exam; 0 = none */
	const char *source;  /* "exam" or "override" */
	const char *reason;  /* an override's reason; "" for exam */
	const char *actor;   /* who set it */
	int64_t set_s;
	const char *report;  /* JSON summary of the published report; "{}" if none */
};
typedef int (*store_rate_fn)(void *ctx, const struct store_rate *r);
/* One srun step row (schema 8): doc is the controller's versioned JSON
 * document, borrowed until the visitor returns; live: the step still runs. */
typedef int (*store_step_fn)(void *ctx, uint64_t job_id, int64_t step_id, bool live,
			     const char *doc);

/* A filtered listing of accounting records ordered by (end_s, id). All
 * pointers borrowed. The time window selects records whose end_s lies in
 * [since_s, until_s) and is served by the index on end_s. */
struct store_acct_query {
	/* Visibility: when scoped, only rows with uid == scope_uid or account in
	 * scope_accounts. */
	bool scoped;
	int64_t scope_uid;
	const char *const *scope_accounts;
	size_t nscope_accounts;
	const char *user;    /* NULL or a login name */
	const char *account; /* NULL or an account name */
	uint64_t state_mask; /* bit (1 << state) per state wanted; 0 = all */
	const uint64_t *job_ids;
	size_t njob_ids;     /* 0 = any job */
	int64_t since_s, until_s; /* until_s <= 0: no upper bound */
	int64_t after_end_s; /* cursor: only rows after (after_end_s, after_id) */
	uint64_t after_id;   /* 0 with after_end_s INT64_MIN: from the start */
	uint64_t limit;
};

typedef int (*store_audit_fn)(void *ctx, const struct store_audit *a);
typedef int (*store_acct_fn)(void *ctx, const struct store_acct *r);
/* One usage total: device-seconds of one (account, user, device model) and the
 * number of records that contributed; strings borrowed until return. */
typedef int (*store_usage_fn)(void *ctx, const char *account, const char *user,
			      const char *model, int64_t dev_s, int64_t units_ppm,
			      uint64_t records);

/* The leader lease of controllers sharing one database (store_ops.lead_*). */
struct store_lead {
	char holder[128]; /* who: "host:pid" of the controller */
	char addr[160];   /* where it serves clients and agents */
	int64_t term;     /* the fencing token: one more at every change of leader */
	int64_t left_ms;  /* the lease's time left by the database's clock (< 0: expired) */
};

#define STORE_OPS_VERSION 12

/*
 * The vtable. Every function returns 0 or a negative AIDC_E_* code with the
 * root cause in e. Writes outside begin/commit are applied atomically one by
 * one; inside, they become durable only at commit. Pointers are borrowed for
 * the duration of the call; rows passed to visitors are borrowed until the
 * visitor returns.
 */
struct store_ops {
	int version; /* STORE_OPS_VERSION */
	const char *name;
	void (*close)(struct store *st);
	int (*begin)(struct store *st, struct aidc_err *e);
	int (*commit)(struct store *st, struct aidc_err *e);
	void (*rollback)(struct store *st);
	/* Nested units inside begin/commit (SQL savepoints): release keeps a unit's
	 * writes in the enclosing transaction, rollback_to undoes that unit only. */
	int (*savepoint)(struct store *st, struct aidc_err *e);
	int (*release)(struct store *st, struct aidc_err *e);
	void (*rollback_to)(struct store *st);
	/* Updates the row with j->id (its uid, gid, user and log_key must match
	 * and are never changed; a NULL spec_json keeps the stored spec: the
	 * controller drops large specs from memory after the insert);
	 * AIDC_E_NOTFOUND when there is no such row. */
	int (*job_put)(struct store *st, const struct store_job *j, struct aidc_err *e);
	/* AIDC_E_NOTFOUND when absent; *out is caller-released (store_job_release). */
	int (*job_get)(struct store *st, uint64_t id, struct store_job *out, struct aidc_err *e);
	/* Every job in id order. */
	int (*job_list)(struct store *st, store_job_fn fn, void *ctx, struct aidc_err *e);
	/* Jobs matching q, newest first, at most q->limit; q is borrowed. */
	int (*job_query)(struct store *st, const struct store_job_query *q, store_job_fn fn,
			 void *ctx, struct aidc_err *e);
	/* counts[s] = number of jobs in state s for s < n (others are not counted). */
	int (*job_count)(struct store *st, uint64_t *counts, size_t n, struct aidc_err *e);
	/* Inserts or replaces (job_id, index). */
	int (*task_put)(struct store *st, const struct store_task *t, struct aidc_err *e);
	/* Removes every task row of a job (before a new attempt writes its own). */
	int (*task_clear)(struct store *st, uint64_t job_id, struct aidc_err *e);
	/* Every task in (job_id, index) order. */
	int (*task_list)(struct store *st, store_task_fn fn, void *ctx, struct aidc_err *e);
	/* The task rows of one job in index order. */
	int (*task_list_job)(struct store *st, uint64_t job_id, store_task_fn fn, void *ctx,
			     struct aidc_err *e);
	int (*node_put)(struct store *st, const struct store_node *n, struct aidc_err *e);
	int (*node_list)(struct store *st, store_node_fn fn, void *ctx, struct aidc_err *e);
	/* Metadata: *out is caller-freed (aidc_free); AIDC_E_NOTFOUND when absent. */
	int (*meta_get)(struct store *st, const char *key, char **out, struct aidc_err *e);
	int (*meta_set)(struct store *st, const char *key, const char *value, struct aidc_err *e);
	/* Tokens (STORE_OPS_VERSION 3): token_add inserts t (its id ignored) and
	 * sets *out_id to the new, never reused id. token_get: AIDC_E_NOTFOUND
	 * when absent; *out is caller-released (store_token_release). token_list
	 * walks the tokens of uid (or all for -1) in id order. token_revoke sets
	 * revoked_s (kept if already revoked); AIDC_E_NOTFOUND when absent. */
	int (*token_add)(struct store *st, const struct store_token *t, uint64_t *out_id,
			 struct aidc_err *e);
	int (*token_get)(struct store *st, uint64_t id, struct store_token *out, struct aidc_err *e);
	int (*token_list)(struct store *st, int64_t uid, store_token_fn fn, void *ctx,
			  struct aidc_err *e);
	int (*token_revoke)(struct store *st, uint64_t id, int64_t revoked_s, struct aidc_err *e);
	/* STORE_OPS_VERSION 4: job_insert adds a new row; an id already taken is
	 * AIDC_E_EXISTS and changes nothing (rows are never replaced). job_max_id
	 * sets *out to the highest job id ever stored, ended jobs included (0 when
	 * none). */
	int (*job_insert)(struct store *st, const struct store_job *j, struct aidc_err *e);
	int (*job_max_id)(struct store *st, uint64_t *out, struct aidc_err *e);
	/* The schema version of the open database. */
	int (*schema_version)(struct store *st);
	/* STORE_OPS_VERSION 5, schema 4: tenancy rows (docs/tenancy.md), one
	 * versioned JSON document per (kind, name) that the controller defines.
	 * put inserts or replaces; delete is AIDC_E_NOTFOUND when absent; list
	 * walks every row in (kind, name) order. */
	int (*tenancy_put)(struct store *st, const char *kind, const char *name, const char *doc,
			   struct aidc_err *e);
	int (*tenancy_delete)(struct store *st, const char *kind, const char *name,
			      struct aidc_err *e);
	int (*tenancy_list)(struct store *st, store_tenancy_fn fn, void *ctx, struct aidc_err *e);
	/* STORE_OPS_VERSION 6 (schema 5): the client request id of a submission
	 * (uid, request_id) -> job id, so a retried submit is idempotent.
	 * req_get: AIDC_E_NOTFOUND when unknown. req_put: AIDC_E_EXISTS when the
	 * pair is already recorded (nothing changes). req_prune removes the rows
	 * created before before_s and sets *removed (may be NULL) to their count. */
	int (*req_get)(struct store *st, uint32_t uid, const char *request_id, uint64_t *job_id,
		       struct aidc_err *e);
	int (*req_put)(struct store *st, uint32_t uid, const char *request_id, uint64_t job_id,
		       int64_t created_s, struct aidc_err *e);
	int (*req_prune)(struct store *st, int64_t before_s, uint64_t *removed,
			 struct aidc_err *e);
	/* STORE_OPS_VERSION 7 (schema 6): the audit log and job accounting,
	 * append-only. audit_add/acct_add insert a record (its id ignored) and
	 * set *out_id (may be NULL); an accounting record for a (job_id, attempt)
	 * already recorded is AIDC_E_EXISTS. The queries walk matching records
	 * (audit: id order; acct: (end_s, id) order) up to q->limit. acct_usage
	 * sums dev_s over the records matching q (its cursor and limit ignored),
	 * one call of fn per (account, user, model) in that order. */
	int (*audit_add)(struct store *st, const struct store_audit *a, uint64_t *out_id,
			 struct aidc_err *e);
	int (*audit_query)(struct store *st, const struct store_audit_query *q, store_audit_fn fn,
			   void *ctx, struct aidc_err *e);
	int (*acct_add)(struct store *st, const struct store_acct *r, uint64_t *out_id,
			struct aidc_err *e);
	int (*acct_query)(struct store *st, const struct store_acct_query *q, store_acct_fn fn,
			  void *ctx, struct aidc_err *e);
	int (*acct_usage)(struct store *st, const struct store_acct_query *q, store_usage_fn fn,
			  void *ctx, struct aidc_err *e);
	/* STORE_OPS_VERSION 8 (schema 7): per-model rates. rate_put inserts or
	 * replaces the model's row; rate_list walks every row in model order. */
	int (*rate_put)(struct store *st, const struct store_rate *r, struct aidc_err *e);
	int (*rate_list)(struct store *st, store_rate_fn fn, void *ctx, struct aidc_err *e);
	/* STORE_OPS_VERSION 9: leadership among controllers sharing one database
	 * (docs/ha.md). NULL where the store has one writer by construction
	 * (SQLite). lead_acquire takes the leader lease when it is free or has
	 * expired (by the database's clock): 0 and out->term = the new term, one
	 * more than any before. AIDC_E_BUSY when another controller holds it (out
	 * says who, where and for how long). From then on every commit of st is
	 * fenced: it renews the lease, and fails (nothing stored) with
	 * AIDC_E_STATE when another controller has taken a newer term. lead_renew
	 * renews outside a transaction (AIDC_E_STATE when deposed); lead_release
	 * ends the lease now (a clean shutdown hands over at once). */
	int (*lead_acquire)(struct store *st, const struct store_lead *me, int64_t lease_ms,
			    struct store_lead *out, struct aidc_err *e);
	int (*lead_renew)(struct store *st, struct aidc_err *e);
	void (*lead_release)(struct store *st);
	/* STORE_OPS_VERSION 10: *n = how many other controllers wait on the
	 * database as standbys now (each failed lead_acquire marks its session
	 * until it leads or disconnects). NULL with lead_acquire. */
	int (*lead_standbys)(struct store *st, int64_t *n, struct aidc_err *e);
	/* STORE_OPS_VERSION 11 (schema 8): the srun steps of batch jobs
	 * (docs/slurm.md), one document per (job_id, step_id). step_put inserts
	 * or replaces; step_list walks the steps of job_id in step order, or
	 * with job_id 0 the live steps of every job in (job, step) order. */
	int (*step_put)(struct store *st, uint64_t job_id, int64_t step_id, bool live,
			const char *doc, struct aidc_err *e);
	int (*step_list)(struct store *st, uint64_t job_id, store_step_fn fn, void *ctx,
			 struct aidc_err *e);
	/* STORE_OPS_VERSION 12: step_get calls fn once with step step_id of
	 * job_id (an index lookup, not a walk of the job's steps), or is
	 * AIDC_E_NOTFOUND when there is none. */
	int (*step_get)(struct store *st, uint64_t job_id, int64_t step_id, store_step_fn fn,
			void *ctx, struct aidc_err *e);
};

/* Every implementation's handle starts with this. */
struct store {
	const struct store_ops *ops;
};

struct store_options {
	/* true: synchronous=FULL (every commit fsyncs the WAL; survives power loss).
	 * false: synchronous=NORMAL (survives a process crash, may lose the last
	 * commits on power loss). See docs/config.md. PostgreSQL: synchronous_commit
	 * on / off. */
	bool sync_full;
	int busy_timeout_ms; /* how long a writer waits for another connection's lock
			      * (PostgreSQL: lock_timeout) */
};
void store_options_defaults(struct store_options *o);

/*
 * Opens (creating if needed) a SQLite database at path and brings its schema
 * to STORE_SCHEMA_VERSION, each migration in its own transaction recorded in
 * schema_version. A database whose version is newer than this build knows is
 * refused with AIDC_E_VERSION and left untouched. Caller frees with store_close.
 */
int store_open_sqlite(const char *path, const struct store_options *o, struct store **out,
		      struct aidc_err *e);
/*
 * Opens the PostgreSQL database named by uri (a libpq URI, postgresql:// or
 * postgres://; docs/config.md) as store_open_sqlite opens a file: the same
 * schema and migrations, recorded in the database's schema_version table, a
 * newer schema refused with AIDC_E_VERSION. sync_full false sets
 * synchronous_commit = off; busy_timeout_ms is the lock_timeout. A build
 * without libpq refuses with AIDC_E_UNSUPPORTED. Errors show the URI with its
 * password masked (store_redact). Caller frees with store_close.
 */
int store_open_pg(const char *uri, const struct store_options *o, struct store **out,
		  struct aidc_err *e);
/* store_open_pg when where is a PostgreSQL URI (store_is_pg_uri), else
 * store_open_sqlite on the file where. */
int store_open(const char *where, const struct store_options *o, struct store **out,
	       struct aidc_err *e);
/* true when where starts with postgresql:// or postgres://. */
bool store_is_pg_uri(const char *where);
/* Copies where into out (size n, truncated) with a URI's password (in its
 * userinfo or a password= parameter) replaced by "***": what messages show. */
void store_redact(const char *where, char *out, size_t n);
/* Copies the password of a PostgreSQL URI into out (size n); false when it
 * has none. */
bool store_uri_password(const char *uri, char *out, size_t n);
/* Closes the store; NULL is a no-op. */
void store_close(struct store *st);

/* Thin wrappers of the transaction calls: store_begin(st, e) reads better than
 * st->ops->begin(st, e). The row calls go through st->ops directly. */
static inline int store_begin(struct store *st, struct aidc_err *e)
{
	return st->ops->begin(st, e);
}
static inline int store_commit(struct store *st, struct aidc_err *e)
{
	return st->ops->commit(st, e);
}
static inline void store_rollback(struct store *st)
{
	st->ops->rollback(st);
}

#endif
