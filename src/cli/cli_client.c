/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User commands of the live center that talk to the controller over its Unix
 * socket (identity by SO_PEERCRED, so there is nothing to log in with):
 * `aidc jobs`, `aidc job`, `aidc cancel`, `aidc requeue`, `aidc logs`,
 * `aidc nodes`, `aidc drain`, `aidc resume`. Tables for people, --json for
 * scripts; every failure is one line on stderr and exit status 1.
 */
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "util/util.h"

void cli_socket_path(const char *flag, char *out, size_t n)
{
	const char *env = getenv("AIDC_SOCKET");
	const char *home = getenv("HOME");
	struct stat sb;
	if (flag && *flag)
		snprintf(out, n, "%s", flag);
	else if (env && *env)
		snprintf(out, n, "%s", env);
	else if (home && *home &&
		 (snprintf(out, n, "%s/.aidc/aidc.sock", home), stat(out, &sb) == 0))
		return;
	else
		snprintf(out, n, "/var/lib/aidc/aidc.sock");
}

void cli_up_dir(const char *flag, char *out, size_t n)
{
	const char *env = getenv("AIDC_DIR");
	const char *home = getenv("HOME");
	if (flag && *flag)
		snprintf(out, n, "%s", flag);
	else if (env && *env)
		snprintf(out, n, "%s", env);
	else if (home && *home)
		snprintf(out, n, "%s/.aidc", home);
	else
		snprintf(out, n, "/tmp/aidc-%u", (unsigned)getuid());
}

int cli_self_exe(char *out, size_t n)
{
	ssize_t r = readlink("/proc/self/exe", out, n - 1);
	if (r <= 0)
		return -1;
	out[r] = '\0';
	return 0;
}

int cli_call(const char *cmd, const char *socket, const char *method, const char *path,
	     const char *body, size_t body_len, struct api_call *call)
{
	struct api_client cl;
	struct aidc_err e = {0};
	memset(call, 0, sizeof *call);
	aidc_buf_init(&call->reply, 256u << 20);
	if (api_client_init(&cl, socket, NULL, 0, NULL, &e) != 0) {
		fprintf(stderr, "aidc %s: %s\n", cmd, e.msg);
		return CLI_EXIT_FAIL;
	}
	call->method = method;
	call->path = path;
	call->body = body;
	call->body_len = body_len;
	call->timeout_ms = 90000;
	int rc = api_client_call(&cl, call, &e);
	api_client_release(&cl);
	if (rc) {
		fprintf(stderr, "aidc %s: %s (is the controller running? see 'aidc up')\n", cmd,
			e.msg);
		aidc_buf_release(&call->reply);
		return CLI_EXIT_FAIL;
	}
	if (call->status >= 400) {
		api_client_error(call, &e);
		fprintf(stderr, "aidc %s: %s\n", cmd, e.msg);
		aidc_buf_release(&call->reply);
		return CLI_EXIT_FAIL;
	}
	return 0;
}

static json_t *parse_reply(const char *cmd, struct api_call *c)
{
	json_error_t je;
	json_t *r = json_loadb(aidc_buf_str(&c->reply), c->reply.len, 0, &je);
	if (!r)
		fprintf(stderr, "aidc %s: malformed reply from the controller\n", cmd);
	return r;
}

static const char *js(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static long long ji(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void fmt_age(long long t_s, char *buf, size_t n)
{
	if (t_s <= 0) {
		snprintf(buf, n, "-");
		return;
	}
	long long d = (long long)time(NULL) - t_s;
	if (d < 0)
		d = 0;
	if (d > 99999LL * 3600) /* ages beyond 11 years print as 99999h */
		d = 99999LL * 3600;
	if (d < 120)
		snprintf(buf, n, "%llds", d);
	else if (d < 7200)
		snprintf(buf, n, "%lldm", d / 60);
	else
		snprintf(buf, n, "%lldh", d / 3600);
}

/* ---- aidc jobs / job ------------------------------------------------------------------- */

static void print_job_row(json_t *j)
{
	char age[16];
	fmt_age(ji(j, "submit_s"), age, sizeof age);
	const char *st = js(j, "state");
	char why[160];
	if (!strcmp(st, "pending"))
		snprintf(why, sizeof why, "%s", js(j, "pending_reason"));
	else if (json_object_get(j, "reason"))
		snprintf(why, sizeof why, "%s", js(j, "reason"));
	else {
		why[0] = '\0';
		json_t *nodes = json_object_get(j, "nodes");
		size_t i;
		json_t *it;
		size_t l = 0;
		json_array_foreach(nodes, i, it)
			l += (size_t)snprintf(why + l, sizeof why > l ? sizeof why - l : 0, "%s%s",
					      i ? "," : "", json_string_value(it));
	}
	printf("%-8lld %-16.16s %-10.10s %-10s %6lld %6s  %s\n", ji(j, "id"), js(j, "name"),
	       js(j, "user"), st, ji(j, "ntasks"), age, why);
}

int cli_jobs_main(int argc, char **argv)
{
	const char *sock = NULL, *state = NULL, *user = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
		{"state", CLI_STR, &state, "STATE", "only jobs in this state", 0, 0, NULL, NULL},
		{"user", CLI_STR, &user, "NAME", "only this user's jobs (admins)", 0, 0, NULL, NULL},
		{"json", CLI_BOOL, &json, NULL, "print the controller's JSON", 0, 0, NULL, NULL},
		{"socket", CLI_STR, &sock, "PATH", "controller socket", 0, 0, NULL, NULL},
	};
	const struct cli_cmd cmd = {"jobs", "aidc jobs [--state S] [--user U] [--json]",
				    "List your jobs (all jobs for admins), with the reason each "
				    "pending job waits.",
				    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	char sp[AIDC_MAX_PATH_BYTES], path[512];
	cli_socket_path(sock, sp, sizeof sp);
	snprintf(path, sizeof path, "/v1/jobs%s%s%s%s", state || user ? "?" : "",
		 state ? "state=" : "", state ? state : "", "");
	if (user)
		snprintf(path + strlen(path), sizeof path - strlen(path), "%suser=%s",
			 state ? "&" : "", user);
	struct api_call c;
	if ((rc = cli_call("jobs", sp, "GET", path, NULL, 0, &c)) != 0)
		return rc;
	if (json) {
		printf("%s\n", aidc_buf_str(&c.reply));
		aidc_buf_release(&c.reply);
		return CLI_EXIT_OK;
	}
	json_t *r = parse_reply("jobs", &c);
	aidc_buf_release(&c.reply);
	if (!r)
		return CLI_EXIT_FAIL;
	printf("%-8s %-16s %-10s %-10s %6s %6s  %s\n", "ID", "NAME", "USER", "STATE", "TASKS",
	       "AGE", "NODES/REASON");
	size_t i;
	json_t *j;
	json_array_foreach(json_object_get(r, "jobs"), i, j)
		print_job_row(j);
	json_decref(r);
	return CLI_EXIT_OK;
}

/* Commands of the form `aidc VERB ID` / `aidc VERB NAME` with one HTTP call. */
static int one_arg(int argc, char **argv, const char *name, const char *usage,
		   const char *summary, const char *method, const char *fmt, bool print_raw)
{
	const char *sock = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
		{"json", CLI_BOOL, &json, NULL, "print the controller's JSON", 0, 0, NULL, NULL},
		{"socket", CLI_STR, &sock, "PATH", "controller socket", 0, 0, NULL, NULL},
	};
	const struct cli_cmd cmd = {name, usage, summary, flags, AIDC_ARRAY_LEN(flags)};
	const char *pos[1];
	size_t np = 0;
	int rc = cli_parse(&cmd, argc, argv, pos, 1, &np);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (np != 1) {
		fprintf(stderr, "aidc %s: expected one argument (see 'aidc %s --help')\n", name,
			name);
		return CLI_EXIT_USAGE;
	}
	if (strlen(pos[0]) >= AIDC_MAX_NAME_BYTES || strpbrk(pos[0], "/?&# ")) {
		fprintf(stderr, "aidc %s: bad argument '%s'\n", name, pos[0]);
		return CLI_EXIT_USAGE;
	}
	char sp[AIDC_MAX_PATH_BYTES], path[512];
	cli_socket_path(sock, sp, sizeof sp);
	snprintf(path, sizeof path, fmt, pos[0]);
	struct api_call c;
	if ((rc = cli_call(name, sp, method, path, NULL, 0, &c)) != 0)
		return rc;
	json_t *r = json || print_raw ? NULL : parse_reply(name, &c);
	if (json || print_raw || !r) {
		printf("%s\n", aidc_buf_str(&c.reply));
	} else if (json_object_get(r, "id")) {
		bool why = json_object_get(r, "reason") != NULL;
		printf("job %lld: %s%s%s%s\n", ji(r, "id"), js(r, "state"), why ? " (" : "",
		       why ? js(r, "reason") : "", why ? ")" : "");
	} else {
		printf("node %s: %s%s\n", js(r, "name"), js(r, "state"),
		       json_is_true(json_object_get(r, "drained")) ? ", drained" : "");
	}
	json_decref(r);
	aidc_buf_release(&c.reply);
	return CLI_EXIT_OK;
}

int cli_job_main(int argc, char **argv)
{
	return one_arg(argc, argv, "job", "aidc job ID", "Show one job with its tasks (JSON).",
		       "GET", "/v1/jobs/%s", true);
}

int cli_cancel_main(int argc, char **argv)
{
	return one_arg(argc, argv, "cancel", "aidc cancel ID",
		       "Cancel a job: pending jobs end at once; running tasks get SIGTERM, then "
		       "SIGKILL after the grace period.",
		       "POST", "/v1/jobs/%s/cancel", false);
}

int cli_requeue_main(int argc, char **argv)
{
	return one_arg(argc, argv, "requeue", "aidc requeue ID",
		       "Stop a running job and queue it again (attempt + 1).", "POST",
		       "/v1/jobs/%s/requeue", false);
}

int cli_drain_main(int argc, char **argv)
{
	return one_arg(argc, argv, "drain", "aidc drain NODE",
		       "Let the node's running jobs finish and start nothing new there (admin).",
		       "POST", "/v1/nodes/%s/drain", false);
}

int cli_resume_main(int argc, char **argv)
{
	return one_arg(argc, argv, "resume", "aidc resume NODE", "Undo a drain (admin).", "POST",
		       "/v1/nodes/%s/resume", false);
}

/* ---- aidc nodes ------------------------------------------------------------------------- */

int cli_nodes_main(int argc, char **argv)
{
	const char *sock = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
		{"json", CLI_BOOL, &json, NULL, "print the controller's JSON", 0, 0, NULL, NULL},
		{"socket", CLI_STR, &sock, "PATH", "controller socket", 0, 0, NULL, NULL},
	};
	const struct cli_cmd cmd = {"nodes", "aidc nodes [--json]",
				    "List the nodes, their state, capacity and running tasks.",
				    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(sock, sp, sizeof sp);
	struct api_call c;
	if ((rc = cli_call("nodes", sp, "GET", "/v1/nodes", NULL, 0, &c)) != 0)
		return rc;
	if (json) {
		printf("%s\n", aidc_buf_str(&c.reply));
		aidc_buf_release(&c.reply);
		return CLI_EXIT_OK;
	}
	json_t *r = parse_reply("nodes", &c);
	aidc_buf_release(&c.reply);
	if (!r)
		return CLI_EXIT_FAIL;
	printf("%-16s %-8s %-10s %5s %9s %5s %-8s %5s\n", "NAME", "STATE", "PARTITION", "CPUS",
	       "MEM_MIB", "DEVS", "VENDOR", "TASKS");
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(r, "nodes"), i, n)
	{
		char st[24];
		snprintf(st, sizeof st, "%s%s", js(n, "state"),
			 json_is_true(json_object_get(n, "drained")) ? "+drain" : "");
		printf("%-16.16s %-8s %-10.10s %5lld %9lld %5lld %-8.8s %5lld\n", js(n, "name"), st,
		       js(n, "partition"), ji(n, "cpus"), ji(n, "mem_mib"), ji(n, "devices"),
		       js(n, "vendor"), ji(n, "tasks"));
	}
	json_decref(r);
	return CLI_EXIT_OK;
}

/* ---- aidc logs -------------------------------------------------------------------------- */

int cli_logs_main(int argc, char **argv)
{
	const char *sock = NULL;
	bool follow = false, err = false;
	int64_t task = 0;
	const struct cli_flag flags[] = {
		{"follow", CLI_BOOL, &follow, NULL, "keep printing until the job ends (also -f)", 0,
		 0, NULL, NULL},
		{"task", CLI_I64, &task, "N", "task index (default 0)", 0,
		 AIDC_MAX_TASKS_PER_JOB - 1, NULL, NULL},
		{"stderr", CLI_BOOL, &err, NULL, "show stderr instead of stdout", 0, 0, NULL, NULL},
		{"socket", CLI_STR, &sock, "PATH", "controller socket", 0, 0, NULL, NULL},
	};
	const struct cli_cmd cmd = {"logs", "aidc logs ID [-f] [--task N] [--stderr]",
				    "Print a task's output; -f follows it until the job ends.",
				    flags, AIDC_ARRAY_LEN(flags)};
	/* -f is the one short flag here. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-f") == 0)
			argv[i] = (char *)"--follow";
	const char *pos[1];
	size_t np = 0;
	int rc = cli_parse(&cmd, argc, argv, pos, 1, &np);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	int64_t id;
	if (np != 1 || aidc_parse_i64(pos[0], 1, INT64_MAX, &id)) {
		fprintf(stderr, "aidc logs: expected a job id (see 'aidc logs --help')\n");
		return CLI_EXIT_USAGE;
	}
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(sock, sp, sizeof sp);
	int64_t off = 0;
	for (;;) {
		char path[256];
		snprintf(path, sizeof path,
			 "/v1/jobs/%" PRId64 "/logs?task=%" PRId64 "&stream=%s&offset=%" PRId64
			 "&follow=%d&wait=20",
			 id, task, err ? "err" : "out", off, follow ? 1 : 0);
		struct api_call c;
		if ((rc = cli_call("logs", sp, "GET", path, NULL, 0, &c)) != 0)
			return rc;
		fwrite(aidc_buf_str(&c.reply), 1, c.reply.len, stdout);
		fflush(stdout);
		int64_t next = c.offset_hdr >= 0 ? c.offset_hdr : off + (int64_t)c.reply.len;
		bool done = c.done_hdr == 1;
		size_t got = c.reply.len;
		aidc_buf_release(&c.reply);
		off = next;
		/* Without -f: read until a short chunk. With -f: until the job ended and
		 * everything was read. */
		if (!follow ? got < AIDC_MAX_LOG_CHUNK_BYTES : done)
			break;
	}
	return CLI_EXIT_OK;
}
