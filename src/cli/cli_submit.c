/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc submit`: a command or a batch script, with resource flags. Script
 * directives (#AIDC and the common #SBATCH options, api/sbatch.h) apply first;
 * flags on the command line override them. The job runs as the caller (the
 * controller reads the uid from the socket), in the current directory, with
 * the current environment (as sbatch's default --export=ALL).
 */
#include <errno.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/sbatch.h"
#include "cli/cli.h"
#include "cli/cli_live.h"
#include "util/util.h"

extern char **environ;

/* Short options and their long names. */
static const char *const shorts[][2] = {
	{"-N", "--nodes"}, {"-n", "--ntasks"}, {"-c", "--cpus-per-task"}, {"-t", "--time"},
	{"-J", "--job-name"}, {"-o", "--output"}, {"-e", "--error"}, {"-p", "--partition"},
	{"-G", "--gpus"}, {"-A", "--account"}, {"-q", "--qos"}, {"-H", "--hold"},
	{"-d", "--dependency"}, {"-a", "--array"}, {"-b", "--begin"}, {"-w", "--nodelist"},
	{"-x", "--exclude"},
};

static int read_script(const char *path, char **out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return AIDC_E_IO;
	char *buf = aidc_malloc(AIDC_MAX_SCRIPT_BYTES + 2);
	size_t n = fread(buf, 1, AIDC_MAX_SCRIPT_BYTES + 1, f);
	fclose(f);
	if (n > AIDC_MAX_SCRIPT_BYTES) {
		aidc_free(buf);
		return AIDC_E_LIMIT;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

static bool is_script(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return false;
	FILE *f = fopen(path, "rb");
	char head[2] = {0};
	bool ok = f && fread(head, 1, 2, f) == 2 && head[0] == '#' && head[1] == '!';
	if (f)
		fclose(f);
	return ok;
}

/* What the command line asked for; flags override the script's directives. */
struct submit_opts {
	const char *sock, *time_s, *name, *out, *err, *part, *mem, *model, *on_fail, *rid;
	const char *account, *qos, *dep, *array, *begin, *nodelist, *exclude;
	char rid_buf[40]; /* the generated request id when --request-id is absent */
	int64_t nodes, ntasks, per_node, cpus, gpt, gpus, prio, gpu_milli;
	bool json, no_env, preemptible, hold, exclusive;
	char **cmd; /* the script or command and its arguments (borrowed from argv) */
	int ncmd;
};

/*
 * Copies argv's options into opts (caller frees), rewriting short options to
 * long ones (-N2 and -N 2 -> --nodes=2 / --nodes 2), and returns the index of
 * the first word of the command: options end at the first non-option word or
 * after "--". shortbuf holds the rewritten "-N2" forms.
 */
static int split_argv(int argc, char **argv, const struct cli_cmd *cmd, char **opts,
		      size_t *nopts, char (*shortbuf)[160], size_t nshortbuf)
{
	size_t no = 0, nshort = 0;
	opts[no++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			*nopts = no;
			return i + 1;
		}
		if (a[0] != '-' || !a[1]) {
			*nopts = no;
			return i;
		}
		bool mapped = false;
		for (size_t k = 0; k < AIDC_ARRAY_LEN(shorts) && a[1] != '-'; k++) {
			if (a[1] != shorts[k][0][1])
				continue;
			mapped = true;
			if (a[2]) { /* -N2 */
				if (nshort == nshortbuf)
					break;
				snprintf(shortbuf[nshort], sizeof shortbuf[nshort], "%s=%s",
					 shorts[k][1], a[2] == '=' ? a + 3 : a + 2);
				opts[no++] = shortbuf[nshort++];
			} else {
				opts[no++] = (char *)shorts[k][1];
			}
		}
		if (!mapped)
			opts[no++] = argv[i];
		/* An option that takes a value consumes the next word. */
		const char *o = opts[no - 1];
		if (!strncmp(o, "--", 2) && !strchr(o, '=') && i + 1 < argc)
			for (size_t k = 0; k < cmd->nflags; k++)
				if (!strcmp(cmd->flags[k].name, o + 2) &&
				    cmd->flags[k].type != CLI_BOOL) {
					opts[no++] = argv[++i];
					break;
				}
	}
	*nopts = no;
	return argc;
}

/* Checks --request-id, or makes a random one: the controller records it with
 * the job, so a submit resent after a lost reply (the client retries while
 * the controller restarts) returns that job instead of making a second. */
static int request_id(struct submit_opts *o)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-";
	if (o->rid) {
		size_t n = strlen(o->rid);
		if (n == 0 || n > 64 || strspn(o->rid, ok) != n) {
			fprintf(stderr, "aidc submit: --request-id: 1 to 64 characters of A-Z a-z "
					"0-9 . _ : -\n");
			return CLI_EXIT_USAGE;
		}
		return 0;
	}
	unsigned char raw[16];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		fprintf(stderr, "aidc submit: cannot make a request id: %s\n", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(o->rid_buf + 2 * i, 3, "%02x", raw[i]);
	o->rid = o->rid_buf;
	return 0;
}

/* The command (or script) from argv[first]; then the submission's id. */
static int take_command(int argc, char **argv, int first, struct submit_opts *o)
{
	if (first >= argc) {
		fprintf(stderr, "aidc submit: give a batch script or a command (see 'aidc submit "
				"--help')\n");
		return CLI_EXIT_USAGE;
	}
	o->cmd = argv + first;
	o->ncmd = argc - first;
	return request_id(o);
}

/* Parses argv's options by cmd (short ones rewritten), then takes the command. */
static int parse_cmd(const struct cli_cmd *cmd, int argc, char **argv, struct submit_opts *o)
{
	char **opts = aidc_calloc((size_t)argc * 2 + 1, sizeof *opts);
	char shortbuf[64][160];
	size_t nopts = 0;
	int first = split_argv(argc, argv, cmd, opts, &nopts, shortbuf, AIDC_ARRAY_LEN(shortbuf));
	int rc = cli_parse(cmd, (int)nopts, opts, NULL, 0, NULL);
	aidc_free(opts);
	return rc ? rc : take_command(argc, argv, first, o);
}

/* Parses the command line into o; returns 1 after --help, or CLI_EXIT_*. */
static int parse_args(int argc, char **argv, struct submit_opts *o)
{
	const struct cli_flag flags[] = {
		{"nodes", CLI_I64, &o->nodes, "N", "-N: nodes", 1, AIDC_MAX_NODES, NULL, NULL},
		{"ntasks", CLI_I64, &o->ntasks, "N", "-n: tasks of the gang", 1,
		 AIDC_MAX_TASKS_PER_JOB, NULL, NULL},
		{"ntasks-per-node", CLI_I64, &o->per_node, "N", "tasks per node", 1,
		 AIDC_MAX_TASKS_PER_NODE, NULL, NULL},
		{"cpus-per-task", CLI_I64, &o->cpus, "N", "-c: CPUs per task", 1,
		 AIDC_MAX_NODE_CPU_MILLI / 1000, NULL, NULL},
		{"gpus-per-task", CLI_I64, &o->gpt, "N", "accelerators per task", 0,
		 AIDC_MAX_DEVICES_PER_NODE, NULL, NULL},
		{"gpus", CLI_I64, &o->gpus, "N", "-G: accelerators of the whole job", 0,
		 (double)AIDC_MAX_DEVICES_PER_NODE * AIDC_MAX_NODES, NULL, NULL},
		{"gpu-milli", CLI_I64, &o->gpu_milli, "M", "share of one device, milli", 1,
		 AIDC_DEVICE_MILLI, NULL, NULL},
		{"gpu-model", CLI_STR, &o->model, "MODEL", "accelerator model", 0, 0, NULL, NULL},
		{"mem", CLI_STR, &o->mem, "SIZE", "memory per task (e.g. 512M, 4G)", 0, 0, NULL,
		 NULL},
		{"time", CLI_STR, &o->time_s, "DURATION",
		 "-t: time limit; a bare number is minutes as in Slurm (90, 1:30:00, 1-00:00:00, "
		 "45s, 2h)",
		 0, 0, NULL, NULL},
		{"job-name", CLI_STR, &o->name, "NAME", "-J: job name", 0, 0, NULL, NULL},
		{"output", CLI_STR, &o->out, "FILE",
		 "-o: stdout file (%j %t %u %N %%), written as you when the task ends", 0, 0, NULL,
		 NULL},
		{"error", CLI_STR, &o->err, "FILE", "-e: stderr file (default: the -o file)", 0, 0,
		 NULL, NULL},
		{"partition", CLI_STR, &o->part, "NAME", "-p: partition", 0, 0, NULL, NULL},
		{"priority", CLI_I64, &o->prio, "N",
		 "priority (higher first) added to the QoS's; users may only lower it (N < 0, as "
		 "Slurm's --nice), admins may raise it (docs/tenancy.md)",
		 AIDC_MIN_PRIORITY, AIDC_MAX_PRIORITY, NULL, NULL},
		{"account", CLI_STR, &o->account, "NAME",
		 "-A: the account (project) the job is charged to (default: your default account)",
		 0, 0, NULL, NULL},
		{"qos", CLI_STR, &o->qos, "NAME",
		 "-q: quality of service, one the account allows (default: the account's)", 0, 0,
		 NULL, NULL},
		{"on-node-failure", CLI_STR, &o->on_fail, "requeue|fail", "what a lost node does", 0,
		 0, NULL, NULL},
		{"preemptible", CLI_BOOL, &o->preemptible, NULL,
		 "may be stopped and requeued for a higher-priority job (docs/live.md)", 0, 0, NULL,
		 NULL},
		{"dependency", CLI_STR, &o->dep, "TYPE:ID[:ID][,...]",
		 "-d: after[ok|notok|any]:IDs or singleton, joined by ',' (all) or '?' (any)", 0,
		 0, NULL, NULL},
		{"hold", CLI_BOOL, &o->hold, NULL, "-H: held until `aidc release ID`", 0, 0, NULL,
		 NULL},
		{"exclusive", CLI_BOOL, &o->exclusive, NULL, "whole nodes, shared with no other job",
		 0, 0, NULL, NULL},
		{"nodelist", CLI_STR, &o->nodelist, "HOSTLIST", "-w: the gang's nodes include all of "
		 "these (n[1-3],gpu7; -N is their count)", 0, 0, NULL, NULL},
		{"exclude", CLI_STR, &o->exclude, "HOSTLIST", "-x: never on these nodes", 0, 0, NULL,
		 NULL},
		{"begin", CLI_STR, &o->begin, "TIME",
		 "-b: not started before TIME (now+N[units], YYYY-MM-DD[THH:MM[:SS]], HH:MM[:SS], "
		 "today, tomorrow, midnight, noon; docs/slurm.md); pending reason BeginTime",
		 0, 0, NULL, NULL},
		{"array", CLI_STR, &o->array, "SPEC",
		 "-a: a job array (A-B[:S] and N items joined by ',', then %LIMIT); each element "
		 "a job with SLURM_ARRAY_*; -o may use %A %a (docs/slurm.md)", 0, 0, NULL, NULL},
		{"no-env", CLI_BOOL, &o->no_env, NULL, "do not pass the current environment", 0, 0,
		 NULL, NULL},
		{"json", CLI_BOOL, &o->json, NULL, "print the controller's JSON reply", 0, 0, NULL,
		 NULL},
		{"request-id", CLI_STR, &o->rid, "ID",
		 "this submission's id (1-64 of A-Z a-z 0-9 . _ : -; default: random): a submit "
		 "repeated with the same id within submit_request_ttl_s returns the first job",
		 0, 0, NULL, NULL},
		CLI_CONN_FLAGS(o->sock),
	};
	const struct cli_cmd cmd = {
		"submit", "aidc submit [options] (SCRIPT | COMMAND [ARGS...])",
		"Submit a batch script (#AIDC / #SBATCH directives are read) or a command. "
		"Options end at the first non-option word; '--' also ends them.",
		flags, AIDC_ARRAY_LEN(flags)};
	return parse_cmd(&cmd, argc, argv, o);
}

/* Reads the batch script o->cmd[0] (if it is one) into *script (caller frees)
 * and its directives into sb. */
static int load_script(const struct submit_opts *o, char **script, struct api_sbatch *sb)
{
	memset(sb, 0, sizeof *sb);
	*script = NULL;
	if (o->ncmd != 1 || !is_script(o->cmd[0]))
		return 0;
	int r = read_script(o->cmd[0], script);
	if (r) {
		fprintf(stderr, "aidc submit: %s: %s\n", o->cmd[0],
			r == AIDC_E_LIMIT ? "script too large" : strerror(errno));
		return CLI_EXIT_FAIL;
	}
	struct aidc_err e = {0};
	if (api_sbatch_parse(*script, sb, &e) != 0 || api_sbatch_check_submit(sb, &e) != 0) {
		fprintf(stderr, "aidc submit: %s: %s\n", o->cmd[0], e.msg);
		aidc_free(*script);
		*script = NULL;
		return CLI_EXIT_FAIL;
	}
	for (uint32_t i = 0; i < sb->nwarn; i++)
		fprintf(stderr, "aidc submit: %s: warning: --%s has no effect here: %s\n",
			o->cmd[0], api_sbatch_opts[sb->warn[i]].name, api_sbatch_opts[sb->warn[i]].why);
	/* aidc submit's older meaning: --gres=gpu:N counts per task (docs/cli.md). */
	if (sb->gpus_per_node && !sb->gpus_per_task)
		sb->gpus_per_task = sb->gpus_per_node;
	return 0;
}

/* Command-line flags override the script's directives (sb). */
int cli_time_mem(const char *cmd, const char *time_s, int64_t *time_out, const char *mem,
		 int64_t *mem_out, bool zero_ok)
{
	if (time_s && api_parse_time_limit(time_s, time_out)) {
		fprintf(stderr,
			"aidc %s: --time %s: not a time limit (minutes as in Slurm, M:S, H:M:S, "
			"D-H:M:S, or 90s/15m/2h)\n",
			cmd, time_s);
		return CLI_EXIT_USAGE;
	}
	if (!mem)
		return 0;
	/* One #SBATCH line: the size grammar and its limits are sbatch's. */
	char line[128];
	struct api_sbatch tmp;
	struct aidc_err e = {0};
	snprintf(line, sizeof line, "#SBATCH --mem=%.100s\n", mem);
	if (api_sbatch_parse(line, &tmp, &e) != 0 || (!zero_ok && !tmp.mem_mib)) {
		fprintf(stderr, "aidc %s: --mem %s: %s\n", cmd, mem,
			e.msg[0] ? e.msg : "not a size (e.g. 512M, 4G)");
		return CLI_EXIT_USAGE;
	}
	*mem_out = tmp.mem_mib;
	return 0;
}

static int apply_flags(const struct submit_opts *o, struct api_sbatch *sb)
{
	int64_t *const dst[] = {&sb->nodes, &sb->ntasks, &sb->ntasks_per_node, &sb->cpus_per_task,
				&sb->gpus_per_task, &sb->gpus_total};
	const int64_t src[] = {o->nodes, o->ntasks, o->per_node, o->cpus, o->gpt, o->gpus};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(src); i++)
		if (src[i])
			*dst[i] = src[i];
	int rc = cli_time_mem("submit", o->time_s, &sb->time_limit_s, o->mem, &sb->mem_mib, true);
	if (rc)
		return rc;
	struct aidc_err e = {0};
	if (o->begin && api_parse_begin(o->begin, (int64_t)time(NULL), &sb->begin_s, &e) != 0) {
		fprintf(stderr, "aidc submit: %s; nothing was submitted\n", e.msg);
		return CLI_EXIT_USAGE;
	}
	if ((o->nodelist && api_sbatch_apply(sb, "--nodelist", o->nodelist, &e) != 0) ||
	    (o->exclude && api_sbatch_apply(sb, "--exclude", o->exclude, &e) != 0)) {
		fprintf(stderr, "aidc submit: %s; nothing was submitted\n", e.msg);
		return CLI_EXIT_USAGE;
	}
	if (sb->nodelist_file || sb->exclude_file) {
		fprintf(stderr, "aidc submit: --%s=%s: node files are read by aidc sbatch only; give "
				"the names (a hostlist); nothing was submitted\n",
			sb->nodelist_file ? "nodelist" : "exclude",
			sb->nodelist_file ? sb->nodelist : sb->exclude);
		return CLI_EXIT_USAGE;
	}
	if (o->gpu_milli && !sb->gpus_per_task && !sb->gpus_total)
		sb->gpus_per_task = 1; /* a share of one device */
	if (sb->gpus_total && !sb->gpus_per_task) {
		int64_t nt = sb->ntasks ? sb->ntasks : (sb->nodes ? sb->nodes : 1);
		sb->gpus_per_task = (sb->gpus_total + nt - 1) / nt;
	}
	return 0;
}

/* aidc's own credentials, never copied into a job spec (the store keeps
 * specs, and admins and the job's tasks see them): the user's token and
 * anything named AIDC_SECRET*. A job that needs a credential of its own
 * sets it in its script. */
bool cli_env_credential(const char *kv)
{
	return !strncmp(kv, "AIDC_TOKEN=", 11) || !strncmp(kv, "AIDC_SECRET", 11) ||
	       !strncmp(kv, "AIDC_MUNGE_CRED", 15);
}

/* The submitter's environment, as sbatch's default --export=ALL, less aidc's
 * credentials. */
static void write_env(struct aidc_json *w)
{
	aidc_json_key(w, "env");
	aidc_json_arr_begin(w);
	size_t n = 0;
	for (char **ep = environ; *ep && n < AIDC_MAX_ENV; ep++)
		if (strlen(*ep) < AIDC_MAX_ARG_BYTES && strchr(*ep, '=') != *ep &&
		    !cli_env_credential(*ep)) {
			aidc_json_str(w, *ep);
			n++;
		}
	aidc_json_arr_end(w);
}

/* The flag's value, else the directive's, else NULL (not sent). */
static const char *pick(const char *flag, const char *directive)
{
	return flag ? flag : (directive[0] ? directive : NULL);
}

/* Writes the job spec (POST /v1/jobs body, api_schema_job_submit) to w. */
static void write_job(struct aidc_json *w, const struct submit_opts *o,
		      const struct api_sbatch *sb, const char *script)
{
	aidc_json_obj_begin(w);
	aidc_json_ki64(w, "v", API_JOB_SPEC_VERSION);
	if (script) {
		aidc_json_kstr(w, "script", script);
	} else {
		aidc_json_key(w, "command");
		aidc_json_arr_begin(w);
		for (int i = 0; i < o->ncmd; i++)
			aidc_json_str(w, o->cmd[i]);
		aidc_json_arr_end(w);
	}
	char cwd[AIDC_MAX_PATH_BYTES];
	if (!getcwd(cwd, sizeof cwd))
		snprintf(cwd, sizeof cwd, "/");
	aidc_json_kstr(w, "cwd", cwd);
	/* The submitter's umask goes with the job, as Slurm propagates it. */
	mode_t um = umask(0);
	umask(um);
	char ums[8];
	snprintf(ums, sizeof ums, "%04o", (unsigned)(um & 0777));
	aidc_json_kstr(w, "umask", ums);
	if (!o->no_env)
		write_env(w);
	const struct {
		const char *key;
		int64_t v;
	} ints[] = {{"nodes", sb->nodes},		  {"ntasks", sb->ntasks},
		    {"ntasks_per_node", sb->ntasks_per_node}, {"cpus_per_task", sb->cpus_per_task},
		    {"mem_mib", sb->mem_mib},		  {"gpus_per_task", sb->gpus_per_task},
		    {"time_limit_s", sb->time_limit_s},	  {"priority", o->prio},
		    {"begin_s", sb->begin_s},		  {"gpu_milli", o->gpu_milli}};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(ints); i++)
		if (ints[i].v)
			aidc_json_ki64(w, ints[i].key, ints[i].v);
	const struct {
		const char *key, *v;
	} strs[] = {{"name", pick(o->name, sb->name)},
		    {"gpu_model", pick(o->model, sb->gpu_model)},
		    {"partition", pick(o->part, sb->partition)},
		    {"stdout_path", pick(o->out, sb->stdout_path)},
		    {"stderr_path", pick(o->err, sb->stderr_path)},
		    {"on_node_failure", o->on_fail},
		    {"request_id", o->rid},
		    {"account", pick(o->account, sb->account)},
		    {"qos", pick(o->qos, sb->qos)},
		    {"dependency", pick(o->dep, sb->dependency)},
		    {"array", pick(o->array, sb->array)},
		    {"nodelist", pick(NULL, sb->nodelist)},
		    {"exclude", pick(NULL, sb->exclude)}};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(strs); i++)
		if (strs[i].v)
			aidc_json_kstr(w, strs[i].key, strs[i].v);
	if (o->preemptible || sb->preemptible)
		aidc_json_kbool(w, "preemptible", true);
	if (o->hold || sb->hold)
		aidc_json_kbool(w, "hold", true);
	if (o->exclusive || sb->exclusive)
		aidc_json_kbool(w, "exclusive", true);
	aidc_json_obj_end(w);
}

/* POSTs the job and prints its id (or the reply with --json). */
static int send_job(const struct submit_opts *o, const struct aidc_buf *body)
{
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(o->sock, sp, sizeof sp);
	struct api_call c;
	int rc = cli_call_retry("submit", sp, "POST", "/v1/jobs", aidc_buf_str(body), body->len,
				&c, cli_call_wait_flag(sp) | CLI_CALL_IDEMPOTENT);
	if (rc)
		return rc;
	if (o->json) {
		printf("%s\n", aidc_buf_str(&c.reply));
	} else {
		/* {"id":N,...}: the id is the first member. */
		const char *p = strstr(aidc_buf_str(&c.reply), "\"id\":");
		printf("submitted job %lld\n", p ? strtoll(p + 5, NULL, 10) : -1LL);
	}
	aidc_buf_release(&c.reply);
	return CLI_EXIT_OK;
}

int cli_submit_main(int argc, char **argv)
{
	struct submit_opts o = {0};
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	struct api_sbatch sb;
	char *script = NULL;
	if ((rc = load_script(&o, &script, &sb)) != 0)
		return rc;
	if ((rc = apply_flags(&o, &sb)) != 0) {
		aidc_free(script);
		return rc;
	}
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_HTTP_BODY_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	write_job(&w, &o, &sb, script);
	aidc_free(script);
	if (aidc_json_finish(&w) != 0) {
		fprintf(stderr, "aidc submit: the job is larger than %u bytes\n",
			AIDC_MAX_HTTP_BODY_BYTES);
		rc = CLI_EXIT_FAIL;
	} else {
		rc = send_job(&o, &b);
	}
	aidc_buf_release(&b);
	return rc;
}
