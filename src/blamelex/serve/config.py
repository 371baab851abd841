"""What every worker process of ``blamelex serve`` is started with.

The supervisor (`blamelex.serve.runner`) starts each worker as a fresh process, so the settings
travel as JSON in one environment variable; the API token never does (each worker reads the
token file itself).
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

ENV = "BLAMELEX_SERVE_CONFIG"


@dataclass
class ServeConfig:
    """Settings of the service; the same in every worker process."""

    load_kwargs: dict[str, Any] = field(default_factory=dict)
    """Passed unchanged to `blamelex.load` (lexicons, select/ignore, model, voice, ...)."""
    max_body_bytes: int = 1_048_576
    """Largest request body; a larger one is refused with 413 before it is read."""
    max_batch: int = 100
    """Most texts in one batch request (413 above it)."""
    request_timeout: float = 10.0
    """Seconds a request may wait and run; past it, 503 with Retry-After."""
    body_timeout: float = 10.0
    """Seconds a client may take to send its body; past it, 408."""
    max_pending: int = 32
    """Requests one worker holds (running and queued); the next gets 503 with Retry-After."""
    token_file: str | None = None
    """File holding the API token; when set, /v1/* (but health and ready) needs
    ``Authorization: Bearer TOKEN``."""
    log_level: str = "info"

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServeConfig:
        raw = (environ if environ is not None else os.environ).get(ENV)
        return cls(**json.loads(raw)) if raw else cls()


def is_loopback(host: str) -> bool:
    """True for an address (or ``localhost``) that only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(path: str) -> str:
    """The token in ``path`` (surrounding white space removed); ValueError when the file is
    empty or the token is shorter than 16 characters. The message never quotes the token."""
    with open(path, encoding="utf-8") as fh:
        token = fh.read().strip()
    if len(token) < 16:
        raise ValueError(f"{path}: the API token must be at least 16 characters "
                         "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return token
