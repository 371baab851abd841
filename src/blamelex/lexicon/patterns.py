"""The lexicon pattern language, compiled to spaCy `Matcher` token patterns.

A pattern is a string of elements separated by spaces (see docs/lexicon-format.md):
``word``, ``a|b``, ``<lemma>``, ``<a|b>``, ``@set``, ``*``, ``*{m,n}``, any of them with a ``?``
suffix for optional, and ``non-compliant`` for a hyphenated word whose hyphen is optional.
Every element matches on the lower-cased token text, so capitalised words always match and no
statistical lemmatizer is needed: ``<lemma>`` expands to every inflection with lemminflect
(through `blamelex.inflect`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from blamelex.inflect import lemma_forms

TokenPattern = dict[str, Any]

_WILDCARD = re.compile(r"^\*(\?|\{(\d+),(\d+)\})?$")
_LEMMA = re.compile(r"^<([^<>]+)>$")
_SET = re.compile(r"^@([a-z_]+)$")


# a wildcard matches any token except sentence-ending punctuation and line breaks, so a pattern
# never spans two sentences
_ANY: TokenPattern = {"IS_SPACE": False, "ORTH": {"NOT_IN": [".", "!", "?"]}}


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


def compile_pattern(
    pattern: str,
    sets: Mapping[str, list[str]],
    tokenize: Callable[[str], list[str]] | None = None,
) -> list[TokenPattern]:
    """Compile one pattern string to a spaCy `Matcher` token pattern.

    ``tokenize`` (optional) splits a literal the way the pipeline's tokenizer does; a literal that
    would become several tokens is rejected with a message saying how to write it.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        raise PatternError("a pattern must be a non-empty string")
    tokens: list[TokenPattern] = []
    elements = pattern.split()
    for element in elements:
        tokens.extend(_compile_element(element, sets, tokenize))
    if not any("LOWER" in t and "OP" not in t for t in tokens):
        raise PatternError(f"pattern {pattern!r} can match nothing fixed: every word is optional")
    if "LOWER" not in tokens[0] or "LOWER" not in tokens[-1]:
        raise PatternError(f"pattern {pattern!r} must start and end with a word, not a wildcard")
    return tokens


def _compile_element(
    element: str,
    sets: Mapping[str, list[str]],
    tokenize: Callable[[str], list[str]] | None,
) -> list[TokenPattern]:
    wild = _WILDCARD.match(element)
    if wild:
        if wild.group(1) is None:
            return [dict(_ANY)]
        if wild.group(1) == "?":
            return [{**_ANY, "OP": "?"}]
        low, high = int(wild.group(2)), int(wild.group(3))
        if low > high or high > 12:
            raise PatternError(f"bad wildcard {element!r}: use *{{m,n}} with m <= n <= 12")
        return [{**_ANY, "OP": f"{{{low},{high}}}"}]
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
    words = sorted(expanded | set(literal))
    for word in literal:
        if "-" in word.strip("-") and len(word) > 1:
            raise PatternError(
                f"hyphenated alternative {word!r} in {element!r}: write it as its own pattern "
                f"(a single hyphenated word matches with or without the hyphen)"
            )
        if tokenize is not None:
            parts = tokenize(word)
            if len(parts) != 1:
                raise PatternError(
                    f"{word!r} is split by the tokenizer into {parts}; write it as "
                    f"{' '.join(parts)!r}"
                )
    token: TokenPattern = {"LOWER": {"IN": words}} if len(words) > 1 else {"LOWER": words[0]}
    if optional:
        token["OP"] = "?"
    return [token]


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


def _hyphenated(word: str, optional: bool) -> list[TokenPattern]:
    parts = [p for p in word.split("-") if p]
    out: list[TokenPattern] = []
    for i, part in enumerate(parts):
        if i:
            out.append({"ORTH": "-", "OP": "?"})
        out.append({"LOWER": part})
    if optional:
        raise PatternError(f"a hyphenated word cannot be optional: {word!r}")
    return out
