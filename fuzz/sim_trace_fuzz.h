/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The body shared by the simulator's trace-reader fuzz targets (sim_aidc.c,
 * sim_helios.c, sim_philly.c): the reader of one format on arbitrary bytes,
 * with and without --skip-bad-rows. Any input must end in success or a clean
 * error; the job count is capped low so the fuzzer explores syntax, not size.
 */
#ifndef AIDC_FUZZ_SIM_TRACE_FUZZ_H
#define AIDC_FUZZ_SIM_TRACE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline int fuzz_trace(const uint8_t *data, size_t size, enum sim_format fmt)
{
	for (int skip = 0; skip < 2; skip++) {
		struct sim_trace t;
		sim_trace_init(&t);
		struct aidc_err e;
		aidc_err_clear(&e);
		struct sim_read_opts o = {.skip_bad_rows = skip, .max_jobs = 10000};
		sim_trace_load_mem("fuzz", (const char *)data, size, fmt, &o, &t, &e);
		sim_trace_release(&t);
	}
	return 0;
}

#endif
