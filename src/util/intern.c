/* SPDX-License-Identifier: Apache-2.0 */
/* String interning table (see intern.h). */
#include "util/intern.h"

#include "util/util.h"

void aidc_intern_init(struct aidc_intern *t)
{
	memset(t, 0, sizeof *t);
}

void aidc_intern_release(struct aidc_intern *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		aidc_free(t->v[i]);
	aidc_free(t->v);
	aidc_free(t->slots);
	memset(t, 0, sizeof *t);
}

uint64_t aidc_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 offset basis */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL; /* FNV prime */
	return h;
}

/* Rebuilds the slot table at twice the size; the load factor stays <= 1/2. */
static void rehash(struct aidc_intern *t)
{
	size_t ns = t->nslots ? t->nslots * 2 : 64;
	uint32_t *slots = aidc_calloc(ns, sizeof *slots);
	for (uint32_t i = 0; i < t->n; i++) {
		size_t k = aidc_hash_str(t->v[i]) & (ns - 1);
		while (slots[k])
			k = (k + 1) & (ns - 1);
		slots[k] = i + 1;
	}
	aidc_free(t->slots);
	t->slots = slots;
	t->nslots = ns;
}

/* The slot holding s, or the empty slot where it would go. t->nslots > 0. */
static size_t probe(const struct aidc_intern *t, const char *s)
{
	size_t k = aidc_hash_str(s) & (t->nslots - 1);
	while (t->slots[k] && strcmp(t->v[t->slots[k] - 1], s) != 0)
		k = (k + 1) & (t->nslots - 1);
	return k;
}

int aidc_intern_find(const struct aidc_intern *t, const char *s, uint32_t *id)
{
	if (!t->nslots)
		return AIDC_E_NOTFOUND;
	size_t k = probe(t, s);
	if (!t->slots[k])
		return AIDC_E_NOTFOUND;
	*id = t->slots[k] - 1;
	return 0;
}

int aidc_intern(struct aidc_intern *t, const char *s, uint32_t max_strings, uint32_t *id)
{
	if (!t->nslots)
		rehash(t);
	size_t k = probe(t, s);
	if (t->slots[k]) {
		*id = t->slots[k] - 1;
		return 0;
	}
	if (t->n >= max_strings || t->n >= UINT32_MAX - 1)
		return AIDC_E_LIMIT;
	AIDC_GROW(t->v, t->cap, (size_t)t->n + 1);
	t->v[t->n] = aidc_strdup(s);
	t->slots[k] = t->n + 1;
	*id = t->n++;
	if ((size_t)t->n * 2 > t->nslots)
		rehash(t);
	return 0;
}

const char *aidc_intern_get(const struct aidc_intern *t, uint32_t id)
{
	return id < t->n ? t->v[id] : NULL;
}
