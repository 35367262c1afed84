"""The `python -m analytics` command line: demo, ingest, detect, leaderboard, forecast, status, adoption, refresh,
prices, publish, bench.

Every command that writes publishes a snapshot of the database afterwards (analytics/snapshots.py): the app
serves the snapshot, so it keeps serving while a writer holds the database."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from analytics import detect, formats, lake, leaderboard, marts, snapshots, thresholds
from analytics import ingest as importer
from analytics.access import k_configured
from analytics.canonical import TABLES
from analytics.queries import Warehouse
from analytics.warehouse import (
    WarehouseError,
    connect,
    connect_read_only,
    default_db_path,
    get_meta,
    load_prices,
    set_meta,
)


class UsageError(Exception):
    """Bad arguments: exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line, not a usage dump
        raise UsageError(f"{self.prog}: {message}")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return value


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--db", type=Path, default=None, help="database file (default: $GOODHART_DB, else data/usage.duckdb)"
    )
    common.add_argument("--json", action="store_true", help="print exactly one JSON object instead of text")
    parser = _Parser(prog="python -m analytics", description="Goodhart: real AI adoption vs inflated consumption.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("demo", parents=[common], help="build a realistic demo organisation through the importer")
    p.add_argument("--users", type=_positive, default=2000, help="people in the organisation (default 2000)")
    p.add_argument("--days", type=_positive, default=180, help="days of history (default 180)")
    p.add_argument("--seed", type=int, default=0, help="random seed; same seed, same data (default 0)")
    p.add_argument("--end", type=_day, default=None, help="last day of data, YYYY-MM-DD (default: yesterday, UTC)")
    p.add_argument("--replace", action="store_true", help="overwrite the database if it already exists")
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("ingest", parents=[common], help="load canonical CSV, Parquet or JSON Lines files or folders")
    p.add_argument("paths", nargs="+", type=Path, help="files or folders to load")
    p.add_argument(
        "--format",
        default="auto",
        help="auto (canonical files by name, telemetry exports by content), canonical-<table> ("
        + ", ".join(f"canonical-{t}" for t in TABLES)
        + "), or a telemetry format name; `python -m analytics formats` lists them",
    )
    p.set_defaults(run=cmd_ingest)

    p = sub.add_parser("detect", parents=[common], help="score every person for suspected inflation over a window")
    p.add_argument("--since", type=_day, default=None, help="first day, YYYY-MM-DD (default: the first day of data)")
    p.add_argument("--until", type=_day, default=None, help="last day, YYYY-MM-DD (default: the last day of data)")
    p.add_argument("--out", type=Path, default=None, help="write one CSV row per person scored")
    p.add_argument("--config", type=Path, default=None, help="detection thresholds TOML (default: $GOODHART_DETECTION)")
    p.set_defaults(run=cmd_detect)

    p = sub.add_parser("leaderboard", parents=[common], help="raw and quality-adjusted token rankings over whole weeks")
    p.add_argument("--level", choices=["person", "team"], default="person", help="rank people or teams")
    p.add_argument("--top", type=_positive, default=10, help="rows in the raw or the adjusted top N (default 10)")
    p.add_argument("--since", type=_day, default=None, help="first day, YYYY-MM-DD (default: the first day of data)")
    p.add_argument("--until", type=_day, default=None, help="last day, YYYY-MM-DD (default: the last day of data)")
    p.add_argument("--tool", default=None, help="count only this tool's tokens")
    p.add_argument("--team", default=None, help="only people in this team (team_id) and the teams below it")
    p.add_argument("--out", type=Path, default=None, help="write the rows as CSV")
    p.set_defaults(run=cmd_leaderboard)
    p = sub.add_parser(
        "forecast",
        parents=[common],
        help="daily token demand forecast, observed and with suspected inflation removed",
        description="Forecast the company's daily tokens with 95 %% intervals: observed, and adjusted "
        "(suspected inflation removed); the model is chosen by a rolling-origin backtest against seasonal naive.",
    )
    p.add_argument("--horizon", type=_positive, default=90, help="days to forecast (default 90, at most 730)")
    p.add_argument(
        "--inflation-kept",
        type=_share,
        default=0.0,
        help="share of suspected inflated use that continues in the adjusted forecast, 0 to 1 "
        "(default 0: it all stops; 1: adjusted equals observed)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write one CSV row per future day: day, observed_mean, observed_lower, observed_upper, "
        "adjusted_mean, adjusted_lower, adjusted_upper (tokens per day, 95 %% interval)",
    )
    p.set_defaults(run=cmd_forecast)

    p = sub.add_parser("status", parents=[common], help="what the database holds")
    p.set_defaults(run=cmd_status)

    p = sub.add_parser("adoption", parents=[common], help="leadership's headline for one week")
    p.add_argument(
        "--week",
        type=_day,
        default=None,
        help="a date in the Monday-started week to report (default: the last complete week)",
    )
    p.set_defaults(run=cmd_adoption)

    p = sub.add_parser(
        "refresh",
        parents=[common],
        help="bring the marts and signals up to the loaded tables (only the weeks new batches touched, where it can)",
    )
    p.add_argument(
        "--engine",
        choices=list(marts.ENGINES),
        default="duckdb",
        help="engine for the steps that read events: duckdb (default, in this process) or spark (Apache Spark, "
        "local mode here or the cluster spark-submit gives; needs --lake and requirements-spark.txt)",
    )
    p.add_argument(
        "--lake",
        default=None,
        metavar="DIR",
        help="read the events from this Parquet lake (day=YYYY-MM-DD/*.parquet, usage_events' columns) instead of "
        "the database's usage_events; always a whole rebuild. A folder, or for --engine spark a URI Spark reads "
        "(s3a://, hdfs://)",
    )
    p.add_argument(
        "--whole", action="store_true", help="rebuild every mart and signal from all loaded rows, not only new weeks"
    )
    p.set_defaults(run=cmd_refresh)

    p = sub.add_parser(
        "export-lake",
        parents=[common],
        help="write the database's usage events to a new Parquet event lake folder, one folder per UTC day",
    )
    p.add_argument("--lake", type=Path, required=True, metavar="DIR", help="the lake folder to create (must be empty)")
    p.set_defaults(run=cmd_export_lake)

    p = sub.add_parser("prices", parents=[common], help="show the price table, or replace it from a CSV file")
    p.add_argument("file", nargs="?", type=Path, help="CSV: model, token_type, usd_per_mtok, effective_from")
    p.set_defaults(run=cmd_prices)

    p = sub.add_parser(
        "identities", parents=[common], help="map telemetry identities (e-mail, login, account id) to people"
    )
    p.add_argument("file", type=Path, help="CSV or JSON Lines with columns identity, user_id[, source]")
    p.set_defaults(run=cmd_identities)

    p = sub.add_parser("formats", parents=[common], help="list the telemetry formats `ingest` recognises")
    p.set_defaults(run=cmd_formats)

    p = sub.add_parser(
        "publish",
        parents=[common],
        help="publish a snapshot of the database for the app to serve (every writing command does this itself)",
    )
    p.set_defaults(run=cmd_publish)

    p = sub.add_parser(
        "bench",
        parents=[common],
        help="measure the pipeline and every page on a synthetic dataset of N events, against a pandas app",
        description="Builds the demo organisation sized to N events as Parquet in a temporary folder, then measures "
        "ingest, mart refresh, a new batch, detection, each page's server-side work (admin and team lead, cold and "
        "warm), peak memory and database size, and a pandas app of the common kind on the same files. --db is not "
        "used: the benchmark never touches your database.",
    )
    p.add_argument("--events", type=_positive, default=10_000_000, help="events to generate (default 10 million)")
    p.add_argument("--repeat", type=_positive, default=20, help="warm runs per page after the cold one (default 20)")
    p.add_argument(
        "--keep", type=Path, default=None, help="build in (and keep) this folder; reuses a dataset of the same size"
    )
    p.set_defaults(run=cmd_bench)
    return parser


# -- commands -----------------------------------------------------------------------------------------------


DEMO_MIN_USERS, DEMO_MIN_DAYS = 20, 7


def cmd_demo(args) -> dict:
    path = args.db
    today = datetime.now(UTC).date()
    end = args.end or (today - timedelta(days=1))
    if args.users < DEMO_MIN_USERS or args.days < DEMO_MIN_DAYS:
        raise UsageError(f"a demo needs at least {DEMO_MIN_USERS} --users and {DEMO_MIN_DAYS} --days")
    if end > today or end < date(2000, 1, 1) + timedelta(days=args.days):
        raise UsageError(f"--end must lie between 2000 and today ({today}): demo usage is never in the future")
    if path.exists() and not args.replace:
        raise WarehouseError(f"{path} already exists; pass --replace to rebuild it, or choose another --db")
    return build_demo(
        path, users=args.users, days=args.days, seed=args.seed, end=end, progress=None if args.json else _print_progress
    )


def build_demo(
    path: Path,
    *,
    users: int = 2000,
    days: int = 180,
    seed: int = 0,
    end: date,
    progress: Callable[[float, str], None] | None = None,
) -> dict:
    """Generate the demo organisation as canonical files, load them through the importer, and publish
    the database at `path` only once it is complete (a crash leaves no half-built file there).

    Returns what the published database holds (people, teams, events, daily_rows, outcomes, rejected)
    and the seconds taken.
    """
    from analytics import demo  # the generator is only needed here

    started = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per build, so two builds racing for the same path never share a file.
    partial = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tempfile.TemporaryDirectory(prefix="goodhart-demo-") as folder:
            files = demo.generate(
                Path(folder),
                users=users,
                days=days,
                seed=seed,
                end=end,
                progress=(lambda f, m: progress(0.5 * f, m)) if progress else None,
            )
            generated = time.perf_counter() - started
            con = connect(partial)
            try:
                result = importer.ingest(
                    con, [files.folder], progress=(lambda f, m: progress(0.5 + 0.5 * f, m)) if progress else None
                )
                if result.failed:
                    raise WarehouseError(f"demo data failed to load: {result.failed[0].message}")
                # Ground truth for evaluating detectors only: nothing that detects or ranks may read it.
                con.register("demo_personas_frame", files.personas)
                con.execute("CREATE OR REPLACE TABLE eval_personas AS SELECT * FROM demo_personas_frame")
                con.unregister("demo_personas_frame")
                set_meta(con, "origin", "demo")
                set_meta(con, "demo_args", json.dumps({"users": users, "days": days, "seed": seed, "end": str(end)}))
                con.execute("CHECKPOINT")
                held = dict(zip(HELD, con.execute(HELD_SQL).fetchone(), strict=True))
            finally:
                con.close()
        # A write-ahead log left by an earlier, killed writer would not match the new file.
        Path(f"{path}.wal").unlink(missing_ok=True)
        os.replace(partial, path)
    finally:
        for leftover in (partial, Path(f"{partial}.wal")):
            leftover.unlink(missing_ok=True)
    snapshots.publish_path(path)
    seconds = round(time.perf_counter() - started, 2)
    return {"db": str(path), **held, "generate_s": round(generated, 2), "seconds": seconds}


HELD = ("people", "teams", "events", "daily_rows", "outcomes", "rejected")
HELD_SQL = (
    "SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM teams), (SELECT count(*) FROM usage_events), "
    "(SELECT count(*) FROM usage_daily), (SELECT count(*) FROM outcomes), (SELECT count(*) FROM rejected_rows)"
)


def cmd_ingest(args) -> dict:
    table = None
    if args.format != "auto":
        telemetry = formats.registry()
        name = args.format.removeprefix("canonical-")
        if not (args.format.startswith("canonical-") and name in TABLES) and args.format not in telemetry:
            raise UsageError(
                f"unknown --format {args.format!r}: use auto, canonical-<table> ({', '.join(TABLES)}) "
                f"or a telemetry format ({', '.join(telemetry)})"
            )
        table = name if args.format.startswith("canonical-") else args.format
    try:
        importer.discover(args.paths, table=table)
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    con = connect(args.db)
    try:
        summary = importer.ingest(con, args.paths, table=table, progress=None if args.json else _print_progress)
        # whatever committed, even when a file failed: each file loads whole or not at all
        snapshots.publish(con, args.db)
    finally:
        con.close()
    out = summary.as_dict()
    if summary.failed:
        out["error"] = f"{summary.failed[0].file}: {summary.failed[0].message}"
    return out


def cmd_status(args) -> dict:
    con = connect_read_only(args.db)
    try:
        return Warehouse(con).status()
    finally:
        con.close()


def cmd_adoption(args) -> dict:
    con = connect_read_only(args.db)
    try:
        warehouse = Warehouse(con)
        if not warehouse.is_built:
            raise WarehouseError("the database holds no marts yet: load data with `ingest` or build the `demo`")
        return warehouse.adoption(args.week)
    finally:
        con.close()


DETECT_COLUMNS = (
    "user_id",
    "suspicion",
    "flagged",
    "reasons",
    "families",
    "suspect_weeks",
    "tokens",
    "tokens_at_stake",
)


def cmd_detect(args) -> dict:
    if args.since and args.until and args.since > args.until:
        raise UsageError(f"--since {args.since} is after --until {args.until}")
    try:
        settings = thresholds.load(args.config, required=True)
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    con = connect_read_only(args.db)
    try:
        if not marts.is_built(con):
            raise WarehouseError("the database holds no marts yet: load data with `ingest` or build the `demo`")
        bounds = detect.window(con, args.since, args.until)
        if bounds is None:
            raise WarehouseError("the database holds no attributed usage to score")
        if bounds[0] > bounds[1]:
            raise UsageError(f"no days to score: the window would run from {bounds[0]} to {bounds[1]}")
        found = detect.detect(con, *bounds, settings)
    finally:
        con.close()
    people = found.people
    if args.out:
        table = people.loc[:, list(DETECT_COLUMNS)].copy()
        table["flagged"] = table["flagged"].map({True: "true", False: "false"})
        table.to_csv(args.out, index=False)
    flagged = people[people["flagged"]]
    families = {f: int(flagged["families"].str.split(",").map(lambda fs, f=f: f in fs).sum()) for f in detect.FAMILIES}
    return {
        "since": str(found.since),
        "until": str(found.until),
        "people": len(people),
        "flagged": len(flagged),
        "tokens": int(people["tokens"].sum()),
        "tokens_at_stake": int(flagged["tokens_at_stake"].sum()),
        "families": families,
        "top": [
            {"user_id": r.user_id, "suspicion": float(r.suspicion), "reasons": r.reasons}
            for r in flagged.head(10).itertuples()
        ],
    }


def cmd_leaderboard(args) -> dict:
    if args.since and args.until and args.since > args.until:
        raise UsageError(f"--since {args.since} is after --until {args.until}")
    con = connect_read_only(args.db)
    try:
        wh = Warehouse(con)
        bounds = wh.date_bounds()
        if bounds is None:
            raise WarehouseError("the database holds no usage to rank: load data with `ingest` or build the `demo`")
        # the boards count whole weeks (suspect weeks are weeks): report the Monday-to-Sunday span counted
        since, until = args.since or bounds[0], args.until or bounds[1]
        since = max(since - timedelta(days=since.weekday()), bounds[0])
        until = min(until + timedelta(days=6 - until.weekday()), bounds[1])
        if args.team and not con.execute("SELECT 1 FROM dim_teams WHERE team_id = ?", [args.team]).fetchone():
            raise UsageError(f"--team {args.team}: no such team_id")
        raw = wh.leaderboard_people(since, until, args.tool, args.team)
        k = k_configured()
        if 0 < len(raw) < k:
            raise UsageError(f"only {len(raw)} people in this selection; nobody is ranked among fewer than {k}")
        # the command reads the database file itself, so it shows names; the app shows pseudonyms
        board = leaderboard.people_board(raw, key=wh.pseudonym_key, show_names=True)
        withheld = 0
        if args.level == "team":
            board, withheld = leaderboard.team_board(board, k=k)
        head = leaderboard.headline(board, args.top)
    finally:
        con.close()
    rows = board[(board["rank_raw"] <= args.top) | (board["rank_adjusted"] <= args.top)]
    if args.out:
        table = rows.copy()
        table["flagged"] = table["flagged"].map({True: "true", False: "false"})
        table["adjusted_tokens"] = table["adjusted_tokens"].round(1)
        table.to_csv(args.out, index=False)
    return {
        "level": args.level,
        "since": str(since),
        "until": str(until),
        "rows": len(rows),
        "ranked": len(board),
        "withheld_small_teams": withheld,
        "tokens": int(board["tokens"].sum()),
        "adjusted_tokens": round(float(board["adjusted_tokens"].sum())),
        "top_kept": head.kept if head else 0,
        "top_suspected_share": round(head.suspected_share, 4) if head else 0.0,
        "top": [
            {
                "rank_raw": int(r.rank_raw),
                "entity_id": r.entity_id,
                "entity_name": r.entity_name,
                "tokens": int(r.tokens),
                "adjusted_tokens": round(float(r.adjusted_tokens)),
                "rank_adjusted": int(r.rank_adjusted),
                "flagged": bool(r.flagged),
            }
            for r in rows.head(args.top).itertuples()
        ],
    }


FORECAST_MAX_HORIZON = 730


def cmd_forecast(args) -> dict:
    import math

    from analytics import forecast

    def _finite(value):
        """A float rounded to 4 places, or None when it is not finite (JSON has no NaN); others unchanged."""
        if isinstance(value, float):
            return round(value, 4) if math.isfinite(value) else None
        return value

    if args.horizon > FORECAST_MAX_HORIZON:
        raise UsageError(f"--horizon is at most {FORECAST_MAX_HORIZON} days")
    con = connect_read_only(args.db)
    try:
        warehouse = Warehouse(con)
        if not warehouse.is_built:
            raise WarehouseError("the database holds no marts yet: load data with `ingest` or build the `demo`")
        history = forecast.daily_series(warehouse.demand_days())
    finally:
        con.close()
    try:
        fc = forecast.forecast(history, horizon=args.horizon)
    except forecast.TooLittleHistory as exc:
        raise WarehouseError(str(exc)) from None
    table = forecast.contract_table(fc, args.inflation_kept)
    if args.out:
        table.to_csv(args.out, index=False)
    bt = fc.backtest
    return {
        "days": len(table),
        "first_day": table["day"].iloc[0],
        "last_day": table["day"].iloc[-1],
        "history_days": len(history),
        "model": fc.model,
        "models": fc.choice,
        "note": fc.note,
        "inflation_kept": args.inflation_kept,
        "backtest": [{k: _finite(v) for k, v in r.items()} for r in bt.table.to_dict("records")],
        # null without a backtest (under forecast.MIN_BACKTEST_DAYS of history): JSON has no NaN
        "mase": {s: _finite(bt.mase("chosen", s)) for s in ("observed", "adjusted")},
        "coverage": {s: _finite(bt.coverage("chosen", s)) for s in ("observed", "adjusted")},
        # the choice rule made on the earlier origins and scored on the later ones (mase above is in-sample)
        "mase_held_out": {s: _finite(bt.mase("held_out", s)) for s in ("observed", "adjusted")},
        "observed_tokens": int(table["observed_mean"].sum()),
        "adjusted_tokens": int(table["adjusted_mean"].sum()),
    }


def cmd_refresh(args) -> dict:
    if args.engine == "spark" and args.lake is None:
        raise UsageError("--engine spark reads the events from a Parquet lake: give --lake DIR (see export-lake)")
    con = connect(args.db, create=False)
    try:
        seconds = marts.refresh(con, whole=args.whole, engine=args.engine, lake_dir=args.lake)
        if args.lake is not None:
            events = int(get_meta(con, "lake_events") or 0)
        else:
            events = con.execute("SELECT count(*) FROM usage_events").fetchone()[0]
        done = marts.last_refresh(con)
        snapshots.publish(con, args.db)
    finally:
        con.close()
    out = {"engine": args.engine, "events": events, "seconds": round(seconds, 3), "recomputed": done}
    if args.lake is not None:
        out["lake"] = str(args.lake)
    return out


def cmd_export_lake(args) -> dict:
    con = connect(args.db, create=False)
    try:
        events = lake.export(con, args.lake)
    finally:
        con.close()
    return {"lake": str(args.lake), "events": events}


def cmd_prices(args) -> dict:
    con = connect(args.db)
    try:
        if args.file:
            load_prices(con, args.file)
            if marts.is_built(con):
                marts.refresh(con)  # costs follow the new prices
            snapshots.publish(con, args.db)
        rows = con.execute(
            "SELECT model, token_type, usd_per_mtok, CAST(effective_from AS VARCHAR) "
            "FROM prices ORDER BY model, token_type, effective_from"
        ).fetchall()
    finally:
        con.close()
    return {
        "prices": [dict(zip(("model", "token_type", "usd_per_mtok", "effective_from"), r, strict=True)) for r in rows]
    }


def cmd_identities(args) -> dict:
    from analytics.identity import load_identity_map

    if not args.file.exists():
        raise UsageError(f"no such file: {args.file}")
    con = connect(args.db, create=False)
    try:
        out = load_identity_map(con, args.file)
        snapshots.publish(con, args.db)
        return out
    finally:
        con.close()


def cmd_publish(args) -> dict:
    started = time.perf_counter()
    snapshot = snapshots.publish_path(args.db, attempts=1)
    return {"snapshot": str(snapshot), "seconds": round(time.perf_counter() - started, 3)}


def cmd_bench(args) -> dict:
    from analytics import bench

    if args.keep is not None and args.keep.exists() and not args.keep.is_dir():
        raise UsageError(f"--keep must name a folder: {args.keep}")
    return bench.run(args.events, repeat=args.repeat, keep=args.keep, progress=None if args.json else _print_progress)


def cmd_formats(args) -> dict:
    return {"formats": [{"name": a.name, "description": a.description} for a in formats.registry().values()]}


# -- output -----------------------------------------------------------------------------------------------


def _print_progress(fraction: float, message: str) -> None:
    # Only for a person watching a terminal: scripts read stderr for the one-line error.
    if sys.stderr.isatty():
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


def _human(command: str, out: dict) -> str:
    if command == "refresh":
        source = f" from the lake {out['lake']}" if "lake" in out else ""
        return (
            f"refreshed on {out['engine']}{source} in {out['seconds']:.1f} s: {out['recomputed']}; "
            f"{out['events']:,} events"
        )
    if command == "export-lake":
        return f"wrote {out['events']:,} events to the lake {out['lake']} (one folder per UTC day)"
    if command == "ingest":
        lines = [
            f"{r['file']} -> {r['table']}: read {r['rows_read']}, inserted {r['inserted']}, updated {r['updated']}, "
            f"duplicates {r['duplicates']}, rejected {r['rejected']}"
            if r["status"] == "loaded"
            else f"{r['file']}: skipped, nothing to load ({r['message']})"
            if r["status"] == "skipped"
            else f"{r['file']} -> {r['table']}: NOT LOADED, nothing of it kept ({r['message']})"
            for r in out["details"]
        ]
        lines += [f"warning: {w}" for w in out["warnings"]]
        lines += [f"warning: {w}" for r in out["details"] for w in r["warnings"]]
        lines.append(
            f"{out['files']} file(s): {out['inserted']} inserted, {out['updated']} updated, "
            f"{out['duplicates']} duplicates, {out['rejected']} rejected"
            + (" — rejected rows are kept with line and reason in the rejected_rows table" if out["rejected"] else "")
        )
        return "\n".join(lines)
    if command == "adoption":
        return (
            f"week of {out['week']}: headcount {out['headcount']}, active {out['active']} "
            f"({out['active_share']:.0%}), real {out['real']} ({out['real_share']:.0%})"
        )
    if command == "detect":
        lines = [
            f"{out['since']} to {out['until']}: {out['people']:,} people scored, {out['flagged']:,} suspected; "
            f"{out['tokens_at_stake']:,} of {out['tokens']:,} tokens in their suspect weeks"
        ]
        lines += [f"  {t['user_id']} ({t['suspicion']:.2f}): {t['reasons']}" for t in out["top"]]
        return "\n".join(lines)
    if command == "leaderboard":
        noun = "people" if out["level"] == "person" else "teams"
        lines = [
            f"{out['since']} to {out['until']}: {out['ranked']:,} {noun} ranked; of the raw top "
            f"{len(out['top'])}, {out['top_kept']} stay in the adjusted top; {out['top_suspected_share']:.0%} of their "
            "tokens was suspected inflation"
        ]
        lines += [
            f"  #{t['rank_raw']:<4} {t['entity_name']:<32} {t['tokens']:>16,} -> adjusted #{t['rank_adjusted']:<5}"
            f" {t['adjusted_tokens']:>16,}" + ("  suspected" if t["flagged"] else "")
            for t in out["top"]
        ]
        if out["withheld_small_teams"]:
            lines.append(
                f"{out['withheld_small_teams']} team(s) not ranked: under the small-group limit, or held back with one"
            )
    if command == "forecast":
        lines = [
            f"{out['days']} days from {out['first_day']} to {out['last_day']} ({out['history_days']} days of history)",
            f"model: {out['model']} — {out['note']}",
            (
                f"backtest at 28 days, the models used (best of 9 on these folds: in-sample choice): MASE observed "
                f"{out['mase']['observed']:.2f}, adjusted {out['mase']['adjusted']:.2f}; 95 % interval coverage "
                f"observed {out['coverage']['observed']:.0%}, adjusted {out['coverage']['adjusted']:.0%}"
                if None not in (*out["mase"].values(), *out["coverage"].values())
                else "no backtest: too little history to score the models"
            ),
            *(
                [
                    f"held out (chosen on the earlier origins, scored on the later): MASE observed "
                    f"{out['mase_held_out']['observed']:.2f}, adjusted {out['mase_held_out']['adjusted']:.2f}"
                ]
                if None not in out["mase_held_out"].values()
                else []
            ),
            f"tokens over the horizon (mean): observed {out['observed_tokens']:,}, adjusted (keeping "
            f"{out['inflation_kept']:.0%} of the suspected inflation) {out['adjusted_tokens']:,}",
        ]
        return "\n".join(lines)
    if command == "bench":
        from analytics import bench

        return bench.text(out)
    if command == "formats":
        if not out["formats"]:
            return "no telemetry formats are installed"
        return "\n".join(f"{f['name']:<24} {f['description']}" for f in out["formats"])
    if command == "prices":
        return "\n".join(
            f"{p['model']:<22} {p['token_type']:<12} {p['usd_per_mtok']:>8.3f} USD/Mtok from {p['effective_from']}"
            for p in out["prices"]
        )
    lines = []
    for key, value in out.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v:,}" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list):
            lines.append(f"{key}:")
            lines += ["  " + ", ".join(f"{k}={v}" for k, v in item.items()) for item in value]
            continue
        elif isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:,}"
        lines.append(f"{key}: {value}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.db = args.db or default_db_path()
        out = args.run(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (WarehouseError, LookupError, ValueError, OSError, duckdb.Error) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {text}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug of ours: still one line, never a traceback, and a failing exit
        print(
            f"error: unexpected {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(out, default=str) if args.json else _human(args.command, out))
    if out.get("error"):
        if not args.json:
            print(f"error: {out['error']}", file=sys.stderr)
        return 1
    return 0
