"""How the span model's ONNX runs use the cores: one sentence per run, three ways.

    python benchmarks/bench_model_threads.py [--sentences 3000]

1. one run at a time on ONNX Runtime's default intra-op threads (one per core; blamelex's
   setting before 2026-11-30),
2. one run at a time on one thread,
3. ``SpanModel``'s default now: as many runs at once as there are cores, one thread each.

Each timed three times, alternating, best of each (sentences/s). Outputs of all three are the
same (tests/test_model.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=3000)
    args = ap.parse_args()

    import onnxruntime as ort
    from bench_model import test_sentences

    from blamelex.model import default_model_dir
    from blamelex.model.runtime import SpanModel

    sents, _ = test_sentences(args.sentences)
    folder = default_model_dir()
    before = SpanModel(folder, threads=1)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    before.session = ort.InferenceSession(str(folder / "model.onnx"), options,
                                          providers=["CPUExecutionProvider"])
    now = SpanModel(folder)
    systems = {
        "one run at a time, ONNX Runtime's default intra-op threads (before)": before,
        "one run at a time, one thread": SpanModel(folder, threads=1),
        f"{now.threads} runs at once, one thread each (now)": now,
    }
    for model in systems.values():
        model.predict(sents[:50])
    best: dict[str, float] = {}
    for _ in range(3):
        for name, model in systems.items():
            start = time.perf_counter()
            model.predict(sents)
            best[name] = max(best.get(name, 0.0), len(sents) / (time.perf_counter() - start))
    print(f"{len(sents)} test sentences, one per run\n")
    print("| forward pass | sentences/s |\n|---|---:|")
    for name, r in best.items():
        print(f"| {name} | {r:,.0f} |")


if __name__ == "__main__":
    main()
