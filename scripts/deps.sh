#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install AIDC's build and test dependencies from Debian 12 packages.
# Idempotent: packages already present are not reinstalled and apt is not touched
# at all when nothing is missing. apt-get runs directly as root, through sudo otherwise.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  clang libclang-rt-14-dev            # libFuzzer targets (optional; the build skips them without clang)
  libopenblas-dev                     # exam: cpu plugin GEMM
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo  # exam: opencl plugin
  libclblast-dev                      # exam: opencl GEMM
  python3                             # test drivers
  libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libsqlite3-dev  # live center: HTTP server, JSON, HTTP client, store
  libpq-dev postgresql-15              # live center: the PostgreSQL store (optional in the build); its tests start a throwaway server
  python3-torch                       # live center: the 2-node PyTorch DDP test (CPU, gloo); for /usr/bin/python3
  python3-torchvision                 # catalogue: the ResNet, segmentation and serving recipes (catalog/, docs/catalog.md) and their smoke tests
  libgnutls28-dev                     # live center: SHA-256 of API tokens (libmicrohttpd's TLS library)
  libmunge-dev munge openssl          # live center: MUNGE credentials (optional in the build), test daemon and certificates
  libhwloc-dev                        # agent: machine topology in the registration (optional; built without it otherwise)
  chromium nodejs                     # dashboard: the browser test (tests/browser, live_dashboard; SKIPs without them)
  haproxy                             # services: the router (2.6, runtime API); test_haproxy SKIPs without it
  wrk                                 # services: HTTP load generator (test_haproxy's rolling_wrk SKIPs without it)
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages present"
else
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  echo "deps: done"
fi

# The dashboard's browser test drives Debian's chromium with playwright-core
# from npm, pinned by tests/browser/package-lock.json and installed into
# tests/browser/node_modules (project-local; never fetched while tests run).
# --ignore-scripts: playwright-core downloads no browser of its own anyway.
# Debian 12's nodejs package has no npm: where npm is missing the test SKIPs.
browser_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
if [ -f "$browser_dir/node_modules/playwright-core/package.json" ] &&
   [ "$browser_dir/node_modules/.package-lock.json" -nt "$browser_dir/package-lock.json" ]; then
  echo "deps: playwright-core present in tests/browser/node_modules"
elif command -v npm >/dev/null; then
  echo "deps: npm ci in tests/browser (playwright-core)"
  (cd "$browser_dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
else
  echo "deps: npm not found: the dashboard's browser test (live_dashboard) will SKIP"
fi
