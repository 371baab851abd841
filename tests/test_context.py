"""Context rules: contrastive pairs (one flagged, its near twin not) and the recorded trace."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import blamelex

PAIRS = yaml.safe_load((Path(__file__).parent / "data" / "contrastive_pairs.yaml").read_text(
    encoding="utf-8"))["pairs"]


def test_enough_pairs_for_every_modifier() -> None:
    assert len(PAIRS) >= 60
    assert {p[2] for p in PAIRS} == {"NEGATED", "REFERENT", "QUOTED", "REPORTED", "META", "SENSE"}


@pytest.mark.parametrize("flagged, twin, modifier", PAIRS, ids=[p[1][:40] for p in PAIRS])
def test_contrastive_pair(flagged: str, twin: str, modifier: str,
                          audit_detector: blamelex.Detector) -> None:
    codes = [f.code for f in audit_detector.scan(flagged)]
    assert codes, f"not flagged: {flagged!r}"
    doc = audit_detector.nlp(twin)
    assert not doc._.blamelex, f"twin flagged: {[(f.code, f.text) for f in doc._.blamelex]}"
    removed = audit_detector.component.suppressed(doc)
    assert any(f.code in codes and modifier in {m.name for m in f.modifiers} for f in removed), \
        f"expected {modifier} on {codes} in {twin!r}; got " \
        f"{[(f.code, [m.name for m in f.modifiers]) for f in removed]}"


def test_trace_records_rule_trigger_and_effect(audit_detector: blamelex.Detector) -> None:
    doc = audit_detector.nlp("There is no evidence that Leah was putting herself at risk.")
    (finding,) = audit_detector.component.suppressed(doc)
    (mod,) = finding.modifiers
    assert (mod.name, mod.rule, mod.effect, mod.factor) == ("NEGATED", "negation.no_evidence",
                                                            "drop", 0.0)
    assert "no" in mod.trigger.lower()
    assert finding.score == 0.0 and "dropped" in finding.trace[-1].note


def test_quoted_is_demoted_not_dropped(audit_detector: blamelex.Detector) -> None:
    doc = audit_detector.nlp('Jordan calls himself a "regular misper".')
    (finding,) = audit_detector.component.suppressed(doc)
    assert finding.modifiers[0].effect == "factor" and 0 < finding.score < 0.5
    low = blamelex.load(model=None, threshold=0.3)
    assert [f.code for f in low.scan('Jordan calls himself a "regular misper".')]


def test_wildcards_do_not_cross_sentences(detector: blamelex.Detector) -> None:
    # "chose ... to go missing" must not join words from two sentences
    assert not detector.scan("She chose. Nobody wanted to go missing.")


def test_sentences_split_without_a_parser(detector: blamelex.Detector) -> None:
    text = "No evidence of harm.\nShe is putting herself at risk."
    assert [f.text for f in detector.scan(text)] == ["putting herself at risk"]


def test_rule_sentence_split() -> None:
    import spacy
    from spacy.lang.lex_attrs import is_quote

    from blamelex.sentences import _QUOTES, sentence_bounds

    assert all(is_quote(mark) for mark in _QUOTES)
    nlp = spacy.blank("en")
    doc = nlp('She said "I am fine." Staff spoke to her (at 0300hrs.) Then she left!\nNext')
    sents = [doc[s:e].text for s, e in sentence_bounds(doc)]
    # an end mark right before a quotation mark or bracket ends no sentence (the rule split
    # cannot tell a closing mark from an opening one); a line break does
    assert sents == ['She said "I am fine." Staff spoke to her (at 0300hrs.) Then she left!',
                     "\n", "Next"]
    doc = nlp("She left. Staff called. She came back")
    assert [doc[s:e].text for s, e in sentence_bounds(doc)] == [
        "She left.", "Staff called.", "She came back"]


def test_a_trigger_shares_its_last_word_only_where_the_rule_says(
        audit_detector: blamelex.Detector) -> None:
    # REPORTED lists "as": "describes the 14-year-old as" stands right before "as his partner"
    doc = audit_detector.nlp("The man describes the 14-year-old as his partner.")
    assert not doc._.blamelex
    (found,) = audit_detector.component.suppressed(doc)
    assert found.code == "VB221" and [m.name for m in found.modifiers] == ["REPORTED"]
    # NEGATED lists no shared word: "there is no" does not negate "no evidence of force"
    text = "IP got into the car and there is no evidence of force."
    assert [f.code for f in audit_detector.scan(text)] == ["VB218"]


def test_a_shared_word_trigger_is_found_before_a_later_one_and_stops_at_terminators(
        audit_detector: blamelex.Detector) -> None:
    # a trigger's longest match would run on to the second "as"; it is searched up to the first
    doc = audit_detector.nlp("He describes Amy as his girlfriend as well.")
    assert not doc._.blamelex
    assert [m.name for m in audit_detector.component.suppressed(doc)[0].modifiers] == ["REPORTED"]
    # a terminator inside a trigger's wildcards ends its scope
    for text, code in [
        ("Mum describes her mood as low; however, as usual she was putting herself at risk.",
         "VB101"),
        ("Mum describes her mood as low; however, as his partner she is at his flat nightly.",
         "VB221"),
    ]:
        assert [f.code for f in audit_detector.scan(text)] == [code], text
