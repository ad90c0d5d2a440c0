/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node agent's protocol and task table: configuration, setup,
 * registration, heartbeats, the fetcher thread and the main loop. The
 * launcher, reports, state file and output files are in agent_launch.c,
 * agent_report.c, agent_state.c and agent_output.c (agent_int.h).
 *
 * Threads: a fetcher thread long-polls GET /v1/nodes/{node}/work and queues
 * the orders; the main thread does everything else in one loop: launches and
 * kills, reaping, time limits, log pushes, status reports and heartbeats.
 * Because one thread sends every report in order, a heartbeat never omits a
 * task whose exit it has not reported first, which is what lets the
 * controller treat the heartbeat's running list as authoritative.
 *
 * Exactly-once launch: a (job, task, attempt) seen before is never launched
 * again, so the controller may resend launch orders freely (it does after a
 * restart or a re-registration). A kill for a task not launched yet leaves a
 * tombstone so a late launch order for it is ignored. A task whose end was
 * reported stays in the table until every work poll begun before that report
 * was acknowledged has been answered and its orders taken: a launch order the
 * controller built before it took the report (resent after a restart) may
 * still be in flight, and must find the task.
 *
 * Limits: each task gets a cgroup (or rlimits) from its request before it
 * runs (cgroup_linux.c); when its leader exits, whatever is left in the
 * cgroup is killed, an OOM kill is reported as such, and the cgroup is
 * removed (retried while the last processes die).
 *
 * Restart and crash safety: the tasks are kept in <state_dir>/tasks.json
 * (pid plus the kernel's start time of the pid, so a reused pid is never
 * mistaken for the task), rewritten (write + atomic exchange with the
 * previous file, no fsync: tasks do not survive a reboot either; see
 * agent_state.c) once per batch of launch orders and after every
 * batch of exits. A kill -9 at any point neither loses a task nor runs one
 * twice: the children of a batch wait at their gates until tasks.json names
 * them (take_orders), so nothing runs unrecorded and no report or heartbeat
 * names an unrecorded task; a gate that closes unopened means "never ran"
 * and the controller's resent order runs it. Each task's leader is a shim
 * (proc_linux.c) that holds the program's exit status (in its name) until
 * the agent has saved it, so a restarted agent that adopted the task reports
 * its real exit instead of "lost". AIDC_AGENT_FAULT (agent_fault) exits at
 * each of these points for the tests.
 *
 * Throughput: the loop never waits for a child to reach exec (the start
 * pipe is polled; a failed start is reported when the child is reaped), the
 * reports of one iteration go in one batched request, and output files are
 * recycled instead of created (agent_output.c).
 *
 * -o/-e: while a task runs, writer processes running as the job's user
 * follow the agent's copy of its output into the requested paths (Slurm's
 * %j %t %u %N %% substitutions); when it ends they copy the rest and the
 * exit is reported after them, so the files are complete when the job is.
 */
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <poll.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "agent/topo.h"
#include "dev/dev.h"
#include "util/clock.h"
#include "util/route.h"
#include "util/util.h"

int64_t agent_mono_ms(void)
{
	return aidc_mono_ms();
}

void agent_nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

void agent_fault(const struct agent *a, const char *point)
{
	if (a->fault[0] && !strcmp(a->fault, point)) {
		aidc_log(AIDC_LOG_WARN, "agent %s: AIDC_AGENT_FAULT=%s: exiting", a->cfg.name, point);
		_exit(99);
	}
}

void agent_config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->controller_host, sizeof c->controller_host, "127.0.0.1");
	c->controller_port = 6820;
	if (gethostname(c->name, sizeof c->name) != 0 || !c->name[0])
		snprintf(c->name, sizeof c->name, "node");
	c->name[sizeof c->name - 1] = '\0';
	c->addr[0] = '\0'; /* chosen from the route to the controller (setup_addr) */
	snprintf(c->state_dir, sizeof c->state_dir, "/var/lib/aidc/agent");
	snprintf(c->secret_file, sizeof c->secret_file, "/var/lib/aidc/secret");
	snprintf(c->devices, sizeof c->devices, "none");
	snprintf(c->limits, sizeof c->limits, "auto");
	c->health_interval_s = AGENT_HEALTH_INTERVAL_S;
	c->job_pids_max = AGENT_JOB_PIDS_MAX;
	c->node_pids_max = AGENT_NODE_PIDS_MAX;
}

/* ---- the state directory's health -------------------------------------------------- */

void agent_disk_failed(struct agent *a, int err)
{
	if (err != ENOSPC && err != EDQUOT && err != EROFS && err != EIO)
		return;
	a->disk_failed = true;
	a->next_disk_ms = 0; /* look now */
}

/* Writes and removes a small file in the state directory: 0 or errno. */
static int probe_write(const struct agent *a)
{
	char path[AIDC_MAX_PATH_BYTES + 16], buf[4096] = {0};
	snprintf(path, sizeof path, "%s/.probe", a->cfg.state_dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno;
	int err = write(fd, buf, sizeof buf) == (ssize_t)sizeof buf && fsync(fd) == 0 ? 0 : errno;
	if (close(fd) != 0 && !err)
		err = errno;
	unlink(path);
	return err ? err : 0;
}

void agent_check_disk(struct agent *a)
{
	int64_t now = agent_mono_ms();
	if (now < a->next_disk_ms)
		return;
	a->next_disk_ms = now + AGENT_DISK_CHECK_MS;
	char why[sizeof a->problem] = "";
	struct statvfs sv;
	if (statvfs(a->cfg.state_dir, &sv) == 0) {
		uint64_t bs = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
		uint64_t free_b = (uint64_t)sv.f_bavail * bs, size_b = (uint64_t)sv.f_blocks * bs;
		uint64_t floor_b = AIDC_MIN((uint64_t)AGENT_MIN_FREE_MIB << 20, size_b / 20);
		if (free_b < floor_b)
			snprintf(why, sizeof why,
				 "state directory %.300s is full: %" PRIu64 " KiB free, under the "
				 "floor of %" PRIu64 " KiB",
				 a->cfg.state_dir, free_b >> 10, floor_b >> 10);
		else if (sv.f_files && sv.f_favail == 0)
			snprintf(why, sizeof why, "state directory %.300s has no free inodes",
				 a->cfg.state_dir);
	}
	if (!why[0] && a->disk_failed) {
		int err = probe_write(a);
		if (err)
			snprintf(why, sizeof why, "cannot write the state directory %.300s: %s",
				 a->cfg.state_dir, strerror(err));
		else
			a->disk_failed = false;
	}
	if (!strcmp(why, a->disk_problem))
		return;
	if (why[0])
		aidc_log(AIDC_LOG_ERROR, "agent %s: %s: the node drains until it is fixed",
			 a->cfg.name, why);
	else
		aidc_log(AIDC_LOG_INFO, "agent %s: the state directory is writable again",
			 a->cfg.name);
	agent_set_disk_problem(a, why);
}

/* ---- calls to the controller ------------------------------------------------------ */

int agent_client_open(struct agent *a, struct api_client *cl, struct aidc_err *e)
{
	if (!a->cfg.controllers[0])
		return api_client_init(cl, NULL, a->cfg.controller_host, a->cfg.controller_port,
				       a->secret, e);
	struct api_client_opts o = {.url = a->cfg.controllers, .secret = a->secret};
	return api_client_open(cl, &o, e);
}

int agent_call(struct agent *a, struct api_client *cl, const char *method, const char *path,
		const char *body, size_t len, const char *ctype, long timeout_ms,
		struct api_call *out, struct aidc_err *e)
{
	memset(out, 0, sizeof *out);
	aidc_buf_init(&out->reply, 64u << 20);
	out->method = method;
	out->path = path;
	out->body = body;
	out->body_len = len;
	out->content_type = ctype;
	out->timeout_ms = timeout_ms;
	if (cl != &a->cl && cl->nurls > 1) {
		/* The fetcher follows the controller the main thread reached last,
		 * and gives up a long poll as soon as the main thread moves on: a
		 * paused leader would hold it for the whole poll (docs/ha.md). */
		unsigned gen = __atomic_load_n(&a->ctl_gen, __ATOMIC_ACQUIRE);
		if (gen != a->fetch_gen) {
			api_client_use(cl, __atomic_load_n(&a->ctl_cur, __ATOMIC_RELAXED));
			a->fetch_gen = gen;
		}
		/* (An order in a reply given up this way is sent again by the
		 * controller: CTLD_REDISPATCH_MS.) */
		out->cancel_gen = &a->ctl_gen;
		out->cancel_at = gen;
	}
	int rc = api_client_call(cl, out, e);
	if (cl == &a->cl && rc == 0 && cl->cur != __atomic_load_n(&a->ctl_cur, __ATOMIC_RELAXED)) {
		__atomic_store_n(&a->ctl_cur, cl->cur, __ATOMIC_RELAXED);
		__atomic_add_fetch(&a->ctl_gen, 1, __ATOMIC_RELEASE);
	}
	return rc;
}

void agent_net_failed(struct agent *a, struct aidc_log_limiter *l, const char *what,
		      const struct api_call *c, const struct aidc_err *e)
{
	if (c && c->status)
		aidc_log_limited(l, AIDC_LOG_WARN, "agent %s: %s refused by the controller (HTTP %ld): %s",
				 a->cfg.name, what, c->status, e->msg);
	else
		aidc_log_limited(l, AIDC_LOG_WARN, "agent %s: %s failed: %s", a->cfg.name, what,
				 e->msg[0] ? e->msg : "no reply");
}

void agent_net_ok(struct agent *a, struct aidc_log_limiter *l)
{
	if (!l->last[0])
		return;
	aidc_log(AIDC_LOG_INFO, "agent %s: the controller answers again", a->cfg.name);
	aidc_log_limiter_reset(l);
}

int agent_post_json(struct agent *a, const char *path, const char *body, struct api_call *c,
		     struct aidc_err *e)
{
	/* With standbys, a leader that stops answering is left sooner. */
	long timeout = a->cl.nurls > 1 ? 5000 : 10000;
	int rc = agent_call(a, &a->cl, "POST", path, body, strlen(body), NULL, timeout, c, e);
	if (rc == 0 && c->status == 404)
		a->need_register = true;
	if (rc == 0 && c->status != 200)
		rc = api_client_error(c, e);
	return rc;
}

static void running_json(struct agent *a, struct aidc_json *w)
{
	aidc_json_key(w, "running");
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < a->ntasks; i++) {
		const struct task *t = &a->tasks[i];
		/* An exited task whose exit the controller has not acknowledged is
		 * still listed: a controller that restarted in between must not take
		 * it for lost (and requeue it) before the retried exit report lands. */
		if (t->state == T_DONE || t->tombstone)
			continue;
		aidc_json_obj_begin(w);
		aidc_json_ki64(w, "job", t->job);
		aidc_json_ki64(w, "task", t->index);
		aidc_json_ki64(w, "attempt", t->attempt);
		aidc_json_obj_end(w);
	}
	aidc_json_arr_end(w);
}

/*
 * Discovers the node's devices once, before any thread starts (a plugin is
 * loaded in a child process: dev_plugin_discover). A device plugin that
 * cannot be used (it crashes or hangs while loading, speaks another ABI
 * version, fails its init) is logged once with the reason and the node
 * registers without its devices; other providers' failures (a bad spec, no
 * NVML library) stop the agent with the reason.
 */
static int discover_devices(struct agent *a, struct aidc_err *e)
{
	a->ndev = 0;
	int rc = dev_node_discover(a->cfg.devices, a->devs, &a->ndev, e);
	if (rc && strncmp(a->cfg.devices, "plugin:", 7) == 0 && rc != AIDC_E_INVAL) {
		aidc_log(AIDC_LOG_ERROR,
			 "agent %s: devices '%s' unusable, registering without them: %s",
			 a->cfg.name, a->cfg.devices, e->msg);
		a->ndev = 0;
		aidc_err_clear(e);
		return 0;
	}
	if (rc)
		return aidc_errf(e, rc, "devices '%s': %s", a->cfg.devices, e->msg);
	return 0;
}

static int do_register(struct agent *a, struct aidc_err *e)
{
	const struct dev_node_device *devs = a->devs;
	uint32_t ndev = a->ndev;
	int rc;
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_HTTP_BODY_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	aidc_json_ki64(&w, "protocol", API_AGENT_PROTOCOL_VERSION);
	aidc_json_kstr(&w, "agent_id", a->agent_id);
	aidc_json_ki64(&w, "epoch", a->epoch);
	aidc_json_kstr(&w, "name", a->cfg.name);
	aidc_json_kstr(&w, "addr", a->cfg.addr);
	if (a->cfg.partition[0])
		aidc_json_kstr(&w, "partition", a->cfg.partition);
	aidc_json_ki64(&w, "cpus", a->cfg.cpus);
	aidc_json_ki64(&w, "mem_mib", (int64_t)a->cfg.mem_mib);
	aidc_json_key(&w, "devices");
	aidc_json_arr_begin(&w);
	for (uint32_t i = 0; i < ndev; i++) {
		aidc_json_obj_begin(&w);
		aidc_json_ki64(&w, "index", i);
		aidc_json_kstr(&w, "vendor", devs[i].vendor);
		aidc_json_kstr(&w, "model", devs[i].model);
		aidc_json_ki64(&w, "mem_mib", (int64_t)devs[i].mem_mib);
		if (devs[i].uuid[0])
			aidc_json_kstr(&w, "uuid", devs[i].uuid);
		aidc_json_obj_end(&w);
	}
	aidc_json_arr_end(&w);
	running_json(a, &w);
	struct aidc_err te = {0};
	if (agent_topology_json(&w, &te) != 0) /* writes nothing on failure */
		aidc_log(AIDC_LOG_WARN, "agent %s: registering without topology: %s", a->cfg.name,
			 te.msg);
	aidc_json_obj_end(&w);
	if ((rc = aidc_json_finish(&w)) != 0) {
		aidc_buf_release(&b);
		return aidc_errf(e, rc, "registration document too large");
	}
	struct api_call c;
	rc = agent_post_json(a, "/v1/agents/register", aidc_buf_str(&b), &c, e);
	aidc_buf_release(&b);
	/* A controller of protocol 1 refuses the fields it does not know. */
	if (rc == AIDC_E_INVAL && strstr(e->msg, "protocol") && strstr(e->msg, "unknown")) {
		struct aidc_err v = {0};
		aidc_errf(&v, AIDC_E_VERSION,
			  "the controller does not speak agent protocol %d (it refused: %s): run "
			  "the same aidc version on both",
			  API_AGENT_PROTOCOL_VERSION, e->msg);
		*e = v;
		rc = AIDC_E_VERSION;
	}
	struct api_agent_ok ok;
	if (rc == 0 &&
	    (rc = api_decode(&api_schema_agent_ok, aidc_buf_str(&c.reply), c.reply.len, &ok, e)) != 0)
		rc = aidc_errf(e, AIDC_E_VERSION,
			       "the controller's registration reply is not agent protocol %d: %s",
			       API_AGENT_PROTOCOL_VERSION, e->msg);
	if (rc == 0 && ok.protocol != API_AGENT_PROTOCOL_VERSION)
		rc = aidc_errf(e, AIDC_E_VERSION,
			       "the controller speaks agent protocol %" PRId64
			       "; this agent speaks %d: run the same aidc version on both",
			       ok.protocol, API_AGENT_PROTOCOL_VERSION);
	if (rc == 0) {
		a->heartbeat_s = ok.heartbeat_s > 0 ? ok.heartbeat_s : 1;
		a->need_register = false;
		agent_net_ok(a, &a->net_log);
		aidc_log(AIDC_LOG_INFO, "agent %s: registered with %u devices", a->cfg.name, ndev);
	}
	aidc_buf_release(&c.reply);
	return rc;
}

/* ---- the fetcher thread -------------------------------------------------------------- */

static void queue_order(struct agent *a, struct order *o)
{
	pthread_mutex_lock(&a->mu);
	if (a->tail)
		a->tail->next = o;
	else
		a->head = o;
	a->tail = o;
	pthread_mutex_unlock(&a->mu);
	char x = 1;
	ssize_t w = write(a->wake[1], &x, 1);
	(void)w;
}

/* Queues the orders of a decoded work reply; the launch orders move into
 * the queue (w keeps zeroed elements). */
static void queue_work(struct agent *a, struct api_work *w)
{
	struct api_launch *l = w->launch.v;
	for (size_t i = 0; i < w->launch.n; i++) {
		struct order *o = aidc_calloc(1, sizeof *o);
		o->launch = aidc_malloc(sizeof *o->launch);
		*o->launch = l[i];
		memset(&l[i], 0, sizeof l[i]);
		queue_order(a, o);
	}
	const struct api_task_ref *k = w->kill.v;
	for (size_t i = 0; i < w->kill.n; i++) {
		struct order *o = aidc_calloc(1, sizeof *o);
		o->job = k[i].job;
		o->task = (uint32_t)k[i].task;
		o->attempt = (uint32_t)k[i].attempt;
		queue_order(a, o);
	}
}

static void *fetcher(void *arg)
{
	struct agent *a = arg;
	struct api_client cl;
	struct aidc_err e = {0};
	if (agent_client_open(a, &cl, &e) != 0) {
		aidc_log(AIDC_LOG_ERROR, "agent: %s", e.msg);
		return NULL;
	}
	char path[AIDC_MAX_NAME_BYTES + 96];
	snprintf(path, sizeof path, "/v1/nodes/%s/work?wait=20&epoch=%" PRId64, a->cfg.name,
		 a->epoch);
	struct aidc_log_limiter net_log = {.interval_ms = 30000};
	while (!a->stop) {
		struct api_call c;
		aidc_err_clear(&e);
		pthread_mutex_lock(&a->mu);
		a->polls_begun++;
		pthread_mutex_unlock(&a->mu);
		int rc = agent_call(a, &cl, "GET", path, NULL, 0, NULL, 30000, &c, &e);
		struct api_work w;
		if (rc == 0 && c.status == 200 &&
		    api_decode_max(&api_schema_work, aidc_buf_str(&c.reply), c.reply.len,
				   API_MAX_WORK_BYTES, &w, &e) != 0) {
			/* Not a version-2 work reply: nothing to act on. */
			aidc_log_limited(&net_log, AIDC_LOG_ERROR,
					 "agent %s: work reply refused (agent protocol %d): %s",
					 a->cfg.name, API_AGENT_PROTOCOL_VERSION, e.msg);
			agent_nap_ms(300);
		} else if (rc == 0 && c.status == 200) {
			queue_work(a, &w);
			api_decoded_release(&api_schema_work, &w);
			agent_net_ok(a, &net_log);
		} else if (rc != 0 && c.fail == API_FAIL_CANCELLED) {
			/* The main thread found the leader elsewhere: poll there now. */
		} else {
			if (rc == 0 && c.status == 409)
				a->need_register = true; /* a stale run: the registration says more */
			/* Controller down or we are unknown to it: the main loop re-registers. */
			if (rc == 0)
				api_client_error(&c, &e);
			if (!(rc == 0 && c.status == 404)) /* 404: re-registration, said there */
				agent_net_failed(a, &net_log, "work poll", &c, &e);
			agent_nap_ms(300);
		}
		pthread_mutex_lock(&a->mu);
		a->polls_queued++; /* after its orders: take_orders sees both or neither */
		pthread_mutex_unlock(&a->mu);
		aidc_buf_release(&c.reply);
	}
	api_client_release(&cl);
	return NULL;
}

/* ---- tasks ------------------------------------------------------------------------------ */

struct task *agent_task_find(struct agent *a, int64_t job, uint32_t index, uint32_t attempt)
{
	for (size_t i = 0; i < a->ntasks; i++) {
		struct task *t = &a->tasks[i];
		if (t->job == job && t->index == index && t->attempt == attempt)
			return t;
	}
	return NULL;
}

struct task *agent_task_new(struct agent *a, int64_t job, uint32_t index, uint32_t attempt)
{
	AIDC_GROW(a->tasks, a->cap_tasks, a->ntasks + 1);
	struct task *t = &a->tasks[a->ntasks++];
	memset(t, 0, sizeof *t);
	t->job = job;
	t->index = index;
	t->attempt = attempt;
	t->pid = -1;
	t->cpu_usec = t->mem_peak_bytes = -1;
	t->start_fd = -1;
	t->gate_fd = -1;
	t->follow_fd = -1;
	agent_cgroup_init(&t->cg);
	return t;
}

void agent_task_release(struct task *t)
{
	aidc_free(t->stdout_req);
	aidc_free(t->stderr_req);
	aidc_free(t->user);
	aidc_free(t->cwd);
	aidc_free(t->exe);
	t->stdout_req = t->stderr_req = t->user = t->cwd = t->exe = NULL;
	if (t->start_fd >= 0)
		close(t->start_fd);
	t->start_fd = -1;
	agent_proc_cancel_gate(&t->gate_fd); /* never opened: the child exits without running */
	if (t->follow_fd >= 0)
		close(t->follow_fd);
	t->follow_fd = -1;
}

static void take_orders(struct agent *a)
{
	char drain[64];
	while (read(a->wake[0], drain, sizeof drain) > 0) {
	}
	pthread_mutex_lock(&a->mu);
	struct order *o = a->head;
	a->head = a->tail = NULL;
	a->polls_taken = a->polls_queued;
	pthread_mutex_unlock(&a->mu);
	while (o) {
		struct order *next = o->next;
		if (o->launch) {
			agent_launch_task(a, o->launch);
			api_decoded_release(&api_schema_launch, o->launch);
			aidc_free(o->launch);
		} else {
			agent_kill_task(a, o->job, o->task, o->attempt);
		}
		aidc_free(o);
		o = next;
	}
	/* The new tasks wait at their gates until tasks.json names them: a
	 * kill -9 before the save leaves no task running unrecorded (the
	 * controller resends the orders when the agent registers again), and
	 * none can be reported or listed before it is recorded. */
	bool gated = false;
	for (size_t i = 0; i < a->ntasks && !gated; i++)
		gated = a->tasks[i].gate_fd >= 0;
	if (!gated)
		return;
	agent_fault(a, "exit-after-launch");
	agent_save_state(a);
	agent_fault(a, "exit-after-save");
	for (size_t i = 0; i < a->ntasks; i++) {
		struct task *t = &a->tasks[i];
		if (t->gate_fd < 0)
			continue;
		agent_proc_open_gate(&t->gate_fd);
		agent_output_start(a, t);
	}
	agent_fault(a, "exit-after-release");
}


static void heartbeat(struct agent *a)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 1u << 20);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	aidc_json_ki64(&w, "epoch", a->epoch);
	running_json(a, &w);
	if (a->problem[0])
		aidc_json_kstr(&w, "problem", a->problem);
	agent_usage_json(a, &w);
	aidc_json_obj_end(&w);
	if (aidc_json_finish(&w) == 0) {
		char path[AIDC_MAX_NAME_BYTES + 32];
		snprintf(path, sizeof path, "/v1/agents/%s/heartbeat", a->cfg.name);
		struct api_call c;
		struct aidc_err e = {0};
		if (agent_post_json(a, path, aidc_buf_str(&b), &c, &e) != 0) {
			agent_net_failed(a, &a->net_log, "heartbeat", &c, &e);
			if (c.status == 409)
				a->need_register = true; /* a stale run: the registration says more */
		}
		else {
			agent_net_ok(a, &a->net_log);
			/* The controller stretches the period as its center grows. */
			struct api_agent_ok ok;
			if (api_decode(&api_schema_agent_ok, aidc_buf_str(&c.reply), c.reply.len, &ok,
				       NULL) == 0 &&
			    ok.heartbeat_s > 0)
				a->heartbeat_s = ok.heartbeat_s;
		}
		aidc_buf_release(&c.reply);
	}
	aidc_buf_release(&b);
}

static bool any_running(const struct agent *a)
{
	for (size_t i = 0; i < a->ntasks; i++)
		if (a->tasks[i].state == T_RUNNING)
			return true;
	return false;
}

/* ---- life cycle ------------------------------------------------------------------------ */

/* The default memory of a task that gave none (issue 9 item 8): the
 * configured amount per CPU, or the node's memory per CPU, times the CPUs the
 * task asked for (at least one), never more than the node offers. */
uint64_t agent_default_mem_mib(const struct agent *a, int64_t task_cpus)
{
	uint64_t per_cpu = a->cfg.def_mem_per_cpu_mib;
	if (per_cpu == 0)
		per_cpu = a->cfg.mem_mib / (a->cfg.cpus ? a->cfg.cpus : 1);
	uint64_t cpus = task_cpus > 0 ? (uint64_t)task_cpus : 1;
	uint64_t mib = per_cpu * cpus;
	if (mib > a->cfg.mem_mib)
		mib = a->cfg.mem_mib;
	return mib ? mib : 1;
}

/* Writes the node's caps (all tasks together) and says what they are. */
static int node_caps(struct agent *a, struct aidc_err *e)
{
	if (a->cfg.job_pids_max > a->cfg.node_pids_max)
		return aidc_errf(e, AIDC_E_INVAL,
				 "--max-job-pids %u is over --max-node-pids %u", a->cfg.job_pids_max,
				 a->cfg.node_pids_max);
	if (a->lim.kind == AGENT_LIMITS_NONE)
		return 0;
	if (a->lim.kind == AGENT_LIMITS_RLIMIT) {
		/* RLIMIT_AS is address space: a default would refuse the large
		 * virtual reservations of CUDA and other runtimes. */
		aidc_log(AIDC_LOG_WARN,
			 "agent %s: rlimit: no node memory or pids cap and no default memory for "
			 "tasks without --mem (cgroups are needed); %u pids per task (RLIMIT_NPROC)",
			 a->cfg.name, a->cfg.job_pids_max);
		return 0;
	}
	bool pids_capped = false;
	int rc = agent_limits_node_caps(&a->lim, a->cfg.mem_mib, a->cfg.node_pids_max,
					&pids_capped, e);
	if (rc)
		return rc;
	aidc_log(pids_capped ? AIDC_LOG_INFO : AIDC_LOG_WARN,
		 "agent %s: node caps: memory %" PRIu64 " MiB for all tasks, %s%u%s; tasks "
		 "without --mem get %" PRIu64 " MiB per CPU; %u pids per job",
		 a->cfg.name, a->cfg.mem_mib, pids_capped ? "pids " : "no pids cap (no pids "
		 "controller; wanted ", a->cfg.node_pids_max, pids_capped ? "" : ")",
		 agent_default_mem_mib(a, 1), a->cfg.job_pids_max);
	return 0;
}

/* Chooses cgroup v2, v1 or rlimits for this node and says which (and why). */
static int setup_limits(struct agent *a, struct aidc_err *e)
{
	/* A name unique per agent on this host, stable across its restarts: the
	 * node name plus an FNV-1a hash of its state directory. */
	uint32_t h = 2166136261u;
	for (const char *p = a->cfg.state_dir; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	char unique[AIDC_MAX_NAME_BYTES + 16];
	snprintf(unique, sizeof unique, "%.100s-%08x", a->cfg.name, h);
	for (char *p = unique; *p; p++)
		if (*p == '/' || *p == '.')
			*p = '_';
	int rc = agent_limits_init(&a->lim, a->cfg.limits, a->cfg.cgroup_root, unique, e);
	if (rc)
		return rc;
	const char *kind = agent_limits_kind_name(a->lim.kind);
	if (a->lim.kind == AGENT_LIMITS_RLIMIT && !strcmp(a->cfg.limits, "rlimit"))
		aidc_log(AIDC_LOG_WARN,
			 "agent %s: limits: rlimit (configured; RLIMIT_AS per task, RLIMIT_NPROC "
			 "per user; no CPU limit, no OOM reports)",
			 a->cfg.name);
	else if (a->lim.kind == AGENT_LIMITS_RLIMIT)
		aidc_log(AIDC_LOG_WARN,
			 "agent %s: limits: rlimit (RLIMIT_AS per task, RLIMIT_NPROC per user; no "
			 "CPU limit, no OOM reports) because no cgroup is writable: %s",
			 a->cfg.name, a->lim.why);
	else if (a->lim.kind == AGENT_LIMITS_NONE)
		aidc_log(AIDC_LOG_WARN, "agent %s: limits: none (configured)", a->cfg.name);
	else
		aidc_log(AIDC_LOG_INFO, "agent %s: limits: %s in %s%s%s", a->cfg.name, kind,
			 a->lim.dir[AGENT_CG_MEM], a->lim.why[0] ? "; not cgroup2: " : "",
			 a->lim.why);
	return node_caps(a, e);
}

/*
 * The address other nodes reach this one at (MASTER_ADDR of the gangs whose
 * rank 0 runs here): the source address of the route to the controller
 * (a UDP socket connected to it sends nothing; getsockname says which local
 * address the kernel picked), unless --addr gave one. A loopback address is
 * refused when the controller is not on loopback: no other node could reach it.
 */
static int setup_addr(struct agent *a, struct aidc_err *e)
{
	const char *host = a->cfg.controller_host;
	const char *sch = strstr(host, "://");
	if (sch)
		host = sch + 3;
	char h[64];
	snprintf(h, sizeof h, "%s", host);
	if (h[0] == '[') { /* [v6] */
		memmove(h, h + 1, strlen(h));
		h[strcspn(h, "]")] = '\0';
	}
	bool ctl_loop = api_host_is_loopback(h);
	if (a->cfg.addr[0]) {
		if (api_host_is_loopback(a->cfg.addr) && !ctl_loop)
			return aidc_errf(e, AIDC_E_INVAL,
					 "--addr %s is a loopback address but the controller %s is "
					 "not on loopback: other nodes could not reach this node's "
					 "tasks (MASTER_ADDR); give an address of this host they can reach",
					 a->cfg.addr, h);
		return 0;
	}
	char why[160];
	if (aidc_route_addr(h, a->cfg.controller_port, a->cfg.addr, sizeof a->cfg.addr, why,
			    sizeof why) != 0)
		return aidc_errf(e, AIDC_E_IO, "%s: cannot choose this node's address (give --addr)",
				 why);
	aidc_log(AIDC_LOG_INFO, "agent %s: address %s (the route to the controller %s; --addr overrides)",
		 a->cfg.name, a->cfg.addr, h);
	return 0;
}

/* This agent's identity: <state_dir>/agent_id (32 random hex digits, made
 * on the first start), and this run's epoch: the wall clock in ms, or one
 * more than the last run's (<state_dir>/epoch) if the clock went back. A
 * state directory that cannot be written (full) still gets an epoch; the
 * identity then lasts for this run only. */
static int setup_identity(struct agent *a, struct aidc_err *e)
{
	char path[AIDC_MAX_PATH_BYTES + 16], buf[64] = {0};
	snprintf(path, sizeof path, "%s/agent_id", a->cfg.state_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\r\n ")] = '\0';
	if (strlen(buf) == 32 && strspn(buf, "0123456789abcdef") == 32) {
		memcpy(a->agent_id, buf, 33);
	} else {
		uint8_t raw[16];
		if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
			return aidc_errf(e, AIDC_E_IO, "getrandom: %s", strerror(errno));
		for (size_t i = 0; i < sizeof raw; i++)
			snprintf(a->agent_id + 2 * i, 3, "%02x", raw[i]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 || write(fd, a->agent_id, 32) != 32)
			aidc_log(AIDC_LOG_WARN, "agent %s: cannot keep its identity in %s: %s",
				 a->cfg.name, path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	a->epoch = aidc_wall_ms(); /* larger than the last run's, below */
	snprintf(path, sizeof path, "%s/epoch", a->cfg.state_dir);
	memset(buf, 0, sizeof buf);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		int64_t last = 0;
		n = read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\r\n ")] = '\0';
		if (aidc_parse_i64(buf, 0, INT64_MAX - 1, &last) == 0 && last >= a->epoch)
			a->epoch = last + 1;
		int len = snprintf(buf, sizeof buf, "%" PRId64 "\n", a->epoch);
		if (pwrite(fd, buf, (size_t)len, 0) != len || ftruncate(fd, len) != 0)
			aidc_log(AIDC_LOG_WARN, "agent %s: cannot record its run in %s: %s",
				 a->cfg.name, path, strerror(errno));
		close(fd);
	}
	return 0;
}

/* A root agent runs jobs as their users, who exec their batch scripts from
 * <state_dir>/tasks: every directory above it must let others through
 * (o+x), or every non-root batch job fails with "Permission denied". Said
 * once at start, naming the directory (docs/deploy.md makes them 0711). */
static void check_tasks_reachable(const struct agent *a, const char *tasks)
{
	char path[AIDC_MAX_PATH_BYTES + 16];
	struct stat st;

	if (geteuid() != 0 || !realpath(tasks, path))
		return;
	for (char *slash = path + strlen(path); slash > path; slash = strrchr(path, '/')) {
		*slash = '\0';
		const char *dir = *path ? path : "/";
		if (stat(dir, &st) == 0 && !(st.st_mode & S_IXOTH)) {
			aidc_log(AIDC_LOG_WARN,
				 "agent %s: %s is mode %04o: jobs of users other than root cannot "
				 "reach their scripts under %s (batch jobs fail with 'Permission "
				 "denied'); let others through it: chmod o+x %s",
				 a->cfg.name, dir, (unsigned)(st.st_mode & 07777), tasks, dir);
			return;
		}
	}
}

/* All of fd into b (bounded by b's max); 0 or -1. */
static int read_all(int fd, struct aidc_buf *b)
{
	char chunk[8192];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r > 0 && aidc_buf_append(b, chunk, (size_t)r) != 0))
			return -1;
		if (r == 0)
			return 0;
	}
}

/* The CA of a remote controller (--cacert, kept in AIDC_CACERT), copied to
 * <state_dir>/ca.pem 0644 for the jobs' srun (AIDC_JOB_CACERT): the
 * operator's copy usually sits in a directory only root reads. A CA is
 * public; failing to copy it only costs remote steps, said once here. */
static void copy_cacert(struct agent *a)
{
	const char *src = getenv("AIDC_CACERT");
	char path[sizeof a->job_cacert], tmp[sizeof a->job_cacert + 8];
	struct aidc_buf b;
	int rc = -1;

	a->job_cacert[0] = '\0';
	if (!src || !*src)
		return;
	snprintf(path, sizeof path, "%.4000s/ca.pem", a->cfg.state_dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	aidc_buf_init(&b, 1u << 20);
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = in < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (out >= 0 && read_all(in, &b) == 0 && fchmod(out, 0644) == 0 &&
	    write(out, b.data, b.len) == (ssize_t)b.len && fsync(out) == 0)
		rc = rename(tmp, path);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	aidc_buf_release(&b);
	if (rc == 0)
		snprintf(a->job_cacert, sizeof a->job_cacert, "%s", path);
	else
		aidc_log(AIDC_LOG_WARN,
			 "agent %s: cannot copy the CA %s to %s for jobs (%s): srun steps of "
			 "jobs on this node will not verify the controller",
			 a->cfg.name, src, path, strerror(errno));
}

static int setup(struct agent *a, struct aidc_err *e)
{
	char dir[AIDC_MAX_PATH_BYTES + 16];
	if (mkdir(a->cfg.state_dir, 0755) != 0 && errno != EEXIST)
		return aidc_errf(e, AIDC_E_IO, "cannot create %s: %s", a->cfg.state_dir,
				 strerror(errno));
	snprintf(dir, sizeof dir, "%s/tasks", a->cfg.state_dir);
	/* Scripts inside are owned by their users; the directory only needs traversal. */
	if (mkdir(dir, 0711) != 0 && errno != EEXIST)
		return aidc_errf(e, AIDC_E_IO, "cannot create %s: %s", dir, strerror(errno));
	check_tasks_reachable(a, dir);
	copy_cacert(a);
	int fd = open(a->cfg.secret_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return aidc_errf(e, AIDC_E_IO, "cannot read the cluster secret %s: %s",
				 a->cfg.secret_file, strerror(errno));
	ssize_t n = read(fd, a->secret, AIDC_MAX_SECRET_BYTES);
	close(fd);
	if (n <= 0)
		return aidc_errf(e, AIDC_E_IO, "the cluster secret %s is empty", a->cfg.secret_file);
	a->secret[n] = '\0';
	a->secret[strcspn(a->secret, "\r\n ")] = '\0';
	if (a->cfg.cpus == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		a->cfg.cpus = c > 0 ? (uint32_t)c : 1;
	}
	if (a->cfg.mem_mib == 0) {
		long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
		a->cfg.mem_mib = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz >> 20 : 1024;
	}
	const char *fault = getenv("AIDC_AGENT_FAULT");
	snprintf(a->fault, sizeof a->fault, "%s", fault ? fault : "");
	if (pipe2(a->wake, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    pipe2(a->notify, O_CLOEXEC | O_NONBLOCK) != 0)
		return aidc_errf(e, AIDC_E_IO, "pipe: %s", strerror(errno));
	int rc = setup_limits(a, e);
	if (rc || (rc = setup_identity(a, e)) != 0 || (rc = setup_addr(a, e)) != 0)
		return rc;
	agent_proc_init();
	agent_adopt_spares(a);
	agent_restore(a);
	agent_files_sweep(a);
	return agent_client_open(a, &a->cl, e);
}

/* On shutdown: stop every task the way a cancel would, and report them. */
static void shutdown_tasks(struct agent *a)
{
	for (size_t i = 0; i < a->ntasks; i++)
		if (a->tasks[i].state == T_RUNNING) {
			a->tasks[i].grace_s = AIDC_MIN(a->tasks[i].grace_s, 3);
			agent_kill_task(a, a->tasks[i].job, a->tasks[i].index, a->tasks[i].attempt);
		}
	int64_t until = agent_mono_ms() + 5000;
	while (any_running(a) && agent_mono_ms() < until) {
		agent_reap(a);
		agent_enforce_limits(a);
		agent_nap_ms(20);
	}
	/* Wait briefly for -o/-e copies, then report and clean up. */
	for (int64_t until2 = agent_mono_ms() + 3000; agent_mono_ms() < until2; agent_nap_ms(20)) {
		agent_reap(a);
		bool copying = false;
		for (size_t i = 0; i < a->ntasks; i++)
			copying |= a->tasks[i].copy_pid[0] > 0 || a->tasks[i].copy_pid[1] > 0;
		if (!copying)
			break;
	}
	agent_report_all(a, true);
	for (int64_t until3 = agent_mono_ms() + 1000; a->ngc && agent_mono_ms() < until3;
	     agent_nap_ms(20)) {
		agent_reap(a);
		agent_collect_cgroups(a);
	}
	agent_save_state(a);
	if (!any_running(a) && a->ngc == 0)
		agent_limits_release(&a->lim);
}

/* Refusals that retrying does not heal: bad input, refused credentials,
 * device discovery failures (a missing NVML library, a failing plugin),
 * another protocol version, a node name a live agent holds, a newer run of
 * this agent. */
static bool fatal_registration(int code)
{
	return code == AIDC_E_INVAL || code == AIDC_E_AUTH || code == AIDC_E_PERM ||
	       code == AIDC_E_DEVICE || code == AIDC_E_LIMIT || code == AIDC_E_VERSION ||
	       code == AIDC_E_EXISTS || code == AIDC_E_STATE;
}

/* The controller asked this agent to register again (it restarted or lost
 * the node). False when it refuses for good: a newer run of this agent
 * replaced it, or the name went to another agent. */
static bool reregister(struct agent *a)
{
	struct aidc_err re = {0};
	if (do_register(a, &re) != 0 && fatal_registration(re.code)) {
		aidc_log(AIDC_LOG_ERROR, "agent %s: registration refused, stopping: %s", a->cfg.name,
			 re.msg);
		return false;
	}
	if (re.code) {
		aidc_log_limited(&a->net_log, AIDC_LOG_WARN,
				 "agent %s: registration failed, retrying: %s", a->cfg.name, re.msg);
		agent_nap_ms(200);
	}
	return true;
}

/* The agent's main loop (the fetcher thread takes orders in parallel): wake on
 * orders or task starts or every 50 ms, launch, reap and police tasks, report,
 * heartbeat. Returns on a signal or a final registration refusal. */
static void serve(struct agent *a)
{
	int64_t next_hb = 0, next_logs = 0;
	while (!aidc_stop_signal()) {
		/* Wake for new orders and for children reaching exec (their start
		 * pipes close), so a start is reported without waiting for the tick. */
		struct pollfd p[2 + AGENT_POLL_STARTS] = {{.fd = a->wake[0], .events = POLLIN},
							  {.fd = a->notify[0], .events = POLLIN}};
		nfds_t np = 2;
		for (size_t i = 0; i < a->ntasks && np < AIDC_ARRAY_LEN(p); i++)
			if (a->tasks[i].start_fd >= 0)
				p[np++] = (struct pollfd){.fd = a->tasks[i].start_fd, .events = POLLIN};
		poll(p, np, 50);
		take_orders(a);
		/* Before any report or heartbeat can name the tasks just launched. */
		if (a->state_dirty)
			agent_save_state(a);
		agent_check_starts(a);
		agent_reap(a);
		agent_enforce_limits(a);
		agent_collect_cgroups(a);
		agent_check_disk(a);
		agent_check_health(a);
		int64_t now = agent_mono_ms();
		if (a->problem_changed) {
			a->problem_changed = false;
			next_hb = 0; /* tell the controller now */
		}
		bool logs_due = now >= next_logs;
		if (logs_due)
			next_logs = now + 300;
		agent_report_all(a, logs_due);
		if (a->need_register) {
			if (!reregister(a))
				break;
		} else if (now >= next_hb) {
			heartbeat(a);
			next_hb = now + a->heartbeat_s * 1000;
		}
		if (a->state_dirty)
			agent_save_state(a);
	}
}

/* Frees what setup and registration made (agent_run's error path). */
static void teardown(struct agent *a)
{
	api_client_release(&a->cl);
	if (a->notify[0] >= 0) {
		close(a->notify[0]);
		close(a->notify[1]);
	}
	if (a->wake[0] >= 0) {
		close(a->wake[0]);
		close(a->wake[1]);
	}
	for (size_t i = 0; i < a->ntasks; i++)
		agent_task_release(&a->tasks[i]);
	aidc_free(a->tasks);
	aidc_free(a->gc);
	aidc_free(a->spare);
}

int agent_run(const struct agent_config *cfg, struct aidc_err *e)
{
	struct agent a;
	memset(&a, 0, sizeof a);
	a.cfg = *cfg;
	a.wake[0] = a.wake[1] = -1;
	a.notify[0] = a.notify[1] = -1;
	a.health.fd = -1;
	a.heartbeat_s = 1;
	a.net_log.interval_ms = 30000;
	pthread_mutex_init(&a.mu, NULL);
	int rc = setup(&a, e);
	if (rc)
		goto out;
	aidc_stop_signals_install();
	if ((rc = discover_devices(&a, e)) != 0)
		goto out;
	/* Register before anything else (retrying while the controller starts). */
	while (!aidc_stop_signal()) {
		struct aidc_err re = {0};
		if (do_register(&a, &re) == 0)
			break;
		if (fatal_registration(re.code)) {
			rc = aidc_errf(e, re.code, "registration refused: %s", re.msg);
			goto out;
		}
		/* --background: return, saying why it is not registered yet. */
		aidc_daemon_ready("not registered yet (%s); it keeps trying, see its log", re.msg);
		aidc_log_limited(&a.net_log, AIDC_LOG_WARN, "agent %s: registration failed, retrying: %s",
				 a.cfg.name, re.msg);
		agent_nap_ms(300);
	}
	aidc_daemon_ready(NULL);
	pthread_t th;
	pthread_create(&th, NULL, fetcher, &a);
	serve(&a);
	aidc_log(AIDC_LOG_INFO, "agent %s: signal %d, stopping tasks", a.cfg.name, aidc_stop_signal());
	a.stop = true;
	agent_health_stop(&a);
	shutdown_tasks(&a);
	/* The fetcher may sit in a long-poll for up to its timeout: don't wait for it. */
	pthread_detach(th);
	aidc_pidfile_remove();
	/* Exit here rather than unwind: the fetcher may still be inside libcurl,
	 * and every task has been stopped and reported above. */
	_exit(0);
out:
	teardown(&a);
	return rc;
}
