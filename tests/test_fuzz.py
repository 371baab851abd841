"""Property tests over arbitrary Unicode: no exception, exact offsets, determinism, safe rewrites.

The default run is short (CI). The long run (>= 100k examples) is:
    BLAMELEX_FUZZ_EXAMPLES=100000 pytest tests/test_fuzz.py -p no:randomly
and its result is recorded in docs/hardening.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import blamelex

EXAMPLES = int(os.environ.get("BLAMELEX_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

PHRASES = ["putting herself at risk", "regular misper", "streetwise", "chose to go missing",
           "not ", "no evidence that ", '"', "'", "the 34-year-old man ", "\n", ". "]
# arbitrary code points, including controls, NUL, lone surrogates, RTL marks, ZWJ, emoji, combining
ANY_CHAR = st.characters(codec=None, categories=None)
text_strategy = st.one_of(
    st.text(ANY_CHAR, max_size=300),
    st.lists(st.one_of(st.sampled_from(PHRASES), st.text(ANY_CHAR, max_size=12)),
             max_size=30).map("".join),
)
SPECIAL = [
    "", "\x00", "\ud800 putting herself at risk \udfff", "\u200f\u202eputting herself at risk",
    "putting\u200dherself at risk", "p\u0301utting herself at risk", "🙂 regular misper 🙂",
    "a" * 100_000, ("regular misper " * 2000), "\r\n\r putting herself at risk\r",
    "²®putting herself at risk",  # found by the long run: "²".isdigit() but int("²") fails
]


def _check(text: str, findings: list[blamelex.Finding]) -> None:
    for f in findings:
        assert 0 <= f.start <= f.end <= len(text)
        assert text[f.start:f.end] == f.text
        json.dumps(f.to_dict())
        for s in f.suggestions:
            assert 0 <= s.start <= f.start and f.end <= s.end <= len(text)


@FUZZ
@given(text_strategy)
@example(SPECIAL[0])
@example(SPECIAL[1])
@example(SPECIAL[2])
@example(SPECIAL[3])
@example(SPECIAL[4])
@example(SPECIAL[5])
@example(SPECIAL[6])
@example(SPECIAL[7])
@example(SPECIAL[8])
@example(SPECIAL[9])
def test_scan_any_text(detector: blamelex.Detector, text: str) -> None:
    first = detector.scan(text)
    _check(text, first)
    assert detector.scan(text) == first  # deterministic


@FUZZ
@given(text_strategy)
@example(SPECIAL[10])
def test_rewrite_changes_only_finding_spans(detector: blamelex.Detector, text: str) -> None:
    new, edits = detector.rewrite(text)
    pos_old = pos_new = 0
    for e in edits:
        # text between edits is copied unchanged
        gap = e.start - pos_old
        assert new[pos_new:pos_new + gap] == text[pos_old:e.start]
        assert text[e.start:e.end] == e.original
        pos_new += gap + len(e.replacement)
        pos_old = e.end
    assert new[pos_new:] == text[pos_old:]


@settings(max_examples=max(20, EXAMPLES // 10), deadline=None)
@given(st.lists(text_strategy, max_size=8))
def test_spacy_component_and_scan_many(detector: blamelex.Detector, texts: list[str]) -> None:
    docs = list(detector.nlp.pipe(texts))
    for text, doc, many in zip(texts, docs, detector.scan_many(texts), strict=True):
        _check(text, doc._.blamelex)
        assert doc._.blamelex == many
        for span in doc.spans["blamelex"]:
            assert span._.blamelex is not None


@settings(max_examples=max(5, EXAMPLES // 50), deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["json", "jsonl", "sarif", "csv", "text"]))
def test_cli_on_arbitrary_bytes(tmp_path_factory, data: bytes, fmt: str) -> None:  # type: ignore[no-untyped-def]
    path: Path = tmp_path_factory.mktemp("fz") / "note.txt"
    path.write_bytes(data)
    out = subprocess.run([sys.executable, "-m", "blamelex.cli", "scan", str(path), "--no-model",
                          "--format", fmt], capture_output=True)
    assert out.returncode in (0, 1), out.stderr[-500:]
    if fmt in ("json", "sarif"):
        json.loads(out.stdout)
    if fmt == "jsonl":
        for line in out.stdout.splitlines():
            json.loads(line)
