"""CSV, one row per finding; cells that a spreadsheet would run as formulas are neutralised."""

from __future__ import annotations

import csv

from blamelex.findings import FLAT_FIELDS, flat
from blamelex.formats.base import Formatter, ScanResult, message

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FLAT = [name for name, _ in FLAT_FIELDS]
COLUMNS = ["path", "line", "column", *_FLAT, "message", "modifiers"]
"""Where the finding is, its flat form (`blamelex.findings.FLAT_FIELDS`, as in the `datasets`
and Spark tables), the message and the context rules that fired."""


def safe_cell(value: object) -> str:
    """Prefix a cell that starts like a formula with ``'`` (OWASP CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class CsvFormatter(Formatter):
    """Spreadsheet-friendly rows."""

    name = "csv"

    def begin(self) -> None:
        self.writer = csv.writer(self.stream)
        self.extra_cols: list[str] | None = None

    def write(self, result: ScanResult) -> None:
        if self.extra_cols is None:
            self.extra_cols = list(result.extra)
            header = self.extra_cols + COLUMNS + (["context"] if self.redact is not None else [])
            self.writer.writerow(header)
        for f in result.findings:
            line, col = result.position(f.start)
            row = [result.extra.get(c, "") for c in self.extra_cols]
            record = flat(f)
            record["score"] = f"{f.score:.3f}"
            row += [result.document.path, line, col, *(record[c] for c in _FLAT), message(f),
                    ";".join(m.name for m in f.modifiers)]
            if self.redact is not None:
                row.append(result.context(f.start, f.end, self.redact))
            self.writer.writerow([safe_cell(c) for c in row])

    def end(self) -> None:
        if self.extra_cols is None:
            self.writer.writerow(COLUMNS)
