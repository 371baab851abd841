"""The one pipeline and its fusion policy: the model may add and refine, never make the lexicon
worse; the user's selection holds for every finding; the three ways in agree."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import spacy

import blamelex
from blamelex.findings import Modifier, Selection
from blamelex.lexicon import load_lexicon
from blamelex.matching import Candidate
from blamelex.model import has_evidence
from blamelex.model.fusion import FEATURES_FULL, Calibrator
from blamelex.scoring import FusionPolicy, Scorer

LEXICON = load_lexicon()


def _flags(findings: list[blamelex.Finding]) -> bool:
    return bool(findings)


@pytest.mark.slow
def test_default_pipeline_keeps_the_lexicons_own_examples(detector_model) -> None:  # type: ignore[no-untyped-def]
    flag = [(e.code, x) for e in LEXICON for x in e.examples_flag]
    ok = [(e.code, x) for e in LEXICON for x in e.examples_ok]
    found_flag = list(detector_model.scan_many([x for _, x in flag]))
    found_ok = list(detector_model.scan_many([x for _, x in ok]))
    missed = [(code, x) for (code, x), fs in zip(flag, found_flag, strict=True) if not fs]
    flagged_ok = [(code, x) for (code, x), fs in zip(ok, found_ok, strict=True) if fs]
    assert not missed, f"{len(missed)} must-flag examples get no finding: {missed[:5]}"
    assert len(flagged_ok) <= 0.01 * len(ok), f"{len(flagged_ok)} must-not-flag examples flagged"


@pytest.mark.parametrize("text", [
    "YP is streetwise.", "He is streetwise.", "Chloe is streetwise.",
    "Kayla has made a lifestyle choice.",
])
def test_everyday_sentences_are_flagged_with_the_model_as_without(
    detector, detector_model, text: str  # type: ignore[no-untyped-def]
) -> None:
    lexicon_only = [(f.start, f.end, f.code) for f in detector.scan(text)]
    assert lexicon_only
    assert [(f.start, f.end, f.code) for f in detector_model.scan(text)] == lexicon_only


@pytest.mark.parametrize("text", [
    "Medical notes record non-consensual sex with an adult male.",
    "She plugged her phone in to charge.",
    "Ella absconded from police protection at 02:00 with the suspect.",
])
def test_a_context_rule_that_drops_a_candidate_drops_it_with_the_model(
    detector, detector_model, text: str  # type: ignore[no-untyped-def]
) -> None:
    assert detector.scan(text) == [] and detector_model.scan(text) == []


@dataclass
class _Span:
    """Just enough of a spaCy span for the scorer."""

    start_char: int = 0
    end_char: int = 5


def _candidate(code: str, prob: float, modifiers: list[Modifier] | None = None) -> Candidate:
    entry = LEXICON.get(code)
    assert entry is not None
    return Candidate(_Span(), entry, modifiers or [], "lexicon", prob)  # type: ignore[arg-type]


def _calibrator(value: float) -> Calibrator:
    """A calibrator that answers ``value`` whatever it is shown."""
    logit = float(np.log(value / (1 - value)))
    return Calibrator(FEATURES_FULL, np.zeros(len(FEATURES_FULL)), logit)


def test_the_model_cannot_veto_an_untouched_avoid_hit() -> None:
    avoid = next(e.code for e in LEXICON if e.severity == "avoid" and e.prior is None)
    scorer = Scorer(calibrator=_calibrator(0.01), policy=FusionPolicy(caution_veto=0.5))
    result = scorer.score(_candidate(avoid, prob=0.0))
    assert result.keep and result.score == 0.9
    assert [t.stage for t in result.trace] == ["lexicon", "model", "scoring", "scoring"]


def test_the_model_may_lower_a_caution_hit_only_under_the_veto_policy() -> None:
    caution = next(e.code for e in LEXICON if e.severity == "caution" and e.prior is None)
    default = Scorer(calibrator=_calibrator(0.01))
    assert default.score(_candidate(caution, prob=0.0)).keep  # default: no veto
    vetoing = Scorer(calibrator=_calibrator(0.01), policy=FusionPolicy(caution_veto=0.1))
    assert not vetoing.score(_candidate(caution, prob=0.05)).keep
    assert vetoing.score(_candidate(caution, prob=0.2)).keep


def test_the_model_never_overrides_a_context_rule() -> None:
    caution = next(e.code for e in LEXICON if e.severity == "caution" and e.prior is None)
    weakened = Modifier("REPORTED", "reported.test", "said", "factor", 0.5)
    dropped = Modifier("NEGATED", "negation.test", "not", "drop", 0.0)
    raising = Scorer(calibrator=_calibrator(0.99))
    result = raising.score(_candidate(caution, prob=0.99, modifiers=[weakened]))
    assert not result.keep and result.score == pytest.approx(0.35)
    result = raising.score(_candidate(caution, prob=0.99, modifiers=[dropped]))
    assert not result.keep and result.score == 0.0
    # scoring never rewrites the modifiers context wrote
    cand = _candidate(caution, prob=0.99, modifiers=[weakened])
    raising.score(cand)
    assert cand.modifiers == [weakened]


@pytest.mark.parametrize(("text", "start", "end", "ok"), [
    ("Jade is playing up again.", 5, 7, False),            # 'is'
    ("Jade is playing up again.", 0, 7, False),            # 'Jade is'
    ("Seen with staff at the unit.", 10, 15, False),       # one word
    ("Seen with older males at the unit.", 10, 15, False),  # one word
    ("Mia and Priya went out.", 0, 3, False),               # a name
    ("She is seen as of the group.", 14, 20, False),        # stop words only
    ("She was putting herself at risk.", 10, 16, False),   # cuts 'putting'
    ("She was putting herself at risk.", 8, 31, True),
    ("Known for chasing older boys.", 10, 28, True),
])
def test_model_proposals_need_whole_words_and_a_content_word(
    text: str, start: int, end: int, ok: bool
) -> None:
    doc = spacy.blank("en")(text)
    span = doc.char_span(start, end, alignment_mode="expand")
    assert span is not None
    assert has_evidence(span, start, end) is ok


def test_the_selection_applies_to_model_findings() -> None:
    assert Selection.of(["VB1"]).admits("VB100", "responsibility_choice", "caution")
    assert not Selection.of(ignore=["VB1"]).admits("VB100", "responsibility_choice", "caution")
    assert not Selection.of(min_severity="avoid").admits("VB100", "x", "caution")
    assert not Selection.of(["consent_relationship"]).admits("VB100", "responsibility_choice",
                                                             "caution")


@pytest.fixture(scope="module")
def proposing() -> blamelex.Detector:
    """The bundled model with its own proposals switched on (they are off by default)."""
    return blamelex.load(proposal_min_prob=0.3)


def test_ignoring_an_entry_never_turns_its_span_into_a_model_finding(
    proposing: blamelex.Detector,
) -> None:
    text = "Amira is putting herself at risk by going to his flat."
    base = proposing.scan(text)
    target = next(f for f in base if f.code == "VB101")
    ignoring = blamelex.load(proposal_min_prob=0.3, ignore=["VB101"])
    for f in ignoring.scan(text):
        assert not (f.start < target.end and target.start < f.end), f


def test_select_and_min_severity_hold_for_model_findings(proposing: blamelex.Detector) -> None:
    from blamelex.corpus import read_split

    texts = [item["text"] for item in read_split("test")][:150]
    everything = [f for fs in proposing.scan_many(texts) for f in fs]
    assert any(f.origin == "model" for f in everything), "no model finding to filter"
    only_avoid = blamelex.load(proposal_min_prob=0.3, min_severity="avoid")
    assert all(f.severity == "avoid" for fs in only_avoid.scan_many(texts) for f in fs)
    no_model_codes = blamelex.load(proposal_min_prob=0.3, ignore=["VB100", "VB200", "VB300",
                                                                  "VB400", "VB500", "VB600",
                                                                  "VB700", "VB800", "VB900"])
    assert all(f.origin != "model" for fs in no_model_codes.scan_many(texts) for f in fs)


CLI = "import sys; from blamelex.cli import main; sys.exit(main())"
TEXTS = [
    "YP is streetwise.",
    "Amira is putting herself at risk and is a regular misper.",
    "Officers described her as promiscuous.",
    "She plugged her phone in to charge.",
]


def test_the_three_ways_in_agree_by_default() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("blamelex")
    docs = [nlp(t) for t in TEXTS]
    via_spacy = [[(s.start_char, s.end_char, s.label_) for s in doc.spans["blamelex"]]
                 for doc in docs]
    detector = blamelex.load()
    via_load = [[(f.start, f.end, f.code) for f in detector.scan(t)] for t in TEXTS]
    via_cli = []
    for t in TEXTS:
        out = subprocess.run([sys.executable, "-c", CLI, "scan", "-", "--format", "json"],
                             input=t, capture_output=True, text=True, check=False)
        assert out.returncode in (0, 1), out.stderr
        found = json.loads(out.stdout)["files"][0]["findings"]
        via_cli.append([(f["start"], f["end"], f["code"]) for f in found])
    assert via_spacy == via_load == via_cli
    assert any(via_load)


def test_explain_knows_every_code_that_can_be_reported(capsys: pytest.CaptureFixture[str]) -> None:
    from blamelex.cli import main
    from blamelex.lexicon.categories import category_entries

    codes = [e.code for e in LEXICON] + [e.code for e in category_entries().values()]
    assert {"VB100", "VB900"} <= set(codes)
    for code in codes:
        assert main(["explain", code]) == 0, code
        assert capsys.readouterr().out.startswith(code)
    assert main(["explain", "VB9999"]) == 2


OUR_RULES = """\
effects:
  HYPOTHETICAL: {effect: drop}
rules:
  - id: hypothetical.test_entry
    modifier: HYPOTHETICAL
    direction: backward
    window: 6
    patterns: ["test entry"]
"""


def test_an_organisations_own_context_rules_reach_every_way_in(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from blamelex.cli import main

    rules = tmp_path / "our-context.yaml"
    rules.write_text(OUR_RULES, encoding="utf-8")
    note = tmp_path / "note.txt"
    note.write_text("Test entry - Leah is streetwise.\n",
                    encoding="utf-8")
    text = note.read_text(encoding="utf-8")
    assert blamelex.load(model=None).scan(text)
    assert blamelex.load(model=None, extra_context_rules=[rules]).scan(text) == []
    assert blamelex.load(extra_context_rules=[rules]).scan(text) == []
    assert main(["scan", str(note), "--no-model", "--quiet"]) == 1
    assert main(["scan", str(note), "--no-model", "--quiet", "--context-rules", str(rules)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - modifier: NEGATED\n    patterns: [x]\n", encoding="utf-8")
    assert main(["scan", str(note), "--no-model", "--context-rules", str(bad)]) == 2


def test_eval_real_prints_the_real_text_table_per_voice(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from blamelex.cli import main

    items = [
        {"id": "A1", "text": "YP is streetwise and a regular misper.", "kind": "blaming",
         "spans": [{"text": "streetwise", "category": "adultification", "voice": "own"}]},
        {"id": "A2", "text": "School records describe her as promiscuous.", "kind": "blaming",
         "spans": [{"text": "promiscuous", "category": "sexualising_label",
                    "voice": "reported"}]},
        {"id": "A3", "text": "The man drove her to a flat in another town.", "kind": "neutral",
         "spans": []},
        {"id": "A4", "text": "Words such as 'streetwise' blame children.", "kind": "meta",
         "spans": []},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    assert main(["eval", "--real", str(path), "--system", "lexicon", "--format", "json"]) == 0
    table = json.loads(capsys.readouterr().out)["by_voice"]
    assert table["own"]["passages"] == 1 and table["own"]["recall"] == 1.0
    assert table["own"]["phrase_recall"] == 1.0 and table["all"]["neutral_flagged"] == 0.0
    assert table["all"]["passages"] == 2


def test_typographic_apostrophes_read_as_straight_ones(detector) -> None:  # type: ignore[no-untyped-def]
    # word processors write "doesn’t" and "she’s": every lexicon example with an apostrophe
    # gives the same findings with U+2019 in its place (patterns, anchors and context rules)
    import re

    inside = re.compile(r"(?<=\w)'(?=\w)")  # an apostrophe, not a quotation mark
    texts = [x for e in LEXICON for x in (*e.examples_flag, *e.examples_ok) if inside.search(x)]
    assert len(texts) > 50
    curly = [inside.sub("\u2019", t) for t in texts]
    straight = [[(f.start, f.end, f.code) for f in fs] for fs in detector.scan_many(texts)]
    typographic = [[(f.start, f.end, f.code) for f in fs] for fs in detector.scan_many(curly)]
    assert typographic == straight
    assert any(straight)
