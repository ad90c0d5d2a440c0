/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/exam_overhead: the cpu plugin's fp32 GEMM measured through the whole
 * isolated exam harness (exam_run_isolated: a forked worker process, the
 * plugin loader, the ABI call, the harness's timing with its anti-gaming
 * clears, alternating alpha and synchronize + read inside the timing)
 * against a direct cblas_sgemm call on the same shape in this process, in
 * the same run, with the same method (one warm-up, then the median of
 * repeated timed calls). Rounds alternate the two.
 * Usage: exam_overhead [N] [ROUNDS]   (N: 1024, 2048 or 4096, the catalogue's
 * gemm.f32.N; default 2048, 3 rounds)
 * Prints GFLOP/s of both and the ratio harness / direct (target >= 0.97).
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
	if ((argc > 1 && (aidc_parse_u32(argv[1], 1024, 4096, &n) || (n != 1024 && n != 2048 && n != 4096))) ||
	    (argc > 2 && aidc_parse_u32(argv[2], 1, 20, &rounds))) {
		fprintf(stderr, "usage: exam_overhead [N: 1024|2048|4096] [ROUNDS 1..20]\n");
		return 2;
	}
	char id[64];
	snprintf(id, sizeof id, "gemm.f32.%u", n);
	double best_h = 0, best_d = 0, ratios[20];
	char devname[AIDC_DEV_NAME_BYTES] = "";
	for (uint32_t r = 0; r < rounds; r++) {
		struct aidc_err e;
		aidc_err_clear(&e);
		struct exam_report rep;
		exam_report_init(&rep);
		struct exam_options o = {.level = EXAM_FULL, .questions = id, .seed = 1};
		int rc = exam_run_isolated("cpu", NULL, &o, &rep, &e);
		if (rc || rep.nq != 1 || strcmp(rep.q[0].status, "pass") != 0) {
			fprintf(stderr, "exam_overhead: harness: %s\n",
				rc ? aidc_err_text(&e, rc) : rep.nq ? rep.q[0].error : "no result");
			exam_report_release(&rep);
			return 1;
		}
		const struct exam_result *res = &rep.q[0];
		snprintf(devname, sizeof devname, "%s", rep.dev.name);
		double d = direct_gflops((int)n, 7);
		printf("round %u: isolated harness %.1f GFLOP/s (median of %u x %" PRIu64 "), direct %.1f "
		       "GFLOP/s (median of 7), ratio %.3f\n",
		       r + 1, res->value, res->samples, res->iters, d, res->value / d);
		ratios[r] = res->value / d;
		best_h = res->value > best_h ? res->value : best_h;
		best_d = d > best_d ? d : best_d;
		exam_report_release(&rep);
	}
	qsort(ratios, rounds, sizeof ratios[0], cmp);
	printf("fp32 GEMM %u^3 on %s: isolated harness %.1f GFLOP/s, direct OpenBLAS %.1f GFLOP/s, "
	       "ratio %.3f (best of %u rounds); median of the rounds' ratios %.3f\n",
	       n, devname, best_h, best_d, best_h / best_d, rounds, ratios[rounds / 2]);
	return 0;
}
