/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Binary min-heap of (key, tie, value) items, ordered by key then tie: the
 * explicit tie-break makes every pop order a total order (determinism).
 * push and pop are O(log n); peek is O(1).
 */
#ifndef AIDC_UTIL_HEAP_H
#define AIDC_UTIL_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aidc_heap_item {
	int64_t key;
	uint64_t tie;
	uint64_t value;
};

struct aidc_heap {
	struct aidc_heap_item *v; /* owned */
	size_t n, cap;
};

void aidc_heap_init(struct aidc_heap *h);
void aidc_heap_release(struct aidc_heap *h);
void aidc_heap_push(struct aidc_heap *h, int64_t key, uint64_t tie, uint64_t value);
/* Removes the smallest item into *out; false when empty. */
bool aidc_heap_pop(struct aidc_heap *h, struct aidc_heap_item *out);
/* The smallest item, or NULL when empty. Borrowed until the next change. */
const struct aidc_heap_item *aidc_heap_peek(const struct aidc_heap *h);

#endif
