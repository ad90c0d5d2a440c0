/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP client of the live center on libcurl: users' CLI over the
 * controller's Unix socket (CURLOPT_UNIX_SOCKET_PATH), agents over TCP with
 * the cluster secret header. Replies are read into a bounded aidc_buf; the
 * X-AIDC-Offset / X-AIDC-Done headers of log reads are picked out.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>

#include "api/api.h"
#include "util/util.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int api_client_init(struct api_client *cl, const char *unix_path, const char *host,
		    uint16_t port, const char *secret, struct aidc_err *e)
{
	memset(cl, 0, sizeof *cl);
	pthread_once(&curl_once, curl_init_once);
	if (unix_path) {
		if (strlen(unix_path) >= sizeof cl->unix_path)
			return aidc_errf(e, AIDC_E_LIMIT, "socket path too long");
		memcpy(cl->unix_path, unix_path, strlen(unix_path) + 1);
		snprintf(cl->base, sizeof cl->base, "http://localhost");
	} else {
		if (!host || strlen(host) > 64)
			return aidc_errf(e, AIDC_E_INVAL, "bad controller host");
		snprintf(cl->base, sizeof cl->base, "http://%s:%u", host, (unsigned)port);
	}
	if (secret) {
		if (strlen(secret) > AIDC_MAX_SECRET_BYTES)
			return aidc_errf(e, AIDC_E_LIMIT, "secret too long");
		snprintf(cl->secret_hdr, sizeof cl->secret_hdr, "X-AIDC-Secret: %s", secret);
	}
	cl->curl = curl_easy_init();
	if (!cl->curl)
		return aidc_errf(e, AIDC_E_NOMEM, "curl_easy_init failed");
	return 0;
}

void api_client_release(struct api_client *cl)
{
	if (cl->curl)
		curl_easy_cleanup(cl->curl);
	cl->curl = NULL;
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

int api_client_call(struct api_client *cl, struct api_call *call, struct aidc_err *e)
{
	CURL *c = cl->curl;
	char url[sizeof cl->base + 2048];
	if (strlen(call->path) >= 2048)
		return aidc_errf(e, AIDC_E_LIMIT, "request path too long");
	snprintf(url, sizeof url, "%s%s", cl->base, call->path);
	call->status = 0;
	call->offset_hdr = -1;
	call->done_hdr = -1;
	aidc_buf_reset(&call->reply);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (cl->unix_path[0])
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, cl->unix_path);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call->method);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, call->timeout_ms > 0 ? call->timeout_ms : 30000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, call);
	struct curl_slist *hdrs = NULL;
	char ctype[96];
	snprintf(ctype, sizeof ctype, "Content-Type: %s",
		 call->content_type ? call->content_type : "application/json");
	hdrs = curl_slist_append(hdrs, ctype);
	hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
	if (cl->secret_hdr[0])
		hdrs = curl_slist_append(hdrs, cl->secret_hdr);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (call->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, call->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
	} else if (strcmp(call->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	CURLcode rc = curl_easy_perform(c);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		const char *where = cl->unix_path[0] ? cl->unix_path : cl->base;
		int code = rc == CURLE_OPERATION_TIMEDOUT ? AIDC_E_TIMEOUT : AIDC_E_IO;
		return aidc_errf(e, code, "cannot reach the controller at %s: %s", where,
				 curl_easy_strerror(rc));
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &call->status);
	return 0;
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
