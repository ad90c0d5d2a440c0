/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quota files for `aidc sim --quota-file` (docs/tenancy.md "In the
 * simulator"): a CSV with one row per account, columns
 *   account        the VC (Philly, Helios) or partition (AIDC trace) label
 *                  of the jobs charged to it
 *   quota_devices  nominal quota of devices (-1 = none)
 * and optional borrow_limit, lend_limit (-1 = no bound, the default),
 * shares (fair share under --policy multifactor, 1 by default), and CPU and
 * memory quotas quota_cpus, borrow_limit_cpus, lend_limit_cpus,
 * quota_mem_gib, borrow_limit_mem_gib, lend_limit_mem_gib (-1 = none, the
 * default), and parent: the account's organization, another row of the
 * file. Every value is checked against the same ranges as the live center's
 * accounts; a bad row is refused naming the file, line and column. Accounts
 * without a parent form one cohort; the projects of an organization form its
 * cohort, capped by the organization's row (quota_devices, quota_cpus,
 * quota_mem_gib; an organization neither borrows nor lends, and has no
 * parent itself). Quotas per device model: columns quota_gpu:MODEL (the
 * nominal devices of that model; an empty cell: no entry), and optional
 * borrow_limit_gpu:MODEL and lend_limit_gpu:MODEL (-1 or empty = no bound),
 * at most SIM_MAX_QUOTA_MODELS models; MODEL is matched against the
 * cluster's models (any case) when the run starts (engine.c).
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

/* Resolves each row's parent to the row it names (two levels: an
 * organization has no parent, and neither borrows nor lends). */
static int link_orgs(const char *file, struct sim_quota *v, size_t n, struct aidc_err *e)
{
	for (size_t i = 0; i < n; i++) {
		if (!v[i].parent[0])
			continue;
		for (size_t k = 0; k < n && v[i].org < 0; k++)
			if (!strcmp(v[k].name, v[i].parent))
				v[i].org = (int32_t)k;
		if (v[i].org < 0)
			return aidc_errf(e, AIDC_E_PARSE,
					 "%s:%zu: parent '%s' is not an account of the file", file,
					 v[i].line, v[i].parent);
		v[v[i].org].is_org = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (!v[i].is_org)
			continue;
		if (v[i].org >= 0)
			return aidc_errf(e, AIDC_E_PARSE,
					 "%s:%zu: '%s' is an organization (a parent) and has a parent "
					 "itself; organizations are the top level",
					 file, v[i].line, v[i].name);
		bool mlimit = false;
		for (uint32_t k = 0; k < v[i].nmodels; k++)
			mlimit |= v[i].models[k].borrow_limit >= 0 || v[i].models[k].lend_limit >= 0;
		if (mlimit || v[i].borrow_limit >= 0 || v[i].lend_limit >= 0 || v[i].cpus.borrow_limit >= 0 ||
		    v[i].cpus.lend_limit >= 0 || v[i].mem_mib.borrow_limit >= 0 ||
		    v[i].mem_mib.lend_limit >= 0)
			return aidc_errf(e, AIDC_E_PARSE,
					 "%s:%zu: organization '%s' has a borrow or lend limit; an "
					 "organization's quotas are caps on its projects",
					 file, v[i].line, v[i].name);
	}
	return 0;
}

/* The per-model columns of the header: models[k] with its quota, borrow and
 * lend column (-1 = none); their count. */
struct mcols {
	const char *model[SIM_MAX_QUOTA_MODELS];
	int col[SIM_MAX_QUOTA_MODELS][3];
	uint32_t n;
};

static const char *const mprefix[3] = {"quota_gpu:", "borrow_limit_gpu:", "lend_limit_gpu:"};

static int model_cols(const struct aidc_csv *csv, struct mcols *mc, struct aidc_err *e)
{
	mc->n = 0;
	for (size_t i = 0; i < csv->nhdr; i++) {
		const char *h = csv->hdr[i];
		if (strncmp(h, mprefix[0], strlen(mprefix[0])) != 0)
			continue;
		const char *m = h + strlen(mprefix[0]);
		if (!*m || strlen(m) >= AIDC_MAX_NAME_BYTES || mc->n >= SIM_MAX_QUOTA_MODELS)
			return aidc_errf(e, AIDC_E_PARSE,
					 "%s: column '%s': a model name of 1..%u bytes, at most %u "
					 "models",
					 csv->name, h, AIDC_MAX_NAME_BYTES - 1, SIM_MAX_QUOTA_MODELS);
		mc->model[mc->n] = m;
		for (int k = 0; k < 3; k++) {
			char col[2 * AIDC_MAX_NAME_BYTES];
			snprintf(col, sizeof col, "%s%s", mprefix[k], m);
			mc->col[mc->n][k] = aidc_csv_col(csv, col);
		}
		mc->n++;
	}
	/* A borrow or lend column needs its model's quota column. */
	for (size_t i = 0; i < csv->nhdr; i++)
		for (int k = 1; k < 3; k++) {
			const char *h = csv->hdr[i];
			if (strncmp(h, mprefix[k], strlen(mprefix[k])) != 0)
				continue;
			char q[2 * AIDC_MAX_NAME_BYTES];
			snprintf(q, sizeof q, "%s%s", mprefix[0], h + strlen(mprefix[k]));
			if (aidc_csv_col(csv, q) < 0)
				return aidc_errf(e, AIDC_E_PARSE, "%s: column '%s' without '%s'",
						 csv->name, h, q);
		}
	return 0;
}

/* Row q's per-model entries from the current line. */
static int model_values(const struct aidc_csv *csv, const struct mcols *mc, struct sim_quota *q,
			struct aidc_err *e)
{
	for (uint32_t i = 0; i < mc->n; i++) {
		int64_t v[3];
		for (int k = 0; k < 3; k++) {
			char what[2 * AIDC_MAX_NAME_BYTES];
			snprintf(what, sizeof what, "%s%s", mprefix[k], mc->model[i]);
			int rc = col_value(csv, mc->col[i][k], what, k ? -1 : 0, -1, &v[k], e);
			if (rc)
				return rc;
		}
		if (v[0] < 0 && (v[1] >= 0 || v[2] >= 0))
			return aidc_errf(e, AIDC_E_PARSE,
					 "%s:%zu: a borrow or lend limit of %s without its quota", csv->name,
					 csv->line, mc->model[i]);
		if (v[0] < 0)
			continue;
		struct sim_model_quota *m = &q->models[q->nmodels++];
		snprintf(m->model, sizeof m->model, "%s", mc->model[i]);
		m->nominal = v[0];
		m->borrow_limit = v[1];
		m->lend_limit = v[2];
	}
	return 0;
}

void sim_quota_init(struct sim_quota *q)
{
	*q = (struct sim_quota){.nominal_devices = -1, .borrow_limit = -1, .lend_limit = -1,
				.org = -1};
}

static int quota_rows(struct aidc_csv *csv, struct sim_quota **out, size_t *n, struct aidc_err *e)
{
	int ca, cq, rc = sim_need_col(csv, "account", &ca, e);
	if (!rc)
		rc = sim_need_col(csv, "quota_devices", &cq, e);
	if (rc)
		return rc;
	int cb = aidc_csv_col(csv, "borrow_limit"), cl = aidc_csv_col(csv, "lend_limit");
	int cs = aidc_csv_col(csv, "shares"), cp = aidc_csv_col(csv, "parent");
	static const char *const rcols[6] = {"quota_cpus",	     "borrow_limit_cpus",
					     "lend_limit_cpus",	     "quota_mem_gib",
					     "borrow_limit_mem_gib", "lend_limit_mem_gib"};
	int cr[6];
	for (int k = 0; k < 6; k++)
		cr[k] = aidc_csv_col(csv, rcols[k]);
	struct mcols mc;
	if ((rc = model_cols(csv, &mc, e)) != 0)
		return rc;
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
		struct sim_quota q;
		sim_quota_init(&q);
		snprintf(q.name, sizeof q.name, "%s", name);
		const char *parent = cp >= 0 ? aidc_csv_get(csv, cp) : "";
		if (strlen(parent) >= sizeof q.parent || !strcmp(parent, name))
			return aidc_errf(e, AIDC_E_PARSE,
					 "%s:%zu: parent '%s' must name another account of the file",
					 csv->name, csv->line, parent);
		snprintf(q.parent, sizeof q.parent, "%s", parent);
		q.line = csv->line;
		if ((rc = col_value(csv, cq, "quota_devices", -1, -1, &q.nominal_devices, e)) ||
		    (rc = col_value(csv, cb, "borrow_limit", -1, -1, &q.borrow_limit, e)) ||
		    (rc = col_value(csv, cl, "lend_limit", -1, -1, &q.lend_limit, e)) ||
		    (rc = col_value(csv, cs, "shares", 1, 1, &q.shares, e)))
			return rc;
		int64_t r[6];
		for (int k = 0; k < 6; k++)
			if ((rc = col_value(csv, cr[k], rcols[k], -1, -1, &r[k], e)))
				return rc;
		q.cpus = (struct sched_res_quota){r[0] >= 0, r[0], r[1], r[2]};
		for (int k = 3; k < 6; k++)
			r[k] = r[k] < 0 ? -1 : r[k] * 1024; /* GiB -> MiB */
		q.mem_mib = (struct sched_res_quota){r[3] >= 0, r[3], r[4], r[5]};
		if ((rc = model_values(csv, &mc, &q, e)) != 0)
			return rc;
		AIDC_GROW(*out, cap, *n + 1);
		(*out)[(*n)++] = q;
	}
	if (rc == 0 && *n == 0)
		return aidc_errf(e, AIDC_E_PARSE, "%s: no account", csv->name);
	return rc ? rc : link_orgs(csv->name, *out, *n, e);
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
