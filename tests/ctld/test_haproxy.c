/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HAProxy driver (src/ctld/haproxy.c) against Debian's real haproxy: each
 * case starts it in a temporary directory on 127.0.0.1 with free ports, and
 * tiny forked HTTP backends (keep-alive, each answering its own name), then
 * checks routing, draining and removal under load with zero failed requests,
 * the stats, the refusal of bad input, adoption and the stop. SKIPs where
 * haproxy is not installed ($AIDC_HAPROXY_BIN, else haproxy on PATH or in
 * /usr/sbin). The stats parser has its own case on canned text.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "ctld/haproxy.h"
#include "tests/test.h"
#include "util/clock.h"
#include "util/util.h"

static char tmpdir[] = "/tmp/aidc_test_haproxy_XXXXXX";
static char hx_bin[512];

/* ---- helpers ----------------------------------------------------------------- */

static void need_haproxy(void)
{
	const char *env = getenv("AIDC_HAPROXY_BIN");
	if (env && *env) {
		snprintf(hx_bin, sizeof hx_bin, "%s", env);
	} else {
		char path[4096];
		snprintf(path, sizeof path, "%s:/usr/sbin", getenv("PATH") ? getenv("PATH") : "");
		char *save = NULL;
		hx_bin[0] = '\0';
		for (char *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			snprintf(hx_bin, sizeof hx_bin, "%s/haproxy", d);
			if (access(hx_bin, X_OK) == 0)
				break;
			hx_bin[0] = '\0';
		}
	}
	struct aidc_err e = {0};
	if (!hx_bin[0] || ctld_haproxy_bin_check(hx_bin, &e) != 0)
		TEST_SKIP("haproxy is not installed (Debian package haproxy): %s",
			  hx_bin[0] ? e.msg : "not on PATH or in /usr/sbin");
}

static bool port_free(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

/* A base of n free ports below the kernel's ephemeral range (32768..). */
static int free_ports(int n)
{
	unsigned seed = (unsigned)getpid() * 2654435761u;
	for (int tries = 0; tries < 200; tries++) {
		seed = seed * 1103515245u + 12345u;
		int base = 20000 + (int)((seed >> 8) % 12000u);
		bool ok = true;
		for (int i = 0; i < n && ok; i++)
			ok = port_free(base + i);
		if (ok)
			return base;
	}
	TEST_SKIP("no %d free consecutive ports on 127.0.0.1", n);
}

static struct ctld_haproxy *start_hx(int slots, int *port_base, const char *sub)
{
	char dir[256];
	snprintf(dir, sizeof dir, "%s/%s", tmpdir, sub);
	*port_base = free_ports(slots);
	struct ctld_haproxy_opts o = {.bin = hx_bin,
				      .dir = dir,
				      .bind_addr = "127.0.0.1",
				      .port_base = *port_base,
				      .slots = slots};
	struct ctld_haproxy *h = NULL;
	struct aidc_err e = {0};
	int rc = ctld_haproxy_start(&o, &h, &e);
	if (rc)
		fprintf(stderr, "start: %s\n", e.msg);
	CHECK_EQ(rc, 0);
	if (!h)
		exit(1);
	return h;
}

/* One keep-alive HTTP/1.1 connection's worth of serving: answers every GET
 * with 200 and the backend's name after delay_ms. */
static void serve_conn(int fd, const char *name, int delay_ms)
{
	struct timeval tv = {15, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char buf[8192];
	size_t len = 0;
	for (;;) {
		char *end = memmem(buf, len, "\r\n\r\n", 4);
		if (!end) {
			if (len == sizeof buf)
				_exit(1);
			ssize_t r = read(fd, buf + len, sizeof buf - len);
			if (r <= 0)
				_exit(0);
			len += (size_t)r;
			continue;
		}
		if (delay_ms > 0)
			usleep((useconds_t)delay_ms * 1000u);
		char resp[256];
		int n = snprintf(resp, sizeof resp,
				 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				 "Content-Length: %zu\r\n\r\n%s",
				 strlen(name), name);
		if (write(fd, resp, (size_t)n) != n)
			_exit(0);
		size_t used = (size_t)(end + 4 - buf);
		memmove(buf, buf + used, len - used);
		len -= used;
	}
}

struct backend {
	pid_t pid; /* its own process group */
	int port;
};

static struct backend backend_start(const char *name, int delay_ms)
{
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	socklen_t al = sizeof a;
	if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 128) ||
	    getsockname(lfd, (struct sockaddr *)&a, &al))
		TEST_SKIP("cannot listen on 127.0.0.1: %s", strerror(errno));
	struct backend b = {.port = ntohs(a.sin_port)};
	b.pid = fork();
	if (b.pid == 0) {
		setpgid(0, 0);
		signal(SIGCHLD, SIG_IGN); /* connection children reap themselves */
		for (int i = 0; i < 100000; i++) {
			int c = accept(lfd, NULL, NULL);
			if (c < 0)
				continue;
			if (fork() == 0) {
				close(lfd);
				serve_conn(c, name, delay_ms);
			}
			close(c);
		}
		_exit(0);
	}
	setpgid(b.pid, b.pid);
	close(lfd);
	return b;
}

static void backend_kill(struct backend *b)
{
	if (b->pid > 0) {
		kill(-b->pid, SIGKILL);
		waitpid(b->pid, NULL, 0);
		b->pid = 0;
	}
}

/* A client connection to port (reused while *fd >= 0 and keep is true). */
static int http_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* GET / on *fd (connecting first when *fd < 0); the status, the body in
 * body[n], or -1 on a transport error (then *fd is closed). keep: HTTP
 * keep-alive, else one connection per request. */
static int http_get(int port, int *fd, bool keep, char *body, size_t n)
{
	if (*fd < 0 && (*fd = http_connect(port)) < 0)
		return -1;
	const char *req = keep ? "GET / HTTP/1.1\r\nHost: t\r\n\r\n"
			       : "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	char buf[8192];
	size_t len = 0, need = 0;
	int status = -1;
	if (write(*fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto fail;
	for (;;) {
		ssize_t r = read(*fd, buf + len, sizeof buf - 1 - len);
		if (r <= 0)
			goto fail;
		len += (size_t)r;
		buf[len] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		const char *cl = strcasestr(buf, "\r\ncontent-length:");
		if (!cl || sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
			goto fail;
		need = (size_t)(end + 4 - buf) + (size_t)strtoul(cl + 17, NULL, 10);
		if (len >= need) {
			snprintf(body, n, "%.*s", (int)(need - (size_t)(end + 4 - buf)), end + 4);
			break;
		}
	}
	if (!keep) {
		close(*fd);
		*fd = -1;
	}
	return status;
fail:
	close(*fd);
	*fd = -1;
	return -1;
}

static int get_once(int port, char *body, size_t n)
{
	int fd = -1;
	return http_get(port, &fd, false, body, n);
}

/* ---- cases ------------------------------------------------------------------- */

/* A reply of 2.6's `show stat slot0 -1 -1`, columns cut after ttime, plus a
 * row of another proxy and a quoted field. */
static const char canned[] =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,"
    "wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,"
    "sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,"
    "check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,"
    "req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,"
    "lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,\n"
    "slot0,FRONTEND,,,3,5,9985,15,82,217,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,1,,,,0,12,"
    "0,0,2,0,,7,9,14,,,0,0,0,0,,,,,,,,\n"
    "slot0,r1,0,0,1,1,,7,0,0,,0,,0,0,0,0,no check,1,1,0,,,0,,,1,2,1,,7,,2,0,,1,,,,0,7,0,"
    "0,0,0,,,,7,0,0,,,,,1,,,0,0,4,5\n"
    "slot0,r2,2,2,0,1,,5,0,0,,0,,0,0,0,0,DRAIN,1,1,0,,,0,,,1,2,2,,5,,2,0,,1,,,,0,5,0,"
    "0,0,0,,,,5,0,0,,,,,1,,,0,0,3,4\n"
    "slot0,r3,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,,,0,,,1,2,3,,0,,2,0,,0,,,,0,0,0,"
    "0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0\n"
    "slot0,r4,0,0,0,0,,0,0,0,,0,,0,0,0,0,\"UP 2/3\",1,1,0,,,0,,,1,2,4,,0,,2,0,,0,,,,0,"
    "0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0\n"
    "slot0,BACKEND,2,2,1,2,999,14,82,217,0,0,,1,0,0,0,UP,2,2,0,,0,0,0,,1,2,0,,12,,1,0,,"
    "1,,,,0,12,0,0,2,0,,,,14,0,0,0,0,0,0,-1,,,0,0,4,6\n"
    "slot1,FRONTEND,,,0,0,9985,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,3,0,,,,0,0,0,0,,,,0,0,0,0,"
    "0,0,,0,0,0,,,0,0,0,0,,,,,,,,\n"
    "slot1,BACKEND,0,0,0,0,999,0,0,0,0,0,,0,0,0,0,UP,0,0,0,,0,0,0,,1,3,0,,0,,1,0,,0,,,,"
    "0,0,0,0,0,0,,,,0,0,0,0,0,0,0,-1,,,0,0,0,0\n\n";

static void parse_stat(void)
{
	struct ctld_haproxy_stats s;
	struct aidc_err e = {0};
	CHECK_EQ(ctld_haproxy_parse_stat(canned, "slot0", &s, &e), 0);
	CHECK_EQ(s.requests, 14);
	CHECK_EQ(s.responses_5xx, 2);
	CHECK_EQ(s.cur_sessions, 3);
	CHECK_EQ(s.req_rate, 7);
	CHECK_EQ(s.queued, 2);
	CHECK_EQ(s.avg_response_ms, 4);
	CHECK_EQ(s.avg_total_ms, 6);
	CHECK_EQ(s.servers, 3);	   /* a place in MAINT holds no server */
	CHECK_EQ(s.servers_up, 2); /* "no check" and "UP 2/3"; not DRAIN */
	CHECK_EQ(ctld_haproxy_parse_stat(canned, "slot1", &s, &e), 0);
	CHECK_EQ(s.requests, 0);
	CHECK_EQ(s.servers, 0);
	CHECK_EQ(s.avg_response_ms, -1); /* no request yet: no average */
	aidc_err_clear(&e);
	CHECK_EQ(ctld_haproxy_parse_stat(canned, "slot7", &s, &e), AIDC_E_NOTFOUND);
	aidc_err_clear(&e);
	CHECK_EQ(
	    ctld_haproxy_parse_stat("# pxname,svname,scur\nslot0,FRONTEND,1\n", "slot0", &s, &e),
	    AIDC_E_PARSE);
	CHECK_CONTAINS(e.msg, "qcur");
	aidc_err_clear(&e);
	CHECK_EQ(ctld_haproxy_parse_stat("", "slot0", &s, &e) < 0, 1);
	aidc_err_clear(&e);
	CHECK_EQ(ctld_haproxy_parse_stat("Unknown command.\n\n", "slot0", &s, &e), AIDC_E_PARSE);
}

static void bad_opts(void)
{
	struct ctld_haproxy *h = (struct ctld_haproxy *)1;
	struct aidc_err e = {0};
	char dir[300];
	snprintf(dir, sizeof dir, "%s/opts", tmpdir);
	struct ctld_haproxy_opts o = {.bin = "/nonexistent/haproxy",
				      .dir = dir,
				      .bind_addr = "127.0.0.1",
				      .port_base = 30000,
				      .slots = 2};
	CHECK_EQ(ctld_haproxy_start(&o, &h, &e), AIDC_E_NOTFOUND);
	CHECK_CONTAINS(e.msg, "/nonexistent/haproxy");
	CHECK(h == NULL);
	const struct {
		const char *dir, *addr;
		int base, slots, ts, code;
		const char *msg;
		int per_slot;
	} bad[] = {
	    {dir, "127.0.0.1", 30000, 2, 0, AIDC_E_LIMIT, "AIDC_MAX_HAPROXY_SLOT_SERVERS", -1},
	    {dir, "127.0.0.1", 30000, 2, 0, AIDC_E_LIMIT, "AIDC_MAX_HAPROXY_SLOT_SERVERS",
	     (int)AIDC_MAX_HAPROXY_SLOT_SERVERS + 1},
	    {dir, "127.0.0.1", 1000, (int)AIDC_MAX_HAPROXY_SLOTS, 0, AIDC_E_LIMIT,
	     "AIDC_MAX_HAPROXY_SERVERS",
	     (int)(AIDC_MAX_HAPROXY_SERVERS / AIDC_MAX_HAPROXY_SLOTS) + 1},
	    {dir, "localhost", 30000, 2, 0, AIDC_E_INVAL, "numeric", 0},
	    {dir, "127.0.0.1", 0, 2, 0, AIDC_E_INVAL, "1..65535", 0},
	    {dir, "127.0.0.1", 65535, 2, 0, AIDC_E_INVAL, "65536", 0},
	    {dir, "127.0.0.1", 30000, 0, 0, AIDC_E_LIMIT, "AIDC_MAX_HAPROXY_SLOTS", 0},
	    {dir, "127.0.0.1", 30000, (int)AIDC_MAX_HAPROXY_SLOTS + 1, 0, AIDC_E_LIMIT,
	     "AIDC_MAX_HAPROXY_SLOTS", 0},
	    {dir, "127.0.0.1", 30000, 2, 50, AIDC_E_INVAL, "timeout_server_ms", 0},
	    {"/tmp/a\"b", "127.0.0.1", 30000, 2, 0, AIDC_E_INVAL, "quotes", 0},
	    {"", "127.0.0.1", 30000, 2, 0, AIDC_E_INVAL, "dir", 0},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ctld_haproxy_opts b = {.bin = "/bin/sh",
					      .dir = bad[i].dir,
					      .bind_addr = bad[i].addr,
					      .port_base = bad[i].base,
					      .slots = bad[i].slots,
					      .timeout_server_ms = bad[i].ts,
					      .servers_per_slot = bad[i].per_slot};
		aidc_err_clear(&e);
		CHECK_EQ(ctld_haproxy_start(&b, &h, &e), bad[i].code);
		CHECK_CONTAINS(e.msg, bad[i].msg);
	}
	struct stat st;
	CHECK(stat(dir, &st) != 0); /* nothing was made */
	ctld_haproxy_stop(NULL);
	CHECK(!ctld_haproxy_alive(NULL));
}

static void route_and_stats(void)
{
	need_haproxy();
	int base;
	struct ctld_haproxy *h = start_hx(3, &base, "route");
	char body[64];
	struct aidc_err e = {0};
	/* An empty slot answers 503 at once. */
	CHECK_EQ(get_once(base + 1, body, sizeof body), 503);
	struct backend a = backend_start("A", 0), b = backend_start("B", 0);
	CHECK_EQ(ctld_haproxy_server_add(h, 1, "r1", "127.0.0.1", a.port, &e), 0);
	CHECK_EQ(get_once(base + 1, body, sizeof body), 200);
	CHECK_STR(body, "A");
	CHECK_EQ(get_once(base, body, sizeof body), 503); /* slot 0 is still empty */
	CHECK_EQ(ctld_haproxy_server_add(h, 1, "r2", "localhost", b.port, &e), 0);
	int got_a = 0, got_b = 0, fd = -1;
	for (int i = 0; i < 10; i++) { /* one keep-alive connection: balanced per request */
		CHECK_EQ(http_get(base + 1, &fd, true, body, sizeof body), 200);
		got_a += strcmp(body, "A") == 0;
		got_b += strcmp(body, "B") == 0;
	}
	close(fd);
	CHECK_EQ(got_a, 5);
	CHECK_EQ(got_b, 5);
	char **names = NULL;
	size_t n = 0;
	CHECK_EQ(ctld_haproxy_servers(h, 1, &names, &n, &e), 0);
	CHECK_EQ(n, 2);
	if (n == 2) {
		CHECK_STR(names[0], "r1");
		CHECK_STR(names[1], "r2");
	}
	ctld_haproxy_names_free(names, n);
	CHECK_EQ(ctld_haproxy_servers(h, 2, &names, &n, &e), 0);
	CHECK_EQ(n, 0);
	ctld_haproxy_names_free(names, n);
	struct ctld_haproxy_stats s;
	CHECK_EQ(ctld_haproxy_slot_stats(h, 1, &s, &e), 0);
	CHECK_EQ(s.requests, 12);
	CHECK_EQ(s.responses_5xx, 1);
	CHECK_EQ(s.servers, 2);
	CHECK_EQ(s.servers_up, 2);
	CHECK_GE(s.avg_total_ms, 0);
	/* Drained: no new request reaches r1. */
	CHECK_EQ(ctld_haproxy_server_drain(h, 1, "r1", &e), 0);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(get_once(base + 1, body, sizeof body), 200);
		CHECK_STR(body, "B");
	}
	CHECK_EQ(ctld_haproxy_slot_stats(h, 1, &s, &e), 0);
	CHECK_EQ(s.servers_up, 1);
	CHECK_EQ(ctld_haproxy_server_del(h, 1, "r1", &e), 0);
	CHECK_EQ(ctld_haproxy_server_del(h, 1, "r2", &e), 0); /* drains it itself */
	CHECK_EQ(get_once(base + 1, body, sizeof body), 503);
	CHECK_EQ(ctld_haproxy_slot_stats(h, 1, &s, &e), 0);
	CHECK_EQ(s.servers, 0);
	/* r3 takes r1's place (which had idle connections to A): it reaches B. */
	CHECK_EQ(ctld_haproxy_server_add(h, 1, "r3", "127.0.0.1", b.port, &e), 0);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(get_once(base + 1, body, sizeof body), 200);
		CHECK_STR(body, "B");
	}
	CHECK_EQ(ctld_haproxy_servers(h, 1, &names, &n, &e), 0);
	CHECK_EQ(n, 1);
	if (n == 1)
		CHECK_STR(names[0], "r3");
	ctld_haproxy_names_free(names, n);
	if (e.code)
		fprintf(stderr, "last error: %s\n", e.msg);
	ctld_haproxy_stop(h);
	backend_kill(&a);
	backend_kill(&b);
}

static void bad_input(void)
{
	need_haproxy();
	int base;
	struct ctld_haproxy *h = start_hx(2, &base, "bad");
	struct backend a = backend_start("A", 0);
	struct aidc_err e = {0};
	CHECK_EQ(ctld_haproxy_server_add(h, 0, "r1", "127.0.0.1", a.port, &e), 0);
	char long_name[CTLD_HAPROXY_NAME_MAX + 2];
	memset(long_name, 'x', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	const char *names[] = {
	    "a;b", "a b", "", "r1;del server slot0/r1", "a\nb", "a/b", "é", long_name, "show stat"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		aidc_err_clear(&e);
		CHECK_EQ(ctld_haproxy_server_add(h, 0, names[i], "127.0.0.1", a.port, &e),
			 AIDC_E_INVAL);
		aidc_err_clear(&e);
		CHECK_EQ(ctld_haproxy_server_drain(h, 0, names[i], &e), AIDC_E_INVAL);
		aidc_err_clear(&e);
		CHECK_EQ(ctld_haproxy_server_del(h, 0, names[i], &e), AIDC_E_INVAL);
	}
	/* A slot holds CTLD_HAPROXY_SERVERS_PER_SLOT servers; one more is refused. */
	char fill[16];
	for (int i = 0; i < CTLD_HAPROXY_SERVERS_PER_SLOT; i++) {
		snprintf(fill, sizeof fill, "f%d", i);
		CHECK_EQ(ctld_haproxy_server_add(h, 1, fill, "127.0.0.1", a.port, &e), 0);
	}
	aidc_err_clear(&e);
	CHECK_EQ(ctld_haproxy_server_add(h, 1, "f99", "127.0.0.1", a.port, &e), AIDC_E_LIMIT);
	CHECK_CONTAINS(e.msg, "servers_per_slot");
	aidc_err_clear(&e);
	for (int i = 0; i < CTLD_HAPROXY_SERVERS_PER_SLOT; i++) {
		snprintf(fill, sizeof fill, "f%d", i);
		CHECK_EQ(ctld_haproxy_server_del(h, 1, fill, &e), 0);
	}
	long_name[CTLD_HAPROXY_NAME_MAX] = '\0'; /* at the limit: accepted */
	CHECK_EQ(ctld_haproxy_server_add(h, 1, long_name, "127.0.0.1", a.port, &e), 0);
	CHECK_EQ(ctld_haproxy_server_del(h, 1, long_name, &e), 0);
	const struct {
		int slot, port;
		const char *addr;
	} bad[] = {{-1, a.port, "127.0.0.1"},
		   {2, a.port, "127.0.0.1"},
		   {0, 0, "127.0.0.1"},
		   {0, 65536, "127.0.0.1"},
		   {0, a.port, "127.0.0.1;quit"},
		   {0, a.port, ""},
		   {0, a.port, "no-such-host.invalid"}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		aidc_err_clear(&e);
		CHECK_EQ(
		    ctld_haproxy_server_add(h, bad[i].slot, "r9", bad[i].addr, bad[i].port, &e),
		    AIDC_E_INVAL);
	}
	struct ctld_haproxy_stats s;
	aidc_err_clear(&e);
	CHECK_EQ(ctld_haproxy_slot_stats(h, 2, &s, &e), AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, "0..1");
	aidc_err_clear(&e);
	CHECK_EQ(ctld_haproxy_server_add(h, 0, "r1", "127.0.0.1", a.port, &e), AIDC_E_EXISTS);
	aidc_err_clear(&e);
	CHECK_EQ(ctld_haproxy_server_drain(h, 0, "r7", &e), AIDC_E_NOTFOUND);
	aidc_err_clear(&e);
	CHECK_EQ(ctld_haproxy_server_del(h, 0, "r7", &e), AIDC_E_NOTFOUND);
	CHECK_CONTAINS(e.msg, "r7");
	/* Nothing changed: r1 alone, up, serving. */
	char **list = NULL;
	size_t n = 0;
	CHECK_EQ(ctld_haproxy_servers(h, 0, &list, &n, &e), 0);
	CHECK_EQ(n, 1);
	if (n == 1)
		CHECK_STR(list[0], "r1");
	ctld_haproxy_names_free(list, n);
	CHECK_EQ(ctld_haproxy_servers(h, 1, &list, &n, &e), 0);
	CHECK_EQ(n, 0);
	ctld_haproxy_names_free(list, n);
	CHECK_EQ(ctld_haproxy_slot_stats(h, 0, &s, &e), 0);
	CHECK_EQ(s.servers_up, 1);
	char body[64];
	CHECK_EQ(get_once(base, body, sizeof body), 200);
	CHECK(ctld_haproxy_alive(h));
	ctld_haproxy_stop(h);
	backend_kill(&a);
}

/* A load client: requests GET / on port until stop_at_ms (monotonic) or a
 * count bound, and writes "ok fail" to fd. */
static void client_loop(int port, bool keep, int64_t stop_at_ms, int out)
{
	long ok = 0, fail = 0;
	int fd = -1;
	char body[64];
	for (int i = 0; i < 200000 && aidc_mono_ms() < stop_at_ms; i++) {
		if (http_get(port, &fd, keep, body, sizeof body) == 200)
			ok++;
		else
			fail++;
	}
	if (fd >= 0)
		close(fd);
	char line[64];
	int n = snprintf(line, sizeof line, "%ld %ld\n", ok, fail);
	if (write(out, line, (size_t)n) != n)
		_exit(2);
	_exit(0);
}

/* Deletes a drained server, retrying while it is busy (bounded). */
static int del_retry(struct ctld_haproxy *h, int slot, const char *name, int *busy)
{
	int rc = AIDC_E_BUSY;
	for (int i = 0; i < 500 && rc == AIDC_E_BUSY; i++) {
		struct aidc_err e = {0};
		rc = ctld_haproxy_server_del(h, slot, name, &e);
		if (rc == AIDC_E_BUSY) {
			(*busy)++;
			usleep(10000);
		} else if (rc) {
			fprintf(stderr, "del %s: %s\n", name, e.msg);
		}
	}
	return rc;
}

/* The rolling update of the load cases, on slot 0 of h serving a and b:
 * C is added, A drained, removed and killed, then B; c is C. */
static void roll(struct ctld_haproxy *h, struct backend *a, struct backend *b, struct backend *c,
		 int *busy)
{
	struct aidc_err e = {0};
	usleep(500000);
	*c = backend_start("C", 5);
	CHECK_EQ(ctld_haproxy_server_add(h, 0, "rc", "127.0.0.1", c->port, &e), 0);
	usleep(300000);
	CHECK_EQ(ctld_haproxy_server_drain(h, 0, "ra", &e), 0);
	CHECK_EQ(del_retry(h, 0, "ra", busy), 0);
	backend_kill(a);
	usleep(300000);
	CHECK_EQ(ctld_haproxy_server_drain(h, 0, "rb", &e), 0);
	CHECK_EQ(del_retry(h, 0, "rb", busy), 0);
	backend_kill(b);
	struct ctld_haproxy_stats s;
	CHECK_EQ(ctld_haproxy_slot_stats(h, 0, &s, &e), 0);
	CHECK_EQ(s.servers, 1);
	CHECK_EQ(s.servers_up, 1);
}

static struct ctld_haproxy *start_ab(int *base, const char *sub, struct backend *a,
				     struct backend *b)
{
	struct ctld_haproxy *h = start_hx(1, base, sub);
	struct aidc_err e = {0};
	*a = backend_start("A", 5);
	*b = backend_start("B", 5);
	CHECK_EQ(ctld_haproxy_server_add(h, 0, "ra", "127.0.0.1", a->port, &e), 0);
	CHECK_EQ(ctld_haproxy_server_add(h, 0, "rb", "127.0.0.1", b->port, &e), 0);
	return h;
}

/* A rolling update (roll) while 4 clients (2 keep-alive, 2 one connection
 * per request) loop requests: none may fail. */
static void rolling_no_failures(void)
{
	need_haproxy();
	int base, busy = 0;
	struct backend a, b, c = {0};
	struct ctld_haproxy *h = start_ab(&base, "roll", &a, &b);
	int p[2];
	CHECK_EQ(pipe(p), 0);
	enum { NCLIENTS = 4 };
	pid_t kids[NCLIENTS];
	int64_t stop_at = aidc_mono_ms() + 4000;
	for (int i = 0; i < NCLIENTS; i++)
		if ((kids[i] = fork()) == 0)
			client_loop(base, i % 2 == 0, stop_at, p[1]);
	close(p[1]);
	roll(h, &a, &b, &c, &busy);
	long ok = 0, fail = 0;
	FILE *f = fdopen(p[0], "r");
	for (long o, x; f && fscanf(f, "%ld %ld", &o, &x) == 2;) {
		ok += o;
		fail += x;
	}
	if (f)
		fclose(f);
	for (int i = 0; i < NCLIENTS; i++)
		waitpid(kids[i], NULL, 0);
	printf("rolling update: %ld requests ok, %ld failed, del busy %d times\n", ok, fail, busy);
	CHECK_EQ(fail, 0);
	CHECK_GE(ok, 100);
	struct ctld_haproxy_stats s;
	struct aidc_err e = {0};
	CHECK_EQ(ctld_haproxy_slot_stats(h, 0, &s, &e), 0);
	CHECK_EQ(s.responses_5xx, 0);
	CHECK_GE(s.requests, (uint64_t)ok);
	ctld_haproxy_stop(h);
	backend_kill(&c);
}

/* wrk's count of one kind of failure ("Socket errors: connect 0, read 1"). */
static long wrk_count(const char *out, const char *key)
{
	const char *p = strstr(out, key);
	return p ? strtol(p + strlen(key), NULL, 10) : 0;
}

/* The same rolling update under Debian's wrk (16 keep-alive connections). */
static void rolling_wrk(void)
{
	need_haproxy();
	if (system("command -v wrk >/dev/null 2>&1") != 0)
		TEST_SKIP("wrk is not installed (Debian package wrk)");
	int base, busy = 0;
	struct backend a, b, c = {0};
	struct ctld_haproxy *h = start_ab(&base, "wrk", &a, &b);
	char out_path[300], url[64];
	snprintf(out_path, sizeof out_path, "%s/wrk.out", tmpdir);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", base);
	pid_t w = fork();
	if (w == 0) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("wrk", "wrk", "-t2", "-c16", "-d3s", "--timeout", "5s", url, (char *)NULL);
		_exit(127);
	}
	roll(h, &a, &b, &c, &busy);
	int st = 0;
	waitpid(w, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char out[8192] = "";
	FILE *f = fopen(out_path, "r");
	size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
	out[n] = '\0';
	if (f)
		fclose(f);
	long reqs = 0;
	const char *r = strstr(out, " requests in ");
	while (r && r > out && r[-1] >= '0' && r[-1] <= '9')
		r--;
	if (r)
		reqs = strtol(r, NULL, 10);
	long non2xx = wrk_count(out, "Non-2xx or 3xx responses:");
	long errs = wrk_count(out, "connect ") + wrk_count(out, "read ") +
		    wrk_count(out, "write ") + wrk_count(out, "timeout ");
	printf("rolling update under wrk -c16: %ld requests, %ld non-2xx, %ld socket errors, "
	       "del busy %d times\n",
	       reqs, non2xx, errs, busy);
	CHECK_GE(reqs, 100);
	CHECK_EQ(non2xx, 0);
	CHECK_EQ(errs, 0);
	if (reqs < 100 || non2xx || errs)
		fprintf(stderr, "wrk said:\n%s\n", out);
	ctld_haproxy_stop(h);
	backend_kill(&c);
}

/* A replica that dies without being drained (a crash): later requests go to
 * the other one (connection refused or a dead reused connection: retried
 * and redispatched), none fails. */
static void crash_redispatch(void)
{
	need_haproxy();
	int base;
	struct backend a, b;
	struct ctld_haproxy *h = start_ab(&base, "crash", &a, &b);
	char body[64];
	int fd = -1;
	for (int i = 0; i < 4; i++) /* leaves idle server connections to both */
		CHECK_EQ(http_get(base, &fd, true, body, sizeof body), 200);
	backend_kill(&a);
	for (int i = 0; i < 20; i++) {
		CHECK_EQ(http_get(base, &fd, i % 2 == 0, body, sizeof body), 200);
		CHECK_STR(body, "B");
	}
	if (fd >= 0)
		close(fd);
	/* A replica that hangs (its host is gone): del is busy until the
	 * requests in flight are cut. */
	struct backend d = backend_start("D", 20000);
	struct aidc_err e = {0};
	CHECK_EQ(ctld_haproxy_server_add(h, 0, "rd", "127.0.0.1", d.port, &e), 0);
	CHECK_EQ(ctld_haproxy_server_drain(h, 0, "rb", &e), 0); /* only rd takes requests */
	pid_t client = fork();
	if (client == 0)
		_exit(get_once(base, body, sizeof body) == 200 ? 0 : 1);
	struct ctld_haproxy_stats s = {0};
	for (int i = 0; i < 200 && s.cur_sessions == 0; i++) {
		usleep(10000);
		CHECK_EQ(ctld_haproxy_slot_stats(h, 0, &s, &e), 0);
	}
	CHECK_EQ(ctld_haproxy_server_drain(h, 0, "rd", &e), 0);
	CHECK_EQ(ctld_haproxy_server_del(h, 0, "rd", &e), AIDC_E_BUSY);
	aidc_err_clear(&e);
	CHECK_EQ(ctld_haproxy_server_shutdown(h, 0, "rd", &e), 0);
	int busy = 0;
	CHECK_EQ(del_retry(h, 0, "rd", &busy), 0);
	CHECK_LT(busy, 100); /* well before the backend's 20 s */
	CHECK_EQ(ctld_haproxy_server_shutdown(h, 0, "rd", &e), AIDC_E_NOTFOUND);
	waitpid(client, NULL, 0);
	ctld_haproxy_stop(h);
	backend_kill(&b);
	backend_kill(&d);
}

static bool port_listening(int port)
{
	int fd = http_connect(port);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static void stop_and_errors(void)
{
	need_haproxy();
	int base;
	struct ctld_haproxy *h = start_hx(2, &base, "stop");
	pid_t pid = ctld_haproxy_pid(h);
	CHECK(pid > 0);
	CHECK(ctld_haproxy_alive(h));
	CHECK(!ctld_haproxy_adopted(h));
	CHECK(port_listening(base) && port_listening(base + 1));
	ctld_haproxy_stop(h);
	CHECK(kill(pid, 0) != 0 && errno == ESRCH);
	CHECK(!port_listening(base) && !port_listening(base + 1));
	/* A slot's port in use: refused, naming the port. */
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(base + 1))};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
	CHECK_EQ(listen(lfd, 1), 0);
	char dir[300], port[16];
	snprintf(dir, sizeof dir, "%s/stop2", tmpdir);
	struct ctld_haproxy_opts o = {
	    .bin = hx_bin, .dir = dir, .bind_addr = "127.0.0.1", .port_base = base, .slots = 2};
	struct aidc_err e = {0};
	CHECK_EQ(ctld_haproxy_start(&o, &h, &e), AIDC_E_BUSY);
	snprintf(port, sizeof port, "%d", base + 1);
	CHECK_CONTAINS(e.msg, port);
	CHECK(h == NULL);
	close(lfd);
	/* A binary that is not haproxy exits at once: its message, no hang. */
	o.bin = "/bin/false";
	aidc_err_clear(&e);
	CHECK_EQ(ctld_haproxy_start(&o, &h, &e), AIDC_E_IO);
	CHECK_CONTAINS(e.msg, "exited during start");
	CHECK(!port_listening(base));
}

/* A second start in the same dir with the same options adopts the running
 * haproxy and its servers (a controller restart); other options replace it. */
static void adopt(void)
{
	need_haproxy();
	int base;
	struct ctld_haproxy *h1 = start_hx(2, &base, "adopt");
	struct backend a = backend_start("A", 0);
	struct aidc_err e = {0};
	CHECK_EQ(ctld_haproxy_server_add(h1, 1, "r1", "127.0.0.1", a.port, &e), 0);
	char dir[300];
	snprintf(dir, sizeof dir, "%s/adopt", tmpdir);
	struct ctld_haproxy_opts o = {
	    .bin = hx_bin, .dir = dir, .bind_addr = "127.0.0.1", .port_base = base, .slots = 2};
	/* Lines a crash could leave (a place in maintenance) or damage. */
	char map[400];
	snprintf(map, sizeof map, "%s/servers.map", dir);
	FILE *mf = fopen(map, "a");
	CHECK(mf != NULL);
	if (mf) {
		fputs("0 5 ghost\n1 0 twice\n9 0 badslot\n0 99 badplace\n0 1 bad;name\n", mf);
		fclose(mf);
	}
	struct ctld_haproxy *h2 = NULL;
	CHECK_EQ(ctld_haproxy_start(&o, &h2, &e), 0);
	CHECK(ctld_haproxy_adopted(h2));
	CHECK_EQ(ctld_haproxy_pid(h2), ctld_haproxy_pid(h1));
	char **names = NULL;
	size_t n = 0;
	CHECK_EQ(ctld_haproxy_servers(h2, 1, &names, &n, &e), 0);
	CHECK_EQ(n, 1); /* from servers.map: the adopted one's names */
	if (n == 1)
		CHECK_STR(names[0], "r1");
	ctld_haproxy_names_free(names, n);
	CHECK_EQ(ctld_haproxy_servers(h2, 0, &names, &n, &e), 0);
	CHECK_EQ(n, 0); /* ghost's place is in maintenance: forgotten */
	ctld_haproxy_names_free(names, n);
	/* One slot more: a different config, so the old one is replaced. */
	pid_t old = ctld_haproxy_pid(h1);
	o.slots = 3;
	struct ctld_haproxy *h3 = NULL;
	if (!port_free(base + 2))
		TEST_SKIP("port %d was taken meanwhile", base + 2);
	CHECK_EQ(ctld_haproxy_start(&o, &h3, &e), 0);
	if (e.code)
		fprintf(stderr, "%s\n", e.msg);
	CHECK(!ctld_haproxy_adopted(h3));
	CHECK_NE(ctld_haproxy_pid(h3), old);
	CHECK(!ctld_haproxy_alive(h1));
	CHECK_EQ(ctld_haproxy_servers(h3, 1, &names, &n, &e), 0);
	CHECK_EQ(n, 0);
	ctld_haproxy_names_free(names, n);
	ctld_haproxy_stop(h3);
	ctld_haproxy_stop(h2); /* its pid is gone: nothing to wait for */
	ctld_haproxy_stop(h1);
	backend_kill(&a);
}

/* router_keep_on_stop: detach leaves haproxy running and named in
 * haproxy.pid; the next start adopts it; stop ends it and removes the file. */
static void detach(void)
{
	need_haproxy();
	int base;
	struct ctld_haproxy *h1 = start_hx(1, &base, "detach");
	pid_t pid = ctld_haproxy_pid(h1);
	char dir[300], pidf[340], line[32] = "";
	snprintf(dir, sizeof dir, "%s/detach", tmpdir);
	snprintf(pidf, sizeof pidf, "%s/haproxy.pid", dir);
	FILE *f = fopen(pidf, "r");
	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(line, sizeof line, f) != NULL);
		fclose(f);
	}
	CHECK_EQ(strtol(line, NULL, 10), (long)pid);
	ctld_haproxy_detach(h1);
	CHECK_EQ(kill(pid, 0), 0); /* still routing */
	CHECK(!port_free(base));
	struct ctld_haproxy_opts o = {
	    .bin = hx_bin, .dir = dir, .bind_addr = "127.0.0.1", .port_base = base, .slots = 1};
	struct ctld_haproxy *h2 = NULL;
	struct aidc_err e = {0};
	CHECK_EQ(ctld_haproxy_start(&o, &h2, &e), 0);
	CHECK(ctld_haproxy_adopted(h2));
	CHECK_EQ(ctld_haproxy_pid(h2), (int)pid);
	ctld_haproxy_stop(h2);
	CHECK(access(pidf, F_OK) != 0);
	CHECK(port_free(base));
	ctld_haproxy_detach(NULL);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
	    TEST(parse_stat),
	    TEST(bad_opts),
	    TEST(route_and_stats),
	    TEST(bad_input),
	    TEST(adopt),
	    TEST(detach),
	    TEST(stop_and_errors),
	    TEST(crash_redispatch),
	    {"rolling_no_failures", rolling_no_failures, 60},
	    {"rolling_wrk", rolling_wrk, 60},
	};
	return test_run_in_dir(argc, argv, cases, sizeof cases / sizeof cases[0], tmpdir);
}
