/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/exam: one question being asked (struct exam_job), shared by
 * the harness (run.c) and the per-kind setup and reference code (kinds.c).
 */
#ifndef AIDC_EXAM_EXAM_INT_H
#define AIDC_EXAM_EXAM_INT_H

#include "exam/exam.h"
#include "util/rng.h"

/* Device buffers one question may use (inputs, outputs, one per collective device). */
#define EXAM_JOB_BUFS 12
/* Most devices an all-reduce question spans. */
#define EXAM_MAX_COLL_DEVICES 8u

/* One checked output element: its fp64 reference and the allowed |error|. */
struct exam_probe {
	uint64_t idx;
	double ref, bound;
	double base; /* the answer is sign * ref + base (GEMM with beta: base = beta C0) */
};

struct exam_job {
	struct dev_plugin *p; /* borrowed */
	uint32_t dev;
	const struct exam_question *q; /* borrowed */
	struct aidc_rng rng;
	struct aidc_dev_mem *buf[EXAM_JOB_BUFS]; /* owned device buffers */
	uint32_t buf_dev[EXAM_JOB_BUFS];
	uint64_t bytes[EXAM_JOB_BUFS];
	void *host[EXAM_JOB_BUFS];  /* owned: storage-format host copies of inputs */
	bool pinned[EXAM_JOB_BUFS]; /* host[i] is the plugin's pinned memory (host_alloc) */
	float *val[EXAM_JOB_BUFS];  /* owned: input values as floats (for references) */
	int out_buf;                /* which buffer holds the answer */
	enum aidc_dev_dtype out_type;
	void *out;                  /* owned: answer read back */
	void *zeros;                /* owned: zero bytes to clear the answer with */
	struct exam_probe *probes;  /* owned */
	size_t nprobes;
	const void *expect;         /* borrowed: bytes expected (copy questions) */
	void *host_out;             /* borrowed: the answer is on the host already (d2h) */
	bool in_place;              /* repeated runs change the answer: check once */
	bool timed;                 /* the timed calls have run (for messages) */
	uint32_t ncoll;             /* devices in a collective */
	double work;                /* flops or bytes per call */
	double sign;                /* the answer is sign * reference (GEMM alternates alpha) */
	bool alternate;             /* timed calls alternate alpha = +1, -1 (GEMM) */
	/* Whole-output projection check (Freivalds): the output seen as rows x
	 * cols, element (r, c) at (r / inner) * cols * inner + c * inner + r % inner;
	 * sum_c out(r, c) x[c] must be within zb[r] + out_tol * sum_c |out(r, c)| |x[c]|
	 * of sign * z[r]. All owned; NULL when the kind has no such check. */
	double *px, *pz, *pzb, *pzbase; /* pzbase: added to sign * pz (NULL = 0) */
	size_t prows, pcols, pinner;
	size_t pld;                 /* row stride of the output when pinner == 1 (0 = pcols) */
	/* Attention's whole-output check: row r of the output (hdim values) times
	 * hx must lie in [hlo[r], hhi[r]] (see attn_hull in kinds.c). Owned. */
	double *hx, *hlo, *hhi;
	size_t hrows, hdim;
	/* GEMM with beta: C's starting values are uploaded before each sample. */
	bool reset_c;
	uint64_t ncalls;            /* calls launched (GEMM alternates alpha by parity) */
	union {
		struct aidc_dev_gemm g;
		struct aidc_dev_conv2d c;
		struct aidc_dev_attention a;
		struct aidc_dev_eltwise el;
		struct aidc_dev_reduce r;
		struct aidc_dev_allreduce ar;
	} args;
	uint32_t devs[EXAM_MAX_COLL_DEVICES];
	struct aidc_dev_mem *cbufs[EXAM_MAX_COLL_DEVICES]; /* borrowed from buf[] */
};

/* run.c */
double exam_now_s(void);
void exam_job_init(struct exam_job *j, struct dev_plugin *p, uint32_t dev,
		   const struct exam_question *q, uint64_t seed);
void exam_job_release(struct exam_job *j);
int exam_job_alloc(struct exam_job *j, int i, uint32_t dev, uint64_t bytes, struct aidc_err *e);
int exam_job_input(struct exam_job *j, int i, enum aidc_dev_dtype t, size_t n, struct aidc_err *e);
void exam_job_random_bytes(struct exam_job *j, void *dst, size_t n);
struct exam_probe *exam_job_probes(struct exam_job *j, size_t n);
size_t exam_pick(struct exam_job *j, size_t nout, size_t max, size_t k);
/* Grows the probe array by n; returns the first new slot. */
struct exam_probe *exam_job_more_probes(struct exam_job *j, size_t n);
void exam_tol(enum aidc_dev_dtype t, double *acc, double *out);
/* Smallest spacing of the dtype's subnormals: an absolute floor for error bounds. */
double exam_abs_floor(enum aidc_dev_dtype t);

/* exam.c */
void exam_fill_header(const char *name, const char *version, const char *path, uint32_t ndev,
		      const struct aidc_dev_info *info, const struct exam_options *o,
		      struct exam_report *r);
/* Counts the questions o selects into *nsel; none is an error naming the
 * pattern. */
int exam_count_selected(const struct exam_options *o, size_t *nsel, struct aidc_err *e);
/* Asks catalogue question i (q) into *res: in this process, or in a worker. */
typedef void (*exam_ask_fn)(void *arg, const struct exam_question *q, uint32_t i,
			    struct exam_result *res);
/* Asks the nsel selected questions in catalogue order with ask(arg, ...),
 * scoring each and keeping r summarized, its wall time current; calls o's
 * started (once), progress (before and after each question) and checkpoint
 * (after each) callbacks where set. r's header is filled already. */
void exam_ask_all(const struct exam_options *o, size_t nsel, exam_ask_fn ask, void *arg,
		  struct exam_report *r);

/* kinds.c: allocate and upload, build probes or expected bytes, set work. */
int exam_setup(struct exam_job *j, struct aidc_err *e);
/* One call of the operation under test (asynchronous). */
int exam_launch(struct exam_job *j, struct aidc_err *e);
/* Resets in-place state before timing (all-reduce). */
int exam_before_timing(struct exam_job *j, struct aidc_err *e);

#endif
