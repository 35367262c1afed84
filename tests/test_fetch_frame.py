"""Pages read every query through Arrow (warehouse.fetch_frame), which must give the very frame DuckDB's own
`.df()` gives: the same columns, types and values, missing values included."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pandas as pd
import pytest

from analytics import access, data_queries, marts, queries
from analytics.queries import Warehouse
from analytics.warehouse import connect_read_only, fetch_frame


def _own(con, query, params=None):
    return con.execute(query, params or None).df()


def test_every_type_the_marts_hold_converts_as_duckdb_does():
    con = duckdb.connect()
    query = """
        SELECT * FROM (VALUES
            (1::INT, NULL::BOOLEAN, DATE '2024-01-01', TIMESTAMP '2024-01-01 10:00', 1.5::DECIMAL(18, 3), 'a',
             NULL::BIGINT, 10::HUGEINT, [1, 2], NULL::DATE, 3::BIGINT, TRUE, INTERVAL 1 DAY),
            (NULL, TRUE, NULL, NULL, NULL, NULL, 5, NULL, NULL, NULL, 4, FALSE, NULL)
        ) t(i, b, d, ts, dec, s, bi, hi, l, dn, x, bb, iv) WHERE x > $least"""
    got, want = fetch_frame(con, query, {"least": 0}), _own(con, query, {"least": 0})
    pd.testing.assert_frame_equal(got.drop(columns="l"), want.drop(columns="l"))
    assert got["l"].iloc[0].tolist() == [1, 2] and got["l"].iloc[1] is pd.NA
    no_interval = query.replace(", INTERVAL 1 DAY", "").replace(", NULL)\n", ")\n").replace(", iv)", ")")
    got, want = fetch_frame(con, no_interval, {"least": 0}), _own(con, no_interval, {"least": 0})
    pd.testing.assert_frame_equal(got.drop(columns="l"), want.drop(columns="l"))
    empty = "SELECT 1 AS a, DATE '2024-01-01' AS d WHERE false"
    pd.testing.assert_frame_equal(fetch_frame(con, empty), _own(con, empty))


@pytest.fixture(scope="module")
def wh(demo_db):
    warehouse = Warehouse(connect_read_only(demo_db))
    yield warehouse
    warehouse.close()


def _reads(wh: Warehouse) -> dict[str, object]:
    """Every frame a page reads, for an admin and a lead, over the default period and a narrower one."""
    first, last = wh.date_bounds()
    start = max(first, last - timedelta(weeks=marts.PERIOD_WEEKS) + timedelta(days=1))
    lead = next(v for label, v in access.demo_viewers(wh.con).items() if label.startswith("Team lead of"))
    admin = access.Viewer(email="", role="admin", display_name="test admin").scope()
    out: dict[str, object] = {}
    for who, scope in (("admin", admin), ("lead", lead.scope())):
        for span, (lo, hi) in {"default": (start, last), "narrow": (last - timedelta(days=20), last)}.items():
            tag = f"{who} {span}"
            out[f"weekly_adoption {tag}"] = wh.weekly_adoption(lo, hi)
            out[f"weekly_usage_by_tool {tag}"] = wh.weekly_usage_by_tool(lo, hi)
            out[f"org_comparison {tag}"] = wh.org_comparison(lo, hi)
            out[f"token_split {tag}"] = wh.token_split(lo, hi)
            out[f"automation_lane {tag}"] = wh.automation_lane(lo, hi, scope)
            out[f"leaderboard_people {tag}"] = wh.leaderboard_people(lo, hi, None, None, scope)
            out[f"decoupling_weeks {tag}"] = wh.decoupling_weeks(lo, hi)
            out[f"my_weeks {tag}"] = wh.my_weeks(lo, hi, scope)
            out[f"org_tree {tag}"] = wh.org_tree(lo, hi, scope)
            if scope.individuals:
                people = wh.org_people(lo, hi, None, scope)
                out[f"org_people {tag}"] = people
                user = people["user_id"].iloc[0]
                out[f"org_person_weeks {tag}"] = wh.org_person_weeks(user, lo, hi, scope)
                for part, frame in wh.evidence(user, lo, hi, scope).items():
                    out[f"evidence {part} {tag}"] = frame
        out[f"suspects {who}"] = wh.suspects(scope)
        out[f"suspect_teams {who}"] = wh.suspect_teams(scope)
        out[f"leaderboard_filters {who}"] = wh.leaderboard_filters(scope)
        out[f"org_teams {who}"] = wh.org_teams(scope)
    out["demand_days"] = wh.demand_days()
    out["demand_orgs"] = wh.demand_orgs()
    out["demand_tools"] = wh.demand_tools()
    out["demand_model_mix"] = wh.demand_model_mix()
    out["demand_prices"] = wh.demand_prices()
    out["unattributed"] = wh.unattributed()
    out["status"] = wh.status()
    out["data sources"] = data_queries.sources(wh.con)
    return out


def test_every_page_read_is_the_frame_duckdb_gives(wh, monkeypatch):
    got = _reads(wh)
    monkeypatch.setattr(queries, "fetch_frame", _own)
    want = _reads(wh)
    assert got.keys() == want.keys()
    empty = 0
    for name, expected in want.items():
        if isinstance(expected, pd.DataFrame):
            empty += not len(expected)
            pd.testing.assert_frame_equal(got[name], expected, obj=name)
        else:
            assert got[name] == expected, name
    assert empty < len(want) / 4, "most reads have rows to compare"
