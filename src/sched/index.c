/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Free-capacity indexes of the scheduling core, and the only functions that
 * change free capacity (so indexes, usage counters and node->gen never drift).
 *
 * A "slot" is one device model on one node; a "pool" is one model in one
 * partition. Each pool keeps, over its UP nodes, one bitset per number of
 * wholly free devices (bucket b = nodes with exactly b free devices of the
 * model), a bitset of nodes with a partly used device (fractional best fit), a
 * bitset of nodes whose devices of the model are all free (Helios rule), and
 * per-rack free sums (topology policy). Costs:
 *   a device or node change: O(1) bit moves + O(log racks) for the rack sum;
 *   best fit "fewest free devices >= n": O(maxdev + bitset words) = at most
 *   65 + nodes/64 word reads (4,096 nodes: ~130);
 *   adding a node: O(1) amortized (bitsets double), O(racks) for a new rack.
 * Per node it also counts the placed tasks by GPU-request kind (a share, or k
 * whole devices) for GpuClustering: O(1) per task placed or released.
 */
#include "sched/sched_int.h"

static uint64_t *bucket_mut(struct sched_pool *p, uint32_t b)
{
	return p->bits + (size_t)b * p->words;
}

const uint64_t *sched_pool_bucket(const struct sched_pool *p, uint32_t b)
{
	return p->bits + (size_t)b * p->words;
}

static void bit_set(uint64_t *w, uint32_t i)
{
	w[i >> 6] |= (uint64_t)1 << (i & 63);
}

static void bit_clr(uint64_t *w, uint32_t i)
{
	w[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

int64_t sched_pool_next(const struct sched_pool *p, const uint64_t *bits, uint32_t from)
{
	size_t nw = ((size_t)p->n + 63) / 64;
	size_t w = from >> 6;
	uint64_t x;

	if (from >= p->n)
		return -1;
	x = bits[w] & (~(uint64_t)0 << (from & 63));
	for (;;) {
		if (x) {
			int64_t i = (int64_t)(w * 64 + (size_t)__builtin_ctzll(x));
			return i < (int64_t)p->n ? i : -1;
		}
		if (++w >= nw)
			return -1;
		x = bits[w];
	}
}

void sched_pool_release(struct sched_pool *p)
{
	aidc_free(p->slot_of);
	aidc_free(p->bits);
	aidc_free(p->bcount);
	aidc_free(p->partial);
	aidc_free(p->empty);
	aidc_free(p->rack_id);
	aidc_free(p->rack_free);
}

/* Grows the bitsets to hold n nodes and buckets 0..maxdev, keeping contents. */
static void pool_resize(struct sched_pool *p, uint32_t n, uint32_t maxdev)
{
	size_t words = p->words ? p->words : 1;
	uint64_t *bits;
	uint32_t *bcount;

	while (words * 64 < n)
		words *= 2;
	if (words == p->words && maxdev <= p->maxdev && p->bits)
		return;
	if (maxdev < p->maxdev)
		maxdev = p->maxdev;
	bits = aidc_calloc(((size_t)maxdev + 1) * words, sizeof *bits);
	bcount = aidc_calloc((size_t)maxdev + 1, sizeof *bcount);
	for (uint32_t b = 0; p->bits && b <= p->maxdev; b++) {
		memcpy(bits + (size_t)b * words, p->bits + (size_t)b * p->words,
		       p->words * sizeof *bits);
		bcount[b] = p->bcount[b];
	}
	if (words != p->words || !p->partial) {
		p->partial = aidc_reallocarray(p->partial, words, sizeof *p->partial);
		p->empty = aidc_reallocarray(p->empty, words, sizeof *p->empty);
		for (size_t w = p->partial && p->bits ? p->words : 0; w < words; w++)
			p->partial[w] = p->empty[w] = 0;
	}
	aidc_free(p->bits);
	aidc_free(p->bcount);
	p->bits = bits;
	p->bcount = bcount;
	p->words = words;
	p->maxdev = maxdev;
}

/* Index of rack in p->rack_id (binary search), or -1. */
static int64_t rack_find(const struct sched_pool *p, uint32_t rack)
{
	size_t lo = 0, hi = p->nracks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->rack_id[mid] < rack)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->nracks && p->rack_id[lo] == rack ? (int64_t)lo : -1;
}

static void rack_add(struct sched_pool *p, uint32_t rack)
{
	size_t lo = 0;
	size_t cap = p->cap_racks;

	if (rack_find(p, rack) >= 0)
		return;
	while (lo < p->nracks && p->rack_id[lo] < rack)
		lo++;
	AIDC_GROW(p->rack_id, p->cap_racks, (size_t)p->nracks + 1);
	AIDC_GROW(p->rack_free, cap, (size_t)p->nracks + 1);
	memmove(p->rack_id + lo + 1, p->rack_id + lo, (p->nracks - lo) * sizeof *p->rack_id);
	memmove(p->rack_free + lo + 1, p->rack_free + lo, (p->nracks - lo) * sizeof *p->rack_free);
	p->rack_id[lo] = rack;
	p->rack_free[lo] = 0;
	p->nracks++;
}

/* Puts a slot into (on) or takes it out of (!on) its pool's bitsets and sums. */
static void slot_index(struct sched *s, struct sched_slot *sl, bool on)
{
	struct sched_pool *p = &s->pools[sl->pool];
	int64_t r = rack_find(p, s->nodes[sl->node].rack);

	if (on) {
		bit_set(bucket_mut(p, sl->nfree), sl->local);
		p->bcount[sl->nfree]++;
		if (sl->npartial)
			bit_set(p->partial, sl->local);
		if (sl->nfree == sl->ntotal)
			bit_set(p->empty, sl->local);
		p->free_devs += sl->nfree;
		p->up_devs += sl->ntotal;
		p->rack_free[r] += sl->nfree;
	} else {
		bit_clr(bucket_mut(p, sl->nfree), sl->local);
		p->bcount[sl->nfree]--;
		bit_clr(p->partial, sl->local);
		bit_clr(p->empty, sl->local);
		p->free_devs -= sl->nfree;
		p->up_devs -= sl->ntotal;
		p->rack_free[r] -= sl->nfree;
	}
	sl->indexed = on;
}

static uint32_t pool_get(struct sched *s, uint32_t part, uint32_t model)
{
	struct sched_partition *pa = &s->parts[part];
	struct sched_pool *p;

	if (pa->pool_of[model] != UINT32_MAX)
		return pa->pool_of[model];
	AIDC_GROW(s->pools, s->cap_pools, (size_t)s->npools + 1);
	p = &s->pools[s->npools];
	memset(p, 0, sizeof *p);
	p->part = part;
	p->model = model;
	pa->pool_of[model] = s->npools;
	return s->npools++;
}

void sched_idx_add_node(struct sched *s, uint32_t node)
{
	struct sched_node *n = &s->nodes[node];
	uint64_t mask = n->model_mask;

	n->first_slot = s->nslots;
	n->nslots = 0;
	while (mask) {
		uint32_t model = (uint32_t)__builtin_ctzll(mask);
		uint32_t cnt = 0;
		struct sched_slot *sl;
		struct sched_pool *p;

		mask &= mask - 1;
		for (uint32_t i = 0; i < n->ndev; i++)
			cnt += s->devs[n->first_dev + i].model == model;
		AIDC_GROW(s->slots, s->cap_slots, (size_t)s->nslots + 1);
		sl = &s->slots[s->nslots];
		memset(sl, 0, sizeof *sl);
		sl->node = node;
		sl->model = model;
		sl->ntotal = sl->nfree = cnt;
		sl->pool = pool_get(s, n->partition, model);
		p = &s->pools[sl->pool];
		sl->local = p->n;
		AIDC_GROW(p->slot_of, p->cap, (size_t)p->n + 1);
		p->slot_of[p->n] = s->nslots;
		pool_resize(p, p->n + 1, cnt);
		p->n++;
		p->all_devs += cnt;
		rack_add(p, n->rack);
		n->nslots++;
		s->nslots++;
		if (n->state == SCHED_NODE_UP)
			slot_index(s, sl, true);
	}
}

void sched_idx_set_up(struct sched *s, uint32_t node, bool up)
{
	struct sched_node *n = &s->nodes[node];

	for (uint32_t i = 0; i < n->nslots; i++) {
		struct sched_slot *sl = &s->slots[n->first_slot + i];
		if (sl->indexed != up)
			slot_index(s, sl, up);
	}
}

uint32_t sched_slot_of(const struct sched *s, uint32_t node, uint32_t model)
{
	const struct sched_node *n = &s->nodes[node];

	for (uint32_t i = 0; i < n->nslots; i++)
		if (s->slots[n->first_slot + i].model == model)
			return n->first_slot + i;
	return UINT32_MAX;
}

void sched_dev_change(struct sched *s, uint32_t dev, int32_t dmilli, int32_t dtasks)
{
	struct sched_device *d = &s->devs[dev];
	struct sched_node *n = &s->nodes[d->node];
	struct sched_usage *u = &s->parts[n->partition].use;
	struct sched_slot *sl = &s->slots[sched_slot_of(s, d->node, d->model)];
	uint32_t old = d->free_milli;
	uint32_t now = (uint32_t)((int32_t)old - dmilli);
	bool indexed = sl->indexed;

	if (indexed)
		slot_index(s, sl, false);
	sl->nfree -= old == AIDC_DEVICE_MILLI;
	sl->npartial -= old > 0 && old < AIDC_DEVICE_MILLI;
	n->ndev_free -= old == AIDC_DEVICE_MILLI;
	u->devs_busy -= old < AIDC_DEVICE_MILLI;
	d->free_milli = now;
	d->ntasks = (uint32_t)((int32_t)d->ntasks + dtasks);
	sl->nfree += now == AIDC_DEVICE_MILLI;
	sl->npartial += now > 0 && now < AIDC_DEVICE_MILLI;
	n->ndev_free += now == AIDC_DEVICE_MILLI;
	u->devs_busy += now < AIDC_DEVICE_MILLI;
	u->dev_milli_used = (uint64_t)((int64_t)u->dev_milli_used + dmilli);
	if (indexed)
		slot_index(s, sl, true);
	n->gen++;
}

void sched_node_change(struct sched *s, uint32_t node, int64_t dcpu, int64_t dmem, int32_t dtasks)
{
	struct sched_node *n = &s->nodes[node];
	struct sched_usage *u = &s->parts[n->partition].use;

	n->cpu_free_milli = (uint32_t)((int64_t)n->cpu_free_milli - dcpu);
	n->mem_free_mib = (uint64_t)((int64_t)n->mem_free_mib - dmem);
	n->ntasks_held = (uint32_t)((int32_t)n->ntasks_held + dtasks);
	u->cpu_milli_used = (uint64_t)((int64_t)u->cpu_milli_used + dcpu);
	u->mem_mib_used = (uint64_t)((int64_t)u->mem_mib_used + dmem);
	n->gen++;
}

_Static_assert((uint64_t)AIDC_MAX_DEVICES_PER_NODE * AIDC_DEVICE_MILLI <= UINT16_MAX,
	       "sched_node.ntasks_kind[0] must hold one-milli shares on every device");

/* A task's GPU-request kind, the key of sched_node.ntasks_kind: 0 = a share of
 * one device, k = k whole devices; -1 = CPU-only (not counted). */
static int req_kind(const struct sched_req *r)
{
	if (r->ndev == 0)
		return -1;
	if (r->ndev == 1 && r->dev_milli > 0 && r->dev_milli < AIDC_DEVICE_MILLI)
		return 0;
	return (int)r->ndev;
}

/* Counts one task of req's kind on the node (sign > 0) or takes it off. The
 * caller's sched_node_change bumps node->gen for the same task. */
static void node_kind_change(struct sched_node *n, const struct sched_req *req, int sign)
{
	int k = req_kind(req);

	if (k < 0)
		return;
	if (sign > 0) {
		n->nkinds += n->ntasks_kind[k] == 0;
		n->ntasks_kind[k]++;
	} else {
		n->ntasks_kind[k]--;
		n->nkinds -= n->ntasks_kind[k] == 0;
	}
}

void sched_allocs_apply(struct sched *s, const struct sched_alloc *a, uint32_t n,
			const struct sched_req *req, int sign)
{
	for (uint32_t i = 0; i < n; i++) {
		if (i == 0 || a[i].task != a[i - 1].task) {
			node_kind_change(&s->nodes[a[i].node], req, sign);
			if (req->exclusive)
				s->nodes[a[i].node].excl_held += (uint32_t)sign;
			sched_node_change(s, a[i].node, (int64_t)sign * req->cpu_milli,
					  (int64_t)sign * (int64_t)req->mem_mib, sign);
		}
		if (a[i].dev != SCHED_NO_DEVICE)
			sched_dev_change(s, a[i].dev, sign * (int32_t)a[i].milli, sign);
	}
}

uint32_t sched_node_fit(const struct sched *s, uint32_t node, uint32_t nfree,
			const struct sched_req *req)
{
	const struct sched_node *n = &s->nodes[node];
	uint32_t k = AIDC_MAX_TASKS_PER_JOB;

	if (!sched_node_open(n, req) || !sched_node_allowed(s, node))
		return 0;
	if (req->ndev)
		k = AIDC_MIN(k, nfree / req->ndev);
	if (req->cpu_milli)
		k = AIDC_MIN(k, n->cpu_free_milli / req->cpu_milli);
	if (req->mem_mib)
		k = (uint32_t)AIDC_MIN((uint64_t)k, n->mem_free_mib / req->mem_mib);
	return k;
}
