"""Model benchmarks, each a ratio measured in one run on this machine.

    python benchmarks/bench_model.py [--sentences 4000] [--markdown]

1. Full pipeline with the model's own proposals on (spaCy + lexicon + context + int8 model on
   every sentence + calibration, screener off) sentences/s vs the bare int8 ONNX forward pass on
   the same sentences, one sentence per run and one run per core at once, as the pipeline runs
   them (the batched forward pass is shown for reference). Target >= 90 %. The default pipeline
   (proposals off) runs the model only on sentences holding a lexicon candidate; its rate is
   shown beside.
2. Screener: on realistic notes where <= 10 % of sentences are concerning, combined pipeline
   with the screener vs the model on every sentence. Target >= 3x. (Recall loss is measured with
   `blamelex eval test` with and without --no-screener; see docs/benchmarks.md.)
3. Cold start: `blamelex scan` on a one-line file vs `python -c "import spacy, onnxruntime"`.

Memory (RSS flat over 1 M sentences, runtime-only install) is measured by bench_memory.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_sentences(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """(all test-split sentences sampled to n, realistic notes with ~10 % concerning sentences)."""
    from blamelex.corpus import read_split
    from blamelex.model.train import sentences_of

    rng = random.Random(seed)
    pieces = [p for i in read_split("test") for p in sentences_of(i)]
    sents = [p["text"] for p in pieces]
    rng.shuffle(sents)
    sample = (sents * (n // len(sents) + 1))[:n]
    pos = [p["text"] for p in pieces if p["spans"]]
    neg = [p["text"] for p in pieces if not p["spans"]]
    notes = []
    n_pos = 0
    total = 0
    while total < n:
        note = []
        for _ in range(8):
            if n_pos < 0.1 * (total + 1) and rng.random() < 0.5:
                note.append(rng.choice(pos))
                n_pos += 1
            else:
                note.append(rng.choice(neg))
            total += 1
        notes.append(" ".join(s if s.rstrip().endswith((".", "!", "?")) else s + "." for s in note))
    return sample, notes


def rate(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=4000)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--repeat", type=int, default=3,
                    help="time each system N times (alternating), keep the best of each")
    args = ap.parse_args()

    import blamelex
    from blamelex.model import default_model_dir
    from blamelex.model.runtime import SpanModel

    sents, notes = test_sentences(args.sentences)
    bare = SpanModel(default_model_dir())
    full = blamelex.load(model="default", screener=False, proposal_min_prob=0.5)
    default = blamelex.load(model="default")
    screened = blamelex.load(model="default", screener=True, proposal_min_prob=0.5)
    for d in (full, default, screened):
        list(d.scan_many(sents[:64]))
    bare.predict(sents[:64])

    # the model runs one sentence per ONNX run (int8 activations are quantized per run, so
    # batching would make a sentence's result depend on its neighbours); the batched rate is
    # shown for reference
    # each pair of systems alternates, --repeat timed runs each, the best of each counts (other
    # processes slow a run down, never speed it up)
    r_bare = r_full = r_batched = r_every = r_screen = r_default = 0.0
    comp = screened.component.model
    for _ in range(args.repeat):
        r_bare = max(r_bare, rate(lambda: bare.predict(sents), len(sents)))
        r_full = max(r_full, rate(lambda: list(full.scan_many(sents, batch_size=128)),
                                  len(sents)))
        r_default = max(r_default, rate(lambda: list(default.scan_many(sents, batch_size=128)),
                                        len(sents)))
        r_batched = max(r_batched, rate(lambda: bare.predict(sents, batch_size=128), len(sents)))
        r_every = max(r_every, rate(lambda: list(full.scan_many(notes, batch_size=32)),
                                    len(notes)))
        comp.stats.update(sentences=0, to_model=0)
        r_screen = max(r_screen, rate(lambda: list(screened.scan_many(notes, batch_size=32)),
                                      len(notes)))
    n_note_sents = 8 * len(notes)
    sent_share = comp.stats["to_model"] / max(1, comp.stats["sentences"])

    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp, "one.txt")
        one.write_text("YP was putting herself at risk.\n", encoding="utf-8")
        exe = Path(sys.executable).with_name("blamelex")
        t0 = time.perf_counter()
        subprocess.run([str(exe), "scan", str(one), "--quiet"], capture_output=True)
        cold_scan = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import spacy, onnxruntime"], capture_output=True)
        cold_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([str(exe), "scan", str(one), "--quiet", "--no-model"], capture_output=True)
        cold_lex = time.perf_counter() - t0

    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python "
               f"{platform.python_version()}")
    rows = [
        (f"bare int8 ONNX forward pass, one sentence per run, {bare.threads} runs at once "
         "(sentences/s)", f"{r_bare:,.0f}", ""),
        ("bare int8 forward pass, sorted batches of up to 128 (reference; sentences/s)",
         f"{r_batched:,.0f}", f"one sentence per run = {r_bare / r_batched:.1%} of this"),
        ("full pipeline, model proposals on, screener off (sentences/s)", f"{r_full:,.0f}",
         f"{r_full / r_bare:.1%} of bare (target >= 90 %)"),
        ("default pipeline: model reads only sentences with a lexicon candidate (sentences/s)",
         f"{r_default:,.0f}", f"{r_default / r_bare:.1%} of bare"),
        ("notes/s, proposals on, model on every sentence", f"{r_every:,.1f}", ""),
        ("notes/s, with screener", f"{r_screen:,.1f}",
         f"{r_screen / r_every:.2f}x (target >= 3x); {sent_share:.1%} of sentences "
         "sent to the model"),
        ("cold start: blamelex scan one-line file (s)", f"{cold_scan:.2f}", ""),
        ("cold start: blamelex scan --no-model (s)", f"{cold_lex:.2f}", ""),
        ('python -c "import spacy, onnxruntime" (s)', f"{cold_import:.2f}",
         f"scan = {cold_scan / cold_import:.1f}x the bare imports"),
    ]
    print(f"Measured {time.strftime('%Y-%m-%d')} on {machine}; {len(sents)} test sentences; "
          f"{len(notes)} notes of 8 sentences (~10 % concerning, {n_note_sents} sentences).\n")
    print("| measure | value | ratio |\n|---|---:|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")


if __name__ == "__main__":
    main()
