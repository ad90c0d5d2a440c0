/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srun --pty (docs/slurm.md "srun --pty"): task 0 of a step on a pseudo
 * terminal, relayed to srun's stdin and stdout. Three relays share one pump:
 * srun with task 0 on its own node (stdin/stdout <-> the pty's master);
 * srun under salloc (stdin/stdout <-> a TCP connection from the node); and
 * the runner on the node (that connection <-> the master). srun listens,
 * the runner connects and sends a one-time token (as Slurm's slurmstepd
 * connects back to srun). srun -> node is framed (data, window size, end of
 * input); node -> srun is the terminal's bytes as they come.
 */
#ifndef AIDC_CLI_PTY_H
#define AIDC_CLI_PTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <termios.h>

/* A token: 32 hex digits (128 random bits). The hello the runner sends
 * first: "AIDCPTY1 " TOKEN "\n". */
#define CLI_PTY_TOKEN_HEX   32
#define CLI_PTY_HELLO_BYTES (9 + CLI_PTY_TOKEN_HEX + 1)
/* Each direction's buffer (bounded: a side is read only while its buffer
 * has room), and the largest frame's payload. */
#define CLI_PTY_BUF_BYTES 16384
#define CLI_PTY_FRAME_MAX 4096

enum cli_pty_role {
	CLI_PTY_LOCAL,	/* srun, task 0 here: user <-> master */
	CLI_PTY_SRUN,	/* srun under salloc: user <-> socket (framed up) */
	CLI_PTY_RUNNER, /* the node's runner: socket (framed) <-> master */
};

struct cli_pty_relay {
	enum cli_pty_role role;
	int user_in, user_out; /* srun: 0 and 1; runner: the socket twice */
	int task_fd;	       /* the master, or (srun under salloc) the socket */
	int tty_fd;	       /* srun's terminal (window size), -1 none */
	char up[CLI_PTY_BUF_BYTES], down[CLI_PTY_BUF_BYTES], rx[CLI_PTY_BUF_BYTES];
	size_t up_len, down_len, rx_len; /* rx: runner, frames not yet decoded */
	bool in_eof;			 /* user_in ended (its end passed on) */
	bool task_eof;			 /* the task side ended: nothing more comes down */
	bool broken;			 /* the other end is gone (runner: srun) */
	bool up_last_nl;		 /* the last byte up was a newline (end of input) */
};

/* Opens a pseudo terminal: *master (close-on-exec, non-blocking) and
 * *slave (opened here, so the master reads EIO only once every slave
 * descriptor, the task's and its children's, is closed). ws: its size, or
 * NULL. 0, or -1 with errno. */
int cli_pty_open(const struct winsize *ws, int *master, int *slave);

/* In the child before exec: a new session with slave as its controlling
 * terminal and as fds 0, 1 and 2. _exit(127) on failure. */
void cli_pty_child(int slave);

/* srun's terminal (fd) in raw mode until cli_pty_restore, which exit() and
 * fatal signals (SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL) also run. 0, or
 * -1 when fd is not a terminal. Not SIGKILL: `reset` fixes the terminal. */
int cli_pty_raw(int fd);
void cli_pty_restore(void);

/* Starts SIGWINCH being noticed (cli_pty_pump passes the new size on). */
void cli_pty_watch_winch(void);

/* The relay of role between user_in/user_out and task_fd (borrowed: the
 * caller closes them); task_fd (and the runner's socket) made non-blocking. */
void cli_pty_relay_init(struct cli_pty_relay *p, enum cli_pty_role role, int user_in, int user_out,
			int task_fd, int tty_fd);

/* Moves what can move, waiting at most wait_ms for something to. */
void cli_pty_pump(struct cli_pty_relay *p, int wait_ms);

/* Whether the relay is over: the task side ended and all it sent is out
 * (or the other end is gone). */
bool cli_pty_done(const struct cli_pty_relay *p);

/* A new token: CLI_PTY_TOKEN_HEX hex digits and a NUL from getrandom. 0 or -1. */
int cli_pty_token(char out[CLI_PTY_TOKEN_HEX + 1]);

/* A TCP listener on every address of addr's family (like Slurm's srun);
 * *port: the one the kernel gave. The fd, or -1 after a line on stderr. */
int cli_pty_listen(const char *addr, int *port);

/* Accepts the connection that brings token within wait_ms: connections with
 * another hello (or none within 2 s) are dropped, said on stderr. The
 * connected fd, or -1 when none came in time. */
int cli_pty_accept(int lfd, const char *token, int wait_ms);

/* The runner's side: connects to addr:port within timeout_ms and sends the
 * hello. The fd, or -1 with why (a sentence) in err. */
int cli_pty_connect(const char *addr, int port, const char *token, int timeout_ms, char *err,
		    size_t n);

#endif
