"""Cursor Admin API exports: filtered usage events as usage events, daily usage data as daily rows and outcomes.

The contract lets a tool send either events or daily rows, never both, and a Cursor team can export
both. So the two land under two tool names:

- `cursor-events` (tool `cursor`): `POST /teams/filtered-usage-events` responses, one page
  (`usageEvents[]` or `usageEventsDisplay[]`), a JSON array of pages or of events, or NDJSON with one
  event or one page per line.

  ================================================  ==========================================
  event field                                       canonical column
  ================================================  ==========================================
  hash of timestamp, user, model and token counts   event_id `cursor:<24 hex>` (events carry no
                                                    id; the same event re-exported gets the
                                                    same id, so reloading changes nothing)
  `timestamp` (epoch milliseconds)                  ts (UTC)
  `userEmail`, else `owningUser`                    user_id (e-mail lower-cased)
  `model`                                           model
  `conversationId`                                  session_id
  `isHeadless` true                                 initiated_by `agent` (no client attached);
                                                    otherwise `unknown`
  `tokenUsage.inputTokens`, `outputTokens`,         input_tokens, output_tokens,
  `cacheReadTokens`, `cacheWriteTokens`             cache_read_tokens, cache_write_tokens
                                                    (0 for request-priced events without
                                                    tokenUsage; a warning counts them)
  `chargedCents` / 100, else                        cost_usd (what Cursor charged, its token
  `tokenUsage.totalCents` / 100                     fee included; else the model cost)
  ================================================  ==========================================

- `cursor-daily` (tool `cursor-daily`): `POST /teams/daily-usage-data` responses (`data[]`, one row
  per user per day), as one JSON document or NDJSON.

  ================================================  ==========================================
  daily field                                       canonical column
  ================================================  ==========================================
  `day` (YYYY-MM-DD), else `date` (epoch ms, UTC)   usage_daily.day; outcomes ts = day 12:00Z
  `email`, else `userId`                            user_id
  `composerRequests` + `chatRequests` +             human_prompts (what the person asked for)
  `agentRequests` + `cmdkUsages`
  the same + `totalTabsShown`                       requests (tab completions are model output)
  `totalAccepts` + `totalTabsAccepted`              outcome edit_accepted
  `totalRejects`                                    outcome edit_rejected
  `acceptedLinesAdded` / `acceptedLinesDeleted`     outcomes lines_added / lines_removed (lines
                                                    from accepted AI suggestions, not all lines
                                                    the person typed)
  ================================================  ==========================================

  Daily data has no tokens (0) and no cost. `mostUsedModel` is not used as the row's model: it is
  the day's most used model, not the model of every request, and as part of the row's key a
  re-pulled day whose most used model changed would add a second row instead of replacing the
  first. `bugbotUsages` (pull-request reviews Bugbot runs on its own) is not counted as requests.
  Outcome ids are `cursor:<day>:<user>:<kind>`; outcomes are immutable, so a re-pulled day with
  different counts has those outcomes rejected as conflicts while its daily row is replaced.

A team that loads both files counts requests twice (events are one request each); tokens and cost
come from the events only.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from analytics import formats
from analytics.formats import Adapter, Converted

EVENTS_TOOL = "cursor"
DAILY_TOOL = "cursor-daily"
PROMPT_FIELDS = ("composerRequests", "chatRequests", "agentRequests", "cmdkUsages")


class BadRecord(Exception):
    """One source record that cannot be converted; the reason goes with it into the rejects."""


# -- sniffing -----------------------------------------------------------------------------------------


def sniff_events(head: str) -> bool:
    if '"usageEvents"' in head or '"usageEventsDisplay"' in head:
        return True
    return '"timestamp"' in head and ('"isTokenBasedCall"' in head or '"chargedCents"' in head)


def sniff_daily(head: str) -> bool:
    return '"acceptedLinesAdded"' in head and any(
        key in head for key in ('"totalTabsShown"', '"composerRequests"', '"agentRequests"')
    )


# -- reading ------------------------------------------------------------------------------------------


def _read(path: Path, rejects: list[tuple[int, str, str]], list_keys: tuple[str, ...]) -> list[tuple[int, Any]]:
    """(line or record number, record) for every record in a response document or NDJSON file.

    A response object is opened at the first of `list_keys` it holds; a JSON array may hold records
    or response objects (several pages saved together).
    """

    def expand(value: Any) -> list[Any]:
        if isinstance(value, list):
            return [record for item in value for record in expand(item)]
        if isinstance(value, dict):
            for key in list_keys:
                if isinstance(value.get(key), list):
                    return list(value[key])
        return [value]

    shape, value = formats.read_json_or_lines(path, rejects)
    if shape == "document":  # a (pretty-printed) document, numbered by record
        return list(enumerate(expand(value), start=1))
    return [(line, record) for line, item in value for record in expand(item)]


# -- fields ---------------------------------------------------------------------------------------------


def _count(record: dict, key: str, where: str = "") -> int:
    """A whole, non-negative number from the record (0 when absent)."""
    value = record.get(key)
    if value is None:
        return 0
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not formats.is_number(value) or value != int(value):
        raise BadRecord(f"{where}{key} is not a whole number: {json.dumps(value)[:60]}")
    if value < 0:
        raise BadRecord(f"{where}{key} is negative ({value:g})")
    return int(value)


def _cents(record: dict, key: str, where: str = "") -> float | None:
    value = record.get(key)
    if value is None:
        return None
    if not formats.is_number(value):
        raise BadRecord(f"{where}{key} is not a number: {json.dumps(value)[:60]}")
    if value < 0:
        raise BadRecord(f"{where}{key} is negative ({value:g})")
    return round(value / 100, 10)


def _epoch_ms(value: Any, key: str) -> datetime:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not formats.is_number(value):
        raise BadRecord(f"{key} is not epoch milliseconds: {json.dumps(value)[:60]}")
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRecord(f"{key} is out of range: {value}") from None


def _identity(record: dict, keys: tuple[str, ...]) -> str:
    for key in keys:
        value = record.get(key)
        if value is not None and str(value).strip():
            return str(value).strip().lower()
    raise BadRecord(f"record names no user (no {' or '.join(keys)})")


# -- usage events ---------------------------------------------------------------------------------------


def event_row(line: int, record: Any) -> dict:
    """One usage event as a usage_events row."""
    if not isinstance(record, dict):
        raise BadRecord("record is not a JSON object")
    if record.get("timestamp") is None:
        raise BadRecord("event has no timestamp")
    ts = _epoch_ms(record["timestamp"], "timestamp")
    user = _identity(record, ("userEmail", "owningUser"))
    usage = record.get("tokenUsage") or {}
    if not isinstance(usage, dict):
        raise BadRecord("tokenUsage is not an object")
    tokens = {
        column: _count(usage, key, "tokenUsage.")
        for column, key in (
            ("input_tokens", "inputTokens"),
            ("output_tokens", "outputTokens"),
            ("cache_read_tokens", "cacheReadTokens"),
            ("cache_write_tokens", "cacheWriteTokens"),
        )
    }
    cost = _cents(record, "chargedCents")
    if cost is None:
        cost = _cents(usage, "totalCents", "tokenUsage.")
    # What identifies one call; cost and billing kind are left out so a re-priced re-export is a
    # conflict on the same id, not a second event.
    identity = [str(record["timestamp"]), user, record.get("model"), *tokens.values()]
    digest = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:24]
    return {
        "_line": line,
        "_raw": record,
        "event_id": f"{EVENTS_TOOL}:{digest}",
        "ts": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "user_id": user,
        "tool": EVENTS_TOOL,
        "model": record.get("model"),
        "session_id": record.get("conversationId"),
        "initiated_by": "agent" if record.get("isHeadless") is True else None,
        **tokens,
        "cost_usd": cost,
    }


def convert_events(path: Path) -> Converted:
    out = Converted()
    rows = []
    without_tokens = 0
    for line, record in _read(path, out.rejects, ("usageEvents", "usageEventsDisplay")):
        try:
            rows.append(event_row(line, record))
        except BadRecord as exc:
            out.rejects.append((line, str(exc), json.dumps(record)[:10_000]))
            continue
        if not record.get("tokenUsage"):
            without_tokens += 1
    if without_tokens:
        out.warnings.append(
            f"{path.name}: {without_tokens} event(s) carry no tokenUsage (request-priced calls); "
            "they load with 0 tokens"
        )
    out.tables = {"usage_events": formats.frame("usage_events", rows)}
    return out


# -- daily usage ----------------------------------------------------------------------------------------


def _day(record: dict) -> str:
    if record.get("day") is not None:
        try:
            return date.fromisoformat(str(record["day"])).isoformat()
        except ValueError:
            raise BadRecord(f"day is not a YYYY-MM-DD date: {str(record['day'])[:60]}") from None
    if record.get("date") is None:
        raise BadRecord("record has no date")
    return _epoch_ms(record["date"], "date").date().isoformat()


def daily_rows(line: int, record: Any) -> tuple[dict, list[dict]]:
    """One user-day as (usage_daily row, outcome rows)."""
    if not isinstance(record, dict):
        raise BadRecord("record is not a JSON object")
    day = _day(record)
    user = _identity(record, ("email", "userId"))
    prompts = sum(_count(record, key) for key in PROMPT_FIELDS)
    daily = {
        "_line": line,
        "_raw": record,
        "day": day,
        "user_id": user,
        "tool": DAILY_TOOL,
        "requests": prompts + _count(record, "totalTabsShown"),
        "human_prompts": prompts,
        "input_tokens": 0,
        "output_tokens": 0,
    }
    quantities = {
        "edit_accepted": _count(record, "totalAccepts") + _count(record, "totalTabsAccepted"),
        "edit_rejected": _count(record, "totalRejects"),
        "lines_added": _count(record, "acceptedLinesAdded"),
        "lines_removed": _count(record, "acceptedLinesDeleted"),
    }
    outcomes = [
        {
            "_line": line,
            "_raw": record,
            "outcome_id": f"cursor:{day}:{user}:{kind}",
            "ts": f"{day}T12:00:00Z",  # midday UTC lands on the same local day in most zones
            "user_id": user,
            "kind": kind,
            "quantity": quantity,
            "tool": DAILY_TOOL,
        }
        for kind, quantity in quantities.items()
        if quantity
    ]
    return daily, outcomes


def convert_daily(path: Path) -> Converted:
    out = Converted()
    daily, outcomes = [], []
    for line, record in _read(path, out.rejects, ("data",)):
        try:
            row, done = daily_rows(line, record)
        except BadRecord as exc:
            out.rejects.append((line, str(exc), json.dumps(record)[:10_000]))
            continue
        daily.append(row)
        outcomes.extend(done)
    out.tables = {"usage_daily": formats.frame("usage_daily", daily), "outcomes": formats.frame("outcomes", outcomes)}
    return out


ADAPTERS = [
    Adapter(
        "cursor-events",
        "Cursor Admin API filtered usage events (per call: tokens, cost; tool cursor)",
        sniff_events,
        convert_events,
    ),
    Adapter(
        "cursor-daily",
        "Cursor Admin API daily usage data (per user per day: requests, accepts, lines; tool cursor-daily)",
        sniff_daily,
        convert_daily,
    ),
]
