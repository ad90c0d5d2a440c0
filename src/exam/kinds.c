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

/* A(i, l) and B(l, c) of the GEMM question, whatever the transposes. */
static double gemm_a(const struct exam_job *j, size_t i, size_t l)
{
	const uint32_t *p = j->q->p;
	return p[3] ? j->val[0][l * p[0] + i] : j->val[0][i * p[2] + l];
}

static double gemm_b(const struct exam_job *j, size_t l, size_t c)
{
	const uint32_t *p = j->q->p;
	return p[4] ? j->val[1][c * p[2] + l] : j->val[1][l * p[1] + c];
}

static struct exam_probe gemm_probe(const struct exam_job *j, size_t idx)
{
	size_t n = j->q->p[1], k = j->q->p[2], i = idx / n, c = idx % n;
	double acc, out, s = 0, sa = 0;
	exam_tol(j->q->dtype, &acc, &out);
	for (size_t l = 0; l < k; l++) {
		double ab = gemm_a(j, i, l) * gemm_b(j, l, c);
		s += ab;
		sa += fabs(ab);
	}
	return (struct exam_probe){idx, s, acc * sa + out * fabs(s) + 1e-30};
}

/*
 * Freivalds: C x = A (B x) for a random x, in fp64, costs O(mk + kn + mn)
 * instead of O(mnk) and sees every output element. The bound is the
 * per-element bound summed along the row (acc * |A| (|B| |x|)); the output
 * part is added at check time from |C| |x|.
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
	aidc_free(bx);
	aidc_free(bxa);
	j->prows = m;
	j->pcols = n;
	j->pinner = 1;
}

static int setup_gemm(struct exam_job *j, struct aidc_err *e)
{
	const struct exam_question *q = j->q;
	uint64_t m = q->p[0], n = q->p[1], k = q->p[2];
	bool ta = q->p[3], tb = q->p[4];
	int rc = exam_job_input(j, 0, q->dtype, (size_t)(m * k), e);
	if (!rc)
		rc = exam_job_input(j, 1, q->dtype, (size_t)(k * n), e);
	if (!rc)
		rc = exam_job_alloc(j, 2, j->dev, m * n * dev_dtype_size(q->dtype), e);
	if (rc)
		return rc;
	struct aidc_dev_gemm *g = &j->args.g;
	*g = (struct aidc_dev_gemm){.struct_size = sizeof *g, .dtype = q->dtype,
				    .trans_a = ta ? AIDC_DEV_TRANS : AIDC_DEV_NOTRANS,
				    .trans_b = tb ? AIDC_DEV_TRANS : AIDC_DEV_NOTRANS,
				    .m = m, .n = n, .k = k, .lda = ta ? m : k, .ldb = tb ? k : n,
				    .ldc = n, .alpha = 1.0f, .beta = 0.0f, .a = j->buf[0],
				    .b = j->buf[1], .c = j->buf[2]};
	j->out_buf = 2;
	j->out_type = q->dtype;
	j->work = 2.0 * (double)m * (double)n * (double)k;
	j->alternate = true;
	size_t nout = (size_t)(m * n), np = nout < PROBES_DOT ? nout : PROBES_DOT;
	struct exam_probe *pr = exam_job_probes(j, np);
	for (size_t t = 0; t < np; t++)
		pr[t] = gemm_probe(j, exam_pick(j, nout, PROBES_DOT, t));
	/* Edges (first and last row and column, so every corner) are always checked. */
	if (nout > PROBES_DOT) {
		pr = exam_job_more_probes(j, 2 * (m + n));
		for (size_t c = 0; c < n; c++) {
			*pr++ = gemm_probe(j, c);
			*pr++ = gemm_probe(j, (m - 1) * n + c);
		}
		for (size_t i = 0; i < m; i++) {
			*pr++ = gemm_probe(j, i * n);
			*pr++ = gemm_probe(j, i * n + n - 1);
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
	exam_tol(AIDC_DEV_F32, &acc, &out);
	double s = conv_dot(j, &d, nn, pp, q, w, wa, &sa);
	aidc_free(w);
	aidc_free(wa);
	return (struct exam_probe){idx, s, acc * sa + out * fabs(s) + 1e-30};
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
	exam_tol(AIDC_DEV_F32, &acc, &out);
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
	int rc = exam_job_input(j, 0, AIDC_DEV_F32, (size_t)N * C * H * W, e);
	if (!rc)
		rc = exam_job_input(j, 1, AIDC_DEV_F32, (size_t)K * C * R * S, e);
	if (!rc)
		rc = exam_job_alloc(j, 2, j->dev, (uint64_t)N * K * P * Q * 4, e);
	if (rc)
		return rc;
	j->args.c = (struct aidc_dev_conv2d){.struct_size = sizeof j->args.c, .dtype = AIDC_DEV_F32,
					     .n = N, .c = C, .h = H, .w = W, .k = K, .r = R, .s = S,
					     .stride_h = st, .stride_w = st, .pad_h = pad, .pad_w = pad,
					     .dil_h = 1, .dil_w = 1, .x = j->buf[0], .wt = j->buf[1],
					     .y = j->buf[2]};
	j->out_buf = 2;
	j->out_type = AIDC_DEV_F32;
	j->work = 2.0 * N * K * P * Q * (double)C * R * S;
	size_t nout = (size_t)N * K * P * Q, np = nout < PROBES_DOT ? nout : PROBES_DOT;
	struct exam_probe *pr = exam_job_probes(j, np);
	for (size_t t = 0; t < np; t++)
		pr[t] = conv_probe(j, exam_pick(j, nout, PROBES_DOT, t));
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
		/* fp32: 1e-4 x sum p|v| x (1 + max|score|); see docs/exam.md */
		pr[d] = (struct exam_probe){(bh * S + i) * D + d, o, 1e-4 * oa * (1 + maxabs) + 1e-30};
	}
}

static int setup_attn(struct exam_job *j, struct aidc_err *e)
{
	const uint32_t *p = j->q->p;
	size_t B = p[0], Hh = p[1], S = p[2], D = p[3], n = B * Hh * S * D;
	int rc = 0;
	for (int i = 0; i < 3 && !rc; i++)
		rc = exam_job_input(j, i, AIDC_DEV_F32, n, e);
	if (!rc)
		rc = exam_job_alloc(j, 3, j->dev, (uint64_t)n * 4, e);
	if (rc)
		return rc;
	j->args.a = (struct aidc_dev_attention){.struct_size = sizeof j->args.a,
						.dtype = AIDC_DEV_F32, .batch = p[0], .heads = p[1],
						.seq = p[2], .head_dim = p[3], .causal = p[4],
						.scale = (float)(1.0 / sqrt((double)D)),
						.q = j->buf[0], .k = j->buf[1], .v = j->buf[2],
						.o = j->buf[3]};
	j->out_buf = 3;
	j->out_type = AIDC_DEV_F32;
	j->work = 4.0 * (double)(B * Hh) * (double)S * (double)S * (double)D * (p[4] ? 0.5 : 1.0);
	size_t rows = B * Hh * S, nr = rows < PROBE_ROWS_ATTN ? rows : PROBE_ROWS_ATTN;
	/* Seeded rows plus the first and the last (every head_dim output of each). */
	struct exam_probe *pr = exam_job_probes(j, (nr + 2) * D);
	double *sc = aidc_malloc(S * sizeof *sc);
	for (size_t t = 0; t < nr + 2; t++) {
		size_t r = t == nr ? 0 : t == nr + 1 ? rows - 1 : (size_t)aidc_rng_below(&j->rng, rows);
		attn_row(j, r / S, r % S, sc, pr + t * D);
	}
	aidc_free(sc);
	return 0;
}

static int setup_elt(struct exam_job *j, struct aidc_err *e)
{
	const struct exam_question *q = j->q;
	size_t n = (size_t)q->p[0] << 18; /* MiB of f32 */
	bool triad = q->kind == EXAM_TRIAD;
	int rc = exam_job_input(j, 0, AIDC_DEV_F32, n, e);
	if (!rc && triad)
		rc = exam_job_input(j, 1, AIDC_DEV_F32, n, e);
	if (!rc)
		rc = exam_job_alloc(j, 2, j->dev, (uint64_t)n * 4, e);
	if (rc)
		return rc;
	j->args.el = (struct aidc_dev_eltwise){.struct_size = sizeof j->args.el,
					       .dtype = AIDC_DEV_F32,
					       .op = triad ? AIDC_DEV_ELT_AXPY : AIDC_DEV_ELT_GELU,
					       .n = n, .alpha = 0.5f, .x = j->buf[0],
					       .y = triad ? j->buf[1] : NULL, .z = j->buf[2]};
	j->out_buf = 2;
	j->out_type = AIDC_DEV_F32;
	j->work = (triad ? 3.0 : 2.0) * (double)n * 4;
	size_t np = n < PROBES_CHEAP ? n : PROBES_CHEAP;
	struct exam_probe *pr = exam_job_probes(j, np);
	for (size_t t = 0; t < np; t++) {
		/* the first and the last element are always among the checked */
		size_t i = t == 0 ? 0 : t == 1 ? n - 1 : exam_pick(j, n, PROBES_CHEAP, t);
		double x = j->val[0][i];
		if (triad) {
			double y = j->val[1][i], z = 0.5 * x + y;
			pr[t] = (struct exam_probe){i, z, 1e-6 * (fabs(0.5 * x) + fabs(y)) + 1e-30};
		} else {
			double z = 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
			pr[t] = (struct exam_probe){i, z, 1e-5 * (1 + fabs(x))};
		}
	}
	return 0;
}

static int setup_reduce(struct exam_job *j, struct aidc_err *e)
{
	size_t rows = j->q->p[0], cols = j->q->p[1];
	int rc = exam_job_input(j, 0, AIDC_DEV_F32, rows * cols, e);
	if (!rc)
		rc = exam_job_alloc(j, 1, j->dev, (uint64_t)rows * 4, e);
	if (rc)
		return rc;
	j->args.r = (struct aidc_dev_reduce){.struct_size = sizeof j->args.r, .dtype = AIDC_DEV_F32,
					     .op = AIDC_DEV_RED_SUM, .rows = rows, .cols = cols,
					     .x = j->buf[0], .y = j->buf[1]};
	j->out_buf = 1;
	j->out_type = AIDC_DEV_F32;
	j->work = (double)rows * cols * 4 + (double)rows * 4;
	struct exam_probe *pr = exam_job_probes(j, rows);
	for (size_t i = 0; i < rows; i++) {
		double s = 0, sa = 0;
		for (size_t c = 0; c < cols; c++) {
			s += j->val[0][i * cols + c];
			sa += fabs(j->val[0][i * cols + c]);
		}
		pr[i] = (struct exam_probe){i, s, 1e-5 * sa + 1e-30};
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
		j->host[1] = aidc_calloc(1, n);
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
		pr[t] = (struct exam_probe){i, s, 1e-5 * sa + 1e-30};
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
