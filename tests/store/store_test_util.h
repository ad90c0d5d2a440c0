/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the tests that work on a real SQLite store file
 * (tests/store, tests/api): open one, checking that it opens, and change the
 * file behind the store's back (an older or newer schema, say) with raw SQL.
 */
#ifndef AIDC_TESTS_STORE_TEST_UTIL_H
#define AIDC_TESTS_STORE_TEST_UTIL_H

#include <sqlite3.h>
#include <stdarg.h>

#include "../test.h"
#include "store/store.h"

/* Opens the store at path db (default options), a failed check if it does not
 * open. The store (caller closes it), or NULL. */
static inline struct store *store_test_open(const char *db, struct aidc_err *e)
{
	struct store *st = NULL;
	CHECK_EQ(store_open_sqlite(db, NULL, &st, e), 0);
	return st;
}

/* Runs sql on the closed store file db with SQLite itself, as an operator's
 * shell or another build would: a failed check if it does not run. */
static inline void store_test_raw_sql(const char *db, const char *sql)
{
	sqlite3 *raw = NULL;
	CHECK_EQ(sqlite3_open(db, &raw), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
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

#endif
