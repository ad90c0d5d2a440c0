/* SPDX-License-Identifier: Apache-2.0 */
/*
 * This host's address on its route to another host: what a peer there can
 * reach it at (the agent's own address, srun --pty's listener).
 */
#ifndef AIDC_UTIL_ROUTE_H
#define AIDC_UTIL_ROUTE_H

#include <stddef.h>

/* The numeric source address of this host's route to host (a name or an
 * address; port: any, for the lookup) into out (n bytes; 64 hold any). No
 * packet is sent (a UDP socket's connect). 0; or -1 with why (a phrase,
 * e.g. "cannot resolve ...: ...", "no route ...: ...") in why. */
int aidc_route_addr(const char *host, unsigned port, char *out, size_t n, char *why, size_t whyn);

#endif
