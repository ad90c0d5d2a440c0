/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc up` and `aidc down`: an all-in-one local center. `up` starts a
 * controller and N agents with mock accelerators as background processes
 * (each agent with its own state directory), records their PIDs under
 * DIR/pids and its own arguments in DIR/up.args, and waits until every agent
 * has registered; `up --demo` also submits a small workload. `up` on a
 * directory whose center is recorded restarts whatever part of it has died
 * (the controller on the port it had, with its database; agents with their
 * state directories), with the arguments it was first started with. `down`
 * stops what `up` started, by PID: SIGTERM, then SIGKILL after 10 s.
 *
 * Layout of DIR (default ~/.aidc): aidc.sock, controller/ (database, secret,
 * logs, port), agent-K/ (task logs), pids/, up.args, *.log (daemon output).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "util/util.h"

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Starts argv in the background (own session), output to logpath. */
static pid_t spawn(char *const *argv, const char *logpath)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	setsid();
	int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
	int nul = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd); /* the daemon keeps only 0/1/2, not a stray copy */
	}
	if (nul >= 0) {
		dup2(nul, 0);
		if (nul > 2)
			close(nul);
	}
	execv(argv[0], argv);
	_exit(127);
}

static int write_pid(const char *dir, const char *name, pid_t pid)
{
	char p[AIDC_MAX_PATH_BYTES + 64];
	snprintf(p, sizeof p, "%s/pids/%s.pid", dir, name);
	FILE *f = fopen(p, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", (int)pid);
	return fclose(f);
}

static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[32] = "";
	char *ok = fgets(line, sizeof line, f);
	fclose(f);
	int64_t v;
	line[strcspn(line, "\n")] = '\0';
	return ok && aidc_parse_i64(line, 1, INT32_MAX, &v) == 0 ? (pid_t)v : -1;
}

/* Prints the last n lines of path to stderr, indented. */
static void print_tail(const char *path, int n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char ring[8][512];
	int count = 0;
	if (n > 8)
		n = 8;
	while (fgets(ring[count % n], sizeof ring[0], f))
		count++;
	fclose(f);
	for (int i = count > n ? count - n : 0; i < count; i++) {
		const char *l = ring[i % n];
		fprintf(stderr, "  %s%s", l, l[strlen(l) - 1] == '\n' ? "" : "\n");
	}
}

static bool alive(pid_t pid)
{
	return pid > 0 && kill(pid, 0) == 0;
}

/* Whether pid is a live `aidc ROLE` (its second argument is role): a PID file
 * whose process died and whose number was reused, or a zombie, is not. */
static bool is_ours(pid_t pid, const char *role)
{
	if (!alive(pid))
		return false;
	char p[64], buf[256];
	snprintf(p, sizeof p, "/proc/%d/cmdline", (int)pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return errno == ENOENT ? false : true; /* no procfs: trust kill(0) */
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	size_t l = strlen(buf);
	return l + 1 < n && strcmp(buf + l + 1, role) == 0;
}

/* Stops one daemon: SIGTERM, wait up to 10 s, then SIGKILL. */
static void stop_pid(pid_t pid)
{
	if (!alive(pid))
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 200 && alive(pid); i++) {
		waitpid(pid, NULL, WNOHANG);
		nap_ms(50);
	}
	if (alive(pid))
		kill(pid, SIGKILL);
	waitpid(pid, NULL, WNOHANG);
}

/* The HAProxy a controller left routing (router_keep_on_stop): named by
 * controller/router/haproxy.pid, stopped when that pid is still a haproxy.
 * Returns how many processes it stopped (0 or 1). */
static int stop_kept_router(const char *dir)
{
	char p[1400], comm[64] = "";
	snprintf(p, sizeof p, "%s/controller/router/haproxy.pid", dir);
	pid_t pid = read_pid(p);
	if (pid <= 0)
		return 0;
	char cp[64];
	snprintf(cp, sizeof cp, "/proc/%d/comm", (int)pid);
	FILE *f = fopen(cp, "r");
	if (f) {
		if (!fgets(comm, sizeof comm, f))
			comm[0] = '\0';
		fclose(f);
	}
	unlink(p);
	if (strncmp(comm, "haproxy", 7) != 0 || !alive(pid))
		return 0;
	stop_pid(pid);
	return 1;
}

/* GET path on the controller's socket; the decoded reply (caller frees with
 * json_decref), or NULL on any failure. */
static json_t *get_json(const char *sock, const char *path)
{
	struct api_client cl;
	struct api_call c;
	memset(&c, 0, sizeof c);
	if (api_client_init(&cl, sock, NULL, 0, NULL, NULL) != 0)
		return NULL;
	aidc_buf_init(&c.reply, 16u << 20);
	c.method = "GET";
	c.path = path;
	c.timeout_ms = 2000;
	json_t *r = NULL;
	if (api_client_call(&cl, &c, NULL) == 0 && c.status == 200)
		r = json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, NULL);
	aidc_buf_release(&c.reply);
	api_client_release(&cl);
	return r;
}

static int count_up_nodes(const char *sock)
{
	json_t *r = get_json(sock, "/v1/nodes");
	if (!r)
		return -1;
	int n = 0;
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(r, "nodes"), i, it)
		n += !strcmp(json_string_value(json_object_get(it, "state")) ?: "", "up");
	json_decref(r);
	return n;
}

/* Runs `aidc ARGS...` (self) and waits for it; its exit status, -1 if it could not run. */
static int run_self(const char *self, char **argv)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execv(self, argv);
		_exit(127);
	}
	int st = 0;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* The demo's batch script: Slurm users' #SBATCH directives work unchanged. */
static const char demo_script[] =
	"#!/bin/sh\n"
	"#SBATCH -J sbatch-demo\n"
	"#SBATCH --ntasks=2\n"
	"#SBATCH --gpus-per-task=2\n"
	"#SBATCH -t 2\n"
	"#SBATCH -o demo-%j-%t.out\n"
	"echo \"task $AIDC_TASK_INDEX of job $AIDC_JOB_ID on $AIDC_NODE: devices "
	"$AIDC_VISIBLE_DEVICES\"\n"
	"sleep 2\n";

/* Submits the demo workload: a single task, a 2-node gang, a #SBATCH batch
 * script, a job with a time limit, and one that needs every device of the
 * center (one task per node) and so waits until the others are done. Returns how many were accepted. */
static int demo_submit(const char *self, const char *sock, const char *dir, int64_t agents,
		       int64_t devs)
{
	char script[1200], all[32], cwd[1100];
	snprintf(cwd, sizeof cwd, "%s/demo", dir);
	mkdir(cwd, 0755);
	snprintf(script, sizeof script, "%s/train.sbatch", cwd);
	FILE *f = fopen(script, "w");
	if (!f || fputs(demo_script, f) == EOF) {
		fprintf(stderr, "aidc up: cannot write %s\n", script);
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	snprintf(all, sizeof all, "%" PRId64, devs > 0 ? devs : 1);
	char nodes[32];
	snprintf(nodes, sizeof nodes, "%" PRId64, agents);
	const char *gang_cmd = "echo rank $RANK of $WORLD_SIZE on $AIDC_NODE, master "
			       "$MASTER_ADDR:$MASTER_PORT, devices $AIDC_VISIBLE_DEVICES";
	const char *const jobs[][14] = {
		{"-J", "hello", "--", "echo", "hello from AIDC", NULL},
		{"-J", "gang", "-N", nodes, "-n", nodes, "--gpus-per-task", "1", "--", "sh", "-c",
		 gang_cmd, NULL},
		{script, NULL},
		{"-J", "sleeper", "-t", "1", "--", "sleep", "5", NULL},
		{"-J", "whole-center", "-N", nodes, "--ntasks-per-node", "1", "--gpus-per-task", all,
		 "--", "sh", "-c",
		 "echo all $AIDC_VISIBLE_DEVICES of $AIDC_NODE", NULL},
	};
	int ok = 0;
	if (chdir(cwd) != 0)
		return 0;
	for (size_t k = 0; k < AIDC_ARRAY_LEN(jobs); k++) {
		char *argv[24];
		size_t n = 0;
		argv[n++] = (char *)self;
		argv[n++] = (char *)"submit";
		argv[n++] = (char *)"--socket";
		argv[n++] = (char *)sock;
		for (size_t i = 0; jobs[k][i]; i++)
			argv[n++] = (char *)jobs[k][i];
		argv[n] = NULL;
		ok += run_self(self, argv) == 0;
	}
	return ok;
}

static bool terminal(const char *st)
{
	return st && (!strcmp(st, "completed") || !strcmp(st, "failed") ||
		      !strcmp(st, "cancelled") || !strcmp(st, "timeout"));
}

/* Waits up to timeout_s for every job to end, printing progress when it
 * changes. Returns true when all ended. */
static bool demo_wait(const char *sock, int timeout_s)
{
	char last[128] = "";
	for (int i = 0; i < timeout_s * 10; i++) {
		json_t *r = get_json(sock, "/v1/jobs");
		size_t k, done = 0, total = 0;
		json_t *it;
		json_array_foreach(json_object_get(r, "jobs"), k, it)
		{
			total++;
			done += terminal(json_string_value(json_object_get(it, "state")));
		}
		json_decref(r);
		char line[128];
		snprintf(line, sizeof line, "  %zu of %zu demo jobs finished", done, total);
		if (strcmp(line, last)) {
			printf("%s\n", line);
			fflush(stdout);
			snprintf(last, sizeof last, "%s", line);
		}
		if (total && done == total)
			return true;
		nap_ms(100);
	}
	return false;
}

static void demo(const char *self, const char *sock, const char *dir, int64_t agents,
		 int64_t devs)
{
	printf("\nsubmitting the demo workload (run from %s/demo):\n", dir);
	fflush(stdout);
	int n = demo_submit(self, sock, dir, agents, devs);
	printf("%d demo jobs submitted; waiting for them (the last one needs every device and "
	       "waits for the others):\n",
	       n);
	fflush(stdout);
	bool all = demo_wait(sock, 90);
	char *argv[] = {(char *)self, "jobs", "--socket", (char *)sock, NULL};
	printf("\n");
	fflush(stdout);
	run_self(self, argv);
	printf("\n%s. Where to look (aidc is %s):\n"
	       "  export AIDC_SOCKET=%s\n"
	       "  aidc jobs                 every job, with the reason a waiting job waits\n"
	       "  aidc logs 1               the hello job's output (--stderr for stderr)\n"
	       "  aidc logs 2 --task 1      rank 1 of the gang: its MASTER_ADDR/PORT and devices\n"
	       "  cat %s/demo/demo-3-*.out  the #SBATCH script's -o files\n"
	       "  aidc nodes                nodes, devices and running tasks\n"
	       "  aidc submit -n 2 -c 2 -- /usr/bin/python3 examples/ddp_train.py\n"
	       "                            a PyTorch DDP job (from the source tree)\n"
	       "  aidc down                 stop the center (add --dir %s if not ~/.aidc)\n",
	       all ? "All demo jobs finished" : "Some demo jobs are still running", self, sock, dir,
	       dir);
}

/* What `aidc up` was asked for. */
struct up_opts {
	const char *dirf, *model, *vendor, *limits, *cg_root, *agent_devices, *ctl_config, *health;
	int64_t health_interval;
	int64_t agents, devs, cpus, mem, timeout, port_base;
	int64_t port; /* the controller's TCP port; 0 = any free one (a restart keeps the old) */
	bool demo, allow_root;
};

/* Where the center lives: DIR, the aidc binary, the user socket, controller/. */
struct up_paths {
	char dir[1024], self[AIDC_MAX_PATH_BYTES], sock[1100], ctl_dir[1100];
};

/* Parses and checks the flags into o; returns 1 after --help, or CLI_EXIT_*. */
static int up_parse(int argc, char **argv, struct up_opts *o)
{
	*o = (struct up_opts){.model = "mock-a1", .vendor = "mock", .agents = 2, .devs = 4,
			      .cpus = 8, .mem = 16384, .timeout = 10};
	const struct cli_flag flags[] = {
		{"agents", CLI_I64, &o->agents, "N", "agents (nodes) to start", 1,
		 AIDC_MAX_UP_AGENTS, NULL, NULL},
		{"dir", CLI_STR, &o->dirf, "DIR", "state and run directory (default ~/.aidc)", 0, 0,
		 NULL, NULL},
		{"devices", CLI_I64, &o->devs, "N", "mock accelerators per agent", 0,
		 AIDC_MAX_DEVICES_PER_NODE, NULL, NULL},
		{"model", CLI_STR, &o->model, "NAME", "mock accelerator model", 0, 0, NULL, NULL},
		{"vendor", CLI_STR, &o->vendor, "NAME",
		 "mock vendor (nvidia sets CUDA_VISIBLE_DEVICES)", 0, 0, NULL, NULL},
		{"agent-devices", CLI_STR, &o->agent_devices, "SPEC",
		 "real devices instead of mock ones: nvml | plugin:NAME[:CONFIG] (aidc agent --devices; "
		 "use with --agents 1 on one host)",
		 0, 0, NULL, NULL},
		{"controller-config", CLI_STR, &o->ctl_config, "FILE",
		 "the controller's config file (docs/config.md: e.g. order = priority for preemption)",
		 0, 0, NULL, NULL},
		{"cpus", CLI_I64, &o->cpus, "N", "CPUs per agent", 1, AIDC_MAX_NODE_CPU_MILLI / 1000,
		 NULL, NULL},
		{"mem-mib", CLI_I64, &o->mem, "N", "memory per agent", 1,
		 (double)AIDC_MAX_NODE_MEM_MIB, NULL, NULL},
		{"node-timeout", CLI_I64, &o->timeout, "S", "heartbeat timeout", 1, 3600, NULL,
		 NULL},
		{"allow-root-jobs", CLI_BOOL, &o->allow_root, NULL, "let root submit jobs", 0, 0,
		 NULL, NULL},
		{"demo", CLI_BOOL, &o->demo, NULL, "also submit a small demo workload", 0, 0, NULL,
		 NULL},
		{"limits", CLI_STR, &o->limits, "MODE",
		 "agents' task limits: auto | cgroup2 | cgroup1 | rlimit | none (aidc agent --limits)",
		 0, 0, NULL, NULL},
		{"cgroup-root", CLI_STR, &o->cg_root, "DIR",
		 "agents' cgroup root (aidc agent --cgroup-root; each agent gets its own subtree)",
		 0, 0, NULL, NULL},
		{"health-check", CLI_STR, &o->health, "PROGRAM",
		 "agents' health check program (aidc agent --health-check)", 0, 0, NULL, NULL},
		{"health-interval", CLI_I64, &o->health_interval, "S",
		 "agents' seconds between health checks (aidc agent --health-interval)", 1, 86400,
		 NULL, NULL},
		{"master-port-base", CLI_I64, &o->port_base, "PORT",
		 "the controller's first MASTER_PORT (default 29500; give concurrent centers on one "
		 "host disjoint ranges of 1000)",
		 1024, 65535, NULL, NULL},
	};
	const struct cli_cmd cmd = {"up", "aidc up [--agents N] [--demo] [--dir DIR]",
				    "Start a local center: a controller plus N agents with mock "
				    "accelerators. 'aidc down' stops it.",
				    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc;
	if (o->agent_devices &&
	    (strlen(o->agent_devices) >= AIDC_MAX_PATH_BYTES || !*o->agent_devices)) {
		fprintf(stderr, "aidc up: bad --agent-devices (nvml or plugin:NAME[:CONFIG])\n");
		return CLI_EXIT_USAGE;
	}
	if (strlen(o->model) > 64 || strlen(o->vendor) > 32 || strchr(o->model, ':') ||
	    strchr(o->vendor, ':')) {
		fprintf(stderr, "aidc up: bad --model or --vendor\n");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* Starts the controller on a free port; *port once it listens. */
static int start_controller(const struct up_opts *o, const struct up_paths *d, pid_t *cpid,
			    pid_t *port)
{
	char port_file[1200], log[1200], tbuf[32], pbuf[32], cfg_abs[AIDC_MAX_PATH_BYTES], port_s[32];
	snprintf(port_file, sizeof port_file, "%s/port", d->ctl_dir);
	unlink(port_file);
	snprintf(log, sizeof log, "%s/controller.log", d->dir);
	snprintf(tbuf, sizeof tbuf, "%" PRId64, o->timeout);
	snprintf(pbuf, sizeof pbuf, "%" PRId64, o->port_base);
	snprintf(port_s, sizeof port_s, "%" PRId64, o->port);
	char *argv[24] = {(char *)d->self, "controller", "--state-dir", (char *)d->ctl_dir,
			  "--socket", (char *)d->sock, "--port", port_s, "--port-file", port_file,
			  "--node-timeout", tbuf};
	size_t n = 12;
	if (o->allow_root)
		argv[n++] = "--allow-root-jobs";
	if (o->port_base) {
		argv[n++] = "--master-port-base";
		argv[n++] = pbuf;
	}
	if (o->ctl_config) {
		if (!realpath(o->ctl_config, cfg_abs)) {
			fprintf(stderr, "aidc up: --controller-config %s: %s\n", o->ctl_config,
				strerror(errno));
			return CLI_EXIT_USAGE;
		}
		argv[n++] = "--config";
		argv[n++] = cfg_abs;
	}
	*cpid = spawn(argv, log);
	write_pid(d->dir, "controller", *cpid);
	*port = -1;
	int st = 0;
	for (int i = 0; i < 400 && *port < 0; i++) {
		*port = read_pid(port_file);
		if (*port >= 0)
			break;
		/* Our child: a controller that exits at start is a zombie, which
		 * kill(0) would call alive; waitpid notices it at once. */
		if (waitpid(*cpid, &st, WNOHANG) == *cpid) {
			fprintf(stderr, "aidc up: the controller exited at start (%s %d); the end of %s:\n",
				WIFSIGNALED(st) ? "signal" : "exit code",
				WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), log);
			print_tail(log, 5);
			return CLI_EXIT_FAIL;
		}
		nap_ms(50);
	}
	if (*port < 0) {
		fprintf(stderr, "aidc up: the controller did not start; see %s\n", log);
		return CLI_EXIT_FAIL;
	}
	return 0;
}

/* Starts agent k (node-K) against the controller on port. */
static void start_agent(const struct up_opts *o, const struct up_paths *d, int64_t k, pid_t port)
{
	char name[32], adir[1100], ctl[64], secret[1200], devspec[AIDC_MAX_PATH_BYTES], cs[32],
		ms[32], log[1200], hi[32];
	snprintf(name, sizeof name, "node-%" PRId64, k);
	snprintf(adir, sizeof adir, "%s/agent-%" PRId64, d->dir, k);
	snprintf(ctl, sizeof ctl, "127.0.0.1:%d", (int)port);
	snprintf(secret, sizeof secret, "%s/secret", d->ctl_dir);
	if (o->agent_devices)
		snprintf(devspec, sizeof devspec, "%s", o->agent_devices);
	else
		snprintf(devspec, sizeof devspec, "mock:%" PRId64 ":%s:%s", o->devs, o->model,
			 o->vendor);
	snprintf(cs, sizeof cs, "%" PRId64, o->cpus);
	snprintf(ms, sizeof ms, "%" PRId64, o->mem);
	snprintf(log, sizeof log, "%s/agent-%" PRId64 ".log", d->dir, k);
	char *argv[24] = {(char *)d->self, "agent", "--controller", ctl, "--name", name,
			  "--state-dir", adir, "--secret-file", secret, "--devices", devspec,
			  "--cpus", cs, "--mem-mib", ms};
	size_t n = 16;
	if (o->allow_root)
		argv[n++] = "--allow-root-jobs";
	if (o->limits) {
		argv[n++] = "--limits";
		argv[n++] = (char *)o->limits;
	}
	if (o->cg_root) {
		argv[n++] = "--cgroup-root";
		argv[n++] = (char *)o->cg_root;
	}
	if (o->health) {
		argv[n++] = "--health-check";
		argv[n++] = (char *)o->health;
	}
	if (o->health_interval) {
		snprintf(hi, sizeof hi, "%" PRId64, o->health_interval);
		argv[n++] = "--health-interval";
		argv[n++] = hi;
	}
	argv[n] = NULL;
	write_pid(d->dir, name, spawn(argv, log));
}

/* Waits up to 30 s until every agent has registered. */
static int wait_agents(const struct up_opts *o, const struct up_paths *d)
{
	int up = 0;
	for (int i = 0; i < 600 && up < o->agents; i++) {
		up = count_up_nodes(d->sock);
		if (up < o->agents)
			nap_ms(50);
	}
	if (up < o->agents) {
		fprintf(stderr, "aidc up: only %d of %" PRId64 " agents registered; see %s/*.log\n",
			up < 0 ? 0 : up, o->agents, d->dir);
		return CLI_EXIT_FAIL;
	}
	return 0;
}

/* Makes DIR (one level) and checks that a center can live there, so that a
 * bad --dir fails at once with the reason instead of as a daemon that did
 * not start. */
static int prepare_dir(const char *dir)
{
	struct stat sb;
	char p[1200];
	/* DIR/aidc.sock must fit a Unix socket address (sun_path, 108 bytes). */
	if (strlen(dir) + sizeof "/aidc.sock" > 108) {
		fprintf(stderr,
			"aidc up: --dir %s: too long for the socket DIR/aidc.sock (at most %zu "
			"bytes)\n",
			dir, 108 - sizeof "/aidc.sock");
		return CLI_EXIT_USAGE;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "aidc up: --dir %s: cannot create it: %s\n", dir, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	if (stat(dir, &sb) != 0) {
		fprintf(stderr, "aidc up: --dir %s: %s\n", dir, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	if (!S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "aidc up: --dir %s: not a directory\n", dir);
		return CLI_EXIT_USAGE;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "aidc up: --dir %s: cannot write there: %s\n", dir, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	snprintf(p, sizeof p, "%s/pids", dir);
	if (mkdir(p, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "aidc up: cannot create %s: %s\n", p, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	return 0;
}

#define UP_ARGS_MAGIC "aidc-up-args 1"
#define UP_ARGS_MAX_BYTES 65536
#define UP_ARGS_MAX 64

/* Records `aidc up`'s arguments and working directory in DIR/up.args (NUL
 * separated: magic, cwd, argv...) for a later restart. */
static int save_args(const char *dir, int argc, char **argv)
{
	char p[1200], cwd[AIDC_MAX_PATH_BYTES];
	snprintf(p, sizeof p, "%s/up.args", dir);
	if (!getcwd(cwd, sizeof cwd) || argc > UP_ARGS_MAX) {
		fprintf(stderr, "aidc up: cannot record the arguments in %s\n", p);
		return CLI_EXIT_FAIL;
	}
	FILE *f = fopen(p, "w");
	bool ok = f && fwrite(UP_ARGS_MAGIC, 1, sizeof UP_ARGS_MAGIC, f) == sizeof UP_ARGS_MAGIC &&
		  fwrite(cwd, 1, strlen(cwd) + 1, f) == strlen(cwd) + 1;
	for (int i = 0; ok && i < argc; i++)
		ok = fwrite(argv[i], 1, strlen(argv[i]) + 1, f) == strlen(argv[i]) + 1;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok) {
		fprintf(stderr, "aidc up: cannot write %s: %s\n", p, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	return 0;
}

/* The saved arguments: buf holds them (caller frees), argv points into it,
 * *cwd is the directory they were given in. -1 when absent or damaged. */
static int load_args(const char *dir, char **buf, char **argv, int *argc, const char **cwd)
{
	char p[1200];
	snprintf(p, sizeof p, "%s/up.args", dir);
	FILE *f = fopen(p, "r");
	if (!f)
		return -1;
	*buf = aidc_malloc(UP_ARGS_MAX_BYTES);
	size_t n = fread(*buf, 1, UP_ARGS_MAX_BYTES, f);
	fclose(f);
	char *end = *buf + n, *s = *buf;
	int k = 0;
	if (n == 0 || n == UP_ARGS_MAX_BYTES || end[-1] != '\0' || strcmp(s, UP_ARGS_MAGIC) != 0)
		goto bad;
	s += strlen(s) + 1;
	if (s >= end)
		goto bad;
	*cwd = s;
	for (s += strlen(s) + 1; s < end && k < UP_ARGS_MAX; s += strlen(s) + 1)
		argv[k++] = s;
	if (k == 0 || s < end)
		goto bad;
	argv[k] = NULL;
	*argc = k;
	return 0;
bad:
	aidc_free(*buf);
	*buf = NULL;
	return -1;
}

/* Whether argv holds more than --dir: a restart takes the recorded options. */
static bool has_options_besides_dir(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir"))
			i++;
		else if (strncmp(argv[i], "--dir=", 6) != 0)
			return true;
	}
	return false;
}

/* `aidc up` on a recorded center: restarts the parts that died. */
static int up_restart(struct up_paths *d, int argc, char **argv)
{
	char *buf = NULL, *sargv[UP_ARGS_MAX + 1], p[1200];
	const char *cwd;
	int sargc, rc;
	struct up_opts o;
	if (load_args(d->dir, &buf, sargv, &sargc, &cwd) != 0) {
		fprintf(stderr,
			"aidc up: %s/up.args is missing or damaged, so the center there cannot be "
			"restarted as it was started; 'aidc down --dir %s' then 'aidc up'\n",
			d->dir, d->dir);
		return CLI_EXIT_FAIL;
	}
	if (has_options_besides_dir(argc, argv)) {
		fprintf(stderr,
			"aidc up: a center is recorded in %s: it restarts with the options it was "
			"started with; 'aidc down --dir %s' first to change them\n",
			d->dir, d->dir);
		aidc_free(buf);
		return CLI_EXIT_USAGE;
	}
	if ((rc = up_parse(sargc, sargv, &o)) != 0 || chdir(cwd) != 0) {
		fprintf(stderr, "aidc up: the recorded arguments in %s/up.args do not apply (%s)\n",
			d->dir, rc ? "they no longer parse" : strerror(errno));
		aidc_free(buf);
		return CLI_EXIT_FAIL;
	}
	char done[256] = "";
	snprintf(p, sizeof p, "%s/pids/controller.pid", d->dir);
	pid_t cpid = read_pid(p);
	snprintf(p, sizeof p, "%s/port", d->ctl_dir);
	pid_t port = read_pid(p);
	if (!is_ours(cpid, "controller")) {
		if (port <= 0) {
			fprintf(stderr, "aidc up: %s is missing, so the controller cannot come back on "
					"its port; 'aidc down --dir %s' then 'aidc up'\n",
				p, d->dir);
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		o.port = port;
		if ((rc = start_controller(&o, d, &cpid, &port)) != 0)
			goto out;
		snprintf(done, sizeof done, "controller (pid %d, port %d)", (int)cpid, (int)port);
	}
	for (int64_t k = 0; k < o.agents; k++) {
		snprintf(p, sizeof p, "%s/pids/node-%" PRId64 ".pid", d->dir, k);
		if (is_ours(read_pid(p), "agent"))
			continue;
		start_agent(&o, d, k, port);
		size_t n = strlen(done);
		snprintf(done + n, sizeof done - n, "%snode-%" PRId64, n ? ", " : "", k);
	}
	if ((rc = wait_agents(&o, d)) != 0)
		goto out;
	if (done[0])
		printf("local center in %s: restarted %s\n", d->dir, done);
	else
		printf("local center in %s is running (controller pid %d, port %d, %" PRId64
		       " agents); nothing to restart\n",
		       d->dir, (int)cpid, (int)port, o.agents);
	printf("socket: %s\n", d->sock);
out:
	aidc_free(buf);
	return rc;
}

int cli_up_main(int argc, char **argv)
{
	struct up_opts o;
	int rc = up_parse(argc, argv, &o);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	struct up_paths d;
	char p[1200];
	cli_up_dir(o.dirf, p, sizeof p);
	if ((rc = prepare_dir(p)) != 0)
		return rc;
	/* Absolute, so a restart from another directory finds the same center. */
	if (!realpath(p, d.dir)) {
		fprintf(stderr, "aidc up: --dir %s: %s\n", p, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	if (cli_self_exe(d.self, sizeof d.self) != 0) {
		fprintf(stderr, "aidc up: cannot find the aidc binary\n");
		return CLI_EXIT_FAIL;
	}
	snprintf(d.ctl_dir, sizeof d.ctl_dir, "%s/controller", d.dir);
	snprintf(d.sock, sizeof d.sock, "%s/aidc.sock", d.dir);
	/* A center is recorded while its controller's PID file exists ('aidc
	 * down' removes it): bring back what died. */
	snprintf(p, sizeof p, "%s/pids/controller.pid", d.dir);
	if (access(p, F_OK) == 0)
		return up_restart(&d, argc, argv);
	if ((rc = save_args(d.dir, argc, argv)) != 0)
		return rc;
	pid_t cpid, port;
	if ((rc = start_controller(&o, &d, &cpid, &port)) != 0)
		return rc;
	for (int64_t k = 0; k < o.agents; k++)
		start_agent(&o, &d, k, port);
	if ((rc = wait_agents(&o, &d)) != 0)
		return rc;
	if (o.agent_devices)
		printf("local center up: controller (pid %d, port %d) and %" PRId64
		       " agents with devices from %s\n",
		       (int)cpid, (int)port, o.agents, o.agent_devices);
	else
		printf("local center up: controller (pid %d, port %d) and %" PRId64
		       " agents with %" PRId64 " %s devices each\n",
		       (int)cpid, (int)port, o.agents, o.devs, o.model);
	printf("socket: %s\n(set AIDC_SOCKET=%s if that is not ~/.aidc/aidc.sock)\n", d.sock,
	       d.sock);
	if (o.demo)
		demo(d.self, d.sock, d.dir, o.agents, o.agent_devices ? 1 : o.devs);
	return CLI_EXIT_OK;
}

int cli_down_main(int argc, char **argv)
{
	const char *dirf = NULL;
	const struct cli_flag flags[] = {
		{"dir", CLI_STR, &dirf, "DIR", "the directory 'aidc up' used", 0, 0, NULL, NULL},
	};
	const struct cli_cmd cmd = {"down", "aidc down [--dir DIR]",
				    "Stop the local center started by 'aidc up' (agents first).",
				    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	char dir[1024], p[1400];
	cli_up_dir(dirf, dir, sizeof dir);
	snprintf(p, sizeof p, "%s/pids", dir);
	DIR *d = opendir(p);
	if (!d) {
		fprintf(stderr, "aidc down: nothing started in %s\n", dir);
		return CLI_EXIT_FAIL;
	}
	struct dirent *de;
	int stopped = 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "node-", 5) != 0)
			continue;
		snprintf(p, sizeof p, "%s/pids/%.200s", dir, de->d_name);
		stop_pid(read_pid(p));
		unlink(p);
		stopped++;
	}
	closedir(d);
	snprintf(p, sizeof p, "%s/pids/controller.pid", dir);
	pid_t c = read_pid(p);
	if (c > 0) {
		stop_pid(c);
		unlink(p);
		stopped++;
	}
	stopped += stop_kept_router(dir);
	printf("stopped %d processes\n", stopped);
	return CLI_EXIT_OK;
}
