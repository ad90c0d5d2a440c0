/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller daemon (`aidc controller`): the REST API, durable state in
 * the store, one event-loop thread that owns the scheduling core, dispatch of
 * tasks to node agents, and reconciliation after a restart.
 *
 * Threads: libmicrohttpd runs one thread per connection; each handler decodes
 * its body, hands a message to the event loop and waits for the reply. Only
 * the loop thread touches struct sched, the job and node tables and the store.
 * Every state change is committed to the store before its reply is released.
 */
#ifndef AIDC_CTLD_CTLD_H
#define AIDC_CTLD_CTLD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

struct sched_name; /* sched/sched.h */

/* Job states (persisted: append only, never renumber). */
enum ctld_job_state {
	CTLD_JOB_PENDING = 0,
	CTLD_JOB_RUNNING = 1,
	CTLD_JOB_STOPPING = 2, /* tasks are being killed; ends in the job's target state */
	CTLD_JOB_COMPLETED = 3,
	CTLD_JOB_FAILED = 4,
	CTLD_JOB_CANCELLED = 5,
	CTLD_JOB_TIMEOUT = 6,
	CTLD_JOB_NODE_FAIL = 7,
	CTLD_JOB_REQUEUE = 8, /* only as a STOPPING target: back to PENDING, attempt + 1 */
	CTLD_JOB_STATE_COUNT_
};
const char *ctld_job_state_name(int st);
int ctld_job_state_parse(const char *s); /* -1 if unknown */

/* Task states of the current attempt (persisted). */
enum ctld_task_state {
	CTLD_TASK_ASSIGNED = 0, /* committed to a node; the agent has not confirmed it yet */
	CTLD_TASK_RUNNING = 1,
	CTLD_TASK_EXITED = 2,
	CTLD_TASK_FAILED = 3, /* could not start */
	CTLD_TASK_LOST = 4,   /* its node vanished */
};
const char *ctld_task_state_name(int st);

/* Node states (persisted). */
enum ctld_node_state {
	CTLD_NODE_UP = 0,
	CTLD_NODE_DRAINED = 1, /* by an admin: running jobs finish, nothing new starts */
	CTLD_NODE_DOWN = 2,    /* its agent stopped heartbeating */
	CTLD_NODE_UNKNOWN = 3, /* known from the store, agent not heard from since restart */
};
const char *ctld_node_state_name(int st);

/* Configuration; every key is declared once in config.c's table (docs/config.md). */
struct ctld_config {
	char listen_addr[64];
	int64_t port;
	char socket_path[4096];
	char state_dir[4096];
	char db_path[4096];
	char secret_file[4096];
	char port_file[4096];
	char web_dir[4096]; /* the dashboard's files; "" = found beside the binary (web.c) */
	int order;     /* enum sched_order */
	int placement; /* enum sched_placement */
	int blocking;  /* enum sched_blocking */
	/* the core's preemption cost and GITTINS settings (struct sched_config) */
	int64_t restart_overhead_s;
	int64_t gittins_min_samples, gittins_quantum_s, gittins_max_preempt;
	int64_t gittins_starve_s, gittins_starve_factor;
	int64_t gittins_window; /* sched_config.gittins_window */
	/* order = multifactor: fair share and priority weights (struct sched_config) */
	int64_t fs_half_life_s, priority_calc_period_s, priority_max_age_s;
	int64_t priority_weight_age, priority_weight_fairshare, priority_weight_size,
	    priority_weight_qos, priority_weight_partition;
	/* "NAME=N,...": partitions' priority job factors (ctld_partition_priority) */
	char partition_priority[1024];
	int64_t node_timeout_s;
	int64_t heartbeat_s;
	int64_t heartbeat_max_per_s;
	int64_t kill_grace_s;
	int64_t step_lease_s; /* an srun step whose srun is silent this long is ended */
	int64_t pass_interval_ms;
	int64_t estimate_interval_ms; /* start forecast of every pending job; 0 = off */
	int64_t estimate_step_s;      /* the forecast's time step (sched_forecast) */
	int64_t estimate_budget_ms;   /* about how long one forecast may hold the loop */
	int64_t default_mem_mib;
	int64_t master_port_base;
	int64_t master_port_range;
	bool requeue_on_node_failure;
	bool allow_root_jobs;
	bool store_sync_full;
	int64_t leader_lease_ms; /* controllers sharing a PostgreSQL database (docs/ha.md) */
	char advertise_url[160]; /* recorded in the lease: where this one is reached */
	int64_t leader_agent_loss_pct; /* a leader cut off from this share of agents steps down */
	int64_t leader_agent_loss_s;   /* for this long (at least 2 heartbeat periods) */
	int64_t admin_gid; /* -1: root only */
	char partition[128];
	char tls_cert[4096]; /* PEM certificate (chain) of the TCP listener; "" = plain HTTP */
	char tls_key[4096];  /* its private key, mode 0600 or stricter */
	bool insecure_plaintext_listen; /* allow non-loopback listen_addr without TLS */
	bool munge;                     /* accept MUNGE credentials on TCP */
	char munge_socket[4096];        /* munged's socket; "" = its default */
	int64_t max_conns_per_peer;     /* HTTP connections one uid/address may hold */
	int64_t http_header_timeout_s;  /* to send a request's headers */
	int64_t http_body_timeout_s;    /* to send its body */
	int64_t max_pending_jobs_per_user; /* like Slurm's MaxSubmitJobs for pending */
	int64_t max_jobs_per_user;         /* pending + running + stopping */
	int64_t max_spec_kib;              /* one job's stored spec (env, script, ...) */
	int64_t max_pending_spec_mib_per_user; /* specs of a user's live jobs */
	int64_t max_pending_spec_mib;      /* specs of all live jobs */
	int64_t spec_in_memory_kib;        /* larger specs stay in the store only */
	int64_t submit_request_ttl_s;      /* how long a submission's request id is remembered */
	int64_t max_job_output_mib;        /* output stored for one job (output.c) */
	int64_t max_user_output_mib;       /* for one user's live jobs */
	int64_t min_free_mib;              /* floor of the state filesystem; 0: none */
	int64_t output_retention_s;        /* ended jobs' output removed after; 0: kept */
	/* inference services (services.c, docs/services.md) */
	char haproxy_bin[4096];            /* the router; "" = services without one */
	char service_addr[64];             /* where the router listens */
	int64_t service_port_base;         /* service i's address is service_addr:base+slot */
	int64_t service_slots;             /* router slots = most services at once */
	int64_t replica_port_min, replica_port_max; /* $PORT of replicas */
	int64_t max_services_per_user;
	int64_t service_slots_per_user;
	int hetero; /* enum sched_hetero (speeds.c, docs/placement.md) */
	bool router_keep_on_stop; /* a clean stop leaves HAProxy routing (adopted next start) */
};

/* Fills the defaults of config.c's table (state_dir "/var/lib/aidc", loopback, ...). */
void ctld_config_defaults(struct ctld_config *c);
/* Applies one "key = value" setting; AIDC_E_INVAL names the key. */
int ctld_config_set(struct ctld_config *c, const char *key, const char *value,
		    struct aidc_err *e);
/* Reads a key=value file ('#' comments, blank lines); errors carry file:line. */
int ctld_config_load(struct ctld_config *c, const char *path, struct aidc_err *e);
/* The priority job factor that list (the partition_priority key: "NAME=N,..."
 * with N in 0..AIDC_MAX_PARTITION_PRIORITY, each name once) gives partition
 * name (0 when it names none) in *out; name NULL checks the list alone.
 * AIDC_E_INVAL naming the key and the item for a malformed list. */
int ctld_partition_priority(const char *list, const char *name, uint32_t *out,
			    struct aidc_err *e);
/* Derives unset paths from state_dir (db, secret, socket). */
void ctld_config_finish(struct ctld_config *c);
/* Writes the key table as Markdown (docs/config.md is generated from it). */
void ctld_config_doc(FILE *out);

/* One config key as the command line sees it: `aidc controller --FLAG VALUE`
 * is `KEY = VALUE` in the config file (a bool flag alone is "true"). */
#define CTLD_CONFIG_MAX_KEYS 80
struct ctld_config_key {
	const char *key;            /* borrowed from the table, e.g. "node_timeout_s" */
	char flag[64];              /* long option without "--", e.g. "node-timeout" */
	const char *metavar;        /* NULL for bool keys */
	bool is_bool;
	const char *help;           /* borrowed */
	char def[64];               /* the default as text ("" = empty), e.g. "<state_dir>/aidc.db" */
	const struct sched_name *choices; /* borrowed (sched's name table); NULL if not a choice */
};
/* The effective configuration as "key=value" lines in table order, appended
 * to out (audit.c records its changes between starts). */
struct aidc_buf;
int ctld_config_text(const struct ctld_config *c, struct aidc_buf *out);
/* Number of config keys (<= CTLD_CONFIG_MAX_KEYS). */
size_t ctld_config_nkeys(void);
/* Describes key i < ctld_config_nkeys(). */
void ctld_config_key_info(size_t i, struct ctld_config_key *out);

/*
 * Runs the controller until SIGINT/SIGTERM: opens the store, rebuilds state,
 * starts the listeners, runs the loop. cfg is borrowed. Returns 0 after a
 * clean shutdown or a negative code.
 */
int ctld_run(const struct ctld_config *cfg, struct aidc_err *e);

/* Creates the cluster secret file (mode 0600) if absent; reads it into out. */
int ctld_secret_ensure(const char *path, char *out, size_t outsz, struct aidc_err *e);

#endif
