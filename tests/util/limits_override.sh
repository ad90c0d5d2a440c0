#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# src/util/limits.h: a build may override a tunable limit inside its range, and
# an override outside it (zero, too large) or of a unit stops the build with a
# message naming the limit. Compiles a one-line file with the project's
# compiler, so it costs well under a second.
#   limits_override.sh CC
set -u
cc=${1:?usage: limits_override.sh CC}
src=${AIDC_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include "util/limits.h"\nint main(void) { return (int)(AIDC_MAX_NODES %% 2u); }\n' > "$tmp/t.c"
fail=0
build() { "$cc" -std=c17 -Wall -Wextra -Werror -I"$src/src" "$@" -c "$tmp/t.c" -o "$tmp/t.o" 2> "$tmp/err"; }
ok() {
  build "$@" || { echo "FAIL: $* should build:"; cat "$tmp/err"; fail=1; }
}
refused() { # want-in-message flags...
  local want=$1; shift
  if build "$@"; then
    echo "FAIL: $* should stop the build"; fail=1
  elif ! grep -q "$want" "$tmp/err"; then
    echo "FAIL: $*: the error does not name $want:"; cat "$tmp/err"; fail=1
  fi
}
ok
ok -DAIDC_MAX_NODES=131072u
ok -DAIDC_MAX_LINE_BYTES=8192u
refused AIDC_MAX_NODES -DAIDC_MAX_NODES=0
refused AIDC_MAX_NODES -DAIDC_MAX_NODES=4294967295u
refused AIDC_MAX_DEVICE_MODELS -DAIDC_MAX_DEVICE_MODELS=65u
refused AIDC_MAX_LINE_BYTES -DAIDC_MAX_LINE_BYTES=100u
refused AIDC_MIN_PRIORITY -DAIDC_MIN_PRIORITY=5
refused AIDC_DEVICE_MILLI -DAIDC_DEVICE_MILLI=100u
# inside its own range, but breaking a cross-check with another limit
refused AIDC_MAX_SCRIPT_BYTES -DAIDC_MAX_SCRIPT_BYTES=1048576u
[ $fail -eq 0 ] && echo "limits.h: in-range overrides build, 7 bad ones stop the build"
exit $fail
