"""One formatter per output format: text, json, jsonl, sarif, csv, html."""

from __future__ import annotations

from typing import IO, Any

from blamelex.formats.base import Formatter, ScanResult
from blamelex.formats.csvfmt import CsvFormatter
from blamelex.formats.html import HtmlFormatter
from blamelex.formats.jsonfmt import JsonFormatter, JsonLinesFormatter
from blamelex.formats.sarif import SarifFormatter
from blamelex.formats.text import TextFormatter

FORMATTERS: dict[str, type[Formatter]] = {
    "text": TextFormatter,
    "json": JsonFormatter,
    "jsonl": JsonLinesFormatter,
    "sarif": SarifFormatter,
    "csv": CsvFormatter,
    "html": HtmlFormatter,
}


def get_formatter(name: str, stream: IO[str], **options: Any) -> Formatter:
    """Build the formatter called ``name`` writing to ``stream``."""
    try:
        cls = FORMATTERS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; choose from {', '.join(FORMATTERS)}") from None
    if cls in (SarifFormatter, HtmlFormatter):  # these show rule details and the version
        return cls(stream, **options)
    options.pop("lexicon", None)
    options.pop("version", None)
    return cls(stream, **options)


__all__ = ["FORMATTERS", "Formatter", "ScanResult", "get_formatter"]
