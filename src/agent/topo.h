/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's hardware topology for the agent's registration, read with hwloc:
 * processor packages, NUMA nodes with their memory, cores, processing units
 * (hardware threads) and the accelerators on the PCI bus (classes display,
 * 3D and processing accelerator) with the NUMA node and package they sit
 * closest to. The wire format (struct api_topology, version
 * API_TOPOLOGY_VERSION) belongs to src/api; only this file knows hwloc.
 *
 * hwloc is optional at build time (CMake option AIDC_HWLOC, on when
 * pkg-config finds hwloc >= 2.0): without it agent_topology_json writes
 * nothing and the agent registers as before.
 */
#ifndef AIDC_AGENT_TOPO_H
#define AIDC_AGENT_TOPO_H

#include <stdbool.h>

#include "api/api.h"
#include "util/err.h"
#include "util/json.h"

/* Whether this build reads topology (it was built with hwloc). */
bool agent_topology_available(void);

/*
 * Reads the machine's topology (the CPUs this process may use, as hwloc's
 * default restricts it to the allowed cpuset) into *t, zeroed first. Every
 * count is checked against util/limits.h (AIDC_MAX_TOPO_*) before it is
 * stored: a larger machine is AIDC_E_LIMIT naming the limit. AIDC_E_UNSUPPORTED
 * without hwloc, AIDC_E_IO when hwloc fails. On success the caller releases
 * *t with api_decoded_release(&api_schema_topology, t); on failure nothing
 * is left to release. Cost: one hwloc load (sysfs reads, a few ms to tens of
 * ms with PCI discovery), then O(objects) walks.
 */
int agent_topology_read(struct api_topology *t, struct aidc_err *e);

/*
 * Writes the member "topology": {...} into the JSON object w is building (the
 * registration document of do_register). The document is read and checked
 * with api_topology_check first, so on any failure (returned, detail in e)
 * nothing at all is written and w stays valid: the caller may register
 * without topology. Without hwloc it writes nothing and returns 0.
 * w is borrowed.
 */
int agent_topology_json(struct aidc_json *w, struct aidc_err *e);

#endif
