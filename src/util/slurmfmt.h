/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What Slurm's query commands (squeue, sinfo) share: their -o/--format
 * strings of %[.][-][width]X fields, and Slurm's job state names. One engine
 * here so squeue and sinfo read formats the same way; pure string work, no
 * I/O (tests/util/test_slurmfmt.c).
 */
#ifndef AIDC_UTIL_SLURMFMT_H
#define AIDC_UTIL_SLURMFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

/* Widest field a format may ask for ("%.2000i" is refused). */
#define AIDC_SFMT_MAX_WIDTH 1024

/* One piece of a format: a field (letter) or literal text (letter 0). */
struct aidc_sfmt_item {
	char letter;
	bool right;  /* "%.10i": right-justified; otherwise left */
	int width;   /* 0: the value's own width; else padded, and cut when longer */
	char *text;  /* literal text, letter 0 */
};

struct aidc_sfmt {
	struct aidc_sfmt_item *v;
	size_t n, cap;
};

/*
 * Parses fmt as Slurm does: "%" then an optional "." (right-justify), an
 * optional "-" (left, the default), an optional width, and one field letter;
 * "%%" is a literal "%"; other text is kept. Letters not in known are refused
 * together, naming each ("unknown format field(s) %Y %Z"); so is a "%" at the
 * end or a width over AIDC_SFMT_MAX_WIDTH. On error f is left empty.
 * Release with aidc_sfmt_release.
 */
int aidc_sfmt_parse(const char *fmt, const char *known, struct aidc_sfmt *f, struct aidc_err *e);
void aidc_sfmt_release(struct aidc_sfmt *f);

/* The value of field letter for one row (or its header), written into
 * scratch (reset before each call) or returned as a borrowed string. */
typedef const char *(*aidc_sfmt_value_fn)(void *ctx, char letter, struct aidc_buf *scratch);

/* Appends one line (no newline) of f to out: each field's value padded and
 * cut to its width, literal text as is. Returns 0 or the buffer's error. */
int aidc_sfmt_line(const struct aidc_sfmt *f, aidc_sfmt_value_fn fn, void *ctx,
		   struct aidc_buf *out);

/* Appends the header line of f to out: each field's title from titles (n
 * pairs of {letter, title}, e.g. {"P", "PARTITION"}), "" for a letter with
 * none; padded and cut as aidc_sfmt_line does. Returns 0 or the buffer's error. */
int aidc_sfmt_header(const struct aidc_sfmt *f, const char *const (*titles)[2], size_t n,
		     struct aidc_buf *out);

/* ---- job states --------------------------------------------------------- */

/* Slurm's job states, in Slurm's order (squeue sorts by it). */
enum aidc_slurm_state {
	AIDC_SST_PENDING,
	AIDC_SST_RUNNING,
	AIDC_SST_SUSPENDED,
	AIDC_SST_COMPLETING,
	AIDC_SST_COMPLETED,
	AIDC_SST_CONFIGURING,
	AIDC_SST_CANCELLED,
	AIDC_SST_FAILED,
	AIDC_SST_TIMEOUT,
	AIDC_SST_PREEMPTED,
	AIDC_SST_NODE_FAIL,
	AIDC_SST_BOOT_FAIL,
	AIDC_SST_DEADLINE,
	AIDC_SST_OUT_OF_MEMORY,
	AIDC_SST_REQUEUED,
	AIDC_SST_REQUEUE_HOLD,
	AIDC_SST_REQUEUE_FED,
	AIDC_SST_RESV_DEL_HOLD,
	AIDC_SST_REVOKED,
	AIDC_SST_SIGNALING,
	AIDC_SST_SPECIAL_EXIT,
	AIDC_SST_STAGE_OUT,
	AIDC_SST_STOPPED,
	AIDC_SST_RESIZING,
	AIDC_SST_COUNT_
};

/* squeue's default states: pending, running, suspended, completing,
 * configuring, resizing. */
#define AIDC_SST_DEFAULT_MASK                                                                  \
	((1u << AIDC_SST_PENDING) | (1u << AIDC_SST_RUNNING) | (1u << AIDC_SST_SUSPENDED) |     \
	 (1u << AIDC_SST_COMPLETING) | (1u << AIDC_SST_CONFIGURING) | (1u << AIDC_SST_RESIZING))

/* "PENDING" / "PD" of a state; "UNKNOWN" / "?" out of range. */
const char *aidc_slurm_state_name(int st);
const char *aidc_slurm_state_code(int st);
/*
 * A comma list of state names or codes, any case ("pd,R,completed"; "all"
 * is every state) into a bit mask of enum aidc_slurm_state. An empty item or
 * an unknown name is refused naming it.
 */
int aidc_slurm_states_parse(const char *list, uint32_t *mask, struct aidc_err *e);
/* The Slurm state of an aidc job state ("pending", "stopping", ...), -1 for
 * a name aidc does not have. */
int aidc_slurm_state_of(const char *aidc_state);

/* ---- node states (sinfo) -------------------------------------------------- */

enum aidc_slurm_node_state {
	AIDC_SNS_IDLE,
	AIDC_SNS_MIXED,
	AIDC_SNS_ALLOCATED,
	AIDC_SNS_DRAINED,
	AIDC_SNS_DRAINING,
	AIDC_SNS_DOWN,
	AIDC_SNS_UNKNOWN,
	AIDC_SNS_COUNT_
};
/* "idle" / "IDLE" (sinfo's %t / %T); "?" out of range. */
const char *aidc_slurm_node_state_short(int st);
const char *aidc_slurm_node_state_long(int st);
/* A comma list of node state names, short or long, any case ("idle,MIX";
 * "drain" is drained and draining; "all" every state) into a bit mask of
 * enum aidc_slurm_node_state; an empty item or unknown name is refused. */
int aidc_slurm_node_states_parse(const char *list, uint32_t *mask, struct aidc_err *e);

/* A duration as Slurm prints it: "M:SS", "H:MM:SS", "D-HH:MM:SS" (negative: 0). */
void aidc_slurm_duration(int64_t s, char *buf, size_t n);

#endif
