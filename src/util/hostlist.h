/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slurm hostlists: "gpu[01-03,7],login1" is gpu01 gpu02 gpu03 gpu07 login1.
 * What SLURM_JOB_NODELIST holds and what `scontrol show hostnames` and
 * `scontrol show hostlist` convert; pure string work, no I/O.
 */
#ifndef AIDC_UTIL_HOSTLIST_H
#define AIDC_UTIL_HOSTLIST_H

#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

/*
 * Expands list into *out, n names in order (duplicates kept, as Slurm's
 * hostnames). A bracket holds comma-separated numbers and LO-HI ranges; a
 * LO with leading zeros sets the width ("[08-10]" is 08 09 10); several
 * brackets in one name multiply ("r[1-2]n[1-2]"). At most max names, each
 * shorter than AIDC_MAX_NAME_BYTES. On error nothing is returned and e says
 * what is wrong (AIDC_E_PARSE, or AIDC_E_LIMIT past max). The caller frees
 * *out with aidc_hostlist_free.
 */
int aidc_hostlist_expand(const char *list, size_t max, char ***out, size_t *n,
			 struct aidc_err *e);
void aidc_hostlist_free(char **names, size_t n);

/*
 * The shortest form Slurm would print for names in this order: runs of
 * names that differ only in a trailing number of the same width become one
 * bracket ("n1 n2 n3 n5" -> "n[1-3,5]"). names are borrowed; the text is
 * appended to out. Returns 0 or the buffer's error.
 */
int aidc_hostlist_compress(char *const *names, size_t n, struct aidc_buf *out);

#endif
