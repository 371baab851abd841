"""Inflection lookups: the precomputed table matches lemminflect, and scans never need the rest."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources

from blamelex import inflect


def test_shipped_table_equals_a_fresh_build() -> None:
    shipped = json.loads((resources.files("blamelex") / "data" / "inflections.json")
                         .read_text("utf-8"))
    # if this fails, run: python scripts/build_inflections.py
    assert shipped == inflect.bundled_table()


def test_lookups_outside_the_table_ask_lemminflect() -> None:
    from lemminflect import getAllLemmas, getInflection

    table = inflect._table()
    assert "bully" not in table["forms"] and "bullying" not in table["verb_tags"]
    assert {"bully", "bullied", "bullies", "bullying"} <= set(inflect.lemma_forms("bully"))
    lemma, tags = inflect.verb_tags("bullying")
    assert lemma == getAllLemmas("bullying")["VERB"][0] == "bully" and "VBG" in tags
    assert "bully VBD" not in table["inflect"]
    assert inflect.inflect("bully", "VBD") == getInflection("bully", tag="VBD")[0] == "bullied"


def test_table_and_lemminflect_agree_on_what_the_table_holds() -> None:
    table = inflect._table()
    for word, (lemma, tags) in list(table["verb_tags"].items())[:200]:
        assert inflect._verb_tags(word) == (lemma, frozenset(tags))
    for key, form in table["inflect"].items():
        assert inflect._inflect(*key.split()) == form


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
