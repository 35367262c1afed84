"""An HR / Entra-style manager tree (people nested under their manager's `directReports`) as teams and people.

The file holds one person object, a JSON array of them, or an object with them under `value` (as
Microsoft Graph pages are shaped); each may have `directReports`, to any depth.

Every manager (a person with direct reports) and every top person leads one team:

- `team_id` = `team-<the manager's user_id>`; `team_name` = the manager's `department` when no other
  team in the file has it, else "<displayName>'s team"; `parent_team_id` = the team of the manager's
  own manager (none for a top person); `lead_user_id` = the manager.

Every person becomes a `people` row:

- `user_id` = `id`, else `mail`, else `userPrincipalName`; `display_name` = `displayName` (else the
  e-mail); `email` = `mail`, else `userPrincipalName`; `login` = `githubLogin`; `title` = `jobTitle`;
  `timezone` = `timezone` / `timeZone` when it is an IANA name (Windows zone names are left out
  with a warning); `team_id` = the team their manager leads. A manager belongs to their own
  manager's team; a top person to the team they lead.

A person who appears a second time (the same user_id) is rejected with the record number of the first
appearance; the reports listed under the repeat still join that person's team. A record with no id,
mail or userPrincipalName is rejected; its reports join the team above it. Records are numbered in
the order they appear in the file, from 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analytics.formats import Adapter, ConversionError, Converted, frame, read_json_document


def sniff(head: str) -> bool:
    text = head.lstrip()
    return (
        text.startswith(("{", "["))
        and '"directReports"' in head
        and ('"displayName"' in head or '"userPrincipalName"' in head)
    )


def team_id_for(user_id: str) -> str:
    return f"team-{user_id}"


def convert(path: Path) -> Converted:
    out = Converted()
    roots = _roots(read_json_document(path), path)

    # Pass 1: walk the tree (iteratively: HR trees can be deep), numbering records and settling who
    # reports to whom. Each stack item is (record, manager's user_id or None).
    first_seen: dict[str, tuple[int, str]] = {}  # lower-cased user_id -> (record number, user_id)
    people: dict[str, dict] = {}  # user_id -> {"record", "line", "manager"}
    order: list[str] = []
    stack = [(node, None) for node in reversed(roots)]
    number = 0
    dropped_zones: set[str] = set()
    while stack:
        node, manager = stack.pop()
        number += 1
        if not isinstance(node, dict):
            out.rejects.append((number, "record is not a JSON object", _dump(node)))
            continue
        reports = node.get("directReports") or []
        if not isinstance(reports, list):
            out.rejects.append((number, "directReports is not a list", _dump(_person_only(node))))
            reports = []
        user_id = _key(node)
        if user_id is None:
            out.rejects.append((number, "record has no id, mail or userPrincipalName", _dump(_person_only(node))))
            below = manager  # its reports join the team above it
        elif user_id.lower() in first_seen:
            first, kept = first_seen[user_id.lower()]
            out.rejects.append(
                (
                    number,
                    f'person "{user_id}" appears earlier in the tree (record {first}); a person has one manager',
                    _dump(_person_only(node)),
                )
            )
            below = kept
        else:
            first_seen[user_id.lower()] = (number, user_id)
            people[user_id] = {"record": node, "line": number, "manager": manager}
            order.append(user_id)
            below = user_id
        for child in reversed(reports):
            stack.append((child, below))

    # Pass 2: teams for managers and top people, then everyone's team.
    reports_of: dict[str, int] = {}
    for user_id in order:
        manager = people[user_id]["manager"]
        if manager is not None:
            reports_of[manager] = reports_of.get(manager, 0) + 1
    leads = [u for u in order if u in reports_of or people[u]["manager"] is None]
    department_use: dict[str, int] = {}
    for user_id in leads:
        department = _clean(people[user_id]["record"].get("department"))
        if department:
            department_use[department.lower()] = department_use.get(department.lower(), 0) + 1

    teams = []
    for user_id in leads:
        person = people[user_id]
        node = person["record"]
        department = _clean(node.get("department"))
        if department and department_use[department.lower()] == 1:
            name = department
        else:
            name = f"{_clean(node.get('displayName')) or user_id}'s team"
        manager = person["manager"]
        teams.append(
            {
                "_line": person["line"],
                "_raw": _person_only(node),
                "team_id": team_id_for(user_id),
                "team_name": name,
                "parent_team_id": team_id_for(manager) if manager is not None else None,
                "lead_user_id": user_id,
            }
        )

    rows = []
    for user_id in order:
        person = people[user_id]
        node = person["record"]
        manager = person["manager"]
        email = _clean(node.get("mail")) or _clean(node.get("userPrincipalName"))
        zone = _clean(node.get("timezone")) or _clean(node.get("timeZone"))
        if zone and "/" not in zone and zone.upper() != "UTC":
            dropped_zones.add(zone)
            zone = None
        rows.append(
            {
                "_line": person["line"],
                "_raw": _person_only(node),
                "user_id": user_id,
                "display_name": _clean(node.get("displayName")) or email,
                "email": email,
                "login": _clean(node.get("githubLogin")),
                "team_id": team_id_for(manager if manager is not None else user_id),
                "title": _clean(node.get("jobTitle")),
                "timezone": zone,
            }
        )
    if dropped_zones:
        out.warnings.append(
            f"{path.name}: time zone(s) {', '.join(sorted(dropped_zones))} are not IANA names; left out "
            "(working hours use UTC for those people)"
        )
    out.tables = {"teams": frame("teams", teams), "people": frame("people", rows)}
    return out


def _roots(document: Any, path: Path) -> list:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        if isinstance(document.get("value"), list) and "directReports" not in document:
            return document["value"]
        return [document]
    raise ConversionError(f"{path.name} holds no org tree (want a person object or a list of them)")


def _key(node: dict) -> str | None:
    for name in ("id", "mail", "userPrincipalName"):
        if found := _clean(node.get(name)):
            return found
    return None


def _person_only(node: dict) -> dict:
    """The record without its reports, so a rejected or kept raw record stays small."""
    return {k: v for k, v in node.items() if k != "directReports"}


def _clean(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)[:10_000]


ADAPTERS = [
    Adapter(
        "org-tree",
        "HR / Entra-style manager tree (JSON with nested directReports) -> teams and people",
        sniff,
        convert,
        order=0,
    )
]
