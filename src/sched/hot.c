/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pass's compact per-job data and the job-shape table (sched_int.h
 * "struct sched_hot", "struct sched_shape").
 *
 * Why: a scheduling pass over a long queue is bound by memory, not by work.
 * Sorting 100,000 pending jobs and turning most of them away used to read
 * every job record (352 bytes each, 35 MB in all) and write two fields of
 * each; on a shared machine that costs tens of milliseconds more than the
 * work itself. s->hot keeps what those steps need in ~100 bytes a job, and
 * jobs of one shape (same partition, task count, node constraint and task
 * request) share one never-fits answer and one memo answer per partition pass.
 *
 * The per-job arrays (s->jobs, s->hot) grow by copying into a fresh block,
 * not by realloc: glibc moves a large block's pages with mremap, and on a
 * virtual machine with shadow paging (this project's test machines) the first
 * touch of each moved page then costs ~10 us. A pass over 100,000 queued jobs
 * paid that on ~7,000 pages (~60 ms) right after the queue grew; the copy pays
 * the same O(n) amortized at the submit that grows the array.
 *
 * Shapes are interned in an open-addressing table (linear probing, at most
 * half full, FNV-1a over the fields); the table only grows, up to
 * SCHED_SHAPES_MAX shapes. Cost: O(1) expected per submit.
 */
#include "sched/sched_int.h"

static bool shape_eq(const struct sched_shape *a, const struct sched_job *j)
{
	return a->part == j->part && a->ntasks == j->ntasks && a->nnodes == j->nnodes &&
	       a->per_node == j->per_node && a->task.cpu_milli == j->task.cpu_milli &&
	       a->task.mem_mib == j->task.mem_mib && a->task.ndev == j->task.ndev &&
	       a->task.dev_milli == j->task.dev_milli && a->task.model_mask == j->task.model_mask &&
	       a->task.exclusive == j->task.exclusive;
}

static uint64_t fnv(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xffu;
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t shape_hash(const struct sched_job *j)
{
	uint64_t h = 14695981039346656037ull;
	h = fnv(h, (uint64_t)j->part << 32 | j->ntasks);
	h = fnv(h, (uint64_t)j->nnodes << 32 | j->per_node);
	h = fnv(h, (uint64_t)j->task.cpu_milli << 32 | j->task.ndev);
	h = fnv(h, j->task.mem_mib);
	h = fnv(h, (uint64_t)j->task.dev_milli << 1 | j->task.exclusive);
	return fnv(h, j->task.model_mask);
}

/* Doubles the table (or makes the first one) and re-inserts every shape. */
static void tab_grow(struct sched *s)
{
	uint32_t n = s->shape_tab_n ? 2 * s->shape_tab_n : 64;

	aidc_free(s->shape_tab);
	s->shape_tab = aidc_reallocarray(NULL, n, sizeof *s->shape_tab);
	memset(s->shape_tab, 0, (size_t)n * sizeof *s->shape_tab);
	s->shape_tab_n = n;
	for (uint32_t i = 0; i < s->nshapes; i++) {
		struct sched_job pj;
		sched_shape_proto(&s->shapes[i], &pj);
		uint32_t k = (uint32_t)shape_hash(&pj) & (n - 1);
		while (s->shape_tab[k])
			k = (k + 1) & (n - 1);
		s->shape_tab[k] = i + 1;
	}
}

/* The shape of job record j: found or added; SCHED_NO_SHAPE once the table is full. */
static uint32_t shape_intern(struct sched *s, const struct sched_job *j)
{
	if (2 * ((size_t)s->nshapes + 1) > s->shape_tab_n)
		tab_grow(s);
	uint32_t k = (uint32_t)shape_hash(j) & (s->shape_tab_n - 1);
	for (; s->shape_tab[k]; k = (k + 1) & (s->shape_tab_n - 1))
		if (shape_eq(&s->shapes[s->shape_tab[k] - 1], j))
			return s->shape_tab[k] - 1;
	if (s->nshapes >= SCHED_SHAPES_MAX)
		return SCHED_NO_SHAPE;
	AIDC_GROW(s->shapes, s->cap_shapes, (size_t)s->nshapes + 1);
	struct sched_shape *sh = &s->shapes[s->nshapes];
	memset(sh, 0, sizeof *sh);
	sh->part = j->part;
	sh->ntasks = j->ntasks;
	sh->nnodes = j->nnodes;
	sh->per_node = j->per_node;
	sh->task = j->task;
	s->shape_tab[k] = s->nshapes + 1;
	return s->nshapes++;
}

void sched_grow_copy(void **v, size_t *cap, size_t need, size_t elem_size)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 8;
	while (c < need)
		c = c > SIZE_MAX / 4 ? need : 2 * c;
	void *n = aidc_reallocarray(NULL, c, elem_size);
	if (*cap)
		memcpy(n, *v, *cap * elem_size);
	aidc_free(*v);
	*v = n;
	*cap = c;
}

void sched_reserve_jobs(struct sched *s, size_t n)
{
	SCHED_GROW_COPY(s->jobs, s->cap_jobs, n);
	SCHED_GROW_COPY(s->hot, s->cap_hot, n);
}

void sched_shape_proto(const struct sched_shape *sh, struct sched_job *pj)
{
	memset(pj, 0, sizeof *pj);
	pj->part = sh->part;
	pj->ntasks = sh->ntasks;
	pj->nnodes = sh->nnodes;
	pj->per_node = sh->per_node;
	pj->task = sh->task;
}

struct sched_shape *sched_shape_of(struct sched *s, uint32_t h)
{
	uint32_t k = s->hot[h].shape;
	return k == SCHED_NO_SHAPE || s->no_fast_path ? NULL : &s->shapes[k];
}

void sched_shape_queued(struct sched *s, uint32_t h, int delta)
{
	const struct sched_hot *x = &s->hot[h];
	struct sched_partition *p = &s->parts[x->part];
	if (x->shape == SCHED_NO_SHAPE) {
		p->qnoshape += (uint32_t)delta;
		return;
	}
	struct sched_shape *sh = &s->shapes[x->shape];
	if (delta > 0) {
		p->qshapes += sh->nqueued++ == 0;
		p->qmin_est = AIDC_MIN(p->qmin_est, x->est);
		return;
	}
	if (--sh->nqueued > 0)
		return;
	/* gone: no longer one of the shapes counted dead in this partition pass */
	p->qshapes--;
	for (int b = 0; b < 2; b++)
		if (sh->dead_stamp[b] == s->pp_stamp) {
			sh->dead_stamp[b] = 0;
			s->pp_dead[b]--;
		}
}

void sched_hot_fill(struct sched *s, uint32_t h)
{
	const struct sched_job *j = &s->jobs[h];
	struct sched_hot *x;

	SCHED_GROW_COPY(s->hot, s->cap_hot, (size_t)h + 1);
	x = &s->hot[h];
	memset(x, 0, sizeof *x);
	x->seq = j->seq;
	x->id = j->id;
	x->est = sched_job_est(s, j);
	x->submit_s = j->submit_s;
	x->units = sched_job_dev_milli(j);
	x->priority = j->priority;
	x->part = j->part;
	x->qos_milli = j->qos_milli;
	x->ngroups = (uint8_t)j->ngroups;
	memcpy(x->groups, j->groups, sizeof x->groups);
	x->reason = SCHED_REASON_NONE;
	/* A node filter is the job's own: no shape, so never-fits and the memo
	 * answer for it alone (pass.c). */
	x->shape = j->filter ? SCHED_NO_SHAPE : shape_intern(s, j);
}

void sched_hot_release(struct sched *s)
{
	aidc_free(s->hot);
	aidc_free(s->shapes);
	aidc_free(s->shape_tab);
	s->hot = NULL;
	s->shapes = NULL;
	s->shape_tab = NULL;
	s->nshapes = 0;
	s->shape_tab_n = 0;
}
