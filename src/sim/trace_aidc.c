/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AIDC's own trace format, version 1 (docs/trace-formats.md): a version line
 * "# aidc-trace 1" followed by a CSV with a header. It expresses everything
 * the core's job model has: gang size, per-task CPU/memory/devices, fractional
 * devices, model constraints with alternatives, partition, user, tenant, name,
 * priority, time limit, prediction, true duration and the preemptible flag.
 * Decoders reject unknown versions (STYLE.md 13). This file has the reader and
 * the writer that `aidc sim --generate` uses. Lines starting with '#' after
 * the version line are comments (they go through the CSV tokenizer, so they
 * must not hold an unbalanced double quote).
 */
#include <math.h>

#include "sim/sim_int.h"

#define AIDC_TRACE_MAGIC "# aidc-trace"

enum {
	C_ID, C_SUBMIT, C_DUR, C_TASKS, C_CPU, C_MEM, C_DEVS, C_FRAC, C_MODEL, C_PART, C_USER,
	C_TENANT, C_NAME, C_PRIO, C_LIMIT, C_PRED, C_PREEMPT, C_GPUS, C_NCOLS
};

/* Column names in the order the writer emits them. */
static const char *const col_names[C_NCOLS] = {
	"id",     "submit", "duration", "tasks",    "cpu",       "mem_mib",
	"devices", "fraction", "model",  "partition", "user",     "tenant",
	"name",   "priority", "time_limit", "predicted", "preemptible", "gpus",
};

struct aidc_cols {
	int col[C_NCOLS];
};

static int bad(struct aidc_csv *c, struct aidc_err *e, int col, const char *v, const char *what)
{
	return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: %s '%s' %s", c->name, c->line, col_names[col],
			 v, what);
}

static int opt_i64(struct aidc_csv *c, const struct aidc_cols *k, int col, int64_t min,
		   int64_t max, int64_t dflt, int64_t *out, struct aidc_err *e)
{
	const char *v = sim_fld(c, k->col[col]);
	if (!*v) {
		*out = dflt;
		return 0;
	}
	if (aidc_parse_i64(v, min, max, out)) {
		char what[96];
		snprintf(what, sizeof what, "is not an integer in %lld..%lld", (long long)min,
			 (long long)max);
		return bad(c, e, col, v, what);
	}
	return 0;
}

static int opt_dur(struct aidc_csv *c, const struct aidc_cols *k, int col, int64_t *out,
		   struct aidc_err *e)
{
	const char *v = sim_fld(c, k->col[col]);
	*out = 0;
	if (*v && aidc_parse_duration(v, out))
		return bad(c, e, col, v, "is not a duration (seconds, 15m, 2h, HH:MM:SS ...)");
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes"}, *const no[] = {"0", "false", "no"};
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return AIDC_E_PARSE;
}

/* tasks / devices / fraction / gpus: the gang's shape. */
static int aidc_shape(struct aidc_csv *c, const struct aidc_cols *k, struct sim_job *j,
		      struct aidc_err *e)
{
	int64_t v;
	const char *gpus = sim_fld(c, k->col[C_GPUS]);
	if (*gpus) {
		if (*sim_fld(c, k->col[C_TASKS]) || *sim_fld(c, k->col[C_DEVS]))
			return bad(c, e, C_GPUS, gpus, "cannot be combined with tasks/devices");
		if (aidc_parse_i64(gpus, 0, AIDC_MAX_TASKS_PER_JOB, &v))
			return bad(c, e, C_GPUS, gpus, "is not a device count");
		j->ntasks = 1;
		j->ndev = (uint32_t)v;
		j->flags |= SIM_JOB_SHAPE_AUTO;
	} else {
		int rc = opt_i64(c, k, C_TASKS, 1, AIDC_MAX_TASKS_PER_JOB, 1, &v, e);
		if (rc)
			return rc;
		j->ntasks = (uint32_t)v;
		rc = opt_i64(c, k, C_DEVS, 0, AIDC_MAX_DEVICES_PER_NODE, 1, &v, e);
		if (rc)
			return rc;
		j->ndev = (uint32_t)v;
	}
	j->dev_milli = AIDC_DEVICE_MILLI;
	const char *f = sim_fld(c, k->col[C_FRAC]);
	if (*f) {
		double x;
		if (aidc_parse_f64(f, 0.001, 1.0, &x))
			return bad(c, e, C_FRAC, f, "is not a device share in 0.001..1");
		j->dev_milli = (uint32_t)llround(x * AIDC_DEVICE_MILLI);
		if (j->dev_milli < AIDC_DEVICE_MILLI &&
		    (j->ndev != 1 || (j->flags & SIM_JOB_SHAPE_AUTO)))
			return bad(c, e, C_FRAC, f, "needs exactly one device per task");
	}
	return 0;
}

static int aidc_strings(struct aidc_csv *c, const struct aidc_cols *k, struct sim_trace *t,
			struct sim_job *j, struct aidc_err *e)
{
	static const int cols[] = {C_MODEL, C_PART, C_USER, C_TENANT, C_NAME};
	uint32_t *dst[] = {&j->model, &j->vc, &j->user, &j->tenant, &j->name};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cols); i++) {
		int rc = sim_intern_field(c, t, col_names[cols[i]], sim_fld(c, k->col[cols[i]]),
					  dst[i], e);
		if (rc)
			return rc;
	}
	/* Each model alternative must be a plausible name: no empty alternatives. */
	const char *m = sim_strtab_get(&t->strs, j->model);
	if (*m && (m[0] == '|' || m[strlen(m) - 1] == '|' || strstr(m, "||")))
		return bad(c, e, C_MODEL, m, "has an empty alternative");
	return 0;
}

static int aidc_row(void *ctx, struct aidc_csv *c, struct sim_trace *t, struct sim_job *j,
		    struct aidc_err *e)
{
	const struct aidc_cols *k = ctx;
	if (c->fields[0][0] == '#')
		return 1; /* a comment line */
	int64_t v;
	int rc = opt_i64(c, k, C_ID, 0, INT64_MAX, (int64_t)t->n + 1, &v, e);
	if (rc)
		return rc;
	j->id = (uint64_t)v;
	const char *s = sim_fld(c, k->col[C_SUBMIT]);
	if (aidc_parse_datetime(s, &j->submit_s))
		return bad(c, e, C_SUBMIT, s, "is not a time (seconds or YYYY-MM-DD HH:MM:SS)");
	s = sim_fld(c, k->col[C_DUR]);
	if (aidc_parse_duration(s, &j->duration_s))
		return bad(c, e, C_DUR, s, "is not a duration (seconds, 15m, 2h, HH:MM:SS ...)");
	rc = aidc_shape(c, k, j, e);
	if (rc)
		return rc;
	s = sim_fld(c, k->col[C_CPU]);
	if (*s) {
		double x;
		if (aidc_parse_f64(s, 0.0, AIDC_MAX_NODE_CPU_MILLI / 1000.0, &x))
			return bad(c, e, C_CPU, s, "is not a number of CPU cores");
		j->cpu_milli = (uint32_t)llround(x * 1000.0);
	}
	rc = opt_i64(c, k, C_MEM, 0, (int64_t)AIDC_MAX_NODE_MEM_MIB, 0, &v, e);
	if (rc)
		return rc;
	j->mem_mib = (uint64_t)v;
	rc = opt_i64(c, k, C_PRIO, AIDC_MIN_PRIORITY, AIDC_MAX_PRIORITY, 0, &v, e);
	if (rc)
		return rc;
	j->priority = (int32_t)v;
	rc = opt_dur(c, k, C_LIMIT, &j->time_limit_s, e);
	if (!rc)
		rc = opt_dur(c, k, C_PRED, &j->predicted_s, e);
	if (rc)
		return rc;
	bool pre = true;
	s = sim_fld(c, k->col[C_PREEMPT]);
	if (*s && parse_bool(s, &pre))
		return bad(c, e, C_PREEMPT, s, "is not 0/1/true/false/yes/no");
	if (pre)
		j->flags |= SIM_JOB_PREEMPTIBLE;
	return aidc_strings(c, k, t, j, e);
}

struct id_line {
	uint64_t id;
	uint32_t line;
};

static int cmp_id_line(const void *a, const void *b)
{
	const struct id_line *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Ids name jobs in every output (per-job CSV, messages), so two rows with one
 * id would make those outputs ambiguous: reject the trace, naming the earliest
 * line that repeats an id and where that id first appeared. O(n log n) time,
 * 16 bytes per job (n is already bounded by AIDC_MAX_TRACE_JOBS). */
static int check_unique_ids(const char *name, const struct sim_trace *t, struct aidc_err *e)
{
	if (t->n < 2)
		return 0;
	struct id_line *v = aidc_calloc(t->n, sizeof *v);
	for (size_t i = 0; i < t->n; i++)
		v[i] = (struct id_line){t->jobs[i].id, t->jobs[i].line};
	qsort(v, t->n, sizeof *v, cmp_id_line);
	size_t best = 0; /* index of the repeat with the smallest line; 0 = none */
	for (size_t i = 1; i < t->n; i++)
		if (v[i].id == v[i - 1].id && (i == 1 || v[i - 2].id != v[i].id) &&
		    (!best || v[i].line < v[best].line))
			best = i;
	int rc = 0;
	if (best)
		rc = aidc_errf(e, AIDC_E_PARSE, "%s:%u: id %" PRIu64 " appears twice (first on "
			       "line %u)", name, v[best].line, v[best].id, v[best - 1].line);
	aidc_free(v);
	return rc;
}

int sim_read_aidc(struct aidc_csv *c, const struct sim_read_opts *o, struct sim_trace *t,
		  struct aidc_err *e)
{
	int rc = aidc_csv_next(c, e);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return aidc_errf(e, AIDC_E_PARSE, "%s: empty file (no '%s N' version line)",
				 c->name, AIDC_TRACE_MAGIC);
	const char *l = c->fields[0];
	size_t ml = strlen(AIDC_TRACE_MAGIC);
	int64_t ver;
	if (c->nfields != 1 || strncmp(l, AIDC_TRACE_MAGIC, ml) != 0 || l[ml] != ' ' ||
	    aidc_parse_i64(l + ml + 1, 0, INT32_MAX, &ver))
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: first line must be '%s %d' (the "
				 "format version)", c->name, c->line, AIDC_TRACE_MAGIC,
				 SIM_AIDC_TRACE_VERSION);
	if (ver != SIM_AIDC_TRACE_VERSION)
		return aidc_errf(e, AIDC_E_VERSION, "%s:%zu: aidc trace format version %lld is "
				 "not supported (this build reads version %d)", c->name, c->line,
				 (long long)ver, SIM_AIDC_TRACE_VERSION);
	/* Comment lines ('#' first) may follow the version line and sit between rows. */
	do {
		rc = aidc_csv_next(c, e);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return aidc_errf(e, AIDC_E_PARSE, "%s: no header row after the version line",
					 c->name);
	} while (c->fields[0][0] == '#');
	for (size_t i = 0; i < c->nfields; i++)
		c->hdr[i] = aidc_strdup(c->fields[i]);
	c->nhdr = c->nfields;
	struct aidc_cols k;
	for (int i = 0; i < C_NCOLS; i++)
		k.col[i] = aidc_csv_col(c, col_names[i]);
	if (k.col[C_SUBMIT] < 0 || k.col[C_DUR] < 0)
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: header needs 'submit' and 'duration' "
				 "columns", c->name, c->line);
	rc = sim_read_rows(c, o, t, aidc_row, &k, e);
	if (rc == 0 && k.col[C_ID] >= 0)
		rc = check_unique_ids(c->name, t, e);
	return rc;
}

/* ---- writer --------------------------------------------------------------- */

int sim_trace_write_aidc(const struct sim_trace *t, FILE *out, struct aidc_err *e)
{
	fprintf(out, "%s %d\n", AIDC_TRACE_MAGIC, SIM_AIDC_TRACE_VERSION);
	for (int i = 0; i < C_NCOLS; i++)
		fprintf(out, "%s%s", i ? "," : "", col_names[i]);
	fputc('\n', out);
	const struct sim_strtab *st = &t->strs;
	for (size_t i = 0; i < t->n; i++) {
		const struct sim_job *j = &t->jobs[i];
		bool aut = j->flags & SIM_JOB_SHAPE_AUTO;
		fprintf(out, "%" PRIu64 ",%" PRId64 ",%" PRId64 ",", j->id, j->submit_s,
			j->duration_s);
		if (aut)
			fputs(",", out);
		else
			fprintf(out, "%u,", j->ntasks);
		fprintf(out, "%u.%03u,%" PRIu64 ",", j->cpu_milli / 1000, j->cpu_milli % 1000,
			j->mem_mib);
		if (!aut)
			fprintf(out, "%u", j->ndev);
		fprintf(out, ",%u.%03u,", j->dev_milli / 1000, j->dev_milli % 1000);
		const uint32_t strs[] = {j->model, j->vc, j->user, j->tenant, j->name};
		for (size_t k = 0; k < AIDC_ARRAY_LEN(strs); k++) {
			aidc_csv_put_field(out, sim_strtab_get(st, strs[k]));
			fputc(',', out);
		}
		fprintf(out, "%d,%" PRId64 ",%" PRId64 ",%d,", j->priority, j->time_limit_s,
			j->predicted_s, (j->flags & SIM_JOB_PREEMPTIBLE) ? 1 : 0);
		if (aut)
			fprintf(out, "%u", j->ndev);
		fputc('\n', out);
	}
	if (fflush(out) != 0 || ferror(out))
		return aidc_errf(e, AIDC_E_IO, "writing the trace failed: %s", strerror(errno));
	return 0;
}
