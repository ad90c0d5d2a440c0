/* SPDX-License-Identifier: Apache-2.0 */
/* Binary min-heap with explicit tie-break (see heap.h). */
#include "util/alloc.h"
#include "util/heap.h"

static bool less(const struct aidc_heap_item *a, const struct aidc_heap_item *b)
{
	if (a->key != b->key)
		return a->key < b->key;
	return a->tie < b->tie;
}

void aidc_heap_init(struct aidc_heap *h)
{
	h->v = NULL;
	h->n = h->cap = 0;
}

void aidc_heap_release(struct aidc_heap *h)
{
	aidc_free(h->v);
	aidc_heap_init(h);
}

void aidc_heap_push(struct aidc_heap *h, int64_t key, uint64_t tie, uint64_t value)
{
	AIDC_GROW(h->v, h->cap, h->n + 1);
	size_t i = h->n++;
	struct aidc_heap_item it = {key, tie, value};
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!less(&it, &h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = it;
}

bool aidc_heap_pop(struct aidc_heap *h, struct aidc_heap_item *out)
{
	if (h->n == 0)
		return false;
	*out = h->v[0];
	struct aidc_heap_item last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1;
		if (l >= h->n)
			break;
		size_t c = (l + 1 < h->n && less(&h->v[l + 1], &h->v[l])) ? l + 1 : l;
		if (!less(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
	return true;
}

const struct aidc_heap_item *aidc_heap_peek(const struct aidc_heap *h)
{
	return h->n ? &h->v[0] : NULL;
}
