"""The Demand forecast is fitted once per demand series, in the background, and a refit never blocks a page:
while it runs, sessions get the previous forecast, labelled with its data's last day."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import forecast as F
from analytics import snapshots
from analytics.queries import Warehouse
from analytics.warehouse import connect, connect_read_only, set_meta, sql_text
from pages._shared import data
from tests.test_page_demand import demand_script


def series(days: int = 60, scale: float = 1.0) -> pd.DataFrame:
    """A demand series of `days` days, as `daily_series` makes them: noisy weekly seasonality."""
    rng = np.random.default_rng(days)
    index = pd.date_range("2026-01-05", periods=days, freq="D", name="day")
    weekly = 1 + 0.3 * np.sin(np.arange(days) * 2 * np.pi / 7)
    frame = pd.DataFrame({c: 1000.0 * scale * weekly * rng.lognormal(0, 0.05, days) for c in F.COMPONENTS}, index=index)
    frame["total"] = frame.sum(axis=1)
    return frame


class GatedFit:
    """A fit that waits for `release` and counts its calls (what it fits is the series' length)."""

    def __init__(self):
        self.release = threading.Event()
        self.calls: list[int] = []

    def __call__(self, history: pd.DataFrame, horizon: int) -> str:
        self.calls.append(len(history))
        assert self.release.wait(30)
        return f"fit of {len(history)} days"


def test_one_fit_per_series_and_the_previous_one_while_the_next_runs():
    fit = GatedFit()
    board = data.ForecastBoard(fit)
    first, second = series(60), series(61)

    # the first forecast of a scope on this server: callers wait, and ten of them make one fit
    fit.release.set()
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(board.get("db", None, None, first))) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [("fit of 60 days", None)] * 10
    assert fit.calls == [60]

    # a new series: nobody waits; they get the previous forecast and the running fit
    fit.release.clear()
    fc, running = board.get("db", None, None, second)
    assert fc == "fit of 60 days" and running is not None and not running.done()
    again, running_again = board.get("db", None, None, second)
    assert again == "fit of 60 days" and running_again is running
    fit.release.set()
    assert running.result(30) == "fit of 61 days"
    assert board.get("db", None, None, second) == ("fit of 61 days", None)
    assert board.get("db", None, None, series(61)) == ("fit of 61 days", None)  # equal series, no new fit
    assert fit.calls == [60, 61]
    assert board.fits_started == 2


def test_scopes_and_databases_never_share_a_forecast():
    fit = GatedFit()
    fit.release.set()
    board = data.ForecastBoard(fit)
    board.get("a", None, None, series(60))
    board.get("a", "Cursor", None, series(59))
    # another database's first fit waits for its own, never gets database a's
    assert board.get("b", None, None, series(58)) == ("fit of 58 days", None)
    assert board.scopes("a") == [(None, None), ("Cursor", None)]
    assert board.scopes("b") == [(None, None)]


def test_a_failed_fit_is_said_to_the_caller_and_tried_again_later():
    calls = []

    def flaky(history, horizon):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the fit broke")
        return "fine"

    board = data.ForecastBoard(flaky)
    with pytest.raises(RuntimeError, match="the fit broke"):
        board.get("db", None, None, series())
    assert board.get("db", None, None, series()) == ("fine", None)


def test_the_worker_process_fits_what_the_engine_fits_and_survives_being_killed():
    history = series(70, scale=3.0)
    worker = data._FitWorker()
    try:
        got = worker.fit(history, 30)
        want = F.forecast(history, horizon=30)
        assert got.choice == want.choice
        for component in want.paths:
            np.testing.assert_allclose(got.paths[component], want.paths[component])
        assert worker.fit(series(5), 30).startswith("a forecast needs at least")  # too little: the reason
        worker._proc.kill()
        worker._proc.wait(10)
        again = worker.fit(history, 30)  # a new worker process
        np.testing.assert_allclose(again.paths["genuine"], want.paths["genuine"])
    finally:
        worker.stop()


# -- the page, with a new snapshot published while a session is on it --------------------------------------


def publish_changed(db: Path, version: str) -> Path:
    """Double the genuine demand, mark a new data version and publish it, as an ingest would."""
    con = connect(db)
    try:
        con.execute("UPDATE mart_demand_day SET tokens = tokens + genuine_tokens, genuine_tokens = genuine_tokens * 2")
        con.execute(sql_text("mart_demand_org_day"))  # and its daily sums per org, which the page reads
        set_meta(con, "data_version", version)
        return snapshots.publish(con, db)
    finally:
        con.close()


def test_a_session_during_a_refit_sees_the_previous_forecast_labelled_and_no_error(monkeypatch, tmp_path, demo_db):
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("GOODHART_DB", str(db))
    monkeypatch.delenv("GOODHART_SCENARIOS", raising=False)
    fits: list[int] = []
    release = threading.Event()
    release.set()

    def counted(history, horizon):
        fits.append(len(history))
        assert release.wait(60)
        return data._FitWorker.fit(worker, history, horizon)

    worker = data._FitWorker()
    board = data.ForecastBoard(counted)
    monkeypatch.setattr(data, "FORECASTS", board)
    try:
        publish_changed(db, "v1")
        data.recheck_snapshot()
        first = AppTest.from_function(demand_script, default_timeout=120).run()
        assert not first.exception, first.exception
        assert not [c for c in first.caption if "is being fitted" in c.value]
        assert len(fits) == 1

        # the next snapshot: its fit is held back, so the page must answer with the previous forecast
        release.clear()
        publish_changed(db, "v2")
        data.recheck_snapshot()
        second = AppTest.from_function(demand_script, default_timeout=30).run()
        assert not second.exception and not second.error, (second.exception, second.error)
        con = connect_read_only(snapshots.current(db))
        try:
            last_day = F.daily_series(Warehouse(con).demand_days()).index[-1]
        finally:
            con.close()
        labels = [c.value for c in second.caption if "is being fitted" in c.value]
        assert labels == [
            f"Fitted on the data up to {last_day:%Y-%m-%d}. The forecast on the newest data (up to "
            f"{last_day:%Y-%m-%d}) is being fitted and replaces this one as soon as it is ready."
        ]
        assert second.metric  # the whole page is there, from the previous forecast

        release.set()
        for _ in range(100):  # the background fit finishes
            if len(fits) == 2 and all(f.done() for f in board._fits.values()):
                break
            threading.Event().wait(0.1)
        third = AppTest.from_function(demand_script, default_timeout=30).run()
        assert not third.exception
        assert not [c for c in third.caption if "is being fitted" in c.value]
        assert len(fits) == 2  # one fit per snapshot, however many sessions and runs
    finally:
        worker.stop()
