# SPDX-License-Identifier: Apache-2.0
# Tests of the topo work, included from tests/live/CMakeLists.txt.
