/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every hard cap in AIDC, in one place. Each size derived from outside input
 * (files, HTTP bodies, command-line flags, plugin replies) is checked against
 * one of these BEFORE anything is allocated for it, and each limit has a test
 * at and past its edge. docs/limits.md lists them for users.
 *
 * Include as "util/limits.h" (never <limits.h>, which is the C library's).
 */
#ifndef AIDC_UTIL_LIMITS_H
#define AIDC_UTIL_LIMITS_H

/* ---- text input (CSV and line-oriented files) ---------------------------- */
/* Longest input line, in bytes, including the newline. */
#define AIDC_MAX_LINE_BYTES (64u * 1024u)
/* Most fields in one CSV row (and columns in a header). */
#define AIDC_MAX_CSV_FIELDS 256u
/* Longest name of anything (node, model, vendor, partition, user, job name), bytes. */
#define AIDC_MAX_NAME_BYTES 128u
/* Largest whole file read into memory (cluster descriptions, configs). */
#define AIDC_MAX_SMALL_FILE_BYTES (16u * 1024u * 1024u)

/* ---- cluster model ------------------------------------------------------- */
/* Nodes in one cluster (a 65,536-node center with 8 devices each = 524,288 devices). */
#define AIDC_MAX_NODES 65536u
/* Accelerators on one node. */
#define AIDC_MAX_DEVICES_PER_NODE 64u
/* Distinct accelerator models; a job's model constraint is a bitmask over them. */
#define AIDC_MAX_DEVICE_MODELS 64u
/* Partitions (virtual clusters, VCs). */
#define AIDC_MAX_PARTITIONS 1024u
/* Switches/racks. */
#define AIDC_MAX_RACKS 65536u
/* Device groups (e.g. NVLink islands) on one node. */
#define AIDC_MAX_GROUPS_PER_NODE 16u
/* CPU capacity of one node, milli-cores (4,096 cores). */
#define AIDC_MAX_NODE_CPU_MILLI (4096u * 1000u)
/* Memory of one node, MiB (64 TiB). */
#define AIDC_MAX_NODE_MEM_MIB (64ull * 1024u * 1024u)
/* One whole device in milli-units. */
#define AIDC_DEVICE_MILLI 1000u

/* ---- jobs ---------------------------------------------------------------- */
/* Jobs known to the core at once (pending + running). */
#define AIDC_MAX_JOBS 10000000u
/* Tasks in one gang job. */
#define AIDC_MAX_TASKS_PER_JOB 65536u
/* Longest time limit, duration or prediction, seconds (100 years). */
#define AIDC_MAX_DURATION_S (100ll * 365 * 24 * 3600)
/* Priority range accepted from users. */
#define AIDC_MIN_PRIORITY (-1000000)
#define AIDC_MAX_PRIORITY 1000000
/* Devices (or, for CPU-only jobs, tasks) of one job: ntasks x max(ndev, 1). Bounds
 * the allocation list of one START decision. */
#define AIDC_MAX_DEVICES_PER_JOB 65536u
/* Distinct user and job names the scheduling core remembers for its predictor;
 * past it new names are not remembered (their jobs use the coarser groups). */
#define AIDC_MAX_PREDICT_NAMES (1u << 21)
/* History groups of the predictor (QSSF); past it no new group is created. */
#define AIDC_MAX_PREDICT_GROUPS (1u << 22)

/* ---- traces and simulation ----------------------------------------------- */
/* Jobs in one trace file (or generated workload). */
#define AIDC_MAX_TRACE_JOBS 20000000u
/* Bad rows skipped with --skip-bad-rows before the reader gives up anyway. */
#define AIDC_MAX_BAD_ROWS 1000000u
/* Seeds in one multi-seed experiment. */
#define AIDC_MAX_SEEDS 1000u
/* Timestamps accepted: years 1970 .. 2200 as seconds since the Unix epoch. */
#define AIDC_MIN_TIME_S 0ll
#define AIDC_MAX_TIME_S 7258118400ll

/* ---- exam and device plugins --------------------------------------------- */
/* Devices one plugin may report. */
#define AIDC_MAX_PLUGIN_DEVICES 256u
/* Questions in one exam report read back by `aidc exam report` / `compare`. */
#define AIDC_MAX_EXAM_QUESTIONS 4096u
/* Largest exam report file read back, bytes. */
#define AIDC_MAX_EXAM_REPORT_BYTES (16u * 1024u * 1024u)

/* ---- fractional placement (FGD family) and the openb experiment ---------- */
/* Task shapes in one workload distribution given to sched_set_workload. */
#define AIDC_MAX_WORKLOAD_TYPES 4096u
/* Workload inflation target of `aidc sim openb`, as a multiple of GPU capacity. */
#define AIDC_MAX_OPENB_INFLATION 10.0

/* ---- live center ---------------------------------------------------------- */
/* Largest HTTP request body the controller reads (413 past it, nothing changed). */
#define AIDC_MAX_HTTP_BODY_BYTES (1024u * 1024u)
/* Concurrent HTTP connections per listener (each long-poll holds one). */
#define AIDC_MAX_HTTP_CONNECTIONS 512u
/* Arguments in one job command, and bytes in one argument or environment entry. */
#define AIDC_MAX_ARGV 1024u
#define AIDC_MAX_ARG_BYTES 8192u
/* Environment entries passed with one job. */
#define AIDC_MAX_ENV 1024u
/* Largest batch script, bytes. */
#define AIDC_MAX_SCRIPT_BYTES (512u * 1024u)
/* Longest file-system path accepted from a request or a flag, bytes. */
#define AIDC_MAX_PATH_BYTES 4096u
/* Log bytes moved by one push from an agent or one read by a client. */
#define AIDC_MAX_LOG_CHUNK_BYTES (256u * 1024u)
/* Log bytes kept per task stream on the controller; later output is dropped. */
#define AIDC_MAX_LOG_BYTES (1024ull * 1024u * 1024u)
/* Jobs returned by one listing request. */
#define AIDC_MAX_LIST_JOBS 100000u
/* Tasks of one job that may run on one node. */
#define AIDC_MAX_TASKS_PER_NODE 1024u
/* Longest long-poll wait (agent work, log follow), seconds. */
#define AIDC_MAX_LONGPOLL_S 60
/* Bytes of the cluster secret file. */
#define AIDC_MAX_SECRET_BYTES 256u
/* Agents `aidc up` starts. */
#define AIDC_MAX_UP_AGENTS 64u
/* Requests waiting for the controller's event loop before new ones get 503. */
#define AIDC_MAX_PENDING_REQUESTS 4096u
/* Bytes of a per-user API token ("aidc_<id>_<64 hex>") or an Authorization value. */
#define AIDC_MAX_TOKEN_BYTES 128u
/* Live (not revoked, not expired) tokens one user may hold. */
#define AIDC_MAX_TOKENS_PER_USER 64u
/* Longest token lifetime, days (`aidc token create --expires`). */
#define AIDC_MAX_TOKEN_DAYS 3650u
/* Bytes of a MUNGE credential in an Authorization header. */
#define AIDC_MAX_MUNGE_CRED_BYTES 4096u
/* Bytes of a TLS certificate chain or key file (PEM) the controller reads. */
#define AIDC_MAX_TLS_FILE_BYTES (1024u * 1024u)
/* Groups of one user the controller looks through for admin_group (getgrouplist). */
#define AIDC_MAX_USER_GROUPS 65536

/* ---- node topology (hwloc, in an agent's registration) -------------------- */
/* Processor packages (sockets) of one node. */
#define AIDC_MAX_TOPO_PACKAGES 64u
/* NUMA nodes of one node (CPU-less memory nodes such as HBM or GPU memory included). */
#define AIDC_MAX_TOPO_NUMA_NODES 128u
/* Cores of one node (as many as AIDC_MAX_NODE_CPU_MILLI allows CPUs). */
#define AIDC_MAX_TOPO_CORES 4096u
/* Processing units (hardware threads) of one node: 8 per core at most. */
#define AIDC_MAX_TOPO_PUS (8u * AIDC_MAX_TOPO_CORES)
/* Accelerators (PCI display, 3D and processing-accelerator functions) of one node. */
#define AIDC_MAX_TOPO_ACCELERATORS 64u

#endif
