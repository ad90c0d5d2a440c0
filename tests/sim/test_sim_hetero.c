/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heterogeneity in the simulator (src/sim/speeds.c, engine.c): a job runs
 * its duration x 1000 / speed(class, model) on the model it gets (rounded
 * up), the speed table's parser refuses bad rows by file:line, jobs get their
 * class by name, and on a constructed case Gavel's model choice gives a
 * lower average JCT than the unaware one, identically on every run.
 */
#include "sim/sim.h"
#include "tests/test.h"
#include "util/util.h"

/* fast first: the unaware choice (lowest model id on a tie) is the fast model */
static const char *cluster_text = "aidc-cluster 1\n"
				  "[nodes]\nname = f\ncount = 2\ndevices = 1\nmodel = fast\n"
				  "[nodes]\nname = s\ncount = 2\ndevices = 1\nmodel = slow\n";

static const char *speeds_text = "class,model,speed\n"
				 "big,fast,4.0\n"
				 "big,slow,1.0\n"
				 "small,fast,1.2\n"
				 "small,slow,1.0\n"
				 "odd,slow,0.3\n"
				 "odd,nowhere,2\n";

#define TRACE_HEAD                                                                                 \
	"# aidc-trace 1\n"                                                                         \
	"id,submit,duration,tasks,cpu,mem_mib,devices,fraction,model,partition,user,tenant,"       \
	"name,priority,time_limit,predicted,preemptible\n"

struct fixture {
	struct sim_cluster c;
	struct sim_trace t;
	struct sim_speed *sp;
	size_t nsp;
	char (*names)[AIDC_MAX_NAME_BYTES];
	uint32_t ncls;
};

/* cluster_text and a node of 4 devices of a third model, which a 4-device
 * job keeps busy in test_gavel_beats_unaware */
static const char *cluster_busy_text =
	"aidc-cluster 1\n"
	"[nodes]\nname = f\ncount = 2\ndevices = 1\nmodel = fast\n"
	"[nodes]\nname = s\ncount = 2\ndevices = 1\nmodel = slow\n"
	"[nodes]\nname = o\ncount = 1\ndevices = 4\nmodel = other\n";

static void setup_cluster(struct fixture *f, const char *cluster, const char *trace)
{
	struct aidc_err e = {0};

	memset(f, 0, sizeof *f);
	sim_cluster_init(&f->c);
	sim_trace_init(&f->t);
	CHECK_EQ(sim_cluster_parse("c", cluster, strlen(cluster), &f->c, &e), 0);
	CHECK_EQ(sim_trace_load_mem("t", trace, strlen(trace), SIM_FORMAT_AIDC, NULL, &f->t, &e),
		 0);
	CHECK_EQ(sim_speeds_parse("s", speeds_text, strlen(speeds_text), &f->sp, &f->nsp, &f->names,
				  &f->ncls, &e),
		 0);
	CHECK_EQ(f->ncls, 3);
	CHECK_EQ(f->nsp, 6);
}

static void setup(struct fixture *f, const char *trace)
{
	setup_cluster(f, cluster_text, trace);
}

static void teardown(struct fixture *f)
{
	aidc_free(f->sp);
	aidc_free(f->names);
	sim_trace_release(&f->t);
	sim_cluster_release(&f->c);
}

static int run(const struct fixture *f, enum sched_hetero h, struct sim_result *r)
{
	struct sim_opts o;
	struct aidc_err e = {0};

	sim_opts_defaults(&o);
	o.speeds = f->sp;
	o.nspeeds = f->nsp;
	o.hetero = h;
	sim_result_init(r);
	int rc = sim_run(&f->t, &f->c, &o, r, &e);
	if (rc)
		fprintf(stderr, "sim_run: %s\n", e.msg);
	return rc;
}

/* Run time = duration / speed on the model the job runs on, rounded up. */
static void test_speed_scaling(void)
{
	struct fixture f;
	struct sim_result r;

	setup(&f, TRACE_HEAD "1,0,1000,1,0,0,1,,slow,,u,t,odd,0,,,0\n"
			     "2,0,1000,1,0,0,1,,fast,,u,t,big,0,,,0\n"
			     "3,0,1000,1,0,0,1,,fast,,u,t,nobody,0,,,0\n"
			     "4,5000,999,1,0,0,1,,slow,,u,t,small,0,,,0\n");
	CHECK_EQ(sim_speeds_classify(&f.t, (const char(*)[AIDC_MAX_NAME_BYTES])f.names, f.ncls), 3);
	CHECK_EQ(f.t.jobs[2].speed_class, 0);
	CHECK_EQ(run(&f, SCHED_HETERO_OFF, &r), 0);
	const int64_t want[4] = {3334, 250, 1000, 999};
	const uint32_t speed[4] = {300, 4000, 1000, 1000};
	for (size_t i = 0; i < 4; i++) {
		CHECK_EQ(r.jobs[i].status, SIM_ST_DONE);
		CHECK_EQ(r.jobs[i].end_s - r.jobs[i].first_start_s, want[i]);
		CHECK_EQ(r.jobs[i].run_s, want[i]); /* the wall run time once done */
		CHECK_EQ(r.jobs[i].speed_milli, speed[i]);
	}
	sim_result_release(&r);
	/* without speeds: the trace's durations, bit for bit */
	struct sim_opts o;
	struct aidc_err e = {0};
	sim_opts_defaults(&o);
	sim_result_init(&r);
	CHECK_EQ(sim_run(&f.t, &f.c, &o, &r, &e), 0);
	for (size_t i = 0; i < 4; i++)
		CHECK_EQ(r.jobs[i].end_s - r.jobs[i].first_start_s, f.t.jobs[i].duration_s);
	sim_result_release(&r);
	teardown(&f);
}

/* The mean JCT of jobs 1..4 (index 0 is the job keeping "other" busy). */
static double avg_jct4(const struct sim_result *r)
{
	double sum = 0;
	for (size_t i = 1; i <= 4; i++)
		sum += (double)(r->jobs[i].end_s - 1);
	return sum / 4;
}

/* small, small, big, big (1 device, 1,000 s each, submitted at 1) on 2 fast
 * + 2 slow devices, while a 4-device job holds the other model (gavel prices
 * by use only in a mostly busy partition: u = 5/8 at the second job):
 * unaware and fastest give the small jobs the fast devices (834 + 834 + 1000
 * + 1000: 917 s); gavel gives the second small job a slow device once fast is
 * half busy, and a big one the other fast device (834 + 1000 + 250 + 1000:
 * 771 s). With the other node idle, gavel places as fastest. */
static void test_gavel_beats_unaware(void)
{
	struct fixture f;
	struct sim_result off, fast, gav, gav2;
	const char *jobs4 = "1,1,1000,1,0,0,1,,,,u,t,small,0,,,0\n"
			    "2,1,1000,1,0,0,1,,,,u,t,small,0,,,0\n"
			    "3,1,1000,1,0,0,1,,,,u,t,big,0,,,0\n"
			    "4,1,1000,1,0,0,1,,,,u,t,big,0,,,0\n";
	char trace[1024];

	snprintf(trace, sizeof trace, "%s0,0,100000,1,0,0,4,,,,u,t,,0,,,0\n%s", TRACE_HEAD, jobs4);
	setup_cluster(&f, cluster_busy_text, trace);
	sim_speeds_classify(&f.t, (const char(*)[AIDC_MAX_NAME_BYTES])f.names, f.ncls);
	CHECK_EQ(run(&f, SCHED_HETERO_OFF, &off), 0);
	CHECK_EQ(run(&f, SCHED_HETERO_FASTEST, &fast), 0);
	CHECK_EQ(run(&f, SCHED_HETERO_GAVEL, &gav), 0);
	CHECK_EQ(run(&f, SCHED_HETERO_GAVEL, &gav2), 0);
	CHECK_EQ((int64_t)avg_jct4(&off), 917);
	CHECK_EQ((int64_t)avg_jct4(&fast), 917);
	CHECK_EQ((int64_t)avg_jct4(&gav), 771);
	for (size_t i = 0; i <= 4; i++) {
		CHECK_EQ(gav.jobs[i].end_s, gav2.jobs[i].end_s);
		CHECK_EQ(gav.jobs[i].model, gav2.jobs[i].model);
	}
	CHECK_EQ(gav.jobs[2].speed_milli, 1000); /* the second small job: slow */
	CHECK_EQ(gav.jobs[3].speed_milli, 4000); /* the first big one: fast */
	sim_result_release(&gav2);
	teardown(&f);
	snprintf(trace, sizeof trace, "%s%s", TRACE_HEAD, jobs4);
	setup_cluster(&f, cluster_busy_text, trace);
	sim_speeds_classify(&f.t, (const char(*)[AIDC_MAX_NAME_BYTES])f.names, f.ncls);
	CHECK_EQ(run(&f, SCHED_HETERO_GAVEL, &gav2), 0);
	for (size_t i = 0; i < 4; i++)
		CHECK_EQ(gav2.jobs[i].speed_milli, fast.jobs[i + 1].speed_milli);
	sim_result_release(&off);
	sim_result_release(&fast);
	sim_result_release(&gav);
	sim_result_release(&gav2);
	teardown(&f);
}

static void test_speeds_parser(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"class,model\nx,y\n", "speed"},
	    {"class,model,speed\nx,y,0\n", "s:2: speed '0'"},
	    {"class,model,speed\nx,y,abc\n", "s:2: speed 'abc'"},
	    {"class,model,speed\nx,y,1\nx,y,2\n", "s:3: class 'x' on model 'y' twice"},
	    {"class,model,speed\n,y,1\n", "s:2: class and model"},
	    {"class,model,speed\n", "no speed"},
	};
	for (size_t k = 0; k < AIDC_ARRAY_LEN(bad); k++) {
		struct sim_speed *sp = (struct sim_speed *)1;
		char(*names)[AIDC_MAX_NAME_BYTES] = NULL;
		size_t n = 9;
		uint32_t nc = 9;
		struct aidc_err e = {0};
		CHECK_NE(sim_speeds_parse("s", bad[k].text, strlen(bad[k].text), &sp, &n, &names,
					  &nc, &e),
			 0);
		CHECK_CONTAINS(e.msg, bad[k].want);
		CHECK(sp == NULL && names == NULL && n == 0 && nc == 0);
	}
	struct sim_speed *sp = NULL;
	char(*names)[AIDC_MAX_NAME_BYTES] = NULL;
	size_t n = 0;
	uint32_t nc = 0;
	struct aidc_err e = {0};
	const char *ok = "model,speed,class\nA,1.25,x\nB,0.5,y\nB,2,x\n";
	CHECK_EQ(sim_speeds_parse("s", ok, strlen(ok), &sp, &n, &names, &nc, &e), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(nc, 2);
	CHECK_STR(names[1], "y");
	CHECK_EQ(sp[0].cls, 1);
	CHECK_EQ(sp[0].speed_milli, 1250);
	CHECK_EQ(sp[1].cls, 2);
	CHECK_EQ(sp[2].cls, 1);
	CHECK_STR(sp[2].model, "B");
	aidc_free(sp);
	aidc_free(names);
}

/* The core learns from finished jobs (no prior): runs through, deterministic. */
static void test_learning_runs(void)
{
	struct fixture f;
	struct sim_opts o;
	struct sim_result a, b;
	struct aidc_err e = {0};

	setup(&f, TRACE_HEAD "1,0,1000,1,0,0,1,,,,u,t,small,0,,,0\n"
			     "2,0,1000,1,0,0,1,,,,u,t,big,0,,,0\n"
			     "3,2000,1000,1,0,0,1,,,,u,t,big,0,,,0\n"
			     "4,2000,1000,1,0,0,1,,,,u,t,small,0,,,0\n");
	sim_speeds_classify(&f.t, (const char(*)[AIDC_MAX_NAME_BYTES])f.names, f.ncls);
	sim_opts_defaults(&o);
	o.speeds = f.sp;
	o.nspeeds = f.nsp;
	o.hetero = SCHED_HETERO_GAVEL;
	o.speed_prior = SIM_PRIOR_NONE;
	o.speed_learn = true;
	sim_result_init(&a);
	sim_result_init(&b);
	CHECK_EQ(sim_run(&f.t, &f.c, &o, &a, &e), 0);
	CHECK_EQ(sim_run(&f.t, &f.c, &o, &b, &e), 0);
	for (size_t i = 0; i < 4; i++) {
		CHECK_EQ(a.jobs[i].status, SIM_ST_DONE);
		CHECK_EQ(a.jobs[i].end_s, b.jobs[i].end_s);
	}
	sim_result_release(&a);
	sim_result_release(&b);
	teardown(&f);
}

TEST_MAIN(TEST(test_speed_scaling), TEST(test_gavel_beats_unaware), TEST(test_speeds_parser),
	  TEST(test_learning_runs))
