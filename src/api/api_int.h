/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interfaces between the files of src/api (not for other modules).
 */
#ifndef AIDC_API_API_INT_H
#define AIDC_API_API_INT_H
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"

/* ---- connection guard (api_guard.c) ------------------------------------------ */

/* What a connection is doing, for the reaper's timeouts. */
enum api_guard_phase {
	API_GUARD_HEADERS, /* waiting for a request's headers (new or kept-alive) */
	API_GUARD_BODY,    /* headers read, reading the body */
	API_GUARD_BUSY,    /* the request is being handled (long-polls): no timeout */
};

struct api_guard;
struct api_guard_conn;

/* A guard with its reaper thread; caller frees with api_guard_free (NULL is a
 * no-op). per_peer: connections one peer may hold (root and the server's own
 * uid are not capped); the timeouts in seconds. */
struct api_guard *api_guard_new(unsigned per_peer, unsigned header_timeout_s,
				unsigned body_timeout_s);
void api_guard_free(struct api_guard *g);
/* Charges connection fd (borrowed; it must stay open until api_guard_close)
 * to its peer. NULL when the peer is over its cap: the caller shuts it down. */
struct api_guard_conn *api_guard_open(struct api_guard *g, int fd, bool is_unix);
/* Moves c to phase ph, restarting its clock; c may be NULL. */
void api_guard_phase(struct api_guard *g, struct api_guard_conn *c, enum api_guard_phase ph);
/* Forgets c (frees it) before its fd is closed; c may be NULL. */
void api_guard_close(struct api_guard *g, struct api_guard_conn *c);

/* ---- HTTP over the controller's Unix socket, without libcurl (api_client_unix.c) -- */

/* One request of call (method, path, body, timeout, cancel) to the socket at
 * path with the header lines hdrs[0..nhdrs) ("Name: value"); fills status,
 * reply and the X-AIDC headers, or fails with call->fail set. */
int api_unix_call(const char *path, const char *const *hdrs, size_t nhdrs, struct api_call *call,
		  struct aidc_err *e);

#endif
