"""The real-text development table (../shared/realtext/dev.jsonl): lexicon only, model only,
default (lexicon + model + context) and, with --proposals, the model's own spans added.

    python scripts/real_dev.py [--set PATH] [--model DIR] [--proposals P] [--agreed]
                               [--categories] [--ece] [--json OUT]

Prints, per voice (all, own, reported), passage recall / precision / F1 of blaming against
neutral passages, the neutral and meta flag rates and phrase recall, for each system;
``--categories`` adds phrase recall per gold category, ``--ece`` the expected calibration
error of the default system's candidate scores on the real text (every candidate, kept or
dropped, scored; a candidate is right when it overlaps a gold span of a blaming passage). The
set is real text: it is read, never copied; only figures and item ids leave this script.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import blamelex  # noqa: E402
from blamelex.evaluate import (  # noqa: E402
    REAL_DEV,
    format_real_table,
    predict_model_only,
    read_real,
    real_text_metrics,
)


def gold_spans(item: dict) -> list[tuple[int, int, str, str]]:  # type: ignore[type-arg]
    out = []
    for s in item.get("spans", []):
        start = item["text"].find(s["text"])
        if start >= 0:
            out.append((start, start + len(s["text"]), s["category"], s.get("voice", "own")))
    return out


def expected_calibration_error(scores: list[float], right: list[int], bins: int = 10) -> float:
    """ECE over equal-width score bins."""
    groups: dict[int, list[int]] = defaultdict(list)
    for k, s in enumerate(scores):
        groups[min(int(s * bins), bins - 1)].append(k)
    n = len(scores)
    return sum(len(ks) / n * abs(sum(scores[k] for k in ks) / len(ks)
                                 - sum(right[k] for k in ks) / len(ks))
               for ks in groups.values()) if n else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", default=str(ROOT / REAL_DEV))
    ap.add_argument("--model", default="default", help="model folder (default: the bundled one)")
    ap.add_argument("--proposals", type=float, default=None,
                    help="also a system with the model's own spans from this probability")
    ap.add_argument("--agreed", action="store_true", help="only items both annotators agreed on")
    ap.add_argument("--categories", action="store_true", help="phrase recall per category")
    ap.add_argument("--ece", action="store_true", help="calibration error of the default system")
    ap.add_argument("--json", help="write predictions (ids, offsets, codes) here")
    args = ap.parse_args()
    items = read_real(args.set)
    if args.agreed:
        items = [it for it in items if it.get("agreed", True)]
    texts = [it["text"] for it in items]
    systems = {"lexicon only": blamelex.load(model=None),
               "default (lexicon + model + context)": blamelex.load(model=args.model)}
    if args.proposals is not None:
        systems[f"default + model proposals p>={args.proposals}"] = blamelex.load(
            model=args.model, proposal_min_prob=args.proposals)
    preds: dict[str, list[list[tuple[int, int]]]] = {}
    found: dict[str, list[list]] = {}  # type: ignore[type-arg]
    for name, det in systems.items():
        found[name] = [det.scan(t) for t in texts]
        preds[name] = [[(f.start, f.end) for f in fs] for fs in found[name]]
    preds["model only (its own spans, p>=0.5)"] = [
        [(a, b) for a, b, _ in spans] for spans in predict_model_only(args.model, texts)]
    for voice in (None, "own", "reported"):
        rows = [(name, real_text_metrics(items, p, voice)) for name, p in preds.items()]
        print(f"\n{voice or 'all'} voices ({len(items)} items)\n")
        print(format_real_table(rows))
    if args.categories:
        print("\nphrase recall by gold category (spans found / gold spans)\n")
        names = list(preds)
        print("| category | gold | " + " | ".join(names) + " |")
        print("| --- | --- | " + " | ".join("---" for _ in names) + " |")
        cats: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        for k, it in enumerate(items):
            if it["kind"] == "blaming":
                for a, b, cat, _ in gold_spans(it):
                    cats[cat].append((k, a, b))
        for cat in sorted(cats):
            cells = []
            for name in names:
                hit = sum(any(x < b and a < y for x, y in preds[name][k]) for k, a, b in cats[cat])
                cells.append(f"{hit / len(cats[cat]):.2f}")
            print(f"| {cat} | {len(cats[cat])} | " + " | ".join(cells) + " |")
    if args.ece:
        det = blamelex.load(model=args.model, keep_suppressed=True)
        comp = det.nlp.get_pipe("blamelex")
        scores, right = [], []
        for it, doc in zip(items, det.nlp.pipe(texts), strict=True):
            gold = [(a, b) for a, b, _, _ in gold_spans(it)] if it["kind"] == "blaming" else []
            for f in [*doc._.blamelex, *comp.suppressed(doc)]:
                if f.suppressed:
                    continue  # a context rule dropped it: no score to calibrate
                scores.append(float(f.score))
                right.append(int(any(a < f.end and f.start < b for a, b in gold)))
        print(f"\nECE of the default system's candidate scores on real dev: "
              f"{expected_calibration_error(scores, right):.3f} over {len(scores)} candidates "
              f"(10 bins; {sum(right)} right)")
    if args.json:
        out = {name: {it["id"]: [[f.start, f.end, f.code, f.origin, f.voice, f.score]
                                 for f in fs] for it, fs in zip(items, p, strict=True)}
               for name, p in found.items()}
        Path(args.json).write_text(json.dumps(out), encoding="utf-8")


if __name__ == "__main__":
    main()
