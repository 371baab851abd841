"""An on-disk cache of plain data (JSON) that is slow to build: the validated lexicon and the
matcher's tables, each keyed by a sha256 of everything it was built from.

Where: ``$BLAMELEX_CACHE_DIR``, else ``$XDG_CACHE_HOME/blamelex``, else ``~/.cache/blamelex``.
``BLAMELEX_NO_CACHE=1`` turns it off (nothing is read or written).

What goes in is JSON only (nothing that runs code when read). Every failure is
silent and falls back to building: a file that cannot be read, is not valid JSON or does not
carry the expected key is ignored (and rebuilt over), and a folder that cannot be written to
just means no cache. A file is written to a temporary name in the same folder and renamed into
place, so a reader never sees half a file, and two processes writing the same entry at once
both leave a whole one.

Every key covers the cache format, the blamelex version, the Python version, the source of the
modules that build the data (`code_digest`: a changed checkout never reads an old entry) and
whatever the caller adds (the bytes of the lexicon files, ...).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

FORMAT = 1
"""Bumped when the layout of a cache file changes."""

KEEP = 8
"""Files kept per kind (the newest); older ones are removed when a new one is written."""

_CODE = ("cache.py", "findings.py", "inflect.py", "matching.py", "tokenregex.py",
         "lexicon/__init__.py", "lexicon/patterns.py", "data/inflections.json")
"""The package files whose content the cached data depends on (relative to the package)."""


def enabled() -> bool:
    """False when ``BLAMELEX_NO_CACHE`` is set to anything but ``""`` or ``0``."""
    return os.environ.get("BLAMELEX_NO_CACHE", "").strip() in ("", "0")


def cache_dir() -> Path:
    """``$BLAMELEX_CACHE_DIR``, else ``$XDG_CACHE_HOME/blamelex``, else ``~/.cache/blamelex``."""
    own = os.environ.get("BLAMELEX_CACHE_DIR")
    if own:
        return Path(own)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "blamelex"
    return Path.home() / ".cache" / "blamelex"


@cache
def code_digest() -> str:
    """sha256 of the package files the cached data is built by (see `_CODE`)."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in _CODE:
        digest.update(name.encode())
        try:
            digest.update((package / name).read_bytes())
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()


def _lemminflect() -> str:
    """Where lemminflect is installed and when it was written (it inflects the lemmas outside
    the bundled table), found without importing it."""
    from importlib.util import find_spec

    try:
        spec = find_spec("lemminflect")
        origin = spec.origin if spec is not None else None
        if origin is None:
            return "none"
        stat = os.stat(origin)
        return f"{origin}:{stat.st_size}:{stat.st_mtime_ns}"
    except (ImportError, OSError, ValueError):
        return "none"


def key(kind: str, parts: Iterable[bytes | str], code: bool = True) -> str:
    """The cache key of a ``kind`` of data built from ``parts``, this Python and (unless
    ``code`` is False: data that blamelex's code does not shape) this code."""
    from blamelex._version import __version__

    digest = hashlib.sha256()
    ours = (__version__, sys.version, sys.implementation.cache_tag or "", code_digest(),
            _lemminflect()) if code else ()
    for part in (f"blamelex-cache {FORMAT}", kind, *ours, *parts):
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def _path(kind: str, digest: str, suffix: str = ".json") -> Path:
    return cache_dir() / f"{kind}-{digest}{suffix}"


def load(kind: str, digest: str) -> Any | None:
    """The data stored under (``kind``, ``digest``), or None (disabled, missing, unreadable,
    not JSON, or not the entry asked for)."""
    if not enabled():
        return None
    try:
        with open(_path(kind, digest), "rb") as fh:
            wrapper = json.loads(fh.read())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(wrapper, dict) or wrapper.get("format") != FORMAT \
            or wrapper.get("kind") != kind or wrapper.get("key") != digest:
        return None
    return wrapper.get("data")


def store(kind: str, digest: str, data: Any) -> bool:
    """Write ``data`` (JSON-able) under (``kind``, ``digest``), atomically. Returns whether it
    was written; never raises for a folder or file that cannot be written, or data that is not
    JSON."""
    if not enabled():
        return False
    try:
        text = json.dumps({"format": FORMAT, "kind": kind, "key": digest, "data": data},
                          ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return False
    folder = cache_dir()
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, _path(kind, digest))
        tmp = None
    except (OSError, UnicodeError):
        return False
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    _prune(folder, kind)
    return True


def existing_file(kind: str, digest: str, suffix: str) -> Path | None:
    """The file stored by `store_file` under (``kind``, ``digest``), if there is one (and the
    cache is on)."""
    if not enabled():
        return None
    path = _path(kind, digest, suffix)
    return path if path.is_file() else None


def store_file(kind: str, digest: str, suffix: str, write: Callable[[Path], object],
               keep: int = KEEP) -> Path | None:
    """Make a file of ``kind`` with ``write(path)`` (a temporary name with ``suffix``, then
    renamed into place) and return where it is; None if the cache is off or anything failed
    (``write``'s own errors included). Only the ``keep`` newest files of ``kind`` stay."""
    if not enabled():
        return None
    folder = cache_dir()
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{kind}-", suffix=suffix, dir=folder)
        os.close(fd)
        tmp = Path(name)
        write(tmp)
        target = _path(kind, digest, suffix)
        os.replace(tmp, target)
        tmp = None
    except Exception:  # a cache that cannot be made is no cache; never an error
        return None
    finally:
        if tmp is not None:
            try:
                tmp.unlink()
            except OSError:
                pass
    _prune(folder, kind, suffix, keep)
    return target


def _prune(folder: Path, kind: str, suffix: str = ".json", keep: int = KEEP) -> None:
    """Keep the ``keep`` newest files of ``kind``: an edited lexicon file leaves its old
    entries behind, and the folder should not grow without end."""
    try:
        files = sorted(folder.glob(f"{kind}-*{suffix}"), key=lambda p: p.stat().st_mtime,
                       reverse=True)
        for old in files[keep:]:
            old.unlink()
    except OSError:
        pass


_OURS = re.compile(r"^[a-z_]+-[0-9a-f]{64}\.[a-z]+$")
"""The names of the files this module writes (``KIND-SHA256.json``)."""


def clear() -> int:
    """Remove this cache's files (only those named as it names them); returns how many."""
    removed = 0
    try:
        for path in cache_dir().iterdir():
            if _OURS.match(path.name):
                try:
                    path.unlink()
                    removed += 1
                except OSError:
                    pass
    except OSError:
        pass
    return removed


__all__ = ["cache_dir", "clear", "code_digest", "enabled", "existing_file", "key", "load",
           "store", "store_file"]
