#!/usr/bin/env python3
"""Fails when core's folders include each other in a circle, or when the ui reaches past the facade.

Reads every #include "core/<folder>/..." in core/<folder>/*.{h,cpp}, builds the folder graph and
reports each include that closes a cycle (an edge a -> b while b already reaches a), naming the
file and line. With --ui UI_DIR it also checks that the ui includes core only through core/api/
and that no header reachable from core/api/ includes a LibTorch header.
Usage: check_core_layers.py [--self-test] [--ui UI_DIR] CORE_DIR
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
        root = pathlib.Path(tmp) / "core"
        (root / "low").mkdir(parents=True)
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
        (root / "low" / "c.cpp").write_text("// no circle\n")
        (root / "api").mkdir()
        (root / "api" / "face.h").write_text('#include "core/low/b.h"\n')
        (root / "low" / "b.h").write_text("#pragma once\n")
        ui = pathlib.Path(tmp) / "ui"
        ui.mkdir()
        (ui / "view.cpp").write_text('#include "core/api/face.h"\n')
        if check_facade(root, ui) != 0:
            print("self-test: a ui that uses the facade was rejected")
            return 1
        (root / "low" / "b.h").write_text("#include <torch/torch.h>\n")
        (ui / "other.cpp").write_text('#include "core/low/b.h"\n')
        if check_facade(root, ui) != 1:
            print("self-test: a ui past the facade, or torch behind it, was not found")
            return 1
    print("self-test: a circle is found, a one-way tree passes")
    return 0


TORCH = re.compile(r'^\s*#\s*include\s+<(torch|ATen|c10)/')
CORE_INCLUDE = re.compile(r'^\s*#\s*include\s+"(core/[^"]+)"')


def check_facade(core, ui):
    """ui includes core only through core/api/; nothing reachable from core/api/*.h includes torch."""
    bad = 0
    for path in sorted(ui.rglob("*")):
        if path.suffix not in (".h", ".cpp"):
            continue
        for number, text in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            match = CORE_INCLUDE.match(text)
            if match and not match.group(1).startswith("core/api/"):
                print(f"{path}:{number}: the ui includes {match.group(1)}; it reaches core through core/api/ only")
                bad += 1
    root = core.parent
    seen, stack = set(), [h for h in sorted((core / "api").glob("*.h"))]
    while stack:
        header = stack.pop()
        if header in seen or not header.exists():
            continue
        seen.add(header)
        for number, text in enumerate(header.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if TORCH.match(text):
                print(f"{header}:{number}: reachable from core/api/ and includes a LibTorch header")
                bad += 1
            match = CORE_INCLUDE.match(text)
            if match:
                stack.append(root / match.group(1))
    print(f"facade: {len(seen)} headers reachable from core/api/, {'FAIL' if bad else 'OK'}")
    return 1 if bad else 0


def main():
    argv = sys.argv[1:]
    ui = None
    if "--ui" in argv:
        i = argv.index("--ui")
        ui = pathlib.Path(argv[i + 1]).resolve()
        argv = argv[:i] + argv[i + 2:]
    args = [a for a in argv if a != "--self-test"]
    if "--self-test" in argv and self_test() != 0:
        return 1
    core = pathlib.Path(args[0] if args else "core").resolve()
    result = check(core)
    if ui is not None:
        result |= check_facade(core, ui)
    return result


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
