/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc sbatch [options] [SCRIPT [ARGS...]]`: Slurm's sbatch. Options come
 * from the script's #SBATCH directives, then the command line (which wins);
 * each is applied with Slurm's meaning, accepted with a warning when it
 * changes nothing here, or refused naming it and why (the table in
 * api/sbatch.h; docs/slurm.md). The job is one aidc task per node, each
 * holding that node's allocation; the script runs once, on the first node,
 * with ARGS as $1.., in the submit
 * directory (or --chdir), its output in slurm-%j.out by default. Bad input
 * prints one clear line and submits nothing.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/sbatch.h"
#include "cli/cli.h"
#include "cli/cli_live.h"
#include "cli/cli_slurm.h"
#include "util/hostlist.h"
#include "util/util.h"

extern char **environ;

/* The command the user ran, for every message: "sbatch", or "salloc" from
 * cli_salloc_main (the two share this parser). */
static const char *me = "sbatch";

/* One message on stderr: "aidc sbatch: " (or salloc) and fmt. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "aidc %s: ", me);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* One command-line option, applied after the script's directives. */
struct cl_opt {
	char opt[64];
	const char *val; /* borrowed from argv, or NULL */
};

struct sbatch_cl {
	struct cl_opt *opts;
	size_t nopts;
	const char *sock;
	const char *script_path; /* NULL = stdin or --wrap */
	char **args;		 /* the script's $1.. (borrowed from argv) */
	int nargs;
	bool help, version;
	/* aidc salloc: the command to run once granted (NULL: the user's shell) */
	bool salloc;
	char **cmd;
};

/* sbatch options salloc does not have (the job's script is salloc's own
 * step holder; the command runs here). */
static const char *const salloc_refused[] = {
    "array", "wrap", "wait", "parsable", "output", "error", "open-mode", "test-only",
    "ignore-pbs", "input", "signal", "requeue", "no-requeue", "kill-on-invalid-dep",
    /* they would reach the holders, not the command or its steps: cd or set the
     * variables before salloc instead */
    "chdir", "export"};

static bool salloc_refuses(const char *name)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(salloc_refused); i++)
		if (!strcmp(name, salloc_refused[i]))
			return true;
	return false;
}

/* --help: the flag table built from api_sbatch_opts, each line its status,
 * so the man page and completion list every sbatch option. */
static void print_help(const char **sock, bool salloc)
{
	size_t n = api_sbatch_nopts;
	struct cli_flag *f = aidc_calloc(n + 2, sizeof *f);
	char(*help)[320] = aidc_calloc(n, sizeof *help);
	static const char *const status[] = {"", "", "accepted, no effect: ", "refused: "};
	static bool dummy_b;
	static const char *dummy_s;
	for (size_t i = 0; i < n; i++) {
		const struct api_sbatch_opt *o = &api_sbatch_opts[i];
		char sh[8] = "";
		if (o->shortopt)
			snprintf(sh, sizeof sh, "-%c: ", o->shortopt);
		if (salloc && salloc_refuses(o->name))
			snprintf(help[i], sizeof help[i], "%srefused: sbatch's, not salloc's", sh);
		else
			snprintf(help[i], sizeof help[i], "%s%s%s", sh, status[o->status], o->why);
		f[i] =
		    (struct cli_flag){o->name,
				      o->arg == API_SB_NOARG ? CLI_BOOL : CLI_STR,
				      o->arg == API_SB_NOARG ? (void *)&dummy_b : (void *)&dummy_s,
				      o->arg == API_SB_NOARG ? NULL : "V",
				      help[i],
				      0,
				      0,
				      NULL,
				      NULL};
	}
	const struct cli_flag conn[] = {CLI_CONN_FLAGS(*sock)};
	f[n] = conn[0];
	f[n + 1] = conn[1];
	const struct cli_cmd cmd = {
	    "sbatch", "aidc sbatch [options] [SCRIPT [ARGS...]]",
	    "Submit a batch script as Slurm's sbatch does: #SBATCH directives, then the command "
	    "line, which wins. Every sbatch option is applied with Slurm's meaning, accepted "
	    "with a warning when it changes nothing here, or refused with the reason "
	    "(docs/slurm.md); unknown options are errors. The job holds -N nodes (default 1): "
	    "the script runs once, on the first, with ARGS as $1.., its output in "
	    "slurm-%j.out; srun runs steps on all of them. Without SCRIPT (and --wrap) the "
	    "script is read from stdin.",
	    f, n + 2};
	const struct cli_cmd sa = {
	    "salloc", "aidc salloc [options] [COMMAND [ARGS...]]",
	    "Slurm's salloc: asks for an allocation with sbatch's options (as sbatch: applied, "
	    "accepted with a warning, or refused with the reason), waits until it is granted, "
	    "then runs COMMAND (default: $SHELL) here with the job's SLURM_* variables; srun in "
	    "it runs steps on the allocation's nodes. The allocation ends when COMMAND exits, "
	    "with its status (the job completed, or failed with the exit code); salloc exits "
	    "with it (docs/slurm.md).",
	    f, n + 2};
	cli_print_help(salloc ? &sa : &cmd, stdout);
	aidc_free(help);
	aidc_free(f);
}

/* Splits "--opt=V" / "-xV" / "--opt V" of argv[*i]; returns 0 or CLI_EXIT_USAGE. */
static int take_opt(int argc, char **argv, int *i, struct cl_opt *out)
{
	const char *a = argv[*i];
	const char *eq = NULL;
	if (a[1] == '-') {
		eq = strchr(a, '=');
		size_t len = eq ? (size_t)(eq - a) : strlen(a);
		if (len >= sizeof out->opt) {
			say("%.64s...: unknown option (docs/slurm.md)\n", a);
			return CLI_EXIT_USAGE;
		}
		memcpy(out->opt, a, len);
		out->opt[len] = '\0';
		out->val = eq ? eq + 1 : NULL;
	} else {
		snprintf(out->opt, sizeof out->opt, "-%c", a[1]);
		out->val = a[2] ? a + 2 + (a[2] == '=') : NULL;
	}
	const struct api_sbatch_opt *o = api_sbatch_find(out->opt);
	if (!o) {
		say("%s: unknown option (%s's options and their status here: 'aidc %s --help', "
		    "docs/slurm.md)\n",
		    out->opt, me, me);
		return CLI_EXIT_USAGE;
	}
	if (!out->val && o->arg == API_SB_ARG) {
		if (*i + 1 >= argc) {
			say("%s needs a value\n", out->opt);
			return CLI_EXIT_USAGE;
		}
		out->val = argv[++*i];
	}
	return 0;
}

/* The command line: options (kept for after the directives), then SCRIPT
 * and its arguments. */
static int parse_cl(int argc, char **argv, struct sbatch_cl *cl)
{
	cl->opts = aidc_calloc((size_t)argc, sizeof *cl->opts);
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "--socket") || !strcmp(a, "--controller")) {
			if (i + 1 >= argc) {
				say("%s needs a value\n", a);
				return CLI_EXIT_USAGE;
			}
			cl->sock = argv[++i];
			continue;
		}
		if (!strncmp(a, "--socket=", 9) || !strncmp(a, "--controller=", 13)) {
			cl->sock = strchr(a, '=') + 1;
			continue;
		}
		struct cl_opt *o = &cl->opts[cl->nopts];
		int rc = take_opt(argc, argv, &i, o);
		if (rc)
			return rc;
		if (!strcmp(o->opt, "--help") || !strcmp(o->opt, "-h") ||
		    !strcmp(o->opt, "--usage"))
			cl->help = true;
		else if (!strcmp(o->opt, "--version") || !strcmp(o->opt, "-V"))
			cl->version = true;
		else
			cl->nopts++;
	}
	if (i < argc) {
		cl->script_path = argv[i];
		cl->args = argv + i + 1;
		cl->nargs = argc - i - 1;
	}
	return 0;
}

/* Reads the script (a file, or stdin) into *out (caller frees). */
static int read_script(const char *path, char **out)
{
	FILE *f = path ? fopen(path, "rb") : stdin;
	if (!f) {
		say("%s: %s\n", path, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	char *buf = aidc_malloc(AIDC_MAX_SCRIPT_BYTES + 2);
	size_t n = fread(buf, 1, AIDC_MAX_SCRIPT_BYTES + 1, f);
	bool err = ferror(f);
	if (path)
		fclose(f);
	if (err || n > AIDC_MAX_SCRIPT_BYTES) {
		say("%s: %s\n", path ? path : "stdin",
		    err ? "read error" : "script larger than the limit (AIDC_MAX_SCRIPT_BYTES)");
		aidc_free(buf);
		return CLI_EXIT_FAIL;
	}
	buf[n] = '\0';
	if (strlen(buf) != n) {
		say("%s: the script contains a NUL byte (not a text file)\n",
		    path ? path : "stdin");
		aidc_free(buf);
		return CLI_EXIT_FAIL;
	}
	if (strncmp(buf, "#!", 2) != 0) {
		say("%s: this does not look like a batch script: the first line "
		    "must start with #! and the path of an interpreter (as sbatch)\n",
		    path ? path : "stdin");
		aidc_free(buf);
		return CLI_EXIT_USAGE;
	}
	*out = buf;
	return 0;
}

/* The script text: --wrap's, or read; then its directives and the command
 * line's options into sb. */
static int load(const struct sbatch_cl *cl, char **script, struct api_sbatch *sb)
{
	const char *wrap = NULL;
	for (size_t i = 0; i < cl->nopts; i++)
		if (!strcmp(cl->opts[i].opt, "--wrap"))
			wrap = cl->opts[i].val;
	int rc;
	if (wrap && cl->script_path) {
		say("--wrap and a script (%s) exclude each other (as sbatch: no "
		    "script arguments with --wrap)\n",
		    cl->script_path);
		return CLI_EXIT_USAGE;
	}
	if (wrap) {
		size_t n = strlen(wrap) + 32;
		*script = aidc_malloc(n);
		snprintf(*script, n, "#!/bin/sh\n%s\n", wrap);
	} else if ((rc = read_script(cl->script_path, script)) != 0) {
		return rc;
	}
	struct aidc_err e = {0};
	if (api_sbatch_parse(*script, sb, &e) != 0) {
		say("%s: %s\n", cl->script_path ? cl->script_path : "script", e.msg);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < cl->nopts; i++) {
		struct aidc_err le = {0};
		if (api_sbatch_apply(sb, cl->opts[i].opt, cl->opts[i].val, &le) != 0) {
			say("%s\n", le.msg);
			return CLI_EXIT_USAGE;
		}
	}
	return 0;
}

/* sbatch reads SBATCH_* input variables; this one does not: refused rather
 * than ignored (each would change the job in Slurm). */
/* A node file (-w/-x with a '/', -F) as a comma list in dst (cap bytes): its
 * names separated by blanks, commas or lines, as sbatch reads it on the
 * submit host (a relative name: from the current directory). */
static int read_hostfile(const char *opt, char *dst, size_t cap)
{
	char path[AIDC_MAX_ARG_BYTES];
	snprintf(path, sizeof path, "%s", dst);
	FILE *f = fopen(path, "r");
	if (!f) {
		say("%s=%s: cannot read the node file: %s\n", opt, path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	size_t n = 0;
	bool sep = false, over = false;
	int ch;
	while ((ch = fgetc(f)) != EOF && !over) {
		bool blank = ch == ',' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
		if (blank) {
			sep = n > 0;
			continue;
		}
		if (sep && n + 1 < cap)
			dst[n++] = ',';
		sep = false;
		over = n + 1 >= cap;
		if (!over)
			dst[n++] = (char)ch;
	}
	fclose(f);
	dst[n] = '\0';
	if (over || n == 0) {
		say("%s=%s: the node file is %s\n", opt, path, over ? "too long" : "empty");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* Reads -w/-x/-F node files into the lists and checks them as hostlists. */
static int read_hostfiles(struct api_sbatch *sb)
{
	struct {
		const char *opt;
		char *list;
		bool *file;
	} l[] = {{"--nodelist", sb->nodelist, &sb->nodelist_file},
		 {"--exclude", sb->exclude, &sb->exclude_file}};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(l); i++) {
		if (!*l[i].file)
			continue;
		int rc = read_hostfile(l[i].opt, l[i].list, sizeof sb->nodelist);
		if (rc)
			return rc;
		*l[i].file = false;
		char **names = NULL;
		size_t n = 0;
		struct aidc_err e = {0};
		rc = aidc_hostlist_expand(l[i].list, AIDC_MAX_NODES, &names, &n, &e);
		aidc_hostlist_free(names, n);
		if (rc) {
			say("%s: the node file: %s\n", l[i].opt, e.msg);
			return CLI_EXIT_USAGE;
		}
	}
	return CLI_EXIT_OK;
}

/* The prefix is the command's: SBATCH_ for sbatch, SALLOC_ for salloc (which
 * reads no SBATCH_ variable, as Slurm's). */
static int check_input_env(bool salloc)
{
	const char *pre = salloc ? "SALLOC_" : "SBATCH_";
	for (char **ep = environ; *ep; ep++)
		if (!strncmp(*ep, pre, 7)) {
			const char *eq = strchr(*ep, '=');
			say("%.*s is set: %s's input environment variables are not "
			    "read here; unset it and give the option instead (docs/slurm.md)\n",
			    eq ? (int)(eq - *ep) : 64, *ep, me);
			return CLI_EXIT_USAGE;
		}
	return 0;
}

static void warn_noeffect(const struct api_sbatch *sb)
{
	if (sb->quiet)
		return;
	for (uint32_t i = 0; i < sb->nwarn; i++) {
		const struct api_sbatch_opt *o = &api_sbatch_opts[sb->warn[i]];
		say("warning: --%s has no effect here: %s\n", o->name, o->why);
	}
	if (sb->pbs_lines && !sb->ignore_pbs)
		say("warning: %u #PBS directive(s) not read (only #SBATCH is; "
		    "--ignore-pbs silences this)\n",
		    sb->pbs_lines);
}

/* What the job is, resolved: the name, paths and directory. */
struct resolved {
	struct api_sbatch_job job;
	char name[AIDC_MAX_NAME_BYTES];
	char out[AIDC_MAX_PATH_BYTES], err[AIDC_MAX_PATH_BYTES];
	char cwd[AIDC_MAX_PATH_BYTES];
	char submit_dir[AIDC_MAX_PATH_BYTES]; /* where aidc sbatch ran (SLURM_SUBMIT_DIR) */
	char rid[40];
};

static int resolve_paths(const struct sbatch_cl *cl, const struct api_sbatch *sb,
			 struct resolved *r)
{
	struct aidc_err e = {0};
	if (sb->name[0]) {
		snprintf(r->name, sizeof r->name, "%s", sb->name);
	} else if (cl->script_path) {
		const char *b = strrchr(cl->script_path, '/');
		snprintf(r->name, sizeof r->name, "%s", b ? b + 1 : cl->script_path);
	} else {
		snprintf(r->name, sizeof r->name, "%s", sb->wrap[0] ? "wrap" : "sbatch");
	}
	bool arr = sb->array[0] != 0;
	const char *def = arr ? "slurm-%A_%a.out" : "slurm-%j.out";
	if (api_sbatch_pattern("--output", sb->stdout_path[0] ? sb->stdout_path : def, r->name, arr,
			       r->out, sizeof r->out, &e) ||
	    (sb->stderr_path[0] && api_sbatch_pattern("--error", sb->stderr_path, r->name, arr,
						      r->err, sizeof r->err, &e))) {
		say("%s\n", e.msg);
		return CLI_EXIT_USAGE;
	}
	char *here = r->submit_dir;
	if (!getcwd(here, sizeof r->submit_dir)) {
		say("cannot read the current directory: %s\n", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	int n = sb->chdir[0] == '/' ? snprintf(r->cwd, sizeof r->cwd, "%s", sb->chdir)
		: sb->chdir[0]	    ? snprintf(r->cwd, sizeof r->cwd, "%s/%s", here, sb->chdir)
				    : snprintf(r->cwd, sizeof r->cwd, "%s", here);
	if (n < 0 || (size_t)n >= sizeof r->cwd) {
		say("--chdir: path longer than %zu bytes\n", sizeof r->cwd - 1);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static int request_id(char out[40])
{
	unsigned char raw[16];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		say("cannot make a request id: %s\n", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* Whether NAME=... of kv is named in the --export list (NAME or NAME=V). */
static bool export_named(const char *list, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		size_t nl = strcspn(p, ",=");
		if (nl > n)
			nl = n;
		if (nl == klen && !strncmp(p, kv, klen) && p[nl] != '=')
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/* --export: ALL (default), NONE, or [ALL,]VAR[=VALUE],... (without ALL, only
 * the named variables and SLURM_*), less aidc's credentials. */
static int write_env(struct aidc_json *w, const char *exp)
{
	bool all = !exp[0] || !strcmp(exp, "ALL") || !strncmp(exp, "ALL,", 4);
	bool none = !strcmp(exp, "NONE");
	const char *list = !strncmp(exp, "ALL,", 4) ? exp + 4 : (all || none ? "" : exp);
	aidc_json_key(w, "env");
	aidc_json_arr_begin(w);
	size_t n = 0;
	for (char **ep = environ; *ep && !none; ep++) {
		if (strlen(*ep) >= AIDC_MAX_ARG_BYTES || strchr(*ep, '=') == *ep ||
		    cli_env_credential(*ep))
			continue;
		/* The submitter's own SLURM_* (sbatch run inside a job) would mix
		 * with the batch job's: the job gets its own (slurm_vars). */
		if (!strncmp(*ep, "SLURM_", 6) || (!all && !export_named(list, *ep)))
			continue;
		if (++n > AIDC_MAX_ENV - 32) { /* room for slurm_vars */
			say("more than %u environment variables\n", AIDC_MAX_ENV - 32);
			return CLI_EXIT_USAGE;
		}
		aidc_json_str(w, *ep);
	}
	for (const char *p = list; *p;) { /* VAR=VALUE entries */
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		if (eq == p || (!eq && len == 0)) {
			say("--export=%.64s: empty variable name\n", exp);
			return CLI_EXIT_USAGE;
		}
		if (eq) {
			char kv[AIDC_MAX_ARG_BYTES];
			snprintf(kv, sizeof kv, "%.*s", (int)len, p);
			aidc_json_str(w, kv);
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

/* The submit-time part of a Slurm batch job's environment (the agent adds
 * the job id, node list, ... when the job runs: slurm_env). As Slurm, the
 * per-task and memory variables only when they were asked for. */
static void slurm_vars(struct aidc_json *w, const struct api_sbatch *sb, const struct resolved *r,
		       const char *submit_dir)
{
	char host[256] = "";
	if (gethostname(host, sizeof host - 1) != 0)
		host[0] = '\0';
	const struct {
		const char *k;
		int64_t v; /* < 0: not set */
	} nums[] = {
	    {"SLURM_NTASKS", r->job.ntasks},
	    {"SLURM_NPROCS", r->job.ntasks},
	    {"SLURM_NNODES", r->job.nodes},
	    {"SLURM_JOB_NUM_NODES", r->job.nodes},
	    {"SLURM_NTASKS_PER_NODE", sb->ntasks_per_node ? sb->ntasks_per_node : -1},
	    {"SLURM_CPUS_PER_TASK", sb->cpus_per_task ? sb->cpus_per_task : -1},
	    {"SLURM_CPUS_PER_GPU", sb->cpus_per_gpu ? sb->cpus_per_gpu : -1},
	    {"SLURM_MEM_PER_NODE", sb->mem_set && sb->mem_mib ? sb->mem_mib : -1},
	    {"SLURM_MEM_PER_CPU", sb->mem_per_cpu_mib ? sb->mem_per_cpu_mib : -1},
	    {"SLURM_MEM_PER_GPU", sb->mem_per_gpu_mib ? sb->mem_per_gpu_mib : -1},
	    {"SLURM_GPUS_PER_NODE", sb->gpus_per_node ? sb->gpus_per_node : -1},
	    {"SLURM_GPUS_PER_TASK", sb->gpus_per_task ? sb->gpus_per_task : -1},
	    {"SLURM_GPUS", sb->gpus_total ? sb->gpus_total : -1},
	};
	char kv[AIDC_MAX_ARG_BYTES];
	/* Slurm's compressed counts: "8(x2)" on two nodes. */
	snprintf(kv, sizeof kv,
		 r->job.nodes > 1 ? "SLURM_JOB_CPUS_PER_NODE=%" PRId64 "(x%" PRId64 ")"
				  : "SLURM_JOB_CPUS_PER_NODE=%" PRId64,
		 r->job.cpus, r->job.nodes);
	aidc_json_str(w, kv);
	snprintf(kv, sizeof kv, "SLURM_TASKS_PER_NODE=%s", r->job.tasks_per_node);
	aidc_json_str(w, kv);
	for (size_t i = 0; i < AIDC_ARRAY_LEN(nums); i++)
		if (nums[i].v >= 0) {
			snprintf(kv, sizeof kv, "%s=%" PRId64, nums[i].k, nums[i].v);
			aidc_json_str(w, kv);
		}
	const struct {
		const char *k, *v;
	} strs[] = {{"SLURM_JOB_NAME", r->name},
		    {"SLURM_SUBMIT_DIR", submit_dir},
		    {"SLURM_SUBMIT_HOST", host},
		    {"SLURM_JOB_PARTITION", sb->partition},
		    {"SLURM_JOB_ACCOUNT", sb->account},
		    {"SLURM_JOB_QOS", sb->qos},
		    {"SLURM_EXPORT_ENV", sb->export_[0] ? sb->export_ : "ALL"},
		    {"SLURM_CLUSTER_NAME", "aidc"}};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(strs); i++)
		if (strs[i].v[0]) {
			snprintf(kv, sizeof kv, "%s=%.*s", strs[i].k, (int)(sizeof kv - 64),
				 strs[i].v);
			aidc_json_str(w, kv);
		}
}

/* The job's resources per node (one aidc task each), limits and start time. */
static void write_resources(struct aidc_json *w, const struct api_sbatch *sb,
			    const struct resolved *r)
{
	aidc_json_ki64(w, "nodes", r->job.nodes);
	aidc_json_ki64(w, "ntasks", r->job.nodes);
	aidc_json_ki64(w, "cpus_per_task", r->job.cpus);
	if (r->job.gpus)
		aidc_json_ki64(w, "gpus_per_task", r->job.gpus);
	if (r->job.gpu_milli) /* --gres=mps:N: N% of the one device */
		aidc_json_ki64(w, "gpu_milli", r->job.gpu_milli);
	if (r->job.mem_mib)
		aidc_json_ki64(w, "mem_mib", r->job.mem_mib);
	if (sb->time_limit_s)
		aidc_json_ki64(w, "time_limit_s", sb->time_limit_s);
	if (sb->signal) {
		aidc_json_ki64(w, "signal", sb->signal);
		aidc_json_ki64(w, "signal_before_s", sb->signal_before_s);
		if (sb->signal_batch)
			aidc_json_kbool(w, "signal_batch", true);
	}
	if (sb->begin_s)
		aidc_json_ki64(w, "begin_s", sb->begin_s);
	if (r->job.priority_set)
		aidc_json_ki64(w, "priority", r->job.priority);
}

/* The POST /v1/jobs body: one aidc task per node, each with its node's
 * share of the allocation (task 0 runs the script; docs/slurm.md). */
static int write_job(struct aidc_json *w, const struct sbatch_cl *cl, const struct api_sbatch *sb,
		     const struct resolved *r, const char *script, bool with_env)
{
	aidc_json_obj_begin(w);
	aidc_json_ki64(w, "v", API_JOB_SPEC_VERSION);
	aidc_json_kstr(w, "name", r->name);
	aidc_json_kstr(w, "script", script);
	if (cl->nargs) {
		aidc_json_key(w, "script_args");
		aidc_json_arr_begin(w);
		for (int i = 0; i < cl->nargs; i++)
			aidc_json_str(w, cl->args[i]);
		aidc_json_arr_end(w);
	}
	aidc_json_kstr(w, "cwd", r->cwd);
	mode_t um = umask(0);
	umask(um);
	char ums[8];
	snprintf(ums, sizeof ums, "%04o", (unsigned)(um & 0777));
	aidc_json_kstr(w, "umask", ums);
	int rc = 0;
	if (with_env) {
		rc = write_env(w, sb->export_);
		slurm_vars(w, sb, r, r->submit_dir);
		aidc_json_arr_end(w);
	}
	write_resources(w, sb, r);
	const struct {
		const char *key, *v;
	} strs[] = {{"gpu_model", sb->gpu_model},
		    {"partition", sb->partition},
		    {"account", sb->account},
		    {"qos", sb->qos},
		    {"stdout_path", r->out},
		    {"stderr_path", r->err},
		    {"on_node_failure", sb->requeue > 0	  ? "requeue"
					: sb->requeue < 0 ? "fail"
							  : ""},
		    {"request_id", r->rid},
		    {"dependency", sb->dependency},
		    {"nodelist", sb->nodelist},
		    {"exclude", sb->exclude}};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(strs); i++)
		if (strs[i].v[0])
			aidc_json_kstr(w, strs[i].key, strs[i].v);
	if (sb->preemptible)
		aidc_json_kbool(w, "preemptible", true);
	if (sb->hold)
		aidc_json_kbool(w, "hold", true);
	if (sb->exclusive || r->job.mem_whole)
		aidc_json_kbool(w, "exclusive", true);
	if (r->job.mem_whole)
		aidc_json_kbool(w, "mem_whole", true);
	if (sb->kill_invalid_dep)
		aidc_json_kbool(w, "kill_on_invalid_dep", true);
	if (sb->array[0])
		aidc_json_kstr(w, "array", sb->array);
	aidc_json_kbool(w, "slurm_env", true);
	aidc_json_obj_end(w);
	return rc;
}

/* salloc: the allocation's SLURM_* variables of submit time (as a batch
 * job's) as a JSON array of "K=V", for the command salloc runs. */
static char *salloc_vars(const struct api_sbatch *sb, const struct resolved *r)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 1u << 20);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_arr_begin(&w);
	slurm_vars(&w, sb, r, r->submit_dir);
	char kv[64];
	snprintf(kv, sizeof kv, "SLURM_CPUS_ON_NODE=%" PRId64, r->job.cpus);
	aidc_json_str(&w, kv);
	aidc_json_arr_end(&w);
	char *out = aidc_json_finish(&w) ? NULL : aidc_strdup(aidc_buf_str(&b));
	aidc_buf_release(&b);
	return out;
}

/* --test-only / -v: the job as it would be sent (less the environment). */
static void show_job(FILE *out, const struct sbatch_cl *cl, const struct api_sbatch *sb,
		     const struct resolved *r, const char *script)
{
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_HTTP_BODY_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	write_job(&w, cl, sb, r, script, false);
	if (aidc_json_finish(&w) == 0)
		fprintf(out, "%s\n", aidc_buf_str(&b));
	aidc_buf_release(&b);
}

/* --wait: polls the job (1 s apart, as sbatch) until it ends; its exit code,
 * 1 when it ended otherwise without one (cancelled, timeout, node_fail). */
static int wait_job(const char *sp, long long id)
{
	char path[64];
	snprintf(path, sizeof path, "/v1/jobs/%lld", id);
	for (;;) {
		struct api_call c;
		int rc = cli_call_retry("sbatch", sp, "GET", path, NULL, 0, &c,
					CLI_CALL_WAIT | CLI_CALL_IDEMPOTENT);
		if (rc)
			return rc;
		json_error_t je;
		json_t *j = json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, &je);
		aidc_buf_release(&c.reply);
		const char *st = j ? json_string_value(json_object_get(j, "state")) : NULL;
		json_int_t code = j ? json_integer_value(json_object_get(j, "exit_code")) : 0;
		json_int_t sig = j ? json_integer_value(json_object_get(j, "signal")) : 0;
		bool done = st && (!strcmp(st, "completed") || !strcmp(st, "failed") ||
				   !strcmp(st, "cancelled") || !strcmp(st, "timeout") ||
				   !strcmp(st, "node_fail"));
		int ret = !st	 ? CLI_EXIT_FAIL
			  : code ? (int)(code & 0xff)
			  : sig	 ? 128 + (int)(sig & 0x7f)
				 : (strcmp(st, "completed") ? CLI_EXIT_FAIL : CLI_EXIT_OK);
		if (!st)
			say("--wait: unexpected reply for job %lld\n", id);
		else if (done && ret)
			say("job %lld ended %s (exit code %lld)\n", id, st, (long long)code);
		json_decref(j);
		if (!st || done)
			return ret;
		struct timespec ts = {1, 0};
		nanosleep(&ts, NULL);
	}
}

static int submit(const struct sbatch_cl *cl, const struct api_sbatch *sb, const struct resolved *r,
		  const char *script)
{
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_HTTP_BODY_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	int rc = write_job(&w, cl, sb, r, script, true);
	if (rc == 0 && aidc_json_finish(&w) != 0) {
		say("the job is larger than %u bytes\n", AIDC_MAX_HTTP_BODY_BYTES);
		rc = CLI_EXIT_FAIL;
	}
	if (rc) {
		aidc_buf_release(&b);
		return rc;
	}
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(cl->sock, sp, sizeof sp);
	struct api_call c;
	rc = cli_call_retry(me, sp, "POST", "/v1/jobs", aidc_buf_str(&b), b.len, &c,
			    cli_call_wait_flag(sp) | CLI_CALL_IDEMPOTENT);
	aidc_buf_release(&b);
	if (rc)
		return rc;
	const char *p = strstr(aidc_buf_str(&c.reply), "\"id\":"); /* the first member */
	long long id = p ? strtoll(p + 5, NULL, 10) : -1LL;
	aidc_buf_release(&c.reply);
	if (cl->salloc) {
		char *vars = salloc_vars(sb, r);
		rc = id > 0 ? cli_salloc_session(me, sp, id, cl->cmd, vars) : CLI_EXIT_FAIL;
		aidc_free(vars);
		return rc;
	}
	if (sb->parsable)
		printf("%lld\n", id);
	else
		printf("Submitted batch job %lld\n", id);
	fflush(stdout);
	return sb->wait && id > 0 ? wait_job(sp, id) : CLI_EXIT_OK;
}

static int run(const struct sbatch_cl *cl)
{
	struct api_sbatch *sb = aidc_calloc(1, sizeof *sb);
	struct resolved *r = aidc_calloc(1, sizeof *r);
	char *script = NULL;
	struct aidc_err e = {0};
	int rc = check_input_env(cl->salloc);
	if (rc == 0)
		rc = load(cl, &script, sb);
	if (rc == 0)
		rc = read_hostfiles(sb);
	if (rc == 0 && api_sbatch_resolve(sb, &r->job, &e) != 0) {
		say("%s\n", e.msg);
		rc = CLI_EXIT_USAGE;
	}
	if (rc == 0)
		rc = resolve_paths(cl, sb, r);
	if (rc == 0) {
		warn_noeffect(sb);
		if (sb->verbose || sb->test_only)
			show_job(sb->test_only ? stdout : stderr, cl, sb, r, script);
		if (sb->test_only)
			say("--test-only: the job above is valid here; nothing was "
			    "submitted\n");
		else if ((rc = request_id(r->rid)) == 0)
			rc = submit(cl, sb, r, script);
	}
	aidc_free(script);
	aidc_free(r);
	aidc_free(sb);
	return rc;
}

/* salloc: sbatch's options less salloc_refused; the positional words are the
 * command; the job's script is salloc's step holder (docs/slurm.md). */
static int salloc_prepare(struct sbatch_cl *cl, char *name, size_t n)
{
	for (size_t i = 0; i < cl->nopts; i++) {
		const struct api_sbatch_opt *o = api_sbatch_find(cl->opts[i].opt);
		if (o && salloc_refuses(o->name)) {
			say("%s: %s; nothing was allocated\n", cl->opts[i].opt,
			    !strcmp(o->name, "chdir") || !strcmp(o->name, "export")
				? "not applied here: the command and its steps run with "
				  "salloc's directory and environment (cd, or set them, first)"
				: "sbatch's, not an salloc option (the command runs here)");
			return CLI_EXIT_USAGE;
		}
	}
	if (cl->script_path) { /* COMMAND [ARGS...]: argv from script_path on */
		cl->cmd = cl->args - 1;
		const char *b = strrchr(cl->script_path, '/');
		snprintf(name, n, "%s", b ? b + 1 : cl->script_path);
	} else {
		snprintf(name, n, "interactive");
	}
	cl->script_path = NULL;
	cl->nargs = 0;
	/* In front of the user's options, which win. */
	memmove(cl->opts + 3, cl->opts, cl->nopts * sizeof *cl->opts);
	cl->opts[0] = (struct cl_opt){"--wrap", "AIDC_SALLOC=1 exec srun --aidc-step-holder"};
	cl->opts[1] = (struct cl_opt){"--output", "/dev/null"};
	cl->opts[2] = (struct cl_opt){"--job-name", name};
	cl->nopts += 3;
	return 0;
}

int cli_salloc_main(int argc, char **argv)
{
	return cli_salloc_as("salloc", argc, argv);
}

int cli_salloc_as(const char *as, int argc, char **argv)
{
	struct sbatch_cl cl = {.salloc = true};
	char name[AIDC_MAX_NAME_BYTES];
	me = as;
	int rc = parse_cl(argc, argv, &cl);
	if (rc == 0 && !cl.help && !cl.version) {
		cl.opts = aidc_reallocarray(cl.opts, cl.nopts + 3, sizeof *cl.opts);
		rc = salloc_prepare(&cl, name, sizeof name);
	}
	if (rc == 0 && cl.help)
		print_help(&cl.sock, true);
	else if (rc == 0 && cl.version)
		printf("aidc salloc (aidc %s)\n", AIDC_VERSION);
	else if (rc == 0)
		rc = run(&cl);
	aidc_free(cl.opts);
	return rc;
}

int cli_sbatch_main(int argc, char **argv)
{
	struct sbatch_cl cl = {0};
	int rc = parse_cl(argc, argv, &cl);
	if (rc == 0 && cl.help)
		print_help(&cl.sock, false);
	else if (rc == 0 && cl.version)
		printf("aidc sbatch (aidc %s)\n", AIDC_VERSION);
	else if (rc == 0)
		rc = run(&cl);
	aidc_free(cl.opts);
	return rc;
}
