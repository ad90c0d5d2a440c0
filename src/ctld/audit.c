/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log (issue 12 item 4, docs/accounting.md): who changed what, kept
 * append-only in the store (schema 6; the database refuses updates and
 * deletes, and no route writes it except through the actions below).
 *
 * Audited actions are the route handlers of tokens, accounts, users, QoS,
 * node drains and resumes, and cancels and requeues of another user's job.
 * Each is wrapped (audited()) so that its record is written inside the same
 * transaction as the change it describes: the wrapper opens a savepoint, runs
 * the handler, adds the record and releases. A change is never acknowledged
 * without its record: if the record cannot be written the unit is rolled
 * back and, since the handler's in-memory change can no longer be trusted to
 * match the store, the controller stops so that a restart rebuilds its state
 * from the store (as for a failed group commit). Refused requests change
 * nothing and are not recorded.
 *
 * Reading (GET /v1/audit): admins read every record; anyone else only the
 * records they made or that name them as the target's owner.
 */
#include <pwd.h>
#include <unistd.h>

#include "ctld/ctld_int.h"
#include "ctld/services.h"
#include "util/util.h"

static void via_name(const struct api_identity *who, char *buf, size_t n)
{
	switch (who->via) {
	case API_VIA_SOCKET:
		snprintf(buf, n, "socket");
		break;
	case API_VIA_TOKEN:
		snprintf(buf, n, "token %" PRIu64, who->token_id);
		break;
	case API_VIA_MUNGE:
		snprintf(buf, n, "munge");
		break;
	case API_VIA_SECRET:
		snprintf(buf, n, "secret");
		break;
	default:
		snprintf(buf, n, "none");
	}
}

int ctld_audit_add(struct ctld *c, const struct api_identity *who, const char *action,
		   const char *target, int64_t target_uid, const char *detail, size_t detail_len,
		   struct aidc_err *e)
{
	char via[48];
	via_name(who, via, sizeof via);
	/* The detail (a request body) is kept up to a documented size; a longer
	 * one is cut and the record says so. */
	struct aidc_buf d;
	aidc_buf_init(&d, AIDC_MAX_AUDIT_DETAIL_BYTES + 64);
	if (detail && detail_len > AIDC_MAX_AUDIT_DETAIL_BYTES) {
		aidc_buf_append(&d, detail, AIDC_MAX_AUDIT_DETAIL_BYTES);
		aidc_buf_printf(&d, "... (%zu bytes, cut)", detail_len);
	} else if (detail) {
		aidc_buf_append(&d, detail, detail_len);
	}
	struct store_audit a = {
	    .time_s = ctld_now_s(),
	    .actor_uid = who->uid,
	    .actor = who->user,
	    .via = via,
	    .action = action,
	    .target = target ? target : "",
	    .target_uid = target_uid,
	    .detail = aidc_buf_str(&d),
	};
	int rc = ctld_tx_begin(c, e);
	if (rc == 0 && (rc = c->st->ops->audit_add(c->st, &a, NULL, e)) != 0)
		ctld_tx_rollback(c);
	else if (rc == 0)
		rc = ctld_tx_release(c, e);
	aidc_buf_release(&d);
	return rc;
}

/* What an audited action acts on, found before the handler runs (the
 * handler may end or free it). */
struct audit_target {
	char target[AIDC_MAX_NAME_BYTES + 32];
	int64_t uid; /* owner, or -1 */
	bool skip;   /* not an audited case (a user acting on their own job) */
};

int ctld_audit_commit(struct ctld *c, struct ctld_msg *m, const char *action, const char *target,
		      int64_t target_uid, const char *detail, size_t detail_len)
{
	struct aidc_err e = {0};
	int arc = ctld_audit_add(c, &m->req->who, action, target, target_uid, detail, detail_len,
				 &e);
	if (arc == 0)
		arc = ctld_tx_release(c, &e);
	if (arc == 0)
		return 0;
	ctld_tx_rollback(c);
	aidc_log(AIDC_LOG_ERROR,
		 "audit record of %s could not be written (%s): the change is undone and "
		 "the controller exits so that a restart rebuilds state from the store",
		 action, e.msg);
	c->fatal = true;
	aidc_buf_reset(&m->resp->body);
	return aidc_errf(&m->err, AIDC_E_IO, "audit record not written: %s", e.msg);
}

static int64_t uid_of(const char *user)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (user && getpwnam_r(user, &pw, buf, sizeof buf, &res) == 0 && res)
		return res->pw_uid;
	return -1;
}

/* The first integer after "key": in a document the controller wrote itself. */
static int64_t int_after(const char *doc, const char *key)
{
	const char *p = doc ? strstr(doc, key) : NULL;
	int64_t v = -1;
	if (p && sscanf(p + strlen(key), "%" SCNd64, &v) != 1)
		v = -1;
	return v;
}

typedef void (*target_fn)(struct ctld *c, struct ctld_msg *m, struct audit_target *t);

static int audited(struct ctld *c, struct ctld_msg *m, ctld_loop_fn fn, const char *action,
		   target_fn before, target_fn after)
{
	struct audit_target t = {.uid = -1};
	if (before)
		before(c, m, &t);
	int rc = ctld_tx_begin(c, &m->err);
	if (rc)
		return rc;
	rc = fn(c, m);
	if (rc < 0 || rc == CTLD_PARK || t.skip) {
		if (rc < 0)
			ctld_tx_rollback(c);
		else if (ctld_tx_release(c, &m->err) != 0)
			rc = AIDC_E_IO;
		return rc;
	}
	if (after)
		after(c, m, &t);
	int arc = ctld_audit_commit(c, m, action, t.target, t.uid, m->req->body,
				    m->req->body ? m->req->body_len : 0);
	return arc ? arc : rc;
}

/* ---- targets ------------------------------------------------------------------ */

static void t_param(const char *kind, struct ctld_msg *m, struct audit_target *t)
{
	snprintf(t->target, sizeof t->target, "%s %.*s", kind, AIDC_MAX_NAME_BYTES,
		 m->req->params[0]);
}

static void t_token_created(struct ctld *c, struct ctld_msg *m, struct audit_target *t)
{
	(void)c;
	const char *r = aidc_buf_str(&m->resp->body);
	const char *info = strstr(r, "\"info\":");
	snprintf(t->target, sizeof t->target, "token %" PRId64, int_after(info, "\"id\":"));
	t->uid = int_after(info, "\"uid\":");
}

static void t_token(struct ctld *c, struct ctld_msg *m, struct audit_target *t)
{
	t_param("token", m, t);
	int64_t id;
	struct store_token tok = {0};
	struct aidc_err ignore = {0};
	if (aidc_parse_i64(m->req->params[0], 1, INT64_MAX, &id) == 0 &&
	    c->st->ops->token_get(c->st, (uint64_t)id, &tok, &ignore) == 0)
		t->uid = tok.uid;
	store_token_release(&tok);
}

static void t_account(struct ctld *c, struct ctld_msg *m, struct audit_target *t)
{
	(void)c;
	if (m->req->nparams)
		t_param("account", m, t);
	else
		snprintf(t->target, sizeof t->target, "account");
}

static void t_user(struct ctld *c, struct ctld_msg *m, struct audit_target *t)
{
	(void)c;
	if (m->req->nparams) {
		t_param("user", m, t);
		t->uid = uid_of(m->req->params[0]);
	} else {
		snprintf(t->target, sizeof t->target, "user");
	}
}

static void t_qos(struct ctld *c, struct ctld_msg *m, struct audit_target *t)
{
	(void)c;
	if (m->req->nparams)
		t_param("qos", m, t);
	else
		snprintf(t->target, sizeof t->target, "qos");
}

static void t_node(struct ctld *c, struct ctld_msg *m, struct audit_target *t)
{
	(void)c;
	t_param("node", m, t);
}

/* Cancels, requeues, holds and releases are audited when they act on another user's job. */
static void t_job(struct ctld *c, struct ctld_msg *m, struct audit_target *t)
{
	t_param("job", m, t);
	int64_t id;
	t->skip = true;
	if (aidc_parse_i64(m->req->params[0], 1, INT64_MAX, &id) != 0)
		return;
	struct ctld_job *j = ctld_job_find(c, (uint64_t)id);
	if (j) {
		t->uid = j->uid;
		t->skip = j->uid == m->req->who.uid;
	}
	/* An ended job cannot be cancelled or requeued: the handler refuses it. */
}

/* Changes to a service are audited when they act on another user's (admins). */
static void t_service(struct ctld *c, struct ctld_msg *m, struct audit_target *t)
{
	t_param("service", m, t);
	const struct svc_service *s = svc_find(c, m->req->params[0]);
	t->skip = !s || s->uid == m->req->who.uid;
	if (s)
		t->uid = s->uid;
}

int ctld_lf_audited_service_update(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_service_update, "service.update", t_service, NULL);
}

int ctld_lf_audited_service_scale(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_service_scale, "service.scale", t_service, NULL);
}

int ctld_lf_audited_service_delete(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_service_delete, "service.delete", t_service, NULL);
}

/* The audited handlers (ctld_int.h), one per route. */
int ctld_lf_audited_token_create(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_token_create, "token.create", NULL, t_token_created);
}

int ctld_lf_audited_token_revoke(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_token_revoke, "token.revoke", t_token, NULL);
}

int ctld_lf_audited_account_add(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_account_add, "account.add", t_account, NULL);
}

int ctld_lf_audited_account_modify(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_account_modify, "account.modify", t_account, NULL);
}

int ctld_lf_audited_account_delete(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_account_delete, "account.delete", t_account, NULL);
}

int ctld_lf_audited_user_add(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_user_add, "user.add", t_user, NULL);
}

int ctld_lf_audited_user_modify(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_user_modify, "user.modify", t_user, NULL);
}

int ctld_lf_audited_user_delete(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_user_delete, "user.delete", t_user, NULL);
}

int ctld_lf_audited_qos_add(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_qos_add, "qos.add", t_qos, NULL);
}

int ctld_lf_audited_qos_modify(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_qos_modify, "qos.modify", t_qos, NULL);
}

int ctld_lf_audited_qos_delete(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_qos_delete, "qos.delete", t_qos, NULL);
}

int ctld_lf_audited_node_drain(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_node_drain, "node.drain", t_node, NULL);
}

int ctld_lf_audited_node_resume(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_node_resume, "node.resume", t_node, NULL);
}

int ctld_lf_audited_job_cancel(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_job_cancel, "job.cancel", t_job, NULL);
}

int ctld_lf_audited_job_hold(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_job_hold, "job.hold", t_job, NULL);
}

int ctld_lf_audited_job_release(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_job_release, "job.release", t_job, NULL);
}

int ctld_lf_audited_job_requeue(struct ctld *c, struct ctld_msg *m)
{
	return audited(c, m, ctld_lf_job_requeue, "job.requeue", t_job, NULL);
}

/* ---- configuration changes ------------------------------------------------------- */

/* Appends to d the lines of now that are not in before ("key=old -> new" when
 * the key was there; key names carry no '='). Both are "key=value\n" texts. */
static void config_diff(const char *before, const char *now, struct aidc_buf *d)
{
	for (const char *l = now; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		const char *eq = memchr(l, '=', len);
		size_t klen = eq ? (size_t)(eq - l) : len;
		const char *old = NULL;
		for (const char *p = before; p && *p;) {
			if (!strncmp(p, l, klen) && p[klen] == '=') {
				old = p;
				break;
			}
			p = strchr(p, '\n');
			p = p ? p + 1 : NULL;
		}
		size_t olen = old ? strcspn(old, "\n") : 0;
		if (!old || olen != len || memcmp(old, l, len) != 0) {
			if (old)
				aidc_buf_printf(d, "%.*s -> %.*s; ", (int)olen, old,
						(int)(len - klen - (eq ? 1 : 0)), eq ? eq + 1 : "");
			else
				aidc_buf_printf(d, "%.*s; ", (int)len, l);
		}
		l = nl ? nl + 1 : l + len;
	}
}

int ctld_audit_config(struct ctld *c, struct aidc_err *e)
{
	struct aidc_buf now, d;
	aidc_buf_init(&now, 1u << 20);
	aidc_buf_init(&d, 1u << 20);
	char *before = NULL;
	int rc = ctld_config_text(&c->cfg, &now);
	if (rc == 0) {
		/* Its own error buffer: e keeps the first message, and "not
		 * recorded yet" is no error. */
		struct aidc_err ge = {0};
		rc = c->st->ops->meta_get(c->st, "config", &before, &ge);
		if (rc == AIDC_E_NOTFOUND) {
			rc = 0;
			aidc_buf_puts(&d, "first start recorded: ");
		} else if (rc) {
			aidc_errf(e, rc, "%s", ge.msg);
		}
	}
	if (rc == 0 && before && strcmp(before, aidc_buf_str(&now)) == 0)
		goto out; /* unchanged */
	if (rc)
		goto out;
	config_diff(before ? before : "", aidc_buf_str(&now), &d);
	struct api_identity who = {.via = API_VIA_NONE, .uid = (uint32_t)geteuid()};
	struct passwd pw, *res = NULL;
	char pwbuf[4096];
	if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &res) == 0 && res)
		snprintf(who.user, sizeof who.user, "%s", res->pw_name);
	else
		snprintf(who.user, sizeof who.user, "%u", (unsigned)geteuid());
	struct store_audit a = {
	    .time_s = ctld_now_s(),
	    .actor_uid = who.uid,
	    .actor = who.user,
	    .via = "start",
	    .action = "config.change",
	    .target = "controller",
	    .target_uid = -1,
	    .detail = aidc_buf_str(&d),
	};
	if ((rc = store_begin(c->st, e)) != 0)
		goto out;
	if ((rc = c->st->ops->audit_add(c->st, &a, NULL, e)) != 0 ||
	    (rc = c->st->ops->meta_set(c->st, "config", aidc_buf_str(&now), e)) != 0) {
		store_rollback(c->st);
		goto out;
	}
	rc = store_commit(c->st, e);
out:
	aidc_free(before);
	aidc_buf_release(&now);
	aidc_buf_release(&d);
	return rc;
}

/* ---- reading ---------------------------------------------------------------------- */

struct audit_rows {
	struct aidc_json *w;
	uint64_t n, max, last_id;
	bool more;
};

/* Writes up to max rows; one row more only says that more remain (the walk
 * stops there with 1). */
static int audit_row(void *ctx, const struct store_audit *a)
{
	struct audit_rows *r = ctx;
	struct aidc_json *w = r->w;
	if (r->n == r->max) {
		r->more = true;
		return 1;
	}
	aidc_json_obj_begin(w);
	aidc_json_ki64(w, "id", (int64_t)a->id);
	aidc_json_ki64(w, "time_s", a->time_s);
	aidc_json_ki64(w, "actor_uid", a->actor_uid);
	aidc_json_kstr(w, "actor", a->actor);
	aidc_json_kstr(w, "via", a->via);
	aidc_json_kstr(w, "action", a->action);
	aidc_json_kstr(w, "target", a->target);
	aidc_json_ki64(w, "target_uid", a->target_uid);
	aidc_json_kstr(w, "detail", a->detail);
	aidc_json_obj_end(w);
	r->n++;
	r->last_id = a->id;
	return 0;
}

/* GET /v1/audit?since=S&until=S&actor=NAME&action=A&after=ID&limit=N */
int ctld_lf_audit_list(struct ctld *c, struct ctld_msg *m)
{
	const char *since = api_query(m->req, "since"), *until = api_query(m->req, "until"),
		   *after = api_query(m->req, "after"), *lim = api_query(m->req, "limit");
	int64_t limit = AIDC_MAX_ACCT_PAGE, after_id = 0;
	struct store_audit_query q = {
	    .uid = m->req->who.admin ? -1 : (int64_t)m->req->who.uid,
	    .actor = api_query(m->req, "actor"),
	    .action = api_query(m->req, "action"),
	    .since_s = INT64_MIN,
	};
	if (since && aidc_parse_i64(since, 0, INT64_MAX, &q.since_s))
		return aidc_errf(&m->err, AIDC_E_INVAL, "since: Unix seconds");
	if (until && aidc_parse_i64(until, 1, INT64_MAX, &q.until_s))
		return aidc_errf(&m->err, AIDC_E_INVAL, "until: Unix seconds (above 0)");
	if (after && aidc_parse_i64(after, 0, INT64_MAX, &after_id))
		return aidc_errf(&m->err, AIDC_E_INVAL, "after: a record id");
	if (lim && aidc_parse_i64(lim, 1, AIDC_MAX_ACCT_PAGE, &limit))
		return aidc_errf(&m->err, AIDC_E_INVAL, "limit: 1..%u records", AIDC_MAX_ACCT_PAGE);
	if (q.actor && !*q.actor)
		return aidc_errf(&m->err, AIDC_E_INVAL, "actor: a login name");
	if (q.action && !*q.action)
		return aidc_errf(&m->err, AIDC_E_INVAL,
				 "action: an action name (docs/accounting.md)");
	q.after_id = (uint64_t)after_id;
	q.limit = (uint64_t)limit + 1;
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_key(&w, "records");
	aidc_json_arr_begin(&w);
	struct audit_rows r = {.w = &w, .max = (uint64_t)limit};
	int rc = c->st->ops->audit_query(c->st, &q, audit_row, &r, &m->err);
	if (rc < 0)
		return rc;
	aidc_json_arr_end(&w);
	aidc_json_kbool(&w, "more", r.more);
	if (r.more)
		aidc_json_ki64(&w, "next_after", (int64_t)r.last_id);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}
