/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's driver of Debian's HAProxy (2.6), the router in front of
 * inference services (docs/services.md, "Routing (HAProxy)"). Private to
 * ctld.
 *
 * HAProxy 2.6 cannot create frontends or backends at run time, so the config
 * written at start declares a fixed number of SLOTS: slot i is a `listen`
 * section "slot<i>" bound to bind_addr:(port_base + i), empty at start. A
 * service takes a free slot; its ready replicas are added to it and removed
 * again, all through the runtime API on the stats socket (never by a reload,
 * which would cut connections).
 *
 * A replica is not a dynamic server (`add server`): 2.6 never reuses a
 * connection to one, so every request would open a new connection to the
 * replica (measured: ~3x fewer requests/s than with reuse against a small
 * threaded backend, 10x under the test's forking one). Instead each slot
 * declares servers_per_slot template servers p1..pN in maintenance; a
 * replica takes a free place (`set server slot<i>/p<j> addr A port P`, then
 * `state ready`), and leaves it after drain and maint, which also closes the
 * place's idle connections before the next replica gets it. The driver keeps
 * which replica name holds which place, in memory and in dir/servers.map
 * (read back when a controller adopts a running haproxy).
 *
 * Threads: every call does blocking I/O on a unix socket (each bounded by
 * CTLD_HAPROXY_IO_TIMEOUT_MS) or waits for a process, so call it from a
 * dedicated thread, never the controller's loop; one thread at a time per
 * struct ctld_haproxy (it holds no lock).
 *
 * Errors: AIDC_E_INVAL for bad arguments (nothing is sent to haproxy),
 * AIDC_E_NOTFOUND for an unknown server, AIDC_E_EXISTS for a name already in
 * the slot, AIDC_E_LIMIT when the slot has no free place, AIDC_E_BUSY while
 * a server still has connections,
 * AIDC_E_TIMEOUT / AIDC_E_IO when haproxy does not answer.
 */
#ifndef AIDC_CTLD_HAPROXY_H
#define AIDC_CTLD_HAPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Bound of one runtime-API exchange (connect, send, whole reply). */
#define CTLD_HAPROXY_IO_TIMEOUT_MS 2000
/* How long start waits for the stats socket to answer, and stop for the
 * process to exit after SIGTERM (then SIGKILL). */
#define CTLD_HAPROXY_START_TIMEOUT_MS 10000
#define CTLD_HAPROXY_STOP_TIMEOUT_MS  5000
/* Default of opts.timeout_server_ms: the longest a replica may take to
 * answer one request (inference can be slow). */
#define CTLD_HAPROXY_TIMEOUT_SERVER_MS 60000
/* Default of opts.servers_per_slot: replicas of one service at once, with
 * the surge of a rolling update. */
#define CTLD_HAPROXY_SERVERS_PER_SLOT 16
/* Longest server name, bytes, without the NUL. */
#define CTLD_HAPROXY_NAME_MAX 63

struct ctld_haproxy; /* opaque */

struct ctld_haproxy_opts {
	const char *bin;       /* haproxy binary, e.g. "/usr/sbin/haproxy" */
	const char *dir;       /* private directory, created 0700 if missing: haproxy.cfg,
				  admin.sock (the stats socket), haproxy.log */
	const char *bind_addr; /* numeric IPv4 or IPv6 address the slots listen on */
	int port_base;	       /* slot i listens on port_base + i (1..65535, all of them) */
	int slots;	       /* 1..AIDC_MAX_HAPROXY_SLOTS */
	int servers_per_slot;  /* 0: CTLD_HAPROXY_SERVERS_PER_SLOT; else
				  1..AIDC_MAX_HAPROXY_SLOT_SERVERS; slots x this at most
				  AIDC_MAX_HAPROXY_SERVERS */
	int timeout_server_ms; /* 0: CTLD_HAPROXY_TIMEOUT_SERVER_MS; else 100..3600000 */
};

/*
 * 0 when bin (borrowed) is an executable file; else AIDC_E_NOTFOUND with
 * the reason in e (missing, not executable), naming the path and the Debian
 * package, so a controller without haproxy can say why services do not route.
 */
int ctld_haproxy_bin_check(const char *bin, struct aidc_err *e);

/*
 * Writes dir/haproxy.cfg (and dir/servers.map) and starts `bin -db -f dir/haproxy.cfg` as a child
 * in its own session (stdout and stderr to dir/haproxy.log), then waits,
 * bounded by CTLD_HAPROXY_START_TIMEOUT_MS, until its stats socket answers.
 * A haproxy that an earlier controller started in the same dir (found by its
 * stats socket) is adopted when its config is the one this call would write
 * (so routing survives a controller restart; ctld_haproxy_servers tells what
 * it holds), else stopped and replaced. Fails with a message naming the cause:
 * the binary is missing (AIDC_E_NOTFOUND), a slot's port is in use
 * (AIDC_E_BUSY, naming the address and port), bad options (AIDC_E_INVAL), or
 * haproxy exited (its first alert from the log) or did not answer in time.
 * o and its strings are borrowed (copied). On success *out is the caller's,
 * freed by ctld_haproxy_stop.
 */
int ctld_haproxy_start(const struct ctld_haproxy_opts *o, struct ctld_haproxy **out,
		       struct aidc_err *e);

/*
 * Stops haproxy: SIGTERM to its pid, a bounded wait (CTLD_HAPROXY_STOP_TIMEOUT_MS),
 * then SIGKILL; reaps it when it is this process's child. Frees h. NULL is a no-op.
 * (A controller that exits without calling it leaves haproxy running, and
 * routing with it; the next start in the same dir adopts it.)
 */
void ctld_haproxy_stop(struct ctld_haproxy *h);

/*
 * Frees h and leaves haproxy routing (router_keep_on_stop): the next start in
 * the same dir adopts it; dir/haproxy.pid (written by start) names it for
 * whoever stops the center (`aidc down`). NULL is a no-op.
 */
void ctld_haproxy_detach(struct ctld_haproxy *h);

/* Whether haproxy still runs (waitpid WNOHANG for a child, kill(pid, 0) for an
 * adopted one). h is borrowed; not const: it remembers a reaped child. */
bool ctld_haproxy_alive(struct ctld_haproxy *h);
/* Its pid (for logs and tests); 0 once it is known to have exited. */
int ctld_haproxy_pid(const struct ctld_haproxy *h);
/* Whether start adopted a running haproxy (its slots may hold servers:
 * reconcile them with ctld_haproxy_servers) rather than start an empty one. */
bool ctld_haproxy_adopted(const struct ctld_haproxy *h);

/*
 * Adds server name (borrowed; 1..CTLD_HAPROXY_NAME_MAX of [A-Za-z0-9_-]) at
 * addr:port to the slot's backend in a free place, ready, so it takes
 * requests at once (a ready replica). addr (borrowed) is a numeric IPv4/IPv6
 * address or a host name, resolved here (blocking; its IPv4 address if it
 * has one). AIDC_E_EXISTS when the slot already has the name, AIDC_E_LIMIT
 * when all its servers_per_slot places are taken; if making it ready fails
 * the place is freed again.
 */
int ctld_haproxy_server_add(struct ctld_haproxy *h, int slot, const char *name, const char *addr,
			    int port, struct aidc_err *e);

/*
 * Drains server name (borrowed): no new requests go to it, requests in flight
 * finish. AIDC_E_NOTFOUND when the slot has no such server.
 */
int ctld_haproxy_server_drain(struct ctld_haproxy *h, int slot, const char *name,
			      struct aidc_err *e);

/*
 * Removes server name (borrowed): its place goes to maintenance (closing its
 * idle connections) and is free again. It is drained first if it was not;
 * while it still has connections or queued requests the call returns
 * AIDC_E_BUSY and the caller retries later (nothing in flight is cut). A server that is
 * not there gives AIDC_E_NOTFOUND (callers retrying a removal treat that as
 * done).
 */
int ctld_haproxy_server_del(struct ctld_haproxy *h, int slot, const char *name, struct aidc_err *e);

/*
 * Cuts the requests in flight to server name (borrowed): for a replica known
 * to be dead, whose requests would otherwise hold ctld_haproxy_server_del
 * at AIDC_E_BUSY until timeout_server_ms. Drain it first, or new requests
 * keep arriving. AIDC_E_NOTFOUND when the slot has no such server.
 */
int ctld_haproxy_server_shutdown(struct ctld_haproxy *h, int slot, const char *name,
				 struct aidc_err *e);

struct ctld_haproxy_stats {
	uint64_t requests;	 /* HTTP requests the slot's frontend received (req_tot) */
	uint64_t responses_5xx;	 /* 5xx responses it sent (hrsp_5xx; 503s without servers too) */
	uint64_t cur_sessions;	 /* client connections open now (frontend scur) */
	uint64_t req_rate;	 /* HTTP requests over the last second (frontend req_rate) */
	uint64_t queued;	 /* requests waiting for a server now (backend qcur) */
	int64_t avg_response_ms; /* backend rtime: mean time to the response headers over
				    the last 1024 requests; -1 when none */
	int64_t avg_total_ms;	 /* backend ttime: mean total time of those; -1 when none */
	uint32_t servers;	 /* servers in the backend */
	uint32_t servers_up;	 /* of them, taking new requests (not draining, not in maint) */
};

/* The slot's counters (one `show stat` exchange). out is the caller's. */
int ctld_haproxy_slot_stats(struct ctld_haproxy *h, int slot, struct ctld_haproxy_stats *out,
			    struct aidc_err *e);

/*
 * Names of the servers now in the slot's backend, ready or draining, in
 * place order (for reconciling after a controller restart; no socket I/O). On success *names is an
 * array of *n strings; the caller frees it with ctld_haproxy_names_free(*names, *n).
 */
int ctld_haproxy_servers(struct ctld_haproxy *h, int slot, char ***names, size_t *n,
			 struct aidc_err *e);
void ctld_haproxy_names_free(char **names, size_t n);

/*
 * The parser under slot_stats, exposed for its unit test: csv (borrowed) is
 * the reply of `show stat` (header "# pxname,svname,..."); the rows of proxy
 * (borrowed) fill *out. AIDC_E_PARSE for a reply without the needed columns,
 * AIDC_E_NOTFOUND when proxy has no FRONTEND row.
 */
int ctld_haproxy_parse_stat(const char *csv, const char *proxy, struct ctld_haproxy_stats *out,
			    struct aidc_err *e);

#endif
