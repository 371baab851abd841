"""``path:line:col: CODE message (suggestion)``, one finding a line (ruff style)."""

from __future__ import annotations

from blamelex.formats.base import Formatter, ScanResult, message


class TextFormatter(Formatter):
    """Human-readable lines."""

    name = "text"

    def write(self, result: ScanResult) -> None:
        doc = result.document
        label = result.extra.get("id") or doc.path
        for f in result.findings:
            line, col = result.position(f.start)
            hint = f" (suggest: {f.suggestions[0].text!r})" if f.suggestions else ""
            self.stream.write(
                f"{label}:{line}:{col}: {f.code} [{f.severity}] {message(f)}{hint}\n"
            )
