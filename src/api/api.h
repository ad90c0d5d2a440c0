/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP/JSON API layer of the live center: declarative routes served by
 * libmicrohttpd, strict JSON request decoding against declarative schemas
 * (jansson), authentication of the caller, JSON error replies, and the
 * OpenAPI document generated from the same tables.
 *
 * Who owns what: the controller (src/ctld) declares THE route table (one row
 * per endpoint, handlers included) and passes it to api_server_start; this
 * module owns the wire formats: the request schemas below and their C structs,
 * so the decoders can be fuzzed without a server (fuzz/api_*.c).
 *
 * Authentication (docs/security.md):
 *   - Unix-socket clients are identified by the kernel (SO_PEERCRED): role
 *     USER, or ADMIN for root and members of the configured admin group.
 *   - TCP clients presenting the cluster secret in "X-AIDC-Secret" are AGENTs.
 *   - TCP clients presenting "Authorization: Bearer <token>" are the token's
 *     user (USER or ADMIN as above); the controller checks the token
 *     (api_token_fn). An unknown, revoked or expired token is a 401.
 *   - With MUNGE enabled, "Authorization: MUNGE <credential>" is the uid/gid
 *     munged decodes (replays and expired credentials are refused by munged).
 *   - Anyone else is ANONYMOUS and reaches PUBLIC routes only.
 * The TCP listener speaks HTTPS when given a certificate and key; it refuses a
 * non-loopback address without TLS unless insecure_plaintext is set.
 * Identity is never taken from a request body.
 */
#ifndef AIDC_API_API_H
#define AIDC_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/limits.h"

/* ---- schemas: declarative JSON field tables ------------------------------- */

enum api_type {
	API_T_STR,     /* char * (owned by the decoded struct); max = most bytes */
	API_T_I64,     /* int64_t; [min, max] */
	API_T_BOOL,    /* bool */
	API_T_STRV,    /* struct api_strv; max = most items, item_max = most bytes per item */
	API_T_OBJV,    /* struct api_objv of sub-schema elements; max = most items */
	API_T_OBJ,     /* void *: one sub-schema element (owned), NULL when absent */
};

struct api_schema;

struct api_field {
	const char *name;
	enum api_type type;
	size_t off;      /* offsetof the destination in the decoded struct */
	bool required;
	int64_t min, max;
	int64_t item_max;              /* API_T_STRV: bytes per item */
	const struct api_schema *sub;  /* API_T_OBJV, API_T_OBJ: element schema */
	const char *help;              /* one line, copied into the OpenAPI document */
};

struct api_schema {
	const char *name;  /* OpenAPI component name */
	const char *help;
	const struct api_field *fields;
	size_t nfields;
	size_t size;       /* sizeof the decoded struct (API_T_OBJV elements) */
	/* Checks across fields once they decoded (NULL = none): 0 or a negative
	 * code with the reason in e; where prefixes field names ("topology."). */
	int (*check)(const void *decoded, const char *where, struct aidc_err *e);
};

struct api_strv {
	char **v; /* owned, n entries */
	size_t n;
};

struct api_objv {
	void *v; /* owned, n elements of the sub-schema's size */
	size_t n;
};

/*
 * Decodes a JSON object of len bytes into dst (zeroed first) against schema:
 * unknown fields, duplicate keys, wrong types and values outside the limits are
 * refused (AIDC_E_PARSE for malformed JSON, AIDC_E_INVAL for a bad field,
 * AIDC_E_LIMIT for a size past its limit) with the field named in e. On failure
 * dst is released. On success release with api_decoded_release.
 */
int api_decode(const struct api_schema *schema, const char *json, size_t len, void *dst,
	       struct aidc_err *e);
void api_decoded_release(const struct api_schema *schema, void *dst);
/* The same for a document of at most max_len bytes (a reply the client
 * bounded itself, e.g. a work reply of API_MAX_WORK_BYTES). */
int api_decode_max(const struct api_schema *schema, const char *json, size_t len, size_t max_len,
		   void *dst, struct aidc_err *e);

/* ---- the request documents ------------------------------------------------ */

/* Current version of the job spec document (the "v" field; the store keeps it too). */
#define API_JOB_SPEC_VERSION 1

/* POST /v1/jobs */
struct api_job_submit {
	int64_t v;           /* API_JOB_SPEC_VERSION; 0 when absent means current */
	char *name;
	struct api_strv command; /* argv; exclusive with script */
	char *script;            /* batch script text */
	struct api_strv script_args; /* the script's $1.. (aidc sbatch job.sh ARGS) */
	char *cwd;
	struct api_strv env;     /* "KEY=VALUE" entries */
	int64_t nodes;           /* -N, 0 = any */
	int64_t ntasks;          /* -n, default 1 */
	int64_t ntasks_per_node; /* 0 = any */
	int64_t cpus_per_task;   /* whole CPUs, default 1 */
	int64_t mem_mib;         /* per task, 0 = controller default */
	int64_t gpus_per_task;   /* accelerators per task */
	char *gpu_model;         /* accepted model, NULL = any */
	int64_t time_limit_s;    /* 0 = none */
	int64_t priority;
	char *partition;
	char *stdout_path;       /* -o pattern, honoured by the agent; see docs/live.md */
	char *stderr_path;
	char *on_node_failure;   /* "requeue" | "fail" | NULL = controller default */
	bool preemptible;        /* may be stopped and requeued for a higher-priority job */
	char *request_id;        /* client's id of this submission (retries are idempotent), or NULL */
	char *account;           /* -A: account charged; NULL = the user's default */
	char *qos;               /* --qos; NULL = the account's default */
	char *umask;             /* the submitter's umask, octal ("0077"), or NULL = the node's */
	bool slurm_env;          /* aidc sbatch: the agent adds a Slurm batch job's SLURM_* */
	bool hold;               /* -H: queued held (reason "held") until POST .../release */
	char *dependency;        /* -d: Slurm's list (api_parse_dependency) or NULL */
	bool kill_on_invalid_dep; /* cancel (not leave pending) when a dependency never holds */
	/* --signal: signal (0 = none) sent signal_before_s before the time limit,
	 * to the batch script alone with signal_batch (docs/slurm.md). */
	int64_t signal, signal_before_s;
	bool signal_batch;
	/* --begin: not started before this Unix time (0 = none; the client
	 * resolves Slurm's forms, api_parse_begin). */
	int64_t begin_s;
	/* --array (docs/slurm.md "Job arrays"): the client's spec, e.g.
	 * "1,3,5-9:2%4". The rest is the controller's, refused from clients: an
	 * array's pending record carries its remaining indices (array_pending)
	 * and what every element's SLURM_ARRAY_TASK_* says (array_count, _min,
	 * _max, _step), its throttle (array_limit) and how many elements failed
	 * or were cancelled (array_failed); an element names its array
	 * (array_job_id, the pending record's id) and index (array_task_id). */
	char *array;
	char *array_pending;
	int64_t array_limit, array_count, array_min, array_max, array_step, array_failed;
	int64_t array_job_id, array_task_id;
	bool exclusive; /* --exclusive: whole nodes, shared with no other job */
	/* A share of one device, milli (1..1000; below 1000 only with
	 * gpus_per_task 1); 0 = whole devices (docs/live.md "Device shares"). */
	int64_t gpu_milli;
	/* Slurm -w/--nodelist and -x/--exclude as hostlists ("n[1-3],gpu7"; NULL =
	 * none): the job's allocation contains every nodelist node (nodes is set
	 * to their count) and none of exclude's (ctld_sched_nodelists). */
	char *nodelist;
	char *exclude;
	/* Slurm --mem=0: each task's memory limit is its node's whole memory;
	 * needs exclusive (whole nodes) and no mem_mib. */
	bool mem_whole;
};
extern const struct api_schema api_schema_job_submit;

/* One accelerator in an agent's registration. */
struct api_device {
	int64_t index;
	char *vendor;
	char *model;
	int64_t mem_mib;
	char *uuid; /* NULL when not sent */
};
extern const struct api_schema api_schema_device;

/* ---- node topology (the "topology" member of a registration) ---- */

/* Current version of the topology document (its "v" field); see docs/api.md. */
#define API_TOPOLOGY_VERSION 1

/* One processor package (socket). Indices are hwloc logical indices. */
struct api_topo_package {
	int64_t index;
	int64_t cores;
	int64_t pus; /* processing units (hardware threads) */
};
extern const struct api_schema api_schema_topo_package;

/* One NUMA node: its memory and the CPUs local to it (a CPU-less node such
 * as HBM or GPU memory lists its neighbour's, so nodes may share CPUs). */
struct api_topo_numa {
	int64_t index;    /* hwloc logical index */
	int64_t os_index; /* the kernel's node number (numactl, /sys/devices/system/node) */
	int64_t package;  /* index of the package holding it, -1 if none or several */
	int64_t mem_mib;
	int64_t cores;
	int64_t pus;
};
extern const struct api_schema api_schema_topo_numa;

/* One accelerator seen on the PCI bus (class display, 3D or processing accelerator). */
struct api_topo_accel {
	char *bus_id;      /* "0000:17:00.0" (domain:bus:device.function, hex) */
	int64_t vendor_id; /* PCI ids, e.g. 0x10de NVIDIA */
	int64_t device_id;
	int64_t class_id;  /* PCI class << 8 | subclass: 0x0300 VGA, 0x0302 3D, 0x1200 accel */
	int64_t numa;      /* index of the closest NUMA node, -1 if unknown */
	int64_t package;   /* index of the closest package, -1 if unknown */
};
extern const struct api_schema api_schema_topo_accel;

struct api_topology {
	int64_t v;     /* API_TOPOLOGY_VERSION */
	int64_t cores; /* the whole node */
	int64_t pus;
	struct api_objv packages;     /* struct api_topo_package */
	struct api_objv numa;         /* struct api_topo_numa */
	struct api_objv accelerators; /* struct api_topo_accel */
};
extern const struct api_schema api_schema_topology;

/* api_schema_topology's check (api_topo.c): a known version, unique indices,
 * references to packages and NUMA nodes that exist, per-package and per-NUMA
 * counts that fit the totals, PCI bus ids of the form 0000:00:00.0. */
int api_topology_check(const void *topology, const char *where, struct aidc_err *e); /* borrowed */
/* Writes t (borrowed) as the value of the current key or array slot of w. */
void api_topology_json(struct aidc_json *w, const struct api_topology *t);
/* "2s/2n/32c" (packages/NUMA nodes/cores) into out; "-" for NULL. */
void api_topology_summary(const struct api_topology *t, char *out, size_t n);

/* One task an agent reports as running (registration and heartbeats). */
struct api_task_ref {
	int64_t job;
	int64_t task;
	int64_t attempt;
};
extern const struct api_schema api_schema_task_ref;

/*
 * The controller <-> agent protocol (docs/api.md, "Agent protocol"). Its
 * version is the "protocol" member of a registration and of the
 * controller's replies; an agent and a controller of different versions
 * refuse each other with a message naming both. Version 2: registrations
 * carry the agent's identity (agent_id, kept in its state directory) and
 * this run's epoch; every later request names the epoch, and a request of
 * an older epoch (a killed agent's replayed poll) is refused; log pushes
 * and reports name job, task and attempt; work orders are decoded against
 * api_schema_work; heartbeats may carry the node's problem (a full state
 * directory), which drains the node with that reason. Version 3: launch
 * orders may carry the job's --signal (signal, signal_before_s,
 * signal_batch), which the agent delivers before the time limit. Version 4:
 * launch orders may carry device_milli, the task's share of its one device
 * (AIDC_DEVICE_SHARE in its environment). Version 5: launch orders of a
 * multi-node batch job (slurm_env, more than one task) carry slurm_nodes,
 * the job's nodes in task order as a compressed hostlist; task 0 runs the
 * script, the others run the step holder (aidc srun's, docs/slurm.md).
 */
#define API_AGENT_PROTOCOL_VERSION 5

/* POST /v1/agents/register */
struct api_agent_register {
	int64_t protocol; /* API_AGENT_PROTOCOL_VERSION; 0 (absent) = version 1 */
	char *agent_id;   /* random, kept in the agent's state directory across restarts */
	int64_t epoch;    /* this run of the agent; a restart registers a larger one */
	char *name;
	char *addr;      /* address other nodes reach it at (MASTER_ADDR) */
	char *partition; /* NULL = "default" */
	int64_t cpus;
	int64_t mem_mib;
	struct api_objv devices; /* struct api_device */
	struct api_objv running; /* struct api_task_ref */
	struct api_topology *topology; /* owned; NULL from agents without hwloc (older ones too) */
};
extern const struct api_schema api_schema_agent_register;

/* POST /v1/agents/{node}/heartbeat */
/* One device's use, as an agent measures it (NVML), in a heartbeat. */
struct api_device_usage {
	int64_t index;        /* device index on the node */
	int64_t util_pct;     /* busy share of the last sample period, 0..100 */
	int64_t mem_used_mib; /* device memory in use */
};
extern const struct api_schema api_schema_device_usage;

struct api_heartbeat {
	int64_t epoch;           /* as registered */
	struct api_objv running; /* struct api_task_ref */
	char *problem;           /* why the node cannot take work (drains it), NULL = none */
	struct api_objv devices; /* struct api_device_usage; empty when not measured */
};
extern const struct api_schema api_schema_heartbeat;

/* POST /v1/agents/{node}/tasks/{job}/{task}/status */
struct api_task_status {
	int64_t attempt;
	char *state;     /* "running" | "exited" | "failed" (could not start) | "lost" */
	int64_t pid;
	int64_t exit_code;
	int64_t signal;
	bool timed_out;
	char *message;
};
extern const struct api_schema api_schema_task_status;

/* Most reports in one POST /v1/agents/{node}/tasks/status (an agent sends
 * more in several requests). Bounds the decoded body before allocation. */
#define API_MAX_STATUS_BATCH 256

/* One report of a batch: api_task_status plus the task it is about. */
struct api_task_report {
	int64_t job;
	int64_t task;
	int64_t attempt;
	char *state; /* as api_task_status.state */
	int64_t pid;
	int64_t exit_code;
	int64_t signal;
	bool timed_out;
	char *message;
	/* Resource use of an ended task (accounting); -1 when not sent. */
	int64_t cpu_usec;
	int64_t mem_peak_bytes;
	/* The job's throughput from its progress file (docs/placement.md
	 * "Progress reports"), milli-units per second; 0 = none. */
	int64_t progress_milli;
};
extern const struct api_schema api_schema_task_report;

/* POST /v1/agents/{node}/tasks/status: several task reports, applied in
 * order (a task's "running" may precede its exit in the same batch). */
struct api_task_status_batch {
	int64_t epoch;           /* as registered */
	struct api_objv reports; /* struct api_task_report */
};
extern const struct api_schema api_schema_task_status_batch;

/* The controller's reply to a registration and a heartbeat. */
struct api_agent_ok {
	bool ok;
	int64_t protocol; /* API_AGENT_PROTOCOL_VERSION */
	int64_t heartbeat_s;
	int64_t kill_grace_s;
};
extern const struct api_schema api_schema_agent_ok;

/* One launch order of a work reply: a task of an attempt to start. */
struct api_launch {
	int64_t job, task, attempt;
	int64_t uid, gid;
	char *user;
	char *name; /* the job's */
	char *cwd;
	char *script;             /* batch script, or NULL */
	struct api_strv script_args; /* its $1.. */
	struct api_strv command;  /* argv when there is no script */
	struct api_strv env;      /* KEY=VALUE */
	int64_t time_limit_s, kill_grace_s;
	int64_t mem_mib, cpus;    /* per task; 0 = no limit */
	char *stdout_path, *stderr_path; /* -o/-e patterns, NULL = none */
	int64_t world_size, local_rank, local_world_size;
	char *master_addr;        /* rank 0's node address */
	int64_t master_port;
	char *vendor;             /* of this node's devices ("" = none) */
	struct api_strv devices;  /* device indices on this node, decimal */
	char *umask;              /* octal, applied to the task and its -o/-e files; NULL = 022 */
	bool slurm_env;           /* add SLURM_JOB_ID, _NODELIST, ... (docs/slurm.md) */
	/* The job's --signal (protocol 3): signal (0 = none) signal_before_s
	 * before time_limit_s, to the batch script alone with signal_batch. */
	int64_t signal, signal_before_s;
	bool signal_batch;
	int64_t device_milli; /* protocol 4: the task's share of its one device; 0 = whole */
	/* protocol 5: a multi-node batch job's nodes in task order (Slurm's
	 * compressed hostlist), NULL for other jobs. */
	char *slurm_nodes;
};
extern const struct api_schema api_schema_launch;

/* Most bytes of one work reply: the controller stops adding launch orders
 * past half of it (one order holds at most one job spec, itself bounded by
 * AIDC_MAX_HTTP_BODY_BYTES); the rest go in the next reply. */
#define API_MAX_WORK_BYTES (64u << 20)

/* GET /v1/nodes/{node}/work: orders for the agent. */
struct api_work {
	int64_t protocol;        /* API_AGENT_PROTOCOL_VERSION */
	struct api_objv launch;  /* struct api_launch */
	struct api_objv kill;    /* struct api_task_ref */
};
extern const struct api_schema api_schema_work;

/* POST /v1/tokens (over the Unix socket only): a per-user API token. */
struct api_token_create {
	char *name;        /* the owner's label, NULL = "" */
	int64_t expires_s; /* lifetime in seconds, 0 = never */
	char *user;        /* admins: create for this login name; NULL = the caller */
};
extern const struct api_schema api_schema_token_create;

/* POST /ui/login (the dashboard): a token to keep in an HttpOnly cookie. */
struct api_ui_login {
	char *token; /* required */
};
extern const struct api_schema api_schema_ui_login;

/* ---- inference services (docs/services.md) ---- */

/* A replica's HTTP probe: readiness (in the router while it answers 2xx/3xx)
 * and liveness (restarted after failure_threshold failures in a row). */
struct api_service_probe {
	char *path;              /* "/healthz" when absent */
	int64_t period_s;        /* 0 = 2 */
	int64_t timeout_s;       /* 0 = 1 */
	int64_t failure_threshold; /* 0 = 3 */
	int64_t start_timeout_s; /* not ready this long after start: restarted; 0 = 300 */
};
extern const struct api_schema api_schema_service_probe;

/* Replicas between min and max from the request rate the router sees. */
struct api_service_autoscale {
	int64_t min, max;
	int64_t target_rps;        /* requests per second one replica should take; 0 = none */
	int64_t target_latency_ms; /* router's average response time to keep under; 0 = none */
	int64_t scale_down_delay_s; /* the rate must stay low this long; 0 = 60 */
};
extern const struct api_schema api_schema_service_autoscale;

/* A rolling update's bounds (Kubernetes' maxSurge / maxUnavailable). */
struct api_service_rollout {
	int64_t max_surge;       /* replicas above the count while updating; 0 with max_unavailable 0 = 1 */
	int64_t max_unavailable; /* ready replicas below the count allowed */
	int64_t max_failures;    /* new replicas failing this often roll back; 0 = 3 */
};
extern const struct api_schema api_schema_service_rollout;

/* POST /v1/services (create) and POST /v1/services/{name} (a new spec: a
 * rolling update). Each replica is a one-task job with these resources. */
struct api_service_spec {
	int64_t v; /* API_SERVICE_SPEC_VERSION; 0 = current */
	char *name;
	int64_t replicas;
	struct api_strv command;
	struct api_strv env;
	char *cwd;
	int64_t cpus_per_task, mem_mib, gpus_per_task;
	char *gpu_model, *partition, *account, *qos;
	struct api_service_probe *probe;         /* NULL = defaults */
	struct api_service_autoscale *autoscale; /* NULL = a fixed count */
	struct api_service_rollout *rollout;     /* NULL = defaults */
	int64_t gpu_milli; /* a replica's share of one device, as the job spec's */
};
#define API_SERVICE_SPEC_VERSION 1
extern const struct api_schema api_schema_service_spec;

/* POST /v1/services/{name}/scale */
struct api_service_scale {
	int64_t replicas;
};
extern const struct api_schema api_schema_service_scale;

/* The dashboard's session cookie: a user's API token, HttpOnly and
 * SameSite=Strict, set by POST /ui/login. It authenticates GET requests under
 * /v1/ only (read-only views: a forged cross-site POST carries no identity),
 * and only where no Authorization header is sent (docs/dashboard.md). */
#define API_SESSION_COOKIE "aidc_token"

/* Every request schema, for the OpenAPI document and the fuzz targets. */
extern const struct api_schema *const api_schemas[];
extern const size_t api_nschemas;
const struct api_schema *api_find_schema(const char *name); /* NULL if unknown */

/* ---- routes and the server ------------------------------------------------ */

enum api_role {
	API_ROLE_PUBLIC, /* anyone that can connect */
	API_ROLE_USER,   /* a local user identified by SO_PEERCRED (admins included) */
	API_ROLE_ADMIN,  /* root or a member of the admin group */
	API_ROLE_AGENT,  /* a node agent holding the cluster secret */
};
const char *api_role_name(enum api_role r);

/* How a caller's identity was established. */
enum api_auth_via {
	API_VIA_NONE,   /* anonymous */
	API_VIA_SOCKET, /* SO_PEERCRED on the Unix socket */
	API_VIA_SECRET, /* the cluster secret (agents) */
	API_VIA_TOKEN,  /* Authorization: Bearer <per-user token> */
	API_VIA_MUNGE,  /* Authorization: MUNGE <credential> decoded by munged */
};

/* Who is calling, as established by the transport (never by the body). */
struct api_identity {
	enum api_role role; /* the highest role established (PUBLIC if none) */
	bool authenticated_user; /* true on the Unix socket and for a valid token */
	enum api_auth_via via;   /* how the identity was established */
	uint64_t token_id;       /* which token, when via == API_VIA_TOKEN */
	uint32_t uid, gid;
	bool admin;
	char user[64]; /* login name of uid, or the number */
	/* A job's own credential (API_JOB_CRED_PREFIX, presented as a bearer
	 * token): the job's user, for that job's steps, logs and the nodes'
	 * addresses only (api_http.c); 0 = not one. */
	int64_t job_scope;
};

#define API_MAX_PARAMS 4

struct api_route;

struct api_request {
	const struct api_route *route;
	const char *method; /* borrowed */
	const char *path;   /* borrowed */
	char params[API_MAX_PARAMS][AIDC_MAX_NAME_BYTES]; /* {x} segments, in order */
	size_t nparams;
	const char *body; /* borrowed, NUL-terminated, body_len bytes */
	size_t body_len;
	struct api_identity who;
	void *conn; /* the transport's connection (for api_query) */
};

/* A query-string argument, borrowed for the request, or NULL. */
const char *api_query(const struct api_request *r, const char *key);
/* The first query-string key of r that is not in known (NULL-terminated),
 * borrowed for the request, or NULL when every key is known: a route that
 * names its parameters refuses a misspelt one instead of ignoring it. */
const char *api_query_unknown(const struct api_request *r, const char *const *known);

#define API_MAX_RESP_HEADERS 4
/* One extra header value: holds the dashboard's Set-Cookie (a token of up to
 * AIDC_MAX_TOKEN_BYTES plus its attributes) and its Content-Security-Policy. */
#define API_MAX_RESP_HEADER_BYTES (AIDC_MAX_TOKEN_BYTES + 128u)

struct api_response {
	int status;               /* HTTP status; 200 if the handler leaves it 0 */
	struct aidc_buf body;     /* JSON unless content_type says otherwise */
	const char *content_type; /* static string; NULL = application/json */
	/* Extra headers (e.g. X-AIDC-Offset on log reads); names are static strings. */
	const char *hdr_name[API_MAX_RESP_HEADERS];
	char hdr_value[API_MAX_RESP_HEADERS][API_MAX_RESP_HEADER_BYTES];
	size_t nhdr;
};

/*
 * A route handler runs on an HTTP thread (one per connection; it may block,
 * e.g. for a long-poll). It fills resp and returns 0, or returns a negative
 * code with the detail in e: the server then replies with the JSON error and
 * the code's HTTP status (aidc_err_http_status).
 */
typedef int (*api_handler_fn)(void *ctx, struct api_request *req, struct api_response *resp,
			      struct aidc_err *e);

struct api_route {
	const char *method;      /* "GET", "POST" */
	const char *pattern;     /* "/v1/jobs/{id}/cancel" */
	api_handler_fn handler;
	enum api_role role;      /* least role allowed */
	const char *req_schema;  /* name in api_schemas, or NULL (no body) */
	const char *resp_schema; /* documentation name of the reply, or NULL */
	const char *summary;     /* one line */
};

/* Matches method and path against the table; fills req->route and params.
 * AIDC_E_NOTFOUND when no pattern matches. */
int api_route_match(const struct api_route *routes, size_t n, const char *method,
		    const char *path, struct api_request *req, struct aidc_err *e);

/* Writes the OpenAPI 3.0 document for routes + api_schemas into out. */
int api_openapi(const struct api_route *routes, size_t n, const char *title, struct aidc_buf *out);

/* Writes {"error":{"code":"E_...","message":"..."}} into out. */
int api_error_json(struct aidc_buf *out, int code, const char *message);

/*
 * Checks a bearer token (HTTP thread; may block on the controller's loop).
 * token is borrowed for the call. On success fills who->uid, gid, user and
 * token_id and returns 0 (the server then sets the role); otherwise returns
 * AIDC_E_AUTH (unknown, revoked, expired, malformed) or another code with
 * the reason in e.
 */
typedef int (*api_token_fn)(void *ctx, const char *token, struct api_identity *who,
			    struct aidc_err *e);

struct api_server_config {
	const char *tcp_addr;  /* IPv4 literal, "127.0.0.1" by default; NULL = no TCP listener */
	uint16_t tcp_port;     /* 0 = choose a free port (see api_server_tcp_port) */
	const char *unix_path; /* NULL = no Unix listener; created mode 0666 (identity is SO_PEERCRED) */
	const char *secret;    /* cluster secret for AGENT; borrowed for the server's life */
	int64_t admin_gid;     /* members are ADMIN; -1 = root only */
	/* TLS on the TCP listener: PEM files read once at start (the key must not
	 * be readable by group or others). Both NULL = plain HTTP. */
	const char *tls_cert_file;
	const char *tls_key_file;
	/* Allow a non-loopback tcp_addr without TLS (isolated test networks only:
	 * the cluster secret and tokens then cross the network in clear text). */
	bool insecure_plaintext;
	api_token_fn token_check; /* NULL = bearer tokens are refused; called with the server's ctx */
	bool munge;               /* accept "Authorization: MUNGE <credential>" */
	const char *munge_socket; /* munged's socket; NULL = its default */
	/* Connections one peer may hold (uid on the Unix socket and loopback TCP,
	 * address otherwise; root and the server's uid are not capped), and the
	 * seconds a connection may take to send a request's headers (or the next
	 * request's) and its body. 0 = defaults 64, 10, 60 (docs/security.md). */
	unsigned max_conns_per_peer;
	unsigned header_timeout_s;
	unsigned body_timeout_s;
};

struct api_server;

/* Starts the listeners; routes, ctx and cfg strings are borrowed for the
 * server's life. Caller stops with api_server_stop. */
int api_server_start(const struct api_server_config *cfg, const struct api_route *routes,
		     size_t nroutes, void *ctx, struct api_server **out, struct aidc_err *e);
uint16_t api_server_tcp_port(const struct api_server *srv);
/* True when the TCP listener speaks HTTPS. */
bool api_server_tls(const struct api_server *srv);
/* Stops accepting, waits for the HTTP threads to finish; NULL is a no-op. */
void api_server_stop(struct api_server *srv);

/* ---- per-user tokens (api_auth.c) --------------------------------------------- */

/*
 * A token is "aidc_<id>_<64 hex digits>": the id names the stored row, the
 * hex digits are 32 random bytes (getrandom) of which only the SHA-256 is
 * stored. Checking a token costs one row read by id and a constant-time
 * comparison of two hashes.
 */
#define API_TOKEN_PREFIX "aidc_"
/* A job's credential: "aidcjob_<job>_<attempt>_<hex HMAC-SHA256(cluster
 * secret, "aidc-job-v1 <job> <attempt>")>". The agent gives it to the job's
 * tasks (AIDC_JOB_CRED), so srun and its step holders on a node away from the
 * controller reach their job's steps with no user credential in the job
 * (docs/security.md, "Job credentials"). */
#define API_JOB_CRED_PREFIX "aidcjob_"
#define API_JOB_CRED_MAX 128
/* Writes job's credential for attempt into out (API_JOB_CRED_MAX bytes). */
int api_job_cred(const char *secret, int64_t job, int64_t attempt, char out[API_JOB_CRED_MAX],
		 struct aidc_err *e);
/* Whether cred is a well-formed job credential: *job and *attempt from it.
 * The MAC is checked by comparing with api_job_cred's. */
bool api_job_cred_parse(const char *cred, int64_t *job, int64_t *attempt);
#define API_TOKEN_SECRET_HEX 64
#define API_HASH_HEX 64

/* A fresh random secret (hex, NUL-terminated) and its SHA-256 (hex). */
int api_token_secret_new(char secret[API_TOKEN_SECRET_HEX + 1], char hash[API_HASH_HEX + 1],
			 struct aidc_err *e);
/* Splits a presented token into its id and the SHA-256 of its secret part;
 * AIDC_E_AUTH ("malformed token") for anything else. token is borrowed. */
int api_token_parse(const char *token, uint64_t *id, char hash[API_HASH_HEX + 1],
		    struct aidc_err *e);
/* SHA-256 of n bytes as lowercase hex (GnuTLS). */
int api_sha256_hex(const void *p, size_t n, char out[API_HASH_HEX + 1], struct aidc_err *e);
/* Compares two NUL-terminated strings in time that depends only on want's length. */
bool api_const_equal(const char *want, const char *got);

/* ---- MUNGE credentials (api_auth.c; AIDC_E_UNSUPPORTED in builds without
 * libmunge). socket: munged's socket, NULL or "" = its default. ---------------- */

/* True when this build has libmunge. */
bool api_munge_built(void);
/* A fresh credential (payload "aidc-v1") for the calling process's uid/gid; *cred is caller-freed
 * (aidc_free). AIDC_E_IO when munged cannot be reached. */
int api_munge_encode(const char *socket, char **cred, struct aidc_err *e);
/* Decodes a credential (borrowed); AIDC_E_AUTH when munged refuses it
 * (invalid, expired, replayed) or its payload is not "aidc-v1", with the reason in e. */
int api_munge_decode(const char *socket, const char *cred, uint32_t *uid, uint32_t *gid,
		     struct aidc_err *e);

/* ---- the client (agents and the CLI) ----------------------------------------- */

/* One HTTP/1.1 client over a Unix socket or TCP (libcurl), reused across calls
 * (keep-alive). Not thread-safe: one per thread. */
#define API_CLIENT_MAX_URLS 8 /* controllers one client knows (docs/ha.md) */
struct api_client {
	void *curl;              /* CURL * */
	char base[128];          /* "http://127.0.0.1:6820" or "http://localhost" for a socket */
	/* Several controllers (a leader and standbys): base is urls[cur]; a call
	 * that finds nothing listening there tries the next (api_client_call). */
	char urls[API_CLIENT_MAX_URLS][128];
	unsigned nurls, cur;
	char unix_path[AIDC_MAX_PATH_BYTES];
	char secret_hdr[AIDC_MAX_SECRET_BYTES + 32]; /* "X-AIDC-Secret: ..." or "" */
	char auth_hdr[AIDC_MAX_TOKEN_BYTES + 32];    /* "Authorization: Bearer ..." or "" */
	char cafile[AIDC_MAX_PATH_BYTES];            /* CA bundle for https; "" = system store */
	bool munge;                                  /* a fresh MUNGE credential per call */
	char munge_socket[AIDC_MAX_PATH_BYTES];      /* "" = munged's default */
};

/* Where and as whom a client connects; every string is copied. */
struct api_client_opts {
	const char *unix_path; /* the controller's Unix socket (local users), or NULL */
	const char *url;       /* else "https://HOST:PORT" or "http://HOST:PORT", or several
				* of them separated by commas (a leader and its standbys) */
	const char *secret;    /* cluster secret (agents), or NULL */
	const char *token;     /* bearer token (remote users), or NULL */
	const char *cafile;    /* CA file verifying an https controller; NULL = $AIDC_CACERT,
				* else the system store */
	bool munge;            /* send a MUNGE credential (made per call) instead of a token */
	const char *munge_socket; /* munged's socket; NULL = its default */
	/* Connections one peer may hold (uid on the Unix socket and loopback TCP,
	 * address otherwise; root and the server's uid are not capped), and the
	 * seconds a connection may take to send a request's headers (or the next
	 * request's) and its body. 0 = defaults 64, 10, 60 (docs/security.md). */
	unsigned max_conns_per_peer;
	unsigned header_timeout_s;
	unsigned body_timeout_s;
};

/*
 * Opens a client. The secret or a token is never sent over plain http to a
 * host other than loopback (AIDC_E_PERM) unless $AIDC_INSECURE_PLAINTEXT=1
 * (isolated test networks). https always verifies the server's certificate
 * and name.
 */
int api_client_open(struct api_client *cl, const struct api_client_opts *o, struct aidc_err *e);
/* Either unix_path (users) or host:port (agents); secret may be NULL. Copied.
 * host may carry a scheme ("https://10.0.0.1"); the CA file is then
 * $AIDC_CACERT (see api_client_open). */
int api_client_init(struct api_client *cl, const char *unix_path, const char *host,
		    uint16_t port, const char *secret, struct aidc_err *e);
/* True for 127.0.0.0/8, ::1 and "localhost" (a host name without port). */
bool api_host_is_loopback(const char *host);
void api_client_release(struct api_client *cl);

struct api_call {
	const char *method;   /* "GET" / "POST" */
	const char *path;     /* "/v1/jobs?state=pending" */
	const char *body;     /* NULL = none; borrowed */
	size_t body_len;
	const char *content_type; /* NULL = application/json */
	long timeout_ms;
	/* results */
	long status;          /* HTTP status; 0 if no reply */
	struct aidc_buf reply; /* caller inits (with its max) and releases */
	int64_t offset_hdr;   /* X-AIDC-Offset, -1 if absent */
	int done_hdr;         /* X-AIDC-Done, -1 if absent */
	int fail;             /* enum api_fail: why no reply came (API_FAIL_NONE if one did) */
	/* Optional: the call is abandoned (API_FAIL_CANCELLED) as soon as
	 * *cancel_gen differs from cancel_at, e.g. another thread found the
	 * leader elsewhere while this one waits on a long poll. */
	const unsigned *cancel_gen;
	unsigned cancel_at;
};

/* Why a call got no reply, for hints that match the failure. */
enum api_fail {
	API_FAIL_NONE,
	API_FAIL_CONNECT, /* refused or unreachable: nothing listens there (a restart?) */
	API_FAIL_RESOLVE, /* the host name does not resolve */
	API_FAIL_TLS,     /* the TLS handshake or the certificate check failed */
	API_FAIL_TIMEOUT, /* connected, no answer in time */
	API_FAIL_OTHER,
	API_FAIL_DROPPED, /* connected, the connection closed before a whole reply (a crash?) */
	API_FAIL_CANCELLED, /* abandoned by the caller (cancel_gen moved) */
};
/* Points cl at its URL i (< cl->nurls); the next call goes there first. */
void api_client_use(struct api_client *cl, unsigned i);

/*
 * Performs one call. Returns 0 when a reply arrived (whatever its status;
 * see call->status), AIDC_E_IO / AIDC_E_TIMEOUT when none did. For a JSON
 * error reply, api_client_error() extracts the message. With several
 * controller URLs, a connection refused (nothing listens: a standby, or a
 * controller that is down) moves on to the next URL within the call, each
 * tried once; a reply lost otherwise (dropped, timed out) moves the next
 * call on to the next URL. Nothing is sent twice within one call.
 */
int api_client_call(struct api_client *cl, struct api_call *call, struct aidc_err *e);
/* The "message" of a JSON error reply (or the raw body), into e; returns the
 * code named in it (AIDC_E_* or AIDC_E_INTERNAL). */
int api_client_error(const struct api_call *call, struct aidc_err *e);

#endif
