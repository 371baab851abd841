"""Cold start of the ``blamelex`` command, measured against ``python -c "import spacy,
onnxruntime"`` in the same run.

Usage:  python benchmarks/bench_startup.py [--rounds 10] [--markdown] [--cold-cache]

Every figure is the wall time of a fresh process running what the ``blamelex`` console script
runs (``from blamelex.cli import entry; entry()``), on a one-line file. The commands take turns,
round after round, and the best (and median) of each counts: other processes slow a run down, never
speed it up. One untimed round first fills the blamelex cache (a temporary folder, unless
--cache-dir names one), the disk cache and Python's bytecode cache; the child processes run
with bytecode caching on, as in any installed package, even where the environment sets
PYTHONDONTWRITEBYTECODE. --cold-cache gives every scan run an empty blamelex cache (the first
run after installing or after editing a lexicon file).

Targets (issue 13, "Speed"): ``blamelex scan`` on a one-line file within 0.3 s of the bare
imports (judged against both baselines: the bare imports as they are, and the bare imports
exiting the way ``blamelex`` does, with the garbage collector frozen); ``blamelex --version``
and ``--help`` under 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAIN = "from blamelex.cli import entry; entry()"  # what the console script runs
FAIR = 'python -c "import spacy, onnxruntime" + gc.freeze() at exit'
"""The bare imports exiting as ``blamelex`` does (`blamelex.cli.entry` freezes the garbage
collector before exit, which skips the interpreter's collection passes at shutdown): against
this baseline the gap is blamelex's own start-up and work, not a difference in teardown."""


def _run(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=False)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: findings
        raise SystemExit(f"{argv} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=10, help="timed rounds (best of N counts)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--cold-cache", action="store_true",
                    help="an empty blamelex cache for every scan run")
    ap.add_argument("--cache-dir", default=None,
                    help="the blamelex cache to use (default: a temporary folder)")
    args = ap.parse_args()

    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="blamelex-bench-"))
    note = tmp / "one-line.txt"
    note.write_text("YP was putting herself at risk by getting into cars.\n", encoding="utf-8")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("BLAMELEX_NO_CACHE", None)
    env["BLAMELEX_CACHE_DIR"] = args.cache_dir or str(tmp / "cache")
    no_cache = dict(env, BLAMELEX_NO_CACHE="1")

    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        'python -c "pass"': ([py, "-c", "pass"], env),
        'python -c "import spacy, onnxruntime"': ([py, "-c", "import spacy, onnxruntime"], env),
        FAIR: ([py, "-c", "import gc, spacy, onnxruntime; gc.freeze()"], env),
        "blamelex scan one-line.txt": ([py, "-c", MAIN, "scan", "-q", str(note)], env),
        "blamelex scan --no-model one-line.txt": (
            [py, "-c", MAIN, "scan", "-q", "--no-model", str(note)], env),
        "blamelex scan one-line.txt, BLAMELEX_NO_CACHE=1": (
            [py, "-c", MAIN, "scan", "-q", str(note)], no_cache),
        "blamelex --version": ([py, "-c", MAIN, "--version"], env),
        "blamelex --help": ([py, "-c", MAIN, "--help"], env),
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    try:
        for argv, run_env in commands.values():  # untimed: caches, bytecode written
            _run(argv, run_env)
        for i in range(args.rounds):
            for name, (argv, run_env) in commands.items():
                if args.cold_cache and "scan" in name:
                    cold = tmp / f"cold-{i}-{len(name)}"
                    run_env = dict(run_env, BLAMELEX_CACHE_DIR=str(cold))
                times[name].append(_run(argv, run_env))
                if args.cold_cache and "scan" in name:
                    shutil.rmtree(cold, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    best = {name: min(t) for name, t in times.items()}
    imports = best['python -c "import spacy, onnxruntime"']
    fair = best[FAIR]
    machine = (f"{platform.machine()}, {os.cpu_count()} CPUs, load average "
               f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end, "
               f"Python {platform.python_version()}")
    try:
        import onnxruntime
        import spacy

        machine += f", spaCy {spacy.__version__}, ONNX Runtime {onnxruntime.__version__}"
    except ImportError:  # pragma: no cover
        pass
    cache_note = "an empty blamelex cache for every scan" if args.cold_cache else \
        "blamelex cache filled by the untimed round"
    targets = {
        "blamelex scan one-line.txt": (
            "within 0.3 s of both baselines",
            best["blamelex scan one-line.txt"] - min(imports, fair) <= 0.3),
        "blamelex --version": ("under 0.3 s", best["blamelex --version"] < 0.3),
        "blamelex --help": ("under 0.3 s", best["blamelex --help"] < 0.3),
    }
    if args.markdown:
        print(f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {machine}; best and median of "
              f"{args.rounds} alternating rounds; {cache_note}.\n")
        print("| command | best | median | best − imports | best − imports (same exit) "
              "| target |")
        print("|---|---:|---:|---:|---:|---|")
        for name, t in times.items():
            target = targets.get(name)
            verdict = f"{target[0]}: {'met' if target[1] else 'NOT met'}" if target else ""
            print(f"| `{name}` | {best[name]:.3f} s | {statistics.median(t):.3f} s | "
                  f"{best[name] - imports:+.3f} s | {best[name] - fair:+.3f} s | {verdict} |")
    else:
        print(machine)
        for name, t in times.items():
            target = targets.get(name)
            verdict = f"  [{target[0]}: {'met' if target[1] else 'NOT met'}]" if target else ""
            print(f"{name:50s} best {best[name]:.3f} s  median {statistics.median(t):.3f} s  "
                  f"vs imports {best[name] - imports:+.3f} s, same exit "
                  f"{best[name] - fair:+.3f} s{verdict}")


if __name__ == "__main__":
    main()
