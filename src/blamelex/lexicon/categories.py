"""The category-level entries: what a finding the model makes without a lexicon match reports
(code ``VB100``, ``VB200`` ..., term, severity, explanation, suggestions, sources), made from the
categories data (`blamelex.categories`). `entry_for_code` finds any code that can be reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from blamelex.categories import categories
from blamelex.lexicon import Entry, Lexicon


@cache
def category_entries() -> Mapping[str, Entry]:
    """The category-level entry of each bundled category, by category name."""
    return MappingProxyType({
        name: Entry(
            code=c.code, term=c.term, category=name, severity=c.severity, patterns=(),
            explanation=c.explanation, suggestions=c.suggestions, sources=c.sources,
            examples_flag=(), examples_ok=(), applies_to="child", file=c.file, line=c.line)
        for name, c in categories().items()})


def entry_for_code(lexicon: Lexicon, code: str) -> Entry | None:
    """The lexicon entry with this code, else the category-level entry with it, else None."""
    found = lexicon.get(code)
    if found is not None:
        return found
    code = code.upper()
    return next((e for e in category_entries().values() if e.code == code), None)


__all__ = ["category_entries", "entry_for_code"]
