/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `aidc sacct` reads and prints the way Slurm's sacct does: its time
 * arguments (-S/-E: "2026-12-06T10:00", "now-2hours", "today"), its
 * -o/--format field lists ("JobID,JobName%30,State") and its fixed-width
 * cells (right-justified unless the width is negative; a value too long is
 * cut with a '+' at the end). Kept apart from slurmfmt.h (squeue's %-letter
 * formats) since sacct names its fields; pure string work, no I/O, so
 * tests/util/test_sacctfmt.c covers it.
 */
#ifndef AIDC_UTIL_SACCTFMT_H
#define AIDC_UTIL_SACCTFMT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

/* sacct's fields that aidc fills, in the order of the table in sacctfmt.c. */
enum aidc_sacct_field {
	AIDC_SAF_JOBID,
	AIDC_SAF_JOBNAME,
	AIDC_SAF_PARTITION,
	AIDC_SAF_ACCOUNT,
	AIDC_SAF_ALLOCCPUS,
	AIDC_SAF_ALLOCTRES,
	AIDC_SAF_STATE,
	AIDC_SAF_EXITCODE,
	AIDC_SAF_START,
	AIDC_SAF_END,
	AIDC_SAF_ELAPSED,
	AIDC_SAF_SUBMIT,
	AIDC_SAF_USER,
	AIDC_SAF_NNODES,
	AIDC_SAF_NODELIST,
	AIDC_SAF_TIMELIMIT,
	AIDC_SAF_REQMEM,
	AIDC_SAF_COUNT_
};

/* Widest field a list may ask for ("JobName%5000" is refused). */
#define AIDC_SACCT_MAX_WIDTH 1024
/* Most fields one list may name. */
#define AIDC_SACCT_MAX_FIELDS 64

/* One column: its field and width (negative: left-justified, as in sacct). */
struct aidc_sacct_col {
	enum aidc_sacct_field field;
	int width;
};

/* sacct's name of a field ("JobID") and its default width (-12: 12, left). */
const char *aidc_sacct_field_name(enum aidc_sacct_field f);
int aidc_sacct_field_width(enum aidc_sacct_field f);

/*
 * A comma list of field names, any case, each with an optional "%N" width
 * ("jobid,JobName%30,State%-12"), into cols (at most AIDC_SACCT_MAX_FIELDS);
 * *n is set. Unknown names are refused together, naming each; so are an
 * empty item and a bad width.
 */
int aidc_sacct_fields_parse(const char *list, struct aidc_sacct_col *cols, size_t *n,
			    struct aidc_err *e);

/*
 * One cell appended to out as sacct prints it: padded to |width|
 * (right-justified for a positive width), a longer value cut to |width| with
 * '+' as its last character, then one space.
 */
int aidc_sacct_cell(struct aidc_buf *out, const char *v, int width);

/*
 * A time as sacct takes it for -S/-E, in local time: YYYY-MM-DD[THH:MM[:SS]],
 * MM/DD[/YY], HH:MM[:SS] (today), "now", "today" or "midnight" (00:00 today),
 * "noon", and now[+|-]N[seconds|minutes|hours|days|weeks] (default seconds;
 * units may be shortened: "now-2h", "now-3days"). now is the current Unix
 * time. Anything else is refused naming it.
 */
int aidc_sacct_time_parse(const char *s, int64_t now, int64_t *out, struct aidc_err *e);

/* A duration as sacct prints Elapsed and Timelimit: "HH:MM:SS", "D-HH:MM:SS". */
void aidc_sacct_duration(int64_t s, char *buf, size_t n);

#endif
