/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leadership of controllers that share one PostgreSQL database (issue 15
 * item 4, docs/ha.md). Every controller started on the database contends
 * for the leader lease (store_ops.lead_*); the one that holds it is the
 * controller, the others wait as standbys without listening, so agents and
 * clients configured with every controller's address reach the leader.
 *
 * A leader keeps its lease by renewing it: every group commit renews it in
 * the same message (a fenced commit: it stores nothing once another
 * controller has taken a newer term), and an idle loop renews it a third of
 * a lease after the last renewal. Before an iteration's replies leave, the
 * lease must have been renewed within half a lease (else it is renewed
 * first): a leader resumed after a pause longer than the lease finds itself
 * deposed and answers nothing, neither launch orders nor acknowledgements.
 * A leader whose renewals fail (the database slow or unreachable) keeps
 * answering for two thirds of a lease, then holds its replies while it
 * retries, and stops after a whole lease: a standby may lead by then.
 */
#include <time.h>
#include <unistd.h>

#include "ctld/ctld_int.h"
#include "util/util.h"

/* "host:pid" and the advertised URL of this controller. */
static void lead_me(const struct ctld *c, struct store_lead *me)
{
	memset(me, 0, sizeof *me);
	char host[64] = "?";
	gethostname(host, sizeof host - 1);
	snprintf(me->holder, sizeof me->holder, "%.64s:%ld", host, (long)getpid());
	if (c->cfg.advertise_url[0])
		snprintf(me->addr, sizeof me->addr, "%s", c->cfg.advertise_url);
	else
		snprintf(me->addr, sizeof me->addr, "%s://%.64s:%" PRId64,
			 c->cfg.tls_cert[0] ? "https" : "http", c->cfg.listen_addr, c->cfg.port);
}

static void nap_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL); /* a stop signal cuts it short */
}

/* One standby's word: who leads, once per change of leader or error. */
static void standby_note(const struct store_lead *cur, int rc, const struct aidc_err *e, char *last,
			 size_t n)
{
	char now[640];
	if (rc == AIDC_E_BUSY)
		snprintf(now, sizeof now,
			 "standby: %s at %s leads (term %" PRId64 "); waiting for its lease to "
			 "expire",
			 cur->holder, cur->addr, cur->term);
	else
		snprintf(now, sizeof now, "standby: %.400s; retrying", e->msg);
	if (strcmp(now, last) == 0)
		return;
	snprintf(last, n, "%s", now);
	aidc_log(rc == AIDC_E_BUSY ? AIDC_LOG_INFO : AIDC_LOG_WARN, "%s", now);
}

int ctld_lead_acquire(struct ctld *c, struct aidc_err *e)
{
	const struct store_ops *ops = c->st->ops;
	if (!ops->lead_acquire)
		return 0; /* one writer by construction */
	struct store_lead me, cur;
	lead_me(c, &me);
	int64_t lease = c->cfg.leader_lease_ms, nap = lease / 4 < 500 ? lease / 4 : 500;
	char last[640] = "";
	bool ready = false;
	for (;;) {
		struct aidc_err le = {0};
		int64_t t0 = ctld_now_ms();
		int rc = ops->lead_acquire(c->st, &me, lease, &cur, &le);
		if (rc == 0) {
			c->lead_term = cur.term;
			c->lead_ok_ms = t0;
			aidc_log(AIDC_LOG_INFO,
				 "leader: term %" PRId64 " (%s at %s; lease %" PRId64 " ms)",
				 cur.term, me.holder, me.addr, lease);
			return 0;
		}
		standby_note(&cur, rc, &le, last, sizeof last);
		if (!ready) { /* --background: a standby has started */
			aidc_daemon_ready("aidc controller: standby (%s)", c->db_shown);
			ready = true;
		}
		if (aidc_stop_signal()) {
			c->standby_stopped = true;
			return aidc_errf(e, AIDC_E_STATE, "stopped as a standby");
		}
		nap_ms(nap);
		if (aidc_stop_signal()) {
			c->standby_stopped = true;
			return aidc_errf(e, AIDC_E_STATE, "stopped as a standby");
		}
	}
}

void ctld_lead_renewed(struct ctld *c, int64_t t_ms)
{
	if (c->lead_term > 0)
		c->lead_ok_ms = t_ms;
}

bool ctld_lead_hold(struct ctld *c)
{
	if (c->lead_term <= 0)
		return true;
	int64_t lease = c->cfg.leader_lease_ms;
	if (ctld_now_ms() - c->lead_ok_ms < lease / 3)
		return true;
	for (;;) {
		struct aidc_err e = {0};
		int64_t sent = ctld_now_ms();
		int rc = c->st->ops->lead_renew(c->st, &e);
		if (rc == 0) {
			c->lead_ok_ms = sent;
			return true;
		}
		if (rc == AIDC_E_STATE) {
			aidc_log(AIDC_LOG_ERROR, "leader: %s; stopping", e.msg);
			break;
		}
		/* The database did not answer. Replies may leave while the lease
		 * surely holds; then the loop waits for a renewal (nothing can be
		 * committed meanwhile anyway); past a whole lease a standby may
		 * lead: stop. */
		int64_t age = ctld_now_ms() - c->lead_ok_ms;
		if (age < lease * 2 / 3)
			return true;
		if (age >= lease) {
			aidc_log(AIDC_LOG_ERROR,
				 "leader: the lease was not renewed for %" PRId64 " ms (%s); "
				 "stopping: a standby may lead now",
				 age, e.msg);
			break;
		}
		nap_ms(50);
	}
	c->lead_term = 0;
	c->deposed = true;
	return false;
}

void ctld_lead_release(struct ctld *c)
{
	if (c->lead_term <= 0 || !c->st || !c->st->ops->lead_release)
		return;
	c->st->ops->lead_release(c->st);
	aidc_log(AIDC_LOG_INFO, "leader: term %" PRId64 " handed over", c->lead_term);
	c->lead_term = 0;
}

/* Agents this run heard from (registration, heartbeat or request since the
 * nodes were restored), and those of them silent for at least silent_ms. */
static void agent_silence(const struct ctld *c, int64_t now, int64_t silent_ms, size_t *heard,
			  size_t *silent)
{
	*heard = *silent = 0;
	for (size_t i = 0; i < c->nnodes; i++) {
		int64_t seen = c->nodes[i].last_seen_ms;
		if (seen <= c->nodes_restored_ms)
			continue;
		(*heard)++;
		if (now - seen >= silent_ms)
			(*silent)++;
	}
}

void ctld_lead_check_agents(struct ctld *c, int64_t now)
{
	int64_t pct = c->cfg.leader_agent_loss_pct;
	if (c->lead_term <= 0 || pct <= 0 || !c->st->ops->lead_standbys ||
	    now < c->next_agents_check_ms)
		return;
	c->next_agents_check_ms = now + 1000;
	/* At least two heartbeat periods: one late heartbeat is no partition. */
	int64_t bound_s = c->cfg.leader_agent_loss_s, hb2 = 2 * ctld_heartbeat_s(c);
	if (bound_s < hb2)
		bound_s = hb2;
	size_t heard, silent;
	agent_silence(c, now, bound_s * 1000, &heard, &silent);
	if (heard == 0 || (int64_t)silent * 100 < pct * (int64_t)heard)
		return;
	int64_t standbys = 0;
	struct aidc_err e = {0};
	if (c->st->ops->lead_standbys(c->st, &standbys, &e) != 0 || standbys == 0) {
		if (now >= c->next_agent_loss_log_ms) {
			c->next_agent_loss_log_ms = now + 60000;
			aidc_log(AIDC_LOG_WARN,
				 "leader: %zu of the %zu agents heard from are silent for %" PRId64
				 " s or more, but no standby waits (%s): leading on",
				 silent, heard, bound_s, e.code ? e.msg : "none on the database");
		}
		return;
	}
	aidc_log(AIDC_LOG_ERROR,
		 "leader: %zu of the %zu agents heard from are silent for %" PRId64
		 " s or more (leader_agent_loss_pct %" PRId64 "), and %" PRId64
		 " standby(s) wait: stepping down (term %" PRId64 " released) so that one "
		 "that reaches them leads",
		 silent, heard, bound_s, pct, standbys, c->lead_term);
	c->stepped_down = true;
	c->fatal = true;
}
