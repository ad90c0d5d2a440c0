/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device plugin ABI conformance suite (`aidc exam conformance`, shipped
 * in every build): what every plugin must do (docs/device-plugin-abi.md),
 * checked with small exact cases. Valid device info; memory round trips with
 * offsets, mem_alloc(0) and out-of-range copies refused, overlapping copies
 * either right or refused; copies and frees ordered after queued compute;
 * last_error explaining a refusal; GEMM in every dtype with alpha/beta,
 * padded strides (padding left alone), every transpose and (ABI v2) buffer
 * offsets; every elementwise and reduce op in f32, f16 and bf16; convolution
 * with stride, padding and dilation; attention over real sequence lengths,
 * causal and not; pinned host memory (v2); all-reduce. An optional op either
 * answers right or says UNSUPPORTED. The suite runs in a child process: a
 * plugin that crashes or hangs fails it with the call it was in.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dev/half.h"
#include "exam/exam_int.h"
#include "util/util.h"

struct conf {
	struct dev_plugin *p;
	FILE *out;
	int failures;
};

#define CHECK(cf, cond, ...)                                    \
	do {                                                    \
		if (!(cond)) {                                  \
			fprintf((cf)->out, "  FAIL: ");         \
			fprintf((cf)->out, __VA_ARGS__);        \
			fprintf((cf)->out, "\n");               \
			(cf)->failures++;                       \
		}                                               \
	} while (0)

/* Direct plugin calls (bypassing src/dev's checks on purpose) mark the watch
 * too, so that a crash in one is reported with its name. */
static void raw_begin(struct conf *cf, const char *call)
{
	struct dev_watch *w = cf->p->watch;
	if (!w)
		return;
	size_t i = 0;
	for (; call[i] && i + 1 < sizeof w->call; i++)
		w->call[i] = call[i];
	w->call[i] = '\0';
	w->start_s = exam_now_s();
}

static void raw_end(struct conf *cf)
{
	if (cf->p->watch)
		cf->p->watch->start_s = 0;
}

#define RAW(cf, call, expr) (raw_begin(cf, call), raw_result = (expr), raw_end(cf), raw_result)
static int raw_result;

static const enum aidc_dev_dtype f_types[3] = {AIDC_DEV_F32, AIDC_DEV_F16, AIDC_DEV_BF16};

static void test_info(struct conf *cf)
{
	struct dev_plugin *p = cf->p;
	CHECK(cf, p->api->name && *p->api->name, "plugin has no name");
	for (uint32_t d = 0; d < p->ndev; d++) {
		const struct aidc_dev_info *in = &p->info[d];
		CHECK(cf, in->name[0], "device %u has no name", d);
		CHECK(cf, in->mem_bytes > 0, "device %u reports no memory", d);
		fprintf(cf->out, "  device %u: %s (%s), model %s, %.1f GiB, uuid %s%s%s, caps 0x%x\n",
			d, in->name, in->vendor, in->model, (double)in->mem_bytes / (1 << 30),
			in->uuid[0] ? in->uuid : "-", in->visible_env[0] ? ", visibility " : "",
			in->visible_env, in->caps);
	}
	struct aidc_dev_info tmp = {.struct_size = sizeof tmp};
	CHECK(cf, RAW(cf, "device_info", p->api->device_info(p->ctx, p->ndev, &tmp)) == AIDC_DEV_ERR_INVALID,
	      "device_info past the last device must return INVALID");
	if (dev_plugin_v2(p))
		CHECK(cf, p->api->last_error != NULL, "last_error is mandatory from ABI version 2");
}

/* After a refused call: last_error says why (mandatory in v2, see the ABI doc). */
static void check_last_error(struct conf *cf, const char *what)
{
	struct dev_plugin *p = cf->p;
	if (!p->api->last_error)
		return;
	const char *m = p->api->last_error(p->ctx);
	CHECK(cf, m && *m, "%s was refused but last_error() gives no reason", what);
}

static void test_memory(struct conf *cf, uint32_t d)
{
	struct dev_plugin *p = cf->p;
	struct aidc_err e;
	aidc_err_clear(&e);
	struct aidc_dev_mem *m = NULL;
	unsigned char in[4096], out[4096];
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 7 + 3);
	CHECK(cf, dev_mem_alloc(p, d, sizeof in, &m, &e) == 0, "mem_alloc: %s", e.msg);
	if (!m)
		return;
	CHECK(cf, dev_copy_h2d(p, d, m, 0, in, sizeof in, &e) == 0, "copy_h2d: %s", e.msg);
	CHECK(cf, dev_copy_h2d(p, d, m, 100, in, 50, &e) == 0, "copy_h2d at offset: %s", e.msg);
	CHECK(cf, dev_sync(p, d, &e) == 0, "synchronize: %s", e.msg);
	memset(out, 0, sizeof out);
	CHECK(cf, dev_copy_d2h(p, d, out, m, 0, sizeof out, &e) == 0, "copy_d2h: %s", e.msg);
	CHECK(cf, memcmp(out, in, 100) == 0 && memcmp(out + 100, in, 50) == 0 &&
			  memcmp(out + 150, in + 150, sizeof in - 150) == 0,
	      "memory round trip with offsets differs");
	memset(out, 0, sizeof out);
	CHECK(cf, dev_copy_d2h(p, d, out, m, 4000, 96, &e) == 0, "copy_d2h at offset: %s", e.msg);
	CHECK(cf, memcmp(out, in + 4000, 96) == 0, "copy_d2h at offset differs");
	/* Out of range: a defined error with a reason, never a crash. */
	CHECK(cf, RAW(cf, "copy_h2d", p->api->copy_h2d(p->ctx, d, m, 4000, in, 200)) == AIDC_DEV_ERR_INVALID,
	      "copy_h2d past the end must return INVALID");
	check_last_error(cf, "copy_h2d past the end");
	CHECK(cf, RAW(cf, "copy_d2h", p->api->copy_d2h(p->ctx, d, out, m, 1, sizeof out)) == AIDC_DEV_ERR_INVALID,
	      "copy_d2h past the end must return INVALID");
	struct aidc_dev_mem *huge = NULL;
	int st = RAW(cf, "mem_alloc", p->api->mem_alloc(p->ctx, d, UINT64_MAX / 2, &huge));
	CHECK(cf, st == AIDC_DEV_ERR_NOMEM || st == AIDC_DEV_ERR_INVALID,
	      "an impossible allocation must fail with NOMEM or INVALID, got %d", st);
	struct aidc_dev_mem *zero = NULL;
	st = RAW(cf, "mem_alloc", p->api->mem_alloc(p->ctx, d, 0, &zero));
	CHECK(cf, st == AIDC_DEV_ERR_INVALID, "mem_alloc(0) must return INVALID, got %d", st);
	if (st == AIDC_DEV_OK)
		p->api->mem_free(p->ctx, d, zero);
	if (p->api->copy_d2d) {
		struct aidc_dev_mem *m2 = NULL;
		CHECK(cf, dev_mem_alloc(p, d, sizeof in, &m2, &e) == 0, "mem_alloc: %s", e.msg);
		CHECK(cf, dev_copy_d2d(p, d, m2, m, sizeof in, &e) == 0, "copy_d2d: %s", e.msg);
		CHECK(cf, dev_copy_d2h(p, d, out, m2, 0, sizeof out, &e) == 0, "copy_d2h: %s", e.msg);
		CHECK(cf, out[4095] == in[4095] && out[7] == in[7], "copy_d2d differs");
		/* Overlapping ranges of one buffer: as memmove, or refused with INVALID. */
		unsigned char before[4096];
		memcpy(before, out, sizeof before);
		st = RAW(cf, "copy_d2d", p->api->copy_d2d(p->ctx, d, m2, 16, m2, 0, 1024));
		CHECK(cf, st == AIDC_DEV_OK || st == AIDC_DEV_ERR_INVALID,
		      "overlapping copy_d2d must be done as memmove or refused, got %d", st);
		if (st == AIDC_DEV_OK) {
			CHECK(cf, dev_copy_d2h(p, d, out, m2, 0, sizeof out, &e) == 0, "copy_d2h: %s",
			      e.msg);
			CHECK(cf, memcmp(out + 16, before, 1024) == 0 && memcmp(out, before, 16) == 0,
			      "overlapping copy_d2d is not a memmove");
		}
		dev_mem_free(p, d, m2);
	}
	CHECK(cf, RAW(cf, "mem_free", p->api->mem_free(p->ctx, d, NULL)) == AIDC_DEV_OK, "mem_free(NULL) must be a no-op");
	dev_mem_free(p, d, m);
}

/* Pinned host memory (ABI v2, optional): writable, usable as a copy source and target. */
static void test_host_alloc(struct conf *cf, uint32_t d)
{
	struct dev_plugin *p = cf->p;
	struct aidc_err e;
	aidc_err_clear(&e);
	void *h = NULL;
	int rc = dev_host_alloc(p, d, 1 << 20, &h, &e);
	if (rc == AIDC_E_UNSUPPORTED) {
		fprintf(cf->out, "  host_alloc: not offered (%s)\n", e.msg);
		return;
	}
	CHECK(cf, rc == 0 && h, "host_alloc: %s", e.msg);
	if (!h)
		return;
	memset(h, 0x5a, 1 << 20);
	struct aidc_dev_mem *m = NULL;
	CHECK(cf, dev_mem_alloc(p, d, 1 << 20, &m, &e) == 0, "mem_alloc: %s", e.msg);
	if (m) {
		CHECK(cf, dev_copy_h2d(p, d, m, 0, h, 1 << 20, &e) == 0, "copy_h2d from pinned: %s",
		      e.msg);
		memset(h, 0, 1 << 20);
		CHECK(cf, dev_copy_d2h(p, d, h, m, 0, 1 << 20, &e) == 0, "copy_d2h to pinned: %s",
		      e.msg);
		CHECK(cf, ((unsigned char *)h)[12345] == 0x5a, "pinned round trip differs");
	}
	dev_mem_free(p, d, m);
	dev_host_free(p, d, h);
	fprintf(cf->out, "  host_alloc: ok\n");
}

/* Uploads n values (converted to dtype t) at byte offset off of a buffer of off + n elements. */
static struct aidc_dev_mem *upload_at(struct conf *cf, uint32_t d, enum aidc_dev_dtype t,
				      const float *v, size_t n, uint64_t off)
{
	struct aidc_err e;
	aidc_err_clear(&e);
	size_t es = dev_dtype_size(t);
	unsigned char *raw = aidc_malloc(n * es);
	for (size_t i = 0; i < n; i++) {
		if (t == AIDC_DEV_F16) {
			uint16_t h = dev_f32_to_f16(v[i]);
			memcpy(raw + 2 * i, &h, 2);
		} else if (t == AIDC_DEV_BF16) {
			uint16_t h = dev_f32_to_bf16(v[i]);
			memcpy(raw + 2 * i, &h, 2);
		} else if (t == AIDC_DEV_F64) {
			double x = v[i];
			memcpy(raw + 8 * i, &x, 8);
		} else {
			memcpy(raw + 4 * i, &v[i], 4);
		}
	}
	struct aidc_dev_mem *m = NULL;
	if (dev_mem_alloc(cf->p, d, off + n * es, &m, &e) ||
	    dev_copy_h2d(cf->p, d, m, off, raw, n * es, &e)) {
		CHECK(cf, 0, "upload: %s", e.msg);
		dev_mem_free(cf->p, d, m);
		m = NULL;
	}
	aidc_free(raw);
	return m;
}

static struct aidc_dev_mem *upload(struct conf *cf, uint32_t d, enum aidc_dev_dtype t,
				   const float *v, size_t n)
{
	return upload_at(cf, d, t, v, n, 0);
}

/* Reads n values back from byte offset off; with sync false, no synchronize first
 * (a copy to the host is ordered after the queued work). */
static void download_at(struct conf *cf, uint32_t d, enum aidc_dev_dtype t,
			struct aidc_dev_mem *m, float *v, size_t n, uint64_t off, bool sync)
{
	struct aidc_err e;
	aidc_err_clear(&e);
	size_t es = dev_dtype_size(t);
	unsigned char *raw = aidc_calloc(n, es);
	CHECK(cf, (!sync || dev_sync(cf->p, d, &e) == 0) &&
			  dev_copy_d2h(cf->p, d, raw, m, off, n * es, &e) == 0,
	      "download: %s", e.msg);
	for (size_t i = 0; i < n; i++) {
		uint16_t h;
		memcpy(&h, raw + 2 * i, 2);
		if (t == AIDC_DEV_F16) {
			v[i] = dev_f16_to_f32(h);
		} else if (t == AIDC_DEV_BF16) {
			v[i] = dev_bf16_to_f32(h);
		} else if (t == AIDC_DEV_F64) {
			double x;
			memcpy(&x, raw + 8 * i, 8);
			v[i] = (float)x;
		} else {
			memcpy(&v[i], raw + 4 * i, 4);
		}
	}
	aidc_free(raw);
}

static void download(struct conf *cf, uint32_t d, enum aidc_dev_dtype t, struct aidc_dev_mem *m,
		     float *v, size_t n)
{
	download_at(cf, d, t, m, v, n, 0, true);
}

/* One GEMM case: C (m x n, row stride ldc, initialised to 3) = alpha op(A) op(B) + beta C. */
struct gemm_case {
	const char *name;
	uint32_t ta, tb, lda_pad, ldc_pad;
	float alpha, beta;
	bool offsets, no_sync, free_inputs;
};

static void gemm_case(struct conf *cf, uint32_t d, enum aidc_dev_dtype t, const struct gemm_case *gc)
{
	enum { M = 3, N = 2, K = 4 };
	/* op(A) is M x K, op(B) is K x N; small integers are exact in every dtype. */
	const float A[M * K] = {1, 2, 3, 4, -1, 0, 2, 1, 3, -2, 1, 0};
	const float B[K * N] = {1, 0, 0, 1, 2, -1, 1, 3};
	uint32_t lda = (gc->ta ? M : K) + gc->lda_pad, ldb = gc->tb ? K : N, ldc = N + gc->ldc_pad;
	uint32_t arows = gc->ta ? K : M, brows = gc->tb ? N : K;
	float sa[16 * 8] = {0}, sb[16] = {0}, sc[16 * 8];
	for (int i = 0; i < M; i++)
		for (int l = 0; l < K; l++)
			sa[gc->ta ? l * lda + i : i * lda + l] = A[i * K + l];
	for (int l = 0; l < K; l++)
		for (int j = 0; j < N; j++)
			sb[gc->tb ? j * ldb + l : l * ldb + j] = B[l * N + j];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(sc); i++)
		sc[i] = 3;
	uint64_t es = dev_dtype_size(t), off = gc->offsets ? 4 * es : 0;
	struct aidc_dev_mem *a = upload_at(cf, d, t, sa, arows * lda, off),
			    *b = upload_at(cf, d, t, sb, brows * ldb, 2 * off),
			    *c = upload_at(cf, d, t, sc, M * ldc, off);
	struct aidc_err e;
	aidc_err_clear(&e);
	if (a && b && c) {
		struct aidc_dev_gemm g = {.struct_size = sizeof g, .dtype = t,
					  .trans_a = gc->ta ? AIDC_DEV_TRANS : AIDC_DEV_NOTRANS,
					  .trans_b = gc->tb ? AIDC_DEV_TRANS : AIDC_DEV_NOTRANS,
					  .m = M, .n = N, .k = K, .lda = lda, .ldb = ldb, .ldc = ldc,
					  .alpha = gc->alpha, .beta = gc->beta, .a = a, .b = b, .c = c,
					  .a_off = off, .b_off = 2 * off, .c_off = off};
		int rc = dev_gemm(cf->p, d, &g, &e);
		if (rc == AIDC_E_UNSUPPORTED) {
			fprintf(cf->out, "  gemm %s %s: unsupported (%s)\n", dev_dtype_name(t),
				gc->name, e.msg);
		} else {
			CHECK(cf, rc == 0, "gemm %s %s: %s", dev_dtype_name(t), gc->name, e.msg);
			if (gc->free_inputs) { /* freed while the GEMM may be queued: still right */
				dev_mem_free(cf->p, d, a);
				dev_mem_free(cf->p, d, b);
				a = b = NULL;
			}
			float got[M * (N + 8)];
			download_at(cf, d, t, c, got, M * ldc, off, !gc->no_sync);
			bool ok = true;
			for (int i = 0; i < M; i++)
				for (uint32_t j = 0; j < ldc; j++) {
					float want = 3; /* padding between rows stays as it was */
					if (j < N) {
						float s = 0;
						for (int l = 0; l < K; l++)
							s += A[i * K + l] * B[l * N + j];
						want = gc->alpha * s + gc->beta * 3;
					}
					if (got[i * ldc + j] != want && ok) {
						CHECK(cf, 0, "gemm %s %s: C[%d][%u] = %g, want %g",
						      dev_dtype_name(t), gc->name, i, j,
						      got[i * ldc + j], want);
						ok = false;
					}
				}
			if (ok)
				fprintf(cf->out, "  gemm %s %s: ok\n", dev_dtype_name(t), gc->name);
		}
		if (gc->ta == 0 && gc->tb == 0 && !gc->offsets && cf->p->api->gemm && b) {
			/* A shape that does not fit the buffers: INVALID, no crash. */
			g.m = 1000;
			int st = RAW(cf, "gemm", cf->p->api->gemm(cf->p->ctx, d, &g));
			CHECK(cf, st == AIDC_DEV_ERR_INVALID || rc == AIDC_E_UNSUPPORTED,
			      "gemm with an oversized shape must return INVALID, got %d", st);
			if (st == AIDC_DEV_ERR_INVALID)
				check_last_error(cf, "an oversized gemm");
		}
	}
	dev_mem_free(cf->p, d, a);
	dev_mem_free(cf->p, d, b);
	dev_mem_free(cf->p, d, c);
}

static void test_gemm(struct conf *cf, uint32_t d)
{
	static const struct gemm_case cases[] = {
		{"plain", 0, 0, 0, 0, 1, 0, false, false, false},
		{"alpha=2 beta=-1, padded strides", 0, 0, 3, 2, 2, -1, false, false, false},
		{"A^T", 1, 0, 0, 0, 1, 0, false, false, false},
		{"B^T", 0, 1, 0, 0, 1, 0, false, false, false},
		{"A^T B^T alpha=-1 beta=0.5", 1, 1, 1, 1, -1, 0.5f, false, false, false},
		{"read back without synchronize", 0, 0, 0, 0, 1, 0, false, true, false},
		{"inputs freed before synchronize", 0, 0, 0, 0, 1, 0, false, false, true},
		{"buffer offsets (ABI v2)", 0, 0, 0, 1, 1, 1, true, false, false},
	};
	for (int t = 0; t < AIDC_DEV_NDTYPES; t++)
		for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
			if (cases[i].offsets && !dev_plugin_v2(cf->p))
				continue;
			gemm_case(cf, d, (enum aidc_dev_dtype)t, &cases[i]);
		}
}

/* |got - want| within rel * (1 + |want|): 16-bit storage rounds every output. */
static bool near(double got, double want, enum aidc_dev_dtype t)
{
	double rel = t == AIDC_DEV_F32 ? 1e-5 : t == AIDC_DEV_F16 ? 2e-3 : 1.6e-2;
	return fabs(got - want) <= rel * (1 + fabs(want));
}

static double gelu(double x)
{
	return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

static void test_eltwise(struct conf *cf, uint32_t d, enum aidc_dev_dtype t)
{
	static const char *const names[] = {"add", "mul", "axpy", "relu", "gelu"};
	float x[8] = {1, -2, 3, -4, 0.5f, -6, 7, -0.25f}, y[8] = {1, 1, 1, 1, 2, 2, 2, 2}, z[8];
	struct aidc_dev_mem *mx = upload(cf, d, t, x, 8), *my = upload(cf, d, t, y, 8),
			    *mz = upload(cf, d, t, y, 8);
	struct aidc_err e;
	if (mx && my && mz) {
		for (int op = AIDC_DEV_ELT_ADD; op <= AIDC_DEV_ELT_GELU; op++) {
			aidc_err_clear(&e);
			struct aidc_dev_eltwise el = {.struct_size = sizeof el, .dtype = t,
						      .op = (enum aidc_dev_eltwise_op)op, .n = 8,
						      .alpha = 2, .x = mx, .y = my, .z = mz};
			bool unary = op == AIDC_DEV_ELT_RELU || op == AIDC_DEV_ELT_GELU;
			if (unary)
				el.y = NULL;
			int rc = dev_eltwise(cf->p, d, &el, &e);
			if (rc) {
				CHECK(cf, rc == AIDC_E_UNSUPPORTED, "eltwise %s %s: %s", names[op],
				      dev_dtype_name(t), e.msg);
				continue;
			}
			download(cf, d, t, mz, z, 8);
			bool ok = true;
			for (int i = 0; i < 8 && ok; i++) {
				double w = op == AIDC_DEV_ELT_ADD    ? x[i] + y[i]
					   : op == AIDC_DEV_ELT_MUL  ? x[i] * y[i]
					   : op == AIDC_DEV_ELT_AXPY ? 2.0 * x[i] + y[i]
					   : op == AIDC_DEV_ELT_RELU ? (x[i] > 0 ? x[i] : 0)
								     : gelu(x[i]);
				ok = near(z[i], w, t);
				CHECK(cf, ok, "eltwise %s %s: z[%d] = %g, want %g", names[op],
				      dev_dtype_name(t), i, z[i], w);
			}
			if (ok)
				fprintf(cf->out, "  eltwise %s %s: ok\n", names[op], dev_dtype_name(t));
		}
		/* An unknown op code is UNSUPPORTED, not a crash. */
		if (cf->p->api->eltwise) {
			struct aidc_dev_eltwise el = {.struct_size = sizeof el, .dtype = t,
						      .op = (enum aidc_dev_eltwise_op)99, .n = 8,
						      .x = mx, .y = my, .z = mz};
			int st = RAW(cf, "eltwise", cf->p->api->eltwise(cf->p->ctx, d, &el));
			CHECK(cf, st == AIDC_DEV_ERR_UNSUPPORTED || st == AIDC_DEV_ERR_INVALID,
			      "eltwise op 99 must be UNSUPPORTED, got %d", st);
		}
		if (dev_plugin_v2(cf->p)) { /* offsets: z[2..5] = x[1..4] + y[0..3] */
			struct aidc_dev_eltwise el = {.struct_size = sizeof el, .dtype = t,
						      .op = AIDC_DEV_ELT_ADD, .n = 4, .x = mx, .y = my,
						      .z = mz, .x_off = dev_dtype_size(t),
						      .z_off = 2 * dev_dtype_size(t)};
			aidc_err_clear(&e);
			int rc = dev_eltwise(cf->p, d, &el, &e);
			if (rc == 0) {
				download(cf, d, t, mz, z, 8);
				CHECK(cf, z[2] == x[1] + y[0] && z[5] == x[4] + y[3],
				      "eltwise add %s with offsets: z[2] = %g, z[5] = %g",
				      dev_dtype_name(t), z[2], z[5]);
			} else {
				CHECK(cf, rc == AIDC_E_UNSUPPORTED, "eltwise with offsets: %s", e.msg);
			}
		}
	}
	dev_mem_free(cf->p, d, mx);
	dev_mem_free(cf->p, d, my);
	dev_mem_free(cf->p, d, mz);
}

static void test_reduce(struct conf *cf, uint32_t d, enum aidc_dev_dtype t)
{
	float x[8] = {1, -2, 3, -4, 5, -6, 7, -8}, z[4];
	const float want[2][2] = {{-2, -2}, {3, 7}}; /* sum, max of the rows {1,-2,3,-4} {5,-6,7,-8} */
	struct aidc_dev_mem *mx = upload(cf, d, t, x, 8), *mz = upload(cf, d, t, x, 4);
	struct aidc_err e;
	for (int op = AIDC_DEV_RED_SUM; op <= AIDC_DEV_RED_MAX && mx && mz; op++) {
		aidc_err_clear(&e);
		struct aidc_dev_reduce r = {.struct_size = sizeof r, .dtype = t,
					    .op = (enum aidc_dev_reduce_op)op, .rows = 2, .cols = 4,
					    .x = mx, .y = mz};
		int rc = dev_reduce(cf->p, d, &r, &e);
		const char *name = op == AIDC_DEV_RED_SUM ? "sum" : "max";
		if (rc) {
			CHECK(cf, rc == AIDC_E_UNSUPPORTED, "reduce %s %s: %s", name,
			      dev_dtype_name(t), e.msg);
			continue;
		}
		download(cf, d, t, mz, z, 2);
		CHECK(cf, z[0] == want[op][0] && z[1] == want[op][1],
		      "reduce %s %s = %g %g, want %g %g", name, dev_dtype_name(t), z[0], z[1],
		      want[op][0], want[op][1]);
		if (dev_plugin_v2(cf->p)) { /* offsets: one row of 4 from x[4], into z[1] */
			struct aidc_dev_reduce r2 = r;
			r2.rows = 1;
			r2.x_off = 4 * dev_dtype_size(t);
			r2.y_off = dev_dtype_size(t);
			rc = dev_reduce(cf->p, d, &r2, &e);
			if (rc == 0) {
				download(cf, d, t, mz, z, 2);
				CHECK(cf, z[1] == want[op][1], "reduce %s %s with offsets = %g, want %g",
				      name, dev_dtype_name(t), z[1], want[op][1]);
			}
		}
		fprintf(cf->out, "  reduce %s %s: done\n", name, dev_dtype_name(t));
	}
	dev_mem_free(cf->p, d, mx);
	dev_mem_free(cf->p, d, mz);
}

/* 1 image, 2 channels 5x5, 2 filters 3x3, stride 2, pad 1, dilation 1, against fp64. */
static void test_conv(struct conf *cf, uint32_t d, enum aidc_dev_dtype t)
{
	enum { C = 2, H = 5, W = 5, K = 2, R = 3, S = 3, ST = 2, PAD = 1, P = 3, Q = 3 };
	float x[C * H * W], w[K * C * R * S], y[K * P * Q];
	for (int i = 0; i < C * H * W; i++)
		x[i] = (float)((i * 7) % 11 - 5) * 0.25f;
	for (int i = 0; i < K * C * R * S; i++)
		w[i] = (float)((i * 5) % 7 - 3) * 0.5f;
	struct aidc_dev_mem *mx = upload(cf, d, t, x, C * H * W), *mw = upload(cf, d, t, w, K * C * R * S),
			    *my = upload(cf, d, t, y, K * P * Q);
	struct aidc_err e;
	aidc_err_clear(&e);
	if (mx && mw && my) {
		struct aidc_dev_conv2d cv = {.struct_size = sizeof cv, .dtype = t, .n = 1, .c = C,
					     .h = H, .w = W, .k = K, .r = R, .s = S, .stride_h = ST,
					     .stride_w = ST, .pad_h = PAD, .pad_w = PAD, .dil_h = 1,
					     .dil_w = 1, .x = mx, .wt = mw, .y = my};
		int rc = dev_conv2d(cf->p, d, &cv, &e);
		if (rc == 0) {
			download(cf, d, t, my, y, K * P * Q);
			bool ok = true;
			for (int k = 0; k < K && ok; k++)
				for (int p = 0; p < P && ok; p++)
					for (int q = 0; q < Q && ok; q++) {
						double s = 0;
						for (int c = 0; c < C; c++)
							for (int r = 0; r < R; r++)
								for (int ss = 0; ss < S; ss++) {
									int ih = p * ST - PAD + r,
									    iw = q * ST - PAD + ss;
									if (ih < 0 || ih >= H || iw < 0 ||
									    iw >= W)
										continue;
									s += (double)x[(c * H + ih) * W + iw] *
									     w[((k * C + c) * R + r) * S + ss];
								}
						float got = y[(k * P + p) * Q + q];
						ok = near(got, s, t);
						CHECK(cf, ok, "conv2d %s: y[%d][%d][%d] = %g, want %g",
						      dev_dtype_name(t), k, p, q, got, s);
					}
			if (ok)
				fprintf(cf->out, "  conv2d %s (stride 2, pad 1): ok\n", dev_dtype_name(t));
		} else {
			CHECK(cf, rc == AIDC_E_UNSUPPORTED, "conv2d %s: %s", dev_dtype_name(t), e.msg);
		}
	}
	dev_mem_free(cf->p, d, mx);
	dev_mem_free(cf->p, d, mw);
	dev_mem_free(cf->p, d, my);
}

/* batch 1, 2 heads, seq 5, head_dim 4: softmax over real rows, causal and not. */
static void test_attention(struct conf *cf, uint32_t d, enum aidc_dev_dtype t)
{
	enum { HEADS = 2, SEQ = 5, D = 4, NE = HEADS * SEQ * D };
	float q[NE], k[NE], v[NE], o[NE];
	for (int i = 0; i < NE; i++) {
		q[i] = (float)((i * 3) % 7 - 3) * 0.25f;
		k[i] = (float)((i * 5) % 9 - 4) * 0.25f;
		v[i] = (float)((i * 7) % 11 - 5) * 0.5f;
	}
	struct aidc_dev_mem *mq = upload(cf, d, t, q, NE), *mk = upload(cf, d, t, k, NE),
			    *mv = upload(cf, d, t, v, NE), *mo = upload(cf, d, t, o, NE);
	for (uint32_t causal = 0; causal < 2 && mq && mk && mv && mo; causal++) {
		struct aidc_err e;
		aidc_err_clear(&e);
		struct aidc_dev_attention a = {.struct_size = sizeof a, .dtype = t, .batch = 1,
					       .heads = HEADS, .seq = SEQ, .head_dim = D,
					       .causal = causal, .scale = 0.5f, .q = mq, .k = mk,
					       .v = mv, .o = mo};
		int rc = dev_attention(cf->p, d, &a, &e);
		if (rc) {
			CHECK(cf, rc == AIDC_E_UNSUPPORTED, "attention %s: %s", dev_dtype_name(t), e.msg);
			continue;
		}
		download(cf, d, t, mo, o, NE);
		bool ok = true;
		for (int h = 0; h < HEADS && ok; h++)
			for (int i = 0; i < SEQ && ok; i++) {
				int len = causal ? i + 1 : SEQ;
				double sc[SEQ], mx = -INFINITY, sum = 0;
				for (int j = 0; j < len; j++) {
					double s = 0;
					for (int x = 0; x < D; x++)
						s += (double)q[(h * SEQ + i) * D + x] * k[(h * SEQ + j) * D + x];
					sc[j] = 0.5 * s;
					mx = sc[j] > mx ? sc[j] : mx;
				}
				for (int j = 0; j < len; j++)
					sum += (sc[j] = exp(sc[j] - mx));
				for (int x = 0; x < D && ok; x++) {
					double want = 0;
					for (int j = 0; j < len; j++)
						want += sc[j] / sum * v[(h * SEQ + j) * D + x];
					float got = o[(h * SEQ + i) * D + x];
					ok = near(got, want, t);
					CHECK(cf, ok, "attention %s%s: o[head %d][row %d][%d] = %g, want %g",
					      dev_dtype_name(t), causal ? " causal" : "", h, i, x, got, want);
				}
			}
		if (ok)
			fprintf(cf->out, "  attention %s seq %d%s: ok\n", dev_dtype_name(t), SEQ,
				causal ? " causal" : "");
	}
	dev_mem_free(cf->p, d, mq);
	dev_mem_free(cf->p, d, mk);
	dev_mem_free(cf->p, d, mv);
	dev_mem_free(cf->p, d, mo);
}

static void test_collectives(struct conf *cf)
{
	struct dev_plugin *p = cf->p;
	if (p->ndev < 2 || !p->api->allreduce)
		return;
	float a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40}, out[4];
	struct aidc_dev_mem *ma = upload(cf, 0, AIDC_DEV_F32, a, 4),
			    *mb = upload(cf, 1, AIDC_DEV_F32, b, 4);
	uint32_t devs[2] = {0, 1};
	struct aidc_dev_mem *bufs[2] = {ma, mb};
	struct aidc_dev_allreduce ar = {.struct_size = sizeof ar, .dtype = AIDC_DEV_F32, .ndev = 2,
					.devs = devs, .bufs = bufs, .n = 4};
	struct aidc_err e;
	aidc_err_clear(&e);
	if (ma && mb) {
		CHECK(cf, dev_allreduce(p, &ar, &e) == 0, "allreduce: %s", e.msg);
		download(cf, 1, AIDC_DEV_F32, mb, out, 4);
		CHECK(cf, out[0] == 11 && out[3] == 44, "allreduce = %g .. %g", out[0], out[3]);
		fprintf(cf->out, "  allreduce f32: ok\n");
	}
	dev_mem_free(p, 0, ma);
	dev_mem_free(p, 1, mb);
}

/* The suite in the child: exit 0 pass, 1 fail, 77 no device (with the reason printed). */
static void conformance_child(const char *plugin, const char *config, FILE *out,
			      struct dev_watch *watch, bool skip_no_device)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct aidc_err e;
	aidc_err_clear(&e);
	struct dev_plugin p;
	int rc = dev_plugin_open_watched(&p, plugin, config, watch, &e);
	if (rc == AIDC_E_NOTFOUND) {
		fprintf(out, "SKIP: plugin %s not found: %s\n", plugin, e.msg);
		fflush(out);
		_exit(EXAM_CONFORMANCE_SKIP);
	}
	if (rc) {
		if (skip_no_device) {
			fprintf(out, "SKIP: plugin %s has no usable device here: %s\n", plugin, e.msg);
			fflush(out);
			_exit(EXAM_CONFORMANCE_SKIP);
		}
		fprintf(out, "FAIL: cannot open %s: %s\n", plugin, e.msg);
		fflush(out);
		_exit(1);
	}
	if (p.ndev == 0) {
		fprintf(out, "SKIP: plugin %s reports no device on this machine\n", plugin);
		fflush(out);
		_exit(EXAM_CONFORMANCE_SKIP);
	}
	struct conf cf = {.p = &p, .out = out};
	fprintf(out, "conformance of %s %s (%s), ABI version %u, %u device(s)\n", p.api->name,
		p.api->version ? p.api->version : "", p.path, p.api->abi_version, p.ndev);
	test_info(&cf);
	for (uint32_t d = 0; d < p.ndev && d < 2; d++) {
		test_memory(&cf, d);
		test_host_alloc(&cf, d);
		test_gemm(&cf, d);
		for (int t = 0; t < 3; t++) {
			test_eltwise(&cf, d, f_types[t]);
			test_reduce(&cf, d, f_types[t]);
			test_conv(&cf, d, f_types[t]);
			test_attention(&cf, d, f_types[t]);
		}
	}
	test_collectives(&cf);
	dev_plugin_close(&p);
	fprintf(out, "%s: %d failure(s)\n", cf.failures ? "FAIL" : "PASS", cf.failures);
	fflush(out);
	_exit(cf.failures ? 1 : 0);
}

int exam_conformance(const char *plugin, const char *config, FILE *out, double timeout_s,
		     bool skip_no_device, struct aidc_err *e)
{
	struct dev_watch *w = mmap(NULL, sizeof *w, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w == MAP_FAILED)
		return aidc_errf(e, AIDC_E_IO, "mmap: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		munmap(w, sizeof *w);
		return aidc_errf(e, AIDC_E_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dev_child_default_faults();
		conformance_child(plugin, config, out, w, skip_no_device);
	}
	double t0 = exam_now_s();
	int st = 0;
	bool timed_out = false;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			munmap(w, sizeof *w);
			return aidc_errf(e, AIDC_E_IO, "waitpid: %s", strerror(errno));
		}
		if (exam_now_s() - t0 > timeout_s) {
			timed_out = true;
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		usleep(20000);
	}
	char call[sizeof w->call];
	snprintf(call, sizeof call, "%s", (const char *)w->call);
	bool in_call = w->start_s > 0;
	munmap(w, sizeof *w);
	if (timed_out)
		return aidc_errf(e, AIDC_E_TIMEOUT,
				 "the suite did not finish within %.3g s%s%s%s: the plugin hangs",
				 timeout_s, in_call ? " (in its " : "", in_call ? call : "",
				 in_call ? " call)" : "");
	if (WIFSIGNALED(st))
		return aidc_errf(e, AIDC_E_DEVICE, "the plugin crashed (signal %d, %s)%s%s%s",
				 WTERMSIG(st), strsignal(WTERMSIG(st)), in_call ? " in its " : "",
				 in_call ? call : "", in_call ? " call" : "");
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	if (code == EXAM_CONFORMANCE_SKIP)
		return EXAM_CONFORMANCE_SKIP;
	if (code)
		return aidc_errf(e, AIDC_E_WRONG_ANSWER, "the plugin does not conform (see above)");
	return 0;
}
