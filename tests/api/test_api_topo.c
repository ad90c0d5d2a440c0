/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "topology" member of an agent registration (src/api): a table of
 * registrations (valid, absent, malformed, inconsistent, at and past every
 * AIDC_MAX_TOPO_* limit) and the code each must decode to; the writer's
 * round trip; the summary; the OpenAPI components.
 */
#include <jansson.h>

#include "api/api.h"
#include "tests/test.h"
#include "util/util.h"

#define REG_HEAD "{\"name\":\"n1\",\"addr\":\"127.0.0.1\",\"cpus\":4,\"mem_mib\":1024"

/* A two-socket machine: 2 packages, 2 NUMA nodes, 8 cores, 16 PUs, 2 GPUs. */
#define TOPO_OK                                                                                    \
	"{\"v\":1,\"cores\":8,\"pus\":16,"                                                         \
	"\"packages\":[{\"index\":0,\"cores\":4,\"pus\":8},{\"index\":1,\"cores\":4,\"pus\":8}],"  \
	"\"numa\":[{\"index\":0,\"os_index\":0,\"package\":0,\"mem_mib\":2048,\"cores\":4,"        \
	"\"pus\":8},{\"index\":1,\"os_index\":1,\"package\":1,\"mem_mib\":2048,\"cores\":4,"       \
	"\"pus\":8}],"                                                                             \
	"\"accelerators\":[{\"bus_id\":\"0000:17:00.0\",\"vendor_id\":4318,\"device_id\":8752,"    \
	"\"class_id\":770,\"numa\":0,\"package\":0},{\"bus_id\":\"0000:ca:00.0\","                 \
	"\"vendor_id\":4318,\"device_id\":8752,\"class_id\":770,\"numa\":1,\"package\":1}]}"

struct topo_case {
	const char *topology; /* the member's value, or NULL for none */
	int want;
	const char *msg_has;
};

/* A registration whose topology has n packages/NUMA nodes/accelerators. */
static char *many(const char *what, size_t n)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 1u << 20);
	aidc_buf_printf(&b, "{\"v\":1,\"cores\":%zu,\"pus\":%zu,\"%s\":[", n ? n : 1, n ? n : 1,
			what);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(what, "packages"))
			aidc_buf_printf(&b, "%s{\"index\":%zu,\"cores\":1,\"pus\":1}", i ? "," : "",
					i);
		else if (!strcmp(what, "numa"))
			aidc_buf_printf(&b,
					"%s{\"index\":%zu,\"os_index\":%zu,\"package\":-1,"
					"\"mem_mib\":1,\"cores\":0,\"pus\":0}",
					i ? "," : "", i, i);
		else
			aidc_buf_printf(
			    &b,
			    "%s{\"bus_id\":\"0000:%02zx:%02zx.0\",\"vendor_id\":1,"
			    "\"device_id\":2,\"class_id\":4608,\"numa\":-1,\"package\":-1}",
			    i ? "," : "", i / 32, i % 32);
	}
	aidc_buf_puts(&b, "]}");
	char *s = aidc_strdup(aidc_buf_str(&b));
	aidc_buf_release(&b);
	return s;
}

static int decode_reg(const char *topology, struct api_agent_register *reg, struct aidc_err *e)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 2u << 20);
	aidc_buf_puts(&b, REG_HEAD);
	if (topology)
		aidc_buf_printf(&b, ",\"topology\":%s", topology);
	aidc_buf_puts(&b, "}");
	int rc = api_decode(&api_schema_agent_register, aidc_buf_str(&b), b.len, reg, e);
	aidc_buf_release(&b);
	return rc;
}

static void test_table(void)
{
	char *pk64 = many("packages", AIDC_MAX_TOPO_PACKAGES);
	char *pk65 = many("packages", AIDC_MAX_TOPO_PACKAGES + 1);
	char *nm128 = many("numa", AIDC_MAX_TOPO_NUMA_NODES);
	char *nm129 = many("numa", AIDC_MAX_TOPO_NUMA_NODES + 1);
	char *ac64 = many("accelerators", AIDC_MAX_TOPO_ACCELERATORS);
	char *ac65 = many("accelerators", AIDC_MAX_TOPO_ACCELERATORS + 1);
	const struct topo_case cases[] = {
	    {NULL, 0, NULL}, /* an older agent, or one built without hwloc */
	    {"null", 0, NULL},
	    {TOPO_OK, 0, NULL},
	    {"{\"v\":1,\"cores\":1,\"pus\":1}", 0, NULL},
	    {pk64, 0, NULL},
	    {nm128, 0, NULL},
	    {ac64, 0, NULL},
	    {pk65, AIDC_E_LIMIT, "topology.packages: more than 64"},
	    {nm129, AIDC_E_LIMIT, "topology.numa: more than 128"},
	    {ac65, AIDC_E_LIMIT, "topology.accelerators: more than 64"},
	    {"{\"v\":1,\"cores\":4097,\"pus\":5000}", AIDC_E_INVAL,
	     "topology.cores: 4097 is outside"},
	    {"{\"v\":1,\"cores\":1,\"pus\":32769}", AIDC_E_INVAL, "topology.pus: 32769 is outside"},
	    {"{\"v\":1,\"cores\":0,\"pus\":1}", AIDC_E_INVAL, "topology.cores"},
	    {"[1]", AIDC_E_INVAL, "topology: must be a JSON object (Topology)"},
	    {"\"2s/2n/8c\"", AIDC_E_INVAL, "must be a JSON object"},
	    {"{}", AIDC_E_INVAL, "topology.v: required"},
	    {"{\"v\":2,\"cores\":1,\"pus\":1}", AIDC_E_VERSION, "topology version 2 is unknown"},
	    {"{\"v\":1,\"cores\":1,\"pus\":1,\"sockets\":2}", AIDC_E_INVAL,
	     "topology.sockets: unknown field"},
	    {"{\"v\":1,\"cores\":\"8\",\"pus\":16}", AIDC_E_INVAL, "must be an integer"},
	    {"{\"v\":1,\"cores\":8,\"pus\":4}", AIDC_E_INVAL, "fewer than the 8 cores"},
	    {"{\"v\":1,\"cores\":2,\"pus\":2,\"packages\":[{\"index\":0,\"cores\":2,\"pus\":2},"
	     "{\"index\":0,\"cores\":0,\"pus\":0}]}",
	     AIDC_E_INVAL, "packages[1].index: 0 appears twice"},
	    {"{\"v\":1,\"cores\":2,\"pus\":2,\"packages\":[{\"index\":0,\"cores\":2,\"pus\":2},"
	     "{\"index\":1,\"cores\":2,\"pus\":2}]}",
	     AIDC_E_INVAL, "more than the node's 2 and 2"},
	    {"{\"v\":1,\"cores\":2,\"pus\":2,\"numa\":[{\"index\":0,\"os_index\":0,"
	     "\"package\":3,\"mem_mib\":1,\"cores\":1,\"pus\":1}]}",
	     AIDC_E_INVAL, "numa[0].package: no package 3"},
	    {"{\"v\":1,\"cores\":2,\"pus\":2,\"numa\":[{\"index\":0,\"os_index\":0,"
	     "\"package\":-1,\"mem_mib\":1,\"cores\":2,\"pus\":3}]}",
	     AIDC_E_INVAL, "numa[0]: 2 cores and 3 PUs, more than the node's 2 and 2"},
	    {"{\"v\":1,\"cores\":2,\"pus\":2,\"numa\":[{\"index\":0,\"os_index\":0,"
	     "\"package\":-1,\"mem_mib\":1,\"cores\":2,\"pus\":2},{\"index\":1,"
	     "\"os_index\":1,\"package\":-1,\"mem_mib\":1,\"cores\":2,\"pus\":2}]}",
	     0, NULL}, /* a CPU-less node (HBM) lists its neighbour's CPUs */
	    {"{\"v\":1,\"cores\":2,\"pus\":2,\"numa\":[{\"index\":0,\"os_index\":0,"
	     "\"package\":-2,\"mem_mib\":1,\"cores\":1,\"pus\":1}]}",
	     AIDC_E_INVAL, "numa[0].package: -2 is outside"},
	    {"{\"v\":1,\"cores\":2,\"pus\":2,\"numa\":[{\"index\":0,\"os_index\":0,"
	     "\"package\":-1,\"mem_mib\":1,\"cores\":1}]}",
	     AIDC_E_INVAL, "numa[0].pus: required"},
	    {"{\"v\":1,\"cores\":2,\"pus\":2,\"accelerators\":[{\"bus_id\":\"17:00.0\","
	     "\"vendor_id\":1,\"device_id\":2,\"class_id\":770,\"numa\":-1,\"package\":-1}]}",
	     AIDC_E_INVAL, "bus_id: '17:00.0' is not of the form"},
	    {"{\"v\":1,\"cores\":2,\"pus\":2,\"accelerators\":[{\"bus_id\":\"0000:17:00.0\","
	     "\"vendor_id\":65536,\"device_id\":2,\"class_id\":770,\"numa\":-1,\"package\":-1}]}",
	     AIDC_E_INVAL, "vendor_id: 65536 is outside"},
	    {"{\"v\":1,\"cores\":2,\"pus\":2,\"accelerators\":[{\"bus_id\":\"0000:17:00.0\","
	     "\"vendor_id\":1,\"device_id\":2,\"class_id\":770,\"numa\":0,\"package\":-1}]}",
	     AIDC_E_INVAL, "accelerators[0].numa: no NUMA node 0"},
	    {"{\"v\":1,\"cores\":2,\"pus\":2,\"accelerators\":[{\"bus_id\":\"0000:17:00.0\","
	     "\"vendor_id\":1,\"device_id\":2,\"class_id\":770,\"numa\":-1,\"package\":-1},"
	     "{\"bus_id\":\"0000:17:00.0\",\"vendor_id\":1,\"device_id\":2,\"class_id\":770,"
	     "\"numa\":-1,\"package\":-1}]}",
	     AIDC_E_INVAL, "accelerators[1].bus_id: 0000:17:00.0 appears twice"},
	    {"{\"v\":1,\"cores\":2,\"pus\":2,\"accelerators\":[{\"bus_id\":\"0000:17:00.0:00:00."
	     "0\","
	     "\"vendor_id\":1,\"device_id\":2,\"class_id\":770,\"numa\":-1,\"package\":-1}]}",
	     AIDC_E_LIMIT, "bus_id: longer than 16"},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		const struct topo_case *c = &cases[i];
		struct api_agent_register reg;
		struct aidc_err e = {0};
		int rc = decode_reg(c->topology, &reg, &e);
		if (rc != c->want)
			fprintf(stderr, "case %zu: %s\n", i, e.msg);
		CHECK_EQ(rc, c->want);
		if (c->msg_has)
			CHECK_CONTAINS(e.msg, c->msg_has);
		if (rc == 0) {
			CHECK((reg.topology != NULL) ==
			      (c->topology != NULL && strcmp(c->topology, "null") != 0));
			api_decoded_release(&api_schema_agent_register, &reg);
		}
	}
	aidc_free(pk64);
	aidc_free(pk65);
	aidc_free(nm128);
	aidc_free(nm129);
	aidc_free(ac64);
	aidc_free(ac65);
}

/* Decode, write, decode again: the same document; and its summary. */
static void test_round_trip(void)
{
	struct api_agent_register reg;
	struct aidc_err e = {0};
	CHECK_EQ(decode_reg(TOPO_OK, &reg, &e), 0);
	if (!reg.topology)
		return;
	const struct api_topo_accel *a = reg.topology->accelerators.v;
	CHECK_STR(a[1].bus_id, "0000:ca:00.0");
	CHECK_EQ(a[1].numa, 1);
	char sum[32];
	api_topology_summary(reg.topology, sum, sizeof sum);
	CHECK_STR(sum, "2s/2n/8c");
	api_topology_summary(NULL, sum, sizeof sum);
	CHECK_STR(sum, "-");
	struct aidc_buf b;
	aidc_buf_init(&b, 64 * 1024);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	api_topology_json(&w, reg.topology);
	CHECK_EQ(aidc_json_finish(&w), 0);
	json_t *x = json_loads(TOPO_OK, 0, NULL), *y = json_loads(aidc_buf_str(&b), 0, NULL);
	CHECK(x && y && json_equal(x, y));
	json_decref(x);
	json_decref(y);
	aidc_buf_release(&b);
	api_decoded_release(&api_schema_agent_register, &reg);
}

static void test_openapi(void)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 4u << 20);
	CHECK_EQ(api_openapi(NULL, 0, "t", &b), 0);
	json_t *doc = json_loads(aidc_buf_str(&b), 0, NULL);
	CHECK(doc != NULL);
	json_t *sch = json_object_get(json_object_get(doc, "components"), "schemas");
	CHECK(json_object_get(sch, "Topology") != NULL);
	CHECK(json_object_get(sch, "TopoNuma") != NULL);
	CHECK(json_object_get(sch, "TopoPackage") != NULL);
	CHECK(json_object_get(sch, "TopoAccelerator") != NULL);
	json_t *ref = json_object_get(
	    json_array_get(
		json_object_get(
		    json_object_get(
			json_object_get(json_object_get(sch, "AgentRegister"), "properties"),
			"topology"),
		    "allOf"),
		0),
	    "$ref");
	CHECK_STR(json_string_value(ref), "#/components/schemas/Topology");
	json_decref(doc);
	aidc_buf_release(&b);
}

TEST_MAIN(TEST(test_table), TEST(test_round_trip), TEST(test_openapi))
