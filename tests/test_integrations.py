"""Scale-out bridges: Hugging Face datasets and Spark give the same findings as `Detector.scan`."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import blamelex
from blamelex import integrations
from blamelex.findings import Finding

try:  # only the Spark probe needs pandas (its type hints tell Spark the UDF's kind)
    import pandas as pd
except ImportError:  # pragma: no cover - the Spark tests skip without the dev extras
    pd = None

# Fictional notes: some flag, some are near misses the context rules must keep quiet, one is empty.
NOTES = [
    "Jade (14) was putting herself at risk by getting into cars with older males.",
    "Home visit completed. Mum reports no concerns and the house was tidy.",
    "Kyle is a regular misper and is streetwise; he can look after himself.",
    "There is no evidence that she chose this lifestyle.",
    "Amira said she was \"in a relationship\" with the 23-year-old man.",
    "The suspect is promiscuous according to his ex-partner.",
    "Tyrese refused to engage with the YOT worker again today.",
    "",
    "School report: attendance 96%, settled in class, enjoys art.",
    "She is sexually active with older men and her lifestyle choice is a worry.",
    "Staff note Leon was involved in county lines and chose to go missing.",
    "Consent form signed by carer for the school trip.",
    "Mia keeps going missing; she is known to go missing at weekends.",
]


def expected_records(finding: Finding) -> dict[str, Any]:
    """The table record of a finding, written out here so the test does not reuse the code."""
    return {
        "start": finding.start,
        "end": finding.end,
        "text": finding.text,
        "code": finding.code,
        "category": finding.category,
        "severity": finding.severity,
        "score": finding.score,
        "origin": finding.origin,
        "voice": finding.voice,
        "suggestion": finding.suggestions[0].text if finding.suggestions else None,
        "related": ";".join(f"{r.code}@{r.start}-{r.end}" for r in finding.related) or None,
    }


@pytest.fixture(scope="module")
def expected(detector: blamelex.Detector) -> list[list[dict[str, Any]]]:
    found = [[expected_records(f) for f in detector.scan(note)] for note in NOTES]
    # The comparison is only worth something if the notes hold findings and clean rows.
    assert sum(map(len, found)) >= 6 and sum(1 for row in found if not row) >= 3
    return found


# -- shared cache ---------------------------------------------------------------------------


def test_detector_is_loaded_once_per_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[dict[str, Any]] = []

    def counting_load(**kwargs: Any) -> object:
        loads.append(kwargs)
        return object()

    from blamelex import detector as detector_module

    monkeypatch.setattr(detector_module, "load", counting_load)
    integrations.clear_cache()
    try:
        first = integrations.cached_detector(model=None, select=["VB1"])
        again = integrations.cached_detector(select=("VB1",), model=None)
        other = integrations.cached_detector(model=None, select=["VB5"])
        assert first is again and first is not other
        assert loads == [{"model": None, "select": ["VB1"]}, {"model": None, "select": ["VB5"]}]
        assert integrations.detector_key(extra_lexicons=[Path("a.yaml")]) == \
            integrations.detector_key(extra_lexicons=("a.yaml",))
    finally:
        integrations.clear_cache()


def test_scan_texts_rejects_non_text_and_keeps_missing_rows_empty(
    detector: blamelex.Detector,
) -> None:
    rows = integrations.scan_texts([NOTES[0], None, NOTES[2]], model=None)
    assert rows[1] == []
    assert rows[0] == [expected_records(f) for f in detector.scan(NOTES[0])]
    assert rows[2] == [expected_records(f) for f in detector.scan(NOTES[2])]
    with pytest.raises(TypeError, match="'note'.*int.*position 1.*cast"):
        integrations.scan_texts(["fine", 7], column="note", model=None)


# -- Hugging Face datasets ------------------------------------------------------------------


@pytest.fixture(scope="module")
def notes_dataset() -> Any:
    datasets = pytest.importorskip(
        "datasets", reason="datasets not installed: pip install -e '.[dev]'"
    )
    return datasets.Dataset.from_dict(
        {"id": [f"N{i:03d}" for i in range(len(NOTES))], "note": NOTES}
    )


@pytest.mark.parametrize("num_proc", [1, 2])
def test_scan_dataset_matches_detector(
    notes_dataset: Any, expected: list[list[dict[str, Any]]], num_proc: int
) -> None:
    from blamelex.integrations.datasets import scan_dataset

    # Start from an empty cache so that with num_proc=2 each worker builds its own detector.
    integrations.clear_cache()
    out = scan_dataset(notes_dataset, "note", batch_size=4, num_proc=num_proc, model=None)
    assert out["id"] == notes_dataset["id"] and out["note"] == NOTES
    assert out["blamelex_findings"] == expected
    assert out["blamelex_count"] == [len(row) for row in expected]
    assert out["blamelex_codes"] == [[r["code"] for r in row] for row in expected]


def test_scan_dataset_loads_one_detector_for_all_batches(
    notes_dataset: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blamelex.integrations.datasets import scan_dataset

    calls: list[dict[str, Any]] = []
    real_load = blamelex.load

    def counting_load(**kwargs: Any) -> blamelex.Detector:
        calls.append(kwargs)
        return real_load(**kwargs)

    from blamelex import detector as detector_module

    monkeypatch.setattr(detector_module, "load", counting_load)
    integrations.clear_cache()
    try:
        out = scan_dataset(notes_dataset, "note", batch_size=2, select=["VB1"], model=None)
    finally:
        integrations.clear_cache()
    assert calls == [{"select": ["VB1"], "model": None}]  # 7 batches, one load
    codes = [code for row in out["blamelex_codes"] for code in row]
    assert codes and all(code.startswith("VB1") for code in codes)


def test_scan_dataset_errors_say_what_to_do(notes_dataset: Any) -> None:
    from blamelex.integrations.datasets import scan_dataset

    with pytest.raises(KeyError, match="'text' not in the dataset.*'note'"):
        scan_dataset(notes_dataset, "text", model=None)
    with pytest.raises(TypeError, match="scan_many"):
        scan_dataset(NOTES, "note", model=None)


# -- Spark ----------------------------------------------------------------------------------


def _java_missing() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return False
    return shutil.which("java") is None


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="pyspark not installed: pip install -e '.[dev]'")
    pytest.importorskip("pyarrow", reason="pyarrow not installed: pip install -e '.[dev]'")
    if _java_missing():
        pytest.skip("Java not found (Spark needs a JDK 17+ on PATH or in JAVA_HOME)")
    from pyspark.sql import SparkSession

    # Python workers must run this interpreter, where blamelex is installed; PySpark reads
    # PYSPARK_PYTHON when the context starts and otherwise runs whatever `python3` is on PATH.
    previous = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("blamelex-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        # Small Arrow batches so that one worker scans several batches with one detector.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "3")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        if previous is None:
            os.environ.pop("PYSPARK_PYTHON", None)
        else:
            os.environ["PYSPARK_PYTHON"] = previous


def test_spark_with_findings_matches_detector(
    spark: Any, expected: list[list[dict[str, Any]]]
) -> None:
    from blamelex.integrations.spark import FINDINGS_TYPE, with_findings

    rows = [(i, note) for i, note in enumerate(NOTES)] + [(len(NOTES), None)]
    df = spark.createDataFrame(rows, "id int, note string").repartition(2)
    out = with_findings(df, "note", model=None)
    assert out.schema["blamelex"].dataType == FINDINGS_TYPE
    got = {row["id"]: [f.asDict() for f in row["blamelex"]] for row in out.collect()}
    assert [got[i] for i in range(len(NOTES))] == expected
    assert got[len(NOTES)] == []  # a null note has no findings

    # Each Python worker process holds exactly one detector for these arguments.
    from pyspark.sql.functions import pandas_udf

    def process_and_detector(ids: pd.Series) -> pd.Series:
        from blamelex.integrations import cached_detector

        tag = f"{os.getpid()}:{id(cached_detector(model=None))}"
        return pd.Series([tag] * len(ids))

    probe = pandas_udf(process_and_detector, returnType="string")
    tags = {r[0] for r in df.repartition(6).select(probe("id")).collect()}
    per_process: dict[str, set[str]] = {}
    for tag in tags:
        pid, detector_id = tag.split(":")
        per_process.setdefault(pid, set()).add(detector_id)
    assert per_process and all(len(ids) == 1 for ids in per_process.values())


def test_spark_rejects_non_string_column(spark: Any) -> None:
    from blamelex.integrations.spark import with_findings

    df = spark.createDataFrame([(1, 2)], "id int, note int")
    with pytest.raises(TypeError, match="cast it first"):
        with_findings(df, "note", model=None)
    with pytest.raises(KeyError, match="'text' not in the DataFrame"):
        with_findings(df, "text", model=None)
