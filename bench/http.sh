#!/usr/bin/env bash
# The HTTP benchmark of issue 16: Colloquy side by side with the bare axum +
# rusqlite peer (`../shared/peers/limit`) in the same run, as ratios.
#
#   bash bench/http.sh                 # everything: warm reads, the N=100
#                                      # data set, bookings, log-ins, slots
#   SCALE=10 bash bench/http.sh        # a smaller data set (N = 10)
#   ONLY=warm bash bench/http.sh       # only the warm reads (about 2 min)
#
# Knobs: SCALE (100), DURATION (8 s per run), CONNECTIONS (64), WORK (where
# the data sets and logs go, /tmp/colloquy-bench; a data set already there
# is reused), PEER (the peer's source), PEER_TARGET, ONLY (warm | scale |
# rust). Needs wrk, curl, sqlite3 and python3.
#
# Each Colloquy run sits between two runs of the peer; its ratio is to the
# mean of those two, because absolute figures on a shared machine drift.
# Colloquy runs with its production defaults (request log at info, rate
# limiter on) except the per-IP and per-user limits, lifted because one
# load generator stands for many clients.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SCALE=${SCALE:-100}
DURATION=${DURATION:-8}
CONNECTIONS=${CONNECTIONS:-64}
WORK=${WORK:-/tmp/colloquy-bench}
PEER=${PEER:-$ROOT/../shared/peers/limit}
PEER_TARGET=${PEER_TARGET:-/tmp/peer-target}
ONLY=${ONLY:-all}
for tool in wrk curl sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "bench/http.sh needs $tool (apt-get install $tool)" >&2; exit 2; }
done
mkdir -p "$WORK"
BIN=$ROOT/target/release/colloquy
LUA=$ROOT/bench/http/get.lua
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PEER_PORT=$(free_port)
PORT=$(free_port)
PEER_PID=""
CPID=""
trap 'kill $PEER_PID $CPID 2>/dev/null || true' EXIT

echo "building Colloquy and the peer (release)" >&2
cargo build --release --quiet
CARGO_TARGET_DIR=$PEER_TARGET cargo build --release --quiet --manifest-path "$PEER/Cargo.toml"
"$PEER_TARGET/release/limit" "$WORK/peer.db" "$PEER_PORT" 100000 >/dev/null 2>&1 &
PEER_PID=$!
until curl -sf "http://127.0.0.1:$PEER_PORT/researchers/1" >/dev/null; do sleep 0.05; done

# wrk's latency ("845.12us", "1.20ms", "1.02s") in milliseconds.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000} printf "%.2f", v}' <<<"$1"; }

# One wrk run: prints "requests/s p50_ms p99_ms non-2xx".
measure() {
  local url=$1 script=$2 out rps p50 p99 bad
  out=$(wrk -t2 -c"${RUN_CONNECTIONS:-$CONNECTIONS}" -d"${DURATION}s" --latency -s "$script" "$url")
  rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
  bad=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  echo "$rps $p50 $p99 ${bad:-0}"
}

peer_rps() { measure "http://127.0.0.1:$PEER_PORT" "$ROOT/../shared/peers/rand.lua" | cut -d' ' -f1; }

ROWS=()
# row WHAT TARGET PATH IDS [WORDS]: the peer, Colloquy, the peer again.
row() {
  local what=$1 target=$2 a b r p50 p99 bad ratio
  a=$(peer_rps)
  read -r r p50 p99 bad < <(BENCH_PATH=$3 BENCH_IDS=$4 BENCH_WORDS=${5:-} BENCH_WORDS_FILE=${BENCH_WORDS_FILE:-} BENCH_TOKEN=${TOKEN:-} \
    RUN_CONNECTIONS=${COLLOQUY_CONNECTIONS:-$CONNECTIONS} measure "http://127.0.0.1:$PORT" "$LUA")
  b=$(peer_rps)
  ratio=$(awk -v r="$r" -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", r / ((a + b) / 2)}')
  ROWS+=("$(printf '| %s | %s/s | %s/s | **%s** | %s ms | %s ms | %s | %s |' \
    "$what" "$r" "$(( (a + b) / 2 ))" "$ratio" "$p50" "$p99" "$bad" "$target")")
  echo "${ROWS[-1]}" >&2
}

note() { ROWS+=("| $1 | | | **$2** | | | | $3 |"); echo "${ROWS[-1]}" >&2; }

rss_mb() { awk '/VmRSS/ {printf "%.1f MB", $2 / 1024}' "/proc/$CPID/status"; }

# serve DATA_DIR: starts Colloquy; sets CPID and STARTUP_MS.
serve() {
  local t0 t1
  [ -n "$CPID" ] && { kill "$CPID"; wait "$CPID" 2>/dev/null || true; }
  t0=$(date +%s%N)
  COLLOQUY__STORAGE__DATA_DIR=$1 COLLOQUY__SERVER__BIND=127.0.0.1:$PORT \
    COLLOQUY__SECURITY__RATE_LIMIT_PER_IP_PER_MINUTE=4000000000 \
    COLLOQUY__SECURITY__RATE_LIMIT_PER_USER_PER_MINUTE=4000000000 \
    "$BIN" serve >>"$WORK/colloquy.log" 2>&1 &
  CPID=$!
  until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do sleep 0.002; done
  t1=$(date +%s%N)
  STARTUP_MS=$(( (t1 - t0) / 1000000 ))
}

# accounts DATA_DIR: the demo reader (new password) signed in, terms and
# privacy notice accepted; sets TOKEN. Run before serve.
accounts() {
  local out email password
  out=$(COLLOQUY__STORAGE__DATA_DIR=$1 "$BIN" demo --accounts 2>/dev/null)
  email=$(sed -n 's/^demo reader ([^)]*): \([^ ]*\)  password: \(.*\)$/\1/p' <<<"$out")
  password=$(sed -n 's/^demo reader ([^)]*): \([^ ]*\)  password: \(.*\)$/\2/p' <<<"$out")
  echo "$email $password"
}

sign_in() {
  local api="http://127.0.0.1:$PORT/api/v1" auth version
  TOKEN=$(curl -sf "$api/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$2\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  auth="Authorization: Bearer $TOKEN"
  version=$(curl -sf "$api/terms" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
  curl -sf "$api/users/me/terms" -H "$auth" -H 'content-type: application/json' \
    -d "{\"version\":\"$version\"}" >/dev/null
  curl -sf "$api/users/me/terms" -H "$auth" -H 'content-type: application/json' \
    -d "{\"version\":\"$version\",\"document\":\"privacy_notice\"}" >/dev/null
}

max_id() { sqlite3 "file:$1/colloquy.db?mode=ro" "SELECT max(id) FROM $2"; }

if [[ $ONLY == all || $ONLY == warm ]]; then
  WARM=$WORK/warm
  rm -rf "$WARM"
  read -r EMAIL PASSWORD < <(accounts "$WARM")
  serve "$WARM"
  sleep 2
  note "idle RSS (after start, before any request)" "$(rss_mb)" "< 25 MB"
  sign_in "$EMAIL" "$PASSWORD"
  R=$(max_id "$WARM" researchers)
  P=$(max_id "$WARM" papers)
  row 'GET /healthz' '≥ 0.8' /healthz 1
  row 'GET /api/v1/researchers/{id}, warm' '≥ 0.6, p99 < 4 ms' '/api/v1/researchers/{id}' "$R"
  row 'GET /api/v1/papers/{id}, warm' '≥ 0.6, p99 < 4 ms' '/api/v1/papers/{id}' "$P"
  row 'GET /api/v1/consulting/researchers/{paper_id}, warm' '≥ 0.5' '/api/v1/consulting/researchers/{id}' "$P"
fi

if [[ $ONLY == all || $ONLY == scale ]]; then
  SET=$WORK/scale-$SCALE
  if [ ! -f "$SET/generated" ]; then
    rm -rf "$SET"
    COLLOQUY__STORAGE__DATA_DIR=$SET "$BIN" demo --scale "$SCALE" | tee "$SET.summary"
    touch "$SET/generated"
  fi
  cat "$SET.summary" >&2
  read -r EMAIL PASSWORD < <(accounts "$SET")
  serve "$SET"
  note "start-up to /healthz at N=$SCALE" "$STARTUP_MS ms" "< 300 ms"
  sign_in "$EMAIL" "$PASSWORD"
  R=$(max_id "$SET" researchers)
  P=$(max_id "$SET" papers)
  WORDS=$(sqlite3 "file:$SET/colloquy.db?mode=ro" \
    "SELECT group_concat(w, ',') FROM (SELECT DISTINCT lower(substr(title, 1, instr(title || ' ', ' ') - 1)) AS w FROM papers WHERE id % 97 = 0)")
  # "Cold" means not in Colloquy's caches: the file itself should be in the
  # operating system's, as on a server that has run a while. These VMs keep
  # about 3.5 GB of file pages in all and drop the rest within minutes (a
  # build evicts most of the data set), and a read from disk costs the
  # cold rows half their rate, so the file is read once before each row.
  in_page_cache() { cat "$SET"/colloquy.db* >/dev/null; }
  in_page_cache
  row "GET /api/v1/researchers/{id}, cold, N=$SCALE" '≥ 0.25' '/api/v1/researchers/{id}' "$R"
  in_page_cache
  row "GET /api/v1/papers/{id}, cold, N=$SCALE" '≥ 0.25' '/api/v1/papers/{id}' "$P"
  in_page_cache
  row "GET /api/v1/consulting/researchers/{paper_id}, cold, N=$SCALE" '≥ 0.25' '/api/v1/consulting/researchers/{id}' "$P"
  in_page_cache
  # Each word again and again: after its first search, served from the
  # search cache (the generated titles open with ten words).
  row "GET /api/v1/papers?q= (full text), N=$SCALE" 'p99 < 20 ms' '/api/v1/papers?q={word}' 1 "$WORDS"
  # Every request a search never seen: a word and a page cursor at a random
  # paper, 40,000 combinations, so nearly every one misses the cache.
  python3 -c 'import base64, random, sys
words, top = sys.argv[1].split(","), int(sys.argv[2])
for _ in range(40000):
    cursor = base64.urlsafe_b64encode(b"i:%d" % random.randint(2, top)).decode().rstrip("=")
    print("%s&cursor=%s" % (random.choice(words), cursor))' "$WORDS" "$P" >"$WORK/unseen-searches"
  in_page_cache
  BENCH_WORDS_FILE=$WORK/unseen-searches \
    row "GET /api/v1/papers?q= (full text, never the same search), N=$SCALE" 'p99 < 20 ms' '/api/v1/papers?q={word}' 1 ''
  # The same at 4 connections (one per reader connection of the pool):
  # the search's own latency, without 60 requests queued before it.
  in_page_cache
  BENCH_WORDS_FILE=$WORK/unseen-searches COLLOQUY_CONNECTIONS=4 \
    row "GET /api/v1/papers?q= (full text, never the same search), N=$SCALE, 4 connections" 'p99 < 20 ms' '/api/v1/papers?q={word}' 1 
  note "RSS after the data set was read" "$(rss_mb)" "< 150 MB"
fi

echo
echo "Colloquy against the bare peer (\`limit\`), wrk -t2 -c$CONNECTIONS, ${DURATION} s a run, $(nproc) cores, $(date -u +%F)"
echo
echo "| what | Colloquy | peer | ratio | p50 | p99 | non-2xx | target |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"

if [[ $ONLY == all || $ONLY == rust ]]; then
  kill "$CPID" "$PEER_PID" 2>/dev/null || true
  CPID="" PEER_PID=""
  echo
  echo "Free slots, 8 weeks, 500 booked sessions (target p99 < 2 ms):"
  cargo bench --quiet --bench availability 2>/dev/null | grep -E 'p99|slots' || true
  echo
  echo "Bookings at 256 clients (target ≥ 2,000/s, p99 < 50 ms, no double booking, no 5xx):"
  BENCH_CONCURRENCY=256 BENCH_BOOKINGS=20000 cargo bench --quiet --bench booking 2>/dev/null | tail -n 12
  echo
  echo "250 concurrent log-ins (target: other requests' p99 < 20 ms):"
  LOGINS=500 CONCURRENCY=250 cargo bench --quiet --bench login 2>/dev/null | tail -n 12
fi
