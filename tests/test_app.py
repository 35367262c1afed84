"""The app through Streamlit's AppTest: the Overview's numbers, filters and states."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.access import k_configured
from analytics.queries import Warehouse
from analytics.warehouse import connect, connect_read_only

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def run_app(monkeypatch, db: Path, timeout: float = 60) -> AppTest:
    monkeypatch.setenv("GOODHART_DB", str(db))
    return AppTest.from_file(APP, default_timeout=timeout).run()


def plotly_values(values) -> list:
    """A trace's values as sent to the browser: a list, or a typed array (dtype + base64 bytes)."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_headline_matches_the_adoption_command(monkeypatch, demo_db):
    at = run_app(monkeypatch, demo_db)
    assert not at.exception
    want = Warehouse(connect_read_only(demo_db)).adoption()
    got = metrics(at)
    assert got["Headcount"] == f"{want['headcount']:,}"
    assert got["Active (scoreboard)"] == f"{want['active_share']:.0%}"
    assert got["Real adoption"] == f"{want['real_share']:.0%}"
    assert at.subheader[0].value == f"Week of {date.fromisoformat(want['week']):%d %b %Y}"
    assert "decoupling_chart" in [c.key for c in at.get("plotly_chart")]
    assert len(at.get("plotly_chart")) == 7
    assert at.sidebar.warning[0].value.startswith("Demo data")


def test_overview_splits_tokens_into_genuine_suspected_and_automation(monkeypatch, demo_db):
    at = run_app(monkeypatch, demo_db)
    got = metrics(at)
    chart = next(c for c in at.get("plotly_chart") if c.key == "split_tokens_chart")
    bars = {t["name"]: {"x": t["x"], "y": plotly_values(t["y"])} for t in json.loads(chart.proto.spec)["data"]}
    start, end = at.session_state["goodhart.range"]
    split = Warehouse(connect_read_only(demo_db)).token_split(start, end).set_index("week")
    weeks = pd.to_datetime(bars["Genuine"]["x"])
    for name, part in (
        ("Genuine", "genuine"),
        ("Suspected inflation", "suspected"),
        ("Declared automation", "automation"),
    ):
        assert list(bars[name]["y"]) == split.loc[weeks, f"{part}_tokens"].tolist()
    totals = {name: sum(bars[name]["y"]) for name in bars}
    whole = sum(totals.values())
    assert totals["Suspected inflation"] > 0 and totals["Declared automation"] > 0
    for name, total in totals.items():
        assert got[f"{name}: share of tokens"] == f"{total / whole:.0%}"


def test_the_date_range_drives_the_page(monkeypatch, demo_db):
    at = run_app(monkeypatch, demo_db)
    before = metrics(at)["Tokens in range"]
    first, _ = at.session_state["goodhart.bounds"]
    at.sidebar.date_input[0].set_value((first, first + timedelta(days=14))).run()
    assert not at.exception
    assert at.caption[0].value.startswith(f"Weeks overlapping {first:%d %b %Y}")
    assert metrics(at)["Tokens in range"] != before


def test_a_half_picked_range_falls_back_to_the_default(monkeypatch, demo_db):
    at = run_app(monkeypatch, demo_db)
    default_caption = at.caption[0].value
    first, _ = at.session_state["goodhart.bounds"]
    at.sidebar.date_input[0].set_value((first,)).run()
    assert not at.exception
    assert at.caption[0].value == default_caption
    assert "Pick an end date" in at.sidebar.caption[-1].value


def test_missing_database_builds_the_demo_with_progress(monkeypatch, tmp_path):
    monkeypatch.setenv("GOODHART_DEMO_USERS", "60")
    monkeypatch.setenv("GOODHART_DEMO_DAYS", "21")
    db = tmp_path / "fresh" / "usage.duckdb"
    at = run_app(monkeypatch, db, timeout=120)
    assert not at.exception
    assert db.exists()
    assert at.success[0].value.startswith("Built the demo organisation") and "60 made-up people" in at.success[0].value
    assert metrics(at)["Headcount"] != "0"


def test_an_empty_database_explains_itself(monkeypatch, tmp_path):
    db = tmp_path / "empty.duckdb"
    connect(db).close()
    at = run_app(monkeypatch, db)
    assert not at.exception
    assert "holds no usage yet" in at.info[0].value


def test_a_file_that_is_not_a_database_gives_a_clear_error(monkeypatch, tmp_path):
    db = tmp_path / "junk.duckdb"
    db.write_text("this is not a database")
    at = run_app(monkeypatch, db)
    assert not at.exception
    assert at.error[0].value.startswith("Cannot open the database")


@pytest.mark.parametrize("module", ["analytics.cli", "analytics.queries", "analytics.charts", "analytics.demo"])
def test_the_engine_never_imports_streamlit(module):
    import subprocess
    import sys

    code = f"import sys, {module}; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(APP).parent).returncode == 0


def test_a_database_from_elsewhere_is_refused_not_changed(monkeypatch, tmp_path):
    import duckdb

    db = tmp_path / "sales.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE sales AS SELECT 1 AS amount")
    con.close()
    at = run_app(monkeypatch, db)
    assert not at.exception
    assert "not a Goodhart database" in at.error[0].value


def test_overview_shows_raw_against_adjusted_tokens_and_the_decoupling_monitor(monkeypatch, demo_db):
    from analytics import leaderboard
    from pages import overview

    at = run_app(monkeypatch, demo_db)
    start, end = at.session_state["goodhart.range"]
    wh = Warehouse(connect_read_only(demo_db))
    board = leaderboard.people_board(wh.leaderboard_people(start, end), key="k", show_names=False)
    got = metrics(at)
    assert got["Raw tokens (people)"] == overview.short_number(board["tokens"].sum())
    assert got["Quality-adjusted tokens"] == overview.short_number(board["adjusted_tokens"].sum())
    assert board["adjusted_tokens"].sum() < board["tokens"].sum()
    # the monitor's table holds every top-level org of at least k people, each with a verdict
    table = next(d.value for d in at.dataframe if "tokens_growth" in d.value.columns)
    assert len(table) > 0 and table["status"].isin(["in step", "decoupling", "no usage before"]).any()
    assert (table["people"] >= k_configured()).all()


def test_an_untouched_date_range_follows_new_days_and_a_chosen_one_stays(monkeypatch, tmp_path):
    from datetime import date

    from pages._shared import filters

    script = """
import streamlit as st
from pages._shared import filters
st.session_state["picked"] = filters.date_range(st.session_state["bounds"])
"""
    at = AppTest.from_string(script, default_timeout=30)
    at.session_state["bounds"] = (date(2026, 1, 1), date(2026, 6, 30))
    at.run()
    assert at.session_state["picked"] == (date(2026, 4, 1), date(2026, 6, 30))  # the last 13 weeks
    at.session_state["bounds"] = (date(2026, 1, 1), date(2026, 7, 1))  # a new day arrived
    at.run()
    assert at.session_state["picked"] == (date(2026, 4, 2), date(2026, 7, 1))
    at.sidebar.date_input(key=filters.RANGE_KEY).set_value((date(2026, 2, 1), date(2026, 2, 28))).run()
    at.session_state["bounds"] = (date(2026, 1, 1), date(2026, 7, 2))
    at.run()
    assert at.session_state["picked"] == (date(2026, 2, 1), date(2026, 2, 28))
