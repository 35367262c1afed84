"""Anthropic Admin API "Claude Code usage report" (per actor per day) -> usage_daily and outcomes.

Input: the JSON that GET /v1/organizations/usage_report/claude_code returns (`{"data": [...],
"has_more", "next_page"}`), a JSON array of its records, or JSON Lines holding pages or records (pages
fetched one by one and appended). Tool `claude-code-admin` (daily rows), distinct from the
OpenTelemetry tools because a tool sends events or daily rows, not both.

Each record is one actor on one day:

- day: `date` (YYYY-MM-DD; a midnight timestamp such as 2025-08-08T00:00:00Z is taken as its date);
- user_id: actor.email_address for a `user_actor`; for an `api_actor` the key's name as
  `api-key:<name>` (a key is not a person: it loads as unattributed until a mapping names its owner,
  and its usage is automation rather than someone's adoption);
- model_breakdown[] -> one usage_daily row per model: tokens.input -> input_tokens (already without
  cache), tokens.output, tokens.cache_read, tokens.cache_creation -> cache_write_tokens, and
  estimated_cost.amount, in cents for USD, -> cost_usd. A cost in another currency is left empty (the
  row is then priced from the price table) and the file's warnings say so.
- outcomes, each with quantity: core_metrics.lines_of_code.added/removed -> lines_added/lines_removed,
  commits_by_claude_code -> commit, pull_requests_by_claude_code -> pr_opened, and per tool in
  tool_actions (edit_tool, multi_edit_tool, write_tool, notebook_edit_tool) accepted/rejected ->
  edit_accepted/edit_rejected. Their ts is noon UTC of the day, so the person's local calendar day is
  the report's day in every time zone from UTC-11 to UTC+11. Ids are built from day, actor, kind and
  tool: stable across re-imports. Zero counts make no outcome.

num_sessions, customer_type and terminal_type have no canonical column. Several records for the same
actor and day (say one per terminal type) are added up; a record repeated word for word (a page
fetched twice) counts once. Refused with a reason: records without a day or an actor, and records
with a negative or non-numeric count (the whole record, so a day is never half loaded).

Because outcomes are immutable, a corrected report that changes an actor-day's outcome counts is
reported as a conflict for those outcomes; its usage rows are replaced as usual.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from analytics import formats
from analytics.formats import Adapter, ConversionError, Converted, frame
from analytics.formats.otel_genai import first_line_is_json, raw

TOOL = "claude-code-admin"
TOKENS = {"input": "input_tokens", "output": "output_tokens", "cache_read": "cache_read_tokens"}
TOKENS["cache_creation"] = "cache_write_tokens"
DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:$|T00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?$)")


def sniff(head: str) -> bool:
    return '"core_metrics"' in head and ('"model_breakdown"' in head or '"actor"' in head)


def convert(path: Path) -> Converted:
    out = Converted()
    daily: dict[tuple[str, str, str], dict] = {}
    outcomes: dict[str, dict] = {}
    seen: set[str] = set()
    repeats, other_currency = 0, set()
    for number, record in _records(path, out.rejects):
        text = json.dumps(record, sort_keys=True)
        if text in seen:
            repeats += 1
            continue
        seen.add(text)
        parsed, reason = _parse(record)
        if reason:
            out.rejects.append((number, reason, raw(record)))
            continue
        day, user = parsed["day"], parsed["user"]
        for model, counts, cents, currency in parsed["models"]:
            row = daily.setdefault(
                (day, user.lower(), model),
                {
                    "_line": number,
                    "_raw": record,
                    "day": day,
                    "user_id": user,
                    "tool": TOOL,
                    "model": model,
                    **dict.fromkeys(TOKENS.values(), 0),
                    "cost_usd": None,
                },
            )
            for column, value in counts.items():
                row[column] += value
            if cents is not None and currency == "USD":
                row["cost_usd"] = (row["cost_usd"] or 0) + cents / 100
            elif cents is not None:
                other_currency.add(str(currency))
        for kind, tool_name, quantity in parsed["outcomes"]:
            outcome_id = f"{TOOL}:{day}:{user.lower()}:{kind}" + (f":{tool_name}" if tool_name else "")
            if outcome_id in outcomes:
                outcomes[outcome_id]["quantity"] += quantity
                continue
            outcomes[outcome_id] = {
                "_line": number,
                "_raw": record,
                "outcome_id": outcome_id,
                "ts": f"{day}T12:00:00Z",
                "user_id": user,
                "kind": kind,
                "quantity": quantity,
                "tool": TOOL,
            }
    if repeats:
        out.warnings.append(f"{path.name}: {repeats} record(s) repeated word for word were counted once")
    if other_currency:
        out.warnings.append(
            f"{path.name}: estimated costs in {', '.join(sorted(other_currency))} were not converted; those rows "
            "are priced from the price table instead"
        )
    out.tables = {
        "usage_daily": frame("usage_daily", list(daily.values())),
        "outcomes": frame("outcomes", [o for o in outcomes.values() if o["quantity"] > 0]),
    }
    return out


def _records(path: Path, rejects: list) -> list[tuple[int, Any]]:
    """(line or record number, record) for every report record in the file."""
    found: list[tuple[int, Any]] = []
    if first_line_is_json(path):
        for line, value in formats.iter_json_lines(path, rejects):
            found.extend((line, record) for record in _unpage(value))
        return found
    document = formats.read_json_document(path)
    if isinstance(document, dict) and "data" not in document and "core_metrics" not in document:
        raise ConversionError(f"{path.name} has no data[] of Claude Code usage records")
    return list(enumerate(_unpage(document), start=1))


def _unpage(value: Any) -> list[Any]:
    """A response page's records, a list's items, or a bare record."""
    if isinstance(value, dict) and isinstance(value.get("data"), list):
        return value["data"]
    if isinstance(value, list):
        return [r for item in value for r in _unpage(item)]
    return [value]


def _count(value: Any, name: str) -> tuple[float, str | None]:
    """A non-negative count (absent is 0), or the reason it is not one."""
    if value is None:
        return 0, None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0, f"{name} is not a number: {str(value)[:60]}"
    try:
        number = float(value)
    except ValueError:
        return 0, f"{name} is not a number: {str(value)[:60]}"
    if number < 0:
        return 0, f"{name} is negative ({value})"
    return number, None


def _parse(record: Any) -> tuple[dict, str | None]:
    if not isinstance(record, dict):
        return {}, "record is not a JSON object"
    match = DAY.match(str(record.get("date") or ""))
    if not match:
        return {}, f'date "{record.get("date")}" is not a YYYY-MM-DD day'
    actor = record.get("actor") if isinstance(record.get("actor"), dict) else {}
    if actor.get("email_address"):
        user = str(actor["email_address"]).strip()
    elif actor.get("api_key_name"):
        user = f"api-key:{str(actor['api_key_name']).strip()}"
    else:
        return {}, "record names nobody (actor has neither email_address nor api_key_name)"
    breakdown = record.get("model_breakdown") or []
    if not isinstance(breakdown, list):
        return {}, "model_breakdown is not a list"
    models = []
    for position, entry in enumerate(breakdown):
        if not isinstance(entry, dict):
            return {}, f"model_breakdown[{position}] is not an object"
        tokens = entry.get("tokens") if isinstance(entry.get("tokens"), dict) else {}
        counts = {}
        for name, column in TOKENS.items():
            counts[column], reason = _count(tokens.get(name), f"model_breakdown[{position}].tokens.{name}")
            if reason:
                return {}, reason
        cost = entry.get("estimated_cost") if isinstance(entry.get("estimated_cost"), dict) else {}
        cents = None
        if cost.get("amount") is not None:
            cents, reason = _count(cost["amount"], f"model_breakdown[{position}].estimated_cost.amount")
            if reason:
                return {}, reason
        models.append((str(entry.get("model") or ""), counts, cents, str(cost.get("currency") or "USD").upper()))
    core = record.get("core_metrics") if isinstance(record.get("core_metrics"), dict) else {}
    lines = core.get("lines_of_code") if isinstance(core.get("lines_of_code"), dict) else {}
    wanted = [
        ("lines_added", None, lines.get("added"), "core_metrics.lines_of_code.added"),
        ("lines_removed", None, lines.get("removed"), "core_metrics.lines_of_code.removed"),
        ("commit", None, core.get("commits_by_claude_code"), "core_metrics.commits_by_claude_code"),
        ("pr_opened", None, core.get("pull_requests_by_claude_code"), "core_metrics.pull_requests_by_claude_code"),
    ]
    actions = record.get("tool_actions") if isinstance(record.get("tool_actions"), dict) else {}
    for tool_name, counts in sorted(actions.items()):
        counts = counts if isinstance(counts, dict) else {}
        wanted.append(("edit_accepted", tool_name, counts.get("accepted"), f"tool_actions.{tool_name}.accepted"))
        wanted.append(("edit_rejected", tool_name, counts.get("rejected"), f"tool_actions.{tool_name}.rejected"))
    outcomes = []
    for kind, tool_name, value, name in wanted:
        quantity, reason = _count(value, name)
        if reason:
            return {}, reason
        outcomes.append((kind, tool_name, quantity))
    return {"day": match.group(1), "user": user, "models": models, "outcomes": outcomes}, None


ADAPTERS = [
    Adapter(
        "claude-code-admin",
        "Anthropic Admin API Claude Code usage report (per actor per day) -> daily rows (tool claude-code-admin) "
        "and outcomes",
        sniff,
        convert,
    )
]
