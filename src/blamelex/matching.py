"""Find lexicon candidates in a `Doc`: compiled token patterns tried near their anchor words."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import compress

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from blamelex.findings import Modifier, severity_rank
from blamelex.lexicon import Entry, Lexicon, LexiconError
from blamelex.lexicon.patterns import PatternError, compile_pattern
from blamelex.sentences import parser_bounds
from blamelex.tokenregex import TokenMatcher, TokenText, longest


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


@dataclass(slots=True)
class Candidate:
    """A lexicon match waiting for context rules, model and scoring."""

    span: Span
    entry: Entry
    modifiers: list[Modifier] = field(default_factory=list)
    origin: str = "lexicon"
    """``lexicon`` or ``model`` (a span the model found that no lexicon entry matched)."""
    model_prob: float | None = None
    """The model's probability that the span is victim-blaming (None without a model)."""


# A pattern is only tried on sentences holding a word of its *anchor*: the required element that
# should be rarest in case notes. Rarity is estimated from the lexicon's own example sentences
# (written in case-note register): a word used in the examples of many different entries
# ("police", "said", "missing") is common, one used by a single entry is rare. Stop words and
# punctuation count as very common.
_STOP_COST = 100


def _common(word: str) -> bool:
    return word in STOP_WORDS or not any(ch.isalpha() for ch in word)


def _everywhere(word: str, spread: Mapping[str, int], entries: int) -> bool:
    """Punctuation, or a word used in the examples of a quarter of the entries or more."""
    return not any(ch.isalpha() for ch in word) or 4 * spread.get(word, 0) >= entries


_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*|n't|'[a-z]+")


def word_spread(lexicon: Lexicon) -> Counter[str]:
    """For each word, the number of lexicon entries whose example sentences use it."""
    spread: Counter[str] = Counter()
    for entry in lexicon:
        words: set[str] = set()
        for example in (*entry.examples_flag, *entry.examples_ok):
            words.update(_WORD.findall(example.lower()))
        spread.update(words)
    return spread


def _words_of(tok: dict[str, object]) -> frozenset[str] | None:
    """The words one token element accepts (None: a wildcard, any word)."""
    value = tok.get("LOWER", tok.get("ORTH"))
    if isinstance(value, str):
        return frozenset([value.lower()])
    if isinstance(value, dict) and "IN" in value:
        return frozenset(str(w).lower() for w in value["IN"])
    return None


def _counts(tok: dict[str, object]) -> tuple[int, int]:
    """The fewest and most tokens one element matches."""
    op = str(tok.get("OP", ""))
    if op == "?":
        return 0, 1
    if op.startswith("{"):
        low, high = op[1:-1].split(",")
        return int(low), int(high)
    return 1, 1


def _required(tokens: list[dict[str, object]]) -> list[tuple[int, frozenset[str]]]:
    """Position and word set of a pattern's required (non-optional, non-wildcard) elements."""
    out = []
    for k, tok in enumerate(tokens):
        low = tok.get("LOWER")
        if low is None or "OP" in tok:
            continue
        out.append((k, frozenset(low["IN"]) if isinstance(low, dict) else frozenset([str(low)])))
    return out


def _anchor(
    required: list[tuple[int, frozenset[str]]], spread: Mapping[str, int]
) -> tuple[int, frozenset[str]]:
    """The required element expected to occur least: fewest (and rarest) words."""
    def cost(element: tuple[int, frozenset[str]]) -> tuple[int, int]:
        words = element[1]
        return (sum(1 + spread.get(w, 0) + _STOP_COST * _common(w) for w in words), len(words))
    return min(required, key=cost)


def _neighbour(tokens: list[dict[str, object]]) -> frozenset[str] | None:
    """The words the token next to an element must be, given the elements that follow it in
    order (None: any token, or the match may end there)."""
    words: set[str] = set()
    for tok in tokens:
        low, high = _counts(tok)
        if high == 0:
            continue
        accepted = _words_of(tok)
        if accepted is None:
            return None
        words |= accepted
        if low > 0:
            return frozenset(words)
    return None


@dataclass(frozen=True, slots=True)
class _Around:
    """Where a pattern's matches lie around a token of its anchor element, and which words
    the tokens right before and after that token must be (None: any)."""

    code: str
    mask: int
    before_min: int
    before_max: int
    after_max: int
    prev: frozenset[str] | None
    next: frozenset[str] | None
    prev_ids: frozenset[int] | None
    """`prev` as spaCy string hashes (a doc's tokens are read by their hashes)."""
    next_ids: frozenset[int] | None


def _ids(words: frozenset[str] | None) -> frozenset[int] | None:
    return None if words is None else frozenset(map(get_string_id, words))


def _around(code: str, mask: int, tokens: list[dict[str, object]], k: int) -> _Around:
    before = [_counts(t) for t in tokens[:k]]
    prev, nxt = _neighbour(tokens[:k][::-1]), _neighbour(tokens[k + 1:])
    return _Around(code, mask, sum(lo for lo, _ in before), sum(hi for _, hi in before),
                   sum(_counts(t)[1] for t in tokens[k + 1:]), prev, nxt, _ids(prev), _ids(nxt))


def _longest_match(tokens: list[dict[str, object]]) -> int:
    """The most tokens a compiled pattern can match."""
    return sum(_counts(tok)[1] for tok in tokens)


def _merged(ranges: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Windows of one entry with overlapping start ranges made one: each is searched with all
    the entry's patterns, so two windows of one anchor (patterns of different lengths) or of
    nearby anchors would search the same start tokens twice. Every match lies in the window of
    its own pattern's anchor, so the union finds the same matches."""
    ranges.sort()
    out = [ranges[0]]
    for lo, top, hi in ranges[1:]:
        last_lo, last_top, last_hi = out[-1]
        if lo <= last_top:
            out[-1] = (last_lo, max(top, last_top), max(hi, last_hi))
        else:
            out.append((lo, top, hi))
    return out


def _segment_of(segments: list[tuple[int, int]], i: int) -> tuple[int, int]:
    return segments[bisect_right([s for s, _ in segments], i) - 1]


class LexiconMatcher:
    """Finds lexicon candidates in a `Doc`; one instance per lexicon.

    Each pattern is a `TokenRegex` tried only at the tokens that can begin it, only near a word
    of its *anchor* (its required element expected to be rarest in case notes), and only when
    the doc holds a word of each of its required elements; so the work stays proportional to
    the entries that can match.
    """

    def __init__(
        self,
        vocab: Vocab,
        lexicon: Lexicon,
        tokenize: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.vocab = vocab
        self._patterns = TokenMatcher()
        self._senses = TokenMatcher()
        self._sensed: set[str] = set()
        # required elements as bits: a pattern can match in a doc only if the doc's words
        # set every bit of the pattern's mask; patterns are indexed by their anchor words
        self._bits: dict[frozenset[str], int] = {}
        self._word_bits: dict[str, int] = {}
        # anchor word -> where each pattern anchored on it can match around it (`_Around`)
        self._index: dict[str, list[_Around]] = {}
        self._sense_reach: dict[str, int] = {}
        problems: list[str] = []
        spread = word_spread(lexicon)
        for entry in lexicon:
            for kind, pats, store in (("patterns", entry.patterns, self._patterns),
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
                store.add(entry.code, compiled)
                if kind == "not_when":
                    self._sensed.add(entry.code)
                    self._sense_reach[entry.code] = max(map(_longest_match, compiled))
                else:
                    for tokens in compiled:
                        required = _required(tokens)
                        k, words = _anchor(required, spread)
                        key = _around(entry.code, self._mask([w for _, w in required], spread),
                                      tokens, k)
                        for word in words:
                            keys = self._index.setdefault(word, [])
                            if key not in keys:
                                keys.append(key)
        if problems:
            raise LexiconError(problems)
        self._entries = {entry.code: entry for entry in lexicon}
        # candidate spans are labelled with their entry's code (as the doc's span group wants)
        self._labels = {entry.code: vocab.strings.add(entry.code) for entry in lexicon}
        # overlap order after length: most severe first, then by code
        self._rank = {entry.code: (-severity_rank(entry.severity), entry.code)
                      for entry in lexicon}
        # by spaCy string hash, the words that matter before any pattern is tried: anchors
        # (with the patterns anchored on them) and words of required elements (with their bits)
        self._hash_info: dict[int, tuple[list[_Around], int]] = {}
        for word in {*self._index, *self._word_bits}:
            self._hash_info[get_string_id(word)] = (self._index.get(word, []),
                                                    self._word_bits.get(word, 0))
        self._marked = frozenset(self._hash_info)

    def _mask(self, required: list[frozenset[str]], spread: Mapping[str, int]) -> int:
        """Bits of the required elements worth checking for in a whole doc.

        An element with punctuation or a word of most notes among its words (",", "the", "at":
        used in the examples of a quarter of the entries or more) is in nearly every doc; it
        gets no bit, which keeps the per-doc check short.
        """
        mask = 0
        for words in required:
            if any(_everywhere(w, spread, len(self.lexicon)) for w in words):
                continue
            bit = self._bits.get(words)
            if bit is None:
                bit = self._bits[words] = 1 << len(self._bits)
                for word in words:
                    self._word_bits[word] = self._word_bits.get(word, 0) | bit
            mask |= bit
        return mask

    def _windows(self, doc: Doc, text: TokenText) -> dict[str, list[tuple[int, int, int]]]:
        """Token ranges worth searching, by entry code: (first start, last start + 1, end).

        Every match of a pattern holds a word of its anchor. A pattern is tried only if every
        one of its required elements has a word somewhere in the doc (checked as bits), then
        only at anchor words whose neighbours are words the pattern allows next to its anchor
        ("missing" after "really" for "not really missing"), and only in the window around
        that anchor word that its matches could span (inside the sentence when the doc has
        sentence annotations).
        """
        # Tokens are read by their spaCy string hashes (the LOWER attribute); only the words
        # that matter (`_hash_info`) are looked at, found in one pass in C (compress and map)
        hashes = text.hashes
        n = len(hashes)
        info = self._hash_info
        in_doc = 0
        hits = []
        for i in compress(range(n), map(self._marked.__contains__, hashes)):
            anchored, bits = info[hashes[i]]
            in_doc |= bits
            if anchored:
                hits.append(i)
        if not hits:
            return {}
        # which anchored patterns have all their required words anywhere in the doc
        todo = [(i, around) for i in hits for around in info[hashes[i]][0]
                if in_doc & around.mask == around.mask]
        if not todo:
            return {}
        # Patterns cannot cross the rule split's sentence ends (wildcards exclude . ! ? and
        # line breaks, words never are), so only a parser's sentences need to be respected.
        # Windows of one entry may overlap: each match lies in the window of the anchor it
        # holds, and is found there (`TokenMatcher.spans` returns a set).
        # A match holding the anchor at i starts in [i - before_max, i - before_min] and ends
        # by i + 1 + after_max; the tokens next to i must be words its pattern allows there.
        segments = parser_bounds(doc, text)
        starts = [seg[0] for seg in segments] if segments is not None else []
        wanted: dict[str, list[tuple[int, int, int]]] = {}
        last = n - 1
        for i, around in todo:
            prev, nxt = around.prev_ids, around.next_ids
            if (prev is not None and (i == 0 or hashes[i - 1] not in prev)) or \
                    (nxt is not None and (i == last or hashes[i + 1] not in nxt)):
                continue
            lo, top, hi = i - around.before_max, i - around.before_min + 1, \
                i + 1 + around.after_max
            if segments is None:
                lo, hi = max(lo, 0), min(hi, n)
            else:
                seg_lo, seg_hi = segments[bisect_right(starts, i) - 1]
                lo, hi = max(lo, seg_lo), min(hi, seg_hi)
            if lo < top:
                wanted.setdefault(around.code, []).append((lo, top, hi))
        for code, ranges in wanted.items():
            if len(ranges) > 1:
                wanted[code] = _merged(ranges)
        return wanted

    def windows(self, doc: Doc, text: TokenText) -> dict[str, list[tuple[int, int, int]]]:
        """The token ranges worth searching in ``doc``, by entry code (empty: no candidates)."""
        return self._windows(doc, text) if len(doc) else {}

    def __call__(
        self,
        doc: Doc,
        text: TokenText | None = None,
        windows: dict[str, list[tuple[int, int, int]]] | None = None,
    ) -> list[Candidate]:
        """Return candidates: non-overlapping ones (longest and most severe first on conflicts),
        plus those an entry's own ``not_when`` pattern covers, already marked SENSE.

        Benign senses are settled before overlaps, so a longer match in a benign sense
        ("mule account" in a bank's own wording) cannot hide a shorter real one.
        ``text`` is the doc's `TokenText` and ``windows`` what `windows` returned for it, if
        the caller already has them.
        """
        if not len(doc):
            return []
        if text is None:
            text = TokenText.of(doc)
        if windows is None:
            windows = self._windows(doc, text)
        if not windows:
            return []
        segments = parser_bounds(doc, text)
        entries = self._entries
        labels = self._labels
        matches = []
        senses: dict[str, list[tuple[int, int]]] = {}
        for code, ranges in sorted(windows.items()):
            spans = longest(self._patterns.spans(text, code, ranges))
            if not spans:
                continue
            entry = entries[code]
            for start, end in spans:
                matches.append((entry, start, end))
            if code in self._sensed:
                # a benign-sense match overlapping a match of at most `reach` tokens starts
                # fewer than `reach` tokens before it, and ends fewer than `reach` after it
                reach = self._sense_reach[code]
                around = []
                for start, end in spans:
                    seg_lo, seg_hi = _segment_of(segments, start) if segments else (0, len(doc))
                    around.append((max(start - reach + 1, seg_lo), end,
                                   min(end - 1 + reach, seg_hi)))
                found = self._senses.spans(text, code, around)
                if found:
                    senses[code] = sorted(found)
        if not matches:
            return []
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
                    benign.append(Candidate(Span(doc, start, end, label=labels[entry.code]),
                                                entry, [marked]))
            matches = kept
        if len(matches) > 1:
            # overlaps: the longest, then the most severe, then the lowest code wins
            rank = self._rank
            matches.sort(key=lambda m: (m[1] - m[2], rank[m[0].code], m[1]))
            taken: set[int] = set()
            chosen: list[tuple[Entry, int, int]] = []
            for entry, start, end in matches:
                if taken.isdisjoint(range(start, end)):
                    taken.update(range(start, end))
                    chosen.append((entry, start, end))
        else:
            chosen = matches
        out = [Candidate(Span(doc, s, e, label=labels[entry.code]), entry)
               for entry, s, e in chosen]
        if benign:
            out += _dedupe(benign)
        if len(out) > 1:
            out.sort(key=lambda c: (c.span.start, c.span.end))
        return out
