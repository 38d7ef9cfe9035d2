#!/usr/bin/env bash
# The crash drill (tests/api/crash_drill.rs) for 20 rounds instead of CI's 5:
# each round books 1,000 sessions at once, delivers held-payment webhooks
# and sends mail, kills the server with SIGKILL at a random moment,
# restarts it and checks that nothing acknowledged was lost.
#
#   bash bench/crash.sh                  # 20 rounds, a random seed (printed)
#   CRASH_SEED=42 CRASH_RUNS=8 bash bench/crash.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CRASH_RUNS="${CRASH_RUNS:-20}"
exec cargo test --test api crash_drill -- --nocapture
