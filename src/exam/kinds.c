/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-kind setup of exam questions: buffers, the operation's arguments, the
 * work per call (flops or bytes), and the fp64 references with their error
 * bounds (docs/exam.md, "Correctness"). References are computed only for the
 * probed output elements, so checking a 2048^3 GEMM costs a few million
 * fp64 operations rather than seventeen billion.
 */
#include <math.h>

#include "exam/exam_int.h"
#include "util/util.h"

/* Probed elements for outputs that cost O(k) each to recompute, and cheap ones. */
#define PROBES_DOT 4096u
#define PROBES_CHEAP 65536u
#define PROBE_ROWS_ATTN 48u

static struct exam_probe mkprobe(uint64_t idx, double ref, double bound)
{
	return (struct exam_probe){idx, ref, bound, 0};
}

/* A(i, l) and B(l, c) of the GEMM question, whatever the transposes and row strides. */
static double gemm_a(const struct exam_job *j, size_t i, size_t l)
{
	size_t lda = (size_t)j->args.g.lda;
	return j->q->p[3] ? j->val[0][l * lda + i] : j->val[0][i * lda + l];
}

static double gemm_b(const struct exam_job *j, size_t l, size_t c)
{
	size_t ldb = (size_t)j->args.g.ldb;
	return j->q->p[4] ? j->val[1][c * ldb + l] : j->val[1][l * ldb + c];
}

/* beta C0(i, c): what C's starting value adds (0 without beta). */
static double gemm_base(const struct exam_job *j, size_t i, size_t c)
{
	return j->args.g.beta != 0 ? (double)j->args.g.beta * j->val[2][i * j->args.g.ldc + c] : 0;
}

static struct exam_probe gemm_probe(const struct exam_job *j, size_t i, size_t c)
{
	size_t k = j->q->p[2];
	double acc, out, s = 0, sa = 0;
	exam_tol(j->q->dtype, &acc, &out);
	for (size_t l = 0; l < k; l++) {
		double ab = gemm_a(j, i, l) * gemm_b(j, l, c);
		s += ab;
		sa += fabs(ab);
	}
	double base = gemm_base(j, i, c);
	return (struct exam_probe){i * j->args.g.ldc + c, s,
				   acc * sa + out * (fabs(s) + fabs(base)) + exam_abs_floor(j->q->dtype),
				   base};
}

/*
 * Freivalds: C x = A (B x) for a random x, in fp64, costs O(mk + kn + mn)
 * instead of O(mnk) and sees every output element. The bound is the
 * per-element bound summed along the row (acc * |A| (|B| |x|)); the output
 * part is added at check time from |C| |x|. With beta, beta C0 x is added.
 */
static void gemm_projection(struct exam_job *j)
{
	size_t m = j->q->p[0], n = j->q->p[1], k = j->q->p[2];
	double acc, out;
	exam_tol(j->q->dtype, &acc, &out);
	j->px = aidc_malloc(n * sizeof *j->px);
	j->pz = aidc_calloc(m, sizeof *j->pz);
	j->pzb = aidc_calloc(m, sizeof *j->pzb);
	double *bx = aidc_calloc(k, sizeof *bx), *bxa = aidc_calloc(k, sizeof *bxa);
	for (size_t c = 0; c < n; c++)
		j->px[c] = 2.0 * aidc_rng_unit(&j->rng) - 1.0;
	for (size_t l = 0; l < k; l++)
		for (size_t c = 0; c < n; c++) {
			double b = gemm_b(j, l, c);
			bx[l] += b * j->px[c];
			bxa[l] += fabs(b * j->px[c]);
		}
	for (size_t i = 0; i < m; i++)
		for (size_t l = 0; l < k; l++) {
			double a = gemm_a(j, i, l);
			j->pz[i] += a * bx[l];
			j->pzb[i] += acc * fabs(a) * bxa[l];
		}
	if (j->args.g.beta != 0) {
		j->pzbase = aidc_calloc(m, sizeof *j->pzbase);
		for (size_t i = 0; i < m; i++)
			for (size_t c = 0; c < n; c++)
				j->pzbase[i] += gemm_base(j, i, c) * j->px[c];
	}
	aidc_free(bx);
	aidc_free(bxa);
	j->prows = m;
	j->pcols = n;
	j->pinner = 1;
	j->pld = (size_t)j->args.g.ldc;
}

static int setup_gemm(struct exam_job *j, struct aidc_err *e)
{
	const struct exam_question *q = j->q;
	uint64_t m = q->p[0], n = q->p[1], k = q->p[2];
	bool ta = q->p[3], tb = q->p[4];
	bool beta = q->p[5] & EXAM_GEMM_BETA, pad = q->p[5] & EXAM_GEMM_PADDED;
	uint64_t lda = (ta ? m : k) + (pad ? 8 : 0), ldb = (tb ? k : n) + (pad ? 16 : 0);
	uint64_t ldc = n + (pad ? 24 : 0);
	int rc = exam_job_input(j, 0, q->dtype, (size_t)((ta ? k : m) * lda), e);
	if (!rc)
		rc = exam_job_input(j, 1, q->dtype, (size_t)((tb ? n : k) * ldb), e);
	/* C starts from random values when they matter: beta, or padding to leave alone */
	if (!rc && (beta || pad))
		rc = exam_job_input(j, 2, q->dtype, (size_t)(m * ldc), e);
	else if (!rc)
		rc = exam_job_alloc(j, 2, j->dev, m * n * dev_dtype_size(q->dtype), e);
	if (rc)
		return rc;
	struct aidc_dev_gemm *g = &j->args.g;
	*g = (struct aidc_dev_gemm){.struct_size = sizeof *g, .dtype = q->dtype,
				    .trans_a = ta ? AIDC_DEV_TRANS : AIDC_DEV_NOTRANS,
				    .trans_b = tb ? AIDC_DEV_TRANS : AIDC_DEV_NOTRANS,
				    .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb,
				    .ldc = ldc, .alpha = 1.0f, .beta = beta ? 0.5f : 0.0f, .a = j->buf[0],
				    .b = j->buf[1], .c = j->buf[2]};
	j->out_buf = 2;
	j->out_type = q->dtype;
	j->work = 2.0 * (double)m * (double)n * (double)k;
	j->alternate = true;
	j->reset_c = beta;
	size_t nout = (size_t)(m * n), np = nout < PROBES_DOT ? nout : PROBES_DOT;
	struct exam_probe *pr = exam_job_probes(j, np);
	for (size_t t = 0; t < np; t++) {
		size_t idx = exam_pick(j, nout, PROBES_DOT, t);
		pr[t] = gemm_probe(j, idx / n, idx % n);
	}
	/* Edges (first and last row and column, so every corner) are always checked. */
	if (nout > PROBES_DOT) {
		pr = exam_job_more_probes(j, 2 * (m + n));
		for (size_t c = 0; c < n; c++) {
			*pr++ = gemm_probe(j, 0, c);
			*pr++ = gemm_probe(j, m - 1, c);
		}
		for (size_t i = 0; i < m; i++) {
			*pr++ = gemm_probe(j, i, 0);
			*pr++ = gemm_probe(j, i, n - 1);
		}
	}
	gemm_projection(j);
	return 0;
}

struct conv_dims {
	size_t N, C, H, W, K, R, S, st, pad, P, Q;
};

static struct conv_dims conv_dims(const struct exam_job *j)
{
	const uint32_t *p = j->q->p;
	struct conv_dims d = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], 0, 0};
	d.P = (d.H + 2 * d.pad - d.R) / d.st + 1;
	d.Q = (d.W + 2 * d.pad - d.S) / d.st + 1;
	return d;
}

/*
 * sum over (c, r, s) of x(n, c, in-window) * w(c, r, s) for output pixel
 * (pp, q) of image nn; sa gets the sum of |products|. w is [C][R][S].
 */
static double conv_dot(const struct exam_job *j, const struct conv_dims *d, size_t nn, size_t pp,
		       size_t q, const double *w, const double *wa, double *sa)
{
	const float *x = j->val[0];
	double s = 0;
	*sa = 0;
	for (size_t c = 0; c < d->C; c++)
		for (size_t r = 0; r < d->R; r++) {
			long ih = (long)(pp * d->st + r) - (long)d->pad;
			if (ih < 0 || ih >= (long)d->H)
				continue;
			for (size_t ss = 0; ss < d->S; ss++) {
				long iw = (long)(q * d->st + ss) - (long)d->pad;
				if (iw < 0 || iw >= (long)d->W)
					continue;
				double a = x[((nn * d->C + c) * d->H + (size_t)ih) * d->W + (size_t)iw];
				size_t wi = (c * d->R + r) * d->S + ss;
				s += a * w[wi];
				*sa += fabs(a) * wa[wi];
			}
		}
	return s;
}

static struct exam_probe conv_probe(const struct exam_job *j, size_t idx)
{
	struct conv_dims d = conv_dims(j);
	size_t q = idx % d.Q, pp = idx / d.Q % d.P, kk = idx / (d.P * d.Q) % d.K,
	       nn = idx / (d.P * d.Q * d.K), nw = d.C * d.R * d.S;
	double *w = aidc_malloc(nw * sizeof *w), *wa = aidc_malloc(nw * sizeof *wa);
	for (size_t i = 0; i < nw; i++) {
		w[i] = j->val[1][kk * nw + i];
		wa[i] = fabs(w[i]);
	}
	double acc, out, sa;
	exam_tol(j->q->dtype, &acc, &out);
	double s = conv_dot(j, &d, nn, pp, q, w, wa, &sa);
	aidc_free(w);
	aidc_free(wa);
	return mkprobe(idx, s, acc * sa + out * fabs(s) + exam_abs_floor(j->q->dtype));
}

/*
 * The whole-output check for convolution: output channels weighted by a
 * random x and summed are one convolution with the weights summed the same
 * way, which costs 1/K of the question.
 */
static void conv_projection(struct exam_job *j)
{
	struct conv_dims d = conv_dims(j);
	size_t nw = d.C * d.R * d.S, rows = d.N * d.P * d.Q;
	double acc, out;
	exam_tol(j->q->dtype, &acc, &out);
	j->px = aidc_malloc(d.K * sizeof *j->px);
	j->pz = aidc_calloc(rows, sizeof *j->pz);
	j->pzb = aidc_calloc(rows, sizeof *j->pzb);
	double *w = aidc_calloc(nw, sizeof *w), *wa = aidc_calloc(nw, sizeof *wa);
	for (size_t k = 0; k < d.K; k++) {
		j->px[k] = 2.0 * aidc_rng_unit(&j->rng) - 1.0;
		for (size_t i = 0; i < nw; i++) {
			w[i] += j->px[k] * j->val[1][k * nw + i];
			wa[i] += fabs(j->px[k] * j->val[1][k * nw + i]);
		}
	}
	for (size_t r = 0; r < rows; r++) {
		double sa;
		size_t pq = r % (d.P * d.Q);
		j->pz[r] = conv_dot(j, &d, r / (d.P * d.Q), pq / d.Q, pq % d.Q, w, wa, &sa);
		j->pzb[r] = acc * sa;
	}
	aidc_free(w);
	aidc_free(wa);
	j->prows = rows;
	j->pcols = d.K;
	j->pinner = d.P * d.Q;
}

static int setup_conv(struct exam_job *j, struct aidc_err *e)
{
	const uint32_t *p = j->q->p;
	uint32_t N = p[0], C = p[1], H = p[2], W = p[3], K = p[4], R = p[5], S = p[6];
	uint32_t st = p[7], pad = p[8];
	uint32_t P = (H + 2 * pad - R) / st + 1, Q = (W + 2 * pad - S) / st + 1;
	enum aidc_dev_dtype t = j->q->dtype;
	int rc = exam_job_input(j, 0, t, (size_t)N * C * H * W, e);
	if (!rc)
		rc = exam_job_input(j, 1, t, (size_t)K * C * R * S, e);
	if (!rc)
		rc = exam_job_alloc(j, 2, j->dev, (uint64_t)N * K * P * Q * dev_dtype_size(t), e);
	if (rc)
		return rc;
	j->args.c = (struct aidc_dev_conv2d){.struct_size = sizeof j->args.c, .dtype = t,
					     .n = N, .c = C, .h = H, .w = W, .k = K, .r = R, .s = S,
					     .stride_h = st, .stride_w = st, .pad_h = pad, .pad_w = pad,
					     .dil_h = 1, .dil_w = 1, .x = j->buf[0], .wt = j->buf[1],
					     .y = j->buf[2]};
	j->out_buf = 2;
	j->out_type = t;
	j->work = 2.0 * N * K * P * Q * (double)C * R * S;
	size_t nout = (size_t)N * K * P * Q, np = nout < PROBES_DOT ? nout : PROBES_DOT;
	struct exam_probe *pr = exam_job_probes(j, np);
	for (size_t k = 0; k < np; k++)
		pr[k] = conv_probe(j, exam_pick(j, nout, PROBES_DOT, k));
	/* The four spatial corners of the first and the last output plane. */
	size_t plane = (size_t)P * Q, corner[4] = {0, Q - 1, plane - Q, plane - 1};
	pr = exam_job_more_probes(j, 8);
	for (int c = 0; c < 4; c++) {
		*pr++ = conv_probe(j, corner[c]);
		*pr++ = conv_probe(j, nout - plane + corner[c]);
	}
	conv_projection(j);
	return 0;
}

/* fp64 attention for one query row; writes probes for its head_dim outputs. */
static void attn_row(struct exam_job *j, size_t bh, size_t i, double *sc, struct exam_probe *pr)
{
	const uint32_t *p = j->q->p;
	size_t S = p[2], D = p[3], len = p[4] ? i + 1 : S;
	const float *q = j->val[0] + (bh * S + i) * D;
	const float *k = j->val[1] + bh * S * D, *v = j->val[2] + bh * S * D;
	double scale = 1.0 / sqrt((double)D), mx = -INFINITY, maxabs = 0;
	for (size_t c = 0; c < len; c++) {
		double s = 0;
		for (size_t d = 0; d < D; d++)
			s += (double)q[d] * k[c * D + d];
		sc[c] = s * scale;
		mx = sc[c] > mx ? sc[c] : mx;
		maxabs = fabs(sc[c]) > maxabs ? fabs(sc[c]) : maxabs;
	}
	double sum = 0;
	for (size_t c = 0; c < len; c++)
		sum += (sc[c] = exp(sc[c] - mx));
	for (size_t d = 0; d < D; d++) {
		double o = 0, oa = 0;
		for (size_t c = 0; c < len; c++) {
			o += sc[c] / sum * v[c * D + d];
			oa += sc[c] / sum * fabs(v[c * D + d]);
		}
		/* 1e-4 (fp32; 16-bit: 2e-3, 8e-3) x sum p|v| x (1 + max|score|), plus the
		 * output's rounding; see docs/exam.md */
		double acc, out;
		exam_tol(j->q->dtype, &acc, &out);
		double a = j->q->dtype == AIDC_DEV_F32 ? 1e-4 : j->q->dtype == AIDC_DEV_F16 ? 2e-3 : 8e-3;
		pr[d] = mkprobe((bh * S + i) * D + d, o,
					    a * oa * (1 + maxabs) + out * fabs(o) +
						    exam_abs_floor(j->q->dtype));
	}
}

/*
 * The whole-output check for attention: every output row is a convex
 * combination of the value rows it sees (softmax weights are >= 0 and sum to
 * 1), so for a random x, O[i] . x lies between the smallest and the largest
 * V[j] . x over the keys j row i sees. O(S D) per head, every row checked.
 */
static void attn_hull(struct exam_job *j)
{
	const uint32_t *p = j->q->p;
	size_t S = p[2], D = p[3], heads = (size_t)p[0] * p[1], rows = heads * S;
	j->hx = aidc_malloc(D * sizeof *j->hx);
	j->hlo = aidc_malloc(rows * sizeof *j->hlo);
	j->hhi = aidc_malloc(rows * sizeof *j->hhi);
	j->hrows = rows;
	j->hdim = D;
	for (size_t d = 0; d < D; d++)
		j->hx[d] = 2.0 * aidc_rng_unit(&j->rng) - 1.0;
	double *u = aidc_malloc(S * sizeof *u);
	for (size_t h = 0; h < heads; h++) {
		const float *v = j->val[2] + h * S * D;
		double lo = INFINITY, hi = -INFINITY;
		for (size_t k = 0; k < S; k++) {
			u[k] = 0;
			for (size_t d = 0; d < D; d++)
				u[k] += (double)v[k * D + d] * j->hx[d];
		}
		if (!p[4])
			for (size_t k = 0; k < S; k++) {
				lo = u[k] < lo ? u[k] : lo;
				hi = u[k] > hi ? u[k] : hi;
			}
		for (size_t i = 0; i < S; i++) {
			if (p[4]) { /* causal: row i sees keys 0..i */
				lo = u[i] < lo ? u[i] : lo;
				hi = u[i] > hi ? u[i] : hi;
			}
			j->hlo[h * S + i] = lo;
			j->hhi[h * S + i] = hi;
		}
	}
	aidc_free(u);
}

static int setup_attn(struct exam_job *j, struct aidc_err *e)
{
	const uint32_t *p = j->q->p;
	size_t B = p[0], Hh = p[1], S = p[2], D = p[3], n = B * Hh * S * D;
	enum aidc_dev_dtype t = j->q->dtype;
	int rc = 0;
	for (int i = 0; i < 3 && !rc; i++)
		rc = exam_job_input(j, i, t, n, e);
	if (!rc)
		rc = exam_job_alloc(j, 3, j->dev, (uint64_t)n * dev_dtype_size(t), e);
	if (rc)
		return rc;
	j->args.a = (struct aidc_dev_attention){.struct_size = sizeof j->args.a,
						.dtype = t, .batch = p[0], .heads = p[1],
						.seq = p[2], .head_dim = p[3], .causal = p[4],
						.scale = (float)(1.0 / sqrt((double)D)),
						.q = j->buf[0], .k = j->buf[1], .v = j->buf[2],
						.o = j->buf[3]};
	j->out_buf = 3;
	j->out_type = t;
	j->work = 4.0 * (double)(B * Hh) * (double)S * (double)S * (double)D * (p[4] ? 0.5 : 1.0);
	size_t rows = B * Hh * S, nr = rows < PROBE_ROWS_ATTN ? rows : PROBE_ROWS_ATTN;
	/* Seeded rows plus the first and the last (every head_dim output of each). */
	struct exam_probe *pr = exam_job_probes(j, (nr + 2) * D);
	double *sc = aidc_malloc(S * sizeof *sc);
	for (size_t k = 0; k < nr + 2; k++) {
		size_t r = k == nr ? 0 : k == nr + 1 ? rows - 1 : (size_t)aidc_rng_below(&j->rng, rows);
		attn_row(j, r / S, r % S, sc, pr + k * D);
	}
	aidc_free(sc);
	attn_hull(j);
	return 0;
}

/* The elementwise op of a question: triad is axpy, gelu is gelu, elt says in p[1]. */
static enum aidc_dev_eltwise_op elt_op(const struct exam_question *q)
{
	return q->kind == EXAM_TRIAD ? AIDC_DEV_ELT_AXPY
	       : q->kind == EXAM_GELU ? AIDC_DEV_ELT_GELU
				      : (enum aidc_dev_eltwise_op)q->p[1];
}

static int setup_elt(struct exam_job *j, struct aidc_err *e)
{
	const struct exam_question *q = j->q;
	enum aidc_dev_dtype t = q->dtype;
	size_t es = dev_dtype_size(t), n = ((size_t)q->p[0] << 20) / es; /* MiB per vector */
	enum aidc_dev_eltwise_op op = elt_op(q);
	bool binary = op == AIDC_DEV_ELT_ADD || op == AIDC_DEV_ELT_MUL || op == AIDC_DEV_ELT_AXPY;
	int rc = exam_job_input(j, 0, t, n, e);
	if (!rc && binary)
		rc = exam_job_input(j, 1, t, n, e);
	if (!rc)
		rc = exam_job_alloc(j, 2, j->dev, (uint64_t)n * es, e);
	if (rc)
		return rc;
	j->args.el = (struct aidc_dev_eltwise){.struct_size = sizeof j->args.el, .dtype = t,
					       .op = op, .n = n, .alpha = 0.5f, .x = j->buf[0],
					       .y = binary ? j->buf[1] : NULL, .z = j->buf[2]};
	j->out_buf = 2;
	j->out_type = t;
	j->work = (binary ? 3.0 : 2.0) * (double)n * (double)es;
	double acc, out;
	exam_tol(t, &acc, &out);
	double floor = exam_abs_floor(t);
	size_t np = n < PROBES_CHEAP ? n : PROBES_CHEAP;
	struct exam_probe *pr = exam_job_probes(j, np);
	for (size_t k = 0; k < np; k++) {
		/* the first and the last element are always among the checked */
		size_t i = k == 0 ? 0 : k == 1 ? n - 1 : exam_pick(j, n, PROBES_CHEAP, k);
		double x = j->val[0][i], y = binary ? j->val[1][i] : 0, z;
		switch (op) {
		case AIDC_DEV_ELT_ADD:
			z = x + y;
			pr[k] = mkprobe(i, z, 1e-6 * (fabs(x) + fabs(y)) + out * fabs(z) + floor);
			break;
		case AIDC_DEV_ELT_MUL:
			z = x * y;
			pr[k] = mkprobe(i, z, 1e-6 * fabs(z) + out * fabs(z) + floor);
			break;
		case AIDC_DEV_ELT_AXPY:
			z = 0.5 * x + y;
			pr[k] = mkprobe(i, z, 1e-6 * (fabs(0.5 * x) + fabs(y)) + out * fabs(z) + floor);
			break;
		case AIDC_DEV_ELT_RELU:
			z = x > 0 ? x : 0;
			pr[k] = mkprobe(i, z, floor);
			break;
		default:
			z = 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
			pr[k] = mkprobe(i, z, 1e-5 * (1 + fabs(x)) + out * fabs(z) + floor);
			break;
		}
	}
	return 0;
}

/* Row reductions: p[2] is the op (0 sum, 1 max). */
static int setup_reduce(struct exam_job *j, struct aidc_err *e)
{
	size_t rows = j->q->p[0], cols = j->q->p[1];
	enum aidc_dev_dtype t = j->q->dtype;
	enum aidc_dev_reduce_op op = j->q->p[2] ? AIDC_DEV_RED_MAX : AIDC_DEV_RED_SUM;
	size_t es = dev_dtype_size(t);
	int rc = exam_job_input(j, 0, t, rows * cols, e);
	if (!rc)
		rc = exam_job_alloc(j, 1, j->dev, (uint64_t)rows * es, e);
	if (rc)
		return rc;
	j->args.r = (struct aidc_dev_reduce){.struct_size = sizeof j->args.r, .dtype = t,
					     .op = op, .rows = rows, .cols = cols,
					     .x = j->buf[0], .y = j->buf[1]};
	j->out_buf = 1;
	j->out_type = t;
	j->work = (double)rows * cols * es + (double)rows * es;
	double acc, out;
	exam_tol(t, &acc, &out);
	struct exam_probe *pr = exam_job_probes(j, rows);
	for (size_t i = 0; i < rows; i++) {
		const float *x = j->val[0] + i * cols;
		double s = 0, sa = 0, mx = -INFINITY;
		for (size_t c = 0; c < cols; c++) {
			s += x[c];
			sa += fabs(x[c]);
			mx = x[c] > mx ? x[c] : mx;
		}
		/* a max is one of the inputs: exact in every dtype */
		pr[i] = op == AIDC_DEV_RED_MAX
				? mkprobe(i, mx, 1e-30)
				: mkprobe(i, s, (t == AIDC_DEV_F32 ? 1e-5 : acc) * sa +
								    out * fabs(s) + exam_abs_floor(t));
	}
	return 0;
}

/* Copies: bit-exact. Buffer 0 holds the source, the answer lands in out_buf. */
static int setup_copy(struct exam_job *j, struct aidc_err *e)
{
	const struct exam_question *q = j->q;
	size_t n = (size_t)q->p[0] << 20;
	uint32_t dst_dev = j->dev;
	if (q->kind == EXAM_PEER) {
		if (j->p->ndev < 2)
			return aidc_errf(e, AIDC_E_UNSUPPORTED, "needs two devices, plugin has %u",
					 j->p->ndev);
		j->ncoll = 2;
		dst_dev = j->dev == 0 ? 1 : 0;
	}
	/* Host transfers use the plugin's pinned memory when it offers some (ABI v2). */
	struct aidc_err pe;
	aidc_err_clear(&pe);
	bool xfer = q->kind == EXAM_H2D || q->kind == EXAM_D2H;
	if (xfer && dev_host_alloc(j->p, j->dev, n, &j->host[0], &pe) == 0)
		j->pinned[0] = true;
	else
		j->host[0] = aidc_malloc(n);
	exam_job_random_bytes(j, j->host[0], n);
	j->expect = j->host[0];
	int rc = exam_job_alloc(j, 0, j->dev, n, e);
	if (!rc && q->kind != EXAM_H2D)
		rc = dev_copy_h2d(j->p, j->dev, j->buf[0], 0, j->host[0], n, e);
	if (!rc && (q->kind == EXAM_COPY || q->kind == EXAM_PEER))
		rc = exam_job_alloc(j, 1, dst_dev, n, e);
	if (rc)
		return rc;
	j->out_buf = q->kind == EXAM_COPY || q->kind == EXAM_PEER ? 1 : 0;
	if (q->kind == EXAM_D2H) {
		aidc_err_clear(&pe);
		if (dev_host_alloc(j->p, j->dev, n, &j->host[1], &pe) == 0) {
			j->pinned[1] = true;
			memset(j->host[1], 0, n);
		} else {
			j->host[1] = aidc_calloc(1, n);
		}
		j->host_out = j->host[1];
	}
	j->work = (q->kind == EXAM_COPY ? 2.0 : 1.0) * (double)n;
	return 0;
}

static int setup_allreduce(struct exam_job *j, struct aidc_err *e)
{
	uint32_t nd = j->p->ndev < EXAM_MAX_COLL_DEVICES ? j->p->ndev : EXAM_MAX_COLL_DEVICES;
	if (nd < 2)
		return aidc_errf(e, AIDC_E_UNSUPPORTED, "needs two devices, plugin has %u",
				 j->p->ndev);
	size_t n = (size_t)j->q->p[0] << 18;
	j->ncoll = nd;
	for (uint32_t d = 0; d < nd; d++) {
		uint32_t save = j->dev;
		j->dev = d;
		int rc = exam_job_input(j, (int)d, AIDC_DEV_F32, n, e);
		j->dev = save;
		if (rc)
			return rc;
		j->devs[d] = d;
		j->cbufs[d] = j->buf[d];
	}
	j->args.ar = (struct aidc_dev_allreduce){.struct_size = sizeof j->args.ar,
						 .dtype = AIDC_DEV_F32, .ndev = nd, .devs = j->devs,
						 .bufs = j->cbufs, .n = n};
	j->out_buf = (int)nd - 1;
	j->out_type = AIDC_DEV_F32;
	j->in_place = true;
	/* bus bandwidth, as nccl-tests: bytes * 2 (n - 1) / n */
	j->work = (double)n * 4 * 2.0 * (nd - 1) / nd;
	size_t np = n < PROBES_CHEAP ? n : PROBES_CHEAP;
	struct exam_probe *pr = exam_job_probes(j, np);
	for (size_t t = 0; t < np; t++) {
		size_t i = exam_pick(j, n, PROBES_CHEAP, t);
		double s = 0, sa = 0;
		for (uint32_t d = 0; d < nd; d++) {
			s += j->val[d][i];
			sa += fabs(j->val[d][i]);
		}
		pr[t] = mkprobe(i, s, 1e-5 * sa + 1e-30);
	}
	return 0;
}

int exam_setup(struct exam_job *j, struct aidc_err *e)
{
	switch (j->q->kind) {
	case EXAM_GEMM:
		return setup_gemm(j, e);
	case EXAM_CONV:
		return setup_conv(j, e);
	case EXAM_ATTN:
		return setup_attn(j, e);
	case EXAM_TRIAD:
	case EXAM_GELU:
	case EXAM_ELT:
		return setup_elt(j, e);
	case EXAM_REDUCE:
		return setup_reduce(j, e);
	case EXAM_COPY:
	case EXAM_H2D:
	case EXAM_D2H:
	case EXAM_PEER:
		return setup_copy(j, e);
	case EXAM_ALLREDUCE:
		return setup_allreduce(j, e);
	}
	return aidc_errf(e, AIDC_E_INTERNAL, "unknown question kind");
}

int exam_launch(struct exam_job *j, struct aidc_err *e)
{
	struct dev_plugin *p = j->p;
	switch (j->q->kind) {
	case EXAM_GEMM:
		return dev_gemm(p, j->dev, &j->args.g, e);
	case EXAM_CONV:
		return dev_conv2d(p, j->dev, &j->args.c, e);
	case EXAM_ATTN:
		return dev_attention(p, j->dev, &j->args.a, e);
	case EXAM_TRIAD:
	case EXAM_GELU:
	case EXAM_ELT:
		return dev_eltwise(p, j->dev, &j->args.el, e);
	case EXAM_REDUCE:
		return dev_reduce(p, j->dev, &j->args.r, e);
	case EXAM_COPY:
		return dev_copy_d2d(p, j->dev, j->buf[1], j->buf[0], j->bytes[0], e);
	case EXAM_H2D:
		return dev_copy_h2d(p, j->dev, j->buf[0], 0, j->host[0], j->bytes[0], e);
	case EXAM_D2H:
		return dev_copy_d2h(p, j->dev, j->host[1], j->buf[0], 0, j->bytes[0], e);
	case EXAM_PEER:
		return dev_copy_peer(p, j->buf_dev[1], j->buf[1], j->dev, j->buf[0], j->bytes[0], e);
	case EXAM_ALLREDUCE:
		return dev_allreduce(p, &j->args.ar, e);
	}
	return aidc_errf(e, AIDC_E_INTERNAL, "unknown question kind");
}

int exam_before_timing(struct exam_job *j, struct aidc_err *e)
{
	if (j->q->kind != EXAM_ALLREDUCE)
		return 0;
	/* Sums of zeros stay zero, so repeated in-place runs neither overflow nor denormalize. */
	size_t n = (size_t)j->bytes[0];
	void *z = aidc_calloc(1, n);
	int rc = 0;
	for (uint32_t d = 0; d < j->ncoll && !rc; d++)
		rc = dev_copy_h2d(j->p, d, j->buf[d], 0, z, n, e);
	aidc_free(z);
	return rc;
}
