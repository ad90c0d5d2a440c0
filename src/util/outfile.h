/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole-or-nothing output files and the input-path check shared by the CLI
 * commands: a failed run never leaves a half-written --out/--csv behind, and a
 * bad output path is reported before a long run, not after it.
 */
#ifndef AIDC_UTIL_OUTFILE_H
#define AIDC_UTIL_OUTFILE_H

#include <stdio.h>

#include "util/err.h"

/* An output file that appears only when the command succeeded: writes go to
 * a temporary file beside path, renamed over path by commit; abort (or any
 * failure) removes the temporary and leaves path untouched. */
struct aidc_outfile {
	FILE *f;    /* write here; stdout for path NULL or "-" (not owned then) */
	char *path; /* owned copy of the destination, NULL for stdout */
	char *tmp;  /* owned name of the temporary file */
};
void aidc_outfile_init(struct aidc_outfile *o);
/* Creates the temporary file (path is copied). Fails early, with "path: ...",
 * when path is a directory or its directory is missing or not writable. */
int aidc_outfile_open(struct aidc_outfile *o, const char *path, struct aidc_err *e);
/* Flushes, closes and renames into place; on failure the temporary is removed. */
int aidc_outfile_commit(struct aidc_outfile *o, struct aidc_err *e);
/* Closes and removes the temporary; a no-op on an unopened or committed o. */
void aidc_outfile_abort(struct aidc_outfile *o);
/* "path: is a directory, not a file" for a directory; 0 otherwise (a missing
 * file is left to the reader, whose open names it). path is borrowed. */
int aidc_input_check(const char *path, struct aidc_err *e);

#endif
