"""A self-contained HTML audit report: summary, charts, filters and every flagged record.

The summary counts findings by voice, an auditor's view: labels the notes attribute to others
(``reported``: "officers described her as ...") beside the notes' own wording (``own``);
reported findings are marked in the text and in their details, and can be filtered.

The report is one file that works offline: CSS and JavaScript are inline, there are no web
fonts, images or external links to assets, and a Content-Security-Policy meta tag forbids every
network fetch. Only the lexicon's source links point outside, and they open only when a person
clicks them.

Case notes are untrusted input, so nothing from them ever reaches the page as markup:

* the static parts (summary, charts, errors) are rendered by Jinja2 with autoescaping on;
* the records travel as a JSON blob inside ``<script type="application/json">`` with ``<``,
  ``>``, ``&``, U+2028 and U+2029 escaped, and the page script builds the DOM from it with
  ``textContent`` only (never ``innerHTML``);
* the CSP allows only the report's own inline style and script, by SHA-256 hash.

Records are rendered a page at a time from the blob, so a scan of 10,000 records stays
responsive.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from itertools import pairwise
from typing import IO, Any

import jinja2
from markupsafe import Markup

from blamelex.findings import SEVERITIES, VOICES, Finding
from blamelex.formats.base import Formatter, ScanResult
from blamelex.lexicon import CATEGORIES, Lexicon

PAGE_SIZE = 100
"""Records rendered per page; the rest wait in the embedded JSON."""

MAX_COLUMN_VALUES = 15
"""Values charted per kept column (the most frequent); the rest are counted as 'more'."""

MAX_DISTINCT_FOR_CHART = 200
"""A kept column with more distinct values than this (an id, a date) is not charted."""

# Colour pairs (strong, tint) chosen for distinct hues and >= 4.5:1 contrast of dark text on
# the tint and of white text on the strong colour. Categories take them in catalogue order.
PALETTE: tuple[tuple[str, str], ...] = (
    ("#1d4ed8", "#dbeafe"),  # blue
    ("#c2410c", "#ffedd5"),  # orange
    ("#6d28d9", "#ede9fe"),  # violet
    ("#0f766e", "#ccfbf1"),  # teal
    ("#be123c", "#ffe4e6"),  # rose
    ("#4d7c0f", "#ecfccb"),  # green
    ("#a16207", "#fef9c3"),  # gold
    ("#a21caf", "#fae8ff"),  # fuchsia
    ("#475569", "#e2e8f0"),  # slate
    ("#0369a1", "#e0f2fe"),  # sky
    ("#854d0e", "#fef3c7"),  # brown
    ("#4338ca", "#e0e7ff"),  # indigo
)
"""(strong, tint) colour for each category, in order."""

_TEMPLATES = "templates"

VOICE_LABELS = {"reported": "labels used by others", "own": "our own wording"}
"""How the report names each voice (the same words as `blamelex.summary`)."""


@dataclass(frozen=True)
class Category:
    """A category as the report shows it: name, human label, colour and CSS class."""

    name: str
    label: str
    colour: str
    tint: str
    index: int

    @property
    def css(self) -> str:
        """CSS class of this category's colours (an index, never the name from the data)."""
        return f"cat-{self.index}"


def script_safe_json(value: Any) -> str:
    """JSON that cannot end or alter the ``<script>`` element that holds it.

    ``<``, ``>`` and ``&`` can only occur inside JSON strings, where ``\\uXXXX`` escapes mean
    the same characters, so ``</script>`` and ``<!--`` cannot appear; U+2028/9 are escaped
    because older JavaScript parsers treat them as line ends.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def csp_hash(source: str) -> str:
    """The CSP source expression (``'sha256-...'``) that allows exactly this inline code."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def segments(text: str, findings: list[tuple[int, Finding]],
             redact: int | None = None, offset: int = 0) -> list[Any]:
    """Split ``text`` into plain and highlighted pieces for the page script.

    Returns a list whose items are a plain string, ``[string, [finding ids]]`` for text covered
    by findings (overlapping findings share pieces), or ``0`` for text left out by ``redact``.
    Splitting here, in code points, spares the browser from converting Python offsets to
    JavaScript's UTF-16 indices. ``offset`` is where ``text`` starts in its file (a chunk of a
    large file): finding offsets are file-level.
    """
    n = len(text)
    spans = [(fid, f.start - offset, f.end - offset) for fid, f in findings]
    if redact is None:
        windows = [(0, n)]
    else:
        windows = []
        for _, lo, hi in sorted(spans, key=lambda sp: sp[1]):
            lo, hi = max(0, lo - redact), min(n, hi + redact)
            if windows and lo <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(windows[-1][1], hi))
            else:
                windows.append((lo, hi))
    if not windows:
        return [0] if n else []  # redacted, nothing flagged: show only that text was left out
    out: list[Any] = []
    for w_start, w_end in windows:
        if w_start > 0 and (not out or out[-1] != 0):
            out.append(0)
        cuts = {w_start, w_end}
        for _, lo, hi in spans:
            cuts.update(c for c in (lo, hi) if w_start < c < w_end)
        for a, b in pairwise(sorted(cuts)):
            piece = text[a:b]
            ids = [fid for fid, lo, hi in spans if lo <= a and b <= hi]
            if ids:
                out.append([piece, ids])
            elif out and isinstance(out[-1], str):
                out[-1] += piece
            else:
                out.append(piece)
    if redact is not None and windows and windows[-1][1] < n:
        out.append(0)
    return out


def _bars(counts: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Rows for a horizontal bar chart: label, count and bar width in percent of the largest."""
    top = max((c for _, c in counts), default=0)
    return [{"key": k, "count": c, "width": round(100 * c / top, 2) if top else 0.0}
            for k, c in counts]


class HtmlFormatter(Formatter):
    """Collects every result, then writes one self-contained HTML report in ``end()``."""

    name = "html"

    def __init__(self, stream: IO[str], *, redact: int | None = None,
                 lexicon: Lexicon | None = None, version: str = "",
                 title: str = "blamelex audit report", generated: str | None = None,
                 page_size: int = PAGE_SIZE) -> None:
        super().__init__(stream, redact=redact)
        self.lexicon = lexicon
        self.version = version
        self.title = title
        self.generated = generated
        self.page_size = page_size

    def begin(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.findings: list[dict[str, Any]] = []
        self.problems: list[dict[str, Any]] = []
        self.columns: list[str] = []
        self.by_category: Counter[str] = Counter()
        self.by_severity: Counter[str] = Counter()
        self.by_code: Counter[str] = Counter()
        self.by_voice: Counter[str] = Counter()
        self.code_info: dict[str, tuple[str, str]] = {}
        self.by_column: dict[str, Counter[str]] = defaultdict(Counter)
        self.records_by_column: dict[str, Counter[str]] = defaultdict(Counter)
        self.id_columns: dict[str, bool] = {}
        self._open: tuple[str, int] | None = None
        self.categories: dict[str, Category] = {}
        for name in self._category_order():
            self._category(name)

    def _category_order(self) -> list[str]:
        names = list(CATEGORIES)
        if self.lexicon is not None:
            names += [c for c in self.lexicon.categories() if c not in CATEGORIES]
        return names

    def _category(self, name: str) -> Category:
        cat = self.categories.get(name)
        if cat is None:
            i = len(self.categories)
            colour, tint = PALETTE[i % len(PALETTE)]
            label = CATEGORIES.get(name, name.replace("_", " ").capitalize())
            cat = Category(name, label, colour, tint, i)
            self.categories[name] = cat
        return cat

    def write(self, result: ScanResult) -> None:
        doc = result.document
        extra = {str(k): "" if v is None else str(v) for k, v in result.extra.items()}
        label = doc.record_id or extra.get("id") or doc.path
        if doc.error or doc.skipped:
            self.problems.append({
                "label": label, "path": doc.path, "extra": extra,
                "kind": "error" if doc.error else "skipped",
                "reason": doc.error or doc.skipped,
            })
            return
        # A large file arrives in chunks whose findings carry file-level offsets; the chunks
        # of one file are joined back into one record.
        offset = int(getattr(doc, "offset", 0) or 0)
        joined = bool(offset and self.records and self._open == (doc.path, offset))
        if not joined:
            self._new_record(label, doc.path, extra)
        record = self.records[-1]
        ids: list[tuple[int, Finding]] = []
        for f in result.findings:
            fid = len(self.findings)
            line, col = result.position(f.start)
            cat = self._category(f.category)
            self.findings.append({
                "r": len(self.records) - 1, "code": f.code, "cat": cat.name,
                "sev": f.severity, "score": round(f.score, 3), "text": f.text, "term": f.term,
                "why": f.explanation, "sug": [s.text for s in f.suggestions],
                "src": [[s.title, s.url] for s in f.sources],
                "mod": [m.name for m in f.modifiers], "origin": f.origin, "voice": f.voice,
                "line": line, "col": col,
            })
            ids.append((fid, f))
            self.by_category[f.category] += 1
            self.by_severity[f.severity] += 1
            self.by_code[f.code] += 1
            self.by_voice[f.voice] += 1
            self.code_info.setdefault(f.code, (f.term, f.category))
            for key, value in extra.items():
                self.by_column[key][value] += 1
        pieces = segments(doc.text, ids, self.redact, offset)
        if pieces[:1] == [0] and record["seg"][-1:] == [0]:
            pieces = pieces[1:]  # one elision mark where two redacted chunks meet
        record["seg"].extend(pieces)
        record["f"].extend(fid for fid, _ in ids)
        record["warn"].extend(w for w in doc.warnings if w not in record["warn"])
        self._open = (doc.path, offset + len(doc.text))

    def _new_record(self, label: str, path: str, extra: dict[str, str]) -> None:
        for key, value in extra.items():
            if key not in self.columns:
                self.columns.append(key)
                self.id_columns[key] = True
            # The id column (or the record number) holds the record's label wherever it is set
            # (files scanned with an export have it blank).
            self.id_columns[key] = self.id_columns[key] and (
                key == "id" or value in ("", label))
            self.records_by_column[key][value] += 1
        self.records.append({"label": label, "path": path, "extra": extra,
                             "seg": [], "f": [], "warn": []})

    def summary(self) -> dict[str, Any]:
        """Counts for the summary section: totals, per category, severity, voice, code and
        column."""
        cats = list(self.categories.values())
        # Most serious first; a severity unknown to this version (from a newer model) last.
        severities = sorted(set(SEVERITIES) | set(self.by_severity),
                            key=lambda s: -SEVERITIES.index(s) if s in SEVERITIES else 1)
        codes = sorted(self.by_code.items(), key=lambda kv: (-kv[1], kv[0]))
        # reported first (the auditor's question: whose labels do the notes repeat?); a voice
        # unknown to this version last
        voices = ["reported", "own"] + sorted(set(self.by_voice) - set(VOICES))
        columns = []
        for key in self.columns:
            records = self.records_by_column[key]
            if self.id_columns.get(key) and set(records) - {""}:
                continue  # the record's own id or number: one value per record, no chart
            found = self.by_column[key]
            if len(records) > MAX_DISTINCT_FOR_CHART or (
                    len(records) > MAX_COLUMN_VALUES and len(records) == len(self.records)):
                # One value per record (an id) or very many: a chart would say nothing.
                columns.append({"key": key, "distinct": len(records), "rows": [], "more": 0})
                continue
            ranked = sorted(records, key=lambda v: (-found[v], -records[v], v))
            shown = ranked[:MAX_COLUMN_VALUES]
            rows = _bars([(v, found[v]) for v in shown])
            for row in rows:
                row["records"] = records[row["key"]]
            columns.append({"key": key, "distinct": len(records), "rows": rows,
                            "more": len(ranked) - len(shown)})
        return {
            "records": len(self.records),
            "with_findings": sum(1 for r in self.records if r["f"]),
            "findings": len(self.findings),
            "errors": sum(1 for p in self.problems if p["kind"] == "error"),
            "skipped": sum(1 for p in self.problems if p["kind"] == "skipped"),
            "warnings": sum(1 for r in self.records if r["warn"]),
            "categories": [dict(row, cat=self.categories[row["key"]])
                           for row in _bars([(c.name, self.by_category[c.name]) for c in cats])],
            "severities": _bars([(s, self.by_severity[s]) for s in severities]),
            "voices": [dict(row, label=VOICE_LABELS.get(row["key"], row["key"]))
                       for row in _bars([(v, self.by_voice[v]) for v in voices])],
            "codes": [dict(row, term=self.code_info[row["key"]][0],
                           cat=self.categories[self.code_info[row["key"]][1]])
                      for row in _bars(codes)],
            "columns": columns,
        }

    def end(self) -> None:
        self.stream.write(self.render())

    def render(self) -> str:
        """The whole report as one HTML string."""
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("blamelex.formats", _TEMPLATES),
            autoescape=True,  # every value from the notes is escaped unless marked safe
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        folder = resources.files("blamelex.formats").joinpath(_TEMPLATES)
        css = folder.joinpath("report.css").read_text(encoding="utf-8")
        css += "".join(f".{c.css}{{--c:{c.colour};--t:{c.tint}}}\n"
                       for c in self.categories.values())
        js = folder.joinpath("report.js").read_text(encoding="utf-8")
        summary = self.summary()
        data = {
            "pageSize": self.page_size,
            "categories": [{"name": c.name, "label": c.label, "css": c.css}
                           for c in self.categories.values()],
            "records": self.records,
            "findings": self.findings,
        }
        generated = self.generated or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        csp = ("default-src 'none'; "
               f"style-src {csp_hash(css)}; script-src {csp_hash(js)}; "
               "img-src 'none'; font-src 'none'; connect-src 'none'; media-src 'none'; "
               "object-src 'none'; frame-src 'none'; worker-src 'none'; manifest-src 'none'; "
               "base-uri 'none'; form-action 'none'")
        template = env.get_template("report.html.j2")
        return template.render(
            title=self.title, version=self.version, generated=generated,
            csp=Markup(csp),  # constants and hashes only; quotes kept readable
            # Our own files, not note text: marked safe so the bytes match their CSP hashes.
            css=Markup(css), js=Markup(js),
            # Note text, made safe for a <script> element by script_safe_json (HTML escaping
            # would be wrong there: a script element's content is not parsed for entities).
            data=Markup(script_safe_json(data)),
            summary=summary, categories=list(self.categories.values()),
            severities=[row["key"] for row in summary["severities"]],
            voices=summary["voices"],
            problems=self.problems, columns=self.columns, page_size=self.page_size,
        )
