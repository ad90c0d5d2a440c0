/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heterogeneity-aware placement (src/sched/hetero.c): the speed table's
 * arithmetic and refusals, and the model choice of each mode on a
 * constructed case where Gavel's relative speedup beats both the unaware
 * choice and "fastest model first", deterministically.
 *
 * The case: models A and B, one node of 2 devices each; class 1 runs 4x the
 * reference on A and 1x on B, class 2 1.2x on A and 1x on B. Four one-device
 * jobs arrive in one pass, class 2, 2, 1, 1 (FIFO). Unaware and fastest give
 * both class-2 jobs A (best fit, then speed 1.2 > 1), leaving the 4x class-1
 * jobs B; gavel sends the second class-2 job to idle B once A is half busy
 * (A's price rises with its use: 1.2 on a busy A is worth less than 1 on an
 * idle B) and the first class-1 job to A. Gavel prices by use only in a
 * mostly busy partition (the busy term times u^2, u the partition's device
 * utilization), so the case keeps a third node of 4 devices of model C busy
 * (u = 5/8 at the second job); with that node idle (u = 1/8), gavel places
 * as fastest does.
 */
#include <math.h>

#include "sched_test_util.h"

enum { MA, MB };

/* A cluster of one node of 2 devices of model A and one of 2 of model B. */
static struct sched *two_models_cfg(const struct sched_config *cfg)
{
	struct aidc_err e = {0};
	struct sched *s = mk_config(cfg);
	CHECK_EQ(sched_add_model(s, "A", "v", 16384, &e), MA);
	CHECK_EQ(sched_add_model(s, "B", "v", 16384, &e), MB);
	CHECK_EQ(sched_add_partition(s, "p", &e), 0);
	add_nodes(s, "a", 0, 1, 2, MA, 0, 0);
	add_nodes(s, "b", 0, 1, 2, MB, 0, 1);
	return s;
}

static struct sched *two_models(enum sched_hetero h)
{
	struct sched_config cfg;

	sched_config_defaults(&cfg);
	cfg.hetero = h;
	return two_models_cfg(&cfg);
}

static void set_table(struct sched *s)
{
	struct aidc_err e = {0};

	CHECK_EQ(sched_speed_set(s, 1, MA, 4000, &e), 0);
	CHECK_EQ(sched_speed_set(s, 1, MB, 1000, &e), 0);
	CHECK_EQ(sched_speed_set(s, 2, MA, 1200, &e), 0);
	CHECK_EQ(sched_speed_set(s, 2, MB, 1000, &e), 0);
}

/* Adds model C and one node of 4 C devices (node 2); with busy, a 4-device
 * job (id 100, no class) takes all of them. */
static void add_rest(struct sched *s, bool busy)
{
	struct aidc_err e = {0};
	struct sched_decisions d;

	CHECK_EQ(sched_add_model(s, "C", "v", 16384, &e), 2);
	add_nodes(s, "c", 0, 1, 4, 2, 0, 2);
	if (!busy)
		return;
	CHECK_GE(submit(s, 100, 1, 4, 0, 0), 0);
	sched_decisions_init(&d);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(d.allocs[0].node, 2u);
	sched_decisions_release(&d);
}

/* Runs the case; models[k] gets the model job k+1 started on; returns the
 * mean run time of a 1,000 s (base) job at the speeds it got. */
static double run_case_rest(enum sched_hetero h, bool table, bool busy, uint32_t models[4])
{
	static const uint32_t cls[4] = {2, 2, 1, 1};
	struct sched *s = two_models(h);
	struct sched_decisions d;
	double sum = 0;

	if (table)
		set_table(s);
	add_rest(s, busy);
	for (uint32_t k = 0; k < 4; k++) {
		struct sched_job_spec js = jspec(k + 1, 1, 1, 0);
		js.speed_class = cls[k];
		CHECK_GE(submit_spec(s, &js, 1), 0);
	}
	sched_decisions_init(&d);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_START), 4);
	for (uint32_t k = 0; k < 4; k++) {
		const struct sched_decision *x = started(&d, k + 1);
		CHECK(x != NULL);
		if (!x)
			continue;
		uint32_t node = d.allocs[x->first_alloc].node;
		models[k] = node == 0 ? MA : MB;
		/* the true speeds, whatever the core was told */
		uint32_t sp = models[k] == MA ? (cls[k] == 1 ? 4000 : 1200) : 1000;
		sum += 1000.0 * 1000.0 / sp;
	}
	sched_decisions_release(&d);
	sched_free(s);
	return sum / 4;
}

static double run_case(enum sched_hetero h, bool table, uint32_t models[4])
{
	return run_case_rest(h, table, true, models);
}

static void test_constructed_case(void)
{
	uint32_t off[4], fast[4], gav[4], gav2[4], notab[4];
	double t_off = run_case(SCHED_HETERO_OFF, true, off);
	double t_fast = run_case(SCHED_HETERO_FASTEST, true, fast);
	double t_gav = run_case(SCHED_HETERO_GAVEL, true, gav);

	CHECK_EQ(off[0], MA);
	CHECK_EQ(off[1], MA);
	CHECK_EQ(off[2], MB);
	CHECK_EQ(off[3], MB);
	for (int k = 0; k < 4; k++)
		CHECK_EQ(fast[k], off[k]);
	CHECK_EQ(gav[0], MA);
	CHECK_EQ(gav[1], MB);
	CHECK_EQ(gav[2], MA);
	CHECK_EQ(gav[3], MB);
	/* mean run time: 916.7 s unaware and fastest, 770.8 s gavel */
	CHECK_EQ((int64_t)(t_off * 10), 9166);
	CHECK_EQ((int64_t)(t_gav * 10), 7708);
	CHECK(t_gav < t_off && t_gav < t_fast);
	/* deterministic: the same calls, the same decisions */
	CHECK(run_case(SCHED_HETERO_GAVEL, true, gav2) == t_gav);
	for (int k = 0; k < 4; k++)
		CHECK_EQ(gav2[k], gav[k]);
	/* no table: every key equal, the unaware choice */
	run_case(SCHED_HETERO_GAVEL, false, notab);
	for (int k = 0; k < 4; k++)
		CHECK_EQ(notab[k], off[k]);
	/* the rest of the partition idle: A is no dearer than its speed */
	uint32_t idle[4];
	CHECK(run_case_rest(SCHED_HETERO_GAVEL, true, false, idle) == t_fast);
	for (int k = 0; k < 4; k++)
		CHECK_EQ(idle[k], fast[k]);
}

/* sched_job_set_speed_class: a job queued with class 0 (no row yet) is
 * placed by the row it is given later; bad calls change nothing. */
static void test_set_speed_class(void)
{
	struct aidc_err e = {0};
	struct sched_decisions d;

	for (int given = 0; given < 2; given++) {
		struct sched *s = two_models(SCHED_HETERO_FASTEST);
		CHECK_EQ(sched_speed_set(s, 3, MA, 500, &e), 0);
		CHECK_EQ(sched_speed_set(s, 3, MB, 2000, &e), 0);
		struct sched_job_spec js = jspec(1, 1, 1, 0);
		int h = submit_spec(s, &js, 0);
		CHECK_GE(h, 0);
		CHECK_EQ(sched_job_set_speed_class(s, (uint32_t)h, AIDC_MAX_SPEED_CLASSES + 1, &e),
			 AIDC_E_INVAL);
		CHECK_EQ(sched_job_set_speed_class(s, 77, 3, &e), AIDC_E_NOTFOUND);
		if (given)
			CHECK_EQ(sched_job_set_speed_class(s, (uint32_t)h, 3, &e), 0);
		sched_decisions_init(&d);
		CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
		/* node 0 holds model A (the unaware choice), node 1 model B */
		CHECK_EQ(d.allocs[0].node, given ? 1u : 0u);
		sched_decisions_release(&d);
		sched_free(s);
	}
}

/* FASTEST overrides best fit: a one-device job goes to the fast model even
 * where the slow model has the tighter node. */
static void test_fastest_beats_best_fit(void)
{
	struct sched_config cfg;
	struct aidc_err e = {0};
	struct sched_decisions d;

	for (int mode = 0; mode < 2; mode++) {
		sched_config_defaults(&cfg);
		cfg.hetero = mode ? SCHED_HETERO_FASTEST : SCHED_HETERO_OFF;
		struct sched *s = mk_config(&cfg);
		CHECK_EQ(sched_add_model(s, "slow", "v", 16384, &e), 0);
		CHECK_EQ(sched_add_model(s, "fast", "v", 16384, &e), 1);
		CHECK_EQ(sched_add_partition(s, "p", &e), 0);
		add_nodes(s, "s", 0, 1, 1, 0, 0, 0); /* node 0: one slow device */
		add_nodes(s, "f", 0, 1, 8, 1, 0, 1); /* node 1: eight fast ones */
		CHECK_EQ(sched_speed_set(s, 0, 0, 500, &e), 0);
		CHECK_EQ(sched_speed_set(s, 0, 1, 2000, &e), 0);
		CHECK_GE(submit(s, 1, 1, 1, 0, 0), 0);
		sched_decisions_init(&d);
		CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
		CHECK_EQ(d.allocs[0].node, mode ? 1u : 0u);
		sched_decisions_release(&d);
		sched_free(s);
	}
}

/* The node a half-device job of class 3 (4x faster on B) starts on, after
 * job 1 took a quarter of an A device (b_full: all of B). */
static uint32_t frac_node(enum sched_hetero h, bool b_full)
{
	struct aidc_err e = {0};
	struct sched_decisions d;
	struct sched *s = two_models(h);
	uint32_t node = UINT32_MAX;

	CHECK_EQ(sched_speed_set(s, 3, MA, 500, &e), 0);
	CHECK_EQ(sched_speed_set(s, 3, MB, 2000, &e), 0);
	struct sched_job_spec js = jspec(1, 1, b_full ? 2 : 1, 0);
	js.task.dev_milli = b_full ? 0 : 250;
	js.task.model_mask = 1u << (b_full ? MB : MA);
	CHECK_GE(submit_spec(s, &js, 0), 0);
	js = jspec(2, 1, 1, 0);
	js.task.dev_milli = 500;
	js.speed_class = 3;
	CHECK_GE(submit_spec(s, &js, 0), 0);
	sched_decisions_init(&d);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 2);
	const struct sched_decision *x = started(&d, 2);
	CHECK(x != NULL);
	if (x)
		node = d.allocs[x->first_alloc].node;
	sched_decisions_release(&d);
	sched_free(s);
	return node;
}

/* Fractional shares follow the key too: a half-device job of a class 4x
 * faster on B goes to B (node 1) under fastest and gavel (A unaware: the
 * lowest model id), even where A has a partly used device it would pack
 * onto; with B full it takes A rather than wait. */
static void test_fractional_share(void)
{
	CHECK_EQ(frac_node(SCHED_HETERO_OFF, false), 0u);
	CHECK_EQ(frac_node(SCHED_HETERO_FASTEST, false), 1u);
	CHECK_EQ(frac_node(SCHED_HETERO_GAVEL, false), 1u);
	CHECK_EQ(frac_node(SCHED_HETERO_FASTEST, true), 0u);
}

static void test_table(void)
{
	struct sched *s = two_models(SCHED_HETERO_GAVEL);
	struct aidc_err e = {0};

	CHECK_EQ(sched_speed(s, 1, MA), 1000); /* nothing known */
	CHECK_EQ(sched_speed_set(s, 0, MB, 500, &e), 0);
	CHECK_EQ(sched_speed(s, 7, MB), 500); /* row 0: the per-model default */
	CHECK_EQ(sched_speed(s, 7, MA), 1000);
	CHECK_EQ(sched_speed_set(s, 3, MA, 1000, &e), 0);
	CHECK_EQ(sched_speed_observe(s, 3, MA, 3000, &e), 0);
	CHECK_EQ(sched_speed(s, 3, MA), 2000); /* prior and one observation */
	CHECK_EQ(sched_speed_observe(s, 3, MA, 3000, &e), 0);
	CHECK_EQ(sched_speed(s, 3, MA), 2333);
	CHECK_EQ(sched_speed_observe(s, 4, MB, 1500, &e), 0);
	CHECK_EQ(sched_speed(s, 4, MB), 1500); /* observed only */
	CHECK_EQ(sched_speed(s, 3, MB), 500);  /* class row without B: row 0 */
	/* refusals change nothing */
	CHECK_EQ(sched_speed_set(s, AIDC_MAX_SPEED_CLASSES + 1, MA, 1000, &e), AIDC_E_INVAL);
	CHECK_EQ(sched_speed_set(s, 1, 2, 1000, &e), AIDC_E_INVAL);
	CHECK_EQ(sched_speed_set(s, 3, MA, 0, &e), AIDC_E_INVAL);
	CHECK_EQ(sched_speed_observe(s, 3, MA, AIDC_MAX_SPEED_MILLI + 1, &e), AIDC_E_INVAL);
	CHECK_EQ(sched_speed(s, 3, MA), 2333);
	CHECK_EQ(sched_speed(s, 1, 99), 1000);
	struct sched_job_spec js = jspec(1, 1, 1, 0);
	js.speed_class = AIDC_MAX_SPEED_CLASSES + 1;
	CHECK_EQ(sched_submit(s, &js, 0, &e), AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, "speed class");
	sched_free(s);
}

static void test_names_and_config(void)
{
	struct sched_config cfg;
	struct sched *s = NULL;
	struct aidc_err e = {0};
	enum sched_hetero h = SCHED_HETERO_OFF;

	CHECK_EQ(sched_hetero_parse("gavel", &h), 0);
	CHECK_EQ(h, SCHED_HETERO_GAVEL);
	CHECK_EQ(sched_hetero_parse("Gavel", &h), AIDC_E_INVAL);
	CHECK_EQ(h, SCHED_HETERO_GAVEL);
	CHECK_EQ(sched_hetero_parse(NULL, &h), AIDC_E_INVAL);
	for (int v = 0; v < SCHED_HETERO_COUNT_; v++) {
		CHECK_EQ(sched_hetero_parse(sched_hetero_name((enum sched_hetero)v), &h), 0);
		CHECK_EQ(h, v);
	}
	CHECK_STR(sched_hetero_name(SCHED_HETERO_COUNT_), "?");
	sched_config_defaults(&cfg);
	CHECK_EQ(cfg.hetero, SCHED_HETERO_OFF);
	cfg.hetero = SCHED_HETERO_COUNT_;
	CHECK_EQ(sched_new(&cfg, NULL, &s, &e), AIDC_E_INVAL);
	CHECK(s == NULL);
}

/* The forecast's copy carries the table and each job's class: job 1 (class
 * 1, 3x on B) takes B under FASTEST, so job 2 (2 devices, B only) waits for
 * its end; unaware, job 1 takes A and job 2 starts now. */
static int64_t forecast_job2(enum sched_hetero h)
{
	struct sched *s = two_models(h);
	struct aidc_err e = {0};
	int64_t est[4] = {0};

	CHECK_EQ(sched_speed_set(s, 1, MB, 3000, &e), 0);
	struct sched_job_spec j1 = jspec(1, 1, 1, 500);
	j1.speed_class = 1;
	struct sched_job_spec j2 = jspec(2, 1, 2, 100);
	j2.task.model_mask = 1u << MB;
	CHECK_EQ(submit_spec(s, &j1, 10), 0);
	CHECK_EQ(submit_spec(s, &j2, 10), 1);
	CHECK_EQ(sched_forecast(s, 10, 1000, 0, est, 4, &e), 0);
	sched_free(s);
	return est[1];
}

static void test_forecast_copy(void)
{
	CHECK_EQ(forecast_job2(SCHED_HETERO_OFF), 10);
	CHECK_EQ(forecast_job2(SCHED_HETERO_FASTEST), 510);
}

/* Fair share in normalized units: with A charged 2.5 and B 1.0, a group
 * running one A device for 100 s has used 250 units, one running a half B
 * device for 100 s 50; refusals change nothing. */
static void test_fair_share_charge(void)
{
	struct sched_config cfg;
	struct aidc_err e = {0};
	struct sched_decisions d;
	struct sched_group_share sh;

	sched_config_defaults(&cfg);
	cfg.order = SCHED_ORDER_MULTIFACTOR;
	cfg.fs_half_life_s = 100;
	cfg.prio_calc_period_s = 0;
	struct sched *s = two_models_cfg(&cfg);
	CHECK_EQ(sched_model_charge(s, MA), 1000);
	CHECK_EQ(sched_model_set_charge(s, MA, 2500, &e), 0);
	CHECK_EQ(sched_model_set_charge(s, 2, 2500, &e), AIDC_E_INVAL);
	CHECK_EQ(sched_model_set_charge(s, MB, 0, &e), AIDC_E_INVAL);
	CHECK_EQ(sched_model_charge(s, MA), 2500);
	CHECK_EQ(sched_model_charge(s, MB), 1000);
	for (uint32_t k = 0; k < 2; k++) {
		struct sched_group_spec g = {k ? "gb" : "ga", -1, -1, -1, -1, -1, -1, 1, {0}, {0}, NULL, 0};
		CHECK_EQ(sched_group_set(s, &g, &e), (int)k);
		struct sched_job_spec js = jspec(k + 1, 1, 1, 1000);
		js.task.model_mask = 1u << (k ? MB : MA);
		js.task.dev_milli = k ? 500 : 0;
		js.groups[0] = k;
		js.ngroups = 1;
		CHECK_GE(submit_spec(s, &js, 0), 0);
	}
	sched_decisions_init(&d);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 2);
	CHECK_EQ(sched_job_finish(s, 0, 100, &e), 0);
	CHECK_EQ(sched_job_finish(s, 1, 100, &e), 0);
	sched_fairshare_update(s, 100);
	CHECK_EQ(sched_group_share(s, 0, &sh), 0);
	CHECK(fabs(sh.usage - 250) < 1e-9);
	CHECK_EQ(sched_group_share(s, 1, &sh), 0);
	CHECK(fabs(sh.usage - 50) < 1e-9);
	sched_decisions_release(&d);
	sched_free(s);
}

TEST_MAIN(TEST(test_constructed_case), TEST(test_fastest_beats_best_fit),
	  TEST(test_fractional_share), TEST(test_table), TEST(test_names_and_config),
	  TEST(test_forecast_copy), TEST(test_fair_share_charge), TEST(test_set_speed_class))
