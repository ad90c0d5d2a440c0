#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# srun --pty (issue 13 item 7; docs/slurm.md "srun --pty"), one mock node:
# task 0 of the step runs on a pseudo terminal relayed to srun. Under salloc
# (srun on this host, the task on the node: the node's runner connects back
# to srun with a one-time token) and inside a batch job (task 0 forked by
# srun itself): piped input reaches the remote shell, which sees a terminal
# (/dev/pts/N), and the shell's exit status is srun's. With a terminal on
# srun's side (python's pty module): the remote `stty size` is the local
# window's, a new window size follows (SIGWINCH), ^C interrupts the remote
# foreground program (not srun) and the shell goes on. A node that cannot
# connect back ends the step with a clear error and nothing left running;
# a connection with a wrong token is dropped; an srun killed with SIGKILL
# takes its remote shell with it (hangup) and its step does not stay
# running; scancel JOB.STEP ends a --pty step; with -n 2 only task 0's
# output comes; --pty with -l is refused; srun --pty bash outside an
# allocation makes one and gives its node's shell a terminal.
set -u
. "$(dirname "$0")/agent_lib.sh"
[ -x "$AIDC" ] || skip "no aidc binary at $AIDC"
[ -x "$PY" ] || skip "no $PY (its pty module gives srun a terminal)"
command -v bash >/dev/null || skip "no bash for the remote shell"
conf=$(mktemp /tmp/aidc-pty-conf-XXXXXX)
echo "step_lease_s = 4" >"$conf" # a killed srun's step is cancelled 4 s later
CPUS=2 center_up 1 --controller-config "$conf"
rm -f "$conf"
export TERM=xterm

# (1) Piped input under salloc: the remote shell has a terminal; its exit
# status is srun's.
out=$(cd "$DIR" && printf 'tty; echo hi-$((1+2)); exit 3\n' |
	"$AIDC" salloc -N1 srun --pty bash --norc --noprofile 2>"$DIR/err1"); rc=$?
check_eq "salloc srun --pty bash: the shell's exit status" "$rc" 3
[[ "$out" == *"/dev/pts/"* ]] && ok "the remote shell's tty is a pseudo terminal" ||
	fail "no /dev/pts/ in: $out ($(cat "$DIR/err1"))"
grep -q "hi-3" <<<"$out" && ok "its output comes back" || fail "no hi-3 in: $out"

# (1b) The same inside a batch job: task 0 is srun's own child.
cat >"$DIR/batch.sh" <<'SCRIPT'
#!/bin/bash
printf 'tty; echo hi-$((2+2)); exit 4\n' | srun --pty bash --norc --noprofile
echo "srun=$?"
SCRIPT
id=$(cd "$DIR" && "$AIDC" sbatch --parsable -o "$DIR/batch.out" "$DIR/batch.sh") ||
	fail "sbatch: $id"
check_eq "the batch job ends" "$(wait_state "$id" completed 60)" completed
grep -q "/dev/pts/" "$DIR/batch.out" && grep -q "hi-4" "$DIR/batch.out" &&
	ok "in a batch job: a terminal, and the output" || fail "batch.out: $(cat "$DIR/batch.out")"
grep -q "^srun=4" "$DIR/batch.out" && ok "in a batch job: the shell's status" ||
	fail "batch.out: $(cat "$DIR/batch.out")"

# (2) A terminal on srun's side: window size, a resize, ^C.
cat >"$DIR/term.py" <<'PY'
import os, pty, select, signal, struct, sys, termios, fcntl, time
aidc, d = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 37, 123, 0, 0))
    os.chdir(d)
    os.execv(aidc, [aidc, "salloc", "-N1", "srun", "--pty", "bash", "--norc", "--noprofile"])
buf = b""
def want(s, t=60):
    global buf
    end = time.time() + t
    while s.encode() not in buf:
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not r:
            print("TIMEOUT waiting for %r; got %r" % (s, buf[-2000:])); sys.exit(1)
        try: b = os.read(fd, 4096)
        except OSError: print("EOF waiting for %r; got %r" % (s, buf[-2000:])); sys.exit(1)
        if not b: print("EOF waiting for %r" % s); sys.exit(1)
        buf += b
    i = buf.index(s.encode()); buf = buf[i + len(s):]
def say(s): os.write(fd, s.encode())
say("echo READY-$((6*7))\n"); want("READY-42")
say("stty size | sed 's/^/SIZE=/'\n"); want("SIZE=37 123"); print("size 37 123")
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 41, 99, 0, 0))
os.kill(pid, signal.SIGWINCH)
time.sleep(0.5)
say("stty size | sed 's/^/SIZE=/'\n"); want("SIZE=41 99"); print("resized 41 99")
def drain(t):
    global buf
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if r: buf += os.read(fd, 4096)
say("seq 1000 | LESS= less\n"); want("\x1b[?1049h"); want("\n40"); drain(1)
print("less showed line 41" if b"\n41" in buf else "full-screen less")
say("q"); say("echo AFTER-LESS-$((3*3))\n"); want("AFTER-LESS-9")
say("sh -c 'echo STARTED-$((1+1)); exec sleep 100'\n"); want("STARTED-2")
say("\x03"); say("echo \"AFTER=$?\"\n"); want("AFTER=130"); print("interrupted")
say("echo ALIVE-$((2+3))\n"); want("ALIVE-5"); print("alive")
say("exit 7\n")
while True:
    try:
        if not os.read(fd, 4096): break
    except OSError: break
_, st = os.waitpid(pid, 0)
print("status", os.waitstatus_to_exitcode(st))
PY
tout=$(timeout 120 "$PY" "$DIR/term.py" "$AIDC" "$DIR" 2>&1)
grep -q "^size 37 123" <<<"$tout" && ok "stty size on the node: the local window's" || fail "term: $tout"
grep -q "^resized 41 99" <<<"$tout" && ok "a resize follows (SIGWINCH)" || fail "term: $tout"
grep -q "^full-screen less" <<<"$tout" && ok "a full-screen program (less, 40 lines + prompt)" ||
	fail "term: $tout"
grep -q "^interrupted" <<<"$tout" && ok "^C interrupts the remote sleep" || fail "term: $tout"
grep -q "^alive" <<<"$tout" && ok "the shell goes on" || fail "term: $tout"
grep -q "^status 7" <<<"$tout" && ok "salloc's status: the shell's" || fail "term: $tout"

# (3) A node that cannot connect back (an address of srun it cannot
# resolve): a clear error, the step ends failed, its command never runs.
out=$(cd "$DIR" && AIDC_SRUN_ADDR=no-such-host.invalid "$AIDC" salloc -N1 sh -c \
	'srun --pty sleep 321; echo "srun=$?"; echo "id=$SLURM_JOB_ID"' 2>"$DIR/err3")
check_eq "srun fails" "$(grep '^srun=' <<<"$out")" "srun=1"
grep -q "cannot connect to srun at no-such-host.invalid port [0-9]*: cannot resolve\|cannot resolve srun's address no-such-host.invalid" "$DIR/err3" &&
	ok "the error names the address: $(grep -m1 'srun: error' "$DIR/err3")" || fail "err3: $(cat "$DIR/err3")"
id3=$(sed -n 's/^id=//p' <<<"$out")
st=$("$AIDC" sacct -n -P -j "$id3.0" -o State 2>&1)
[[ "$st" != RUNNING* && -n "$st" ]] && ok "the step ended: $st" || fail "step $id3.0: $st"
pgrep -f "sleep 321" >/dev/null && fail "the step's command ran" || ok "nothing left running"

# bg_salloc NAME: the script on stdin as $DIR/NAME.sh, run by salloc -N1 in
# the background; its pid in spid.
bg_salloc() {
	cat >"$DIR/$1.sh" && chmod +x "$DIR/$1.sh"
	(cd "$DIR" && exec "$AIDC" salloc -N1 "./$1.sh" 2>/dev/null) &
	spid=$!
}

# A connection with a wrong token is dropped; srun waits on for its node's.
bg_salloc tok <<'SCRIPT'
#!/bin/sh
echo "$SLURM_JOB_ID" >tok.id
while [ ! -e tok.go ]; do sleep 0.1; done
printf 'echo TOKEN-$((2+3)); exit 5\n' | srun -v --pty bash --norc --noprofile >tok.out 2>tok.err
echo "srun=$?" >>tok.out
SCRIPT
wait_for 60 test -s "$DIR/tok.id" || fail "the allocation did not start"
id4=$(cat "$DIR/tok.id")
holder=
for p in $(pgrep -f -- --aidc-step-holder); do
	env=$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null) # this center's job $id4
	grep -qx "SLURM_JOB_ID=$id4" <<<"$env" && grep -qxF "AIDC_SOCKET=$AIDC_SOCKET" <<<"$env" &&
		holder=$p
done
[ -n "$holder" ] && ok "the allocation's step holder: $holder" || fail "no holder of job $id4"
kill -STOP "$holder" # it cannot start the step's runner while stopped
touch "$DIR/tok.go"
wait_for 60 grep -qs "connects to .* port" "$DIR/tok.err" || fail "no port: $(cat "$DIR/tok.err")"
port=$(sed -n 's/.* port \([0-9]*\)$/\1/p' "$DIR/tok.err")
"$PY" - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"AIDCPTY1 " + b"0" * 32 + b"\n")
s.settimeout(30)
print("closed" if s.recv(100) == b"" else "data")
PY
wait_for 30 grep -q "dropped a connection from 127.0.0.1" "$DIR/tok.err" &&
	ok "a wrong token is dropped: $(grep -m1 dropped "$DIR/tok.err")" || fail "tok.err: $(cat "$DIR/tok.err")"
kill -CONT "$holder"
wait "$spid"
grep -q "TOKEN-5" "$DIR/tok.out" && ok "then the node's connection is taken" ||
	fail "tok.out: $(cat "$DIR/tok.out") $(cat "$DIR/tok.err")"
check_eq "its status" "$(grep '^srun=' "$DIR/tok.out")" "srun=5"

# (4) srun killed with SIGKILL: the remote shell hangs up, the step ends.
bg_salloc kill <<'SCRIPT'
#!/bin/sh
echo "$SLURM_JOB_ID" >kill.id
srun --pty sh -c 'echo $$ >kill.task; exec sleep 317' </dev/null >/dev/null 2>&1 &
echo $! >kill.srun
wait
while [ ! -e kill.done ]; do sleep 0.1; done
SCRIPT
wait_for 60 test -s "$DIR/kill.task" || fail "the task did not start"
task=$(cat "$DIR/kill.task"); id5=$(cat "$DIR/kill.id")
kill -0 "$task" && ok "the remote task runs ($task)" || fail "no task $task"
kill -9 "$(cat "$DIR/kill.srun")"
gone() { ! kill -0 "$task" 2>/dev/null; }
wait_for 30 gone && ok "srun killed: the remote task is gone (hangup)" || fail "task $task lives on"
pgrep -f "sleep 317" >/dev/null && fail "its sleep lives on" || ok "its sleep too"
notrunning() { st=$("$AIDC" sacct -n -P -j "$id5.0" -o State 2>&1); [[ -n "$st" && "$st" != RUNNING* ]]; }
wait_for 30 notrunning && ok "the step is not left running: $st" || fail "step $id5.0: $st"
touch "$DIR/kill.done"
wait "$spid"

# scancel JOB.STEP ends a --pty step: srun exits, the remote task is gone.
bg_salloc cancel <<'SCRIPT'
#!/bin/sh
echo "$SLURM_JOB_ID" >cancel.id
srun --pty sh -c 'echo $$ >cancel.task; exec sleep 318' </dev/null >/dev/null 2>cancel.err
echo "srun=$?" >cancel.rc
SCRIPT
wait_for 60 test -s "$DIR/cancel.task" || fail "the task did not start"
task=$(cat "$DIR/cancel.task")
"$AIDC" scancel "$(cat "$DIR/cancel.id").0" || fail "scancel JOB.STEP"
wait "$spid"
grep -q "CANCELLED" "$DIR/cancel.err" && ok "scancel JOB.STEP: srun says the step was cancelled" ||
	fail "cancel.err: $(cat "$DIR/cancel.err")"
gone() { ! kill -0 "$task" 2>/dev/null; }
wait_for 30 gone && ok "the remote task is gone" || fail "task $task lives on"

# With -n 2 task 0 has the terminal; the other task's output goes to /dev/null.
out=$(cd "$DIR" && "$AIDC" salloc -N1 -n2 srun --pty -n2 sh -c 'echo "out-$SLURM_PROCID"' \
	</dev/null 2>/dev/null)
grep -q "out-0" <<<"$out" && ok "-n 2: task 0's output" || fail "out: $out"
grep -q "out-1" <<<"$out" && fail "task 1's output came: $out" || ok "-n 2: task 1's to /dev/null"
out=$(cd "$DIR" && "$AIDC" salloc -N1 srun --pty -l true 2>&1 </dev/null)
[[ "$out" == *"srun: error: --pty with --label: task 0's output goes to srun's terminal"* ]] &&
	ok "--pty with -l refused" || fail "-l: $out"
out=$(printf 'tty; exit 6\n' |
	env -u SLURM_JOB_ID -u AIDC_JOB_ID -u AIDC_SALLOC "$AIDC" srun --pty bash --norc --noprofile 2>&1)
check_eq "srun --pty bash outside an allocation makes one: the shell's status" "$?" 6
[[ "$out" == *"/dev/pts/"* && "$out" == *"srun: Granted job allocation"* ]] &&
	ok "on a terminal of the allocation's node" || fail "outside: $out"

echo "FAILS=$FAILS"
[ "$FAILS" -eq 0 ]
