"""Text helpers that keep character offsets: clean-up that replaces one code point with one, and
the rule for cutting a long text into pieces."""

from __future__ import annotations

import re
from collections.abc import Iterator

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Replace lone surrogates (which spaCy cannot encode) with U+FFFD; same length as ``text``.
    A text with none comes back as the same object."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def cut_point(text: str, start: int, size: int, final: bool = True) -> int:
    """Where the piece of ``text`` that begins at ``start`` ends: after the last line break
    within ``size`` characters, else after the last space, else at ``size`` characters. When
    the rest fits, the end of ``text`` (if ``final``: more text may follow otherwise)."""
    if final and len(text) - start <= size:
        return len(text)
    limit = start + size
    cut = text.rfind("\n", start, limit) + 1
    if cut <= start:
        cut = text.rfind(" ", start, limit) + 1
    return cut if cut > start else limit


def pieces(text: str, size: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each piece of ``text`` cut at most ``size`` characters long
    (`cut_point`), in order; the last ends at ``len(text)``."""
    start = 0
    while True:
        end = cut_point(text, start, size)
        yield start, end
        if end >= len(text):
            return
        start = end
