"""YAML data files read with the line of every mapping, key and list item, for file:line errors.

`read_yaml` returns plain Python values, except that mappings are `LineMap` and lists are
`LineList`: the same as ``dict`` and ``list``, plus the lines they (and their keys or items)
start on. A key repeated in one mapping is an error (plain PyYAML keeps the last one silently).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser where PyYAML has it


class DataError(ValueError):
    """Invalid data files (lexicon, categories, context rules). ``problems`` lists each one as
    ``file:line: message``; the message counts them and names ``what`` was read."""

    what = "the data"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in {self.what}:\n"
        super().__init__(head + "\n".join(f"  {p}" for p in self.problems))


class YamlDataError(ValueError):
    """A data file that cannot be read or parsed; the message starts with ``file:line:``."""


class LineMap(dict[Any, Any]):
    """A YAML mapping, with the line it starts on and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        """The line of ``key`` if it is present, else the mapping's own line."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence, with the line it starts on and the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


class _Readable(Protocol):
    def read_text(self, encoding: str = ...) -> str: ...


class _Loader(_Base):  # type: ignore[misc]
    """Safe loader (no arbitrary objects) building `LineMap` and `LineList`."""

    def __init__(self, stream: str, name: str) -> None:
        super().__init__(stream)
        self.name = name


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)  # merge keys (<<) as PyYAML's own loader does
    out = LineMap()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in out.key_lines:
            raise YamlDataError(f"{loader.name}:{line}: key {key!r} repeated "
                                f"(first at line {out.key_lines[key]})")
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(item, deep=True) for item in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [item.start_mark.line + 1 for item in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def read_yaml(source: Path | _Readable, name: str | None = None) -> Any:
    """Parse one YAML file (a path or an `importlib.resources` file); ``name`` is how errors
    name it (default: the path). Raises `YamlDataError` on a read or syntax error."""
    where = name if name is not None else str(source)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlDataError(f"{where}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise YamlDataError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    loader = _Loader(text, where)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{where}:{mark.line + 1}" if mark else where
        raise YamlDataError(f"{at}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from exc
    finally:
        loader.dispose()


def line_of(value: Any, default: int = 0) -> int:
    """The line a mapping or list read by `read_yaml` starts on (``default`` for a scalar)."""
    return int(getattr(value, "line", default))


__all__ = ["LineList", "LineMap", "YamlDataError", "line_of", "read_yaml"]
