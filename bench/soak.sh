#!/usr/bin/env bash
# The soak (tests/api/soak.rs): the release binary under mixed traffic —
# reads, bookings through their lifecycle with payments and webhooks,
# log-ins, every job on a schedule of seconds — for a bounded time. Prints
# each route's count and p99 per window, and the server's RSS, open file
# descriptors and WAL size over the run.
#
#   bash bench/soak.sh                          # 10 minutes, a line a minute
#   SOAK_SECS=120 SOAK_WINDOW_SECS=20 bash bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
export SOAK_BIN="$PWD/target/release/colloquy"
export SOAK_SECS="${SOAK_SECS:-600}"
exec cargo test --locked --test api soak_ -- --ignored --nocapture
