/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation wrappers. They check multiplication overflow and abort the process
 * on out-of-memory (a scheduler that half-applies a decision is worse than one
 * that stops). Sizes derived from input must be bounded by util/limits.h first.
 * aidc_free(NULL) is a no-op, as with free().
 */
#ifndef AIDC_UTIL_ALLOC_H
#define AIDC_UTIL_ALLOC_H

#include <stddef.h>

/* Caller frees with aidc_free. Never returns NULL. */
void *aidc_malloc(size_t size);
void *aidc_calloc(size_t n, size_t size);
/* Reallocates p to n * size bytes; overflow of n * size aborts. */
void *aidc_reallocarray(void *p, size_t n, size_t size);
/* Copy of s (NUL-terminated); caller frees. */
char *aidc_strdup(const char *s);
/* Copy of s up to its NUL or its first n bytes, whichever comes first, plus a NUL
 * (POSIX strndup: no byte of s past its NUL is read); caller frees. */
char *aidc_strndup(const char *s, size_t n);
void aidc_free(void *p);

/*
 * Grows *v (an array of elem_size elements with capacity *cap) so that it holds
 * at least need elements; doubles to keep appends amortized O(1).
 */
void aidc_grow(void **v, size_t *cap, size_t need, size_t elem_size);
#define AIDC_GROW(v, cap, need) aidc_grow((void **)&(v), &(cap), (need), sizeof *(v))

#endif
