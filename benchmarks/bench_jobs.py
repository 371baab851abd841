"""Wall time of ``blamelex scan`` on a CSV export with ``--jobs 1`` and ``--jobs 2``, in one run.

    python benchmarks/bench_jobs.py [--records 20000] [--jobs 2] [--keep FILE.csv]

Builds a CSV export of fictional records (case id, team, a note of 1-4 sentences taken from
data/corpus/*.jsonl), then runs, as a user would,

    blamelex scan export.csv --text-column notes --id-column case_id --keep-column team \\
        --no-model --format jsonl -o /dev/null --jobs N

for N = 1 and N = --jobs (best of --repeat runs each), and prints both times and the ratio.
Target (issue 5): ratio >= 1.7 on 2 cores. Check that the CPU is otherwise idle first
(``top -b -n1 | head -15``): a busy core makes the ratio meaningless.

The times include start-up (importing spaCy, loading the lexicon), which one process does
before any worker starts; the script also times a one-record export to show that fixed part and
the speed-up of the scanning itself.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEAMS = ["North MASH", "South CSE team", "Missing persons unit", "East safeguarding hub"]


def corpus_sentences() -> list[str]:
    """Every text in data/corpus/*.jsonl (fictional sentences and notes)."""
    texts: list[str] = []
    for path in sorted((ROOT / "data" / "corpus").glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    texts.append(json.loads(line)["text"])
    if not texts:
        sys.exit("bench_jobs: no texts in data/corpus/*.jsonl; run from a source checkout")
    return texts


def write_export(path: Path, records: int, seed: int = 5) -> None:
    """A CSV export: case_id, team, recorded_at, notes (multi-line notes included)."""
    rng = random.Random(seed)
    texts = corpus_sentences()
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["case_id", "team", "recorded_at", "notes"])
        for i in range(records):
            parts = rng.sample(texts, rng.randint(1, 4))
            sep = "\n" if rng.random() < 0.3 else " "
            writer.writerow([f"C-{i + 1:06d}", rng.choice(TEAMS),
                             f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                             sep.join(parts)])


# thinc imports torch at start-up whenever it is installed (the train extra brings it); a
# runtime-only install (pip install .) has no torch. This runs the CLI as it starts there.
_WITHOUT_TORCH = ("import sys; sys.modules['torch'] = None; from blamelex.cli import main; "
                  "sys.exit(main())")


def run_scan(export: Path, jobs: int, runtime_only: bool = False) -> float:
    """Seconds for one ``blamelex scan`` process (start-up and model-free loading included)."""
    start_cli = ["-c", _WITHOUT_TORCH] if runtime_only else ["-m", "blamelex.cli"]
    cmd = [sys.executable, *start_cli, "scan", str(export),
           "--text-column", "notes", "--id-column", "case_id", "--keep-column", "team",
           "--no-model", "--format", "jsonl", "-o", os.devnull, "--quiet", "--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"bench_jobs: scan failed (exit {proc.returncode}):\n{proc.stderr}")
    return elapsed


def main() -> None:
    """Generate the export, time both runs, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--jobs", type=int, default=2, help="the parallel run's --jobs (default 2)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the best counts")
    ap.add_argument("--keep", metavar="FILE", help="also keep the generated export here")
    ap.add_argument("--runtime-only", action="store_true",
                    help="hide torch from the scans, as in a runtime-only install (torch "
                         "adds about 1.5 s to every start-up where the train extra is installed)")
    args = ap.parse_args()
    ro = args.runtime_only
    print(f"cpus: {os.cpu_count()}  load average: {os.getloadavg()}"
          + ("  (torch hidden: runtime-only start-up)" if ro else ""))
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(args.keep) if args.keep else Path(tmp) / "export.csv"
        write_export(export, args.records)
        size = export.stat().st_size / 1e6
        print(f"export: {args.records:,} records, {size:.1f} MB")
        t1 = min(run_scan(export, 1, ro) for _ in range(args.repeat))
        print(f"--jobs 1: {t1:6.2f} s  ({args.records / t1:,.0f} records/s)", flush=True)
        tn = min(run_scan(export, args.jobs, ro) for _ in range(args.repeat))
        print(f"--jobs {args.jobs}: {tn:6.2f} s  ({args.records / tn:,.0f} records/s)")
        print(f"speed-up: {t1 / tn:.2f}x (target >= 1.7x on 2 cores)")
        tiny = Path(tmp) / "one.csv"
        write_export(tiny, 1)
        s1, sn = run_scan(tiny, 1, ro), run_scan(tiny, args.jobs, ro)
        print(f"start-up (a one-record export): {s1:.2f} s / {sn:.2f} s; scanning alone: "
              f"{(t1 - s1) / (tn - sn):.2f}x")


if __name__ == "__main__":
    main()
