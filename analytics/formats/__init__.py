"""Telemetry formats: adapters that turn a tool's own export into canonical rows.

An adapter is a module in this package that defines a module-level `ADAPTERS` list of `Adapter`
objects. Each adapter says whether a file looks like its format (`sniff`, given the file's first
64 KiB as text) and converts a whole file (`convert`) into canonical rows, one pandas DataFrame per
canonical table, every value as text (or None), plus two bookkeeping columns:

- `_line`: where in the source the row came from (a line for line formats, a record number
  otherwise), so a rejected row can be found again;
- `_raw`: the source record (JSON text), kept with a rejected row.

Rows then go through exactly the same typing, checks, duplicate and conflict rules as canonical
files (`analytics.ingest`). Records an adapter cannot convert at all go into `Converted.rejects`
with a reason; nothing is dropped silently.

Identity is not resolved here: an adapter puts whatever the tool identifies people by (e-mail,
login, account id) into `user_id`, and the marts match it to people case-insensitively by user id,
e-mail, login or an identity mapping.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.canonical import TABLES

SNIFF_BYTES = 1 << 16


@dataclass
class Converted:
    """One telemetry file as canonical rows."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reason, raw record)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Adapter:
    name: str  # the --format value, e.g. "copilot-users"
    description: str  # one line for --help and the Data page
    sniff: Callable[[str], bool]  # given the file's head as text
    convert: Callable[[Path], Converted]
    order: int = 50  # load order among files of one ingest: org trees (0) before people (10) before usage


class ConversionError(Exception):
    """The file cannot be converted at all (not this format, unreadable); nothing of it is loaded."""


class NothingToLoad(ConversionError):
    """The file is a recognised export that holds nothing the canonical tables can take (a seat list,
    organization totals); it is reported as skipped with the reason, not as a failure."""


_REGISTRY: dict[str, Adapter] | None = None


def registry() -> dict[str, Adapter]:
    """Every adapter, by name, from the modules of this package."""
    global _REGISTRY
    if _REGISTRY is None:
        found: dict[str, Adapter] = {}
        for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
            for adapter in getattr(importlib.import_module(f"{__name__}.{module}"), "ADAPTERS", ()):
                if adapter.name in found:
                    raise RuntimeError(f"two telemetry adapters are called {adapter.name}")
                found[adapter.name] = adapter
        _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


def head_text(path: Path) -> str:
    """The first 64 KiB of a (possibly gzipped) file as text, for sniffing."""
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    chunks: list[bytes] = []
    size = 0
    with opener(path, "rb") as fh:
        try:
            while size < SNIFF_BYTES:
                chunk = fh.read1(SNIFF_BYTES - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except EOFError:  # a truncated gzip: its head still says what it is; loading it says it is cut off
            pass
    return b"".join(chunks).decode("utf-8", "replace").lstrip("\ufeff")


def detect(path: Path) -> Adapter | None:
    """The adapter whose format this file is in, or None."""
    try:
        head = head_text(path)
    except OSError:
        return None
    for adapter in registry().values():
        try:
            if adapter.sniff(head):
                return adapter
        except Exception:  # a sniffer that trips over odd input just does not claim the file
            continue
    return None


# -- helpers adapters share ---------------------------------------------------------------------------


def read_json_document(path: Path) -> Any:
    """A whole JSON document (object or array); ConversionError when it is not JSON."""
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise ConversionError(f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except UnicodeDecodeError:
        raise ConversionError(f"{path.name} is not UTF-8 text") from None


def iter_json_lines(path: Path, rejects: list[tuple[int, str, str]]) -> Iterable[tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line; unparseable lines go to `rejects`."""
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                yield number, json.loads(text)
            except json.JSONDecodeError:
                rejects.append((number, "line is not valid JSON", text[:10_000]))


def read_json_or_lines(path: Path, rejects: list[tuple[int, str, str]]) -> tuple[str, Any]:
    """("document", value) for one JSON document, or ("lines", [(line, value), ...]) for JSON Lines.

    A file whose first non-blank line is a complete JSON value is JSON Lines; a pretty-printed document
    starts with a line that is not. Unparseable lines of a JSON Lines file go to `rejects`.
    """
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    first = ""
    with opener(path, "rt", encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            if line.strip():
                first = line.strip()
                break
    try:
        json.loads(first)
    except json.JSONDecodeError:
        return "document", read_json_document(path)
    return "lines", list(iter_json_lines(path, rejects))


def is_number(value: Any) -> bool:
    """A finite JSON number (booleans are not numbers here)."""
    import math

    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows (dicts of canonical column -> value, plus `_line` and `_raw`) as an all-text DataFrame.

    Keys that are not columns of the table are an adapter bug, so they raise.
    """
    columns = TABLES[table].column_names
    unknown = {k for row in rows for k in row} - set(columns) - {"_line", "_raw"}
    if unknown:
        raise ValueError(f"{table} has no column(s) {', '.join(sorted(unknown))}")
    present = [c for c in columns if any(row.get(c) is not None for row in rows)]
    data: dict[str, list] = {"_line": [int(row.get("_line") or 0) for row in rows]}
    data["_raw"] = [_raw_text(row.get("_raw")) for row in rows]
    for name in present:
        data[name] = [_text(row.get(name)) for row in rows]
    out = pd.DataFrame(data)
    for name in ["_raw", *present]:
        out[name] = out[name].astype(object)
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _raw_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), default=str)[:10_000]
