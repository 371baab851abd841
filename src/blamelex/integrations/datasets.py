"""Add blamelex findings to a Hugging Face `datasets.Dataset` with one batched ``map``.

    >>> from blamelex.integrations.datasets import scan_dataset
    >>> ds = scan_dataset(ds, "text", num_proc=4)          # doctest: +SKIP
    >>> ds.filter(lambda row: row["blamelex_count"] > 0)     # doctest: +SKIP

Needs the ``data`` extra (``pip install 'blamelex[data]'``).
"""

from __future__ import annotations

from typing import Any

from blamelex.integrations.common import FINDING_FIELDS, FindingRecord, scan_texts

try:
    import datasets
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "blamelex.integrations.datasets needs the 'datasets' package: "
        "pip install 'blamelex[data]'"
    ) from exc

FINDINGS_COLUMN = "blamelex_findings"
"""List of finding records (start, end, text, code, category, severity, score, origin, voice,
suggestion, related) for each row."""
COUNT_COLUMN = "blamelex_count"
"""Number of findings in each row."""
CODES_COLUMN = "blamelex_codes"
"""The findings' codes (``VB101`` ...) for each row, in order of position."""


def finding_features() -> Any:
    """The `datasets` feature of one finding record (a struct of `FINDING_FIELDS`)."""
    return {name: datasets.Value(dtype) for name, dtype in FINDING_FIELDS}


def output_features() -> dict[str, Any]:
    """The `datasets` features of the three columns `scan_dataset` adds.

    Declared rather than inferred: a batch without findings would otherwise infer a null type,
    and shards written by different workers could then disagree and fail to concatenate.
    """
    # A plain list of a dict is "list of structs" in every datasets version we support
    # (datasets.List only exists from 4.0; datasets.Sequence of a dict means a dict of lists).
    return {
        FINDINGS_COLUMN: [finding_features()],
        COUNT_COLUMN: datasets.Value("int32"),
        CODES_COLUMN: [datasets.Value("string")],
    }


class _BatchScanner:
    """The ``map`` function: holds only the column name and load arguments, never a detector.

    `datasets` pickles the map function to every worker (and hashes it for the cache
    fingerprint); the detector is looked up in each worker's own cache on the first batch.
    """

    def __init__(self, text_column: str, batch_size: int, load_kwargs: dict[str, Any]) -> None:
        self.text_column = text_column
        self.batch_size = batch_size
        self.load_kwargs = load_kwargs

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        findings: list[list[FindingRecord]] = scan_texts(
            batch[self.text_column],
            batch_size=self.batch_size,
            column=self.text_column,
            **self.load_kwargs,
        )
        return {
            FINDINGS_COLUMN: findings,
            COUNT_COLUMN: [len(row) for row in findings],
            CODES_COLUMN: [[record["code"] for record in row] for row in findings],
        }


def scan_dataset(
    ds: Any,
    text_column: str,
    batch_size: int = 64,
    num_proc: int | None = None,
    **load_kwargs: Any,
) -> Any:
    """Return ``ds`` with the columns ``blamelex_findings``, ``blamelex_count``, ``blamelex_codes``.

    Args:
        ds: a `datasets.Dataset` (or a `datasets.DatasetDict`, scanned split by split).
        text_column: the column holding the notes; a missing value (None) has no findings.
        batch_size: rows per ``map`` batch, and documents per `nlp.pipe` batch.
        num_proc: worker processes for ``map`` (``None``: this process). Each worker loads its
            own detector once, on its first batch.
        **load_kwargs: passed to `blamelex.load` (``model=None`` for lexicon-only, ``select=``,
            ``extra_lexicons=`` ...). Paths must be readable from every worker.

    Existing columns are kept; the three output columns are replaced if already present.
    Results are never read from the `datasets` cache files, because the cache key cannot see a
    changed lexicon file or model folder.
    """
    if isinstance(ds, datasets.DatasetDict):
        return datasets.DatasetDict(
            {
                split: scan_dataset(part, text_column, batch_size, num_proc, **load_kwargs)
                for split, part in ds.items()
            }
        )
    if not isinstance(ds, datasets.Dataset):
        raise TypeError(
            f"scan_dataset() needs a datasets.Dataset or DatasetDict, got {type(ds).__name__}; "
            "for a plain list of texts use blamelex.load().scan_many()"
        )
    if text_column not in ds.column_names:
        raise KeyError(
            f"column {text_column!r} not in the dataset; its columns are {ds.column_names}"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    features = ds.features.copy()
    features.update(output_features())
    return ds.map(
        _BatchScanner(text_column, batch_size, dict(load_kwargs)),
        batched=True,
        batch_size=batch_size,
        num_proc=num_proc,
        features=datasets.Features(features),
        load_from_cache_file=False,
        desc="blamelex",
    )


__all__ = [
    "CODES_COLUMN",
    "COUNT_COLUMN",
    "FINDINGS_COLUMN",
    "finding_features",
    "output_features",
    "scan_dataset",
]
