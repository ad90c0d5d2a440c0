/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/exam_overhead: the cpu plugin's fp32 GEMM measured through the whole
 * exam harness (plugin loader, ABI call, harness timing) against a direct
 * cblas_sgemm call on the same shape, in the same process and run, with the
 * same method (one warm-up, then the median of repeated timed calls).
 * Usage: exam_overhead [N] [ROUNDS]   (default 2048, 3 rounds, interleaved)
 * Prints GFLOP/s of both and the ratio harness / direct (target >= 0.95).
 */
#include <cblas.h>
#include <time.h>

#include "dev/dev.h"
#include "exam/exam.h"
#include "util/util.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double direct_gflops(int n, int reps)
{
	size_t nn = (size_t)n * n;
	float *a = aidc_malloc(nn * 4), *b = aidc_malloc(nn * 4), *c = aidc_malloc(nn * 4);
	struct aidc_rng r;
	aidc_rng_seed(&r, 1);
	for (size_t i = 0; i < nn; i++) {
		a[i] = (float)(2 * aidc_rng_unit(&r) - 1);
		b[i] = (float)(2 * aidc_rng_unit(&r) - 1);
	}
	double t[32];
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
	for (int k = 0; k < reps; k++) {
		double t0 = now_s();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
		t[k] = now_s() - t0;
	}
	qsort(t, (size_t)reps, sizeof t[0], cmp);
	aidc_free(a);
	aidc_free(b);
	aidc_free(c);
	return 2.0 * n * n * (double)n / t[reps / 2] * 1e-9;
}

int main(int argc, char **argv)
{
	uint32_t n = 2048, rounds = 3;
	if ((argc > 1 && aidc_parse_u32(argv[1], 64, 16384, &n)) ||
	    (argc > 2 && aidc_parse_u32(argv[2], 1, 20, &rounds))) {
		fprintf(stderr, "usage: exam_overhead [N 64..16384] [ROUNDS 1..20]\n");
		return 2;
	}
	struct aidc_err e;
	aidc_err_clear(&e);
	struct dev_plugin p;
	int rc = dev_plugin_open(&p, "cpu", NULL, &e);
	if (rc) {
		fprintf(stderr, "exam_overhead: %s\n", aidc_err_text(&e, rc));
		return 1;
	}
	char id[64];
	snprintf(id, sizeof id, "gemm.f32.%u", n);
	struct exam_question q = {id, "gemm", "bench", EXAM_GEMM, EXAM_QUICK, AIDC_DEV_F32, {n, n, n}};
	double best_h = 0, best_d = 0;
	for (uint32_t r = 0; r < rounds; r++) {
		struct exam_result res;
		exam_run_question(&p, 0, &q, EXAM_FULL, 1, &res);
		if (strcmp(res.status, "pass") != 0) {
			fprintf(stderr, "exam_overhead: harness: %s %s\n", res.status, res.error);
			dev_plugin_close(&p);
			return 1;
		}
		double d = direct_gflops((int)n, 7);
		printf("round %u: harness %.1f GFLOP/s (median of %u x %" PRIu64 "), direct %.1f GFLOP/s "
		       "(median of 7), ratio %.3f\n",
		       r + 1, res.value, res.samples, res.iters, d, res.value / d);
		best_h = res.value > best_h ? res.value : best_h;
		best_d = d > best_d ? d : best_d;
	}
	printf("fp32 GEMM %u^3 on %s: harness %.1f GFLOP/s, direct OpenBLAS %.1f GFLOP/s, "
	       "ratio %.3f (best of %u rounds)\n",
	       n, p.info[0].name, best_h, best_d, best_h / best_d, rounds);
	dev_plugin_close(&p);
	return 0;
}
