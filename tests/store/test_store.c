/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the store (src/store), the same cases on both backends: a
 * fresh database gets the current schema, rows survive close and re-open, a
 * rolled-back transaction leaves nothing, and a database from a newer build
 * is refused untouched. Job rows are inserted once and never replaced (issue
 * 9 item 10), and a damaged SQLite database is refused at open by PRAGMA
 * quick_check (item 11).
 *
 *   test_store [CASE...]        on SQLite files in a temporary directory
 *   test_store --pg [CASE...]   on PostgreSQL: one fresh database per case on
 *                               the server of tests/store/pg_server.sh run
 *                               ($AIDC_TEST_PG_URI); SKIPs without one
 */
#include <fcntl.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/store/store_test_util.h"
#include "util/util.h"

static char dir[] = "/tmp/aidc_test_store_XXXXXX";
static bool pg_mode; /* --pg: every store is a PostgreSQL database */

/* Where the case's store named name lives: a file in dir, or (--pg) a fresh
 * database of that name ('.' as '_'). */
static void path_of(char *out, size_t n, const char *name)
{
	if (!pg_mode) {
		snprintf(out, n, "%s/%s", dir, name);
		return;
	}
	char db[64];
	snprintf(db, sizeof db, "t_%s", name);
	for (char *p = db; *p; p++)
		if (*p == '.')
			*p = '_';
	store_test_pg_db(db, out, n);
}

static int count_jobs(void *ctx, const struct store_job *j)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_fresh_and_reopen(void)
{
	char db[256];
	path_of(db, sizeof db, "a.db");
	struct aidc_err e = {0};
	struct store *st = store_test_open(db, &e);
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_EQ(st->ops->schema_version(st), STORE_SCHEMA_VERSION);
	struct store_job j = {.id = 7, .uid = 1000, .gid = 1000, .user = "alice", .name = "train",
			      .spec_json = "{\"v\":1}", .state = 2, .attempt = 1, .exit_code = 3,
			      .submit_s = 100, .start_s = 101, .end_s = 0};
	CHECK_EQ(store_begin(st, &e), 0);
	CHECK_EQ(st->ops->job_insert(st, &j, &e), 0);
	struct store_task t = {.job_id = 7, .index = 1, .attempt = 1, .node = "n1", .state = 1,
			       .pid = 42};
	CHECK_EQ(st->ops->task_put(st, &t, &e), 0);
	struct store_node n = {.name = "n1", .info_json = "{}", .state = 0, .registered_s = 5};
	CHECK_EQ(st->ops->node_put(st, &n, &e), 0);
	CHECK_EQ(st->ops->meta_set(st, "next_job_id", "8", &e), 0);
	CHECK_EQ(store_commit(st, &e), 0);

	/* A rolled-back change leaves nothing behind. */
	struct store_job j2 = j;
	j2.id = 9;
	CHECK_EQ(store_begin(st, &e), 0);
	CHECK_EQ(st->ops->job_insert(st, &j2, &e), 0);
	store_rollback(st);
	/* Nested begin is refused. */
	CHECK_EQ(store_begin(st, &e), 0);
	CHECK_EQ(store_begin(st, NULL), AIDC_E_STATE);
	store_rollback(st);
	store_close(st);

	st = store_test_open(db, &e);
	if (!st)
		return;
	struct store_job g;
	CHECK_EQ(st->ops->job_get(st, 7, &g, &e), 0);
	CHECK_STR(g.user, "alice");
	CHECK_STR(g.spec_json, "{\"v\":1}");
	CHECK(g.alloc_json == NULL);
	CHECK_EQ(g.state, 2);
	CHECK_EQ(g.exit_code, 3);
	CHECK_EQ(g.submit_s, 100);
	store_job_release(&g);
	CHECK_EQ(st->ops->job_get(st, 9, &g, NULL), AIDC_E_NOTFOUND);
	int njobs = 0;
	CHECK_EQ(st->ops->job_list(st, count_jobs, &njobs, &e), 0);
	CHECK_EQ(njobs, 1);
	char *v = NULL;
	CHECK_EQ(st->ops->meta_get(st, "next_job_id", &v, &e), 0);
	CHECK_STR(v, "8");
	aidc_free(v);
	CHECK_EQ(st->ops->meta_get(st, "nope", &v, NULL), AIDC_E_NOTFOUND);
	CHECK_EQ(st->ops->task_clear(st, 7, &e), 0);
	store_close(st);
	if (e.code)
		fprintf(stderr, "unexpected error: %s\n", e.msg);
}

static void test_newer_refused(void)
{
	char db[256];
	path_of(db, sizeof db, "b.db");
	struct aidc_err e = {0};
	struct store *st = store_test_open(db, &e);
	store_close(st);
	/* Pretend a newer build migrated it. */
	char sql[128];
	snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%d, 0)",
		 STORE_SCHEMA_VERSION + 1);
	store_test_raw_sql(db, sql);
	st = NULL;
	aidc_err_clear(&e);
	CHECK_EQ(store_open(db, NULL, &st, &e), AIDC_E_VERSION);
	CHECK(st == NULL);
	CHECK_CONTAINS(e.msg, "newer");
	/* Bad paths. */
	CHECK_EQ(store_open("", NULL, &st, NULL), AIDC_E_INVAL);
	CHECK_EQ(store_open("/nonexistent-dir/x/y.db", NULL, &st, NULL), AIDC_E_IO);
}

/* Which backend a name opens, and no password in any message (issue 15). */
static void test_uri(void)
{
	static const struct {
		const char *in, *out;
	} red[] = {
	    {"/var/lib/aidc/aidc.db", "/var/lib/aidc/aidc.db"},
	    {"postgresql://aidc:s3cret@db.example/aidc", "postgresql://aidc:***@db.example/aidc"},
	    {"postgres://u:p%40ss@h:5432/d?sslmode=require", "postgres://u:***@h:5432/d?sslmode=require"},
	    {"postgresql://u@h/d?password=s3cret&sslmode=require",
	     "postgresql://u@h/d?password=***&sslmode=require"},
	    {"postgresql:///aidc?host=/run/pg&password=x", "postgresql:///aidc?host=/run/pg&password=***"},
	    {"postgresql://h/d?x=a@b:c", "postgresql://h/d?x=a@b:c"},
	};
	char out[256];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(red); i++) {
		store_redact(red[i].in, out, sizeof out);
		CHECK_STR(out, red[i].out);
	}
	CHECK(store_is_pg_uri("postgresql://x"));
	CHECK(store_is_pg_uri("postgres://x"));
	CHECK(!store_is_pg_uri("postgresql:x"));
	CHECK(!store_is_pg_uri("aidc.db"));
	/* A server that is not there: refused, naming the URI without its password. */
	struct aidc_err e = {0};
	struct store *st = NULL;
	int rc = store_open("postgresql://aidc:s3cret@/aidc?host=/nonexistent-aidc-dir", NULL, &st, &e);
#ifdef AIDC_HAVE_LIBPQ
	CHECK_EQ(rc, AIDC_E_IO);
	CHECK_CONTAINS(e.msg, "postgresql://aidc:***@/aidc");
#else
	CHECK_EQ(rc, AIDC_E_UNSUPPORTED);
	CHECK_CONTAINS(e.msg, "without PostgreSQL support");
#endif
	CHECK(st == NULL);
	CHECK(strstr(e.msg, "s3cret") == NULL);
	aidc_err_clear(&e);
	rc = store_open("postgresql://%zz:s3cret%zz@/aidc", NULL, &st, &e);
	CHECK(rc != 0);
	CHECK(strstr(e.msg, "s3cret") == NULL);
}

/* Group commit's units (savepoints): a unit that failed is undone alone,
 * even by a statement error (which PostgreSQL lets abort the whole
 * transaction until the unit is rolled back), and the rest commits. */
static void test_units(void)
{
	char db[256];
	path_of(db, sizeof db, "u.db");
	struct aidc_err e = {0};
	struct store *st = store_test_open(db, &e);
	if (!st)
		return;
	struct store_job j = {.id = 1, .uid = 1, .gid = 1, .user = "u", .name = "a",
			      .spec_json = "{}"};
	CHECK_EQ(store_begin(st, &e), 0);
	CHECK_EQ(st->ops->savepoint(st, &e), 0);
	CHECK_EQ(st->ops->job_insert(st, &j, &e), 0);
	CHECK_EQ(st->ops->release(st, &e), 0);
	/* An expected refusal does not spoil the transaction. */
	CHECK_EQ(st->ops->savepoint(st, &e), 0);
	CHECK_EQ(st->ops->job_insert(st, &j, NULL), AIDC_E_EXISTS);
	CHECK_EQ(st->ops->req_put(st, 1, "r", 1, 5, &e), 0);
	CHECK_EQ(st->ops->req_put(st, 1, "r", 2, 5, NULL), AIDC_E_EXISTS);
	CHECK_EQ(st->ops->release(st, &e), 0);
	/* A statement error (a NULL metadata value): the unit is rolled back. */
	CHECK_EQ(st->ops->savepoint(st, &e), 0);
	j.id = 2;
	CHECK_EQ(st->ops->job_insert(st, &j, &e), 0);
	CHECK(st->ops->meta_set(st, "k", NULL, NULL) != 0);
	st->ops->rollback_to(st);
	j.id = 3;
	CHECK_EQ(st->ops->savepoint(st, &e), 0);
	CHECK_EQ(st->ops->job_insert(st, &j, &e), 0);
	CHECK_EQ(st->ops->release(st, &e), 0);
	/* Nested: an inner unit released, then the outer one rolled back,
	 * takes the inner one's writes with it. */
	CHECK_EQ(st->ops->savepoint(st, &e), 0);
	CHECK_EQ(st->ops->savepoint(st, &e), 0);
	j.id = 4;
	CHECK_EQ(st->ops->job_insert(st, &j, &e), 0);
	CHECK_EQ(st->ops->release(st, &e), 0);
	CHECK_EQ(st->ops->meta_set(st, "outer", "x", &e), 0);
	st->ops->rollback_to(st);
	CHECK_EQ(st->ops->release(st, NULL), AIDC_E_STATE);
	/* Many units in a row, as a storm's iteration has. */
	for (int i = 0; i < 100; i++) {
		char key[16];
		snprintf(key, sizeof key, "k%d", i);
		CHECK_EQ(st->ops->savepoint(st, &e), 0);
		CHECK_EQ(st->ops->meta_set(st, key, "v", &e), 0);
		if (i % 10 == 9)
			st->ops->rollback_to(st);
		else
			CHECK_EQ(st->ops->release(st, &e), 0);
	}
	CHECK_EQ(store_commit(st, &e), 0);
	char *mv = NULL;
	CHECK_EQ(st->ops->meta_get(st, "k98", &mv, &e), 0);
	aidc_free(mv);
	CHECK_EQ(st->ops->meta_get(st, "k99", &mv, NULL), AIDC_E_NOTFOUND);
	CHECK_EQ(st->ops->meta_get(st, "outer", &mv, NULL), AIDC_E_NOTFOUND);
	struct store_job g;
	CHECK_EQ(st->ops->job_get(st, 4, &g, NULL), AIDC_E_NOTFOUND);
	CHECK_EQ(st->ops->job_get(st, 1, &g, &e), 0);
	store_job_release(&g);
	CHECK_EQ(st->ops->job_get(st, 2, &g, NULL), AIDC_E_NOTFOUND);
	CHECK_EQ(st->ops->job_get(st, 3, &g, &e), 0);
	store_job_release(&g);
	uint64_t id = 0;
	CHECK_EQ(st->ops->req_get(st, 1, "r", &id, &e), 0);
	CHECK_EQ(id, 1);
	store_close(st);
	if (e.code)
		fprintf(stderr, "unexpected error: %s\n", e.msg);
}

/* An id already taken is an error, never a replacement of another user's row;
 * updates need the row's own uid; the highest id counts ended jobs too. */
static void test_insert_never_replaces(void)
{
	char db[256];
	path_of(db, sizeof db, "c.db");
	struct aidc_err e = {0};
	struct store *st = store_test_open(db, &e);
	if (!st)
		return;
	struct store_job a = {.id = 5, .uid = 1000, .gid = 1000, .user = "alice", .name = "a",
			      .spec_json = "{\"v\":1}", .state = 5, .log_key = "00112233aabbccdd"};
	CHECK_EQ(st->ops->job_insert(st, &a, &e), 0);
	struct store_job b = a;
	b.uid = b.gid = 1001;
	b.user = "bob";
	b.name = "b";
	aidc_err_clear(&e);
	CHECK_EQ(st->ops->job_insert(st, &b, &e), AIDC_E_EXISTS);
	CHECK_CONTAINS(e.msg, "already taken");
	CHECK_EQ(st->ops->job_put(st, &b, NULL), AIDC_E_NOTFOUND); /* another uid's row */
	struct store_job g = {0};
	CHECK_EQ(st->ops->job_get(st, 5, &g, &e), 0);
	CHECK_STR(g.user, "alice");
	CHECK_STR(g.name, "a");
	CHECK_STR(g.log_key, "00112233aabbccdd");
	store_job_release(&g);
	a.name = "renamed";
	CHECK_EQ(st->ops->job_put(st, &a, &e), 0);
	/* A large spec lives in the store only: an update without it keeps it,
	 * an insert without it is refused. */
	struct store_job shed = a;
	shed.spec_json = NULL;
	shed.state = 6;
	CHECK_EQ(st->ops->job_put(st, &shed, &e), 0);
	CHECK_EQ(st->ops->job_get(st, 5, &g, &e), 0);
	CHECK_STR(g.spec_json, "{\"v\":1}");
	CHECK_EQ(g.state, 6);
	store_job_release(&g);
	shed.id = 7;
	CHECK_EQ(st->ops->job_insert(st, &shed, NULL), AIDC_E_INVAL);
	struct store_job absent = a;
	absent.id = 6;
	CHECK_EQ(st->ops->job_put(st, &absent, NULL), AIDC_E_NOTFOUND);
	struct store_job big = a;
	big.id = (uint64_t)INT64_MAX + 1;
	CHECK_EQ(st->ops->job_insert(st, &big, NULL), AIDC_E_INVAL);
	big.id = 0;
	CHECK_EQ(st->ops->job_insert(st, &big, NULL), AIDC_E_INVAL);
	uint64_t max = 0;
	CHECK_EQ(st->ops->job_max_id(st, &max, &e), 0);
	CHECK_EQ(max, 5);
	store_close(st);
}

/* Submission request ids (schema 4): recorded once per (uid, id), survive a
 * re-open, a second record is refused, and pruning removes only old rows. */
static void test_request_ids(void)
{
	char db[256];
	path_of(db, sizeof db, "r.db");
	struct aidc_err e = {0};
	struct store *st = store_test_open(db, &e);
	if (!st)
		return;
	uint64_t id = 0, removed = 0;
	CHECK_EQ(st->ops->req_get(st, 1000, "r1", &id, NULL), AIDC_E_NOTFOUND);
	CHECK_EQ(st->ops->req_put(st, 1000, "r1", 7, 100, &e), 0);
	CHECK_EQ(st->ops->req_put(st, 1001, "r1", 8, 200, &e), 0); /* another user's r1 */
	CHECK_EQ(st->ops->req_put(st, 1000, "r1", 9, 300, NULL), AIDC_E_EXISTS);
	store_close(st);
	st = store_test_open(db, &e);
	if (!st)
		return;
	CHECK_EQ(st->ops->req_get(st, 1000, "r1", &id, &e), 0);
	CHECK_EQ(id, 7);
	CHECK_EQ(st->ops->req_get(st, 1001, "r1", &id, &e), 0);
	CHECK_EQ(id, 8);
	CHECK_EQ(st->ops->req_prune(st, 150, &removed, &e), 0);
	CHECK_EQ(removed, 1);
	CHECK_EQ(st->ops->req_get(st, 1000, "r1", &id, NULL), AIDC_E_NOTFOUND);
	CHECK_EQ(st->ops->req_get(st, 1001, "r1", &id, &e), 0);
	store_close(st);
}

/* A database with damaged pages is refused at open, not reported healthy. */
static void test_quick_check(void)
{
	if (pg_mode)
		TEST_SKIP("SQLite only: PostgreSQL has no PRAGMA quick_check");
	char db[256];
	path_of(db, sizeof db, "d.db");
	struct aidc_err e = {0};
	struct store *st = store_test_open(db, &e);
	if (!st)
		return;
	char name[64];
	CHECK_EQ(store_begin(st, &e), 0);
	for (uint64_t i = 1; i <= 400; i++) {
		snprintf(name, sizeof name, "job-%" PRIu64 "-padding-padding-padding", i);
		struct store_job j = {.id = i, .uid = 1, .gid = 1, .user = "u", .name = name,
				      .spec_json = "{\"v\":1}"};
		CHECK_EQ(st->ops->job_insert(st, &j, &e), 0);
	}
	CHECK_EQ(store_commit(st, &e), 0);
	store_close(st);
	/* Fold the WAL into the file, then overwrite pages 3..6 with garbage. */
	store_test_raw_sql(db, "PRAGMA journal_mode=DELETE");
	int fd = open(db, O_WRONLY);
	CHECK(fd >= 0);
	char junk[4096 * 4];
	memset(junk, 0x5a, sizeof junk);
	CHECK_EQ(pwrite(fd, junk, sizeof junk, 4096 * 2), (ssize_t)sizeof junk);
	close(fd);
	st = NULL;
	aidc_err_clear(&e);
	CHECK(store_open_sqlite(db, NULL, &st, &e) != 0);
	CHECK(st == NULL);
	CHECK_CONTAINS(e.msg, "quick_check");
	store_close(st);
}

/* The cases share one temporary directory, made before and removed after them. */
struct tenancy_rows {
	char got[512];
};

static int keep_tenancy(void *ctx, const char *kind, const char *name, const char *doc)
{
	struct tenancy_rows *r = ctx;
	store_test_append(r->got, sizeof r->got, "%s/%s=%s;", kind, name, doc);
	return 0;
}

/* Schema 4 (issue 11): tenancy rows put, replaced, deleted and listed in
 * (kind, name) order; a database of schema 3 with jobs migrates to 4 keeping
 * them, and its tenancy table starts empty (tenancy off). */
static void test_tenancy_and_migration(void)
{
	char db[256];
	path_of(db, sizeof db, "t.db");
	struct aidc_err e = {0};
	struct store *st = store_test_open(db, &e);
	if (!st)
		return;
	struct store_job a = {.id = 3, .uid = 1000, .gid = 1000, .user = "alice", .name = "a",
			      .spec_json = "{\"v\":1}", .state = 0, .log_key = "k"};
	CHECK_EQ(st->ops->job_insert(st, &a, &e), 0);
	store_close(st);
	/* Back to what a schema-3 build left: no tenancy (4) nor submit_requests
	 * (5) table, version 3. */
	store_test_raw_sql(db,
			   STORE_TEST_DROP_AFTER_V3 " DELETE FROM schema_version WHERE version >= 4;");
	st = store_test_open(db, &e);
	if (!st)
		return;
	CHECK_EQ(st->ops->schema_version(st), STORE_SCHEMA_VERSION);
	struct store_job g;
	CHECK_EQ(st->ops->job_get(st, 3, &g, &e), 0);
	CHECK_STR(g.user, "alice");
	store_job_release(&g);
	struct tenancy_rows r = {""};
	CHECK_EQ(st->ops->tenancy_list(st, keep_tenancy, &r, &e), 0);
	CHECK_STR(r.got, "");
	CHECK_EQ(st->ops->tenancy_put(st, "user", "bob", "{\"v\":1}", &e), 0);
	CHECK_EQ(st->ops->tenancy_put(st, "account", "physics", "{\"v\":1}", &e), 0);
	CHECK_EQ(st->ops->tenancy_put(st, "account", "chem", "{}", &e), 0);
	CHECK_EQ(st->ops->tenancy_put(st, "account", "chem", "{\"v\":1}", &e), 0);
	CHECK_EQ(st->ops->tenancy_delete(st, "account", "physics", &e), 0);
	CHECK_EQ(st->ops->tenancy_delete(st, "account", "physics", NULL), AIDC_E_NOTFOUND);
	store_close(st);
	st = store_test_open(db, &e);
	if (!st)
		return;
	r.got[0] = '\0';
	CHECK_EQ(st->ops->tenancy_list(st, keep_tenancy, &r, &e), 0);
	CHECK_STR(r.got, "account/chem={\"v\":1};user/bob={\"v\":1};");
	store_close(st);
}

/* Schema 6: accounting and audit records, filters, cursor, usage sums and
 * the append-only triggers. */
struct acct_seen {
	char got[512];
	int64_t last_end;
	uint64_t last_id, n;
};

static int keep_acct(void *ctx, const struct store_acct *r)
{
	struct acct_seen *a = ctx;
	store_test_append(a->got, sizeof a->got, "%" PRIu64 ".%u;", r->job_id, r->attempt);
	a->last_end = r->end_s;
	a->last_id = r->id;
	a->n++;
	return 0;
}

static int keep_usage(void *ctx, const char *account, const char *user, const char *model,
		      int64_t dev_s, int64_t units_ppm, uint64_t records)
{
	struct acct_seen *a = ctx;
	store_test_append(a->got, sizeof a->got, "%s/%s/%s=%" PRId64 "x%" PRIu64 "u%" PRId64 ";",
		 account, user, model, dev_s, records, units_ppm);
	return 0;
}

static int keep_rate(void *ctx, const struct store_rate *r)
{
	struct acct_seen *a = ctx;
	store_test_append(a->got, sizeof a->got, "%s=%" PRId64 "/%" PRId64 "/%s;", r->model,
		 r->rate_ppm, r->derived_ppm, r->source);
	return 0;
}

static int keep_audit(void *ctx, const struct store_audit *r)
{
	struct acct_seen *a = ctx;
	store_test_append(a->got, sizeof a->got, "%s:%s;", r->actor, r->action);
	a->n++;
	return 0;
}

static void test_acct_and_audit(void)
{
	char db[256];
	path_of(db, sizeof db, "acct.db");
	struct aidc_err e = {0};
	struct store *st = store_test_open(db, &e);
	if (!st)
		return;
	/* job, attempt, uid, user, account, state, end, dev_s */
	static const struct {
		uint64_t job;
		uint32_t att, uid;
		const char *user, *account;
		int state;
		int64_t end_s;
		const char *dev_s;
		int64_t total;
	} rows[] = {
	    {1, 0, 1000, "alice", "phys", 3, 100, "{\"T4\":10}", 10},
	    {2, 0, 1001, "bob", "chem", 4, 200, "{\"T4\":5,\"H100\":7}", 12},
	    {3, 0, 1000, "alice", "phys", 8, 200, "{\"H100\":3}", 3},
	    {3, 1, 1000, "alice", "phys", 5, 300, "{\"H100\":4}", 4},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(rows); i++) {
		struct store_acct r = {.job_id = rows[i].job, .attempt = rows[i].att,
				       .uid = rows[i].uid, .user = rows[i].user,
				       .account = rows[i].account, .state = rows[i].state,
				       .end_s = rows[i].end_s, .dev_s = rows[i].dev_s,
				       .dev_s_total = rows[i].total, .cpu_usec = -1,
				       .mem_peak_bytes = -1};
		CHECK_EQ(st->ops->acct_add(st, &r, NULL, &e), 0);
	}
	struct store_acct dup = {.job_id = 1, .attempt = 0, .user = "alice"};
	CHECK_EQ(st->ops->acct_add(st, &dup, NULL, &e), AIDC_E_EXISTS);
	struct acct_seen a;
	memset(&a, 0, sizeof a);
	struct store_acct_query q = {.since_s = INT64_MIN, .after_end_s = INT64_MIN, .limit = 100};
	CHECK_EQ(st->ops->acct_query(st, &q, keep_acct, &a, &e), 0);
	CHECK_STR(a.got, "1.0;2.0;3.0;3.1;");
	/* Window [200, 300), then a page of 1 and its cursor. */
	memset(&a, 0, sizeof a);
	q.since_s = 200;
	q.until_s = 300;
	q.limit = 1;
	CHECK_EQ(st->ops->acct_query(st, &q, keep_acct, &a, &e), 0);
	CHECK_STR(a.got, "2.0;");
	q.after_end_s = a.last_end;
	q.after_id = a.last_id;
	a.got[0] = '\0';
	CHECK_EQ(st->ops->acct_query(st, &q, keep_acct, &a, &e), 0);
	CHECK_STR(a.got, "3.0;");
	/* Scope: bob's own plus account phys; state mask; job ids. */
	const char *accts[] = {"phys"};
	struct store_acct_query s2 = {.scoped = true, .scope_uid = 1001, .scope_accounts = accts,
				      .nscope_accounts = 1, .since_s = INT64_MIN,
				      .after_end_s = INT64_MIN, .limit = 100,
				      .state_mask = (1u << 3) | (1u << 4)};
	memset(&a, 0, sizeof a);
	CHECK_EQ(st->ops->acct_query(st, &s2, keep_acct, &a, &e), 0);
	CHECK_STR(a.got, "1.0;2.0;");
	uint64_t ids[] = {3};
	struct store_acct_query s3 = {.job_ids = ids, .njob_ids = 1, .since_s = INT64_MIN,
				      .after_end_s = INT64_MIN, .limit = 100};
	memset(&a, 0, sizeof a);
	CHECK_EQ(st->ops->acct_query(st, &s3, keep_acct, &a, &e), 0);
	CHECK_STR(a.got, "3.0;3.1;");
	/* Usage: sums by (account, user, model) equal the records'. */
	memset(&a, 0, sizeof a);
	struct store_acct_query all = {.since_s = INT64_MIN, .after_end_s = INT64_MIN};
	CHECK_EQ(st->ops->acct_usage(st, &all, keep_usage, &a, &e), 0);
	/* Records without rates are charged at rate 1 (1e6 millionths). */
	CHECK_STR(a.got, "chem/bob/H100=7x1u7000000;chem/bob/T4=5x1u5000000;"
			 "phys/alice/H100=7x2u7000000;phys/alice/T4=10x1u10000000;");
	/* Schema 7: a record with a rate for T4 (2.5) is charged 4 x 2.5. */
	struct store_acct rated = {.job_id = 99, .user = "bob", .account = "chem", .end_s = 50,
				   .dev_s = "{\"T4\":4}", .dev_s_total = 4,
				   .rates = "{\"T4\":2500000}", .units_ppm = 10000000};
	CHECK_EQ(st->ops->acct_add(st, &rated, NULL, &e), 0);
	struct store_acct_query j99 = {.job_ids = (uint64_t[]){99}, .njob_ids = 1,
				       .since_s = INT64_MIN, .after_end_s = INT64_MIN};
	memset(&a, 0, sizeof a);
	CHECK_EQ(st->ops->acct_usage(st, &j99, keep_usage, &a, &e), 0);
	CHECK_STR(a.got, "chem/bob/T4=4x1u10000000;");
	/* Rates: put replaces, list in model order. */
	struct store_rate r1 = {.model = "T4", .rate_ppm = 1500000, .derived_ppm = 1500000,
				.source = "exam", .set_s = 1},
			  r2 = {.model = "A100", .rate_ppm = 3000000, .source = "override",
				.reason = "x", .set_s = 2};
	CHECK_EQ(st->ops->rate_put(st, &r1, &e), 0);
	CHECK_EQ(st->ops->rate_put(st, &r2, &e), 0);
	r1.rate_ppm = 1750000;
	r1.source = "override";
	CHECK_EQ(st->ops->rate_put(st, &r1, &e), 0);
	memset(&a, 0, sizeof a);
	CHECK_EQ(st->ops->rate_list(st, keep_rate, &a, &e), 0);
	CHECK_STR(a.got, "A100=3000000/0/override;T4=1750000/1500000/override;");
	/* Audit: add, filter by uid (actor or target), action. */
	struct store_audit au[] = {
	    {.time_s = 10, .actor_uid = 0, .actor = "root", .action = "job.cancel",
	     .target = "job 2", .target_uid = 1001},
	    {.time_s = 11, .actor_uid = 1000, .actor = "alice", .action = "token.create",
	     .target_uid = 1000},
	    {.time_s = 12, .actor_uid = 0, .actor = "root", .action = "node.drain",
	     .target_uid = -1},
	};
	uint64_t id = 0;
	for (size_t i = 0; i < AIDC_ARRAY_LEN(au); i++)
		CHECK_EQ(st->ops->audit_add(st, &au[i], &id, &e), 0);
	CHECK_EQ(id, 3);
	memset(&a, 0, sizeof a);
	struct store_audit_query aq = {.uid = 1001, .since_s = INT64_MIN, .limit = 10};
	CHECK_EQ(st->ops->audit_query(st, &aq, keep_audit, &a, &e), 0);
	CHECK_STR(a.got, "root:job.cancel;");
	memset(&a, 0, sizeof a);
	struct store_audit_query aq2 = {.uid = -1, .action = "node.drain", .since_s = 12,
					.until_s = 13, .limit = 10};
	CHECK_EQ(st->ops->audit_query(st, &aq2, keep_audit, &a, &e), 0);
	CHECK_STR(a.got, "root:node.drain;");
	store_close(st);
	/* Append-only, whoever writes the database. */
	char err[512];
	CHECK(store_test_try_sql(db, "UPDATE audit SET actor = 'x'", err, sizeof err) != 0);
	CHECK_CONTAINS(err, "append-only");
	CHECK(store_test_try_sql(db, "DELETE FROM audit", err, sizeof err) != 0);
	CHECK(store_test_try_sql(db, "UPDATE job_acct SET dev_s_total = 0", err, sizeof err) != 0);
	CHECK_CONTAINS(err, "append-only");
	CHECK(store_test_try_sql(db, "DELETE FROM job_acct", err, sizeof err) != 0);
	if (pg_mode) {
		CHECK(store_test_try_sql(db, "TRUNCATE audit", err, sizeof err) != 0);
		CHECK(store_test_try_sql(db, "TRUNCATE job_acct", err, sizeof err) != 0);
		CHECK_CONTAINS(err, "append-only");
	}
}

/* PostgreSQL: a connection the server dropped fails the op that meets it
 * (and the transaction it was in), then the store reconnects. */
static void test_reconnect(void)
{
	if (!pg_mode)
		TEST_SKIP("PostgreSQL only: a SQLite file has no connection to lose");
	char db[256];
	path_of(db, sizeof db, "rc.db");
	struct aidc_err e = {0};
	struct store *st = store_test_open(db, &e);
	if (!st)
		return;
	CHECK_EQ(st->ops->meta_set(st, "a", "1", &e), 0);
	CHECK_EQ(store_begin(st, &e), 0);
	CHECK_EQ(st->ops->meta_set(st, "b", "2", &e), 0);
	store_test_raw_sql(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
			       " WHERE application_name = 'aidc-controller'");
	CHECK(store_commit(st, NULL) != 0);
	char *v = NULL;
	int rc = st->ops->meta_get(st, "a", &v, NULL);
	if (rc != 0) /* the op that found the connection lost, if commit did not */
		rc = st->ops->meta_get(st, "a", &v, &e);
	CHECK_EQ(rc, 0);
	CHECK_STR(v, "1");
	aidc_free(v);
	CHECK_EQ(st->ops->meta_get(st, "b", &v, NULL), AIDC_E_NOTFOUND);
	CHECK_EQ(store_begin(st, &e), 0);
	CHECK_EQ(st->ops->meta_set(st, "b", "3", &e), 0);
	CHECK_EQ(store_commit(st, &e), 0);
	store_close(st);
}

/* The leader lease (docs/ha.md): one leader per term, standbys told who
 * leads, a deposed leader's commit refused with nothing stored, a release
 * that hands over at once; SQLite has no lease (one writer). */
static void test_leader_lease(void)
{
	char db[256];
	path_of(db, sizeof db, "lead.db");
	struct aidc_err e = {0};
	struct store *a = store_test_open(db, &e);
	if (!a)
		return;
	if (!pg_mode) {
		CHECK(a->ops->lead_acquire == NULL);
		store_close(a);
		return;
	}
	struct store *b = store_test_open(db, &e);
	if (!b) {
		store_close(a);
		return;
	}
	struct store_lead ma = {.holder = "hostA:1", .addr = "http://a:6820"}, mb = {
		.holder = "hostB:2", .addr = "http://b:6820"}, got;
	CHECK_EQ(a->ops->lead_acquire(a, &ma, 60000, &got, &e), 0);
	CHECK_EQ(got.term, 1);
	CHECK_EQ(b->ops->lead_acquire(b, &mb, 60000, &got, NULL), AIDC_E_BUSY);
	CHECK_STR(got.holder, "hostA:1");
	CHECK_STR(got.addr, "http://a:6820");
	CHECK_EQ(got.term, 1);
	CHECK(got.left_ms > 50000 && got.left_ms <= 60000);
	/* The leader's fenced commits work and renew. */
	CHECK_EQ(store_begin(a, &e), 0);
	CHECK_EQ(a->ops->meta_set(a, "k", "from-a", &e), 0);
	CHECK_EQ(store_commit(a, &e), 0);
	CHECK_EQ(a->ops->lead_renew(a, &e), 0);
	/* The lease expires (as if A had paused past it): B takes term 2 and
	 * ends A's session; A's next commit stores nothing. */
	store_test_raw_sql(db, "UPDATE aidc_leader SET expires_ms = 0");
	CHECK_EQ(b->ops->lead_acquire(b, &mb, 60000, &got, &e), 0);
	CHECK_EQ(got.term, 2);
	struct aidc_err ae = {0};
	int rc = store_begin(a, &ae);
	if (rc == 0 && (rc = a->ops->meta_set(a, "k", "late-a", &ae)) == 0)
		rc = store_commit(a, &ae);
	else
		store_rollback(a);
	CHECK(rc != 0);
	/* Once A reconnects, the fence itself refuses it. */
	CHECK_EQ(store_begin(a, &ae), 0);
	CHECK_EQ(a->ops->meta_set(a, "k", "later-a", &ae), 0);
	aidc_err_clear(&ae);
	CHECK_EQ(store_commit(a, &ae), AIDC_E_STATE);
	CHECK_CONTAINS(ae.msg, "no longer the leader");
	CHECK_EQ(a->ops->lead_renew(a, NULL), AIDC_E_STATE);
	char *v = NULL;
	CHECK_EQ(b->ops->meta_get(b, "k", &v, &e), 0);
	CHECK_STR(v, "from-a");
	aidc_free(v);
	/* A clean stop hands over at once: A takes term 3. */
	b->ops->lead_release(b);
	CHECK_EQ(a->ops->lead_acquire(a, &ma, 60000, &got, &e), 0);
	CHECK_EQ(got.term, 3);
	/* A ended B's session: B's next op finds out, the one after reconnects. */
	rc = b->ops->lead_acquire(b, &mb, 1000, &got, NULL);
	if (rc == AIDC_E_IO)
		rc = b->ops->lead_acquire(b, &mb, 1000, &got, NULL);
	CHECK_EQ(rc, AIDC_E_BUSY);
	CHECK_EQ(got.term, 3);
	store_close(b);
	store_close(a);
}

static int keep_step(void *ctx, uint64_t job, int64_t step, bool live, const char *doc)
{
	store_test_append(ctx, 256, "%llu.%lld%s=%s;", (unsigned long long)job, (long long)step,
			  live ? "L" : "", doc);
	return 0;
}

/* Schema 8: step documents, put replaces, one job's in step order, the live
 * ones of every job. */
static void test_steps(void)
{
	char db[256];
	path_of(db, sizeof db, "steps.db");
	struct aidc_err e = {0};
	struct store *st = store_test_open(db, &e);
	if (!st)
		return;
	CHECK_EQ(st->ops->step_put(st, 5, 1, true, "{\"a\":1}", &e), 0);
	CHECK_EQ(st->ops->step_put(st, 5, 0, true, "{}", &e), 0);
	CHECK_EQ(st->ops->step_put(st, 4, 0, true, "{}", &e), 0);
	CHECK_EQ(st->ops->step_put(st, 5, 0, false, "{\"end\":1}", &e), 0);
	char got[256] = "";
	CHECK_EQ(st->ops->step_list(st, 5, keep_step, got, &e), 0);
	CHECK_STR(got, "5.0={\"end\":1};5.1L={\"a\":1};");
	got[0] = '\0';
	CHECK_EQ(st->ops->step_list(st, 0, keep_step, got, &e), 0);
	CHECK_STR(got, "4.0L={};5.1L={\"a\":1};");
	got[0] = '\0';
	CHECK_EQ(st->ops->step_list(st, 9, keep_step, got, &e), 0);
	CHECK_STR(got, "");
	/* step_get: one row, or AIDC_E_NOTFOUND (STORE_OPS_VERSION 12) */
	CHECK_EQ(st->ops->step_get(st, 5, 0, keep_step, got, &e), 0);
	CHECK_EQ(st->ops->step_get(st, 4, 0, keep_step, got, &e), 0);
	CHECK_STR(got, "5.0={\"end\":1};4.0L={};");
	got[0] = '\0';
	CHECK_EQ(st->ops->step_get(st, 5, 2, keep_step, got, &e), AIDC_E_NOTFOUND);
	CHECK_EQ(st->ops->step_get(st, 9, 0, keep_step, got, &e), AIDC_E_NOTFOUND);
	CHECK_STR(got, "");
	store_close(st);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
	    TEST(test_fresh_and_reopen), TEST(test_newer_refused), TEST(test_insert_never_replaces),
	    TEST(test_quick_check),      TEST(test_tenancy_and_migration), TEST(test_request_ids),
	    TEST(test_acct_and_audit),   TEST(test_uri),                   TEST(test_units),
	    TEST(test_reconnect),        TEST(test_leader_lease),          TEST(test_steps)};
	if (argc > 1 && strcmp(argv[1], "--pg") == 0) {
		pg_mode = true;
		argv[1] = argv[0];
		argc--;
		argv++;
		if (!getenv("AIDC_TEST_PG_URI"))
			TEST_SKIP("no PostgreSQL server: run through tests/store/pg_server.sh run");
	}
	return test_run_in_dir(argc, argv, cases, AIDC_ARRAY_LEN(cases), dir);
}
