/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The names of the scheduling core's policy enums: queue order, placement and
 * blocking. These tables are the only place the names are written; the
 * controller's config, the simulator, its reports, `aidc sim` and
 * `aidc sim openb` look names up here by name (each row carries its enum value,
 * so reordering an enum cannot change what a name means). Adding a value is one
 * row; the static asserts below and tests/sched/test_sched_names.c catch a
 * missing one.
 */
#include <string.h>

#include "sched/sched.h"
#include "util/util.h"

/* value, name, alias (another accepted spelling) or NULL, label for human tables */
const struct sched_name sched_order_names[] = {
	{SCHED_ORDER_FIFO, "fifo", NULL, "FIFO"},
	{SCHED_ORDER_SJF, "sjf", NULL, "SJF"},
	{SCHED_ORDER_SRTF, "srtf", NULL, "SRTF"},
	{SCHED_ORDER_QSSF, "qssf", NULL, "QSSF"},
	{SCHED_ORDER_TIRESIAS, "tiresias", NULL, "Tiresias"},
	{SCHED_ORDER_PRIORITY, "priority", NULL, "Priority"},
	{SCHED_ORDER_GITTINS, "gittins", NULL, "Gittins"},
	{SCHED_ORDER_MULTIFACTOR, "multifactor", NULL, "Multifactor"},
	{0, NULL, NULL, NULL},
};
_Static_assert(AIDC_ARRAY_LEN(sched_order_names) == SCHED_ORDER_COUNT_ + 1,
	       "one row per enum sched_order value");

/* The aliases are the spellings of the FGD paper's artifact (aidc sim openb). */
const struct sched_name sched_placement_names[] = {
	{SCHED_PLACE_CONSOLIDATE, "consolidate", NULL, "consolidate"},
	{SCHED_PLACE_TOPOLOGY, "topology", NULL, "topology"},
	{SCHED_PLACE_SPREAD, "spread", NULL, "spread"},
	{SCHED_PLACE_HELIOS, "helios", NULL, "helios"},
	{SCHED_PLACE_RANDOM, "random", NULL, "random"},
	{SCHED_PLACE_DOTPROD, "dotprod", NULL, "dotprod"},
	{SCHED_PLACE_GPU_CLUSTERING, "gpu-clustering", "gpuclustering", "gpu-clustering"},
	{SCHED_PLACE_GPU_PACKING, "gpu-packing", "gpupacking", "gpu-packing"},
	{SCHED_PLACE_BESTFIT, "bestfit", NULL, "bestfit"},
	{SCHED_PLACE_FGD, "fgd", NULL, "fgd"},
	{SCHED_PLACE_AIDC_FRAG, "aidc-frag", "aidc", "aidc-frag"},
	{0, NULL, NULL, NULL},
};
_Static_assert(AIDC_ARRAY_LEN(sched_placement_names) == SCHED_PLACE_COUNT_ + 1,
	       "one row per enum sched_placement value");

const struct sched_name sched_blocking_names[] = {
	{SCHED_BLOCK_STRICT, "strict", NULL, "strict"},
	{SCHED_BLOCK_EASY, "easy", NULL, "easy"},
	{SCHED_BLOCK_SKIP, "skip", NULL, "skip"},
	{0, NULL, NULL, NULL},
};
_Static_assert(AIDC_ARRAY_LEN(sched_blocking_names) == SCHED_BLOCK_COUNT_ + 1,
	       "one row per enum sched_blocking value");

const struct sched_name *sched_name_find(const struct sched_name *t, const char *name)
{
	if (!name)
		return NULL;
	for (; t->name; t++)
		if (strcmp(t->name, name) == 0 || (t->alias && strcmp(t->alias, name) == 0))
			return t;
	return NULL;
}

const struct sched_name *sched_name_of(const struct sched_name *t, int value)
{
	for (; t->name; t++)
		if (t->value == value)
			return t;
	return NULL;
}

int sched_placement_parse(const char *name, enum sched_placement *out)
{
	const struct sched_name *r = sched_name_find(sched_placement_names, name);
	if (!r)
		return AIDC_E_INVAL;
	*out = (enum sched_placement)r->value;
	return 0;
}

static const char *name_or_unknown(const struct sched_name *t, int value, bool label)
{
	const struct sched_name *r = sched_name_of(t, value);
	return !r ? "?" : label ? r->label : r->name;
}

const char *sched_order_name(enum sched_order o)
{
	return name_or_unknown(sched_order_names, (int)o, false);
}

const char *sched_order_label(enum sched_order o)
{
	return name_or_unknown(sched_order_names, (int)o, true);
}

const char *sched_placement_name(enum sched_placement p)
{
	return name_or_unknown(sched_placement_names, (int)p, false);
}

const char *sched_blocking_name(enum sched_blocking b)
{
	return name_or_unknown(sched_blocking_names, (int)b, false);
}
