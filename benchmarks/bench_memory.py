"""Resident memory of a runtime-only install while scanning a long stream of sentences.

    python benchmarks/bench_memory.py [--sentences 1000000] [--every 100000]

Run it in a virtual environment with only `pip install .` (no torch, no transformers): the
script checks that neither is importable, loads the default detector (model + screener), then
streams test-split sentences (cycled, as notes of 8 sentences) through `scan_many` and prints
VmRSS after loading and at each checkpoint. Target: <= 250 MiB and flat.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import time


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=1_000_000)
    ap.add_argument("--every", type=int, default=100_000)
    ap.add_argument("--data", default=None, help="corpus folder (default: the checkout's)")
    args = ap.parse_args()
    torch_present = importlib.util.find_spec("torch") is not None
    tf_present = importlib.util.find_spec("transformers") is not None
    print(f"torch importable: {torch_present}; transformers importable: {tf_present}")

    import blamelex
    from blamelex.corpus import read_split
    from blamelex.model.train import sentences_of  # pure-Python helper, no torch

    sents = [p["text"] for i in read_split("test", args.data) for p in sentences_of(i)]
    base = rss_mib()
    detector = blamelex.load(model="default")
    print(f"RSS before load {base:.0f} MiB; after load {rss_mib():.0f} MiB")
    cycle = itertools.cycle(sents)
    notes = (" ".join(itertools.islice(cycle, 8)) for _ in itertools.count())
    done, start, peak = 0, time.time(), 0.0
    for _ in detector.scan_many(notes, batch_size=64):
        done += 8
        if done % args.every < 8:
            now = rss_mib()
            peak = max(peak, now)
            print(f"{done:>9,} sentences  RSS {now:6.0f} MiB  {done / (time.time() - start):,.0f}"
                  " sentences/s", flush=True)
        if done >= args.sentences:
            break
    print(f"peak RSS {peak:.0f} MiB over {done:,} sentences")


if __name__ == "__main__":
    main()
