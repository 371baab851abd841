"""``blamelex serve`` as it runs: a real server process on 127.0.0.1 (uvicorn's supervisor and
its workers, lexicon-only so it starts fast) and clients that misbehave.

A client that disconnects mid-request, a body that arrives slowly, a body over the limit,
invalid UTF-8, a worker killed while requests are running, and a shutdown with a request in
flight: the service keeps answering, and every request it accepted gets an answer or a
connection error its client sees (never a silent loss). Note text never reaches the log.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

pytestmark = pytest.mark.slow

SECRET = "Quillon-5521 visited on Tuesday."
NOTE = f"{SECRET} Chloe (14) is putting herself at risk and chose to go missing again."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``blamelex serve`` in a subprocess; its log (stderr) in a file."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"serve-{self.port}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "blamelex.cli", "serve", "--port", str(self.port),
             "--no-model", *args],
            stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60, times: int = 6) -> None:
        """Ready answers from ``times`` fresh connections in a row (each worker loaded)."""
        end = time.monotonic() + timeout
        streak = 0
        while time.monotonic() < end:
            assert self.proc.poll() is None, self.log_text()
            try:
                ok = httpx.get(f"{self.url}/v1/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                ok = False
            streak = streak + 1 if ok else 0
            if streak >= times:
                return
            time.sleep(0.1)
        raise AssertionError("the service did not become ready:\n" + self.log_text())

    def pids(self, tries: int = 30) -> set[int]:
        """The worker pids that answer health checks (fresh connections spread over them)."""
        found = set()
        for _ in range(tries):
            found.add(httpx.get(f"{self.url}/v1/health", timeout=5).json()["pid"])
        return found

    def log_text(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return int(self.proc.returncode)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("serve"), "--workers", "2", "--body-timeout", "1",
                 "--max-body-bytes", "65536", "--timeout", "5")
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()
    assert SECRET not in srv.log_text() and "Quillon" not in srv.log_text()


def raw(port: int, data: bytes, *, read: bool = True, timeout: float = 10) -> bytes:
    """Send bytes on a fresh connection; the answer up to the server closing (or timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if not read:
            return b""
        return read_answer(s)


def read_answer(s: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
        if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
            break
    return b"".join(chunks)


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def request_head(length: int, path: str = "/v1/scan") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def scan_ok(server: Server) -> None:
    r = httpx.post(f"{server.url}/v1/scan", json={"text": NOTE}, timeout=10)
    assert r.status_code == 200 and r.json()["total_findings"] >= 1


def test_client_that_disconnects_mid_request(server: Server) -> None:
    body = json.dumps({"items": [{"text": NOTE}] * 100}).encode()
    for _ in range(5):
        raw(server.port, request_head(len(body), "/v1/scan/batch") + body[:100], read=False)
        raw(server.port, request_head(len(body), "/v1/scan/batch") + body, read=False)
    scan_ok(server)


def test_slow_body_gets_408_and_others_are_served(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
        slow.sendall(request_head(200) + b'{"text": "')
        t0 = time.monotonic()
        scan_ok(server)  # not held up by the slow client
        answer = read_answer(slow)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"1 s" in answer and time.monotonic() - t0 < 8


def test_body_over_the_limit(server: Server) -> None:
    answer = raw(server.port, request_head(10_000_000))  # refused before a byte is sent
    assert answer.startswith(b"HTTP/1.1 413") and b"65536 bytes" in answer

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"text": "'
        for _ in range(20):
            yield b"x" * 8192
        yield b'"}'

    r = httpx.post(f"{server.url}/v1/scan", content=chunks(),
                   headers={"content-type": "application/json"}, timeout=10)
    assert r.status_code == 413 and "65536 bytes" in r.json()["detail"]
    scan_ok(server)


def test_invalid_utf8(server: Server) -> None:
    body = b'{"text": "' + SECRET.encode() + b' \xc3\x28 caf\xe9"}'
    r = httpx.post(f"{server.url}/v1/scan", content=body,
                   headers={"content-type": "application/json"}, timeout=10)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body"]
    assert SECRET not in r.text
    scan_ok(server)


def test_worker_killed_during_load(server: Server) -> None:
    before = server.pids()
    assert len(before) == 2, before
    outcomes: list[Any] = []
    lock = threading.Lock()
    started = threading.Event()

    def client() -> None:
        with httpx.Client(timeout=15) as c:
            for _ in range(25):
                try:
                    r = c.post(f"{server.url}/v1/scan", json={"text": NOTE})
                    result: Any = r.status_code
                except httpx.TransportError as exc:  # seen by the client: not a silent loss
                    result = type(exc).__name__
                with lock:
                    outcomes.append(result)
                started.set()

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    started.wait(30)
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a request hung"
    assert len(outcomes) == 8 * 25  # every request answered or failed visibly
    errors = [o for o in outcomes if not isinstance(o, int)]
    assert {o for o in outcomes if isinstance(o, int)} <= {200, 503}
    assert len(errors) <= 8, errors  # at most the requests the dead worker held
    assert outcomes.count(200) >= 150
    # the supervisor replaces the dead worker; the service answers throughout
    end = time.monotonic() + 60
    while time.monotonic() < end:
        now = server.pids(10)
        if victim not in now and len(now) == 2:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"worker {victim} not replaced: {now}\n{server.log_text()}")
    server.wait_ready()
    scan_ok(server)
    assert f"Child process [{victim}] died" in server.log_text()


def test_shutdown_finishes_the_request_in_flight(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--workers", "1", "--body-timeout", "10")
    try:
        srv.wait_ready(times=2)
        body = json.dumps({"text": NOTE, "id": "in-flight"}).encode()
        with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as s:
            s.sendall(request_head(len(body)) + body[:20])
            time.sleep(0.3)  # accepted and being read
            srv.proc.send_signal(signal.SIGTERM)
            time.sleep(1.0)  # shutting down: no new connections, this one is finished
            s.sendall(body[20:])
            answer = read_answer(s)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        assert b'"id": "in-flight"' in answer or b'"id":"in-flight"' in answer
        assert srv.proc.wait(30) == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{srv.url}/v1/health", timeout=2)
    finally:
        srv.stop()
    assert SECRET not in srv.log_text()
