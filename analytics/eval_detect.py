"""Detection accuracy on demo organisations the thresholds were not tuned on.

    python -m analytics.eval_detect [--runs SEED:USERS:DAYS ...]

Builds each demo through the real importer (in a temporary folder), runs `detect` over its whole
range, and prints one table per persona and tokenmaxxer style, pooled over the runs, with precision
and recall for tokenmaxxers and the flag rate of everyone else. The thresholds were set on the default
demo (seed 0, 2,000 people, 180 days); the default runs here use other seeds and sizes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from analytics import detect
from analytics.cli import build_demo
from analytics.thresholds import Thresholds

DEFAULT_RUNS = ("11:800:120", "12:2000:180", "13:3000:150")
END = date(2026, 11, 20)
BURSTY_CV = 1.5
TARGETS = {
    "tokenmaxxer precision": ">= 0.90",
    "tokenmaxxer recall": ">= 0.85",
    "each style's recall": ">= 0.70",
    "heavy_agentic flagged": "<= 2%",
    "everyone else flagged": "<= 1%",
    "compliance_clicker flagged": "0 (not token inflation)",
}


def run_one(seed: int, users: int, days: int, folder: Path) -> pd.DataFrame:
    path = folder / f"eval-{seed}-{users}-{days}.duckdb"
    build_demo(path, users=users, days=days, seed=seed, end=END)
    con = duckdb.connect(str(path), read_only=True)
    try:
        since, until = detect.window(con, None, None)
        started = time.perf_counter()
        found = detect.detect(con, since, until, Thresholds())
        seconds = time.perf_counter() - started
        # Shorter and oddly cut windows, as people pick them: judged on who is flagged who should not be.
        windows = {
            "last 4 weeks": detect.detect(con, until - timedelta(days=27), until, Thresholds()).people,
            "mid-week start": detect.detect(
                con, since + timedelta(days=(3 - since.weekday()) % 7 or 7), until, Thresholds()
            ).people,
        }
        truth = con.execute("SELECT user_id, persona, COALESCE(style, '') AS style FROM eval_personas").df()
        events = con.execute("SELECT count(*) FROM usage_events").fetchone()[0]
    finally:
        con.close()
    path.unlink(missing_ok=True)
    burstiness = found.weeks.groupby("user_id")["gap_cv"].median().rename("gap_cv").reset_index()
    scored = truth.merge(found.people[["user_id", "flagged"]], on="user_id", how="left")
    scored = scored.merge(burstiness, on="user_id", how="left")
    scored["flagged"] = scored["flagged"].fillna(False).astype(bool)
    scored["run"] = f"seed {seed}, {users} people, {days} days"
    for name, people in windows.items():
        flags = dict(zip(people["user_id"], people["flagged"], strict=True))
        scored[f"flagged in {name}"] = scored["user_id"].map(flags).fillna(False).astype(bool)
    print(f"  {scored['run'].iat[0]}: {events:,} events, detect {seconds:.1f} s", flush=True)
    return scored


def report(scored: pd.DataFrame) -> str:
    scored = scored.assign(group=scored["persona"] + scored["style"].map(lambda s: f" / {s}" if s else ""))
    table = scored.groupby("group").agg(people=("user_id", "size"), flagged=("flagged", "sum"))
    table["rate"] = table["flagged"] / table["people"]
    is_tm = scored["persona"] == "tokenmaxxer"
    tp = int((scored["flagged"] & is_tm).sum())
    fp = int((scored["flagged"] & ~is_tm).sum())
    fn = int((~scored["flagged"] & is_tm).sum())
    others = ~is_tm & (scored["persona"] != "heavy_agentic")
    lines = ["| group | people | flagged | rate |", "|---|---:|---:|---:|"]
    lines += [f"| {g} | {int(r.people):,} | {int(r.flagged):,} | {r.rate:.1%} |" for g, r in table.iterrows()]
    lines += [
        "",
        f"tokenmaxxer precision {tp / max(tp + fp, 1):.3f}, recall {tp / max(tp + fn, 1):.3f} "
        f"({tp} caught, {fn} missed, {fp} others flagged)",
        f"heavy_agentic flagged {scored.loc[scored['persona'] == 'heavy_agentic', 'flagged'].mean():.1%}; "
        f"everyone else (not tokenmaxxer, not heavy agentic) flagged {scored.loc[others, 'flagged'].mean():.2%}",
        _bursty_line(scored, is_tm),
        *_window_lines(scored, is_tm),
        "targets: " + "; ".join(f"{k} {v}" for k, v in TARGETS.items()),
    ]
    return "\n".join(lines)


def _window_lines(scored: pd.DataFrame, is_tm: pd.Series) -> list[str]:
    out = []
    for column in [c for c in scored.columns if c.startswith("flagged in ")]:
        heavy = scored["persona"] == "heavy_agentic"
        others = ~is_tm & ~heavy
        rate = {
            name: scored.loc[rows, column].mean() for name, rows in (("tm", is_tm), ("heavy", heavy), ("rest", others))
        }
        out.append(
            f"{column.removeprefix('flagged in ')} window: tokenmaxxers flagged {rate['tm']:.1%}, "
            f"heavy agentic {rate['heavy']:.1%}, everyone else {rate['rest']:.2%}"
        )
    return out


def _bursty_line(scored: pd.DataFrame, is_tm: pd.Series) -> str:
    """Burstiness alone must flag nobody: the flag rate among the burstiest people who are not padding."""
    bursty = ~is_tm & (scored["gap_cv"] >= BURSTY_CV)
    return (
        f"bursty humans (median inter-arrival CV >= {BURSTY_CV}, Poisson = 1; not tokenmaxxers): "
        f"{int(bursty.sum())} people, {int(scored.loc[bursty, 'flagged'].sum())} flagged"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.eval_detect", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=list(DEFAULT_RUNS), help="SEED:USERS:DAYS per demo")
    args = parser.parse_args(argv)
    frames = []
    with tempfile.TemporaryDirectory(prefix="goodhart-eval-") as tmp:
        for spec in args.runs:
            seed, users, days = (int(x) for x in spec.split(":"))
            frames.append(run_one(seed, users, days, Path(tmp)))
    print(report(pd.concat(frames, ignore_index=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
