/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Queue orders of the scheduling core. Every pending job has a key (k1, k2)
 * fixed while it waits; the order is (k1, k2, submit sequence, driver id): a
 * total order, so no two jobs ever compare equal.
 *
 *   FIFO      k1 = submit time
 *   PRIORITY  k1 = -priority,                  k2 = submit time
 *   SJF       k1 = oracle (else estimate) x device units,           k2 = submit
 *   SRTF      k1 = oracle (else estimate) - time already run,      k2 = submit
 *   QSSF      k1 = predicted duration x device units (predict.c),  k2 = submit
 *   TIRESIAS  k1 = queue (0 while attained service < threshold, else 1), k2 = submit
 *   MULTIFACTOR k1 = -(multifactor priority) (fairshare.c; recomputed for every
 *             pending job, and the queues re-sorted, every prio_calc_period_s), k2 = submit
 *   GITTINS   k1 = 1 / Gittins index of the run time so far x device units (gittins.c;
 *             -1 once starved),                                        k2 = submit
 * device units = ntasks x ndev x share in milli-devices (CPU-only: ntasks x 1000).
 *
 * Tiresias (NSDI'19, discretized 2-queue least-attained-service): attained
 * service = device units x run time, kept across requeues. The threshold is
 * per partition: cfg.tiresias_threshold_pct (default 80) of the service of the
 * partition's finished jobs once it has cfg.tiresias_min_samples (20) of them,
 * cfg.tiresias_threshold_dev_s before (or always, with pct 0). A job in the
 * low queue goes back to the high one with its attained service reset after
 * cfg.tiresias_starve_s, or after PromoteKnob (cfg.tiresias_promote_pct/100) x
 * the run time that demoted it, whichever comes first (both off by default).
 * Demotion and promotion times are kept in two heaps that only wake the driver
 * (sched_next_wakeup); the pass computes keys itself.
 *
 * Each partition keeps its pending jobs sorted in q[qhead .. qn). New and
 * re-queued jobs go to an unsorted inbox (O(1)); the next pass merges the
 * inbox in: k <= 8 new jobs by binary insertion (O(log n) + a memmove, free at
 * either end: FIFO appends, shortest-first orders often prepend into the slack
 * before qhead), more by a merge sort of the inbox and one O(n + k) merge.
 * Removing a started job from the head is O(1) (qhead moves); from the middle
 * the pass compacts as it walks.
 */
#include "sched/sched_int.h"

static int64_t sat_mul(int64_t a, int64_t b)
{
	if (a <= 0 || b <= 0)
		return 0;
	return a > INT64_MAX / b ? INT64_MAX : a * b;
}

static int64_t dev_units(const struct sched_job *j)
{
	uint64_t u = sched_job_dev_milli(j);
	return u ? (int64_t)u : (int64_t)j->ntasks * AIDC_DEVICE_MILLI;
}

static int64_t oracle_or_est(const struct sched *s, const struct sched_job *j)
{
	return j->oracle_s > 0 ? j->oracle_s : sched_job_est(s, j);
}

/* QSSF's duration: the driver's prediction, else history, else the time limit,
 * else the default (never the oracle). */
static int64_t qssf_duration(const struct sched *s, const struct sched_job *j)
{
	if (j->predicted_s > 0)
		return j->predicted_s;
	if (j->hist_s > 0)
		return j->hist_s;
	if (j->time_limit_s > 0)
		return j->time_limit_s;
	return s->cfg.default_estimate_s;
}

/* The demotion threshold of partition part, milli-device-seconds. */
static int64_t tiresias_threshold_ms(const struct sched *s, uint32_t part)
{
	int64_t t = s->parts[part].tir_thresh_ms;
	return t > 0 ? t : s->cfg.tiresias_threshold_dev_s * (int64_t)AIDC_DEVICE_MILLI;
}

int64_t sched_pending_k1(const struct sched *s, const struct sched_job *j)
{
	switch (s->cfg.order) {
	case SCHED_ORDER_FIFO:
		return j->submit_s;
	case SCHED_ORDER_PRIORITY:
		return -(int64_t)j->priority;
	case SCHED_ORDER_SJF:
		return sat_mul(oracle_or_est(s, j), dev_units(j));
	case SCHED_ORDER_SRTF:
		return AIDC_MAX(oracle_or_est(s, j) - j->executed_s, 0);
	case SCHED_ORDER_QSSF:
		return sat_mul(qssf_duration(s, j), dev_units(j));
	case SCHED_ORDER_TIRESIAS:
		return j->attained_ms >= tiresias_threshold_ms(s, j->part) ? 1 : 0;
	case SCHED_ORDER_GITTINS:
		return sched_gittins_key(s, j, j->executed_s);
	case SCHED_ORDER_MULTIFACTOR:
		return sched_fs_key(s, j);
	case SCHED_ORDER_COUNT_: /* not an order; check_config refuses it */
		break;
	}
	return j->submit_s;
}

int64_t sched_running_k1(const struct sched *s, const struct sched_job *j, int64_t now_s)
{
	int64_t ran = now_s - j->run_start_s;

	switch (s->cfg.order) {
	case SCHED_ORDER_SRTF:
		return AIDC_MAX(oracle_or_est(s, j) - j->executed_s - ran, 0);
	case SCHED_ORDER_TIRESIAS: {
		int64_t a = j->attained_ms + sat_mul((int64_t)sched_job_dev_milli(j), ran);
		return a >= tiresias_threshold_ms(s, j->part) || a < j->attained_ms ? 1 : 0;
	}
	case SCHED_ORDER_GITTINS:
		return sched_gittins_running_key(s, j, now_s);
	default:
		return sched_pending_k1(s, j);
	}
}

bool sched_order_preemptive(enum sched_order o)
{
	return o == SCHED_ORDER_SRTF || o == SCHED_ORDER_TIRESIAS || o == SCHED_ORDER_PRIORITY ||
	       o == SCHED_ORDER_GITTINS;
}

int sched_hot_cmp(const struct sched_hot *a, const struct sched_hot *b)
{
	if (a->k1 != b->k1)
		return a->k1 < b->k1 ? -1 : 1;
	if (a->k2 != b->k2)
		return a->k2 < b->k2 ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

static bool before(const struct sched *s, uint32_t a, uint32_t b)
{
	return sched_hot_cmp(&s->hot[a], &s->hot[b]) < 0;
}

/* How long low-queue job j may wait before it is promoted back to the high
 * queue: cfg.tiresias_starve_s, or (PromoteKnob of the Tiresias paper) knob x
 * the run time that put it there, whichever comes first; 0 = never. */
static int64_t promote_wait_s(const struct sched *s, const struct sched_job *j)
{
	int64_t wait = s->cfg.tiresias_starve_s, dm = (int64_t)sched_job_dev_milli(j);

	if (s->cfg.tiresias_promote_pct && dm > 0) {
		int64_t ran = j->attained_ms / dm;
		int64_t k = sat_mul(ran, (int64_t)s->cfg.tiresias_promote_pct) / 100;
		k = AIDC_MAX(k, 1);
		wait = wait > 0 ? AIDC_MIN(wait, k) : k;
	}
	return wait;
}

void sched_queue_push(struct sched *s, uint32_t h, int64_t now_s)
{
	struct sched_job *j = &s->jobs[h];
	struct sched_partition *p = &s->parts[j->part];

	struct sched_hot *x = &s->hot[h];

	x->k1 = sched_pending_k1(s, j);
	x->k2 = s->cfg.order == SCHED_ORDER_FIFO ? 0 : j->submit_s;
	j->level = s->cfg.order == SCHED_ORDER_TIRESIAS ? (uint8_t)x->k1 : 0;
	x->in_inbox = true;
	j->enq_pass = s->npasses;
	j->enq_s = now_s;
	j->enq_no++;
	x->reason = SCHED_REASON_NONE;
	AIDC_GROW(p->inbox, p->cap_inbox, p->ninbox + 1);
	p->inbox[p->ninbox++] = h;
	sched_shape_queued(s, h, +1);
	if (j->level == 1) {
		int64_t wait = promote_wait_s(s, j);
		if (wait > 0)
			aidc_heap_push(&s->promote, now_s + wait, j->seq,
				       h | (uint64_t)j->enq_no << 32);
	}
	sched_gittins_queued(s, h, now_s);
}

/* First position in q[qhead .. qn) whose job is not before h. */
static size_t lower_bound(const struct sched *s, const struct sched_partition *p, uint32_t h)
{
	size_t lo = p->qhead, hi = p->qn;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (before(s, p->q[mid], h))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void sched_queue_remove(struct sched *s, uint32_t h)
{
	struct sched_job *j = &s->jobs[h];
	struct sched_partition *p = &s->parts[j->part];
	size_t pos;

	if (s->hot[h].in_inbox) {
		for (size_t i = 0; i < p->ninbox; i++) {
			if (p->inbox[i] == h) {
				p->inbox[i] = p->inbox[--p->ninbox];
				sched_shape_queued(s, h, -1);
				break;
			}
		}
		s->hot[h].in_inbox = false;
		return;
	}
	pos = lower_bound(s, p, h);
	if (pos >= p->qn || p->q[pos] != h)
		return; /* not queued (cannot happen for a pending job) */
	sched_shape_queued(s, h, -1);
	if (pos == p->qhead) {
		p->qhead++;
	} else {
		memmove(p->q + pos, p->q + pos + 1, (p->qn - pos - 1) * sizeof *p->q);
		p->qn--;
	}
}

/* A pending job's sort key, copied out of its (large) job record so that sorting a
 * big batch walks compact memory instead of the job table. */
struct sched_qkey {
	int64_t k1, k2;
	uint64_t seq, id;
	uint32_t h;
};

static bool key_before(const struct sched_qkey *a, const struct sched_qkey *b)
{
	if (a->k1 != b->k1)
		return a->k1 < b->k1;
	if (a->k2 != b->k2)
		return a->k2 < b->k2;
	if (a->seq != b->seq)
		return a->seq < b->seq;
	return a->id < b->id;
}

/* One key field of the radix sort, offset so that its smallest value is 0. */
struct sched_rkey {
	uint64_t k;
	uint32_t h;
};

static int64_t field_of(const struct sched_hot *x, int f)
{
	return f == 0 ? x->k1 : f == 1 ? x->k2 : (int64_t)x->seq;
}

/* 8-bit digits needed by field f over v[0..n), and its smallest value. */
static unsigned field_digits(const struct sched *s, const uint32_t *v, size_t n, int f,
			     int64_t *lo)
{
	int64_t a = INT64_MAX, b = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		int64_t x = field_of(&s->hot[v[i]], f);
		a = x < a ? x : a;
		b = x > b ? x : b;
	}
	uint64_t range = (uint64_t)b - (uint64_t)a;
	*lo = a;
	return range ? (64u - (unsigned)__builtin_clzll(range) + 7u) / 8u : 0u;
}

/* Stable LSD radix sort of v[0..n) by field f (digits 8-bit digits above lo). */
static void radix_field(struct sched *s, uint32_t *v, size_t n, int f, unsigned digits,
			int64_t lo)
{
	struct sched_rkey *a = s->rkeys, *b = s->rkeys + n, *t;
	size_t count[256];

	for (size_t i = 0; i < n; i++)
		a[i] = (struct sched_rkey){(uint64_t)field_of(&s->hot[v[i]], f) - (uint64_t)lo,
					   v[i]};
	for (unsigned d = 0; d < digits; d++) {
		unsigned sh = 8 * d;
		size_t sum = 0;
		memset(count, 0, sizeof count);
		for (size_t i = 0; i < n; i++)
			count[(a[i].k >> sh) & 0xffu]++;
		for (size_t c = 0; c < 256; c++) {
			size_t x = count[c];
			count[c] = sum;
			sum += x;
		}
		for (size_t i = 0; i < n; i++)
			b[count[(a[i].k >> sh) & 0xffu]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = a[i].h;
}

/*
 * Radix sort of v[0..n) by (k1, k2, seq): seq is unique (the submit sequence),
 * so the driver id never decides. Stable passes from the last field to the
 * first; a field is skipped when the input is already in order by it and the
 * fields after it (tail_sorted: by (k2, seq), the inbox in submit order) or
 * when it is constant (FIFO's k2). MULTIFACTOR's first pass sorts 100,000 jobs
 * by k1 alone in 2 passes instead of 17 merge levels. False (nothing done)
 * when the keys need more than RADIX_MAX_DIGITS digits in all.
 */
#define RADIX_MAX_DIGITS 8u
static bool radix_sort(struct sched *s, uint32_t *v, size_t n, bool tail_sorted)
{
	int64_t lo[3];
	unsigned dg[3] = {0, 0, 0}, total = 0;

	for (int f = 0; f < (tail_sorted ? 1 : 3); f++) {
		dg[f] = field_digits(s, v, n, f, &lo[f]);
		total += dg[f];
	}
	if (total > RADIX_MAX_DIGITS)
		return false;
	AIDC_GROW(s->rkeys, s->cap_rkeys, 2 * n);
	for (int f = 2; f >= 0; f--)
		if (dg[f])
			radix_field(s, v, n, f, dg[f], lo[f]);
	return true;
}

/* Sorts handles v[0..n) by sched_hot_cmp. Input already in order (FIFO's
 * inbox: jobs queued in submit order) is seen in one sweep and costs O(n) with
 * no key copies (a fresh buffer costs page faults); else a radix sort where the
 * keys' ranges are small, else a bottom-up merge sort of the keys (O(n log n),
 * ping-pong between the two halves of s->qkeys). With clear_inbox, each job's
 * in_inbox flag is cleared in the same sweep. */
static void sort_handles(struct sched *s, uint32_t *v, size_t n, bool clear_inbox)
{
	struct sched_qkey *a, *b, *t;
	bool sorted = true, tail_sorted = true;

	for (size_t i = 1; i <= n; i++) {
		const struct sched_hot *x = &s->hot[v[i - 1]];
		if (clear_inbox)
			s->hot[v[i - 1]].in_inbox = false;
		if (i == n)
			break;
		const struct sched_hot *y = &s->hot[v[i]];
		if (sorted && sched_hot_cmp(y, x) < 0)
			sorted = false;
		if (tail_sorted && (y->k2 < x->k2 || (y->k2 == x->k2 && y->seq < x->seq)))
			tail_sorted = false;
	}
	if (sorted || radix_sort(s, v, n, tail_sorted))
		return;
	AIDC_GROW(s->qkeys, s->cap_qkeys, 2 * n);
	a = s->qkeys;
	b = s->qkeys + n;
	for (size_t i = 0; i < n; i++) {
		const struct sched_hot *j = &s->hot[v[i]];
		a[i] = (struct sched_qkey){j->k1, j->k2, j->seq, j->id, v[i]};
	}
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = AIDC_MIN(lo + w, n), hi = AIDC_MIN(lo + 2 * w, n);
			size_t x = lo, y = mid, o = lo;
			while (x < mid && y < hi)
				b[o++] = key_before(&a[y], &a[x]) ? a[y++] : a[x++];
			while (x < mid)
				b[o++] = a[x++];
			while (y < hi)
				b[o++] = a[y++];
		}
		t = a;
		a = b;
		b = t;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = a[i].h;
}

static void insert_one(struct sched *s, struct sched_partition *p, uint32_t h)
{
	size_t pos = lower_bound(s, p, h);

	if (pos == p->qhead && p->qhead > 0) {
		p->q[--p->qhead] = h;
		return;
	}
	AIDC_GROW(p->q, p->cap_q, p->qn + 1);
	memmove(p->q + pos + 1, p->q + pos, (p->qn - pos) * sizeof *p->q);
	p->q[pos] = h;
	p->qn++;
}

/* Merges a sorted inbox of k > 8 jobs into the n queued ones: appended when
 * all of it sorts after the queue (FIFO: new jobs come last; also the first
 * pass, n == 0), else one O(n + k) merge through tmp_q. */
static void merge_sorted_inbox(struct sched *s, struct sched_partition *p, size_t n, size_t k)
{
	size_t a = p->qhead, b = 0, o = 0;

	if (!n || before(s, p->q[p->qn - 1], p->inbox[0])) {
		AIDC_GROW(p->q, p->cap_q, p->qn + k);
		memcpy(p->q + p->qn, p->inbox, k * sizeof *p->q);
		p->qn += k;
		return;
	}
	AIDC_GROW(s->tmp_q, s->cap_tmp_q, n + k);
	while (a < p->qn && b < k)
		s->tmp_q[o++] = before(s, p->inbox[b], p->q[a]) ? p->inbox[b++] : p->q[a++];
	while (a < p->qn)
		s->tmp_q[o++] = p->q[a++];
	while (b < k)
		s->tmp_q[o++] = p->inbox[b++];
	AIDC_GROW(p->q, p->cap_q, n + k);
	memcpy(p->q, s->tmp_q, (n + k) * sizeof *p->q);
	p->qhead = 0;
	p->qn = n + k;
}

void sched_queue_merge(struct sched *s, struct sched_partition *p)
{
	size_t k = p->ninbox, n = p->qn - p->qhead;

	if (!k)
		return;
	/* Reclaim the dead prefix once it outweighs the live queue (amortized O(1)). */
	if (p->qhead > n) {
		memmove(p->q, p->q + p->qhead, n * sizeof *p->q);
		p->qhead = 0;
		p->qn = n;
	}
	if (k <= 8) {
		for (size_t i = 0; i < k; i++)
			s->hot[p->inbox[i]].in_inbox = false;
		for (size_t i = 0; i < k; i++)
			insert_one(s, p, p->inbox[i]);
	} else {
		sort_handles(s, p->inbox, k, true);
		merge_sorted_inbox(s, p, n, k);
	}
	p->ninbox = 0;
}

void sched_queue_sort(struct sched *s, struct sched_partition *p)
{
	if (p->qn > p->qhead)
		sort_handles(s, p->q + p->qhead, p->qn - p->qhead, false);
}

/* ---- Tiresias: demotion wake-ups and starvation promotion ------------------------- */

/* Schedules the wake-up at which running job h crosses its partition's threshold
 * (called when it starts, and again when the threshold moves). */
void sched_tiresias_started(struct sched *s, uint32_t h, int64_t now_s)
{
	struct sched_job *j = &s->jobs[h];
	int64_t dm = (int64_t)sched_job_dev_milli(j);
	int64_t left = tiresias_threshold_ms(s, j->part) - j->attained_ms;

	if (s->cfg.order != SCHED_ORDER_TIRESIAS || dm <= 0)
		return;
	left -= sat_mul(dm, now_s - j->run_start_s);
	if (left <= 0)
		return;
	aidc_heap_push(&s->demote, now_s + (left + dm - 1) / dm, j->seq,
		       h | (uint64_t)j->run_no << 32);
}

/* Quarter-octave bucket of x >= 1 and the bucket's upper edge. */
uint32_t sched_svc_bucket(uint64_t x)
{
	uint32_t msb;

	if (x < 4)
		return (uint32_t)x;
	msb = 63u - (uint32_t)__builtin_clzll(x);
	return msb * 4 + (uint32_t)((x >> (msb - 2)) & 3);
}

uint64_t sched_svc_bucket_top(uint32_t b)
{
	uint32_t msb = b / 4, sub = b % 4;

	if (b < 4)
		return b + 1;
	if (b < 8) /* no value falls in 4..7 (4 is bucket 8): the top below bucket 8 */
		return 4;
	if (msb >= 62)
		return (uint64_t)AIDC_MAX_DURATION_S;
	return (uint64_t)(4 + sub + 1) << (msb - 2);
}

/*
 * History-derived threshold (cfg.tiresias_threshold_pct): the Tiresias paper
 * picks queue thresholds from the distribution of job service; here each
 * partition takes the given percentile of its finished jobs' service, rounded
 * up to the top of its quarter-octave bucket (so it moves in steps of at most
 * 19% and rarely). When it moves, the partition's running jobs get fresh
 * demotion wake-ups (stale ones only wake the driver early); pending jobs keep
 * the queue they were given when queued. Cost O(buckets) per finished job,
 * O(R log n) when the threshold moves.
 */
void sched_tiresias_finished(struct sched *s, const struct sched_job *j)
{
	struct sched_partition *p = &s->parts[j->part];
	/* all its run time, also the part a starvation promotion forgot */
	uint64_t svc = (uint64_t)j->executed_s * sched_job_dev_milli(j) / AIDC_DEVICE_MILLI;
	uint64_t want, acc = 0;
	int64_t t;
	uint32_t b;

	if (s->cfg.order != SCHED_ORDER_TIRESIAS || !s->cfg.tiresias_threshold_pct ||
	    !sched_job_dev_milli(j))
		return;
	p->svc_hist[sched_svc_bucket(svc ? svc : 1)]++;
	p->svc_n++;
	if (p->svc_n < s->cfg.tiresias_min_samples)
		return;
	want = ((uint64_t)p->svc_n * s->cfg.tiresias_threshold_pct + 99) / 100;
	for (b = 0; b + 1 < SCHED_SVC_BUCKETS && acc + p->svc_hist[b] < want; b++)
		acc += p->svc_hist[b];
	t = (int64_t)AIDC_MIN(sched_svc_bucket_top(b), (uint64_t)AIDC_MAX_DURATION_S) *
	    (int64_t)AIDC_DEVICE_MILLI;
	if (t == p->tir_thresh_ms)
		return;
	p->tir_thresh_ms = t;
	for (uint32_t i = 0; i < p->nrunning; i++)
		sched_tiresias_started(s, p->running[i], s->now_last);
}

static bool demote_stale(const struct sched *s, const struct aidc_heap_item *it)
{
	uint32_t h = (uint32_t)it->value, no = (uint32_t)(it->value >> 32);

	return h >= s->njob_slots || !s->jobs[h].live || !s->jobs[h].running ||
	       s->jobs[h].run_no != no;
}

static bool promote_stale(const struct sched *s, const struct aidc_heap_item *it)
{
	uint32_t h = (uint32_t)it->value, no = (uint32_t)(it->value >> 32);

	return h >= s->njob_slots || !s->jobs[h].live || s->jobs[h].running ||
	       s->jobs[h].enq_no != no || s->jobs[h].level != 1;
}

/* Pops due entries: demotions need no action here (running keys are computed
 * when preemption looks at them); a low-queue job that waited starve_s goes
 * back to the high queue with its attained service reset. O(k log n). */
void sched_tiresias_tick(struct sched *s, int64_t now_s)
{
	struct aidc_heap_item it;

	while (aidc_heap_peek(&s->demote) && aidc_heap_peek(&s->demote)->key <= now_s)
		aidc_heap_pop(&s->demote, &it);
	/* Entries of jobs that stopped are dropped from the top too, so that
	 * sched_next_wakeup does not wake the driver for nothing. */
	while (aidc_heap_peek(&s->demote) && demote_stale(s, aidc_heap_peek(&s->demote)))
		aidc_heap_pop(&s->demote, &it);
	while (aidc_heap_peek(&s->promote) && (aidc_heap_peek(&s->promote)->key <= now_s ||
					       promote_stale(s, aidc_heap_peek(&s->promote)))) {
		struct sched_job *j;
		bool stale = promote_stale(s, aidc_heap_peek(&s->promote));

		aidc_heap_pop(&s->promote, &it);
		if (stale)
			continue;
		j = &s->jobs[(uint32_t)it.value];
		sched_queue_remove(s, (uint32_t)it.value);
		j->attained_ms = 0;
		sched_queue_push(s, (uint32_t)it.value, now_s);
	}
}

int64_t sched_next_wakeup(const struct sched *s, int64_t now_s)
{
	int64_t t = INT64_MAX;
	const struct aidc_heap_item *a = aidc_heap_peek(&s->demote);
	const struct aidc_heap_item *b = aidc_heap_peek(&s->promote);

	if (a)
		t = AIDC_MIN(t, a->key);
	if (b)
		t = AIDC_MIN(t, b->key);
	if (t != INT64_MAX && t <= now_s)
		t = now_s + 1; /* due entries are handled by the next pass */
	return t;
}
