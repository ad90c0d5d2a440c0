/* SPDX-License-Identifier: Apache-2.0 */
/*
 * String interning: each distinct string gets a dense id (0, 1, 2, ... in
 * order of first appearance, so ids are deterministic). Used by the
 * scheduler's predictor (user and job names) and by the simulator's traces.
 * Lookup is an open-addressing hash table (FNV-1a, linear probing, load factor
 * at most 1/2), used only to find ids, never iterated: hash order decides
 * nothing. Costs: intern and find O(length) expected; memory one copy of each
 * string plus two words per string. A zeroed struct is an empty table.
 */
#ifndef AIDC_UTIL_INTERN_H
#define AIDC_UTIL_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct aidc_intern {
	char **v;        /* v[0 .. n): the strings by id, owned */
	uint32_t n;
	size_t cap;
	uint32_t *slots; /* open-addressing table of id + 1 (0 = empty), owned */
	size_t nslots;
};

void aidc_intern_init(struct aidc_intern *t);
void aidc_intern_release(struct aidc_intern *t);
/* The id of s, copying s on first sight. Refuses a new string with
 * AIDC_E_LIMIT (nothing changed) when the table holds max_strings already;
 * returns 0 with *id set otherwise. s is borrowed. */
int aidc_intern(struct aidc_intern *t, const char *s, uint32_t max_strings, uint32_t *id);
/* The id of s if it is in the table: 0 with *id set, or AIDC_E_NOTFOUND. */
int aidc_intern_find(const struct aidc_intern *t, const char *s, uint32_t *id);
/* The string of id (borrowed until release), or NULL for id >= t->n. */
const char *aidc_intern_get(const struct aidc_intern *t, uint32_t id);
/* 64-bit FNV-1a of a NUL-terminated string. */
uint64_t aidc_hash_str(const char *s);

#endif
