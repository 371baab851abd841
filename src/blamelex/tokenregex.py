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


# any token except sentence-ending punctuation and whitespace (see patterns._ANY)
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


def _normalise(word: str) -> str:
    """A word as the token string holds it: no `SEP` or `SPACE` inside; whitespace as `SPACE`."""
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


def _words(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and set(value) == {"IN"}:
        return [str(w) for w in value["IN"]]
    raise ValueError(f"unsupported token value {value!r}")


def _is_any(token: dict[str, Any]) -> bool:
    body = {k: v for k, v in token.items() if k != "OP"}
    return body == {"IS_SPACE": False, "ORTH": {"NOT_IN": [".", "!", "?"]}}


def _element(token: dict[str, Any]) -> tuple[str, frozenset[str] | None]:
    """Regex of one token pattern (without its operator) and the words it accepts (None = any)."""
    if _is_any(token):
        return _ANY_RX, None
    keys = set(token) - {"OP"}
    if keys == {"LOWER"}:
        words = [w.lower() for w in _words(token["LOWER"])]
    elif keys == {"ORTH"} and all(w == w.lower() for w in _words(token["ORTH"])):
        words = _words(token["ORTH"])
    else:
        raise ValueError(f"unsupported token pattern {token!r}")
    if any(SEP in w or SPACE in w or not w for w in words):
        raise ValueError(f"unsupported word in token pattern {token!r}")
    alts = "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))
    return _atomic(f"(?:{alts}){SEP}"), frozenset(words)


def _operator(rx: str, op: str | None) -> str:
    if op is None:
        return rx
    if op == "?":
        return f"(?:{rx})?"
    bounds = re.fullmatch(r"\{(\d+),(\d+)\}", op)
    if bounds:
        return f"(?:{rx}){{{bounds.group(1)},{bounds.group(2)}}}"
    raise ValueError(f"unsupported operator {op!r}")


class TokenRegex:
    """One token pattern as a compiled regex plus the words that can begin a match."""

    __slots__ = ("regex", "first")

    def __init__(self, tokens: Sequence[dict[str, Any]]) -> None:
        parts = []
        first: set[str] | None = set()
        settled = False
        for token in tokens:
            rx, words = _element(token)
            op = token.get("OP")
            parts.append(_operator(rx, op))
            if settled:
                continue
            if words is None:
                if op != "{0,0}":
                    first = None
                    settled = True
                continue
            if first is not None:
                first |= words
            if op is None or (op.startswith("{") and not op.startswith("{0,")):
                settled = True
        if not settled:  # every element optional: empty matches are not matches
            raise ValueError("a token pattern needs at least one required element")
        self.regex = re.compile("".join(parts))
        self.first: frozenset[str] | None = None if first is None else frozenset(first)
        """Words a match can start with; None if a wildcard can start it."""

_Keyed = tuple[str, re.Pattern[str]]
"""A pattern's key and its compiled regex."""


class TokenMatcher:
    """Keyed token patterns, tried at the tokens that can begin them."""

    def __init__(self) -> None:
        # patterns by the words that can begin them; those a wildcard can begin, apart
        self._by_first: dict[str, list[_Keyed]] = {}
        self._anywhere: list[_Keyed] = []
        # the same tables again, one per key, for `spans`
        self._keyed: dict[str, tuple[dict[str, list[_Keyed]], list[_Keyed]]] = {}
        self._size = 0

    def add(self, key: str, patterns: Iterable[Sequence[dict[str, Any]]]) -> None:
        """Add token patterns under ``key``."""
        firsts, anywhere = self._keyed.setdefault(key, ({}, []))
        for tokens in patterns:
            rx = TokenRegex(tokens)
            self._size += 1
            if rx.first is None:
                self._anywhere.append((key, rx.regex))
                anywhere.append((key, rx.regex))
            else:
                for word in rx.first:
                    self._by_first.setdefault(word, []).append((key, rx.regex))
                    firsts.setdefault(word, []).append((key, rx.regex))

    def __len__(self) -> int:
        return self._size

    def __call__(self, text: TokenText, start: int = 0, end: int | None = None) -> list[Match]:
        """Every (key, start, end) in tokens ``[start, end)``: one match, the longest, per
        pattern and start token."""
        end = len(text) if end is None else end
        return _scan(text, ((start, end, end),), self._by_first, self._anywhere)

    def spans(
        self, text: TokenText, key: str, ranges: Iterable[tuple[int, int, int]]
    ) -> set[Span_]:
        """The (start, end) token spans of ``key``'s patterns that start in ``[lo, top)`` and end
        by ``hi``, for each ``(lo, top, hi)`` of ``ranges``: one match, the longest, per pattern
        and start token (as `__call__`, for one key)."""
        found = self._keyed.get(key)
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
           "lower_texts"]
