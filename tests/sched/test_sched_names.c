/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's name tables (src/sched/names.c): every value of each policy
 * enum has exactly one row, its name and alias look up to it, its name comes
 * back from the value, and unknown names are refused without touching the
 * output.
 */
#include "sched/sched.h"
#include "../test.h"

static void round_trip(const char *what, const struct sched_name *t, int count)
{
	int rows = 0;
	for (const struct sched_name *r = t; r->name; r++, rows++) {
		CHECK(r->value >= 0 && r->value < count);
		CHECK(r->label && *r->label);
		CHECK(sched_name_find(t, r->name) == r);
		if (r->alias)
			CHECK(sched_name_find(t, r->alias) == r);
		CHECK(sched_name_of(t, r->value) == r);
		for (const struct sched_name *q = t; q < r; q++) {
			CHECK_NE(q->value, r->value);
			CHECK(strcmp(q->name, r->name) != 0);
		}
	}
	if (rows != count)
		fprintf(stderr, "%s: %d rows for %d values\n", what, rows, count);
	CHECK_EQ(rows, count);
	for (int v = 0; v < count; v++)
		CHECK(sched_name_of(t, v) != NULL);
	CHECK(sched_name_of(t, count) == NULL);
	CHECK(sched_name_of(t, -1) == NULL);
	CHECK(sched_name_find(t, "") == NULL);
	CHECK(sched_name_find(t, NULL) == NULL);
	CHECK(sched_name_find(t, "no-such-policy") == NULL);
}

static void test_tables(void)
{
	round_trip("order", sched_order_names, SCHED_ORDER_COUNT_);
	round_trip("placement", sched_placement_names, SCHED_PLACE_COUNT_);
	round_trip("blocking", sched_blocking_names, SCHED_BLOCK_COUNT_);
}

/* The value a table gives name (or alias), or -1 when it has no such row. */
static int value_of(const struct sched_name *t, const char *name)
{
	const struct sched_name *r = sched_name_find(t, name);
	return r ? r->value : -1;
}

static void test_typed_lookups(void)
{
	for (int v = 0; v < SCHED_ORDER_COUNT_; v++) {
		CHECK_EQ(value_of(sched_order_names, sched_order_name((enum sched_order)v)), v);
		CHECK(strcmp(sched_order_label((enum sched_order)v), "?") != 0);
	}
	for (int v = 0; v < SCHED_PLACE_COUNT_; v++) {
		enum sched_placement p = SCHED_PLACE_COUNT_;
		CHECK_EQ(sched_placement_parse(sched_placement_name((enum sched_placement)v), &p), 0);
		CHECK_EQ(p, v);
	}
	for (int v = 0; v < SCHED_BLOCK_COUNT_; v++)
		CHECK_EQ(value_of(sched_blocking_names, sched_blocking_name((enum sched_blocking)v)), v);
	/* Fixed spellings that config files, scripts and docs rely on. */
	CHECK_EQ(value_of(sched_order_names, "tiresias"), SCHED_ORDER_TIRESIAS);
	enum sched_placement p = SCHED_PLACE_CONSOLIDATE;
	CHECK_EQ(sched_placement_parse("aidc", &p), 0); /* the FGD paper's spelling */
	CHECK_EQ(p, SCHED_PLACE_AIDC_FRAG);
	CHECK_STR(sched_placement_name(SCHED_PLACE_AIDC_FRAG), "aidc-frag");
	CHECK_STR(sched_placement_name(SCHED_PLACE_GPU_PACKING), "gpu-packing");
	CHECK_EQ(value_of(sched_blocking_names, "easy"), SCHED_BLOCK_EASY);
	/* Unknown names are refused and leave the output alone. */
	CHECK_EQ(value_of(sched_order_names, "FIFO"), -1); /* case matters */
	p = SCHED_PLACE_FGD;
	CHECK_EQ(sched_placement_parse("fgd ", &p), AIDC_E_INVAL);
	CHECK_EQ(p, SCHED_PLACE_FGD);
	CHECK_EQ(value_of(sched_blocking_names, ""), -1);
	CHECK_STR(sched_order_name(SCHED_ORDER_COUNT_), "?");
	CHECK_STR(sched_placement_name((enum sched_placement)-1), "?");
}

TEST_MAIN(TEST(test_tables), TEST(test_typed_lookups))
