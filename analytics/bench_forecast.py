"""Forecast speed: `python -m analytics.bench_forecast [--db PATH] [--repeat R] [--interactions N]`.

Without --db it builds the default demo (2,000 people, 180 days, seed 0) in a temporary folder first. Then it
times, R times each, what the Demand & scenarios page does once per scope (build the series, backtest the
models, fit and simulate a year of paths) and, N times, what one slider move costs in the page's fragment
(apply a scenario to the cached paths, summarise three fans, the capacity and comparison tables, and the
figure built and serialised). Prints each median; the target per interaction is 300 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta
from pathlib import Path

from analytics import charts
from analytics import forecast as F
from analytics.queries import Warehouse
from analytics.warehouse import connect_read_only

PAGE_HORIZON = 365  # as pages/_shared/data.py fits
SHOWN_HORIZON = 90  # the page's default horizon


def interaction(fc: F.Forecast, scenario: F.Scenario, mix: dict, headcount: int) -> None:
    """One fragment rerun, minus Streamlit's own rendering."""
    shown = fc.truncate(SHOWN_HORIZON)
    paths = F.apply_scenario(shown, scenario, headcount=headcount)
    fans = F.fans(shown, scenario, paths, headcount=headcount)
    table = F.capacity(paths, scenario, mix, capped=F.capped_paths(shown, scenario))
    named = {"current": scenario, "saved": F.Scenario(inflation_kept=0.5)}
    F.compare(shown, named, mix, headcount=headcount, computed={"current": (paths, table)})
    recent = fc.history.iloc[-SHOWN_HORIZON:]
    history = {"day": recent.index, "observed": recent["total"], "adjusted": recent["genuine"] + recent["automation"]}
    import pandas as pd

    charts.demand_fan(pd.DataFrame(history), fans, title="Tokens per day").to_json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.bench_forecast", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", type=Path, default=None, help="an existing database (default: build the demo; built there when missing)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="full fits to time (default 3)")
    parser.add_argument("--interactions", type=int, default=30, help="scenario changes to time (default 30)")
    args = parser.parse_args(argv)
    from analytics.bench import organisation

    # the default demo (seed 0), or --db as it is: read-only here, so never upgraded
    with organisation(args.db, users=2000, days=180, seed=0, end=date(2026, 11, 24), upgrade=False) as db:
        con = connect_read_only(db)
        try:
            wh = Warehouse(con)
            rows, prices = wh.demand_days(), wh.demand_prices(None, None)
        finally:
            con.close()
    series_s, backtest_s, fit_s = [], [], []
    fc = None
    for _ in range(args.repeat):
        started = time.perf_counter()
        history = F.daily_series(rows)
        series_s.append(time.perf_counter() - started)
        fc = F.forecast(history, horizon=PAGE_HORIZON)
        backtest_s.append(fc.backtest_seconds)
        fit_s.append(fc.fit_seconds)
    mix = F.token_mix(F.scope_rows(rows))
    headcount = int(prices.get("active_users") or 0)
    start = fc.days[0].date()
    timings = []
    for i in range(args.interactions):
        scenario = F.Scenario(
            inflation_kept=(i % 11) / 10,
            change_date=start + timedelta(days=i % 30),
            fade_days=7 * (i % 5),
            growth_pct_per_year=float(5 * (i % 7)),
            rollout_date=start + timedelta(days=20),
            rollout_headcount=50 * (i % 3),
            quantile=("p50", "p90", "p95")[i % 3],
        )
        started = time.perf_counter()
        interaction(fc, scenario, mix, headcount)
        timings.append(time.perf_counter() - started)
    print(
        f"history {len(fc.history)} days, model {fc.model}, {F.N_PATHS} paths x {PAGE_HORIZON} days\n"
        f"median: series {statistics.median(series_s) * 1000:.0f} ms, backtest {statistics.median(backtest_s):.2f} s "
        f"({len(fc.backtest.origins)} origins x {len(F.MODELS)} models x {len(F.COMPONENTS)} components fitted, "
        f"{len(F.MODELS) ** 2} pairings simulated), "
        f"fit + simulate {statistics.median(fit_s):.2f} s, "
        f"per interaction {statistics.median(timings) * 1000:.0f} ms (p95 "
        f"{sorted(timings)[int(0.95 * (len(timings) - 1))] * 1000:.0f} ms; target <= 300 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
