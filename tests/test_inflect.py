"""Inflection lookups: the precomputed table matches lemminflect, and scans never need the rest."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from blamelex import inflect

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_inflections.py"


@pytest.fixture(scope="module")
def build() -> ModuleType:
    """scripts/build_inflections.py, imported (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("build_inflections", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_table_equals_a_fresh_build(build: ModuleType) -> None:
    shipped = json.loads((resources.files("blamelex") / "data" / "inflections.json")
                         .read_text("utf-8"))
    # if this fails, run: python scripts/build_inflections.py
    assert shipped == build.bundled_table()


def test_shipped_verb_forms_equal_a_fresh_build() -> None:
    import gzip

    shipped = json.loads(gzip.decompress(
        (resources.files("blamelex") / "data" / "verb_forms.json.gz").read_bytes()))
    # if this fails, run: python scripts/build_inflections.py
    assert shipped == inflect.lemminflect_verb_forms()


def test_verb_tags_outside_the_small_table_agree_with_lemminflect_without_loading_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # words around a span in a note: verb forms, non-verbs, odd tokens; none in the small table
    words = ["strolled", "photocopying", "recanted", "window", "quickly", "2300hrs", "yp",
             "misper", "ain't", "overdosed", "babysat", "whatsapping"]
    table = inflect._table()["verb_tags"]
    words = [w for w in words if w not in table]
    expected = {w: inflect.lemminflect_verb_tags(w) for w in words}
    inflect.verb_tags.cache_clear()

    def forbidden(word: str) -> tuple[str, frozenset[str]]:
        raise AssertionError(f"lemminflect asked about {word!r}")

    monkeypatch.setattr(inflect, "lemminflect_verb_tags", forbidden)
    try:
        assert {w: inflect.verb_tags(w) for w in words} == expected
        assert any(tags for _, tags in expected.values())  # some are verb forms
        assert any(not tags for _, tags in expected.values())  # some are not
    finally:
        inflect.verb_tags.cache_clear()


def test_the_build_finds_every_lemma_pattern_compilation_asks_for(
    build: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the build reads <lemma> elements from the pattern text; compiling asks the table for them
    from blamelex.context_rules import load_context_rules
    from blamelex.lexicon import load_lexicon
    from blamelex.lexicon.patterns import compile_pattern

    lexicon, rules = load_lexicon(), load_context_rules()
    patterns = [p for e in lexicon for p in (*e.patterns, *e.not_when)]
    patterns += [p for r in rules.rules for p in (*r.patterns, *r.pseudo)]
    patterns += [c.pattern for c in rules.referent.cues]
    asked: set[str] = set()

    def record(lemma: str) -> tuple[str, ...]:
        asked.add(lemma)
        return (lemma,)

    empty: dict[str, dict[str, Any]] = {"forms": {}, "verb_tags": {}, "inflect": {}}
    monkeypatch.setattr(inflect, "_table", lambda: empty)
    monkeypatch.setattr(inflect, "lemminflect_forms", record)
    inflect.lemma_forms.cache_clear()
    try:
        for pattern in patterns:
            compile_pattern(pattern, lexicon.sets)
    finally:
        inflect.lemma_forms.cache_clear()
    assert asked == build.pattern_lemmas(patterns)
    assert build.pattern_lemmas(["<Be|say>? not", "<rule> out"]) == {"be", "say", "rule"}


def test_lookups_outside_the_table_ask_lemminflect() -> None:
    from lemminflect import getAllLemmas, getInflection

    table = inflect._table()
    assert "whittle" not in table["forms"] and "whittling" not in table["verb_tags"]
    assert {"whittle", "whittled", "whittles", "whittling"} <= set(inflect.lemma_forms("whittle"))
    lemma, tags = inflect.verb_tags("whittling")
    assert lemma == getAllLemmas("whittling")["VERB"][0] == "whittle" and "VBG" in tags
    assert "whittle VBD" not in table["inflect"]
    assert inflect.inflect("whittle", "VBD") == getInflection("whittle", tag="VBD")[0] == "whittled"


def test_table_and_lemminflect_agree_on_what_the_table_holds() -> None:
    table = inflect._table()
    for word, (lemma, tags) in list(table["verb_tags"].items())[:200]:
        assert inflect.lemminflect_verb_tags(word) == (lemma, frozenset(tags))
    for key, form in table["inflect"].items():
        assert inflect.lemminflect_inflection(*key.split()) == form


def test_scanning_with_the_bundled_lexicon_never_loads_lemminflect() -> None:
    code = (
        "import sys, blamelex\n"
        "from blamelex.lexicon import load_lexicon\n"
        "d = blamelex.load(model=None)\n"
        "texts = [x for e in load_lexicon() for x in (*e.examples_flag, *e.examples_ok)]\n"
        "found = [f for t in texts for f in d.scan(t)]\n"
        "assert sum(len(f.suggestions) for f in found) > 300, len(found)\n"
        "print('lemminflect' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
