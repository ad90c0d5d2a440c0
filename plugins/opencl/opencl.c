/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `opencl` device plugin: every device of every OpenCL platform (PoCL
 * on CI, vendor ICDs elsewhere). GEMM goes to CLBlast (fp32, fp16 where the
 * device has cl_khr_fp16, fp64 where it has cl_khr_fp64); convolution,
 * attention, elementwise and reductions are the plugin's own kernels
 * (kernels.cl.h), built once per device on first use. Host copies are
 * blocking; compute is queued in order and synchronize() is clFinish.
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <clblast_c.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aidc/device.h>

#include "dev/half.h"
#include "../plugin_util.h"
#include "kernels.cl.h"

#define OCL_MAX_DEVICES 64

struct aidc_dev_mem {
	cl_mem m;
	uint64_t bytes;
};

struct ocl_dev {
	cl_device_id id;
	cl_context ctx;
	cl_command_queue q;
	cl_program prog; /* built on first use */
	cl_kernel k_elt, k_red, k_conv, k_attn;
	uint64_t max_alloc;
	struct aidc_dev_info info;
};

struct ocl_ctx {
	uint32_t ndev;
	struct ocl_dev dev[OCL_MAX_DEVICES];
	char err[512];
};

PLUGIN_DEFINE_FAIL(fail, struct ocl_ctx)

static int clfail(struct ocl_ctx *c, cl_int e, const char *what)
{
	int st = e == CL_MEM_OBJECT_ALLOCATION_FAILURE || e == CL_OUT_OF_RESOURCES ||
				 e == CL_OUT_OF_HOST_MEMORY
			 ? AIDC_DEV_ERR_NOMEM
			 : AIDC_DEV_ERR_DEVICE;
	return fail(c, st, "%s: OpenCL error %d", what, (int)e);
}

static void dev_str(cl_device_id d, cl_device_info p, char *dst, size_t n)
{
	dst[0] = '\0';
	if (clGetDeviceInfo(d, p, n, dst, NULL) != CL_SUCCESS)
		dst[0] = '\0';
	dst[n - 1] = '\0';
}

static void describe(struct ocl_dev *d)
{
	struct aidc_dev_info *in = &d->info;
	char ext[8192];
	cl_ulong mem = 0, maxa = 0;
	cl_uint cu = 0;
	dev_str(d->id, CL_DEVICE_NAME, in->name, sizeof in->name);
	dev_str(d->id, CL_DEVICE_VENDOR, in->vendor, sizeof in->vendor);
	dev_str(d->id, CL_DRIVER_VERSION, in->driver, sizeof in->driver);
	dev_str(d->id, CL_DEVICE_EXTENSIONS, ext, sizeof ext);
	snprintf(in->model, sizeof in->model, "opencl:%.110s", in->name);
	clGetDeviceInfo(d->id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
	clGetDeviceInfo(d->id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof maxa, &maxa, NULL);
	clGetDeviceInfo(d->id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
	in->mem_bytes = mem;
	in->compute_units = cu;
	d->max_alloc = maxa;
	in->caps = AIDC_DEV_CAP_GEMM_F32 | AIDC_DEV_CAP_CONV2D | AIDC_DEV_CAP_ATTENTION |
		   AIDC_DEV_CAP_ELTWISE | AIDC_DEV_CAP_REDUCE;
	if (strstr(ext, "cl_khr_fp16"))
		in->caps |= AIDC_DEV_CAP_GEMM_F16;
}

static void ocl_fini(void *ctx)
{
	struct ocl_ctx *c = ctx;
	if (!c)
		return;
	for (uint32_t i = 0; i < c->ndev; i++) {
		struct ocl_dev *d = &c->dev[i];
		cl_kernel ks[] = {d->k_elt, d->k_red, d->k_conv, d->k_attn};
		for (size_t k = 0; k < 4; k++)
			if (ks[k])
				clReleaseKernel(ks[k]);
		if (d->prog)
			clReleaseProgram(d->prog);
		if (d->q)
			clReleaseCommandQueue(d->q);
		if (d->ctx)
			clReleaseContext(d->ctx);
	}
	free(c);
}

static int ocl_init(const char *config, void **out, char *err, size_t errlen)
{
	cl_platform_id plats[16];
	cl_uint np = 0;
	cl_int e = clGetPlatformIDs(16, plats, &np);
	if (e != CL_SUCCESS || np == 0) {
		snprintf(err, errlen, "no OpenCL platform (clGetPlatformIDs: %d); install an ICD "
				      "such as pocl-opencl-icd", (int)e);
		return AIDC_DEV_ERR_DEVICE;
	}
	struct ocl_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return AIDC_DEV_ERR_NOMEM;
	}
	for (cl_uint p = 0; p < np && p < 16; p++) {
		cl_device_id ids[OCL_MAX_DEVICES];
		cl_uint nd = 0;
		if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, OCL_MAX_DEVICES, ids, &nd) != CL_SUCCESS)
			continue;
		for (cl_uint i = 0; i < nd && i < OCL_MAX_DEVICES && c->ndev < OCL_MAX_DEVICES; i++) {
			struct ocl_dev *d = &c->dev[c->ndev];
			d->id = ids[i];
			d->ctx = clCreateContext(NULL, 1, &ids[i], NULL, NULL, &e);
			if (e != CL_SUCCESS)
				continue;
			d->q = clCreateCommandQueue(d->ctx, ids[i], 0, &e);
			if (e != CL_SUCCESS) {
				clReleaseContext(d->ctx);
				memset(d, 0, sizeof *d);
				continue;
			}
			describe(d);
			c->ndev++;
		}
	}
	if (c->ndev == 0) {
		snprintf(err, errlen, "OpenCL platforms found but no usable device");
		ocl_fini(c);
		return AIDC_DEV_ERR_DEVICE;
	}
	*out = c;
	return AIDC_DEV_OK;
}

static const char *ocl_last_error(void *ctx)
{
	return ((struct ocl_ctx *)ctx)->err;
}

static int ocl_device_count(void *ctx, uint32_t *out)
{
	*out = ((struct ocl_ctx *)ctx)->ndev;
	return AIDC_DEV_OK;
}

static struct ocl_dev *get(struct ocl_ctx *c, uint32_t dev)
{
	return dev < c->ndev ? &c->dev[dev] : NULL;
}

static int ocl_device_info(void *ctx, uint32_t dev, struct aidc_dev_info *out)
{
	struct ocl_dev *d = get(ctx, dev);
	if (!d)
		return fail(ctx, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	plugin_info_copy(out, &d->info);
	return AIDC_DEV_OK;
}

static int ocl_mem_alloc(void *ctx, uint32_t dev, uint64_t bytes, struct aidc_dev_mem **out)
{
	struct ocl_dev *d = get(ctx, dev);
	if (!d || bytes == 0)
		return fail(ctx, AIDC_DEV_ERR_INVALID, "mem_alloc: bad device or size");
	if (bytes > d->max_alloc)
		return fail(ctx, AIDC_DEV_ERR_NOMEM, "mem_alloc: %llu bytes is above the device's "
			    "largest allocation (%llu)", (unsigned long long)bytes,
			    (unsigned long long)d->max_alloc);
	struct aidc_dev_mem *m = calloc(1, sizeof *m);
	if (!m)
		return fail(ctx, AIDC_DEV_ERR_NOMEM, "mem_alloc: host memory");
	cl_int e;
	m->m = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, (size_t)bytes, NULL, &e);
	if (e != CL_SUCCESS) {
		free(m);
		return clfail(ctx, e, "clCreateBuffer");
	}
	m->bytes = bytes;
	*out = m;
	return AIDC_DEV_OK;
}

static int ocl_mem_free(void *ctx, uint32_t dev, struct aidc_dev_mem *m)
{
	if (m) {
		clReleaseMemObject(m->m);
		free(m);
	}
	return AIDC_DEV_OK;
}

static bool fits(const struct aidc_dev_mem *m, uint64_t off, uint64_t bytes)
{
	return m && plugin_in_range(m->bytes, off, bytes);
}

static int ocl_copy_h2d(void *ctx, uint32_t dev, struct aidc_dev_mem *dst, uint64_t off,
			const void *src, uint64_t bytes)
{
	struct ocl_dev *d = get(ctx, dev);
	if (!d || !fits(dst, off, bytes) || (!src && bytes))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_h2d: range outside the buffer");
	if (!bytes)
		return AIDC_DEV_OK;
	cl_int e = clEnqueueWriteBuffer(d->q, dst->m, CL_TRUE, (size_t)off, (size_t)bytes, src, 0,
					NULL, NULL);
	return e == CL_SUCCESS ? AIDC_DEV_OK : clfail(ctx, e, "clEnqueueWriteBuffer");
}

static int ocl_copy_d2h(void *ctx, uint32_t dev, void *dst, const struct aidc_dev_mem *src,
			uint64_t off, uint64_t bytes)
{
	struct ocl_dev *d = get(ctx, dev);
	if (!d || !fits(src, off, bytes) || (!dst && bytes))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_d2h: range outside the buffer");
	if (!bytes)
		return AIDC_DEV_OK;
	cl_int e = clEnqueueReadBuffer(d->q, src->m, CL_TRUE, (size_t)off, (size_t)bytes, dst, 0,
				       NULL, NULL);
	return e == CL_SUCCESS ? AIDC_DEV_OK : clfail(ctx, e, "clEnqueueReadBuffer");
}

static int ocl_copy_d2d(void *ctx, uint32_t dev, struct aidc_dev_mem *dst, uint64_t doff,
			const struct aidc_dev_mem *src, uint64_t soff, uint64_t bytes)
{
	struct ocl_dev *d = get(ctx, dev);
	if (!d || !fits(dst, doff, bytes) || !fits(src, soff, bytes))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_d2d: range outside the buffer");
	/* OpenCL refuses overlapping ranges of one buffer (CL_MEM_COPY_OVERLAP): say so. */
	if (dst == src && bytes && doff < soff + bytes && soff < doff + bytes)
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_d2d: overlapping ranges of one buffer");
	cl_int e = clEnqueueCopyBuffer(d->q, src->m, dst->m, (size_t)soff, (size_t)doff,
				       (size_t)bytes, 0, NULL, NULL);
	return e == CL_SUCCESS ? AIDC_DEV_OK : clfail(ctx, e, "clEnqueueCopyBuffer");
}

static int ocl_sync(void *ctx, uint32_t dev)
{
	struct ocl_dev *d = get(ctx, dev);
	if (!d)
		return fail(ctx, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	cl_int e = clFinish(d->q);
	return e == CL_SUCCESS ? AIDC_DEV_OK : clfail(ctx, e, "clFinish");
}

static int ocl_gemm(void *ctx, uint32_t dev, const struct aidc_dev_gemm *g)
{
	struct ocl_ctx *c = ctx;
	struct ocl_dev *d = get(c, dev);
	size_t es = g->dtype == AIDC_DEV_F32 ? 4 : g->dtype == AIDC_DEV_F16 ? 2 : 0;
	if (!d)
		return fail(c, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	if (!es || (g->dtype == AIDC_DEV_F16 && !(d->info.caps & AIDC_DEV_CAP_GEMM_F16)))
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "gemm: %s is not supported on this device",
			    g->dtype == AIDC_DEV_BF16 ? "bf16" : "this type");
	uint64_t ar = g->trans_a ? g->k : g->m, ac = g->trans_a ? g->m : g->k;
	uint64_t br = g->trans_b ? g->n : g->k, bc = g->trans_b ? g->k : g->n;
	if (!g->m || !g->n || !g->k || g->lda < ac || g->ldb < bc || g->ldc < g->n ||
	    !fits(g->a, 0, ((ar - 1) * g->lda + ac) * es) || !fits(g->b, 0, ((br - 1) * g->ldb + bc) * es) ||
	    !fits(g->c, 0, ((g->m - 1) * g->ldc + g->n) * es))
		return fail(c, AIDC_DEV_ERR_INVALID, "gemm: shape does not fit the buffers");
	CLBlastTranspose ta = g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
	CLBlastTranspose tb = g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
	CLBlastStatusCode s;
	if (g->dtype == AIDC_DEV_F32)
		s = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, g->m, g->n, g->k, g->alpha, g->a->m, 0,
				 g->lda, g->b->m, 0, g->ldb, g->beta, g->c->m, 0, g->ldc, &d->q, NULL);
	else
		s = CLBlastHgemm(CLBlastLayoutRowMajor, ta, tb, g->m, g->n, g->k,
				 dev_f32_to_f16(g->alpha), g->a->m, 0, g->lda, g->b->m, 0, g->ldb,
				 dev_f32_to_f16(g->beta), g->c->m, 0, g->ldc, &d->q, NULL);
	if (s == CLBlastSuccess)
		return AIDC_DEV_OK;
	return fail(c, s == CLBlastNoHalfPrecision ? AIDC_DEV_ERR_UNSUPPORTED : AIDC_DEV_ERR_DEVICE,
		    "CLBlast gemm: status %d", (int)s);
}

static int build(struct ocl_ctx *c, struct ocl_dev *d)
{
	if (d->prog)
		return AIDC_DEV_OK;
	const char *src = ocl_kernels;
	cl_int e;
	cl_program p = clCreateProgramWithSource(d->ctx, 1, &src, NULL, &e);
	if (e != CL_SUCCESS)
		return clfail(c, e, "clCreateProgramWithSource");
	e = clBuildProgram(p, 1, &d->id, "-cl-std=CL1.2", NULL, NULL);
	if (e != CL_SUCCESS) {
		char log[400] = "";
		clGetProgramBuildInfo(p, d->id, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
		clReleaseProgram(p);
		return fail(c, AIDC_DEV_ERR_DEVICE, "building kernels failed: %s", log);
	}
	d->prog = p;
	d->k_elt = clCreateKernel(p, "eltwise", &e);
	d->k_red = clCreateKernel(p, "reduce_rows", &e);
	d->k_conv = clCreateKernel(p, "conv2d", &e);
	d->k_attn = clCreateKernel(p, "attention", &e);
	if (!d->k_elt || !d->k_red || !d->k_conv || !d->k_attn)
		return fail(c, AIDC_DEV_ERR_DEVICE, "clCreateKernel failed");
	return AIDC_DEV_OK;
}

/* Sets args (size, pointer pairs terminated by size 0) and launches n work-items. */
static int launch(struct ocl_ctx *c, struct ocl_dev *d, cl_kernel k, size_t n, ...)
{
	va_list ap;
	va_start(ap, n);
	cl_uint i = 0;
	for (;;) {
		size_t sz = va_arg(ap, size_t);
		if (!sz)
			break;
		const void *p = va_arg(ap, const void *);
		cl_int e = clSetKernelArg(k, i++, sz, p);
		if (e != CL_SUCCESS) {
			va_end(ap);
			return clfail(c, e, "clSetKernelArg");
		}
	}
	va_end(ap);
	cl_int e = clEnqueueNDRangeKernel(d->q, k, 1, NULL, &n, NULL, 0, NULL, NULL);
	return e == CL_SUCCESS ? AIDC_DEV_OK : clfail(c, e, "clEnqueueNDRangeKernel");
}

#define ARG(x) sizeof(x), (const void *)&(x)

static int ocl_eltwise(void *ctx, uint32_t dev, const struct aidc_dev_eltwise *a)
{
	struct ocl_ctx *c = ctx;
	struct ocl_dev *d = get(c, dev);
	bool unary = a->op == AIDC_DEV_ELT_RELU || a->op == AIDC_DEV_ELT_GELU;
	if (!d)
		return fail(c, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	if (a->dtype != AIDC_DEV_F32 || (unsigned)a->op > AIDC_DEV_ELT_GELU)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "eltwise: only f32 and the five ops");
	if (!a->n || !fits(a->x, 0, a->n * 4) || !fits(a->z, 0, a->n * 4) ||
	    (!unary && !fits(a->y, 0, a->n * 4)))
		return fail(c, AIDC_DEV_ERR_INVALID, "eltwise: shape does not fit the buffers");
	int st = build(c, d);
	if (st)
		return st;
	cl_int op = (cl_int)a->op;
	cl_float al = a->alpha;
	cl_mem y = unary ? a->x->m : a->y->m;
	return launch(c, d, d->k_elt, (size_t)a->n, ARG(op), ARG(al), ARG(a->x->m), ARG(y),
		      ARG(a->z->m), (size_t)0);
}

static int ocl_reduce(void *ctx, uint32_t dev, const struct aidc_dev_reduce *a)
{
	struct ocl_ctx *c = ctx;
	struct ocl_dev *d = get(c, dev);
	if (!d)
		return fail(c, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	if (a->dtype != AIDC_DEV_F32 || (a->op != AIDC_DEV_RED_SUM && a->op != AIDC_DEV_RED_MAX))
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "reduce: only f32 sum/max");
	if (!a->rows || !a->cols || !fits(a->x, 0, a->rows * a->cols * 4) || !fits(a->y, 0, a->rows * 4))
		return fail(c, AIDC_DEV_ERR_INVALID, "reduce: shape does not fit the buffers");
	int st = build(c, d);
	if (st)
		return st;
	cl_int op = (cl_int)a->op;
	cl_ulong cols = a->cols;
	return launch(c, d, d->k_red, (size_t)a->rows, ARG(op), ARG(cols), ARG(a->x->m),
		      ARG(a->y->m), (size_t)0);
}

static int ocl_conv2d(void *ctx, uint32_t dev, const struct aidc_dev_conv2d *a)
{
	struct ocl_ctx *c = ctx;
	struct ocl_dev *d = get(c, dev);
	if (!d)
		return fail(c, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	if (a->dtype != AIDC_DEV_F32)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "conv2d: only f32");
	if (!a->n || !a->c || !a->k || !a->r || !a->s || !a->stride_h || !a->stride_w || !a->dil_h || !a->dil_w)
		return fail(c, AIDC_DEV_ERR_INVALID, "conv2d: zero dimension");
	long eh = (long)a->h + 2L * a->pad_h - (long)a->dil_h * (a->r - 1) - 1;
	long ew = (long)a->w + 2L * a->pad_w - (long)a->dil_w * (a->s - 1) - 1;
	if (eh < 0 || ew < 0)
		return fail(c, AIDC_DEV_ERR_INVALID, "conv2d: filter larger than the input");
	cl_uint P = (cl_uint)(eh / a->stride_h + 1), Q = (cl_uint)(ew / a->stride_w + 1);
	uint64_t ny = (uint64_t)a->n * a->k * P * Q;
	if (!fits(a->x, 0, (uint64_t)a->n * a->c * a->h * a->w * 4) ||
	    !fits(a->wt, 0, (uint64_t)a->k * a->c * a->r * a->s * 4) || !fits(a->y, 0, ny * 4))
		return fail(c, AIDC_DEV_ERR_INVALID, "conv2d: shape does not fit the buffers");
	int st = build(c, d);
	if (st)
		return st;
	cl_uint v[] = {a->c, a->h, a->w, a->k, a->r, a->s, P, Q, a->stride_h, a->stride_w,
		       a->pad_h, a->pad_w, a->dil_h, a->dil_w};
	for (cl_uint i = 0; i < 14; i++)
		if (clSetKernelArg(d->k_conv, i, sizeof v[i], &v[i]) != CL_SUCCESS)
			return fail(c, AIDC_DEV_ERR_DEVICE, "conv2d: clSetKernelArg");
	clSetKernelArg(d->k_conv, 14, sizeof(cl_mem), &a->x->m);
	clSetKernelArg(d->k_conv, 15, sizeof(cl_mem), &a->wt->m);
	clSetKernelArg(d->k_conv, 16, sizeof(cl_mem), &a->y->m);
	size_t n = (size_t)ny;
	cl_int e = clEnqueueNDRangeKernel(d->q, d->k_conv, 1, NULL, &n, NULL, 0, NULL, NULL);
	return e == CL_SUCCESS ? AIDC_DEV_OK : clfail(c, e, "conv2d launch");
}

static int ocl_attention(void *ctx, uint32_t dev, const struct aidc_dev_attention *a)
{
	struct ocl_ctx *c = ctx;
	struct ocl_dev *d = get(c, dev);
	if (!d)
		return fail(c, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	if (a->dtype != AIDC_DEV_F32 || a->head_dim > 256)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "attention: f32 with head_dim <= 256 only");
	uint64_t rows = (uint64_t)a->batch * a->heads * a->seq, bytes = rows * a->head_dim * 4;
	if (!rows || !a->head_dim || !fits(a->q, 0, bytes) || !fits(a->k, 0, bytes) ||
	    !fits(a->v, 0, bytes) || !fits(a->o, 0, bytes))
		return fail(c, AIDC_DEV_ERR_INVALID, "attention: shape does not fit the buffers");
	int st = build(c, d);
	if (st)
		return st;
	cl_uint S = a->seq, D = a->head_dim, causal = a->causal;
	cl_float scale = a->scale;
	return launch(c, d, d->k_attn, (size_t)rows, ARG(S), ARG(D), ARG(causal), ARG(scale),
		      ARG(a->q->m), ARG(a->k->m), ARG(a->v->m), ARG(a->o->m), (size_t)0);
}

static const struct aidc_device_plugin ocl_plugin = {
	.abi_version = 1, /* version 1: no buffer offsets, no pinned host memory yet */
	.struct_size = AIDC_DEVICE_V1_TABLE_SIZE,
	.name = "opencl",
	.version = "1.0",
	.init = ocl_init,
	.fini = ocl_fini,
	.last_error = ocl_last_error,
	.device_count = ocl_device_count,
	.device_info = ocl_device_info,
	.mem_alloc = ocl_mem_alloc,
	.mem_free = ocl_mem_free,
	.copy_h2d = ocl_copy_h2d,
	.copy_d2h = ocl_copy_d2h,
	.copy_d2d = ocl_copy_d2d,
	.synchronize = ocl_sync,
	.gemm = ocl_gemm,
	.conv2d = ocl_conv2d,
	.attention = ocl_attention,
	.eltwise = ocl_eltwise,
	.reduce = ocl_reduce,
};

const struct aidc_device_plugin *aidc_device_plugin_entry(uint32_t host_abi)
{
	return host_abi >= 1 ? &ocl_plugin : NULL;
}
