/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heterogeneity-aware placement (issue 12 item 3, docs/placement.md
 * "Heterogeneity-aware placement"): the speed table of (job class, device
 * model) and the preference key that place.c's model choice ranks pools by.
 *
 * The table holds, per entry, a prior (sched_speed_set: an exam-derived rate,
 * a documented table) and the sum and count of observed speeds
 * (sched_speed_observe: finished jobs' measured throughput). The speed used
 * is their integer mean, the prior counting as one sample, so the first
 * observations move a wrong prior quickly and many converge on the truth.
 *
 * Keys (higher is preferred; equal keys leave the placement's own order):
 *   FASTEST  speed(c, m): every job where its class runs fastest.
 *   GAVEL    speed(c, m) / price(m), with price(m) = 1000 + (A(m) - 1000) x
 *            busy(m) x u^2: A(m) is the mean speed of all known classes on m,
 *            busy(m) the share of m's devices in the partition in use and u
 *            the share of all the partition's devices in use. On an idle
 *            model or in a mostly idle partition the key is the job's own
 *            speed (as FASTEST); on a busy model of a busy partition it is its
 *            speed relative to what the other classes would get from that
 *            model, Gavel's relative speedup (Narayanan et al., OSDI'20): a
 *            class that gains little from a fast model leaves it to classes
 *            that gain much once the fast model is contended.
 * Fairness: the key only chooses among models that can take the job now; the
 * queue order (and so who goes first) is the order policy's, and a job never
 * waits for its preferred model while another acceptable one is free.
 *
 * Cost: a key is O(1) with the per-model class means cached; the cache is
 * rebuilt in O(classes x models) after a table change. Memory: 16 bytes per
 * (class row, model), rows up to the highest class used.
 */
#include "sched/sched_int.h"

struct speed_ent {
	uint32_t prior; /* 0 = none */
	uint32_t nobs;
	uint64_t sum; /* of observed speeds, milli */
};

struct sched_speeds {
	struct speed_ent *v; /* nrows x AIDC_MAX_DEVICE_MODELS */
	uint32_t nrows;
	bool *used;			       /* per row: has an entry (rows >= 1 enter A) */
	uint32_t mean[AIDC_MAX_DEVICE_MODELS]; /* A(m), valid unless dirty */
	bool dirty;
};

static const char *const hetero_names[SCHED_HETERO_COUNT_] = {"off", "fastest", "gavel"};

const struct sched_name sched_hetero_names[] = {
	{SCHED_HETERO_OFF, "off", NULL, "off"},
	{SCHED_HETERO_FASTEST, "fastest", NULL, "fastest"},
	{SCHED_HETERO_GAVEL, "gavel", NULL, "gavel"},
	{0, NULL, NULL, NULL},
};
_Static_assert(AIDC_ARRAY_LEN(sched_hetero_names) == SCHED_HETERO_COUNT_ + 1,
	       "one row per enum sched_hetero value");

int sched_hetero_parse(const char *name, enum sched_hetero *out)
{
	for (int i = 0; name && i < SCHED_HETERO_COUNT_; i++)
		if (!strcmp(name, hetero_names[i])) {
			*out = (enum sched_hetero)i;
			return 0;
		}
	return AIDC_E_INVAL;
}

const char *sched_hetero_name(enum sched_hetero h)
{
	return (unsigned)h < SCHED_HETERO_COUNT_ ? hetero_names[h] : "?";
}

void sched_speeds_free(struct sched_speeds *t)
{
	if (!t)
		return;
	aidc_free(t->v);
	aidc_free(t->used);
	aidc_free(t);
}

int sched_model_set_charge(struct sched *s, uint32_t model, uint32_t charge_milli,
			   struct aidc_err *e)
{
	if (model >= s->nmodels)
		return aidc_errf(e, AIDC_E_INVAL, "unknown device model %u", model);
	if (charge_milli < 1 || charge_milli > AIDC_MAX_SPEED_MILLI)
		return aidc_errf(e, AIDC_E_INVAL, "charge %u milli out of range 1..%u", charge_milli,
				 AIDC_MAX_SPEED_MILLI);
	if (!s->fs_charge) {
		s->fs_charge = aidc_calloc(AIDC_MAX_DEVICE_MODELS, sizeof *s->fs_charge);
		for (uint32_t m = 0; m < AIDC_MAX_DEVICE_MODELS; m++)
			s->fs_charge[m] = AIDC_DEVICE_MILLI;
	}
	s->fs_charge[model] = charge_milli;
	return 0;
}

uint32_t sched_model_charge(const struct sched *s, uint32_t model)
{
	return s->fs_charge && model < AIDC_MAX_DEVICE_MODELS ? s->fs_charge[model]
							      : AIDC_DEVICE_MILLI;
}

void sched_speeds_copy(const struct sched *s, struct sched *c)
{
	const struct sched_speeds *t = s->speeds;
	struct sched_speeds *u;

	aidc_free(c->fs_charge);
	c->fs_charge = NULL;
	if (s->fs_charge) {
		c->fs_charge = aidc_calloc(AIDC_MAX_DEVICE_MODELS, sizeof *c->fs_charge);
		memcpy(c->fs_charge, s->fs_charge, AIDC_MAX_DEVICE_MODELS * sizeof *c->fs_charge);
	}

	sched_speeds_free(c->speeds);
	c->speeds = NULL;
	if (!t)
		return;
	u = aidc_calloc(1, sizeof *u);
	*u = *t;
	u->v = aidc_reallocarray(NULL, (size_t)t->nrows * AIDC_MAX_DEVICE_MODELS, sizeof *u->v);
	memcpy(u->v, t->v, (size_t)t->nrows * AIDC_MAX_DEVICE_MODELS * sizeof *u->v);
	u->used = aidc_reallocarray(NULL, t->nrows, sizeof *u->used);
	memcpy(u->used, t->used, t->nrows * sizeof *u->used);
	c->speeds = u;
}

static uint32_t ent_speed(const struct speed_ent *x)
{
	uint64_t n = x->nobs + (x->prior ? 1u : 0u);
	return n ? (uint32_t)((x->sum + x->prior + n / 2) / n) : 0;
}

uint32_t sched_speed(const struct sched *s, uint32_t cls, uint32_t model)
{
	const struct sched_speeds *t = s->speeds;
	uint32_t v = 0;

	if (!t || model >= AIDC_MAX_DEVICE_MODELS)
		return AIDC_DEVICE_MILLI;
	if (cls < t->nrows)
		v = ent_speed(&t->v[(size_t)cls * AIDC_MAX_DEVICE_MODELS + model]);
	if (!v && t->nrows)
		v = ent_speed(&t->v[model]);
	return v ? v : AIDC_DEVICE_MILLI;
}

static int entry(struct sched *s, uint32_t cls, uint32_t model, uint32_t speed_milli,
		 struct speed_ent **out, struct aidc_err *e)
{
	struct sched_speeds *t;

	if (cls > AIDC_MAX_SPEED_CLASSES)
		return aidc_errf(e, AIDC_E_INVAL, "speed class %u above %u", cls,
				 AIDC_MAX_SPEED_CLASSES);
	if (model >= s->nmodels)
		return aidc_errf(e, AIDC_E_INVAL, "unknown device model %u", model);
	if (speed_milli < 1 || speed_milli > AIDC_MAX_SPEED_MILLI)
		return aidc_errf(e, AIDC_E_INVAL, "speed %u milli out of range 1..%u", speed_milli,
				 AIDC_MAX_SPEED_MILLI);
	if (!s->speeds)
		s->speeds = aidc_calloc(1, sizeof *s->speeds);
	t = s->speeds;
	if (cls >= t->nrows) {
		uint32_t n = cls + 1;
		t->v = aidc_reallocarray(t->v, (size_t)n * AIDC_MAX_DEVICE_MODELS, sizeof *t->v);
		memset(t->v + (size_t)t->nrows * AIDC_MAX_DEVICE_MODELS, 0,
		       (size_t)(n - t->nrows) * AIDC_MAX_DEVICE_MODELS * sizeof *t->v);
		t->used = aidc_reallocarray(t->used, n, sizeof *t->used);
		memset(t->used + t->nrows, 0, (n - t->nrows) * sizeof *t->used);
		t->nrows = n;
	}
	t->used[cls] = true;
	t->dirty = true;
	*out = &t->v[(size_t)cls * AIDC_MAX_DEVICE_MODELS + model];
	return 0;
}

int sched_speed_set(struct sched *s, uint32_t cls, uint32_t model, uint32_t speed_milli,
		    struct aidc_err *e)
{
	struct speed_ent *x = NULL;
	int rc = entry(s, cls, model, speed_milli, &x, e);

	if (rc)
		return rc;
	x->prior = speed_milli;
	return 0;
}

int sched_speed_observe(struct sched *s, uint32_t cls, uint32_t model, uint32_t speed_milli,
			struct aidc_err *e)
{
	struct speed_ent *x = NULL;
	int rc = entry(s, cls, model, speed_milli, &x, e);

	if (rc)
		return rc;
	if (x->nobs == UINT32_MAX)
		return 0; /* 4 billion samples: the mean no longer moves */
	x->nobs++;
	x->sum += speed_milli;
	return 0;
}

/* A(m) for every model: the mean over class rows >= 1 with an entry (row 0
 * alone when there is none). */
static void means_rebuild(struct sched *s)
{
	struct sched_speeds *t = s->speeds;

	for (uint32_t m = 0; m < AIDC_MAX_DEVICE_MODELS; m++) {
		uint64_t sum = 0, n = 0;
		for (uint32_t c = 1; c < t->nrows; c++)
			if (t->used[c]) {
				sum += sched_speed(s, c, m);
				n++;
			}
		t->mean[m] = n ? (uint32_t)((sum + n / 2) / n) : sched_speed(s, 0, m);
	}
	t->dirty = false;
}

/* u^2 in milli, u the device utilization of j's partition (allocated over
 * the devices of its up nodes). A model's devices cost more than their
 * speed only when someone else may want them: with most of the partition
 * idle, the next job finds a fast device free too, so taking one costs
 * nobody anything and the job should run where it is fastest. Squaring keeps
 * the price near the speed until the partition is mostly busy (chosen on
 * bench/hetero's 4-seed mean among eight contention terms, docs/placement.md). */
static uint64_t part_load_sq_milli(const struct sched *s, const struct sched_job *j)
{
	const struct sched_usage *u = &s->parts[j->part].use;
	uint64_t used = AIDC_MIN(u->dev_milli_used, u->dev_milli_total);
	uint64_t load = u->dev_milli_total ? used * 1000 / u->dev_milli_total : 0;

	return load * load / 1000;
}

uint64_t sched_hetero_key(struct sched *s, const struct sched_job *j, const struct sched_pool *p)
{
	uint64_t sp, busy_milli;
	int64_t price;

	if (s->cfg.hetero == SCHED_HETERO_OFF)
		return 0;
	sp = sched_speed(s, j->speed_class, p->model);
	if (s->cfg.hetero == SCHED_HETERO_FASTEST || !s->speeds)
		return sp;
	if (s->speeds->dirty)
		means_rebuild(s);
	busy_milli = p->up_devs ? (p->up_devs - p->free_devs) * 1000 / p->up_devs : 0;
	busy_milli = busy_milli * part_load_sq_milli(s, j) / 1000;
	price = 1000 + ((int64_t)s->speeds->mean[p->model] - 1000) * (int64_t)busy_milli / 1000;
	if (price < 1)
		price = 1;
	return sp * 1000000 / (uint64_t)price + 1;
}
