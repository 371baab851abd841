"""What both bridges share: the table form of a finding and scanning one batch of a column
with the per-process detector (`blamelex.detector.cached_detector`: loading a pipeline takes
seconds, scanning a note takes milliseconds, so a worker must load once and never receive a
pickled detector)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypedDict, cast

from blamelex.detector import cached_detector
from blamelex.findings import FLAT_FIELDS, Finding, flat

FINDING_FIELDS = FLAT_FIELDS
"""Name and type of each field of a finding record, in column order (see `finding_record`)."""


class FindingRecord(TypedDict):
    """One finding as a flat table row: offsets, code, severity, score, origin, voice (``own`` or
    ``reported``) and the first suggestion."""

    start: int
    end: int
    text: str
    code: str
    category: str
    severity: str
    score: float
    origin: str
    voice: str
    suggestion: str | None
    related: str | None


def finding_record(finding: Finding) -> FindingRecord:
    """The table form of a finding (`blamelex.findings.flat`): the fields of `FINDING_FIELDS`."""
    return cast(FindingRecord, flat(finding))


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


__all__ = ["FINDING_FIELDS", "FindingRecord", "finding_record", "scan_texts"]
