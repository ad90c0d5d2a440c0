/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP server of the API on libmicrohttpd: a TCP listener (loopback by
 * default) and a Unix-socket listener, one thread per connection (handlers
 * may block on long-polls), bodies capped at AIDC_MAX_HTTP_BODY_BYTES,
 * authentication (SO_PEERCRED on the Unix socket, the cluster secret header
 * on TCP), role checks against the route table, and JSON error replies.
 */
#include <arpa/inet.h>
#include <grp.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api.h"
#include "util/util.h"

/* Header that carries the cluster secret from agents. */
#define API_SECRET_HEADER "X-AIDC-Secret"
/* Seconds an idle connection is kept (long-polls are bounded well below). */
#define API_IDLE_TIMEOUT_S (AIDC_MAX_LONGPOLL_S + 30)

struct listener {
	struct api_server *srv;
	bool is_unix;
	struct MHD_Daemon *d;
};

struct api_server {
	struct api_server_config cfg;
	const struct api_route *routes;
	size_t nroutes;
	void *ctx;
	struct listener tcp, unx;
	int unix_fd;
};

/* Per-request state kept by libmicrohttpd between calls of the access handler. */
struct req_state {
	struct aidc_buf body;
	bool too_big;
};

static bool secret_ok(const char *want, const char *got)
{
	if (!want || !*want || !got)
		return false;
	size_t a = strlen(want), b = strlen(got);
	/* Constant time in the secret's length: no early exit on the first mismatch. */
	unsigned char diff = (unsigned char)(a != b);
	for (size_t i = 0; i < a; i++)
		diff |= (unsigned char)(want[i] ^ (i < b ? got[i] : 0));
	return diff == 0;
}

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
	gid_t groups[256];
	int ng = (int)AIDC_ARRAY_LEN(groups);
	if (getgrouplist(pw.pw_name, gid, groups, &ng) < 0)
		return false;
	for (int i = 0; i < ng; i++)
		if ((int64_t)groups[i] == admin_gid)
			return true;
	return false;
}

static void identify(struct listener *l, struct MHD_Connection *conn, struct api_identity *who)
{
	memset(who, 0, sizeof *who);
	who->role = API_ROLE_PUBLIC;
	if (l->is_unix) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct ucred cr;
		socklen_t len = sizeof cr;
		if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
			return;
		who->authenticated_user = true;
		who->uid = cr.uid;
		who->gid = cr.gid;
		who->admin = cr.uid == 0 || in_group(cr.uid, cr.gid, l->srv->cfg.admin_gid);
		who->role = who->admin ? API_ROLE_ADMIN : API_ROLE_USER;
		struct passwd pw, *res = NULL;
		char buf[4096];
		if (getpwuid_r(cr.uid, &pw, buf, sizeof buf, &res) == 0 && res &&
		    strlen(pw.pw_name) < sizeof who->user)
			snprintf(who->user, sizeof who->user, "%s", pw.pw_name);
		else
			snprintf(who->user, sizeof who->user, "%u", (unsigned)cr.uid);
		return;
	}
	const char *s = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, API_SECRET_HEADER);
	if (secret_ok(l->srv->cfg.secret, s))
		who->role = API_ROLE_AGENT;
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
	identify(l, conn, &req.who);
	if (!role_allows(req.route->role, &req.who)) {
		bool anon = req.who.role == API_ROLE_PUBLIC;
		rc = anon ? AIDC_E_AUTH : AIDC_E_PERM;
		aidc_errf(&e, rc, "%s %s needs the %s role%s", method, req.route->pattern,
			  api_role_name(req.route->role),
			  anon ? (l->is_unix ? "" : " (users connect over the Unix socket)") : "");
		return send_error(conn, rc, e.msg);
	}
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
		rs = aidc_calloc(1, sizeof *rs);
		aidc_buf_init(&rs->body, AIDC_MAX_HTTP_BODY_BYTES);
		*con_cls = rs;
		return MHD_YES;
	}
	if (*upload_size) {
		/* Keep reading (and discarding) past the cap so the 413 reply is clean. */
		if (!rs->too_big && aidc_buf_append(&rs->body, upload, *upload_size) != 0) {
			rs->too_big = true;
			aidc_buf_release(&rs->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return dispatch(l, conn, url, method, rs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req_state *rs = *con_cls;
	if (!rs)
		return;
	aidc_buf_release(&rs->body);
	aidc_free(rs);
	*con_cls = NULL;
}

static const unsigned mhd_flags =
	MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;

static int start_tcp(struct api_server *srv, struct aidc_err *e)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(srv->cfg.tcp_port);
	if (inet_pton(AF_INET, srv->cfg.tcp_addr, &sin.sin_addr) != 1)
		return aidc_errf(e, AIDC_E_INVAL, "api: bad listen address '%s' (IPv4 literal)",
				 srv->cfg.tcp_addr);
	srv->tcp.srv = srv;
	srv->tcp.d = MHD_start_daemon(
		mhd_flags, srv->cfg.tcp_port, NULL, NULL, on_request, &srv->tcp,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)AIDC_MAX_HTTP_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)API_IDLE_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_END);
	if (!srv->tcp.d)
		return aidc_errf(e, AIDC_E_IO, "api: cannot listen on %s:%u (in use?)",
				 srv->cfg.tcp_addr, (unsigned)srv->cfg.tcp_port);
	return 0;
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
		mhd_flags, 0, NULL, NULL, on_request, &srv->unx, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)AIDC_MAX_HTTP_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_IDLE_TIMEOUT_S,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
	if (!srv->unx.d)
		return aidc_errf(e, AIDC_E_IO, "api: cannot serve on %s", srv->cfg.unix_path);
	return 0;
}

int api_server_start(const struct api_server_config *cfg, const struct api_route *routes,
		     size_t nroutes, void *ctx, struct api_server **out, struct aidc_err *e)
{
	struct api_server *srv = aidc_calloc(1, sizeof *srv);
	srv->cfg = *cfg;
	srv->routes = routes;
	srv->nroutes = nroutes;
	srv->ctx = ctx;
	srv->unix_fd = -1;
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
	aidc_free(srv);
}
