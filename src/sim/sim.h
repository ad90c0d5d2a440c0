/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The trace-driven simulator: public interface of src/sim.
 *
 * A run has four parts, each usable alone (tests and fuzz targets do):
 *   1. a trace (struct sim_trace) read from a file by one reader per format
 *      (Philly CSV, Helios cluster_log.csv, AIDC's own versioned format) or
 *      made by the synthetic generator;
 *   2. a cluster description (struct sim_cluster) from a cluster file, from
 *      shorthand flags (--nodes/--gpus-per-node) or from a VC file;
 *   3. the discrete-event engine, which feeds arrivals and completions to the
 *      scheduling core (src/sched) and records what happened to every job;
 *   4. metrics and reports (human table, JSON summary, per-job CSV).
 *
 * Every size derived from input is bounded by util/limits.h before anything is
 * allocated for it; errors name file:line. Everything here is deterministic:
 * the same inputs and seed give byte-identical output.
 *
 * Ownership: pointer arguments are borrowed for the call unless stated.
 */
#ifndef AIDC_SIM_SIM_H
#define AIDC_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sched/sched.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/intern.h"
#include "util/outfile.h"
#include "util/limits.h"

/* ---- interned strings ------------------------------------------------------ */

/* A trace's strings: util's interning table (deterministic ids in order of
 * first appearance) whose index 0 is always "", so a zeroed job refers to
 * empty strings. */
struct sim_strtab {
	struct aidc_intern tab;
};
void sim_strtab_init(struct sim_strtab *t);
void sim_strtab_release(struct sim_strtab *t);
/* Index of s (copied on first sight). Strings longer than AIDC_MAX_NAME_BYTES
 * are rejected with AIDC_E_LIMIT; returns the index (>= 0) or a negative code. */
int sim_strtab_intern(struct sim_strtab *t, const char *s);
const char *sim_strtab_get(const struct sim_strtab *t, uint32_t i); /* borrowed; "" if unknown */
/* Number of indices in use (valid indices are 0 .. count-1). */
uint32_t sim_strtab_count(const struct sim_strtab *t);

/* ---- traces ---------------------------------------------------------------- */

enum sim_job_flag {
	SIM_JOB_PREEMPTIBLE = 1u << 0,
	/* ndev is the job's TOTAL device count and the engine chooses the gang's
	 * shape for the cluster's node size (Philly and Helios rows; see docs/sim.md). */
	SIM_JOB_SHAPE_AUTO = 1u << 1,
};

/* One job of a trace. Strings are indices into the trace's strtab (0 = ""). */
struct sim_job {
	uint64_t id;          /* the trace's id, or the row's ordinal when the format has none */
	int64_t submit_s;     /* seconds since the Unix epoch (or the trace's own epoch) */
	int64_t duration_s;   /* true run time */
	int64_t time_limit_s; /* 0 = none; the job is killed at the limit */
	int64_t predicted_s;  /* 0 = none */
	uint32_t ntasks;      /* gang size (auto-shaped jobs: 1, see SIM_JOB_SHAPE_AUTO) */
	uint32_t cpu_milli;   /* per task */
	uint64_t mem_mib;     /* per task */
	uint32_t ndev;        /* per task (auto-shaped: total) */
	uint32_t dev_milli;   /* share of each device, 1..1000 */
	int32_t priority;
	uint32_t flags;       /* enum sim_job_flag */
	uint32_t model;       /* model constraint "A|B" (strtab), 0 = any */
	uint32_t vc;          /* partition / virtual cluster name (strtab) */
	uint32_t user, tenant, name;
	uint32_t seq;         /* order of the row in its file: the tie-break after submit_s */
	uint32_t line;        /* source line, for messages */
	uint32_t speed_class; /* heterogeneity: row of opts.speeds, 0 = none (sim_speeds_classify) */
};

struct sim_trace {
	struct sim_job *jobs; /* owned */
	size_t n, cap;
	struct sim_strtab strs;
	size_t bad_rows;             /* rows skipped with skip_bad_rows */
	char first_bad[AIDC_ERRMSG_MAX]; /* message of the first skipped row, "" if none */
};

void sim_trace_init(struct sim_trace *t);
void sim_trace_release(struct sim_trace *t);
/* Sorts by (submit_s, seq): rows with equal submit times keep their file order. */
void sim_trace_sort(struct sim_trace *t);
/* Appends a copy of j (seq is set to its position). AIDC_E_LIMIT past max_jobs. */
int sim_trace_append(struct sim_trace *t, const struct sim_job *j, size_t max_jobs,
		     struct aidc_err *e);

enum sim_format { SIM_FORMAT_PHILLY, SIM_FORMAT_HELIOS, SIM_FORMAT_AIDC };
/* "philly" | "helios" | "aidc"; -1 if unknown. */
int sim_format_parse(const char *s);
const char *sim_format_name(enum sim_format f);

struct sim_read_opts {
	bool skip_bad_rows; /* skip and count malformed rows instead of failing */
	size_t max_jobs;    /* 0 = AIDC_MAX_TRACE_JOBS; smaller for fuzzing */
};

/* Reads a whole trace file (path "-" = stdin) into t (which must be
 * initialized and empty) and sorts it. On error t holds the rows read so far;
 * the caller still releases it. */
int sim_trace_load(const char *path, enum sim_format fmt, const struct sim_read_opts *o,
		   struct sim_trace *t, struct aidc_err *e);
/* The same from memory (name is used in messages; data is borrowed). */
int sim_trace_load_mem(const char *name, const char *data, size_t len, enum sim_format fmt,
		       const struct sim_read_opts *o, struct sim_trace *t, struct aidc_err *e);

/* Writes t in AIDC trace format version SIM_AIDC_TRACE_VERSION. */
#define SIM_AIDC_TRACE_VERSION 1
int sim_trace_write_aidc(const struct sim_trace *t, FILE *out, struct aidc_err *e);

/* ---- synthetic workloads (gen.c) --------------------------------------------- */

enum sim_gen_profile { SIM_GEN_PHILLY, SIM_GEN_VENUS, SIM_GEN_EARTH };
int sim_gen_profile_parse(const char *s); /* -1 if unknown */

struct sim_gen_opts {
	size_t njobs;
	uint64_t seed;
	enum sim_gen_profile profile;
	double mean_interarrival_s; /* 0 = derive from load and cluster_devices */
	double load;                /* offered load as a fraction of cluster_devices */
	uint32_t cluster_devices;   /* for the derived arrival rate */
	uint32_t node_devices;      /* jobs above this are whole multiples of it */
	int64_t start_s;            /* submit time of the first job */
	uint32_t nusers, ntenants;
};
void sim_gen_defaults(struct sim_gen_opts *o);
/* Appends o->njobs jobs to t (bounded by AIDC_MAX_TRACE_JOBS). */
int sim_gen(const struct sim_gen_opts *o, struct sim_trace *t, struct aidc_err *e);

/* ---- cluster description (cluster_file.c, vcfile.c) --------------------------- */

#define SIM_CLUSTER_VERSION 1

/* A group of identical nodes. */
struct sim_node_group {
	char name[AIDC_MAX_NAME_BYTES];      /* node name prefix */
	char model[AIDC_MAX_NAME_BYTES];     /* accelerator model */
	char vendor[AIDC_MAX_NAME_BYTES];
	char partition[AIDC_MAX_NAME_BYTES]; /* "" = "default" */
	uint32_t count;        /* nodes */
	uint32_t devices;      /* accelerators per node */
	uint64_t device_mem_mib;
	uint32_t cpu_milli;
	uint64_t mem_mib;
	uint32_t nvlink;       /* devices per NVLink group (0 = all devices in one group) */
	uint32_t rack_nodes;   /* nodes per rack */
	uint32_t line;         /* where the group started, for messages */
};

struct sim_cluster {
	struct sim_node_group *groups; /* owned */
	size_t n, cap;
};
void sim_cluster_init(struct sim_cluster *c);
void sim_cluster_release(struct sim_cluster *c);
/* Fills a group with the documented defaults (8 x "gpu", 96 cores, ...). */
void sim_node_group_defaults(struct sim_node_group *g);
/* Parses a cluster file (docs/cluster-file.md) into c (empty). */
int sim_cluster_load(const char *path, struct sim_cluster *c, struct aidc_err *e);
int sim_cluster_parse(const char *name, const char *data, size_t len, struct sim_cluster *c,
		      struct aidc_err *e);
/* Appends one group of `nodes` nodes with `gpus` devices each in partition part. */
int sim_cluster_add_uniform(struct sim_cluster *c, const char *part, uint32_t nodes,
			    uint32_t gpus, struct aidc_err *e);
/* Reads a VC file (CSV "vc,node num") and appends one group per VC (gpus per
 * node, node count x scale rounded to nearest, at least 1). */
int sim_cluster_load_vcs(const char *path, double scale, uint32_t gpus, struct sim_cluster *c,
			 struct aidc_err *e);
int sim_cluster_parse_vcs(const char *name, const char *data, size_t len, double scale,
			  uint32_t gpus, struct sim_cluster *c, struct aidc_err *e);
/* Totals, and the largest device count of any node. */
uint64_t sim_cluster_nodes(const struct sim_cluster *c);
uint64_t sim_cluster_devices(const struct sim_cluster *c);
uint32_t sim_cluster_node_devices(const struct sim_cluster *c);
/* Registers models, partitions and nodes in s. */
int sim_cluster_build(const struct sim_cluster *c, struct sched *s, struct aidc_err *e);

/* ---- the engine (engine.c) ------------------------------------------------------ */

enum sim_job_status {
	SIM_ST_EXCLUDED,  /* filtered out (window, CPU-only in compat mode) */
	SIM_ST_NO_PART,   /* its partition/VC is not in the cluster */
	SIM_ST_REJECTED,  /* the core refused it (e.g. larger than its partition) */
	SIM_ST_WAITING,   /* not yet submitted */
	SIM_ST_PENDING,
	SIM_ST_RUNNING,
	SIM_ST_DONE,
};

/* What happened to one job (and the engine's bookkeeping for it). */
struct sim_job_run {
	int64_t first_start_s; /* -1 if it never started */
	int64_t end_s;         /* -1 if it never finished */
	int64_t run_start_s;   /* start of the current run */
	int64_t remaining_s;   /* run time still to do */
	int64_t run_s;         /* run time it will need in total (duration capped by the limit) */
	int64_t reserved_s;    /* first planned start from a RESERVE decision, -1 if none */
	int64_t eta_s;         /* forecast start made at its submission (opts.eta_every),
				  -1 if none was made, 0 if the forecast saw no start */
	uint64_t dev_milli;    /* device share while running */
	uint32_t preemptions;
	uint32_t nodes;        /* distinct nodes of its last start */
	uint32_t handle;       /* core handle while submitted */
	uint32_t epoch;        /* bumped at every start, to drop stale completion events */
	uint32_t ntasks, ndev; /* the gang shape it was submitted with */
	uint8_t status;        /* enum sim_job_status */
	/* Heterogeneity (opts.speeds): the speed of its current run (milli; 1000
	 * without speeds) and the device model it ran on last (-1 = none). With
	 * speeds, remaining_s counts base time and run_s becomes the wall run
	 * time once it finishes. */
	uint32_t speed_milli;
	int32_t model;
};

/* (time, devices in use) after each change, for utilization over time. */
struct sim_util_pt {
	int64_t t_s;
	uint64_t used_milli;
};

struct sim_policy {
	enum sched_order order;
	bool backfill;
};
/* "FIFO", "SJF+bf", ... into buf (labels from sched_order_names). */
void sim_policy_label(const struct sim_policy *p, char *buf, size_t n);

/* Device models with per-model quota columns in one quota file. */
#define SIM_MAX_QUOTA_MODELS 16

/* One account of a tenancy run (docs/tenancy.md): the jobs whose VC label is
 * name are charged to it; devices, -1 = none. */
struct sim_quota {
	char name[AIDC_MAX_NAME_BYTES];
	int64_t nominal_devices, borrow_limit, lend_limit;
	int64_t shares; /* fair share among the accounts (order multifactor); 0 = 1 */
	/* CPU cores and memory (MiB) quotas, as the core takes them; a zeroed
	 * one (set = false) is none */
	struct sched_res_quota cpus, mem_mib;
	/* Its organization: the index of the row it names in its parent column,
	 * or -1 (the one default cohort). An organization's row (named as some
	 * row's parent) has quotas that cap its projects' jobs together, its
	 * own jobs included, as the live center's organizations do. */
	int32_t org;
	bool is_org;
	char parent[AIDC_MAX_NAME_BYTES]; /* as read ("" = none) */
	size_t line;			  /* of the file, for errors */
	/* Quotas per device model (columns quota_gpu:MODEL, borrow_limit_gpu:MODEL,
	 * lend_limit_gpu:MODEL; an empty quota cell: no entry). The model is
	 * resolved against the cluster's (any case) when the run starts. */
	struct sim_model_quota {
		char model[AIDC_MAX_NAME_BYTES];
		int64_t nominal, borrow_limit, lend_limit;
	} models[SIM_MAX_QUOTA_MODELS];
	uint32_t nmodels;
};

/* One entry of a speed table (speeds.c, docs/placement.md "Heterogeneity-
 * aware placement"): job class cls (1..AIDC_MAX_SPEED_CLASSES) runs at
 * speed_milli on model (1000 = its base time; run time = base x 1000 / speed). */
struct sim_charge {
	char model[AIDC_MAX_NAME_BYTES];
	uint32_t charge_milli; /* 1..AIDC_MAX_SPEED_MILLI */
};

struct sim_speed {
	uint32_t cls;
	char model[AIDC_MAX_NAME_BYTES];
	uint32_t speed_milli;
};
/* The core's initial table in a heterogeneity run: the true speeds (EXACT),
 * or per model only, the mean over classes (MODEL: what one exam score per
 * model gives), or none (NONE: every model 1000 until jobs finish). */
enum sim_speed_prior { SIM_PRIOR_EXACT, SIM_PRIOR_MODEL, SIM_PRIOR_NONE };

/* Sets *q to an account with no quota and no organization (org -1, every
 * limit -1): what a caller filling sim_quota rows itself starts from. */
void sim_quota_init(struct sim_quota *q);

/* Reads a quota file (src/sim/quotafile.c, docs/tenancy.md): *out (caller
 * frees with aidc_free) gets *n accounts; nothing on error. */
int sim_quotas_load(const char *path, struct sim_quota **out, size_t *n, struct aidc_err *e);

/* Per account of a tenancy run: time with pending demand, and the part of it
 * in which the account held at least min(demand, nominal quota). */
struct sim_quota_stat {
	double pending_s, satisfied_s;
};

/* sim_opts.gittins_prior: learned online (the order), or an ORACLE */
enum sim_gittins_prior { SIM_GPRIOR_LEARNED, SIM_GPRIOR_TRACE, SIM_GPRIOR_OTHERS, SIM_GPRIOR_SELF };

struct sim_opts {
	struct sim_policy policy;
	/* Tenancy: accounts with quotas in one cohort (borrowing, reclaim);
	 * borrowed, nquotas entries, NULL = none. */
	const struct sim_quota *quotas;
	size_t nquotas;
	bool quotas_measure_only; /* account use and satisfaction, no quota enforced */
	bool skip_blocked; /* blocking SKIP instead of STRICT / EASY */
	enum sched_placement placement;
	bool compat_helios;  /* Helios SC'21 rules (docs/sim.md) */
	int64_t from_s, to_s; /* submit window (inclusive); INT64_MIN/INT64_MAX = open */
	bool gpu_only;       /* drop jobs that ask for no device */
	uint64_t seed;
	int64_t tiresias_threshold_dev_s; /* 0 = core default */
	int64_t restart_overhead_s; /* added to the remaining run of a preempted job */
	/* GITTINS settings (struct sched_config; sim_opts_defaults takes the core's) */
	uint32_t gittins_min_samples, gittins_max_preempt, gittins_starve_factor;
	int64_t gittins_quantum_s, gittins_starve_s;
	uint32_t gittins_window; /* sched_config.gittins_window */
	/* ORACLE, diagnostic only (never a default): GITTINS with the true
	 * distribution. Before the first submit, every replayed job's true run time
	 * goes to its classes (sched_gittins_prior); the core then learns nothing
	 * online. TRACE: the whole trace's distribution; OTHERS: each job's key
	 * leaves its own run time out (the distribution of the other jobs); SELF:
	 * CLAIRVOYANT, each job's own run time alone (the order's mechanics with
	 * perfect knowledge). */
	enum sim_gittins_prior gittins_prior;
	/* ... with a window: at each time t, the jobs submitted in [t - W, t + W]
	 * (W = gittins_prior_window_s; 0 = the whole trace, fixed) */
	int64_t gittins_prior_window_s;
	/* Start estimates (sched_forecast): at the submission of every eta_every-th
	 * job of the trace (0 = never), the core's forecast of its start, with at
	 * most eta_max_passes passes (0 = 100,000) at steps of eta_step_s (0 =
	 * every end; see sched_forecast), into sim_job_run.eta_s. */
	uint32_t eta_every, eta_max_passes;
	int64_t eta_step_s;
	/* ORACLE, diagnostic only (never a default): the forecast gets, per class
	 * (partition x devices), the true run times of the replayed jobs
	 * (sched_forecast_oracle; docs/scheduler.md "Start estimates with a
	 * distribution oracle"). SCHED_FCO_OFF (0): none. */
	enum sched_fc_oracle eta_oracle;
	/* ... of the jobs submitted within W = this of now (given again hourly),
	 * W < 0: in [now - |W|, now] (at every forecast); 0 = the whole trace */
	int64_t eta_oracle_window_s;
	/* Kaplan-Meier run times in the forecast (sched_forecast_km);
	 * SCHED_FCKM_DEFAULT (0): the core's default */
	enum sched_fc_km eta_km;
	/* MULTIFACTOR settings (struct sched_config; sim_opts_defaults takes the core's) */
	int64_t fs_half_life_s, prio_calc_period_s, prio_max_age_s;
	uint32_t prio_weight_age, prio_weight_fairshare, prio_weight_size, prio_weight_qos;
	/* Optional progress callback (done = jobs finished or given up). */
	void (*progress_fn)(void *ctx, size_t done, size_t total, int64_t now_s);
	void *progress_ctx;
	/* Heterogeneity (docs/placement.md): true speeds (borrowed, nspeeds
	 * entries; NULL = every job runs its base time). A job of speed_class c
	 * on devices of model m runs base x 1000 / speed(c, m) (1000 for a pair
	 * not listed, class 0 and CPU-only jobs). The core chooses models by
	 * hetero from the table speed_prior gives it and, with speed_learn, also
	 * from every finished run's observed speed (sched_speed_observe). */
	const struct sim_speed *speeds;
	size_t nspeeds;
	enum sched_hetero hetero;
	enum sim_speed_prior speed_prior;
	bool speed_learn;
	/* MULTIFACTOR fair share in normalized units (borrowed, ncharges entries;
	 * NULL = every model charges 1): a device-second of model charges
	 * charge_milli / 1000 units (sched_model_set_charge), as the live
	 * center's rates (aidc rates). A model not in the cluster fails the run. */
	const struct sim_charge *charges;
	size_t ncharges;
};
void sim_opts_defaults(struct sim_opts *o);

/* The outcome of one run. */
struct sim_result {
	const struct sim_trace *trace;  /* borrowed: must outlive the result */
	struct sim_job_run *jobs;       /* trace->n entries, owned */
	struct sim_util_pt *util;       /* owned */
	size_t nutil, cap_util;
	struct sim_policy policy;
	enum sched_placement placement;
	uint64_t dev_milli_total;
	uint64_t passes, events;
	uint64_t preempt_capped; /* time steps whose preemption rounds hit the cap */
	size_t n_excluded, n_no_part, n_rejected, n_never_started;
	char first_reject[AIDC_ERRMSG_MAX]; /* why the first rejected job was refused */
	struct sim_quota_stat *qstats;     /* opts.nquotas entries (owned), or NULL */
	double wall_s;                     /* filled by the caller if it times the run */
};
void sim_result_init(struct sim_result *r);
void sim_result_release(struct sim_result *r);

/* Replays trace t (sorted) on cluster c. r must be initialized; on success it
 * holds the outcome (caller releases it). Invariants of the core's decisions
 * (gang all-or-nothing, no start before submit, no device share above 1000
 * milli, devices in use <= devices that exist) are checked on every decision
 * and a violation fails the run with AIDC_E_INTERNAL. */
int sim_run(const struct sim_trace *t, const struct sim_cluster *c, const struct sim_opts *o,
	    struct sim_result *r, struct aidc_err *e);

/* ---- heterogeneity speed tables (speeds.c) ------------------------------------------ */

/* Reads a speed table CSV "class,model,speed" (header; speed a positive
 * decimal, 1.0 = base time): classes are numbered 1.. in order of first
 * appearance, their names go to *names (caller frees *out and *names with
 * aidc_free; *names[k - 1] is class k's name, each AIDC_MAX_NAME_BYTES).
 * Nothing on error (e names file:line). */
int sim_speeds_load(const char *path, struct sim_speed **out, size_t *n,
		    char (**names)[AIDC_MAX_NAME_BYTES], uint32_t *nclasses, struct aidc_err *e);
int sim_speeds_parse(const char *name, const char *data, size_t len, struct sim_speed **out,
		     size_t *n, char (**names)[AIDC_MAX_NAME_BYTES], uint32_t *nclasses,
		     struct aidc_err *e);
/* Sets each job's speed_class: the class whose name equals the job's name,
 * else 0. Returns how many jobs got a class. O(jobs + strings x classes). */
size_t sim_speeds_classify(struct sim_trace *t, const char (*names)[AIDC_MAX_NAME_BYTES],
			   uint32_t nclasses);

/* ---- metrics and reports (metrics.c, report.c) ------------------------------------ */

struct sim_stats {
	size_t jobs;          /* jobs submitted to the core */
	size_t finished, never_started;
	double jct_avg, jct_p50, jct_p95, jct_p99;       /* finished jobs, seconds */
	double queue_avg, queue_p50, queue_p95, queue_p99;
	double slowdown_avg;  /* bounded slowdown: jct / max(run, 10 s) */
	int64_t makespan_s;   /* first submit .. last end */
	double util_avg;      /* device-time used / device-time available over the makespan */
	uint64_t preemptions;
};

#define SIM_UTIL_BUCKETS 24

/* Per-group breakdown (a VC or a tenant). */
struct sim_group_stats {
	uint32_t key; /* strtab index */
	struct sim_stats st;
};

struct sim_summary {
	struct sim_stats all;
	struct sim_group_stats *vcs, *tenants; /* owned, sorted by name */
	size_t nvcs, ntenants;
	double jain_vc, jain_tenant; /* Jain's index over per-group mean bounded slowdown */
	/* Device utilization over time: the makespan cut into SIM_UTIL_BUCKETS equal
	 * spans (fewer when it is shorter than that many seconds). */
	double util_timeline[SIM_UTIL_BUCKETS];
	size_t nbuckets;
};

/* Computes the summary of r (sum must be released). */
void sim_summary_compute(const struct sim_result *r, struct sim_summary *sum);
void sim_summary_release(struct sim_summary *sum);

/* Human-readable report of one run. */
void sim_report_text(const struct sim_result *r, const struct sim_summary *sum, FILE *out);
/* JSON object of one run's summary, appended to j (see docs/sim.md for fields). */
struct aidc_json;
void sim_report_json(const struct sim_result *r, const struct sim_summary *sum,
		     struct aidc_json *j);
/* Per-job CSV (header + one row per job that was submitted to the core). */
int sim_report_jobs_csv(const struct sim_result *r, FILE *out, struct aidc_err *e);
/* Comparison tables over several runs of the same trace: one row per policy,
 * then per-VC avg JCT and avg queueing delay with one column per policy. */
void sim_report_compare(const struct sim_result *const *rs, const struct sim_summary *sums,
			size_t n, FILE *out);

#endif
