/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict parsers for numbers, times and durations from text input.
 * Each accepts the whole string (surrounding blanks allowed) or fails with
 * AIDC_E_PARSE (not a number) / AIDC_E_LIMIT (outside [min, max]); *out is
 * written only on success.
 */
#ifndef AIDC_UTIL_PARSE_H
#define AIDC_UTIL_PARSE_H

#include <stddef.h>
#include <stdint.h>

int aidc_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int aidc_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* A umask: 1 to 4 octal digits, at most 0777 ("0077"); the value, or -1. */
int aidc_parse_umask(const char *s);
/* Decimal or exponent notation; NaN and infinities are rejected. */
int aidc_parse_f64(const char *s, double min, double max, double *out);
/*
 * "YYYY-MM-DD HH:MM:SS" (or with 'T'), UTC, to seconds since the Unix epoch,
 * bounded by AIDC_MIN_TIME_S..AIDC_MAX_TIME_S. A bare integer is taken as
 * seconds since the epoch.
 */
int aidc_parse_datetime(const char *s, int64_t *out_s);
/* Writes "YYYY-MM-DD HH:MM:SS" (UTC) into buf (at least 20 bytes). */
void aidc_format_datetime(int64_t t_s, char buf[static 20]);
/*
 * A duration in seconds: "90", "90s", "15m", "2h", "3d", "1.5h",
 * "HH:MM:SS", "MM:SS" or Slurm's "D-HH[:MM[:SS]]". Bounded by AIDC_MAX_DURATION_S.
 */
int aidc_parse_duration(const char *s, int64_t *out_s);
/* Days since 1970-01-01 of a proleptic Gregorian date (no range checks). */
int64_t aidc_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
