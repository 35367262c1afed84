"""The Leaderboards page through AppTest: both boards side by side, the headline, filters, privacy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from analytics import leaderboard as lb
from analytics.access import k_configured
from analytics.queries import Warehouse
from analytics.warehouse import connect_read_only
from pages import leaderboards


def leaderboards_script() -> None:
    import streamlit as st

    from pages import leaderboards
    from pages._shared import data

    bounds = data.warehouse().date_bounds()
    st.session_state["goodhart.range"] = bounds
    st.session_state["goodhart.bounds"] = bounds
    from tests.pagekit import view_from_env

    leaderboards.page(view_from_env())


def run_page(monkeypatch, db, **env) -> AppTest:
    monkeypatch.setenv("GOODHART_DB", str(db))
    monkeypatch.delenv("GOODHART_K", raising=False)
    monkeypatch.setenv("GOODHART_TEST_VIEW", "Leadership")  # pseudonyms, k = 5: the strictest board
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_function(leaderboards_script, default_timeout=90).run()
    assert not at.exception
    return at


def view_scope(db, label: str):
    from analytics import access

    return access.demo_viewers(connect_read_only(db))[label].scope()


def expected(db, tool=None, subtree=None, period=leaderboards.PERIODS[0]):
    wh = Warehouse(connect_read_only(db))
    bounds = wh.date_bounds()
    start, end = leaderboards.period_span(period, bounds, bounds)
    raw = wh.leaderboard_people(start, end, tool, subtree)
    return raw, lb.people_board(raw, key=wh.pseudonym_key, show_names=False)


def boards(at: AppTest, level: str = "person"):
    """The raw and the adjusted board (AppTest does not expose dataframe keys: team boards have `people`)."""
    frames = [d.value for d in at.dataframe if ("people" in d.value.columns) == (level == "team")]
    raw = [f for f in frames if f.columns[0] == "rank_raw"]
    adjusted = [f for f in frames if f.columns[0] == "rank_adjusted"]
    assert len(raw) == len(adjusted) == 1
    return raw[0], adjusted[0]


def test_both_boards_side_by_side_with_the_headline(monkeypatch, demo_db):
    at = run_page(monkeypatch, demo_db)
    _, want = expected(demo_db)
    head = lb.headline(want, 10)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Raw top 10 kept"] == f"{head.kept} of 10"
    assert metrics["Inflation in raw top 10"] == f"{head.suspected_share:.0%}"
    assert head.kept < 10 and head.suspected_share > 0  # the demo's padders top the scoreboard
    raw, adjusted = boards(at)
    assert list(raw["rank_raw"]) == list(range(1, 11))
    assert list(adjusted["rank_adjusted"]) == list(range(1, 11))
    top = want.sort_values("rank_raw").head(10)
    assert list(raw["entity_name"]) == list(top["entity_name"])
    assert list(raw["tokens"]) == list(top["tokens"])
    # suspects are marked on the board, and the slope chart draws the rank shift
    flagged = top["flagged"].tolist()
    assert [("suspected" in m) for m in raw["marks"]] == flagged
    assert any(c.key == "people_slope" for c in at.get("plotly_chart"))
    # leadership's team board is the Org explorer's bottom cells (pooled "Other" cells included), all of k or more
    teams = boards(at, "team")[0]
    wh = Warehouse(connect_read_only(demo_db))
    first, last = wh.date_bounds()
    cells = lb.cells_board(wh.org_tree(first, last, view_scope(demo_db, "Leadership")))
    assert len(teams) == min(10, len(cells)) > 1 and (teams["people"] >= 5).all()
    assert set(teams["entity_name"]) <= set(cells["entity_name"])
    assert set(teams["people"]) <= set(cells["people"])
    # an admin's board has every team of k contributors, by its own members
    at = run_page(monkeypatch, demo_db, GOODHART_TEST_VIEW="Admin")
    teams = boards(at, "team")[0]
    assert len(teams) == 10 and (teams["people"] >= k_configured()).all()


def test_names_are_pseudonyms_unless_the_role_may_see_them(monkeypatch, demo_db):
    raw_people, _ = expected(demo_db)
    at = run_page(monkeypatch, demo_db)
    shown = boards(at)[0]["entity_name"]
    assert shown.str.startswith("Person ").all() and not shown.isin(raw_people["display_name"]).any()
    at = run_page(monkeypatch, demo_db, GOODHART_TEST_VIEW="Admin")
    assert boards(at)[0]["entity_name"].isin(raw_people["display_name"]).all()


def test_the_export_is_what_is_shown_and_keeps_the_pseudonym(demo_db):
    _, board = expected(demo_db)
    board["team"], board["marks"] = "x", ""
    hidden = leaderboards.people_export(board, 10, names=False)
    assert list(hidden.columns) == [*leaderboards.EXPORT_COLUMNS, "team"]  # no id, role, org
    assert len(hidden) == len(lb.slope_rows(board, 10)) and len(hidden) < len(board)
    assert ((hidden["rank_raw"] <= 10) | (hidden["rank_adjusted"] <= 10)).all()
    assert "entity_id" in leaderboards.people_export(board, 10, names=True).columns


def test_filters_narrow_the_boards(monkeypatch, demo_db):
    at = run_page(monkeypatch, demo_db)
    at.selectbox(key="lb_tool").set_value("copilot").run()
    assert not at.exception
    _, want = expected(demo_db, tool="copilot")
    assert list(boards(at)[0]["tokens"]) == list(want.sort_values("rank_raw").head(10)["tokens"])
    at.selectbox(key="lb_period").set_value(leaderboards.PERIODS[1]).run()
    _, want = expected(demo_db, tool="copilot", period=leaderboards.PERIODS[1])
    assert list(boards(at)[0]["tokens"]) == list(want.sort_values("rank_raw").head(10)["tokens"])
    at.selectbox(key="lb_top").set_value(20).run()
    assert len(boards(at)[0]) == 20


def test_pseudonymous_roles_get_no_subtree_to_difference(monkeypatch, demo_db):
    # two subtrees' boards differ by the people between them (a manager alone in their own team): leadership
    # ranks the whole company, and sees teams only as the Org explorer pools them
    at = run_page(monkeypatch, demo_db)
    assert "lb_subtree" not in [s.key for s in at.selectbox]
    assert any("as the Org explorer groups them" in c.value for c in at.caption)


def test_nobody_is_ranked_in_a_group_smaller_than_k(monkeypatch, demo_db):
    wh = Warehouse(connect_read_only(demo_db))
    team, size = wh.con.execute(
        "SELECT a.ancestor_id, count(*) AS n FROM dim_people p JOIN team_ancestors a USING (team_id) "
        "GROUP BY 1 ORDER BY n, 1 LIMIT 1"
    ).fetchone()
    bounds = wh.date_bounds()
    users = len(wh.leaderboard_people(*bounds, None, team))
    assert 0 < users <= size
    at = run_page(monkeypatch, demo_db, GOODHART_K=str(users + 1), GOODHART_TEST_VIEW="Admin")
    at.selectbox(key="lb_subtree").set_value(team).run()
    assert not at.exception
    assert not at.dataframe
    assert f"Nobody is ranked among fewer than {users + 1} people" in at.info[0].value
    assert str(users) not in at.info[0].value.replace(str(users + 1), "")  # how many is itself not shown
    # the same k withholds every smaller team from the team board
    at.selectbox(key="lb_subtree").set_value(leaderboards.WHOLE_COMPANY).run()
    teams = boards(at, "team")[0]
    assert len(teams) and (teams["people"] >= users + 1).all()


@pytest.mark.parametrize("period", leaderboards.PERIODS[1:])
def test_complete_week_periods_end_on_the_last_full_week(demo_db, period):
    bounds = Warehouse(connect_read_only(demo_db)).date_bounds()
    start, end = leaderboards.period_span(period, bounds, bounds)
    assert end.weekday() == 6 and end <= bounds[1] and end > bounds[1] - timedelta(days=7)
    weeks = 4 if "4" in period else 13
    assert (start.weekday() == 0 and (end - start).days + 1 == 7 * weeks) or start == bounds[0]
