"""Record exports (CSV, JSON Lines, Parquet): one `Document` per record, streamed.

A case-management system usually exports notes as a table: one row per note, a free-text column
and some identifying columns (case id, team, date). `iter_records` reads such a file one record at
a time — the csv module row by row, JSON Lines line by line, Parquet batch by batch — so memory
stays flat however large the file is. Each record becomes a `Document` (``path`` is the file,
``record_id`` the value of the id column, or the record number when there is none) together with
a dict of the columns to carry into the output (the id column and every kept column, under their
own names — see `output_key` — and ``record``, the record number, when no id column is given).

A record whose text cell is empty or null is scanned as empty text. A column that the file does
not have is a `MissingColumnError`, which names the column and lists the columns found.

A malformed CSV file loses no row silently: a row with fewer cells than the header (the missing
ones read as empty), one with more (the extra ones left out), and a quoted cell that is never
closed (its line is read as one row, and the lines after it again as rows of their own) are each
read as well as they can be, with a warning on the record that names the line.

`rewrite_records` rewrites the text column of a CSV or JSON Lines export in place of the file's
other contents: every other row, cell, the header and the row count stay as they were.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from blamelex.sources import Document

RECORD_SUFFIXES = (".csv", ".jsonl", ".parquet")
"""File suffixes read as record exports (compared case-insensitively)."""

RECORD_NUMBER_KEY = "record"
"""Key of the 1-based record number in the carried columns when no id column is given."""

RESERVED_KEYS = frozenset({
    "path", "line", "column", "start", "end", "text", "code", "category", "severity", "score",
    "explanation", "suggestions", "sources", "modifiers", "origin", "term", "trace", "message",
    "suggestion", "context", "findings", "error", "skipped", "warnings", RECORD_NUMBER_KEY,
})
"""Names the output formats use for a finding's own fields; a column so named is renamed."""

PARQUET_HINT = "pip install 'blamelex[parquet]'"

# The csv module refuses cells over 128 KiB by default; a long case note can be larger.
_CSV_FIELD_LIMIT = 64 * 1024 * 1024
_PARQUET_BATCH = 1024


class RecordError(ValueError):
    """A record export cannot be read as asked (missing column, missing reader, bad file)."""


class MissingColumnError(RecordError):
    """The export lacks a column that was asked for."""

    def __init__(self, path: str, column: str, found: Sequence[str], option: str) -> None:
        self.path = path
        self.column = column
        self.found = list(found)
        listed = ", ".join(repr(c) for c in self.found) if self.found else "(none)"
        super().__init__(
            f"{path}: no column {column!r} (asked for by {option}); columns found: {listed}"
        )


@dataclass(frozen=True)
class RecordColumns:
    """Which columns to read: the text to scan, an optional id, and columns to carry along."""

    text: str
    id: str | None = None
    keep: tuple[str, ...] = ()

    def wanted(self) -> list[tuple[str, str]]:
        """(column, option that asked for it) for every column, text first, no repeats."""
        out: list[tuple[str, str]] = [(self.text, "--text-column")]
        if self.id is not None:
            out.append((self.id, "--id-column"))
        out += [(c, "--keep-column") for c in self.keep]
        seen: set[str] = set()
        unique = []
        for col, option in out:
            if col not in seen:
                seen.add(col)
                unique.append((col, option))
        return unique

    def carried(self) -> list[str]:
        """The columns copied into each result: the id column, then the kept ones."""
        cols = [self.id] if self.id is not None else []
        return cols + [c for c in self.keep if c not in cols]

    def keys(self) -> list[str]:
        """The keys of the carried columns in each result, in order (see `output_key`)."""
        keys = [] if self.id is not None else [RECORD_NUMBER_KEY]
        return keys + [output_key(c) for c in self.carried()]


def output_key(column: str) -> str:
    """The key a carried column has in the output: its name, or ``record_NAME`` when the name
    is one a finding field already uses (``category``, ``text``, ``line`` ...)."""
    return f"record_{column}" if column in RESERVED_KEYS else column


def is_record_export(path: str | Path) -> bool:
    """True when ``path`` ends in .csv, .jsonl or .parquet."""
    return str(path).lower().endswith(RECORD_SUFFIXES)


def _check(path: str, found: Sequence[str], columns: RecordColumns) -> None:
    names = set(found)
    for col, option in columns.wanted():
        if col not in names:
            raise MissingColumnError(path, col, found, option)


def _text(value: Any) -> str:
    """The text of a cell: None and NaN (pandas' empty cell) are empty text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _plain(value: Any) -> Any:
    """A JSON-serialisable form of a carried cell (dates, decimals and bytes become text)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    return _text(value)


def _record(
    path: str, number: int, row: Mapping[str, Any], columns: RecordColumns
) -> tuple[Document, dict[str, Any]]:
    text = _text(row.get(columns.text))
    extra: dict[str, Any] = {}
    record_id = str(number)
    if columns.id is not None:
        value = _plain(row.get(columns.id))
        if value not in (None, ""):
            record_id = str(value)
    else:
        extra[RECORD_NUMBER_KEY] = number
    for col in columns.carried():
        extra[output_key(col)] = _plain(row.get(col))
    warnings = []
    if "\ufffd" in text:
        warnings.append("undecodable bytes replaced with U+FFFD")
    return (Document(path, text=text, warnings=warnings, record_id=record_id,
                     column=columns.text), extra)


@dataclass
class CsvRow:
    """One row of a CSV file as read: its cells, the line it starts on and its text in the file."""

    line: int
    """The 1-based line of the file the row starts on."""
    cells: list[str]
    raw: str
    """The row's text in the file, line ending included (``raw`` of all rows is the file)."""
    problem: str = ""
    """Why the row's quoting is malformed, and how it was read ('' for a well-formed row)."""


class _Lines:
    """The lines of a stream for a csv reader: numbered, the current row's lines remembered, and
    lines pushed back to be read again."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._source = iter(lines)
        self._back: deque[tuple[int, str]] = deque()
        self._count = 0
        self.row: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._back:
            item = self._back.popleft()
        else:
            text = next(self._source)
            self._count += 1
            item = (self._count, text)
        self.row.append(item)
        return item[1]

    def take_row(self) -> list[tuple[int, str]]:
        """The lines read since the last call."""
        row, self.row = self.row, []
        return row

    def push_back(self, items: Sequence[tuple[int, str]]) -> None:
        """Read these lines again, first, in order."""
        self._back.extendleft(reversed(items))

    @property
    def next_line(self) -> int:
        return self._back[0][0] if self._back else self._count + 1


def _lenient_cells(line: str) -> list[str]:
    """The cells of one line read on its own; a quote left open ends at the end of the line."""
    return next(csv.reader([line.rstrip("\r\n")]), [])


def iter_csv_rows(lines: Iterable[str]) -> Iterator[CsvRow]:
    """Every row of a CSV stream (a file opened with ``newline=""``), the header included.

    Quoting is read strictly. A row whose quoting is malformed — a quoted cell still open at the
    end of the file, text after a closing quote — is read from its first line alone (an open
    quote ends at the end of that line), the lines after that line are read again as rows, and
    the row's ``problem`` says so. So no line of the file is swallowed into another row's cell
    without a word, and the rows' ``raw`` texts still add up to the file.
    """
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    feed = _Lines(lines)
    reader = csv.reader(feed, strict=True)
    while True:
        start = feed.next_line
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            taken = feed.take_row()
            if not taken:  # pragma: no cover - the reader fails only on a line it has read
                return
            (start, first), rest = taken[0], taken[1:]
            feed.push_back(rest)
            reader = csv.reader(feed, strict=True)
            yield CsvRow(start, _lenient_cells(first), first, _quote_problem(str(exc), start,
                                                                              taken[-1][0]))
            continue
        taken = feed.take_row()
        yield CsvRow(taken[0][0] if taken else start, cells, "".join(t for _, t in taken))


def _quote_problem(message: str, start: int, last: int) -> str:
    if message == "unexpected end of data":
        what = (f"unclosed quote: a quoted cell opened on line {start} is still open at the end "
                "of the file")
    elif last > start:
        what = (f"unclosed quote: a quoted cell opened on line {start} does not close cleanly "
                f"({message} on line {last})")
    else:
        what = f"malformed quoting ({message})"
    more = f"; lines {start + 1}-{last} are read again as rows" if last > start else ""
    return f"{what}; line {start} is read as a row on its own{more}"


def _row_problem(row: CsvRow, width: int) -> str:
    """The warning for a malformed row ('' for a sound one): bad quoting, too few or too many
    cells for the header's ``width``."""
    problems = [row.problem] if row.problem else []
    n = len(row.cells)
    if n < width:
        problems.append(f"short row: {n} of the header's {width} fields; the missing cells are "
                        "read as empty")
    elif n > width:
        problems.append(f"{n} fields where the header has {width}: the cells after field "
                        f"{width} are left out (a comma inside a cell that is not quoted?)")
    return f"line {row.line}: " + "; ".join(problems) if problems else ""


def read_csv(
    lines: Iterable[str], columns: RecordColumns, path: str = "<csv>"
) -> Iterator[tuple[Document, dict[str, Any]]]:
    """Records of a CSV stream (a file opened with ``newline=""``), one row at a time.

    The first row is the header. Quoted cells may hold commas and line breaks. Blank lines are
    skipped; record numbers count data rows from 1. A malformed row (see `iter_csv_rows`; short
    rows read their missing cells as empty, long rows leave their extra cells out) is read as
    well as it can be and its `Document` carries a warning naming the line.
    """
    rows = iter_csv_rows(lines)
    try:
        first = next(rows, None)
    except csv.Error as exc:  # pragma: no cover - iter_csv_rows reads past bad quoting
        yield Document(path, error=f"not a readable CSV file ({exc})"), {}
        return
    if first is None:
        yield Document(path, error="empty file: a CSV export needs a header row naming its "
                                   "columns"), {}
        return
    if first.problem:
        yield Document(path, error=f"not a readable CSV file: the header row: {first.problem}"), {}
        return
    header = [h.strip() for h in first.cells]
    _check(path, header, columns)
    index = _column_index(header)
    wanted = [col for col, _ in columns.wanted()]
    number = 0
    for row in rows:
        if not row.cells:
            continue
        number += 1
        cells = {c: (row.cells[index[c]] if index[c] < len(row.cells) else None) for c in wanted}
        doc, extra = _record(path, number, cells, columns)
        problem = _row_problem(row, len(header))
        if problem:
            doc.warnings.insert(0, problem)
        yield doc, extra


def _column_index(header: Sequence[str]) -> dict[str, int]:
    """Column name -> position; the first column of that name wins when a header repeats it."""
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name, i)
    return index


def read_jsonl(
    lines: Iterable[str], columns: RecordColumns, path: str = "<jsonl>"
) -> Iterator[tuple[Document, dict[str, Any]]]:
    """Records of a JSON Lines stream, one line at a time.

    The first object decides which columns exist (a missing one is a `MissingColumnError`);
    later objects may leave a key out, which reads as null. A line that is not a JSON object
    becomes a `Document` with ``error`` set, and the rest are still read.
    """
    number = 0
    checked = False
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        number += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield (Document(path, error=f"line {line_no}: not valid JSON ({exc.msg})",
                            record_id=str(number)), {})
            continue
        if not isinstance(obj, dict):
            yield (Document(path, error=f"line {line_no}: a JSON {type(obj).__name__}, "
                                        "not an object", record_id=str(number)), {})
            continue
        if not checked:
            _check(path, list(obj), columns)
            checked = True
        yield _record(path, number, obj, columns)


def read_parquet(
    path: str | Path, columns: RecordColumns, batch_size: int = _PARQUET_BATCH
) -> Iterator[tuple[Document, dict[str, Any]]]:
    """Records of a Parquet file, read in batches of ``batch_size`` rows (needs pyarrow)."""
    name = str(path)
    pf = _open_parquet(name)
    _check(name, pf.schema_arrow.names, columns)
    wanted = [col for col, _ in columns.wanted()]
    number = 0
    for batch in pf.iter_batches(batch_size=batch_size, columns=wanted):
        for row in batch.to_pylist():
            number += 1
            yield _record(name, number, row, columns)


def _open_parquet(name: str) -> Any:
    """A ``pyarrow.parquet.ParquetFile``; a file pyarrow cannot parse raises ``OSError``."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise RecordError(f"reading Parquet needs pyarrow: {PARQUET_HINT}") from None
    try:
        return pq.ParquetFile(name)
    except OSError:
        raise
    except Exception as exc:  # pyarrow.ArrowInvalid and kin: not a Parquet file
        raise OSError(f"not a readable Parquet file ({exc})") from exc


def iter_records(
    path: str | Path, columns: RecordColumns
) -> Generator[tuple[Document, dict[str, Any]], None, None]:
    """Stream (Document, carried columns) for each record of a .csv, .jsonl or .parquet file.

    Raises `MissingColumnError` for a column the file lacks and `RecordError` for an unknown
    suffix or a missing reader: both are the caller's to fix. A file that cannot be opened or
    parsed yields one `Document` with ``error`` set instead, so a scan of several files goes on.
    """
    name = str(path)
    suffix = Path(name).suffix.lower()
    if suffix not in RECORD_SUFFIXES:
        raise RecordError(f"{name}: not a record export; use a file ending in "
                          f"{', '.join(RECORD_SUFFIXES)}")
    try:
        if suffix == ".csv":
            # newline="" lets the csv module see line breaks inside quoted cells.
            with open(name, encoding="utf-8-sig", errors="replace", newline="") as fh:
                yield from read_csv(fh, columns, name)
        elif suffix == ".jsonl":
            with open(name, encoding="utf-8-sig", errors="replace") as fh:
                yield from read_jsonl(fh, columns, name)
        else:
            yield from read_parquet(name, columns)
    except OSError as exc:
        yield Document(name, error=_os_reason(exc)), {}


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return exc.strerror or str(exc)


def check_columns(path: str | Path, columns: RecordColumns) -> None:
    """Raise `MissingColumnError` now if the export lacks a column (reads only its head).

    Lets a command fail before it writes any output. A file that cannot be opened is left for
    the scan itself to report.
    """
    name = str(path)
    if Path(name).suffix.lower() == ".parquet":
        try:
            pf = _open_parquet(name)
        except OSError:
            return
        _check(name, pf.schema_arrow.names, columns)
        return
    records = iter_records(name, columns)
    # The header (CSV) or the first object (JSONL) is checked on the way to the first record.
    for doc, _ in records:
        if doc.ok:
            break
    records.close()


# --- rewriting the text column of an export ---------------------------------------------------

Rewrite = Callable[[str], tuple[str, int]]
"""Rewrites one text: returns the new text and the number of edits made."""


@dataclass
class RewrittenRecord:
    """One record met by `rewrite_records`: where it is, its text before and after."""

    number: int
    """The record number, counting data rows (CSV) or non-blank lines (JSON Lines) from 1."""
    record_id: str
    """The value of the id column, else the record number."""
    line: int | None
    """The line of the file the record starts on (None for Parquet)."""
    old: str
    new: str
    edits: int = 0
    warning: str = ""
    """Why the record is malformed ('' when fine); a malformed record is left as it is."""
    changed: bool = field(init=False)

    def __post_init__(self) -> None:
        self.changed = self.edits > 0 and self.new != self.old


def export_encoding(path: str | Path) -> str:
    """``utf-8-sig`` for a file that starts with a UTF-8 byte-order mark, else ``utf-8``: the
    encoding that writes a rewritten export back as it was."""
    with open(path, "rb") as fh:
        return "utf-8-sig" if fh.read(3) == b"\xef\xbb\xbf" else "utf-8"


def _ending(raw: str) -> str:
    for end in ("\r\n", "\n", "\r"):
        if raw.endswith(end):
            return end
    return ""


def _csv_line(cells: Sequence[str], ending: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=ending or "\n").writerow(cells)
    text = buf.getvalue()
    return text if ending else text[:-1]


def _rewrite(text: str, rewrite: Rewrite) -> tuple[str, int]:
    return rewrite(text) if text.strip() else (text, 0)


def rewrite_csv(
    lines: Iterable[str], columns: RecordColumns, rewrite: Rewrite,
    out: IO[str] | None = None, path: str = "<csv>",
) -> Iterator[RewrittenRecord]:
    """Rewrite the text column of a CSV stream, row by row, into ``out`` (if given).

    The header, blank lines and every row the rewrite leaves alone are written as they were,
    byte for byte; a changed row is written again by the csv module with its new text cell and
    every other cell unchanged, with the row's own line ending. A malformed row (see
    `iter_csv_rows`) is written as it was and yields a warning.
    """
    rows = iter_csv_rows(lines)
    first = next(rows, None)
    if first is None:
        raise RecordError(f"{path}: empty file: a CSV export needs a header row naming its "
                          "columns")
    if first.problem:
        raise RecordError(f"{path}: not a readable CSV file: the header row: {first.problem}")
    header = [h.strip() for h in first.cells]
    _check(path, header, RecordColumns(columns.text, columns.id))
    index = _column_index(header)
    text_at = index[columns.text]
    id_at = index[columns.id] if columns.id is not None else None
    if out is not None:
        out.write(first.raw)
    number = 0
    for row in rows:
        if not row.cells:
            if out is not None:
                out.write(row.raw)
            continue
        number += 1
        cells = row.cells
        warning = _row_problem(row, len(header))
        old = cells[text_at] if text_at < len(cells) else ""
        record_id = str(number)
        if id_at is not None and id_at < len(cells) and cells[id_at]:
            record_id = cells[id_at]
        new, edits = (old, 0) if warning else _rewrite(old, rewrite)
        done = RewrittenRecord(number, record_id, row.line, old, new, edits, warning)
        if out is not None:
            if done.changed:
                changed = list(cells)
                changed[text_at] = new
                out.write(_csv_line(changed, _ending(row.raw)))
            else:
                out.write(row.raw)
        yield done


def rewrite_jsonl(
    lines: Iterable[str], columns: RecordColumns, rewrite: Rewrite,
    out: IO[str] | None = None, path: str = "<jsonl>",
) -> Iterator[RewrittenRecord]:
    """Rewrite the text column of a JSON Lines stream, line by line, into ``out`` (if given).

    A line the rewrite changes is written as its object again (``json.dumps``, keys in their
    order, the other values unchanged); every other line is written as it was. A line that is
    not a JSON object is written as it was and yields a warning.
    """
    number = 0
    checked = False
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            if out is not None:
                out.write(line)
            continue
        number += 1
        warning = ""
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            warning = f"line {line_no}: not valid JSON ({exc.msg})"
        else:
            if not isinstance(obj, dict):
                warning = f"line {line_no}: a JSON {type(obj).__name__}, not an object"
        if warning:
            if out is not None:
                out.write(line)
            yield RewrittenRecord(number, str(number), line_no, "", "", 0, warning)
            continue
        if not checked:
            _check(path, list(obj), RecordColumns(columns.text, columns.id))
            checked = True
        value = obj.get(columns.text)
        old = value if isinstance(value, str) else ""
        record_id = str(number)
        if columns.id is not None and obj.get(columns.id) not in (None, ""):
            record_id = _text(obj[columns.id])
        new, edits = _rewrite(old, rewrite)
        done = RewrittenRecord(number, record_id, line_no, old, new, edits)
        if out is not None:
            if done.changed:
                obj[columns.text] = new
                out.write(json.dumps(obj, ensure_ascii=False) + _ending(line))
            else:
                out.write(line)
        yield done


def rewrite_records(
    path: str | Path, columns: RecordColumns, rewrite: Rewrite, out: IO[str] | None = None
) -> Iterator[RewrittenRecord]:
    """Rewrite the text column of a .csv or .jsonl export into ``out``, record by record (see
    `rewrite_csv`, `rewrite_jsonl`), yielding each record. Without ``out`` nothing is written,
    and a .parquet export can be read too (writing Parquet is a `RecordError`).

    With ``out`` the file must be valid UTF-8 (a `RecordError` otherwise), since bytes that
    cannot be decoded could not be written back as they were.
    """
    name = str(path)
    suffix = Path(name).suffix.lower()
    if suffix not in RECORD_SUFFIXES:
        raise RecordError(f"{name}: not a record export; use a file ending in "
                          f"{', '.join(RECORD_SUFFIXES)}")
    if suffix == ".parquet":
        if out is not None:
            raise RecordError(f"{name}: blamelex does not write Parquet files; run without "
                              "--write to see the changes, or rewrite a CSV or JSON Lines "
                              "export")
        for number, (doc, _) in enumerate(read_parquet(name, columns), 1):
            new, edits = _rewrite(doc.text, rewrite)
            yield RewrittenRecord(number, doc.record_id or str(number), None, doc.text, new,
                                  edits)
        return
    step = rewrite_csv if suffix == ".csv" else rewrite_jsonl
    errors = "strict" if out is not None else "replace"
    try:
        with open(name, encoding="utf-8-sig", errors=errors, newline="") as fh:
            yield from step(fh, columns, rewrite, out, name)
    except UnicodeDecodeError as exc:
        raise RecordError(f"{name}: not valid UTF-8 ({exc.reason}); not rewritten, since the "
                          "bytes that cannot be read could not be written back as they "
                          "were") from None
