"""Hostile and broken input: each case reported, every readable file scanned, outputs safe."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from blamelex import sources
from blamelex.cli import main
from blamelex.formats.csvfmt import safe_cell

NOTE = "She is putting herself at risk.\n"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([*args, "--no-model"] if args[0] == "scan" else args)
    out, err = capsys.readouterr()
    return code, out, err


def test_symlink_loop_reported_and_rest_scanned(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "n.txt").write_text(NOTE)
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    code, out, err = run(["scan", str(tmp_path), "-f", "jsonl"], capsys)
    assert "symlink loop" in err
    assert len(out.splitlines()) == 1 and code == 2


def test_permission_denied_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    locked, ok = tmp_path / "locked.txt", tmp_path / "ok.txt"
    locked.write_text(NOTE)
    ok.write_text(NOTE)
    real = Path.read_bytes

    def deny(self: Path) -> bytes:  # root ignores chmod, so simulate the OS refusing
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    code, out, err = run(["scan", str(tmp_path)], capsys)
    assert code == 2 and "locked.txt: cannot read: permission denied" in err
    assert "ok.txt:1:8:" in out
    assert "1 scanned, 0 skipped, 1 failed" in err


def test_invalid_utf8_replaced_and_warned(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 \xff She is putting herself at risk.\n")
    code, out, err = run(["scan", str(path), "-f", "jsonl"], capsys)
    assert code == 1 and "invalid UTF-8" in err
    rec = json.loads(out)
    text = path.read_bytes().decode("utf-8", errors="replace")
    assert text[rec["start"]:rec["end"]] == rec["text"]


def test_utf16_with_bom(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "u16.txt"
    path.write_bytes(("Line one.\r\n" + NOTE).encode("utf-16"))
    code, out, _ = run(["scan", str(path)], capsys)
    assert code == 1 and f"{path}:2:8:" in out


def test_lone_cr_line_endings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cr.txt"
    path.write_bytes(b"One.\rTwo.\rShe is putting herself at risk.\r")
    _, out, _ = run(["scan", str(path)], capsys)
    assert f"{path}:3:8:" in out


def test_empty_file_and_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    code, out, err = run(["scan", str(tmp_path)], capsys)
    assert (code, out) == (0, "") and "1 scanned" in err


def test_many_small_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(3000):
        (tmp_path / f"n{i:05d}.txt").write_text(NOTE if i % 100 == 0 else "Safe and well.\n")
    code, out, err = run(["scan", str(tmp_path), "-f", "jsonl", "-q"], capsys)
    assert code == 1 and len(out.splitlines()) == 30


def test_chunked_reading_matches_whole_file(tmp_path: Path) -> None:
    lines = [f"Line {i}: " + ("She is putting herself at risk.\r\n" if i % 7 == 0 else
                              "Welfare check done.\n") for i in range(3000)]
    path = tmp_path / "big.txt"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    whole = path.read_bytes().decode("utf-8")
    chunks = list(sources.iter_chunks(path, chunk_chars=4096))
    assert len(chunks) > 10
    assert "".join(c.text for c in chunks) == whole
    for c in chunks:
        assert whole[c.offset:c.offset + len(c.text)] == c.text
        assert c.line_offset == len(sources.line_starts(whole[:c.offset])) - 1
    assert chunks[-1].last_chunk and not any(c.last_chunk for c in chunks[:-1])


def test_large_file_is_streamed_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    block = ("Welfare check completed at the address, all well. " * 30 + "\n") * 200
    with path.open("w") as fh:
        for _ in range(40):  # ~12 MB
            fh.write(block)
        fh.write(NOTE)
    # as in a runtime install: no torch (thinc under spaCy imports it whenever it is present)
    # peak RSS from VmHWM: ru_maxrss would include the forking parent's (pytest's) memory
    code = ("import sys\nsys.modules['torch'] = None\nfrom blamelex.cli import main\n"
            f"rc = main(['scan', {str(path)!r}, '--no-model', '-q', '-f', 'jsonl'])\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
            "sys.stderr.write('RSS %s\\n' % hwm.split()[1])\n"
            "sys.exit(rc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1, out.stderr[-500:]
    rec = json.loads(out.stdout)
    assert rec["line"] == 40 * 200 + 1 and rec["column"] == 8
    rss_mib = int(out.stderr.split("RSS ")[1]) / 1024
    assert rss_mib < 300, (rss_mib, out.stderr[-300:])


def test_file_longer_than_spacy_max_length_is_scanned(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # between spaCy's default max_length (1,000,000 characters) and the old 4 MiB streaming
    # threshold such a file once reached the pipeline whole and failed with spaCy's E088
    path = tmp_path / "long.txt"
    filler = "Welfare check completed at the address, all well.\n" * 22_000  # ~1.1 M chars
    path.write_text(filler + NOTE, encoding="utf-8")
    assert path.stat().st_size > 1_000_000
    code, out, err = run(["scan", str(path), "-f", "jsonl"], capsys)
    assert code == 1, err
    rec = json.loads(out)
    assert rec["line"] == 22_001 and rec["code"]


def test_api_scans_a_text_longer_than_spacy_max_length() -> None:
    import blamelex

    text = "Welfare check completed at the address, all well. " * 21_000 + NOTE
    assert len(text) > 1_000_000
    found = blamelex.load(model=None).scan(text)
    assert [text[f.start:f.end] for f in found] == ["putting herself at risk"]


def test_a_record_longer_than_the_text_limit_is_scanned_in_pieces_and_the_rest_too(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a record's cell (or stdin) once reached the pipeline whole: past the pipeline's
    # max_length (20 M characters; lowered here to keep the test small) the whole scan
    # stopped with a traceback. It now goes in pieces (parallel.scan_stream).
    monkeypatch.setattr("blamelex.nlp.MAX_TEXT_CHARS", 100_000)
    monkeypatch.setattr("blamelex.nlp.LONG_TEXT_PIECE", 30_000)
    filler = "Welfare check completed at the address, all well.\n" * 12_000  # ~610 k chars
    path = tmp_path / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["case_id", "note"])
        writer.writerow(["C-1", filler + NOTE])
        writer.writerow(["C-2", NOTE])
    code, out, err = run(["scan", str(path), "--no-model", "--text-column", "note",
                          "--id-column", "case_id", "-f", "jsonl"], capsys)
    assert code == 1, err
    recs = [json.loads(line) for line in out.splitlines()]
    assert [(r["case_id"], r["line"], r["start"]) for r in recs] == [
        ("C-1", 12_001, len(filler) + 7), ("C-2", 1, 7)]
    assert "2 scanned, 0 skipped, 0 failed, 2 finding(s)" in err


def test_stdin_longer_than_the_text_limit_is_scanned_in_pieces(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("blamelex.nlp.MAX_TEXT_CHARS", 100_000)
    monkeypatch.setattr("blamelex.nlp.LONG_TEXT_PIECE", 30_000)
    text = "Welfare check completed at the address, all well.\r\n" * 12_000 + NOTE
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
    code, out, err = run(["scan", "-", "--no-model", "-f", "jsonl"], capsys)
    assert code == 1, err
    rec = json.loads(out)
    assert (rec["line"], rec["start"]) == (12_001, len(text) - len(NOTE) + 7)


def test_api_scans_a_text_longer_than_the_text_limit_in_pieces(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import blamelex
    from blamelex import nlp as detector_module

    text = ("Welfare check completed at the address, all well.\n" * 30 + NOTE) * 6
    whole = [f.to_dict() for f in blamelex.load(model=None).scan(text)]
    # the limit lowered (the pipeline is built with it as its max_length) to keep this small
    monkeypatch.setattr(detector_module, "MAX_TEXT_CHARS", 1_000)
    monkeypatch.setattr(detector_module, "LONG_TEXT_PIECE", 700)
    detector = blamelex.load(model=None)
    assert len(text) > 5 * detector_module.MAX_TEXT_CHARS
    assert [f.to_dict() for f in detector.scan(text)] == whole and len(whole) == 6
    results = list(detector.scan_many(["short: " + NOTE, text, NOTE]))
    assert [len(r) for r in results] == [1, 6, 1]
    assert [f.to_dict() for f in results[1]] == whole


@pytest.mark.parametrize("n_process", [1, 2])
def test_scan_stream_scans_a_text_longer_than_the_text_limit_in_pieces(
        monkeypatch: pytest.MonkeyPatch, n_process: int) -> None:
    import blamelex
    from blamelex import nlp as detector_module
    from blamelex.parallel import scan_stream

    text = ("Welfare check completed at the address, all well.\n" * 30 + NOTE) * 6
    whole = [f.to_dict() for f in blamelex.load(model=None).scan(text)]
    monkeypatch.setattr(detector_module, "MAX_TEXT_CHARS", 1_000)
    monkeypatch.setattr(detector_module, "LONG_TEXT_PIECE", 700)
    detector = blamelex.load(model=None)  # its pipeline takes 1,000 characters at most
    items = [("short: " + NOTE, "a"), (text, "b"), (NOTE, "c")]
    out = list(scan_stream(detector.nlp, items, n_process, chunk_size=2))
    assert [c for c, _ in out] == ["a", "b", "c"]
    assert [f.to_dict() for f in out[1][1]] == whole and len(whole) == 6
    assert [len(fs) for _, fs in out] == [1, 6, 1]


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_csv_injection_neutralised(cell: str) -> None:
    assert safe_cell(cell).startswith("'")
    assert safe_cell("plain") == "plain"


def test_csv_output_cells_are_safe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "=cmd.txt"
    path.write_text("=She is putting herself at risk\n")
    _, out, _ = run(["scan", str(path), "-f", "csv"], capsys)
    rows = list(csv.reader(io.StringIO(out)))
    for row in rows[1:]:
        assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in row)


def test_failed_output_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    note = tmp_path / "n.txt"
    note.write_text(NOTE)
    outdir = tmp_path / "out"
    outdir.mkdir()
    from blamelex.formats import jsonfmt

    def boom(self, result):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jsonfmt.JsonFormatter, "write", boom)
    code, _, err = run(["scan", str(note), "-f", "json", "-o", str(outdir / "r.json")], capsys)
    assert code == 2 and "No space left" in err
    assert list(outdir.iterdir()) == []


def test_redact_keeps_only_span_and_context(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "n.txt"
    path.write_bytes(b"Zephyrine lives at 4 Quillon Close. There is no suggestion otherwise. "
                     b"She is putting herself at risk.\xff\n")
    for fmt in ("jsonl", "json", "csv", "text", "sarif"):
        code, out, err = run(["scan", str(path), "-f", fmt, "--redact", "10"], capsys)
        assert code == 1
        assert "Zephyrine" not in out and "Quillon" not in out, fmt
        assert "Zephyrine" not in err and "putting" not in err  # nothing from the note on stderr
    _, out, _ = run(["scan", str(path), "-f", "jsonl", "--redact", "10"], capsys)
    rec = json.loads(out)
    assert len(rec["context"]) <= len(rec["text"]) + 20 and rec["trace"] == []
