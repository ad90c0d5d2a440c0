/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the tests that work on a real store (tests/store,
 * tests/api): open one, checking that it opens, and change the database
 * behind the store's back (an older or newer schema, say) with raw SQL. A
 * store is named as the controller's `db` names it: a SQLite file, or a
 * postgresql:// URI (then raw SQL goes through libpq), so one test body
 * serves both backends.
 */
#ifndef AIDC_TESTS_STORE_TEST_UTIL_H
#define AIDC_TESTS_STORE_TEST_UTIL_H

#include <sqlite3.h>
#include <stdarg.h>
#ifdef AIDC_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include "../test.h"
#include "store/store.h"

#ifdef AIDC_HAVE_LIBPQ
static inline void store_test_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}
#endif

/* Opens the store db (default options), a failed check if it does not
 * open. The store (caller closes it), or NULL. */
static inline struct store *store_test_open(const char *db, struct aidc_err *e)
{
	struct store *st = NULL;
	CHECK_EQ(store_open(db, NULL, &st, e), 0);
	return st;
}

/* SQL that drops every table a schema after 3 added (4 tenancy, 5
 * submit_requests, 6 audit, 7 job_acct and model_rates, 8 job_steps): how
 * the migration tests turn a current database back into an older one. A
 * migration that adds a table adds it here. */
#define STORE_TEST_DROP_AFTER_V3                                                                   \
	"DROP TABLE tenancy; DROP TABLE submit_requests; DROP TABLE audit;"                        \
	" DROP TABLE job_acct; DROP TABLE model_rates; DROP TABLE job_steps;"

/* Runs sql on the closed store db with the database's own client, as an
 * operator's shell or another build would. 0 when it ran, else -1 with the
 * database's message in err (size n). */
static inline int store_test_try_sql(const char *db, const char *sql, char *err, size_t n)
{
	int rc = 0;
	err[0] = '\0';
	if (store_is_pg_uri(db)) {
#ifdef AIDC_HAVE_LIBPQ
		PGconn *c = PQconnectdb(db);
		PQsetNoticeProcessor(c, store_test_quiet, NULL); /* "does not exist, skipping" */
		PGresult *r = PQexec(c, sql);
		ExecStatusType t = PQresultStatus(r);
		if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
			snprintf(err, n, "%s", PQerrorMessage(c));
			rc = -1;
		}
		PQclear(r);
		PQfinish(c);
#else
		snprintf(err, n, "built without libpq");
		rc = -1;
#endif
		return rc;
	}
	sqlite3 *raw = NULL;
	if (sqlite3_open(db, &raw) != SQLITE_OK ||
	    sqlite3_exec(raw, sql, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, n, "%s", sqlite3_errmsg(raw));
		rc = -1;
	}
	sqlite3_close(raw);
	return rc;
}

/* store_test_try_sql that must succeed: a failed check if it does not run. */
static inline void store_test_raw_sql(const char *db, const char *sql)
{
	char err[512];
	int rc = store_test_try_sql(db, sql, err, sizeof err);
	if (rc)
		fprintf(stderr, "raw SQL failed: %s\n", err);
	CHECK_EQ(rc, 0);
}

/* Appends printf-style text to the NUL-terminated buffer got of size n
 * (truncated at its end): how the listing callbacks record what they saw. */
static inline void store_test_append(char *got, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void store_test_append(char *got, size_t n, const char *fmt, ...)
{
	size_t l = strlen(got);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(got + l, n - l, fmt, ap);
	va_end(ap);
}

/*
 * The PostgreSQL server of `tests/store/pg_server.sh run` (its URI in
 * $AIDC_TEST_PG_URI, a database an admin role may create databases from).
 * store_test_pg_db makes a fresh, empty database named name (dropped first
 * if it exists) and writes its URI into out (size n). A failed check when
 * that fails; SKIPs when there is no server or no libpq.
 */
static inline void store_test_pg_db(const char *name, char *out, size_t n)
{
	const char *admin = getenv("AIDC_TEST_PG_URI");
	if (!admin || !*admin)
		TEST_SKIP("no PostgreSQL server: run through tests/store/pg_server.sh run");
#ifndef AIDC_HAVE_LIBPQ
	(void)out;
	(void)n;
	(void)name;
	TEST_SKIP("built without libpq (the PostgreSQL store)");
#else
	char sql[256], err[512];
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
	CHECK_EQ(store_test_try_sql(admin, sql, err, sizeof err), 0);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
	if (store_test_try_sql(admin, sql, err, sizeof err) != 0)
		fprintf(stderr, "%s: %s\n", sql, err);
	/* The admin URI is postgresql://ROLE@/postgres?host=DIR: swap the name. */
	const char *db = strstr(admin, "/postgres?");
	CHECK(db != NULL);
	if (db)
		snprintf(out, n, "%.*s/%s%s", (int)(db - admin), admin, name, db + 9);
#endif
}

#endif
