"""The drafting page in a real browser: headless Chromium (Debian's ``chromium``, driven by
Playwright through ``executable_path``; nothing is downloaded) against ``blamelex serve`` on
127.0.0.1.

A person types a note; the highlights and cards must equal the API's findings (offsets
included, with a character outside the BMP before them); a suggestion is applied with the
keyboard and undone; a screenshot is taken; axe-core (vendored, tests/vendor/README.md) finds
no serious or critical accessibility violation; the page fetches nothing but its own files and
the API, and breaks no rule of its Content-Security-Policy.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

from blamelex.serve.app import create_app  # noqa: E402
from blamelex.serve.config import ServeConfig  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (Debian: "
                                                "apt-get install chromium)"),
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"

NOTE = ("\U0001F4DD Visit 3 May. Chloe (14) is putting herself at risk and chose to go "
        "missing again. Mum said she is streetwise.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(create_app(ServeConfig(load_kwargs={"model": None})),
                            host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            if httpx.get(f"{url}/v1/ready", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    else:
        raise AssertionError("the service did not become ready")
    yield url
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                    "--disable-background-networking",
                                    "--disable-component-update", "--no-first-run"])
        yield b
        b.close()


class Watch:
    """What the page asked for and what the console said (CSP violations show there)."""

    def __init__(self, page: Any, base: str) -> None:
        self.requests: list[str] = []
        self.console: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.base = base

    def check(self) -> None:
        assert all(u.startswith(self.base + "/") for u in self.requests), self.requests
        assert not [c for c in self.console if c.startswith(("error", "pageerror"))], self.console


def api_findings(base: str, text: str) -> list[dict[str, Any]]:
    r = httpx.post(f"{base}/v1/scan", json={"text": text}, timeout=10)
    assert r.status_code == 200
    return list(r.json()["findings"])


def shown(page: Any) -> list[tuple[int, int, str]]:
    cards = page.eval_on_selector_all(
        ".card", "els => els.map(e => [+e.dataset.start, +e.dataset.end, e.dataset.code])")
    return [tuple(c) for c in cards]


def highlighted(page: Any, count: int) -> list[str]:
    """For each finding index, the text of the highlights that stand for it, joined."""
    marks = page.eval_on_selector_all(
        "#preview a.hl", "els => els.map(e => [e.dataset.findings, e.textContent])")
    return ["".join(t for ids, t in marks if str(i) in ids.split()) for i in range(count)]


def wait_for_findings(page: Any, expected: list[dict[str, Any]]) -> None:
    want = json.dumps([[f["start"], f["end"], f["code"]] for f in expected],
                      separators=(",", ":"))
    page.wait_for_function(
        "want => JSON.stringify([...document.querySelectorAll('.card')].map(e => "
        "[+e.dataset.start, +e.dataset.end, e.dataset.code])) === want", arg=want,
        timeout=15_000)


def test_typing_highlights_apply_undo_screenshot(base_url: str, browser: Any,
                                                 tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, base_url)
    page.goto(f"{base_url}/")
    page.locator("#note").click()
    page.keyboard.type(NOTE, delay=4)  # debounced: scans when typing pauses
    expected = api_findings(base_url, NOTE)
    assert len(expected) >= 2
    wait_for_findings(page, expected)
    assert shown(page) == [(f["start"], f["end"], f["code"]) for f in expected]
    assert highlighted(page, len(expected)) == [f["text"] for f in expected]
    status = page.locator("#status").text_content()
    assert status == f"{len(expected)} findings."
    # every card shows the explanation, suggestions and sources of its finding
    first = page.locator(".card").first
    assert expected[0]["explanation"] in first.text_content()
    assert first.locator("button.apply").count() == len(expected[0]["suggestions"])
    assert first.locator("details a").count() == len(expected[0]["sources"])

    shot = tmp_path / "drafting-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000

    # apply the first suggestion from the keyboard: focus the button, press Enter
    s = expected[0]["suggestions"][0]
    page.locator("#finding-0 button.apply").first.focus()
    page.keyboard.press("Enter")
    applied = NOTE[: s["start"]] + s["text"] + NOTE[s["end"]:]
    page.wait_for_function("want => document.getElementById('note').value === want", arg=applied)
    after = api_findings(base_url, applied)
    assert len(after) < len(expected)
    wait_for_findings(page, after)
    assert page.evaluate("document.activeElement.id") == "note"

    page.locator("#undo").click()
    page.wait_for_function("want => document.getElementById('note').value === want", arg=NOTE)
    wait_for_findings(page, expected)
    assert page.locator("#undo").is_disabled()

    # keyboard: Tab from the note reaches Undo... and the highlights are links to the cards
    page.locator("#preview a.hl").first.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "finding-0"
    watch.check()
    page.close()


def test_voice_and_risk_grading_are_shown_when_present(base_url: str, browser: Any) -> None:
    # The fields other features add to a finding (voice; the risk-grading category): the
    # page shows them whenever the API's records carry them.
    text = "She said he was drunk. Risk graded low as she is streetwise."
    base = api_findings(base_url, "Chloe is putting herself at risk.")[0]
    findings = [
        {**base, "start": 0, "end": 3, "text": "She", "code": "VB101", "voice": "reported"},
        {**base, "start": 23, "end": 39, "text": "Risk graded low", "code": "RG101",
         "category": "risk_grading", "severity": "avoid", "suggestions": [], "voice": "own"},
    ]
    findings[1]["end"] = 38
    page = browser.new_page()
    page.route(f"{base_url}/v1/scan", lambda route: route.fulfill(
        status=200, content_type="application/json",
        body=json.dumps({"path": "<request>", "findings": findings, "total_findings": 2})))
    page.goto(f"{base_url}/")
    page.locator("#note").fill(text)
    page.wait_for_function("() => document.querySelectorAll('.card').length === 2")
    assert page.locator("#risk-section").is_visible()
    assert page.locator("#risk .card").count() == 1
    assert "RG101" in page.locator("#risk .card").text_content()
    assert "reported" in page.locator("#findings .card").text_content()
    assert page.locator("#preview a.cat-risk_grading").text_content() == "Risk graded low"
    page.close()


def test_accessibility_axe_no_serious_violations(base_url: str, browser: Any) -> None:
    if not AXE.exists():
        pytest.skip("tests/vendor/axe.min.js (axe-core from npm) is not vendored here")
    source = AXE.read_text(encoding="utf-8")
    assert hashlib.sha256(source.encode("utf-8")).hexdigest() == AXE_SHA256
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base_url}/")
    page.locator("#note").fill(NOTE)
    page.wait_for_function("() => document.querySelectorAll('.card').length >= 2",
                           timeout=15_000)
    page.locator("#finding-0 details summary").click()  # an open sources list too
    page.evaluate(source)  # through the DevTools protocol: the page's CSP is not relaxed
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})")
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    assert result["passes"], "axe ran no checks"
    page.close()
