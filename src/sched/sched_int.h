/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private structures of the scheduling core, shared by its .c files only.
 *
 * Files:  core.c      struct sched life cycle, models/partitions/nodes, usage
 *         index.c     free-capacity indexes (per pool of partition x model, per rack)
 *         job.c       job table, submit/finish/requeue/cancel, string interning
 *         queue.c     queue orders (FIFO, SJF, SRTF, QSSF, Tiresias, priority)
 *         predict.c   QSSF-style duration predictor from history
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

#define time(...) AIDC_BANNED(time_in_the_scheduling_core)
#define clock_gettime(...) AIDC_BANNED(clock_gettime_in_the_scheduling_core)
#define gettimeofday(...) AIDC_BANNED(gettimeofday_in_the_scheduling_core)
#define fopen(...) AIDC_BANNED(fopen_in_the_scheduling_core)
#define printf(...) AIDC_BANNED(printf_in_the_scheduling_core)
#define fprintf(...) AIDC_BANNED(fprintf_in_the_scheduling_core)

/* ---- cluster -------------------------------------------------------------- */

struct sched_model {
	char *name;   /* owned */
	char *vendor; /* owned */
	uint64_t mem_mib;
};

struct sched_device {
	uint32_t node;       /* owning node */
	uint16_t model;      /* model id */
	uint16_t group;      /* device group on the node */
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
	uint32_t ndev_free; /* devices with free_milli == 1000 */
	uint32_t gen;       /* bumped on every change of this node's free capacity */
	uint64_t model_mask; /* models present on the node */
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

/* ---- the scheduler -------------------------------------------------------- */

struct sched_partition; /* defined by the core (queues, capacity indexes) */

struct sched {
	struct sched_config cfg;
	struct sched_env env;

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
	struct sched_core *core;
};

#endif
