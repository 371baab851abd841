"""Render suggestion templates so they fit the sentence, and build rewrites.

Templates use ``{be}``, ``{v:lemma}``, ``{subj}``, ``{obj}``, ``{poss}``, ``{refl}`` (see
docs/lexicon-format.md). Tense and number come from the matched verb and the auxiliaries before it;
inflection comes from lemminflect (through `blamelex.inflect`), not hand-written verb tables.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from spacy.attrs import IS_ALPHA, IS_UPPER, LENGTH
from spacy.tokens import Doc, Span

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
    """Auxiliary words kept verbatim before the rendered verb ("will", "has", "shouldn't")."""
    mode: str
    """base | plain | perfect | progressive | passive | present | past | gerund | participle
    (``plain``: a present-tense verb in its base form, "they abscond")."""
    be_form: str = ""
    """The original be-auxiliary for progressive forms ("was", "is", "wasn't")."""
    plural: bool | None = None
    """The number the original auxiliary shows ("are", "were" -> True; "is", "has" -> False);
    None when it shows none, and the pronoun decides."""


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


_NEGATIONS = {"not", "n't", "never"}
_AUXILIARIES = _BE | _HAVE | _MODAL
_PLURAL_AUX = {"are", "were", "'re", "have", "'ve"}
_SINGULAR_AUX = {"is", "was", "'s", "has", "am", "'m"}
_LINKING = {"become", "get", "seem", "appear", "remain"}
"""Verbs that link a subject to a description: a suggestion's verb replaces them."""
_ADVERBS = {"always", "never", "often", "just", "still", "constantly", "forever", "also", "even",
            "again", "already", "sometimes", "regularly", "continually"}


def _aux_chain(at: int, lowers: Sequence[str]) -> tuple[int, list[str]]:
    """Token index where the contiguous auxiliaries (and negations after one of them: "should
    not", "can't") before token ``at`` begin, and their lower-cased texts."""
    i = at
    while i > 0 and (lowers[i - 1] in _AUXILIARIES or
                     (lowers[i - 1] in _NEGATIONS and i > 1 and
                      lowers[i - 2] in _AUXILIARIES | _NEGATIONS)):
        i -= 1
    while i < at and lowers[i] in _NEGATIONS:  # a chain starts with an auxiliary
        i += 1
    return i, list(lowers[i:at])


def _is_adverb(low: str) -> bool:
    return (low in _ADVERBS or (low.endswith("ly") and len(low) > 3)) and not verb_tags(low)[1]


def _head(span: Span, lowers: Sequence[str]) -> int:
    """The span's first token that is not an adverb ("always [comes] home")."""
    i = span.start
    while i < span.end - 1 and _is_adverb(lowers[i]):
        i += 1
    return i


def _through(chain: list[str], k: int) -> int:
    """``k`` moved past the negations that follow ``chain[k]``."""
    while k + 1 < len(chain) and chain[k + 1] in _NEGATIONS:
        k += 1
    return k


def verb_form(span: Span, lowers: Sequence[str] | None = None) -> tuple[int, VerbForm]:
    """The verb form of a span that starts with a verb: (edit start token, form).

    A span that is not a verb group takes in a linking verb before it: "has become [a
    recruiter]" is rendered from "has become" ("has been used by ..."), "became [sexually
    active]" from "became". ``lowers`` are the doc's lower-cased token texts if the caller has
    them.
    """
    lowers = _lowers(span) if lowers is None else lowers
    head = _head(span, lowers)
    verb_at = span.start
    _, tags = verb_tags(lowers[head])
    if not tags and span.start > 0 and lowers[span.start - 1] not in _AUXILIARIES:
        lemma, link_tags = verb_tags(lowers[span.start - 1])
        if lemma in _LINKING and link_tags:
            verb_at, head, tags = span.start - 1, span.start - 1, link_tags
    start, lower = _aux_chain(verb_at, lowers)
    doc = span.doc

    def kept(k: int) -> str:  # chain[0..k] as written, negations after it included
        return doc[start : start + _through(lower, k) + 1].text

    finite = next((w for w in lower if w not in _NEGATIONS), lowers[head])
    plural = True if finite in _PLURAL_AUX else False if finite in _SINGULAR_AUX else None
    modal_at = max((k for k, w in enumerate(lower) if w in _MODAL), default=-1)
    if modal_at >= 0:
        after = _through(lower, modal_at) + 1
        if after < len(lower) and lower[after] in {"have", "'ve"}:
            return start, VerbForm(kept(after), "perfect")
        return start, VerbForm(kept(modal_at), "base")
    have = [k for k, w in enumerate(lower) if w in _HAVE]
    if have:
        return start, VerbForm(kept(have[0]), "perfect", plural=plural)
    be = [k for k, w in enumerate(lower) if w in _BE]
    if be:
        be_word = doc[start + be[-1] : start + _through(lower, be[-1]) + 1].text
        mode = "progressive" if "VBG" in tags else "passive"
        return start, VerbForm("", mode, be_word, plural)
    if "VBZ" in tags:
        return start, VerbForm("", "present", plural=False)
    if "VBD" in tags:
        return start, VerbForm("", "past", plural=plural)
    if "VBG" in tags:
        return start, VerbForm("", "gerund")
    if tags & _BASE_TAGS and verb_at < span.start:
        # a linking verb in its base form is a plural present ("victims become [sexually
        # active]"): after "have" or a modal it was handled above
        return start, VerbForm("", "plain")
    if "VBN" in tags:
        return start, VerbForm("", "participle")
    if tags & _BASE_TAGS and _plural_subject(span, lowers):
        return start, VerbForm("", "plain")  # "youngsters repeatedly [abscond]", not "a party"
    return start, VerbForm("", "present", plural=plural)  # "[are sexually active]"


def _plural_subject(span: Span, lowers: Sequence[str]) -> bool:
    """The word before the span (adverbs skipped) is a plural subject: a verb in its base form
    after it is a plural present ("they abscond"), not a noun ("a party")."""
    i = span.start - 1
    while i >= 0 and _is_adverb(lowers[i]):
        i -= 1
    return i >= 0 and (lowers[i] in {"they", "we", "you", "i"} or
                       (_plural_word(lowers[i]) and not verb_tags(lowers[i])[1]))


def _render_verb(lemma: str, form: VerbForm, person: str) -> str:
    plural = person == "plural" if form.plural is None else form.plural
    if lemma == "be":
        word = {
            "base": "be",
            "plain": "are",
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
            "plain": inflect(lemma, "VBP"),
            "perfect": inflect(lemma, "VBN"),
            "progressive": f"{form.be_form} {inflect(lemma, 'VBG')}",
            "passive": f"{form.be_form} {inflect(lemma, 'VBN')}",
            "present": inflect(lemma, "VBP" if plural else "VBZ"),
            "past": inflect(lemma, "VBD"),
            "gerund": inflect(lemma, "VBG"),
            "participle": inflect(lemma, "VBN"),
        }[form.mode]
    return f"{form.prefix} {word}".strip() if form.prefix else word


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


# -- fitting the suggestion to the words around the span ---------------------------------------

_DETERMINERS = {"a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "her",
                "its", "our", "their", "some", "any", "every", "each", "another", "such"}
_SUBJECTS = {"i", "you", "he", "she", "it", "we", "they", "who", "which", "yp", "cyp"}
_IRREGULAR_PLURALS = {"children", "men", "women", "people", "youngsters", "kids"}
_FINITE_START = re.compile(r"(?:\{be\}|is|was|are|were)\s+", re.I)
_VERB_START = re.compile(r"\{be\}|\{v:|(?:is|was|are|were)\b", re.I)
_ARTICLE_START = re.compile(r"(an?)\s+", re.I)
_CHILD_START = re.compile(r"(?:an?\s+)?child\b(?:(\s+who\s+)(is|was|has)\b)?", re.I)
_CHILD_WORD = re.compile(r"child\b", re.I)
_PLURAL_OF = {"is": "are", "was": "were", "has": "have"}
_SENTENCE_END = (".", "!", "?", ":")
_DEMONSTRATIVES = {"this", "that", "these", "those"}
_FINITE_TAGS = frozenset({"VBZ", "VBD"})
_BASE_TAGS = frozenset({"VB", "VBP"})
_PREPOSITIONS = {"about", "after", "as", "at", "before", "by", "during", "for", "from", "in",
                 "into", "of", "on", "over", "since", "than", "to", "until", "with", "without"}
_CONJUNCTIONS = {"and", "or", "but", "so", "because", "when", "while", "if", "though",
                 "although", "whereas", "then"}
_DANGLING = re.compile(r"\b(?:by|to|with|from|of|for)$")


class Context(NamedTuple):
    """What the words around a span ask of a suggestion (hashable: part of the render cache key).
    """

    slot: str
    """``verbal`` (a verb group: "is putting herself at risk"), ``nominal`` (a noun phrase: "the
    hooker", "a recruiter"), ``complement`` (words after a verb or noun that are not themselves a
    verb: "walked into that situation with his eyes open") or ``other``."""
    plural: bool = False
    """The span's last word is a plural noun ("underage hookers")."""
    article: str = ""
    """The indefinite article right before the span, as written ("a", "An"), or ""."""
    inner_article: bool = False
    """The span itself starts with "a" / "an" ("[a recruiter]")."""
    determiner: bool = False
    """Another determiner or possessive ("the", "our"), or a word that modifies the noun
    ("high-class"), is right before the span."""
    agent: str = ""
    """``by`` / ``from`` when the words right after the span name who or where ("were
    recruited by a gang"): the suggestion's own "by [person]" is then left out."""
    followed: bool = True
    """A word that can start a noun phrase follows the span, so a suggestion that ends in a
    preposition ("{be} sexually abused by") can take it as its object."""
    before: str = ""
    """The word right before the edit, lower-cased ("" for none or punctuation)."""
    after: str = ""
    """The word right after the span, lower-cased ("" for none or punctuation)."""
    shout: bool = False
    """The sentence around the span is written in capitals."""
    capital: bool = False
    """The edit starts a sentence."""


_NO_CONTEXT = Context("other")


def _plural_word(word: str) -> bool:
    if word in _IRREGULAR_PLURALS:
        return True
    return (len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s"))
            and word.isalpha())


def _char_before(doc: Doc, i: int) -> str:
    """The last character before token ``i`` that is not a space or tab ("" at the start)."""
    while i > 0:
        i -= 1
        piece = doc[i].text_with_ws.rstrip(" \t")
        if piece:
            return piece[-1]
    return ""


_SHOUT_ATTRS = [IS_ALPHA, IS_UPPER, LENGTH]
"""What tells whether the words around an edit are capitals, read for all tokens at once."""
_LAST_FLAGS: tuple[weakref.ref[Doc] | None, Any] = (None, None)


def _shout_flags(doc: Doc) -> Any:
    """`_SHOUT_ATTRS` of every token of ``doc`` (one C call, no Token objects), kept for the
    doc whose findings are being rendered (they come one doc at a time)."""
    global _LAST_FLAGS
    ref, flags = _LAST_FLAGS
    if ref is None or ref() is not doc:
        flags = doc.to_array(_SHOUT_ATTRS)
        _LAST_FLAGS = (weakref.ref(doc), flags)
    return flags


def _context(span: Span, lowers: Sequence[str], edit_start: int) -> Context:
    """Read what the suggestion has to fit: the slot, number, article, agent and case."""
    doc = span.doc
    prev = lowers[span.start - 1] if span.start > 0 else ""
    head = _head(span, lowers)
    first = lowers[head]
    tags = verb_tags(first)[1]
    if edit_start < span.start:
        slot = "verbal"
    elif first in _DETERMINERS:
        slot = "nominal"
    elif prev in _DEMONSTRATIVES and (first in _AUXILIARIES or tags & _FINITE_TAGS):
        slot = "verbal"  # "this [was not a true missing] episode": a pronoun, not a determiner
    elif prev in _DETERMINERS or prev == "as":
        slot = "nominal"
    elif tags - _BASE_TAGS or prev in _SUBJECTS or _plural_subject(span, lowers) or \
            first in _AUXILIARIES:
        slot = "verbal"
    elif tags:
        slot = "nominal"  # a base form with no subject before it is a noun: "class [prostitute]"
    elif span.start == 0 or not doc[span.start - 1].is_alpha or prev in _SUBJECTS or \
            doc[span.start - 1].text[:1].isupper():
        slot = "other"
    else:
        slot = "complement"
    # the last word heads the phrase unless a preposition comes before it ("hard as nails")
    plural = _plural_word(lowers[span.end - 1]) and first not in {"a", "an", "one"} and \
        not any(w in _PREPOSITIONS for w in lowers[span.start : span.end])
    article = doc[span.start - 1].text if slot == "nominal" and prev in {"a", "an"} else ""
    # a determiner, or a word that modifies the noun ("a high-class [prostitute]", "12-Year Old
    # [Prostitute]"): a suggestion's own article would be one too many
    modifier = span.start > 0 and doc[span.start - 1].is_alpha and \
        prev not in _PREPOSITIONS | _CONJUNCTIONS | _SUBJECTS | _AUXILIARIES and \
        not verb_tags(prev)[1] - _BASE_TAGS
    determiner = slot == "nominal" and not article and (prev in _DETERMINERS or modifier)
    inner_article = lowers[span.start] in {"a", "an"} and edit_start == span.start
    agent = ""
    nxt = lowers[span.end] if span.end < len(doc) else ""
    if span.end + 1 < len(doc) and nxt in {"by", "from"}:
        after = lowers[span.end + 1]
        if not (after.endswith("ing") and "VBG" in verb_tags(after)[1]):  # "by going ..."
            agent = nxt
    # a noun phrase follows, so a suggestion ending in "by" can take it as its agent
    followed = bool(nxt) and doc[span.end].is_alpha and nxt not in _PREPOSITIONS | _CONJUNCTIONS
    # capitals: the other words of the sentence around the edit are capitals too
    # (read from the text between the tokens' offsets: two token lookups, not twenty)
    lo, hi = max(0, edit_start - 10), min(len(doc), span.end + 10)
    flags = _shout_flags(doc)[lo:hi]
    words = upper = 0
    for k, (alpha, caps, size) in enumerate(flags.tolist(), lo):
        if alpha and size > 1 and not edit_start <= k < span.end:
            words += 1
            upper += caps
    shout = not words or upper * 3 >= words * 2
    before = _char_before(doc, span.start - 1 if article else edit_start)
    capital = not before or before in (*_SENTENCE_END, "\n", "\r", '"', "(", "“", "‘")
    first_edit = span.start - 1 if article else edit_start
    word_before = doc[first_edit - 1] if first_edit > 0 else None
    word_after = doc[span.end] if span.end < len(doc) else None
    return Context(slot, plural, article, inner_article, determiner, agent, followed,
                   word_before.lower_ if word_before is not None and word_before.is_alpha else "",
                   word_after.lower_ if word_after is not None and word_after.is_alpha else "",
                   shout, capital)


def _order(templates: tuple[str, ...], ctx: Context) -> tuple[str, ...]:
    """The templates that fit first, otherwise in the lexicon's order: one that ends in a
    preposition needs a noun phrase after the span; then a verb group for a verb group and a noun
    phrase for a noun phrase."""

    def misfit(template: str) -> tuple[bool, bool]:
        dangling = not ctx.followed and bool(_DANGLING.search(template))
        verb = bool(_VERB_START.match(template))
        wrong = (ctx.slot == "verbal" and not verb) or (ctx.slot == "nominal" and verb)
        return dangling, wrong

    return tuple(sorted(templates, key=misfit))


def _pluralise(text: str) -> str:
    """'(a) child who is ...' -> 'children who are ...' (only suggestions headed by 'child')."""
    m = _CHILD_START.match(text)
    if not m:
        return text
    head = "children" + (f"{m.group(1)}{_PLURAL_OF[m.group(2).lower()]}" if m.group(1) else "")
    return head + text[m.end() :]


def _fit(filled: str, ctx: Context, verbal_edit: bool) -> tuple[str, bool]:
    """The filled template fitted to the words around it, and whether the edit takes in the
    article before the span."""
    text = filled
    if not verbal_edit and ctx.slot in {"nominal", "complement"}:
        # a finite verb cannot follow an article or a verb: "has become [used by ...]",
        # "walked into that situation [deceived and manipulated by ...]"
        m = _FINITE_START.match(text)
        if m:
            text = text[m.end() :]
    if ctx.plural:
        text = _pluralise(text)
    if ctx.agent:  # the original names them: "were recruited by a gang", keep its words
        text = re.sub(rf",?\s+{ctx.agent}\s+\[[^\]]*\]", "", text, count=1)
    takes_article = bool(ctx.article)
    if ctx.article or (ctx.inner_article and not verbal_edit):
        # "an [absconder]" -> "a child reported missing ...": an article the suggestion has is
        # kept, "child" gets one, and any other beginning ("missing ...", "[person] ...",
        # "sexual abuse ...", which may be a mass noun) loses the original's
        m = _ARTICLE_START.match(text)
        if m:
            word = text[m.end() :]
            text = f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
        elif _CHILD_WORD.match(text):
            text = f"a {text}"
    elif ctx.determiner:
        m = _ARTICLE_START.match(text)
        if m:
            text = text[m.end() :]
    # no word twice at a seam: "wearing [wearing ...]", "a child [child who ...]", "the [the
    # adults ...]", "[... other children in] in from his old school"
    first, _, rest = text.partition(" ")
    if rest and ctx.before and first.lower() == ctx.before:
        text = rest
    head, _, last = text.rpartition(" ")
    if head and ctx.after and last.lower() == ctx.after:
        text = head
    return text, takes_article


def _case(original: str, rendered: str, ctx: Context) -> str:
    if len(original) > 3 and original.isupper() and ctx.shout:
        return rendered.upper()
    if ctx.capital and original[:1].isupper() and rendered[:1].islower():
        return rendered[0].upper() + rendered[1:]
    return rendered


def render_all(
    templates: Sequence[str],
    span: Span,
    lowers: Sequence[str] | None = None,
    text: str | None = None,
) -> tuple[Suggestion, ...]:
    """Render every template, dropping duplicates (``lowers`` as for `render`; ``text`` is
    ``span.text`` if the caller has it). Those that fit the span's place in the sentence come
    first (`Context`); an edit may take in the auxiliaries before a verb group or the article
    before a noun phrase."""
    lowers = _lowers(span) if lowers is None else lowers
    templates = tuple(templates)
    start = span.start
    form: VerbForm | None = None
    edit_text = None
    edit_from = span.start_char
    edit_start = start
    if any(_verbal(templates)):
        edit_start, form = verb_form(span, lowers)
        if edit_start != start:
            edit = Span(span.doc, edit_start, span.end)
            edit_text, edit_from = edit.text, edit.start_char
    ctx = _context(span, lowers, start if edit_text is None else edit_start)
    span_text = span.text if text is None else text
    article_from = span.doc[start - 1].idx if ctx.article else span.start_char
    out = []
    # the texts depend only on these inputs, so they are rendered once per distinct inputs
    for rendered, where in _render_texts(templates, _person(span, lowers), form, span_text,
                                         edit_text, ctx):
        begin = {"edit": edit_from, "article": article_from}.get(where, span.start_char)
        out.append(Suggestion(rendered, begin, span.end_char))
    return tuple(out)


@lru_cache(maxsize=8192)
def _render_texts(
    templates: tuple[str, ...],
    person: str,
    form: VerbForm | None,
    span_text: str,
    edit_text: str | None,
    ctx: Context = _NO_CONTEXT,
) -> tuple[tuple[str, str], ...]:
    """Each template rendered and fitted, without duplicates, with what it replaces: ``span``,
    ``edit`` (the span and the auxiliaries before it, ``edit_text``) or ``article`` (the span
    and the article before it)."""
    out: list[tuple[str, str]] = []
    verbal = dict(zip(templates, _verbal(templates), strict=True))
    for template in _order(templates, ctx):
        is_verbal = verbal[template]
        on_edit = is_verbal and edit_text is not None
        filled = _fill(template, (form or _PLAIN) if is_verbal else _PLAIN, person)
        fitted, takes_article = _fit(filled, ctx, on_edit)
        if on_edit and edit_text is not None:
            where, original = "edit", edit_text
        elif takes_article:
            where, original = "article", f"{ctx.article} {span_text}"
        else:
            where, original = "span", span_text
        rendered = (_case(original, fitted, ctx), where)
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


SKIP_REASONS = {
    "model": "found by the model alone: its suggestions are category-level guidance, not "
             "wording fitted to the span",
    "voice": "reported or quoted wording: another person's words are not rewritten",
    "not_whole_words": "the span starts or ends inside a word",
    "no_suggestion": "no suggested wording",
    "overlap": "overlaps wording already rewritten",
    "decision": "a risk grade is the grader's decision: the suggestion says what the indicators "
                "point to and asks for the reasons, it is not wording to put in place",
    "runs_on": "the phrase runs on past the match ('at risk of ...'), so the suggestion would "
               "leave its end behind",
}
"""Why `apply_suggestions` leaves a finding for a manual rewrite (reason -> explanation)."""

_OTHER_VOICE = frozenset({"QUOTED", "REPORTED"})
"""Modifiers that mark the words as someone else's (the context rules' own names)."""


@dataclass(frozen=True)
class Skipped:
    """A finding `apply_suggestions` did not apply: it needs a manual rewrite."""

    finding: Finding
    reason: str
    """A key of `SKIP_REASONS`."""

    @property
    def explanation(self) -> str:
        """``reason`` in words."""
        return SKIP_REASONS[self.reason]


class Rewrite(tuple[str, list[Edit]]):
    """What `apply_suggestions` returns: unpacks as ``(text, edits)``, as it always has, and
    carries the findings left for a manual rewrite in ``skipped``."""

    skipped: tuple[Skipped, ...]

    def __new__(cls, text: str, edits: list[Edit],
                skipped: Sequence[Skipped] = ()) -> Rewrite:
        self = super().__new__(cls, (text, edits))
        self.skipped = tuple(skipped)
        return self

    @property
    def text(self) -> str:
        """The rewritten text."""
        return self[0]

    @property
    def edits(self) -> list[Edit]:
        """The replacements made, left to right."""
        return self[1]

    def __repr__(self) -> str:
        return f"Rewrite(text={self.text!r}, edits={self.edits!r}, skipped={self.skipped!r})"


def _word_char(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] == "_")


def _char_in(text: str, i: int, chars: str) -> bool:
    return 0 <= i < len(text) and text[i] in chars


_POSSESSIVE = re.compile(r"['’]s\b", re.I)


def _inside_word(text: str, i: int, end: bool) -> bool:
    """Boundary ``i`` (between characters) falls inside a word: between two word characters, or
    at a hyphen that joins two ("a 26|-year-old"). A span may end before a possessive ("child|'s":
    the replacement takes it as well); a clitic elsewhere ("is|n't") belongs to its word."""
    if end and _POSSESSIVE.match(text, i):
        return False
    if _word_char(text, i - 1) and (_word_char(text, i) or _char_in(text, i, "'’")):
        return True
    if not end and _char_in(text, i - 1, "'’") and _word_char(text, i - 2):
        return True  # starts at "'s" / "'re" after a word
    hyphen = "-‐‑"
    if _char_in(text, i, hyphen) and _word_char(text, i - 1) and _word_char(text, i + 1):
        return True
    return _char_in(text, i - 1, hyphen) and _word_char(text, i - 2) and _word_char(text, i)


def whole_words(text: str, start: int, end: int) -> bool:
    """True if ``text[start:end]`` is non-blank and neither starts nor ends inside a word
    (hyphenated words count as one word)."""
    if start >= end or not text[start:end].strip():
        return False
    return not _inside_word(text, start, False) and not _inside_word(text, end, True)


_RUNS_ON = re.compile(r"\s+of\b", re.I)


ATTRIBUTION = ("\u201c{text}\u201d (the words of [professional or agency]: quote them and say who "
               "used them; then record what is happening to the child and who is harming them)")
"""The first suggestion of a finding in voice ``reported``: someone else's words are not the
writer's to rewrite, so it asks for the label to be attributed and the concern recorded (the
finding's other suggestions are the neutral wording the writer's own account can use)."""


def attribution(text: str, start: int, end: int) -> Suggestion:
    """The attribution suggestion for reported wording ``text`` at ``start:end``."""
    return Suggestion(ATTRIBUTION.format(text=text), start, end)


def skip_reason(text: str, finding: Finding) -> str | None:
    """Why ``finding`` must not be rewritten automatically, or ``None`` if it may be.

    The rule: a finding is rewritten only when its first suggestion is lexicon wording rendered
    for the matched phrase (origin ``lexicon``); the phrase is the writer's own words (no
    QUOTED or REPORTED modifier, and no ``voice`` other than ``own`` once findings carry one);
    the replaced text is whole words; and the sentence does not run on with "of" after it ("at
    risk of exploitation": the rewrite would strand "of exploitation"). A model finding is never
    applied: its span may be any
    part of a sentence and its suggestions are sentences about the category, so putting them in
    place of the span breaks the sentence ("Jade is playing the child has not yet felt able ...").
    """
    if not finding.suggestions:
        return "no_suggestion"
    if finding.origin == "risk":
        return "decision"  # a risk grade is the grader's decision: its suggestions are prompts
    if finding.origin != "lexicon":
        return "model"
    voice = getattr(finding, "voice", None)
    if (voice is not None and voice != "own") or \
            any(m.name in _OTHER_VOICE for m in finding.modifiers):
        return "voice"
    sug = finding.suggestions[0]
    # an edit may start at a clitic auxiliary when the replacement keeps it ("he['s putting
    # himself at risk]" -> "he's exposed to harm by [person]")
    clitic = _char_in(text, sug.start, "'’") and _char_in(sug.text, 0, "'’")
    if not (whole_words(text, finding.start, finding.end) and
            (whole_words(text, sug.start, sug.end) or
             (clitic and not _inside_word(text, sug.end, True)))):
        return "not_whole_words"
    if _RUNS_ON.match(text, sug.end):
        return "runs_on"
    return None


def apply_suggestions(text: str, findings: Sequence[Finding]) -> Rewrite:
    """Apply the first suggestion of each finding that is safe to rewrite (see `skip_reason`),
    left to right; where edits would overlap, the one starting first (then the longer) is made.

    Returns the new text and the edits (unpacks as ``(text, edits)``); ``.skipped`` lists the
    findings left for a manual rewrite and why. A finding that lies wholly inside wording already
    rewritten is neither an edit nor skipped: its words are gone.
    """
    edits: list[Edit] = []
    skipped: list[Skipped] = []
    last_start, last_end = -1, -1
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if last_start <= f.start and f.end <= last_end:
            continue  # covered by the edit before it
        reason = skip_reason(text, f)
        if reason is None:
            sug = f.suggestions[0]
            if sug.start < last_end:
                reason = "overlap"
            else:
                edits.append(Edit(sug.start, sug.end, text[sug.start : sug.end], sug.text, f.code))
                last_start, last_end = sug.start, sug.end
                continue
        skipped.append(Skipped(f, reason))
    parts = []
    pos = 0
    for e in edits:
        parts.append(text[pos : e.start])
        parts.append(e.replacement)
        pos = e.end
    parts.append(text[pos:])
    return Rewrite("".join(parts), edits, skipped)
