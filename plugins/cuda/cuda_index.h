/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Index arithmetic and scalar formulas shared by the cuda plugin's GPU
 * kernels (cuda_kernels.cu, compiled by NVRTC, which receives this file as
 * an in-memory header) and by the host: the plugin fills the structs, and
 * tests/dev/test_cuda_kernels.c runs these very functions on the CPU against
 * naive references, so the code a GPU runs is also checked where there is
 * no GPU. It must stay valid C17 and CUDA C++ at once: plain types, no
 * includes under NVRTC, no C-only or C++-only syntax.
 */
#ifndef AIDC_CUDA_INDEX_H
#define AIDC_CUDA_INDEX_H

#ifdef __CUDACC_RTC__
#define CU_FN static __device__ inline
#else
#include <math.h>
#define CU_FN static inline
#endif

/* Threads per block of every kernel; the block reductions need a power of two. */
#define CU_BLOCK 256

/* Elementwise op codes, equal to enum aidc_dev_eltwise_op (cuda.c asserts it). */
#define CU_ELT_ADD  0
#define CU_ELT_MUL  1
#define CU_ELT_AXPY 2
#define CU_ELT_RELU 3
#define CU_ELT_GELU 4

/* Convolution geometry, passed by value to the im2col kernel. */
struct cu_conv_geom {
	unsigned c, h, w; /* input channels and size */
	unsigned r, s;	  /* filter size */
	unsigned p, q;	  /* output size */
	unsigned sh, sw;  /* strides */
	unsigned ph, pw;  /* zero padding */
	unsigned dh, dw;  /* dilations */
};

/*
 * Element i of the im2col matrix of images n0, n0 + 1, ...: for each image a
 * [c*r*s][p*q] row-major block, images one after another. Row (ch, fr, fs),
 * column (op, oq) holds x[img][ch][op*sh - ph + fr*dh][oq*sw - pw + fs*dw],
 * or 0 in the padding. x is the whole [n][c][h][w] input.
 */
CU_FN float cu_im2col_at(const float *x, const struct cu_conv_geom *g, unsigned long long n0,
			 unsigned long long i)
{
	unsigned long long pq = (unsigned long long)g->p * g->q;
	unsigned long long crs = (unsigned long long)g->c * g->r * g->s;
	unsigned long long col = i % pq, row = i / pq % crs, img = n0 + i / (pq * crs);
	unsigned long long oq = col % g->q, op = col / g->q;
	unsigned long long fs = row % g->s, fr = row / g->s % g->r,
			   ch = row / ((unsigned long long)g->r * g->s);
	long long ih = (long long)(op * g->sh + fr * g->dh) - (long long)g->ph;
	long long iw = (long long)(oq * g->sw + fs * g->dw) - (long long)g->pw;
	if (ih < 0 || ih >= (long long)g->h || iw < 0 || iw >= (long long)g->w)
		return 0.0f;
	return x[((img * g->c + ch) * g->h + (unsigned long long)ih) * g->w +
		 (unsigned long long)iw];
}

/* GELU, tanh form: the formula of the ABI and of the exam's fp64 reference. */
CU_FN float cu_gelu(float x)
{
	return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

/* One elementwise result; y is unused by RELU and GELU. */
CU_FN float cu_elt(int op, float alpha, float x, float y)
{
	switch (op) {
	case CU_ELT_ADD:
		return x + y;
	case CU_ELT_MUL:
		return x * y;
	case CU_ELT_AXPY:
		return fmaf(alpha, x, y);
	case CU_ELT_RELU:
		return x > 0.0f ? x : 0.0f;
	default:
		return cu_gelu(x);
	}
}

/*
 * Columns of score row `row` that take part in the softmax: all cols, or
 * with causal masking the keys 0..i where i = row % seq is the query's
 * position (rows of several heads are stacked, seq rows per head).
 */
CU_FN unsigned cu_attn_row_len(unsigned long long row, unsigned cols, unsigned seq, int causal)
{
	if (!causal)
		return cols;
	unsigned long long len = row % seq + 1;
	return len < cols ? (unsigned)len : cols;
}

#endif
