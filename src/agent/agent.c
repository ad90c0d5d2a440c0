/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node agent's protocol and task table.
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
 * Restart: the running tasks are kept in <state_dir>/tasks.json (pid plus
 * the kernel's start time of the pid, so a reused pid is never mistaken for
 * the task). A restarted agent adopts those still alive; the exit status of
 * an adopted task cannot be observed (it is not our child), so its end is
 * reported as "lost" with a message. The file is rewritten (write + rename,
 * no fsync: tasks do not survive a reboot either) once per batch of launch
 * orders, before any report or heartbeat names the new tasks, and after
 * every batch of exits.
 *
 * Throughput: the loop never waits for a child to reach exec (the start
 * pipe is polled; a failed start is reported when the child is reaped), the
 * reports of one iteration go in one batched request, and output files are
 * recycled instead of created (see recycle_file).
 *
 * -o/-e: when a task ends, a copier process running as the job's user
 * appends/writes the agent's copy of its output to the requested paths
 * (Slurm's %j %t %u %x %N %% substitutions); the exit is reported after the
 * copy, so the files are complete when the job is.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "api/api.h"
#include "util/util.h"

enum tstate { T_RUNNING, T_EXITED, T_DONE };

struct task {
	int64_t job;
	uint32_t index, attempt;
	enum tstate state;
	pid_t pid;
	int exit_code, term_signal;
	bool timed_out, failed, tombstone;
	char message[256];
	int64_t start_ms, limit_s, grace_s;
	int64_t term_ms;   /* when SIGTERM was sent, 0 if not */
	char out_path[AIDC_MAX_PATH_BYTES], err_path[AIDC_MAX_PATH_BYTES];
	int64_t out_off, err_off;
	bool running_reported;
	struct agent_cgroup cg;
	uint64_t mem_mib;     /* the task's memory limit, for messages */
	uint64_t start_ticks; /* kernel start time of pid (identity across pid reuse) */
	bool adopted, lost;   /* from a previous run of the agent / ended unobserved */
	/* -o/-e (heap strings, NULL = not asked) and who writes them */
	char *stdout_req, *stderr_req, *user, *cwd;
	uint32_t uid, gid;
	uint32_t world_size;
	pid_t copy_pid[2]; /* copiers still running, 0 = none */
	/* T_DONE: kept (so a resent launch is still ignored) until every work
	 * poll begun before the exit report was acknowledged has been taken. */
	uint64_t done_poll;
	/* Between fork and exec (agent_proc_spawn_async): the start report pipe
	 * and the program, for its error message; -1 / NULL once settled. */
	int start_fd;
	char *exe;
};

struct order {
	json_t *launch; /* one launch object (owned) or NULL */
	int64_t job;
	uint32_t task, attempt;
	struct order *next;
};

struct agent {
	struct agent_config cfg;
	char secret[AIDC_MAX_SECRET_BYTES + 1];
	struct api_client cl;
	char reg_json[64 * 1024];
	struct task *tasks;
	size_t ntasks, cap_tasks;
	int64_t heartbeat_s;
	bool need_register;
	/* fetcher -> main */
	pthread_mutex_t mu;
	struct order *head, *tail;
	uint64_t polls_begun, polls_queued; /* work polls sent / answered and queued */
	uint64_t polls_taken;               /* main: polls whose orders take_orders drained */
	int wake[2];
	volatile bool stop;
	struct agent_limits lim;
	struct agent_cgroup *gc; /* cgroups of ended tasks still being emptied */
	size_t ngc, cap_gc;
	bool state_dirty;        /* tasks.json is behind the task table */
	bool no_batch;  /* the controller has no batched status route: report one by one */
	bool batch_404; /* the last batch was answered 404 */
	uint64_t *spare; /* numbers of the recycled log files tasks/spare.N */
	size_t nspare, cap_spare;
	uint64_t spare_seq; /* next N */
};

/* Recycled output files kept for new tasks (see recycle_file). */
#define AGENT_SPARE_LOGS 512

/* Start pipes the main loop polls besides its wake pipe (more pending starts
 * are still checked every iteration, only not woken for). */
#define AGENT_POLL_STARTS 64

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

void agent_config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->controller_host, sizeof c->controller_host, "127.0.0.1");
	c->controller_port = 6820;
	if (gethostname(c->name, sizeof c->name) != 0 || !c->name[0])
		snprintf(c->name, sizeof c->name, "node");
	c->name[sizeof c->name - 1] = '\0';
	snprintf(c->addr, sizeof c->addr, "127.0.0.1");
	snprintf(c->state_dir, sizeof c->state_dir, "/var/lib/aidc/agent");
	snprintf(c->secret_file, sizeof c->secret_file, "/var/lib/aidc/secret");
	snprintf(c->devices, sizeof c->devices, "none");
	snprintf(c->limits, sizeof c->limits, "auto");
}

/* ---- calls to the controller ------------------------------------------------------ */

static int call(struct agent *a, struct api_client *cl, const char *method, const char *path,
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
	return api_client_call(cl, out, e);
}

static int post_json(struct agent *a, const char *path, const char *body, struct api_call *c,
		     struct aidc_err *e)
{
	int rc = call(a, &a->cl, "POST", path, body, strlen(body), NULL, 10000, c, e);
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

static int do_register(struct agent *a, struct aidc_err *e)
{
	struct agent_device devs[AIDC_MAX_DEVICES_PER_NODE];
	uint32_t ndev = 0;
	int rc = agent_devices_discover(a->cfg.devices, devs, &ndev, e);
	if (rc)
		return rc;
	struct aidc_buf b;
	aidc_buf_init(&b, sizeof a->reg_json - 1);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
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
		aidc_json_obj_end(&w);
	}
	aidc_json_arr_end(&w);
	running_json(a, &w);
	aidc_json_obj_end(&w);
	if ((rc = aidc_json_finish(&w)) != 0) {
		aidc_buf_release(&b);
		return aidc_errf(e, rc, "registration document too large");
	}
	struct api_call c;
	rc = post_json(a, "/v1/agents/register", aidc_buf_str(&b), &c, e);
	aidc_buf_release(&b);
	if (rc == 0) {
		json_t *r = json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, NULL);
		json_int_t hb = r ? json_integer_value(json_object_get(r, "heartbeat_s")) : 0;
		a->heartbeat_s = hb > 0 ? hb : 1;
		json_decref(r);
		a->need_register = false;
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

static void queue_work(struct agent *a, json_t *root)
{
	json_t *arr = json_object_get(root, "launch");
	size_t i;
	json_t *it;
	json_array_foreach(arr, i, it)
	{
		struct order *o = aidc_calloc(1, sizeof *o);
		o->launch = json_incref(it);
		queue_order(a, o);
	}
	arr = json_object_get(root, "kill");
	json_array_foreach(arr, i, it)
	{
		struct order *o = aidc_calloc(1, sizeof *o);
		o->job = json_integer_value(json_object_get(it, "job"));
		o->task = (uint32_t)json_integer_value(json_object_get(it, "task"));
		o->attempt = (uint32_t)json_integer_value(json_object_get(it, "attempt"));
		queue_order(a, o);
	}
}

static void *fetcher(void *arg)
{
	struct agent *a = arg;
	struct api_client cl;
	struct aidc_err e = {0};
	if (api_client_init(&cl, NULL, a->cfg.controller_host, a->cfg.controller_port, a->secret,
			    &e) != 0) {
		aidc_log(AIDC_LOG_ERROR, "agent: %s", e.msg);
		return NULL;
	}
	char path[AIDC_MAX_NAME_BYTES + 64];
	snprintf(path, sizeof path, "/v1/nodes/%s/work?wait=20", a->cfg.name);
	while (!a->stop) {
		struct api_call c;
		aidc_err_clear(&e);
		pthread_mutex_lock(&a->mu);
		a->polls_begun++;
		pthread_mutex_unlock(&a->mu);
		int rc = call(a, &cl, "GET", path, NULL, 0, NULL, 30000, &c, &e);
		if (rc == 0 && c.status == 200) {
			json_t *root = json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, NULL);
			if (root)
				queue_work(a, root);
			json_decref(root);
		} else {
			/* Controller down or we are unknown to it: the main loop re-registers. */
			nap_ms(300);
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

static struct task *find_task(struct agent *a, int64_t job, uint32_t index, uint32_t attempt)
{
	for (size_t i = 0; i < a->ntasks; i++) {
		struct task *t = &a->tasks[i];
		if (t->job == job && t->index == index && t->attempt == attempt)
			return t;
	}
	return NULL;
}

static struct task *new_task(struct agent *a, int64_t job, uint32_t index, uint32_t attempt)
{
	AIDC_GROW(a->tasks, a->cap_tasks, a->ntasks + 1);
	struct task *t = &a->tasks[a->ntasks++];
	memset(t, 0, sizeof *t);
	t->job = job;
	t->index = index;
	t->attempt = attempt;
	t->pid = -1;
	t->start_fd = -1;
	agent_cgroup_init(&t->cg);
	return t;
}

static void task_release(struct task *t)
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
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int64_t jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* Environment of a task: ours first (getenv returns the first match), then the
 * job's entries whose names we do not set. */
static char **build_env(struct agent *a, json_t *l, const struct passwd *pw, size_t *count)
{
	static const char *const ours[] = {"AIDC_JOB_ID", "AIDC_JOB_NAME", "AIDC_TASK_INDEX",
					   "AIDC_ATTEMPT", "AIDC_NODE", "RANK", "LOCAL_RANK",
					   "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
					   "MASTER_PORT", "AIDC_VISIBLE_DEVICES",
					   "CUDA_VISIBLE_DEVICES", "HOME", "USER", "LOGNAME", "SHELL"};
	json_t *jenv = json_object_get(l, "env");
	size_t cap = AIDC_ARRAY_LEN(ours) + json_array_size(jenv) + 2;
	char **env = aidc_calloc(cap, sizeof *env);
	size_t n = 0;
	char devs[AIDC_MAX_DEVICES_PER_NODE * 4 + 1] = "";
	size_t dl = 0;
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(l, "devices"), i, it)
		dl += (size_t)snprintf(devs + dl, sizeof devs - dl, "%s%" JSON_INTEGER_FORMAT,
				       i ? "," : "", json_integer_value(it));
	char tmp[AIDC_MAX_ARG_BYTES];
#define PUT(...)                                                                              \
	do {                                                                                  \
		snprintf(tmp, sizeof tmp, __VA_ARGS__);                                       \
		env[n++] = aidc_strdup(tmp);                                                  \
	} while (0)
	PUT("AIDC_JOB_ID=%" PRId64, jint(l, "job"));
	PUT("AIDC_JOB_NAME=%s", jstr(l, "name"));
	PUT("AIDC_TASK_INDEX=%" PRId64, jint(l, "task"));
	PUT("AIDC_ATTEMPT=%" PRId64, jint(l, "attempt"));
	PUT("AIDC_NODE=%s", a->cfg.name);
	PUT("RANK=%" PRId64, jint(l, "task"));
	PUT("LOCAL_RANK=%" PRId64, jint(l, "local_rank"));
	PUT("WORLD_SIZE=%" PRId64, jint(l, "world_size"));
	PUT("LOCAL_WORLD_SIZE=%" PRId64, jint(l, "local_world_size"));
	PUT("MASTER_ADDR=%s", jstr(l, "master_addr"));
	PUT("MASTER_PORT=%" PRId64, jint(l, "master_port"));
	PUT("AIDC_VISIBLE_DEVICES=%s", devs);
	if (strcasecmp(jstr(l, "vendor"), "nvidia") == 0)
		PUT("CUDA_VISIBLE_DEVICES=%s", devs);
	PUT("HOME=%s", pw->pw_dir);
	PUT("USER=%s", pw->pw_name);
	PUT("LOGNAME=%s", pw->pw_name);
	PUT("SHELL=%s", pw->pw_shell);
	bool have_path = false;
	json_array_foreach(jenv, i, it)
	{
		const char *kv = json_string_value(it);
		const char *eq = kv ? strchr(kv, '=') : NULL;
		if (!eq)
			continue;
		bool clash = false;
		for (size_t k = 0; k < AIDC_ARRAY_LEN(ours) && !clash; k++)
			clash = strlen(ours[k]) == (size_t)(eq - kv) &&
				!strncmp(ours[k], kv, (size_t)(eq - kv));
		if (clash)
			continue;
		have_path |= !strncmp(kv, "PATH=", 5);
		env[n++] = aidc_strdup(kv);
	}
	if (!have_path)
		PUT("PATH=/usr/local/bin:/usr/bin:/bin");
#undef PUT
	env[n] = NULL;
	*count = n;
	return env;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		aidc_free(v[i]);
	aidc_free(v);
}

/* ---- recycled log files ----------------------------------------------------------------
 *
 * Every task needs two output files. Creating a file is the agent's largest
 * per-task cost under load (ext4 inode allocation: ~40% of an agent's CPU in
 * the throughput bench), so the files of reported tasks are renamed to
 * <state_dir>/tasks/spare.N and a new task takes one by rename + O_TRUNC: no
 * inode is allocated while the pool has files. The pool is bounded; files
 * beyond it are removed. A restarted agent takes over the spare files it
 * finds.
 *
 * Only files no process can still write are recycled: a stray process of an
 * old task holding its stdout would otherwise write into a later task's
 * (maybe another user's) output. So only with cgroup limits (every process of
 * a task, escapees of its process group included, is in its cgroup and is
 * killed when the leader ends) and once the task's cgroup has been removed
 * (empty). With rlimits or no limits the files stay where they are. */

/* Whether the files of a reported task may be recycled (see above). */
static bool recyclable(const struct agent *a, const struct task *t)
{
	if (a->lim.kind != AGENT_LIMITS_CGROUP1 && a->lim.kind != AGENT_LIMITS_CGROUP2)
		return false;
	char name[64];
	snprintf(name, sizeof name, "%" PRId64 ".%u.%u", t->job, t->attempt, t->index);
	for (size_t i = 0; i < a->ngc; i++)
		if (!strcmp(a->gc[i].name, name))
			return false; /* processes may remain until it is removed */
	return true;
}

static void spare_path(const struct agent *a, uint64_t n, char *out, size_t cap)
{
	snprintf(out, cap, "%.3900s/tasks/spare.%" PRIu64, a->cfg.state_dir, n);
}

/* The output file of a task that was reported done: into the pool, or gone. */
static void recycle_file(struct agent *a, const char *path)
{
	if (a->nspare < AGENT_SPARE_LOGS) {
		char sp[AIDC_MAX_PATH_BYTES + 32];
		uint64_t n = a->spare_seq++;
		spare_path(a, n, sp, sizeof sp);
		if (rename(path, sp) == 0) {
			AIDC_GROW(a->spare, a->cap_spare, a->nspare + 1);
			a->spare[a->nspare++] = n;
		}
		return;
	}
	unlink(path);
}

/* Takes over the spare files of a previous run (setup); extra ones are removed. */
static void adopt_spares(struct agent *a)
{
	char dir[AIDC_MAX_PATH_BYTES + 16];
	snprintf(dir, sizeof dir, "%.4000s/tasks", a->cfg.state_dir);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		int64_t v;
		if (strncmp(de->d_name, "spare.", 6) != 0 ||
		    aidc_parse_i64(de->d_name + 6, 0, INT64_MAX - 1, &v) != 0)
			continue;
		uint64_t n = (uint64_t)v;
		if (a->nspare < AGENT_SPARE_LOGS) {
			AIDC_GROW(a->spare, a->cap_spare, a->nspare + 1);
			a->spare[a->nspare++] = n;
		} else {
			char sp[AIDC_MAX_PATH_BYTES + 32];
			spare_path(a, n, sp, sizeof sp);
			unlink(sp);
		}
		a->spare_seq = AIDC_MAX(a->spare_seq, n + 1);
	}
	closedir(d);
}

static int open_log(struct agent *a, const char *path, struct aidc_err *e)
{
	while (a->nspare > 0) {
		char sp[AIDC_MAX_PATH_BYTES + 32];
		spare_path(a, a->spare[--a->nspare], sp, sizeof sp);
		if (rename(sp, path) == 0)
			break; /* opened with O_TRUNC below: nothing of the old task is left */
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		aidc_errf(e, AIDC_E_IO, "%s: %s", path, strerror(errno));
	return fd;
}

/* Puts the task's request into effect: its cgroup (created now, entered by the
 * child before exec) or rlimits. */
static int apply_limits(struct agent *a, struct task *t, json_t *l, struct agent_launch *al,
			struct aidc_err *e)
{
	int64_t mem = jint(l, "mem_mib"), cpus = jint(l, "cpus");
	struct agent_task_req req = {
		.mem_mib = mem > 0 && (uint64_t)mem <= AIDC_MAX_NODE_MEM_MIB ? (uint64_t)mem : 0,
		.cpus = cpus > 0 && cpus <= AIDC_MAX_NODE_CPU_MILLI / 1000 ? (uint32_t)cpus : 0,
		.pids = AGENT_TASK_PIDS_MAX,
	};
	t->mem_mib = req.mem_mib;
	if (a->lim.kind == AGENT_LIMITS_RLIMIT) {
		/* Address space, not resident memory: generous for most programs but
		 * it can refuse big virtual reservations (some runtimes make them). */
		al->rlimit_as_bytes = req.mem_mib << 20;
		/* Counted per user on the node, not per task: only a fork-bomb guard. */
		al->rlimit_nproc = req.pids;
		return 0;
	}
	char name[64];
	snprintf(name, sizeof name, "%" PRId64 ".%u.%u", t->job, t->attempt, t->index);
	int rc = agent_cgroup_create(&a->lim, name, &req, &t->cg, e);
	if (rc == 0) {
		al->cgroup_fds = t->cg.procs_fd;
		al->ncgroup_fds = AGENT_CG_NCTL;
	}
	return rc;
}

/* Launches one task; on failure the task is marked failed with the reason. */
static void launch(struct agent *a, json_t *l)
{
	int64_t job = jint(l, "job");
	uint32_t index = (uint32_t)jint(l, "task"), attempt = (uint32_t)jint(l, "attempt");
	if (job <= 0 || find_task(a, job, index, attempt))
		return; /* exactly once: a resent order, or killed before it arrived */
	struct task *t = new_task(a, job, index, attempt);
	t->limit_s = jint(l, "time_limit_s");
	t->grace_s = jint(l, "kill_grace_s");
	t->start_ms = mono_ms();
	snprintf(t->out_path, sizeof t->out_path, "%.3900s/tasks/%" PRId64 ".%u.%u.out",
		 a->cfg.state_dir, job, attempt, index);
	snprintf(t->err_path, sizeof t->err_path, "%.3900s/tasks/%" PRId64 ".%u.%u.err",
		 a->cfg.state_dir, job, attempt, index);
	struct aidc_err e = {0};
	uint32_t uid = (uint32_t)jint(l, "uid"), gid = (uint32_t)jint(l, "gid");
	char **env = NULL, **argv = NULL;
	char script[AIDC_MAX_PATH_BYTES];
	int ofd = -1, efd = -1;
	struct passwd pw, *pwr = NULL;
	char pwbuf[4096];
	bool root = geteuid() == 0;
	if (uid == 0 && !a->cfg.allow_root_jobs) {
		aidc_errf(&e, AIDC_E_PERM, "this agent does not run jobs as root");
		goto fail;
	}
	if (!root && uid != geteuid()) {
		aidc_errf(&e, AIDC_E_PERM, "the agent runs as uid %u and cannot run tasks as uid %u",
			  (unsigned)geteuid(), uid);
		goto fail;
	}
	if (getpwuid_r(uid, &pw, pwbuf, sizeof pwbuf, &pwr) != 0 || !pwr) {
		aidc_errf(&e, AIDC_E_NOTFOUND, "uid %u has no account on node %s", uid, a->cfg.name);
		goto fail;
	}
	if ((ofd = open_log(a, t->out_path, &e)) < 0 || (efd = open_log(a, t->err_path, &e)) < 0)
		goto fail;
	t->uid = uid;
	t->gid = gid;
	t->user = aidc_strdup(pwr->pw_name);
	t->world_size = (uint32_t)jint(l, "world_size");
	const char *req_out = jstr(l, "stdout_path"), *req_err = jstr(l, "stderr_path");
	t->stdout_req = *req_out ? aidc_strdup(req_out) : NULL;
	t->stderr_req = *req_err ? aidc_strdup(req_err) : NULL;
	size_t nenv;
	env = build_env(a, l, pwr, &nenv);
	json_t *cmd = json_object_get(l, "command");
	const char *text = json_string_value(json_object_get(l, "script"));
	size_t argc = text ? 2 : json_array_size(cmd);
	if (argc == 0) {
		aidc_errf(&e, AIDC_E_INVAL, "no command");
		goto fail;
	}
	argv = aidc_calloc(argc + 1, sizeof *argv);
	const char *exe;
	if (text) {
		snprintf(script, sizeof script, "%.3900s/tasks/%" PRId64 ".%u.%u.sh",
			 a->cfg.state_dir, job, attempt, index);
		int sfd = open(script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0500);
		bool ok = sfd >= 0 && write(sfd, text, strlen(text)) == (ssize_t)strlen(text) &&
			  (!root || fchown(sfd, uid, gid) == 0);
		if (sfd >= 0)
			close(sfd);
		if (!ok) {
			aidc_errf(&e, AIDC_E_IO, "cannot write the batch script %s", script);
			goto fail;
		}
		/* A script with #! runs through its interpreter; others through /bin/sh. */
		bool shebang = text[0] == '#' && text[1] == '!';
		exe = shebang ? script : "/bin/sh";
		argv[0] = aidc_strdup(shebang ? script : "sh");
		argv[1] = shebang ? NULL : aidc_strdup(script);
	} else {
		for (size_t i = 0; i < argc; i++)
			argv[i] = aidc_strdup(json_string_value(json_array_get(cmd, i)));
		exe = argv[0];
	}
	/* execve needs a path: resolve bare names on the job's PATH (or the default). */
	char resolved[AIDC_MAX_PATH_BYTES];
	if (!strchr(exe, '/')) {
		const char *path = "/usr/local/bin:/usr/bin:/bin";
		for (size_t i = 0; env[i]; i++)
			if (!strncmp(env[i], "PATH=", 5))
				path = env[i] + 5;
		char dirs[AIDC_MAX_ARG_BYTES];
		snprintf(dirs, sizeof dirs, "%s", path);
		char *save = NULL;
		bool found = false;
		for (char *d = strtok_r(dirs, ":", &save); d && !found;
		     d = strtok_r(NULL, ":", &save)) {
			snprintf(resolved, sizeof resolved, "%.2000s/%.2000s", d, exe);
			found = access(resolved, X_OK) == 0;
		}
		if (!found) {
			aidc_errf(&e, AIDC_E_NOTFOUND, "command not found: %s", exe);
			goto fail;
		}
		exe = resolved;
	}
	const char *cwd = jstr(l, "cwd");
	t->cwd = aidc_strdup(*cwd ? cwd : "/");
	struct agent_launch al = {
		.uid = uid, .gid = gid, .user = pwr->pw_name, .cwd = t->cwd,
		.exe = exe, .argv = argv, .envp = env, .out_fd = ofd, .err_fd = efd,
		.drop_privileges = root,
	};
	/* The loop does not wait for the child to reach exec (its cgroup join
	 * alone can take ~10 ms): check_starts() learns the outcome later. */
	if (apply_limits(a, t, l, &al, &e) != 0 ||
	    agent_proc_spawn_async(&al, &t->pid, &t->start_fd, &e) != 0)
		goto fail;
	t->exe = aidc_strdup(exe);
	agent_cgroup_close_fds(&t->cg);
	if (agent_proc_start_ticks(t->pid, &t->start_ticks) != 0)
		t->start_ticks = 0; /* exited already: reap() sees it */
	t->state = T_RUNNING;
	/* tasks.json is rewritten once per batch of orders (take_orders), before
	 * any report or heartbeat names this task. */
	a->state_dirty = true;
	close(ofd);
	close(efd);
	free_strv(env);
	free_strv(argv);
	return;
fail:
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	free_strv(env);
	free_strv(argv);
	agent_cgroup_close_fds(&t->cg);
	agent_cgroup_remove(&a->lim, &t->cg);
	t->state = T_EXITED;
	t->failed = true;
	t->exit_code = 127;
	snprintf(t->message, sizeof t->message, "%.255s", e.msg);
	/* Make the reason visible in the task's stderr too. */
	int fd = open(t->err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		dprintf(fd, "aidc agent: task could not start: %s\n", e.msg);
		close(fd);
	}
	aidc_log(AIDC_LOG_WARN, "job %" PRId64 " task %u: %s", job, index, e.msg);
}

/* Settles a start begun in launch(): returns true while the child has not
 * reached exec. A child that failed before exec is marked failed with the
 * reason (it exits 127 and reap() ends it). A kill that arrived meanwhile is
 * repeated once the task runs: the child may not have had its own process
 * group (setsid) yet when the first signal was sent. */
static bool start_pending(struct task *t)
{
	if (t->start_fd < 0)
		return false;
	struct aidc_err e = {0};
	int rc = agent_proc_spawn_result(&t->start_fd, t->cwd ? t->cwd : "/",
					 t->exe ? t->exe : "", &e);
	if (rc == 1)
		return true;
	aidc_free(t->exe);
	t->exe = NULL;
	if (rc < 0) {
		t->failed = true;
		snprintf(t->message, sizeof t->message, "%.255s", e.msg);
		int fd = open(t->err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
			      0600);
		if (fd >= 0) {
			dprintf(fd, "aidc agent: task could not start: %s\n", e.msg);
			close(fd);
		}
		aidc_log(AIDC_LOG_WARN, "job %" PRId64 " task %u: %s", t->job, t->index, e.msg);
	} else if (t->term_ms && t->state == T_RUNNING) {
		agent_proc_signal(t->pid, SIGTERM);
	}
	return false;
}

static void check_starts(struct agent *a)
{
	for (size_t i = 0; i < a->ntasks; i++)
		start_pending(&a->tasks[i]);
}

static void kill_task(struct agent *a, int64_t job, uint32_t index, uint32_t attempt)
{
	struct task *t = find_task(a, job, index, attempt);
	if (!t) {
		/* Killed before its launch order arrived: remember, and report it ended. */
		t = new_task(a, job, index, attempt);
		t->state = T_EXITED;
		t->term_signal = SIGTERM;
		t->tombstone = true;
		return;
	}
	if (t->state == T_RUNNING && t->term_ms == 0) {
		agent_proc_signal(t->pid, SIGTERM);
		t->term_ms = mono_ms();
	}
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
		if (o->launch)
			launch(a, o->launch);
		else
			kill_task(a, o->job, o->task, o->attempt);
		json_decref(o->launch);
		aidc_free(o);
		o = next;
	}
}

/* Appends one line from the agent to the task's stderr (pushed with its logs). */
static void note_err(const struct task *t, const char *line)
{
	int fd = open(t->err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		dprintf(fd, "aidc agent: %s\n", line);
		close(fd);
	}
}

/* Expands Slurm's filename patterns of -o/-e: %j job id, %t task index,
 * %u user, %N node name, %% a percent sign. Returns false if the result is
 * too long, empty or uses another pattern. */
static bool expand(const struct agent *a, const struct task *t, const char *pat, char *out,
		   size_t cap)
{
	size_t n = 0;
	for (const char *p = pat; *p; p++) {
		char tmp[AIDC_MAX_NAME_BYTES + 32];
		if (*p != '%') {
			tmp[0] = *p;
			tmp[1] = '\0';
		} else {
			switch (*++p) {
			case 'j':
				snprintf(tmp, sizeof tmp, "%" PRId64, t->job);
				break;
			case 't':
				snprintf(tmp, sizeof tmp, "%u", t->index);
				break;
			case 'u':
				snprintf(tmp, sizeof tmp, "%s", t->user ? t->user : "");
				break;
			case 'N':
				snprintf(tmp, sizeof tmp, "%s", a->cfg.name);
				break;
			case '%':
				snprintf(tmp, sizeof tmp, "%%");
				break;
			default:
				return false;
			}
		}
		size_t k = strlen(tmp);
		if (n + k + 1 > cap)
			return false;
		memcpy(out + n, tmp, k + 1);
		n += k;
	}
	return n > 0;
}

/* Starts the copiers that write the task's output to its -o/-e paths as the
 * user. Slurm's rule: without -e, stderr goes to the -o file too (here after
 * stdout, not interleaved). Several tasks of a job sharing one path (no %t)
 * append, each its whole output in one piece. */
static void start_copies(struct agent *a, struct task *t)
{
	if ((!t->stdout_req && !t->stderr_req) || !t->user || !t->cwd)
		return;
	char path[2][AIDC_MAX_PATH_BYTES];
	const char *req[2] = {t->stdout_req, t->stderr_req};
	for (int k = 0; k < 2; k++)
		if (req[k] && !expand(a, t, req[k], path[k], sizeof path[k])) {
			char m[AIDC_MAX_PATH_BYTES + 64];
			snprintf(m, sizeof m, "bad -o/-e pattern '%.3000s' (known: %%j %%t %%u %%N %%%%)",
				 req[k]);
			note_err(t, m);
			req[k] = NULL;
		}
	int fds[2] = {open(t->out_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW),
		      open(t->err_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
	bool merged = req[0] && (!t->stderr_req || (req[1] && !strcmp(path[0], path[1])));
	struct agent_launch who = {.uid = t->uid, .gid = t->gid, .user = t->user,
				   .cwd = t->cwd, .drop_privileges = geteuid() == 0};
	for (int k = 0; k < 2; k++) {
		if (!req[k] || (k == 1 && merged))
			continue;
		int src[2] = {fds[k], k == 0 && merged ? fds[1] : -1};
		bool append = t->world_size > 1 && !strstr(req[k], "%t");
		struct aidc_err e = {0};
		if (agent_proc_copy_as_user(&who, src, 2, path[k], append, &t->copy_pid[k], &e))
			aidc_log(AIDC_LOG_WARN, "job %" PRId64 " task %u: %s", t->job, t->index,
				 e.msg);
	}
	for (int k = 0; k < 2; k++)
		if (fds[k] >= 0)
			close(fds[k]);
}

/* The task's leader is gone (or, adopted, no longer alive): kill what is left
 * of it, tell an OOM kill apart, queue its cgroup for removal, and start the
 * -o/-e copies. */
static void task_ended(struct agent *a, struct task *t)
{
	if (t->pid > 0 && !t->lost)
		agent_proc_signal(t->pid, SIGKILL); /* stragglers in its group */
	agent_cgroup_kill(&a->lim, &t->cg);
	uint64_t ooms = agent_cgroup_oom_kills(&a->lim, &t->cg);
	if (ooms && !t->failed) {
		snprintf(t->message, sizeof t->message,
			 "out of memory: the task reached its memory limit (%" PRIu64
			 " MiB) and the kernel killed %" PRIu64 " of its processes",
			 t->mem_mib, ooms);
		note_err(t, t->message);
	}
	if (t->cg.name[0]) {
		AIDC_GROW(a->gc, a->cap_gc, a->ngc + 1);
		a->gc[a->ngc++] = t->cg;
		t->cg.name[0] = '\0';
	}
	t->state = T_EXITED;
	a->state_dirty = true;
	start_copies(a, t);
}

/* Removes the cgroups of ended tasks once their last processes are gone. */
static void collect_cgroups(struct agent *a)
{
	size_t k = 0;
	for (size_t i = 0; i < a->ngc; i++) {
		agent_cgroup_kill(&a->lim, &a->gc[i]);
		if (agent_cgroup_remove(&a->lim, &a->gc[i]) != 0)
			a->gc[k++] = a->gc[i];
	}
	a->ngc = k;
}

static void reap(struct agent *a)
{
	pid_t pid;
	int code, sig;
	while (agent_proc_reap(&pid, &code, &sig) == 1) {
		for (size_t i = 0; i < a->ntasks; i++) {
			struct task *t = &a->tasks[i];
			for (int k = 0; k < 2; k++)
				if (t->copy_pid[k] == pid) {
					t->copy_pid[k] = 0;
					if (code || sig)
						note_err(t, k ? "could not write the -e file as the user"
							      : "could not write the -o file as the user");
				}
			if (t->pid != pid || t->state != T_RUNNING || t->adopted)
				continue;
			start_pending(t); /* exited: settles, and tells a failed start apart */
			t->exit_code = code;
			t->term_signal = sig;
			task_ended(a, t);
		}
	}
	/* Adopted tasks are not our children: watch their identity instead. */
	for (size_t i = 0; i < a->ntasks; i++) {
		struct task *t = &a->tasks[i];
		uint64_t ticks;
		if (!t->adopted || t->state != T_RUNNING ||
		    (agent_proc_start_ticks(t->pid, &ticks) == 0 && ticks == t->start_ticks))
			continue;
		t->lost = true;
		snprintf(t->message, sizeof t->message,
			 "the task was adopted after an agent restart and ended; its exit status "
			 "cannot be observed");
		task_ended(a, t);
	}
}

static void enforce_limits(struct agent *a)
{
	int64_t now = mono_ms();
	for (size_t i = 0; i < a->ntasks; i++) {
		struct task *t = &a->tasks[i];
		if (t->state != T_RUNNING)
			continue;
		if (t->limit_s > 0 && t->term_ms == 0 && now - t->start_ms >= t->limit_s * 1000) {
			t->timed_out = true;
			agent_proc_signal(t->pid, SIGTERM);
			t->term_ms = now;
		}
		if (t->term_ms && now - t->term_ms >= t->grace_s * 1000)
			agent_proc_signal(t->pid, SIGKILL);
	}
}

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
		int rc = call(a, &a->cl, "POST", p, chunk, (size_t)n, "application/octet-stream",
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
	int rc = post_json(a, path, aidc_buf_str(&b), &c, &e);
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
		int rc = call(a, &a->cl, "POST", path, aidc_buf_str(&b), b.len, NULL, 10000, &c, &e);
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

static void report_all(struct agent *a, bool logs_due)
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
	aidc_free(p);
	/* Forget finished tasks once no launch order for them can be in flight,
	 * except tombstones, which guard against late launches. */
	size_t k = 0;
	for (size_t i = 0; i < a->ntasks; i++) {
		if (a->tasks[i].state != T_DONE || a->tasks[i].tombstone ||
		    a->tasks[i].done_poll > a->polls_taken) {
			a->tasks[k++] = a->tasks[i];
		} else {
			if (recyclable(a, &a->tasks[i])) {
				recycle_file(a, a->tasks[i].out_path);
				recycle_file(a, a->tasks[i].err_path);
			}
			task_release(&a->tasks[i]);
		}
	}
	a->ntasks = k;
}

/* ---- the state file (restart) ------------------------------------------------------ */

#define STATE_VERSION 1

static void state_path(const struct agent *a, char *out, size_t cap, bool tmp)
{
	snprintf(out, cap, "%.4000s/tasks.json%s", a->cfg.state_dir, tmp ? ".tmp" : "");
}

static void task_json(struct aidc_json *w, const struct task *t)
{
	aidc_json_obj_begin(w);
	aidc_json_ki64(w, "job", t->job);
	aidc_json_ki64(w, "task", t->index);
	aidc_json_ki64(w, "attempt", t->attempt);
	aidc_json_kstr(w, "state", t->state == T_RUNNING ? "running" : "exited");
	aidc_json_ki64(w, "pid", t->pid);
	aidc_json_ki64(w, "start_ticks", (int64_t)t->start_ticks);
	aidc_json_ki64(w, "start_ms", t->start_ms);
	aidc_json_ki64(w, "limit_s", t->limit_s);
	aidc_json_ki64(w, "grace_s", t->grace_s);
	aidc_json_ki64(w, "term_ms", t->term_ms);
	aidc_json_kbool(w, "timed_out", t->timed_out);
	aidc_json_kbool(w, "failed", t->failed);
	aidc_json_kbool(w, "lost", t->lost);
	aidc_json_ki64(w, "exit_code", t->exit_code);
	aidc_json_ki64(w, "signal", t->term_signal);
	aidc_json_kstr(w, "message", t->message);
	aidc_json_ki64(w, "mem_mib", (int64_t)t->mem_mib);
	aidc_json_kstr(w, "cgroup", t->cg.name);
	aidc_json_ki64(w, "out_off", t->out_off);
	aidc_json_ki64(w, "err_off", t->err_off);
	aidc_json_obj_end(w);
}

/* Rewrites tasks.json with every task not yet reported done. */
static void save_state(struct agent *a)
{
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_SMALL_FILE_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	aidc_json_ki64(&w, "v", STATE_VERSION);
	aidc_json_key(&w, "tasks");
	aidc_json_arr_begin(&w);
	for (size_t i = 0; i < a->ntasks; i++)
		if (a->tasks[i].state != T_DONE && !a->tasks[i].tombstone)
			task_json(&w, &a->tasks[i]);
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	char tmp[AIDC_MAX_PATH_BYTES + 16], dst[AIDC_MAX_PATH_BYTES + 16];
	state_path(a, tmp, sizeof tmp, true);
	state_path(a, dst, sizeof dst, false);
	bool ok = aidc_json_finish(&w) == 0;
	if (ok) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		ok = fd >= 0 && write(fd, aidc_buf_str(&b), b.len) == (ssize_t)b.len;
		if (fd >= 0)
			ok &= close(fd) == 0;
		ok = ok && rename(tmp, dst) == 0;
	}
	if (!ok)
		aidc_log(AIDC_LOG_WARN, "agent %s: cannot write %s: %s (a restart could not adopt "
			 "tasks)", a->cfg.name, dst, strerror(errno));
	aidc_buf_release(&b);
	a->state_dirty = false;
}

/* One entry of tasks.json: adopt it if its process is still the same one,
 * else report it lost (or with the exit it had when the agent died). */
static void restore_task(struct agent *a, json_t *o)
{
	int64_t job = jint(o, "job"), pid = jint(o, "pid");
	int64_t index = jint(o, "task"), attempt = jint(o, "attempt");
	if (job <= 0 || index < 0 || index >= AIDC_MAX_TASKS_PER_JOB || attempt < 0 ||
	    attempt > INT32_MAX || find_task(a, job, (uint32_t)index, (uint32_t)attempt))
		return;
	struct task *t = new_task(a, job, (uint32_t)index, (uint32_t)attempt);
	t->pid = pid > 1 && pid <= INT32_MAX ? (pid_t)pid : -1;
	t->start_ticks = (uint64_t)jint(o, "start_ticks");
	t->start_ms = jint(o, "start_ms");
	t->limit_s = jint(o, "limit_s");
	t->grace_s = jint(o, "grace_s");
	t->term_ms = jint(o, "term_ms");
	t->timed_out = json_is_true(json_object_get(o, "timed_out"));
	t->failed = json_is_true(json_object_get(o, "failed"));
	t->lost = json_is_true(json_object_get(o, "lost"));
	t->exit_code = (int)jint(o, "exit_code");
	t->term_signal = (int)jint(o, "signal");
	t->mem_mib = (uint64_t)jint(o, "mem_mib");
	t->out_off = jint(o, "out_off");
	t->err_off = jint(o, "err_off");
	snprintf(t->message, sizeof t->message, "%s", jstr(o, "message"));
	const char *cg = jstr(o, "cgroup");
	if (*cg && !strchr(cg, '/') && strcmp(cg, ".") && strcmp(cg, ".."))
		snprintf(t->cg.name, sizeof t->cg.name, "%s", cg);
	snprintf(t->out_path, sizeof t->out_path, "%.3900s/tasks/%" PRId64 ".%u.%u.out",
		 a->cfg.state_dir, job, t->attempt, t->index);
	snprintf(t->err_path, sizeof t->err_path, "%.3900s/tasks/%" PRId64 ".%u.%u.err",
		 a->cfg.state_dir, job, t->attempt, t->index);
	uint64_t ticks;
	if (!strcmp(jstr(o, "state"), "running")) {
		t->state = T_RUNNING;
		t->adopted = true;
		if (t->pid > 0 && t->start_ticks &&
		    agent_proc_start_ticks(t->pid, &ticks) == 0 && ticks == t->start_ticks) {
			aidc_log(AIDC_LOG_INFO, "agent %s: adopted job %" PRId64 " task %u (pid %d)",
				 a->cfg.name, job, t->index, (int)t->pid);
			return;
		}
		t->lost = true;
		snprintf(t->message, sizeof t->message,
			 "the task ended while its agent was down; its exit status is unknown");
		aidc_log(AIDC_LOG_WARN, "agent %s: job %" PRId64 " task %u: %s", a->cfg.name, job,
			 t->index, t->message);
		task_ended(a, t);
	} else {
		task_ended(a, t); /* exited before the agent died: report that exit */
	}
}

static void sweep_orphan(const char *name, void *arg)
{
	struct agent *a = arg;
	for (size_t i = 0; i < a->ntasks; i++)
		if (a->tasks[i].state == T_RUNNING && !strcmp(a->tasks[i].cg.name, name))
			return;
	for (size_t i = 0; i < a->ngc; i++)
		if (!strcmp(a->gc[i].name, name))
			return; /* an ended task's cgroup, already being removed */
	struct agent_cgroup cg;
	agent_cgroup_init(&cg);
	snprintf(cg.name, sizeof cg.name, "%s", name);
	aidc_log(AIDC_LOG_WARN, "agent %s: killing orphaned task cgroup %s", a->cfg.name, name);
	agent_cgroup_kill(&a->lim, &cg);
	AIDC_GROW(a->gc, a->cap_gc, a->ngc + 1);
	a->gc[a->ngc++] = cg;
}

/* Reads tasks.json of a previous run (if any), adopts or reports its tasks,
 * and kills task cgroups that belong to none of them. */
static void restore(struct agent *a)
{
	char path[AIDC_MAX_PATH_BYTES + 16];
	state_path(a, path, sizeof path, false);
	struct stat sb;
	if (stat(path, &sb) == 0 && sb.st_size > (off_t)AIDC_MAX_SMALL_FILE_BYTES) {
		aidc_log(AIDC_LOG_WARN, "agent %s: %s is over %u bytes: ignored", a->cfg.name, path,
			 AIDC_MAX_SMALL_FILE_BYTES);
	} else if (stat(path, &sb) == 0) {
		json_error_t je;
		json_t *root = json_load_file(path, 0, &je);
		if (!root || jint(root, "v") != STATE_VERSION)
			aidc_log(AIDC_LOG_WARN, "agent %s: %s: %s: ignored", a->cfg.name, path,
				 root ? "unknown version" : je.text);
		size_t i;
		json_t *it;
		json_array_foreach(root ? json_object_get(root, "tasks") : NULL, i, it)
			if (jint(root, "v") == STATE_VERSION)
				restore_task(a, it);
		json_decref(root);
	}
	agent_cgroup_list(&a->lim, sweep_orphan, a);
	save_state(a);
}

static void heartbeat(struct agent *a)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 1u << 20);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	running_json(a, &w);
	aidc_json_obj_end(&w);
	if (aidc_json_finish(&w) == 0) {
		char path[AIDC_MAX_NAME_BYTES + 32];
		snprintf(path, sizeof path, "/v1/agents/%s/heartbeat", a->cfg.name);
		struct api_call c;
		struct aidc_err e = {0};
		post_json(a, path, aidc_buf_str(&b), &c, &e);
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
	return 0;
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
	if (pipe2(a->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		return aidc_errf(e, AIDC_E_IO, "pipe: %s", strerror(errno));
	int rc = setup_limits(a, e);
	if (rc)
		return rc;
	agent_proc_init();
	adopt_spares(a);
	restore(a);
	return api_client_init(&a->cl, NULL, a->cfg.controller_host, a->cfg.controller_port,
			       a->secret, e);
}

/* On shutdown: stop every task the way a cancel would, and report them. */
static void shutdown_tasks(struct agent *a)
{
	for (size_t i = 0; i < a->ntasks; i++)
		if (a->tasks[i].state == T_RUNNING) {
			a->tasks[i].grace_s = AIDC_MIN(a->tasks[i].grace_s, 3);
			kill_task(a, a->tasks[i].job, a->tasks[i].index, a->tasks[i].attempt);
		}
	int64_t until = mono_ms() + 5000;
	while (any_running(a) && mono_ms() < until) {
		reap(a);
		enforce_limits(a);
		nap_ms(20);
	}
	/* Wait briefly for -o/-e copies, then report and clean up. */
	for (int64_t until2 = mono_ms() + 3000; mono_ms() < until2; nap_ms(20)) {
		reap(a);
		bool copying = false;
		for (size_t i = 0; i < a->ntasks; i++)
			copying |= a->tasks[i].copy_pid[0] || a->tasks[i].copy_pid[1];
		if (!copying)
			break;
	}
	report_all(a, true);
	for (int64_t until3 = mono_ms() + 1000; a->ngc && mono_ms() < until3; nap_ms(20)) {
		reap(a);
		collect_cgroups(a);
	}
	save_state(a);
	if (!any_running(a) && a->ngc == 0)
		agent_limits_release(&a->lim);
}

int agent_run(const struct agent_config *cfg, struct aidc_err *e)
{
	struct agent a;
	memset(&a, 0, sizeof a);
	a.cfg = *cfg;
	a.wake[0] = a.wake[1] = -1;
	a.heartbeat_s = 1;
	pthread_mutex_init(&a.mu, NULL);
	int rc = setup(&a, e);
	if (rc)
		goto out;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Register before anything else (retrying while the controller starts). */
	while (!stop_signal) {
		struct aidc_err re = {0};
		if (do_register(&a, &re) == 0)
			break;
		/* Bad input, refused credentials and device discovery failures (a
		 * missing NVML library, a failing plugin) do not heal by retrying. */
		if (re.code == AIDC_E_INVAL || re.code == AIDC_E_AUTH || re.code == AIDC_E_PERM ||
		    re.code == AIDC_E_DEVICE || re.code == AIDC_E_LIMIT) {
			rc = aidc_errf(e, re.code, "registration refused: %s", re.msg);
			goto out;
		}
		nap_ms(300);
	}
	pthread_t th;
	pthread_create(&th, NULL, fetcher, &a);
	int64_t next_hb = 0, next_logs = 0;
	while (!stop_signal) {
		/* Wake for new orders and for children reaching exec (their start
		 * pipes close), so a start is reported without waiting for the tick. */
		struct pollfd p[1 + AGENT_POLL_STARTS] = {{.fd = a.wake[0], .events = POLLIN}};
		nfds_t np = 1;
		for (size_t i = 0; i < a.ntasks && np < AIDC_ARRAY_LEN(p); i++)
			if (a.tasks[i].start_fd >= 0)
				p[np++] = (struct pollfd){.fd = a.tasks[i].start_fd, .events = POLLIN};
		poll(p, np, 50);
		take_orders(&a);
		/* Before any report or heartbeat can name the tasks just launched. */
		if (a.state_dirty)
			save_state(&a);
		check_starts(&a);
		reap(&a);
		enforce_limits(&a);
		collect_cgroups(&a);
		int64_t now = mono_ms();
		bool logs_due = now >= next_logs;
		if (logs_due)
			next_logs = now + 300;
		report_all(&a, logs_due);
		if (a.need_register) {
			struct aidc_err re = {0};
			if (do_register(&a, &re) != 0)
				nap_ms(200);
		} else if (now >= next_hb) {
			heartbeat(&a);
			next_hb = now + a.heartbeat_s * 1000;
		}
		if (a.state_dirty)
			save_state(&a);
	}
	aidc_log(AIDC_LOG_INFO, "agent %s: signal %d, stopping tasks", a.cfg.name, (int)stop_signal);
	a.stop = true;
	shutdown_tasks(&a);
	/* The fetcher may sit in a long-poll for up to its timeout: don't wait for it. */
	pthread_detach(th);
	/* Exit here rather than unwind: the fetcher may still be inside libcurl,
	 * and every task has been stopped and reported above. */
	_exit(0);
out:
	api_client_release(&a.cl);
	if (a.wake[0] >= 0) {
		close(a.wake[0]);
		close(a.wake[1]);
	}
	for (size_t i = 0; i < a.ntasks; i++)
		task_release(&a.tasks[i]);
	aidc_free(a.tasks);
	aidc_free(a.gc);
	aidc_free(a.spare);
	return rc;
}
