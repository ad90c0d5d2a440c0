/* SPDX-License-Identifier: Apache-2.0 */
/* util/sacctfmt: sacct's -o field lists, cells, -S/-E times, durations; edges and refusals. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/sacctfmt.h"
#include "util/util.h"
#include "../test.h"

/* Parses list; "ERR: <message>" or "Name:width ..." into out. */
static void fields(const char *list, char *out, size_t cap)
{
	struct aidc_sacct_col c[AIDC_SACCT_MAX_FIELDS];
	size_t n = 0;
	struct aidc_err e;
	aidc_err_clear(&e);
	int rc = aidc_sacct_fields_parse(list, c, &n, &e);
	if (rc) {
		snprintf(out, cap, "ERR: %s", aidc_err_text(&e, rc));
		return;
	}
	*out = 0;
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), cap - strlen(out), "%s%s:%d", i ? " " : "",
			 aidc_sacct_field_name(c[i].field), c[i].width);
}

static void test_fields(void)
{
	static const struct {
		const char *list, *want;
	} t[] = {
		{"JobID,JobName,Partition,Account,AllocCPUS,State,ExitCode",
		 "JobID:-12 JobName:10 Partition:10 Account:10 AllocCPUS:10 State:10 ExitCode:8"},
		{"jobid,STATE", "JobID:-12 State:10"},
		{"JobName%30,State%-4", "JobName:30 State:-4"},
		{"AllocTRES,Start,End,Elapsed,Submit,User,NNodes,NodeList,Timelimit,ReqMem",
		 "AllocTRES:-12 Start:19 End:19 Elapsed:10 Submit:19 User:9 NNodes:8 NodeList:15 "
		 "Timelimit:10 ReqMem:10"},
		{"JobID,Bogus,State,Nope", "ERR: unknown field(s) Bogus, Nope (known here"},
		{"JobID,,State", "ERR: an empty field name"},
		{"JobID%", "ERR: bad width in 'JobID%'"},
		{"JobID%0", "ERR: bad width"},
		{"JobID%x", "ERR: bad width"},
		{"JobID%2000", "ERR: bad width"},
	};
	char got[512];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		fields(t[i].list, got, sizeof got);
		if (strncmp(t[i].want, "ERR", 3) == 0)
			CHECK(strncmp(got, t[i].want, strlen(t[i].want)) == 0 || (printf("got %s\n", got), 0));
		else
			CHECK_STR(got, t[i].want);
	}
}

static void test_cells(void)
{
	static const struct {
		const char *v;
		int width;
		const char *want;
	} t[] = {
		{"123", -12, "123          "}, {"COMPLETED", 10, " COMPLETED "},
		{"training-run", 10, "training-+ "}, {"0:0", 8, "     0:0 "},
		{"", 3, "    "}, {"abcd", 4, "abcd "}, {"abcde", -4, "abc+ "},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		struct aidc_buf b;
		aidc_buf_init(&b, 4096);
		CHECK_EQ(aidc_sacct_cell(&b, t[i].v, t[i].width), 0);
		CHECK_STR(aidc_buf_str(&b), t[i].want);
		aidc_buf_release(&b);
	}
}

static void test_times(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	const int64_t now = 1796515200 + 13 * 3600 + 5 * 60 + 7; /* 2026-12-06T13:05:07Z */
	const int64_t midnight = 1796515200;
	static const struct {
		const char *s;
		int64_t off; /* from midnight; INT64_MIN: refused */
	} t[] = {
		{"2026-12-06", 0},
		{"2026-12-06T10:30", 10 * 3600 + 30 * 60},
		{"2026-12-06T10:30:15", 10 * 3600 + 30 * 60 + 15},
		{"2026-12-05", -86400},
		{"12/05", -86400},
		{"12/05/26", -86400},
		{"08:00", 8 * 3600},
		{"08:00:09", 8 * 3600 + 9},
		{"today", 0},
		{"MIDNIGHT", 0},
		{"noon", 12 * 3600},
		{"now", 13 * 3600 + 5 * 60 + 7},
		{"now-2hours", 11 * 3600 + 5 * 60 + 7},
		{"now-2h", 11 * 3600 + 5 * 60 + 7},
		{"now-1days", -11 * 3600 + 5 * 60 + 7},
		{"now+30", 13 * 3600 + 5 * 60 + 37},
		{"now-1m", 13 * 3600 + 4 * 60 + 7},
		{"now-1weeks", 13 * 3600 + 5 * 60 + 7 - 7 * 86400},
		{"now-2x", INT64_MIN},
		{"now-hours", INT64_MIN},
		{"now2", INT64_MIN},
		{"2026-13-01", INT64_MIN},
		{"2026-12-06T25:00", INT64_MIN},
		{"2026-12-06 10:00", INT64_MIN},
		{"yesterday", INT64_MIN},
		{"", INT64_MIN},
		{"10", INT64_MIN},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		int64_t got = 0;
		struct aidc_err e;
		aidc_err_clear(&e);
		int rc = aidc_sacct_time_parse(t[i].s, now, &got, &e);
		if (t[i].off == INT64_MIN) {
			CHECK_NE(rc, 0);
			CHECK_CONTAINS(e.msg, "is not one sacct takes");
		} else {
			CHECK_EQ(rc, 0);
			CHECK_EQ(got, midnight + t[i].off);
		}
	}
}

static void test_duration(void)
{
	static const struct {
		int64_t s;
		const char *want;
	} t[] = {{0, "00:00:00"}, {61, "00:01:01"}, {3661, "01:01:01"}, {90061, "1-01:01:01"},
		 {-3, "00:00:00"}};
	char got[32];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		aidc_sacct_duration(t[i].s, got, sizeof got);
		CHECK_STR(got, t[i].want);
	}
}

TEST_MAIN(TEST(test_fields), TEST(test_cells), TEST(test_times), TEST(test_duration))
