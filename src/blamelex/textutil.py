"""Text clean-up that keeps character offsets: every change replaces one code point with one."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Replace lone surrogates (which spaCy cannot encode) with U+FFFD; same length as ``text``."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)
