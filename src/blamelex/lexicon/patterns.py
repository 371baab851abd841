"""The lexicon pattern language, parsed once into `Pattern` (a typed intermediate form).

A pattern is a string of elements separated by spaces (see docs/lexicon-format.md):
``word``, ``a|b``, ``<lemma>``, ``<a|b>``, ``@set``, ``*``, ``*{m,n}``, any of them with a ``?``
suffix for optional, and ``non-compliant`` for a hyphenated word whose hyphen is optional.
Every element matches on the lower-cased token text, so capitalised words always match and no
statistical lemmatizer is needed: ``<lemma>`` expands to every inflection with lemminflect
(through `blamelex.inflect`).

`parse_pattern` reads a pattern string into a `Pattern`: one `Element` per token position, each
the set of words it accepts (or any token) and how many tokens it takes. Everything downstream
reads that form: the regex matcher (`blamelex.tokenregex`), the anchors and windows of
`blamelex.matching`, the lexicon's duplicate check (`Pattern.shape`), and the on-disk cache
(`Pattern.to_data`). `compile_pattern` still gives spaCy `Matcher` token patterns (the tests
compare the two engines on them, and context rules are written with them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from blamelex.inflect import lemma_forms

TokenPattern = dict[str, Any]

_WILDCARD = re.compile(r"^\*(\?|\{(\d+),(\d+)\})?$")
_LEMMA = re.compile(r"^<([^<>]+)>$")
_SET = re.compile(r"^@([a-z_]+)$")

SENTENCE_ENDS = (".", "!", "?")
"""What a wildcard never matches (with whitespace tokens), so a pattern never spans two
sentences."""

# a wildcard matches any token except sentence-ending punctuation and line breaks, so a pattern
# never spans two sentences
_ANY: TokenPattern = {"IS_SPACE": False, "ORTH": {"NOT_IN": list(SENTENCE_ENDS)}}


@dataclass(frozen=True, slots=True)
class Element:
    """One token position of a parsed pattern.

    ``words``: the lower-cased words the token may be; None for a wildcard (any token except
    sentence-ending punctuation and whitespace). ``low``/``high``: how many tokens it takes
    (``?`` is 0-1, a plain element 1-1). ``literal``: the words written out literally, which
    must each be one token for the pipeline's tokenizer (`check_tokens`). ``orth``: an exact
    match (the optional hyphen of a hyphenated word), not a lower-cased one.
    """

    words: frozenset[str] | None
    low: int = 1
    high: int = 1
    literal: tuple[str, ...] = ()
    orth: bool = False

    @property
    def required(self) -> bool:
        """A word element that matches exactly one token (a lexicon pattern's anchor is one of
        these)."""
        return self.words is not None and not self.orth and self.low == self.high == 1

    def token_pattern(self) -> TokenPattern:
        """The spaCy `Matcher` token pattern of this element."""
        if self.words is None:
            token: TokenPattern = dict(_ANY)
        else:
            words = sorted(self.words)
            value: Any = {"IN": words} if len(words) > 1 else words[0]
            token = {"ORTH" if self.orth else "LOWER": value}
        if (self.low, self.high) == (0, 1):
            token["OP"] = "?"
        elif (self.low, self.high) != (1, 1):
            token["OP"] = f"{{{self.low},{self.high}}}"
        return token


@dataclass(frozen=True, slots=True)
class Pattern:
    """A parsed pattern: its `Element`s in order (see `parse_pattern`)."""

    elements: tuple[Element, ...]

    def token_pattern(self) -> list[TokenPattern]:
        """The spaCy `Matcher` token pattern (what `compile_pattern` returns)."""
        return [e.token_pattern() for e in self.elements]

    def shape(self) -> tuple[Hashable, ...]:
        """What the pattern matches, so equal shapes mean the same pattern however written:
        each element's words as a set (alternatives in any order, a lemma or ``@set`` by the
        words it stands for) and its repeat count as a range."""
        return tuple((e.words, e.low, e.high) for e in self.elements)

    @property
    def longest(self) -> int:
        """The most tokens a match can hold."""
        return sum(e.high for e in self.elements)

    def literal_words(self) -> list[str]:
        """The words written out literally, in order (each must be one token)."""
        return [w for e in self.elements for w in e.literal]

    def to_data(self) -> list[Any]:
        """Plain JSON-able data (`from_data` reads it back)."""
        return [[None if e.words is None else sorted(e.words), e.low, e.high, list(e.literal),
                 e.orth] for e in self.elements]

    @classmethod
    def from_data(cls, data: Sequence[Any]) -> Pattern:
        """The pattern `to_data` wrote."""
        return cls(tuple(Element(None if w is None else frozenset(w), int(lo), int(hi),
                                 tuple(lit), bool(orth))
                         for w, lo, hi, lit, orth in data))

    @classmethod
    def from_token_pattern(cls, tokens: Sequence[TokenPattern]) -> Pattern:
        """Read back a spaCy token pattern of the kinds `compile_pattern` writes (raises
        ValueError for any other)."""
        return cls(tuple(_from_token(t) for t in tokens))


def _token_words(value: Any, token: TokenPattern) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and set(value) == {"IN"}:
        return [str(w) for w in value["IN"]]
    raise ValueError(f"unsupported token pattern {token!r}")


def _from_token(token: TokenPattern) -> Element:
    op = token.get("OP")
    body = {k: v for k, v in token.items() if k != "OP"}
    if op is None:
        low, high = 1, 1
    elif op == "?":
        low, high = 0, 1
    else:
        bounds = re.fullmatch(r"\{(\d+),(\d+)\}", str(op))
        if bounds is None:
            raise ValueError(f"unsupported operator {op!r}")
        low, high = int(bounds.group(1)), int(bounds.group(2))
    if body == {"IS_SPACE": False, "ORTH": {"NOT_IN": list(SENTENCE_ENDS)}}:
        return Element(None, low, high)
    if set(body) == {"LOWER"}:
        words = [w.lower() for w in _token_words(body["LOWER"], token)]
        return Element(frozenset(words), low, high)
    if set(body) == {"ORTH"}:
        words = _token_words(body["ORTH"], token)
        if all(w == w.lower() for w in words):
            # an exact match on lower-case words: only lower-case tokens (as spaCy's ORTH)
            return Element(frozenset(words), low, high, orth=True)
    raise ValueError(f"unsupported token pattern {token!r}")


class PatternError(ValueError):
    """A pattern that cannot be compiled; the message says what to change."""


def inflections(lemma: str) -> tuple[str, ...]:
    """Every inflected form of ``lemma`` as a verb, noun or adjective (lower case, sorted)."""
    return lemma_forms(lemma)


def _alternatives(body: str, element: str) -> list[str]:
    alts = [a.strip().lower() for a in body.split("|")]
    if any(not a for a in alts):
        raise PatternError(f"empty alternative in {element!r}")
    return alts


def parse_pattern(pattern: str, sets: Mapping[str, list[str]]) -> Pattern:
    """Parse one pattern string (``sets``: the ``@set`` names and their words).

    Raises `PatternError` saying what to change. Whether each literal word is one token for
    the pipeline's tokenizer is checked apart (`check_tokens`): it needs the tokenizer.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        raise PatternError("a pattern must be a non-empty string")
    elements: list[Element] = []
    for element in pattern.split():
        elements.extend(_parse_element(element, sets))
    if not any(e.required for e in elements):
        raise PatternError(f"pattern {pattern!r} can match nothing fixed: every word is optional")
    if elements[0].words is None or elements[-1].words is None:
        raise PatternError(f"pattern {pattern!r} must start and end with a word, not a wildcard")
    return Pattern(tuple(elements))


def check_tokens(parsed: Pattern, tokenize: Callable[[str], list[str]]) -> None:
    """Raise `PatternError` if a literal word of ``parsed`` is split by ``tokenize`` (the
    pipeline's tokenizer) into several tokens: it could never match one token."""
    for word in parsed.literal_words():
        _check_token(word, tokenize)


def _check_token(word: str, tokenize: Callable[[str], list[str]]) -> None:
    parts = tokenize(word)
    if len(parts) != 1:
        raise PatternError(
            f"{word!r} is split by the tokenizer into {parts}; write it as {' '.join(parts)!r}"
        )


def compile_pattern(
    pattern: str,
    sets: Mapping[str, list[str]],
    tokenize: Callable[[str], list[str]] | None = None,
) -> list[TokenPattern]:
    """Compile one pattern string to a spaCy `Matcher` token pattern.

    ``tokenize`` (optional) splits a literal the way the pipeline's tokenizer does; a literal that
    would become several tokens is rejected with a message saying how to write it.
    """
    parsed = parse_pattern(pattern, sets)
    if tokenize is not None:
        check_tokens(parsed, tokenize)
    return parsed.token_pattern()


def _parse_element(element: str, sets: Mapping[str, list[str]]) -> list[Element]:
    wild = _WILDCARD.match(element)
    if wild:
        if wild.group(1) is None:
            return [Element(None)]
        if wild.group(1) == "?":
            return [Element(None, 0, 1)]
        low, high = int(wild.group(2)), int(wild.group(3))
        if low > high or high > 12:
            raise PatternError(f"bad wildcard {element!r}: use *{{m,n}} with m <= n <= 12")
        return [Element(None, low, high)]
    optional = element.endswith("?") and len(element) > 1
    body = element[:-1] if optional else element
    if any(c in body for c in "*{}"):
        raise PatternError(f"cannot read element {element!r}: use word, a|b, <lemma>, @set or *")
    alts = _split_alternatives(body, element)
    if len(alts) == 1 and "-" in alts[0].strip("-") and alts[0][0] not in "<@":
        return _hyphenated(alts[0].lower(), optional)
    literal: list[str] = []
    expanded: set[str] = set()
    for alt in alts:
        lemma = _LEMMA.match(alt)
        named = _SET.match(alt)
        if lemma:
            for lem in _alternatives(lemma.group(1), element):
                expanded.update(inflections(lem))
        elif named:
            name = named.group(1)
            if name not in sets:
                raise PatternError(
                    f"unknown set @{name}; known sets: {', '.join(sorted(sets))}"
                )
            expanded.update(w.lower() for w in sets[name])
        elif any(c in alt for c in "<>@"):
            raise PatternError(
                f"cannot read element {element!r}: use word, a|b, <lemma>, @set or *"
            )
        else:
            literal.append(alt.lower())
    for word in literal:
        if "-" in word.strip("-") and len(word) > 1:
            raise PatternError(
                f"hyphenated alternative {word!r} in {element!r}: write it as its own pattern "
                f"(a single hyphenated word matches with or without the hyphen)"
            )
    return [Element(frozenset(expanded | set(literal)), 0 if optional else 1, 1, tuple(literal))]


def _split_alternatives(body: str, element: str) -> list[str]:
    """Split ``a|<b|c>|@d`` on the bars that are not inside ``<...>``."""
    alts: list[str] = []
    depth = 0
    current = ""
    for ch in body:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
            if depth < 0:
                raise PatternError(f"unbalanced '>' in {element!r}")
        if ch == "|" and depth == 0:
            alts.append(current)
            current = ""
        else:
            current += ch
    if depth:
        raise PatternError(f"unbalanced '<' in {element!r}")
    alts.append(current)
    if any(not a.strip() for a in alts):
        raise PatternError(f"empty alternative in {element!r}")
    return [a.strip() for a in alts]


def _hyphenated(word: str, optional: bool) -> list[Element]:
    parts = [p for p in word.split("-") if p]
    out: list[Element] = []
    for i, part in enumerate(parts):
        if i:
            out.append(Element(frozenset({"-"}), 0, 1, orth=True))
        out.append(Element(frozenset({part})))
    if optional:
        raise PatternError(f"a hyphenated word cannot be optional: {word!r}")
    return out


__all__ = ["Element", "Pattern", "PatternError", "TokenPattern", "check_tokens",
           "compile_pattern", "inflections", "parse_pattern"]
