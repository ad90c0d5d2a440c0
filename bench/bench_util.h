/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the trace benchmarks (eta, tenancy, sched_quality, sim_speed) would
 * each write again: the traces directory, where the Philly trace and its VC
 * table lie in it, and the SKIP line when they are absent (the benchmarks then
 * exit 0: the traces are not part of the repository).
 */
#ifndef AIDC_BENCH_UTIL_H
#define AIDC_BENCH_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* The traces directory: dir (from the command line) when given, else
 * $AIDC_TRACES_DIR, else ../shared/traces. */
static inline const char *bench_traces_dir(const char *dir)
{
	if (!dir)
		dir = getenv("AIDC_TRACES_DIR");
	return dir ? dir : "../shared/traces";
}

/*
 * Fills tpath with dir's Philly trace and vpath with its VC table (n bytes
 * each). Returns 0 when both exist; else prints "<who>: SKIP (...)" and
 * returns -1.
 */
static inline int bench_philly_paths(const char *dir, const char *who, char *tpath, char *vpath,
				     size_t n)
{
	struct stat sb;

	snprintf(tpath, n, "%s/philly-pollux/philly.csv", dir);
	snprintf(vpath, n, "%s/philly-meta/philly_vc.csv", dir);
	if (stat(tpath, &sb) != 0 || stat(vpath, &sb) != 0) {
		printf("%s: SKIP (%s or %s not found)\n", who, tpath, vpath);
		return -1;
	}
	return 0;
}

#endif
