/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `cuda` device plugin: NVIDIA GPUs through the CUDA runtime and cuBLAS.
 * GEMM: cublasGemmEx for fp32, fp16 and bf16 (fp32 accumulation, tensor
 * cores allowed for 16-bit types, never TF32 for fp32: the exam's fp32
 * tolerance would rightly fail it) and cublasDgemm for fp64. Row-major
 * C = A B is computed as column-major C^T = B^T A^T. Triad and add go
 * through cuBLAS (copy + axpy); peer copies use cudaMemcpyPeer. Convolution,
 * attention and other ops are not implemented yet and report UNSUPPORTED.
 * Built only where CMake finds the CUDA toolkit with cuBLAS.
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aidc/device.h>

#define CU_MAX_DEVICES 64

struct aidc_dev_mem {
	void *p;
	uint64_t bytes;
};

struct cu_dev {
	cublasHandle_t blas;
	cudaStream_t stream;
	struct aidc_dev_info info;
};

struct cu_ctx {
	uint32_t ndev;
	struct cu_dev dev[CU_MAX_DEVICES];
	char err[512];
};

static int fail(struct cu_ctx *c, int st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct cu_ctx *c, int st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return st;
}

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
		cudaSetDevice((int)i);
		if (c->dev[i].blas)
			cublasDestroy(c->dev[i].blas);
		if (c->dev[i].stream)
			cudaStreamDestroy(c->dev[i].stream);
	}
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
	snprintf(in->uuid, sizeof in->uuid, "GPU-%02x%02x%02x%02x-%02x%02x", (unsigned char)pr.uuid.bytes[0],
		 (unsigned char)pr.uuid.bytes[1], (unsigned char)pr.uuid.bytes[2],
		 (unsigned char)pr.uuid.bytes[3], (unsigned char)pr.uuid.bytes[4],
		 (unsigned char)pr.uuid.bytes[5]);
	in->mem_bytes = pr.totalGlobalMem;
	in->compute_units = (uint32_t)pr.multiProcessorCount;
	/* Claimed peaks from clocks: 128 fp32 FMA lanes per SM (Ampere and later). */
	double ghz = clock_khz / 1e6;
	in->peak_gflops[AIDC_DEV_F32] = 2.0 * 128 * pr.multiProcessorCount * ghz;
	in->peak_mem_gbps = mem_khz > 0 && bus > 0 ? 2.0 * mem_khz * 1e3 * (bus / 8) / 1e9 : 0;
	in->caps = AIDC_DEV_CAP_GEMM_F32 | AIDC_DEV_CAP_GEMM_F16 | AIDC_DEV_CAP_GEMM_BF16 |
		   AIDC_DEV_CAP_ELTWISE | AIDC_DEV_CAP_PEER_COPY;
}

static int cu_init(const char *config, void **out, char *err, size_t errlen)
{
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess || n <= 0) {
		snprintf(err, errlen, "no CUDA device: %s", e != cudaSuccess ? cudaGetErrorString(e) : "none");
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
		if (cudaStreamCreate(&d->stream) != cudaSuccess || cublasCreate(&d->blas) != CUBLAS_STATUS_SUCCESS) {
			snprintf(err, errlen, "device %d: cannot create a stream or cuBLAS handle", i);
			c->ndev = (uint32_t)i + 1;
			cu_fini(c);
			return AIDC_DEV_ERR_DEVICE;
		}
		cublasSetStream(d->blas, d->stream);
		cublasSetMathMode(d->blas, CUBLAS_DEFAULT_MATH);
		describe(i, &d->info);
		c->ndev = (uint32_t)i + 1;
	}
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
	uint32_t sz = out->struct_size;
	*out = c->dev[dev].info;
	out->struct_size = sz;
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
	return m && off <= m->bytes && bytes <= m->bytes - off;
}

static int cu_copy_h2d(void *ctx, uint32_t dev, struct aidc_dev_mem *dst, uint64_t off,
		       const void *src, uint64_t bytes)
{
	struct cu_dev *d = use(ctx, dev);
	if (!d || !fits(dst, off, bytes) || (!src && bytes))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_h2d: range outside the buffer");
	cudaError_t e = cudaMemcpyAsync((char *)dst->p + off, src, (size_t)bytes, cudaMemcpyHostToDevice, d->stream);
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
	cudaError_t e = cudaMemcpyAsync(dst, (const char *)src->p + off, (size_t)bytes, cudaMemcpyDeviceToHost, d->stream);
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
	cudaError_t e = cudaMemcpyAsync((char *)dst->p + doff, (const char *)src->p + soff, (size_t)bytes,
					cudaMemcpyDeviceToDevice, d->stream);
	return e == cudaSuccess ? AIDC_DEV_OK : cufail(ctx, e, "copy_d2d");
}

static int cu_copy_peer(void *ctx, uint32_t ddev, struct aidc_dev_mem *dst, uint32_t sdev,
			const struct aidc_dev_mem *src, uint64_t bytes)
{
	struct cu_dev *d = use(ctx, sdev);
	if (!d || ddev >= ((struct cu_ctx *)ctx)->ndev || !fits(dst, 0, bytes) || !fits(src, 0, bytes))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_peer: bad device or range");
	cudaError_t e = cudaMemcpyPeerAsync(dst->p, (int)ddev, src->p, (int)sdev, (size_t)bytes, d->stream);
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
	    !fits(g->a, 0, ((ar - 1) * g->lda + ac) * es) || !fits(g->b, 0, ((br - 1) * g->ldb + bc) * es) ||
	    !fits(g->c, 0, ((g->m - 1) * g->ldc + g->n) * es))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "gemm: shape does not fit the buffers");
	/* Row-major C = op(A) op(B)  <=>  column-major C^T = op(B)^T op(A)^T. */
	cublasOperation_t ta = g->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
	cublasOperation_t tb = g->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
	cublasStatus_t s;
	if (g->dtype == AIDC_DEV_F64) {
		double al = g->alpha, be = g->beta;
		s = cublasDgemm(d->blas, tb, ta, (int)g->n, (int)g->m, (int)g->k, &al, g->b->p, (int)g->ldb,
				g->a->p, (int)g->lda, &be, g->c->p, (int)g->ldc);
	} else {
		float al = g->alpha, be = g->beta;
		cudaDataType t = types[g->dtype];
		s = cublasGemmEx(d->blas, tb, ta, (int)g->n, (int)g->m, (int)g->k, &al, g->b->p, t,
				 (int)g->ldb, g->a->p, t, (int)g->lda, &be, g->c->p, t, (int)g->ldc,
				 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
	}
	if (s == CUBLAS_STATUS_SUCCESS)
		return AIDC_DEV_OK;
	return fail(ctx, s == CUBLAS_STATUS_NOT_SUPPORTED ? AIDC_DEV_ERR_UNSUPPORTED : AIDC_DEV_ERR_DEVICE,
		    "cuBLAS gemm: status %d", (int)s);
}

static int cu_eltwise(void *ctx, uint32_t dev, const struct aidc_dev_eltwise *a)
{
	struct cu_dev *d = use(ctx, dev);
	if (!d)
		return fail(ctx, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	if (a->dtype != AIDC_DEV_F32 || (a->op != AIDC_DEV_ELT_AXPY && a->op != AIDC_DEV_ELT_ADD))
		return fail(ctx, AIDC_DEV_ERR_UNSUPPORTED, "eltwise: only f32 add and axpy");
	if (!a->n || a->n > INT32_MAX || !fits(a->x, 0, a->n * 4) || !fits(a->y, 0, a->n * 4) ||
	    !fits(a->z, 0, a->n * 4))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "eltwise: shape does not fit the buffers");
	/* z = y; z += alpha x */
	float al = a->op == AIDC_DEV_ELT_ADD ? 1.0f : a->alpha;
	cudaError_t e = cudaMemcpyAsync(a->z->p, a->y->p, (size_t)a->n * 4, cudaMemcpyDeviceToDevice, d->stream);
	if (e != cudaSuccess)
		return cufail(ctx, e, "eltwise copy");
	cublasStatus_t s = cublasSaxpy(d->blas, (int)a->n, &al, a->x->p, 1, a->z->p, 1);
	return s == CUBLAS_STATUS_SUCCESS ? AIDC_DEV_OK
					  : fail(ctx, AIDC_DEV_ERR_DEVICE, "cublasSaxpy: status %d", (int)s);
}

static const struct aidc_device_plugin cu_plugin = {
	.abi_version = AIDC_DEVICE_ABI_VERSION,
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
	.eltwise = cu_eltwise,
	.copy_peer = cu_copy_peer,
};

const struct aidc_device_plugin *aidc_device_plugin_entry(uint32_t host_abi)
{
	return host_abi == AIDC_DEVICE_ABI_VERSION ? &cu_plugin : NULL;
}
