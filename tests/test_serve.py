"""``blamelex serve``, in process: the API's answers, its limits and errors, the token, and that
note text never reaches a log line or an error message.

The service's own process model (workers, faults, shutdown) is tested in test_serve_faults.py
and the drafting page in a real browser in test_serve_browser.py.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from blamelex.cli import main  # noqa: E402
from blamelex.formats import ScanResult, get_formatter  # noqa: E402
from blamelex.serve import app as serve_app  # noqa: E402
from blamelex.serve.app import create_app  # noqa: E402
from blamelex.serve.config import ServeConfig, is_loopback  # noqa: E402
from blamelex.sources import Document  # noqa: E402

SECRET = "Zebulon-7731 visited on Tuesday."
"""A distinctive piece of note text: it must never appear in a log line or an error."""
NOTE = f"{SECRET} Chloe (14) is putting herself at risk and chose to go missing again."
TOKEN = "s3cret-token-0123456789abcdef"


def wait_ready(client: TestClient, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if client.get("/v1/ready").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError("the detector did not load")


def client_for(config: ServeConfig, **kwargs: Any) -> TestClient:
    return TestClient(create_app(config, **kwargs))


@pytest.fixture(scope="module")
def client() -> Any:
    with client_for(ServeConfig(load_kwargs={"model": None}, max_batch=5,
                                max_body_bytes=20_000)) as c:
        wait_ready(c)
        yield c


@pytest.fixture(scope="module")
def detector() -> Any:
    import blamelex

    return blamelex.load(model=None)


def cli_json_records(detector: Any, text: str) -> list[dict[str, Any]]:
    """The finding records ``blamelex scan --format json`` writes for ``text``."""
    out = io.StringIO()
    fmt = get_formatter("json", out)
    fmt.begin()
    fmt.write(ScanResult(Document("<request>", text=text), detector.scan(text)))
    fmt.end()
    return list(json.loads(out.getvalue())["files"][0]["findings"])


def test_scan_returns_the_cli_json_records(client: TestClient, detector: Any) -> None:
    r = client.post("/v1/scan", json={"text": NOTE})
    assert r.status_code == 200
    body = r.json()
    expected = cli_json_records(detector, NOTE)
    assert len(expected) >= 2
    assert body["findings"] == expected
    assert body["total_findings"] == len(expected)
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


def test_ids_are_carried_through_a_batch(client: TestClient, detector: Any) -> None:
    items = [{"id": "case-1", "text": NOTE}, {"id": 7, "text": "Safe and well."},
             {"text": "She chose to go missing."}]
    r = client.post("/v1/scan/batch", json={"items": items})
    assert r.status_code == 200
    results = r.json()["results"]
    assert [res.get("id") for res in results] == ["case-1", 7, None]
    first = [{k: v for k, v in f.items() if k != "id"} for f in results[0]["findings"]]
    assert first == cli_json_records(detector, NOTE)
    assert all(f["id"] == "case-1" for f in results[0]["findings"])
    assert results[1]["findings"] == []
    assert r.json()["total_findings"] == sum(len(x["findings"]) for x in results)


def test_rewrite_explain_lexicon_version(client: TestClient, detector: Any) -> None:
    r = client.post("/v1/rewrite", json={"text": NOTE, "id": "n1"})
    assert r.status_code == 200
    new_text, edits = detector.rewrite(NOTE)
    assert r.json()["text"] == new_text and len(r.json()["edits"]) == len(edits)
    assert r.json()["id"] == "n1"
    ex = client.get("/v1/explain/vb101").json()
    assert ex["code"] == "VB101" and ex["suggestions"] and ex["sources"]
    assert client.get("/v1/explain/NOPE999").status_code == 404
    lex = client.get("/v1/lexicon").json()
    assert len(lex["entries"]) == detector.lexicon_size
    one = client.get("/v1/lexicon", params={"category": "adultification"}).json()["entries"]
    assert one and {e["category"] for e in one} == {"adultification"}
    v = client.get("/v1/version").json()
    assert v["package"] == __import__("blamelex").__version__
    assert len(v["lexicon"]["sha256"]) == 64 and v["model"] is None
    assert client.get("/v1/health").json()["status"] == "ok"
    schema = client.get("/v1/openapi.json").json()
    assert {"/v1/scan", "/v1/scan/batch", "/v1/rewrite", "/v1/explain/{code}", "/v1/lexicon",
            "/v1/health", "/v1/ready", "/v1/version"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 404  # Swagger UI would load a CDN script


def test_load_arguments_pass_through() -> None:
    with client_for(ServeConfig(load_kwargs={"model": None, "select": ["VB109"]})) as c:
        wait_ready(c)
        codes = {f["code"] for f in c.post("/v1/scan", json={"text": NOTE}).json()["findings"]}
        assert codes and all(code == "VB109" for code in codes)
        assert c.get("/v1/version").json()["settings"]["select"] == ["VB109"]


@pytest.mark.parametrize("payload, status, loc", [
    ({"text": 5}, 422, ["body", "text"]),
    ({"txt": "x"}, 422, ["body", "text"]),
    ({"items": [{"text": None}]}, 422, ["body", "items", 0, "text"]),
    ({"items": "nope"}, 422, ["body", "items"]),
])
def test_wrong_types_name_the_field(client: TestClient, payload: dict[str, Any], status: int,
                                    loc: list[Any]) -> None:
    path = "/v1/scan/batch" if "items" in payload else "/v1/scan"
    r = client.post(path, json=payload)
    assert r.status_code == status
    assert r.json()["detail"][0]["loc"] == loc
    assert "input" not in r.json()["detail"][0]


def test_malformed_json_and_bad_utf8(client: TestClient) -> None:
    head = {"content-type": "application/json"}
    r = client.post("/v1/scan", content=b'{"text": "' + SECRET.encode(), headers=head)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"
    r = client.post("/v1/scan", content=b'{"text": "' + SECRET.encode() + b'\xff\xfe"}',
                    headers=head)
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"][0]["msg"]
    for answer in (r,):
        assert SECRET not in answer.text


def test_limits_answer_413_with_the_limit(client: TestClient) -> None:
    r = client.post("/v1/scan", json={"text": "x" * 30_000})
    assert r.status_code == 413 and "20000 bytes" in r.json()["detail"]
    r = client.post("/v1/scan/batch", json={"items": [{"text": "a"}] * 6})
    assert r.status_code == 413 and "limit of 5 texts" in r.json()["detail"]


def test_request_text_never_logged_or_echoed(client: TestClient,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client.post("/v1/rewrite", json={"text": NOTE})
    answers = [
        client.post("/v1/scan", json={"text": NOTE}, headers={"x-request-id": "req-42"}),
        client.post("/v1/scan", json={"text": 1, "id": SECRET}),
        client.post("/v1/scan", json={"text": NOTE, "redact": "many"}),
        client.post("/v1/scan/batch", json={"items": [{"text": NOTE}] * 9}),
        client.get(f"/v1/explain/{SECRET}"),
        client.post(f"/v1/{SECRET}", json={"text": NOTE}),
    ]
    assert answers[0].headers["x-request-id"] == "req-42"
    # the service's loggers (the test client's own logger quotes the URLs it asked for)
    logged = "\n".join(r.getMessage() for r in caplog.records
                       if r.name.startswith(("blamelex", "uvicorn", "fastapi", "starlette")))
    assert "id=req-42" in logged and "route=/v1/scan" in logged and "status=200" in logged
    assert SECRET not in logged and "Zebulon" not in logged
    for a in answers[1:]:
        assert a.status_code >= 400
        assert SECRET not in a.text


def test_token_is_required_and_compared(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    config = ServeConfig(load_kwargs={"model": None}, token_file=str(token_file))
    with client_for(config) as c:
        wait_ready(c)  # probes need no token
        assert c.post("/v1/scan", json={"text": NOTE}).status_code == 401
        wrong = {"authorization": "Bearer " + TOKEN[:-1] + "x"}
        assert c.post("/v1/scan", json={"text": NOTE}, headers=wrong).status_code == 401
        good = {"authorization": "Bearer " + TOKEN}
        assert c.post("/v1/scan", json={"text": NOTE}, headers=good).status_code == 200
        assert c.get("/v1/version", headers=good).status_code == 200
        assert c.get("/").status_code == 200  # the page asks for the token itself
    assert TOKEN not in "\n".join(r.getMessage() for r in caplog.records)


def test_not_ready_until_loaded_and_overload_503(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real_load = serve_app.Worker.load

    def slow_load(self: Any) -> None:
        release.wait(30)
        real_load(self)

    monkeypatch.setattr(serve_app.Worker, "load", slow_load)
    config = ServeConfig(load_kwargs={"model": None}, max_pending=1, request_timeout=0.5)
    app = create_app(config)
    with TestClient(app) as c:
        r = c.get("/v1/ready")
        assert r.status_code == 503 and r.json() == {"ready": False}
        r = c.post("/v1/scan", json={"text": NOTE})
        assert r.status_code == 503 and r.headers["retry-after"]
        assert c.get("/v1/health").status_code == 200
        release.set()
        wait_ready(c)
        worker = app.app.state.worker
        # hold the scan thread: the next request waits, one more is refused, at once
        busy = threading.Event()
        worker.executor.submit(busy.wait, 5)
        results: list[Any] = []
        t = threading.Thread(target=lambda: results.append(
            c.post("/v1/scan", json={"text": NOTE})))
        t.start()
        end = time.monotonic() + 5
        while worker.pending < 1 and time.monotonic() < end:
            time.sleep(0.01)
        r = c.post("/v1/scan", json={"text": NOTE})
        assert r.status_code == 503 and "limit" in r.json()["detail"]
        assert r.headers["retry-after"] == "1"
        t.join(10)
        # the waiting request ran out of time: 503 naming the limit, not a hang
        assert results[0].status_code == 503 and "0.5 s" in results[0].json()["detail"]
        busy.set()
        end = time.monotonic() + 5
        while worker.pending and time.monotonic() < end:
            time.sleep(0.01)
        assert c.post("/v1/scan", json={"text": NOTE}).status_code == 200  # recovered


def test_page_is_offline_and_locked_down(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "connect-src 'self'" in csp and "'unsafe-inline'" not in csp
    html = page.text
    assert "http://" not in html and "https://" not in html and "<style" not in html
    js = client.get("/static/draft.js").text
    assert "innerHTML" not in js and "localStorage" not in js and "sessionStorage" not in js
    assert "http" not in client.get("/static/draft.css").text


def test_loopback_rules() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


def test_cli_refuses_remote_binding_without_flag_and_token(
        tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--no-model"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    assert main(["serve", "--host", "0.0.0.0", "--allow-remote", "--no-model"]) == 2
    assert "--token-file" in capsys.readouterr().err
    short = tmp_path / "t"
    short.write_text("abc")
    assert main(["serve", "--token-file", str(short), "--no-model"]) == 2
    err = capsys.readouterr().err
    assert "16 characters" in err and "abc" not in err.replace(str(short), "")


def test_cli_without_the_extra_says_how_to_install(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import blamelex.serve

    monkeypatch.setattr(blamelex.serve, "available", lambda: False)
    assert main(["serve"]) == 2
    assert "pip install 'blamelex[serve]'" in capsys.readouterr().err
