/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder */
#include "util/util.h"
int sched_placeholder(void);
int sched_placeholder(void) { return 0; }
