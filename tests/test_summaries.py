"""The summaries the refresh keeps (marts.SUMMARIES) give the pages exactly what summing the big marts on every view
gave: the default period's leaderboard and org explorer rows, and the Demand and Data pages' head counts and totals."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from analytics import access, leaderboard, marts
from analytics.queries import OPERATOR, Warehouse
from analytics.warehouse import connect_read_only


@pytest.fixture(scope="module")
def wh(demo_db):
    warehouse = Warehouse(connect_read_only(demo_db))
    yield warehouse
    warehouse.close()


def _default_period(wh: Warehouse):
    first, last = wh.date_bounds()
    return max(first, last - timedelta(weeks=marts.PERIOD_WEEKS) + timedelta(days=1)), last


def _scopes(wh: Warehouse) -> dict[str, access.Scope]:
    viewers = access.demo_viewers(wh.con)
    out = {"admin": access.Viewer(email="", role="admin", display_name="test admin").scope()}
    for label, viewer in viewers.items():
        if label.startswith("Team lead of") or label.startswith("Lead of"):
            out[label] = viewer.scope()
    assert len(out) > 1, "the demo offers a lead to compare scoped results with"
    return out


def _same(got: pd.DataFrame, want: pd.DataFrame, key: str | list[str]) -> None:
    got = got.sort_values(key, ignore_index=True)
    want = want.sort_values(key, ignore_index=True)
    assert list(got.columns) == list(want.columns)
    for column in want.columns:
        a, e = got[column], want[column]
        if pd.api.types.is_float_dtype(e) or pd.api.types.is_float_dtype(a):
            np.testing.assert_allclose(a.astype("float64"), e.astype("float64"), rtol=1e-9, err_msg=column)
        else:
            assert a.astype(str).tolist() == e.astype(str).tolist(), f"{column} differs"


def test_the_default_period_is_the_one_summed(wh):
    start, end = _default_period(wh)
    assert wh._stored_period(start, end)
    assert wh._stored_period(start + timedelta(days=start.weekday() and -start.weekday()), end)  # same weeks
    assert not wh._stored_period(start + timedelta(days=7), end)
    assert not wh._stored_period(start, end - timedelta(days=7))


@pytest.mark.parametrize("narrow_to_a_tool", [False, True])
def test_leaderboard_from_the_summary_equals_summing_the_weeks(wh, narrow_to_a_tool):
    start, end = _default_period(wh)
    tool = wh.demand_tools()["tool"].iloc[0] if narrow_to_a_tool else None
    params = leaderboard.query_params(start, end, tool, None)
    for scope in _scopes(wh).values():
        summed = wh._frame("q_leaderboard_people", scope, **params, stored=False, board=False)
        assert len(summed)
        for stored, board in ((True, False), (True, True)):  # the period's sums, then also its stored peer standards
            got = wh._frame("q_leaderboard_people", scope, **params, stored=stored, board=board)
            _same(got, summed, "user_id")
    # the Warehouse reads the summaries for the default period (and sums the weeks for any other)
    key = wh.pseudonym_key
    _same(
        leaderboard.people_board(wh.leaderboard_people(start, end, tool), key=key, show_names=True),
        leaderboard.people_board(
            wh._frame("q_leaderboard_people", OPERATOR, **params, stored=False, board=False), key=key, show_names=True
        ),
        "entity_id",
    )
    later = leaderboard.query_params(start + timedelta(days=7), end, tool, None)
    _same(
        wh.leaderboard_people(start + timedelta(days=7), end, tool),
        wh._frame("q_leaderboard_people", OPERATOR, **later, stored=False, board=False),
        "user_id",
    )


def test_the_company_board_is_stored_ranked(wh):
    """The whole company's default view is the stored board, ranked and adjusted as people_board ranks a live one,
    for a pseudonymous viewer as for a named one."""
    start, end = _default_period(wh)
    stored = wh.leaderboard_people(start, end)
    assert {"rank_raw", "rank_adjusted", "rank_shift"} <= set(stored.columns)
    assert stored["rank_raw"].tolist() == list(range(1, len(stored) + 1))
    params = leaderboard.query_params(start, end, None, None)
    for named in (True, False):
        scope = access.Scope("admin", None, None, named, 5)
        live = wh._frame("q_leaderboard_people", scope, **params, stored=False, board=False)
        got = leaderboard.people_board(wh.leaderboard_people(start, end, scope=scope), key="k", show_names=named)
        want = leaderboard.people_board(live, key="k", show_names=named)
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)
        assert named or got["entity_name"].str.startswith("Person ").all()


def test_org_people_from_the_summary_equals_summing_the_weeks(wh):
    start, end = _default_period(wh)
    teams = wh.org_teams()
    subtree = teams.loc[teams["depth"] == teams["depth"].min(), "team_id"].iloc[0]
    for scope in _scopes(wh).values():
        for narrowed in (None, subtree):
            args = {"start": start, "end": end, "subtree": narrowed}
            summed = wh._frame("q_org_people", scope, **args, stored=True)
            _same(summed, wh._frame("q_org_people", scope, **args, stored=False), "user_id")


# The Demand and Data pages' questions as they were asked of every person-day before mart_identity_tool
FROM_DAYS = {
    "q_demand_tools": """
        WITH last AS (SELECT max(day) AS d FROM mart_person_day_tool)
        SELECT tool,
               count(DISTINCT user_id) FILTER (WHERE is_attributed AND tokens > 0 AND day > last.d - 28) AS people,
               count(DISTINCT user_id) FILTER (WHERE is_attributed AND tokens > 0) AS people_ever
        FROM mart_person_day_tool, last WHERE tool IS NOT NULL GROUP BY tool ORDER BY tool""",
    "q_demand_orgs": """
        WITH last AS (SELECT max(day) AS d FROM mart_person_day_tool), users AS (
            SELECT p.org_id, count(DISTINCT t.user_id) FILTER (WHERE t.day > last.d - 28) AS headcount,
                   count(DISTINCT t.user_id) AS people_ever
            FROM mart_person_day_tool t JOIN dim_people p USING (user_id), last
            WHERE t.is_attributed AND t.tokens > 0 GROUP BY p.org_id
        ), orgs AS (SELECT org_id, any_value(org_name) AS org_name FROM dim_people GROUP BY org_id)
        SELECT o.org_id, o.org_name, COALESCE(u.headcount, 0) AS headcount, COALESCE(u.people_ever, 0) AS people_ever
        FROM orgs o LEFT JOIN users u USING (org_id) ORDER BY o.org_name""",
    "q_unattributed_summary": """
        SELECT COALESCE(sum(tokens), 0) AS tokens,
               COALESCE(sum(tokens) FILTER (WHERE NOT is_attributed), 0) AS unattributed_tokens,
               count(DISTINCT identity) FILTER (WHERE NOT is_attributed) AS unattributed_identities
        FROM mart_person_day_tool""",
    "q_data_unattributed": """
        SELECT identity, string_agg(DISTINCT tool, ', ' ORDER BY tool) AS tools, CAST(sum(tokens) AS BIGINT) AS tokens,
               sum(cost_usd) AS cost_usd, CAST(sum(requests) AS BIGINT) AS requests, min(day) AS first_day,
               max(day) AS last_day
        FROM mart_person_day_tool WHERE NOT is_attributed GROUP BY identity ORDER BY tokens DESC, identity""",
}
KEYS = {
    "q_demand_tools": "tool",
    "q_demand_orgs": "org_id",
    "q_unattributed_summary": "tokens",
    "q_data_unattributed": "identity",
}


@pytest.mark.parametrize("name", sorted(FROM_DAYS))
def test_identity_totals_answer_as_the_person_days_did(wh, name):
    got = wh._frame(name)
    assert len(got)
    _same(got, wh.con.execute(FROM_DAYS[name]).df(), KEYS[name])


def test_demand_head_counts_see_recent_and_past_users(wh):
    tools = wh.demand_tools()
    assert (tools["people_ever"] >= tools["people"]).all()
    assert tools["people"].sum() > 0
    assert wh.unattributed_summary()["unattributed_identities"] > 0


AUTOMATION_BY_DAY = """
    SELECT m.user_id, p.display_name, p.team_name, CAST(sum(m.scheduled_tokens) AS BIGINT) AS automation_tokens,
           sum(m.scheduled_cost_usd) AS automation_cost_usd,
           CAST(sum(m.scheduled_requests) AS BIGINT) AS scheduled_requests,
           sum(m.scheduled_tokens) / nullif(sum(m.tokens), 0) AS share_of_their_tokens
    FROM mart_person_day_tool m JOIN dim_people p USING (user_id)
    WHERE m.is_attributed AND m.day BETWEEN CAST($start AS DATE) AND CAST($end AS DATE) AND m.scheduled_tokens > 0
      AND ($scope_all OR p.team_id IN (SELECT team_id FROM team_ancestors
                                       WHERE list_contains($scope_teams, ancestor_id)))
    GROUP BY ALL ORDER BY automation_tokens DESC"""


def test_automation_lane_sums_per_person_before_naming(wh):
    start, end = _default_period(wh)
    for scope in _scopes(wh).values():
        got = wh.automation_lane(start, end, scope)
        params = {"start": start, "end": end, "scope_all": scope.params()["scope_all"]}
        params["scope_teams"] = scope.params()["scope_teams"]
        want = wh.con.execute(AUTOMATION_BY_DAY, params).df()
        if not scope.named:
            want = want.drop(columns="display_name")
        _same(got, want, "user_id")
    assert len(wh.automation_lane(start, end))


# The decoupling monitor's weeks as they were summed from every person-week before mart_org_week_outcomes
DECOUPLING_FROM_WEEKS = """
    SELECT m.org_id, COALESCE(any_value(t.team_name), m.org_id) AS org_name, m.week,
           count(DISTINCT m.user_id) FILTER (WHERE m.is_headcount) AS people,
           CAST(sum(m.tokens) AS BIGINT) AS tokens,
           sum(m.edits_accepted) * $w_edit + sum(m.commits) * $w_commit + sum(m.prs_merged) * $w_pr
               + sum(m.reviews) * $w_review + sum(m.tickets_closed) * $w_ticket AS outcome_units,
           COALESCE(sum(m.tokens) FILTER (WHERE m.tool_reports) / nullif(sum(m.tokens), 0), 0) AS measurable_share
    FROM mart_person_week_tool m LEFT JOIN dim_teams t ON t.team_id = m.org_id
    WHERE m.week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE)
    GROUP BY m.org_id, m.week ORDER BY m.org_id, m.week"""


def test_decoupling_weeks_from_the_summary_equal_summing_the_person_weeks(wh):
    first, last = wh.date_bounds()
    params = leaderboard.query_params(first, last, None, None)
    keep = ("start", "end", "w_edit", "w_commit", "w_pr", "w_review", "w_ticket")
    for start in (first, last - timedelta(days=40)):
        got = wh.decoupling_weeks(start, last)
        assert len(got) and got["outcome_units"].sum() > 0
        want = wh.con.execute(DECOUPLING_FROM_WEEKS, {**{k: params[k] for k in keep}, "start": start}).df()
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)


def test_board_totals_in_duckdb_equal_summing_the_board(wh):
    """The Overview's raw and adjusted totals, summed in DuckDB, are leaderboard.totals of the board it read before:
    the stored company board and live ones (another period, a tool, a subtree, a lead's scope, nobody at all)."""
    start, end = _default_period(wh)
    tool = wh.demand_tools()["tool"].iloc[0]
    teams = wh.org_teams()
    subtree = teams.loc[teams["depth"] == teams["depth"].min() + 1, "team_id"].iloc[0]
    asked = [(start, end, None, None), (start + timedelta(days=7), end, None, None), (start, end, tool, None),
             (start, end, None, subtree), (end + timedelta(days=30), end + timedelta(days=60), None, None)]  # fmt: skip
    for scope in _scopes(wh).values():
        for args in asked:
            board = wh.leaderboard_people(*args, scope=scope)
            got = wh.leaderboard_totals(*args, scope=scope)
            tokens, adjusted = leaderboard.totals(board)
            assert got["people"] == len(board), args
            assert got["tokens"] == tokens
            np.testing.assert_allclose(got["adjusted_tokens"], adjusted, rtol=1e-9, atol=1e-9)
    assert wh.leaderboard_totals(start, end)["people"] > 0
    assert wh.leaderboard_totals(*asked[-1])["people"] == 0


# The leaderboard's filter options as they were summed from every person week before mart_team_tool
FILTERS_FROM_WEEKS = """
    SELECT 'tool' AS kind, tool AS id, tool AS label, CAST(sum(tokens) AS BIGINT) AS tokens
    FROM mart_person_week_tool WHERE ($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors
                                                                 WHERE list_contains($scope_teams, ancestor_id))))
    GROUP BY tool HAVING sum(tokens) > 0
    UNION ALL
    SELECT 'team', team_id, path, NULL FROM dim_teams WHERE ($scope_all OR (team_id IN (
        SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
    ORDER BY kind, tokens DESC NULLS LAST, label"""


def test_leaderboard_filters_from_the_summary_equal_summing_the_person_weeks(wh):
    tools = set()
    for scope in _scopes(wh).values():
        got = wh.leaderboard_filters(scope)
        params = {k: v for k, v in scope.params().items() if k in ("scope_all", "scope_teams")}
        want = wh._frame_of(FILTERS_FROM_WEEKS, params, scope)
        pd.testing.assert_frame_equal(got, want)  # the same rows in the same order
        tools.add(tuple(got.loc[got["kind"] == "tool", "id"]))
    assert len(tools) > 1 or len(tools.pop()) > 1, "the scopes see different tools, or several"


def test_the_company_board_team_sums_are_stored(wh):
    """The team board of the company's default view sums its teams as the refresh stored them (mart_period_team),
    giving the team_sums and team board that grouping the people in pandas gives; other views are summed live."""
    start, end = _default_period(wh)
    admin = _scopes(wh)["admin"]
    people = leaderboard.people_board(wh.leaderboard_people(start, end, scope=admin), key="k", show_names=True)
    stored = wh.leaderboard_teams(start, end, scope=admin)
    assert stored is not None and len(stored) > 1
    pd.testing.assert_frame_equal(stored, leaderboard.team_sums(people), check_exact=False, rtol=1e-9)
    for k in (1, 5, 12):
        got, got_withheld = leaderboard.team_board(people, k=k, sums=stored)
        want, want_withheld = leaderboard.team_board(people, k=k)
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)
        assert got_withheld == want_withheld
    tool = wh.demand_tools()["tool"].iloc[0]
    for scope, args in ((admin, (start + timedelta(days=7), end)), (admin, (start, end, tool)),
                        (_scopes(wh)[next(s for s in _scopes(wh) if s != "admin")], (start, end))):  # fmt: skip
        assert wh.leaderboard_teams(*args, scope=scope) is None
