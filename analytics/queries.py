"""Read-only questions the pages and commands ask of the marts; each returns a DataFrame or a dict."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from analytics import leaderboard, marts
from analytics.warehouse import get_meta, sql_text

UNATTRIBUTED_LISTED = 50  # status lists the identities with most tokens; the Data page will export all


class Warehouse:
    """The data-access object pages receive: named queries over the marts, never raw events."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def _frame(self, name: str, **params) -> pd.DataFrame:
        # Each thread (Streamlit session) gets its own cursor on the shared connection.
        cur = self.con.cursor()
        try:
            return cur.execute(sql_text(name), params or None).df()
        finally:
            cur.close()

    def _row(self, name: str, **params) -> dict:
        frame = self._frame(name, **params)
        return frame.iloc[0].to_dict() if len(frame) else {}

    @property
    def is_built(self) -> bool:
        return marts.is_built(self.con)

    @property
    def data_version(self) -> str:
        return get_meta(self.con, "data_version") or "none"

    @property
    def is_demo(self) -> bool:
        return get_meta(self.con, "origin") == "demo"

    def date_bounds(self) -> tuple[date, date] | None:
        row = self._row("q_date_bounds")
        if not row or pd.isna(row.get("first_day")):
            return None
        return pd.Timestamp(row["first_day"]).date(), pd.Timestamp(row["last_day"]).date()

    def weekly_adoption(self, start: date, end: date, org_id: str | None = None) -> pd.DataFrame:
        """Columns: week, headcount, active, real_active, active_share, real_share."""
        return self._frame("q_weekly_adoption", start=start, end=end, org_id=org_id)

    def weekly_usage_by_tool(self, start: date, end: date) -> pd.DataFrame:
        """Columns: week, tool, tokens, cost_usd, input/output/cache_read/cache_write_tokens, requests."""
        return self._frame("q_weekly_usage_by_tool", start=start, end=end)

    def org_comparison(self, start: date, end: date) -> pd.DataFrame:
        """Columns: org_id, org_name, headcount, active_share, real_share, tokens, cost_usd, real_outcomes,
        tokens_per_real_outcome."""
        return self._frame("q_org_comparison", start=start, end=end)

    def adoption(self, week: date | None = None) -> dict:
        """The headline for one Monday-started week (default: the last complete week of data)."""
        week = last_complete_week(self.date_bounds()) if week is None else week - timedelta(days=week.weekday())
        row = self._row("q_adoption_week", week=week)
        headcount, active, real = int(row["headcount"]), int(row["active"]), int(row["real_active"])
        return {
            "week": week.isoformat(),
            "headcount": headcount,
            "active": active,
            "active_share": round(active / headcount, 4) if headcount else 0.0,
            "real": real,
            "real_share": round(real / headcount, 4) if headcount else 0.0,
        }

    def status(self) -> dict:
        if not self.is_built:
            raise LookupError("the database holds no marts yet: load data with `ingest` or build the `demo`")
        row = self._row("q_status")
        kinds = self._frame("q_outcomes_by_kind")
        sources = self._frame("q_status_sources")
        out = {k: _plain(v) for k, v in row.items()}
        out["cost_usd"] = round(float(out["cost_usd"]), 2)
        out["outcomes_by_kind"] = {k: _plain(q) for k, q in zip(kinds["kind"], kinds["quantity"], strict=True)}
        out["sources"] = [{k: _plain(v) for k, v in r.items()} for r in sources.to_dict("records")]
        stray = self.unattributed().head(UNATTRIBUTED_LISTED)
        out["unattributed"] = [{k: _plain(v) for k, v in r.items()} for r in stray.to_dict("records")]
        out["data_version"] = self.data_version
        out["demo"] = self.is_demo
        return out

    def unattributed_summary(self) -> dict:
        """tokens, unattributed_tokens and unattributed_identities, from the mart alone."""
        return {k: _plain(v) for k, v in self._row("q_unattributed_summary").items()}

    def unattributed(self) -> pd.DataFrame:
        """Telemetry identities no person matches: identity, tools, tokens, cost_usd, first_day, last_day."""
        return self._frame("q_unattributed")

    # -- suspected inflation ---------------------------------------------------------------------------

    @property
    def has_detection(self) -> bool:
        return bool(self.con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'det_person'").fetchone())

    def suspects(self) -> pd.DataFrame:
        """Every person the last detection run scored, flagged first (empty before any run)."""
        return self._frame("q_suspects") if self.has_detection else pd.DataFrame()

    def suspect_teams(self) -> pd.DataFrame:
        return self._frame("q_suspect_teams") if self.has_detection else pd.DataFrame()

    def token_split(self, start: date, end: date) -> pd.DataFrame:
        """Per week: genuine, suspected and declared-automation tokens and cost."""
        return self._frame("q_token_split", start=start, end=end)

    def automation_lane(self, start: date, end: date) -> pd.DataFrame:
        return self._frame("q_automation_lane", start=start, end=end)

    def evidence(self, user_id: str, start: date, end: date) -> dict[str, pd.DataFrame]:
        """The evidence view's tables for one person."""
        return {
            "heatmap": self._frame("q_evidence_heatmap", user_id=user_id, start=start, end=end),
            "gaps": self._frame("q_evidence_gaps", user_id=user_id, start=start, end=end),
            "weeks": self._frame("q_evidence_weeks", user_id=user_id),
            "partners": self._frame("q_evidence_partners", user_id=user_id),
        }

    # -- leaderboards ----------------------------------------------------------------------------------

    @property
    def pseudonym_key(self) -> str:
        return get_meta(self.con, "pseudonym_key") or self.data_version

    def leaderboard_people(self, start: date, end: date, tool: str | None = None, subtree: str | None = None):
        """Per person: raw tokens and the parts of the quality adjustment (analytics/leaderboard.py)."""
        return self._frame("q_leaderboard_people", **leaderboard.query_params(start, end, tool, subtree))

    def leaderboard_filters(self) -> pd.DataFrame:
        """The tools and teams (by tree path) a leaderboard can be narrowed to."""
        return self._frame("q_leaderboard_filters")

    def decoupling_weeks(self, start: date, end: date) -> pd.DataFrame:
        """Per top-level org and week: people, tokens, outcome units and the measurable share of tokens."""
        params = leaderboard.query_params(start, end, None, None)
        keep = ("start", "end", "w_edit", "w_commit", "w_pr", "w_review", "w_ticket")
        return self._frame("q_decoupling_weeks", **{k: params[k] for k in keep})

    # -- demand forecast -------------------------------------------------------------------------------

    def demand_days(self) -> pd.DataFrame:
        """Per day, tool and top-level org: tokens, genuine/suspected/automation_tokens, tokens by type, cost."""
        return self._frame("q_demand_day")

    def demand_orgs(self) -> pd.DataFrame:
        """Top-level orgs: org_id, org_name, headcount (distinct people with use in the last 28 days of data)."""
        return self._frame("q_demand_orgs")

    def demand_tools(self) -> pd.DataFrame:
        """Tools with usage: tool, people (attributed people who used it)."""
        return self._frame("q_demand_tools")

    def demand_model_mix(self, tool: str | None = None, org_id: str | None = None) -> pd.DataFrame:
        """A scope's last 28 days per model: tokens, share, USD per Mtok by type, default_prices."""
        return self._frame("q_demand_model_mix", tool=tool, org_id=org_id)

    def demand_prices(self, tool: str | None = None, org_id: str | None = None) -> dict:
        """A scope's last 28 days: USD per Mtok by token type blended over its model mix, and active users."""
        return {k: _plain(v) for k, v in self._row("q_demand_prices", tool=tool, org_id=org_id).items()}


def last_complete_week(bounds: tuple[date, date] | None) -> date:
    """Monday of the last week whose Sunday the data reaches (or the week holding the first day)."""
    if bounds is None:
        today = date.today()
        return today - timedelta(days=today.weekday() + 7)
    first, last = bounds
    monday = last - timedelta(days=last.weekday())
    if last.weekday() != 6:
        monday -= timedelta(days=7)
    return max(monday, first - timedelta(days=first.weekday()))


def _plain(value):
    """JSON-friendly scalars: numpy and pandas values to int, float, str or None."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (pd.Timestamp, date)):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
