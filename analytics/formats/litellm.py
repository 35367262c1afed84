"""LiteLLM proxy spend logs (an export of the `LiteLLM_SpendLogs` table) as usage events.

One spend-log row is one request through the proxy. Accepted shapes: CSV with a header (e.g. from
`\\copy ... CSV HEADER`), a JSON array of rows, a JSON object holding them under `data` or `logs`
(the proxy's `/spend/logs` API answers), and JSON Lines; any of them gzipped.

Field -> usage_events column:

- `request_id` -> `event_id`, as `litellm:<request_id>` so it cannot collide with another tool's ids;
- `startTime` -> `ts` (LiteLLM stores UTC; a time without an offset is read as UTC);
- who: `end_user` (the `user` the caller put in the request), else `user` (the proxy user owning the
  key), else `metadata.user_api_key_user_email`, else `metadata.user_api_key_user_id` -> `user_id`;
- `model` (else `model_group`) -> `model`; `session_id` -> `session_id`; `tool` is always `litellm`;
- `prompt_tokens` minus the cache reads and writes the record reports -> `input_tokens` (LiteLLM's
  prompt count includes them; the contract's input excludes them), never below 0;
- `completion_tokens` -> `output_tokens`;
- `metadata.additional_usage_values` (else `metadata.usage_object`): `cache_read_input_tokens` (else
  `prompt_tokens_details.cached_tokens`) -> `cache_read_tokens`, `cache_creation_input_tokens` (else
  `prompt_tokens_details.cache_creation_tokens`) -> `cache_write_tokens`;
- `spend` -> `cost_usd`.

A request LiteLLM answered from its own response cache (`cache_hit` true) reached no model: it is
loaded as a request with 0 tokens. Rows without a request id or anybody to attribute them to are
rejected with the reason.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from pathlib import Path
from typing import Any

from analytics.formats import (
    Adapter,
    ConversionError,
    Converted,
    frame,
    head_text,
    iter_json_lines,
    read_json_document,
)

TOOL = "litellm"
# Columns every spend-log export has; together they tell it from any other file.
SIGNATURE = ("request_id", "spend", "startTime", "prompt_tokens", "completion_tokens")
USER_FIELDS = ("end_user", "user")
METADATA_USER_FIELDS = ("user_api_key_user_email", "user_api_key_user_id")


def sniff(head: str) -> bool:
    text = head.lstrip()
    if text.startswith(("{", "[")):
        return all(f'"{name}"' in head for name in SIGNATURE)
    first_line = text.splitlines()[0] if text else ""
    header = {cell.strip().strip('"') for cell in first_line.split(",")}
    return set(SIGNATURE) <= header


def convert(path: Path) -> Converted:
    out = Converted()
    events: list[dict] = []
    cache_hits = clamped = bad_metadata = 0
    for line, record in _records(path, out):
        if not isinstance(record, dict):
            out.rejects.append((line, "record is not a JSON object", _dump(record)))
            continue
        request_id = _clean(record.get("request_id"))
        if request_id is None:
            out.rejects.append((line, "record has no request_id", _dump(record)))
            continue
        metadata, readable = _metadata(record.get("metadata"))
        bad_metadata += not readable
        user = _identity(record, metadata)
        if user is None:
            out.rejects.append(
                (
                    line,
                    "record names nobody: end_user, user and metadata user_api_key_user_email / "
                    "user_api_key_user_id are all empty",
                    _dump(record),
                )
            )
            continue
        prompt = _count(record.get("prompt_tokens"))
        output: Any = _count(record.get("completion_tokens"))
        cache_read, cache_write = _cache_tokens(metadata)
        if isinstance(prompt, int) and prompt >= 0 and (cache_read or cache_write):
            uncached = prompt - (cache_read or 0) - (cache_write or 0)
            clamped += uncached < 0
            prompt = max(uncached, 0)
        if _truthy(record.get("cache_hit")):
            # Answered from the proxy's response cache: no model processed any token.
            cache_hits += 1
            prompt, output, cache_read, cache_write = 0, 0, 0, 0
        events.append(
            {
                "_line": line,
                "_raw": record,
                "event_id": f"{TOOL}:{request_id}",
                "ts": _clean(record.get("startTime")),
                "user_id": user,
                "tool": TOOL,
                "model": _clean(record.get("model")) or _clean(record.get("model_group")),
                "session_id": _clean(record.get("session_id")),
                "input_tokens": prompt,
                "output_tokens": output,
                "cache_read_tokens": cache_read,
                "cache_write_tokens": cache_write,
                "cost_usd": _clean(record.get("spend")),
            }
        )
    if cache_hits:
        out.warnings.append(
            f"{path.name}: {cache_hits} request(s) were answered from LiteLLM's response cache; "
            "loaded with 0 tokens, since no model processed them"
        )
    if clamped:
        out.warnings.append(
            f"{path.name}: {clamped} request(s) report more cached tokens than prompt tokens; input set to 0"
        )
    if bad_metadata:
        out.warnings.append(f"{path.name}: {bad_metadata} request(s) have metadata that is not JSON; ignored")
    out.tables = {"usage_events": frame("usage_events", events)}
    return out


# -- reading -----------------------------------------------------------------------------------------


def _records(path: Path, out: Converted):
    """(line or record number, record) for every row of the export, whatever its shape."""
    head = head_text(path).lstrip()
    if not head:
        raise ConversionError(f"{path.name} is empty")
    if head.startswith("["):
        yield from _document_rows(path)
    elif head.startswith("{"):
        # The whole first line, not the sniffed head: a row holding its prompt can be far longer than that.
        with _open(path) as fh:
            first_line = next((line for line in fh if line.strip()), "")
        try:
            first = json.loads(first_line)
        except json.JSONDecodeError:
            first = None
        if isinstance(first, dict) and "request_id" in first:
            yield from iter_json_lines(path, out.rejects)
        else:
            yield from _document_rows(path)
    else:
        yield from _csv_rows(path, out)


def _open(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace", newline="")
    return open(path, encoding="utf-8-sig", errors="replace", newline="")


def _document_rows(path: Path):
    document = read_json_document(path)
    if isinstance(document, dict):
        rows = next((document[k] for k in ("data", "logs") if isinstance(document.get(k), list)), None)
        if rows is None:
            rows = [document] if "request_id" in document else None
        if rows is None:
            raise ConversionError(f"{path.name} holds a JSON object without spend-log rows (no data or logs list)")
        document = rows
    yield from enumerate(document, start=1)


def _csv_rows(path: Path, out: Converted):
    # Prompts and responses can be stored in the log, so single fields may be very long.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with _open(path) as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise ConversionError(f"{path.name} is empty") from None
        except csv.Error as exc:
            raise ConversionError(f"{path.name} is not readable CSV: {exc}") from None
        names = [h.strip() for h in header]
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ConversionError(f"{path.name} line {start}: not readable CSV: {exc}") from None
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(names):
                reason = f"malformed CSV line: {len(cells)} fields where the header has {len(names)}"
                out.rejects.append((line, reason, ",".join(cells)[:10_000]))
                continue
            # Empty CSV cells mean "no value", as NULLs do in the table.
            yield line, {n: (c if c != "" else None) for n, c in zip(names, cells, strict=True)}


# -- fields ------------------------------------------------------------------------------------------


def _metadata(value: Any) -> tuple[dict, bool]:
    """The metadata object, and whether it was readable (absent counts as readable)."""
    if value is None or value == "":
        return {}, True
    if isinstance(value, dict):
        return value, True
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return {}, False
        return (parsed, True) if isinstance(parsed, dict) else ({}, False)
    return {}, False


def _identity(record: dict, metadata: dict) -> str | None:
    for name in USER_FIELDS:
        if found := _clean(record.get(name)):
            return found
    for name in METADATA_USER_FIELDS:
        if found := _clean(metadata.get(name)):
            return found
    return None


def _cache_tokens(metadata: dict) -> tuple[int | None, int | None]:
    """Cache reads and writes as the record reports them (None when it does not)."""
    for key in ("additional_usage_values", "usage_object"):
        usage = metadata.get(key)
        if not isinstance(usage, dict):
            continue
        details = usage.get("prompt_tokens_details") if isinstance(usage.get("prompt_tokens_details"), dict) else {}
        read = _count(usage.get("cache_read_input_tokens"))
        if not isinstance(read, int):
            read = _count(details.get("cached_tokens"))
        write = _count(usage.get("cache_creation_input_tokens"))
        if not isinstance(write, int):
            write = _count(details.get("cache_creation_tokens"))
        read = read if isinstance(read, int) and read >= 0 else None
        write = write if isinstance(write, int) and write >= 0 else None
        if read is not None or write is not None:
            return read, write
    return None, None


def _count(value: Any) -> Any:
    """A whole number as int; anything else is passed on as it is, for the loader to judge."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return text or None
        return int(number) if number.is_integer() and abs(number) < 1e15 else text
    return value


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"))


def _dump(record: Any) -> str:
    return json.dumps(record, separators=(",", ":"), default=str)[:10_000]


ADAPTERS = [
    Adapter(
        "litellm-spend-logs",
        "LiteLLM proxy spend logs (LiteLLM_SpendLogs export: CSV, JSON or JSON Lines)",
        sniff,
        convert,
    )
]
