/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's task launcher (see agent.c for the protocol): a task's
 * environment, its limits (cgroup or rlimits), the launch itself (never
 * waiting for the child to reach exec: the start pipe is polled), start
 * checks, kills (SIGTERM, grace, SIGKILL of the group), reaping of tasks and
 * copiers, and time limits.
 */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "util/util.h"

/* Environment of a task: ours first (getenv returns the first match), then the
 * job's entries whose names we do not set. */
#define AGENT_SLURM_ENV_MAX 20

/*
 * The run-time part of a Slurm batch job's environment (aidc sbatch; the
 * submit-time part, SLURM_NTASKS, _SUBMIT_DIR, _MEM_PER_NODE, ..., comes
 * in the job's env): the job id, the node list (slurm_nodes of a
 * multi-node job, else this node's name), this node's number (the task's:
 * one aidc task per node; the batch script is node 0 / task 0), the
 * devices and CPUs here. Writes at most AGENT_SLURM_ENV_MAX entries (owned
 * by env) and returns how many.
 */
static size_t slurm_env(const struct agent *a, const struct api_launch *l,
			const struct passwd *pw, const char *devs, char **env)
{
	char tmp[AIDC_MAX_ARG_BYTES];
	size_t n = 0, ndev = l->devices.n;
#define PUT(...)                                                                              \
	do {                                                                                  \
		snprintf(tmp, sizeof tmp, __VA_ARGS__);                                       \
		env[n++] = aidc_strdup(tmp);                                                  \
	} while (0)
	PUT("SLURM_JOB_ID=%" PRId64, l->job);
	PUT("SLURM_JOBID=%" PRId64, l->job);
	const char *list = l->slurm_nodes && *l->slurm_nodes ? l->slurm_nodes : a->cfg.name;
	PUT("SLURM_JOB_NODELIST=%s", list);
	PUT("SLURM_NODELIST=%s", list);
	PUT("SLURMD_NODENAME=%s", a->cfg.name);
	PUT("SLURM_TOPOLOGY_ADDR=%s", a->cfg.name);
	PUT("SLURM_NODEID=%" PRId64, l->task);
	PUT("SLURM_PROCID=0");
	PUT("SLURM_LOCALID=0");
	PUT("SLURM_RESTART_COUNT=%" PRId64, l->attempt);
	PUT("SLURM_JOB_USER=%s", pw->pw_name);
	PUT("SLURM_JOB_UID=%" PRId64, l->uid);
	PUT("SLURM_JOB_GID=%" PRId64, l->gid);
	PUT("SLURM_CPUS_ON_NODE=%" PRId64, l->cpus ? l->cpus : 1);
	PUT("SLURM_GPUS_ON_NODE=%zu", ndev);
	if (ndev) {
		PUT("SLURM_JOB_GPUS=%s", devs);
		PUT("GPU_DEVICE_ORDINAL=%s", devs);
	}
#undef PUT
	return n;
}

/*
 * The folder of Slurm-named links to this binary (scontrol, sbatch) that a
 * batch job finds first on its PATH: slurm-bin beside the executable (the
 * build tree) or libexec/aidc/slurm-bin (an installed aidc). False when
 * neither holds an scontrol.
 */
static bool slurm_bin_dir(char *out, size_t n)
{
	char exe[AIDC_MAX_PATH_BYTES];
	ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (k <= 0)
		return false;
	exe[k] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	static const char *const where[] = {"%s/slurm-bin", "%s/../libexec/aidc/slurm-bin"};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(where); i++) {
		char probe[AIDC_MAX_PATH_BYTES + 64];
		snprintf(out, n, where[i], exe);
		snprintf(probe, sizeof probe, "%s/scontrol", out);
		if (access(probe, X_OK) == 0)
			return true;
	}
	return false;
}

/* "PATH=pre:path" (pre may be NULL); the caller frees it. */
static char *path_entry(const char *pre, const char *path)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 2 * AIDC_MAX_ARG_BYTES);
	if (aidc_buf_printf(&b, "PATH=%s%s%s", pre ? pre : "", pre ? ":" : "", path) != 0)
		aidc_buf_puts(&b, "PATH=/usr/local/bin:/usr/bin:/bin");
	return aidc_buf_detach(&b);
}

/* A share of one device (docs/live.md "Device shares"): AIDC_DEVICE_SHARE
 * (0.500), and on NVIDIA devices CUDA_MPS_ACTIVE_THREAD_PERCENTAGE, a hint
 * an MPS server honours; neither isolates the device's memory or time.
 * Writes at most 2 entries; returns how many. */
static size_t share_env(const struct api_launch *l, char **env)
{
	if (l->device_milli <= 0 || l->device_milli >= AIDC_DEVICE_MILLI || l->devices.n != 1)
		return 0;
	char tmp[64];
	size_t n = 0;
	snprintf(tmp, sizeof tmp, "AIDC_DEVICE_SHARE=%" PRId64 ".%03" PRId64,
		 l->device_milli / 1000, l->device_milli % 1000);
	env[n++] = aidc_strdup(tmp);
	bool own = false; /* the job's own value wins */
	for (size_t i = 0; i < l->env.n; i++)
		own |= !strncmp(l->env.v[i], "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=", 34);
	if (!own && l->vendor && strcasecmp(l->vendor, "nvidia") == 0) {
		int64_t pct = (l->device_milli + 5) / 10;
		snprintf(tmp, sizeof tmp, "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=%" PRId64,
			 pct < 1 ? 1 : pct);
		env[n++] = aidc_strdup(tmp);
	}
	return n;
}

/* The task's own variables: its device share (share_env) and its progress
 * file (AIDC_PROGRESS_FILE, docs/placement.md; NULL = none). At most 3. */
static size_t task_env(const struct api_launch *l, const char *progress, char **env)
{
	size_t n = share_env(l, env);
	if (progress) {
		char tmp[AIDC_MAX_PATH_BYTES + 32];
		snprintf(tmp, sizeof tmp, "AIDC_PROGRESS_FILE=%s", progress);
		env[n++] = aidc_strdup(tmp);
	}
	return n;
}

/* A remote controller's address, the job's credential (docs/security.md,
 * "Job credentials") and the CA for its users: srun and the step holders of a
 * batch job on this node reach the job's steps with them. At most 3. */
static size_t job_cred_env(const struct agent *a, const struct api_launch *l, char **env)
{
	char cred[API_JOB_CRED_MAX], tmp[sizeof a->job_cacert + sizeof a->cfg.controllers + 32];
	struct aidc_err e = {0};
	size_t n = 0;

	if (api_job_cred(a->secret, l->job, l->attempt, cred, &e) != 0)
		return 0;
	snprintf(tmp, sizeof tmp, "AIDC_JOB_CRED=%s", cred);
	env[n++] = aidc_strdup(tmp);
	explicit_bzero(cred, sizeof cred);
	/* every controller as URLs, or the one as the agent was given it */
	const char *host = a->cfg.controller_host;
	if (a->cfg.controllers[0])
		snprintf(tmp, sizeof tmp, "AIDC_JOB_CONTROLLER=%s", a->cfg.controllers);
	else
		snprintf(tmp, sizeof tmp, "AIDC_JOB_CONTROLLER=%s%s:%u",
			 strstr(host, "://") ? "" : "http://", host, (unsigned)a->cfg.controller_port);
	env[n++] = aidc_strdup(tmp);
	if (a->job_cacert[0]) {
		snprintf(tmp, sizeof tmp, "AIDC_JOB_CACERT=%s", a->job_cacert);
		env[n++] = aidc_strdup(tmp);
	}
	return n;
}

/* The variables the agent sets: a job's own values of them are dropped. */
static const char *const ours[] = {
    "AIDC_JOB_ID", "AIDC_JOB_NAME", "AIDC_TASK_INDEX", "AIDC_ATTEMPT", "AIDC_NODE", "RANK",
    "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
    "AIDC_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES", "HOME", "USER", "LOGNAME", "SHELL",
    "AIDC_DEVICE_SHARE", "AIDC_PROGRESS_FILE", "AIDC_JOB_CRED", "AIDC_JOB_CONTROLLER",
    "AIDC_JOB_CACERT"};

static char **build_env(struct agent *a, const struct api_launch *l, const struct passwd *pw,
			const char *progress, size_t *count)
{
	/* A plugin's own visibility variable (ABI v2 visible_env), set like CUDA_VISIBLE_DEVICES. */
	const char *vis = a->ndev && a->devs[0].visible_env[0] ? a->devs[0].visible_env : NULL;
	size_t cap = AIDC_ARRAY_LEN(ours) + l->env.n + 6 + AGENT_SLURM_ENV_MAX;
	char **env = aidc_calloc(cap, sizeof *env);
	size_t n = 0;
	char devs[AIDC_MAX_DEVICES_PER_NODE * 4 + 1] = "";
	size_t dl = 0;
	for (size_t i = 0; i < l->devices.n && dl < sizeof devs; i++)
		dl += (size_t)snprintf(devs + dl, sizeof devs - dl, "%s%s", i ? "," : "",
				       l->devices.v[i]);
	char tmp[AIDC_MAX_ARG_BYTES];
#define PUT(...)                                                                              \
	do {                                                                                  \
		snprintf(tmp, sizeof tmp, __VA_ARGS__);                                       \
		env[n++] = aidc_strdup(tmp);                                                  \
	} while (0)
	PUT("AIDC_JOB_ID=%" PRId64, l->job);
	PUT("AIDC_JOB_NAME=%s", l->name ? l->name : "");
	PUT("AIDC_TASK_INDEX=%" PRId64, l->task);
	PUT("AIDC_ATTEMPT=%" PRId64, l->attempt);
	PUT("AIDC_NODE=%s", a->cfg.name);
	PUT("RANK=%" PRId64, l->task);
	PUT("LOCAL_RANK=%" PRId64, l->local_rank);
	PUT("WORLD_SIZE=%" PRId64, l->world_size);
	PUT("LOCAL_WORLD_SIZE=%" PRId64, l->local_world_size);
	PUT("MASTER_ADDR=%s", l->master_addr ? l->master_addr : "");
	PUT("MASTER_PORT=%" PRId64, l->master_port);
	PUT("AIDC_VISIBLE_DEVICES=%s", devs);
	if (l->vendor && strcasecmp(l->vendor, "nvidia") == 0)
		PUT("CUDA_VISIBLE_DEVICES=%s", devs);
	if (vis)
		PUT("%s=%s", vis, devs);
	n += task_env(l, progress, env + n);
	PUT("HOME=%s", pw->pw_dir);
	PUT("USER=%s", pw->pw_name);
	PUT("LOGNAME=%s", pw->pw_name);
	PUT("SHELL=%s", pw->pw_shell);
	n += job_cred_env(a, l, env + n);
	if (l->slurm_env)
		n += slurm_env(a, l, pw, devs, env + n);
	/* A batch job's PATH starts with scontrol and sbatch (docs/slurm.md). */
	char sbin[AIDC_MAX_PATH_BYTES + 32];
	const char *pre = l->slurm_env && slurm_bin_dir(sbin, sizeof sbin) ? sbin : NULL;
	bool have_path = false, have_order = false;
	for (size_t i = 0; i < l->env.n; i++) {
		const char *kv = l->env.v[i];
		const char *eq = kv ? strchr(kv, '=') : NULL;
		if (!eq)
			continue;
		bool clash = vis && strlen(vis) == (size_t)(eq - kv) && !strncmp(vis, kv, strlen(vis));
		for (size_t k = 0; k < AIDC_ARRAY_LEN(ours) && !clash; k++)
			clash = strlen(ours[k]) == (size_t)(eq - kv) &&
				!strncmp(ours[k], kv, (size_t)(eq - kv));
		if (clash)
			continue;
		have_order |= !strncmp(kv, "CUDA_DEVICE_ORDER=", 18);
		bool is_path = !strncmp(kv, "PATH=", 5);
		have_path |= is_path;
		env[n++] = is_path ? path_entry(pre, kv + 5) : aidc_strdup(kv);
	}
	if (!have_path)
		env[n++] = path_entry(pre, "/usr/local/bin:/usr/bin:/bin");
	/* NVML numbers GPUs by PCI bus id, CUDA by default fastest first: make
	 * CUDA agree with the indexes the nvml provider gave (unless the job
	 * chose otherwise). */
	if (!have_order && dl > 0 && !strcmp(a->cfg.devices, "nvml"))
		PUT("CUDA_DEVICE_ORDER=PCI_BUS_ID");
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

/* Puts the task's request into effect: its cgroup (created now, entered by the
 * child before exec) or rlimits. */
static int apply_limits(struct agent *a, struct task *t, const struct api_launch *l,
			struct agent_launch *al, struct aidc_err *e)
{
	int64_t mem = l->mem_mib, cpus = l->cpus;
	/* The job's pids cap on this node is shared by its tasks here. */
	uint32_t here = l->local_world_size > 0 && l->local_world_size <= AIDC_MAX_TASKS_PER_NODE
				? (uint32_t)l->local_world_size
				: 1;
	struct agent_task_req req = {
		.mem_mib = mem > 0 && (uint64_t)mem <= AIDC_MAX_NODE_MEM_MIB ? (uint64_t)mem : 0,
		.cpus = cpus > 0 && cpus <= AIDC_MAX_NODE_CPU_MILLI / 1000 ? (uint32_t)cpus : 0,
		.pids = a->cfg.job_pids_max / here ? a->cfg.job_pids_max / here : 1,
	};
	if (req.mem_mib == 0 && (a->lim.kind == AGENT_LIMITS_CGROUP1 ||
				 a->lim.kind == AGENT_LIMITS_CGROUP2)) {
		req.mem_mib = agent_default_mem_mib(a, cpus);
		t->mem_default = true;
	}
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
	/* A cgroup of this name still being emptied (an orphan a restarted
	 * agent killed: its launch never reached exec, and the order came again)
	 * must not be collected with the new task inside: empty it now. */
	for (size_t i = 0; i < a->ngc; i++)
		if (!strcmp(a->gc[i].name, name)) {
			for (int k = 0; k < 50; k++) {
				agent_cgroup_kill(&a->lim, &a->gc[i]);
				if (agent_cgroup_remove(&a->lim, &a->gc[i]) == 0)
					break;
				agent_nap_ms(20);
			}
			a->gc[i] = a->gc[--a->ngc];
			break;
		}
	int rc = agent_cgroup_create(&a->lim, name, &req, &t->cg, e);
	if (rc == 0) {
		al->cgroup_fds = t->cg.procs_fd;
		al->ncgroup_fds = AGENT_CG_NCTL;
	}
	return rc;
}

/* Whether this agent may run a task as uid; *pwr (in pw/buf) is its account. */
static int check_user(const struct agent *a, uint32_t uid, struct passwd *pw, char *buf,
		      size_t cap, struct passwd **pwr, struct aidc_err *e)
{
	if (uid == 0 && !a->cfg.allow_root_jobs)
		return aidc_errf(e, AIDC_E_PERM, "this agent does not run jobs as root");
	if (geteuid() != 0 && uid != geteuid())
		return aidc_errf(e, AIDC_E_PERM,
				 "the agent runs as uid %u and cannot run tasks as uid %u",
				 (unsigned)geteuid(), uid);
	if (getpwuid_r(uid, pw, buf, cap, pwr) != 0 || !*pwr)
		return aidc_errf(e, AIDC_E_NOTFOUND, "uid %u has no account on node %s", uid,
				 a->cfg.name);
	return 0;
}

/* A launch that failed before the fork: the task ends failed with the reason
 * (also in its stderr). */
static void launch_failed(struct agent *a, struct task *t, const struct aidc_err *e)
{
	agent_cgroup_close_fds(&t->cg);
	agent_cgroup_remove(&a->lim, &t->cg);
	t->state = T_EXITED;
	t->failed = true;
	t->exit_code = 127;
	snprintf(t->message, sizeof t->message, "%.255s", e->msg);
	int fd = open(t->err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		dprintf(fd, "aidc agent: task could not start: %s\n", e->msg);
		close(fd);
	}
	aidc_log(AIDC_LOG_WARN, "job %" PRId64 " task %u: %s", t->job, t->index, e->msg);
}

/* Writes a batch script (mode 0500, the user's when the agent is root). */
static int write_script(const char *path, const char *text, bool root, uint32_t uid,
			uint32_t gid, struct aidc_err *e)
{
	int sfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0500);
	bool ok = sfd >= 0 && write(sfd, text, strlen(text)) == (ssize_t)strlen(text) &&
		  (!root || fchown(sfd, uid, gid) == 0);
	if (sfd >= 0)
		close(sfd);
	return ok ? 0 : aidc_errf(e, AIDC_E_IO, "cannot write the batch script %s: %s", path,
				  strerror(errno));
}

/* execve needs a path: resolves a bare name on the job's PATH (env, or the
 * default) into out. */
static int resolve_exe(const char *exe, char *const *env, char *out, size_t cap,
		       struct aidc_err *e)
{
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	for (size_t i = 0; env[i]; i++)
		if (!strncmp(env[i], "PATH=", 5))
			path = env[i] + 5;
	char dirs[AIDC_MAX_ARG_BYTES];
	snprintf(dirs, sizeof dirs, "%s", path);
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, cap, "%.2000s/%.2000s", d, exe);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return aidc_errf(e, AIDC_E_NOTFOUND, "command not found: %s", exe);
}

/* What a launch holds until it returns (the child has its own copies). */
struct launch_res {
	int ofd, efd;
	char **env, **argv; /* NULL-terminated, owned */
	char script[AIDC_MAX_PATH_BYTES];
	char resolved[AIDC_MAX_PATH_BYTES];
};

static void launch_res_release(struct launch_res *r)
{
	if (r->ofd >= 0)
		close(r->ofd);
	if (r->efd >= 0)
		close(r->efd);
	free_strv(r->env);
	free_strv(r->argv);
}

/* Whether task l of a batch job holds a further node of a multi-node
 * allocation: it runs the step holder (aidc srun's), not the script. */
static bool step_holder(const struct api_launch *l)
{
	return l->slurm_env && l->task > 0;
}

/* The step holder's command: srun in the folder of Slurm names (the holder
 * is then "srun" to agent_proc_signal_job, which leaves launchers out). */
static int holder_command(struct launch_res *r, const char **exe, struct aidc_err *e)
{
	char dir[AIDC_MAX_PATH_BYTES];
	if (!slurm_bin_dir(dir, sizeof dir))
		return aidc_errf(e, AIDC_E_NOTFOUND,
				 "no slurm-bin folder beside the aidc binary: the step holder of a "
				 "multi-node batch job cannot start");
	snprintf(r->resolved, sizeof r->resolved, "%.3900s/srun", dir);
	r->argv = aidc_calloc(3, sizeof *r->argv);
	r->argv[0] = aidc_strdup("srun");
	r->argv[1] = aidc_strdup("--aidc-step-holder");
	*exe = r->resolved;
	return 0;
}

/*
 * The program and arguments of a task into r->argv: its batch script (written
 * to the agent's task directory; with #! it runs through its interpreter,
 * others through /bin/sh), the step holder (step_holder), or its command, a
 * bare name resolved on the job's PATH. *exe points into r.
 */
static int task_command(struct agent *a, const struct task *t, const struct api_launch *l,
			struct launch_res *r, const char **exe, struct aidc_err *e)
{
	if (step_holder(l))
		return holder_command(r, exe, e);
	const char *text = l->script;
	size_t argc = text ? 2 + l->script_args.n : l->command.n;
	if (argc == 0)
		return aidc_errf(e, AIDC_E_INVAL, "no command");
	r->argv = aidc_calloc(argc + 1, sizeof *r->argv);
	if (text) {
		snprintf(r->script, sizeof r->script, "%.3900s/tasks/%" PRId64 ".%u.%u.sh",
			 a->cfg.state_dir, t->job, t->attempt, t->index);
		int rc = write_script(r->script, text, geteuid() == 0, t->uid, t->gid, e);
		if (rc != 0) {
			agent_disk_failed(a, errno);
			return rc;
		}
		bool shebang = text[0] == '#' && text[1] == '!';
		*exe = shebang ? r->script : "/bin/sh";
		r->argv[0] = aidc_strdup(shebang ? r->script : "sh");
		size_t a0 = 1;
		if (!shebang)
			r->argv[a0++] = aidc_strdup(r->script);
		for (size_t i = 0; i < l->script_args.n; i++) /* $1.. */
			r->argv[a0++] = aidc_strdup(l->script_args.v[i]);
	} else {
		for (size_t i = 0; i < argc; i++)
			r->argv[i] = aidc_strdup(l->command.v[i]);
		*exe = r->argv[0];
	}
	if (strchr(*exe, '/'))
		return 0;
	int rc = resolve_exe(*exe, r->env, r->resolved, sizeof r->resolved, e);
	*exe = r->resolved;
	return rc;
}

/* Everything of a launch after the order was accepted: account, log files,
 * environment, command, limits, then the asynchronous spawn. */
static int launch(struct agent *a, struct task *t, const struct api_launch *l,
		  struct launch_res *r, struct aidc_err *e)
{
	uint32_t uid = (uint32_t)l->uid, gid = (uint32_t)l->gid;
	if (a->problem[0]) /* the node drains for it; what was sent meanwhile fails clearly */
		return aidc_errf(e, AIDC_E_IO, "node %s cannot run tasks: %s", a->cfg.name,
				 a->problem);
	struct passwd pw, *pwr = NULL;
	char pwbuf[4096];
	int rc;
	if ((rc = check_user(a, uid, &pw, pwbuf, sizeof pwbuf, &pwr, e)) != 0)
		return rc;
	if ((r->ofd = agent_open_log(a, t->out_path, e)) < 0 ||
	    (r->efd = agent_open_log(a, t->err_path, e)) < 0)
		return AIDC_E_IO;
	t->uid = uid;
	t->gid = gid;
	t->user = aidc_strdup(pwr->pw_name);
	t->world_size = (uint32_t)l->world_size;
	/* A step holder's own output stays in the job's log (the -o file is the script's). */
	bool own = !step_holder(l);
	t->stdout_req = own && l->stdout_path && *l->stdout_path ? aidc_strdup(l->stdout_path)
								 : NULL;
	t->stderr_req = own && l->stderr_path && *l->stderr_path ? aidc_strdup(l->stderr_path)
								 : NULL;
	int um = l->umask ? aidc_parse_umask(l->umask) : -1;
	t->has_umask = um >= 0;
	t->umask = t->has_umask ? (mode_t)um : 022;
	size_t nenv;
	char prog[AIDC_MAX_PATH_BYTES];
	agent_progress_path(a, t->job, t->attempt, t->index, prog, sizeof prog);
	bool has_prog = agent_progress_create(a, prog, uid, gid);
	r->env = build_env(a, l, pwr, has_prog ? prog : NULL, &nenv);
	const char *exe;
	if ((rc = task_command(a, t, l, r, &exe, e)) != 0)
		return rc;
	t->cwd = aidc_strdup(l->cwd && *l->cwd ? l->cwd : "/");
	struct agent_launch al = {
		.uid = uid, .gid = gid, .user = pwr->pw_name, .cwd = t->cwd,
		.exe = exe, .argv = r->argv, .envp = r->env, .out_fd = r->ofd, .err_fd = r->efd,
		.drop_privileges = geteuid() == 0, .has_umask = t->has_umask,
		.umask = t->umask, .shim = true,
		.notify_fd = a->notify[1],
		.state_dir = a->cfg.state_dir,
	};
	/* The loop does not wait for the child to reach exec (its cgroup join
	 * alone can take ~10 ms): agent_check_starts() learns the outcome later. */
	if ((rc = apply_limits(a, t, l, &al, e)) != 0 ||
	    (rc = agent_proc_spawn_async(&al, &t->pid, &t->start_fd, &t->gate_fd, e)) != 0)
		return rc;
	t->exe = aidc_strdup(exe);
	return 0;
}

/* Launches one task; on failure the task is marked failed with the reason. */
void agent_launch_task(struct agent *a, const struct api_launch *l)
{
	int64_t job = l->job;
	uint32_t index = (uint32_t)l->task, attempt = (uint32_t)l->attempt;
	if (job <= 0 || agent_task_find(a, job, index, attempt))
		return; /* exactly once: a resent order, or killed before it arrived */
	struct task *t = agent_task_new(a, job, index, attempt);
	t->limit_s = l->time_limit_s;
	t->grace_s = l->kill_grace_s;
	t->sig = (int)l->signal;
	t->sig_before_s = l->signal_before_s;
	t->sig_batch = l->signal_batch;
	t->start_ms = agent_mono_ms();
	snprintf(t->out_path, sizeof t->out_path, "%.3900s/tasks/%" PRId64 ".%u.%u.out",
		 a->cfg.state_dir, job, attempt, index);
	snprintf(t->err_path, sizeof t->err_path, "%.3900s/tasks/%" PRId64 ".%u.%u.err",
		 a->cfg.state_dir, job, attempt, index);
	struct aidc_err e = {0};
	struct launch_res r = {.ofd = -1, .efd = -1};
	int rc = launch(a, t, l, &r, &e);
	launch_res_release(&r);
	if (rc != 0) {
		launch_failed(a, t, &e);
		return;
	}
	agent_cgroup_close_fds(&t->cg);
	if (agent_proc_start_ticks(t->pid, &t->start_ticks) != 0)
		t->start_ticks = 0; /* exited already: agent_reap() sees it */
	t->state = T_RUNNING;
	/* tasks.json is rewritten once per batch of orders (take_orders), before
	 * any report or heartbeat names this task. */
	a->state_dirty = true;
}

/* Settles a start begun in agent_launch_task(): returns true while the child has not
 * reached exec. A child that failed before exec is marked failed with the
 * reason (it exits 127 and agent_reap() ends it). A kill that arrived meanwhile is
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

void agent_check_starts(struct agent *a)
{
	for (size_t i = 0; i < a->ntasks; i++)
		start_pending(&a->tasks[i]);
}

void agent_kill_task(struct agent *a, int64_t job, uint32_t index, uint32_t attempt)
{
	struct task *t = agent_task_find(a, job, index, attempt);
	if (!t) {
		/* Killed before its launch order arrived: remember, and report it ended. */
		t = agent_task_new(a, job, index, attempt);
		t->state = T_EXITED;
		t->term_signal = SIGTERM;
		t->tombstone = true;
		return;
	}
	if (t->state == T_RUNNING && t->term_ms == 0) {
		agent_proc_signal(t->pid, SIGTERM);
		t->term_ms = agent_mono_ms();
	}
}


/* The task's leader is gone (or, adopted, no longer alive): kill what is left
 * of it, tell an OOM kill apart, queue its cgroup for removal, and start the
 * -o/-e copies. */
void agent_task_ended(struct agent *a, struct task *t)
{
	t->exited_ms = agent_mono_ms();
	/* A shim that reported its program's end still lives: its waited-for
	 * children's CPU time is the program's (the reaper's rusage is not
	 * there yet). */
	int64_t shim_cpu;
	if (t->cpu_usec < 0 && t->status_held && t->pid > 0 && !t->adopted &&
	    agent_proc_cpu_usec(t->pid, &shim_cpu) == 0)
		t->cpu_usec = shim_cpu;
	if (t->pid > 0 && !t->lost)
		agent_proc_signal(t->pid, SIGKILL); /* stragglers in its group */
	agent_cgroup_kill(&a->lim, &t->cg);
	uint64_t ooms = agent_cgroup_oom_kills(&a->lim, &t->cg);
	/* The cgroup counts every process of the task; rusage (set by the reaper)
	 * only the leader and what it waited for. */
	int64_t cg_cpu, cg_mem;
	agent_cgroup_usage(&a->lim, &t->cg, &cg_cpu, &cg_mem);
	if (cg_cpu >= 0)
		t->cpu_usec = cg_cpu;
	if (cg_mem >= 0)
		t->mem_peak_bytes = cg_mem;
	if (ooms && !t->failed) {
		snprintf(t->message, sizeof t->message,
			 "out of memory: the task reached its memory limit (%" PRIu64
			 " MiB%s) and the kernel killed %" PRIu64 " of its processes",
			 t->mem_mib, t->mem_default ? ", the node's default: ask with --mem" : "",
			 ooms);
		agent_note_err(t, t->message);
	}
	if (t->cg.name[0]) {
		AIDC_GROW(a->gc, a->cap_gc, a->ngc + 1);
		a->gc[a->ngc++] = t->cg;
		t->cg.name[0] = '\0';
	}
	t->state = T_EXITED;
	a->state_dirty = true;
	agent_output_finish(a, t);
}

/* Removes the cgroups of ended tasks once their last processes are gone. */
void agent_collect_cgroups(struct agent *a)
{
	size_t k = 0;
	for (size_t i = 0; i < a->ngc; i++) {
		agent_cgroup_kill(&a->lim, &a->gc[i]);
		if (agent_cgroup_remove(&a->lim, &a->gc[i]) != 0)
			a->gc[k++] = a->gc[i];
		else
			agent_recycle_left_files(a, &a->gc[i]);
	}
	a->ngc = k;
}

/* Shims whose program ended (their pid on the notify pipe, or, adopted, their
 * name): their status is taken, written to tasks.json, and only then are they
 * (and what is left of their group) killed. Returns how many. */
static size_t take_statuses(struct agent *a)
{
	pid_t pids[256];
	ssize_t n;
	size_t held = 0;
	while ((n = read(a->notify[0], pids, sizeof pids)) > 0) {
		for (size_t k = 0; k < (size_t)n / sizeof *pids; k++)
			for (size_t i = 0; i < a->ntasks; i++) {
				struct task *t = &a->tasks[i];
				if (t->pid != pids[k] || t->state != T_RUNNING || t->adopted ||
				    t->status_held)
					continue;
				if (agent_proc_shim_state(t->pid, &t->exit_code, &t->term_signal) ==
				    AGENT_SHIM_ENDED)
					held += t->status_held = true;
				break;
			}
	}
	/* Adopted tasks are not our children: their shims are asked by name. */
	for (size_t i = 0; i < a->ntasks; i++) {
		struct task *t = &a->tasks[i];
		uint64_t ticks;
		if (t->adopted && t->state == T_RUNNING && !t->status_held &&
		    agent_proc_start_ticks(t->pid, &ticks) == 0 && ticks == t->start_ticks &&
		    agent_proc_shim_state(t->pid, &t->exit_code, &t->term_signal) == AGENT_SHIM_ENDED)
			held += t->status_held = true;
	}
	if (!held)
		return 0;
	agent_save_state(a);
	/* Ended now (the shim dies with what is left of its group; its reaping
	 * later is ignored): no extra loop iteration before the exit report. */
	for (size_t i = 0; i < a->ntasks; i++) {
		struct task *t = &a->tasks[i];
		if (!t->status_held || t->shim_killed)
			continue;
		t->shim_killed = true;
		start_pending(t);
		agent_task_ended(a, t);
	}
	a->state_dirty = false; /* the save above has these exits already */
	return held;
}

void agent_reap(struct agent *a)
{
	pid_t pid;
	int code, sig;
	int64_t cpu_usec, maxrss;
	take_statuses(a);
	while (agent_proc_reap_usage(&pid, &code, &sig, &cpu_usec, &maxrss) == 1) {
		if (agent_health_exited(a, pid, code, sig))
			continue;
		for (size_t i = 0; i < a->ntasks; i++) {
			struct task *t = &a->tasks[i];
			for (int k = 0; k < 2; k++)
				if (t->copy_pid[k] == pid || t->copy_pid[k] == -pid) {
					if ((code || sig) && t->copy_pid[k] > 0)
						agent_output_failed(t, k, code);
					t->copy_pid[k] = 0;
				}
			if (t->pid != pid || t->state != T_RUNNING || t->adopted)
				continue;
			start_pending(t); /* exited: settles, and tells a failed start apart */
			if (!t->status_held) { /* else the shim's report, not our kill */
				t->exit_code = code;
				t->term_signal = sig;
			}
			t->cpu_usec = cpu_usec;
			t->mem_peak_bytes = maxrss;
			agent_task_ended(a, t);
		}
	}
	/* Adopted tasks are not our children: watch their identity instead. */
	for (size_t i = 0; i < a->ntasks; i++) {
		struct task *t = &a->tasks[i];
		uint64_t ticks;
		if (!t->adopted || t->state != T_RUNNING)
			continue;
		if (agent_proc_start_ticks(t->pid, &ticks) == 0 && ticks == t->start_ticks)
			continue;
		t->lost = true;
		snprintf(t->message, sizeof t->message,
			 "the task was adopted after an agent restart and ended; its exit status "
			 "cannot be observed");
		agent_task_ended(a, t);
	}
}

void agent_enforce_limits(struct agent *a)
{
	int64_t now = agent_mono_ms();
	for (size_t i = 0; i < a->ntasks; i++) {
		struct task *t = &a->tasks[i];
		if (t->state != T_RUNNING)
			continue;
		if (t->sig && !t->sig_sent && t->limit_s > 0 && t->term_ms == 0 &&
		    now - t->start_ms >= (t->limit_s - t->sig_before_s) * 1000) {
			/* --signal, once (persisted: a restarted agent does not resend). */
			t->sig_sent = true;
			int n = agent_proc_signal_job(t->pid, t->sig, t->sig_batch);
			aidc_log(AIDC_LOG_INFO,
				 "job %" PRId64 " task %u: --signal %d sent to %d process(es), %" PRId64
				 " s before its time limit",
				 t->job, t->index, t->sig, n, t->sig_before_s);
			agent_save_state(a);
		}
		if (t->limit_s > 0 && t->term_ms == 0 && now - t->start_ms >= t->limit_s * 1000) {
			t->timed_out = true;
			agent_proc_signal(t->pid, SIGTERM);
			t->term_ms = now;
		}
		if (t->term_ms && now - t->term_ms >= t->grace_s * 1000)
			agent_proc_signal(t->pid, SIGKILL);
	}
}

