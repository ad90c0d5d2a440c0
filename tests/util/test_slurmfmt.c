/* SPDX-License-Identifier: Apache-2.0 */
/* util/slurmfmt: Slurm -o/--format strings and job state names, edges and refusals. */
#include <string.h>

#include "util/slurmfmt.h"
#include "util/util.h"
#include "../test.h"

/* Field values of the test rows: i is "12345", j "training-run", u "alice", empty e. */
static const char *value(void *ctx, char letter, struct aidc_buf *scratch)
{
	(void)ctx;
	switch (letter) {
	case 'i':
		return "12345";
	case 'j':
		return "training-run";
	case 'u':
		aidc_buf_puts(scratch, "alice");
		return aidc_buf_str(scratch);
	default:
		return NULL;
	}
}

/* Renders fmt over the known letters "ijue"; "ERR: <message>" on error. */
static void render(const char *fmt, char *out, size_t cap)
{
	struct aidc_sfmt f;
	struct aidc_err e;
	aidc_err_clear(&e);
	int rc = aidc_sfmt_parse(fmt, "ijue", &f, &e);
	if (rc) {
		snprintf(out, cap, "ERR: %s", aidc_err_text(&e, rc));
		return;
	}
	struct aidc_buf b;
	aidc_buf_init(&b, 4096);
	CHECK_EQ(aidc_sfmt_line(&f, value, NULL, &b), 0);
	snprintf(out, cap, "%s", aidc_buf_str(&b));
	aidc_buf_release(&b);
	aidc_sfmt_release(&f);
}

static void test_format(void)
{
	static const struct {
		const char *fmt, *want;
	} t[] = {
		{"%i", "12345"},
		{"%.8i", "   12345"},
		{"%8i|", "12345   |"},
		{"%-8i|", "12345   |"},
		{"%.-8i|", "   12345|"},
		{"%.3i", "123"},   /* cut to the width, as squeue */
		{"%5j|", "train|"},
		{"%0i", "12345"}, /* width 0: the value's own */
		{"%i %j %u", "12345 training-run alice"},
		{"id=%i, 100%%", "id=12345, 100%"},
		{"%%i", "%i"},
		{"[%3e]", "[   ]"},  /* a field without a value */
		{"plain", "plain"},
		{"%.18i %.9j %.8u", "             12345 training-    alice"},
	};
	char got[512];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		render(t[i].fmt, got, sizeof got);
		CHECK_STR(got, t[i].want);
	}
}

static void test_format_refusals(void)
{
	static const struct {
		const char *fmt, *why;
	} t[] = {
		{"%i %Y %Z %Y", "unknown field(s) %Y %Z (known here: %i %j %u %e)"},
		{"%i %", "ends without a field letter"},
		{"%.10", "ends without a field letter"},
		{"%.5!", "'%.5!' is not a field"},
		{"%99999i", "field width over 1024"},
		{"", "empty"},
	};
	char got[512];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		render(t[i].fmt, got, sizeof got);
		CHECK(!strncmp(got, "ERR: ", 5));
		CHECK_CONTAINS(got, t[i].why);
	}
}

static void test_states(void)
{
	static const struct {
		const char *in;
		uint32_t want;
	} t[] = {
		{"PD", 1u << AIDC_SST_PENDING},
		{"pd,R", (1u << AIDC_SST_PENDING) | (1u << AIDC_SST_RUNNING)},
		{"PENDING,running", (1u << AIDC_SST_PENDING) | (1u << AIDC_SST_RUNNING)},
		{"CD,CA,F", (1u << AIDC_SST_COMPLETED) | (1u << AIDC_SST_CANCELLED) |
				(1u << AIDC_SST_FAILED)},
		{"cg", 1u << AIDC_SST_COMPLETING},
		{"TO,nf,OOM", (1u << AIDC_SST_TIMEOUT) | (1u << AIDC_SST_NODE_FAIL) |
				  (1u << AIDC_SST_OUT_OF_MEMORY)},
		{"ALL", (1u << AIDC_SST_COUNT_) - 1},
		{"R,R", 1u << AIDC_SST_RUNNING},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		uint32_t m = 0;
		struct aidc_err e;
		aidc_err_clear(&e);
		CHECK_EQ(aidc_slurm_states_parse(t[i].in, &m, &e), 0);
		CHECK_EQ(m, t[i].want);
	}
	static const struct {
		const char *in, *why;
	} bad[] = {
		{"", "empty state name"},
		{"PD,", "empty state name"},
		{"PD,,R", "empty state name"},
		{"RUN", "unknown state 'RUN'"},
		{"pending,bogus", "unknown state 'bogus'"},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(bad); i++) {
		uint32_t m = 7;
		struct aidc_err e;
		aidc_err_clear(&e);
		CHECK_NE(aidc_slurm_states_parse(bad[i].in, &m, &e), 0);
		CHECK_CONTAINS(e.msg, bad[i].why);
		CHECK_EQ(m, 7); /* unchanged */
	}
	CHECK_STR(aidc_slurm_state_code(aidc_slurm_state_of("pending")), "PD");
	CHECK_STR(aidc_slurm_state_code(aidc_slurm_state_of("stopping")), "CG");
	CHECK_STR(aidc_slurm_state_name(aidc_slurm_state_of("node_fail")), "NODE_FAIL");
	CHECK_STR(aidc_slurm_state_name(aidc_slurm_state_of("cancelled")), "CANCELLED");
	CHECK_EQ(aidc_slurm_state_of("bogus"), -1);
	CHECK_STR(aidc_slurm_state_code(-1), "?");
}

static void test_node_states(void)
{
	static const struct {
		const char *in;
		uint32_t want;
	} t[] = {
		{"idle", 1u << AIDC_SNS_IDLE},
		{"IDLE,mix", (1u << AIDC_SNS_IDLE) | (1u << AIDC_SNS_MIXED)},
		{"alloc,Allocated", 1u << AIDC_SNS_ALLOCATED},
		{"drain", (1u << AIDC_SNS_DRAINED) | (1u << AIDC_SNS_DRAINING)},
		{"drained", 1u << AIDC_SNS_DRAINED},
		{"DRNG", 1u << AIDC_SNS_DRAINING},
		{"down,unk", (1u << AIDC_SNS_DOWN) | (1u << AIDC_SNS_UNKNOWN)},
		{"all", (1u << AIDC_SNS_COUNT_) - 1},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		uint32_t m = 0;
		struct aidc_err e;
		aidc_err_clear(&e);
		CHECK_EQ(aidc_slurm_node_states_parse(t[i].in, &m, &e), 0);
		CHECK_EQ(m, t[i].want);
	}
	static const struct {
		const char *in, *why;
	} bad[] = {
		{"", "empty state name"},
		{"idle,", "empty state name"},
		{"busy", "unknown state 'busy'"},
		{"PD", "unknown state 'PD'"}, /* a job state is not a node state */
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(bad); i++) {
		uint32_t m = 7;
		struct aidc_err e;
		aidc_err_clear(&e);
		CHECK_NE(aidc_slurm_node_states_parse(bad[i].in, &m, &e), 0);
		CHECK_CONTAINS(e.msg, bad[i].why);
		CHECK_EQ(m, 7);
	}
	CHECK_STR(aidc_slurm_node_state_short(AIDC_SNS_DRAINING), "drng");
	CHECK_STR(aidc_slurm_node_state_long(AIDC_SNS_MIXED), "MIXED");
	CHECK_STR(aidc_slurm_node_state_short(99), "?");
}

static void test_duration(void)
{
	static const struct {
		int64_t s;
		const char *want;
	} t[] = {
		{0, "0:00"},   {59, "0:59"},	       {61, "1:01"},	      {3600, "1:00:00"},
		{3661, "1:01:01"}, {86400, "1-00:00:00"}, {90061, "1-01:01:01"}, {-5, "0:00"},
	};
	char got[32];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		aidc_slurm_duration(t[i].s, got, sizeof got);
		CHECK_STR(got, t[i].want);
	}
}

TEST_MAIN(TEST(test_format), TEST(test_format_refusals), TEST(test_states),
	  TEST(test_node_states), TEST(test_duration))
