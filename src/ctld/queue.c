/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /v1/queue (docs/api.md "Queue"): the live jobs (pending, running,
 * stopping) one page at a time, with the counts a view needs to say how many
 * there are. Why a route of its own: GET /v1/jobs reads every matching row
 * from the store and answers all of them, newest first, so a page that shows
 * a queue of 10,000 jobs had to fetch and draw 3.6 MB (the dashboard's queue
 * took over a second to load, issue 14). Live jobs are all in memory
 * (c->jobs, by increasing id), so this route filters, counts and pages them
 * there: one pass over the live jobs, then JSON for the page only.
 *
 * Visibility is that of GET /v1/jobs: a user sees their own jobs only (every
 * count, total and page is computed over those), an admin everyone's; a
 * filter never widens it. Every parameter is checked; an unknown one, a bad
 * value or offset together with after is a 400 that names it.
 */
#include <string.h>

#include "ctld/ctld_int.h"
#include "util/parse.h"
#include "util/util.h"

/* Jobs on one page at most, and when limit is not given. */
#define QUEUE_PAGE_MAX	   1000
#define QUEUE_PAGE_DEFAULT 100
/* Distinct pending-reason classes counted; more fall into "other". */
#define QUEUE_REASONS_MAX  32
#define QUEUE_REASON_BYTES 64

struct queue_query {
	unsigned state_mask; /* bit (1 << state) of the live states wanted */
	const char *user, *account, *partition, *reason; /* borrowed; NULL: any */
	int64_t limit, offset;
	uint64_t after; /* 0: none */
};

struct reason_count {
	char name[QUEUE_REASON_BYTES];
	uint64_t jobs;
};

struct queue_counts {
	uint64_t state[CTLD_JOB_STATE_COUNT_];
	struct reason_count reasons[QUEUE_REASONS_MAX + 1]; /* + "other" */
	size_t nreasons;
	uint64_t total;	 /* jobs that match the query */
	uint64_t before; /* matching jobs at or below `after` (the page's offset) */
};

static const unsigned live_states =
    (1u << CTLD_JOB_PENDING) | (1u << CTLD_JOB_RUNNING) | (1u << CTLD_JOB_STOPPING);

/* "pending,running": a mask of live states; 0 after setting the error. */
static unsigned parse_states(const char *s, struct aidc_err *e)
{
	unsigned mask = 0;
	char buf[64];
	if (strlen(s) >= sizeof buf) {
		aidc_errf(e, AIDC_E_INVAL, "state: pending, running or stopping, comma-separated");
		return 0;
	}
	snprintf(buf, sizeof buf, "%s", s);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int st = ctld_job_state_parse(t);
		if (st < 0 || !((1u << st) & live_states)) {
			aidc_errf(
			    e, AIDC_E_INVAL,
			    "state: '%.32s' is not a live state (pending, running or stopping; "
			    "ended jobs: GET /v1/jobs)",
			    t);
			return 0;
		}
		mask |= 1u << st;
	}
	if (!mask)
		aidc_errf(e, AIDC_E_INVAL, "state: pending, running or stopping, comma-separated");
	return mask;
}

/* A name filter: present means non-empty and short; *out stays NULL if absent. */
static int parse_name(const struct api_request *r, const char *key, size_t max, const char **out,
		      struct aidc_err *e)
{
	const char *v = api_query(r, key);
	if (v && (!*v || strlen(v) >= max))
		return aidc_errf(e, AIDC_E_INVAL, "%s: 1 to %zu bytes", key, max - 1);
	*out = v;
	return 0;
}

static int parse_query(const struct api_request *r, struct queue_query *q, struct aidc_err *e)
{
	static const char *const known[] = {"state", "user",   "account", "partition", "reason",
					    "limit", "offset", "after",	  NULL};
	const char *bad = api_query_unknown(r, known);
	if (bad)
		return aidc_errf(
		    e, AIDC_E_INVAL,
		    "unknown parameter '%.32s' (state, user, account, partition, reason, "
		    "limit, offset, after)",
		    bad);
	const char *st = api_query(r, "state"), *lim = api_query(r, "limit"),
		   *off = api_query(r, "offset"), *aft = api_query(r, "after");
	*q = (struct queue_query){.state_mask = live_states, .limit = QUEUE_PAGE_DEFAULT};
	if (st && (q->state_mask = parse_states(st, e)) == 0)
		return AIDC_E_INVAL;
	int rc;
	if ((rc = parse_name(r, "user", AIDC_MAX_NAME_BYTES, &q->user, e)) ||
	    (rc = parse_name(r, "account", AIDC_MAX_NAME_BYTES, &q->account, e)) ||
	    (rc = parse_name(r, "partition", AIDC_MAX_NAME_BYTES, &q->partition, e)) ||
	    (rc = parse_name(r, "reason", QUEUE_REASON_BYTES, &q->reason, e)))
		return rc;
	if (lim && aidc_parse_i64(lim, 0, QUEUE_PAGE_MAX, &q->limit))
		return aidc_errf(e, AIDC_E_INVAL, "limit: 0..%d jobs (0: counts only)",
				 QUEUE_PAGE_MAX);
	if (off && aidc_parse_i64(off, 0, INT64_MAX, &q->offset))
		return aidc_errf(e, AIDC_E_INVAL, "offset: a number of jobs, 0 or more");
	int64_t a = 0;
	if (aft && aidc_parse_i64(aft, 1, INT64_MAX, &a))
		return aidc_errf(e, AIDC_E_INVAL, "after: a job id");
	if (off && aft)
		return aidc_errf(e, AIDC_E_INVAL, "offset and after: give one of them");
	q->after = (uint64_t)a;
	return 0;
}

/* The class of a pending reason: the text before ": " ("limit: max_running_jobs
 * of account a" -> "limit"). */
static size_t reason_class_len(const char *why)
{
	const char *colon = strchr(why, ':');
	return colon ? (size_t)(colon - why) : strlen(why);
}

static void count_reason(struct queue_counts *k, const char *why, size_t len)
{
	if (len >= QUEUE_REASON_BYTES)
		len = QUEUE_REASON_BYTES - 1;
	for (size_t i = 0; i < k->nreasons; i++)
		if (!strncmp(k->reasons[i].name, why, len) && !k->reasons[i].name[len]) {
			k->reasons[i].jobs++;
			return;
		}
	struct reason_count *r = &k->reasons[QUEUE_REASONS_MAX]; /* "other" */
	if (k->nreasons < QUEUE_REASONS_MAX) {
		r = &k->reasons[k->nreasons++];
		memcpy(r->name, why, len);
		r->name[len] = '\0';
	} else {
		snprintf(r->name, sizeof r->name, "other");
		k->nreasons = QUEUE_REASONS_MAX + 1;
	}
	r->jobs++;
}

static bool visible(const struct ctld_job *j, const struct api_identity *who)
{
	return ((1u << j->state) & live_states) && (who->admin || j->uid == who->uid);
}

/* Whether visible job j matches q's filters; why is its pending reason ("" else). */
static bool matches(struct ctld *c, const struct ctld_job *j, const struct queue_query *q,
		    const char *why)
{
	if (!((1u << j->state) & q->state_mask))
		return false;
	if (q->user && strcmp(j->user, q->user))
		return false;
	if (q->account && strcmp(j->spec.account ? j->spec.account : "", q->account))
		return false;
	const char *part = j->spec.partition ? j->spec.partition : c->cfg.partition;
	if (q->partition && strcmp(part, q->partition))
		return false;
	if (q->reason) {
		size_t len = reason_class_len(why);
		if (j->state != CTLD_JOB_PENDING || strlen(q->reason) != len ||
		    strncmp(why, q->reason, len))
			return false;
	}
	return true;
}

/* One pass over the live jobs: counts, the total, and the page (ids of the
 * jobs to show, at most q->limit, into page). */
static void scan(struct ctld *c, const struct api_identity *who, const struct queue_query *q,
		 struct queue_counts *k, const struct ctld_job **page, size_t *npage, bool *more)
{
	char buf[256];
	*npage = 0;
	*more = false;
	for (size_t i = 0; i < c->njobs; i++) {
		const struct ctld_job *j = c->jobs[i];
		if (!j || !visible(j, who))
			continue;
		k->state[j->state]++;
		const char *why = "";
		if (j->state == CTLD_JOB_PENDING) {
			why = ctld_job_pending_reason(c, j, buf, sizeof buf);
			count_reason(k, why, reason_class_len(why));
		}
		if (!matches(c, j, q, why))
			continue;
		uint64_t pos = k->total++;
		bool past = q->after ? j->id > q->after : pos >= (uint64_t)q->offset;
		if (!past) {
			k->before++;
			continue;
		}
		if (*npage < (size_t)q->limit)
			page[(*npage)++] = j;
		else
			*more = true;
	}
}

static void reply_counts(struct aidc_json *w, const struct queue_counts *k)
{
	aidc_json_key(w, "counts");
	aidc_json_obj_begin(w);
	for (int st = CTLD_JOB_PENDING; st <= CTLD_JOB_STOPPING; st++)
		aidc_json_ki64(w, ctld_job_state_name(st), (int64_t)k->state[st]);
	aidc_json_obj_end(w);
	aidc_json_key(w, "pending_reasons");
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < k->nreasons; i++) {
		aidc_json_obj_begin(w);
		aidc_json_kstr(w, "reason", k->reasons[i].name);
		aidc_json_ki64(w, "jobs", (int64_t)k->reasons[i].jobs);
		aidc_json_obj_end(w);
	}
	aidc_json_arr_end(w);
}

/* GET /v1/queue?state=&user=&account=&partition=&reason=&limit=&offset=|after= */
int ctld_lf_queue(struct ctld *c, struct ctld_msg *m)
{
	struct queue_query q;
	int rc = parse_query(m->req, &q, &m->err);
	if (rc)
		return rc;
	struct queue_counts *k = aidc_calloc(1, sizeof *k);
	const struct ctld_job **page = aidc_calloc(q.limit ? (size_t)q.limit : 1, sizeof *page);
	size_t npage;
	bool more;
	scan(c, &m->req->who, &q, k, page, &npage, &more);
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	reply_counts(&w, k);
	aidc_json_ki64(&w, "total", (int64_t)k->total);
	aidc_json_ki64(&w, "offset", (int64_t)k->before);
	aidc_json_ki64(&w, "limit", q.limit);
	aidc_json_key(&w, "jobs");
	aidc_json_arr_begin(&w);
	for (size_t i = 0; i < npage; i++)
		ctld_job_json(c, &w, page[i], false);
	aidc_json_arr_end(&w);
	/* With more, next_after is the cursor of the next page. */
	aidc_json_kbool(&w, "more", more);
	if (more && npage)
		aidc_json_ki64(&w, "next_after", (int64_t)page[npage - 1]->id);
	aidc_json_obj_end(&w);
	aidc_free(page);
	aidc_free(k);
	return aidc_json_finish(&w);
}
