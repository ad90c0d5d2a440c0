/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the simulator's philly trace reader on arbitrary bytes,
 * with and without --skip-bad-rows. Any input must end in success or a clean
 * error; the job count is capped low so the fuzzer explores syntax, not size.
 */
#include <stddef.h>
#include <stdint.h>

#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int skip = 0; skip < 2; skip++) {
		struct sim_trace t;
		sim_trace_init(&t);
		struct aidc_err e;
		aidc_err_clear(&e);
		struct sim_read_opts o = {.skip_bad_rows = skip, .max_jobs = 10000};
		sim_trace_load_mem("fuzz", (const char *)data, size, SIM_FORMAT_PHILLY, &o, &t, &e);
		sim_trace_release(&t);
	}
	return 0;
}
