"""Optional bridges that run blamelex at scale: Hugging Face `datasets` and Spark.

    >>> from blamelex.integrations.datasets import scan_dataset   # needs the ``data`` extra
    >>> from blamelex.integrations.spark import with_findings     # needs the ``spark`` extra

Both bridges share what lives here: the per-process detector cache (`blamelex.detector.
cached_detector`: loading a pipeline takes seconds, scanning a note takes milliseconds, so a
worker must load once and never receive a pickled detector) and the flat record each finding
becomes in a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypedDict

from blamelex.detector import (
    DetectorKey,
    cached_detector,
    clear_cache,
    detector_key,
)
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
