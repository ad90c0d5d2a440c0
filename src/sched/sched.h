/* SPDX-License-Identifier: Apache-2.0 */
/*
 * THE SCHEDULING CORE: the public interface shared by both drivers, the live
 * controller and the trace-driven simulator.
 *
 * Purity: no I/O, no threads, no clocks, no rand(), no globals. Time comes in
 * as `now_s` (seconds since an epoch the driver chooses: Unix time live, the
 * trace's epoch in simulation); logging comes in through struct sched_env.
 * Determinism: every ordering has an explicit total order ending in the
 * driver's job id, so the same calls give byte-identical decisions.
 *
 * Life of a job: sched_submit() -> pending; sched_pass() returns START
 * decisions (the core has already allocated the resources: the driver commits
 * and dispatches them, or undoes one with sched_job_requeue()) and PREEMPT
 * decisions (the core has changed nothing: the driver stops the victim, calls
 * sched_job_requeue(), and runs another pass); sched_job_finish() when the job
 * ends; sched_job_cancel() removes a job in any state. A driver that restarts
 * and finds a job running submits it and calls sched_job_restore() with the
 * exact slots it holds.
 *
 * Ownership: every pointer argument is borrowed for the duration of the call
 * unless stated; strings in specs are copied.
 */
#ifndef AIDC_SCHED_SCHED_H
#define AIDC_SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct sched;
struct sched_alloc;

/* ---- environment: what the core may call out to (cf. sqlite3_vfs) -------- */

#define SCHED_ENV_VERSION 1

struct sched_env {
	int version; /* SCHED_ENV_VERSION; the core rejects others */
	void *ctx;   /* passed back to every callback */
	/* Optional diagnostic log (level: enum aidc_log_level). NULL = silent. */
	void (*log_fn)(void *ctx, int level, const char *msg);
};

/* ---- configuration -------------------------------------------------------- */

/* Queue order: which pending job is considered first. */
enum sched_order {
	SCHED_ORDER_FIFO,     /* submit time, then submit sequence */
	SCHED_ORDER_SJF,      /* oracle duration x devices, shortest first (reference only) */
	SCHED_ORDER_SRTF,     /* oracle remaining time, preemptive (reference only) */
	SCHED_ORDER_QSSF,     /* predicted service (duration x devices) from history; no oracle */
	SCHED_ORDER_TIRESIAS, /* discretized 2-queue least-attained-service, preemptive */
	SCHED_ORDER_PRIORITY, /* job priority (high first), then FIFO */
	SCHED_ORDER_GITTINS,  /* Gittins index of attained run time under the run-time
				 distribution learned from finished jobs; preemptive; no oracle */
	SCHED_ORDER_MULTIFACTOR, /* Slurm-like multifactor priority: the job's own priority plus
				    weighted age, fair-share (decayed usage of its tenancy
				    groups, Fair Tree), job size and QoS factors (fairshare.c) */
	SCHED_ORDER_COUNT_
};

/* Where a job's tasks go. */
enum sched_placement {
	SCHED_PLACE_CONSOLIDATE, /* fewest nodes, best fit */
	SCHED_PLACE_TOPOLOGY,    /* smallest topology domain that fits: group < node < rack < partition */
	SCHED_PLACE_SPREAD,      /* most free nodes first, one task per node where possible */
	SCHED_PLACE_HELIOS,      /* Helios SC'21 rules: <= node size -> fullest node that fits;
				    larger -> whole empty nodes + one node for the remainder */
	/* Fractional / heterogeneous policies (FGD paper, ATC'23); see docs/placement.md. */
	SCHED_PLACE_RANDOM,
	SCHED_PLACE_DOTPROD,
	SCHED_PLACE_GPU_CLUSTERING,
	SCHED_PLACE_GPU_PACKING,
	SCHED_PLACE_BESTFIT,
	SCHED_PLACE_FGD,
	SCHED_PLACE_AIDC_FRAG, /* our own fragmentation-aware policy */
	SCHED_PLACE_COUNT_
};

/* What happens when the job at the head of a partition's queue cannot start. */
enum sched_blocking {
	SCHED_BLOCK_STRICT, /* stop the partition's queue there (head-of-line blocking) */
	SCHED_BLOCK_EASY,   /* EASY backfill: reserve for the head, start later jobs that don't delay it */
	SCHED_BLOCK_SKIP,   /* greedy: skip it and try every later job (may starve big jobs) */
	SCHED_BLOCK_COUNT_
};

/* Heterogeneity-aware choice of a device model (hetero.c, docs/placement.md
 * "Heterogeneity-aware placement"): which acceptable model a whole-device
 * gang gets when several could take it now. OFF keeps the placement's own
 * choice (fewest nodes, least left free, lowest model id). */
enum sched_hetero {
	SCHED_HETERO_OFF,
	SCHED_HETERO_FASTEST, /* the model where the job's class runs fastest */
	SCHED_HETERO_GAVEL,   /* the model where its speed relative to the other
				 classes' is largest, priced by how busy the model is */
	SCHED_HETERO_COUNT_
};
/* "off" | "fastest" | "gavel": 0 with *out set, or AIDC_E_INVAL. */
int sched_hetero_parse(const char *name, enum sched_hetero *out);
const char *sched_hetero_name(enum sched_hetero h); /* "?" outside the enum */

/*
 * Names of the three policy enums (src/sched/names.c, the only copy): config
 * files, CLI flags, reports and JSON use them. Each table has one row per enum
 * value, in any order, and ends with a row whose name is NULL. Look names up
 * with the functions below, never by a row's position.
 */
struct sched_name {
	int value;         /* the enum value */
	const char *name;  /* canonical name, e.g. "aidc-frag" */
	const char *alias; /* another accepted spelling (e.g. the FGD paper's "aidc"), or NULL */
	const char *label; /* for human tables, e.g. "Tiresias" */
};
extern const struct sched_name sched_order_names[];
extern const struct sched_name sched_placement_names[];
extern const struct sched_name sched_blocking_names[];
/* enum sched_hetero's names (hetero.c), for config tables (the controller's
 * `hetero` key). */
extern const struct sched_name sched_hetero_names[];
/* The row whose name or alias is name (NULL-safe), or NULL. Borrowed, static. */
const struct sched_name *sched_name_find(const struct sched_name *t, const char *name);
/* The row of value, or NULL. Borrowed, static. */
const struct sched_name *sched_name_of(const struct sched_name *t, int value);
/* Name (or alias) -> placement (`aidc sim openb`; other callers use
 * sched_name_find): 0 with *out set, or AIDC_E_INVAL (out untouched). */
int sched_placement_parse(const char *name, enum sched_placement *out);
/* Enum -> canonical name (label: for people); "?" for a value outside the enum. */
const char *sched_order_name(enum sched_order o);
const char *sched_order_label(enum sched_order o);
const char *sched_placement_name(enum sched_placement p);
const char *sched_blocking_name(enum sched_blocking b);

struct sched_config {
	enum sched_order order;
	enum sched_placement placement;
	enum sched_blocking blocking;
	/* Tiresias: attained service (device-seconds) that demotes a job to the low queue
	 * (until the history-derived threshold below takes over). */
	int64_t tiresias_threshold_dev_s;
	/* Tiresias: a low-queue job waiting this long is promoted back (0 = never). */
	int64_t tiresias_starve_s;
	/* Estimate used when a job has no time limit, prediction or history. */
	int64_t default_estimate_s;
	/* Seed for randomized placement (SCHED_PLACE_RANDOM); decisions stay deterministic. */
	uint64_t seed;
	/* Predictor: a history group's estimate is the mean of its run times until it has
	 * this many samples, then an exponentially weighted mean in which the newest weighs
	 * 1/window (recent jobs count more). 0 = the lifetime mean. */
	uint32_t predict_window;
	/* Tiresias: with 1..99, each partition's demotion threshold is this percentile of
	 * the service (device-seconds) of its finished jobs, once it has
	 * tiresias_min_samples of them (tiresias_threshold_dev_s until then).
	 * 0 = always tiresias_threshold_dev_s. */
	uint32_t tiresias_threshold_pct;
	uint32_t tiresias_min_samples;
	/* Tiresias PromoteKnob, in percent: a low-queue job that has waited this percentage
	 * of the run time that demoted it goes back to the high queue. 0 = off. */
	uint32_t tiresias_promote_pct;
	/* GITTINS (docs/scheduler.md): a class's history is used once it has this many
	 * finished jobs (before: the coarser class with the most). */
	uint32_t gittins_min_samples;
	/* GITTINS: a job is not preempted in the first quantum_s of a run, nor after
	 * max_preempt preemptions (0 = at most once per run-time bucket); a job that
	 * waited starve_s since it was queued goes ahead of all others and runs to its
	 * end unpreempted, one such job per partition at a time (0 = never). */
	int64_t gittins_quantum_s;
	uint32_t gittins_max_preempt;
	int64_t gittins_starve_s;
	uint32_t gittins_starve_factor; /* ... or starve_factor x its effective remaining
					   time, whichever is longer */
	/* GITTINS: each class's run-time distribution weighs its finished jobs by
	 * recency, as if it held about the last gittins_window of them (each new one
	 * multiplies the older weights by 1 - 1/window); 0 = every finished job
	 * counts the same, forever. */
	uint32_t gittins_window;
	/* Run time a preempted job loses when it restarts (the simulator's
	 * --restart-overhead): GITTINS preempts only jobs whose key is worse than the
	 * head's by more than this cost. */
	int64_t restart_overhead_s;
	/* MULTIFACTOR (fairshare.c, docs/tenancy.md "Fair share"). Usage of the
	 * tenancy groups decays with this half-life (0 = never); factors and the
	 * queue keys are recomputed at most every prio_calc_period_s (0 = every
	 * pass); the age factor reaches 1 after prio_max_age_s (>= 1). Weights
	 * 0..AIDC_MAX_PRIORITY multiply factors in 0..1 (the partition factor:
	 * sched_partition_set_priority; weight default 0). */
	int64_t fs_half_life_s;
	int64_t prio_calc_period_s;
	int64_t prio_max_age_s;
	uint32_t prio_weight_age, prio_weight_fairshare, prio_weight_size, prio_weight_qos;
	uint32_t prio_weight_partition;
	/* Heterogeneity-aware model choice (hetero.c) by the speed table
	 * (sched_speed_set); default OFF. */
	enum sched_hetero hetero;
};

/* Fills documented defaults: FIFO, consolidate, strict, Tiresias threshold 3600 s x
 * device until a partition has 20 finished jobs, then their 80th percentile, no
 * Tiresias starvation promotion, 3600 s default estimate, seed 1, predictor window
 * 10; Gittins: 16 samples, no quantum, no preemption cap, starvation tier after
 * 7 days (or 10 x the effective remaining time). */
void sched_config_defaults(struct sched_config *cfg);

/* ---- the scheduler object ------------------------------------------------- */

/* Creates an empty scheduler (no nodes, no jobs). cfg and env are copied.
 * Caller frees with sched_free. */
int sched_new(const struct sched_config *cfg, const struct sched_env *env, struct sched **out,
	      struct aidc_err *e);
void sched_free(struct sched *s); /* NULL is a no-op */
const struct sched_config *sched_get_config(const struct sched *s);

/* ---- cluster model -------------------------------------------------------- */

enum sched_node_state { SCHED_NODE_UP, SCHED_NODE_DRAINING, SCHED_NODE_DOWN };

/* Registers an accelerator model; returns its id (>= 0) or a negative code.
 * The same name again returns the existing id. At most AIDC_MAX_DEVICE_MODELS. */
int sched_add_model(struct sched *s, const char *name, const char *vendor, uint64_t mem_mib,
		    struct aidc_err *e);
int sched_find_model(const struct sched *s, const char *name); /* id or -1 */
uint32_t sched_model_count(const struct sched *s);
const char *sched_model_name(const struct sched *s, uint32_t model); /* borrowed */

/* Registers a partition (virtual cluster); returns its id or a negative code.
 * The same name again returns the existing id. */
int sched_add_partition(struct sched *s, const char *name, struct aidc_err *e);
/* Sets partition part's priority job factor (0..AIDC_MAX_PARTITION_PRIORITY,
 * default 0): under MULTIFACTOR a job's partition factor is its partition's
 * factor over the highest of all partitions (0 while every one is 0), as
 * Slurm's PriorityJobFactor; pending jobs' keys take it at the next
 * recalculation. AIDC_E_INVAL (nothing changed) for a bad partition or factor. */
int sched_partition_set_priority(struct sched *s, uint32_t part, uint32_t factor,
				 struct aidc_err *e);
int sched_find_partition(const struct sched *s, const char *name); /* id or -1 */
uint32_t sched_partition_count(const struct sched *s);
const char *sched_partition_name(const struct sched *s, uint32_t part); /* borrowed */

struct sched_device_spec {
	uint32_t model; /* id from sched_add_model */
	uint32_t group; /* device group on the node (e.g. NVLink island), < AIDC_MAX_GROUPS_PER_NODE */
};

struct sched_node_spec {
	const char *name;   /* copied; unique */
	uint32_t partition; /* id from sched_add_partition */
	uint32_t rack;      /* switch/rack id chosen by the driver, < AIDC_MAX_RACKS */
	uint32_t cpu_milli; /* CPU capacity, milli-cores */
	uint64_t mem_mib;   /* memory capacity */
	uint32_t ndev;      /* <= AIDC_MAX_DEVICES_PER_NODE */
	const struct sched_device_spec *devs; /* ndev entries; borrowed */
};

/* Adds a node (state UP, all capacity free); returns its id (>= 0) or a negative code. */
int sched_add_node(struct sched *s, const struct sched_node_spec *spec, struct aidc_err *e);
/* DRAINING: running jobs continue, nothing new starts. DOWN: nothing runs; the driver
 * must have finished or requeued the node's jobs first (else AIDC_E_STATE). */
int sched_set_node_state(struct sched *s, uint32_t node, enum sched_node_state st,
			 struct aidc_err *e);
uint32_t sched_node_count(const struct sched *s);
const char *sched_node_name(const struct sched *s, uint32_t node); /* borrowed */

/* ---- jobs ----------------------------------------------------------------- */

/* Per-task resource request. */
struct sched_req {
	uint32_t cpu_milli;  /* milli-cores */
	uint64_t mem_mib;
	uint32_t ndev;       /* devices per task (0 = CPU-only task) */
	uint32_t dev_milli;  /* share of each device, 1..1000; < 1000 only when ndev == 1
				(a fraction of one device); 0 means 1000 */
	uint64_t model_mask; /* bit m set = model id m acceptable; 0 = any model */
	/* Whole nodes (Slurm --exclusive): the job starts only on nodes that hold no
	 * task, and no other job's task goes on its nodes while it runs. Gangs of
	 * more than one task need a gang placement policy and whole devices or
	 * CPU-only tasks (as node constraints). Never-fits is unchanged (an empty
	 * node offers the same). */
	bool exclusive;
};

enum sched_job_flag {
	SCHED_JOB_PREEMPTIBLE = 1u << 0, /* may be chosen as a preemption victim */
	/* Preemption rights by QoS class (docs/tenancy.md): the job preempts only
	 * victims whose qos_class has its bit in preempt_qos. Without the flag a
	 * job may preempt any preemptible job of worse key (the orders' rule). */
	SCHED_JOB_QOS_PREEMPT = 1u << 1,
};

/* Tenancy groups one job is charged to (e.g. its account and its user in it). */
#define SCHED_MAX_JOB_GROUPS 4u

/* QoS classes are 0..SCHED_MAX_QOS_CLASS (bits of a uint64_t mask). */
#define SCHED_MAX_QOS_CLASS 63u

struct sched_job_spec {
	uint64_t id;          /* the driver's id: unique among live jobs; the final tie-break */
	const char *name;     /* copied; NULL = "" (used by QSSF's history) */
	const char *user;     /* copied; NULL = "" */
	const char *tenant;   /* copied; NULL = "" */
	uint32_t partition;   /* id from sched_add_partition */
	int32_t priority;     /* AIDC_MIN_PRIORITY..AIDC_MAX_PRIORITY, higher first */
	int64_t submit_s;     /* submit time; must be <= now at every later call */
	uint32_t ntasks;      /* gang size, 1..AIDC_MAX_TASKS_PER_JOB; all start or none */
	/* Node constraints (Slurm -N / --ntasks-per-node; see docs/placement.md), gang
	 * placement policies only (not the FGD family, not fractional shares):
	 * nodes: exactly this many distinct nodes, 1..ntasks, tasks spread evenly (the
	 *   first ntasks % nodes nodes of the placement take one task more); 0 = any.
	 * tasks_per_node: at most this many tasks on one node; 0 = any. With nodes set
	 *   it must allow the even spread (nodes x tasks_per_node >= ntasks). */
	uint32_t nodes;
	uint32_t tasks_per_node;
	struct sched_req task;
	int64_t time_limit_s; /* 0 = none */
	int64_t predicted_s;  /* the driver's prediction; 0 = none (the core predicts) */
	int64_t oracle_s;     /* true run time, simulation only (SJF/SRTF); 0 = unknown */
	uint32_t flags;       /* enum sched_job_flag */
	uint32_t qos_class;   /* 0..SCHED_MAX_QOS_CLASS: the driver's QoS id (0 = none) */
	uint64_t preempt_qos; /* with SCHED_JOB_QOS_PREEMPT: classes it may preempt */
	uint32_t qos_milli;   /* MULTIFACTOR: the QoS factor, 0..1000 (the driver's QoS
				 priority over the highest one) */
	/* Tenancy groups the job is charged to (sched_group_set ids): limits and
	 * quotas of each hold it (docs/tenancy.md). */
	uint32_t groups[SCHED_MAX_JOB_GROUPS];
	uint32_t ngroups;
	/* Node filter (Slurm -w/--nodelist, -x/--exclude; docs/slurm.md): node
	 * ids from sched_add_node, copied at submit; any order, duplicates allowed,
	 * at most AIDC_MAX_NODES each; NULL/0 = none. include: the job's tasks go
	 * only on these nodes (Slurm's "the allocation contains every listed node"
	 * is the driver's part: nodes = their count); exclude: never on these.
	 * Never-fits counts only the nodes left. A job with a filter has no shape
	 * and its failures stay out of the failed-shape memo (they say nothing of
	 * other jobs). Cost: O(log k) per node a placement looks at (k ids). */
	const uint32_t *include_nodes;
	uint32_t ninclude;
	const uint32_t *exclude_nodes;
	uint32_t nexclude;
	/* Heterogeneity (hetero.c): the job's row of the speed table,
	 * 1..AIDC_MAX_SPEED_CLASSES; 0 = none (the per-model row). */
	uint32_t speed_class;
};

enum sched_job_state { SCHED_JOB_PENDING, SCHED_JOB_RUNNING };

/* Why a pending job is not running (for `aidc jobs`). */
enum sched_reason {
	SCHED_REASON_NONE,       /* running, or not yet considered */
	SCHED_REASON_PRIORITY,   /* jobs ahead of it in its partition's queue come first */
	SCHED_REASON_RESOURCES,  /* not enough free resources of the requested kind */
	SCHED_REASON_RESERVED,   /* would delay a job that holds a reservation */
	SCHED_REASON_NEVER_FITS, /* larger than its partition will ever offer */
	SCHED_REASON_PREEMPTING, /* victims were chosen; waiting for them to stop */
	SCHED_REASON_LIMIT,      /* a group limit holds it (sched_job_hold names it) */
	SCHED_REASON_QUOTA,      /* its group's quota, with what it may borrow, is used up */
};
const char *sched_reason_name(enum sched_reason r);

/* Validates and queues a job. Returns its handle (>= 0, valid until the job is
 * finished or cancelled; handles are reused afterwards) or a negative code with
 * the reason in e (nothing changed). */
int sched_submit(struct sched *s, const struct sched_job_spec *spec, int64_t now_s,
		 struct aidc_err *e);
/* A running job ended: frees its resources, feeds the predictor, forgets the job. */
int sched_job_finish(struct sched *s, uint32_t job, int64_t now_s, struct aidc_err *e);
/* A running job was stopped (preempted, node lost, start undone): frees its
 * resources and queues it again; attained service is kept. */
int sched_job_requeue(struct sched *s, uint32_t job, int64_t now_s, struct aidc_err *e);
/* A pending job is in fact running on exactly these allocations (a controller
 * restart adopting tasks that run on): checks them (every task 0..ntasks-1 on
 * one known node of the job's partition that is not DOWN, with exactly ndev
 * devices of an accepted model, each share == the job's dev_milli and free,
 * CPU and memory free; CPU-only tasks one alloc with dev SCHED_NO_DEVICE) and
 * marks the job running on them. Node constraints are not checked: this is
 * what runs. Any order; allocs borrowed. AIDC_E_NOTFOUND / AIDC_E_INVAL /
 * AIDC_E_STATE with the first problem in e, and nothing changed. O(n log n). */
int sched_job_restore(struct sched *s, uint32_t job, const struct sched_alloc *allocs, uint32_t n,
		      int64_t now_s, struct aidc_err *e);
/* Removes a pending or running job (running: frees its resources). */
int sched_job_cancel(struct sched *s, uint32_t job, int64_t now_s, struct aidc_err *e);

uint32_t sched_job_count(const struct sched *s); /* live jobs (pending + running) */
/* Handle of the live job with the driver's id, or -1. O(1) expected. */
int sched_find_job(const struct sched *s, uint64_t id);
enum sched_job_state sched_job_state(const struct sched *s, uint32_t job);
enum sched_reason sched_job_reason(const struct sched *s, uint32_t job);
uint64_t sched_job_id(const struct sched *s, uint32_t job);
/* Gives a live job another driver id (unique among live jobs): a job array's
 * element takes over the start the core decided for the array's pending
 * record (docs/slurm.md "Job arrays"). AIDC_E_NOTFOUND / AIDC_E_EXISTS. */
int sched_job_set_id(struct sched *s, uint32_t job, uint64_t id, struct aidc_err *e);
/* Gives a live job another speed class (sched_job_spec.speed_class, 0..
 * AIDC_MAX_SPEED_CLASSES): a job queued before its class had a row in the
 * speed table takes the row once it exists. AIDC_E_NOTFOUND / AIDC_E_INVAL. */
int sched_job_set_speed_class(struct sched *s, uint32_t job, uint32_t cls, struct aidc_err *e);
/* The run-time estimate the core uses for this job (backfill, QSSF):
 * time limit, else driver prediction, else history, else the default. */
int64_t sched_job_estimate(const struct sched *s, uint32_t job);
uint32_t sched_job_preemptions(const struct sched *s, uint32_t job);
/* ORACLE, diagnostic only (simulation; never a default, never in a live
 * center): GITTINS with a known distribution. Adds (sign 1) or drops (-1, one
 * added before) run_s as one run time of the Gittins classes of a job like
 * spec (its user, name, partition, tasks and devices; nothing else is read).
 * From the first call on, the classes hold only what these calls add (no
 * decay): finished jobs are no longer fed. The driver gives every job before
 * the first submit, or keeps a moving window of them (pending keys are then
 * computed again at most hourly, as with gittins_window; `aidc sim
 * --gittins-prior trace|others [--gittins-prior-window S]`; docs/scheduler.md
 * "Distribution oracle"). AIDC_E_INVAL when the order is not GITTINS or the
 * spec is bad. */
int sched_gittins_prior(struct sched *s, const struct sched_job_spec *spec, int64_t run_s,
			int sign, struct aidc_err *e);
/* ... and a job's key uses the distribution without its own sample, which
 * must then be its spec's oracle_s, while now - its submit <= window_s (0 =
 * always): the driver's window keeps it that long (the distribution of the
 * other jobs; without it the tail of a class holds the job's own run time). */
void sched_gittins_prior_others(struct sched *s, int64_t window_s);
/* CLAIRVOYANT check of the order's mechanics (simulation only): every job's
 * distribution is its own oracle_s alone (the index is then its run time left
 * from its bucket's lower edge); nothing is fed. */
void sched_gittins_prior_self(struct sched *s);

/* ORACLE, diagnostic only (simulation; never a default, never in a live
 * center): start estimates (sched_forecast) with each class's TRUE run-time
 * distribution, class = partition x devices (ntasks x ndev). v[0..n) are run
 * times of the driver's jobs (the core copies and sorts them). A job's
 * distribution leaves one sample equal to its own oracle_s out (the other
 * jobs' run times; never its own). A running job that has run a s ends at the
 * distribution's run times > a: MEAN their mean, MEDIAN their median,
 * QUANTILE its own low-discrepancy quantile of them (as tail_left); a queued
 * one runs the class's mean (MEAN) or median (others). COHORT: QUANTILE, and
 * a class's running jobs submitted within the hour share one run time D, the
 * mean of the run times longer than their median age, which its queued jobs
 * also run. Without a run time left (empty class, or none longer than a):
 * the default rules. OFF (the default) drops the samples. docs/scheduler.md
 * "Start estimates with a distribution oracle". AIDC_E_INVAL / AIDC_E_NOMEM. */
enum sched_fc_oracle {
	SCHED_FCO_OFF,
	SCHED_FCO_MEAN,
	SCHED_FCO_MEDIAN,
	SCHED_FCO_QUANTILE,
	SCHED_FCO_COHORT,
};
struct sched_fc_sample {
	uint32_t part, ndev; /* partition id, devices of the job (ntasks x ndev) */
	int64_t run_s;	     /* > 0 */
};
int sched_forecast_oracle(struct sched *s, enum sched_fc_oracle mode,
			  const struct sched_fc_sample *v, size_t n, struct aidc_err *e);

/* Kaplan-Meier run times (docs/scheduler.md "Start estimates: Kaplan-Meier"):
 * per class, a censored estimate over its jobs submitted within the last day
 * (finished: their run time; running now: censored at their age). ALL: a
 * running job of age a runs the class's conditional median beyond a, a queued
 * one its median (V1); COHORT: only a cohort's D is the conditional median
 * beyond its median age (V2); MEAN: as ALL with the conditional mean of the
 * events beyond a (V3); OFF: none. Where the curve gives none, the other
 * rules. DEFAULT (0) is the core's choice (OFF). Each class keeps its
 * finished jobs of the last day only while a mode other than OFF is set:
 * set it before the history it should see. AIDC_E_INVAL for another mode. */
enum sched_fc_km {
	SCHED_FCKM_DEFAULT,
	SCHED_FCKM_OFF,
	SCHED_FCKM_ALL,
	SCHED_FCKM_COHORT,
	SCHED_FCKM_MEAN,
};
int sched_forecast_km(struct sched *s, enum sched_fc_km mode, struct aidc_err *e);

/* ---- tenancy groups: limits and quotas with borrowing (quota.c) ------------ */

/*
 * A group is an account, a user in an account, an organization (a cohort):
 * what its jobs hold together is bounded by its limits, and a group with a
 * nominal quota borrows unused quota of the other children of its parent
 * (Kueue's ClusterQueues in a cohort). Device counts are whole devices; -1
 * means none (no limit, no quota).
 *   max_running_jobs, max_devices: Slurm's GrpJobs / GrpTRES=gres/gpu.
 *   nominal_devices: the quota (needs a parent to borrow or lend).
 *   borrow_limit: devices it may use beyond nominal (-1 = what the cohort has).
 *   lend_limit: devices of its unused nominal the siblings may use (-1 = all).
 * A job starts only if every group of it stays within its limits and its
 * quota group's use stays within nominal + what it may borrow; a job started
 * beyond nominal is borrowing. A job within its group's nominal that cannot
 * start reclaims: running borrowing jobs of sibling groups are preempted
 * (PREEMPT decisions, whatever the queue order), newest first.
 * Cost: admission is O(groups of the job); reclaim O(R log R) for R running
 * jobs of the partition, at most once per group and pass.
 *
 * The parent links also form the fair-share tree (fairshare.c): each group
 * has shares (0 = 1) and a decayed usage that its jobs and its descendants'
 * jobs charge; parent links may not form a cycle.
 */
/* A quota of CPUs or memory, as nominal_devices / borrow_limit / lend_limit
 * are for devices; set = false (a zeroed spec): no quota of it. */
struct sched_res_quota {
	bool set;
	int64_t nominal, borrow_limit, lend_limit; /* -1 = none (borrow: what the cohort has) */
};
/* One model's quota, in whole devices: nominal 0..AIDC_MAX_TENANCY_LIMIT;
 * borrow and lend limits -1 (none) or 0..AIDC_MAX_TENANCY_LIMIT. */
struct sched_model_quota {
	uint32_t model;
	int64_t nominal, borrow_limit, lend_limit;
};
struct sched_group_spec {
	const char *name; /* copied; names the group in reasons; unique */
	int32_t parent;   /* the cohort: a group id, or -1 */
	int64_t max_running_jobs;
	int64_t max_devices;
	int64_t nominal_devices;
	int64_t borrow_limit;
	int64_t lend_limit;
	int64_t shares; /* fair share among its siblings: 1..AIDC_MAX_TENANCY_LIMIT; 0 = 1 */
	/* Quotas of CPUs (whole cores, 0..AIDC_MAX_TENANCY_LIMIT) and of memory
	 * (MiB, 0..AIDC_MAX_TENANCY_LIMIT x 1024), each with its own borrow and
	 * lend limit. A job needs ntasks x cpu_milli and ntasks x mem_mib. A group
	 * without a parent holds its jobs at its nominal (a cap: an organization's
	 * quota over its projects' jobs, the job charged to it too). */
	struct sched_res_quota cpus, mem_mib;
	/* Quotas per device model (docs/tenancy.md "Quotas per device model"):
	 * each model at most once, model ids from sched_add_model; copied. A job's
	 * devices of model m count against entry m as well as nominal_devices; a
	 * job that may run on several models is admitted on those whose entries
	 * admit it, and placed only there. A model without an entry is bounded by
	 * the other quotas only. NULL/0 = none. */
	const struct sched_model_quota *models;
	uint32_t nmodels;
};
/* Creates the group, or updates the one of that name (its use is kept).
 * Returns its id (>= 0) or AIDC_E_INVAL / AIDC_E_LIMIT. */
int sched_group_set(struct sched *s, const struct sched_group_spec *g, struct aidc_err *e);
/* The spec a group was last set with (name borrowed). AIDC_E_NOTFOUND. */
int sched_group_get(const struct sched *s, uint32_t group, struct sched_group_spec *out);
/* Devices (milli) its running jobs hold, and whether a running job borrows. */
uint64_t sched_group_dev_milli(const struct sched *s, uint32_t group);
bool sched_job_borrowing(const struct sched *s, uint32_t job);
/* Why a job held by SCHED_REASON_LIMIT / QUOTA waits, e.g. "max_running_jobs
 * of account phys", "quota_cpus of cohort sci" (into buf; "" otherwise). */
void sched_job_hold(const struct sched *s, uint32_t job, char *buf, size_t n);
uint32_t sched_group_count(const struct sched *s);
const char *sched_group_name(const struct sched *s, uint32_t group); /* borrowed; NULL if none */

/* ---- fair share and multifactor priority (fairshare.c) ------------------------ */

/* A group's place in the fair-share tree as of the last recalculation. */
struct sched_group_share {
	int32_t parent;
	int64_t shares;
	double norm_shares; /* shares / the sum of its siblings' (itself included) */
	double usage;	    /* decayed device-seconds of its jobs and its descendants' */
	double norm_usage;  /* usage / its parent's usage (top level: of all usage) */
	double level_fs;    /* norm_shares / norm_usage (DBL_MAX while norm_usage is 0) */
	double factor;	    /* fair-share factor, 0..1 (Fair Tree rank) */
	uint32_t rank;	    /* 0 = first in the tree walk */
};
/* AIDC_E_NOTFOUND for an unknown group. */
int sched_group_share(const struct sched *s, uint32_t group, struct sched_group_share *out);

/* A job's multifactor priority and its factors, as of the last recalculation
 * (at_s; pending jobs queued since have factors from their enqueue). */
struct sched_prio {
	int64_t at_s;
	int32_t nice;		     /* the job's own priority (sched_job_spec.priority) */
	double age, fairshare, size, qos, partition; /* factors, 0..1 */
	int64_t w_age, w_fairshare, w_size, w_qos, w_partition;
	int64_t priority; /* nice + sum of weight x factor, rounded */
	int32_t fs_group; /* the group whose factor it has, -1 = none */
};
int sched_job_prio(const struct sched *s, uint32_t job, struct sched_prio *out);
/* Decays usage to now_s, charges running jobs up to now_s and recomputes
 * every factor (and, under MULTIFACTOR, the pending jobs' keys). The pass
 * does this itself every prio_calc_period_s; drivers call it to show fresh
 * numbers. O(G log G + J log J) for G groups, J pending jobs. */
void sched_fairshare_update(struct sched *s, int64_t now_s);

/* ---- decisions ------------------------------------------------------------ */

#define SCHED_NO_DEVICE UINT32_MAX

/* One task's share of one device (or a CPU-only task's node when dev == SCHED_NO_DEVICE). */
struct sched_alloc {
	uint32_t task;  /* 0..ntasks-1 */
	uint32_t node;
	uint32_t dev;   /* global device index (devices are numbered from 0 in the order
			   sched_add_node added them), or SCHED_NO_DEVICE */
	uint32_t milli; /* share of the device, 1..1000 */
};

enum sched_decision_kind {
	SCHED_DECIDE_START,   /* job started on allocs[first_alloc .. first_alloc+nalloc) */
	SCHED_DECIDE_PREEMPT, /* stop job (a victim) to make room for for_job; nothing changed yet */
	SCHED_DECIDE_RESERVE, /* job is expected to start at at_s (EASY reservation / will-run) */
};

struct sched_decision {
	enum sched_decision_kind kind;
	uint32_t job;      /* handle */
	uint64_t job_id;   /* the driver's id */
	uint32_t for_job;  /* PREEMPT: the handle of the job that needs the room */
	int64_t at_s;      /* START: now; RESERVE: planned start */
	size_t first_alloc;
	uint32_t nalloc;
};

/* A growable list of decisions; reusable across passes. */
struct sched_decisions {
	struct sched_decision *v;
	size_t n, cap;
	struct sched_alloc *allocs;
	size_t nallocs, cap_allocs;
};
void sched_decisions_init(struct sched_decisions *d);
void sched_decisions_reset(struct sched_decisions *d); /* n = nallocs = 0, keeps memory */
void sched_decisions_release(struct sched_decisions *d);

/* One scheduling pass at time now_s over every partition's queue; appends
 * decisions to out (which it resets first). Cost: see docs/scheduler.md. */
int sched_pass(struct sched *s, int64_t now_s, struct sched_decisions *out, struct aidc_err *e);

/* The one placement entry point (cf. Slurm's select plugin modes). */
enum sched_place_mode {
	SCHED_MODE_RUN_NOW,   /* place on free resources now and allocate (START appended) */
	SCHED_MODE_TEST_ONLY, /* could it run now? (START appended with its allocs; nothing changed) */
	SCHED_MODE_WILL_RUN,  /* when could it start, if running jobs end at their estimates?
				 (*start_s set, RESERVE appended; nothing changed) */
};
/* Returns 0, or AIDC_E_NOFIT (RUN_NOW/TEST_ONLY: not now; WILL_RUN: never). */
int sched_place(struct sched *s, uint32_t job, enum sched_place_mode mode, int64_t now_s,
		struct sched_decisions *out, int64_t *start_s, struct aidc_err *e);

/*
 * Start-time forecast (forecast.c, docs/scheduler.md): runs a private copy of
 * the core forward from now_s with no new arrivals, running jobs ending at
 * their estimates (sched_job_estimate), for at most max_passes passes. With
 * step_s > 0 passes happen only at now_s + multiples of step_s (every job
 * ending in between ends then): estimates are up to step_s late, and a long
 * queue needs far fewer passes; 0 = a pass at every estimated end. Fills
 * start_s[h] for every job handle h < sched_job_handles(s) (n entries at
 * least, else AIDC_E_INVAL): the estimated start (>= now_s) of a pending job,
 * 0 for a running job, a free handle, or a job that does not start within
 * max_passes or ever. s is not changed. Deterministic.
 */
int sched_forecast(const struct sched *s, int64_t now_s, uint32_t max_passes, int64_t step_s,
		   int64_t *start_s, size_t n, struct aidc_err *e);
/* One more than the largest job handle in use (the size of per-handle arrays). */
uint32_t sched_job_handles(const struct sched *s);

/* Earliest time after now_s at which the core's decisions can change with no
 * external event (e.g. a Tiresias demotion), or INT64_MAX. Drivers wake then. */
int64_t sched_next_wakeup(const struct sched *s, int64_t now_s);

/* ---- capacity and usage --------------------------------------------------- */

struct sched_usage {
	uint64_t dev_milli_total; /* devices on UP/DRAINING nodes x 1000 */
	uint64_t dev_milli_used;  /* allocated shares */
	uint32_t devs_total;
	uint32_t devs_busy;       /* devices with any share allocated */
	uint64_t cpu_milli_total, cpu_milli_used;
	uint64_t mem_mib_total, mem_mib_used;
	uint32_t jobs_pending, jobs_running;
};
/* Whole cluster (part == UINT32_MAX) or one partition. */
void sched_usage(const struct sched *s, uint32_t part, struct sched_usage *u);

/* ---- speed table: heterogeneity-aware placement (hetero.c) ------------------ */

/*
 * How fast a job class runs on a device model, in milli of a reference device
 * (1000 = the reference; run time = base time x 1000 / speed). Row 0 is the
 * per-model default (e.g. from the model's exam rate, docs/accounting.md);
 * rows 1..AIDC_MAX_SPEED_CLASSES are job classes (sched_job_spec.speed_class).
 * A class's speed on a model is the mean of the prior (sched_speed_set, if
 * any) and every observed speed (sched_speed_observe), the prior counting as
 * one sample; with neither, row 0's; with nothing, 1000. Integer arithmetic:
 * deterministic. Speeds 1..AIDC_MAX_SPEED_MILLI; AIDC_E_INVAL otherwise, or
 * for an unknown model or a class past the limit (nothing changed).
 */
int sched_speed_set(struct sched *s, uint32_t cls, uint32_t model, uint32_t speed_milli,
		    struct aidc_err *e);
/* A finished run's measured speed (base time / run time, e.g. from steps/s
 * against the class's reference). */
int sched_speed_observe(struct sched *s, uint32_t cls, uint32_t model, uint32_t speed_milli,
			struct aidc_err *e);
/* The speed the core uses now (see above); 1000 for unknown ids. */
uint32_t sched_speed(const struct sched *s, uint32_t cls, uint32_t model);
/* Fair share in normalized units (docs/placement.md): a device-second of
 * model m is charged charge_milli / 1000 (e.g. its exam rate), a share of a
 * device its part of that; CPU-only tasks as before. Default 1000 for every
 * model (device-seconds). 1..AIDC_MAX_SPEED_MILLI and a known model, else
 * AIDC_E_INVAL and nothing changed. Usage already charged is not rebilled. */
int sched_model_set_charge(struct sched *s, uint32_t model, uint32_t charge_milli,
			   struct aidc_err *e);
uint32_t sched_model_charge(const struct sched *s, uint32_t model); /* 1000 if unset */

/* ---- fractional-placement workload model (FGD) ---------------------------- */

/* One task shape of the expected workload and its popularity (weight > 0). */
struct sched_task_type {
	struct sched_req req;
	double weight;
};
/* Sets the workload distribution that fragmentation-aware policies (FGD and ours)
 * measure fragmentation against. Copied. */
int sched_set_workload(struct sched *s, const struct sched_task_type *types, size_t n,
		       struct aidc_err *e);
/* The fragmentation measure of the FGD paper for the whole cluster (or one
 * partition), in device milli-units, against the current workload distribution. */
double sched_fragmentation(const struct sched *s, uint32_t part);

#endif
