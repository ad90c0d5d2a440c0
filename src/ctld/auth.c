/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-user API tokens in the controller: the loop functions behind
 * POST /v1/tokens, GET /v1/tokens and POST /v1/tokens/{id}/revoke, and the
 * check of a presented bearer token (api_token_fn) that maps it to the uid
 * and name it was created for, with that user's current primary gid.
 *
 * Rules (docs/security.md): a token is created by a user proven by
 * SO_PEERCRED on the Unix socket (never by another token, so a stolen token
 * cannot mint more), for that user, or by root for any local user. The
 * secret is printed once; the store keeps only its SHA-256. Listing never
 * shows hashes. Users list and revoke their own tokens; admins all.
 *
 * Cost: a token check is one loop round trip, one row read by primary key
 * and one constant-time comparison of two 64-digit hashes.
 */
#include <pwd.h>

#include "ctld/ctld_int.h"
#include "util/util.h"

/* What the HTTP thread hands the loop for a token check. */
struct token_check {
	uint64_t id;
	char hash[API_HASH_HEX + 1];
	struct api_identity *who; /* borrowed: filled on success */
};

static int lf_token_check(struct ctld *c, struct ctld_msg *m)
{
	struct token_check *tc = m->body;
	struct store_token t;
	struct aidc_err ignore = {0};
	if (c->st->ops->token_get(c->st, tc->id, &t, &ignore) != 0)
		return aidc_errf(&m->err, AIDC_E_AUTH, "unknown token");
	int rc = 0;
	/* Compare before looking at the state, so a revoked or expired token
	 * answers the same as a wrong one unless its secret is right. */
	if (!api_const_equal(t.hash_hex, tc->hash))
		rc = aidc_errf(&m->err, AIDC_E_AUTH, "unknown token");
	else if (t.revoked_s)
		rc = aidc_errf(&m->err, AIDC_E_AUTH, "token %" PRIu64 " was revoked", t.id);
	else if (t.expires_s && t.expires_s <= ctld_now_s())
		rc = aidc_errf(&m->err, AIDC_E_AUTH, "token %" PRIu64 " has expired", t.id);
	if (rc == 0) {
		tc->who->uid = t.uid;
		tc->who->gid = t.gid;
		tc->who->token_id = t.id;
		snprintf(tc->who->user, sizeof tc->who->user, "%.63s", t.user ? t.user : "");
	}
	store_token_release(&t);
	return rc;
}

/* A job's credential (API_JOB_CRED_PREFIX): valid while that attempt of the
 * job runs; it stands for the job's user, scoped to the job (job_scope). */
struct job_cred_check {
	int64_t job, attempt;
	struct api_identity *who; /* borrowed: filled on success */
};

static int lf_job_cred_check(struct ctld *c, struct ctld_msg *m)
{
	struct job_cred_check *jc = m->body;
	const struct ctld_job *j = ctld_job_find(c, (uint64_t)jc->job);
	if (!j || j->state != CTLD_JOB_RUNNING || j->attempt != jc->attempt)
		return aidc_errf(&m->err, AIDC_E_AUTH,
				 "the credential of job %" PRId64 " attempt %" PRId64
				 ": that attempt does not run",
				 jc->job, jc->attempt);
	jc->who->uid = j->uid;
	jc->who->gid = j->gid;
	jc->who->job_scope = jc->job;
	snprintf(jc->who->user, sizeof jc->who->user, "%.63s", j->user ? j->user : "");
	return 0;
}

static int job_cred_check(struct ctld *c, const char *cred, struct api_identity *who,
			  struct aidc_err *e)
{
	struct job_cred_check jc = {.who = who};
	char want[API_JOB_CRED_MAX];
	if (!api_job_cred_parse(cred, &jc.job, &jc.attempt) ||
	    api_job_cred(c->secret, jc.job, jc.attempt, want, e) != 0 ||
	    !api_const_equal(want, cred)) {
		explicit_bzero(want, sizeof want);
		return aidc_errf(e, AIDC_E_AUTH, "invalid job credential");
	}
	explicit_bzero(want, sizeof want);
	struct ctld_msg m;
	return ctld_call(c, lf_job_cred_check, NULL, NULL, &jc, &m, e);
}

int ctld_token_check(void *ctx, const char *token, struct api_identity *who, struct aidc_err *e)
{
	if (!strncmp(token, API_JOB_CRED_PREFIX, strlen(API_JOB_CRED_PREFIX)))
		return job_cred_check(ctx, token, who, e);
	struct token_check tc = {.who = who};
	int rc = api_token_parse(token, &tc.id, tc.hash, e);
	if (rc)
		return rc;
	struct ctld_msg m;
	if ((rc = ctld_call(ctx, lf_token_check, NULL, NULL, &tc, &m, e)) != 0)
		return rc;
	/* The gid (and so the admin role and the gid jobs run with) is the user's
	 * as of now, not as of the token's creation; a user deleted (or whose uid
	 * now names someone else) no longer has a valid token. Looked up here, in
	 * the HTTP thread, so NSS never blocks the loop. */
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(who->uid, &pw, buf, sizeof buf, &res) != 0 || !res ||
	    strcmp(pw.pw_name, who->user) != 0)
		return aidc_errf(e, AIDC_E_AUTH,
				 "token %" PRIu64 ": its user '%.64s' (uid %u) no longer exists",
				 who->token_id, who->user, (unsigned)who->uid);
	who->gid = pw.pw_gid;
	return 0;
}

static void token_json(struct aidc_json *w, const struct store_token *t, int64_t now_s)
{
	const char *state = t->revoked_s			    ? "revoked"
			    : t->expires_s && t->expires_s <= now_s ? "expired"
								    : "active";
	aidc_json_obj_begin(w);
	aidc_json_key(w, "id");
	aidc_json_u64(w, t->id);
	aidc_json_key(w, "name");
	aidc_json_str(w, t->name ? t->name : "");
	aidc_json_key(w, "user");
	aidc_json_str(w, t->user ? t->user : "");
	aidc_json_key(w, "uid");
	aidc_json_u64(w, t->uid);
	aidc_json_key(w, "created_s");
	aidc_json_i64(w, t->created_s);
	aidc_json_key(w, "expires_s");
	aidc_json_i64(w, t->expires_s);
	aidc_json_key(w, "revoked_s");
	aidc_json_i64(w, t->revoked_s);
	aidc_json_key(w, "state");
	aidc_json_str(w, state);
	aidc_json_obj_end(w);
}

/* Live tokens of uid, to bound how many one user holds. */
struct live_count {
	int64_t now_s;
	uint32_t n;
};

static int count_live(void *ctx, const struct store_token *t)
{
	struct live_count *lc = ctx;
	if (!t->revoked_s && (!t->expires_s || t->expires_s > lc->now_s))
		lc->n++;
	return 0;
}

/* The uid/gid/name a new token stands for: the caller, or (root only) --user.
 * The gid stored is the user's primary group (passwd), not the caller's
 * effective gid; checks use the current one anyway (ctld_token_check). */
static int token_owner(struct ctld_msg *m, const struct api_token_create *b, struct store_token *t)
{
	const struct api_identity *who = &m->req->who;
	struct passwd pw, *res = NULL;
	char buf[4096];
	bool self = !b->user || strcmp(b->user, who->user) == 0;
	/* Minting a token for someone else is acting as them: root's alone (an
	 * admin_group member could otherwise become root). docs/security.md. */
	if (!self && who->uid != 0)
		return aidc_errf(&m->err, AIDC_E_PERM,
				 "only root creates tokens for another user (you are '%.64s')",
				 who->user);
	int r = self ? getpwuid_r(who->uid, &pw, buf, sizeof buf, &res)
		     : getpwnam_r(b->user, &pw, buf, sizeof buf, &res);
	if (r != 0 || !res) {
		if (self)
			return aidc_errf(&m->err, AIDC_E_NOTFOUND, "uid %u has no local user entry",
					 (unsigned)who->uid);
		return aidc_errf(&m->err, AIDC_E_NOTFOUND, "no local user '%.64s'", b->user);
	}
	t->uid = pw.pw_uid;
	t->gid = pw.pw_gid;
	t->user = aidc_strdup(pw.pw_name);
	return 0;
}

int ctld_lf_token_create(struct ctld *c, struct ctld_msg *m)
{
	const struct api_token_create *b = m->body;
	if (m->req->who.via != API_VIA_SOCKET)
		return aidc_errf(&m->err, AIDC_E_PERM,
				 "tokens are created over the controller's Unix socket "
				 "(identity by SO_PEERCRED), not with a token or MUNGE credential");
	struct store_token t = {0};
	int rc = token_owner(m, b, &t);
	if (rc)
		goto out;
	int64_t now = ctld_now_s();
	struct live_count lc = {.now_s = now};
	if ((rc = c->st->ops->token_list(c->st, t.uid, count_live, &lc, &m->err)) != 0)
		goto out;
	if (lc.n >= AIDC_MAX_TOKENS_PER_USER) {
		rc = aidc_errf(&m->err, AIDC_E_LIMIT,
			       "%s holds %u live tokens already (limit); revoke one first", t.user,
			       lc.n);
		goto out;
	}
	char secret[API_TOKEN_SECRET_HEX + 1], hash[API_HASH_HEX + 1];
	if ((rc = api_token_secret_new(secret, hash, &m->err)) != 0)
		goto out;
	t.name = aidc_strdup(b->name ? b->name : "");
	t.hash_hex = aidc_strdup(hash);
	t.created_s = now;
	t.expires_s = b->expires_s ? now + b->expires_s : 0;
	if ((rc = ctld_tx_begin(c, &m->err)) != 0)
		goto wipe;
	if ((rc = c->st->ops->token_add(c->st, &t, &t.id, &m->err)) != 0) {
		ctld_tx_rollback(c);
		goto wipe;
	}
	if ((rc = ctld_tx_release(c, &m->err)) != 0)
		goto wipe;
	m->resp->status = 201;
	/* The reply goes out after the group commit: a printed token is durable. */
	aidc_buf_printf(&m->resp->body,
			"{\"token\":\"" API_TOKEN_PREFIX "%" PRIu64 "_%s\",\"info\":", t.id,
			secret);
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	token_json(&w, &t, now);
	rc = aidc_json_finish(&w);
	if (rc == 0)
		rc = aidc_buf_puts(&m->resp->body, "}");
wipe:
	explicit_bzero(secret, sizeof secret);
out:
	store_token_release(&t);
	return rc;
}

struct token_rows {
	struct aidc_json *w;
	int64_t now_s;
};

static int list_row(void *ctx, const struct store_token *t)
{
	struct token_rows *r = ctx;
	token_json(r->w, t, r->now_s);
	return 0;
}

int ctld_lf_token_list(struct ctld *c, struct ctld_msg *m)
{
	const struct api_identity *who = &m->req->who;
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_key(&w, "tokens");
	aidc_json_arr_begin(&w);
	struct token_rows r = {.w = &w, .now_s = ctld_now_s()};
	int rc = c->st->ops->token_list(c->st, who->admin ? -1 : (int64_t)who->uid, list_row, &r,
					&m->err);
	if (rc)
		return rc;
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}

int ctld_lf_token_revoke(struct ctld *c, struct ctld_msg *m)
{
	int64_t id;
	struct store_token t = {0};
	struct aidc_err ignore = {0};
	if (aidc_parse_i64(m->req->params[0], 1, INT64_MAX, &id) != 0 ||
	    c->st->ops->token_get(c->st, (uint64_t)id, &t, &ignore) != 0 ||
	    (!m->req->who.admin && t.uid != m->req->who.uid)) {
		store_token_release(&t);
		/* Another user's token answers like a missing one. */
		return aidc_errf(&m->err, AIDC_E_NOTFOUND, "no token %.32s", m->req->params[0]);
	}
	int64_t now = ctld_now_s();
	int rc = ctld_tx_begin(c, &m->err);
	if (rc == 0 && (rc = c->st->ops->token_revoke(c->st, t.id, now, &m->err)) != 0)
		ctld_tx_rollback(c);
	else if (rc == 0)
		rc = ctld_tx_release(c, &m->err);
	if (rc == 0) {
		if (!t.revoked_s)
			t.revoked_s = now;
		struct aidc_json w;
		aidc_json_init(&w, &m->resp->body, false);
		token_json(&w, &t, now);
		rc = aidc_json_finish(&w);
	}
	store_token_release(&t);
	return rc;
}
