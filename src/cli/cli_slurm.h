/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What aidc's Slurm-named query commands share (cli_squeue.c, cli_scancel.c,
 * cli_sinfo.c, cli_sacct.c): Slurm's short options turned into the long
 * flags of a flag table, Slurm's options with no meaning here (refused
 * naming them), the job listing fetched from the controller, the job
 * filters (-u, -t, -n, -p, -A, -q, -w) with Slurm's meaning, -j's id list
 * and the times and node lists of the listings. Formats and state names
 * are util/slurmfmt.h.
 */
#ifndef AIDC_CLI_CLI_SLURM_H
#define AIDC_CLI_CLI_SLURM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"

struct aidc_buf;

/* A short option: -c is name ("--user"), with a value ("-u NAME", "-uNAME") or not. */
struct cli_slurm_short {
	char c;
	const char *name; /* with its dashes */
	bool value;
};

/*
 * argv with the short options of map turned into their long names: "-u X",
 * "-uX", and grouped booleans ("-hl"). Anything else stays as it is (an
 * unknown short option is then refused by cli_parse, naming it); nothing
 * after "--" is touched. *out holds argc entries and a NULL, borrowed from
 * argv and map; free the vector with aidc_free.
 */
void cli_slurm_args(const struct cli_slurm_short *map, size_t nmap, int argc, char **argv,
		    char ***out, int *outc);

/* One of Slurm's options with no meaning here: a flag that refuses it, with why. */
struct cli_slurm_refused {
	const char *name;    /* without dashes */
	char shortopt;       /* 0: none */
	const char *metavar; /* NULL: takes no value */
	const char *why;
};

/* What the flag of one refused option writes (one per option, in the options struct). */
struct cli_slurm_refusal {
	bool given;
	const char *val;
	char help[160]; /* "(-X) refused: why" */
};

/*
 * A command's flag table: base (nb flags), then one flag per refused option
 * of ref (nr, with its state in st[nr]). *n entries; aidc_free it.
 */
struct cli_flag *cli_slurm_flags(const struct cli_flag *base, size_t nb,
				 const struct cli_slurm_refused *ref, struct cli_slurm_refusal *st,
				 size_t nr, size_t *n);
/*
 * CLI_EXIT_USAGE after "aidc CMD: --NAME is not supported here: WHY" and
 * then tail ("" or "; nothing was ...") on stderr when a refused option was
 * given (the first of ref); 0 when none was.
 */
int cli_slurm_refuse(const char *cmd, const struct cli_slurm_refused *ref,
		     const struct cli_slurm_refusal *st, size_t nr, const char *tail);

/* Which jobs a command applies to (NULL or empty lists: any). */
struct cli_slurm_filter {
	uint32_t states;      /* bits of enum aidc_slurm_state */
	const char *users;    /* comma list of user names or uids */
	const char *names;    /* comma list of job names */
	const char *partitions, *accounts, *qos; /* comma lists */
	char **nodes;         /* -w: hosts (expanded); a job matches when it has one */
	size_t nnodes;
};

/* Sets f->nodes from a hostlist ("n[1-3]"); 0, or CLI_EXIT_USAGE after
 * "aidc CMD: ..." on stderr. Free with cli_slurm_filter_release. */
int cli_slurm_filter_nodes(const char *cmd, const char *hostlist, struct cli_slurm_filter *f);
void cli_slurm_filter_release(struct cli_slurm_filter *f);
/* Whether job (a job object of the controller's JSON) passes f. */
bool cli_slurm_match(const struct cli_slurm_filter *f, json_t *job);
/* The Slurm state of a job object (enum aidc_slurm_state), -1 if unknown. */
int cli_slurm_job_state(json_t *job);
/* Whether s is one of the items of the comma list (a NULL list: no). */
bool cli_slurm_in_list(const char *list, const char *s);

/*
 * Every job the caller may see (the controller pages its list; every page
 * is read) whose aidc state maps onto a state of mask, appended to out (a
 * JSON array). user, when given, is passed to the controller as ?user=.
 * Returns 0 or CLI_EXIT_FAIL after "aidc CMD: ..." on stderr.
 */
/* salloc (cli_salloc.c): job id submitted by cli_sbatch.c; waits until it
 * runs, runs cmd (NULL: $SHELL) with vars (a JSON array of "K=V") and the
 * job's id and nodes set, then ends the job. The command's status. me
 * prefixes every message ("salloc", or "srun" making its allocation). */
int cli_salloc_session(const char *me, const char *sp, long long id, char **cmd,
		       const char *vars);
/* salloc's main with its messages prefixed by me (cli_sbatch.c). */
int cli_salloc_as(const char *me, int argc, char **argv);
/* srun outside any allocation (cli_srun_alloc.c): whether srun must make
 * one (SLURM_JOB_ID is not set); whether option name (long, no dashes) is
 * the allocation's; and the allocation with the step in it: salloc with
 * the allocation's options of the normalized argv v, running aidc srun with
 * the step's options and command. */
bool cli_srun_outside(void);
bool cli_srun_alloc_option(const char *name);
int cli_srun_allocate(const struct cli_flag *f, size_t nf, int vc, char **v, char **command);
/* srun steps (GET /v1/steps, docs/slurm.md): with ids (a comma list of job
 * ids or JOB.STEP, any number: asked 64 at a time), every step of them;
 * with NULL, the running steps of the jobs the caller may see. Appended to
 * out; 0 or the exit code after a line on stderr. */
int cli_slurm_list_steps(const char *cmd, const char *sp, const char *ids, json_t *out);
int cli_slurm_list_jobs(const char *cmd, const char *sp, uint32_t mask, const char *user,
			json_t *out);
/*
 * One job by id (GET /v1/jobs/ID): 0 with *job (caller decrefs); 1 when the
 * controller refused (no such job for the caller), its message in why;
 * CLI_EXIT_FAIL after a line on stderr when the controller did not answer.
 */
int cli_slurm_get_job(const char *cmd, const char *sp, long long id, json_t **job, char *why,
		      size_t n);
/* The same for a job reference: ID, or ID_INDEX (one element of an array, or
 * the array while INDEX is pending); ref borrowed, checked by the caller. */
int cli_slurm_get_ref(const char *cmd, const char *sp, const char *ref, json_t **job, char *why,
		      size_t n);
/* A string member of a JSON object ("" when absent or not a string). */
const char *cli_slurm_str(json_t *o, const char *k);
/* An integer member of a JSON object (0 when absent or not an integer). */
long long cli_slurm_int(json_t *o, const char *k);
/* A job's JOBID as squeue shows it: 12, 12_3 (an array element), 12_[3-9%2]
 * (an array's pending indices). */
const char *cli_slurm_job_ref(json_t *j, char *buf, size_t n);
/* An array's record whose every index has started (its elements are the
 * jobs to show): listings leave it out. */
bool cli_slurm_array_drained(json_t *j);
/*
 * -j IDS: the comma list of job ids into v (room for CLI_MAX_JOB_ARGS), *n
 * of them. 0, or CLI_EXIT_USAGE after "aidc CMD: -j/--jobs: 'X' is not a job
 * id (HINT; at most N)" on stderr.
 */
int cli_slurm_job_ids(const char *cmd, const char *ids, const char *hint, long long *v,
		      size_t *n);
/* Unix seconds as Slurm prints them (local time, ISO 8601) in b; none for t <= 0. */
const char *cli_slurm_when(long long t, const char *none, struct aidc_buf *b);
/* A job's nodes as a compressed hostlist in b; none (when not NULL) if it has none. */
const char *cli_slurm_nodelist(json_t *job, const char *none, struct aidc_buf *b);
/* Seconds a job has run (to its end, or to now while it runs); 0 before it starts. */
long long cli_slurm_run_s(json_t *job);
/* A job's node count: its nodes once placed, else the nodes it asks for (at least 1). */
long long cli_slurm_node_count(json_t *job);
/* The job's devices in thousandths: gpus_per_task x ntasks x its share of
 * each (gpu_milli; 1000 when whole). */
long long cli_slurm_gpu_milli(json_t *job);
/* Appends a count of thousandths as devices: "2", "0.5", "0.333". */
void cli_slurm_put_gpus(struct aidc_buf *b, long long milli);
/* users when it is one user name (passed to the controller as ?user=), else NULL
 * (lists and uids are filtered by cli_slurm_match). */
const char *cli_slurm_one_user(const char *users);
/* {"KEY":[v...]} on stdout, compact, one line. */
void cli_slurm_print_json(const char *key, json_t **v, size_t n);
/* The caller's user name ("" if unknown). */
const char *cli_slurm_me(void);

#endif
