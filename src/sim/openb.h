/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The FGD inflation experiment on Alibaba's "openb" GPU cluster trace
 * (`aidc sim openb`): readers for the node list and pod list CSV files
 * (trace_openb.c) and the experiment driver (openb.c), which replays an
 * inflated, shuffled pod stream through the scheduling core with one of the
 * fractional placement policies and samples the GPU allocation ratio and the
 * fragmentation at every 1% of GPU request arrived.
 *
 * Formats (header names, any column order, extra columns ignored):
 *   node list: sn,cpu_milli,memory_mib,gpu,model      (model empty when gpu = 0)
 *   pod list:  name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,...]
 * gpu_spec, when present and non-empty, lists acceptable GPU models separated
 * by '|'. See docs/sim-openb.md.
 *
 * Ownership: pointer arguments are borrowed for the call unless stated.
 */
#ifndef AIDC_SIM_OPENB_H
#define AIDC_SIM_OPENB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/sched.h"
#include "util/err.h"
#include "util/limits.h"

/* GPU model names seen in a node list or a pod list's gpu_spec; a pod's model
 * constraint is a bitmask over these indexes (also the core's model ids). */
struct sim_openb_models {
	char name[AIDC_MAX_DEVICE_MODELS][AIDC_MAX_NAME_BYTES];
	uint32_t n;
};

struct sim_openb_node {
	uint32_t cpu_milli;
	uint64_t mem_mib;
	uint32_t ngpu;  /* <= AIDC_MAX_DEVICES_PER_NODE */
	uint32_t model; /* index in sim_openb_models; meaningless when ngpu == 0 */
};

struct sim_openb_pod {
	uint32_t cpu_milli;
	uint64_t mem_mib;
	uint32_t num_gpu;   /* whole GPUs, or 1 with gpu_milli < 1000 for a share */
	uint32_t gpu_milli; /* per GPU, 1..1000; 0 when num_gpu == 0 */
	uint64_t model_mask; /* 0 = any model */
};

struct sim_openb_nodes {
	struct sim_openb_node *v; /* owned */
	size_t n, cap;
	uint64_t gpu_milli_total; /* sum of ngpu x 1000 */
};

struct sim_openb_pods {
	struct sim_openb_pod *v; /* owned */
	size_t n, cap;
};

void sim_openb_nodes_release(struct sim_openb_nodes *n); /* zeroed struct or read result */
void sim_openb_pods_release(struct sim_openb_pods *p);

/*
 * Read a node list / pod list from a file (path) or from memory (data, len;
 * name is used in messages). Models are added to *models as they appear (the
 * same table must be passed to both readers). On error e names file:line and
 * *out is left empty. Limits: AIDC_MAX_NODES nodes, AIDC_MAX_TRACE_JOBS pods,
 * AIDC_MAX_DEVICE_MODELS models, AIDC_MAX_DEVICES_PER_NODE GPUs per node.
 */
int sim_openb_read_nodes(const char *path, struct sim_openb_models *models,
			 struct sim_openb_nodes *out, struct aidc_err *e);
int sim_openb_read_nodes_mem(const char *name, const char *data, size_t len,
			     struct sim_openb_models *models, struct sim_openb_nodes *out,
			     struct aidc_err *e);
int sim_openb_read_pods(const char *path, struct sim_openb_models *models,
			struct sim_openb_pods *out, struct aidc_err *e);
int sim_openb_read_pods_mem(const char *name, const char *data, size_t len,
			    struct sim_openb_models *models, struct sim_openb_pods *out,
			    struct aidc_err *e);

/* ---- the experiment ---------------------------------------------------------- */

/* Arrived GPU request is sampled at 0, 1, ..., SIM_OPENB_STEPS - 1 percent. */
#define SIM_OPENB_STEPS 131

/*
 * The workload's task-shape distribution for fragmentation-aware policies, as
 * the published simulator builds it: pods grouped by (CPU, GPUs, GPU share,
 * model constraint), most popular first, the smallest prefix covering
 * `popularity` (0..1] of the pods, weights renormalized. Memory is the mean of
 * the group's pods. Caller frees *types with aidc_free.
 */
int sim_openb_workload(const struct sim_openb_pods *pods, double popularity,
		       struct sched_task_type **types, size_t *ntypes, struct aidc_err *e);

/*
 * Pod indexes in arrival order for one seed: the whole pod list, plus pods
 * drawn with replacement while the total GPU request stays within
 * target_gpu_milli (or minus random pods while above it), shuffled. At most
 * AIDC_MAX_TRACE_JOBS. Caller frees *order with aidc_free.
 */
int sim_openb_arrivals(const struct sim_openb_pods *pods, double target_gpu_milli, uint64_t seed,
		       uint32_t **order, size_t *n, struct aidc_err *e);

struct sim_openb_config {
	double inflation;      /* target arrived GPU request / capacity (1.3) */
	double popularity;     /* typical-shape cut-off (0.95) */
	uint64_t seed;         /* seed of the first run; run k uses seed + k */
	uint32_t nseeds;       /* 1..AIDC_MAX_SEEDS */
	/* Optional progress callback (one call per finished run); NULL = quiet. */
	void (*progress_fn)(void *ctx, enum sched_placement p, uint64_t seed, double secs);
	void *progress_ctx;
};
void sim_openb_config_defaults(struct sim_openb_config *c);

/* Seed-averaged curves of one policy. */
struct sim_openb_result {
	enum sched_placement policy;
	uint32_t nseeds;
	double alloc[SIM_OPENB_STEPS];      /* allocated GPU milli / capacity, mean */
	double frag[SIM_OPENB_STEPS];       /* fragmentation / capacity, mean */
	double alloc_min[SIM_OPENB_STEPS], alloc_max[SIM_OPENB_STEPS]; /* over seeds */
	double pods_failed;                 /* mean per run */
	double pods_total;                  /* mean per run */
	double final_arrived;               /* mean arrived GPU request / capacity at the end */
	double wall_s;                      /* total for all seeds */
};

/*
 * Runs the experiment for one policy over cfg->nseeds seeds. For each seed:
 * the pod list plus pods sampled with replacement until the GPU request would
 * pass cfg->inflation x capacity, shuffled (seeded); every pod is submitted and
 * placed at once (SCHED_MODE_RUN_NOW); a pod that fits nowhere is cancelled and
 * counted as failed; nothing departs. The same seed gives the same arrival
 * order for every policy.
 */
int sim_openb_run(const struct sim_openb_models *models, const struct sim_openb_nodes *nodes,
		  const struct sim_openb_pods *pods, enum sched_placement policy,
		  const struct sim_openb_config *cfg, struct sim_openb_result *out,
		  struct aidc_err *e);

/* The experiment's placements by sched's names ("fgd", "gpu-packing", ... "aidc-frag";
 * the FGD paper's spellings "gpupacking", "gpuclustering" and "aidc" are accepted);
 * NULL / -1 for a placement that is not one of them or an unknown name. */
const char *sim_openb_policy_name(enum sched_placement p);
int sim_openb_policy_parse(const char *name);

#endif
