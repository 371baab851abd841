"""Sentence boundaries without a parser: the Doc's own if a pipe set them, else a rule split."""

from __future__ import annotations

import numpy as np
from spacy.attrs import IS_SPACE, ORTH
from spacy.strings import hash_string  # type: ignore[attr-defined]
from spacy.tokens import Doc

_END_IDS = np.array([hash_string(c) for c in (".", "!", "?")], dtype=np.uint64)


def sentence_bounds(doc: Doc) -> list[tuple[int, int]]:
    """Token ranges of the sentences: the doc's own if set, else split on . ! ? and line breaks.

    A closing quote or bracket right after the end mark stays with its sentence.
    """
    if doc.has_annotation("SENT_START"):
        return [(s.start, s.end) for s in doc.sents]
    n = len(doc)
    if n == 0:
        return []
    arr = doc.to_array([ORTH, IS_SPACE])
    ends = np.isin(arr[:, 0], _END_IDS)
    for i in np.flatnonzero(arr[:, 1]):
        if "\n" in doc[int(i)].text:
            ends[i] = True
    bounds = []
    start = 0
    for i in np.flatnonzero(ends[:-1]).tolist():
        nxt = doc[i + 1]
        if nxt.is_quote or nxt.text in {")", "]"} or i + 1 <= start:
            continue
        bounds.append((start, i + 1))
        start = i + 1
    if start < n:
        bounds.append((start, n))
    return bounds


__all__ = ["sentence_bounds"]
