"""The values blamelex returns: `Finding`, its `Modifier` trace and its `Suggestion` edits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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
class Suggestion:
    """A replacement for ``text[start:end]`` that keeps the concern explicit."""

    text: str
    start: int
    end: int


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
    trace: tuple[str, ...] = field(default_factory=tuple)
    """How the score was reached, one step a line (prior, each modifier, model)."""

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
            "origin": self.origin, "term": self.term, "trace": tuple(self.trace),
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
            trace=tuple(data.get("trace", ())),
        )


def shift(findings: list[Finding], offset: int) -> list[Finding]:
    """Findings moved by ``offset`` characters (for chunks of a large file)."""
    if not offset:
        return findings
    from dataclasses import replace

    return [
        replace(f, start=f.start + offset, end=f.end + offset,
                suggestions=tuple(replace(s, start=s.start + offset, end=s.end + offset)
                                  for s in f.suggestions))
        for f in findings
    ]
