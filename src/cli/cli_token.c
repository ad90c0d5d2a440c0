/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc token create|list|revoke`: per-user API tokens for using the
 * controller from another host (docs/security.md, docs/cli.md). Creating one
 * needs the controller's Unix socket (the kernel vouches for the caller); the
 * token is printed once and only its hash is kept. List and revoke also work
 * remotely with a token.
 */
#include <jansson.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "util/util.h"

/* "30d", "12h", "90m", "3600s", "3600" or "never" -> seconds (0 = never). */
static int parse_lifetime(const char *s, int64_t *out)
{
	if (strcmp(s, "never") == 0) {
		*out = 0;
		return 0;
	}
	size_t n = strlen(s);
	if (n == 0 || n > 16)
		return -1;
	char num[24];
	memcpy(num, s, n + 1);
	int64_t mul = cli_unit_seconds(num[n - 1]);
	if (!mul) {
		mul = 1;
		n++; /* no unit: seconds */
	}
	num[n - 1] = '\0';
	int64_t v;
	int64_t max_s = (int64_t)AIDC_MAX_TOKEN_DAYS * 86400;
	if (aidc_parse_i64(num, 1, max_s / mul, &v) != 0)
		return -1;
	*out = v * mul;
	return 0;
}

static void print_time(const char *label, int64_t t_s)
{
	char buf[32] = "-";
	struct tm tm;
	time_t t = (time_t)t_s;
	if (t_s > 0 && gmtime_r(&t, &tm))
		strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
	printf(label, buf);
}

static int token_create(int argc, char **argv)
{
	const char *sock = NULL, *name = NULL, *user = NULL, *expires = "90d";
	bool json = false;
	const struct cli_flag flags[] = {
	    {"name", CLI_STR, &name, "NAME", "a label (e.g. the host it is for)", 0, 0, NULL, NULL},
	    {"expires", CLI_STR, &expires, "TIME",
	     "lifetime: Nd, Nh, Nm, Ns or never (default 90d)", 0, 0, NULL, NULL},
	    {"user", CLI_STR, &user, "NAME", "root only: create the token for this user", 0, 0, NULL,
	     NULL},
	    {"json", CLI_BOOL, &json, NULL, "print the controller's JSON", 0, 0, NULL, NULL},
	    {"socket", CLI_STR, &sock, "PATH", "controller socket", 0, 0, NULL, NULL},
	};
	const struct cli_cmd cmd = {
	    "token create", "aidc token create [--name N] [--expires 30d] [--user NAME]",
	    "Create a per-user API token over the controller's Unix socket and print it once "
	    "(store it in ~/.aidc/token, mode 0600, on the remote host).",
	    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	int64_t life;
	if (parse_lifetime(expires, &life) != 0)
		return cli_refuse(&cmd,
				  "--expires %s: expected Nd, Nh, Nm, Ns (at most %u days) or never",
				  expires, AIDC_MAX_TOKEN_DAYS);
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(sock, sp, sizeof sp);
	if (cli_is_url(sp)) {
		fprintf(stderr,
			"aidc token create: tokens are created on the controller's host over "
			"its Unix socket (give --socket PATH, unset AIDC_CONTROLLER)\n");
		return CLI_EXIT_USAGE;
	}
	json_t *req = json_object();
	if (name)
		json_object_set_new(req, "name", json_string(name));
	if (user)
		json_object_set_new(req, "user", json_string(user));
	json_object_set_new(req, "expires_s", json_integer(life));
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!body) {
		fprintf(stderr, "aidc token create: bad --name or --user (not UTF-8?)\n");
		return CLI_EXIT_USAGE;
	}
	struct api_call c;
	rc = cli_call("token create", sp, "POST", "/v1/tokens", body, strlen(body), &c);
	free(body);
	if (rc)
		return rc;
	json_error_t je;
	json_t *r = json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, &je);
	json_t *info = r ? json_object_get(r, "info") : NULL;
	const char *tok = r ? json_string_value(json_object_get(r, "token")) : NULL;
	if (json || !tok) {
		printf("%s\n", aidc_buf_str(&c.reply));
	} else {
		printf("%s\n", tok);
		fprintf(stderr, "token %lld for %s",
			(long long)json_integer_value(json_object_get(info, "id")),
			json_string_value(json_object_get(info, "user")));
		int64_t exp = json_integer_value(json_object_get(info, "expires_s"));
		if (exp)
			fprintf(stderr, ", expires %lld (Unix time)", (long long)exp);
		fprintf(stderr, ". It is shown only now: save it on the remote host as "
				"~/.aidc/token (mode 0600) or in AIDC_TOKEN.\n");
	}
	if (c.reply.data)
		explicit_bzero(c.reply.data, c.reply.len);
	json_decref(r);
	aidc_buf_release(&c.reply);
	return tok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* The table of `aidc token list`: one row a token, never its secret. */
static void show_tokens(json_t *r)
{
	printf("%-6s %-16s %-12s %-8s %-20s %s\n", "ID", "NAME", "USER", "STATE", "CREATED",
	       "EXPIRES");
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(r, "tokens"), i, t)
	{
		printf("%-6lld %-16.16s %-12.12s %-8s ",
		       (long long)json_integer_value(json_object_get(t, "id")),
		       json_string_value(json_object_get(t, "name")),
		       json_string_value(json_object_get(t, "user")),
		       json_string_value(json_object_get(t, "state")));
		print_time("%-20s ", json_integer_value(json_object_get(t, "created_s")));
		int64_t exp = json_integer_value(json_object_get(t, "expires_s"));
		if (exp)
			print_time("%s\n", exp);
		else
			printf("never\n");
	}
}

static int token_list(int argc, char **argv)
{
	const char *sock = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
	    CLI_LIVE_FLAGS(json, sock),
	};
	const struct cli_cmd cmd = {
	    "token list", "aidc token list [--json]",
	    "List your tokens (all tokens for admins); never their secrets.", flags,
	    AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	return cli_get_show("token list", sock, "/v1/tokens", json, show_tokens);
}

static int token_revoke(int argc, char **argv)
{
	const char *sock = NULL;
	const struct cli_flag flags[] = {CLI_CONN_FLAGS(sock)};
	const struct cli_cmd cmd = {"token revoke", "aidc token revoke ID",
				    "Revoke a token at once (yours; any for admins).", flags,
				    AIDC_ARRAY_LEN(flags)};
	int64_t id;
	int rc;
	if (!cli_parse_id(&cmd, argc, argv, &id, &rc, "expected a token id (see 'aidc token list')"))
		return rc;
	char sp[AIDC_MAX_PATH_BYTES], path[64];
	cli_socket_path(sock, sp, sizeof sp);
	snprintf(path, sizeof path, "/v1/tokens/%" PRId64 "/revoke", id);
	struct api_call c;
	if ((rc = cli_call("token revoke", sp, "POST", path, NULL, 0, &c)) != 0)
		return rc;
	printf("token %" PRId64 " revoked\n", id);
	aidc_buf_release(&c.reply);
	return CLI_EXIT_OK;
}

int cli_token_main(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"create", token_create, "create a token (over the Unix socket) and print it once"},
	    {"list", token_list, "list tokens"},
	    {"revoke", token_revoke, "revoke a token"},
	};
	return cli_dispatch("token", subs, AIDC_ARRAY_LEN(subs), argc, argv);
}
