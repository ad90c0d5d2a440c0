/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The services' worker thread (docs/services.md) and the loop's side of the
 * exchange with it. The loop publishes, after every tick, the list of
 * replicas: where each listens, whether to probe it and what the router
 * should do with it (route, drain, absent). The worker probes what runs,
 * adds, drains and deletes servers in HAProxy through its runtime API, reads
 * each slot's request counters once a second, and publishes its reports
 * sorted by job id for the next tick. Neither thread waits on the other
 * beyond copying these arrays under the shared mutex.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctld/haproxy.h"
#include "ctld/services.h"
#include "util/clock.h"
#include "util/util.h"

#define WORKER_IDLE_MS	200
#define STATS_EVERY_MS	1000
#define ROUTER_RETRY_MS 10000
#define PROBE_POLL_MS	50 /* the worker's wait while probes are in flight */

/* The worker's own record of one replica. */
struct wrep {
	struct svc_target t; /* the latest the loop asked */
	bool present;	     /* in the latest target list */
	int64_t next_probe_ms;
	uint64_t probes;
	bool ok;
	uint32_t fails;
	int lb;	  /* what the router has: enum svc_lb_want (ROUTED, DRAIN) or ABSENT */
	int slot; /* where it was added */
	/* The probe in flight: its socket (-1 = none), deadline and reply so far. */
	int pfd;
	bool psent;
	int64_t pdeadline_ms;
	char pbuf[64];
	size_t pgot;
};

struct worker {
	struct ctld *c;
	struct wrep *v; /* sorted by job */
	size_t n, cap;
	uint64_t seq;
	bool want_router;
	int64_t next_stats_ms;
	uint64_t *last_req; /* per slot: the counter at the last reading */
	int64_t *last_req_ms;
};

/* ---- probes ------------------------------------------------------------------------ */

/* Probes run side by side, each a non-blocking socket with its own deadline
 * (the probe's timeout): a replica that does not answer delays no other
 * replica's probe and no other user's service. */

/* Starts a non-blocking connection to addr:port; -1 when it cannot. */
static int probe_connect(const char *addr, uint16_t port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	char ps[8];
	snprintf(ps, sizeof ps, "%u", (unsigned)port);
	if (getaddrinfo(addr, ps, &hints, &ai) != 0 || !ai)
		return -1;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static void probe_close(struct wrep *x)
{
	if (x->pfd >= 0)
		close(x->pfd);
	x->pfd = -1;
}

static void probe_end(struct wrep *x, bool ok, int64_t now_ms)
{
	probe_close(x);
	x->probes++;
	x->ok = ok;
	x->fails = ok ? 0 : x->fails + 1;
	x->next_probe_ms = now_ms + x->t.period_ms;
}

/* Starts the probes that are due. */
static void probe_start(struct worker *w, int64_t now_ms)
{
	for (size_t i = 0; i < w->n; i++) {
		struct wrep *x = &w->v[i];
		if (x->pfd >= 0 || !x->present || !x->t.probe || !x->t.addr[0] ||
		    now_ms < x->next_probe_ms)
			continue;
		x->pgot = 0;
		x->psent = false;
		x->pdeadline_ms = now_ms + x->t.timeout_ms;
		x->pfd = probe_connect(x->t.addr, x->t.port);
		if (x->pfd < 0)
			probe_end(x, false, now_ms);
	}
}

/* One step of x's probe once its socket is ready: send the request when
 * connected, then read until the status line is in (2xx or 3xx is a pass). */
static void probe_step(struct wrep *x, int64_t now_ms)
{
	if (!x->psent) {
		int err = 0;
		socklen_t el = sizeof err;
		char req[512];
		int n = snprintf(req, sizeof req,
				 "GET %s HTTP/1.0\r\nHost: %s:%u\r\nUser-Agent: aidc-probe\r\n"
				 "Connection: close\r\n\r\n",
				 x->t.path, x->t.addr, (unsigned)x->t.port);
		if (getsockopt(x->pfd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0 ||
		    n <= 0 || (size_t)n >= sizeof req ||
		    send(x->pfd, req, (size_t)n, MSG_NOSIGNAL) != n) {
			probe_end(x, false, now_ms);
			return;
		}
		x->psent = true;
		return;
	}
	ssize_t k = recv(x->pfd, x->pbuf + x->pgot, sizeof x->pbuf - 1 - x->pgot, 0);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k > 0)
		x->pgot += (size_t)k;
	if (k > 0 && x->pgot < 12)
		return;
	x->pbuf[x->pgot] = '\0';
	int status = 0;
	probe_end(x,
		  sscanf(x->pbuf, "HTTP/%*d.%*d %d", &status) == 1 && status >= 200 && status < 400,
		  now_ms);
}

/* Waits up to wait_ms for the probes in flight, moves each on and fails
 * those past their deadline. Returns whether any is still in flight. */
static bool probe_poll(struct worker *w, int wait_ms)
{
	struct pollfd *p = w->n ? aidc_calloc(w->n, sizeof *p) : NULL;
	size_t *at = w->n ? aidc_calloc(w->n, sizeof *at) : NULL;
	size_t np = 0;
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].pfd >= 0) {
			p[np] = (struct pollfd){w->v[i].pfd, w->v[i].psent ? POLLIN : POLLOUT, 0};
			at[np++] = i;
		}
	if (np && poll(p, np, wait_ms) < 0)
		memset(p, 0, np * sizeof *p);
	int64_t now = aidc_mono_ms();
	bool left = false;
	for (size_t k = 0; k < np; k++) {
		struct wrep *x = &w->v[at[k]];
		if (p[k].revents)
			probe_step(x, now);
		if (x->pfd >= 0 && now >= x->pdeadline_ms)
			probe_end(x, false, now);
		left |= x->pfd >= 0;
	}
	aidc_free(p);
	aidc_free(at);
	return left;
}

/* ---- the worker's replica table ---------------------------------------------------- */

static size_t wfind(const struct worker *w, uint64_t job)
{
	size_t lo = 0, hi = w->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (w->v[mid].t.job < job)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Takes the loop's latest target list, if new. */
static void take_targets(struct worker *w)
{
	struct ctld_svc_shared *sh = &w->c->svc->sh;
	pthread_mutex_lock(&sh->mu);
	w->want_router = sh->want_router;
	if (sh->targets_seq == w->seq) {
		pthread_mutex_unlock(&sh->mu);
		return;
	}
	w->seq = sh->targets_seq;
	for (size_t i = 0; i < w->n; i++)
		w->v[i].present = false;
	for (size_t k = 0; k < sh->ntargets; k++) {
		const struct svc_target *t = &sh->targets[k];
		size_t i = wfind(w, t->job);
		if (i == w->n || w->v[i].t.job != t->job) {
			AIDC_GROW(w->v, w->cap, w->n + 1);
			memmove(&w->v[i + 1], &w->v[i], (w->n - i) * sizeof *w->v);
			memset(&w->v[i], 0, sizeof w->v[i]);
			w->v[i].slot = -1;
			w->v[i].pfd = -1;
			w->n++;
		}
		w->v[i].t = *t;
		w->v[i].present = true;
	}
	pthread_mutex_unlock(&sh->mu);
}

/* ---- the router -------------------------------------------------------------------- */

/* Moves the router's view of x one step toward what the loop wants. */
static void route_one(struct worker *w, struct wrep *x)
{
	struct ctld_haproxy *lb = w->c->svc->lb;
	struct aidc_err e = {0};
	if (!w->c->svc->sh.router_up)
		return;
	char name[32];
	snprintf(name, sizeof name, "r%" PRIu64, x->t.job);
	int want = x->present ? x->t.lb_want : SVC_LB_ABSENT;
	/* A server an earlier controller routed stays until this worker has
	 * probed its replica once (a restart does not drain ready replicas). */
	if (want == SVC_LB_ABSENT && x->lb == SVC_LB_ROUTED && x->present && x->t.probe &&
	    !x->probes)
		return;
	if (want == SVC_LB_ROUTED && x->lb == SVC_LB_ABSENT && x->t.slot >= 0 && x->t.addr[0]) {
		int rc = ctld_haproxy_server_add(lb, x->t.slot, name, x->t.addr, x->t.port, &e);
		if (rc == 0 || rc == AIDC_E_EXISTS) {
			x->lb = SVC_LB_ROUTED;
			x->slot = x->t.slot;
		} else {
			aidc_log(AIDC_LOG_WARN, "router: adding %s: %s", name, e.msg);
		}
	} else if (want != SVC_LB_ROUTED && x->lb == SVC_LB_ROUTED) {
		if (ctld_haproxy_server_drain(lb, x->slot, name, &e) == 0)
			x->lb = SVC_LB_DRAIN;
		else
			aidc_log(AIDC_LOG_WARN, "router: draining %s: %s", name, e.msg);
	} else if (x->lb == SVC_LB_DRAIN) {
		/* A replica whose job is gone answers nothing more: its requests in
		 * flight are cut now rather than held to the server timeout. */
		if (!x->present)
			ctld_haproxy_server_shutdown(lb, x->slot, name, &e);
		int rc = ctld_haproxy_server_del(lb, x->slot, name, &e);
		if (rc == 0 || rc == AIDC_E_NOTFOUND)
			x->lb = SVC_LB_ABSENT;
		else if (rc != AIDC_E_BUSY)
			aidc_log(AIDC_LOG_WARN, "router: removing %s: %s", name, e.msg);
	}
}

static void route_all(struct worker *w)
{
	if (!w->c->svc->lb || !w->seq)
		return; /* nothing to do before the loop's first list */
	if (!ctld_haproxy_alive(w->c->svc->lb)) {
		struct ctld_svc_shared *sh = &w->c->svc->sh;
		pthread_mutex_lock(&sh->mu);
		if (sh->router_up)
			aidc_log(AIDC_LOG_ERROR,
				 "router: HAProxy exited; services have no address");
		sh->router_up = false;
		snprintf(sh->router_why, sizeof sh->router_why,
			 "HAProxy exited (see %.200s/haproxy.log); restarting it",
			 w->c->svc->lb_dir);
		pthread_mutex_unlock(&sh->mu);
		ctld_haproxy_stop(w->c->svc->lb);
		w->c->svc->lb = NULL; /* the worker starts a new one */
		for (size_t i = 0; i < w->n; i++)
			w->v[i].lb = SVC_LB_ABSENT;
		return;
	}
	for (size_t i = 0; i < w->n; i++)
		route_one(w, &w->v[i]);
}

/* Request counters of every slot in use, once a second. */
static void read_stats(struct worker *w, int64_t now_ms)
{
	struct ctld *c = w->c;
	if (!c->svc->lb || now_ms < w->next_stats_ms || !c->svc->sh.router_up)
		return;
	w->next_stats_ms = now_ms + STATS_EVERY_MS;
	for (int k = 0; k < (int)c->cfg.service_slots; k++) {
		bool used = false;
		for (size_t i = 0; i < w->n && !used; i++)
			used = w->v[i].present && w->v[i].t.slot == k;
		if (!used)
			continue;
		struct ctld_haproxy_stats st;
		struct aidc_err e = {0};
		if (ctld_haproxy_slot_stats(c->svc->lb, k, &st, &e) != 0)
			continue;
		double rps = 0;
		if (w->last_req_ms[k] && now_ms > w->last_req_ms[k] &&
		    st.requests >= w->last_req[k])
			rps = (double)(st.requests - w->last_req[k]) * 1000.0 /
			      (double)(now_ms - w->last_req_ms[k]);
		w->last_req[k] = st.requests;
		w->last_req_ms[k] = now_ms;
		pthread_mutex_lock(&c->svc->sh.mu);
		c->svc->sh.slots[k] = (struct svc_slot_stats){st.requests, st.responses_5xx,
							      st.avg_response_ms, rps, true};
		pthread_mutex_unlock(&c->svc->sh.mu);
	}
}

/* Reports, then forgets replicas the loop no longer lists and the router
 * no longer has. */
static void report(struct worker *w)
{
	struct ctld_svc_shared *sh = &w->c->svc->sh;
	struct svc_result *res = w->n ? aidc_calloc(w->n, sizeof *res) : NULL;
	size_t nres = 0;
	for (size_t i = 0; i < w->n; i++) {
		const struct wrep *x = &w->v[i];
		res[nres++] = (struct svc_result){x->t.job,
						  w->seq,
						  x->probes,
						  x->ok,
						  x->fails,
						  x->lb == SVC_LB_ROUTED,
						  x->lb == SVC_LB_ABSENT};
	}
	pthread_mutex_lock(&sh->mu);
	aidc_free(sh->results);
	sh->results = res;
	sh->nresults = nres;
	pthread_mutex_unlock(&sh->mu);
	size_t k = 0;
	for (size_t i = 0; i < w->n; i++) {
		if (w->v[i].present || w->v[i].lb != SVC_LB_ABSENT)
			w->v[k++] = w->v[i];
		else
			probe_close(&w->v[i]);
	}
	w->n = k;
}

/* The servers a haproxy adopted from an earlier controller already holds:
 * known ROUTED, so that what no replica claims is drained and removed. */
static void adopt(struct worker *w)
{
	struct ctld *c = w->c;
	for (int k = 0; c->svc->lb && k < (int)c->cfg.service_slots; k++) {
		char **names = NULL;
		size_t n = 0;
		struct aidc_err e = {0};
		if (ctld_haproxy_servers(c->svc->lb, k, &names, &n, &e) != 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			uint64_t job;
			char tail;
			if (sscanf(names[i], "r%" SCNu64 "%c", &job, &tail) != 1)
				continue;
			size_t at = wfind(w, job);
			if (at < w->n && w->v[at].t.job == job)
				continue;
			AIDC_GROW(w->v, w->cap, w->n + 1);
			memmove(&w->v[at + 1], &w->v[at], (w->n - at) * sizeof *w->v);
			memset(&w->v[at], 0, sizeof w->v[at]);
			w->v[at].pfd = -1;
			w->v[at].t.job = job;
			w->v[at].t.slot = k;
			w->v[at].slot = k;
			w->v[at].lb = SVC_LB_ROUTED;
			w->n++;
		}
		ctld_haproxy_names_free(names, n);
	}
}

static int64_t next_wake(const struct worker *w, int64_t now_ms)
{
	int64_t t = now_ms + WORKER_IDLE_MS;
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].present && w->v[i].t.probe && w->v[i].next_probe_ms < t)
			t = w->v[i].next_probe_ms;
	return t;
}

/* ---- start and stop ---------------------------------------------------------------- */

static void router_why(struct ctld_svc_shared *sh, const char *why)
{
	pthread_mutex_lock(&sh->mu);
	snprintf(sh->router_why, sizeof sh->router_why, "%s", why);
	pthread_mutex_unlock(&sh->mu);
}

/* Starts HAProxy (worker thread): when the first service exists, so a center
 * without services runs no router; a failed start is tried again every
 * ROUTER_RETRY_MS and its reason shown on every service. */
static void router_start(struct ctld *c)
{
	struct ctld_services *S = c->svc;
	struct ctld_svc_shared *sh = &S->sh;
	char why[256];
	if (!c->cfg.haproxy_bin[0]) {
		router_why(sh, "no router (haproxy_bin is empty)");
		return;
	}
	struct aidc_err e = {0};
	if (ctld_haproxy_bin_check(c->cfg.haproxy_bin, &e) != 0) {
		snprintf(why, sizeof why, "no router: %.230s", e.msg);
		router_why(sh, why);
		aidc_log(AIDC_LOG_WARN, "services: %s", why);
		return;
	}
	/* Absolute: HAProxy reads a relative socket path as host:port. */
	char abs[PATH_MAX];
	if (!realpath(c->cfg.state_dir, abs)) {
		snprintf(why, sizeof why, "no router: %.200s: %s", c->cfg.state_dir,
			 strerror(errno));
		router_why(sh, why);
		return;
	}
	snprintf(S->lb_dir, sizeof S->lb_dir, "%.4000s/router", abs);
	struct ctld_haproxy_opts o = {c->cfg.haproxy_bin, S->lb_dir, c->cfg.service_addr,
				      (int)c->cfg.service_port_base, (int)c->cfg.service_slots,
				      /* a rollout holds up to replicas + max_surge */
				      2 * (int)AIDC_MAX_SERVICE_REPLICAS, 0};
	if (ctld_haproxy_start(&o, &S->lb, &e) != 0) {
		snprintf(why, sizeof why, "no router: %.230s", e.msg);
		router_why(sh, why);
		aidc_log(AIDC_LOG_ERROR, "services: %s", why);
		S->lb = NULL;
		return;
	}
	pthread_mutex_lock(&sh->mu);
	sh->router_up = true;
	sh->router_why[0] = '\0';
	pthread_mutex_unlock(&sh->mu);
	aidc_log(AIDC_LOG_INFO, "services: router HAProxy on %s:%" PRId64 "..%" PRId64,
		 c->cfg.service_addr, c->cfg.service_port_base,
		 c->cfg.service_port_base + c->cfg.service_slots - 1);
}

static void *worker_main(void *arg)
{
	struct worker w = {.c = arg};
	struct ctld_services *S = w.c->svc;
	w.last_req = aidc_calloc((size_t)w.c->cfg.service_slots, sizeof *w.last_req);
	w.last_req_ms = aidc_calloc((size_t)w.c->cfg.service_slots, sizeof *w.last_req_ms);
	int64_t router_try_ms = 0;
	for (;;) {
		take_targets(&w);
		int64_t now = aidc_mono_ms();
		if (!S->lb && w.want_router && now >= router_try_ms) {
			router_start(w.c);
			router_try_ms = now + ROUTER_RETRY_MS;
			adopt(&w);
		}
		probe_start(&w, now);
		bool inflight = probe_poll(&w, 0);
		route_all(&w);
		read_stats(&w, aidc_mono_ms());
		report(&w);
		if (inflight)
			probe_poll(&w, PROBE_POLL_MS); /* new targets wait at most this */
		pthread_mutex_lock(&S->sh.mu);
		if (!inflight && !S->sh.stop && S->sh.targets_seq == w.seq)
			aidc_cond_wait_until_ms(&S->sh.wake, &S->sh.mu,
						next_wake(&w, aidc_mono_ms()));
		bool stop = S->sh.stop;
		pthread_mutex_unlock(&S->sh.mu);
		if (stop)
			break;
	}
	for (size_t i = 0; i < w.n; i++)
		probe_close(&w.v[i]);
	aidc_free(w.v);
	aidc_free(w.last_req);
	aidc_free(w.last_req_ms);
	return NULL;
}

int ctld_services_start(struct ctld *c, struct aidc_err *e)
{
	struct ctld_services *S = c->svc;
	if (c->cfg.service_port_base + c->cfg.service_slots - 1 > 65535)
		return aidc_errf(e, AIDC_E_INVAL,
				 "service_port_base %" PRId64 " + service_slots %" PRId64
				 " goes past port 65535",
				 c->cfg.service_port_base, c->cfg.service_slots);
	if (c->cfg.replica_port_min > c->cfg.replica_port_max)
		return aidc_errf(e, AIDC_E_INVAL, "replica_port_min is above replica_port_max");
	if (c->cfg.service_port_base <= c->cfg.replica_port_max &&
	    c->cfg.service_port_base + c->cfg.service_slots - 1 >= c->cfg.replica_port_min)
		return aidc_errf(e, AIDC_E_INVAL,
				 "the router's ports (service_port_base + service_slots) overlap "
				 "the replicas' (replica_port_min..replica_port_max)");
	pthread_mutex_init(&S->sh.mu, NULL);
	aidc_cond_init_mono(&S->sh.wake);
	S->sh.slots = aidc_calloc((size_t)c->cfg.service_slots, sizeof *S->sh.slots);
	snprintf(S->sh.router_why, sizeof S->sh.router_why,
		 "the router starts with the first service");
	S->sh_init = true;
	if (pthread_create(&S->worker, NULL, worker_main, c) != 0)
		return aidc_errf(e, AIDC_E_IO, "cannot start the services' worker thread");
	S->worker_started = true;
	return 0;
}

void svc_worker_stop(struct ctld *c)
{
	struct ctld_services *S = c->svc;
	if (S->worker_started) {
		pthread_mutex_lock(&S->sh.mu);
		S->sh.stop = true;
		pthread_cond_signal(&S->sh.wake);
		pthread_mutex_unlock(&S->sh.mu);
		pthread_join(S->worker, NULL);
		S->worker_started = false;
	}
	if (c->cfg.router_keep_on_stop)
		ctld_haproxy_detach(S->lb);
	else
		ctld_haproxy_stop(S->lb);
	S->lb = NULL;
	if (S->sh_init) {
		aidc_free(S->sh.targets);
		aidc_free(S->sh.results);
		aidc_free(S->sh.slots);
		pthread_mutex_destroy(&S->sh.mu);
		pthread_cond_destroy(&S->sh.wake);
		S->sh_init = false;
	}
}

/* ---- the loop's side --------------------------------------------------------------- */

static void add_targets(struct ctld *c, const struct svc_service *s, struct svc_target **v,
			size_t *n, size_t *cap)
{
	char path[256];
	int64_t period, timeout, threshold, start_ms;
	svc_probe_of(s, path, sizeof path, &period, &timeout, &threshold, &start_ms);
	for (size_t i = 0; i < s->nr; i++) {
		const struct svc_replica *r = &s->r[i];
		AIDC_GROW(*v, *cap, *n + 1);
		struct svc_target *t = &(*v)[(*n)++];
		memset(t, 0, sizeof *t);
		t->job = r->job;
		snprintf(t->addr, sizeof t->addr, "%s", r->addr);
		t->port = r->port;
		t->slot = s->slot;
		t->lb_want = r->state == SVC_R_READY && !s->deleting ? SVC_LB_ROUTED
			     : r->state == SVC_R_DRAINING	     ? SVC_LB_DRAIN
								     : SVC_LB_ABSENT;
		t->probe = r->run_ms != 0 && r->state < SVC_R_DRAINING && r->addr[0];
		snprintf(t->path, sizeof t->path, "%s", path);
		t->period_ms = period;
		t->timeout_ms = timeout;
	}
}

static int by_job(const void *a, const void *b)
{
	uint64_t x = ((const struct svc_target *)a)->job, y = ((const struct svc_target *)b)->job;
	return x < y ? -1 : x > y;
}

void svc_publish(struct ctld *c)
{
	struct ctld_services *S = c->svc;
	struct svc_target *v = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < S->n; i++)
		add_targets(c, S->v[i], &v, &n, &cap);
	if (n)
		qsort(v, n, sizeof *v, by_job);
	pthread_mutex_lock(&S->sh.mu);
	aidc_free(S->sh.targets);
	S->sh.targets = v;
	S->sh.ntargets = n;
	S->sh.want_router = S->n > 0;
	uint64_t seq = ++S->sh.targets_seq;
	pthread_cond_signal(&S->sh.wake);
	pthread_mutex_unlock(&S->sh.mu);
	for (size_t i = 0; i < S->n; i++)
		for (size_t k = 0; k < S->v[i]->nr; k++)
			if (S->v[i]->r[k].drain_seq == UINT64_MAX)
				S->v[i]->r[k].drain_seq = seq;
}

/* Copies the worker's reports and each slot's statistics into the services. */
static struct svc_result *take_results(struct ctld *c, size_t *n)
{
	struct ctld_services *S = c->svc;
	pthread_mutex_lock(&S->sh.mu);
	struct svc_result *res = S->sh.nresults ? aidc_calloc(S->sh.nresults, sizeof *res) : NULL;
	if (res)
		memcpy(res, S->sh.results, S->sh.nresults * sizeof *res);
	*n = S->sh.nresults;
	S->router_up = S->sh.router_up;
	snprintf(S->router_why, sizeof S->router_why, "%s", S->sh.router_why);
	for (size_t i = 0; i < S->n; i++) {
		struct svc_service *s = S->v[i];
		if (s->slot < 0 || !S->sh.slots[s->slot].valid)
			continue;
		const struct svc_slot_stats *st = &S->sh.slots[s->slot];
		s->requests = st->requests;
		s->resp_5xx = st->resp_5xx;
		s->avg_ms = st->avg_ms;
		s->rps = st->rps;
	}
	pthread_mutex_unlock(&S->sh.mu);
	return res;
}

void ctld_services_tick(struct ctld *c, int64_t now_ms)
{
	struct ctld_services *S = c->svc;
	if (!S || !S->worker_started || now_ms < S->next_tick_ms)
		return;
	S->next_tick_ms = now_ms + 200;
	size_t nres;
	struct svc_result *res = take_results(c, &nres);
	svc_assign_slots(c);
	for (size_t i = 0; i < S->n;) {
		struct svc_service *s = S->v[i];
		svc_tick_one(c, s, res, nres, now_ms);
		struct aidc_err e = {0};
		if (s->deleting && s->nr == 0) {
			if (svc_remove_row(c, s->name, &e) == 0) {
				aidc_log(AIDC_LOG_INFO, "service %s deleted", s->name);
				svc_drop(c, s);
				continue;
			}
			aidc_log(AIDC_LOG_ERROR, "service %s: %s", s->name, e.msg);
		} else if (s->dirty && svc_persist(c, s, &e) != 0) {
			aidc_log(AIDC_LOG_ERROR, "service %s: %s", s->name, e.msg);
		}
		i++;
	}
	aidc_free(res);
	svc_publish(c);
}
