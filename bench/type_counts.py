#!/usr/bin/env python3
"""Counts what issue 11 §4 asks to remove outside `src/db/`:

- status literals: string literals in `.rs` files that equal a value of a
  status CHECK constraint in `migrations/` (sessions, payments,
  subscriptions, jobs, mail, outreach, researchers, claims, merges);
- raw ids: `id`/`*_id` fields or parameters typed `i64`, `Option<i64>` or
  `Vec<i64>`, outside `src/db/`; and, as a second figure, the same in
  `src/db/` outside row mapping (`let` bindings inside a query closure
  are row mapping and not counted).

The enums in `src/domain/status.rs` are where the values are spelled, and
are not counted; nor is `src/domain/labels.rs`, the words pages show for
each value ("sent", "failed"), which often equal the stored spelling. Unit-test modules (`#[cfg(test)]` to the end of the file, and `*_tests.rs`)
are left out: tests may spell the wire value. Usage:
    python3 bench/type_counts.py [ROOT] [-v]
"""
import pathlib
import re
import sys

args = [a for a in sys.argv[1:] if not a.startswith("-")]
verbose = "-v" in sys.argv
root = pathlib.Path(args[0] if args else ".")

statuses = set()
for sql in (root / "migrations").glob("*.sql"):
    for m in re.finditer(r"CHECK \(status IN \(([^)]*)\)\)", sql.read_text()):
        statuses.update(re.findall(r"'([a-z_]+)'", m.group(1)))

lit = re.compile(r'"([a-z_]+)"')
raw_id = re.compile(r"\b(?:id|\w+_id)\s*:\s*(?:&\s*)?(?:Option<\s*i64\s*>|Vec<\s*i64\s*>|i64)\b")
literals = ids = db_ids = 0
for path in sorted((root / "src").rglob("*.rs")):
    rel = path.relative_to(root).as_posix()
    if rel.endswith("_tests.rs") or rel in ("src/domain/status.rs", "src/domain/labels.rs"):
        continue
    in_db = rel.startswith("src/db/")
    text = path.read_text()
    cut = text.find("#[cfg(test)]")
    if cut >= 0:
        text = text[:cut]
    for n, line in enumerate(text.splitlines(), 1):
        code = line.split("//")[0]
        if in_db:
            if "let " not in code:
                db_ids += len(raw_id.findall(code))
            continue
        hits = [s for s in lit.findall(code) if s in statuses]
        literals += len(hits)
        found = raw_id.findall(code)
        ids += len(found)
        if verbose and (hits or found):
            print(f"{rel}:{n}: {line.strip()}")
print(f"status values: {len(statuses)}")
print(f"status literals outside src/db: {literals}")
print(f"raw i64 ids outside src/db: {ids}")
print(f"raw i64 ids in src/db signatures and rows: {db_ids}")
