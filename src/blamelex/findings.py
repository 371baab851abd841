"""The values blamelex returns: `Finding`, its `Modifier` trace and its `Suggestion` edits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

VOICES = ("own", "reported")
"""A finding's voice: ``own`` (the text's own wording) or ``reported`` (wording the text
attributes to a professional, agency, court or record; data/ANNOTATION.md, pass 3)."""

SEVERITIES = ("caution", "avoid")
"""Severity tiers, lowest first (after the ECPAT "Luxembourg" guidelines)."""


def severity_rank(severity: str) -> int:
    """Return the rank of a severity tier (0 = caution, 1 = avoid)."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Source:
    """A published source that supports a lexicon entry."""

    title: str
    url: str


@dataclass(frozen=True)
class Modifier:
    """One context rule that fired on a candidate, and what it did to the score."""

    name: str
    """NEGATED, QUOTED, REPORTED, META, REFERENT or SENSE."""
    rule: str
    """Identifier of the rule that fired (for example ``negation.no_evidence``)."""
    trigger: str
    """The text that triggered the rule."""
    effect: str
    """``drop`` (the candidate is removed) or ``factor`` (the score is multiplied)."""
    factor: float
    """Multiplier applied to the score (0.0 for ``drop``)."""


def drops(modifiers: Iterable[Modifier]) -> bool:
    """True if one of ``modifiers`` drops its candidate."""
    return any(m.effect == "drop" for m in modifiers)


@dataclass(frozen=True)
class TraceStep:
    """What one pipeline stage contributed to a finding's score (as in Presidio's
    ``AnalysisExplanation``): ``stage`` is ``lexicon``, ``context``, ``model`` or ``scoring``."""

    stage: str
    what: str
    """``prior``, a modifier name, ``probability``, ``calibrated`` or ``decision``."""
    value: float
    note: str
    """The step in words."""

    def __str__(self) -> str:
        return self.note


@dataclass(frozen=True)
class Selection:
    """Which findings a user asked for: ``select`` / ``ignore`` by code prefix (``VB1``) or
    category name, and a minimum severity. Applies alike to lexicon and model findings."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    min_severity: str | None = None
    voice: str = "all"
    """``own``, ``reported`` or ``all`` (`VOICES`)."""

    @classmethod
    def of(cls, select: Iterable[str] = (), ignore: Iterable[str] = (),
           min_severity: str | None = None, voice: str = "all") -> Selection:
        """A selection from user input (blank keys are left out)."""
        if voice not in (*VOICES, "all"):
            raise ValueError(f"voice must be one of own, reported, all; got {voice!r}")
        return cls(tuple(k.strip() for k in select if k.strip()),
                   tuple(k.strip() for k in ignore if k.strip()), min_severity, voice)

    def admits_voice(self, voice: str) -> bool:
        """True if a finding in ``voice`` is wanted."""
        return self.voice == "all" or voice == self.voice

    @staticmethod
    def _hit(code: str, category: str, keys: tuple[str, ...]) -> bool:
        return any(category == k or code.startswith(k.upper()) for k in keys)

    def admits(self, code: str, category: str, severity: str) -> bool:
        """True if a finding with this code, category and severity is wanted."""
        if self.select and not self._hit(code, category, self.select):
            return False
        if self.ignore and self._hit(code, category, self.ignore):
            return False
        return not (self.min_severity
                    and severity_rank(severity) < severity_rank(self.min_severity))

    def __bool__(self) -> bool:
        return bool(self.select or self.ignore or self.min_severity or self.voice != "all")

    def check(self, codes: Sequence[str], categories: Sequence[str]) -> None:
        """Raise `SelectionError` for a key that selects nothing: neither one of
        ``categories`` nor a code of ``codes`` or the prefix of one (``VB1``, any case)."""
        bad = [(option, k) for option, keys in (("select", self.select),
                                                ("ignore", self.ignore))
               for k in keys
               if k not in categories and not any(c.startswith(k.upper()) for c in codes)]
        if bad:
            raise SelectionError(bad, sorted(codes), list(categories))


class SelectionError(ValueError):
    """A ``select`` / ``ignore`` key names no code, code prefix or category. The message says
    which, suggests close matches and lists the valid keys."""

    def __init__(self, unknown: Sequence[tuple[str, str]], codes: Sequence[str],
                 categories: Sequence[str]) -> None:
        import difflib
        import textwrap

        self.unknown = list(unknown)

        def listing(label: str, names: Sequence[str]) -> str:
            return textwrap.fill(", ".join(names), width=96, initial_indent=f"  {label}: ",
                                 subsequent_indent=" " * (len(label) + 4),
                                 break_on_hyphens=False)

        lines = []
        for option, key in self.unknown:
            close = difflib.get_close_matches(key, categories, n=2, cutoff=0.6)
            close += difflib.get_close_matches(key.upper(), codes, n=3 - len(close), cutoff=0.6)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            lines.append(f"--{option}: unknown code or category {key!r}{hint}")
        lines.append(listing("categories", categories))
        lines.append(listing("codes", codes))
        lines.append("  (a code prefix such as VB1 stands for every code it starts; "
                     "see 'blamelex lexicon list')")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Suggestion:
    """A replacement for ``text[start:end]`` that keeps the concern explicit."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Related:
    """Something in the same text that a finding rests on: an ``indicator`` the risk-grading
    check read (``code`` is the indicator's id, ``note`` its label), or another ``finding``
    (``code`` is its code, ``note`` its term), with its offsets."""

    kind: str
    code: str
    start: int
    end: int
    text: str
    note: str = ""

    def __str__(self) -> str:
        return f"{self.code}@{self.start}-{self.end}"


@dataclass(frozen=True)
class Finding:
    """One piece of victim-blaming language found in a text.

    ``start`` and ``end`` are character offsets: ``text[start:end] == finding.text``.
    """

    start: int
    end: int
    text: str
    code: str
    category: str
    severity: str
    score: float
    explanation: str
    suggestions: tuple[Suggestion, ...] = ()
    sources: tuple[Source, ...] = ()
    modifiers: tuple[Modifier, ...] = ()
    origin: str = "lexicon"
    """``lexicon`` (a lexicon entry matched) or ``model`` (found by the model alone)."""
    term: str = ""
    """The lexicon entry's headline term."""
    trace: tuple[TraceStep, ...] = field(default_factory=tuple)
    """How the score was reached, stage by stage (lexicon prior, each context modifier, model
    probability, calibrated score, the keep/drop decision)."""
    voice: str = "own"
    """``own``: the text's own wording; ``reported``: wording the text attributes to a
    professional, agency, court or record ("officers described her as ..."). A reported
    finding's suggestion says how to attribute the label, never rewrites it (`VOICES`)."""
    related: tuple[Related, ...] = ()
    """What the finding rests on elsewhere in the text (the risk-grading check's indicators, and
    the VB finding a blaming reason for a grade rests on); empty for lexicon and model findings."""

    @property
    def suppressed(self) -> bool:
        """True when a context rule dropped this candidate."""
        return drops(self.modifiers)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of every field (as `dataclasses.asdict` would).

        Written out because the component stores every finding this way: `asdict`'s recursive
        deep copy was the largest cost of writing JSON output.
        """
        return {
            "start": self.start, "end": self.end, "text": self.text, "code": self.code,
            "category": self.category, "severity": self.severity, "score": self.score,
            "explanation": self.explanation,
            "suggestions": tuple({"text": s.text, "start": s.start, "end": s.end}
                                 for s in self.suggestions),
            "sources": tuple({"title": s.title, "url": s.url} for s in self.sources),
            "modifiers": tuple({"name": m.name, "rule": m.rule, "trigger": m.trigger,
                                "effect": m.effect, "factor": m.factor}
                               for m in self.modifiers),
            "origin": self.origin, "term": self.term, "voice": self.voice,
            "trace": tuple({"stage": t.stage, "what": t.what, "value": t.value, "note": t.note}
                           for t in self.trace),
            "related": tuple({"kind": r.kind, "code": r.code, "start": r.start, "end": r.end,
                              "text": r.text, "note": r.note} for r in self.related),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Rebuild a `Finding` from `to_dict()` output."""
        return cls(
            start=int(data["start"]),
            end=int(data["end"]),
            text=str(data["text"]),
            code=str(data["code"]),
            category=str(data["category"]),
            severity=str(data["severity"]),
            score=float(data["score"]),
            explanation=str(data["explanation"]),
            suggestions=tuple(Suggestion(**s) for s in data.get("suggestions", ())),
            sources=tuple(Source(**s) for s in data.get("sources", ())),
            modifiers=tuple(Modifier(**m) for m in data.get("modifiers", ())),
            origin=str(data.get("origin", "lexicon")),
            term=str(data.get("term", "")),
            voice=str(data.get("voice", "own")),
            trace=tuple(TraceStep(**t) for t in data.get("trace", ())),
            related=tuple(Related(**r) for r in data.get("related", ())),
        )


FLAT_FIELDS: tuple[tuple[str, str], ...] = (
    ("start", "int32"),
    ("end", "int32"),
    ("text", "string"),
    ("code", "string"),
    ("category", "string"),
    ("severity", "string"),
    ("score", "float64"),
    ("origin", "string"),
    ("voice", "string"),
    ("suggestion", "string"),
    ("related", "string"),
)
"""Name and type of each field of a finding's flat form (`flat`), in column order: the one row
shape of every table output (CSV, `datasets`, Spark)."""


def flat(finding: Finding) -> dict[str, Any]:
    """A finding as one flat row (the fields of `FLAT_FIELDS`), first suggestion only.

    Tables keep one suggestion because that is what a reviewer acts on; the full `Finding`
    (explanation, sources, modifiers, trace) is one scan away for any flagged row. ``related``
    is what the finding rests on, ``CODE@start-end`` joined by ``;`` (None when nothing).
    """
    return {
        "start": finding.start, "end": finding.end, "text": finding.text, "code": finding.code,
        "category": finding.category, "severity": finding.severity,
        "score": float(finding.score), "origin": finding.origin, "voice": finding.voice,
        "suggestion": finding.suggestions[0].text if finding.suggestions else None,
        "related": ";".join(map(str, finding.related)) or None,
    }


def shift(findings: list[Finding], offset: int) -> list[Finding]:
    """Findings moved by ``offset`` characters (for chunks of a large file)."""
    if not offset:
        return findings
    from dataclasses import replace

    return [
        replace(f, start=f.start + offset, end=f.end + offset,
                suggestions=tuple(replace(s, start=s.start + offset, end=s.end + offset)
                                  for s in f.suggestions),
                related=tuple(replace(r, start=r.start + offset, end=r.end + offset)
                              for r in f.related))
        for f in findings
    ]
