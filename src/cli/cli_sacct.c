/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc sacct` (and `sacct`, the same binary under Slurm's name): Slurm's
 * accounting listing over aidc's job list, finished jobs included, so the
 * habits and scripts that read sacct's columns (or its -P output) keep
 * working. Options are Slurm's; the ones with no meaning here are refused
 * naming them (docs/slurm.md). Field lists, cells and times: util/sacctfmt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "cli/cli_slurm.h"
#include "util/clock.h"
#include "util/sacctfmt.h"
#include "util/slurmfmt.h"
#include "util/util.h"

#define SA_DEFAULT "JobID,JobName,Partition,Account,AllocCPUS,State,ExitCode"
#define SA_BRIEF "JobID,State,ExitCode"

static const char *duration(long long s, struct aidc_buf *b)
{
	char d[40];
	aidc_sacct_duration(s, d, sizeof d);
	aidc_buf_puts(b, d);
	return aidc_buf_str(b);
}

static const char *num(long long v, struct aidc_buf *b)
{
	aidc_buf_printf(b, "%lld", v);
	return aidc_buf_str(b);
}

static long long cpus(json_t *j)
{
	return cli_slurm_int(j, "ntasks") * (cli_slurm_int(j, "cpus_per_task") > 0 ? cli_slurm_int(j, "cpus_per_task") : 1);
}

/* Memory as Slurm prints it: "4G" when whole gibibytes, else "1500M". */
static void mem(struct aidc_buf *b, long long mib)
{
	if (mib > 0 && mib % 1024 == 0)
		aidc_buf_printf(b, "%lldG", mib / 1024);
	else
		aidc_buf_printf(b, "%lldM", mib);
}

/* AllocTRES of a job that ran: "cpu=2,gres/gpu=1,mem=4G,node=1" (a share of one
 * device: "gres/gpu=0.5"); "" before. */
static const char *tres(json_t *j, struct aidc_buf *b)
{
	if (cli_slurm_int(j, "start_s") <= 0)
		return "";
	aidc_buf_printf(b, "cpu=%lld", cpus(j));
	long long g = cli_slurm_gpu_milli(j);
	if (g > 0) {
		aidc_buf_puts(b, ",gres/gpu=");
		cli_slurm_put_gpus(b, g);
	}
	if (cli_slurm_int(j, "mem_mib") > 0) {
		aidc_buf_puts(b, ",mem=");
		mem(b, cli_slurm_int(j, "mem_mib") * cli_slurm_int(j, "ntasks"));
	}
	aidc_buf_printf(b, ",node=%lld", cli_slurm_node_count(j));
	return aidc_buf_str(b);
}

static const char *value(json_t *j, enum aidc_sacct_field f, struct aidc_buf *b)
{
	switch (f) {
	case AIDC_SAF_JOBID:
		return num(cli_slurm_int(j, "id"), b);
	case AIDC_SAF_JOBNAME:
		return cli_slurm_str(j, "name");
	case AIDC_SAF_PARTITION:
		return cli_slurm_str(j, "partition");
	case AIDC_SAF_ACCOUNT:
		return cli_slurm_str(j, "account");
	case AIDC_SAF_ALLOCCPUS:
		return num(cli_slurm_int(j, "start_s") > 0 ? cpus(j) : 0, b);
	case AIDC_SAF_ALLOCTRES:
		return tres(j, b);
	case AIDC_SAF_STATE:
		return aidc_slurm_state_name(cli_slurm_job_state(j));
	case AIDC_SAF_EXITCODE:
		aidc_buf_printf(b, "%lld:%lld", cli_slurm_int(j, "exit_code"), cli_slurm_int(j, "signal"));
		return aidc_buf_str(b);
	case AIDC_SAF_START:
		return cli_slurm_when(cli_slurm_int(j, "start_s"), "Unknown", b);
	case AIDC_SAF_END:
		return cli_slurm_when(cli_slurm_int(j, "end_s"), "Unknown", b);
	case AIDC_SAF_ELAPSED:
		return duration(cli_slurm_run_s(j), b);
	case AIDC_SAF_SUBMIT:
		return cli_slurm_when(cli_slurm_int(j, "submit_s"), "Unknown", b);
	case AIDC_SAF_USER:
		return cli_slurm_str(j, "user");
	case AIDC_SAF_NNODES:
		return num(cli_slurm_node_count(j), b);
	case AIDC_SAF_NODELIST:
		return cli_slurm_nodelist(j, "None assigned", b);
	case AIDC_SAF_TIMELIMIT:
		return cli_slurm_int(j, "time_limit_s") > 0 ? duration(cli_slurm_int(j, "time_limit_s"), b) : "UNLIMITED";
	case AIDC_SAF_REQMEM:
		mem(b, cli_slurm_int(j, "mem_mib") * cli_slurm_int(j, "ntasks"));
		return aidc_buf_str(b);
	default:
		return "";
	}
}

/* A step row (steps.c's fields; the job's batch step made from the job, with
 * "batch": true): JobID JOB.STEP, no partition, user or limit, as sacct. */
static const char *step_value(json_t *s, enum aidc_sacct_field f, struct aidc_buf *b)
{
	long long start = cli_slurm_int(s, "start_s"), end = cli_slurm_int(s, "end_s");
	switch (f) {
	case AIDC_SAF_JOBID:
		return cli_slurm_str(s, "id");
	case AIDC_SAF_JOBNAME:
		return cli_slurm_str(s, "name");
	case AIDC_SAF_ACCOUNT:
		return cli_slurm_str(s, "account");
	case AIDC_SAF_ALLOCCPUS:
		return num(cli_slurm_int(s, "cpus"), b);
	case AIDC_SAF_ALLOCTRES:
		aidc_buf_printf(b, "cpu=%lld,node=%lld", cli_slurm_int(s, "cpus"),
				cli_slurm_int(s, "nnodes"));
		return aidc_buf_str(b);
	case AIDC_SAF_STATE:
		return aidc_slurm_state_name(aidc_slurm_state_of(cli_slurm_str(s, "state")));
	case AIDC_SAF_EXITCODE:
		aidc_buf_printf(b, "%lld:%lld", cli_slurm_int(s, "exit_code"),
				cli_slurm_int(s, "signal"));
		return aidc_buf_str(b);
	case AIDC_SAF_START:
	case AIDC_SAF_SUBMIT:
		return cli_slurm_when(start, "Unknown", b);
	case AIDC_SAF_END:
		return cli_slurm_when(end, "Unknown", b);
	case AIDC_SAF_ELAPSED:
		return duration(end > 0 ? end - start : start > 0 ? (long long)aidc_wall_s() - start : 0,
				b);
	case AIDC_SAF_NNODES:
		return num(cli_slurm_int(s, "nnodes"), b);
	case AIDC_SAF_NODELIST:
		return cli_slurm_str(s, "nodelist");
	default: /* Partition, User, Timelimit, ReqMem: blank on step lines */
		return "";
	}
}

/* The batch step of an aidc sbatch job that started: the script on its
 * first node, as sacct's JOB.batch line. NULL otherwise. */
static json_t *batch_step(json_t *j)
{
	if (!json_is_true(json_object_get(j, "slurm_batch")) || cli_slurm_int(j, "start_s") <= 0)
		return NULL;
	char id[48];
	snprintf(id, sizeof id, "%lld.batch", cli_slurm_int(j, "id"));
	long long nodes = cli_slurm_node_count(j), cpus_all = cpus(j);
	json_t *first = json_array_get(json_object_get(j, "nodes"), 0);
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:s, s:b}", "id", id,
			 "name", "batch", "account", cli_slurm_str(j, "account"), "cpus",
			 (json_int_t)(nodes > 0 ? cpus_all / nodes : cpus_all), "nnodes",
			 (json_int_t)1, "state", cli_slurm_str(j, "state"), "start_s",
			 (json_int_t)cli_slurm_int(j, "start_s"), "end_s",
			 (json_int_t)cli_slurm_int(j, "end_s"), "exit_code",
			 (json_int_t)cli_slurm_int(j, "exit_code"), "signal",
			 (json_int_t)cli_slurm_int(j, "signal"), "nodelist",
			 json_is_string(first) ? json_string_value(first) : "", "batch", 1);
}

/* sacct's options with no meaning here: refused naming them, with why. */
static const struct cli_slurm_refused sa_refused[] = {
    {"long", 'l', NULL, "the long field set is not implemented; use -o/--format"},
    {"units", 0, "UNIT", "memory is printed as M or G as it is; no unit conversion"},
    {"noconvert", 0, NULL, "memory is printed as M or G as it is; no unit conversion"},
    {"allclusters", 'L', NULL, "federated clusters do not exist here"},
    {"clusters", 'M', "NAMES", "federated clusters do not exist here"},
    {"federation", 0, NULL, "federated clusters do not exist here"},
    {"local", 0, NULL, "federated clusters do not exist here"},
    {"duplicates", 'D', NULL, "job ids are never reused here: there are no duplicates"},
    {"completion", 'c', NULL, "there is no job completion plugin; the listing is the accounting"},
    {"file", 'f', "FILE", "there is no job completion file"},
    {"truncate", 'T', NULL, "start and end times are never truncated to the window"},
    {"associations", 'x', "LIST", "association ids are not kept; use -A/--accounts or -u"},
    {"batch-script", 'B', NULL, "not implemented; use aidc job ID --json"},
    {"env-vars", 0, NULL, "job environments are not kept in accounting"},
    {"timelimit-min", 'k', "TIME", "not implemented"},
    {"timelimit-max", 'K', "TIME", "not implemented"},
    {"nnodes", 'i', "N", "not implemented"},
    {"ncpus", 'I', "N", "not implemented"},
    {"array", 0, NULL, "array jobs do not exist here"},
    {"whole-hetjob", 0, "yes|no", "heterogeneous jobs do not exist here"},
    {"wckeys", 'W', "LIST", "workload characterization keys do not exist here"},
    {"reason", 'R', "LIST", "not implemented"},
    {"constraints", 'C', "LIST", "node features are not kept in accounting"},
    {"group", 'g', "GROUPS", "not implemented; use -u/--user"},
    {"verbose", 'v', NULL, "no verbose report is implemented"},
    {"yaml", 0, NULL, "YAML output is not implemented; use --json"},
};

struct sa_opts {
	const char *sock, *jobs, *user, *states, *start, *end, *format, *part, *acct, *nodes,
	    *qos, *name, *delim;
	bool json, noheader, parsable, parsable2, allocs, allusers, brief, helpformat, version;
	struct cli_slurm_refusal refused[AIDC_ARRAY_LEN(sa_refused)];
};

static const struct cli_slurm_short sa_short[] = {
    {'j', "--jobs", true},	  {'u', "--user", true},	{'s', "--state", true},
    {'S', "--starttime", true},	  {'E', "--endtime", true},	{'o', "--format", true},
    {'n', "--noheader", false},	  {'P', "--parsable2", false},	{'p', "--parsable", false},
    {'X', "--allocations", false}, {'a', "--allusers", false},	{'b', "--brief", false},
    {'e', "--helpformat", false}, {'r', "--partition", true},	{'A', "--accounts", true},
    {'N', "--nodelist", true},	  {'q', "--qos", true},		{'V', "--version", false},
    {'l', "--long", false},	  {'L', "--allclusters", false}, {'M', "--clusters", true},
    {'D', "--duplicates", false}, {'c', "--completion", false}, {'f', "--file", true},
    {'T', "--truncate", false},	  {'x', "--associations", true}, {'B', "--batch-script", false},
    {'k', "--timelimit-min", true}, {'K', "--timelimit-max", true}, {'i', "--nnodes", true},
    {'I', "--ncpus", true},	  {'W', "--wckeys", true},	{'R', "--reason", true},
    {'C', "--constraints", true}, {'g', "--group", true},	{'v', "--verbose", false},
};

/* The flag table: sacct's options, then the refused ones. *n entries; aidc_free it. */
static struct cli_flag *sa_flags(struct sa_opts *o, size_t *n)
{
	const struct cli_flag base[] = {
	    {"jobs", CLI_STR, &o->jobs, "IDS", "(-j) these jobs (comma list of ID, ID.STEP, "
	     "ID.batch), whenever they ran (no default start time)", 0, 0, NULL, NULL},
	    {"user", CLI_STR, &o->user, "USERS", "(-u) jobs of these users (comma list of names "
	     "or uids; others' jobs only for admins); default: the caller", 0, 0, NULL, NULL},
	    {"allusers", CLI_BOOL, &o->allusers, NULL, "(-a) every user's jobs (admins; others "
	     "see their own, as the controller lists them)", 0, 0, NULL, NULL},
	    {"state", CLI_STR, &o->states, "STATES", "(-s) jobs in these states: Slurm's names or "
	     "codes, comma list, any case (CD,CA,F,PD,R,TO,NF,...)", 0, 0, NULL, NULL},
	    {"starttime", CLI_STR, &o->start, "TIME", "(-S) jobs still running or pending at or "
	     "after TIME (YYYY-MM-DD[THH:MM[:SS]], HH:MM, now-2hours, ...); default: 00:00 today "
	     "unless -j", 0, 0, NULL, NULL},
	    {"endtime", CLI_STR, &o->end, "TIME", "(-E) jobs submitted at or before TIME; "
	     "default: now", 0, 0, NULL, NULL},
	    {"format", CLI_STR, &o->format, "FIELDS", "(-o) comma list of sacct's field names, "
	     "Name%N for a width (docs/slurm.md; -e lists them)", 0, 0, NULL, NULL},
	    {"brief", CLI_BOOL, &o->brief, NULL, "(-b) JobID, State, ExitCode", 0, 0, NULL, NULL},
	    {"helpformat", CLI_BOOL, &o->helpformat, NULL, "(-e) list the field names", 0, 0, NULL,
	     NULL},
	    {"noheader", CLI_BOOL, &o->noheader, NULL, "(-n) no header lines", 0, 0, NULL, NULL},
	    {"parsable", CLI_BOOL, &o->parsable, NULL, "(-p) fields separated by '|', one at the "
	     "end too", 0, 0, NULL, NULL},
	    {"parsable2", CLI_BOOL, &o->parsable2, NULL, "(-P) fields separated by '|'", 0, 0, NULL,
	     NULL},
	    {"delimiter", CLI_STR, &o->delim, "TEXT", "the separator of -p/-P instead of '|'", 0, 0,
	     NULL, NULL},
	    {"allocations", CLI_BOOL, &o->allocs, NULL, "(-X) only the jobs' own lines, not their "
	     "steps (JOB.batch, JOB.STEP)", 0, 0, NULL, NULL},
	    {"partition", CLI_STR, &o->part, "PARTS", "(-r) jobs in these partitions", 0, 0, NULL,
	     NULL},
	    {"accounts", CLI_STR, &o->acct, "ACCOUNTS", "(-A) jobs charged to these accounts", 0, 0,
	     NULL, NULL},
	    {"qos", CLI_STR, &o->qos, "QOS", "(-q) jobs of these QoS", 0, 0, NULL, NULL},
	    {"name", CLI_STR, &o->name, "NAMES", "jobs with these names", 0, 0, NULL, NULL},
	    {"nodelist", CLI_STR, &o->nodes, "HOSTLIST", "(-N) jobs on these nodes (n[1-3])", 0, 0,
	     NULL, NULL},
	    {"version", CLI_BOOL, &o->version, NULL, "(-V) print the version", 0, 0, NULL, NULL},
	    CLI_LIVE_FLAGS(o->json, o->sock),
	};
	return cli_slurm_flags(base, AIDC_ARRAY_LEN(base), sa_refused, o->refused,
			       AIDC_ARRAY_LEN(sa_refused), n);
}

/* -j: a job whole (SA_WHOLE), its batch step (ID.batch) or one step (ID.N). */
#define SA_WHOLE (-1)
#define SA_BATCH (-2)
struct sa_sel {
	long long id, what;
};

/* What one listing shows, once the options are checked. */
struct sa_query {
	struct sa_sel sel[CLI_MAX_JOB_ARGS];
	size_t nsel;
	struct cli_slurm_filter f;
	int64_t from, to; /* the time window */
	struct aidc_sacct_col cols[AIDC_SACCT_MAX_FIELDS];
	size_t ncols;
};

/* -S/-E and the fields; 0 or CLI_EXIT_USAGE after a line. */
static int sa_window_fields(const struct sa_opts *o, struct sa_query *q)
{
	struct aidc_err e;
	aidc_err_clear(&e);
	int64_t now = (int64_t)aidc_wall_s();
	int rc;
	q->from = 0;
	q->to = INT64_MAX;
	if (!o->jobs && !o->start)
		rc = aidc_sacct_time_parse("midnight", now, &q->from, &e);
	if (o->start && (rc = aidc_sacct_time_parse(o->start, now, &q->from, &e)) != 0) {
		fprintf(stderr, "aidc sacct: -S/--starttime: %s\n", aidc_err_text(&e, rc));
		return CLI_EXIT_USAGE;
	}
	if (o->end && (rc = aidc_sacct_time_parse(o->end, now, &q->to, &e)) != 0) {
		fprintf(stderr, "aidc sacct: -E/--endtime: %s\n", aidc_err_text(&e, rc));
		return CLI_EXIT_USAGE;
	}
	if (q->from > q->to) {
		fprintf(stderr, "aidc sacct: -S/--starttime is after -E/--endtime\n");
		return CLI_EXIT_USAGE;
	}
	const char *spec = o->format ? o->format : o->brief ? SA_BRIEF : SA_DEFAULT;
	if ((rc = aidc_sacct_fields_parse(spec, q->cols, &q->ncols, &e)) != 0) {
		fprintf(stderr, "aidc sacct: -o/--format: %s\n", aidc_err_text(&e, rc));
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* -j IDS: ID, ID.STEP or ID.batch, comma-separated; 0 or CLI_EXIT_USAGE. */
static int sa_ids(const char *ids, struct sa_query *q)
{
	for (const char *p = ids;;) {
		size_t len = strcspn(p, ",");
		char tok[64] = "";
		snprintf(tok, sizeof tok, "%.*s", (int)(len < 63 ? len : 63), p);
		char *dot = strchr(tok, '.');
		int64_t id, step = SA_WHOLE;
		if (dot)
			*dot++ = '\0';
		if (q->nsel == CLI_MAX_JOB_ARGS || len >= 63 ||
		    aidc_parse_i64(tok, 1, INT64_MAX, &id) != 0 ||
		    (dot && strcmp(dot, "batch") && aidc_parse_i64(dot, 0, INT64_MAX, &step) != 0)) {
			fprintf(stderr, "aidc sacct: -j/--jobs: '%.*s' is not ID, ID.STEP or ID.batch "
					"(at most %d)\n",
				(int)(len > 40 ? 40 : len), p, CLI_MAX_JOB_ARGS);
			return CLI_EXIT_USAGE;
		}
		q->sel[q->nsel++] = (struct sa_sel){id, dot && !strcmp(dot, "batch") ? SA_BATCH : step};
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

/* Whether -j asks for row what (SA_WHOLE: the job's own line) of job id. */
static bool sa_wants(const struct sa_query *q, long long id, long long what)
{
	bool any = !q->nsel;
	for (size_t i = 0; i < q->nsel && !any; i++)
		any = q->sel[i].id == id && (q->sel[i].what == SA_WHOLE || q->sel[i].what == what);
	return any;
}

/* Checks the options and sets the query; 0 or CLI_EXIT_USAGE after a line. */
static int sa_resolve(const struct sa_opts *o, struct sa_query *q)
{
	if (cli_slurm_refuse("sacct", sa_refused, o->refused, AIDC_ARRAY_LEN(sa_refused), ""))
		return CLI_EXIT_USAGE;
	if (o->parsable && o->parsable2) {
		fprintf(stderr, "aidc sacct: give -p/--parsable or -P/--parsable2, not both\n");
		return CLI_EXIT_USAGE;
	}
	if (o->delim && !o->parsable && !o->parsable2) {
		fprintf(stderr, "aidc sacct: --delimiter applies to -p/-P only; give one\n");
		return CLI_EXIT_USAGE;
	}
	struct aidc_err e;
	aidc_err_clear(&e);
	int rc;
	q->f.states = (1u << AIDC_SST_COUNT_) - 1;
	if (o->states && (rc = aidc_slurm_states_parse(o->states, &q->f.states, &e)) != 0) {
		fprintf(stderr, "aidc sacct: -s/--state: %s\n", aidc_err_text(&e, rc));
		return CLI_EXIT_USAGE;
	}
	q->f.users = o->user ? o->user : o->allusers ? NULL : cli_slurm_me();
	q->f.names = o->name;
	q->f.partitions = o->part;
	q->f.accounts = o->acct;
	q->f.qos = o->qos;
	if (o->nodes && (rc = cli_slurm_filter_nodes("sacct", o->nodes, &q->f)) != 0)
		return rc;
	if (o->jobs && (rc = sa_ids(o->jobs, q)) != 0)
		return rc;
	return sa_window_fields(o, q);
}

/* Whether job's life (submit to end, or on while it has not ended) meets the window. */
static bool in_window(const struct sa_query *q, json_t *j)
{
	long long end = cli_slurm_int(j, "end_s");
	return cli_slurm_int(j, "submit_s") <= q->to && (end <= 0 || end >= q->from);
}

/* -j IDS (checked by sa_ids): each job fetched once; an id with no job the
 * caller may see is left out, as sacct prints nothing for it. */
static int sa_by_id(const char *sp, const struct sa_query *q, json_t *out)
{
	int rc;
	for (size_t i = 0; i < q->nsel; i++) {
		bool seen = false;
		for (size_t k = 0; k < i; k++)
			seen |= q->sel[k].id == q->sel[i].id;
		if (seen)
			continue;
		json_t *j = NULL;
		char why[256];
		rc = cli_slurm_get_job("sacct", sp, q->sel[i].id, &j, why, sizeof why);
		if (rc == 0)
			json_array_append_new(out, j);
		else if (rc != 1)
			return rc;
	}
	return 0;
}

static int by_id(const void *x, const void *y)
{
	long long a = cli_slurm_int(*(json_t *const *)x, "id"), b = cli_slurm_int(*(json_t *const *)y, "id");
	return a < b ? -1 : a > b;
}

/* The jobs to show, filtered and in id order (borrowed from all), *n of them. */
static json_t **sa_collect(const struct sa_opts *o, const struct sa_query *q, const char *sp,
			   json_t *all, size_t *n, int *rc)
{
	const char *one = cli_slurm_one_user(q->f.users);
	*rc = o->jobs ? sa_by_id(sp, q, all)
		      : cli_slurm_list_jobs("sacct", sp, q->f.states, one, all);
	size_t cap = json_array_size(all), k = 0, i;
	json_t **v = aidc_calloc(cap ? cap : 1, sizeof *v), *j;
	json_array_foreach(all, i, j)
		if (cli_slurm_match(&q->f, j) && in_window(q, j))
			v[k++] = j;
	qsort(v, k, sizeof *v, by_id);
	*n = k;
	return v;
}

/* One line: the header (j NULL) or a job's; parsable with sep, else fixed-width cells. */
static void sa_line(const struct sa_opts *o, const struct sa_query *q, json_t *j,
		    struct aidc_buf *line)
{
	const char *sep = o->delim ? o->delim : "|";
	struct aidc_buf b;
	aidc_buf_init(&b, 1u << 20);
	aidc_buf_reset(line);
	for (size_t c = 0; c < q->ncols; c++) {
		aidc_buf_reset(&b);
		bool step = j && (json_object_get(j, "step") || json_object_get(j, "batch"));
		const char *v = step ? step_value(j, q->cols[c].field, &b)
			      : j    ? value(j, q->cols[c].field, &b)
				     : aidc_sacct_field_name(q->cols[c].field);
		int w = q->cols[c].width, aw = w < 0 ? -w : w;
		if (o->parsable || o->parsable2)
			aidc_buf_printf(line, "%s%s", v,
					c + 1 < q->ncols || o->parsable ? sep : "");
		else if (!j) /* headers are cut without a '+' */
			aidc_buf_printf(line, w < 0 ? "%-*.*s " : "%*.*s ", aw, aw, v);
		else
			aidc_sacct_cell(line, v, w);
	}
	aidc_buf_release(&b);
}

static void sa_print(const struct sa_opts *o, const struct sa_query *q, json_t **v, size_t n)
{
	if (o->json) {
		cli_slurm_print_json("jobs", v, n);
		return;
	}
	struct aidc_buf line;
	aidc_buf_init(&line, 16u << 20);
	if (!o->noheader) {
		sa_line(o, q, NULL, &line);
		printf("%s\n", aidc_buf_str(&line));
		if (!o->parsable && !o->parsable2) {
			for (size_t c = 0; c < q->ncols; c++) {
				int w = q->cols[c].width < 0 ? -q->cols[c].width : q->cols[c].width;
				for (int k = 0; k < w; k++)
					putchar('-');
				putchar(' ');
			}
			putchar('\n');
		}
	}
	for (size_t i = 0; i < n; i++) {
		sa_line(o, q, v[i], &line);
		printf("%s\n", aidc_buf_str(&line));
	}
	aidc_buf_release(&line);
}

static void sa_helpformat(void)
{
	for (int f = 0; f < AIDC_SAF_COUNT_; f++)
		printf("%-20s%s", aidc_sacct_field_name((enum aidc_sacct_field)f),
		       f % 4 == 3 || f + 1 == AIDC_SAF_COUNT_ ? "\n" : "");
}

/* The srun steps of the batch jobs among v (GET /v1/steps?job=...), each
 * appended to its job's "steps" array. */
static int sa_steps(const char *sp, json_t **v, size_t n)
{
	struct aidc_buf ids;
	aidc_buf_init(&ids, 64u << 20);
	for (size_t i = 0; i < n; i++)
		if (json_is_true(json_object_get(v[i], "slurm_batch")) &&
		    cli_slurm_int(v[i], "start_s") > 0)
			aidc_buf_printf(&ids, "%s%lld", ids.len ? "," : "", cli_slurm_int(v[i], "id"));
	json_t *steps = json_array();
	int rc = ids.len ? cli_slurm_list_steps("sacct", sp, aidc_buf_str(&ids), steps) : 0;
	size_t i, k = 0;
	json_t *s;
	json_array_foreach(steps, i, s) {
		while (k < n && cli_slurm_int(v[k], "id") < cli_slurm_int(s, "job"))
			k++;
		if (k < n && cli_slurm_int(v[k], "id") == cli_slurm_int(s, "job")) {
			if (!json_object_get(v[k], "steps"))
				json_object_set_new(v[k], "steps", json_array());
			json_array_append(json_object_get(v[k], "steps"), s);
		}
	}
	json_decref(steps);
	aidc_buf_release(&ids);
	return rc;
}

/* The lines: each job (as -j asks), then unless -X its batch step and steps. */
static json_t *sa_rows(const struct sa_opts *o, const struct sa_query *q, json_t **v, size_t n)
{
	json_t *rows = json_array();
	for (size_t i = 0; i < n; i++) {
		long long id = cli_slurm_int(v[i], "id");
		if (sa_wants(q, id, -3))
			json_array_append(rows, v[i]);
		json_t *b = o->allocs ? NULL : batch_step(v[i]), *s;
		if (b && sa_wants(q, id, SA_BATCH))
			json_array_append(rows, b);
		json_decref(b);
		size_t k;
		json_array_foreach(o->allocs ? NULL : json_object_get(v[i], "steps"), k, s)
			if (sa_wants(q, id, cli_slurm_int(s, "step")))
				json_array_append(rows, s);
	}
	return rows;
}

static int sa_run(const struct sa_opts *o, struct sa_query *q)
{
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(o->sock, sp, sizeof sp);
	json_t *all = json_array();
	size_t n = 0;
	int rc;
	json_t **v = sa_collect(o, q, sp, all, &n, &rc);
	if (!rc && !o->allocs)
		rc = sa_steps(sp, v, n);
	if (!rc && o->json) {
		sa_print(o, q, v, n);
	} else if (!rc) {
		json_t *rows = sa_rows(o, q, v, n);
		size_t nr = json_array_size(rows);
		json_t **r = aidc_calloc(nr ? nr : 1, sizeof *r);
		for (size_t i = 0; i < nr; i++)
			r[i] = json_array_get(rows, i);
		sa_print(o, q, r, nr);
		aidc_free(r);
		json_decref(rows);
	}
	aidc_free(v);
	json_decref(all);
	return rc;
}

int cli_sacct_main(int argc, char **argv)
{
	struct sa_opts o = {0};
	size_t nflags;
	struct cli_flag *flags = sa_flags(&o, &nflags);
	const struct cli_cmd cmd = {
	    "sacct", "aidc sacct [-j IDS] [-u USERS|-a] [-s STATES] [-S TIME] [-E TIME] "
		     "[-o FIELDS] [-n] [-p|-P] [-X] [--json]",
	    "Slurm's sacct over aidc's jobs, finished ones included: the default columns are "
	    "sacct's (JobID JobName Partition Account AllocCPUS State ExitCode), the caller's "
	    "jobs since 00:00 today. Installed as 'sacct' too. Short options are Slurm's (shown "
	    "in brackets); options with no meaning here are refused naming them (docs/slurm.md).",
	    flags, nflags};
	char **v;
	int vc;
	cli_slurm_args(sa_short, AIDC_ARRAY_LEN(sa_short), argc, argv, &v, &vc);
	struct sa_query q = {0};
	int rc = cli_parse(&cmd, vc, v, NULL, 0, NULL);
	if (rc == 1)
		rc = CLI_EXIT_OK;
	else if (!rc && o.version)
		printf("aidc %s\n", AIDC_VERSION);
	else if (!rc && o.helpformat)
		sa_helpformat();
	else if (!rc && (rc = sa_resolve(&o, &q)) == 0)
		rc = sa_run(&o, &q);
	cli_slurm_filter_release(&q.f);
	aidc_free(v);
	aidc_free(flags);
	return rc;
}
