/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interfaces of the agent: device providers (devices.c) and the
 * Linux layer (STYLE.md rule 2): proc_linux.c (fork/exec, setsid, privilege
 * drop, process-group signals, /proc identity of processes, the copier that
 * writes -o/-e files as the user) and cgroup_linux.c (resource limits: cgroup
 * v2, cgroup v1, rlimits). Nothing else in the agent touches /proc, /sys or
 * process credentials.
 */
#ifndef AIDC_AGENT_AGENT_INT_H
#define AIDC_AGENT_AGENT_INT_H

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include "agent/agent.h"
#include "dev/dev.h"
#include "api/api.h"
#include "util/log.h"

/* ---- resource limits (cgroup_linux.c) ------------------------------------ */

/* How this node enforces a task's memory/CPU/process limits, chosen once at
 * start, best first. */
enum agent_limits_kind {
	AGENT_LIMITS_NONE,    /* configured off */
	AGENT_LIMITS_RLIMIT,  /* RLIMIT_AS (+ RLIMIT_NPROC): weak, logged as a warning */
	AGENT_LIMITS_CGROUP1, /* cgroup v1 memory (+ cpu, pids) controllers */
	AGENT_LIMITS_CGROUP2, /* cgroup v2: memory.max, cpu.max, pids.max */
};
const char *agent_limits_kind_name(enum agent_limits_kind k);

/* Default pids limits (processes + threads): of one job on a node (its
 * tasks there share it) and of all tasks on a node together. Generous: a
 * PyTorch task with data-loader workers runs hundreds of threads; these stop
 * fork bombs (one user ran 16,383 processes on a node before them). */
#define AGENT_JOB_PIDS_MAX 8192u
#define AGENT_NODE_PIDS_MAX 32768u

enum { AGENT_CG_MEM, AGENT_CG_CPU, AGENT_CG_PIDS, AGENT_CG_NCTL };

/* The node's limit machinery. For cgroups, dir[] are this agent's own
 * subtrees ("<root>/<node>-<hash of state dir>", one per v1 controller, only
 * dir[AGENT_CG_MEM] for v2); each task gets a child named after it. */
struct agent_limits {
	enum agent_limits_kind kind;
	char dir[AGENT_CG_NCTL][AIDC_MAX_PATH_BYTES]; /* "" = controller not available */
	char why[2048]; /* why the better kinds were not used ("" if none failed) */
};

/* What one task asked for; 0 = no limit of that kind. */
struct agent_task_req {
	uint64_t mem_mib;
	uint32_t cpus;
	uint32_t pids;
};

/*
 * Chooses the limit kind. mode is "auto" (cgroup v2, v1, rlimit in that
 * order), "cgroup2", "cgroup1", "rlimit" or "none"; root is the delegated
 * cgroup directory for v2 ("" = "<cgroup2 mount>/aidc", whose controllers
 * are enabled from the mount's root) or the subdirectory name for v1 mounts.
 * A named mode that is unavailable is an error; "auto" falls back and says
 * why in l->why. unique names this agent's subtree (node name + a hash of its
 * state dir, so several agents of `aidc up` on one host never share one).
 */
int agent_limits_init(struct agent_limits *l, const char *mode, const char *root,
		      const char *unique, struct aidc_err *e);

/* Writes the node-level caps into this agent's own cgroup directories, so
 * that all its tasks together stay within mem_mib of memory (no swap) and
 * pids processes/threads. A no-op (0) unless l is a cgroup kind; a cap the
 * kernel refuses is an error naming the file (AIDC_E_IO); *pids_capped is
 * false when no pids controller exists (cgroup v1 without a pids mount). */
int agent_limits_node_caps(const struct agent_limits *l, uint64_t mem_mib, uint32_t pids,
			   bool *pids_capped, struct aidc_err *e);
/* Removes this agent's own (empty) cgroup directories: on a clean stop. */
void agent_limits_release(const struct agent_limits *l);

/* One task's cgroup (its name and, between create and spawn, the open
 * cgroup.procs files the child writes itself into before exec). */
struct agent_cgroup {
	char name[64]; /* "" = none */
	int procs_fd[AGENT_CG_NCTL];
	/* Queued for removal after its task was forgotten: the task's output
	 * files (tasks/<name>.out, .err) wait to be recycled until it is gone. */
	bool files_left;
};
void agent_cgroup_init(struct agent_cgroup *cg);
/* Creates the task's cgroup(s), writes the limits and opens cgroup.procs.
 * A no-op (0) unless l is a cgroup kind. name is copied. */
int agent_cgroup_create(const struct agent_limits *l, const char *name,
			const struct agent_task_req *req, struct agent_cgroup *cg,
			struct aidc_err *e);
/* Closes the cgroup.procs descriptors (after spawn; the name is kept). */
void agent_cgroup_close_fds(struct agent_cgroup *cg);
/* SIGKILLs every process in the task's cgroup (escapees of its process
 * group included). */
void agent_cgroup_kill(const struct agent_limits *l, const struct agent_cgroup *cg);
/* Kernel OOM kills inside the task's memory cgroup so far (0 if unknown). */
uint64_t agent_cgroup_oom_kills(const struct agent_limits *l, const struct agent_cgroup *cg);
/* The task cgroup's CPU time (v2 cpu.stat usage_usec) and peak memory (v2
 * memory.peak, v1 memory.max_usage_in_bytes); -1 each where not available
 * (no cgroup, an older kernel). Read after the task ended, before removal. */
void agent_cgroup_usage(const struct agent_limits *l, const struct agent_cgroup *cg,
			int64_t *cpu_usec, int64_t *mem_peak_bytes);
/* Whether any process is still in the task's cgroup. */
bool agent_cgroup_busy(const struct agent_limits *l, const struct agent_cgroup *cg);
/* Removes the task's cgroup(s): 0, or AIDC_E_BUSY while processes remain. */
int agent_cgroup_remove(const struct agent_limits *l, const struct agent_cgroup *cg);
/* Calls fn(name, arg) for every task cgroup under this agent's subtree (for
 * restart: cgroups not matching a known task are orphans). */
void agent_cgroup_list(const struct agent_limits *l, void (*fn)(const char *name, void *arg),
		       void *arg);

/* ---- processes ----------------------------------------------------------- */

struct agent_launch {
	uint32_t uid, gid;
	const char *user;       /* login name (initgroups) */
	const char *cwd;
	const char *exe;        /* path to execute */
	char *const *argv;      /* NULL-terminated */
	char *const *envp;      /* NULL-terminated */
	int out_fd, err_fd;     /* become the task's stdout/stderr */
	bool drop_privileges;   /* the agent is root: switch to uid/gid */
	bool has_umask;         /* the job gave its umask (program and -o/-e files) */
	mode_t umask;           /* with has_umask; else 022 */
	const int *cgroup_fds;  /* cgroup.procs files to write "0" into (borrowed), -1 = skip */
	size_t ncgroup_fds;
	uint64_t rlimit_as_bytes; /* 0 = leave RLIMIT_AS alone */
	uint64_t rlimit_nproc;    /* 0 = leave RLIMIT_NPROC alone */
	bool shim;                /* run the program under a shim (see below) */
	int notify_fd;            /* with shim: the agent's notify pipe (write end) */
	const char *state_dir;    /* with shim: the agent's (an orphan gives up once it is gone) */
};

/* The shim (agent_launch.shim): the task's leader is a small process of the
 * agent (root, signals but SIGKILL ignored) that runs the program as its
 * child and exits the way the program did. If the agent died meanwhile, the
 * shim keeps the program's status in its name, AGENT_EXIT_COMM followed by
 * "e<exit code>" or "s<signal>" for up to AGENT_SHIM_KEEP_S seconds ("n"
 * if its gate closed unopened: the program never ran; AGENT_GATE_KEEP_S), so a
 * restarted agent that adopted the task learns how it ended
 * (agent_proc_exit_status) instead of reporting it lost. */
#define AGENT_EXIT_COMM "aidc-exit:"
#define AGENT_SHIM_COMM "aidc-shim"
#define AGENT_SHIM_KEEP_S 86400
/* How long a child whose gate closed unopened (its agent died) waits to be
 * found by a restarted agent: if the agent had not saved the task yet, no
 * one will come, so not long. */
#define AGENT_GATE_KEEP_S 600

/* Starts a task in its own session/process group. On failure to exec, returns
 * the child's error (AIDC_E_IO with "chdir: ..." or "exec: ...") after reaping it. */
int agent_proc_spawn(const struct agent_launch *l, pid_t *out_pid, struct aidc_err *e);
/* The same without waiting for the child to reach exec: the agent's loop goes
 * on while the child enters its cgroup (a cgroup v1 migration can take ~10 ms
 * of kernel latency) and drops privileges. *out_fd (owned by the caller,
 * non-blocking) reports how the start went: see agent_proc_spawn_result. A
 * child that fails before exec exits 127 and is reaped like any task. */
int agent_proc_spawn_async(const struct agent_launch *l, pid_t *out_pid, int *out_fd,
			   int *out_gate, struct aidc_err *e);
/* With out_gate (not NULL), the child waits before exec until the agent
 * calls agent_proc_open_gate(out_gate), the write end of a pipe the caller
 * owns: the agent records the task in its state file first, so a task never
 * runs unrecorded. If the agent dies before, the child sees EOF and exits 127
 * without running anything. */
void agent_proc_open_gate(int *gate);
/* Tells a gated child to exit without running (the task is forgotten). */
void agent_proc_cancel_gate(int *gate);
/* What the name of an adopted task's leader says (never blocks). */
enum agent_shim_state {
	AGENT_SHIM_OTHER,     /* gone, or not a shim (a task of an older agent) */
	AGENT_SHIM_FORKED,    /* still the agent's name: at its gate, or past it an instant ago */
	AGENT_SHIM_RUNNING,   /* past its gate: the program runs (AGENT_SHIM_COMM) */
	AGENT_SHIM_ENDED,     /* the program ended: *exit_code / *term_signal set */
	AGENT_SHIM_NEVER_RAN, /* its gate closed unopened: the program never ran */
};
enum agent_shim_state agent_proc_shim_state(pid_t pid, int *exit_code, int *term_signal);
/* Checks a start begun by agent_proc_spawn_async: 1 while the child has not
 * reached exec yet (fd kept), 0 once it exec'd (or fd is -1), or the error of
 * the stage that failed (cwd and exe, borrowed, name it in the message).
 * Closes *fd and sets it to -1 unless it returns 1. Once the child has exited
 * it never returns 1. */
int agent_proc_spawn_result(int *fd, const char *cwd, const char *exe, struct aidc_err *e);
/* Signals the task's whole process group (pgid == pid). */
void agent_proc_signal(pid_t pid, int sig);
/*
 * A job's --signal: sig to the processes of the session that leader (the
 * task's shim) leads. batch: to the batch script alone (the shim's child);
 * else to every other process of the session except srun launchers (comm
 * "srun"), which would forward it to their tasks a second time. Returns how
 * many processes were signalled.
 */
int agent_proc_signal_job(pid_t leader, int sig, bool batch);
/* Reaps one exited child without blocking: 1 with pid and status, 0 if none. */
int agent_proc_reap(pid_t *pid, int *exit_code, int *term_signal);
/* CPU time of pid and of the children it waited for (/proc/PID/stat: its
 * shim has waited for the program), microseconds; AIDC_E_NOTFOUND if gone. */
int agent_proc_cpu_usec(pid_t pid, int64_t *cpu_usec);
/* agent_proc_reap with the child's resource use (wait4: it and its reaped
 * descendants): CPU time (user + system) and peak resident set, in bytes. */
int agent_proc_reap_usage(pid_t *pid, int *exit_code, int *term_signal, int64_t *cpu_usec,
			  int64_t *maxrss_bytes);
/* Makes the agent the reaper of its tasks' orphans (PR_SET_CHILD_SUBREAPER),
 * so a task's stray children become zombies the agent reaps, not leaks. */
void agent_proc_init(void);
/* The kernel's start time of pid (clock ticks after boot, /proc/PID/stat
 * field 22): with the pid it names a process across pid reuse. 0 with *ticks,
 * or AIDC_E_NOTFOUND if pid is gone or a zombie. */
int agent_proc_start_ticks(pid_t pid, uint64_t *ticks);

/* Copies the files src_fds (each from its start, in order; -1 = skip; at
 * most 2) into path as the user: a child process drops privileges as in
 * agent_launch, enters who->cwd (relative paths), opens path with O_APPEND
 * if append else O_TRUNC (mode 0644) and copies. With stop_fd (the read end
 * of a pipe, else -1) it follows the files: it copies what they gain about
 * every AGENT_FOLLOW_MS until stop_fd reads EOF (the agent closed the write
 * end, or died), then copies the rest. The copier's pid goes to *out_pid; it
 * is reaped with agent_proc_reap and exits 0 on success, AGENT_COPY_NOTREG
 * if path is a FIFO, socket or directory (refused: opened O_NONBLOCK, so it
 * never waits for a reader), 1 otherwise. who,
 * src_fds and stop_fd are borrowed (the caller closes them after the call). */
int agent_proc_copy_as_user(const struct agent_launch *who, const int *src_fds, size_t nsrc,
			    const char *path, bool append, int stop_fd, pid_t *out_pid,
			    struct aidc_err *e);
/* How often a following copier looks for new output (-o/-e while the task
 * runs). */
#define AGENT_FOLLOW_MS 100
#define AGENT_COPY_NOTREG 3
/* How long a task's end waits for its -o/-e writers before they are killed
 * (a hung filesystem must not hold the task's stop and its resources). */
#define AGENT_COPY_GRACE_MS 10000

/* ---- the agent's own state (agent.c and its parts) ----------------------- */
/*
 * The agent is split by concern; every part works on one struct agent owned
 * by agent_run() and touched by the main thread only, except the order queue
 * and the poll counters (under mu, shared with the fetcher thread):
 *   agent.c         configuration, setup, registration, heartbeats, the
 *                   fetcher thread, the task table, the main loop
 *   agent_launch.c  environment, limits, launch, start checks, kills,
 *                   reaping, time limits
 *   agent_report.c  status reports (batched), log pushes
 *   agent_state.c   tasks.json save/restore, adoption, the orphan sweep
 *   agent_output.c  the per-task log files (recycled) and -o/-e files
 */

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
	/* The job's --signal: sig (0 = none) sig_before_s before limit_s, to
	 * the batch script alone with sig_batch; sig_sent once delivered. */
	int sig;
	int64_t sig_before_s;
	bool sig_batch, sig_sent;
	char out_path[AIDC_MAX_PATH_BYTES], err_path[AIDC_MAX_PATH_BYTES];
	int64_t out_off, err_off;
	bool running_reported;
	bool push_refused; /* a log push was refused for good (said once) */
	struct agent_cgroup cg;
	uint64_t mem_mib;     /* the task's memory limit, for messages */
	bool mem_default;     /* mem_mib is the node's default (the job gave no --mem) */
	uint64_t start_ticks; /* kernel start time of pid (identity across pid reuse) */
	bool adopted, lost;   /* from a previous run of the agent / ended unobserved */
	/* -o/-e (heap strings, NULL = not asked) and who writes them */
	char *stdout_req, *stderr_req, *user, *cwd;
	bool has_umask; /* the job gave its umask */
	mode_t umask;
	uint32_t uid, gid;
	uint32_t world_size;
	pid_t copy_pid[2]; /* -o/-e writers still running, 0 = none, < 0: killed (overdue) */
	int follow_fd;     /* closing it ends the writers' following, -1 = none */
	bool writers_started;
	uint8_t writer_notreg; /* streams whose -o/-e path is not a regular file (refused) */
	int64_t exited_ms;     /* when the task was seen ending (agent_mono_ms), 0 before */
	/* Resource use of the ended task (reported for accounting): the cgroup's
	 * counters where it has them, else the leader's rusage; -1 = unknown. */
	int64_t cpu_usec, mem_peak_bytes;
	/* The shim reported the program's end (exit_code/term_signal hold it);
	 * killed once tasks.json says so (shim_killed). */
	bool status_held, shim_killed;
	uint8_t writer_failed; /* bit k: writer k failed while the task ran */
	/* T_DONE: kept (so a resent launch is still ignored) until every work
	 * poll begun before the exit report was acknowledged has been taken. */
	uint64_t done_poll;
	/* Between fork and exec (agent_proc_spawn_async): the start report pipe
	 * and the program, for its error message; -1 / NULL once settled. */
	int start_fd;
	/* Between fork and the state file naming the task: the write end of its
	 * gate (agent_proc_spawn_async), -1 once opened. */
	int gate_fd;
	char *exe;
	/* The job's last throughput in its progress file (AIDC_PROGRESS_FILE,
	 * agent_progress_read), milli-units per second; 0 = none. Read once,
	 * when the task has ended (progress_read). */
	int64_t progress_milli;
	bool progress_read;
};

struct order {
	struct api_launch *launch; /* one launch order (owned: api_decoded_release + free) or NULL */
	int64_t job;
	uint32_t task, attempt;
	struct order *next;
};

/* Default of --health-interval (Slurm's HealthCheckInterval is often 300). */
#define AGENT_HEALTH_INTERVAL_S 60
/* Bytes of the health check's output kept for the drain reason. */
#define AGENT_HEALTH_OUT_BYTES 1024

/* The health check program's run in progress (agent_health.c). */
struct agent_health {
	pid_t pid;           /* running, or 0 */
	int fd;              /* read end of its output pipe, or -1 */
	char out[AGENT_HEALTH_OUT_BYTES + 1];
	size_t nout;
	int64_t deadline_ms; /* killed past it (monotonic) */
	int64_t next_ms;     /* next start */
	bool timed_out;
};

struct agent {
	struct agent_config cfg;
	char secret[AIDC_MAX_SECRET_BYTES + 1];
	struct api_client cl;
	/* Several controllers (docs/ha.md): the main thread's client last got a
	 * reply from its URL ctl_cur; ctl_gen counts the moves (the fetcher
	 * follows them; fetch_gen is the fetcher's own). */
	unsigned ctl_cur, ctl_gen, fetch_gen;
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
	int notify[2]; /* shims write their pid here when their program ended */
	volatile bool stop;
	struct agent_limits lim;
	struct agent_cgroup *gc; /* cgroups of ended tasks still being emptied */
	size_t ngc, cap_gc;
	bool state_dirty;        /* tasks.json is behind the task table */
	char fault[32]; /* test hook: $AIDC_AGENT_FAULT (see agent_fault) */
	uint64_t *spare; /* numbers of the recycled log files tasks/spare.N */
	size_t nspare, cap_spare;
	uint64_t spare_seq; /* next N */
	/* The main thread's failures to reach the controller, each distinct
	 * one logged with its reason at a bounded rate (agent_net_failed). */
	struct aidc_log_limiter net_log;
	/* This agent's identity (<state_dir>/agent_id, made once) and this
	 * run's epoch (larger than any earlier run's): the controller refuses
	 * requests of an older run and a second agent under a live node's name. */
	char agent_id[40];
	int64_t epoch;
	/* Why this node cannot take work, "" if none: the state directory's
	 * problem and the health check's joined (agent_health.c); sent with
	 * every heartbeat; the controller drains the node. */
	char problem[512];
	char disk_problem[256];   /* agent_check_disk's, "" if none */
	char health_problem[400]; /* the health check's, "" if none */
	char nvml_problem[320];   /* the NVML checks' ("nvml: ..."), "" if none */
	struct agent_health health;
	struct dev_nvml_watch *nvml_watch; /* open while devices are "nvml" */
	bool nvml_failed;                  /* the watch could not open: no NVML checks */
	bool disk_failed;        /* a write into state_dir failed (ENOSPC, EIO...) */
	int64_t next_disk_ms;    /* next agent_check_disk */
	bool problem_changed;    /* heartbeat now */
	/* The node's devices, discovered once at start (agent_discover_devices)
	 * and registered as they are every time: a plugin is never reloaded. */
	struct dev_node_device devs[AIDC_MAX_DEVICES_PER_NODE];
	uint32_t ndev;
	/* Jobs' way to the controller from this node (docs/security.md, "Job
	 * credentials"): AIDC_JOB_CONTROLLER, AIDC_JOB_CRED and, with a CA,
	 * AIDC_JOB_CACERT = this copy of it that the jobs' users may read
	 * ("" = none); see agent_launch.c job_cred_env. */
	char job_cacert[AIDC_MAX_PATH_BYTES + 16];
};

/* Free space below which the state directory counts as full: the smaller of
 * this and 5% of its filesystem. Task output, scripts and tasks.json all go
 * there; below it the node drains (agent_check_disk). */
#define AGENT_MIN_FREE_MIB 64
/* How often the state directory's free space is looked at. */
#define AGENT_DISK_CHECK_MS 2000

/* Recycled output files kept for new tasks (see agent_recycle_file). */
#define AGENT_SPARE_LOGS 512

/* Start pipes the main loop polls besides its wake pipe (more pending starts
 * are still checked every iteration, only not woken for). */
#define AGENT_POLL_STARTS 64


/* agent.c */
/* Test hook: _exit(99)s the agent at the named point if $AIDC_AGENT_FAULT
 * (read at start) names it: "exit-after-launch" (children forked, waiting at
 * their gates, nothing saved), "exit-after-save" (tasks.json names them,
 * gates closed), "exit-after-release" (they run, nothing reported),
 * "exit-after-report" (their "running" reports were taken). A no-op
 * otherwise; docs/live.md. */
void agent_fault(const struct agent *a, const char *point);
int64_t agent_mono_ms(void);
void agent_nap_ms(long ms);
/* One request to the controller on cl; out->reply is the caller's to
 * release (aidc_buf_release) whatever the result. Strings are borrowed. */
/* A client of the controller (every one of them with several, docs/ha.md). */
int agent_client_open(struct agent *a, struct api_client *cl, struct aidc_err *e);
int agent_call(struct agent *a, struct api_client *cl, const char *method, const char *path,
	       const char *body, size_t len, const char *ctype, long timeout_ms,
	       struct api_call *out, struct aidc_err *e);
/* POST of a JSON body on the main client; a 404 asks for a new registration,
 * a non-200 status is an error. c->reply as for agent_call. */
int agent_post_json(struct agent *a, const char *path, const char *body, struct api_call *c,
		    struct aidc_err *e);
/* The state directory: agent_disk_failed records a failed write into it
 * (err = errno; only ENOSPC, EDQUOT, EROFS and EIO count);
 * agent_check_disk (main loop) sets a->problem from statvfs (free space
 * under the floor, no inodes) or from a failed write that a probe write
 * still confirms, and clears it once space is back. The problem goes with
 * every heartbeat: the controller drains the node with it. */
void agent_disk_failed(struct agent *a, int err);
void agent_check_disk(struct agent *a);

/* agent_health.c: the health check (see there). agent_check_health starts
 * the program when due, reads its output and kills it past its deadline
 * (main loop); agent_health_exited takes its exit from agent_reap (true
 * when pid was the health check's); agent_health_stop kills a run at
 * shutdown. agent_set_disk_problem sets the state directory's part of
 * a->problem (the health check sets its own part). */
void agent_check_health(struct agent *a);
bool agent_health_exited(struct agent *a, pid_t pid, int code, int sig);
void agent_health_stop(struct agent *a);
void agent_set_disk_problem(struct agent *a, const char *why);
/* Adds "devices": [{index, util_pct, mem_used_mib}...] to a heartbeat being
 * written in w when the devices come from NVML (sampled now); nothing else. */
void agent_usage_json(struct agent *a, struct aidc_json *w);
/* A call to the controller failed (what: "registration", "heartbeat", ...;
 * e holds the reason): logged through l at a bounded rate. agent_net_ok
 * says once that the controller answers again. */
void agent_net_failed(struct agent *a, struct aidc_log_limiter *l, const char *what,
		      const struct api_call *c, const struct aidc_err *e);
void agent_net_ok(struct agent *a, struct aidc_log_limiter *l);
/* The task table: find (NULL if none) and append (a zeroed task; the pointer
 * is valid until the table next grows). */
struct task *agent_task_find(struct agent *a, int64_t job, uint32_t index, uint32_t attempt);
struct task *agent_task_new(struct agent *a, int64_t job, uint32_t index, uint32_t attempt);
/* Frees what a task owns (strings, its start pipe); the slot stays. */
void agent_task_release(struct task *t);

/* agent_launch.c */
/* Launches one task from its launch order l (borrowed); on failure the task
 * is marked failed with the reason. A resent order is ignored. */
void agent_launch_task(struct agent *a, const struct api_launch *l);
void agent_check_starts(struct agent *a);
void agent_kill_task(struct agent *a, int64_t job, uint32_t index, uint32_t attempt);
void agent_task_ended(struct agent *a, struct task *t);
/* Memory of a task that asked for none (agent.c): see struct agent_config. */
uint64_t agent_default_mem_mib(const struct agent *a, int64_t task_cpus);
void agent_collect_cgroups(struct agent *a);
void agent_reap(struct agent *a);
void agent_enforce_limits(struct agent *a);

/* agent_report.c */
/* Sends the reports due (and the output, with logs_due or before an exit)
 * and forgets tasks reported done once no launch order can be in flight. */
void agent_report_all(struct agent *a, bool logs_due);

/* agent_state.c */
/* Rewrites <state_dir>/tasks.json (write + rename) with every task not yet
 * reported done. */
void agent_save_state(struct agent *a);
/* On start: reads tasks.json of a previous run, adopts or reports its
 * tasks, kills task cgroups that belong to none of them. */
void agent_restore(struct agent *a);

/* agent_output.c */
/* Disk GC: a task the controller is done with (its exit report and all its
 * output acknowledged) loses its files in <state_dir>/tasks: the output
 * files are recycled (see agent_output.c) or removed, the batch script is
 * removed. agent_files_sweep, on start after agent_restore, removes the task
 * files that belong to no task of the table (left by a run that died after
 * forgetting them). So the directory holds the files of the tasks in the
 * table plus at most AGENT_SPARE_LOGS spare files. */
void agent_task_files_gc(struct agent *a, const struct task *t);
/* The output files a forgotten task left behind for its cgroup cg (just
 * removed): into the pool of spare files, or removed. */
void agent_recycle_left_files(struct agent *a, const struct agent_cgroup *cg);
void agent_files_sweep(struct agent *a);
/* Takes over the spare files of a previous run (extra ones are removed). */
void agent_adopt_spares(struct agent *a);
/* Opens (creates or recycles) a task's log file for writing; the caller
 * closes the descriptor. -1 with e on failure. path is borrowed. */
int agent_open_log(struct agent *a, const char *path, struct aidc_err *e);
/* Appends "aidc agent: LINE" to the task's stderr log (pushed with its logs). */
void agent_note_err(const struct task *t, const char *line);
/* The task's progress file (docs/placement.md "Progress reports"):
 * state_dir/tasks/JOB.ATTEMPT.INDEX.rate, made empty and owned by the task's
 * user before it starts (false if it could not be), read once it has ended
 * into t->progress_milli (a bad value is ignored with a line on the task's
 * stderr). */
void agent_progress_path(const struct agent *a, int64_t job, uint32_t attempt, uint32_t index,
			 char *out, size_t cap);
bool agent_progress_create(struct agent *a, const char *path, uint32_t uid, uint32_t gid);
void agent_progress_read(struct agent *a, struct task *t);
/* -o/-e: agent_output_start starts the writers when the task starts
 * running; agent_output_finish, when it ended, lets them finish (or, for a
 * task that never ran, writes the files once). t->copy_pid[] are the
 * writers still running: the exit is reported once they are gone. */
void agent_output_start(struct agent *a, struct task *t);
void agent_output_finish(struct agent *a, struct task *t);
/* Writer k (0 -o, 1 -e) failed: said in the task's stderr log, once the
 * task has ended (a line appended while it runs could be overwritten). */
void agent_output_failed(struct task *t, int k, int code);
/* Kills the -o/-e writers of an ended task still running AGENT_COPY_GRACE_MS
 * after its end (their pids are then kept negated until reaped). */
void agent_output_overdue(struct task *t);

#endif
