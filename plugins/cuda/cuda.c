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
 * Vendor libraries found at run time (cuda_vendor.h, dlopen, never linked)
 * take over where present: cuBLASLt for fp16/bf16 GEMM, cuDNN for conv2d.
 * Where one is absent or refuses a shape, the call runs as above, and
 * last_path says which ran and why (the exam report's "path").
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aidc/device.h>

#include "cuda_kern.h"
#include "cuda_vendor.h"
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
/* Most workspace cuBLASLt may ask for (NVIDIA suggests 32 MiB on Hopper). */
#define CU_LT_WS_BYTES (32ull << 20)
/* Longest last_path text. */
#define CU_PATH_BYTES (CU_VENDOR_WHY_BYTES + 64)

_Static_assert(CU_ELT_ADD == AIDC_DEV_ELT_ADD && CU_ELT_MUL == AIDC_DEV_ELT_MUL &&
		   CU_ELT_AXPY == AIDC_DEV_ELT_AXPY && CU_ELT_RELU == AIDC_DEV_ELT_RELU &&
		   CU_ELT_GELU == AIDC_DEV_ELT_GELU,
	       "cuda_index.h op codes follow enum aidc_dev_eltwise_op");

struct aidc_dev_mem {
	void *p;
	uint64_t bytes;
};

/* The last cuBLASLt GEMM shape on a device: descriptors and algorithm, reused
 * while the shape repeats (the exam times one shape many times). */
struct cu_lt_key {
	uint64_t m, n, k, lda, ldb, ldc;
	int32_t dtype, ta, tb, pad;
};
_Static_assert(sizeof(struct cu_lt_key) == 64, "cu_lt_key has no padding (compared by memcmp)");
struct cu_lt_plan {
	struct cu_lt_key key;
	bool valid;                   /* key is set: ready, or refused (why) */
	char why[CU_VENDOR_WHY_BYTES]; /* "" when ready */
	void *op, *la, *lb, *lc;      /* owned cuBLASLt descriptors */
	struct cu_lt_algo algo;
	size_t ws_bytes;
};

/* The last cuDNN convolution shape on a device, likewise. */
#define CU_DNN_KEY_WORDS 13
struct cu_dnn_plan {
	uint32_t key[CU_DNN_KEY_WORDS]; /* n c h w k r s stride_h stride_w pad_h pad_w dil_h dil_w */
	bool valid;
	char why[CU_VENDOR_WHY_BYTES];
	void *x, *w, *y, *conv; /* owned cuDNN descriptors */
	int algo;
	size_t ws_bytes;
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
	/* Vendor handles, made on first use: state 0 untried, 1 ready, -1 off (why). */
	void *lt, *dnn;
	int lt_state, dnn_state;
	char lt_why[CU_VENDOR_WHY_BYTES], dnn_why[CU_VENDOR_WHY_BYTES];
	struct cu_lt_plan ltp;
	struct cu_dnn_plan dnp;
	char path[CU_PATH_BYTES]; /* last_path: what served the last gemm/conv2d/attention */
};

struct cu_ctx {
	uint32_t ndev;
	struct cu_dev dev[CU_MAX_DEVICES];
	struct cu_image img[CU_MAX_IMAGES]; /* compiled kernels per compute capability */
	int img_cc[CU_MAX_IMAGES];
	uint32_t nimg;
	char kerr[512]; /* why kernels could not be built or loaded */
	char err[768];
	struct cu_vendor vendor; /* cuBLASLt and cuDNN, where present */
};

PLUGIN_DEFINE_FAIL(fail, struct cu_ctx)

static void vendor_release(struct cu_ctx *c, struct cu_dev *d);
static void set_path(struct cu_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int workspace(struct cu_ctx *c, struct cu_dev *d, uint64_t bytes, float **out);
static int lt_gemm(struct cu_ctx *c, struct cu_dev *d, const struct aidc_dev_gemm *g, char *why,
		   size_t whylen);

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
		vendor_release(c, d);
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
	cu_vendor_unload(&c->vendor);
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
	cu_vendor_load(&c->vendor); /* never fails: a missing library is a path off */
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
	set_path(d, "cublas");
	if (g->dtype == AIDC_DEV_F16 || g->dtype == AIDC_DEV_BF16) {
		char why[CU_VENDOR_WHY_BYTES];
		int rc = lt_gemm(ctx, d, g, why, sizeof why);
		if (rc <= 0) {
			set_path(d, "cublaslt");
			return rc;
		}
		set_path(d, "cublas (cuBLASLt off: %s)", why);
	}
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

/* ---- vendor libraries (cuda_vendor.h): cuBLASLt GEMM, cuDNN conv2d ------------ */

static void set_path(struct cu_dev *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->path, sizeof d->path, fmt, ap);
	va_end(ap);
}

static void lt_plan_release(const struct cu_lt_api *lt, struct cu_lt_plan *pl)
{
	if (pl->op)
		lt->desc_destroy(pl->op);
	if (pl->la)
		lt->layout_destroy(pl->la);
	if (pl->lb)
		lt->layout_destroy(pl->lb);
	if (pl->lc)
		lt->layout_destroy(pl->lc);
	memset(pl, 0, sizeof *pl);
}

static void dnn_plan_release(const struct cu_dnn_api *dn, struct cu_dnn_plan *pl)
{
	if (pl->x)
		dn->tensor_destroy(pl->x);
	if (pl->y)
		dn->tensor_destroy(pl->y);
	if (pl->w)
		dn->filter_destroy(pl->w);
	if (pl->conv)
		dn->conv_destroy(pl->conv);
	memset(pl, 0, sizeof *pl);
}

/* Frees d's vendor plans and handles (d's device is current). */
static void vendor_release(struct cu_ctx *c, struct cu_dev *d)
{
	if (c->vendor.lt_on) {
		lt_plan_release(&c->vendor.lt, &d->ltp);
		if (d->lt)
			c->vendor.lt.destroy(d->lt);
	}
	if (c->vendor.dnn_on) {
		dnn_plan_release(&c->vendor.dnn, &d->dnp);
		if (d->dnn)
			c->vendor.dnn.destroy(d->dnn);
	}
	d->lt = d->dnn = NULL;
}

/* d's cuBLASLt handle, made on first use; NULL with d->lt_why when the path is off. */
static void *lt_handle(struct cu_ctx *c, struct cu_dev *d)
{
	if (d->lt_state == 0) {
		d->lt_state = -1;
		int s = CU_LT_STATUS_SUCCESS + 1;
		if (!c->vendor.lt_on)
			snprintf(d->lt_why, sizeof d->lt_why, "%s", c->vendor.lt_why);
		else if ((s = c->vendor.lt.create(&d->lt)) != CU_LT_STATUS_SUCCESS)
			snprintf(d->lt_why, sizeof d->lt_why, "cublasLtCreate: status %d", s);
		if (s == CU_LT_STATUS_SUCCESS)
			d->lt_state = 1;
		else
			d->lt = NULL;
	}
	return d->lt;
}

/* d's cuDNN handle on d's stream, made on first use; NULL with d->dnn_why when off. */
static void *dnn_handle(struct cu_ctx *c, struct cu_dev *d)
{
	const struct cu_dnn_api *dn = &c->vendor.dnn;
	if (d->dnn_state == 0) {
		d->dnn_state = -1;
		int s = CU_DNN_STATUS_SUCCESS + 1;
		const char *step = "cudnnCreate";
		if (!c->vendor.dnn_on) {
			snprintf(d->dnn_why, sizeof d->dnn_why, "%s", c->vendor.dnn_why);
		} else if ((s = dn->create(&d->dnn)) == CU_DNN_STATUS_SUCCESS) {
			step = "cudnnSetStream";
			s = dn->set_stream(d->dnn, d->stream);
		}
		if (c->vendor.dnn_on && s != CU_DNN_STATUS_SUCCESS)
			snprintf(d->dnn_why, sizeof d->dnn_why, "%s: %s", step,
				 dn->error_string(s));
		if (s == CU_DNN_STATUS_SUCCESS) {
			d->dnn_state = 1;
		} else {
			if (d->dnn)
				dn->destroy(d->dnn);
			d->dnn = NULL;
		}
	}
	return d->dnn;
}

/* Lt's status check: on failure, the step and status go into why. */
#define LT_TRY(call, name)                                                                  \
	do {                                                                                \
		int s_ = (call);                                                            \
		if (s_ != CU_LT_STATUS_SUCCESS) {                                           \
			snprintf(pl->why, sizeof pl->why, "%s: status %d", name, s_);       \
			return -1;                                                          \
		}                                                                           \
	} while (0)

/*
 * Builds pl for g: row-major C = op(A) op(B) is column-major C^T = op(B)^T
 * op(A)^T, so cuBLASLt's A is our B (stored bc x br column-major, ld ldb) and
 * its B our A. Scale and accumulation fp32, as cublasGemmEx does here.
 */
static int lt_plan_build(const struct cu_lt_api *lt, void *h, const struct aidc_dev_gemm *g,
			 struct cu_lt_plan *pl)
{
	int type = g->dtype == AIDC_DEV_F16 ? CU_LT_R_16F : CU_LT_R_16BF;
	int32_t ta = g->trans_b ? CU_LT_OP_T : CU_LT_OP_N, tb = g->trans_a ? CU_LT_OP_T : CU_LT_OP_N;
	uint64_t ar = g->trans_a ? g->k : g->m, ac = g->trans_a ? g->m : g->k;
	uint64_t br = g->trans_b ? g->n : g->k, bc = g->trans_b ? g->k : g->n;
	uint64_t ws_max = CU_LT_WS_BYTES;
	const char *set = "cublasLtMatmulDescSetAttribute", *lay = "cublasLtMatrixLayoutCreate";
	LT_TRY(lt->desc_create(&pl->op, CU_LT_COMPUTE_32F, CU_LT_R_32F), "cublasLtMatmulDescCreate");
	LT_TRY(lt->desc_set(pl->op, CU_LT_DESC_TRANSA, &ta, sizeof ta), set);
	LT_TRY(lt->desc_set(pl->op, CU_LT_DESC_TRANSB, &tb, sizeof tb), set);
	LT_TRY(lt->layout_create(&pl->la, type, bc, br, (int64_t)g->ldb), lay);
	LT_TRY(lt->layout_create(&pl->lb, type, ac, ar, (int64_t)g->lda), lay);
	LT_TRY(lt->layout_create(&pl->lc, type, g->n, g->m, (int64_t)g->ldc), lay);
	void *pref = NULL;
	struct cu_lt_heuristic hr;
	int got = 0;
	memset(&hr, 0, sizeof hr);
	LT_TRY(lt->pref_create(&pref), "cublasLtMatmulPreferenceCreate");
	int s = lt->pref_set(pref, CU_LT_PREF_MAX_WORKSPACE, &ws_max, sizeof ws_max);
	if (s == CU_LT_STATUS_SUCCESS)
		s = lt->heuristic(h, pl->op, pl->la, pl->lb, pl->lc, pl->lc, pref, 1, &hr, &got);
	lt->pref_destroy(pref);
	LT_TRY(s, "cublasLtMatmulAlgoGetHeuristic");
	if (got < 1 || hr.state != CU_LT_STATUS_SUCCESS) {
		snprintf(pl->why, sizeof pl->why, "cuBLASLt has no algorithm for this shape");
		return -1;
	}
	pl->algo = hr.algo;
	pl->ws_bytes = hr.workspace_bytes;
	return 0;
}

/*
 * fp16/bf16 GEMM through cuBLASLt. 0 when queued; 1 when the path is off or
 * refused this shape, with the reason in why (the caller falls back to cuBLAS);
 * a plugin error status when the call itself failed.
 */
static int lt_gemm(struct cu_ctx *c, struct cu_dev *d, const struct aidc_dev_gemm *g, char *why,
		   size_t whylen)
{
	const struct cu_lt_api *lt = &c->vendor.lt;
	void *h = lt_handle(c, d);
	if (!h) {
		snprintf(why, whylen, "%s", d->lt_why);
		return 1;
	}
	struct cu_lt_key key = {g->m, g->n, g->k, g->lda, g->ldb, g->ldc,
				 (int32_t)g->dtype, (int32_t)g->trans_a, (int32_t)g->trans_b, 0};
	struct cu_lt_plan *pl = &d->ltp;
	if (!pl->valid || memcmp(&key, &pl->key, sizeof key)) {
		lt_plan_release(lt, pl);
		pl->key = key;
		pl->valid = true;
		lt_plan_build(lt, h, g, pl);
	}
	if (pl->why[0]) {
		snprintf(why, whylen, "%s", pl->why);
		return 1;
	}
	float *ws = NULL, al = g->alpha, be = g->beta;
	int rc = pl->ws_bytes ? workspace(c, d, pl->ws_bytes, &ws) : AIDC_DEV_OK;
	if (rc)
		return rc;
	int s = lt->matmul(h, pl->op, &al, g->b->p, pl->la, g->a->p, pl->lb, &be, g->c->p, pl->lc,
			   g->c->p, pl->lc, &pl->algo, ws, pl->ws_bytes, d->stream);
	return s == CU_LT_STATUS_SUCCESS
		   ? AIDC_DEV_OK
		   : fail(c, AIDC_DEV_ERR_DEVICE, "cublasLtMatmul: status %d", s);
}

/* cuDNN's status check: on failure, the step and cuDNN's words go into why. */
#define DNN_TRY(call, name)                                                                 \
	do {                                                                                \
		int s_ = (call);                                                            \
		if (s_ != CU_DNN_STATUS_SUCCESS) {                                          \
			snprintf(pl->why, sizeof pl->why, "%s: %s", name,                   \
				 dn->error_string(s_));                                     \
			return -1;                                                          \
		}                                                                           \
	} while (0)

/*
 * Builds pl for a (already validated; output p x q): NCHW fp32 descriptors,
 * cross-correlation, FMA math only (no TF32), and the first algorithm of
 * cuDNN's heuristic (cudnnGetConvolutionForwardAlgorithm_v7, what PyTorch
 * uses when not benchmarking) that is FMA-only and needs at most
 * CU_WS_CHUNK_BYTES of workspace.
 */
static int dnn_plan_build(const struct cu_dnn_api *dn, void *h, const struct aidc_dev_conv2d *a,
			  uint64_t p, uint64_t q, struct cu_dnn_plan *pl)
{
	const int f32 = CU_DNN_DATA_FLOAT, nchw = CU_DNN_TENSOR_NCHW;
	for (int i = 0; i < CU_DNN_KEY_WORDS; i++)
		if (pl->key[i] > INT32_MAX) {
			snprintf(pl->why, sizeof pl->why, "a size is beyond cuDNN's int");
			return -1;
		}
	DNN_TRY(dn->tensor_create(&pl->x), "cudnnCreateTensorDescriptor");
	DNN_TRY(dn->tensor_create(&pl->y), "cudnnCreateTensorDescriptor");
	DNN_TRY(dn->filter_create(&pl->w), "cudnnCreateFilterDescriptor");
	DNN_TRY(dn->conv_create(&pl->conv), "cudnnCreateConvolutionDescriptor");
	DNN_TRY(dn->tensor_set4d(pl->x, nchw, f32, (int)a->n, (int)a->c, (int)a->h, (int)a->w),
		"cudnnSetTensor4dDescriptor");
	DNN_TRY(dn->tensor_set4d(pl->y, nchw, f32, (int)a->n, (int)a->k, (int)p, (int)q),
		"cudnnSetTensor4dDescriptor");
	DNN_TRY(dn->filter_set4d(pl->w, f32, nchw, (int)a->k, (int)a->c, (int)a->r, (int)a->s),
		"cudnnSetFilter4dDescriptor");
	DNN_TRY(dn->conv_set2d(pl->conv, (int)a->pad_h, (int)a->pad_w, (int)a->stride_h,
			       (int)a->stride_w, (int)a->dil_h, (int)a->dil_w,
			       CU_DNN_CROSS_CORRELATION, f32),
		"cudnnSetConvolution2dDescriptor");
	DNN_TRY(dn->conv_set_math(pl->conv, CU_DNN_FMA_MATH), "cudnnSetConvolutionMathType");
	struct cu_dnn_perf perf[CU_DNN_FWD_ALGO_COUNT];
	int got = 0, pick = -1;
	memset(perf, 0, sizeof perf);
	DNN_TRY(dn->algo_v7(h, pl->x, pl->w, pl->conv, pl->y, CU_DNN_FWD_ALGO_COUNT, &got, perf),
		"cudnnGetConvolutionForwardAlgorithm_v7");
	for (int i = 0; i < got && i < CU_DNN_FWD_ALGO_COUNT && pick < 0; i++)
		if (perf[i].status == CU_DNN_STATUS_SUCCESS && perf[i].math == CU_DNN_FMA_MATH &&
		    perf[i].memory <= CU_WS_CHUNK_BYTES)
			pick = i;
	if (pick < 0) {
		/* what cuDNN offered, for whoever reads the report: algo/status/math/bytes */
		int o = snprintf(pl->why, sizeof pl->why,
				 "no FMA-only algorithm within %llu bytes of workspace among %d:",
				 (unsigned long long)CU_WS_CHUNK_BYTES, got);
		for (int i = 0; i < got && i < CU_DNN_FWD_ALGO_COUNT && o > 0 &&
				(size_t)o < sizeof pl->why;
		     i++)
			o += snprintf(pl->why + o, sizeof pl->why - (size_t)o, " %d/%d/%d/%zu",
				      perf[i].algo, perf[i].status, perf[i].math, perf[i].memory);
		return -1;
	}
	pl->algo = perf[pick].algo;
	DNN_TRY(dn->workspace_size(h, pl->x, pl->w, pl->conv, pl->y, pl->algo, &pl->ws_bytes),
		"cudnnGetConvolutionForwardWorkspaceSize");
	return 0;
}

/* conv2d through cuDNN; returns as lt_gemm does. */
static int dnn_conv(struct cu_ctx *c, struct cu_dev *d, const struct aidc_dev_conv2d *a, uint64_t p,
		    uint64_t q, char *why, size_t whylen)
{
	const struct cu_dnn_api *dn = &c->vendor.dnn;
	void *h = dnn_handle(c, d);
	if (!h) {
		snprintf(why, whylen, "%s", d->dnn_why);
		return 1;
	}
	const uint32_t key[CU_DNN_KEY_WORDS] = {
	    a->n, a->c, a->h, a->w, a->k, a->r, a->s,
	    a->stride_h, a->stride_w, a->pad_h, a->pad_w, a->dil_h, a->dil_w};
	struct cu_dnn_plan *pl = &d->dnp;
	if (!pl->valid || memcmp(key, pl->key, sizeof key)) {
		dnn_plan_release(dn, pl);
		memcpy(pl->key, key, sizeof key);
		pl->valid = true;
		dnn_plan_build(dn, h, a, p, q, pl);
	}
	if (pl->why[0]) {
		snprintf(why, whylen, "%s", pl->why);
		return 1;
	}
	float *ws = NULL, one = 1.0f, zero = 0.0f;
	int rc = pl->ws_bytes ? workspace(c, d, pl->ws_bytes, &ws) : AIDC_DEV_OK;
	if (rc)
		return rc;
	int s = dn->forward(h, &one, pl->x, a->x->p, pl->w, a->wt->p, pl->conv, pl->algo, ws,
			    pl->ws_bytes, &zero, pl->y, a->y->p);
	if (s != CU_DNN_STATUS_SUCCESS)
		return fail(c, AIDC_DEV_ERR_DEVICE, "cudnnConvolutionForward: %s",
			    dn->error_string(s));
	return AIDC_DEV_OK;
}

static const char *cu_last_path(void *ctx, uint32_t dev)
{
	struct cu_ctx *c = ctx;
	return dev < c->ndev ? c->dev[dev].path : "";
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
	char why[CU_VENDOR_WHY_BYTES];
	int vrc = dnn_conv(c, d, a, p, q, why, sizeof why);
	if (vrc <= 0) {
		set_path(d, "cudnn");
		return vrc;
	}
	set_path(d, "builtin (cuDNN off: %s)", why);
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
	set_path(d, "builtin (cuDNN fused attention not implemented)");
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
	/* the whole table: last_path is read whatever abi_version says */
	.struct_size = sizeof(struct aidc_device_plugin),
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
    .last_path = cu_last_path,
};

const struct aidc_device_plugin *aidc_device_plugin_entry(uint32_t host_abi)
{
	return host_abi >= 1 ? &cu_plugin : NULL;
}
