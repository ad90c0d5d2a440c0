/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc acct` (sacct-like job accounting records), `aidc usage` (sreport-like
 * device-hours per account, user or organization and device model) and
 * `aidc audit` (the audit log): docs/accounting.md. Each reads the
 * controller's GET /v1/acct, /v1/usage and /v1/audit, walking every page of
 * a listing so that nothing is dropped.
 */
#include <jansson.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "util/util.h"

/* ---- shared ---------------------------------------------------------------------- */

/* "now", "-30d"/"-12h"/"-90m"/"-60s" (before now), Unix seconds, "YYYY-MM-DD"
 * or "YYYY-MM-DDTHH:MM[:SS]" (UTC) -> Unix seconds. */
static int parse_time(const char *s, int64_t now, int64_t *out)
{
	if (!strcmp(s, "now")) {
		*out = now;
		return 0;
	}
	size_t n = strlen(s);
	if (s[0] == '-' && n >= 3 && n < 16) {
		char num[16];
		memcpy(num, s + 1, n - 2);
		num[n - 2] = '\0';
		int64_t v, mul = cli_unit_seconds(s[n - 1]);
		if (!mul)
			return -1;
		if (aidc_parse_i64(num, 1, INT64_MAX / 86400 / 2, &v))
			return -1;
		*out = now - v * mul;
		return 0;
	}
	if (n && strspn(s, "0123456789") == n)
		return aidc_parse_i64(s, 0, INT64_MAX / 2, out);
	struct tm tm = {0};
	int used = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &used) != 3)
		return -1;
	const char *p = s + used;
	if (*p == 'T' || *p == ' ') {
		int u2 = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &u2) != 2)
			return -1;
		p += 1 + u2;
		if (*p == ':') {
			if (sscanf(p + 1, "%2d%n", &tm.tm_sec, &u2) != 1)
				return -1;
			p += 1 + u2;
		}
	}
	if (*p || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	int mday = tm.tm_mday;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != mday) /* 2026-02-31 normalizes: refuse */
		return -1;
	*out = (int64_t)t;
	return 0;
}

static int time_flag(const char *cmd, const char *flag, const char *v, int64_t now, int64_t *out)
{
	if (parse_time(v, now, out) == 0)
		return 0;
	fprintf(stderr,
		"aidc %s: --%s %s: expected now, -Nd/-Nh/-Nm/-Ns (before now), Unix seconds, "
		"YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC)\n",
		cmd, flag, v);
	return CLI_EXIT_USAGE;
}

/* Appends "&key=value" (percent-encoded) to path. */
static void add_param(char *path, size_t cap, const char *key, const char *v)
{
	size_t n = strlen(path);
	n += (size_t)snprintf(path + n, n < cap ? cap - n : 0,
			      "%s%s=", strchr(path, '?') ? "&" : "?", key);
	for (const unsigned char *p = (const unsigned char *)v; *p && n + 4 < cap; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~,:", *p))
			path[n++] = (char)*p;
		else
			n += (size_t)snprintf(path + n, cap - n, "%%%02X", *p);
	}
	path[n < cap ? n : cap - 1] = '\0';
}

static void add_i64(char *path, size_t cap, const char *key, int64_t v)
{
	char b[32];
	snprintf(b, sizeof b, "%" PRId64, v);
	add_param(path, cap, key, b);
}

/* Walks every page of a listing (key: "records"), handing each page's
 * records to fn (then freed: memory is reused page after page, which on a
 * big listing costs far fewer fresh pages than one document). The cursor is
 * next_after (an integer or a string). */
typedef void (*page_fn)(void *ctx, json_t *records);

static int fetch_all(const char *cmd, const char *sp, const char *base, page_fn fn, void *ctx)
{
	char after[64] = "";
	for (;;) {
		char path[4096];
		snprintf(path, sizeof path, "%s", base);
		if (after[0])
			add_param(path, sizeof path, "after", after);
		if (strlen(path) >= sizeof path - 8) {
			fprintf(stderr, "aidc %s: the query is too long\n", cmd);
			return CLI_EXIT_USAGE;
		}
		struct api_call c;
		int rc = cli_call(cmd, sp, "GET", path, NULL, 0, &c);
		if (rc)
			return rc;
		json_error_t je;
		json_t *r = json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, &je);
		aidc_buf_release(&c.reply);
		if (!r || !json_is_array(json_object_get(r, "records"))) {
			fprintf(stderr, "aidc %s: malformed reply from the controller\n", cmd);
			json_decref(r);
			return CLI_EXIT_FAIL;
		}
		cli_json_printable(r);
		fn(ctx, json_object_get(r, "records"));
		json_t *next = json_object_get(r, "next_after");
		bool more = json_is_true(json_object_get(r, "more"));
		if (json_is_integer(next))
			snprintf(after, sizeof after, "%lld", (long long)json_integer_value(next));
		else if (json_is_string(next))
			snprintf(after, sizeof after, "%s", json_string_value(next));
		else
			more = false;
		json_decref(r);
		if (!more)
			return 0;
	}
}

/* --json: prints {"records":[...]} with every page's records copied as the
 * controller wrote them, without building a document in memory (a day of a
 * big center is thousands of records). The controller's page is
 * {"records":[...],"more":B[,"next_after":C]}: the array ends at the last
 * `],"more":` (inside the records that text can only occur escaped). */
static int print_all_raw(const char *cmd, const char *sp, const char *base)
{
	char after[64] = "";
	size_t shown = 0;
	fputs("{\"records\":[", stdout);
	for (;;) {
		char path[4096];
		snprintf(path, sizeof path, "%s", base);
		if (after[0])
			add_param(path, sizeof path, "after", after);
		struct api_call c;
		int rc = cli_call(cmd, sp, "GET", path, NULL, 0, &c);
		if (rc)
			return rc;
		const char *body = aidc_buf_str(&c.reply), *head = "{\"records\":[";
		const char *end = NULL;
		for (const char *p = body; (p = strstr(p, "],\"more\":")) != NULL; p++)
			end = p;
		if (strncmp(body, head, strlen(head)) != 0 || !end) {
			fprintf(stderr, "aidc %s: malformed reply from the controller\n", cmd);
			aidc_buf_release(&c.reply);
			return CLI_EXIT_FAIL;
		}
		const char *first = body + strlen(head);
		if (end > first) {
			if (shown++)
				putchar(',');
			fwrite(first, 1, (size_t)(end - first), stdout);
		}
		const char *tail = end + 2; /* "more":... */
		bool more = strncmp(tail, "\"more\":true", 11) == 0;
		const char *na = strstr(tail, "\"next_after\":");
		after[0] = '\0';
		if (na) {
			na += 13;
			size_t n = strcspn(na, "\"}");
			if (*na == '"')
				n = strcspn(++na, "\"");
			if (n && n < sizeof after) {
				memcpy(after, na, n);
				after[n] = '\0';
			}
		}
		aidc_buf_release(&c.reply);
		if (!more || !after[0])
			break;
	}
	fputs("]}\n", stdout);
	return 0;
}

static void fmt_time(int64_t t_s, char *buf, size_t n)
{
	struct tm tm;
	time_t t = (time_t)t_s;
	if (t_s <= 0 || !gmtime_r(&t, &tm))
		snprintf(buf, n, "-");
	else
		strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
}

static void fmt_dur(int64_t s, char *buf, size_t n)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, n, "%" PRId64 "-%02d:%02d:%02d", s / 86400, (int)(s % 86400 / 3600),
			 (int)(s % 3600 / 60), (int)(s % 60));
	else
		snprintf(buf, n, "%02d:%02d:%02d", (int)(s / 3600), (int)(s % 3600 / 60),
			 (int)(s % 60));
}

static int64_t ji(json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* ---- aidc acct ------------------------------------------------------------------ */

/* The --format columns: name, header, width. */
static const struct {
	const char *name, *head;
	int width;
	const char *help;
} acct_cols[] = {
    {"jobid", "JOBID", 8, "job id"},
    {"attempt", "ATT", 3, "attempt (0 = first run; requeues add 1)"},
    {"user", "USER", 12, "user"},
    {"uid", "UID", 6, "uid"},
    {"account", "ACCOUNT", 10, "account"},
    {"qos", "QOS", 8, "QoS"},
    {"name", "NAME", 16, "job name"},
    {"state", "STATE", 9, "state the attempt ended in (requeue: it was requeued)"},
    {"exitcode", "EXIT", 6, "exit code:signal of the first failing task"},
    {"submit", "SUBMIT", 19, "submit time (UTC)"},
    {"start", "START", 19, "start time (UTC)"},
    {"end", "END", 19, "end time (UTC)"},
    {"elapsed", "ELAPSED", 10, "run time of the attempt"},
    {"ntasks", "TASKS", 5, "tasks"},
    {"ndevices", "DEVS", 4, "devices held"},
    {"nodes", "NODES", 16, "nodes"},
    {"devices", "DEVICES", 14, "devices by model (MODEL:N,...)"},
    {"devsec", "DEV_SECONDS", 11, "device-seconds (all models)"},
    {"devhours", "DEV_HOURS", 9, "device-hours (all models)"},
    {"units", "UNITS", 14, "normalized units: device-seconds x rate (- before rates existed)"},
    {"cpu", "CPU_S", 7, "CPU seconds (- when not measured)"},
    {"maxmem", "MAXMEM_MIB", 10, "peak memory in MiB (- when not measured)"},
};
#define ACCT_DEFAULT_FORMAT                                                                        \
	"jobid,attempt,user,account,state,exitcode,start,elapsed,nodes,devices,devsec"
#define MAX_COLS 32

static int parse_format(const char *f, int *cols, size_t *n)
{
	char buf[512];
	if (strlen(f) >= sizeof buf)
		return -1;
	snprintf(buf, sizeof buf, "%s", f);
	*n = 0;
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t k = 0;
		while (k < AIDC_ARRAY_LEN(acct_cols) && strcasecmp(acct_cols[k].name, t))
			k++;
		if (k == AIDC_ARRAY_LEN(acct_cols) || *n == MAX_COLS) {
			fprintf(stderr, "aidc acct: --format: unknown column '%s' (known:", t);
			for (size_t i = 0; i < AIDC_ARRAY_LEN(acct_cols); i++)
				fprintf(stderr, " %s", acct_cols[i].name);
			fprintf(stderr, ")\n");
			return -1;
		}
		cols[(*n)++] = (int)k;
	}
	if (!*n) {
		fprintf(stderr, "aidc acct: --format: no columns\n");
		return -1;
	}
	return 0;
}

static void cell(json_t *r, int col, char *b, size_t n)
{
	const char *name = acct_cols[col].name;
	b[0] = '\0';
	if (!strcmp(name, "jobid"))
		snprintf(b, n, "%" PRId64, ji(r, "job_id"));
	else if (!strcmp(name, "attempt"))
		snprintf(b, n, "%" PRId64, ji(r, "attempt"));
	else if (!strcmp(name, "uid"))
		snprintf(b, n, "%" PRId64, ji(r, "uid"));
	else if (!strcmp(name, "user") || !strcmp(name, "account") || !strcmp(name, "qos") ||
		 !strcmp(name, "name") || !strcmp(name, "state") || !strcmp(name, "nodes"))
		snprintf(b, n, "%s", jstr(r, name));
	else if (!strcmp(name, "units")) {
		json_t *u = json_object_get(r, "normalized_units");
		snprintf(b, n, json_is_number(u) ? "%.6f" : "-", json_number_value(u));
	} else if (!strcmp(name, "exitcode"))
		snprintf(b, n, "%" PRId64 ":%" PRId64, ji(r, "exit_code"), ji(r, "signal"));
	else if (!strcmp(name, "submit") || !strcmp(name, "start") || !strcmp(name, "end")) {
		char k[16];
		snprintf(k, sizeof k, "%s_s", name);
		fmt_time(ji(r, k), b, n);
	} else if (!strcmp(name, "elapsed"))
		fmt_dur(ji(r, "elapsed_s"), b, n);
	else if (!strcmp(name, "ntasks"))
		snprintf(b, n, "%" PRId64, ji(r, "ntasks"));
	else if (!strcmp(name, "ndevices"))
		snprintf(b, n, "%" PRId64, ji(r, "ndevices"));
	else if (!strcmp(name, "devices")) {
		const char *k;
		json_t *v;
		size_t off = 0;
		json_object_foreach(json_object_get(r, "devices"), k, v)
		{
			off +=
			    (size_t)snprintf(b + off, off < n ? n - off : 0, "%s%s:%lld",
					     off ? "," : "", k, (long long)json_integer_value(v));
			if (off >= n)
				break;
		}
		if (!off)
			snprintf(b, n, "-");
	} else if (!strcmp(name, "devsec"))
		snprintf(b, n, "%" PRId64, ji(r, "device_seconds_total"));
	else if (!strcmp(name, "devhours"))
		snprintf(b, n, "%.4f", (double)ji(r, "device_seconds_total") / 3600.0);
	else if (!strcmp(name, "cpu")) {
		json_t *v = json_object_get(r, "cpu_usec");
		if (json_is_integer(v))
			snprintf(b, n, "%.1f", (double)json_integer_value(v) / 1e6);
		else
			snprintf(b, n, "-");
	} else if (!strcmp(name, "maxmem")) {
		json_t *v = json_object_get(r, "mem_peak_bytes");
		if (json_is_integer(v))
			snprintf(b, n, "%lld", (long long)(json_integer_value(v) >> 20));
		else
			snprintf(b, n, "-");
	}
}

static void csv_field(const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

struct acct_out {
	const int *cols;
	size_t ncols;
	bool csv;
};

static void print_head(const struct acct_out *o)
{
	for (size_t c = 0; c < o->ncols; c++) {
		if (o->csv)
			printf("%s%s", c ? "," : "", acct_cols[o->cols[c]].name);
		else
			printf("%s%-*s", c ? " " : "", acct_cols[o->cols[c]].width,
			       acct_cols[o->cols[c]].head);
	}
	printf("\n");
}

static void print_acct(void *ctx, json_t *all)
{
	const struct acct_out *o = ctx;
	const int *cols = o->cols;
	size_t ncols = o->ncols;
	bool csv = o->csv;
	char b[1024];
	size_t i;
	json_t *r;
	json_array_foreach(all, i, r)
	{
		for (size_t c = 0; c < ncols; c++) {
			cell(r, cols[c], b, sizeof b);
			if (csv) {
				if (c)
					putchar(',');
				csv_field(b);
			} else {
				printf("%s%-*s", c ? " " : "", acct_cols[cols[c]].width, b);
			}
		}
		printf("\n");
	}
}

/* The filter flags shared by acct and usage; *_s are filled from since/until. */
struct filters {
	const char *user, *account, *state, *jobs, *since, *until;
};

static int filter_path(const char *cmd, const struct filters *f, bool default_today, char *path,
		       size_t cap)
{
	int64_t now = (int64_t)time(NULL), since = -1, until = -1;
	int rc;
	if (f->since && (rc = time_flag(cmd, "since", f->since, now, &since)) != 0)
		return rc;
	if (f->until && (rc = time_flag(cmd, "until", f->until, now, &until)) != 0)
		return rc;
	/* sacct's default window: since 00:00 (UTC) today, unless jobs are named. */
	if (!f->since && default_today && !f->jobs)
		since = now - now % 86400;
	if (since >= 0 && until >= 0 && until <= since) {
		fprintf(stderr, "aidc %s: --until must be after --since\n", cmd);
		return CLI_EXIT_USAGE;
	}
	if (until == 0) {
		fprintf(stderr, "aidc %s: --until must be after 1970-01-01T00:00:00\n", cmd);
		return CLI_EXIT_USAGE;
	}
	if (since >= 0)
		add_i64(path, cap, "since", since);
	if (until > 0)
		add_i64(path, cap, "until", until);
	if (f->user)
		add_param(path, cap, "user", f->user);
	if (f->account)
		add_param(path, cap, "account", f->account);
	if (f->state)
		add_param(path, cap, "state", f->state);
	if (f->jobs)
		add_param(path, cap, "jobs", f->jobs);
	return 0;
}

#define FILTER_FLAGS(f)                                                                            \
	{"user", CLI_STR, &(f).user, "NAME", "only this user's records", 0, 0, NULL, NULL},        \
	    {"account", CLI_STR, &(f).account, "NAME", "only this account's records",              \
	     0,		0,	 NULL,	       NULL},                                              \
	    {"state",                                                                              \
	     CLI_STR,                                                                              \
	     &(f).state,                                                                           \
	     "S[,S]",                                                                              \
	     "only attempts that ended in these states (completed, failed, cancelled, timeout, "   \
	     "node_fail, requeue)",                                                                \
	     0,                                                                                    \
	     0,                                                                                    \
	     NULL,                                                                                 \
	     NULL},                                                                                \
	    {"jobs", CLI_STR, &(f).jobs, "ID[,ID]", "only these job ids", 0, 0, NULL, NULL},       \
	    {"since",                                                                              \
	     CLI_STR,                                                                              \
	     &(f).since,                                                                           \
	     "TIME",                                                                               \
	     "records that ended at or after TIME (now, -7d, Unix seconds, YYYY-MM-DD[THH:MM:SS] " \
	     "UTC)",                                                                               \
	     0,                                                                                    \
	     0,                                                                                    \
	     NULL,                                                                                 \
	     NULL},                                                                                \
	{                                                                                          \
		"until", CLI_STR, &(f).until, "TIME", "records that ended before TIME", 0, 0,      \
		    NULL, NULL                                                                     \
	}

int cli_acct_main(int argc, char **argv)
{
	const char *sock = NULL, *format = ACCT_DEFAULT_FORMAT;
	struct filters f = {0};
	bool json = false, csv = false;
	const struct cli_flag flags[] = {
	    FILTER_FLAGS(f),
	    {"format", CLI_STR, &format, "COLS",
	     "columns, comma-separated (default " ACCT_DEFAULT_FORMAT "; see docs/accounting.md)",
	     0, 0, NULL, NULL},
	    {"json", CLI_BOOL, &json, NULL, "print the records as JSON", 0, 0, NULL, NULL},
	    {"csv", CLI_BOOL, &csv, NULL, "print the --format columns as CSV", 0, 0, NULL, NULL},
	    CLI_CONN_FLAGS(sock),
	};
	const struct cli_cmd cmd = {
	    "acct",
	    "aidc acct [--user U] [--account A] [--state S] [--jobs IDS] [--since T] [--until T] "
	    "[--format COLS] [--json|--csv]",
	    "Job accounting records, one per attempt of a job, kept after jobs leave the live "
	    "tables (sacct-like). Without --since or --jobs, records that ended since 00:00 UTC "
	    "today. Users see their own records, account coordinators also their accounts', "
	    "admins all.",
	    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (json && csv)
		return cli_refuse(&cmd, "give --json or --csv, not both");
	int cols[MAX_COLS];
	size_t ncols;
	if (parse_format(format, cols, &ncols))
		return CLI_EXIT_USAGE;
	char path[4096] = "/v1/acct";
	if ((rc = filter_path("acct", &f, true, path, sizeof path)) != 0)
		return rc;
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(sock, sp, sizeof sp);
	if (json)
		return print_all_raw("acct", sp, path);
	/* Tables and CSV show no per-task detail: leave it out of the replies;
	 * rows are printed page by page. */
	add_param(path, sizeof path, "tasks", "0");
	add_param(path, sizeof path, "limit", "1000");
	struct acct_out o = {cols, ncols, csv};
	print_head(&o);
	rc = fetch_all("acct", sp, path, print_acct, &o);
	return rc ? rc : CLI_EXIT_OK;
}

/* ---- aidc usage ----------------------------------------------------------------- */

int cli_usage_main(int argc, char **argv)
{
	const char *sock = NULL;
	struct filters f = {0};
	bool json = false;
	int by = 0;
	static const char *const bys[] = {"account", "user", "organization", NULL};
	const struct cli_flag flags[] = {
	    FILTER_FLAGS(f),
	    {"by", CLI_CHOICE, &by, "WHAT", "group by account (default), user or organization", 0,
	     0, bys, NULL},
	    CLI_LIVE_FLAGS(json, sock),
	};
	const struct cli_cmd cmd = {
	    "usage",
	    "aidc usage [--by account|user|organization] [--since T] [--until T] [filters]",
	    "Device-hours and normalized units (device-seconds x the model's rate, see aidc "
	    "rates) per account, user or organization and device model over a period "
	    "(sreport-like), summed from the accounting records that ended in it (all time "
	    "without --since/--until). Same visibility as aidc acct.",
	    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	char path[4096] = "/v1/usage";
	add_param(path, sizeof path, "by", bys[by]);
	if ((rc = filter_path("usage", &f, false, path, sizeof path)) != 0)
		return rc;
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(sock, sp, sizeof sp);
	struct api_call c;
	if ((rc = cli_call("usage", sp, "GET", path, NULL, 0, &c)) != 0)
		return rc;
	json_error_t je;
	json_t *r = json ? NULL : json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, &je);
	if (json) {
		printf("%s\n", aidc_buf_str(&c.reply));
	} else if (!r) {
		fprintf(stderr, "aidc usage: malformed reply from the controller\n");
		rc = CLI_EXIT_FAIL;
	} else {
		cli_json_printable(r);
		bool user = by == 1;
		printf("%-16s %s%-16s %14s %12s %8s %16s\n", by == 2 ? "ORGANIZATION" : "ACCOUNT",
		       user ? "USER             " : "", "MODEL", "DEVICE_SECONDS", "DEVICE_HOURS",
		       "RECORDS", "UNITS");
		size_t i;
		json_t *row;
		json_array_foreach(json_object_get(r, "rows"), i, row)
		{
			const char *a = jstr(row, by == 2 ? "organization" : "account");
			printf("%-16s ", *a ? a : "-");
			if (user)
				printf("%-16s ", jstr(row, "user"));
			bool rated = json_is_true(json_object_get(row, "rated"));
			printf("%-16s %14" PRId64 " %12.4f %8" PRId64 " %16.6f%s\n",
			       jstr(row, "model"), ji(row, "device_seconds"),
			       (double)ji(row, "device_seconds") / 3600.0, ji(row, "records"),
			       json_number_value(json_object_get(row, "normalized_units")),
			       rated ? "" : " *");
		}
		printf("total: %" PRId64 " device-seconds (%.4f device-hours), %.6f normalized "
		       "units\n",
		       ji(r, "device_seconds_total"), (double)ji(r, "device_seconds_total") / 3600.0,
		       json_number_value(json_object_get(r, "normalized_units_total")));
		printf("units = device-seconds x the model's rate when each record was written "
		       "(aidc rates); * = no exam published for the model: charged at rate 1\n");
	}
	json_decref(r);
	aidc_buf_release(&c.reply);
	return rc ? rc : CLI_EXIT_OK;
}

/* ---- aidc audit ------------------------------------------------------------------ */

static void print_audit(void *ctx, json_t *all)
{
	(void)ctx;
	size_t i;
	json_t *r;
	json_array_foreach(all, i, r)
	{
		char tb[32];
		fmt_time(ji(r, "time_s"), tb, sizeof tb);
		printf("%-6" PRId64 " %-19s %-12s %-10s %-16s %-20s %.200s\n", ji(r, "id"), tb,
		       jstr(r, "actor"), jstr(r, "via"), jstr(r, "action"), jstr(r, "target"),
		       jstr(r, "detail"));
	}
}

int cli_audit_main(int argc, char **argv)
{
	const char *sock = NULL, *since = NULL, *until = NULL, *actor = NULL, *action = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
	    {"since", CLI_STR, &since, "TIME",
	     "records made at or after TIME (now, -7d, Unix seconds, YYYY-MM-DD[THH:MM:SS] UTC)", 0,
	     0, NULL, NULL},
	    {"until", CLI_STR, &until, "TIME", "records made before TIME", 0, 0, NULL, NULL},
	    {"actor", CLI_STR, &actor, "NAME", "only records made by this user", 0, 0, NULL, NULL},
	    {"action", CLI_STR, &action, "ACTION",
	     "only this action (token.create, account.modify, job.cancel, ...)", 0, 0, NULL, NULL},
	    {"json", CLI_BOOL, &json, NULL, "print the records as JSON", 0, 0, NULL, NULL},
	    CLI_CONN_FLAGS(sock),
	};
	const struct cli_cmd cmd = {
	    "audit", "aidc audit [--since T] [--until T] [--actor NAME] [--action A] [--json]",
	    "The audit log: token, account, user, QoS, drain and resume changes, and cancels and "
	    "requeues of another user's job, oldest first. Append-only: no command or API edits "
	    "or deletes a record. Admins read all records; others the records they made or that "
	    "concern them.",
	    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	int64_t now = (int64_t)time(NULL), t;
	char path[4096] = "/v1/audit";
	if (since) {
		if ((rc = time_flag("audit", "since", since, now, &t)) != 0)
			return rc;
		add_i64(path, sizeof path, "since", t);
	}
	if (until) {
		if ((rc = time_flag("audit", "until", until, now, &t)) != 0)
			return rc;
		if (t <= 0) {
			fprintf(stderr, "aidc audit: --until must be after 1970-01-01T00:00:00\n");
			return CLI_EXIT_USAGE;
		}
		add_i64(path, sizeof path, "until", t);
	}
	if (actor)
		add_param(path, sizeof path, "actor", actor);
	if (action)
		add_param(path, sizeof path, "action", action);
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(sock, sp, sizeof sp);
	if (json)
		return print_all_raw("audit", sp, path);
	printf("%-6s %-19s %-12s %-10s %-16s %-20s %s\n", "ID", "TIME", "ACTOR", "VIA", "ACTION",
	       "TARGET", "DETAIL");
	rc = fetch_all("audit", sp, path, print_audit, NULL);
	return rc ? rc : CLI_EXIT_OK;
}
