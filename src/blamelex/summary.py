"""Aggregate counts over a scan's JSON Lines findings: per category, per code, per voice, per
column.

``blamelex scan export.csv --text-column notes --keep-column team --format jsonl -o f.jsonl``
writes one finding a line with the record's carried columns; `summarise` reads that stream once
(memory grows with the number of distinct values, not of findings) and counts the findings per
category, per code, per voice (an auditor's view: ``reported``, labels the notes attribute to
others, beside ``own``, the notes' own wording; `VOICE_LABELS`), per each ``by`` key, and per
the ``by`` keys together when there are several.
The result prints as a table, writes as CSV or JSON (`write_summary`), and draws as bar charts
(`plot_summary`, needs matplotlib: ``pip install 'blamelex[report]'``).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPORT_HINT = "pip install 'blamelex[report]'"
NONE_LABEL = "(none)"
"""How a finding without a value for a key (null or empty) is counted."""
_MAX_BARS = 25
VOICE_LABELS = {"own": "our own wording", "reported": "labels used by others"}
"""How the printed tables and the charts name each voice (`blamelex.findings.VOICES`)."""
DEFAULT_VOICE = "own"
"""The voice of a finding written before findings carried one (`Finding.from_dict` agrees)."""


class SummaryError(ValueError):
    """The findings cannot be summarised as asked (bad line, unknown key, missing package)."""


@dataclass
class Table:
    """Finding counts per value of one key, or per combination of several keys."""

    keys: tuple[str, ...]
    counts: Counter[tuple[str, ...]] = field(default_factory=Counter)

    @property
    def name(self) -> str:
        """The keys joined with ``+`` (``team+category``)."""
        return "+".join(self.keys)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per value (the keys and ``findings``), most findings first."""
        ordered = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [{**dict(zip(self.keys, values, strict=True)), "findings": n}
                for values, n in ordered]


@dataclass
class Summary:
    """All the tables of one summary, and the number of findings read."""

    total: int
    tables: list[Table]

    @property
    def by_voice(self) -> dict[str, int]:
        """Findings per voice, ``own`` and ``reported`` always present."""
        counts = dict.fromkeys(VOICE_LABELS, 0)
        for table in self.tables:
            if table.keys == ("voice",):
                for (voice,), n in table.counts.items():
                    counts[voice] = counts.get(voice, 0) + n
        return counts

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form: the total, the findings per voice and each table's rows."""
        return {"total_findings": self.total, "by_voice": self.by_voice,
                "tables": [{"by": list(t.keys), "rows": t.rows()} for t in self.tables]}


def table_keys(by: Sequence[str]) -> list[tuple[str, ...]]:
    """The tables to count: category, code, voice, each ``by`` key, then all ``by`` keys
    together."""
    keys: list[tuple[str, ...]] = [("category",), ("code",), ("voice",)]
    for key in by:
        if (key,) not in keys:
            keys.append((key,))
    unique = tuple(dict.fromkeys(by))
    if len(unique) > 1:
        keys.append(unique)
    return keys


def _label(value: Any) -> str:
    if value is None or value == "":
        return NONE_LABEL
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def summarise(lines: Iterable[str], by: Sequence[str] = (), source: str = "<findings>") -> Summary:
    """Count the findings in JSON Lines text (one finding object a line, as ``scan`` writes).

    Raises `SummaryError` for a line that is not a JSON object, or for a ``by`` key that no
    finding has (the message lists the keys found).
    """
    tables = [Table(keys) for keys in table_keys(by)]
    seen_keys: set[str] = set()
    total = 0
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            finding = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SummaryError(f"{source}: line {line_no} is not JSON ({exc.msg}); summary "
                               "reads the output of 'blamelex scan --format jsonl'") from None
        if not isinstance(finding, dict):
            raise SummaryError(f"{source}: line {line_no} is not a JSON object; summary reads "
                               "the output of 'blamelex scan --format jsonl'")
        total += 1
        if finding.get("voice") in (None, ""):
            finding["voice"] = DEFAULT_VOICE
        seen_keys.update(finding)
        for table in tables:
            table.counts[tuple(_label(finding.get(k)) for k in table.keys)] += 1
    if total:
        missing = [k for k in dict.fromkeys(by) if k not in seen_keys]
        if missing:
            found = ", ".join(repr(k) for k in sorted(seen_keys))
            raise SummaryError(
                f"{source}: no finding has {missing[0]!r} (asked for by --by); keys found: "
                f"{found}. Keep the column when scanning: --keep-column {missing[0]}")
    return Summary(total, tables)


def format_summary(summary: Summary) -> str:
    """The summary as plain-text tables, one after another."""
    if not summary.total:
        return "no findings\n"
    voices = summary.by_voice
    parts = [f"{summary.total} finding(s): {voices['own']} in {VOICE_LABELS['own']}, "
             f"{voices['reported']} {VOICE_LABELS['reported']} (reported)\n"]
    for table in summary.tables:
        headers = [*table.keys, "findings"]
        rows = [[_shown(k, r[k]) for k in headers] for r in table.rows()]
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
        lines = ["  ".join(h.ljust(w) if i < len(table.keys) else h.rjust(w)
                           for i, (h, w) in enumerate(zip(headers, widths, strict=True)))]
        lines.append("  ".join("-" * w for w in widths))
        for row in rows:
            lines.append("  ".join(c.ljust(w) if i < len(table.keys) else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def _shown(key: str, value: Any) -> str:
    """A table cell: a voice with its plain name (``reported (labels used by others)``)."""
    if key == "voice" and value in VOICE_LABELS:
        return f"{value} ({VOICE_LABELS[value]})"
    return str(value)


def write_summary(summary: Summary, stream: IO[str], fmt: str) -> None:
    """Write the summary as ``csv`` (one row per table value) or ``json``."""
    if fmt == "json":
        json.dump(summary.to_dict(), stream, ensure_ascii=False, indent=2)
        stream.write("\n")
        return
    if fmt != "csv":
        raise SummaryError(f"unknown summary format {fmt!r}; use .csv or .json")
    from blamelex.formats.csvfmt import safe_cell

    keys = list(dict.fromkeys(k for t in summary.tables for k in t.keys))
    writer = csv.writer(stream)
    writer.writerow(["table", *keys, "findings"])
    for table in summary.tables:
        for row in table.rows():
            cells = [table.name, *(row.get(k, "") for k in keys), row["findings"]]
            writer.writerow([safe_cell(c) for c in cells])


def plot_summary(summary: Summary, path: str | Path) -> None:
    """Draw one horizontal bar chart per table (top values) into a PNG file."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display is needed or wanted
        import matplotlib.pyplot as plt
    except ImportError:
        raise SummaryError(f"--plot needs matplotlib: {REPORT_HINT}") from None
    tables = [t for t in summary.tables if t.counts] or summary.tables[:1]
    heights = [max(2.5 if len(t.keys) == 2 else 1.5, 0.3 * _bars(t) + 1.0) for t in tables]
    fig, axes = plt.subplots(len(tables), 1, figsize=(9, sum(heights)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, table in zip(axes[:, 0], tables, strict=True):
        if len(table.keys) == 2 and table.counts:
            _stacked(ax, table)
            continue
        rows = table.rows()[:_MAX_BARS]
        labels = [" / ".join(_shown(k, r[k]) for k in table.keys) for r in rows]
        values = [r["findings"] for r in rows]
        ax.barh(range(len(rows)), values, color="#4c72b0")
        ax.set_yticks(range(len(rows)), labels=labels, fontsize=8)
        ax.invert_yaxis()  # most findings at the top
        more = f" (top {_MAX_BARS} of {len(table.counts)})" if len(table.counts) > _MAX_BARS \
            else ""
        ax.set_title(f"Findings by {' and '.join(table.keys)}{more}", fontsize=10, loc="left")
        ax.set_xlabel("findings")
        if not rows:
            ax.text(0.5, 0.5, "no findings", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(str(path), format="png", dpi=100, bbox_inches="tight")  # room for legends
    plt.close(fig)


def _bars(table: Table) -> int:
    values = {v[0] for v in table.counts} if len(table.keys) == 2 else table.counts
    return min(len(values), _MAX_BARS)


def _stacked(ax: Any, table: Table) -> None:
    """Two keys: one bar per value of the first, split by the second (at most 10 parts)."""
    outer: Counter[str] = Counter()
    inner: Counter[str] = Counter()
    for (a, b), n in table.counts.items():
        outer[a] += n
        inner[b] += n
    bars = [a for a, _ in sorted(outer.items(), key=lambda kv: (-kv[1], kv[0]))][:_MAX_BARS]
    parts = [b for b, _ in sorted(inner.items(), key=lambda kv: (-kv[1], kv[0]))]
    if len(parts) > 10:  # more colours than a reader can tell apart
        parts = parts[:9] + ["other"]
    shown = set(parts)
    left = [0] * len(bars)
    colours = [f"C{i}" for i in range(10)]
    for colour, part in zip(colours, parts, strict=False):
        widths = [sum(n for (a, b), n in table.counts.items() if a == bar and (
            b == part or (part == "other" and b not in shown))) for bar in bars]
        ax.barh(range(len(bars)), widths, left=left, label=part, color=colour)
        left = [x + w for x, w in zip(left, widths, strict=True)]
    ax.set_yticks(range(len(bars)), labels=bars, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(f"Findings by {table.keys[0]}, split by {table.keys[1]}", fontsize=10,
                 loc="left")
    ax.set_xlabel("findings")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), title=table.keys[1],
              title_fontsize=7)
