"""Dev-split error analysis of a span model: where span-overlap F1 is lost.

    python scripts/dev_error_analysis.py MODEL_DIR [--split dev]

Counts, for model-only and combined, predicted spans that are right, right place but wrong
category, or spurious; gold spans found, found with the wrong category, or missed; the category
confusions; fragmented gold spans; and model-only F1 under alternative decodings.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import blamelex  # noqa: E402
from blamelex.corpus import read_split  # noqa: E402
from blamelex.evaluate import evaluate  # noqa: E402
from blamelex.model.decode import DECODINGS  # noqa: E402


def ov(a, b):
    return a[0] < b[1] and b[0] < a[1]


def breakdown(items, preds, origins=None):
    c = Counter()
    conf = Counter()
    by_origin = Counter()
    for k, (item, pred) in enumerate(zip(items, preds, strict=True)):
        gold = [(s["start"], s["end"], s["category"]) for s in item["spans"]]
        for j, p in enumerate(pred):
            o = origins[k][j] if origins else "model"
            if any(ov(p, g) and p[2] == g[2] for g in gold):
                c["pred_right"] += 1
                by_origin[(o, "right")] += 1
            elif any(ov(p, g) for g in gold):
                c["pred_wrong_category"] += 1
                by_origin[(o, "wrong_category")] += 1
                g = next(g for g in gold if ov(p, g))
                conf[(g[2], p[2])] += 1
            else:
                c["pred_spurious"] += 1
                by_origin[(o, "spurious")] += 1
                c["pred_spurious_in_" + (item.get("type") or "?")] += 1
        for g in gold:
            hits = [p for p in pred if ov(p, g)]
            if any(p[2] == g[2] for p in hits):
                c["gold_found"] += 1
            elif hits:
                c["gold_wrong_category"] += 1
            else:
                c["gold_missed"] += 1
            if len(hits) > 1:
                c["gold_fragmented"] += 1
    # category-agnostic overlap F1
    tpa = c["pred_right"] + c["pred_wrong_category"]
    p_a = tpa / max(1, tpa + c["pred_spurious"])
    r_a = (c["gold_found"] + c["gold_wrong_category"]) / max(
        1, c["gold_found"] + c["gold_wrong_category"] + c["gold_missed"])
    return {"counts": dict(c), "category_agnostic_f1": round(2 * p_a * r_a / (p_a + r_a), 4),
            "confusions_gold_to_pred": {f"{a} -> {b}": n for (a, b), n in conf.most_common(15)},
            "by_origin": {f"{a}/{b}": n for (a, b), n in sorted(by_origin.items())}}


def decode_all(model, tps, bases, how):
    from blamelex.model.decode import decode_spans

    out = []
    for tplist, baselist in zip(tps, bases, strict=True):
        spans = []
        for tp, base in zip(tplist, baselist, strict=True):
            spans += [(base + a, base + b, cat) for a, b, cat, _ in
                      decode_spans(tp.probs, tp.offsets, model.labels, how=how)]
        out.append(spans)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--split", default="dev")
    args = ap.parse_args()
    import spacy

    from blamelex.model.runtime import SpanModel
    from blamelex.sentences import sentence_bounds

    items = read_split(args.split)
    texts = [i["text"] for i in items]
    report = {}
    model = SpanModel(args.model)
    nlp = spacy.blank("en")
    tps, bases = [], []
    for doc in nlp.pipe(texts, batch_size=64):
        sents = [(doc[s].idx, doc[s:e].text) for s, e in sentence_bounds(doc) if e > s]
        tps.append(model.predict([t for _, t in sents]))
        bases.append([b for b, _ in sents])
    for how in DECODINGS:
        preds = decode_all(model, tps, bases, how)
        res = evaluate(items, preds)
        report[f"model only ({how})"] = {
            "span_overlap_f1": res["span_overlap"]["all"]["f1"],
            "sentence_f1": res["sentence"]["f1"],
            "hard_neg": res.get("hard_negatives_flagged"), **breakdown(items, preds)}
    det = blamelex.load(model=args.model, screener=False)
    preds, origins = [], []
    for findings in det.scan_many(texts, batch_size=64):
        preds.append([(f.start, f.end, f.category) for f in findings])
        origins.append([f.origin for f in findings])
    res = evaluate(items, preds)
    report["combined"] = {"span_overlap_f1": res["span_overlap"]["all"]["f1"],
                          "sentence_f1": res["sentence"]["f1"],
                          "hard_neg": res.get("hard_negatives_flagged"),
                          "per_category": {k: v["f1"] for k, v in res["span_overlap"].items()},
                          **breakdown(items, preds, origins)}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
