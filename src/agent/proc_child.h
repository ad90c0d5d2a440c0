/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The task's side of a launch (proc_child.c), shared by the agent
 * (proc_linux.c: the copier, and the fork path of a launch without a shim)
 * and by aidc-task (task_main.c), the small executable the agent starts for
 * each task: forking the agent itself cost a copy of its page tables and
 * copy-on-write faults in the agent afterwards (~25% of its CPU in
 * bench/live_throughput --sbatch-only). Only async-signal-safe calls.
 */
#ifndef AIDC_AGENT_PROC_CHILD_H
#define AIDC_AGENT_PROC_CHILD_H

#include <sys/types.h>

#include "agent/agent_int.h"

/* What a child that failed before exec writes to the exec-report pipe. */
struct child_err {
	int stage; /* 1 setsid, 2 groups, 3 setgid, 4 setuid, 5 chdir, 6 exec, 7 cgroup, 8 rlimit,
		    * 9 fork (of the shim), 10 exec of aidc-task */
	int err;
};

/* Supplementary groups are looked up by the agent (NSS) and passed down. */
#define AGENT_MAX_GROUPS 1024

struct agent_groups {
	gid_t g[AGENT_MAX_GROUPS];
	int n;
};

/* The name of aidc-task until its gate opens (then AGENT_SHIM_COMM): a
 * restarted agent reads it as AGENT_SHIM_FORKED. Also the file's name,
 * installed beside aidc-daemon. */
#define AGENT_TASK_COMM "aidc-task"

/* Writes {stage, errno} to fd and exits 127. */
void agent_child_fail(int fd, int stage);
/* setgroups, setgid, setuid; 0 or the failed stage (2, 3, 4). */
int agent_child_drop(const struct agent_launch *l, const struct agent_groups *gr);
/* Closes every descriptor from 3 up except the n (at most 4) in keep. */
void agent_child_close_except(const int *keep, size_t n);
/* The child's whole life: session, cgroups, rlimits, the gate (gate_fd, or
 * -1), then the program, exec'd directly or under the shim (l->shim). Never
 * returns; failures go to errfd (struct child_err). */
void agent_child_run(const struct agent_launch *l, const struct agent_groups *gr, int errfd,
		     int gate_fd);

#endif
