/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `cpu` device plugin: the host CPU as an AIDC device. GEMM goes to
 * OpenBLAS (fp32/fp64 directly; fp16/bf16 are widened to fp32, multiplied and
 * narrowed, so their speed includes the conversions); convolution is
 * im2col + SGEMM; attention is two SGEMMs around a row softmax; the rest is
 * plain C. Convolution, attention, elementwise and reduce take f32, f16 and
 * bf16 (16-bit operands are widened, the work is done in fp32 and the output
 * rounded to nearest even). "Device memory" is host memory. ABI version 2:
 * buffer offsets for GEMM, elementwise and reduce; host_alloc gives
 * page-aligned host memory (a memcpy device needs no pinning).
 *
 * Config: "devices=N" (1..8) exposes N virtual devices sharing the CPU, so
 * that peer copies and all-reduce can be exercised on one machine.
 */
#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <aidc/device.h>

#include "dev/half.h"
#include "../plugin_util.h"

#define CPU_MAX_DEVICES 8u

struct aidc_dev_mem {
	uint64_t bytes;
	void *data;
};

struct cpu_ctx {
	uint32_t ndev;
	struct aidc_dev_info info;
	char err[256];
	float *scratch; /* grown on demand: im2col, attention scores, GEMM type conversion */
	size_t scratch_len;
	float *wide; /* grown on demand: fp32 copies of 16-bit operands (conv, attention, ...) */
	size_t wide_len;
};

PLUGIN_DEFINE_FAIL(fail, struct cpu_ctx)

static float *scratch(struct cpu_ctx *c, size_t n)
{
	if (n > c->scratch_len) {
		free(c->scratch);
		c->scratch = NULL;
		c->scratch_len = 0;
		if (posix_memalign((void **)&c->scratch, 64, n * sizeof(float)) != 0)
			return NULL;
		c->scratch_len = n;
	}
	return c->scratch;
}

static float *wide_buf(struct cpu_ctx *c, size_t n)
{
	if (n > c->wide_len) {
		free(c->wide);
		c->wide = NULL;
		c->wide_len = 0;
		if (posix_memalign((void **)&c->wide, 64, n * sizeof(float)) != 0)
			return NULL;
		c->wide_len = n;
	}
	return c->wide;
}

static void read_cpuinfo(struct aidc_dev_info *in, double *mhz, int *flops_per_cycle)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	*mhz = 0;
	*flops_per_cycle = 8; /* SSE: 4-wide add + mul */
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		char *v = colon + 1;
		while (*v == ' ')
			v++;
		v[strcspn(v, "\n")] = '\0';
		if (!strncmp(line, "model name", 10) && !in->name[0])
			snprintf(in->name, sizeof in->name, "%s", v);
		else if (!strncmp(line, "vendor_id", 9) && !in->vendor[0])
			snprintf(in->vendor, sizeof in->vendor, "%s", v);
		else if (!strncmp(line, "cpu MHz", 7) && *mhz == 0)
			*mhz = strtod(v, NULL);
		else if (!strncmp(line, "flags", 5)) {
			if (strstr(v, " avx512f"))
				*flops_per_cycle = 64;
			else if (strstr(v, " avx2") && strstr(v, " fma"))
				*flops_per_cycle = 32;
		}
	}
	fclose(f);
}

static int cpu_init(const char *config, void **out, char *err, size_t errlen)
{
	unsigned ndev = 1;
	if (config && *config) {
		char extra;
		if (sscanf(config, "devices=%u%c", &ndev, &extra) != 1 || ndev < 1 ||
		    ndev > CPU_MAX_DEVICES) {
			snprintf(err, errlen, "cpu: bad config '%s' (expected devices=1..%u)", config,
				 CPU_MAX_DEVICES);
			return AIDC_DEV_ERR_INVALID;
		}
	}
	struct cpu_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "cpu: out of memory");
		return AIDC_DEV_ERR_NOMEM;
	}
	c->ndev = ndev;
	struct aidc_dev_info *in = &c->info;
	double mhz;
	int fpc;
	read_cpuinfo(in, &mhz, &fpc);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	if (!in->name[0])
		snprintf(in->name, sizeof in->name, "host CPU");
	if (!in->vendor[0])
		snprintf(in->vendor, sizeof in->vendor, "unknown");
	snprintf(in->model, sizeof in->model, "cpu-%ldc:%.100s", cores > 0 ? cores : 1, in->name);
	snprintf(in->driver, sizeof in->driver, "%s", openblas_get_config());
	in->mem_bytes = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz / 2 / ndev : 0;
	in->compute_units = cores > 0 ? (uint32_t)cores : 1;
	in->peak_gflops[AIDC_DEV_F32] = mhz / 1000.0 * fpc * in->compute_units;
	in->peak_gflops[AIDC_DEV_F64] = in->peak_gflops[AIDC_DEV_F32] / 2;
	in->caps = AIDC_DEV_CAP_GEMM_F32 | AIDC_DEV_CAP_GEMM_F16 | AIDC_DEV_CAP_GEMM_BF16 |
		   AIDC_DEV_CAP_CONV2D | AIDC_DEV_CAP_ATTENTION | AIDC_DEV_CAP_ELTWISE |
		   AIDC_DEV_CAP_REDUCE | (ndev > 1 ? AIDC_DEV_CAP_PEER_COPY | AIDC_DEV_CAP_ALLREDUCE : 0);
	*out = c;
	return AIDC_DEV_OK;
}

static void cpu_fini(void *ctx)
{
	struct cpu_ctx *c = ctx;
	if (!c)
		return;
	free(c->scratch);
	free(c->wide);
	free(c);
}

static const char *cpu_last_error(void *ctx)
{
	return ((struct cpu_ctx *)ctx)->err;
}

static int cpu_device_count(void *ctx, uint32_t *out)
{
	*out = ((struct cpu_ctx *)ctx)->ndev;
	return AIDC_DEV_OK;
}

static int cpu_device_info(void *ctx, uint32_t dev, struct aidc_dev_info *out)
{
	struct cpu_ctx *c = ctx;
	if (dev >= c->ndev)
		return fail(c, AIDC_DEV_ERR_INVALID, "no device %u", dev);
	plugin_info_copy(out, &c->info);
	snprintf(out->uuid, sizeof out->uuid, "cpu-%u", dev);
	return AIDC_DEV_OK;
}

static int cpu_links(void *ctx, struct aidc_dev_link *out, uint32_t max, uint32_t *out_n)
{
	struct cpu_ctx *c = ctx;
	uint32_t n = 0;
	for (uint32_t a = 0; a < c->ndev; a++)
		for (uint32_t b = a + 1; b < c->ndev; b++, n++)
			if (n < max) {
				memset(&out[n], 0, sizeof out[n]);
				out[n].a = a;
				out[n].b = b;
				snprintf(out[n].kind, sizeof out[n].kind, "shared-memory");
			}
	*out_n = n;
	return AIDC_DEV_OK;
}

static int cpu_mem_alloc(void *ctx, uint32_t dev, uint64_t bytes, struct aidc_dev_mem **out)
{
	struct cpu_ctx *c = ctx;
	if (dev >= c->ndev || bytes == 0)
		return fail(c, AIDC_DEV_ERR_INVALID, "mem_alloc: device %u, %llu bytes", dev,
			    (unsigned long long)bytes);
	if (bytes > c->info.mem_bytes)
		return fail(c, AIDC_DEV_ERR_NOMEM, "mem_alloc: %llu bytes is more than the device's %llu",
			    (unsigned long long)bytes, (unsigned long long)c->info.mem_bytes);
	struct aidc_dev_mem *m = calloc(1, sizeof *m);
	if (!m || posix_memalign(&m->data, 64, (size_t)bytes) != 0) {
		free(m);
		return fail(c, AIDC_DEV_ERR_NOMEM, "mem_alloc: %llu bytes", (unsigned long long)bytes);
	}
	m->bytes = bytes;
	*out = m;
	return AIDC_DEV_OK;
}

static int cpu_mem_free(void *ctx, uint32_t dev, struct aidc_dev_mem *m)
{
	if (m)
		free(m->data);
	free(m);
	return AIDC_DEV_OK;
}

static bool in_range(const struct aidc_dev_mem *m, uint64_t off, uint64_t bytes)
{
	return m && plugin_in_range(m->bytes, off, bytes);
}

static int cpu_copy_h2d(void *ctx, uint32_t dev, struct aidc_dev_mem *dst, uint64_t off,
			const void *src, uint64_t bytes)
{
	if (!in_range(dst, off, bytes) || (!src && bytes))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_h2d: range outside the buffer");
	memcpy((char *)dst->data + off, src, (size_t)bytes);
	return AIDC_DEV_OK;
}

static int cpu_copy_d2h(void *ctx, uint32_t dev, void *dst, const struct aidc_dev_mem *src,
			uint64_t off, uint64_t bytes)
{
	if (!in_range(src, off, bytes) || (!dst && bytes))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_d2h: range outside the buffer");
	memcpy(dst, (const char *)src->data + off, (size_t)bytes);
	return AIDC_DEV_OK;
}

static int cpu_copy_d2d(void *ctx, uint32_t dev, struct aidc_dev_mem *dst, uint64_t doff,
			const struct aidc_dev_mem *src, uint64_t soff, uint64_t bytes)
{
	if (!in_range(dst, doff, bytes) || !in_range(src, soff, bytes))
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy_d2d: range outside the buffer");
	memmove((char *)dst->data + doff, (const char *)src->data + soff, (size_t)bytes);
	return AIDC_DEV_OK;
}

static int cpu_copy_peer(void *ctx, uint32_t ddev, struct aidc_dev_mem *dst, uint32_t sdev,
			 const struct aidc_dev_mem *src, uint64_t bytes)
{
	struct cpu_ctx *c = ctx;
	if (ddev >= c->ndev || sdev >= c->ndev)
		return fail(c, AIDC_DEV_ERR_INVALID, "copy_peer: bad device");
	return cpu_copy_d2d(ctx, ddev, dst, 0, src, 0, bytes);
}

static int cpu_sync(void *ctx, uint32_t dev)
{
	return AIDC_DEV_OK;
}

static size_t dsize(enum aidc_dev_dtype t)
{
	return t == AIDC_DEV_F32 ? 4 : t == AIDC_DEV_F64 ? 8 : (t == AIDC_DEV_F16 || t == AIDC_DEV_BF16) ? 2 : 0;
}

static void widen(enum aidc_dev_dtype t, const uint16_t *in, float *out, size_t n)
{
	if (t == AIDC_DEV_F16)
		for (size_t i = 0; i < n; i++)
			out[i] = dev_f16_to_f32(in[i]);
	else
		for (size_t i = 0; i < n; i++)
			out[i] = dev_bf16_to_f32(in[i]);
}

static void narrow(enum aidc_dev_dtype t, const float *in, uint16_t *out, size_t n)
{
	if (t == AIDC_DEV_F16)
		for (size_t i = 0; i < n; i++)
			out[i] = dev_f32_to_f16(in[i]);
	else
		for (size_t i = 0; i < n; i++)
			out[i] = dev_f32_to_bf16(in[i]);
}

/* ABI v2 byte offsets: read only when the host's struct has them (it always does from a v2 host). */
#define V2_OFF(args, type, field) \
	((args)->struct_size >= offsetof(type, field) + sizeof(uint64_t) ? (args)->field : 0)

static int cpu_gemm(void *ctx, uint32_t dev, const struct aidc_dev_gemm *g)
{
	struct cpu_ctx *c = ctx;
	size_t es = dsize(g->dtype);
	if (!es)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "gemm: dtype %d", (int)g->dtype);
	uint64_t ao = V2_OFF(g, struct aidc_dev_gemm, a_off), bo = V2_OFF(g, struct aidc_dev_gemm, b_off),
		 co = V2_OFF(g, struct aidc_dev_gemm, c_off);
	uint64_t ar = g->trans_a ? g->k : g->m, ac = g->trans_a ? g->m : g->k;
	uint64_t br = g->trans_b ? g->n : g->k, bc = g->trans_b ? g->k : g->n;
	if (!g->m || !g->n || !g->k || g->lda < ac || g->ldb < bc || g->ldc < g->n ||
	    g->m > INT32_MAX || g->n > INT32_MAX || g->k > INT32_MAX || (ao | bo | co) % es ||
	    !in_range(g->a, ao, (ar - 1) * g->lda * es + ac * es) ||
	    !in_range(g->b, bo, (br - 1) * g->ldb * es + bc * es) ||
	    !in_range(g->c, co, (g->m - 1) * g->ldc * es + g->n * es))
		return fail(c, AIDC_DEV_ERR_INVALID, "gemm: shape does not fit the buffers");
	const char *A = (const char *)g->a->data + ao, *B = (const char *)g->b->data + bo;
	char *C = (char *)g->c->data + co;
	enum CBLAS_TRANSPOSE ta = g->trans_a ? CblasTrans : CblasNoTrans;
	enum CBLAS_TRANSPOSE tb = g->trans_b ? CblasTrans : CblasNoTrans;
	if (g->dtype == AIDC_DEV_F32) {
		cblas_sgemm(CblasRowMajor, ta, tb, (int)g->m, (int)g->n, (int)g->k, g->alpha,
			    (const float *)A, (int)g->lda, (const float *)B, (int)g->ldb, g->beta,
			    (float *)C, (int)g->ldc);
		return AIDC_DEV_OK;
	}
	if (g->dtype == AIDC_DEV_F64) {
		cblas_dgemm(CblasRowMajor, ta, tb, (int)g->m, (int)g->n, (int)g->k, g->alpha,
			    (const double *)A, (int)g->lda, (const double *)B, (int)g->ldb, g->beta,
			    (double *)C, (int)g->ldc);
		return AIDC_DEV_OK;
	}
	/* 16-bit storage: widen the (strided) operands, multiply in fp32, narrow the
	 * rows of C (elements between rows, past n, are left alone). */
	size_t na = (size_t)((ar - 1) * g->lda + ac), nb = (size_t)((br - 1) * g->ldb + bc);
	size_t nc = (size_t)((g->m - 1) * g->ldc + g->n);
	float *s = scratch(c, na + nb + nc);
	if (!s)
		return fail(c, AIDC_DEV_ERR_NOMEM, "gemm: scratch");
	widen(g->dtype, (const uint16_t *)A, s, na);
	widen(g->dtype, (const uint16_t *)B, s + na, nb);
	if (g->beta != 0)
		widen(g->dtype, (const uint16_t *)C, s + na + nb, nc);
	cblas_sgemm(CblasRowMajor, ta, tb, (int)g->m, (int)g->n, (int)g->k, g->alpha, s,
		    (int)g->lda, s + na, (int)g->ldb, g->beta, s + na + nb, (int)g->ldc);
	for (uint64_t i = 0; i < g->m; i++)
		narrow(g->dtype, s + na + nb + i * g->ldc, (uint16_t *)C + i * g->ldc,
		       (size_t)g->n);
	return AIDC_DEV_OK;
}

static void im2col(const float *x, uint32_t C, uint32_t H, uint32_t W, const struct aidc_dev_conv2d *a,
		   uint32_t P, uint32_t Q, float *col)
{
	size_t row = 0;
	for (uint32_t ch = 0; ch < C; ch++)
		for (uint32_t r = 0; r < a->r; r++)
			for (uint32_t s = 0; s < a->s; s++, row++) {
				float *dst = col + row * (size_t)P * Q;
				for (uint32_t p = 0; p < P; p++) {
					long ih = (long)p * a->stride_h - a->pad_h + (long)r * a->dil_h;
					for (uint32_t q = 0; q < Q; q++) {
						long iw = (long)q * a->stride_w - a->pad_w + (long)s * a->dil_w;
						dst[(size_t)p * Q + q] =
							ih < 0 || ih >= H || iw < 0 || iw >= W
								? 0.0f
								: x[((size_t)ch * H + ih) * W + iw];
					}
				}
			}
}

/* 16-bit operands: fp32 copies in c->wide (n[i] elements each); out[i] gets each. */
static int widen_all(struct cpu_ctx *c, enum aidc_dev_dtype t, int k, const void *const *in,
		     const size_t *n, float **out)
{
	size_t total = 0;
	for (int i = 0; i < k; i++)
		total += n[i];
	float *w = wide_buf(c, total);
	if (!w)
		return fail(c, AIDC_DEV_ERR_NOMEM, "out of memory for fp32 copies");
	for (int i = 0; i < k; i++) {
		out[i] = w;
		if (in[i])
			widen(t, in[i], w, n[i]);
		w += n[i];
	}
	return AIDC_DEV_OK;
}

static int cpu_conv2d(void *ctx, uint32_t dev, const struct aidc_dev_conv2d *a)
{
	struct cpu_ctx *c = ctx;
	size_t es = dsize(a->dtype);
	if (!es || a->dtype == AIDC_DEV_F64)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "conv2d: f32, f16 and bf16 only");
	if (!a->n || !a->c || !a->k || !a->r || !a->s || !a->stride_h || !a->stride_w || !a->dil_h ||
	    !a->dil_w)
		return fail(c, AIDC_DEV_ERR_INVALID, "conv2d: zero dimension");
	long eh = (long)a->h + 2L * a->pad_h - (long)a->dil_h * (a->r - 1) - 1;
	long ew = (long)a->w + 2L * a->pad_w - (long)a->dil_w * (a->s - 1) - 1;
	if (eh < 0 || ew < 0)
		return fail(c, AIDC_DEV_ERR_INVALID, "conv2d: filter larger than the input");
	uint32_t P = (uint32_t)(eh / a->stride_h + 1), Q = (uint32_t)(ew / a->stride_w + 1);
	size_t crs = (size_t)a->c * a->r * a->s, pq = (size_t)P * Q, hw = (size_t)a->h * a->w;
	size_t nx = (size_t)a->n * a->c * hw, nw = (size_t)a->k * crs, ny = (size_t)a->n * a->k * pq;
	if (!in_range(a->x, 0, nx * es) || !in_range(a->wt, 0, nw * es) || !in_range(a->y, 0, ny * es))
		return fail(c, AIDC_DEV_ERR_INVALID, "conv2d: shape does not fit the buffers");
	bool direct = a->r == 1 && a->s == 1 && a->stride_h == 1 && a->stride_w == 1 && !a->pad_h && !a->pad_w;
	float *col = direct ? NULL : scratch(c, crs * pq);
	if (!direct && !col)
		return fail(c, AIDC_DEV_ERR_NOMEM, "conv2d: scratch");
	const float *x = a->x->data, *w = a->wt->data;
	float *y = a->y->data;
	if (a->dtype != AIDC_DEV_F32) {
		const void *in[3] = {a->x->data, a->wt->data, NULL};
		size_t n[3] = {nx, nw, ny};
		float *o[3];
		int st = widen_all(c, a->dtype, 3, in, n, o);
		if (st)
			return st;
		x = o[0], w = o[1], y = o[2];
	}
	for (uint32_t i = 0; i < a->n; i++) {
		const float *xi = x + (size_t)i * a->c * hw;
		if (!direct)
			im2col(xi, a->c, a->h, a->w, a, P, Q, col);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)a->k, (int)pq, (int)crs, 1.0f,
			    w, (int)crs, direct ? xi : col, (int)pq, 0.0f, y + (size_t)i * a->k * pq, (int)pq);
	}
	if (a->dtype != AIDC_DEV_F32)
		narrow(a->dtype, y, a->y->data, ny);
	return AIDC_DEV_OK;
}

static int cpu_attention(void *ctx, uint32_t dev, const struct aidc_dev_attention *a)
{
	struct cpu_ctx *c = ctx;
	size_t es = dsize(a->dtype);
	if (!es || a->dtype == AIDC_DEV_F64)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "attention: f32, f16 and bf16 only");
	size_t S = a->seq, D = a->head_dim, per = S * D, heads = (size_t)a->batch * a->heads;
	if (!S || !D || !heads)
		return fail(c, AIDC_DEV_ERR_INVALID, "attention: zero dimension");
	uint64_t bytes = (uint64_t)heads * per * es;
	if (!in_range(a->q, 0, bytes) || !in_range(a->k, 0, bytes) || !in_range(a->v, 0, bytes) ||
	    !in_range(a->o, 0, bytes))
		return fail(c, AIDC_DEV_ERR_INVALID, "attention: shape does not fit the buffers");
	float *sc = scratch(c, S * S);
	if (!sc)
		return fail(c, AIDC_DEV_ERR_NOMEM, "attention: scratch");
	const float *Q = a->q->data, *K = a->k->data, *V = a->v->data;
	float *O = a->o->data;
	if (a->dtype != AIDC_DEV_F32) {
		size_t n = heads * per;
		const void *in[4] = {a->q->data, a->k->data, a->v->data, NULL};
		size_t ns[4] = {n, n, n, n};
		float *o[4];
		int st = widen_all(c, a->dtype, 4, in, ns, o);
		if (st)
			return st;
		Q = o[0], K = o[1], V = o[2], O = o[3];
	}
	for (size_t h = 0; h < heads; h++) {
		const float *q = Q + h * per, *k = K + h * per, *v = V + h * per;
		float *o = O + h * per;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)S, (int)S, (int)D, a->scale, q,
			    (int)D, k, (int)D, 0.0f, sc, (int)S);
		for (size_t i = 0; i < S; i++) {
			float *row = sc + i * S;
			size_t len = a->causal ? i + 1 : S;
			float mx = row[0];
			for (size_t j = 1; j < len; j++)
				mx = row[j] > mx ? row[j] : mx;
			float sum = 0;
			for (size_t j = 0; j < len; j++) {
				row[j] = expf(row[j] - mx);
				sum += row[j];
			}
			float inv = 1.0f / sum;
			for (size_t j = 0; j < len; j++)
				row[j] *= inv;
			for (size_t j = len; j < S; j++)
				row[j] = 0.0f;
		}
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)S, (int)D, (int)S, 1.0f, sc,
			    (int)S, v, (int)D, 0.0f, o, (int)D);
	}
	if (a->dtype != AIDC_DEV_F32)
		narrow(a->dtype, O, a->o->data, heads * per);
	return AIDC_DEV_OK;
}

static int elt_f32(enum aidc_dev_eltwise_op op, float al, const float *x, const float *y, float *z,
		   size_t n)
{
	switch (op) {
	case AIDC_DEV_ELT_ADD:
		for (size_t i = 0; i < n; i++)
			z[i] = x[i] + y[i];
		break;
	case AIDC_DEV_ELT_MUL:
		for (size_t i = 0; i < n; i++)
			z[i] = x[i] * y[i];
		break;
	case AIDC_DEV_ELT_AXPY:
		for (size_t i = 0; i < n; i++)
			z[i] = al * x[i] + y[i];
		break;
	case AIDC_DEV_ELT_RELU:
		for (size_t i = 0; i < n; i++)
			z[i] = x[i] > 0 ? x[i] : 0.0f;
		break;
	case AIDC_DEV_ELT_GELU:
		for (size_t i = 0; i < n; i++)
			z[i] = 0.5f * x[i] * (1.0f + tanhf(0.7978845608f * (x[i] + 0.044715f * x[i] * x[i] * x[i])));
		break;
	default:
		return AIDC_DEV_ERR_UNSUPPORTED;
	}
	return AIDC_DEV_OK;
}

static int cpu_eltwise(void *ctx, uint32_t dev, const struct aidc_dev_eltwise *a)
{
	struct cpu_ctx *c = ctx;
	size_t es = dsize(a->dtype);
	if (!es || a->dtype == AIDC_DEV_F64)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "eltwise: f32, f16 and bf16 only");
	if ((unsigned)a->op > AIDC_DEV_ELT_GELU)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "eltwise: op %d", (int)a->op);
	bool unary = a->op == AIDC_DEV_ELT_RELU || a->op == AIDC_DEV_ELT_GELU;
	uint64_t xo = V2_OFF(a, struct aidc_dev_eltwise, x_off),
		 yo = unary ? 0 : V2_OFF(a, struct aidc_dev_eltwise, y_off),
		 zo = V2_OFF(a, struct aidc_dev_eltwise, z_off);
	uint64_t bytes = a->n * es;
	if ((xo | yo | zo) % es || !in_range(a->x, xo, bytes) || !in_range(a->z, zo, bytes) ||
	    (!unary && !in_range(a->y, yo, bytes)))
		return fail(c, AIDC_DEV_ERR_INVALID, "eltwise: shape does not fit the buffers");
	const char *x = (const char *)a->x->data + xo;
	const char *y = unary ? NULL : (const char *)a->y->data + yo;
	char *z = (char *)a->z->data + zo;
	size_t n = (size_t)a->n;
	if (a->dtype == AIDC_DEV_F32)
		return elt_f32(a->op, a->alpha, (const float *)x, (const float *)y, (float *)z, n);
	const void *in[3] = {x, y, NULL};
	size_t ns[3] = {n, unary ? 0 : n, n};
	float *o[3];
	int st = widen_all(c, a->dtype, 3, in, ns, o);
	if (st)
		return st;
	elt_f32(a->op, a->alpha, o[0], o[1], o[2], n);
	narrow(a->dtype, o[2], (uint16_t *)z, n);
	return AIDC_DEV_OK;
}

static void reduce_f32(enum aidc_dev_reduce_op op, const float *x, float *y, size_t rows,
		       size_t cols)
{
	for (size_t i = 0; i < rows; i++) {
		const float *r = x + i * cols;
		if (op == AIDC_DEV_RED_SUM) {
			/* 8 partial sums: vectorizable and more accurate than one chain */
			float p[8] = {0};
			size_t j = 0;
			for (; j + 8 <= cols; j += 8)
				for (int t = 0; t < 8; t++)
					p[t] += r[j + t];
			for (; j < cols; j++)
				p[0] += r[j];
			y[i] = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
		} else {
			float m = r[0];
			for (size_t j = 1; j < cols; j++)
				m = r[j] > m ? r[j] : m;
			y[i] = m;
		}
	}
}

static int cpu_reduce(void *ctx, uint32_t dev, const struct aidc_dev_reduce *a)
{
	struct cpu_ctx *c = ctx;
	size_t es = dsize(a->dtype);
	if (!es || a->dtype == AIDC_DEV_F64)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "reduce: f32, f16 and bf16 only");
	if (a->op != AIDC_DEV_RED_SUM && a->op != AIDC_DEV_RED_MAX)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "reduce: op %d", (int)a->op);
	uint64_t xo = V2_OFF(a, struct aidc_dev_reduce, x_off),
		 yo = V2_OFF(a, struct aidc_dev_reduce, y_off);
	if (!a->rows || !a->cols || (xo | yo) % es ||
	    !in_range(a->x, xo, a->rows * a->cols * es) || !in_range(a->y, yo, a->rows * es))
		return fail(c, AIDC_DEV_ERR_INVALID, "reduce: shape does not fit the buffers");
	const char *x = (const char *)a->x->data + xo;
	char *y = (char *)a->y->data + yo;
	size_t rows = (size_t)a->rows, cols = (size_t)a->cols;
	if (a->dtype == AIDC_DEV_F32) {
		reduce_f32(a->op, (const float *)x, (float *)y, rows, cols);
		return AIDC_DEV_OK;
	}
	const void *in[2] = {x, NULL};
	size_t ns[2] = {rows * cols, rows};
	float *o[2];
	int st = widen_all(c, a->dtype, 2, in, ns, o);
	if (st)
		return st;
	reduce_f32(a->op, o[0], o[1], rows, cols);
	narrow(a->dtype, o[1], (uint16_t *)y, rows);
	return AIDC_DEV_OK;
}

/* "Pinned" host memory: the CPU device copies with memcpy, so page-aligned memory is all it takes. */
static int cpu_host_alloc(void *ctx, uint32_t dev, uint64_t bytes, void **out)
{
	struct cpu_ctx *c = ctx;
	if (dev >= c->ndev || bytes == 0)
		return fail(c, AIDC_DEV_ERR_INVALID, "host_alloc: device %u, %llu bytes", dev,
			    (unsigned long long)bytes);
	void *p = NULL;
	if (posix_memalign(&p, 4096, (size_t)bytes) != 0)
		return fail(c, AIDC_DEV_ERR_NOMEM, "host_alloc: %llu bytes", (unsigned long long)bytes);
	*out = p;
	return AIDC_DEV_OK;
}

static int cpu_host_free(void *ctx, uint32_t dev, void *p)
{
	free(p);
	return AIDC_DEV_OK;
}

static int cpu_allreduce(void *ctx, const struct aidc_dev_allreduce *a)
{
	struct cpu_ctx *c = ctx;
	if (a->dtype != AIDC_DEV_F32)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED, "allreduce: only f32");
	for (uint32_t d = 0; d < a->ndev; d++)
		if (!in_range(a->bufs[d], 0, a->n * 4))
			return fail(c, AIDC_DEV_ERR_INVALID, "allreduce: buffer %u too small", d);
	float *acc = a->bufs[0]->data;
	for (uint32_t d = 1; d < a->ndev; d++) {
		const float *x = a->bufs[d]->data;
		for (size_t i = 0; i < a->n; i++)
			acc[i] += x[i];
	}
	for (uint32_t d = 1; d < a->ndev; d++)
		memcpy(a->bufs[d]->data, acc, (size_t)a->n * 4);
	return AIDC_DEV_OK;
}

static const struct aidc_device_plugin cpu_plugin = {
	.abi_version = AIDC_DEVICE_ABI_VERSION,
	.struct_size = sizeof(struct aidc_device_plugin),
	.name = "cpu",
	.version = "1.0",
	.init = cpu_init,
	.fini = cpu_fini,
	.last_error = cpu_last_error,
	.device_count = cpu_device_count,
	.device_info = cpu_device_info,
	.links = cpu_links,
	.mem_alloc = cpu_mem_alloc,
	.mem_free = cpu_mem_free,
	.copy_h2d = cpu_copy_h2d,
	.copy_d2h = cpu_copy_d2h,
	.copy_d2d = cpu_copy_d2d,
	.synchronize = cpu_sync,
	.gemm = cpu_gemm,
	.conv2d = cpu_conv2d,
	.attention = cpu_attention,
	.eltwise = cpu_eltwise,
	.reduce = cpu_reduce,
	.copy_peer = cpu_copy_peer,
	.allreduce = cpu_allreduce,
	.host_alloc = cpu_host_alloc,
	.host_free = cpu_host_free,
};

const struct aidc_device_plugin *aidc_device_plugin_entry(uint32_t host_abi)
{
	return host_abi == AIDC_DEVICE_ABI_VERSION ? &cpu_plugin : NULL;
}
