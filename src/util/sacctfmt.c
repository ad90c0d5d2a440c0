/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sacct's field lists, cells and time arguments (sacctfmt.h). The widths and
 * justification are sacct's own (JobID 12 left, most others 10 right), so
 * scripts that cut sacct's columns by position keep working.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/sacctfmt.h"
#include "util/util.h"

static const struct {
	const char *name;
	int width;
} sa_fields[AIDC_SAF_COUNT_] = {
    [AIDC_SAF_JOBID] = {"JobID", -12},	    [AIDC_SAF_JOBNAME] = {"JobName", 10},
    [AIDC_SAF_PARTITION] = {"Partition", 10}, [AIDC_SAF_ACCOUNT] = {"Account", 10},
    [AIDC_SAF_ALLOCCPUS] = {"AllocCPUS", 10}, [AIDC_SAF_ALLOCTRES] = {"AllocTRES", -12},
    [AIDC_SAF_STATE] = {"State", 10},	    [AIDC_SAF_EXITCODE] = {"ExitCode", 8},
    [AIDC_SAF_START] = {"Start", 19},	    [AIDC_SAF_END] = {"End", 19},
    [AIDC_SAF_ELAPSED] = {"Elapsed", 10},	    [AIDC_SAF_SUBMIT] = {"Submit", 19},
    [AIDC_SAF_USER] = {"User", 9},		    [AIDC_SAF_NNODES] = {"NNodes", 8},
    [AIDC_SAF_NODELIST] = {"NodeList", 15},   [AIDC_SAF_TIMELIMIT] = {"Timelimit", 10},
    [AIDC_SAF_REQMEM] = {"ReqMem", 10},
};

const char *aidc_sacct_field_name(enum aidc_sacct_field f)
{
	return (unsigned)f < AIDC_SAF_COUNT_ ? sa_fields[f].name : "?";
}

int aidc_sacct_field_width(enum aidc_sacct_field f)
{
	return (unsigned)f < AIDC_SAF_COUNT_ ? sa_fields[f].width : 10;
}

/* One item "Name[%N]" (len bytes at p) into *c; 1 for an unknown name. */
static int parse_col(const char *p, size_t len, struct aidc_sacct_col *c, struct aidc_err *e)
{
	const char *pct = memchr(p, '%', len);
	size_t nl = pct ? (size_t)(pct - p) : len;
	int f = -1;
	for (int i = 0; i < AIDC_SAF_COUNT_; i++)
		if (strlen(sa_fields[i].name) == nl && strncasecmp(p, sa_fields[i].name, nl) == 0)
			f = i;
	if (f < 0)
		return 1;
	c->field = (enum aidc_sacct_field)f;
	c->width = sa_fields[f].width;
	if (!pct)
		return 0;
	char w[16];
	size_t wl = len - nl - 1;
	int64_t v;
	snprintf(w, sizeof w, "%.*s", (int)(wl < 15 ? wl : 15), pct + 1);
	if (wl == 0 || wl > 6 ||
	    aidc_parse_i64(w, -AIDC_SACCT_MAX_WIDTH, AIDC_SACCT_MAX_WIDTH, &v) != 0 || v == 0)
		return aidc_errf(e, AIDC_E_PARSE,
				 "bad width in '%.*s' (Name%%N, N from 1 to %d; -N left-justifies)",
				 (int)(len > 40 ? 40 : len), p, AIDC_SACCT_MAX_WIDTH);
	c->width = (int)v;
	return 0;
}

int aidc_sacct_fields_parse(const char *list, struct aidc_sacct_col *cols, size_t *n,
			    struct aidc_err *e)
{
	char bad[200] = "";
	size_t k = 0;
	for (const char *p = list;;) {
		size_t len = strcspn(p, ",");
		if (len == 0)
			return aidc_errf(e, AIDC_E_PARSE, "an empty field name in '%.64s'", list);
		if (k == AIDC_SACCT_MAX_FIELDS)
			return aidc_errf(e, AIDC_E_PARSE, "more than %d fields",
					 AIDC_SACCT_MAX_FIELDS);
		int rc = parse_col(p, len, &cols[k], e);
		if (rc < 0)
			return rc;
		if (rc == 0)
			k++;
		else if (strlen(bad) + len + 3 < sizeof bad)
			snprintf(bad + strlen(bad), sizeof bad - strlen(bad), "%s%.*s", *bad ? ", " : "",
				 (int)len, p);
		if (!p[len])
			break;
		p += len + 1;
	}
	if (*bad)
		return aidc_errf(e, AIDC_E_PARSE,
				 "unknown field(s) %s (known here: JobID, JobName, Partition, "
				 "Account, AllocCPUS, AllocTRES, State, ExitCode, Start, End, Elapsed, "
				 "Submit, User, NNodes, NodeList, Timelimit, ReqMem)", bad);
	*n = k;
	return 0;
}

int aidc_sacct_cell(struct aidc_buf *out, const char *v, int width)
{
	int w = width < 0 ? -width : width;
	if (!v)
		v = "";
	if ((int)strlen(v) > w)
		return aidc_buf_printf(out, "%.*s+ ", w - 1, v);
	return aidc_buf_printf(out, width < 0 ? "%-*s " : "%*s ", w, v);
}

void aidc_sacct_duration(int64_t s, char *buf, size_t n)
{
	if (s < 0)
		s = 0;
	long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
	if (d)
		snprintf(buf, n, "%lld-%02lld:%02lld:%02lld", d, h, m, sec);
	else
		snprintf(buf, n, "%02lld:%02lld:%02lld", h, m, sec);
}

/* The "[+-]N[unit]" after "now" (at p) into *off seconds; -1 if malformed.
 * A unit is any prefix of seconds, minutes, hours, days, weeks ("m": minutes). */
static int now_offset(const char *p, int64_t *off)
{
	static const struct {
		const char *unit;
		int64_t s;
	} units[] = {{"seconds", 1}, {"minutes", 60}, {"hours", 3600}, {"days", 86400},
		     {"weeks", 604800}};
	*off = 0;
	if (!*p)
		return 0;
	if (*p != '+' && *p != '-')
		return -1;
	int64_t sign = *p++ == '-' ? -1 : 1, v = 0;
	const char *d = p;
	while (isdigit((unsigned char)*p) && p - d < 9)
		v = v * 10 + (*p++ - '0');
	if (p == d || isdigit((unsigned char)*p))
		return -1;
	int64_t mul = *p ? 0 : 1;
	for (size_t i = 0; *p && !mul && i < AIDC_ARRAY_LEN(units); i++)
		if (strlen(p) <= strlen(units[i].unit) && strncasecmp(p, units[i].unit, strlen(p)) == 0)
			mul = units[i].s;
	if (!mul)
		return -1;
	*off = sign * v * mul;
	return 0;
}

/* Up to max digits at *p as a number (at least one); -1 if none. */
static int num(const char **p, int max)
{
	int v = 0, k = 0;
	for (; k < max && isdigit((unsigned char)**p); k++)
		v = v * 10 + (*(*p)++ - '0');
	return k ? v : -1;
}

/* "HH:MM[:SS]" at p into tm; 0, or -1 when it is not one (or more follows). */
static int clock_part(const char *p, struct tm *tm)
{
	int h = num(&p, 2), m = -1, s = 0;
	if (h < 0 || *p++ != ':' || (m = num(&p, 2)) < 0)
		return -1;
	if (*p == ':' && (p++, (s = num(&p, 2)) < 0))
		return -1;
	if (*p || h > 23 || m > 59 || s > 60)
		return -1;
	tm->tm_hour = h;
	tm->tm_min = m;
	tm->tm_sec = s;
	return 0;
}

/* A date, with a clock or not, into tm (today's date and 00:00 in it); -1 if not one. */
static int date_part(const char *s, struct tm *tm)
{
	const char *p = s;
	int a = num(&p, 4);
	if (a < 0)
		return -1;
	if (*p == '-' && p - s == 4) { /* YYYY-MM-DD[THH:MM[:SS]] */
		p++;
		int mo = num(&p, 2), d = (*p == '-' ? (p++, num(&p, 2)) : -1);
		if (mo < 1 || mo > 12 || d < 1 || d > 31)
			return -1;
		tm->tm_year = a - 1900;
		tm->tm_mon = mo - 1;
		tm->tm_mday = d;
		return !*p ? 0 : *p == 'T' ? clock_part(p + 1, tm) : -1;
	}
	if (*p == '/' && p - s <= 2) { /* MM/DD[/YY] */
		p++;
		int d = num(&p, 2), y = *p == '/' ? (p++, num(&p, 2)) : -2;
		if (a < 1 || a > 12 || d < 1 || d > 31 || y == -1 || *p)
			return -1;
		tm->tm_mon = a - 1;
		tm->tm_mday = d;
		if (y >= 0)
			tm->tm_year = 100 + y;
		return 0;
	}
	return clock_part(s, tm);
}

int aidc_sacct_time_parse(const char *s, int64_t now, int64_t *out, struct aidc_err *e)
{
	time_t t = (time_t)now;
	struct tm tm;
	localtime_r(&t, &tm);
	int64_t off;
	if (strncasecmp(s, "now", 3) == 0 && now_offset(s + 3, &off) == 0) {
		*out = now + off;
		return 0;
	}
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	int rc = 0;
	if (strcasecmp(s, "today") == 0 || strcasecmp(s, "midnight") == 0)
		;
	else if (strcasecmp(s, "noon") == 0)
		tm.tm_hour = 12;
	else
		rc = date_part(s, &tm);
	time_t r = rc ? (time_t)-1 : mktime(&tm);
	if (rc || r == (time_t)-1)
		return aidc_errf(e, AIDC_E_PARSE,
				 "time '%.40s' is not one sacct takes (YYYY-MM-DD[THH:MM[:SS]], "
				 "MM/DD[/YY], HH:MM[:SS], now, now-N[seconds|minutes|hours|days|weeks], "
				 "today, midnight, noon)", s);
	*out = (int64_t)r;
	return 0;
}
