"""The HTML audit report: self-contained, counts that match the findings, notes never run as code.

Unit tests read the HTML as written; browser tests render it in headless Chromium (the Debian
``chromium`` package, driven from the command line, nothing downloaded) and read the DOM after
the page script has run.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import struct
import subprocess
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import blamelex
from blamelex.cli import build_parser, main
from blamelex.findings import Finding, Source, Suggestion
from blamelex.formats import ScanResult, get_formatter
from blamelex.formats.html import HtmlFormatter, script_safe_json, segments
from blamelex.sources import Document

TITLE = "blamelex audit report"
MARKER = "xss-marker"
"""An element a payload would add if it ran or were parsed as markup."""
PWNED = "XSS-PWNED"
"""A title a payload would set if it ran."""

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    f"<img src=x onerror=\"document.title='{PWNED}'\">",
    f"<{MARKER}>injected</{MARKER}>",
    f"</script><script>document.title='{PWNED}'</script>",
    f"<b class=\"{MARKER}\">bold</b>",
    "\u2028line\u2029separators<!--",
]

# Fictional notes. Each payload sits next to flagged wording so it ends up in the highlighted
# record, and the note text around a highlight.
NOTES: dict[str, str] = {
    "a-missing.txt": "Chloe (14) is putting herself at risk by going missing. "
                     f"{PAYLOADS[0]} She is streetwise.\n",
    "b-cars.txt": f"Logged: {PAYLOADS[1]}\nDanny (13) chose to go missing again and was "
                  "sexually active with older men.\n",
    "c-clean.txt": "Welfare check completed. Safe and well.\n",
    "d-engage.txt": f"{PAYLOADS[2]} Priya refused to engage. {PAYLOADS[3]} {PAYLOADS[4]}\n"
                    f"Known to go missing. {PAYLOADS[5]} {PAYLOADS[6]}\n",
}
BAD_NAME = f"<img src=x onerror=alert(1)><{MARKER}>.txt"
"""A file name is note data too: it must be escaped wherever the path is shown."""


class Page(HTMLParser):
    """The parts of an HTML page these tests look at: tags, counts, scripts, title."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.counts: dict[tuple[str, str], str] = {}
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.styles: list[str] = []
        self.title = ""
        self._count: tuple[str, str] | None = None
        self._raw: tuple[str, dict[str, str]] | None = None
        self._buf: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if "data-count" in a:
            self._count = (a["data-count"], a.get("data-key", ""))
            self._buf = []
        if tag in {"script", "style", "title"}:
            self._raw = (tag, a)
            self._buf = []

    def handle_data(self, data: str) -> None:
        if self._count is not None or self._raw is not None:
            self._buf.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._count is not None:
            self.counts[self._count] = "".join(self._buf).strip()
            self._count = None
        if self._raw is not None and tag == self._raw[0]:
            text = "".join(self._buf)
            if tag == "script":
                self.scripts.append((self._raw[1], text))
            elif tag == "style":
                self.styles.append(text)
            else:
                self.title = text
            self._raw = None

    def find(self, tag: str, cls: str | None = None) -> list[dict[str, str]]:
        """Attributes of every element with this tag (and this class, if given)."""
        return [a for t, a in self.tags
                if t == tag and (cls is None or cls in a.get("class", "").split())]

    def data(self) -> dict[str, Any]:
        """The report's embedded JSON."""
        blobs = [text for a, text in self.scripts if a.get("id") == "report-data"]
        assert len(blobs) == 1
        return dict(json.loads(blobs[0]))

    def count(self, kind: str, key: str) -> int:
        """A summary number shown in the page."""
        return int(self.counts[(kind, key)])


def build(results: list[ScanResult], fmt: str = "html", **options: Any) -> str:
    """Run one formatter over the results and return what it wrote."""
    out = io.StringIO()
    formatter = get_formatter(fmt, out, **options)
    formatter.begin()
    for r in results:
        formatter.write(r)
    formatter.end()
    return out.getvalue()


def scan_results(detector: blamelex.Detector) -> list[ScanResult]:
    """The fictional notes scanned, with kept record columns, plus an error and a skip."""
    teams = ["North <b>team</b>", "South & Co", "North <b>team</b>", "East"]
    results = []
    for i, (name, text) in enumerate(sorted(NOTES.items())):
        # As blamelex.records reads an export: the id column is carried under its own name.
        case = f"CASE-{i}<script>alert(1)</script>"
        doc = Document(f"notes/{name}", text=text, record_id=case)
        extra = {"case_id": case, "team": teams[i]}
        results.append(ScanResult(doc, detector.scan(text), extra))
    results.append(ScanResult(Document(f"notes/{BAD_NAME}", error="permission denied"), []))
    results.append(ScanResult(Document("notes/blob.txt", skipped="binary file"), []))
    return results


@pytest.fixture(scope="module")
def results(detector: blamelex.Detector) -> list[ScanResult]:
    return scan_results(detector)


@pytest.fixture(scope="module")
def report(results: list[ScanResult]) -> str:
    return build(results, version="test", generated="2024-01-01 00:00 UTC")


# ---------------------------------------------------------------------------- unit tests


def test_no_external_assets_and_csp_allows_only_own_code(report: str) -> None:
    page = Page(report)
    for tag, attrs in page.tags:
        assert tag not in {"link", "img", "iframe", "object", "embed", "video", "audio",
                           "source", "base"}, tag
        assert not {"src", "srcset", "action", "xlink:href"} & set(attrs), (tag, attrs)
        assert "href" not in attrs, (tag, attrs)  # source links are built by the script
    assert not re.search(r"https?://", "".join(page.styles))
    assert not re.search(r"@import|url\(", "".join(page.styles))
    csp = [a["content"] for t, a in page.tags
           if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1
    policy = dict(part.strip().split(" ", 1) for part in csp[0].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'none'"
    code = [text for a, text in page.scripts if a.get("type") != "application/json"]
    assert len(code) == 1 and len(page.styles) == 1

    def sha(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    # The hashes must match the inline code byte for byte, or the browser would block it.
    assert policy["script-src"] == sha(code[0])
    assert policy["style-src"] == sha(page.styles[0])


def test_embedded_json_has_one_highlight_per_finding(results: list[ScanResult],
                                                     report: str) -> None:
    data = Page(report).data()
    expected = sum(len(r.findings) for r in results)
    assert expected >= 6
    assert len(data["findings"]) == expected
    scanned = [r for r in results if r.document.ok]
    assert len(data["records"]) == len(scanned)
    highlighted: set[int] = set()
    for rec, res in zip(data["records"], scanned, strict=True):
        pieces = [s if isinstance(s, str) else s[0] for s in rec["seg"]]
        assert "".join(pieces) == res.document.text  # the note is shown whole and unchanged
        ids = {i for s in rec["seg"] if isinstance(s, list) for i in s[1]}
        assert ids == set(rec["f"])
        assert [data["findings"][i]["text"] for i in rec["f"]] == [f.text for f in res.findings]
        highlighted |= ids
    assert highlighted == set(range(expected))
    assert data["pageSize"] == 100


def test_xss_payloads_only_escaped(results: list[ScanResult], report: str) -> None:
    for payload in PAYLOADS:
        raw = payload.replace("\u2028", "").replace("\u2029", "")
        assert raw not in report
    assert "\u2028" not in report and "\u2029" not in report
    assert report.lower().count("<script") == 2
    assert report.lower().count("</script") == 2
    page = Page(report)
    assert page.title == TITLE
    assert not page.find(MARKER) and not page.find("img") and not page.find("b", MARKER)
    for _tag, attrs in page.tags:
        assert not any(k.startswith("on") for k in attrs)
    # Escaped, not lost: paths, ids, kept columns and note text come back exactly.
    data = page.data()
    assert data["records"][0]["extra"]["case_id"] == "CASE-0<script>alert(1)</script>"
    assert data["records"][0]["label"] == "CASE-0<script>alert(1)</script>"
    assert PAYLOADS[0] in "".join(s if isinstance(s, str) else s[0]
                                  for s in data["records"][0]["seg"])
    assert f"notes/{BAD_NAME}".replace("<", "&lt;").replace(">", "&gt;") in report
    assert "North &lt;b&gt;team&lt;/b&gt;" in report and "South &amp; Co" in report


def test_finding_fields_from_a_lexicon_are_escaped_and_bad_links_dropped() -> None:
    """An organisation's lexicon is data too: its text and URLs must not become markup."""
    text = "Note: she is putting herself at risk."
    f = Finding(start=13, end=36, text=text[13:36], code="ORG101", category="<b>cat</b>",
                severity="avoid", score=0.9, explanation="<img src=x onerror=alert(1)>",
                suggestions=(Suggestion("<script>alert(2)</script>", 13, 36),),
                sources=(Source("<i>t</i>", "javascript:alert(3)"),), term="<u>term</u>")
    html = build([ScanResult(Document("x.txt", text=text), [f])])
    for raw in ("<b>cat</b>", "<img src=x", "<script>alert(2)", "<i>t</i>", "<u>term</u>"):
        assert raw not in html
    page = Page(html)
    assert page.count("category", "<b>cat</b>") == 1  # the unknown category is still counted
    # The page script only links http(s) URLs; a javascript: URL stays text.
    script = [t for a, t in page.scripts if a.get("type") != "application/json"][0]
    assert "/^https?:\\/\\//i.test" in script
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "document.write" not in script and "eval(" not in script


def test_script_safe_json_round_trips_and_cannot_close_the_script() -> None:
    value = {"a": "</script><!-- & \u2028\u2029 >", "b": ["<", 1, None]}
    text = script_safe_json(value)
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert json.loads(text) == value


def test_segments_split_overlaps_astral_text_and_redaction() -> None:
    text = "ab 😀 putting herself at risk and more text after it."
    start = text.index("putting")
    a = Finding(start, start + 23, text[start:start + 23], "VB101", "responsibility_choice",
                "avoid", 0.9, "x")
    b = Finding(start + 8, start + 30, text[start + 8:start + 30], "VB999", "minimising_risk",
                "caution", 0.6, "y")
    segs = segments(text, [(0, a), (1, b)])
    assert "".join(s if isinstance(s, str) else s[0] for s in segs) == text
    covered = [s for s in segs if isinstance(s, list)]
    assert [s[1] for s in covered] == [[0], [0, 1], [1]]
    assert "".join(s[0] for s in covered) == text[start:start + 30]
    redacted = segments(text, [(0, a)], redact=3)
    assert redacted[0] == 0 and redacted[-1] == 0  # elided text at both ends
    assert "".join(s if isinstance(s, str) else s[0] for s in redacted[1:-1]) == \
        text[start - 3:start + 26]


def test_chunks_of_a_large_file_join_into_one_record() -> None:
    """Chunks carry file-level offsets; the report shows the file once, highlights in place."""
    first, second = "Line one is fine.\n", "Line two: she is streetwise.\n"
    start = len(first) + second.index("streetwise")
    f = Finding(start, start + 10, "streetwise", "VB701", "adultification", "avoid", 0.9, "x")
    chunks = [Document("big.txt", text=first),
              Document("big.txt", text=second, offset=len(first), line_offset=1)]
    html = build([ScanResult(chunks[0], []), ScanResult(chunks[1], [f])])
    data = Page(html).data()
    assert len(data["records"]) == 1
    seg = data["records"][0]["seg"]
    assert "".join(p if isinstance(p, str) else p[0] for p in seg) == first + second
    assert [p for p in seg if isinstance(p, list)] == [["streetwise", [0]]]
    assert (data["findings"][0]["line"], data["findings"][0]["col"]) == (2, 18)


def test_summary_counts_match_findings(results: list[ScanResult], report: str) -> None:
    page = Page(report)
    findings = [f for r in results for f in r.findings]
    assert page.count("total", "findings") == len(findings)
    assert page.count("total", "records") == 4
    assert page.count("total", "with_findings") == sum(1 for r in results if r.findings)
    assert page.count("total", "errors") == 1 and page.count("total", "skipped") == 1
    for cat, n in Counter(f.category for f in findings).items():
        assert page.count("category", cat) == n
    for code, n in Counter(f.code for f in findings).items():
        assert page.count("code", code) == n
    for sev in ("avoid", "caution"):
        assert page.count("severity", sev) == sum(1 for f in findings if f.severity == sev)
    for voice in ("own", "reported"):  # labels used by others beside our own wording
        assert page.count("voice", voice) == sum(1 for f in findings if f.voice == voice)
    teams: Counter[str] = Counter()
    for r in results:
        if r.document.ok:
            teams[r.extra["team"]] += len(r.findings)
    for team, n in teams.items():
        assert page.count("column:team", team) == n
    # The id column (one value per record) is not charted.
    assert not any(kind == "column:case_id" for kind, _ in page.counts)


def test_id_column_not_charted_when_files_and_records_are_mixed() -> None:
    """Plain files scanned with an export carry blank columns; the id column still is no chart."""
    text = "She is streetwise."
    f = Finding(7, 17, "streetwise", "VB701", "adultification", "avoid", 0.9, "x")
    results = [ScanResult(Document("export.csv", text=text, record_id=f"C-{i}"), [f],
                          {"case_id": f"C-{i}", "team": "North"}) for i in range(3)]
    results.append(ScanResult(Document("note.txt", text=text), [f], {"case_id": None,
                                                                   "team": None}))
    page = Page(build(results))
    assert not any(kind == "column:case_id" for kind, _ in page.counts)
    assert page.count("column:team", "North") == 3 and page.count("column:team", "") == 1


def test_errors_and_skips_listed(report: str) -> None:
    page = Page(report)
    rows = page.find("tr", "problem")
    assert len(rows) == 2
    assert "permission denied" in report and "binary file" in report
    assert "notes/blob.txt" in report


def test_ten_thousand_records_render_quickly_and_page_by_hundred() -> None:
    results = many_results(10_000)
    t0 = time.perf_counter()
    html = build(results)
    elapsed = time.perf_counter() - t0
    assert elapsed < 10, f"rendering 10,000 records took {elapsed:.1f}s"
    page = Page(html)
    assert page.count("total", "findings") == 20_000
    assert len(page.data()["records"]) == 10_000
    assert not page.find("article")  # records are built by the script, a page at a time


def test_cli_html_matches_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = write_notes(tmp_path / "notes")
    assert main(["scan", str(notes), "--no-model", "-q", "--format", "json",
                 "-o", str(tmp_path / "r.json")]) == 1
    assert main(["scan", str(notes), "--no-model", "-q", "--format", "html",
                 "-o", str(tmp_path / "r.html")]) == 1
    total = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["total_findings"]
    page = Page((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert total > 0
    assert len(page.data()["findings"]) == total == page.count("total", "findings")
    assert 'content="blamelex ' + blamelex.__version__ in (tmp_path / "r.html").read_text()


# ------------------------------------------------------------------------- browser tests


def many_results(n: int) -> list[ScanResult]:
    """``n`` fictional records with two findings each (built directly: no detector needed)."""
    text = "Record {i}: Leah is putting herself at risk and is known to go missing."
    a0, b0 = text.index("putting"), text.index("known")
    out = []
    for i in range(n):
        t = text.format(i=i)
        shift = len(str(i)) - 3
        a, b = a0 + shift, b0 + shift
        fs = [Finding(a, a + 23, t[a:a + 23], "VB101", "responsibility_choice", "avoid", 0.9,
                      "Children cannot choose to be exploited.",
                      (Suggestion("was at risk of exploitation", a, a + 23),),
                      (Source("NSPCC", "https://learning.nspcc.org.uk/"),)),
              Finding(b, b + 19, t[b:b + 19], "VB504", "minimising_risk", "caution", 0.8,
                      "Each missing episode needs a risk assessment.")]
        out.append(ScanResult(Document(f"r{i}.txt", text=t), fs,
                              {"id": f"R{i:05d}", "team": f"team-{i % 7}"}))
    return out


def write_notes(folder: Path) -> Path:
    """The fictional notes as files, one with a payload for a name."""
    folder.mkdir(parents=True)
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / BAD_NAME).write_text("Tyrese (15) is streetwise.\n", encoding="utf-8")
    return folder


CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not installed (Debian: apt-get install chromium; .ci/run does it)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage", "--mute-audio"]


def chromium(page: Path, tmp_path: Path, *args: str, timeout: float = 60) -> str:
    """Run headless Chromium on a local file; returns its stdout (the DOM with --dump-dom)."""
    assert CHROMIUM is not None
    profile = tmp_path / f"profile-{time.monotonic_ns()}"
    proc = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def with_driver(html: str, js: str) -> str:
    """A copy of the report with a test script appended and allowed by its CSP hash.

    The report's own policy admits only the report's script, so the test adds its hash,
    exactly as it would have to for any other code.
    """
    digest = base64.b64encode(hashlib.sha256(js.encode()).digest()).decode()
    patched = re.sub(r"(script-src 'sha256-[^']+')", rf"\1 'sha256-{digest}'", html, count=1)
    assert patched != html
    return patched.replace("</body>", f"<script>{js}</script></body>")


def dom_highlights(page: Page) -> set[str]:
    """Finding ids highlighted in the rendered DOM (overlapping findings share marks)."""
    return {fid for a in page.find("mark", "hl") for fid in a["data-fids"].split()}


@needs_chromium
def test_browser_renders_counts_and_runs_no_payload(results: list[ScanResult],
                                                    tmp_path: Path) -> None:
    html = build(results, version="test")
    as_json = json.loads(build(results, "json"))
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")

    dom = Page(chromium(path, tmp_path, "--dump-dom"))
    total = as_json["total_findings"]
    findings = [f for entry in as_json["files"] for f in entry["findings"]]
    assert total == len(findings) > 0
    # Every finding is highlighted once in the text and has one details box.
    assert len(dom_highlights(dom)) == total
    assert len(dom.find("details", "finding")) == total
    scanned = [e for e in as_json["files"] if "error" not in e and "skipped" not in e]
    assert len(dom.find("article", "record")) == sum(1 for e in scanned if e["findings"])
    # The summary shows the same numbers as the JSON output of the same scan.
    assert dom.count("total", "findings") == total
    for cat, n in Counter(f["category"] for f in findings).items():
        assert dom.count("category", cat) == n
    for code, n in Counter(f["code"] for f in findings).items():
        assert dom.count("code", code) == n
    for team, n in Counter(f["team"] for f in findings).items():
        assert dom.count("column:team", team) == n
    assert dom.count("total", "errors") == sum(1 for e in as_json["files"] if "error" in e)
    assert len(dom.find("tr", "problem")) == 2
    # No payload ran or became markup.
    assert dom.title == TITLE
    assert not dom.find(MARKER) and not dom.find("img") and not dom.find("b", MARKER)
    assert not any(k.startswith("on") for _, a in dom.tags for k in a)
    # Source links exist, and open outside the report without a referrer.
    links = dom.find("a")
    assert links and all(a["href"].startswith(("https://", "http://")) for a in links)
    assert all(a["rel"] == "noopener noreferrer" for a in links)

    shot = tmp_path / "report.png"
    chromium(path, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000",
             "--hide-scrollbars")
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1280, 2000)


@needs_chromium
def test_browser_severity_filter(results: list[ScanResult], tmp_path: Path) -> None:
    driver = ("(function () { var box = document.querySelector(\"input[name='sev']"
              "[value='caution']\"); box.checked = false;"
              " box.dispatchEvent(new Event('change', {bubbles: true})); }());")
    path = tmp_path / "filtered.html"
    path.write_text(with_driver(build(results), driver), encoding="utf-8")
    dom = Page(chromium(path, tmp_path, "--dump-dom"))
    findings = dom.data()["findings"]
    shown = dom_highlights(dom)
    assert shown == {str(i) for i, f in enumerate(findings) if f["sev"] == "avoid"}
    assert 0 < len(shown) < len(findings)
    assert len(dom.find("details", "finding")) == len(shown)


@needs_chromium
def test_browser_ten_thousand_records_one_page_at_a_time(tmp_path: Path) -> None:
    driver = ("(function () { document.querySelector('nav.pager button:last-child').click();"
              " }());")
    path = tmp_path / "big.html"
    path.write_text(with_driver(build(many_results(10_000)), driver), encoding="utf-8")
    t0 = time.perf_counter()
    dom = Page(chromium(path, tmp_path, "--dump-dom", timeout=90))
    elapsed = time.perf_counter() - t0
    assert elapsed < 30, f"Chromium took {elapsed:.1f}s to render 10,000 records"
    cards = dom.find("article", "record")
    assert len(cards) == 100
    assert cards[0]["id"] == "rec-100"  # the driver clicked Next: the second page
    assert len(dom_highlights(dom)) == 200


def test_html_formatter_is_registered() -> None:
    from blamelex.formats import FORMATTERS

    assert FORMATTERS["html"] is HtmlFormatter
    assert isinstance(get_formatter("html", io.StringIO(), version="1"), HtmlFormatter)
    assert build_parser().parse_args(["scan", "-f", "html", "x"]).format == "html"
