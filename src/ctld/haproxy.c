/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HAProxy driver (haproxy.h): writes the slot config, runs haproxy as a
 * child process, and changes its backends through the runtime API on the
 * stats socket (one connection per command: haproxy answers and closes).
 * Replicas occupy template servers ("places"; haproxy.h says why not
 * dynamic servers); the name of each place's replica is kept here.
 *
 * The runtime API is a text protocol where ';' and a newline separate
 * commands, so nothing from a caller reaches a command line unchecked: slots
 * are integers, server names are [A-Za-z0-9_-], addresses are rewritten from
 * their binary form (inet_ntop), ports are integers; cli() refuses any command
 * holding a separator anyway.
 *
 * Why the proxy settings in write_config are what they are (zero failed
 * requests across a rolling update):
 *   - balance roundrobin, and no prefer-last-server: every request of a
 *     keep-alive client connection is balanced again, so a drained server
 *     gets no new request even from connections that used it before;
 *   - option redispatch 1 with retries 3: a connection refused or timed out
 *     (a replica that died before the controller removed it) is retried at
 *     once on another server, without the 1 s turn-around of a same-server retry;
 *   - retry-on conn-failure empty-response junk-response: a request sent on a
 *     reused server connection that the replica closed at that moment is
 *     resent (haproxy keeps it buffered) rather than answered 502;
 *   - timeout connect 1s: replicas are on the center's network, a SYN that
 *     gets no answer in 1 s is a dead host;
 *   - noreuseport: a second haproxy (or anything) on a slot's port makes the
 *     bind fail instead of silently sharing the port.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctld/haproxy.h"
#include "util/clock.h"
#include "util/parse.h"
#include "util/util.h"

extern char **environ;

/* Replies of `show stat` for one slot: ~700 bytes a row, so thousands of
 * servers fit; a larger reply is refused (AIDC_E_LIMIT), not cut. */
#define REPLY_MAX  (8u * 1024u * 1024u)
#define CONFIG_MAX (4u * 1024u * 1024u)

/* A place's replica name with its NUL. */
#define PLACE_NAME_BYTES (CTLD_HAPROXY_NAME_MAX + 1)

struct ctld_haproxy {
	pid_t pid;
	bool adopted; /* found running at start (started by an earlier controller) */
	int slots, port_base;
	int places;  /* template servers per slot */
	char *names; /* slots x places names of PLACE_NAME_BYTES (place_name) */
	char *dir, *cfg_path, *sock_path, *log_path, *map_path;
	char *pid_path; /* haproxy.pid: for `aidc down` and operators, after a detach */
};

static int write_file(const char *path, const char *text, struct aidc_err *e);
static int read_file(const char *path, struct aidc_buf *b);

static int64_t ms_left(int64_t deadline_ms)
{
	int64_t left = deadline_ms - aidc_mono_ms();
	return left > 0 ? left : 0;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- the runtime API --------------------------------------------------------- */

static int cli_connect(const char *sock_path, int64_t deadline, struct aidc_err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return aidc_errf(e, AIDC_E_IO, "haproxy: socket: %s", strerror(errno));
	while (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		/* EAGAIN: the listen backlog is full; retry until the deadline. */
		if (errno != EAGAIN && errno != EINTR) {
			int err = errno;
			close(fd);
			return aidc_errf(e, AIDC_E_IO, "haproxy stats socket %s: %s", sock_path,
					 strerror(err));
		}
		if (ms_left(deadline) == 0) {
			close(fd);
			return aidc_errf(e, AIDC_E_TIMEOUT,
					 "haproxy stats socket %s: connect timed out", sock_path);
		}
		nap_ms(10);
	}
	return fd;
}

/* Waits for fd to be ready for events until deadline: 0, or AIDC_E_TIMEOUT / AIDC_E_IO. */
static int wait_fd(int fd, short events, int64_t deadline, const char *what, struct aidc_err *e)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, (int)ms_left(deadline));
		if (r > 0)
			return 0;
		if (r == 0)
			return aidc_errf(e, AIDC_E_TIMEOUT,
					 "haproxy did not answer '%s' within %d ms", what,
					 CTLD_HAPROXY_IO_TIMEOUT_MS);
		if (errno != EINTR)
			return aidc_errf(e, AIDC_E_IO, "haproxy: poll: %s", strerror(errno));
	}
}

static bool cmd_safe(const char *cmd)
{
	for (const char *p = cmd; *p; p++)
		if (*p == ';' || *p == '\n' || *p == '\r' || (unsigned char)*p < 0x20)
			return false;
	return true;
}

static int cli_exchange(int fd, const char *cmd, int64_t deadline, struct aidc_buf *out,
			struct aidc_err *e)
{
	char line[512];
	int n = snprintf(line, sizeof line, "%s\n", cmd);
	if (n < 0 || (size_t)n >= sizeof line)
		return aidc_errf(e, AIDC_E_INTERNAL, "haproxy command too long: %s", cmd);
	for (size_t off = 0; off < (size_t)n;) {
		int rc = wait_fd(fd, POLLOUT, deadline, cmd, e);
		if (rc)
			return rc;
		ssize_t w = send(fd, line + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return aidc_errf(e, AIDC_E_IO, "haproxy '%s': send: %s", cmd,
					 strerror(errno));
		off += w > 0 ? (size_t)w : 0;
	}
	for (;;) { /* haproxy closes the connection after one answer */
		int rc = wait_fd(fd, POLLIN, deadline, cmd, e);
		if (rc)
			return rc;
		char chunk[16384];
		ssize_t r = recv(fd, chunk, sizeof chunk, 0);
		if (r == 0)
			return 0;
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return aidc_errf(e, AIDC_E_IO, "haproxy '%s': recv: %s", cmd,
					 strerror(errno));
		if (r > 0 && aidc_buf_append(out, chunk, (size_t)r))
			return aidc_errf(e, AIDC_E_LIMIT,
					 "haproxy's answer to '%s' exceeds %u bytes", cmd,
					 REPLY_MAX);
	}
}

/* Sends one command (borrowed) and reads the whole reply into out (reset
 * first), within CTLD_HAPROXY_IO_TIMEOUT_MS. */
static int cli_at(const char *sock_path, const char *cmd, struct aidc_buf *out, struct aidc_err *e)
{
	if (!cmd_safe(cmd))
		return aidc_errf(e, AIDC_E_INTERNAL, "refusing a haproxy command with a separator");
	aidc_buf_reset(out);
	int64_t deadline = aidc_mono_ms() + CTLD_HAPROXY_IO_TIMEOUT_MS;
	int fd = cli_connect(sock_path, deadline, e);
	if (fd < 0)
		return fd;
	int rc = cli_exchange(fd, cmd, deadline, out, e);
	close(fd);
	return rc;
}

static int cli(struct ctld_haproxy *h, const char *cmd, struct aidc_buf *out, struct aidc_err *e)
{
	return cli_at(h->sock_path, cmd, out, e);
}

/* The reply without its trailing blank lines (haproxy ends each with "\n\n"). */
static const char *reply_text(struct aidc_buf *b)
{
	while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == ' '))
		b->data[--b->len] = '\0';
	return aidc_buf_str(b);
}

/* Maps haproxy's answer to a change command: ok (borrowed) is the success
 * text ("" = an empty answer); anything else becomes an error naming what. */
static int reply_check(struct aidc_buf *b, const char *ok, const char *what, struct aidc_err *e)
{
	const char *t = reply_text(b);
	if (strcmp(t, ok) == 0)
		return 0;
	int code = AIDC_E_IO;
	if (strstr(t, "No such server") || strstr(t, "No such backend"))
		code = AIDC_E_NOTFOUND;
	else if (strstr(t, "Already exists"))
		code = AIDC_E_EXISTS;
	else if (strstr(t, "still has connections"))
		code = AIDC_E_BUSY;
	/* The first line is haproxy's message; the rest is its command help. */
	size_t len = strcspn(t, "\n");
	return aidc_errf(e, code, "haproxy %s: %.*s", what, (int)(len > 200 ? 200 : len), t);
}

/* ---- input checks ------------------------------------------------------------ */

static int check_slot(const struct ctld_haproxy *h, int slot, struct aidc_err *e)
{
	if (slot < 0 || slot >= h->slots)
		return aidc_errf(e, AIDC_E_INVAL, "haproxy slot %d is out of range 0..%d", slot,
				 h->slots - 1);
	return 0;
}

static int check_name(const char *name, struct aidc_err *e)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > CTLD_HAPROXY_NAME_MAX)
		return aidc_errf(e, AIDC_E_INVAL, "haproxy server name must be 1..%d bytes",
				 CTLD_HAPROXY_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return aidc_errf(e, AIDC_E_INVAL,
					 "haproxy server name '%.*s' may hold only A-Z a-z 0-9 _ -",
					 CTLD_HAPROXY_NAME_MAX, name);
	}
	return 0;
}

/* Resolves addr (numeric or a host name) to its numeric form in out. */
static int server_addr(const char *addr, int port, char *out, size_t n, struct aidc_err *e)
{
	if (port < 1 || port > 65535)
		return aidc_errf(e, AIDC_E_INVAL, "haproxy server port %d is out of range 1..65535",
				 port);
	if (!addr || !*addr || strlen(addr) > 253)
		return aidc_errf(e, AIDC_E_INVAL, "haproxy server address is empty or too long");
	/* IPv4 first: "localhost" must not become ::1 for a replica that
	 * listens on 127.0.0.1 only. */
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int g = getaddrinfo(addr, NULL, &hints, &res);
	if (g != 0) {
		hints.ai_family = AF_INET6;
		g = getaddrinfo(addr, NULL, &hints, &res);
	}
	if (g != 0 || !res)
		return aidc_errf(e, AIDC_E_INVAL, "haproxy server address '%.253s': %s", addr,
				 gai_strerror(g));
	bool v6 = res->ai_family == AF_INET6;
	const void *a = v6 ? (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr
			   : (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
	const char *ok = inet_ntop(res->ai_family, a, out, (socklen_t)n);
	freeaddrinfo(res);
	if (!ok)
		return aidc_errf(e, AIDC_E_INVAL, "haproxy server address '%.253s'", addr);
	return 0;
}

static int check_arg(struct ctld_haproxy *h, int slot, const char *name, struct aidc_err *e)
{
	if (!h)
		return aidc_errf(e, AIDC_E_STATE, "haproxy is not running");
	int rc = check_slot(h, slot, e);
	return rc ? rc : check_name(name, e);
}

/* ---- show stat --------------------------------------------------------------- */

/* The columns the driver reads, found by name in the header. */
enum col { C_PX, C_SV, C_QCUR, C_SCUR, C_STATUS, C_REQ, C_5XX, C_RTIME, C_TTIME, C_RATE, C_N };
static const char *const col_names[C_N] = {"# pxname", "svname",   "qcur",  "scur",  "status",
					   "req_tot",  "hrsp_5xx", "rtime", "ttime", "req_rate"};

struct stat_reader {
	struct aidc_csv csv;
	int col[C_N];
};

static int stat_open(struct stat_reader *r, const char *text, struct aidc_err *e)
{
	aidc_csv_open_mem(&r->csv, "haproxy show stat", text, strlen(text));
	int rc = aidc_csv_read_header(&r->csv, e);
	for (int i = 0; !rc && i < C_N; i++) {
		r->col[i] = aidc_csv_col(&r->csv, col_names[i]);
		if (r->col[i] < 0)
			rc = aidc_errf(e, AIDC_E_PARSE, "haproxy show stat: no column '%s'",
				       col_names[i]);
	}
	if (rc)
		aidc_csv_close(&r->csv);
	return rc;
}

static const char *stat_get(const struct stat_reader *r, enum col c)
{
	return aidc_csv_get(&r->csv, r->col[c]);
}

/* A counter; an empty field (not kept for this row type) is 0. */
static uint64_t stat_u64(const struct stat_reader *r, enum col c)
{
	int64_t v = 0;
	const char *s = stat_get(r, c);
	if (*s && aidc_parse_i64(s, 0, INT64_MAX, &v))
		v = 0;
	return (uint64_t)v;
}

/* Whether a server row's status takes new requests: "UP", "UP 1/2", or
 * "no check" (enabled, no health check); not DRAIN, MAINT, DOWN, NOLB. */
static bool status_up(const char *s)
{
	return strncmp(s, "UP", 2) == 0 || strcmp(s, "no check") == 0;
}

int ctld_haproxy_parse_stat(const char *csv, const char *proxy, struct ctld_haproxy_stats *out,
			    struct aidc_err *e)
{
	struct stat_reader r;
	int rc = stat_open(&r, csv, e);
	if (rc)
		return rc;
	struct ctld_haproxy_stats s = {.avg_response_ms = -1, .avg_total_ms = -1};
	bool frontend = false;
	while ((rc = aidc_csv_next(&r.csv, e)) > 0) {
		if (strcmp(stat_get(&r, C_PX), proxy) != 0)
			continue;
		const char *sv = stat_get(&r, C_SV);
		if (strcmp(sv, "FRONTEND") == 0) {
			frontend = true;
			s.requests = stat_u64(&r, C_REQ);
			s.responses_5xx = stat_u64(&r, C_5XX);
			s.cur_sessions = stat_u64(&r, C_SCUR);
			s.req_rate = stat_u64(&r, C_RATE);
		} else if (strcmp(sv, "BACKEND") == 0) {
			/* rtime/ttime average the last 1024 requests and read 0
			 * before the first one, which says nothing: -1 then. */
			bool any = stat_u64(&r, C_REQ) > 0;
			s.queued = stat_u64(&r, C_QCUR);
			s.avg_response_ms = any ? (int64_t)stat_u64(&r, C_RTIME) : -1;
			s.avg_total_ms = any ? (int64_t)stat_u64(&r, C_TTIME) : -1;
		} else if (strncmp(stat_get(&r, C_STATUS), "MAINT", 5) != 0) {
			/* A place in maintenance holds no replica. */
			s.servers++;
			s.servers_up += status_up(stat_get(&r, C_STATUS));
		}
	}
	aidc_csv_close(&r.csv);
	if (rc < 0)
		return rc;
	if (!frontend)
		return aidc_errf(e, AIDC_E_NOTFOUND, "haproxy show stat: no frontend '%s'", proxy);
	*out = s;
	return 0;
}

/* `show stat` of one slot's proxy into b. */
static int show_stat(struct ctld_haproxy *h, int slot, struct aidc_buf *b, struct aidc_err *e)
{
	char cmd[64];
	snprintf(cmd, sizeof cmd, "show stat slot%d -1 -1", slot);
	return cli(h, cmd, b, e);
}

int ctld_haproxy_slot_stats(struct ctld_haproxy *h, int slot, struct ctld_haproxy_stats *out,
			    struct aidc_err *e)
{
	if (!h)
		return aidc_errf(e, AIDC_E_STATE, "haproxy is not running");
	int rc = check_slot(h, slot, e);
	if (rc)
		return rc;
	struct aidc_buf b;
	aidc_buf_init(&b, REPLY_MAX);
	char px[32];
	snprintf(px, sizeof px, "slot%d", slot);
	rc = show_stat(h, slot, &b, e);
	if (!rc)
		rc = ctld_haproxy_parse_stat(aidc_buf_str(&b), px, out, e);
	aidc_buf_release(&b);
	return rc;
}

void ctld_haproxy_names_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		aidc_free(names[i]);
	aidc_free(names);
}

/* ---- places: the name of the replica in each template server ---------------- */

/* Place j of slot i is haproxy's server slot<i>/p<j+1>; its replica's name
 * is names[i * places + j], "" when the place is free. */
static char *place_name(struct ctld_haproxy *h, int slot, int j)
{
	return h->names + ((size_t)slot * (size_t)h->places + (size_t)j) * PLACE_NAME_BYTES;
}

static int place_find(struct ctld_haproxy *h, int slot, const char *name)
{
	for (int j = 0; j < h->places; j++)
		if (strcmp(place_name(h, slot, j), name) == 0)
			return j;
	return -1;
}

/* Writes the names to dir/servers.map ("SLOT PLACE NAME" lines), so a
 * controller that adopts this haproxy knows which replica each place holds. */
static int map_save(struct ctld_haproxy *h, struct aidc_err *e)
{
	struct aidc_buf b;
	aidc_buf_init(&b, (size_t)h->slots * (size_t)h->places * (PLACE_NAME_BYTES + 16) + 64);
	aidc_buf_puts(&b, "# aidc haproxy servers 1\n");
	for (int i = 0; i < h->slots; i++)
		for (int j = 0; j < h->places; j++)
			if (*place_name(h, i, j))
				aidc_buf_printf(&b, "%d %d %s\n", i, j, place_name(h, i, j));
	int rc = write_file(h->map_path, aidc_buf_str(&b), e);
	aidc_buf_release(&b);
	return rc;
}

/* Sets place j of slot to name ("" frees it) and saves the map; on a failed
 * save the place is left as it was. */
static int place_set(struct ctld_haproxy *h, int slot, int j, const char *name, struct aidc_err *e)
{
	char old[PLACE_NAME_BYTES];
	char *p = place_name(h, slot, j);
	memcpy(old, p, sizeof old);
	snprintf(p, PLACE_NAME_BYTES, "%s", name);
	int rc = map_save(h, e);
	if (rc)
		memcpy(p, old, sizeof old);
	return rc;
}

/* One server row of the slot: place (1-based "p<j>") status and sessions
 * (current + queued). */
struct place_row {
	bool found;
	char status[32];
	uint64_t conns;
};

static int place_state(struct ctld_haproxy *h, int slot, int j, struct place_row *out,
		       struct aidc_err *e)
{
	struct aidc_buf b;
	aidc_buf_init(&b, REPLY_MAX);
	struct stat_reader r;
	char px[32], sv[32];
	snprintf(px, sizeof px, "slot%d", slot);
	snprintf(sv, sizeof sv, "p%d", j + 1);
	*out = (struct place_row){0};
	int rc = show_stat(h, slot, &b, e);
	if (rc || (rc = stat_open(&r, aidc_buf_str(&b), e)) != 0)
		goto out;
	while ((rc = aidc_csv_next(&r.csv, e)) > 0) {
		if (strcmp(stat_get(&r, C_PX), px) != 0 || strcmp(stat_get(&r, C_SV), sv) != 0)
			continue;
		out->found = true;
		snprintf(out->status, sizeof out->status, "%s", stat_get(&r, C_STATUS));
		out->conns = stat_u64(&r, C_SCUR) + stat_u64(&r, C_QCUR);
	}
	aidc_csv_close(&r.csv);
	if (rc == 0 && !out->found)
		rc = aidc_errf(e, AIDC_E_INTERNAL, "haproxy has no server %s/%s", px, sv);
out:
	aidc_buf_release(&b);
	return rc < 0 ? rc : 0;
}

static bool is_maint(const struct place_row *r)
{
	return strncmp(r->status, "MAINT", 5) == 0;
}

/* After adoption: reads dir/servers.map and keeps the names whose places
 * are in use (not in maintenance: a replica half added or half removed when
 * the last controller stopped is forgotten, and re-added by reconciling). */
static void map_load(struct ctld_haproxy *h)
{
	struct aidc_buf b;
	aidc_buf_init(&b, (size_t)h->slots * (size_t)h->places * (PLACE_NAME_BYTES + 16) + 64);
	if (read_file(h->map_path, &b) == 0 && b.data) {
		char *save = NULL;
		for (char *l = strtok_r(b.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			int i, j, n = 0;
			char name[PLACE_NAME_BYTES];
			struct aidc_err e = {0};
			struct place_row row;
			if (sscanf(l, "%d %d %63[A-Za-z0-9_-]%n", &i, &j, name, &n) != 3 ||
			    l[n] != '\0' || i < 0 || i >= h->slots || j < 0 || j >= h->places ||
			    check_name(name, &e) || place_find(h, i, name) >= 0 ||
			    *place_name(h, i, j))
				continue;
			if (place_state(h, i, j, &row, &e) == 0 && !is_maint(&row))
				snprintf(place_name(h, i, j), PLACE_NAME_BYTES, "%s", name);
		}
	}
	aidc_buf_release(&b);
	struct aidc_err e = {0};
	if (map_save(h, &e))
		aidc_log(AIDC_LOG_WARN, "haproxy: %s", e.msg);
}

int ctld_haproxy_servers(struct ctld_haproxy *h, int slot, char ***names, size_t *n,
			 struct aidc_err *e)
{
	if (!h)
		return aidc_errf(e, AIDC_E_STATE, "haproxy is not running");
	int rc = check_slot(h, slot, e);
	if (rc)
		return rc;
	size_t count = 0;
	for (int j = 0; j < h->places; j++)
		count += *place_name(h, slot, j) != '\0';
	char **v = aidc_calloc(count ? count : 1, sizeof *v);
	size_t k = 0;
	for (int j = 0; j < h->places; j++)
		if (*place_name(h, slot, j))
			v[k++] = aidc_strdup(place_name(h, slot, j));
	*names = v;
	*n = k;
	return 0;
}

/* ---- servers ----------------------------------------------------------------- */

/* Sends "<verb> server slot<slot>/p<j+1><rest>" and checks the reply. */
static int place_cmd(struct ctld_haproxy *h, int slot, int j, const char *rest, const char *ok,
		     const char *name, struct aidc_err *e)
{
	char cmd[256], what[320];
	snprintf(cmd, sizeof cmd, "set server slot%d/p%d %s", slot, j + 1, rest);
	snprintf(what, sizeof what, "'%s' (server %s)", cmd, name);
	struct aidc_buf b;
	aidc_buf_init(&b, REPLY_MAX);
	int rc = cli(h, cmd, &b, e);
	if (!rc && ok)
		rc = reply_check(&b, ok, what, e);
	else if (!rc && !strstr(aidc_buf_str(&b), "changed") &&
		 !strstr(aidc_buf_str(&b), "no need to change"))
		rc = reply_check(&b, "", what, e); /* an address change says what it did */
	aidc_buf_release(&b);
	return rc;
}

int ctld_haproxy_server_add(struct ctld_haproxy *h, int slot, const char *name, const char *addr,
			    int port, struct aidc_err *e)
{
	int rc = check_arg(h, slot, name, e);
	char ip[INET6_ADDRSTRLEN], rest[INET6_ADDRSTRLEN + 40];
	if (rc || (rc = server_addr(addr, port, ip, sizeof ip, e)) != 0)
		return rc;
	if (place_find(h, slot, name) >= 0)
		return aidc_errf(e, AIDC_E_EXISTS, "haproxy slot %d already has server '%s'", slot,
				 name);
	int j = place_find(h, slot, "");
	if (j < 0)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "haproxy slot %d has no free server place (servers_per_slot %d)",
				 slot, h->places);
	struct place_row row;
	if ((rc = place_state(h, slot, j, &row, e)) != 0)
		return rc;
	/* A free place that is not in maintenance was set by someone else
	 * (by hand, or before a controller crash): it holds no replica we know. */
	if (!is_maint(&row)) {
		aidc_log(AIDC_LOG_WARN, "haproxy: free place slot%d/p%d was %s: maint", slot, j + 1,
			 row.status);
		if ((rc = place_cmd(h, slot, j, "state maint", "", name, e)) != 0)
			return rc;
	}
	/* The place is in maintenance, so its idle connections to an earlier
	 * replica are gone (haproxy closes them on maint) before the new address. */
	snprintf(rest, sizeof rest, "addr %s port %d", ip, port);
	if ((rc = place_cmd(h, slot, j, rest, NULL, name, e)) != 0 ||
	    (rc = place_set(h, slot, j, name, e)) != 0)
		return rc;
	if ((rc = place_cmd(h, slot, j, "state ready", "", name, e)) != 0) {
		struct aidc_err ignored = {0};
		place_set(h, slot, j, "", &ignored);
	}
	return rc;
}

/* The place that holds server name in slot (checked arguments), or a
 * negative code: AIDC_E_NOTFOUND when the slot has no such server. */
static int place_of(struct ctld_haproxy *h, int slot, const char *name, struct aidc_err *e)
{
	int rc = check_arg(h, slot, name, e);
	if (rc)
		return rc;
	int j = place_find(h, slot, name);
	if (j < 0)
		return aidc_errf(e, AIDC_E_NOTFOUND, "haproxy slot %d has no server '%s'", slot,
				 name);
	return j;
}

int ctld_haproxy_server_drain(struct ctld_haproxy *h, int slot, const char *name,
			      struct aidc_err *e)
{
	int j = place_of(h, slot, name, e);
	if (j < 0)
		return j;
	return place_cmd(h, slot, j, "state drain", "", name, e);
}

int ctld_haproxy_server_shutdown(struct ctld_haproxy *h, int slot, const char *name,
				 struct aidc_err *e)
{
	int j = place_of(h, slot, name, e);
	if (j < 0)
		return j;
	char cmd[64], what[128];
	snprintf(cmd, sizeof cmd, "shutdown sessions server slot%d/p%d", slot, j + 1);
	snprintf(what, sizeof what, "'%s' (server %s)", cmd, name);
	struct aidc_buf b;
	aidc_buf_init(&b, REPLY_MAX);
	int rc = cli(h, cmd, &b, e);
	if (rc == 0)
		rc = reply_check(&b, "", what, e);
	aidc_buf_release(&b);
	return rc;
}

int ctld_haproxy_server_del(struct ctld_haproxy *h, int slot, const char *name, struct aidc_err *e)
{
	int j = place_of(h, slot, name, e);
	if (j < 0)
		return j;
	struct place_row row;
	int rc = place_state(h, slot, j, &row, e);
	if (rc != 0)
		return rc;
	if (!is_maint(&row) && strcmp(row.status, "DRAIN") != 0) {
		if ((rc = place_cmd(h, slot, j, "state drain", "", name, e)) != 0)
			return rc;
		/* Requests may have been sent to it just before; look again. */
		if ((rc = place_state(h, slot, j, &row, e)) != 0)
			return rc;
	}
	if (row.conns > 0)
		return aidc_errf(e, AIDC_E_BUSY,
				 "haproxy server %s (slot%d/p%d) still has %" PRIu64 " connections",
				 name, slot, j + 1, row.conns);
	/* Drained and idle: maintenance closes its idle connections; the place
	 * is free for the next replica. */
	if (!is_maint(&row) && (rc = place_cmd(h, slot, j, "state maint", "", name, e)) != 0)
		return rc;
	return place_set(h, slot, j, "", e);
}

/* ---- the process ------------------------------------------------------------- */

int ctld_haproxy_bin_check(const char *bin, struct aidc_err *e)
{
	struct stat st;
	if (!bin || !*bin)
		return aidc_errf(e, AIDC_E_NOTFOUND, "no haproxy binary configured (haproxy_bin)");
	if (stat(bin, &st) != 0)
		return aidc_errf(e, AIDC_E_NOTFOUND,
				 "haproxy binary %s: %s (install Debian's haproxy package or set "
				 "haproxy_bin)",
				 bin, strerror(errno));
	if (!S_ISREG(st.st_mode) || access(bin, X_OK) != 0)
		return aidc_errf(e, AIDC_E_NOTFOUND, "haproxy binary %s is not an executable file",
				 bin);
	return 0;
}

/* A path that goes into the config between double quotes: none of the
 * characters haproxy expands or ends a quoted word with. */
static bool cfg_path_ok(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || strchr("\"'\\$#", *p))
			return false;
	return true;
}

static int check_opts(const struct ctld_haproxy_opts *o, struct aidc_err *e)
{
	unsigned char ip[sizeof(struct in6_addr)];
	if (!o->dir || !*o->dir || !cfg_path_ok(o->dir))
		return aidc_errf(e, AIDC_E_INVAL,
				 "haproxy dir must be a path without quotes, '\\', '$', '#' or "
				 "control characters");
	if (strlen(o->dir) + sizeof "/admin.sock" > sizeof(((struct sockaddr_un *)0)->sun_path))
		return aidc_errf(
		    e, AIDC_E_INVAL,
		    "haproxy dir %s is too long for a unix socket path (%zu bytes at "
		    "most)",
		    o->dir, sizeof(((struct sockaddr_un *)0)->sun_path) - sizeof "/admin.sock");
	if (!o->bind_addr || (inet_pton(AF_INET, o->bind_addr, ip) != 1 &&
			      inet_pton(AF_INET6, o->bind_addr, ip) != 1))
		return aidc_errf(e, AIDC_E_INVAL, "haproxy bind address '%s' is not a numeric IP",
				 o->bind_addr ? o->bind_addr : "");
	if (o->slots < 1 || o->slots > (int)AIDC_MAX_HAPROXY_SLOTS)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "haproxy slots %d is out of range 1..%u (AIDC_MAX_HAPROXY_SLOTS)",
				 o->slots, AIDC_MAX_HAPROXY_SLOTS);
	if (o->port_base < 1 || o->port_base > 65535 - (o->slots - 1))
		return aidc_errf(e, AIDC_E_INVAL, "haproxy ports %d..%d are out of range 1..65535",
				 o->port_base, o->port_base + o->slots - 1);
	if (o->servers_per_slot < 0 || o->servers_per_slot > (int)AIDC_MAX_HAPROXY_SLOT_SERVERS)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "haproxy servers_per_slot %d is out of range 1..%u "
				 "(AIDC_MAX_HAPROXY_SLOT_SERVERS; 0: %d)",
				 o->servers_per_slot, AIDC_MAX_HAPROXY_SLOT_SERVERS,
				 CTLD_HAPROXY_SERVERS_PER_SLOT);
	int places = o->servers_per_slot ? o->servers_per_slot : CTLD_HAPROXY_SERVERS_PER_SLOT;
	if ((long)o->slots * places > (long)AIDC_MAX_HAPROXY_SERVERS)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "haproxy slots x servers_per_slot = %ld exceeds %u "
				 "(AIDC_MAX_HAPROXY_SERVERS)",
				 (long)o->slots * places, AIDC_MAX_HAPROXY_SERVERS);
	if (o->timeout_server_ms != 0 &&
	    (o->timeout_server_ms < 100 || o->timeout_server_ms > 3600000))
		return aidc_errf(e, AIDC_E_INVAL,
				 "haproxy timeout_server_ms %d is out of range 100..3600000",
				 o->timeout_server_ms);
	return ctld_haproxy_bin_check(o->bin, e);
}

static void write_config(const struct ctld_haproxy_opts *o, int places, const char *sock,
			 struct aidc_buf *b)
{
	int ts = o->timeout_server_ms ? o->timeout_server_ms : CTLD_HAPROXY_TIMEOUT_SERVER_MS;
	bool v6 = strchr(o->bind_addr, ':') != NULL;
	aidc_buf_printf(b,
			"# Written by the AIDC controller at each start (src/ctld/haproxy.c);\n"
			"# edits are lost. Servers come and go through the stats socket.\n"
			"global\n"
			"\tstats socket \"%s\" mode 600 level admin\n"
			"\tstats timeout 10s\n"
			"\tnoreuseport\n"
			"\n"
			"defaults\n"
			"\tmode http\n"
			"\tbalance roundrobin\n"
			"\toption redispatch 1\n"
			"\tretries 3\n"
			"\tretry-on conn-failure empty-response junk-response\n"
			"\ttimeout connect 1s\n"
			"\ttimeout queue 5s\n"
			"\ttimeout http-request 10s\n"
			"\ttimeout http-keep-alive 10s\n"
			"\ttimeout client %dms\n"
			"\ttimeout server %dms\n",
			sock, ts, ts);
	for (int i = 0; i < o->slots; i++)
		aidc_buf_printf(b,
				"\nlisten slot%d\n\tbind %s%s%s:%d\n"
				"\tserver-template p 1-%d 127.0.0.1:1 disabled\n",
				i, v6 ? "[" : "", o->bind_addr, v6 ? "]" : "", o->port_base + i,
				places);
}

static int write_file(const char *path, const char *text, struct aidc_err *e)
{
	char tmp[AIDC_MAX_PATH_BYTES + 8];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return aidc_errf(e, AIDC_E_IO, "%s: %s", tmp, strerror(errno));
	size_t n = strlen(text), off = 0;
	while (off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = errno;
			close(fd);
			unlink(tmp);
			return aidc_errf(e, AIDC_E_IO, "%s: %s", tmp, strerror(err));
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		int err = errno;
		unlink(tmp);
		return aidc_errf(e, AIDC_E_IO, "%s: %s", path, strerror(err));
	}
	return 0;
}

/* Reads a small file (up to max bytes) into b; a longer or missing one gives -1. */
static int read_file(const char *path, struct aidc_buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	char chunk[16384];
	ssize_t r;
	int rc = 0;
	while ((r = read(fd, chunk, sizeof chunk)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || aidc_buf_append(b, chunk, (size_t)r)) {
			rc = -1;
			break;
		}
	}
	close(fd);
	return rc;
}

/* The pid the haproxy on sock_path reports (`show info`), or -1. */
static pid_t show_info_pid(const char *sock_path)
{
	struct aidc_buf b;
	aidc_buf_init(&b, REPLY_MAX);
	struct aidc_err ignored = {0};
	pid_t pid = -1;
	if (cli_at(sock_path, "show info", &b, &ignored) == 0) {
		const char *p = strstr(aidc_buf_str(&b), "\nPid: ");
		int64_t v;
		char num[24];
		if (p && sscanf(p + 6, "%23[0-9]", num) == 1 &&
		    !aidc_parse_i64(num, 1, INT32_MAX, &v))
			pid = (pid_t)v;
	}
	aidc_buf_release(&b);
	return pid;
}

/* Whether pid has exited: reaped if it is a child of this process (an
 * adopted haproxy may be one too, in tests), else no longer there. */
static bool pid_gone(pid_t pid)
{
	int st;
	pid_t r = waitpid(pid, &st, WNOHANG);
	if (r == pid)
		return true;
	if (r == 0)
		return false;
	return kill(pid, 0) != 0 && errno == ESRCH;
}

/* SIGTERM, a bounded wait, then SIGKILL (and a last bounded wait). */
static void stop_pid(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	int64_t deadline = aidc_mono_ms() + CTLD_HAPROXY_STOP_TIMEOUT_MS;
	while (!pid_gone(pid)) {
		if (ms_left(deadline) == 0) {
			aidc_log(AIDC_LOG_WARN, "haproxy pid %d ignored SIGTERM for %d ms: SIGKILL",
				 (int)pid, CTLD_HAPROXY_STOP_TIMEOUT_MS);
			kill(pid, SIGKILL);
			deadline = aidc_mono_ms() + CTLD_HAPROXY_STOP_TIMEOUT_MS;
			while (!pid_gone(pid) && ms_left(deadline) > 0)
				nap_ms(10);
			return;
		}
		nap_ms(10);
	}
}

/*
 * A haproxy already answering on the socket (started by an earlier
 * controller with this dir): adopted (1) when it runs the config this start
 * would write, else stopped (0). A socket nobody answers is removed.
 */
static int adopt_or_clear(struct ctld_haproxy *h, const char *cfg)
{
	pid_t pid = show_info_pid(h->sock_path);
	if (pid <= 0) {
		unlink(h->sock_path);
		return 0;
	}
	struct aidc_buf old;
	aidc_buf_init(&old, CONFIG_MAX);
	bool same = read_file(h->cfg_path, &old) == 0 && strcmp(aidc_buf_str(&old), cfg) == 0;
	aidc_buf_release(&old);
	if (same) {
		h->pid = pid;
		h->adopted = true;
		aidc_log(AIDC_LOG_INFO, "haproxy: adopted pid %d (same config in %s)", (int)pid,
			 h->dir);
		return 1;
	}
	aidc_log(AIDC_LOG_INFO, "haproxy: stopping pid %d (its config in %s differs)", (int)pid,
		 h->dir);
	stop_pid(pid);
	unlink(h->sock_path);
	return 0;
}

/* Each slot's port can be bound now (haproxy would fail on it later with a
 * less direct message). Binds without SO_REUSEPORT, as haproxy will. */
static int ports_free(const struct ctld_haproxy_opts *o, struct aidc_err *e)
{
	bool v6 = strchr(o->bind_addr, ':') != NULL;
	for (int i = 0; i < o->slots; i++) {
		struct sockaddr_storage ss = {0};
		socklen_t len;
		int port = o->port_base + i;
		if (v6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			a->sin6_family = AF_INET6;
			a->sin6_port = htons((uint16_t)port);
			inet_pton(AF_INET6, o->bind_addr, &a->sin6_addr);
			len = sizeof *a;
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			a->sin_family = AF_INET;
			a->sin_port = htons((uint16_t)port);
			inet_pton(AF_INET, o->bind_addr, &a->sin_addr);
			len = sizeof *a;
		}
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
		if (fd < 0)
			return aidc_errf(e, AIDC_E_IO, "haproxy: socket: %s", strerror(errno));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		int rc = bind(fd, (struct sockaddr *)&ss, len), err = errno;
		close(fd);
		if (rc != 0)
			return aidc_errf(e, err == EADDRINUSE ? AIDC_E_BUSY : AIDC_E_IO,
					 "haproxy slot %d: cannot bind %s port %d: %s", i,
					 o->bind_addr, port, strerror(err));
	}
	return 0;
}

/* posix_spawn: no copy of a large controller's page tables, and the child
 * gets its own session (no terminal signals), default signal handling and
 * no inherited descriptors beyond 0..2. */
static int spawn(struct ctld_haproxy *h, const char *bin, struct aidc_err *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, h->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigset_t none, def;
	sigemptyset(&none);
	sigemptyset(&def);
	int sigs[] = {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGCHLD};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&def, sigs[i]);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
					  POSIX_SPAWN_SETSIGDEF);
	char *argv[] = {"haproxy", "-db", "-f", h->cfg_path, NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, bin, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0)
		return aidc_errf(e, AIDC_E_IO, "haproxy: cannot run %s: %s", bin, strerror(rc));
	h->pid = pid;
	return 0;
}

/* The first "[ALERT]" line haproxy wrote to its log after offset, into out. */
static void first_alert(const char *log_path, off_t offset, char *out, size_t n)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 1024u * 1024u);
	out[0] = '\0';
	if (read_file(log_path, &b) == 0 && (size_t)offset <= b.len) {
		const char *s = b.data ? b.data + offset : "";
		const char *a = strstr(s, "[ALERT]");
		if (!a)
			a = s;
		size_t len = strcspn(a, "\n");
		snprintf(out, n, "%.*s", (int)(len > 300 ? 300 : len), a);
	}
	aidc_buf_release(&b);
}

/* Waits until the child answers on its socket as itself, or exits. */
static int wait_ready(struct ctld_haproxy *h, off_t log_off, struct aidc_err *e)
{
	int64_t deadline = aidc_mono_ms() + CTLD_HAPROXY_START_TIMEOUT_MS;
	for (;;) {
		int st = 0;
		if (waitpid(h->pid, &st, WNOHANG) == h->pid) {
			char alert[320];
			first_alert(h->log_path, log_off, alert, sizeof alert);
			h->pid = 0;
			return aidc_errf(e, AIDC_E_IO,
					 "haproxy exited during start (%s %d): %s (log %s)",
					 WIFEXITED(st) ? "status" : "signal",
					 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
					 alert[0] ? alert : "no message", h->log_path);
		}
		if (show_info_pid(h->sock_path) == h->pid)
			return 0;
		if (ms_left(deadline) == 0)
			return aidc_errf(
			    e, AIDC_E_TIMEOUT,
			    "haproxy pid %d did not answer on %s within %d ms (log %s)",
			    (int)h->pid, h->sock_path, CTLD_HAPROXY_START_TIMEOUT_MS, h->log_path);
		nap_ms(20);
	}
}

/* dir/haproxy.pid: the pid of the haproxy routing for this dir, so that what
 * stops a center (`aidc down`) finds one a controller left running. Best
 * effort: a failure is logged, routing does not depend on it. */
static void pid_file_write(const struct ctld_haproxy *h)
{
	char num[24];
	struct aidc_err e = {0};
	snprintf(num, sizeof num, "%d\n", (int)h->pid);
	if (write_file(h->pid_path, num, &e) != 0)
		aidc_log(AIDC_LOG_WARN, "haproxy: %s", e.msg);
}

static void haproxy_free(struct ctld_haproxy *h)
{
	if (!h)
		return;
	aidc_free(h->dir);
	aidc_free(h->cfg_path);
	aidc_free(h->sock_path);
	aidc_free(h->log_path);
	aidc_free(h->map_path);
	aidc_free(h->pid_path);
	aidc_free(h->names);
	aidc_free(h);
}

static char *join(const char *dir, const char *file)
{
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_PATH_BYTES + 64);
	aidc_buf_printf(&b, "%s/%s", dir, file);
	return aidc_buf_detach(&b);
}

static int make_dir(const char *dir, struct aidc_err *e)
{
	struct stat st;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return aidc_errf(e, AIDC_E_IO, "haproxy dir %s: %s", dir, strerror(errno));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return aidc_errf(e, AIDC_E_IO, "haproxy dir %s is not a directory", dir);
	if (st.st_uid != geteuid())
		return aidc_errf(e, AIDC_E_PERM, "haproxy dir %s belongs to another user", dir);
	if ((st.st_mode & 077) && chmod(dir, 0700) != 0)
		return aidc_errf(e, AIDC_E_IO, "haproxy dir %s: chmod: %s", dir, strerror(errno));
	return 0;
}

int ctld_haproxy_start(const struct ctld_haproxy_opts *o, struct ctld_haproxy **out,
		       struct aidc_err *e)
{
	*out = NULL;
	int rc = check_opts(o, e);
	if (rc || (rc = make_dir(o->dir, e)) != 0)
		return rc;
	struct ctld_haproxy *h = aidc_calloc(1, sizeof *h);
	h->slots = o->slots;
	h->port_base = o->port_base;
	h->dir = aidc_strdup(o->dir);
	h->cfg_path = join(o->dir, "haproxy.cfg");
	h->sock_path = join(o->dir, "admin.sock");
	h->log_path = join(o->dir, "haproxy.log");
	h->map_path = join(o->dir, "servers.map");
	h->pid_path = join(o->dir, "haproxy.pid");
	h->places = o->servers_per_slot ? o->servers_per_slot : CTLD_HAPROXY_SERVERS_PER_SLOT;
	h->names = aidc_calloc((size_t)h->slots * (size_t)h->places, PLACE_NAME_BYTES);
	struct aidc_buf cfg;
	aidc_buf_init(&cfg, CONFIG_MAX);
	write_config(o, h->places, h->sock_path, &cfg);
	if (adopt_or_clear(h, aidc_buf_str(&cfg)) == 1) {
		map_load(h);
		goto done;
	}
	if ((rc = ports_free(o, e)) != 0 || (rc = write_file(h->cfg_path, aidc_buf_str(&cfg), e)))
		goto fail;
	struct stat st;
	off_t log_off = stat(h->log_path, &st) == 0 ? st.st_size : 0;
	if ((rc = spawn(h, o->bin, e)) != 0)
		goto fail;
	if ((rc = wait_ready(h, log_off, e)) != 0 || (rc = map_save(h, e)) != 0)
		goto fail;
	aidc_log(AIDC_LOG_INFO, "haproxy: pid %d, %d slots on %s:%d..%d", (int)h->pid, h->slots,
		 o->bind_addr, o->port_base, o->port_base + o->slots - 1);
done:
	aidc_buf_release(&cfg);
	pid_file_write(h);
	*out = h;
	return 0;
fail:
	aidc_buf_release(&cfg);
	if (h->pid > 0)
		stop_pid(h->pid);
	haproxy_free(h);
	return rc;
}

void ctld_haproxy_stop(struct ctld_haproxy *h)
{
	if (!h)
		return;
	stop_pid(h->pid);
	unlink(h->pid_path);
	haproxy_free(h);
}

void ctld_haproxy_detach(struct ctld_haproxy *h)
{
	if (!h)
		return;
	if (ctld_haproxy_alive(h))
		aidc_log(AIDC_LOG_INFO,
			 "haproxy: pid %d keeps routing after this controller (router_keep_on_stop); "
			 "the next controller with %s adopts it",
			 (int)h->pid, h->dir);
	haproxy_free(h);
}

bool ctld_haproxy_alive(struct ctld_haproxy *h)
{
	if (!h || h->pid <= 0)
		return false;
	if (pid_gone(h->pid)) {
		h->pid = 0; /* reaped: the number may be reused, never signal it again */
		return false;
	}
	return true;
}

bool ctld_haproxy_adopted(const struct ctld_haproxy *h)
{
	return h && h->adopted;
}

int ctld_haproxy_pid(const struct ctld_haproxy *h)
{
	return h ? (int)h->pid : 0;
}
