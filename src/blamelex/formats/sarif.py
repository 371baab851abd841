"""SARIF 2.1.0 output; suggestions are carried as fixes (replacements) where they can apply.

A finding in a text file has a physical location: the file and a region (line, column and
character offset in the file), and its suggestions are fixes that replace that region.

A finding in a record of an export (a CSV, JSON Lines or Parquet row) has no region: its
offsets count in the record's text, not in the file, so a region would point a viewer at the
wrong characters of the CSV file, and a fix applied there would corrupt it. Such a finding is
located by the file (``artifactLocation`` without a region) and a logical location naming the
record and the column, ``"<id>/<column>"``; the position inside the record's text is in the
result's ``properties.recordLocation``, and no fixes are offered (``blamelex rewrite FILE
--text-column COL`` rewrites a CSV or JSON Lines export safely). Text read from stdin gets no
fixes either: there is no file to apply them to.

Each result's ``properties.voice`` is ``own`` or ``reported`` (wording the text attributes to a
professional, agency, court or record). A reported finding gets no fixes: someone else's words
are not the writer's to replace (``blamelex rewrite`` leaves them too); its message is marked
``[reported]`` and ``properties.suggestion`` asks for the label to be attributed and the concern
recorded.
"""

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

    def _location(self, result: ScanResult, region: dict[str, Any] | None) -> dict[str, Any]:
        """The file with ``region``, or for a record the file and the record's logical location
        (never a region: see the module's docstring)."""
        doc = result.document
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(doc.path)}}
        if doc.record_id is None:
            if region is not None:
                physical["region"] = region
            return {"physicalLocation": physical}
        column = doc.column or "text"
        return {"physicalLocation": physical,
                "logicalLocations": [{"name": column, "kind": "property",
                                      "fullyQualifiedName": f"{doc.record_id}/{column}"}]}

    def _result(self, result: ScanResult, f: Finding) -> dict[str, Any]:
        if f.code not in self.rule_ids:
            self.rule_ids.append(f.code)
        doc = result.document
        uri = _uri(doc.path)
        region = self._region(result, f.start, f.end)
        out: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": self.rule_ids.index(f.code),
            "level": _LEVEL.get(f.severity, "note"),
            "message": {"text": message(f) + (" [reported]" if f.voice == "reported" else "")},
            "locations": [self._location(result, region)],
            "properties": {"category": f.category, "severity": f.severity, "score": f.score,
                           "origin": f.origin, "voice": f.voice,
                           "modifiers": [m.name for m in f.modifiers]},
        }
        if doc.record_id is not None:
            # Where the finding is inside the record's text (lines and columns of that text).
            out["properties"]["recordLocation"] = {
                "record": doc.record_id, "column": doc.column or "text", **region}
        if result.extra:
            out["properties"]["record"] = {k: "" if v is None else str(v)
                                           for k, v in result.extra.items()}
        if f.related:
            # what the finding rests on (the indicators read, a linked VB finding); for a record
            # of an export, like the finding itself, no region (see the module's docstring)
            out["relatedLocations"] = [
                {"id": k, "message": {"text": f"{r.kind} {r.code}: {r.text}"},
                 **self._location(result, self._region(result, r.start, r.end))}
                for k, r in enumerate(f.related)]
        if f.voice == "reported" and f.suggestions:
            out["properties"]["suggestion"] = f.suggestions[0].text
        if doc.record_id is not None or uri == "stdin" or f.origin == "risk" or \
                f.voice == "reported":
            # no file whose text the offsets index, a risk grade (a person's decision, never an
            # automatic edit), or someone else's words (attributed, never rewritten): no fixes
            return out
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

    def _notify(self, result: ScanResult, level: str, text: str) -> None:
        doc = result.document
        self.notifications.append({"level": level, "message": {"text": f"{doc.label}: {text}"},
                                   "locations": [self._location(result, None)]})

    def write(self, result: ScanResult) -> None:
        doc = result.document
        if doc.error or doc.skipped:
            self._notify(result, "error" if doc.error else "warning", doc.error or doc.skipped)
            return
        for w in doc.warnings:
            self._notify(result, "warning", w)
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
