"""The spaCy component: entry point, spans, extensions, serialisation, multiprocessing, displaCy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import spacy
from spacy import displacy

import blamelex
from blamelex.component import BlamelexComponent

NOTES = Path(__file__).resolve().parents[1] / "examples" / "notes"
TEXT = "Amira is putting herself at risk. Staff spoke to her at 0300hrs."


def test_add_pipe_without_importing_blamelex() -> None:
    # a fresh interpreter that never imports blamelex: spaCy finds the factory through the
    # package's entry point (spaCy loads its spacy_factories entry points when a Language is
    # made, so blamelex is imported from spacy.blank on)
    code = (
        "import sys, spacy\n"
        "assert 'blamelex' not in sys.modules, 'blamelex imported before spaCy needed it'\n"
        "nlp = spacy.blank('en')\n"
        "nlp.add_pipe('blamelex')\n"
        "assert 'blamelex' in sys.modules\n"
        f"doc = nlp({TEXT!r})\n"
        "print([(s.text, s.label_) for s in doc.spans['blamelex']])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-800:]
    spans = ast.literal_eval(out.stdout.strip())
    assert len(spans) == 1 and spans[0][0] == "putting herself at risk"
    assert spans[0][1].startswith("VB1")


def test_spans_and_extensions() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("blamelex")
    doc = nlp(TEXT)
    spans = list(doc.spans["blamelex"])
    assert len(spans) == 1
    finding = spans[0]._.blamelex
    assert finding is not None and finding.code == spans[0].label_
    assert TEXT[finding.start:finding.end] == finding.text == spans[0].text
    assert doc._.blamelex == [finding]


def test_capitalised_and_upper_case_words_match() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("blamelex")
    for text in ["Putting herself at risk again.", "YP IS PUTTING HERSELF AT RISK."]:
        assert len(nlp(text).spans["blamelex"]) == 1, text


def test_to_disk_and_spacy_load_round_trip(tmp_path: Path) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("blamelex", config={"ignore": ["VB9"], "threshold": 0.6})
    nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe")
    comp = loaded.get_pipe("blamelex")
    assert isinstance(comp, BlamelexComponent)
    assert comp.threshold == 0.6 and comp.ignore == ["VB9"]
    doc_loaded, doc_orig = loaded(TEXT), nlp(TEXT)
    assert [s.label_ for s in doc_loaded.spans["blamelex"]] == [
        s.label_ for s in doc_orig.spans["blamelex"]]


def test_extra_lexicon_survives_round_trip(tmp_path: Path, extra_lexicon: Path) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("blamelex", config={"extra_lexicons": [str(extra_lexicon)]})
    nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe")
    doc = loaded("The YP was flagged as a frequent runner by the control room.")
    assert "ORG101" in [s.label_ for s in doc.spans["blamelex"]]


def test_pipe_with_two_processes() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("blamelex")
    texts = [TEXT, "Nothing of concern recorded.", TEXT.upper()] * 4
    single = [[f.code for f in d._.blamelex] for d in nlp.pipe(texts)]
    multi = [[f.code for f in d._.blamelex] for d in nlp.pipe(texts, n_process=2, batch_size=2)]
    assert multi == single
    assert sum(map(len, multi)) == 8


def test_scan_many_gives_the_same_findings_on_two_processes(detector: blamelex.Detector) -> None:
    texts = [path.read_text(encoding="utf-8") for path in sorted(NOTES.glob("*.txt"))]
    assert len(texts) >= 12
    texts += [TEXT, "Nothing of concern recorded.", "", "YP IS PUTTING HERSELF AT RISK.",
              "She is a regular misper and was putting herself at risk.",
              "Caf\u00e9 at 0300hrs: she chose to go missing again.",
              "Lone \ud800 surrogate; she is putting herself at risk.",
              "Staff spoke to her at 0300hrs."]
    one = [[f.to_dict() for f in found] for found in detector.scan_many(texts)]
    two = [[f.to_dict() for f in found]
           for found in detector.scan_many(texts, n_process=2, batch_size=3)]
    assert two == one
    assert len(one) == len(texts) and sum(map(len, one)) > 20


def test_displacy_renders_spans() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("blamelex")
    html = displacy.render(nlp(TEXT), style="span", options={"spans_key": "blamelex"})
    assert "putting" in html and "VB1" in html


def test_findings_read_from_the_doc_equal_their_stored_dicts() -> None:
    # the component keeps Finding objects beside the dicts while the doc lives; both must agree,
    # and a doc rebuilt from bytes (no cached objects) reads the same findings
    from spacy.tokens import Doc

    from blamelex.findings import Finding

    nlp = spacy.blank("en")
    nlp.add_pipe("blamelex")
    doc = nlp("She is a regular misper and was putting herself at risk.")
    fresh = [Finding.from_dict(d) for d in doc._.blamelex_data if not d.get("_suppressed")]
    assert doc._.blamelex == fresh and len(fresh) == 2
    rebuilt = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert rebuilt._.blamelex == fresh


def test_findings_are_read_where_spacy_keeps_the_attribute() -> None:
    from blamelex.component import _DATA_ATTR, _DATA_KEY

    nlp = spacy.blank("en")
    nlp.add_pipe("blamelex")
    doc = nlp.make_doc("Notes follow.")
    data = [{"start": 0, "end": 5}]
    doc._.set(_DATA_ATTR, data)  # spaCy's own setter
    assert doc.user_data[_DATA_KEY] is data


def test_a_doc_annotated_again_loses_findings_the_new_settings_do_not_make() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("blamelex")
    doc = nlp(TEXT)
    code = doc._.blamelex[0].code
    strict = spacy.blank("en")
    strict.add_pipe("blamelex", config={"ignore": [code]})
    again = strict.get_pipe("blamelex")(doc)
    assert list(again.spans["blamelex"]) == [] and again._.blamelex == []
    assert nlp.get_pipe("blamelex")(nlp.make_doc("Staff spoke to her."))._.blamelex == []
