/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the cluster description parser and the VC file reader
 * on arbitrary bytes. Any input must end in success or a clean error, and a
 * parsed cluster must respect the node and device limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_cluster c;
	struct aidc_err e;
	sim_cluster_init(&c);
	aidc_err_clear(&e);
	if (sim_cluster_parse("fuzz", (const char *)data, size, &c, &e) == 0 &&
	    sim_cluster_nodes(&c) > AIDC_MAX_NODES)
		abort();
	sim_cluster_release(&c);
	sim_cluster_init(&c);
	aidc_err_clear(&e);
	if (sim_cluster_parse_vcs("fuzz", (const char *)data, size, 0.5, 8, &c, &e) == 0 &&
	    sim_cluster_nodes(&c) > AIDC_MAX_NODES)
		abort();
	sim_cluster_release(&c);
	return 0;
}
