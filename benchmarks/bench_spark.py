"""Spark throughput: notes/s for `with_findings` on a local Spark, lexicon-only.

Usage:  python benchmarks/bench_spark.py [--notes 10000] [--master local[2]] [--partitions 4]
                                          [--max-records-per-batch 1000] [--markdown]

The notes are fictional: 3 to 8 sentences drawn at random from the annotated corpus
(data/corpus/*.jsonl), so roughly as many concerning phrases as the corpus holds. Each run
scans every note with ``model=None`` and writes to Spark's ``noop`` sink, which forces the UDF
to run on every row without storing anything.

Three figures, all from this one run:
  cold   first Spark job: starts the Python workers and loads one detector in each;
  warm   the same job again: workers and their cached detectors are reused (steady state);
  1 proc `Detector.scan_many` in this process, for scale (no Spark).
The Spark session start-up (JVM) is reported but not counted in either Spark figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def corpus_sentences() -> list[str]:
    """The corpus's sentence items (fictional), from every split present."""
    sentences = []
    for path in sorted((ROOT / "data" / "corpus").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            item = json.loads(line)
            if item.get("kind") == "sentence":
                sentences.append(item["text"])
    if not sentences:
        sys.exit("no sentences found in data/corpus/*.jsonl: run this from a source checkout")
    return sentences


def make_notes(n: int, seed: int = 0) -> list[str]:
    """``n`` notes of 3 to 8 corpus sentences each."""
    rng = random.Random(seed)
    sentences = corpus_sentences()
    return [" ".join(rng.sample(sentences, rng.randint(3, 8))) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--notes", type=int, default=10_000)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--max-records-per-batch", type=int, default=1000,
                    help="spark.sql.execution.arrow.maxRecordsPerBatch")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown summary")
    args = ap.parse_args()

    # Executors' Python workers must use this interpreter, where blamelex is installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    import pyspark
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    import blamelex
    from blamelex.integrations.spark import with_findings

    notes = make_notes(args.notes)
    n_words = sum(len(note.split()) for note in notes)

    t0 = time.perf_counter()
    spark = (
        SparkSession.builder.master(args.master)
        .appName("blamelex-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(args.partitions))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(args.max_records_per_batch))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    startup = time.perf_counter() - t0

    df = spark.createDataFrame(list(enumerate(notes)), "id long, note string")
    df = df.repartition(args.partitions).cache()
    df.count()  # materialise the input so that the timings cover scanning only
    scanned = with_findings(df, "note", model=None)

    def run() -> float:
        start = time.perf_counter()
        scanned.write.format("noop").mode("overwrite").save()
        return time.perf_counter() - start

    cold = run()
    warm = run()
    n_findings = scanned.select(F.sum(F.size("blamelex"))).first()[0]
    spark.stop()

    detector = blamelex.load(model=None)
    start = time.perf_counter()
    n_local = sum(len(found) for found in detector.scan_many(notes, batch_size=64))
    one_proc = time.perf_counter() - start
    if n_local != n_findings:
        sys.exit(f"Spark found {n_findings} findings but Detector.scan_many {n_local}")

    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"Python {platform.python_version()}, pyspark {pyspark.__version__}")
    rows = [
        (f"Spark {args.master}, cold (worker start + detector load)", cold),
        (f"Spark {args.master}, warm (workers and detectors reused)", warm),
        ("Detector.scan_many, 1 process, no Spark", one_proc),
    ]
    if args.markdown:
        print(f"Measured {time.strftime('%Y-%m-%d')} on {machine}; {len(notes):,} notes, "
              f"{n_words:,} words, {n_findings:,} findings; {args.partitions} partitions, "
              f"maxRecordsPerBatch {args.max_records_per_batch}; Spark start-up "
              f"{startup:.1f} s (not counted).\n")
        print("| run | seconds | notes/s |\n|---|---:|---:|")
        for name, seconds in rows:
            print(f"| {name} | {seconds:.1f} | {len(notes) / seconds:,.0f} |")
    else:
        print(f"{machine}\n{len(notes)} notes, {n_words} words, {n_findings} findings, "
              f"Spark start-up {startup:.1f} s")
        for name, seconds in rows:
            print(f"{name:60s} {seconds:7.1f} s {len(notes) / seconds:9,.0f} notes/s")


if __name__ == "__main__":
    main()
