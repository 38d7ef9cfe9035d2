#!/usr/bin/env bash
# Release binary size, start-up time to the first /healthz answer (fresh
# data dir: keyring generation and migrations included, then a warm restart),
# and idle RSS. Run: bash bench/startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN="$PWD/target/release/colloquy"
echo "release binary: $(stat -c %s "$BIN") bytes ($(du -h "$BIN" | cut -f1))"
WORK="$(mktemp -d)"
trap 'kill "${PID:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

measure() {
  local label="$1"
  local start end
  start=$(date +%s%N)
  (cd "$WORK" && COLLOQUY__SERVER__BIND="127.0.0.1:$PORT" COLLOQUY__LOGGING__LEVEL=warn exec "$BIN" serve >/dev/null 2>&1) &
  PID=$!
  until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do sleep 0.002; done
  end=$(date +%s%N)
  echo "$label start-up to first /healthz: $(( (end - start) / 1000000 )) ms"
}

measure "cold (new data dir)"
sleep 2
# The server runs its children under the subshell's exec, so $PID is the server.
echo "idle RSS after start: $(grep VmRSS /proc/$PID/status | awk '{print $2, $3}')"
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/papers" >/dev/null; done
sleep 1
echo "idle RSS after 50 page views: $(grep VmRSS /proc/$PID/status | awk '{print $2, $3}')"
kill "$PID"; wait "$PID" 2>/dev/null || true
measure "warm (existing data dir)"
kill "$PID"; wait "$PID" 2>/dev/null || true
