/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP server of the API on libmicrohttpd: a TCP listener (loopback by
 * default) and a Unix-socket listener, one thread per connection (handlers
 * may block on long-polls), bodies capped at AIDC_MAX_HTTP_BODY_BYTES,
 * authentication (SO_PEERCRED on the Unix socket; on TCP the cluster secret
 * header or a bearer token checked by the controller), role checks against
 * the route table, and JSON error replies. The TCP listener speaks HTTPS
 * (GnuTLS inside libmicrohttpd) when given a certificate and key, and a
 * non-loopback listener without TLS is refused unless explicitly allowed.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api_int.h"
#include "util/util.h"

/* Header that carries the cluster secret from agents. */
#define API_SECRET_HEADER "X-AIDC-Secret"
/* Scheme of per-user tokens in the Authorization header. */
#define API_BEARER "Bearer "
/* Scheme of MUNGE credentials in the Authorization header. */
#define API_MUNGE "MUNGE "
/* Seconds an idle connection is kept (long-polls are bounded well below). */
#define API_IDLE_TIMEOUT_S (AIDC_MAX_LONGPOLL_S + 30)

struct listener {
	struct api_server *srv;
	bool is_unix;
	struct MHD_Daemon *d;
	/* Connections closed before any request (failed TLS handshakes): logged
	 * with the peer address at a bounded rate. Touched only by the
	 * listener's polling thread (MHD calls NOTIFY_CONNECTION there). */
	struct aidc_log_limiter closed_log;
};

/* Per-connection state (MHD's socket_context): the peer, for log lines. */
struct conn_state {
	char peer[64]; /* "10.0.0.3:51234", "" on the Unix socket */
	uint64_t requests;
	struct api_guard_conn *guard; /* NULL when refused (over the peer's cap) */
};

struct api_server {
	struct api_server_config cfg;
	const struct api_route *routes;
	size_t nroutes;
	void *ctx;
	struct listener tcp, unx;
	int unix_fd;
	char *tls_cert, *tls_key; /* PEM text handed to libmicrohttpd; owned */
	struct api_guard *guard;  /* per-peer caps and slow-request timeouts; owned */
};

/* Per-request state kept by libmicrohttpd between calls of the access handler. */
struct req_state {
	struct aidc_buf body;
	bool too_big;
	bool refused; /* answered from the headers alone (header_problem) */
};

static struct api_guard_conn *conn_guard(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci && ci->socket_context ? ((struct conn_state *)ci->socket_context)->guard : NULL;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	(void)kind;
	(void)value;
	if (key && strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		(*(unsigned *)cls)++;
	return MHD_YES;
}

/* What is wrong with a request's headers before its body is read, or NULL. */
static const char *header_problem(struct MHD_Connection *conn)
{
	unsigned ncl = 0;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &ncl);
	if (ncl > 1)
		return "more than one Content-Length header";
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end = NULL;
	if (cl) {
		errno = 0;
		unsigned long long v = strtoull(cl, &end, 10);
		if (errno || end == cl || *end)
			return "malformed Content-Length header";
		/* Without Expect the client is sending the body already: it is read
		 * and discarded (bounded by http_body_timeout_s) so that the 413
		 * reaches a client that reads only after sending. */
		const char *ex = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_EXPECT);
		if (v > AIDC_MAX_HTTP_BODY_BYTES && ex && strcasecmp(ex, "100-continue") == 0)
			return "request body is larger than the limit (Content-Length, refused "
			       "before the body is sent)";
	}
	return NULL;
}

static bool secret_ok(const char *want, const char *got)
{
	/* Constant time in the secret's length: no early exit on the first mismatch. */
	return want && *want && api_const_equal(want, got);
}

/* Whether uid (primary group gid) is in admin_gid now: its passwd entry and
 * getgrouplist, grown until every group fits. */
static bool in_group(uint32_t uid, uint32_t gid, int64_t admin_gid)
{
	if (admin_gid < 0)
		return false;
	if ((int64_t)gid == admin_gid)
		return true;
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) != 0 || !res)
		return false;
	gid_t stack[256], *groups = stack;
	int ng = (int)AIDC_ARRAY_LEN(stack);
	bool found = false;
	for (int tries = 0; tries < 4; tries++) {
		int cap = ng;
		if (getgrouplist(pw.pw_name, gid, groups, &ng) >= 0) {
			for (int i = 0; i < ng && !found; i++)
				found = (int64_t)groups[i] == admin_gid;
			break;
		}
		/* Too small: ng now holds the number needed (it may grow meanwhile). */
		if (ng <= cap || ng > AIDC_MAX_USER_GROUPS)
			break;
		if (groups != stack)
			aidc_free(groups);
		groups = aidc_malloc((size_t)ng * sizeof *groups);
	}
	if (groups != stack)
		aidc_free(groups);
	return found;
}

/* who->user: the login name of who->uid on this host, or the number. */
static void user_name(struct api_identity *who)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(who->uid, &pw, buf, sizeof buf, &res) == 0 && res &&
	    strlen(pw.pw_name) < sizeof who->user)
		snprintf(who->user, sizeof who->user, "%s", pw.pw_name);
	else
		snprintf(who->user, sizeof who->user, "%u", (unsigned)who->uid);
}

static void set_user_role(struct api_server *srv, struct api_identity *who)
{
	who->authenticated_user = true;
	/* The user the server runs as operates it already (it owns the state
	 * directory and the secret): a personal `aidc up` center's owner is its
	 * admin (docs/tenancy.md). */
	who->admin = who->uid == 0 || who->uid == (uint32_t)geteuid() ||
		     in_group(who->uid, who->gid, srv->cfg.admin_gid);
	who->role = who->admin ? API_ROLE_ADMIN : API_ROLE_USER;
}

/* "Authorization: MUNGE <credential>": munged vouches for uid and gid. */
static int identify_munge(struct listener *l, const char *cred, struct api_identity *who,
			  struct aidc_err *e)
{
	struct api_server *srv = l->srv;
	if (!srv->cfg.munge)
		return aidc_errf(e, AIDC_E_AUTH,
				 "this controller does not accept MUNGE credentials (config munge)");
	if (strlen(cred) > AIDC_MAX_MUNGE_CRED_BYTES)
		return aidc_errf(e, AIDC_E_AUTH, "MUNGE credential longer than %u bytes",
				 AIDC_MAX_MUNGE_CRED_BYTES);
	int rc = api_munge_decode(srv->cfg.munge_socket, cred, &who->uid, &who->gid, e);
	if (rc)
		return rc;
	who->via = API_VIA_MUNGE;
	user_name(who);
	set_user_role(srv, who);
	return 0;
}

/* The Authorization header on TCP: Bearer (token) or MUNGE; any other scheme is refused. */
static int identify_authz(struct listener *l, const char *authz, struct api_identity *who,
			   struct aidc_err *e)
{
	struct api_server *srv = l->srv;
	if (strncmp(authz, API_MUNGE, strlen(API_MUNGE)) == 0)
		return identify_munge(l, authz + strlen(API_MUNGE), who, e);
	if (strncmp(authz, API_BEARER, strlen(API_BEARER)) != 0)
		return aidc_errf(e, AIDC_E_AUTH,
				 "unsupported Authorization scheme (use Bearer or MUNGE)");
	const char *tok = authz + strlen(API_BEARER);
	if (!srv->cfg.token_check)
		return aidc_errf(e, AIDC_E_AUTH, "this server does not accept tokens");
	if (strlen(tok) > AIDC_MAX_TOKEN_BYTES)
		return aidc_errf(e, AIDC_E_AUTH, "invalid token");
	int rc = srv->cfg.token_check(srv->ctx, tok, who, e);
	if (rc) {
		memset(who, 0, sizeof *who);
		who->role = API_ROLE_PUBLIC;
		return rc;
	}
	who->via = API_VIA_TOKEN;
	set_user_role(srv, who);
	return 0;
}

/* The dashboard's session cookie, for a GET under /v1/ without an
 * Authorization header; NULL otherwise (see API_SESSION_COOKIE). */
static const char *session_cookie(struct MHD_Connection *conn, const char *method,
				  const char *url)
{
	if (strcmp(method, "GET") != 0 || strncmp(url, "/v1/", 4) != 0)
		return NULL;
	return MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, API_SESSION_COOKIE);
}

static int identify(struct listener *l, struct MHD_Connection *conn, const char *method,
		    const char *url, struct api_identity *who, struct aidc_err *e)
{
	memset(who, 0, sizeof *who);
	who->role = API_ROLE_PUBLIC;
	if (l->is_unix) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct ucred cr;
		socklen_t len = sizeof cr;
		if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
			return 0;
		who->uid = cr.uid;
		who->gid = cr.gid;
		who->via = API_VIA_SOCKET;
		set_user_role(l->srv, who);
		user_name(who);
		return 0;
	}
	const char *s = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, API_SECRET_HEADER);
	if (s) {
		/* A presented secret is right or a 401, never read as anonymous. */
		if (!secret_ok(l->srv->cfg.secret, s))
			return aidc_errf(e, AIDC_E_AUTH, "wrong cluster secret (%s)",
					 API_SECRET_HEADER);
		who->role = API_ROLE_AGENT;
		who->via = API_VIA_SECRET;
		return 0;
	}
	const char *authz =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (authz)
		return identify_authz(l, authz, who, e);
	const char *cookie = session_cookie(conn, method, url);
	if (!cookie)
		return 0;
	/* Only a bearer token ever goes into the cookie (POST /ui/login). */
	char authz_buf[sizeof API_BEARER + AIDC_MAX_TOKEN_BYTES + 1];
	if (strlen(cookie) > AIDC_MAX_TOKEN_BYTES)
		return aidc_errf(e, AIDC_E_AUTH, "session cookie: invalid token");
	snprintf(authz_buf, sizeof authz_buf, "%s%s", API_BEARER, cookie);
	struct aidc_err why = {0};
	int rc = identify_authz(l, authz_buf, who, &why);
	if (rc)
		aidc_errf(e, rc, "session cookie: %s (sign in again)", aidc_err_text(&why, rc));
	return rc;
}

static bool role_allows(enum api_role need, const struct api_identity *who)
{
	switch (need) {
	case API_ROLE_PUBLIC:
		return true;
	case API_ROLE_USER:
		return who->role == API_ROLE_USER || who->role == API_ROLE_ADMIN;
	case API_ROLE_ADMIN:
		return who->role == API_ROLE_ADMIN;
	case API_ROLE_AGENT:
		return who->role == API_ROLE_AGENT;
	}
	return false;
}

const char *api_query(const struct api_request *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct unknown_key {
	const char *const *known;
	const char *bad;
};

static enum MHD_Result find_unknown(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	(void)kind, (void)value;
	struct unknown_key *u = cls;
	for (const char *const *k = u->known; *k; k++)
		if (!strcmp(*k, key))
			return MHD_YES;
	u->bad = key;
	return MHD_NO;
}

const char *api_query_unknown(const struct api_request *r, const char *const *known)
{
	struct unknown_key u = {.known = known, .bad = NULL};
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, find_unknown, &u);
	return u.bad;
}

static enum MHD_Result send_buf(struct MHD_Connection *conn, int status, const char *ctype,
				const struct aidc_buf *b, const struct api_response *extra)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		b->len, (void *)aidc_buf_str(b), MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	for (size_t i = 0; extra && i < extra->nhdr && i < API_MAX_RESP_HEADERS; i++)
		MHD_add_response_header(r, extra->hdr_name[i], extra->hdr_value[i]);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int code, const char *msg)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 64 * 1024);
	api_error_json(&b, code, msg);
	enum MHD_Result ret = send_buf(conn, aidc_err_http_status(code), "application/json", &b,
						NULL);
	aidc_buf_release(&b);
	return ret;
}

/* What a job's credential reaches (api_identity.job_scope): its own job's
 * steps (srun, the step holders) and logs (srun's output), and a node's
 * address (srun --pty). */
static bool job_scope_allows(const struct api_request *r)
{
	char pre[48];
	int n = snprintf(pre, sizeof pre, "/v1/jobs/%" PRId64 "/", r->who.job_scope);
	if (!strncmp(r->path, pre, (size_t)n))
		return !strcmp(r->path + n, "steps") || !strcmp(r->path + n, "logs");
	return !strcmp(r->method, "GET") && !strncmp(r->path, "/v1/nodes/", 10);
}

static enum MHD_Result dispatch(struct listener *l, struct MHD_Connection *conn,
				const char *url, const char *method, struct req_state *rs)
{
	struct api_server *srv = l->srv;
	struct aidc_err e = {0};
	struct api_request req;
	memset(&req, 0, sizeof req);
	req.method = method;
	req.path = url;
	req.conn = conn;
	req.body = aidc_buf_str(&rs->body);
	req.body_len = rs->body.len;
	if (rs->too_big)
		return send_error(conn, AIDC_E_LIMIT, "request body is larger than the limit");
	int rc = api_route_match(srv->routes, srv->nroutes, method, url, &req, &e);
	if (rc)
		return send_error(conn, rc, aidc_err_text(&e, rc));
	/* A presented but bad credential is a 401 on every route, public ones too. */
	if ((rc = identify(l, conn, method, url, &req.who, &e)) != 0)
		return send_error(conn, rc, aidc_err_text(&e, rc));
	if (!role_allows(req.route->role, &req.who)) {
		bool anon = req.who.role == API_ROLE_PUBLIC;
		rc = anon ? AIDC_E_AUTH : AIDC_E_PERM;
		aidc_errf(&e, rc, "%s %s needs the %s role%s", method, req.route->pattern,
			  api_role_name(req.route->role),
			  anon ? (l->is_unix ? ""
					     : " (users connect over the Unix socket or send a "
					       "token: aidc token create)")
			       : "");
		return send_error(conn, rc, e.msg);
	}
	if (req.who.job_scope && !job_scope_allows(&req))
		return send_error(conn, AIDC_E_PERM,
				  "a job's credential reaches only its own job's steps and logs "
				  "(docs/security.md, \"Job credentials\")");
	struct api_response resp = {0};
	aidc_buf_init(&resp.body, 64u * 1024u * 1024u);
	rc = req.route->handler(srv->ctx, &req, &resp, &e);
	enum MHD_Result ret;
	if (rc)
		ret = send_error(conn, rc, aidc_err_text(&e, rc));
	else
		ret = send_buf(conn, resp.status ? resp.status : 200,
			       resp.content_type ? resp.content_type : "application/json",
			       &resp.body, &resp);
	aidc_buf_release(&resp.body);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct listener *l = cls;
	struct req_state *rs = *con_cls;
	if (!rs) {
		/* Headers are complete: the body (if any) has its own deadline. */
		api_guard_phase(l->srv->guard, conn_guard(conn), API_GUARD_BODY);
		rs = aidc_calloc(1, sizeof *rs);
		aidc_buf_init(&rs->body, AIDC_MAX_HTTP_BODY_BYTES);
		*con_cls = rs;
		/* Refused before reading a body (or sending 100 Continue): two
		 * Content-Length headers (request smuggling), a declared body over
		 * the limit. libmicrohttpd then closes the connection. */
		const char *bad = header_problem(conn);
		if (bad) {
			rs->refused = true;
			return send_error(conn, strstr(bad, "limit") ? AIDC_E_LIMIT : AIDC_E_PARSE,
					  bad);
		}
		return MHD_YES;
	}
	if (rs->refused)
		return MHD_NO;
	if (*upload_size) {
		/* Keep reading (and discarding) past the cap so the 413 reply is clean. */
		if (!rs->too_big && aidc_buf_append(&rs->body, upload, *upload_size) != 0) {
			rs->too_big = true;
			aidc_buf_release(&rs->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	api_guard_phase(l->srv->guard, conn_guard(conn), API_GUARD_BUSY);
	return dispatch(l, conn, url, method, rs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && ci->socket_context) {
		struct conn_state *cs = ci->socket_context;
		cs->requests++;
		struct listener *l = cls;
		if (l)
			api_guard_phase(l->srv->guard, cs->guard, API_GUARD_HEADERS);
	}
	struct req_state *rs = *con_cls;
	if (!rs)
		return;
	aidc_buf_release(&rs->body);
	aidc_free(rs);
	*con_cls = NULL;
}

/* The peer of a TCP connection as "ADDR:PORT" (IPv4 or IPv6). */
static void peer_name(struct MHD_Connection *conn, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	char a[INET6_ADDRSTRLEN] = "";
	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
		snprintf(out, n, "%s:%u", a, (unsigned)ntohs(in->sin_port));
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
		snprintf(out, n, "[%s]:%u", a, (unsigned)ntohs(in6->sin6_port));
	}
}

/* Connection start and end: a TLS connection that closes before any
 * request completed is a failed handshake (a client that does not trust
 * this controller's certificate, or speaks plain http to it) or a client
 * that sent nothing; either way the operator needs the peer's address. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct listener *l = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn_state *cs = aidc_calloc(1, sizeof *cs);
		if (!l->is_unix)
			peer_name(conn, cs->peer, sizeof cs->peer);
		*socket_context = cs;
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci && ci->connect_fd >= 0) {
			cs->guard = api_guard_open(l->srv->guard, ci->connect_fd, l->is_unix);
			if (!cs->guard) { /* over the peer's cap: its thread sees EOF at once */
				shutdown(ci->connect_fd, SHUT_RDWR);
				cs->requests = 1; /* not a failed handshake */
			}
		}
		return;
	}
	struct conn_state *cs = *socket_context;
	if (!cs)
		return;
	api_guard_close(l->srv->guard, cs->guard);
	cs->guard = NULL;
	if (!l->is_unix && cs->requests == 0 && l->srv->tls_cert) {
		char host[64];
		snprintf(host, sizeof host, "%s", cs->peer);
		char *colon = strrchr(host, ':'); /* the port changes per connection */
		if (colon)
			*colon = '\0';
		aidc_log_limited(&l->closed_log, AIDC_LOG_WARN,
				 "api: TLS connection from %s closed before any request (a failed "
				 "handshake: does the client trust this controller's CA and use "
				 "a name in its certificate? or a client that sent nothing)",
				 host[0] ? host : "an unknown peer");
	}
	aidc_free(cs);
	*socket_context = NULL;
}

/* libmicrohttpd's own messages (TLS errors among them): timestamped like
 * every log line, and bounded in rate (a client retrying a bad handshake
 * makes one per attempt). Called from any of the server's threads. */
static pthread_mutex_t mhd_log_mu = PTHREAD_MUTEX_INITIALIZER;
static struct aidc_log_limiter mhd_log = {.interval_ms = 30000};

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[400];
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\r\n")] = '\0';
	pthread_mutex_lock(&mhd_log_mu);
	aidc_log_limited(&mhd_log, AIDC_LOG_WARN, "api: http server: %s", msg);
	pthread_mutex_unlock(&mhd_log_mu);
}

/* Stack of each connection's thread. The default (RLIMIT_STACK, 8 MiB)
 * defeats glibc's cache of freed thread stacks (40 MiB: 5 of them), so each
 * short-lived connection (every CLI call on the Unix socket) mapped and
 * unmapped a stack, with a TLB shootdown on every CPU. Handlers need far
 * less: the deepest is the JSON parser (jansson stops at 2,048 levels);
 * sanitizers' frames are larger. */
#if defined(__SANITIZE_ADDRESS__)
#define API_THREAD_STACK_BYTES (8u << 20)
#else
#define API_THREAD_STACK_BYTES (2u << 20)
#endif

/* MHD_USE_POLL: with select() (MHD's default) no connection past descriptor
 * 1,023 (FD_SETSIZE) is served, so a controller with a thousand agents' long
 * polls refused every new client (bench/scale found it). */
static const unsigned mhd_flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION |
				  MHD_USE_ERROR_LOG;

/* Reads a PEM file whole (NUL-terminated, caller frees); only a regular
 * file, and a key must be private to its owner. */
static int read_pem(const char *path, bool is_key, char **out, struct aidc_err *e)
{
	/* O_NONBLOCK: a FIFO (or device) must not block the start; fstat refuses it. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return aidc_errf(e, AIDC_E_IO, "api: cannot open %s: %s", path, strerror(errno));
	struct stat sb;
	int rc = 0;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		rc = aidc_errf(e, AIDC_E_IO, "api: %s is not a regular file", path);
	else if (is_key && (sb.st_mode & 077) != 0)
		rc = aidc_errf(e, AIDC_E_PERM,
			       "api: TLS key %s must not be readable by group or others (it has "
			       "mode %03o; chmod 600 it)",
			       path, (unsigned)(sb.st_mode & 0777));
	else if (sb.st_size <= 0 || (uint64_t)sb.st_size > AIDC_MAX_TLS_FILE_BYTES)
		rc = aidc_errf(e, AIDC_E_LIMIT, "api: %s: size %lld is not in 1..%u bytes", path,
			       (long long)sb.st_size, AIDC_MAX_TLS_FILE_BYTES);
	if (rc) {
		close(fd);
		return rc;
	}
	char *buf = aidc_malloc((size_t)sb.st_size + 1);
	ssize_t n = read(fd, buf, (size_t)sb.st_size);
	close(fd);
	if (n != (ssize_t)sb.st_size) {
		aidc_free(buf);
		return aidc_errf(e, AIDC_E_IO, "api: short read of %s", path);
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* TLS material and the plaintext rule, before anything listens. */
static int tcp_security(struct api_server *srv, struct aidc_err *e)
{
	const struct api_server_config *c = &srv->cfg;
	if (!c->tls_cert_file != !c->tls_key_file)
		return aidc_errf(e, AIDC_E_INVAL, "api: TLS needs both a certificate and a key");
	if (!c->tls_cert_file) {
		if (api_host_is_loopback(c->tcp_addr) || c->insecure_plaintext)
			return 0;
		return aidc_errf(e, AIDC_E_PERM,
				 "api: refusing to listen on %s without TLS: the cluster secret "
				 "and tokens would cross the network in clear text (give "
				 "tls_cert/tls_key, or insecure_plaintext_listen for an isolated "
				 "test network)",
				 c->tcp_addr);
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return aidc_errf(e, AIDC_E_UNSUPPORTED, "api: this libmicrohttpd has no TLS");
	int rc = read_pem(c->tls_cert_file, false, &srv->tls_cert, e);
	if (rc == 0)
		rc = read_pem(c->tls_key_file, true, &srv->tls_key, e);
	return rc;
}

static int start_tcp(struct api_server *srv, struct aidc_err *e)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(srv->cfg.tcp_port);
	if (inet_pton(AF_INET, srv->cfg.tcp_addr, &sin.sin_addr) != 1)
		return aidc_errf(e, AIDC_E_INVAL, "api: bad listen address '%s' (IPv4 literal)",
				 srv->cfg.tcp_addr);
	int rc = tcp_security(srv, e);
	if (rc)
		return rc;
	srv->tcp.srv = srv;
	srv->tcp.closed_log.interval_ms = 30000;
	bool tls = srv->tls_cert != NULL;
	/* MHD_OPTION_ARRAY keeps one call for both cases: the TLS options are
	 * simply absent (MHD_OPTION_END) without TLS. */
	struct MHD_OptionItem tls_opts[] = {
		{tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->tls_cert},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key},
		{MHD_OPTION_END, 0, NULL},
	};
	srv->tcp.d = MHD_start_daemon(
		mhd_flags | (tls ? MHD_USE_TLS : 0), srv->cfg.tcp_port, NULL, NULL, on_request,
		&srv->tcp, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)AIDC_MAX_HTTP_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_IDLE_TIMEOUT_S,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)API_THREAD_STACK_BYTES,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv->tcp, MHD_OPTION_NOTIFY_CONNECTION,
		on_connection, &srv->tcp,
		MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
	if (!srv->tcp.d)
		return aidc_errf(e, AIDC_E_IO, "api: cannot listen on %s:%u (in use%s?)",
				 srv->cfg.tcp_addr, (unsigned)srv->cfg.tcp_port,
				 tls ? ", or a bad TLS certificate/key" : "");
	return 0;
}

bool api_server_tls(const struct api_server *srv)
{
	return srv->tls_cert != NULL;
}

static int start_unix(struct api_server *srv, struct aidc_err *e)
{
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(srv->cfg.unix_path) >= sizeof sun.sun_path)
		return aidc_errf(e, AIDC_E_LIMIT, "api: socket path longer than %zu bytes: %s",
				 sizeof sun.sun_path - 1, srv->cfg.unix_path);
	memcpy(sun.sun_path, srv->cfg.unix_path, strlen(srv->cfg.unix_path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return aidc_errf(e, AIDC_E_IO, "api: socket: %s", strerror(errno));
	/* A stale socket from a killed controller would make bind fail; the caller
	 * holds the run directory's lock (pid file), so removing it is safe. */
	unlink(srv->cfg.unix_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    chmod(srv->cfg.unix_path, 0666) != 0 || listen(fd, 128) != 0) {
		int err = errno;
		close(fd);
		return aidc_errf(e, AIDC_E_IO, "api: cannot listen on %s: %s", srv->cfg.unix_path,
				 strerror(err));
	}
	srv->unix_fd = fd;
	srv->unx.srv = srv;
	srv->unx.is_unix = true;
	srv->unx.d = MHD_start_daemon(
		mhd_flags, 0, NULL, NULL, on_request, &srv->unx, MHD_OPTION_EXTERNAL_LOGGER,
		on_mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)AIDC_MAX_HTTP_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_IDLE_TIMEOUT_S,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)API_THREAD_STACK_BYTES,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv->unx, MHD_OPTION_NOTIFY_CONNECTION,
		on_connection, &srv->unx,
		MHD_OPTION_END);
	if (!srv->unx.d)
		return aidc_errf(e, AIDC_E_IO, "api: cannot serve on %s", srv->cfg.unix_path);
	return 0;
}

/* Linux 6.16+ gives each process a private futex hash sized by
 * min(threads, CPUs) at its first use: 16 buckets on a small machine. One
 * thread per connection puts thousands of threads (every agent's parked work
 * poll) in those 16 lists, and every wake (each reply's condition variable,
 * each contended mutex) walks one of them: at 4,096 nodes futex_wake was a
 * third of the controller's CPU. Slot count 0 selects the kernel's global
 * hash (256 buckets per CPU). Older kernels refuse the option: nothing to do. */
#ifndef PR_FUTEX_HASH
#define PR_FUTEX_HASH 78
#define PR_FUTEX_HASH_SET_SLOTS 1
#endif
static void futex_hash_global(void)
{
	(void)prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, 0UL, 0UL, 0UL);
}

int api_server_start(const struct api_server_config *cfg, const struct api_route *routes,
		     size_t nroutes, void *ctx, struct api_server **out, struct aidc_err *e)
{
	futex_hash_global();
	struct api_server *srv = aidc_calloc(1, sizeof *srv);
	srv->cfg = *cfg;
	srv->routes = routes;
	srv->nroutes = nroutes;
	srv->ctx = ctx;
	srv->unix_fd = -1;
	srv->guard = api_guard_new(cfg->max_conns_per_peer ? cfg->max_conns_per_peer : 64,
				   cfg->header_timeout_s ? cfg->header_timeout_s : 10,
				   cfg->body_timeout_s ? cfg->body_timeout_s : 60);
	int rc = 0;
	if (cfg->tcp_addr && (rc = start_tcp(srv, e)) != 0)
		goto fail;
	if (cfg->unix_path && (rc = start_unix(srv, e)) != 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	api_server_stop(srv);
	return rc;
}

uint16_t api_server_tcp_port(const struct api_server *srv)
{
	if (!srv->tcp.d)
		return 0;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->tcp.d, MHD_DAEMON_INFO_BIND_PORT);
	return di ? di->port : 0;
}

void api_server_stop(struct api_server *srv)
{
	if (!srv)
		return;
	if (srv->tcp.d)
		MHD_stop_daemon(srv->tcp.d);
	if (srv->unx.d)
		MHD_stop_daemon(srv->unx.d);
	if (srv->unix_fd >= 0) {
		/* MHD_stop_daemon closed the listening socket it was given. */
		if (!srv->unx.d)
			close(srv->unix_fd);
		unlink(srv->cfg.unix_path);
	}
	api_guard_free(srv->guard);
	aidc_free(srv->tls_cert);
	if (srv->tls_key) {
		explicit_bzero(srv->tls_key, strlen(srv->tls_key));
		aidc_free(srv->tls_key);
	}
	aidc_free(srv);
}
