/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node topology document of the agent protocol (the "topology" member of
 * POST /v1/agents/register, version API_TOPOLOGY_VERSION): the checks across
 * its fields that the schema table (api_schema.c) cannot state, its writer
 * (used by the agent to send it and by the controller to serve it, so both
 * sides share one wire format), and the short summary shown by `aidc nodes`.
 *
 * The schema already bounds every count by util/limits.h before anything is
 * allocated; the check below costs O(packages + NUMA nodes x packages +
 * accelerators x (packages + NUMA nodes)), at most a few tens of thousands of
 * comparisons for a body at every limit.
 */
#include <ctype.h>
#include <strings.h>

#include "api/api.h"
#include "util/util.h"

/* Whether s is "DDDD:BB:DD.F" in hex (PCI domain, bus, device, function); the
 * domain has 4 to 8 digits (Intel VMD domains are 10000 and up). */
static bool pci_bus_id_ok(const char *s)
{
	static const char shape[] = ":xx:xx.x";
	size_t d = 0;
	while (isxdigit((unsigned char)s[d]))
		d++;
	if (d < 4 || d > 8 || strlen(s + d) != sizeof shape - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'x' ? !isxdigit((unsigned char)s[d + i]) : s[d + i] != shape[i])
			return false;
	return true;
}

static bool package_known(const struct api_topology *t, int64_t idx)
{
	const struct api_topo_package *p = t->packages.v;
	for (size_t i = 0; i < t->packages.n; i++)
		if (p[i].index == idx)
			return true;
	return false;
}

static bool numa_known(const struct api_topology *t, int64_t idx)
{
	const struct api_topo_numa *m = t->numa.v;
	for (size_t i = 0; i < t->numa.n; i++)
		if (m[i].index == idx)
			return true;
	return false;
}

static int check_packages(const struct api_topology *t, const char *where, struct aidc_err *e)
{
	const struct api_topo_package *p = t->packages.v;
	int64_t cores = 0, pus = 0;
	for (size_t i = 0; i < t->packages.n; i++) {
		for (size_t k = 0; k < i; k++)
			if (p[k].index == p[i].index)
				return aidc_errf(e, AIDC_E_INVAL,
						 "%spackages[%zu].index: %" PRId64 " appears twice",
						 where, i, p[i].index);
		if (p[i].pus < p[i].cores)
			return aidc_errf(e, AIDC_E_INVAL, "%spackages[%zu]: fewer PUs than cores",
					 where, i);
		cores += p[i].cores;
		pus += p[i].pus;
	}
	if (cores > t->cores || pus > t->pus)
		return aidc_errf(e, AIDC_E_INVAL,
				 "%spackages: %" PRId64 " cores and %" PRId64
				 " PUs in all, more than the node's %" PRId64 " and %" PRId64,
				 where, cores, pus, t->cores, t->pus);
	return 0;
}

/* A NUMA node's cores and PUs are those local to it: CPU-less nodes (HBM, GPU
 * memory) share their neighbour's, so only each node, not the sum, is bounded. */
static int check_numa(const struct api_topology *t, const char *where, struct aidc_err *e)
{
	const struct api_topo_numa *m = t->numa.v;
	for (size_t i = 0; i < t->numa.n; i++) {
		for (size_t k = 0; k < i; k++)
			if (m[k].index == m[i].index || m[k].os_index == m[i].os_index)
				return aidc_errf(e, AIDC_E_INVAL,
						 "%snuma[%zu]: index %" PRId64
						 " or os_index %" PRId64 " appears twice",
						 where, i, m[i].index, m[i].os_index);
		if (m[i].package >= 0 && !package_known(t, m[i].package))
			return aidc_errf(e, AIDC_E_INVAL,
					 "%snuma[%zu].package: no package %" PRId64, where, i,
					 m[i].package);
		if (m[i].pus < m[i].cores)
			return aidc_errf(e, AIDC_E_INVAL, "%snuma[%zu]: fewer PUs than cores",
					 where, i);
		if (m[i].cores > t->cores || m[i].pus > t->pus)
			return aidc_errf(e, AIDC_E_INVAL,
					 "%snuma[%zu]: %" PRId64 " cores and %" PRId64
					 " PUs, more than the node's %" PRId64 " and %" PRId64,
					 where, i, m[i].cores, m[i].pus, t->cores, t->pus);
	}
	return 0;
}

int api_topology_check(const void *topology, const char *where, struct aidc_err *e)
{
	const struct api_topology *t = topology;
	if (t->v != API_TOPOLOGY_VERSION)
		return aidc_errf(e, AIDC_E_VERSION,
				 "%sv: topology version %" PRId64 " is unknown (this controller "
				 "reads %d)",
				 where, t->v, API_TOPOLOGY_VERSION);
	if (t->pus < t->cores)
		return aidc_errf(e, AIDC_E_INVAL,
				 "%spus: %" PRId64 " is fewer than the %" PRId64 " cores", where,
				 t->pus, t->cores);
	int rc = check_packages(t, where, e);
	if (rc == 0)
		rc = check_numa(t, where, e);
	if (rc)
		return rc;
	const struct api_topo_accel *a = t->accelerators.v;
	for (size_t i = 0; i < t->accelerators.n; i++) {
		if (!pci_bus_id_ok(a[i].bus_id))
			return aidc_errf(e, AIDC_E_INVAL,
					 "%saccelerators[%zu].bus_id: '%.16s' is not of the form "
					 "0000:17:00.0",
					 where, i, a[i].bus_id);
		for (size_t k = 0; k < i; k++)
			if (strcasecmp(a[k].bus_id, a[i].bus_id) == 0)
				return aidc_errf(e, AIDC_E_INVAL,
						 "%saccelerators[%zu].bus_id: %s appears twice",
						 where, i, a[i].bus_id);
		if (a[i].numa >= 0 && !numa_known(t, a[i].numa))
			return aidc_errf(e, AIDC_E_INVAL,
					 "%saccelerators[%zu].numa: no NUMA node %" PRId64, where,
					 i, a[i].numa);
		if (a[i].package >= 0 && !package_known(t, a[i].package))
			return aidc_errf(e, AIDC_E_INVAL,
					 "%saccelerators[%zu].package: no package %" PRId64, where,
					 i, a[i].package);
	}
	return 0;
}

/* One int64_t member of a row struct, by name and offset. */
struct i64_field {
	const char *key;
	size_t off;
};
#define I64_FIELD(type, member) {#member, offsetof(struct type, member)}

/* key: an array of v's rows (size bytes each) as objects of the fields f. */
static void i64_rows(struct aidc_json *w, const char *key, const struct api_objv *v, size_t size,
		     const struct i64_field *f, size_t nf)
{
	aidc_json_key(w, key);
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < v->n; i++) {
		const char *row = (const char *)v->v + i * size;
		aidc_json_obj_begin(w);
		for (size_t k = 0; k < nf; k++) {
			int64_t x;
			memcpy(&x, row + f[k].off, sizeof x);
			aidc_json_ki64(w, f[k].key, x);
		}
		aidc_json_obj_end(w);
	}
	aidc_json_arr_end(w);
}

void api_topology_json(struct aidc_json *w, const struct api_topology *t)
{
	aidc_json_obj_begin(w);
	aidc_json_ki64(w, "v", t->v);
	aidc_json_ki64(w, "cores", t->cores);
	aidc_json_ki64(w, "pus", t->pus);
	static const struct i64_field pkg[] = {
	    I64_FIELD(api_topo_package, index),
	    I64_FIELD(api_topo_package, cores),
	    I64_FIELD(api_topo_package, pus),
	};
	static const struct i64_field numa[] = {
	    I64_FIELD(api_topo_numa, index),   I64_FIELD(api_topo_numa, os_index),
	    I64_FIELD(api_topo_numa, package), I64_FIELD(api_topo_numa, mem_mib),
	    I64_FIELD(api_topo_numa, cores),   I64_FIELD(api_topo_numa, pus),
	};
	i64_rows(w, "packages", &t->packages, sizeof(struct api_topo_package), pkg,
		 AIDC_ARRAY_LEN(pkg));
	i64_rows(w, "numa", &t->numa, sizeof(struct api_topo_numa), numa, AIDC_ARRAY_LEN(numa));
	aidc_json_key(w, "accelerators");
	aidc_json_arr_begin(w);
	const struct api_topo_accel *a = t->accelerators.v;
	for (size_t i = 0; i < t->accelerators.n; i++) {
		aidc_json_obj_begin(w);
		aidc_json_kstr(w, "bus_id", a[i].bus_id);
		aidc_json_ki64(w, "vendor_id", a[i].vendor_id);
		aidc_json_ki64(w, "device_id", a[i].device_id);
		aidc_json_ki64(w, "class_id", a[i].class_id);
		aidc_json_ki64(w, "numa", a[i].numa);
		aidc_json_ki64(w, "package", a[i].package);
		aidc_json_obj_end(w);
	}
	aidc_json_arr_end(w);
	aidc_json_obj_end(w);
}

void api_topology_summary(const struct api_topology *t, char *out, size_t n)
{
	if (!t)
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%zus/%zun/%" PRId64 "c", t->packages.n, t->numa.n, t->cores);
}
