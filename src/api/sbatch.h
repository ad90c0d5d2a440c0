/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sbatch's options, as #SBATCH / #AIDC directives of batch scripts and as
 * `aidc sbatch` command-line options (api_sbatch.c). ONE table
 * (api_sbatch_opts) lists every option of Slurm's sbatch with its status
 * here: applied with Slurm's meaning, accepted with a warning (it changes
 * nothing about what the job does here), or refused with the reason. An
 * option that is not in the table is refused as unknown, as sbatch does.
 * docs/slurm.md lists the same table (tests/cli/sbatch_test.sh checks it).
 *
 * Values are kept in Slurm's terms (--mem and --gres per node, ...);
 * api_sbatch_resolve turns them into the (multi-node) batch job that
 * `aidc sbatch` submits. `aidc submit` reads the same directives with its
 * older per-task meaning (api_sbatch_check_submit; docs/cli.md).
 */
#ifndef AIDC_API_SBATCH_H
#define AIDC_API_SBATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/limits.h"

/* What an option does here. */
enum api_sb_status {
	API_SB_APPLIED = 1, /* implemented with Slurm's meaning */
	API_SB_WARNED,	    /* accepted; changes nothing here; one warning on stderr */
	API_SB_REFUSED,	    /* an error naming the option and why */
};

/* Whether the option takes a value. */
enum api_sb_arg {
	API_SB_NOARG = 0,
	API_SB_ARG,    /* required: --opt=V, --opt V, -xV, -x V */
	API_SB_OPTARG, /* optional: only --opt=V */
};

struct api_sbatch_opt {
	const char *name; /* long name without "--" */
	char shortopt;	  /* 0 = none */
	uint8_t arg;	  /* enum api_sb_arg */
	uint8_t status;	  /* enum api_sb_status */
	uint8_t id;	  /* internal: which field an applied option sets */
	const char *why;  /* the meaning here, or why it is refused / has no effect */
};

/* Every sbatch option (Slurm 24.11's man page), sorted by long name. */
extern const struct api_sbatch_opt api_sbatch_opts[];
extern const size_t api_sbatch_nopts;

/* "--nodes", "-N", "nodes" (without dashes) -> its row, or NULL if unknown. */
const struct api_sbatch_opt *api_sbatch_find(const char *opt);

#define API_SB_MAX_WARN 32

struct api_sbatch {
	/* Slurm's values; 0 / "" = not given. */
	int64_t nodes, nodes_max; /* -N MIN[-MAX] */
	int64_t ntasks, ntasks_per_node, cpus_per_task, cpus_per_gpu, mincpus;
	int64_t gpus_per_task, gpus_total, gpus_per_node;  /* --gres=gpu:N sets gpus_per_node */
	int64_t mem_mib, mem_per_cpu_mib, mem_per_gpu_mib; /* --mem is per node */
	int64_t time_limit_s;
	int64_t nice;	  /* --nice: priority = -nice */
	int64_t priority; /* --priority */
	bool nice_set, priority_set, mem_set;
	int requeue;	  /* 0 = not given, 1 = --requeue, -1 = --no-requeue */
	bool preemptible; /* #AIDC --preemptible */
	bool exclusive;	  /* --exclusive: whole nodes */
	bool hold, parsable, test_only, wait, quiet, ignore_pbs, use_min_nodes;
	bool kill_invalid_dep; /* --kill-on-invalid-dep=yes */
	int64_t signal, signal_before_s; /* --signal=[B:]SIG[@SECONDS]; 0 = none */
	int64_t begin_s;		 /* --begin, resolved (Unix seconds); 0 = none */
	bool signal_batch;
	int verbose;
	char name[AIDC_MAX_NAME_BYTES];
	char gpu_model[AIDC_MAX_NAME_BYTES];
	char partition[AIDC_MAX_NAME_BYTES];
	char account[AIDC_MAX_NAME_BYTES]; /* -A/--account (docs/tenancy.md) */
	char qos[AIDC_MAX_NAME_BYTES];	   /* -q/--qos */
	char stdout_path[AIDC_MAX_PATH_BYTES];
	char stderr_path[AIDC_MAX_PATH_BYTES];
	char chdir[AIDC_MAX_PATH_BYTES];
	char export_[AIDC_MAX_ARG_BYTES]; /* --export, "" = ALL */
	char wrap[AIDC_MAX_ARG_BYTES];	  /* --wrap */
	char dependency[AIDC_MAX_ARG_BYTES]; /* -d/--dependency, checked */
	char array[AIDC_MAX_ARRAY_SPEC_BYTES + 1]; /* -a/--array, checked */
	/* Options seen (by table index), for api_sbatch_check_submit and the
	 * checks across options; warned ones in warn[] once each. */
	uint8_t seen[160];
	uint16_t warn[API_SB_MAX_WARN];
	uint32_t nwarn;
	uint32_t pbs_lines; /* #PBS directives in the script (not read) */
	/* -w/--nodelist (-F/--nodefile), -x/--exclude: hostlists; *_file: the
	 * value is a file name (a '/' in it, or -F) for api_sbatch_hostfile. */
	char nodelist[AIDC_MAX_ARG_BYTES];
	char exclude[AIDC_MAX_ARG_BYTES];
	bool nodelist_file, exclude_file;
	bool constraint; /* -C named a device model: gpu_model */
	/* --gres=mps:N: N percent of one device (1..100), a device share
	 * (gpu_milli N x 10); gres_gpu: gpus_per_node came from --gres. */
	int64_t mps;
	bool gres_gpu;
};

/*
 * A time limit as Slurm reads -t/--time: a bare number is MINUTES; "M:S",
 * "H:M:S", "D-H", "D-H:M", "D-H:M:S"; "UNLIMITED"/"INFINITE" and "0" mean no
 * limit (*out_s = 0). Suffixed forms ("90s", "15m", "2h", "1d") are accepted
 * too. Bounded by AIDC_MAX_DURATION_S.
 */
int api_parse_time_limit(const char *v, int64_t *out_s);

/* One item of a --dependency (docs/slurm.md "Holds and dependencies"). */
enum api_dep_type {
	API_DEP_AFTEROK = 1,
	API_DEP_AFTERNOTOK,
	API_DEP_AFTERANY,
	API_DEP_AFTER,     /* the job has started (or was cancelled), plus delay_s */
	API_DEP_SINGLETON, /* no earlier job of this user and name is still live */
	API_DEP_AFTERCORR, /* element i after element i of array ID completed */
};
struct api_dep {
	int type;        /* enum api_dep_type */
	uint64_t id;     /* 0 for singleton */
	int64_t delay_s; /* after:ID+MINUTES, in seconds; 0 otherwise */
};
/*
 * Parses Slurm's --dependency: items TYPE:ID[:ID...] (after's ids may carry
 * "+MINUTES") or "singleton", joined by ',' (every one must hold; *any
 * false) or by '?' (any one is enough; *any true), never both. TYPE is
 * after, afterok, afternotok, afterany or aftercorr (element i of an array
 * after element i of array ID); bad syntax is AIDC_E_INVAL naming the
 * problem in e. At most AIDC_MAX_JOB_DEPS items go to out. Borrows v.
 */
int api_parse_dependency(const char *v, struct api_dep *out, size_t *n, bool *any,
			 struct aidc_err *e);
const char *api_dep_type_name(int type);

/*
 * Slurm's --begin as Unix seconds, local time, relative to now_s: "now",
 * "now+N[seconds|minutes|hours|days|weeks]" (singular too; bare N is
 * seconds), "YYYY-MM-DD[THH:MM[:SS]]", "HH:MM[:SS]" (today, or tomorrow
 * when that time has passed, as Slurm), "today", "tomorrow", "midnight",
 * "noon". Slurm's other forms (MM/DD[/YY], MM.DD[.YY], MMDD[YY], AM/PM,
 * "HH:MM DATE", elevenses, fika, teatime) are refused naming the form
 * (AIDC_E_UNSUPPORTED); bad values are AIDC_E_INVAL. Borrows v.
 */
int api_parse_begin(const char *v, int64_t now_s, int64_t *out_s, struct aidc_err *e);

/* A signal's number from its name ("USR1", "SIGUSR1", any case) or
 * number; -1 when it is neither. */
int api_signal_number(const char *name);
/* Slurm's --signal=[B:]SIG[@SECONDS] (SECONDS 0..65535, default 60; R: is
 * refused): the signal, how long before the time limit, and whether it goes
 * to the batch script alone (B:). */
int api_parse_signal_opt(const char *v, int64_t *sig, int64_t *before_s, bool *batch,
			 struct aidc_err *e);

/* Reads the directives of script (NUL-terminated); *s is zeroed first.
 * Unknown and refused options are errors naming the script line. */
int api_sbatch_parse(const char *script, struct api_sbatch *s, struct aidc_err *e);
/* Applies one option (opt: "--nodes", "-N"; val: its value or NULL) to s:
 * the command line's, after the script's (the command line wins). A refused
 * option leaves s as it was. */
int api_sbatch_apply(struct api_sbatch *s, const char *opt, const char *val, struct aidc_err *e);
/* Refuses a script with DOS line breaks (CRLF) with Slurm's message (its
 * interpreter would see "bash\r" and every line's last word with a '\r'). */
int api_script_check_text(const char *script, struct aidc_err *e);

/* `aidc submit` reads directives with its per-task meaning: refuses the
 * options that only `aidc sbatch` applies (naming the first). */
int api_sbatch_check_submit(const struct api_sbatch *s, struct aidc_err *e);

/* The batch job `aidc sbatch` submits: one aidc task per node holding that
 * node's share of the allocation; the script runs once, as task 0 on the
 * first node, as in Slurm (docs/slurm.md "Multi-node batch jobs"). */
struct api_sbatch_job {
	int64_t cpus, gpus, mem_mib; /* on the node; mem 0 = the controller's default */
	int64_t ntasks;		     /* Slurm's task count (informational) */
	int64_t priority;	     /* 0 = default */
	bool priority_set;
	bool mem_whole; /* --mem=0: all of the node's memory (and the node: exclusive) */
	/* Multi-node batch jobs (issue 13 item 5): cpus, gpus and mem_mib above
	 * are per node; ntasks spread over nodes as Slurm's block layout. */
	int64_t nodes;	   /* the allocation's node count (-N, or -w's names) */
	int64_t tasks_max; /* tasks on the fullest node */
	char tasks_per_node[64]; /* SLURM_TASKS_PER_NODE: "2(x2)", "2,1" */
	int64_t gpu_milli;	 /* --gres=mps:N: a share of the one device (gpus 1); 0 = whole */
};
/* Checks the options together and resolves the resources per node. Refuses
 * what the batch job cannot mean (fewer tasks than nodes, conflicting GPU or
 * memory options, -N above -w's node count, ...), naming the options. */
int api_sbatch_resolve(const struct api_sbatch *s, struct api_sbatch_job *j, struct aidc_err *e);

/*
 * Checks an -o/-e pattern for `aidc sbatch` and writes what the agent
 * expands (%j %u %N %t %%) into out: %x becomes the job name, %n and %t 0
 * (the batch script is task 0 of node 0); a backslash turns patterns off
 * (Slurm). %A %a are kept for a job array (array: the controller writes the
 * array's id and the element's index when it starts one) and refused
 * otherwise; %J %s, zero-padding (%3j) and unknown letters are refused,
 * naming them.
 */
int api_sbatch_pattern(const char *opt, const char *pat, const char *job_name, bool array,
		       char *out, size_t cap, struct aidc_err *e);
/* Whether pat uses only what the agent expands (%j %t %u %N %%): the
 * controller refuses other -o/-e patterns at submit. */
int api_output_pattern_check(const char *field, const char *pat, struct aidc_err *e);
/* The same; with array, %A and %a too (a job array's pending record: the
 * controller writes them into each element's paths). */
int api_output_pattern_check_ex(const char *field, const char *pat, bool array,
				struct aidc_err *e);

#endif
