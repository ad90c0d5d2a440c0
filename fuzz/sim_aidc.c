/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the simulator's aidc trace reader (see sim_trace_fuzz.h). */
#include "sim_trace_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_trace(data, size, SIM_FORMAT_AIDC);
}
