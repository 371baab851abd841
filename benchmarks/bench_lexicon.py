"""Lexicon-only throughput, measured in one run against the bare spaCy tokenizer (and alex).

Usage:  python benchmarks/bench_lexicon.py [--words 1000000] [--markdown]

The text is ~1M words of case-note-like text: the bundled example notes and, when present, the
corpus notes in data/corpus/, repeated and shuffled into documents of one note each. Each system
processes the same documents; the figure is words per second (words = whitespace tokens).
The target (issue "Core") is blamelex lexicon-only >= 25 % of the bare tokenizer's rate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import spacy

import blamelex

ROOT = Path(__file__).resolve().parents[1]


def corpus_notes() -> list[str]:
    notes = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples/notes").glob("*.txt"))]
    for split in ("train", "dev", "test"):
        path = ROOT / "data" / "corpus" / f"{split}.jsonl"
        if path.exists():
            for line in path.open(encoding="utf-8"):
                item = json.loads(line)
                if item.get("kind") == "note":
                    notes.append(item["text"])
    return notes


def make_docs(n_words: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    base = corpus_notes()
    docs, words = [], 0
    while words < n_words:
        note = rng.choice(base)
        docs.append(note)
        words += len(note.split())
    return docs


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--words", type=int, default=1_000_000)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--repeat", type=int, default=5,
                    help="time each system N times (alternating), keep the best of each")
    args = ap.parse_args()
    docs = make_docs(args.words)
    n_words = sum(len(d.split()) for d in docs)

    tok = spacy.blank("en")
    detector = blamelex.load(model=None)  # lexicon + context rules only
    # warm up both (vocab, caches)
    for d in docs[:200]:
        tok.make_doc(d)
        detector.scan(d)

    n_findings = 0

    def run_tokenizer() -> None:
        for _ in tok.tokenizer.pipe(docs, batch_size=256):
            pass

    def run_blamelex() -> None:
        nonlocal n_findings
        n_findings = 0
        for doc in detector.nlp.pipe(docs, batch_size=256):
            n_findings += len(doc._.blamelex)  # builds every Finding, as a caller would

    # the two systems alternate, each timed --repeat times, and the best time of each counts:
    # other processes slow a run down, never speed it up, and alternating spreads any drift
    best = {"spaCy blank tokenizer": float("inf"), "blamelex lexicon-only scan": float("inf")}
    for _ in range(args.repeat):
        best["spaCy blank tokenizer"] = min(best["spaCy blank tokenizer"], timed(run_tokenizer))
        best["blamelex lexicon-only scan"] = min(best["blamelex lexicon-only scan"],
                                                 timed(run_blamelex))
    results = {name: n_words / t for name, t in best.items()}

    alex = shutil.which("alex")
    if alex:
        with tempfile.TemporaryDirectory() as tmp:
            for i, d in enumerate(docs):
                Path(tmp, f"{i:06d}.txt").write_text(d, encoding="utf-8")
            t = timed(lambda: subprocess.run([alex, "--quiet", tmp], capture_output=True))
            results["alex (npm, whole-folder run, includes Node start-up)"] = n_words / t

    ratio = results["blamelex lexicon-only scan"] / results["spaCy blank tokenizer"]
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, " \
              f"Python {platform.python_version()}, spaCy {spacy.__version__}"
    if args.markdown:
        print(f"Measured {time.strftime('%Y-%m-%d')} on {machine}; {n_words:,} words in "
              f"{len(docs):,} notes; {len(detector.component.lexicon)} lexicon entries; "
              f"{n_findings:,} findings; best of {args.repeat} alternating runs each.\n")
        print("| system | words/s | vs tokenizer |\n|---|---:|---:|")
        base = results["spaCy blank tokenizer"]
        for name, rate in results.items():
            print(f"| {name} | {rate:,.0f} | {rate / base:.1%} |")
        print(f"\nblamelex lexicon-only / bare tokenizer = {ratio:.1%} (target >= 25 %)")
    else:
        for name, rate in results.items():
            print(f"{name:55s} {rate:12,.0f} words/s")
        print(f"ratio blamelex/tokenizer: {ratio:.3f}  ({n_words} words, {n_findings} findings)")


if __name__ == "__main__":
    main()
