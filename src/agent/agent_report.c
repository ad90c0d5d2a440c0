/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's reports to the controller: task output pushed by offset (the
 * controller answers 409 once the attempt is over; each push names job,
 * task, attempt and this run's epoch), "running" and exit reports batched in
 * one request per iteration, and forgetting tasks reported done once no
 * launch order for them can still be in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
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
		/* Holes of a sparse write are skipped, never expanded into zeros:
		 * the controller keeps the gap as a hole (and counts nothing). */
		off_t data = lseek(fd, *off, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* nothing but a hole (or nothing) past *off, for now */
		if (data > *off)
			*off = data;
		off_t hole = lseek(fd, *off, SEEK_HOLE);
		size_t want = sizeof chunk;
		if (hole > *off && (uint64_t)(hole - *off) < want)
			want = (size_t)(hole - *off);
		ssize_t n = pread(fd, chunk, want, *off);
		if (n <= 0)
			break;
		char p[AIDC_MAX_NAME_BYTES + 192];
		snprintf(p, sizeof p,
			 "/v1/agents/%s/tasks/%" PRId64 "/%u/logs?stream=%s&offset=%" PRId64
			 "&attempt=%u&epoch=%" PRId64,
			 a->cfg.name, t->job, t->index, stream, *off, t->attempt, a->epoch);
		struct api_call c;
		struct aidc_err e = {0};
		int rc = agent_call(a, &a->cl, "POST", p, chunk, (size_t)n, "application/octet-stream",
			      10000, &c, &e);
		if (rc == 0 && c.status == 200) {
			*off += n;
		} else if (rc == 0 && c.status == 409) {
			/* Attempt over: this stream is pushed no more. What the file
			 * holds now is skipped at once (not a refused request per
			 * chunk: a stale task's gigabyte would take thousands). */
			struct stat sb;
			*off = fstat(fd, &sb) == 0 && sb.st_size > *off + n ? sb.st_size : *off + n;
			aidc_buf_release(&c.reply);
			break;
		} else if (rc == 0 && c.status >= 400 && c.status < 500 && c.status != 401 &&
			   c.status != 403 && c.status != 408 && c.status != 429) {
			/* Refused for good (a controller that takes no offset this
			 * far): sent again it would be refused again, and the task's
			 * exit is reported only after its output. Dropped, said once.
			 * Not a refused secret (401/403: fixed by an admin, then the
			 * same bytes go through) nor a busy controller (408/429). */
			if (!t->push_refused)
				aidc_log(AIDC_LOG_WARN,
					 "job %" PRId64 " task %u: the controller refused its %s output "
					 "at offset %" PRId64 " (HTTP %ld): dropped",
					 t->job, t->index, stream, *off, c.status);
			t->push_refused = true;
			*off += n;
		} else {
			ok = false;
		}
		aidc_buf_release(&c.reply);
		if (!ok || n < (ssize_t)want)
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

/* The fields of one report after its job and task. */
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
	/* Resource use for accounting once the task ended: always both fields,
	 * -1 when not measured (an absent field decodes as 0). */
	if (strcmp(state, "running") != 0) {
		aidc_json_ki64(w, "cpu_usec", t->cpu_usec);
		aidc_json_ki64(w, "mem_peak_bytes", t->mem_peak_bytes);
		if (t->progress_milli > 0)
			aidc_json_ki64(w, "progress_milli", t->progress_milli);
	}
}

/* A report waiting to be sent: the task (index into a->tasks) and its state. */
struct pending {
	size_t task;
	const char *state;
};

/* Sends reports [0, n) in one POST /v1/agents/{node}/tasks/status (at most
 * API_MAX_STATUS_BATCH). Returns true if the controller took them all; a 404
 * (node unknown) or 409 (a stale run) asks for a new registration. */
static bool report_batch(struct agent *a, const struct pending *p, size_t n)
{
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_HTTP_BODY_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	aidc_json_ki64(&w, "epoch", a->epoch);
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
		if (rc == 0 && (c.status == 404 || c.status == 409))
			a->need_register = true;
		if (!ok) {
			if (rc == 0)
				api_client_error(&c, &e);
			agent_net_failed(a, &a->net_log, "task reports", &c, &e);
		}
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

/* Sends the reports due, in order, in batches; a refused batch is sent
 * again next time (reports are idempotent). */
static void send_reports(struct agent *a, const struct pending *p, size_t n)
{
	for (size_t off = 0; off < n;) {
		size_t k = AIDC_MIN(n - off, (size_t)API_MAX_STATUS_BATCH);
		if (!report_batch(a, p + off, k))
			return;
		for (size_t i = 0; i < k; i++)
			reported(a, &p[off + i]);
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
			agent_output_overdue(t);
			if (t->copy_pid[0] > 0 || t->copy_pid[1] > 0)
				continue;
			if (!t->tombstone)
				agent_progress_read(a, t); /* before the logs: its note goes with them */
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
