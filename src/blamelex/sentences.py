"""Sentence boundaries without a parser: the Doc's own if a pipe set them, else a rule split."""

from __future__ import annotations

from itertools import compress

from spacy.tokens import Doc

from blamelex.tokenregex import SPACE, TokenText

# an end mark (. ! ?) or a whitespace token holding a line break (normalised by TokenText)
_ENDS = frozenset({".", "!", "?", SPACE + "\n"})
# quotation marks (those spaCy's `is_quote` knows) and closing brackets: no split before them
_QUOTES = frozenset({'"', "'", "`", "\u00ab", "\u00bb", "\u2018", "\u2019", "\u201a", "\u201b",
                     "\u201c", "\u201d", "\u201e", "\u201f", "\u2039", "\u203a", "\u276e",
                     "\u276f", "''", "``"})
_CLOSERS = _QUOTES | {")", "]"}


def sentence_bounds(doc: Doc, text: TokenText | None = None) -> list[tuple[int, int]]:
    """Token ranges of the sentences: the doc's own if set, else split on . ! ? and line breaks.

    An end mark right before a quotation mark or closing bracket ends no sentence (whether the
    mark closes this sentence or opens the next is unknown). ``text`` is the doc's `TokenText`
    if the caller already has it.
    """
    if text is not None and text.bounds is not None:
        return text.bounds
    if text is None:
        text = TokenText.of(doc)
    text.bounds = _bounds(doc, text)
    return text.bounds


def parser_bounds(doc: Doc, text: TokenText) -> list[tuple[int, int]] | None:
    """The doc's own sentences if a pipe (parser, senter) set them, else None."""
    return sentence_bounds(doc, text) if _parsed(doc, text) else None


def _parsed(doc: Doc, text: TokenText) -> bool:
    """Whether a pipe set the doc's sentences (asked once per doc: spaCy checks every token)."""
    if text.parsed is None:
        text.parsed = bool(len(doc)) and doc.has_annotation("SENT_START")
    return text.parsed


def _bounds(doc: Doc, text: TokenText) -> list[tuple[int, int]]:
    if _parsed(doc, text):
        return [(s.start, s.end) for s in doc.sents]
    n = len(doc)
    if n == 0:
        return []
    lowers = text.lowers
    bounds = []
    start = 0
    # the end marks' token indexes, found in C; one on the last token ends nothing
    for i in compress(range(n - 1), map(_ENDS.__contains__, lowers)):
        nxt = lowers[i + 1]
        if nxt in _CLOSERS:
            continue
        bounds.append((start, i + 1))
        start = i + 1
    if start < n:
        bounds.append((start, n))
    return bounds


__all__ = ["parser_bounds", "sentence_bounds"]
