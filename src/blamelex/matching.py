"""Turn lexicon patterns into spaCy `Matcher` rules and yield candidate spans."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from spacy.attrs import LOWER
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from blamelex.findings import Modifier, severity_rank
from blamelex.lexicon import Entry, Lexicon, LexiconError
from blamelex.lexicon.patterns import PatternError, compile_pattern
from blamelex.sentences import sentence_bounds


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


# Words too common to anchor a pattern: a pattern is only tried on docs that contain one of the
# words of its most selective required element, so that element should be rare.
def _common(word: str) -> bool:
    return word in STOP_WORDS or not any(ch.isalpha() for ch in word)


def _required(tokens: list[dict[str, object]]) -> list[frozenset[str]]:
    """Word sets of a pattern's required (non-optional, non-wildcard) elements."""
    out = []
    for tok in tokens:
        low = tok.get("LOWER")
        if low is None or "OP" in tok:
            continue
        out.append(frozenset(low["IN"]) if isinstance(low, dict) else frozenset([str(low)]))
    return out


def _anchor(required: list[frozenset[str]]) -> frozenset[str]:
    """The most selective required element: fewest common words, then fewest words."""
    return min(required, key=lambda ws: (sum(map(_common, ws)) / len(ws), len(ws)))


class LexiconMatcher:
    """Finds lexicon candidates in a `Doc`; one instance per vocab and lexicon.

    Each entry has its own spaCy `Matcher`, run only on docs that contain an anchor word of one
    of its patterns (its rarest required word). Running every pattern on every token made the
    matcher's state machine the slowest part of the pipeline; anchoring keeps the work
    proportional to the entries that can match.
    """

    def __init__(
        self,
        vocab: Vocab,
        lexicon: Lexicon,
        tokenize: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.vocab = vocab
        self._matchers: dict[str, Matcher] = {}
        self._senses: dict[str, Matcher] = {}
        self._index: dict[str, set[str]] = {}
        self._needs: dict[str, list[list[frozenset[str]]]] = {}
        problems: list[str] = []
        for entry in lexicon:
            for kind, pats, store in (("patterns", entry.patterns, self._matchers),
                                      ("not_when", entry.not_when, self._senses)):
                compiled = []
                for pat in pats:
                    try:
                        compiled.append(compile_pattern(pat, lexicon.sets, tokenize))
                    except PatternError as exc:
                        problems.append(
                            f"{entry.file}:{entry.line}: entry {entry.code}: field '{kind}': "
                            f"{pat!r}: {exc}"
                        )
                if not compiled:
                    continue
                matcher = Matcher(vocab, validate=False)
                matcher.add(entry.code, compiled, greedy="LONGEST")
                store[entry.code] = matcher
                if kind == "patterns":
                    needs = [_required(tokens) for tokens in compiled]
                    self._needs[entry.code] = needs
                    for req in needs:
                        for word in _anchor(req):
                            self._index.setdefault(word, set()).add(entry.code)
        if problems:
            raise LexiconError(problems)
        self._anchor_ids = np.array(sorted(vocab.strings.add(w) for w in self._index),
                                    dtype=np.uint64)

    def _active(self, doc: Doc) -> dict[str, list[tuple[int, int]]]:
        """For each entry whose anchor words occur, the sentences (token ranges) holding them."""
        if not len(doc):
            return {}
        lower = doc.to_array(LOWER)
        hit_at = np.flatnonzero(np.isin(lower, self._anchor_ids))
        if not len(hit_at):
            return {}
        bounds = sentence_bounds(doc)
        starts = [b[0] for b in bounds]
        strings = doc.vocab.strings
        hits: dict[str, set[int]] = {}
        for i in hit_at.tolist():
            sent = bisect.bisect_right(starts, i) - 1
            for code in self._index[strings[int(lower[i])]]:
                hits.setdefault(code, set()).add(sent)
        return {code: [bounds[k] for k in sorted(ks)] for code, ks in sorted(hits.items())}

    def __call__(self, doc: Doc) -> list[Candidate]:
        """Return candidates: non-overlapping ones (longest and most severe first on conflicts),
        plus those an entry's own ``not_when`` pattern covers, already marked SENSE.

        Benign senses are settled before overlaps, so a longer match in a benign sense
        ("mule account" in a bank's own wording) cannot hide a shorter real one.
        """
        matches = []
        where: dict[str, list[tuple[int, int]]] = {}
        words: dict[tuple[int, int], set[str]] = {}
        for code, sentences in self._active(doc).items():
            entry = self.lexicon.get(code)
            if entry is None:
                continue
            matcher = self._matchers[code]
            for s_start, s_end in sentences:
                present = words.get((s_start, s_end))
                if present is None:
                    present = words[(s_start, s_end)] = {t.lower_ for t in doc[s_start:s_end]}
                # run the matcher only where every required word of some pattern is present
                if not any(all(req & present for req in needs) for needs in self._needs[code]):
                    continue
                found = matcher(doc[s_start:s_end], as_spans=False)
                if found:
                    where.setdefault(code, []).append((s_start, s_end))
                for _, start, end in found:
                    matches.append((entry, s_start + start, s_start + end))
        if not matches:
            return []
        senses: dict[str, list[tuple[int, int]]] = {}
        for code, sentences in where.items():
            sense = self._senses.get(code)
            if sense is None:
                continue
            for s_start, s_end in sentences:
                for _, a, b in sense(doc[s_start:s_end], as_spans=False):
                    senses.setdefault(code, []).append((s_start + a, s_start + b))
        benign: list[Candidate] = []
        if senses:
            kept = []
            for entry, start, end in matches:
                hit = next(((s, e) for s, e in senses.get(entry.code, [])
                            if s < end and start < e), None)
                if hit is None:
                    kept.append((entry, start, end))
                else:
                    marked = Modifier("SENSE", f"sense.{entry.code}",
                                      doc[hit[0]:hit[1]].text, "drop", 0.0)
                    benign.append(Candidate(doc[start:end], entry, [marked]))
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

    def senses(self, doc: Doc, codes: set[str] | None = None) -> dict[str, list[tuple[int, int]]]:
        """Benign-sense (``not_when``) matches by entry code, as token ranges."""
        found: dict[str, list[tuple[int, int]]] = {}
        wanted = self._senses.keys() if codes is None else codes & self._senses.keys()
        for code in sorted(wanted):
            for _, start, end in self._senses[code](doc, as_spans=False):
                found.setdefault(code, []).append((start, end))
        return found
