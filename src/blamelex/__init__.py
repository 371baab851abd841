"""blamelex: find victim-blaming language in case notes about children and suggest neutral wording.

    >>> import blamelex
    >>> detector = blamelex.load()
    >>> [f.code for f in detector.scan("YP was putting herself at risk.")]  # doctest: +SKIP
    ['VB101']
"""

from __future__ import annotations

from functools import lru_cache

from blamelex.detector import Detector, load
from blamelex.findings import Finding, Modifier, Source, Suggestion
from blamelex.rephrase import Edit

__version__ = "0.1.0"


@lru_cache(maxsize=1)
def _default() -> Detector:
    return load()


def scan(text: str) -> list[Finding]:
    """Scan ``text`` with the default detector (loaded once)."""
    return _default().scan(text)


def rewrite(text: str) -> tuple[str, list[Edit]]:
    """Return ``text`` with each finding replaced by its first suggestion, and the edits."""
    return _default().rewrite(text)


__all__ = [
    "Detector",
    "Edit",
    "Finding",
    "Modifier",
    "Source",
    "Suggestion",
    "__version__",
    "load",
    "rewrite",
    "scan",
]
