/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Placement: where a job's tasks go, and sched_place, the one placement entry
 * point with its three modes (run now / test only / will run).
 *
 * Whole-device gangs (ndev >= 1, full devices) are planned per pool (one
 * device model for the whole gang) from the bucket index of index.c, then
 * devices are picked node by node. Among acceptable models the plan with the
 * fewest nodes wins, then the one leaving the fewest free devices on the nodes
 * it uses, then the lowest model id; with cfg.hetero the model the job
 * prefers by the speed table comes first (hetero.c). Policies:
 *   CONSOLIDATE  one node if any can hold the gang (best fit: fewest free
 *                devices, then lowest node id); else nodes with the most free
 *                devices first (lowest id first within a bucket) and the last
 *                node replaced by the best-fit node for the remainder.
 *   HELIOS       gang of <= the pool's largest node: the fullest node that fits
 *                (ties: lowest id), never split; larger: whole EMPTY nodes in
 *                ascending id, each filled, plus the fullest node that fits the
 *                remainder; otherwise it does not fit. Tasks are the unit, so a
 *                G-device job submitted as G tasks of 1 device or as 1 task of G
 *                devices gets the same nodes.
 *   TOPOLOGY     smallest domain that fits: one device group (NVLink island) of
 *                one node, else one node (best fit), else one rack (the rack
 *                with the fewest free devices that still holds the gang; at most
 *                8 racks tried), else the partition (as CONSOLIDATE).
 *   SPREAD       nodes with the most free devices first, one task per node,
 *                more per node only when nodes run out.
 * Fractional tasks (share < 1000) under these policies take the partly used
 * device with the least free share that fits (ties: lowest device index), else
 * one wholly free device on the fullest node (with cfg.hetero among the models
 * of the highest key first, then the next); CPU-only tasks take the node
 * with the least free CPU that fits (SPREAD: the most). Fractional policies
 * (sched_frag_policy) place every task through sched_frag_pick (frag.c).
 * A gang is all or nothing: tasks are taken one by one and rolled back on
 * failure.
 * Node constraints (sched.h; whole-device and CPU-only gangs under the four
 * policies above): tasks_per_node caps every node's capacity in the plans;
 * nodes replaces the plan by exactly that many nodes, tasks spread evenly,
 * the nodes for the larger share chosen first (SPREAD: most free devices,
 * the others best fit; TOPOLOGY tries a device group and racks first).
 * CPU-only constrained gangs are planned from one sorted scan of the
 * partition's nodes (place_cpu_nodes).
 * Exclusive jobs (sched_req.exclusive, Slurm --exclusive): sched_node_fit and
 * node_has_room (and frag.c's feasibility) treat a node holding an exclusive
 * job's task as full for every job, and a node holding any task as full for
 * an exclusive job; an exclusive CPU-only gang is planned as a constrained one
 * (place_cpu_nodes), so its own tasks may share its nodes. O(1) per node seen.
 * Node filters (sched_job_spec include/exclude, Slurm -w/-x): sched_place_take
 * sets s->place_filter for the job it places, and sched_node_fit, node_has_room
 * and frag.c's pick skip the nodes it does not admit (O(log k) per node seen);
 * never-fits counts the admitted nodes one by one (never_fits_filtered).
 *
 * Costs (N = nodes in the pool, W = N/64 bitset words, M = devices per node):
 * best-fit single node O(M + W) plus the nodes rejected for CPU/memory;
 * multi-node plans O(M + W + nodes used); SPREAD O(M + W + ntasks);
 * TOPOLOGY's rack step O(racks + N) per rack tried; picking devices O(M) per
 * task; fractional and CPU-only tasks O(nodes with partial devices x M) and
 * O(nodes in the partition) per task. WILL_RUN: O(R + k log R) to release the
 * first k of the R running jobs of the partition in end order (a heap, not a
 * sort of all R) plus one placement attempt per distinct end
 * time once enough devices are free. The nodes constraint: O(M + W + nodes
 * visited); constrained CPU-only gangs O(P log P) for the P nodes of the
 * partition. Never-fits (a job larger than its
 * partition will ever offer, checked node by node over classes of identical
 * nodes): O(node classes).
 */
#include "sched/sched_int.h"

struct pctx {
	struct sched *s;
	const struct sched_pool *p;
	const struct sched_req *req;
	uint32_t ntasks;
	uint32_t rack; /* UINT32_MAX = any */
	uint32_t n;    /* entries in s->plan */
	uint32_t cap;  /* at most this many tasks per node (the job's per_node); 0 = any */
};

static uint32_t loc_node(const struct pctx *c, uint32_t local)
{
	return c->s->slots[c->p->slot_of[local]].node;
}

static uint32_t loc_free(const struct pctx *c, uint32_t local)
{
	return c->s->slots[c->p->slot_of[local]].nfree;
}

static uint32_t loc_fit(const struct pctx *c, uint32_t local)
{
	uint32_t k = sched_node_fit(c->s, loc_node(c, local), loc_free(c, local), c->req);
	return c->cap && k > c->cap ? c->cap : k;
}

static bool loc_skip(const struct pctx *c, uint32_t local)
{
	uint32_t node = loc_node(c, local);
	return c->s->mark[node] == c->s->mark_stamp ||
	       (c->rack != UINT32_MAX && c->s->nodes[node].rack != c->rack);
}

static void plan_push(struct pctx *c, uint32_t local, uint32_t k)
{
	struct sched *s = c->s;

	AIDC_GROW(s->plan, s->cap_plan, (size_t)c->n + 1);
	s->plan[c->n].node = loc_node(c, local);
	s->plan[c->n].ntasks = k;
	c->n++;
}

static void new_stamp(struct sched *s)
{
	if (++s->mark_stamp == 0) {
		memset(s->mark, 0, s->nnodes * sizeof *s->mark);
		s->mark_stamp = 1;
	}
}

/* Best fit for k tasks on one node: fewest free devices, then lowest id.
 * Skips marked nodes (and other racks). Pool-local index or -1. */
static int64_t best_single(const struct pctx *c, uint32_t k)
{
	uint64_t need = (uint64_t)k * c->req->ndev;

	if (c->cap && k > c->cap)
		return -1;
	for (uint64_t b = need; b <= c->p->maxdev; b++) {
		const uint64_t *bits;
		if (!c->p->bcount[b])
			continue;
		bits = sched_pool_bucket(c->p, (uint32_t)b);
		for (int64_t l = sched_pool_next(c->p, bits, 0); l >= 0;
		     l = sched_pool_next(c->p, bits, (uint32_t)l + 1))
			if (!loc_skip(c, (uint32_t)l) && loc_fit(c, (uint32_t)l) >= k)
				return l;
	}
	return -1;
}

static int plan_consolidate(struct pctx *c)
{
	struct sched *s = c->s;
	uint32_t acc = 0, last = 0, lastk = 0;
	int64_t l = best_single(c, c->ntasks);

	if (l >= 0) {
		plan_push(c, (uint32_t)l, c->ntasks);
		return 0;
	}
	for (uint32_t b = c->p->maxdev; b >= c->req->ndev && acc < c->ntasks; b--) {
		const uint64_t *bits = sched_pool_bucket(c->p, b);
		if (!c->p->bcount[b])
			continue;
		for (l = sched_pool_next(c->p, bits, 0); l >= 0 && acc < c->ntasks;
		     l = sched_pool_next(c->p, bits, (uint32_t)l + 1)) {
			uint32_t k;
			if (loc_skip(c, (uint32_t)l))
				continue;
			k = AIDC_MIN(loc_fit(c, (uint32_t)l), c->ntasks - acc);
			if (!k)
				continue;
			plan_push(c, (uint32_t)l, k);
			s->mark[loc_node(c, (uint32_t)l)] = s->mark_stamp;
			acc += k;
			last = (uint32_t)l;
			lastk = k;
		}
		if (b == 0)
			break;
	}
	if (acc < c->ntasks)
		return AIDC_E_NOFIT;
	/* The remainder goes to the best-fit node among those not used before it. */
	s->mark[loc_node(c, last)] = 0;
	l = best_single(c, lastk);
	if (l >= 0) {
		c->n--;
		plan_push(c, (uint32_t)l, lastk);
	}
	return 0;
}

static int plan_helios(struct pctx *c)
{
	struct sched *s = c->s;
	uint32_t left = c->ntasks;
	int64_t l;

	if ((uint64_t)c->ntasks * c->req->ndev <= c->p->maxdev &&
	    (!c->cap || c->ntasks <= c->cap)) {
		l = best_single(c, c->ntasks);
		if (l < 0)
			return AIDC_E_NOFIT;
		plan_push(c, (uint32_t)l, c->ntasks);
		return 0;
	}
	for (l = sched_pool_next(c->p, c->p->empty, 0); l >= 0 && left;
	     l = sched_pool_next(c->p, c->p->empty, (uint32_t)l + 1)) {
		uint32_t k = loc_fit(c, (uint32_t)l);
		if (!k || k > left)
			continue; /* a node the job would not fill is for the remainder */
		plan_push(c, (uint32_t)l, k);
		s->mark[loc_node(c, (uint32_t)l)] = s->mark_stamp;
		left -= k;
	}
	if (left) {
		l = best_single(c, left);
		if (l < 0)
			return AIDC_E_NOFIT;
		plan_push(c, (uint32_t)l, left);
	}
	return 0;
}

/* Spreads ntasks over the candidates s->plan[0 .. n), whose ntasks hold their
 * capacity on entry, round robin: the smallest r with sum(min(cap, r)) >=
 * ntasks; everyone gets min(cap, r - 1), the rest one more each in candidate
 * order. The caller checked that the capacities add up. Returns the entries
 * left (those given tasks, in order). */
static uint32_t spread_share(struct sched *s, uint32_t n, uint32_t ntasks)
{
	uint64_t left = ntasks;
	uint32_t r, w = 0;

	for (r = 1;; r++) {
		uint64_t sum = 0;
		for (uint32_t i = 0; i < n; i++)
			sum += AIDC_MIN(s->plan[i].ntasks, r);
		if (sum >= ntasks)
			break;
	}
	for (uint32_t i = 0; i < n; i++)
		left -= AIDC_MIN(s->plan[i].ntasks, r - 1);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t cap = s->plan[i].ntasks;
		s->plan[i].ntasks = AIDC_MIN(cap, r - 1);
		if (left && cap >= r) {
			s->plan[i].ntasks++;
			left--;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		if (s->plan[i].ntasks)
			s->plan[w++] = s->plan[i];
	return w;
}

static int plan_spread(struct pctx *c)
{
	struct sched *s = c->s;
	uint64_t acc = 0;

	/* Candidates, most free devices first, until there is one per task. */
	for (uint32_t b = c->p->maxdev; b >= c->req->ndev && c->n < c->ntasks; b--) {
		const uint64_t *bits = sched_pool_bucket(c->p, b);
		for (int64_t l = sched_pool_next(c->p, bits, 0); l >= 0 && c->n < c->ntasks;
		     l = sched_pool_next(c->p, bits, (uint32_t)l + 1)) {
			uint32_t k = loc_fit(c, (uint32_t)l);
			if (!k)
				continue;
			plan_push(c, (uint32_t)l, k); /* ntasks holds the capacity for now */
			acc += k;
		}
		if (b == 0)
			break;
	}
	if (acc < c->ntasks)
		return AIDC_E_NOFIT;
	c->n = spread_share(s, c->n, c->ntasks);
	return 0;
}

/* Most wholly free devices of the pool's model in one device group of node. */
static uint32_t group_free_max(const struct sched *s, uint32_t node, uint32_t model)
{
	uint32_t cnt[AIDC_MAX_GROUPS_PER_NODE] = {0}, best = 0;
	const struct sched_node *n = &s->nodes[node];

	for (uint32_t i = 0; i < n->ndev; i++) {
		const struct sched_device *d = &s->devs[n->first_dev + i];
		if (d->model == model && d->free_milli == AIDC_DEVICE_MILLI)
			best = AIDC_MAX(best, ++cnt[d->group]);
	}
	return best;
}

/* One device group of one node that holds the whole gang (best fit by the
 * node's free devices, then lowest id): pool-local index or -1. */
static int64_t topo_group(const struct pctx *c)
{
	uint64_t need = (uint64_t)c->ntasks * c->req->ndev;

	if (c->cap && c->ntasks > c->cap)
		return -1;
	for (uint64_t b = need; b <= c->p->maxdev; b++) {
		const uint64_t *bits = sched_pool_bucket(c->p, (uint32_t)b);
		for (int64_t l = sched_pool_next(c->p, bits, 0); l >= 0;
		     l = sched_pool_next(c->p, bits, (uint32_t)l + 1))
			if (loc_fit(c, (uint32_t)l) >= c->ntasks &&
			    group_free_max(c->s, loc_node(c, (uint32_t)l), c->p->model) >= need)
				return l;
	}
	return -1;
}

/* Exactly nnodes nodes, tasks spread evenly (the job's nnodes constraint).
 * Each node a plan step takes is marked. */
static uint32_t pick_nodes(struct pctx *c, uint32_t k, uint32_t want, bool most)
{
	struct sched *s = c->s;
	uint32_t got = 0, lo = k * c->req->ndev, b = most ? c->p->maxdev : lo;

	if (!want || lo > c->p->maxdev)
		return 0;
	for (;;) {
		const uint64_t *bits = sched_pool_bucket(c->p, b);
		if (c->p->bcount[b]) {
			for (int64_t l = sched_pool_next(c->p, bits, 0); l >= 0;
			     l = sched_pool_next(c->p, bits, (uint32_t)l + 1)) {
				if (loc_skip(c, (uint32_t)l) || loc_fit(c, (uint32_t)l) < k)
					continue;
				plan_push(c, (uint32_t)l, k);
				s->mark[loc_node(c, (uint32_t)l)] = s->mark_stamp;
				if (++got == want)
					return got;
			}
		}
		if (most ? b == lo : b == c->p->maxdev)
			return got;
		b = most ? b - 1 : b + 1;
	}
}

/* The first ntasks % nnodes nodes take one task more. SPREAD takes the nodes
 * with the most free devices, the other policies the fewest (best fit); lowest
 * id first within a bucket. Nodes that can hold the larger share are taken
 * first, so it finds a plan whenever one exists. O(M + W + nodes visited). */
static int plan_nodes(struct pctx *c, uint32_t nnodes)
{
	uint32_t base = c->ntasks / nnodes, extra = c->ntasks % nnodes;
	bool most = c->s->cfg.placement == SCHED_PLACE_SPREAD;

	if (pick_nodes(c, base + 1, extra, most) < extra ||
	    pick_nodes(c, base, nnodes - extra, most) < nnodes - extra)
		return AIDC_E_NOFIT;
	return 0;
}

/* Plans the gang inside racks, the rack with the fewest free devices that
 * still holds it first (at most 8 racks tried), then in the whole partition;
 * nnodes == 0: as CONSOLIDATE, else with exactly nnodes nodes. */
static int plan_racks(struct pctx *c, uint32_t nnodes)
{
	struct sched *s = c->s;
	uint64_t need = (uint64_t)c->ntasks * c->req->ndev;
	uint64_t prev_free = 0;
	uint32_t prev_id = 0;

	for (int tries = 0; tries < 8; tries++) {
		int64_t pick = -1;
		for (uint32_t r = 0; r < c->p->nracks; r++) {
			uint64_t f = c->p->rack_free[r];
			uint32_t id = c->p->rack_id[r];
			if (f < need ||
			    (tries && (f < prev_free || (f == prev_free && id <= prev_id))))
				continue;
			if (pick < 0 || f < c->p->rack_free[pick])
				pick = r; /* racks are sorted by id: first of equal free wins */
		}
		if (pick < 0)
			break;
		prev_free = c->p->rack_free[pick];
		prev_id = c->p->rack_id[pick];
		c->rack = prev_id;
		c->n = 0;
		new_stamp(s);
		if ((nnodes ? plan_nodes(c, nnodes) : plan_consolidate(c)) == 0)
			return 0;
	}
	c->rack = UINT32_MAX;
	c->n = 0;
	new_stamp(s);
	return nnodes ? plan_nodes(c, nnodes) : plan_consolidate(c);
}

static int plan_topology(struct pctx *c, uint32_t nnodes)
{
	int64_t l = nnodes > 1 ? -1 : topo_group(c);

	if (l >= 0) {
		plan_push(c, (uint32_t)l, c->ntasks);
		return 0;
	}
	if (nnodes == 1)
		return plan_nodes(c, 1);
	l = nnodes ? -1 : best_single(c, c->ntasks);
	if (l >= 0) {
		plan_push(c, (uint32_t)l, c->ntasks);
		return 0;
	}
	return plan_racks(c, nnodes);
}

/* Lowest-index wholly free devices of model on node for one task of nd
 * devices, from the device group with the fewest that still holds them. */
static uint32_t pick_devices(const struct sched *s, uint32_t node, uint32_t model, uint32_t nd,
			     uint32_t task, struct sched_alloc *out)
{
	uint32_t cnt[AIDC_MAX_GROUPS_PER_NODE] = {0};
	const struct sched_node *n = &s->nodes[node];
	int group = -1;
	uint32_t got = 0;

	for (uint32_t i = 0; i < n->ndev; i++) {
		const struct sched_device *d = &s->devs[n->first_dev + i];
		if (d->model == model && d->free_milli == AIDC_DEVICE_MILLI)
			cnt[d->group]++;
	}
	for (int g = 0; g < (int)AIDC_MAX_GROUPS_PER_NODE; g++)
		if (cnt[g] >= nd && (group < 0 || cnt[g] < cnt[group]))
			group = g;
	for (int pass = 0; pass < 2 && got < nd; pass++) {
		for (uint32_t i = 0; i < n->ndev && got < nd; i++) {
			const struct sched_device *d = &s->devs[n->first_dev + i];
			bool taken = false;
			if (d->model != model || d->free_milli != AIDC_DEVICE_MILLI)
				continue;
			if (pass == 0 && group >= 0 && d->group != group)
				continue;
			for (uint32_t k = 0; k < got; k++)
				taken |= out[k].dev == n->first_dev + i;
			if (taken)
				continue;
			out[got].task = task;
			out[got].node = node;
			out[got].dev = n->first_dev + i;
			out[got].milli = AIDC_DEVICE_MILLI;
			got++;
		}
	}
	return got;
}

/* Plans a whole-device gang in the best pool; the plan ends in s->plan2. */
static int plan_whole(struct sched *s, const struct sched_job *j, uint32_t *nplan, uint32_t *model)
{
	const struct sched_partition *pa = &s->parts[j->part];
	uint64_t mask = j->task.model_mask ? j->task.model_mask : sched_all_models(s);
	uint64_t need = (uint64_t)j->ntasks * j->task.ndev;
	uint32_t best_n = 0;
	uint64_t best_left = 0, best_key = 0; /* key: hetero.c (0 = off) */
	bool found = false;

	while (mask) {
		uint32_t m = (uint32_t)__builtin_ctzll(mask);
		struct pctx c = {s, NULL, &j->task, j->ntasks, UINT32_MAX, 0, j->per_node};
		uint64_t left = 0, key;
		int rc;

		mask &= mask - 1;
		if (pa->pool_of[m] == UINT32_MAX)
			continue;
		c.p = &s->pools[pa->pool_of[m]];
		if (c.p->free_devs < need || c.p->maxdev < j->task.ndev)
			continue;
		key = sched_hetero_key(s, j, c.p);
		if (found && key < best_key)
			continue; /* a model the job prefers less: no plan needed */
		new_stamp(s);
		switch (j->nnodes && s->cfg.placement != SCHED_PLACE_TOPOLOGY ? SCHED_PLACE_COUNT_
									      : s->cfg.placement) {
		case SCHED_PLACE_COUNT_:
			rc = plan_nodes(&c, j->nnodes);
			break;
		case SCHED_PLACE_HELIOS:
			rc = plan_helios(&c);
			break;
		case SCHED_PLACE_SPREAD:
			rc = plan_spread(&c);
			break;
		case SCHED_PLACE_TOPOLOGY:
			rc = plan_topology(&c, j->nnodes);
			break;
		default:
			rc = plan_consolidate(&c);
			break;
		}
		if (rc)
			continue;
		for (uint32_t i = 0; i < c.n; i++) {
			uint32_t sl = sched_slot_of(s, s->plan[i].node, m);
			left += s->slots[sl].nfree - (uint64_t)s->plan[i].ntasks * j->task.ndev;
		}
		if (!found || key > best_key || c.n < best_n ||
		    (c.n == best_n && left < best_left)) {
			struct sched_plan_ent *t = s->plan;
			size_t tc = s->cap_plan;
			s->plan = s->plan2;
			s->cap_plan = s->cap_plan2;
			s->plan2 = t;
			s->cap_plan2 = tc;
			found = true;
			best_n = c.n;
			best_left = left;
			best_key = key;
			*model = m;
		}
	}
	*nplan = best_n;
	return found ? 0 : AIDC_E_NOFIT;
}

/* ---- one task at a time: fractional shares, CPU-only tasks, fractional policies ---- */

static bool node_has_room(const struct sched *s, uint32_t node, const struct sched_req *req)
{
	const struct sched_node *n = &s->nodes[node];
	return n->state == SCHED_NODE_UP && sched_node_open(n, req) &&
	       sched_node_allowed(s, node) && n->cpu_free_milli >= req->cpu_milli &&
	       n->mem_free_mib >= req->mem_mib;
}

static int pick_cpu_task(struct sched *s, const struct sched_job *j, uint32_t task,
			 struct sched_alloc *out)
{
	const struct sched_partition *pa = &s->parts[j->part];
	bool most = s->cfg.placement == SCHED_PLACE_SPREAD;
	int64_t best = -1;

	for (uint32_t i = 0; i < pa->nnodes; i++) {
		uint32_t id = pa->nodes[i];
		const struct sched_node *n = &s->nodes[id];
		if (!node_has_room(s, id, &j->task))
			continue;
		if (best < 0 || (most ? n->cpu_free_milli > s->nodes[best].cpu_free_milli
				      : n->cpu_free_milli < s->nodes[best].cpu_free_milli))
			best = id;
	}
	if (best < 0)
		return AIDC_E_NOFIT;
	out->task = task;
	out->node = (uint32_t)best;
	out->dev = SCHED_NO_DEVICE;
	out->milli = 0;
	return 1;
}

/* A fractional task on a device of a model in mask (see pick_frac_task). */
static int pick_frac_in(struct sched *s, const struct sched_job *j, uint32_t task, uint64_t mask,
			struct sched_alloc *out)
{
	const struct sched_partition *pa = &s->parts[j->part];
	uint32_t milli = j->task.dev_milli, best_free = UINT32_MAX;
	int64_t best_dev = -1;
	uint32_t best_node = UINT32_MAX, best_model = 0;

	for (uint64_t mm = mask; mm; mm &= mm - 1) {
		uint32_t m = (uint32_t)__builtin_ctzll(mm);
		const struct sched_pool *p;
		if (pa->pool_of[m] == UINT32_MAX)
			continue;
		p = &s->pools[pa->pool_of[m]];
		for (int64_t l = sched_pool_next(p, p->partial, 0); l >= 0;
		     l = sched_pool_next(p, p->partial, (uint32_t)l + 1)) {
			uint32_t node = s->slots[p->slot_of[l]].node;
			const struct sched_node *n = &s->nodes[node];
			if (!node_has_room(s, node, &j->task))
				continue;
			for (uint32_t i = 0; i < n->ndev; i++) {
				const struct sched_device *d = &s->devs[n->first_dev + i];
				uint32_t f = d->free_milli;
				if (d->model != m || f >= AIDC_DEVICE_MILLI || f < milli)
					continue;
				if (f < best_free ||
				    (f == best_free && n->first_dev + i < best_dev)) {
					best_free = f;
					best_dev = n->first_dev + i;
				}
			}
		}
	}
	if (best_dev < 0) {
		/* A wholly free device on the fullest node (then lowest node id). */
		uint32_t best_nfree = UINT32_MAX;
		for (uint64_t mm = mask; mm; mm &= mm - 1) {
			uint32_t m = (uint32_t)__builtin_ctzll(mm);
			struct pctx c = {s, NULL, &j->task, 1, UINT32_MAX, 0, 0};
			uint32_t f, node;
			int64_t l;
			if (pa->pool_of[m] == UINT32_MAX)
				continue;
			c.p = &s->pools[pa->pool_of[m]];
			new_stamp(s);
			l = best_single(&c, 1);
			if (l < 0)
				continue;
			f = loc_free(&c, (uint32_t)l);
			node = loc_node(&c, (uint32_t)l);
			if (f < best_nfree || (f == best_nfree && node < best_node)) {
				best_nfree = f;
				best_node = node;
				best_model = m;
			}
		}
		if (best_node == UINT32_MAX ||
		    pick_devices(s, best_node, best_model, 1, task, out) != 1)
			return AIDC_E_NOFIT;
		out->milli = milli;
		return 1;
	}
	out->task = task;
	out->node = s->devs[best_dev].node;
	out->dev = (uint32_t)best_dev;
	out->milli = milli;
	return 1;
}

/* A fractional task: the partly used device with the least free share that
 * fits, else a wholly free device on the fullest node, among the job's
 * models; with cfg.hetero among the models of the highest key first
 * (hetero.c), then the next key: a share of a model the job runs faster on
 * beats packing onto a slower one. O(models) keys and at most one search
 * per distinct key. */
static int pick_frac_task(struct sched *s, const struct sched_job *j, uint32_t task,
			  struct sched_alloc *out)
{
	const struct sched_partition *pa = &s->parts[j->part];
	uint64_t mask = j->task.model_mask ? j->task.model_mask : sched_all_models(s);
	uint64_t key[AIDC_MAX_DEVICE_MODELS];

	if (s->cfg.hetero == SCHED_HETERO_OFF)
		return pick_frac_in(s, j, task, mask, out);
	for (uint64_t mm = mask; mm; mm &= mm - 1) {
		uint32_t m = (uint32_t)__builtin_ctzll(mm);
		if (pa->pool_of[m] == UINT32_MAX)
			mask &= ~(1ULL << m);
		else
			key[m] = sched_hetero_key(s, j, &s->pools[pa->pool_of[m]]);
	}
	while (mask) {
		uint64_t top = 0, best = 0;
		for (uint64_t mm = mask; mm; mm &= mm - 1) {
			uint32_t m = (uint32_t)__builtin_ctzll(mm);
			if (!top || key[m] > best) {
				top = 0;
				best = key[m];
			}
			if (key[m] == best)
				top |= 1ULL << m;
		}
		int rc = pick_frac_in(s, j, task, top, out);
		if (rc != AIDC_E_NOFIT)
			return rc;
		mask &= ~top;
	}
	return AIDC_E_NOFIT;
}

/* Checks what sched_frag_pick returned against the cluster before applying it. */
static bool frag_allocs_ok(const struct sched *s, const struct sched_job *j,
			   const struct sched_alloc *a, int n)
{
	if (n < 1 || n > (int)AIDC_MAX_DEVICES_PER_NODE)
		return false;
	if (a[0].node >= s->nnodes || s->nodes[a[0].node].partition != j->part ||
	    !node_has_room(s, a[0].node, &j->task))
		return false;
	for (int i = 0; i < n; i++) {
		if (a[i].node != a[0].node)
			return false;
		if (a[i].dev == SCHED_NO_DEVICE)
			continue;
		if (a[i].dev >= s->ndevs || s->devs[a[i].dev].node != a[i].node || a[i].milli < 1 ||
		    s->devs[a[i].dev].free_milli < a[i].milli)
			return false;
	}
	return true;
}

static int place_each_task(struct sched *s, const struct sched_job *j, uint32_t *nout)
{
	bool frag = sched_frag_policy(s->cfg.placement);
	uint32_t n = 0;

	for (uint32_t t = 0; t < j->ntasks; t++) {
		int got;
		AIDC_GROW(s->scr, s->cap_scr, (size_t)n + AIDC_MAX_DEVICES_PER_NODE);
		if (frag) {
			got = sched_frag_pick(s, &j->task, j->part, t, s->scr + n);
			if (got > 0 && !frag_allocs_ok(s, j, s->scr + n, got)) {
				sched_logf(s, AIDC_LOG_ERROR,
					   "sched_frag_pick returned a bad "
					   "allocation for job %" PRIu64,
					   j->id);
				got = AIDC_E_NOFIT;
			}
			for (int i = 0; i < got; i++)
				s->scr[n + (uint32_t)i].task = t;
		} else if (j->task.ndev == 0) {
			got = pick_cpu_task(s, j, t, s->scr + n);
		} else {
			got = pick_frac_task(s, j, t, s->scr + n);
		}
		if (got <= 0) {
			sched_allocs_apply(s, s->scr, n, &j->task, -1);
			return AIDC_E_NOFIT;
		}
		sched_allocs_apply(s, s->scr + n, (uint32_t)got, &j->task, 1);
		n += (uint32_t)got;
	}
	*nout = n;
	return 0;
}

static int cmp_cand(const void *a, const void *b)
{
	const struct sched_cand *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

/* Plans a constrained CPU-only gang over the candidates s->cand[0 .. nc) into
 * s->plan; returns the entries or 0 when it does not fit. */
static uint32_t plan_cpu_nodes(struct sched *s, const struct sched_job *j, uint32_t nc)
{
	uint32_t np = 0, left = j->ntasks;

	if (j->nnodes) {
		uint32_t base = j->ntasks / j->nnodes, extra = j->ntasks % j->nnodes;
		for (int pass = 0; pass < 2; pass++) {
			uint32_t k = pass ? base : base + 1,
				 want = pass ? j->nnodes - extra : extra;
			for (uint32_t i = 0; i < nc && want; i++) {
				if (s->cand[i].fit < k)
					continue;
				s->plan[np].node = s->cand[i].node;
				s->plan[np++].ntasks = k;
				s->cand[i].fit = 0; /* taken */
				want--;
			}
			if (want)
				return 0;
		}
		return np;
	}
	if (s->cfg.placement == SCHED_PLACE_SPREAD) {
		uint64_t acc = 0; /* candidates until there is one per task, as plan_spread */
		for (uint32_t i = 0; i < nc && np < j->ntasks; i++) {
			s->plan[np].node = s->cand[i].node;
			s->plan[np++].ntasks = s->cand[i].fit;
			acc += s->cand[i].fit;
		}
		return acc < j->ntasks ? 0 : spread_share(s, np, j->ntasks);
	}
	for (uint32_t i = 0; i < nc && left; i++) {
		uint32_t k = AIDC_MIN(s->cand[i].fit, left);
		s->plan[np].node = s->cand[i].node;
		s->plan[np++].ntasks = k;
		left -= k;
	}
	return left ? 0 : np;
}

/*
 * CPU-only gang with node constraints: one scan of the partition's UP nodes
 * collects each node's capacity for the task (capped by per_node), ordered as
 * pick_cpu_task orders nodes (least free CPU first; SPREAD: most; then lowest
 * id); then nnodes: the first nodes that hold the larger share, then the first
 * that hold the smaller one; per_node: CONSOLIDATE fills nodes in that order,
 * SPREAD deals tasks round robin. O(P log P) for the P nodes of the partition.
 */
static int place_cpu_nodes(struct sched *s, const struct sched_job *j, uint32_t *nout)
{
	const struct sched_partition *pa = &s->parts[j->part];
	bool most = s->cfg.placement == SCHED_PLACE_SPREAD;
	uint32_t nc = 0, np, t = 0;

	AIDC_GROW(s->cand, s->cap_cand, (size_t)pa->nnodes + 1);
	for (uint32_t i = 0; i < pa->nnodes; i++) {
		uint32_t id = pa->nodes[i], fit;
		const struct sched_node *n = &s->nodes[id];
		if (n->state != SCHED_NODE_UP)
			continue;
		fit = sched_node_fit(s, id, 0, &j->task);
		if (j->per_node)
			fit = AIDC_MIN(fit, j->per_node);
		if (!fit)
			continue;
		s->cand[nc].key = most ? UINT64_MAX - n->cpu_free_milli : n->cpu_free_milli;
		s->cand[nc].node = id;
		s->cand[nc++].fit = fit;
	}
	qsort(s->cand, nc, sizeof *s->cand, cmp_cand);
	AIDC_GROW(s->plan, s->cap_plan, (size_t)nc + 1);
	np = plan_cpu_nodes(s, j, nc);
	if (!np)
		return AIDC_E_NOFIT;
	AIDC_GROW(s->scr, s->cap_scr, j->ntasks);
	for (uint32_t i = 0; i < np; i++)
		for (uint32_t k = 0; k < s->plan[i].ntasks; k++, t++) {
			s->scr[t].task = t;
			s->scr[t].node = s->plan[i].node;
			s->scr[t].dev = SCHED_NO_DEVICE;
			s->scr[t].milli = 0;
		}
	sched_allocs_apply(s, s->scr, t, &j->task, 1);
	*nout = t;
	return 0;
}

static int place_take(struct sched *s, uint32_t h, uint32_t *nout)
{
	const struct sched_job *j = &s->jobs[h];
	uint32_t nplan, model, n = 0, t = 0;

	if (j->task.ndev == 0 && (j->nnodes || j->per_node || (j->task.exclusive && j->ntasks > 1)))
		return place_cpu_nodes(s, j, nout);
	if (sched_frag_policy(s->cfg.placement) || j->task.ndev == 0 ||
	    j->task.dev_milli < AIDC_DEVICE_MILLI)
		return place_each_task(s, j, nout);
	if (plan_whole(s, j, &nplan, &model))
		return AIDC_E_NOFIT;
	AIDC_GROW(s->scr, s->cap_scr, (size_t)j->ntasks * j->task.ndev);
	for (uint32_t i = 0; i < nplan; i++) {
		for (uint32_t k = 0; k < s->plan2[i].ntasks; k++, t++) {
			uint32_t got =
			    pick_devices(s, s->plan2[i].node, model, j->task.ndev, t, s->scr + n);
			if (got != j->task.ndev) { /* the plan said it fits: cannot happen */
				sched_allocs_apply(s, s->scr, n, &j->task, -1);
				sched_logf(s, AIDC_LOG_ERROR,
					   "placement plan for job %" PRIu64 " did not fit", j->id);
				return AIDC_E_NOFIT;
			}
			sched_allocs_apply(s, s->scr + n, got, &j->task, 1);
			n += got;
		}
	}
	*nout = n;
	return 0;
}

int sched_place_take(struct sched *s, uint32_t h, uint32_t *nout)
{
	s->place_filter = s->jobs[h].filter; /* sched_node_allowed, for every policy */
	int rc = place_take(s, h, nout);
	s->place_filter = NULL;
	return rc;
}

/* Tasks of r that nodes of class c can hold, each node on its own, at most cap. */
static uint64_t class_tasks(const struct sched_nclass *c, const struct sched_req *r, uint64_t cap)
{
	uint64_t k = cap;

	if (r->ndev)
		k = AIDC_MIN(k, r->dev_milli < AIDC_DEVICE_MILLI
				    ? (uint64_t)c->ndev * (AIDC_DEVICE_MILLI / r->dev_milli)
				    : (uint64_t)(c->ndev / r->ndev));
	if (r->cpu_milli)
		k = AIDC_MIN(k, (uint64_t)(c->cpu_milli / r->cpu_milli));
	if (r->mem_mib)
		k = AIDC_MIN(k, c->mem_mib / r->mem_mib);
	return k;
}

/*
 * Exact per node: the tasks each node could hold if it were empty (devices of
 * one model, CPU and memory each bound), summed over the partition's nodes in
 * any state, must reach ntasks. A whole-device gang uses one model, so each
 * acceptable model is tried alone; fractional tasks may use different models,
 * so their acceptable models are summed (a node carrying two of them counts its
 * CPU and memory for each: an over-estimate, so the test never rejects a job
 * that could fit). Cost O(node classes of the partition).
 */
/* With nnodes: some acceptable model (or the CPU classes) must offer nnodes
 * nodes that each hold the smaller share, ntasks % nnodes of them the larger. */
static bool never_fits_nodes(const struct sched *s, const struct sched_job *j, uint64_t mask)
{
	const struct sched_partition *pa = &s->parts[j->part];
	uint32_t base = j->ntasks / j->nnodes, extra = j->ntasks % j->nnodes;

	for (uint32_t m = 0; m < AIDC_MAX_DEVICE_MODELS; m++) {
		uint64_t hi = 0, lo = 0;
		if (j->task.ndev ? !((mask >> m) & 1) : m > 0)
			continue;
		for (uint32_t i = 0; i < pa->nncls; i++) {
			const struct sched_nclass *c = &pa->ncls[i];
			uint64_t k;
			if (c->model != (j->task.ndev ? m : SCHED_NCLASS_CPU))
				continue;
			k = class_tasks(c, &j->task, base + 1);
			hi += k > base ? c->count : 0;
			lo += k >= base ? c->count : 0;
		}
		if (hi >= extra && lo >= j->nnodes)
			return false;
	}
	return true;
}

/* The next node of j's partition its filter admits, from position *i on (the
 * filter's ids when it allows, else the partition's nodes); false at the end. */
static bool filter_next(const struct sched *s, const struct sched_job *j, uint32_t *i,
			uint32_t *node)
{
	const struct sched_nfilter *f = j->filter;
	const struct sched_partition *pa = &s->parts[j->part];

	for (; f->allow ? *i < f->n : *i < pa->nnodes; (*i)++) {
		uint32_t id = f->allow ? f->ids[*i] : pa->nodes[*i];
		if (s->nodes[id].partition == j->part && sched_nfilter_admits(f, id)) {
			*node = id;
			(*i)++;
			return true;
		}
	}
	return false;
}

/* Node id as a never-fits class of its own: its devices of model m (m ==
 * SCHED_NCLASS_CPU: the node for CPU-only tasks), CPU and memory. */
static struct sched_nclass node_class(const struct sched *s, uint32_t id, uint32_t m)
{
	const struct sched_node *n = &s->nodes[id];
	struct sched_nclass c = {m, 0, n->cpu_milli, 1, n->mem_mib};

	for (uint32_t k = 0; m != SCHED_NCLASS_CPU && k < n->ndev; k++)
		c.ndev += s->devs[n->first_dev + k].model == m;
	return c;
}

/* sched_never_fits (and never_fits_nodes) over the nodes j's filter leaves,
 * each node its own class: O(models accepted x nodes left x devices per node),
 * cached in the filter until a node is added. */
static bool never_fits_filtered(const struct sched *s, const struct sched_job *j, uint64_t mask)
{
	struct sched_nfilter *f = j->filter;
	bool whole = j->task.ndev && j->task.dev_milli == AIDC_DEVICE_MILLI;
	uint64_t sum = 0, cap = j->per_node ? j->per_node : j->ntasks;
	uint32_t base = j->nnodes ? j->ntasks / j->nnodes : 0;
	uint32_t extra = j->nnodes ? j->ntasks % j->nnodes : 0;

	if (f->nf_nnodes == s->nnodes)
		return f->nf;
	f->nf = true;
	f->nf_nnodes = s->nnodes;
	for (uint32_t m = 0; m < AIDC_MAX_DEVICE_MODELS; m++) {
		uint64_t hi = 0, lo = 0;
		uint32_t i = 0, id;
		if (j->task.ndev ? !((mask >> m) & 1) : m > 0)
			continue;
		if (whole || j->nnodes)
			sum = 0;
		while (filter_next(s, j, &i, &id)) {
			struct sched_nclass c =
			    node_class(s, id, j->task.ndev ? m : SCHED_NCLASS_CPU);
			uint64_t k = class_tasks(&c, &j->task, j->nnodes ? base + 1 : cap);
			hi += j->nnodes && k > base;
			lo += j->nnodes && k >= base;
			sum += j->nnodes ? 0 : k;
		}
		if (j->nnodes ? hi >= extra && lo >= j->nnodes : sum >= j->ntasks) {
			f->nf = false;
			break;
		}
	}
	return f->nf;
}

bool sched_never_fits(const struct sched *s, const struct sched_job *j)
{
	const struct sched_partition *pa = &s->parts[j->part];
	uint64_t mask = j->task.model_mask ? j->task.model_mask : sched_all_models(s);
	bool whole = j->task.ndev && j->task.dev_milli == AIDC_DEVICE_MILLI;
	uint64_t sum = 0, cap = j->per_node ? j->per_node : j->ntasks;

	if (j->filter)
		return never_fits_filtered(s, j, mask);
	if (j->nnodes)
		return never_fits_nodes(s, j, mask);

	for (uint32_t m = 0; m < AIDC_MAX_DEVICE_MODELS && sum < j->ntasks; m++) {
		if (j->task.ndev ? !((mask >> m) & 1) : m > 0)
			continue;
		if (whole)
			sum = 0;
		for (uint32_t i = 0; i < pa->nncls && sum < j->ntasks; i++) {
			const struct sched_nclass *c = &pa->ncls[i];
			if (c->model != (j->task.ndev ? m : SCHED_NCLASS_CPU))
				continue;
			sum += (uint64_t)c->count * class_tasks(c, &j->task, cap);
		}
	}
	return sum < j->ntasks;
}

/* ---- running jobs by estimated end ------------------------------------------------ */

/* Will-run's order of running jobs: estimated end, then submit sequence (a
 * total order: seq is unique). */
static bool end_before(const struct sched_endev *x, const struct sched_endev *y)
{
	return x->end_s != y->end_s ? x->end_s < y->end_s : x->seq < y->seq;
}

/* Min-heap of e[0..n) by end_before: restores the heap below position i. */
static void end_sift(struct sched_endev *e, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		if (l < n && end_before(&e[l], &e[m]))
			m = l;
		if (l + 1 < n && end_before(&e[l + 1], &e[m]))
			m = l + 1;
		if (m == i)
			return;
		struct sched_endev t = e[i];
		e[i] = e[m];
		e[m] = t;
		i = m;
	}
}

/* Pops the heap's first end: it moves to e[n - 1] (heap sort's order, reversed). */
static void end_pop(struct sched_endev *e, uint32_t n)
{
	struct sched_endev t = e[0];
	e[0] = e[n - 1];
	e[n - 1] = t;
	end_sift(e, n - 1, 0);
}

/* ---- the partition's end heap (p->run_ends, positions in s->end_pos) ------------- */

static void ends_put(struct sched *s, struct sched_endev *e, uint32_t i, struct sched_endev x)
{
	e[i] = x;
	s->end_pos[x.job] = i;
}

/* Moves x, bound for position i, up or down to its place. */
static void ends_place(struct sched *s, struct sched_endev *e, uint32_t n, uint32_t i,
		       struct sched_endev x)
{
	while (i > 0 && end_before(&x, &e[(i - 1) / 2])) {
		ends_put(s, e, i, e[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		uint32_t l = 2 * i + 1, m;
		if (l >= n)
			break;
		m = l + 1 < n && end_before(&e[l + 1], &e[l]) ? l + 1 : l;
		if (!end_before(&e[m], &x))
			break;
		ends_put(s, e, i, e[m]);
		i = m;
	}
	ends_put(s, e, i, x);
}

void sched_run_ends_add(struct sched *s, struct sched_partition *p, struct sched_endev x)
{
	AIDC_GROW(p->run_ends, p->cap_run_ends, (size_t)p->nrunning + 1);
	AIDC_GROW(s->end_pos, s->cap_end_pos, (size_t)x.job + 1);
	ends_place(s, p->run_ends, p->nrunning + 1, p->nrunning, x);
}

/* Called before p->nrunning drops by one. */
void sched_run_ends_del(struct sched *s, struct sched_partition *p, uint32_t pos)
{
	uint32_t n = p->nrunning - 1;
	if (pos < n)
		ends_place(s, p->run_ends, n, pos, p->run_ends[n]);
}

/* ---- will run ------------------------------------------------------------------- */

static void save_resv(struct sched *s, struct sched_resv *resv, uint32_t n)
{
	if (!resv)
		return;
	AIDC_GROW(resv->allocs, resv->cap_allocs, n ? n : 1);
	memcpy(resv->allocs, s->scr, n * sizeof *s->scr);
	resv->nalloc = n;
}

/* An estimated end as will-run sees it: never in the past (an overrunning job
 * may end now). */
static int64_t end_seen(int64_t end_s, int64_t now_s)
{
	return end_s <= now_s ? now_s + 1 : end_s;
}

/*
 * Will-run's walk of the end heap e[0 .. n) in (end, seq) order without
 * changing it: a frontier heap f of positions in e (a position's children
 * join when it is taken), O(log k) per end taken, k the number taken. The
 * frontier never holds more than k + 1 positions.
 */
struct ends_walk {
	const struct sched_endev *e;
	uint32_t n, nf, *f;
};

static void walk_push(struct ends_walk *w, uint32_t pos)
{
	if (pos >= w->n)
		return;
	uint32_t i = w->nf++;
	while (i > 0 && end_before(&w->e[pos], &w->e[w->f[(i - 1) / 2]])) {
		w->f[i] = w->f[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	w->f[i] = pos;
}

static uint32_t walk_pop(struct ends_walk *w)
{
	uint32_t top = w->f[0], last = w->f[--w->nf], i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1, m;
		if (l >= w->nf)
			break;
		m = l + 1 < w->nf && end_before(&w->e[w->f[l + 1]], &w->e[w->f[l]]) ? l + 1 : l;
		if (!end_before(&w->e[w->f[m]], &w->e[last]))
			break;
		w->f[i] = w->f[m];
		i = m;
	}
	if (w->nf)
		w->f[i] = last;
	walk_push(w, 2 * top + 1);
	walk_push(w, 2 * top + 2);
	return top;
}

static int cmp_end_seq(const void *a, const void *b)
{
	const struct sched_endev *x = a, *y = b;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Takes from the walk every end seen at its first end's time t, into
 * s->ends[*released ..) in seq order (the order of (seen end, seq)), and gives
 * their resources back; returns t. */
static int64_t release_next(struct sched *s, struct ends_walk *w, int64_t now_s, uint32_t *released)
{
	uint32_t g = *released;
	int64_t t = end_seen(w->e[w->f[0]].end_s, now_s);
	bool seen_later = false; /* some ended before t: (end, seq) order is not seq order */
	while (w->nf && end_seen(w->e[w->f[0]].end_s, now_s) == t) {
		const struct sched_endev *x = &w->e[walk_pop(w)];
		seen_later |= x->end_s != t;
		s->ends[(*released)++] = *x;
	}
	if (seen_later)
		qsort(s->ends + g, *released - g, sizeof *s->ends, cmp_end_seq);
	for (uint32_t i = g; i < *released; i++) {
		const struct sched_job *r = &s->jobs[s->ends[i].job];
		sched_allocs_apply(s, r->allocs, r->nalloc, &r->task, -1);
	}
	return t;
}

/* Will-run past now: running jobs release their resources in (seen end, seq)
 * order, all those ending at one time together, until h fits; then every
 * released one is taken back, last released first. */
static int will_run_later(struct sched *s, uint32_t h, int64_t now_s, int64_t *start_s,
			  struct sched_resv *resv)
{
	struct sched_partition *pa = &s->parts[s->jobs[h].part];
	uint32_t R = pa->nrunning, released = 0, n;
	int rc = AIDC_E_NOFIT;

	AIDC_GROW(s->ends, s->cap_ends, (size_t)R + 1);
	AIDC_GROW(s->walk, s->cap_walk, (size_t)R + 2);
	struct ends_walk w = {pa->run_ends, R, 0, s->walk};
	walk_push(&w, 0);
	while (w.nf) {
		int64_t t = release_next(s, &w, now_s, &released);
		if (sched_place_take(s, h, &n) == 0) {
			save_resv(s, resv, n);
			sched_allocs_apply(s, s->scr, n, &s->jobs[h].task, -1);
			*start_s = t;
			rc = 0;
			break;
		}
	}
	for (uint32_t i = released; i-- > 0;) {
		const struct sched_job *r = &s->jobs[s->ends[i].job];
		sched_allocs_apply(s, r->allocs, r->nalloc, &r->task, 1);
	}
	return rc;
}

/* The reference will-run past now (tests: s->no_fast_path): a heap of a copy
 * of all R ends, O(R + k log R) every time. */
static int will_run_copy(struct sched *s, uint32_t h, int64_t now_s, int64_t *start_s,
			 struct sched_resv *resv)
{
	struct sched_job *j = &s->jobs[h];
	struct sched_partition *pa = &s->parts[j->part];
	uint32_t n, released = 0;
	int rc = AIDC_E_NOFIT;

	AIDC_GROW(s->ends, s->cap_ends, (size_t)pa->nrunning + 1);
	for (uint32_t i = 0; i < pa->nrunning; i++) {
		s->ends[i] = pa->run_ends[i];
		s->ends[i].end_s = end_seen(s->ends[i].end_s, now_s);
	}
	/* Released entries sit at ends[R - released .. R). */
	uint32_t R = pa->nrunning;
	for (uint32_t i = R / 2; i-- > 0;)
		end_sift(s->ends, R, i);
	while (released < R) {
		int64_t t = s->ends[0].end_s;
		while (released < R && s->ends[0].end_s == t) {
			end_pop(s->ends, R - released);
			released++;
			const struct sched_job *r = &s->jobs[s->ends[R - released].job];
			sched_allocs_apply(s, r->allocs, r->nalloc, &r->task, -1);
		}
		if (sched_place_take(s, h, &n) == 0) {
			save_resv(s, resv, n);
			sched_allocs_apply(s, s->scr, n, &j->task, -1);
			*start_s = t;
			rc = 0;
			break;
		}
	}
	/* Taken back last released first. */
	for (uint32_t i = R - released; i < R; i++) {
		const struct sched_job *r = &s->jobs[s->ends[i].job];
		sched_allocs_apply(s, r->allocs, r->nalloc, &r->task, 1);
	}
	return rc;
}

int sched_will_run(struct sched *s, uint32_t h, int64_t now_s, int64_t *start_s,
		   struct sched_resv *resv)
{
	uint32_t n;

	if (sched_place_take(s, h, &n) == 0) {
		save_resv(s, resv, n);
		sched_allocs_apply(s, s->scr, n, &s->jobs[h].task, -1);
		*start_s = now_s;
		return 0;
	}
	return s->no_fast_path ? will_run_copy(s, h, now_s, start_s, resv)
			       : will_run_later(s, h, now_s, start_s, resv);
}

/* ---- the entry point -------------------------------------------------------------- */

int sched_place(struct sched *s, uint32_t job, enum sched_place_mode mode, int64_t now_s,
		struct sched_decisions *out, int64_t *start_s, struct aidc_err *e)
{
	struct sched_job *j;
	uint32_t n;
	int64_t t = 0;
	int rc;

	if (job >= s->njob_slots || !s->jobs[job].live)
		return aidc_errf(e, AIDC_E_NOTFOUND, "no job handle %u", job);
	j = &s->jobs[job];
	if (now_s < s->now_last)
		now_s = s->now_last;
	if (j->running) {
		if (mode != SCHED_MODE_WILL_RUN)
			return aidc_errf(e, AIDC_E_STATE, "job %" PRIu64 " is already running",
					 j->id);
		if (start_s)
			*start_s = j->run_start_s;
		return 0;
	}
	switch (mode) {
	case SCHED_MODE_RUN_NOW:
	case SCHED_MODE_TEST_ONLY:
		rc = sched_place_take(s, job, &n);
		if (rc)
			return aidc_errf(e, AIDC_E_NOFIT, "job %" PRIu64 " does not fit now",
					 j->id);
		if (out)
			sched_decide(out, SCHED_DECIDE_START, s, job, UINT32_MAX, now_s, s->scr, n);
		if (mode == SCHED_MODE_TEST_ONLY) {
			sched_allocs_apply(s, s->scr, n, &j->task, -1);
		} else {
			s->now_last = now_s;
			sched_queue_remove(s, job);
			sched_job_mark_started(s, job, now_s, s->scr, n);
		}
		if (start_s)
			*start_s = now_s;
		return 0;
	case SCHED_MODE_WILL_RUN:
		rc = sched_will_run(s, job, now_s, &t, NULL);
		if (rc)
			return aidc_errf(e, AIDC_E_NOFIT,
					 "job %" PRIu64 " can never start in "
					 "partition %s as it is now",
					 j->id, s->parts[j->part].name);
		if (out)
			sched_decide(out, SCHED_DECIDE_RESERVE, s, job, UINT32_MAX, t, NULL, 0);
		if (start_s)
			*start_s = t;
		return 0;
	}
	return aidc_errf(e, AIDC_E_INVAL, "unknown placement mode %d", (int)mode);
}
