"""Sentence boundaries without a parser: the Doc's own if a pipe set them, else a rule split."""

from __future__ import annotations

from spacy.tokens import Doc

from blamelex.tokenregex import SPACE, TokenText

_END_MARKS = frozenset({".", "!", "?", SPACE + "\n"})


def sentence_bounds(doc: Doc, text: TokenText | None = None) -> list[tuple[int, int]]:
    """Token ranges of the sentences: the doc's own if set, else split on . ! ? and line breaks.

    A closing quote or bracket right after the end mark stays with its sentence. ``text`` is
    the doc's `TokenText` if the caller already has it.
    """
    if doc.has_annotation("SENT_START"):
        return [(s.start, s.end) for s in doc.sents]
    n = len(doc)
    if n == 0:
        return []
    lowers = (text or TokenText.of(doc)).lowers
    bounds = []
    start = 0
    for i in range(n - 1):
        if lowers[i] not in _END_MARKS or i + 1 <= start:
            continue
        nxt = doc[i + 1]
        if nxt.is_quote or nxt.text in {")", "]"}:
            continue
        bounds.append((start, i + 1))
        start = i + 1
    if start < n:
        bounds.append((start, n))
    return bounds


__all__ = ["sentence_bounds"]
