/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's reports to the controller: task output pushed by offset (the
 * controller answers 409 once the attempt is over), "running" and exit
 * reports batched in one request per iteration (one by one for a controller
 * without the batched route), and forgetting tasks reported done once no
 * launch order for them can still be in flight.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "util/util.h"

/* Pushes new output of one stream; returns false if the controller did not take it. */
static bool push_stream(struct agent *a, struct task *t, const char *path, const char *stream,
			int64_t *off)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return true;
	static char chunk[AIDC_MAX_LOG_CHUNK_BYTES];
	bool ok = true;
	for (;;) {
		ssize_t n = pread(fd, chunk, sizeof chunk, *off);
		if (n <= 0)
			break;
		char p[256];
		snprintf(p, sizeof p,
			 "/v1/agents/%s/tasks/%" PRId64 "/%u/logs?stream=%s&offset=%" PRId64,
			 a->cfg.name, t->job, t->index, stream, *off);
		struct api_call c;
		struct aidc_err e = {0};
		int rc = agent_call(a, &a->cl, "POST", p, chunk, (size_t)n, "application/octet-stream",
			      10000, &c, &e);
		if (rc == 0 && c.status == 200) {
			*off += n;
		} else if (rc == 0 && c.status == 409) {
			/* Attempt over (or offset disagreement): stop pushing this stream. */
			*off += n;
		} else {
			ok = false;
		}
		aidc_buf_release(&c.reply);
		if (!ok || n < (ssize_t)sizeof chunk)
			break;
	}
	close(fd);
	return ok;
}

static bool push_logs(struct agent *a, struct task *t)
{
	return push_stream(a, t, t->out_path, "out", &t->out_off) &
	       push_stream(a, t, t->err_path, "err", &t->err_off);
}

/* The fields of one report, shared by the single and the batched route. */
static void report_fields(struct aidc_json *w, const struct task *t, const char *state)
{
	aidc_json_ki64(w, "attempt", t->attempt);
	aidc_json_kstr(w, "state", state);
	aidc_json_ki64(w, "pid", t->pid > 0 ? t->pid : 0);
	aidc_json_ki64(w, "exit_code", t->exit_code & 255);
	aidc_json_ki64(w, "signal", t->term_signal);
	aidc_json_kbool(w, "timed_out", t->timed_out);
	if (t->message[0])
		aidc_json_kstr(w, "message", t->message);
}

static int report(struct agent *a, struct task *t, const char *state)
{
	char path[256], body[2048];
	snprintf(path, sizeof path, "/v1/agents/%s/tasks/%" PRId64 "/%u/status", a->cfg.name, t->job,
		 t->index);
	struct aidc_buf b;
	aidc_buf_init(&b, sizeof body);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	report_fields(&w, t, state);
	aidc_json_obj_end(&w);
	aidc_json_finish(&w);
	struct api_call c;
	struct aidc_err e = {0};
	int rc = agent_post_json(a, path, aidc_buf_str(&b), &c, &e);
	aidc_buf_release(&b);
	aidc_buf_release(&c.reply);
	/* A 4xx means the controller will never want this report: drop it. */
	if (rc != 0 && c.status >= 400 && c.status < 500 && c.status != 404)
		return 0;
	return rc;
}

/* A report waiting to be sent: the task (index into a->tasks) and its state. */
struct pending {
	size_t task;
	const char *state;
};

/* Sends reports [0, n) in one POST /v1/agents/{node}/tasks/status (at most
 * API_MAX_STATUS_BATCH). Returns true if the controller took them all. A
 * controller without the route (404 while single reports work) turns
 * batching off for this agent's life. */
static bool report_batch(struct agent *a, const struct pending *p, size_t n)
{
	if (a->no_batch)
		return false;
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_HTTP_BODY_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	aidc_json_key(&w, "reports");
	aidc_json_arr_begin(&w);
	for (size_t i = 0; i < n; i++) {
		const struct task *t = &a->tasks[p[i].task];
		aidc_json_obj_begin(&w);
		aidc_json_ki64(&w, "job", t->job);
		aidc_json_ki64(&w, "task", t->index);
		report_fields(&w, t, p[i].state);
		aidc_json_obj_end(&w);
	}
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	bool ok = false;
	if (aidc_json_finish(&w) == 0) {
		char path[AIDC_MAX_NAME_BYTES + 32];
		snprintf(path, sizeof path, "/v1/agents/%s/tasks/status", a->cfg.name);
		struct api_call c;
		struct aidc_err e = {0};
		int rc = agent_call(a, &a->cl, "POST", path, aidc_buf_str(&b), b.len, NULL, 10000, &c, &e);
		ok = rc == 0 && c.status == 200;
		a->batch_404 = rc == 0 && c.status == 404;
		aidc_buf_release(&c.reply);
	}
	aidc_buf_release(&b);
	return ok;
}

/* Marks a report as taken by the controller. */
static void reported(struct agent *a, const struct pending *p)
{
	struct task *t = &a->tasks[p->task];
	if (t->state == T_RUNNING) {
		t->running_reported = true;
	} else {
		t->state = T_DONE;
		a->state_dirty = true;
		/* A launch order the controller built before it took this report
		 * may still be on its way (e.g. resent after a controller restart):
		 * keep the task until that poll's orders are taken. */
		pthread_mutex_lock(&a->mu);
		t->done_poll = a->polls_begun;
		pthread_mutex_unlock(&a->mu);
	}
}

/* Sends the reports due, in order: batched, or one by one when a batch is
 * refused (an older controller, or a node the controller no longer knows:
 * the single route's 404 makes the agent register again). */
static void send_reports(struct agent *a, const struct pending *p, size_t n)
{
	for (size_t off = 0; off < n;) {
		size_t k = AIDC_MIN(n - off, (size_t)API_MAX_STATUS_BATCH);
		if (report_batch(a, p + off, k)) {
			for (size_t i = 0; i < k; i++)
				reported(a, &p[off + i]);
		} else {
			bool any = false;
			for (size_t i = 0; i < k; i++)
				if (report(a, &a->tasks[p[off + i].task], p[off + i].state) == 0) {
					reported(a, &p[off + i]);
					any = true;
				}
			if (any && a->batch_404)
				a->no_batch = true;
		}
		off += k;
	}
}

void agent_report_all(struct agent *a, bool logs_due)
{
	/* At most one report per task: "running" or its exit, never both at once. */
	struct pending *p = a->ntasks ? aidc_calloc(a->ntasks, sizeof *p) : NULL;
	size_t n = 0;
	for (size_t i = 0; i < a->ntasks; i++) {
		struct task *t = &a->tasks[i];
		if (t->state == T_RUNNING && !t->running_reported && t->start_fd < 0)
			p[n++] = (struct pending){i, "running"};
		if (t->state == T_RUNNING && logs_due)
			push_logs(a, t);
		if (t->state == T_EXITED) {
			/* -o/-e files, then all output, then the exit: a finished job's
			 * files and logs are complete. */
			if (t->copy_pid[0] || t->copy_pid[1])
				continue;
			if (!t->tombstone && !push_logs(a, t))
				continue;
			p[n++] = (struct pending){i, t->failed ? "failed" : t->lost ? "lost" : "exited"};
		}
	}
	send_reports(a, p, n);
	for (size_t i = 0; i < n; i++)
		if (a->tasks[p[i].task].running_reported)
			agent_fault(a, "exit-after-report");
	aidc_free(p);
	/* Forget finished tasks once no launch order for them can be in flight,
	 * except tombstones, which guard against late launches. */
	size_t k = 0;
	for (size_t i = 0; i < a->ntasks; i++) {
		if (a->tasks[i].state != T_DONE || a->tasks[i].tombstone ||
		    a->tasks[i].done_poll > a->polls_taken) {
			a->tasks[k++] = a->tasks[i];
		} else {
			agent_task_files_gc(a, &a->tasks[i]);
			agent_task_release(&a->tasks[i]);
		}
	}
	a->ntasks = k;
}
