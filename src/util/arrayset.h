/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The index set of a job array (sbatch --array=1,3,5-9:2%4) as a few
 * stepped ranges: parsed once at submit, then kept compact while the
 * controller takes the lowest index for each element it starts and drops
 * the ones cancelled one by one. Memory is per range, never per index, so a
 * 100,000-element array pending costs a few bytes (docs/slurm.md "Job
 * arrays"). The text form is Slurm's: "3-9", "1-9:2", "1,4,7-9".
 */
#ifndef AIDC_UTIL_ARRAYSET_H
#define AIDC_UTIL_ARRAYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* lo, lo + step, ..., hi (hi = lo + k * step; step >= 1). */
struct aidc_arange {
	int64_t lo, hi, step;
};

/* Ranges in increasing order; their spans [lo, hi] never overlap. */
struct aidc_aset {
	struct aidc_arange *r;
	size_t n, cap;
	int64_t count; /* indices in the set */
};

/*
 * Parses Slurm's --array: items N, A-B or A-B:S joined by ',', then an
 * optional %LIMIT (0 = no throttle). Indices 0..AIDC_MAX_ARRAY_INDEX, at most
 * AIDC_MAX_ARRAY_TASKS of them (an index given twice counts once in the set
 * but twice against the cap), the spec at most AIDC_MAX_ARRAY_SPEC_BYTES.
 * On error *s is empty and e names the problem ("--array=..." prefix is the
 * caller's).
 */
int aidc_aset_parse(const char *spec, struct aidc_aset *s, int64_t *limit, struct aidc_err *e);
/* Reads the text form written by aidc_aset_format (no %LIMIT); "" is the
 * empty set. */
int aidc_aset_read(const char *text, struct aidc_aset *s, struct aidc_err *e);
/* Writes the set compactly ("3-9", "1-9:2,12"); "" when empty. Returns the
 * length it needed (like snprintf), so a short buffer can be detected. */
size_t aidc_aset_format(const struct aidc_aset *s, char *out, size_t cap);
/* The length aidc_aset_format needs, without the NUL. */
size_t aidc_aset_format_len(const struct aidc_aset *s);
bool aidc_aset_contains(const struct aidc_aset *s, int64_t x);
/* Removes and returns the lowest index; -1 when empty. */
int64_t aidc_aset_pop(struct aidc_aset *s);
/* Removes x; false when it was not in the set. */
bool aidc_aset_remove(struct aidc_aset *s, int64_t x);
/* The smallest and largest index and the step Slurm reports as
 * SLURM_ARRAY_TASK_STEP: the common distance when the indices are evenly
 * spaced, else 1 (a single index: 1). */
void aidc_aset_bounds(const struct aidc_aset *s, int64_t *min, int64_t *max, int64_t *step);
void aidc_aset_free(struct aidc_aset *s);

/* How squeue names a job (JOBID): "12" for a job, "12_3" for element 3 of
 * array 12 (task >= 0), "12_[3-9]" or "12_[3-9%2]" for array 12's pending
 * indices (pending != NULL; limit 0 = no throttle); a long pending text is
 * cut with "...]" to fit out. */
void aidc_array_ref(char *out, size_t cap, uint64_t id, int64_t task, const char *pending,
		    int64_t limit);

#endif
