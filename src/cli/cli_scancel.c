/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc scancel` (and `scancel`, the same binary under Slurm's name):
 * Slurm's scancel over aidc's cancel (POST /v1/jobs/ID/cancel: pending jobs
 * end at once, running ones get SIGTERM then SIGKILL). Jobs by id, or every
 * active job matching -u -t -n -p -A -q -w; errors per job id worded as
 * scancel's. --signal and the other options the API cannot honour are
 * refused naming them (docs/slurm.md).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "cli/cli_slurm.h"
#include "util/slurmfmt.h"
#include "util/util.h"

static const struct cli_slurm_refused sc_refused[] = {
    {"signal", 's', "SIGNAL", "the cancel API sends SIGTERM, then SIGKILL after the grace "
			      "period; other signals are not supported"},
    {"batch", 'b', NULL, "signals to the batch shell alone are not supported (no --signal)"},
    {"full", 'f', NULL, "signals to the batch shell alone are not supported (no --signal)"},
    {"interactive", 'i', NULL, "no confirmation prompt is implemented"},
    {"verbose", 'v', NULL, "no verbose report is implemented"},
    {"clusters", 'M', "NAMES", "federated clusters do not exist here"},
    {"sibling", 0, "NAME", "federated clusters do not exist here"},
    {"reservation", 'R', "NAME", "reservations are not implemented"},
    {"wckey", 0, "WCKEY", "workload characterization keys are not kept"},
};

struct sc_opts {
	const char *sock, *user, *states, *part, *name, *acct, *qos, *nodes;
	bool json, me, quiet, version;
	struct cli_slurm_refusal refused[AIDC_ARRAY_LEN(sc_refused)];
};

static const struct cli_slurm_short sc_short[] = {
    {'u', "--user", true},     {'t', "--state", true},	  {'n', "--name", true},
    {'p', "--partition", true}, {'A', "--account", true}, {'q', "--qos", true},
    {'w', "--nodelist", true}, {'Q', "--quiet", false},	  {'V', "--version", false},
    {'s', "--signal", true},   {'b', "--batch", false},	  {'f', "--full", false},
    {'i', "--interactive", false}, {'v', "--verbose", false}, {'M', "--clusters", true},
    {'R', "--reservation", true},
};

static struct cli_flag *sc_flags(struct sc_opts *o, size_t *n)
{
	const struct cli_flag base[] = {
	    {"user", CLI_STR, &o->user, "USERS", "(-u) jobs of these users (names or uids; "
	     "others' jobs only for admins)", 0, 0, NULL, NULL},
	    {"me", CLI_BOOL, &o->me, NULL, "the caller's jobs", 0, 0, NULL, NULL},
	    {"state", CLI_STR, &o->states, "STATES", "(-t) only jobs in these states (Slurm's "
	     "names or codes, e.g. PENDING,R)", 0, 0, NULL, NULL},
	    {"name", CLI_STR, &o->name, "NAMES", "(-n, --jobname) jobs with these names", 0, 0,
	     NULL, NULL},
	    {"jobname", CLI_STR, &o->name, "NAMES", "the same as --name", 0, 0, NULL, NULL},
	    {"partition", CLI_STR, &o->part, "PARTS", "(-p) jobs in these partitions", 0, 0, NULL,
	     NULL},
	    {"account", CLI_STR, &o->acct, "ACCOUNTS", "(-A) jobs charged to these accounts", 0,
	     0, NULL, NULL},
	    {"qos", CLI_STR, &o->qos, "QOS", "(-q) jobs of these QoS", 0, 0, NULL, NULL},
	    {"nodelist", CLI_STR, &o->nodes, "HOSTLIST", "(-w) jobs on these nodes", 0, 0, NULL,
	     NULL},
	    {"quiet", CLI_BOOL, &o->quiet, NULL, "(-Q) no error for jobs that already ended", 0,
	     0, NULL, NULL},
	    {"version", CLI_BOOL, &o->version, NULL, "(-V) print the version", 0, 0, NULL, NULL},
	    CLI_LIVE_FLAGS(o->json, o->sock),
	};
	return cli_slurm_flags(base, AIDC_ARRAY_LEN(base), sc_refused, o->refused,
			       AIDC_ARRAY_LEN(sc_refused), n);
}

/* Whether any filter option was given (with no job ids, one is needed). */
static bool sc_filtered(const struct sc_opts *o)
{
	return o->user || o->me || o->states || o->part || o->name || o->acct || o->qos || o->nodes;
}

/* Checks the options and sets the filter; 0 or CLI_EXIT_USAGE after a line. */
static int sc_resolve(const struct sc_opts *o, struct cli_slurm_filter *f, bool by_id)
{
	if (cli_slurm_refuse("scancel", sc_refused, o->refused, AIDC_ARRAY_LEN(sc_refused),
			     "; nothing was cancelled"))
		return CLI_EXIT_USAGE;
	if (o->me && o->user) {
		fprintf(stderr, "aidc scancel: give --me or -u/--user, not both\n");
		return CLI_EXIT_USAGE;
	}
	if (!by_id && !sc_filtered(o)) {
		fprintf(stderr, "aidc scancel: error: No job identification provided (job ids, or "
				"-u, -t, -n, -p, -A, -q, -w, --me)\n");
		return CLI_EXIT_USAGE;
	}
	/* By id, any state; otherwise the jobs that can still be cancelled. */
	f->states = by_id ? (1u << AIDC_SST_COUNT_) - 1
			  : (1u << AIDC_SST_PENDING) | (1u << AIDC_SST_RUNNING) |
				(1u << AIDC_SST_COMPLETING);
	struct aidc_err e;
	aidc_err_clear(&e);
	int rc;
	if (o->states && (rc = aidc_slurm_states_parse(o->states, &f->states, &e)) != 0) {
		fprintf(stderr, "aidc scancel: -t/--state: %s; nothing was cancelled\n",
			aidc_err_text(&e, rc));
		return CLI_EXIT_USAGE;
	}
	f->users = o->me ? cli_slurm_me() : o->user;
	f->names = o->name;
	f->partitions = o->part;
	f->accounts = o->acct;
	f->qos = o->qos;
	return o->nodes ? cli_slurm_filter_nodes("scancel", o->nodes, f) : 0;
}

/* Cancels one job, or (step >= 0) one step of it (POST
 * /v1/jobs/ID/steps {op: cancel}: srun ends the step's tasks, the job goes
 * on); a refusal is one line worded as scancel's. 0 or 1. */
static int sc_cancel(const struct sc_opts *o, const char *sp, const char *ref, long long step)
{
	char path[96], body[96], id[48];
	size_t hn = strcspn(ref, ".");
	snprintf(id, sizeof id, "%.*s", (int)(hn < 40 ? hn : 40), ref);
	snprintf(path, sizeof path, step < 0 ? "/v1/jobs/%s/cancel" : "/v1/jobs/%s/steps", id);
	snprintf(body, sizeof body, "{\"op\":\"cancel\",\"step\":%lld}", step);
	struct api_call c = {0};
	int rc = cli_call_retry("scancel", sp, "POST", path, step < 0 ? NULL : body,
				step < 0 ? 0 : strlen(body), &c,
				cli_call_wait_flag(sp) | CLI_CALL_QUIET);
	if (rc && c.status >= 400) {
		struct aidc_err e = {0};
		int code = api_client_error(&c, &e);
		aidc_buf_release(&c.reply);
		if (code == AIDC_E_STATE && o->quiet)
			return 0;
		fprintf(stderr, "scancel: error: Kill job error on job %sid %s: %s (%s)\n",
			step < 0 ? "" : "step ", ref,
			code == AIDC_E_NOTFOUND ? "Invalid job id specified"
			: code == AIDC_E_STATE	? "Job/step already completing or completed"
						: "refused",
			e.msg);
		return CLI_EXIT_FAIL;
	}
	if (rc)
		return rc;
	if (o->json)
		printf("%s\n", aidc_buf_str(&c.reply));
	aidc_buf_release(&c.reply);
	return 0;
}

/* JOBID...: every id checked before any job is cancelled; with filters, a
 * job that does not match is left alone (as scancel). */
static int sc_by_id(const struct sc_opts *o, const struct cli_slurm_filter *f, const char *sp,
		    const char **pos, size_t np)
{
	long long ids[CLI_MAX_JOB_ARGS], steps[CLI_MAX_JOB_ARGS];
	for (size_t i = 0; i < np; i++) {
		/* JOBID, JOBID_INDEX (one element of a job array) or JOBID.STEP */
		const char *us = strchr(pos[i], '_'), *dot = strchr(pos[i], '.');
		char head[32];
		int64_t id, idx, step = -1;
		if (dot && !strcmp(dot, ".batch")) {
			fprintf(stderr, "scancel: error: %.64s: the batch step is the job here "
					"(scancel %.*s); nothing was cancelled\n",
				pos[i], (int)(dot - pos[i]), pos[i]);
			return CLI_EXIT_USAGE;
		}
		size_t hn = us ? (size_t)(us - pos[i]) : dot ? (size_t)(dot - pos[i]) : strlen(pos[i]);
		if (hn >= sizeof head) {
			hn = 0;
		}
		memcpy(head, pos[i], hn);
		head[hn] = '\0';
		if (aidc_parse_i64(head, 1, INT64_MAX, &id) != 0 || (us && dot) ||
		    (us && aidc_parse_i64(us + 1, 0, AIDC_MAX_ARRAY_INDEX, &idx) != 0) ||
		    (dot && aidc_parse_i64(dot + 1, 0, INT64_MAX, &step) != 0)) {
			fprintf(stderr,
				"scancel: error: Invalid job id %.64s (JOBID, JOBID_INDEX of an "
				"array, or JOBID.STEP); nothing was cancelled\n",
				pos[i]);
			return CLI_EXIT_USAGE;
		}
		ids[i] = id;
		steps[i] = step;
	}
	int worst = 0;
	for (size_t i = 0; i < np; i++) {
		if (sc_filtered(o)) {
			json_t *j = NULL;
			char why[256];
			int rc = cli_slurm_get_job("scancel", sp, ids[i], &j, why, sizeof why);
			if (rc == 1)
				fprintf(stderr, "scancel: error: Kill job error on job id %lld: "
						"Invalid job id specified (%s)\n", ids[i], why);
			if (rc) {
				worst = rc == 1 ? CLI_EXIT_FAIL : rc;
				continue;
			}
			bool match = cli_slurm_match(f, j);
			json_decref(j);
			if (!match)
				continue;
		}
		int rc = sc_cancel(o, sp, pos[i], steps[i]);
		worst = rc ? rc : worst;
	}
	return worst;
}

/* No ids: every job the filters match. */
static int sc_by_filter(const struct sc_opts *o, const struct cli_slurm_filter *f,
			const char *sp)
{
	json_t *all = json_array();
	int rc = cli_slurm_list_jobs("scancel", sp, f->states, NULL, all), worst = 0;
	size_t i;
	json_t *j;
	json_array_foreach(all, i, j) {
		if (rc || !cli_slurm_match(f, j))
			continue;
		char id[32];
		snprintf(id, sizeof id, "%lld",
			 (long long)json_integer_value(json_object_get(j, "id")));
		int r = sc_cancel(o, sp, id, -1);
		worst = r ? r : worst;
	}
	json_decref(all);
	return rc ? rc : worst;
}

int cli_scancel_main(int argc, char **argv)
{
	struct sc_opts o = {0};
	size_t nflags;
	struct cli_flag *flags = sc_flags(&o, &nflags);
	const struct cli_cmd cmd = {
	    "scancel",
	    "aidc scancel [JOBID[.STEP]...] [-u USER] [-t STATE] [-n NAME] [-p PART] [--me]",
	    "Slurm's scancel over aidc's cancel: pending jobs end at once, running ones get "
	    "SIGTERM, then SIGKILL after the grace period; JOBID.STEP ends one srun step "
	    "(SIGTERM to its tasks, SIGKILL 10 s later) and the job goes on. Jobs by id, or "
	    "every pending or "
	    "running job matching the filters (given with ids, they narrow the ids). Installed "
	    "as 'scancel' too; options with no meaning here are refused naming them "
	    "(docs/slurm.md).",
	    flags, nflags};
	char **v;
	int vc;
	cli_slurm_args(sc_short, AIDC_ARRAY_LEN(sc_short), argc, argv, &v, &vc);
	struct cli_slurm_filter f = {0};
	const char *pos[CLI_MAX_JOB_ARGS];
	size_t np = 0;
	int rc = cli_parse(&cmd, vc, v, pos, AIDC_ARRAY_LEN(pos), &np);
	if (rc == 1)
		rc = CLI_EXIT_OK;
	else if (!rc && o.version)
		printf("aidc %s\n", AIDC_VERSION);
	else if (!rc && (rc = sc_resolve(&o, &f, np > 0)) == 0) {
		char sp[AIDC_MAX_PATH_BYTES];
		cli_socket_path(o.sock, sp, sizeof sp);
		rc = np ? sc_by_id(&o, &f, sp, pos, np) : sc_by_filter(&o, &f, sp);
	}
	cli_slurm_filter_release(&f);
	aidc_free(v);
	aidc_free(flags);
	return rc;
}
