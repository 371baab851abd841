"""Token patterns matched as regular expressions over a doc's lower-cased token string.

`compile_pattern` turns the lexicon pattern language into spaCy-style token patterns (a list of
dicts). spaCy's `Matcher` evaluates set predicates (``{"LOWER": {"IN": [...]}}``) in Python for
every token and every live state, which made it the slowest part of a scan. Here each token
pattern becomes one compiled regular expression over the doc's tokens written as
``lower(token) + "\\0"``, and is tried only at tokens that can begin it (its *first words*), so
the work is a dictionary lookup per token plus a few C-level regex matches.

Semantics are those of spaCy's `Matcher` for the token patterns `compile_pattern` produces
(``LOWER`` word or ``IN`` set, ``ORTH`` "-", the wildcard ``IS_SPACE False / ORTH NOT_IN . ! ?``,
operators ``?`` and ``{m,n}``), with one difference: from one start token a pattern yields only
its longest match (regex quantifiers are greedy), not every length. `longest` then applies
spaCy's ``greedy="LONGEST"`` filter. tests/test_tokenregex.py checks the two engines agree on
every lexicon example sentence.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate, compress
from typing import Any

from spacy.attrs import LOWER
from spacy.tokens import Doc

from blamelex.lexicon.patterns import Element, Pattern

SEP = "\x00"
"""Ends every token in the token string."""
SPACE = "\x01"
"""Stands for a whitespace token (spaCy ``IS_SPACE``)."""
_REPLACEMENT = "\ufffd"

# A token is matched whole or not at all, so every element can be atomic: once it has matched,
# backtracking into it can only fail. Atomic groups (Python >= 3.11) stop the regex engine from
# trying that (character by character through a long token, for a wildcard); older Pythons get
# the same matches without them.
_ATOMIC = sys.version_info >= (3, 11)


def _atomic(rx: str) -> str:
    return f"(?>{rx})" if _ATOMIC else f"(?:{rx})"


# any token except sentence-ending punctuation and whitespace (see patterns.Element)
_ANY_RX = _atomic("(?![.!?]\x00)[^\x00\x01][^\x00]*\x00")

Match = tuple[str, int, int]
"""(key, start token, end token)."""
Span_ = tuple[int, int]
"""(start token, end token)."""


# Normalised lower-cased word by string hash. The hash of a string is the same in every spaCy
# vocab, so one cache serves all; it is emptied when it grows past _CACHE_SIZE (bounded memory on
# long scans).
_LOWER_CACHE: dict[int, str] = {}
_CACHE_SIZE = 50_000


APOSTROPHES = ("\u2019", "\u02bc")
"""Typographic apostrophes (right single quotation mark, modifier letter apostrophe), which
word processors write in "n’t" and "she’s"; spaCy splits them as it splits "'"."""


def _normalise(word: str) -> str:
    """A word as the token string holds it: no `SEP` or `SPACE` inside; whitespace as `SPACE`;
    a typographic apostrophe inside a word ("n’t", "’s", "o’clock") as "'", so that patterns
    and context rules read both spellings alike (a quotation mark on its own stays)."""
    if len(word) > 1 and (APOSTROPHES[0] in word or APOSTROPHES[1] in word):
        word = word.replace(APOSTROPHES[0], "'").replace(APOSTROPHES[1], "'")
    if SEP in word or SPACE in word:
        word = word.replace(SEP, _REPLACEMENT).replace(SPACE, _REPLACEMENT)
    if word.isspace():  # a whitespace token (only those hold whitespace)
        return SPACE + "\n" if "\n" in word else SPACE
    return word


def lower_texts(doc: Doc, hashes: list[int]) -> list[str]:
    """The normalised lower-cased text of every token from its LOWER hash, cached."""
    cache = _LOWER_CACHE
    try:
        return list(map(cache.__getitem__, hashes))
    except KeyError:
        strings = doc.vocab.strings
        if len(cache) > _CACHE_SIZE:
            cache.clear()
        for h in hashes:
            if h not in cache:
                cache[h] = _normalise(strings[h])
        return [cache.get(h) or _normalise(strings[h]) for h in hashes]


class TokenText:
    """A doc's tokens as one string: ``lower(token) + SEP`` each; whitespace tokens as `SPACE`.

    It holds only the tokens' LOWER hashes until the words are needed, so a doc that no pattern
    can match never has its words looked up.
    """

    __slots__ = ("hashes", "_doc", "_lowers", "_string", "_cum", "bounds", "parsed")

    def __init__(self, doc: Doc) -> None:
        self._doc: Doc | None = doc
        self._lowers: list[str] | None = None
        self.hashes: list[int] = doc.to_array(LOWER).tolist() if len(doc) else []
        """The tokens' LOWER hashes (spaCy string ids of the lower-cased words)."""
        self._string: str | None = None
        self._cum: list[int] | None = None
        self.bounds: list[tuple[int, int]] | None = None
        """The doc's sentences as token ranges, once `sentences.sentence_bounds` has run."""
        self.parsed: bool | None = None
        """Whether a pipe set the doc's sentences, once `sentences.parser_bounds` has asked."""

    @property
    def lowers(self) -> list[str]:
        """The normalised lower-cased token texts."""
        if self._lowers is None:
            assert self._doc is not None
            self._lowers = lower_texts(self._doc, self.hashes)
            self._doc = None
        return self._lowers

    @property
    def string(self) -> str:
        """The tokens joined, each followed by `SEP` (built on first use)."""
        if self._string is None:
            self._string = SEP.join(self.lowers) + SEP if self.lowers else ""
        return self._string

    @property
    def cum(self) -> list[int]:
        """The words' lengths summed before each token (``len(self) + 1`` items): token ``i``
        starts at ``cum[i] + i`` in `string` (one `SEP` after each word)."""
        if self._cum is None:
            self._cum = list(accumulate(map(len, self.lowers), initial=0))
        return self._cum

    def offset(self, i: int) -> int:
        """Where token ``i`` starts in `string` (``offset(len(self))`` is its length)."""
        return self.cum[i] + i

    def token_at(self, offset: int) -> int:
        """The token that starts at ``offset`` of `string` (a token start or its end)."""
        return self.string.count(SEP, 0, offset)

    @classmethod
    def of(cls, doc: Doc) -> TokenText:
        """The token string of ``doc``.

        A whitespace token becomes `SPACE`, followed by a line feed if it holds a line break (so
        `sentences.sentence_bounds` can split there); no word or wildcard matches either.
        """
        return cls(doc)

    def __len__(self) -> int:
        return len(self.hashes) if self._lowers is None else len(self._lowers)


def _element(element: Element) -> str:
    """Regex of one pattern element, with its repeat count."""
    if element.words is None:
        rx = _ANY_RX
    else:
        words = element.words
        if any(SEP in w or SPACE in w or not w for w in words):
            raise ValueError(f"unsupported word in token pattern {element.token_pattern()!r}")
        alts = "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))
        rx = _atomic(f"(?:{alts}){SEP}")
    low, high = element.low, element.high
    if (low, high) == (1, 1):
        return rx
    if (low, high) == (0, 1):
        return f"(?:{rx})?"
    return f"(?:{rx}){{{low},{high}}}"


def _parsed(tokens: Pattern | Sequence[dict[str, Any]]) -> Pattern:
    return tokens if isinstance(tokens, Pattern) else Pattern.from_token_pattern(tokens)


def regex_source(tokens: Pattern | Sequence[dict[str, Any]]) -> tuple[str, frozenset[str] | None]:
    """The regex source of a pattern (a `Pattern`, or a token pattern of the kinds
    `compile_pattern` writes) and the words a match can begin with (None: a wildcard can
    begin it). Raises ValueError for a token pattern this engine does not support."""
    pattern = _parsed(tokens)
    parts = []
    first: set[str] | None = set()
    settled = False
    for element in pattern.elements:
        parts.append(_element(element))
        if settled:
            continue
        if element.words is None:
            if element.high > 0:
                first = None
                settled = True
            continue
        if first is not None:
            first |= element.words
        if element.low >= 1:
            settled = True
    if not settled:  # every element optional: empty matches are not matches
        raise ValueError("a token pattern needs at least one required element")
    return "".join(parts), None if first is None else frozenset(first)


# Compiled regexes by source, shared by every matcher of the process (a detector loaded again,
# or the same pattern in two entries, compiles nothing new); emptied past _COMPILED_SIZE.
_COMPILED: dict[str, re.Pattern[str]] = {}
_COMPILED_SIZE = 20_000


def _compile(source: str) -> re.Pattern[str]:
    rx = _COMPILED.get(source)
    if rx is None:
        if len(_COMPILED) >= _COMPILED_SIZE:
            _COMPILED.clear()
        rx = _COMPILED[source] = re.compile(source)
    return rx


class TokenRegex:
    """One token pattern as a compiled regex plus the words that can begin a match."""

    __slots__ = ("regex", "first")

    def __init__(self, tokens: Pattern | Sequence[dict[str, Any]]) -> None:
        source, first = regex_source(tokens)
        self.regex = _compile(source)
        self.first: frozenset[str] | None = first
        """Words a match can start with; None if a wildcard can start it."""


_Keyed = tuple[str, re.Pattern[str]]
"""A pattern's key and its compiled regex."""
_Source = tuple[str, "Iterable[str] | None"]
"""A pattern's regex source and the words that can begin it (`regex_source`; None: a wildcard
can begin it)."""


class TokenMatcher:
    """Keyed token patterns, tried at the tokens that can begin them.

    A pattern's regex is compiled when it is first needed: `spans` compiles one key's patterns
    at its first call for that key, `__call__` the patterns that can begin with a word of the
    tokens it searches. A scan of a short text then pays only for the patterns it could match
    (compiling every lexicon pattern takes longer than starting the rest of the pipeline).
    """

    def __init__(self) -> None:
        # every pattern's source, in the order added, by key
        self._sources: dict[str, list[_Source]] = {}
        # for `__call__` (made at its first call after an `add`): the (key, source) of the
        # patterns each word can begin, in the order added; the same compiled, for the words
        # met so far in searched tokens; and those a wildcard can begin, compiled
        self._first_sources: dict[str, list[tuple[str, str]]] | None = {}
        self._by_first: dict[str, list[_Keyed]] = {}
        self._anywhere: list[_Keyed] = []
        self._pending: set[str] = set()
        """Words whose patterns `_by_first` does not hold yet."""
        # the tables of one key, for `spans` (made at the key's first `spans`)
        self._keyed: dict[str, tuple[dict[str, list[_Keyed]], list[_Keyed]]] = {}
        self._size = 0

    def add(self, key: str, patterns: Iterable[Pattern | Sequence[dict[str, Any]]]) -> None:
        """Add patterns under ``key``: `Pattern`s, or token patterns of the kinds
        `compile_pattern` writes."""
        self.add_sources(key, [regex_source(tokens) for tokens in patterns])

    def add_sources(self, key: str, sources: Iterable[_Source]) -> None:
        """Add patterns under ``key`` by what `regex_source` gave for them."""
        added = list(sources)
        self._sources.setdefault(key, []).extend(added)
        self._keyed.pop(key, None)
        self._size += len(added)
        self._first_sources = None

    def sources(self) -> dict[str, list[_Source]]:
        """Every key's patterns as `regex_source` gave them, in the order added."""
        return {key: list(found) for key, found in self._sources.items()}

    def __len__(self) -> int:
        return self._size

    def _key_tables(self, key: str) -> tuple[dict[str, list[_Keyed]], list[_Keyed]] | None:
        found = self._keyed.get(key)
        if found is None:
            sources = self._sources.get(key)
            if sources is None:
                return None
            firsts: dict[str, list[_Keyed]] = {}
            anywhere: list[_Keyed] = []
            for source, first in sources:
                keyed = (key, _compile(source))
                if first is None:
                    anywhere.append(keyed)
                else:
                    for word in first:
                        firsts.setdefault(word, []).append(keyed)
            found = self._keyed[key] = (firsts, anywhere)
        return found

    def _index_sources(self) -> dict[str, list[tuple[str, str]]]:
        by_first: dict[str, list[tuple[str, str]]] = {}
        anywhere: list[tuple[str, str]] = []
        for key, sources in self._sources.items():
            for source, first in sources:
                if first is None:
                    anywhere.append((key, source))
                else:
                    for word in first:
                        by_first.setdefault(word, []).append((key, source))
        self._first_sources = by_first
        self._anywhere = [(key, _compile(source)) for key, source in anywhere]
        self._by_first = {}
        self._pending = set(by_first)
        return by_first

    def _compile_words(self, words: Iterable[str]) -> None:
        """Compile the patterns the ``words`` not compiled yet can begin."""
        first_sources = self._first_sources
        assert first_sources is not None
        found = self._pending.intersection(words)
        if found:
            for word in found:
                self._by_first[word] = [(key, _compile(source))
                                        for key, source in first_sources[word]]
            self._pending -= found

    def __call__(self, text: TokenText, start: int = 0, end: int | None = None) -> list[Match]:
        """Every (key, start, end) in tokens ``[start, end)``: one match, the longest, per
        pattern and start token."""
        end = len(text) if end is None else end
        if self._first_sources is None:
            self._index_sources()
        if self._pending:
            self._compile_words(text.lowers[start:end])
        return _scan(text, ((start, end, end),), self._by_first, self._anywhere)

    def spans(
        self, text: TokenText, key: str, ranges: Iterable[tuple[int, int, int]]
    ) -> set[Span_]:
        """The (start, end) token spans of ``key``'s patterns that start in ``[lo, top)`` and end
        by ``hi``, for each ``(lo, top, hi)`` of ``ranges``: one match, the longest, per pattern
        and start token (as `__call__`, for one key)."""
        found = self._keyed.get(key) or self._key_tables(key)
        if found is None:
            return set()
        return {(s, e) for _, s, e in _scan(text, ranges, *found)}


def _scan(
    text: TokenText,
    ranges: Iterable[tuple[int, int, int]],
    firsts: Mapping[str, Sequence[_Keyed]],
    anywhere: Sequence[_Keyed],
) -> list[Match]:
    """(key, start, end) of the longest match of each pattern from each start token; starts in
    ``[lo, top)`` and ends by ``hi`` for each ``(lo, top, hi)``."""
    out: list[Match] = []
    lowers = text.lowers
    string = text.string
    cum = text.cum
    count = string.count
    for lo, top, hi in ranges:
        stop_at = cum[hi] + hi
        # the tokens that can begin a match, picked out in C
        starts = range(lo, top) if anywhere else \
            compress(range(lo, top), map(firsts.__contains__, lowers[lo:top]))
        for i in starts:
            at = cum[i] + i
            for key, rx in (*firsts.get(lowers[i], ()), *anywhere):
                m = rx.match(string, at, stop_at)
                if m is not None and m.end() > at:
                    out.append((key, i, count(SEP, at, m.end()) + i))
    return out


def longest(matches: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """spaCy's ``greedy="LONGEST"`` filter: longest first (then leftmost), no overlaps."""
    unique = matches if isinstance(matches, set) else set(matches)
    if len(unique) < 2:
        return list(unique)
    taken: set[int] = set()
    out = []
    for s, e in sorted(unique, key=lambda m: (m[0] - m[1], m[0])):
        if taken.isdisjoint(range(s, e)):
            taken.update(range(s, e))
            out.append((s, e))
    return out


__all__ = ["SEP", "SPACE", "Match", "TokenMatcher", "TokenRegex", "TokenText", "longest",
           "lower_texts", "regex_source"]
