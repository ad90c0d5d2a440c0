#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cgroup_clean.sh CENTER_DIR: removes the cgroups of a test center whose
# daemons are gone (stopped or killed -9). A killed agent cannot remove its own
# cgroup subtree, so every test harness calls this in its teardown, after it
# has stopped the daemons: it reads each agent's "limits: cgroupN in DIR" log
# line from CENTER_DIR/*.log, kills what is left in DIR (cgroup.kill, else
# SIGKILL of each pid in cgroup.procs), and removes DIR deepest first, waiting
# up to 10 s for the killed processes to leave. Only directories below an
# "aidc" cgroup root are touched. Prints what it could not remove; exit 0.
set -u
dir=${1:?usage: cgroup_clean.sh CENTER_DIR}
roots=$(cat "$dir"/*.log 2>/dev/null | grep -o 'limits: cgroup[0-9]* in /[^; ]*' |
	sed 's/^limits: cgroup[0-9]* in //' | sort -u)
for root in $roots; do
	# cgroup v1 keeps the cpu and pids subtrees under their own mounts.
	for d in "$root" /sys/fs/cgroup/*/aidc/"$(basename "$root")"; do
		case "$d" in */aidc/*) ;; *) continue ;; esac
		[ -d "$d" ] || continue
		deadline=$((SECONDS + 10))
		while [ -d "$d" ]; do
			while read -r c; do
				echo 1 >"$c/cgroup.kill" 2>/dev/null ||
					for p in $(cat "$c/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
			done < <(find "$d" -type d 2>/dev/null)
			find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$d" ] || break
			if [ $SECONDS -ge $deadline ]; then
				echo "cgroup_clean: could not remove $d: $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | wc -l) processes left"
				break
			fi
			sleep 0.1
		done
	done
done
exit 0
