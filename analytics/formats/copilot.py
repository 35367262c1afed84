"""GitHub Copilot usage-metrics reports (per-user, 1-day and 28-day) as daily usage and outcomes.

Three files come out of GitHub's Copilot APIs; only one holds per-person usage:

- `copilot-users`: the per-user usage-metrics report, organization scope (`day_totals[]`, one row per
  user per day) or enterprise scope (`report_day` with `user_totals[]`), as one JSON document, a JSON
  array of records, or NDJSON (one record per line, as the report download links serve them).
  Each user-day becomes one `usage_daily` row (tool `copilot`, model left empty: the report's
  per-model split does not cover CLI tokens or AI credits) and up to three `outcomes`:

  ==================================================  ========================================
  report field                                        canonical column
  ==================================================  ========================================
  `day`, else the report's `report_day`               usage_daily.day; outcomes ts = day 12:00Z
  `user_email`/`email`, else `user_login`/`login`,    user_id (lower case; matched to people
  else `user_id`                                      by e-mail, login or identity map)
  per feature in `totals_by_feature[]`: the larger    requests (summed over features)
  of `user_initiated_interaction_count` and
  `code_generation_activity_count` (each prompt
  gets an answer, each generation is one output);
  for the `copilot_cli` feature
  `totals_by_cli.request_count` instead
  `user_initiated_interaction_count`                  human_prompts
  `totals_by_cli` and `totals_by_copilot_app`         input_tokens (`prompt_tokens_sum`),
  `token_usage`                                       output_tokens (`output_tokens_sum`);
                                                      0 when absent (IDE use reports no tokens)
  `ai_credits_used` / 100                             cost_usd (GitHub bills 1 AI credit as
                                                      0.01 USD); empty when absent, so the price
                                                      table prices the tokens instead
  `code_acceptance_activity_count`                    outcome edit_accepted, quantity
  `loc_added_sum` / `loc_deleted_sum`                 outcomes lines_added / lines_removed
  ==================================================  ========================================

  Outcome ids are `copilot:<day>:<user>:<kind>`, so reloading a report, or an overlapping 28-day
  report, changes nothing. Outcomes are immutable: a report re-issued with different counts for a
  day already loaded has those outcomes rejected as conflicts (the daily row itself is replaced).
  A record without a day of its own in a report spanning several days (an enterprise 28-day users
  report holds one total per user) cannot be daily usage; such records are left out with a warning, and
  a report holding nothing else is skipped with that reason.

- `copilot-org-totals`: the organization/enterprise report (`day_totals[]` without users). It has
  no per-person rows, so it is recognised and refused with a one-line message.

- `copilot-seats`: the seat assignment list (`seats[].assignee`). Seats carry no usage, and people
  cannot be created from them (no team), so it is recognised and refused with a one-line message
  that counts the distinct seat holders (a user assigned through two teams is listed twice).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from analytics import formats
from analytics.formats import Adapter, ConversionError, Converted

TOOL = "copilot"
USD_PER_AI_CREDIT = 0.01  # docs.github.com, "Usage-based billing for organizations and enterprises"
USER_KEYS = ('"user_login"', '"user_totals"', '"login"')


class BadRecord(Exception):
    """One source record that cannot be converted; the reason goes with it into the rejects."""


# -- sniffing -----------------------------------------------------------------------------------------


def _is_metrics_report(head: str) -> bool:
    return '"code_generation_activity_count"' in head and '"code_acceptance_activity_count"' in head


def sniff_users(head: str) -> bool:
    return _is_metrics_report(head) and any(k in head for k in USER_KEYS) and '"daily_active_users"' not in head


def sniff_org_totals(head: str) -> bool:
    has_active_users = '"daily_active_users"' in head or '"monthly_active_users"' in head
    return _is_metrics_report(head) and has_active_users and not any(k in head for k in USER_KEYS)


def sniff_seats(head: str) -> bool:
    return '"seats"' in head and '"assignee"' in head and ('"total_seats"' in head or '"last_activity_at"' in head)


# -- reading ------------------------------------------------------------------------------------------


def _records(path: Path, rejects: list[tuple[int, str, str]]) -> list[tuple[int, Any, dict]]:
    """(line or record number, record, report-level context) for every per-user record in the file."""
    shape, value = formats.read_json_or_lines(path, rejects)
    out: list[tuple[int, Any, dict]] = []
    if shape == "lines":
        for line, item in value:
            out.extend((line, record, context) for record, context in _expand(item))
    else:
        for number, (record, context) in enumerate(_expand(value), start=1):
            out.append((number, record, context))
    return out


def _expand(value: Any) -> list[tuple[Any, dict]]:
    """A report object's per-user rows with the report's own fields, or the value itself as a record."""
    if isinstance(value, list):
        return [pair for item in value for pair in _expand(item)]
    if isinstance(value, dict):
        rows = value.get("day_totals", value.get("user_totals"))
        if isinstance(rows, list):
            context = {k: v for k, v in value.items() if k not in ("day_totals", "user_totals")}
            return [(row, context) for row in rows]
    return [(value, {})]


# -- one record -----------------------------------------------------------------------------------------


def _object(record: dict, key: str) -> dict:
    """A nested object of the record ({} when absent)."""
    value = record.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRecord(f"{key} is not a JSON object")
    return value


def _count(record: dict, key: str, where: str = "") -> int:
    """A whole, non-negative number from the record (0 when absent)."""
    value = record.get(key)
    if value is None:
        return 0
    if not formats.is_number(value) or value != int(value):
        raise BadRecord(f"{where}{key} is not a whole number: {json.dumps(value)[:60]}")
    if value < 0:
        raise BadRecord(f"{where}{key} is negative ({value:g})")
    return int(value)


def _identity(record: dict) -> str:
    for key in ("user_email", "email", "user_login", "login", "user_id"):
        value = record.get(key)
        if value is not None and str(value).strip():
            return str(value).strip().lower()
    raise BadRecord("record names no user (no user_login, login or user_id)")


def _day(record: dict, context: dict) -> str | None:
    """The record's own day, else the report's single day; None for a multi-day total."""
    merged = {**context, **record}
    day = merged.get("day") or merged.get("report_day")
    if (
        day is None
        and merged.get("report_start_day")
        and merged.get("report_start_day") == merged.get("report_end_day")
    ):
        day = merged["report_start_day"]
    if day is None:
        if merged.get("report_start_day") or merged.get("report_end_day"):
            return None
        raise BadRecord("record has no day (no day, report_day or report_start_day)")
    try:
        return date.fromisoformat(str(day)).isoformat()
    except ValueError:
        raise BadRecord(f"day is not a YYYY-MM-DD date: {str(day)[:60]}") from None


def _requests(record: dict) -> int:
    cli = _object(record, "totals_by_cli")
    cli_requests = _count(cli, "request_count", "totals_by_cli.")
    features = record.get("totals_by_feature") or []
    if not isinstance(features, list):
        raise BadRecord("totals_by_feature is not a JSON array")
    if not features:
        return max(
            _count(record, "user_initiated_interaction_count"),
            _count(record, "code_generation_activity_count"),
            cli_requests,
        )
    total = 0
    for item in features:
        if not isinstance(item, dict):
            raise BadRecord("totals_by_feature holds a value that is not an object")
        if item.get("feature") == "copilot_cli" and cli:
            continue  # the CLI counts its own model requests
        where = f"totals_by_feature[{item.get('feature')}]."
        total += max(
            _count(item, "user_initiated_interaction_count", where),
            _count(item, "code_generation_activity_count", where),
        )
    return total + (cli_requests if cli else 0)


def _tokens(record: dict) -> tuple[int, int]:
    prompt = output = 0
    for key in ("totals_by_cli", "totals_by_copilot_app"):
        usage = _object(_object(record, key), "token_usage")
        prompt += _count(usage, "prompt_tokens_sum", f"{key}.token_usage.")
        output += _count(usage, "output_tokens_sum", f"{key}.token_usage.")
    return prompt, output


def _cost_usd(record: dict) -> float | None:
    credits = record.get("ai_credits_used")
    if credits is None:
        return None
    if not formats.is_number(credits):
        raise BadRecord(f"ai_credits_used is not a number: {json.dumps(credits)[:60]}")
    if credits < 0:
        raise BadRecord(f"ai_credits_used is negative ({credits:g})")
    return round(credits * USD_PER_AI_CREDIT, 10)


def convert_record(line: int, record: Any, context: dict) -> tuple[dict | None, list[dict]]:
    """One per-user record as (usage_daily row or None for a multi-day total, outcome rows)."""
    if not isinstance(record, dict):
        raise BadRecord("record is not a JSON object")
    user = _identity(record)
    day = _day(record, context)
    if day is None:
        return None, []
    prompt_tokens, output_tokens = _tokens(record)
    daily = {
        "_line": line,
        "_raw": record,
        "day": day,
        "user_id": user,
        "tool": TOOL,
        "requests": _requests(record),
        "human_prompts": _count(record, "user_initiated_interaction_count"),
        "input_tokens": prompt_tokens,
        "output_tokens": output_tokens,
        "cost_usd": _cost_usd(record),
    }
    outcomes = []
    for kind, key in (
        ("edit_accepted", "code_acceptance_activity_count"),
        ("lines_added", "loc_added_sum"),
        ("lines_removed", "loc_deleted_sum"),
    ):
        quantity = _count(record, key)
        if quantity:
            outcomes.append(
                {
                    "_line": line,
                    "_raw": record,
                    "outcome_id": f"{TOOL}:{day}:{user}:{kind}",
                    "ts": f"{day}T12:00:00Z",  # midday UTC lands on the same local day in most zones
                    "user_id": user,
                    "kind": kind,
                    "quantity": quantity,
                    "tool": TOOL,
                }
            )
    return daily, outcomes


# -- adapters -------------------------------------------------------------------------------------------


def convert_users(path: Path) -> Converted:
    out = Converted()
    daily: list[dict] = []
    outcomes: list[dict] = []
    multi_day = set()
    records = _records(path, out.rejects)
    for line, record, context in records:
        try:
            row, done = convert_record(line, record, context)
        except BadRecord as exc:
            out.rejects.append((line, str(exc), json.dumps(record)[:10_000]))
            continue
        if row is None:
            multi_day.add(_identity(record))
            continue
        daily.append(row)
        outcomes.extend(done)
    if multi_day:
        message = (
            f"{path.name} has no per-day rows for {len(multi_day)} user(s): their totals over several days "
            "were not loaded as daily usage (load the users-1-day reports, or the organization-scope "
            "users-28-day report, which has one row per user per day)"
        )
        if not daily and not out.rejects:
            raise formats.NothingToLoad(message)  # a recognised report, like the seat list: skipped, not failed
        out.warnings.append(message)
    if daily:
        out.warnings.append(
            f"{path.name}: Copilot reports tokens only for Copilot CLI and the Copilot app; IDE completions "
            "and chat load as requests without tokens"
        )
    out.tables = {"usage_daily": formats.frame("usage_daily", daily), "outcomes": formats.frame("outcomes", outcomes)}
    return out


def convert_org_totals(path: Path) -> Converted:
    raise formats.NothingToLoad(
        f"{path.name} is a Copilot organization/enterprise totals report: organization totals have no "
        "per-user rows; load the users report (users-1-day or users-28-day) instead"
    )


def convert_seats(path: Path) -> Converted:
    document = formats.read_json_document(path)
    seats = document.get("seats") if isinstance(document, dict) else None
    if not isinstance(seats, list):
        raise ConversionError(f"{path.name} is not a Copilot seat list (no seats[] array)")
    holders = {
        str(seat["assignee"].get("login") or seat["assignee"].get("id")).lower()
        for seat in seats
        if isinstance(seat, dict) and isinstance(seat.get("assignee"), dict)
    }
    raise formats.NothingToLoad(
        f"{path.name} is a Copilot seat list ({len(holders)} distinct seat holder(s) in {len(seats)} entries): "
        "seats carry no usage and people are not created from them; load the users report for usage and "
        "name GitHub logins in people.login"
    )


ADAPTERS = [
    Adapter(
        "copilot-users",
        "GitHub Copilot per-user usage-metrics report (users-1-day / users-28-day, JSON or NDJSON)",
        sniff_users,
        convert_users,
    ),
    Adapter(
        "copilot-org-totals",
        "GitHub Copilot organization/enterprise totals report (recognised; has no per-user rows to load)",
        sniff_org_totals,
        convert_org_totals,
    ),
    Adapter(
        "copilot-seats",
        "GitHub Copilot seat assignments (recognised; seats carry no usage to load)",
        sniff_seats,
        convert_seats,
    ),
]
