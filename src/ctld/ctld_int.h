/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private structures of the controller, shared by its .c files:
 *   config.c  configuration keys          loop.c   event loop, messages, timers
 *   jobs.c    job life cycle and store     routes.c the route table and handlers
 *   sched_bridge.c  the bridge to the scheduling core (sched.h)
 *   nodes.c   agents: registration, heartbeats, work, loss
 *   auth.c    per-user tokens: routes and the bearer-token check
 *   tenancy.c accounts, users and QoS: routes, the submit check, priorities
 *   audit.c   the audit log: audited wrappers of change routes, GET /v1/audit
 *   acct.c    job accounting records, GET /v1/acct and /v1/usage
 *
 * Everything below except struct ctld_msg's queue fields is touched by the
 * loop thread only.
 */
#ifndef AIDC_CTLD_CTLD_INT_H
#define AIDC_CTLD_CTLD_INT_H

#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>

#include "api/api.h"
#include "ctld/ctld.h"
#include "sched/sched.h"
#include "store/store.h"
#include "util/arrayset.h"
#include "util/intern.h"
#include "util/json.h"

struct ctld_msg;

struct ctld_task {
	uint32_t index;       /* RANK */
	uint32_t node;        /* index into ctld->nodes */
	uint32_t local_rank, local_size;
	int state;            /* enum ctld_task_state */
	int32_t pid, exit_code, term_signal;
	bool timed_out;
	int64_t start_s, end_s;
	uint32_t ndev;
	uint32_t devs[AIDC_MAX_DEVICES_PER_NODE]; /* device indices on the node */
	uint32_t dev_milli; /* share of each device: 1000 whole, below only with ndev 1 */
	bool kill_sent;   /* a kill order went out for this attempt */
	bool dispatched;  /* the launch order went out (resent after re-registration) */
	int64_t dispatched_ms; /* when (monotonic): unconfirmed, it is sent again later */
	uint8_t out_cut;  /* streams (1 out, 2 err) truncated by output.c: no more is stored */
	/* Resource use from the agent's end report (acct.c); only when
	 * usage_set, each -1 when the agent could not measure it. Not stored in
	 * the task row: an attempt that ends across a controller restart is
	 * accounted without it. */
	bool usage_set;
	int64_t cpu_usec, mem_peak_bytes;
	/* The job's throughput from the end report (speeds.c), milli-units/s;
	 * 0 = none. Not stored, as usage_set. */
	int64_t progress_milli;
};

#define CTLD_LOG_KEY_HEX 16
/* A held job's reason and pending reason; a PENDING row with this reason is held. */
#define CTLD_HELD_REASON "held"

struct ctld_job {
	uint64_t id;
	uint32_t uid, gid;
	char *user, *name; /* owned */
	char *spec_json;   /* owned; the versioned document as stored; NULL when shed */
	/* Decoded from spec_json; owned. A spec over spec_in_memory_kib is shed
	 * once stored (spec_shed: spec_json, command, script and env freed, the
	 * rest kept for scheduling and listings); ctld_job_spec reads the whole
	 * of it back from the store. */
	struct api_job_submit spec;
	uint32_t spec_bytes; /* length of the stored spec document */
	bool spec_shed, has_script;
	int state, target;          /* enum ctld_job_state */
	char *reason;               /* owned or NULL */
	uint32_t attempt;
	int32_t exit_code, term_signal;
	int64_t submit_s, start_s, end_s;
	int32_t handle;             /* the core's handle, -1 when not in the core */
	/* Held (-H, POST /v1/jobs/{id}/hold): PENDING and kept out of the core
	 * (handle -1) until released. Stored as the row's reason "held", so a
	 * restart keeps it held (ctld_job_from_row). */
	bool held;
	/* With a --dependency: PENDING out of the core until every dependency
	 * holds (ctld_deps_check), then submitted to it; dep_never once one can
	 * no longer hold (reason DependencyNeverSatisfied; final). */
	bool dep_wait, dep_never;
	/* --begin (spec.begin_s) still ahead: PENDING out of the core (reason
	 * BeginTime) until ctld_deps_check finds it passed. */
	bool begin_wait;
	/* The core's planned start (its EASY reservation for a blocked queue
	 * head: running jobs end at their time limits or estimates), valid while
	 * est_pass is the latest pass (c->m_passes). */
	int64_t est_start_s;
	uint64_t est_pass;
	/* The start forecast (sched_forecast, estimate_interval_ms) made at
	 * forecast number fc_seq; shown while that is c->fc_seq. */
	int64_t fc_start_s;
	uint64_t fc_seq;
	uint32_t ntasks;
	struct ctld_task *tasks;    /* ntasks entries while RUNNING/STOPPING, else NULL */
	uint16_t master_port;
	bool requeue_on_node_failure;
	/* salloc's command has exited (op release, steps.c): node 0's step holder
	 * exits with release_code, so the job ends as its script would (completed,
	 * or failed with the code). In memory: after a controller restart salloc
	 * cancels the job instead. */
	bool released;
	uint8_t release_code;
	/* Random hex made at submit and stored in the job row: the job's log
	 * directory is logs/<id>.<log_key>, so output left by another job that
	 * once had the same id is never served to this one. "" for rows of builds
	 * before schema 3 (their directory is logs/<id>). */
	char log_key[CTLD_LOG_KEY_HEX + 1];
	/* A job array's pending record (arrays.c; docs/slurm.md "Job arrays"):
	 * its indices not started yet (NULL for every other job), its elements
	 * not ended (counted in memory, again at restore), and whether its
	 * %LIMIT keeps it out of the core. arr_new: an element split off in
	 * this pass; arr_undo its array's indices before (undone with it). */
	struct aidc_aset *arr;
	uint32_t arr_live;
	bool arr_throttled, arr_new;
	char *arr_undo;
	/* An element split off its record by a hold of that one index
	 * (arr_wait: not queued in the core since; counted in its record's
	 * arr_live and arr_waiting, which %LIMIT does not count). A released one
	 * queues when %LIMIT allows (arr_throttled until then). */
	bool arr_wait;
	uint32_t arr_waiting;
	/* Output bytes stored under the log directory (output.c); counted for
	 * live jobs only (restored from the allocated blocks at start). */
	int64_t out_bytes;
	/* A task's change failed to store (its unit rolled back, the memory
	 * ahead): the next task report writes every task row, not just its own
	 * (ctld_task_commit). */
	bool tasks_unsaved;
};

/* Output stored for one user's live jobs (output.c). */
struct ctld_user_output {
	uint32_t uid;
	int64_t bytes;
};

/* One entry of a node's index of active tasks. */
struct ctld_task_ref {
	struct ctld_job *job; /* borrowed: the job is RUNNING or STOPPING while indexed */
	uint32_t task;
};

struct ctld_node {
	char *name, *addr, *partition; /* owned */
	char *info_json;               /* owned: the registration document */
	int state;                     /* enum ctld_node_state */
	bool drained;                  /* admin drain, survives agent loss */
	/* Why it is drained (owned, NULL = not said): the admin's, or the
	 * agent's problem (heartbeat "problem"); agent_drained: the agent's,
	 * lifted when its heartbeats no longer name a problem. */
	char *drain_reason;
	bool agent_drained;
	/* The registered agent (protocol 2): its identity and this run's epoch.
	 * Requests of another epoch are refused as stale. */
	char agent_id[72];
	int64_t epoch;
	int32_t sched_id;              /* the core's node id, -1 if not added */
	uint32_t cpus;
	uint64_t mem_mib;
	uint32_t ndev;
	char vendor[AIDC_MAX_NAME_BYTES];
	char model[AIDC_MAX_NAME_BYTES]; /* of its first device; "mixed" if they differ */
	uint64_t dev_mem_mib;            /* all its devices together */
	/* From the registration's topology (nodes.c); all 0 when the agent sent
	 * none. The whole document stays in info_json (GET /v1/nodes/{name}). */
	uint32_t topo_packages, topo_numa, topo_cores, topo_pus, topo_accels;
	bool has_topo;
	int64_t last_seen_ms;
	int64_t registered_s;
	struct ctld_msg *parked; /* its parked work polls (loop.c; park_next list) */
	/* Device use from the last heartbeat that carried it (NVML agents):
	 * usage_n entries by device index; 0 when the agent measures none. */
	struct api_device_usage usage[AIDC_MAX_DEVICES_PER_NODE];
	uint32_t usage_n;
	/* Tasks the agent reported that the controller does not run: kill them. */
	struct api_task_ref *orphans;
	size_t norphans, cap_orphans;
	/* Index of the tasks of active jobs placed here (ctld_index_add/remove):
	 * dispatch, reconciliation, heartbeats and node loss cost O(tasks on the
	 * node) instead of a scan of the job table. Unordered (swap-remove). */
	struct ctld_task_ref *act;
	size_t nact, cap_act;
};

/* ---- tenancy (tenancy.c, docs/tenancy.md) ---- */

/* A list of names (owned strings). */
struct ctld_names {
	char **v;
	size_t n;
};

/* Association limits; -1 = none. */
struct ctld_limits {
	int64_t max_running_jobs; /* running or stopping */
	int64_t max_submit_jobs;  /* pending, running or stopping */
	int64_t max_devices;      /* devices held by running jobs */
};

/* An account: an organization (parent "") or a project inside one. */
struct ctld_account {
	char name[AIDC_MAX_NAME_BYTES];
	char parent[AIDC_MAX_NAME_BYTES]; /* its organization; "" for an organization */
	char description[256];
	struct ctld_names coordinators; /* users who manage this account's subtree */
	struct ctld_names qos;          /* QoS its users may choose */
	char default_qos[AIDC_MAX_NAME_BYTES]; /* "" = none */
	struct ctld_limits limits;      /* all of the account's jobs together */
	struct ctld_limits user_limits; /* each user's jobs in the account */
	/* Quota of a project: devices its jobs are guaranteed, what it may
	 * borrow beyond and lend of it; -1 none. An organization's quota_* cap
	 * the sum of its projects' (no borrow or lend limit of its own). */
	int64_t quota_devices, borrow_limit, lend_limit;
	int64_t quota_cpus, borrow_limit_cpus, lend_limit_cpus;          /* cores */
	int64_t quota_mem_gib, borrow_limit_mem_gib, lend_limit_mem_gib; /* GiB */
	int64_t shares; /* fair share among its siblings (Slurm's fairshare=N), >= 1 */
	/* Quotas per device model, entries "gpu:MODEL=N" (a project's nominal,
	 * borrow and lend limit of that model; an organization's: a cap). */
	struct ctld_names quota_models, borrow_limit_models, lend_limit_models;
};

/* A user's associations. */
struct ctld_tuser {
	char name[AIDC_MAX_NAME_BYTES];
	char default_account[AIDC_MAX_NAME_BYTES];
	struct ctld_names accounts;
	int64_t shares; /* fair share among the users of each of its accounts, >= 1 */
	struct ctld_names account_shares; /* "ACCOUNT=N": its shares in that account */
};

/* A quality of service. */
struct ctld_qos {
	char name[AIDC_MAX_NAME_BYTES];
	int64_t id;               /* 1..AIDC_MAX_QOS, assigned at creation: its preemption class */
	char description[256];
	int64_t priority;         /* added to the job's own (non-positive for users) */
	struct ctld_names preempt; /* QoS whose preemptible jobs this one's jobs may preempt */
	int64_t max_wall_s;       /* 0 = none; also the time limit of jobs that give none */
	int64_t max_submit_jobs_per_user; /* -1 = none */
};

/* Objects of one kind sorted by name (every kind's struct starts with its
 * name, so an element read as a string is its name): binary search. */
struct ctld_tset {
	void **v;
	size_t n, cap;
};

/* Tenancy is on when at least one account exists; see docs/tenancy.md for
 * the behaviour without. */
struct ctld_tenancy {
	struct ctld_tset acct;  /* struct ctld_account * */
	struct ctld_tset users; /* struct ctld_tuser * */
	struct ctld_tset qos;   /* struct ctld_qos * */
};

struct ctld;

/* A Prometheus histogram: cumulative counts per bucket bound (metrics.c). */
#define CTLD_HIST_BUCKETS 12
struct ctld_hist {
	uint64_t le[CTLD_HIST_BUCKETS];
	uint64_t count;
	double sum;
};

/* A request handed from an HTTP thread to the loop. */
typedef int (*ctld_loop_fn)(struct ctld *c, struct ctld_msg *m);
enum { CTLD_DONE = 0, CTLD_PARK = 1 }; /* loop fns return these, or a negative code */

struct ctld_msg {
	ctld_loop_fn fn;
	struct api_request *req;   /* borrowed from the HTTP thread */
	struct api_response *resp; /* borrowed */
	void *body;                /* decoded body, owned by the HTTP thread */
	struct aidc_err err;
	int rc;
	bool done;
	int64_t deadline_ms;       /* parked long-polls */
	/* While parked (loop.c): the node whose work it waits for, its place in
	 * the deadline heap, its park order (the heap's tie-break) and the next
	 * parked poll of the same node. */
	uint32_t park_node;
	size_t park_pos;
	uint64_t park_seq;
	struct ctld_msg *park_next;
	/* A finished job read back from the store for this request (owned; freed
	 * by the loop after the loop fn returns). */
	struct ctld_job *tmp_job;
	/* loop -> HTTP-thread results for log reads */
	char log_path[AIDC_MAX_PATH_BYTES];
	bool job_done;
	/* Posted by the loop when the reply is ready (loop.c): the HTTP thread
	 * waits on it alone, without the loop's mutex. */
	sem_t done_sem;
	struct ctld_msg *next;
};

/* rates.c: a device model's rate in force, in millionths. */
struct ctld_rate {
	char model[AIDC_MAX_NAME_BYTES];
	int64_t rate_ppm;
};

/* speeds.c: per job class (its name) and device model, the runs observed
 * and the sum of their throughputs (milli-units/s); the models' exam-derived
 * rates (the table's row 0). */
struct ctld_speed_obs {
	char model[AIDC_MAX_NAME_BYTES];
	uint32_t runs;
	uint64_t sum_milli;
};
struct ctld_speed_class {
	char name[AIDC_MAX_NAME_BYTES];
	struct ctld_speed_obs m[AIDC_MAX_DEVICE_MODELS];
	uint32_t nmodels;
};
struct ctld_speeds {
	struct ctld_speed_class *v; /* class id - 1; owned */
	size_t n, cap;
	struct ctld_rate *exam; /* model -> derived rate_ppm; owned */
	size_t nexam, cap_exam;
	bool full_told; /* the class limit was logged */
};
/* One attempt's observation (ctld_speeds_measure). */
struct ctld_speed_sample {
	char cls[AIDC_MAX_NAME_BYTES], model[AIDC_MAX_NAME_BYTES];
	uint64_t rate_milli;
};

struct ctld_rates {
	struct ctld_rate *v; /* owned; a few models, scanned linearly */
	size_t n, cap;
};

/* One running srun step of a batch job (steps.c): registered by srun, run
 * on node 0 by srun and on the job's other nodes by their step holders.
 * Stored (schema 8) at every change; an ended step is kept in the store only. */
struct ctld_step {
	uint64_t job;
	uint32_t attempt;
	int64_t id;       /* srun's step id (SLURM_STEP_ID) */
	char *doc;        /* the holders' document (JSON text, opaque), owned; NULL
			   * for a step on node 0 alone */
	uint32_t *nodes;  /* the job's node numbers (task indexes) it runs on, 0 excepted */
	char **reports;   /* per nodes[i]: that holder's report (JSON text) or NULL */
	uint32_t nnodes;
	/* per nodes[i]: the streams of its output file cut by output.c (1 out,
	 * 2 err; op output). Memory only. */
	uint8_t *out_cut;
	int32_t sig;      /* the latest signal sent, 0 = none */
	uint32_t sig_seq; /* signals sent so far: each holder delivers each once */
	/* What squeue -s and sacct show (srun's, bounded): owned strings. */
	char *name, *nodelist;
	int64_t ntasks, step_nodes, cpus, start_s, limit_s;
	bool cancelled; /* scancel JOB.STEP: srun ends the step (SIGTERM, SIGKILL) */
	/* srun's lease (in memory; a restart renews it): seen_ms is srun's latest
	 * poll or post (ctld_now_ms). A step whose srun is silent step_lease_s is
	 * lost (lost_ms): cancelled (SIGTERM through its holders), SIGKILL
	 * STEP_KILL_GRACE_MS later (killed), ended by the controller when every
	 * holder has reported or soon after the SIGKILL (ctld_steps_tick). */
	int64_t seen_ms, lost_ms;
	bool killed;
	/* srun's own tasks' report (node 0 of a batch job's step; JSON text,
	 * owned), posted when they ended before the other nodes': with every
	 * holder's, a step whose srun is lost ends as its tasks did. */
	char *local_report;
};

struct ctld {
	struct ctld_config cfg;
	char secret[AIDC_MAX_SECRET_BYTES + 1];
	struct store *st;
	/* cfg.db_path as messages show it: a URI's password masked (store_redact). */
	char db_shown[512];
	struct sched *sched;
	struct sched_decisions dec;
	struct api_server *srv;
	/* The dashboard's files (web.c): the directory found at start, "" when
	 * none was (GET /ui then answers 404 with the reason in web_why). */
	char web_dir[AIDC_MAX_PATH_BYTES];
	char web_why[512];

	/* Live jobs (pending, running, stopping) by increasing id. A job that ends
	 * is written to the store and dropped from memory at the end of the loop
	 * iteration (ctld_jobs_evict); views of finished jobs read the store. */
	struct ctld_job **jobs;
	size_t njobs, cap_jobs;
	size_t nended_live;  /* ended jobs still in jobs[] until the next eviction */
	uint64_t evicted_since_trim; /* see ctld_jobs_evict: heap returned after bursts */
	int64_t last_trim_ms;
	int64_t next_req_prune_ms; /* when ctld_requests_prune next runs */
	int64_t next_out_sweep_ms; /* when ctld_output_sweep next starts a walk */
	DIR *out_sweep;            /* its walk of logs/ under way, or NULL */
	uint64_t out_sweep_removed; /* directories the walk removed */
	char out_sweep_dir[96];     /* the expired directory being emptied, or "" */
	uint64_t ended[CTLD_JOB_STATE_COUNT_]; /* ended jobs in the store, by state */
	struct ctld_job **by_handle; /* core handle -> job */
	size_t cap_handles;
	uint64_t next_job_id;
	/* The job-id high-water mark outside the database (<state_dir>/job_id_hwm):
	 * every id below hwm may have been handed out. Written before the id is
	 * used (hwm_dirty: fsynced at the next group commit, before any reply), and
	 * read at start, so ids never go backwards even when the database is lost
	 * or restored from an older backup. */
	int hwm_fd;
	uint64_t hwm;
	bool hwm_dirty;

	struct ctld_node *nodes;
	size_t nnodes, cap_nodes;

	/* Output stored per user, of live jobs (output.c; max_user_output_mib). */
	struct ctld_user_output *uout;
	size_t nuout, cap_uout;

	struct ctld_tenancy ten; /* tenancy.c */
	struct ctld_services *svc; /* services*.c (docs/services.md) */
	struct ctld_rates rates; /* rates.c */

	/* The queue from HTTP threads to the loop. */
	pthread_mutex_t mu;
	pthread_cond_t wake;
	struct ctld_msg *head, *tail;
	size_t queued;
	bool stopping;
	bool loop_idle; /* the loop waits on wake (only then is it signalled) */

	/* Long-polls waiting for work or a timeout: a min-heap by (deadline,
	 * park order), so that the loop finds the next deadline in O(1) and
	 * expires in O(log n); each node also lists its own (ctld_node.parked),
	 * so that work for a node wakes its polls without a scan. */
	struct ctld_msg **parked;
	size_t nparked, cap_parked;
	uint64_t park_seq;

	/* Node names to indexes into nodes (nodes.c: ctld_node_find is called
	 * for every agent request; a scan costs O(nodes) string compares). */
	struct aidc_intern node_names;
	uint32_t *node_of_name; /* by intern id; UINT32_MAX: none */
	size_t cap_node_of_name;
	int64_t next_nodes_check_ms; /* heartbeat timeouts: checked every 100 ms */
	int64_t next_steps_tick_ms;  /* srun leases (ctld_steps_tick): every 500 ms */
	int64_t heartbeat_told_s;    /* the period last asked of agents (logged on change) */

	bool need_pass;
	int64_t next_pass_ms;
	bool arr_refill; /* an array's element ended: its record may queue again */

	/* Group commit: the first change of a loop iteration opens one store
	 * transaction (each change is a savepoint inside it); the iteration ends
	 * with one commit, and only then are its replies released (replies list). */
	bool tx_open;
	bool fatal; /* a group commit failed: memory is ahead of the store; exit */
	/* Leadership over a shared database (lead.c, docs/ha.md): lead_term > 0
	 * while this controller holds the lease; lead_ok_ms is when (monotonic)
	 * the last renewal that succeeded was sent: the lease holds until
	 * lead_ok_ms + leader_lease_ms at least. */
	int64_t lead_term, lead_ok_ms;
	bool standby_stopped; /* a stop signal came before it led: a clean exit */
	bool deposed;         /* it led and lost the lease: stopped for that */
	struct ctld_msg *replies, *replies_tail;

	/* counters and histograms for /metrics (metrics.c) */
	/* Start forecasts (sched_bridge.c): the latest one's number, when the
	 * next may run, and the per-handle output buffer. */
	uint64_t fc_seq;
	int64_t next_forecast_ms;
	int64_t last_pass_us; /* the latest live pass's duration (the forecast's budget) */
	int64_t *fc_buf;
	size_t cap_fc;
	uint64_t m_submitted, m_passes, m_started, m_finished, m_requests;
	uint64_t m_pass_us_total;
	struct ctld_hist m_wait, m_pass, m_commit;
	/* The running srun steps of batch jobs (steps.c), at most
	 * AIDC_MAX_LIVE_STEPS; each also stored (ended ones only there). */
	struct ctld_step *steps;
	size_t nsteps;
	struct ctld_speeds speeds; /* speeds.c (hetero2, issue 12 item 3) */
	/* Agent loss of a leader (lead.c, ctld_lead_check_agents): when the
	 * nodes were restored (a node whose last_seen_ms is later was heard by
	 * this run), the next check, and whether the leader stepped down. */
	int64_t nodes_restored_ms, next_agents_check_ms;
	bool stepped_down;
	int64_t next_agent_loss_log_ms; /* "no standby waits": once a minute */
	/* By the core's node id (sched_bridge.c): the node's index in nodes,
	 * and its first device's id in the core's numbering (the devices it had
	 * when added); ncore of each. A scan of every node per allocated device
	 * before: 1,024 scans of 4,096 nodes per 64-node gang. */
	uint32_t *core_node, *core_first_dev;
	size_t ncore, cap_core_node, cap_core_first_dev;
	uint32_t core_ndevs; /* devices added to the core so far */
};

/* loop.c: monotonic milliseconds for every timer, timeout and age; wall
 * seconds for what users see and the store keeps (util/clock.h). */
int64_t ctld_now_ms(void);
int64_t ctld_now_s(void);

/* loop.c: hands m to the loop and waits for its reply (HTTP threads). */
int ctld_call(struct ctld *c, ctld_loop_fn fn, struct api_request *req, struct api_response *resp,
	      void *body, struct ctld_msg *m, struct aidc_err *e);
/* Replies to a parked message now (loop thread). */
void ctld_unpark_node(struct ctld *c, uint32_t node);
/* Answers the node's parked work polls with empty work: they may belong to a
 * previous agent process, which must not take orders meant for the new one. */
void ctld_drop_parked_node(struct ctld *c, uint32_t node);
/* One unit of change inside the iteration's group transaction (loop thread):
 * begin opens the transaction if needed and a savepoint; release releases
 * the savepoint, keeping the unit's changes in the open transaction (they are
 * durable only at the iteration's group commit, which precedes any reply);
 * rollback undoes this unit only. */
int ctld_tx_begin(struct ctld *c, struct aidc_err *e);
int ctld_tx_release(struct ctld *c, struct aidc_err *e);
void ctld_tx_rollback(struct ctld *c);

/* jobs.c */
struct ctld_job *ctld_job_find(struct ctld *c, uint64_t id);
/* Drops request ids older than submit_request_ttl_s, at most once a minute. */
void ctld_requests_prune(struct ctld *c, int64_t now_ms);
/* Admits a job (spec's strings move into it). With spec->request_id already
 * recorded for who->uid, nothing is submitted: *out_id is the job that id
 * made and *existing is set. */
int ctld_job_submit(struct ctld *c, const struct api_identity *who, struct api_job_submit *spec,
		    const char *body, size_t body_len, uint64_t *out_id, bool *existing,
		    struct aidc_err *e);
int ctld_job_persist(struct ctld *c, struct ctld_job *j, bool tasks, struct aidc_err *e);
/* Writes one task's row (a report that changes no field of the job's row),
 * or every row of the job after j->tasks_unsaved, as one unit of the group
 * transaction. */
int ctld_task_commit(struct ctld *c, struct ctld_job *j, uint32_t t, struct aidc_err *e);
/* Begins stopping a running job (kills its tasks) or ends a pending one. */
int ctld_job_stop(struct ctld *c, struct ctld_job *j, int target, const char *reason,
		  struct aidc_err *e);
/* Holds a pending job: out of the core, reason "held", stored (AIDC_E_STATE
 * for a job that is not pending; a held job stays held). Releases a held job:
 * back into the core, reason cleared (AIDC_E_STATE if not held). Either
 * changes nothing on error. */
int ctld_job_hold(struct ctld *c, struct ctld_job *j, struct aidc_err *e);
int ctld_job_release(struct ctld *c, struct ctld_job *j, struct aidc_err *e);
/* Before each pass: queues the jobs whose dependencies all hold and marks
 * those that can never hold. O(waiting jobs x their dependencies), a store
 * read for a dependency no longer in memory (it ended: decided once). */
void ctld_deps_check(struct ctld *c);
/* Ends the job if every task is terminal (loop thread, after any task change). */
int ctld_job_settle(struct ctld *c, struct ctld_job *j, struct aidc_err *e);
int ctld_jobs_restore(struct ctld *c, struct aidc_err *e);
/* Writes the job's log directory (state_dir/logs/<id>[.<log_key>]) into buf. */
void ctld_job_log_dir(const struct ctld *c, const struct ctld_job *j, char *buf, size_t size);
/* Makes the job-id high-water mark durable if it changed (group commit). */
int ctld_hwm_sync(struct ctld *c, struct aidc_err *e);
/* Frees ended jobs held in memory (after the group commit). */
void ctld_jobs_evict(struct ctld *c);
/* Reads an ended job (with its tasks) from the store; *out is caller-freed
 * with ctld_job_free. AIDC_E_NOTFOUND if the store has no such job. */
int ctld_job_load(struct ctld *c, uint64_t id, struct ctld_job **out, struct aidc_err *e);
/* The job's whole spec: &j->spec, or, for a shed spec, *tmp decoded from the
 * store (the caller releases tmp with api_decoded_release; tmp starts zeroed).
 * *out is borrowed from j or tmp. Cost: one row read and decode when shed. */
int ctld_job_spec(struct ctld *c, const struct ctld_job *j, struct api_job_submit *tmp,
		  const struct api_job_submit **out, struct aidc_err *e);
/* The same from a row the caller holds (borrowed); tasks only if with_tasks. */
int ctld_job_from_row(struct ctld *c, const struct store_job *r, bool with_tasks,
		      struct ctld_job **out, struct aidc_err *e);
bool ctld_job_ended(const struct ctld_job *j); /* a final state */

/* ---- job arrays (arrays.c) ---- */
char *ctld_spec_to_json(const struct api_job_submit *s); /* the stored document */
/* At submit: refuses the controller's array fields; for --array, the index
 * set, its bounds and its throttle into s (400 naming the problem). */
int ctld_array_admit(struct api_job_submit *s, struct aidc_err *e);
/* Reads an array record's pending indices into j->arr (submit, restore). */
int ctld_array_attach(struct ctld_job *j, struct aidc_err *e);
/* Whether j may be in the core: not an array record, or one with indices
 * left and fewer live elements than its %LIMIT. */
bool ctld_array_may_queue(const struct ctld_job *j);
/* In the pass's unit: a new running-to-be element for the lowest pending
 * index of m, stored with m's updated record; NULL on error (e). */
struct ctld_job *ctld_array_split(struct ctld *c, struct ctld_job *m, struct aidc_err *e);
/* The pass's unit was rolled back: the element goes, m takes its index back. */
struct ctld_job *ctld_array_unsplit(struct ctld *c, struct ctld_job *el);
/* After the pass's unit: array records with indices left queue again (how
 * many did). */
size_t ctld_array_after_starts(struct ctld *c);
/* Before a pass: records whose elements ended below %LIMIT queue again. */
void ctld_array_refill(struct ctld *c);
/* In the unit that ends element el: its record counts it; the record ends
 * (completed, or failed when an element did not complete) with the last. */
int ctld_array_element_ended(struct ctld *c, struct ctld_job *el, struct aidc_err *e);
/* After restore: live elements counted on their records. */
void ctld_arrays_restore(struct ctld *c);
/* "A_T" of a cancel: the live element, or (pending index) dropped from its
 * record. *out is the job the reply shows; AIDC_E_NOTFOUND if none. */
int ctld_array_cancel_one(struct ctld *c, const struct api_identity *who, const char *ref,
			  const char *why, struct ctld_job **out, struct aidc_err *e);
/* "A_T" of GET /v1/jobs/{id}: the live element, else the record while T is
 * one of its pending indices (as Slurm's scontrol shows it), else the ended
 * element read back from the store (*tmp, caller frees); NULL if none. */
struct ctld_job *ctld_array_find_ref(struct ctld *c, const char *ref, struct ctld_job **tmp);
/* Hold (hold) or release "A_T": the live element's hold; a pending index of
 * a record is split off as an element of its own, held (as Slurm does).
 * *out is the job the reply shows. */
int ctld_array_hold_one(struct ctld *c, const struct api_identity *who, const char *ref,
			bool hold, struct ctld_job **out, struct aidc_err *e);
/* Hold or release pending record m and its pending elements (as Slurm's
 * scontrol on an array id); a release with nothing held is refused. */
int ctld_array_hold_all(struct ctld *c, struct ctld_job *m, bool hold, struct aidc_err *e);
/* Whether element el may be queued now (a waiting one: when m's %LIMIT
 * allows it, and then it no longer waits). */
bool ctld_array_unwait(struct ctld *c, struct ctld_job *el);
/* Element el, held before it ever started, waits again (a no-op for others). */
void ctld_array_rewait(struct ctld *c, struct ctld_job *el);
/* aftercorr (jobs.c's dependency checks): whether j's dependency has an
 * aftercorr item; the index it applies to (a record's lowest pending index,
 * an element's own; -1: none, the named job counts whole); element idx of
 * array aid's state (AIDC_E_NOTFOUND: no such element, the array counts
 * whole, as Slurm); and record m's lowest index whose counterpart failed:
 * split off to wait alone with DependencyNeverSatisfied, or dropped with
 * --kill-on-invalid-dep. */
bool ctld_array_has_corr(const struct ctld_job *j);
int64_t ctld_array_corr_index(const struct ctld_job *j);
int ctld_array_corr_state(struct ctld *c, uint64_t aid, int64_t idx, int *state);
int ctld_array_corr_never(struct ctld *c, struct ctld_job *m, const char *why);
/* scancel of an array record: every live element, then the record. */
int ctld_array_cancel_all(struct ctld *c, struct ctld_job *m, const char *why, struct aidc_err *e);
/* Exported for arrays.c (jobs.c): */
void ctld_jobs_append(struct ctld *c, struct ctld_job *j);
void ctld_job_new_log_key(char out[CTLD_LOG_KEY_HEX + 1]);
int ctld_job_insert_row(struct ctld *c, const struct ctld_job *j, struct aidc_err *e);
int ctld_hwm_raise(struct ctld *c, uint64_t v, struct aidc_err *e);
void ctld_job_ended_count(struct ctld *c, struct ctld_job *j);
void ctld_job_free(struct ctld_job *j);
bool ctld_job_active(const struct ctld_job *j); /* RUNNING or STOPPING */
void ctld_job_json(struct ctld *c, struct aidc_json *w, const struct ctld_job *j, bool detail);
/* A pending job's reason as listings show it (pending_reason): held,
 * dependency, else the scheduling core's; may be written into buf. */
const char *ctld_job_pending_reason(struct ctld *c, const struct ctld_job *j, char *buf,
				    size_t n);

/* output.c: job output stored under logs/ (quotas, free-space floor) */
/* Stores len bytes of task k's stream (0 out, 1 err) of j at off, within the
 * job's and its user's quotas and above the floor (else truncated with a
 * marker); *size_out: what the agent may consider stored. data borrowed. */
int ctld_output_write(struct ctld *c, struct ctld_job *j, struct ctld_task *k, int stream,
		      int64_t off, const char *data, size_t len, int64_t *size_out,
		      struct aidc_err *e);
/* The same for the file name (in the job's log directory) with its cut bits
 * *cut (srun steps' output, steps.c). name and data borrowed. */
int ctld_output_write_file(struct ctld *c, struct ctld_job *j, const char *name, uint8_t *cut,
			   int stream, int64_t off, const char *data, size_t len, int64_t *size_out,
			   struct aidc_err *e);
/* Counts the output a restored live job already stored (at start). */
void ctld_output_restore(struct ctld *c, struct ctld_job *j);
/* Takes an evicted job's output off its user's total. */
void ctld_output_forget(struct ctld *c, struct ctld_job *j);
/* Removes the output of jobs ended more than output_retention_s ago (a
 * bounded walk of logs/, at most every output_retention_s / 8, 1 s..1 h). */
void ctld_output_sweep(struct ctld *c, int64_t now_ms);
void ctld_output_sweep_end(struct ctld *c); /* closes a walk under way */
/* Whether j's output is past output_retention_s (ended that long ago). */
bool ctld_output_expired(const struct ctld *c, const struct ctld_job *j);
/* Whether the state filesystem is under its floor (min_free_mib, at most an
 * eighth of the filesystem; with half, half of that); the free space and
 * the floor in MiB. */
bool ctld_state_fs_low(struct ctld *c, bool half, int64_t *free_mib, int64_t *floor_mib);
/* The same for its inodes (an eighth of them, at most 65,536; none when
 * min_free_mib is 0 or the filesystem has no fixed count): the free inodes
 * and the floor. */
bool ctld_state_fs_inodes_low(struct ctld *c, bool half, int64_t *free_n, int64_t *floor_n);

/* sched_bridge.c: the bridge to the scheduling core */
int ctld_sched_init(struct ctld *c, struct aidc_err *e);
int ctld_sched_add_node(struct ctld *c, struct ctld_node *n, struct aidc_err *e);
int ctld_sched_node_state(struct ctld *c, struct ctld_node *n);
int ctld_sched_submit(struct ctld *c, struct ctld_job *j, struct aidc_err *e);
/* Checks a submission's nodelist and exclude (Slurm hostlists of known nodes;
 * the nodelist's in the job's partition, no node in both) and sets nodes to
 * the nodelist's size (the allocation holds every listed node, as Slurm's -w);
 * -N above it (Slurm adds other nodes) is refused as not implemented. */
int ctld_sched_nodelists(struct ctld *c, struct api_job_submit *s, struct aidc_err *e);
/* Puts a restored running job back on its nodes. */
int ctld_sched_restore_running(struct ctld *c, struct ctld_job *j, struct aidc_err *e);
int ctld_sched_pass(struct ctld *c, struct aidc_err *e);
/* Refreshes every pending job's start forecast if estimate_interval_ms has
 * passed since the last one (loop thread, after a pass). */
void ctld_forecast_maybe(struct ctld *c, int64_t now_ms);
void ctld_sched_release(struct ctld *c, struct ctld_job *j, bool requeue);
/* Why a pending job waits ("resources", "limit: max_running_jobs of account
 * A", ...), written into buf. */
const char *ctld_sched_reason(struct ctld *c, const struct ctld_job *j, char *buf, size_t n);

/* metrics.c: GET /metrics, and the observations it reports (loop thread). */
int ctld_lf_metrics(struct ctld *c, struct ctld_msg *m);
/* GET /metrics/services: per-service series, of the caller's services (admins: all). */
int ctld_lf_metrics_services(struct ctld *c, struct ctld_msg *m);
int64_t ctld_mono_us(void); /* CLOCK_MONOTONIC in microseconds */
void ctld_metrics_queue_wait(struct ctld *c, double seconds);
void ctld_metrics_pass(struct ctld *c, int64_t us);
void ctld_metrics_commit(struct ctld *c, int64_t us);
/* Devices of n used (whole or in part) by its assigned or running tasks. */
uint32_t ctld_node_devices_allocated(const struct ctld_node *n);
/* The free shares of n's devices, milli (a half-used device counts 500). */
uint32_t ctld_node_device_milli_free(const struct ctld_node *n);

/* nodes.c */
/* The per-node index of active tasks: add every task of j (just placed) to
 * its node's list; remove them (before j->tasks is freed or j ends). */
void ctld_index_add(struct ctld *c, struct ctld_job *j);
void ctld_index_remove(struct ctld *c, struct ctld_job *j);
struct ctld_node *ctld_node_find(struct ctld *c, const char *name, uint32_t *idx);
/* The heartbeat period asked of agents now (heartbeat_s stretched by
 * heartbeat_max_per_s), and the silence after which a node is down. */
int64_t ctld_heartbeat_s(const struct ctld *c);
int64_t ctld_node_timeout_ms(const struct ctld *c);
int ctld_nodes_restore(struct ctld *c, struct aidc_err *e);
int ctld_node_persist(struct ctld *c, struct ctld_node *n, struct aidc_err *e);
void ctld_nodes_check(struct ctld *c); /* heartbeat timeouts */
void ctld_node_json(struct ctld *c, struct aidc_json *w, const struct ctld_node *n);
/* Loop fns for the agent protocol and node admin. */
int ctld_lf_register(struct ctld *c, struct ctld_msg *m);
int ctld_lf_heartbeat(struct ctld *c, struct ctld_msg *m);
int ctld_lf_work(struct ctld *c, struct ctld_msg *m);
int ctld_lf_task_status_batch(struct ctld *c, struct ctld_msg *m);
int ctld_lf_task_logs(struct ctld *c, struct ctld_msg *m);
/* srun steps of batch jobs (steps.c, docs/slurm.md): POST/GET
 * /v1/jobs/{id}/steps (the job's own user; cancel: also admins) and
 * GET /v1/steps (squeue -s, sacct). ctld_steps_restore loads the live steps
 * from the store at start (after the jobs). */
int ctld_lf_steps_post(struct ctld *c, struct ctld_msg *m);
int ctld_lf_steps_get(struct ctld *c, struct ctld_msg *m);
int ctld_lf_steps_list(struct ctld *c, struct ctld_msg *m);
int ctld_steps_restore(struct ctld *c, struct aidc_err *e);
/* Ends the steps whose srun's lease ran out (docs/slurm.md "Job steps");
 * O(live steps), the work at most every 500 ms. */
void ctld_steps_tick(struct ctld *c, int64_t now_ms);
void ctld_steps_release(struct ctld *c);
int ctld_lf_nodes_list(struct ctld *c, struct ctld_msg *m);
int ctld_lf_node_get(struct ctld *c, struct ctld_msg *m);
int ctld_lf_node_drain(struct ctld *c, struct ctld_msg *m);
int ctld_lf_node_resume(struct ctld *c, struct ctld_msg *m);
/* Builds a node's work reply (launches + kills); returns how many items. */
size_t ctld_node_work(struct ctld *c, uint32_t node, struct aidc_buf *out);

/* auth.c: per-user tokens (routes) and the bearer-token check (api_token_fn;
 * ctx is the struct ctld; HTTP threads). */
int ctld_token_check(void *ctx, const char *token, struct api_identity *who,
		     struct aidc_err *e);
int ctld_lf_token_create(struct ctld *c, struct ctld_msg *m);
int ctld_lf_token_list(struct ctld *c, struct ctld_msg *m);
int ctld_lf_token_revoke(struct ctld *c, struct ctld_msg *m);

/* audit.c (docs/accounting.md): ctld_audit_add appends one record in its own
 * savepoint of the current transaction (detail: detail_len bytes, borrowed,
 * cut at AIDC_MAX_AUDIT_DETAIL_BYTES). The ctld_lf_audited_* loop functions
 * run the named handler and record it in the same transaction. */
int ctld_audit_add(struct ctld *c, const struct api_identity *who, const char *action,
		   const char *target, int64_t target_uid, const char *detail, size_t detail_len,
		   struct aidc_err *e);
/* Adds the audit record of the change m made in the open transaction and
 * commits both (ctld_tx_release). When either fails the change is rolled
 * back, the controller is marked fatal (it exits; a restart rebuilds state
 * from the store), m's reply body is dropped, and AIDC_E_IO is returned with
 * m->err set. */
int ctld_audit_commit(struct ctld *c, struct ctld_msg *m, const char *action, const char *target,
		      int64_t target_uid, const char *detail, size_t detail_len);
int ctld_lf_audit_list(struct ctld *c, struct ctld_msg *m);
/* rates.c (docs/accounting.md): per-model rates. ctld_rates_load reads them
 * at start; ctld_rate_ppm is a model's rate in millionths, 0 when it has
 * none (charged at rate 1); ctld_ppm_str formats millionths as a decimal
 * with six places into buf. The loop functions are the routes. */
int ctld_rates_load(struct ctld *c, struct aidc_err *e);
void ctld_rates_release(struct ctld *c);
int64_t ctld_rate_ppm(const struct ctld *c, const char *model);
void ctld_ppm_str(int64_t ppm, char *buf, size_t n);
int ctld_lf_exam_publish(struct ctld *c, struct ctld_msg *m);
int ctld_lf_rate_set(struct ctld *c, struct ctld_msg *m);
int ctld_lf_rates_list(struct ctld *c, struct ctld_msg *m);
/* speeds.c (docs/placement.md "Heterogeneity-aware placement"): the speed
 * table from jobs' progress reports. load reads the exam-derived rates and
 * the stored observations and sets the core's table (at start, after
 * ctld_sched_init); apply sets it again (a model became known to the core);
 * exam records a model's derived rate (a publish). class is a job name's
 * class id (0 = none). measure takes an ending attempt's observation (false:
 * none); record adds it and writes the table in the open transaction (on an
 * error nothing changed). */
int ctld_speeds_load(struct ctld *c, struct aidc_err *e);
void ctld_speeds_release(struct ctld *c);
void ctld_speeds_apply(struct ctld *c);
void ctld_speeds_exam(struct ctld *c, const char *model, int64_t derived_ppm);
uint32_t ctld_speeds_class(const struct ctld *c, const char *name);
bool ctld_speeds_measure(const struct ctld *c, const struct ctld_job *j,
			 struct ctld_speed_sample *out);
int ctld_speeds_record(struct ctld *c, const struct ctld_speed_sample *s, struct aidc_err *e);
int ctld_lf_speeds(struct ctld *c, struct ctld_msg *m);
/* At start (before the loop): compares the effective configuration with the
 * one recorded at the previous start (meta "config") and, when it differs,
 * appends a "config.change" record naming the changed keys, in one
 * transaction with the new recorded configuration. */
int ctld_audit_config(struct ctld *c, struct aidc_err *e);

/* ---- leadership (lead.c, docs/ha.md) ---- */
/* Returns once this controller leads: at once on a store with one writer
 * (SQLite); on a shared one, as a standby until the leader's lease expires.
 * A stop signal while standby sets standby_stopped and returns AIDC_E_STATE. */
int ctld_lead_acquire(struct ctld *c, struct aidc_err *e);
/* Called by the group commit (outside a transaction) before replies leave:
 * renews the lease when a third of it has passed; false when this
 * controller may no longer lead (deposed, or no renewal for a whole lease):
 * it must release nothing and stop. */
bool ctld_lead_hold(struct ctld *c);
/* Notes a fenced commit (it renewed the lease) sent at mono time t_ms. */
void ctld_lead_renewed(struct ctld *c, int64_t t_ms);
/* Hands the lease over at a clean stop. */
void ctld_lead_release(struct ctld *c);
/* lead.c: a leader that has not heard from leader_agent_loss_pct % of the
 * agents it heard from for leader_agent_loss_s steps down when a standby
 * waits: stepped_down and fatal set (the loop ends, the lease is released). */
void ctld_lead_check_agents(struct ctld *c, int64_t now);

int ctld_lf_audited_token_create(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_token_revoke(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_account_add(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_account_modify(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_account_delete(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_user_add(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_user_modify(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_user_delete(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_qos_add(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_qos_modify(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_qos_delete(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_node_drain(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_node_resume(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_job_cancel(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_job_requeue(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_job_hold(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_job_release(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_service_update(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_service_scale(struct ctld *c, struct ctld_msg *m);
int ctld_lf_audited_service_delete(struct ctld *c, struct ctld_msg *m);
/* routes.c: the cancel, requeue, hold and release handlers (wrapped by audit.c). */
int ctld_lf_job_cancel(struct ctld *c, struct ctld_msg *m);
int ctld_lf_job_requeue(struct ctld *c, struct ctld_msg *m);
int ctld_lf_job_hold(struct ctld *c, struct ctld_msg *m);
int ctld_lf_job_release(struct ctld *c, struct ctld_msg *m);

/* acct.c: ctld_acct_record writes the accounting record of j's current
 * attempt, ended at end_s in state (CTLD_JOB_REQUEUE for a requeued
 * attempt); the caller holds a savepoint. j is borrowed. */
int ctld_acct_record(struct ctld *c, const struct ctld_job *j, int state, int64_t end_s,
		     struct aidc_err *e);
int ctld_lf_acct_list(struct ctld *c, struct ctld_msg *m);
int ctld_lf_usage(struct ctld *c, struct ctld_msg *m);

/* services.c, services_run.c, services_worker.c (docs/services.md) */
struct ctld_services;
/* Reads the services from the store (start-up, after the jobs). */
int ctld_services_load(struct ctld *c, struct aidc_err *e);
/* Starts the router (HAProxy, when installed) and the worker thread. */
int ctld_services_start(struct ctld *c, struct aidc_err *e);
/* Every 200 ms on the loop thread: keeps each service's replicas. */
void ctld_services_tick(struct ctld *c, int64_t now_ms);
void ctld_services_release(struct ctld *c); /* stops the worker and the router */
/* The services' totals in Prometheus' text format (metrics.c). */
void ctld_services_metrics(struct ctld *c, struct aidc_buf *b);
int ctld_lf_service_list(struct ctld *c, struct ctld_msg *m);
int ctld_lf_service_get(struct ctld *c, struct ctld_msg *m);
int ctld_lf_service_create(struct ctld *c, struct ctld_msg *m);
int ctld_lf_service_update(struct ctld *c, struct ctld_msg *m);
int ctld_lf_service_scale(struct ctld *c, struct ctld_msg *m);
int ctld_lf_service_delete(struct ctld *c, struct ctld_msg *m);
/* jobs.c: the submit path's checks of spec (normalized in place) without
 * creating a job: the checks a service's replica must pass at create. */
int ctld_job_check(struct ctld *c, const struct api_identity *who, struct api_job_submit *spec,
		   struct aidc_err *e);

/* queue.c: GET /v1/queue, the live jobs one page at a time with counts. */
int ctld_lf_queue(struct ctld *c, struct ctld_msg *m);

/* tenancy.c */
/* Reads accounts, users and QoS from the store (start-up). */
int ctld_tenancy_load(struct ctld *c, struct aidc_err *e);
/* A device model was registered (a node's): accounts' quota_models entries
 * naming it reach the core's groups now. */
void ctld_tenancy_models(struct ctld *c);
void ctld_tenancy_release(struct ctld_tenancy *t);
/* The submit check (loop thread): resolves spec->account (default: the
 * user's) and spec->qos (default: the account's), storing them in spec;
 * refuses unknown or unassociated accounts, QoS the account does not allow,
 * a positive priority from a non-admin, a time limit above the QoS's max
 * wall time, and submit limits. Changes nothing but spec on failure. */
int ctld_tenancy_admit(struct ctld *c, const struct api_identity *who,
		       struct api_job_submit *spec, struct aidc_err *e);
/* With QoS defined, j's QoS class and the classes it may preempt (true);
 * false when no QoS exists (preemption by the order's key alone). */
bool ctld_tenancy_qos_rights(const struct ctld *c, const struct ctld_job *j, uint32_t *cls,
			     uint64_t *mask);
/* The core groups j is charged to (its account's and its user's in it,
 * with their limits) into groups[0..2); returns how many (0 without an
 * account) or a negative code. */
int ctld_tenancy_groups(struct ctld *c, const struct ctld_job *j, uint32_t *groups,
			struct aidc_err *e);
/* The priority the core orders j by: its QoS's plus its own, clamped. */
int32_t ctld_tenancy_priority(const struct ctld *c, const struct ctld_job *j);
/* order = multifactor: the job's QoS factor x 1000 (its QoS priority over the
 * highest QoS priority; 0 without a QoS or a positive priority). */
uint32_t ctld_tenancy_qos_milli(const struct ctld *c, const struct ctld_job *j);
/* Whether who may see account a (docs/tenancy.md "Isolation"), coordinates it. */
bool ctld_tenancy_sees_account(const struct ctld *c, const struct api_identity *who,
			       const struct ctld_account *a);
bool ctld_tenancy_coordinates(const struct ctld *c, const struct api_identity *who,
			      const struct ctld_account *a);
/* tenancy_share.c: GET /v1/share, and the body of GET /v1/jobs/{id}/priority
 * for job j (visible to the caller; AIDC_E_STATE unless pending). */
int ctld_lf_share(struct ctld *c, struct ctld_msg *m);
int ctld_job_priority_json(struct ctld *c, struct ctld_msg *m, const struct ctld_job *j);
const struct ctld_qos *ctld_qos_find(const struct ctld *c, const char *name);
const struct ctld_account *ctld_account_find(const struct ctld *c, const char *name);
int ctld_lf_account_list(struct ctld *c, struct ctld_msg *m);
int ctld_lf_account_add(struct ctld *c, struct ctld_msg *m);
int ctld_lf_account_get(struct ctld *c, struct ctld_msg *m);
int ctld_lf_account_modify(struct ctld *c, struct ctld_msg *m);
int ctld_lf_account_delete(struct ctld *c, struct ctld_msg *m);
int ctld_lf_user_list(struct ctld *c, struct ctld_msg *m);
int ctld_lf_user_add(struct ctld *c, struct ctld_msg *m);
int ctld_lf_user_get(struct ctld *c, struct ctld_msg *m);
int ctld_lf_user_modify(struct ctld *c, struct ctld_msg *m);
int ctld_lf_user_delete(struct ctld *c, struct ctld_msg *m);
int ctld_lf_qos_list(struct ctld *c, struct ctld_msg *m);
int ctld_lf_qos_add(struct ctld *c, struct ctld_msg *m);
int ctld_lf_qos_modify(struct ctld *c, struct ctld_msg *m);
int ctld_lf_qos_delete(struct ctld *c, struct ctld_msg *m);

/* routes.c */
/* web.c: the dashboard (static files, sign-in cookie, whoami); HTTP-thread
 * handlers that touch no loop state. ctld_web_init finds the files at start:
 * a configured web_dir that is not a directory is an error. */
int ctld_web_init(struct ctld *c, struct aidc_err *e);
int ctld_h_ui_root(void *ctx, struct api_request *req, struct api_response *resp,
		   struct aidc_err *e);
int ctld_h_ui_file(void *ctx, struct api_request *req, struct api_response *resp,
		   struct aidc_err *e);
int ctld_h_ui_login(void *ctx, struct api_request *req, struct api_response *resp,
		    struct aidc_err *e);
int ctld_h_ui_logout(void *ctx, struct api_request *req, struct api_response *resp,
		     struct aidc_err *e);
int ctld_h_whoami(void *ctx, struct api_request *req, struct api_response *resp,
		  struct aidc_err *e);

extern const struct api_route ctld_routes[];
extern const size_t ctld_nroutes;

#endif
