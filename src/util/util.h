/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The util module's public header: include this one header in .c files of
 * every module. It pulls in the common C library headers first and
 * util/banned.h last, so a .c file that includes util/util.h after its own
 * system headers gets the banned-function checks.
 */
#ifndef AIDC_UTIL_UTIL_H
#define AIDC_UTIL_UTIL_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/csv.h"
#include "util/err.h"
#include "util/heap.h"
#include "util/intern.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/outfile.h"
#include "util/parse.h"
#include "util/rng.h"

#define AIDC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define AIDC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define AIDC_MAX(a, b) ((a) > (b) ? (a) : (b))

#include "util/banned.h"

#endif
