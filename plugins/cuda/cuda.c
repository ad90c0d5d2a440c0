/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `cuda` device plugin: NVIDIA GPUs through the CUDA runtime, cuBLAS and
 * NVRTC (it links those three and never libcuda).
 * GEMM: cublasGemmEx for fp32, fp16 and bf16 (fp32 accumulation, tensor
 * cores allowed for 16-bit types, never TF32 for fp32: the exam's fp32
 * tolerance would rightly fail it) and cublasDgemm for fp64. Row-major
 * C = A B is computed as column-major C^T = B^T A^T.
 * The plugin's own kernels (cuda_kernels.cu) are compiled by NVRTC for the
 * device's compute capability on the first call that needs one, once per
 * context and architecture, and loaded with cudaLibraryLoadData:
 *  - conv2d (fp32): im2col kernel into a workspace, then one strided-batched
 *    SGEMM per chunk of images; 1x1 stride-1 unpadded filters skip im2col;
 *  - attention (fp32): per chunk of heads, SGEMM scores = scale Q K^T into a
 *    workspace, a row softmax kernel (max, exp, sum, scale; causal rows mask
 *    the keys after the query), then SGEMM O = P V;
 *  - reduce (fp32 sum, max): one block per row piece, fp32 shared-memory
 *    tree, a second pass when rows are few and long; deterministic;
 *  - eltwise (fp32 add, mul, axpy, relu, gelu-tanh): one grid-stride kernel;
 *  - allreduce (fp32 sum, 2+ devices): reduce into the first device through
 *    cudaMemcpyPeer and a kernel, then copy the sum back to the others.
 * Workspaces grow on demand, are capped per call (CU_WS_CHUNK_BYTES: work is
 * cut into chunks that fit) and freed at fini. Peer copies use
 * cudaMemcpyPeer. Built only where CMake finds the toolkit with cuBLAS and
 * NVRTC (plugins/cuda/CMakeLists.txt).
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aidc/device.h>

#include "cuda_kern.h"
#include "../plugin_util.h"

#define CU_MAX_DEVICES 64
/* Distinct compute capabilities whose compiled kernels one context keeps. */
#define CU_MAX_IMAGES 8
/* Largest workspace one call cuts its work to (one image or head may need more). */
#define CU_WS_CHUNK_BYTES (1ull << 30)
/* Blocks per SM for grid-stride kernels: enough to hide memory latency. */
#define CU_BLOCKS_PER_SM 8
/* A reduction row at least this long, with fewer rows than blocks, is split. */
#define CU_REDUCE_SPLIT_COLS 65536ull
/* Columns per piece of a split reduction row. */
#define CU_REDUCE_PIECE_COLS 16384ull

_Static_assert(CU_ELT_ADD == AIDC_DEV_ELT_ADD && CU_ELT_MUL == AIDC_DEV_ELT_MUL &&
		   CU_ELT_AXPY == AIDC_DEV_ELT_AXPY && CU_ELT_RELU == AIDC_DEV_ELT_RELU &&
		   CU_ELT_GELU == AIDC_DEV_ELT_GELU,
	       "cuda_index.h op codes follow enum aidc_dev_eltwise_op");

struct aidc_dev_mem {
	void *p;
	uint64_t bytes;
};

struct cu_dev {
	cublasHandle_t blas;
	cudaStream_t stream;
	struct aidc_dev_info info;
	int cc_major, cc_minor, nsm;
	int kstate; /* 0: not loaded yet, 1: loaded, -1: failed (kerr says why) */
	cudaLibrary_t lib;
	cudaKernel_t kern[CU_NKERN];
	void *ws; /* workspace, ws_bytes long; owned */
	uint64_t ws_bytes;
};

struct cu_ctx {
	uint32_t ndev;
	struct cu_dev dev[CU_MAX_DEVICES];
	struct cu_image img[CU_MAX_IMAGES]; /* compiled kernels per compute capability */
	int img_cc[CU_MAX_IMAGES];
	uint32_t nimg;
	char kerr[512]; /* why kernels could not be built or loaded */
	char err[768];
};

PLUGIN_DEFINE_FAIL(fail, struct cu_ctx)

static int cufail(struct cu_ctx *c, cudaError_t e, const char *what)
{
	return fail(c, e == cudaErrorMemoryAllocation ? AIDC_DEV_ERR_NOMEM : AIDC_DEV_ERR_DEVICE,
		    "%s: %s", what, cudaGetErrorString(e));
}

/* Makes dev current; NULL if the index is bad. */
static struct cu_dev *use(struct cu_ctx *c, uint32_t dev)
{
	if (dev >= c->ndev)
		return NULL;
	return cudaSetDevice((int)dev) == cudaSuccess ? &c->dev[dev] : NULL;
}

static void cu_fini(void *ctx)
{
	struct cu_ctx *c = ctx;
	if (!c)
		return;
	for (uint32_t i = 0; i < c->ndev; i++) {
		struct cu_dev *d = &c->dev[i];
		cudaSetDevice((int)i);
		if (d->stream)
			cudaStreamSynchronize(d->stream);
		cudaFree(d->ws);
		if (d->kstate == 1)
			cudaLibraryUnload(d->lib);
		if (d->blas)
			cublasDestroy(d->blas);
		if (d->stream)
			cudaStreamDestroy(d->stream);
	}
	for (uint32_t i = 0; i < c->nimg; i++)
		cu_image_release(&c->img[i]);
	free(c);
}

static void describe(int i, struct aidc_dev_info *in)
{
	struct cudaDeviceProp pr;
	int rt = 0, clock_khz = 0, mem_khz = 0, bus = 0;
	memset(&pr, 0, sizeof pr);
	cudaGetDeviceProperties(&pr, i);
	cudaRuntimeGetVersion(&rt);
	cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, i);
	cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, i);
	cudaDeviceGetAttribute(&bus, cudaDevAttrGlobalMemoryBusWidth, i);
	snprintf(in->name, sizeof in->name, "%.120s", pr.name);
	snprintf(in->vendor, sizeof in->vendor, "NVIDIA");
	snprintf(in->model, sizeof in->model, "cuda:%.100s:sm%d%d", pr.name, pr.major, pr.minor);
	snprintf(in->driver, sizeof in->driver, "CUDA runtime %d", rt);
	snprintf(in->uuid, sizeof in->uuid, "GPU-%02x%02x%02x%02x-%02x%02x",
		 (unsigned char)pr.uuid.bytes[0], (unsigned char)pr.uuid.bytes[1],
		 (unsigned char)pr.uuid.bytes[2], (unsigned char)pr.uuid.bytes[3],
		 (unsigned char)pr.uuid.bytes[4], (unsigned char)pr.uuid.bytes[5]);
	in->mem_bytes = pr.totalGlobalMem;
	in->compute_units = (uint32_t)pr.multiProcessorCount;
	/* Claimed peaks from clocks: 128 fp32 FMA lanes per SM (Ampere and later). */
	double ghz = clock_khz / 1e6;
	in->peak_gflops[AIDC_DEV_F32] = 2.0 * 128 * pr.multiProcessorCount * ghz;
	in->peak_mem_gbps = mem_khz > 0 && bus > 0 ? 2.0 * mem_khz * 1e3 * (bus / 8) / 1e9 : 0;
	in->caps = AIDC_DEV_CAP_GEMM_F32 | AIDC_DEV_CAP_GEMM_F16 | AIDC_DEV_CAP_GEMM_BF16 |
		   AIDC_DEV_CAP_CONV2D | AIDC_DEV_CAP_ATTENTION | AIDC_DEV_CAP_ELTWISE |
		   AIDC_DEV_CAP_REDUCE | AIDC_DEV_CAP_PEER_COPY | AIDC_DEV_CAP_ALLREDUCE;
}

static int cu_init(const char *config, void **out, char *err, size_t errlen)
{
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess || n <= 0) {
		snprintf(err, errlen, "no CUDA device: %s",
			 e != cudaSuccess ? cudaGetErrorString(e) : "none");
		return AIDC_DEV_ERR_DEVICE;
	}
	struct cu_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return AIDC_DEV_ERR_NOMEM;
	}
	for (int i = 0; i < n && i < CU_MAX_DEVICES; i++) {
		struct cu_dev *d = &c->dev[i];
		cudaSetDevice(i);
		if (cudaStreamCreate(&d->stream) != cudaSuccess ||
		    cublasCreate(&d->blas) != CUBLAS_STATUS_SUCCESS) {
			snprintf(err, errlen, "device %d: cannot create a stream or cuBLAS handle",
				 i);
			c->ndev = (uint32_t)i + 1;
			cu_fini(c);
			return AIDC_DEV_ERR_DEVICE;
		}
		cublasSetStream(d->blas, d->stream);
		cublasSetMathMode(d->blas, CUBLAS_DEFAULT_MATH);
		describe(i, &d->info);
		cudaDeviceGetAttribute(&d->cc_major, cudaDevAttrComputeCapabilityMajor, i);
		cudaDeviceGetAttribute(&d->cc_minor, cudaDevAttrComputeCapabilityMinor, i);
		cudaDeviceGetAttribute(&d->nsm, cudaDevAttrMultiProcessorCount, i);
		c->ndev = (uint32_t)i + 1;
	}
	for (uint32_t i = 0; c->ndev < 2 && i < c->ndev; i++)
		c->dev[i].info.caps &= ~AIDC_DEV_CAP_ALLREDUCE;
	*out = c;
	return AIDC_DEV_OK;
}

static const char *cu_last_error(void *ctx)
{
	return ((struct cu_ctx *)ctx)->err;
}

static int cu_device_count(void *ctx, uint32_t *out)
{
	*out = ((struct cu_ctx *)ctx)->ndev;
	return AIDC_DEV_OK;
}

static int cu_device_info(void *ctx, uint32_t dev, struct aidc_dev_info *out)
{
	struct cu_ctx *c = ctx;
	if (dev >= c->ndev)
		return fail(c, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	plugin_info_copy(out, &c->dev[dev].info);
	return AIDC_DEV_OK;
}

static int cu_mem_alloc(void *ctx, uint32_t dev, uint64_t bytes, struct aidc_dev_mem **out)
{
	if (!use(ctx, dev) || !bytes)
		return fail(ctx, AIDC_DEV_ERR_INVALID, "mem_alloc: bad device or size");
	struct aidc_dev_mem *m = calloc(1, sizeof *m);
	if (!m)
		return fail(ctx, AIDC_DEV_ERR_NOMEM, "host memory");
	cudaError_t e = cudaMalloc(&m->p, (size_t)bytes);
	if (e != cudaSuccess) {
		free(m);
		cudaGetLastError();
		return cufail(ctx, e, "cudaMalloc");
	}
	m->bytes = bytes;
	*out = m;
	return AIDC_DEV_OK;
}

static int cu_mem_free(void *ctx, uint32_t dev, struct aidc_dev_mem *m)
{
	if (m) {
		use(ctx, dev);
		cudaFree(m->p);
		free(m);
	}
	return AIDC_DEV_OK;
}

static bool fits(const struct aidc_dev_mem *m, uint64_t off, uint64_t bytes)
{
	return m && plugin_in_range(m->bytes, off, bytes);
}

static int cu_copy_h2d(void *ctx, uint32_t dev, struct aidc_dev_mem *dst, uint64_t off,
		       const void *src, uint64_t bytes)
{
	struct cu_dev *d = use(ctx, dev);
	if (!d || !fits(dst, off, bytes) || (!src && bytes))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_h2d: range outside the buffer");
	cudaError_t e = cudaMemcpyAsync((char *)dst->p + off, src, (size_t)bytes,
					cudaMemcpyHostToDevice, d->stream);
	if (e == cudaSuccess)
		e = cudaStreamSynchronize(d->stream);
	return e == cudaSuccess ? AIDC_DEV_OK : cufail(ctx, e, "copy_h2d");
}

static int cu_copy_d2h(void *ctx, uint32_t dev, void *dst, const struct aidc_dev_mem *src,
		       uint64_t off, uint64_t bytes)
{
	struct cu_dev *d = use(ctx, dev);
	if (!d || !fits(src, off, bytes) || (!dst && bytes))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_d2h: range outside the buffer");
	cudaError_t e = cudaMemcpyAsync(dst, (const char *)src->p + off, (size_t)bytes,
					cudaMemcpyDeviceToHost, d->stream);
	if (e == cudaSuccess)
		e = cudaStreamSynchronize(d->stream);
	return e == cudaSuccess ? AIDC_DEV_OK : cufail(ctx, e, "copy_d2h");
}

static int cu_copy_d2d(void *ctx, uint32_t dev, struct aidc_dev_mem *dst, uint64_t doff,
		       const struct aidc_dev_mem *src, uint64_t soff, uint64_t bytes)
{
	struct cu_dev *d = use(ctx, dev);
	if (!d || !fits(dst, doff, bytes) || !fits(src, soff, bytes))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_d2d: range outside the buffer");
	cudaError_t e = cudaMemcpyAsync((char *)dst->p + doff, (const char *)src->p + soff,
					(size_t)bytes, cudaMemcpyDeviceToDevice, d->stream);
	return e == cudaSuccess ? AIDC_DEV_OK : cufail(ctx, e, "copy_d2d");
}

static int cu_copy_peer(void *ctx, uint32_t ddev, struct aidc_dev_mem *dst, uint32_t sdev,
			const struct aidc_dev_mem *src, uint64_t bytes)
{
	struct cu_dev *d = use(ctx, sdev);
	if (!d || ddev >= ((struct cu_ctx *)ctx)->ndev || !fits(dst, 0, bytes) ||
	    !fits(src, 0, bytes))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_peer: bad device or range");
	cudaError_t e =
	    cudaMemcpyPeerAsync(dst->p, (int)ddev, src->p, (int)sdev, (size_t)bytes, d->stream);
	return e == cudaSuccess ? AIDC_DEV_OK : cufail(ctx, e, "cudaMemcpyPeerAsync");
}

static int cu_sync(void *ctx, uint32_t dev)
{
	struct cu_dev *d = use(ctx, dev);
	if (!d)
		return fail(ctx, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	cudaError_t e = cudaStreamSynchronize(d->stream);
	return e == cudaSuccess ? AIDC_DEV_OK : cufail(ctx, e, "cudaStreamSynchronize");
}

static int cu_gemm(void *ctx, uint32_t dev, const struct aidc_dev_gemm *g)
{
	struct cu_dev *d = use(ctx, dev);
	static const cudaDataType types[] = {CUDA_R_32F, CUDA_R_16F, CUDA_R_16BF, CUDA_R_64F};
	static const size_t sizes[] = {4, 2, 2, 8};
	if (!d)
		return fail(ctx, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	if ((unsigned)g->dtype >= AIDC_DEV_NDTYPES)
		return fail(ctx, AIDC_DEV_ERR_UNSUPPORTED, "gemm: unknown dtype");
	size_t es = sizes[g->dtype];
	uint64_t ar = g->trans_a ? g->k : g->m, ac = g->trans_a ? g->m : g->k;
	uint64_t br = g->trans_b ? g->n : g->k, bc = g->trans_b ? g->k : g->n;
	if (!g->m || !g->n || !g->k || g->lda < ac || g->ldb < bc || g->ldc < g->n ||
	    g->m > INT32_MAX || g->n > INT32_MAX || g->k > INT32_MAX ||
	    !fits(g->a, 0, ((ar - 1) * g->lda + ac) * es) ||
	    !fits(g->b, 0, ((br - 1) * g->ldb + bc) * es) ||
	    !fits(g->c, 0, ((g->m - 1) * g->ldc + g->n) * es))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "gemm: shape does not fit the buffers");
	/* Row-major C = op(A) op(B)  <=>  column-major C^T = op(B)^T op(A)^T. */
	cublasOperation_t ta = g->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
	cublasOperation_t tb = g->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
	cublasStatus_t s;
	if (g->dtype == AIDC_DEV_F64) {
		double al = g->alpha, be = g->beta;
		s = cublasDgemm(d->blas, tb, ta, (int)g->n, (int)g->m, (int)g->k, &al, g->b->p,
				(int)g->ldb, g->a->p, (int)g->lda, &be, g->c->p, (int)g->ldc);
	} else {
		float al = g->alpha, be = g->beta;
		cudaDataType t = types[g->dtype];
		s = cublasGemmEx(d->blas, tb, ta, (int)g->n, (int)g->m, (int)g->k, &al, g->b->p, t,
				 (int)g->ldb, g->a->p, t, (int)g->lda, &be, g->c->p, t, (int)g->ldc,
				 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
	}
	if (s == CUBLAS_STATUS_SUCCESS)
		return AIDC_DEV_OK;
	return fail(
	    ctx, s == CUBLAS_STATUS_NOT_SUPPORTED ? AIDC_DEV_ERR_UNSUPPORTED : AIDC_DEV_ERR_DEVICE,
	    "cuBLAS gemm: status %d", (int)s);
}

/* ---- the plugin's own kernels -------------------------------------------- */

/* The compiled image for d's compute capability, compiling it on first use. */
static const struct cu_image *image_for(struct cu_ctx *c, const struct cu_dev *d)
{
	int cc = d->cc_major * 10 + d->cc_minor;
	for (uint32_t i = 0; i < c->nimg; i++)
		if (c->img_cc[i] == cc)
			return &c->img[i];
	if (c->nimg == CU_MAX_IMAGES) {
		snprintf(c->kerr, sizeof c->kerr, "more than %d GPU architectures in one context",
			 CU_MAX_IMAGES);
		return NULL;
	}
	if (cu_kern_build_for(d->cc_major, d->cc_minor, &c->img[c->nimg], c->kerr, sizeof c->kerr))
		return NULL;
	c->img_cc[c->nimg] = cc;
	return &c->img[c->nimg++];
}

/*
 * Loads the kernels on d (current device) once; a failure is remembered, so
 * later calls fail at once with the same reason instead of recompiling.
 */
static int kernels(struct cu_ctx *c, struct cu_dev *d, const char *op)
{
	if (d->kstate == 0) {
		d->kstate = -1;
		const struct cu_image *img = image_for(c, d);
		cudaError_t e = cudaSuccess;
		if (img) {
			e = cudaLibraryLoadData(&d->lib, img->data, NULL, NULL, 0, NULL, NULL, 0);
			if (e != cudaSuccess)
				snprintf(c->kerr, sizeof c->kerr, "cudaLibraryLoadData (%s %s): %s",
					 img->arch, img->ptx ? "PTX" : "CUBIN",
					 cudaGetErrorString(e));
		}
		for (int k = 0; img && e == cudaSuccess && k < CU_NKERN; k++) {
			e = cudaLibraryGetKernel(&d->kern[k], d->lib, cu_kern_names[k]);
			if (e != cudaSuccess)
				snprintf(c->kerr, sizeof c->kerr, "cudaLibraryGetKernel(%s): %s",
					 cu_kern_names[k], cudaGetErrorString(e));
		}
		if (img && e == cudaSuccess)
			d->kstate = 1;
		else if (img)
			cudaLibraryUnload(d->lib);
		cudaGetLastError();
	}
	if (d->kstate == 1)
		return AIDC_DEV_OK;
	return fail(c, AIDC_DEV_ERR_DEVICE, "%s: the plugin's kernels are unavailable: %s", op,
		    c->kerr);
}

/* Grid for n independent items (elements or rows), at least 1, grid-stride beyond. */
static unsigned grid_for(const struct cu_dev *d, uint64_t n, bool per_thread)
{
	uint64_t want = per_thread ? (n + CU_BLOCK - 1) / CU_BLOCK : n;
	uint64_t cap = (uint64_t)(d->nsm > 0 ? d->nsm : 1) * CU_BLOCKS_PER_SM * 16;
	want = want < cap ? want : cap;
	return want ? (unsigned)want : 1;
}

static int launch(struct cu_ctx *c, struct cu_dev *d, enum cu_kern k, unsigned grid, void **args)
{
	dim3 g = {grid, 1, 1}, b = {CU_BLOCK, 1, 1};
	cudaError_t e = cudaLaunchKernel((const void *)d->kern[k], g, b, args, 0, d->stream);
	return e == cudaSuccess ? AIDC_DEV_OK : cufail(c, e, cu_kern_names[k]);
}

/* d's workspace, grown to at least bytes (contents not kept). */
static int workspace(struct cu_ctx *c, struct cu_dev *d, uint64_t bytes, float **out)
{
	if (d->ws_bytes < bytes) {
		/* earlier calls queued on the stream may still read the old one */
		cudaStreamSynchronize(d->stream);
		cudaFree(d->ws);
		d->ws = NULL;
		d->ws_bytes = 0;
		cudaError_t e = cudaMalloc(&d->ws, (size_t)bytes);
		if (e != cudaSuccess) {
			d->ws = NULL;
			cudaGetLastError();
			return cufail(c, e, "workspace cudaMalloc");
		}
		d->ws_bytes = bytes;
	}
	*out = d->ws;
	return AIDC_DEV_OK;
}

/* One strided-batched SGEMM; a, b, cm are device pointers per the plan. */
static int sgemm(struct cu_ctx *c, struct cu_dev *d, const struct cu_gemm_plan *pl, const float *a,
		 const float *b, float *cm)
{
	float beta = 0.0f;
	cublasStatus_t s = cublasSgemmStridedBatched(
	    d->blas, pl->ta ? CUBLAS_OP_T : CUBLAS_OP_N, pl->tb ? CUBLAS_OP_T : CUBLAS_OP_N, pl->m,
	    pl->n, pl->k, &pl->alpha, a, pl->lda, pl->sa, b, pl->ldb, pl->sb, &beta, cm, pl->ldc,
	    pl->sc, pl->batch);
	return s == CUBLAS_STATUS_SUCCESS
		   ? AIDC_DEV_OK
		   : fail(c, AIDC_DEV_ERR_DEVICE, "cublasSgemmStridedBatched: status %d", (int)s);
}

/* ---- conv2d, attention, eltwise, reduce, allreduce ----------------------------- */

/* Output size along one axis, or 0 if the dilated filter does not fit. */
static uint64_t conv_out(uint32_t in, uint32_t pad, uint32_t f, uint32_t dil, uint32_t stride)
{
	uint64_t span = (uint64_t)dil * (f - 1) + 1, padded = (uint64_t)in + 2ull * pad;
	return padded < span ? 0 : (padded - span) / stride + 1;
}

static int cu_conv2d(void *ctx, uint32_t dev, const struct aidc_dev_conv2d *a)
{
	struct cu_ctx *c = ctx;
	struct cu_dev *d = use(c, dev);
	if (!d)
		return fail(c, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	if (a->dtype != AIDC_DEV_F32)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "conv2d: only f32");
	if (!a->n || !a->c || !a->h || !a->w || !a->k || !a->r || !a->s || !a->stride_h ||
	    !a->stride_w || !a->dil_h || !a->dil_w)
		return fail(c, AIDC_DEV_ERR_INVALID, "conv2d: zero size, stride or dilation");
	uint64_t p = conv_out(a->h, a->pad_h, a->r, a->dil_h, a->stride_h);
	uint64_t q = conv_out(a->w, a->pad_w, a->s, a->dil_w, a->stride_w);
	uint64_t crs = (uint64_t)a->c * a->r * a->s, pq = p * q;
	if (!p || !q || crs > INT32_MAX || pq > INT32_MAX || a->n > INT32_MAX || a->k > INT32_MAX ||
	    (uint64_t)a->k * pq > INT64_MAX / 8 || crs * pq > INT64_MAX / 8 / a->n)
		return fail(c, AIDC_DEV_ERR_INVALID,
			    "conv2d: the filter does not fit or the shape is too large");
	if (!fits(a->x, 0, (uint64_t)a->n * a->c * a->h * a->w * 4) ||
	    !fits(a->wt, 0, (uint64_t)a->k * crs * 4) ||
	    !fits(a->y, 0, (uint64_t)a->n * a->k * pq * 4))
		return fail(c, AIDC_DEV_ERR_INVALID, "conv2d: shape does not fit the buffers");
	struct cu_conv_geom g = {.c = a->c,
				 .h = a->h,
				 .w = a->w,
				 .r = a->r,
				 .s = a->s,
				 .p = (unsigned)p,
				 .q = (unsigned)q,
				 .sh = a->stride_h,
				 .sw = a->stride_w,
				 .ph = a->pad_h,
				 .pw = a->pad_w,
				 .dh = a->dil_h,
				 .dw = a->dil_w};
	/* A 1x1, stride-1, unpadded filter's im2col matrix is the input itself. */
	bool direct = a->r == 1 && a->s == 1 && a->stride_h == 1 && a->stride_w == 1 && !a->pad_h &&
		      !a->pad_w;
	uint64_t col_bytes = crs * pq * 4, chunk = direct ? a->n : CU_WS_CHUNK_BYTES / col_bytes;
	chunk = chunk < 1 ? 1 : chunk > a->n ? a->n : chunk;
	float *ws = NULL;
	int rc = direct ? AIDC_DEV_OK : kernels(c, d, "conv2d");
	if (!rc && !direct)
		rc = workspace(c, d, chunk * col_bytes, &ws);
	const float *x = a->x->p, *w = a->wt->p;
	float *y = a->y->p;
	for (uint64_t n0 = 0; n0 < a->n && !rc; n0 += chunk) {
		uint64_t nb = a->n - n0 < chunk ? a->n - n0 : chunk, total = nb * crs * pq;
		const float *col = direct ? x + n0 * crs * pq : ws;
		if (!direct) {
			void *args[] = {&x, &ws, &g, &n0, &total};
			rc = launch(c, d, CU_K_IM2COL, grid_for(d, total, true), args);
		}
		struct cu_gemm_plan pl;
		cu_plan_conv(&g, a->k, (int)nb, &pl);
		if (!rc)
			rc = sgemm(c, d, &pl, col, w, y + n0 * a->k * pq);
	}
	return rc;
}

static int cu_attention(void *ctx, uint32_t dev, const struct aidc_dev_attention *a)
{
	struct cu_ctx *c = ctx;
	struct cu_dev *d = use(c, dev);
	if (!d)
		return fail(c, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	if (a->dtype != AIDC_DEV_F32)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "attention: only f32");
	uint64_t bh = (uint64_t)a->batch * a->heads, seq = a->seq, dim = a->head_dim;
	if (!bh || !seq || !dim || seq > INT32_MAX / 2 || dim > INT32_MAX / 2 || bh > INT32_MAX)
		return fail(c, AIDC_DEV_ERR_INVALID, "attention: zero or too large a size");
	uint64_t bytes = bh * seq * dim * 4;
	if (!fits(a->q, 0, bytes) || !fits(a->k, 0, bytes) || !fits(a->v, 0, bytes) ||
	    !fits(a->o, 0, bytes))
		return fail(c, AIDC_DEV_ERR_INVALID, "attention: shape does not fit the buffers");
	uint64_t head_bytes = seq * seq * 4, chunk = CU_WS_CHUNK_BYTES / head_bytes;
	chunk = chunk < 1 ? 1 : chunk > bh ? bh : chunk;
	float *ws = NULL;
	int rc = kernels(c, d, "attention");
	if (!rc)
		rc = workspace(c, d, chunk * head_bytes, &ws);
	const float *q = a->q->p, *k = a->k->p, *v = a->v->p;
	float *o = a->o->p;
	unsigned useq = (unsigned)seq;
	int causal = a->causal != 0;
	for (uint64_t h0 = 0; h0 < bh && !rc; h0 += chunk) {
		uint64_t nb = bh - h0 < chunk ? bh - h0 : chunk, rows = nb * seq,
			 off = h0 * seq * dim;
		struct cu_gemm_plan qk, pv;
		cu_plan_attn_qk(useq, (unsigned)dim, (int)nb, a->scale, &qk);
		cu_plan_attn_pv(useq, (unsigned)dim, (int)nb, &pv);
		rc = sgemm(c, d, &qk, k + off, q + off, ws);
		void *args[] = {&ws, &rows, &useq, &useq, &causal};
		if (!rc)
			rc = launch(c, d, CU_K_SOFTMAX, grid_for(d, rows, false), args);
		if (!rc)
			rc = sgemm(c, d, &pv, v + off, ws, o + off);
	}
	return rc;
}

/* z = y + alpha x through cuBLAS (copy + axpy): add and axpy when the kernels are unavailable. */
static int eltwise_blas(struct cu_ctx *c, struct cu_dev *d, const struct aidc_dev_eltwise *a)
{
	float al = a->op == AIDC_DEV_ELT_ADD ? 1.0f : a->alpha;
	if (a->n > INT32_MAX)
		return AIDC_DEV_ERR_DEVICE; /* keeps the kernels' error in c->err */
	cudaError_t e = cudaMemcpyAsync(a->z->p, a->y->p, (size_t)a->n * 4,
					cudaMemcpyDeviceToDevice, d->stream);
	if (e != cudaSuccess)
		return cufail(c, e, "eltwise copy");
	cublasStatus_t s = cublasSaxpy(d->blas, (int)a->n, &al, a->x->p, 1, a->z->p, 1);
	return s == CUBLAS_STATUS_SUCCESS
		   ? AIDC_DEV_OK
		   : fail(c, AIDC_DEV_ERR_DEVICE, "cublasSaxpy: status %d", (int)s);
}

static int cu_eltwise(void *ctx, uint32_t dev, const struct aidc_dev_eltwise *a)
{
	struct cu_ctx *c = ctx;
	struct cu_dev *d = use(c, dev);
	if (!d)
		return fail(c, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	if (a->dtype != AIDC_DEV_F32 || (unsigned)a->op > AIDC_DEV_ELT_GELU)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED,
			    "eltwise: only f32 add, mul, axpy, relu and gelu");
	bool unary = a->op == AIDC_DEV_ELT_RELU || a->op == AIDC_DEV_ELT_GELU;
	if (!a->n || a->n > UINT64_MAX / 8 || !fits(a->x, 0, a->n * 4) ||
	    !fits(a->z, 0, a->n * 4) || (!unary && !fits(a->y, 0, a->n * 4)))
		return fail(c, AIDC_DEV_ERR_INVALID, "eltwise: shape does not fit the buffers");
	int rc = kernels(c, d, "eltwise");
	if (rc)
		return a->op == AIDC_DEV_ELT_ADD || a->op == AIDC_DEV_ELT_AXPY
			   ? eltwise_blas(c, d, a)
			   : rc;
	const float *x = a->x->p, *y = unary ? NULL : a->y->p;
	float *z = a->z->p, alpha = a->alpha;
	uint64_t n = a->n;
	int op = (int)a->op;
	void *args[] = {&x, &y, &z, &n, &op, &alpha};
	return launch(c, d, CU_K_ELTWISE, grid_for(d, (n + 3) / 4, true),
		      args); /* float4 per thread */
}

static int cu_reduce(void *ctx, uint32_t dev, const struct aidc_dev_reduce *a)
{
	struct cu_ctx *c = ctx;
	struct cu_dev *d = use(c, dev);
	if (!d)
		return fail(c, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	if (a->dtype != AIDC_DEV_F32 || (a->op != AIDC_DEV_RED_SUM && a->op != AIDC_DEV_RED_MAX))
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "reduce: only f32 sum and max");
	if (!a->rows || !a->cols || a->cols > UINT64_MAX / 8 / a->rows ||
	    !fits(a->x, 0, a->rows * a->cols * 4) || !fits(a->y, 0, a->rows * 4))
		return fail(c, AIDC_DEV_ERR_INVALID, "reduce: shape does not fit the buffers");
	int rc = kernels(c, d, "reduce");
	if (rc)
		return rc;
	const float *x = a->x->p;
	float *y = a->y->p;
	uint64_t rows = a->rows, cols = a->cols, chunk = cols, parts = 1, one = 1;
	int op_max = a->op == AIDC_DEV_RED_MAX;
	/* Few long rows would leave most SMs idle: cut them into pieces, then reduce the pieces. */
	if (cols >= CU_REDUCE_SPLIT_COLS &&
	    rows < (uint64_t)(d->nsm > 0 ? d->nsm : 1) * CU_BLOCKS_PER_SM) {
		chunk = CU_REDUCE_PIECE_COLS;
		parts = (cols + chunk - 1) / chunk;
		float *ws = NULL;
		rc = workspace(c, d, rows * parts * 4, &ws);
		void *args[] = {&x, &ws, &rows, &cols, &chunk, &parts, &op_max};
		if (!rc)
			rc = launch(c, d, CU_K_REDUCE, grid_for(d, rows * parts, false), args);
		x = ws;
		cols = chunk = parts;
	}
	void *args[] = {&x, &y, &rows, &cols, &chunk, &one, &op_max};
	return rc ? rc : launch(c, d, CU_K_REDUCE, grid_for(d, rows, false), args);
}

/*
 * Sum all-reduce: the sum is built in bufs[0] on devs[0] (each other input is
 * copied into a workspace there by cudaMemcpyPeer and added by a kernel, in
 * index order, so every run sums in the same order), then copied back to
 * every other buffer. Simple rather than fast (no ring, no NVLink-aware
 * schedule): it is what the exam measures when NCCL is not in the loop.
 * Returns once every buffer holds the sum.
 */
static int cu_allreduce(void *ctx, const struct aidc_dev_allreduce *a)
{
	struct cu_ctx *c = ctx;
	if (a->dtype != AIDC_DEV_F32)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "allreduce: only f32");
	if (a->ndev < 1 || a->ndev > c->ndev || !a->devs || !a->bufs || !a->n ||
	    a->n > UINT64_MAX / 8)
		return fail(c, AIDC_DEV_ERR_INVALID, "allreduce: bad device list or size");
	uint64_t n = a->n, bytes = n * 4;
	for (uint32_t i = 0; i < a->ndev; i++) {
		if (a->devs[i] >= c->ndev || !fits(a->bufs[i], 0, bytes))
			return fail(c, AIDC_DEV_ERR_INVALID, "allreduce: bad device or buffer %u",
				    i);
		for (uint32_t j = 0; j < i; j++)
			if (a->devs[j] == a->devs[i])
				return fail(c, AIDC_DEV_ERR_INVALID,
					    "allreduce: device %u listed twice", a->devs[i]);
		/* inputs may still be written by work queued on their own device */
		cudaError_t e = cudaSetDevice((int)a->devs[i]);
		if (e == cudaSuccess)
			e = cudaStreamSynchronize(c->dev[a->devs[i]].stream);
		if (e != cudaSuccess)
			return cufail(c, e, "allreduce: synchronize");
	}
	uint32_t root = a->devs[0];
	struct cu_dev *d = use(c, root);
	int rc = d ? kernels(c, d, "allreduce")
		   : fail(c, AIDC_DEV_ERR_DEVICE, "allreduce: device %u", root);
	uint64_t chunk = a->ndev > 1 ? (bytes < CU_WS_CHUNK_BYTES ? n : CU_WS_CHUNK_BYTES / 4) : 0;
	float *ws = NULL, *sum = a->bufs[0]->p;
	if (!rc && chunk)
		rc = workspace(c, d, chunk * 4, &ws);
	for (uint32_t i = 1; i < a->ndev && !rc; i++)
		for (uint64_t o = 0; o < n && !rc; o += chunk) {
			uint64_t len = n - o < chunk ? n - o : chunk;
			const float *src = (const float *)a->bufs[i]->p + o;
			float *dst = sum + o;
			cudaError_t e = cudaMemcpyPeerAsync(ws, (int)root, src, (int)a->devs[i],
							    (size_t)len * 4, d->stream);
			void *args[] = {&dst, &ws, &len};
			rc = e != cudaSuccess
				 ? cufail(c, e, "allreduce: cudaMemcpyPeerAsync")
				 : launch(c, d, CU_K_ACCUMULATE, grid_for(d, len, true), args);
		}
	for (uint32_t i = 1; i < a->ndev && !rc; i++) {
		cudaError_t e = cudaMemcpyPeerAsync(a->bufs[i]->p, (int)a->devs[i], sum, (int)root,
						    (size_t)bytes, d->stream);
		rc = e != cudaSuccess ? cufail(c, e, "allreduce: cudaMemcpyPeerAsync") : 0;
	}
	cudaError_t e = d ? cudaStreamSynchronize(d->stream) : cudaSuccess;
	return rc ? rc : e != cudaSuccess ? cufail(c, e, "allreduce: synchronize") : AIDC_DEV_OK;
}

static const struct aidc_device_plugin cu_plugin = {
    .abi_version = 1, /* version 1: no buffer offsets, no pinned host memory yet */
	.struct_size = AIDC_DEVICE_V1_TABLE_SIZE,
    .name = "cuda",
    .version = "1.0",
    .init = cu_init,
    .fini = cu_fini,
    .last_error = cu_last_error,
    .device_count = cu_device_count,
    .device_info = cu_device_info,
    .mem_alloc = cu_mem_alloc,
    .mem_free = cu_mem_free,
    .copy_h2d = cu_copy_h2d,
    .copy_d2h = cu_copy_d2h,
    .copy_d2d = cu_copy_d2d,
    .synchronize = cu_sync,
    .gemm = cu_gemm,
    .conv2d = cu_conv2d,
    .attention = cu_attention,
    .eltwise = cu_eltwise,
    .reduce = cu_reduce,
    .copy_peer = cu_copy_peer,
    .allreduce = cu_allreduce,
};

const struct aidc_device_plugin *aidc_device_plugin_entry(uint32_t host_abi)
{
	return host_abi >= 1 ? &cu_plugin : NULL;
}
