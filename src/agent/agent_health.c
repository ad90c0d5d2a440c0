/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node health check (Slurm's HealthCheckProgram): the agent runs the
 * operator's program (`aidc agent --health-check PROGRAM`) when it starts and
 * every --health-interval seconds, as root, in its own session, with stdin
 * /dev/null, stdout and stderr on a pipe and AIDC_NODE in its environment. A
 * non-zero exit, a signal, or a run longer than the interval makes the
 * node's problem "health check: <its output>" (the first 300 bytes, lines
 * joined by "; "); the heartbeat carries it and the controller drains the node
 * with it as the reason. The next run that exits 0 clears it, and the node
 * is resumed (an admin's drain is kept).
 *
 * With devices from the nvml provider the same tick also runs the NVML
 * checks (src/dev/nvml_health.c: XID errors, uncorrected ECC errors, retired
 * pages pending, temperature at the slowdown threshold), whose findings join
 * the problem as "nvml: ...", with or without a program.
 *
 * The main loop never waits for the program: agent_check_health starts it,
 * reads what it wrote, and kills it (its process group) past the deadline;
 * agent_reap hands its exit to agent_health_exited. Cost: one fork every
 * interval, a non-blocking read per loop iteration while it runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "util/util.h"

/* The problem text: the disk's, the health check's and NVML's, joined. */
static void compose_problem(struct agent *a)
{
	char why[sizeof a->problem] = "";
	const char *parts[] = {a->disk_problem, a->health_problem, a->nvml_problem};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(parts); i++) {
		size_t k = strlen(why);
		if (parts[i][0] && k + 3 < sizeof why)
			snprintf(why + k, sizeof why - k, "%s%.300s", k ? "; " : "", parts[i]);
	}
	if (strcmp(why, a->problem) != 0) {
		snprintf(a->problem, sizeof a->problem, "%s", why);
		a->problem_changed = true;
	}
}

void agent_set_disk_problem(struct agent *a, const char *why)
{
	snprintf(a->disk_problem, sizeof a->disk_problem, "%s", why);
	compose_problem(a);
}

static void set_health(struct agent *a, const char *why)
{
	if (strcmp(why, a->health_problem) != 0) {
		if (why[0])
			aidc_log(AIDC_LOG_ERROR, "agent %s: %s: the node drains until it passes",
				 a->cfg.name, why);
		else
			aidc_log(AIDC_LOG_INFO, "agent %s: the health check passes again",
				 a->cfg.name);
	}
	snprintf(a->health_problem, sizeof a->health_problem, "%s", why);
	compose_problem(a);
}

/* Reads what the program wrote (keeps the first AGENT_HEALTH_OUT_BYTES,
 * discards the rest so that it never blocks on a full pipe). */
static void drain_output(struct agent_health *h)
{
	char buf[4096];
	ssize_t n;
	while (h->fd >= 0 && (n = read(h->fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				close(h->fd), h->fd = -1;
			return;
		}
		size_t room = sizeof h->out - 1 - h->nout;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(h->out + h->nout, buf, take);
		h->nout += take;
		h->out[h->nout] = '\0';
	}
	if (h->fd >= 0) { /* EOF */
		close(h->fd);
		h->fd = -1;
	}
}

/* "health check: <output>" with lines joined and control bytes made spaces. */
static void reason(const struct agent_health *h, const char *status, char *out, size_t n)
{
	char text[AGENT_HEALTH_OUT_BYTES + 1];
	size_t k = 0;
	for (size_t i = 0; i < h->nout && k + 2 < sizeof text; i++) {
		unsigned char ch = (unsigned char)h->out[i];
		if (ch == '\n') {
			if (k && i + 1 < h->nout)
				text[k++] = ';', text[k++] = ' ';
		} else {
			text[k++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
		}
	}
	while (k && text[k - 1] == ' ')
		k--;
	text[k] = '\0';
	if (k)
		snprintf(out, n, "health check: %.300s", text);
	else
		snprintf(out, n, "health check: %s", status);
}

/* Forks the program; its output comes back on h->fd. */
static void start(struct agent *a, int64_t now)
{
	struct agent_health *h = &a->health;
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		set_health(a, "health check: cannot make a pipe");
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		set_health(a, "health check: cannot fork");
		return;
	}
	if (pid == 0) {
		setsid();
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		setenv("AIDC_NODE", a->cfg.name, 1);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char *argv[] = {a->cfg.health_check, NULL};
		execv(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	h->pid = pid;
	h->fd = p[0];
	h->nout = 0;
	h->out[0] = '\0';
	h->deadline_ms = now + a->cfg.health_interval_s * 1000;
	h->timed_out = false;
}

/* The NVML watch, opened at first use when the devices come from NVML. */
static struct dev_nvml_watch *watch(struct agent *a)
{
	struct aidc_err e = {0};
	if (!a->nvml_watch && !a->nvml_failed && strcmp(a->cfg.devices, "nvml") == 0 &&
	    dev_nvml_watch_open(&a->nvml_watch, &e) != 0) {
		a->nvml_failed = true;
		aidc_log(AIDC_LOG_WARN, "agent %s: no NVML health checks or device use: %s",
			 a->cfg.name, e.msg);
	}
	return a->nvml_watch;
}

void agent_usage_json(struct agent *a, struct aidc_json *w)
{
	struct dev_nvml_watch *nw = watch(a);
	if (!nw)
		return;
	aidc_json_key(w, "devices");
	aidc_json_arr_begin(w);
	unsigned int n = dev_nvml_watch_count(nw);
	for (unsigned int i = 0; i < n && i < AIDC_MAX_DEVICES_PER_NODE; i++) {
		uint32_t util;
		uint64_t mem;
		if (dev_nvml_watch_usage(nw, i, &util, &mem) != 0)
			continue;
		aidc_json_obj_begin(w);
		aidc_json_ki64(w, "index", i);
		aidc_json_ki64(w, "util_pct", util);
		aidc_json_ki64(w, "mem_used_mib", (int64_t)mem);
		aidc_json_obj_end(w);
	}
	aidc_json_arr_end(w);
}

/* The NVML checks of the node's GPUs (devices from the nvml provider). */
static void check_nvml(struct agent *a)
{
	if (!watch(a))
		return;
	char why[sizeof a->nvml_problem - 8];
	dev_nvml_watch_check(a->nvml_watch, why, sizeof why);
	char now[sizeof a->nvml_problem];
	snprintf(now, sizeof now, "%s%s", why[0] ? "nvml: " : "", why);
	if (strcmp(now, a->nvml_problem) != 0) {
		if (why[0])
			aidc_log(AIDC_LOG_ERROR, "agent %s: %s: the node drains until it is fixed",
				 a->cfg.name, now);
		else
			aidc_log(AIDC_LOG_INFO, "agent %s: the GPUs are healthy again", a->cfg.name);
		snprintf(a->nvml_problem, sizeof a->nvml_problem, "%s", now);
		compose_problem(a);
	}
}

void agent_check_health(struct agent *a)
{
	struct agent_health *h = &a->health;
	bool nvml = strcmp(a->cfg.devices, "nvml") == 0;
	if (!a->cfg.health_check[0] && !nvml)
		return;
	int64_t now = agent_mono_ms();
	if (h->pid > 0) {
		drain_output(h);
		if (now >= h->deadline_ms && !h->timed_out) {
			kill(-h->pid, SIGKILL);
			h->timed_out = true;
		}
		return;
	}
	if (now < h->next_ms)
		return;
	h->next_ms = now + a->cfg.health_interval_s * 1000;
	if (nvml)
		check_nvml(a);
	if (a->cfg.health_check[0])
		start(a, now);
}

bool agent_health_exited(struct agent *a, pid_t pid, int code, int sig)
{
	struct agent_health *h = &a->health;
	if (h->pid <= 0 || pid != h->pid)
		return false;
	h->pid = 0;
	drain_output(h);
	if (h->fd >= 0) { /* a grandchild holds the pipe: stop reading it */
		close(h->fd);
		h->fd = -1;
	}
	char why[sizeof a->health_problem] = "", status[96];
	if (h->timed_out) {
		snprintf(status, sizeof status, "did not finish in %" PRId64 " s",
			 a->cfg.health_interval_s);
		snprintf(why, sizeof why, "health check: %s", status);
	} else if (sig) {
		snprintf(status, sizeof status, "killed by signal %d", sig);
		reason(h, status, why, sizeof why);
	} else if (code) {
		snprintf(status, sizeof status, "exit status %d", code);
		reason(h, status, why, sizeof why);
	}
	set_health(a, why);
	return true;
}

void agent_health_stop(struct agent *a)
{
	struct agent_health *h = &a->health;
	if (h->pid > 0)
		kill(-h->pid, SIGKILL);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	dev_nvml_watch_close(a->nvml_watch);
	a->nvml_watch = NULL;
}
