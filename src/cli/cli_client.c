/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User commands of the live center that talk to the controller over its Unix
 * socket (identity by SO_PEERCRED, so there is nothing to log in with) or,
 * from another host, over https with a per-user token (docs/security.md):
 * `aidc jobs`, `aidc job`, `aidc cancel`, `aidc requeue`, `aidc logs`,
 * `aidc nodes`, `aidc drain`, `aidc resume`. Tables for people, --json for
 * scripts; every failure is one line on stderr and exit status 1.
 */
#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "cli/cli_slurm.h"
#include "util/clock.h"
#include "util/util.h"

void cli_socket_path(const char *flag, char *out, size_t n)
{
	const char *env = getenv("AIDC_SOCKET");
	const char *url = getenv("AIDC_CONTROLLER");
	const char *home = getenv("HOME");
	const char *job = getenv("AIDC_JOB_CONTROLLER"); /* set by a remote controller's agent */
	struct stat sb;
	if (flag && *flag)
		snprintf(out, n, "%s", flag);
	else if (url && *url)
		snprintf(out, n, "%s", url);
	else if (env && *env)
		snprintf(out, n, "%s", env);
	else if (home && *home &&
		 (snprintf(out, n, "%s/.aidc/aidc.sock", home), stat(out, &sb) == 0))
		return;
	else if (job && *job && stat("/var/lib/aidc/aidc.sock", &sb) != 0)
		snprintf(out, n, "%s", job);
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

bool cli_is_url(const char *where)
{
	return strncmp(where, "https://", 8) == 0 || strncmp(where, "http://", 7) == 0;
}

int cli_token(const char *cmd, char *out, size_t n)
{
	const char *env = getenv("AIDC_TOKEN"), *file = getenv("AIDC_TOKEN_FILE");
	const char *home = getenv("HOME");
	if (env && *env) {
		/* Refused, not cut short: a truncated token would only fail later, unclearly. */
		if (strlen(env) >= n || strlen(env) > AIDC_MAX_TOKEN_BYTES) {
			fprintf(stderr, "aidc %s: AIDC_TOKEN is longer than a token (%u bytes at "
					"most; see 'aidc token create')\n", cmd, AIDC_MAX_TOKEN_BYTES);
			return CLI_EXIT_FAIL;
		}
		snprintf(out, n, "%s", env);
		return 0;
	}
	char path[AIDC_MAX_PATH_BYTES] = "";
	if (file && *file)
		snprintf(path, sizeof path, "%s", file);
	else if (home && *home)
		snprintf(path, sizeof path, "%.4000s/.aidc/token", home);
	/* Inside a job on a node away from the controller: the job's own
	 * credential (docs/security.md, "Job credentials"), unless the user
	 * keeps a token of theirs. */
	const char *jc = getenv("AIDC_JOB_CRED");
	if ((!file || !*file) && jc && *jc && strlen(jc) < n &&
	    (!*path || access(path, F_OK) != 0)) {
		snprintf(out, n, "%s", jc);
		return 0;
	}
	if (!*path) {
		fprintf(stderr, "aidc %s: a remote controller needs a token: set AIDC_TOKEN or "
				"AIDC_TOKEN_FILE (see 'aidc token create')\n", cmd);
		return CLI_EXIT_FAIL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat sb;
	if (fd < 0) {
		fprintf(stderr, "aidc %s: a remote controller needs a token: %s: %s (see 'aidc "
				"token create', or set AIDC_TOKEN)\n", cmd, path, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != getuid() ||
	    (sb.st_mode & 077) != 0) {
		close(fd);
		fprintf(stderr, "aidc %s: token file %s must be your own regular file with mode "
				"0600 (chmod 600 %s)\n", cmd, path, path);
		return CLI_EXIT_FAIL;
	}
	ssize_t r = read(fd, out, n - 1);
	close(fd);
	if (r <= 0) {
		fprintf(stderr, "aidc %s: token file %s is empty\n", cmd, path);
		return CLI_EXIT_FAIL;
	}
	out[r] = '\0';
	size_t len = strcspn(out, "\r\n \t");
	if (len == (size_t)r && (size_t)r == n - 1) {
		fprintf(stderr, "aidc %s: token file %s holds more than a token (%u bytes at most)\n",
			cmd, path, AIDC_MAX_TOKEN_BYTES);
		return CLI_EXIT_FAIL;
	}
	out[len] = '\0';
	return 0;
}

/* A hint that matches why a call got no reply. */
static const char *fail_hint(const char *socket, int fail)
{
	bool remote = cli_is_url(socket);
	switch (fail) {
	case API_FAIL_TLS:
		return "TLS: this host does not trust the controller's certificate, or the URL "
		       "names a host its certificate does not: give the CA that signed it with "
		       "--cacert FILE (or AIDC_CACERT), and use the name or address in the "
		       "certificate (docs/deploy.md)";
	case API_FAIL_RESOLVE:
		return "the host in AIDC_CONTROLLER does not resolve from this host";
	case API_FAIL_TIMEOUT:
		return "connected, but the controller did not answer in time";
	case API_FAIL_CONNECT:
		return remote ? "nothing answers there: is the controller running, listening on "
				"that address (tcp_listen), and reachable from this host?"
			      : "is the controller running? see 'aidc up'";
	default:
		return remote ? "see docs/deploy.md" : "is the controller running? see 'aidc up'";
	}
}

/* How long a command waits for a controller that refuses connections (a
 * restart), unless $AIDC_RETRY_S says otherwise. */
#define CLI_RESTART_WAIT_S 30
#define CLI_RESTART_WAIT_MAX_S 3600

int cli_call_wait_flag(const char *socket)
{
	struct stat sb;
	if (cli_is_url(socket))
		return CLI_CALL_WAIT;
	/* A controller that exits cleanly removes its socket; one killed leaves
	 * it behind until its restart binds a new one. */
	return stat(socket, &sb) == 0 && S_ISSOCK(sb.st_mode) ? CLI_CALL_WAIT : 0;
}

int cli_call(const char *cmd, const char *socket, const char *method, const char *path,
	     const char *body, size_t body_len, struct api_call *call)
{
	return cli_call_retry(cmd, socket, method, path, body, body_len, call,
			      cli_call_wait_flag(socket) |
				      (strcmp(method, "GET") == 0 ? CLI_CALL_IDEMPOTENT : 0));
}

/* $AIDC_RETRY_S: how long to wait for a restarting controller; -1 (after a
 * message) when it is not a number of seconds in range. */
static int64_t retry_window_s(const char *cmd)
{
	const char *v = getenv("AIDC_RETRY_S");
	int64_t s;
	if (!v || !*v)
		return CLI_RESTART_WAIT_S;
	if (aidc_parse_i64(v, 0, CLI_RESTART_WAIT_MAX_S, &s) != 0) {
		fprintf(stderr, "aidc %s: AIDC_RETRY_S='%s': expected seconds from 0 to %d\n", cmd,
			v, CLI_RESTART_WAIT_MAX_S);
		return -1;
	}
	return s;
}

/* Whether a failed or refused call may be sent again while waiting. */
static bool may_resend(int rc, const struct api_call *call, int flags)
{
	if (rc)
		return call->fail == API_FAIL_CONNECT ||
		       (call->fail == API_FAIL_DROPPED && (flags & CLI_CALL_IDEMPOTENT));
	return call->status == 503 && (flags & CLI_CALL_IDEMPOTENT);
}

int cli_call_retry(const char *cmd, const char *socket, const char *method, const char *path,
		   const char *body, size_t body_len, struct api_call *call, int flags)
{
	int64_t window_s = retry_window_s(cmd);
	if (window_s < 0)
		return CLI_EXIT_USAGE;
	struct api_client cl;
	struct aidc_err e = {0};
	char token[AIDC_MAX_TOKEN_BYTES + 2];
	struct api_client_opts o = {.unix_path = socket};
	/* The CA a remote controller's agent gave the job, unless the user set one. */
	const char *cafile = getenv("AIDC_CACERT") ? NULL : getenv("AIDC_JOB_CACERT");
	memset(call, 0, sizeof *call);
	aidc_buf_init(&call->reply, 256u << 20);
	const char *auth = getenv("AIDC_AUTH");
	if (cli_is_url(socket) && auth && strcmp(auth, "munge") == 0) {
		o = (struct api_client_opts){.url = socket, .munge = true,
					     .munge_socket = getenv("AIDC_MUNGE_SOCKET"),
					     .cafile = cafile};
	} else if (cli_is_url(socket)) {
		if (cli_token(cmd, token, sizeof token) != 0)
			return CLI_EXIT_FAIL;
		o = (struct api_client_opts){.url = socket, .token = token, .cafile = cafile};
	}
	int orc = api_client_open(&cl, &o, &e);
	explicit_bzero(token, sizeof token);
	if (orc != 0) {
		api_client_release(&cl);
		fprintf(stderr, "aidc %s: %s\n", cmd, e.msg);
		return CLI_EXIT_FAIL;
	}
	call->method = method;
	call->path = path;
	call->body = body;
	call->body_len = body_len;
	call->timeout_ms = 90000;
	int rc = api_client_call(&cl, call, &e);
	/* A controller restarting refuses connections (or answers 503) for a
	 * few seconds: wait for it, for a bounded time, saying so once. A
	 * request that is not idempotent is sent again only when it never
	 * connected; an idempotent one also after its connection dropped. */
	int64_t until = aidc_mono_ms() + window_s * 1000;
	bool said = false;
	while ((flags & CLI_CALL_WAIT) && aidc_mono_ms() < until && may_resend(rc, call, flags)) {
		if (!said)
			fprintf(stderr, "aidc %s: the controller at %s does not answer (%s); retrying "
					"for up to %" PRId64 " s (AIDC_RETRY_S)\n",
				cmd, socket,
				rc == 0				 ? "busy"
				: call->fail == API_FAIL_DROPPED ? "connection dropped"
								 : "connection refused",
				window_s);
		said = true;
		struct timespec ts = {0, 500 * 1000000L};
		nanosleep(&ts, NULL);
		aidc_err_clear(&e);
		rc = api_client_call(&cl, call, &e);
	}
	api_client_release(&cl);
	if (rc) {
		fprintf(stderr, "aidc %s: %s (%s)\n", cmd, e.msg, fail_hint(socket, call->fail));
		aidc_buf_release(&call->reply);
		return CLI_EXIT_FAIL;
	}
	if (call->status >= 400 && (flags & CLI_CALL_QUIET))
		return CLI_EXIT_FAIL;
	if (call->status >= 400) {
		api_client_error(call, &e);
		fprintf(stderr, "aidc %s: %s\n", cmd, e.msg);
		aidc_buf_release(&call->reply);
		return CLI_EXIT_FAIL;
	}
	return 0;
}

/* s with control characters escaped (C0, DEL, and C1 as UTF-8 encodes
 * them): a job name of another user must not move the cursor, clear the
 * screen or set a terminal's title when an admin lists jobs. Caller frees;
 * NULL if s needs nothing. */
static char *printable(const char *s)
{
	size_t extra = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			extra += 6;
	if (!extra)
		return NULL;
	char *out = aidc_malloc(strlen(s) + extra + 1), *w = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n' || *p == '\t' || *p == '\r') {
			*w++ = '\\';
			*w++ = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r';
		} else if (*p < 0x20 || *p == 0x7f) {
			w += snprintf(w, 5, "\\x%02x", *p);
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			w += snprintf(w, 7, "\\u%04x", p[1]);
			p++;
		} else {
			*w++ = (char)*p;
		}
	}
	*w = '\0';
	return out;
}

void cli_json_printable(json_t *v)
{
	const char *k;
	size_t i;
	json_t *it;
	if (json_is_object(v)) {
		json_object_foreach(v, k, it)
			cli_json_printable(it);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, it)
			cli_json_printable(it);
	} else if (json_is_string(v)) {
		char *p = printable(json_string_value(v));
		if (p) {
			json_string_set(v, p);
			aidc_free(p);
		}
	}
}

/* The reply parsed, every string made printable (tables print them raw). */
static json_t *parse_reply(const char *cmd, struct api_call *c)
{
	json_error_t je;
	json_t *r = json_loadb(aidc_buf_str(&c->reply), c->reply.len, 0, &je);
	if (!r)
		fprintf(stderr, "aidc %s: malformed reply from the controller\n", cmd);
	else
		cli_json_printable(r);
	return r;
}

int cli_get_show(const char *cmd, const char *sock, const char *path, bool json,
		 void (*show)(json_t *r))
{
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(sock, sp, sizeof sp);
	struct api_call c;
	int rc = cli_call(cmd, sp, "GET", path, NULL, 0, &c);
	if (rc)
		return rc;
	if (json) {
		printf("%s\n", aidc_buf_str(&c.reply));
	} else {
		json_t *r = parse_reply(cmd, &c);
		if (r)
			show(r);
		else
			rc = CLI_EXIT_FAIL;
		json_decref(r);
	}
	aidc_buf_release(&c.reply);
	return rc;
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
	long long d = (long long)aidc_wall_s() - t_s;
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

/* Jobs asked for per request by `aidc jobs` (the controller pages its list). */
#define CLI_JOBS_PAGE 10000

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
	const char *acct = js(j, "account");
	/* START: a pending job's estimated start, from now ("-" when none). */
	char start[24] = "-";
	if (json_object_get(j, "start_estimate_s")) {
		long long in = ji(j, "start_estimate_s") - (long long)time(NULL);
		if (in <= 0)
			snprintf(start, sizeof start, "now");
		else if (in < 120)
			snprintf(start, sizeof start, "+%llds", in);
		else if (in < 7200)
			snprintf(start, sizeof start, "+%lldm", in / 60);
		else
			snprintf(start, sizeof start, "+%lldh", in / 3600);
	}
	char ref[64];
	printf("%-8s %-16.16s %-10.10s %-10.10s %-10s %6lld %6s %7s  %s\n",
	       cli_slurm_job_ref(j, ref, sizeof ref), js(j, "name"), js(j, "user"),
	       acct && *acct ? acct : "-", st, ji(j, "ntasks"), age, start, why);
}

/* The pages of one listing (newest first) and whether older jobs remain. */
struct job_pages {
	json_t **pages;
	size_t npages, cap;
	long long shown;
	bool more;
};

/* Pages of CLI_JOBS_PAGE, newest first, until the controller has no more
 * (or limit is reached): nothing is dropped silently. path (of cap bytes)
 * holds the query so far. */
static int fetch_job_pages(const char *sp, char *path, size_t cap, int64_t limit,
			   struct job_pages *jp)
{
	long long before = 0;
	size_t base = strlen(path);
	int rc = 0;
	jp->more = true;
	while (jp->more && (!limit || jp->shown < limit)) {
		long long want = CLI_JOBS_PAGE;
		if (limit && limit - jp->shown < want)
			want = limit - jp->shown;
		snprintf(path + base, cap - base, "%slimit=%lld", strchr(path, '?') ? "&" : "?", want);
		if (before)
			snprintf(path + strlen(path), cap - strlen(path), "&before=%lld", before);
		struct api_call c;
		if ((rc = cli_call("jobs", sp, "GET", path, NULL, 0, &c)) != 0)
			break;
		json_t *r = parse_reply("jobs", &c);
		aidc_buf_release(&c.reply);
		if (!r) {
			rc = CLI_EXIT_FAIL;
			break;
		}
		AIDC_GROW(jp->pages, jp->cap, jp->npages + 1);
		jp->pages[jp->npages++] = r;
		jp->shown += (long long)json_array_size(json_object_get(r, "jobs"));
		jp->more = json_is_true(json_object_get(r, "more"));
		before = (long long)json_integer_value(json_object_get(r, "next_before"));
		if (jp->more && before <= 0)
			jp->more = false; /* an older controller: one page */
	}
	return rc;
}

int cli_jobs_main(int argc, char **argv)
{
	const char *sock = NULL, *state = NULL, *user = NULL;
	bool json = false;
	int64_t limit = 0;
	const struct cli_flag flags[] = {
		{"state", CLI_STR, &state, "STATE", "only jobs in this state", 0, 0, NULL, NULL},
		{"user", CLI_STR, &user, "NAME", "only this user's jobs (admins)", 0, 0, NULL, NULL},
		{"limit", CLI_I64, &limit, "N",
		 "at most the newest N jobs (default all; a note says when more exist)", 1,
		 INT32_MAX, NULL, NULL},
		CLI_LIVE_FLAGS(json, sock),
	};
	const struct cli_cmd cmd = {"jobs", "aidc jobs [--state S] [--user U] [--limit N] [--json]",
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
	if (json) { /* one page, as the controller sends it (its "more" says if partial) */
		if (limit)
			snprintf(path + strlen(path), sizeof path - strlen(path), "%slimit=%lld",
				 strchr(path, '?') ? "&" : "?", (long long)limit);
		if ((rc = cli_call("jobs", sp, "GET", path, NULL, 0, &c)) != 0)
			return rc;
		printf("%s\n", aidc_buf_str(&c.reply));
		aidc_buf_release(&c.reply);
		return CLI_EXIT_OK;
	}
	struct job_pages jp = {0};
	rc = fetch_job_pages(sp, path, sizeof path, limit, &jp);
	if (!rc) {
		printf("%-8s %-16s %-10s %-10s %-10s %6s %6s %7s  %s\n", "ID", "NAME", "USER",
		       "ACCOUNT", "STATE", "TASKS", "AGE", "START", "NODES/REASON");
		for (size_t p = jp.npages; p-- > 0;) {
			size_t i;
			json_t *j;
			json_array_foreach(json_object_get(jp.pages[p], "jobs"), i, j) {
				if (!cli_slurm_array_drained(j))
					print_job_row(j);
			}
		}
		if (jp.more)
			fprintf(stderr, "aidc jobs: showing the newest %lld jobs; older ones exist "
					"(raise --limit)\n", jp.shown);
	}
	for (size_t p = 0; p < jp.npages; p++)
		json_decref(jp.pages[p]);
	aidc_free(jp.pages);
	return rc ? rc : CLI_EXIT_OK;
}

/* Commands of the form `aidc VERB ID` / `aidc VERB NAME` with one HTTP call. */
static int one_arg(int argc, char **argv, const char *name, const char *usage,
		   const char *summary, const char *method, const char *fmt, bool print_raw)
{
	const char *sock = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
		CLI_LIVE_FLAGS(json, sock),
	};
	const struct cli_cmd cmd = {name, usage, summary, flags, AIDC_ARRAY_LEN(flags)};
	const char *pos[1];
	int rc;
	if (!cli_parse_exact(&cmd, argc, argv, pos, 1, &rc,
			     "expected one argument (see 'aidc %s --help')", name))
		return rc;
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
	return one_arg(argc, argv, "job", "aidc job ID",
		       "Show one job with its tasks (JSON). ID_INDEX names one element of a job "
		       "array; an index that has not started shows its array (as Slurm).",
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

/* `aidc hold|release ID...`: every id is checked before any is sent (a bad
 * one changes nothing); then one call per job, each answered on its own line,
 * and exit 1 if any was refused. */
static int hold_release(int argc, char **argv, const char *name, const char *summary)
{
	const char *sock = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
		CLI_LIVE_FLAGS(json, sock),
	};
	char usage[64];
	snprintf(usage, sizeof usage, "aidc %s ID...", name);
	const struct cli_cmd cmd = {name, usage, summary, flags, AIDC_ARRAY_LEN(flags)};
	const char *pos[CLI_MAX_JOB_ARGS];
	size_t np = 0;
	int rc = cli_parse(&cmd, argc, argv, pos, AIDC_ARRAY_LEN(pos), &np);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (np == 0)
		return cli_refuse(&cmd, "expected one or more job ids (see 'aidc %s --help')", name);
	for (size_t i = 0; i < np; i++) {
		/* ID, or ID_INDEX: one element of a job array */
		int64_t id, idx;
		const char *us = strchr(pos[i], '_');
		char head[24] = "";
		if (us && (size_t)(us - pos[i]) < sizeof head)
			memcpy(head, pos[i], (size_t)(us - pos[i]));
		if (us ? aidc_parse_i64(head, 1, INT64_MAX, &id) != 0 ||
			     aidc_parse_i64(us + 1, 0, AIDC_MAX_ARRAY_INDEX, &idx) != 0
		       : aidc_parse_i64(pos[i], 1, INT64_MAX, &id) != 0) {
			fprintf(stderr, "aidc %s: '%.64s' is not a job id (a positive number, or "
					"ID_INDEX for one element of an array); nothing was changed\n",
				name, pos[i]);
			return CLI_EXIT_USAGE;
		}
	}
	char sp[AIDC_MAX_PATH_BYTES], path[128];
	cli_socket_path(sock, sp, sizeof sp);
	int worst = CLI_EXIT_OK;
	for (size_t i = 0; i < np; i++) {
		snprintf(path, sizeof path, "/v1/jobs/%s/%s", pos[i], name);
		struct api_call c;
		if ((rc = cli_call(name, sp, "POST", path, NULL, 0, &c)) != 0) {
			worst = rc;
			continue;
		}
		json_t *r = json ? NULL : parse_reply(name, &c);
		if (json || !r)
			printf("%s\n", aidc_buf_str(&c.reply));
		else
			printf("job %lld: %s (%s)\n", ji(r, "id"), js(r, "state"),
			       json_object_get(r, "pending_reason") ? js(r, "pending_reason")
								    : js(r, "reason"));
		json_decref(r);
		aidc_buf_release(&c.reply);
	}
	return worst;
}

int cli_hold_main(int argc, char **argv)
{
	return hold_release(argc, argv, "hold",
			    "Hold pending jobs (yours; admins any): they stay pending with reason "
			    "'held' and never start until released. A job that is not pending is "
			    "refused; one already held stays held. An array's ID holds its pending "
			    "indices and elements; ID_INDEX one element (a pending index becomes a "
			    "job of its own, as in Slurm).");
}

int cli_release_main(int argc, char **argv)
{
	return hold_release(argc, argv, "release",
			    "Release held jobs (yours; admins any): they are queued again and "
			    "start when the scheduler places them. A job that is not held is "
			    "refused. An array's ID releases it and its held elements; ID_INDEX "
			    "one element (within the array's %LIMIT).");
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

/* "2s/2n/32c" (packages/NUMA nodes/cores) from a node's topology_summary, "-" without. */
static const char *topo_text(json_t *n)
{
	const char *t = json_string_value(json_object_get(json_object_get(n, "topology_summary"),
							  "text"));
	return t ? t : "-";
}

static void print_topology(json_t *t)
{
	if (!json_is_object(t)) {
		printf("  topology: none (the agent sent none: built without hwloc, or older)\n");
		return;
	}
	json_t *pk = json_object_get(t, "packages"), *nm = json_object_get(t, "numa"),
	       *ac = json_object_get(t, "accelerators");
	printf("  topology: %zu packages, %zu NUMA nodes, %lld cores, %lld PUs, %zu "
	       "accelerators\n",
	       json_array_size(pk), json_array_size(nm), ji(t, "cores"), ji(t, "pus"),
	       json_array_size(ac));
	size_t i;
	json_t *o;
	json_array_foreach(pk, i, o)
		printf("    package %lld: %lld cores, %lld PUs\n", ji(o, "index"), ji(o, "cores"),
		       ji(o, "pus"));
	json_array_foreach(nm, i, o)
		printf("    numa %lld (os %lld): package %lld, %lld MiB, %lld cores, %lld PUs\n",
		       ji(o, "index"), ji(o, "os_index"), ji(o, "package"), ji(o, "mem_mib"),
		       ji(o, "cores"), ji(o, "pus"));
	json_array_foreach(ac, i, o)
		printf("    accelerator %s: vendor 0x%04llx device 0x%04llx class 0x%04llx, "
		       "numa %lld, package %lld\n",
		       js(o, "bus_id"), ji(o, "vendor_id"), ji(o, "device_id"), ji(o, "class_id"),
		       ji(o, "numa"), ji(o, "package"));
}

/* Orders node names naturally: digit runs compare as numbers (node-2 < node-10). */
static int natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			while (*a == '0')
				a++;
			while (*b == '0')
				b++;
			size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
			if (la != lb)
				return la < lb ? -1 : 1;
			int c = strncmp(a, b, la);
			if (c)
				return c;
			a += la;
			b += lb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}

static int by_node_name(const void *x, const void *y)
{
	const char *a = json_string_value(json_object_get(*(json_t *const *)x, "name"));
	const char *b = json_string_value(json_object_get(*(json_t *const *)y, "name"));
	return natural_cmp(a ? a : "", b ? b : "");
}

/* "FREE/DEVICES": whole free devices, or with shares in use the free
 * capacity in devices ("0.5/1": half of one device is free). */
static void free_devices(json_t *n, char *buf, size_t size)
{
	long long whole = ji(n, "devices_free"), milli = ji(n, "device_milli_free");
	if (milli != whole * 1000)
		snprintf(buf, size, "%g/%lld", (double)milli / 1000.0, ji(n, "devices"));
	else
		snprintf(buf, size, "%lld/%lld", whole, ji(n, "devices"));
}

/* `aidc nodes NAME`: one node with its whole topology. */
static int node_detail(const char *sp, const char *name, bool json)
{
	if (strlen(name) >= AIDC_MAX_NAME_BYTES || strpbrk(name, "/?&#% ")) {
		fprintf(stderr, "aidc nodes: bad node name '%s'\n", name);
		return CLI_EXIT_USAGE;
	}
	char path[AIDC_MAX_NAME_BYTES + 16];
	snprintf(path, sizeof path, "/v1/nodes/%s", name);
	struct api_call c;
	int rc = cli_call("nodes", sp, "GET", path, NULL, 0, &c);
	if (rc)
		return rc;
	if (json) {
		printf("%s\n", aidc_buf_str(&c.reply));
		aidc_buf_release(&c.reply);
		return CLI_EXIT_OK;
	}
	json_t *n = parse_reply("nodes", &c);
	aidc_buf_release(&c.reply);
	if (!n)
		return CLI_EXIT_FAIL;
	printf("node %s: %s%s%s%s\n", js(n, "name"), js(n, "state"),
	       json_is_true(json_object_get(n, "drained")) ? ", drained" : "",
	       *js(n, "drain_reason") || *js(n, "reason") ? ": " : "",
	       *js(n, "drain_reason") ? js(n, "drain_reason") : js(n, "reason"));
	char share[48] = "";
	if (ji(n, "device_milli_free") != ji(n, "devices_free") * 1000)
		snprintf(share, sizeof share, ", %g free in shares",
			 (double)ji(n, "device_milli_free") / 1000.0);
	printf("  addr %s, partition %s, %lld CPUs, %lld MiB, %lld devices (%lld free%s)"
	       "%s%s%s%s%s, %lld tasks\n",
	       js(n, "addr"), js(n, "partition"), ji(n, "cpus"), ji(n, "mem_mib"),
	       ji(n, "devices"), ji(n, "devices_free"), share, *js(n, "vendor") ? " " : "",
	       js(n, "vendor"), *js(n, "model") ? " " : "", js(n, "model"), "", ji(n, "tasks"));
	json_t *dl = json_object_get(n, "device_list");
	for (size_t i = 0; i < json_array_size(dl); i++) {
		json_t *d = json_array_get(dl, i);
		printf("  device %lld: %s %s, %lld MiB, uuid %s\n", ji(d, "index"), js(d, "vendor"),
		       js(d, "model"), ji(d, "mem_mib"), *js(d, "uuid") ? js(d, "uuid") : "-");
	}
	print_topology(json_object_get(n, "topology"));
	json_decref(n);
	return CLI_EXIT_OK;
}

int cli_nodes_main(int argc, char **argv)
{
	const char *sock = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
		CLI_LIVE_FLAGS(json, sock),
	};
	const struct cli_cmd cmd = {"nodes", "aidc nodes [NAME] [--json]",
				    "List the nodes: state (with why a node takes no new work), "
				    "partition, CPUs, memory, device model, free/total devices, "
				    "running tasks and topology (sockets/NUMA nodes/cores); with "
				    "NAME, one node with its whole topology.",
				    flags, AIDC_ARRAY_LEN(flags)};
	const char *pos[1];
	size_t np = 0;
	int rc;
	if (!cli_parse_main(&cmd, argc, argv, pos, 1, &np, &rc))
		return rc;
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(sock, sp, sizeof sp);
	if (np == 1)
		return node_detail(sp, pos[0], json);
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
	printf("%-16s %-10s %-10s %5s %9s %-12s %9s %5s %-24s %s\n", "NAME", "STATE", "PARTITION",
	       "CPUS", "MEM_MIB", "MODEL", "FREE/DEVS", "TASKS", "REASON", "TOPO");
	json_t *arr = json_object_get(r, "nodes");
	size_t cnt = json_array_size(arr);
	json_t **sorted = aidc_calloc(cnt ? cnt : 1, sizeof *sorted);
	for (size_t i = 0; i < cnt; i++)
		sorted[i] = json_array_get(arr, i);
	qsort(sorted, cnt, sizeof *sorted, by_node_name);
	for (size_t i = 0; i < cnt; i++) {
		json_t *n = sorted[i];
		char st[24];
		snprintf(st, sizeof st, "%s%s", js(n, "state"),
			 json_is_true(json_object_get(n, "drained")) ? "+drain" : "");
		char devs[32];
		free_devices(n, devs, sizeof devs);
		const char *model = *js(n, "model") ? js(n, "model") : ji(n, "devices") ? "?" : "-";
		const char *why = *js(n, "drain_reason") ? js(n, "drain_reason")
				  : *js(n, "reason") ? js(n, "reason") : "-";
		printf("%-16.16s %-10s %-10.10s %5lld %9lld %-12.12s %9s %5lld %-24.24s %s\n",
		       js(n, "name"), st, js(n, "partition"), ji(n, "cpus"), ji(n, "mem_mib"), model,
		       devs, ji(n, "tasks"), why, topo_text(n));
	}
	aidc_free(sorted);
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
		CLI_CONN_FLAGS(sock),
	};
	const struct cli_cmd cmd = {"logs", "aidc logs ID [-f] [--task N] [--stderr]",
				    "Print a task's output; -f follows it until the job ends.",
				    flags, AIDC_ARRAY_LEN(flags)};
	/* -f is the one short flag here. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-f") == 0)
			argv[i] = (char *)"--follow";
	int64_t id;
	int rc;
	if (!cli_parse_id(&cmd, argc, argv, &id, &rc,
			  "expected a job id (see 'aidc logs --help')"))
		return rc;
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
		if ((rc = cli_call_retry("logs", sp, "GET", path, NULL, 0, &c,
					 (follow ? CLI_CALL_WAIT : cli_call_wait_flag(sp)) |
						 CLI_CALL_IDEMPOTENT)) != 0)
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
