"""Word inflections from lemminflect, with every lookup the bundled data needs precomputed.

lemminflect keeps about 50 MiB of tables in memory once it is used (measured in a runtime-only
install: 97 MiB after ``spacy.blank("en")``, 147 MiB after one ``getAllInflections`` and one
``getAllLemmas``). Every lookup the bundled lexicon, context rules and suggestion templates make
is precomputed in ``data/inflections.json``, so a scan with them never loads lemminflect. A
lookup outside the table (a word from an organisation's own lexicon file) asks lemminflect, which
is then loaded. The table is rebuilt with ``python scripts/build_inflections.py``;
tests/test_inflect.py checks that it equals a fresh build.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import Any

VERB_TAGS = ("VB", "VBD", "VBG", "VBN", "VBP", "VBZ")
"""The Penn tags suggestion templates inflect a verb to."""

_TEMPLATE_VERB = re.compile(r"\{v:([a-z]+)\}")


@cache
def _table() -> dict[str, dict[str, Any]]:
    path = resources.files("blamelex") / "data" / "inflections.json"
    if not path.is_file():  # only while scripts/build_inflections.py makes it: all misses
        return {"forms": {}, "verb_tags": {}, "inflect": {}}
    table: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return table


# -- the three lookups ---------------------------------------------------------------------------


_RECORD: set[str] | None = None
"""While `bundled_table` runs: the lemmas that pattern compilation asked for."""


@cache
def lemma_forms(lemma: str) -> tuple[str, ...]:
    """Every inflected form of ``lemma`` as a verb, noun or adjective (lower case, sorted)."""
    lemma = lemma.lower()
    if _RECORD is not None:
        _RECORD.add(lemma)
    hit = _table()["forms"].get(lemma)
    return tuple(hit) if hit is not None else _lemma_forms(lemma)


@lru_cache(maxsize=4096)
def verb_tags(word: str) -> tuple[str, frozenset[str]]:
    """The verb lemma of ``word`` and the Penn tags it has as a form of that verb."""
    hit = _table()["verb_tags"].get(word)
    if hit is not None:
        return hit[0], frozenset(hit[1])
    return _verb_tags(word)


@lru_cache(maxsize=4096)
def inflect(lemma: str, tag: str) -> str:
    """``lemma`` inflected to the Penn ``tag`` (the lemma itself if lemminflect has no form)."""
    hit = _table()["inflect"].get(f"{lemma} {tag}")
    return str(hit) if hit is not None else _inflect(lemma, tag)


# -- lemminflect itself (imported only here, on a miss or to build the table) ------------------


def _lemma_forms(lemma: str) -> tuple[str, ...]:
    from lemminflect import getAllInflections, getAllInflectionsOOV

    forms = {lemma}
    found = getAllInflections(lemma)
    for values in found.values():
        forms.update(v.lower() for v in values)
    if not found:
        for upos in ("NOUN", "VERB"):
            for values in getAllInflectionsOOV(lemma, upos=upos).values():
                forms.update(v.lower() for v in values)
    return tuple(sorted(forms))


def _verb_tags(word: str) -> tuple[str, frozenset[str]]:
    from lemminflect import getAllInflections, getAllLemmas

    lemmas = getAllLemmas(word)
    verb = lemmas.get("VERB") or lemmas.get("AUX")
    if not verb:
        return "", frozenset()
    lemma = verb[0]
    forms = getAllInflections(lemma, upos="VERB")
    return lemma, frozenset(tag for tag, words in forms.items() if word in words)


def _inflect(lemma: str, tag: str) -> str:
    from lemminflect import getInflection

    forms = getInflection(lemma, tag=tag)
    return str(forms[0]) if forms else lemma


# -- building the table ---------------------------------------------------------------------------


def build_table(
    lemmas: Iterable[str], first_words: Iterable[str], templates: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The table for these ``<lemma>`` pattern elements, first words of spans whose entry has a
    verb template, and suggestion templates (all computed with lemminflect)."""
    verbs = sorted({m for t in templates for m in _TEMPLATE_VERB.findall(t)})
    return {
        "forms": {lemma: list(_lemma_forms(lemma)) for lemma in sorted(set(lemmas))},
        "verb_tags": {
            word: [lemma, sorted(tags)]
            for word in sorted(set(first_words))
            for lemma, tags in [_verb_tags(word)]
        },
        "inflect": {f"{verb} {tag}": _inflect(verb, tag) for verb in verbs for tag in VERB_TAGS},
    }


def bundled_table() -> dict[str, dict[str, Any]]:
    """The table for the bundled lexicon, context rules and category suggestions."""
    global _RECORD
    import spacy

    from blamelex.context import ContextRules
    from blamelex.lexicon import load_lexicon
    from blamelex.lexicon.patterns import compile_pattern
    from blamelex.matching import LexiconMatcher
    from blamelex.model import category_entries
    from blamelex.tokenregex import TokenRegex

    vocab = spacy.blank("en").vocab
    lexicon = load_lexicon()
    _RECORD = set()
    lemma_forms.cache_clear()
    try:  # compile every pattern once, recording the lemmas asked for
        LexiconMatcher(vocab, lexicon)
        ContextRules(vocab, lexicon.sets)
        lemmas = set(_RECORD)
    finally:
        _RECORD = None
        lemma_forms.cache_clear()
    templates = [t for e in lexicon for t in e.suggestions]
    templates += [t for e in category_entries().values() for t in e.suggestions]
    first_words: set[str] = set()
    for entry in lexicon:
        if any("{be}" in t or "{v:" in t for t in entry.suggestions):
            for pattern in entry.patterns:
                first = TokenRegex(compile_pattern(pattern, lexicon.sets)).first
                first_words |= first or set()
    return build_table(lemmas, first_words, templates)


__all__ = ["VERB_TAGS", "build_table", "bundled_table", "inflect", "lemma_forms", "verb_tags"]
