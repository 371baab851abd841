"""Sentence boundaries without a parser: the Doc's own if a pipe set them, else a rule split."""

from __future__ import annotations

import re

from spacy.lang.lex_attrs import is_quote
from spacy.tokens import Doc

from blamelex.tokenregex import SEP, SPACE, TokenText

# an end mark (. ! ?) or a whitespace token holding a line break, as whole tokens
_END = re.compile(f"(?<![^{SEP}])(?:[.!?]|{SPACE}\n){SEP}")
_CLOSERS = frozenset({")", "]"})


def sentence_bounds(doc: Doc, text: TokenText | None = None) -> list[tuple[int, int]]:
    """Token ranges of the sentences: the doc's own if set, else split on . ! ? and line breaks.

    A closing quote or bracket right after the end mark stays with its sentence. ``text`` is
    the doc's `TokenText` if the caller already has it.
    """
    if text is not None and text.bounds is not None:
        return text.bounds
    if text is None:
        text = TokenText.of(doc)
    text.bounds = _bounds(doc, text)
    return text.bounds


def _bounds(doc: Doc, text: TokenText) -> list[tuple[int, int]]:
    if doc.has_annotation("SENT_START"):
        return [(s.start, s.end) for s in doc.sents]
    n = len(doc)
    if n == 0:
        return []
    lowers = text.lowers
    string = text.string
    bounds = []
    start = 0
    i = 0
    pos = 0
    for m in _END.finditer(string):
        i += string.count(SEP, pos, m.start())  # the end mark's token index
        pos = m.start()
        if i + 1 >= n or i + 1 <= start:
            continue
        nxt = lowers[i + 1]
        if is_quote(nxt) or nxt in _CLOSERS:
            continue
        bounds.append((start, i + 1))
        start = i + 1
    if start < n:
        bounds.append((start, n))
    return bounds


__all__ = ["sentence_bounds"]
