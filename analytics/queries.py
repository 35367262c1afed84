"""Read-only questions the pages and commands ask of the marts; each returns a DataFrame or a dict."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics import leaderboard, marts
from analytics.access import AccessError, Scope
from analytics.warehouse import arrow_frame, fetch_frame, get_meta, monday, sql_text, with_queries

UNATTRIBUTED_LISTED = 50  # status lists the identities with most tokens; the Data page will export all
NAME_COLUMNS = ("display_name", "email", "login")  # never returned to a viewer who sees pseudonyms only
OPERATOR = Scope("admin", None, None, True, 1)  # the command line: whoever runs it holds the database file
CLOSE_TRIES = 200  # 10 s of 50 ms waits for another thread's query before close() gives up and says so


class Warehouse:
    """The data-access object pages receive: named queries over the marts, never raw events."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own on the shared connection, for one query. The app shares one Warehouse among all
        sessions, and a DuckDB connection busy with one thread's query refuses another's ("connection is busy
        with another call"), so nothing may run on the shared connection itself."""
        return self._con.cursor()

    def close(self) -> None:
        """Close the shared connection, once no other thread's query is running on it (the app's background
        forecast fits read through it; DuckDB refuses to close a connection that is busy)."""
        for attempt in range(CLOSE_TRIES):
            try:
                self._con.close()
                return
            except duckdb.ResourceInUseException:
                if attempt == CLOSE_TRIES - 1:
                    raise
                time.sleep(0.05)

    def _frame(self, name: str, scope: Scope | None = None, **params) -> pd.DataFrame:
        """A named query's rows (through Arrow: warehouse.fetch_frame). With a scope, the query is bound to it
        (`$scope_all`, `$scope_teams`, `$scope_user`) and, for a viewer who sees pseudonyms only, names never leave
        this layer."""
        return self._frame_of(*_bound(name, scope, params), scope)

    def _frame_of(self, text: str, params: dict, scope: Scope | None) -> pd.DataFrame:
        # Each thread (Streamlit session) gets its own cursor on the shared connection.
        cur = self.con
        try:
            frame = fetch_frame(cur, text, params)
        finally:
            cur.close()
        if scope is not None and not scope.named:
            frame = frame.drop(columns=[c for c in NAME_COLUMNS if c in frame.columns])
        return frame

    def _arrow(self, name: str, scope: Scope, **params) -> pa.Table:
        """A named query's rows as Arrow, bound to the scope as _frame binds it: columns read and rows filtered
        there without a Python object apiece. As _frame, names never leave this layer for a pseudonymous viewer."""
        text, params = _bound(name, scope, params)
        cur = self.con
        try:
            rows = cur.sql(text, params=params or None).to_arrow_table()
        finally:
            cur.close()
        return rows if scope.named else rows.drop_columns([c for c in NAME_COLUMNS if c in rows.column_names])

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

    def suspects(self, scope: Scope = OPERATOR) -> pd.DataFrame:
        """Every person in scope the last detection run scored, flagged first (empty before any run)."""
        return self._frame("q_suspects", scope) if self.has_detection else pd.DataFrame()

    def suspect_cases(self, scope: Scope = OPERATOR) -> tuple[pd.DataFrame, dict]:
        """The page's view of suspects(scope), in one query without fetching everyone scored: the flagged people
        (suspects' rows with `flagged`, same columns and types), and of everyone scored `people` (how many),
        `tokens` (theirs) and `first_suspect_week` (the earliest of anyone's, flagged or not; None without one).
        No rows and people 0 before any detection run."""
        if not self.has_detection:
            return pd.DataFrame(), {"people": 0, "tokens": 0, "first_suspect_week": None}
        # as Arrow first: the totals and the checks below read columns there, without a pandas step
        rows = self._arrow("q_suspect_cases", scope)
        first = rows.column("scored_first_suspect_week")[0].as_py()
        totals = {
            "people": rows.column("scored_people")[0].as_py(),
            "tokens": rows.column("scored_tokens")[0].as_py(),
            "first_suspect_week": None if first is None else pd.Timestamp(first),
        }
        flagged = rows.drop_columns(["scored_people", "scored_tokens", "scored_first_suspect_week"])
        if any(column.null_count == len(column) for column in flagged.columns) or flagged["user_id"].null_count:
            # nobody flagged (one row of totals alone), or a column missing for every flagged person: everyone's
            # rows give the types suspects() gives (a column without any value comes as objects)
            everyone = self._frame("q_suspects", scope)
            return everyone[everyone["flagged"]], totals
        return arrow_frame(flagged), totals

    def suspect_teams(self, scope: Scope = OPERATOR) -> pd.DataFrame:
        """Teams in scope with a flagged member; `people` is every scored member, for k-anonymity."""
        return self._frame("q_suspect_teams", scope) if self.has_detection else pd.DataFrame()

    def token_split(self, start: date, end: date) -> pd.DataFrame:
        """Per week: genuine, suspected and declared-automation tokens and cost."""
        return self._frame("q_token_split", start=start, end=end)

    def automation_lane(self, start: date, end: date, scope: Scope = OPERATOR) -> pd.DataFrame:
        """Per person in scope: declared automation's tokens, cost and share of their tokens."""
        # the default range's sums as the refresh keeps them, and whether the range is that one, in one query
        rows = self._arrow("q_automation_lane_stored", scope, start=start, end=end)
        if not rows.column("stored")[0].as_py():
            return self._frame("q_automation_lane", scope, start=start, end=end)
        # without the row of `stored` alone that stands for none in scope, as Arrow, so types are a query's own
        rows = rows.drop_columns(["stored"])
        return arrow_frame(rows.filter(pc.is_valid(rows.column("user_id"))))

    def in_scope(self, user_id: str, scope: Scope) -> bool:
        """Is this person inside the scope (their team under one of its subtrees, or the viewer themself)?"""
        return bool(len(self._frame("q_person_in_scope", scope, user_id=user_id)))

    def evidence(self, user_id: str, start: date, end: date, scope: Scope = OPERATOR) -> dict[str, pd.DataFrame]:
        """The evidence view's tables for one person; only for viewers allowed individual views of them."""
        person = self._frame("q_person_in_scope", scope, user_id=user_id) if scope.individuals else pd.DataFrame()
        if person.empty:
            raise AccessError(f"{scope.role} viewer may not open this person's evidence (scope: {scope.describe()})")
        # people's rows are read by the hash of their id alone unless some person's id has the same hash as another's
        shared = bool(person["hash_shared"].iloc[0])
        days = {"user_id": user_id, "start": start, "end": end, "hash_shared": shared}
        parts = {
            "heatmap": ("q_evidence_heatmap", None, days),
            "gaps": ("q_evidence_gaps", None, days),
            "weeks": ("q_evidence_weeks", None, {"user_id": user_id}),
            "partners": ("q_evidence_partners", scope, {"user_id": user_id}),
        }
        # Independent small queries, each mostly on one DuckDB thread: side by side, each on a cursor of its own (as
        # sessions' queries run), a case opens in about the time of the slowest (the gap chart's) instead of the four
        # one after another (at 100 M events, 34 against 24 ms median, 63 against 34 ms p95, on two busy cores).
        with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="goodhart-evidence") as pool:
            running = {
                part: pool.submit(self._frame, name, bound, **params) for part, (name, bound, params) in parts.items()
            }
            return {part: future.result() for part, future in running.items()}

    def _stored_period(self, start: date, end: date) -> bool:
        """Do the weeks [start, end] overlaps equal the default period's, which the refresh sums per person
        (marts.SUMMARIES)? The queries then read those sums instead of summing the period's weeks."""
        cur = self.con
        try:
            row = cur.execute(
                "SELECT (SELECT min(period_lo) FROM mart_period_person_tool), "
                "(SELECT min(period_hi) FROM mart_period_person_tool)"
            ).fetchone()
        finally:
            cur.close()
        return row[0] is not None and (row[0], row[1]) == (monday(start), monday(end))

    # -- leaderboards ----------------------------------------------------------------------------------

    @property
    def pseudonym_key(self) -> str:
        return get_meta(self.con, "pseudonym_key") or self.data_version

    def leaderboard_people(
        self, start: date, end: date, tool: str | None = None, subtree: str | None = None, scope: Scope = OPERATOR
    ):
        """Per person in scope: raw tokens and the parts of the quality adjustment (analytics/leaderboard.py).
        `subtree` narrows within the scope; it never widens it."""
        name, params = self._board_query(start, end, tool, subtree, scope, self._stored_period(start, end))
        return self._frame(name, scope, **params)

    def leaderboard_totals(
        self, start: date, end: date, tool: str | None = None, subtree: str | None = None, scope: Scope = OPERATOR
    ) -> dict:
        """people, tokens and adjusted_tokens of the board leaderboard_people gives, summed in DuckDB as
        leaderboard.totals sums its rows (floats to 1e-9 relative), without sending every person's row here."""
        name, params = self._board_query(start, end, tool, subtree, scope, self._stored_period(start, end))
        text = with_queries({"board": name}, "q_board_totals")
        params = {**params, **{k: v for k, v in scope.params().items() if f"${k}" in text}}
        row = self._frame_of(text, params, None).iloc[0]
        return {"people": int(row["people"]), "tokens": float(row["tokens"]),
                "adjusted_tokens": float(row["adjusted_tokens"])}  # fmt: skip

    def _board_query(
        self, start: date, end: date, tool: str | None, subtree: str | None, scope: Scope, stored: bool
    ) -> tuple[str, dict]:
        """The named query leaderboard_people reads, and its parameters (`stored`: _stored_period(start, end))."""
        if stored and tool is None and subtree is None and scope.company:
            # the company's board of the default period, as the refresh ranked it (marts._period_board): it also
            # holds rank_raw, rank_adjusted and rank_shift, which leaderboard.people_board then keeps
            return "q_period_board", {}
        return "q_leaderboard_people", {**leaderboard.query_params(start, end, tool, subtree), "stored": stored,
                                        "board": stored}  # fmt: skip

    def leaderboard_teams(
        self, start: date, end: date, tool: str | None = None, subtree: str | None = None, scope: Scope = OPERATOR
    ) -> pd.DataFrame | None:
        """leaderboard.team_sums of the board leaderboard_people gives, when the refresh stored them: the company's
        board of the default period (mart_period_team). None for any other board, whose people
        leaderboard.team_board sums itself."""
        name, _ = self._board_query(start, end, tool, subtree, scope, self._stored_period(start, end))
        return self._frame("q_period_team") if name == "q_period_board" else None

    def leaderboard_filters(self, scope: Scope = OPERATOR) -> pd.DataFrame:
        """The tools and teams (by tree path, within scope) a leaderboard can be narrowed to."""
        return self._frame("q_leaderboard_filters", scope)

    def decoupling_weeks(self, start: date, end: date) -> pd.DataFrame:
        """Per top-level org and week: people, tokens, outcome units and the measurable share of tokens."""
        params = leaderboard.query_params(start, end, None, None)
        keep = ("start", "end", "w_edit", "w_commit", "w_pr", "w_review", "w_ticket")
        return self._frame("q_decoupling_weeks", **{k: params[k] for k in keep})

    def my_weeks(self, start: date, end: date, scope: Scope) -> pd.DataFrame:
        """The viewer's own weeks by tool (scope.user_id; nothing when the data does not know the viewer)."""
        if scope.user_id is None:
            return pd.DataFrame()
        return self._frame("q_my_weeks", scope, start=start, end=end)

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
        if tool is None and org_id is None:  # the company's, as the refresh summed it (mart_demand_mix)
            return self._frame("q_demand_model_mix_company")
        return self._frame("q_demand_model_mix", tool=tool, org_id=org_id)

    def demand_prices(self, tool: str | None = None, org_id: str | None = None) -> dict:
        """A scope's last 28 days: USD per Mtok by token type blended over its model mix, and active users."""
        # the refresh counts the active users of the scopes the Demand page offers: the company, a tool, an org
        stored = tool is None or org_id is None
        if tool is None and org_id is None:  # the company's mix is summed by the refresh too (mart_demand_mix)
            row = self._row("q_demand_prices_company")
        else:
            row = self._row("q_demand_prices", tool=tool, org_id=org_id, stored=stored)
        return {k: _plain(v) for k, v in row.items()}

    # -- org explorer ----------------------------------------------------------------------------------

    def org_teams(self, scope: Scope = OPERATOR) -> pd.DataFrame:
        """Teams inside the scope: team_id, team_name, parent_team_id (NULL where the parent is outside the
        scope), depth, org_id, path."""
        return self._frame("q_org_tree", scope)

    def _org_frame(
        self, name: str, start: date, end: date, subtree: str | None, scope: Scope, **params
    ) -> pd.DataFrame:
        """A named org query reading the CTEs `teams` (q_org_tree) and `people` (q_org_board_people's rows: each
        person in scope placed in a team, with the board's tokens), in one statement: the board is summed once and
        joined in DuckDB. The whole company's default period reads them as the refresh stored them
        (q_org_people_company)."""
        stored = self._stored_period(start, end)
        if stored and subtree is None and scope.company:
            people, params = {"people": "q_org_people_company"}, {**params}
        else:
            board, board_params = self._board_query(start, end, None, subtree, scope, stored)
            people = {"board": board, "placed": "q_org_people", "people": "q_org_board_people"}
            params = {**board_params, "start": start, "end": end, "subtree": subtree, "stored": stored, **params}
        ctes = {"teams": "q_org_tree", **people}
        if name == "people":  # the people themselves
            name = ctes.pop("people")
        text = with_queries(ctes, name)
        params = {**params, **scope.params()}
        # DuckDB refuses parameters a statement does not use: only those the query names
        return self._frame_of(text, {k: v for k, v in params.items() if f"${k}" in text}, scope)

    def org_tree(self, start: date, end: date, scope: Scope = OPERATOR) -> pd.DataFrame:
        """The scope's team tree over the period, as the cells that may be shown (analytics/org.py CELL_COLUMNS):
        no cell, and no cell minus its shown children, covers 1..k-1 people, with k the scope's (1 for a viewer
        allowed individual views: a lead in their own line, or an admin)."""
        from analytics import org  # the org explorer's engine; imported here to keep this module's imports as they are

        k = 1 if scope.individuals else scope.k
        nodes = self._org_frame("q_org_nodes", start, end, None, scope, no_team=org.NO_TEAM)
        return org.node_cells(nodes, k=k)

    def org_people(self, start: date, end: date, subtree: str | None, scope: Scope = OPERATOR) -> pd.DataFrame:
        """The people in `subtree` (None: the whole scope) with usage in the period who are on the board, by name,
        for viewers allowed individual views only: user_id, display_name (named scopes only), team_id (of their
        latest week in scope), real_outcomes, active_weeks, suspect_weeks, then the board's tokens,
        suspected/scheduled tokens, cost_usd, adjusted_tokens (as the leaderboard adjusts them, within [0, tokens])
        and flagged, then team_name, adjusted_share, suspected_share; most tokens first, then user_id."""
        if not scope.individuals:
            raise AccessError(f"{scope.role} viewer may not list individuals (scope: {scope.describe()})")
        people = self._org_frame("people", start, end, subtree, scope)
        # text even when nobody (or no named team) is listed, which arrow_frame gives as objects
        people["team_name"] = people["team_name"].astype("str")
        tokens = people["tokens"].astype("float64").replace(0, np.nan)
        people["adjusted_share"] = people["adjusted_tokens"] / tokens
        people["suspected_share"] = people["suspected_tokens"] / tokens
        if not _by_tokens(people):  # the stored company's people arrive in their stored order, checked here
            people = people.sort_values(["tokens", "user_id"], ascending=[False, True]).reset_index(drop=True)
        return people

    def org_person_weeks(self, user_id: str, start: date, end: date, scope: Scope = OPERATOR) -> pd.DataFrame:
        """One person's weeks in the period, only those inside the scope, for viewers allowed individual views:
        week, tokens, suspected_tokens, scheduled_tokens, cost_usd, real_outcomes, is_suspected."""
        if not scope.individuals:
            raise AccessError(f"{scope.role} viewer may not open one person's usage (scope: {scope.describe()})")
        return self._frame("q_org_person_weeks", scope, user_id=user_id, start=start, end=end)


def _bound(name: str, scope: Scope | None, params: dict) -> tuple[str, dict]:
    """A named query's text and its parameters, bound to the scope (`$scope_all`, `$scope_teams`, `$scope_user`):
    only the scope's parts the query names, since DuckDB refuses parameters a statement does not use."""
    text = sql_text(name)
    if scope is not None:
        params = {**params, **{k: v for k, v in scope.params().items() if f"${k}" in text}}
    return text, params


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


def _by_tokens(people: pd.DataFrame) -> bool:
    """Are the people already in order, most tokens first, then user_id? (Checked, not sorted: checking costs
    one comparison of ids per tie in tokens, sorting 56,000 people by text ~20 ms.)"""
    tokens = people["tokens"]
    if len(people) < 2:
        return True
    if tokens.isna().any() or people["user_id"].isna().any():
        return False
    values = tokens.to_numpy()
    if not (values[:-1] >= values[1:]).all():
        return False
    ties = np.flatnonzero(values[:-1] == values[1:])
    if not len(ties):
        return True
    users = pa.array(people["user_id"], from_pandas=True)
    return pc.all(pc.less(users.take(pa.array(ties)), users.take(pa.array(ties + 1)))).as_py()
