/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's event loop and its life cycle (ctld_run).
 *
 * HTTP threads call ctld_call(): the message goes on a mutex-protected FIFO
 * and the thread sleeps on the message's own semaphore. The loop
 * thread (the one that called ctld_run) drains the FIFO, runs each message's
 * loop function, and signals the waiter. A loop function may PARK its message
 * (agent work long-polls); parked messages are answered when work appears for
 * their node or at their deadline. After each batch of messages and on the
 * pass timer the loop runs one scheduling pass if anything changed.
 *
 * Group commit: every state change of one loop iteration (the batch of
 * messages, timeouts, the scheduling pass) goes into ONE store transaction,
 * each change in its own savepoint; the iteration ends with one commit (one
 * WAL fsync) and only then are its replies released and its work polls
 * answered. So "committed before acknowledged" holds for every reply, and a
 * storm of N requests costs about one fsync per iteration instead of N. If
 * the group commit fails, memory is ahead of the store: every reply of the
 * iteration becomes an error and the controller exits (a restart rebuilds
 * its state from the store and the agents).
 *
 * Cost: one mutex round trip and one context switch per request; the loop
 * holds the mutex only to move messages, never while running them nor while
 * waking the waiters (a semaphore each: a condition variable's waiter must
 * take the mutex again once woken, so the replies of one iteration woke
 * their threads one after another through it).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctld/ctld_int.h"
#include "util/clock.h"
#include "util/util.h"

/* Timers, timeouts, deadlines and ages: monotonic (an NTP step of the wall
 * clock never marks nodes down nor stretches a long-poll). */
int64_t ctld_now_ms(void)
{
	return aidc_mono_ms();
}

/* Times users see and the store keeps (and the core's clock, which it
 * clamps so that it never goes back): the wall clock. */
int64_t ctld_now_s(void)
{
	return aidc_wall_s();
}

int ctld_call(struct ctld *c, ctld_loop_fn fn, struct api_request *req, struct api_response *resp,
	      void *body, struct ctld_msg *m, struct aidc_err *e)
{
	memset(m, 0, sizeof *m);
	m->fn = fn;
	m->req = req;
	m->resp = resp;
	m->body = body;
	sem_init(&m->done_sem, 0, 0);
	pthread_mutex_lock(&c->mu);
	if (c->stopping || c->queued >= AIDC_MAX_PENDING_REQUESTS) {
		pthread_mutex_unlock(&c->mu);
		sem_destroy(&m->done_sem);
		return aidc_errf(e, AIDC_E_BUSY, "controller is %s",
				 c->stopping ? "shutting down" : "overloaded; retry");
	}
	if (c->tail)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
	c->queued++;
	if (c->loop_idle) /* a busy loop takes the queue without a wake-up */
		pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
	/* The post is the loop's last touch of m: glibc lets the waiter destroy
	 * the semaphore once sem_wait returns. */
	while (sem_wait(&m->done_sem) != 0)
		; /* EINTR */
	sem_destroy(&m->done_sem);
	if (m->rc < 0)
		return aidc_errf(e, m->rc, "%s", aidc_err_text(&m->err, m->rc));
	return 0;
}

int ctld_tx_begin(struct ctld *c, struct aidc_err *e)
{
	if (!c->tx_open) {
		int rc = store_begin(c->st, e);
		if (rc)
			return rc;
		c->tx_open = true;
	}
	return c->st->ops->savepoint(c->st, e);
}

int ctld_tx_release(struct ctld *c, struct aidc_err *e)
{
	return c->st->ops->release(c->st, e);
}

void ctld_tx_rollback(struct ctld *c)
{
	c->st->ops->rollback_to(c->st);
}

/* Holds a finished message's reply until the iteration's group commit. */
static void defer_reply(struct ctld *c, struct ctld_msg *m, int rc)
{
	m->rc = rc;
	m->next = NULL;
	if (c->replies_tail)
		c->replies_tail->next = m;
	else
		c->replies = m;
	c->replies_tail = m;
}

/* ---- parked polls: a min-heap by (deadline, park order) plus per-node lists -- */

static bool parks_before(const struct ctld_msg *a, const struct ctld_msg *b)
{
	return a->deadline_ms != b->deadline_ms ? a->deadline_ms < b->deadline_ms
						: a->park_seq < b->park_seq;
}

static void heap_put(struct ctld *c, size_t i, struct ctld_msg *m)
{
	c->parked[i] = m;
	m->park_pos = i;
}

/* Restores the heap order around position i (after an insert or removal). */
static void heap_fix(struct ctld *c, size_t i)
{
	struct ctld_msg *m = c->parked[i];
	while (i > 0 && parks_before(m, c->parked[(i - 1) / 2])) {
		heap_put(c, i, c->parked[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, best = i;
		const struct ctld_msg *bm = m;
		if (l < c->nparked && parks_before(c->parked[l], bm))
			bm = c->parked[best = l];
		if (l + 1 < c->nparked && parks_before(c->parked[l + 1], bm))
			best = l + 1;
		if (best == i)
			break;
		heap_put(c, i, c->parked[best]);
		i = best;
	}
	heap_put(c, i, m);
}

static void park(struct ctld *c, struct ctld_msg *m)
{
	AIDC_GROW(c->parked, c->cap_parked, c->nparked + 1);
	m->park_seq = c->park_seq++;
	heap_put(c, c->nparked++, m);
	heap_fix(c, m->park_pos);
	struct ctld_node *n = &c->nodes[m->park_node];
	m->park_next = n->parked;
	n->parked = m;
}

/* Takes m out of the heap (not out of its node's list). */
static void heap_remove(struct ctld *c, struct ctld_msg *m)
{
	size_t i = m->park_pos;
	struct ctld_msg *last = c->parked[--c->nparked];
	if (last != m) {
		heap_put(c, i, last);
		heap_fix(c, i);
	}
}

/* Unparks every poll of the node: the list, detached (each out of the heap). */
static struct ctld_msg *unpark_all(struct ctld *c, uint32_t node)
{
	struct ctld_msg *list = c->nodes[node].parked;
	c->nodes[node].parked = NULL;
	for (struct ctld_msg *m = list; m; m = m->park_next)
		heap_remove(c, m);
	return list;
}

/* Unparks the earliest poll: out of the heap and out of its node's list
 * (a node has a handful of polls at most). */
static struct ctld_msg *unpark_first(struct ctld *c)
{
	struct ctld_msg *m = c->parked[0];
	heap_remove(c, m);
	struct ctld_msg **p = &c->nodes[m->park_node].parked;
	while (*p != m)
		p = &(*p)->park_next;
	*p = m->park_next;
	m->park_next = NULL;
	return m;
}

static void run_msg(struct ctld *c, struct ctld_msg *m)
{
	c->m_requests++;
	int rc = m->fn(c, m);
	ctld_job_free(m->tmp_job);
	m->tmp_job = NULL;
	if (rc == CTLD_PARK) {
		park(c, m);
		return;
	}
	defer_reply(c, m, rc);
}

/* Ends the iteration: one commit for all of its changes, then the replies. */
static void group_commit(struct ctld *c)
{
	struct aidc_err e = {0};
	int rc = 0;
	if (c->tx_open) {
		/* The id high-water mark is durable before any id is acknowledged. */
		rc = ctld_hwm_sync(c, &e);
		if (rc == 0) {
			int64_t t0 = ctld_mono_us();
			rc = store_commit(c->st, &e);
			ctld_metrics_commit(c, ctld_mono_us() - t0);
			if (rc == 0) /* a fenced commit renewed the lease when it was sent */
				ctld_lead_renewed(c, t0 / 1000);
		}
		c->tx_open = false;
		if (rc) {
			aidc_log(AIDC_LOG_ERROR,
				 "group commit failed, exiting so that a restart rebuilds state "
				 "from the store: %s",
				 e.msg);
			c->fatal = true;
			c->deposed = rc == AIDC_E_STATE && c->lead_term > 0; /* a fenced commit */
		}
	}
	/* Nothing leaves a controller that may no longer lead (lead.c). */
	if (rc == 0 && !ctld_lead_hold(c)) {
		rc = aidc_errf(&e, AIDC_E_STATE, "this controller is no longer the leader");
		c->fatal = true;
	}
	/* Every reply of the iteration, each waiter woken through its own
	 * semaphore (no lock: m is the waiter's once posted). */
	struct ctld_msg *m = c->replies;
	c->replies = c->replies_tail = NULL;
	while (m) {
		struct ctld_msg *next = m->next;
		m->next = NULL;
		if (rc && m->rc >= 0)
			m->rc = aidc_errf(&m->err, rc == AIDC_E_STATE ? AIDC_E_BUSY : AIDC_E_IO,
					  "store commit failed: %s", e.msg);
		m->done = true;
		sem_post(&m->done_sem);
		m = next;
	}
	if (c->nended_live)
		ctld_jobs_evict(c);
}

void ctld_unpark_node(struct ctld *c, uint32_t node)
{
	/* Take the node's messages out first: re-running one may park it again.
	 * Each answers with the work now queued for the node, or parks again
	 * until its original deadline. */
	struct ctld_msg *m = unpark_all(c, node);
	while (m) {
		struct ctld_msg *next = m->park_next;
		m->park_next = NULL;
		run_msg(c, m);
		m = next;
	}
}

void ctld_drop_parked_node(struct ctld *c, uint32_t node)
{
	struct ctld_msg *m = unpark_all(c, node);
	while (m) {
		struct ctld_msg *next = m->park_next;
		m->park_next = NULL;
		aidc_buf_reset(&m->resp->body);
		aidc_buf_puts(&m->resp->body, "{\"launch\":[],\"kill\":[]}");
		defer_reply(c, m, CTLD_DONE);
		m = next;
	}
}

/* Answers the polls whose deadline has come (all of them, with an error, when
 * the controller stops), earliest first. */
static void expire_parked(struct ctld *c, int64_t now_ms, bool all)
{
	while (c->nparked && (all || c->parked[0]->deadline_ms <= now_ms)) {
		struct ctld_msg *m = unpark_first(c);
		m->deadline_ms = -1; /* tells the loop fn to answer even if empty */
		if (all)
			defer_reply(c, m,
				    aidc_errf(&m->err, AIDC_E_BUSY, "controller is shutting down"));
		else
			run_msg(c, m);
	}
}

static int64_t next_deadline(struct ctld *c)
{
	int64_t t = c->next_pass_ms;
	if (c->nparked && c->parked[0]->deadline_ms < t)
		t = c->parked[0]->deadline_ms;
	/* Heartbeat timeouts are checked at least every 200 ms. */
	int64_t hb = ctld_now_ms() + 200;
	return t < hb ? t : hb;
}

static void loop_run(struct ctld *c)
{
	while (!aidc_stop_signal() && !c->fatal) {
		pthread_mutex_lock(&c->mu);
		if (!c->head) {
			c->loop_idle = true;
			aidc_cond_wait_until_ms(&c->wake, &c->mu, next_deadline(c));
			c->loop_idle = false;
		}
		struct ctld_msg *batch = c->head;
		c->head = c->tail = NULL;
		c->queued = 0;
		pthread_mutex_unlock(&c->mu);
		while (batch) {
			struct ctld_msg *m = batch;
			batch = m->next;
			m->next = NULL;
			run_msg(c, m);
		}
		int64_t now = ctld_now_ms();
		if (now >= c->next_nodes_check_ms) {
			/* O(nodes): often enough for timeouts counted in seconds. */
			c->next_nodes_check_ms = now + 100;
			ctld_nodes_check(c);
			ctld_lead_check_agents(c, now);
		}
		expire_parked(c, now, false);
		ctld_requests_prune(c, now);
		ctld_output_sweep(c, now);
		ctld_services_tick(c, now);
		ctld_steps_tick(c, now);
		if (c->need_pass || now >= c->next_pass_ms) {
			struct aidc_err e = {0};
			c->need_pass = false;
			c->next_pass_ms = now + c->cfg.pass_interval_ms;
			ctld_deps_check(c);
			if (ctld_sched_pass(c, &e) != 0)
				aidc_log(AIDC_LOG_WARN, "scheduling pass: %s", e.msg);
			ctld_forecast_maybe(c, now);
		}
		group_commit(c);
	}
}

int ctld_secret_ensure(const char *path, char *out, size_t outsz, struct aidc_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		unsigned char raw[32];
		int r = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (r < 0 || read(r, raw, sizeof raw) != (ssize_t)sizeof raw) {
			if (r >= 0)
				close(r);
			return aidc_errf(e, AIDC_E_IO, "cannot read /dev/urandom");
		}
		close(r);
		char hex[65];
		for (size_t i = 0; i < sizeof raw; i++)
			snprintf(hex + 2 * i, 3, "%02x", raw[i]);
		int w = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (w < 0 && errno != EEXIST)
			return aidc_errf(e, AIDC_E_IO, "cannot create %s: %s", path, strerror(errno));
		if (w >= 0) {
			bool ok = write(w, hex, 64) == 64 && write(w, "\n", 1) == 1;
			close(w);
			if (!ok)
				return aidc_errf(e, AIDC_E_IO, "cannot write %s", path);
		}
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0)
		return aidc_errf(e, AIDC_E_IO, "cannot open secret %s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) != 0 || (sb.st_mode & 077) != 0) {
		close(fd);
		return aidc_errf(e, AIDC_E_PERM, "secret %s must have mode 0600 (it has %03o)", path,
				 (unsigned)(sb.st_mode & 0777));
	}
	ssize_t n = read(fd, out, outsz - 1);
	close(fd);
	if (n <= 0)
		return aidc_errf(e, AIDC_E_IO, "secret %s is empty", path);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		out[--n] = '\0';
	if (n < 16)
		return aidc_errf(e, AIDC_E_INVAL, "secret %s is shorter than 16 bytes", path);
	return 0;
}

/* Refuses a path that others may read: the state directory holds every
 * user's environment, scripts and output (docs/security.md). Directories may
 * keep the search (x) bits (users reach the default socket, which lives in
 * the state directory, through it) but never r or w for group or others. */
static int check_private(const char *path, bool dir, struct aidc_err *e)
{
	struct stat sb;
	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 0
				       : aidc_errf(e, AIDC_E_IO, "cannot stat %s: %s", path,
						   strerror(errno));
	if (dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode))
		return aidc_errf(e, AIDC_E_PERM, "%s must be a %s", path,
				 dir ? "directory" : "regular file");
	if (sb.st_uid != geteuid())
		return aidc_errf(e, AIDC_E_PERM,
				 "%s must be owned by the controller's uid %u (it is %u)", path,
				 (unsigned)geteuid(), (unsigned)sb.st_uid);
	if ((sb.st_mode & (dir ? 066 : 077)) != 0)
		return aidc_errf(e, AIDC_E_PERM,
				 "%s must be accessible by its owner only (mode %s; it has %03o): "
				 "it holds every user's jobs and output; chmod %s it",
				 path, dir ? "0700 or 0711" : "0600", (unsigned)(sb.st_mode & 0777),
				 dir ? "700" : "600");
	return 0;
}

/* True when path names an entry directly inside dir. */
static bool inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && path[n] == '/' && !strchr(path + n + 1, '/');
}

static int make_dirs(const struct ctld_config *cfg, struct aidc_err *e)
{
	char logs[AIDC_MAX_PATH_BYTES + 16];
	/* Everything the controller creates is owner-only: the database, its WAL
	 * and shm files (SQLite gives them the database's mode), logs. */
	umask(077);
	mode_t dmode = inside(cfg->socket_path, cfg->state_dir) ? 0711 : 0700;
	if (mkdir(cfg->state_dir, dmode) != 0) {
		if (errno != EEXIST)
			return aidc_errf(e, AIDC_E_IO, "cannot create %s: %s", cfg->state_dir,
					 strerror(errno));
	} else if (dmode != 0700) {
		chmod(cfg->state_dir, dmode); /* the umask took the x bits */
	}
	snprintf(logs, sizeof logs, "%s/logs", cfg->state_dir);
	if (mkdir(logs, 0700) != 0 && errno != EEXIST)
		return aidc_errf(e, AIDC_E_IO, "cannot create %s: %s", logs, strerror(errno));
	static const char *const files[] = {"", "-wal", "-shm"};
	char path[AIDC_MAX_PATH_BYTES + 16];
	int rc;
	if ((rc = check_private(cfg->state_dir, true, e)) != 0 ||
	    (rc = check_private(logs, true, e)) != 0)
		return rc;
	struct stat sb;
	if (stat(logs, &sb) == 0 && (sb.st_mode & 077) != 0)
		return aidc_errf(e, AIDC_E_PERM, "%s must have mode 0700 (it has %03o)", logs,
				 (unsigned)(sb.st_mode & 0777));
	/* A PostgreSQL database is the server's to protect. */
	for (size_t i = 0; i < AIDC_ARRAY_LEN(files) && !store_is_pg_uri(cfg->db_path); i++) {
		snprintf(path, sizeof path, "%.4000s%s", cfg->db_path, files[i]);
		if ((rc = check_private(path, false, e)) != 0)
			return rc;
	}
	return 0;
}

static void write_port_file(const char *path, uint16_t port)
{
	char tmp[AIDC_MAX_PATH_BYTES + 8];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%u\n", (unsigned)port);
	if (fclose(f) == 0)
		rename(tmp, path);
}

static void ctld_release(struct ctld *c)
{
	api_server_stop(c->srv);
	ctld_services_release(c);
	ctld_steps_release(c);
	for (size_t i = 0; i < c->njobs; i++)
		ctld_job_free(c->jobs[i]);
	aidc_free(c->jobs);
	aidc_free(c->by_handle);
	aidc_free(c->fc_buf);
	for (size_t i = 0; i < c->nnodes; i++) {
		struct ctld_node *n = &c->nodes[i];
		aidc_free(n->name);
		aidc_free(n->addr);
		aidc_free(n->partition);
		aidc_free(n->info_json);
		aidc_free(n->drain_reason);
		aidc_free(n->orphans);
		aidc_free(n->act);
	}
	aidc_free(c->nodes);
	aidc_free(c->uout);
	ctld_output_sweep_end(c);
	aidc_free(c->parked);
	aidc_free(c->core_node);
	aidc_free(c->core_first_dev);
	aidc_intern_release(&c->node_names);
	aidc_free(c->node_of_name);
	sched_decisions_release(&c->dec);
	sched_free(c->sched);
	ctld_tenancy_release(&c->ten);
	ctld_rates_release(c);
	ctld_speeds_release(c);
	if (!c->fatal || c->stepped_down)
		ctld_lead_release(c); /* a clean stop: a standby takes over now */
	store_close(c->st);
	if (c->hwm_fd >= 0)
		close(c->hwm_fd);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->wake);
}

/* Checks the config, prepares the state directory and secret, opens the store
 * and restores the core, the nodes and the jobs from it. */
static int open_state(struct ctld *c, struct aidc_err *e)
{
	int rc;
	/* MASTER_PORT = base + job id mod range must stay a valid port. */
	if (c->cfg.master_port_base + c->cfg.master_port_range - 1 > 65535)
		return aidc_errf(e, AIDC_E_INVAL,
				 "master_port_base %" PRId64 " + master_port_range %" PRId64
				 " goes past port 65535",
				 c->cfg.master_port_base, c->cfg.master_port_range);
	if ((rc = make_dirs(&c->cfg, e)) != 0 ||
	    (rc = ctld_secret_ensure(c->cfg.secret_file, c->secret, sizeof c->secret, e)) != 0)
		return rc;
	struct store_options so;
	store_options_defaults(&so);
	so.sync_full = c->cfg.store_sync_full;
	store_redact(c->cfg.db_path, c->db_shown, sizeof c->db_shown);
	if ((rc = store_open(c->cfg.db_path, &so, &c->st, e)) != 0 ||
	    (rc = ctld_lead_acquire(c, e)) != 0 || (rc = ctld_audit_config(c, e)) != 0 || (rc = ctld_sched_init(c, e)) != 0 ||
	    (rc = ctld_tenancy_load(c, e)) != 0 || (rc = ctld_rates_load(c, e)) != 0 ||
	    (rc = ctld_speeds_load(c, e)) != 0 || (rc = ctld_nodes_restore(c, e)) != 0)
		return rc;
	c->nodes_restored_ms = ctld_now_ms(); /* nodes seen after it were heard by this run */
	if ((rc = ctld_jobs_restore(c, e)) != 0)
		return rc;
	return ctld_services_load(c, e);
}

/* Starts the HTTP listeners (TCP and the Unix socket) and writes port_file. */
static int start_server(struct ctld *c, struct aidc_err *e)
{
	const struct ctld_config *cfg = &c->cfg;
	struct api_server_config sc = {
		.tcp_addr = cfg->listen_addr,
		.tcp_port = (uint16_t)cfg->port,
		.unix_path = cfg->socket_path,
		.secret = c->secret,
		.admin_gid = cfg->admin_gid,
		.tls_cert_file = cfg->tls_cert[0] ? cfg->tls_cert : NULL,
		.tls_key_file = cfg->tls_key[0] ? cfg->tls_key : NULL,
		.insecure_plaintext = cfg->insecure_plaintext_listen,
		.token_check = ctld_token_check,
		.munge = cfg->munge,
		.munge_socket = cfg->munge_socket[0] ? cfg->munge_socket : NULL,
		.max_conns_per_peer = (unsigned)cfg->max_conns_per_peer,
		.header_timeout_s = (unsigned)cfg->http_header_timeout_s,
		.body_timeout_s = (unsigned)cfg->http_body_timeout_s,
	};
	/* api_server_start refuses a non-loopback address without TLS unless
	 * insecure_plaintext_listen (docs/security.md). */
	if (!cfg->tls_cert[0] && !api_host_is_loopback(cfg->listen_addr))
		aidc_log(AIDC_LOG_WARN,
			 "INSECURE: listening on %s without TLS: the cluster secret and tokens "
			 "cross the network in clear text (insecure_plaintext_listen)",
			 cfg->listen_addr);
	int rc = api_server_start(&sc, ctld_routes, ctld_nroutes, c, &c->srv, e);
	if (rc)
		return rc;
	uint16_t port = api_server_tcp_port(c->srv);
	if (cfg->port_file[0])
		write_port_file(cfg->port_file, port);
	aidc_log(AIDC_LOG_INFO, "controller: %zu jobs, %zu nodes restored; %s://%s:%u, %s",
		 c->njobs, c->nnodes, api_server_tls(c->srv) ? "https" : "http", cfg->listen_addr,
		 (unsigned)port, cfg->socket_path);
	return 0;
}

/* After the loop: refuses new messages, answers queued and parked ones and
 * commits what is left. */
static void drain(struct ctld *c)
{
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	struct ctld_msg *rest = c->head;
	c->head = c->tail = NULL;
	pthread_mutex_unlock(&c->mu);
	while (rest) {
		struct ctld_msg *m = rest;
		rest = m->next;
		defer_reply(c, m, aidc_errf(&m->err, AIDC_E_BUSY, "controller is shutting down"));
	}
	expire_parked(c, 0, true);
	group_commit(c);
}

int ctld_run(const struct ctld_config *cfg, struct aidc_err *e)
{
	struct ctld c;
	memset(&c, 0, sizeof c);
	c.cfg = *cfg;
	ctld_config_finish(&c.cfg);
	pthread_mutex_init(&c.mu, NULL);
	aidc_cond_init_mono(&c.wake);
	sched_decisions_init(&c.dec);
	c.next_job_id = 1;
	c.hwm_fd = -1;
	aidc_stop_signals_install(); /* before a standby's wait */
	int rc = open_state(&c, e);
	if (rc)
		goto fail;

	if ((rc = ctld_web_init(&c, e)) != 0)
		goto fail;
	if ((rc = start_server(&c, e)) != 0 || (rc = ctld_services_start(&c, e)) != 0)
		goto fail;
	aidc_daemon_ready(NULL); /* --background: the parent returns now */
	c.need_pass = true;
	loop_run(&c);
	aidc_log(AIDC_LOG_INFO, "controller: signal %d, shutting down", aidc_stop_signal());
	drain(&c); /* stops the threads' work before ctld_release stops them */
	bool fatal = c.fatal, deposed = c.deposed, stepped_down = c.stepped_down;
	ctld_release(&c);
	if (stepped_down)
		return aidc_errf(e, AIDC_E_STATE,
				 "this controller stepped down: it did not hear from its agents "
				 "(leader_agent_loss_pct); see the log");
	if (deposed)
		return aidc_errf(e, AIDC_E_STATE,
				 "this controller no longer leads (another took over); see the log");
	if (fatal)
		return aidc_errf(e, AIDC_E_IO, "the store failed to commit; see the log");
	return 0;
fail:
	ctld_release(&c);
	if (c.standby_stopped) {
		aidc_log(AIDC_LOG_INFO, "controller: signal %d while standby, stopping",
			 aidc_stop_signal());
		aidc_err_clear(e);
		return 0;
	}
	return rc;
}
