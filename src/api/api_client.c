/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP client of the live center: users' CLI over the controller's Unix
 * socket (api_client_unix.c, no libcurl), agents over TCP with the cluster
 * secret header, remote users over TCP with a bearer token (libcurl, loaded
 * with dlopen at the first TCP client: a process that only talks to the
 * local socket never pays for loading it and its TLS stack).
 * https verifies the controller's certificate and name against a CA file; a
 * credential is never sent over plain http beyond loopback (the host is the
 * one libcurl's own URL parser finds) nor through a proxy. Replies are read
 * into a bounded aidc_buf; the X-AIDC-Offset / X-AIDC-Done headers of log
 * reads are picked out.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <jansson.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "api/api_int.h"
#include "util/util.h"

/* The libcurl functions used here, resolved from libcurl.so.4. */
#define CU_FN(name) __typeof__(curl_##name) *name
static struct {
	CU_FN(global_init);
	CU_FN(url);
	CU_FN(url_set);
	CU_FN(url_get);
	CU_FN(url_cleanup);
	CU_FN(free);
	CU_FN(easy_init);
	CU_FN(easy_cleanup);
	CU_FN(easy_reset);
	CU_FN(easy_setopt);
	CU_FN(easy_perform);
	CU_FN(easy_getinfo);
	CU_FN(easy_strerror);
	CU_FN(slist_append);
	CU_FN(slist_free_all);
} cu;
#undef CU_FN
static pthread_once_t cu_once = PTHREAD_ONCE_INIT;
static char cu_error[256] = "not loaded";

#define CU_SYM(h, name) (cu.name = (__typeof__(cu.name))dlsym(h, "curl_" #name)) != NULL

static void cu_load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(cu_error, sizeof cu_error, "%s", dlerror());
		return;
	}
	if (!(CU_SYM(h, global_init) && CU_SYM(h, url) && CU_SYM(h, url_set) &&
	      CU_SYM(h, url_get) && CU_SYM(h, url_cleanup) && CU_SYM(h, free) &&
	      CU_SYM(h, easy_init) && CU_SYM(h, easy_cleanup) && CU_SYM(h, easy_reset) &&
	      CU_SYM(h, easy_setopt) && CU_SYM(h, easy_perform) && CU_SYM(h, easy_getinfo) &&
	      CU_SYM(h, easy_strerror) && CU_SYM(h, slist_append) && CU_SYM(h, slist_free_all))) {
		snprintf(cu_error, sizeof cu_error, "libcurl.so.4 lacks a function: %s", dlerror());
		return; /* the handle stays open: harmless, and nothing of it is used */
	}
	cu.global_init(CURL_GLOBAL_DEFAULT);
}

/* libcurl loaded (once per process), or an error naming why not. */
static int cu_ready(struct aidc_err *e)
{
	pthread_once(&cu_once, cu_load);
	if (cu.slist_free_all && cu.global_init)
		return 0;
	return aidc_errf(e, AIDC_E_UNSUPPORTED,
			 "a controller URL needs libcurl (Debian package libcurl4): %s", cu_error);
}
#undef CU_SYM

/* The host libcurl will connect to for url (curl_url: the same parser the
 * transfer uses, so userinfo such as http://127.0.0.1:x@EVIL/ shows EVIL),
 * into out without IPv6 brackets. A URL with userinfo, a query or a fragment
 * is refused: a controller URL is scheme://HOST[:PORT][/PATH] only. */
static int url_host(const char *url, char *out, size_t n, bool *https, struct aidc_err *e)
{
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return aidc_errf(e, AIDC_E_INVAL,
				 "controller URL '%.100s' must start with https:// or http://", url);
	CURLU *u = cu.url();
	char *scheme = NULL, *host = NULL, *part = NULL;
	int rc = 0;
	if (!u)
		return aidc_errf(e, AIDC_E_NOMEM, "curl_url failed");
	if (cu.url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    cu.url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    cu.url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		rc = aidc_errf(e, AIDC_E_INVAL, "controller URL '%.100s' has no valid host", url);
		goto out;
	}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		rc = aidc_errf(e, AIDC_E_INVAL,
			       "controller URL '%.100s' must start with https:// or http://", url);
		goto out;
	}
	*https = strcmp(scheme, "https") == 0;
	static const CURLUPart extra[] = {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS,
					  CURLUPART_QUERY, CURLUPART_FRAGMENT};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(extra) && rc == 0; i++) {
		if (cu.url_get(u, extra[i], &part, 0) == CURLUE_OK)
			rc = aidc_errf(e, AIDC_E_INVAL,
				       "controller URL '%.100s' must not carry a user name, "
				       "password, query or fragment",
				       url);
		cu.free(part);
		part = NULL;
	}
	if (rc)
		goto out;
	/* "[::1]" -> "::1": api_host_is_loopback then sees the address itself. */
	const char *h = host;
	size_t len = strlen(h);
	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		h++;
		len -= 2;
	}
	if (len == 0 || len >= n)
		rc = aidc_errf(e, AIDC_E_INVAL, "controller URL '%.100s' has no valid host", url);
	else {
		memcpy(out, h, len);
		out[len] = '\0';
	}
out:
	cu.free(scheme);
	cu.free(host);
	cu.url_cleanup(u);
	return rc;
}

/* (api_http.c also uses it: a listener off loopback needs TLS.) */
bool api_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (!host)
		return false;
	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static bool insecure_override(void)
{
	const char *v = getenv("AIDC_INSECURE_PLAINTEXT");
	return v && strcmp(v, "1") == 0;
}

/* One controller URL of o->url (len bytes at url) checked and appended to
 * cl->urls; *any_https is set when it is https. */
static int add_url(struct api_client *cl, const struct api_client_opts *o, const char *url,
		   size_t len, bool *any_https, struct aidc_err *e)
{
	char one[sizeof cl->base], host[256];
	bool https = false;
	if (len == 0 || len >= sizeof one)
		return aidc_errf(e, AIDC_E_INVAL, "bad controller URL '%.*s'", (int)(len < 100 ? len : 100),
				 url);
	if (cl->nurls == API_CLIENT_MAX_URLS)
		return aidc_errf(e, AIDC_E_LIMIT, "more than %d controller URLs",
				 API_CLIENT_MAX_URLS);
	memcpy(one, url, len);
	one[len] = '\0';
	int rc = url_host(one, host, sizeof host, &https, e);
	if (rc)
		return rc;
	while (len && one[len - 1] == '/')
		one[--len] = '\0';
	bool cred = (o->secret && *o->secret) || (o->token && *o->token) || o->munge;
	if (!https && cred && !api_host_is_loopback(host) && !insecure_override())
		return aidc_errf(e, AIDC_E_PERM,
				 "refusing to send the %s to %s over plain http (use "
				 "https://; see docs/security.md)",
				 o->token ? "token"
				 : o->munge ? "MUNGE credential"
					    : "cluster secret",
				 host);
	memcpy(cl->urls[cl->nurls++], one, len + 1);
	*any_https |= https;
	return 0;
}

int api_client_open(struct api_client *cl, const struct api_client_opts *o, struct aidc_err *e)
{
	memset(cl, 0, sizeof *cl);
	if (o->unix_path) {
		if (strlen(o->unix_path) >= sizeof cl->unix_path)
			return aidc_errf(e, AIDC_E_LIMIT, "socket path too long");
		memcpy(cl->unix_path, o->unix_path, strlen(o->unix_path) + 1);
		snprintf(cl->base, sizeof cl->base, "http://localhost");
	} else {
		bool https = false;
		if (!o->url || !*o->url)
			return aidc_errf(e, AIDC_E_INVAL, "bad controller URL");
		int lrc = cu_ready(e);
		if (lrc)
			return lrc;
		for (const char *p = o->url;;) {
			size_t len = strcspn(p, ",");
			int rc = add_url(cl, o, p, len, &https, e);
			if (rc)
				return rc;
			if (!p[len])
				break;
			p += len + 1;
		}
		snprintf(cl->base, sizeof cl->base, "%s", cl->urls[0]);
		const char *ca = o->cafile ? o->cafile : getenv("AIDC_CACERT");
		if (https && ca && *ca) {
			if (strlen(ca) >= sizeof cl->cafile)
				return aidc_errf(e, AIDC_E_LIMIT, "CA file path too long");
			int fd = open(ca, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return aidc_errf(e, AIDC_E_IO,
						 "CA file %s (--cacert or AIDC_CACERT): %s", ca,
						 strerror(errno));
			close(fd);
			memcpy(cl->cafile, ca, strlen(ca) + 1);
		}
	}
	if (o->secret && *o->secret) { /* an empty one would be a wrong one: 401 */
		if (strlen(o->secret) > AIDC_MAX_SECRET_BYTES)
			return aidc_errf(e, AIDC_E_LIMIT, "secret too long");
		snprintf(cl->secret_hdr, sizeof cl->secret_hdr, "X-AIDC-Secret: %s", o->secret);
	}
	if (o->token) {
		if (strlen(o->token) > AIDC_MAX_TOKEN_BYTES || strpbrk(o->token, "\r\n"))
			return aidc_errf(e, AIDC_E_INVAL, "malformed token");
		snprintf(cl->auth_hdr, sizeof cl->auth_hdr, "Authorization: Bearer %s", o->token);
	}
	if (o->munge) {
		const char *ms = o->munge_socket ? o->munge_socket : "";
		if (strlen(ms) >= sizeof cl->munge_socket)
			return aidc_errf(e, AIDC_E_LIMIT, "MUNGE socket path too long");
		memcpy(cl->munge_socket, ms, strlen(ms) + 1);
		cl->munge = true;
	}
	if (o->unix_path)
		return 0; /* api_client_unix.c */
	cl->curl = cu.easy_init();
	if (!cl->curl)
		return aidc_errf(e, AIDC_E_NOMEM, "curl_easy_init failed");
	return 0;
}

int api_client_init(struct api_client *cl, const char *unix_path, const char *host,
		    uint16_t port, const char *secret, struct aidc_err *e)
{
	char url[128];
	struct api_client_opts o = {.unix_path = unix_path, .secret = secret};
	if (!unix_path) {
		if (!host || strlen(host) > 72) {
			memset(cl, 0, sizeof *cl);
			return aidc_errf(e, AIDC_E_INVAL, "bad controller host");
		}
		bool scheme = strstr(host, "://") != NULL;
		snprintf(url, sizeof url, "%s%s:%u", scheme ? "" : "http://", host, (unsigned)port);
		o.url = url;
	}
	return api_client_open(cl, &o, e);
}

void api_client_release(struct api_client *cl)
{
	if (cl->curl)
		cu.easy_cleanup(cl->curl);
	cl->curl = NULL;
	explicit_bzero(cl->secret_hdr, sizeof cl->secret_hdr);
	explicit_bzero(cl->auth_hdr, sizeof cl->auth_hdr);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct api_call *call = ud;
	if (aidc_buf_append(&call->reply, p, size * n) != 0)
		return 0; /* over the caller's limit: abort the transfer */
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct api_call *call = ud;
	size_t len = size * n;
	char line[128];
	if (len >= sizeof line)
		return len;
	memcpy(line, p, len);
	line[len] = '\0';
	int64_t v;
	char *colon = strchr(line, ':');
	if (!colon)
		return len;
	*colon = '\0';
	char *val = colon + 1;
	val[strcspn(val, "\r\n")] = '\0';
	if (strcasecmp(line, "X-AIDC-Offset") == 0 && aidc_parse_i64(val, 0, INT64_MAX, &v) == 0)
		call->offset_hdr = v;
	else if (strcasecmp(line, "X-AIDC-Done") == 0 && aidc_parse_i64(val, 0, 1, &v) == 0)
		call->done_hdr = (int)v;
	return len;
}

/* libcurl's progress callback: abandons a call whose cancel_gen moved. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	const struct api_call *call = ud;
	return __atomic_load_n(call->cancel_gen, __ATOMIC_RELAXED) != call->cancel_at;
}

void api_client_use(struct api_client *cl, unsigned i)
{
	if (i >= cl->nurls)
		return;
	cl->cur = i;
	snprintf(cl->base, sizeof cl->base, "%s", cl->urls[i]);
}

/* Everything about the transfer but its headers: URL, transport, TLS checks,
 * method, timeouts, the reply's callbacks and the body. */
static void set_request_opts(const struct api_client *cl, struct api_call *call, const char *url)
{
	CURL *c = cl->curl;
	cu.easy_reset(c);
	cu.easy_setopt(c, CURLOPT_URL, url);
	/* The controller is reached directly, never through a proxy from
	 * http_proxy/https_proxy/ALL_PROXY: a proxy would see the secret, token or
	 * MUNGE credential (plain http) or could be remote. docs/security.md. */
	cu.easy_setopt(c, CURLOPT_PROXY, "");
	cu.easy_setopt(c, CURLOPT_NOPROXY, "*");
	/* https: verify peer and name (libcurl's defaults, stated), only over TLS. */
	cu.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	cu.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cl->cafile[0])
		cu.easy_setopt(c, CURLOPT_CAINFO, cl->cafile);
	cu.easy_setopt(c, CURLOPT_CUSTOMREQUEST, call->method);
	cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(c, CURLOPT_TIMEOUT_MS, call->timeout_ms > 0 ? call->timeout_ms : 30000L);
	cu.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	cu.easy_setopt(c, CURLOPT_WRITEDATA, call);
	cu.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	cu.easy_setopt(c, CURLOPT_HEADERDATA, call);
	if (call->cancel_gen) {
		cu.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		cu.easy_setopt(c, CURLOPT_XFERINFODATA, call);
		cu.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	if (call->body) {
		cu.easy_setopt(c, CURLOPT_POSTFIELDS, call->body);
		cu.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
	} else if (strcmp(call->method, "POST") == 0) {
		cu.easy_setopt(c, CURLOPT_POSTFIELDS, "");
		cu.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
}

/* The request's header lines ("Name: value"), owned. */
struct hdrs {
	char *v[4];
	size_t n;
};

static void hdrs_add(struct hdrs *h, const char *line)
{
	h->v[h->n++] = aidc_strdup(line);
}

static void hdrs_release(struct hdrs *h)
{
	for (size_t i = 0; i < h->n; i++) {
		explicit_bzero(h->v[i], strlen(h->v[i]));
		aidc_free(h->v[i]);
	}
	h->n = 0;
}

/* "Authorization: MUNGE <credential>" added to h. munged refuses a replayed
 * credential, so every call encodes a fresh one. */
static int add_munge(const struct api_client *cl, struct hdrs *h, struct aidc_err *e)
{
	char *cred = NULL;
	int rc = api_munge_encode(cl->munge_socket, &cred, e);
	if (rc)
		return rc;
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_MUNGE_CRED_BYTES + 64);
	rc = aidc_buf_printf(&b, "Authorization: MUNGE %s", cred);
	aidc_free(cred);
	if (rc == 0)
		hdrs_add(h, aidc_buf_str(&b));
	aidc_buf_release(&b);
	return rc ? aidc_errf(e, AIDC_E_LIMIT, "MUNGE credential too long") : 0;
}

/* The request's headers: content type, credentials. On failure the caller
 * still releases h. */
static int request_headers(const struct api_client *cl, const struct api_call *call,
			   struct hdrs *h, struct aidc_err *e)
{
	char ctype[96];
	snprintf(ctype, sizeof ctype, "Content-Type: %s",
		 call->content_type ? call->content_type : "application/json");
	hdrs_add(h, ctype);
	if (cl->secret_hdr[0])
		hdrs_add(h, cl->secret_hdr);
	if (cl->auth_hdr[0])
		hdrs_add(h, cl->auth_hdr);
	return cl->munge ? add_munge(cl, h, e) : 0;
}

/* libcurl's error as call->fail. */
static int curl_fail(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return API_FAIL_CONNECT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return API_FAIL_RESOLVE;
	case CURLE_OPERATION_TIMEDOUT:
		return API_FAIL_TIMEOUT;
	case CURLE_ABORTED_BY_CALLBACK:
		return API_FAIL_CANCELLED;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return API_FAIL_DROPPED;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CIPHER:
		return API_FAIL_TLS;
	default:
		return API_FAIL_OTHER;
	}
}

/* One transfer with libcurl (a controller URL). */
static int curl_call(struct api_client *cl, struct api_call *call, const struct hdrs *h,
		     struct aidc_err *e)
{
	CURL *c = cl->curl;
	char url[sizeof cl->base + 2048];
	snprintf(url, sizeof url, "%s%s", cl->base, call->path);
	struct curl_slist *list = cu.slist_append(NULL, "Expect:"); /* no 100-continue */
	for (size_t i = 0; i < h->n; i++)
		list = cu.slist_append(list, h->v[i]);
	set_request_opts(cl, call, url);
	cu.easy_setopt(c, CURLOPT_HTTPHEADER, list);
	char detail[CURL_ERROR_SIZE] = "";
	cu.easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
	CURLcode rc = cu.easy_perform(c);
	cu.easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	cu.easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	cu.slist_free_all(list);
	if (rc != CURLE_OK) {
		call->fail = curl_fail(rc);
		/* libcurl's own detail (e.g. which certificate check failed) first. */
		return aidc_errf(e, rc == CURLE_OPERATION_TIMEDOUT ? AIDC_E_TIMEOUT : AIDC_E_IO,
				 "cannot reach the controller at %s: %s", cl->base,
				 detail[0] ? detail : cu.easy_strerror(rc));
	}
	cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &call->status);
	return 0;
}

static int call_once(struct api_client *cl, struct api_call *call, struct aidc_err *e)
{
	if (strlen(call->path) >= 2048)
		return aidc_errf(e, AIDC_E_LIMIT, "request path too long");
	call->status = 0;
	call->fail = API_FAIL_NONE;
	call->offset_hdr = -1;
	call->done_hdr = -1;
	aidc_buf_reset(&call->reply);
	struct hdrs h = {0};
	int rc = request_headers(cl, call, &h, e);
	if (rc == 0 && cl->unix_path[0])
		rc = api_unix_call(cl->unix_path, (const char *const *)h.v, h.n, call, e);
	else if (rc == 0)
		rc = curl_call(cl, call, &h, e);
	hdrs_release(&h);
	return rc;
}

int api_client_call(struct api_client *cl, struct api_call *call, struct aidc_err *e)
{
	unsigned tries = cl->nurls > 1 ? cl->nurls : 1;
	for (unsigned t = 0;; t++) {
		struct aidc_err te = {0};
		int rc = call_once(cl, call, &te);
		if (rc == 0)
			return 0;
		if (cl->nurls > 1 && call->fail != API_FAIL_NONE && call->fail != API_FAIL_CANCELLED)
			api_client_use(cl, (cl->cur + 1) % cl->nurls); /* the next controller */
		/* Only a refused connection is known to have sent nothing. */
		if (call->fail != API_FAIL_CONNECT || t + 1 >= tries)
			return aidc_errf(e, rc, "%s", te.msg);
	}
}

int api_client_error(const struct api_call *call, struct aidc_err *e)
{
	json_error_t je;
	json_t *root = json_loadb(aidc_buf_str(&call->reply), call->reply.len, 0, &je);
	json_t *err = root ? json_object_get(root, "error") : NULL;
	const char *name = err ? json_string_value(json_object_get(err, "code")) : NULL;
	const char *msg = err ? json_string_value(json_object_get(err, "message")) : NULL;
	int code = AIDC_E_INTERNAL;
	for (int c = 0; name && c >= -64; c--)
		if (strcmp(aidc_errname(c), name) == 0) {
			code = c;
			break;
		}
	if (code == 0)
		code = AIDC_E_INTERNAL;
	aidc_errf(e, code, "%s", msg ? msg : (call->reply.len ? aidc_buf_str(&call->reply)
							      : "no reply body"));
	json_decref(root);
	return code;
}
