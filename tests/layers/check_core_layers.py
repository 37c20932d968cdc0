#!/usr/bin/env python3
"""Fails when core's folders include each other in a circle.

Reads every #include "core/<folder>/..." in core/<folder>/*.{h,cpp}, builds the folder graph and
reports each include that closes a cycle (an edge a -> b while b already reaches a), naming the
file and line. Usage: check_core_layers.py CORE_DIR
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"core/([A-Za-z0-9_]+)/')


def folder_edges(core):
    edges = {}  # (a, b) -> [(file, line)]
    for path in sorted(core.rglob("*")):
        if path.suffix not in (".h", ".cpp") or path.parent == core:
            continue
        folder = path.relative_to(core).parts[0]
        for number, text in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            match = INCLUDE.match(text)
            if match and match.group(1) != folder:
                edges.setdefault((folder, match.group(1)), []).append((path, number))
    return edges


def reaches(graph, start, goal):
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(graph.get(node, ()))
    return False


def self_test():
    """The check must fail on a tree whose folders include each other in a circle."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "low").mkdir()
        (root / "high").mkdir()
        (root / "high" / "a.h").write_text('#include "core/low/b.h"\n')
        (root / "low" / "b.cpp").write_text('#include "core/low/b.h"\n')
        if check(root) != 0:
            print("self-test: a one-way tree was rejected")
            return 1
        (root / "low" / "c.cpp").write_text('// closes the circle\n#include "core/high/a.h"\n')
        if check(root) != 1:
            print("self-test: a circle low <-> high was not found")
            return 1
    print("self-test: a circle is found, a one-way tree passes")
    return 0


def main():
    args = [a for a in sys.argv[1:] if a != "--self-test"]
    if "--self-test" in sys.argv and self_test() != 0:
        return 1
    return check(pathlib.Path(args[0] if args else "core").resolve())


def check(core):
    edges = folder_edges(core)
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    bad = [(a, b) for (a, b) in sorted(edges) if reaches(graph, b, a)]
    for a, b in bad:
        for path, number in edges[(a, b)]:
            print(f"{path}:{number}: core/{a} includes core/{b}, which already includes core/{a}")
    order = sorted(graph, key=lambda f: -len(graph[f]))
    print("core folder edges:", ", ".join(f"{a}->{b}" for a, b in sorted(edges)))
    if bad:
        print(f"FAIL: {len(bad)} folder edge(s) close a cycle")
        return 1
    print(f"OK: {len(edges)} folder edges over {len(set(order) | {b for _, b in edges})} folders, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
