/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming JSON writer into an aidc_buf. Commas and string escaping are
 * handled here; the first failure (buffer limit, nesting past
 * AIDC_JSON_MAX_DEPTH, a key outside an object) is sticky and returned by
 * aidc_json_finish, so callers write a whole document and check once.
 * Numbers print deterministically: integers exactly, doubles with a fixed
 * number of decimals chosen by the caller.
 */
#ifndef AIDC_UTIL_JSON_H
#define AIDC_UTIL_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

#define AIDC_JSON_MAX_DEPTH 64

struct aidc_json {
	struct aidc_buf *out; /* borrowed */
	int err;
	int depth;
	bool pretty;
	bool first[AIDC_JSON_MAX_DEPTH]; /* no element written yet at this level */
	bool after_key;
};

void aidc_json_init(struct aidc_json *j, struct aidc_buf *out, bool pretty);
void aidc_json_obj_begin(struct aidc_json *j);
void aidc_json_obj_end(struct aidc_json *j);
void aidc_json_arr_begin(struct aidc_json *j);
void aidc_json_arr_end(struct aidc_json *j);
void aidc_json_key(struct aidc_json *j, const char *key);
void aidc_json_str(struct aidc_json *j, const char *s);
void aidc_json_strn(struct aidc_json *j, const char *s, size_t n);
void aidc_json_i64(struct aidc_json *j, int64_t v);
void aidc_json_u64(struct aidc_json *j, uint64_t v);
/* Non-finite values are written as null (JSON has no NaN). */
void aidc_json_f64(struct aidc_json *j, double v, int decimals);
void aidc_json_bool(struct aidc_json *j, bool v);
void aidc_json_null(struct aidc_json *j);
/* A value that is already JSON (the caller's own, trusted output: e.g. a
 * document the controller wrote itself); text is borrowed and copied as is. */
void aidc_json_raw(struct aidc_json *j, const char *text);
/* Key-value shorthands. */
void aidc_json_kstr(struct aidc_json *j, const char *k, const char *v);
void aidc_json_ki64(struct aidc_json *j, const char *k, int64_t v);
void aidc_json_kf64(struct aidc_json *j, const char *k, double v, int decimals);
void aidc_json_kbool(struct aidc_json *j, const char *k, bool v);
/* 0, or the first error; also fails if containers are left open. */
int aidc_json_finish(struct aidc_json *j);

#endif
