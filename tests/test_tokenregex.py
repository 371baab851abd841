"""The regex token matcher agrees with spaCy's `Matcher` on the patterns blamelex compiles."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import spacy
import yaml
from spacy.matcher import Matcher
from spacy.tokens import Doc

from blamelex.lexicon import load_lexicon
from blamelex.lexicon.patterns import compile_pattern
from blamelex.tokenregex import SEP, TokenMatcher, TokenRegex, TokenText, longest

NLP = spacy.blank("en")
LEXICON = load_lexicon()

# sentences that stress the token string: line breaks, runs of spaces, hyphens, quotes,
# the separator characters themselves, end marks inside a pattern's wildcard range
TRICKY = [
    "She put herself\nat risk.",
    "She  put   herself at risk",
    "She put herself at risk. At risk again",
    "Non-compliant and non compliant and non - compliant.",
    "He said \"she put herself at risk\" twice.",
    "odd \x00 bytes \x01 here: she put herself at risk",
    "She chose. To go missing.",
    "PUTTING HERSELF AT RISK!! putting herself at risk?",
    "",
    "\n\n",
]


def _docs() -> list[Doc]:
    texts = list(TRICKY)
    for entry in LEXICON:
        texts += [*entry.examples_flag, *entry.examples_ok]
    return list(NLP.pipe(texts))


DOCS = _docs()
VIEWS = [TokenText.of(doc) for doc in DOCS]


Patterns = Sequence[list[dict[str, Any]]]


_INSIDE_APOSTROPHE = re.compile("(?<=\\w)\u2019(?=\\w)")


def _spacy(patterns: Patterns, doc: Doc, greedy: bool) -> set[tuple[int, int]]:
    # blamelex reads a typographic apostrophe inside a word ("didn’t") as "'"; spaCy's Matcher
    # does not, so the reference reads the same text with straight ones (same tokens)
    if "\u2019" in doc.text:
        doc = NLP(_INSIDE_APOSTROPHE.sub("'", doc.text))
    matcher = Matcher(NLP.vocab, validate=False)
    matcher.add("K", list(patterns), greedy="LONGEST" if greedy else None)
    found = {(s, e) for _, s, e in matcher(doc)}
    if greedy:
        return found
    # without greedy, spaCy yields every length from a start; keep the longest per start
    best: dict[int, int] = {}
    for s, e in found:
        best[s] = max(best.get(s, e), e)
    return set(best.items())


def _ours(patterns: Patterns, view: TokenText, greedy: bool) -> set[tuple[int, int]]:
    matcher = TokenMatcher()
    matcher.add("K", patterns)
    found = [(s, e) for _, s, e in matcher(view)]
    # the keyed scan the lexicon matcher uses finds the same spans
    assert matcher.spans(view, "K", [(0, len(view), len(view))]) == set(found)
    return set(longest(found)) if greedy else set(found)


@pytest.mark.parametrize("entry", list(LEXICON), ids=lambda e: e.code)
def test_lexicon_patterns_match_as_spacy_does(entry: Any) -> None:
    for kind, patterns in (("patterns", entry.patterns), ("not_when", entry.not_when)):
        if not patterns:
            continue
        compiled = [compile_pattern(p, LEXICON.sets) for p in patterns]
        for doc, view in zip(DOCS, VIEWS, strict=True):
            assert _ours(compiled, view, True) == _spacy(compiled, doc, True), (kind, doc.text)


def test_context_patterns_match_as_spacy_does() -> None:
    text = (resources.files("blamelex") / "data" / "context_rules.yaml").read_text("utf-8")
    rules = yaml.safe_load(text)
    patterns = [p for r in rules["rules"] for p in [*r.get("patterns", []), *r.get("pseudo", [])]]
    for kind in ("adult", "child"):
        patterns += [c["pattern"] for c in rules["referent"].get(kind, [])]
    assert len(patterns) > 20
    for pattern in patterns:
        compiled = [compile_pattern(pattern, LEXICON.sets)]
        for doc, view in zip(DOCS[:400], VIEWS[:400], strict=True):
            assert _ours(compiled, view, False) == _spacy(compiled, doc, False), (pattern, doc.text)


def test_matches_stay_inside_the_given_token_range() -> None:
    doc = NLP("she put herself at risk. she put herself at risk")
    view = TokenText.of(doc)
    matcher = TokenMatcher()
    matcher.add("K", [compile_pattern("@subj? <put> @refl at risk", LEXICON.sets)])
    # every start yields its longest match; `longest` keeps the non-overlapping longest
    assert sorted((s, e) for _, s, e in matcher(view)) == [(0, 5), (1, 5), (6, 11), (7, 11)]
    assert longest((s, e) for _, s, e in matcher(view)) == [(0, 5), (6, 11)]
    assert [(s, e) for _, s, e in matcher(view, 0, 4)] == []  # "at risk" is cut off
    assert longest((s, e) for _, s, e in matcher(view, 6, 11)) == [(6, 11)]
    assert matcher.spans(view, "K", [(0, 4, 4), (6, 11, 11)]) == {(6, 11), (7, 11)}
    assert matcher.spans(view, "K", [(0, 1, 11)]) == {(0, 5)}  # starts in [0, 1) only
    assert matcher.spans(view, "other", [(0, len(view), len(view))]) == set()


def test_token_string_and_offsets() -> None:
    doc = NLP("A b\n\nC\x00d")
    view = TokenText.of(doc)
    assert view.string.count(SEP) == len(doc)
    for i in range(len(doc) + 1):
        assert view.token_at(view.offset(i)) == i
    assert view.lowers[2].startswith("\x01") and "\n" in view.lowers[2]  # the line break token
    assert SEP not in "".join(view.lowers)


def test_first_words_and_unsupported_patterns() -> None:
    rx = TokenRegex(compile_pattern("her? own? choice", {}))
    assert rx.first == frozenset({"her", "own", "choice"})
    assert TokenRegex(compile_pattern("she *? risk", {})).first == frozenset({"she"})
    assert TokenRegex(compile_pattern("she? * risk", {})).first is None
    with pytest.raises(ValueError, match="unsupported"):
        TokenRegex([{"POS": "NOUN"}])
    with pytest.raises(ValueError, match="unsupported operator"):
        TokenRegex([{"LOWER": "a", "OP": "+"}])
    with pytest.raises(ValueError, match="required element"):
        TokenRegex([{"LOWER": "a", "OP": "?"}])


def test_word_cache_stays_bounded_and_gives_the_same_candidates(monkeypatch: Any) -> None:
    import blamelex
    from blamelex import tokenregex

    detector = blamelex.load(model=None)
    texts = [e for entry in list(LEXICON)[:40] for e in (*entry.examples_flag, *entry.examples_ok)]
    expected = [[f.to_dict() for f in detector.scan(t)] for t in texts]
    monkeypatch.setattr(tokenregex, "_CACHE_SIZE", 20)  # emptied again and again while scanning
    tokenregex._LOWER_CACHE.clear()
    assert [[f.to_dict() for f in detector.scan(t)] for t in texts] == expected
    assert len(tokenregex._LOWER_CACHE) <= 20 + max(len(t.split()) * 3 for t in texts)


def test_windows_of_one_entry_are_merged_where_their_starts_overlap() -> None:
    from blamelex.matching import _merged

    assert _merged([(5, 9, 12), (0, 3, 6), (2, 4, 10), (9, 10, 11)]) == [
        (0, 4, 10), (5, 10, 12)]
    assert _merged([(0, 2, 4), (3, 4, 6)]) == [(0, 2, 4), (3, 4, 6)]


def test_merged_windows_find_the_same_candidates_as_separate_ones(monkeypatch: Any) -> None:
    import blamelex
    from blamelex import matching

    texts = [e for entry in LEXICON for e in (*entry.examples_flag, *entry.examples_ok)]
    texts += [p.read_text(encoding="utf-8") for p in sorted(
        (Path(__file__).resolve().parents[1] / "examples" / "notes").glob("*.txt"))]
    merged = [[f.to_dict() for f in fs]
              for fs in blamelex.load(model=None, keep_suppressed=True).scan_many(texts)]
    monkeypatch.setattr(matching, "_merged", lambda ranges: ranges)
    separate = [[f.to_dict() for f in fs]
                for fs in blamelex.load(model=None, keep_suppressed=True).scan_many(texts)]
    assert merged == separate and sum(map(len, merged)) > 300


def test_around_the_anchor_gives_the_match_extent_and_the_neighbour_words() -> None:
    from blamelex.matching import _around

    tokens = compile_pattern("not <class> *{0,2} as a|an? proper|real? missing|misper", {})
    around = _around("VB0", 0, tokens, len(tokens) - 1)  # anchored on the last element
    assert (around.before_min, around.before_max, around.after_max) == (3, 7, 0)
    assert around.prev == frozenset({"as", "a", "an", "proper", "real"})
    assert around.next is None  # a match ends at its anchor: any token may follow
    first = _around("VB0", 0, tokens, 0)
    assert first.prev is None and first.next == frozenset(
        {"class", "classes", "classed", "classing"})
    assert (first.before_min, first.before_max, first.after_max) == (0, 0, 7)
    # a wildcard next to the anchor leaves that side open
    loose = compile_pattern("not *? really missing", {})
    assert _around("VB0", 0, loose, 0).next is None
    assert _around("VB0", 0, loose, 3).prev == frozenset({"really"})


def test_neighbour_words_prune_windows_and_keep_every_candidate(monkeypatch: Any) -> None:
    import blamelex
    from blamelex import matching

    texts = [e for entry in LEXICON for e in (*entry.examples_flag, *entry.examples_ok)]
    texts += [p.read_text(encoding="utf-8") for p in sorted(
        (Path(__file__).resolve().parents[1] / "examples" / "notes").glob("*.txt"))]

    def scan() -> tuple[list[list[dict[str, Any]]], int]:
        detector = blamelex.load(model=None, keep_suppressed=True)
        nlp, matcher = detector.nlp, detector.component.matcher
        docs = [nlp.make_doc(t) for t in texts[-12:]]  # the example notes
        windows = sum(len(r) for doc in docs
                      for r in matcher.windows(doc, TokenText.of(doc)).values())
        return [[f.to_dict() for f in fs] for fs in detector.scan_many(texts)], windows

    pruned, few = scan()
    monkeypatch.setattr(matching, "_neighbour", lambda tokens: None)  # any word next to anchors
    monkeypatch.setenv("BLAMELEX_NO_CACHE", "1")  # tables built now, with the patched code
    unpruned, many = scan()
    assert pruned == unpruned and sum(map(len, pruned)) > 300
    assert few < many
