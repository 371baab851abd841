"""Start ``blamelex serve``: check where it binds and the token, then run uvicorn's supervisor.

The supervisor (`uvicorn.supervisors.Multiprocess`) runs even for one worker, so a worker that
dies is replaced; SIGTERM or SIGINT makes each worker stop accepting and finish the requests it
holds (up to the request time limit) before it exits.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from blamelex.serve.config import ENV, ServeConfig, is_loopback, read_token


class ServeError(Exception):
    """A setting that stops the service from starting (reported as ``blamelex: MESSAGE``)."""


def check(host: str, allow_remote: bool, config: ServeConfig) -> None:
    """Refuse to listen beyond this machine without ``--allow-remote`` and a token file."""
    if not is_loopback(host):
        if not allow_remote:
            raise ServeError(f"--host {host} would accept connections from other machines; "
                             "say so with --allow-remote, and set --token-file")
        if not config.token_file:
            raise ServeError(f"--host {host} with --allow-remote needs an API token: "
                             "--token-file FILE")
    if config.token_file:
        try:
            read_token(config.token_file)
        except OSError as exc:
            raise ServeError(f"--token-file {config.token_file}: "
                             f"{exc.strerror or exc}") from None
        except ValueError as exc:
            raise ServeError(str(exc)) from None


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging, plus ``blamelex.serve`` on stderr; uvicorn's own access log is off
    (ours carries the request id, route template, sizes, timing and status, never the text)."""
    from uvicorn.config import LOGGING_CONFIG

    cfg: dict[str, Any] = {**LOGGING_CONFIG}
    cfg["loggers"] = {**LOGGING_CONFIG["loggers"],
                      "blamelex.serve": {"handlers": ["default"], "level": level.upper(),
                                         "propagate": False}}
    return cfg


def serve(config: ServeConfig, *, host: str = "127.0.0.1", port: int = 8080, workers: int = 1,
          allow_remote: bool = False) -> int:
    """Run the service until SIGINT/SIGTERM; returns the exit code."""
    check(host, allow_remote, config)
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ[ENV] = config.to_env()  # read by each worker (spawned) in app_from_env
    uv = uvicorn.Config(
        "blamelex.serve.app:app_from_env", factory=True, host=host, port=port,
        workers=workers, access_log=False, log_config=log_config(config.log_level),
        log_level=config.log_level, server_header=False, proxy_headers=False,
        timeout_graceful_shutdown=int(config.request_timeout + config.body_timeout) + 1,
        timeout_keep_alive=5, limit_concurrency=None,
    )
    try:
        sock = uv.bind_socket()
    except SystemExit:
        return 2
    logging.getLogger("blamelex.serve").info(
        "blamelex serve on http://%s:%d with %d worker(s)", host, port, workers)
    sys.stderr.flush()
    Multiprocess(uv, sockets=[sock]).run()
    return 0
