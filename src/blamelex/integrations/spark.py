"""Scan a Spark DataFrame column with a pandas UDF: one detector per executor Python process.

    >>> from blamelex.integrations.spark import with_findings
    >>> notes = with_findings(spark.table("case_notes"), "note_text")     # doctest: +SKIP
    >>> notes.where("size(blamelex) > 0").select("id", "blamelex.code")  # doctest: +SKIP

Needs the ``spark`` extra (``pip install 'blamelex[spark]'``) on the driver and on every
executor; see the README section "At scale: datasets and Spark" for shipping the model.
"""

from __future__ import annotations

from typing import Any

from blamelex.integrations.common import FINDING_FIELDS, scan_texts

try:
    import pandas as pd
    from pyspark.sql import Column, DataFrame

    # The public `pyspark.sql.functions.pandas_udf`, imported from where it is defined so that
    # type checkers see it in pyspark 3.5 and 4.
    from pyspark.sql.pandas.functions import pandas_udf
    from pyspark.sql.types import (
        ArrayType,
        DataType,
        DoubleType,
        IntegerType,
        StringType,
        StructField,
        StructType,
    )
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "blamelex.integrations.spark needs pyspark, pandas and pyarrow: "
        "pip install 'blamelex[spark]'"
    ) from exc

_SPARK_TYPES: dict[str, DataType] = {
    "int32": IntegerType(),
    "float64": DoubleType(),
    "string": StringType(),
}

FINDING_STRUCT = StructType(
    [
        # Only "suggestion" and "related" may be null: a lexicon entry may offer no suggestion,
        # and only risk-grading findings rest on other spans.
        StructField(name, _SPARK_TYPES[dtype], nullable=(name in ("suggestion", "related")))
        for name, dtype in FINDING_FIELDS
    ]
)
"""Spark type of one finding: start, end, text, code, category, severity, score, origin,
voice (``own``, or ``reported`` for wording the note attributes to someone else), suggestion
(the first suggested wording, or null), related (what a risk-grading finding rests on, or
null)."""

FINDINGS_TYPE = ArrayType(FINDING_STRUCT, containsNull=False)
"""Spark type of the output column: the findings of one note, in order of position."""

DEFAULT_BATCH_SIZE = 64
"""Documents per `nlp.pipe` batch inside an executor (Arrow batches are split into these)."""


def _scan_series(texts: pd.Series, load_kwargs: dict[str, Any]) -> pd.Series:
    """Scan one Arrow batch of notes with this process's cached detector."""
    # Spark hands nulls to pandas as None (object dtype) or NaN; both mean "no note".
    values = [None if value is None or value is pd.NA or value != value else value
              for value in texts.tolist()]
    findings = scan_texts(values, batch_size=DEFAULT_BATCH_SIZE, **load_kwargs)
    return pd.Series([[dict(record) for record in row] for row in findings], dtype=object)


def findings_udf(**load_kwargs: Any) -> Any:
    """A pandas UDF mapping a string column to its findings (`FINDINGS_TYPE`).

    ``load_kwargs`` go to `blamelex.load` on each executor the first time that Python worker
    scans a batch; the detector is then kept in the worker's module cache and reused by every
    later task, as long as Spark reuses Python workers (``spark.python.worker.reuse``, on by
    default). Only the keyword arguments travel with the task, never a detector. Paths in them
    (``model=``, ``extra_lexicons=``) must exist on every executor.
    """
    kwargs = dict(load_kwargs)

    # The UDF body is a closure over plain keyword arguments only: cloudpickle serialises it by
    # value, and `_scan_series` is imported by reference on the executor.
    def blamelex_findings(texts: pd.Series) -> pd.Series:
        return _scan_series(texts, kwargs)

    # pyspark's stubs only know the older form with an explicit functionType; the kind
    # (Series -> Series) comes from the type hints, as pyspark recommends since 3.0.
    return pandas_udf(blamelex_findings, FINDINGS_TYPE)  # type: ignore[call-overload]


def findings_column(text_col: str | Column, **load_kwargs: Any) -> Column:
    """The findings of ``text_col`` as a Column expression, for use in ``select``."""
    column: Column = findings_udf(**load_kwargs)(text_col)
    return column


def with_findings(
    df: DataFrame, text_col: str, out_col: str = "blamelex", **load_kwargs: Any
) -> DataFrame:
    """Return ``df`` with ``out_col``: an array of finding structs for each row's ``text_col``.

    A null note gives an empty array. ``load_kwargs`` go to `blamelex.load` (for example
    ``model=None`` for lexicon-only, ``model="default"`` for the bundled model,
    ``select=["VB1"]``), once per executor Python process.
    """
    if text_col not in df.columns:
        raise KeyError(f"column {text_col!r} not in the DataFrame; its columns are {df.columns}")
    field = df.schema[text_col]
    if not isinstance(field.dataType, StringType):
        raise TypeError(
            f"column {text_col!r} is {field.dataType.simpleString()}, not string; "
            f"cast it first: df.withColumn({text_col!r}, df[{text_col!r}].cast('string'))"
        )
    return df.withColumn(out_col, findings_column(text_col, **load_kwargs))


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "FINDINGS_TYPE",
    "FINDING_STRUCT",
    "findings_column",
    "findings_udf",
    "with_findings",
]
