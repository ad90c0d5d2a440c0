/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Choosing a store implementation from what the operator wrote (the
 * controller's `db` key): a postgresql:// or postgres:// URI opens the
 * PostgreSQL store, anything else is a SQLite file. Also the one place that
 * knows where a URI keeps its password, so that no message, log line or
 * listing ever shows it (store_redact).
 *
 * Built without libpq (it was absent at configure time), a PostgreSQL URI is
 * refused with AIDC_E_UNSUPPORTED naming the reason: never silently opened
 * as a SQLite file of that name.
 */
#include "store/store.h"
#include "util/util.h"

bool store_is_pg_uri(const char *where)
{
	return where && (strncmp(where, "postgresql://", 13) == 0 ||
			 strncmp(where, "postgres://", 11) == 0);
}

/* Where a URI's password is: up to two spans [b, e) of uri (the userinfo's
 * and a password= parameter's); returns how many. */
static int password_spans(const char *uri, const char *b[2], const char *e[2])
{
	int n = 0;
	if (!store_is_pg_uri(uri))
		return 0;
	const char *p = strstr(uri, "://") + 3;
	size_t alen = strcspn(p, "/?");
	const char *at = NULL;
	for (const char *q = p; q < p + alen; q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (colon) {
			b[n] = colon + 1;
			e[n++] = at;
		}
	}
	const char *qm = strchr(p, '?');
	for (const char *k = qm; k && n < 2; k = strchr(k + 1, '&')) {
		if (strncmp(k + 1, "password=", 9) == 0) {
			b[n] = k + 10;
			e[n++] = k + 10 + strcspn(k + 10, "&");
		}
	}
	return n;
}

bool store_uri_password(const char *uri, char *out, size_t n)
{
	const char *b[2], *e[2];
	if (password_spans(uri, b, e) == 0 || e[0] == b[0] || n == 0)
		return false;
	snprintf(out, n, "%.*s", (int)(e[0] - b[0]), b[0]);
	return true;
}

void store_redact(const char *where, char *out, size_t n)
{
	const char *b[2] = {NULL, NULL}, *e[2] = {NULL, NULL};
	int k = password_spans(where, b, e);
	const char *p = where ? where : "";
	struct aidc_buf buf;
	/* Never the password's bytes: only the text around its spans. */
	aidc_buf_init(&buf, strlen(p) + 8);
	for (int i = 0; i < k; i++) {
		aidc_buf_append(&buf, p, (size_t)(b[i] - p));
		aidc_buf_puts(&buf, "***");
		p = e[i];
	}
	aidc_buf_puts(&buf, p);
	snprintf(out, n, "%s", aidc_buf_str(&buf));
	aidc_buf_release(&buf);
}

#ifndef AIDC_HAVE_LIBPQ
int store_open_pg(const char *uri, const struct store_options *o, struct store **out,
		  struct aidc_err *e)
{
	(void)uri;
	(void)o;
	*out = NULL;
	return aidc_errf(e, AIDC_E_UNSUPPORTED,
			 "store: this aidc was built without PostgreSQL support (libpq was not "
			 "found at configure time: install libpq-dev, scripts/deps.sh, and "
			 "rebuild)");
}
#endif

int store_open(const char *where, const struct store_options *o, struct store **out,
	       struct aidc_err *e)
{
	if (store_is_pg_uri(where))
		return store_open_pg(where, o, out, e);
	return store_open_sqlite(where, o, out, e);
}
