"""The pattern language compiles to the spaCy patterns it documents."""

from __future__ import annotations

import pytest
import spacy
from spacy.matcher import Matcher

from blamelex.lexicon.patterns import PatternError, compile_pattern, inflections

SETS = {"refl": ["herself", "himself", "themselves"], "poss": ["her", "his", "their"]}


def _matches(pattern: str, text: str) -> list[str]:
    nlp = spacy.blank("en")
    matcher = Matcher(nlp.vocab)
    matcher.add("P", [compile_pattern(pattern, SETS, lambda s: [t.text for t in nlp(s)])],
                greedy="LONGEST")
    doc = nlp(text)
    return [doc[s:e].text for _, s, e in matcher(doc)]


def test_lemma_expands_to_inflections() -> None:
    assert {"put", "puts", "putting"} <= set(inflections("put"))
    assert {"choice", "choices"} <= set(inflections("choice"))


@pytest.mark.parametrize("text", [
    "she puts herself at risk", "He was Putting himself at risk", "PLACED THEMSELVES IN DANGER",
])
def test_inflection_case_and_pronoun_variants(text: str) -> None:
    assert _matches("<put|place> @refl at|in risk|danger", text)


def test_hyphen_optional() -> None:
    for text in ["YP non-compliant", "YP non compliant"]:
        assert _matches("non-compliant", text) != []
    assert _matches("non-compliant", "YP noncompliant") == []


def test_optional_and_wildcards() -> None:
    assert _matches("<make> @poss? own? choices", "making her own choices")
    assert _matches("<make> @poss? own? choices", "makes choices")
    assert _matches("<choose> *{0,2} to go missing", "chose yet again to go missing")
    assert _matches("<choose> *{0,2} to go missing", "chose not to go missing") == [
        "chose not to go missing"]


@pytest.mark.parametrize("bad, why", [
    ("@nosuchset word", "unknown set"),
    ("* risk", "start and end with a word"),
    ("risk?", "every word is optional"),
    ("a|", "empty alternative"),
    ("didn't", "split by the tokenizer"),
    ("non-compliant|noncompliant", "hyphenated alternative"),
    ("*{0,13} risk", "bad wildcard"),
])
def test_errors_say_what_to_change(bad: str, why: str) -> None:
    nlp = spacy.blank("en")
    with pytest.raises(PatternError, match=why):
        compile_pattern(bad, SETS, lambda s: [t.text for t in nlp(s)])
