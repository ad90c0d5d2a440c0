/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_sched_scale: the cost of one full scheduling pass of the core.
 *
 * Cluster: 4,096 nodes x 8 devices (32,768 devices) in one partition, 16 nodes
 * per rack. Queue: N pending jobs (10,000 and 100,000) with a Philly-like mix
 * of sizes (1 device 70 %, 2: 10 %, 4: 10 %, 8: 6 %, 16: 2 %, 32: 1.5 %,
 * 64: 0.5 %; jobs above 8 devices are gangs of 1-device tasks, as the
 * simulator submits them), time limits 1 min .. 1 day, 200 users, 50 names.
 * One repetition builds a fresh scheduler, submits the N jobs (not timed) and
 * times one sched_pass (the first, which also sorts the whole queue: the
 * worst case). Prints the median over the repetitions and the ratio against
 * the 10,000-job pass of the same configuration measured in the same run.
 * Gittins first learns from 4,096 finished jobs (not timed; see learn()).
 * Rows "+1000 acct" charge every job to one of 1,000 accounts (tenancy groups
 * under one organization, shares 1..10) and one of its 5 users (6,001 groups;
 * no limits); the multifactor row also has fair share on, with usage from
 * one finished job per account of 1..3600 s (not timed), and its timed pass
 * is the first (it recalculates the tree and every job's priority and sorts
 * the queue). "vs none" is the 100k pass against fifo easy without accounts
 * in the same run.
 * Usage: bench_sched_scale [--repeats R] [--quick] [--only CONFIG]
 *   (--quick: 1 repeat; --only "gittins easy": that row only, e.g. under a profiler;
 *    several rows separated by '|': --only 'fifo easy|multifactor easy +1000 acct')
 */
#include <time.h>

#include "sched/sched.h"
#include "util/util.h"

#define NODES 4096u
#define DEVS  8u

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Gittins learns its distributions from finished jobs: HISTORY one-device jobs
 * of the same users and names start at 0 and end one by one, 20 s apart, so the
 * timed pass computes real indexes over a populated history. */
#define HISTORY 4096u
#define BASE_S	(HISTORY * 20 + 1000)
static void learn(struct sched *s, struct aidc_rng *rng)
{
	struct sched_decisions d;
	struct aidc_err e = {0};
	char user[32], jname[32];

	sched_decisions_init(&d);
	for (uint32_t i = 0; i < HISTORY; i++) {
		struct sched_job_spec js;
		memset(&js, 0, sizeof js);
		snprintf(user, sizeof user, "u%u", (unsigned)aidc_rng_below(rng, 200));
		snprintf(jname, sizeof jname, "j%u", (unsigned)aidc_rng_below(rng, 50));
		js.id = 1000000000u + i;
		js.name = jname;
		js.user = user;
		js.ntasks = 1;
		js.task.ndev = 1;
		js.task.cpu_milli = 1000;
		js.task.mem_mib = 4096;
		if (sched_submit(s, &js, 0, &e) < 0) {
			fprintf(stderr, "history: %s\n", e.msg);
			exit(1);
		}
	}
	if (sched_pass(s, 0, &d, &e) || d.n != HISTORY) {
		fprintf(stderr, "history pass: %s\n", e.msg);
		exit(1);
	}
	for (uint32_t i = 0; i < HISTORY; i++)
		if (sched_job_finish(s, d.v[i].job, 1 + (int64_t)i * 20, &e)) {
			fprintf(stderr, "history finish: %s\n", e.msg);
			exit(1);
		}
	sched_decisions_release(&d);
}

#define ACCTS	  1000u
#define USERS_PER 5u

/* The tenancy groups of the "+1000 acct" rows: org, ACCTS accounts, their
 * users; gid[a] = account a's group, gid[ACCTS + a * USERS_PER + u] = user u
 * in a. Under MULTIFACTOR one job per account runs 1..3600 s first (usage). */
static void accounts(struct sched *s, enum sched_order o, struct aidc_rng *rng, uint32_t *gid)
{
	struct aidc_err e = {0};
	char name[64];
	struct sched_group_spec org = {"org", -1, -1, -1, -1, -1, -1, 1, {0}, {0}, NULL, 0};
	int og = sched_group_set(s, &org, &e);
	for (uint32_t a = 0; a < ACCTS && og >= 0; a++) {
		snprintf(name, sizeof name, "account a%u", a);
		struct sched_group_spec g = {name, og, -1, -1,
					     -1,   -1, -1, 1 + (int64_t)aidc_rng_below(rng, 10), {0}, {0}, NULL, 0};
		int id = sched_group_set(s, &g, &e);
		if (id < 0)
			break;
		gid[a] = (uint32_t)id;
		for (uint32_t u = 0; u < USERS_PER; u++) {
			snprintf(name, sizeof name, "user u%u in a%u", a * USERS_PER + u, a);
			struct sched_group_spec ug = {name, id, -1, -1, -1, -1, -1, 1, {0}, {0}, NULL, 0};
			int uid = sched_group_set(s, &ug, &e);
			if (uid < 0) {
				fprintf(stderr, "group: %s\n", e.msg);
				exit(1);
			}
			gid[ACCTS + a * USERS_PER + u] = (uint32_t)uid;
		}
	}
	if (og < 0 || e.msg[0]) {
		fprintf(stderr, "groups: %s\n", e.msg);
		exit(1);
	}
	if (o != SCHED_ORDER_MULTIFACTOR)
		return;
	struct sched_decisions d;
	sched_decisions_init(&d);
	for (uint32_t a = 0; a < ACCTS; a++) {
		struct sched_job_spec js;
		memset(&js, 0, sizeof js);
		js.id = 2000000000u + a;
		js.ntasks = 1;
		js.task.ndev = 1;
		js.task.cpu_milli = 1000;
		js.task.mem_mib = 4096;
		js.groups[0] = gid[ACCTS + a * USERS_PER];
		js.ngroups = 1;
		if (sched_submit(s, &js, 0, &e) < 0) {
			fprintf(stderr, "usage job: %s\n", e.msg);
			exit(1);
		}
	}
	if (sched_pass(s, 0, &d, &e) || d.n != ACCTS) {
		fprintf(stderr, "usage pass: %s\n", e.msg);
		exit(1);
	}
	for (uint32_t i = 0; i < ACCTS; i++)
		if (sched_job_finish(s, d.v[i].job, 1 + (int64_t)aidc_rng_below(rng, 3600), &e)) {
			fprintf(stderr, "usage finish: %s\n", e.msg);
			exit(1);
		}
	sched_decisions_release(&d);
}

static struct sched *build(enum sched_order o, enum sched_blocking b, uint32_t njobs, bool accts)
{
	static uint32_t gid[ACCTS + ACCTS * USERS_PER];
	struct sched_config cfg;
	struct sched *s;
	struct aidc_err e = {0};
	struct sched_device_spec devs[DEVS];
	struct aidc_rng rng;
	char name[64], user[32], jname[32];

	sched_config_defaults(&cfg);
	cfg.order = o;
	cfg.blocking = b;
	cfg.placement = SCHED_PLACE_CONSOLIDATE;
	if (sched_new(&cfg, NULL, &s, &e) || sched_add_model(s, "gpu", "v", 32768, &e) < 0 ||
	    sched_add_partition(s, "all", &e) < 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		exit(1);
	}
	for (uint32_t d = 0; d < DEVS; d++) {
		devs[d].model = 0;
		devs[d].group = d / 4;
	}
	for (uint32_t i = 0; i < NODES; i++) {
		struct sched_node_spec ns = {name, 0, i / 16, 96000, 1024 * 1024, DEVS, devs};
		snprintf(name, sizeof name, "node%05u", i);
		if (sched_add_node(s, &ns, &e) < 0) {
			fprintf(stderr, "node: %s\n", e.msg);
			exit(1);
		}
	}
	aidc_rng_seed(&rng, 7);
	if (o == SCHED_ORDER_GITTINS)
		learn(s, &rng);
	if (accts)
		accounts(s, o, &rng, gid);
	for (uint32_t i = 0; i < njobs; i++) {
		struct sched_job_spec js;
		uint64_t r = aidc_rng_below(&rng, 1000);
		uint32_t g = r < 700   ? 1
			     : r < 800 ? 2
			     : r < 900 ? 4
			     : r < 960 ? 8
			     : r < 980 ? 16
			     : r < 995 ? 32
				       : 64;
		memset(&js, 0, sizeof js);
		snprintf(user, sizeof user, "u%u", (unsigned)aidc_rng_below(&rng, 200));
		snprintf(jname, sizeof jname, "j%u", (unsigned)aidc_rng_below(&rng, 50));
		js.id = i + 1;
		js.name = jname;
		js.user = user;
		js.submit_s = BASE_S + i / 10;
		js.ntasks = g > DEVS ? g : 1;
		js.task.ndev = g > DEVS ? 1 : g;
		js.task.cpu_milli = 1000;
		js.task.mem_mib = 4096;
		js.time_limit_s = 60 + (int64_t)aidc_rng_below(&rng, 86400);
		if (accts) {
			uint32_t a = (uint32_t)aidc_rng_below(&rng, ACCTS);
			js.groups[0] = gid[a];
			js.groups[1] =
			    gid[ACCTS + a * USERS_PER + (uint32_t)aidc_rng_below(&rng, USERS_PER)];
			js.ngroups = 2;
		}
		if (sched_submit(s, &js, BASE_S + njobs / 10, &e) < 0) {
			fprintf(stderr, "submit: %s\n", e.msg);
			exit(1);
		}
	}
	return s;
}

/* Whether name is one of the '|'-separated names in list. */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
		if (!strncmp(p, name, n) && (p[n] == '|' || p[n] == '\0'))
			return true;
	return false;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median ms of one pass; *starts = START decisions of the last repeat. */
static double measure(enum sched_order o, enum sched_blocking b, uint32_t njobs, bool accts,
		      int repeats, size_t *starts)
{
	double t[16];
	struct sched_decisions d;
	struct aidc_err e = {0};

	sched_decisions_init(&d);
	for (int r = 0; r < repeats; r++) {
		struct sched *s = build(o, b, njobs, accts);
		double t0 = now_ms();
		if (sched_pass(s, BASE_S + njobs / 10, &d, &e)) {
			fprintf(stderr, "pass: %s\n", e.msg);
			exit(1);
		}
		t[r] = now_ms() - t0;
		*starts = 0;
		for (size_t i = 0; i < d.n; i++)
			*starts += d.v[i].kind == SCHED_DECIDE_START;
		sched_free(s);
	}
	sched_decisions_release(&d);
	qsort(t, (size_t)repeats, sizeof t[0], cmp_d);
	return t[repeats / 2];
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		enum sched_order o;
		enum sched_blocking b;
		bool accts;
	} cfgs[] = {
	    {"fifo strict", SCHED_ORDER_FIFO, SCHED_BLOCK_STRICT, false},
	    {"fifo easy", SCHED_ORDER_FIFO, SCHED_BLOCK_EASY, false},
	    {"qssf strict", SCHED_ORDER_QSSF, SCHED_BLOCK_STRICT, false},
	    {"qssf easy", SCHED_ORDER_QSSF, SCHED_BLOCK_EASY, false},
	    {"gittins strict", SCHED_ORDER_GITTINS, SCHED_BLOCK_STRICT, false},
	    {"gittins easy", SCHED_ORDER_GITTINS, SCHED_BLOCK_EASY, false},
	    {"fifo easy +1000 acct", SCHED_ORDER_FIFO, SCHED_BLOCK_EASY, true},
	    {"multifactor easy +1000 acct", SCHED_ORDER_MULTIFACTOR, SCHED_BLOCK_EASY, true},
	};
	double base100 = 0;
	int repeats = 5;
	const char *only = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			repeats = 1;
		} else if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) {
			int64_t v;
			if (aidc_parse_i64(argv[++i], 1, 15, &v)) {
				fprintf(stderr, "--repeats takes 1..15\n");
				return 2;
			}
			repeats = (int)v;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else {
			fprintf(stderr, "usage: bench_sched_scale [--repeats R] [--quick] "
					"[--only 'CONFIG']\n");
			return 2;
		}
	}
	printf("one sched_pass, %u nodes x %u devices, consolidate, median of %d\n", NODES, DEVS,
	       repeats);
	printf("%-28s %10s %10s %12s %12s %8s %8s\n", "config", "10k ms", "100k ms", "10k starts",
	       "100k starts", "ratio", "vs none");
	for (size_t c = 0; c < AIDC_ARRAY_LEN(cfgs); c++) {
		size_t s10, s100;
		double a;
		if (only && !listed(only, cfgs[c].name))
			continue;
		a = measure(cfgs[c].o, cfgs[c].b, 10000, cfgs[c].accts, repeats, &s10);
		double b = measure(cfgs[c].o, cfgs[c].b, 100000, cfgs[c].accts, repeats, &s100);
		if (cfgs[c].o == SCHED_ORDER_FIFO && cfgs[c].b == SCHED_BLOCK_EASY &&
		    !cfgs[c].accts)
			base100 = b;
		printf("%-28s %10.2f %10.2f %12zu %12zu %7.2fx", cfgs[c].name, a, b, s10, s100,
		       b / a);
		if (cfgs[c].accts && base100 > 0)
			printf(" %7.2fx", b / base100);
		printf("\n");
		fflush(stdout);
	}
	return 0;
}
