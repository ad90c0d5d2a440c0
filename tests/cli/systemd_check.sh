#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The systemd units (packaging/systemd, docs/service.md): filled in as
# `cmake --install` does (with this build's aidc), `systemd-analyze verify`
# reads them without a single warning (it exits 0 on unknown keys, so any
# line naming our units fails); both restart on failure; the agent's stop
# leaves tasks running (KillMode=process) and keeps the settings that job
# launch needs; the controller holds no capabilities. With systemd-analyze
# security, the exposure scores are printed. SKIP without systemd-analyze.
set -u
src=${AIDC_SOURCE_DIR:?}
aidc=${AIDC_BIN:?}
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed"; exit 77; }
fail=0
bad() { echo "FAIL: $*"; fail=1; }
ok() { echo "ok   $*"; }
T=$(mktemp -d /tmp/aidc-units-XXXXXX)
trap 'rm -rf "$T"' EXIT
bindir=$(cd "$(dirname "$aidc")" && pwd)
for u in controller agent; do
	sed "s|@AIDC_BINDIR@|$bindir|g" "$src/packaging/systemd/aidc-$u.service.in" >"$T/aidc-$u.service"
	grep -q '@[A-Z_]*@' "$T/aidc-$u.service" && bad "aidc-$u.service: a @VAR@ left unfilled"
done
out=$(cd "$T" && systemd-analyze verify --man=no aidc-controller.service aidc-agent.service 2>&1)
rc=$?
mine=$(echo "$out" | grep -E 'aidc-(controller|agent)\.service' )
if [ $rc -ne 0 ] || [ -n "$mine" ]; then bad "systemd-analyze verify (exit $rc): $out"; else ok "systemd-analyze verify: no warnings"; fi
has() { grep -qx "$2" "$T/$1" && ok "$1: $2" || bad "$1 lacks '$2'"; }
lacks() { grep -q "^$2" "$T/$1" && bad "$1 sets $2 (it would break job launch)" || ok "$1: no $2"; }
for u in aidc-controller.service aidc-agent.service; do
	has "$u" "Restart=on-failure"
done
has aidc-controller.service "ExecStart=$bindir/aidc controller --config /etc/aidc/controller.conf"
has aidc-controller.service "CapabilityBoundingSet="
has aidc-controller.service "ProtectSystem=strict"
has aidc-agent.service "KillMode=process"
has aidc-agent.service "LimitMEMLOCK=infinity"
has aidc-agent.service "EnvironmentFile=/etc/aidc/agent.env"
for k in ProtectSystem ProtectHome PrivateTmp PrivateDevices NoNewPrivileges ProtectControlGroups \
	CapabilityBoundingSet PrivateUsers DynamicUser RestrictSUIDSGID SystemCallFilter; do
	lacks aidc-agent.service "$k="
done
# The example /etc/aidc files name only keys and flags that exist.
while read -r key _; do
	case "$key" in '#'* | '') continue ;; esac
	"$aidc" controller --config-doc | grep -q "\`$key\`" && ok "controller.conf key $key exists" ||
		bad "packaging/etc-aidc/controller.conf: unknown key $key"
done < <(sed 's/=/ /' "$src/packaging/etc-aidc/controller.conf")
opts=$(sed -n 's/^AIDC_AGENT_OPTS="\(.*\)"$/\1/p' "$src/packaging/etc-aidc/agent.env")
for f in $opts; do
	case "$f" in --*) "$aidc" agent --help | grep -q -- "^  $f " && ok "agent.env flag $f exists" ||
		bad "packaging/etc-aidc/agent.env: unknown flag $f" ;; esac
done
if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
	for u in controller agent; do
		(cd "$T" && systemd-analyze security --offline=yes "aidc-$u.service" 2>&1 | tail -1)
	done
fi
exit $fail
