/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming CSV reader for trace and node-list files (RFC 4180 subset).
 *
 * - Reads from a file or a memory block, one row at a time; memory use is
 *   bounded by AIDC_MAX_LINE_BYTES whatever the file size.
 * - Fields are separated by ','; a field may be double-quoted with "" as an
 *   escaped quote; quoted fields may not span lines. CRLF and LF both end rows.
 *   Blank lines are skipped. Leading/trailing spaces of unquoted fields are trimmed.
 * - Columns are found by header name (aidc_csv_col), so extra columns and any
 *   column order are accepted.
 * - Errors name the source and line ("trace.csv:17: ...") in the aidc_err.
 *   After a row error the reader is positioned at the next line, so a caller
 *   may skip the bad row and continue.
 */
#ifndef AIDC_UTIL_CSV_H
#define AIDC_UTIL_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "util/err.h"
#include "util/limits.h"

struct aidc_csv {
	FILE *f;           /* owned when opened by path */
	const char *mem;   /* borrowed memory source, or NULL */
	size_t mem_len, mem_pos;
	char name[256];    /* source name for messages */
	size_t line;       /* 1-based line number of the current row */
	char *buf;         /* AIDC_MAX_LINE_BYTES + 2, owned */
	size_t nfields;
	char *fields[AIDC_MAX_CSV_FIELDS]; /* point into buf; valid until next row */
	size_t nhdr;
	char *hdr[AIDC_MAX_CSV_FIELDS]; /* owned copies of the header names */
};

/* Opens path for reading ("-" is stdin); a directory is refused by name
 * (aidc_input_check). path is borrowed. */
int aidc_csv_open_file(struct aidc_csv *c, const char *path, struct aidc_err *e);
/* Reads from data[0..len) (borrowed; must outlive the reader). */
void aidc_csv_open_mem(struct aidc_csv *c, const char *name, const char *data, size_t len);
void aidc_csv_close(struct aidc_csv *c);

/* Reads the first non-blank row as the header. Empty input is an error. */
int aidc_csv_read_header(struct aidc_csv *c, struct aidc_err *e);
/* Index of the header column called name (exact match), or -1. */
int aidc_csv_col(const struct aidc_csv *c, const char *name);

/* Reads the next row: 1 = a row, 0 = end of input, < 0 = error (see e). */
int aidc_csv_next(struct aidc_csv *c, struct aidc_err *e);
/* Field i of the current row, "" when the row is shorter. Borrowed. */
const char *aidc_csv_get(const struct aidc_csv *c, int i);

/* Writes s (borrowed) as one CSV field, in double quotes (inner ones doubled)
 * when this reader would not read it back as itself: it holds a comma, quote
 * or line break, or starts or ends with a blank, which the reader trims. */
void aidc_csv_put_field(FILE *out, const char *s);

#endif
