"""Optional bridges that run blamelex at scale: Hugging Face `datasets` and Spark.

    >>> from blamelex.integrations.datasets import scan_dataset   # needs the ``data`` extra
    >>> from blamelex.integrations.spark import with_findings     # needs the ``spark`` extra

Both bridges share `blamelex.integrations.common` (re-exported here): the per-process detector
cache (`blamelex.detector.cached_detector`: loading a pipeline takes seconds, scanning a note
takes milliseconds, so a worker must load once and never receive a pickled detector) and the
flat record each finding becomes in a table (`blamelex.findings.flat`).
"""

from __future__ import annotations

from typing import Any

from blamelex.detector import DetectorKey, cached_detector, clear_cache, detector_key
from blamelex.integrations.common import (
    FINDING_FIELDS,
    FindingRecord,
    finding_record,
    scan_texts,
)


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
