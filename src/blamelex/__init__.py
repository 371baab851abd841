"""blamelex: find victim-blaming language in case notes about children and suggest neutral wording.

    >>> import blamelex
    >>> detector = blamelex.load()
    >>> [f.code for f in detector.scan("YP was putting herself at risk.")]  # doctest: +SKIP
    ['VB101']

Importing the package is cheap: the detector and the rest (spaCy, ONNX Runtime, numpy) are
imported on first use of `load`, `Detector` and the other names below (PEP 562), so
``blamelex --version`` and ``--help`` start in well under a second.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from blamelex._version import __version__

if TYPE_CHECKING:  # what the lazy names are, for type checkers
    from blamelex.detector import Detector, load
    from blamelex.findings import Finding, Modifier, Source, Suggestion
    from blamelex.rephrase import Edit, Rewrite, Skipped

_LAZY = {
    "Detector": "blamelex.detector",
    "load": "blamelex.detector",
    "Finding": "blamelex.findings",
    "Modifier": "blamelex.findings",
    "Source": "blamelex.findings",
    "Suggestion": "blamelex.findings",
    "Edit": "blamelex.rephrase",
    "Rewrite": "blamelex.rephrase",
    "Skipped": "blamelex.rephrase",
}


def __getattr__(name: str) -> Any:
    """Import the module behind a public name on first use, and keep the name here; a
    submodule's name (``blamelex.lexicon``) imports it, as the eager package used to."""
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(import_module(module), name)
    elif not name.startswith("_") and find_spec(f"blamelex.{name}") is not None:
        value = import_module(f"blamelex.{name}")
    else:
        raise AttributeError(f"module 'blamelex' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def scan(text: str) -> list[Finding]:
    """Scan ``text`` with the default detector (loaded once per process:
    `blamelex.detector.cached_detector`)."""
    from blamelex.detector import cached_detector

    return cached_detector().scan(text)


def rewrite(text: str) -> Rewrite:
    """``text`` with each finding that is safe to rewrite replaced by its first suggestion;
    unpacks as ``(text, edits)`` and lists the findings left for a person in ``.skipped``."""
    from blamelex.detector import cached_detector

    return cached_detector().rewrite(text)


__all__ = [
    "Detector",
    "Edit",
    "Finding",
    "Modifier",
    "Rewrite",
    "Skipped",
    "Source",
    "Suggestion",
    "__version__",
    "load",
    "rewrite",
    "scan",
]
