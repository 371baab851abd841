"""The ASGI application of ``blamelex serve``: a versioned JSON API and the drafting page.

One detector per worker process, loaded at start-up on the worker's single scan thread; until it
is loaded ``/v1/ready`` answers 503 and so do the endpoints that need it. Scans run on that one
thread, so the event loop keeps answering (health, readiness, refusals) while a scan runs.

Case-note text is sensitive. It is never written to a log line, an error message or a metric:
the access log carries the request id, method, route template, status, body sizes and timing;
validation errors carry the field's location and the kind of error, never the input.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from starlette.exceptions import HTTPException as StarletteHTTPException

from blamelex import __version__
from blamelex.serve.config import ServeConfig, read_token

log = logging.getLogger("blamelex.serve")

API = "/v1"
OPEN_PATHS = frozenset({f"{API}/health", f"{API}/ready", f"{API}/openapi.json", "/",
                        "/static/draft.js", "/static/draft.css", "/favicon.ico"})
"""Paths answered without the API token (probes, the schema and the page's own files; the
page asks for the token when the API wants one)."""

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self'; font-src 'none'; object-src 'none'; frame-src 'none'; "
       "worker-src 'none'; manifest-src 'none'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
"""The page loads only its own script and style and talks only to this service (no fonts,
CDNs or inline code); the JSON answers carry the same header."""

SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-resource-policy", b"same-origin"),
]

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
STARTUP_FAILURE = 3
"""uvicorn's exit code for a worker that cannot start: the supervisor stops instead of
restarting it forever (a bad lexicon file would fail the same way every time)."""


# ---------------------------------------------------------------------------------------------
# request and response bodies (the OpenAPI schema is generated from these)


class ScanRequest(BaseModel):
    text: StrictStr = Field(description="the note to scan")
    id: StrictStr | StrictInt | None = Field(
        None, description="your id for the note; carried into the answer and each finding")
    redact: int | None = Field(
        None, ge=0, le=10_000,
        description="privacy: each finding carries only the flagged words and this many "
                    "characters of context (as `blamelex scan --redact N`)")


class BatchItem(BaseModel):
    id: StrictStr | StrictInt | None = Field(None, description="your id for the note")
    text: StrictStr


class BatchRequest(BaseModel):
    items: list[BatchItem] = Field(description="the notes, answered in this order")
    redact: int | None = Field(None, ge=0, le=10_000)


class RewriteRequest(BaseModel):
    text: StrictStr
    id: StrictStr | StrictInt | None = None


class FindingRecord(BaseModel):
    """One finding, exactly as ``blamelex scan --format json`` writes it (path, line, column,
    the id when given, then every field of the finding; fields added by later versions, such as
    ``voice``, appear here too)."""

    model_config = ConfigDict(extra="allow")
    path: str
    line: int
    column: int
    start: int
    end: int
    text: str
    code: str
    category: str
    severity: str
    score: float
    explanation: str
    suggestions: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    modifiers: list[dict[str, Any]]
    origin: str
    term: str
    trace: list[dict[str, Any]]


class ScanResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    path: str
    id: str | int | None = None
    findings: list[FindingRecord]


class ScanResponse(ScanResult):
    total_findings: int


class BatchResponse(BaseModel):
    results: list[ScanResult]
    total_findings: int


class EditRecord(BaseModel):
    start: int
    end: int
    original: str
    replacement: str
    code: str


class SkippedRecord(BaseModel):
    finding: FindingRecord
    reason: str
    explanation: str


class RewriteResponse(BaseModel):
    id: str | int | None = None
    text: str
    edits: list[EditRecord]
    skipped: list[SkippedRecord]


class Problem(BaseModel):
    detail: str


# ---------------------------------------------------------------------------------------------
# the worker's detector


class Expired(Exception):
    """A request's time ran out (waiting for the scan thread, or between texts of a batch)."""


class Worker:
    """This process's detector, its scan thread and how many requests it holds."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.detector: Any = None
        self.lexicon: Any = None
        self.info: dict[str, Any] = {}
        self.pending = 0
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="blamelex-scan")
        self.started = time.monotonic()

    @property
    def ready(self) -> bool:
        return self.detector is not None

    def load(self) -> None:
        """Load the detector (on the scan thread)."""
        from blamelex.detector import load
        from blamelex.lexicon import load_lexicon

        t0 = time.perf_counter()
        kwargs = self.config.load_kwargs
        detector = load(**kwargs)
        self.lexicon = load_lexicon(extra=kwargs.get("extra_lexicons", ()))
        self.info = version_info(detector, self.lexicon, kwargs)
        self.detector = detector  # last: readiness follows it
        log.info("detector loaded pid=%d ms=%.0f entries=%d model=%s", os.getpid(),
                 (time.perf_counter() - t0) * 1000, detector.lexicon_size,
                 self.info["model"]["name"] if self.info["model"] else "none")

    def admit(self) -> None:
        """Refuse at once, with a reason, rather than queue without bound."""
        if not self.ready:
            raise HTTPException(503, "the detector is still loading; try again shortly",
                                headers={"Retry-After": "2"})
        if self.pending >= self.config.max_pending:
            raise HTTPException(503, f"busy: this worker already holds {self.config.max_pending} "
                                     "requests (the limit); try again shortly",
                                headers={"Retry-After": "1"})

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(deadline, *args)`` on the scan thread, within the request time limit."""
        self.admit()
        loop = asyncio.get_running_loop()
        limit = self.config.request_timeout
        deadline = time.monotonic() + limit
        self.pending += 1
        future = loop.run_in_executor(self.executor, _timed, fn, deadline, *args)
        future.add_done_callback(self._done)  # counted until the thread is done with it
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout=limit)
        except (asyncio.TimeoutError, Expired):
            raise HTTPException(503, f"the request took longer than the time limit of {limit:g} "
                                     "s; send smaller batches or try again",
                                headers={"Retry-After": "1"}) from None

    def _done(self, _: object) -> None:
        self.pending -= 1


def _timed(fn: Callable[..., Any], deadline: float, *args: Any) -> Any:
    if time.monotonic() > deadline:  # waited too long for the thread: do not start
        raise Expired
    return fn(deadline, *args)


def version_info(detector: Any, lexicon: Any, load_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Package version, a sha256 of the lexicon files and of the model's manifest."""
    digest = hashlib.sha256()
    for name in lexicon.files:
        with open(name, "rb") as fh:
            data = fh.read()
        digest.update(os.path.basename(str(name)).encode() + b"\0")
        digest.update(hashlib.sha256(data).digest())
    model = getattr(detector.component, "model", None)
    model_info = None
    if model is not None:
        folder = model.folder
        manifest = folder / "manifest.json"
        model_info = {"name": folder.name,
                      "sha256": hashlib.sha256(manifest.read_bytes()).hexdigest()}
    return {
        "package": __version__,
        "lexicon": {"entries": len(lexicon), "files": len(lexicon.files),
                    "sha256": digest.hexdigest()},
        "model": model_info,
        "settings": {k: v for k, v in load_kwargs.items()},
    }


# ---------------------------------------------------------------------------------------------
# the work (on the scan thread)


def _records(text: str, findings: list[Any], item_id: Any, redact: int | None) -> dict[str, Any]:
    """One text's entry, built by the CLI's JSON serialiser (`formats.jsonfmt.finding_record`)."""
    from blamelex.formats.base import ScanResult as Result
    from blamelex.formats.jsonfmt import finding_record
    from blamelex.sources import Document

    extra = {} if item_id is None else {"id": item_id}
    result = Result(Document("<request>", text=text), findings, extra)
    return {"path": "<request>", **extra,
            "findings": [finding_record(result, f, redact) for f in findings]}


def _scan(worker: Worker) -> Callable[..., dict[str, Any]]:
    def work(deadline: float, text: str, item_id: Any, redact: int | None) -> dict[str, Any]:
        entry = _records(text, worker.detector.scan(text), item_id, redact)
        entry["total_findings"] = len(entry["findings"])
        return entry
    return work


def _batch(worker: Worker) -> Callable[..., dict[str, Any]]:
    def work(deadline: float, items: list[BatchItem], redact: int | None) -> dict[str, Any]:
        results = []
        texts = (i.text for i in items)
        for item, found in zip(items, worker.detector.scan_many(texts, batch_size=8),
                               strict=True):
            results.append(_records(item.text, found, item.id, redact))
            if time.monotonic() > deadline:
                raise Expired
        return {"results": results, "total_findings": sum(len(r["findings"]) for r in results)}
    return work


def _rewrite(worker: Worker) -> Callable[..., dict[str, Any]]:
    def work(deadline: float, text: str, item_id: Any) -> dict[str, Any]:
        result = worker.detector.rewrite(text)
        entry = _records(text, [s.finding for s in result.skipped], item_id, None)
        return {
            **({} if item_id is None else {"id": item_id}),
            "text": result.text,
            "edits": [asdict(e) for e in result.edits],
            "skipped": [{"finding": rec, "reason": s.reason, "explanation": s.explanation}
                        for s, rec in zip(result.skipped, entry["findings"], strict=True)],
        }
    return work


def _explain(lexicon: Any, code: str) -> dict[str, Any] | None:
    from blamelex.lexicon.categories import entry_for_code
    from blamelex.rephrase import plain

    entry = entry_for_code(lexicon, code)
    if entry is None:
        return None
    return {
        "code": entry.code, "term": entry.term, "category": entry.category,
        "severity": entry.severity, "applies_to": entry.applies_to,
        "explanation": entry.explanation,
        "suggestions": [plain(s) for s in entry.suggestions],
        "examples_flag": list(entry.examples_flag), "examples_ok": list(entry.examples_ok),
        "sources": [{"title": s.title, "url": s.url} for s in entry.sources],
        "category_level": not entry.patterns,
    }


# ---------------------------------------------------------------------------------------------
# the gate: request ids, access log, token, body limits, security headers

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _route(path: str) -> str:
    """The route template for the log (never a raw path: it could carry anything)."""
    if path in OPEN_PATHS or path in _ROUTES:
        return path
    if path.startswith(f"{API}/explain/"):
        return f"{API}/explain/{{code}}"
    return "(unknown)"


_ROUTES = {f"{API}/{name}" for name in ("scan", "scan/batch", "rewrite", "lexicon", "version")}


class Gate:
    """Pure ASGI middleware in front of the application (it sees every request first)."""

    def __init__(self, app: Any, config: ServeConfig, token: str | None) -> None:
        self.app = app
        self.config = config
        self.token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex[:16]
        state = {"status": 0, "out": 0, "in": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", rid.encode()), *SECURITY_HEADERS]
            elif message["type"] == "http.response.body":
                state["out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self._handle(scope, receive, send_with_headers, headers, state)
        finally:
            log.info("request id=%s method=%s route=%s status=%s in=%d out=%d ms=%.1f",
                     rid, scope.get("method"), _route(scope.get("path", "")),
                     state["status"] or "disconnected", state["in"], state["out"],
                     (time.perf_counter() - t0) * 1000)

    async def _handle(self, scope: Scope, receive: Receive, send: Send,
                      headers: dict[bytes, bytes], state: dict[str, int]) -> None:
        path = scope.get("path", "")
        if self.token is not None and path not in OPEN_PATHS:
            auth = headers.get(b"authorization", b"")
            scheme, _, given = auth.partition(b" ")
            # compare_digest: the time taken does not depend on how much of the token matched
            if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self.token):
                await _error(send, 401, "this service needs an API token: send the header "
                                        "'Authorization: Bearer TOKEN'",
                             [(b"www-authenticate", b"Bearer")])
                return
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        body = await self._read_body(headers, receive, send, state)
        if body is None:
            return
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            await _send_json(send, 422, {"detail": [{
                "loc": ["body"], "type": "utf8_invalid",
                "msg": f"the request body is not valid UTF-8 (byte {exc.start})"}]})
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as uvicorn does

        await self.app(scope, replay, send)

    async def _read_body(self, headers: dict[bytes, bytes], receive: Receive, send: Send,
                         state: dict[str, int]) -> bytes | None:
        """The whole body, or None after answering 413 (too large), 408 (too slow) or when
        the client went away."""
        limit = self.config.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size > limit:
                await _error(send, 413, f"the request body ({size} bytes) is over the limit of "
                                        f"{limit} bytes", [(b"connection", b"close")])
                return None
        chunks: list[bytes] = []
        received = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.body_timeout
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                await _error(send, 408, "the request body did not arrive within the limit of "
                                        f"{self.config.body_timeout:g} s",
                             [(b"connection", b"close")])
                return None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            received += len(chunk)
            state["in"] = received
            if received > limit:
                await _error(send, 413, f"the request body is over the limit of {limit} bytes",
                             [(b"connection", b"close")])
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


async def _send_json(send: Send, status: int, data: Any,
                     headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(data).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, detail: str,
                 headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    await _send_json(send, status, {"detail": detail}, headers)


# ---------------------------------------------------------------------------------------------
# the application


def _static(name: str) -> bytes:
    return resources.files("blamelex.serve").joinpath("static").joinpath(name).read_bytes()


def create_app(config: ServeConfig | None = None, *, token: str | None = None) -> Any:
    """The ASGI application (FastAPI inside `Gate`). ``token``: the API token itself (tests);
    otherwise it is read from ``config.token_file`` when one is set."""
    config = config or ServeConfig()
    if token is None and config.token_file:
        token = read_token(config.token_file)
    worker = Worker(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        loop = asyncio.get_running_loop()
        loading = loop.run_in_executor(worker.executor, worker.load)

        def loaded(fut: asyncio.Future[None]) -> None:
            exc = fut.exception() if not fut.cancelled() else None
            if exc is not None:
                # the class and message name the file or option at fault, never note text
                log.error("the detector could not be loaded: %s: %s", type(exc).__name__, exc)
                logging.shutdown()
                os._exit(STARTUP_FAILURE)

        loading.add_done_callback(loaded)
        yield
        worker.executor.shutdown(wait=True, cancel_futures=True)

    app = FastAPI(
        title="blamelex",
        version=__version__,
        summary="Find victim-blaming language in case notes about children and suggest "
                "neutral wording.",
        description="All processing is local. Request text is never logged or echoed in "
                    "errors. See docs/serve.md for limits and deployment.",
        openapi_url=f"{API}/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load scripts from CDNs: not offered offline
        redoc_url=None,
        lifespan=lifespan,
        responses={
            401: {"model": Problem, "description": "API token missing or wrong"},
            413: {"model": Problem, "description": "body or batch over the limit"},
            503: {"model": Problem, "description": "loading, busy or over the time limit; "
                                                   "see Retry-After"},
        },
    )
    app.state.worker = worker

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # where and what kind of error; never the input itself
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""),
                   "type": e.get("type", "")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", type(exc).__name__)  # no message: it may quote text
        return JSONResponse({"detail": "internal error"}, status_code=500)

    def ok(data: Any) -> Response:
        return Response(json.dumps(data, ensure_ascii=False), media_type="application/json")

    @app.post(f"{API}/scan", response_model=ScanResponse, tags=["scan"])
    async def scan(body: ScanRequest) -> Response:
        """Scan one note. Findings are the records of ``blamelex scan --format json``."""
        return ok(await worker.run(_scan(worker), body.text, body.id, body.redact))

    @app.post(f"{API}/scan/batch", response_model=BatchResponse, tags=["scan"])
    async def scan_batch(body: BatchRequest) -> Response:
        """Scan several notes (at most the batch limit); ids are carried through."""
        if len(body.items) > config.max_batch:
            raise HTTPException(413, f"a batch of {len(body.items)} texts is over the limit of "
                                     f"{config.max_batch} texts")
        return ok(await worker.run(_batch(worker), body.items, body.redact))

    @app.post(f"{API}/rewrite", response_model=RewriteResponse, tags=["rewrite"])
    async def rewrite(body: RewriteRequest) -> Response:
        """The note with each finding that is safe to rewrite replaced by its first suggestion;
        ``skipped`` lists the findings left for a person, and why."""
        return ok(await worker.run(_rewrite(worker), body.text, body.id))

    @app.get(f"{API}/explain/{{code}}", tags=["lexicon"])
    async def explain(code: str) -> Response:
        """Why a code's wording harms, what to write instead, examples and sources."""
        worker.admit()
        found = _explain(worker.lexicon, code) if len(code) <= 32 else None
        if found is None:
            raise HTTPException(404, "unknown code; see /v1/lexicon")
        return ok(found)

    @app.get(f"{API}/lexicon", tags=["lexicon"])
    async def lexicon(category: str | None = None) -> Response:
        """Every loaded entry: code, severity, category, term (as ``blamelex lexicon list``)."""
        worker.admit()
        rows = [{"code": e.code, "severity": e.severity, "category": e.category,
                 "term": e.term} for e in worker.lexicon
                if category is None or e.category == category]
        return ok({"entries": rows, "categories": worker.lexicon.categories(),
                   "active": [e.code for e in worker.detector.component.lexicon]})

    @app.get(f"{API}/health", tags=["service"])
    async def health() -> Response:
        """Liveness: the worker answers (the detector may still be loading)."""
        return ok({"status": "ok", "pid": os.getpid()})

    @app.get(f"{API}/ready", tags=["service"])
    async def ready() -> Response:
        """Readiness: 200 once this worker's detector is loaded, 503 before."""
        if not worker.ready:
            return JSONResponse({"ready": False}, status_code=503, headers={"Retry-After": "2"})
        return ok({"ready": True, "pending": worker.pending})

    @app.get(f"{API}/version", tags=["service"])
    async def version() -> Response:
        """Package version, lexicon hash, model hash and the detector's settings."""
        worker.admit()
        return ok(worker.info)

    page = {"/": ("index.html", "text/html; charset=utf-8"),
            "/static/draft.js": ("draft.js", "text/javascript; charset=utf-8"),
            "/static/draft.css": ("draft.css", "text/css; charset=utf-8")}
    files = {path: (_static(name), kind) for path, (name, kind) in page.items()}

    def static_route(path: str) -> None:
        data, kind = files[path]

        async def serve_file() -> Response:
            return Response(data, media_type=kind)

        app.add_api_route(path, serve_file, methods=["GET"], include_in_schema=False)

    for path in files:
        static_route(path)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)  # no icon; and no 404 in the browser's console

    return Gate(app, config, token)


def app_from_env() -> Any:
    """The application for a worker process started by `blamelex.serve.runner` (uvicorn
    ``factory=True``): settings from the environment, the token from its file."""
    return create_app(ServeConfig.from_env())

