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

/* Where the controller is: flag value (a socket path or an http(s):// URL),
 * else $AIDC_CONTROLLER (a URL), else $AIDC_SOCKET, else ~/.aidc/aidc.sock
 * when it exists, else /var/lib/aidc/aidc.sock. Writes into out. */
void cli_socket_path(const char *flag, char *out, size_t n);

/* The connection flags of the user commands; both set the same variable:
 * --socket PATH (local, SO_PEERCRED) or --controller URL (remote, token). */
#define CLI_CONN_FLAGS(var)                                                                   \
	{"socket", CLI_STR, &(var), "PATH", "controller socket", 0, 0, NULL, NULL},             \
	{"controller", CLI_STR, &(var), "URL",                                                  \
	 "remote controller https://HOST:PORT (token: $AIDC_TOKEN or ~/.aidc/token; CA: "       \
	 "$AIDC_CACERT)",                                                                       \
	 0, 0, NULL, NULL}

/* --json (print the controller's reply as it came) and CLI_CONN_FLAGS: the
 * flags of most user commands. */
#define CLI_LIVE_FLAGS(json, sock)                                                            \
	{"json", CLI_BOOL, &(json), NULL, "print the controller's JSON", 0, 0, NULL, NULL},     \
	    CLI_CONN_FLAGS(sock)

/* True when where (from cli_socket_path) is a URL rather than a socket path. */
bool cli_is_url(const char *where);
/* The token of a remote user (unless $AIDC_AUTH=munge: then each call
 * carries a fresh MUNGE credential from munged, $AIDC_MUNGE_SOCKET or its
 * default socket): $AIDC_TOKEN, else the file $AIDC_TOKEN_FILE or
 * ~/.aidc/token, which must be a regular file of the caller with mode 0600
 * or stricter. Returns 0, or CLI_EXIT_FAIL after one line on stderr. */
int cli_token(const char *cmd, char *out, size_t n);
/* The directory `aidc up` uses: flag, else $AIDC_DIR, else ~/.aidc (or /tmp/aidc-UID). */
void cli_up_dir(const char *flag, char *out, size_t n);

/*
 * One call to the controller over its Unix socket, or to a URL with the
 * caller's token (cli_token). On success returns 0 with
 * the reply in call->reply (caller releases). Otherwise prints
 * "aidc CMD: <message>" on stderr and returns CLI_EXIT_FAIL.
 */
int cli_call(const char *cmd, const char *socket, const char *method, const char *path,
	     const char *body, size_t body_len, struct api_call *call);
/* Flags of cli_call_retry. */
enum {
	/* Wait for a controller that refuses connections (or answers a GET with
	 * 503), as during its restart, for up to $AIDC_RETRY_S seconds (30). */
	CLI_CALL_WAIT = 1,
	/* The request may be sent again after a connection dropped mid-call: a
	 * GET, or a submission carrying a request_id (the controller answers a
	 * repeat with the job the first one made). */
	CLI_CALL_IDEMPOTENT = 2,
	/* A refusal (status >= 400) is not printed: CLI_EXIT_FAIL is returned
	 * with the reply kept (api_client_error reads it; the caller releases
	 * it), for commands that word refusals their own way (scancel). */
	CLI_CALL_QUIET = 4,
};
/* The same with flags. cli_call waits for remote controllers (URLs) and for
 * a local socket that exists but refuses (a controller killed and being
 * restarted), so a local command without a controller (no socket) fails at
 * once; GETs are idempotent. Failures end with a hint matching their cause
 * (TLS and the CA, a refused connection, a name that does not resolve). */
int cli_call_retry(const char *cmd, const char *socket, const char *method, const char *path,
		   const char *body, size_t body_len, struct api_call *call, int flags);
/* CLI_CALL_WAIT when cli_call would wait for socket (see above), else 0. */
int cli_call_wait_flag(const char *socket);

/* One GET of path from the controller at sock (a flag value, see
 * cli_socket_path) for a listing command: with json the reply is printed as
 * it came; otherwise it is parsed, every string made printable (tables print
 * them raw), and handed to show (borrowed). Returns 0, or CLI_EXIT_FAIL after
 * "aidc CMD: ..." on stderr (no answer, or a reply that is not JSON). */
struct json_t;
int cli_get_show(const char *cmd, const char *sock, const char *path, bool json,
		 void (*show)(struct json_t *r));

/* aidc's own credentials (AIDC_TOKEN=, AIDC_SECRET*, AIDC_MUNGE_CRED*), never
 * copied from the environment into a job spec (cli_submit.c). */
bool cli_env_credential(const char *kv);

/* The default directory of the aidc binary's siblings: /proc/self/exe. */
int cli_self_exe(char *out, size_t n);

#endif
