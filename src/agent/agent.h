/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node agent (`aidc agent`): registers its node with the controller,
 * heartbeats, long-polls for work, launches each task as a real process (own
 * session and process group, the submitting user's uid/gid, cwd, log files,
 * the distributed-training environment), enforces time limits and kills
 * (SIGTERM, grace, SIGKILL of the group), pushes task output to the
 * controller and reports exits.
 */
#ifndef AIDC_AGENT_AGENT_H
#define AIDC_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/limits.h"

struct agent_config {
	char controller_host[64]; /* IPv4 literal of the controller */
	uint16_t controller_port;
	/* Every controller (a leader and its standbys, docs/ha.md) as URLs,
	 * comma-separated; "" = controller_host:controller_port only. */
	char controllers[1024];
	char name[AIDC_MAX_NAME_BYTES];     /* node name (default: hostname) */
	char addr[AIDC_MAX_NAME_BYTES];     /* MASTER_ADDR other nodes use; "" = the source
					     * address of the route to the controller */
	char partition[AIDC_MAX_NAME_BYTES]; /* "" = the controller's default */
	char state_dir[AIDC_MAX_PATH_BYTES]; /* logs, scripts */
	char secret_file[AIDC_MAX_PATH_BYTES];
	/* provider spec: "none", "mock:N:MODEL", "plugin:NAME[:CONFIG]", "nvml" */
	char devices[AIDC_MAX_PATH_BYTES];
	uint32_t cpus;    /* 0 = online CPUs */
	uint64_t mem_mib; /* 0 = physical memory */
	/* Node limits (issue 9 item 8, docs/security.md "Node limits"), written
	 * into the agent's own cgroup so that all its tasks together stay under
	 * them, and the defaults of tasks that ask for nothing:
	 * def_mem_per_cpu_mib: memory of a task without --mem, per CPU it asked
	 * for (at least 1); 0 = mem_mib / cpus (the node's memory per CPU).
	 * job_pids_max: processes and threads of one job on this node (shared by
	 * its tasks here); node_pids_max: of all tasks on this node together. */
	uint64_t def_mem_per_cpu_mib;
	uint32_t job_pids_max, node_pids_max;
	bool allow_root_jobs;
	char limits[16]; /* "auto" (cgroup v2, v1, rlimit), "cgroup2", "cgroup1", "rlimit", "none" */
	char cgroup_root[AIDC_MAX_PATH_BYTES]; /* delegated cgroup v2 dir; "" = <mount>/aidc */
	/* Health check (agent_health.c): this program runs at start and every
	 * health_interval_s; a failure drains the node with its output. "" = none. */
	char health_check[AIDC_MAX_PATH_BYTES];
	int64_t health_interval_s;
};

void agent_config_defaults(struct agent_config *c);

/* Runs until SIGINT/SIGTERM; running tasks are then killed (SIGTERM, grace,
 * SIGKILL) and reported. On start it reads <state_dir>/tasks.json, left by a
 * previous run of this agent that died: tasks still running are adopted,
 * the others reported lost, and task cgroups nobody owns are killed.
 * cfg is borrowed. */
int agent_run(const struct agent_config *cfg, struct aidc_err *e);

#endif
