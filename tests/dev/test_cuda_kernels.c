/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cuda plugin's kernels and GEMM plans, checked without a GPU (built
 * only where the cuda plugin is, that is where CMake finds the CUDA toolkit
 * with NVRTC):
 *  - NVRTC compiles the embedded kernel source to CUBIN for sm_90 and sm_80
 *    and to PTX for compute_90, and every kernel the plugin looks up by name
 *    is in each image; a broken source fails with the compiler log quoted;
 *  - the im2col index function the GPU runs (cuda_index.h) and the conv GEMM
 *    plan, replayed by a naive bounds-checked column-major GEMM, equal a
 *    naive fp64 convolution for strides, padding, dilation and image chunks;
 *  - the attention plans plus the softmax algorithm of the kernel, likewise,
 *    equal fp64 attention with and without causal masking;
 *  - cu_gelu and cu_elt meet the exam's tolerances against fp64 formulas.
 * Where the plugin (argv[1], default "cuda") finds a GPU, the same cases also
 * run through the plugin itself, plus eltwise, reduce (with its split path),
 * a one-device all-reduce and bad arguments, and must match the same fp64
 * references; without a GPU that part says why it is skipped and the rest
 * still runs.
 */
#include <math.h>
#include <stdbool.h>

#include "cuda_kern.h"
#include "dev/dev.h"
#include "tests/test.h"

/* The cuda plugin on device 0 when one is usable here, else NULL. */
static struct dev_plugin *gpu;

static struct aidc_dev_mem *up(const float *v, size_t n)
{
	struct aidc_err e;
	struct aidc_dev_mem *m = NULL;
	aidc_err_clear(&e);
	if (dev_mem_alloc(gpu, 0, n * 4, &m, &e) || dev_copy_h2d(gpu, 0, m, 0, v, n * 4, &e)) {
		fprintf(stderr, "upload: %s\n", e.msg);
		CHECK(false);
	}
	return m;
}

/* Waits for the device, downloads n floats of m into v and frees m. */
static void down(struct aidc_dev_mem *m, float *v, size_t n)
{
	struct aidc_err e;
	aidc_err_clear(&e);
	if (dev_sync(gpu, 0, &e) || dev_copy_d2h(gpu, 0, v, m, 0, n * 4, &e)) {
		fprintf(stderr, "download: %s\n", e.msg);
		CHECK(false);
	}
	dev_mem_free(gpu, 0, m);
}

/* Largest |got - ref| / (tol * (1 + |ref|)). */
static double rel_worst(const float *got, const double *ref, size_t n, double tol)
{
	double w = 0;
	for (size_t i = 0; i < n; i++) {
		double r = fabs(got[i] - ref[i]) / (tol * (1 + fabs(ref[i])));
		w = r > w || r != r ? r : w;
	}
	return w;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		abort();
	return p;
}

static bool contains(const unsigned char *hay, size_t n, const char *needle)
{
	size_t l = strlen(needle);
	for (size_t i = 0; i + l <= n; i++)
		if (memcmp(hay + i, needle, l) == 0)
			return true;
	return false;
}

static void test_nvrtc(void)
{
	static const char *const archs[] = {"sm_90", "sm_80", "compute_90"};
	char err[1024];
	for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
		struct cu_image img;
		err[0] = '\0';
		int rc = cu_kern_build(NULL, archs[a], &img, err, sizeof err);
		if (rc)
			fprintf(stderr, "%s: %s\n", archs[a], err);
		CHECK_EQ(rc, 0);
		if (rc)
			continue;
		CHECK(img.len > 0);
		CHECK_EQ(img.ptx, archs[a][0] == 'c');
		for (int k = 0; k < CU_NKERN; k++) {
			bool found = contains(img.data, img.len, cu_kern_names[k]);
			if (!found)
				fprintf(stderr, "%s: kernel %s missing\n", archs[a],
					cu_kern_names[k]);
			CHECK(found);
		}
		printf("nvrtc %s: %zu bytes of %s\n", archs[a], img.len, img.ptx ? "PTX" : "CUBIN");
		cu_image_release(&img);
	}
	/* What the plugin asks for on an H100/H200 and an A100. */
	struct cu_image img;
	CHECK_EQ(cu_kern_build_for(9, 0, &img, err, sizeof err), 0);
	CHECK(!img.ptx);
	CHECK_STR(img.arch, "sm_90");
	cu_image_release(&img);
	CHECK_EQ(cu_kern_build_for(8, 0, &img, err, sizeof err), 0);
	CHECK_STR(img.arch, "sm_80");
	cu_image_release(&img);
	/* A broken source: an error with the log's first line, no crash. */
	err[0] = '\0';
	CHECK_EQ(cu_kern_build("extern \"C\" __global__ void k(void) { undeclared_thing = 1; }\n",
			       "sm_90", &img, err, sizeof err),
		 -1);
	CHECK_CONTAINS(err, "NVRTC cannot compile");
	CHECK_CONTAINS(err, "undeclared_thing");
	printf("broken source: %s\n", err);
}

/* Column-major strided-batched GEMM as cuBLAS defines it; indexes checked against the buffers. */
static void gemm_cm(const struct cu_gemm_plan *pl, const float *A, size_t na, const float *B,
		    size_t nb, float *C, size_t nc)
{
	for (int b = 0; b < pl->batch; b++)
		for (int j = 0; j < pl->n; j++)
			for (int i = 0; i < pl->m; i++) {
				double s = 0;
				for (int l = 0; l < pl->k; l++) {
					size_t ia = (size_t)(b * pl->sa +
							     (pl->ta ? l + (long long)i * pl->lda
								     : i + (long long)l * pl->lda));
					size_t ib = (size_t)(b * pl->sb +
							     (pl->tb ? j + (long long)l * pl->ldb
								     : l + (long long)j * pl->ldb));
					if (ia >= na || ib >= nb) {
						fprintf(stderr, "gemm plan reads outside A or B\n");
						CHECK(false);
						return;
					}
					s += (double)A[ia] * B[ib];
				}
				size_t ic = (size_t)(b * pl->sc + i + (long long)j * pl->ldc);
				if (ic >= nc) {
					fprintf(stderr, "gemm plan writes outside C\n");
					CHECK(false);
					return;
				}
				C[ic] = (float)(pl->alpha * s);
			}
}

static void fill(float *v, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
	}
}

/* Naive fp64 convolution: ref and sum |x w| per output (the exam's error bound uses both). */
static void conv_ref(const float *x, const float *w, const struct cu_conv_geom *g, unsigned N,
		     unsigned K, double *ref, double *sabs)
{
	for (size_t n = 0; n < N; n++)
		for (size_t k = 0; k < K; k++)
			for (size_t p = 0; p < g->p; p++)
				for (size_t q = 0; q < g->q; q++) {
					double s = 0, sa = 0;
					for (size_t c = 0; c < g->c; c++)
						for (size_t r = 0; r < g->r; r++)
							for (size_t t = 0; t < g->s; t++) {
								long ih =
								    (long)(p * g->sh + r * g->dh) -
								    (long)g->ph;
								long iw =
								    (long)(q * g->sw + t * g->dw) -
								    (long)g->pw;
								if (ih < 0 || ih >= (long)g->h ||
								    iw < 0 || iw >= (long)g->w)
									continue;
								double v =
								    (double)
									x[((n * g->c + c) * g->h +
									   (size_t)ih) *
									      g->w +
									  (size_t)iw] *
								    w[((k * g->c + c) * g->r + r) *
									  g->s +
								      t];
								s += v;
								sa += fabs(v);
							}
					size_t o = ((n * K + k) * g->p + p) * g->q + q;
					ref[o] = s;
					sabs[o] = sa;
				}
}

/* Worst |got - ref| / (1e-5 sum|x w| + 1e-6 |ref| + 1e-30): the exam's fp32 bound, pass <= 1. */
static double conv_worst(const float *y, const double *ref, const double *sabs, size_t n)
{
	double worst = 0;
	for (size_t i = 0; i < n; i++) {
		double r = fabs(y[i] - ref[i]) / (1e-5 * sabs[i] + 1e-6 * fabs(ref[i]) + 1e-30);
		worst = r > worst || r != r ? r : worst;
	}
	return worst;
}

/* n c h w k r s stride_h stride_w pad_h pad_w dil_h dil_w, images per chunk */
static void conv_case(const unsigned *t, unsigned chunk)
{
	unsigned N = t[0], C = t[1], H = t[2], W = t[3], K = t[4], R = t[5], S = t[6];
	struct cu_conv_geom g = {.c = C,
				 .h = H,
				 .w = W,
				 .r = R,
				 .s = S,
				 .sh = t[7],
				 .sw = t[8],
				 .ph = t[9],
				 .pw = t[10],
				 .dh = t[11],
				 .dw = t[12]};
	g.p = (H + 2 * g.ph - g.dh * (R - 1) - 1) / g.sh + 1;
	g.q = (W + 2 * g.pw - g.dw * (S - 1) - 1) / g.sw + 1;
	size_t nx = (size_t)N * C * H * W, nw = (size_t)K * C * R * S, pq = (size_t)g.p * g.q;
	size_t crs = (size_t)C * R * S, ny = (size_t)N * K * pq;
	float *x = xcalloc(nx, 4), *w = xcalloc(nw, 4), *y = xcalloc(ny, 4);
	float *col = xcalloc(chunk * crs * pq, 4);
	double *ref = xcalloc(ny, sizeof(double)), *sabs = xcalloc(ny, sizeof(double));
	fill(x, nx, 1);
	fill(w, nw, 2);
	conv_ref(x, w, &g, N, K, ref, sabs);
	for (unsigned n0 = 0; n0 < N; n0 += chunk) {
		unsigned nb = N - n0 < chunk ? N - n0 : chunk;
		for (size_t i = 0; i < nb * crs * pq; i++)
			col[i] = cu_im2col_at(x, &g, n0, i);
		struct cu_gemm_plan pl;
		cu_plan_conv(&g, K, (int)nb, &pl);
		gemm_cm(&pl, col, chunk * crs * pq, w, nw, y + (size_t)n0 * K * pq,
			ny - (size_t)n0 * K * pq);
	}
	double worst = conv_worst(y, ref, sabs, ny);
	printf("conv n=%u c=%u %ux%u k=%u %ux%u stride %u,%u pad %u,%u dil %u,%u chunk %u: "
	       "error / exam bound %.3g\n",
	       N, C, H, W, K, R, S, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, chunk, worst);
	CHECK(worst <= 1.0);
	if (gpu && chunk == 1) {
		memset(y, 0xff, ny * 4); /* NaN unless the device writes it */
		struct aidc_dev_mem *mx = up(x, nx), *mw = up(w, nw), *my = up(y, ny);
		struct aidc_dev_conv2d a = {.struct_size = sizeof a,
					    .dtype = AIDC_DEV_F32,
					    .n = N,
					    .c = C,
					    .h = H,
					    .w = W,
					    .k = K,
					    .r = R,
					    .s = S,
					    .stride_h = g.sh,
					    .stride_w = g.sw,
					    .pad_h = g.ph,
					    .pad_w = g.pw,
					    .dil_h = g.dh,
					    .dil_w = g.dw,
					    .x = mx,
					    .wt = mw,
					    .y = my};
		struct aidc_err e;
		aidc_err_clear(&e);
		int rc = dev_conv2d(gpu, 0, &a, &e);
		if (rc)
			fprintf(stderr, "gpu conv2d: %s\n", e.msg);
		CHECK_EQ(rc, 0);
		down(my, y, ny);
		dev_mem_free(gpu, 0, mx);
		dev_mem_free(gpu, 0, mw);
		worst = conv_worst(y, ref, sabs, ny);
		printf("  gpu: error / exam bound %.3g\n", worst);
		CHECK(worst <= 1.0);
	}
	free(x);
	free(w);
	free(y);
	free(col);
	free(ref);
	free(sabs);
}

static void test_conv(void)
{
	static const unsigned cases[][13] = {
	    {1, 1, 3, 3, 1, 2, 2, 1, 1, 0, 0, 1, 1},	/* the conformance suite's case */
	    {2, 3, 13, 11, 4, 7, 7, 2, 2, 3, 3, 1, 1},	/* conv1-like 7x7/2, pad 3 */
	    {3, 4, 8, 8, 5, 3, 3, 1, 1, 1, 1, 1, 1},	/* 3x3 same */
	    {2, 3, 9, 10, 2, 3, 2, 2, 1, 2, 0, 2, 3},	/* asymmetric, dilated */
	    {2, 6, 5, 7, 3, 1, 1, 1, 1, 0, 0, 1, 1},	/* 1x1 */
	    {2, 16, 20, 20, 8, 3, 3, 1, 1, 1, 1, 1, 1}, /* more than a block of columns */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		conv_case(cases[i], 1);
		conv_case(cases[i], 2);
	}
	/* 1x1 stride 1 unpadded: the plugin uses x itself as the im2col matrix. */
	struct cu_conv_geom g = {.c = 6,
				 .h = 5,
				 .w = 7,
				 .r = 1,
				 .s = 1,
				 .p = 5,
				 .q = 7,
				 .sh = 1,
				 .sw = 1,
				 .dh = 1,
				 .dw = 1};
	float x[2 * 6 * 5 * 7];
	fill(x, sizeof x / sizeof x[0], 3);
	bool same = true;
	for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
		same = same && cu_im2col_at(x, &g, 0, i) == x[i];
	CHECK(same);
}

/* The softmax kernel's algorithm, one row at a time in the same order of steps. */
static void softmax_rows(float *s, size_t rows, unsigned cols, unsigned seq, int causal)
{
	for (size_t row = 0; row < rows; row++) {
		float *p = s + row * cols, m = -INFINITY, sum = 0;
		unsigned len = cu_attn_row_len(row, cols, seq, causal);
		for (unsigned c = 0; c < len; c++)
			m = fmaxf(m, p[c]);
		for (unsigned c = 0; c < len; c++)
			sum += (p[c] = expf(p[c] - m));
		for (unsigned c = 0; c < len; c++)
			p[c] *= 1.0f / sum;
		for (unsigned c = len; c < cols; c++)
			p[c] = 0;
	}
}

/* Naive fp64 attention into ref[heads][seq][dim]. */
static void attn_ref(const float *q, const float *k, const float *v, unsigned heads, unsigned seq,
		     unsigned dim, int causal, double *ref)
{
	double *p = xcalloc(seq, sizeof(double));
	for (size_t h = 0; h < heads; h++)
		for (size_t i = 0; i < seq; i++) {
			size_t len = causal ? i + 1 : seq;
			double mx = -INFINITY, sum = 0;
			for (size_t c = 0; c < len; c++) {
				double s = 0;
				for (size_t d = 0; d < dim; d++)
					s += (double)q[(h * seq + i) * dim + d] *
					     k[(h * seq + c) * dim + d];
				p[c] = s / sqrt((double)dim);
				mx = p[c] > mx ? p[c] : mx;
			}
			for (size_t c = 0; c < len; c++)
				sum += (p[c] = exp(p[c] - mx));
			for (size_t d = 0; d < dim; d++) {
				double r = 0;
				for (size_t c = 0; c < len; c++)
					r += p[c] / sum * v[(h * seq + c) * dim + d];
				ref[(h * seq + i) * dim + d] = r;
			}
		}
	free(p);
}

static void attn_case(unsigned heads, unsigned seq, unsigned dim, int causal, unsigned chunk)
{
	size_t n = (size_t)heads * seq * dim, ns = (size_t)chunk * seq * seq;
	float *q = xcalloc(n, 4), *k = xcalloc(n, 4), *v = xcalloc(n, 4), *o = xcalloc(n, 4);
	float *sc = xcalloc(ns, 4);
	double *ref = xcalloc(n, sizeof(double));
	fill(q, n, 4);
	fill(k, n, 5);
	fill(v, n, 6);
	attn_ref(q, k, v, heads, seq, dim, causal, ref);
	float scale = 1.0f / sqrtf((float)dim);
	for (unsigned h0 = 0; h0 < heads; h0 += chunk) {
		unsigned nb = heads - h0 < chunk ? heads - h0 : chunk;
		size_t off = (size_t)h0 * seq * dim;
		struct cu_gemm_plan qk, pv;
		cu_plan_attn_qk(seq, dim, (int)nb, scale, &qk);
		cu_plan_attn_pv(seq, dim, (int)nb, &pv);
		gemm_cm(&qk, k + off, n - off, q + off, n - off, sc, ns);
		softmax_rows(sc, (size_t)nb * seq, seq, seq, causal);
		gemm_cm(&pv, v + off, n - off, sc, ns, o + off, n - off);
	}
	double worst = rel_worst(o, ref, n, 1e-5);
	printf("attention heads=%u seq=%u dim=%u%s chunk %u: error / 1e-5(1+|ref|) %.3g\n", heads,
	       seq, dim, causal ? " causal" : "", chunk, worst);
	CHECK(worst <= 1.0);
	if (gpu && chunk == 1) {
		memset(o, 0xff, n * 4); /* NaN unless the device writes it */
		struct aidc_dev_mem *mq = up(q, n), *mk = up(k, n), *mv = up(v, n), *mo = up(o, n);
		struct aidc_dev_attention a = {.struct_size = sizeof a,
					       .dtype = AIDC_DEV_F32,
					       .batch = 1,
					       .heads = heads,
					       .seq = seq,
					       .head_dim = dim,
					       .causal = (uint32_t)causal,
					       .scale = scale,
					       .q = mq,
					       .k = mk,
					       .v = mv,
					       .o = mo};
		struct aidc_err e;
		aidc_err_clear(&e);
		int rc = dev_attention(gpu, 0, &a, &e);
		if (rc)
			fprintf(stderr, "gpu attention: %s\n", e.msg);
		CHECK_EQ(rc, 0);
		down(mo, o, n);
		dev_mem_free(gpu, 0, mq);
		dev_mem_free(gpu, 0, mk);
		dev_mem_free(gpu, 0, mv);
		worst = rel_worst(o, ref, n, 1e-5);
		printf("  gpu: error / 1e-5(1+|ref|) %.3g\n", worst);
		CHECK(worst <= 1.0);
	}
	free(q);
	free(k);
	free(v);
	free(o);
	free(sc);
	free(ref);
}

static void test_attention(void)
{
	for (int causal = 0; causal < 2; causal++) {
		attn_case(1, 1, 4, causal, 1);
		attn_case(3, 5, 4, causal, 1);
		attn_case(3, 5, 4, causal, 2);
		attn_case(4, 17, 8, causal, 4);
		attn_case(2, 300, 64, causal, 1); /* rows longer than a block */
	}
}

static void test_eltwise(void)
{
	double worst = 0;
	for (int i = -4000; i <= 4000; i++) {
		float x = (float)i / 1000.0f;
		double xd = x,
		       ref = 0.5 * xd * (1 + tanh(sqrt(2 / M_PI) * (xd + 0.044715 * xd * xd * xd)));
		double r = fabs(cu_gelu(x) - ref) / (1e-5 * (1 + fabs(xd)));
		worst = r > worst ? r : worst;
		CHECK(cu_elt(CU_ELT_GELU, 0, x, 7) == cu_gelu(x));
	}
	printf("gelu: worst error / exam bound = %.3g\n", worst);
	CHECK(worst <= 1.0);
	CHECK(cu_elt(CU_ELT_ADD, 9, 1.5f, 2.0f) == 3.5f);
	CHECK(cu_elt(CU_ELT_MUL, 9, 1.5f, 2.0f) == 3.0f);
	CHECK(cu_elt(CU_ELT_AXPY, 2, 1.5f, 2.0f) == 5.0f);
	CHECK(cu_elt(CU_ELT_RELU, 9, -1.5f, 2.0f) == 0.0f);
	CHECK(cu_elt(CU_ELT_RELU, 9, 1.5f, 2.0f) == 1.5f);
}

/* Eltwise ops and reductions through the plugin, against fp64. */
static void gpu_eltwise_reduce(void)
{
	enum { N = 100003 };
	float *x = xcalloc(N, 4), *y = xcalloc(N, 4), *z = xcalloc(N, 4);
	double *ref = xcalloc(N, sizeof(double));
	fill(x, N, 7);
	fill(y, N, 8);
	for (int op = AIDC_DEV_ELT_ADD; op <= AIDC_DEV_ELT_GELU; op++) {
		memset(z, 0xff, (size_t)N * 4);
		struct aidc_dev_mem *mx = up(x, N), *my = up(y, N), *mz = up(z, N);
		struct aidc_dev_eltwise a = {.struct_size = sizeof a,
					     .dtype = AIDC_DEV_F32,
					     .op = (enum aidc_dev_eltwise_op)op,
					     .n = N,
					     .alpha = 0.5f,
					     .x = mx,
					     .y = op >= AIDC_DEV_ELT_RELU ? NULL : my,
					     .z = mz};
		struct aidc_err e;
		aidc_err_clear(&e);
		int rc = dev_eltwise(gpu, 0, &a, &e);
		if (rc)
			fprintf(stderr, "gpu eltwise %d: %s\n", op, e.msg);
		CHECK_EQ(rc, 0);
		down(mz, z, N);
		dev_mem_free(gpu, 0, mx);
		dev_mem_free(gpu, 0, my);
		for (size_t i = 0; i < N; i++) {
			double xd = x[i], yd = y[i];
			ref[i] =
			    op == AIDC_DEV_ELT_ADD    ? xd + yd
			    : op == AIDC_DEV_ELT_MUL  ? xd * yd
			    : op == AIDC_DEV_ELT_AXPY ? 0.5 * xd + yd
			    : op == AIDC_DEV_ELT_RELU
				? (xd > 0 ? xd : 0)
				: 0.5 * xd *
				      (1 + tanh(sqrt(2 / M_PI) * (xd + 0.044715 * xd * xd * xd)));
		}
		double worst = rel_worst(z, ref, N, 1e-6);
		printf("gpu eltwise op %d, n=%d: error / 1e-6(1+|ref|) %.3g\n", op, N, worst);
		CHECK(worst <= 1.0);
	}
	/* rows x cols: the plain path, and few long rows (split, then a final pass) */
	static const size_t shapes[][2] = {{2, 4}, {37, 1000}, {3, 100003}, {1, 1 << 20}};
	for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
		size_t rows = shapes[t][0], cols = shapes[t][1], n = rows * cols;
		float *v = xcalloc(n, 4), out[2][64] = {{0}};
		fill(v, n, (unsigned)t + 9);
		for (int op = AIDC_DEV_RED_SUM; op <= AIDC_DEV_RED_MAX; op++) {
			struct aidc_dev_mem *mv = up(v, n), *mo = up(out[op], rows);
			struct aidc_dev_reduce r = {.struct_size = sizeof r,
						    .dtype = AIDC_DEV_F32,
						    .op = (enum aidc_dev_reduce_op)op,
						    .rows = rows,
						    .cols = cols,
						    .x = mv,
						    .y = mo};
			struct aidc_err e;
			aidc_err_clear(&e);
			int rc = dev_reduce(gpu, 0, &r, &e);
			if (rc)
				fprintf(stderr, "gpu reduce: %s\n", e.msg);
			CHECK_EQ(rc, 0);
			down(mo, out[op], rows);
			dev_mem_free(gpu, 0, mv);
		}
		double worst = 0;
		bool max_ok = true;
		for (size_t i = 0; i < rows; i++) {
			double s = 0, sa = 0;
			float mx = -INFINITY;
			for (size_t c = 0; c < cols; c++) {
				s += v[i * cols + c];
				sa += fabs(v[i * cols + c]);
				mx = fmaxf(mx, v[i * cols + c]);
			}
			double r = fabs(out[0][i] - s) / (1e-5 * sa + 1e-30);
			worst = r > worst || r != r ? r : worst;
			max_ok = max_ok && out[1][i] == mx;
		}
		printf("gpu reduce %zux%zu: sum error / exam bound %.3g, max %s\n", rows, cols,
		       worst, max_ok ? "exact" : "WRONG");
		CHECK(worst <= 1.0);
		CHECK(max_ok);
		free(v);
	}
	free(x);
	free(y);
	free(z);
	free(ref);
}

/* A one-device all-reduce leaves the input; bad arguments are refused, not run. */
static void gpu_misc(void)
{
	float v[5] = {1, 2, 3, 4, 5}, got[5];
	struct aidc_dev_mem *m = up(v, 5), *small = up(v, 2);
	uint32_t devs[1] = {0};
	struct aidc_dev_mem *bufs[1] = {m};
	struct aidc_dev_allreduce ar = {.struct_size = sizeof ar,
					.dtype = AIDC_DEV_F32,
					.ndev = 1,
					.devs = devs,
					.bufs = bufs,
					.n = 5};
	struct aidc_err e;
	aidc_err_clear(&e);
	CHECK_EQ(gpu->api->allreduce(gpu->ctx, &ar), 0); /* the loader itself asks for 2+ */
	struct aidc_dev_eltwise el = {.struct_size = sizeof el,
				      .dtype = AIDC_DEV_F32,
				      .op = AIDC_DEV_ELT_ADD,
				      .n = 5,
				      .x = m,
				      .y = small,
				      .z = m};
	CHECK_EQ(gpu->api->eltwise(gpu->ctx, 0, &el), AIDC_DEV_ERR_INVALID);
	el.dtype = AIDC_DEV_F16;
	CHECK_EQ(gpu->api->eltwise(gpu->ctx, 0, &el), AIDC_DEV_ERR_UNSUPPORTED);
	struct aidc_dev_conv2d cv = {.struct_size = sizeof cv,
				     .dtype = AIDC_DEV_F32,
				     .n = 1,
				     .c = 1,
				     .h = 2,
				     .w = 2,
				     .k = 1,
				     .r = 3,
				     .s = 3,
				     .stride_h = 1,
				     .stride_w = 1,
				     .dil_h = 1,
				     .dil_w = 1,
				     .x = m,
				     .wt = m,
				     .y = m};
	CHECK_EQ(gpu->api->conv2d(gpu->ctx, 0, &cv), AIDC_DEV_ERR_INVALID); /* filter > input */
	struct aidc_dev_attention at = {.struct_size = sizeof at,
					.dtype = AIDC_DEV_F32,
					.batch = 1,
					.heads = 1,
					.seq = 2,
					.head_dim = 2,
					.q = m,
					.k = m,
					.v = m,
					.o = small};
	CHECK_EQ(gpu->api->attention(gpu->ctx, 0, &at), AIDC_DEV_ERR_INVALID);
	down(m, got, 5);
	dev_mem_free(gpu, 0, small);
	CHECK(memcmp(got, v, sizeof v) == 0);
	printf("gpu: one-device all-reduce and argument checks done\n");
}

int main(int argc, char **argv)
{
	static struct dev_plugin p;
	struct aidc_err e;
	aidc_err_clear(&e);
	if (dev_plugin_open(&p, argc > 1 ? argv[1] : "cuda", NULL, &e) == 0 && p.ndev > 0) {
		gpu = &p;
		printf("gpu part on %s\n", p.info[0].name);
	} else {
		printf("gpu part skipped: %s\n", e.msg[0] ? e.msg : "no device");
	}
	test_nvrtc();
	test_conv();
	test_attention();
	test_eltwise();
	if (gpu) {
		gpu_eltwise_reduce();
		gpu_misc();
		dev_plugin_close(&p);
	}
	return test_summary();
}
