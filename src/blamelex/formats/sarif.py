"""SARIF 2.1.0 output; suggestions are carried as fixes (replacements)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from blamelex.findings import Finding
from blamelex.formats.base import Formatter, ScanResult, message
from blamelex.lexicon import Lexicon

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"avoid": "warning", "caution": "note"}


def _uri(path: str) -> str:
    if path in {"-", "<stdin>"}:
        return "stdin"
    return Path(path).as_posix()


class SarifFormatter(Formatter):
    """One SARIF log with a single run."""

    name = "sarif"

    def __init__(self, stream: Any, *, redact: int | None = None,
                 lexicon: Lexicon | None = None, version: str = "") -> None:
        super().__init__(stream, redact=redact)
        self.lexicon = lexicon
        self.version = version

    def begin(self) -> None:
        self.results: list[dict[str, Any]] = []
        self.rule_ids: list[str] = []
        self.notifications: list[dict[str, Any]] = []

    def _region(self, result: ScanResult, start: int, end: int) -> dict[str, Any]:
        line, col = result.position(start)
        end_line, end_col = result.position(end)
        return {"startLine": line, "startColumn": col, "endLine": end_line,
                "endColumn": end_col, "charOffset": start, "charLength": end - start}

    def _result(self, result: ScanResult, f: Finding) -> dict[str, Any]:
        if f.code not in self.rule_ids:
            self.rule_ids.append(f.code)
        uri = _uri(result.document.path)
        out: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": self.rule_ids.index(f.code),
            "level": _LEVEL.get(f.severity, "note"),
            "message": {"text": message(f)},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": uri},
                "region": self._region(result, f.start, f.end)}}],
            "properties": {"category": f.category, "severity": f.severity, "score": f.score,
                           "origin": f.origin,
                           "modifiers": [m.name for m in f.modifiers]},
        }
        if result.document.record_id is not None:
            # A record of an export: the region counts lines in the record's text, so name the
            # record too, or a viewer could not tell which row of the file is meant.
            out["locations"][0]["logicalLocations"] = [{
                "name": result.document.record_id, "kind": "record",
                "fullyQualifiedName": f"{uri}:{result.document.record_id}"}]
        if result.extra:
            out["properties"]["record"] = {k: "" if v is None else str(v)
                                           for k, v in result.extra.items()}
        fixes = []
        for s in f.suggestions:
            fixes.append({
                "description": {"text": f"Replace with: {s.text}"},
                "artifactChanges": [{
                    "artifactLocation": {"uri": uri},
                    "replacements": [{
                        "deletedRegion": {"charOffset": s.start, "charLength": s.end - s.start},
                        "insertedContent": {"text": s.text}}]}],
            })
        if fixes:
            out["fixes"] = fixes
        return out

    def write(self, result: ScanResult) -> None:
        doc = result.document
        if doc.error or doc.skipped:
            self.notifications.append({
                "level": "error" if doc.error else "warning",
                "message": {"text": f"{doc.path}: {doc.error or doc.skipped}"},
            })
            return
        for f in result.findings:
            self.results.append(self._result(result, f))

    def _rules(self) -> list[dict[str, Any]]:
        rules = []
        for code in self.rule_ids:
            entry = self.lexicon.get(code) if self.lexicon else None
            rule: dict[str, Any] = {"id": code}
            if entry is not None:
                rule.update({
                    "name": entry.term,
                    "shortDescription": {"text": entry.term},
                    "fullDescription": {"text": entry.explanation},
                    "help": {"text": "Instead: " + "; ".join(entry.suggestions)},
                    "properties": {"category": entry.category, "severity": entry.severity,
                                   "sources": [s.url for s in entry.sources]},
                })
                if entry.sources:
                    rule["helpUri"] = entry.sources[0].url
            rules.append(rule)
        return rules

    def end(self) -> None:
        run: dict[str, Any] = {
            "tool": {"driver": {
                "name": "blamelex",
                "version": self.version,
                "informationUri": "https://pypi.org/project/blamelex/",
                "rules": self._rules()}},
            "results": self.results,
            "columnKind": "unicodeCodePoints",
        }
        if self.notifications:
            run["invocations"] = [{"executionSuccessful": True,
                                   "toolExecutionNotifications": self.notifications}]
        log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
        json.dump(log, self.stream, ensure_ascii=False, indent=2)
        self.stream.write("\n")
