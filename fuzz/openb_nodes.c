/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the openb node list reader (src/sim/trace_openb.c). Any input
 * must either parse or fail with an error code and a message; never crash,
 * leak or read out of bounds. The model table is shared with a second read
 * of the same input, as the CLI shares it between the node and pod lists.
 */
#include "sim/openb.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_openb_models m = {0};
	struct aidc_err e = {0};
	for (int pass = 0; pass < 2; pass++) {
		struct sim_openb_nodes out;
		int rc = sim_openb_read_nodes_mem("fuzz.csv", (const char *)data, size, &m, &out, &e);
		if (rc != 0 && (e.code == 0 || e.msg[0] == '\0'))
			abort(); /* a failure must say why */
		sim_openb_nodes_release(&out);
		aidc_err_clear(&e);
	}
	return 0;
}
