"""``blamelex serve``: a local HTTP service (versioned JSON API and a drafting page).

Needs the ``serve`` extra (``pip install 'blamelex[serve]'``: FastAPI and uvicorn). Importing
this package imports neither; `blamelex.serve.app` and `blamelex.serve.runner` do.

* `blamelex.serve.config`: the settings every worker process reads (`ServeConfig`).
* `blamelex.serve.app`: the ASGI application (`create_app`), one detector per worker process.
* `blamelex.serve.runner`: binding, the API token, and uvicorn's worker supervisor.

API, limits, security and deployment notes: docs/serve.md.
"""

from __future__ import annotations

MISSING_EXTRA = ("blamelex serve needs the 'serve' extra: pip install 'blamelex[serve]' "
                 "(FastAPI and uvicorn)")


def available() -> bool:
    """True when FastAPI and uvicorn can be imported."""
    from importlib.util import find_spec

    return find_spec("fastapi") is not None and find_spec("uvicorn") is not None


__all__ = ["MISSING_EXTRA", "available"]
