/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srun --pty's terminal, listener and relay (cli_pty.h; docs/slurm.md
 * "srun --pty"). Every buffer is bounded (CLI_PTY_BUF_BYTES a direction):
 * a side is read only while the buffer it fills has room, so a slow
 * terminal or network stalls its sender instead of growing memory.
 */
#include "cli/cli_pty.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"

/* Frames up (srun -> node): type, payload length (2 bytes, big-endian),
 * payload. Data; window size (rows, cols, x and y pixels, 2 bytes each);
 * end of srun's input. */
#define FRAME_DATA    'D'
#define FRAME_WINSIZE 'W'
#define FRAME_EOF     'E'
#define FRAME_HDR     3
/* A connection's hello must arrive this soon after its accept. */
#define HELLO_WAIT_MS 2000

static struct termios saved_tty;
static int raw_fd = -1;
static volatile sig_atomic_t winch_seen;

int cli_pty_open(const struct winsize *ws, int *master, int *slave)
{
	*master = *slave = -1;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	char name[128];
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, sizeof name) != 0)
		goto fail;
	int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		goto fail;
	if (ws && ws->ws_row && ws->ws_col)
		ioctl(m, TIOCSWINSZ, ws);
	fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
	*master = m;
	*slave = s;
	return 0;
fail:;
	int err = errno;
	if (m >= 0)
		close(m);
	errno = err;
	return -1;
}

void cli_pty_child(int slave)
{
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) != 0 || dup2(slave, 0) < 0 ||
	    dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
		_exit(127);
	if (slave > 2)
		close(slave);
}

void cli_pty_restore(void)
{
	if (raw_fd >= 0)
		tcsetattr(raw_fd, TCSADRAIN, &saved_tty);
	raw_fd = -1;
}

static void on_fatal(int sig)
{
	cli_pty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int cli_pty_raw(int fd)
{
	static bool registered;
	if (!isatty(fd) || tcgetattr(fd, &saved_tty) != 0)
		return -1;
	struct termios t = saved_tty;
	cfmakeraw(&t);
	if (!registered) {
		atexit(cli_pty_restore);
		const int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
		struct sigaction sa = {.sa_handler = on_fatal};
		sigemptyset(&sa.sa_mask);
		for (size_t k = 0; k < sizeof fatal / sizeof fatal[0]; k++)
			sigaction(fatal[k], &sa, NULL);
		registered = true;
	}
	raw_fd = fd;
	return tcsetattr(fd, TCSADRAIN, &t);
}

static void on_winch(int sig)
{
	(void)sig;
	winch_seen = 1;
}

void cli_pty_watch_winch(void)
{
	/* SA_RESTART: srun's other calls go on; poll() still wakes (never restarted). */
	struct sigaction sa = {.sa_handler = on_winch, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
}

/* Appends a frame to the up buffer; false (nothing appended) without room. */
static bool up_frame(struct cli_pty_relay *p, char type, const void *data, size_t len)
{
	if (p->up_len + FRAME_HDR + len > sizeof p->up)
		return false;
	char *w = p->up + p->up_len;
	w[0] = type;
	w[1] = (char)(len >> 8);
	w[2] = (char)(len & 0xff);
	if (len)
		memcpy(w + FRAME_HDR, data, len);
	p->up_len += FRAME_HDR + len;
	return true;
}

/* srun's window size, passed on: to the master here, or as a frame. */
static void send_winsize(struct cli_pty_relay *p)
{
	struct winsize ws;
	if (p->tty_fd < 0 || ioctl(p->tty_fd, TIOCGWINSZ, &ws) != 0) {
		winch_seen = 0;
		return;
	}
	if (p->role == CLI_PTY_LOCAL) {
		ioctl(p->task_fd, TIOCSWINSZ, &ws);
		winch_seen = 0;
		return;
	}
	unsigned char b[8] = {(unsigned char)(ws.ws_row >> 8),	  (unsigned char)ws.ws_row,
			      (unsigned char)(ws.ws_col >> 8),	  (unsigned char)ws.ws_col,
			      (unsigned char)(ws.ws_xpixel >> 8), (unsigned char)ws.ws_xpixel,
			      (unsigned char)(ws.ws_ypixel >> 8), (unsigned char)ws.ws_ypixel};
	if (up_frame(p, FRAME_WINSIZE, b, sizeof b))
		winch_seen = 0; /* else: sent once the buffer has room */
}

void cli_pty_relay_init(struct cli_pty_relay *p, enum cli_pty_role role, int user_in, int user_out,
			int task_fd, int tty_fd)
{
	memset(p, 0, sizeof *p); /* (48 KiB: no temporary) */
	p->role = role;
	p->user_in = user_in, p->user_out = user_out, p->task_fd = task_fd, p->tty_fd = tty_fd;
	p->up_last_nl = true;
	/* Only the relay's own descriptors become non-blocking: srun's stdin and
	 * stdout are shared with its shell (a read after POLLIN never blocks; a
	 * write may wait for a slow reader, as any program's output does). */
	const int fds[] = {task_fd, role == CLI_PTY_RUNNER ? user_in : -1};
	for (size_t k = 0; k < 2; k++)
		if (fds[k] >= 0)
			fcntl(fds[k], F_SETFL, fcntl(fds[k], F_GETFL) | O_NONBLOCK);
	if (role == CLI_PTY_SRUN && tty_fd >= 0)
		send_winsize(p);
}

/* The end of srun's input, at the terminal: its EOF character (twice after
 * a partial line: the first ends the line), as typing it would be. */
static void put_veof(struct cli_pty_relay *p, char *buf, size_t *len, size_t cap)
{
	struct termios t;
	char eof = tcgetattr(p->task_fd, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
	for (int k = p->up_last_nl ? 1 : 2; k > 0 && *len < cap; k--)
		buf[(*len)++] = eof;
}

/* The runner: frames from rx into the master's buffer, as room allows.
 * A malformed frame breaks the relay. */
static void decode_frames(struct cli_pty_relay *p)
{
	size_t at = 0;
	while (p->rx_len - at >= FRAME_HDR) {
		const unsigned char *h = (const unsigned char *)p->rx + at;
		size_t len = (size_t)h[1] << 8 | h[2];
		if (len > CLI_PTY_FRAME_MAX || (h[0] == FRAME_WINSIZE && len != 8) ||
		    (h[0] != FRAME_DATA && h[0] != FRAME_WINSIZE && h[0] != FRAME_EOF)) {
			p->broken = true;
			return;
		}
		if (p->rx_len - at < FRAME_HDR + len ||
		    (h[0] == FRAME_DATA && p->up_len + len > sizeof p->up) ||
		    (h[0] == FRAME_EOF && p->up_len + 2 > sizeof p->up))
			break;
		const unsigned char *d = h + FRAME_HDR;
		if (h[0] == FRAME_DATA) {
			memcpy(p->up + p->up_len, d, len);
			p->up_len += len;
			p->up_last_nl =
			    len ? d[len - 1] == '\n' || d[len - 1] == '\r' : p->up_last_nl;
		} else if (h[0] == FRAME_WINSIZE) {
			struct winsize ws = {.ws_row = (unsigned short)(d[0] << 8 | d[1]),
					     .ws_col = (unsigned short)(d[2] << 8 | d[3]),
					     .ws_xpixel = (unsigned short)(d[4] << 8 | d[5]),
					     .ws_ypixel = (unsigned short)(d[6] << 8 | d[7])};
			ioctl(p->task_fd, TIOCSWINSZ, &ws);
		} else {
			put_veof(p, p->up, &p->up_len, sizeof p->up);
		}
		at += FRAME_HDR + len;
	}
	memmove(p->rx, p->rx + at, p->rx_len - at);
	p->rx_len -= at;
}

/* What user_in has: framed (srun under salloc), raw (srun here), or frames
 * to decode (runner). Its end: an EOF frame or the terminal's EOF; for the
 * runner, srun is gone. */
static void read_user(struct cli_pty_relay *p)
{
	char b[CLI_PTY_FRAME_MAX];
	size_t cap = p->role == CLI_PTY_RUNNER ? sizeof p->rx - p->rx_len : sizeof b;
	ssize_t r = read(p->user_in, p->role == CLI_PTY_RUNNER ? p->rx + p->rx_len : b, cap);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		p->in_eof = true;
		if (p->role == CLI_PTY_RUNNER)
			p->broken = true;
		else if (p->role == CLI_PTY_SRUN)
			up_frame(p, FRAME_EOF, NULL, 0);
		else
			put_veof(p, p->up, &p->up_len, sizeof p->up);
		return;
	}
	if (p->role == CLI_PTY_RUNNER) {
		p->rx_len += (size_t)r;
		decode_frames(p);
		return;
	}
	if (p->role == CLI_PTY_SRUN) {
		up_frame(p, FRAME_DATA, b, (size_t)r);
	} else {
		memcpy(p->up + p->up_len, b, (size_t)r);
		p->up_len += (size_t)r;
	}
	p->up_last_nl = b[r - 1] == '\n' || b[r - 1] == '\r';
}

/* Writes the head of buf to fd (send without SIGPIPE on a socket); what
 * went is removed. -1 when fd is gone. */
static int flush_to(int fd, bool sock, char *buf, size_t *len)
{
	ssize_t w = sock ? send(fd, buf, *len, MSG_NOSIGNAL) : write(fd, buf, *len);
	if (w < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	memmove(buf, buf + w, *len - (size_t)w);
	*len -= (size_t)w;
	return 0;
}

/* The task side: its bytes down; EOF or EIO (every slave closed) ends it. */
static void read_task(struct cli_pty_relay *p)
{
	ssize_t r = read(p->task_fd, p->down + p->down_len, sizeof p->down - p->down_len);
	if (r > 0)
		p->down_len += (size_t)r;
	else if (r == 0 || (errno != EAGAIN && errno != EINTR))
		p->task_eof = true;
}

/* Fills pf with what the relay waits for; returns how many. */
static nfds_t pump_fds(const struct cli_pty_relay *p, struct pollfd pf[4], int what[4])
{
	nfds_t n = 0;
	/* Reserve room for the largest frame and an EOF frame (or VEOFs). */
	bool room = p->role == CLI_PTY_RUNNER
			? p->rx_len < sizeof p->rx
			: p->up_len + 2 * FRAME_HDR + CLI_PTY_FRAME_MAX <= sizeof p->up;
	if (!p->in_eof && room && p->user_in >= 0)
		pf[n] = (struct pollfd){.fd = p->user_in, .events = POLLIN}, what[n++] = 0;
	if (p->up_len && p->task_fd >= 0 && !p->task_eof)
		pf[n] = (struct pollfd){.fd = p->task_fd, .events = POLLOUT}, what[n++] = 1;
	if (!p->task_eof && p->down_len < sizeof p->down && p->task_fd >= 0)
		pf[n] = (struct pollfd){.fd = p->task_fd, .events = POLLIN}, what[n++] = 2;
	if (p->down_len && p->user_out >= 0)
		pf[n] = (struct pollfd){.fd = p->user_out, .events = POLLOUT}, what[n++] = 3;
	return n;
}

void cli_pty_pump(struct cli_pty_relay *p, int wait_ms)
{
	if (winch_seen && p->role != CLI_PTY_RUNNER)
		send_winsize(p);
	struct pollfd pf[4];
	int what[4];
	nfds_t n = p->broken ? 0 : pump_fds(p, pf, what);
	if (poll(pf, n, wait_ms) <= 0)
		return;
	bool task_sock = p->role == CLI_PTY_SRUN, user_sock = p->role == CLI_PTY_RUNNER;
	for (nfds_t k = 0; k < n && !p->broken; k++) {
		if (!pf[k].revents)
			continue;
		if (what[k] == 0)
			read_user(p);
		else if (what[k] == 1 && flush_to(p->task_fd, task_sock, p->up, &p->up_len) != 0)
			p->up_len = 0; /* the task side is gone: its end comes as EOF/EIO */
		else if (what[k] == 2)
			read_task(p);
		else if (what[k] == 3 && flush_to(p->user_out, user_sock, p->down, &p->down_len)) {
			p->broken |= user_sock; /* srun is gone */
			p->down_len = 0;	/* (srun's stdout is gone: dropped) */
		}
	}
	if (p->role == CLI_PTY_RUNNER && p->rx_len)
		decode_frames(p);
}

bool cli_pty_done(const struct cli_pty_relay *p)
{
	return p->broken || (p->task_eof && !p->down_len);
}

int cli_pty_token(char out[CLI_PTY_TOKEN_HEX + 1])
{
	unsigned char b[CLI_PTY_TOKEN_HEX / 2];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return -1;
	for (size_t i = 0; i < sizeof b; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

int cli_pty_listen(const char *addr, int *port)
{
	struct in6_addr a6;
	bool v6 = inet_pton(AF_INET6, addr, &a6) == 1;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_storage ss = {0};
	socklen_t sl = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	ss.ss_family = v6 ? AF_INET6 : AF_INET; /* any address, a port the kernel picks */
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		fprintf(stderr, "srun: error: --pty: cannot listen for the step's terminal: %s\n",
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			 : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* Reads the hello of a new connection (HELLO_WAIT_MS at most); whether it
 * carries token (compared in constant time). */
static bool hello_ok(int fd, const char *token)
{
	char want[CLI_PTY_HELLO_BYTES + 1], got[CLI_PTY_HELLO_BYTES];
	snprintf(want, sizeof want, "AIDCPTY1 %s\n", token);
	size_t have = 0;
	for (int64_t end = aidc_mono_ms() + HELLO_WAIT_MS; have < sizeof got;) {
		int64_t left = end - aidc_mono_ms();
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return false;
		ssize_t r = read(fd, got + have, sizeof got - have);
		if (r <= 0)
			return false;
		have += (size_t)r;
	}
	unsigned char diff = 0;
	for (size_t i = 0; i < sizeof got; i++)
		diff |= (unsigned char)(got[i] ^ want[i]);
	return diff == 0;
}

int cli_pty_accept(int lfd, const char *token, int wait_ms)
{
	for (int64_t end = aidc_mono_ms() + wait_ms;;) {
		int64_t left = end - aidc_mono_ms();
		struct pollfd pf = {.fd = lfd, .events = POLLIN};
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return -1;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (hello_ok(fd, token))
			return fd;
		char host[64] = "?";
		getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, NULL, 0, NI_NUMERICHOST);
		fprintf(stderr,
			"srun: warning: --pty: dropped a connection from %s: it did not "
			"bring the step's token\n",
			host);
		close(fd);
	}
}

/* A non-blocking connect to one address, finished within timeout_ms. */
static int connect_one(const struct addrinfo *a, int timeout_ms)
{
	int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		int err = errno, so = 0;
		socklen_t sl = sizeof so;
		if (err != EINPROGRESS)
			so = err;
		else if (poll(&pf, 1, timeout_ms) <= 0)
			so = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0)
			so = errno;
		if (so) {
			close(fd);
			errno = so;
			return -1;
		}
	}
	return fd;
}

int cli_pty_connect(const char *addr, int port, const char *token, int timeout_ms, char *err,
		    size_t n)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	char ps[16], hello[CLI_PTY_HELLO_BYTES + 1];
	snprintf(ps, sizeof ps, "%d", port);
	int g = getaddrinfo(addr, ps, &hints, &ai);
	if (g != 0) {
		snprintf(err, n, "cannot resolve srun's address %s: %s", addr, gai_strerror(g));
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next)
		fd = connect_one(a, timeout_ms);
	int why = errno;
	freeaddrinfo(ai);
	snprintf(hello, sizeof hello, "AIDCPTY1 %s\n", token);
	struct pollfd pf = {.fd = fd, .events = POLLOUT};
	if (fd >= 0 &&
	    (poll(&pf, 1, timeout_ms) <= 0 ||
	     send(fd, hello, CLI_PTY_HELLO_BYTES, MSG_NOSIGNAL) != CLI_PTY_HELLO_BYTES)) {
		why = errno ? errno : EIO;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		snprintf(err, n, "cannot connect to srun at %s port %d: %s", addr, port,
			 strerror(why));
	return fd;
}
