"""Turn lexicon patterns into spaCy `Matcher` rules and yield candidate spans."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from blamelex.findings import Modifier, severity_rank
from blamelex.lexicon import Entry, Lexicon, LexiconError
from blamelex.lexicon.patterns import PatternError, compile_pattern

_SENSE_PREFIX = "SENSE:"


def _dedupe(cands: list[Candidate]) -> list[Candidate]:
    """One benign candidate per entry and position (greedy matching can yield nested ones)."""
    seen: set[tuple[str, int]] = set()
    out = []
    for c in sorted(cands, key=lambda c: -(c.span.end - c.span.start)):
        key = (c.entry.code, c.span.start)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


@dataclass
class Candidate:
    """A lexicon match waiting for context rules, model and scoring."""

    span: Span
    entry: Entry
    modifiers: list[Modifier] = field(default_factory=list)
    origin: str = "lexicon"
    """``lexicon`` or ``model`` (a span the model found that no lexicon entry matched)."""
    model_prob: float | None = None
    """The model's probability that the span is victim-blaming (None without a model)."""


class LexiconMatcher:
    """Finds lexicon candidates in a `Doc`; one instance per vocab and lexicon."""

    def __init__(
        self,
        vocab: Vocab,
        lexicon: Lexicon,
        tokenize: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.lexicon = lexicon
        self._matcher = Matcher(vocab, validate=False)
        self._sense = Matcher(vocab, validate=False)
        problems: list[str] = []
        for entry in lexicon:
            for kind, pats, matcher, key in (
                ("patterns", entry.patterns, self._matcher, entry.code),
                ("not_when", entry.not_when, self._sense, _SENSE_PREFIX + entry.code),
            ):
                compiled = []
                for pat in pats:
                    try:
                        compiled.append(compile_pattern(pat, lexicon.sets, tokenize))
                    except PatternError as exc:
                        problems.append(
                            f"{entry.file}:{entry.line}: entry {entry.code}: field '{kind}': "
                            f"{pat!r}: {exc}"
                        )
                if compiled:
                    matcher.add(key, compiled, greedy="LONGEST")
        if problems:
            raise LexiconError(problems)

    def __call__(self, doc: Doc) -> list[Candidate]:
        """Return candidates: non-overlapping ones (longest and most severe first on conflicts),
        plus those an entry's own ``not_when`` pattern covers, already marked SENSE.

        Benign senses are settled before overlaps, so a longer match in a benign sense
        ("mule account" in a bank's own wording) cannot hide a shorter real one.
        """
        strings = doc.vocab.strings
        raw = self._matcher(doc, as_spans=False)
        matches = []
        for match_id, start, end in raw:
            entry = self.lexicon.get(strings[match_id])
            if entry is not None:
                matches.append((entry, start, end))
        if not matches:
            return []
        senses = self.senses(doc)
        benign: list[Candidate] = []
        if senses:
            kept = []
            for entry, start, end in matches:
                hit = next(((s, e) for s, e in senses.get(entry.code, [])
                            if s < end and start < e), None)
                if hit is None:
                    kept.append((entry, start, end))
                else:
                    sense = Modifier("SENSE", f"sense.{entry.code}", doc[hit[0]:hit[1]].text,
                                     "drop", 0.0)
                    benign.append(Candidate(doc[start:end], entry, [sense]))
            matches = kept
        matches.sort(
            key=lambda m: (-(m[2] - m[1]), -severity_rank(m[0].severity), m[0].code, m[1])
        )
        taken = [False] * len(doc)
        chosen: list[tuple[Entry, int, int]] = []
        for entry, start, end in matches:
            if any(taken[start:end]):
                continue
            for i in range(start, end):
                taken[i] = True
            chosen.append((entry, start, end))
        out = [Candidate(doc[s:e], entry) for entry, s, e in chosen] + _dedupe(benign)
        out.sort(key=lambda c: (c.span.start, c.span.end))
        return out

    def senses(self, doc: Doc) -> dict[str, list[tuple[int, int]]]:
        """Benign-sense (``not_when``) matches by entry code, as token ranges."""
        found: dict[str, list[tuple[int, int]]] = {}
        if not len(self._sense):
            return found
        strings = doc.vocab.strings
        for match_id, start, end in self._sense(doc, as_spans=False):
            code = strings[match_id][len(_SENSE_PREFIX):]
            found.setdefault(code, []).append((start, end))
        return found
