"""Word inflections from lemminflect, with every lookup the bundled data needs precomputed.

lemminflect keeps about 50 MiB of tables in memory once it is used (measured in a runtime-only
install: 97 MiB after ``spacy.blank("en")``, 147 MiB after one ``getAllInflections`` and one
``getAllLemmas``) and takes ~0.4 s to load. Every lookup the bundled lexicon, context rules and
suggestion templates make is precomputed in ``data/inflections.json``. Rendering a suggestion
also asks whether the words *around* a span are verb forms (any word of any note), so
``data/verb_forms.json.gz`` holds `verb_tags` for every verb and auxiliary form lemminflect's
dictionary knows (27,000 words, 150 KB, loaded in ~10 ms on the first word the small table
lacks); a word it lacks is no verb form for lemminflect either. So a scan with the bundled data
never loads lemminflect. `lemma_forms` and `inflect` outside the table (a word from an
organisation's own lexicon file) ask lemminflect, which is then loaded. Both files are built by
``python scripts/build_inflections.py`` (build-time code, outside the package) from the
`lemminflect_*` functions below; tests/test_inflect.py checks that they equal a fresh build.
"""

from __future__ import annotations

import gzip
import json
from functools import cache, lru_cache
from importlib import resources
from typing import Any

VERB_TAGS = ("VB", "VBD", "VBG", "VBN", "VBP", "VBZ")
"""The Penn tags suggestion templates inflect a verb to."""


@cache
def _table() -> dict[str, dict[str, Any]]:
    path = resources.files("blamelex") / "data" / "inflections.json"
    if not path.is_file():  # only while scripts/build_inflections.py makes it: all misses
        return {"forms": {}, "verb_tags": {}, "inflect": {}}
    table: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return table


@cache
def _verb_forms() -> dict[str, str]:
    """Every verb or auxiliary form lemminflect knows: ``word -> "lemma TAG TAG..."``."""
    path = resources.files("blamelex") / "data" / "verb_forms.json.gz"
    if not path.is_file():  # only while scripts/build_inflections.py makes it
        return {}
    forms: dict[str, str] = json.loads(gzip.decompress(path.read_bytes()))
    return forms


# -- the three lookups ---------------------------------------------------------------------------


@cache
def lemma_forms(lemma: str) -> tuple[str, ...]:
    """Every inflected form of ``lemma`` as a verb, noun or adjective (lower case, sorted)."""
    lemma = lemma.lower()
    hit = _table()["forms"].get(lemma)
    return tuple(hit) if hit is not None else lemminflect_forms(lemma)


@lru_cache(maxsize=4096)
def verb_tags(word: str) -> tuple[str, frozenset[str]]:
    """The verb lemma of ``word`` (lower case, as the token string holds words) and the Penn
    tags it has as a form of that verb."""
    hit = _table()["verb_tags"].get(word)
    if hit is not None:
        return hit[0], frozenset(hit[1])
    forms = _verb_forms()
    if not forms:
        return lemminflect_verb_tags(word)
    entry = forms.get(word)
    if entry is None:
        return "", frozenset()
    lemma, *tags = entry.split(" ")
    return lemma, frozenset(tags)


@lru_cache(maxsize=4096)
def inflect(lemma: str, tag: str) -> str:
    """``lemma`` inflected to the Penn ``tag`` (the lemma itself if lemminflect has no form)."""
    hit = _table()["inflect"].get(f"{lemma} {tag}")
    return str(hit) if hit is not None else lemminflect_inflection(lemma, tag)


# -- lemminflect itself (imported only here: on a miss, or by the table's build script) ---------


def lemminflect_forms(lemma: str) -> tuple[str, ...]:
    """`lemma_forms` computed by lemminflect, without the table."""
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


def lemminflect_verb_tags(word: str) -> tuple[str, frozenset[str]]:
    """`verb_tags` computed by lemminflect, without the table."""
    from lemminflect import getAllInflections, getAllLemmas

    lemmas = getAllLemmas(word)
    verb = lemmas.get("VERB") or lemmas.get("AUX")
    if not verb:
        return "", frozenset()
    lemma = verb[0]
    forms = getAllInflections(lemma, upos="VERB")
    return lemma, frozenset(tag for tag, words in forms.items() if word in words)


def lemminflect_verb_forms() -> dict[str, str]:
    """`_verb_forms` computed by lemminflect: `lemminflect_verb_tags` of every word its
    dictionary lists as a verb or auxiliary form (any other word gets ``("", frozenset())``
    from it)."""
    from lemminflect import Lemmatizer

    table: dict[str, str] = {}
    for word, lemmas in Lemmatizer()._getLemmaDict().items():
        if "VERB" in lemmas or "AUX" in lemmas:
            lemma, tags = lemminflect_verb_tags(word)
            if lemma:
                table[word] = " ".join([lemma, *sorted(tags)])
    return table


def lemminflect_inflection(lemma: str, tag: str) -> str:
    """`inflect` computed by lemminflect, without the table."""
    from lemminflect import getInflection

    forms = getInflection(lemma, tag=tag)
    return str(forms[0]) if forms else lemma


__all__ = [
    "VERB_TAGS",
    "inflect",
    "lemma_forms",
    "lemminflect_forms",
    "lemminflect_inflection",
    "lemminflect_verb_forms",
    "lemminflect_verb_tags",
    "verb_tags",
]
