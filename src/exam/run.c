/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exam harness: for one question, make deterministic inputs (seeded by
 * the run seed and the question id), upload them, ask once and check the
 * answer against an fp64 reference, time warm repeated runs, check the
 * answer again, and fill an exam_result. Reference checks use "probes":
 * output elements (all of them, or a seeded sample for large outputs) with
 * their fp64 value and an error bound from the per-precision tolerance;
 * every output is also scanned for NaN/Inf. Methodology: docs/exam.md.
 */
#include <math.h>
#include <time.h>

#include "dev/half.h"
#include "exam/exam.h"
#include "exam/exam_int.h"
#include "util/util.h"

/* Per precision: bound = acc * sum|a_i b_i| + out * |ref| (docs/exam.md). */
static const struct {
	double acc, out;
} tol[AIDC_DEV_NDTYPES] = {
	[AIDC_DEV_F32] = {1e-5, 1e-6},
	[AIDC_DEV_F16] = {1e-4, 1e-3},
	[AIDC_DEV_BF16] = {1e-4, 8e-3},
	[AIDC_DEV_F64] = {1e-12, 1e-14},
};

/* Timing per level: samples, shortest sample, soft budget per question. */
static const struct {
	uint32_t samples;
	double min_sample_s, budget_s;
} timing[3] = {{3, 0.02, 4.0}, {5, 0.05, 10.0}, {7, 0.1, 20.0}};

double exam_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Uniform [-1, 1) rounded to dtype: val gets the rounded value, raw the storage. */
static void fill(struct aidc_rng *rng, enum aidc_dev_dtype t, size_t n, float *val, void *raw)
{
	for (size_t i = 0; i < n; i++) {
		float f = (float)(2.0 * aidc_rng_unit(rng) - 1.0);
		if (t == AIDC_DEV_F16) {
			uint16_t h = dev_f32_to_f16(f);
			((uint16_t *)raw)[i] = h;
			val[i] = dev_f16_to_f32(h);
		} else if (t == AIDC_DEV_BF16) {
			uint16_t h = dev_f32_to_bf16(f);
			((uint16_t *)raw)[i] = h;
			val[i] = dev_bf16_to_f32(h);
		} else {
			((float *)raw)[i] = f;
			val[i] = f;
		}
	}
}

static double elem(enum aidc_dev_dtype t, const void *raw, size_t i)
{
	switch (t) {
	case AIDC_DEV_F16:
		return dev_f16_to_f32(((const uint16_t *)raw)[i]);
	case AIDC_DEV_BF16:
		return dev_bf16_to_f32(((const uint16_t *)raw)[i]);
	case AIDC_DEV_F64:
		return ((const double *)raw)[i];
	default:
		return ((const float *)raw)[i];
	}
}

void exam_job_init(struct exam_job *j, struct dev_plugin *p, uint32_t dev,
		   const struct exam_question *q, uint64_t seed)
{
	memset(j, 0, sizeof *j);
	j->p = p;
	j->dev = dev;
	j->q = q;
	aidc_rng_seed(&j->rng, seed ^ fnv1a(q->id));
}

void exam_job_release(struct exam_job *j)
{
	for (int i = 0; i < EXAM_JOB_BUFS; i++) {
		dev_mem_free(j->p, j->buf_dev[i], j->buf[i]);
		aidc_free(j->host[i]);
		aidc_free(j->val[i]);
	}
	aidc_free(j->out);
	aidc_free(j->probes);
	memset(j, 0, sizeof *j);
}

/* Allocates device buffer slot i of bytes on device dev. */
int exam_job_alloc(struct exam_job *j, int i, uint32_t dev, uint64_t bytes, struct aidc_err *e)
{
	j->buf_dev[i] = dev;
	j->bytes[i] = bytes;
	return dev_mem_alloc(j->p, dev, bytes, &j->buf[i], e);
}

/* Allocates slot i with n random elements of dtype t and uploads them. */
int exam_job_input(struct exam_job *j, int i, enum aidc_dev_dtype t, size_t n, struct aidc_err *e)
{
	size_t es = dev_dtype_size(t);
	int rc = exam_job_alloc(j, i, j->dev, (uint64_t)n * es, e);
	if (rc)
		return rc;
	j->host[i] = aidc_malloc(n * es);
	j->val[i] = aidc_malloc(n * sizeof(float));
	fill(&j->rng, t, n, j->val[i], j->host[i]);
	return dev_copy_h2d(j->p, j->dev, j->buf[i], 0, j->host[i], (uint64_t)n * es, e);
}

/* Random bytes into a host buffer (for copies, which are checked bit-exactly). */
void exam_job_random_bytes(struct exam_job *j, void *dst, size_t n)
{
	uint8_t *d = dst;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v = aidc_rng_next(&j->rng);
		memcpy(d + i, &v, 8);
	}
	for (; i < n; i++)
		d[i] = (uint8_t)aidc_rng_next(&j->rng);
}

struct exam_probe *exam_job_probes(struct exam_job *j, size_t n)
{
	j->probes = aidc_calloc(n ? n : 1, sizeof *j->probes);
	j->nprobes = n;
	return j->probes;
}

/* Which output elements to probe: all if few, else a seeded sample. */
size_t exam_pick(struct exam_job *j, size_t nout, size_t max, size_t k)
{
	return nout <= max ? k : (size_t)aidc_rng_below(&j->rng, nout);
}

void exam_tol(enum aidc_dev_dtype t, double *acc, double *out)
{
	*acc = tol[t].acc;
	*out = tol[t].out;
}

/*
 * Reads the output back and compares it with the probes. Scans every output
 * element for NaN/Inf. Returns 0, or AIDC_E_WRONG_ANSWER with the first bad
 * element described in e; res->max_err gets the worst |err|/bound.
 */
static int check_probes(struct exam_job *j, struct exam_result *res, struct aidc_err *e)
{
	int ob = j->out_buf;
	size_t es = dev_dtype_size(j->out_type);
	size_t n = (size_t)(j->bytes[ob] / es);
	if (!j->out)
		j->out = aidc_malloc((size_t)j->bytes[ob]);
	int rc = dev_copy_d2h(j->p, j->buf_dev[ob], j->out, j->buf[ob], 0, j->bytes[ob], e);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(elem(j->out_type, j->out, i)))
			return aidc_errf(e, AIDC_E_WRONG_ANSWER, "output[%zu] is not finite", i);
	for (size_t k = 0; k < j->nprobes; k++) {
		const struct exam_probe *pr = &j->probes[k];
		double got = elem(j->out_type, j->out, (size_t)pr->idx);
		double r = fabs(got - pr->ref) / pr->bound;
		if (r > res->max_err)
			res->max_err = r;
		if (!(r <= 1.0))
			return aidc_errf(e, AIDC_E_WRONG_ANSWER,
					 "output[%" PRIu64 "] = %.9g, fp64 reference %.9g, error %.3g "
					 "exceeds the bound %.3g",
					 pr->idx, got, pr->ref, fabs(got - pr->ref), pr->bound);
	}
	res->checked = j->nprobes;
	return 0;
}

/* Exact comparison of a device buffer (or host buffer) with the expected bytes. */
static int check_bytes(struct exam_job *j, struct exam_result *res, struct aidc_err *e)
{
	int ob = j->out_buf;
	size_t n = (size_t)j->bytes[ob];
	const uint8_t *got = j->host_out;
	if (!got) {
		if (!j->out)
			j->out = aidc_malloc(n);
		int rc = dev_copy_d2h(j->p, j->buf_dev[ob], j->out, j->buf[ob], 0, n, e);
		if (rc)
			return rc;
		got = j->out;
	}
	const uint8_t *want = j->expect;
	if (memcmp(got, want, n) != 0) {
		size_t i = 0;
		while (got[i] == want[i])
			i++;
		return aidc_errf(e, AIDC_E_WRONG_ANSWER, "byte %zu is 0x%02x, expected 0x%02x", i,
				 got[i], want[i]);
	}
	res->checked = n;
	return 0;
}

static int check(struct exam_job *j, struct exam_result *res, struct aidc_err *e)
{
	return j->expect ? check_bytes(j, res, e) : check_probes(j, res, e);
}

static int sync_all(struct exam_job *j, struct aidc_err *e)
{
	if (j->q->kind == EXAM_PEER || j->q->kind == EXAM_ALLREDUCE) {
		for (uint32_t d = 0; d < j->ncoll; d++) {
			int rc = dev_sync(j->p, d, e);
			if (rc)
				return rc;
		}
		return 0;
	}
	return dev_sync(j->p, j->dev, e);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Warm-up, calibration and timed samples; fills the timing fields of res. */
static int measure(struct exam_job *j, enum exam_level lvl, struct exam_result *res,
		   struct aidc_err *e)
{
	double t0 = exam_now_s();
	int rc = exam_launch(j, e);
	if (!rc)
		rc = sync_all(j, e);
	if (rc)
		return rc;
	double t1 = exam_now_s() - t0;
	if (t1 < 1e-7)
		t1 = 1e-7;
	uint64_t iters = (uint64_t)ceil(timing[lvl].min_sample_s / t1);
	iters = iters < 1 ? 1 : iters > 1000000 ? 1000000 : iters;
	double per_sample = t1 * (double)iters;
	uint32_t samples = timing[lvl].samples;
	uint32_t fit = (uint32_t)(timing[lvl].budget_s / per_sample);
	if (fit < samples)
		samples = fit < 3 ? 3 : fit;
	double t[16];
	for (uint32_t s = 0; s < samples; s++) {
		t0 = exam_now_s();
		for (uint64_t i = 0; i < iters && !rc; i++)
			rc = exam_launch(j, e);
		if (!rc)
			rc = sync_all(j, e);
		if (rc)
			return rc;
		t[s] = (exam_now_s() - t0) / (double)iters;
	}
	qsort(t, samples, sizeof t[0], cmp_double);
	res->samples = samples;
	res->iters = iters;
	res->min_s = t[0];
	res->max_s = t[samples - 1];
	res->median_s = samples % 2 ? t[samples / 2] : 0.5 * (t[samples / 2 - 1] + t[samples / 2]);
	res->spread_pct = 100.0 * (res->max_s - res->min_s) / res->median_s;
	res->value = j->work / res->median_s * 1e-9;
	return 0;
}

static const char *kind_name(enum exam_kind k)
{
	static const char *const names[] = {"gemm",  "conv", "attention", "copy", "triad", "gelu",
					    "reduce", "h2d", "d2h", "peer", "allreduce"};
	return (unsigned)k < AIDC_ARRAY_LEN(names) ? names[k] : "unknown";
}

static double claimed_peak(const struct dev_plugin *p, uint32_t dev, const struct exam_question *q)
{
	const struct aidc_dev_info *in = &p->info[dev];
	switch (q->kind) {
	case EXAM_GEMM:
	case EXAM_CONV:
	case EXAM_ATTN:
		return in->peak_gflops[q->dtype];
	case EXAM_H2D:
	case EXAM_D2H:
		return in->peak_host_link_gbps;
	case EXAM_PEER:
	case EXAM_ALLREDUCE:
		return 0;
	default:
		return in->peak_mem_gbps;
	}
}

static void set_status(struct exam_result *res, int rc, const struct aidc_err *e)
{
	const char *st = rc == AIDC_E_WRONG_ANSWER ? "wrong"
			 : rc == AIDC_E_UNSUPPORTED ? "unsupported"
						    : "error";
	snprintf(res->status, sizeof res->status, "%s", st);
	snprintf(res->error, sizeof res->error, "%s", aidc_err_text(e, rc));
	res->value = 0;
	res->score = 0;
	res->peak_fraction = 0;
}

void exam_run_question(struct dev_plugin *p, uint32_t dev, const struct exam_question *q,
		       enum exam_level level, uint64_t seed, struct exam_result *res)
{
	struct exam_job j;
	struct aidc_err e;
	aidc_err_clear(&e);
	memset(res, 0, sizeof *res);
	snprintf(res->id, sizeof res->id, "%s", q->id);
	snprintf(res->group, sizeof res->group, "%s", q->group);
	snprintf(res->kind, sizeof res->kind, "%s", kind_name(q->kind));
	snprintf(res->dtype, sizeof res->dtype, "%s", dev_dtype_name(q->dtype));
	snprintf(res->source, sizeof res->source, "%s", q->source);
	exam_shape_str(q, res->shape, sizeof res->shape);
	bool bytes = q->kind >= EXAM_COPY;
	snprintf(res->metric, sizeof res->metric, "%s", bytes ? "GB/s" : "GFLOP/s");
	exam_job_init(&j, p, dev, q, seed);
	int rc = exam_setup(&j, &e);
	if (rc == AIDC_E_NOMEM)
		rc = aidc_errf(&e, AIDC_E_UNSUPPORTED, "does not fit the device's memory");
	if (!rc)
		rc = exam_launch(&j, &e);
	if (!rc)
		rc = sync_all(&j, &e);
	if (!rc)
		rc = check(&j, res, &e);
	if (!rc)
		rc = exam_before_timing(&j, &e);
	if (!rc)
		rc = measure(&j, level, res, &e);
	if (!rc && !j.in_place)
		rc = check(&j, res, &e); /* right only the first time is still wrong */
	res->work = j.work;
	res->tolerance = tol[q->dtype].acc;
	if (rc) {
		set_status(res, rc, &e);
	} else {
		snprintf(res->status, sizeof res->status, "pass");
		res->peak = claimed_peak(p, dev, q);
		res->peak_fraction = res->peak > 0 ? res->value / res->peak : 0;
	}
	exam_job_release(&j);
}
