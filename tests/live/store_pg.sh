#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The controller on PostgreSQL (issue 15 item 3), on a throwaway server from
# Debian's packages (tests/store/pg_server.sh; SKIPs without them):
#  - `db = postgresql://...` (here through aidc up --controller-config): a
#    job runs end to end, its row is in PostgreSQL and no SQLite file is made;
#  - after kill -9 of the controller and a restart, it still has the job and
#    the next job id follows it;
#  - the URI's password shows in no log, nor in the config the controller
#    records in the audit log;
#  - an unreachable database is refused at start, naming it without the
#    password.
# Waits poll with generous deadlines; nothing here asserts a timing.
. "$(dirname "$0")/agent_lib.sh"
if [ -z "${AIDC_TEST_PG_URI:-}" ]; then
	exec "$(dirname "$0")/../store/pg_server.sh" run /bin/bash "$0" "$@"
fi
PSQL=${AIDC_PG_BIN:-/usr/lib/postgresql/15/bin}/psql
SECRET=hunter2-not-a-password
# Trust authentication ignores the password: it is there to be hidden.
URI=${AIDC_TEST_PG_URI/postgresql:\/\/aidc@/postgresql://aidc:$SECRET@}
sql() { "$PSQL" -X -q -t -A "$AIDC_TEST_PG_URI" -c "$1"; }

# ---- an unreachable database is refused, without the password ----
tmp=$(mktemp -d /tmp/aidc-pgbad-XXXXXX)
out=$(timeout 60 "$AIDC" controller --state-dir "$tmp/state" --socket "$tmp/s" --port 0 \
	--db "postgresql://aidc:$SECRET@/nodb?host=$tmp/nowhere" 2>&1)
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && ok "unreachable database: exit $rc" || fail "unreachable database: exit $rc"
[[ "$out" == *"cannot connect to postgresql://aidc:***@/nodb"* ]] && ok "names it: $out" ||
	fail "unreachable database message: $out"
[[ "$out" == *"$SECRET"* ]] && fail "the password is in the message" || ok "no password in the message"
rm -rf "$tmp"

# ---- a job end to end, then a controller restart ----
cfg=$(mktemp /tmp/aidc-pgcfg-XXXXXX)
printf 'db = %s\n' "$URI" >"$cfg"
center_up 1 --controller-config "$cfg"
trap 'rm -f "$cfg"; center_down' EXIT
id1=$(submit -J pgjob -- sh -c 'echo hello from postgresql')
check_eq "job on PostgreSQL completes" "$(wait_state "$id1" "$END" 60)" completed
check_eq "its row is in PostgreSQL" "$(sql "SELECT name FROM jobs WHERE id = $id1")" pgjob
[ -e "$DIR/controller/aidc.db" ] && fail "a SQLite file was made" || ok "no SQLite file"
check_eq "schema recorded" "$(sql 'SELECT MAX(version) FROM schema_version')" \
	"$(grep -o 'STORE_SCHEMA_VERSION [0-9]*' "${AIDC_SOURCE_DIR:-.}/src/store/store.h" | awk '{print $2}')"

ctl_restart || fail "controller restarted on PostgreSQL"
check_eq "after a restart the job is still there" "$(job_field "$id1" name)" pgjob
check_eq "and still completed" "$(job_field "$id1" state)" completed
id2=$(submit -J pgjob2 -- true)
check_eq "the next id follows" "$id2" "$((id1 + 1))"
check_eq "a job after the restart completes" "$(wait_state "$id2" "$END" 60)" completed
check_eq "both rows in PostgreSQL" "$(sql 'SELECT COUNT(*) FROM jobs')" 2

# ---- the password is nowhere ----
grep -rl -- "$SECRET" "$DIR"/*.log "$DIR"/controller 2>/dev/null && fail "password in a log" ||
	ok "no password in the logs"
recorded=$(sql "SELECT value FROM meta WHERE key = 'config'")
[[ "$recorded" == *"db=postgresql://aidc:***@"* ]] && ok "recorded config masks it" ||
	fail "recorded config: $(echo "$recorded" | grep '^db=')"
check_eq "no password in the audit log" "$(sql "SELECT COUNT(*) FROM audit WHERE detail LIKE '%$SECRET%'")" 0
finish
