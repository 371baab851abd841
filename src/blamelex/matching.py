"""Find lexicon candidates in a `Doc`: compiled token patterns tried near their anchor words."""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from typing import Any

from spacy.about import __version__ as spacy_version
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from blamelex import cache
from blamelex.findings import Modifier, severity_rank
from blamelex.lexicon import Entry, Lexicon, LexiconError
from blamelex.lexicon.patterns import Element, Pattern, PatternError, check_tokens, parse_pattern
from blamelex.sentences import parser_bounds
from blamelex.tokenregex import APOSTROPHES, TokenMatcher, TokenText, longest, regex_source


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
    sense: tuple[int, int] | None = None
    """Token range of a match of the entry's own benign-sense patterns (``not_when``) that
    overlaps this one, as the matcher found it; the context stage marks such a candidate SENSE
    (a stage of its own decides what the benign sense does)."""


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


def _required(pattern: Pattern) -> list[tuple[int, frozenset[str]]]:
    """Position and word set of a pattern's required (non-optional, non-wildcard) elements."""
    return [(k, e.words) for k, e in enumerate(pattern.elements)
            if e.required and e.words is not None]


def _anchor(
    required: list[tuple[int, frozenset[str]]], spread: Mapping[str, int]
) -> tuple[int, frozenset[str]]:
    """The required element expected to occur least: fewest (and rarest) words."""
    def cost(element: tuple[int, frozenset[str]]) -> tuple[int, int]:
        words = element[1]
        return (sum(1 + spread.get(w, 0) + _STOP_COST * _common(w) for w in words), len(words))
    return min(required, key=cost)


def _neighbour(elements: Sequence[Element]) -> frozenset[str] | None:
    """The words the token next to an element must be, given the elements that follow it in
    order (None: any token, or the match may end there)."""
    words: set[str] = set()
    for element in elements:
        if element.high == 0:
            continue
        if element.words is None:
            return None
        words |= element.words
        if element.low > 0:
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

    @classmethod
    def of(cls, code: str, mask: int, before_min: int, before_max: int, after_max: int,
           prev: frozenset[str] | None, nxt: frozenset[str] | None) -> _Around:
        """The `_Around` with these words, and their hashes."""
        return cls(code, mask, before_min, before_max, after_max, prev, nxt, _ids(prev),
                   _ids(nxt))


def spelling_ids(word: str) -> list[int]:
    """The spaCy string hashes a token of ``word`` may have: a word with an apostrophe ("n't",
    "'s") also as word processors write it ("n’t", "nʼt"). Tokens are looked up by hash before
    their text is read (`TokenText` then normalises the apostrophe for the patterns)."""
    if "'" not in word:
        return [get_string_id(word)]
    return [get_string_id(w) for w in (word, word.replace("'", APOSTROPHES[0]),
                                       word.replace("'", APOSTROPHES[1]))]


def _ids(words: frozenset[str] | None) -> frozenset[int] | None:
    return None if words is None else frozenset(i for w in words for i in spelling_ids(w))


def _around(code: str, mask: int, tokens: Pattern | list[dict[str, object]], k: int) -> _Around:
    """Where the matches of ``tokens`` (a `Pattern`, or a token pattern) anchored on its
    element ``k`` lie around the anchor, and the anchor's neighbour words."""
    elements = (tokens if isinstance(tokens, Pattern)
                else Pattern.from_token_pattern(tokens)).elements
    before = elements[:k]
    return _Around.of(code, mask, sum(e.low for e in before), sum(e.high for e in before),
                      sum(e.high for e in elements[k + 1:]), _neighbour(before[::-1]),
                      _neighbour(elements[k + 1:]))


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


def _recording() -> bool:
    """Whether `blamelex.inflect` is recording the lemmas pattern parsing asks for (while it
    builds its table): every pattern must then be parsed afresh, with no cache."""
    from blamelex import inflect

    return getattr(inflect, "_RECORD", None) is not None


def _sorted(words: frozenset[str] | None) -> list[str] | None:
    return None if words is None else sorted(words)


def _tables(lexicon: Lexicon) -> tuple[dict[str, Any] | None, list[str]]:
    """What the matcher needs of ``lexicon``, as plain JSON data: each entry's patterns and
    benign senses as regex sources (`regex_source`) with the words that can begin them, how far
    each entry's benign senses reach, the anchor-word index (`_Around` as lists, masks in hex),
    the required-element bits of each word, and the literal words for the tokenizer check.

    Returns (tables, []) or (None, the problems of the patterns that cannot be parsed).
    """
    problems: list[str] = []
    fresh = _recording()
    spread = word_spread(lexicon)
    bits: dict[frozenset[str], int] = {}
    word_bits: dict[str, int] = {}
    index: dict[str, list[_Around]] = {}
    patterns: list[list[Any]] = []
    senses: list[list[Any]] = []
    reach: dict[str, int] = {}
    literals: set[str] = set()
    size = len(lexicon)

    def mask_of(required: list[frozenset[str]]) -> int:
        # an element with punctuation or a word of most notes among its words (",", "the",
        # "at": used in the examples of a quarter of the entries or more) is in nearly every
        # doc; it gets no bit, which keeps the per-doc check short
        mask = 0
        for words in required:
            if any(_everywhere(w, spread, size) for w in words):
                continue
            bit = bits.get(words)
            if bit is None:
                bit = bits[words] = 1 << len(bits)
                for word in words:
                    word_bits[word] = word_bits.get(word, 0) | bit
            mask |= bit
        return mask

    for entry in lexicon:
        for kind, pats in (("patterns", entry.patterns), ("not_when", entry.not_when)):
            parsed: list[Pattern] = []
            for pat in pats:
                known = None if fresh else lexicon.parsed.get(pat.strip())
                if known is None:
                    try:
                        known = parse_pattern(pat, lexicon.sets)
                    except PatternError as exc:
                        problems.append(f"{entry.file}:{entry.line}: entry {entry.code}: "
                                        f"field '{kind}': {pat!r}: {exc}")
                        continue
                parsed.append(known)
            if not parsed:
                continue
            for pattern in parsed:
                literals.update(pattern.literal_words())
            sources = [[src, _sorted(first)] for src, first in map(regex_source, parsed)]
            if kind == "not_when":
                senses.append([entry.code, sources])
                reach[entry.code] = max(pattern.longest for pattern in parsed)
                continue
            patterns.append([entry.code, sources])
            for pattern in parsed:
                required = _required(pattern)
                k, words = _anchor(required, spread)
                key = _around(entry.code, mask_of([w for _, w in required]), pattern, k)
                for word in words:
                    keys = index.setdefault(word, [])
                    if key not in keys:
                        keys.append(key)
    if problems:
        return None, problems
    # each `_Around` once (a pattern anchored on an element of several words is indexed under
    # each word), referred to by its number
    number: dict[_Around, int] = {}
    for arounds in index.values():
        for a in arounds:
            number.setdefault(a, len(number))
    unique = list(number)
    return {
        "patterns": patterns,
        "senses": senses,
        "sense_reach": reach,
        "arounds": [[a.code, format(a.mask, "x"), a.before_min, a.before_max, a.after_max,
                     _sorted(a.prev), _sorted(a.next)] for a in unique],
        "index": {word: [number[a] for a in arounds] for word, arounds in index.items()},
        "word_bits": {word: format(bit, "x") for word, bit in word_bits.items()},
        "literals": sorted(literals),
    }, []


def _tables_key(lexicon: Lexicon) -> str:
    """The cache key of ``lexicon``'s tables: everything `_tables` reads (each entry's code,
    patterns and example sentences, the sets) and the spaCy version (its stop words choose
    anchors)."""
    content = json.dumps([[e.code, e.patterns, e.not_when, e.examples_flag, e.examples_ok]
                          for e in lexicon.entries], ensure_ascii=False)
    sets = json.dumps(lexicon.sets, ensure_ascii=False, sort_keys=True)
    return cache.key("matcher", [spacy_version, content, sets])


def _problems(lexicon: Lexicon, tokenize: Callable[[str], list[str]] | None) -> list[str]:
    """Every pattern problem of ``lexicon``, in entry order: patterns that cannot be parsed,
    and literal words ``tokenize`` splits into several tokens."""
    problems = []
    for entry in lexicon:
        for kind, pats in (("patterns", entry.patterns), ("not_when", entry.not_when)):
            for pat in pats:
                try:
                    parsed = parse_pattern(pat, lexicon.sets)
                    if tokenize is not None:
                        check_tokens(parsed, tokenize)
                except PatternError as exc:
                    problems.append(f"{entry.file}:{entry.line}: entry {entry.code}: "
                                    f"field '{kind}': {pat!r}: {exc}")
    return problems


def _one_token_each(words: list[str], tokenize: Callable[[str], list[str]]) -> bool:
    """Whether ``tokenize`` keeps each of ``words`` one token, asked in one call: the words
    joined by spaces come back as exactly the words only if each one does (the tokenizer
    splits at whitespace first, then each piece on its own)."""
    return not words or tokenize(" ".join(words)) == words


class Tokenize:
    """A spaCy tokenizer as the ``tokenize`` of `LexiconMatcher`: the words of a text, plus a
    fingerprint of the tokenizer (`cache_key`) so that the check that every literal word of
    the lexicon is one token (~30 ms for the bundled lexicon: each word becomes a new lexeme)
    is done once per tokenizer and lexicon and then read from the on-disk cache."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self._key: str | None = None

    def __call__(self, text: str) -> list[str]:
        return [t.text for t in self.tokenizer(text)]

    @property
    def cache_key(self) -> str | None:
        """What the tokenizer's behaviour depends on: its class (and that of a tokenizer it
        wraps) and its serialised rules (prefixes, suffixes, infixes, special cases, token and
        URL matches); None for a tokenizer that cannot say (then nothing is cached)."""
        if self._key is None:
            parts = []
            tokenizer = self.tokenizer
            while tokenizer is not None:
                kind = type(tokenizer)
                parts.append(f"{kind.__module__}.{kind.__qualname__}")
                tokenizer = tokenizer.__dict__.get("tokenizer") \
                    if hasattr(tokenizer, "__dict__") else None
            try:
                rules = self.tokenizer.to_bytes(exclude=["vocab"])
            except Exception:  # any tokenizer without spaCy's serialisation
                return None
            if not isinstance(rules, bytes):
                return None
            self._key = cache.key("tokenizer", [spacy_version, *parts, rules])
        return self._key


def _tokens_checked(digest: str | None, tokenize: Callable[[str], list[str]]) -> str | None:
    """The cache key under which ``tokenize`` is recorded as keeping every literal word of the
    tables ``digest`` one token (None: not cacheable)."""
    tokenizer_key = getattr(tokenize, "cache_key", None)
    if digest is None or not isinstance(tokenizer_key, str):
        return None
    return cache.key("tokens", [digest, tokenizer_key])


class LexiconMatcher:
    """Finds lexicon candidates in a `Doc`; one instance per lexicon.

    Each pattern is a `TokenRegex` tried only at the tokens that can begin it, only near a word
    of its *anchor* (its required element expected to be rarest in case notes), and only when
    the doc holds a word of each of its required elements; so the work stays proportional to
    the entries that can match.

    The tables behind this (`_tables`) are plain data, kept in the on-disk cache
    (`blamelex.cache`) by a key of the lexicon's content; the regexes are compiled when first
    needed (`TokenMatcher`). ``tokenize`` (the pipeline's tokenizer) checks that every literal
    word of a pattern is one token, with or without the cache.
    """

    def __init__(
        self,
        vocab: Vocab,
        lexicon: Lexicon,
        tokenize: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.vocab = vocab
        use_cache = cache.enabled() and not _recording()
        digest = _tables_key(lexicon) if use_cache else None
        tables = cache.load("matcher", digest) if digest is not None else None
        if tables is not None:
            try:
                self._install(tables)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError):
                tables = None  # not what `_tables` writes: build it again
        if tables is None:
            tables, problems = _tables(lexicon)
            if tables is None:
                raise LexiconError(_problems(lexicon, tokenize) or problems)
            self._install(tables)
            if digest is not None:
                cache.store("matcher", digest, tables)
        if tokenize is not None:
            checked = _tokens_checked(digest, tokenize)
            if checked is None or cache.load("tokens", checked) is not True:
                if not _one_token_each(tables["literals"], tokenize):
                    problems = _problems(lexicon, tokenize)
                    if problems:
                        raise LexiconError(problems)
                if checked is not None:
                    cache.store("tokens", checked, True)
        self._entries = {entry.code: entry for entry in lexicon}
        # candidate spans are labelled with their entry's code (as the doc's span group wants)
        self._labels = {entry.code: vocab.strings.add(entry.code) for entry in lexicon}
        # overlap order after length: most severe first, then by code
        self._rank = {entry.code: (-severity_rank(entry.severity), entry.code)
                      for entry in lexicon}

    def _install(self, tables: Mapping[str, Any]) -> None:
        """Set the matcher up from `_tables`' data (built now or read from the cache)."""
        patterns, senses = TokenMatcher(), TokenMatcher()
        for store, rows in ((patterns, tables["patterns"]), (senses, tables["senses"])):
            for code, sources in rows:
                store.add_sources(str(code), [(str(src), first) for src, first in sources])
        reach = {str(code): int(n) for code, n in tables["sense_reach"].items()}
        # neighbour word sets, each made once (many patterns share one, e.g. @refl's words)
        words_ids: dict[tuple[str, ...], tuple[frozenset[str], frozenset[int]]] = {}

        def neighbours(words: list[str] | None) -> tuple[frozenset[str] | None,
                                                         frozenset[int] | None]:
            if words is None:
                return None, None
            found = words_ids.get(tuple(words))
            if found is None:
                made = frozenset(map(str, words))
                found = words_ids[tuple(words)] = (
                    made, frozenset(i for w in made for i in spelling_ids(w)))
            return found

        arounds = []
        for code, mask, b_min, b_max, a_max, prev, nxt in tables["arounds"]:
            (prev_words, prev_ids), (next_words, next_ids) = neighbours(prev), neighbours(nxt)
            arounds.append(_Around(str(code), int(mask, 16), int(b_min), int(b_max), int(a_max),
                                   prev_words, next_words, prev_ids, next_ids))
        # anchor word -> where each pattern anchored on it can match around it (`_Around`)
        index: dict[str, list[_Around]] = {
            str(word): [arounds[i] for i in numbers] for word, numbers in tables["index"].items()}
        # required elements as bits: a pattern can match in a doc only if the doc's words
        # set every bit of the pattern's mask
        word_bits = {str(word): int(bit, 16) for word, bit in tables["word_bits"].items()}
        if not isinstance(tables["literals"], list):
            raise TypeError("literals")
        self._patterns, self._senses = patterns, senses
        self._sensed = {str(code) for code, _ in tables["senses"]}
        self._sense_reach = reach
        self._index = index
        self._word_bits = word_bits
        # by spaCy string hash, the words that matter before any pattern is tried: anchors
        # (with the patterns anchored on them) and words of required elements (with their bits)
        self._hash_info: dict[int, tuple[list[_Around], int]] = {}
        for word in {*index, *word_bits}:
            for word_id in spelling_ids(word):
                self._hash_info[word_id] = (index.get(word, []), word_bits.get(word, 0))
        self._marked = frozenset(self._hash_info)

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
        plus those an entry's own ``not_when`` pattern covers, with that range in ``sense``.

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
                    benign.append(Candidate(Span(doc, start, end, label=labels[entry.code]),
                                            entry, sense=hit))
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
