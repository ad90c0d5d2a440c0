/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The smallest useful AIDC device plugin, for vendors to copy: one device
 * backed by host memory and an fp32 GEMM written as three loops (over
 * cache-sized tiles). Everything
 * optional is left NULL (the exam then marks those questions "unsupported").
 * docs/device-plugin-abi.md walks through it. Depends on nothing but libc
 * (../plugin_util.h is header-only: copy it along).
 *
 * Built a second time with -DEXAMPLE_WRONG=1 as tests/exam's deliberately
 * wrong plugin: its GEMM drops the last term of every dot product, which the
 * exam must catch and fail whatever the speed.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aidc/device.h>

#include "../plugin_util.h"

struct aidc_dev_mem {
	uint64_t bytes;
	unsigned char *data;
};

struct ex_ctx {
	char err[128];
};

PLUGIN_DEFINE_FAIL(ex_fail, struct ex_ctx)

static int ex_init(const char *config, void **out, char *err, size_t errlen)
{
	struct ex_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return AIDC_DEV_ERR_NOMEM;
	}
	*out = c;
	return AIDC_DEV_OK;
}

static void ex_fini(void *ctx)
{
	free(ctx);
}

static const char *ex_last_error(void *ctx)
{
	return ((struct ex_ctx *)ctx)->err;
}

static int ex_device_count(void *ctx, uint32_t *out)
{
	*out = 1;
	return AIDC_DEV_OK;
}

static int ex_device_info(void *ctx, uint32_t dev, struct aidc_dev_info *out)
{
	if (dev != 0)
		return ex_fail(ctx, AIDC_DEV_ERR_INVALID, "no such device");
	/* Only write what the host's struct has room for (struct_size), then fill in. */
	plugin_info_clear(out);
	snprintf(out->name, sizeof out->name, "Example accelerator");
	snprintf(out->vendor, sizeof out->vendor, "AIDC");
	snprintf(out->model, sizeof out->model, "example-1");
	snprintf(out->driver, sizeof out->driver, "example 1.0");
	out->mem_bytes = 1ull << 30;
	out->caps = AIDC_DEV_CAP_GEMM_F32;
	out->compute_units = 1;
	return AIDC_DEV_OK;
}

static int ex_mem_alloc(void *ctx, uint32_t dev, uint64_t bytes, struct aidc_dev_mem **out)
{
	if (dev != 0 || bytes == 0)
		return ex_fail(ctx, AIDC_DEV_ERR_INVALID, "bad device or size");
	if (bytes > (1ull << 30))
		return ex_fail(ctx, AIDC_DEV_ERR_NOMEM, "more than the device's 1 GiB");
	struct aidc_dev_mem *m = malloc(sizeof *m);
	if (!m || !(m->data = malloc((size_t)bytes))) {
		free(m);
		return ex_fail(ctx, AIDC_DEV_ERR_NOMEM, "out of memory");
	}
	m->bytes = bytes;
	*out = m;
	return AIDC_DEV_OK;
}

static int ex_mem_free(void *ctx, uint32_t dev, struct aidc_dev_mem *m)
{
	if (m)
		free(m->data);
	free(m);
	return AIDC_DEV_OK;
}

static int fits(const struct aidc_dev_mem *m, uint64_t off, uint64_t bytes)
{
	return m && plugin_in_range(m->bytes, off, bytes);
}

static int ex_copy_h2d(void *ctx, uint32_t dev, struct aidc_dev_mem *dst, uint64_t off,
		       const void *src, uint64_t bytes)
{
	if (dev != 0 || !fits(dst, off, bytes) || (!src && bytes))
		return ex_fail(ctx, AIDC_DEV_ERR_INVALID, "copy outside the buffer");
	memcpy(dst->data + off, src, (size_t)bytes);
	return AIDC_DEV_OK;
}

static int ex_copy_d2h(void *ctx, uint32_t dev, void *dst, const struct aidc_dev_mem *src,
		       uint64_t off, uint64_t bytes)
{
	if (dev != 0 || !fits(src, off, bytes) || (!dst && bytes))
		return ex_fail(ctx, AIDC_DEV_ERR_INVALID, "copy outside the buffer");
	memcpy(dst, src->data + off, (size_t)bytes);
	return AIDC_DEV_OK;
}

static int ex_synchronize(void *ctx, uint32_t dev)
{
	return dev == 0 ? AIDC_DEV_OK : ex_fail(ctx, AIDC_DEV_ERR_INVALID, "no such device");
}

static int ex_gemm(void *ctx, uint32_t dev, const struct aidc_dev_gemm *g)
{
	if (g->dtype != AIDC_DEV_F32 || g->trans_a || g->trans_b)
		return ex_fail(ctx, AIDC_DEV_ERR_UNSUPPORTED, "only fp32, no transposes");
	/* ABI v2 byte offsets; a host struct that ends before them means 0. */
	uint64_t ao = 0, bo = 0, co = 0;
#if AIDC_DEVICE_ABI_VERSION >= 2 /* tests also build this file against the version-1 header */
	if (g->struct_size >= offsetof(struct aidc_dev_gemm, c_off) + sizeof g->c_off) {
		ao = g->a_off;
		bo = g->b_off;
		co = g->c_off;
	}
#endif
	if (dev != 0 || !g->m || !g->n || !g->k || g->lda < g->k || g->ldb < g->n ||
	    g->ldc < g->n || (ao | bo | co) % 4 || !fits(g->a, ao, ((g->m - 1) * g->lda + g->k) * 4) ||
	    !fits(g->b, bo, ((g->k - 1) * g->ldb + g->n) * 4) ||
	    !fits(g->c, co, ((g->m - 1) * g->ldc + g->n) * 4))
		return ex_fail(ctx, AIDC_DEV_ERR_INVALID, "shape does not fit the buffers");
	const float *a = (const float *)(g->a->data + ao), *b = (const float *)(g->b->data + bo);
	float *c = (float *)(g->c->data + co);
	uint64_t kk = g->k;
#ifdef EXAMPLE_WRONG
	kk = g->k > 1 ? g->k - 1 : 1; /* the deliberate bug */
#endif
	for (uint64_t i = 0; i < g->m; i++) {
		float *ci = c + i * g->ldc;
		for (uint64_t j = 0; j < g->n; j++)
			ci[j] = g->beta == 0 ? 0.0f : g->beta * ci[j];
	}
	/* Still three loops, over tiles of B that stay in cache (EX_TILE_K rows
	 * of EX_TILE_N columns) so that large shapes run at the speed of the
	 * arithmetic, not of memory; the inner loop is contiguous and
	 * vectorizes. A GEMM at 4096^3 takes seconds, not minutes. */
	enum { EX_TILE_K = 128, EX_TILE_N = 512 };
	for (uint64_t l0 = 0; l0 < kk; l0 += EX_TILE_K) {
		uint64_t l1 = l0 + EX_TILE_K < kk ? l0 + EX_TILE_K : kk;
		for (uint64_t j0 = 0; j0 < g->n; j0 += EX_TILE_N) {
			uint64_t j1 = j0 + EX_TILE_N < g->n ? j0 + EX_TILE_N : g->n;
			for (uint64_t i = 0; i < g->m; i++) {
				float *restrict ci = c + i * g->ldc;
				for (uint64_t l = l0; l < l1; l++) {
					float av = g->alpha * a[i * g->lda + l];
					const float *restrict bl = b + l * g->ldb;
					for (uint64_t j = j0; j < j1; j++)
						ci[j] += av * bl[j];
				}
			}
		}
	}
	return AIDC_DEV_OK;
}

static const struct aidc_device_plugin example_plugin = {
	.abi_version = AIDC_DEVICE_ABI_VERSION,
	.struct_size = sizeof(struct aidc_device_plugin),
#ifdef EXAMPLE_WRONG
	.name = "wrong",
#else
	.name = "example",
#endif
	.version = "1.0",
	.init = ex_init,
	.fini = ex_fini,
	.last_error = ex_last_error,
	.device_count = ex_device_count,
	.device_info = ex_device_info,
	.mem_alloc = ex_mem_alloc,
	.mem_free = ex_mem_free,
	.copy_h2d = ex_copy_h2d,
	.copy_d2h = ex_copy_d2h,
	.synchronize = ex_synchronize,
	.gemm = ex_gemm,
	/* links, copy_d2d, conv2d, attention, eltwise, reduce, copy_peer, allreduce,
	 * host_alloc, host_free: NULL */
};

const struct aidc_device_plugin *aidc_device_plugin_entry(uint32_t host_abi)
{
	/* This table is version 2; a host of another version gets nothing. */
	return host_abi == AIDC_DEVICE_ABI_VERSION ? &example_plugin : NULL;
}
