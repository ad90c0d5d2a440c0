/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web dashboard's server side (docs/dashboard.md): the static files of
 * web/ (plain HTML, CSS and JavaScript, no build step), the sign-in that keeps
 * a user's API token in an HttpOnly cookie, and GET /v1/whoami. The pages
 * only read the existing API with the caller's identity, so a user sees in
 * the browser exactly what the API lets that user see.
 *
 * Every handler here runs on an HTTP thread and touches no loop state: the
 * directory is found once at start (ctld_web_init), the token check goes
 * through ctld_token_check like a bearer token.
 *
 * Files are served by name from that one directory: a name is one path
 * segment of [A-Za-z0-9_.-] with a known extension (.html .js .css .svg),
 * never starting with '.', read with O_NOFOLLOW, a regular file of at most
 * AIDC_MAX_WEB_FILE_BYTES. Every file goes out with a Content-Security-Policy
 * that allows scripts and styles from this origin only (no inline script),
 * so text that escaped the page's own escaping still could not run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctld/ctld_int.h"
#include "util/util.h"

/* Attributes of the session cookie; Max-Age: a month (the token's own expiry
 * and revocation still apply on every request). */
#define COOKIE_ATTRS "; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000"

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int ctld_web_init(struct ctld *c, struct aidc_err *e)
{
	if (c->cfg.web_dir[0]) {
		if (!is_dir(c->cfg.web_dir))
			return aidc_errf(e, AIDC_E_INVAL, "web_dir %s: not a directory (%s)",
					 c->cfg.web_dir, strerror(errno ? errno : ENOTDIR));
		snprintf(c->web_dir, sizeof c->web_dir, "%s", c->cfg.web_dir);
		return 0;
	}
	char exe[AIDC_MAX_PATH_BYTES];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		snprintf(c->web_why, sizeof c->web_why,
			 "the dashboard's files were not found (/proc/self/exe unreadable); set "
			 "web_dir");
		aidc_log(AIDC_LOG_WARN, "controller: %s", c->web_why);
		return 0;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	static const char *const rel[] = {"/../share/aidc/web", "/web"};
	char cand[AIDC_MAX_PATH_BYTES + 32];
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		snprintf(cand, sizeof cand, "%s%s", exe, rel[i]);
		size_t len = strlen(cand);
		if (is_dir(cand) && len < sizeof c->web_dir) {
			memcpy(c->web_dir, cand, len + 1);
			return 0;
		}
	}
	snprintf(c->web_why, sizeof c->web_why,
		 "the dashboard's files were not found in %.200s/../share/aidc/web nor "
		 "%.200s/web; set web_dir",
		 exe, exe);
	aidc_log(AIDC_LOG_WARN, "controller: %s", c->web_why);
	return 0;
}

static const char *content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

static bool name_ok(const char *name)
{
	if (!name[0] || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return false;
	return content_type(name) != NULL;
}

static void add_header(struct api_response *resp, const char *name, const char *value)
{
	if (resp->nhdr >= API_MAX_RESP_HEADERS)
		return;
	resp->hdr_name[resp->nhdr] = name;
	snprintf(resp->hdr_value[resp->nhdr], sizeof resp->hdr_value[0], "%s", value);
	resp->nhdr++;
}

/* Reads dir/name into body; AIDC_E_NOTFOUND for a missing file. */
static int read_web_file(const char *dir, const char *name, struct aidc_buf *body,
			 struct aidc_err *e)
{
	char path[AIDC_MAX_PATH_BYTES + AIDC_MAX_NAME_BYTES + 2];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return aidc_errf(e, errno == ENOENT ? AIDC_E_NOTFOUND : AIDC_E_IO,
				 "dashboard file %s: %s", name, strerror(errno));
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = aidc_errf(e, AIDC_E_NOTFOUND, "dashboard file %s: not a regular file", name);
		goto out;
	}
	if ((uint64_t)st.st_size > AIDC_MAX_WEB_FILE_BYTES) {
		rc = aidc_errf(e, AIDC_E_LIMIT, "dashboard file %s: %lld bytes, more than %u", name,
			       (long long)st.st_size, AIDC_MAX_WEB_FILE_BYTES);
		goto out;
	}
	char chunk[16384];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc =
			    aidc_errf(e, AIDC_E_IO, "dashboard file %s: %s", name, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (body->len + (size_t)n > AIDC_MAX_WEB_FILE_BYTES ||
		    aidc_buf_append(body, chunk, (size_t)n) != 0) {
			rc = aidc_errf(e, AIDC_E_LIMIT, "dashboard file %s grew past %u bytes",
				       name, AIDC_MAX_WEB_FILE_BYTES);
			break;
		}
	}
out:
	close(fd);
	return rc;
}

int ctld_h_ui_file(void *ctx, struct api_request *req, struct api_response *resp,
		   struct aidc_err *e)
{
	struct ctld *c = ctx;
	const char *name = req->nparams ? req->params[0] : "index.html";
	if (!c->web_dir[0])
		return aidc_errf(e, AIDC_E_NOTFOUND, "%s", c->web_why);
	if (!name_ok(name))
		return aidc_errf(e, AIDC_E_NOTFOUND,
				 "no dashboard file %.64s (names are [A-Za-z0-9_.-] ending in "
				 ".html, .js, .css or .svg)",
				 name);
	int rc = read_web_file(c->web_dir, name, &resp->body, e);
	if (rc)
		return rc;
	resp->content_type = content_type(name);
	add_header(resp, "Content-Security-Policy", csp);
	add_header(resp, "X-Content-Type-Options", "nosniff");
	add_header(resp, "Referrer-Policy", "no-referrer");
	return 0;
}

int ctld_h_ui_root(void *ctx, struct api_request *req, struct api_response *resp,
		   struct aidc_err *e)
{
	(void)ctx, (void)req;
	resp->status = 302;
	resp->content_type = "text/plain; charset=utf-8";
	add_header(resp, "Location", "/ui");
	static const char msg[] = "the dashboard is at /ui\n";
	if (aidc_buf_append(&resp->body, msg, sizeof msg - 1) != 0)
		return aidc_errf(e, AIDC_E_LIMIT, "redirect reply");
	return 0;
}

/* {"user":..,"uid":..,"admin":..,"via":..} of who. */
static int whoami_json(const struct api_identity *who, struct aidc_buf *out)
{
	static const char *const vias[] = {"none", "socket", "secret", "token", "munge"};
	struct aidc_json j;
	aidc_json_init(&j, out, false);
	aidc_json_obj_begin(&j);
	aidc_json_kstr(&j, "user", who->user);
	aidc_json_ki64(&j, "uid", who->uid);
	aidc_json_kbool(&j, "admin", who->admin);
	aidc_json_kstr(&j, "via",
		       (size_t)who->via < sizeof vias / sizeof vias[0] ? vias[who->via] : "other");
	aidc_json_obj_end(&j);
	return aidc_json_finish(&j);
}

int ctld_h_whoami(void *ctx, struct api_request *req, struct api_response *resp, struct aidc_err *e)
{
	(void)ctx;
	int rc = whoami_json(&req->who, &resp->body);
	return rc ? aidc_errf(e, rc, "whoami reply") : 0;
}

int ctld_h_ui_login(void *ctx, struct api_request *req, struct api_response *resp,
		    struct aidc_err *e)
{
	struct ctld *c = ctx;
	struct api_ui_login in;
	int rc = api_decode(&api_schema_ui_login, req->body, req->body_len, &in, e);
	if (rc)
		return rc;
	struct api_identity who;
	memset(&who, 0, sizeof who);
	rc = ctld_token_check(ctx, in.token, &who, e);
	if (rc == 0 && who.job_scope) /* a job's credential is for its steps only */
		rc = aidc_errf(e, AIDC_E_AUTH, "a job's credential cannot sign in; paste a token "
					      "(aidc token create)");
	if (rc == 0) {
		char cookie[API_MAX_RESP_HEADER_BYTES];
		snprintf(cookie, sizeof cookie, "%s=%s%s%s", API_SESSION_COOKIE, in.token,
			 COOKIE_ATTRS, c->cfg.tls_cert[0] ? "; Secure" : "");
		add_header(resp, "Set-Cookie", cookie);
		/* The role is the API layer's to establish on each request: the
		 * page reads it from GET /v1/whoami. */
		struct aidc_json j;
		aidc_json_init(&j, &resp->body, false);
		aidc_json_obj_begin(&j);
		aidc_json_kstr(&j, "user", who.user);
		aidc_json_ki64(&j, "uid", who.uid);
		aidc_json_obj_end(&j);
		if ((rc = aidc_json_finish(&j)) != 0)
			aidc_errf(e, rc, "login reply");
	}
	api_decoded_release(&api_schema_ui_login, &in);
	return rc;
}

int ctld_h_ui_logout(void *ctx, struct api_request *req, struct api_response *resp,
		     struct aidc_err *e)
{
	struct ctld *c = ctx;
	(void)req;
	char cookie[API_MAX_RESP_HEADER_BYTES];
	snprintf(cookie, sizeof cookie, "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
		 API_SESSION_COOKIE, c->cfg.tls_cert[0] ? "; Secure" : "");
	add_header(resp, "Set-Cookie", cookie);
	struct api_identity nobody;
	memset(&nobody, 0, sizeof nobody);
	int rc = whoami_json(&nobody, &resp->body);
	return rc ? aidc_errf(e, rc, "logout reply") : 0;
}
