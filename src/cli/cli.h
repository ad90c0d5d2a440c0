/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `aidc` command line: one binary, one entry point per subcommand.
 * Each subcommand lives in its own cli_<name>.c, parses its own flags from a
 * declarative table (struct cli_flag), prints human tables by default and JSON
 * with --json, and returns the process exit status:
 *   0 success, 1 failure (one clear line on stderr), 2 bad usage.
 */
#ifndef AIDC_CLI_CLI_H
#define AIDC_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* Subcommands: argv[0] is the subcommand name. */
int cli_sim_main(int argc, char **argv);
int cli_exam_main(int argc, char **argv);
int cli_errors_main(int argc, char **argv);
/* `aidc sim openb ...`: the FGD inflation experiment (cli_sim_openb.c); argv[0] is "openb". */
int cli_sim_openb_main(int argc, char **argv);
/* The live center: cli_controller.c, cli_up.c, cli_submit.c, cli_client.c. */
int cli_controller_main(int argc, char **argv);
int cli_agent_main(int argc, char **argv);
int cli_up_main(int argc, char **argv);
int cli_down_main(int argc, char **argv);
int cli_submit_main(int argc, char **argv);
/* `aidc sbatch` (cli_sbatch.c, docs/slurm.md). */
int cli_sbatch_main(int argc, char **argv);
int cli_jobs_main(int argc, char **argv);
int cli_job_main(int argc, char **argv);
int cli_cancel_main(int argc, char **argv);
int cli_requeue_main(int argc, char **argv);
/* Job ids one `aidc hold` / `aidc release` takes. */
#define CLI_MAX_JOB_ARGS 256
int cli_hold_main(int argc, char **argv);
int cli_release_main(int argc, char **argv);
int cli_scontrol_main(int argc, char **argv); /* cli_scontrol.c */
int cli_squeue_main(int argc, char **argv);   /* cli_squeue.c (docs/slurm.md) */
int cli_sacct_main(int argc, char **argv);    /* cli_sacct.c (docs/slurm.md) */
int cli_scancel_main(int argc, char **argv);  /* cli_scancel.c */
int cli_salloc_main(int argc, char **argv);   /* cli_sbatch.c, cli_salloc.c */
int cli_sinfo_main(int argc, char **argv);    /* cli_sinfo.c */
int cli_srun_main(int argc, char **argv);     /* cli_srun.c: steps inside a batch job */
int cli_logs_main(int argc, char **argv);
int cli_nodes_main(int argc, char **argv);
int cli_drain_main(int argc, char **argv);
int cli_resume_main(int argc, char **argv);
/* `aidc token create|list|revoke` (cli_token.c); argv[0] is "token". */
int cli_token_main(int argc, char **argv);
/* `aidc account|user|qos ...` (cli_tenancy.c, docs/tenancy.md). */
int cli_account_main(int argc, char **argv);
int cli_user_main(int argc, char **argv);
int cli_qos_main(int argc, char **argv);
/* `aidc acct`, `aidc usage`, `aidc audit` (cli_acct.c, docs/accounting.md). */
int cli_acct_main(int argc, char **argv);
int cli_usage_main(int argc, char **argv);
/* `aidc exam publish` and `aidc rates` (cli_rates.c, docs/accounting.md). */
int cli_exam_publish(int argc, char **argv);
int cli_rates_main(int argc, char **argv);
/* `aidc speeds` and `aidc progress` (cli_speeds.c, docs/placement.md). */
int cli_speeds_main(int argc, char **argv);
int cli_progress_main(int argc, char **argv);
int cli_audit_main(int argc, char **argv);
/* `aidc share` and `aidc priority JOB` (cli_share.c). */
int cli_share_main(int argc, char **argv);
int cli_priority_main(int argc, char **argv);
/* `aidc catalog list|show|run|check` (cli_catalog.c, docs/catalog.md). */
int cli_catalog_main(int argc, char **argv);
/* `aidc serve`, `aidc services`, `aidc service ...` (cli_service.c, docs/services.md). */
int cli_serve_main(int argc, char **argv);
int cli_services_main(int argc, char **argv);
int cli_service_main(int argc, char **argv);

/* ---- declarative flag tables --------------------------------------------- */

enum cli_flag_type {
	CLI_BOOL,   /* --flag (true), --flag=true|false -> bool */
	CLI_STR,    /* --flag VALUE     -> const char * (borrowed from argv) */
	CLI_I64,    /* --flag N         -> int64_t, bounded by [min, max] */
	CLI_F64,    /* --flag X         -> double,  bounded by [min, max] */
	CLI_CHOICE, /* --flag WORD      -> int index into choices (NULL-terminated) */
	CLI_NAME,   /* --flag WORD      -> dst is a struct cli_name_dst: WORD is looked up in a
		       scheduler name table (sched.h; aliases accepted) and its row's value
		       stored; help lists the names */
};

/* CLI_NAME's dst (e.g. a compound literal beside the flag table). */
struct cli_name_dst {
	int *value;                     /* the enum value goes here */
	const struct sched_name *names; /* borrowed: sched_order_names, ... */
};

struct sched_name; /* sched/sched.h */

struct cli_flag {
	const char *name;          /* long name without "--" */
	enum cli_flag_type type;
	void *dst;                 /* bool*, const char**, int64_t*, double*, int*,
				      struct cli_name_dst* */
	const char *metavar;       /* shown in help, e.g. "FILE" */
	const char *help;          /* one line */
	double min, max;           /* for CLI_I64 / CLI_F64 */
	const char *const *choices; /* for CLI_CHOICE */
	bool *seen;                /* optional: set when the flag is given */
};

struct cli_cmd {
	const char *name;     /* "sim" */
	const char *usage;    /* "aidc sim [options]" */
	const char *summary;  /* one paragraph */
	const struct cli_flag *flags;
	size_t nflags;
};

/*
 * Parses argv[1..] against cmd->flags. --help/-h prints help and returns 1
 * (caller exits 0). Positional arguments are collected into pos (borrowed),
 * at most maxpos. Returns 0 on success, CLI_EXIT_USAGE after printing one
 * clear line on stderr.
 */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, const char **pos, size_t maxpos,
	      size_t *npos);
void cli_print_help(const struct cli_cmd *cmd, FILE *out);

/*
 * cli_parse for a subcommand's entry point, whose callers all turned its
 * 1 (help printed) into exit 0: returns true when the command goes on;
 * false when it is done, with *rc the exit status (CLI_EXIT_OK after --help,
 * CLI_EXIT_USAGE after the usage line). pos is borrowed from argv.
 */
bool cli_parse_main(const struct cli_cmd *cmd, int argc, char **argv, const char **pos,
		    size_t maxpos, size_t *npos, int *rc);
/*
 * The same for a command that takes exactly n positional arguments (pos has
 * room for n): fewer print "aidc CMD: " and the formatted why on stderr and
 * end the command with *rc = CLI_EXIT_USAGE (more: cli_parse's own line).
 */
bool cli_parse_exact(const struct cli_cmd *cmd, int argc, char **argv, const char **pos,
		     size_t n, int *rc, const char *why, ...) __attribute__((format(printf, 7, 8)));
/*
 * The same for a command whose one positional argument is a positive integer
 * id, stored in *id; a missing or bad one prints "aidc CMD: " and the
 * formatted why and ends the command with *rc = CLI_EXIT_USAGE.
 */
bool cli_parse_id(const struct cli_cmd *cmd, int argc, char **argv, int64_t *id, int *rc,
		  const char *why, ...) __attribute__((format(printf, 6, 7)));
/* --time and --mem as aidc submit takes them (Slurm's time formats; sbatch's
 * sizes, per task here): each given one is parsed into *time_out / *mem_out,
 * a bad one prints "aidc CMD: --time|--mem VALUE: why" and returns
 * CLI_EXIT_USAGE; a zero size is refused unless zero_ok (cli_submit.c). */
int cli_time_mem(const char *cmd, const char *time_s, int64_t *time_out, const char *mem,
		 int64_t *mem_out, bool zero_ok);
/* One subcommand of a command group (`aidc token create`). */
struct cli_sub {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the subcommand's name */
	const char *summary;
};
/*
 * Runs the subcommand of group cmd that argv[1] names. --help or -h prints
 * the usage and the list on stdout (exit 0); a missing or unknown one prints
 * "aidc CMD: expected A, B or C", the usage and the list on stderr (exit 2).
 */
int cli_dispatch(const char *cmd, const struct cli_sub *subs, size_t n, int argc, char **argv);
/* Refuses a command's arguments: "aidc CMD: " and the formatted why on
 * stderr; returns CLI_EXIT_USAGE. */
int cli_refuse(const struct cli_cmd *cmd, const char *why, ...)
	__attribute__((format(printf, 2, 3)));
/* For `aidc exam report|publish REPORT.json` (cli_exam.c): parses argv for
 * exactly one report (*path, borrowed from argv) and loads it into *r
 * (caller releases). Returns true when the command goes on; else false with
 * *rc the exit status (help, usage, or CLI_EXIT_FAIL after "aidc CMD: why"
 * for a report that does not load). */
struct exam_report;
bool cli_parse_report(const struct cli_cmd *cmd, int argc, char **argv, const char **path,
		      struct exam_report *r, int *rc);

/*
 * What --help prints (cli_print_help): the text for people (default), a man
 * page in roff (aidc help --man), or the option names on one line for the
 * generated bash completion (aidc help --completion). `aidc help` sets it
 * before it calls a subcommand with --help, so man pages and completion come
 * from the same flag tables as --help and cannot drift (cli_help.c).
 */
enum cli_help_format { CLI_HELP_TEXT, CLI_HELP_MAN, CLI_HELP_WORDS };
void cli_help_format_set(enum cli_help_format f);
/* `aidc help [--man CMD [SUB] | --man-list | --completion]` (cli_help.c). */
int cli_help_main(int argc, char **argv);
/* The top-level usage text of `aidc --help` (main.c). */
void cli_usage(FILE *out);

/* One row of the `aidc` command table (main.c). subs: the space-separated
 * subcommands of a command group ("create list revoke"), NULL for none;
 * self: the command itself takes flags (`aidc sim` beside `aidc sim openb`). */
struct cli_subcmd {
	const char *name;
	int (*main_fn)(int argc, char **argv);
	const char *summary;
	const char *subs;
	bool self;
};
extern const struct cli_subcmd cli_subcmds[];
extern const size_t cli_nsubcmds;

/* Seconds in one time unit of a duration: 'd' 86400, 'h' 3600, 'm' 60, 's' 1;
 * 0 for any other character (flags.c). */
int64_t cli_unit_seconds(char unit);

/* Copies the flag value v (borrowed) into dst[n]; a value that does not fit
 * prints "aidc: WHAT: longer than N bytes" and returns CLI_EXIT_USAGE. */
int cli_set_str(char *dst, size_t n, const char *v, const char *what);

/* Daemons (controller, agent): --background forks first (needs --log-file;
 * aidc_daemon_start: the parent exits when the child is ready or failed),
 * --log-file points stderr (and, in the background, stdout) at FILE,
 * --pid-file writes the pid (removed again by aidc_pidfile_remove at a clean
 * stop). Files may be NULL. Prints "aidc WHO: ..." and returns
 * CLI_EXIT_FAIL (CLI_EXIT_USAGE for --background without --log-file) on
 * failure. */
int cli_daemon_files(const char *who, const char *log_file, const char *pid_file, bool background);

/* Escapes control characters in every string of a parsed reply, in place
 * (cli_client.c): tables print user strings (job names, reasons) raw. */
struct json_t;
void cli_json_printable(struct json_t *v);

#endif
