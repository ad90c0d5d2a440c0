# SPDX-License-Identifier: Apache-2.0
# Tests of the agent work, included from tests/live/CMakeLists.txt.
