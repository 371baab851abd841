"""Voice (issue 15): wording the text attributes to a professional, agency, court or record is a
finding in voice ``reported``; the text's own wording is ``own``. Attribution decides, quotation
marks alone decide nothing, and the child's own words, a parent's or suspect's claim, negated
labels and meta-discussion give no finding. Every output carries the voice; ``--voice`` and
``load(voice=...)`` filter; a reported finding's suggestion asks for attribution and ``rewrite``
never changes it; ``summary``, the HTML report and ``eval`` count by voice.

Every sentence here is fictional, written for these tests in a UK case-note register.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import blamelex
from blamelex.cli import main
from blamelex.evaluate import evaluate, format_real_table, real_text_metrics
from blamelex.findings import FLAT_FIELDS, Finding, flat
from blamelex.formats import ScanResult, get_formatter
from blamelex.rephrase import ATTRIBUTION
from blamelex.sources import Document
from blamelex.summary import format_summary, summarise

Check = Callable[[list[Finding]], bool]


def reported(code: str) -> Check:
    """One finding with this code, in voice ``reported``, and nothing in voice ``own``."""
    return lambda fs: [(f.code, f.voice) for f in fs] == [(code, "reported")]


def own(code: str) -> Check:
    """One finding with this code, in voice ``own``."""
    return lambda fs: [(f.code, f.voice) for f in fs] == [(code, "own")]


def nothing(fs: list[Finding]) -> bool:
    return not fs


def none_reported(fs: list[Finding]) -> bool:
    return all(f.voice != "reported" for f in fs)


# (id, sentence, expected). Pairs sit together: the same label with and without what decides.
CASES: list[Any] = [
    # -- a professional, agency, court or record used the label: reported ------------------
    ("prof.described", "Officers described Jade as promiscuous.", reported("VB301")),
    ("prof.described.own", "Jade is promiscuous.", own("VB301")),
    ("prof.recorded", "The social worker recorded that Kayden was putting himself at risk.",
     reported("VB101")),
    ("prof.recorded.own", "Kayden was putting himself at risk.", own("VB101")),
    ("prof.records", "School records refer to Kayden as a drug dealer.", reported("VB401")),
    ("prof.records.own", "Kayden is a drug dealer.", own("VB401")),
    ("prof.court", "The judge said Jade was sexually experienced.", reported("VB316")),
    ("prof.court.own", "Jade is sexually experienced.", own("VB316")),
    ("prof.per", "Per staff, Kayden is streetwise.", reported("VB701")),
    ("prof.per.own", "Kayden is streetwise.", own("VB701")),
    ("prof.according", "According to the school, Kayden is streetwise.", reported("VB701")),
    pytest.param("prof.per_care_staff", "Per care staff, Jade is streetwise.",
                 reported("VB701"), id="prof.per_care_staff"),
    # -- passive: was labelled / described as / classed as: reported ------------------------
    ("passive.described", "Jade was described as streetwise.", reported("VB701")),
    ("passive.described.in", "Kayden is described in his file as streetwise.",
     reported("VB701")),
    ("passive.labelled", "Jade was labelled a regular misper by the MASH.", reported("VB501")),
    ("passive.labelled.own", "Jade is a regular misper.", own("VB501")),
    ("passive.classed", "Jade was classed as promiscuous.", reported("VB301")),
    pytest.param("passive.classed_runaway", "Kayden was classed as a runaway by night staff.",
                 reported("VB912"), id="passive.classed_runaway"),
    # -- the child's own words recorded with concern: no finding ------------------------------
    ("child.words", 'Jade calls him her "boyfriend"; he is 24 and this is being treated as '
                    "grooming.", nothing),
    ("child.words.adopted", "Jade's 24-year-old boyfriend collected her from school.",
     own("VB205")),
    ("child.said", 'Jade said "I can look after myself", which is a worry given the men she is '
                   "with.", nothing),
    ("child.said.own", "Jade can look after herself.", own("VB710")),
    ("child.debt", 'Kayden said he "owes them money" and is frightened; this is being treated '
                   "as criminal exploitation.", nothing),
    ("child.debt.own", "Kayden owes them money.", own("VB820")),
    # -- a parent's or suspect's claim attributed to them: no finding; a professional's: reported
    ("parent.claim", "Mum says Jade is a liar.", nothing),
    ("parent.claim.prof", "Her teacher says Jade is a liar.", reported("VB609")),
    ("parent.claim.own", "Jade is a liar.", own("VB609")),
    ("suspect.claim", "The suspect told officers that Jade was sexually active.", nothing),
    ("suspect.claim.own", "Jade is sexually active.", own("VB321")),
    # -- negated or rejected labels: no finding ------------------------------------------------
    ("negated.lifestyle", "It is not a lifestyle choice.", nothing),
    ("negated.lifestyle.own", "It is a lifestyle choice.", own("VB105")),
    ("negated.prof", "Officers did not describe Jade as promiscuous.", nothing),
    ("negated.passive", "Jade was not described as streetwise in the referral.", nothing),
    ("negated.evidence", "There is no evidence that Jade chose this lifestyle.", nothing),
    ("negated.evidence.own", "Jade chose this lifestyle.", own("VB106")),
    # -- meta-discussion of the words: no finding ----------------------------------------------
    ("meta.reminded", 'Staff were reminded not to write "risky behaviour".', nothing),
    ("meta.reminded.own", "Jade has engaged in risky behaviour.", own("VB113")),
    ("meta.audit", 'The audit counted how often the term "streetwise" appeared in case files.',
     nothing),
    ("meta.guidance", "Guidance says practitioners should never describe a child as "
                      "promiscuous.", nothing),
    ("meta.audit.prof", "The referral from the school said Kayden was streetwise.",
     reported("VB701")),
    pytest.param("meta.staff_told", 'Staff were told that "streetwise" should not appear in '
                                    "assessments.", nothing, id="meta.staff_told"),
    # -- quotation marks alone decide nothing --------------------------------------------------
    ("quotes.alone", 'Jade is "streetwise".', none_reported),
    ("quotes.alone.promiscuous", 'Jade is "promiscuous".', none_reported),
    ("quotes.attributed", 'Officers described Jade as "promiscuous".', reported("VB301")),
    ("quotes.attributed.school", 'The school said Jade was "streetwise".', reported("VB701")),
    ("quotes.passive", 'Jade was labelled "promiscuous" by officers.', reported("VB301")),
    ("quotes.passive.bare", "Jade was labelled promiscuous by officers.", reported("VB301")),
    pytest.param("quotes.called_in_log", "Officers called Jade a prostitute in the 2017 log.",
                 reported("VB306"), id="quotes.called_in_log"),
    # -- plain own wording ---------------------------------------------------------------------
    ("own.plain", "Kyle is a regular misper and is streetwise.",
     lambda fs: [(f.code, f.voice) for f in fs] == [("VB501", "own"), ("VB701", "own")]),
]


def _param(case: Any) -> Any:
    return pytest.param(*case, id=case[0]) if type(case) is tuple else case


@pytest.mark.parametrize(("name", "text", "expected"), [_param(c) for c in CASES])
def test_contrastive_voice(detector: blamelex.Detector, name: str, text: str,
                           expected: Check) -> None:
    found = detector.scan(text)
    assert expected(found), [(f.code, f.voice, f.text, [m.rule for m in f.modifiers])
                             for f in found]


def test_attribution_is_a_context_modifier(detector: blamelex.Detector) -> None:
    """The voice comes from the data-defined ATTRIBUTED modifier, recorded on the finding and
    in its trace, and it lifts the quotation modifier."""
    (f,) = detector.scan('Officers described Jade as "promiscuous".')
    assert [m.name for m in f.modifiers] == ["ATTRIBUTED"]
    assert f.modifiers[0].rule.startswith("attributed.")
    assert f.modifiers[0].effect == "attribute"
    assert f.score == pytest.approx(0.9)  # attribution changes the voice, never the score


# -- selection: load(voice=...), --voice ------------------------------------------------------

MIXED = ("Officers described Jade as promiscuous. Kyle is a regular misper.\n"
         "Jade was labelled streetwise by the school. Kayden is putting himself at risk.\n")


@pytest.fixture(scope="module")
def by_voice() -> dict[str, blamelex.Detector]:
    return {v: blamelex.load(model=None, voice=v) for v in ("own", "reported")}


def test_load_voice_filters(detector: blamelex.Detector,
                            by_voice: dict[str, blamelex.Detector]) -> None:
    every = detector.scan(MIXED)
    assert {f.voice for f in every} == {"own", "reported"}
    for voice, det in by_voice.items():
        assert det.scan(MIXED) == [f for f in every if f.voice == voice]
    with pytest.raises(ValueError, match="voice"):
        blamelex.load(model=None, voice="theirs")


def test_cli_voice_filter_and_text_marks(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    note = tmp_path / "note.txt"
    note.write_text(MIXED, encoding="utf-8")
    lines = {}
    for voice in ("all", "own", "reported"):
        assert main(["scan", str(note), "--no-model", "-q", "--voice", voice]) == 1
        lines[voice] = capsys.readouterr().out.splitlines()
    assert len(lines["all"]) == len(lines["own"]) + len(lines["reported"]) == 4
    assert all("[reported]" in line for line in lines["reported"])
    assert not any("[reported]" in line for line in lines["own"])
    assert sorted(lines["all"]) == sorted(lines["own"] + lines["reported"])
    # the default is all voices
    main(["scan", str(note), "--no-model", "-q"])
    assert capsys.readouterr().out.splitlines() == lines["all"]


# -- every output carries the voice ----------------------------------------------------------


def _formatted(fmt: str, findings: list[Finding], text: str = MIXED, **kw: Any) -> str:
    out = io.StringIO()
    formatter = get_formatter(fmt, out, version="test", **kw)
    formatter.begin()
    formatter.write(ScanResult(Document("notes/mixed.txt", text=text), findings))
    formatter.end()
    return out.getvalue()


@pytest.fixture(scope="module")
def mixed(detector: blamelex.Detector) -> list[Finding]:
    found: list[Finding] = detector.scan(MIXED)
    assert [f.voice for f in found] == ["reported", "own", "reported", "own"]
    return found


def test_api_json_and_flat_rows_carry_voice(mixed: list[Finding]) -> None:
    for f in mixed:
        assert f.to_dict()["voice"] == f.voice
        assert Finding.from_dict(f.to_dict()) == f
        assert flat(f)["voice"] == f.voice
    assert ("voice", "string") in FLAT_FIELDS
    # a finding written before voice existed reads back as the text's own wording
    old = mixed[1].to_dict()
    del old["voice"]
    assert Finding.from_dict(old).voice == "own"


def test_json_jsonl_csv_sarif_carry_voice(mixed: list[Finding]) -> None:
    voices = [f.voice for f in mixed]
    doc = json.loads(_formatted("json", mixed))
    assert [f["voice"] for f in doc["files"][0]["findings"]] == voices
    lines = _formatted("jsonl", mixed).splitlines()
    assert [json.loads(x)["voice"] for x in lines] == voices
    rows = list(csv.DictReader(io.StringIO(_formatted("csv", mixed))))
    assert [r["voice"] for r in rows] == voices
    sarif = json.loads(_formatted("sarif", mixed))
    results = sarif["runs"][0]["results"]
    assert [r["properties"]["voice"] for r in results] == voices
    for r, f in zip(results, mixed, strict=True):
        if f.voice == "reported":
            # someone else's words: marked, an attribution prompt, no fix that would replace them
            assert r["message"]["text"].endswith("[reported]")
            assert "the words of [professional or agency]" in r["properties"]["suggestion"]
            assert "fixes" not in r
        else:
            assert "fixes" in r and "[reported]" not in r["message"]["text"]


def test_spacy_span_attribute_carries_voice(detector: blamelex.Detector) -> None:
    doc = detector.nlp(MIXED)
    spans = list(doc.spans["blamelex"])
    assert [s._.blamelex.voice for s in spans] == ["reported", "own", "reported", "own"]
    assert [f.voice for f in doc._.blamelex] == [s._.blamelex.voice for s in spans]


def test_html_report_counts_and_marks_voice(mixed: list[Finding]) -> None:
    html = _formatted("html", mixed, generated="2026-01-01 00:00 UTC")
    assert 'data-count="voice" data-key="reported">2<' in html
    assert 'data-count="voice" data-key="own">2<' in html
    assert "labels used by others" in html and "our own wording" in html
    assert '<input type="checkbox" name="voice" value="reported" checked>' in html
    blob = html.split('<script type="application/json" id="report-data">', 1)[1]
    data = json.loads(blob.split("</script>", 1)[0])
    assert [f["voice"] for f in data["findings"]] == [f.voice for f in mixed]


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")
def test_html_report_voice_filter_in_browser(mixed: list[Finding], tmp_path: Path) -> None:
    """Unticking 'labels used by others' leaves only the own-voice highlights; reported
    findings are marked in the page (the report's CSP is kept: the driver is added by hash)."""
    import base64
    import hashlib
    import re

    driver = ("(function () { var box = document.querySelector(\"input[name='voice']"
              "[value='reported']\"); box.checked = false;"
              " box.dispatchEvent(new Event('change', {bubbles: true})); }());")
    html = _formatted("html", mixed)
    digest = base64.b64encode(hashlib.sha256(driver.encode()).digest()).decode()
    patched = re.sub(r"(script-src 'sha256-[^']+')", rf"\1 'sha256-{digest}'", html, count=1)
    assert patched != html
    pages = {"all": html, "own": patched.replace("</body>", f"<script>{driver}</script></body>")}
    marks = {}
    for name, page in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_text(page, encoding="utf-8")
        assert CHROMIUM is not None
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-dev-shm-usage",
             f"--user-data-dir={tmp_path / f'profile-{time.monotonic_ns()}'}", "--dump-dom",
             path.resolve().as_uri()],
            capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        dom = proc.stdout
        marks[name] = re.findall(r'<mark class="hl ([^"]*)" data-fids="(\d+)"', dom)
        if name == "all":
            assert dom.count('class="finding ') == 4
            assert dom.count('<span class="voice voice-reported">reported</span>') >= 2
    assert sorted(int(fid) for _, fid in marks["all"]) == [0, 1, 2, 3]
    assert sum("voice-hl-reported" in cls for cls, _ in marks["all"]) == 2
    assert sorted(int(fid) for _, fid in marks["own"]) == [1, 3]


# -- suggestions and rewrite --------------------------------------------------------------------


def test_reported_suggestion_is_an_attribution_prompt(mixed: list[Finding]) -> None:
    for f in mixed:
        first = f.suggestions[0].text
        if f.voice == "reported":
            assert first == ATTRIBUTION.format(text=f.text)
            assert "say who used them" in first and f.text in first
            assert (f.suggestions[0].start, f.suggestions[0].end) == (f.start, f.end)
        else:
            assert "the words of [professional or agency]" not in first


def test_rewrite_never_changes_reported_wording(detector: blamelex.Detector) -> None:
    result = detector.rewrite(MIXED)
    new_text, edits = result
    reported_found = [f for f in detector.scan(MIXED) if f.voice == "reported"]
    for f in reported_found:
        assert f.text in new_text  # left exactly as written
    assert "Officers described Jade as promiscuous." in new_text
    assert "Jade was labelled streetwise by the school." in new_text
    assert "regular misper" not in new_text and "putting himself at risk" not in new_text
    assert len(edits) == 2
    assert sorted((s.finding.text, s.reason) for s in result.skipped) == sorted(
        (f.text, "voice") for f in reported_found)


def test_cli_rewrite_leaves_reported_wording(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    note = tmp_path / "note.txt"
    note.write_text(MIXED, encoding="utf-8")
    assert main(["rewrite", str(note), "--no-model", "--write"]) == 0
    err = capsys.readouterr().err
    written = note.read_text(encoding="utf-8")
    assert "Officers described Jade as promiscuous." in written
    assert "Jade was labelled streetwise by the school." in written
    assert "regular misper" not in written
    assert "2 finding(s) need a manual rewrite" in err
    assert err.count("another person's words are not rewritten") == 2


# -- summary ----------------------------------------------------------------------------------


def test_summary_counts_by_voice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    note = tmp_path / "note.txt"
    note.write_text(MIXED + "Amy is streetwise.\n", encoding="utf-8")
    found = tmp_path / "f.jsonl"
    main(["scan", str(note), "--no-model", "-q", "-f", "jsonl", "-o", str(found)])
    out_json = tmp_path / "s.json"
    assert main(["summary", str(found), "--by", "voice", "-o", str(out_json)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("5 finding(s): 3 in our own wording, 2 labels used by others")
    assert "reported (labels used by others)" in printed and "own (our own wording)" in printed
    summary = json.loads(out_json.read_text())
    assert summary["by_voice"] == {"own": 3, "reported": 2}
    tables = {tuple(t["by"]): t["rows"] for t in summary["tables"]}
    assert {r["voice"]: r["findings"] for r in tables[("voice",)]} == {"own": 3, "reported": 2}
    assert ("voice", "voice") not in tables  # --by voice is the voice table, not a second one


def test_summary_of_findings_written_before_voice() -> None:
    lines = [json.dumps({"code": "VB701", "category": "adultification"}),
             json.dumps({"code": "VB301", "category": "sexualising_label",
                         "voice": "reported"})]
    summary = summarise(lines)
    assert summary.by_voice == {"own": 1, "reported": 1}
    assert format_summary(summary).startswith(
        "2 finding(s): 1 in our own wording, 1 labels used by others (reported)")


# -- eval per voice ----------------------------------------------------------------------------

EVAL_ITEMS: list[dict[str, Any]] = [
    {"id": "v1", "text": "Officers described Jade as promiscuous.",
     "spans": [{"start": 27, "end": 38, "category": "sexualising_label", "voice": "reported"}]},
    {"id": "v2", "text": "Kyle is a regular misper.",
     "spans": [{"start": 10, "end": 24, "category": "minimising_risk", "voice": "own"}]},
    {"id": "v3", "text": "Staff said she was mature for her age.",
     "spans": [{"start": 19, "end": 37, "category": "adultification", "voice": "reported"}]},
    {"id": "v4", "text": "Home visit completed; no concerns.", "spans": []},
]


def test_eval_reports_recall_per_voice_detected_and_voice_correct() -> None:
    preds = [
        [(27, 38, "sexualising_label", "reported")],  # found, right voice
        [(10, 24, "minimising_risk", "own")],          # found, right voice
        [(19, 37, "adultification", "own")],           # found, wrong voice
        [(0, 4, "minimising_risk", "own")],            # a false positive
    ]
    result = evaluate(EVAL_ITEMS, preds)
    assert result["sentence"]["recall"] == 1.0  # overall figures are voice-agnostic
    rep, mine = result["by_voice"]["reported"], result["by_voice"]["own"]
    assert (rep["items"], rep["gold_spans"], rep["predicted_spans"]) == (2, 2, 1)
    assert rep["sentence"]["recall_detected"] == 1.0
    assert rep["sentence"]["recall_voice_correct"] == 0.5
    assert rep["span_overlap"]["recall_detected"] == 1.0
    assert rep["span_overlap"]["recall_voice_correct"] == 0.5
    assert rep["span_overlap"]["precision_voice_correct"] == 1.0
    assert mine["span_overlap"]["recall_voice_correct"] == 1.0
    # own-voice findings: one right, one on a reported span, one false positive
    assert mine["predicted_spans"] == 3
    assert mine["span_overlap"]["precision_detected"] == pytest.approx(2 / 3, abs=1e-4)
    assert mine["span_overlap"]["precision_voice_correct"] == pytest.approx(1 / 3, abs=1e-4)
    assert result["voice_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    # gold without voice (corpus v1): no per-voice figures
    plain = [{**it, "spans": [{k: v for k, v in s.items() if k != "voice"} for s in it["spans"]]}
             for it in EVAL_ITEMS]
    assert "by_voice" not in evaluate(plain, preds)


def test_cli_eval_prints_per_voice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "voiced.jsonl"
    data.write_text("".join(json.dumps(it) + "\n" for it in EVAL_ITEMS), encoding="utf-8")
    assert main(["eval", str(data), "--system", "lexicon"]) == 0
    table = capsys.readouterr().out
    assert "per voice" in table
    assert any(line.startswith("own ") for line in table.splitlines())
    assert any(line.startswith("reported ") for line in table.splitlines())
    assert main(["eval", str(data), "--system", "lexicon", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["by_voice"]) == {"own", "reported"}
    assert result["by_voice"]["reported"]["items"] == 2


def test_eval_real_rows_per_voice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = [
        {"id": "r1", "kind": "blaming", "text": "Officers described Jade as promiscuous.",
         "spans": [{"text": "promiscuous", "category": "sexualising_label",
                    "voice": "reported"}]},
        {"id": "r2", "kind": "blaming", "text": "Kyle is a regular misper.",
         "spans": [{"text": "regular misper", "category": "minimising_risk", "voice": "own"}]},
        {"id": "r3", "kind": "neutral", "text": "Home visit completed; no concerns.",
         "spans": []},
        {"id": "r4", "kind": "meta", "text": 'Staff were reminded not to write "risky behaviour".',
         "spans": []},
    ]
    found = [[(27, 38, "own")], [(10, 24, "own")], [], []]
    assert real_text_metrics(items, found, "reported")["phrase_recall"] == 1.0
    assert real_text_metrics(items, found, "reported")["phrase_recall_voice"] == 0.0
    assert real_text_metrics(items, found, "own")["phrase_recall_voice"] == 1.0
    assert "phrase_recall_voice" not in real_text_metrics(items, [[(27, 38)], [], [], []], "own")
    rows = [(v or "all", real_text_metrics(items, found, v)) for v in (None, "own", "reported")]
    assert "voice-correct" in format_real_table(rows, first="voice")
    path = tmp_path / "real.jsonl"
    path.write_text("".join(json.dumps(it) + "\n" for it in items), encoding="utf-8")
    assert main(["eval", "--real", str(path), "--system", "lexicon"]) == 0
    out = capsys.readouterr().out
    body = [line for line in out.splitlines() if line.startswith("| ")]
    assert [line.split("|")[1].strip() for line in body[2:]] == ["all", "own", "reported"]
    assert "| reported | 1 | 1.000 |" in out


# -- an organisation's own attribution rules ----------------------------------------------------

OUR_RULES = """\
rules:
  - id: attributed.duty_desk
    modifier: ATTRIBUTED
    direction: backward
    window: 8
    patterns: ["per|from the duty desk"]
"""


def test_an_organisation_adds_an_attribution_rule(tmp_path: Path,
                                                  detector: blamelex.Detector) -> None:
    rules = tmp_path / "our-context.yaml"
    rules.write_text(OUR_RULES, encoding="utf-8")
    text = "Per the duty desk, Kayden is streetwise."
    assert [f.voice for f in detector.scan(text)] == ["own"]
    ours = blamelex.load(model=None, extra_context_rules=[rules])
    (f,) = ours.scan(text)
    assert (f.voice, f.modifiers[0].rule) == ("reported", "attributed.duty_desk")
    assert [g.voice for g in ours.scan("Kayden is streetwise.")] == ["own"]
