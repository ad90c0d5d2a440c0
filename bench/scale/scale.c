/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_scale (issue 15 item 1): one real controller on loopback in a
 * temporary directory, N emulated nodes (emu.c) speaking the real agent
 * protocol from this one process, jobs submitted through the real client API
 * over the Unix socket. It measures the registration storm, the steady
 * heartbeat load (controller CPU %), submit-to-start latency on an idle
 * center, end-to-end jobs/s of single-node jobs mixed with gang jobs, the
 * controller's RSS, and a node-loss storm (a share of nodes silent at once).
 * A benchmark: it prints numbers and never judges them; it exits 1 only when
 * the center did not do the work (a node never registered, a job never
 * completed, the controller's own count disagrees), so that the smoke test
 * (tests: bench_scale_smoke) can fail.
 */
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "emu.h"
#include "util/util.h"

struct opts {
	uint32_t nodes, devices, gang_nodes, gang_every, clients, max_inflight, loss_pct;
	int64_t jobs, latency_jobs, task_ms, steady_s, heartbeat_s, node_timeout_s, timeout_s;
	int64_t hb_max_per_s; /* -1: the controller's default */
	const char *aidc;
	bool json, keep;
};

struct result {
	double reg_s, steady_cpu_pct, steady_emu_cpu_pct, submit_per_s, jobs_per_s;
	double idle_p50, idle_p99, load_p50, load_p99, loss_detect_s, loss_cpu_pct;
	int64_t rss_kib, hwm_kib, completed_ctl, heartbeats, after_loss_ok;
	int64_t hb_period_ms, steady_ms; /* the controller's heartbeat period; the window */
	uint32_t lost_nodes, down_seen;
	/* Throughput phase, per job: CPU ms of the controller (all threads; its
	 * loop thread alone), of the emulator and of the submitting clients;
	 * the controller's loop requests, group commits (and ms waiting on
	 * them) and scheduling passes (and their ms); the window in ms. */
	double tp_ctl_ms, tp_loop_ms, tp_emu_ms, tp_cli_ms, tp_req, tp_commits, tp_commit_ms;
	double tp_passes, tp_pass_ms, tp_window_ms;
	double tp_loop_wait_pct; /* the loop thread's time runnable but not running, % of the window */
};

struct bench {
	struct opts o;
	char dir[64], sock[128];
	pid_t ctl;
	int64_t deadline_ms;
	struct emu *em;
	int64_t next_job; /* for the client threads: index of the next job to submit */
	int64_t cli_cpu_us; /* the client threads' CPU time, summed as they end (under mu) */
	pthread_mutex_t mu;
	struct result r;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_scale [--nodes N] [--devices-per-node D] [--jobs N] [--gang-every K]\n"
		"       [--gang-nodes G] [--latency-jobs N] [--task-ms MS] [--clients N]\n"
		"       [--steady-s S] [--heartbeat-s S] [--heartbeat-max-per-s R]\n"
		"       [--node-timeout-s S] [--loss-pct P]\n"
		"       [--max-inflight N] [--timeout-s S] [--aidc PATH] [--keep] [--json]\n"
		"Starts a real controller on loopback in a temporary directory, N emulated nodes\n"
		"(agent protocol 3, mock devices, tasks exit after --task-ms without forking) in\n"
		"this process, and measures: registration storm, steady heartbeat CPU, idle\n"
		"submit-to-start, end-to-end jobs/s (every K-th job a G-node gang), controller\n"
		"RSS, and a node-loss storm (P%% of nodes silent at once). Defaults: 1024 nodes,\n"
		"8 devices, 2000 jobs, gang every 50th of 64 nodes, 100 latency jobs, 1000 ms\n"
		"tasks, 4 clients, 10 s steady, the controller's heartbeat (1 s, stretched to\n"
		"at most 1000 heartbeats/s in all; 0 = never stretched) and node timeout\n"
		"(10 s, or 3 heartbeats), 10%% loss, 256 requests in flight, 600 s bound.\n"
		"AIDC: --aidc, else $AIDC_BIN, else the aidc built next to this program.\n"
		"Exit 1 when the center did not do the work (see bench/scale/README.md).\n");
}

static int opt_num(const char *name, const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	if (!v || aidc_parse_i64(v, lo, hi, out) != 0) {
		fprintf(stderr, "bench_scale: %s needs a number in %" PRId64 "..%" PRId64 "%s%s\n",
			name, lo, hi, v ? ", not " : "", v ? v : "");
		return -1;
	}
	return 0;
}

/* Numeric options: name, bounds, and where the value goes (u32 or i64). */
struct numopt {
	const char *name;
	int64_t lo, hi;
	uint32_t *u;
	int64_t *i;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	const struct numopt num[] = {
		{"--nodes", 1, AIDC_MAX_NODES, &o->nodes, NULL},
		{"--devices-per-node", 0, AIDC_MAX_DEVICES_PER_NODE, &o->devices, NULL},
		{"--gang-nodes", 2, AIDC_MAX_NODES, &o->gang_nodes, NULL},
		{"--gang-every", 0, 1000000, &o->gang_every, NULL},
		{"--clients", 1, 64, &o->clients, NULL},
		{"--max-inflight", 1, 4096, &o->max_inflight, NULL},
		{"--loss-pct", 0, 100, &o->loss_pct, NULL},
		{"--jobs", 0, 10000000, NULL, &o->jobs},
		{"--latency-jobs", 0, 100000, NULL, &o->latency_jobs},
		{"--task-ms", 0, 86400000, NULL, &o->task_ms},
		{"--steady-s", 0, 3600, NULL, &o->steady_s},
		{"--heartbeat-s", 0, 600, NULL, &o->heartbeat_s},
		{"--heartbeat-max-per-s", 0, 1000000, NULL, &o->hb_max_per_s},
		{"--node-timeout-s", 0, 3600, NULL, &o->node_timeout_s},
		{"--timeout-s", 1, 86400, NULL, &o->timeout_s},
	};
	for (int k = 1; k < argc; k++) {
		const char *a = argv[k];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(a, "--json") || !strcmp(a, "--keep")) {
			*(a[2] == 'j' ? &o->json : &o->keep) = true;
			continue;
		}
		if (!strcmp(a, "--aidc")) {
			if (!(o->aidc = argv[++k]))
				return fprintf(stderr, "bench_scale: --aidc needs a path\n"), -1;
			continue;
		}
		size_t i = 0;
		while (i < AIDC_ARRAY_LEN(num) && strcmp(a, num[i].name))
			i++;
		if (i == AIDC_ARRAY_LEN(num))
			return fprintf(stderr, "bench_scale: unknown option '%s' (see --help)\n", a), -1;
		int64_t v;
		const char *val = ++k < argc ? argv[k] : NULL;
		if (opt_num(a, val, num[i].lo, num[i].hi, &v))
			return -1;
		if (num[i].u)
			*num[i].u = (uint32_t)v;
		else
			*num[i].i = v;
	}
	if (o->gang_every && o->gang_nodes > o->nodes)
		return fprintf(stderr, "bench_scale: --gang-nodes %u is more than --nodes %u\n",
			       o->gang_nodes, o->nodes), -1;
	return 0;
}

/* ---- the controller ------------------------------------------------------------------- */

static const char *find_aidc(const struct opts *o, char *buf, size_t n)
{
	if (o->aidc)
		return o->aidc;
	const char *env = getenv("AIDC_BIN");
	if (env && env[0])
		return env;
	char self[1024];
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k <= 0)
		return "aidc";
	self[k] = 0;
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	snprintf(buf, n, "%s/../../src/cli/aidc", self);
	return buf;
}

static int write_config(struct bench *b)
{
	char path[128];
	snprintf(path, sizeof path, "%s/controller.conf", b->dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return fprintf(stderr, "bench_scale: %s: %s\n", path, strerror(errno)), -1;
	fprintf(f, "state_dir = %s/state\nsocket = %s\nport = 0\nport_file = %s/port\n", b->dir,
		b->sock, b->dir);
	fprintf(f, "secret_file = %s/secret\nallow_root_jobs = true\n", b->dir);
	if (b->o.heartbeat_s)
		fprintf(f, "heartbeat_s = %" PRId64 "\n", b->o.heartbeat_s);
	if (b->o.hb_max_per_s >= 0)
		fprintf(f, "heartbeat_max_per_s = %" PRId64 "\n", b->o.hb_max_per_s);
	if (b->o.node_timeout_s)
		fprintf(f, "node_timeout_s = %" PRId64 "\n", b->o.node_timeout_s);
	return fclose(f) == 0 ? 0 : -1;
}

/* Reads a small file's first line; false when absent or empty. */
static bool read_line(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool ok = fgets(out, (int)n, f) != NULL;
	fclose(f);
	out[strcspn(out, "\r\n")] = 0;
	return ok && out[0];
}

static int start_controller(struct bench *b, uint16_t *port, char *secret, size_t slen)
{
	char abuf[1100], conf[128], logf[128], path[128], line[64];
	const char *aidc = find_aidc(&b->o, abuf, sizeof abuf);
	snprintf(conf, sizeof conf, "%s/controller.conf", b->dir);
	snprintf(logf, sizeof logf, "%s/controller.log", b->dir);
	if (write_config(b) != 0)
		return -1;
	b->ctl = fork();
	if (b->ctl == 0) {
		execl(aidc, aidc, "controller", "--config", conf, "--log-file", logf, (char *)NULL);
		fprintf(stderr, "bench_scale: cannot run %s: %s\n", aidc, strerror(errno));
		_exit(127);
	}
	snprintf(path, sizeof path, "%s/port", b->dir);
	for (int i = 0; i < 600; i++) {
		int st;
		if (waitpid(b->ctl, &st, WNOHANG) == b->ctl) {
			b->ctl = 0;
			return fprintf(stderr, "bench_scale: the controller exited (%s): see %s\n",
				       aidc, logf), -1;
		}
		int64_t p;
		if (read_line(path, line, sizeof line) && aidc_parse_i64(line, 1, 65535, &p) == 0) {
			*port = (uint16_t)p;
			snprintf(path, sizeof path, "%s/secret", b->dir);
			if (!read_line(path, secret, slen))
				return fprintf(stderr, "bench_scale: no secret in %s\n", path), -1;
			return 0;
		}
		usleep(50000);
	}
	return fprintf(stderr, "bench_scale: the controller wrote no port file in 30 s (%s)\n",
		       logf), -1;
}

static void stop_controller(struct bench *b)
{
	if (b->ctl <= 0)
		return;
	kill(b->ctl, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(b->ctl, NULL, WNOHANG) == b->ctl)
			return;
		usleep(50000);
	}
	kill(b->ctl, SIGKILL);
	waitpid(b->ctl, NULL, 0);
}

/* CPU time (user + system) in ms of a /proc/.../stat file: a process or one thread. */
static int64_t stat_cpu_ms(const char *path)
{
	char buf[1024];
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	unsigned long long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return (int64_t)((ut + st) * 1000ull / (unsigned long long)sysconf(_SC_CLK_TCK));
}

/* The controller's CPU time (user + system), in ms. */
static int64_t ctl_cpu_ms(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	return stat_cpu_ms(path);
}

/* The CPU time of the controller's main thread: its event loop. */
static int64_t loop_cpu_ms(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)pid);
	return stat_cpu_ms(path);
}

/* Nanoseconds the controller's loop thread waited on a run queue (runnable,
 * not running: the CPU was busy with other threads), from its schedstat. */
static int64_t loop_wait_ns(pid_t pid)
{
	char path[64];
	long long run = 0, wait = 0;
	snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lld %lld", &run, &wait) != 2)
		wait = 0;
	fclose(f);
	return wait;
}

static int64_t thread_cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t self_cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 +
	       (int64_t)ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
}

/* VmRSS (the largest seen so far) and VmHWM of the controller, in KiB. */
static void ctl_rss(pid_t pid, int64_t *rss, int64_t *hwm)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		long long v;
		if (sscanf(line, "VmRSS: %lld", &v) == 1)
			*rss = AIDC_MAX(*rss, v);
		else if (sscanf(line, "VmHWM: %lld", &v) == 1)
			*hwm = v;
	}
	fclose(f);
}

/* ---- the client ------------------------------------------------------------------------ */

/* One call over the Unix socket; the reply stays in c->reply (released by the caller). */
static int ctl_call(struct api_client *cl, const char *method, const char *path, const char *body,
		    struct api_call *c)
{
	struct aidc_err e = {0};
	memset(c, 0, sizeof *c);
	aidc_buf_init(&c->reply, 256u << 20);
	c->method = method;
	c->path = path;
	c->body = body;
	c->body_len = body ? strlen(body) : 0;
	c->timeout_ms = 60000;
	int rc = api_client_call(cl, c, &e);
	if (rc)
		fprintf(stderr, "bench_scale: %s %s: %s\n", method, path, e.msg);
	return rc;
}

static bool is_gang(const struct bench *b, int64_t k)
{
	return b->o.gang_every && k % b->o.gang_every == b->o.gang_every - 1;
}

/* Submits a single-node job (one task, one device) or a gang (one task of all
 * the devices on each of gang_nodes nodes); its id, or -1. */
static int64_t submit(struct bench *b, struct api_client *cl, bool gang)
{
	char body[256];
	int32_t ntasks = gang ? (int32_t)b->o.gang_nodes : 1;
	if (gang)
		snprintf(body, sizeof body,
			 "{\"command\":[\"true\"],\"cwd\":\"/\",\"nodes\":%u,\"ntasks\":%u,"
			 "\"ntasks_per_node\":1,\"gpus_per_task\":%u}",
			 b->o.gang_nodes, b->o.gang_nodes, b->o.devices);
	else
		snprintf(body, sizeof body, "{\"command\":[\"true\"],\"cwd\":\"/\",\"gpus_per_task\":%u}",
			 b->o.devices ? 1u : 0u);
	struct api_call c;
	int64_t t0 = emu_now_ms(), id = -1;
	if (ctl_call(cl, "POST", "/v1/jobs", body, &c) == 0) {
		const char *p = strstr(aidc_buf_str(&c.reply), "\"id\":");
		if (c.status == 201 && p)
			id = strtoll(p + 5, NULL, 10);
		else
			fprintf(stderr, "bench_scale: submit refused (HTTP %ld): %.200s\n", c.status,
				aidc_buf_str(&c.reply));
	}
	aidc_buf_release(&c.reply);
	if (id > 0)
		emu_job_submitted(b->em, id, t0, ntasks);
	return id;
}

static bool open_client(struct bench *b, struct api_client *cl)
{
	struct aidc_err e = {0};
	if (api_client_init(cl, b->sock, NULL, 0, NULL, &e) != 0) {
		fprintf(stderr, "bench_scale: client: %s\n", e.msg);
		return false;
	}
	return true;
}

static bool past_deadline(const struct bench *b)
{
	return g_stop || emu_now_ms() > b->deadline_ms;
}

/* ---- the phases ---------------------------------------------------------------------------- */

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int phase_register(struct bench *b, int64_t t0)
{
	struct emu_stats st;
	for (;;) {
		emu_stats_get(b->em, &st);
		if (st.registered >= b->o.nodes)
			break;
		if (past_deadline(b))
			return fprintf(stderr, "bench_scale: %u of %u nodes registered within the bound\n",
				       st.registered, b->o.nodes), -1;
		nap_ms(2);
	}
	b->r.reg_s = (double)(emu_now_ms() - t0) / 1000.0;
	return 0;
}

/* Controller and emulator CPU over an idle window of steady_s seconds, and
 * at least two heartbeat periods: the period grows with the node count (17 s
 * at 16,384 nodes), and nodes that registered while the center was smaller
 * heartbeat at shorter periods until a reply tells them the new one, so a
 * window shorter than the period, just after the storm, saw 1,153 to 1,507
 * heartbeats/s where the period allows 964 (16,384 / 17). */
static void phase_steady(struct bench *b)
{
	if (!b->o.steady_s)
		return;
	struct emu_stats s0, s1;
	emu_stats_get(b->em, &s0);
	b->r.hb_period_ms = s0.hb_period_ms;
	int64_t win = AIDC_MAX(b->o.steady_s * 1000, 2 * s0.hb_period_ms);
	int64_t t0 = emu_now_ms(), c0 = ctl_cpu_ms(b->ctl), e0 = self_cpu_ms();
	while (!past_deadline(b) && emu_now_ms() - t0 < win)
		nap_ms(50);
	double dt = (double)AIDC_MAX(1, emu_now_ms() - t0);
	emu_stats_get(b->em, &s1);
	b->r.steady_cpu_pct = 100.0 * (double)(ctl_cpu_ms(b->ctl) - c0) / dt;
	b->r.steady_emu_cpu_pct = 100.0 * (double)(self_cpu_ms() - e0) / dt;
	b->r.heartbeats = (int64_t)((double)(s1.heartbeats - s0.heartbeats) * 1000.0 / dt);
	b->r.steady_ms = (int64_t)dt;
}

/* Waits until job id started (done false) or completed; false past the bound. */
static bool wait_job(struct bench *b, int64_t id, bool done, struct emu_job *j)
{
	for (;;) {
		if (!emu_job_get(b->em, id, j))
			return false;
		if (done ? j->done_ms != 0 : j->start_ms != 0)
			return true;
		if (past_deadline(b))
			return false;
		nap_ms(1);
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double pct(int64_t *v, size_t n, double q)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof *v, cmp_i64);
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return (double)v[i];
}

/* n single-node jobs one after another on an idle center: submit-to-start. */
static int phase_latency(struct bench *b, struct api_client *cl, int64_t n, double *p50,
			 double *p99)
{
	int64_t *lat = aidc_calloc((size_t)n + 1, sizeof *lat);
	int rc = 0;
	for (int64_t k = 0; k < n && rc == 0; k++) {
		int64_t id = submit(b, cl, false);
		struct emu_job j;
		if (id < 0 || !wait_job(b, id, true, &j)) {
			fprintf(stderr, "bench_scale: latency job %" PRId64 " did not complete\n", id);
			rc = -1;
			break;
		}
		lat[k] = j.start_ms - j.submit_ms;
	}
	if (rc == 0) {
		*p50 = pct(lat, (size_t)n, 0.50);
		*p99 = pct(lat, (size_t)n, 0.99);
	}
	aidc_free(lat);
	return rc;
}

struct client_arg {
	struct bench *b;
	int64_t *ids;
};

static void *client_main(void *arg)
{
	struct client_arg *ca = arg;
	struct bench *b = ca->b;
	struct api_client cl;
	if (!open_client(b, &cl))
		return NULL;
	for (;;) {
		pthread_mutex_lock(&b->mu);
		int64_t k = b->next_job < b->o.jobs ? b->next_job++ : -1;
		pthread_mutex_unlock(&b->mu);
		if (k < 0 || past_deadline(b))
			break;
		ca->ids[k] = submit(b, &cl, is_gang(b, k));
	}
	api_client_release(&cl);
	int64_t us = thread_cpu_us();
	pthread_mutex_lock(&b->mu);
	b->cli_cpu_us += us;
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* The jobs' spans once all completed: submit rate, jobs/s, submit-to-start. */
static int throughput_stats(struct bench *b, const int64_t *ids)
{
	int64_t first = INT64_MAX, last_submit = 0, last_done = 0, *lat;
	lat = aidc_calloc((size_t)b->o.jobs + 1, sizeof *lat);
	for (int64_t k = 0; k < b->o.jobs; k++) {
		struct emu_job j;
		if (ids[k] <= 0 || !wait_job(b, ids[k], true, &j)) {
			fprintf(stderr, "bench_scale: job %" PRId64 " (number %" PRId64
				") did not complete within the bound\n", ids[k], k);
			aidc_free(lat);
			return -1;
		}
		first = AIDC_MIN(first, j.submit_ms);
		last_submit = AIDC_MAX(last_submit, j.submit_ms);
		last_done = AIDC_MAX(last_done, j.done_ms);
		lat[k] = j.start_ms - j.submit_ms;
	}
	b->r.submit_per_s = (double)b->o.jobs * 1000.0 / (double)AIDC_MAX(1, last_submit - first);
	b->r.jobs_per_s = (double)b->o.jobs * 1000.0 / (double)AIDC_MAX(1, last_done - first);
	b->r.load_p50 = pct(lat, (size_t)b->o.jobs, 0.50);
	b->r.load_p99 = pct(lat, (size_t)b->o.jobs, 0.99);
	aidc_free(lat);
	return 0;
}

/* The controller's counters the throughput phase reports per job (/metrics). */
struct ctl_counters {
	double requests, commits, commit_s, passes, pass_s;
};

static double metric(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = text; (p = strstr(p, name)); p += n)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return 0;
}

static void ctl_counters_get(struct bench *b, struct ctl_counters *k)
{
	struct api_client cl;
	struct api_call c;
	memset(k, 0, sizeof *k);
	if (!open_client(b, &cl))
		return;
	if (ctl_call(&cl, "GET", "/metrics", NULL, &c) == 0 && c.status == 200) {
		const char *t = aidc_buf_str(&c.reply);
		k->requests = metric(t, "aidc_loop_requests_total");
		k->commits = metric(t, "aidc_store_commit_seconds_count");
		k->commit_s = metric(t, "aidc_store_commit_seconds_sum");
		k->passes = metric(t, "aidc_sched_passes_total");
		k->pass_s = metric(t, "aidc_sched_pass_seconds_total");
	}
	aidc_buf_release(&c.reply);
	api_client_release(&cl);
}

/* CPU and controller work per job over the throughput phase (k0: the
 * counters at its start; cpu0: the CPU of the controller, its loop thread,
 * this process and this thread then, and the loop's run-queue wait). */
static void throughput_costs(struct bench *b, const struct ctl_counters *k0, const int64_t *cpu0,
			     int64_t t0)
{
	struct ctl_counters k1;
	double n = (double)b->o.jobs;
	struct result *r = &b->r;
	int64_t ctl = ctl_cpu_ms(b->ctl) - cpu0[0], loop = loop_cpu_ms(b->ctl) - cpu0[1];
	int64_t self = self_cpu_ms() - cpu0[2], main_ms = (thread_cpu_us() - cpu0[3]) / 1000;
	r->tp_window_ms = (double)(emu_now_ms() - t0);
	r->tp_loop_wait_pct = (double)(loop_wait_ns(b->ctl) - cpu0[4]) / 1e4 / r->tp_window_ms;
	ctl_counters_get(b, &k1);
	r->tp_ctl_ms = (double)ctl / n;
	r->tp_loop_ms = (double)loop / n;
	r->tp_cli_ms = (double)b->cli_cpu_us / 1000.0 / n;
	r->tp_emu_ms = ((double)(self - main_ms) - (double)b->cli_cpu_us / 1000.0) / n;
	r->tp_req = (k1.requests - k0->requests) / n;
	r->tp_commits = (k1.commits - k0->commits) / n;
	r->tp_commit_ms = (k1.commit_s - k0->commit_s) * 1000.0 / n;
	r->tp_passes = (k1.passes - k0->passes) / n;
	r->tp_pass_ms = (k1.pass_s - k0->pass_s) * 1000.0 / n;
}

static int phase_throughput(struct bench *b)
{
	if (!b->o.jobs)
		return 0;
	int64_t *ids = aidc_calloc((size_t)b->o.jobs, sizeof *ids);
	pthread_t th[64];
	struct client_arg ca = {b, ids};
	struct ctl_counters k0;
	ctl_counters_get(b, &k0);
	int64_t t0 = emu_now_ms();
	int64_t cpu0[] = {ctl_cpu_ms(b->ctl), loop_cpu_ms(b->ctl), self_cpu_ms(), thread_cpu_us(),
			  loop_wait_ns(b->ctl)};
	for (uint32_t i = 0; i < b->o.clients; i++)
		pthread_create(&th[i], NULL, client_main, &ca);
	for (uint32_t i = 0; i < b->o.clients; i++)
		pthread_join(th[i], NULL);
	int rc = throughput_stats(b, ids);
	if (rc == 0)
		throughput_costs(b, &k0, cpu0, t0);
	aidc_free(ids);
	return rc;
}

/* How many times needle occurs in the reply of GET path; -1 on failure. */
static int64_t count_in(struct bench *b, struct api_client *cl, const char *path,
			const char *needle)
{
	struct api_call c;
	int64_t n = -1;
	if (ctl_call(cl, "GET", path, NULL, &c) == 0 && c.status == 200) {
		n = 0;
		for (const char *p = aidc_buf_str(&c.reply); (p = strstr(p, needle)); p++)
			n++;
	} else if (c.status) {
		fprintf(stderr, "bench_scale: GET %s: HTTP %ld\n", path, c.status);
	}
	aidc_buf_release(&c.reply);
	(void)b;
	return n;
}

/* loss_pct of the nodes fall silent at once: the time until the controller
 * lists them all down, its CPU meanwhile, then a few jobs on the rest. */
static int phase_loss(struct bench *b, struct api_client *cl)
{
	uint32_t n = (uint32_t)((uint64_t)b->o.nodes * b->o.loss_pct / 100);
	b->r.lost_nodes = n;
	if (!n)
		return 0;
	int64_t t0 = emu_now_ms(), c0 = ctl_cpu_ms(b->ctl), down = 0;
	emu_silence(b->em, b->o.nodes - n, n);
	while (!past_deadline(b)) {
		down = count_in(b, cl, "/v1/nodes", "\"state\":\"down\"");
		if (down >= n)
			break;
		nap_ms(250);
	}
	int64_t dt = AIDC_MAX(1, emu_now_ms() - t0);
	b->r.down_seen = (uint32_t)AIDC_MAX(0, down);
	b->r.loss_detect_s = (double)dt / 1000.0;
	b->r.loss_cpu_pct = 100.0 * (double)(ctl_cpu_ms(b->ctl) - c0) / (double)dt;
	if (down < n)
		return fprintf(stderr, "bench_scale: %" PRId64 " of %u silent nodes went down\n",
			       down, n), -1;
	for (int k = 0; k < 5; k++) {
		int64_t id = submit(b, cl, false);
		struct emu_job j;
		if (id > 0 && wait_job(b, id, true, &j))
			b->r.after_loss_ok++;
	}
	return b->r.after_loss_ok == 5 ? 0 : -1;
}

/* ---- report and main ------------------------------------------------------------------------ */

static void report_table(const struct bench *b)
{
	const struct result *r = &b->r;
	printf("bench_scale: %u nodes x %u devices, %" PRId64 " jobs (every %u-th a %u-node gang), "
	       "tasks %" PRId64 " ms\n", b->o.nodes, b->o.devices, b->o.jobs, b->o.gang_every,
	       b->o.gang_nodes, b->o.task_ms);
	printf("  registration storm          %10.2f s\n", r->reg_s);
	printf("  steady: controller CPU      %10.1f %% of one core (%" PRId64 " heartbeats/s, "
	       "period %" PRId64 " s, over %.1f s; emulator %.1f %%)\n", r->steady_cpu_pct,
	       r->heartbeats, r->hb_period_ms / 1000, (double)r->steady_ms / 1000,
	       r->steady_emu_cpu_pct);
	printf("  idle submit-to-start p50    %10.1f ms   p99 %.1f ms\n", r->idle_p50, r->idle_p99);
	printf("  submissions                 %10.1f /s\n", r->submit_per_s);
	printf("  end to end                  %10.1f jobs/s\n", r->jobs_per_s);
	printf("  loaded submit-to-start p50  %10.1f ms   p99 %.1f ms\n", r->load_p50, r->load_p99);
	printf("  CPU per job (throughput)    %10.2f ms controller (loop thread %.2f), emulator "
	       "%.2f, clients %.2f; over %.1f s\n", r->tp_ctl_ms, r->tp_loop_ms, r->tp_emu_ms,
	       r->tp_cli_ms, r->tp_window_ms / 1000);
	printf("  controller per job          %10.2f loop requests, %.3f group commits (%.2f ms), "
	       "%.3f passes (%.2f ms); loop runnable, not running: %.1f %% of the time\n", r->tp_req,
	       r->tp_commits, r->tp_commit_ms, r->tp_passes, r->tp_pass_ms, r->tp_loop_wait_pct);
	printf("  controller RSS              %10.1f MiB (peak %.1f MiB)\n", (double)r->rss_kib / 1024,
	       (double)r->hwm_kib / 1024);
	printf("  node loss: %u silent        %10.2f s until all down (controller CPU %.1f %%), "
	       "%" PRId64 "/5 jobs after\n", r->lost_nodes, r->loss_detect_s, r->loss_cpu_pct,
	       r->after_loss_ok);
	printf("  jobs completed (controller) %10" PRId64 "\n", r->completed_ctl);
}

static void report_json(const struct bench *b)
{
	const struct result *r = &b->r;
	struct aidc_buf out;
	aidc_buf_init(&out, 1u << 20);
	struct aidc_json w;
	aidc_json_init(&w, &out, true);
	aidc_json_obj_begin(&w);
	aidc_json_ki64(&w, "nodes", b->o.nodes);
	aidc_json_ki64(&w, "devices_per_node", b->o.devices);
	aidc_json_ki64(&w, "jobs", b->o.jobs);
	aidc_json_ki64(&w, "gang_every", b->o.gang_every);
	aidc_json_ki64(&w, "gang_nodes", b->o.gang_nodes);
	aidc_json_ki64(&w, "task_ms", b->o.task_ms);
	aidc_json_kf64(&w, "registration_s", r->reg_s, 3);
	aidc_json_kf64(&w, "steady_controller_cpu_pct", r->steady_cpu_pct, 1);
	aidc_json_kf64(&w, "steady_emulator_cpu_pct", r->steady_emu_cpu_pct, 1);
	aidc_json_ki64(&w, "steady_heartbeats_per_s", r->heartbeats);
	aidc_json_ki64(&w, "steady_heartbeat_period_s", r->hb_period_ms / 1000);
	aidc_json_kf64(&w, "steady_window_s", (double)r->steady_ms / 1000, 1);
	aidc_json_kf64(&w, "idle_submit_to_start_p50_ms", r->idle_p50, 1);
	aidc_json_kf64(&w, "idle_submit_to_start_p99_ms", r->idle_p99, 1);
	aidc_json_kf64(&w, "submissions_per_s", r->submit_per_s, 1);
	aidc_json_kf64(&w, "jobs_per_s", r->jobs_per_s, 1);
	aidc_json_kf64(&w, "loaded_submit_to_start_p50_ms", r->load_p50, 1);
	aidc_json_kf64(&w, "loaded_submit_to_start_p99_ms", r->load_p99, 1);
	aidc_json_kf64(&w, "job_controller_cpu_ms", r->tp_ctl_ms, 3);
	aidc_json_kf64(&w, "job_loop_thread_cpu_ms", r->tp_loop_ms, 3);
	aidc_json_kf64(&w, "job_emulator_cpu_ms", r->tp_emu_ms, 3);
	aidc_json_kf64(&w, "job_clients_cpu_ms", r->tp_cli_ms, 3);
	aidc_json_kf64(&w, "job_loop_requests", r->tp_req, 2);
	aidc_json_kf64(&w, "job_group_commits", r->tp_commits, 3);
	aidc_json_kf64(&w, "job_group_commit_ms", r->tp_commit_ms, 3);
	aidc_json_kf64(&w, "job_sched_passes", r->tp_passes, 3);
	aidc_json_kf64(&w, "job_sched_pass_ms", r->tp_pass_ms, 3);
	aidc_json_kf64(&w, "throughput_window_s", r->tp_window_ms / 1000, 1);
	aidc_json_kf64(&w, "throughput_loop_runqueue_pct", r->tp_loop_wait_pct, 1);
	aidc_json_ki64(&w, "controller_rss_kib", r->rss_kib);
	aidc_json_ki64(&w, "controller_peak_rss_kib", r->hwm_kib);
	aidc_json_ki64(&w, "loss_nodes", r->lost_nodes);
	aidc_json_kf64(&w, "loss_all_down_s", r->loss_detect_s, 2);
	aidc_json_kf64(&w, "loss_controller_cpu_pct", r->loss_cpu_pct, 1);
	aidc_json_ki64(&w, "jobs_after_loss_ok", r->after_loss_ok);
	aidc_json_ki64(&w, "jobs_completed_controller", r->completed_ctl);
	aidc_json_obj_end(&w);
	if (aidc_json_finish(&w) == 0)
		printf("%s\n", aidc_buf_str(&out));
	aidc_buf_release(&out);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Descriptors for every emulated connection (and the controller's, inherited). */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Every phase after the controller and the emulator are up. */
static int run_phases(struct bench *b, int64_t t0)
{
	struct api_client cl;
	if (phase_register(b, t0) != 0 || !open_client(b, &cl))
		return -1;
	phase_steady(b);
	int rc = phase_latency(b, &cl, b->o.latency_jobs, &b->r.idle_p50, &b->r.idle_p99);
	if (rc == 0)
		rc = phase_throughput(b);
	ctl_rss(b->ctl, &b->r.rss_kib, &b->r.hwm_kib);
	if (rc == 0)
		rc = phase_loss(b, &cl);
	int64_t want = b->o.latency_jobs + b->o.jobs + b->r.after_loss_ok;
	b->r.completed_ctl = count_in(b, &cl, "/v1/jobs?state=completed&limit=100000", "\"id\":");
	if (rc == 0 && b->r.completed_ctl != want) {
		fprintf(stderr, "bench_scale: the controller lists %" PRId64 " completed jobs, not %"
			PRId64 "\n", b->r.completed_ctl, want);
		rc = -1;
	}
	ctl_rss(b->ctl, &b->r.rss_kib, &b->r.hwm_kib);
	api_client_release(&cl);
	return rc;
}

static int run(struct bench *b)
{
	uint16_t port = 0;
	char secret[AIDC_MAX_SECRET_BYTES + 1], err[256];
	if (start_controller(b, &port, secret, sizeof secret) != 0)
		return -1;
	struct emu_config ec = {.host = "127.0.0.1", .port = port, .secret = secret,
				.nodes = b->o.nodes, .devices = b->o.devices,
				.task_ms = b->o.task_ms, .poll_wait_s = 20,
				.max_inflight = b->o.max_inflight};
	size_t cap = (size_t)(b->o.jobs + b->o.latency_jobs) + 64;
	int64_t t0 = emu_now_ms();
	if (emu_start(&ec, cap, &b->em, err, sizeof err) != 0) {
		fprintf(stderr, "bench_scale: %s\n", err);
		return -1;
	}
	int rc = run_phases(b, t0);
	if (rc == 0 && b->o.json)
		report_json(b);
	else if (rc == 0)
		report_table(b);
	emu_stop(b->em);
	return rc;
}

int main(int argc, char **argv)
{
	struct bench b = {.o = {.nodes = 1024, .devices = 8, .gang_nodes = 64, .gang_every = 50,
				.clients = 4, .max_inflight = 256, .loss_pct = 10, .jobs = 2000,
				.latency_jobs = 100, .task_ms = 1000, .steady_s = 10,
				.timeout_s = 600, .hb_max_per_s = -1}};
	if (parse_args(argc, argv, &b.o) != 0)
		return 2;
	pthread_mutex_init(&b.mu, NULL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	snprintf(b.dir, sizeof b.dir, "/tmp/aidc-scale-XXXXXX");
	if (!mkdtemp(b.dir))
		return fprintf(stderr, "bench_scale: mkdtemp: %s\n", strerror(errno)), 1;
	snprintf(b.sock, sizeof b.sock, "%s/aidc.sock", b.dir);
	b.deadline_ms = emu_now_ms() + b.o.timeout_s * 1000;
	int rc = run(&b);
	stop_controller(&b);
	if (rc != 0 || b.o.keep)
		fprintf(stderr, "bench_scale: %s kept (controller.log)\n", b.dir);
	else
		nftw(b.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc == 0 ? 0 : 1;
}
