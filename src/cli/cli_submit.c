/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc submit`: a command or a batch script, with resource flags. Script
 * directives (#AIDC and the common #SBATCH options, api/sbatch.h) apply first;
 * flags on the command line override them. The job runs as the caller (the
 * controller reads the uid from the socket), in the current directory, with
 * the current environment (as sbatch's default --export=ALL).
 */
#include <sys/stat.h>
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
	{"-G", "--gpus"},
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

int cli_submit_main(int argc, char **argv)
{
	const char *sock = NULL, *time_s = NULL, *name = NULL, *out = NULL, *err = NULL,
		   *part = NULL, *mem = NULL, *model = NULL, *on_fail = NULL;
	int64_t nodes = 0, ntasks = 0, per_node = 0, cpus = 0, gpt = 0, gpus = 0, prio = 0;
	bool json = false, no_env = false, preemptible = false;
	const struct cli_flag flags[] = {
		{"nodes", CLI_I64, &nodes, "N", "-N: nodes", 1, AIDC_MAX_NODES, NULL, NULL},
		{"ntasks", CLI_I64, &ntasks, "N", "-n: tasks of the gang", 1, AIDC_MAX_TASKS_PER_JOB,
		 NULL, NULL},
		{"ntasks-per-node", CLI_I64, &per_node, "N", "tasks per node", 1,
		 AIDC_MAX_TASKS_PER_NODE, NULL, NULL},
		{"cpus-per-task", CLI_I64, &cpus, "N", "-c: CPUs per task", 1,
		 AIDC_MAX_NODE_CPU_MILLI / 1000, NULL, NULL},
		{"gpus-per-task", CLI_I64, &gpt, "N", "accelerators per task", 0,
		 AIDC_MAX_DEVICES_PER_NODE, NULL, NULL},
		{"gpus", CLI_I64, &gpus, "N", "-G: accelerators of the whole job", 0,
		 (double)AIDC_MAX_DEVICES_PER_NODE * AIDC_MAX_NODES, NULL, NULL},
		{"gpu-model", CLI_STR, &model, "MODEL", "accelerator model", 0, 0, NULL, NULL},
		{"mem", CLI_STR, &mem, "SIZE", "memory per task (e.g. 512M, 4G)", 0, 0, NULL, NULL},
		{"time", CLI_STR, &time_s, "DURATION", "-t: time limit; a bare number is minutes as in Slurm (90, 1:30:00, 1-00:00:00, 45s, 2h)", 0,
		 0, NULL, NULL},
		{"job-name", CLI_STR, &name, "NAME", "-J: job name", 0, 0, NULL, NULL},
		{"output", CLI_STR, &out, "FILE",
		 "-o: stdout file (%j %t %u %N %%), written as you when the task ends", 0, 0, NULL,
		 NULL},
		{"error", CLI_STR, &err, "FILE", "-e: stderr file (default: the -o file)", 0, 0,
		 NULL, NULL},
		{"partition", CLI_STR, &part, "NAME", "-p: partition", 0, 0, NULL, NULL},
		{"priority", CLI_I64, &prio, "N", "priority (higher first)", AIDC_MIN_PRIORITY,
		 AIDC_MAX_PRIORITY, NULL, NULL},
		{"on-node-failure", CLI_STR, &on_fail, "requeue|fail", "what a lost node does", 0, 0,
		 NULL, NULL},
		{"preemptible", CLI_BOOL, &preemptible, NULL,
		 "may be stopped and requeued for a higher-priority job (docs/live.md)", 0, 0, NULL,
		 NULL},
		{"no-env", CLI_BOOL, &no_env, NULL, "do not pass the current environment", 0, 0, NULL,
		 NULL},
		{"json", CLI_BOOL, &json, NULL, "print the controller's JSON reply", 0, 0, NULL, NULL},
		CLI_CONN_FLAGS(sock),
	};
	const struct cli_cmd cmd = {
		"submit", "aidc submit [options] (SCRIPT | COMMAND [ARGS...])",
		"Submit a batch script (#AIDC / #SBATCH directives are read) or a command. "
		"Options end at the first non-option word; '--' also ends them.",
		flags, AIDC_ARRAY_LEN(flags)};
	/* Split argv: options (short ones rewritten to long) | the command. */
	char **opts = aidc_calloc((size_t)argc * 2 + 1, sizeof *opts);
	char shortbuf[64][160];
	size_t nopts = 0, nshort = 0;
	int first_cmd = argc;
	opts[nopts++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			first_cmd = i + 1;
			break;
		}
		if (a[0] != '-' || !a[1]) {
			first_cmd = i;
			break;
		}
		bool mapped = false;
		for (size_t k = 0; k < AIDC_ARRAY_LEN(shorts) && a[1] != '-'; k++) {
			if (a[1] != shorts[k][0][1])
				continue;
			mapped = true;
			if (a[2]) { /* -N2 */
				if (nshort == AIDC_ARRAY_LEN(shortbuf))
					break;
				snprintf(shortbuf[nshort], sizeof shortbuf[nshort], "%s=%s",
					 shorts[k][1], a[2] == '=' ? a + 3 : a + 2);
				opts[nopts++] = shortbuf[nshort++];
			} else {
				opts[nopts++] = (char *)shorts[k][1];
			}
		}
		if (!mapped)
			opts[nopts++] = argv[i];
		/* An option that takes a value consumes the next word. */
		const char *o = opts[nopts - 1];
		if (!strncmp(o, "--", 2) && !strchr(o, '=') && i + 1 < argc)
			for (size_t k = 0; k < AIDC_ARRAY_LEN(flags); k++)
				if (!strcmp(flags[k].name, o + 2) && flags[k].type != CLI_BOOL) {
					opts[nopts++] = argv[++i];
					break;
				}
	}
	int rc = cli_parse(&cmd, (int)nopts, opts, NULL, 0, NULL);
	aidc_free(opts);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (first_cmd >= argc) {
		fprintf(stderr, "aidc submit: give a batch script or a command (see 'aidc submit "
				"--help')\n");
		return CLI_EXIT_USAGE;
	}
	struct aidc_err e = {0};
	struct api_sbatch sb;
	memset(&sb, 0, sizeof sb);
	char *script = NULL;
	bool as_script = argc - first_cmd == 1 && is_script(argv[first_cmd]);
	if (as_script) {
		int r = read_script(argv[first_cmd], &script);
		if (r) {
			fprintf(stderr, "aidc submit: %s: %s\n", argv[first_cmd],
				r == AIDC_E_LIMIT ? "script too large" : strerror(errno));
			return CLI_EXIT_FAIL;
		}
		if (api_sbatch_parse(script, &sb, &e) != 0) {
			fprintf(stderr, "aidc submit: %s: %s\n", argv[first_cmd], e.msg);
			aidc_free(script);
			return CLI_EXIT_FAIL;
		}
	}
	/* Command-line flags override directives. */
	if (nodes)
		sb.nodes = nodes;
	if (ntasks)
		sb.ntasks = ntasks;
	if (per_node)
		sb.ntasks_per_node = per_node;
	if (cpus)
		sb.cpus_per_task = cpus;
	if (gpt)
		sb.gpus_per_task = gpt;
	if (gpus)
		sb.gpus_total = gpus;
	if (time_s && api_parse_time_limit(time_s, &sb.time_limit_s)) {
		fprintf(stderr,
			"aidc submit: --time %s: not a time limit (minutes as in Slurm, M:S, H:M:S, "
			"D-H:M:S, or 90s/15m/2h)\n",
			time_s);
		aidc_free(script);
		return CLI_EXIT_USAGE;
	}
	if (mem) {
		char line[128];
		struct api_sbatch tmp;
		snprintf(line, sizeof line, "#SBATCH --mem=%.100s\n", mem);
		if (api_sbatch_parse(line, &tmp, &e) != 0) {
			fprintf(stderr, "aidc submit: %s\n", e.msg);
			aidc_free(script);
			return CLI_EXIT_USAGE;
		}
		sb.mem_mib = tmp.mem_mib;
	}
	if (sb.gpus_total && !sb.gpus_per_task) {
		int64_t nt = sb.ntasks ? sb.ntasks : (sb.nodes ? sb.nodes : 1);
		sb.gpus_per_task = (sb.gpus_total + nt - 1) / nt;
	}
	char cwd[AIDC_MAX_PATH_BYTES];
	if (!getcwd(cwd, sizeof cwd))
		snprintf(cwd, sizeof cwd, "/");

	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_HTTP_BODY_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	aidc_json_ki64(&w, "v", API_JOB_SPEC_VERSION);
	const char *jn = name ? name : (sb.name[0] ? sb.name : NULL);
	if (jn)
		aidc_json_kstr(&w, "name", jn);
	if (script) {
		aidc_json_kstr(&w, "script", script);
	} else {
		aidc_json_key(&w, "command");
		aidc_json_arr_begin(&w);
		for (int i = first_cmd; i < argc; i++)
			aidc_json_str(&w, argv[i]);
		aidc_json_arr_end(&w);
	}
	aidc_json_kstr(&w, "cwd", cwd);
	if (!no_env) {
		aidc_json_key(&w, "env");
		aidc_json_arr_begin(&w);
		size_t n = 0;
		for (char **ep = environ; *ep && n < AIDC_MAX_ENV; ep++)
			if (strlen(*ep) < AIDC_MAX_ARG_BYTES && strchr(*ep, '=') != *ep) {
				aidc_json_str(&w, *ep);
				n++;
			}
		aidc_json_arr_end(&w);
	}
#define KI(k, v)                                                                              \
	if (v)                                                                                \
	aidc_json_ki64(&w, k, v)
	KI("nodes", sb.nodes);
	KI("ntasks", sb.ntasks);
	KI("ntasks_per_node", sb.ntasks_per_node);
	KI("cpus_per_task", sb.cpus_per_task);
	KI("mem_mib", sb.mem_mib);
	KI("gpus_per_task", sb.gpus_per_task);
	KI("time_limit_s", sb.time_limit_s);
	KI("priority", prio);
#undef KI
	const char *gm = model ? model : (sb.gpu_model[0] ? sb.gpu_model : NULL);
	const char *pp = part ? part : (sb.partition[0] ? sb.partition : NULL);
	const char *oo = out ? out : (sb.stdout_path[0] ? sb.stdout_path : NULL);
	const char *ee = err ? err : (sb.stderr_path[0] ? sb.stderr_path : NULL);
	if (gm)
		aidc_json_kstr(&w, "gpu_model", gm);
	if (pp)
		aidc_json_kstr(&w, "partition", pp);
	if (oo)
		aidc_json_kstr(&w, "stdout_path", oo);
	if (ee)
		aidc_json_kstr(&w, "stderr_path", ee);
	if (on_fail)
		aidc_json_kstr(&w, "on_node_failure", on_fail);
	if (preemptible || sb.preemptible)
		aidc_json_kbool(&w, "preemptible", true);
	aidc_json_obj_end(&w);
	aidc_free(script);
	if (aidc_json_finish(&w) != 0) {
		fprintf(stderr, "aidc submit: the job is larger than %u bytes\n",
			AIDC_MAX_HTTP_BODY_BYTES);
		aidc_buf_release(&b);
		return CLI_EXIT_FAIL;
	}
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(sock, sp, sizeof sp);
	struct api_call c;
	rc = cli_call("submit", sp, "POST", "/v1/jobs", aidc_buf_str(&b), b.len, &c);
	aidc_buf_release(&b);
	if (rc)
		return rc;
	if (json) {
		printf("%s\n", aidc_buf_str(&c.reply));
	} else {
		/* {"id":N,...}: the id is the first member. */
		const char *p = strstr(aidc_buf_str(&c.reply), "\"id\":");
		printf("submitted job %lld\n", p ? strtoll(p + 5, NULL, 10) : -1LL);
	}
	aidc_buf_release(&c.reply);
	return CLI_EXIT_OK;
}
