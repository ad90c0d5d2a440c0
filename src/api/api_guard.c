/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection guard of the HTTP server (api_http.c): no one peer can take the
 * API away from the others (docs/security.md, issue 9 item 2).
 *
 * - Each connection is charged to its peer: the uid on the Unix socket
 *   (SO_PEERCRED) and on loopback TCP (the kernel's sock_diag names the
 *   owner of the client's socket), the address on other TCP connections. A
 *   peer over max_conns_per_peer gets its new connection shut down at once
 *   (before a thread waits on it). Root and the server's own uid are not
 *   capped: they run the agents of `aidc up` and are trusted anyway.
 * - A reaper thread shuts down connections that are slow to send their
 *   request: headers (or the next request on a kept-alive connection) not
 *   complete header_timeout_s after the connection or the previous reply,
 *   a body not complete body_timeout_s after its headers. A request being
 *   handled (a long-poll) is never timed out here.
 *
 * shutdown(2) on a socket libmicrohttpd owns makes its thread see the end of
 * the stream and close the connection through its normal path; the fd stays
 * valid until the CLOSED notification has removed the entry from this guard
 * (under the mutex), so the reaper never touches a reused fd.
 *
 * Cost: open/close O(peers) under one mutex (peers are few: a small array);
 * the reaper scans the live connections once per 500 ms.
 */
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api_int.h"
#include "util/clock.h"
#include "util/util.h"

struct peer {
	char key[64]; /* "uid:1000" or "addr:10.0.0.3" */
	uint32_t n;   /* open connections */
};

struct api_guard_conn {
	struct api_guard_conn *prev, *next;
	int fd;
	size_t peer; /* index into g->peers, or SIZE_MAX when not charged */
	enum api_guard_phase phase;
	int64_t since_ms;
	bool reaped;
};

struct api_guard {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t reaper;
	bool running, stop;
	struct api_guard_conn *head;
	struct peer *peers;
	size_t npeers, cap_peers;
	unsigned per_peer, header_ms, body_ms;
	uint64_t refused, reaped;
	struct aidc_log_limiter log;
};

/* The uid owning the client end of a loopback TCP connection (sock_diag by
 * the exact 4-tuple), or -1 when the kernel does not say. */
static int64_t loopback_uid(int fd)
{
	struct sockaddr_storage me, peer;
	socklen_t ml = sizeof me, pl = sizeof peer;
	if (getsockname(fd, (struct sockaddr *)&me, &ml) != 0 ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 || me.ss_family != peer.ss_family)
		return -1;
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	memset(&req, 0, sizeof req);
	req.nlh.nlmsg_len = sizeof req;
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.r.sdiag_family = (uint8_t)me.ss_family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0u;
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (me.ss_family == AF_INET) {
		const struct sockaddr_in *a = (void *)&me, *b = (void *)&peer;
		if ((ntohl(b->sin_addr.s_addr) >> 24) != 127)
			return -1;
		req.r.id.idiag_sport = b->sin_port; /* the client's socket: its source is our peer */
		req.r.id.idiag_dport = a->sin_port;
		memcpy(req.r.id.idiag_src, &b->sin_addr, 4);
		memcpy(req.r.id.idiag_dst, &a->sin_addr, 4);
	} else if (me.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (void *)&me, *b = (void *)&peer;
		if (!IN6_IS_ADDR_LOOPBACK(&b->sin6_addr))
			return -1;
		req.r.id.idiag_sport = b->sin6_port;
		req.r.id.idiag_dport = a->sin6_port;
		memcpy(req.r.id.idiag_src, &b->sin6_addr, 16);
		memcpy(req.r.id.idiag_dst, &a->sin6_addr, 16);
	} else {
		return -1;
	}
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -1;
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	int64_t uid = -1;
	union {
		struct nlmsghdr h;
		char buf[8192];
	} u;
	if (send(nl, &req, sizeof req, 0) == (ssize_t)sizeof req) {
		ssize_t n = recv(nl, u.buf, sizeof u.buf, 0);
		for (struct nlmsghdr *h = &u.h; n > 0 && NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				break;
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			uid = m->idiag_uid;
			break;
		}
	}
	close(nl);
	return uid;
}

/* The peer's key; false when the peer is not capped (root, our own uid). */
static bool peer_key(int fd, bool is_unix, char *key, size_t n)
{
	int64_t uid = -1;
	if (is_unix) {
		struct ucred cr;
		socklen_t len = sizeof cr;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0)
			uid = cr.uid;
	} else {
		uid = loopback_uid(fd);
	}
	if (uid >= 0) {
		if (uid == 0 || uid == (int64_t)geteuid())
			return false;
		snprintf(key, n, "uid:%" PRId64, uid);
		return true;
	}
	struct sockaddr_storage peer;
	socklen_t pl = sizeof peer;
	char a[INET6_ADDRSTRLEN] = "?";
	if (getpeername(fd, (struct sockaddr *)&peer, &pl) == 0) {
		if (peer.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, a, sizeof a);
		else if (peer.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, a, sizeof a);
	}
	snprintf(key, n, "addr:%s", a);
	return true;
}

static void *reaper_main(void *arg)
{
	struct api_guard *g = arg;
	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		/* Monotonic: a wall-clock step back never stops the reaper. */
		aidc_cond_wait_until_ms(&g->cv, &g->mu, aidc_mono_ms() + 500);
		int64_t now = aidc_mono_ms();
		unsigned nreaped = 0;
		for (struct api_guard_conn *c = g->head; c; c = c->next) {
			unsigned limit = c->phase == API_GUARD_HEADERS ? g->header_ms
					 : c->phase == API_GUARD_BODY  ? g->body_ms
								       : 0;
			if (limit && !c->reaped && now - c->since_ms > (int64_t)limit) {
				shutdown(c->fd, SHUT_RDWR);
				c->reaped = true;
				nreaped++;
			}
		}
		g->reaped += nreaped;
		if (nreaped)
			aidc_log_limited(&g->log, AIDC_LOG_WARN,
					 "api: closed %u connection(s) slow to send a request "
					 "(http_header_timeout_s, http_body_timeout_s); %" PRIu64
					 " so far",
					 nreaped, g->reaped);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct api_guard *api_guard_new(unsigned per_peer, unsigned header_timeout_s,
				unsigned body_timeout_s)
{
	struct api_guard *g = aidc_calloc(1, sizeof *g);
	pthread_mutex_init(&g->mu, NULL);
	aidc_cond_init_mono(&g->cv);
	g->per_peer = per_peer;
	g->header_ms = header_timeout_s * 1000u;
	g->body_ms = body_timeout_s * 1000u;
	g->log.interval_ms = 30000;
	g->running = pthread_create(&g->reaper, NULL, reaper_main, g) == 0;
	return g;
}

void api_guard_free(struct api_guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	if (g->running)
		pthread_join(g->reaper, NULL);
	while (g->head) {
		struct api_guard_conn *c = g->head;
		g->head = c->next;
		aidc_free(c);
	}
	aidc_free(g->peers);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	aidc_free(g);
}

struct api_guard_conn *api_guard_open(struct api_guard *g, int fd, bool is_unix)
{
	char key[64];
	bool capped = peer_key(fd, is_unix, key, sizeof key);
	pthread_mutex_lock(&g->mu);
	size_t p = SIZE_MAX;
	if (capped) {
		for (size_t i = 0; i < g->npeers && p == SIZE_MAX; i++)
			if (strcmp(g->peers[i].key, key) == 0)
				p = i;
		if (p == SIZE_MAX) {
			for (size_t i = 0; i < g->npeers && p == SIZE_MAX; i++)
				if (g->peers[i].n == 0) /* reuse a free slot */
					p = i;
			if (p == SIZE_MAX) {
				AIDC_GROW(g->peers, g->cap_peers, g->npeers + 1);
				p = g->npeers++;
			}
			snprintf(g->peers[p].key, sizeof g->peers[p].key, "%s", key);
			g->peers[p].n = 0;
		}
		if (g->peers[p].n >= g->per_peer) {
			g->refused++;
			aidc_log_limited(&g->log, AIDC_LOG_WARN,
					 "api: %s has %u connections open (max_conns_per_peer); "
					 "refusing more (%" PRIu64 " refused so far)",
					 key, g->per_peer, g->refused);
			pthread_mutex_unlock(&g->mu);
			return NULL;
		}
		g->peers[p].n++;
	}
	struct api_guard_conn *c = aidc_calloc(1, sizeof *c);
	c->fd = fd;
	c->peer = p;
	c->phase = API_GUARD_HEADERS;
	c->since_ms = aidc_mono_ms();
	c->next = g->head;
	if (g->head)
		g->head->prev = c;
	g->head = c;
	pthread_mutex_unlock(&g->mu);
	return c;
}

void api_guard_phase(struct api_guard *g, struct api_guard_conn *c, enum api_guard_phase ph)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	c->phase = ph;
	c->since_ms = aidc_mono_ms();
	pthread_mutex_unlock(&g->mu);
}

void api_guard_close(struct api_guard *g, struct api_guard_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->peer != SIZE_MAX && g->peers[c->peer].n > 0)
		g->peers[c->peer].n--;
	pthread_mutex_unlock(&g->mu);
	aidc_free(c);
}
