"""Render suggestion templates so they fit the sentence, and build rewrites.

Templates use ``{be}``, ``{v:lemma}``, ``{subj}``, ``{obj}``, ``{poss}``, ``{refl}`` (see
docs/lexicon-format.md). Tense and number come from the matched verb and the auxiliaries before it;
inflection comes from lemminflect (through `blamelex.inflect`), not hand-written verb tables.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from spacy.tokens import Span

from blamelex.findings import Finding, Suggestion
from blamelex.inflect import inflect, verb_tags

_BE = {"am", "is", "are", "was", "were", "be", "been", "being", "'s", "'re", "'m"}
_HAVE = {"has", "have", "had", "'ve"}
_MODAL = {"will", "would", "may", "might", "could", "should", "can", "must", "shall", "ca", "wo",
          "to", "'ll", "might've"}
_PLACEHOLDER = re.compile(r"\{(be|subj|obj|poss|refl|v:[a-z]+)\}")

_PRONOUNS = {
    "female": {"subj": "she", "obj": "her", "poss": "her", "refl": "herself"},
    "male": {"subj": "he", "obj": "him", "poss": "his", "refl": "himself"},
    "plural": {"subj": "they", "obj": "them", "poss": "their", "refl": "themselves"},
    "unknown": {"subj": "the child", "obj": "the child", "poss": "the child's",
                "refl": "themselves"},
}
_PRONOUN_PERSON = {
    "she": "female", "her": "female", "herself": "female", "hers": "female",
    "he": "male", "him": "male", "his": "male", "himself": "male",
    "they": "plural", "them": "plural", "their": "plural", "themselves": "plural",
    "themself": "plural",
}


class VerbForm(NamedTuple):
    """How the matched verb group is inflected: what to keep before it and the target form.

    (A named tuple: it is hashed for every cached `_fill`, and a tuple hashes in C.)
    """

    prefix: str
    """Auxiliary words kept verbatim before the rendered verb ("will", "has")."""
    mode: str
    """base | perfect | progressive | present | past | gerund | participle."""
    be_form: str = ""
    """The original be-auxiliary for progressive forms ("was", "is")."""


def _lowers(span: Span) -> Sequence[str]:
    """Lower-cased token texts of the span's doc."""
    return [t.lower_ for t in span.doc]


def _person(span: Span, lowers: Sequence[str]) -> str:
    for low in lowers[span.start : span.end]:
        if low in _PRONOUN_PERSON:
            return _PRONOUN_PERSON[low]
    for low in reversed(lowers[max(0, span.start - 12) : span.start]):
        if low in {"she", "he", "they"}:
            return _PRONOUN_PERSON[low]
        if low in {".", "!", "?"}:
            break
    return "unknown"


_AUXILIARIES = _BE | _HAVE | _MODAL


def _aux_chain(span: Span, lowers: Sequence[str]) -> tuple[int, list[str]]:
    """Token index where the contiguous auxiliaries before the span begin, and their texts."""
    i = span.start
    while i > 0 and lowers[i - 1] in _AUXILIARIES:
        i -= 1
    return i, [t.text for t in span.doc[i : span.start]] if i < span.start else []


def verb_form(span: Span, lowers: Sequence[str] | None = None) -> tuple[int, VerbForm]:
    """The verb form of a span that starts with a verb: (edit start token, form).

    ``lowers`` are the doc's lower-cased token texts if the caller has them.
    """
    lowers = _lowers(span) if lowers is None else lowers
    start, chain = _aux_chain(span, lowers)
    lower = lowers[start : span.start]
    _, tags = verb_tags(lowers[span.start])
    modal_at = max((k for k, w in enumerate(lower) if w in _MODAL), default=-1)
    if modal_at >= 0:
        rest = lower[modal_at + 1 :]
        prefix = " ".join(chain[: modal_at + 1])
        if rest and rest[0] in {"have", "'ve"}:
            return start, VerbForm(prefix + " " + chain[modal_at + 1], "perfect")
        return start, VerbForm(prefix, "base")
    have = [k for k, w in enumerate(lower) if w in _HAVE]
    if have:
        return start, VerbForm(" ".join(chain[: have[0] + 1]), "perfect")
    be = [k for k, w in enumerate(lower) if w in _BE]
    if be:
        be_word = chain[be[-1]]
        mode = "progressive" if "VBG" in tags else "passive"
        return start, VerbForm("", mode, be_word)
    if "VBZ" in tags:
        return span.start, VerbForm("", "present")
    if "VBD" in tags:
        return span.start, VerbForm("", "past")
    if "VBG" in tags:
        return span.start, VerbForm("", "gerund")
    if "VBN" in tags:
        return span.start, VerbForm("", "participle")
    return span.start, VerbForm("", "present")


def _render_verb(lemma: str, form: VerbForm, person: str) -> str:
    plural = person == "plural"
    if lemma == "be":
        word = {
            "base": "be",
            "perfect": "been",
            "progressive": form.be_form,
            "passive": form.be_form,
            "present": "are" if plural else "is",
            "past": "were" if plural else "was",
            "gerund": "being",
            "participle": "been",
        }[form.mode]
    else:
        word = {
            "base": inflect(lemma, "VB"),
            "perfect": inflect(lemma, "VBN"),
            "progressive": f"{form.be_form} {inflect(lemma, 'VBG')}",
            "passive": f"{form.be_form} {inflect(lemma, 'VBN')}",
            "present": inflect(lemma, "VBP" if plural else "VBZ"),
            "past": inflect(lemma, "VBD"),
            "gerund": inflect(lemma, "VBG"),
            "participle": inflect(lemma, "VBN"),
        }[form.mode]
    return f"{form.prefix} {word}".strip() if form.prefix else word


def _match_case(original: str, rendered: str) -> str:
    if len(original) > 3 and original.isupper():
        return rendered.upper()
    if original[:1].isupper() and rendered[:1].islower():
        return rendered[0].upper() + rendered[1:]
    return rendered


@lru_cache(maxsize=8192)
def _fill(template: str, form: VerbForm, person: str) -> str:
    """The template with its placeholders filled (a pure function, so cached)."""
    pronouns = _PRONOUNS[person if person in _PRONOUNS else "unknown"]

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "be":
            return _render_verb("be", form, person)
        if key.startswith("v:"):
            return _render_verb(key[2:], form, person)
        return pronouns[key]

    return _PLACEHOLDER.sub(fill, template)


def render(template: str, span: Span, lowers: Sequence[str] | None = None) -> Suggestion:
    """Render one suggestion template for a matched span; the edit may absorb auxiliaries.

    ``lowers`` are the doc's lower-cased token texts if the caller has them.
    """
    return render_all((template,), span, lowers)[0]


_PLAIN = VerbForm("", "present")


def plain(template: str) -> str:
    """A suggestion template as it reads about an unnamed child in the present tense ("{be}
    exposed to harm" -> "is exposed to harm"), for listings outside any sentence."""
    return _fill(template, _PLAIN, "unknown")


@lru_cache(maxsize=1024)
def _verbal(templates: tuple[str, ...]) -> tuple[bool, ...]:
    """For each template, whether it inflects a verb (so the edit may absorb auxiliaries)."""
    return tuple("{be}" in t or "{v:" in t for t in templates)


def render_all(
    templates: Sequence[str],
    span: Span,
    lowers: Sequence[str] | None = None,
    text: str | None = None,
) -> tuple[Suggestion, ...]:
    """Render every template, dropping duplicates (``lowers`` as for `render`; ``text`` is
    ``span.text`` if the caller has it)."""
    lowers = _lowers(span) if lowers is None else lowers
    templates = tuple(templates)
    start = span.start
    form: VerbForm | None = None
    edit_text = None
    edit_from = span.start_char
    if any(_verbal(templates)):
        edit_start, form = verb_form(span, lowers)
        if edit_start != start:
            edit = Span(span.doc, edit_start, span.end)
            edit_text, edit_from = edit.text, edit.start_char
    span_text = span.text if text is None else text
    out = []
    # the texts depend only on these inputs, so they are rendered once per distinct inputs
    for rendered, on_edit in _render_texts(templates, _person(span, lowers), form,
                                           span_text, edit_text):
        if on_edit:
            out.append(Suggestion(rendered, edit_from, span.end_char))
        else:
            out.append(Suggestion(rendered, span.start_char, span.end_char))
    return tuple(out)


@lru_cache(maxsize=8192)
def _render_texts(
    templates: tuple[str, ...],
    person: str,
    form: VerbForm | None,
    span_text: str,
    edit_text: str | None,
) -> tuple[tuple[str, bool], ...]:
    """Each template rendered, without duplicates, with whether it replaces the edit (the span
    and the auxiliaries before it, ``edit_text``) rather than the span alone."""
    out: list[tuple[str, bool]] = []
    for template, is_verbal in zip(templates, _verbal(templates), strict=True):
        on_edit = is_verbal and edit_text is not None
        original = edit_text if on_edit and edit_text is not None else span_text
        filled = _fill(template, (form or _PLAIN) if is_verbal else _PLAIN, person)
        rendered = (_match_case(original, filled), on_edit)
        if rendered not in out:
            out.append(rendered)
    return tuple(out)


@dataclass(frozen=True)
class Edit:
    """One replacement made by `rewrite`: ``original`` at ``[start, end)`` -> ``replacement``."""

    start: int
    end: int
    original: str
    replacement: str
    code: str


def apply_suggestions(text: str, findings: Sequence[Finding]) -> tuple[str, list[Edit]]:
    """Apply the first suggestion of each finding (non-overlapping, left to right)."""
    edits: list[Edit] = []
    last_end = -1
    for f in sorted(findings, key=lambda f: f.start):
        if not f.suggestions:
            continue
        sug = f.suggestions[0]
        if sug.start < last_end:
            continue
        edits.append(Edit(sug.start, sug.end, text[sug.start : sug.end], sug.text, f.code))
        last_end = sug.end
    parts = []
    pos = 0
    for e in edits:
        parts.append(text[pos : e.start])
        parts.append(e.replacement)
        pos = e.end
    parts.append(text[pos:])
    return "".join(parts), edits
