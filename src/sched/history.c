/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Classes of jobs with a history, shared by the QSSF predictor (predict.c) and
 * the Gittins order (gittins.c). Both learn per class at levels from fine
 * (same user, name and size) to coarse (any job), and both keep their records
 * in a growable array indexed by a hash table of record numbers: open
 * addressing with linear probing, at most half full, used only for lookups
 * (iteration order decides nothing). Costs: a lookup or an insertion O(1)
 * expected; doubling rehashes every record once.
 */
#include "sched/sched_int.h"

bool sched_hkey_make(const struct sched_job *j, uint32_t level, uint8_t fields, uint64_t devs,
		     struct sched_hkey *k)
{
	memset(k, 0, sizeof *k);
	k->level = level;
	if (((fields & SCHED_HK_USER) && j->user_id == UINT32_MAX) ||
	    ((fields & SCHED_HK_NAME) && j->name_id == UINT32_MAX))
		return false;
	k->user = (fields & SCHED_HK_USER) ? j->user_id : 0;
	k->name = (fields & SCHED_HK_NAME) ? j->name_id : 0;
	k->part = (fields & SCHED_HK_PART) ? j->part : 0;
	k->devs = (fields & SCHED_HK_DEVS) ? devs : 0;
	return true;
}

static size_t key_hash(const struct sched_hkey *k, size_t cap)
{
	uint64_t h = aidc_mix64(k->level + ((uint64_t)k->user << 8));
	h = aidc_mix64(h ^ k->name ^ ((uint64_t)k->part << 32));
	h = aidc_mix64(h ^ k->devs);
	return (size_t)h & (cap - 1);
}

static bool key_eq(const struct sched_hkey *a, const struct sched_hkey *b)
{
	return a->level == b->level && a->user == b->user && a->name == b->name &&
	       a->part == b->part && a->devs == b->devs;
}

/* Record i's key: every record starts with its struct sched_hkey. */
static const struct sched_hkey *key_of(const struct sched_hindex *x, uint32_t i)
{
	return (const struct sched_hkey *)((const char *)x->recs + (size_t)i * x->stride);
}

/* The slot holding k's record, or the empty slot where it would go. */
static size_t find_slot(const struct sched_hindex *x, const struct sched_hkey *k)
{
	size_t i = key_hash(k, x->cap);
	while (x->slot[i] != UINT32_MAX && !key_eq(key_of(x, x->slot[i]), k))
		i = (i + 1) & (x->cap - 1);
	return i;
}

static void rehash(struct sched_hindex *x, size_t cap)
{
	aidc_free(x->slot);
	x->slot = aidc_malloc(cap * sizeof *x->slot);
	memset(x->slot, 0xff, cap * sizeof *x->slot);
	x->cap = cap;
	for (uint32_t r = 0; r < x->n; r++)
		x->slot[find_slot(x, key_of(x, r))] = r;
}

void *sched_hindex_find(const struct sched_hindex *x, const struct sched_hkey *k)
{
	if (!x->cap)
		return NULL;
	uint32_t r = x->slot[find_slot(x, k)];
	return r == UINT32_MAX ? NULL : (char *)x->recs + (size_t)r * x->stride;
}

void *sched_hindex_get(struct sched_hindex *x, const struct sched_hkey *k, size_t stride,
			size_t first_cap, uint32_t max)
{
	if (!x->cap) {
		x->stride = stride;
		rehash(x, first_cap);
	}
	size_t i = find_slot(x, k);
	if (x->slot[i] != UINT32_MAX)
		return (char *)x->recs + (size_t)x->slot[i] * x->stride;
	if (x->n >= max)
		return NULL;
	aidc_grow(&x->recs, &x->cap_recs, (size_t)x->n + 1, x->stride);
	char *rec = (char *)x->recs + (size_t)x->n * x->stride;
	memset(rec, 0, x->stride);
	memcpy(rec, k, sizeof *k);
	x->slot[i] = x->n++;
	if ((size_t)x->n * 2 > x->cap)
		rehash(x, x->cap * 2);
	return rec;
}

void sched_hindex_release(struct sched_hindex *x)
{
	aidc_free(x->recs);
	aidc_free(x->slot);
	x->recs = NULL;
	x->slot = NULL;
	x->n = 0;
	x->cap = x->cap_recs = x->stride = 0;
}
