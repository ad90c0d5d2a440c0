/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private helpers shared by the simulator's .c files: the row loop every
 * trace reader uses (with --skip-bad-rows handling), field accessors, and the
 * per-format row parsers. Not part of the public interface (sim.h).
 */
#ifndef AIDC_SIM_SIM_INT_H
#define AIDC_SIM_SIM_INT_H

#include "sim/sim.h"
#include "util/util.h"

/* Parses the current row of c into *j (zeroed by the caller). Returns 0, 1
 * when the row is not a job (a comment), or a negative code with a
 * "file:line: problem" message in e. */
typedef int (*sim_row_fn)(void *ctx, struct aidc_csv *c, struct sim_trace *t,
			  struct sim_job *j, struct aidc_err *e);

/*
 * Reads every remaining row of c through fn and appends the jobs to t.
 * Malformed rows (CSV syntax or fn's complaint) fail the read, or with
 * o->skip_bad_rows are counted in t->bad_rows (at most AIDC_MAX_BAD_ROWS) and
 * skipped. Limits (too many jobs) always fail.
 */
int sim_read_rows(struct aidc_csv *c, const struct sim_read_opts *o, struct sim_trace *t,
		  sim_row_fn fn, void *ctx, struct aidc_err *e);

/* Field col of the current row, "" when col < 0 (column absent). Borrowed. */
static inline const char *sim_fld(const struct aidc_csv *c, int col)
{
	return col < 0 ? "" : aidc_csv_get(c, col);
}

/* Interns s into t's strtab with a file:line message on failure. */
int sim_intern_field(struct aidc_csv *c, struct sim_trace *t, const char *col, const char *s,
		     uint32_t *out, struct aidc_err *e);
/* A required column's index, or AIDC_E_PARSE naming the file and the column. */
int sim_need_col(const struct aidc_csv *c, const char *name, int *out, struct aidc_err *e);
/* Seconds from a number that may have a fraction ("66.0"), rounded to nearest,
 * in [0, AIDC_MAX_DURATION_S]. */
int sim_parse_seconds(const char *s, int64_t *out);

/* Format readers: c is open with its header read (AIDC: version line checked). */
int sim_read_philly(struct aidc_csv *c, const struct sim_read_opts *o, struct sim_trace *t,
		    struct aidc_err *e);
int sim_read_helios(struct aidc_csv *c, const struct sim_read_opts *o, struct sim_trace *t,
		    struct aidc_err *e);
/* Reads the version line and the header itself. */
int sim_read_aidc(struct aidc_csv *c, const struct sim_read_opts *o, struct sim_trace *t,
		  struct aidc_err *e);

#endif
