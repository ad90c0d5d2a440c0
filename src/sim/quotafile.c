/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quota files for `aidc sim --quota-file` (docs/tenancy.md "In the
 * simulator"): a CSV with one row per account, columns
 *   account        the VC (Philly, Helios) or partition (AIDC trace) label
 *                  of the jobs charged to it
 *   quota_devices  nominal quota of devices (-1 = none)
 * and optional borrow_limit, lend_limit (-1 = no bound, the default) and
 * shares (fair share under --policy multifactor, 1 by default). Every value
 * is checked against the same ranges as the live center's accounts; a bad
 * row is refused naming the file, line and column. Accounts form one cohort.
 */
#include "sim/sim_int.h"

static int col_value(const struct aidc_csv *csv, int col, const char *what, int64_t lo,
		     int64_t dflt, int64_t *out, struct aidc_err *e)
{
	const char *v = col >= 0 ? aidc_csv_get(csv, col) : "";
	if (!*v) {
		*out = dflt;
		return 0;
	}
	if (aidc_parse_i64(v, lo, AIDC_MAX_TENANCY_LIMIT, out))
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: %s '%s' is not an integer in %lld..%d",
				 csv->name, csv->line, what, v, (long long)lo,
				 AIDC_MAX_TENANCY_LIMIT);
	return 0;
}

static int quota_rows(struct aidc_csv *csv, struct sim_quota **out, size_t *n, struct aidc_err *e)
{
	int ca, cq, rc = sim_need_col(csv, "account", &ca, e);
	if (!rc)
		rc = sim_need_col(csv, "quota_devices", &cq, e);
	if (rc)
		return rc;
	int cb = aidc_csv_col(csv, "borrow_limit"), cl = aidc_csv_col(csv, "lend_limit");
	int cs = aidc_csv_col(csv, "shares");
	size_t cap = 0;
	while ((rc = aidc_csv_next(csv, e)) > 0) {
		const char *name = aidc_csv_get(csv, ca);
		if (!*name || strlen(name) >= AIDC_MAX_NAME_BYTES)
			return aidc_errf(e, AIDC_E_PARSE,
					 "%s:%zu: account name of 1..%u bytes "
					 "required",
					 csv->name, csv->line, AIDC_MAX_NAME_BYTES - 1);
		for (size_t i = 0; i < *n; i++)
			if (!strcmp((*out)[i].name, name))
				return aidc_errf(e, AIDC_E_PARSE,
						 "%s:%zu: account '%s' appears twice", csv->name,
						 csv->line, name);
		if (*n >= AIDC_MAX_ACCOUNTS)
			return aidc_errf(e, AIDC_E_LIMIT, "%s:%zu: more than %u accounts",
					 csv->name, csv->line, AIDC_MAX_ACCOUNTS);
		struct sim_quota q = {0};
		snprintf(q.name, sizeof q.name, "%s", name);
		if ((rc = col_value(csv, cq, "quota_devices", -1, -1, &q.nominal_devices, e)) ||
		    (rc = col_value(csv, cb, "borrow_limit", -1, -1, &q.borrow_limit, e)) ||
		    (rc = col_value(csv, cl, "lend_limit", -1, -1, &q.lend_limit, e)) ||
		    (rc = col_value(csv, cs, "shares", 1, 1, &q.shares, e)))
			return rc;
		AIDC_GROW(*out, cap, *n + 1);
		(*out)[(*n)++] = q;
	}
	if (rc == 0 && *n == 0)
		return aidc_errf(e, AIDC_E_PARSE, "%s: no account", csv->name);
	return rc;
}

int sim_quotas_load(const char *path, struct sim_quota **out, size_t *n, struct aidc_err *e)
{
	struct aidc_csv csv;
	*out = NULL;
	*n = 0;
	int rc = aidc_csv_open_file(&csv, path, e);
	if (rc)
		return rc;
	rc = aidc_csv_read_header(&csv, e);
	if (!rc)
		rc = quota_rows(&csv, out, n, e);
	aidc_csv_close(&csv);
	if (rc) {
		aidc_free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}
