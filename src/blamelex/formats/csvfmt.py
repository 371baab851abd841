"""CSV, one row per finding; cells that a spreadsheet would run as formulas are neutralised."""

from __future__ import annotations

import csv

from blamelex.formats.base import Formatter, ScanResult, message

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ["path", "line", "column", "start", "end", "code", "category", "severity", "score",
           "text", "message", "suggestion", "modifiers", "origin"]


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
            row += [result.document.path, line, col, f.start, f.end, f.code, f.category,
                    f.severity, f"{f.score:.3f}", f.text, message(f),
                    f.suggestions[0].text if f.suggestions else "",
                    ";".join(m.name for m in f.modifiers), f.origin]
            if self.redact is not None:
                row.append(result.context(f.start, f.end, self.redact))
            self.writer.writerow([safe_cell(c) for c in row])

    def end(self) -> None:
        if self.extra_cols is None:
            self.writer.writerow(COLUMNS)
