/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fractional, heterogeneous placement: the policies of the FGD paper ("Beware
 * of Fragmentation", Weng et al., USENIX ATC'23) -- Random, DotProd,
 * GpuClustering, GpuPacking, BestFit, FGD -- and our own AIDC_FRAG, plus the
 * paper's fragmentation measure. The core calls sched_frag_pick() for one task
 * at a time and applies the allocation itself; this file only reads the
 * cluster (struct sched's nodes and devices) and keeps its own caches.
 *
 * Fragmentation (the paper's definition, as in its simulator): for a node and
 * one task shape t of the workload, the fragment F_t is the node's free device
 * share that t cannot use: all of it when t cannot run there at all (CPU-only
 * shape, wrong model, too little CPU, too few devices with enough room), else
 * the free share of the devices whose room is below t's per-device need. The
 * node's fragmentation is the popularity-weighted sum over shapes; FGD places a
 * task where that sum grows least.
 *
 * Cost: a decision scans the partition's nodes once (feasibility: O(devices)).
 * FGD/AIDC need the fragmentation delta of each feasible node; it is cached per
 * (request shape, node) and recomputed only when node->gen changed, so a
 * decision recomputes about as many nodes as changed since the same shape was
 * last placed. One recompute costs O(thresholds x devices + shapes) per
 * candidate device. See docs/placement.md.
 */
#include <math.h>

#include "sched/sched_int.h"

/* Normalisation constants of the published simulator (milli-CPU, milli-GPU of
 * its largest node): BestFit, DotProd and GpuClustering scores use them. */
#define FRAG_CPU_SPEC 128000.0
#define FRAG_GPU_SPEC 8000.0
/* Per-(shape, node) cache entries kept at most (memory bound: ~17 B each). */
#define FRAG_MAX_CACHE_ENTRIES (8u << 20)
/* Request shapes cached at most; the least recently used is evicted. */
#define FRAG_MAX_SHAPES 1024u
/* Deltas closer than this are equal (sums of doubles in a different order). */
#define FRAG_EPS 1e-6

/* One shape of the workload distribution, normalised (milli 1..1000). */
struct ftype {
	uint32_t cpu;
	uint64_t mem;
	uint32_t ndev, milli;
	uint64_t mask;
	uint32_t thr; /* index of milli in sched_frag.thr (ndev > 0) */
	double w;     /* popularity, sums to 1 */
};

/* Cached fragmentation deltas of one request shape on every node. */
struct fshape {
	uint32_t cpu, ndev, milli;
	uint64_t mem, mask;
	uint64_t last_use;
	uint64_t *seen; /* per node: gen + 1 when delta/choice are valid, 0 = not */
	double *delta;
	uint8_t *choice; /* share requests: local index of the chosen device */
};

struct sched_frag {
	struct ftype *types;
	size_t ntypes;
	uint32_t *thr; /* distinct per-device needs of the shapes, ascending */
	size_t nthr;
	/* current fragmentation of each node: [0] paper's rule, [1] with memory */
	uint64_t *nseen[2];
	double *nfrag[2];
	size_t node_cap; /* length of every per-node array */
	struct fshape *shapes;
	size_t nshapes, cap_shapes;
	uint64_t clock;
	struct aidc_rng rng;
	uint32_t *rank; /* tie-break order of the nodes: a seeded random permutation */
	size_t nrank;
};

/* A node's free capacity, copied so a hypothetical placement can be applied. */
struct nview {
	uint32_t cpu;
	uint64_t mem;
	uint32_t ndev;
	bool mixed;     /* devices of more than one model */
	uint64_t mbits; /* models present */
	uint32_t free[AIDC_MAX_DEVICES_PER_NODE];
	uint16_t model[AIDC_MAX_DEVICES_PER_NODE];
};

bool sched_frag_policy(enum sched_placement p)
{
	return p >= SCHED_PLACE_RANDOM && p <= SCHED_PLACE_AIDC_FRAG;
}

static uint32_t req_milli(const struct sched_req *r)
{
	if (r->ndev == 0)
		return 0;
	return r->dev_milli == 0 ? AIDC_DEVICE_MILLI : r->dev_milli;
}

static bool req_share(const struct sched_req *r)
{
	return r->ndev == 1 && req_milli(r) < AIDC_DEVICE_MILLI;
}

static bool mask_ok(uint64_t mask, uint32_t model)
{
	return mask == 0 || (model < 64 && ((mask >> model) & 1u));
}

/* ---- life cycle and caches ----------------------------------------------- */

static void shape_release(struct fshape *sh)
{
	aidc_free(sh->seen);
	aidc_free(sh->delta);
	aidc_free(sh->choice);
	memset(sh, 0, sizeof *sh);
}

static void drop_shapes(struct sched_frag *f)
{
	for (size_t i = 0; i < f->nshapes; i++)
		shape_release(&f->shapes[i]);
	f->nshapes = 0;
}

void sched_frag_free(struct sched_frag *f)
{
	if (!f)
		return;
	drop_shapes(f);
	aidc_free(f->shapes);
	aidc_free(f->types);
	aidc_free(f->thr);
	aidc_free(f->rank);
	for (int k = 0; k < 2; k++) {
		aidc_free(f->nseen[k]);
		aidc_free(f->nfrag[k]);
	}
	aidc_free(f);
}

static struct sched_frag *frag_get(struct sched *s)
{
	if (!s->frag) {
		s->frag = aidc_calloc(1, sizeof *s->frag);
		aidc_rng_seed(&s->frag->rng, s->cfg.seed);
	}
	return s->frag;
}

/* Makes every per-node array cover s->nnodes. Growing drops the shape caches
 * (nodes are added at start-up, so this is rare). */
static void ensure_nodes(struct sched_frag *f, uint32_t nnodes)
{
	if (nnodes <= f->node_cap)
		return;
	drop_shapes(f);
	size_t cap = AIDC_MAX((size_t)nnodes, f->node_cap * 2);
	for (int k = 0; k < 2; k++) {
		f->nseen[k] = aidc_reallocarray(f->nseen[k], cap, sizeof *f->nseen[k]);
		f->nfrag[k] = aidc_reallocarray(f->nfrag[k], cap, sizeof *f->nfrag[k]);
		memset(f->nseen[k] + f->node_cap, 0, (cap - f->node_cap) * sizeof *f->nseen[k]);
	}
	f->node_cap = cap;
}

static void invalidate_all(struct sched_frag *f)
{
	drop_shapes(f);
	for (int k = 0; k < 2; k++)
		if (f->nseen[k])
			memset(f->nseen[k], 0, f->node_cap * sizeof *f->nseen[k]);
}

/* ---- workload ------------------------------------------------------------ */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int sched_set_workload(struct sched *s, const struct sched_task_type *types, size_t n,
		       struct aidc_err *e)
{
	if (n > AIDC_MAX_WORKLOAD_TYPES)
		return aidc_errf(e, AIDC_E_LIMIT, "workload has %zu task shapes (limit %u)", n,
				 AIDC_MAX_WORKLOAD_TYPES);
	if (n > 0 && !types)
		return aidc_errf(e, AIDC_E_INVAL, "workload: no shapes given");
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sched_req *r = &types[i].req;
		double w = types[i].weight;
		if (!(w > 0) || !isfinite(w))
			return aidc_errf(e, AIDC_E_INVAL, "workload shape %zu: weight must be > 0", i);
		if (r->ndev > AIDC_MAX_DEVICES_PER_NODE || r->dev_milli > AIDC_DEVICE_MILLI ||
		    (r->ndev > 1 && r->dev_milli != 0 && r->dev_milli < AIDC_DEVICE_MILLI))
			return aidc_errf(e, AIDC_E_INVAL,
					 "workload shape %zu: %u devices x %u milli is not a valid request",
					 i, r->ndev, r->dev_milli);
		sum += w;
	}
	struct sched_frag *f = frag_get(s);
	aidc_free(f->types);
	aidc_free(f->thr);
	f->types = n ? aidc_calloc(n, sizeof *f->types) : NULL;
	f->thr = n ? aidc_calloc(n, sizeof *f->thr) : NULL;
	f->ntypes = n;
	f->nthr = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sched_req *r = &types[i].req;
		struct ftype *t = &f->types[i];
		t->cpu = r->cpu_milli;
		t->mem = r->mem_mib;
		t->ndev = r->ndev;
		t->milli = req_milli(r);
		t->mask = r->model_mask;
		t->w = types[i].weight / sum;
		if (t->ndev > 0)
			f->thr[f->nthr++] = t->milli;
	}
	if (f->nthr > 1)
		qsort(f->thr, f->nthr, sizeof *f->thr, cmp_u32);
	size_t k = 0;
	for (size_t i = 0; i < f->nthr; i++)
		if (k == 0 || f->thr[k - 1] != f->thr[i])
			f->thr[k++] = f->thr[i];
	f->nthr = k;
	for (size_t i = 0; i < n; i++) {
		struct ftype *t = &f->types[i];
		if (t->ndev == 0)
			continue;
		for (uint32_t j = 0; j < f->nthr; j++)
			if (f->thr[j] == t->milli)
				t->thr = j;
	}
	invalidate_all(f);
	return 0;
}

/* ---- fragmentation of one node state ------------------------------------- */

static void view_node(const struct sched *s, const struct sched_node *nd, struct nview *v)
{
	v->cpu = nd->cpu_free_milli;
	v->mem = nd->mem_free_mib;
	v->ndev = nd->ndev;
	v->mbits = 0;
	for (uint32_t d = 0; d < nd->ndev; d++) {
		const struct sched_device *dv = &s->devs[nd->first_dev + d];
		v->free[d] = dv->free_milli;
		v->model[d] = dv->model;
		if (dv->model < 64)
			v->mbits |= 1ull << dv->model;
	}
	v->mixed = v->mbits & (v->mbits - 1);
}

/* Fragment of one shape on a node with devices of several models: only the
 * devices t accepts can serve it. O(devices). */
static double shape_frag_mixed(const struct ftype *t, const struct nview *v, uint64_t total,
			       bool fits_host)
{
	uint32_t cnt = 0;
	uint64_t usable = 0;
	for (uint32_t d = 0; d < v->ndev; d++)
		if (mask_ok(t->mask, v->model[d]) && v->free[d] >= t->milli) {
			cnt++;
			usable += v->free[d];
		}
	if (!fits_host || cnt < t->ndev)
		return (double)total;
	return (double)(total - usable);
}

/*
 * The node's fragmentation against the workload, in device milli-units.
 * with_mem also requires the shape's memory to fit (our policy); the paper's
 * rule looks at CPU only. Cost O(thresholds x devices + shapes).
 */
static double frag_eval(const struct sched_frag *f, const struct nview *v, bool with_mem)
{
	uint64_t total = 0;
	for (uint32_t d = 0; d < v->ndev; d++)
		total += v->free[d];
	if (total == 0 || f->ntypes == 0)
		return 0;
	/* cnt_ge[j], sum_ge[j]: devices with room >= thr[j] and their free share */
	uint32_t cnt_ge[64];
	uint64_t sum_ge[64];
	bool thr_fast = !v->mixed && f->nthr <= 64;
	if (thr_fast) {
		for (size_t j = 0; j < f->nthr; j++) {
			cnt_ge[j] = 0;
			sum_ge[j] = 0;
		}
		for (uint32_t d = 0; d < v->ndev; d++) {
			uint32_t x = v->free[d];
			for (size_t j = 0; j < f->nthr && f->thr[j] <= x; j++) {
				cnt_ge[j]++;
				sum_ge[j] += x;
			}
		}
	}
	double frag = 0;
	for (size_t i = 0; i < f->ntypes; i++) {
		const struct ftype *t = &f->types[i];
		double fr;
		bool host = v->cpu >= t->cpu && (!with_mem || v->mem >= t->mem);
		if (t->ndev == 0)
			fr = (double)total; /* a CPU-only shape uses no device share */
		else if (!thr_fast)
			fr = shape_frag_mixed(t, v, total, host);
		else if (t->mask && !(t->mask & v->mbits))
			fr = (double)total;
		else if (!host || cnt_ge[t->thr] < t->ndev)
			fr = (double)total;
		else
			fr = (double)(total - sum_ge[t->thr]);
		frag += t->w * fr;
	}
	return frag;
}

/* Current fragmentation of node n, cached by node->gen. */
static double node_frag(const struct sched *s, struct sched_frag *f, uint32_t n, int k)
{
	const struct sched_node *nd = &s->nodes[n];
	if (f->node_cap > n && f->nseen[k][n] == (uint64_t)nd->gen + 1)
		return f->nfrag[k][n];
	struct nview v;
	view_node(s, nd, &v);
	double x = frag_eval(f, &v, k == 1);
	if (f->node_cap > n) {
		f->nseen[k][n] = (uint64_t)nd->gen + 1;
		f->nfrag[k][n] = x;
	}
	return x;
}

double sched_fragmentation(const struct sched *s, uint32_t part)
{
	struct sched_frag *f = s->frag; /* the caches may change: they are not the cluster */
	if (!f || f->ntypes == 0)
		return 0;
	double sum = 0;
	for (uint32_t n = 0; n < s->nnodes; n++) {
		const struct sched_node *nd = &s->nodes[n];
		if (nd->state == SCHED_NODE_DOWN || (part != UINT32_MAX && nd->partition != part))
			continue;
		sum += node_frag(s, f, n, 0);
	}
	return sum;
}

/* ---- feasibility ----------------------------------------------------------- */

/* Can the request run on node n now? Whole-device requests need devices with
 * nothing allocated (they never share); shares need room on one device. */
static bool feasible(const struct sched *s, const struct sched_node *nd, uint32_t part,
		     const struct sched_req *r)
{
	if (nd->state != SCHED_NODE_UP || nd->partition != part || !sched_node_open(nd, r))
		return false;
	if (nd->cpu_free_milli < r->cpu_milli || nd->mem_free_mib < r->mem_mib)
		return false;
	if (r->ndev == 0)
		return true;
	if (r->model_mask && !(r->model_mask & nd->model_mask))
		return false;
	uint32_t milli = req_milli(r), cnt = 0;
	if (milli >= AIDC_DEVICE_MILLI && nd->ndev_free < r->ndev)
		return false;
	for (uint32_t d = 0; d < nd->ndev && cnt < r->ndev; d++) {
		const struct sched_device *dv = &s->devs[nd->first_dev + d];
		if (mask_ok(r->model_mask, dv->model) && dv->free_milli >= milli)
			cnt++;
	}
	return cnt >= r->ndev;
}

static uint64_t node_gpu_free(const struct sched *s, const struct sched_node *nd)
{
	uint64_t x = 0;
	for (uint32_t d = 0; d < nd->ndev; d++)
		x += s->devs[nd->first_dev + d].free_milli;
	return x;
}

/* ---- device choice within the chosen node ---------------------------------- */

/* Whole devices: the lowest-indexed idle devices the model mask accepts (all
 * idle devices are alike for every policy's score). */
static int take_whole(const struct sched *s, uint32_t n, const struct sched_req *r,
		      uint32_t task, struct sched_alloc *out)
{
	const struct sched_node *nd = &s->nodes[n];
	uint32_t k = 0;
	for (uint32_t d = 0; d < nd->ndev && k < r->ndev; d++) {
		const struct sched_device *dv = &s->devs[nd->first_dev + d];
		if (mask_ok(r->model_mask, dv->model) && dv->free_milli == AIDC_DEVICE_MILLI &&
		    dv->ntasks == 0)
			out[k++] = (struct sched_alloc){task, n, nd->first_dev + d, AIDC_DEVICE_MILLI};
	}
	return k == r->ndev ? (int)k : AIDC_E_NOFIT;
}

/* Share: the fitting device with the least room (best fit), lowest index on ties. */
static int share_tightest(const struct sched *s, uint32_t n, const struct sched_req *r)
{
	const struct sched_node *nd = &s->nodes[n];
	int best = -1;
	uint32_t milli = req_milli(r), bf = 0;
	for (uint32_t d = 0; d < nd->ndev; d++) {
		const struct sched_device *dv = &s->devs[nd->first_dev + d];
		if (!mask_ok(r->model_mask, dv->model) || dv->free_milli < milli)
			continue;
		if (best < 0 || dv->free_milli < bf) {
			best = (int)d;
			bf = dv->free_milli;
		}
	}
	return best;
}

/* Share: a uniformly random fitting device (the Random policy). */
static int share_any(struct sched *s, struct sched_frag *f, uint32_t n, const struct sched_req *r)
{
	const struct sched_node *nd = &s->nodes[n];
	uint32_t milli = req_milli(r), seen = 0;
	int pick = -1;
	for (uint32_t d = 0; d < nd->ndev; d++) {
		const struct sched_device *dv = &s->devs[nd->first_dev + d];
		if (!mask_ok(r->model_mask, dv->model) || dv->free_milli < milli)
			continue;
		if (aidc_rng_below(&f->rng, ++seen) == 0)
			pick = (int)d;
	}
	return pick;
}

/* ---- the fragmentation delta of placing r on node n (FGD, AIDC_FRAG) -------- */

/* FGD's published node score: 100 x sigmoid(-delta / 1000), truncated. */
static int64_t fgd_score(double delta)
{
	return (int64_t)(100.0 / (1.0 + exp(delta / 1000.0)));
}

/*
 * Computes the fragmentation increase of placing r on node n and, for shares,
 * the device to use. FGD (quantized) keeps the lowest-indexed device among
 * those with the best quantized score, as the published plugin does; AIDC_FRAG
 * takes the exact minimum, then the device with the least room.
 */
static void delta_compute(const struct sched *s, struct sched_frag *f, uint32_t n,
			  const struct sched_req *r, bool aidc, double *delta, uint8_t *choice)
{
	int k = aidc ? 1 : 0;
	const struct sched_node *nd = &s->nodes[n];
	double before = node_frag(s, f, n, k);
	struct nview v;
	view_node(s, nd, &v);
	v.cpu -= r->cpu_milli;
	v.mem -= r->mem_mib;
	*choice = 0;
	if (r->ndev == 0) {
		*delta = frag_eval(f, &v, aidc) - before;
		return;
	}
	uint32_t milli = req_milli(r);
	if (!req_share(r)) {
		uint32_t taken = 0;
		for (uint32_t d = 0; d < v.ndev && taken < r->ndev; d++)
			if (mask_ok(r->model_mask, v.model[d]) && v.free[d] == AIDC_DEVICE_MILLI &&
			    s->devs[nd->first_dev + d].ntasks == 0) {
				v.free[d] = 0;
				taken++;
			}
		*delta = frag_eval(f, &v, aidc) - before;
		return;
	}
	double best = INFINITY;
	int64_t bestq = INT64_MIN;
	uint32_t bestfree = 0;
	for (uint32_t d = 0; d < v.ndev; d++) {
		uint32_t x = v.free[d];
		if (!mask_ok(r->model_mask, v.model[d]) || x < milli)
			continue;
		bool dup = false; /* same room and model as an earlier device: same result */
		for (uint32_t e = 0; e < d && !dup; e++)
			dup = v.free[e] == x && v.model[e] == v.model[d];
		if (dup)
			continue;
		v.free[d] = x - milli;
		double dl = frag_eval(f, &v, aidc) - before;
		v.free[d] = x;
		if (aidc) {
			if (dl < best - FRAG_EPS || (dl <= best + FRAG_EPS && x < bestfree)) {
				best = dl;
				bestfree = x;
				*choice = (uint8_t)d;
			}
		} else {
			int64_t q = fgd_score(dl);
			if (q > bestq) {
				bestq = q;
				best = dl;
				*choice = (uint8_t)d;
			} else if (q == bestq && dl < best) {
				best = dl; /* node score is the quantized max; keep the first device */
			}
		}
	}
	*delta = best;
}

static struct fshape *shape_find(struct sched_frag *f, const struct sched_req *r, uint32_t nnodes)
{
	uint32_t milli = req_milli(r);
	f->clock++;
	for (size_t i = 0; i < f->nshapes; i++) {
		struct fshape *sh = &f->shapes[i];
		if (sh->cpu == r->cpu_milli && sh->mem == r->mem_mib && sh->ndev == r->ndev &&
		    sh->milli == milli && sh->mask == r->model_mask) {
			sh->last_use = f->clock;
			return sh;
		}
	}
	size_t max_shapes = AIDC_MIN((size_t)FRAG_MAX_SHAPES,
				     FRAG_MAX_CACHE_ENTRIES / AIDC_MAX((size_t)nnodes, 1));
	if (max_shapes == 0)
		return NULL;
	struct fshape *sh;
	if (f->nshapes < max_shapes) {
		AIDC_GROW(f->shapes, f->cap_shapes, f->nshapes + 1);
		sh = &f->shapes[f->nshapes++];
		memset(sh, 0, sizeof *sh);
		sh->seen = aidc_calloc(f->node_cap, sizeof *sh->seen);
		sh->delta = aidc_calloc(f->node_cap, sizeof *sh->delta);
		sh->choice = aidc_calloc(f->node_cap, sizeof *sh->choice);
	} else {
		sh = &f->shapes[0]; /* evict the least recently used */
		for (size_t i = 1; i < f->nshapes; i++)
			if (f->shapes[i].last_use < sh->last_use)
				sh = &f->shapes[i];
		memset(sh->seen, 0, f->node_cap * sizeof *sh->seen);
	}
	sh->cpu = r->cpu_milli;
	sh->mem = r->mem_mib;
	sh->ndev = r->ndev;
	sh->milli = milli;
	sh->mask = r->model_mask;
	sh->last_use = f->clock;
	return sh;
}

static void delta_cached(const struct sched *s, struct sched_frag *f, struct fshape *sh,
			 uint32_t n, const struct sched_req *r, bool aidc, double *delta,
			 uint8_t *choice)
{
	uint64_t g = (uint64_t)s->nodes[n].gen + 1;
	if (sh && sh->seen[n] == g) {
		*delta = sh->delta[n];
		*choice = sh->choice[n];
		return;
	}
	delta_compute(s, f, n, r, aidc, delta, choice);
	if (sh) {
		sh->seen[n] = g;
		sh->delta[n] = *delta;
		sh->choice[n] = *choice;
	}
}

/* ---- the baselines' node scores (higher is better) ------------------------- */

/* GpuPacking: shared devices first, then idle devices of busy nodes, then idle nodes. */
static int64_t packing_score(const struct sched *s, const struct sched_node *nd,
			     const struct sched_req *r, int share_dev)
{
	int64_t full = nd->ndev_free;
	if (nd->ndev_free == nd->ndev)
		return AIDC_MAX(33 - full, full);
	if (!req_share(r))
		return AIDC_MAX(50 - (int64_t)r->ndev, 33);
	uint32_t x = s->devs[nd->first_dev + (uint32_t)share_dev].free_milli;
	if (x == AIDC_DEVICE_MILLI)
		return AIDC_MAX(50 - 1, 33);
	return AIDC_MAX(100 - (int64_t)(x * 100 / AIDC_DEVICE_MILLI) / 10, 50);
}

/*
 * GpuClustering: nodes already running tasks of the same GPU-request kind
 * first. The kinds are the published plugin's: a share of one device, or k
 * whole devices for each k (a 1-GPU and a 2-GPU task are different kinds).
 * The core counts the placed tasks per kind on each node (node->ntasks_kind,
 * kept by index.c), so the score is O(1) plus the node's free GPU sum.
 * r requests at least one device.
 */
static int64_t clustering_score(const struct sched *s, const struct sched_node *nd,
				const struct sched_req *r)
{
	uint32_t kind = req_share(r) ? 0 : r->ndev;
	int64_t left = (int64_t)node_gpu_free(s, nd);
	int64_t base = 25 * ((int64_t)FRAG_GPU_SPEC - left) / (int64_t)FRAG_GPU_SPEC;
	if (nd->ntasks_kind[kind] > 0)
		return base + (nd->nkinds == 1 ? 75 : 50);
	return base + (nd->nkinds == 0 ? 25 : 0);
}

static int64_t bestfit_score(const struct sched *s, const struct sched_node *nd,
			     const struct sched_req *r)
{
	double gpu_req = (double)r->ndev * req_milli(r);
	double x = 0.5 * ((double)nd->cpu_free_milli - r->cpu_milli) / FRAG_CPU_SPEC +
		   0.5 * ((double)node_gpu_free(s, nd) - gpu_req) / FRAG_GPU_SPEC;
	return (int64_t)((1.0 - x) * 100.0);
}

static int64_t dotprod_score(const struct sched *s, const struct sched_node *nd,
			     const struct sched_req *r)
{
	double gpu_req = (double)r->ndev * req_milli(r);
	double dot = ((double)nd->cpu_free_milli / FRAG_CPU_SPEC) * (r->cpu_milli / FRAG_CPU_SPEC) +
		     ((double)node_gpu_free(s, nd) / FRAG_GPU_SPEC) * (gpu_req / FRAG_GPU_SPEC);
	return (int64_t)(100.0 * (1.0 - dot / 2.0));
}

/* ---- the pick ------------------------------------------------------------- */

/*
 * Best candidate so far. Every policy scores nodes with integers, as the
 * published simulator does; Random breaks ties uniformly at random, the others
 * take the node that comes first in a seeded random permutation. That is what
 * the published simulator does in effect (it renames nodes with a random
 * prefix, sorts them by name and keeps the first best node), and it matters:
 * a fixed order packs tasks onto the same nodes while random ties spread them
 * (FGD loses about 5 points of allocation with random ties; docs/placement.md).
 */
struct pick {
	int64_t node;
	int64_t q;
	uint8_t choice;
	uint64_t ties;
};

static void consider(struct sched_frag *f, bool random_ties, struct pick *p, uint32_t n,
		     int64_t q, uint8_t ch)
{
	bool take;
	if (p->node < 0 || q > p->q) {
		take = true;
		p->ties = 1;
	} else if (q < p->q) {
		take = false;
	} else if (random_ties) {
		take = aidc_rng_below(&f->rng, ++p->ties) == 0;
	} else {
		take = f->rank[n] < f->rank[p->node];
	}
	if (take) {
		p->node = n;
		p->q = q;
		p->choice = ch;
	}
}

/* (Re)draws the tie-break permutation when the node count changed. */
static void ensure_rank(struct sched_frag *f, uint32_t nnodes)
{
	if (f->nrank == nnodes)
		return;
	f->rank = aidc_reallocarray(f->rank, nnodes, sizeof *f->rank);
	for (uint32_t i = 0; i < nnodes; i++)
		f->rank[i] = i;
	for (uint32_t i = nnodes; i > 1; i--) {
		uint32_t j = (uint32_t)aidc_rng_below(&f->rng, i), t = f->rank[i - 1];
		f->rank[i - 1] = f->rank[j];
		f->rank[j] = t;
	}
	f->nrank = nnodes;
}

int sched_frag_pick(struct sched *s, const struct sched_req *req, uint32_t part, uint32_t task,
		    struct sched_alloc *out)
{
	struct sched_frag *f = frag_get(s);
	enum sched_placement pol = s->cfg.placement;
	if (!sched_frag_policy(pol) || req->ndev > AIDC_MAX_DEVICES_PER_NODE)
		return AIDC_E_NOFIT;
	ensure_nodes(f, s->nnodes);
	ensure_rank(f, s->nnodes);
	bool fragp = pol == SCHED_PLACE_FGD || pol == SCHED_PLACE_AIDC_FRAG;
	bool aidc = pol == SCHED_PLACE_AIDC_FRAG, rnd = pol == SCHED_PLACE_RANDOM;
	struct fshape *sh = fragp ? shape_find(f, req, s->nnodes) : NULL;
	struct pick p = {.node = -1};
	for (uint32_t n = 0; n < s->nnodes; n++) {
		const struct sched_node *nd = &s->nodes[n];
		if (!feasible(s, nd, part, req) || !sched_node_allowed(s, n))
			continue;
		int64_t q = 0;
		uint8_t ch = 0;
		switch (pol) {
		case SCHED_PLACE_DOTPROD:
			q = dotprod_score(s, nd, req);
			break;
		case SCHED_PLACE_GPU_CLUSTERING:
			q = req->ndev ? clustering_score(s, nd, req) : 0;
			break;
		case SCHED_PLACE_GPU_PACKING:
			if (req->ndev)
				q = packing_score(s, nd, req,
						  req_share(req) ? share_tightest(s, n, req) : 0);
			break;
		case SCHED_PLACE_BESTFIT:
			q = bestfit_score(s, nd, req);
			break;
		case SCHED_PLACE_FGD:
		case SCHED_PLACE_AIDC_FRAG: {
			double delta;
			delta_cached(s, f, sh, n, req, aidc, &delta, &ch);
			q = fgd_score(delta);
			break;
		}
		default: /* SCHED_PLACE_RANDOM: every feasible node alike */
			break;
		}
		consider(f, rnd, &p, n, q, ch);
	}
	if (p.node < 0)
		return AIDC_E_NOFIT;
	uint32_t n = (uint32_t)p.node;
	const struct sched_node *nd = &s->nodes[n];
	if (req->ndev == 0) {
		out[0] = (struct sched_alloc){task, n, SCHED_NO_DEVICE, 0};
		return 1;
	}
	if (!req_share(req))
		return take_whole(s, n, req, task, out);
	int d;
	if (fragp)
		d = p.choice;
	else if (rnd)
		d = share_any(s, f, n, req);
	else
		d = share_tightest(s, n, req);
	if (d < 0)
		return AIDC_E_NOFIT;
	out[0] = (struct sched_alloc){task, n, nd->first_dev + (uint32_t)d, req_milli(req)};
	return 1;
}
