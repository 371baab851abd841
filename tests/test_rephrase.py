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
        ("is at risk", "span"),)


def rewritten(text: str) -> str:
    new, _ = DETECTOR.rewrite(text)
    return new


@pytest.mark.parametrize("text, expected", [
    # a noun phrase gets a noun phrase, a verb group a verb group (VB306 has both)
    ("The hooker who was waiting did not want to talk.",
     "The child being sexually exploited by [person] who was waiting did not want to talk."),
    ("She got involved in prostitution at 14.", "She was sexually exploited by [person] at 14."),
    # number follows the noun; the article follows the suggestion ("an" -> "a child")
    ("Underage hookers tend to be missing from home.",
     "Children who are being sexually exploited by [person] tend to be missing from home."),
    ("Police treat an underage prostitute as a victim.",
     "Police treat a child who is being sexually exploited by [person] as a victim."),
    ("Night log: an absconder from the home was seen in town.",
     "Night log: a child reported missing [n] times since [date] from the home was seen in town."),
    # a base-form verb keeps its plural subject; "are" makes the verb plural
    ("Youngsters repeatedly abscond from the home.",
     "Youngsters repeatedly go missing from the home."),
    ("Most of them are sexually active.",
     "Most of them disclose sex involving [person], aged [age]; assess for abuse or exploitation."),
    # the original names the adult: its "by ..." replaces the suggestion's "by [person/group]"
    ("They were recruited by a local gang.",
     "They were groomed and criminally exploited by a local gang."),
    # ... but "by" + a gerund is not an agent
    ("Mia is putting herself at risk by going to the park at night.",
     "Mia is exposed to harm by [person] by going to the park at night."),
    # a finite verb cannot follow a verb: the suggestion's "was" goes
    ("He walked into that situation with his eyes open, staff said.",
     "He walked into that situation deceived and manipulated by [person], staff said."),
    # an acronym in an ordinary sentence is not shouting; a note in capitals stays in capitals
    ("She was only AWOL for a few hours.",
     "She was only missing (whereabouts unknown) for a few hours."),
    ("MFH IS A GANG NOMINAL, PREV FOUND OOF", "MFH IS A CHILD WHO IS BEING CRIMINALLY EXPLOITED BY "
     "[ORGANISED CRIME GROUP], PREV FOUND OOF"),
    # no word twice where the suggestion meets the sentence
    ("Custody record notes a child drug dealer booked in at 0230hrs",
     "Custody record notes a child who is being criminally exploited by [person/group] booked in "
     "at 0230hrs"),
    ("Custody log: IP was wearing provocative clothing",
     "Custody log: IP was wearing [describe factually, only if evidentially relevant]"),
    # a linking verb before a description is replaced with the verb group
    ("He has become a recruiter.", "He has been used by [person/group] to draw other children in."),
    ("Some victims become sexually active at 13.",
     "Some victims disclose sex involving [person], aged [age]; assess for abuse or exploitation "
     "at 13."),
    # a word that modifies the noun takes the place of the suggestion's article
    ("She became a high-class prostitute at 15.",
     "She became a high-class child being sexually exploited by [person] at 15."),
    # a clitic auxiliary is kept with its word
    ("Staff feel he's putting himself at risk.", "Staff feel he's exposed to harm by [person]."),
])
def test_suggestion_fits_the_sentence(text: str, expected: str) -> None:
    assert rewritten(text) == expected


@pytest.mark.parametrize("text, words, replaced, rendered", [
    # a negation stays with its auxiliary, contracted as written
    ("She shouldn't talk to older men.", (3, 7), "shouldn't talk to older men",
     "shouldn't be targeted by [person]"),
    ("They have not engaged with staff.", (3, 4), "have not engaged",
     "have not been targeted by [person]"),
    ("She wasn't engaging with staff.", (3, 4), "wasn't engaging", "wasn't targeted by [person]"),
])
def test_negation_is_kept(text: str, words: tuple[int, int], replaced: str, rendered: str) -> None:
    import spacy

    from blamelex.rephrase import render

    doc = spacy.blank("en")(text)
    sug = render("{be} targeted by [person]", doc[words[0]:words[1]])
    assert (text[sug.start:sug.end], sug.text) == (replaced, rendered)


def test_model_findings_and_other_voices_are_not_rewritten() -> None:
    from dataclasses import replace

    from blamelex.findings import Modifier
    from blamelex.rephrase import apply_suggestions

    text = "Jade is playing up again."
    finding = DETECTOR.scan("YP is putting herself at risk.")[0]
    model = replace(finding, start=5, end=7, text="is", origin="model", code="VB100")
    quoted = replace(finding, modifiers=(Modifier("QUOTED", "quotation", '"', "factor", 0.4),))
    result = apply_suggestions(text, [model])
    assert result.text == text and result.edits == []
    assert [(s.finding.code, s.reason) for s in result.skipped] == [("VB100", "model")]
    assert "model" in result.skipped[0].explanation
    new, edits = apply_suggestions("YP is putting herself at risk.", [quoted])  # unpacks as before
    assert new == "YP is putting herself at risk." and not edits


@pytest.mark.parametrize("text, reason", [
    ("She is putting herself at risk of exploitation.", "runs_on"),   # "of ..." would be stranded
    ("a lad his age staying out isn't a police matter", "not_whole_words"),  # "is|n't"
    ("He is a well-known absconder.", "not_whole_words"),             # inside a hyphenated word
])
def test_unsafe_spans_are_reported_not_rewritten(text: str, reason: str) -> None:
    from blamelex.rephrase import apply_suggestions

    result = apply_suggestions(text, DETECTOR.scan(text))
    assert result.text == text and not result.edits
    assert [s.reason for s in result.skipped] == [reason]


def test_whole_words() -> None:
    from blamelex.rephrase import whole_words

    text = "a 26-year-old man; the child's phone; she isn't"
    assert whole_words(text, 0, 17)                     # "a 26-year-old man"
    assert not whole_words(text, 0, 4)                  # "a 26" of "26-year-old"
    assert whole_words(text, 23, 28)                    # "child", before a possessive
    assert not whole_words(text, text.index("n't"), len(text))
    assert not whole_words(text, 3, 3) and not whole_words("  ", 0, 2)


def test_a_finding_inside_an_edit_is_neither_applied_nor_skipped() -> None:
    from dataclasses import replace

    from blamelex.rephrase import apply_suggestions

    text = "YP is putting herself at risk."
    outer = DETECTOR.scan(text)[0]
    inner = replace(outer, start=outer.start + 8, text=text[outer.start + 8:outer.end],
                    code="VB999")
    result = apply_suggestions(text, [inner, outer])
    assert [e.code for e in result.edits] == [outer.code] and result.skipped == ()


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
