#!/usr/bin/env python3
"""Import graph of src/ (usage: python3 bench/import_graph.py [src] [module-to-ignore]):
file-level edges from `crate::a::b` paths, the
strongly connected components (import circles) and files over 400 lines.
Status literals and raw ids are counted by bench/type_counts.py."""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else "src"
IGNORE = sys.argv[2] if len(sys.argv) > 2 else None
files = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if f.endswith(".rs"):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            mod = rel[:-3].replace(os.sep, "::")
            mod = re.sub(r"(::)?mod$", "", mod)
            if mod in ("lib", "main"):
                mod = ""
            files[mod] = p
def resolve(path):
    parts = path.split("::")
    while parts:
        m = "::".join(parts)
        if m in files:
            return m
        parts.pop()
    return None
edges = {m: set() for m in files}
for m, p in files.items():
    src = open(p).read()
    src = re.sub(r"#\[cfg\(test\)\]\s*mod tests \{.*", "", src, flags=re.S)
    for use in re.findall(r"crate::((?:\w+::)*\w+)", src):
        t = resolve(use)
        if t is not None and t != m and t != "" and t != IGNORE:
            edges[m].add(t)
    # `use crate::x::{a, b::c}` groups
    for grp in re.findall(r"crate::((?:\w+::)*)\{([^}]*)\}", src):
        base, inner = grp
        for item in inner.split(","):
            item = item.strip().split(" as ")[0]
            if not item or item == "self":
                t = resolve(base.rstrip(":"))
            else:
                t = resolve(base + item.split("::{")[0])
            if t is not None and t != m and t != "" and t != IGNORE:
                edges[m].add(t)
    # `super::` inside module folders
    parent = m.rsplit("::", 1)[0] if "::" in m else ""
    for use in re.findall(r"\bsuper::((?:\w+::)*\w+)", src):
        base = (parent.rsplit("::", 1)[0] if p.endswith("mod.rs") else parent)
        t = resolve((base + "::" if base else "") + use)
        if t and t != m:
            edges[m].add(t)
# Tarjan
index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        sccs.append(comp)
for v in files:
    if v not in index:
        strong(v)
circles = sorted([c for c in sccs if len(c) > 1], key=len, reverse=True)
print(f"files: {len(files)}; import circles: {len(circles)}; sizes: {[len(c) for c in circles]}")
for c in circles:
    print("  circle:", ", ".join(sorted(c)))
big = sorted(((sum(1 for _ in open(p)), m) for m, p in files.items()), reverse=True)
print("files over 400 lines:", [(m or "lib", n) for n, m in big if n > 400])
# Status literals and raw ids: bench/type_counts.py.
