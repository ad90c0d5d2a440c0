/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One HTTP/1.1 request over the controller's Unix socket, without libcurl:
 * how local users' CLI (and the sbatch, squeue, ... that batch jobs find on
 * their PATH) reach the controller. Loading libcurl and its TLS stack costs
 * a process ~10 ms before main on an idle machine, more than the whole
 * submission (issue 13's target: aidc sbatch twice as fast as Slurm's), and
 * none of it is needed on a local socket. Calls over TCP keep libcurl
 * (api_client.c), loaded when first needed.
 *
 * The request is sent with Content-Length and "Connection: close"; the
 * reply is read with Content-Length, chunked transfer coding or up to the
 * end of the connection, into call->reply (bounded by its max). The same
 * results as the libcurl path: status, X-AIDC-Offset / X-AIDC-Done, and on
 * failure call->fail (refused = nothing sent, dropped, timeout, cancelled).
 */
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api_int.h"
#include "util/clock.h"
#include "util/util.h"

#define LINE_MAX_BYTES 8192 /* a status or header line */
#define MAX_HEADERS    100

struct conn {
	int fd;
	int64_t deadline_ms;
	struct api_call *call;
	const char *where;
	char buf[16384];
	size_t beg, end;
};

static int failed(struct conn *c, int fail, int code, const char *why, struct aidc_err *e)
{
	c->call->fail = fail;
	return aidc_errf(e, code, "cannot reach the controller at %s: %s", c->where, why);
}

static bool cancelled(const struct api_call *call)
{
	return call->cancel_gen &&
	       __atomic_load_n(call->cancel_gen, __ATOMIC_RELAXED) != call->cancel_at;
}

/* Waits until fd is ready for ev, in slices of 100 ms while the call may be
 * cancelled; 0, or an error with call->fail set. */
static int wait_fd(struct conn *c, short ev, struct aidc_err *e)
{
	for (;;) {
		if (cancelled(c->call))
			return failed(c, API_FAIL_CANCELLED, AIDC_E_IO, "call abandoned", e);
		int64_t left = c->deadline_ms - aidc_mono_ms();
		if (left <= 0)
			return failed(c, API_FAIL_TIMEOUT, AIDC_E_TIMEOUT, "no reply in time", e);
		if (c->call->cancel_gen && left > 100)
			left = 100;
		struct pollfd p = {.fd = c->fd, .events = ev};
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return failed(c, API_FAIL_OTHER, AIDC_E_IO, strerror(errno), e);
	}
}

/* Connects; a refused or missing socket is API_FAIL_CONNECT (nothing sent). */
static int conn_open(struct conn *c, const char *path, struct aidc_err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		return aidc_errf(e, AIDC_E_LIMIT, "socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return failed(c, API_FAIL_OTHER, AIDC_E_IO, strerror(errno), e);
	/* A full listen queue blocks connect: bounded as libcurl's connect timeout. */
	struct timeval tv = {.tv_sec = 5};
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int err = errno;
		return failed(
		    c, API_FAIL_CONNECT, AIDC_E_IO,
		    err == EAGAIN || err == EINPROGRESS ? "connect timed out" : strerror(err), e);
	}
	struct timeval none = {0};
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
	return 0;
}

static int send_all(struct conn *c, const char *p, size_t n, struct aidc_err *e)
{
	while (n > 0) {
		int rc = wait_fd(c, POLLOUT, e);
		if (rc)
			return rc;
		ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return failed(c, API_FAIL_DROPPED, AIDC_E_IO, strerror(errno), e);
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads more into c->buf (compacted first); 0, or an error (EOF = dropped). */
static int fill(struct conn *c, struct aidc_err *e)
{
	if (c->beg > 0) {
		memmove(c->buf, c->buf + c->beg, c->end - c->beg);
		c->end -= c->beg;
		c->beg = 0;
	}
	if (c->end == sizeof c->buf)
		return failed(c, API_FAIL_OTHER, AIDC_E_IO, "reply line too long", e);
	for (;;) {
		int rc = wait_fd(c, POLLIN, e);
		if (rc)
			return rc;
		ssize_t k = recv(c->fd, c->buf + c->end, sizeof c->buf - c->end, MSG_DONTWAIT);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return failed(c, API_FAIL_DROPPED, AIDC_E_IO, strerror(errno), e);
		if (k == 0)
			return failed(c, API_FAIL_DROPPED, AIDC_E_IO,
				      "the connection closed before a whole reply", e);
		c->end += (size_t)k;
		return 0;
	}
}

/* One CRLF-terminated line (without it) into out[n]. */
static int read_line(struct conn *c, char *out, size_t n, struct aidc_err *e)
{
	for (;;) {
		char *nl = memchr(c->buf + c->beg, '\n', c->end - c->beg);
		if (nl) {
			size_t len = (size_t)(nl - (c->buf + c->beg));
			if (len > 0 && c->buf[c->beg + len - 1] == '\r')
				len--;
			if (len >= n)
				return failed(c, API_FAIL_OTHER, AIDC_E_IO, "reply line too long",
					      e);
			memcpy(out, c->buf + c->beg, len);
			out[len] = '\0';
			c->beg = (size_t)(nl - c->buf) + 1;
			return 0;
		}
		int rc = fill(c, e);
		if (rc)
			return rc;
	}
}

/* n body bytes (SIZE_MAX: up to the end of the connection) into the reply. */
static int read_body(struct conn *c, size_t n, struct aidc_err *e)
{
	while (n > 0) {
		if (c->beg == c->end) {
			int rc = fill(c, e);
			if (rc && n == SIZE_MAX && c->call->fail == API_FAIL_DROPPED) {
				c->call->fail = API_FAIL_NONE; /* the end of the body */
				return 0;
			}
			if (rc)
				return rc;
		}
		size_t k = c->end - c->beg < n ? c->end - c->beg : n;
		if (aidc_buf_append(&c->call->reply, c->buf + c->beg, k) != 0)
			return failed(c, API_FAIL_OTHER, AIDC_E_LIMIT,
				      "the reply is larger than this client accepts", e);
		c->beg += k;
		if (n != SIZE_MAX)
			n -= k;
	}
	return 0;
}

static int read_chunked(struct conn *c, struct aidc_err *e)
{
	char line[LINE_MAX_BYTES];
	for (;;) {
		int rc = read_line(c, line, sizeof line, e);
		if (rc)
			return rc;
		char *end;
		errno = 0;
		unsigned long long size = strtoull(line, &end, 16);
		if (end == line || errno || (*end && *end != ';') || size > SIZE_MAX / 2)
			return failed(c, API_FAIL_OTHER, AIDC_E_IO, "bad chunk size", e);
		if (size == 0)
			break;
		if ((rc = read_body(c, (size_t)size, e)) != 0 ||
		    (rc = read_line(c, line, sizeof line, e)) != 0)
			return rc;
		if (line[0])
			return failed(c, API_FAIL_OTHER, AIDC_E_IO, "bad chunk end", e);
	}
	do { /* trailers, up to the empty line */
		int rc = read_line(c, line, sizeof line, e);
		if (rc)
			return rc;
	} while (line[0]);
	return 0;
}

struct framing {
	int64_t length; /* -1: none given */
	bool chunked;
};

/* One header line: the ones the caller and the framing need. */
static int take_header(struct conn *c, char *line, struct framing *f, struct aidc_err *e)
{
	char *colon = strchr(line, ':');
	if (!colon)
		return failed(c, API_FAIL_OTHER, AIDC_E_IO, "malformed reply header", e);
	*colon = '\0';
	char *val = colon + 1;
	val += strspn(val, " \t");
	size_t vl = strlen(val);
	while (vl && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
		val[--vl] = '\0';
	int64_t v;
	if (strcasecmp(line, "Content-Length") == 0) {
		if (aidc_parse_i64(val, 0, INT64_MAX, &f->length) != 0)
			return failed(c, API_FAIL_OTHER, AIDC_E_IO, "bad Content-Length", e);
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		f->chunked = strcasecmp(val, "chunked") == 0;
		if (!f->chunked)
			return failed(c, API_FAIL_OTHER, AIDC_E_IO, "unsupported Transfer-Encoding",
				      e);
	} else if (strcasecmp(line, "X-AIDC-Offset") == 0 &&
		   aidc_parse_i64(val, 0, INT64_MAX, &v) == 0) {
		c->call->offset_hdr = v;
	} else if (strcasecmp(line, "X-AIDC-Done") == 0 && aidc_parse_i64(val, 0, 1, &v) == 0) {
		c->call->done_hdr = (int)v;
	}
	return 0;
}

static int read_reply(struct conn *c, bool head, struct aidc_err *e)
{
	char line[LINE_MAX_BYTES];
	int rc = read_line(c, line, sizeof line, e);
	if (rc)
		return rc;
	int status = 0, used = 0;
	if (sscanf(line, "HTTP/1.%*1[01] %3d%n", &status, &used) != 1 || used == 0 ||
	    status < 100 || status > 599)
		return failed(c, API_FAIL_OTHER, AIDC_E_IO, "not an HTTP reply", e);
	struct framing f = {.length = -1};
	for (int n = 0;; n++) {
		if ((rc = read_line(c, line, sizeof line, e)) != 0)
			return rc;
		if (!line[0])
			break;
		if (n == MAX_HEADERS)
			return failed(c, API_FAIL_OTHER, AIDC_E_IO, "too many reply headers", e);
		if ((rc = take_header(c, line, &f, e)) != 0)
			return rc;
	}
	if (head || status == 204 || status == 304)
		rc = 0;
	else if (f.chunked)
		rc = read_chunked(c, e);
	else
		rc = read_body(c, f.length >= 0 ? (size_t)f.length : SIZE_MAX, e);
	if (rc == 0)
		c->call->status = status;
	return rc;
}

/* The request line and headers; the path must be plain printable ASCII. */
static int request_head(struct aidc_buf *b, const struct api_call *call, const char *const *hdrs,
			size_t nhdrs, struct aidc_err *e)
{
	for (const char *p = call->path; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return aidc_errf(e, AIDC_E_INVAL,
					 "request path has a control, space or "
					 "non-ASCII byte");
	for (const char *p = call->method; *p; p++)
		if (*p < 'A' || *p > 'Z')
			return aidc_errf(e, AIDC_E_INVAL, "bad request method");
	int rc = aidc_buf_printf(b,
				 "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
				 "Content-Length: %zu\r\n",
				 call->method, call->path, call->body ? call->body_len : 0);
	for (size_t i = 0; i < nhdrs && rc == 0; i++)
		rc = aidc_buf_printf(b, "%s\r\n", hdrs[i]);
	if (rc == 0)
		rc = aidc_buf_puts(b, "\r\n");
	return rc ? aidc_errf(e, AIDC_E_LIMIT, "request headers too long") : 0;
}

int api_unix_call(const char *path, const char *const *hdrs, size_t nhdrs, struct api_call *call,
		  struct aidc_err *e)
{
	struct conn *c = aidc_calloc(1, sizeof *c);
	c->fd = -1;
	c->call = call;
	c->where = path;
	c->deadline_ms = aidc_mono_ms() + (call->timeout_ms > 0 ? call->timeout_ms : 30000);
	struct aidc_buf head;
	aidc_buf_init(&head, 64u << 10);
	int rc = request_head(&head, call, hdrs, nhdrs, e);
	if (rc == 0)
		rc = conn_open(c, path, e);
	if (rc == 0)
		rc = send_all(c, head.data, head.len, e);
	if (rc == 0 && call->body && call->body_len)
		rc = send_all(c, call->body, call->body_len, e);
	if (rc == 0)
		rc = read_reply(c, strcmp(call->method, "HEAD") == 0, e);
	if (c->fd >= 0)
		close(c->fd);
	aidc_buf_release(&head);
	aidc_free(c);
	return rc;
}
