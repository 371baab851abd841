"""Very large inputs through `blamelex scan`: one 1 GB text file, and a folder of 100,000 files.

Usage:  python benchmarks/bench_large.py [--size-mb 1024] [--files 100000] [--workdir DIR]
                                         [--model] [--skip-file] [--skip-folder]

Each case runs the real command line (`blamelex scan ... --format jsonl -o FILE`) as a child
process and reports wall time, the child's peak resident memory (VmHWM), the exit code,
the summary line and the number of findings written. The inputs are built from the bundled
example notes and the corpus notes (fictional), repeated; they are deleted afterwards unless
``--keep``. Lexicon-only (``--no-model``) unless ``--model`` is given: with the model a 1 GB file
takes many hours on 2 cores.

Issue "Hardening" asks: the 1 GB file streamed with RSS <= 300 MiB; the 100 k-file folder scanned,
every readable file finished, a summary line.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lexicon import corpus_notes  # noqa: E402


def run_scan(args: list[str], out: Path) -> dict[str, object]:
    """Run `blamelex scan`; peak RSS from the child's /proc high-water mark, read every 0.2 s."""
    exe = shutil.which("blamelex") or "blamelex"
    start = time.perf_counter()
    proc = subprocess.Popen([exe, "scan", *args, "--format", "jsonl", "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_kib = 0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kib = max(peak_kib, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.2)
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    summary = [line for line in err.splitlines() if line.strip()][-1:] or [""]
    if not out.exists():
        raise SystemExit(f"blamelex scan wrote no output (exit {proc.returncode}):\n{err[-2000:]}")
    with out.open(encoding="utf-8") as fh:
        findings = sum(1 for _ in fh)
    return {"wall_s": round(wall, 1), "peak_rss_mib": round(peak_kib / 1024, 1),
            "exit_code": proc.returncode, "summary": summary[0], "findings": findings}


def build_file(path: Path, size: int, notes: list[str], rng: random.Random) -> int:
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        while written < size:
            block = "\n\n".join(rng.choice(notes) for _ in range(200)) + "\n\n"
            fh.write(block)
            written += len(block.encode("utf-8"))
    return written


def build_folder(folder: Path, n_files: int, notes: list[str], rng: random.Random) -> None:
    for i in range(n_files):
        sub = folder / f"{i // 1000:03d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"note_{i:06d}.txt").write_text(rng.choice(notes), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--workdir", type=Path, default=None, help="where to build the inputs")
    ap.add_argument("--model", action="store_true", help="scan with the bundled model")
    ap.add_argument("--skip-file", action="store_true")
    ap.add_argument("--skip-folder", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the generated inputs")
    args = ap.parse_args()

    rng = random.Random(0)
    notes = corpus_notes()
    work = Path(tempfile.mkdtemp(prefix="blamelex-large-", dir=args.workdir))
    model = [] if args.model else ["--no-model"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; inputs in {work}", flush=True)
    try:
        if not args.skip_file:
            big = work / "big.txt"
            size = build_file(big, args.size_mb * 1024 * 1024, notes, rng)
            print(f"file: {size / 2**20:,.0f} MiB, {size:,} bytes", flush=True)
            result = run_scan([*model, str(big)], work / "big.jsonl")
            print(f"file result: {result}", flush=True)
            big.unlink()
        if not args.skip_folder:
            folder = work / "folder"
            build_folder(folder, args.files, notes, rng)
            print(f"folder: {args.files:,} files", flush=True)
            result = run_scan([*model, str(folder)], work / "folder.jsonl")
            print(f"folder result: {result}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
