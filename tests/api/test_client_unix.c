/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client's HTTP over the controller's Unix socket (api_client_unix.c,
 * no libcurl) against a scripted server: one connection per case, whose
 * request is recorded and whose reply is the case's bytes. Replies framed by
 * Content-Length, chunked coding and the end of the connection; the
 * X-AIDC-Offset/Done headers; the request's line, headers and body; and the
 * failures with what api_client_call reports for them (a truncated reply
 * is dropped, garbage is not HTTP, a reply past the caller's limit, nothing
 * listening, no reply in time, a cancelled call, a path that cannot be sent).
 */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api.h"
#include "tests/test.h"
#include "util/util.h"

static char dir[] = "/tmp/aidc_test_client_unix_XXXXXX";

struct server {
	int lfd;
	const char *reply;  /* written whole once the request is read; NULL = none */
	int hold_ms;	    /* then keeps the connection open this long */
	char request[8192]; /* what came */
	size_t request_len;
	pthread_t th;
};

/* Reads a request's headers and its Content-Length body into s->request. */
static void read_request(struct server *s, int c)
{
	size_t want = SIZE_MAX;
	while (s->request_len < sizeof s->request - 1 && s->request_len < want) {
		ssize_t k =
		    read(c, s->request + s->request_len, sizeof s->request - 1 - s->request_len);
		if (k <= 0)
			break;
		s->request_len += (size_t)k;
		s->request[s->request_len] = '\0';
		char *end = strstr(s->request, "\r\n\r\n");
		char *cl = strstr(s->request, "Content-Length: ");
		if (end && cl)
			want = (size_t)(end + 4 - s->request) + strtoul(cl + 16, NULL, 10);
	}
}

static void *serve(void *arg)
{
	struct server *s = arg;
	int c = accept(s->lfd, NULL, NULL);
	if (c < 0)
		return NULL;
	read_request(s, c);
	if (s->reply && write(c, s->reply, strlen(s->reply)) < 0)
		perror("write");
	if (s->hold_ms)
		usleep((useconds_t)s->hold_ms * 1000);
	close(c);
	return NULL;
}

static void sock_path(char *out, size_t n)
{
	snprintf(out, n, "%s/ctl.sock", dir);
}

static void server_start(struct server *s, const char *reply, int hold_ms)
{
	memset(s, 0, sizeof *s);
	s->reply = reply;
	s->hold_ms = hold_ms;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	sock_path(sa.sun_path, sizeof sa.sun_path);
	unlink(sa.sun_path);
	s->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(s->lfd >= 0);
	CHECK_EQ(bind(s->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	CHECK_EQ(listen(s->lfd, 4), 0);
	CHECK_EQ(pthread_create(&s->th, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	pthread_join(s->th, NULL);
	close(s->lfd);
}

/* One call of method path (body) through a client on the test's socket;
 * returns api_client_call's result. */
static int call(struct api_call *c, const char *method, const char *path, const char *body,
		size_t max)
{
	char sock[256];
	sock_path(sock, sizeof sock);
	struct api_client cl;
	struct aidc_err e = {0};
	struct api_client_opts o = {.unix_path = sock, .secret = "s3cret"};
	CHECK_EQ(api_client_open(&cl, &o, &e), 0);
	c->method = method;
	c->path = path;
	c->body = body;
	c->body_len = body ? strlen(body) : 0;
	if (!c->timeout_ms)
		c->timeout_ms = 5000;
	aidc_buf_init(&c->reply, max);
	int rc = api_client_call(&cl, c, &e);
	if (rc)
		fprintf(stderr, "  (call: %s)\n", e.msg);
	api_client_release(&cl);
	return rc;
}

static void test_content_length(void)
{
	struct server s;
	server_start(&s,
		     "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
		     "x-aidc-offset: 42\r\nX-AIDC-Done:  1 \r\nContent-Length: 11\r\n\r\n"
		     "{\"id\": 17}\n",
		     0);
	struct api_call c = {0};
	CHECK_EQ(call(&c, "POST", "/v1/jobs?x=1", "{\"a\":1}", 1 << 20), 0);
	server_stop(&s);
	CHECK_EQ(c.status, 201);
	CHECK_EQ(c.fail, API_FAIL_NONE);
	CHECK_STR(aidc_buf_str(&c.reply), "{\"id\": 17}\n");
	CHECK_EQ(c.offset_hdr, 42);
	CHECK_EQ(c.done_hdr, 1);
	CHECK(strncmp(s.request, "POST /v1/jobs?x=1 HTTP/1.1\r\n", 28) == 0);
	CHECK_CONTAINS(s.request, "Content-Length: 7\r\n");
	CHECK_CONTAINS(s.request, "Content-Type: application/json\r\n");
	CHECK_CONTAINS(s.request, "X-AIDC-Secret: s3cret\r\n");
	CHECK_CONTAINS(s.request, "\r\n\r\n{\"a\":1}");
	aidc_buf_release(&c.reply);
}

static void test_chunked_and_eof(void)
{
	struct server s;
	server_start(&s,
		     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n",
		     0);
	struct api_call c = {0};
	CHECK_EQ(call(&c, "GET", "/v1/logs", NULL, 1 << 20), 0);
	server_stop(&s);
	CHECK_EQ(c.status, 200);
	CHECK_STR(aidc_buf_str(&c.reply), "hello, world");
	CHECK_EQ(c.offset_hdr, -1);
	CHECK_EQ(c.done_hdr, -1);
	CHECK(strncmp(s.request, "GET /v1/logs HTTP/1.1\r\n", 23) == 0);
	CHECK_CONTAINS(s.request, "Content-Length: 0\r\n");
	aidc_buf_release(&c.reply);

	/* No length, no chunks: the body ends with the connection. */
	server_start(&s, "HTTP/1.0 404 Not Found\r\n\r\nno such job", 0);
	struct api_call d = {0};
	CHECK_EQ(call(&d, "GET", "/v1/jobs/9", NULL, 1 << 20), 0);
	server_stop(&s);
	CHECK_EQ(d.status, 404);
	CHECK_STR(aidc_buf_str(&d.reply), "no such job");
	aidc_buf_release(&d.reply);
}

/* Each reply that must fail, with the failure api_client_call reports. */
static void test_bad_replies(void)
{
	static const struct {
		const char *reply;
		size_t max;
		int rc, fail;
	} cases[] = {
	    {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1 << 20, AIDC_E_IO,
	     API_FAIL_DROPPED},
	    {"", 1 << 20, AIDC_E_IO, API_FAIL_DROPPED},
	    {"SSH-2.0-OpenSSH\r\n\r\n", 1 << 20, AIDC_E_IO, API_FAIL_OTHER},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 1 << 20, AIDC_E_IO,
	     API_FAIL_OTHER},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 1 << 20, AIDC_E_IO,
	     API_FAIL_OTHER},
	    {"HTTP/1.1 200 OK\r\nContent-Length: x1\r\n\r\n", 1 << 20, AIDC_E_IO, API_FAIL_OTHER},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n12345678", 4, AIDC_E_LIMIT,
	     API_FAIL_OTHER},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct server s;
		server_start(&s, cases[i].reply, 0);
		struct api_call c = {0};
		int rc = call(&c, "GET", "/v1/jobs", NULL, cases[i].max);
		server_stop(&s);
		if (rc != cases[i].rc || c.fail != cases[i].fail)
			fprintf(stderr, "case %zu: rc %d fail %d\n", i, rc, c.fail);
		CHECK_EQ(rc, cases[i].rc);
		CHECK_EQ(c.fail, cases[i].fail);
		CHECK_EQ(c.status, 0);
		aidc_buf_release(&c.reply);
	}
}

static void test_no_server_timeout_cancel(void)
{
	char sock[256];
	sock_path(sock, sizeof sock);
	unlink(sock);
	struct api_call c = {0};
	CHECK_EQ(call(&c, "GET", "/v1/jobs", NULL, 1 << 20), AIDC_E_IO);
	CHECK_EQ(c.fail, API_FAIL_CONNECT);
	aidc_buf_release(&c.reply);

	struct server s;
	server_start(&s, NULL, 1500); /* reads the request, never answers */
	struct api_call t = {.timeout_ms = 300};
	CHECK_EQ(call(&t, "GET", "/v1/jobs", NULL, 1 << 20), AIDC_E_TIMEOUT);
	CHECK_EQ(t.fail, API_FAIL_TIMEOUT);
	server_stop(&s);
	aidc_buf_release(&t.reply);

	unsigned gen = 1;
	server_start(&s, NULL, 300);
	struct api_call k = {.cancel_gen = &gen, .cancel_at = 0};
	CHECK_EQ(call(&k, "GET", "/v1/jobs", NULL, 1 << 20), AIDC_E_IO);
	CHECK_EQ(k.fail, API_FAIL_CANCELLED);
	server_stop(&s);
	aidc_buf_release(&k.reply);
}

static void test_unsendable(void)
{
	static const char *const paths[] = {"/v1/jobs x", "/v1/jobs\r\nX-Evil: 1", "/v1/\x7f"};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(paths); i++) {
		struct api_call c = {0};
		CHECK_EQ(call(&c, "GET", paths[i], NULL, 1 << 20), AIDC_E_INVAL);
		CHECK_EQ(c.status, 0);
		aidc_buf_release(&c.reply);
	}
	struct api_call m = {0};
	CHECK_EQ(call(&m, "GET /x", "/v1/jobs", NULL, 1 << 20), AIDC_E_INVAL);
	aidc_buf_release(&m.reply);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
	    TEST(test_content_length),		 TEST(test_chunked_and_eof), TEST(test_bad_replies),
	    TEST(test_no_server_timeout_cancel), TEST(test_unsendable),
	};
	return test_run_in_dir(argc, argv, cases, AIDC_ARRAY_LEN(cases), dir);
}
