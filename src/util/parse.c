/* SPDX-License-Identifier: Apache-2.0 */
/* Strict number, time and duration parsers (see parse.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/limits.h"
#include "util/parse.h"

static const char *skip_blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int only_blank(const char *s)
{
	return *skip_blank(s) == '\0';
}

int aidc_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	s = skip_blank(s);
	if (!*s || (!isdigit((unsigned char)*s) && *s != '-' && *s != '+'))
		return AIDC_E_PARSE;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || !only_blank(end))
		return AIDC_E_PARSE;
	if (errno == ERANGE || v < min || v > max)
		return AIDC_E_LIMIT;
	*out = v;
	return 0;
}

int aidc_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	int64_t v;
	int rc = aidc_parse_i64(s, min, max, &v);
	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

int aidc_parse_f64(const char *s, double min, double max, double *out)
{
	s = skip_blank(s);
	/* strtod accepts "nan", "inf" and hex floats: refuse them up front. */
	if (!*s || !(isdigit((unsigned char)*s) || *s == '-' || *s == '+' || *s == '.'))
		return AIDC_E_PARSE;
	for (const char *p = s; *p; p++)
		if (*p == 'x' || *p == 'X' || *p == 'n' || *p == 'N' || *p == 'i' || *p == 'I')
			return AIDC_E_PARSE;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || !only_blank(end))
		return AIDC_E_PARSE;
	if (errno == ERANGE || !isfinite(v) || v < min || v > max)
		return AIDC_E_LIMIT;
	*out = v;
	return 0;
}

int64_t aidc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's algorithm: exact for the proleptic Gregorian calendar. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Reads exactly n digits at *p. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int aidc_parse_datetime(const char *s, int64_t *out_s)
{
	const char *p = skip_blank(s);
	int y, mo, d, h, mi, se;
	if (digits(&p, 4, &y) != 0 || *p != '-') {
		int64_t v;
		int rc = aidc_parse_i64(s, AIDC_MIN_TIME_S, AIDC_MAX_TIME_S, &v);
		if (rc == 0)
			*out_s = v;
		return rc;
	}
	p++;
	if (digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d) ||
	    (*p != ' ' && *p != 'T'))
		return AIDC_E_PARSE;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &se) || !only_blank(p))
		return AIDC_E_PARSE;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
		return AIDC_E_PARSE;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return AIDC_E_PARSE;
	int64_t t = aidc_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
		    mi * 60 + se;
	if (t < AIDC_MIN_TIME_S || t > AIDC_MAX_TIME_S)
		return AIDC_E_LIMIT;
	*out_s = t;
	return 0;
}

void aidc_format_datetime(int64_t t_s, char buf[static 20])
{
	int64_t days = t_s >= 0 ? t_s / 86400 : (t_s - 86399) / 86400;
	int64_t rem = t_s - days * 86400;
	/* Inverse of days_from_civil. */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	int yy = (int)(y < 0 ? 0 : y > 9999 ? 9999 : y);
	unsigned hh = (unsigned)(rem / 3600) % 24, mm = (unsigned)(rem / 60 % 60) % 60,
		 ss = (unsigned)(rem % 60) % 60;
	snprintf(buf, 20, "%04d-%02u-%02u %02u:%02u:%02u", yy, m % 13, d % 32, hh, mm, ss);
}

int aidc_parse_duration(const char *s, int64_t *out_s)
{
	const char *p = skip_blank(s);
	char tmp[64];
	size_t n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof tmp)
		return AIDC_E_PARSE;
	memcpy(tmp, p, n);
	tmp[n] = '\0';

	if (strchr(tmp, ':') || strchr(tmp, '-')) {
		/* [D-]HH:MM:SS, MM:SS, or D-HH[:MM[:SS]] */
		int64_t days = 0, parts[3] = {0, 0, 0};
		int np = 0;
		char *q = tmp;
		char *dash = strchr(q, '-');
		if (dash) {
			*dash = '\0';
			if (aidc_parse_i64(q, 0, 36500, &days))
				return AIDC_E_PARSE;
			q = dash + 1;
		}
		for (char *tok = q;; np++) {
			if (np == 3)
				return AIDC_E_PARSE;
			char *colon = strchr(tok, ':');
			if (colon)
				*colon = '\0';
			if (aidc_parse_i64(tok, 0, 1000000000, &parts[np]))
				return AIDC_E_PARSE;
			if (!colon) {
				np++;
				break;
			}
			tok = colon + 1;
		}
		int64_t secs;
		if (dash) /* D-HH, D-HH:MM, D-HH:MM:SS */
			secs = parts[0] * 3600 + (np > 1 ? parts[1] * 60 : 0) + (np > 2 ? parts[2] : 0);
		else if (np == 3)
			secs = parts[0] * 3600 + parts[1] * 60 + parts[2];
		else if (np == 2)
			secs = parts[0] * 60 + parts[1];
		else
			return AIDC_E_PARSE;
		secs += days * 86400;
		if (secs > AIDC_MAX_DURATION_S)
			return AIDC_E_LIMIT;
		*out_s = secs;
		return 0;
	}
	double mult = 1;
	switch (tmp[n - 1]) {
	case 's': mult = 1; tmp[--n] = '\0'; break;
	case 'm': mult = 60; tmp[--n] = '\0'; break;
	case 'h': mult = 3600; tmp[--n] = '\0'; break;
	case 'd': mult = 86400; tmp[--n] = '\0'; break;
	default: break;
	}
	double v;
	int rc = aidc_parse_f64(tmp, 0, (double)AIDC_MAX_DURATION_S, &v);
	if (rc)
		return rc;
	v *= mult;
	if (v > (double)AIDC_MAX_DURATION_S)
		return AIDC_E_LIMIT;
	*out_s = (int64_t)llround(v);
	return 0;
}

int aidc_parse_umask(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 4)
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -1;
		v = v * 8 + (s[i] - '0');
	}
	return v <= 0777 ? v : -1;
}
