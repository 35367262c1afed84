"""`python -m analytics forecast` as CONTRACT.md states it: JSON `days`, the --out columns, exit codes."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest

from analytics.cli import build_demo
from tests.test_cli import assert_one_line_error, cli

CONTRACT_COLUMNS = [
    "day",
    "observed_mean",
    "observed_lower",
    "observed_upper",
    "adjusted_mean",
    "adjusted_lower",
    "adjusted_upper",
]


def read(path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_forecast_json_and_csv_follow_the_contract(demo_db, tmp_path):
    out = tmp_path / "fc.csv"
    result = cli("forecast", "--db", str(demo_db), "--horizon", "21", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["days"] == 21
    assert set(body["models"]) == {"genuine", "suspected", "automation"}
    assert set(body["models"].values()) <= {"seasonal_naive", "ets", "uc"}
    assert body["models"]["genuine"] in body["model"]
    assert {r["model"] for r in body["backtest"]} == {"seasonal_naive", "ets", "uc", "chosen", "held_out"}
    chosen = {r["series"]: r["mase"] for r in body["backtest"] if r["model"] == "chosen"}
    assert chosen == pytest.approx(body["mase"], abs=1e-4)
    held = {r["series"]: r["mase"] for r in body["backtest"] if r["model"] == "held_out"}
    assert held == pytest.approx(body["mase_held_out"], abs=1e-4)
    rows = read(out)
    assert len(rows) == 21
    assert list(rows[0])[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    days = [date.fromisoformat(r["day"]) for r in rows]
    assert days[0].isoformat() == body["first_day"] and (days[-1] - days[0]).days == 20
    for r in rows:
        v = {k: float(r[k]) for k in CONTRACT_COLUMNS[1:]}
        assert v["observed_lower"] <= v["observed_mean"] <= v["observed_upper"]
        assert v["adjusted_lower"] <= v["adjusted_mean"] <= v["adjusted_upper"]
        assert v["adjusted_mean"] <= v["observed_mean"]
    assert sum(float(r["observed_mean"]) for r in rows) > sum(float(r["adjusted_mean"]) for r in rows)


def test_keeping_all_inflation_makes_adjusted_equal_observed(demo_db, tmp_path):
    out = tmp_path / "kept.csv"
    result = cli("forecast", "--db", str(demo_db), "--horizon", "14", "--inflation-kept", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "model:" in result.stdout and "MASE" in result.stdout  # the human summary
    for r in read(out):
        assert r["adjusted_mean"] == r["observed_mean"] and r["adjusted_upper"] == r["observed_upper"]


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--inflation-kept", "1.5"], "between 0 and 1"),
        (["--inflation-kept", "-0.1"], "between 0 and 1"),
        (["--inflation-kept", "lots"], "not a number"),
        (["--horizon", "0"], "must be positive"),
        (["--horizon", "1000"], "at most 730"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(demo_db, args, text):
    assert_one_line_error(cli("forecast", "--db", str(demo_db), *args), 2, text)


def test_no_database_or_too_little_history_exit_1(tmp_path):
    assert_one_line_error(cli("forecast", "--db", str(tmp_path / "none.duckdb")), 1, "no database")
    short = tmp_path / "short.duckdb"
    build_demo(short, users=20, days=14, seed=1, end=date(2026, 11, 20))
    assert_one_line_error(cli("forecast", "--db", str(short), "--json"), 1, "at least 28 days")


def test_without_a_backtest_json_is_valid_and_text_says_so(tmp_path):
    short = tmp_path / "short.duckdb"
    build_demo(short, users=20, days=40, seed=1, end=date(2026, 11, 20))  # enough to fit, too little to backtest
    result = cli("forecast", "--db", str(short), "--json", "--horizon", "28")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert out["mase"] == {"observed": None, "adjusted": None}
    assert out["coverage"] == {"observed": None, "adjusted": None}
    text = cli("forecast", "--db", str(short), "--horizon", "28")
    assert text.returncode == 0 and "no backtest" in text.stdout
