/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fair share and multifactor priority as the controller shows them
 * (docs/tenancy.md "Fair share and multifactor priority"): GET /v1/share,
 * the fair-share tree behind `aidc share` (Slurm's sshare), and
 * GET /v1/jobs/{id}/priority, one job's factors behind `aidc priority`
 * (Slurm's sprio). The numbers are the core's (src/sched/fairshare.c),
 * brought up to now before each answer.
 *
 * Visibility follows the accounts: a caller sees the groups of the accounts
 * it may see (docs/tenancy.md "Isolation"), and of users in them only its
 * own unless it is an admin or coordinates the account.
 * Cost: /v1/share is O(G log G) for G core groups (the recalculation) plus
 * O(G log A) to filter; a job's priority O(1) after the recalculation.
 */
#include <float.h>
#include <math.h>

#include "ctld/ctld_int.h"
#include "util/util.h"

/* The account and user a core group stands for ("account A", "cohort A",
 * "user U in A"); false for a name of another form. */
static bool group_parse(const char *name, char *acct, size_t na, char *user, size_t nu)
{
	user[0] = '\0';
	if (!strncmp(name, "account ", 8)) {
		snprintf(acct, na, "%s", name + 8);
		return true;
	}
	if (!strncmp(name, "cohort ", 7)) {
		snprintf(acct, na, "%s", name + 7);
		return true;
	}
	const char *in = strstr(name, " in ");
	if (strncmp(name, "user ", 5) || !in)
		return false;
	snprintf(user, nu, "%.*s", (int)(in - name - 5), name + 5);
	snprintf(acct, na, "%s", in + 4);
	return true;
}

static bool sees_group(const struct ctld *c, const struct api_identity *who, const char *name)
{
	char acct[AIDC_MAX_NAME_BYTES + 8], user[AIDC_MAX_NAME_BYTES + 8];
	if (who->admin)
		return true;
	if (!group_parse(name, acct, sizeof acct, user, sizeof user))
		return false;
	const struct ctld_account *a = ctld_account_find(c, acct);
	if (!a || !ctld_tenancy_sees_account(c, who, a))
		return false;
	return !user[0] || !strcmp(user, who->user) || ctld_tenancy_coordinates(c, who, a);
}

/* level_fs is DBL_MAX for a group without usage: JSON null ("infinite"). */
static void kdouble(struct aidc_json *w, const char *key, double v)
{
	if (v >= DBL_MAX)
		v = INFINITY; /* written as null */
	aidc_json_kf64(w, key, v, 6);
}

int ctld_lf_share(struct ctld *c, struct ctld_msg *m)
{
	int64_t now = ctld_now_s();
	sched_fairshare_update(c->sched, now);
	const struct sched_config *sc = sched_get_config(c->sched);
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_kstr(&w, "order", sched_order_name(sc->order));
	aidc_json_ki64(&w, "at_s", now);
	aidc_json_ki64(&w, "half_life_s", sc->fs_half_life_s);
	aidc_json_key(&w, "groups");
	aidc_json_arr_begin(&w);
	uint32_t n = sched_group_count(c->sched);
	for (uint32_t g = 0; g < n; g++) {
		const char *name = sched_group_name(c->sched, g);
		struct sched_group_share sh;
		if (!name || !sees_group(c, &m->req->who, name) ||
		    sched_group_share(c->sched, g, &sh) != 0)
			continue;
		aidc_json_obj_begin(&w);
		aidc_json_kstr(&w, "name", name);
		aidc_json_key(&w, "parent");
		if (sh.parent >= 0)
			aidc_json_str(&w, sched_group_name(c->sched, (uint32_t)sh.parent));
		else
			aidc_json_null(&w);
		aidc_json_ki64(&w, "shares", sh.shares);
		aidc_json_kf64(&w, "norm_shares", sh.norm_shares, 6);
		aidc_json_kf64(&w, "usage_dev_s", sh.usage, 6);
		aidc_json_kf64(&w, "norm_usage", sh.norm_usage, 6);
		kdouble(&w, "level_fs", sh.level_fs);
		aidc_json_kf64(&w, "fairshare", sh.factor, 6);
		aidc_json_ki64(&w, "rank", sh.rank);
		aidc_json_obj_end(&w);
	}
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}

static void factor(struct aidc_json *w, const char *key, double f, int64_t weight)
{
	aidc_json_key(w, key);
	aidc_json_obj_begin(w);
	aidc_json_kf64(w, "factor", f, 6);
	aidc_json_ki64(w, "weight", weight);
	aidc_json_kf64(w, "value", f * (double)weight, 6);
	aidc_json_obj_end(w);
}

int ctld_job_priority_json(struct ctld *c, struct ctld_msg *m, const struct ctld_job *j)
{
	if (j->state != CTLD_JOB_PENDING || j->handle < 0)
		return aidc_errf(&m->err, AIDC_E_STATE,
				 "job %" PRIu64 " is not pending: priority explains pending jobs",
				 j->id);
	sched_fairshare_update(c->sched, ctld_now_s());
	struct sched_prio f;
	if (sched_job_prio(c->sched, (uint32_t)j->handle, &f) != 0)
		return aidc_errf(&m->err, AIDC_E_NOTFOUND, "job %" PRIu64 " is not queued", j->id);
	const struct sched_config *sc = sched_get_config(c->sched);
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_ki64(&w, "id", (int64_t)j->id);
	aidc_json_kstr(&w, "order", sched_order_name(sc->order));
	aidc_json_kbool(&w, "ordered_by_it", sc->order == SCHED_ORDER_MULTIFACTOR);
	aidc_json_ki64(&w, "at_s", f.at_s);
	aidc_json_ki64(&w, "priority", f.priority);
	aidc_json_ki64(&w, "nice", f.nice);
	factor(&w, "age", f.age, f.w_age);
	factor(&w, "fairshare", f.fairshare, f.w_fairshare);
	factor(&w, "size", f.size, f.w_size);
	factor(&w, "qos", f.qos, f.w_qos);
	factor(&w, "partition", f.partition, f.w_partition);
	aidc_json_key(&w, "fairshare_group");
	if (f.fs_group >= 0)
		aidc_json_str(&w, sched_group_name(c->sched, (uint32_t)f.fs_group));
	else
		aidc_json_null(&w);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}
