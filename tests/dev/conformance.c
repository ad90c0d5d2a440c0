/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device plugin ABI conformance suite. Run it against any plugin:
 *     dev_conformance cpu|opencl|PATH.so [CONFIG]
 * It checks what every plugin must do (docs/device-plugin-abi.md): valid
 * device info, memory round trips with offsets, bad arguments answered with
 * AIDC_DEV_ERR_INVALID instead of a crash, unsupported work answered with
 * AIDC_DEV_ERR_UNSUPPORTED, and small correct answers from each compute entry
 * point the plugin offers. Exit 0 pass, 1 fail, 77 skip (plugin not built or
 * no device: the reason is printed).
 */
#include <math.h>

#include "dev/dev.h"
#include "dev/half.h"
#include "util/util.h"

static int failures;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                     \
			fprintf(stderr, "\n");                            \
			failures++;                                       \
		}                                                         \
	} while (0)

static void test_info(struct dev_plugin *p)
{
	CHECK(p->api->name && *p->api->name, "plugin has no name");
	for (uint32_t d = 0; d < p->ndev; d++) {
		const struct aidc_dev_info *in = &p->info[d];
		CHECK(in->name[0], "device %u has no name", d);
		CHECK(in->mem_bytes > 0, "device %u reports no memory", d);
		printf("  device %u: %s (%s), %.1f GiB, caps 0x%x\n", d, in->name, in->vendor,
		       (double)in->mem_bytes / (1 << 30), in->caps);
	}
	struct aidc_dev_info tmp = {.struct_size = sizeof tmp};
	CHECK(p->api->device_info(p->ctx, p->ndev, &tmp) == AIDC_DEV_ERR_INVALID,
	      "device_info past the last device must return INVALID");
}

static void test_memory(struct dev_plugin *p, uint32_t d)
{
	struct aidc_err e;
	aidc_err_clear(&e);
	struct aidc_dev_mem *m = NULL;
	unsigned char in[4096], out[4096];
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 7 + 3);
	CHECK(dev_mem_alloc(p, d, sizeof in, &m, &e) == 0, "mem_alloc: %s", e.msg);
	if (!m)
		return;
	CHECK(dev_copy_h2d(p, d, m, 0, in, sizeof in, &e) == 0, "copy_h2d: %s", e.msg);
	CHECK(dev_copy_h2d(p, d, m, 100, in, 50, &e) == 0, "copy_h2d at offset: %s", e.msg);
	CHECK(dev_sync(p, d, &e) == 0, "synchronize: %s", e.msg);
	memset(out, 0, sizeof out);
	CHECK(dev_copy_d2h(p, d, out, m, 0, sizeof out, &e) == 0, "copy_d2h: %s", e.msg);
	CHECK(memcmp(out, in, 100) == 0 && memcmp(out + 100, in, 50) == 0 &&
		      memcmp(out + 150, in + 150, sizeof in - 150) == 0,
	      "memory round trip with offsets differs");
	memset(out, 0, sizeof out);
	CHECK(dev_copy_d2h(p, d, out, m, 4000, 96, &e) == 0, "copy_d2h at offset: %s", e.msg);
	CHECK(memcmp(out, in + 4000, 96) == 0, "copy_d2h at offset differs");
	/* Out of range: a defined error, never a crash. */
	CHECK(p->api->copy_h2d(p->ctx, d, m, 4000, in, 200) == AIDC_DEV_ERR_INVALID,
	      "copy_h2d past the end must return INVALID");
	CHECK(p->api->copy_d2h(p->ctx, d, out, m, 1, sizeof out) == AIDC_DEV_ERR_INVALID,
	      "copy_d2h past the end must return INVALID");
	struct aidc_dev_mem *huge = NULL;
	int st = p->api->mem_alloc(p->ctx, d, UINT64_MAX / 2, &huge);
	CHECK(st == AIDC_DEV_ERR_NOMEM || st == AIDC_DEV_ERR_INVALID,
	      "an impossible allocation must fail with NOMEM or INVALID, got %d", st);
	if (p->api->copy_d2d) {
		struct aidc_dev_mem *m2 = NULL;
		CHECK(dev_mem_alloc(p, d, sizeof in, &m2, &e) == 0, "mem_alloc: %s", e.msg);
		CHECK(dev_copy_d2d(p, d, m2, m, sizeof in, &e) == 0, "copy_d2d: %s", e.msg);
		CHECK(dev_copy_d2h(p, d, out, m2, 0, sizeof out, &e) == 0, "copy_d2h: %s", e.msg);
		CHECK(dev_sync(p, d, &e) == 0 && out[4095] == in[4095] && out[7] == in[7],
		      "copy_d2d differs");
		dev_mem_free(p, d, m2);
	}
	CHECK(p->api->mem_free(p->ctx, d, NULL) == AIDC_DEV_OK, "mem_free(NULL) must be a no-op");
	dev_mem_free(p, d, m);
}

/* Uploads n floats (converted to dtype t); returns the buffer or NULL. */
static struct aidc_dev_mem *upload(struct dev_plugin *p, uint32_t d, enum aidc_dev_dtype t,
				   const float *v, size_t n)
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
	if (dev_mem_alloc(p, d, n * es, &m, &e) || dev_copy_h2d(p, d, m, 0, raw, n * es, &e)) {
		CHECK(0, "upload: %s", e.msg);
		dev_mem_free(p, d, m);
		m = NULL;
	}
	aidc_free(raw);
	return m;
}

static void download(struct dev_plugin *p, uint32_t d, enum aidc_dev_dtype t,
		     struct aidc_dev_mem *m, float *v, size_t n)
{
	struct aidc_err e;
	aidc_err_clear(&e);
	size_t es = dev_dtype_size(t);
	unsigned char *raw = aidc_calloc(n, es);
	CHECK(dev_sync(p, d, &e) == 0 && dev_copy_d2h(p, d, raw, m, 0, n * es, &e) == 0,
	      "download: %s", e.msg);
	for (size_t i = 0; i < n; i++) {
		uint16_t h;
		memcpy(&h, raw + 2 * i, 2);
		if (t == AIDC_DEV_F16)
			v[i] = dev_f16_to_f32(h);
		else if (t == AIDC_DEV_BF16)
			v[i] = dev_bf16_to_f32(h);
		else if (t == AIDC_DEV_F64) {
			double x;
			memcpy(&x, raw + 8 * i, 8);
			v[i] = (float)x;
		} else
			memcpy(&v[i], raw + 4 * i, 4);
	}
	aidc_free(raw);
}

/* A 3x4 by 4x2 GEMM with small integers: exact in every precision. */
static void test_gemm(struct dev_plugin *p, uint32_t d, enum aidc_dev_dtype t)
{
	const float A[12] = {1, 2, 3, 4, -1, 0, 2, 1, 3, -2, 1, 0};
	const float B[8] = {1, 0, 0, 1, 2, -1, 1, 3};
	float C[6] = {9, 9, 9, 9, 9, 9}, want[6];
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 2; j++) {
			float s = 0;
			for (int l = 0; l < 4; l++)
				s += A[i * 4 + l] * B[l * 2 + j];
			want[i * 2 + j] = s;
		}
	struct aidc_dev_mem *a = upload(p, d, t, A, 12), *b = upload(p, d, t, B, 8),
			    *c = upload(p, d, t, C, 6);
	if (a && b && c) {
		struct aidc_dev_gemm g = {.struct_size = sizeof g, .dtype = t, .m = 3, .n = 2, .k = 4,
					  .lda = 4, .ldb = 2, .ldc = 2, .alpha = 1, .beta = 0,
					  .a = a, .b = b, .c = c};
		struct aidc_err e;
		aidc_err_clear(&e);
		int rc = dev_gemm(p, d, &g, &e);
		if (rc == AIDC_E_UNSUPPORTED) {
			printf("  gemm %s: unsupported (%s)\n", dev_dtype_name(t), e.msg);
		} else {
			CHECK(rc == 0, "gemm %s: %s", dev_dtype_name(t), e.msg);
			download(p, d, t, c, C, 6);
			for (int i = 0; i < 6; i++)
				CHECK(C[i] == want[i], "gemm %s: C[%d] = %g, want %g", dev_dtype_name(t),
				      i, C[i], want[i]);
			printf("  gemm %s: ok\n", dev_dtype_name(t));
		}
		/* A shape that does not fit the buffers: INVALID, no crash. */
		g.m = 1000;
		if (p->api->gemm)
			CHECK(p->api->gemm(p->ctx, d, &g) == AIDC_DEV_ERR_INVALID ||
				      rc == AIDC_E_UNSUPPORTED,
			      "gemm with an oversized shape must return INVALID");
	}
	dev_mem_free(p, d, a);
	dev_mem_free(p, d, b);
	dev_mem_free(p, d, c);
}

/* Optional ops: either a right answer or UNSUPPORTED. */
static void test_eltwise_reduce(struct dev_plugin *p, uint32_t d)
{
	float x[8] = {1, -2, 3, -4, 5, -6, 7, -8}, y[8] = {1, 1, 1, 1, 2, 2, 2, 2}, z[8];
	struct aidc_dev_mem *mx = upload(p, d, AIDC_DEV_F32, x, 8), *my = upload(p, d, AIDC_DEV_F32, y, 8),
			    *mz = upload(p, d, AIDC_DEV_F32, y, 8);
	struct aidc_err e;
	aidc_err_clear(&e);
	if (mx && my && mz) {
		struct aidc_dev_eltwise el = {.struct_size = sizeof el, .dtype = AIDC_DEV_F32,
					      .op = AIDC_DEV_ELT_AXPY, .n = 8, .alpha = 2,
					      .x = mx, .y = my, .z = mz};
		int rc = dev_eltwise(p, d, &el, &e);
		if (rc == 0) {
			download(p, d, AIDC_DEV_F32, mz, z, 8);
			for (int i = 0; i < 8; i++)
				CHECK(z[i] == 2 * x[i] + y[i], "eltwise axpy[%d] = %g", i, z[i]);
			printf("  eltwise: ok\n");
		} else {
			CHECK(rc == AIDC_E_UNSUPPORTED, "eltwise: %s", e.msg);
		}
		struct aidc_dev_reduce r = {.struct_size = sizeof r, .dtype = AIDC_DEV_F32,
					    .op = AIDC_DEV_RED_SUM, .rows = 2, .cols = 4, .x = mx,
					    .y = mz};
		aidc_err_clear(&e);
		rc = dev_reduce(p, d, &r, &e);
		if (rc == 0) {
			download(p, d, AIDC_DEV_F32, mz, z, 2);
			CHECK(z[0] == -2 && z[1] == -2, "reduce sum = %g %g, want -2 -2", z[0], z[1]);
			printf("  reduce: ok\n");
		} else {
			CHECK(rc == AIDC_E_UNSUPPORTED, "reduce: %s", e.msg);
		}
		/* An unknown op code is UNSUPPORTED, not a crash. */
		if (p->api->eltwise) {
			el.op = (enum aidc_dev_eltwise_op)99;
			int st = p->api->eltwise(p->ctx, d, &el);
			CHECK(st == AIDC_DEV_ERR_UNSUPPORTED || st == AIDC_DEV_ERR_INVALID,
			      "eltwise op 99 must be UNSUPPORTED, got %d", st);
		}
	}
	dev_mem_free(p, d, mx);
	dev_mem_free(p, d, my);
	dev_mem_free(p, d, mz);
}

static void test_conv_attention(struct dev_plugin *p, uint32_t d)
{
	/* 1x1x3x3 input, 1x1x2x2 filter of ones, no padding: 2x2 window sums. */
	float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 1, 1, 1}, y[4];
	struct aidc_dev_mem *mx = upload(p, d, AIDC_DEV_F32, x, 9), *mw = upload(p, d, AIDC_DEV_F32, w, 4),
			    *my = upload(p, d, AIDC_DEV_F32, w, 4);
	struct aidc_err e;
	aidc_err_clear(&e);
	if (mx && mw && my) {
		struct aidc_dev_conv2d c = {.struct_size = sizeof c, .dtype = AIDC_DEV_F32, .n = 1,
					    .c = 1, .h = 3, .w = 3, .k = 1, .r = 2, .s = 2,
					    .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1,
					    .x = mx, .wt = mw, .y = my};
		int rc = dev_conv2d(p, d, &c, &e);
		if (rc == 0) {
			download(p, d, AIDC_DEV_F32, my, y, 4);
			CHECK(y[0] == 12 && y[1] == 16 && y[2] == 24 && y[3] == 28,
			      "conv2d = %g %g %g %g, want 12 16 24 28", y[0], y[1], y[2], y[3]);
			printf("  conv2d: ok\n");
		} else {
			CHECK(rc == AIDC_E_UNSUPPORTED, "conv2d: %s", e.msg);
		}
		/* Attention with one key: the output is that key's value row. */
		struct aidc_dev_attention a = {.struct_size = sizeof a, .dtype = AIDC_DEV_F32,
					       .batch = 1, .heads = 1, .seq = 1, .head_dim = 4,
					       .scale = 0.5f, .q = mw, .k = mw, .v = mx, .o = my};
		aidc_err_clear(&e);
		rc = dev_attention(p, d, &a, &e);
		if (rc == 0) {
			download(p, d, AIDC_DEV_F32, my, y, 4);
			CHECK(fabsf(y[0] - 1) < 1e-6f && fabsf(y[3] - 4) < 1e-6f,
			      "attention with one key = %g .. %g, want 1 .. 4", y[0], y[3]);
			printf("  attention: ok\n");
		} else {
			CHECK(rc == AIDC_E_UNSUPPORTED, "attention: %s", e.msg);
		}
	}
	dev_mem_free(p, d, mx);
	dev_mem_free(p, d, mw);
	dev_mem_free(p, d, my);
}

static void test_collectives(struct dev_plugin *p)
{
	if (p->ndev < 2 || !p->api->allreduce)
		return;
	float a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40}, out[4];
	struct aidc_dev_mem *ma = upload(p, 0, AIDC_DEV_F32, a, 4), *mb = upload(p, 1, AIDC_DEV_F32, b, 4);
	uint32_t devs[2] = {0, 1};
	struct aidc_dev_mem *bufs[2] = {ma, mb};
	struct aidc_dev_allreduce ar = {.struct_size = sizeof ar, .dtype = AIDC_DEV_F32, .ndev = 2,
					.devs = devs, .bufs = bufs, .n = 4};
	struct aidc_err e;
	aidc_err_clear(&e);
	if (ma && mb) {
		CHECK(dev_allreduce(p, &ar, &e) == 0, "allreduce: %s", e.msg);
		download(p, 1, AIDC_DEV_F32, mb, out, 4);
		CHECK(out[0] == 11 && out[3] == 44, "allreduce = %g .. %g", out[0], out[3]);
		printf("  allreduce: ok\n");
	}
	dev_mem_free(p, 0, ma);
	dev_mem_free(p, 1, mb);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: dev_conformance PLUGIN|PATH.so [CONFIG]\n");
		return 2;
	}
	struct aidc_err e;
	aidc_err_clear(&e);
	struct dev_plugin p;
	int rc = dev_plugin_open(&p, argv[1], argc > 2 ? argv[2] : NULL, &e);
	if (rc == AIDC_E_NOTFOUND) {
		printf("SKIP: plugin %s is not built here: %s\n", argv[1], e.msg);
		return 77;
	}
	if (rc) {
		if (getenv("AIDC_CONFORMANCE_SKIP_NO_DEVICE")) {
			printf("SKIP: plugin %s has no usable device here: %s\n", argv[1], e.msg);
			return 77;
		}
		fprintf(stderr, "FAIL: cannot open %s: %s\n", argv[1], e.msg);
		return 1;
	}
	if (p.ndev == 0) {
		printf("SKIP: plugin %s reports no device on this machine\n", argv[1]);
		dev_plugin_close(&p);
		return 77;
	}
	printf("conformance of %s (%s), %u device(s)\n", p.api->name, p.path, p.ndev);
	test_info(&p);
	for (uint32_t d = 0; d < p.ndev && d < 2; d++) {
		test_memory(&p, d);
		for (int t = 0; t < AIDC_DEV_NDTYPES; t++)
			test_gemm(&p, d, (enum aidc_dev_dtype)t);
		test_eltwise_reduce(&p, d);
		test_conv_attention(&p, d);
	}
	test_collectives(&p);
	dev_plugin_close(&p);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
