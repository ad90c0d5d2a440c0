#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lists what the last ctest run in BUILD_DIR did not check, with the reason
# each test printed: whole tests skipped (exit 77, "SKIP: why"), C test cases
# skipped inside a test ("N skipped"), and checks a passing test left out
# ("note: ... skipped"). ctest prints the output of failed tests only, so
# without this a CI log would not show why a part of the suite did not run.
#   scripts/skip_report.sh build
set -euo pipefail
dir=${1:?usage: skip_report.sh BUILD_DIR}
log=$dir/Testing/Temporary/LastTest.log
[ -r "$log" ] || {
	echo "skip report: no $log (ctest did not run)" >&2
	exit 1
}
echo "skip report ($dir): what the last ctest run did not check, and why"
awk '
/^[0-9]+\/[0-9]+ Testing: / { name = $3; next }
/^SKIP: / || /^note: .*skip/ || /part skipped:/ ||
/ cases: [0-9]+ passed, [0-9]+ failed, [1-9][0-9]* skipped$/ {
	print "  " name ": " $0
	n++
}
END { print (n ? n " line(s)" : "nothing: every test ran all its checks") }' "$log"
