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
 *   - Anyone else is ANONYMOUS and reaches PUBLIC routes only.
 * Identity is never taken from a request body.
 */
#ifndef AIDC_API_API_H
#define AIDC_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"

/* ---- schemas: declarative JSON field tables ------------------------------- */

enum api_type {
	API_T_STR,     /* char * (owned by the decoded struct); max = most bytes */
	API_T_I64,     /* int64_t; [min, max] */
	API_T_BOOL,    /* bool */
	API_T_STRV,    /* struct api_strv; max = most items, item_max = most bytes per item */
	API_T_OBJV,    /* struct api_objv of sub-schema elements; max = most items */
};

struct api_schema;

struct api_field {
	const char *name;
	enum api_type type;
	size_t off;      /* offsetof the destination in the decoded struct */
	bool required;
	int64_t min, max;
	int64_t item_max;              /* API_T_STRV: bytes per item */
	const struct api_schema *sub;  /* API_T_OBJV: element schema */
	const char *help;              /* one line, copied into the OpenAPI document */
};

struct api_schema {
	const char *name;  /* OpenAPI component name */
	const char *help;
	const struct api_field *fields;
	size_t nfields;
	size_t size;       /* sizeof the decoded struct (API_T_OBJV elements) */
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

/* ---- the request documents ------------------------------------------------ */

/* Current version of the job spec document (the "v" field; the store keeps it too). */
#define API_JOB_SPEC_VERSION 1

/* POST /v1/jobs */
struct api_job_submit {
	int64_t v;           /* API_JOB_SPEC_VERSION; 0 when absent means current */
	char *name;
	struct api_strv command; /* argv; exclusive with script */
	char *script;            /* batch script text */
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
};
extern const struct api_schema api_schema_job_submit;

/* One accelerator in an agent's registration. */
struct api_device {
	int64_t index;
	char *vendor;
	char *model;
	int64_t mem_mib;
};
extern const struct api_schema api_schema_device;

/* One task an agent reports as running (registration and heartbeats). */
struct api_task_ref {
	int64_t job;
	int64_t task;
	int64_t attempt;
};
extern const struct api_schema api_schema_task_ref;

/* POST /v1/agents/register */
struct api_agent_register {
	char *name;
	char *addr;      /* address other nodes reach it at (MASTER_ADDR) */
	char *partition; /* NULL = "default" */
	int64_t cpus;
	int64_t mem_mib;
	struct api_objv devices; /* struct api_device */
	struct api_objv running; /* struct api_task_ref */
};
extern const struct api_schema api_schema_agent_register;

/* POST /v1/agents/{node}/heartbeat */
struct api_heartbeat {
	struct api_objv running; /* struct api_task_ref */
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
};
extern const struct api_schema api_schema_task_report;

/* POST /v1/agents/{node}/tasks/status: several task reports, applied in
 * order (a task's "running" may precede its exit in the same batch). */
struct api_task_status_batch {
	struct api_objv reports; /* struct api_task_report */
};
extern const struct api_schema api_schema_task_status_batch;

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

/* Who is calling, as established by the transport (never by the body). */
struct api_identity {
	enum api_role role; /* the highest role established (PUBLIC if none) */
	bool authenticated_user; /* true on the Unix socket */
	uint32_t uid, gid;
	bool admin;
	char user[64]; /* login name of uid, or the number */
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

#define API_MAX_RESP_HEADERS 4

struct api_response {
	int status;               /* HTTP status; 200 if the handler leaves it 0 */
	struct aidc_buf body;     /* JSON unless content_type says otherwise */
	const char *content_type; /* static string; NULL = application/json */
	/* Extra headers (e.g. X-AIDC-Offset on log reads); names are static strings. */
	const char *hdr_name[API_MAX_RESP_HEADERS];
	char hdr_value[API_MAX_RESP_HEADERS][64];
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

struct api_server_config {
	const char *tcp_addr;  /* IPv4 literal, "127.0.0.1" by default; NULL = no TCP listener */
	uint16_t tcp_port;     /* 0 = choose a free port (see api_server_tcp_port) */
	const char *unix_path; /* NULL = no Unix listener; created mode 0666 (identity is SO_PEERCRED) */
	const char *secret;    /* cluster secret for AGENT; borrowed for the server's life */
	int64_t admin_gid;     /* members are ADMIN; -1 = root only */
};

struct api_server;

/* Starts the listeners; routes, ctx and cfg strings are borrowed for the
 * server's life. Caller stops with api_server_stop. */
int api_server_start(const struct api_server_config *cfg, const struct api_route *routes,
		     size_t nroutes, void *ctx, struct api_server **out, struct aidc_err *e);
uint16_t api_server_tcp_port(const struct api_server *srv);
/* Stops accepting, waits for the HTTP threads to finish; NULL is a no-op. */
void api_server_stop(struct api_server *srv);

/* ---- the client (agents and the CLI) ----------------------------------------- */

/* One HTTP/1.1 client over a Unix socket or TCP (libcurl), reused across calls
 * (keep-alive). Not thread-safe: one per thread. */
struct api_client {
	void *curl;              /* CURL * */
	char base[128];          /* "http://127.0.0.1:6820" or "http://localhost" for a socket */
	char unix_path[AIDC_MAX_PATH_BYTES];
	char secret_hdr[AIDC_MAX_SECRET_BYTES + 32]; /* "X-AIDC-Secret: ..." or "" */
};

/* Either unix_path (users) or host:port (agents); secret may be NULL. Copied. */
int api_client_init(struct api_client *cl, const char *unix_path, const char *host,
		    uint16_t port, const char *secret, struct aidc_err *e);
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
};

/*
 * Performs one call. Returns 0 when a reply arrived (whatever its status;
 * see call->status), AIDC_E_IO / AIDC_E_TIMEOUT when none did. For a JSON
 * error reply, api_client_error() extracts the message.
 */
int api_client_call(struct api_client *cl, struct api_call *call, struct aidc_err *e);
/* The "message" of a JSON error reply (or the raw body), into e; returns the
 * code named in it (AIDC_E_* or AIDC_E_INTERNAL). */
int api_client_error(const struct api_call *call, struct aidc_err *e);

#endif
