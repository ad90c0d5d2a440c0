/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fair share and multifactor priority in the scheduling core
 * (src/sched/fairshare.c) against a case computed by hand:
 *
 *   tree: o (shares 3) { a (3), b (1) },  x (2)        one node of 8 devices
 *   t = 0..100: a runs 4 devices, b 2, x 2; half-life 100 s
 *   usage at t = 100: a 400, b 200, x 200, o 600, all 800 device-seconds
 *   level fs = (shares / siblings' shares) / (usage / parent's usage):
 *     x 0.4 / 0.25 = 1.6,  o 0.6 / 0.75 = 0.8,  a 0.75 / (2/3) = 1.125,
 *     b 0.25 / (1/3) = 0.75
 *   Fair Tree walk: x, o, a, b; the leaves x, a, b rank 0, 1, 2 of 3 ->
 *   factors 3/3, 2/3, 1/3 (the inner o shows its first leaf's, 2/3)
 *   at t = 600 (usage decayed by 2^-5, the same for all: same factors), jobs
 *   queued at t = 100 (age 500 of max 1000 s = 0.5), 4 devices each (size
 *   0.5), weights age 1000, fair share 3000, size 800, QoS 2000:
 *     PX (x, QoS 1.0)           0 + 500 + 3000 + 400 + 2000 = 5900
 *     PA (a, QoS 0.5, nice -10) -10 + 500 + 2000 + 400 + 1000 = 3890
 *     PB (b)                    0 + 500 + 1000 + 400 + 0 = 1900
 *   so PX and PA start, PB (queued first) waits.
 * Also: bad settings refused naming them, cycles in the tree refused.
 */
#include <float.h>
#include <math.h>

#include "sched_test_util.h"

#define NEAR(a, b) CHECK(fabs((double)(a) - (double)(b)) < 1e-9)

static struct sched *mf_cluster(void)
{
	struct sched_config cfg;
	struct sched *s;
	struct aidc_err e = {0};
	sched_config_defaults(&cfg);
	cfg.order = SCHED_ORDER_MULTIFACTOR;
	cfg.fs_half_life_s = 100;
	cfg.prio_calc_period_s = 0;
	cfg.prio_max_age_s = 1000;
	cfg.prio_weight_age = 1000;
	cfg.prio_weight_fairshare = 3000;
	cfg.prio_weight_size = 800;
	cfg.prio_weight_qos = 2000;
	s = mk_config(&cfg);
	if (sched_add_model(s, "gpu", "v", 16384, &e) != 0 ||
	    sched_add_partition(s, "p", &e) != 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		exit(1);
	}
	add_nodes(s, "n", 0, 1, 8, 0, 0, 0);
	return s;
}

static int group(struct sched *s, const char *name, int32_t parent, int64_t shares)
{
	struct sched_group_spec g = {name, parent, -1, -1, -1, -1, -1, shares, {0}, {0}, NULL, 0};
	struct aidc_err e = {0};
	int id = sched_group_set(s, &g, &e);
	if (id < 0)
		fprintf(stderr, "group %s: %s\n", name, e.msg);
	return id;
}

static int job(struct sched *s, uint64_t id, uint32_t ndev, int g, uint32_t qos_milli, int32_t nice,
	       int64_t now)
{
	struct sched_job_spec js = jspec(id, 1, ndev, 1000);
	js.groups[0] = (uint32_t)g;
	js.ngroups = 1;
	js.qos_milli = qos_milli;
	js.priority = nice;
	return submit_spec(s, &js, now);
}

static void share_is(struct sched *s, int g, double usage, double lfs, double factor)
{
	struct sched_group_share sh;
	CHECK_EQ(sched_group_share(s, (uint32_t)g, &sh), 0);
	NEAR(sh.usage, usage);
	NEAR(sh.level_fs, lfs);
	NEAR(sh.factor, factor);
}

/* The groups of the hand-computed case: o (3 shares) with a (3) and b (1) under
 * it, and x (2). */
struct hand_groups {
	int o, x, a, b;
};

/*
 * The hand-computed case's history: jobs of 4 devices in a, 2 in b and 2 in x
 * run from 0 to 100, then the node drains so that the next jobs queue.
 */
static struct hand_groups hand_history(struct sched *s, struct sched_decisions *d)
{
	struct aidc_err e = {0};
	struct hand_groups g;

	g.o = group(s, "o", -1, 3);
	g.x = group(s, "x", -1, 2);
	g.a = group(s, "a", g.o, 3);
	g.b = group(s, "b", g.o, 1);
	CHECK(g.o >= 0 && g.x >= 0 && g.a >= 0 && g.b >= 0);
	int a1 = job(s, 1, 4, g.a, 0, 0, 0), b1 = job(s, 2, 2, g.b, 0, 0, 0);
	int x1 = job(s, 3, 2, g.x, 0, 0, 0);
	CHECK_EQ(pass_count(s, 0, d, SCHED_DECIDE_START), 3);
	CHECK_EQ(sched_job_finish(s, (uint32_t)a1, 100, &e), 0);
	CHECK_EQ(sched_job_finish(s, (uint32_t)b1, 100, &e), 0);
	CHECK_EQ(sched_job_finish(s, (uint32_t)x1, 100, &e), 0);
	CHECK_EQ(sched_set_node_state(s, 0, SCHED_NODE_DRAINING, &e), 0);
	return g;
}

static void test_hand_computed(void)
{
	struct sched *s = mf_cluster();
	struct sched_decisions d;
	struct aidc_err e = {0};
	sched_decisions_init(&d);
	struct hand_groups g = hand_history(s, &d);
	int x = g.x, o = g.o, a = g.a, b = g.b;

	sched_fairshare_update(s, 100);
	share_is(s, x, 200, 1.6, 1.0);
	share_is(s, o, 600, 0.8, 2.0 / 3);
	share_is(s, a, 400, 1.125, 2.0 / 3);
	share_is(s, b, 200, 0.75, 1.0 / 3);

	int pb = job(s, 10, 4, b, 0, 0, 100);
	int pa = job(s, 11, 4, a, 500, -10, 100);
	int px = job(s, 12, 4, x, 1000, 0, 100);
	CHECK_EQ(pass_count(s, 100, &d, SCHED_DECIDE_START), 0);
	CHECK_EQ(sched_set_node_state(s, 0, SCHED_NODE_UP, &e), 0);
	CHECK_EQ(pass_count(s, 600, &d, SCHED_DECIDE_START), 2);
	CHECK(started(&d, 12) && started(&d, 11) && !started(&d, 10));
	share_is(s, a, 12.5, 1.125, 2.0 / 3); /* 400 x 2^-5 */

	struct sched_prio f;
	CHECK_EQ(sched_job_prio(s, (uint32_t)px, &f), 0);
	CHECK_EQ(f.priority, 5900);
	CHECK_EQ(f.at_s, 600);
	NEAR(f.age, 0.5);
	NEAR(f.fairshare, 1.0);
	NEAR(f.size, 0.5);
	NEAR(f.qos, 1.0);
	CHECK_EQ(sched_job_prio(s, (uint32_t)pa, &f), 0);
	CHECK_EQ(f.priority, 3890);
	CHECK_EQ(f.nice, -10);
	CHECK_EQ(f.fs_group, a);
	CHECK_EQ(sched_job_prio(s, (uint32_t)pb, &f), 0);
	CHECK_EQ(f.priority, 1900);
	CHECK_EQ(sched_job_reason(s, (uint32_t)pb), SCHED_REASON_RESOURCES);
	sched_decisions_release(&d);
	sched_free(s);
}

/* The start forecast (forecast.c) copies usage and factors: in the case
 * above with PA's QoS factor 0, fair share alone puts PA (-10 + 500 + 2000 +
 * 400 = 2890) before PB (500 + 1000 + 400 = 1900); without the usage both
 * would have factor 1 and PB (3900) would go before PA (3890). */
static void test_forecast_keeps_fair_share(void)
{
	struct sched *s = mf_cluster();
	struct sched_decisions d;
	struct aidc_err e = {0};
	sched_decisions_init(&d);
	struct hand_groups g = hand_history(s, &d);
	int pb = job(s, 10, 4, g.b, 0, 0, 100);
	int pa = job(s, 11, 4, g.a, 0, -10, 100);
	int blk = job(s, 12, 4, g.x, 1000, 0, 100); /* 5900: first */
	CHECK_EQ(pass_count(s, 100, &d, SCHED_DECIDE_START), 0);
	CHECK_EQ(sched_set_node_state(s, 0, SCHED_NODE_UP, &e), 0);
	int64_t st[16] = {0};
	CHECK_EQ(sched_forecast(s, 600, 100, 0, st, 16, &e), 0);
	CHECK_EQ(st[blk], 600);
	CHECK_EQ(st[pa], 600);
	CHECK_EQ(st[pb], 1600); /* after the first 1000 s limit ends */
	CHECK_EQ(pass_count(s, 600, &d, SCHED_DECIDE_START), 2);
	CHECK(started(&d, 12) && started(&d, 11) && !started(&d, 10));
	sched_decisions_release(&d);
	sched_free(s);
}

/* Ties share a rank; a deeper group is the job's fair-share group. */
static void test_ties_and_depth(void)
{
	struct sched *s = mf_cluster();
	int o = group(s, "o", -1, 1), p = group(s, "p", -1, 1);
	int u = group(s, "u in o", o, 1);
	sched_fairshare_update(s, 0);
	/* no usage: every level fs is DBL_MAX; o and p tie (rank 0), the leaf u
	 * is the first leaf (rank 0): factor 1 for all */
	share_is(s, o, 0, DBL_MAX, 1.0);
	share_is(s, p, 0, DBL_MAX, 1.0);
	share_is(s, u, 0, DBL_MAX, 1.0);
	struct sched_job_spec js = jspec(1, 1, 1, 100);
	js.groups[0] = (uint32_t)u; /* deepest listed first: still the fair-share group */
	js.groups[1] = (uint32_t)o;
	js.ngroups = 2;
	int h = submit_spec(s, &js, 0);
	struct sched_prio f;
	CHECK_EQ(sched_job_prio(s, (uint32_t)h, &f), 0);
	CHECK_EQ(f.fs_group, u);
	sched_free(s);
}

/* The partition factor: each partition's priority job factor over the
 * highest (100 and 50 -> 1 and 0.5), weight 1000: +1000 and +500 on top of
 * the other factors; bad calls change nothing. */
static void test_partition_factor(void)
{
	struct sched_config cfg;
	struct aidc_err e = {0};
	sched_config_defaults(&cfg);
	cfg.order = SCHED_ORDER_MULTIFACTOR;
	cfg.prio_calc_period_s = 0;
	cfg.prio_weight_age = cfg.prio_weight_fairshare = cfg.prio_weight_qos = 0;
	cfg.prio_weight_partition = 1000;
	struct sched *s = mk_config(&cfg);
	CHECK_EQ(sched_add_model(s, "gpu", "v", 16384, &e), 0);
	CHECK_EQ(sched_add_partition(s, "hi", &e), 0);
	CHECK_EQ(sched_add_partition(s, "lo", &e), 1);
	add_nodes(s, "h", 0, 1, 1, 0, 0, 0);
	add_nodes(s, "l", 1, 1, 1, 0, 0, 1);
	struct sched_job_spec js = jspec(1, 1, 1, 100);
	int h = submit_spec(s, &js, 0);
	js = jspec(2, 1, 1, 100);
	js.partition = 1;
	int l = submit_spec(s, &js, 0);
	struct sched_prio f;
	CHECK_EQ(sched_job_prio(s, (uint32_t)h, &f), 0);
	CHECK_EQ(f.priority, 0); /* every factor 0 until a partition has one */
	CHECK_EQ(sched_partition_set_priority(s, 0, 100, &e), 0);
	CHECK_EQ(sched_partition_set_priority(s, 1, 50, &e), 0);
	CHECK_EQ(sched_job_prio(s, (uint32_t)h, &f), 0);
	NEAR(f.partition, 1.0);
	CHECK_EQ(f.w_partition, 1000);
	CHECK_EQ(f.priority, 1000);
	CHECK_EQ(sched_job_prio(s, (uint32_t)l, &f), 0);
	NEAR(f.partition, 0.5);
	CHECK_EQ(f.priority, 500);
	CHECK_EQ(sched_partition_set_priority(s, 2, 1, &e), AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, "no partition");
	e = (struct aidc_err){0};
	CHECK_EQ(sched_partition_set_priority(s, 1, AIDC_MAX_PARTITION_PRIORITY + 1, &e),
		 AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, "partition lo: priority factor");
	CHECK_EQ(sched_job_prio(s, (uint32_t)l, &f), 0);
	CHECK_EQ(f.priority, 500); /* unchanged */
	sched_free(s);
	sched_config_defaults(&cfg);
	cfg.prio_weight_partition = AIDC_MAX_PRIORITY + 1;
	s = NULL;
	CHECK_EQ(sched_new(&cfg, NULL, &s, &e), AIDC_E_INVAL);
}

static void test_refusals(void)
{
	struct sched_config cfg;
	struct sched *s = NULL;
	struct aidc_err e = {0};
	sched_config_defaults(&cfg);
	cfg.prio_weight_fairshare = AIDC_MAX_PRIORITY + 1;
	CHECK_EQ(sched_new(&cfg, NULL, &s, &e), AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, "priority weight");
	sched_config_defaults(&cfg);
	cfg.prio_max_age_s = 0;
	e = (struct aidc_err){0};
	CHECK_EQ(sched_new(&cfg, NULL, &s, &e), AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, "max age");
	sched_config_defaults(&cfg);
	cfg.fs_half_life_s = -1;
	CHECK_EQ(sched_new(&cfg, NULL, &s, &e), AIDC_E_INVAL);

	s = mf_cluster();
	int o = group(s, "o", -1, 1), a = group(s, "a", o, 1);
	struct sched_group_spec cyc = {"o", a, -1, -1, -1, -1, -1, 1, {0}, {0}, NULL, 0};
	e = (struct aidc_err){0};
	CHECK_EQ(sched_group_set(s, &cyc, &e), AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, "cycle");
	struct sched_group_spec neg = {"o", -1, -1, -1, -1, -1, -1, -1, {0}, {0}, NULL, 0};
	e = (struct aidc_err){0};
	CHECK_EQ(sched_group_set(s, &neg, &e), AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, "shares");
	struct sched_group_share sh;
	CHECK_EQ(sched_group_share(s, (uint32_t)o, &sh), 0);
	CHECK_EQ(sh.parent, -1); /* unchanged */
	CHECK_EQ(sh.shares, 1);
	CHECK_EQ(sched_group_share(s, 99, &sh), AIDC_E_NOTFOUND);
	struct sched_job_spec js = jspec(1, 1, 1, 100);
	js.qos_milli = 1001;
	CHECK(submit_spec(s, &js, 0) < 0);
	sched_free(s);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {TEST(test_hand_computed),
						 TEST(test_forecast_keeps_fair_share),
						 TEST(test_ties_and_depth), TEST(test_refusals),
						 TEST(test_partition_factor)};
	return test_run(argc, argv, cases, AIDC_ARRAY_LEN(cases));
}
