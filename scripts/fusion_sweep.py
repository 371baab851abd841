"""The fusion-policy table of docs/ARCHITECTURE.md: every candidate of the real-text dev set and
of the lexicon's own examples, scored once, then re-decided under each policy.

    python scripts/fusion_sweep.py [--set ../shared/realtext/dev.jsonl] [--model MODEL_DIR]

Prints a Markdown table: must-flag examples missed, must-not-flag examples flagged, and the
real-dev passage figures (all voices; own-voice F1). The real text is read, never copied.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import spacy  # noqa: E402

import blamelex.model as model_stage  # noqa: E402
from blamelex.component import BlamelexComponent  # noqa: E402
from blamelex.evaluate import REAL_DEV, read_real, real_text_metrics  # noqa: E402
from blamelex.lexicon import load_lexicon  # noqa: E402
from blamelex.model.fusion import candidate_features  # noqa: E402

LOWEST_PROPOSAL = 0.2
THRESHOLD = 0.5


@dataclass
class Cand:
    start: int
    end: int
    origin: str
    severity: str
    touched: bool
    dropped: bool
    rule: float
    prob: float
    calibrated: float
    evidence: bool


def collect(texts: list[str], model: str) -> list[list[Cand]]:
    """Every candidate of every text, proposals down to `LOWEST_PROPOSAL`, with the evidence
    check recorded rather than applied."""
    evidence: dict[tuple[int, int, int], bool] = {}
    check = model_stage.has_evidence

    def record(span: Any, start: int, end: int) -> bool:
        evidence[(id(span.doc), span.start_char, span.end_char)] = check(span, start, end)
        return True

    model_stage.has_evidence = record  # type: ignore[assignment]
    try:
        nlp = spacy.blank("en")
        comp = BlamelexComponent(nlp, model=model, proposal_min_prob=LOWEST_PROPOSAL)
        pipe, scorer = comp.pipeline, comp.pipeline.scorer
        assert scorer.calibrator is not None
        out: list[list[Cand]] = []
        docs = [nlp.make_doc(t) for t in texts]
        for i in range(0, len(docs), 64):
            chunk = docs[i:i + 64]
            work = pipe.prepare(chunk)
            pipe.propose(work)
            pipe.contextualise(work)
            for doc, cands in zip(chunk, work.candidates, strict=True):
                row = []
                for c in cands:
                    prior = scorer.prior(c.entry) if c.origin == "lexicon" else 0.0
                    cal = scorer.calibrator.probability(candidate_features(
                        c.origin, prior, c.entry.severity, c.model_prob or 0.0,
                        [m.name for m in c.modifiers], scorer.calibrator.features))
                    row.append(Cand(
                        c.span.start_char, c.span.end_char, c.origin, c.entry.severity,
                        bool(c.modifiers), any(m.effect == "drop" for m in c.modifiers),
                        scorer.rule(c)[0], c.model_prob or 0.0, cal,
                        evidence.get((id(doc), c.span.start_char, c.span.end_char), True)))
                out.append(row)
        return out
    finally:
        model_stage.has_evidence = check  # type: ignore[assignment]


def keep(c: Cand, veto: float, proposals: float | None, evidence: bool, model: bool) -> bool:
    """The decision of `blamelex.scoring.Scorer` under one policy."""
    if c.dropped:
        return False
    if not model:
        return c.origin == "lexicon" and c.rule >= THRESHOLD
    if c.origin != "lexicon":
        if proposals is None or (evidence and not c.evidence) or c.prob < proposals:
            return False
        return c.calibrated >= THRESHOLD
    if c.touched:
        return c.rule >= THRESHOLD
    if c.severity == "caution" and c.prob < veto:
        return min(c.rule, c.calibrated) >= THRESHOLD
    return max(c.rule, c.calibrated) >= THRESHOLD


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", default=str(ROOT / REAL_DEV))
    ap.add_argument("--model", default="default")
    args = ap.parse_args()
    lexicon = load_lexicon()
    flag = collect([x for e in lexicon for x in e.examples_flag], args.model)
    ok = collect([x for e in lexicon for x in e.examples_ok], args.model)
    items = read_real(args.set)
    dev = collect([it["text"] for it in items], args.model)
    policies: list[tuple[str, dict[str, Any]]] = [
        ("lexicon only", dict(veto=0, proposals=None, evidence=True, model=False)),
        ("model: no veto, no proposals (default)",
         dict(veto=0, proposals=None, evidence=True, model=True)),
        *[(f"caution veto below p={v}, no proposals",
           dict(veto=v, proposals=None, evidence=True, model=True)) for v in (0.02, 0.1, 0.2)],
        *[(f"no veto, proposals p>={p} with evidence",
           dict(veto=0, proposals=p, evidence=True, model=True))
          for p in (0.5, 0.8, 0.9, 0.95, 0.99)],
        ("no veto, proposals p>=0.5 without evidence check",
         dict(veto=0, proposals=0.5, evidence=False, model=True)),
    ]
    print(f"| policy | must-flag missed (of {len(flag)}) | must-not-flag flagged (of {len(ok)}) "
          "| recall | precision | F1 | neutral flagged | meta flagged | own-voice F1 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, kw in policies:
        missed = sum(not any(keep(c, **kw) for c in row) for row in flag)
        flagged = sum(any(keep(c, **kw) for c in row) for row in ok)
        pred = [[(c.start, c.end) for c in row if keep(c, **kw)] for row in dev]
        a, o = real_text_metrics(items, pred), real_text_metrics(items, pred, "own")
        print(f"| {name} | {missed} | {flagged} | {a['recall']:.3f} | {a['precision']:.3f} "
              f"| {a['f1']:.3f} | {a['neutral_flagged']:.1%} | {a['meta_flagged']:.1%} "
              f"| {o['f1']:.3f} |")


if __name__ == "__main__":
    main()
