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

double exam_level_budget_s(enum exam_level l)
{
	return (unsigned)l < 3 ? timing[l].budget_s : timing[2].budget_s;
}

double exam_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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
	j->sign = 1.0;
	aidc_rng_seed(&j->rng, seed ^ aidc_hash_str(q->id));
}

void exam_job_release(struct exam_job *j)
{
	for (int i = 0; i < EXAM_JOB_BUFS; i++) {
		dev_mem_free(j->p, j->buf_dev[i], j->buf[i]);
		if (j->pinned[i])
			dev_host_free(j->p, j->dev, j->host[i]);
		else
			aidc_free(j->host[i]);
		aidc_free(j->val[i]);
	}
	aidc_free(j->out);
	aidc_free(j->zeros);
	aidc_free(j->probes);
	aidc_free(j->px);
	aidc_free(j->pz);
	aidc_free(j->pzb);
	aidc_free(j->pzbase);
	aidc_free(j->hx);
	aidc_free(j->hlo);
	aidc_free(j->hhi);
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

struct exam_probe *exam_job_more_probes(struct exam_job *j, size_t n)
{
	j->probes = aidc_reallocarray(j->probes, j->nprobes + n, sizeof *j->probes);
	memset(j->probes + j->nprobes, 0, n * sizeof *j->probes);
	j->nprobes += n;
	return j->probes + j->nprobes - n;
}

/* Which output elements to probe: all if few, else a seeded sample. */
size_t exam_pick(struct exam_job *j, size_t nout, size_t max, size_t k)
{
	return nout <= max ? k : (size_t)aidc_rng_below(&j->rng, nout);
}

double exam_abs_floor(enum aidc_dev_dtype t)
{
	return t == AIDC_DEV_F16 ? 0x1p-24 : t == AIDC_DEV_BF16 ? 0x1p-133 : 1e-30;
}

void exam_tol(enum aidc_dev_dtype t, double *acc, double *out)
{
	*acc = tol[t].acc;
	*out = tol[t].out;
}

/* Spacing of 16-bit values near x (normal range; the subnormal spacing below). */
static double ulp16(enum aidc_dev_dtype t, double x)
{
	int ex;
	frexp(fabs(x), &ex); /* |x| in [2^(ex-1), 2^ex) */
	int mant = t == AIDC_DEV_F16 ? 10 : 7, emin = t == AIDC_DEV_F16 ? -14 : -126;
	int e1 = ex - 1 < emin ? emin : ex - 1;
	return ldexp(1.0, e1 - mant);
}

/*
 * 16-bit outputs must be rounded to nearest even (docs/exam.md). Truncation
 * stays inside the error bound element by element, but it is biased: every
 * result moves toward zero, by half a unit in the last place on average,
 * where round-to-nearest is unbiased. The mean signed error over the probes
 * (in units of the output's ulp) tells them apart: about 0 when rounded,
 * about -0.5 when truncated; -0.25 is the line.
 */
static int check_rounding(struct exam_job *j, struct aidc_err *e)
{
	if (j->out_type != AIDC_DEV_F16 && j->out_type != AIDC_DEV_BF16)
		return 0;
	double sum = 0;
	size_t n = 0;
	for (size_t k = 0; k < j->nprobes; k++) {
		const struct exam_probe *pr = &j->probes[k];
		double ref = j->sign * pr->ref + pr->base, got = elem(j->out_type, j->out, (size_t)pr->idx);
		if (fabs(ref) < 1e-3 || (got < 0) != (ref < 0))
			continue;
		sum += (fabs(got) - fabs(ref)) / ulp16(j->out_type, ref);
		n++;
	}
	if (n >= 256 && sum / (double)n < -0.25)
		return aidc_errf(e, AIDC_E_WRONG_ANSWER,
				 "%s outputs are truncated, not rounded to nearest even: mean signed "
				 "error %.2f ulp over %zu outputs (rounding gives about 0)",
				 dev_dtype_name(j->out_type), sum / (double)n, n);
	return 0;
}

/* The Freivalds-style whole-output check (see struct exam_job). */
static int check_projection(struct exam_job *j, size_t nout, struct aidc_err *e)
{
	if (!j->px)
		return 0;
	double acc, otol;
	exam_tol(j->out_type, &acc, &otol);
	size_t cols = j->pcols, inner = j->pinner, ld = j->pld ? j->pld : cols;
	for (size_t r = 0; r < j->prows; r++) {
		size_t base = inner == 1 ? r * ld : (r / inner) * cols * inner + r % inner;
		double y = 0, ya = 0;
		for (size_t c = 0; c < cols; c++) {
			size_t idx = base + c * inner;
			if (idx >= nout)
				break;
			double v = elem(j->out_type, j->out, idx);
			y += v * j->px[c];
			ya += fabs(v * j->px[c]);
		}
		double want = j->sign * j->pz[r] + (j->pzbase ? j->pzbase[r] : 0), bound = j->pzb[r] + 2 * otol * ya + 1e-30;
		if (!(fabs(y - want) <= bound))
			return aidc_errf(e, AIDC_E_WRONG_ANSWER,
					 "%swhole-output check: row %zu of the output times a random "
					 "vector is %.9g, the fp64 reference %.9g (error %.3g, bound "
					 "%.3g): some output in that row is wrong",
					 j->timed ? "after the timed calls: " : "", r, y, want,
					 fabs(y - want), bound);
	}
	return 0;
}

/* Attention: every output row against the convex hull of the values it sees. */
static int check_hull(struct exam_job *j, struct aidc_err *e)
{
	if (!j->hx)
		return 0;
	double acc, otol;
	exam_tol(j->out_type, &acc, &otol);
	for (size_t r = 0; r < j->hrows; r++) {
		double y = 0, ya = 0;
		for (size_t d = 0; d < j->hdim; d++) {
			double v = elem(j->out_type, j->out, r * j->hdim + d);
			y += v * j->hx[d];
			ya += fabs(v * j->hx[d]);
		}
		double slack = 1e-3 * (fabs(j->hlo[r]) + fabs(j->hhi[r])) + 2 * otol * ya + 1e-6;
		if (!(y >= j->hlo[r] - slack && y <= j->hhi[r] + slack))
			return aidc_errf(e, AIDC_E_WRONG_ANSWER,
					 "%swhole-output check: output row %zu times a random vector is "
					 "%.9g, outside [%.9g, %.9g], the range of the value rows it "
					 "attends to (softmax weights are >= 0 and sum to 1)",
					 j->timed ? "after the timed calls: " : "", r, y, j->hlo[r],
					 j->hhi[r]);
	}
	return 0;
}

/* GEMM with padded rows: the padding of C (past n in each row) must be left alone. */
static int check_padding(struct exam_job *j, struct aidc_err *e)
{
	if (j->q->kind != EXAM_GEMM || j->args.g.ldc == j->args.g.n)
		return 0;
	size_t es = dev_dtype_size(j->out_type), n = j->args.g.n, ldc = j->args.g.ldc;
	const unsigned char *got = j->out, *want = j->host[2];
	for (size_t i = 0; i < j->args.g.m; i++)
		if (memcmp(got + (i * ldc + n) * es, want + (i * ldc + n) * es, (ldc - n) * es))
			return aidc_errf(e, AIDC_E_WRONG_ANSWER,
					 "%sthe padding of C's row %zu (elements %zu..%zu, past n) was "
					 "written; ldc leaves it to the caller",
					 j->timed ? "after the timed calls: " : "", i, n, ldc - 1);
	return 0;
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
		double got = elem(j->out_type, j->out, (size_t)pr->idx), ref = j->sign * pr->ref + pr->base;
		double r = fabs(got - ref) / pr->bound;
		if (r > res->max_err)
			res->max_err = r;
		if (!(r <= 1.0))
			return aidc_errf(e, AIDC_E_WRONG_ANSWER,
					 "%soutput[%" PRIu64 "] = %.9g, fp64 reference %.9g, error %.3g "
					 "exceeds the bound %.3g",
					 j->timed ? "after the timed calls: " : "", pr->idx, got, ref,
					 fabs(got - ref), pr->bound);
	}
	rc = check_rounding(j, e);
	if (!rc)
		rc = check_projection(j, n, e);
	if (!rc)
		rc = check_hull(j, e);
	if (!rc)
		rc = check_padding(j, e);
	res->checked = j->nprobes + (j->px || j->hx ? n : 0);
	return rc;
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

/*
 * Clears the answer before a timed sample, so that the sample's own calls
 * must write it again: a plugin that skips a call it has seen before leaves
 * zeros behind and is caught by the check after the sample.
 */
static int clear_output(struct exam_job *j, struct aidc_err *e)
{
	int ob = j->out_buf;
	if (j->host_out) {
		memset(j->host_out, 0, (size_t)j->bytes[ob]);
		return 0;
	}
	if (!j->zeros)
		j->zeros = aidc_calloc(1, (size_t)j->bytes[ob]);
	/* GEMM with beta or padded rows: back to C's starting values */
	const void *from = j->q->kind == EXAM_GEMM && j->host[ob] ? j->host[ob] : j->zeros;
	int rc = dev_copy_h2d(j->p, j->buf_dev[ob], j->buf[ob], 0, from, j->bytes[ob], e);
	return rc ? rc : sync_all(j, e);
}

/* One call; GEMM alternates alpha between +1 and -1 so no two calls in a row are alike. */
static int launch(struct exam_job *j, struct aidc_err *e)
{
	if (j->alternate) {
		uint64_t i = j->ncalls++;
		j->args.g.alpha = i % 2 ? -1.0f : 1.0f;
		j->sign = i % 2 ? -1.0 : 1.0;
	}
	return exam_launch(j, e);
}

/*
 * Ends a timed sample: synchronize, then read the last 8 bytes of the answer
 * (inside the timing). A copy to the host is ordered after queued work
 * (docs/device-plugin-abi.md), so a synchronize that returns early cannot
 * shorten the sample; and when that read takes most of the sample, the
 * synchronize did not wait, which is reported.
 */
static int finish_sample(struct exam_job *j, double t0, double *out_s, struct aidc_err *e)
{
	int rc = sync_all(j, e);
	if (rc)
		return rc;
	double t_sync = exam_now_s();
	int ob = j->out_buf;
	uint64_t nb = j->bytes[ob] < 8 ? j->bytes[ob] : 8;
	unsigned char tail[8];
	if (!j->host_out && nb) {
		rc = dev_copy_d2h(j->p, j->buf_dev[ob], tail, j->buf[ob], j->bytes[ob] - nb, nb, e);
		if (rc)
			return rc;
	}
	double t1 = exam_now_s();
	if (t1 - t_sync > 2e-3 && t1 - t_sync > 0.5 * (t1 - t0))
		return aidc_errf(e, AIDC_E_WRONG_ANSWER,
				 "synchronize returned before the work was done: reading 8 bytes of "
				 "the answer after it took %.3g s of the %.3g s sample (synchronize "
				 "must wait for all queued work)", t1 - t_sync, t1 - t0);
	*out_s = t1 - t0;
	return 0;
}

/*
 * Warm-up, calibration and timed samples; fills the timing fields of res.
 * Every sample starts from a cleared answer and its answer is checked
 * afterwards, so each sample's speed belongs to a right answer.
 */
static int measure(struct exam_job *j, enum exam_level lvl, struct exam_result *res,
		   struct aidc_err *e)
{
	double t0 = exam_now_s(), t1 = 0;
	int rc = launch(j, e);
	if (!rc)
		rc = finish_sample(j, t0, &t1, e);
	if (rc)
		return rc;
	if (t1 < 1e-7)
		t1 = 1e-7;
	uint64_t iters = (uint64_t)ceil(timing[lvl].min_sample_s / t1);
	iters = iters < 1 ? 1 : iters > 1000000 ? 1000000 : iters;
	if (j->alternate && iters % 2)
		iters++; /* every sample ends on the same alpha, the other one than the first call's */
	if (j->reset_c)
		iters = 1; /* C = alpha AB + beta C changes C: one call per sample, alpha alternating */
	double per_sample = t1 * (double)iters;
	uint32_t samples = timing[lvl].samples;
	uint32_t fit = (uint32_t)(timing[lvl].budget_s / per_sample);
	if (fit < samples)
		samples = fit < 3 ? 3 : fit;
	double t[16];
	for (uint32_t s = 0; s < samples; s++) {
		if (!j->in_place && (rc = clear_output(j, e)) != 0)
			return rc;
		t0 = exam_now_s();
		for (uint64_t i = 0; i < iters && !rc; i++)
			rc = launch(j, e);
		if (!rc)
			rc = finish_sample(j, t0, &t[s], e);
		if (rc)
			return rc;
		t[s] /= (double)iters;
		j->timed = true;
		if (!j->in_place && (rc = check(j, res, e)) != 0)
			return rc;
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
	static const char *const names[] = {"gemm",   "conv", "attention", "copy",
					    "triad",  "gelu", "reduce",    "h2d",
					    "d2h",    "peer", "allreduce", "eltwise"};
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

/*
 * Most a device can do, whatever it claims (per device): 10 PFLOP/s of
 * compute, 100 TB/s of memory bandwidth, 2 TB/s over the host link. Above a
 * claim (with room for clocks above the nominal one) or above these, the
 * timing is wrong, not the device fast.
 */
#define PLAUSIBLE_GFLOPS 1e7
#define PLAUSIBLE_MEM_GBPS 1e5
#define PLAUSIBLE_LINK_GBPS 2e3
#define PEAK_SLACK 1.5

static int plausible(const struct dev_plugin *p, uint32_t dev, const struct exam_question *q,
		     const struct exam_result *res, struct aidc_err *e)
{
	double peak = claimed_peak(p, dev, q);
	double cap = q->kind <= EXAM_ATTN			   ? PLAUSIBLE_GFLOPS
		     : q->kind == EXAM_H2D || q->kind == EXAM_D2H ? PLAUSIBLE_LINK_GBPS
								   : PLAUSIBLE_MEM_GBPS;
	if (peak > 0 && res->value > PEAK_SLACK * peak)
		return aidc_errf(e, AIDC_E_WRONG_ANSWER,
				 "%.4g %s is %.3gx the device's claimed peak of %.4g %s: the timing "
				 "cannot be trusted (skipped calls, or a synchronize that does not wait?)",
				 res->value, res->metric, res->value / peak, peak, res->metric);
	if (res->value > cap)
		return aidc_errf(e, AIDC_E_WRONG_ANSWER,
				 "%.4g %s is above what any device can do (%.4g %s): the timing cannot "
				 "be trusted (skipped calls, or a synchronize that does not wait?)",
				 res->value, res->metric, cap, res->metric);
	return 0;
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

void exam_result_header(const struct exam_question *q, struct exam_result *res)
{
	memset(res, 0, sizeof *res);
	snprintf(res->id, sizeof res->id, "%s", q->id);
	snprintf(res->group, sizeof res->group, "%s", q->group);
	snprintf(res->kind, sizeof res->kind, "%s", kind_name(q->kind));
	snprintf(res->dtype, sizeof res->dtype, "%s", dev_dtype_name(q->dtype));
	snprintf(res->source, sizeof res->source, "%s", q->source);
	exam_shape_str(q, res->shape, sizeof res->shape);
	bool bytes = q->kind >= EXAM_COPY;
	snprintf(res->metric, sizeof res->metric, "%s", bytes ? "GB/s" : "GFLOP/s");
}

void exam_run_question(struct dev_plugin *p, uint32_t dev, const struct exam_question *q,
		       enum exam_level level, uint64_t seed, struct exam_result *res)
{
	struct exam_job j;
	struct aidc_err e;
	aidc_err_clear(&e);
	exam_result_header(q, res);
	exam_job_init(&j, p, dev, q, seed);
	int rc = exam_setup(&j, &e);
	if (rc == AIDC_E_NOMEM)
		rc = aidc_errf(&e, AIDC_E_UNSUPPORTED, "does not fit the device's memory");
	bool asked = !rc;
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
	res->work = j.work;
	/* After the operation ran (setup passed): else the text is an earlier question's. */
	if (asked && q->kind <= EXAM_ATTN)
		dev_last_path(p, dev, res->path, sizeof res->path);
	if (j.pinned[0] || j.pinned[1])
		snprintf(res->shape + strlen(res->shape), sizeof res->shape - strlen(res->shape),
			 ", pinned host memory");
	if (!rc)
		rc = plausible(p, dev, q, res, &e);
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
