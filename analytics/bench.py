"""`python -m analytics bench`: the pipeline, every page's server-side work and a common pandas app, on N events.

The dataset is the demo organisation sized to N events (seed 3, 180 days to 2026-11-20), written as canonical
Parquet on disk. Each phase runs in a process of its own so its peak memory (VmHWM) is its own:

- generate: the demo files, the last day's events split off as a second batch (not timed as the pipeline);
- pipeline: a fresh database; the events through the real importer (ingest rate), the other tables, the mart
  refresh with detection (its steps timed), then the last day as a new batch and the refresh after it, file size;
- pages: each page's Warehouse calls plus the pandas work the page does on them, for a company-wide admin and a
  team lead, cold (first run on a freshly opened database) and warm (p50/p95 of repeats, no Streamlit cache);
  the Demand page's fit is done once (the app caches it) and its timed work is the queries and one scenario
  recompute on the cached paths;
- pandas: the usual alternative, a Streamlit app that `st.cache_data`-loads every event into pandas and
  aggregates per interaction (tokens per person over the period; weekly tokens by tool), on the same files.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED, END, DAYS = 3, date(2026, 11, 20), 180  # as the other benchmarks build their organisation
EVENTS_PER_PERSON_DAY = 9.1  # the demo's rate at this size (6,400 people x 180 days: 10.5 M events)
DEFAULT_EVENTS = 10_000_000
PERIOD_WEEKS = 13  # the sidebar's default date range


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM; ru_maxrss would carry a forking parent's)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def time_ms(fn: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    """One cold call, then `repeat` warm ones; milliseconds."""
    started = time.perf_counter()
    fn()
    cold = (time.perf_counter() - started) * 1000
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        warm.append((time.perf_counter() - started) * 1000)
    return cold, warm


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _summary(cold: float, warm: list[float]) -> dict:
    return {"cold_ms": round(cold, 1), "p50_ms": round(statistics.median(warm), 1), "p95_ms": round(p95(warm), 1)}


@contextmanager
def organisation(
    keep: Path | None,
    *,
    users: int,
    days: int = DAYS,
    seed: int = SEED,
    end: date = END,
    upgrade: bool = True,
    say: Callable[[str], None] = print,
) -> Iterator[Path]:
    """The benchmark organisation's database: `keep` when that file exists (its marts brought up to this
    version unless `upgrade` is False), else a demo of this size built there, or in a temporary folder that is
    deleted on leaving."""
    from analytics.cli import build_demo
    from analytics.warehouse import connect

    with tempfile.TemporaryDirectory(prefix="goodhart-bench-") as tmp:
        db = keep or Path(tmp) / "bench.duckdb"
        if not db.exists():
            started = time.perf_counter()
            build_demo(db, users=users, days=days, seed=seed, end=end)
            say(f"built {users:,} people x {days} days in {time.perf_counter() - started:.0f} s")
        elif upgrade:
            connect(db).close()  # brings older marts up to this version, as any writer would
        yield db


def users_for(events: int, days: int = DAYS) -> int:
    return max(20, round(events / (days * EVENTS_PER_PERSON_DAY)))


# -- phases (each runs in a child process; arguments and results are JSON) -------------------------------------


def phase_generate(folder: str, users: int, days: int) -> dict:
    """Write the demo's canonical Parquet, and split its events: the first 99 % by time, then the rest.
    Above SHARD_USERS people the organisation is built in shards (see `_generate_sharded`)."""
    import duckdb

    from analytics import demo

    if users > SHARD_USERS:
        return _generate_sharded(Path(folder), users, days)
    out = Path(folder)
    started = time.perf_counter()
    files = demo.generate(out / "generated", users=users, days=days, seed=SEED, end=END)
    con = duckdb.connect()
    events = str(out / "generated" / "usage_events.parquet")
    # the latest 1 % of events (by time) arrive later, as a second batch
    cutoff = con.execute("SELECT quantile_disc(ts, 0.99) FROM read_parquet(?)", [events]).fetchone()[0]
    for name, where in (("batch1", "ts < ?"), ("batch2", "ts >= ?")):
        (out / name).mkdir(exist_ok=True)
        target = str(out / name / "usage_events.parquet").replace("'", "''")
        con.execute(
            f"COPY (SELECT * FROM read_parquet(?) WHERE {where} ORDER BY ts) TO '{target}' (FORMAT parquet)",
            [events, cutoff],
        )
    con.close()
    Path(events).unlink()  # the two batches hold every event
    return {"generate_s": round(time.perf_counter() - started, 2), "users": files.people, "events": files.events}


# The demo builds its organisation in memory: about 3.9 GB at its peak for 6,105 people (10 M events). Larger
# organisations are built as shards of at most this many people, one after another, and combined on disk.
SHARD_USERS = 6_500
SHARD_MEMORY = "3GB"  # DuckDB's limit while combining the shards (it spills to disk past it): below one shard's peak
# id columns and how a shard k >= 1 renames them so no two shards' ids meet: `sN-` before ids, and identities
# (user ids, e-mails, logins, mapped identities; the demo's events carry user ids and contractors' e-mails) the
# same way wherever they appear, so an event still names its person: `sN-u-00042`, `ana.silva+sN@domain`, `sN-asilva`
_SHARD_IDS = ("team_id", "parent_team_id", "event_id", "session_id", "prompt_id", "outcome_id")
_SHARD_IDENTITIES = ("user_id", "lead_user_id", "email", "login", "identity")
# the order each combined file is written in, as the demo writes it (others: shard by shard)
_SHARD_ORDER = {"usage_daily.parquet": "day, user_id", "outcomes.parquet": "ts"}


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _combined(con, shards: Path, name: str, roots: list[str]) -> str:
    """One SELECT over every shard's `name` file (shards/shard=k/name; one scan, as DuckDB's sort spills to disk
    only from a single pipeline: a UNION ALL of one scan per shard ran out of memory at 10 shards), with shard
    k >= 1's ids renamed. Its root team goes: its top-level orgs report to shard 0's root (`roots[0]`) under
    distinct names, and its chief executive sits in that root as the head of the division."""
    files = ", ".join(_sql_text(str(shards / f"shard={k}" / name)) for k in range(len(roots)))
    source = f"read_parquet([{files}], hive_partitioning = true, hive_types = {{'shard': INTEGER}})"
    first = _sql_text(str(shards / "shard=0" / name))
    columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet({first})").fetchall()]
    tag, number = "'s' || (shard + 1)", "CAST(shard + 1 AS VARCHAR)"
    own, top = f"[{', '.join(map(_sql_text, roots))}][shard + 1]", _sql_text(roots[0])
    renamed = {}
    for c in columns:
        if c in ("team_id", "parent_team_id"):
            renamed[c] = f"CASE WHEN shard = 0 THEN {c} WHEN {c} = {own} THEN {top} ELSE {tag} || '-' || {c} END"
        elif c in _SHARD_IDS:
            renamed[c] = f"CASE WHEN shard = 0 THEN {c} ELSE {tag} || '-' || {c} END"
        elif c in _SHARD_IDENTITIES:
            renamed[c] = (
                f"CASE WHEN shard = 0 THEN {c} WHEN {c} LIKE '%@%' THEN regexp_replace({c}, '@', '+' || {tag} || '@') "
                f"ELSE {tag} || '-' || {c} END"
            )
    if "parent_team_id" in columns and "team_name" in columns:
        renamed["team_name"] = (
            f"CASE WHEN shard > 0 AND parent_team_id = {own} THEN team_name || ' ' || {number} ELSE team_name END"
        )
    if "team_id" in columns and "title" in columns:
        renamed["title"] = (
            f"CASE WHEN shard > 0 AND team_id = {own} THEN 'President, division ' || {number} ELSE title END"
        )
    replace = f" REPLACE ({', '.join(f'{e} AS {c}' for c, e in renamed.items())})" if renamed else ""
    where = " WHERE shard = 0 OR parent_team_id IS NOT NULL" if name == "teams.parquet" else ""
    return f"SELECT * EXCLUDE (shard){replace} FROM {source}{where}"


def _generate_sharded(out: Path, users: int, days: int) -> dict:
    """The organisation as shards of at most SHARD_USERS people, each a demo of its own (seed SEED + k) built in
    memory by a process of its own into a temporary folder, then combined by DuckDB, streaming, into one
    company's files where the unsharded build writes them: one root team (shard 0's), every id distinct, every
    event naming its person. Peak memory is one shard's build."""
    import shutil

    import duckdb

    started = time.perf_counter()
    count = -(-users // SHARD_USERS)
    sizes = [users // count + (k < users % count) for k in range(count)]
    shards = out / "shards"
    shutil.rmtree(shards, ignore_errors=True)
    people = events = 0
    peak = 0.0
    try:
        for k, size in enumerate(sizes):
            # a process per shard hands its memory back when it ends; in this one, the generator's freed heap
            # (2.4-2.8 GB after a shard of 6,105 people) would stay under DuckDB's 3 GB below
            built = _child("shard", folder=str(shards / f"shard={k}"), users=size, days=days, seed=SEED + k)
            people, events, peak = people + built["people"], events + built["events"], max(peak, built["peak_rss_mb"])
        gen = out / "generated"
        (gen / "eval").mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")  # stdout carries the phase's result alone
        con.execute(f"SET memory_limit = '{SHARD_MEMORY}'")
        con.execute(f"SET temp_directory = {_sql_text(str(shards / 'spill'))}")
        roots = [
            con.execute(
                "SELECT team_id FROM read_parquet(?) WHERE parent_team_id IS NULL",
                [str(shards / f"shard={k}" / "teams.parquet")],
            ).fetchone()[0]
            for k in range(count)
        ]

        names = sorted(str(p.relative_to(shards / "shard=0")) for p in (shards / "shard=0").rglob("*.parquet"))
        for name in (n for n in names if n != "usage_events.parquet"):
            order = f" ORDER BY {_SHARD_ORDER[name]}" if name in _SHARD_ORDER else ""
            rows = f"SELECT * FROM ({_combined(con, shards, name, roots)}){order}"
            con.execute(f"COPY ({rows}) TO {_sql_text(str(gen / name))} (FORMAT parquet, COMPRESSION zstd)")
        every = [str(shards / f"shard={k}" / "usage_events.parquet") for k in range(count)]
        # the latest 1 % of events (by time, over every shard) arrive later, as a second batch
        cutoff = con.execute("SELECT quantile_disc(ts, 0.99) FROM read_parquet(?)", [every]).fetchone()[0]
        for name, where in (("batch1", "ts < ?"), ("batch2", "ts >= ?")):
            (out / name).mkdir(exist_ok=True)
            target = _sql_text(str(out / name / "usage_events.parquet"))
            rows = f"SELECT * FROM ({_combined(con, shards, 'usage_events.parquet', roots)}) WHERE {where} ORDER BY ts"
            con.execute(
                f"COPY ({rows}) TO {target} (FORMAT parquet)",
                [cutoff],
            )
        con.close()
    finally:
        shutil.rmtree(shards, ignore_errors=True)
    (out / "generated" / "usage_events.parquet").unlink(missing_ok=True)  # an unsharded build's, now stale
    return {
        "generate_s": round(time.perf_counter() - started, 2),
        "users": people,
        "events": events,
        "shards": count,
        "peak_rss_mb": round(max(peak, peak_rss_mb()), 1),  # the largest of this process's and its shards'
    }


def phase_shard(folder: str, users: int, days: int, seed: int) -> dict:
    """One shard of a sharded organisation: the demo's files in `folder`, its counts and its peak memory."""
    from analytics import demo

    files = demo.generate(Path(folder), users=users, days=days, seed=seed, end=END)
    return {"people": files.people, "events": files.events, "peak_rss_mb": round(peak_rss_mb(), 1)}


def phase_pipeline(folder: str) -> dict:
    """A fresh database through the real importer and refresh, timed step by step."""
    from analytics import detect, ingest, marts, snapshots
    from analytics.warehouse import connect

    out = Path(folder)
    db = out / "bench.duckdb"
    for stale in (db, Path(f"{db}.wal")):
        stale.unlink(missing_ok=True)
    gen = out / "generated"
    con = connect(db)
    try:
        ingest.ingest(con, [gen / "teams.parquet", gen / "people.parquet"], refresh=False)

        def load(paths: list[Path]) -> tuple[int, float]:
            started = time.perf_counter()
            summary = ingest.ingest(con, paths, refresh=False)
            seconds = time.perf_counter() - started
            if summary.failed:
                raise RuntimeError(f"{summary.failed[0].file}: {summary.failed[0].message}")
            return summary.totals()["inserted"], seconds

        events, ingest_s = load([out / "batch1" / "usage_events.parquet"])
        _, others_s = load([gen / "usage_daily.parquet", gen / "outcomes.parquet"])
        refresh_s = marts.refresh(con)
        refresh_steps = dict(marts.LAST_STEPS)
        batch_events, batch_ingest_s = load([out / "batch2" / "usage_events.parquet"])
        batch_refresh_s = marts.refresh(con)
        batch_recomputed = marts.last_refresh(con)
        batch_steps = dict(marts.LAST_STEPS)
        batch_detection = dict(detect.LAST_SPLIT)
        # what `ingest` does last: publish the snapshot the app switches to (a copy of the whole file)
        started = time.perf_counter()
        snapshots.publish(con, db)
        publish_s = time.perf_counter() - started
        # detection over all data is the whole refresh's detection step (timed there); running it again on its
        # own would read every event a second time
        detect_s = refresh_steps["detection"]
        scored, flagged = con.execute("SELECT count(*), count(*) FILTER (WHERE flagged) FROM det_person").fetchone()
        con.execute("CHECKPOINT")
        total = con.execute("SELECT count(*) FROM usage_events").fetchone()[0]
    finally:
        con.close()
        shutil.rmtree(snapshots.folder_for(db), ignore_errors=True)
    return {
        "events": total,
        "ingest_events": events,
        "ingest_s": round(ingest_s, 2),
        "ingest_events_per_s": round(events / ingest_s),
        "other_tables_s": round(others_s, 2),
        "refresh_s": round(refresh_s, 2),
        "new_batch_events": batch_events,
        "new_batch_ingest_s": round(batch_ingest_s, 2),
        "new_batch_refresh_s": round(batch_refresh_s, 2),
        "new_batch_recomputed": batch_recomputed,
        "publish_s": round(publish_s, 2),
        "detect_s": round(detect_s, 2),
        "people_scored": scored,
        "flagged": flagged,
        "refresh_steps_s": refresh_steps,
        "new_batch_refresh_steps_s": batch_steps,
        "new_batch_detection_s": batch_detection,
        "db_mb": round(db.stat().st_size / 2**20, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def _pages(wh, scope, start: date, end: date, fc) -> dict[str, Callable[[], object]]:
    """Each page this scope may open: its Warehouse calls and the pandas work it does on them, as its main()
    does before drawing (Plotly figures and Streamlit's rendering excluded, except the Demand interaction's)."""
    from analytics import data_queries, org
    from analytics import forecast as F
    from analytics import leaderboard as lb
    from analytics.bench_forecast import interaction

    def key() -> str:  # read per run, as the page's loaders read it
        return wh.pseudonym_key

    def overview():
        weekly = wh.weekly_adoption(start, end)
        wh.weekly_usage_by_tool(start, end)
        wh.token_split(start, end)
        wh.leaderboard_totals(start, end, None, None, scope)
        lb.decoupling(wh.decoupling_weeks(start, end), k=scope.k)
        wh.org_comparison(start, end)
        wh.unattributed_summary()
        return weekly

    def leaderboards():
        wh.leaderboard_filters(scope)
        raw = wh.leaderboard_people(start, end, None, None, scope)
        people = lb.people_board(raw, key=key(), show_names=scope.named)
        if scope.individuals:
            lb.team_board(people, k=scope.k, sums=wh.leaderboard_teams(start, end, None, None, scope))
        else:
            lb.cells_board(wh.org_tree(start, end, scope))
        lb.slope_rows(people, 10)
        return lb.headline(people)

    def suspects():
        flagged, _ = wh.suspect_cases(scope)
        wh.suspect_teams(scope)
        wh.automation_lane(start, end, scope)
        if scope.individuals and len(flagged):  # with the first case open
            wh.evidence(flagged["user_id"].iloc[0], start, end, scope)

    def demand():
        rows = wh.demand_days()
        wh.demand_tools()
        wh.demand_orgs()
        prices = wh.demand_prices(None, None)
        wh.demand_model_mix(None, None)
        mix = F.token_mix(F.scope_rows(rows))
        if not isinstance(fc, str):
            interaction(fc, F.Scenario(), mix, int(prices.get("active_users") or 0))

    def explorer():
        cells = wh.org_tree(start, end, scope)
        org.with_rates(org.subtree(cells, None))
        if scope.individuals:  # with the people listed
            wh.org_people(start, end, None, scope)

    def mine():
        weeks = wh.my_weeks(start, end, scope)
        return weeks.select_dtypes("number").sum()

    def data():
        con = wh.con
        data_queries.describe_gaps(data_queries.gaps(con))
        data_queries.sources(con)
        data_queries.reject_files(con)
        data_queries.rejects(con, file=None)
        data_queries.unattributed(con)
        data_queries.loads(con)
        data_queries.last_load(con)

    if scope.company:
        return {
            "Overview": overview,
            "Leaderboards": leaderboards,
            "Suspected inflation": suspects,
            "Demand": demand,
            "Org explorer": explorer,
            "Data": data,
        }
    return {"Leaderboards": leaderboards, "Suspected inflation": suspects, "Org explorer": explorer, "My usage": mine}


def phase_pages(folder: str, repeat: int) -> dict:
    """Every page for an admin and a team lead; a fresh read-only connection per page, so the first run is cold."""
    from analytics import access
    from analytics import forecast as F
    from analytics.queries import Warehouse
    from analytics.warehouse import connect_read_only

    db = Path(folder) / "bench.duckdb"
    wh = Warehouse(connect_read_only(db))
    first, last = wh.date_bounds()
    start = max(first, last - timedelta(weeks=PERIOD_WEEKS) + timedelta(days=1))
    leads = [v for label, v in access.demo_viewers(wh.con).items() if label.startswith("Team lead of")]
    viewers = {"admin": access.Viewer(email="", role="admin", display_name="bench admin"), "team lead": leads[0]}
    started = time.perf_counter()
    fc = F.forecast(F.daily_series(wh.demand_days()), horizon=365)  # the page's cached fit (data.PAGE_HORIZON)
    fit_s = time.perf_counter() - started
    wh.con.close()

    pages: dict[str, dict[str, dict]] = {}
    queries = {}
    for label, viewer in viewers.items():
        scope = viewer.scope()
        for page in _pages(None, scope, start, last, fc):
            wh = Warehouse(connect_read_only(db))
            try:
                cold, warm = time_ms(_pages(wh, scope, start, last, fc)[page], repeat)
                pages.setdefault(page, {})[label] = _summary(cold, warm)
                if label == "admin" and page == "Leaderboards":  # the queries the pandas app's views match
                    queries["leaderboard_people"] = _summary(
                        *time_ms(lambda w=wh, s=scope: w.leaderboard_people(start, last, None, None, s), repeat)
                    )
                    queries["weekly_usage_by_tool"] = _summary(
                        *time_ms(lambda w=wh: w.weekly_usage_by_tool(start, last), repeat)
                    )
            finally:
                wh.con.close()
    return {
        "period": [str(start), str(last)],
        "team_lead": viewers["team lead"].display_name,
        "demand_fit_s": round(fit_s, 2),
        "pages": pages,
        "queries": queries,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


# The pandas app is not run when its projected peak would pass this share of the machine's memory: at 100 M events
# its frame alone is ~20 GB. Its peak is about PANDAS_PEAK_PER_FRAME times the frame (the frame, its aggregations,
# and st.cache_data's pickled copy and an unpickled one: 7,613 MB for a 1,917 MB frame at 10 M events).
PANDAS_MEMORY_SHARE = 0.6
PANDAS_PEAK_PER_FRAME = 4.0


def pandas_frame_mb(paths: list[Path]) -> tuple[int, float]:
    """Rows of these Parquet files and the projected size of their pandas frame (with the tokens column), in MB:
    the row count from the files' metadata times the bytes per row of a few row groups read into pandas (spread
    through each file; within 0.1 % of the whole frame at 10 M events)."""
    import pyarrow.parquet as pq

    rows = sampled_rows = sampled_bytes = 0
    for path in paths:
        parquet = pq.ParquetFile(path)
        rows += parquet.metadata.num_rows
        last = parquet.num_row_groups - 1
        for group in sorted({round(i * last / 3) for i in range(4)}) if last >= 0 else []:
            frame = parquet.read_row_group(group).to_pandas()
            sampled_rows += len(frame)
            sampled_bytes += int(frame.memory_usage(deep=True).sum())
            del frame
    per_row = (sampled_bytes / sampled_rows if sampled_rows else 0.0) + 8  # + tokens, an int64
    return rows, rows * per_row / 2**20


def phase_pandas(folder: str, repeat: int, start: str, end: str) -> dict:
    """The usual alternative: every event in a pandas frame held by `st.cache_data`, aggregated per interaction.
    Not run (`run` False, with the reason) when its projected peak would not fit the machine."""
    import pandas as pd

    out = Path(folder)
    rows, projected_mb = pandas_frame_mb([out / b / "usage_events.parquet" for b in ("batch1", "batch2")])
    machine_mb = _memory_gib() * 1024
    if projected_mb * PANDAS_PEAK_PER_FRAME > PANDAS_MEMORY_SHARE * machine_mb:
        return {
            "run": False,
            "reason": (
                f"the frame would need ~{projected_mb / 1024:,.0f} GB and the app "
                f"~{projected_mb * PANDAS_PEAK_PER_FRAME / 1024:,.0f} GB at its peak; the machine has "
                f"{_memory_gib():,.0f} GiB, of which it may take {PANDAS_MEMORY_SHARE:.0%}"
            ),
            "rows": rows,
            "projected_frame_mb": round(projected_mb, 1),
            "projected_peak_mb": round(projected_mb * PANDAS_PEAK_PER_FRAME, 1),
            "machine_mb": round(machine_mb, 1),
        }
    started = time.perf_counter()
    # what an app of the common kind caches: all events, a tokens column, and people for names and teams
    events = pd.concat(
        [pd.read_parquet(out / b / "usage_events.parquet") for b in ("batch1", "batch2")], ignore_index=True
    )
    events["tokens"] = (
        events["input_tokens"] + events["output_tokens"] + events["cache_read_tokens"] + events["cache_write_tokens"]
    )
    people = pd.read_parquet(out / "generated" / "people.parquet", columns=["user_id", "display_name", "team_id"])
    load_s = time.perf_counter() - started
    frame_mb = events.memory_usage(deep=True).sum() / 2**20
    zone = events["ts"].dt.tz  # the demo's files carry UTC timestamps
    lo, hi = pd.Timestamp(start).tz_localize(zone), (pd.Timestamp(end) + pd.Timedelta(days=1)).tz_localize(zone)

    def leaderboard():
        period = events[(events["ts"] >= lo) & (events["ts"] < hi)]
        board = period.groupby("user_id")["tokens"].sum().sort_values(ascending=False).reset_index()
        return board.merge(people, on="user_id", how="left")

    def weekly_by_tool():
        period = events[(events["ts"] >= lo) & (events["ts"] < hi)]
        return period.groupby([pd.Grouper(key="ts", freq="W-MON", label="left", closed="left"), "tool"])["tokens"].sum()

    board_cold, board_warm = time_ms(leaderboard, repeat)
    weekly_cold, weekly_warm = time_ms(weekly_by_tool, repeat)
    serving_mb = peak_rss_mb()  # the frame and its aggregations: the least such an app holds
    # st.cache_data keeps the pickled frame and hands every rerun its own unpickled copy
    started = time.perf_counter()
    blob = pickle.dumps(events, protocol=pickle.HIGHEST_PROTOCOL)
    pickle_s = time.perf_counter() - started
    hits = []
    for _ in range(3):
        started = time.perf_counter()
        copy = pickle.loads(blob)
        hits.append((time.perf_counter() - started) * 1000)
        del copy
    return {
        "run": True,
        "rows": len(events),
        "projected_frame_mb": round(projected_mb, 1),
        "load_s": round(load_s, 2),
        "frame_mb": round(frame_mb, 1),
        "cache_store_s": round(pickle_s, 2),
        "cache_hit_ms": round(statistics.median(hits), 1),
        "cache_mb": round(len(blob) / 2**20, 1),
        "leaderboard": _summary(board_cold, board_warm),
        "weekly_by_tool": _summary(weekly_cold, weekly_warm),
        "peak_rss_mb": round(serving_mb, 1),
        "peak_rss_with_cache_mb": round(peak_rss_mb(), 1),
    }


PHASES = {
    "generate": phase_generate,
    "shard": phase_shard,
    "pipeline": phase_pipeline,
    "pages": phase_pages,
    "pandas": phase_pandas,
}
CHILD = (
    "import json, sys; from analytics import bench; "
    "print(json.dumps(bench.PHASES[sys.argv[1]](**json.loads(sys.argv[2]))))"
)


def _child(phase: str, **kwargs) -> dict:
    from analytics.warehouse import WarehouseError

    done = subprocess.run(
        [sys.executable, "-c", CHILD, phase, json.dumps(kwargs)], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        # the exception's line: some messages (DuckDB's out-of-memory one) run on with advice after it
        error = next((line for line in reversed(lines) if re.match(r"[\w.]+(Error|Exception): ", line)), None)
        raise WarehouseError(
            f"bench {phase} phase failed: {error or (lines[-1] if lines else f'exit {done.returncode}')}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the command ------------------------------------------------------------------------------------------------


def prepare(folder: Path, events: int, report: Callable[[float, str], None] = lambda _f, _m: None) -> dict:
    """The generate phase's result for a dataset of about `events` events in `folder`: the one its marker
    (dataset.json) records when it was built with the same arguments, else a new one built there (the first
    step of `run`; on its own, it builds a dataset a later `run(events, keep=folder)` reuses)."""
    users = users_for(events)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "dataset.json"
    wanted = {"users": users, "days": DAYS, "seed": SEED, "end": str(END)}
    if users > SHARD_USERS:  # another shard size makes another company
        wanted["shard_users"] = SHARD_USERS
    if marker.exists() and json.loads(marker.read_text()).get("args") == wanted:
        report(0.0, f"reusing the dataset in {folder}")
        return json.loads(marker.read_text())["generated"]
    report(0.0, f"generating {users:,} people x {DAYS} days (about {events:,} events) in {folder}")
    marker.unlink(missing_ok=True)
    generated = _child("generate", folder=str(folder), users=users, days=DAYS)
    marker.write_text(json.dumps({"args": wanted, "generated": generated}))
    return generated


def run(
    events: int = DEFAULT_EVENTS,
    *,
    repeat: int = 20,
    keep: Path | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict:
    """Build, measure and compare; returns the `bench --json` object (see `text` for its reading)."""
    report = progress or (lambda _fraction, _message: None)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="goodhart-bench-") as tmp:
        folder = Path(keep) if keep else Path(tmp)
        generated = prepare(folder, events, report)
        report(0.3, "pipeline: ingest, refresh, a new batch, detection")
        pipeline = _child("pipeline", folder=str(folder))
        report(0.6, f"pages: {repeat} warm runs each after a cold one, admin and team lead")
        pages = _child("pages", folder=str(folder), repeat=repeat)
        report(0.85, "the pandas alternative on the same files")
        baseline = _child("pandas", folder=str(folder), repeat=repeat, start=pages["period"][0], end=pages["period"][1])
        if keep is None:
            (folder / "bench.duckdb").unlink(missing_ok=True)
    worst = max(
        ((p["p95_ms"], f"{page} ({who})") for page, by in pages["pages"].items() for who, p in by.items()),
        default=(0.0, ""),
    )
    return {
        "events": pipeline["events"],
        "users": generated["users"],
        "days": DAYS,
        "generate_s": generated["generate_s"],
        "generate_shards": generated.get("shards", 1),
        **{k: v for k, v in pipeline.items() if k not in ("events", "peak_rss_mb")},
        "demand_fit_s": pages["demand_fit_s"],
        "period": pages["period"],
        "page_p95_ms": worst[0],
        "worst_page": worst[1],
        "pages": pages["pages"],
        "queries": pages["queries"],
        "peak_rss_mb": max(pipeline["peak_rss_mb"], pages["peak_rss_mb"]),
        "pipeline_peak_rss_mb": pipeline["peak_rss_mb"],
        "serving_peak_rss_mb": pages["peak_rss_mb"],
        "pandas": baseline,
        "ratios": _ratios(baseline, pages),
        "repeat": repeat,
        "machine": f"{os.cpu_count()} cores, {_memory_gib():.0f} GiB",
        "seconds": round(time.perf_counter() - started, 1),
    }


def _ratios(baseline: dict, pages: dict) -> dict[str, float | None]:
    """How many times the pandas app's figure is ours (above 1: we are faster or smaller); None when it was not run."""
    if not baseline.get("run", True):
        return dict.fromkeys(("leaderboard_p50", "weekly_by_tool_p50", "first_view", "serving_peak_rss"))
    ours_board = pages["pages"]["Leaderboards"]["admin"]
    ours_weekly = pages["queries"]["weekly_usage_by_tool"]
    return {
        "leaderboard_p50": round(baseline["leaderboard"]["p50_ms"] / max(ours_board["p50_ms"], 0.1), 2),
        "weekly_by_tool_p50": round(baseline["weekly_by_tool"]["p50_ms"] / max(ours_weekly["p50_ms"], 0.1), 2),
        "first_view": round(
            (baseline["load_s"] * 1000 + baseline["leaderboard"]["cold_ms"]) / max(ours_board["cold_ms"], 0.1), 2
        ),
        "serving_peak_rss": round(baseline["peak_rss_mb"] / max(pages["peak_rss_mb"], 1.0), 2),
    }


def _memory_gib() -> float:
    with open("/proc/meminfo") as info:
        return next(int(line.split()[1]) for line in info if line.startswith("MemTotal")) / 2**20


def _steps(steps: dict) -> str:
    return "; ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items())


def text(out: dict) -> str:
    """The human-readable report of `run`'s result."""
    pd_ = out["pandas"]
    shards = out.get("generate_shards", 1)
    lines = [
        f"{out['events']:,} events ({out['users']:,} people x {out['days']} days, generated in "
        f"{out['generate_s']:.0f} s as Parquet on disk{f', in {shards} shards' if shards > 1 else ''}); "
        f"{out['machine']}",
        "",
        "pipeline",
        f"  ingest {out['ingest_events']:,} events            {out['ingest_s']:>8.1f} s  "
        f"= {out['ingest_events_per_s'] / 1e6:.2f} M events/s",
        f"  daily rows and outcomes               {out['other_tables_s']:>8.1f} s",
        f"  mart refresh, whole (with detection)  {out['refresh_s']:>8.1f} s  "
        + _steps(out.get("refresh_steps_s", {})),
        f"    of which detection over all data    {out['detect_s']:>8.1f} s  "
        f"({out['people_scored']:,} people, {out['flagged']:,} suspected)",
        f"  new batch, the latest 1 % ({out['new_batch_events']:,} events): load {out['new_batch_ingest_s']:.1f} s, "
        f"mart refresh after it {out['new_batch_refresh_s']:.1f} s ({out['new_batch_recomputed']})",
        "    " + _steps(out.get("new_batch_refresh_steps_s", {})),
        "    detection: " + _steps(out.get("new_batch_detection_s", {})),
        f"  publish the snapshot the app switches to (a copy of the file): {out['publish_s']:.1f} s",
        f"  database file                         {out['db_mb']:>8,.0f} MB",
        f"  peak memory: pipeline {out['pipeline_peak_rss_mb']:,.0f} MB, serving the pages "
        f"{out['serving_peak_rss_mb']:,.0f} MB",
        "",
        f"pages, {out['period'][0]} to {out['period'][1]} (the default range); server-side work in ms, "
        f"cold then p50/p95 of {out['repeat']} warm runs; Demand fit once: {out['demand_fit_s']:.1f} s",
        f"  {'page':<22} {'admin cold':>10} {'p50':>7} {'p95':>7}   {'lead cold':>10} {'p50':>7} {'p95':>7}",
    ]
    for page, by in out["pages"].items():
        cells = [
            f"{by[who]['cold_ms']:>10.0f} {by[who]['p50_ms']:>7.0f} {by[who]['p95_ms']:>7.0f}"
            if who in by
            else f"{'–':>10} {'':>7} {'':>7}"
            for who in ("admin", "team lead")
        ]
        lines.append(f"  {page:<22} {cells[0]}   {cells[1]}")
    lines.append(f"  worst warm p95: {out['page_p95_ms']:.0f} ms, {out['worst_page']}")
    q, r = out["queries"], out["ratios"]
    lines += ["", "against the usual alternative (all events in pandas via st.cache_data, aggregated per interaction)"]
    if not pd_.get("run", True):
        lines += [
            f"  pandas app: not run: {pd_['reason']} (measured at 10 M: see README)",
            f"  {'leaderboard query alone, p50':<34} {q['leaderboard_people']['p50_ms']:>9,.0f} ms (Goodhart)",
            f"  {'weekly tokens by tool, p50':<34} {q['weekly_usage_by_tool']['p50_ms']:>9,.0f} ms (Goodhart)",
            f"  {'peak memory of the serving process':<34} {out['serving_peak_rss_mb']:>9,.0f} MB (Goodhart)",
            "",
            f"total {out['seconds']:.0f} s",
        ]
        return "\n".join(lines)
    lines += [
        f"  {'':<34} {'pandas':>12} {'Goodhart':>12} {'ratio':>7}",
        f"  {'load into memory, once':<34} {pd_['load_s'] * 1000:>10,.0f} ms {'–':>12}",
        f"  {'first leaderboard view (cold)':<34} {pd_['load_s'] * 1000 + pd_['leaderboard']['cold_ms']:>10,.0f} ms"
        f" {out['pages']['Leaderboards']['admin']['cold_ms']:>9,.0f} ms {r['first_view']:>6.1f}x",
        f"  {'leaderboard, p50 (ours: whole page)':<34} {pd_['leaderboard']['p50_ms']:>10,.0f} ms"
        f" {out['pages']['Leaderboards']['admin']['p50_ms']:>9,.0f} ms {r['leaderboard_p50']:>6.1f}x",
        f"  {'leaderboard query alone, p50':<34} {'':>12} {q['leaderboard_people']['p50_ms']:>9,.0f} ms",
        f"  {'weekly tokens by tool, p50':<34} {pd_['weekly_by_tool']['p50_ms']:>10,.0f} ms"
        f" {q['weekly_usage_by_tool']['p50_ms']:>9,.0f} ms {r['weekly_by_tool_p50']:>6.1f}x",
        f"  {'st.cache_data hit (unpickled copy)':<34} {pd_['cache_hit_ms']:>10,.0f} ms {'–':>12}"
        f"   (the cache holds {pd_['cache_mb']:,.0f} MB pickled; peak with it {pd_['peak_rss_with_cache_mb']:,.0f} MB)",
        f"  {'peak memory of the serving process':<34} {pd_['peak_rss_mb']:>10,.0f} MB"
        f" {out['serving_peak_rss_mb']:>9,.0f} MB {r['serving_peak_rss']:>6.1f}x",
        f"  (pandas: the frame and its aggregations, before any cache copy; the frame alone {pd_['frame_mb']:,.0f} MB)",
        "",
        f"total {out['seconds']:.0f} s",
    ]
    return "\n".join(lines)
