/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Synthetic workload generator (`aidc sim --generate`), for users without a
 * trace and for scale tests. Deterministic: all randomness comes from one
 * struct aidc_rng seeded by the caller.
 *
 * Model (docs/sim.md lists the numbers and their sources):
 *   - arrivals are a Poisson process; the mean inter-arrival time is given, or
 *     set so that the generated sample offers exactly a target load (device-
 *     seconds asked / device-seconds available over the arrival span) to a
 *     cluster of a given size;
 *   - each job belongs to a user (users are drawn with a skew, so a few heavy
 *     users submit most jobs, as in production traces) and each user belongs
 *     to a tenant; every user has a few job "templates" (a GPU count and a
 *     typical duration), and each job repeats one of them with log-normal noise
 *     (sigma 0.5), so history-based prediction (QSSF) has something to learn;
 *   - template GPU counts follow the profile's published distribution and
 *     template durations a log-normal fitted to the profile's mean and median.
 * Durations are capped at 14 days.
 */
#include <math.h>

#include "sim/sim_int.h"

#define GEN_TEMPLATES_PER_USER 4
#define GEN_NOISE_SIGMA 0.5
#define GEN_MAX_DURATION_S (14 * 86400)
#define GEN_MAX_USERS 100000u

struct gen_profile {
	const char *name;
	double median_s, sigma;    /* log-normal template durations */
	uint32_t gpus[8];          /* GPU counts ... */
	double p[8];               /* ... and their probabilities (sum 1) */
};

/*
 * philly: fitted to the 82,247 jobs of the Pollux Philly trace (mean run
 *         13,136 s, median 1,144 s -> sigma 2.21; 93% single-GPU jobs, mean 1.30).
 * venus/earth: Helios (SC'21) published means (Venus 13,041 s and 6.74 GPUs
 *         per job; Earth 5,131 s and 2.10 GPUs); the shape (sigma 2.0) is our
 *         assumption, since only means are published.
 */
static const struct gen_profile profiles[] = {
	{"philly", 1144.0, 2.21, {1, 2, 4, 8, 16, 32}, {0.932, 0.022, 0.0227, 0.020, 0.0024, 0.0009}},
	{"venus", 1765.0, 2.0, {1, 2, 4, 8, 16, 32, 64}, {0.38, 0.10, 0.12, 0.26, 0.08, 0.045, 0.015}},
	{"earth", 694.0, 2.0, {1, 2, 4, 8, 16}, {0.72, 0.095, 0.10, 0.07, 0.015}},
};

int sim_gen_profile_parse(const char *s)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(profiles); i++)
		if (strcmp(s, profiles[i].name) == 0)
			return (int)i;
	return -1;
}

void sim_gen_defaults(struct sim_gen_opts *o)
{
	memset(o, 0, sizeof *o);
	o->njobs = 4000;
	o->seed = 1;
	o->profile = SIM_GEN_PHILLY;
	o->load = 0.9;
	o->cluster_devices = 256;
	o->node_devices = 8;
	o->start_s = 1506816000; /* 2017-10-01 00:00:00 UTC */
	o->nusers = 64;
	o->ntenants = 4;
}

static uint32_t draw_gpus(const struct gen_profile *p, struct aidc_rng *r)
{
	double u = aidc_rng_unit(r), acc = 0;
	size_t last = 0;
	for (size_t k = 0; k < AIDC_ARRAY_LEN(p->p) && p->gpus[k]; k++) {
		acc += p->p[k];
		last = k;
		if (u < acc)
			return p->gpus[k];
	}
	return p->gpus[last];
}

struct tmpl {
	uint32_t gpus;
	double median_s;
};

static int setup_names(struct sim_trace *t, const struct sim_gen_opts *o, uint32_t *users,
		       uint32_t *tenants, uint32_t *names, struct aidc_err *e)
{
	char buf[64];
	for (uint32_t u = 0; u < o->nusers; u++) {
		snprintf(buf, sizeof buf, "user%03u", u);
		int a = sim_strtab_intern(&t->strs, buf);
		snprintf(buf, sizeof buf, "tenant%u", u % o->ntenants);
		int b = sim_strtab_intern(&t->strs, buf);
		if (a < 0 || b < 0)
			return aidc_errf(e, AIDC_E_LIMIT, "too many names");
		users[u] = (uint32_t)a;
		tenants[u] = (uint32_t)b;
		for (uint32_t k = 0; k < GEN_TEMPLATES_PER_USER; k++) {
			snprintf(buf, sizeof buf, "u%03u-job%u", u, k);
			int c = sim_strtab_intern(&t->strs, buf);
			if (c < 0)
				return aidc_errf(e, AIDC_E_LIMIT, "too many names");
			names[u * GEN_TEMPLATES_PER_USER + k] = (uint32_t)c;
		}
	}
	return 0;
}

int sim_gen(const struct sim_gen_opts *o, struct sim_trace *t, struct aidc_err *e)
{
	if ((size_t)o->profile >= AIDC_ARRAY_LEN(profiles))
		return aidc_errf(e, AIDC_E_INVAL, "unknown workload profile %d", (int)o->profile);
	if (o->njobs > AIDC_MAX_TRACE_JOBS || t->n + o->njobs > AIDC_MAX_TRACE_JOBS)
		return aidc_errf(e, AIDC_E_LIMIT, "more than %u jobs", AIDC_MAX_TRACE_JOBS);
	if (o->nusers == 0 || o->nusers > GEN_MAX_USERS || o->ntenants == 0 ||
	    o->ntenants > o->nusers)
		return aidc_errf(e, AIDC_E_INVAL, "users must be 1..%u and tenants 1..users",
				 GEN_MAX_USERS);
	const struct gen_profile *p = &profiles[o->profile];
	double ia = o->mean_interarrival_s;
	if (ia <= 0 && (o->load <= 0 || o->cluster_devices == 0))
		return aidc_errf(e, AIDC_E_INVAL, "need an inter-arrival time, or a load and a "
				 "cluster size");
	struct aidc_rng rng;
	aidc_rng_seed(&rng, o->seed);
	double *at = NULL;
	uint32_t *users = aidc_malloc(o->nusers * sizeof *users);
	uint32_t *tenants = aidc_malloc(o->nusers * sizeof *tenants);
	uint32_t *names = aidc_malloc((size_t)o->nusers * GEN_TEMPLATES_PER_USER * sizeof *names);
	struct tmpl *tm = aidc_malloc((size_t)o->nusers * GEN_TEMPLATES_PER_USER * sizeof *tm);
	int rc = setup_names(t, o, users, tenants, names, e);
	if (rc)
		goto fail;
	for (size_t k = 0; k < (size_t)o->nusers * GEN_TEMPLATES_PER_USER; k++) {
		tm[k].gpus = draw_gpus(p, &rng);
		tm[k].median_s = aidc_rng_lognormal(&rng, log(p->median_s), p->sigma);
	}
	uint32_t nd = o->node_devices ? o->node_devices : 8;
	size_t first = t->n;
	/* Arrival times with unit mean gaps first; rescaled below when the rate
	 * comes from a target load, so the load holds exactly for this sample. */
	at = aidc_malloc((o->njobs ? o->njobs : 1) * sizeof *at);
	double now = 0, work = 0;
	for (size_t i = 0; i < o->njobs; i++) {
		now += aidc_rng_exp(&rng, ia > 0 ? ia : 1.0);
		at[i] = now;
		double u = aidc_rng_unit(&rng);
		uint32_t user = (uint32_t)(u * u * o->nusers); /* skew: low ids submit more */
		uint32_t k = (uint32_t)aidc_rng_below(&rng, GEN_TEMPLATES_PER_USER);
		const struct tmpl *x = &tm[user * GEN_TEMPLATES_PER_USER + k];
		double d = x->median_s * aidc_rng_lognormal(&rng, 0.0, GEN_NOISE_SIGMA);
		struct sim_job j;
		memset(&j, 0, sizeof j);
		j.id = t->n + 1;
		j.duration_s = (int64_t)AIDC_MIN(AIDC_MAX(d, 1.0), (double)GEN_MAX_DURATION_S);
		work += (double)x->gpus * (double)j.duration_s;
		uint32_t g = x->gpus;
		j.ntasks = g <= nd ? 1 : g % nd == 0 ? g / nd : g;
		j.ndev = g / j.ntasks;
		j.dev_milli = AIDC_DEVICE_MILLI;
		j.flags = SIM_JOB_PREEMPTIBLE;
		j.user = users[user];
		j.tenant = tenants[user];
		j.name = names[user * GEN_TEMPLATES_PER_USER + k];
		if ((rc = sim_trace_append(t, &j, 0, e)) != 0)
			goto fail;
	}
	/* Offered load = work / (span x devices), so span = work / (load x devices). */
	double scale = 1.0;
	if (ia <= 0 && now > 0)
		scale = work / (o->load * (double)o->cluster_devices) / now;
	for (size_t i = 0; i < o->njobs; i++)
		t->jobs[first + i].submit_s = o->start_s + (int64_t)(at[i] * scale);
fail:
	aidc_free(at);
	aidc_free(users);
	aidc_free(tenants);
	aidc_free(names);
	aidc_free(tm);
	return rc;
}
