"""Every figure of the model card in one run: systems x splits, ablation, int8 vs fp32.

    python scripts/evaluate_all.py [MODEL_DIR] [--fp32 MODEL_DIR/model.fp32.onnx]

Writes MODEL_DIR/eval.json and prints Markdown tables. Dev is used only for selection and
calibration; test and challenge figures are held-out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import blamelex  # noqa: E402
from blamelex.corpus import read_split  # noqa: E402
from blamelex.evaluate import evaluate, predict_model_only, predict_spans  # noqa: E402
from blamelex.model import default_model_dir  # noqa: E402
from blamelex.model.runtime import SpanModel, write_manifest  # noqa: E402

PROPOSALS = 0.5
SYSTEMS = {
    "lexicon only": dict(model=None),
    "lexicon without context rules": dict(model=None, context=False),
    "model only": None,
    "combined": dict(model="MODEL"),
    "combined with model proposals": dict(model="MODEL", proposal_min_prob=PROPOSALS),
    "combined with proposals, without context rules": dict(model="MODEL", context=False,
                                                           proposal_min_prob=PROPOSALS),
    "combined with proposals, screener on": dict(model="MODEL", screener=True,
                                                 proposal_min_prob=PROPOSALS),
}
"""``combined`` is the default pipeline: the model scores lexicon candidates and proposes
nothing (its proposals are off: chosen on real text, docs/ARCHITECTURE.md). The systems "with
model proposals" switch them on at the model's decoding threshold, to measure the model itself."""


def run_system(name: str, folder: Path, texts: list[str]) -> list[list[tuple[int, int, str]]]:
    cfg = SYSTEMS[name]
    if cfg is None:
        return predict_model_only(str(folder), texts)
    kwargs: dict[str, Any] = {"screener": False, **cfg}
    if kwargs.get("model") == "MODEL":
        kwargs["model"] = str(folder)
    return predict_spans(blamelex.load(**kwargs), texts)


def fp32_folder(folder: Path, fp32: Path, tmp: Path) -> Path:
    out = tmp / "fp32"
    shutil.copytree(folder, out)
    shutil.copyfile(fp32, out / "model.onnx")
    names = json.loads((folder / "manifest.json").read_text())["files"]
    write_manifest(out, list(names))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default=str(default_model_dir()))
    ap.add_argument("--fp32", default=None, help="fp32 ONNX file to compare with (optional)")
    args = ap.parse_args()
    folder = Path(args.model)
    splits = {s: read_split(s) for s in ("dev", "test", "challenge")}
    results: dict[str, Any] = {"systems": {}}
    cache: dict[tuple[str, str], list[list[tuple[int, int, str]]]] = {}
    for name in SYSTEMS:
        results["systems"][name] = {}
        for split, items in splits.items():
            preds = run_system(name, folder, [i["text"] for i in items])
            cache[(name, split)] = preds
            res = evaluate(items, preds)
            results["systems"][name][split] = res
            o, s = res["span_overlap"]["all"], res["sentence"]
            print(f"{name:32s} {split:9s} sentence F1 {s['f1']:.3f} (P {s['precision']:.3f} "
                  f"R {s['recall']:.3f})  span-overlap F1 {o['f1']:.3f}  hard-neg flagged "
                  f"{res.get('hard_negatives_flagged', 0):.3f}", flush=True)
    fp32 = Path(args.fp32) if args.fp32 else folder / "model.fp32.onnx"
    if fp32.exists():
        with tempfile.TemporaryDirectory() as tmp:
            f32 = fp32_folder(folder, fp32, Path(tmp))
            texts = [i["text"] for i in splits["test"]]
            q, f = SpanModel(folder), SpanModel(f32)
            tq, tf = q.predict(texts), f.predict(texts)
            agree = np.concatenate([a.probs.argmax(1) == b.probs.argmax(1)
                                    for a, b in zip(tq, tf, strict=True)])
            p32 = predict_spans(blamelex.load(model=str(f32), screener=False,
                                              proposal_min_prob=PROPOSALS), texts)
            res32 = evaluate(splits["test"], p32)
            p8 = cache[("combined with model proposals", "test")]
            sent_agree = float(np.mean([bool(a) == bool(b) for a, b in zip(p8, p32,
                                                                         strict=True)]))
            res8 = results["systems"]["combined with model proposals"]["test"]
            results["int8_vs_fp32"] = {
                "token_label_agreement_test": round(float(agree.mean()), 4),
                "sentence_label_agreement_test": round(sent_agree, 4),
                "fp32_combined_test_span_overlap_f1": res32["span_overlap"]["all"]["f1"],
                "int8_combined_test_span_overlap_f1": res8["span_overlap"]["all"]["f1"],
                "fp32_combined_test_sentence_f1": res32["sentence"]["f1"],
                "int8_combined_test_sentence_f1": res8["sentence"]["f1"],
                "fp32_bytes": fp32.stat().st_size,
                "int8_bytes": (folder / "model.onnx").stat().st_size,
            }
            print(json.dumps(results["int8_vs_fp32"], indent=2))
    (folder / "eval.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
