/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the API's strict JSON request decoders (src/api): the first
 * byte picks the schema (index into api_schemas), the rest is the body. Every
 * input must either decode (and release cleanly) or fail with a code, never
 * crash, leak or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "api/api.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const struct api_schema *s = api_schemas[data[0] % api_nschemas];
	void *dst = aidc_malloc(s->size);
	struct aidc_err e = {0};
	int rc = api_decode(s, (const char *)data + 1, size - 1, dst, &e);
	if (rc == 0)
		api_decoded_release(s, dst);
	else if (rc > 0 || e.code != rc)
		abort(); /* a failure must carry its root cause */
	aidc_free(dst);
	return 0;
}
