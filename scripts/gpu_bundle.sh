#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Packs a build for scripts/gpu_check.sh on a machine that lacks the
# project's packages: DIR/bin/aidc, DIR/lib/aidc/plugins/*.so (found by aidc
# relative to its own path; the cuda and example ones) and DIR/deps/ with the shared libraries aidc and
# its plugins link against, except the C library and the CUDA libraries the
# GPU machine brings.
#   scripts/gpu_bundle.sh [BUILD_DIR] DIR
set -eu
BUILD=${2:+$1}
BUILD=${BUILD:-build}
DIR=${2:-$1}
rm -rf "$DIR"
mkdir -p "$DIR/bin" "$DIR/lib/aidc/plugins" "$DIR/deps"
cp "$BUILD/src/cli/aidc" "$DIR/bin/"
cp "$BUILD"/plugins/aidc_dev_cuda.so "$BUILD"/plugins/aidc_dev_example.so "$DIR/lib/aidc/plugins/"
(ldd "$DIR/bin/aidc"; for p in "$DIR"/lib/aidc/plugins/*.so; do ldd "$p"; done) |
	awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
	while read -r name path; do
		case "$name" in
		libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so* | ld-linux*) continue ;;
		libcu* | libnvrtc* | libnvidia* | libOpenCL* | libpocl*) continue ;;
		esac
		cp -L "$path" "$DIR/deps/$name"
	done
du -sh "$DIR"
