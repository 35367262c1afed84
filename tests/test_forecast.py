"""The demand forecast on synthetic series with known answers, the scenario math by hand, and the scenario store."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics import forecast as F
from analytics import scenarios
from tests.test_forecast_cli import CONTRACT_COLUMNS

START = pd.Timestamp("2026-01-05")  # a Monday
SLOPE = 0.004  # log tokens per day: about +1.5 % a week
WEEKLY = np.array([0.30, 0.35, 0.32, 0.28, 0.15, -0.70, -0.80])  # Mon..Sun on the log scale; sums to 0.1
WEEKLY = WEEKLY - WEEKLY.mean()
AMPLITUDE = WEEKLY.max() - WEEKLY.min()


def log_series(days: int = 168, *, seed: int = 1, noise: float = 0.04, level: float = 20.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    values = level + SLOPE * t + WEEKLY[t % 7] + rng.normal(0, noise, days)
    return pd.Series(values, index=pd.date_range(START, periods=days, freq="D", name="day"))


def history(days: int = 140, *, seed: int = 3) -> pd.DataFrame:
    """Three components with trend and weekly seasonality, in tokens per day."""
    genuine = np.exp(log_series(days, seed=seed))
    suspected = np.exp(log_series(days, seed=seed + 1, level=19.3))
    automation = np.exp(log_series(days, seed=seed + 2, level=17.0, noise=0.02))
    frame = pd.DataFrame({"genuine": genuine, "suspected": suspected, "automation": automation})
    frame["total"] = frame.sum(axis=1)
    frame.index.freq = "D"
    return frame


# -- models recover what is there ---------------------------------------------------------------------


@pytest.mark.parametrize("model", ["ets", "uc"])
def test_the_forecast_recovers_trend_and_weekly_amplitude(model):
    y = log_series(168)
    fit = F.fit_component(np.expm1(y), model, horizon=28)
    mean = fit.mean  # log scale
    # slope: weekly averages cancel the seasonal pattern; ETS damps its trend, so allow a third either way
    slope = (mean[21:28].mean() - mean[0:7].mean()) / 21
    assert slope == pytest.approx(SLOPE, rel=0.35), slope
    # weekly amplitude of the forecast, trend removed, within 10 % of the truth
    detrended = mean[:28] - slope * np.arange(28)
    pattern = np.array([detrended[k::7].mean() for k in range(7)])
    assert pattern.max() - pattern.min() == pytest.approx(AMPLITUDE, rel=0.10)
    # and the weekdays line up: history ends on a Sunday, so the first forecast day is a Monday
    assert int(np.argmin(pattern)) == int(np.argmin(WEEKLY))
    # the level: within 5 % in tokens of the true next four weeks
    t = np.arange(168, 196)
    truth = 20.0 + SLOPE * t + WEEKLY[t % 7]
    assert np.abs(np.exp(mean) / np.exp(truth) - 1).mean() < 0.05


def test_intervals_are_ordered_and_widen_with_the_horizon():
    fc = F.forecast(history(), horizon=120, folds=2)
    for paths in (fc.observed(), fc.adjusted()):
        s = F.summarise(paths, fc.days)
        assert (s["lower"] <= s["p50"]).all() and (s["p50"] <= s["upper"]).all()
        assert (s["lower"] <= s["mean"]).all() and (s["mean"] <= s["upper"]).all()
        assert (s["p50"] <= s["p90"]).all() and (s["p90"] <= s["p95"]).all()
        relative = (s["upper"] - s["lower"]) / s["p50"]
        first, last = relative.iloc[:7].mean(), relative.iloc[-7:].mean()
        assert last > first * 1.05, (first, last)


def test_same_data_same_forecast_and_a_longer_horizon_only_adds_days():
    a = F.forecast(history(), horizon=30, folds=1)
    b = F.forecast(history(), horizon=30, folds=1)
    assert np.array_equal(a.observed(), b.observed())
    longer = F.forecast(history(), horizon=90, folds=1)
    assert np.allclose(longer.truncate(30).observed(), a.observed(), rtol=1e-9)


def test_keeping_all_inflation_is_the_observed_forecast_and_none_the_adjusted_one():
    fc = F.forecast(history(), horizon=60, folds=1)
    assert np.array_equal(F.apply_scenario(fc, F.Scenario(inflation_kept=1.0)), fc.observed())
    assert np.array_equal(F.apply_scenario(fc, F.Scenario(inflation_kept=0.0)), fc.adjusted())
    half = F.apply_scenario(fc, F.Scenario(inflation_kept=0.5))
    assert (fc.adjusted() <= half).all() and (half <= fc.observed()).all()
    table = F.contract_table(fc, 1.0)
    assert (table["adjusted_mean"] == table["observed_mean"]).all()
    assert list(table.columns[:7]) == CONTRACT_COLUMNS


def tokens_of(fit: F.ComponentFit) -> np.ndarray:
    return np.expm1(fit.mean) if fit.log_scale else fit.mean


@pytest.mark.parametrize("model", ["seasonal_naive", "ets", "uc"])
def test_a_block_of_gap_days_does_not_drag_the_forecast_to_zero(model):
    tokens = np.expm1(log_series(140))
    gapped = tokens.copy()
    gapped.iloc[100:114] = np.nan  # two weeks a source did not report
    gapped.iloc[-3:] = np.nan  # and the last days too
    fit = F.fit_component(gapped, model, horizon=28)
    t = np.arange(140, 168)
    truth = np.exp(20.0 + SLOPE * t + WEEKLY[t % 7])
    ratio = tokens_of(fit) / truth
    assert 0.8 < ratio.mean() < 1.25, ratio.mean()
    # the same days read as zeros instead would drag it down: the check above can fail
    zeroed = F.fit_component(tokens.where(gapped.notna(), 0.0), model, horizon=28)
    assert tokens_of(zeroed).mean() < 0.95 * tokens_of(fit).mean()


def test_a_tool_that_did_not_report_makes_the_company_day_missing_not_smaller():
    days = pd.date_range("2026-03-02", periods=40, freq="D")
    rows = []
    for d in days:
        for tool, tokens in (("a", 1000), ("b", 500)):
            if tool == "b" and d in days[20:23]:
                continue  # tool b sent nothing on three days
            rows.append(
                {
                    "day": d,
                    "tool": tool,
                    "org_id": "o1",
                    "genuine_tokens": tokens,
                    "suspected_tokens": 10,
                    "automation_tokens": 5,
                }
            )
    series = F.daily_series(pd.DataFrame(rows))
    assert len(series) == 40
    assert series["total"].iloc[20:23].isna().all()
    assert (series["total"].drop(series.index[20:23]) == 1530).all()
    only_a = F.daily_series(pd.DataFrame(rows), tool="a")
    assert only_a["total"].notna().all()  # tool a reported every day


def test_the_seasonal_naive_baseline_is_always_scored_and_mase_defined():
    bt = F.backtest(history(), folds=3)
    naive = bt.table[bt.table["model"] == "seasonal_naive"]
    assert set(naive["series"]) == {"observed", "adjusted"}
    assert np.isfinite(naive["mase"]).all() and (naive["mase"] > 0).all()
    assert ((bt.table["coverage"] >= 0) & (bt.table["coverage"] <= 1)).all()
    assert len(bt.origins) == 3 and bt.horizon == 28
    # the backtest scores real days only: 3 origins x 28 days (the held-out rows: the later 2 origins)
    assert (bt.table.loc[bt.table["model"] != "held_out", "days"] == 84).all()
    assert (bt.table.loc[bt.table["model"] == "held_out", "days"] == 56).all()


def scored(observed: float, adjusted: float) -> dict:
    return {"observed": {"mase": observed}, "adjusted": {"mase": adjusted}}


def test_the_pairing_with_the_lowest_error_is_used_only_when_it_beats_the_baseline():
    combos = {(a, b): scored(1.2, 1.2) for a in F.MODELS for b in F.MODELS}
    combos["seasonal_naive", "seasonal_naive"] = scored(1.0, 1.0)
    assert F._best(combos) == ("seasonal_naive", "seasonal_naive")  # nothing beats 2.0
    combos["ets", "seasonal_naive"] = scored(1.0, 1.0)
    assert F._best(combos) == ("seasonal_naive", "seasonal_naive")  # a tie is not a win
    combos["ets", "uc"] = scored(0.95, 1.02)  # better in sum, though worse on the adjusted series
    assert F._best(combos) == ("ets", "uc")


def backtest_table(rows: dict[str, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"model": m, "series": s, "mase": v, "coverage": 0.95, "folds": 4, "days": 112}
            for m, pair in rows.items()
            for s, v in zip(("observed", "adjusted"), pair, strict=True)
        ]
    )


def test_the_note_says_when_no_model_beats_the_baseline_and_where_the_one_used_does_not():
    naive = dict.fromkeys(F.COMPONENTS, "seasonal_naive")
    bt = F.Backtest(backtest_table({"seasonal_naive": (0.9, 0.9), "chosen": (0.9, 0.9)}), [], 28, {}, naive)
    assert F.describe_choice(bt).startswith("No model beat the seasonal-naive baseline")
    mixed = {"genuine": "ets", "automation": "ets", "suspected": "uc"}
    table = backtest_table({"seasonal_naive": (1.1, 1.0), "ets": (1.0, 1.05), "chosen": (0.95, 1.02)})
    note = F.describe_choice(F.Backtest(table, [], 28, {}, mixed))
    assert "for genuine use and automation" in note and "MASE observed 0.95 against 1.10" in note
    assert "On demand without suspected inflation it does not beat seasonal naive." in note
    assert "On observed demand" not in note
    # genuine use by the baseline: nothing beat it on the adjusted series, even if noise puts it a hair below
    naive_main = {"genuine": "seasonal_naive", "automation": "seasonal_naive", "suspected": "ets"}
    table = backtest_table({"seasonal_naive": (1.1, 1.0), "ets": (1.0, 1.05), "chosen": (0.95, 0.999)})
    bt = F.Backtest(table, [], 28, {}, naive_main)
    assert "No model beat the baseline on demand without suspected inflation" in F.describe_choice(bt)
    assert bt.beats_baseline("observed") and not bt.beats_baseline("adjusted")


def test_too_little_history_says_how_many_days_are_needed():
    with pytest.raises(F.TooLittleHistory, match=f"at least {F.MIN_FIT_DAYS} days"):
        F.forecast(history(20), horizon=10)


# -- scenario math by hand ------------------------------------------------------------------------------


def constant_forecast(genuine=100.0, suspected=50.0, automation=10.0, days=10, paths=4) -> F.Forecast:
    idx = pd.date_range("2027-01-01", periods=days, freq="D", name="day")
    full = {
        "genuine": np.full((paths, days), genuine),
        "suspected": np.full((paths, days), suspected),
        "automation": np.full((paths, days), automation),
    }
    empty = F.Backtest(pd.DataFrame(columns=["model", "series", "mase", "coverage", "folds", "days"]), [], 28, {})
    return F.Forecast(pd.DataFrame(), idx, full, "seasonal_naive", {}, empty, "")


def test_inflation_fades_linearly_from_the_change_date():
    fc = constant_forecast()
    sc = F.Scenario(inflation_kept=0.2, change_date=date(2027, 1, 3), fade_days=4)
    kept = F.retained_share(fc.days, sc)
    # 1 Jan, 2 Jan before the change; then 80 % of the inflation goes in four equal daily steps
    assert kept == pytest.approx([1, 1, 0.8, 0.6, 0.4, 0.2, 0.2, 0.2, 0.2, 0.2])
    total = F.apply_scenario(fc, sc)[0]
    assert total == pytest.approx(110 + 50 * kept)
    at_once = F.retained_share(fc.days, F.Scenario(inflation_kept=0.5))
    assert at_once == pytest.approx([0.5] * 10)


def test_growth_and_a_rollout_scale_genuine_use_only():
    fc = constant_forecast(days=400, paths=2)
    grown = F.apply_scenario(fc, F.Scenario(inflation_kept=1.0, growth_pct_per_year=10.0))[0]
    assert grown[364] == pytest.approx(100 * 1.10 + 60)  # day 365: a year of 10 % growth
    sc = F.Scenario(inflation_kept=1.0, rollout_date=date(2027, 1, 6), rollout_headcount=50)
    stepped = F.apply_scenario(fc, sc, headcount=200)[0]
    assert stepped[:5] == pytest.approx([160] * 5)
    assert stepped[5:10] == pytest.approx([100 * 1.25 + 60] * 5)  # 50 more people on 200: +25 % genuine
    assert F.apply_scenario(fc, sc, headcount=0)[0] == pytest.approx([160] * 400)  # no headcount, no step


def test_prices_gpus_and_costs_at_each_quantile():
    # 48 M tokens a day, every day: 2 GPUs at 1 M tokens per GPU-hour
    paths = np.full((10, 30), 48e6)
    paths[9, 10] = 96e6  # one path's peak day; p95 interpolates between path 9 and the rest
    sc = F.Scenario(
        tokens_per_gpu_hour=1e6,
        usd_per_gpu_hour=2.0,
        usd_per_mtok_input=3.0,
        usd_per_mtok_output=15.0,
        usd_per_mtok_cache_read=0.3,
        usd_per_mtok_cache_write=3.75,
        quantile="p95",
    )
    mix = {"input": 0.5, "output": 0.5, "cache_read": 0.0, "cache_write": 0.0}
    assert F.price_per_token(sc, mix) == pytest.approx(9.0 / 1e6)
    table = F.capacity(paths, sc, mix).set_index("quantile")
    assert table.loc["p50", "gpus"] == 2
    assert table.loc["p90", "peak_tokens_per_day"] == pytest.approx(52.8e6)  # a tenth of the way to 96 M
    assert table.loc["p90", "gpus"] == 3  # 2.2 GPUs, rounded up
    assert table.loc["p50", "gpu_usd_per_year"] == pytest.approx(2 * 8760 * 2.0)
    assert table.loc["p95", "peak_tokens_per_day"] == pytest.approx(48e6 + 0.55 * 48e6)
    assert table.loc["p95", "gpus"] == 4  # 74.4 M / 24 M per GPU-day, rounded up
    assert table.loc["p50", "token_usd_per_year"] == pytest.approx(48e6 * 365 * 9.0 / 1e6)
    assert table["chosen"].tolist() == [False, False, True]


def test_scenario_values_are_checked():
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.Scenario(inflation_kept=1.2).validate()
    with pytest.raises(ValueError, match="quantile"):
        F.Scenario(quantile="p99").validate()
    with pytest.raises(ValueError, match="price"):
        F.Scenario(usd_per_mtok_output=-1.0).validate()
    sc = F.Scenario(inflation_kept=0.3, change_date=date(2027, 2, 1), quantile="p95")
    assert F.Scenario.from_dict(sc.as_dict()) == sc


# -- the scenario store ---------------------------------------------------------------------------------


def test_scenarios_round_trip_and_a_taken_name_needs_confirmation(tmp_path):
    store = tmp_path / "s.scenarios.duckdb"
    sc = F.Scenario(inflation_kept=0.25, change_date=date(2027, 3, 1), fade_days=28, rollout_date=None)
    assert (
        scenarios.save(store, "  Incentives off (Q1)  ", sc, scope="company", horizon_days=90) == "Incentives off (Q1)"
    )
    saved = scenarios.load_all(store)
    assert saved["name"].tolist() == ["Incentives off (Q1)"]
    assert saved["scenario"].iloc[0] == sc
    with pytest.raises(scenarios.ScenarioExists):
        scenarios.save(store, "Incentives off (Q1)", F.Scenario(), scope="company", horizon_days=90)
    assert scenarios.load_all(store)["scenario"].iloc[0] == sc  # nothing overwritten
    scenarios.save(store, "Incentives off (Q1)", F.Scenario(), scope="company", horizon_days=90, replace=True)
    assert scenarios.load_all(store)["scenario"].iloc[0] == F.Scenario()
    assert scenarios.delete(store, "Incentives off (Q1)")
    assert scenarios.load_all(store).empty


@pytest.mark.parametrize("name", ["", "   ", "x" * 61, "<script>alert(1)</script>", "-leading dash", "a;b", "é\u202e"])
def test_bad_scenario_names_are_refused(tmp_path, name):
    store = tmp_path / "s.duckdb"
    with pytest.raises(ValueError):
        scenarios.save(store, name, F.Scenario(), scope="company", horizon_days=90)
    assert not store.exists() or scenarios.load_all(store).empty


def test_a_locked_or_corrupt_store_is_a_clean_error(tmp_path):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database" * 200)
    with pytest.raises(scenarios.ScenarioStoreError, match="cannot open"):
        scenarios.load_all(junk)
    store = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(store)!r}); print('ok', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        started = time.monotonic()
        with pytest.raises(scenarios.ScenarioStoreError, match="cannot open"):
            scenarios.save(store, "Plan A", F.Scenario(), scope="company", horizon_days=90)
        assert time.monotonic() - started < 10
        started = time.monotonic()
        with pytest.raises(scenarios.ScenarioStoreError, match="cannot open"):
            scenarios.load_all(store)  # read on every slider move: one attempt, no retries
        assert time.monotonic() - started < 0.5
    finally:
        holder.kill()
        holder.wait()


def test_scope_rows_and_mix_use_the_last_days_of_the_scope():
    days = pd.date_range("2026-03-02", periods=40, freq="D")
    rows = pd.DataFrame(
        {
            "day": days,
            "tool": "a",
            "org_id": "o1",
            "input_tokens": 30,
            "output_tokens": 10,
            "cache_read_tokens": 60,
            "cache_write_tokens": 0,
        }
    )
    recent = F.scope_rows(rows, tool="a", days=28)
    assert len(recent) == 28 and pd.Timestamp(recent["day"].min()) == days[-1] - timedelta(days=27)
    assert F.token_mix(recent) == pytest.approx({"input": 0.3, "output": 0.1, "cache_read": 0.6, "cache_write": 0})


def test_capacity_is_the_quantile_of_each_futures_busiest_day():
    # ten futures at 48 M tokens a day, each with one 96 M day, each on a different day: every future's
    # busiest day is 96 M, though on any one day only one future in ten reaches it
    paths = np.full((10, 30), 48e6)
    for i in range(10):
        paths[i, i] = 96e6
    sc = F.Scenario(tokens_per_gpu_hour=1e6, quantile="p90")
    table = F.capacity(paths, sc, {"input": 1.0}).set_index("quantile")
    assert table["peak_tokens_per_day"].tolist() == pytest.approx([96e6] * 3)
    assert table.loc["p50", "gpus"] == 4  # 96 M / 24 M per GPU-day
    assert table.loc["p50", "tokens_per_day"] == pytest.approx(48e6 + 48e6 / 30)


def _rows(days, tokens, tool="a", org="o1"):
    return [
        {"day": d, "tool": tool, "org_id": org, "genuine_tokens": t, "suspected_tokens": 0, "automation_tokens": 0}
        for d, t in zip(days, tokens, strict=True)
    ]


def test_a_quiet_weekend_at_the_edges_is_kept_and_a_partial_day_is_not():
    # Monday 2 March to Sunday 12 April 2026: weekdays 1000 tokens, weekends 100 (a tenth: quiet, not partial)
    days = pd.date_range("2026-03-02", "2026-04-12", freq="D")
    tokens = [100 if d.day_of_week >= 5 else 1000 for d in days]
    series = F.daily_series(pd.DataFrame(_rows(days, tokens)))
    assert series.index[-1] == pd.Timestamp("2026-04-12")  # the last Sunday stays
    assert len(series) == len(days)
    # started on a Sunday: kept too
    later = F.daily_series(pd.DataFrame(_rows(days[6:], tokens[6:])))
    assert later.index[0] == pd.Timestamp("2026-03-08")
    # a last Sunday with 15 tokens (under a fifth of the 100 of earlier Sundays) is a partial day
    partial = F.daily_series(pd.DataFrame(_rows(days, [*tokens[:-1], 15])))
    assert partial.index[-1] == pd.Timestamp("2026-04-11")


def test_a_weekday_only_sporadic_or_tiny_tool_does_not_make_company_days_missing():
    days = pd.date_range("2026-03-02", periods=42, freq="D")  # six full weeks from a Monday
    rows = _rows(days, [1000] * 42, tool="a")
    rows += _rows([d for d in days if d.day_of_week < 5], [500] * 30, tool="weekdays")  # 5 of 7 days: not daily
    rows += _rows(days[::3], [300] * 14, tool="every-third-day")
    tiny = [d for i, d in enumerate(days) if i not in (10, 11, 12)]  # daily, 3 days missing, but 1 % of tokens
    rows += _rows(tiny, [20] * len(tiny), tool="tiny")
    series = F.daily_series(pd.DataFrame(rows))
    assert len(series) == 42 and series["total"].notna().all()
    assert series["total"].iloc[0] == 1000 + 500 + 300 + 20  # a Monday with every tool
    assert series["total"].iloc[5] == 1000 + 20  # a Saturday: no weekday tool, none of the third-day one
    assert series["total"].iloc[10] == 1000 + 500  # Thursday 12 March: the tiny tool's silence is zero


def test_a_bad_row_in_the_store_is_skipped_not_a_crash(tmp_path):
    import duckdb

    store = tmp_path / "s.scenarios.duckdb"
    scenarios.save(store, "Good", F.Scenario(), scope="company", horizon_days=90)
    con = duckdb.connect(str(store))
    for name, params in (
        ("List", "[]"),
        ("Number date", '{"change_date": 5}'),
        ("Text price", '{"usd_per_mtok_input": "3"}'),
        ("Not JSON", "{"),
    ):
        con.execute("INSERT INTO scenario VALUES (?, 'company', 90, ?, now())", [name, params])
    con.close()
    assert scenarios.load_all(store)["name"].tolist() == ["Good"]
    with pytest.raises(TypeError, match="change date must be a date"):
        F.Scenario.from_dict({"change_date": 5})


def test_a_quantile_among_futures_that_hit_the_cap_is_not_bounded_by_the_model():
    # ten futures whose busiest days are 1 M ... 10 M; the two busiest hit the cap somewhere
    paths = np.tile(np.arange(1, 11, dtype=float)[:, None] * 1e6, (1, 5))
    capped = np.zeros(10, dtype=bool)
    capped[[8, 9]] = True
    table = F.capacity(paths, F.Scenario(), {"input": 1.0}, capped=capped).set_index("quantile")
    # p50 sits between the 5th and 6th futures (uncapped); p90 and p95 between the 9th and 10th (capped)
    assert table["bounded"].tolist() == [True, False, False]
    assert table.loc["p50", "peak_tokens_per_day"] == pytest.approx(5.5e6)
    assert F.capacity(paths, F.Scenario(), {"input": 1.0})["bounded"].all()


def test_capped_paths_count_only_components_the_scenario_keeps_and_exp_never_overflows():
    fits = {
        "genuine": F.ComponentFit("x", np.full(20, 5.0), np.full(20, 0.01), np.full(30, np.nan), cap=1e9),
        "suspected": F.ComponentFit("x", np.full(20, 800.0), np.full(20, 50.0), np.full(30, np.nan), cap=1000.0),
        "automation": F.ComponentFit("zero", np.zeros(20), np.zeros(20), np.full(30, np.nan)),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # expm1(800) would overflow
        paths = F.simulate(fits, n_paths=50, seed=1)
    assert paths["suspected"] == pytest.approx(np.full((50, 20), 1000.0))  # every day on the cap
    idx = pd.date_range("2027-01-01", periods=20, freq="D")
    fc = F.Forecast(pd.DataFrame(), idx, paths, {}, {}, None, caps={c: f.cap for c, f in fits.items()})
    assert not F.capped_paths(fc, F.Scenario(inflation_kept=0.0)).any()  # inflation removed from day one
    assert F.capped_paths(fc, F.Scenario(inflation_kept=0.5)).all()
    late = F.Scenario(inflation_kept=0.0, change_date=date(2027, 1, 5))  # kept in full for four days
    assert F.capped_paths(fc, late).all()


def test_the_baseline_is_scored_exactly_and_the_choice_also_on_held_out_origins():
    frame = history()
    bt = F.backtest(frame, folds=4, n_paths=200)
    errors = []
    for when in bt.origins:
        o = frame.index.get_loc(pd.Timestamp(when))
        truth = frame["total"].to_numpy()[o : o + bt.horizon]
        point = np.tile(frame["total"].to_numpy()[o - 7 : o], 4)  # last week, four times over
        errors.extend(np.abs(point - truth))
    assert bt.mase("seasonal_naive", "observed") == pytest.approx(np.mean(errors) / bt.scale["observed"])
    held = bt.table[bt.table["model"] == "held_out"]
    assert held["folds"].tolist() == [2, 2] and held["days"].tolist() == [56, 56]  # the later two origins
    note = F.describe_choice(bt)
    assert "in-sample choice" in note or note.startswith("No model beat")


def test_a_tool_that_stopped_reporting_is_not_forecast_from_the_past():
    days = pd.date_range("2026-03-02", periods=60, freq="D")
    rows = pd.DataFrame(_rows(days, [1000] * 60, tool="a") + _rows(days[:30], [500] * 30, tool="old"))
    assert F.current_tools(rows) == ["a"]
    with pytest.raises(F.StoppedReporting, match="the tool old stopped reporting on 2026-03-31"):
        F.daily_series(rows, tool="old")
    assert F.daily_series(rows).index[-1] == days[-1]  # the company goes on


def test_interval_widths_are_calibrated_on_the_backtest_and_used_by_the_forecast():
    frame = history()
    fc = F.forecast(frame, horizon=28, n_paths=200, folds=4)
    bt = fc.backtest
    assert bt.width in F.WIDTHS
    cover = [bt.coverage("chosen", s) for s in F.SERIES]
    assert min(cover) >= 0.95 or bt.width == F.WIDTHS[-1]
    raw = F.backtest(frame, folds=4, n_paths=200, calibrate_width=False)
    assert raw.width == 1.0 and raw.choice == bt.choice
    if bt.width != 1.0:
        assert f"{bt.width:g}× the models' own" in bt.note
    # the forecast's paths are the chosen models' with every standard deviation scaled by the width
    fits = {c: F.fit_component(frame[c], bt.choice[c], horizon=28) for c in F.COMPONENTS}
    scaled = {c: replace(f, sd=f.sd * bt.width) for c, f in fits.items()}
    want = F.simulate(scaled, n_paths=200)
    assert all(np.allclose(fc.paths[c], want[c]) for c in F.COMPONENTS)


# -- what a scenario change reuses from the fit ---------------------------------------------------------


def _frames_equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same columns, days and values, bit for bit."""
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_the_fans_kept_from_the_fit_are_the_paths_summarised_at_every_horizon():
    fc = F.forecast(history(), horizon=60, folds=2)
    assert set(fc.quantiles) == {"observed", "adjusted"}
    for horizon in (60, 28, 1):
        shown = fc.truncate(horizon)
        assert shown.quantiles["observed"].shape == (5, horizon)
        _frames_equal(shown.fan("observed"), F.summarise(shown.observed(), shown.days))
        _frames_equal(shown.fan("adjusted"), F.summarise(shown.adjusted(), shown.days))
    # a forecast without kept quantiles (built by hand) takes them when asked
    bare = replace(fc, quantiles={}).truncate(28)
    _frames_equal(bare.fan("adjusted"), F.summarise(bare.adjusted(), bare.days))


@pytest.mark.parametrize(
    "scenario",
    [
        F.Scenario(),  # all inflation stops on the first day: the adjusted fan
        F.Scenario(inflation_kept=1.0),  # all of it continues: the observed fan
        F.Scenario(inflation_kept=0.0, change_date=date(2030, 1, 1)),  # the change falls after the horizon
        F.Scenario(inflation_kept=0.4, fade_days=14),
        F.Scenario(growth_pct_per_year=10.0),  # none kept, but growth: its own paths
        F.Scenario(rollout_date=date(2026, 6, 1), rollout_headcount=5),
    ],
)
def test_the_page_fans_equal_summarising_each_scenarios_paths(scenario):
    fc = F.forecast(history(), horizon=60, folds=2).truncate(45)
    paths = F.apply_scenario(fc, scenario, headcount=20)
    fans = F.fans(fc, scenario, paths, headcount=20)
    assert list(fans) == ["observed", "adjusted", "scenario"]
    _frames_equal(fans["observed"], F.summarise(fc.observed(), fc.days))
    _frames_equal(fans["adjusted"], F.summarise(fc.adjusted(), fc.days))
    _frames_equal(fans["scenario"], F.summarise(paths, fc.days))


def test_a_comparison_reuses_a_scenario_already_worked_out_and_answers_the_same():
    fc = F.forecast(history(), horizon=60, folds=2).truncate(30)
    mix = {"input": 0.5, "output": 0.2, "cache_read": 0.2, "cache_write": 0.1}
    current = F.Scenario(inflation_kept=0.3, quantile="p95")
    named = {"current": current, "saved": F.Scenario(inflation_kept=0.5, quantile="p50")}
    paths = F.apply_scenario(fc, current, headcount=20)
    table = F.capacity(paths, current, mix, capped=F.capped_paths(fc, current))
    want = F.compare(fc, named, mix, headcount=20)
    got = F.compare(fc, named, mix, headcount=20, computed={"current": (paths, table)})
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    # what is passed is what is used: a different table changes the row
    other = table.assign(gpus=table["gpus"] + 1)
    got = F.compare(fc, named, mix, headcount=20, computed={"current": (paths, other)})
    assert (got["gpus"] - want["gpus"]).tolist() == [1, 0]
