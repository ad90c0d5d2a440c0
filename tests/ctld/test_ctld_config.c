/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's own unit tests, without a live center: the config key
 * table (src/ctld/config.c: every default parses, each key type accepts and
 * refuses what it documents and a refused value changes nothing, files report
 * file:line, derived paths, the command-line view of each key) and the bridge
 * to the scheduling core (src/ctld/sched_bridge.c: every queue order,
 * placement and blocking name reaches the core as the enum value of its row in
 * sched's name tables), and the heartbeat period asked of agents as the
 * center grows (src/ctld/nodes.c).
 */
#include "ctld/ctld.h"
#include "ctld/ctld_int.h"
#include "sched/sched.h"
#include "tests/test.h"
#include "util/util.h"

static void test_defaults(void)
{
	struct ctld_config c;
	ctld_config_defaults(&c); /* aborts if a table default does not parse */
	CHECK_STR(c.listen_addr, "127.0.0.1");
	CHECK_EQ(c.port, 6820);
	CHECK_STR(c.state_dir, "/var/lib/aidc");
	CHECK_EQ(c.order, SCHED_ORDER_FIFO);
	CHECK_EQ(c.placement, SCHED_PLACE_CONSOLIDATE);
	CHECK_EQ(c.blocking, SCHED_BLOCK_EASY);
	CHECK_EQ(c.admin_gid, -1);
	CHECK(c.requeue_on_node_failure);
	CHECK(!c.allow_root_jobs);
	CHECK_STR(c.db_path, ""); /* derived by ctld_config_finish */
	ctld_config_finish(&c);
	CHECK_STR(c.db_path, "/var/lib/aidc/aidc.db");
	CHECK_STR(c.secret_file, "/var/lib/aidc/secret");
	CHECK_STR(c.socket_path, "/var/lib/aidc/aidc.sock");
	CHECK_STR(c.port_file, ""); /* no derive column: stays empty */
}

/* A refused value names the key and leaves the whole config as it was. */
static void refused(struct ctld_config *c, const char *key, const char *value, int want,
		    const char *msg)
{
	struct ctld_config before = *c;
	struct aidc_err e = {0};
	CHECK_EQ(ctld_config_set(c, key, value, &e), want);
	CHECK_CONTAINS(e.msg, msg);
	CHECK(memcmp(&before, c, sizeof before) == 0);
}

static void test_set_types(void)
{
	struct ctld_config c;
	ctld_config_defaults(&c);
	struct aidc_err e = {0};
	CHECK_EQ(ctld_config_set(&c, "node_timeout_s", "15", &e), 0);
	CHECK_EQ(c.node_timeout_s, 15);
	CHECK_EQ(ctld_config_set(&c, "allow_root_jobs", "yes", &e), 0);
	CHECK(c.allow_root_jobs);
	CHECK_EQ(ctld_config_set(&c, "allow_root_jobs", "off", &e), 0);
	CHECK(!c.allow_root_jobs);
	CHECK_EQ(ctld_config_set(&c, "state_dir", "/srv/aidc", &e), 0);
	CHECK_STR(c.state_dir, "/srv/aidc");
	CHECK_EQ(ctld_config_set(&c, "admin_group", "", &e), 0);
	CHECK_EQ(c.admin_gid, -1);
	CHECK_EQ(ctld_config_set(&c, "admin_group", "root", &e), 0);
	CHECK_EQ(c.admin_gid, 0);

	refused(&c, "no_such_key", "1", AIDC_E_INVAL, "unknown config key 'no_such_key'");
	refused(&c, "node_timeout_s", "0", AIDC_E_INVAL, "node_timeout_s");
	refused(&c, "node_timeout_s", "3601", AIDC_E_INVAL, "1..3600");
	refused(&c, "port", "12ab", AIDC_E_INVAL, "not an integer");
	refused(&c, "munge", "maybe", AIDC_E_INVAL, "not true or false");
	refused(&c, "order", "shortest", AIDC_E_INVAL, "order: unknown value 'shortest'");
	refused(&c, "admin_group", "no-such-group-aidc", AIDC_E_INVAL, "no group");
	char big[5000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	refused(&c, "state_dir", big, AIDC_E_LIMIT, "longer than");
}

/* Every name and alias of sched's tables is a valid config value meaning its row. */
static void check_names(const char *key, const struct sched_name *t, size_t off)
{
	struct ctld_config c;
	ctld_config_defaults(&c);
	const int *field = (const int *)((const char *)&c + off);
	for (const struct sched_name *r = t; r->name; r++) {
		struct aidc_err e = {0};
		CHECK_EQ(ctld_config_set(&c, key, r->name, &e), 0);
		CHECK_EQ(*field, r->value);
		if (r->alias) {
			ctld_config_defaults(&c);
			CHECK_EQ(ctld_config_set(&c, key, r->alias, &e), 0);
			CHECK_EQ(*field, r->value);
		}
	}
}

static void test_policy_names(void)
{
	check_names("order", sched_order_names, offsetof(struct ctld_config, order));
	check_names("placement", sched_placement_names, offsetof(struct ctld_config, placement));
	check_names("blocking", sched_blocking_names, offsetof(struct ctld_config, blocking));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_load(void)
{
	char path[] = "/tmp/aidc_test_ctld_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	struct ctld_config c;
	ctld_config_defaults(&c);
	struct aidc_err e = {0};
	write_file(path, "# a comment\n\n  order = priority  # trailing comment\n"
			 "placement=aidc-frag\nheartbeat_s = 3\n");
	CHECK_EQ(ctld_config_load(&c, path, &e), 0);
	CHECK_EQ(c.order, SCHED_ORDER_PRIORITY);
	CHECK_EQ(c.placement, SCHED_PLACE_AIDC_FRAG);
	CHECK_EQ(c.heartbeat_s, 3);
	write_file(path, "order = fifo\nplacement\n");
	CHECK_EQ(ctld_config_load(&c, path, &e), AIDC_E_PARSE);
	CHECK_CONTAINS(e.msg, ":2: expected 'key = value'");
	aidc_err_clear(&e);
	write_file(path, "\nblocking = sometimes\n");
	CHECK_EQ(ctld_config_load(&c, path, &e), AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, ":2: blocking: unknown value 'sometimes'");
	unlink(path);
	aidc_err_clear(&e);
	CHECK_EQ(ctld_config_load(&c, path, &e), AIDC_E_IO);
	CHECK_CONTAINS(e.msg, path);
}

/* The command-line view: flag names from the key (or the table's flag column). */
static void test_key_info(void)
{
	size_t n = ctld_config_nkeys();
	CHECK(n > 0 && n <= CTLD_CONFIG_MAX_KEYS);
	bool saw_timeout = false, saw_order = false, saw_db = false;
	for (size_t i = 0; i < n; i++) {
		struct ctld_config_key k;
		ctld_config_key_info(i, &k);
		CHECK(k.key && *k.key && k.flag[0] && k.help && *k.help);
		CHECK(strchr(k.flag, '_') == NULL);
		if (!strcmp(k.key, "node_timeout_s")) {
			saw_timeout = true;
			CHECK_STR(k.flag, "node-timeout");
		}
		if (!strcmp(k.key, "order")) {
			saw_order = true;
			CHECK(k.choices == sched_order_names);
			CHECK_STR(k.def, "fifo");
		}
		if (!strcmp(k.key, "db")) {
			saw_db = true;
			CHECK_STR(k.def, "<state_dir>/aidc.db");
		}
		if (k.is_bool)
			CHECK(k.metavar == NULL);
	}
	CHECK(saw_timeout && saw_order && saw_db);
}

/* sched_bridge.c: the config's policy values reach the core unchanged. */
static void test_bridge_policies(void)
{
	struct ctld *c = aidc_calloc(1, sizeof *c);
	ctld_config_defaults(&c->cfg);
	for (const struct sched_name *o = sched_order_names; o->name; o++)
		for (const struct sched_name *b = sched_blocking_names; b->name; b++) {
			const struct sched_name *p =
				&sched_placement_names[(o - sched_order_names) % SCHED_PLACE_COUNT_];
			struct aidc_err e = {0};
			CHECK_EQ(ctld_config_set(&c->cfg, "order", o->name, &e), 0);
			CHECK_EQ(ctld_config_set(&c->cfg, "placement", p->name, &e), 0);
			CHECK_EQ(ctld_config_set(&c->cfg, "blocking", b->name, &e), 0);
			CHECK_EQ(ctld_sched_init(c, &e), 0);
			if (!c->sched)
				continue;
			const struct sched_config *sc = sched_get_config(c->sched);
			CHECK_EQ(sc->order, o->value);
			CHECK_EQ(sc->placement, p->value);
			CHECK_EQ(sc->blocking, b->value);
			sched_free(c->sched);
			c->sched = NULL;
		}
	for (const struct sched_name *p = sched_placement_names; p->name; p++) {
		struct aidc_err e = {0};
		CHECK_EQ(ctld_config_set(&c->cfg, "placement", p->name, &e), 0);
		CHECK_EQ(ctld_sched_init(c, &e), 0);
		if (c->sched)
			CHECK_EQ(sched_get_config(c->sched)->placement, p->value);
		sched_free(c->sched);
		c->sched = NULL;
	}
	aidc_free(c);
}

/* The core's preemption cost and GITTINS settings: the controller's defaults are
 * the core's (sched_config_defaults), and set values reach the core. */
static void test_bridge_core_settings(void)
{
	struct ctld *c = aidc_calloc(1, sizeof *c);
	struct sched_config def;
	struct aidc_err e = {0};
	const struct sched_config *sc;

	sched_config_defaults(&def);
	ctld_config_defaults(&c->cfg);
	CHECK_EQ(ctld_sched_init(c, &e), 0);
	sc = sched_get_config(c->sched);
	CHECK_EQ(sc->restart_overhead_s, def.restart_overhead_s);
	CHECK_EQ(sc->gittins_min_samples, def.gittins_min_samples);
	CHECK_EQ(sc->gittins_quantum_s, def.gittins_quantum_s);
	CHECK_EQ(sc->gittins_max_preempt, def.gittins_max_preempt);
	CHECK_EQ(sc->gittins_starve_s, def.gittins_starve_s);
	CHECK_EQ(sc->gittins_starve_factor, def.gittins_starve_factor);
	CHECK_EQ(sc->gittins_window, def.gittins_window);
	CHECK_EQ(sc->fs_half_life_s, def.fs_half_life_s);
	CHECK_EQ(sc->prio_calc_period_s, def.prio_calc_period_s);
	CHECK_EQ(sc->prio_max_age_s, def.prio_max_age_s);
	CHECK_EQ(sc->prio_weight_age, def.prio_weight_age);
	CHECK_EQ(sc->prio_weight_fairshare, def.prio_weight_fairshare);
	CHECK_EQ(sc->prio_weight_size, def.prio_weight_size);
	CHECK_EQ(sc->prio_weight_qos, def.prio_weight_qos);
	sched_free(c->sched);
	c->sched = NULL;
	CHECK_EQ(ctld_config_set(&c->cfg, "restart_overhead_s", "120", &e), 0);
	CHECK_EQ(ctld_config_set(&c->cfg, "gittins_min_samples", "5", &e), 0);
	CHECK_EQ(ctld_config_set(&c->cfg, "gittins_quantum_s", "300", &e), 0);
	CHECK_EQ(ctld_config_set(&c->cfg, "gittins_max_preempt", "3", &e), 0);
	CHECK_EQ(ctld_config_set(&c->cfg, "gittins_starve_s", "7200", &e), 0);
	CHECK_EQ(ctld_config_set(&c->cfg, "gittins_starve_factor", "4", &e), 0);
	CHECK_EQ(ctld_config_set(&c->cfg, "gittins_window", "32", &e), 0);
	CHECK(ctld_config_set(&c->cfg, "gittins_window", "1000001", &e) != 0);
	CHECK(ctld_config_set(&c->cfg, "gittins_min_samples", "0", &e) != 0);
	CHECK_EQ(ctld_sched_init(c, &e), 0);
	sc = sched_get_config(c->sched);
	CHECK_EQ(sc->restart_overhead_s, 120);
	CHECK_EQ(sc->gittins_min_samples, 5);
	CHECK_EQ(sc->gittins_quantum_s, 300);
	CHECK_EQ(sc->gittins_max_preempt, 3);
	CHECK_EQ(sc->gittins_starve_s, 7200);
	CHECK_EQ(sc->gittins_starve_factor, 4);
	CHECK_EQ(sc->gittins_window, 32);
	sched_free(c->sched);
	aidc_free(c);
}

/* partition_priority: NAME=N items, each partition once, N in 0..65533;
 * a bad list is refused naming the key and changes nothing. */
static void test_partition_priority(void)
{
	struct ctld_config c;
	struct aidc_err e = {0};
	uint32_t f = 9;
	ctld_config_defaults(&c);
	CHECK_STR(c.partition_priority, "");
	CHECK_EQ(c.priority_weight_partition, 0);
	CHECK_EQ(ctld_config_set(&c, "partition_priority", "gpu=100,debug=0,big=65533", &e), 0);
	CHECK_EQ(ctld_partition_priority(c.partition_priority, "gpu", &f, &e), 0);
	CHECK_EQ(f, 100);
	CHECK_EQ(ctld_partition_priority(c.partition_priority, "big", &f, &e), 0);
	CHECK_EQ(f, 65533);
	CHECK_EQ(ctld_partition_priority(c.partition_priority, "other", &f, &e), 0);
	CHECK_EQ(f, 0);
	CHECK_EQ(ctld_config_set(&c, "priority_weight_partition", "5000", &e), 0);
	CHECK_EQ(c.priority_weight_partition, 5000);
	static const char *const bad[] = {"gpu",	 "gpu=",     "=5",	"gpu=65534",
					  "gpu=-1",	 "gpu=1,",   "gpu=1,,x=2", "gpu=1,gpu=2",
					  "my gpu=1", "gpu=1x"};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(bad); i++)
		refused(&c, "partition_priority", bad[i], AIDC_E_INVAL, "partition_priority");
	CHECK_STR(c.partition_priority, "gpu=100,debug=0,big=65533");
	/* the bridge gives a new partition its factor */
	struct ctld *x = aidc_calloc(1, sizeof *x);
	ctld_config_defaults(&x->cfg);
	CHECK_EQ(ctld_config_set(&x->cfg, "order", "multifactor", &e), 0);
	CHECK_EQ(ctld_config_set(&x->cfg, "priority_weight_partition", "1000", &e), 0);
	CHECK_EQ(ctld_config_set(&x->cfg, "partition_priority", "hi=10,lo=5", &e), 0);
	CHECK_EQ(ctld_sched_init(x, &e), 0);
	CHECK_EQ(sched_get_config(x->sched)->prio_weight_partition, 1000);
	sched_free(x->sched);
	aidc_free(x);
}

/* heartbeat_max_per_s stretches the period with the node count, and the
 * node timeout is never under three periods. */
static void test_heartbeat_stretch(void)
{
	static struct ctld c; /* large: not on the stack */
	memset(&c, 0, sizeof c);
	ctld_config_defaults(&c.cfg);
	CHECK_EQ(c.cfg.heartbeat_max_per_s, 1000);
	const struct {
		size_t nodes;
		int64_t hb_s, max_per_s, want_hb_s, want_timeout_ms;
	} t[] = {
		{4, 1, 1000, 1, 10000},	       {1000, 1, 1000, 1, 10000},
		{1001, 1, 1000, 2, 10000},     {4096, 1, 1000, 5, 15000},
		{16384, 1, 1000, 17, 51000},   {16384, 1, 0, 1, 10000},
		{10, 30, 1000, 30, 90000},     {65536, 1, 1, 600, 1800000},
		{4096, 2, 4096, 2, 10000},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		c.nnodes = t[i].nodes;
		c.cfg.heartbeat_s = t[i].hb_s;
		c.cfg.heartbeat_max_per_s = t[i].max_per_s;
		CHECK_EQ(ctld_heartbeat_s(&c), t[i].want_hb_s);
		CHECK_EQ(ctld_node_timeout_ms(&c), t[i].want_timeout_ms);
	}
}

TEST_MAIN(TEST(test_defaults), TEST(test_heartbeat_stretch), TEST(test_set_types), TEST(test_policy_names), TEST(test_load),
	  TEST(test_key_info), TEST(test_bridge_policies), TEST(test_bridge_core_settings),
	  TEST(test_partition_priority))
