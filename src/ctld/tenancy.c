/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tenancy in the controller (docs/tenancy.md): accounts (organizations and
 * the projects inside them), users and their associations with accounts, and
 * QoS levels; the routes behind `aidc account|user|qos`, and the submit check
 * that resolves a job's account and QoS and enforces who may do what.
 *
 * Model: one account tree two levels deep, organizations (parent "") and
 * projects (parent = an organization). A user is associated with accounts
 * and has a default one. Roles: admin (root or admin_group), coordinator of
 * an account (named in its coordinators or its organization's: manages the
 * users and limits of that subtree, as Slurm's coordinators), user.
 *
 * Storage: each object is one row of the store's tenancy table, a versioned
 * JSON document (TEN_DOC_VERSION) written from the same field tables that
 * decode API bodies, so what is stored is exactly what the API shows.
 * Every change is validated on a copy and committed before it replaces the
 * object in memory: a refused or failed change changes nothing.
 *
 * Cost: lookups are binary searches over sorted arrays; the submit check is
 * O(log accounts + log users + live jobs) (counting the live jobs of the
 * account and user against their submit limits).
 */
#include <jansson.h>
#include <strings.h>
#include <stddef.h>

#include "ctld/ctld_int.h"
#include "util/util.h"

#define TEN_DOC_VERSION 1

static void groups_update(struct ctld *c, const struct ctld_account *a);
static bool sees_account(const struct ctld *c, const struct api_identity *who,
			 const struct ctld_account *a);

/* ---- sorted sets ------------------------------------------------------------- */

/* Index of name in the set, or where it would go; *found says which. */
static size_t tset_pos(const struct ctld_tset *t, const char *name, bool *found)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp((const char *)t->v[mid], name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < t->n && strcmp((const char *)t->v[lo], name) == 0;
	return lo;
}

static void *tset_find(const struct ctld_tset *t, const char *name)
{
	bool found;
	size_t i = name ? tset_pos(t, name, &found) : 0;
	return name && found ? t->v[i] : NULL;
}

/* Puts x in (replacing the element of the same name, which is returned). */
static void *tset_put(struct ctld_tset *t, void *x)
{
	bool found;
	size_t i = tset_pos(t, (const char *)x, &found);
	if (found) {
		void *old = t->v[i];
		t->v[i] = x;
		return old;
	}
	AIDC_GROW(t->v, t->cap, t->n + 1);
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof *t->v);
	t->v[i] = x;
	t->n++;
	return NULL;
}

static void *tset_remove(struct ctld_tset *t, const char *name)
{
	bool found;
	size_t i = tset_pos(t, name, &found);
	if (!found)
		return NULL;
	void *x = t->v[i];
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof *t->v);
	t->n--;
	return x;
}

/* ---- names ------------------------------------------------------------------- */

static bool names_has(const struct ctld_names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

static void names_add(struct ctld_names *l, const char *name)
{
	l->v = aidc_reallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = aidc_strdup(name);
}

static void names_del(struct ctld_names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0) {
			aidc_free(l->v[i]);
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
			l->n--;
			return;
		}
}

static void names_release(struct ctld_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		aidc_free(l->v[i]);
	aidc_free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void names_copy(struct ctld_names *dst, const struct ctld_names *src)
{
	struct ctld_names d = {0};
	for (size_t i = 0; i < src->n; i++)
		names_add(&d, src->v[i]);
	*dst = d;
}

/* Account, user and QoS names: 1..63 of [A-Za-z0-9_.-], starting with a
 * letter, digit or '_' (login names fit; nothing needs quoting anywhere). */
static int check_name(const char *what, const char *s, struct aidc_err *e)
{
	size_t n = strlen(s);
	bool ok = n >= 1 && n <= 63 && s[0] != '-' && s[0] != '.';
	for (size_t i = 0; ok && i < n; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		     (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-';
	if (!ok)
		return aidc_errf(e, AIDC_E_INVAL,
				 "%s: '%.64s' is not a valid name (1-63 of A-Z a-z 0-9 _ . -, not "
				 "starting with - or .)",
				 what, s);
	return 0;
}

/* ---- field tables: API bodies and stored documents ------------------------------- */

enum ftype { T_STR, T_NAMES, T_I64 };
enum {
	F_COORD = 1u << 0,  /* a coordinator of the account may set it */
	F_CREATE = 1u << 1, /* set only when the object is created */
	F_READONLY = 1u << 2, /* assigned by the controller; read back from the store only */
	F_PAIRS = 1u << 3,    /* T_NAMES of "NAME=N", N in 1..max, each NAME once */
	F_MODELS = 1u << 4,   /* F_PAIRS of "gpu:MODEL=N", N in 0..max (account_models) */
};

struct tfield {
	const char *key;
	enum ftype t;
	size_t off, size; /* T_STR: the size of the char array */
	int64_t min, max; /* T_I64 */
	unsigned flags;
	const char *help;
};

#define FSTR(S, k, m, fl, h) {k, T_STR, offsetof(S, m), sizeof(((S *)0)->m), 0, 0, fl, h}
#define FNAMES(S, k, m, fl, h) {k, T_NAMES, offsetof(S, m), 0, 0, 0, fl, h}
#define FPAIRS(S, k, m, hi, fl, h) {k, T_NAMES, offsetof(S, m), 0, 1, hi, (fl) | F_PAIRS, h}
#define FMODELS(S, k, m, h) {k, T_NAMES, offsetof(S, m), 0, 0, LIM, F_PAIRS | F_MODELS, h}
#define FI64(S, k, m, lo, hi, fl, h) {k, T_I64, offsetof(S, m), 0, lo, hi, fl, h}
#define LIM AIDC_MAX_TENANCY_LIMIT

static const struct tfield account_fields[] = {
	FSTR(struct ctld_account, "parent", parent, F_CREATE | F_COORD,
	     "its organization (an account without a parent); absent for an organization"),
	FSTR(struct ctld_account, "description", description, F_COORD, "free text"),
	FNAMES(struct ctld_account, "coordinators", coordinators, 0,
	       "users who manage this account's (and, for an organization, its projects') users "
	       "and limits"),
	FNAMES(struct ctld_account, "qos", qos, 0, "QoS its users may choose"),
	FSTR(struct ctld_account, "default_qos", default_qos, 0,
	     "QoS of jobs that name none (one of qos)"),
	FI64(struct ctld_account, "max_running_jobs", limits.max_running_jobs, -1, LIM, F_COORD,
	     "running jobs of the whole account (-1 none)"),
	FI64(struct ctld_account, "max_submit_jobs", limits.max_submit_jobs, -1, LIM, F_COORD,
	     "jobs not yet ended of the whole account (-1 none)"),
	FI64(struct ctld_account, "max_devices", limits.max_devices, -1, LIM, F_COORD,
	     "devices held by the account's running jobs (-1 none)"),
	FI64(struct ctld_account, "max_running_jobs_per_user", user_limits.max_running_jobs, -1,
	     LIM, F_COORD, "running jobs of each user in the account (-1 none)"),
	FI64(struct ctld_account, "max_submit_jobs_per_user", user_limits.max_submit_jobs, -1,
	     LIM, F_COORD, "jobs not yet ended of each user in the account (-1 none)"),
	FI64(struct ctld_account, "max_devices_per_user", user_limits.max_devices, -1, LIM,
	     F_COORD, "devices held by each user's running jobs in the account (-1 none)"),
	FI64(struct ctld_account, "quota_devices", quota_devices, -1, LIM, 0,
	     "a project's nominal quota of devices, lent to its organization's other projects "
	     "while unused and reclaimed by preemption; an organization's: a cap on its "
	     "projects' devices together (-1 none)"),
	FI64(struct ctld_account, "borrow_limit", borrow_limit, -1, LIM, 0,
	     "devices it may borrow beyond its quota (-1 what the organization has)"),
	FI64(struct ctld_account, "lend_limit", lend_limit, -1, LIM, 0,
	     "devices of its unused quota the others may borrow (-1 all)"),
	FI64(struct ctld_account, "quota_cpus", quota_cpus, -1, LIM, 0,
	     "as quota_devices, of CPU cores (-1 none)"),
	FI64(struct ctld_account, "borrow_limit_cpus", borrow_limit_cpus, -1, LIM, 0,
	     "cores it may borrow beyond its quota (-1 what the organization has)"),
	FI64(struct ctld_account, "lend_limit_cpus", lend_limit_cpus, -1, LIM, 0,
	     "cores of its unused quota the others may borrow (-1 all)"),
	FI64(struct ctld_account, "quota_mem_gib", quota_mem_gib, -1, LIM, 0,
	     "as quota_devices, of memory in GiB (-1 none)"),
	FI64(struct ctld_account, "borrow_limit_mem_gib", borrow_limit_mem_gib, -1, LIM, 0,
	     "GiB it may borrow beyond its quota (-1 what the organization has)"),
	FI64(struct ctld_account, "lend_limit_mem_gib", lend_limit_mem_gib, -1, LIM, 0,
	     "GiB of its unused quota the others may borrow (-1 all)"),
	FI64(struct ctld_account, "shares", shares, 1, LIM, 0,
	     "fair share among its sibling accounts (default 1): order = multifactor ranks "
	     "accounts by shares over decayed usage"),
	FMODELS(struct ctld_account, "quota_models", quota_models,
		"quotas per device model, as \"gpu:MODEL=N\" (a known model, any case): a "
		"project's nominal devices of that model, lent and reclaimed as quota_devices; an "
		"organization's: a cap on its projects' devices of that model together"),
	FMODELS(struct ctld_account, "borrow_limit_models", borrow_limit_models,
		"\"gpu:MODEL=N\": devices of that model it may borrow beyond its quota_models "
		"entry (none listed: what the organization has)"),
	FMODELS(struct ctld_account, "lend_limit_models", lend_limit_models,
		"\"gpu:MODEL=N\": devices of its unused quota of that model the others may "
		"borrow (none listed: all)"),
};

static const struct tfield user_fields[] = {
	FNAMES(struct ctld_tuser, "accounts", accounts, F_COORD, "accounts the user may charge"),
	FSTR(struct ctld_tuser, "default_account", default_account, F_COORD,
	     "account of jobs that name none (one of accounts; default the first)"),
	FI64(struct ctld_tuser, "shares", shares, 1, LIM, 0,
	     "fair share among the users of each of its accounts (default 1): order = "
	     "multifactor ranks them by shares over decayed usage"),
	FPAIRS(struct ctld_tuser, "account_shares", account_shares, LIM, 0,
	       "its shares in single accounts, as \"ACCOUNT=N\" (Slurm's fair share per "
	       "association); shares applies in the others"),
};

static const struct tfield qos_fields[] = {
	FI64(struct ctld_qos, "id", id, 1, AIDC_MAX_QOS, F_READONLY,
	     "its preemption class, assigned when it is added"),
	FSTR(struct ctld_qos, "description", description, 0, "free text"),
	FI64(struct ctld_qos, "priority", priority, AIDC_MIN_PRIORITY, AIDC_MAX_PRIORITY, 0,
	     "added to each job's own priority"),
	FNAMES(struct ctld_qos, "preempt", preempt, 0,
	       "QoS whose preemptible jobs this QoS's jobs may preempt"),
	FI64(struct ctld_qos, "max_wall_s", max_wall_s, 0, AIDC_MAX_DURATION_S, 0,
	     "longest time limit (0 none); jobs without one get it"),
	FI64(struct ctld_qos, "max_submit_jobs_per_user", max_submit_jobs_per_user, -1, LIM, 0,
	     "jobs not yet ended of each user in this QoS (-1 none)"),
};

struct tkind {
	const char *kind; /* store kind and error wording */
	const struct tfield *f;
	size_t nf;
	size_t size;
};
static const struct tkind K_ACCOUNT = {"account", account_fields,
				       AIDC_ARRAY_LEN(account_fields), sizeof(struct ctld_account)};
static const struct tkind K_USER = {"user", user_fields, AIDC_ARRAY_LEN(user_fields),
				    sizeof(struct ctld_tuser)};
static const struct tkind K_QOS = {"qos", qos_fields, AIDC_ARRAY_LEN(qos_fields),
				   sizeof(struct ctld_qos)};

static void *fptr(void *obj, const struct tfield *f)
{
	return (char *)obj + f->off;
}

static void obj_free(const struct tkind *k, void *obj)
{
	if (!obj)
		return;
	for (size_t i = 0; i < k->nf; i++)
		if (k->f[i].t == T_NAMES)
			names_release(fptr(obj, &k->f[i]));
	aidc_free(obj);
}

static void *obj_copy(const struct tkind *k, const void *src)
{
	void *d = aidc_malloc(k->size);
	memcpy(d, src, k->size);
	for (size_t i = 0; i < k->nf; i++)
		if (k->f[i].t == T_NAMES)
			names_copy(fptr(d, &k->f[i]), fptr((void *)src, &k->f[i]));
	return d;
}

/* A new object with every limit -1 (none) and everything else empty. */
static void *obj_new(const struct tkind *k, const char *name)
{
	void *d = aidc_calloc(1, k->size);
	snprintf(d, AIDC_MAX_NAME_BYTES, "%s", name);
	for (size_t i = 0; i < k->nf; i++)
		if (k->f[i].t == T_I64 && k->f[i].min < 0 && k->f[i].min == -1)
			*(int64_t *)fptr(d, &k->f[i]) = -1;
	if (k == &K_ACCOUNT)
		((struct ctld_account *)d)->shares = 1;
	if (k == &K_USER)
		((struct ctld_tuser *)d)->shares = 1;
	return d;
}

static const struct tfield *field_find(const struct tkind *k, const char *key)
{
	for (size_t i = 0; i < k->nf; i++)
		if (strcmp(k->f[i].key, key) == 0)
			return &k->f[i];
	return NULL;
}

/* The index of name's entry "NAME=N" in a F_PAIRS list, or -1. */
static ptrdiff_t pair_index(const struct ctld_names *l, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < l->n; i++)
		if (!strncmp(l->v[i], name, n) && l->v[i][n] == '=')
			return (ptrdiff_t)i;
	return -1;
}

/* The number of name's entry in a F_PAIRS list, or 0. */
static int64_t pair_value(const struct ctld_names *l, const char *name)
{
	ptrdiff_t i = pair_index(l, name);
	return i < 0 ? 0 : strtoll(l->v[i] + strlen(name) + 1, NULL, 10);
}

/* An entry "NAME=N" of a F_PAIRS field: a valid name not yet in l, N in
 * f->min..f->max. */
static int check_pair(const struct tkind *k, const struct tfield *f, const struct ctld_names *l,
		      const char *s, struct aidc_err *e)
{
	const char *eq = strchr(s, '=');
	char name[AIDC_MAX_NAME_BYTES];
	int64_t v;
	if (!eq || (size_t)(eq - s) >= sizeof name ||
	    aidc_parse_i64(eq + 1, f->min, f->max, &v) != 0)
		return aidc_errf(e, AIDC_E_INVAL,
				 "%s: '%s' entry '%.64s' is not NAME=N with N in %" PRId64
				 "..%" PRId64,
				 k->kind, f->key, s, f->min, f->max);
	snprintf(name, sizeof name, "%.*s", (int)(eq - s), s);
	if ((f->flags & F_MODELS) && strncmp(name, "gpu:", 4) != 0)
		return aidc_errf(e, AIDC_E_INVAL,
				 "%s: '%s' entry '%.64s' is not gpu:MODEL=N (e.g. gpu:A100=8)",
				 k->kind, f->key, s);
	int rc = check_name(f->key, (f->flags & F_MODELS) ? name + 4 : name, e);
	if (rc == 0 && pair_index(l, name) >= 0)
		rc = aidc_errf(e, AIDC_E_INVAL, "%s: '%s' names '%s' twice", k->kind, f->key,
			       name);
	return rc;
}

static int set_names(const struct tkind *k, const struct tfield *f, void *obj, json_t *v,
		     struct aidc_err *e)
{
	if (!json_is_array(v))
		return aidc_errf(e, AIDC_E_INVAL, "%s: '%s' must be an array of names", k->kind,
				 f->key);
	if (json_array_size(v) > AIDC_MAX_TENANCY_LIST)
		return aidc_errf(e, AIDC_E_LIMIT, "%s: '%s' has more than %u names", k->kind, f->key,
				 AIDC_MAX_TENANCY_LIST);
	struct ctld_names l = {0};
	size_t i;
	json_t *x;
	int rc = 0;
	json_array_foreach(v, i, x)
	{
		const char *s = json_string_value(x);
		if (!s) {
			rc = aidc_errf(e, AIDC_E_INVAL, "%s: '%s'[%zu] is not a string", k->kind,
				       f->key, i);
			break;
		}
		if ((f->flags & F_PAIRS) && (rc = check_pair(k, f, &l, s, e)) != 0)
			break;
		if (!(f->flags & F_PAIRS) && (rc = check_name(f->key, s, e)) != 0)
			break;
		if (names_has(&l, s)) {
			rc = aidc_errf(e, AIDC_E_INVAL, "%s: '%s' names '%s' twice", k->kind, f->key,
				       s);
			break;
		}
		names_add(&l, s);
	}
	if (rc) {
		names_release(&l);
		return rc;
	}
	names_release(fptr(obj, f));
	*(struct ctld_names *)fptr(obj, f) = l;
	return 0;
}

/*
 * Applies the members of body to obj (a copy the caller owns). "name" and
 * "v" are skipped (the caller's); keys in skip (NULL-terminated) too.
 * Unknown keys, wrong types and values out of range are refused naming the
 * key; a non-admin may set only F_COORD fields; F_CREATE fields only when
 * creating.
 */
static int obj_apply(const struct tkind *k, void *obj, json_t *body, bool admin, bool creating,
		     bool loading, const char *const *skip, struct aidc_err *e)
{
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v)
	{
		if (!strcmp(key, "name") || !strcmp(key, "v"))
			continue;
		bool skipped = false;
		for (size_t i = 0; skip && skip[i]; i++)
			skipped |= strcmp(skip[i], key) == 0;
		if (skipped)
			continue;
		const struct tfield *f = field_find(k, key);
		if (!f) {
			char known[512] = "";
			size_t l = 0;
			for (size_t i = 0; i < k->nf && l < sizeof known; i++)
				l += (size_t)snprintf(known + l, sizeof known - l, "%s%s",
						      i ? ", " : "", k->f[i].key);
			return aidc_errf(e, AIDC_E_INVAL, "%s: unknown field '%.64s' (known: %s)",
					 k->kind, key, known);
		}
		if (!loading && (f->flags & F_READONLY))
			return aidc_errf(e, AIDC_E_INVAL, "%s: '%s' is assigned by the controller",
					 k->kind, f->key);
		if (!admin && !(f->flags & F_COORD))
			return aidc_errf(e, AIDC_E_PERM, "%s: only admins set '%s'", k->kind, f->key);
		if (!creating && (f->flags & F_CREATE))
			return aidc_errf(e, AIDC_E_INVAL, "%s: '%s' is set only when it is added",
					 k->kind, f->key);
		int rc = 0;
		switch (f->t) {
		case T_STR: {
			const char *s = json_string_value(v);
			if (!s)
				return aidc_errf(e, AIDC_E_INVAL, "%s: '%s' must be a string", k->kind,
						 f->key);
			if (strlen(s) >= f->size)
				return aidc_errf(e, AIDC_E_LIMIT, "%s: '%s' is longer than %zu bytes",
						 k->kind, f->key, f->size - 1);
			snprintf(fptr(obj, f), f->size, "%s", s);
			break;
		}
		case T_NAMES:
			rc = set_names(k, f, obj, v, e);
			break;
		case T_I64: {
			if (!json_is_integer(v) || json_integer_value(v) < f->min ||
			    json_integer_value(v) > f->max)
				return aidc_errf(e, AIDC_E_INVAL,
						 "%s: '%s' must be an integer in %" PRId64 "..%" PRId64
						 " (-1 = no limit where allowed)",
						 k->kind, f->key, f->min, f->max);
			*(int64_t *)fptr(obj, f) = json_integer_value(v);
			break;
		}
		}
		if (rc)
			return rc;
	}
	return 0;
}

static void names_json(struct aidc_json *w, const char *key, const struct ctld_names *l)
{
	aidc_json_key(w, key);
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < l->n; i++)
		aidc_json_str(w, l->v[i]);
	aidc_json_arr_end(w);
}

/* Writes the object's members (no braces): the stored document and the API. */
static void obj_members(const struct tkind *k, const void *obj, struct aidc_json *w)
{
	aidc_json_ki64(w, "v", TEN_DOC_VERSION);
	aidc_json_kstr(w, "name", obj);
	for (size_t i = 0; i < k->nf; i++) {
		const struct tfield *f = &k->f[i];
		void *p = fptr((void *)obj, f);
		if (f->t == T_STR)
			aidc_json_kstr(w, f->key, p);
		else if (f->t == T_I64)
			aidc_json_ki64(w, f->key, *(int64_t *)p);
		else
			names_json(w, f->key, p);
	}
}

/* Writes the object's row (inside the iteration's transaction). */
static int obj_store(struct ctld *c, const struct tkind *k, const void *obj, struct aidc_err *e)
{
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_HTTP_BODY_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	obj_members(k, obj, &w);
	aidc_json_obj_end(&w);
	int rc = aidc_json_finish(&w);
	if (rc)
		rc = aidc_errf(e, rc, "%s '%s': document too large", k->kind, (const char *)obj);
	if (rc == 0 && (rc = ctld_tx_begin(c, e)) == 0) {
		if ((rc = c->st->ops->tenancy_put(c->st, k->kind, obj, aidc_buf_str(&b), e)) != 0)
			ctld_tx_rollback(c);
		else
			rc = ctld_tx_release(c, e);
	}
	aidc_buf_release(&b);
	return rc;
}

static int obj_unstore(struct ctld *c, const struct tkind *k, const char *name, struct aidc_err *e)
{
	int rc = ctld_tx_begin(c, e);
	if (rc)
		return rc;
	if ((rc = c->st->ops->tenancy_delete(c->st, k->kind, name, e)) != 0) {
		ctld_tx_rollback(c);
		return rc;
	}
	return ctld_tx_release(c, e);
}

/* ---- lookups and roles ------------------------------------------------------------ */

const struct ctld_account *ctld_account_find(const struct ctld *c, const char *name)
{
	return tset_find(&c->ten.acct, name);
}

const struct ctld_qos *ctld_qos_find(const struct ctld *c, const char *name)
{
	return tset_find(&c->ten.qos, name);
}

static struct ctld_tuser *user_find(const struct ctld *c, const char *name)
{
	return tset_find(&c->ten.users, name);
}

static bool tenancy_on(const struct ctld *c)
{
	return c->ten.acct.n > 0;
}

/* Whether who coordinates account a: named in its coordinators or in its
 * organization's. */
static bool coordinates(const struct ctld *c, const struct api_identity *who,
			const struct ctld_account *a)
{
	if (!a)
		return false;
	if (names_has(&a->coordinators, who->user))
		return true;
	const struct ctld_account *org = a->parent[0] ? ctld_account_find(c, a->parent) : NULL;
	return org && names_has(&org->coordinators, who->user);
}

/* Whether who may see account a: admins, its coordinators, its users (and
 * the users of an organization's projects see the organization). */
bool ctld_tenancy_sees_account(const struct ctld *c, const struct api_identity *who,
			       const struct ctld_account *a)
{
	return sees_account(c, who, a);
}

bool ctld_tenancy_coordinates(const struct ctld *c, const struct api_identity *who,
			      const struct ctld_account *a)
{
	return coordinates(c, who, a);
}

static bool sees_account(const struct ctld *c, const struct api_identity *who,
			 const struct ctld_account *a)
{
	if (who->admin || coordinates(c, who, a))
		return true;
	const struct ctld_tuser *u = user_find(c, who->user);
	if (!u)
		return false;
	for (size_t i = 0; i < u->accounts.n; i++) {
		if (!strcmp(u->accounts.v[i], a->name))
			return true;
		const struct ctld_account *x = ctld_account_find(c, u->accounts.v[i]);
		if (x && !strcmp(x->parent, a->name))
			return true;
	}
	return false;
}

/* Whether who may see user u: admins, u itself, coordinators of one of u's accounts. */
static bool sees_user(const struct ctld *c, const struct api_identity *who,
		      const struct ctld_tuser *u)
{
	if (who->admin || !strcmp(who->user, u->name))
		return true;
	for (size_t i = 0; i < u->accounts.n; i++)
		if (coordinates(c, who, ctld_account_find(c, u->accounts.v[i])))
			return true;
	return false;
}

/* Live (not ended) jobs charged to account (and, with user, that user's). */
struct live_count {
	uint64_t live, running;
};

static struct live_count count_live(const struct ctld *c, const char *account, const char *user,
				    const char *qos)
{
	struct live_count n = {0};
	for (size_t i = 0; i < c->njobs; i++) {
		const struct ctld_job *j = c->jobs[i];
		if (ctld_job_ended(j))
			continue;
		if (account && strcmp(j->spec.account ? j->spec.account : "", account))
			continue;
		if (user && strcmp(j->user, user))
			continue;
		if (qos && strcmp(j->spec.qos ? j->spec.qos : "", qos))
			continue;
		n.live++;
		n.running += ctld_job_active(j);
	}
	return n;
}

/* ---- validation across objects ------------------------------------------------------- */

/* Quota resources of an account, for the checks across the tree. */
static const struct {
	const char *key;
	size_t off;
} quota_keys[] = {
    {"quota_devices", offsetof(struct ctld_account, quota_devices)},
    {"quota_cpus", offsetof(struct ctld_account, quota_cpus)},
    {"quota_mem_gib", offsetof(struct ctld_account, quota_mem_gib)},
};

static int64_t quota_of(const struct ctld_account *a, size_t k)
{
	return *(const int64_t *)((const char *)a + quota_keys[k].off);
}

/*
 * An organization's quota is at least the sum of its projects' (a changed
 * account a replaces its stored self): a project's quota is then guaranteed
 * within the organization's cap (src/sched/quota.c).
 */
static int org_quota_check(struct ctld *c, const struct ctld_account *a, struct aidc_err *e)
{
	const char *oname = a->parent[0] ? a->parent : a->name;
	const struct ctld_account *org = a->parent[0] ? ctld_account_find(c, oname) : a;
	for (size_t k = 0; org && k < AIDC_ARRAY_LEN(quota_keys); k++) {
		if (quota_of(org, k) < 0)
			continue;
		int64_t sum = 0;
		for (size_t i = 0; i < c->ten.acct.n; i++) {
			const struct ctld_account *x = c->ten.acct.v[i];
			if (!strcmp(x->name, a->name))
				x = a;
			if (!strcmp(x->parent, oname) && quota_of(x, k) > 0)
				sum += quota_of(x, k);
		}
		if (a->parent[0] && !ctld_account_find(c, a->name) && quota_of(a, k) > 0)
			sum += quota_of(a, k); /* a new project */
		if (sum > quota_of(org, k))
			return aidc_errf(e, AIDC_E_INVAL,
					 "account %s: %s: organization %s's %" PRId64
					 " is below the sum of its projects' (%" PRId64
					 "); a project's quota must fit in its organization's",
					 a->name, quota_keys[k].key, oname, quota_of(org, k), sum);
	}
	return 0;
}

/* ---- quotas per device model ---------------------------------------------------------- */

/* The core's id of device model name (any case), or -1. */
static int model_find(const struct ctld *c, const char *name)
{
	uint32_t n = sched_model_count(c->sched);
	for (uint32_t m = 0; m < n; m++)
		if (!strcasecmp(sched_model_name(c->sched, m), name))
			return (int)m;
	return -1;
}

/* The models the core knows (from registered nodes), "A100, V100". */
static void models_known(const struct ctld *c, char *buf, size_t n)
{
	size_t l = 0;
	buf[0] = '\0';
	for (uint32_t m = 0; m < sched_model_count(c->sched) && l < n; m++)
		l += (size_t)snprintf(buf + l, n - l, "%s%s", m ? ", " : "",
				      sched_model_name(c->sched, m));
	if (!buf[0])
		snprintf(buf, n, "none yet: models come from the nodes that registered");
}

/* The value of entry "gpu:MODEL=N" of l for model (canonical name), or -1. */
static int64_t model_entry(const struct ctld_names *l, const char *model)
{
	char key[AIDC_MAX_NAME_BYTES + 8];
	snprintf(key, sizeof key, "gpu:%s", model);
	ptrdiff_t i = pair_index(l, key);
	return i < 0 ? -1 : strtoll(l->v[i] + strlen(key) + 1, NULL, 10);
}

/* Entries of one per-model list name models the core knows: each is
 * rewritten with the model's own spelling, each model once. */
static int models_canon(const struct ctld *c, const char *acct, const char *key,
			struct ctld_names *l, struct aidc_err *e)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *eq = strchr(l->v[i], '=');
		char name[AIDC_MAX_NAME_BYTES], known[512];
		snprintf(name, sizeof name, "%.*s", (int)(eq - l->v[i] - 4), l->v[i] + 4);
		int m = model_find(c, name);
		if (m < 0) {
			models_known(c, known, sizeof known);
			return aidc_errf(e, AIDC_E_NOTFOUND,
					 "account %s: %s: unknown device model '%s' (known: %s)",
					 acct, key, name, known);
		}
		char buf[2 * AIDC_MAX_NAME_BYTES];
		snprintf(buf, sizeof buf, "gpu:%s%s", sched_model_name(c->sched, (uint32_t)m), eq);
		char *v = aidc_strdup(buf);
		aidc_free(l->v[i]);
		l->v[i] = v;
		for (size_t k = 0; k < i; k++)
			if (strchr(l->v[k], '=') - l->v[k] == strchr(v, '=') - v &&
			    !strncmp(l->v[k], v, (size_t)(strchr(v, '=') - v)))
				return aidc_errf(e, AIDC_E_INVAL, "account %s: %s names model %s twice",
						 acct, key, sched_model_name(c->sched, (uint32_t)m));
	}
	return 0;
}

/* An organization's per-model cap is at least the sum of its projects'
 * entries of that model (as org_quota_check for the other quotas). */
static int org_models_check(struct ctld *c, const struct ctld_account *a, struct aidc_err *e)
{
	const char *oname = a->parent[0] ? a->parent : a->name;
	const struct ctld_account *org = a->parent[0] ? ctld_account_find(c, oname) : a;
	for (uint32_t m = 0; org && m < sched_model_count(c->sched); m++) {
		const char *mn = sched_model_name(c->sched, m);
		int64_t cap = model_entry(&org->quota_models, mn), sum = 0;
		if (cap < 0)
			continue;
		bool seen = false;
		for (size_t i = 0; i < c->ten.acct.n; i++) {
			const struct ctld_account *x = c->ten.acct.v[i];
			if (!strcmp(x->name, a->name)) {
				x = a;
				seen = true;
			}
			if (!strcmp(x->parent, oname))
				sum += AIDC_MAX(model_entry(&x->quota_models, mn), 0);
		}
		if (a->parent[0] && !seen)
			sum += AIDC_MAX(model_entry(&a->quota_models, mn), 0); /* a new project */
		if (sum > cap)
			return aidc_errf(e, AIDC_E_INVAL,
					 "account %s: quota_models gpu:%s: organization %s's %" PRId64
					 " is below the sum of its projects' (%" PRId64 ")",
					 a->name, mn, oname, cap, sum);
	}
	return 0;
}

/* Checks the per-model lists of a changed account a (and spells their
 * models as the core does): known models, borrow and lend limits only for
 * models with a quota entry of a project. */
static int account_models(struct ctld *c, struct ctld_account *a, struct aidc_err *e)
{
	struct ctld_names *l[] = {&a->quota_models, &a->borrow_limit_models,
				  &a->lend_limit_models};
	static const char *const key[] = {"quota_models", "borrow_limit_models",
					  "lend_limit_models"};
	for (size_t k = 0; k < AIDC_ARRAY_LEN(l); k++) {
		int rc = models_canon(c, a->name, key[k], l[k], e);
		if (rc)
			return rc;
		for (size_t i = 0; k && i < l[k]->n; i++) {
			if (!a->parent[0])
				return aidc_errf(e, AIDC_E_INVAL,
						 "account %s: %s: borrow and lend limits are set on "
						 "projects; an organization's quota caps its projects",
						 a->name, key[k]);
			const char *v = l[k]->v[i], *eq = strchr(v, '=');
			char name[AIDC_MAX_NAME_BYTES + 8];
			snprintf(name, sizeof name, "%.*s", (int)(eq - v), v);
			if (pair_index(&a->quota_models, name) < 0)
				return aidc_errf(e, AIDC_E_INVAL,
						 "account %s: %s: %s has no quota_models entry", a->name,
						 key[k], name);
		}
	}
	return org_models_check(c, a, e);
}

static int account_check(struct ctld *c, const struct ctld_account *a, struct aidc_err *e)
{
	if (a->parent[0]) {
		const struct ctld_account *p = ctld_account_find(c, a->parent);
		if (!p)
			return aidc_errf(e, AIDC_E_NOTFOUND, "account %s: unknown parent account '%s'",
					 a->name, a->parent);
		if (p->parent[0])
			return aidc_errf(e, AIDC_E_INVAL,
					 "account %s: parent '%s' is a project of '%s'; projects go "
					 "under organizations (two levels)",
					 a->name, a->parent, p->parent);
		if (!strcmp(a->parent, a->name))
			return aidc_errf(e, AIDC_E_INVAL, "account %s: its own parent", a->name);
	}
	for (size_t i = 0; i < a->qos.n; i++)
		if (!ctld_qos_find(c, a->qos.v[i]))
			return aidc_errf(e, AIDC_E_NOTFOUND, "account %s: unknown QoS '%s' (aidc qos list)",
					 a->name, a->qos.v[i]);
	if (a->default_qos[0] && !names_has(&a->qos, a->default_qos))
		return aidc_errf(e, AIDC_E_INVAL,
				 "account %s: default_qos '%s' is not one of its qos", a->name,
				 a->default_qos);
	for (size_t i = 0; i < a->coordinators.n; i++)
		if (check_name("coordinators", a->coordinators.v[i], e))
			return AIDC_E_INVAL;
	if (!a->parent[0] &&
	    (a->borrow_limit >= 0 || a->lend_limit >= 0 || a->borrow_limit_cpus >= 0 ||
	     a->lend_limit_cpus >= 0 || a->borrow_limit_mem_gib >= 0 || a->lend_limit_mem_gib >= 0))
		return aidc_errf(e, AIDC_E_INVAL,
				 "account %s: borrow and lend limits are set on projects; an "
				 "organization's quota caps its projects together and is not lent",
				 a->name);
	return org_quota_check(c, a, e);
}

/* Drops name's entry from a F_PAIRS list. */
static void pair_del(struct ctld_names *l, const char *name)
{
	ptrdiff_t i = pair_index(l, name);
	if (i < 0)
		return;
	aidc_free(l->v[i]);
	memmove(&l->v[i], &l->v[i + 1], (l->n - (size_t)i - 1) * sizeof *l->v);
	l->n--;
}

static int user_check(struct ctld *c, struct ctld_tuser *u, struct aidc_err *e)
{
	for (size_t i = 0; i < u->accounts.n; i++)
		if (!ctld_account_find(c, u->accounts.v[i]))
			return aidc_errf(e, AIDC_E_NOTFOUND, "user %s: unknown account '%s'", u->name,
					 u->accounts.v[i]);
	if (!u->default_account[0] && u->accounts.n)
		snprintf(u->default_account, sizeof u->default_account, "%s", u->accounts.v[0]);
	if (u->default_account[0] && !names_has(&u->accounts, u->default_account))
		return aidc_errf(e, AIDC_E_INVAL,
				 "user %s: default_account '%s' is not one of its accounts", u->name,
				 u->default_account);
	for (size_t i = 0; i < u->account_shares.n; i++) {
		const char *p = u->account_shares.v[i];
		int n = (int)(strchr(p, '=') - p);
		bool mine = false;
		for (size_t k = 0; k < u->accounts.n && !mine; k++)
			mine = strlen(u->accounts.v[k]) == (size_t)n &&
			       !strncmp(u->accounts.v[k], p, (size_t)n);
		if (!mine)
			return aidc_errf(e, AIDC_E_INVAL,
					 "user %s: account_shares names '%.*s', not one of its "
					 "accounts",
					 u->name, n, p);
	}
	return 0;
}

static int qos_check(struct ctld *c, const struct ctld_qos *q, struct aidc_err *e)
{
	for (size_t i = 0; i < q->preempt.n; i++) {
		if (!strcmp(q->preempt.v[i], q->name))
			return aidc_errf(e, AIDC_E_INVAL, "qos %s: may not preempt itself", q->name);
		if (!ctld_qos_find(c, q->preempt.v[i]))
			return aidc_errf(e, AIDC_E_NOTFOUND, "qos %s: unknown QoS '%s' in preempt",
					 q->name, q->preempt.v[i]);
	}
	return 0;
}

/* ---- load -------------------------------------------------------------------------- */

static int load_row(void *ctx, const char *kind, const char *name, const char *doc)
{
	struct ctld *c = ctx;
	struct aidc_err e = {0};
	if (!strcmp(kind, "service"))
		return 0; /* services.c's rows share the table */
	const struct tkind *k = !strcmp(kind, "account") ? &K_ACCOUNT
				: !strcmp(kind, "user")	 ? &K_USER
				: !strcmp(kind, "qos")	 ? &K_QOS
							 : NULL;
	json_error_t je;
	json_t *root = k ? json_loads(doc, 0, &je) : NULL;
	if (!k || !root || json_integer_value(json_object_get(root, "v")) != TEN_DOC_VERSION) {
		json_decref(root);
		aidc_log(AIDC_LOG_ERROR, "tenancy: %s '%s': unknown kind or document version; refused",
			 kind, name);
		return AIDC_E_VERSION;
	}
	void *obj = obj_new(k, name);
	int rc = obj_apply(k, obj, root, true, true, true, NULL, &e);
	json_decref(root);
	if (rc) {
		aidc_log(AIDC_LOG_ERROR, "tenancy: stored %s '%s': %s", kind, name, e.msg);
		obj_free(k, obj);
		return rc;
	}
	struct ctld_tset *t = k == &K_ACCOUNT ? &c->ten.acct : k == &K_USER ? &c->ten.users : &c->ten.qos;
	obj_free(k, tset_put(t, obj));
	return 0;
}

int ctld_tenancy_load(struct ctld *c, struct aidc_err *e)
{
	int rc = c->st->ops->tenancy_list(c->st, load_row, c, e);
	if (rc)
		return aidc_errf(e, rc, "reading accounts, users and QoS from the store failed");
	/* Every account's quota is in the core before any job: unused quota of
	 * accounts without jobs is lendable. */
	for (size_t i = 0; i < c->ten.acct.n; i++)
		groups_update(c, c->ten.acct.v[i]);
	aidc_log(AIDC_LOG_INFO, "tenancy: %zu accounts, %zu users, %zu QoS%s", c->ten.acct.n,
		 c->ten.users.n, c->ten.qos.n, tenancy_on(c) ? "" : " (accounts off)");
	return 0;
}

static void tset_release(struct ctld_tset *t, const struct tkind *k)
{
	for (size_t i = 0; i < t->n; i++)
		obj_free(k, t->v[i]);
	aidc_free(t->v);
	memset(t, 0, sizeof *t);
}

void ctld_tenancy_release(struct ctld_tenancy *t)
{
	tset_release(&t->acct, &K_ACCOUNT);
	tset_release(&t->users, &K_USER);
	tset_release(&t->qos, &K_QOS);
}

/* ---- submit ------------------------------------------------------------------------- */

static int resolve_account(struct ctld *c, const struct api_identity *who,
			   struct api_job_submit *spec, const struct ctld_account **out,
			   struct aidc_err *e)
{
	*out = NULL;
	if (!tenancy_on(c)) {
		if (spec->account)
			return aidc_errf(e, AIDC_E_NOTFOUND,
					 "unknown account '%.64s': no accounts are configured "
					 "(docs/tenancy.md)",
					 spec->account);
		return 0;
	}
	const struct ctld_tuser *u = user_find(c, who->user);
	const char *name = spec->account ? spec->account
			   : u && u->default_account[0] ? u->default_account
							  : NULL;
	if (!name)
		return aidc_errf(e, AIDC_E_PERM,
				 "user '%.64s' is not associated with any account; an admin or "
				 "coordinator adds it (aidc user add %.64s --account ACCOUNT)%s",
				 who->user, who->user, who->admin ? ", or give -A ACCOUNT" : "");
	const struct ctld_account *a = ctld_account_find(c, name);
	if (!a)
		return aidc_errf(e, AIDC_E_NOTFOUND, "unknown account '%.64s' (aidc account list)",
				 name);
	if (!who->admin && !(u && names_has(&u->accounts, a->name)))
		return aidc_errf(e, AIDC_E_PERM,
				 "user '%.64s' is not associated with account '%.64s' (your accounts: "
				 "aidc user list)",
				 who->user, a->name);
	*out = a;
	return 0;
}

static int resolve_qos(struct ctld *c, const struct api_identity *who, const struct ctld_account *a,
		       const char *name, const struct ctld_qos **out, struct aidc_err *e)
{
	*out = NULL;
	if (!name || !*name)
		return 0;
	const struct ctld_qos *q = ctld_qos_find(c, name);
	if (!q)
		return aidc_errf(e, AIDC_E_NOTFOUND, "unknown QoS '%.64s' (aidc qos list)", name);
	if (!who->admin && !(a && names_has(&a->qos, q->name)))
		return aidc_errf(e, AIDC_E_PERM, "account '%.64s' does not allow QoS '%.64s'%s",
				 a ? a->name : "-", q->name,
				 a ? " (aidc account show ACCOUNT lists its qos)"
				   : "; without accounts only admins choose a QoS");
	*out = q;
	return 0;
}

static int check_submit_limits(struct ctld *c, const struct api_identity *who,
			       const struct ctld_account *a, const struct ctld_qos *q,
			       struct aidc_err *e)
{
	if (a && a->limits.max_submit_jobs >= 0 &&
	    count_live(c, a->name, NULL, NULL).live >= (uint64_t)a->limits.max_submit_jobs)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "account '%s' has %" PRId64 " jobs not yet ended (its max_submit_jobs)",
				 a->name, a->limits.max_submit_jobs);
	if (a && a->user_limits.max_submit_jobs >= 0 &&
	    count_live(c, a->name, who->user, NULL).live >= (uint64_t)a->user_limits.max_submit_jobs)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "you have %" PRId64
				 " jobs not yet ended in account '%s' (its max_submit_jobs_per_user)",
				 a->user_limits.max_submit_jobs, a->name);
	if (q && q->max_submit_jobs_per_user >= 0 &&
	    count_live(c, NULL, who->user, q->name).live >= (uint64_t)q->max_submit_jobs_per_user)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "you have %" PRId64
				 " jobs not yet ended in QoS '%s' (its max_submit_jobs_per_user)",
				 q->max_submit_jobs_per_user, q->name);
	return 0;
}

int ctld_tenancy_admit(struct ctld *c, const struct api_identity *who,
		       struct api_job_submit *spec, struct aidc_err *e)
{
	const struct ctld_account *a;
	const struct ctld_qos *q;
	int rc = resolve_account(c, who, spec, &a, e);
	if (rc)
		return rc;
	const char *qname = spec->qos ? spec->qos : a && a->default_qos[0] ? a->default_qos : NULL;
	if ((rc = resolve_qos(c, who, a, qname, &q, e)) != 0)
		return rc;
	/* Slurm's --nice: a user's own priority only lowers it; raising is an
	 * admin's right or a QoS's (docs/tenancy.md). */
	if (!who->admin && spec->priority > 0)
		return aidc_errf(e, AIDC_E_PERM,
				 "--priority %" PRId64 ": only admins raise a job's priority; you may "
				 "lower it (a negative value, as Slurm's --nice) or use a QoS your "
				 "account allows",
				 spec->priority);
	if (q && q->max_wall_s && spec->time_limit_s > q->max_wall_s)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "time limit %" PRId64 " s is above QoS '%s''s max_wall_s (%" PRId64
				 " s)",
				 spec->time_limit_s, q->name, q->max_wall_s);
	if ((rc = check_submit_limits(c, who, a, q, e)) != 0)
		return rc;
	if (q && q->max_wall_s && !spec->time_limit_s)
		spec->time_limit_s = q->max_wall_s;
	if (a && !spec->account)
		spec->account = aidc_strdup(a->name);
	if (q && !spec->qos)
		spec->qos = aidc_strdup(q->name);
	return 0;
}

bool ctld_tenancy_qos_rights(const struct ctld *c, const struct ctld_job *j, uint32_t *cls,
			     uint64_t *mask)
{
	*cls = 0;
	*mask = 0;
	if (!c->ten.qos.n)
		return false;
	const struct ctld_qos *q = j->spec.qos ? ctld_qos_find(c, j->spec.qos) : NULL;
	if (!q)
		return true; /* no QoS: preempts nothing */
	*cls = (uint32_t)q->id;
	for (size_t i = 0; i < q->preempt.n; i++) {
		const struct ctld_qos *v = ctld_qos_find(c, q->preempt.v[i]);
		if (v)
			*mask |= UINT64_C(1) << v->id;
	}
	return true;
}

/* One quota of a core group spec (cores; GiB -> MiB with mult 1024). */
static struct sched_res_quota res_quota(int64_t nominal, int64_t borrow, int64_t lend, int64_t mult)
{
	if (nominal < 0)
		return (struct sched_res_quota){false, -1, -1, -1};
	return (struct sched_res_quota){true, nominal * mult, borrow < 0 ? -1 : borrow * mult,
					lend < 0 ? -1 : lend * mult};
}

/* The per-model entries of account a into mq (models the core knows; an
 * entry naming one not registered yet waits for it: ctld_tenancy_models);
 * their count. */
static uint32_t spec_models(const struct ctld *c, const struct ctld_account *a,
			    struct sched_model_quota mq[AIDC_MAX_DEVICE_MODELS])
{
	uint32_t n = 0;
	for (uint32_t m = 0; m < sched_model_count(c->sched) && n < AIDC_MAX_DEVICE_MODELS; m++) {
		const char *mn = sched_model_name(c->sched, m);
		int64_t q = -1;
		for (size_t i = 0; q < 0 && i < a->quota_models.n; i++) {
			const char *v = a->quota_models.v[i], *eq = strchr(v, '=');
			if (eq && (size_t)(eq - v - 4) == strlen(mn) && !strncasecmp(v + 4, mn, strlen(mn)))
				q = strtoll(eq + 1, NULL, 10);
		}
		if (q < 0)
			continue;
		mq[n++] = (struct sched_model_quota){m, q, model_entry(&a->borrow_limit_models, mn),
						     model_entry(&a->lend_limit_models, mn)};
	}
	return n;
}

/* The organization's group "cohort ORG" of account a: the cohort of its
 * projects' quotas, their parent in the fair-share tree with the
 * organization's shares, and the cap of the organization's quotas (jobs of
 * all its accounts are charged to it). Created or updated; its id. */
static int cohort_put(struct ctld *c, const struct ctld_account *a, struct aidc_err *e)
{
	const char *oname = a->parent[0] ? a->parent : a->name;
	const struct ctld_account *org = ctld_account_find(c, oname);
	if (!a->parent[0])
		org = a; /* an organization being added or changed */
	char cname[AIDC_MAX_NAME_BYTES + 16];
	snprintf(cname, sizeof cname, "cohort %s", oname);
	struct sched_group_spec cg = {
	    .name = cname,
	    .parent = -1,
	    .max_running_jobs = -1,
	    .max_devices = -1,
	    .nominal_devices = org ? org->quota_devices : -1,
	    .borrow_limit = -1,
	    .lend_limit = -1,
	    .shares = org ? org->shares : 1,
	    .cpus = res_quota(org ? org->quota_cpus : -1, -1, -1, 1),
	    .mem_mib = res_quota(org ? org->quota_mem_gib : -1, -1, -1, 1024),
	};
	struct sched_model_quota mq[AIDC_MAX_DEVICE_MODELS];
	cg.nmodels = org ? spec_models(c, org, mq) : 0;
	cg.models = mq;
	return sched_group_set(c->sched, &cg, e);
}

/* The core group of an account ("account A") or of a user in it ("user U in
 * A") with its limits: created or updated (sched_group_set, O(groups)). */
/* The user's shares in account acct: its account_shares entry, else shares. */
static int64_t user_shares_in(const struct ctld_tuser *u, const char *acct)
{
	int64_t v = pair_value(&u->account_shares, acct);
	return v ? v : u->shares;
}

static int group_put(struct ctld *c, const char *user, int acct_group,
		     const struct ctld_account *a, const struct ctld_limits *l, struct aidc_err *e)
{
	char name[2 * AIDC_MAX_NAME_BYTES + 16];
	struct sched_group_spec g = {.name = name,
				     .parent = -1,
				     .max_running_jobs = l->max_running_jobs,
				     .max_devices = l->max_devices,
				     .nominal_devices = -1,
				     .borrow_limit = -1,
				     .lend_limit = -1,
				     .shares = 1};
	if (user) {
		/* A user's group sits under its account's in the fair-share tree,
		 * with the user's shares. */
		const struct ctld_tuser *u = user_find(c, user);
		g.parent = acct_group;
		g.shares = u ? user_shares_in(u, a->name) : 1;
		snprintf(name, sizeof name, "user %s in %s", user, a->name);
		return sched_group_set(c->sched, &g, e);
	}
	/* Jobs charged to the organization itself ("account ORG", shares 1) sit
	 * beside its projects under its cohort group. */
	snprintf(name, sizeof name, "account %s", a->name);
	g.shares = a->parent[0] ? a->shares : 1;
	int cohort = cohort_put(c, a, e);
	if (cohort < 0)
		return cohort;
	g.parent = cohort;
	if (a->parent[0]) {
		if (a->quota_devices >= 0) {
			g.nominal_devices = a->quota_devices;
			g.borrow_limit = a->borrow_limit;
			g.lend_limit = a->lend_limit;
		}
		g.cpus = res_quota(a->quota_cpus, a->borrow_limit_cpus, a->lend_limit_cpus, 1);
		g.mem_mib = res_quota(a->quota_mem_gib, a->borrow_limit_mem_gib,
				      a->lend_limit_mem_gib, 1024);
	}
	struct sched_model_quota mq[AIDC_MAX_DEVICE_MODELS];
	g.nmodels = a->parent[0] ? spec_models(c, a, mq) : 0;
	g.models = mq;
	return sched_group_set(c->sched, &g, e);
}

int ctld_tenancy_groups(struct ctld *c, const struct ctld_job *j, uint32_t *groups,
			struct aidc_err *e)
{
	const struct ctld_account *a = j->spec.account ? ctld_account_find(c, j->spec.account) : NULL;
	if (!a)
		return 0;
	int g1 = group_put(c, NULL, -1, a, &a->limits, e);
	if (g1 < 0)
		return g1;
	int g2 = group_put(c, j->user, g1, a, &a->user_limits, e);
	if (g2 < 0)
		return g2;
	int g3 = cohort_put(c, a, e); /* the organization's cap */
	if (g3 < 0)
		return g3;
	groups[0] = (uint32_t)g1;
	groups[1] = (uint32_t)g2;
	groups[2] = (uint32_t)g3;
	return 3;
}

/* After an account's limits changed: its core group and those of its users
 * (limits hold jobs that have not started; running ones go on). */
static void groups_update(struct ctld *c, const struct ctld_account *a)
{
	struct aidc_err e = {0};
	int g1 = group_put(c, NULL, -1, a, &a->limits, &e);
	if (g1 < 0) {
		aidc_log(AIDC_LOG_ERROR, "account %s: %s", a->name, e.msg);
		return;
	}
	for (size_t i = 0; i < c->ten.users.n; i++) {
		const struct ctld_tuser *u = c->ten.users.v[i];
		if (names_has(&u->accounts, a->name) &&
		    group_put(c, u->name, g1, a, &a->user_limits, &e) < 0)
			aidc_log(AIDC_LOG_ERROR, "account %s: %s", a->name, e.msg);
	}
	/* An organization's shares are its cohort group's: its projects carry them. */
	for (size_t i = 0; !a->parent[0] && i < c->ten.acct.n; i++)
		if (!strcmp(((const struct ctld_account *)c->ten.acct.v[i])->parent, a->name))
			groups_update(c, c->ten.acct.v[i]);
	c->need_pass = true;
}

void ctld_tenancy_models(struct ctld *c)
{
	for (size_t i = 0; i < c->ten.acct.n; i++) {
		const struct ctld_account *a = c->ten.acct.v[i];
		if (a->quota_models.n)
			groups_update(c, a);
	}
}

/* After a user changed: its groups in each of its accounts (its shares). */
static void user_groups_update(struct ctld *c, const struct ctld_tuser *u)
{
	struct aidc_err e = {0};
	for (size_t i = 0; i < u->accounts.n; i++) {
		const struct ctld_account *a = ctld_account_find(c, u->accounts.v[i]);
		if (!a)
			continue;
		int g1 = group_put(c, NULL, -1, a, &a->limits, &e);
		if (g1 < 0 || group_put(c, u->name, g1, a, &a->user_limits, &e) < 0)
			aidc_log(AIDC_LOG_ERROR, "user %s: %s", u->name, e.msg);
	}
	c->need_pass = true;
}

int32_t ctld_tenancy_priority(const struct ctld *c, const struct ctld_job *j)
{
	const struct ctld_qos *q = j->spec.qos ? ctld_qos_find(c, j->spec.qos) : NULL;
	int64_t p = j->spec.priority + (q ? q->priority : 0);
	if (p < AIDC_MIN_PRIORITY)
		p = AIDC_MIN_PRIORITY;
	if (p > AIDC_MAX_PRIORITY)
		p = AIDC_MAX_PRIORITY;
	return (int32_t)p;
}

uint32_t ctld_tenancy_qos_milli(const struct ctld *c, const struct ctld_job *j)
{
	const struct ctld_qos *q = j->spec.qos ? ctld_qos_find(c, j->spec.qos) : NULL;
	int64_t top = 0;
	for (size_t i = 0; q && i < c->ten.qos.n; i++)
		top = AIDC_MAX(top, ((const struct ctld_qos *)c->ten.qos.v[i])->priority);
	if (!q || q->priority <= 0 || top <= 0)
		return 0;
	return (uint32_t)(q->priority * 1000 / top);
}

/* ---- routes: common ------------------------------------------------------------------- */

static int body_object(struct ctld_msg *m, json_t **out)
{
	json_error_t je;
	*out = NULL;
	if (!m->req->body || m->req->body_len == 0)
		return aidc_errf(&m->err, AIDC_E_INVAL, "body: a JSON object is expected");
	json_t *root = json_loadb(m->req->body, m->req->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return aidc_errf(&m->err, AIDC_E_PARSE, "body: malformed JSON at line %d column %d: %s",
				 je.line, je.column, je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return aidc_errf(&m->err, AIDC_E_INVAL, "body: a JSON object is expected");
	}
	*out = root;
	return 0;
}

static int body_name(struct ctld_msg *m, json_t *root, const char *what, const char **out)
{
	const char *n = json_string_value(json_object_get(root, "name"));
	if (!n)
		return aidc_errf(&m->err, AIDC_E_INVAL, "%s: 'name' is required", what);
	*out = n;
	return check_name(what, n, &m->err);
}

static int reply_obj(struct ctld *c, struct ctld_msg *m, const struct tkind *k, const void *obj,
		     void (*extra)(struct ctld *, struct aidc_json *, const void *))
{
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	obj_members(k, obj, &w);
	if (extra)
		extra(c, &w, obj);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}

/* Commits obj (validated) and puts it in the set, freeing any older one. */
static int commit_obj(struct ctld *c, struct ctld_msg *m, const struct tkind *k,
		      struct ctld_tset *t, void *obj, int status)
{
	int rc = obj_store(c, k, obj, &m->err);
	if (rc) {
		obj_free(k, obj);
		return rc;
	}
	obj_free(k, tset_put(t, obj));
	m->resp->status = status;
	return reply_obj(c, m, k, obj, NULL);
}

/* ---- accounts ------------------------------------------------------------------------- */

static void account_extra(struct ctld *c, struct aidc_json *w, const void *obj)
{
	const struct ctld_account *a = obj;
	aidc_json_key(w, "users");
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < c->ten.users.n; i++) {
		const struct ctld_tuser *u = c->ten.users.v[i];
		if (names_has(&u->accounts, a->name))
			aidc_json_str(w, u->name);
	}
	aidc_json_arr_end(w);
	aidc_json_key(w, "projects");
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < c->ten.acct.n; i++) {
		const struct ctld_account *x = c->ten.acct.v[i];
		if (!strcmp(x->parent, a->name))
			aidc_json_str(w, x->name);
	}
	aidc_json_arr_end(w);
	struct live_count n = count_live(c, a->name, NULL, NULL);
	aidc_json_ki64(w, "jobs_live", (int64_t)n.live);
	aidc_json_ki64(w, "jobs_running", (int64_t)n.running);
}

int ctld_lf_account_list(struct ctld *c, struct ctld_msg *m)
{
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_kbool(&w, "enabled", tenancy_on(c));
	aidc_json_key(&w, "accounts");
	aidc_json_arr_begin(&w);
	for (size_t i = 0; i < c->ten.acct.n; i++) {
		const struct ctld_account *a = c->ten.acct.v[i];
		if (!sees_account(c, &m->req->who, a))
			continue;
		aidc_json_obj_begin(&w);
		obj_members(&K_ACCOUNT, a, &w);
		aidc_json_obj_end(&w);
	}
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}

/* The account named by {name} if the caller may see it (404 like a missing one). */
static const struct ctld_account *req_account(struct ctld *c, struct ctld_msg *m)
{
	const struct ctld_account *a = ctld_account_find(c, m->req->params[0]);
	if (a && !sees_account(c, &m->req->who, a))
		a = NULL;
	if (!a)
		aidc_errf(&m->err, AIDC_E_NOTFOUND, "no account '%.64s'", m->req->params[0]);
	return a;
}

int ctld_lf_account_get(struct ctld *c, struct ctld_msg *m)
{
	const struct ctld_account *a = req_account(c, m);
	return a ? reply_obj(c, m, &K_ACCOUNT, a, account_extra) : AIDC_E_NOTFOUND;
}

int ctld_lf_account_add(struct ctld *c, struct ctld_msg *m)
{
	json_t *root;
	const char *name = NULL;
	int rc = body_object(m, &root);
	if (rc)
		return rc;
	if ((rc = body_name(m, root, "account", &name)) != 0)
		goto out;
	const struct api_identity *who = &m->req->who;
	const char *parent = json_string_value(json_object_get(root, "parent"));
	/* A coordinator of an organization adds projects to it. */
	bool coord = !who->admin && parent && coordinates(c, who, ctld_account_find(c, parent));
	if (!who->admin && !coord) {
		rc = aidc_errf(&m->err, AIDC_E_PERM,
			       "only admins add accounts (and coordinators of an organization "
			       "its projects)");
		goto out;
	}
	if (ctld_account_find(c, name)) {
		rc = aidc_errf(&m->err, AIDC_E_EXISTS, "account '%s' exists already", name);
		goto out;
	}
	if (c->ten.acct.n >= AIDC_MAX_ACCOUNTS) {
		rc = aidc_errf(&m->err, AIDC_E_LIMIT, "%u accounts exist already (the limit)",
			       AIDC_MAX_ACCOUNTS);
		goto out;
	}
	struct ctld_account *a = obj_new(&K_ACCOUNT, name);
	if ((rc = obj_apply(&K_ACCOUNT, a, root, who->admin, true, false, NULL, &m->err)) != 0 ||
	    (rc = account_models(c, a, &m->err)) != 0 || (rc = account_check(c, a, &m->err)) != 0) {
		obj_free(&K_ACCOUNT, a);
		goto out;
	}
	if ((rc = commit_obj(c, m, &K_ACCOUNT, &c->ten.acct, a, 201)) == 0)
		groups_update(c, a);
out:
	json_decref(root);
	return rc;
}

int ctld_lf_account_modify(struct ctld *c, struct ctld_msg *m)
{
	const struct ctld_account *old = req_account(c, m);
	if (!old)
		return AIDC_E_NOTFOUND;
	const struct api_identity *who = &m->req->who;
	if (!who->admin && !coordinates(c, who, old))
		return aidc_errf(&m->err, AIDC_E_PERM,
				 "only admins and the coordinators of account '%s' modify it",
				 old->name);
	json_t *root;
	int rc = body_object(m, &root);
	if (rc)
		return rc;
	struct ctld_account *a = obj_copy(&K_ACCOUNT, old);
	if ((rc = obj_apply(&K_ACCOUNT, a, root, who->admin, false, false, NULL, &m->err)) != 0 ||
	    (rc = account_models(c, a, &m->err)) != 0 || (rc = account_check(c, a, &m->err)) != 0)
		obj_free(&K_ACCOUNT, a);
	else if ((rc = commit_obj(c, m, &K_ACCOUNT, &c->ten.acct, a, 200)) == 0)
		groups_update(c, a);
	json_decref(root);
	return rc;
}

int ctld_lf_account_delete(struct ctld *c, struct ctld_msg *m)
{
	const struct ctld_account *a = req_account(c, m);
	if (!a)
		return AIDC_E_NOTFOUND;
	if (!m->req->who.admin)
		return aidc_errf(&m->err, AIDC_E_PERM, "only admins delete accounts");
	for (size_t i = 0; i < c->ten.acct.n; i++) {
		const struct ctld_account *x = c->ten.acct.v[i];
		if (!strcmp(x->parent, a->name))
			return aidc_errf(&m->err, AIDC_E_STATE,
					 "account '%s' has projects (e.g. '%s'); delete them first",
					 a->name, x->name);
	}
	struct live_count n = count_live(c, a->name, NULL, NULL);
	if (n.live)
		return aidc_errf(&m->err, AIDC_E_STATE,
				 "account '%s' has %" PRIu64 " jobs not yet ended (%" PRIu64
				 " running); cancel them or wait",
				 a->name, n.live, n.running);
	for (size_t i = 0; i < c->ten.users.n; i++) {
		const struct ctld_tuser *u = c->ten.users.v[i];
		if (names_has(&u->accounts, a->name))
			return aidc_errf(&m->err, AIDC_E_STATE,
					 "user '%s' is associated with account '%s'; remove it first "
					 "(aidc user modify %s --remove-account %s)",
					 u->name, a->name, u->name, a->name);
	}
	char name[AIDC_MAX_NAME_BYTES];
	snprintf(name, sizeof name, "%s", a->name);
	int rc = obj_unstore(c, &K_ACCOUNT, name, &m->err);
	if (rc)
		return rc;
	obj_free(&K_ACCOUNT, tset_remove(&c->ten.acct, name));
	aidc_buf_printf(&m->resp->body, "{\"deleted\":\"%s\"}", name);
	return 0;
}

/* ---- users ----------------------------------------------------------------------------- */

/* A coordinator may change only associations with accounts it coordinates. */
static int coord_names(struct ctld *c, struct ctld_msg *m, const struct ctld_names *l)
{
	if (m->req->who.admin)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (!coordinates(c, &m->req->who, ctld_account_find(c, l->v[i])))
			return aidc_errf(&m->err, AIDC_E_PERM,
					 "you do not coordinate account '%s' (only admins and its "
					 "coordinators manage its users)",
					 l->v[i]);
	return 0;
}

int ctld_lf_user_list(struct ctld *c, struct ctld_msg *m)
{
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_key(&w, "users");
	aidc_json_arr_begin(&w);
	for (size_t i = 0; i < c->ten.users.n; i++) {
		const struct ctld_tuser *u = c->ten.users.v[i];
		if (!sees_user(c, &m->req->who, u))
			continue;
		aidc_json_obj_begin(&w);
		obj_members(&K_USER, u, &w);
		aidc_json_obj_end(&w);
	}
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}

static const struct ctld_tuser *req_user(struct ctld *c, struct ctld_msg *m)
{
	const struct ctld_tuser *u = user_find(c, m->req->params[0]);
	if (u && !sees_user(c, &m->req->who, u))
		u = NULL;
	if (!u)
		aidc_errf(&m->err, AIDC_E_NOTFOUND, "no user '%.64s' in the accounts",
			  m->req->params[0]);
	return u;
}

int ctld_lf_user_get(struct ctld *c, struct ctld_msg *m)
{
	const struct ctld_tuser *u = req_user(c, m);
	return u ? reply_obj(c, m, &K_USER, u, NULL) : AIDC_E_NOTFOUND;
}

int ctld_lf_user_add(struct ctld *c, struct ctld_msg *m)
{
	json_t *root;
	const char *name = NULL;
	int rc = body_object(m, &root);
	if (rc)
		return rc;
	if ((rc = body_name(m, root, "user", &name)) != 0)
		goto out;
	if (user_find(c, name)) {
		rc = aidc_errf(&m->err, AIDC_E_EXISTS,
			       "user '%s' exists already (aidc user modify %s --add-account A)", name,
			       name);
		goto out;
	}
	if (c->ten.users.n >= AIDC_MAX_TENANCY_USERS) {
		rc = aidc_errf(&m->err, AIDC_E_LIMIT, "%u users exist already (the limit)",
			       AIDC_MAX_TENANCY_USERS);
		goto out;
	}
	struct ctld_tuser *u = obj_new(&K_USER, name);
	if ((rc = obj_apply(&K_USER, u, root, m->req->who.admin, true, false, NULL, &m->err)) != 0 ||
	    (rc = user_check(c, u, &m->err)) != 0 || (rc = coord_names(c, m, &u->accounts)) != 0) {
		obj_free(&K_USER, u);
		goto out;
	}
	if (!m->req->who.admin && !u->accounts.n) {
		obj_free(&K_USER, u);
		rc = aidc_errf(&m->err, AIDC_E_PERM, "coordinators add users to their accounts: "
						      "give at least one account");
		goto out;
	}
	rc = commit_obj(c, m, &K_USER, &c->ten.users, u, 201);
out:
	json_decref(root);
	return rc;
}

/* Applies "add_accounts" / "remove_accounts" (names) of a modify body. */
static int user_edit_lists(struct ctld *c, struct ctld_msg *m, struct ctld_tuser *u, json_t *root)
{
	static const struct tfield lf = FNAMES(struct ctld_tuser, "add_accounts", accounts, 0, "");
	const char *keys[] = {"add_accounts", "remove_accounts"};
	for (int k = 0; k < 2; k++) {
		json_t *v = json_object_get(root, keys[k]);
		if (!v)
			continue;
		struct ctld_tuser tmp;
		memset(&tmp, 0, sizeof tmp);
		struct tfield f = lf;
		f.key = keys[k];
		int rc = set_names(&K_USER, &f, &tmp, v, &m->err);
		if (rc == 0)
			rc = coord_names(c, m, &tmp.accounts);
		for (size_t i = 0; rc == 0 && i < tmp.accounts.n; i++) {
			const char *a = tmp.accounts.v[i];
			if (k == 0 && !names_has(&u->accounts, a)) {
				if (u->accounts.n >= AIDC_MAX_TENANCY_LIST)
					rc = aidc_errf(&m->err, AIDC_E_LIMIT,
						       "user %s: more than %u accounts", u->name,
						       AIDC_MAX_TENANCY_LIST);
				else
					names_add(&u->accounts, a);
			} else if (k == 1) {
				if (!names_has(&u->accounts, a))
					rc = aidc_errf(&m->err, AIDC_E_NOTFOUND,
						       "user %s is not associated with account '%s'",
						       u->name, a);
				else if (count_live(c, a, u->name, NULL).live)
					rc = aidc_errf(&m->err, AIDC_E_STATE,
						       "user %s has jobs not yet ended in account '%s'",
						       u->name, a);
				else
					names_del(&u->accounts, a);
				if (rc == 0 && !strcmp(u->default_account, a))
					u->default_account[0] = '\0';
				if (rc == 0)
					pair_del(&u->account_shares, a);
			}
		}
		names_release(&tmp.accounts);
		if (rc)
			return rc;
	}
	return 0;
}

int ctld_lf_user_modify(struct ctld *c, struct ctld_msg *m)
{
	const struct ctld_tuser *old = req_user(c, m);
	if (!old)
		return AIDC_E_NOTFOUND;
	json_t *root;
	int rc = body_object(m, &root);
	if (rc)
		return rc;
	static const char *const lists[] = {"add_accounts", "remove_accounts", NULL};
	struct ctld_tuser *u = obj_copy(&K_USER, old);
	/* Whole-list replacement and the default are checked like additions. */
	bool admin = m->req->who.admin;
	if (!admin && json_object_get(root, "accounts")) {
		rc = aidc_errf(&m->err, AIDC_E_PERM,
			       "coordinators change associations with add_accounts/remove_accounts");
		goto fail;
	}
	if ((rc = obj_apply(&K_USER, u, root, admin, false, false, lists, &m->err)) != 0 ||
	    (rc = user_edit_lists(c, m, u, root)) != 0 || (rc = user_check(c, u, &m->err)) != 0)
		goto fail;
	/* Associations dropped by a whole-list replacement must have no live jobs. */
	for (size_t i = 0; i < old->accounts.n; i++)
		if (!names_has(&u->accounts, old->accounts.v[i]) &&
		    count_live(c, old->accounts.v[i], u->name, NULL).live) {
			rc = aidc_errf(&m->err, AIDC_E_STATE,
				       "user %s has jobs not yet ended in account '%s'", u->name,
				       old->accounts.v[i]);
			goto fail;
		}
	/* A user picks its own default among its accounts; otherwise a
	 * coordinator sets it only to an account it coordinates. */
	bool self = !strcmp(m->req->who.user, u->name);
	if (!admin && json_object_get(root, "default_account") && !self &&
	    !coordinates(c, &m->req->who, ctld_account_find(c, u->default_account))) {
		rc = aidc_errf(&m->err, AIDC_E_PERM, "you do not coordinate account '%s'",
			       u->default_account);
		goto fail;
	}
	if ((rc = commit_obj(c, m, &K_USER, &c->ten.users, u, 200)) == 0)
		user_groups_update(c, u);
	json_decref(root);
	return rc;
fail:
	obj_free(&K_USER, u);
	json_decref(root);
	return rc;
}

int ctld_lf_user_delete(struct ctld *c, struct ctld_msg *m)
{
	const struct ctld_tuser *u = req_user(c, m);
	if (!u)
		return AIDC_E_NOTFOUND;
	int rc = coord_names(c, m, &u->accounts);
	if (rc)
		return rc;
	if (!m->req->who.admin && !u->accounts.n)
		return aidc_errf(&m->err, AIDC_E_PERM, "only admins delete this user");
	struct live_count n = count_live(c, NULL, u->name, NULL);
	if (n.live)
		return aidc_errf(&m->err, AIDC_E_STATE,
				 "user '%s' has %" PRIu64 " jobs not yet ended; cancel them or wait",
				 u->name, n.live);
	char name[AIDC_MAX_NAME_BYTES];
	snprintf(name, sizeof name, "%s", u->name);
	if ((rc = obj_unstore(c, &K_USER, name, &m->err)) != 0)
		return rc;
	obj_free(&K_USER, tset_remove(&c->ten.users, name));
	aidc_buf_printf(&m->resp->body, "{\"deleted\":\"%s\"}", name);
	return 0;
}

/* ---- QoS ------------------------------------------------------------------------------- */

int ctld_lf_qos_list(struct ctld *c, struct ctld_msg *m)
{
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_key(&w, "qos");
	aidc_json_arr_begin(&w);
	for (size_t i = 0; i < c->ten.qos.n; i++) {
		aidc_json_obj_begin(&w);
		obj_members(&K_QOS, c->ten.qos.v[i], &w);
		aidc_json_obj_end(&w);
	}
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}

int ctld_lf_qos_add(struct ctld *c, struct ctld_msg *m)
{
	if (!m->req->who.admin)
		return aidc_errf(&m->err, AIDC_E_PERM, "only admins add QoS");
	json_t *root;
	const char *name = NULL;
	int rc = body_object(m, &root);
	if (rc)
		return rc;
	if ((rc = body_name(m, root, "qos", &name)) != 0)
		goto out;
	if (ctld_qos_find(c, name)) {
		rc = aidc_errf(&m->err, AIDC_E_EXISTS, "QoS '%s' exists already", name);
		goto out;
	}
	if (c->ten.qos.n >= AIDC_MAX_QOS) {
		rc = aidc_errf(&m->err, AIDC_E_LIMIT, "%u QoS exist already (the limit)",
			       AIDC_MAX_QOS);
		goto out;
	}
	struct ctld_qos *q = obj_new(&K_QOS, name);
	/* The smallest free id: ids are stable for the QoS's life. */
	uint64_t used = 0;
	for (size_t i = 0; i < c->ten.qos.n; i++)
		used |= UINT64_C(1) << ((const struct ctld_qos *)c->ten.qos.v[i])->id;
	for (q->id = 1; q->id < (int64_t)AIDC_MAX_QOS && ((used >> q->id) & 1u); q->id++)
		;
	if ((rc = obj_apply(&K_QOS, q, root, true, true, false, NULL, &m->err)) != 0 ||
	    (rc = qos_check(c, q, &m->err)) != 0) {
		obj_free(&K_QOS, q);
		goto out;
	}
	rc = commit_obj(c, m, &K_QOS, &c->ten.qos, q, 201);
out:
	json_decref(root);
	return rc;
}

static const struct ctld_qos *req_qos(struct ctld *c, struct ctld_msg *m)
{
	const struct ctld_qos *q = ctld_qos_find(c, m->req->params[0]);
	if (!q)
		aidc_errf(&m->err, AIDC_E_NOTFOUND, "no QoS '%.64s'", m->req->params[0]);
	return q;
}

int ctld_lf_qos_modify(struct ctld *c, struct ctld_msg *m)
{
	const struct ctld_qos *old = req_qos(c, m);
	if (!old)
		return AIDC_E_NOTFOUND;
	if (!m->req->who.admin)
		return aidc_errf(&m->err, AIDC_E_PERM, "only admins modify QoS");
	json_t *root;
	int rc = body_object(m, &root);
	if (rc)
		return rc;
	struct ctld_qos *q = obj_copy(&K_QOS, old);
	if ((rc = obj_apply(&K_QOS, q, root, true, false, false, NULL, &m->err)) != 0 ||
	    (rc = qos_check(c, q, &m->err)) != 0)
		obj_free(&K_QOS, q);
	else
		rc = commit_obj(c, m, &K_QOS, &c->ten.qos, q, 200);
	json_decref(root);
	return rc;
}

int ctld_lf_qos_delete(struct ctld *c, struct ctld_msg *m)
{
	const struct ctld_qos *q = req_qos(c, m);
	if (!q)
		return AIDC_E_NOTFOUND;
	if (!m->req->who.admin)
		return aidc_errf(&m->err, AIDC_E_PERM, "only admins delete QoS");
	for (size_t i = 0; i < c->ten.acct.n; i++) {
		const struct ctld_account *a = c->ten.acct.v[i];
		if (names_has(&a->qos, q->name))
			return aidc_errf(&m->err, AIDC_E_STATE,
					 "account '%s' allows QoS '%s'; remove it there first", a->name,
					 q->name);
	}
	for (size_t i = 0; i < c->ten.qos.n; i++) {
		const struct ctld_qos *x = c->ten.qos.v[i];
		if (names_has(&x->preempt, q->name))
			return aidc_errf(&m->err, AIDC_E_STATE,
					 "QoS '%s' may preempt '%s'; remove it there first", x->name,
					 q->name);
	}
	struct live_count n = count_live(c, NULL, NULL, q->name);
	if (n.live)
		return aidc_errf(&m->err, AIDC_E_STATE, "%" PRIu64 " jobs not yet ended use QoS '%s'",
				 n.live, q->name);
	char name[AIDC_MAX_NAME_BYTES];
	snprintf(name, sizeof name, "%s", q->name);
	int rc = obj_unstore(c, &K_QOS, name, &m->err);
	if (rc)
		return rc;
	obj_free(&K_QOS, tset_remove(&c->ten.qos, name));
	aidc_buf_printf(&m->resp->body, "{\"deleted\":\"%s\"}", name);
	return 0;
}
