"""Where texts come from: files, folders and stdin, read robustly, one `Document` each.

Reading never stops a scan: a file that cannot be read becomes a `Document` with ``error`` set,
a binary file one with ``skipped`` set, and the rest go on. Text is decoded as UTF-8 (a UTF-8 or
UTF-16 byte-order mark is honoured); invalid bytes are replaced with U+FFFD and a warning is
attached, so offsets always index the decoded text.
"""

from __future__ import annotations

import codecs
import fnmatch
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from blamelex.textutil import cut_point

DEFAULT_INCLUDE = ("*.txt", "*.md", "*.text", "*.note", "*.notes")
STREAM_BYTES = 512 * 1024
"""Files larger than this are read and scanned in chunks, so memory stays flat (and no text
reaches the pipeline longer than its ``max_length``)."""
CHUNK_CHARS = 8 * 1024


@dataclass
class Document:
    """One text to scan, or the reason it could not be read."""

    path: str
    text: str = ""
    error: str = ""
    skipped: str = ""
    warnings: list[str] = field(default_factory=list)
    record_id: str | None = None
    """For a record of an export (CSV, JSON Lines, Parquet): its id, or its record number."""
    column: str | None = None
    """For a record of an export: the column ``text`` comes from."""
    offset: int = 0
    """Character offset of ``text`` in the whole file (non-zero for chunks of a large file)."""
    line_offset: int = 0
    """Number of lines in the file before ``text`` starts."""
    last_chunk: bool = True

    @property
    def ok(self) -> bool:
        """True when there is text to scan."""
        return not self.error and not self.skipped

    @property
    def label(self) -> str:
        """How every output names this document: its path, and for a record its id
        (``export.csv:C-0042``)."""
        return self.path if self.record_id is None else f"{self.path}:{self.record_id}"


def decode(data: bytes) -> tuple[str, list[str]]:
    """Decode bytes as text; returns the text and any warnings."""
    warnings: list[str] = []
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), warnings
        except UnicodeDecodeError:
            warnings.append("invalid UTF-16; undecodable bytes replaced with U+FFFD")
            return data.decode("utf-16", errors="replace"), warnings
    try:
        return data.decode("utf-8"), warnings
    except UnicodeDecodeError as exc:
        warnings.append(
            f"invalid UTF-8 at byte {exc.start}; undecodable bytes replaced with U+FFFD "
            "(offsets refer to the decoded text)"
        )
        return data.decode("utf-8", errors="replace"), warnings


def looks_binary(data: bytes) -> bool:
    """True for data with NUL bytes that is not UTF-16 text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in data[:8192]


def _count_breaks(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def iter_chunks(path: Path, chunk_chars: int = CHUNK_CHARS) -> Iterator[Document]:
    """Stream a large text file as chunk `Document`s cut at line breaks (or spaces).

    Offsets and line numbers stay those of the whole file (``offset``, ``line_offset``).
    """
    name = str(path)
    try:
        fh = path.open("rb")
    except OSError as exc:
        yield Document(name, error=exc.strerror or str(exc))
        return
    with fh:
        head = fh.read(8192)
        if looks_binary(head):
            yield Document(name, skipped="binary file (contains NUL bytes)")
            return
        encoding = "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        pending = decoder.decode(head)
        offset = lines = 0
        warned = False
        eof = False
        while not eof or pending:
            while len(pending) < chunk_chars and not eof:
                block = fh.read(1 << 20)
                if not block:
                    pending += decoder.decode(b"", final=True)
                    eof = True
                else:
                    pending += decoder.decode(block)
            cut = len(pending) if eof else cut_point(pending, 0, chunk_chars, final=False)
            text, pending = pending[:cut], pending[cut:]
            doc = Document(name, text=text, offset=offset, line_offset=lines,
                           last_chunk=eof and not pending)
            if "\ufffd" in text and not warned:
                doc.warnings.append("undecodable bytes replaced with U+FFFD "
                                    "(offsets refer to the decoded text)")
                warned = True
            yield doc
            offset += len(text)
            lines += _count_breaks(text)
            if text.endswith("\r") and pending.startswith("\n"):
                lines -= 1  # a CRLF cut in two is one line break
            if eof and not pending:
                break


def read_document(path: Path) -> Document:
    """Read one file into a `Document` (never raises for I/O problems)."""
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Document(name, error="no such file")
    except PermissionError:
        return Document(name, error="permission denied")
    except IsADirectoryError:
        return Document(name, error="is a directory")
    except OSError as exc:
        return Document(name, error=exc.strerror or str(exc))
    if looks_binary(data):
        return Document(name, skipped="binary file (contains NUL bytes)")
    text, warnings = decode(data)
    return Document(name, text=text, warnings=warnings)


def _matches(path: str, patterns: Sequence[str]) -> bool:
    name = os.path.basename(path)
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in patterns)


def iter_paths(
    targets: Iterable[str],
    include: Sequence[str] = DEFAULT_INCLUDE,
    exclude: Sequence[str] = (),
) -> Iterator[tuple[Path, str]]:
    """Yield (path, problem) for each file under the targets; problem is '' when fine.

    Folders are walked recursively (sorted, symlink loops detected); ``include`` / ``exclude``
    globs apply to files found in folders. A file named directly is always scanned.
    """
    for target in targets:
        path = Path(target)
        if path.is_dir():
            seen: set[tuple[int, int]] = set()
            for root, dirs, files in os.walk(path, followlinks=True, onerror=None):
                try:
                    st = os.stat(root)
                except OSError:
                    continue
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    dirs[:] = []
                    yield Path(root), "symlink loop: folder already visited"
                    continue
                seen.add(key)
                dirs.sort()
                if not os.access(root, os.R_OK | os.X_OK):
                    yield Path(root), "permission denied"
                    continue
                for name in sorted(files):
                    full = os.path.join(root, name)
                    if include and not _matches(full, include):
                        continue
                    if exclude and _matches(full, exclude):
                        continue
                    yield Path(full), ""
        elif path.exists() or path.is_symlink():
            yield path, ""
        else:
            yield path, "no such file or folder"


def iter_documents(
    targets: Iterable[str],
    include: Sequence[str] = DEFAULT_INCLUDE,
    exclude: Sequence[str] = (),
) -> Iterator[Document]:
    """Read every file under the targets as a `Document` (errors included, in order)."""
    for path, problem in iter_paths(targets, include, exclude):
        if problem:
            yield Document(str(path), error=problem)
            continue
        try:
            big = path.is_file() and path.stat().st_size > STREAM_BYTES
        except OSError:
            big = False
        if big:
            yield from iter_chunks(path)
        else:
            yield read_document(path)


def line_starts(text: str) -> list[int]:
    """Character offsets where each line starts (\\n, \\r\\n and lone \\r all end a line)."""
    starts = [0]
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\r":
            if i + 1 < n and text[i + 1] == "\n":
                i += 1
            starts.append(i + 1)
        elif ch == "\n":
            starts.append(i + 1)
        i += 1
    return starts


def line_col(starts: Sequence[int], offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    import bisect

    line = bisect.bisect_right(starts, offset) - 1
    return line + 1, offset - starts[line] + 1
