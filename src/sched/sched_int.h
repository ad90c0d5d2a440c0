/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private structures of the scheduling core, shared by its .c files only.
 *
 * Files:  core.c      struct sched life cycle, models/partitions/nodes, usage
 *         index.c     free-capacity indexes (per pool of partition x model, per rack)
 *         job.c       job table, submit/finish/requeue/cancel, string interning
 *         queue.c     queue orders (FIFO, SJF, SRTF, QSSF, Tiresias, priority)
 *         predict.c   QSSF-style duration predictor from history
 *         gittins.c   GITTINS order: learned run-time distributions, index, timers
 *         history.c   classes of jobs with a history (keys, hashed index), for both
 *         place.c     sched_place and the placement policies for whole devices
 *         pass.c      sched_pass: blocking modes, EASY backfill, preemption
 *         frag.c      fractional policies (Random ... FGD, ours) and fragmentation
 *
 * Purity rules (STYLE.md 5): nothing here may call the clock, rand(), I/O or
 * keep static mutable state; the macros below turn the most likely slips into
 * compile errors inside the core.
 */
#ifndef AIDC_SCHED_SCHED_INT_H
#define AIDC_SCHED_SCHED_INT_H

#include "sched/sched.h"
#include "util/util.h"

#define time(...)	   AIDC_BANNED(time_in_the_scheduling_core)
#define clock_gettime(...) AIDC_BANNED(clock_gettime_in_the_scheduling_core)
#define gettimeofday(...)  AIDC_BANNED(gettimeofday_in_the_scheduling_core)
#define aidc_mono_ms(...)  AIDC_BANNED(clocks_in_the_scheduling_core)
#define aidc_wall_ms(...)  AIDC_BANNED(clocks_in_the_scheduling_core)
#define aidc_wall_s(...)   AIDC_BANNED(clocks_in_the_scheduling_core)
#define fopen(...)	   AIDC_BANNED(fopen_in_the_scheduling_core)
#define printf(...)	   AIDC_BANNED(printf_in_the_scheduling_core)
#define fprintf(...)	   AIDC_BANNED(fprintf_in_the_scheduling_core)

/* ---- cluster -------------------------------------------------------------- */

struct sched_model {
	char *name;   /* owned */
	char *vendor; /* owned */
	uint64_t mem_mib;
};

struct sched_device {
	uint32_t node;	     /* owning node */
	uint16_t model;	     /* model id */
	uint16_t group;	     /* device group on the node */
	uint32_t free_milli; /* 0..1000 */
	uint32_t ntasks;     /* tasks holding a share (whole-device tasks hold all 1000) */
};

struct sched_node {
	char *name; /* owned */
	uint32_t partition;
	uint32_t rack;
	enum sched_node_state state;
	uint32_t cpu_milli, cpu_free_milli;
	uint64_t mem_mib, mem_free_mib;
	uint32_t first_dev; /* devices are s->devs[first_dev .. first_dev + ndev) */
	uint32_t ndev;
	uint32_t ndev_free;  /* devices with free_milli == 1000 */
	uint32_t gen;	     /* bumped on every change of this node's free capacity */
	uint64_t model_mask; /* models present on the node */
	/* ---- core-private (index.c) ---- */
	uint32_t first_slot, nslots; /* s->slots[first_slot ..): one per model on the node */
	uint32_t ntasks_held;	     /* tasks (any kind) placed on the node */
	uint32_t excl_held;	     /* of them, tasks of exclusive jobs (sched_req.exclusive) */
	/* Placed tasks by GPU-request kind, for GpuClustering (frag.c): [0] shares of
	 * one device (ndev 1, dev_milli < 1000), [k] tasks of k whole devices; CPU-only
	 * tasks are not counted. nkinds = entries > 0. uint16 is enough: a node holds
	 * at most 64 x 1000 one-milli shares (static assert in index.c). Kept by
	 * sched_allocs_apply, O(1) per task. */
	uint16_t ntasks_kind[AIDC_MAX_DEVICES_PER_NODE + 1];
	uint8_t nkinds;
};

/* ---- fractional policies (frag.c) ----------------------------------------- */

/* State of the fractional policies: workload distribution, caches, RNG. Owned by
 * struct sched, created lazily by frag.c, freed by sched_frag_free (NULL ok). */
struct sched_frag;
void sched_frag_free(struct sched_frag *f);
/* True for SCHED_PLACE_RANDOM .. SCHED_PLACE_AIDC_FRAG. */
bool sched_frag_policy(enum sched_placement p);
/*
 * Chooses one node and its devices for ONE task with request req in partition
 * part, under s->cfg.placement (a fractional policy). Writes 1..ndev allocs
 * (with .task = task) into out (room for AIDC_MAX_DEVICES_PER_NODE) and returns
 * how many, or AIDC_E_NOFIT. Reads the cluster; changes only its own caches.
 */
int sched_frag_pick(struct sched *s, const struct sched_req *req, uint32_t part, uint32_t task,
		    struct sched_alloc *out);

/* ---- core-private structures held inline by struct sched ---------------- */

/* driver id -> handle: open addressing, linear probing, backward-shift deletion. */
struct sched_idmap {
	uint64_t *keys;
	uint32_t *vals; /* UINT32_MAX = empty */
	size_t cap;	/* power of two */
	size_t n;
};

/* Classes of jobs with a history (history.c), for the QSSF predictor and the
 * Gittins order: a level, and the job fields (SCHED_HK_*) that level keeps;
 * the others are 0. devs: the size measure of the caller (device units, or
 * their octave). */
enum { SCHED_HK_USER = 1, SCHED_HK_NAME = 2, SCHED_HK_PART = 4, SCHED_HK_DEVS = 8 };
struct sched_hkey {
	uint32_t level, user, name, part;
	uint64_t devs;
};
/* Records (each starting with its struct sched_hkey) in a growable array,
 * found through a hash table of record numbers. All zero = empty. */
struct sched_hindex {
	void *recs; /* n records of stride bytes */
	uint32_t n;
	size_t cap_recs, stride;
	uint32_t *slot; /* record numbers, UINT32_MAX = empty; cap a power of two */
	size_t cap;
};
/* History groups of the QSSF predictor (predict.c). */
struct sched_hgroup {
	struct sched_hkey key;
	uint32_t n;
	double mean_s;
};
/* GITTINS (gittins.c): one class's run-time histogram, half-octave buckets. */
#ifndef SCHED_GIT_SUB_BITS
#define SCHED_GIT_SUB_BITS 1 /* run-time buckets: 2^bits equal steps per octave */
#endif
#define SCHED_GIT_SUB (1u << SCHED_GIT_SUB_BITS)
#define SCHED_GIT_BUCKETS (1 + SCHED_GIT_SUB * 30) /* up to 2^30 s */
struct sched_gclass {
	struct sched_hkey key; /* devs: octave of the job's devices */
	uint32_t n;
	double cnt[SCHED_GIT_BUCKETS]; /* weights (1 per job without gittins_window) */
	double sum[SCHED_GIT_BUCKETS]; /* weighted seconds */
	/* re-keying's memo: 1 / index at run time 0 (valid when memo_no is the
	 * re-keying's number; histories do not change during one) */
	double memo_r0;
	uint64_t memo_no;
};
struct sched_gittins {
	struct sched_hindex cls; /* of struct sched_gclass */
	/* with gittins_window: finished jobs fed so far, and at the last re-keying
	 * of the pending jobs (and its time) */
	uint64_t fed, rekey_fed;
	int64_t rekey_t;
	bool rekey_started;
	uint64_t rekey_no; /* re-keyings so far (sched_gclass.memo_no) */
	bool prior; /* sched_gittins_prior (oracle): classes fixed, nothing fed */
	bool prior_others; /* ... and a job's key leaves its own oracle_s out */
	bool prior_self; /* sched_gittins_prior_self: a job's own oracle_s only */
	int64_t prior_window_s; /* ... while now - its submit <= this (0 = always) */
};
struct sched_predict {
	struct aidc_intern names; /* user and job names (util/intern.h) */
	struct sched_hindex groups; /* of struct sched_hgroup */
};

/* A placement plan: tasks per node, before devices are picked. */
struct sched_plan_ent {
	uint32_t node;
	uint32_t ntasks;
};

/* A candidate node of a constrained CPU-only placement: order key, then node id. */
struct sched_cand {
	uint64_t key;
	uint32_t node, fit;
};

/* Shapes that failed to place in this pass (capacity only shrinks during a pass). */
#define SCHED_MEMO_MAX 64
struct sched_memo_ent {
	uint32_t ntasks, ndev, dev_milli, cpu_milli;
	uint32_t nnodes, per_node; /* the job's node constraints (exact match only) */
	uint64_t mem_mib, mask;
	bool blocked; /* failed with the EASY reservation's resources held back */
};
struct sched_memo {
	struct sched_memo_ent v[SCHED_MEMO_MAX];
	uint32_t n;
};

struct sched_resv_hold {
	uint32_t node, dev; /* dev == SCHED_NO_DEVICE: CPU/memory hold */
	uint32_t milli, cpu_milli;
	uint64_t mem_mib;
};

/* The EASY reservation: resources held back from jobs that would outlive it. */
struct sched_resv {
	bool active, blocked;
	uint32_t job;
	int64_t shadow_s;
	struct sched_alloc *allocs; /* the head's planned placement at shadow_s */
	uint32_t nalloc;
	size_t cap_allocs;
	struct sched_resv_hold *held; /* what is held back now (undone exactly) */
	uint32_t nheld;
	size_t cap_held;
};
/* ---- the scheduler -------------------------------------------------------- */

struct sched_partition; /* defined by the core (queues, capacity indexes) */

/* Service histogram of a partition: 4 buckets per power of two up to 2^64. */
#define SCHED_SVC_BUCKETS 256

/* Resources a group's quotas count (quota.c), in use units. */
enum { SCHED_RES_DEV, SCHED_RES_CPU, SCHED_RES_MEM, SCHED_NRES }; /* milli, milli, MiB */

/* One resource's quota of a group, in use units; nominal -1 = none. */
struct sched_gquota {
	int64_t nominal, borrow_limit, lend_limit;
	/* As a cohort (a parent): sum over its children of lendable unused
	 * quota and of borrowed quota. */
	int64_t lendable, borrowed;
};

/* A tenancy group (quota.c). */
struct sched_group {
	char *name; /* owned */
	int32_t parent;
	int64_t max_running_jobs, max_devices; /* devices */
	struct sched_gquota q[SCHED_NRES];
	bool has_quota;			/* some q[r].nominal >= 0 */
	uint64_t running;		/* jobs */
	int64_t use[SCHED_NRES];	/* held by running jobs, use units */
	uint64_t reclaim_pass; /* last pass one of its jobs reclaimed in */
	uint64_t lender_wait_pass; /* as a cohort: last pass a child reclaimed in */
	/* Fair share (fairshare.c): shares >= 1; usage in device-seconds decayed to
	 * s->fs_t; the rest as of the last recalculation. */
	int64_t shares;
	double usage, norm_shares, norm_usage, level_fs, fs_factor;
	uint32_t fs_rank;
	/* Quotas per device model (quota.c); NULL until it or a child has one. */
	struct sched_gmodels *mq;
};

/* A group's quotas per device model, in milli-devices: entries it has
 * (set), and as a cohort its children's sums (q[m].lendable, borrowed). */
struct sched_gmodels {
	uint64_t set; /* bit m: an entry for model m */
	struct sched_gquota q[AIDC_MAX_DEVICE_MODELS];
	int64_t use[AIDC_MAX_DEVICE_MODELS]; /* held by its running jobs */
	struct sched_model_quota *spec;      /* as last set (owned), for sched_group_get */
	uint32_t nspec;
};

struct sched {
	struct sched_config cfg;
	struct sched_env env;

	struct sched_group *groups;
	uint32_t ngroups;
	size_t cap_groups;
	struct aidc_intern group_ids; /* group name -> id (ids are dense, as groups) */
	struct aidc_intern node_ids;  /* node names (ids are node ids): uniqueness */

	struct sched_model *models; /* models[0 .. nmodels) */
	uint32_t nmodels;
	size_t cap_models;

	struct sched_partition *parts; /* parts[0 .. nparts) */
	uint32_t nparts;
	size_t cap_parts;

	struct sched_node *nodes; /* nodes[0 .. nnodes) */
	uint32_t nnodes;
	size_t cap_nodes;

	struct sched_device *devs; /* devs[0 .. ndevs); a node's devices are contiguous */
	uint32_t ndevs;
	size_t cap_devs;

	struct sched_frag *frag; /* fractional policies' state (frag.c) */

	/* ---- below: the core's job table, queues, indexes, predictor ---- */
	struct sched_slot *slots; /* slots[0 .. nslots): one per (node, model present) */
	uint32_t nslots;
	size_t cap_slots;

	struct sched_pool *pools; /* pools[0 .. npools): one per (partition, model) */
	uint32_t npools;
	size_t cap_pools;

	struct sched_job *jobs; /* jobs[0 .. njob_slots): handle = index */
	uint32_t njob_slots;
	size_t cap_jobs;
	uint32_t free_job;	/* head of the free-handle list, UINT32_MAX = empty */
	uint32_t njobs;		/* live jobs */
	struct sched_idmap ids; /* driver id -> handle (lookup only, never iterated) */
	uint64_t next_seq;	/* submit sequence, the last-but-one tie-break */
	uint64_t npasses;	/* passes run so far (stamps reasons) */
	int64_t now_last;	/* latest now_s seen: time never goes back */

	struct sched_predict pred;
	struct sched_gittins git;
	/* Tiresias: (demotion time, seq, handle | run_no << 32); GITTINS: next quantum
	 * boundary of running jobs (same layout, bit 63 = end of the first quantum). */
	struct aidc_heap demote;
	/* Tiresias and GITTINS: (promotion time, seq, handle | enq_no << 32) */
	struct aidc_heap promote;

	/* Scratch reused across calls so a steady-state pass allocates nothing. */
	struct sched_alloc *scr; /* one placement's allocations */
	size_t cap_scr;
	struct sched_plan_ent *plan, *plan2;
	size_t cap_plan, cap_plan2;
	struct sched_cand *cand; /* constrained CPU-only placement's candidate nodes */
	size_t cap_cand;
	uint32_t *mark; /* per node: == mark_stamp when in the current plan */
	size_t cap_mark;
	uint32_t mark_stamp;
	struct sched_memo memo;
	struct sched_resv resv;	  /* the EASY reservation of the partition being passed */
	struct sched_endev *ends; /* will-run: running jobs by estimated end */
	size_t cap_ends;
	uint32_t *walk; /* will-run: frontier of its walk of a partition's run_ends */
	size_t cap_walk;
	uint32_t *end_pos; /* per handle: its position in its partition's run_ends
			      while running (compact: the heap moves touch no job record) */
	size_t cap_end_pos;
	uint32_t *tmp_q; /* queue merge buffer */
	size_t cap_tmp_q;
	struct sched_qkey *qkeys; /* queue sort buffer (queue.c), 2 x the batch */
	size_t cap_qkeys;
	struct sched_rkey *rkeys; /* queue radix sort buffer (queue.c), 2 x the batch */
	size_t cap_rkeys;
	struct sched_hot *hot; /* per handle (hot.c) */
	size_t cap_hot;
	struct sched_shape *shapes; /* hot.c: interned job shapes */
	size_t cap_shapes;
	uint32_t nshapes;
	uint32_t *shape_tab; /* open addressing: shape index + 1, 0 = empty */
	uint32_t shape_tab_n; /* slots, a power of 2 (0 = none yet) */
	uint64_t pp_stamp;    /* bumped per partition pass: shape caches */
	/* groups with a limit or a quota (quota.c): none = no job is held by one */
	uint32_t ngroups_limited;
	bool no_fast_path; /* tests: shapes and the no-limits shortcut off (differential) */
	/* The forecast's copy (nobody reads its reasons): a pass stops walking a
	 * queue once no job left in it can start (pass.c); pp_dead[]: shapes of
	 * the partition pass counted dead (sched_shape dead_stamp), pp_min_est:
	 * least estimate of the jobs it kept. */
	bool quiet_tail;
	uint32_t pp_dead[2];
	int64_t pp_min_est;
	uint32_t *fs_depth; /* fairshare.c: per group, its number of ancestors */
	size_t cap_fs_depth;

	/* Fair share (fairshare.c): group usage is decayed to fs_t; fs_total is all
	 * usage charged (the tree's root); prio_t is the last recalculation
	 * (prio_valid once there was one). fs_scr: scratch of 4 x ngroups + 2. */
	int64_t fs_t, prio_t;
	bool fs_started, prio_valid;
	double fs_total;
	uint32_t *fs_scr;
	size_t cap_fs_scr;
	struct sched_fs_ent *fs_ents;
	size_t cap_fs_ents;
	double *fs_path; /* 2 x ngroups: level_fs along the walk and of the last leaf */
	size_t cap_fs_path;
	/* The node filter of the job sched_place_take is placing (NULL otherwise):
	 * what sched_node_allowed reads, so every node check of a placement honors
	 * it without each policy passing the job along. */
	const struct sched_nfilter *place_filter;
	/* The heterogeneity speed table (hetero.c); NULL until the first
	 * sched_speed_set / observe. */
	struct sched_speeds *speeds;
	/* quota.c: groups with per-model quotas (their own or a child's); the job
	 * whose model_mask sched_quota_admits narrowed to the models its quotas
	 * admit for this pass, and its own mask (sched_quota_restore). */
	uint32_t ngroups_models;
	bool quota_narrowed;
	uint32_t quota_narrowed_job;
	uint64_t quota_saved_mask;
	/* Fair-share charge per device model, milli (sched_model_set_charge,
	 * hetero.c); NULL until the first set: every model 1000 (hetero2). */
	uint32_t *fs_charge;
	uint32_t part_prio_max; /* the highest partition prio_factor (fairshare.c) */
	/* forecast.c: finished jobs' run times per class (user, name and devices
	 * down to the partition), the forecast's run times of queued jobs */
	struct sched_hindex fc_classes;
	/* forecast.c, ORACLE (sched_forecast_oracle): the true run times of each
	 * class (partition x devices), sorted by (class, run time), with prefix
	 * sums (fco_sum[i] = sum of fco[0..i)); mode 0 = off */
	struct sched_fc_sample *fco;
	int64_t *fco_sum;
	size_t nfco;
	uint8_t fco_mode;
	/* forecast.c: enum sched_fc_km (sched_forecast_km; 0 = the default) */
	uint8_t fc_km;
};

/* A job's node filter (Slurm -w/-x): ids sorted and unique; allow: they are
 * the only nodes the job may use (include less exclude), else the nodes it
 * may not. nf/nf_nnodes: sched_never_fits's answer, valid while the core has
 * nf_nnodes nodes (nodes are only added; the test counts them in any state). */
struct sched_nfilter {
	bool allow, nf;
	uint32_t nf_nnodes;
	uint32_t n;
	uint32_t ids[];
};

/* ---- core-private structures ------------------------------------------------ */

/* One device model on one node: the unit the free-capacity index tracks. */
struct sched_slot {
	uint32_t node, pool;
	uint32_t local; /* index of the node in its pool (pool->slot_of[local] == this) */
	uint32_t model;
	uint32_t ntotal;   /* devices of this model on the node */
	uint32_t nfree;	   /* of them wholly free (free_milli == 1000) */
	uint32_t npartial; /* of them partly used (0 < free_milli < 1000) */
	bool indexed;	   /* node is UP: present in the pool's bitsets */
};

/*
 * Free-capacity index of one pool (partition x model) over its UP nodes.
 * bucket b holds the nodes with exactly b wholly free devices of the model, as a
 * bitset over pool-local indexes (ascending node id). Best fit for a node that
 * must offer n devices = lowest set bit of the first non-empty bucket >= n:
 * O(maxdev + words) with maxdev <= AIDC_MAX_DEVICES_PER_NODE. Every update is O(1)
 * (clear one bit, set one bit). Racks keep their free-device sums for the
 * topology policy (sorted by rack id, O(log racks) per update).
 */
struct sched_pool {
	uint32_t part, model;
	uint32_t *slot_of; /* pool-local index -> slot id, ascending node id */
	uint32_t n;
	size_t cap;
	uint32_t maxdev;     /* most devices of the model on one node of the pool */
	size_t words;	     /* bitset words per bucket (capacity) */
	uint64_t *bits;	     /* (maxdev + 1) buckets x words */
	uint32_t *bcount;    /* nodes per bucket */
	uint64_t *partial;   /* words: UP nodes with a partly used device of the model */
	uint64_t *empty;     /* words: UP nodes whose devices of the model are all free */
	uint64_t free_devs;  /* wholly free devices on UP nodes */
	uint64_t up_devs;    /* devices on UP nodes */
	uint64_t all_devs;   /* devices on all nodes, any state (never-fits test) */
	uint32_t *rack_id;   /* racks present, ascending */
	uint64_t *rack_free; /* wholly free devices per rack (UP nodes) */
	uint32_t nracks;
	size_t cap_racks;
};

/* A class of identical nodes of a partition as the never-fits test sees them:
 * ndev devices of one model (model = SCHED_NCLASS_CPU: the node as a whole for
 * CPU-only tasks), CPU and memory. A node adds one CPU entry and one per model. */
#define SCHED_NCLASS_CPU UINT32_MAX
struct sched_nclass {
	uint32_t model, ndev, cpu_milli, count;
	uint64_t mem_mib;
};

struct sched_partition {
	char *name;				  /* owned */
	uint32_t prio_factor; /* priority job factor (sched_partition_set_priority) */
	uint32_t pool_of[AIDC_MAX_DEVICE_MODELS]; /* model -> pool id, UINT32_MAX = none */
	uint32_t *nodes;			  /* node ids, ascending */
	uint32_t nnodes;
	size_t cap_nodes;
	uint32_t max_cpu_milli; /* largest node (any state) */
	uint64_t max_mem_mib;
	struct sched_nclass *ncls; /* node classes (any state): never-fits, O(classes) */
	uint32_t nncls;
	size_t cap_ncls;
	/* Pending queue, sorted by sched_hot_cmp: q[qhead .. qn). New and re-queued
	 * jobs wait unsorted in inbox until the next pass merges them in. */
	uint32_t *q;
	size_t qhead, qn, cap_q;
	uint32_t *inbox;
	size_t ninbox, cap_inbox;
	/* Shapes with queued jobs, queued jobs without one, and a lower bound of
	 * the queued jobs' estimates (exact after a pass walks the whole queue):
	 * when the pass may stop early (pass.c, s->quiet_tail). */
	uint32_t qshapes, qnoshape;
	int64_t qmin_est;
	uint32_t *running; /* running job handles, unordered (job->run_idx) */
	uint32_t nrunning;
	size_t cap_running;
	/* The running jobs' (start + what was left of its estimate, seq, handle),
	 * fixed while it runs, as a min-heap by (end, seq) (s->end_pos: its
	 * position), so will-run reads no job record and walks only the ends it
	 * releases (place.c) */
	struct sched_endev *run_ends;
	size_t cap_run_ends;
	struct sched_usage use; /* kept incrementally: sched_usage is O(partitions) */
	/* Tiresias threshold from history (queue.c): finished jobs' service in
	 * device-seconds, counted in log buckets of a quarter octave. */
	uint32_t svc_hist[SCHED_SVC_BUCKETS];
	uint32_t svc_n;
	/* Finished jobs' run times (every order; same buckets): the forecast's
	 * expected remaining run time of a running job without a time limit */
	uint32_t run_hist[SCHED_SVC_BUCKETS];
	int64_t tir_thresh_ms; /* current threshold, milli-device-seconds; 0 = cfg's */
	/* GITTINS: the partition's starved job (handle, seq) while it waits to start;
	 * at most one at a time (gittins.c) */
	uint32_t git_starved;
	uint64_t git_starved_seq;
};

/* One job (handle = index in s->jobs). */
struct sched_job {
	uint64_t id, seq;
	char *name, *user, *tenant; /* owned */
	uint32_t name_id, user_id;  /* interned for the predictor; UINT32_MAX = not kept */
	uint32_t part;
	int32_t priority;
	int64_t submit_s;
	uint32_t ntasks;
	/* Node constraints, normalized at submit: at most one is set. nnodes: exactly
	 * that many nodes, tasks spread evenly; per_node: at most that many per node. */
	uint32_t nnodes, per_node;
	struct sched_req task; /* dev_milli normalized: 1000 for whole devices, 0 if ndev == 0 */
	int64_t time_limit_s, predicted_s, oracle_s;
	uint32_t flags;
	uint32_t qos_class;   /* sched_job_spec's */
	uint64_t preempt_qos; /* used with SCHED_JOB_QOS_PREEMPT */
	uint32_t qos_milli;   /* MULTIFACTOR's QoS factor x 1000 */
	int64_t fs_charged_s; /* running: usage charged up to here (fairshare.c) */
	uint32_t groups[SCHED_MAX_JOB_GROUPS], ngroups;
	bool borrowing;       /* started beyond its quota group's nominal */
	uint32_t hold_group;  /* LIMIT/QUOTA: which group ... */
	uint8_t hold_what;    /* ... and which of its bounds (quota.c) */
	int64_t hist_s; /* predictor's estimate at submit; 0 = no history */
	bool live, running;
	uint8_t level; /* Tiresias queue (0 high, 1 low) while pending */
	bool starved;  /* GITTINS: waited gittins_starve_s; first in line, never a victim */
	uint8_t git_pre_bucket; /* GITTINS: run-time bucket when last queued */
	uint64_t enq_pass;    /* npasses when last queued */
	int64_t enq_s;	      /* last time queued (Tiresias starvation) */
	uint32_t enq_no;      /* bumped on each enqueue: validates promote-heap entries */
	int64_t run_start_s;
	int64_t executed_s;  /* run time of finished run segments */
	int64_t attained_ms; /* milli-device-seconds counted towards Tiresias demotion */
	uint32_t run_no;     /* bumped on each start: validates demote-heap entries */
	uint32_t preemptions;
	uint32_t run_idx;	    /* index in part->running */
	struct sched_alloc *allocs; /* owned, while running */
	uint32_t nalloc;
	bool victim;		  /* chosen as a victim, not yet stopped */
	uint32_t victim_for;	  /* handle of the job it makes room for ... */
	uint64_t victim_for_seq;  /* ... and that job's seq (handles are reused) */
	uint32_t next_free;
	struct sched_nfilter *filter; /* owned; NULL = none (sched_job_spec include/exclude) */
	uint32_t speed_class; /* sched_job_spec's (hetero.c) */
	/* Per-model quotas (quota.c): what it borrows while running (base: a
	 * device/CPU/memory quota; models: per-model entries); what it reclaims
	 * while pending (sched_quota_may_reclaim); the model of a model hold
	 * (hold_what's resource SCHED_NRES). */
	uint64_t borrow_models, reclaim_models;
	bool borrow_base, reclaim_base;
	uint8_t hold_model;
};

/*
 * The pass's compact copy of a job (s->hot, one per handle; hot.c): what
 * sorting the queue, recomputing MULTIFACTOR keys and turning a pending job
 * away read and write, so that a pass over a long queue walks ~100 bytes a job
 * instead of its whole record (a 100,000-job queue's records span ~35 MB; the
 * pass touches the records only of jobs it tries to place). Filled at submit;
 * the job's own fields never change while it exists. k1, k2, reason,
 * reason_pass, in_inbox and victims_pending live only here.
 */
struct sched_hot {
	int64_t k1, k2;	      /* queue key while pending (see queue.c) */
	uint64_t seq, id;     /* copies of the job's */
	int64_t est;	      /* sched_job_est (fixed at submit) */
	uint64_t reason_pass; /* pass that set reason */
	int64_t submit_s;     /* copy: MULTIFACTOR's age */
	uint64_t units;	      /* sched_job_dev_milli: MULTIFACTOR's size */
	int32_t priority;     /* copy: MULTIFACTOR's nice */
	uint32_t shape;	      /* s->shapes index; SCHED_NO_SHAPE = none (table full) */
	uint32_t part, qos_milli;
	uint32_t groups[SCHED_MAX_JOB_GROUPS];
	uint32_t victims_pending; /* PREEMPT decisions made for this job, not yet resolved */
	uint8_t ngroups;
	uint8_t reason; /* enum sched_reason */
	bool in_inbox;
};

/*
 * A job shape: what the never-fits test and the failed-shape memo (pass.c)
 * read of a job. Pending jobs of one shape share one answer per partition
 * pass (Slurm's equivalence classes): stamps compare with s->pp_stamp. The
 * table only grows (up to SCHED_SHAPES_MAX; jobs past it get no shape and take
 * the per-job path).
 */
#define SCHED_SHAPES_MAX 65536u
#define SCHED_NO_SHAPE	 UINT32_MAX
struct sched_shape {
	uint32_t part, ntasks, nnodes, per_node;
	struct sched_req task;
	uint64_t nf_stamp;	/* nf valid for this partition pass */
	uint64_t fail_stamp[2]; /* [blocked]: the memo rejects it in this partition pass */
	uint64_t scan_stamp[2]; /* [blocked]: scanned[] counts for this partition pass */
	uint32_t scanned[2];	/* memo entries already seen not to reject it */
	uint32_t nqueued;	/* pending jobs of this shape in its partition's queue */
	uint64_t dead_stamp[2]; /* [0] unblocked, [1] blocked jobs of it cannot start in
				   this partition pass: counted in s->pp_dead[] */
	bool nf;
};

struct sched_endev {
	int64_t end_s;
	uint64_t seq;
	uint32_t job;
};

/* ---- core-internal functions ---------------------------------------------- */

/* hetero.c: the preference of job j for model m of pool p (higher first;
 * 0 for every model when cfg.hetero is OFF, so the placement's own order
 * decides). O(1) amortized (the class means are cached). */
uint64_t sched_hetero_key(struct sched *s, const struct sched_job *j, const struct sched_pool *p);
void sched_speeds_free(struct sched_speeds *t); /* NULL ok */
/* Gives c (a fresh core with the same models, e.g. the forecast's copy) a
 * copy of s's speed table and fair-share charges, so both choose the same
 * models and charge the same usage. */
void sched_speeds_copy(const struct sched *s, struct sched *c);

/* quota.c */
/* Whether job h may start now by its groups' limits and quotas; false sets
 * its reason (LIMIT or QUOTA) and hold. True may narrow its model_mask to
 * the models its per-model quotas admit, until sched_quota_restore (which
 * the pass calls before its next job and after its last). */
bool sched_quota_admits(struct sched *s, uint32_t h);
void sched_quota_restore(struct sched *s);
/* Charges (+1) or releases (-1) a job's use as it starts or stops. */
void sched_quota_charge(struct sched *s, uint32_t h, int sign);
/* Whether pending h may reclaim now (within its nominal, siblings borrow,
 * not yet tried for its group this pass), and whether running r is a
 * reclaimable victim for h (borrowing, in a sibling group). */
bool sched_quota_may_reclaim(struct sched *s, uint32_t h);
bool sched_quota_victim(const struct sched *s, const struct sched_job *r, const struct sched_job *h);
/* Pending h waits for the victims it reclaimed from borrowers: borrowing in
 * its cohort stays paused (or a borrower takes the room back first). */
void sched_quota_reclaim_wait(struct sched *s, uint32_t h);
/* Pending h, held by QUOTA at its organization's cap (a group with a quota
 * and no parent, its quota group's parent) while within its own quota,
 * preempts running borrowers of its cohort in any partition, newest first,
 * until the cap has room for it (or none if they would not make it). Appends
 * PREEMPT decisions; returns how many. O(R log R), R running jobs. */
uint32_t sched_quota_cap_reclaim(struct sched *s, uint32_t h, int64_t now_s,
				 struct sched_decisions *out);
void sched_quota_release(struct sched *s);

/* hot.c */
/* Fills s->hot[h] from job h's record at submit (grows s->hot). */
void sched_hot_fill(struct sched *s, uint32_t h);
/* AIDC_GROW for the per-job arrays a pass walks (s->jobs, s->hot): grows by
 * doubling into a fresh block and copies, never realloc (see hot.c). */
void sched_grow_copy(void **v, size_t *cap, size_t need, size_t elem_size);
#define SCHED_GROW_COPY(v, cap, need) sched_grow_copy((void **)&(v), &(cap), (need), sizeof *(v))
/* Room for n job handles in s->jobs and s->hot (the forecast's copy). */
void sched_reserve_jobs(struct sched *s, size_t n);
/* Job h's shape, or NULL (no shape, or s->no_fast_path). */
struct sched_shape *sched_shape_of(struct sched *s, uint32_t h);
/* Job h enters (+1) or leaves (-1) its partition's queue: the per-shape counts. */
void sched_shape_queued(struct sched *s, uint32_t h, int delta);
/* A job record holding only shape sh's fields (for never-fits and the memo). */
void sched_shape_proto(const struct sched_shape *sh, struct sched_job *pj);
void sched_hot_release(struct sched *s);

/* fairshare.c */
/* Charges running job h's usage up to now_s (called as it stops). */
void sched_fs_charge(struct sched *s, uint32_t h, int64_t now_s);
/* MULTIFACTOR's queue key: -priority (see sched_job_prio). */
int64_t sched_fs_key(const struct sched *s, const struct sched_job *j);
/* Called by the pass: recalculates when prio_calc_period_s has passed. */
void sched_fs_tick(struct sched *s, int64_t now_s);
void sched_fs_release(struct sched *s);

/* core.c */
void sched_logf(const struct sched *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint64_t sched_all_models(const struct sched *s);

/* index.c: every change of free capacity goes through these (they keep the
 * indexes, usage counters and node->gen in step). */
void sched_idx_add_node(struct sched *s, uint32_t node);
void sched_idx_set_up(struct sched *s, uint32_t node, bool up);
uint32_t sched_slot_of(const struct sched *s, uint32_t node, uint32_t model);
void sched_dev_change(struct sched *s, uint32_t dev, int32_t dmilli, int32_t dtasks);
void sched_node_change(struct sched *s, uint32_t node, int64_t dcpu, int64_t dmem, int32_t dtasks);
/* Takes (sign > 0) or gives back (sign < 0) the allocations of one job; a task's
 * allocs are contiguous and its CPU/memory is counted once per task. */
void sched_allocs_apply(struct sched *s, const struct sched_alloc *a, uint32_t n,
			const struct sched_req *req, int sign);
/* Next node (pool-local index >= from) in bucket b, or -1. O(words). */
int64_t sched_pool_next(const struct sched_pool *p, const uint64_t *bits, uint32_t from);
const uint64_t *sched_pool_bucket(const struct sched_pool *p, uint32_t b);
/* Tasks of req that fit on node now given nfree wholly free devices of the model. */
/* Whether a task of r may go on node n at all (exclusive jobs, sched.h): no
 * exclusive job's task is there, and for an exclusive r no task at all. O(1). */
static inline bool sched_node_open(const struct sched_node *n, const struct sched_req *r)
{
	return !n->excl_held && (!r->exclusive || !n->ntasks_held);
}
uint32_t sched_node_fit(const struct sched *s, uint32_t node, uint32_t nfree,
			const struct sched_req *req);
/* Whether f admits node (job.c): O(log f->n). */
bool sched_nfilter_admits(const struct sched_nfilter *f, uint32_t node);
/* Whether the job being placed may use node at all (its node filter). */
static inline bool sched_node_allowed(const struct sched *s, uint32_t node)
{
	const struct sched_nfilter *f = s->place_filter;
	return !f || sched_nfilter_admits(f, node);
}
void sched_pool_release(struct sched_pool *p);

/* job.c */
uint64_t sched_job_dev_milli(const struct sched_job *j); /* ntasks x ndev x milli */
int64_t sched_job_est(const struct sched *s, const struct sched_job *j);
int64_t sched_job_run_s(const struct sched_job *j, int64_t now_s); /* executed incl. current */
void sched_job_mark_started(struct sched *s, uint32_t h, int64_t now_s, const struct sched_alloc *a,
			    uint32_t n);
void sched_idmap_release(struct sched_idmap *m);

/* queue.c */
int sched_hot_cmp(const struct sched_hot *a, const struct sched_hot *b);
void sched_queue_push(struct sched *s, uint32_t h, int64_t now_s);
void sched_queue_remove(struct sched *s, uint32_t h);
void sched_queue_merge(struct sched *s, struct sched_partition *p);
/* Sorts q[qhead .. qn) again after its keys changed (MULTIFACTOR). O(n log n). */
void sched_queue_sort(struct sched *s, struct sched_partition *p);
void sched_tiresias_tick(struct sched *s, int64_t now_s);
void sched_tiresias_started(struct sched *s, uint32_t h, int64_t now_s);
/* A job of the partition finished with this attained service: history for the threshold. */
void sched_tiresias_finished(struct sched *s, const struct sched_job *j);
bool sched_order_preemptive(enum sched_order o);
/* The key a RUNNING job would have in the queue now (preemption compares it). */
int64_t sched_running_k1(const struct sched *s, const struct sched_job *j, int64_t now_s);
int64_t sched_pending_k1(const struct sched *s, const struct sched_job *j);

/* gittins.c */
int64_t sched_gittins_key(const struct sched *s, const struct sched_job *j, int64_t run_s);
int64_t sched_gittins_running_key(const struct sched *s, const struct sched_job *j,
				  int64_t now_s);
int64_t sched_gittins_next_edge_s(int64_t run_s);
void sched_gittins_feed(struct sched *s, const struct sched_job *j, int64_t run_s);
void sched_gittins_started(struct sched *s, uint32_t h, int64_t now_s);
void sched_gittins_queued(struct sched *s, uint32_t h, int64_t now_s);
void sched_gittins_tick(struct sched *s, int64_t now_s);
void sched_gittins_release(struct sched_gittins *g);

/* history.c */
/* Job j's key at level, keeping the fields given (devs: the caller's size
 * measure); false when the level needs a user or a name j does not have (an
 * empty string identifies nobody). */
bool sched_hkey_make(const struct sched_job *j, uint32_t level, uint8_t fields, uint64_t devs,
		     struct sched_hkey *k);
/* k's record (borrowed until the next get), or NULL. */
void *sched_hindex_find(const struct sched_hindex *x, const struct sched_hkey *k);
/* k's record, added zeroed but for its key if new (the first call sizes the
 * records, stride, and the table, first_cap slots, a power of two); NULL when
 * new and x already holds max records. */
void *sched_hindex_get(struct sched_hindex *x, const struct sched_hkey *k, size_t stride,
		       size_t first_cap, uint32_t max);
void sched_hindex_release(struct sched_hindex *x);

/* predict.c */
uint32_t sched_intern(struct sched *s, const char *str);
int64_t sched_predict_lookup(const struct sched *s, const struct sched_job *j);
void sched_predict_feed(struct sched *s, const struct sched_job *j, int64_t run_s);
void sched_predict_release(struct sched_predict *p);

/* queue.c: quarter-octave bucket of x >= 1, and a bucket's upper edge */
uint32_t sched_svc_bucket(uint64_t x);
uint64_t sched_svc_bucket_top(uint32_t b);

/* forecast.c: a finished job's run time into its partition's run_hist and
 * its classes' histograms; sched_forecast_release frees the latter */
void sched_forecast_feed(struct sched *s, const struct sched_job *j);
void sched_forecast_release(struct sched *s);

/* place.c */
/* Places job h on free resources now and takes them; the allocations are left
 * in s->scr[0 .. *n). AIDC_E_NOFIT with nothing changed otherwise. */
int sched_place_take(struct sched *s, uint32_t h, uint32_t *n);
/* Larger than the partition will ever offer (all nodes, any state), node by node:
 * O(node classes). */
bool sched_never_fits(const struct sched *s, const struct sched_job *j);
/* Earliest start if running jobs end at their estimates; with resv != NULL the
 * planned placement is copied there. 0 or AIDC_E_NOFIT (never). Nothing changed. */
int sched_will_run(struct sched *s, uint32_t h, int64_t now_s, int64_t *start_s,
		   struct sched_resv *resv);
/* A running job's estimated end enters, and the one at position pos leaves,
 * partition p's run_ends heap: O(log R). */
void sched_run_ends_add(struct sched *s, struct sched_partition *p, struct sched_endev x);
void sched_run_ends_del(struct sched *s, struct sched_partition *p, uint32_t pos);

/* pass.c */
int sched_decide(struct sched_decisions *d, enum sched_decision_kind kind, const struct sched *s,
		 uint32_t h, uint32_t for_job, int64_t at_s, const struct sched_alloc *a,
		 uint32_t n);

#endif
