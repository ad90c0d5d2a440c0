/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the parser of presented bearer tokens (api_token_parse,
 * src/api/api_auth.c): the input, NUL-terminated, is the text after
 * "Authorization: Bearer ". Every input must parse (an id >= 1 and a 64-digit
 * hash) or fail with AIDC_E_AUTH and a message, never crash or read past it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "api/api.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > AIDC_MAX_TOKEN_BYTES * 2)
		return 0;
	char *tok = aidc_malloc(size + 1);
	memcpy(tok, data, size);
	tok[size] = '\0';
	uint64_t id = 0;
	char hash[API_HASH_HEX + 1];
	struct aidc_err e = {0};
	int rc = api_token_parse(tok, &id, hash, &e);
	if (rc == 0 && (id == 0 || strlen(hash) != API_HASH_HEX))
		abort();
	if (rc != 0 && (rc != AIDC_E_AUTH || e.code != rc))
		abort();
	aidc_free(tok);
	return 0;
}
