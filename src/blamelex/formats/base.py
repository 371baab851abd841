"""What every formatter receives: one `ScanResult` per scanned document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from blamelex.findings import Finding
from blamelex.sources import Document, line_col, line_starts


@dataclass
class ScanResult:
    """A document and its findings, with line/column lookup."""

    document: Document
    findings: list[Finding] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    """Columns carried from a record export (id, kept columns)."""

    def __post_init__(self) -> None:
        self._starts: list[int] | None = None

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a file-level character offset."""
        if self._starts is None:
            self._starts = line_starts(self.document.text)
        line, col = line_col(self._starts, offset - self.document.offset)
        return line + self.document.line_offset, col

    def context(self, start: int, end: int, chars: int) -> str:
        """The text around a file-level span, ``chars`` characters either side."""
        base = self.document.offset
        text = self.document.text
        return text[max(0, start - base - chars) : max(0, end - base + chars)]


class Formatter:
    """Writes scan results to a stream: ``begin``, ``write`` for each result, ``end``."""

    name = "base"

    def __init__(self, stream: IO[str], *, redact: int | None = None) -> None:
        self.stream = stream
        self.redact = redact

    def begin(self) -> None:
        """Called once before the first result."""

    def write(self, result: ScanResult) -> None:
        """Called for each scanned (or failed) document."""
        raise NotImplementedError

    def end(self) -> None:
        """Called once after the last result."""


def message(finding: Finding) -> str:
    """One-line message: the term, why it harms, in short."""
    first = finding.explanation.split(". ")[0].rstrip(".")
    return f"{finding.text!r}: {first}."
