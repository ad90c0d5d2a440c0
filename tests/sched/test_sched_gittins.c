/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the GITTINS order (src/sched/gittins.c, docs/scheduler.md): its
 * decisions are deterministic (same workload, same decision hash), use no
 * look-ahead (a job's true run time, which the driver knows and even hands
 * the core as oracle_s, changes no decision made before the job ends), a long
 * job under an endless stream of short ones starts within the documented
 * starvation bound, and no job is preempted more often than documented (once
 * per run-time bucket, at most gittins_max_preempt when set).
 *
 * Each scenario is driven by a small event-driven simulator like src/sim: at
 * each time step it finishes the jobs that end, submits the jobs that arrive,
 * passes (applying PREEMPT decisions with sched_job_requeue and passing again
 * while the core preempts), and moves to the next arrival, end or core
 * wake-up (sched_next_wakeup). Every decision is logged with its time.
 */
#include "sched_test_util.h"

struct wjob {
	int64_t submit_s, dur_s;
	uint32_t ntasks, ndev;
	const char *user, *name;
};

enum { W_FUTURE, W_PENDING, W_RUNNING, W_DONE };

struct wstate {
	int state;
	uint32_t h;
	int64_t remaining_s, start_s, first_start_s, end_s;
	uint32_t preemptions;
};

struct logent {
	int64_t now_s, at_s;
	uint64_t job_id;
	int kind;
	uint64_t alloc_hash;
};

struct simres {
	struct wstate *st;
	struct logent *log;
	size_t nlog, caplog;
	uint64_t hash;
	uint32_t preemptions;
	int64_t end_s;
};

static uint64_t fnv(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void log_decision(struct simres *r, const struct sched_decisions *d,
			 const struct sched_decision *x, int64_t now)
{
	struct logent le = {now, x->at_s, x->job_id, (int)x->kind, 0xcbf29ce484222325ULL};

	for (uint32_t i = 0; i < x->nalloc; i++) {
		const struct sched_alloc *a = &d->allocs[x->first_alloc + i];
		le.alloc_hash = fnv(le.alloc_hash, (uint64_t)a->task << 32 | a->node);
		le.alloc_hash = fnv(le.alloc_hash, (uint64_t)a->dev << 32 | a->milli);
	}
	if (r->nlog == r->caplog) {
		r->caplog = r->caplog ? 2 * r->caplog : 1024;
		r->log = realloc(r->log, r->caplog * sizeof *r->log);
	}
	r->log[r->nlog++] = le;
	r->hash = fnv(r->hash, (uint64_t)now);
	r->hash = fnv(r->hash, (uint64_t)x->at_s);
	r->hash = fnv(r->hash, x->job_id << 4 | (uint64_t)x->kind);
	r->hash = fnv(r->hash, le.alloc_hash);
}

static const struct wjob *sort_w;
/* simulate(): 0, or the distribution oracle given before the first submit
 * (sched_gittins_prior with every job's true run time; 2: "others"; 3: each
 * job's own alone, sched_gittins_prior_self) */
static int sim_prior;

static int cmp_submit(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (sort_w[x].submit_s != sort_w[y].submit_s)
		return sort_w[x].submit_s < sort_w[y].submit_s ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * Runs workload w (n jobs, ids 1..n, each preemptible, no time limit, its true
 * run time given to the core as oracle_s) on nodes x gpn devices under cfg
 * until every job ended or time reaches horizon_s. A preempted job loses
 * cfg->restart_overhead_s of run time, as in src/sim.
 */
static void simulate(const struct sched_config *cfg, const struct wjob *w, size_t n,
		     uint32_t nodes, uint32_t gpn, int64_t horizon_s, struct simres *r)
{
	struct sched *s = NULL;
	struct aidc_err e = {0};
	struct sched_decisions d;
	int64_t now = 0;
	size_t done = 0, nsub = 0, nact = 0, *order, *active;

	memset(r, 0, sizeof *r);
	r->hash = 0xcbf29ce484222325ULL;
	r->st = calloc(n, sizeof *r->st);
	if (sched_new(cfg, NULL, &s, &e) || sched_add_model(s, "gpu", "v", 16384, &e) != 0 ||
	    sched_add_partition(s, "p", &e) != 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		exit(1);
	}
	add_nodes(s, "n", 0, nodes, gpn, 0, 0, 0);
	for (size_t i = 0; i < n && sim_prior && sim_prior < 3; i++) {
		struct sched_job_spec js = jspec(i + 1, w[i].ntasks, w[i].ndev, 0);
		js.user = w[i].user;
		js.name = w[i].name;
		CHECK_EQ(sched_gittins_prior(s, &js, w[i].dur_s, 1, &e), 0);
	}
	if (sim_prior == 2)
		sched_gittins_prior_others(s, 0);
	if (sim_prior == 3)
		sched_gittins_prior_self(s);
	sched_decisions_init(&d);
	order = malloc(n * sizeof *order);
	active = malloc(n * sizeof *active);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	sort_w = w;
	qsort(order, n, sizeof *order, cmp_submit);
	while (done < n && now <= horizon_s) {
		int64_t next = INT64_MAX;

		for (size_t k = 0; k < nact;) {
			struct wstate *x = &r->st[active[k]];
			if (x->state == W_RUNNING && x->end_s == now) {
				CHECK_EQ(sched_job_finish(s, x->h, now, &e), 0);
				x->state = W_DONE;
				x->end_s = now;
				done++;
				active[k] = active[--nact];
			} else {
				k++;
			}
		}
		while (nsub < n && w[order[nsub]].submit_s <= now) {
			size_t i = order[nsub++];
			struct wstate *x = &r->st[i];
			struct sched_job_spec js = jspec(i + 1, w[i].ntasks, w[i].ndev, 0);
			int h;
			js.user = w[i].user;
			js.name = w[i].name;
			js.oracle_s = w[i].dur_s;
			js.flags = SCHED_JOB_PREEMPTIBLE;
			h = submit_spec(s, &js, now);
			CHECK_GE(h, 0);
			x->h = (uint32_t)h;
			x->state = W_PENDING;
			x->remaining_s = w[i].dur_s;
			x->first_start_s = -1;
			active[nact++] = i;
		}
		for (int round = 0; round < 64; round++) {
			size_t npre = 0;
			CHECK_EQ(sched_pass(s, now, &d, &e), 0);
			for (size_t k = 0; k < d.n; k++) {
				const struct sched_decision *x = &d.v[k];
				struct wstate *ws = &r->st[x->job_id - 1];
				log_decision(r, &d, x, now);
				if (x->kind == SCHED_DECIDE_START) {
					CHECK_EQ(ws->state, W_PENDING);
					ws->state = W_RUNNING;
					ws->start_s = now;
					if (ws->first_start_s < 0)
						ws->first_start_s = now;
					ws->end_s = now + AIDC_MAX(ws->remaining_s, 1);
				} else if (x->kind == SCHED_DECIDE_PREEMPT && ws->state == W_RUNNING) {
					CHECK_EQ(sched_job_requeue(s, x->job, now, &e), 0);
					ws->state = W_PENDING;
					ws->remaining_s -= now - ws->start_s;
					ws->remaining_s += cfg->restart_overhead_s;
					ws->preemptions++;
					r->preemptions++;
					npre++;
				}
			}
			if (!npre)
				break;
		}
		if (n < 1000 || (done & 255) == 0)
			CHECK_EQ(check_invariants(s), 0);
		if (nsub < n)
			next = w[order[nsub]].submit_s;
		for (size_t k = 0; k < nact; k++) {
			const struct wstate *x = &r->st[active[k]];
			if (x->state == W_RUNNING)
				next = AIDC_MIN(next, x->end_s);
		}
		next = AIDC_MIN(next, sched_next_wakeup(s, now));
		if (next == INT64_MAX)
			break;
		CHECK(next > now);
		now = AIDC_MAX(next, now + 1);
	}
	free(order);
	free(active);
	r->end_s = now;
	sched_decisions_release(&d);
	sched_free(s);
}

static void simres_free(struct simres *r)
{
	free(r->st);
	free(r->log);
}

static struct sched_config gcfg(void)
{
	struct sched_config cfg;

	sched_config_defaults(&cfg);
	cfg.order = SCHED_ORDER_GITTINS;
	cfg.placement = SCHED_PLACE_CONSOLIDATE;
	cfg.blocking = SCHED_BLOCK_EASY;
	return cfg;
}

/* A mixed workload: 4 users x 3 names, 1-16 devices, heavy-tailed run times
 * (lognormal), arrivals faster than the 32 devices can serve for a while. */
#define NMIX 400
static void mixed_workload(struct wjob *w, uint64_t seed)
{
	static const char *users[] = {"alice", "bob", "carol", ""};
	static const char *names[] = {"train", "eval", ""};
	struct aidc_rng rng;
	int64_t t = 0;

	aidc_rng_seed(&rng, seed);
	for (size_t i = 0; i < NMIX; i++) {
		uint64_t g = aidc_rng_below(&rng, 100);
		w[i].ndev = g < 55 ? 1 : g < 75 ? 2 : g < 90 ? 4 : 8;
		w[i].ntasks = g >= 97 ? 2 : 1;
		w[i].user = users[aidc_rng_below(&rng, 4)];
		w[i].name = names[aidc_rng_below(&rng, 3)];
		t += (int64_t)aidc_rng_exp(&rng, 40.0);
		w[i].submit_s = t;
		w[i].dur_s = 5 + (int64_t)aidc_rng_lognormal(&rng, 5.0, 1.6);
		if (w[i].dur_s > 200000)
			w[i].dur_s = 200000;
	}
}

/* The same workload and configuration give the same decisions, byte for byte
 * (time, kind, job, planned start, every allocation), across runs, with other
 * schedulers created in between; preemptions do happen in it. */
static void test_gittins_deterministic(void)
{
	static struct wjob w[NMIX];
	struct sched_config cfg = gcfg();
	struct simres a, b, c, f;

	mixed_workload(w, 17);
	cfg.restart_overhead_s = 30;
	simulate(&cfg, w, NMIX, 4, 8, 10000000, &a);
	{
		struct sched_config fc = cfg;
		fc.order = SCHED_ORDER_FIFO;
		simulate(&fc, w, NMIX, 4, 8, 10000000, &f);
	}
	simulate(&cfg, w, NMIX, 4, 8, 10000000, &b);
	simulate(&cfg, w, NMIX, 4, 8, 10000000, &c);
	CHECK(a.nlog > NMIX);
	CHECK(a.preemptions > 0);
	CHECK_EQ(a.nlog, b.nlog);
	CHECK_EQ(a.nlog, c.nlog);
	CHECK(a.hash == b.hash);
	CHECK(a.hash == c.hash);
	CHECK(a.hash != f.hash); /* the hash does see the order */
	for (size_t i = 0; i < NMIX; i++)
		CHECK_EQ(a.st[i].state, W_DONE);
	fprintf(stderr, "gittins decision hash %016" PRIx64 " (%zu decisions, %u preemptions)\n",
		a.hash, a.nlog, a.preemptions);
	simres_free(&a);
	simres_free(&b);
	simres_free(&c);
	simres_free(&f);
}

/* Do the logs agree on every decision made before time t? */
static bool same_before(const struct simres *a, const struct simres *b, int64_t t)
{
	size_t i = 0, j = 0;

	for (;;) {
		bool ea = i >= a->nlog || a->log[i].now_s >= t;
		bool eb = j >= b->nlog || b->log[j].now_s >= t;
		if (ea || eb)
			return ea && eb;
		if (a->log[i].now_s != b->log[j].now_s || a->log[i].at_s != b->log[j].at_s ||
		    a->log[i].job_id != b->log[j].job_id || a->log[i].kind != b->log[j].kind ||
		    a->log[i].alloc_hash != b->log[j].alloc_hash)
			return false;
		i++;
		j++;
	}
}

/*
 * No look-ahead: for several jobs X of the mixed workload, run it with X's
 * true run time as is, x 4 and / 4 (also handed to the core as oracle_s).
 * Every decision made before X ends in the run where it ends first is the
 * same in all three (the core cannot know the run time before the job ends).
 * The same test on SRTF, an oracle, finds differences: the test can see
 * look-ahead.
 */
static bool lookahead_free(enum sched_order o, uint32_t window, uint32_t *checked)
{
	static struct wjob w[NMIX];
	struct sched_config cfg = gcfg();
	struct simres base;
	bool ok = true;

	cfg.order = o;
	cfg.gittins_window = window;
	cfg.restart_overhead_s = 30;
	mixed_workload(w, 23);
	simulate(&cfg, w, NMIX, 4, 8, 10000000, &base);
	*checked = 0;
	for (size_t x = 40; x < NMIX; x += 45) {
		int64_t d0 = w[x].dur_s;
		for (int v = 0; v < 2; v++) {
			struct simres r;
			int64_t t;
			w[x].dur_s = v == 0 ? d0 * 4 : AIDC_MAX(d0 / 4, 1);
			simulate(&cfg, w, NMIX, 4, 8, 10000000, &r);
			w[x].dur_s = d0;
			t = AIDC_MIN(base.st[x].end_s, r.st[x].end_s);
			/* the window includes X's time in the system (when the
			 * decisions agree, X started at the same time in both) */
			if (o == SCHED_ORDER_GITTINS)
				CHECK(base.st[x].first_start_s >= 0 &&
				      t > base.st[x].first_start_s);
			if (!same_before(&base, &r, t)) {
				if (o == SCHED_ORDER_GITTINS)
					fprintf(stderr, "job %zu (x%s): decisions before %" PRId64
						" differ\n", x + 1, v ? "1/4" : "4", t);
				ok = false;
			}
			(*checked)++;
			simres_free(&r);
		}
	}
	simres_free(&base);
	return ok;
}

static void test_gittins_no_lookahead(void)
{
	uint32_t n = 0;

	CHECK(lookahead_free(SCHED_ORDER_GITTINS, 0, &n));
	CHECK_GE(n, 8);
	CHECK(lookahead_free(SCHED_ORDER_GITTINS, 16, &n)); /* recency weights, re-keying */
	CHECK_GE(n, 8);
	CHECK(!lookahead_free(SCHED_ORDER_SRTF, 0, &n));
}

/*
 * No starvation: one node of 8 devices; a stream of short 1-device jobs (360 s,
 * one every 60 s, for longer than the limit tested) keeps six devices busy; a
 * long 8-device job arrives at t = 600. Short jobs always rank first (they are
 * shorter and smaller), so with the starvation tier off the long job never
 * starts. With it on, it starts no later than the documented bound: max(
 * gittins_starve_s, starve_factor x R) after it was queued, R its effective
 * remaining time then (its class falls back to the short jobs' history: about
 * 360 s), plus the time until its partition has room (the short jobs running
 * then: <= 360 s).
 */
#define LONG_AT 600
static int64_t long_job_wait(const struct sched_config *cfg, int64_t limit_s)
{
	size_t n = (size_t)((limit_s + 4000) / 60), i;
	struct wjob *w = calloc(n + 1, sizeof *w);
	struct simres r;
	int64_t wait;

	for (i = 0; i < n; i++)
		w[i] = (struct wjob){(int64_t)i * 60, 360, 1, 1, "u", "short"};
	w[n] = (struct wjob){LONG_AT, 20000, 1, 8, "u", "long"};
	simulate(cfg, w, n + 1, 1, 8, (int64_t)n * 60, &r);
	wait = r.st[n].first_start_s < 0 ? -1 : r.st[n].first_start_s - LONG_AT;
	simres_free(&r);
	free(w);
	return wait;
}

static void test_gittins_no_starvation(void)
{
	struct sched_config cfg = gcfg();
	int64_t wait, limit;

	/* the scenario starves a job when the tier is off */
	cfg.gittins_starve_s = 0;
	CHECK_EQ(long_job_wait(&cfg, 20000), -1);

	/* starve_s bounds the wait (factor x R = 360 s is shorter) */
	cfg.gittins_starve_s = 2400;
	cfg.gittins_starve_factor = 1;
	wait = long_job_wait(&cfg, 2400);
	CHECK_GE(wait, 2400);
	CHECK_LE(wait, 2400 + 360);

	/* ... or starve_factor x R when that is longer (10 x ~360 s) */
	cfg.gittins_starve_s = 600;
	cfg.gittins_starve_factor = 10;
	wait = long_job_wait(&cfg, 5000);
	CHECK_GE(wait, 2500);
	CHECK_LE(wait, 5000 + 360);

	/* the defaults have the tier on, and it bounds the wait */
	cfg = gcfg();
	CHECK(cfg.gittins_starve_s > 0);
	limit = AIDC_MAX(cfg.gittins_starve_s, (int64_t)cfg.gittins_starve_factor * 500);
	wait = long_job_wait(&cfg, limit);
	fprintf(stderr, "defaults: long job waited %" PRId64 " s (limit %" PRId64 " s)\n", wait,
		limit);
	CHECK_GE(wait, 0);
	CHECK_LE(wait, limit + 360);
}

/*
 * Preemption is bounded per job. One device; a long job runs; short jobs
 * arrive every 50 s and (once their history says they are short) each would
 * preempt it. The long job is preempted at
 * most once per run-time bucket (half-octave of its attained run time, so at
 * most 1 + its final bucket <= SCHED_GIT_BUCKETS), and at most
 * gittins_max_preempt times when that is set; with a quantum, never in the
 * first quantum of a run.
 */
#define NPRE 400
static uint32_t long_job_preemptions(const struct sched_config *cfg, int64_t *min_run)
{
	static struct wjob w[NPRE + 1];
	struct simres r;
	uint32_t n;
	int64_t last = -1;

	/* the first short job ends before the long one arrives: some history */
	w[0] = (struct wjob){10, 15000, 1, 1, "u", "long"};
	for (size_t i = 1; i <= NPRE; i++)
		w[i] = (struct wjob){(int64_t)(i - 1) * 50, 5, 1, 1, "u", "short"};
	simulate(cfg, w, NPRE + 1, 1, 1, 10000000, &r);
	CHECK_EQ(r.st[0].state, W_DONE);
	n = r.st[0].preemptions;
	/* shortest stretch the long job ran before a preemption */
	*min_run = INT64_MAX;
	for (size_t i = 0; i < r.nlog; i++) {
		if (r.log[i].job_id != 1)
			continue;
		if (r.log[i].kind == SCHED_DECIDE_START)
			last = r.log[i].now_s;
		else if (r.log[i].kind == SCHED_DECIDE_PREEMPT && last >= 0)
			*min_run = AIDC_MIN(*min_run, r.log[i].now_s - last);
	}
	simres_free(&r);
	return n;
}

static void test_gittins_preemption_bounded(void)
{
	struct sched_config cfg = gcfg();
	int64_t min_run;
	uint32_t n, buckets;

	/* its buckets: [0,1) [1,1.5) ... up to its final run time (15000 s plus the
	 * restart overheads) */
	cfg.restart_overhead_s = 0;
	buckets = 1 + 2 * 13 + 2; /* 15000 < 2^14: buckets 0 .. 28 */
	n = long_job_preemptions(&cfg, &min_run);
	fprintf(stderr, "long job preempted %u times (bound %u)\n", n, buckets);
	CHECK_GE(n, 1);
	CHECK_LE(n, buckets);
	CHECK_LE(n, SCHED_GIT_BUCKETS);

	cfg.gittins_max_preempt = 2;
	n = long_job_preemptions(&cfg, &min_run);
	CHECK_GE(n, 1);
	CHECK_LE(n, 2);

	cfg.gittins_max_preempt = 0;
	cfg.gittins_quantum_s = 600;
	n = long_job_preemptions(&cfg, &min_run);
	CHECK_GE(n, 1);
	CHECK_GE(min_run, 600);

	/* a restart cost larger than anything the short jobs save: no preemption */
	cfg.gittins_quantum_s = 0;
	cfg.restart_overhead_s = 100000;
	n = long_job_preemptions(&cfg, &min_run);
	CHECK_EQ(n, 0);
}

/*
 * gittins_window weighs recent finished jobs more. One device, jobs run one at
 * a time: 20 of class B (50 s), then 40 of class A (1,000 s) and 10 of class A
 * (10 s). Then A and B submit one job each at the same moment, on a free
 * device. With every job weighing the same, A's history is 80% long (Gittins R
 * ~ 74 s against B's 50 s): B starts first. With a window of 8, A's recent short
 * jobs dominate (R ~ 16 s): A starts first. The same workload with a window is
 * deterministic and (test_gittins_no_lookahead) free of look-ahead.
 */
static int64_t probe_a_minus_b(const struct sched_config *cfg)
{
	static struct wjob w[72];
	struct simres r;
	int64_t t = 0, d;
	size_t n = 0;

	for (size_t i = 0; i < 20; i++, t += 50)
		w[n++] = (struct wjob){t, 50, 1, 1, "u", "B"};
	for (size_t i = 0; i < 40; i++, t += 1000)
		w[n++] = (struct wjob){t, 1000, 1, 1, "u", "A"};
	for (size_t i = 0; i < 10; i++, t += 10)
		w[n++] = (struct wjob){t, 10, 1, 1, "u", "A"};
	w[n++] = (struct wjob){t, 50, 1, 1, "u", "B"};
	w[n++] = (struct wjob){t, 10, 1, 1, "u", "A"};
	simulate(cfg, w, n, 1, 1, 10000000, &r);
	CHECK_EQ(r.st[n - 1].state, W_DONE);
	CHECK_EQ(r.st[n - 2].state, W_DONE);
	d = r.st[n - 1].first_start_s - r.st[n - 2].first_start_s;
	simres_free(&r);
	return d;
}

static void test_gittins_window(void)
{
	struct sched_config cfg = gcfg();
	struct simres a, b;
	static struct wjob w[NMIX];

	cfg.gittins_window = 0;
	CHECK(probe_a_minus_b(&cfg) > 0); /* B first */
	cfg.gittins_window = 8;
	CHECK(probe_a_minus_b(&cfg) < 0); /* A first */

	cfg.gittins_window = 16;
	cfg.restart_overhead_s = 30;
	mixed_workload(w, 17);
	simulate(&cfg, w, NMIX, 4, 8, 10000000, &a);
	simulate(&cfg, w, NMIX, 4, 8, 10000000, &b);
	CHECK_EQ(a.nlog, b.nlog);
	CHECK(a.hash == b.hash);
	for (size_t i = 0; i < NMIX; i++)
		CHECK_EQ(a.st[i].state, W_DONE);
	simres_free(&a);
	simres_free(&b);
}

/*
 * Tail backoff. One device, jobs one at a time: 16 of name A (100 s), 16 of C
 * (300 s), 16 of L (long_s), all of user u. Then X (name A, 5,000 s) starts
 * alone at 20,000 and, when it has run 400 s (past every A sample: A says
 * nothing more about it), Y (name C, R = 300 s) arrives. With long_s = 500 the
 * user's class still has jobs that ran 400 s, and they ended soon after (R =
 * 116 s): X keeps running until its run time crosses the next bucket edge
 * (512 s), where it has outrun the L jobs too (outrun rule, R = 1,024 s) and Y
 * preempts it. With long_s = 100 no class has jobs that ran 400 s: the outrun
 * rule (R = 2 x 384 s) lets Y preempt X at once. Returns Y's start time.
 */
static int64_t backoff_probe(int64_t long_s)
{
	static struct wjob w[50];
	struct sched_config cfg = gcfg();
	struct simres r;
	int64_t t = 0, start;
	size_t n = 0;

	for (size_t i = 0; i < 16; i++, t += 100)
		w[n++] = (struct wjob){t, 100, 1, 1, "u", "A"};
	for (size_t i = 0; i < 16; i++, t += 300)
		w[n++] = (struct wjob){t, 300, 1, 1, "u", "C"};
	for (size_t i = 0; i < 16; i++, t += long_s)
		w[n++] = (struct wjob){t, long_s, 1, 1, "u", "L"};
	w[n++] = (struct wjob){20000, 5000, 1, 1, "u", "A"};
	w[n++] = (struct wjob){20400, 300, 1, 1, "u", "C"};
	simulate(&cfg, w, n, 1, 1, 10000000, &r);
	CHECK_EQ(r.st[n - 2].state, W_DONE);
	CHECK_EQ(r.st[n - 2].first_start_s, 20000);
	CHECK_EQ(r.st[n - 2].preemptions, 1u);
	start = r.st[n - 1].first_start_s;
	simres_free(&r);
	return start;
}

static void test_gittins_tail_backoff(void)
{
	CHECK_EQ(backoff_probe(500), 20512);
	CHECK_EQ(backoff_probe(100), 20400);
}

/* The distribution oracle (sched_gittins_prior, `aidc sim --gittins-prior`):
 * a diagnostic that must leave the default path alone. Runs of the default
 * order before and after prior runs decide the same (the prior is per
 * scheduler, nothing global); with the prior, "trace" and "others" are each
 * deterministic, decide differently from the learned order and from each
 * other, and every job still ends (so does "self", each job's own run time);
 * "others" puts every job's sample back (the run again in the same process
 * gives the same hash). The prior needs the gittins order, a sign of 1 or -1,
 * a partition and a run time >= 0. */
static void test_gittins_prior(void)
{
	static struct wjob w[NMIX];
	struct sched_config cfg = gcfg();
	struct simres a, b, r[4][2]; /* r[mode][run]: 1 trace, 2 others, 3 self */

	mixed_workload(w, 23);
	simulate(&cfg, w, NMIX, 4, 8, 10000000, &a);
	for (int m = 1; m <= 3; m++)
		for (int k = 0; k < 2; k++) {
			sim_prior = m;
			simulate(&cfg, w, NMIX, 4, 8, 10000000, &r[m][k]);
		}
	sim_prior = 0;
	simulate(&cfg, w, NMIX, 4, 8, 10000000, &b);
	CHECK(a.hash == b.hash);
	CHECK_EQ(a.nlog, b.nlog);
	for (int m = 1; m <= 3; m++) {
		CHECK(r[m][0].hash == r[m][1].hash);
		CHECK(r[m][0].hash != a.hash);
		for (int o = 1; o < m; o++)
			CHECK(r[m][0].hash != r[o][0].hash);
		for (size_t i = 0; i < NMIX; i++)
			CHECK_EQ(r[m][0].st[i].state, W_DONE);
		simres_free(&r[m][0]);
		simres_free(&r[m][1]);
	}
	simres_free(&a);
	simres_free(&b);
	{
		struct sched *s = NULL;
		struct aidc_err e = {0};
		struct sched_job_spec js = jspec(1, 1, 1, 0);

		CHECK_EQ(sched_new(&cfg, NULL, &s, &e), 0);
		CHECK_EQ(sched_add_partition(s, "p", &e), 0);
		CHECK_EQ(sched_gittins_prior(s, &js, 10, 0, &e), AIDC_E_INVAL);
		CHECK_EQ(sched_gittins_prior(s, &js, -1, 1, &e), AIDC_E_INVAL);
		js.partition = 1;
		CHECK_EQ(sched_gittins_prior(s, &js, 10, 1, &e), AIDC_E_INVAL);
		sched_free(s);
		cfg.order = SCHED_ORDER_FIFO;
		js.partition = 0;
		CHECK_EQ(sched_new(&cfg, NULL, &s, &e), 0);
		CHECK_EQ(sched_add_partition(s, "p", &e), 0);
		CHECK_EQ(sched_gittins_prior(s, &js, 10, 1, &e), AIDC_E_INVAL);
		sched_free(s);
	}
}

/* Simulations: generous per-case timeouts for loaded machines. */
TEST_MAIN({"test_gittins_deterministic", test_gittins_deterministic, 180},
	  {"test_gittins_no_lookahead", test_gittins_no_lookahead, 300},
	  {"test_gittins_no_starvation", test_gittins_no_starvation, 180},
	  {"test_gittins_preemption_bounded", test_gittins_preemption_bounded, 180},
	  {"test_gittins_window", test_gittins_window, 180},
	  {"test_gittins_tail_backoff", test_gittins_tail_backoff, 180},
	  {"test_gittins_prior", test_gittins_prior, 300})
