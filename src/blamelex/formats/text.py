"""``path:line:col: CODE message (suggestion)``, one finding a line (ruff style).

A record of an export (CSV, JSON Lines, Parquet) is ``path:ID:line:col``, the line and column
counted in the record's text, so the record can be found by its id.
"""

from __future__ import annotations

from blamelex.formats.base import Formatter, ScanResult, message


class TextFormatter(Formatter):
    """Human-readable lines."""

    name = "text"

    def write(self, result: ScanResult) -> None:
        doc = result.document
        label = doc.label
        for f in result.findings:
            line, col = result.position(f.start)
            hint = f" (suggest: {f.suggestions[0].text!r})" if f.suggestions else ""
            self.stream.write(
                f"{label}:{line}:{col}: {f.code} [{f.severity}] {message(f)}{hint}\n"
            )
