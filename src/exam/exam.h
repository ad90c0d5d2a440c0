/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The accelerator exam: a catalogue of questions (GEMM, convolution,
 * attention, memory bandwidth, host transfer, collectives) in three levels,
 * a harness that runs them on one device of a plugin (src/dev), checks every
 * answer against an fp64 reference, times warm runs (median and spread), and
 * scores each answer against a reference device; and the versioned JSON
 * report, its reader, an HTML renderer and a comparison of two reports.
 * docs/exam.md documents the methodology and tolerances.
 */
#ifndef AIDC_EXAM_EXAM_H
#define AIDC_EXAM_EXAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <aidc/device.h>

#include "dev/dev.h"
#include "util/buf.h"
#include "util/err.h"

#define EXAM_REPORT_SCHEMA "aidc-exam-report"
#define EXAM_REPORT_VERSION 1

enum exam_level { EXAM_QUICK = 0, EXAM_STANDARD = 1, EXAM_FULL = 2 };

enum exam_kind {
	EXAM_GEMM,      /* p: m n k trans_a trans_b flags (EXAM_GEMM_BETA, EXAM_GEMM_PADDED) */
	EXAM_CONV,      /* p: n c h w k r s stride pad */
	EXAM_ATTN,      /* p: batch heads seq head_dim causal */
	EXAM_COPY,      /* device copy; p: MiB */
	EXAM_TRIAD,     /* z = a x + y; p: MiB per vector */
	EXAM_GELU,      /* p: MiB per vector */
	EXAM_REDUCE,    /* row reduction; p: rows cols op (0 sum, 1 max) */
	EXAM_H2D,       /* p: MiB */
	EXAM_D2H,       /* p: MiB */
	EXAM_PEER,      /* device 0 -> device 1; p: MiB */
	EXAM_ALLREDUCE, /* across all devices; p: MiB per device */
	EXAM_ELT        /* any elementwise op; p: MiB per vector, op (aidc_dev_eltwise_op) */
};

/* GEMM question flags (p[5]): C starts from random values and beta = 0.5;
 * the rows of A, B and C are padded (lda, ldb, ldc past the row), and the
 * padding must be left alone. */
#define EXAM_GEMM_BETA 1u
#define EXAM_GEMM_PADDED 2u

struct exam_question {
	const char *id;     /* stable key, e.g. "gemm.f32.2048" */
	const char *group;  /* gemm, conv, attention, memory, transfer, collective */
	const char *source; /* where the shape comes from */
	enum exam_kind kind;
	enum exam_level level; /* lowest level that asks it */
	enum aidc_dev_dtype dtype;
	uint32_t p[9];
};

/* The catalogue (static, borrowed) and its size. */
const struct exam_question *exam_catalog(size_t *n);
const char *exam_level_name(enum exam_level l);
int exam_level_parse(const char *s, enum exam_level *out);
/* Human-readable shape, e.g. "m=2048 n=2048 k=2048". */
void exam_shape_str(const struct exam_question *q, char *buf, size_t len);
/* Reference device value for a question id, 0 if none (built-in table). */
double exam_builtin_ref(const char *id);
extern const char *const exam_builtin_ref_name;

/* One answered question; fixed-size strings keep reports free of ownership. */
struct exam_result {
	char id[64], group[32], kind[16], dtype[8], shape[128], source[160];
	char status[16]; /* pass | wrong | error | unsupported */
	char metric[16]; /* GFLOP/s | GB/s */
	char error[256];
	/* Which implementation ran (the plugin's last_path, e.g. "cudnn",
	 * "builtin (cuDNN off: ...)"); "" when the plugin does not say. */
	char path[192];
	double value;    /* achieved metric (median) */
	double median_s, min_s, max_s, spread_pct;
	double work;     /* flops or bytes per call */
	double peak, peak_fraction; /* claimed peak in the metric's unit; 0 if not claimed */
	double ref_value, score;    /* reference device's value; value / ref_value */
	double tolerance, max_err;  /* worst |err| / bound seen (<= 1 passes) */
	uint32_t samples;
	uint64_t iters, checked;
};

struct exam_report {
	int schema_version;
	char aidc_version[32], created[32], level[16], reference[128];
	char plugin_name[128], plugin_version[64], plugin_path[512];
	uint64_t seed;
	uint32_t dev_index, devices_total;
	struct aidc_dev_info dev;
	char verdict[8]; /* pass | fail */
	double score, wall_s;
	uint32_t n_pass, n_wrong, n_error, n_unsupported;
	struct exam_result *q; /* owned */
	size_t nq, capq;
};

void exam_report_init(struct exam_report *r);
void exam_report_release(struct exam_report *r);
/* Recomputes verdict, counts and the overall score from the results. */
void exam_report_summarize(struct exam_report *r);
/* Geometric mean of scores of passed questions in group (NULL: all); 0 if none. */
double exam_report_group_score(const struct exam_report *r, const char *group);

/* Progress callback: called before (res == NULL) and after each question. */
typedef void (*exam_progress_fn)(void *arg, size_t i, size_t n, const struct exam_question *q,
				 const struct exam_result *res);

struct exam_options {
	enum exam_level level;
	const char *questions;      /* comma-separated ids/groups with '*' globs; NULL = all */
	uint32_t device;
	uint64_t seed;
	const struct exam_report *reference; /* borrowed; NULL = built-in reference */
	exam_progress_fn progress;
	void *progress_arg;
	/* Isolated runs (exam_run_isolated) only; 0 = the default, which
	 * follows the device's speed (exam_timeouts_now). */
	double call_timeout_s;     /* one plugin call */
	double question_timeout_s; /* one question */
	/* Called with progress_arg once the header is known, and after every
	 * question with the report so far (summarized), e.g. to write it. */
	void (*started)(void *arg, const struct exam_report *r);
	void (*checkpoint)(void *arg, const struct exam_report *r);
};

/* The timing budget of one question at level l (docs/exam.md). */
double exam_level_budget_s(enum exam_level l);

/*
 * The per-call and per-question timeouts in force while a question runs,
 * given the longest plugin call of that question so far (longest_call_s).
 * A timeout the options set is applied as given. By default the question
 * gets 15 times the level's budget (60, 150, 300 s) or, on a device slow
 * enough that one call takes more than a tenth of that, 10 times its
 * longest call (a question is at least five calls: the checked one, the
 * calibration and three samples); one call may take as long as the
 * question. A hang is still caught: a call that never returns adds nothing.
 */
void exam_timeouts_now(const struct exam_options *o, double longest_call_s, double *call_s,
		       double *question_s);

/* True if q is selected by level and the --questions pattern list. */
bool exam_selected(const struct exam_question *q, const struct exam_options *o);

/*
 * Runs the selected questions on one device of an open plugin and fills
 * *out (initialized by the caller). A wrong answer or a device error fails
 * only its question; the return value is non-zero only when the exam could
 * not run at all (bad device index, nothing selected).
 */
int exam_run(struct dev_plugin *p, const struct exam_options *o, struct exam_report *out,
	     struct aidc_err *e);

/*
 * Runs the selected questions with the plugin (name or path, with config) in
 * a separate worker process: a crash, or a call or question past its
 * timeout, fails that question with the reason and the exam goes on with a
 * fresh worker. Returns non-zero only when the exam cannot run at all (the
 * plugin does not load, bad device index, nothing selected).
 */
int exam_run_isolated(const char *plugin, const char *config, const struct exam_options *o,
		      struct exam_report *out, struct aidc_err *e);

/* Fills the identity of q's result (id, group, kind, dtype, shape, metric); zeroes the rest. */
void exam_result_header(const struct exam_question *q, struct exam_result *res);

/* Runs one question (used by exam_run and bench/exam_overhead). */
void exam_run_question(struct dev_plugin *p, uint32_t dev, const struct exam_question *q,
		       enum exam_level level, uint64_t seed, struct exam_result *res);

/*
 * The plugin ABI conformance suite (conformance.c), run in a child process
 * that prints each check to out. Returns 0 when the plugin conforms,
 * EXAM_CONFORMANCE_SKIP when it is not built or has no device (the reason
 * printed; with skip_no_device also when it fails to open), or an error:
 * AIDC_E_WRONG_ANSWER (failures printed), AIDC_E_DEVICE (it crashed, in
 * which call), AIDC_E_TIMEOUT (past timeout_s).
 */
#define EXAM_CONFORMANCE_SKIP 77
int exam_conformance(const char *plugin, const char *config, FILE *out, double timeout_s,
		     bool skip_no_device, struct aidc_err *e);

/* Report JSON (schema EXAM_REPORT_SCHEMA, version EXAM_REPORT_VERSION). */
int exam_report_to_json(const struct exam_report *r, struct aidc_buf *out);
/* Parses and validates a report; rejects unknown schema or version. */
int exam_report_parse(const char *text, size_t len, struct exam_report *out, struct aidc_err *e);
int exam_report_load(const char *path, struct exam_report *out, struct aidc_err *e);

/* Self-contained HTML page (inline SVG, no scripts, no network). */
int exam_report_html(const struct exam_report *r, struct aidc_buf *out);

/* Comparison of two reports: table (or JSON) of B / A per common question. */
int exam_compare(const struct exam_report *a, const struct exam_report *b, bool json,
		 struct aidc_buf *out);

#endif
