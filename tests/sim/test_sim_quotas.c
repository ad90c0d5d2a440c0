/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quotas in the simulator (src/sim/engine.c, quotafile.c) filled by a
 * program, as bench/tenancy does: rows from sim_quota_init borrow each
 * other's unused quota in the one default cohort, and rows whose
 * organization index is not another organization's row are refused
 * (zeroed rows once put every account under row 0's quota, and bench_tenancy
 * reported 0% guarantees and 290x more queueing than it had).
 */
#include "sim/sim.h"
#include "tests/test.h"
#include "util/util.h"

/* one pool of 4 single-device nodes */
static const char *cluster_text = "aidc-cluster 1\n"
				  "[nodes]\nname = n\ncount = 4\ndevices = 1\nmodel = m\n";

#define TRACE_HEAD                                                                                 \
	"# aidc-trace 1\n"                                                                         \
	"id,submit,duration,tasks,cpu,mem_mib,devices,fraction,model,partition,user,tenant,"       \
	"name,priority,time_limit,predicted,preemptible\n"

/* Account a, with a quota of 1 device, submits 3 one-device jobs of 100 s;
 * b (quota 3) submits nothing until 1,000 s. */
static const char *trace_text = TRACE_HEAD "1,0,100,1,0,0,1,,,a,u,t,j,0,,,1\n"
					   "2,0,100,1,0,0,1,,,a,u,t,j,0,,,1\n"
					   "3,0,100,1,0,0,1,,,a,u,t,j,0,,,1\n"
					   "4,1000,100,1,0,0,1,,,b,u,t,j,0,,,1\n";

/* The trace and cluster outlive each result (it borrows the trace). */
static struct sim_cluster cluster;
static struct sim_trace trace;

static void load(void)
{
	struct aidc_err e = {0};

	sim_cluster_init(&cluster);
	sim_trace_init(&trace);
	CHECK_EQ(sim_cluster_parse("c", cluster_text, strlen(cluster_text), &cluster, &e), 0);
	CHECK_EQ(sim_trace_load_mem("t", trace_text, strlen(trace_text), SIM_FORMAT_AIDC, NULL,
				    &trace, &e),
		 0);
}

static void unload(void)
{
	sim_trace_release(&trace);
	sim_cluster_release(&cluster);
}

static int run(const struct sim_quota *q, size_t nq, struct sim_result *r, struct aidc_err *e)
{
	struct sim_opts o;

	sim_opts_defaults(&o);
	o.quotas = q;
	o.nquotas = nq;
	sim_result_init(r);
	return sim_run(&trace, &cluster, &o, r, e);
}

static void two_accounts(struct sim_quota q[2])
{
	sim_quota_init(&q[0]);
	sim_quota_init(&q[1]);
	snprintf(q[0].name, sizeof q[0].name, "a");
	snprintf(q[1].name, sizeof q[1].name, "b");
	q[0].nominal_devices = 1;
	q[1].nominal_devices = 3;
}

/* a's three jobs start at once on b's unused quota. */
static void test_init_rows_borrow(void)
{
	struct sim_quota q[2];
	struct sim_result r;
	struct aidc_err e = {0};

	load();
	two_accounts(q);
	CHECK_EQ(q[0].org, -1);
	CHECK_EQ(q[0].borrow_limit, -1);
	CHECK_EQ(q[0].lend_limit, -1);
	if (run(q, 2, &r, &e)) {
		fprintf(stderr, "sim_run: %s\n", e.msg);
		CHECK(0);
		unload();
		return;
	}
	CHECK_EQ(trace.n, 4);
	for (size_t i = 0; i < 3; i++) {
		CHECK_EQ(r.jobs[i].status, SIM_ST_DONE);
		CHECK_EQ(r.jobs[i].first_start_s, 0);
	}
	CHECK_EQ(r.jobs[3].first_start_s, 1000);
	sim_result_release(&r);
	unload();
}

/* An organization index that is no organization's row is refused, naming
 * the row; the zeroed rows of a calloc are the case that matters. */
static void test_bad_org_refused(void)
{
	struct sim_quota q[2];
	struct sim_result r;
	struct aidc_err e = {0};

	load();
	two_accounts(q);
	q[1].org = 0; /* a is not marked as an organization */
	CHECK(run(q, 2, &r, &e) != 0);
	CHECK(strstr(e.msg, "quota row 1 (account b): organization index 0") != NULL);
	sim_result_release(&r);
	two_accounts(q);
	q[0].org = 7; /* past the rows */
	aidc_err_clear(&e);
	CHECK(run(q, 2, &r, &e) != 0);
	CHECK(strstr(e.msg, "organization index 7") != NULL);
	sim_result_release(&r);
	memset(q, 0, sizeof q);
	snprintf(q[0].name, sizeof q[0].name, "a");
	snprintf(q[1].name, sizeof q[1].name, "b");
	aidc_err_clear(&e);
	CHECK(run(q, 2, &r, &e) != 0);
	sim_result_release(&r);
	unload();
}

/* Fair share in normalized units (opts.charges): a ran 100 s on model A, b
 * 150 s on B; at 200 both queue a job for the one B device. Charging 1 per
 * device-second, a has used less and goes first; with A charging 2.5, a has
 * used 250 units against b's 150 and b goes first. Charges for a model not
 * in the cluster, or outside multifactor, fail the run. */
static void test_fair_share_charges(void)
{
	static const char *cl = "aidc-cluster 1\n"
				"[nodes]\nname = a\ncount = 1\ndevices = 1\nmodel = A\n"
				"[nodes]\nname = b\ncount = 1\ndevices = 1\nmodel = B\n";
	static const char *tr = TRACE_HEAD "1,0,100,1,0,0,1,,A,a,u,t,j,0,,,0\n"
					   "2,0,150,1,0,0,1,,B,b,u,t,j,0,,,0\n"
					   "3,200,100,1,0,0,1,,B,a,u,t,j,0,,,0\n"
					   "4,200,100,1,0,0,1,,B,b,u,t,j,0,,,0\n";
	struct sim_cluster c;
	struct sim_trace t;
	struct sim_quota q[2];
	struct aidc_err e = {0};

	sim_cluster_init(&c);
	sim_trace_init(&t);
	CHECK_EQ(sim_cluster_parse("c", cl, strlen(cl), &c, &e), 0);
	CHECK_EQ(sim_trace_load_mem("t", tr, strlen(tr), SIM_FORMAT_AIDC, NULL, &t, &e), 0);
	two_accounts(q);
	q[0].nominal_devices = q[1].nominal_devices = 2;
	for (int k = 0; k < 4; k++) {
		static const struct sim_charge ch[3] = {{"A", 2500}, {"Z", 2000}, {"B", 1000}};
		static const size_t nch[4] = {0, 1, 2, 1};
		static const int64_t want3[4] = {200, 300, -1, -1};
		struct sim_opts o;
		struct sim_result r;
		sim_opts_defaults(&o);
		o.policy.order = k == 3 ? SCHED_ORDER_FIFO : SCHED_ORDER_MULTIFACTOR;
		o.quotas = q;
		o.nquotas = 2;
		o.fs_half_life_s = 0;
		o.prio_calc_period_s = 0;
		o.prio_weight_age = o.prio_weight_size = o.prio_weight_qos = 0;
		o.prio_weight_fairshare = 1000;
		o.charges = k == 2 ? ch : ch + (k == 3 ? 2 : 0);
		o.ncharges = nch[k];
		sim_result_init(&r);
		aidc_err_clear(&e);
		int rc = sim_run(&t, &c, &o, &r, &e);
		if (want3[k] < 0) {
			CHECK(rc != 0);
			CHECK(strstr(e.msg, k == 2 ? "no device model 'Z'" : "multifactor only") != NULL);
		} else if (rc == 0) {
			CHECK_EQ(r.jobs[2].first_start_s, want3[k]);
			CHECK_EQ(r.jobs[3].first_start_s, 500 - want3[k]);
		} else {
			fprintf(stderr, "sim_run: %s\n", e.msg);
			CHECK(0);
		}
		sim_result_release(&r);
	}
	sim_trace_release(&t);
	sim_cluster_release(&c);
}

TEST_MAIN(TEST(test_init_rows_borrow), TEST(test_bad_org_refused), TEST(test_fair_share_charges))
