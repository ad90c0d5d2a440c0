/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node emulator of bench/scale (see emu.h for what it is and why). One
 * thread owns every curl handle: a long-poll handle per node, and a pool of
 * max_inflight handles that carry registrations, heartbeats and batched task
 * reports of whichever node needs one next (a FIFO of nodes). A tick every
 * 10 ms ends the tasks whose time is up and queues the nodes that owe the
 * controller something. The documents are the agent's own: the same fields as
 * src/agent (do_register, heartbeat, report_batch), and work replies are
 * decoded with api_schema_work.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "emu.h"
#include "util/util.h"

enum { N_NEW, N_UP, N_SILENT };
enum { K_REG = 1, K_HB, K_REPORT };
enum { S_NONE, S_RUN, S_EXIT }; /* what an in-flight report says of a task */

struct etask {
	int64_t job, end_ms;
	int32_t task, attempt;
	bool run_ok;  /* the controller took its "running" report */
	uint8_t sent; /* S_*: in the report now in flight */
};

struct enode {
	char name[24];
	int64_t next_hb_ms, retry_ms;
	uint8_t state;
	bool need_reg, queued, in_rpc, polling, ever_up;
	struct etask *t;
	size_t nt, cap;
	CURL *poll;
	struct aidc_buf poll_reply;
};

struct slot {
	CURL *h;
	struct aidc_buf reply, body;
	uint32_t node;
	int kind;
	bool busy;
};

/* One curl multi: the request pool's (0) or the polls' (1). Two, so that
 * starting a request never walks the thousands of connections held by polls
 * in libcurl's connection cache (it did: the emulator's main cost). */
struct multi {
	CURLM *m;
	int64_t timer_at;
	struct emu *em;
	uint32_t idx;
};

struct done_xfer {
	CURL *h;
	CURLcode result;
};

#define EMU_POLLS_PER_MULTI 256u

struct emu {
	struct emu_config cfg;
	pthread_t th;
	pthread_mutex_t mu;
	volatile bool stop;
	/* mm[0] carries the pool's requests; mm[1 + k] the work polls of nodes
	 * k * EMU_POLLS_PER_MULTI onwards. curl_multi_remove_handle walks the
	 * multi's whole connection cache (libcurl 7.88 looks for the handle's
	 * last connection to close a connect-only one): with every poll in one
	 * multi that walk was 75 % of the emulator's samples at 16,384 nodes. */
	struct multi *mm;
	uint32_t nmm;
	int ep;
	int64_t last_tick, hb_ms, epoch;
	char base[96], agent_id_base[17];
	struct curl_slist *hdrs;
	struct enode *n;
	struct slot *slots;
	uint32_t *q; /* FIFO of node indices, each at most once (enode.queued) */
	size_t qhead, qlen;
	struct emu_job *jobs;
	size_t jobs_cap;
	struct emu_stats st;
	/* Finished transfers of one drain_done, read before any is removed. */
	struct done_xfer *done;
	size_t cap_done;
};

int64_t emu_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- curl glue -------------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	return aidc_buf_append(ud, p, size * n) == 0 ? size * n : 0;
}

static int on_socket(CURL *h, curl_socket_t s, int what, void *up, void *sp)
{
	(void)h;
	(void)sp;
	struct multi *mu = up;
	struct emu *em = mu->em;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(em->ep, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	struct epoll_event ev = {.data.u64 = (uint64_t)(uint32_t)s | ((uint64_t)mu->idx << 32)};
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
	if (epoll_ctl(em->ep, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT)
		epoll_ctl(em->ep, EPOLL_CTL_ADD, s, &ev);
	return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *up)
{
	(void)m;
	struct multi *mu = up;
	mu->timer_at = timeout_ms < 0 ? -1 : emu_now_ms() + timeout_ms;
	return 0;
}

/* The multi of node i's work poll. */
static CURLM *poll_multi(const struct emu *em, uint32_t i)
{
	return em->mm[1 + i / EMU_POLLS_PER_MULTI].m;
}

/* Options every handle shares; private encodes poll (node*2) or slot (i*2+1). */
static CURL *new_handle(struct emu *em, struct aidc_buf *reply, uintptr_t tag)
{
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, em->hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)tag);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	return h;
}

/* ---- documents ------------------------------------------------------------------------ */

static void running_json(const struct enode *nd, struct aidc_json *w)
{
	aidc_json_key(w, "running");
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < nd->nt; i++) {
		aidc_json_obj_begin(w);
		aidc_json_ki64(w, "job", nd->t[i].job);
		aidc_json_ki64(w, "task", nd->t[i].task);
		aidc_json_ki64(w, "attempt", nd->t[i].attempt);
		aidc_json_obj_end(w);
	}
	aidc_json_arr_end(w);
}

static void register_json(struct emu *em, uint32_t i, struct aidc_json *w)
{
	char id[40];
	snprintf(id, sizeof id, "%s%016x", em->agent_id_base, (unsigned)i);
	aidc_json_ki64(w, "protocol", API_AGENT_PROTOCOL_VERSION);
	aidc_json_kstr(w, "agent_id", id);
	aidc_json_ki64(w, "epoch", em->epoch);
	aidc_json_kstr(w, "name", em->n[i].name);
	aidc_json_kstr(w, "addr", "127.0.0.1");
	aidc_json_ki64(w, "cpus", 128);
	aidc_json_ki64(w, "mem_mib", 1048576);
	aidc_json_key(w, "devices");
	aidc_json_arr_begin(w);
	for (uint32_t d = 0; d < em->cfg.devices; d++) {
		aidc_json_obj_begin(w);
		aidc_json_ki64(w, "index", d);
		aidc_json_kstr(w, "vendor", "mock");
		aidc_json_kstr(w, "model", "mock-a1");
		aidc_json_ki64(w, "mem_mib", 81920);
		aidc_json_obj_end(w);
	}
	aidc_json_arr_end(w);
	running_json(&em->n[i], w);
}

/* Marks what the report says of each task; returns how many reports. */
static size_t report_json(struct emu *em, struct enode *nd, int64_t now, struct aidc_json *w)
{
	size_t k = 0;
	aidc_json_ki64(w, "epoch", em->epoch);
	aidc_json_key(w, "reports");
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < nd->nt && k < API_MAX_STATUS_BATCH; i++) {
		struct etask *t = &nd->t[i];
		bool ended = now >= t->end_ms;
		if (!ended && t->run_ok)
			continue;
		t->sent = ended ? S_EXIT : S_RUN;
		k++;
		aidc_json_obj_begin(w);
		aidc_json_ki64(w, "job", t->job);
		aidc_json_ki64(w, "task", t->task);
		aidc_json_ki64(w, "attempt", t->attempt);
		aidc_json_kstr(w, "state", ended ? "exited" : "running");
		aidc_json_ki64(w, "pid", 0);
		aidc_json_ki64(w, "exit_code", 0);
		aidc_json_ki64(w, "signal", 0);
		aidc_json_kbool(w, "timed_out", false);
		if (ended) {
			aidc_json_ki64(w, "cpu_usec", -1);
			aidc_json_ki64(w, "mem_peak_bytes", -1);
		}
		aidc_json_obj_end(w);
	}
	aidc_json_arr_end(w);
	return k;
}

static bool report_due(const struct enode *nd, int64_t now)
{
	for (size_t i = 0; i < nd->nt; i++)
		if (!nd->t[i].sent && (!nd->t[i].run_ok || now >= nd->t[i].end_ms))
			return true;
	return false;
}

/* ---- requests --------------------------------------------------------------------------- */

static void start_poll(struct emu *em, uint32_t i)
{
	struct enode *nd = &em->n[i];
	char url[256];
	snprintf(url, sizeof url, "%s/v1/nodes/%s/work?wait=%" PRId64 "&epoch=%" PRId64, em->base,
		 nd->name, em->cfg.poll_wait_s, em->epoch);
	aidc_buf_reset(&nd->poll_reply);
	curl_easy_setopt(nd->poll, CURLOPT_URL, url);
	curl_easy_setopt(nd->poll, CURLOPT_TIMEOUT_MS, (long)(em->cfg.poll_wait_s * 1000 + 15000));
	curl_multi_add_handle(poll_multi(em, i), nd->poll);
	nd->polling = true;
	em->st.polls++;
}

/* The kind of request node i owes now (0: none) and its body into b. */
static int build_rpc(struct emu *em, uint32_t i, int64_t now, struct aidc_buf *b, char *path,
		     size_t plen)
{
	struct enode *nd = &em->n[i];
	int kind = nd->need_reg ? K_REG : report_due(nd, now) ? K_REPORT
				  : now >= nd->next_hb_ms ? K_HB : 0;
	if (!kind || nd->state == N_SILENT || (kind == K_REG && now < nd->retry_ms))
		return 0;
	struct aidc_json w;
	aidc_json_init(&w, b, false);
	aidc_json_obj_begin(&w);
	if (kind == K_REG) {
		register_json(em, i, &w);
		snprintf(path, plen, "/v1/agents/register");
	} else if (kind == K_REPORT) {
		report_json(em, nd, now, &w);
		snprintf(path, plen, "/v1/agents/%s/tasks/status", nd->name);
	} else {
		aidc_json_ki64(&w, "epoch", em->epoch);
		running_json(nd, &w);
		snprintf(path, plen, "/v1/agents/%s/heartbeat", nd->name);
	}
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w) == 0 ? kind : 0;
}

/* Gives queued nodes the free slots. */
static void dispatch(struct emu *em, int64_t now)
{
	for (uint32_t s = 0; s < em->cfg.max_inflight && em->qlen; s++) {
		struct slot *sl = &em->slots[s];
		if (sl->busy)
			continue;
		while (em->qlen) {
			uint32_t i = em->q[em->qhead];
			em->qhead = (em->qhead + 1) % em->cfg.nodes;
			em->qlen--;
			em->n[i].queued = false;
			char path[160], url[256];
			aidc_buf_reset(&sl->body);
			int kind = build_rpc(em, i, now, &sl->body, path, sizeof path);
			if (!kind)
				continue;
			snprintf(url, sizeof url, "%s%s", em->base, path);
			aidc_buf_reset(&sl->reply);
			curl_easy_setopt(sl->h, CURLOPT_URL, url);
			curl_easy_setopt(sl->h, CURLOPT_POSTFIELDS, aidc_buf_str(&sl->body));
			curl_easy_setopt(sl->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)sl->body.len);
			curl_easy_setopt(sl->h, CURLOPT_TIMEOUT_MS, 30000L);
			sl->node = i;
			sl->kind = kind;
			sl->busy = true;
			em->n[i].in_rpc = true;
			curl_multi_add_handle(em->mm[0].m, sl->h);
			break;
		}
	}
}

static void enqueue(struct emu *em, uint32_t i)
{
	if (em->n[i].queued || em->n[i].in_rpc)
		return;
	em->n[i].queued = true;
	em->q[(em->qhead + em->qlen) % em->cfg.nodes] = i;
	em->qlen++;
}

/* ---- replies ------------------------------------------------------------------------------ */

static void job_exited(struct emu *em, int64_t job, int64_t now)
{
	if (job <= 0 || (size_t)job >= em->jobs_cap)
		return;
	struct emu_job *j = &em->jobs[job];
	j->exited++;
	if (j->ntasks > 0 && j->exited >= j->ntasks && !j->done_ms)
		j->done_ms = now;
}

static void report_done(struct emu *em, struct enode *nd, bool ok, int64_t now)
{
	size_t k = 0;
	for (size_t i = 0; i < nd->nt; i++) {
		struct etask *t = &nd->t[i];
		uint8_t sent = t->sent;
		t->sent = S_NONE;
		if (ok && sent == S_RUN)
			t->run_ok = true;
		if (ok && sent == S_EXIT) {
			job_exited(em, t->job, now);
			continue; /* forgotten: the controller has its exit */
		}
		nd->t[k++] = *t;
	}
	nd->nt = k;
	if (ok)
		em->st.reports++;
}

/* The heartbeat period of a registration's or heartbeat's reply (the
 * controller stretches it as the center grows), as the agent takes it. */
static void take_period(struct emu *em, const struct slot *sl)
{
	const char *hb = strstr(aidc_buf_str(&sl->reply), "\"heartbeat_s\":");
	int64_t s = hb ? strtoll(hb + 14, NULL, 10) : 0;
	if (s > 0)
		em->hb_ms = s * 1000;
}

static void reg_done(struct emu *em, struct enode *nd, const struct slot *sl, int64_t now)
{
	take_period(em, sl);
	nd->need_reg = false;
	nd->state = N_UP;
	nd->next_hb_ms = now + em->hb_ms;
	if (!nd->ever_up)
		em->st.registered++;
	else
		em->st.reregistrations++;
	nd->ever_up = true;
}

static void rpc_done(struct emu *em, struct slot *sl, long status, int64_t now)
{
	struct enode *nd = &em->n[sl->node];
	curl_multi_remove_handle(em->mm[0].m, sl->h);
	sl->busy = false;
	nd->in_rpc = false;
	if (status != 200) {
		em->st.http_errors++;
		if (getenv("BENCH_SCALE_DEBUG"))
			fprintf(stderr, "emu: %s kind %d: HTTP %ld %.200s\n", nd->name, sl->kind, status,
				aidc_buf_str(&sl->reply));
	}
	if (status == 404 || status == 409)
		nd->need_reg = true;
	if (sl->kind == K_REG && status == 200 && nd->state != N_SILENT)
		reg_done(em, nd, sl, now);
	else if (sl->kind == K_REG)
		nd->retry_ms = now + 1000;
	else if (sl->kind == K_HB && status == 200) {
		em->st.heartbeats++;
		take_period(em, sl);
		nd->next_hb_ms = now + em->hb_ms;
	} else if (sl->kind == K_REPORT)
		report_done(em, nd, status == 200, now);
}

static void take_launch(struct emu *em, struct enode *nd, const struct api_launch *l, int64_t now)
{
	for (size_t i = 0; i < nd->nt; i++)
		if (nd->t[i].job == l->job && nd->t[i].task == l->task &&
		    nd->t[i].attempt == l->attempt)
			return; /* a resent order */
	AIDC_GROW(nd->t, nd->cap, nd->nt + 1);
	nd->t[nd->nt++] = (struct etask){.job = l->job, .task = (int32_t)l->task,
					 .attempt = (int32_t)l->attempt,
					 .end_ms = now + em->cfg.task_ms};
	em->st.launches++;
	if (l->job > 0 && (size_t)l->job < em->jobs_cap && !em->jobs[l->job].start_ms)
		em->jobs[l->job].start_ms = now;
}

static void poll_done(struct emu *em, uint32_t i, long status, int64_t now)
{
	struct enode *nd = &em->n[i];
	curl_multi_remove_handle(poll_multi(em, i), nd->poll);
	nd->polling = false;
	struct api_work w;
	struct aidc_err e = {0};
	if (status == 200 && api_decode_max(&api_schema_work, aidc_buf_str(&nd->poll_reply),
					    nd->poll_reply.len, API_MAX_WORK_BYTES, &w, &e) == 0) {
		const struct api_launch *l = w.launch.v;
		for (size_t k = 0; k < w.launch.n; k++)
			take_launch(em, nd, &l[k], now);
		const struct api_task_ref *r = w.kill.v;
		for (size_t k = 0; k < w.kill.n; k++)
			for (size_t t = 0; t < nd->nt; t++)
				if (nd->t[t].job == r[k].job && nd->t[t].task == r[k].task) {
					nd->t[t].end_ms = now;
					em->st.kills++;
				}
		api_decoded_release(&api_schema_work, &w);
		if (nd->state == N_UP)
			start_poll(em, i);
		return;
	}
	em->st.http_errors++;
	if (status == 404 || status == 409)
		nd->need_reg = true;
	nd->retry_ms = now + 300; /* the agent's nap after a failed poll */
}

/* Every message is read before any handle is removed: libcurl's
 * curl_multi_remove_handle scans the unread messages, so removing each as it
 * was read cost O(k^2) for k transfers ending together (16,384 nodes' polls:
 * 60 % of the emulator's time in curl_multi_remove_handle). */
static void drain_done(struct emu *em, CURLM *m, int64_t now)
{
	CURLMsg *msg;
	int left;
	size_t nd = 0;
	while ((msg = curl_multi_info_read(m, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		AIDC_GROW(em->done, em->cap_done, nd + 1);
		em->done[nd++] = (struct done_xfer){msg->easy_handle, msg->data.result};
	}
	for (size_t k = 0; k < nd; k++) {
		CURL *h = em->done[k].h;
		void *p = NULL;
		long status = 0;
		curl_easy_getinfo(h, CURLINFO_PRIVATE, &p);
		if (em->done[k].result == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		uintptr_t tag = (uintptr_t)p;
		if (tag & 1)
			rpc_done(em, &em->slots[tag >> 1], status, now);
		else
			poll_done(em, (uint32_t)(tag >> 1), status, now);
	}
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void tick(struct emu *em, int64_t now)
{
	for (uint32_t i = 0; i < em->cfg.nodes; i++) {
		struct enode *nd = &em->n[i];
		if (nd->state == N_SILENT) {
			if (nd->polling) {
				curl_multi_remove_handle(poll_multi(em, i), nd->poll);
				nd->polling = false;
			}
			continue;
		}
		if (nd->state == N_UP && !nd->need_reg && !nd->polling && now >= nd->retry_ms)
			start_poll(em, i);
		if ((nd->need_reg && now >= nd->retry_ms) ||
		    (nd->state == N_UP && (now >= nd->next_hb_ms || report_due(nd, now))))
			enqueue(em, i);
	}
	dispatch(em, now);
	em->last_tick = now;
}

static void step(struct emu *em, const struct epoll_event *ev, int n)
{
	int running;
	for (int k = 0; k < n; k++) {
		int mask = ((ev[k].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
			   ((ev[k].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
			   ((ev[k].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
		curl_multi_socket_action(em->mm[ev[k].data.u64 >> 32].m,
					 (curl_socket_t)(uint32_t)ev[k].data.u64, mask, &running);
	}
	int64_t now = emu_now_ms();
	for (uint32_t i = 0; i < em->nmm; i++) {
		if (em->mm[i].timer_at >= 0 && now >= em->mm[i].timer_at) {
			em->mm[i].timer_at = -1;
			curl_multi_socket_action(em->mm[i].m, CURL_SOCKET_TIMEOUT, 0, &running);
		}
		drain_done(em, em->mm[i].m, now);
	}
	if (now - em->last_tick >= 10)
		tick(em, now);
	else
		dispatch(em, now);
}

static void *loop(void *arg)
{
	struct emu *em = arg;
	struct epoll_event ev[512];
	while (!em->stop) {
		int64_t now = emu_now_ms();
		int64_t to = 10;
		for (uint32_t i = 0; i < em->nmm; i++)
			if (em->mm[i].timer_at >= 0)
				to = AIDC_MAX(0, AIDC_MIN(to, em->mm[i].timer_at - now));
		int n = epoll_wait(em->ep, ev, (int)AIDC_ARRAY_LEN(ev), (int)to);
		pthread_mutex_lock(&em->mu);
		step(em, ev, n < 0 ? 0 : n);
		pthread_mutex_unlock(&em->mu);
	}
	return NULL;
}

/* ---- the driver's side ------------------------------------------------------------------ */

static int setup(struct emu *em, char *err, size_t errlen)
{
	em->ep = epoll_create1(EPOLL_CLOEXEC);
	em->nmm = 1 + (em->cfg.nodes + EMU_POLLS_PER_MULTI - 1) / EMU_POLLS_PER_MULTI;
	em->mm = aidc_calloc(em->nmm, sizeof *em->mm);
	for (uint32_t i = 0; i < em->nmm; i++) {
		struct multi *mu = &em->mm[i];
		*mu = (struct multi){.m = curl_multi_init(), .timer_at = -1, .em = em, .idx = i};
		if (!mu->m || em->ep < 0) {
			snprintf(err, errlen, "emulator: curl multi or epoll: %s", strerror(errno));
			return -1;
		}
		curl_multi_setopt(mu->m, CURLMOPT_SOCKETFUNCTION, on_socket);
		curl_multi_setopt(mu->m, CURLMOPT_SOCKETDATA, mu);
		curl_multi_setopt(mu->m, CURLMOPT_TIMERFUNCTION, on_timer);
		curl_multi_setopt(mu->m, CURLMOPT_TIMERDATA, mu);
		curl_multi_setopt(mu->m, CURLMOPT_MAXCONNECTS,
				  (long)(i ? EMU_POLLS_PER_MULTI + 16 : em->cfg.max_inflight + 16));
	}
	for (uint32_t i = 0; i < em->cfg.nodes; i++) {
		struct enode *nd = &em->n[i];
		snprintf(nd->name, sizeof nd->name, "emu-%05u", (unsigned)i);
		nd->need_reg = true;
		aidc_buf_init(&nd->poll_reply, API_MAX_WORK_BYTES);
		if (!(nd->poll = new_handle(em, &nd->poll_reply, (uintptr_t)i << 1))) {
			snprintf(err, errlen, "emulator: curl_easy_init failed");
			return -1;
		}
	}
	for (uint32_t s = 0; s < em->cfg.max_inflight; s++) {
		struct slot *sl = &em->slots[s];
		aidc_buf_init(&sl->reply, 1u << 20);
		aidc_buf_init(&sl->body, AIDC_MAX_HTTP_BODY_BYTES);
		if (!(sl->h = new_handle(em, &sl->reply, ((uintptr_t)s << 1) | 1))) {
			snprintf(err, errlen, "emulator: curl_easy_init failed");
			return -1;
		}
		curl_easy_setopt(sl->h, CURLOPT_POST, 1L);
	}
	return 0;
}

int emu_start(const struct emu_config *cfg, size_t jobs_cap, struct emu **out, char *err,
	      size_t errlen)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct emu *em = aidc_calloc(1, sizeof *em);
	em->cfg = *cfg;
	em->hb_ms = 1000;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts); /* an agent's epoch is its start's wall time */
	em->epoch = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	snprintf(em->agent_id_base, sizeof em->agent_id_base, "%016" PRIx64,
		 (uint64_t)em->epoch * 2654435761u);
	snprintf(em->base, sizeof em->base, "http://%s:%u", cfg->host, (unsigned)cfg->port);
	char sh[AIDC_MAX_SECRET_BYTES + 32];
	snprintf(sh, sizeof sh, "X-AIDC-Secret: %s", cfg->secret);
	em->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	em->hdrs = curl_slist_append(em->hdrs, "Expect:");
	em->hdrs = curl_slist_append(em->hdrs, sh);
	pthread_mutex_init(&em->mu, NULL);
	em->n = aidc_calloc(cfg->nodes, sizeof *em->n);
	em->slots = aidc_calloc(cfg->max_inflight, sizeof *em->slots);
	em->q = aidc_calloc(cfg->nodes, sizeof *em->q);
	em->jobs_cap = jobs_cap;
	em->jobs = aidc_calloc(jobs_cap, sizeof *em->jobs);
	*out = em;
	if (setup(em, err, errlen) != 0)
		return -1;
	if (pthread_create(&em->th, NULL, loop, em) != 0) {
		snprintf(err, errlen, "emulator: cannot start its thread");
		return -1;
	}
	return 0;
}

void emu_stop(struct emu *em)
{
	if (!em)
		return;
	em->stop = true;
	if (em->th)
		pthread_join(em->th, NULL);
	for (uint32_t i = 0; em->mm && i < em->cfg.nodes; i++) {
		if (em->n[i].polling && poll_multi(em, i))
			curl_multi_remove_handle(poll_multi(em, i), em->n[i].poll);
		if (em->n[i].poll)
			curl_easy_cleanup(em->n[i].poll);
		aidc_buf_release(&em->n[i].poll_reply);
		aidc_free(em->n[i].t);
	}
	for (uint32_t s = 0; em->mm && em->mm[0].m && s < em->cfg.max_inflight; s++) {
		if (em->slots[s].busy)
			curl_multi_remove_handle(em->mm[0].m, em->slots[s].h);
		if (em->slots[s].h)
			curl_easy_cleanup(em->slots[s].h);
		aidc_buf_release(&em->slots[s].reply);
		aidc_buf_release(&em->slots[s].body);
	}
	for (uint32_t i = 0; em->mm && i < em->nmm; i++)
		if (em->mm[i].m)
			curl_multi_cleanup(em->mm[i].m);
	aidc_free(em->mm);
	if (em->ep >= 0)
		close(em->ep);
	curl_slist_free_all(em->hdrs);
	pthread_mutex_destroy(&em->mu);
	aidc_free(em->n);
	aidc_free(em->slots);
	aidc_free(em->q);
	aidc_free(em->jobs);
	aidc_free(em->done);
	aidc_free(em);
}

void emu_stats_get(struct emu *em, struct emu_stats *out)
{
	pthread_mutex_lock(&em->mu);
	*out = em->st;
	out->hb_period_ms = em->hb_ms;
	pthread_mutex_unlock(&em->mu);
}

void emu_job_submitted(struct emu *em, int64_t id, int64_t submit_ms, int32_t ntasks)
{
	pthread_mutex_lock(&em->mu);
	if (id > 0 && (size_t)id < em->jobs_cap) {
		struct emu_job *j = &em->jobs[id];
		j->submit_ms = submit_ms;
		j->ntasks = ntasks;
		if (j->exited >= ntasks && !j->done_ms)
			j->done_ms = emu_now_ms();
	}
	pthread_mutex_unlock(&em->mu);
}

bool emu_job_get(struct emu *em, int64_t id, struct emu_job *out)
{
	if (id <= 0 || (size_t)id >= em->jobs_cap)
		return false;
	pthread_mutex_lock(&em->mu);
	*out = em->jobs[id];
	pthread_mutex_unlock(&em->mu);
	return true;
}

void emu_silence(struct emu *em, uint32_t first, uint32_t n)
{
	pthread_mutex_lock(&em->mu);
	for (uint32_t i = first; i < first + n && i < em->cfg.nodes; i++)
		em->n[i].state = N_SILENT;
	pthread_mutex_unlock(&em->mu);
}
