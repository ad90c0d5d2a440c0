/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's topology reader (src/agent/topo.c) on this machine: at least one
 * package, core and PU; PUs consistent with the CPUs the kernel has online
 * (or with this process's affinity when a cpuset restricts it, as hwloc then
 * shows only the allowed CPUs); per-package and per-NUMA counts adding up;
 * and the member it writes into a registration is valid JSON that the
 * controller's decoder accepts with the same counts. Prints the document.
 * Without hwloc at build time: checks that nothing is written, then SKIPs.
 */
#include <jansson.h>
#include <sched.h>
#include <unistd.h>

#include "agent/topo.h"
#include "tests/test.h"
#include "util/util.h"

/* {"name":"n1",...,"topology":{...}} as do_register would build it. */
static int registration(struct aidc_buf *b, struct aidc_err *e)
{
	struct aidc_json w;
	aidc_json_init(&w, b, false);
	aidc_json_obj_begin(&w);
	aidc_json_kstr(&w, "name", "n1");
	aidc_json_kstr(&w, "addr", "127.0.0.1");
	aidc_json_ki64(&w, "cpus", 1);
	aidc_json_ki64(&w, "mem_mib", 1024);
	int rc = agent_topology_json(&w, e);
	aidc_json_obj_end(&w);
	int frc = aidc_json_finish(&w);
	return rc ? rc : frc;
}

static void test_without_hwloc(void)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 64 * 1024);
	struct aidc_err e = {0};
	CHECK_EQ(registration(&b, &e), 0);
	CHECK(strstr(aidc_buf_str(&b), "topology") == NULL);
	struct api_topology t;
	CHECK_EQ(agent_topology_read(&t, &e), AIDC_E_UNSUPPORTED);
	aidc_buf_release(&b);
}

static void test_counts(const struct api_topology *t)
{
	CHECK_EQ(t->v, API_TOPOLOGY_VERSION);
	CHECK_GE(t->packages.n, 1);
	CHECK_GE(t->cores, 1);
	CHECK_GE(t->pus, t->cores);
	CHECK_GE(t->numa.n, 1);
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	CPU_ZERO(&set);
	int allowed = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
	printf("hwloc: %zu packages, %zu NUMA nodes, %" PRId64 " cores, %" PRId64
	       " PUs; online CPUs %ld, allowed %d\n",
	       t->packages.n, t->numa.n, t->cores, t->pus, online, allowed);
	/* hwloc shows the CPUs this process may use: all online ones, or the
	 * allowed subset under a restricting cpuset. */
	if (t->pus != online)
		CHECK_EQ(t->pus, allowed);
	int64_t pc = 0, pp = 0, npu_max = 0;
	const struct api_topo_package *p = t->packages.v;
	for (size_t i = 0; i < t->packages.n; i++) {
		CHECK_EQ(p[i].index, (int64_t)i);
		CHECK_GE(p[i].cores, 1);
		pc += p[i].cores;
		pp += p[i].pus;
	}
	const struct api_topo_numa *m = t->numa.v;
	for (size_t i = 0; i < t->numa.n; i++) {
		CHECK_EQ(m[i].index, (int64_t)i);
		CHECK_LE(m[i].pus, t->pus);
		CHECK_LE(m[i].cores, t->cores);
		npu_max = m[i].pus > npu_max ? m[i].pus : npu_max;
	}
	/* Every core is in one package; NUMA nodes list the CPUs local to them
	 * (CPU-less ones share a neighbour's), so at least one has CPUs. */
	CHECK_EQ(pc, t->cores);
	CHECK_EQ(pp, t->pus);
	CHECK_GE(npu_max, 1);
	struct aidc_err e = {0};
	CHECK_EQ(api_topology_check(t, "topology.", &e), 0);
	if (e.code)
		fprintf(stderr, "check: %s\n", e.msg);
}

static void test_registration(const struct api_topology *t)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 64 * 1024);
	struct aidc_err e = {0};
	CHECK_EQ(registration(&b, &e), 0);
	printf("%s\n", aidc_buf_str(&b));
	json_error_t je;
	json_t *root = json_loadb(aidc_buf_str(&b), b.len, JSON_REJECT_DUPLICATES, &je);
	CHECK(root != NULL);
	CHECK(json_is_object(json_object_get(root, "topology")));
	json_decref(root);
	/* The controller's decoder takes it, with the counts read above. */
	struct api_agent_register reg;
	int rc = api_decode(&api_schema_agent_register, aidc_buf_str(&b), b.len, &reg, &e);
	CHECK_EQ(rc, 0);
	if (rc) {
		fprintf(stderr, "decode: %s\n", e.msg);
	} else {
		CHECK(reg.topology != NULL);
		if (reg.topology) {
			CHECK_EQ(reg.topology->cores, t->cores);
			CHECK_EQ(reg.topology->pus, t->pus);
			CHECK_EQ(reg.topology->packages.n, t->packages.n);
			CHECK_EQ(reg.topology->numa.n, t->numa.n);
			CHECK_EQ(reg.topology->accelerators.n, t->accelerators.n);
		}
		api_decoded_release(&api_schema_agent_register, &reg);
	}
	/* Two reads of the same machine write the same bytes. */
	struct aidc_buf b2;
	aidc_buf_init(&b2, 64 * 1024);
	CHECK_EQ(registration(&b2, &e), 0);
	CHECK_STR(aidc_buf_str(&b2), aidc_buf_str(&b));
	aidc_buf_release(&b2);
	aidc_buf_release(&b);
}

/* Without hwloc at build time nothing is written (the other case SKIPs). */
static void test_absent(void)
{
	if (agent_topology_available())
		TEST_SKIP("built with hwloc: test_this_machine covers it");
	test_without_hwloc();
}

static void test_this_machine(void)
{
	if (!agent_topology_available())
		TEST_SKIP("built without hwloc (install libhwloc-dev and reconfigure)");
	struct api_topology t;
	struct aidc_err e = {0};
	int rc = agent_topology_read(&t, &e);
	if (rc == AIDC_E_IO)
		TEST_SKIP("hwloc cannot read this machine: %s", e.msg);
	CHECK_EQ(rc, 0);
	if (rc) {
		fprintf(stderr, "read: %s\n", e.msg);
		return;
	}
	test_counts(&t);
	test_registration(&t);
	api_decoded_release(&api_schema_topology, &t);
}

TEST_MAIN(TEST(test_absent), TEST(test_this_machine))
