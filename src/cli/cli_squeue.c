/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc squeue` (and `squeue`, the same binary under Slurm's name): Slurm's
 * queue listing over aidc's job list, so users' habits and scripts that read
 * squeue's columns keep working. Options are Slurm's (-u -t -j -p -n -A -q -w
 * -h -o -l --start --me); the ones with no meaning here are refused naming
 * them (docs/slurm.md). Formats go through util/slurmfmt, as sinfo's do.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "cli/cli_slurm.h"
#include "util/slurmfmt.h"
#include "util/arrayset.h"
#include "util/util.h"

#define SQ_FIELDS "ijutTMlLDCRPNVSebqarQY"
#define SQ_DEFAULT "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R"
#define SQ_LONG "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R"
#define SQ_START "%.18i %.9P %.8j %.8u %.2t %.19S %.6D %20Y %R"
/* -s/--steps: squeue's step format and fields. */
#define SQ_STEP_FIELDS "ijPuMNlSA"
#define SQ_STEP_DEFAULT "%.15i %.8j %.9P %.8u %.9M %N"

static const char *const sq_step_headers[][2] = {
    {"i", "STEPID"},	 {"j", "NAME"},	      {"P", "PARTITION"}, {"u", "USER"},	 {"M", "TIME"},
    {"N", "NODELIST"}, {"l", "TIME_LIMIT"}, {"S", "START_TIME"}, {"A", "TASKS"},
};

static const char *const sq_headers[][2] = {
    {"i", "JOBID"},	 {"j", "NAME"},		    {"u", "USER"},	 {"t", "ST"},
    {"T", "STATE"},	 {"M", "TIME"},		    {"l", "TIME_LIMIT"}, {"L", "TIME_LEFT"},
    {"D", "NODES"},	 {"C", "CPUS"},		    {"R", "NODELIST(REASON)"},
    {"P", "PARTITION"}, {"N", "NODELIST"},	    {"V", "SUBMIT_TIME"},
    {"S", "START_TIME"}, {"e", "END_TIME"},	    {"b", "TRES_PER_NODE"},
    {"q", "QOS"},	 {"a", "ACCOUNT"},	    {"r", "REASON"},	 {"Q", "PRIORITY"},
    {"Y", "SCHEDNODES"},
};

static const char *duration(long long s, struct aidc_buf *b)
{
	char d[40];
	aidc_slurm_duration(s, d, sizeof d);
	aidc_buf_puts(b, d);
	return aidc_buf_str(b);
}

/* %b: the GPUs per node ("gres/gpu[:model]:N"; a share of one device as a
 * fraction, "gres/gpu:0.5"), "N/A" without. */
static const char *gres(json_t *j, struct aidc_buf *b)
{
	long long g = cli_slurm_gpu_milli(j), n = cli_slurm_node_count(j);
	if (g <= 0)
		return "N/A";
	aidc_buf_printf(b, "gres/gpu%s%s:", *cli_slurm_str(j, "gpu_model") ? ":" : "",
			cli_slurm_str(j, "gpu_model"));
	cli_slurm_put_gpus(b, g % n == 0 ? g / n : g);
	return aidc_buf_str(b);
}

/* A pending job's reason under Slurm's name where one means the same
 * (Priority, Resources, Dependency, JobHeldUser, ...); aidc's own word
 * otherwise (never_fits, preempting, limit, quota). A detail after ": " stays. */
static const char *pending_reason(json_t *j, struct aidc_buf *b)
{
	static const char *const map[][2] = {
	    {"none", "None"},	      {"priority", "Priority"},	  {"resources", "Resources"},
	    {"reserved", "Resources"}, {"held", "JobHeldUser"}, {"dependency", "Dependency"},
	};
	const char *r = cli_slurm_str(j, "pending_reason");
	size_t len = strcspn(r, ":");
	for (size_t i = 0; i < AIDC_ARRAY_LEN(map); i++)
		if (strlen(map[i][0]) == len && strncmp(r, map[i][0], len) == 0) {
			aidc_buf_printf(b, "%s%s", map[i][1], r + len);
			return aidc_buf_str(b);
		}
	aidc_buf_puts(b, r);
	return aidc_buf_str(b);
}

/* %R: a pending job's reason in parentheses, else its nodes, else why it ended. */
static const char *nodes_or_reason(json_t *j, struct aidc_buf *b)
{
	if (cli_slurm_job_state(j) == AIDC_SST_PENDING) {
		struct aidc_buf r;
		aidc_buf_init(&r, 4096);
		aidc_buf_printf(b, "(%s)", pending_reason(j, &r));
		aidc_buf_release(&r);
	} else if (json_array_size(json_object_get(j, "nodes")))
		return cli_slurm_nodelist(j, NULL, b);
	else
		aidc_buf_printf(b, "(%s)",
				*cli_slurm_str(j, "reason") ? cli_slurm_str(j, "reason") : "None");
	return aidc_buf_str(b);
}

/* The time fields: %M %l %L %V %S %e. */
static const char *time_value(json_t *j, char letter, struct aidc_buf *b)
{
	long long lim = cli_slurm_int(j, "time_limit_s"), start = cli_slurm_int(j, "start_s");
	switch (letter) {
	case 'M':
		return duration(cli_slurm_run_s(j), b);
	case 'l':
		return lim > 0 ? duration(lim, b) : "UNLIMITED";
	case 'L':
		return lim > 0 ? duration(lim - cli_slurm_run_s(j), b) : "UNLIMITED";
	case 'V':
		return cli_slurm_when(cli_slurm_int(j, "submit_s"), "N/A", b);
	case 'S':
		return cli_slurm_when(start > 0 ? start : cli_slurm_int(j, "start_estimate_s"), "N/A",
				      b);
	default: /* 'e': the end, or a running job's end at its limit */
		if (cli_slurm_int(j, "end_s") > 0)
			return cli_slurm_when(cli_slurm_int(j, "end_s"), "N/A", b);
		return cli_slurm_when(start > 0 && lim > 0 ? start + lim : 0, "N/A", b);
	}
}

static const char *value(void *ctx, char letter, struct aidc_buf *b)
{
	json_t *j = ctx;
	int st = cli_slurm_job_state(j);
	long long cpt;
	const char *why;
	switch (letter) {
	case 'i': {
		char ref[256];
		aidc_buf_printf(b, "%s", cli_slurm_job_ref(j, ref, sizeof ref));
		return aidc_buf_str(b);
	}
	case 'j':
		return cli_slurm_str(j, "name");
	case 'u':
		return cli_slurm_str(j, "user");
	case 't':
		return aidc_slurm_state_code(st);
	case 'T':
		return aidc_slurm_state_name(st);
	case 'D':
		aidc_buf_printf(b, "%lld", cli_slurm_node_count(j));
		return aidc_buf_str(b);
	case 'C':
		cpt = cli_slurm_int(j, "cpus_per_task");
		aidc_buf_printf(b, "%lld", cli_slurm_int(j, "ntasks") * (cpt > 0 ? cpt : 1));
		return aidc_buf_str(b);
	case 'R':
		return nodes_or_reason(j, b);
	case 'P':
		return cli_slurm_str(j, "partition");
	case 'N':
		return cli_slurm_nodelist(j, NULL, b);
	case 'b':
		return gres(j, b);
	case 'q':
		return *cli_slurm_str(j, "qos") ? cli_slurm_str(j, "qos") : "(null)";
	case 'a':
		return *cli_slurm_str(j, "account") ? cli_slurm_str(j, "account") : "(null)";
	case 'r':
		why = cli_slurm_str(j, "reason");
		return st == AIDC_SST_PENDING ? pending_reason(j, b) : *why ? why : "None";
	case 'Q':
		aidc_buf_printf(b, "%lld", cli_slurm_int(j, "priority"));
		return aidc_buf_str(b);
	case 'Y':
		return "(null)"; /* the nodes a pending job is planned on are not published */
	default:
		return time_value(j, letter, b);
	}
}

static int by_id(json_t *a, json_t *b)
{
	long long ia = cli_slurm_int(a, "id"), ib = cli_slurm_int(b, "id");
	return ia < ib ? -1 : ia > ib;
}

/* squeue's default order: partition, state (Slurm's order), priority down; then id. */
static int by_default(const void *x, const void *y)
{
	json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	int c = strcmp(cli_slurm_str(a, "partition"), cli_slurm_str(b, "partition"));
	if (c)
		return c;
	int sa = cli_slurm_job_state(a), sb = cli_slurm_job_state(b);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (cli_slurm_int(a, "priority") != cli_slurm_int(b, "priority"))
		return cli_slurm_int(a, "priority") > cli_slurm_int(b, "priority") ? -1 : 1;
	return by_id(a, b);
}

/* --start: by expected start (known ones first), then id. */
static int by_start(const void *x, const void *y)
{
	json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	long long ea = cli_slurm_int(a, "start_estimate_s"),
		  eb = cli_slurm_int(b, "start_estimate_s");
	if (ea != eb)
		return !ea ? 1 : !eb ? -1 : ea < eb ? -1 : 1;
	return by_id(a, b);
}

/* squeue's options with no meaning here: refused naming them, with why. */
static const struct cli_slurm_refused sq_refused[] = {
    {"Format", 'O', "FIELDS", "long field names are not implemented; use -o/--format %-fields"},
    {"sort", 'S', "KEYS", "sort keys are not implemented; the order is squeue's default "
			  "(partition, state, priority; --start: start time)"},
    {"iterate", 'i', "SECONDS", "not implemented; use watch squeue"},
    {"clusters", 'M', "NAMES", "federated clusters do not exist here"},
    {"federation", 0, NULL, "federated clusters do not exist here"},
    {"licenses", 'L', "NAMES", "licenses are not managed here"},
    {"reservation", 'R', "NAME", "reservations are not implemented"},
    {"verbose", 'v', NULL, "no verbose report is implemented"},
    {"yaml", 0, NULL, "YAML output is not implemented; use --json"},
};

struct sq_opts {
	const char *sock, *user, *states, *jobs, *part, *name, *acct, *qos, *nodes, *format;
	bool json, me, noheader, lng, start, all, array, version, steps;
	const char *step_list; /* --steps=LIST: JOB.STEP,... (borrowed from argv) */
	struct cli_slurm_refusal refused[AIDC_ARRAY_LEN(sq_refused)];
};

static const struct cli_slurm_short sq_short[] = {
    {'u', "--user", true},  {'t', "--states", true},   {'j', "--jobs", true},
    {'p', "--partition", true}, {'n', "--name", true}, {'A', "--account", true},
    {'q', "--qos", true},   {'w', "--nodelist", true}, {'o', "--format", true},
    {'h', "--noheader", false}, {'l', "--long", false}, {'a', "--all", false},
    {'r', "--array", false}, {'V', "--version", false}, {'O', "--Format", true},
    {'S', "--sort", true},  {'i', "--iterate", true},  {'s', "--steps", false},
    {'M', "--clusters", true}, {'L', "--licenses", true}, {'R', "--reservation", true},
    {'v', "--verbose", false},
};

/* The flag table: squeue's options, then the refused ones. *n entries; aidc_free it. */
static struct cli_flag *sq_flags(struct sq_opts *o, size_t *n)
{
	const struct cli_flag base[] = {
	    {"user", CLI_STR, &o->user, "USERS", "(-u) jobs of these users (comma list of names "
	     "or uids; others' jobs only for admins)", 0, 0, NULL, NULL},
	    {"me", CLI_BOOL, &o->me, NULL, "the caller's jobs (-u with your name)", 0, 0, NULL, NULL},
	    {"states", CLI_STR, &o->states, "STATES", "(-t) jobs in these states: Slurm's names "
	     "or codes, comma list, any case (PD,R,CG,CD,CA,F,TO,NF..., all); default PD,R,CG",
	     0, 0, NULL, NULL},
	    {"jobs", CLI_STR, &o->jobs, "IDS", "(-j) these jobs (comma list; ID_INDEX: one element "
	     "of an array, or the array while INDEX is pending), in any state unless -t", 0, 0, NULL, NULL},
	    {"partition", CLI_STR, &o->part, "PARTS", "(-p) jobs in these partitions", 0, 0, NULL,
	     NULL},
	    {"name", CLI_STR, &o->name, "NAMES", "(-n) jobs with these names", 0, 0, NULL, NULL},
	    {"account", CLI_STR, &o->acct, "ACCOUNTS", "(-A) jobs charged to these accounts", 0,
	     0, NULL, NULL},
	    {"qos", CLI_STR, &o->qos, "QOS", "(-q) jobs of these QoS", 0, 0, NULL, NULL},
	    {"nodelist", CLI_STR, &o->nodes, "HOSTLIST", "(-w) jobs on these nodes (n[1-3])", 0,
	     0, NULL, NULL},
	    {"noheader", CLI_BOOL, &o->noheader, NULL, "(-h) no header line", 0, 0, NULL, NULL},
	    {"format", CLI_STR, &o->format, "FORMAT", "(-o) fields %[.][-][width]X of " SQ_FIELDS
	     " (docs/slurm.md)", 0, 0, NULL, NULL},
	    {"long", CLI_BOOL, &o->lng, NULL, "(-l) the long format (STATE, TIME_LIMIT)", 0, 0,
	     NULL, NULL},
	    {"start", CLI_BOOL, &o->start, NULL, "pending jobs with their expected start times "
	     "(the scheduler's estimates; N/A where it has none)", 0, 0, NULL, NULL},
	    {"all", CLI_BOOL, &o->all, NULL, "(-a) all partitions (none are hidden here)", 0, 0,
	     NULL, NULL},
	    {"array", CLI_BOOL, &o->array, NULL, "(-r) a job array's pending indices one per "
	     "line (12_3), not one 12_[3-9] line", 0, 0, NULL, NULL},
	    {"version", CLI_BOOL, &o->version, NULL, "(-V) print the version", 0, 0, NULL, NULL},
	    {"steps", CLI_BOOL, &o->steps, NULL, "(-s) the running srun steps (of the -j jobs), "
	     "STEPID JOBID.STEP; --steps=LIST (-sLIST): only these JOB.STEP,...; -o fields %"
	     SQ_STEP_FIELDS, 0, 0, NULL, NULL},
	    CLI_LIVE_FLAGS(o->json, o->sock),
	};
	return cli_slurm_flags(base, AIDC_ARRAY_LEN(base), sq_refused, o->refused,
			       AIDC_ARRAY_LEN(sq_refused), n);
}

/* Slurm's step list: "--steps=LIST", "-sLIST", and "--steps LIST" or "-s LIST"
 * when the next word starts with a digit (squeue takes no other words): LIST
 * into *list (borrowed) and the option left as --steps. Returns the new argc
 * (argv is compacted in place). */
static int sq_take_step_list(int argc, char **argv, const char **list)
{
	static char steps_flag[] = "--steps";
	int n = 0;
	bool rest = false;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		bool opt = i && !rest;
		rest |= opt && !strcmp(a, "--");
		bool joined = !strncmp(a, "--steps=", 8) ||
			      (!strncmp(a, "-s", 2) && isdigit((unsigned char)a[2]));
		if (opt && joined) {
			*list = a + (a[1] == '-' ? 8 : 2);
			argv[n++] = steps_flag;
			continue;
		}
		argv[n++] = a;
		if (opt && (!strcmp(a, "-s") || !strcmp(a, "--steps")) && i + 1 < argc &&
		    isdigit((unsigned char)argv[i + 1][0]))
			*list = argv[++i];
	}
	argv[n] = NULL;
	return n;
}

/* Each item of a --steps list is JOB.STEP (Slurm's job_id.step_id); at most
 * SQ_MAX_STEP_LIST of them. 0 or CLI_EXIT_USAGE after a line naming it. */
#define SQ_MAX_STEP_LIST 1024
static int sq_check_step_list(const char *list)
{
	size_t n = 0;
	for (const char *p = list;; n++) {
		size_t len = strcspn(p, ",");
		char item[48];
		int64_t id, step;
		char *dot = NULL;
		if (len < sizeof item) {
			memcpy(item, p, len);
			item[len] = '\0';
			dot = strchr(item, '.');
		}
		if (dot)
			*dot = '\0';
		if (!dot || aidc_parse_i64(item, 1, INT64_MAX, &id) != 0 ||
		    aidc_parse_i64(dot + 1, 0, INT64_MAX, &step) != 0) {
			fprintf(stderr, "aidc squeue: --steps: '%.*s' is not JOB.STEP (a job id and a "
					"step id, as 12.0; comma list)\n",
				(int)(len < 64 ? len : 64), p);
			return CLI_EXIT_USAGE;
		}
		if (n + 1 > SQ_MAX_STEP_LIST) {
			fprintf(stderr, "aidc squeue: --steps: more than %d steps\n", SQ_MAX_STEP_LIST);
			return CLI_EXIT_USAGE;
		}
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

/* -s: the job options that say nothing about steps are refused by name. */
static int sq_steps_check(const struct sq_opts *o)
{
	const char *bad = o->states ? "-t/--states"
			  : o->qos  ? "-q/--qos"
			  : o->nodes ? "-w/--nodelist"
			  : o->start ? "--start"
			  : o->array ? "-r/--array"
			  : o->lng   ? "-l/--long"
				     : NULL;
	if (bad)
		fprintf(stderr, "aidc squeue: %s does not apply to -s/--steps (running steps of "
				"the jobs chosen by -j, -u, -n, -p, -A)\n",
			bad);
	return bad ? CLI_EXIT_USAGE : 0;
}

/* Checks the options and sets the filter and the format; 0 or CLI_EXIT_USAGE after a line. */
static int sq_resolve(struct sq_opts *o, struct cli_slurm_filter *f, struct aidc_sfmt *fmt)
{
	if (cli_slurm_refuse("squeue", sq_refused, o->refused, AIDC_ARRAY_LEN(sq_refused), ""))
		return CLI_EXIT_USAGE;
	if (o->me && o->user) {
		fprintf(stderr, "aidc squeue: give --me or -u/--user, not both\n");
		return CLI_EXIT_USAGE;
	}
	struct aidc_err e;
	aidc_err_clear(&e);
	int rc;
	f->states = o->jobs ? (1u << AIDC_SST_COUNT_) - 1
		    : o->start ? 1u << AIDC_SST_PENDING
			       : AIDC_SST_DEFAULT_MASK;
	if (o->states && (rc = aidc_slurm_states_parse(o->states, &f->states, &e)) != 0) {
		fprintf(stderr, "aidc squeue: -t/--states: %s\n", aidc_err_text(&e, rc));
		return CLI_EXIT_USAGE;
	}
	f->users = o->me ? cli_slurm_me() : o->user;
	f->names = o->name;
	f->partitions = o->part;
	f->accounts = o->acct;
	f->qos = o->qos;
	if (o->nodes && (rc = cli_slurm_filter_nodes("squeue", o->nodes, f)) != 0)
		return rc;
	const char *spec = o->format ? o->format : o->start ? SQ_START : o->lng ? SQ_LONG : SQ_DEFAULT;
	if (o->steps && (rc = sq_steps_check(o)) != 0)
		return rc;
	if (o->step_list && (rc = sq_check_step_list(o->step_list)) != 0)
		return rc;
	if (o->steps && !o->format)
		spec = SQ_STEP_DEFAULT;
	if ((rc = aidc_sfmt_parse(spec, o->steps ? SQ_STEP_FIELDS : SQ_FIELDS, fmt, &e)) != 0) {
		fprintf(stderr, "aidc squeue: -o/--format: %s\n", aidc_err_text(&e, rc));
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* "ID" or "ID_INDEX" (len bytes at p) into ref; -1 when it is neither. */
static int job_ref(const char *p, size_t len, char ref[48])
{
	int64_t id, idx;
	const char *us = memchr(p, '_', len);
	char head[24] = "";
	if (len == 0 || len >= 48)
		return -1;
	snprintf(ref, 48, "%.*s", (int)len, p);
	if (!us)
		return aidc_parse_i64(ref, 1, INT64_MAX, &id);
	if ((size_t)(us - p) >= sizeof head)
		return -1;
	memcpy(head, p, (size_t)(us - p));
	return aidc_parse_i64(head, 1, INT64_MAX, &id) ||
	       aidc_parse_i64(ref + (us - p) + 1, 0, AIDC_MAX_ARRAY_INDEX, &idx);
}

/* -j IDS: every id (ID, or ID_INDEX of an array) checked first; then each
 * job fetched. A missing one is named on stderr; none found at all is a
 * failure, as in squeue. */
static int sq_by_id(const char *sp, const char *ids, json_t *out)
{
	char v[CLI_MAX_JOB_ARGS][48];
	size_t n = 0;
	for (const char *p = ids;;) {
		size_t len = strcspn(p, ",");
		if (n == CLI_MAX_JOB_ARGS || job_ref(p, len, v[n]) != 0) {
			fprintf(stderr, "aidc squeue: -j/--jobs: '%.*s' is not a job id (a positive "
					"number, or ID_INDEX of an array; at most %d)\n",
				(int)(len > 32 ? 32 : len), p, CLI_MAX_JOB_ARGS);
			return CLI_EXIT_USAGE;
		}
		n++;
		if (!p[len])
			break;
		p += len + 1;
	}
	size_t found = 0;
	int rc;
	for (size_t i = 0; i < n; i++) {
		json_t *j = NULL;
		char why[256];
		rc = cli_slurm_get_ref("squeue", sp, v[i], &j, why, sizeof why);
		if (rc == 1)
			fprintf(stderr, "aidc squeue: job %s: %s (Invalid job id specified)\n", v[i],
				why);
		else if (rc)
			return rc;
		else
			found += json_array_append_new(out, j) == 0;
	}
	return found ? 0 : CLI_EXIT_FAIL;
}

static int sq_print(const struct sq_opts *o, const struct aidc_sfmt *fmt, json_t *jobs)
{
	size_t n = json_array_size(jobs);
	json_t **v = aidc_calloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(jobs, i);
	qsort(v, n, sizeof *v, o->start ? by_start : by_default);
	int rc = 0;
	if (o->json) {
		cli_slurm_print_json("jobs", v, n);
	} else {
		struct aidc_buf line;
		aidc_buf_init(&line, 16u << 20);
		for (size_t i = 0; !rc && i <= n; i++) {
			if (i == 0 && o->noheader)
				continue;
			aidc_buf_reset(&line);
			rc = i == 0 ? aidc_sfmt_header(fmt, sq_headers, AIDC_ARRAY_LEN(sq_headers),
						       &line)
				    : aidc_sfmt_line(fmt, value, v[i - 1], &line);
			if (!rc)
				printf("%s\n", aidc_buf_str(&line));
		}
		aidc_buf_release(&line);
	}
	aidc_free(v);
	return rc ? CLI_EXIT_FAIL : 0;
}

/* -r: a job array's pending indices one per line, as elements (12_3). */
static void sq_expand(json_t *j, json_t *out)
{
	struct aidc_aset set;
	if (aidc_aset_read(cli_slurm_str(j, "array_pending"), &set, NULL) != 0)
		return;
	for (size_t k = 0; k < set.n; k++)
		for (int64_t x = set.r[k].lo; x <= set.r[k].hi; x += set.r[k].step) {
			json_t *c = json_copy(j);
			json_object_del(c, "array_pending");
			json_object_set_new(c, "array_job_id",
					    json_integer(cli_slurm_int(j, "id")));
			json_object_set_new(c, "array_task_id", json_integer(x));
			json_array_append_new(out, c);
		}
	aidc_aset_free(&set);
}

/* The jobs to show: by id, or the listing of the filter's states; then filtered. */
static int sq_collect(const struct sq_opts *o, const struct cli_slurm_filter *f, const char *sp,
		      json_t *out)
{
	json_t *all = json_array();
	/* One user by name goes to the controller; lists and uids are filtered here. */
	const char *one = cli_slurm_one_user(f->users);
	int rc = o->jobs ? sq_by_id(sp, o->jobs, all)
			 : cli_slurm_list_jobs("squeue", sp, f->states, one, all);
	size_t i;
	json_t *j;
	json_array_foreach(all, i, j) {
		if (!cli_slurm_match(f, j) || cli_slurm_array_drained(j))
			continue;
		if (o->array && json_object_get(j, "array_pending") &&
		    !strcmp(cli_slurm_str(j, "state"), "pending"))
			sq_expand(j, out);
		else
			json_array_append(out, j);
	}
	json_decref(all);
	return rc;
}

/* A step's field (-s). */
static const char *step_value(void *ctx, char letter, struct aidc_buf *b)
{
	json_t *s = ctx;
	long long start = cli_slurm_int(s, "start_s"), lim = cli_slurm_int(s, "time_limit_s");
	switch (letter) {
	case 'i':
		return cli_slurm_str(s, "id");
	case 'j':
		return cli_slurm_str(s, "name");
	case 'P':
		return cli_slurm_str(s, "partition");
	case 'u':
		return cli_slurm_str(s, "user");
	case 'N':
		return cli_slurm_str(s, "nodelist");
	case 'l':
		return lim > 0 ? duration(lim, b) : "UNLIMITED";
	case 'S':
		return cli_slurm_when(start, "N/A", b);
	case 'A':
		aidc_buf_printf(b, "%lld", cli_slurm_int(s, "ntasks"));
		return aidc_buf_str(b);
	default: /* 'M' */
		return duration(start > 0 && time(NULL) > start ? time(NULL) - start : 0, b);
	}
}

static int by_step(const void *x, const void *y)
{
	json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	long long ja = cli_slurm_int(a, "job"), jb = cli_slurm_int(b, "job"),
		  sa = cli_slurm_int(a, "step"), sb = cli_slurm_int(b, "step");
	return ja != jb ? (ja < jb ? -1 : 1) : sa < sb ? -1 : sa > sb;
}

/* -s: the running steps (of the -j jobs, or those of --steps=LIST), filtered
 * by -u -n (job name) -p -A. */
static int sq_steps(const struct sq_opts *o, const struct cli_slurm_filter *f,
		    const struct aidc_sfmt *fmt, const char *sp)
{
	json_t *all = json_array();
	int rc = cli_slurm_list_steps("squeue", sp, o->step_list ? o->step_list : o->jobs, all);
	size_t n = 0, i;
	json_t **v = aidc_calloc(json_array_size(all) + 1, sizeof *v), *s;
	json_array_foreach(all, i, s) {
		char job[24];
		snprintf(job, sizeof job, "%lld", cli_slurm_int(s, "job"));
		if (strcmp(cli_slurm_str(s, "state"), "running") ||
		    (o->step_list && o->jobs && !cli_slurm_in_list(o->jobs, job)) ||
		    (f->users && *f->users && !cli_slurm_in_list(f->users, cli_slurm_str(s, "user"))) ||
		    (f->names && !cli_slurm_in_list(f->names, cli_slurm_str(s, "job_name"))) ||
		    (f->partitions && !cli_slurm_in_list(f->partitions, cli_slurm_str(s, "partition"))) ||
		    (f->accounts && !cli_slurm_in_list(f->accounts, cli_slurm_str(s, "account"))))
			continue;
		v[n++] = s;
	}
	qsort(v, n, sizeof *v, by_step);
	struct aidc_buf line;
	aidc_buf_init(&line, 1u << 20);
	if (!rc && o->json)
		cli_slurm_print_json("steps", v, n);
	for (size_t k = 0; !rc && !o->json && k <= n; k++) {
		if (k == 0 && o->noheader)
			continue;
		aidc_buf_reset(&line);
		rc = k == 0 ? aidc_sfmt_header(fmt, sq_step_headers, AIDC_ARRAY_LEN(sq_step_headers),
					       &line)
			    : aidc_sfmt_line(fmt, step_value, v[k - 1], &line);
		if (!rc)
			printf("%s\n", aidc_buf_str(&line));
		else
			rc = CLI_EXIT_FAIL;
	}
	aidc_buf_release(&line);
	aidc_free(v);
	json_decref(all);
	return rc;
}

int cli_squeue_main(int argc, char **argv)
{
	struct sq_opts o = {0};
	size_t nflags;
	struct cli_flag *flags = sq_flags(&o, &nflags);
	const struct cli_cmd cmd = {
	    "squeue", "aidc squeue [-u USERS] [-t STATES] [-j IDS] [-p PARTS] [-h] [-l] "
		      "[-o FORMAT] [--start] [-s[LIST]] [--json]",
	    "Slurm's squeue over aidc's jobs: the default columns are squeue's (JOBID PARTITION "
	    "NAME USER ST TIME NODES NODELIST(REASON)), nodes as compressed hostlists. Installed "
	    "as 'squeue' too. Short options are Slurm's (shown in brackets); options with no "
	    "meaning here are refused naming them (docs/slurm.md).",
	    flags, nflags};
	char **v;
	int vc;
	argc = sq_take_step_list(argc, argv, &o.step_list);
	cli_slurm_args(sq_short, AIDC_ARRAY_LEN(sq_short), argc, argv, &v, &vc);
	struct cli_slurm_filter f = {0};
	struct aidc_sfmt fmt = {0};
	int rc = cli_parse(&cmd, vc, v, NULL, 0, NULL);
	if (rc == 1)
		rc = CLI_EXIT_OK;
	else if (!rc && o.version)
		printf("aidc %s\n", AIDC_VERSION);
	else if (!rc && (rc = sq_resolve(&o, &f, &fmt)) == 0) {
		char sp[AIDC_MAX_PATH_BYTES];
		cli_socket_path(o.sock, sp, sizeof sp);
		if (o.steps) {
			rc = sq_steps(&o, &f, &fmt, sp);
			goto out;
		}
		json_t *jobs = json_array();
		rc = sq_collect(&o, &f, sp, jobs);
		if (!rc || (o.jobs && json_array_size(jobs)))
			rc = sq_print(&o, &fmt, jobs) ? CLI_EXIT_FAIL : rc;
		json_decref(jobs);
	}
out:
	aidc_sfmt_release(&fmt);
	cli_slurm_filter_release(&f);
	aidc_free(v);
	aidc_free(flags);
	return rc;
}
