"""Who may see what: viewers, their roles and the scope every query a page runs is bound to.

A viewer's scope is derived from their identity alone (the e-mail a sign-in, a trusted proxy or the
demo switch gives), the roles file and the org tree. Nothing a page holds (URL, query parameters,
widget state) goes into it, so nothing a page does can widen it.

- admin: the whole company, people by name, the Data page and the audit log;
- leadership, finance: the whole company as aggregates of at least k (never below 5) people, and
  people only under pseudonyms;
- team lead (the `lead_user_id` of a team): that team and every team below it, people by name
  (their own management line, where k does not apply);
- member: their own usage only.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from analytics.privacy import DEFAULT_K

DEFAULT_ROLES = Path("data/roles.toml")
FLOOR_K = 5  # leadership and finance never see a smaller aggregate, whatever $GOODHART_K says
ROLE_KEYS = {"admins": "admin", "leadership": "leadership", "finance": "finance"}
RANK = ("admin", "leadership", "finance", "lead", "member")  # the widest role wins

# Which pages each role is offered (by the router's url paths).
PAGES = {
    "admin": ("home", "rankings", "suspected", "demand-scenarios", "org", "my-usage", "data-sources", "audit"),
    "leadership": ("home", "rankings", "suspected", "demand-scenarios", "org", "my-usage"),
    "finance": ("home", "rankings", "suspected", "demand-scenarios", "org", "my-usage"),
    "lead": ("rankings", "suspected", "org", "my-usage"),
    "member": ("my-usage",),
}


class AccessError(Exception):
    """A request for data outside the viewer's scope, or a roles file that cannot be used."""


def k_configured() -> int:
    """`$GOODHART_K` (default 5, at least 2): the smallest aggregate shown outside a management line."""
    try:
        return max(int(os.environ.get("GOODHART_K", DEFAULT_K)), 2)
    except ValueError:
        return DEFAULT_K


@dataclass(frozen=True)
class Scope:
    """What one viewer's queries may read. Hashable: every cached result is keyed by it."""

    role: str
    teams: tuple[str, ...] | None  # subtrees the viewer may read; None is the whole company, () nothing
    user_id: str | None  # the viewer's own person, when the data knows them
    named: bool  # individuals by name (else pseudonyms only)
    k: int  # the smallest group an aggregate may cover for this viewer

    @property
    def company(self) -> bool:
        return self.teams is None

    @property
    def individuals(self) -> bool:
        """May this viewer open one person's evidence (their own line, or an admin)?"""
        return self.named and self.role in ("admin", "lead")

    def params(self) -> dict:
        """The bound parameters every scoped query filters by (see `analytics/sql/scope_*.sql` usage)."""
        return {"scope_all": self.teams is None, "scope_teams": list(self.teams or ()), "scope_user": self.user_id}

    def describe(self) -> str:
        if self.teams is None:
            return "whole company" + ("" if self.named else " (pseudonymous)")
        if not self.teams:
            return f"own usage ({self.user_id})" if self.user_id else "nothing"
        return "teams " + ", ".join(self.teams) + " and below"

    def require_company(self, what: str) -> None:
        if self.teams is not None:
            raise AccessError(f"{what} covers the whole company; this viewer's scope is {self.describe()}")


@dataclass(frozen=True)
class Viewer:
    """Someone looking at the app, as the identity source and the org tree describe them."""

    email: str
    role: str
    user_id: str | None = None
    display_name: str = ""
    lead_teams: tuple[str, ...] = field(default_factory=tuple)
    source: str = "demo"  # oidc, proxy or demo
    audit_as: str = ""  # who the audit log names instead of the e-mail (demo mode on real data: nobody signed in)

    def scope(self, k: int | None = None) -> Scope:
        k = k_configured() if k is None else k
        if self.role == "admin":
            return Scope("admin", None, self.user_id, True, k)
        if self.role in ("leadership", "finance"):
            return Scope(self.role, None, self.user_id, False, max(k, FLOOR_K))
        if self.role == "lead":
            # inside their own line nothing is hidden from a lead, so no aggregate floor applies there
            return Scope("lead", tuple(sorted(self.lead_teams)), self.user_id, True, 1)
        return Scope("member", (), self.user_id, True, 1)

    @property
    def pages(self) -> tuple[str, ...]:
        # "My usage" needs a person in the data; a viewer the data does not know has no usage of their own
        return tuple(p for p in PAGES[self.role] if p != "my-usage" or self.user_id)

    @property
    def label(self) -> str:
        who = self.display_name or self.email or "demo viewer"
        return f"{who} · {self.role}"

    @property
    def audit_name(self) -> str:
        """The viewer as the audit log records them."""
        return self.audit_as or self.email or self.display_name


def roles_path() -> Path:
    return Path(os.environ.get("GOODHART_ROLES") or DEFAULT_ROLES)


def load_roles(path: Path | None = None) -> dict[str, str]:
    """E-mail (lower case) to role from the roles file; a missing file grants no roles.

    A file that exists but cannot be read raises AccessError: the app reports it and grants no
    elevated role rather than guessing.
    """
    path = roles_path() if path is None else path
    if not path.exists():
        return {}
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AccessError(f"cannot read the roles file {path}: {exc}") from exc
    unknown = sorted(set(raw) - set(ROLE_KEYS))
    if unknown:
        raise AccessError(f"{path}: unknown keys {unknown}; want lists named {sorted(ROLE_KEYS)}")
    roles: dict[str, str] = {}
    for key, role in ROLE_KEYS.items():
        emails = raw.get(key, [])
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise AccessError(f"{path}: `{key}` must be a list of e-mail addresses")
        for email in emails:
            email = email.strip().lower()
            if email and (email not in roles or RANK.index(role) < RANK.index(roles[email])):
                roles[email] = role
    return roles


def resolve(con: duckdb.DuckDBPyConnection, email: str, roles: dict[str, str], *, source: str) -> Viewer:
    """The viewer an e-mail names: their role from the roles file, else lead of the teams they lead, else member.

    The person is the one whose `dim_people.email` is this address (case-insensitive, trimmed). Telemetry
    mappings (`identity_map`) attribute usage; they never authenticate anyone. An address that more than one
    person carries names nobody: the viewer then has no person (a role from the roles file only), since
    picking one of them would let someone sign in as another.
    """
    email = (email or "").strip().lower()
    rows: list = []
    if email:
        cur = con.cursor()
        try:
            rows = cur.execute(
                """SELECT p.user_id, any_value(p.display_name) AS display_name,
                          list(DISTINCT t.team_id ORDER BY t.team_id) FILTER (WHERE t.team_id IS NOT NULL) AS led
                   FROM dim_people p LEFT JOIN dim_teams t ON t.lead_user_id = p.user_id
                   WHERE lower(trim(p.email)) = $email
                   GROUP BY p.user_id ORDER BY p.user_id LIMIT 2""",
                {"email": email},
            ).fetchall()
        finally:
            cur.close()
    row = rows[0] if len(rows) == 1 else None  # none, or an address several people share: nobody
    user_id, name, led = (row[0], row[1], tuple(row[2] or ())) if row else (None, "", ())
    role = roles.get(email) or ("lead" if led else "member")
    return Viewer(email=email, role=role, user_id=user_id, display_name=name or "", lead_teams=led, source=source)


def demo_viewers(con: duckdb.DuckDBPyConnection) -> dict[str, Viewer]:
    """The demo switch's choices: one viewer per role, the leads drawn from the org tree."""
    cur = con.cursor()
    try:
        leads = cur.execute(
            """SELECT p.user_id, p.display_name, p.email, t.team_id, t.team_name, t.depth
               FROM dim_teams t JOIN dim_people p ON p.user_id = t.lead_user_id
               ORDER BY t.depth DESC, t.team_id"""
        ).fetchall()
        member = cur.execute(
            """SELECT user_id, display_name, email FROM dim_people
               WHERE user_id NOT IN (SELECT lead_user_id FROM dim_teams WHERE lead_user_id IS NOT NULL)
               ORDER BY user_id LIMIT 1"""
        ).fetchone()
    finally:
        cur.close()
    choices = {
        "Admin": Viewer(email="", role="admin", display_name="Demo admin"),
        "Leadership": Viewer(email="", role="leadership", display_name="Demo leadership"),
        "Finance": Viewer(email="", role="finance", display_name="Demo finance"),
    }
    seen: set[int] = set()
    for user_id, name, email, team_id, team_name, depth in leads:
        # every top-level org's lead, and one lead per deeper level of the tree, down to a small team
        if depth == 0 or (depth > 1 and depth in seen):
            continue
        seen.add(depth)
        viewer = resolve(con, email, {}, source="demo") if email else None
        if viewer is None or viewer.user_id != user_id:
            viewer = Viewer(email=email or "", role="lead", user_id=user_id, display_name=name, lead_teams=(team_id,))
        choices[f"Team lead of {team_name}"] = viewer
    if member:
        choices["Member"] = Viewer(email=member[2] or "", role="member", user_id=member[0], display_name=member[1])
    return choices
