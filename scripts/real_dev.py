"""The real-text development table (../shared/realtext/dev.jsonl) for lexicon-only and default.

    python scripts/real_dev.py [--set PATH] [--agreed] [--json OUT]

Prints, per voice (all, own, reported), passage recall / precision / F1 of blaming against
neutral passages, the neutral and meta flag rates and phrase recall, for each system. The set is
real text: it is read, never copied; only figures and item ids leave this script.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import blamelex  # noqa: E402
from blamelex.evaluate import (  # noqa: E402
    REAL_DEV,
    format_real_table,
    read_real,
    real_text_metrics,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", default=str(ROOT / REAL_DEV))
    ap.add_argument("--agreed", action="store_true", help="only items both annotators agreed on")
    ap.add_argument("--json", help="write predictions (ids, offsets, codes) here")
    args = ap.parse_args()
    items = read_real(args.set)
    if args.agreed:
        items = [it for it in items if it.get("agreed", True)]
    systems = {"lexicon-only": blamelex.load(model=None), "default": blamelex.load()}
    preds = {}
    for name, det in systems.items():
        preds[name] = [det.scan(it["text"]) for it in items]
    for voice in (None, "own", "reported"):
        rows = [(name, real_text_metrics(items, [[(f.start, f.end) for f in fs] for fs in p],
                                         voice)) for name, p in preds.items()]
        print(f"\n{voice or 'all'} voices ({len(items)} items)\n")
        print(format_real_table(rows))
    if args.json:
        out = {name: {it["id"]: [[f.start, f.end, f.code, f.origin, f.score] for f in fs]
                      for it, fs in zip(items, p, strict=True)} for name, p in preds.items()}
        Path(args.json).write_text(json.dumps(out), encoding="utf-8")


if __name__ == "__main__":
    main()
