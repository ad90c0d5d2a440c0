/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's topology with hwloc (see topo.h), for the agent's registration.
 * The only file of AIDC that includes hwloc: it fills the wire struct of
 * src/api (struct api_topology) and lets api_topology_json write it, so the
 * agent and the controller share one format and one set of checks.
 *
 * Indices are hwloc logical indices (0..n-1 in topology order); NUMA nodes
 * also carry the kernel's number (os_index) for numactl and cpuset.mems.
 * Without AIDC_AGENT_HAVE_HWLOC (no libhwloc-dev at build time) the reader
 * says so and the registration has no topology.
 */
#include "agent/topo.h"

#ifdef AIDC_AGENT_HAVE_HWLOC
#include <hwloc.h>
#endif

#include "util/util.h"

#ifdef AIDC_AGENT_HAVE_HWLOC

/* PCI base classes reported as accelerators: display controllers (0x03: VGA,
 * 3D such as NVIDIA data-center GPUs, other display such as AMD Instinct) and
 * processing accelerators (0x12: Gaudi, many NPUs). A BMC's VGA shows up too;
 * its vendor id tells it apart. */
static bool accel_class(unsigned class_id)
{
	unsigned base = class_id >> 8;
	return base == 0x03 || base == 0x12;
}

/* Cores inside set; a machine whose OS reports no cores to hwloc counts each
 * PU as a core (what the kernel then schedules on). */
static int64_t cores_in(hwloc_topology_t h, hwloc_const_cpuset_t set)
{
	bool have_cores = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_CORE) > 0;
	return hwloc_get_nbobjs_inside_cpuset_by_type(h, set,
						      have_cores ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU);
}

static int64_t pus_in(hwloc_topology_t h, hwloc_const_cpuset_t set)
{
	return hwloc_get_nbobjs_inside_cpuset_by_type(h, set, HWLOC_OBJ_PU);
}

/* Checks one count against its limit before anything is stored for it. */
static int bounded(int n, unsigned limit, const char *what, const char *limit_name,
		   struct aidc_err *e)
{
	if (n < 0)
		return aidc_errf(e, AIDC_E_IO, "hwloc: cannot count %s", what);
	if ((unsigned)n > limit)
		return aidc_errf(e, AIDC_E_LIMIT, "topology: %d %s, more than %s (%u)", n, what,
				 limit_name, limit);
	return 0;
}

/* Counts hwloc's objects of type, checks the count (bounded) and gives v a
 * zeroed array of that many rows of size bytes, owned by the topology. */
static int alloc_rows(hwloc_topology_t h, hwloc_obj_type_t type, unsigned limit,
		      const char *what, const char *limit_name, size_t size, struct api_objv *v,
		      struct aidc_err *e)
{
	int n = hwloc_get_nbobjs_by_type(h, type);
	int rc = bounded(n, limit, what, limit_name, e);
	if (rc)
		return rc;
	v->v = aidc_calloc(n ? (size_t)n : 1, size);
	v->n = (size_t)n;
	return 0;
}

static int read_packages(hwloc_topology_t h, struct api_topology *t, struct aidc_err *e)
{
	int rc = alloc_rows(h, HWLOC_OBJ_PACKAGE, AIDC_MAX_TOPO_PACKAGES, "packages",
			    "AIDC_MAX_TOPO_PACKAGES", sizeof(struct api_topo_package), &t->packages, e);
	if (rc)
		return rc;
	struct api_topo_package *p = t->packages.v;
	int n = (int)t->packages.n;
	for (int i = 0; i < n; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(h, HWLOC_OBJ_PACKAGE, (unsigned)i);
		p[i].index = i;
		p[i].cores = o && o->cpuset ? cores_in(h, o->cpuset) : 0;
		p[i].pus = o && o->cpuset ? pus_in(h, o->cpuset) : 0;
	}
	return 0;
}

/* The logical index of the package holding o: its ancestor, or else the one
 * package whose CPUs include all of o's (hwloc attaches memory and devices
 * of a one-package machine to the Machine object); -1 if none does. */
static int64_t package_of(hwloc_topology_t h, hwloc_obj_t o)
{
	hwloc_obj_t p = o ? hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_PACKAGE, o) : NULL;
	if (p)
		return (int64_t)p->logical_index;
	if (!o || !o->cpuset || hwloc_bitmap_iszero(o->cpuset))
		return -1;
	int n = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PACKAGE);
	for (int i = 0; i < n; i++) {
		p = hwloc_get_obj_by_type(h, HWLOC_OBJ_PACKAGE, (unsigned)i);
		if (p && p->cpuset && hwloc_bitmap_isincluded(o->cpuset, p->cpuset))
			return i;
	}
	return -1;
}

static int read_numa(hwloc_topology_t h, struct api_topology *t, struct aidc_err *e)
{
	int rc = alloc_rows(h, HWLOC_OBJ_NUMANODE, AIDC_MAX_TOPO_NUMA_NODES, "NUMA nodes",
			    "AIDC_MAX_TOPO_NUMA_NODES", sizeof(struct api_topo_numa), &t->numa, e);
	if (rc)
		return rc;
	struct api_topo_numa *m = t->numa.v;
	int n = (int)t->numa.n;
	for (int i = 0; i < n; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, (unsigned)i);
		if (!o)
			return aidc_errf(e, AIDC_E_IO, "hwloc: NUMA node %d vanished", i);
		uint64_t mib = o->attr ? o->attr->numanode.local_memory >> 20 : 0;
		if (mib > AIDC_MAX_NODE_MEM_MIB)
			return aidc_errf(e, AIDC_E_LIMIT,
					 "topology: NUMA node %u has %" PRIu64
					 " MiB, more than AIDC_MAX_NODE_MEM_MIB",
					 o->os_index, mib);
		m[i].index = i;
		m[i].os_index = o->os_index;
		/* A NUMA node is a memory child of the object it is local to, so its
		 * package is that object's (none for memory shared by packages). */
		m[i].package = package_of(h, o->parent);
		m[i].mem_mib = (int64_t)mib;
		/* The CPUs local to this memory (hwloc gives a CPU-less node such as
		 * HBM or GPU memory its parent's CPUs): nodes may share CPUs. */
		m[i].cores = o->cpuset ? cores_in(h, o->cpuset) : 0;
		m[i].pus = o->cpuset ? pus_in(h, o->cpuset) : 0;
	}
	return 0;
}

/* The first NUMA node (with CPUs) whose CPUs include all of set: the node
 * local to a device attached below set; -1 when set spans several. */
static int64_t numa_covering(hwloc_topology_t h, hwloc_const_cpuset_t set)
{
	int n = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE);
	for (int i = 0; set && !hwloc_bitmap_iszero(set) && i < n; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, (unsigned)i);
		if (o && o->cpuset && !hwloc_bitmap_iszero(o->cpuset) &&
		    hwloc_bitmap_isincluded(set, o->cpuset))
			return i;
	}
	return -1;
}

static int read_accels(hwloc_topology_t h, struct api_topology *t, struct aidc_err *e)
{
	size_t n = 0;
	for (hwloc_obj_t o = hwloc_get_next_pcidev(h, NULL); o; o = hwloc_get_next_pcidev(h, o))
		n += accel_class(o->attr->pcidev.class_id);
	if (n > AIDC_MAX_TOPO_ACCELERATORS)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "topology: %zu accelerators on the PCI bus, more than "
				 "AIDC_MAX_TOPO_ACCELERATORS (%u)",
				 n, AIDC_MAX_TOPO_ACCELERATORS);
	struct api_topo_accel *a = aidc_calloc(n ? n : 1, sizeof *a);
	t->accelerators.v = a;
	size_t k = 0;
	for (hwloc_obj_t o = hwloc_get_next_pcidev(h, NULL); o && k < n;
	     o = hwloc_get_next_pcidev(h, o)) {
		const struct hwloc_pcidev_attr_s *pci = &o->attr->pcidev;
		if (!accel_class(pci->class_id))
			continue;
		char id[32];
		snprintf(id, sizeof id, "%04x:%02x:%02x.%01x", (unsigned)pci->domain,
			 (unsigned)pci->bus, (unsigned)pci->dev, (unsigned)pci->func);
		hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(h, o);
		a[k].bus_id = aidc_strdup(id);
		a[k].vendor_id = pci->vendor_id;
		a[k].device_id = pci->device_id;
		a[k].class_id = pci->class_id;
		a[k].numa = anc ? numa_covering(h, anc->cpuset) : -1;
		a[k].package = package_of(h, anc);
		t->accelerators.n = ++k;
	}
	return 0;
}

int agent_topology_read(struct api_topology *t, struct aidc_err *e)
{
	memset(t, 0, sizeof *t);
	hwloc_topology_t h;
	if (hwloc_topology_init(&h) != 0)
		return aidc_errf(e, AIDC_E_IO, "hwloc: cannot initialise: %s", strerror(errno));
	/* PCI devices are not loaded by default; the important ones (display,
	 * accelerators, network, storage) are enough here. */
	hwloc_topology_set_io_types_filter(h, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
	int rc = 0;
	if (hwloc_topology_load(h) != 0) {
		rc =
		    aidc_errf(e, AIDC_E_IO, "hwloc: cannot read the topology: %s", strerror(errno));
		goto out;
	}
	int pus = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU);
	if ((rc = bounded(pus, AIDC_MAX_TOPO_PUS, "PUs", "AIDC_MAX_TOPO_PUS", e)) != 0)
		goto out;
	int cores = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_CORE);
	if (cores <= 0)
		cores = pus;
	if ((rc = bounded(cores, AIDC_MAX_TOPO_CORES, "cores", "AIDC_MAX_TOPO_CORES", e)) != 0)
		goto out;
	if (pus == 0) {
		rc = aidc_errf(e, AIDC_E_IO, "hwloc: no processing unit found");
		goto out;
	}
	t->v = API_TOPOLOGY_VERSION;
	t->cores = cores;
	t->pus = pus;
	if ((rc = read_packages(h, t, e)) == 0 && (rc = read_numa(h, t, e)) == 0)
		rc = read_accels(h, t, e);
out:
	hwloc_topology_destroy(h);
	if (rc)
		api_decoded_release(&api_schema_topology, t);
	return rc;
}

bool agent_topology_available(void)
{
	return true;
}

#else /* !AIDC_AGENT_HAVE_HWLOC */

int agent_topology_read(struct api_topology *t, struct aidc_err *e)
{
	memset(t, 0, sizeof *t);
	return aidc_errf(e, AIDC_E_UNSUPPORTED, "topology: this agent was built without hwloc");
}

bool agent_topology_available(void)
{
	return false;
}

#endif

int agent_topology_json(struct aidc_json *w, struct aidc_err *e)
{
	if (!agent_topology_available())
		return 0;
	struct api_topology t;
	int rc = agent_topology_read(&t, e);
	if (rc)
		return rc;
	/* What the controller would refuse is not sent (and would be a bug here). */
	if ((rc = api_topology_check(&t, "topology.", e)) == 0) {
		aidc_json_key(w, "topology");
		api_topology_json(w, &t);
	}
	api_decoded_release(&api_schema_topology, &t);
	return rc;
}
