"""Forecast accuracy on demo data: `python -m analytics.eval_forecast [--db PATH] [--folds N] [--scopes]`.

Without --db it builds the default demo (2,000 people, 180 days, seed 0, ending 2026-11-24) in a temporary
folder. Runs the same rolling-origin backtest the Demand & scenarios page shows (expanding window, 28-day
horizon, weekly origins) for the company and, with --scopes, each tool; prints per model and series (observed,
and adjusted: suspected inflation removed) the MASE against the in-sample seasonal-naive error and the share
of actual days inside the 95 % interval, and which model the page would use: its row is the best of 9 pairings
on the same folds (an in-sample choice, optimistic); the held-out row makes the choice on the earlier half of
the origins and scores it on the later half.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

from analytics import forecast as F
from analytics.queries import Warehouse
from analytics.warehouse import connect_read_only


def evaluate(rows: pd.DataFrame, *, folds: int, tool: str | None = None) -> F.Backtest:
    return F.backtest(F.daily_series(rows, tool=tool), folds=folds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.eval_forecast", description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="an existing database (default: build the demo)")
    parser.add_argument("--folds", type=int, default=F.BACKTEST_FOLDS, help="weekly origins (default as the page)")
    parser.add_argument("--scopes", action="store_true", help="also each tool on its own")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="goodhart-eval-forecast-") as tmp:
        db = args.db
        if db is None:
            from analytics.cli import build_demo

            db = Path(tmp) / "demo.duckdb"
            build_demo(db, users=2000, days=180, seed=0, end=date(2026, 11, 24))
        con = connect_read_only(db)
        try:
            rows = Warehouse(con).demand_days()
        finally:
            con.close()
    scopes = [("company", None)] + ([(f"tool {t}", t) for t in sorted(rows["tool"].unique())] if args.scopes else [])
    print("| scope | model | MASE observed | MASE adjusted | 95 % coverage observed | 95 % coverage adjusted |")
    print("|---|---|---|---|---|---|")
    for label, tool in scopes:
        started = time.perf_counter()
        try:
            bt = evaluate(rows, folds=args.folds, tool=tool)
        except F.StoppedReporting as exc:
            print(f"| {label} | {exc} | | | | |")
            continue
        table = bt.table
        if table.empty:
            print(f"| {label} | too little history for a backtest | | | | |")
            continue
        wide = table.pivot(index="model", columns="series", values=["mase", "coverage"])
        for model in (*F.MODELS, "chosen", "held_out"):
            if model not in wide.index:
                continue
            name = {
                "chosen": f"used: {F.model_label(bt.choice)} (best of 9 on these folds: in-sample choice)",
                "held_out": "choice rule held out (chosen on the earlier origins, scored on the later)",
            }.get(model, model)
            print(
                f"| {label} | {name} | {wide.loc[model, ('mase', 'observed')]:.2f} | "
                f"{wide.loc[model, ('mase', 'adjusted')]:.2f} | {wide.loc[model, ('coverage', 'observed')]:.0%} | "
                f"{wide.loc[model, ('coverage', 'adjusted')]:.0%} |"
            )
        print(
            f"<!-- {label}: origins {bt.origins[0]} .. {bt.origins[-1]} ({len(bt.origins)}), "
            f"horizon {bt.horizon} days, interval width {bt.width:g}x the models' own, "
            f"{int(table['days'].iloc[0])} days scored, {time.perf_counter() - started:.1f} s -->"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
