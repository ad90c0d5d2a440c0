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

#include <sys/types.h>

#include "agent/agent.h"

/* ---- device providers ---------------------------------------------------- */

struct agent_device {
	char vendor[AIDC_MAX_NAME_BYTES];
	char model[AIDC_MAX_NAME_BYTES];
	uint64_t mem_mib;
};

/*
 * Discovers the node's accelerators from a provider spec:
 *   "none"            no accelerators
 *   "mock:N:MODEL"    N virtual accelerators of MODEL (vendor "mock"), for tests/demos
 *   "mock:N:MODEL:VENDOR"  the same with a vendor (e.g. nvidia, to get CUDA_VISIBLE_DEVICES)
 *   "plugin:NAME"     a device plugin (include/aidc/device.h) through src/dev's loader
 *   "nvml"            every NVIDIA GPU, through libnvidia-ml loaded at run time
 * Writes up to AIDC_MAX_DEVICES_PER_NODE entries into out.
 */
int agent_devices_discover(const char *spec, struct agent_device *out, uint32_t *n,
			   struct aidc_err *e);

/*
 * The "nvml" provider (dev_nvml.c): dlopens $AIDC_NVML_LIBRARY (default
 * "libnvidia-ml.so.1"), reports each GPU as vendor "nvidia", its NVML name
 * and total memory in MiB. More than AIDC_MAX_DEVICES_PER_NODE GPUs is
 * AIDC_E_LIMIT; a missing library or symbol, or a failing NVML call (its
 * return code in the message), is AIDC_E_DEVICE. out is caller-owned with
 * room for AIDC_MAX_DEVICES_PER_NODE entries; nothing is kept after return.
 */
int agent_nvml_discover(struct agent_device *out, uint32_t *n, struct aidc_err *e);

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

/* Per-task pids limit (processes + threads). Generous: a PyTorch task with
 * data-loader workers runs hundreds of threads; this only stops fork bombs. */
#define AGENT_TASK_PIDS_MAX 8192u

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

/* Removes this agent's own (empty) cgroup directories: on a clean stop. */
void agent_limits_release(const struct agent_limits *l);

/* One task's cgroup (its name and, between create and spawn, the open
 * cgroup.procs files the child writes itself into before exec). */
struct agent_cgroup {
	char name[64]; /* "" = none */
	int procs_fd[AGENT_CG_NCTL];
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
	const int *cgroup_fds;  /* cgroup.procs files to write "0" into (borrowed), -1 = skip */
	size_t ncgroup_fds;
	uint64_t rlimit_as_bytes; /* 0 = leave RLIMIT_AS alone */
	uint64_t rlimit_nproc;    /* 0 = leave RLIMIT_NPROC alone */
};

/* Starts a task in its own session/process group. On failure to exec, returns
 * the child's error (AIDC_E_IO with "chdir: ..." or "exec: ...") after reaping it. */
int agent_proc_spawn(const struct agent_launch *l, pid_t *out_pid, struct aidc_err *e);
/* The same without waiting for the child to reach exec: the agent's loop goes
 * on while the child enters its cgroup (a cgroup v1 migration can take ~10 ms
 * of kernel latency) and drops privileges. *out_fd (owned by the caller,
 * non-blocking) reports how the start went: see agent_proc_spawn_result. A
 * child that fails before exec exits 127 and is reaped like any task. */
int agent_proc_spawn_async(const struct agent_launch *l, pid_t *out_pid, int *out_fd,
			   struct aidc_err *e);
/* Checks a start begun by agent_proc_spawn_async: 1 while the child has not
 * reached exec yet (fd kept), 0 once it exec'd (or fd is -1), or the error of
 * the stage that failed (cwd and exe, borrowed, name it in the message).
 * Closes *fd and sets it to -1 unless it returns 1. Once the child has exited
 * it never returns 1. */
int agent_proc_spawn_result(int *fd, const char *cwd, const char *exe, struct aidc_err *e);
/* Signals the task's whole process group (pgid == pid). */
void agent_proc_signal(pid_t pid, int sig);
/* Reaps one exited child without blocking: 1 with pid and status, 0 if none. */
int agent_proc_reap(pid_t *pid, int *exit_code, int *term_signal);
/* Makes the agent the reaper of its tasks' orphans (PR_SET_CHILD_SUBREAPER),
 * so a task's stray children become zombies the agent reaps, not leaks. */
void agent_proc_init(void);
/* The kernel's start time of pid (clock ticks after boot, /proc/PID/stat
 * field 22): with the pid it names a process across pid reuse. 0 with *ticks,
 * or AIDC_E_NOTFOUND if pid is gone or a zombie. */
int agent_proc_start_ticks(pid_t pid, uint64_t *ticks);

/* Copies the files src_fds (each from its start, in order; -1 = skip) into
 * path as the user: a child process drops privileges as in agent_launch,
 * enters who->cwd (relative paths), opens path with O_APPEND if append else
 * O_TRUNC (mode 0644) and copies. The copier's pid goes to *out_pid; it is
 * reaped with agent_proc_reap and exits 0 on success, 1 otherwise. who and
 * src_fds are borrowed (the caller closes the descriptors after the call). */
int agent_proc_copy_as_user(const struct agent_launch *who, const int *src_fds, size_t nsrc,
			    const char *path, bool append, pid_t *out_pid, struct aidc_err *e);

#endif
