/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interfaces of the agent: device providers (devices.c) and the
 * Linux process layer (proc_linux.c, the only file with fork/exec, setsid,
 * privilege drop and process-group signals; STYLE.md rule 2).
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
 * Writes up to AIDC_MAX_DEVICES_PER_NODE entries into out.
 */
int agent_devices_discover(const char *spec, struct agent_device *out, uint32_t *n,
			   struct aidc_err *e);

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
};

/* Starts a task in its own session/process group. On failure to exec, returns
 * the child's error (AIDC_E_IO with "chdir: ..." or "exec: ...") after reaping it. */
int agent_proc_spawn(const struct agent_launch *l, pid_t *out_pid, struct aidc_err *e);
/* Signals the task's whole process group (pgid == pid). */
void agent_proc_signal(pid_t pid, int sig);
/* Reaps one exited child without blocking: 1 with pid and status, 0 if none. */
int agent_proc_reap(pid_t *pid, int *exit_code, int *term_signal);

#endif
