"""Claude Code's own OpenTelemetry export (OTLP/JSON metrics and log events) -> canonical rows.

Input: what an OpenTelemetry collector's file exporter writes for Claude Code (one `{"resourceMetrics":
[...]}` or `{"resourceLogs": [...]}` export batch per line), or a single OTLP/JSON document. Field names
are those of Claude Code's "Monitoring usage" documentation. Two tools, because a tool sends either
events or daily rows, never both:

- `claude-code` — usage_events from the log events, one per `claude_code.api_request`:
  event_id `claude-code:<request_id>` (else `claude-code:<session.id>:<event.sequence>`, else a hash
  of the record), ts from event.timestamp (else the record's time), model, session.id, prompt.id,
  input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens -> cache_write_tokens,
  cost_usd. Claude Code's input_tokens already excludes cache reads and writes, as the canonical
  column does. The request id is also what claude_code_sessions keys on, so the same call imported
  from a session log is recognised instead of being counted twice.
  initiated_by: query_source `subagent` or `auxiliary` -> agent; for the main loop, the first call of
  a prompt whose `claude_code.user_prompt` event is in the file -> human (with prompt_chars from
  prompt_length), its later calls -> agent (tool-use steps serving that one human turn), and the first
  call of a prompt whose user_prompt is not in the file -> unknown. prompt_fingerprint only when the
  prompt text was exported (OTEL_LOG_USER_PROMPTS=1); the text itself is never kept.
  `claude_code.tool_decision` for an edit tool (Edit, MultiEdit, Write, NotebookEdit) -> outcomes
  edit_accepted / edit_rejected, id from tool_use_id.
- `claude-code-metrics` — usage_daily per person, UTC day and model from the metrics:
  claude_code.token.usage (type input/output/cacheRead/cacheCreation), claude_code.cost.usage, and
  claude_code.active_time.total (both types, user and cli, in minutes, on the row with no model);
  and outcomes from claude_code.lines_of_code.count (lines_added/lines_removed),
  claude_code.commit.count (commit), claude_code.pull_request.count (pr_opened) and
  claude_code.code_edit_tool.decision (edit_accepted/edit_rejected), each outcome id a hash of the
  data point's identity (metric, attributes, start and end time).

Temporality: Claude Code exports delta sums by default; each delta point is added as it is. For
cumulative sums (aggregationTemporality 2) each series (metric, attributes, start time) is turned into
deltas: a point counts what it adds over the previous point of its series in the file, the first point
counts everything since its start time, and a value that drops is taken as a restarted counter.
Identical data points (a re-sent batch) count once.

The metrics and the log events measure the same API calls. Within one file, a person's day that has
api_request events takes its tokens and cost from the events, and its edit decisions from
tool_decision events, and the overlapping metric points are skipped (said in the warnings). Across
files nothing can tell, so load one or the other for a given person and period.

Identity (user_id): user.email, else user.account_uuid, else user.account_id, from the record or its
resource. Refused with a reason: records and points that name nobody, metric values that are negative
or not numbers, unknown token types or decisions, and metrics sent as something other than a sum.
Other events (tool_result, api_error, ...) and metrics (session.count) carry no usage and are counted
in the warnings, not loaded.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analytics.formats import Adapter, Converted, frame
from analytics.formats.claude_code_sessions import prompt_fingerprint
from analytics.formats.otel_genai import (
    MalformedBatch,
    attributes,
    first_present,
    nanos_to_iso,
    objects,
    one_object,
    raw,
    read_batches,
    whole_number,
)

EVENTS_TOOL = "claude-code"
METRICS_TOOL = "claude-code-metrics"
IDENTITY_KEYS = ("user.email", "user.account_uuid", "user.account_id")
EDIT_TOOLS = {"Edit", "MultiEdit", "Write", "NotebookEdit"}
TOKEN_TYPES = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cacheRead": "cache_read_tokens",
    "cacheCreation": "cache_write_tokens",
}
USAGE_METRICS = {"claude_code.token.usage", "claude_code.cost.usage", "claude_code.active_time.total"}
OUTCOME_METRICS = {
    "claude_code.lines_of_code.count",
    "claude_code.commit.count",
    "claude_code.pull_request.count",
    "claude_code.code_edit_tool.decision",
}
DELTA, CUMULATIVE = 1, 2
REDACTED = "<REDACTED>"


def sniff(head: str) -> bool:
    return ('"resourceMetrics"' in head or '"resourceLogs"' in head) and '"claude_code.' in head


@dataclass
class _Point:
    line: int
    metric: str
    temporality: int
    point: dict
    attrs: dict
    value: float | None = None  # what this point adds (after the cumulative -> delta step)


def convert(path: Path) -> Converted:
    out = Converted()
    points: list[_Point] = []
    records: list[tuple[int, str, dict, dict]] = []  # (line, event name, log record, merged attributes)
    skipped: Counter[str] = Counter()
    for line, batch in read_batches(path, out.rejects):
        # Each batch is read on its own first, so a malformed one is rejected whole, with its reason.
        found = Converted()
        batch_points: list[_Point] = []
        batch_records = []
        batch_skipped: Counter[str] = Counter()
        try:
            for resource_metrics in objects(batch.get("resourceMetrics"), "resourceMetrics"):
                resource = attributes(one_object(resource_metrics.get("resource"), "resource").get("attributes"))
                for scope in objects(resource_metrics.get("scopeMetrics"), "scopeMetrics"):
                    for metric in objects(scope.get("metrics"), "metrics"):
                        _collect_metric(line, metric, resource, batch_points, found, batch_skipped)
            for resource_logs in objects(batch.get("resourceLogs"), "resourceLogs"):
                resource = attributes(one_object(resource_logs.get("resource"), "resource").get("attributes"))
                for scope in objects(resource_logs.get("scopeLogs"), "scopeLogs"):
                    for record in objects(scope.get("logRecords"), "logRecords"):
                        attrs = {**resource, **attributes(record.get("attributes"))}
                        batch_records.append((line, _event_name(record, attrs), record, attrs))
        except MalformedBatch as exc:
            out.rejects.append((line, f"not an OTLP/JSON export batch: {exc}", raw(batch)))
            continue
        points.extend(batch_points)
        records.extend(batch_records)
        out.rejects.extend(found.rejects)
        skipped.update(batch_skipped)
        if batch.get("resourceSpans"):
            skipped["span batch (traces are not read here)"] += 1
        if not any(k in batch for k in ("resourceMetrics", "resourceLogs", "resourceSpans")):
            skipped["line that is no OTLP export batch"] += 1

    events, event_outcomes, covered = _convert_events(records, out, skipped)
    daily, metric_outcomes = _convert_metrics(points, covered, out, skipped)
    out.tables = {
        "usage_events": frame("usage_events", events),
        "usage_daily": frame("usage_daily", daily),
        "outcomes": frame("outcomes", event_outcomes + metric_outcomes),
    }
    if skipped:
        notes = ", ".join(f"{n} × {what}" for what, n in sorted(skipped.items()))
        out.warnings.append(f"{path.name}: not loaded as usage: {notes}")
    if daily:
        out.warnings.append(
            f"{path.name}: daily rows from metrics replace any loaded earlier for the same person, day and "
            "model, so load all of a day's collector output in one file (concatenate rotated files)"
        )
    return out


# -- log events -------------------------------------------------------------------------------------------


def _event_name(record: dict, attrs: dict) -> str:
    body = record.get("body")
    body = body.get("stringValue") if isinstance(body, dict) else body
    if isinstance(body, str) and body.startswith("claude_code."):
        return body
    name = str(attrs.get("event.name") or "")
    return name if name.startswith("claude_code.") else f"claude_code.{name}"


def _event_time(record: dict, attrs: dict) -> str | None:
    return attrs.get("event.timestamp") or nanos_to_iso(
        record.get("timeUnixNano") or record.get("observedTimeUnixNano")
    )


def _moment(ts: Any) -> datetime:
    """For ordering only: a timestamp as an aware datetime (unreadable ones sort last)."""
    try:
        moment = datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _utc_day(ts: Any) -> str:
    moment = _moment(ts)
    return str(ts)[:10] if moment.year == datetime.max.year else moment.astimezone(UTC).date().isoformat()


def _sequence(attrs: dict) -> int:
    try:
        return int(attrs.get("event.sequence"))
    except (TypeError, ValueError):
        return 0


def _record_id(attrs: dict, record: dict) -> str:
    session, sequence = attrs.get("session.id"), attrs.get("event.sequence")
    if session and sequence not in (None, ""):
        return f"{session}:{sequence}"
    return "h" + hashlib.sha1(raw(record).encode()).hexdigest()[:20]


def _convert_events(records, out: Converted, skipped: Counter) -> tuple[list, list, dict]:
    """usage_events and outcomes from the log events, and the (person, day) pairs they cover:
    {"tokens": {...}, "decisions": {...}} for the metrics step."""
    prompts: dict[str, dict] = {}
    for _, name, _, attrs in records:
        if name == "claude_code.user_prompt" and attrs.get("prompt.id"):
            prompts[str(attrs["prompt.id"])] = attrs
    requests = [r for r in records if r[1] == "claude_code.api_request"]
    requests.sort(key=lambda r: (_moment(_event_time(r[2], r[3])), _sequence(r[3])))
    started: set[str] = set()  # prompt ids whose first main-loop call has been seen
    events, outcomes = [], []
    covered: dict[str, set] = {"tokens": set(), "decisions": set()}
    for line, _, record, attrs in requests:
        user = first_present(attrs, *IDENTITY_KEYS)
        if user is None:
            out.rejects.append((line, _nobody("api_request"), raw(record)))
            continue
        ts = _event_time(record, attrs)
        row = {
            "_line": line,
            "_raw": record,
            "event_id": f"{EVENTS_TOOL}:{attrs.get('request_id') or _record_id(attrs, record)}",
            "ts": ts,
            "user_id": user,
            "tool": EVENTS_TOOL,
            "model": attrs.get("model"),
            "session_id": attrs.get("session.id"),
            "prompt_id": attrs.get("prompt.id"),
            "input_tokens": attrs.get("input_tokens"),
            "output_tokens": attrs.get("output_tokens"),
            "cache_read_tokens": attrs.get("cache_read_tokens"),
            "cache_write_tokens": attrs.get("cache_creation_tokens"),
            "cost_usd": attrs.get("cost_usd"),
        }
        row.update(_initiator(attrs, prompts, started))
        events.append(row)
        covered["tokens"].add((str(user).lower(), _utc_day(ts)))
    for line, name, record, attrs in records:
        if name in ("claude_code.api_request", "claude_code.user_prompt"):
            continue
        if name != "claude_code.tool_decision":
            skipped[f"{name} event"] += 1
            continue
        if attrs.get("tool_name") not in EDIT_TOOLS:
            skipped["tool_decision for a tool that does not edit code"] += 1
            continue
        kind = _decision_kind(attrs.get("decision"))
        user = first_present(attrs, *IDENTITY_KEYS)
        if kind is None:
            reason = f'tool_decision decision "{attrs.get("decision")}" is not accept or reject'
            out.rejects.append((line, reason, raw(record)))
        elif user is None:
            out.rejects.append((line, _nobody("tool_decision"), raw(record)))
        else:
            ts = _event_time(record, attrs)
            key = attrs.get("tool_use_id") or _record_id(attrs, record)
            outcomes.append(
                {
                    "_line": line,
                    "_raw": record,
                    "outcome_id": f"{EVENTS_TOOL}:decision:{key}",
                    "ts": ts,
                    "user_id": user,
                    "kind": kind,
                    "quantity": 1,
                    "tool": EVENTS_TOOL,
                    "session_id": attrs.get("session.id"),
                }
            )
            covered["decisions"].add((str(user).lower(), _utc_day(ts)))
    used_prompts = {str(r[3].get("prompt.id")) for r in requests}
    unused = [p for p in prompts if p not in used_prompts]
    if unused:
        skipped["user_prompt with no api_request in this file"] += len(unused)
    return events, outcomes, covered


def _initiator(attrs: dict, prompts: dict[str, dict], started: set[str]) -> dict:
    """initiated_by (and, for the call that starts a human turn, the prompt's length and fingerprint)."""
    source = str(attrs.get("query_source") or "").lower()
    if source in ("subagent", "auxiliary") or source.startswith("agent"):
        return {"initiated_by": "agent"}
    if source not in ("", "main"):
        return {"initiated_by": "unknown"}
    prompt_id = str(attrs.get("prompt.id") or "")
    if not prompt_id:
        return {"initiated_by": "unknown"}
    if prompt_id in started:
        return {"initiated_by": "agent"}  # a later step of a turn already counted
    started.add(prompt_id)
    prompt = prompts.get(prompt_id)
    if prompt is None:
        return {"initiated_by": "unknown"}
    text = prompt.get("prompt")
    has_text = isinstance(text, str) and text and text != REDACTED
    return {
        "initiated_by": "human",
        "prompt_chars": prompt.get("prompt_length")
        if prompt.get("prompt_length") is not None
        else (len(text) if has_text else None),
        "prompt_fingerprint": prompt_fingerprint(text) if has_text else None,
    }


def _nobody(what: str) -> str:
    return f"{what} names nobody (no user.email, user.account_uuid or user.account_id attribute)"


# -- metrics ----------------------------------------------------------------------------------------------


def _collect_metric(line: int, metric: dict, resource: dict, points: list, out: Converted, skipped: Counter) -> None:
    name = str(metric.get("name") or "")
    if name not in USAGE_METRICS | OUTCOME_METRICS:
        body = next((metric[k] for k in ("sum", "gauge", "histogram") if isinstance(metric.get(k), dict)), {})
        listed = body.get("dataPoints")
        skipped[f"{name or 'unnamed'} metric point"] += (len(listed) if isinstance(listed, list) else 0) or 1
        return
    body = metric.get("sum")
    if not isinstance(body, dict):
        shape = next((k for k in ("gauge", "histogram", "exponentialHistogram", "summary") if k in metric), "nothing")
        out.rejects.append((line, f"{name} arrived as {shape}, not as a sum, so it cannot be added up", raw(metric)))
        return
    temporality = _temporality(body.get("aggregationTemporality"))
    for point in objects(body.get("dataPoints"), f"{name} dataPoints"):
        if temporality is None:
            out.rejects.append((line, f"{name} has no aggregationTemporality (delta or cumulative)", raw(point)))
            continue
        attrs = {**resource, **attributes(point.get("attributes"))}
        points.append(_Point(line, name, temporality, point, attrs))


def _temporality(value: Any) -> int | None:
    if value in (DELTA, "1", "AGGREGATION_TEMPORALITY_DELTA"):
        return DELTA
    if value in (CUMULATIVE, "2", "AGGREGATION_TEMPORALITY_CUMULATIVE"):
        return CUMULATIVE
    return None


def _number(point: dict) -> float | None:
    value = point.get("asInt", point.get("asDouble"))
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _nanos(point: dict | _Point) -> int | None:
    """A data point's time as whole nanoseconds (int64 travels as a string in OTLP/JSON), else None."""
    point = point.point if isinstance(point, _Point) else point
    nanos = whole_number(point.get("timeUnixNano"))
    return nanos if nanos is not None and 0 < nanos < 2**63 else None


def _series_key(p: _Point) -> str:
    return json.dumps([p.metric, sorted(p.attrs.items()), p.point.get("startTimeUnixNano")], default=str)


def _point_id(p: _Point) -> str:
    identity = [p.metric, sorted(p.attrs.items()), p.point.get("startTimeUnixNano"), p.point.get("timeUnixNano")]
    return hashlib.sha1(json.dumps(identity, default=str).encode()).hexdigest()[:24]


def _deltas(points: list[_Point], out: Converted, skipped: Counter) -> list[_Point]:
    """The points with `value` set to what each adds; unreadable or negative ones rejected."""
    seen: set[tuple[str, Any]] = set()
    kept: list[_Point] = []
    for p in points:
        value = _number(p.point)
        if value is None:
            out.rejects.append((p.line, f"{p.metric} data point has no numeric asInt or asDouble", raw(p.point)))
            continue
        if value < 0:
            out.rejects.append((p.line, f"{p.metric} value is negative ({value:g}); counters only go up", raw(p.point)))
            continue
        if _nanos(p.point) is None:
            shown = str(p.point.get("timeUnixNano"))[:60]
            reason = f"{p.metric} data point has no timeUnixNano in nanoseconds since 1970 (got {shown})"
            out.rejects.append((p.line, reason, raw(p.point)))
            continue
        key = (_point_id(p), value)
        if key in seen:
            skipped["repeated metric data point (same series, time and value)"] += 1
            continue
        seen.add(key)
        p.value = value
        kept.append(p)
    series: dict[str, list[_Point]] = defaultdict(list)
    for p in kept:
        if p.temporality == CUMULATIVE:
            series[_series_key(p)].append(p)
    resets = 0
    for run in series.values():
        run.sort(key=_nanos)
        previous = 0.0
        for p in run:
            total = p.value
            if total < previous:  # the counter restarted without a new start time
                resets += 1
                p.value = total
            else:
                p.value = total - previous
            previous = total
    if resets:
        out.warnings.append(f"{resets} cumulative metric value(s) dropped and were taken as restarted counters")
    return kept


def _convert_metrics(points: list[_Point], covered: dict[str, set], out: Converted, skipped: Counter):
    """usage_daily rows (summed per person, UTC day and model) and outcomes from the metric points."""
    daily: dict[tuple[str, str, str], dict] = {}
    outcomes = []
    for p in _deltas(points, out, skipped):
        user = first_present(p.attrs, *IDENTITY_KEYS)
        if user is None:
            out.rejects.append((p.line, _nobody(f"{p.metric} data point"), raw(p.point)))
            continue
        ts = nanos_to_iso(_nanos(p))
        day = str(ts)[:10]
        if p.metric in USAGE_METRICS:
            _add_usage(p, user, day, daily, covered, out, skipped)
            continue
        kind = _outcome_kind(p)
        if kind is None:
            what = "decision" if p.metric.endswith("decision") else "type"
            reason = f'{p.metric} {what} "{p.attrs.get(what)}" is not one this importer knows'
            out.rejects.append((p.line, reason, raw(p.point)))
        elif p.metric == "claude_code.code_edit_tool.decision" and (str(user).lower(), day) in covered["decisions"]:
            skipped["code_edit_tool.decision point for a day the tool_decision events already cover"] += 1
        elif p.value > 0:  # a zero means nothing happened in that interval
            outcomes.append(
                {
                    "_line": p.line,
                    "_raw": p.point,
                    "outcome_id": f"{METRICS_TOOL}:{_point_id(p)}",
                    "ts": ts,
                    "user_id": user,
                    "kind": kind,
                    "quantity": p.value,
                    "tool": METRICS_TOOL,
                    "session_id": p.attrs.get("session.id"),
                }
            )
    rows = []
    for row in daily.values():
        lines = sorted(row.pop("_lines"))
        rows.append({**row, "_line": lines[0], "_raw": {"aggregated_metric_points_from_lines": lines[:50]}})
    return rows, outcomes


def _add_usage(p: _Point, user: str, day: str, daily: dict, covered: dict, out: Converted, skipped: Counter) -> None:
    """Add a token, cost or active-time point to its person's daily row."""
    if p.metric == "claude_code.active_time.total":
        row = _daily_row(daily, day, user, "")
        row["active_minutes"] = (row["active_minutes"] or 0) + p.value / 60
        row["_lines"].add(p.line)
        return
    kind = p.attrs.get("type")
    if p.metric == "claude_code.token.usage" and kind not in TOKEN_TYPES:
        reason = f'claude_code.token.usage type "{kind}" is not input, output, cacheRead or cacheCreation'
        out.rejects.append((p.line, reason, raw(p.point)))
        return
    if (str(user).lower(), day) in covered["tokens"]:
        skipped[f"{p.metric} point for a day the api_request events already cover"] += 1
        return
    row = _daily_row(daily, day, user, str(p.attrs.get("model") or ""))
    column = TOKEN_TYPES[kind] if p.metric == "claude_code.token.usage" else "cost_usd"
    row[column] = (row[column] or 0) + p.value
    row["_lines"].add(p.line)


def _daily_row(daily: dict, day: str, user: str, model: str) -> dict:
    key = (day, str(user).lower(), model)
    if key not in daily:
        daily[key] = {
            "day": day,
            "user_id": user,
            "tool": METRICS_TOOL,
            "model": model,
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "cost_usd": None,
            "active_minutes": None,
            "_lines": set(),
        }
    return daily[key]


def _outcome_kind(p: _Point) -> str | None:
    if p.metric == "claude_code.commit.count":
        return "commit"
    if p.metric == "claude_code.pull_request.count":
        return "pr_opened"
    if p.metric == "claude_code.lines_of_code.count":
        return {"added": "lines_added", "removed": "lines_removed"}.get(str(p.attrs.get("type")))
    return _decision_kind(p.attrs.get("decision"))


def _decision_kind(decision: Any) -> str | None:
    text = str(decision or "").lower()
    if text.startswith("accept"):
        return "edit_accepted"
    if text.startswith("reject"):
        return "edit_rejected"
    return None


ADAPTERS = [
    Adapter(
        "claude-code-otel",
        "Claude Code OpenTelemetry export (OTLP/JSON): log events -> usage events (tool claude-code), "
        "metrics -> daily rows (tool claude-code-metrics), plus outcomes",
        sniff,
        convert,
    )
]
