/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared pieces of the live-center commands (cli_client.c): finding the
 * controller's socket, one HTTP call with errors turned into one clear line,
 * and reading JSON replies.
 */
#ifndef AIDC_CLI_CLI_LIVE_H
#define AIDC_CLI_CLI_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"

/* The socket to use: flag value, else $AIDC_SOCKET, else ~/.aidc/aidc.sock when it
 * exists, else /var/lib/aidc/aidc.sock. Writes into out. */
void cli_socket_path(const char *flag, char *out, size_t n);
/* The directory `aidc up` uses: flag, else $AIDC_DIR, else ~/.aidc (or /tmp/aidc-UID). */
void cli_up_dir(const char *flag, char *out, size_t n);

/*
 * One call to the controller over its Unix socket. On success returns 0 with
 * the reply in call->reply (caller releases). Otherwise prints
 * "aidc CMD: <message>" on stderr and returns CLI_EXIT_FAIL.
 */
int cli_call(const char *cmd, const char *socket, const char *method, const char *path,
	     const char *body, size_t body_len, struct api_call *call);

/* The default directory of the aidc binary's siblings: /proc/self/exe. */
int cli_self_exe(char *out, size_t n);

#endif
