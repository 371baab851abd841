"""JSON (one document) and JSON Lines (one object per finding) output."""

from __future__ import annotations

import json
from typing import Any

from blamelex.findings import Finding
from blamelex.formats.base import Formatter, ScanResult


def finding_record(result: ScanResult, finding: Finding, redact: int | None) -> dict[str, Any]:
    """A flat, JSON-serialisable record for one finding, with path, line and column."""
    line, col = result.position(finding.start)
    data = finding.to_dict()
    record: dict[str, Any] = {"path": result.document.path, "line": line, "column": col}
    record.update(result.extra)
    record.update(data)
    if redact is not None:
        record["context"] = result.context(finding.start, finding.end, redact)
        # triggers and the trace quote other words of the note: leave them out
        record["trace"] = []
        for mod in record["modifiers"]:
            mod["trigger"] = ""
    return record


class JsonLinesFormatter(Formatter):
    """One JSON object per finding, streamed."""

    name = "jsonl"

    def write(self, result: ScanResult) -> None:
        for f in result.findings:
            rec = finding_record(result, f, self.redact)
            self.stream.write(json.dumps(rec, ensure_ascii=False) + "\n")


class JsonFormatter(Formatter):
    """One JSON document: files, their findings and their errors."""

    name = "json"

    def begin(self) -> None:
        self.files: list[dict[str, Any]] = []

    def write(self, result: ScanResult) -> None:
        doc = result.document
        entry: dict[str, Any] = {"path": doc.path, **result.extra}
        if doc.error:
            entry["error"] = doc.error
        if doc.skipped:
            entry["skipped"] = doc.skipped
        if doc.warnings:
            entry["warnings"] = list(doc.warnings)
        entry["findings"] = [finding_record(result, f, self.redact) for f in result.findings]
        self.files.append(entry)

    def end(self) -> None:
        total = sum(len(f["findings"]) for f in self.files)
        json.dump({"files": self.files, "total_findings": total}, self.stream,
                  ensure_ascii=False, indent=2)
        self.stream.write("\n")
