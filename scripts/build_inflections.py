"""Rebuild src/blamelex/data/inflections.json (every lemminflect lookup the bundled data needs)
and src/blamelex/data/verb_forms.json.gz (every verb form lemminflect knows, `blamelex.inflect`).

    python scripts/build_inflections.py

Run it after changing the bundled lexicon, context rules, categories or suggestion templates;
tests/test_inflect.py fails while the file differs from a fresh build. Build-time code: it lives
here, outside the package, so that `blamelex.inflect` imports nothing of blamelex at run time.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from blamelex.categories import categories
from blamelex.context_rules import load_context_rules
from blamelex.inflect import (
    VERB_TAGS,
    lemminflect_forms,
    lemminflect_inflection,
    lemminflect_verb_forms,
    lemminflect_verb_tags,
)
from blamelex.lexicon import load_lexicon
from blamelex.lexicon.patterns import compile_pattern
from blamelex.tokenregex import TokenRegex

OUT = Path(__file__).resolve().parents[1] / "src" / "blamelex" / "data" / "inflections.json"
VERBS = OUT.with_name("verb_forms.json.gz")

_LEMMA_GROUP = re.compile(r"<([^<>]+)>")
"""A ``<lemma>`` or ``<a|b>`` pattern element (``<`` and ``>`` mean nothing else in a pattern)."""
_TEMPLATE_VERB = re.compile(r"\{v:([a-z]+)\}")
"""A ``{v:verb}`` in a suggestion template: the verb, inflected to fit the sentence."""


def pattern_lemmas(patterns: Iterable[str]) -> set[str]:
    """Every lemma a ``<lemma>`` element of ``patterns`` expands (as `compile_pattern` reads
    them: alternatives split on ``|``, stripped, lower-cased)."""
    return {alt.strip().lower()
            for pattern in patterns
            for group in _LEMMA_GROUP.findall(pattern)
            for alt in group.split("|")}


def build_table(
    lemmas: Iterable[str], first_words: Iterable[str], templates: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The table for these ``<lemma>`` pattern elements, first words of spans whose entry has a
    verb template, and suggestion templates (all computed with lemminflect)."""
    verbs = sorted({m for t in templates for m in _TEMPLATE_VERB.findall(t)})
    return {
        "forms": {lemma: list(lemminflect_forms(lemma)) for lemma in sorted(set(lemmas))},
        "verb_tags": {
            word: [lemma, sorted(tags)]
            for word in sorted(set(first_words))
            for lemma, tags in [lemminflect_verb_tags(word)]
        },
        "inflect": {f"{verb} {tag}": lemminflect_inflection(verb, tag)
                    for verb in verbs for tag in VERB_TAGS},
    }


def bundled_table() -> dict[str, dict[str, Any]]:
    """The table for the bundled lexicon, context rules and category suggestions."""
    lexicon = load_lexicon()
    rules = load_context_rules()
    patterns = [p for e in lexicon for p in (*e.patterns, *e.not_when)]
    patterns += [p for r in rules.rules for p in (*r.patterns, *r.pseudo)]
    patterns += [c.pattern for c in rules.referent.cues]
    templates = [t for e in lexicon for t in e.suggestions]
    templates += [t for c in categories().values() for t in c.suggestions]
    first_words: set[str] = set()
    for entry in lexicon:
        if any("{be}" in t or "{v:" in t for t in entry.suggestions):
            for pattern in entry.patterns:
                first = TokenRegex(compile_pattern(pattern, lexicon.sets)).first
                first_words |= first or set()
    # rendering a suggestion also reads the words around a span (is the word before it a verb
    # form, a plural subject, an adverb?): every word of the entries' own examples is looked up
    # here, so scanning them needs no lemminflect; other text looks words up on a miss
    first_words |= example_words(lexicon)
    return build_table(pattern_lemmas(patterns), first_words, templates)


def example_words(lexicon: Any) -> set[str]:
    """The lower-cased tokens of every must-flag and must-not-flag example, as the token
    string holds them (`blamelex.tokenregex`)."""
    import spacy

    from blamelex.tokenregex import TokenText

    nlp = spacy.blank("en")
    texts = [x for e in lexicon for x in (*e.examples_flag, *e.examples_ok)]
    return {w for doc in nlp.tokenizer.pipe(texts) for w in TokenText.of(doc).lowers}


def main() -> None:
    table = bundled_table()
    OUT.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: " + ", ".join(f"{len(v)} {k}" for k, v in table.items()))
    verbs = lemminflect_verb_forms()
    data = json.dumps(verbs, sort_keys=True, separators=(",", ":")).encode("utf-8")
    VERBS.write_bytes(gzip.compress(data, mtime=0))
    print(f"wrote {VERBS}: {len(verbs)} verb forms")


if __name__ == "__main__":
    main()
