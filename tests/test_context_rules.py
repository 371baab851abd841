"""Context-rule files: validation with file:line errors, and an organisation's own rules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import spacy

from blamelex.context import ContextRules
from blamelex.context_rules import ContextRuleError, load_context_rules, modifier_names
from blamelex.lexicon import load_lexicon
from blamelex.matching import Candidate

LEXICON = load_lexicon()
NLP = spacy.blank("en")


def _file(tmp_path: Path, text: str, name: str = "ours.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def _problems(*paths: Path) -> list[str]:
    with pytest.raises(ContextRuleError) as info:
        load_context_rules(list(paths))
    assert str(info.value).startswith(f"{len(info.value.problems)} problem(s)")
    return info.value.problems


def _mods(rules: ContextRules, text: str, code: str, words: str) -> list[str]:
    doc = NLP(text)
    start = text.index(words)
    span = doc.char_span(start, start + len(words))
    assert span is not None
    entry = LEXICON.get(code)
    assert entry is not None
    cand = Candidate(span, entry)
    rules.apply(doc, [cand])
    return [m.name for m in cand.modifiers]


def test_bundled_rules_and_modifier_names() -> None:
    rules = load_context_rules()
    assert rules is load_context_rules()  # read and validated once
    assert modifier_names() == ("NEGATED", "QUOTED", "REPORTED", "META", "REFERENT", "SENSE",
                                "ATTRIBUTED")
    assert rules.effects["QUOTED"].factor == 0.4 and rules.effects["META"].effect == "drop"
    assert {r.id for r in rules.rules} >= {"negation.not", "reported.speech", "meta.term"}
    assert all(r.file == "context_rules.yaml" and r.line > 0 for r in rules.rules)
    assert "old" in rules.referent.age_ends and "of" in rules.referent.collective_links


def test_unknown_key_missing_id_bad_direction_and_effect_name_file_and_line(
        tmp_path: Path) -> None:
    path = _file(tmp_path, """
        effects:
          HYPOTHETICAL: {effect: maybe}
          GUESSED: {effect: factor}
        rules:
          - modifier: NEGATED
            patterns: ["no way"]
          - id: ours.direction
            modifier: NEGATED
            direction: sideways
            patterns: ["not at all"]
          - id: ours.typo
            modifier: NEGATED
            windw: 3
            patterns: ["hardly"]
          - id: ours.modifier
            modifier: NOPE
            patterns: ["unlikely"]
          - id: Ours Bad
            modifier: NEGATED
        colour: blue
        """)
    problems = _problems(path)
    where = str(path)
    assert f"{where}:2: effects: HYPOTHETICAL: effect must be one of drop, factor, attribute " \
           f"(got 'maybe')" in problems
    assert any(p.startswith(f"{where}:3: effects: GUESSED: factor: required") for p in problems)
    assert f"{where}:5: rule without an id: id: required, e.g. negation.not" in problems
    assert f"{where}:9: rule ours.direction: direction must be one of backward, forward, " \
           f"both (got 'sideways')" in problems
    assert any(p.startswith(f"{where}:13: rule ours.typo: unknown key 'windw'")
               for p in problems)
    assert any(p.startswith(f"{where}:16: rule ours.modifier: modifier 'NOPE' has no effect")
               for p in problems)
    assert any(p.startswith(f"{where}:18: rule Ours Bad: id must be lower-case words")
               for p in problems)
    assert f"{where}:18: rule Ours Bad: patterns: required; a list of pattern strings" \
        in problems
    assert any(p.startswith(f"{where}:20: the top level: unknown key 'colour'") for p in problems)
    assert len(problems) == 9, problems


def test_what_only_the_bundled_file_may_set_and_clashes_with_it(tmp_path: Path) -> None:
    path = _file(tmp_path, """
        effects:
          QUOTED: {effect: drop}
        quotation: {modifier: QUOTED, open: ["<"], close: [">"]}
        referent:
          window: 30
          adult:
            - pattern: "handler|handlers"
              gender: unknown
              age: 30
        rules:
          - id: negation.not
            modifier: NEGATED
            patterns: ["nah"]
        """)
    problems = _problems(path)
    where = str(path)
    assert any(p.startswith(f"{where}:2: effects: QUOTED is already defined at "
                            f"context_rules.yaml:") for p in problems)
    assert any(p.startswith(f"{where}:3: 'quotation' can only be set in the bundled rules")
               for p in problems)
    assert any(p.startswith(f"{where}:5: referent: 'window' can only be set in the bundled")
               for p in problems)
    assert any(p.startswith(f"{where}:9: referent: adult cue: unknown key 'age'")
               for p in problems)
    assert any(p.startswith(f"{where}:11: rule negation.not: id already used at "
                            f"context_rules.yaml:") for p in problems)


def test_yaml_errors_and_repeated_keys(tmp_path: Path) -> None:
    broken = _file(tmp_path, "rules: [\n", "broken.yaml")
    assert _problems(broken)[0].startswith(f"{broken}:2: invalid YAML")
    twice = _file(tmp_path, """
        rules:
          - id: ours.twice
            modifier: NEGATED
            modifier: META
            patterns: ["no way"]
        """, "twice.yaml")
    assert _problems(twice) == [f"{twice}:4: key 'modifier' repeated (first at line 3)"]
    missing = tmp_path / "missing.yaml"
    assert _problems(missing)[0].startswith(f"{missing}: cannot read")


def test_a_pattern_that_does_not_compile_names_its_line(tmp_path: Path) -> None:
    path = _file(tmp_path, """
        rules:
          - id: ours.pattern
            modifier: NEGATED
            patterns:
              - "not ever"
              - "* alone"
        """)
    with pytest.raises(ContextRuleError) as info:
        ContextRules(NLP.vocab, LEXICON.sets, extra_rules=[path])
    (problem,) = info.value.problems
    assert problem.startswith(f"{path}:6: rule ours.pattern: '* alone': pattern")


def test_own_rules_add_a_modifier_and_cues(tmp_path: Path) -> None:
    path = _file(tmp_path, """
        effects:
          HYPOTHETICAL: {effect: factor, factor: 0.5}
        terminators: [and]
        rules:
          - id: hypothetical.if
            modifier: HYPOTHETICAL
            direction: backward
            window: 5
            patterns: ["if|whether"]
        referent:
          adult:
            - pattern: "handler|handlers"
              gender: unknown
        """)
    bundled = ContextRules(NLP.vocab, LEXICON.sets)
    ours = ContextRules(NLP.vocab, LEXICON.sets, extra_rules=[path])
    assert ours.spec.modifiers()[-1] == "HYPOTHETICAL" and ours.spec.files[-1] == str(path)
    assert ours.rules["hypothetical.if"].terminators >= {"and", "but", ";"}
    text = "Staff asked if she is putting herself at risk."
    assert _mods(bundled, text, "VB101", "putting herself at risk") == []
    assert _mods(ours, text, "VB101", "putting herself at risk") == ["HYPOTHETICAL"]
    text = "Staff asked if so and she is putting herself at risk."
    assert _mods(ours, text, "VB101", "putting herself at risk") == []  # the file's terminator
    text = "The handler is putting her at risk."
    assert _mods(bundled, text, "VB101", "putting her at risk") == []
    assert _mods(ours, text, "VB101", "putting her at risk") == ["REFERENT"]


def test_senses_are_marked_first_with_the_sense_effect() -> None:
    rules = ContextRules(NLP.vocab, LEXICON.sets)
    text = "There is no evidence that she was putting herself at risk."
    doc = NLP(text)
    span = doc.char_span(text.index("putting"), len(text) - 1)
    assert span is not None
    entry = LEXICON.get("VB101")
    assert entry is not None
    cand = Candidate(span, entry)
    rules.apply(doc, [cand], senses={"VB101": [(span.start, span.start + 2)]})
    sense, negated = cand.modifiers
    assert (sense.name, sense.rule, sense.trigger, sense.effect, sense.factor) == (
        "SENSE", "sense.VB101", "putting herself", "drop", 0.0)
    assert negated.name == "NEGATED"
