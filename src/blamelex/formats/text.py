"""``path:line:col: CODE [severity] message (suggestion)``, one finding a line (ruff style);
``[reported]`` after the severity marks wording the text attributes to someone else.

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
            voice = " [reported]" if f.voice == "reported" else ""
            self.stream.write(
                f"{label}:{line}:{col}: {f.code} [{f.severity}]{voice} {message(f)}{hint}\n"
            )
