"""The Demand & scenarios page through AppTest: figures match the engine, controls move the scenario,
scenarios are saved and compared, and the empty and too-short states explain themselves."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analytics import forecast as F
from analytics import scenarios
from analytics.cli import build_demo
from analytics.queries import Warehouse
from analytics.warehouse import connect, connect_read_only


def demand_script() -> None:
    from pages import demand
    from tests.pagekit import view_from_env

    demand.page(view_from_env())


@pytest.fixture
def db(tmp_path, demo_db) -> Path:
    copy = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, copy)
    return copy


@pytest.fixture(scope="module")
def engine(demo_db):
    """What the page should show, computed by the engine directly."""
    con = connect_read_only(demo_db)
    try:
        wh = Warehouse(con)
        rows, prices = wh.demand_days(), wh.demand_prices(None, None)
    finally:
        con.close()
    fc = F.forecast(F.daily_series(rows), horizon=365)
    return fc, rows, prices


def run_page(monkeypatch, db: Path, store: Path | None = None) -> AppTest:
    monkeypatch.setenv("GOODHART_DB", str(db))
    if store is None:
        monkeypatch.delenv("GOODHART_SCENARIOS", raising=False)
    else:
        monkeypatch.setenv("GOODHART_SCENARIOS", str(store))
    at = AppTest.from_function(demand_script, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def frame(at: AppTest, column: str):
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def test_the_page_shows_the_engines_forecast_capacity_and_backtest(monkeypatch, db, engine):
    fc, rows, _ = engine
    at = run_page(monkeypatch, db)
    metrics = {m.label: m.value for m in at.metric}
    bt = fc.backtest
    assert (
        metrics["MASE observed / adjusted (in-sample choice)"]
        == f"{bt.mase('chosen', 'observed'):.2f} / {bt.mase('chosen', 'adjusted'):.2f}"
    )
    assert metrics["95 % interval coverage (in-sample choice)"] == (
        f"{bt.coverage('chosen', 'observed'):.0%} / {bt.coverage('chosen', 'adjusted'):.0%}"
    )
    assert any(fc.note in c.value for c in [*at.caption, *at.warning])
    assert metrics["History"] == f"{F.observed_days(fc.history)} days"
    # the capacity table: the default scenario (all suspected inflation stops at once) over 90 days
    shown = fc.truncate(90)
    paths = F.apply_scenario(shown, F.Scenario(change_date=shown.days[0].date()))
    assert np.array_equal(paths, shown.adjusted())
    mix = F.token_mix(F.scope_rows(rows))
    want = F.capacity(paths, F.Scenario(), mix)
    table = frame(at, "chosen")
    assert table["peak_tokens_per_day"].to_numpy() == pytest.approx(want["peak_tokens_per_day"].to_numpy())
    assert table["gpus"].tolist() == want["gpus"].tolist()
    bounded = F.capacity(paths, F.Scenario(), mix, capped=F.capped_paths(shown, F.Scenario()))["bounded"]
    assert (table["bounded"] == "").tolist() == bounded.tolist()  # a capped quantile says so
    # the backtest panel: every model on both series, seasonal naive among them
    shown_bt = frame(at, "coverage")
    assert len(shown_bt) == 10 and shown_bt["mase"].to_numpy() == pytest.approx(bt.table["mase"].to_numpy())
    assert any("Seasonal naive" in m for m in shown_bt["model"])
    assert sum(m.startswith("Used: ") and "in-sample" in m for m in shown_bt["model"]) == 2
    assert sum("held out" in m for m in shown_bt["model"]) == 2
    assert len(at.get("plotly_chart")) == 1
    fan = at.get("plotly_chart")[0].proto.spec
    assert "Chosen scenario" in fan and "Without suspected inflation" in fan
    assert len(at.slider) >= 4 and all(s.help for s in at.slider)


def test_the_inflation_slider_moves_the_scenario_between_adjusted_and_observed(monkeypatch, db, engine):
    fc, _, _ = engine
    shown = fc.truncate(90)
    at = run_page(monkeypatch, db)
    current = frame(at, "scenario").iloc[0]
    assert current["tokens"] == pytest.approx(shown.adjusted().mean(axis=0).sum())
    at.slider(key="demand.kept").set_value(100).run()
    assert not at.exception
    current = frame(at, "scenario").iloc[0]
    assert current["inflation_kept"] == 1.0
    assert current["tokens"] == pytest.approx(shown.observed().mean(axis=0).sum())
    at.slider(key="demand.horizon").set_value(28).run()
    assert frame(at, "scenario").iloc[0]["tokens"] == pytest.approx(fc.truncate(28).observed().mean(axis=0).sum())


def test_scenarios_are_saved_compared_and_a_taken_name_needs_confirmation(monkeypatch, db):
    at = run_page(monkeypatch, db)
    at.slider(key="demand.kept").set_value(40).run()
    at.text_input(key="demand.name").set_value("Forty percent")
    next(b for b in at.button if b.label == "Save scenario").click().run()
    assert not at.exception
    assert any("Saved as" in s.value for s in at.success)
    compared = frame(at, "scenario")
    assert compared["scenario"].tolist() == ["Current (unsaved)", "Forty percent"]
    assert compared["inflation_kept"].tolist() == [0.4, 0.4]
    # the same name again is refused until replacing is confirmed
    at.slider(key="demand.kept").set_value(10).run()
    next(b for b in at.button if b.label == "Save scenario").click().run()
    assert any("exists" in w.value for w in at.warning)
    assert scenarios.load_all(scenarios.path_for(db))["scenario"].iloc[0].inflation_kept == 0.4
    at.checkbox(key="demand.replace").check()
    next(b for b in at.button if b.label == "Save scenario").click().run()
    assert scenarios.load_all(scenarios.path_for(db))["scenario"].iloc[0].inflation_kept == 0.1
    # a bad name is refused with the reason
    at.text_input(key="demand.name").set_value("<b>bold</b>")
    next(b for b in at.button if b.label == "Save scenario").click().run()
    assert any("Not saved" in e.value for e in at.error)


def test_an_unreadable_scenario_store_is_a_warning_and_the_forecast_still_shows(monkeypatch, db, tmp_path):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database" * 200)
    at = run_page(monkeypatch, db, store=junk)
    assert any("unavailable" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) == 1


def test_a_tool_and_an_org_can_be_forecast_on_their_own(monkeypatch, db):
    at = run_page(monkeypatch, db)
    at.radio(key="demand.scope").set_value("tool").run()
    assert not at.exception
    assert at.selectbox(key="demand.tool").value
    assert len(at.get("plotly_chart")) == 1
    at.radio(key="demand.scope").set_value("org").run()
    assert not at.exception
    orgs = at.selectbox(key="demand.org").options
    assert orgs and "(unattributed)" not in orgs
    assert len(at.get("plotly_chart")) == 1


def test_an_empty_database_and_a_short_history_explain_themselves(monkeypatch, tmp_path):
    empty = tmp_path / "empty.duckdb"
    connect(empty).close()
    at = run_page(monkeypatch, empty)
    assert any("nothing to forecast" in i.value for i in at.info)
    short = tmp_path / "short.duckdb"
    build_demo(short, users=20, days=14, seed=1, end=date(2026, 11, 20))
    at = run_page(monkeypatch, short)
    assert any(f"at least {F.MIN_FIT_DAYS} days" in i.value for i in at.info)
    assert not any("baseline is used" in i.value for i in at.info)  # nothing is shown, so nothing is used
    assert not at.get("plotly_chart")


def test_a_rollout_without_people_to_scale_from_says_it_is_left_out(monkeypatch, db):
    from pages._shared import data

    real = data.Loaders.demand_prices
    monkeypatch.setattr(data.Loaders, "demand_prices", lambda self, *a: {**real(self, *a), "active_users": 0})
    at = run_page(monkeypatch, db)
    assert not any("rollout is left out" in w.value for w in at.warning)
    at.number_input(key="demand.rollout_people.company").set_value(100).run()
    assert not at.exception
    assert any("rollout is left out" in w.value for w in at.warning)


def test_why_there_is_no_forecast_is_inert_text(monkeypatch, db):
    from pages._shared import data

    why = "the tool **x**_y stopped reporting on 2026-08-31 (the data runs to 2026-11-22)"
    monkeypatch.setattr(data.Loaders, "demand_forecast", lambda self, *a: why)
    at = run_page(monkeypatch, db)
    shown = " ".join(i.value for i in at.info)
    assert r"\*\*x\*\*\_y stopped reporting" in shown  # escaped for Markdown, not bold
    assert "backtest picks the model" not in shown  # no waiting for more days will help
