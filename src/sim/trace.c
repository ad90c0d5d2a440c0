/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Traces in memory: the interned string table, the job array with its stable
 * sort, the row loop shared by every reader (including --skip-bad-rows), and
 * the entry points that open a file or a memory block and dispatch to the
 * reader of one format (trace_philly.c, trace_helios.c, trace_aidc.c).
 */
#include <math.h>

#include "sim/sim_int.h"

/* ---- string table --------------------------------------------------------- */

void sim_strtab_init(struct sim_strtab *t)
{
	aidc_intern_init(&t->tab);
}

void sim_strtab_release(struct sim_strtab *t)
{
	aidc_intern_release(&t->tab);
}

int sim_strtab_intern(struct sim_strtab *t, const char *s)
{
	uint32_t id;
	if (strlen(s) >= AIDC_MAX_NAME_BYTES)
		return AIDC_E_LIMIT;
	if (t->tab.n == 0 && aidc_intern(&t->tab, "", INT32_MAX, &id) != 0)
		return AIDC_E_LIMIT; /* index 0 is "" */
	int rc = aidc_intern(&t->tab, s, INT32_MAX, &id);
	return rc ? rc : (int)id;
}

const char *sim_strtab_get(const struct sim_strtab *t, uint32_t i)
{
	const char *s = aidc_intern_get(&t->tab, i);
	return s ? s : "";
}

uint32_t sim_strtab_count(const struct sim_strtab *t)
{
	return t->tab.n;
}

/* ---- trace ---------------------------------------------------------------- */

void sim_trace_init(struct sim_trace *t)
{
	memset(t, 0, sizeof *t);
	sim_strtab_init(&t->strs);
}

void sim_trace_release(struct sim_trace *t)
{
	aidc_free(t->jobs);
	sim_strtab_release(&t->strs);
	memset(t, 0, sizeof *t);
}

int sim_trace_append(struct sim_trace *t, const struct sim_job *j, size_t max_jobs,
		     struct aidc_err *e)
{
	if (!max_jobs || max_jobs > AIDC_MAX_TRACE_JOBS)
		max_jobs = AIDC_MAX_TRACE_JOBS;
	if (t->n >= max_jobs)
		return aidc_errf(e, AIDC_E_LIMIT, "trace has more than %zu jobs", max_jobs);
	AIDC_GROW(t->jobs, t->cap, t->n + 1);
	t->jobs[t->n] = *j;
	t->jobs[t->n].seq = (uint32_t)t->n;
	t->n++;
	return 0;
}

static int cmp_job(const void *a, const void *b)
{
	const struct sim_job *x = a, *y = b;
	if (x->submit_s != y->submit_s)
		return x->submit_s < y->submit_s ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void sim_trace_sort(struct sim_trace *t)
{
	/* (submit_s, seq) is a total order, so qsort's instability cannot show. */
	if (t->n > 1)
		qsort(t->jobs, t->n, sizeof *t->jobs, cmp_job);
	for (size_t i = 0; i < t->n; i++)
		t->jobs[i].seq = (uint32_t)i;
}

static const char *const format_names[] = {"philly", "helios", "aidc"};

int sim_format_parse(const char *s)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(format_names); i++)
		if (strcmp(s, format_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *sim_format_name(enum sim_format f)
{
	return (size_t)f < AIDC_ARRAY_LEN(format_names) ? format_names[f] : "?";
}

/* ---- shared reader helpers ------------------------------------------------ */

int sim_need_col(const struct aidc_csv *c, const char *name, int *out, struct aidc_err *e)
{
	*out = aidc_csv_col(c, name);
	if (*out < 0)
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: header has no '%s' column", c->name,
				 c->line, name);
	return 0;
}

int sim_intern_field(struct aidc_csv *c, struct sim_trace *t, const char *col, const char *s,
		     uint32_t *out, struct aidc_err *e)
{
	int idx = sim_strtab_intern(&t->strs, s);
	if (idx < 0)
		return aidc_errf(e, idx, "%s:%zu: %s is longer than %u bytes", c->name, c->line,
				 col, AIDC_MAX_NAME_BYTES - 1);
	*out = (uint32_t)idx;
	return 0;
}

int sim_parse_seconds(const char *s, int64_t *out)
{
	double d;
	int rc = aidc_parse_f64(s, 0.0, (double)AIDC_MAX_DURATION_S, &d);
	if (rc)
		return rc;
	*out = (int64_t)llround(d);
	return 0;
}

int sim_read_rows(struct aidc_csv *c, const struct sim_read_opts *o, struct sim_trace *t,
		  sim_row_fn fn, void *ctx, struct aidc_err *e)
{
	for (;;) {
		/* A fresh error per row: skipped rows must not occupy the caller's
		 * root-cause slot, and the next bad row needs its own message. */
		struct aidc_err re;
		aidc_err_clear(&re);
		int rc = aidc_csv_next(c, &re);
		if (rc == 0)
			return 0;
		struct sim_job j;
		memset(&j, 0, sizeof j);
		if (rc > 0)
			rc = fn(ctx, c, t, &j, &re);
		if (rc > 0)
			continue; /* not a job (a comment) */
		if (rc == 0) {
			j.line = c->line > UINT32_MAX ? UINT32_MAX : (uint32_t)c->line;
			rc = sim_trace_append(t, &j, o ? o->max_jobs : 0, &re);
			if (rc)
				return aidc_errf(e, rc, "%s:%zu: %s", c->name, c->line, re.msg);
			continue;
		}
		if (!o || !o->skip_bad_rows)
			return aidc_errf(e, rc, "%s", aidc_err_text(&re, rc));
		if (t->bad_rows == 0)
			snprintf(t->first_bad, sizeof t->first_bad, "%s", aidc_err_text(&re, rc));
		if (++t->bad_rows > AIDC_MAX_BAD_ROWS)
			return aidc_errf(e, AIDC_E_LIMIT, "%s: more than %u bad rows; giving up",
					 c->name, AIDC_MAX_BAD_ROWS);
	}
}

/* ---- entry points --------------------------------------------------------- */

static int read_open(struct aidc_csv *c, enum sim_format fmt, const struct sim_read_opts *o,
		     struct sim_trace *t, struct aidc_err *e)
{
	int rc;
	switch (fmt) {
	case SIM_FORMAT_PHILLY:
		rc = aidc_csv_read_header(c, e);
		if (rc == 0)
			rc = sim_read_philly(c, o, t, e);
		break;
	case SIM_FORMAT_HELIOS:
		rc = aidc_csv_read_header(c, e);
		if (rc == 0)
			rc = sim_read_helios(c, o, t, e);
		break;
	case SIM_FORMAT_AIDC:
		rc = sim_read_aidc(c, o, t, e);
		break;
	default:
		rc = aidc_errf(e, AIDC_E_INVAL, "unknown trace format %d", (int)fmt);
	}
	if (rc == 0)
		sim_trace_sort(t);
	return rc;
}

int sim_trace_load(const char *path, enum sim_format fmt, const struct sim_read_opts *o,
		   struct sim_trace *t, struct aidc_err *e)
{
	struct aidc_csv c;
	int rc = aidc_csv_open_file(&c, path, e);
	if (rc)
		return rc;
	rc = read_open(&c, fmt, o, t, e);
	aidc_csv_close(&c);
	return rc;
}

int sim_trace_load_mem(const char *name, const char *data, size_t len, enum sim_format fmt,
		       const struct sim_read_opts *o, struct sim_trace *t, struct aidc_err *e)
{
	struct aidc_csv c;
	aidc_csv_open_mem(&c, name, data, len);
	int rc = read_open(&c, fmt, o, t, e);
	aidc_csv_close(&c);
	return rc;
}
