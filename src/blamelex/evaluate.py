"""Metrics on the annotated corpus: sentence P/R/F1, span exact and overlap P/R/F1 per category,
accuracy per challenge capability, hard-negative flag rate, and, when the gold spans carry a
voice (corpus v2), the same figures per voice (`voice_metrics`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Span = tuple[int, int, str]
"""A span: start, end, category."""
VoicedSpan = tuple[int, int, str, str]
"""A predicted span with the finding's voice (``own`` / ``reported``)."""
VOICES = ("own", "reported")


@dataclass
class PRF:
    """Counts and precision / recall / F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "tp": self.tp, "fp": self.fp, "fn": self.fn}


def _overlaps(a: tuple[int, int, Any] | tuple[int, int, Any, Any],
              b: tuple[int, int, Any] | tuple[int, int, Any, Any]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _plain(pred: Sequence[Span | VoicedSpan]) -> list[Span]:
    return [(s[0], s[1], s[2]) for s in pred]


def evaluate(
    items: Sequence[dict[str, Any]], predictions: Sequence[Sequence[Span | VoicedSpan]]
) -> dict[str, Any]:
    """Compare predicted spans with the gold spans of each item.

    A predicted span may carry the finding's voice as a fourth element (`predict_spans` does);
    when any gold span carries a ``voice``, the result has ``by_voice`` and ``voice_accuracy``
    (`voice_metrics`).
    """
    voiced = voice_metrics(items, predictions)
    predictions = [_plain(p) for p in predictions]
    sentence = PRF()
    exact: dict[str, PRF] = defaultdict(PRF)
    overlap: dict[str, PRF] = defaultdict(PRF)
    capability: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    hard = [0, 0]
    neg_types: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item, pred in zip(items, predictions, strict=True):
        gold: list[Span] = [(s["start"], s["end"], s["category"]) for s in item["spans"]]
        g, p = bool(gold), bool(pred)
        sentence.tp += g and p
        sentence.fp += p and not g
        sentence.fn += g and not p
        if item.get("capability"):
            c = capability[item["capability"]]
            c[0] += int(g == p)
            c[1] += 1
        if item.get("type") == "hard_negative":
            hard[0] += int(p)
            hard[1] += 1
            nt = neg_types[item.get("neg_type") or "?"]
            nt[0] += int(p)
            nt[1] += 1
        for key in ("all", *{s[2] for s in gold + list(pred)}):
            gk = [s for s in gold if key in ("all", s[2])]
            pk = [s for s in pred if key in ("all", s[2])]
            e = exact[key]
            e_tp = sum(1 for s in pk if any(s == t for t in gk))
            e.tp += e_tp
            e.fp += len(pk) - e_tp
            e.fn += len(gk) - sum(1 for t in gk if any(s == t for s in pk))
            o = overlap[key]
            o.tp += sum(1 for s in pk if any(_overlaps(s, t) and s[2] == t[2] for t in gk))
            o.fp += sum(1 for s in pk if not any(_overlaps(s, t) and s[2] == t[2] for t in gk))
            o.fn += sum(1 for t in gk if not any(_overlaps(s, t) and s[2] == t[2] for s in pk))
    result: dict[str, Any] = {
        "items": len(items),
        "sentence": sentence.as_dict(),
        "span_exact": {k: v.as_dict() for k, v in sorted(exact.items())},
        "span_overlap": {k: v.as_dict() for k, v in sorted(overlap.items())},
    }
    if hard[1]:
        result["hard_negatives_flagged"] = round(hard[0] / hard[1], 4)
        result["hard_negatives_flagged_by_type"] = {
            k: round(v[0] / v[1], 4) for k, v in sorted(neg_types.items())}
    if capability:
        result["challenge_accuracy"] = {
            k: round(v[0] / v[1], 4) for k, v in sorted(capability.items())}
    if voiced is not None:
        result.update(voiced)
    return result


def _ratio(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def voice_metrics(
    items: Sequence[dict[str, Any]], predictions: Sequence[Sequence[Span | VoicedSpan]]
) -> dict[str, Any] | None:
    """Sentence and span figures per gold voice, or ``None`` when no gold span has a voice.

    For each voice ``v`` (``own``, ``reported``):

    - recall, on the items (sentence) or gold spans (span, overlap with the same category) of
      voice ``v``, two ways: ``detected`` (found at all, whatever voice the finding has) and
      ``voice_correct`` (found by a finding in voice ``v``);
    - precision, on the findings in voice ``v`` (a prediction without a voice counts as
      ``own``, as `blamelex.findings.Finding` does): ``detected`` (the item is positive / the
      span overlaps a gold span of its category, whatever its voice) and ``voice_correct``
      (the gold is of voice ``v`` too).

    ``voice_accuracy``: of the gold spans a finding overlaps with the same category, the share
    whose finding has the gold voice.
    """
    if not any("voice" in s for it in items for s in it.get("spans", ())):
        return None
    counts = {v: dict.fromkeys(
        ("items", "items_detected", "items_voice_correct", "flagged_items",
         "flagged_items_positive", "flagged_items_voice_correct", "spans", "spans_detected",
         "spans_voice_correct", "predicted", "predicted_detected", "predicted_voice_correct"), 0)
        for v in VOICES}
    matched = agreed = 0
    for item, pred in zip(items, predictions, strict=True):
        gold = [(s["start"], s["end"], s["category"], str(s.get("voice", "own")))
                for s in item["spans"]]
        guess = [(s[0], s[1], s[2], str(s[3]) if len(s) > 3 else "own") for s in pred]
        for v, c in counts.items():
            gv = [g for g in gold if g[3] == v]
            pv = [p for p in guess if p[3] == v]
            if gv:
                c["items"] += 1
                c["items_detected"] += bool(guess)
                c["items_voice_correct"] += bool(pv)
            if pv:
                c["flagged_items"] += 1
                c["flagged_items_positive"] += bool(gold)
                c["flagged_items_voice_correct"] += bool(gv)
            for g in gv:
                hits = [p for p in guess if _overlaps(p, g) and p[2] == g[2]]
                c["spans"] += 1
                c["spans_detected"] += bool(hits)
                c["spans_voice_correct"] += any(p[3] == v for p in hits)
            for p in pv:
                hits = [g for g in gold if _overlaps(p, g) and p[2] == g[2]]
                c["predicted"] += 1
                c["predicted_detected"] += bool(hits)
                c["predicted_voice_correct"] += any(g[3] == v for g in hits)
        for g in gold:
            hits = [p for p in guess if _overlaps(p, g) and p[2] == g[2]]
            if hits:
                matched += 1
                agreed += any(p[3] == g[3] for p in hits)
    by_voice: dict[str, Any] = {}
    for v, c in counts.items():
        by_voice[v] = {
            "items": c["items"], "gold_spans": c["spans"], "predicted_spans": c["predicted"],
            "sentence": {
                "recall_detected": _ratio(c["items_detected"], c["items"]),
                "recall_voice_correct": _ratio(c["items_voice_correct"], c["items"]),
                "precision_detected": _ratio(c["flagged_items_positive"], c["flagged_items"]),
                "precision_voice_correct": _ratio(c["flagged_items_voice_correct"],
                                                  c["flagged_items"]),
            },
            "span_overlap": {
                "recall_detected": _ratio(c["spans_detected"], c["spans"]),
                "recall_voice_correct": _ratio(c["spans_voice_correct"], c["spans"]),
                "precision_detected": _ratio(c["predicted_detected"], c["predicted"]),
                "precision_voice_correct": _ratio(c["predicted_voice_correct"], c["predicted"]),
            },
        }
    return {"by_voice": by_voice, "voice_accuracy": _ratio(agreed, matched),
            "voice_matched_spans": matched}


def predict_spans(detector: Any, texts: Iterable[str],
                  batch_size: int = 64) -> list[list[VoicedSpan]]:
    """Run a detector and return (start, end, category, voice) per finding, per text."""
    return [[(f.start, f.end, f.category, f.voice) for f in findings]
            for findings in detector.scan_many(texts, batch_size=batch_size)]


def format_table(result: dict[str, Any], title: str = "") -> str:
    """A plain-text table of the main metrics."""
    lines = [title] if title else []
    s = result["sentence"]
    lines.append(f"items {result['items']}   sentence P {s['precision']:.3f} R {s['recall']:.3f} "
                 f"F1 {s['f1']:.3f}")
    if "hard_negatives_flagged" in result:
        lines.append(f"hard negatives flagged: {result['hard_negatives_flagged']:.1%}")
    lines.append(f"{'category':26s} {'exact P':>8s} {'R':>6s} {'F1':>6s}   "
                 f"{'overlap P':>9s} {'R':>6s} {'F1':>6s}")
    for cat in result["span_overlap"]:
        e, o = result["span_exact"][cat], result["span_overlap"][cat]
        lines.append(f"{cat:26s} {e['precision']:8.3f} {e['recall']:6.3f} {e['f1']:6.3f}   "
                     f"{o['precision']:9.3f} {o['recall']:6.3f} {o['f1']:6.3f}")
    if "by_voice" in result:
        lines.append(f"per voice (recall: detected = found in any voice, voice-correct = found "
                     f"in the gold voice; precision of the findings in that voice; voice "
                     f"accuracy on matched spans {result['voice_accuracy']:.3f})")
        lines.append(f"{'voice':10s} {'items':>5s} {'spans':>5s} {'pred':>5s}   "
                     f"{'sentence R det':>14s} {'R voice':>7s} {'P det':>6s} {'P voice':>7s}   "
                     f"{'span R det':>10s} {'R voice':>7s} {'P det':>6s} {'P voice':>7s}")
        for voice, v in result["by_voice"].items():
            s, o = v["sentence"], v["span_overlap"]
            lines.append(
                f"{voice:10s} {v['items']:5d} {v['gold_spans']:5d} {v['predicted_spans']:5d}   "
                f"{s['recall_detected']:14.3f} {s['recall_voice_correct']:7.3f} "
                f"{s['precision_detected']:6.3f} {s['precision_voice_correct']:7.3f}   "
                f"{o['recall_detected']:10.3f} {o['recall_voice_correct']:7.3f} "
                f"{o['precision_detected']:6.3f} {o['precision_voice_correct']:7.3f}")
    if "challenge_accuracy" in result:
        lines.append("challenge accuracy by capability:")
        for cap, acc in result["challenge_accuracy"].items():
            lines.append(f"  {cap:30s} {acc:.3f}")
    return "\n".join(lines)


def predict_model_only(model: str, texts: Sequence[str]) -> list[list[Span]]:
    """The transformer's own decoded spans (no lexicon, no context rules, no calibration)."""
    import spacy

    from blamelex.model import resolve_model
    from blamelex.model.runtime import SpanModel
    from blamelex.sentences import sentence_bounds

    folder = resolve_model(model)
    if folder is None:
        raise ValueError("the model system needs a model folder")
    span_model = SpanModel(folder)
    nlp = spacy.blank("en")
    out: list[list[Span]] = []
    for doc in nlp.pipe(texts, batch_size=64):
        sents = [(doc[s].idx, doc[s:e].text) for s, e in sentence_bounds(doc) if e > s]
        spans: list[Span] = []
        for (base, _), tp in zip(sents, span_model.predict([t for _, t in sents]), strict=True):
            spans += [(base + a, base + b, cat) for a, b, cat, _ in span_model.spans(tp)]
        out.append(spans)
    return out


REAL_DEV = "../shared/realtext/dev.jsonl"
"""The real-text development set, relative to the project root (never copied into the repo)."""


def read_real(path: str) -> list[dict[str, Any]]:
    """The items of a real-text set (JSON lines; see ../shared/realtext/README.md)."""
    import json

    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def item_voice(item: dict[str, Any]) -> str | None:
    """``own`` if any gold span of a blaming item is in the record's own voice, else
    ``reported`` (``None`` for items that are not blaming)."""
    if item.get("kind") != "blaming":
        return None
    voices = {s.get("voice", "own") for s in item.get("spans", [])}
    return "own" if "own" in voices or not voices else "reported"


def real_text_metrics(
    items: Sequence[dict[str, Any]],
    predicted: Sequence[Sequence[tuple[int, int]] | Sequence[tuple[int, int, str]]],
    voice: str | None = None,
) -> dict[str, float]:
    """The real-text table for one system: passage-level recall, precision and F1 of blaming
    against neutral passages, the share of neutral and meta passages flagged, and phrase
    recall (gold spans overlapped by a finding). ``voice`` keeps only blaming items of that
    voice (``own`` / ``reported``) on the positive side; neutral and meta items always count.

    When the predicted spans carry the finding's voice (``(start, end, voice)``) and ``voice``
    is given, ``phrase_recall_voice`` counts only gold spans found by a finding in that voice
    (phrase recall itself is voice-agnostic: found at all).
    """
    flagged = [bool(p) for p in predicted]
    pos = [k for k, it in enumerate(items) if it["kind"] == "blaming"
           and (voice is None or item_voice(it) == voice)]
    neg = [k for k, it in enumerate(items) if it["kind"] == "neutral"]
    meta = [k for k, it in enumerate(items) if it["kind"] == "meta"]
    tp = sum(flagged[k] for k in pos)
    fp = sum(flagged[k] for k in neg)
    recall = tp / len(pos) if pos else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    gold = found = found_voice = 0
    voiced = voice is not None and any(len(s) > 2 for p in predicted for s in p)
    for k in pos:
        for s in items[k]["spans"]:
            if voice is not None and s.get("voice", "own") != voice:
                continue
            text = items[k]["text"]
            start = text.find(s["text"])
            if start < 0:
                continue
            end = start + len(s["text"])
            gold += 1
            hits = [p for p in predicted[k] if p[0] < end and start < p[1]]
            found += bool(hits)
            found_voice += any(len(p) > 2 and p[2] == voice for p in hits)
    extra = {"phrase_recall_voice": round(found_voice / gold, 3) if gold else 0.0} \
        if voiced else {}
    return {
        "passages": len(pos), "recall": round(recall, 3), "precision": round(precision, 3),
        "f1": round(f1, 3), "neutral_flagged": round(fp / len(neg), 3) if neg else 0.0,
        "phrase_recall": round(found / gold, 3) if gold else 0.0,
        "meta_flagged": round(sum(flagged[k] for k in meta) / len(meta), 3) if meta else 0.0,
        **extra,
    }


def format_real_table(rows: Sequence[tuple[str, dict[str, float]]], first: str = "system") -> str:
    """A markdown table of `real_text_metrics` results, one row per system (or voice); a
    voice-correct phrase recall column when any row has one (``-`` where a row has none)."""
    voiced = any("phrase_recall_voice" in m for _, m in rows)
    head = (f"| {first} | passages | recall | precision | F1 | neutral flagged | phrase recall "
            + ("| phrase recall, voice-correct " if voiced else "")
            + "| meta flagged |\n| --- | --- | --- | --- | --- | --- | --- |"
            + (" --- |" if voiced else "") + " --- |\n")

    def voice_cell(m: dict[str, float]) -> str:
        if not voiced:
            return ""
        return f" {m['phrase_recall_voice']:.3f} |" if "phrase_recall_voice" in m else " - |"

    body = "".join(
        f"| {name} | {m['passages']} | {m['recall']:.3f} | {m['precision']:.3f} | {m['f1']:.3f} "
        f"| {m['neutral_flagged']:.1%} | {m['phrase_recall']:.3f} |{voice_cell(m)} "
        f"{m['meta_flagged']:.1%} |\n"
        for name, m in rows)
    return head + body


RISK_TYPES = ("RG101", "RG102", "RG103", "RG104")


def read_risk_set(name: str, root: str | None = None) -> list[dict[str, Any]]:
    """The items of the risk-grading evaluation set: ``name`` is a split of
    ``data/risk/splits.yaml`` (train, dev, test, all) or a JSON Lines file of the same format
    (``data/risk/README.md``)."""
    import json
    from pathlib import Path

    import yaml

    path = Path(name)
    if path.suffix == ".jsonl":
        files = [path]
    else:
        base = Path(root) if root else Path(__file__).resolve().parents[2] / "data" / "risk"
        splits = yaml.safe_load((base / "splits.yaml").read_text(encoding="utf-8"))["splits"]
        if name != "all" and name not in splits:
            raise ValueError(f"unknown risk split {name!r} (known: {', '.join(splits)}, all)")
        batches = [b for v in splits.values() for b in v] if name == "all" else splits[name]
        files = [base / "batches" / f"{b}.jsonl" for b in batches]
    items = []
    for file in files:
        with open(file, encoding="utf-8") as fh:
            items += [json.loads(line) for line in fh if line.strip()]
    return items


def evaluate_risk(
    items: Sequence[dict[str, Any]], predictions: Sequence[Sequence[Span]]
) -> dict[str, Any]:
    """Precision, recall and F1 per finding type (a predicted finding is right when a gold one
    of the same type overlaps it), and the share of plain notes (no gold finding) with any RG
    finding. ``predictions`` are (start, end, code) per item."""
    per: dict[str, PRF] = {t: PRF() for t in RISK_TYPES}
    plain = flagged = 0
    for item, pred in zip(items, predictions, strict=True):
        gold = [(g["start"], g["end"], g["type"]) for g in item["findings"]]
        pred = [p for p in pred if p[2] in per]
        if not gold:
            plain += 1
            flagged += bool(pred)
        for t, prf in per.items():
            gk = [g for g in gold if g[2] == t]
            pk = [p for p in pred if p[2] == t]
            prf.tp += sum(1 for p in pk if any(_overlaps(p, g) for g in gk))
            prf.fp += sum(1 for p in pk if not any(_overlaps(p, g) for g in gk))
            prf.fn += sum(1 for g in gk if not any(_overlaps(p, g) for p in pk))
    return {"items": len(items), "plain_notes": plain, "plain_flagged": flagged,
            "plain_flag_rate": round(flagged / plain, 4) if plain else 0.0,
            "types": {t: prf.as_dict() for t, prf in per.items()}}


def predict_risk(detector: Any, texts: Iterable[str]) -> list[list[Span]]:
    """The RG findings of each text as (start, end, code)."""
    return [[(f.start, f.end, f.code) for f in found if f.category == "risk_grading"]
            for found in detector.scan_many(texts)]


def format_risk_table(result: dict[str, Any], title: str = "") -> str:
    """A plain-text table of `evaluate_risk`."""
    lines = [title] if title else []
    lines.append(f"notes {result['items']}   plain notes flagged {result['plain_flagged']} of "
                 f"{result['plain_notes']} ({result['plain_flag_rate']:.1%})")
    lines.append(f"{'type':6s} {'P':>6s} {'R':>6s} {'F1':>6s} {'tp':>4s} {'fp':>4s} {'fn':>4s}")
    for t, m in result["types"].items():
        lines.append(f"{t:6s} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} "
                     f"{m['tp']:4d} {m['fp']:4d} {m['fn']:4d}")
    return "\n".join(lines)
