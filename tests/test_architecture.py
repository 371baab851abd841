"""The layering (pyproject.toml's import-linter contracts) and the import graph hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]

KNOWN_CYCLES: set[frozenset[str]] = set()
"""Cycles still to break, each with how."""


def _cycles(graph: grimp.ImportGraph, package: str) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    edges = {m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i in modules)
             for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_import_linter_contracts_hold() -> None:
    # layers, no cycles between a package's modules, no training code or torch at run time
    out = subprocess.run(
        [sys.executable, "-c",
         "from importlinter.cli import lint_imports_command; lint_imports_command()",
         "--config", str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Contracts: 3 kept, 0 broken." in out.stdout


def test_no_import_cycle_between_any_modules() -> None:
    # stricter than acyclic_siblings: a package and its own modules count too, and every
    # import (in a function or under TYPE_CHECKING as well) is an edge
    graph = grimp.build_graph("blamelex", cache_dir=None)
    cycles = _cycles(graph, "blamelex")
    assert set(cycles) <= KNOWN_CYCLES, [sorted(c) for c in cycles if c not in KNOWN_CYCLES]


def test_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for a, b in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d"), ("p", "p.d")]:
        graph.add_import(importer=a, imported=b)
    assert _cycles(graph, "p") == [frozenset({"p.a", "p.b", "p.c"})]


def test_a_scan_never_imports_training_code_or_torch() -> None:
    # spaCy's thinc imports torch itself where it is installed (the train extra): then only
    # blamelex's own imports are checked
    code = (
        "import sys, spacy\n"
        "by_spacy = 'torch' in sys.modules\n"
        "import blamelex\n"
        "d = blamelex.load()\n"
        "d.scan('YP was putting herself at risk. She is streetwise.')\n"
        "names = ['transformers', 'blamelex.model.train', 'blamelex.model.calibrate']\n"
        "names += [] if by_spacy else ['torch']\n"
        "print(sorted(m for m in names if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.strip() == "[]"
