/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test harness for the fractional policies (src/sched/frag.c) without the rest
 * of the core: builds a struct sched by hand (models, one partition, nodes and
 * devices) and applies the allocations sched_frag_pick returns the way the
 * core does (free shares, task counts per device and per GPU-request kind,
 * CPU, memory, node->gen). Used by the unit tests and by bench/openb to
 * measure the policies' own cost apart from the core's per-job overhead.
 */
#ifndef AIDC_TESTS_OPENB_FRAG_HARNESS_H
#define AIDC_TESTS_OPENB_FRAG_HARNESS_H

#include "sched/sched_int.h"

/* A bare scheduler for frag.c: caller frees with fh_free. */
static inline struct sched *fh_new(enum sched_placement p, uint64_t seed)
{
	struct sched *s = aidc_calloc(1, sizeof *s);
	s->cfg.placement = p;
	s->cfg.seed = seed;
	return s;
}

static inline void fh_free(struct sched *s)
{
	if (!s)
		return;
	sched_frag_free(s->frag);
	aidc_free(s->nodes);
	aidc_free(s->devs);
	aidc_free(s);
}

/* Adds a node of ndev devices of one model (partition 0); returns its id. */
static inline uint32_t fh_node(struct sched *s, uint32_t cpu, uint64_t mem, uint32_t ndev,
			       uint16_t model)
{
	AIDC_GROW(s->nodes, s->cap_nodes, s->nnodes + 1);
	AIDC_GROW(s->devs, s->cap_devs, s->ndevs + ndev);
	uint32_t n = s->nnodes++;
	struct sched_node *nd = &s->nodes[n];
	memset(nd, 0, sizeof *nd);
	nd->cpu_milli = nd->cpu_free_milli = cpu;
	nd->mem_mib = nd->mem_free_mib = mem;
	nd->first_dev = s->ndevs;
	nd->ndev = nd->ndev_free = ndev;
	nd->model_mask = ndev ? 1ull << model : 0;
	for (uint32_t d = 0; d < ndev; d++)
		s->devs[s->ndevs++] = (struct sched_device){n, model, 0, AIDC_DEVICE_MILLI, 0};
	return n;
}

/* Applies one task's allocations as the core does. */
static inline void fh_apply(struct sched *s, const struct sched_req *r, const struct sched_alloc *a,
			    int n)
{
	struct sched_node *nd = &s->nodes[a[0].node];
	nd->cpu_free_milli -= r->cpu_milli;
	nd->mem_free_mib -= r->mem_mib;
	for (int i = 0; i < n; i++) {
		if (a[i].dev == SCHED_NO_DEVICE)
			continue;
		struct sched_device *dv = &s->devs[a[i].dev];
		if (dv->free_milli == AIDC_DEVICE_MILLI)
			nd->ndev_free--;
		dv->free_milli -= a[i].milli;
		dv->ntasks++;
	}
	if (r->ndev) { /* the GPU-request kind, as index.c counts it */
		uint32_t k = r->ndev == 1 && r->dev_milli > 0 && r->dev_milli < AIDC_DEVICE_MILLI
				 ? 0
				 : r->ndev;
		nd->nkinds += nd->ntasks_kind[k] == 0;
		nd->ntasks_kind[k]++;
	}
	nd->gen++;
}

/* Picks and applies; returns the node id or a negative code. */
static inline int fh_place(struct sched *s, const struct sched_req *r, struct sched_alloc *out)
{
	int n = sched_frag_pick(s, r, 0, 0, out);
	if (n < 0)
		return n;
	fh_apply(s, r, out, n);
	return (int)out[0].node;
}

#endif
