"""The bundled lexicon: size, coverage, schema errors, and every entry's own examples."""

from __future__ import annotations

from pathlib import Path

import pytest

import blamelex
from blamelex.lexicon import CATEGORIES, LexiconError, load_lexicon
from blamelex.lexicon.patterns import inflections

LEXICON = load_lexicon()
RANGES = {cat: 100 * (i + 1) for i, cat in enumerate(CATEGORIES)}


def test_size_and_coverage() -> None:
    assert len(LEXICON) >= 150
    assert set(LEXICON.categories()) == set(CATEGORIES)
    for cat in CATEGORIES:
        assert sum(e.category == cat for e in LEXICON) >= 5, cat


@pytest.mark.parametrize("entry", LEXICON.entries, ids=lambda e: e.code)
def test_entry_fields(entry: blamelex.lexicon.Entry) -> None:  # type: ignore[name-defined]
    base = RANGES[entry.category]
    assert base <= int(entry.code[2:]) < base + 100, "code outside its category's range"
    assert entry.sources and all(s.url.startswith("https://") or s.url.startswith("http://")
                                 for s in entry.sources)
    assert entry.suggestions and entry.examples_flag and entry.examples_ok
    assert entry.severity in {"avoid", "caution"}


@pytest.mark.parametrize("entry", LEXICON.entries, ids=lambda e: e.code)
def test_entry_examples(entry: blamelex.lexicon.Entry, detector: blamelex.Detector) -> None:  # type: ignore[name-defined]
    for sentence in entry.examples_flag:
        codes = [f.code for f in detector.scan(sentence)]
        assert entry.code in codes, f"not flagged: {sentence!r} (found {codes})"
    for sentence in entry.examples_ok:
        # the missing-child risk check reads a grade against the whole note and is measured on
        # its own evaluation set (data/risk/, tests/test_risk.py); a one-line example that
        # states a grade may rightly get its RG finding ("graded medium", no reasons)
        found = [(f.code, f.text) for f in detector.scan(sentence) if f.category != "risk_grading"]
        assert not found, f"near miss flagged: {sentence!r}: {found}"


@pytest.mark.parametrize("entry", LEXICON.entries, ids=lambda e: e.code)
def test_suggestions_are_not_themselves_flagged(entry: blamelex.lexicon.Entry,  # type: ignore[name-defined]
                                                detector: blamelex.Detector) -> None:
    for sentence in entry.examples_flag:
        for finding in detector.scan(sentence):
            if finding.code != entry.code:
                continue
            for sug in finding.suggestions:
                rewritten = sentence[:sug.start] + sug.text + sentence[sug.end:]
                again = [f for f in detector.scan(rewritten)
                         if f.start < sug.start + len(sug.text) and sug.start < f.end]
                assert not again, f"{sug.text!r} in {rewritten!r} is flagged: {again[0].code}"


SOFTENERS = ["had contact", "had sex", "relationship with", "consensual", "boyfriend",
             "sexual activity", "chose", "choice", "willing"]


@pytest.mark.parametrize("entry", LEXICON.entries, ids=lambda e: e.code)
def test_suggestions_never_soften(entry: blamelex.lexicon.Entry) -> None:  # type: ignore[name-defined]
    for sug in entry.suggestions:
        low = sug.lower()
        bad = [s for s in SOFTENERS if s in low and s not in entry.term.lower()]
        assert not bad, f"suggestion {sug!r} softens the concern ({bad})"


def test_duplicate_pattern_rejected(tmp_path: Path) -> None:
    first = LEXICON.entries[0]
    path = tmp_path / "dup.yaml"
    path.write_text(
        "category: minimising_risk\nentries:\n"
        "  - code: ORG501\n    term: t\n    severity: caution\n"
        f"    patterns: [{first.patterns[0]!r}]\n"
        "    explanation: e\n    suggestions: [s]\n"
        "    sources: [{title: t, url: 'https://example.org'}]\n"
        "    examples: {flag: [a], ok: [b]}\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=f"duplicate pattern .* already in {first.code}"):
        load_lexicon(extra=[path])


def _entries_yaml(path: Path, *entries: tuple[str, list[str]]) -> Path:
    """Write a lexicon file with one minimal entry per (code, patterns)."""
    text = "category: minimising_risk\nentries:\n"
    for code, patterns in entries:
        text += (
            f"  - code: {code}\n    term: t\n    severity: caution\n"
            f"    patterns: [{', '.join(repr(p) for p in patterns)}]\n"
            "    explanation: e\n    suggestions: [s]\n"
            "    sources: [{title: t, url: 'https://example.org'}]\n"
            "    examples: {flag: [a], ok: [b]}\n"
        )
    path.write_text(text, encoding="utf-8")
    return path


PUT_FORMS = "|".join(reversed(inflections("put")))
REFL_WORDS = "|".join(reversed(LEXICON.sets["refl"]))


@pytest.mark.parametrize(("first", "second"), [
    ("zzqq <place|put|expose> @refl at|in *? risk|danger",
     "zzqq <put|place|expose> @refl in|at *? danger|risk"),  # alternatives reordered
    ("zzqq <put> xyzzy", f"zzqq {PUT_FORMS} xyzzy"),  # a lemma as its forms
    ("zzqq @refl xyzzy", f"zzqq {REFL_WORDS} xyzzy"),  # a set as its words
    ("zzqq own? xyzzy", "zzqq own|own? xyzzy"),  # a repeated alternative
    ("zzqq *? xyzzy", "zzqq *{0,1} xyzzy"),  # the same repeat count
    ("zzqq non-xyzzy", "zzqq non -? xyzzy"),  # a hyphenated word spelled out
])
def test_duplicate_pattern_by_meaning_rejected(tmp_path: Path, first: str, second: str) -> None:
    path = _entries_yaml(tmp_path / "dup.yaml", ("ORG511", [first]), ("ORG512", [second]))
    with pytest.raises(LexiconError) as exc:
        load_lexicon(extra=[path])
    assert exc.value.problems == [
        f"{path}:11: entry ORG512: field 'patterns': duplicate pattern {second!r}, "
        f"already in ORG511 as {first!r} ({path}:3)"
    ]


@pytest.mark.parametrize(("first", "second"), [
    ("zzqq <put> xyzzy", "zzqq <put> @refl xyzzy"),  # an extra element
    ("zzqq own? xyzzy", "zzqq own xyzzy"),  # optional vs required
    ("zzqq a|b xyzzy", "zzqq a|b|c xyzzy"),  # one more alternative
    ("zzqq <put> xyzzy", "zzqq put|puts xyzzy"),  # some of the forms only
    ("zzqq * xyzzy", "zzqq *? xyzzy"),  # another repeat count
    ("zzqq xyzzy risk", "zzqq risk xyzzy"),  # the same words in another order
])
def test_different_patterns_accepted(tmp_path: Path, first: str, second: str) -> None:
    path = _entries_yaml(tmp_path / "ok.yaml", ("ORG511", [first]), ("ORG512", [second]))
    loaded = load_lexicon(extra=[path])
    assert loaded.get("ORG511") is not None and loaded.get("ORG512") is not None


def test_a_word_and_a_set_of_that_one_word_have_one_shape() -> None:
    from blamelex.lexicon import _shape

    assert _shape([{"LOWER": "risk"}]) == _shape([{"LOWER": {"IN": ["risk"]}}])
    assert _shape([{"LOWER": "risk"}]) != _shape([{"LOWER": {"IN": ["risk", "danger"]}}])


def test_duplicate_pattern_within_one_entry_allowed(tmp_path: Path) -> None:
    path = _entries_yaml(
        tmp_path / "same.yaml", ("ORG511", ["zzqq <put> xyzzy", f"zzqq {PUT_FORMS} xyzzy"])
    )
    assert load_lexicon(extra=[path]).get("ORG511") is not None


def test_duplicate_pattern_same_text_names_no_second_form(tmp_path: Path) -> None:
    path = _entries_yaml(
        tmp_path / "dup.yaml", ("ORG511", ["zzqq  Xyzzy"]), ("ORG512", ["zzqq xyzzy"])
    )
    with pytest.raises(LexiconError) as exc:
        load_lexicon(extra=[path])
    assert exc.value.problems == [
        f"{path}:11: entry ORG512: field 'patterns': duplicate pattern 'zzqq xyzzy', "
        f"already in ORG511 ({path}:3)"
    ]


def test_duplicate_code_rejected(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(
        "category: minimising_risk\nentries:\n"
        "  - code: VB101\n    term: t\n    severity: caution\n"
        "    patterns: ['zzqq unique words']\n"
        "    explanation: e\n    suggestions: [s]\n"
        "    sources: [{title: t, url: 'https://example.org'}]\n"
        "    examples: {flag: [a], ok: [b]}\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="duplicate code"):
        load_lexicon(extra=[path])


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("category: x\nentries:\n  - code: [unclosed\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"broken.yaml:\d+: invalid YAML"):
        load_lexicon(extra=[path])


def test_nothing_partially_loaded(tmp_path: Path) -> None:
    path = tmp_path / "half.yaml"
    path.write_text(
        "category: minimising_risk\nentries:\n"
        "  - code: ORG502\n    term: t\n    severity: caution\n"
        "    patterns: ['zzqq fine']\n    explanation: e\n    suggestions: [s]\n"
        "    sources: [{title: t, url: 'https://example.org'}]\n"
        "    examples: {flag: [a], ok: [b]}\n"
        "  - code: ORG503\n    term: t\n    severity: nope\n", encoding="utf-8")
    with pytest.raises(LexiconError) as exc:
        load_lexicon(extra=[path])
    assert len(exc.value.problems) >= 1
    assert all("ORG503" in p for p in exc.value.problems)


def test_filtering_by_code_prefix_category_and_severity() -> None:
    only = LEXICON.filtered(select=["VB1"])
    assert only.entries and all(e.code.startswith("VB1") for e in only)
    no_adult = LEXICON.filtered(ignore=["adultification"])
    assert all(e.category != "adultification" for e in no_adult)
    avoid = LEXICON.filtered(min_severity="avoid")
    assert avoid.entries and all(e.severity == "avoid" for e in avoid)
