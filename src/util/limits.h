/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every hard cap in AIDC, in one place. Each size derived from outside input
 * (files, HTTP bodies, command-line flags, plugin replies) is checked against
 * one of these BEFORE anything is allocated for it, and each limit has a test
 * at and past its edge. docs/limits.md lists them for users.
 *
 * Each limit says what it bounds and why it has its value. A build may
 * change a tunable one (cmake -DCMAKE_C_FLAGS=-DAIDC_MAX_NODES=131072); the
 * AIDC_LIMIT_RANGE line under it states the values the code is written for,
 * and an override outside them stops the build with a static assertion
 * (a zero, a negative or a value that would overflow the types holding it).
 * Units (AIDC_DEVICE_MILLI) and the time range of the wire formats cannot be
 * overridden at all.
 *
 * Include as "util/limits.h" (never <limits.h>, which is the C library's).
 */
#ifndef AIDC_UTIL_LIMITS_H
#define AIDC_UTIL_LIMITS_H

/* The values NAME may take in a build; anything else is a compile error. */
#define AIDC_LIMIT_RANGE(name, lo, hi)                                                     \
	_Static_assert((name) >= (lo) && (name) <= (hi),                                   \
		       #name " is outside " #lo ".." #hi " (see src/util/limits.h)")

/* ---- text input (CSV and line-oriented files) ---------------------------- */
/* Longest input line, in bytes, including the newline. Real trace rows are
 * under 1 KiB; a config line must hold a whole path (AIDC_MAX_PATH_BYTES); the
 * config reader keeps one line on the stack, hence the 1 MiB ceiling. */
#ifndef AIDC_MAX_LINE_BYTES
#define AIDC_MAX_LINE_BYTES (64u * 1024u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_LINE_BYTES, 8192u, 1024u * 1024u);
/* Most fields in one CSV row (and columns in a header). The public traces
 * have under 20 columns; the reader keeps two pointer arrays of this
 * size in every open reader. */
#ifndef AIDC_MAX_CSV_FIELDS
#define AIDC_MAX_CSV_FIELDS 256u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_CSV_FIELDS, 32u, 65536u);
/* Longest name of anything (node, model, vendor, partition, user, job name),
 * bytes. A DNS label is 63 bytes and Slurm's node names are shorter; names
 * are fixed arrays in every node, job and route record, so a larger value
 * costs memory everywhere. */
#ifndef AIDC_MAX_NAME_BYTES
#define AIDC_MAX_NAME_BYTES 128u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_NAME_BYTES, 64u, 4096u);
/* Largest whole file read into memory (cluster descriptions, configs). A
 * cluster file of AIDC_MAX_NODES nodes at ~100 bytes a line is ~6.5 MiB. */
#ifndef AIDC_MAX_SMALL_FILE_BYTES
#define AIDC_MAX_SMALL_FILE_BYTES (16u * 1024u * 1024u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_SMALL_FILE_BYTES, 1024u * 1024u, 1024u * 1024u * 1024u);

/* ---- cluster model ------------------------------------------------------- */
/* Nodes in one cluster (a 65,536-node center with 8 devices each = 524,288
 * devices): four times the largest GPU clusters built so far. Global device
 * indices are uint32 (see the cross-checks at the end). */
#ifndef AIDC_MAX_NODES
#define AIDC_MAX_NODES 65536u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_NODES, 1u, 1u << 24);
/* Accelerators on one node. Today's densest nodes carry 8 to 16; the core
 * counts one-milli shares of every device of a node in a uint16 (index.c),
 * which caps this at 65. */
#ifndef AIDC_MAX_DEVICES_PER_NODE
#define AIDC_MAX_DEVICES_PER_NODE 64u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_DEVICES_PER_NODE, 1u, 64u);
/* Distinct accelerator models; a job's model constraint is a uint64 bitmask
 * over them, so 64 is also the ceiling. */
#ifndef AIDC_MAX_DEVICE_MODELS
#define AIDC_MAX_DEVICE_MODELS 64u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_DEVICE_MODELS, 1u, 64u);
/* Job classes of the heterogeneity speed table (sched_speed_set): the core
 * keeps classes x models entries of 16 bytes (256 x 64 = 256 KiB at most). */
#ifndef AIDC_MAX_SPEED_CLASSES
#define AIDC_MAX_SPEED_CLASSES 256u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_SPEED_CLASSES, 1u, 65536u);
/* Highest speed in the table: 1000x the reference device (milli). */
#ifndef AIDC_MAX_SPEED_MILLI
#define AIDC_MAX_SPEED_MILLI 1000000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_SPEED_MILLI, 1000u, 1000000000u);
/* Highest throughput a job may report in its progress file
 * (AIDC_PROGRESS_FILE, docs/placement.md), in its own units per second; the
 * agent sends it in milli, so 1e12 at most on the wire. */
#ifndef AIDC_MAX_PROGRESS_RATE
#define AIDC_MAX_PROGRESS_RATE 1000000000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_PROGRESS_RATE, 1000u, 1000000000u);
/* Partitions (virtual clusters, VCs). The public traces have tens of VCs;
 * the core scans the partition table when a name is added. */
#ifndef AIDC_MAX_PARTITIONS
#define AIDC_MAX_PARTITIONS 1024u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_PARTITIONS, 1u, 1u << 20);
/* Switches/racks: at most one per node, so the same value as AIDC_MAX_NODES. */
#ifndef AIDC_MAX_RACKS
#define AIDC_MAX_RACKS 65536u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_RACKS, 1u, 1u << 24);
/* Device groups (e.g. NVLink islands) on one node: real nodes have 1 or 2;
 * placement keeps a per-group counter array of this size on the stack. */
#ifndef AIDC_MAX_GROUPS_PER_NODE
#define AIDC_MAX_GROUPS_PER_NODE 16u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_GROUPS_PER_NODE, 1u, 64u);
/* CPU capacity of one node, milli-cores (4,096 cores: 5x today's largest
 * two-socket servers). Capacities and their sums are uint32 milli-cores. */
#ifndef AIDC_MAX_NODE_CPU_MILLI
#define AIDC_MAX_NODE_CPU_MILLI (4096u * 1000u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_NODE_CPU_MILLI, 1000u, 1000000000u);
/* Memory of one node, MiB (64 TiB: twice the largest single-system-image
 * servers). Stored as uint64; the ceiling keeps MiB -> bytes in 64 bits. */
#ifndef AIDC_MAX_NODE_MEM_MIB
#define AIDC_MAX_NODE_MEM_MIB (64ull * 1024u * 1024u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_NODE_MEM_MIB, 1024ull, 1ull << 40);
/* One whole device in milli-units. A unit of the wire and trace formats,
 * not a tunable. */
#ifdef AIDC_DEVICE_MILLI
#error "AIDC_DEVICE_MILLI is a unit of the formats, not a tunable limit"
#endif
#define AIDC_DEVICE_MILLI 1000u

/* ---- jobs ---------------------------------------------------------------- */
/* Jobs known to the core at once (pending + running). 100x the pending
 * queue of the largest Slurm sites; job handles are uint32. */
#ifndef AIDC_MAX_JOBS
#define AIDC_MAX_JOBS 10000000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_JOBS, 1000u, 1u << 30);
/* Tasks in one gang job: one per device of a 65,536-device job. */
#ifndef AIDC_MAX_TASKS_PER_JOB
#define AIDC_MAX_TASKS_PER_JOB 65536u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TASKS_PER_JOB, 1u, 1u << 24);
/* Longest time limit, duration or prediction, seconds (100 years: longer
 * than any real limit, and now + it stays far inside an int64). */
#ifndef AIDC_MAX_DURATION_S
#define AIDC_MAX_DURATION_S (100ll * 365 * 24 * 3600)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_DURATION_S, 86400ll, 1ll << 40);
/* Priority range accepted from users: wide enough for Slurm-style priority
 * numbers; jobs, traces and the store hold it as an int32, and its negation
 * (the queue's sort key) must fit too. */
#ifndef AIDC_MIN_PRIORITY
#define AIDC_MIN_PRIORITY (-1000000)
#endif
AIDC_LIMIT_RANGE(AIDC_MIN_PRIORITY, -(1 << 30), -1);
#ifndef AIDC_MAX_PRIORITY
#define AIDC_MAX_PRIORITY 1000000
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_PRIORITY, 1, 1 << 30);
/* A partition's priority job factor (multifactor's partition factor is it
 * over the highest of the partitions), as Slurm's PriorityJobFactor. */
#ifndef AIDC_MAX_PARTITION_PRIORITY
#define AIDC_MAX_PARTITION_PRIORITY 65533
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_PARTITION_PRIORITY, 1, 65533);
/* Devices (or, for CPU-only jobs, tasks) of one job: ntasks x max(ndev, 1).
 * Bounds the allocation list of one START decision (12 bytes an entry). */
#ifndef AIDC_MAX_DEVICES_PER_JOB
#define AIDC_MAX_DEVICES_PER_JOB 65536u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_DEVICES_PER_JOB, 64u, 1u << 24);
/* Distinct user and job names the scheduling core remembers for its predictor;
 * past it new names are not remembered (their jobs use the coarser groups).
 * 2M names: every distinct name of the Helios trace 10 times over. */
#ifndef AIDC_MAX_PREDICT_NAMES
#define AIDC_MAX_PREDICT_NAMES (1u << 21)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_PREDICT_NAMES, 1024u, 1u << 26);
/* History groups of the predictor (QSSF); past it no new group is created.
 * Two groups (user, user+name) per remembered name. */
#ifndef AIDC_MAX_PREDICT_GROUPS
#define AIDC_MAX_PREDICT_GROUPS (1u << 22)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_PREDICT_GROUPS, 1024u, 1u << 27);

/* ---- traces and simulation ----------------------------------------------- */
/* Jobs in one trace file (or generated workload): several times the
 * largest public trace (Helios, a few million jobs); each costs ~100 bytes in a loaded trace
 * plus the core's job record. */
#ifndef AIDC_MAX_TRACE_JOBS
#define AIDC_MAX_TRACE_JOBS 20000000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TRACE_JOBS, 1000u, 1u << 30);
/* Bad rows skipped with --skip-bad-rows before the reader gives up anyway:
 * a file that bad is the wrong format, not a dirty trace. */
#ifndef AIDC_MAX_BAD_ROWS
#define AIDC_MAX_BAD_ROWS 1000000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_BAD_ROWS, 1u, 1u << 30);
/* Seeds in one multi-seed experiment (each is a whole simulation run). */
#ifndef AIDC_MAX_SEEDS
#define AIDC_MAX_SEEDS 1000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_SEEDS, 1u, 1u << 20);
/* Timestamps accepted: years 1970 .. 2200 as seconds since the Unix epoch.
 * Part of the trace and wire formats, not tunable. */
#if defined(AIDC_MIN_TIME_S) || defined(AIDC_MAX_TIME_S)
#error "AIDC_MIN_TIME_S and AIDC_MAX_TIME_S belong to the formats, not tunable limits"
#endif
#define AIDC_MIN_TIME_S 0ll
#define AIDC_MAX_TIME_S 7258118400ll

/* ---- exam and device plugins --------------------------------------------- */
/* Devices one plugin may report: four 64-device nodes' worth behind one
 * plugin (e.g. a disaggregated chassis). */
#ifndef AIDC_MAX_PLUGIN_DEVICES
#define AIDC_MAX_PLUGIN_DEVICES 256u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_PLUGIN_DEVICES, 1u, 65536u);
/* Questions in one exam report read back by `aidc exam report` / `compare`:
 * the full catalogue has under 100 per device. */
#ifndef AIDC_MAX_EXAM_QUESTIONS
#define AIDC_MAX_EXAM_QUESTIONS 4096u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_EXAM_QUESTIONS, 64u, 1u << 20);
/* Largest exam report file read back, bytes (a full report is under 1 MiB). */
#ifndef AIDC_MAX_EXAM_REPORT_BYTES
#define AIDC_MAX_EXAM_REPORT_BYTES (16u * 1024u * 1024u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_EXAM_REPORT_BYTES, 64u * 1024u, 1024u * 1024u * 1024u);

/* ---- fractional placement (FGD family) and the openb experiment ---------- */
/* Task shapes in one workload distribution given to sched_set_workload: the
 * openb trace has a few dozen; each is scored for every node change. */
#ifndef AIDC_MAX_WORKLOAD_TYPES
#define AIDC_MAX_WORKLOAD_TYPES 4096u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_WORKLOAD_TYPES, 16u, 1u << 20);
/* Workload inflation target of `aidc sim openb`, as a multiple of GPU
 * capacity: the experiment's default is 1.3 and a cluster is full near 1;
 * every unit of inflation is one more capacity's worth of generated tasks. */
#ifndef AIDC_MAX_OPENB_INFLATION
#define AIDC_MAX_OPENB_INFLATION 10.0
#endif
AIDC_LIMIT_RANGE((int)(AIDC_MAX_OPENB_INFLATION), 1, 100);

/* ---- live center ---------------------------------------------------------- */
/* Largest HTTP request body the controller reads (413 past it, nothing
 * changed). It holds a job with its script (see the cross-checks) or a node's
 * registration; each connection may buffer one. */
#ifndef AIDC_MAX_HTTP_BODY_BYTES
#define AIDC_MAX_HTTP_BODY_BYTES (1024u * 1024u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_HTTP_BODY_BYTES, 64u * 1024u, 64u * 1024u * 1024u);
/* Concurrent HTTP connections per listener (each long-poll holds one, and
 * libmicrohttpd runs a thread per connection). Well above one peer's share
 * (max_conns_per_peer, default 64) so that one user cannot fill it, and
 * enough for 16,384 agents' long polls and their reports (issue 15: at 2,048
 * a center of 4,096 nodes left half of them without a work poll; the
 * controller needs as many descriptors, RLIMIT_NOFILE). */
#ifndef AIDC_MAX_HTTP_CONNECTIONS
#define AIDC_MAX_HTTP_CONNECTIONS 32768u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_HTTP_CONNECTIONS, 16u, 65536u);
/* Arguments in one job command, and bytes in one argument or environment
 * entry. Far above real launch lines; the kernel's own cap on one argument
 * (MAX_ARG_STRLEN) is 128 KiB, and the agent copies one on its stack. */
#ifndef AIDC_MAX_ARGV
#define AIDC_MAX_ARGV 1024u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_ARGV, 16u, 65536u);
#ifndef AIDC_MAX_ARG_BYTES
#define AIDC_MAX_ARG_BYTES 8192u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_ARG_BYTES, 1024u, 128u * 1024u);
/* Job ids one --dependency names (afterok:1:2,afterany:3 is 3): the
 * controller checks each dependent job's list once per scheduling pass. */
#ifndef AIDC_MAX_JOB_DEPS
#define AIDC_MAX_JOB_DEPS 64u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_JOB_DEPS, 1u, 4096u);
/* Job arrays (sbatch --array): elements in one array and the largest
 * index. Slurm's MaxArraySize defaults to 1001 (indices 0..1000); an array
 * here is one pending record holding its index set as ranges, so memory is
 * per running element and the cap only bounds what one submission may ask:
 * 100,000 elements (issue 13's target), indices 0..4,000,000. */
#ifndef AIDC_MAX_ARRAY_TASKS
#define AIDC_MAX_ARRAY_TASKS 100000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_ARRAY_TASKS, 1u, 10000000u);
#ifndef AIDC_MAX_ARRAY_INDEX
#define AIDC_MAX_ARRAY_INDEX 4000000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_ARRAY_INDEX, 1u, 1000000000u);
/* Bytes in one --array spec ("1,3,5-9:2%4"): the list is parsed on submit. */
#ifndef AIDC_MAX_ARRAY_SPEC_BYTES
#define AIDC_MAX_ARRAY_SPEC_BYTES 4096u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_ARRAY_SPEC_BYTES, 64u, 65536u);
/* srun steps of multi-node batch jobs running on other nodes (docs/slurm.md
 * "srun inside a batch job"): the controller keeps each in memory while it
 * runs, its document (command, environment, options) at most
 * AIDC_MAX_STEP_BYTES, so live steps cost at most their product (256 MiB);
 * one job has at most AIDC_MAX_JOB_STEPS at once. */
#ifndef AIDC_MAX_LIVE_STEPS
#define AIDC_MAX_LIVE_STEPS 1024u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_LIVE_STEPS, 16u, 65536u);
#ifndef AIDC_MAX_JOB_STEPS
#define AIDC_MAX_JOB_STEPS 64u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_JOB_STEPS, 1u, 4096u);
/* Live steps of one user's jobs together: a quarter of AIDC_MAX_LIVE_STEPS,
 * so that one user's jobs (AIDC_MAX_JOB_STEPS each) cannot take every slot
 * and refuse every other user's srun. */
#ifndef AIDC_MAX_USER_LIVE_STEPS
#define AIDC_MAX_USER_LIVE_STEPS (AIDC_MAX_LIVE_STEPS / 4u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_USER_LIVE_STEPS, 4u, AIDC_MAX_LIVE_STEPS);
/* Step ids of one job, 0 .. AIDC_MAX_JOB_STEP_COUNT - 1 (Slurm's
 * MaxStepCount): every step is a stored row and up to two output files per
 * node in the job's log directory, kept after it ends, so a job whose
 * script runs srun in a loop stops there instead of filling the store. */
#ifndef AIDC_MAX_JOB_STEP_COUNT
#define AIDC_MAX_JOB_STEP_COUNT 40000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_JOB_STEP_COUNT, 64u, 1000000u);
#ifndef AIDC_MAX_STEP_BYTES
#define AIDC_MAX_STEP_BYTES (256u * 1024u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_STEP_BYTES, 4096u, 1024u * 1024u);
/* Environment entries passed with one job (a login shell has ~50). */
#ifndef AIDC_MAX_ENV
#define AIDC_MAX_ENV 1024u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_ENV, 64u, 65536u);
/* Largest batch script, bytes (Slurm's default max_script_size is 4 MiB, real
 * scripts are a few KiB). It travels JSON-escaped inside one request body. */
#ifndef AIDC_MAX_SCRIPT_BYTES
#define AIDC_MAX_SCRIPT_BYTES (512u * 1024u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_SCRIPT_BYTES, 4096u, 32u * 1024u * 1024u);
/* Longest file-system path accepted from a request or a flag, bytes: Linux's
 * PATH_MAX, past which the kernel refuses the path anyway. */
#ifndef AIDC_MAX_PATH_BYTES
#define AIDC_MAX_PATH_BYTES 4096u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_PATH_BYTES, 256u, 4096u);
/* Passes one start forecast (sched_forecast in the controller) may run: a
 * queue that needs more (jobs ending one by one) leaves the rest without an
 * estimate rather than stall the controller's loop. */
#ifndef AIDC_MAX_FORECAST_PASSES
#define AIDC_MAX_FORECAST_PASSES 100000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_FORECAST_PASSES, 100u, 10000000u);
/* One file of the dashboard (web/) served by the controller, bytes: the
 * page's script is tens of KiB; anything larger is refused, not truncated. */
#ifndef AIDC_MAX_WEB_FILE_BYTES
#define AIDC_MAX_WEB_FILE_BYTES (1024u * 1024u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_WEB_FILE_BYTES, 64u * 1024u, 16u * 1024u * 1024u);
/* Log bytes moved by one push from an agent or one read by a client: large
 * enough that a chatty task needs few round trips, small enough for a static
 * buffer in the agent. One push is one request body. */
#ifndef AIDC_MAX_LOG_CHUNK_BYTES
#define AIDC_MAX_LOG_CHUNK_BYTES (256u * 1024u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_LOG_CHUNK_BYTES, 4096u, 16u * 1024u * 1024u);
/* Log bytes kept per task stream on the controller; later output is dropped
 * (the stream ends with a truncation marker and the job runs on), so one task
 * cannot fill the controller's disk. */
#ifndef AIDC_MAX_LOG_BYTES
#define AIDC_MAX_LOG_BYTES (1024ull * 1024u * 1024u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_LOG_BYTES, 1024ull * 1024u, 1ull << 40);
/* Jobs returned by one listing request (~300 bytes of JSON each: 30 MB). */
#ifndef AIDC_MAX_LIST_JOBS
#define AIDC_MAX_LIST_JOBS 100000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_LIST_JOBS, 100u, 1u << 22);
/* Tasks of one job that may run on one node (and orphans a node may report):
 * 16 per core of a 64-core node. */
#ifndef AIDC_MAX_TASKS_PER_NODE
#define AIDC_MAX_TASKS_PER_NODE 1024u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TASKS_PER_NODE, 1u, 65536u);
/* Longest long-poll wait (agent work, log follow), seconds: under common
 * proxies' 60-90 s idle timeouts; the server closes idle connections 30 s
 * after it. */
#ifndef AIDC_MAX_LONGPOLL_S
#define AIDC_MAX_LONGPOLL_S 60
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_LONGPOLL_S, 1, 600);
/* Bytes of the cluster secret file: the controller writes 64 hex digits. */
#ifndef AIDC_MAX_SECRET_BYTES
#define AIDC_MAX_SECRET_BYTES 256u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_SECRET_BYTES, 64u, 4096u);
/* Agents `aidc up` starts on this one machine (each is a process with its own
 * mock devices). */
#ifndef AIDC_MAX_UP_AGENTS
#define AIDC_MAX_UP_AGENTS 64u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_UP_AGENTS, 1u, 1024u);
/* Requests waiting for the controller's event loop before new ones get 503:
 * 8 per connection; bounds the memory a request storm can pin. */
#ifndef AIDC_MAX_PENDING_REQUESTS
#define AIDC_MAX_PENDING_REQUESTS 4096u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_PENDING_REQUESTS, 64u, 1u << 20);
/* Bytes of a per-user API token ("aidc_<id>_<64 hex>", at most 90) or an
 * Authorization value. */
#ifndef AIDC_MAX_TOKEN_BYTES
#define AIDC_MAX_TOKEN_BYTES 128u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TOKEN_BYTES, 96u, 1024u);
/* Live (not revoked, not expired) tokens one user may hold: one per machine
 * or script, and a cap on what one user can make the store hold. */
#ifndef AIDC_MAX_TOKENS_PER_USER
#define AIDC_MAX_TOKENS_PER_USER 64u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TOKENS_PER_USER, 1u, 65536u);
/* Longest token lifetime, days (`aidc token create --expires`): 10 years. */
#ifndef AIDC_MAX_TOKEN_DAYS
#define AIDC_MAX_TOKEN_DAYS 3650u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TOKEN_DAYS, 1u, 36500u);
/* Bytes of a MUNGE credential in an Authorization header (ours carry a short
 * payload: ~200 bytes). */
#ifndef AIDC_MAX_MUNGE_CRED_BYTES
#define AIDC_MAX_MUNGE_CRED_BYTES 4096u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_MUNGE_CRED_BYTES, 512u, 65536u);
/* Bytes of a TLS certificate chain or key file (PEM) the controller reads: a
 * chain of a few certificates is a few KiB. */
#ifndef AIDC_MAX_TLS_FILE_BYTES
#define AIDC_MAX_TLS_FILE_BYTES (1024u * 1024u)
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TLS_FILE_BYTES, 64u * 1024u, 64u * 1024u * 1024u);
/* Groups of one user the controller looks through for admin_group
 * (getgrouplist): Linux's NGROUPS_MAX. */
#ifndef AIDC_MAX_USER_GROUPS
#define AIDC_MAX_USER_GROUPS 65536
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_USER_GROUPS, 16, 65536);
/* Routing slots of the controller's HAProxy (docs/services.md): services
 * routed at once. Each is a listen section of the config and one port of
 * the slot range, fixed at start since HAProxy 2.6 cannot add frontends at
 * run time; 1,024 ports is a range a center can reserve. */
#ifndef AIDC_MAX_HAPROXY_SLOTS
#define AIDC_MAX_HAPROXY_SLOTS 1024u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_HAPROXY_SLOTS, 1u, 16384u);
/* Servers (replicas) of one slot, and of all slots together: each is a
 * server of haproxy's config, declared at start (server-template) because
 * servers added at run time get no connection reuse in 2.6; haproxy holds
 * a few KiB for each. */
#ifndef AIDC_MAX_HAPROXY_SLOT_SERVERS
#define AIDC_MAX_HAPROXY_SLOT_SERVERS 256u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_HAPROXY_SLOT_SERVERS, 1u, 4096u);
#ifndef AIDC_MAX_HAPROXY_SERVERS
#define AIDC_MAX_HAPROXY_SERVERS 16384u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_HAPROXY_SERVERS, 1u, 1048576u);

/* ---- node topology (hwloc, in an agent's registration) -------------------- */
/* Processor packages (sockets) of one node: 8-socket servers are the largest
 * sold. */
#ifndef AIDC_MAX_TOPO_PACKAGES
#define AIDC_MAX_TOPO_PACKAGES 64u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TOPO_PACKAGES, 1u, 4096u);
/* NUMA nodes of one node (CPU-less memory nodes such as HBM or GPU memory
 * included: a GPU with its memory exposed adds one each). */
#ifndef AIDC_MAX_TOPO_NUMA_NODES
#define AIDC_MAX_TOPO_NUMA_NODES 128u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TOPO_NUMA_NODES, 1u, 4096u);
/* Cores of one node (as many as AIDC_MAX_NODE_CPU_MILLI allows CPUs). */
#ifndef AIDC_MAX_TOPO_CORES
#define AIDC_MAX_TOPO_CORES 4096u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TOPO_CORES, 1u, AIDC_MAX_NODE_CPU_MILLI / 1000u);
/* Processing units (hardware threads) of one node: 8 per core at most (POWER's
 * SMT8 is the widest). */
#define AIDC_MAX_TOPO_PUS (8u * AIDC_MAX_TOPO_CORES)
/* Accelerators (PCI display, 3D and processing-accelerator functions) of one
 * node: as many as devices a node may offer. */
#ifndef AIDC_MAX_TOPO_ACCELERATORS
#define AIDC_MAX_TOPO_ACCELERATORS 64u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TOPO_ACCELERATORS, 1u, 4096u);

/* ---- tenancy (docs/tenancy.md) ------------------------------------------- */
/* Accounts (organizations and projects together), users with associations,
 * and QoS levels the controller keeps in memory and in the store. */
#ifndef AIDC_MAX_ACCOUNTS
#define AIDC_MAX_ACCOUNTS 10000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_ACCOUNTS, 1u, 1000000u);
#ifndef AIDC_MAX_TENANCY_USERS
#define AIDC_MAX_TENANCY_USERS 100000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TENANCY_USERS, 1u, 10000000u);
/* QoS levels: each has one bit (its id 1..63; 0 = no QoS) in a job's
 * preemption mask (SCHED_MAX_QOS_CLASS). */
#ifndef AIDC_MAX_QOS
#define AIDC_MAX_QOS 63u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_QOS, 1u, 63u);
/* Names in one list (an account's QoS and coordinators, a user's accounts). */
#ifndef AIDC_MAX_TENANCY_LIST
#define AIDC_MAX_TENANCY_LIST 256u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TENANCY_LIST, 1u, 65536u);
/* Tenancy groups in the scheduling core (accounts, users in accounts,
 * organizations). */
#ifndef AIDC_MAX_SCHED_GROUPS
#define AIDC_MAX_SCHED_GROUPS 1048576u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_SCHED_GROUPS, 16u, 16777216u);
/* The largest value of an association or QoS limit (jobs, devices); larger
 * is refused as absurd rather than taken as "no limit" (that is -1). */
#ifndef AIDC_MAX_TENANCY_LIMIT
#define AIDC_MAX_TENANCY_LIMIT 100000000
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_TENANCY_LIMIT, 1, 1000000000);

/* Accounting and audit (docs/accounting.md): records per reply page of
 * GET /v1/acct and /v1/audit (the CLI walks the pages), job ids one acct
 * query may name, and the bytes of a request body kept as an audit record's
 * detail (longer is cut, and the record says so). */
#ifndef AIDC_MAX_ACCT_PAGE
#define AIDC_MAX_ACCT_PAGE 10000u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_ACCT_PAGE, 1u, 1000000u);
#ifndef AIDC_MAX_ACCT_JOB_IDS
#define AIDC_MAX_ACCT_JOB_IDS 256u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_ACCT_JOB_IDS, 1u, 65536u);
#ifndef AIDC_MAX_AUDIT_DETAIL_BYTES
#define AIDC_MAX_AUDIT_DETAIL_BYTES 4096u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_AUDIT_DETAIL_BYTES, 256u, 1048576u);
/* The reason an admin gives for a rate override (kept in the audit log). */
#ifndef AIDC_MAX_RATE_REASON_BYTES
#define AIDC_MAX_RATE_REASON_BYTES 1024u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_RATE_REASON_BYTES, 16u, 65536u);

/* ---- inference services (docs/services.md) ------------------------------- */
/* Replicas of one service: each is a job and a server in the router, whose
 * slots hold 2x this many places (a rolling update surges to at most
 * replicas + max_surge); HAProxy's memory grows ~6 KiB a place. */
#ifndef AIDC_MAX_SERVICE_REPLICAS
#define AIDC_MAX_SERVICE_REPLICAS 64u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_SERVICE_REPLICAS, 1u, 128u);
/* Services in one center (each holds a router slot, a listening port). */
#ifndef AIDC_MAX_SERVICES
#define AIDC_MAX_SERVICES 1024u
#endif
AIDC_LIMIT_RANGE(AIDC_MAX_SERVICES, 1u, 65536u);

/* ---- cross-checks: limits that bound each other -------------------------- */
/* Global device indices are uint32 and UINT32_MAX means "no device". */
_Static_assert((unsigned long long)AIDC_MAX_NODES * AIDC_MAX_DEVICES_PER_NODE < 0xffffffffull,
	       "AIDC_MAX_NODES x AIDC_MAX_DEVICES_PER_NODE must fit a uint32 device index");
/* Every group holds at least one device. */
_Static_assert(AIDC_MAX_GROUPS_PER_NODE <= AIDC_MAX_DEVICES_PER_NODE,
	       "AIDC_MAX_GROUPS_PER_NODE must not exceed AIDC_MAX_DEVICES_PER_NODE");
/* A script of ordinary text must fit JSON-escaped in one submit body. */
_Static_assert(2ull * AIDC_MAX_SCRIPT_BYTES <= AIDC_MAX_HTTP_BODY_BYTES,
	       "AIDC_MAX_SCRIPT_BYTES must be at most half of AIDC_MAX_HTTP_BODY_BYTES");
/* One log push is one request body. */
_Static_assert(AIDC_MAX_LOG_CHUNK_BYTES <= AIDC_MAX_HTTP_BODY_BYTES,
	       "AIDC_MAX_LOG_CHUNK_BYTES must fit in AIDC_MAX_HTTP_BODY_BYTES");
/* A config line must hold a key and a whole path. */
_Static_assert(AIDC_MAX_LINE_BYTES >= AIDC_MAX_PATH_BYTES + 256u,
	       "AIDC_MAX_LINE_BYTES must hold a config line with a whole path");
/* A job's tasks on one node are tasks of one job. */
_Static_assert(AIDC_MAX_TASKS_PER_NODE <= AIDC_MAX_TASKS_PER_JOB,
	       "AIDC_MAX_TASKS_PER_NODE must not exceed AIDC_MAX_TASKS_PER_JOB");

#endif
