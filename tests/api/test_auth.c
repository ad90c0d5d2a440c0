/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of per-user tokens below the controller: the store's tokens
 * table (migration 1 -> 2 of an existing database, add/get/list/revoke,
 * ids never reused, rows survive a re-open) and the helpers of api_auth.c
 * (random secrets, parsing presented tokens at and past their format's
 * edges, constant-time comparison), and the client's refusals: plain http
 * beyond loopback as libcurl parses the URL (userinfo, query, fragment) and
 * proxies from the environment.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api.h"
#include "store/store.h"
#include "tests/store/store_test_util.h"
#include "util/util.h"

static char dir[] = "/tmp/aidc_test_auth_XXXXXX";

struct seen {
	int n;
	uint64_t last_id;
	uint32_t uids[8];
};

static int see(void *ctx, const struct store_token *t)
{
	struct seen *s = ctx;
	if (s->n < 8)
		s->uids[s->n] = t->uid;
	s->n++;
	s->last_id = t->id;
	return 0;
}

static void test_store_tokens(void)
{
	char db[256];
	snprintf(db, sizeof db, "%s/t.db", dir);
	struct aidc_err e = {0};
	struct store *st = store_test_open(db, &e);
	if (!st)
		return;
	CHECK_EQ(st->ops->schema_version(st), STORE_SCHEMA_VERSION);
	char hash[API_HASH_HEX + 1], secret[API_TOKEN_SECRET_HEX + 1];
	CHECK_EQ(api_token_secret_new(secret, hash, &e), 0);
	struct store_token t = {.uid = 1000,
				.gid = 1000,
				.user = "alice",
				.name = "laptop",
				.hash_hex = hash,
				.created_s = 100,
				.expires_s = 200};
	uint64_t id1 = 0, id2 = 0, id3 = 0;
	CHECK_EQ(store_begin(st, &e), 0);
	CHECK_EQ(st->ops->token_add(st, &t, &id1, &e), 0);
	t.uid = 1001;
	t.user = "bob";
	CHECK_EQ(st->ops->token_add(st, &t, &id2, &e), 0);
	CHECK_EQ(store_commit(st, &e), 0);
	CHECK(id1 >= 1 && id2 > id1);

	struct store_token g = {0};
	CHECK_EQ(st->ops->token_get(st, id1, &g, &e), 0);
	CHECK_EQ(g.uid, 1000);
	CHECK_STR(g.user, "alice");
	CHECK_STR(g.name, "laptop");
	CHECK_STR(g.hash_hex, hash);
	CHECK_EQ(g.expires_s, 200);
	CHECK_EQ(g.revoked_s, 0);
	store_token_release(&g);
	CHECK_EQ(st->ops->token_get(st, 999, &g, NULL), AIDC_E_NOTFOUND);

	struct seen s = {0};
	CHECK_EQ(st->ops->token_list(st, 1001, see, &s, &e), 0);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(s.uids[0], 1001);
	memset(&s, 0, sizeof s);
	CHECK_EQ(st->ops->token_list(st, -1, see, &s, &e), 0);
	CHECK_EQ(s.n, 2);

	/* Revoke: the first time stamps it, a second keeps the first stamp. */
	CHECK_EQ(st->ops->token_revoke(st, id1, 500, &e), 0);
	CHECK_EQ(st->ops->token_revoke(st, id1, 900, &e), 0);
	CHECK_EQ(st->ops->token_get(st, id1, &g, &e), 0);
	CHECK_EQ(g.revoked_s, 500);
	store_token_release(&g);
	CHECK_EQ(st->ops->token_revoke(st, 999, 500, NULL), AIDC_E_NOTFOUND);

	/* A rolled-back add leaves nothing, and ids are never reused. */
	CHECK_EQ(store_begin(st, &e), 0);
	CHECK_EQ(st->ops->token_add(st, &t, &id3, &e), 0);
	store_rollback(st);
	CHECK_EQ(st->ops->token_get(st, id3, &g, NULL), AIDC_E_NOTFOUND);
	store_close(st);

	/* Rows survive a re-open. */
	st = store_test_open(db, &e);
	if (!st)
		return;
	memset(&s, 0, sizeof s);
	CHECK_EQ(st->ops->token_list(st, -1, see, &s, &e), 0);
	CHECK_EQ(s.n, 2);
	uint64_t id4 = 0;
	CHECK_EQ(st->ops->token_add(st, &t, &id4, &e), 0);
	CHECK(id4 > id2);
	store_close(st);
}

/* A database written by a build with schema version 1 gets the tokens table. */
static void test_migration_from_v1(void)
{
	char db[256];
	snprintf(db, sizeof db, "%s/v1.db", dir);
	struct aidc_err e = {0};
	struct store *st = store_test_open(db, &e);
	struct store_job j = {.id = 3,
			      .uid = 7,
			      .gid = 7,
			      .user = "u",
			      .name = "n",
			      .spec_json = "{\"v\":1}",
			      .submit_s = 1};
	CHECK_EQ(st->ops->job_insert(st, &j, &e), 0);
	store_close(st);
	/* Turn it back into a version-1 database. */
	store_test_raw_sql(db, "DROP TABLE tokens; ALTER TABLE jobs DROP COLUMN log_key; "
			   STORE_TEST_DROP_AFTER_V3
			   " DELETE FROM schema_version WHERE version >= 2;");
	st = store_test_open(db, &e);
	if (!st)
		return;
	CHECK_EQ(st->ops->schema_version(st), STORE_SCHEMA_VERSION);
	struct store_job g = {0};
	CHECK_EQ(st->ops->job_get(st, 3, &g, &e), 0);
	CHECK_STR(g.user, "u");
	store_job_release(&g);
	struct store_token t = {.uid = 7, .gid = 7, .user = "u", .name = "", .hash_hex = "ab"};
	uint64_t id = 0;
	CHECK_EQ(st->ops->token_add(st, &t, &id, &e), 0);
	CHECK_EQ(id, 1);
	store_close(st);
}

static void test_token_format(void)
{
	struct aidc_err e = {0};
	char s1[API_TOKEN_SECRET_HEX + 1], h1[API_HASH_HEX + 1];
	char s2[API_TOKEN_SECRET_HEX + 1], h2[API_HASH_HEX + 1];
	CHECK_EQ(api_token_secret_new(s1, h1, &e), 0);
	CHECK_EQ(api_token_secret_new(s2, h2, &e), 0);
	CHECK_EQ(strlen(s1), API_TOKEN_SECRET_HEX);
	CHECK_EQ(strlen(h1), API_HASH_HEX);
	CHECK(strcmp(s1, s2) != 0);
	CHECK(strcmp(h1, h2) != 0);
	/* SHA-256("abc"), the FIPS 180-2 example. */
	char h[API_HASH_HEX + 1];
	CHECK_EQ(api_sha256_hex("abc", 3, h, &e), 0);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	char tok[160], ph[API_HASH_HEX + 1];
	uint64_t id = 0;
	snprintf(tok, sizeof tok, "aidc_42_%s", s1);
	CHECK_EQ(api_token_parse(tok, &id, ph, &e), 0);
	CHECK_EQ(id, 42);
	CHECK_STR(ph, h1);
	snprintf(tok, sizeof tok, "aidc_9999999999999999999_%s", s1); /* 19 digits: the most */
	CHECK_EQ(api_token_parse(tok, &id, ph, &e), 0);
	static const char *const bad_prefix[] = {
	    "",		"aidc_",    "aidc__",
	    "aidc_0_",	"aidc_x_",  "aidc_1",
	    "AIDC_1_",	"aidc_-1_", "aidc_99999999999999999999_", /* 20 digits */
	    " aidc_1_",
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(bad_prefix); i++) {
		snprintf(tok, sizeof tok, "%s%s", bad_prefix[i], s1);
		CHECK_EQ(api_token_parse(tok, &id, ph, NULL), AIDC_E_AUTH);
	}
	/* The secret part: exactly 64 lowercase hex digits. */
	snprintf(tok, sizeof tok, "aidc_1_%.63s", s1);
	CHECK_EQ(api_token_parse(tok, &id, ph, NULL), AIDC_E_AUTH);
	snprintf(tok, sizeof tok, "aidc_1_%s0", s1);
	CHECK_EQ(api_token_parse(tok, &id, ph, NULL), AIDC_E_AUTH);
	snprintf(tok, sizeof tok, "aidc_1_%s", s1);
	tok[10] = 'G';
	CHECK_EQ(api_token_parse(tok, &id, ph, NULL), AIDC_E_AUTH);
	CHECK_EQ(api_token_parse(NULL, &id, ph, NULL), AIDC_E_AUTH);

	CHECK(api_const_equal(h1, h1));
	CHECK(!api_const_equal(h1, h2));
	CHECK(!api_const_equal("abc", "ab"));
	CHECK(!api_const_equal("ab", "abc"));
	CHECK(!api_const_equal("abc", NULL));
	CHECK(api_const_equal("", ""));
}

/* Job credentials: HMAC-SHA256(secret, "aidc-job-v1 JOB ATTEMPT") (the
 * expected value from Python's hmac), the parse refusing every malformed form,
 * and another secret, job or attempt giving another credential. */
static void test_job_cred(void)
{
	struct aidc_err e = {0};
	char c[API_JOB_CRED_MAX], d[API_JOB_CRED_MAX], tok[API_JOB_CRED_MAX + 8];
	int64_t job = 0, att = -1;

	CHECK_EQ(api_job_cred("s3cret", 12, 1, c, &e), 0);
	CHECK_STR(c, "aidcjob_12_1_7cecd8400db96f08d013aa2077a62d0ebf72804790be3161bb779533b994fe13");
	CHECK(api_job_cred_parse(c, &job, &att));
	CHECK_EQ(job, 12);
	CHECK_EQ(att, 1);
	CHECK_EQ(api_job_cred("s3cret", 12, 2, d, &e), 0);
	CHECK(!api_const_equal(c, d));
	CHECK_EQ(api_job_cred("s3cret", 13, 1, d, &e), 0);
	CHECK(!api_const_equal(c, d));
	CHECK_EQ(api_job_cred("other", 12, 1, d, &e), 0);
	CHECK(!api_const_equal(c, d));
	CHECK_EQ(api_job_cred("", 12, 1, d, &e), AIDC_E_INVAL);
	CHECK_EQ(api_job_cred("s3cret", 0, 1, d, &e), AIDC_E_INVAL);
	const char *mac = c + strlen("aidcjob_12_1_");
	static const char *const bad[] = {"aidcjob_0_1_",  "aidcjob__1_",	"aidcjob_12__",
					  "aidcjob_12_1",  "aidc_12_1_",	"AIDCJOB_12_1_",
					  "aidcjob_-1_1_", "aidcjob_99999999999999999999_1_"};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(bad); i++) {
		snprintf(tok, sizeof tok, "%s%s", bad[i], mac);
		CHECK(!api_job_cred_parse(tok, &job, &att));
	}
	snprintf(tok, sizeof tok, "aidcjob_12_1_%.63s", mac);
	CHECK(!api_job_cred_parse(tok, &job, &att));
	snprintf(tok, sizeof tok, "aidcjob_12_1_%sa", mac);
	CHECK(!api_job_cred_parse(tok, &job, &att));
	snprintf(tok, sizeof tok, "aidcjob_12_1_%s", mac);
	tok[20] = 'F';
	CHECK(!api_job_cred_parse(tok, &job, &att));
	CHECK(!api_job_cred_parse(NULL, &job, &att));
}

static void test_loopback(void)
{
	CHECK(api_host_is_loopback("127.0.0.1"));
	CHECK(api_host_is_loopback("127.1.2.3"));
	CHECK(api_host_is_loopback("localhost"));
	CHECK(api_host_is_loopback("::1"));
	CHECK(api_host_is_loopback("[::1]"));
	CHECK(!api_host_is_loopback("128.0.0.1"));
	CHECK(!api_host_is_loopback("0.0.0.0"));
	CHECK(!api_host_is_loopback("10.0.0.1"));
	CHECK(!api_host_is_loopback("localhost.example.com"));
	CHECK(!api_host_is_loopback(""));
	CHECK(!api_host_is_loopback(NULL));
}

/* Clients refuse credentials over plain http beyond loopback; https and
 * loopback are fine; bad URLs are refused. No connection is made. */
static void test_client_refusals(void)
{
	static const struct {
		const char *url, *secret, *token;
		int want;
	} cases[] = {
	    {"http://10.0.0.1:6820", "s3cret-s3cret-s3cret", NULL, AIDC_E_PERM},
	    {"http://10.0.0.1:6820", NULL, "aidc_1_x", AIDC_E_PERM},
	    {"http://10.0.0.1:6820", NULL, NULL, 0}, /* nothing to leak */
	    {"https://10.0.0.1:6820", NULL, "aidc_1_x", 0},
	    {"http://127.0.0.1:6820", "s3cret-s3cret-s3cret", NULL, 0},
	    {"http://localhost:6820", NULL, "aidc_1_x", 0},
	    {"http://[::1]:6820", NULL, "aidc_1_x", 0},
	    {"ftp://127.0.0.1:6820", NULL, NULL, AIDC_E_INVAL},
	    {"https://", NULL, NULL, AIDC_E_INVAL},
	    {"https://[::1:6820", NULL, NULL, AIDC_E_INVAL},
	    {"https://127.0.0.1:6820", NULL, "bad\ntoken", AIDC_E_INVAL},
	    /* Userinfo: libcurl would connect to the host after '@' (review #1). */
	    {"http://127.0.0.1:x@192.0.2.1:6820/", NULL, "aidc_1_x", AIDC_E_INVAL},
	    {"http://[::1]@192.0.2.1/", "s3cret-s3cret-s3cret", NULL, AIDC_E_INVAL},
	    {"http://127.0.0.1@192.0.2.1:6820", NULL, "aidc_1_x", AIDC_E_INVAL},
	    {"http://localhost:6820@192.0.2.1", NULL, NULL, AIDC_E_INVAL},
	    {"http://127.0.0.1:6820/?@192.0.2.1", NULL, "aidc_1_x", AIDC_E_INVAL},
	    {"http://127.0.0.1:6820#@192.0.2.1", NULL, "aidc_1_x", AIDC_E_INVAL},
	    {"http://[0:0:0:0:0:0:0:1]:6820", NULL, "aidc_1_x", 0},
	    {"http://192.0.2.1:6820/127.0.0.1", NULL, "aidc_1_x", AIDC_E_PERM},
	};
	unsetenv("AIDC_INSECURE_PLAINTEXT");
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct api_client cl;
		struct aidc_err e = {0};
		struct api_client_opts o = {
		    .url = cases[i].url, .secret = cases[i].secret, .token = cases[i].token};
		int rc = api_client_open(&cl, &o, &e);
		if (rc != cases[i].want)
			fprintf(stderr, "case %zu (%s): %s\n", i, cases[i].url, e.msg);
		CHECK_EQ(rc, cases[i].want);
		api_client_release(&cl);
	}
	/* The agent's path: a scheme inside the host. */
	struct api_client cl;
	CHECK_EQ(api_client_init(&cl, NULL, "http://10.9.8.7", 6820, "s3cret-s3cret-s3cret", NULL),
		 AIDC_E_PERM);
	api_client_release(&cl);
	CHECK_EQ(api_client_init(&cl, NULL, "https://10.9.8.7", 6820, "s3cret-s3cret-s3cret", NULL),
		 0);
	CHECK_STR(cl.base, "https://10.9.8.7:6820");
	api_client_release(&cl);
	CHECK_EQ(api_client_init(&cl, NULL, "127.0.0.1", 6820, "s3cret-s3cret-s3cret", NULL), 0);
	CHECK_STR(cl.base, "http://127.0.0.1:6820");
	api_client_release(&cl);
	/* The documented override for isolated test networks. */
	setenv("AIDC_INSECURE_PLAINTEXT", "1", 1);
	CHECK_EQ(api_client_init(&cl, NULL, "10.9.8.7", 6820, "s3cret-s3cret-s3cret", NULL), 0);
	api_client_release(&cl);
	unsetenv("AIDC_INSECURE_PLAINTEXT");
}

/* A listening socket on 127.0.0.1 (port into *port), or -1. */
static int listen_local(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sin;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Proxies from the environment are never used (review #2): with every proxy
 * variable pointing at a local listener, calls with the secret, a token or
 * over a Unix socket never reach it. */
static void test_no_proxy(void)
{
	uint16_t pport = 0, cport = 0;
	int proxy = listen_local(&pport);
	/* A port that was just free and is closed again: the direct call fails fast. */
	int closed = listen_local(&cport);
	CHECK(proxy >= 0 && closed >= 0);
	if (proxy < 0 || closed < 0)
		return;
	close(closed);
	char purl[64];
	snprintf(purl, sizeof purl, "http://127.0.0.1:%u", (unsigned)pport);
	static const char *const vars[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY",
					   "all_proxy"};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(vars); i++)
		setenv(vars[i], purl, 1);
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)cport);
	struct api_client_opts opts[] = {
	    {.url = url, .secret = "s3cret-s3cret-s3cret"},
	    {.url = url, .token = "aidc_1_x"},
	    {.unix_path = "/nonexistent/aidc_test_auth.sock"},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(opts); i++) {
		struct api_client cl;
		struct aidc_err e = {0};
		struct api_call call = {.method = "GET", .path = "/v1/jobs", .timeout_ms = 2000};
		aidc_buf_init(&call.reply, 1 << 20);
		CHECK_EQ(api_client_open(&cl, &opts[i], &e), 0);
		/* Refused (nothing listens there): never an answer through the proxy. */
		CHECK_EQ(api_client_call(&cl, &call, &e), AIDC_E_IO);
		aidc_buf_release(&call.reply);
		api_client_release(&cl);
		int c = accept(proxy, NULL, NULL);
		if (c >= 0) {
			fprintf(stderr, "case %zu: the call went to the proxy\n", i);
			close(c);
		}
		CHECK(c < 0);
	}
	for (size_t i = 0; i < AIDC_ARRAY_LEN(vars); i++)
		unsetenv(vars[i]);
	close(proxy);
}

/* The cases share one temporary directory, made before and removed after them. */
int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST(test_store_tokens),    TEST(test_migration_from_v1), TEST(test_token_format),
		TEST(test_job_cred), TEST(test_loopback),        TEST(test_client_refusals),   TEST(test_no_proxy),
	};
	return test_run_in_dir(argc, argv, cases, AIDC_ARRAY_LEN(cases), dir);
}
