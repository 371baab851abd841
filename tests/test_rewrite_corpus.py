"""`rewrite` on every positive sentence the model never trained on (the authored corpus's dev and
test splits: corpus v2's test split is mostly whole notes, and the v1 test batches now sit in
dev): the rewritten text is not flagged again, and the rewrite leaves no seams (doubled words or
placeholders, stray punctuation). "Flagged again" counts what a rewrite acts on: the text's own
wording. Reported wording (someone else's words, voice ``reported``) and risk-grading findings
(a grade is the grader's decision) are never rewritten, by design, so they stay.

Only lexicon findings are rewritten (`blamelex.rephrase.skip_reason`): a model finding's
suggestions are category-level guidance, not wording for its span, so it is reported as needing a
manual rewrite and is still there when the text is scanned again. The default detector makes no
model proposals, so "no finding after the rewrite" is asserted for it and for the lexicon-only
one; with proposals on, what is left is only what the rewrite reported.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

import blamelex
from blamelex.corpus import read_split
from blamelex.rephrase import Rewrite, apply_suggestions

SEAMS = {
    "doubled word": re.compile(r"\b(\w+)\s+\1\b", re.I),
    "doubled placeholder": re.compile(r"(\[[^\]]+\])\s*\1"),
    "space before comma": re.compile(r"\s,"),
    "doubled comma": re.compile(r",\s*,"),
    "doubled full stop": re.compile(r"(?<!\.)\.\s+\.(?!\.)"),
    "empty brackets": re.compile(r"\(\s*\)|\[\s*\]"),
    "space before full stop": re.compile(r"\w\s+\.(?!\.|\d)"),
    "space before semicolon or colon": re.compile(r"\w\s+[;:](?!\))"),
    "comma before full stop or semicolon": re.compile(r",\s*[.;]"),
}


@cache
def positives() -> tuple[dict[str, Any], ...]:
    try:
        items = read_split("dev") + read_split("test")
    except FileNotFoundError:  # pragma: no cover - an installed package has no corpus
        pytest.skip("the built corpus (data/corpus) is not available")
    return tuple(i for i in items if i["type"] == "positive" and i["kind"] == "sentence")


def rewritable(findings: list[Any]) -> list[Any]:
    """The findings a rewrite acts on: the text's own wording (not reported words, not grades)."""
    return [f for f in findings if f.voice == "own" and f.category != "risk_grading"]


def rewrite_all(detector: blamelex.Detector) -> list[tuple[dict[str, Any], Rewrite]]:
    items = positives()
    texts = [i["text"] for i in items]
    return [(item, apply_suggestions(item["text"], found))
            for item, found in zip(items, detector.scan_many(texts), strict=True)]


def seams(before: str, after: str) -> list[str]:
    """The seams the rewrite added (a typo the original already had is not counted)."""
    return [name for name, rx in SEAMS.items() if len(rx.findall(after)) > len(rx.findall(before))]


def test_corpus_has_positives() -> None:
    assert len(positives()) >= 500


@pytest.mark.parametrize("after, name", [
    ("She is is exposed to harm.", "doubled word"),
    ("exploited by [person] [person].", "doubled placeholder"),
    ("She was exposed to harm , and left.", "space before comma"),
    ("She was exposed to harm,, and left.", "doubled comma"),
    ("She was exposed to harm. . Later", "doubled full stop"),
    ("She was exposed to harm ( ).", "empty brackets"),
    ("She was exposed to harm .", "space before full stop"),
    ("She was exposed to harm ; later", "space before semicolon or colon"),
    ("She was exposed to harm,.", "comma before full stop or semicolon"),
])
def test_seams_are_caught(after: str, name: str) -> None:
    assert seams("She was at risk.", after) == [name]
    assert seams(after, after) == []  # the original's own typo is not the rewrite's


@pytest.mark.parametrize("system", ["lexicon", "default"])
def test_rewrite_is_not_flagged_again(system: str, detector: blamelex.Detector,
                                      detector_model: blamelex.Detector) -> None:
    det = detector if system == "lexicon" else detector_model
    results = rewrite_all(det)
    rescanned = det.scan_many([r.text for _, r in results])
    left = [(item["id"], [(f.code, f.text) for f in rewritable(found)])
            for (item, _), found in zip(results, rescanned, strict=True) if rewritable(found)]
    clean = 1 - len(left) / len(results)
    assert clean >= 0.95, f"{clean:.1%} clean after rewrite; flagged again: {left[:10]}"
    assert sum(bool(r.edits) for _, r in results) >= 250  # the rewrite does rewrite
    bad = [(item["id"], found, r.text) for item, r in results
           if (found := seams(item["text"], r.text))]
    assert not bad, bad[:10]


@pytest.mark.slow
def test_model_proposals_are_reported_never_written() -> None:
    # the bundled model's own proposals are off by default; with them on, their findings are
    # skipped (reason "model"), and what the rescan finds is only what rewrite left for a person
    det = blamelex.load(proposal_min_prob=0.5)
    results = rewrite_all(det)
    assert any(s.reason == "model" for _, r in results for s in r.skipped)
    for item, result in results:
        # category-level codes (VB100, VB200 ...) are the model's: never written into the text
        assert all(int(e.code[2:]) % 100 for e in result.edits), (item["id"], result.edits)
        assert all((s.reason == "model") == (s.finding.origin == "model") for s in result.skipped)
    rescanned = det.scan_many([r.text for _, r in results])
    # a second rewrite has nothing more to apply
    again = [(item["id"], again.edits)
             for (item, _), found in zip(results, rescanned, strict=True)
             if (again := apply_suggestions(item["text"], found)).edits]
    share = 1 - len(again) / len(results)
    assert share >= 0.95, f"{share:.1%}; rewritable findings left: {again[:10]}"
    bad = [(item["id"], found, r.text) for item, r in results
           if (found := seams(item["text"], r.text))]
    assert not bad, bad[:10]
