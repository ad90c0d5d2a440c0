/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the simulator's input parsers: the three trace readers
 * (Philly, Helios, AIDC), the cluster file and the VC file. Table-driven:
 * each case is an input text, the expected outcome (jobs read or the error
 * code) and, for errors, a fragment the message must contain (file:line and
 * the problem). Also: stable order of equal submit times, --skip-bad-rows
 * counting, unknown versions, the max_jobs limit, and an AIDC write/read round
 * trip. Needs only util and the sim readers (no scheduling).
 */
#include "sim/sim.h"
#include "tests/test.h"
#include "util/util.h"

struct trace_case {
	const char *what;
	enum sim_format fmt;
	bool skip_bad;
	const char *text;
	int want_rc;        /* 0 or an AIDC_E_* code */
	size_t want_jobs;   /* on success */
	size_t want_bad;    /* rows skipped */
	const char *want_msg; /* fragment of the error (or first_bad) message */
};

static const struct trace_case trace_cases[] = {
	{"philly ok, unsorted, extra column", SIM_FORMAT_PHILLY, false,
	 "timestamp,duration,num_gpus,gpu_time,cluster,extra\n"
	 "2017-10-09 07:01:55,66.0,1,66.0,11cb48,x\n"
	 "2017-10-09 06:13:03,2951.4,2,5902.8,6214e9,y\n",
	 0, 2, 0, NULL},
	{"philly columns in another order", SIM_FORMAT_PHILLY, false,
	 "cluster,num_gpus,duration,timestamp\nvc1,8,10,2017-10-01 00:00:00\n", 0, 1, 0, NULL},
	{"philly missing column", SIM_FORMAT_PHILLY, false,
	 "timestamp,duration,cluster\n2017-10-09 07:01:55,66.0,vc\n", AIDC_E_PARSE, 0, 0,
	 "t.csv:1: header has no 'num_gpus' column"},
	{"philly bad time", SIM_FORMAT_PHILLY, false,
	 "timestamp,duration,num_gpus,cluster\n2017-10-09 07:01:55,1,1,a\n2017-13-09 07:01:55,1,1,a\n",
	 AIDC_E_PARSE, 0, 0, "t.csv:3: timestamp '2017-13-09 07:01:55'"},
	{"philly negative duration", SIM_FORMAT_PHILLY, false,
	 "timestamp,duration,num_gpus,cluster\n2017-10-09 07:01:55,-5,1,a\n", AIDC_E_PARSE, 0, 0,
	 "t.csv:2: duration '-5'"},
	{"philly gpus past the limit", SIM_FORMAT_PHILLY, false,
	 "timestamp,duration,num_gpus,cluster\n2017-10-09 07:01:55,5,65537,a\n", AIDC_E_PARSE, 0,
	 0, "t.csv:2: num_gpus '65537'"},
	{"philly skip bad rows", SIM_FORMAT_PHILLY, true,
	 "timestamp,duration,num_gpus,cluster\n"
	 "2017-10-09 07:01:55,5,1,a\n"
	 "garbage,5,1,a\n"
	 "2017-10-09 07:01:55,5,x,a\n"
	 "\"unterminated,5,1,a\n"
	 "2017-10-09 07:01:56,5,1,a\n",
	 0, 2, 3, "t.csv:3: timestamp 'garbage'"},
	{"philly empty file", SIM_FORMAT_PHILLY, false, "", AIDC_E_PARSE, 0, 0, "empty file"},
	{"helios ok", SIM_FORMAT_HELIOS, false,
	 "job_id,user,vc,jobname,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,"
	 "duration,queue\n"
	 "1,u1,vcA,train,8,32,1,COMPLETED,2020-04-01 00:00:00,2020-04-01 00:01:00,"
	 "2020-04-01 01:01:00,3600,60\n"
	 "2,u2,vcB,eval,0,4,1,FAILED,2020-04-01 00:00:05,2020-04-01 00:00:05,"
	 "2020-04-01 00:00:15,10,0\n",
	 0, 2, 0, NULL},
	{"helios duration from start/end", SIM_FORMAT_HELIOS, false,
	 "vc,gpu_num,submit_time,start_time,end_time\n"
	 "vcA,1,2020-04-01 00:00:00,2020-04-01 00:00:10,2020-04-01 00:01:10\n",
	 0, 1, 0, NULL},
	{"helios end before start", SIM_FORMAT_HELIOS, false,
	 "vc,gpu_num,submit_time,start_time,end_time\n"
	 "vcA,1,2020-04-01 00:00:00,2020-04-01 00:02:10,2020-04-01 00:01:10\n",
	 AIDC_E_PARSE, 0, 0, "t.csv:2: no duration"},
	{"helios no duration column", SIM_FORMAT_HELIOS, false,
	 "vc,gpu_num,submit_time\nvcA,1,2020-04-01 00:00:00\n", AIDC_E_PARSE, 0, 0,
	 "needs 'duration'"},
	{"helios bad gpu_num", SIM_FORMAT_HELIOS, false,
	 "vc,gpu_num,submit_time,duration\nvcA,two,2020-04-01 00:00:00,5\n", AIDC_E_PARSE, 0, 0,
	 "t.csv:2: gpu_num 'two'"},
	{"aidc ok with comments", SIM_FORMAT_AIDC, false,
	 "# aidc-trace 1\n# a comment\nsubmit,duration,tasks,devices,fraction,model,partition\n"
	 "0,1h,2,4,,A100|H100,p1\n# between rows\n10,90,1,1,0.25,,p2\n",
	 0, 2, 0, NULL},
	{"aidc unknown version", SIM_FORMAT_AIDC, false, "# aidc-trace 2\nsubmit,duration\n0,1\n",
	 AIDC_E_VERSION, 0, 0, "t.csv:1: aidc trace format version 2 is not supported"},
	{"aidc no version line", SIM_FORMAT_AIDC, false, "submit,duration\n0,1\n", AIDC_E_PARSE, 0,
	 0, "t.csv:1: first line must be '# aidc-trace 1'"},
	{"aidc fraction needs one device", SIM_FORMAT_AIDC, false,
	 "# aidc-trace 1\nsubmit,duration,devices,fraction\n0,5,2,0.5\n", AIDC_E_PARSE, 0, 0,
	 "t.csv:3: fraction '0.5' needs exactly one device"},
	{"aidc empty model alternative", SIM_FORMAT_AIDC, false,
	 "# aidc-trace 1\nsubmit,duration,model\n0,5,A||B\n", AIDC_E_PARSE, 0, 0,
	 "empty alternative"},
	{"aidc bad preemptible", SIM_FORMAT_AIDC, false,
	 "# aidc-trace 1\nsubmit,duration,preemptible\n0,5,maybe\n", AIDC_E_PARSE, 0, 0,
	 "t.csv:3: preemptible 'maybe'"},
	{"aidc gpus and tasks together", SIM_FORMAT_AIDC, false,
	 "# aidc-trace 1\nsubmit,duration,gpus,tasks\n0,5,4,2\n", AIDC_E_PARSE, 0, 0,
	 "cannot be combined"},
	{"aidc priority past the limit", SIM_FORMAT_AIDC, false,
	 "# aidc-trace 1\nsubmit,duration,priority\n0,5,1000001\n", AIDC_E_PARSE, 0, 0,
	 "t.csv:3: priority '1000001'"},
	/* QA regressions: a repeated id used to be accepted (ambiguous per-job CSV). */
	{"aidc duplicate id names both lines", SIM_FORMAT_AIDC, false,
	 "# aidc-trace 1\nid,submit,duration\n1,0,5\n2,1,5\n3,2,5\n2,3,5\n1,4,5\n",
	 AIDC_E_PARSE, 0, 0, "t.csv:6: id 2 appears twice (first on line 4)"},
	{"aidc ids unique out of order", SIM_FORMAT_AIDC, false,
	 "# aidc-trace 1\nid,submit,duration\n9,5,5\n2,1,5\n0,2,5\n", 0, 3, 0, NULL},
	{"aidc no id column: row ordinals", SIM_FORMAT_AIDC, false,
	 "# aidc-trace 1\nsubmit,duration\n0,5\n0,5\n", 0, 2, 0, NULL},
};

static void test_trace_cases(void)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(trace_cases); i++) {
		const struct trace_case *tc = &trace_cases[i];
		struct sim_trace t;
		sim_trace_init(&t);
		struct aidc_err e;
		aidc_err_clear(&e);
		struct sim_read_opts o = {.skip_bad_rows = tc->skip_bad};
		int rc = sim_trace_load_mem("t.csv", tc->text, strlen(tc->text), tc->fmt, &o, &t, &e);
		if (rc != tc->want_rc)
			fprintf(stderr, "case '%s': %s\n", tc->what, aidc_err_text(&e, rc));
		CHECK_EQ(rc, tc->want_rc);
		if (rc == 0) {
			CHECK_EQ(t.n, tc->want_jobs);
			CHECK_EQ(t.bad_rows, tc->want_bad);
			if (tc->want_msg)
				CHECK_CONTAINS(t.first_bad, tc->want_msg);
		} else if (tc->want_msg) {
			CHECK_CONTAINS(e.msg, tc->want_msg);
		}
		sim_trace_release(&t);
	}
}

/* Rows with equal submit times keep their file order; the rest sort by time. */
static void test_stable_order(void)
{
	const char *text = "timestamp,duration,num_gpus,cluster\n"
			   "2017-10-01 00:00:10,1,1,c\n"
			   "2017-10-01 00:00:05,1,1,a\n"
			   "2017-10-01 00:00:10,1,1,d\n"
			   "2017-10-01 00:00:05,1,1,b\n";
	struct sim_trace t;
	sim_trace_init(&t);
	struct aidc_err e;
	aidc_err_clear(&e);
	CHECK_EQ(sim_trace_load_mem("s.csv", text, strlen(text), SIM_FORMAT_PHILLY, NULL, &t, &e),
		 0);
	const char *want[] = {"a", "b", "c", "d"};
	CHECK_EQ(t.n, 4);
	for (size_t i = 0; i < t.n && i < 4; i++) {
		CHECK_STR(sim_strtab_get(&t.strs, t.jobs[i].vc), want[i]);
		CHECK_EQ(t.jobs[i].seq, i);
	}
	/* The Philly fields land where the engine expects them. */
	CHECK_EQ(t.jobs[0].submit_s, 1506816005);
	CHECK(t.jobs[0].flags & SIM_JOB_SHAPE_AUTO);
	CHECK_EQ(t.jobs[0].ndev, 1);
	sim_trace_release(&t);
}

static void test_limits(void)
{
	const char *text = "timestamp,duration,num_gpus,cluster\n"
			   "2017-10-01 00:00:10,1,1,c\n2017-10-01 00:00:11,1,1,c\n"
			   "2017-10-01 00:00:12,1,1,c\n";
	struct sim_trace t;
	sim_trace_init(&t);
	struct aidc_err e;
	aidc_err_clear(&e);
	struct sim_read_opts o = {.max_jobs = 2, .skip_bad_rows = true};
	/* The job limit is not a bad row: --skip-bad-rows does not hide it. */
	CHECK_EQ(sim_trace_load_mem("l.csv", text, strlen(text), SIM_FORMAT_PHILLY, &o, &t, &e),
		 AIDC_E_LIMIT);
	CHECK_CONTAINS(e.msg, "l.csv:4: trace has more than 2 jobs");
	sim_trace_release(&t);

	/* A name at the limit is refused with file:line. */
	char big[600];
	int n = snprintf(big, sizeof big, "timestamp,duration,num_gpus,cluster\n2017-10-01 00:00:10,1,1,");
	memset(big + n, 'v', AIDC_MAX_NAME_BYTES);
	big[n + AIDC_MAX_NAME_BYTES] = '\n';
	big[n + AIDC_MAX_NAME_BYTES + 1] = '\0';
	sim_trace_init(&t);
	aidc_err_clear(&e);
	CHECK_EQ(sim_trace_load_mem("n.csv", big, strlen(big), SIM_FORMAT_PHILLY, NULL, &t, &e),
		 AIDC_E_LIMIT);
	CHECK_CONTAINS(e.msg, "n.csv:2: cluster is longer than");
	sim_trace_release(&t);
}

/* AIDC writer -> reader gives back the same jobs. */
static void test_roundtrip(void)
{
	const char *text = "# aidc-trace 1\n"
			   "id,submit,duration,tasks,cpu,mem_mib,devices,fraction,model,partition,"
			   "user,tenant,name,priority,time_limit,predicted,preemptible\n"
			   "7,100,3600,2,4.5,2048,4,,A100|V100,vc1,alice,t1,\"a,b\",5,2h,30m,0\n"
			   "8,50,10,1,0,0,1,0.25,,vc2,bob,t2,x,-3,,,yes\n";
	struct sim_trace t, u;
	sim_trace_init(&t);
	sim_trace_init(&u);
	struct aidc_err e;
	aidc_err_clear(&e);
	CHECK_EQ(sim_trace_load_mem("r", text, strlen(text), SIM_FORMAT_AIDC, NULL, &t, &e), 0);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	CHECK_EQ(sim_trace_write_aidc(&t, f, &e), 0);
	fclose(f);
	CHECK_EQ(sim_trace_load_mem("w", out, len, SIM_FORMAT_AIDC, NULL, &u, &e), 0);
	CHECK_EQ(u.n, t.n);
	for (size_t i = 0; i < t.n && i < u.n; i++) {
		const struct sim_job *a = &t.jobs[i], *b = &u.jobs[i];
		CHECK_EQ(a->id, b->id);
		CHECK_EQ(a->submit_s, b->submit_s);
		CHECK_EQ(a->duration_s, b->duration_s);
		CHECK_EQ(a->ntasks, b->ntasks);
		CHECK_EQ(a->cpu_milli, b->cpu_milli);
		CHECK_EQ(a->mem_mib, b->mem_mib);
		CHECK_EQ(a->ndev, b->ndev);
		CHECK_EQ(a->dev_milli, b->dev_milli);
		CHECK_EQ(a->priority, b->priority);
		CHECK_EQ(a->time_limit_s, b->time_limit_s);
		CHECK_EQ(a->predicted_s, b->predicted_s);
		CHECK_EQ(a->flags, b->flags);
		CHECK_STR(sim_strtab_get(&t.strs, a->model), sim_strtab_get(&u.strs, b->model));
		CHECK_STR(sim_strtab_get(&t.strs, a->name), sim_strtab_get(&u.strs, b->name));
		CHECK_STR(sim_strtab_get(&t.strs, a->vc), sim_strtab_get(&u.strs, b->vc));
	}
	/* Sorted by submit: id 8 (t=50) first. */
	CHECK_EQ(t.jobs[0].id, 8);
	CHECK_EQ(t.jobs[1].time_limit_s, 7200);
	CHECK_EQ(t.jobs[1].cpu_milli, 4500);
	free(out);
	sim_trace_release(&t);
	sim_trace_release(&u);
}

struct cluster_case {
	const char *what;
	const char *text;
	int want_rc;
	uint64_t want_nodes, want_devs;
	const char *want_msg;
};

static const struct cluster_case cluster_cases[] = {
	{"two groups", "aidc-cluster 1\n# c\n[nodes]\ncount = 2\ndevices = 8\nmodel = V100\n"
		       "partition = a\nnvlink = 4\n\n[nodes]\ncount=3\ndevices=4\ncpu = 12.5\n",
	 0, 5, 28, NULL},
	{"no version", "[nodes]\ncount = 1\n", AIDC_E_PARSE, 0, 0,
	 "c.txt:1: first line must be 'aidc-cluster 1'"},
	{"future version", "aidc-cluster 9\n", AIDC_E_VERSION, 0, 0, "c.txt:1: cluster file version 9"},
	{"unknown key", "aidc-cluster 1\n[nodes]\ncolour = red\n", AIDC_E_PARSE, 0, 0,
	 "c.txt:3: unknown key 'colour'"},
	{"too many devices", "aidc-cluster 1\n[nodes]\ndevices = 65\n", AIDC_E_PARSE, 0, 0,
	 "c.txt:3: devices '65'"},
	{"too many nodes", "aidc-cluster 1\n[nodes]\ncount = 65536\n[nodes]\ncount = 1\n",
	 AIDC_E_LIMIT, 0, 0, "more than 65536 nodes"},
	{"nodes at the limit", "aidc-cluster 1\n[nodes]\ncount = 65536\ndevices = 1\n", 0, 65536,
	 65536, NULL},
	{"key outside section", "aidc-cluster 1\ncount = 1\n", AIDC_E_PARSE, 0, 0,
	 "c.txt:2: key outside a [nodes] section"},
	{"no sections", "aidc-cluster 1\n", AIDC_E_PARSE, 0, 0, "no [nodes] section"},
	{"too many nvlink groups", "aidc-cluster 1\n[nodes]\ndevices = 64\nnvlink = 2\n",
	 AIDC_E_LIMIT, 0, 0, "device groups per node"},
	{"zero count", "aidc-cluster 1\n[nodes]\ncount = 0\n", AIDC_E_PARSE, 0, 0, "count = 0"},
	/* QA regression: the second value used to win silently. */
	{"key twice in a section", "aidc-cluster 1\n[nodes]\ncount = 1\ndevices = 4\ncount = 2\n",
	 AIDC_E_PARSE, 0, 0, "c.txt:5: key 'count' given twice"},
	{"same key in two sections", "aidc-cluster 1\n[nodes]\ncount = 1\n[nodes]\ncount = 2\n",
	 0, 3, 24, NULL},
};

static void test_cluster_cases(void)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cluster_cases); i++) {
		const struct cluster_case *cc = &cluster_cases[i];
		struct sim_cluster c;
		sim_cluster_init(&c);
		struct aidc_err e;
		aidc_err_clear(&e);
		int rc = sim_cluster_parse("c.txt", cc->text, strlen(cc->text), &c, &e);
		if (rc != cc->want_rc)
			fprintf(stderr, "case '%s': %s\n", cc->what, aidc_err_text(&e, rc));
		CHECK_EQ(rc, cc->want_rc);
		if (rc == 0) {
			CHECK_EQ(sim_cluster_nodes(&c), cc->want_nodes);
			CHECK_EQ(sim_cluster_devices(&c), cc->want_devs);
		} else if (cc->want_msg) {
			CHECK_CONTAINS(e.msg, cc->want_msg);
		}
		sim_cluster_release(&c);
	}
}

static void test_vcfile(void)
{
	const char *text = "vc,node num\n6214e9,64\n7f04ca,32\ned69ec,1\n";
	struct sim_cluster c;
	sim_cluster_init(&c);
	struct aidc_err e;
	aidc_err_clear(&e);
	CHECK_EQ(sim_cluster_parse_vcs("v.csv", text, strlen(text), 0.5, 8, &c, &e), 0);
	CHECK_EQ(c.n, 3);
	CHECK_EQ(sim_cluster_nodes(&c), 32 + 16 + 1); /* halved; 0.5 rounds up to 1 */
	CHECK_EQ(sim_cluster_devices(&c), 49 * 8);
	CHECK_STR(c.groups[0].partition, "6214e9");
	sim_cluster_release(&c);

	const char *dup = "vc,node num\na,1\na,2\n";
	sim_cluster_init(&c);
	aidc_err_clear(&e);
	CHECK_EQ(sim_cluster_parse_vcs("v.csv", dup, strlen(dup), 1.0, 8, &c, &e), AIDC_E_PARSE);
	CHECK_CONTAINS(e.msg, "v.csv:3: vc 'a' appears twice");
	sim_cluster_release(&c);

	const char *bad = "vc,nodes\na,1\n";
	sim_cluster_init(&c);
	aidc_err_clear(&e);
	CHECK_EQ(sim_cluster_parse_vcs("v.csv", bad, strlen(bad), 1.0, 8, &c, &e), AIDC_E_PARSE);
	CHECK_CONTAINS(e.msg, "no 'node num' column");
	sim_cluster_release(&c);

	/* QA regressions: every VC at 0 nodes used to give an empty cluster (a
	 * replay with nothing submitted, exit 0), and a node total past the limit
	 * was reported as "(flags):0". */
	const char *zero = "vc,node num\na,0\nb,0\n";
	sim_cluster_init(&c);
	aidc_err_clear(&e);
	CHECK_EQ(sim_cluster_parse_vcs("v.csv", zero, strlen(zero), 1.0, 8, &c, &e), AIDC_E_PARSE);
	CHECK_CONTAINS(e.msg, "v.csv: no VC has any node");
	sim_cluster_release(&c);

	const char *big = "vc,node num\na,60000\nb,60000\n";
	sim_cluster_init(&c);
	aidc_err_clear(&e);
	CHECK_EQ(sim_cluster_parse_vcs("v.csv", big, strlen(big), 1.0, 8, &c, &e), AIDC_E_LIMIT);
	CHECK_CONTAINS(e.msg, "v.csv:3: vc 'b' takes the cluster past 65536 nodes");
	sim_cluster_release(&c);
}

static void test_generator(void)
{
	struct sim_gen_opts o;
	sim_gen_defaults(&o);
	o.njobs = 500;
	struct sim_trace a, b;
	sim_trace_init(&a);
	sim_trace_init(&b);
	struct aidc_err e;
	aidc_err_clear(&e);
	CHECK_EQ(sim_gen(&o, &a, &e), 0);
	CHECK_EQ(sim_gen(&o, &b, &e), 0);
	CHECK_EQ(a.n, 500);
	size_t same = 0, ones = 0;
	for (size_t i = 0; i < a.n && i < b.n; i++) {
		same += a.jobs[i].submit_s == b.jobs[i].submit_s &&
			a.jobs[i].duration_s == b.jobs[i].duration_s;
		ones += a.jobs[i].ntasks * a.jobs[i].ndev == 1;
		CHECK(a.jobs[i].ndev <= 8);
		CHECK(i == 0 || a.jobs[i].submit_s >= a.jobs[i - 1].submit_s);
	}
	CHECK_EQ(same, 500); /* same seed, same workload */
	CHECK(ones > 400);   /* Philly profile: mostly single-GPU jobs */
	sim_trace_release(&a);
	sim_trace_release(&b);
}

TEST_MAIN(TEST(test_trace_cases), TEST(test_stable_order), TEST(test_limits),
	  TEST(test_roundtrip), TEST(test_cluster_cases), TEST(test_vcfile), TEST(test_generator))
