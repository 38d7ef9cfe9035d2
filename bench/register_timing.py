#!/usr/bin/env python3
"""Registration timing while e-mail verification is on: a new address and
one that has an account must answer alike (same status, same body, same
time), so that nobody can probe which addresses have accounts.

Start a server with verification on (mail may stay held), then run this:

    COLLOQUY__STORAGE__DATA_DIR=/tmp/rt COLLOQUY__ACCOUNTS__EMAIL_VERIFICATION=required \
    COLLOQUY__SECURITY__RATE_LIMIT_PER_IP_PER_MINUTE=100000 \
    cargo run --release -- serve &
    python3 bench/register_timing.py [BASE_URL] [ROUNDS]
"""
import json
import statistics
import sys
import time
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 40


def register(email):
    body = json.dumps({"email": email, "password": "correct horse battery staple 9",
                       "name": "Timing Test", "accept_terms": True}).encode()
    req = urllib.request.Request(BASE + "/api/v1/auth/register", data=body,
                                 headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        answer = (r.status, r.read())
    return time.perf_counter() - start, answer


stamp = int(time.time())
register(f"taken-{stamp}@uni.example")
new, taken, answers = [], [], set()
for i in range(ROUNDS):
    d, a = register(f"new-{stamp}-{i}@uni.example")
    new.append(d * 1000)
    answers.add(a)
    d, a = register(f"taken-{stamp}@uni.example")
    taken.append(d * 1000)
    answers.add(a)
for name, xs in (("new address", new), ("existing address", taken)):
    xs.sort()
    print(f"{name}: median {statistics.median(xs):.1f} ms, p90 {xs[int(len(xs) * 0.9)]:.1f} ms")
print(f"distinct answers: {len(answers)} {sorted(answers)}")
sys.exit(0 if len(answers) == 1 else 1)
