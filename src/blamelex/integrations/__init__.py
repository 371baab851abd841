"""Optional bridges that run blamelex at scale: Hugging Face `datasets` and Spark.

    >>> from blamelex.integrations.datasets import scan_dataset   # needs the ``data`` extra
    >>> from blamelex.integrations.spark import with_findings     # needs the ``spark`` extra

Both bridges share what lives here: a per-process detector cache (loading a pipeline takes
seconds, scanning a note takes milliseconds, so a worker must load once and never receive a
pickled detector) and the flat record each finding becomes in a table.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from os import PathLike
from typing import Any, TypedDict

from blamelex.detector import Detector, load
from blamelex.findings import Finding

FINDING_FIELDS: tuple[tuple[str, str], ...] = (
    ("start", "int32"),
    ("end", "int32"),
    ("text", "string"),
    ("code", "string"),
    ("category", "string"),
    ("severity", "string"),
    ("score", "float64"),
    ("origin", "string"),
    ("suggestion", "string"),
)
"""Name and type of each field of a finding record, in column order (see `finding_record`)."""


class FindingRecord(TypedDict):
    """One finding as a flat table row: offsets, code, severity, score and the first suggestion."""

    start: int
    end: int
    text: str
    code: str
    category: str
    severity: str
    score: float
    origin: str
    suggestion: str | None


DetectorKey = tuple[tuple[str, Any], ...]
"""Hashable form of `blamelex.load` keyword arguments (see `detector_key`)."""

_DETECTORS: dict[DetectorKey, Detector] = {}
# One lock for the cache: worker processes are single-threaded, but a driver that scans from
# several threads must still load each configuration once.
_LOCK = threading.Lock()


def _freeze(value: Any) -> Any:
    """A hashable, comparable stand-in for one load argument (paths become strings)."""
    if isinstance(value, PathLike):
        return str(value)
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def detector_key(**load_kwargs: Any) -> DetectorKey:
    """The cache key for `blamelex.load(**load_kwargs)`: sorted, with lists and paths frozen.

    ``select=["VB1"]`` and ``select=("VB1",)`` give the same key, so they share a detector.
    """
    return tuple(sorted((name, _freeze(value)) for name, value in load_kwargs.items()))


def cached_detector(**load_kwargs: Any) -> Detector:
    """Return this process's detector for these `blamelex.load` arguments, loading it once.

    Every worker process (a `datasets` map worker, a Spark Python worker) keeps its own cache,
    so the detector is built once per process and is never pickled or shipped with a task.
    """
    key = detector_key(**load_kwargs)
    detector = _DETECTORS.get(key)
    if detector is None:
        with _LOCK:
            detector = _DETECTORS.get(key)
            if detector is None:
                detector = load(**load_kwargs)
                _DETECTORS[key] = detector
    return detector


def clear_cache() -> None:
    """Forget this process's cached detectors (for tests, or after changing a lexicon file)."""
    with _LOCK:
        _DETECTORS.clear()


def finding_record(finding: Finding) -> FindingRecord:
    """The table form of a finding: the fields of `FINDING_FIELDS`, first suggestion only.

    Tables keep one suggestion because that is what a reviewer acts on; the full `Finding`
    (explanation, sources, modifiers) is one `Detector.scan` away for any flagged row.
    """
    return FindingRecord(
        start=finding.start,
        end=finding.end,
        text=finding.text,
        code=finding.code,
        category=finding.category,
        severity=finding.severity,
        score=float(finding.score),
        origin=finding.origin,
        suggestion=finding.suggestions[0].text if finding.suggestions else None,
    )


def scan_texts(
    texts: Iterable[object], *, batch_size: int = 64, column: str = "text", **load_kwargs: Any
) -> list[list[FindingRecord]]:
    """Scan a batch of texts with the cached detector; a missing text (None) has no findings.

    Args:
        texts: the batch, in order; each a ``str`` or ``None``.
        batch_size: documents per `nlp.pipe` batch inside this process.
        column: the column name, only to make the error for a non-text value useful.
        **load_kwargs: passed to `blamelex.load` (once per process, see `cached_detector`).

    Raises:
        TypeError: a value is neither a string nor missing.
    """
    if isinstance(texts, str):
        raise TypeError("scan_texts() needs a batch of texts (a list), not one str")
    values: Sequence[object] = texts if isinstance(texts, Sequence) else list(texts)
    for i, value in enumerate(values):
        if value is not None and not isinstance(value, str):
            raise TypeError(
                f"column {column!r} holds a {type(value).__name__} at position {i} of this "
                "batch; blamelex scans text: cast the column to string first"
            )
    present = [value for value in values if isinstance(value, str)]
    detector = cached_detector(**load_kwargs)
    scanned = iter(detector.scan_many(present, batch_size=batch_size))
    return [
        [finding_record(f) for f in next(scanned)] if isinstance(value, str) else []
        for value in values
    ]


def __getattr__(name: str) -> Any:
    """Import a bridge on first use, so ``import blamelex.integrations`` needs neither extra."""
    if name == "scan_dataset":
        from blamelex.integrations.datasets import scan_dataset

        return scan_dataset
    if name in ("with_findings", "findings_udf"):
        from blamelex.integrations import spark

        return getattr(spark, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FINDING_FIELDS",
    "DetectorKey",
    "FindingRecord",
    "cached_detector",
    "clear_cache",
    "detector_key",
    "finding_record",
    "scan_texts",
]
