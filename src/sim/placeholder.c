/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder */
#include "util/util.h"
int sim_placeholder(void);
int sim_placeholder(void) { return 0; }
