"""Fit the calibrator (on dev) and the sentence screener (on train) for a trained model folder.

    python -m blamelex.model.calibrate models/blamelex-span-v2

Writes ``calibration.json`` (logistic regression over candidate features, with and without the
context modifiers; expected calibration error and a reliability table measured on test) and
``screener.json`` (hashed word n-grams, linear; its threshold chosen on dev), then rewrites the
manifest. Everything is JSON; nothing is pickled.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from blamelex.corpus import read_split
from blamelex.model.fusion import (
    FEATURES_FULL,
    FEATURES_NO_CONTEXT,
    Calibrator,
    candidate_features,
)
from blamelex.model.runtime import write_manifest

SCREENER_FEATURES = 2**18
SCREENER_NGRAMS = (1, 2)
MAX_SCREENER_MISS = 0.005  # share of positive dev sentences the screener may skip


def collect(folder: Path, items: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray,
                                                                       np.ndarray]:
    """Candidate features (full, no-context) and labels for the items, screener off."""
    import spacy

    from blamelex.component import BlamelexComponent

    nlp = spacy.blank("en")
    pipeline = BlamelexComponent(nlp, model=str(folder), screener=False).pipeline
    prior = pipeline.scorer.prior
    full, noctx, labels = [], [], []
    docs = list(nlp.pipe([i["text"] for i in items], batch_size=64))
    # the pipeline's stages up to scoring: the calibrator is fitted on what scoring sees
    for start in range(0, len(docs), 64):
        work = pipeline.prepare(docs[start : start + 64])
        pipeline.propose(work)
        pipeline.contextualise(work)
        for cands, item in zip(work.candidates, items[start : start + 64], strict=True):
            gold = [(s["start"], s["end"], s["category"]) for s in item["spans"]]
            for c in cands:
                mods = [m.name for m in c.modifiers]
                p = prior(c.entry) if c.origin == "lexicon" else 0.0
                full.append(candidate_features(c.origin, p, c.entry.severity,
                                               c.model_prob or 0.0, mods, FEATURES_FULL))
                noctx.append(candidate_features(c.origin, p, c.entry.severity,
                                                c.model_prob or 0.0, [], FEATURES_NO_CONTEXT))
                # a candidate is right when it overlaps a gold span; the category is a separate
                # question (a lexicon entry's category is fixed by the entry)
                hit = any(c.span.start_char < e and s < c.span.end_char for s, e, _ in gold)
                labels.append(int(hit))
    return np.array(full), np.array(noctx), np.array(labels)


def fit(x: np.ndarray, y: np.ndarray, names: Sequence[str]) -> Calibrator:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1.0, max_iter=2000)
    lr.fit(x, y)
    return Calibrator(tuple(names), lr.coef_[0].astype(np.float64), float(lr.intercept_[0]))


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> tuple[float, list[dict[str, Any]]]:
    """Expected calibration error and the per-bin table."""
    edges = np.linspace(0, 1, bins + 1)
    table, ece = [], 0.0
    for k in range(bins):
        lo, hi = edges[k], edges[k + 1]
        mask = (p >= lo) & ((p < hi) if k < bins - 1 else (p <= hi))
        if not mask.any():
            continue
        conf, acc = float(p[mask].mean()), float(y[mask].mean())
        ece += mask.mean() * abs(conf - acc)
        table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": int(mask.sum()),
                      "mean_score": round(conf, 3), "positive_rate": round(acc, 3)})
    return round(float(ece), 4), table


def fit_screener(folder: Path, data: str | None) -> dict[str, Any]:
    """Train the screener on train sentences; pick the threshold on dev."""
    import spacy
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression

    from blamelex.lexicon import load_lexicon
    from blamelex.matching import LexiconMatcher
    from blamelex.model.train import sentences_of

    vec = HashingVectorizer(n_features=SCREENER_FEATURES, ngram_range=SCREENER_NGRAMS,
                            alternate_sign=False, norm="l2", lowercase=True,
                            token_pattern=r"(?u)\b\w+\b")

    def pieces(split: str) -> tuple[list[str], np.ndarray]:
        ps = [p for item in read_split(split, data) for p in sentences_of(item)]
        return [p["text"] for p in ps], np.array([int(bool(p["spans"])) for p in ps])

    train_x, train_y = pieces("train")
    lr = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced")
    lr.fit(vec.transform(train_x), train_y)
    dev_x, dev_y = pieces("dev")
    nlp = spacy.blank("en")
    matcher = LexiconMatcher(nlp.vocab, load_lexicon())
    has_cand = np.array([bool(matcher(d)) for d in nlp.pipe(dev_x)])
    scores = lr.decision_function(vec.transform(dev_x))
    pos = dev_y == 1
    # the highest threshold that skips at most MAX_SCREENER_MISS of positive dev sentences
    needed = np.sort(scores[pos & ~has_cand])
    allowed = int(MAX_SCREENER_MISS * pos.sum())
    threshold = float(needed[allowed]) - 1e-6 if len(needed) > allowed else float(scores.min())
    keep = (scores >= threshold) | has_cand
    coef = lr.coef_[0]
    nz = np.flatnonzero(np.abs(coef) > 1e-6)
    return {
        "n_features": SCREENER_FEATURES, "ngram_range": list(SCREENER_NGRAMS),
        "threshold": threshold, "intercept": float(lr.intercept_[0]),
        "indices": nz.tolist(), "values": [round(float(v), 5) for v in coef[nz]],
        "dev": {"sentences": int(len(dev_x)), "sent_to_model": round(float(keep.mean()), 4),
                "positive_recall_kept": round(float(keep[pos].mean()), 4)},
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = list(argv if argv is not None else sys.argv[1:])
    if not args:
        raise SystemExit("usage: python -m blamelex.model.calibrate MODEL_DIR [DATA_DIR]")
    folder = Path(args[0])
    data = args[1] if len(args) > 1 else None
    # a provisional calibration file lets the component load the model to collect features
    (folder / "calibration.json").unlink(missing_ok=True)
    write_manifest(folder, ["model.onnx", "tokenizer.json", "labels.json", "config.json"])
    dev = read_split("dev", data)
    x_full, x_noctx, y = collect(folder, dev)
    full = fit(x_full, y, FEATURES_FULL)
    noctx = fit(x_noctx, y, FEATURES_NO_CONTEXT)
    test = read_split("test", data)
    t_full, _, t_y = collect(folder, test)
    p_test = np.array([full.probability(r) for r in t_full])
    ece, table = reliability(p_test, t_y)
    calibration = {
        "calibrators": {"full": full.to_dict(), "no_context": noctx.to_dict()},
        "fitted_on": f"dev ({len(y)} candidates, {int(y.sum())} positive)",
        "test_ece": ece, "test_reliability": table,
        "test_candidates": int(len(t_y)),
    }
    (folder / "calibration.json").write_text(json.dumps(calibration, indent=2) + "\n", "utf-8")
    screener = fit_screener(folder, data)
    (folder / "screener.json").write_text(json.dumps(screener) + "\n", "utf-8")
    names = ["model.onnx", "tokenizer.json", "labels.json", "config.json", "calibration.json",
             "screener.json"]
    write_manifest(folder, names)
    print(json.dumps({"test_ece": ece, "reliability": table, "screener_dev": screener["dev"],
                      "coef_full": dict(zip(FEATURES_FULL, full.coef.round(3).tolist(),
                                            strict=True))}, indent=2))


if __name__ == "__main__":
    main()
