/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request schemas of the API (one table per document), the strict
 * decoder that checks a JSON body against them, route matching, JSON error
 * bodies, and the OpenAPI document generated from the route and schema tables.
 *
 * Strictness: the body must be one JSON object with no duplicate keys, no
 * field outside the schema, every required field present, every value of the
 * declared type and inside its limit. Sizes are checked before anything is
 * copied, so a hostile body costs at most AIDC_MAX_HTTP_BODY_BYTES of parsing.
 */
#include <jansson.h>
#include <stddef.h>

#include "api/api.h"
#include "util/util.h"

/* ---- schema tables --------------------------------------------------------- */

#define F_STR(st, f, req, maxb, h) {#f, API_T_STR, offsetof(st, f), req, 0, maxb, 0, NULL, h}
#define F_I64(st, f, req, lo, hi, h) {#f, API_T_I64, offsetof(st, f), req, lo, hi, 0, NULL, h}
#define F_BOOL(st, f, h) {#f, API_T_BOOL, offsetof(st, f), false, 0, 1, 0, NULL, h}
#define F_STRV(st, f, req, maxn, itemb, h)                                                    \
	{#f, API_T_STRV, offsetof(st, f), req, 0, maxn, itemb, NULL, h}
#define F_OBJV(st, f, maxn, sch, h) {#f, API_T_OBJV, offsetof(st, f), false, 0, maxn, 0, sch, h}
#define F_OBJ(st, f, sch, h) {#f, API_T_OBJ, offsetof(st, f), false, 0, 0, 0, sch, h}
#define SCHEMA_CHECKED(var, nm, st, tbl, h, chk)                                               \
	const struct api_schema var = {nm, h, tbl, sizeof tbl / sizeof tbl[0], sizeof(st), chk}
#define SCHEMA(var, nm, st, tbl, h) SCHEMA_CHECKED(var, nm, st, tbl, h, NULL)

#define NAMEB ((int64_t)AIDC_MAX_NAME_BYTES - 1)
#define PATHB ((int64_t)AIDC_MAX_PATH_BYTES - 1)

static const struct api_field job_submit_fields[] = {
	F_I64(struct api_job_submit, v, false, 0, API_JOB_SPEC_VERSION,
	      "spec version (1); absent means the current one"),
	F_STR(struct api_job_submit, name, false, NAMEB, "job name"),
	F_STRV(struct api_job_submit, command, false, AIDC_MAX_ARGV, AIDC_MAX_ARG_BYTES - 1,
	       "argv of each task; exclusive with script"),
	F_STR(struct api_job_submit, script, false, AIDC_MAX_SCRIPT_BYTES, "batch script text"),
	F_STRV(struct api_job_submit, script_args, false, AIDC_MAX_ARGV, AIDC_MAX_ARG_BYTES - 1,
	       "the batch script's arguments ($1..); only with script"),
	F_STR(struct api_job_submit, cwd, false, PATHB, "working directory (absolute)"),
	F_STRV(struct api_job_submit, env, false, AIDC_MAX_ENV, AIDC_MAX_ARG_BYTES - 1,
	       "environment entries KEY=VALUE"),
	F_I64(struct api_job_submit, nodes, false, 0, AIDC_MAX_NODES, "-N: nodes (0 = any)"),
	F_I64(struct api_job_submit, ntasks, false, 0, AIDC_MAX_TASKS_PER_JOB,
	      "-n: tasks of the gang (default 1)"),
	F_I64(struct api_job_submit, ntasks_per_node, false, 0, AIDC_MAX_TASKS_PER_NODE,
	      "tasks per node (0 = any)"),
	F_I64(struct api_job_submit, cpus_per_task, false, 0, AIDC_MAX_NODE_CPU_MILLI / 1000,
	      "CPUs per task (default 1)"),
	F_I64(struct api_job_submit, mem_mib, false, 0, (int64_t)AIDC_MAX_NODE_MEM_MIB,
	      "memory per task, MiB (0 = controller default)"),
	F_I64(struct api_job_submit, gpus_per_task, false, 0, AIDC_MAX_DEVICES_PER_NODE,
	      "accelerators per task"),
	F_STR(struct api_job_submit, gpu_model, false, NAMEB, "accepted accelerator model"),
	F_I64(struct api_job_submit, time_limit_s, false, 0, AIDC_MAX_DURATION_S,
	      "time limit, seconds (0 = none)"),
	F_I64(struct api_job_submit, priority, false, AIDC_MIN_PRIORITY, AIDC_MAX_PRIORITY,
	      "priority, higher first"),
	F_STR(struct api_job_submit, partition, false, NAMEB, "partition (default \"default\")"),
	F_STR(struct api_job_submit, stdout_path, false, PATHB,
	      "-o: stdout file (%j %t %u %N %%), written as the user when the task ends"),
	F_STR(struct api_job_submit, stderr_path, false, PATHB,
	      "-e: stderr file (default: the -o file)"),
	F_STR(struct api_job_submit, on_node_failure, false, 16, "\"requeue\" or \"fail\""),
	F_BOOL(struct api_job_submit, slurm_env,
	       "aidc sbatch: the agent adds a Slurm batch job's run-time SLURM_* variables"),
	F_BOOL(struct api_job_submit, hold,
	       "-H: queued held (pending reason \"held\"), never started until POST "
	       "/v1/jobs/{id}/release"),
	F_BOOL(struct api_job_submit, preemptible,
	       "may be stopped (SIGTERM, grace, SIGKILL) and requeued for a higher-priority job"),
	F_STR(struct api_job_submit, request_id, false, 64,
	      "the client's id of this submission ([A-Za-z0-9._:-], 1-64 bytes): a submit "
	      "retried with the same id returns the job the first one made"),
	F_STR(struct api_job_submit, account, false, NAMEB,
	      "-A: account charged (default: the user's default account; docs/tenancy.md)"),
	F_STR(struct api_job_submit, qos, false, NAMEB,
	      "quality of service (default: the account's default QoS)"),
	F_STR(struct api_job_submit, dependency, false, (int64_t)AIDC_MAX_ARG_BYTES - 1,
	      "-d: Slurm's TYPE:ID[:ID...] items (TYPE after, afterok, afternotok or afterany; "
	      "after's ids may end +MINUTES) or singleton, joined by ',' (all must hold) or '?' "
	      "(any one): pending (reason dependency) until they hold"),
	F_I64(struct api_job_submit, signal, false, 0, 64,
	      "--signal: this signal (a number, 0 = none) signal_before_s before the time limit"),
	F_I64(struct api_job_submit, signal_before_s, false, 0, 65535,
	      "--signal's SECONDS before the time limit (with signal)"),
	F_BOOL(struct api_job_submit, signal_batch,
	       "--signal=B:...: to the batch script alone, else to its other processes"),
	F_I64(struct api_job_submit, begin_s, false, 0, INT64_C(1) << 40,
	      "--begin: not started before this Unix time (0 = none; a past time: at once); "
	      "pending reason BeginTime until then"),
	F_BOOL(struct api_job_submit, kill_on_invalid_dep,
	       "--kill-on-invalid-dep=yes: a job whose dependency can never hold is cancelled "
	       "instead of staying pending (reason DependencyNeverSatisfied)"),
	F_STR(struct api_job_submit, array, false, (int64_t)AIDC_MAX_ARRAY_SPEC_BYTES,
	      "--array: a job array, Slurm's A-B[:S] and N items joined by ',', then %LIMIT "
	      "(elements running at once); each element is a job of its own"),
	F_STR(struct api_job_submit, array_pending, false, INT64_C(1) << 24,
	      "the controller's (refused at submit): an array's indices not started yet"),
	F_I64(struct api_job_submit, array_limit, false, 0, AIDC_MAX_ARRAY_TASKS,
	      "the controller's: the array's %LIMIT (0 = none)"),
	F_I64(struct api_job_submit, array_count, false, 0, AIDC_MAX_ARRAY_TASKS,
	      "the controller's: SLURM_ARRAY_TASK_COUNT"),
	F_I64(struct api_job_submit, array_min, false, 0, AIDC_MAX_ARRAY_INDEX,
	      "the controller's: SLURM_ARRAY_TASK_MIN"),
	F_I64(struct api_job_submit, array_max, false, 0, AIDC_MAX_ARRAY_INDEX,
	      "the controller's: SLURM_ARRAY_TASK_MAX"),
	F_I64(struct api_job_submit, array_step, false, 0, AIDC_MAX_ARRAY_INDEX,
	      "the controller's: SLURM_ARRAY_TASK_STEP"),
	F_I64(struct api_job_submit, array_failed, false, 0, AIDC_MAX_ARRAY_TASKS,
	      "the controller's: the array's elements that failed or were cancelled"),
	F_I64(struct api_job_submit, array_job_id, false, 0, INT64_MAX,
	      "the controller's: an element's array (SLURM_ARRAY_JOB_ID)"),
	F_I64(struct api_job_submit, array_task_id, false, 0, AIDC_MAX_ARRAY_INDEX,
	      "the controller's: an element's index (SLURM_ARRAY_TASK_ID)"),
	F_STR(struct api_job_submit, umask, false, 4,
	      "the submitter's umask in octal (\"0077\"), applied to the tasks and their -o/-e "
	      "files (as Slurm propagates it); absent: 0022"),
	F_BOOL(struct api_job_submit, exclusive,
	       "--exclusive: whole nodes: starts only on nodes running no other job, and no other "
	       "job's task goes on its nodes while it runs (pending reason Resources until then)"),
	F_I64(struct api_job_submit, gpu_milli, false, 0, AIDC_DEVICE_MILLI,
	      "a share of one device in milli (1..1000, e.g. 500 = half; below 1000 only with "
	      "gpus_per_task 1): tasks with shares may share a device (docs/live.md); 0 = whole"),
	F_STR(struct api_job_submit, nodelist, false, (int64_t)AIDC_MAX_ARG_BYTES - 1,
	      "-w: a Slurm hostlist (\"n[1-3],gpu7\") of known nodes of the job's partition: "
	      "the job's allocation contains every one (nodes is set to their count; more "
	      "nodes than listed is refused)"),
	F_STR(struct api_job_submit, exclude, false, (int64_t)AIDC_MAX_ARG_BYTES - 1,
	      "-x: a Slurm hostlist of known nodes the job never uses"),
	F_BOOL(struct api_job_submit, mem_whole,
	       "--mem=0: each task's memory limit is its node's whole memory; needs exclusive "
	       "and no mem_mib"),
};
SCHEMA(api_schema_job_submit, "JobSubmit", struct api_job_submit, job_submit_fields,
       "a job to run: a gang of ntasks identical tasks");

static const struct api_field device_fields[] = {
	F_I64(struct api_device, index, true, 0, AIDC_MAX_DEVICES_PER_NODE - 1, "device index"),
	F_STR(struct api_device, vendor, true, NAMEB, "vendor, e.g. nvidia"),
	F_STR(struct api_device, model, true, NAMEB, "model, e.g. H100"),
	F_I64(struct api_device, mem_mib, false, 0, INT64_C(1) << 40, "device memory, MiB"),
	F_STR(struct api_device, uuid, false, NAMEB, "stable per-device id, when known"),
};
SCHEMA(api_schema_device, "Device", struct api_device, device_fields, "one accelerator");

/* The topology member of a registration (checked across fields by api_topology_check). */
static const struct api_field topo_package_fields[] = {
	F_I64(struct api_topo_package, index, true, 0, AIDC_MAX_TOPO_PACKAGES - 1,
	      "hwloc logical index"),
	F_I64(struct api_topo_package, cores, true, 0, AIDC_MAX_TOPO_CORES, "cores"),
	F_I64(struct api_topo_package, pus, true, 0, AIDC_MAX_TOPO_PUS, "processing units"),
};
SCHEMA(api_schema_topo_package, "TopoPackage", struct api_topo_package, topo_package_fields,
       "one processor package (socket)");

static const struct api_field topo_numa_fields[] = {
	F_I64(struct api_topo_numa, index, true, 0, AIDC_MAX_TOPO_NUMA_NODES - 1,
	      "hwloc logical index"),
	F_I64(struct api_topo_numa, os_index, true, 0, INT32_MAX, "the kernel's node number"),
	F_I64(struct api_topo_numa, package, true, -1, AIDC_MAX_TOPO_PACKAGES - 1,
	      "package holding it, -1 if none or several"),
	F_I64(struct api_topo_numa, mem_mib, true, 0, (int64_t)AIDC_MAX_NODE_MEM_MIB,
	      "local memory, MiB"),
	F_I64(struct api_topo_numa, cores, true, 0, AIDC_MAX_TOPO_CORES, "cores"),
	F_I64(struct api_topo_numa, pus, true, 0, AIDC_MAX_TOPO_PUS, "processing units"),
};
SCHEMA(api_schema_topo_numa, "TopoNuma", struct api_topo_numa, topo_numa_fields,
       "one NUMA node");

static const struct api_field topo_accel_fields[] = {
	F_STR(struct api_topo_accel, bus_id, true, 16, "PCI bus id 0000:17:00.0"),
	F_I64(struct api_topo_accel, vendor_id, true, 0, 0xffff, "PCI vendor id"),
	F_I64(struct api_topo_accel, device_id, true, 0, 0xffff, "PCI device id"),
	F_I64(struct api_topo_accel, class_id, true, 0, 0xffff,
	      "PCI class << 8 | subclass (0x0302 3D, 0x1200 processing accelerator)"),
	F_I64(struct api_topo_accel, numa, true, -1, AIDC_MAX_TOPO_NUMA_NODES - 1,
	      "closest NUMA node, -1 if unknown"),
	F_I64(struct api_topo_accel, package, true, -1, AIDC_MAX_TOPO_PACKAGES - 1,
	      "closest package, -1 if unknown"),
};
SCHEMA(api_schema_topo_accel, "TopoAccelerator", struct api_topo_accel, topo_accel_fields,
       "one accelerator on the PCI bus");

static const struct api_field topology_fields[] = {
	F_I64(struct api_topology, v, true, 1, INT32_MAX, "topology version (1)"),
	F_I64(struct api_topology, cores, true, 1, AIDC_MAX_TOPO_CORES, "cores of the node"),
	F_I64(struct api_topology, pus, true, 1, AIDC_MAX_TOPO_PUS,
	      "processing units (hardware threads) of the node"),
	F_OBJV(struct api_topology, packages, AIDC_MAX_TOPO_PACKAGES, &api_schema_topo_package,
	       "processor packages"),
	F_OBJV(struct api_topology, numa, AIDC_MAX_TOPO_NUMA_NODES, &api_schema_topo_numa,
	       "NUMA nodes"),
	F_OBJV(struct api_topology, accelerators, AIDC_MAX_TOPO_ACCELERATORS,
	       &api_schema_topo_accel, "accelerators on the PCI bus"),
};
SCHEMA_CHECKED(api_schema_topology, "Topology", struct api_topology, topology_fields,
	       "the node's hardware topology as hwloc sees it", api_topology_check);

static const struct api_field task_ref_fields[] = {
	F_I64(struct api_task_ref, job, true, 1, INT64_MAX, "job id"),
	F_I64(struct api_task_ref, task, true, 0, AIDC_MAX_TASKS_PER_JOB - 1, "task index"),
	F_I64(struct api_task_ref, attempt, true, 0, INT32_MAX, "attempt"),
};
SCHEMA(api_schema_task_ref, "TaskRef", struct api_task_ref, task_ref_fields,
       "a task an agent runs");

static const struct api_field agent_register_fields[] = {
	F_I64(struct api_agent_register, protocol, false, 0, INT32_MAX,
	      "agent protocol version (2); absent means 1, which this controller refuses"),
	F_STR(struct api_agent_register, agent_id, false, 64,
	      "the agent's identity, kept in its state directory"),
	F_I64(struct api_agent_register, epoch, false, 0, INT64_MAX,
	      "this run of the agent (larger after a restart)"),
	F_STR(struct api_agent_register, name, true, NAMEB, "node name"),
	F_STR(struct api_agent_register, addr, true, NAMEB, "address for MASTER_ADDR"),
	F_STR(struct api_agent_register, partition, false, NAMEB, "partition"),
	F_I64(struct api_agent_register, cpus, true, 1, AIDC_MAX_NODE_CPU_MILLI / 1000, "CPUs"),
	F_I64(struct api_agent_register, mem_mib, true, 1, (int64_t)AIDC_MAX_NODE_MEM_MIB,
	      "memory, MiB"),
	F_OBJV(struct api_agent_register, devices, AIDC_MAX_DEVICES_PER_NODE, &api_schema_device,
	       "accelerators"),
	F_OBJV(struct api_agent_register, running, AIDC_MAX_TASKS_PER_NODE, &api_schema_task_ref,
	       "tasks still running from before"),
	F_OBJ(struct api_agent_register, topology, &api_schema_topology,
	      "hardware topology (absent from agents built without hwloc)"),
};
SCHEMA(api_schema_agent_register, "AgentRegister", struct api_agent_register,
       agent_register_fields, "a node agent announcing itself");

static const struct api_field device_usage_fields[] = {
	F_I64(struct api_device_usage, index, true, 0, AIDC_MAX_DEVICES_PER_NODE - 1,
	      "device index on the node"),
	F_I64(struct api_device_usage, util_pct, true, 0, 100,
	      "percent of the last sample period the device was busy"),
	F_I64(struct api_device_usage, mem_used_mib, true, 0, INT64_C(1) << 40,
	      "device memory in use, MiB"),
};
SCHEMA(api_schema_device_usage, "DeviceUsage", struct api_device_usage, device_usage_fields,
       "one device's use as the agent measured it (NVML)");

static const struct api_field heartbeat_fields[] = {
	F_I64(struct api_heartbeat, epoch, true, 0, INT64_MAX, "the registered epoch"),
	F_STR(struct api_heartbeat, problem, false, 511,
	      "why the node cannot take work (drains it); absent when healthy"),
	F_OBJV(struct api_heartbeat, running, AIDC_MAX_TASKS_PER_NODE, &api_schema_task_ref,
	       "tasks running now"),
	F_OBJV(struct api_heartbeat, devices, AIDC_MAX_DEVICES_PER_NODE, &api_schema_device_usage,
	       "device use measured by the agent (NVML); absent when not measured"),
};
SCHEMA(api_schema_heartbeat, "Heartbeat", struct api_heartbeat, heartbeat_fields,
       "an agent's periodic liveness report");

static const struct api_field task_status_fields[] = {
	F_I64(struct api_task_status, attempt, true, 0, INT32_MAX, "attempt"),
	F_STR(struct api_task_status, state, true, 16, "running | exited | failed | lost"),
	F_I64(struct api_task_status, pid, false, 0, INT32_MAX, "process id"),
	F_I64(struct api_task_status, exit_code, false, 0, 255, "exit status"),
	F_I64(struct api_task_status, signal, false, 0, 128, "terminating signal"),
	F_BOOL(struct api_task_status, timed_out, "killed for its time limit"),
	F_STR(struct api_task_status, message, false, 1023, "detail"),
};
SCHEMA(api_schema_task_status, "TaskStatus", struct api_task_status, task_status_fields,
       "a task's state change reported by its agent");

static const struct api_field task_report_fields[] = {
	F_I64(struct api_task_report, job, true, 1, INT64_MAX, "job id"),
	F_I64(struct api_task_report, task, true, 0, AIDC_MAX_TASKS_PER_JOB - 1, "task index"),
	F_I64(struct api_task_report, attempt, true, 0, INT32_MAX, "attempt"),
	F_STR(struct api_task_report, state, true, 16, "running | exited | failed | lost"),
	F_I64(struct api_task_report, pid, false, 0, INT32_MAX, "process id"),
	F_I64(struct api_task_report, exit_code, false, 0, 255, "exit status"),
	F_I64(struct api_task_report, signal, false, 0, 128, "terminating signal"),
	F_BOOL(struct api_task_report, timed_out, "killed for its time limit"),
	F_STR(struct api_task_report, message, false, 1023, "detail"),
	F_I64(struct api_task_report, cpu_usec, false, -1, INT64_MAX / 2,
	      "an ended task's CPU time, microseconds (cgroup cpu.stat or rusage); absent or -1 = "
	      "not measured"),
	F_I64(struct api_task_report, mem_peak_bytes, false, -1, INT64_MAX / 2,
	      "an ended task's peak memory, bytes (cgroup memory.peak / max_usage_in_bytes or "
	      "rusage maxrss); absent or -1 = not measured"),
	F_I64(struct api_task_report, progress_milli, false, 0,
	      (int64_t)AIDC_MAX_PROGRESS_RATE * 1000,
	      "an ended task's throughput from its progress file (AIDC_PROGRESS_FILE), "
	      "thousandths of the job's unit per second; absent or 0 = none reported"),
};
SCHEMA(api_schema_task_report, "TaskReport", struct api_task_report, task_report_fields,
       "one task's state change inside a batch");

static const struct api_field task_status_batch_fields[] = {
	F_I64(struct api_task_status_batch, epoch, true, 0, INT64_MAX, "the registered epoch"),
	F_OBJV(struct api_task_status_batch, reports, API_MAX_STATUS_BATCH,
	       &api_schema_task_report, "reports, applied in order"),
};
SCHEMA(api_schema_task_status_batch, "TaskStatusBatch", struct api_task_status_batch,
       task_status_batch_fields, "several task state changes from one agent");

static const struct api_field agent_ok_fields[] = {
	F_BOOL(struct api_agent_ok, ok, "true"),
	F_I64(struct api_agent_ok, protocol, true, 0, INT32_MAX, "agent protocol version"),
	F_I64(struct api_agent_ok, heartbeat_s, false, 0, 3600, "seconds between heartbeats"),
	F_I64(struct api_agent_ok, kill_grace_s, false, 0, 3600, "SIGTERM to SIGKILL"),
};
SCHEMA(api_schema_agent_ok, "AgentOk", struct api_agent_ok, agent_ok_fields,
       "the controller's answer to a registration or heartbeat");

/* Device indices: decimal numbers below AIDC_MAX_DEVICES_PER_NODE. */
static int launch_check(const void *p, const char *where, struct aidc_err *e)
{
	const struct api_launch *l = p;
	for (size_t i = 0; i < l->devices.n; i++) {
		uint32_t d;
		if (aidc_parse_u32(l->devices.v[i], 0, AIDC_MAX_DEVICES_PER_NODE - 1, &d) != 0)
			return aidc_errf(e, AIDC_E_INVAL, "%sdevices: '%.16s' is not a device index",
					 where, l->devices.v[i]);
	}
	if (!l->script && l->command.n == 0)
		return aidc_errf(e, AIDC_E_INVAL, "%sneither a script nor a command", where);
	return 0;
}

static const struct api_field launch_fields[] = {
	F_I64(struct api_launch, job, true, 1, INT64_MAX, "job id"),
	F_I64(struct api_launch, task, true, 0, AIDC_MAX_TASKS_PER_JOB - 1, "task index (RANK)"),
	F_I64(struct api_launch, attempt, true, 0, INT32_MAX, "attempt"),
	F_I64(struct api_launch, uid, true, 0, UINT32_MAX - 1, "the job's uid"),
	F_I64(struct api_launch, gid, true, 0, UINT32_MAX - 1, "the job's gid"),
	F_STR(struct api_launch, user, false, 64, "the job's user name"),
	F_STR(struct api_launch, name, false, NAMEB, "job name"),
	F_STR(struct api_launch, cwd, false, PATHB, "working directory"),
	F_STR(struct api_launch, script, false, AIDC_MAX_SCRIPT_BYTES, "batch script text"),
	F_STRV(struct api_launch, script_args, false, AIDC_MAX_ARGV, AIDC_MAX_ARG_BYTES - 1,
	       "the batch script's arguments ($1..)"),
	F_STRV(struct api_launch, command, false, AIDC_MAX_ARGV, AIDC_MAX_ARG_BYTES - 1, "argv"),
	F_STRV(struct api_launch, env, false, AIDC_MAX_ENV, AIDC_MAX_ARG_BYTES - 1,
	       "environment KEY=VALUE"),
	F_I64(struct api_launch, time_limit_s, false, 0, AIDC_MAX_DURATION_S, "0 = none"),
	F_I64(struct api_launch, kill_grace_s, false, 0, 3600, "SIGTERM to SIGKILL"),
	F_I64(struct api_launch, mem_mib, false, 0, (int64_t)AIDC_MAX_NODE_MEM_MIB, "per task"),
	F_I64(struct api_launch, cpus, false, 0, AIDC_MAX_NODE_CPU_MILLI / 1000, "per task"),
	F_STR(struct api_launch, stdout_path, false, PATHB, "-o pattern"),
	F_STR(struct api_launch, stderr_path, false, PATHB, "-e pattern"),
	F_I64(struct api_launch, world_size, false, 0, AIDC_MAX_TASKS_PER_JOB, "WORLD_SIZE"),
	F_I64(struct api_launch, local_rank, false, 0, AIDC_MAX_TASKS_PER_NODE, "LOCAL_RANK"),
	F_I64(struct api_launch, local_world_size, false, 0, AIDC_MAX_TASKS_PER_NODE,
	      "LOCAL_WORLD_SIZE"),
	F_STR(struct api_launch, master_addr, false, NAMEB, "MASTER_ADDR: rank 0's node address"),
	F_I64(struct api_launch, master_port, false, 0, 65535, "MASTER_PORT"),
	F_STR(struct api_launch, vendor, false, NAMEB, "vendor of this node's devices"),
	F_STRV(struct api_launch, devices, false, AIDC_MAX_DEVICES_PER_NODE, 8,
	       "device indices on this node"),
	F_STR(struct api_launch, umask, false, 4, "the job's umask in octal; absent: 0022"),
	F_BOOL(struct api_launch, slurm_env,
	       "add a Slurm batch job's run-time SLURM_* variables (job id, node list, ...)"),
	F_I64(struct api_launch, signal, false, 0, 64, "--signal: 0 = none"),
	F_I64(struct api_launch, signal_before_s, false, 0, 65535,
	      "seconds before time_limit_s"),
	F_BOOL(struct api_launch, signal_batch, "to the batch script alone"),
	F_I64(struct api_launch, device_milli, false, 0, AIDC_DEVICE_MILLI,
	      "the task's share of its one device, milli (0 = whole devices)"),
	F_STR(struct api_launch, slurm_nodes, false, AIDC_MAX_ARG_BYTES,
	      "a multi-node batch job's nodes in task order (compressed hostlist)"),
};
SCHEMA_CHECKED(api_schema_launch, "Launch", struct api_launch, launch_fields,
	       "one task to start", launch_check);

static const struct api_field work_fields[] = {
	F_I64(struct api_work, protocol, true, 0, INT32_MAX, "agent protocol version"),
	F_OBJV(struct api_work, launch, AIDC_MAX_TASKS_PER_NODE * 4, &api_schema_launch,
	       "tasks to start"),
	F_OBJV(struct api_work, kill, AIDC_MAX_TASKS_PER_NODE * 4, &api_schema_task_ref,
	       "tasks to stop"),
};
SCHEMA(api_schema_work, "Work", struct api_work, work_fields, "orders for an agent");

static const struct api_field token_create_fields[] = {
	F_STR(struct api_token_create, name, false, 64, "a label for the token"),
	F_I64(struct api_token_create, expires_s, false, 0,
	      (int64_t)AIDC_MAX_TOKEN_DAYS * 86400, "lifetime in seconds, 0 = never"),
	F_STR(struct api_token_create, user, false, 64, "admins: the user the token is for"),
};
SCHEMA(api_schema_token_create, "TokenCreate", struct api_token_create, token_create_fields,
       "a request for a per-user API token");

static const struct api_field ui_login_fields[] = {
	F_STR(struct api_ui_login, token, true, AIDC_MAX_TOKEN_BYTES,
	      "an API token (aidc token create), kept in an HttpOnly cookie"),
};
SCHEMA(api_schema_ui_login, "UiLogin", struct api_ui_login, ui_login_fields,
       "the dashboard's sign-in");

static const struct api_field service_probe_fields[] = {
	F_STR(struct api_service_probe, path, false, 255,
	      "HTTP path probed on the replica's port; \"/healthz\" when absent"),
	F_I64(struct api_service_probe, period_s, false, 1, 3600, "seconds between probes (2)"),
	F_I64(struct api_service_probe, timeout_s, false, 1, 60,
	      "seconds a probe may take (1); at most period_s"),
	F_I64(struct api_service_probe, failure_threshold, false, 1, 100,
	      "failures in a row that restart a replica (3)"),
	F_I64(struct api_service_probe, start_timeout_s, false, 1, 86400,
	      "a replica not ready this long after it started is restarted (300)"),
};
SCHEMA(api_schema_service_probe, "ServiceProbe", struct api_service_probe, service_probe_fields,
       "a replica's readiness and liveness probe");

static const struct api_field service_autoscale_fields[] = {
	F_I64(struct api_service_autoscale, min, true, 1, AIDC_MAX_SERVICE_REPLICAS,
	      "fewest replicas"),
	F_I64(struct api_service_autoscale, max, true, 1, AIDC_MAX_SERVICE_REPLICAS,
	      "most replicas"),
	F_I64(struct api_service_autoscale, target_rps, false, 1, 1000000,
	      "requests per second one replica should take"),
	F_I64(struct api_service_autoscale, target_latency_ms, false, 1, 600000,
	      "average response time (ms, at the router) to keep under; a replica is added "
	      "while it is above (docs/services.md \"Autoscaling\")"),
	F_I64(struct api_service_autoscale, scale_down_delay_s, false, 1, 86400,
	      "seconds the rate must stay low before replicas are removed (60)"),
};
SCHEMA(api_schema_service_autoscale, "ServiceAutoscale", struct api_service_autoscale,
       service_autoscale_fields,
       "replicas from the request rate and/or the response time (at least one target)");

static const struct api_field service_rollout_fields[] = {
	F_I64(struct api_service_rollout, max_surge, false, 0, AIDC_MAX_SERVICE_REPLICAS,
	      "replicas above the count during an update (1)"),
	F_I64(struct api_service_rollout, max_unavailable, false, 0, AIDC_MAX_SERVICE_REPLICAS,
	      "ready replicas below the count allowed during an update (0)"),
	F_I64(struct api_service_rollout, max_failures, false, 1, 100,
	      "failures of new replicas that roll the update back (3)"),
};
SCHEMA(api_schema_service_rollout, "ServiceRollout", struct api_service_rollout,
       service_rollout_fields, "a rolling update's bounds");

static const struct api_field service_spec_fields[] = {
	F_I64(struct api_service_spec, v, false, 0, API_SERVICE_SPEC_VERSION,
	      "spec version (1); absent means the current one"),
	F_STR(struct api_service_spec, name, true, 63,
	      "service name: a-z, 0-9 and '-', starting with a letter"),
	F_I64(struct api_service_spec, replicas, false, 1, AIDC_MAX_SERVICE_REPLICAS,
	      "replicas to keep running (1; from autoscale.min with autoscale); none: "
	      "POST .../scale with 0"),
	F_STRV(struct api_service_spec, command, true, AIDC_MAX_ARGV, AIDC_MAX_ARG_BYTES - 1,
	       "argv of a replica; it listens on the port in $PORT"),
	F_STRV(struct api_service_spec, env, false, AIDC_MAX_ENV, AIDC_MAX_ARG_BYTES - 1,
	       "KEY=VALUE entries added to a replica's environment"),
	F_STR(struct api_service_spec, cwd, false, PATHB, "working directory (absolute)"),
	F_I64(struct api_service_spec, cpus_per_task, false, 0, AIDC_MAX_NODE_CPU_MILLI / 1000,
	      "CPUs per replica (1)"),
	F_I64(struct api_service_spec, mem_mib, false, 0, (int64_t)AIDC_MAX_NODE_MEM_MIB,
	      "memory per replica, MiB (the controller's default)"),
	F_I64(struct api_service_spec, gpus_per_task, false, 0, AIDC_MAX_DEVICES_PER_NODE,
	      "accelerators per replica"),
	F_STR(struct api_service_spec, gpu_model, false, NAMEB, "accepted accelerator model"),
	F_STR(struct api_service_spec, partition, false, NAMEB, "partition"),
	F_STR(struct api_service_spec, account, false, NAMEB, "account charged"),
	F_STR(struct api_service_spec, qos, false, NAMEB, "QoS"),
	F_OBJ(struct api_service_spec, probe, &api_schema_service_probe, "the replicas' probe"),
	F_OBJ(struct api_service_spec, autoscale, &api_schema_service_autoscale,
	      "autoscaling bounds; absent = a fixed count"),
	F_OBJ(struct api_service_spec, rollout, &api_schema_service_rollout,
	      "rolling update bounds"),
	F_I64(struct api_service_spec, gpu_milli, false, 0, AIDC_DEVICE_MILLI,
	      "a replica's share of one device in milli (1..1000, with gpus_per_task 1)"),
};
SCHEMA(api_schema_service_spec, "ServiceSpec", struct api_service_spec, service_spec_fields,
       "a long-running service: replicas of one command behind one address");

static const struct api_field service_scale_fields[] = {
	F_I64(struct api_service_scale, replicas, true, 0, AIDC_MAX_SERVICE_REPLICAS,
	      "replicas to keep running"),
};
SCHEMA(api_schema_service_scale, "ServiceScale", struct api_service_scale, service_scale_fields,
       "a new replica count");

const struct api_schema *const api_schemas[] = {
	&api_schema_job_submit,	    &api_schema_device,		   &api_schema_task_ref,
	&api_schema_agent_register, &api_schema_heartbeat,	   &api_schema_task_status,
	&api_schema_task_report,    &api_schema_task_status_batch,
	/* appended: fuzz seeds pick schemas by index (fuzz/api_decode.c) */
	&api_schema_topology,	    &api_schema_topo_package,	   &api_schema_topo_numa,
	&api_schema_topo_accel,	    &api_schema_token_create,
	&api_schema_agent_ok,	    &api_schema_launch,	   &api_schema_work,
	&api_schema_device_usage,   &api_schema_ui_login,
	&api_schema_service_spec,   &api_schema_service_probe,	   &api_schema_service_autoscale,
	&api_schema_service_rollout, &api_schema_service_scale,
};
const size_t api_nschemas = sizeof api_schemas / sizeof api_schemas[0];

const struct api_schema *api_find_schema(const char *name)
{
	for (size_t i = 0; i < api_nschemas; i++)
		if (strcmp(api_schemas[i]->name, name) == 0)
			return api_schemas[i];
	return NULL;
}

/* ---- decoding -------------------------------------------------------------- */

static int decode_obj(const struct api_schema *s, json_t *obj, void *dst, const char *where,
		      struct aidc_err *e);

/* "where" + "name" (+ "[idx]" unless idx is SIZE_MAX): a value's path in errors. */
static const char *value_label(char *buf, size_t size, const char *where, const char *name,
			       size_t idx)
{
	if (idx == SIZE_MAX)
		snprintf(buf, size, "%s%s", where, name);
	else
		snprintf(buf, size, "%s%s[%zu]", where, name, idx);
	return buf;
}

/* A JSON string of at most max bytes and no NUL byte -> *out (caller frees). */
static int decode_string(json_t *v, int64_t max, const char *where, const char *name, size_t idx,
			 char **out, struct aidc_err *e)
{
	char lb[2 * AIDC_MAX_NAME_BYTES];
	if (!json_is_string(v))
		return aidc_errf(e, AIDC_E_INVAL, "%s: must be a string",
				 value_label(lb, sizeof lb, where, name, idx));
	size_t n = json_string_length(v);
	if ((int64_t)n > max)
		return aidc_errf(e, AIDC_E_LIMIT, "%s: longer than %" PRId64 " bytes",
				 value_label(lb, sizeof lb, where, name, idx), max);
	if (memchr(json_string_value(v), '\0', n))
		return aidc_errf(e, AIDC_E_INVAL, "%s: contains a NUL byte",
				 value_label(lb, sizeof lb, where, name, idx));
	*out = aidc_strndup(json_string_value(v), n);
	return 0;
}

/* An array of strings (STRV) or objects (OBJV) of at most f->max items.
 * Each item is counted before it is decoded, so release frees a partial one. */
static int decode_array(const struct api_field *f, json_t *v, void *dst, const char *where,
			struct aidc_err *e)
{
	bool strs = f->type == API_T_STRV;
	if (!json_is_array(v))
		return aidc_errf(e, AIDC_E_INVAL, "%s%s: must be an array of %s", where, f->name,
				 strs ? "strings" : "objects");
	size_t n = json_array_size(v);
	if ((int64_t)n > f->max)
		return aidc_errf(e, AIDC_E_LIMIT, "%s%s: more than %" PRId64 " items", where,
				 f->name, f->max);
	struct api_strv *sv = dst;
	struct api_objv *ov = dst;
	if (strs)
		sv->v = aidc_calloc(n ? n : 1, sizeof *sv->v);
	else
		ov->v = aidc_calloc(n ? n : 1, f->sub->size);
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(v, i);
		int rc;
		if (strs) {
			sv->n = i + 1;
			rc = decode_string(it, f->item_max, where, f->name, i, &sv->v[i], e);
		} else {
			char sub_where[AIDC_MAX_NAME_BYTES];
			snprintf(sub_where, sizeof sub_where, "%s%s[%zu].", where, f->name, i);
			ov->n = i + 1;
			rc = decode_obj(f->sub, it, (char *)ov->v + i * f->sub->size, sub_where, e);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int decode_field(const struct api_field *f, json_t *v, char *base, const char *where,
			struct aidc_err *e)
{
	void *dst = base + f->off;
	switch (f->type) {
	case API_T_STR:
		return decode_string(v, f->max, where, f->name, SIZE_MAX, (char **)dst, e);
	case API_T_I64: {
		if (!json_is_integer(v))
			return aidc_errf(e, AIDC_E_INVAL, "%s%s: must be an integer", where, f->name);
		json_int_t x = json_integer_value(v);
		if (x < f->min || x > f->max)
			return aidc_errf(e, AIDC_E_INVAL,
					 "%s%s: %" JSON_INTEGER_FORMAT " is outside %" PRId64
					 "..%" PRId64,
					 where, f->name, x, f->min, f->max);
		*(int64_t *)dst = x;
		return 0;
	}
	case API_T_BOOL:
		if (!json_is_boolean(v))
			return aidc_errf(e, AIDC_E_INVAL, "%s%s: must be true or false", where,
					 f->name);
		*(bool *)dst = json_is_true(v);
		return 0;
	case API_T_STRV:
	case API_T_OBJV:
		return decode_array(f, v, dst, where, e);
	case API_T_OBJ: {
		if (!json_is_object(v))
			return aidc_errf(e, AIDC_E_INVAL, "%s%s: must be a JSON object (%s)", where,
					 f->name, f->sub->name);
		char sub_where[AIDC_MAX_NAME_BYTES];
		snprintf(sub_where, sizeof sub_where, "%s%s.", where, f->name);
		void *sub = aidc_calloc(1, f->sub->size);
		*(void **)dst = sub; /* set first so release frees a partial element */
		return decode_obj(f->sub, v, sub, sub_where, e);
	}
	}
	return aidc_errf(e, AIDC_E_INTERNAL, "%s%s: unknown field type", where, f->name);
}

static int decode_obj(const struct api_schema *s, json_t *obj, void *dst, const char *where,
		      struct aidc_err *e)
{
	if (!json_is_object(obj))
		return aidc_errf(e, AIDC_E_INVAL, "%s: a %s must be a JSON object",
				 *where ? where : "body", s->name);
	const char *key;
	json_t *val;
	json_object_foreach(obj, key, val)
	{
		bool known = false;
		for (size_t i = 0; i < s->nfields; i++)
			if (strcmp(s->fields[i].name, key) == 0) {
				known = true;
				break;
			}
		if (!known)
			return aidc_errf(e, AIDC_E_INVAL, "%s%.64s: unknown field in %s", where, key,
					 s->name);
	}
	for (size_t i = 0; i < s->nfields; i++) {
		const struct api_field *f = &s->fields[i];
		json_t *v = json_object_get(obj, f->name);
		if (!v || json_is_null(v)) {
			if (f->required)
				return aidc_errf(e, AIDC_E_INVAL, "%s%s: required field missing",
						 where, f->name);
			continue;
		}
		int rc = decode_field(f, v, dst, where, e);
		if (rc)
			return rc;
	}
	return s->check ? s->check(dst, where, e) : 0;
}

static void release_obj(const struct api_schema *s, void *dst)
{
	char *base = dst;
	for (size_t i = 0; i < s->nfields; i++) {
		const struct api_field *f = &s->fields[i];
		void *p = base + f->off;
		switch (f->type) {
		case API_T_STR:
			aidc_free(*(char **)p);
			*(char **)p = NULL;
			break;
		case API_T_STRV: {
			struct api_strv *sv = p;
			for (size_t k = 0; k < sv->n; k++)
				aidc_free(sv->v[k]);
			aidc_free(sv->v);
			sv->v = NULL;
			sv->n = 0;
			break;
		}
		case API_T_OBJV: {
			struct api_objv *ov = p;
			for (size_t k = 0; k < ov->n; k++)
				release_obj(f->sub, (char *)ov->v + k * f->sub->size);
			aidc_free(ov->v);
			ov->v = NULL;
			ov->n = 0;
			break;
		}
		case API_T_OBJ: {
			void **sub = p;
			if (*sub)
				release_obj(f->sub, *sub);
			aidc_free(*sub);
			*sub = NULL;
			break;
		}
		default:
			break;
		}
	}
}

void api_decoded_release(const struct api_schema *schema, void *dst)
{
	if (dst)
		release_obj(schema, dst);
}

int api_decode(const struct api_schema *schema, const char *json, size_t len, void *dst,
	       struct aidc_err *e)
{
	return api_decode_max(schema, json, len, AIDC_MAX_HTTP_BODY_BYTES, dst, e);
}

int api_decode_max(const struct api_schema *schema, const char *json, size_t len, size_t max_len,
		   void *dst, struct aidc_err *e)
{
	memset(dst, 0, schema->size);
	if (len > max_len)
		return aidc_errf(e, AIDC_E_LIMIT, "body: larger than %zu bytes", max_len);
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES,
				  &jerr);
	if (!root)
		return aidc_errf(e, AIDC_E_PARSE, "body: malformed JSON at line %d column %d: %s",
				 jerr.line, jerr.column, jerr.text);
	int rc = decode_obj(schema, root, dst, "", e);
	json_decref(root);
	if (rc)
		release_obj(schema, dst);
	return rc;
}

/* ---- routes ---------------------------------------------------------------- */

const char *api_role_name(enum api_role r)
{
	switch (r) {
	case API_ROLE_PUBLIC:
		return "public";
	case API_ROLE_USER:
		return "user";
	case API_ROLE_ADMIN:
		return "admin";
	case API_ROLE_AGENT:
		return "agent";
	}
	return "unknown";
}

/* Matches one pattern; path segments must be non-empty and fit a param slot. */
static bool match_pattern(const char *pat, const char *path, struct api_request *req)
{
	size_t np = 0;
	while (*pat && *path) {
		if (*pat != '/' || *path != '/')
			return false;
		pat++, path++;
		const char *pe = strchr(pat, '/'), *se = strchr(path, '/');
		size_t pl = pe ? (size_t)(pe - pat) : strlen(pat);
		size_t sl = se ? (size_t)(se - path) : strlen(path);
		if (pl >= 2 && pat[0] == '{') {
			if (sl == 0 || sl >= AIDC_MAX_NAME_BYTES || np == API_MAX_PARAMS)
				return false;
			memcpy(req->params[np], path, sl);
			req->params[np][sl] = '\0';
			np++;
		} else if (pl != sl || memcmp(pat, path, pl) != 0) {
			return false;
		}
		pat += pl, path += sl;
	}
	if (*pat || *path)
		return false;
	req->nparams = np;
	return true;
}

int api_route_match(const struct api_route *routes, size_t n, const char *method,
		    const char *path, struct api_request *req, struct aidc_err *e)
{
	bool path_known = false;
	for (size_t i = 0; i < n; i++) {
		if (!match_pattern(routes[i].pattern, path, req))
			continue;
		path_known = true;
		if (strcmp(routes[i].method, method) == 0) {
			req->route = &routes[i];
			return 0;
		}
	}
	if (path_known)
		return aidc_errf(e, AIDC_E_NOTFOUND, "method %.16s is not allowed on %.200s", method,
				 path);
	return aidc_errf(e, AIDC_E_NOTFOUND, "no endpoint %.16s %.200s", method, path);
}

int api_error_json(struct aidc_buf *out, int code, const char *message)
{
	struct aidc_json j;
	aidc_buf_reset(out);
	aidc_json_init(&j, out, false);
	aidc_json_obj_begin(&j);
	aidc_json_key(&j, "error");
	aidc_json_obj_begin(&j);
	aidc_json_kstr(&j, "code", aidc_errname(code));
	aidc_json_kstr(&j, "message", message ? message : aidc_strerror(code));
	aidc_json_obj_end(&j);
	aidc_json_obj_end(&j);
	return aidc_json_finish(&j);
}

/* ---- OpenAPI --------------------------------------------------------------- */

static void schema_json(struct aidc_json *j, const struct api_schema *s)
{
	aidc_json_key(j, s->name);
	aidc_json_obj_begin(j);
	aidc_json_kstr(j, "type", "object");
	aidc_json_kstr(j, "description", s->help);
	aidc_json_kbool(j, "additionalProperties", false);
	aidc_json_key(j, "required");
	aidc_json_arr_begin(j);
	for (size_t i = 0; i < s->nfields; i++)
		if (s->fields[i].required)
			aidc_json_str(j, s->fields[i].name);
	aidc_json_arr_end(j);
	aidc_json_key(j, "properties");
	aidc_json_obj_begin(j);
	for (size_t i = 0; i < s->nfields; i++) {
		const struct api_field *f = &s->fields[i];
		aidc_json_key(j, f->name);
		aidc_json_obj_begin(j);
		aidc_json_kstr(j, "description", f->help);
		switch (f->type) {
		case API_T_STR:
			aidc_json_kstr(j, "type", "string");
			aidc_json_ki64(j, "maxLength", f->max);
			break;
		case API_T_I64:
			aidc_json_kstr(j, "type", "integer");
			aidc_json_ki64(j, "minimum", f->min);
			aidc_json_ki64(j, "maximum", f->max);
			break;
		case API_T_BOOL:
			aidc_json_kstr(j, "type", "boolean");
			break;
		case API_T_STRV:
			aidc_json_kstr(j, "type", "array");
			aidc_json_ki64(j, "maxItems", f->max);
			aidc_json_key(j, "items");
			aidc_json_obj_begin(j);
			aidc_json_kstr(j, "type", "string");
			aidc_json_ki64(j, "maxLength", f->item_max);
			aidc_json_obj_end(j);
			break;
		case API_T_OBJV: {
			char ref[AIDC_MAX_NAME_BYTES];
			snprintf(ref, sizeof ref, "#/components/schemas/%s", f->sub->name);
			aidc_json_kstr(j, "type", "array");
			aidc_json_ki64(j, "maxItems", f->max);
			aidc_json_key(j, "items");
			aidc_json_obj_begin(j);
			aidc_json_kstr(j, "$ref", ref);
			aidc_json_obj_end(j);
			break;
		}
		case API_T_OBJ: {
			char ref[AIDC_MAX_NAME_BYTES];
			snprintf(ref, sizeof ref, "#/components/schemas/%s", f->sub->name);
			aidc_json_key(j, "allOf");
			aidc_json_arr_begin(j);
			aidc_json_obj_begin(j);
			aidc_json_kstr(j, "$ref", ref);
			aidc_json_obj_end(j);
			aidc_json_arr_end(j);
			break;
		}
		}
		aidc_json_obj_end(j);
	}
	aidc_json_obj_end(j);
	aidc_json_obj_end(j);
}

static void operation_json(struct aidc_json *j, const struct api_route *r)
{
	char lower[8] = {0};
	for (size_t k = 0; k + 1 < sizeof lower && r->method[k]; k++)
		lower[k] = (char)(r->method[k] | 0x20);
	aidc_json_key(j, lower);
	aidc_json_obj_begin(j);
	aidc_json_kstr(j, "summary", r->summary);
	aidc_json_kstr(j, "x-aidc-role", api_role_name(r->role));
	aidc_json_key(j, "parameters");
	aidc_json_arr_begin(j);
	for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		if (!end)
			break;
		aidc_json_obj_begin(j);
		aidc_json_key(j, "name");
		aidc_json_strn(j, p + 1, (size_t)(end - p - 1));
		aidc_json_kstr(j, "in", "path");
		aidc_json_kbool(j, "required", true);
		aidc_json_key(j, "schema");
		aidc_json_obj_begin(j);
		aidc_json_kstr(j, "type", "string");
		aidc_json_obj_end(j);
		aidc_json_obj_end(j);
	}
	aidc_json_arr_end(j);
	char ref[AIDC_MAX_NAME_BYTES];
	if (r->req_schema) {
		snprintf(ref, sizeof ref, "#/components/schemas/%s", r->req_schema);
		aidc_json_key(j, "requestBody");
		aidc_json_obj_begin(j);
		aidc_json_kbool(j, "required", true);
		aidc_json_key(j, "content");
		aidc_json_obj_begin(j);
		aidc_json_key(j, "application/json");
		aidc_json_obj_begin(j);
		aidc_json_key(j, "schema");
		aidc_json_obj_begin(j);
		aidc_json_kstr(j, "$ref", ref);
		aidc_json_obj_end(j);
		aidc_json_obj_end(j);
		aidc_json_obj_end(j);
		aidc_json_obj_end(j);
	}
	aidc_json_key(j, "responses");
	aidc_json_obj_begin(j);
	aidc_json_key(j, "200");
	aidc_json_obj_begin(j);
	aidc_json_kstr(j, "description", r->resp_schema ? r->resp_schema : "success");
	aidc_json_obj_end(j);
	aidc_json_key(j, "default");
	aidc_json_obj_begin(j);
	aidc_json_kstr(j, "description",
		       "error: {\"error\":{\"code\":\"E_...\",\"message\":\"...\"}}");
	aidc_json_obj_end(j);
	aidc_json_obj_end(j);
	aidc_json_obj_end(j);
}

int api_openapi(const struct api_route *routes, size_t n, const char *title, struct aidc_buf *out)
{
	struct aidc_json j;
	aidc_json_init(&j, out, true);
	aidc_json_obj_begin(&j);
	aidc_json_kstr(&j, "openapi", "3.0.3");
	aidc_json_key(&j, "info");
	aidc_json_obj_begin(&j);
	aidc_json_kstr(&j, "title", title);
	aidc_json_kstr(&j, "version", AIDC_VERSION);
	aidc_json_obj_end(&j);
	aidc_json_key(&j, "paths");
	aidc_json_obj_begin(&j);
	/* Group operations by path in table order; O(n^2) over a table of tens of rows. */
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t k = 0; k < i; k++)
			if (strcmp(routes[k].pattern, routes[i].pattern) == 0)
				seen = true;
		if (seen)
			continue;
		aidc_json_key(&j, routes[i].pattern);
		aidc_json_obj_begin(&j);
		for (size_t k = i; k < n; k++)
			if (strcmp(routes[k].pattern, routes[i].pattern) == 0)
				operation_json(&j, &routes[k]);
		aidc_json_obj_end(&j);
	}
	aidc_json_obj_end(&j);
	aidc_json_key(&j, "components");
	aidc_json_obj_begin(&j);
	aidc_json_key(&j, "schemas");
	aidc_json_obj_begin(&j);
	for (size_t i = 0; i < api_nschemas; i++)
		schema_json(&j, api_schemas[i]);
	aidc_json_obj_end(&j);
	aidc_json_obj_end(&j);
	aidc_json_obj_end(&j);
	return aidc_json_finish(&j);
}
