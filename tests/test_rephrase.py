"""Suggestions fit the sentence: tense, number, pronoun and case agree; offsets are the edit's."""

from __future__ import annotations

import pytest

import blamelex
from blamelex.rephrase import _render_texts

DETECTOR = blamelex.load(model=None)


def first(text: str, code: str) -> list[tuple[str, str]]:
    """(suggestion, the text it replaces) for the finding of ``code`` in ``text``."""
    found = [f for f in DETECTOR.scan(text) if f.code == code]
    assert len(found) == 1, found
    return [(s.text, text[s.start:s.end]) for s in found[0].suggestions]


@pytest.mark.parametrize("text, replaced, rendered", [
    # tense and number from the auxiliaries and the verb, pronoun from the reflexive
    ("She was putting herself at risk.", "was putting herself at risk",
     ["was exposed to harm by [person]", "was in a situation where [person] can harm her"]),
    ("They put themselves at risk.", "put themselves at risk",
     ["were exposed to harm by [person]", "were in a situation where [person] can harm them"]),
    ("He puts himself at risk.", "puts himself at risk",
     ["is exposed to harm by [person]", "is in a situation where [person] can harm him"]),
    ("She has put herself at risk again.", "has put herself at risk",
     ["has been exposed to harm by [person]"]),
    ("He will put himself in danger.", "will put himself in danger",
     ["will be exposed to harm by [person]"]),
    # case follows the original: sentence start, shouting
    ("Putting herself at risk again.", "Putting herself at risk",
     ["Being exposed to harm by [person]"]),
    ("YP IS PUTTING HERSELF AT RISK.", "IS PUTTING HERSELF AT RISK",
     ["IS EXPOSED TO HARM BY [PERSON]"]),
])
def test_verb_group_agrees(text: str, replaced: str, rendered: list[str]) -> None:
    got = first(text, "VB101")
    assert all(old == replaced for _, old in got), got
    texts = [new for new, _ in got]
    assert all(r in texts for r in rendered), texts


@pytest.mark.parametrize("text, replaced, rendered", [
    ("She refused to engage with the social worker.", "refused to engage",
     "was feeling unable to speak"),
    ("He refuses to engage.", "refuses to engage", "is feeling unable to speak"),
    ("They will refuse to engage.", "will refuse to engage", "will be feeling unable to speak"),
    # the auxiliaries are replaced with the verb group: no "has been did not feel ..."
    ("She has been refusing to engage.", "has been refusing to engage",
     "has been feeling unable to speak"),
    # an adjective after "be" (read as passive): no "were felt ..."
    ("They were reluctant to engage.", "were reluctant to engage",
     "were feeling unable to speak"),
])
def test_inflected_verb_follows_the_original_tense(text: str, replaced: str,
                                                   rendered: str) -> None:
    assert (rendered, replaced) in first(text, "VB601")


def test_same_phrase_twice_gets_its_own_offsets() -> None:
    text = "Amira is putting herself at risk. Later Amira is putting herself at risk."
    found = [f for f in DETECTOR.scan(text) if f.code == "VB101"]
    assert len(found) == 2
    one, two = ([(s.text, s.start, s.end) for s in f.suggestions] for f in found)
    assert [t for t, _, _ in one] == [t for t, _, _ in two]
    hits = _render_texts.cache_info().hits
    DETECTOR.scan(text)
    assert _render_texts.cache_info().hits >= hits + 2  # rendered once, reused
    assert one != two and all(text[s:e] == "is putting herself at risk" for _, s, e in one + two)
    assert two[0][1] > one[0][2]


def test_duplicate_renderings_are_dropped() -> None:
    # two templates that render alike for this verb group and pronoun give one suggestion
    assert _render_texts(("{be} at risk", "{be} at risk"), "female", None, "is", None) == (
        ("is at risk", False),)


def test_listings_show_templates_as_they_read() -> None:
    from blamelex.rephrase import plain

    assert plain("{be} exposed to harm by [person]") == "is exposed to harm by [person]"
    assert plain("{v:feel} unable to speak") == "feels unable to speak"
    assert plain("consider whether [person] is controlling {obj}") == \
        "consider whether [person] is controlling the child"


def test_explain_and_catalogue_print_no_placeholders(capsys: pytest.CaptureFixture[str]) -> None:
    from blamelex.checks import catalogue
    from blamelex.cli import main
    from blamelex.lexicon import load_lexicon

    assert main(["explain", "VB101"]) == 0
    out = capsys.readouterr().out
    listed = out.split("Instead, write")[1].split("Examples flagged")[0]
    assert "is exposed to harm by [person]" in listed and "{" not in listed
    for line in catalogue(load_lexicon()).splitlines():
        if line.startswith("- ") and "{" in line:  # a suggestion: placeholders only as template
            assert "(template: `" in line and "{" not in line.split("(template:")[0], line
