"""OpenTelemetry GenAI spans (OTLP/JSON `resourceSpans`) -> usage_events, and the OTLP/JSON reading helpers.

Input: what an OpenTelemetry collector's file exporter writes (one `{"resourceSpans": [...]}` export
batch per line) or a single OTLP/JSON document. Spans follow the GenAI semantic conventions
(`gen_ai.*` attributes). One span that carries token usage is one usage_events row:

- event_id: `otel:<traceId>:<spanId>` (stable, so re-importing a file changes nothing);
- ts: the span's startTimeUnixNano; model: gen_ai.response.model, else gen_ai.request.model;
- tool: the resource's service.name (the application, e.g. `internal-agent`), else gen_ai.provider.name,
  else the deprecated gen_ai.system;
- user_id: enduser.id, else user.email, else user.id, else user.name (span or resource attribute);
- session_id: gen_ai.conversation.id, else session.id;
- initiated_by: `agent` when the span or a span above it belongs to an agent (gen_ai.agent.* attributes
  or an `invoke_agent` operation), else `unknown`: spans do not say whether a person typed the request.

Tokens are normalised to the canonical meaning. The convention counts cache reads
(gen_ai.usage.cache_read.input_tokens) and cache writes (gen_ai.usage.cache_creation.input_tokens) inside
gen_ai.usage.input_tokens, while canonical input_tokens excludes both, so both are subtracted. A span
whose input is smaller than its cache reads plus writes does not follow the convention and is rejected
rather than guessed at. Deprecated names (gen_ai.usage.prompt_tokens, completion_tokens,
cache_read_input_tokens, cache_creation_input_tokens) are read when the current ones are absent.

Refused: spans with usage but no identity, no trace or span id, or unreadable counts (rejected with the
reason). Not loaded, and said so in the file's warnings: spans without usage (tool calls, workflow
steps), a span whose usage is the sum of usage spans below it (counting both would count twice), and
Claude Code's own spans (names `claude_code.*` or service `claude-code`; its log events are the
source for those calls, see claude_code_otel). Metrics and logs batches in a spans file are skipped
with a warning. Prompt text is never stored; spans get no prompt_fingerprint.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from analytics import formats
from analytics.formats import Adapter, Converted, frame

# -- OTLP/JSON helpers, shared with claude_code_otel ----------------------------------------------------


def read_batches(path: Path, rejects: list[tuple[int, str, str]]) -> Iterator[tuple[int, dict]]:
    """(line, export batch) for each batch of an OTLP/JSON file.

    A collector's file exporter writes one batch per line; a single document (possibly pretty-printed,
    or a JSON array of batches) is accepted too, numbered by its position. Lines that are not JSON
    objects go to `rejects`.
    """
    if first_line_is_json(path):
        for line, value in formats.iter_json_lines(path, rejects):
            if isinstance(value, dict):
                yield line, value
            else:
                rejects.append((line, "line is not a JSON object", json.dumps(value)[:10_000]))
        return
    document = formats.read_json_document(path)
    batches = document if isinstance(document, list) else [document]
    for number, batch in enumerate(batches, start=1):
        if isinstance(batch, dict):
            yield number, batch
        else:
            rejects.append((number, "record is not a JSON object", json.dumps(batch)[:10_000]))


def first_line_is_json(path: Path) -> bool:
    """Whether the first non-blank line is a JSON value by itself (JSON Lines, or a one-line document)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            if line.strip():
                try:
                    json.loads(line)
                except json.JSONDecodeError:
                    return False
                return True
    return False


class MalformedBatch(ValueError):
    """An export batch whose structure is not OTLP/JSON; the whole batch is rejected with this reason."""


def objects(value: Any, where: str) -> list[dict]:
    """The objects of a list field of a batch ([] when absent); MalformedBatch when it is anything else."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MalformedBatch(f"{where} is not a list of objects")
    return value


def one_object(value: Any, where: str) -> dict:
    """An object field of a batch ({} when absent); MalformedBatch when it is anything else."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedBatch(f"{where} is not an object")
    return value


def attributes(items: Any) -> dict[str, Any]:
    """OTLP key/value attribute list as a plain dict (a dict is taken as it is)."""
    if isinstance(items, dict):
        return dict(items)
    if items is not None and not isinstance(items, list):
        raise MalformedBatch("attributes is not a list of key/value pairs")
    out: dict[str, Any] = {}
    for item in items or ():
        if isinstance(item, dict) and "key" in item:
            out[str(item["key"])] = any_value(item.get("value"))
    return out


def any_value(value: Any) -> Any:
    """An OTLP AnyValue ({"stringValue": ...}, {"intValue": "12"}, ...) as a Python value."""
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue", "bytesValue"):
        if key in value:
            return value[key]
    if "intValue" in value:  # int64 travels as a JSON string in OTLP/JSON
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return value["intValue"]
    if isinstance(value.get("arrayValue"), dict):
        return [any_value(v) for v in value["arrayValue"].get("values") or []]
    if isinstance(value.get("kvlistValue"), dict):
        return attributes(value["kvlistValue"].get("values"))
    return None


def nanos_to_iso(value: Any) -> str | None:
    """Unix nanoseconds (number or string) as an ISO-8601 UTC timestamp; odd values pass through as text
    so the canonical checks reject them with their value, and 0 or absent means no time."""
    if value in (None, "", 0, "0"):
        return None
    try:
        nanos = int(value)
    except (TypeError, ValueError):
        return str(value)
    seconds, rest = divmod(nanos, 1_000_000_000)
    try:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds, microseconds=rest // 1000)
    except OverflowError:
        return str(value)
    return moment.isoformat()


def whole_number(value: Any) -> int | None:
    """A count from an attribute (int, whole float or digit string), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return int(number) if number.is_integer() else None
    return None


def first_present(attrs: dict[str, Any], *names: str) -> Any:
    """The value of the first of `names` that is present and not empty."""
    for name in names:
        value = attrs.get(name)
        if value is not None and value != "":
            return value
    return None


def raw(record: Any) -> str:
    return json.dumps(record, separators=(",", ":"), default=str)[:10_000]


# -- GenAI spans ---------------------------------------------------------------------------------------

TOOL = "otel-genai"  # only a fallback name; the tool normally comes from service.name or the provider
IDENTITY_KEYS = ("enduser.id", "user.email", "user.id", "user.name")
INPUT_KEYS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT_KEYS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
CACHE_READ_KEYS = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens")
CACHE_WRITE_KEYS = ("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens")
USAGE_KEYS = INPUT_KEYS + OUTPUT_KEYS + CACHE_READ_KEYS + CACHE_WRITE_KEYS


def sniff(head: str) -> bool:
    # Claude Code's own metrics and logs belong to claude_code_otel; Claude Code spans in a traces file
    # beside other applications' spans do not stop it being a spans file (they are skipped with a note).
    claude_code_export = ('"resourceMetrics"' in head or '"resourceLogs"' in head) and '"claude_code.' in head
    return '"resourceSpans"' in head and '"gen_ai.' in head and not claude_code_export


def convert(path: Path) -> Converted:
    out = Converted()
    spans: list[tuple[int, dict, dict]] = []  # (line, span, merged attributes)
    skipped: Counter[str] = Counter()
    for line, batch in read_batches(path, out.rejects):
        if "resourceSpans" not in batch:
            other = next((k for k in ("resourceMetrics", "resourceLogs") if k in batch), "an unknown batch")
            skipped[f"{other} line (not spans)"] += 1
            continue
        try:
            spans.extend(_batch_spans(line, batch))
        except MalformedBatch as exc:
            out.rejects.append((line, f"not an OTLP/JSON export batch: {exc}", raw(batch)))
    with_usage = [(line, span, attrs) for line, span, attrs in spans if any(k in attrs for k in USAGE_KEYS)]
    if len(spans) > len(with_usage):
        skipped["span without token usage"] += len(spans) - len(with_usage)
    parents = {_span_key(span): str(span.get("parentSpanId") or "") for _, span, _ in spans}
    agents = {_span_key(span) for _, span, attrs in spans if _is_agent(attrs)}
    usage_keys = {_span_key(span) for _, span, _ in with_usage}
    above_usage = set()  # spans that have a usage span somewhere below them
    for key in usage_keys:
        for ancestor in _ancestors(key, parents):
            above_usage.add(ancestor)
    events = []
    for line, span, attrs in with_usage:
        key = _span_key(span)
        if _is_claude_code(span, attrs):
            skipped["Claude Code span (load its log events with claude-code-otel)"] += 1
            continue
        if key in above_usage:
            skipped["span whose usage is the sum of the usage spans below it"] += 1
            continue
        row, reason = _event(span, attrs, agent=key in agents or bool(agents & set(_ancestors(key, parents))))
        if reason:
            out.rejects.append((line, reason, raw(span)))
        else:
            events.append({"_line": line, "_raw": span, **row})
    if skipped:
        notes = ", ".join(f"{n} × {what}" for what, n in sorted(skipped.items()))
        out.warnings.append(f"{path.name}: not loaded as usage: {notes}")
    out.tables = {"usage_events": frame("usage_events", events)}
    return out


def _batch_spans(line: int, batch: dict) -> list[tuple[int, dict, dict]]:
    """(line, span, merged attributes) for every span of one export batch; MalformedBatch when its shape
    is not OTLP/JSON, so a batch loads whole or not at all."""
    found = []
    for resource_spans in objects(batch.get("resourceSpans"), "resourceSpans"):
        resource = attributes(one_object(resource_spans.get("resource"), "resource").get("attributes"))
        scopes = resource_spans.get("scopeSpans") or resource_spans.get("instrumentationLibrarySpans")
        for scope_spans in objects(scopes, "scopeSpans"):
            for span in objects(scope_spans.get("spans"), "spans"):
                found.append((line, span, {**resource, **attributes(span.get("attributes"))}))
    return found


def _span_key(span: dict) -> tuple[str, str]:
    return (str(span.get("traceId") or ""), str(span.get("spanId") or ""))


def _ancestors(key: tuple[str, str], parents: dict[tuple[str, str], str]) -> list[tuple[str, str]]:
    out, seen = [], {key}
    parent = parents.get(key, "")
    while parent:
        here = (key[0], parent)
        if here in seen:  # a malformed loop of parents
            break
        seen.add(here)
        out.append(here)
        parent = parents.get(here, "")
    return out


def _is_agent(attrs: dict[str, Any]) -> bool:
    return attrs.get("gen_ai.operation.name") == "invoke_agent" or any(
        k in attrs for k in ("gen_ai.agent.id", "gen_ai.agent.name")
    )


def _is_claude_code(span: dict, attrs: dict[str, Any]) -> bool:
    return str(span.get("name") or "").startswith("claude_code.") or attrs.get("service.name") == "claude-code"


def _event(span: dict, attrs: dict[str, Any], *, agent: bool) -> tuple[dict, str | None]:
    trace_id, span_id = _span_key(span)
    if not trace_id or not span_id:
        return {}, "span has no traceId or spanId, so it cannot get a stable event id"
    user = first_present(attrs, *IDENTITY_KEYS)
    if user is None:
        return {}, "span names nobody (no enduser.id, user.email, user.id or user.name attribute)"
    counts: dict[str, int | None] = {}
    for column, keys in (
        ("input", INPUT_KEYS),
        ("output", OUTPUT_KEYS),
        ("cache_read", CACHE_READ_KEYS),
        ("cache_write", CACHE_WRITE_KEYS),
    ):
        name = next((k for k in keys if attrs.get(k) not in (None, "")), None)
        if name is None:
            counts[column] = None
            continue
        value = whole_number(attrs[name])
        if value is None:
            return {}, f"{name} is not a whole number: {str(attrs[name])[:60]}"
        if value < 0:
            return {}, f"{name} is negative ({value})"
        counts[column] = value
    cache_read, cache_write = counts["cache_read"] or 0, counts["cache_write"] or 0
    input_tokens = counts["input"]
    if input_tokens is not None:
        if input_tokens < cache_read + cache_write:
            return {}, (
                f"gen_ai.usage.input_tokens ({input_tokens}) is less than its cache reads + writes "
                f"({cache_read} + {cache_write}); the convention counts them inside input, so this span "
                "does not follow it"
            )
        input_tokens -= cache_read + cache_write
    output_tokens = counts["output"]
    if output_tokens is None and attrs.get("gen_ai.operation.name") == "embeddings":
        output_tokens = 0  # embeddings generate nothing
    service = attrs.get("service.name")
    if not service or str(service).startswith("unknown_service"):
        service = None
    return {
        "event_id": f"otel:{trace_id}:{span_id}",
        "ts": nanos_to_iso(span.get("startTimeUnixNano")),
        "user_id": user,
        "tool": service or first_present(attrs, "gen_ai.provider.name", "gen_ai.system") or TOOL,
        "model": first_present(attrs, "gen_ai.response.model", "gen_ai.request.model"),
        "session_id": first_present(attrs, "gen_ai.conversation.id", "session.id"),
        "initiated_by": "agent" if agent else "unknown",
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
    }, None


ADAPTERS = [
    Adapter(
        "otel-genai",
        "OpenTelemetry GenAI spans (OTLP/JSON resourceSpans with gen_ai.usage.*) -> one usage event per model call",
        sniff,
        convert,
    )
]
