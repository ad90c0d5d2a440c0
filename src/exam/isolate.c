/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The isolated exam: the plugin runs in a worker process, never in the
 * process that keeps the report. The worker (forked, then dlopen + init of
 * the plugin) answers one question at a time: the parent writes the
 * question's index on a pipe, the worker runs it with the ordinary harness
 * (run.c) and leaves the result in shared memory, then writes an
 * acknowledgement. The parent watches: a worker that dies (a crash in the
 * plugin) or runs past the per-call timeout (dev_watch, set by src/dev
 * around every plugin call) or the per-question timeout is killed, that
 * question fails with the reason, and the next question gets a fresh
 * worker. Costs: one fork + plugin init per worker, and two pipe messages
 * per question; the questions themselves run at full speed in the worker.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exam/exam_int.h"
#include "util/util.h"

/* Shared between the parent and one worker (MAP_SHARED, anonymous). */
struct shm {
	struct dev_watch watch;
	int open_rc;
	char err[AIDC_ERRMSG_MAX];
	char name[128], version[64], path[512];
	uint32_t ndev;
	struct aidc_dev_info info;
	struct exam_result res;
};

struct worker {
	pid_t pid;
	int cmd, ack; /* parent's ends: write questions, read acknowledgements */
};

static void worker_main(struct shm *sh, int cmd, int ack, const char *plugin, const char *config,
			const struct exam_options *o)
{
	struct dev_plugin p;
	struct aidc_err e;
	aidc_err_clear(&e);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf((char *)sh->watch.call, sizeof sh->watch.call, "init");
	sh->watch.start_s = exam_now_s();
	int rc = dev_plugin_open(&p, plugin, config, &e);
	sh->watch.start_s = 0;
	sh->open_rc = rc;
	if (rc) {
		snprintf(sh->err, sizeof sh->err, "%s", aidc_err_text(&e, rc));
	} else {
		snprintf(sh->name, sizeof sh->name, "%s", p.api->name ? p.api->name : "");
		snprintf(sh->version, sizeof sh->version, "%s", p.api->version ? p.api->version : "");
		snprintf(sh->path, sizeof sh->path, "%s", p.path);
		sh->ndev = p.ndev;
		if (o->device < p.ndev)
			sh->info = p.info[o->device];
		p.watch = &sh->watch;
	}
	int32_t a = rc;
	if (write(ack, &a, sizeof a) != sizeof a || rc)
		_exit(rc ? 1 : 2);
	size_t ncat;
	const struct exam_question *cat = exam_catalog(&ncat);
	uint32_t i;
	while (read(cmd, &i, sizeof i) == sizeof i && i < ncat) {
		exam_run_question(&p, o->device, &cat[i], o->level, o->seed, &sh->res);
		a = 0;
		if (write(ack, &a, sizeof a) != sizeof a)
			break;
	}
	p.watch = NULL;
	dev_plugin_close(&p);
	_exit(0);
}

static void worker_stop(struct worker *w, bool kill_it)
{
	if (w->pid <= 0)
		return;
	close(w->cmd);
	close(w->ack);
	if (kill_it)
		kill(w->pid, SIGKILL);
	/* A worker told to stop gets 10 s for the plugin's fini. */
	for (int t = 0; t < 1000; t++) {
		if (waitpid(w->pid, NULL, WNOHANG) != 0)
			break;
		if (t == 999) {
			kill(w->pid, SIGKILL);
			waitpid(w->pid, NULL, 0);
		}
		usleep(10000);
	}
	w->pid = -1;
}

static int worker_start(struct worker *w, struct shm *sh, const char *plugin, const char *config,
			const struct exam_options *o, struct aidc_err *e)
{
	int cp[2], ap[2];
	if (pipe(cp) != 0)
		return aidc_errf(e, AIDC_E_IO, "pipe: %s", strerror(errno));
	if (pipe(ap) != 0) {
		close(cp[0]);
		close(cp[1]);
		return aidc_errf(e, AIDC_E_IO, "pipe: %s", strerror(errno));
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(cp[0]), close(cp[1]), close(ap[0]), close(ap[1]);
		return aidc_errf(e, AIDC_E_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dev_child_default_faults();
		close(cp[1]);
		close(ap[0]);
		worker_main(sh, cp[0], ap[1], plugin, config, o);
	}
	close(cp[0]);
	close(ap[1]);
	*w = (struct worker){pid, cp[1], ap[0]};
	return 0;
}

/*
 * Waits for the worker's acknowledgement. Returns 0 with *ack, or an error
 * saying why the worker is gone (it is then stopped): it died, one plugin
 * call or the whole step ran past its timeout (exam_timeouts_now, read
 * again at every poll as the step's calls return).
 */
static int wait_ack(struct worker *w, struct shm *sh, const struct exam_options *o,
		    int32_t *ack, struct aidc_err *e)
{
	double t0 = exam_now_s();
	for (;;) {
		struct pollfd pf = {.fd = w->ack, .events = POLLIN};
		int n = poll(&pf, 1, 50);
		if (n > 0) {
			ssize_t got = read(w->ack, ack, sizeof *ack);
			if (got == (ssize_t)sizeof *ack)
				return 0;
			int st = 0;
			char call[sizeof sh->watch.call];
			snprintf(call, sizeof call, "%s", (const char *)sh->watch.call);
			bool in_call = sh->watch.start_s > 0;
			close(w->cmd);
			close(w->ack);
			waitpid(w->pid, &st, 0);
			w->pid = -1;
			char how[96];
			if (WIFSIGNALED(st))
				snprintf(how, sizeof how, "crashed (signal %d, %s)", WTERMSIG(st),
					 strsignal(WTERMSIG(st)));
			else
				snprintf(how, sizeof how, "exited with status %d",
					 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			if (in_call)
				return aidc_errf(e, AIDC_E_DEVICE, "the plugin %s during its %s call",
						 how, call);
			return aidc_errf(e, AIDC_E_DEVICE, "the plugin's worker process %s", how);
		}
		if (n < 0 && errno != EINTR)
			return aidc_errf(e, AIDC_E_IO, "poll: %s", strerror(errno));
		double now = exam_now_s(), start = sh->watch.start_s, call_s, total_s;
		exam_timeouts_now(o, sh->watch.longest_s, &call_s, &total_s);
		if (start > 0 && now - start > call_s) {
			char call[sizeof sh->watch.call];
			snprintf(call, sizeof call, "%s", (const char *)sh->watch.call);
			worker_stop(w, true);
			return aidc_errf(e, AIDC_E_TIMEOUT,
					 "the plugin's %s call did not return within %.3g s (per-call "
					 "timeout); the worker was killed", call, call_s);
		}
		if (now - t0 > total_s) {
			worker_stop(w, true);
			return aidc_errf(e, AIDC_E_TIMEOUT,
					 "the question took longer than %.3g s (per-question timeout); "
					 "the worker was killed", total_s);
		}
	}
}

void exam_timeouts_now(const struct exam_options *o, double longest_call_s, double *call_s,
		       double *question_s)
{
	double q = o->question_timeout_s;
	if (q <= 0) {
		q = 15.0 * exam_level_budget_s(o->level);
		if (10.0 * longest_call_s > q)
			q = 10.0 * longest_call_s;
	}
	*question_s = q;
	*call_s = o->call_timeout_s > 0 ? o->call_timeout_s : q;
}

/* One isolated exam: the worker running the plugin and what it needs to
 * restart it after a crash or a hang. */
struct session {
	struct worker w;
	struct shm *sh;
	const char *plugin, *config;
	const struct exam_options *o;
};

/* Starts a worker and waits for it to load the plugin; what prefixes the
 * plugin's own refusal in the error. */
static int worker_ready(struct session *s, const char *what, struct aidc_err *e)
{
	int32_t ack = 0;
	int rc = worker_start(&s->w, s->sh, s->plugin, s->config, s->o, e);
	if (!rc)
		rc = wait_ack(&s->w, s->sh, s->o, &ack, e);
	if (!rc && ack) {
		rc = aidc_errf(e, ack, "%s%s", what, s->sh->err);
		worker_stop(&s->w, true);
	}
	return rc;
}

/* Asks catalogue question i in the worker (restarted first if the previous
 * question killed it) and fills *res; a crash or a hang is the question's
 * error, and the worker is stopped. */
static void ask(void *arg, const struct exam_question *q, uint32_t i, struct exam_result *res)
{
	struct session *s = arg;
	struct aidc_err qe;
	aidc_err_clear(&qe);
	int32_t ack = 0;
	int rc = 0;
	if (s->w.pid <= 0)
		rc = worker_ready(s, "restarting the plugin: ", &qe);
	s->sh->watch.longest_s = 0;
	if (!rc && write(s->w.cmd, &i, sizeof i) != sizeof i)
		rc = aidc_errf(&qe, AIDC_E_IO, "the plugin's worker is gone");
	if (!rc)
		rc = wait_ack(&s->w, s->sh, s->o, &ack, &qe);
	if (rc) {
		exam_result_header(q, res);
		snprintf(res->status, sizeof res->status, "error");
		snprintf(res->error, sizeof res->error, "%s", aidc_err_text(&qe, rc));
		worker_stop(&s->w, true);
	} else {
		*res = s->sh->res;
	}
}

int exam_run_isolated(const char *plugin, const char *config, const struct exam_options *o,
		      struct exam_report *r, struct aidc_err *e)
{
	struct session s = {
		.w = {.pid = -1},
		.plugin = plugin,
		.config = config,
		.o = o,
	};
	size_t nsel;
	int rc = exam_count_selected(o, &nsel, e);
	if (rc)
		return rc;
	s.sh = mmap(NULL, sizeof *s.sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s.sh == MAP_FAILED)
		return aidc_errf(e, AIDC_E_IO, "mmap: %s", strerror(errno));
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	rc = worker_ready(&s, "", e);
	if (!rc && o->device >= s.sh->ndev)
		rc = aidc_errf(e, AIDC_E_INVAL, "device %u: the plugin has %u device(s)", o->device,
			       s.sh->ndev);
	if (rc)
		goto out;
	exam_fill_header(s.sh->name, s.sh->version, s.sh->path, s.sh->ndev, &s.sh->info, o, r);
	exam_ask_all(o, nsel, ask, &s, r);
out:
	worker_stop(&s.w, false);
	signal(SIGPIPE, old_pipe);
	munmap(s.sh, sizeof *s.sh);
	return rc;
}
