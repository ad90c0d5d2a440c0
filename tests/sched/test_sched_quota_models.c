/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quotas per device model (src/sched/quota.c, docs/tenancy.md "Quotas per
 * device model"): two models (A100 on node a, V100 on node v) and two
 * projects in one cohort. Each model's nominal holds at its boundary and
 * names the model in the reason; a project borrows the other's unused quota
 * of a model only where the lender's entry lends it; a job that names no
 * model is admitted on (and placed on) the models its entries admit; a
 * lender reclaiming model X preempts only borrowers of X, in its cohort and
 * at its organization's per-model cap; bad entries are refused changing
 * nothing.
 */
#include "sched_test_util.h"

enum { A100, V100 };

/* Two nodes: a (8 x A100) and v (8 x V100), one partition. */
static struct sched *two_models(void)
{
	struct sched *s = mk(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY);
	struct aidc_err e = {0};
	if (sched_add_model(s, "A100", "v", 40960, &e) != A100 ||
	    sched_add_model(s, "V100", "v", 16384, &e) != V100 ||
	    sched_add_partition(s, "p", &e) != 0)
		exit(1);
	add_nodes(s, "a", 0, 1, 8, A100, 0, 0);
	add_nodes(s, "v", 0, 1, 8, V100, 0, 0);
	return s;
}

/* A project of cohort with per-model entries {model, nominal, borrow, lend}. */
static int project(struct sched *s, const char *name, int32_t cohort,
		   const struct sched_model_quota *mq, uint32_t n)
{
	struct sched_group_spec g = {.name = name,
				     .parent = cohort,
				     .max_running_jobs = -1,
				     .max_devices = -1,
				     .nominal_devices = -1,
				     .borrow_limit = -1,
				     .lend_limit = -1,
				     .models = mq,
				     .nmodels = n};
	struct aidc_err e = {0};
	int id = sched_group_set(s, &g, &e);
	if (id < 0)
		fprintf(stderr, "group %s: %s\n", name, e.msg);
	return id;
}

static int org(struct sched *s)
{
	return project(s, "org", -1, NULL, 0);
}

/* A job of ndev devices of model (-1 = any) charged to g. */
static int msub(struct sched *s, uint64_t id, uint32_t ndev, int model, int g, int64_t now)
{
	return submit_in(s, id, ndev, model, g, -1, now);
}

/* The model of the first device job id started on in d, or -1. */
static int started_model(const struct sched *s, const struct sched_decisions *d, uint64_t id)
{
	const struct sched_decision *x = started(d, id);
	if (!x || !x->nalloc)
		return -1;
	return s->devs[d->allocs[x->first_alloc].dev].model;
}

static void test_boundary_and_lending(void)
{
	struct sched *s = two_models();
	struct sched_decisions d;
	sched_decisions_init(&d);
	int o = org(s);
	/* p1: 4 A100 it may not exceed (borrow 0), 4 V100 it lends none of. */
	const struct sched_model_quota q1[] = {{A100, 4, 0, -1}, {V100, 4, -1, 0}};
	const struct sched_model_quota q2[] = {{A100, 4, -1, -1}, {V100, 4, -1, -1}};
	int p1 = project(s, "account p1", o, q1, 2);
	int p2 = project(s, "account p2", o, q2, 2);
	CHECK(p1 >= 0 && p2 >= 0);
	int a1 = msub(s, 1, 4, A100, p1, 0); /* exactly p1's nominal */
	int a2 = msub(s, 2, 1, A100, p1, 0); /* one more: borrow_limit 0 */
	int v1 = msub(s, 3, 4, V100, p2, 0); /* exactly p2's nominal */
	int v2 = msub(s, 4, 1, V100, p2, 0); /* would borrow p1's V100: lent none */
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 2);
	CHECK_EQ(sched_job_state(s, (uint32_t)a1), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)v1), SCHED_JOB_RUNNING);
	CHECK(!sched_job_borrowing(s, (uint32_t)a1) && !sched_job_borrowing(s, (uint32_t)v1));
	CHECK_EQ(sched_job_reason(s, (uint32_t)a2), SCHED_REASON_QUOTA);
	hold_is(s, a2, "borrow_limit gpu:A100 of account p1: 4/4 in use");
	CHECK_EQ(sched_job_reason(s, (uint32_t)v2), SCHED_REASON_QUOTA);
	hold_is(s, v2, "quota gpu:V100 of account p2: 4/4 in use");
	/* p2's job that names no model: V100 is at its quota, A100 admits it,
	 * so it lands on A100 although V100 has room (4 free). */
	CHECK_EQ(sched_job_cancel(s, (uint32_t)v2, 1, NULL), 0);
	int n1 = msub(s, 5, 2, -1, p2, 1);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(started_model(s, &d, 5), A100);
	CHECK(!sched_job_borrowing(s, (uint32_t)n1));
	/* Its mask was narrowed for the pass only: it accepts any model again. */
	CHECK_EQ(s->jobs[n1].task.model_mask, 0);
	/* p2 borrows p1's unused A100? p1 uses 4 of 4: nothing to lend. */
	int n2 = msub(s, 6, 3, A100, p2, 2);
	CHECK_EQ(pass_count(s, 2, &d, SCHED_DECIDE_START), 0);
	hold_is(s, n2, "quota gpu:A100 of account p2: 2/4 in use");
	/* p1's A100 job ends: p2 borrows 1 of p1's 4 unused A100. */
	CHECK_EQ(sched_job_finish(s, (uint32_t)a1, 3, NULL), 0);
	CHECK_EQ(sched_job_cancel(s, (uint32_t)a2, 3, NULL), 0);
	CHECK_EQ(pass_count(s, 3, &d, SCHED_DECIDE_START), 1);
	CHECK(sched_job_borrowing(s, (uint32_t)n2));
	CHECK_EQ(check_invariants(s), 0);
	sched_decisions_release(&d);
	sched_free(s);
}

static void test_reclaim_per_model(void)
{
	struct sched *s = two_models();
	struct sched_decisions d;
	sched_decisions_init(&d);
	struct aidc_err e = {0};
	int o = org(s);
	const struct sched_model_quota q[] = {{A100, 4, -1, -1}, {V100, 4, -1, -1}};
	int p1 = project(s, "account p1", o, q, 2);
	int p2 = project(s, "account p2", o, q, 2);
	int b1 = msub(s, 1, 4, A100, p2, 0); /* nominal */
	int b2 = msub(s, 2, 4, A100, p2, 0); /* borrows p1's 4 A100 */
	int b3 = msub(s, 3, 4, V100, p2, 0); /* nominal */
	int b4 = msub(s, 4, 2, V100, p2, 0); /* borrows 2 of p1's V100 */
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 4);
	CHECK(!sched_job_borrowing(s, (uint32_t)b1) && sched_job_borrowing(s, (uint32_t)b2));
	CHECK(!sched_job_borrowing(s, (uint32_t)b3) && sched_job_borrowing(s, (uint32_t)b4));
	/* p1 wants its 4 A100 back: FIFO never preempts, its quota does, and
	 * only the A100 borrower (b4 borrows V100, b1 is within nominal). */
	int l1 = msub(s, 5, 4, A100, p1, 1);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_PREEMPT), 1);
	CHECK_EQ(d.v[0].job, (uint32_t)b2);
	CHECK_EQ(sched_job_reason(s, (uint32_t)l1), SCHED_REASON_PREEMPTING);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_PREEMPT), 0); /* not twice */
	CHECK_EQ(sched_job_requeue(s, (uint32_t)b2, 2, &e), 0);
	CHECK_EQ(pass_count(s, 2, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(started_model(s, &d, 5), A100);
	CHECK_EQ(sched_job_state(s, (uint32_t)b2), SCHED_JOB_PENDING);
	CHECK_EQ(sched_job_state(s, (uint32_t)b4), SCHED_JOB_RUNNING);
	/* The requeued borrower waits on A100 (p1 holds its nominal, nothing
	 * lent), naming the model. */
	pass_count(s, 4, &d, SCHED_DECIDE_START);
	hold_is(s, b2, "quota gpu:A100 of account p2: 4/4 in use");
	/* p1 reclaims V100 too: only the V100 borrower stops. */
	int l2 = msub(s, 6, 4, V100, p1, 5);
	CHECK_EQ(pass_count(s, 5, &d, SCHED_DECIDE_PREEMPT), 1);
	CHECK_EQ(d.v[0].job, (uint32_t)b4);
	CHECK_EQ(sched_job_requeue(s, (uint32_t)b4, 6, &e), 0);
	CHECK_EQ(pass_count(s, 6, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(sched_job_state(s, (uint32_t)l2), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)b1), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)b3), SCHED_JOB_RUNNING);
	CHECK_EQ(check_invariants(s), 0);
	sched_decisions_release(&d);
	sched_free(s);
}

static void test_org_cap_reclaim(void)
{
	/* The organization caps A100 at 4 (node a has 8): p2 borrows p1's 2
	 * within the cap; p1's job, within p1's entry but held at the cap,
	 * reclaims the A100 borrower, not the V100 one. */
	struct sched *s = two_models();
	struct sched_decisions d;
	sched_decisions_init(&d);
	struct aidc_err e = {0};
	const struct sched_model_quota cap[] = {{A100, 4, -1, -1}};
	int o = project(s, "cohort org", -1, cap, 1);
	const struct sched_model_quota q[] = {{A100, 2, -1, -1}, {V100, 2, -1, -1}};
	int p1 = project(s, "account p1", o, q, 2);
	int p2 = project(s, "account p2", o, q, 2);
	struct sched_job_spec js[4];
	const int model[4] = {A100, A100, V100, V100};
	int h[4];
	for (int i = 0; i < 4; i++) {
		js[i] = jspec((uint64_t)i + 1, 1, 2, 100);
		js[i].task.model_mask = (uint64_t)1 << model[i];
		js[i].groups[0] = (uint32_t)p2;
		js[i].groups[1] = (uint32_t)o;
		js[i].ngroups = 2;
		h[i] = submit_spec(s, &js[i], 0);
	}
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 4);
	CHECK(sched_job_borrowing(s, (uint32_t)h[1]) && sched_job_borrowing(s, (uint32_t)h[3]));
	struct sched_job_spec lj = jspec(9, 1, 2, 100);
	lj.task.model_mask = (uint64_t)1 << A100;
	lj.groups[0] = (uint32_t)p1;
	lj.groups[1] = (uint32_t)o;
	lj.ngroups = 2;
	int l = submit_spec(s, &lj, 1);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_PREEMPT), 1);
	CHECK_EQ(d.v[0].job, (uint32_t)h[1]);
	CHECK_EQ(sched_job_reason(s, (uint32_t)l), SCHED_REASON_PREEMPTING);
	CHECK_EQ(sched_job_requeue(s, (uint32_t)h[1], 2, &e), 0);
	CHECK_EQ(pass_count(s, 2, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(sched_job_state(s, (uint32_t)l), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)h[3]), SCHED_JOB_RUNNING);
	pass_count(s, 4, &d, SCHED_DECIDE_START);
	hold_is(s, h[1], "quota gpu:A100 of account p2: 2/2 in use"); /* p1 lends none now */
	CHECK_EQ(check_invariants(s), 0);
	sched_decisions_release(&d);
	sched_free(s);
}

static void test_bad_entries(void)
{
	struct sched *s = two_models();
	int o = org(s);
	const struct sched_model_quota q[] = {{A100, 4, -1, 2}};
	int p = project(s, "account p", o, q, 1);
	CHECK(p >= 0);
	const struct sched_model_quota unknown[] = {{7, 4, -1, -1}};
	const struct sched_model_quota twice[] = {{A100, 4, -1, -1}, {A100, 2, -1, -1}};
	const struct sched_model_quota neg[] = {{V100, -1, -1, -1}};
	const struct sched_model_quota big[] = {{V100, 1, (int64_t)AIDC_MAX_TENANCY_LIMIT + 1, -1}};
	CHECK_EQ(project(s, "account p", o, unknown, 1), AIDC_E_INVAL);
	CHECK_EQ(project(s, "account p", o, twice, 2), AIDC_E_INVAL);
	CHECK_EQ(project(s, "account p", o, neg, 1), AIDC_E_INVAL);
	CHECK_EQ(project(s, "account p", o, big, 1), AIDC_E_INVAL);
	struct sched_group_spec got;
	CHECK_EQ(sched_group_get(s, (uint32_t)p, &got), 0);
	CHECK_EQ(got.nmodels, 1);
	CHECK(got.models && got.models[0].model == A100 && got.models[0].nominal == 4 &&
	      got.models[0].borrow_limit == -1 && got.models[0].lend_limit == 2);
	/* Setting none drops the entries. */
	CHECK_EQ(project(s, "account p", o, NULL, 0), p);
	CHECK_EQ(sched_group_get(s, (uint32_t)p, &got), 0);
	CHECK_EQ(got.nmodels, 0);
	sched_free(s);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {TEST(test_boundary_and_lending),
						 TEST(test_reclaim_per_model), TEST(test_org_cap_reclaim),
						 TEST(test_bad_entries)};
	return test_run(argc, argv, cases, AIDC_ARRAY_LEN(cases));
}
