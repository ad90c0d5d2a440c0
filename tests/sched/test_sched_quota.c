/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tenancy groups in the scheduling core (src/sched/quota.c): limits at their
 * boundary (max_running_jobs, max_devices: the job at the limit starts, the
 * next is held with reason LIMIT naming the group, others still start), quota
 * with borrowing in a cohort (a job beyond nominal starts on a sibling's
 * unused quota and is marked borrowing; borrow_limit and lend_limit bound
 * it), reclaim (the lender's job within its nominal preempts the borrower
 * under FIFO, where the order itself never preempts, and starts after the
 * requeue; the borrower is never started twice at once), and bad groups
 * refused changing nothing. CPU and memory quotas (exactly at the quota runs,
 * one core or MiB over waits naming the resource and the group), an
 * organization's cap over its projects' jobs (siblings together, borrowing
 * included) and the reclaim a lender within its quota makes at that cap.
 */
#include "sched_test_util.h"

static int group(struct sched *s, const char *name, int32_t parent, int64_t run, int64_t devs,
		 int64_t nominal, int64_t borrow, int64_t lend)
{
	struct sched_group_spec g = {name, parent, run, devs, nominal, borrow, lend, 0, {0}, {0}, NULL, 0};
	struct aidc_err e = {0};
	int id = sched_group_set(s, &g, &e);
	if (id < 0)
		fprintf(stderr, "group %s: %s\n", name, e.msg);
	return id;
}

static int sub(struct sched *s, uint64_t id, uint32_t ndev, int g1, int g2, int64_t now)
{
	return submit_in(s, id, ndev, -1, g1, g2, now);
}

static void test_limits_at_boundary(void)
{
	struct sched *s = cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_STRICT, 4, 8);
	struct sched_decisions d;
	sched_decisions_init(&d);
	int acct = group(s, "account phys", -1, 2, 12, -1, -1, -1);
	int user = group(s, "user a in phys", -1, -1, 3, -1, -1, -1);
	int other = group(s, "account chem", -1, -1, -1, -1, -1, -1);
	CHECK(acct >= 0 && user >= 0 && other >= 0);
	int a1 = sub(s, 1, 2, acct, user, 0);  /* user 2 of 3 devices */
	int a2 = sub(s, 2, 2, acct, user, 0);  /* user would hold 4 > 3: LIMIT */
	int a3 = sub(s, 3, 1, acct, -1, 0);    /* account's 2nd running job: starts */
	int a4 = sub(s, 4, 1, acct, -1, 0);    /* 3rd running job > 2: LIMIT */
	int c1 = sub(s, 5, 8, other, -1, 0);   /* other groups are not held */
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 3);
	CHECK_EQ(sched_job_state(s, (uint32_t)a1), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)a3), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)c1), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_reason(s, (uint32_t)a2), SCHED_REASON_LIMIT);
	hold_is(s, a2, "max_devices of user a in phys");
	CHECK_EQ(sched_job_reason(s, (uint32_t)a4), SCHED_REASON_LIMIT);
	hold_is(s, a4, "max_running_jobs of account phys");
	CHECK_STR(sched_reason_name(SCHED_REASON_LIMIT), "limit");
	/* One ends: the account's running-job limit lets a4 start; a2 stays held. */
	struct aidc_err e = {0};
	CHECK_EQ(sched_job_finish(s, (uint32_t)a3, 10, &e), 0);
	CHECK_EQ(pass_count(s, 10, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(sched_job_state(s, (uint32_t)a4), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_reason(s, (uint32_t)a2), SCHED_REASON_LIMIT);
	CHECK_EQ(sched_group_dev_milli(s, (uint32_t)user), 2000);
	/* Bad groups change nothing. */
	struct sched_group_spec bad = {"account phys", -1, -5, -1, -1, -1, -1, 0, {0}, {0}, NULL, 0};
	CHECK_EQ(sched_group_set(s, &bad, NULL), AIDC_E_INVAL);
	bad.max_running_jobs = (int64_t)AIDC_MAX_TENANCY_LIMIT + 1;
	CHECK_EQ(sched_group_set(s, &bad, NULL), AIDC_E_INVAL);
	bad.max_running_jobs = 1;
	bad.parent = 99;
	CHECK_EQ(sched_group_set(s, &bad, NULL), AIDC_E_INVAL);
	struct sched_job_spec js = jspec(9, 1, 1, 100);
	js.groups[0] = 99;
	js.ngroups = 1;
	CHECK_EQ(sched_submit(s, &js, 10, NULL), AIDC_E_INVAL);
	CHECK_EQ(check_invariants(s), 0);
	sched_decisions_release(&d);
	sched_free(s);
}

static void test_borrow_and_reclaim(void)
{
	/* 2 nodes x 8: A and B each have a nominal quota of 8 in one cohort. */
	struct sched *s = cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 2, 8);
	struct sched_decisions d;
	sched_decisions_init(&d);
	struct aidc_err e = {0};
	int cohort = group(s, "org", -1, -1, -1, -1, -1, -1);
	int ga = group(s, "account A", cohort, -1, -1, 8, -1, -1);
	int gb = group(s, "account B", cohort, -1, -1, 8, 4, -1); /* B borrows at most 4 */
	int b1 = sub(s, 1, 8, gb, -1, 0); /* within B's nominal */
	int b2 = sub(s, 2, 4, gb, -1, 0); /* borrows 4 of A's unused quota */
	int b3 = sub(s, 3, 1, gb, -1, 0); /* would borrow 5 > borrow_limit 4: QUOTA */
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 2);
	CHECK(!sched_job_borrowing(s, (uint32_t)b1));
	CHECK(sched_job_borrowing(s, (uint32_t)b2));
	CHECK_EQ(sched_job_reason(s, (uint32_t)b3), SCHED_REASON_QUOTA);
	hold_is(s, b3, "borrow_limit of account B");
	/* A wants its 8 back: FIFO never preempts, the quota does (b2 only). */
	int a1 = sub(s, 4, 8, ga, -1, 1);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_PREEMPT), 1);
	CHECK_EQ(d.v[0].job, (uint32_t)b2);
	CHECK_EQ(sched_job_reason(s, (uint32_t)a1), SCHED_REASON_PREEMPTING);
	CHECK_EQ(sched_job_requeue(s, (uint32_t)b2, 1, &e), 0);
	/* The lender starts; the borrower waits (no room, borrowing paused). */
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(d.v[0].job, (uint32_t)a1);
	CHECK_EQ(sched_job_state(s, (uint32_t)b2), SCHED_JOB_PENDING);
	CHECK_EQ(sched_job_state(s, (uint32_t)b1), SCHED_JOB_RUNNING);
	CHECK_EQ(check_invariants(s), 0);
	/* A's job ends: B borrows again after the pause. */
	CHECK_EQ(sched_job_finish(s, (uint32_t)a1, 5, &e), 0);
	pass_count(s, 5, &d, SCHED_DECIDE_START);
	pass_count(s, 6, &d, SCHED_DECIDE_START);
	CHECK_EQ(sched_job_state(s, (uint32_t)b2), SCHED_JOB_RUNNING);
	CHECK(sched_job_borrowing(s, (uint32_t)b2));
	sched_decisions_release(&d);
	sched_free(s);
}

static void test_lend_limit(void)
{
	struct sched *s = cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 2, 8);
	struct sched_decisions d;
	sched_decisions_init(&d);
	int cohort = group(s, "org", -1, -1, -1, -1, -1, -1);
	int ga = group(s, "account A", cohort, -1, -1, 8, -1, 2); /* lends at most 2 */
	int gb = group(s, "account B", cohort, -1, -1, 8, -1, -1);
	CHECK(ga >= 0);
	int b1 = sub(s, 1, 8, gb, -1, 0);
	int b2 = sub(s, 2, 2, gb, -1, 0); /* borrows 2: allowed */
	int b3 = sub(s, 3, 1, gb, -1, 0); /* a 3rd borrowed device: A lends no more */
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 2);
	CHECK_EQ(sched_job_state(s, (uint32_t)b1), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)b2), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_reason(s, (uint32_t)b3), SCHED_REASON_QUOTA);
	hold_is(s, b3, "quota of account B");
	sched_decisions_release(&d);
	sched_free(s);
}

/* A group with CPU (cores) and memory (MiB) quotas only; -2 = no quota. */
static int rgroup(struct sched *s, const char *name, int32_t parent, int64_t cpus, int64_t cborrow,
		  int64_t mem, int64_t mborrow)
{
	struct sched_group_spec g = {.name = name,
				     .parent = parent,
				     .max_running_jobs = -1,
				     .max_devices = -1,
				     .nominal_devices = -1,
				     .borrow_limit = -1,
				     .lend_limit = -1,
				     .cpus = {cpus > -2, cpus, cborrow, -1},
				     .mem_mib = {mem > -2, mem, mborrow, -1}};
	struct aidc_err e = {0};
	int id = sched_group_set(s, &g, &e);
	if (id < 0)
		fprintf(stderr, "group %s: %s\n", name, e.msg);
	return id;
}

/* A CPU-only job of ntasks x (cores, MiB) charged to g1 and (if >= 0) g2. */
static int rsub(struct sched *s, uint64_t id, uint32_t ntasks, uint32_t cores, uint64_t mib,
		int g1, int g2, int64_t now)
{
	struct sched_job_spec js = jspec(id, ntasks, 0, 100);
	js.task.cpu_milli = cores * 1000;
	js.task.mem_mib = mib;
	js.groups[0] = (uint32_t)g1;
	js.ngroups = 1;
	if (g2 >= 0) {
		js.groups[1] = (uint32_t)g2;
		js.ngroups = 2;
	}
	return submit_spec(s, &js, now);
}

static void test_cpu_mem_boundary(void)
{
	struct sched *s = cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 2, 8);
	struct sched_decisions d;
	sched_decisions_init(&d);
	int org = rgroup(s, "org", -1, -2, -1, -2, -1);
	int ga = rgroup(s, "account A", org, 4, 0, -2, -1);   /* 4 cores, borrows none */
	int gb = rgroup(s, "account B", org, 4, -1, -2, -1);  /* 4 cores, borrows any */
	int gm = rgroup(s, "account M", org, -2, -1, 3072, 0); /* 3 GiB, borrows none */
	CHECK(org >= 0 && ga >= 0 && gb >= 0 && gm >= 0);
	int a1 = rsub(s, 1, 4, 1, 10, ga, -1, 0);  /* exactly 4 cores: runs */
	int a2 = rsub(s, 2, 1, 1, 10, ga, -1, 0);  /* one core over: waits */
	int m1 = rsub(s, 3, 3, 1, 1024, gm, -1, 0); /* exactly 3072 MiB: runs */
	int m2 = rsub(s, 4, 1, 1, 1, gm, -1, 0);    /* 1 MiB over: waits */
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 2);
	CHECK_EQ(sched_job_state(s, (uint32_t)a1), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)m1), SCHED_JOB_RUNNING);
	CHECK(!sched_job_borrowing(s, (uint32_t)a1));
	CHECK_EQ(sched_job_reason(s, (uint32_t)a2), SCHED_REASON_QUOTA);
	hold_is(s, a2, "borrow_limit_cpus of account A");
	CHECK_EQ(sched_job_reason(s, (uint32_t)m2), SCHED_REASON_QUOTA);
	hold_is(s, m2, "borrow_limit_mem of account M");
	/* B borrows A's nothing (A uses its 4) but may borrow nothing else
	 * either: M lends no CPUs (it has no CPU quota). */
	int b1 = rsub(s, 5, 5, 1, 10, gb, -1, 1);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_START), 0);
	hold_is(s, b1, "quota_cpus of account B");
	/* A's job ends: B borrows A's unused 4 cores, exactly 8 run, a 9th waits. */
	struct aidc_err e = {0};
	CHECK_EQ(sched_job_finish(s, (uint32_t)a1, 2, &e), 0);
	CHECK_EQ(sched_job_cancel(s, (uint32_t)a2, 2, &e), 0);
	int b2 = rsub(s, 6, 3, 1, 10, gb, -1, 2);
	int b3 = rsub(s, 7, 1, 1, 10, gb, -1, 2);
	CHECK_EQ(pass_count(s, 2, &d, SCHED_DECIDE_START), 2);
	CHECK_EQ(sched_job_state(s, (uint32_t)b1), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)b2), SCHED_JOB_RUNNING);
	CHECK(sched_job_borrowing(s, (uint32_t)b1));
	CHECK_EQ(sched_job_reason(s, (uint32_t)b3), SCHED_REASON_QUOTA);
	hold_is(s, b3, "quota_cpus of account B");
	/* Requeued, it waits and borrows nothing (the API showed it borrowing). */
	CHECK_EQ(sched_job_requeue(s, (uint32_t)b1, 3, NULL), 0);
	CHECK_EQ(sched_job_state(s, (uint32_t)b1), SCHED_JOB_PENDING);
	CHECK(!sched_job_borrowing(s, (uint32_t)b1));
	/* Bad CPU and memory quotas are refused, naming the group; nothing changes. */
	struct sched_group_spec bad = {.name = "account A", .parent = org, .max_running_jobs = -1,
				       .max_devices = -1, .nominal_devices = -1, .borrow_limit = -1,
				       .lend_limit = -1, .cpus = {true, -2, -1, -1}};
	e = (struct aidc_err){0};
	CHECK_EQ(sched_group_set(s, &bad, &e), AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, "account A");
	bad.cpus.nominal = 4;
	bad.mem_mib = (struct sched_res_quota){true, (int64_t)AIDC_MAX_TENANCY_LIMIT * 1024 + 1, -1, -1};
	CHECK_EQ(sched_group_set(s, &bad, NULL), AIDC_E_INVAL);
	struct sched_group_spec got;
	CHECK_EQ(sched_group_get(s, (uint32_t)ga, &got), 0);
	CHECK_EQ(got.cpus.nominal, 4);
	CHECK_EQ(got.cpus.borrow_limit, 0);
	CHECK(!got.mem_mib.set);
	CHECK_EQ(sched_group_get(s, 99, &got), AIDC_E_NOTFOUND);
	CHECK_EQ(check_invariants(s), 0);
	sched_decisions_release(&d);
	sched_free(s);
}

/* An organization's cap (a group with a quota and no parent, charged with its
 * projects' jobs) holds the sum of its projects, siblings together. */
static void test_org_cap(void)
{
	struct sched *s = cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 2, 8);
	struct sched_decisions d;
	sched_decisions_init(&d);
	int org = rgroup(s, "cohort sci", -1, 6, -1, 8192, -1);
	int gp = rgroup(s, "account P", org, 3, -1, -2, -1);
	int gq = rgroup(s, "account Q", org, -2, -1, -2, -1); /* no quota of its own */
	int other = rgroup(s, "cohort eng", -1, -2, -1, -2, -1);
	int p1 = rsub(s, 1, 3, 1, 1024, gp, org, 0); /* P at its quota, org 3 */
	int q1 = rsub(s, 2, 3, 1, 1024, gq, org, 0); /* org exactly at its 6 cores */
	int q2 = rsub(s, 3, 1, 1, 1024, gq, org, 0); /* a 7th core: the cap holds it */
	int o1 = rsub(s, 4, 16, 1, 1024, other, -1, 0); /* another organization runs */
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 3);
	CHECK_EQ(sched_job_state(s, (uint32_t)p1), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)q1), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)o1), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_reason(s, (uint32_t)q2), SCHED_REASON_QUOTA);
	hold_is(s, q2, "quota_cpus of cohort sci");
	/* Memory too: p1 holds 3 GiB of the 8; 7 GiB more is over the cap. */
	struct aidc_err e = {0};
	CHECK_EQ(sched_job_cancel(s, (uint32_t)q2, 1, &e), 0);
	CHECK_EQ(sched_job_finish(s, (uint32_t)q1, 1, &e), 0);
	int q3 = rsub(s, 5, 1, 1, 7 * 1024, gq, org, 1);
	int q4 = rsub(s, 6, 1, 1, 5 * 1024, gq, org, 1); /* exactly 8 GiB with p1's 3 */
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_START), 1);
	hold_is(s, q3, "quota_mem of cohort sci");
	CHECK_EQ(sched_job_state(s, (uint32_t)q4), SCHED_JOB_RUNNING);
	CHECK_EQ(check_invariants(s), 0);
	sched_decisions_release(&d);
	sched_free(s);
}

/* Borrowing within an organization up to its cap, then the lender reclaims at
 * the cap: the borrower is preempted (cores are plenty, only the cap binds). */
static void test_org_borrow_reclaim(void)
{
	struct sched *s = cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 2, 8);
	struct sched_decisions d;
	sched_decisions_init(&d);
	struct aidc_err e = {0};
	int org = rgroup(s, "cohort sci", -1, 8, -1, -2, -1);
	int gp = rgroup(s, "account P", org, 4, -1, -2, -1);
	int gq = rgroup(s, "account Q", org, 4, -1, -2, -1);
	int p1 = rsub(s, 1, 4, 1, 10, gp, org, 0); /* P's own 4 */
	int p2 = rsub(s, 2, 4, 1, 10, gp, org, 0); /* borrows Q's 4: the org at 8 */
	int p3 = rsub(s, 3, 1, 1, 10, gp, org, 0); /* nothing more to borrow */
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 2);
	CHECK(!sched_job_borrowing(s, (uint32_t)p1));
	CHECK(sched_job_borrowing(s, (uint32_t)p2));
	CHECK_EQ(sched_job_reason(s, (uint32_t)p3), SCHED_REASON_QUOTA);
	hold_is(s, p3, "quota_cpus of account P");
	CHECK_EQ(sched_job_cancel(s, (uint32_t)p3, 0, &e), 0);
	/* Q wants its 4: within its quota, held at the cap, it reclaims p2. */
	int q1 = rsub(s, 4, 4, 1, 10, gq, org, 1);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_PREEMPT), 1);
	CHECK_EQ(d.v[0].job, (uint32_t)p2);
	CHECK_EQ(sched_job_reason(s, (uint32_t)q1), SCHED_REASON_PREEMPTING);
	/* Not twice while the victim stops. */
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_PREEMPT), 0);
	CHECK_EQ(sched_job_requeue(s, (uint32_t)p2, 2, &e), 0);
	CHECK_EQ(pass_count(s, 2, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(d.v[0].job, (uint32_t)q1);
	CHECK_EQ(sched_job_state(s, (uint32_t)p2), SCHED_JOB_PENDING);
	CHECK_EQ(check_invariants(s), 0);
	sched_decisions_release(&d);
	sched_free(s);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {TEST(test_limits_at_boundary),
						 TEST(test_borrow_and_reclaim),
						 TEST(test_lend_limit),
						 TEST(test_cpu_mem_boundary),
						 TEST(test_org_cap),
						 TEST(test_org_borrow_reclaim)};
	return test_run(argc, argv, cases, AIDC_ARRAY_LEN(cases));
}
