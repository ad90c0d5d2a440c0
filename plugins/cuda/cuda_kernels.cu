/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cuda plugin's own GPU kernels. This file is not compiled by the build:
 * CMake embeds it (and cuda_index.h) as a string into the plugin, which
 * compiles it with NVRTC for the device's compute capability the first time
 * a kernel is needed (cuda_kern.c). Every kernel is extern "C" (the plugin
 * looks them up by name), launched with CU_BLOCK threads per block, and
 * loops grid-stride so any grid size is correct; indexes are 64-bit.
 * Deliberately plain: shared-memory tree reductions, no warp shuffles, no
 * fast-math intrinsics, so that results are deterministic run to run; the
 * memory-bound kernels load float4 where the pointers are 16-byte aligned.
 */
#include "cuda_index.h"

#define CU_NEG_INF __int_as_float(0xff800000)

/* float4 loads and stores need 16-byte alignment; callers check, then do the tail one by one. */
static __device__ bool aligned16(const void *p)
{
	return ((unsigned long long)p & 15ull) == 0;
}

/* Sum (op_max 0) or max (op_max 1) of v over the block; every thread gets it. */
static __device__ float block_reduce(float v, float *red, int op_max)
{
	red[threadIdx.x] = v;
	__syncthreads();
	for (unsigned st = blockDim.x / 2; st > 0; st >>= 1) {
		if (threadIdx.x < st) {
			float o = red[threadIdx.x + st];
			red[threadIdx.x] =
			    op_max ? fmaxf(red[threadIdx.x], o) : red[threadIdx.x] + o;
		}
		__syncthreads();
	}
	float r = red[0];
	__syncthreads(); /* red is reused by the caller's next reduction */
	return r;
}

/* col = im2col(x) for images n0 .. n0 + total / (c r s p q) - 1. */
extern "C" __global__ void aidc_im2col(const float *x, float *col, struct cu_conv_geom g,
				       unsigned long long n0, unsigned long long total)
{
	unsigned long long step = (unsigned long long)gridDim.x * blockDim.x;
	for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
	     i < total; i += step)
		col[i] = cu_im2col_at(x, &g, n0, i);
}

/*
 * In place, row by row (one block per row): s[row][c] = exp(s - max) / sum
 * over the row's first cu_attn_row_len() columns, 0 for the masked rest.
 */
extern "C" __global__ void aidc_softmax_rows(float *s, unsigned long long rows, unsigned cols,
					     unsigned seq, int causal)
{
	__shared__ float red[CU_BLOCK];
	for (unsigned long long row = blockIdx.x; row < rows; row += gridDim.x) {
		float *p = s + row * cols;
		unsigned len = cu_attn_row_len(row, cols, seq, causal);
		float m = CU_NEG_INF;
		for (unsigned c = threadIdx.x; c < len; c += blockDim.x)
			m = fmaxf(m, p[c]);
		m = block_reduce(m, red, 1);
		float sum = 0.0f;
		for (unsigned c = threadIdx.x; c < len; c += blockDim.x) {
			float e = expf(p[c] - m);
			p[c] = e;
			sum += e;
		}
		sum = block_reduce(sum, red, 0);
		float inv = 1.0f / sum;
		for (unsigned c = threadIdx.x; c < len; c += blockDim.x)
			p[c] *= inv;
		for (unsigned c = len + threadIdx.x; c < cols; c += blockDim.x)
			p[c] = 0.0f;
	}
}

/*
 * Row reduction over a view of x as rows x cols, each row cut into parts
 * pieces of chunk columns (the last may be shorter): y[row * parts + part] =
 * op over that piece. One block per piece, fp32 accumulation in a fixed
 * order, so the result is the same on every run. With parts > 1 the plugin
 * reduces y again with parts = 1 (the final pass).
 */
extern "C" __global__ void aidc_reduce_rows(const float *x, float *y, unsigned long long rows,
					    unsigned long long cols, unsigned long long chunk,
					    unsigned long long parts, int op_max)
{
	__shared__ float red[CU_BLOCK];
	for (unsigned long long v = blockIdx.x; v < rows * parts; v += gridDim.x) {
		unsigned long long row = v / parts, start = v % parts * chunk;
		unsigned long long end = start + chunk < cols ? start + chunk : cols;
		const float *p = x + row * cols + start;
		unsigned long long len = end - start, done = 0;
		float acc = op_max ? CU_NEG_INF : 0.0f;
		if (aligned16(p)) { /* the same for the whole block: p depends on v only */
			const float4 *p4 = (const float4 *)p;
			for (unsigned long long c = threadIdx.x; c < len / 4; c += blockDim.x) {
				float4 e = p4[c];
				acc = op_max ? fmaxf(fmaxf(acc, e.x), fmaxf(fmaxf(e.y, e.z), e.w))
					     : acc + e.x + e.y + e.z + e.w;
			}
			done = len / 4 * 4;
		}
		for (unsigned long long c = done + threadIdx.x; c < len; c += blockDim.x)
			acc = op_max ? fmaxf(acc, p[c]) : acc + p[c];
		acc = block_reduce(acc, red, op_max);
		if (threadIdx.x == 0)
			y[v] = acc;
	}
}

/*
 * z[i] = cu_elt(op, alpha, x[i], y[i]); y may be NULL for the unary ops.
 * Four elements per float4 where every pointer allows it, then the tail.
 */
extern "C" __global__ void aidc_eltwise(const float *x, const float *y, float *z,
					unsigned long long n, int op, float alpha)
{
	unsigned long long step = (unsigned long long)gridDim.x * blockDim.x;
	unsigned long long first = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x,
			   done = 0;
	if (aligned16(x) && aligned16(z) && (!y || aligned16(y))) {
		const float4 *x4 = (const float4 *)x, *y4 = (const float4 *)y;
		float4 *z4 = (float4 *)z;
		for (unsigned long long i = first; i < n / 4; i += step) {
			float4 a = x4[i], b, r;
			b.x = b.y = b.z = b.w = 0.0f;
			if (y)
				b = y4[i];
			r.x = cu_elt(op, alpha, a.x, b.x);
			r.y = cu_elt(op, alpha, a.y, b.y);
			r.z = cu_elt(op, alpha, a.z, b.z);
			r.w = cu_elt(op, alpha, a.w, b.w);
			z4[i] = r;
		}
		done = n / 4 * 4;
	}
	for (unsigned long long i = done + first; i < n; i += step)
		z[i] = cu_elt(op, alpha, x[i], y ? y[i] : 0.0f);
}

/* dst[i] += src[i] (the all-reduce's accumulation step). */
extern "C" __global__ void aidc_accumulate(float *dst, const float *src, unsigned long long n)
{
	unsigned long long step = (unsigned long long)gridDim.x * blockDim.x;
	for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
	     i < n; i += step)
		dst[i] += src[i];
}
