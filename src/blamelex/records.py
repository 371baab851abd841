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
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    return Document(path, text=text, warnings=warnings, record_id=record_id), extra


def read_csv(
    lines: Iterable[str], columns: RecordColumns, path: str = "<csv>"
) -> Iterator[tuple[Document, dict[str, Any]]]:
    """Records of a CSV stream (a file opened with ``newline=""``), one row at a time.

    The first row is the header. Quoted cells may hold commas and line breaks. Blank lines are
    skipped; a short row's missing cells are empty; record numbers count data rows from 1.
    """
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        yield Document(path, error=f"not a readable CSV file ({exc})"), {}
        return
    if header is None:
        yield Document(path, error="empty file: a CSV export needs a header row naming its "
                                   "columns"), {}
        return
    header = [h.strip() for h in header]
    _check(path, header, columns)
    # The first column of that name wins when a header repeats a name.
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name, i)
    wanted = [col for col, _ in columns.wanted()]
    number = 0
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            # The reader's place in the file is unclear after this: report and stop.
            yield (Document(path, error=f"line {reader.line_num}: {exc}; records after "
                                        f"record {number} not read", record_id=str(number + 1)),
                   {})
            return
        if row is None:
            return
        if not row:
            continue
        number += 1
        cells = {c: (row[index[c]] if index[c] < len(row) else None) for c in wanted}
        yield _record(path, number, cells, columns)


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
