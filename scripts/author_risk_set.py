"""Build the risk-grading evaluation set (data/risk/batches/rNN.jsonl) from the authored
scenarios in data/risk/scenarios/rNN.py.

Every note is written by hand in a scenario file: a note with slots for an indicator sentence
(``{IND}``) and a grade sentence (``{GS}``), the indicator sentence, the grade the note points to
with and without it (the author's reading of data/risk/rules.md's rules, never the checker's
output), the grade sentences (without and with reasons) and three kinds of reason (one that
cites the indicators, one that is neutral, one that blames the child). This script only fills
the slots to make the minimal pairs and writes the gold findings the author's labels imply:

    variant  indicator  grade        reasons    gold
    a        yes        understated  none       RG101, RG103
    b        yes        understated  neutral    RG101
    c        yes        matching     citing it  (plain)
    d        no         understated  neutral    (plain)   when the note alone points no higher
    e        no         understated  none       RG103
    f        yes        understated  blaming    RG101, RG104
    g        no         understated  blaming    RG104
    h        yes        no grade     -          (plain)

"absent" scenarios give five variants (absent with and without the indicator, whereabouts
unknown; absent with whereabouts known; missing with a grade and reasons, with and without the
indicator). Stand-alone notes (other senses, meta text, notes without a grade) are written out
whole. Gold spans are the grade (or status) words, with character offsets.

    python scripts/author_risk_set.py          # writes data/risk/batches/*.jsonl
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "data" / "risk" / "scenarios"
OUT = ROOT / "data" / "risk" / "batches"
RANK = {"absent": 0, "nar": 0, "very low": 0, "low": 1, "medium": 2, "high": 3}
_MARK = "\u0001"


def _render(template: str, **slots: str) -> tuple[str, list[tuple[int, int]]]:
    """Fill ``template``; the grade words are wrapped in _MARK in the slots and come back as
    offsets."""
    text = template
    for key, value in slots.items():
        text = text.replace("{" + key + "}", value)
    text = " ".join(text.split()) if "\n" not in template else text
    spans = []
    out = []
    pos = 0
    inside = None
    for ch in text:
        if ch == _MARK:
            if inside is None:
                inside = pos
            else:
                spans.append((inside, pos))
                inside = None
            continue
        out.append(ch)
        pos += 1
    return "".join(out), spans


def _grade_sentence(form: str, grade: str, reason: str | None) -> str:
    g = f"{_MARK}{grade}{_MARK}"
    if reason is None:
        return form["plain"].replace("{G}", g)  # type: ignore[index]
    return form["reasoned"].replace("{G}", g).replace("{R}", reason)  # type: ignore[index]


def _rank(grade: str) -> int:
    key = grade.lower().strip()
    aliases = {"l": "low", "m": "medium", "med": "medium", "h": "high",
               "no apparent risk": "nar", "very low": "very low"}
    return RANK[aliases.get(key, key)]


def scenario_items(batch: str, sc: dict) -> list[dict]:  # type: ignore[type-arg]
    items = []
    sid = sc["id"]

    def add(variant: str, text_spans: tuple[str, list[tuple[int, int]]], types: list[str],
            note: str) -> None:
        text, spans = text_spans
        findings = [{"type": t, "start": a, "end": b, "text": text[a:b]}
                    for t in types for a, b in spans[-1:]]
        items.append({"id": f"{batch}-{sid}-{variant}", "batch": batch, "pair": f"{batch}-{sid}",
                      "variant": variant, "text": text, "findings": findings, "note": note})

    tpl, ind = sc["text"], sc["ind"]
    if sc.get("kind") == "absent":
        status = sc["status"]
        gs_abs = sc["absent"].replace("{S}", f"{_MARK}{status}{_MARK}")
        gs_known = sc["absent_known"].replace("{S}", f"{_MARK}{status}{_MARK}")
        add("a", _render(tpl, IND=ind, GS=gs_abs), ["RG102", "RG101"],
            "absent, whereabouts unknown, with indicator")
        add("b", _render(tpl, IND="", GS=gs_abs), ["RG102"], "absent, whereabouts unknown")
        add("c", _render(tpl, IND="", GS=gs_known), [], "absent, whereabouts known")
        form = sc["form"]
        add("d", _render(tpl, IND="", GS=_grade_sentence(form, sc["base_grade"],
                                                         sc["reasons"]["neutral"])),
            [], "missing, graded with reasons")
        add("e", _render(tpl, IND=ind, GS=_grade_sentence(form, sc["match_grade"],
                                                          sc["reasons"]["match"])),
            [], "missing, graded as the indicator points, with reasons")
        return items
    form = sc["form"]
    under, match = sc["under"], sc["match"]
    reasons = sc["reasons"]
    assert _rank(under) < _rank(sc["points"]) <= _rank(match), sid
    base_ok = _rank(under) >= _rank(sc.get("base_points", "nar"))
    add("a", _render(tpl, IND=ind, GS=_grade_sentence(form, under, None)), ["RG101", "RG103"],
        "indicator, understated, no reasons")
    add("b", _render(tpl, IND=ind, GS=_grade_sentence(form, under, reasons["neutral"])),
        ["RG101"], "indicator, understated, neutral reasons")
    add("c", _render(tpl, IND=ind, GS=_grade_sentence(form, match, reasons["match"])), [],
        "indicator, matching grade, reasons cite it")
    if base_ok:
        add("d", _render(tpl, IND="", GS=_grade_sentence(form, under, reasons["neutral"])), [],
            "no indicator, grade with reasons")
    add("e", _render(tpl, IND="", GS=_grade_sentence(form, under, None)),
        ["RG103"] if base_ok else ["RG101", "RG103"], "no indicator, no reasons")
    add("f", _render(tpl, IND=ind, GS=_grade_sentence(form, under, reasons["blame"])),
        ["RG101", "RG104"], "indicator, understated, blaming reason")
    add("g", _render(tpl, IND="", GS=_grade_sentence(form, under, reasons["blame"])),
        ["RG104"] if base_ok else ["RG101", "RG104"], "no indicator, blaming reason")
    add("h", _render(tpl, IND=ind, GS=""), [], "indicator, no grade")
    return items


def standalone_items(batch: str, notes: list) -> list[dict]:  # type: ignore[type-arg]
    items = []
    for k, entry in enumerate(notes, 1):
        text, gold = entry[0], entry[1] if len(entry) > 1 else []
        findings = []
        for t, words in gold:
            start = text.index(words)
            findings.append({"type": t, "start": start, "end": start + len(words), "text": words})
        items.append({"id": f"{batch}-s{k:02d}", "batch": batch, "pair": None, "variant": "s",
                      "text": text, "findings": findings,
                      "note": entry[2] if len(entry) > 2 else ""})
    return items


def build(batch_file: Path) -> list[dict]:  # type: ignore[type-arg]
    spec = importlib.util.spec_from_file_location(batch_file.stem, batch_file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    batch = batch_file.stem
    items = []
    for sc in module.SCENARIOS:
        items += scenario_items(batch, sc)
    items += standalone_items(batch, module.STANDALONE)
    for it in items:
        for f in it["findings"]:
            assert it["text"][f["start"]:f["end"]] == f["text"], it["id"]
    return items


def main(argv: list[str]) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    files = sorted(SCENARIOS.glob("r*.py")) if not argv else [Path(a) for a in argv]
    for path in files:
        items = build(path)
        with open(OUT / f"{path.stem}.jsonl", "w", encoding="utf-8") as fh:
            for it in items:
                fh.write(json.dumps(it, ensure_ascii=False) + "\n")
        plain = sum(1 for it in items if not it["findings"])
        print(f"{path.stem}: {len(items)} notes ({plain} plain)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
