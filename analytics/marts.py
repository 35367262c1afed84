"""Builds the staging macros and marts that every page and command reads, in one transaction: whole, or only the
weeks the batches loaded since the last refresh touched.

How a refresh of some weeks stays equal to a whole rebuild:

- The marts read events through `stg_usage(lo, hi)` and `stg_outcomes(lo, hi)`, which return the rows of the local
  days [lo, hi]; each mart file is a query for the rows of some weeks (the two built from events, BY_WEEK, of some
  days), which a whole rebuild runs over every week and an incremental one runs for the changed weeks (and days)
  after deleting their old rows.
- The weeks come from the rows the new batches brought (every loaded row carries its batch), placed on each
  person's local calendar as the marts place them, plus any empty weeks between them and the data held (which
  still get headcount rows).
- Facts that span all history are checked, not assumed: when the people, teams, identities, prices or detection
  settings changed, the refresh is whole; when the set of tools that report outcomes changed, every week of the
  marts built on it is redone (from the daily mart, not the events).
- Detection re-reads only the changed weeks' events (and the neighbouring week where a new row lies within a
  day of it: sessions and gaps cross midnight), keeps what events tell per person and week
  (`det_event_week`, `det_partners`), and scores every week again; where that moves someone's suspect weeks,
  those weeks are redone in the marts that split tokens by suspicion.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from analytics import detect, lake, leaderboard, thresholds
from analytics.warehouse import (
    WarehouseError,
    get_meta,
    monday,
    set_meta,
    sql_text,
    timed,
    transaction,
    week_chunks,
    with_queries,
)

# Bumped whenever a mart's columns or meaning change; a database whose marts are older is refreshed by the
# next writer and refused (with the command to run) by readers, instead of failing on a missing column.
MARTS_VERSION = "13"  # 2: detection, suspect weeks, scheduled tokens, usage outside employment windows
# 3: mart_demand_day (daily tokens by tool, org and model, split genuine / suspected / automation) for forecasts
# 4: mart_person_week_tool (leaderboards, decoupling monitor)
# 5: refreshes by week: staging macros, int_usage_day_model, int_* outcome sources, stored event features
# 6: dim_people.role (the title without seniority words), read by the leaderboard query
# 7: mart_period_person_tool, mart_period_person_team, mart_identity_tool (SUMMARIES)
# 8: mart_period_board (the company's people board of the default period, ranked, with its peer standards);
#    mart_org_week_outcomes; mart_tool_day, mart_demand_org_day, mart_demand_scope (SUMMARIES), mart_source_rows
#    (the Data and Demand pages); det_evidence_day (evidence view by person and day); mart_suspects,
#    mart_suspect_teams, mart_period_automation (SUMMARIES for the Suspected inflation page); mart_period_person
#    (the org explorer's people of the default period, whole company)
# 9: mart_period_person holds the board's columns too (the org explorer's people and tree for the whole company,
#    read without joining the board per view), built after mart_period_board; local_clock (local time by a join
#    on quarter hours, not timezone() per event), read by stg_usage and detection
# 10: mart_team_tool (tokens per team and tool, SUMMARIES: the leaderboard's tool filter), mart_period_team (the
#    company board's sums per team, built after mart_period_board: the leaderboard's team board); dim_teams.path_order
# 11: mart_demand_mix (the company's model mix of its last 28 days, with prices: the Demand page's default prices
#     and model mix without summing mart_demand_day per view)
# 12: det_peer_people, det_evidence_peers (the gap chart's peers and their days, flat), det_shared_hashes;
#     mart_period_automation with each person's name and team
# 13: lockstep minutes are clock minutes (epoch_us // 60 s, the same in DuckDB and Spark), not epoch seconds / 60
#     rounded; det_evidence_day's person_hash is added when stored (the refresh can read events on Spark)

# Whole-history steps: small tables rebuilt on every whole refresh (files that create their table).
DIMENSIONS = (
    "dim_teams", "team_ancestors", "dim_people", "identity_lookup", "price_book", "local_clock", "stg_usage",
    "stg_outcomes",
)  # fmt: skip
# Week-grain marts (files that are a query for the weeks [$lo, $hi]), in order; detection runs between
# mart_person_week and mart_person_week_tool, whose suspected tokens it decides. The marts read from events
# (BY_WEEK) are by day and their files a query for the local days [$lo, $hi]: a refresh redoes only the days
# of the new rows, not their whole weeks (a day of events is a seventh of the reading).
BY_WEEK = ("int_usage_day_model", "mart_person_day_tool")
AFTER_DETECTION = ("mart_person_week_tool", "mart_week_tool", "mart_demand_day")
# The day column of marts whose rows are deleted by week without a week column.
_WEEK_OF = {"mart_demand_day": "CAST(date_trunc('week', day) AS DATE)"}
# Marts that detection's changed suspect weeks reach: by person and week, or by week.
_BY_PERSON_WEEK = {"mart_person_week_tool"}
_BY_SUSPECT_WEEK = {"mart_demand_day"}

EVERY_WEEK = (date(1000, 1, 6), date(9999, 12, 27))  # Mondays: a whole rebuild's [lo, hi]
# Small summaries rebuilt whole after the week-grain marts on every refresh (each well under a second at 100 M
# events), which pages read instead of summing a big mart on every view: the default period's sums per person
# (the last PERIOD_WEEKS weeks of data, the sidebar's default range), each identity's totals per tool, each
# top-level org's weeks of tokens and outcomes (0.16 s), the Data page's tokens per tool and day, the Demand
# page's per-scope sums, the Suspected inflation page's review queue, teams and the period's automation, and each
# team's tokens per tool (the leaderboard's tool filter); then the company's board of the period (_period_board) and
# its sums per team (mart_period_team), the org explorer's people of it (_period_person) and the rows loaded per
# tool (_source_rows).
SUMMARIES = (
    "mart_period_person_tool",
    "mart_period_person_team",
    "mart_identity_tool",
    "mart_org_week_outcomes",
    "mart_tool_day",
    "mart_demand_org_day",
    "mart_demand_scope",
    "mart_demand_mix",
    "mart_suspects",
    "mart_suspect_teams",
    "mart_period_automation",
    "mart_team_tool",
)
PERIOD_WEEKS = 13

# Loaded tables that change what every week means: any change to them makes the refresh whole.
WHOLE_HISTORY = ("people", "teams", "identity_map", "prices")


@dataclass(frozen=True)
class Plan:
    """What a refresh recomputes: every week, or the Mondays [lo, hi]."""

    whole: bool
    lo: date = EVERY_WEEK[0]
    hi: date = EVERY_WEEK[1]
    reason: str = ""
    first: date | None = None  # the first and last day of the new rows
    last: date | None = None


ENGINES = ("duckdb", "spark")


def refresh(
    con: duckdb.DuckDBPyConnection, *, whole: bool = False, engine: str = "duckdb", lake_dir: str | Path | None = None
) -> float:
    """Bring the marts up to the loaded tables; readers see the old marts until it commits.

    Incremental when the marts are current and only events, daily rows and outcomes arrived since; `whole`
    rebuilds everything. `lake_dir`: the events are read from that Parquet lake (analytics/lake.py) instead of
    the usage_events table, always whole; `engine` "spark" runs the steps that read events on Apache Spark
    (analytics/spark_engine.py) and needs a lake. Returns the seconds it took (`last_refresh` in meta says which
    it was and why; `lake_events` how many events a lake held).
    """
    started = time.perf_counter()
    if engine not in ENGINES:
        raise WarehouseError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    if engine == "spark" and lake_dir is None:
        raise WarehouseError("the Spark engine reads events from a Parquet lake: give --lake DIR")
    try:
        settings = thresholds.load()
    except ValueError as exc:
        raise WarehouseError(f"detection settings: {exc}") from None
    LAST_STEPS.clear()
    events = None
    if lake_dir is not None:
        if engine == "duckdb":
            lake.files(lake_dir)  # a remote lake is Spark's to read
        lake.check(con, lake_dir)  # a missing, empty or wrong lake fails before anything starts
        if engine == "spark":
            try:  # PySpark and sqlglot are optional (requirements-spark.txt): imported when used
                from analytics import spark_engine
            except ImportError as exc:
                raise WarehouseError(
                    f"the Spark engine needs {exc.name}: pip install -r requirements-spark.txt (and Java 17+)"
                ) from None

            events = spark_engine.Engine(lake_dir)
    with transaction(con):
        if lake_dir is not None:
            plan = Plan(True, reason=f"events from the lake {lake_dir} on {engine}")
            held = _lake_rebuild(con, settings, lake_dir, events)
        else:
            plan = Plan(True, reason="asked for") if whole else plan_refresh(con, settings)
            if plan.whole:
                _rebuild(con, settings)
            elif plan.lo <= plan.hi:
                _update(con, plan, settings)
        set_meta(con, "data_version", datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ"))
        set_meta(con, "marts_version", MARTS_VERSION)
        last_batch = con.execute("SELECT COALESCE(max(batch_id), 0) FROM ingest_log").fetchone()[0]
        set_meta(con, "marts_batch", str(last_batch))  # the loads these marts include (see `behind`)
        # marts built from a lake: the next refresh without it is whole (its events are the database's)
        lake_mark = f"; lake {lake_dir if lake.is_remote(lake_dir) else Path(lake_dir).resolve()}" if lake_dir else ""
        set_meta(con, "marts_inputs", _inputs_signature(con, settings) + lake_mark)
        set_meta(con, "lake_events", str(held) if lake_dir is not None else "0")
        kind = "whole" if plan.whole else ("nothing new" if plan.lo > plan.hi else f"weeks {plan.lo} to {plan.hi}")
        set_meta(con, "last_refresh", f"{kind}{f' ({plan.reason})' if plan.reason else ''}")
    return time.perf_counter() - started


def last_refresh(con: duckdb.DuckDBPyConnection) -> str | None:
    """What the last refresh recomputed: "whole (why)", "weeks A to B" or "nothing new"."""
    return get_meta(con, "last_refresh")


def plan_refresh(con: duckdb.DuckDBPyConnection, settings: thresholds.Thresholds) -> Plan:
    """Whole, or the weeks the rows loaded since the last refresh fall in (lo > hi: nothing to do)."""
    if not is_built(con) or not is_current(con) or not detect.has_event_features(con):
        return Plan(True, reason="marts missing or built by another version")
    done = get_meta(con, "marts_batch")
    if done is None or get_meta(con, "marts_inputs") != _inputs_signature(con, settings):
        return Plan(True, reason="people, teams, identities, prices or detection settings changed")
    first, last, held_first, held_last = con.execute(sql_text("q_changed_weeks"), {"batch": int(done)}).fetchone()
    if first is None:
        return Plan(False, EVERY_WEEK[1], EVERY_WEEK[0])  # nothing new: lo > hi
    lo, hi = monday(first), monday(last)
    # weeks with no rows between the data held and the new rows still get their headcount rows
    if held_last is not None and hi > monday(held_last):
        lo = min(lo, monday(held_last) + timedelta(days=7))
    if held_first is not None and lo < monday(held_first):
        hi = max(hi, monday(held_first) - timedelta(days=7))
    return Plan(False, lo, hi, first=first, last=last)


def _inputs_signature(con: duckdb.DuckDBPyConnection, settings: thresholds.Thresholds) -> str:
    """The whole-history inputs, as one string: a change to any of them makes the next refresh whole."""
    parts = [f"marts {MARTS_VERSION}", repr(settings)]
    for table in WHOLE_HISTORY:
        count, digest = con.execute(
            f"SELECT count(*), COALESCE(sum(hash(t)), 0) FROM (SELECT * EXCLUDE (batch_id) FROM {table}) t"
            if table in ("people", "teams")
            else f"SELECT count(*), COALESCE(sum(hash(t)), 0) FROM {table} t"
        ).fetchone()
        parts.append(f"{table} {count} {digest}")
    return "; ".join(parts)


def _lake_rebuild(con: duckdb.DuckDBPyConnection, settings: thresholds.Thresholds, lake_dir: str | Path, events) -> int:
    """A whole rebuild with the events from a lake: read by DuckDB (usage_events a view over the lake for this
    refresh), or by Spark (`events`, a spark_engine.Engine). mart_source_rows counts the lake's events. Returns
    how many events the lake holds."""
    if events is None:
        held = lake.open_events(con, lake_dir)
        try:
            _rebuild(con, settings)
            counts = con.sql(sql_text("lake_event_rows")).to_arrow_table()
        finally:
            lake.close_events(con)
    else:
        try:
            _rebuild(con, settings, events)
            held, counts = events.events, events.counts()
        finally:
            events.stop()
    con.execute("DELETE FROM mart_source_rows WHERE source = 'usage_events'")
    con.register("_lake_counts", counts)
    try:
        con.execute("INSERT INTO mart_source_rows BY NAME SELECT * FROM _lake_counts")
    finally:
        con.unregister("_lake_counts")
    return held


def _rebuild(con: duckdb.DuckDBPyConnection, settings: thresholds.Thresholds, events=None) -> None:
    """Every mart and signal from all loaded rows. `events`: another engine reads the events (a
    spark_engine.Engine, started once the dimensions it reads are built)."""
    con.execute("DROP VIEW IF EXISTS stg_usage")  # views before marts version 5
    con.execute("DROP VIEW IF EXISTS stg_outcomes")
    for step in DIMENSIONS:
        con.execute(sql_text(step))
    lo, hi = EVERY_WEEK
    con.execute("CREATE OR REPLACE TEMP TABLE _flipped (user_id VARCHAR, week DATE)")  # none in a rebuild
    with _step("marts from events"):
        if events is not None:
            events.start(con)
            for mart in BY_WEEK:  # every day at once; the rows are stored ordered as the definition orders them
                events.mart(con, mart, lo, hi, create=lambda con, mart: _create(con, mart, hi, lo))
        else:
            first, last = _loaded_weeks(con)
            for mart in BY_WEEK:  # a few weeks of events at a time, in order (so each table stays ordered by day)
                _create(con, mart, hi, lo)  # an empty range: the table with its columns and no rows
                for chunk_lo, chunk_hi in week_chunks(first, last):
                    _insert(con, mart, chunk_lo, chunk_hi + timedelta(days=6))
    with _step("marts by person and week"):
        con.execute(sql_text("int_outcome_sources"))
        _create(con, "mart_person_week", lo, hi)
    with _step("detection"):
        detect.run_and_persist(con, settings, events=None if events is None else events.features)
    with _step("marts after detection"):
        for mart in AFTER_DETECTION:
            _create(con, mart, lo, hi)
        con.execute(sql_text("mart_org_week"))
        _summaries(con)


# The week-grain marts: each a file in analytics/sql/ holding the query for the weeks [$lo, $hi]. Statements
# name them from this set only; the weeks are always bound as parameters.
WEEK_GRAIN = frozenset({*BY_WEEK, "mart_person_week", *AFTER_DETECTION})


def _definition(mart: str) -> str:
    if mart not in WEEK_GRAIN:
        raise ValueError(f"{mart} is not a week-grain mart")
    return sql_text(mart)


def _create(con: duckdb.DuckDBPyConnection, mart: str, lo: date, hi: date) -> None:
    """The mart as its rows of the weeks [lo, hi] (none when lo > hi), replacing the table."""
    con.execute(f"CREATE OR REPLACE TABLE {mart} AS SELECT * FROM ({_definition(mart)})", {"lo": lo, "hi": hi})


def _insert(con: duckdb.DuckDBPyConnection, mart: str, lo: date, hi: date) -> None:
    con.execute(f"INSERT INTO {mart} BY NAME {_definition(mart)}", {"lo": lo, "hi": hi})


# Seconds the last refresh in this process spent per step (the benchmark reports them).
LAST_STEPS: dict[str, float] = {}


def _step(name: str) -> AbstractContextManager[None]:
    return timed(LAST_STEPS, name)


def _loaded_weeks(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """The first and last Monday any loaded row can fall in, on anyone's local calendar (a day either side of
    UTC); (EVERY_WEEK[1], EVERY_WEEK[0]), an empty range, when nothing is loaded."""
    row = con.execute(
        "SELECT (SELECT min(ts) FROM usage_events), (SELECT max(ts) FROM usage_events), "
        "(SELECT min(ts) FROM outcomes), (SELECT max(ts) FROM outcomes), "
        "(SELECT min(day) FROM usage_daily), (SELECT max(day) FROM usage_daily)"
    ).fetchone()
    firsts = [v.date() if isinstance(v, datetime) else v for v in row[0::2] if v is not None]
    lasts = [v.date() if isinstance(v, datetime) else v for v in row[1::2] if v is not None]
    if not firsts:
        return EVERY_WEEK[1], EVERY_WEEK[0]
    day = timedelta(days=1)
    return monday(min(firsts) - day), monday(max(lasts) + day)


def _update(con: duckdb.DuckDBPyConnection, plan: Plan, settings: thresholds.Thresholds) -> None:
    lo, hi = plan.lo, plan.hi
    before = _outcome_sources(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _suspect_before AS SELECT user_id, week FROM mart_person_week WHERE is_suspected"
    )
    with _step("marts from events"):
        for mart in BY_WEEK:
            # the local days of the new rows (gap weeks between them and the data held have no rows here)
            for chunk_lo, chunk_hi in week_chunks(lo, hi):
                first, last = max(plan.first, chunk_lo), min(plan.last, chunk_hi + timedelta(days=6))
                if first <= last:
                    con.execute(f"DELETE FROM {mart} WHERE day BETWEEN ? AND ?", [first, last])
                    _insert(con, mart, first, last)
    con.execute(sql_text("int_outcome_sources"))
    if _outcome_sources(con) != before:
        # which use can be judged by outcomes changed: every week of the marts built on it (not the events)
        lo_all, hi_all = EVERY_WEEK
        _create(con, "mart_person_week", lo_all, hi_all)
        marts_lo, marts_hi = lo_all, hi_all
    else:
        _replace_weeks(con, "mart_person_week", lo, hi)
        marts_lo, marts_hi = lo, hi
    # a day either side: a session, gap or lockstep minute can cross into the neighbouring week
    day = timedelta(days=1)
    with _step("detection"):
        detect.run_and_persist(
            con,
            settings,
            weeks=(min(lo, monday(plan.first - day)), max(hi, monday(plan.last + day))),
            rescore_all=(marts_lo, marts_hi) == EVERY_WEEK,
        )
    # person weeks whose suspicion the new scores changed, outside the weeks redone anyway
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _flipped AS "
        "SELECT user_id, week FROM ((SELECT user_id, week FROM _suspect_before "
        "EXCEPT SELECT user_id, week FROM mart_person_week WHERE is_suspected) "
        "UNION (SELECT user_id, week FROM mart_person_week WHERE is_suspected "
        "EXCEPT SELECT user_id, week FROM _suspect_before)) WHERE week NOT BETWEEN ? AND ?",
        [marts_lo, marts_hi],
    )
    with _step("marts after detection"):
        for mart in AFTER_DETECTION:
            _replace_weeks(con, mart, marts_lo, marts_hi)
        con.execute(sql_text("mart_org_week"))
        _summaries(con)
    con.execute("DROP TABLE IF EXISTS _suspect_before")


def _summaries(con: duckdb.DuckDBPyConnection) -> None:
    for mart in SUMMARIES:
        text = sql_text(mart)
        con.execute(text, {"weeks": PERIOD_WEEKS} if "$weeks" in text else None)
    _period_board(con)
    con.execute(sql_text("mart_period_team"))
    _period_person(con)
    _source_rows(con)


# What q_leaderboard_people reads of mart_period_board when the board is not built yet (its peer standards,
# in a branch a build never takes): the table it creates must exist for the query to bind.
_BOARD_STANDARDS = (
    "CREATE OR REPLACE TABLE mart_period_board (user_id VARCHAR, main_tool VARCHAR, outcome_units DOUBLE, "
    "yield_per_m DOUBLE, peer_yield_per_m DOUBLE, peer_group VARCHAR)"
)


def _period_board(con: duckdb.DuckDBPyConnection) -> None:
    """mart_period_board: q_leaderboard_people over the default period (mart_period_person_tool), the whole
    company and every tool, computing its peer standards, then ranked (analytics/sql/mart_period_board.sql)."""
    if not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'mart_period_board'").fetchone():
        con.execute(_BOARD_STANDARDS)
    people = sql_text("q_leaderboard_people").strip().rstrip(";")
    params = {
        **leaderboard.query_params(EVERY_WEEK[0], EVERY_WEEK[1], None, None),
        "stored": True, "board": False, "scope_all": True, "scope_teams": [],
    }  # fmt: skip
    con.execute(
        f"CREATE OR REPLACE TABLE mart_period_board AS WITH people AS ({people}) {sql_text('mart_period_board')}",
        {k: v for k, v in params.items() if f"${k}" in people},
    )


def _period_person(con: duckdb.DuckDBPyConnection) -> None:
    """mart_period_person: the org explorer's people of the default period for the whole company, q_org_board_people
    over q_org_people (the period as mart_period_person_team sums it) and the board mart_period_board, numbered in
    their order (analytics/sql/mart_period_person.sql)."""
    people = {"board": "q_period_board", "placed": "q_org_people", "people": "q_org_board_people"}
    text = with_queries(people, "mart_period_person")
    params = {"start": EVERY_WEEK[0], "end": EVERY_WEEK[1], "subtree": None, "stored": True, "scope_all": True,
              "scope_teams": []}  # fmt: skip
    con.execute(
        f"CREATE OR REPLACE TABLE mart_period_person AS {text}", {k: v for k, v in params.items() if f"${k}" in text}
    )


# The loaded tables whose rows the Data page counts per tool (mart_source_rows); names for statements.
SOURCE_TABLES = ("usage_events", "usage_daily", "outcomes")


def _source_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Keep mart_source_rows by adding the rows of the loads since the last count (meta source_rows_batch), a few
    rows read instead of every event. A table whose counted rows then differ from its rows (a load replaced some:
    re-sent daily rows replace the ones loaded before), or that was never counted, is counted whole."""
    since = get_meta(con, "source_rows_batch")
    held = con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE table_name = 'mart_source_rows' AND NOT temporary"
    ).fetchone()
    if since is None or not held:
        con.execute(sql_text("mart_source_rows"))
    else:
        con.execute(sql_text("mart_source_rows_add"), {"since": int(since)})
    for (source,) in con.execute(sql_text("source_rows_check")).fetchall():
        table = SOURCE_TABLES[SOURCE_TABLES.index(source)]
        con.execute("DELETE FROM mart_source_rows WHERE source = ?", [table])
        con.execute(
            f"INSERT INTO mart_source_rows SELECT ?, tool, count(*), max(batch_id) FROM {table} GROUP BY tool", [table]
        )
    last = con.execute("SELECT COALESCE(max(batch_id), 0) FROM ingest_log").fetchone()[0]
    set_meta(con, "source_rows_batch", str(last))


def _replace_weeks(con: duckdb.DuckDBPyConnection, mart: str, lo: date, hi: date) -> None:
    """Delete the mart's rows of the weeks [lo, hi] (and of the suspect weeks that moved) and insert them anew."""
    week = _WEEK_OF.get(mart, "week")
    if mart in _BY_PERSON_WEEK:
        extra = f" OR EXISTS (SELECT 1 FROM _flipped f WHERE f.user_id = {mart}.user_id AND f.week = {mart}.week)"
    elif mart in _BY_SUSPECT_WEEK:
        extra = f" OR {week} IN (SELECT week FROM _flipped)"
    else:
        extra = ""
    _definition(mart)  # a known mart: its name goes into the statement below
    con.execute(f"DELETE FROM {mart} WHERE {week} BETWEEN $lo AND $hi{extra}", {"lo": lo, "hi": hi})
    _insert(con, mart, lo, hi)


def _outcome_sources(con: duckdb.DuckDBPyConnection) -> tuple:
    return con.execute(
        "SELECT (SELECT list((tool, person_level) ORDER BY tool) FROM int_reporting_tools), "
        "(SELECT count(*) FROM int_person_level), (SELECT COALESCE(sum(hash(user_id)), 0) FROM int_person_level)"
    ).fetchone()


def behind(con: duckdb.DuckDBPyConnection) -> bool:
    """A load committed after the marts were last refreshed: a writer was killed between the two."""
    row = con.execute(
        "SELECT count(*) FROM ingest_log WHERE (inserted > 0 OR updated > 0) "
        "AND batch_id > (SELECT TRY_CAST(value AS BIGINT) FROM meta WHERE key = 'marts_batch')"
    ).fetchone()
    return bool(row[0])


def is_built(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE table_name = 'mart_person_day_tool' AND NOT temporary"
        ).fetchone()
    )


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """The marts were built by this version of Goodhart."""
    return get_meta(con, "marts_version") == MARTS_VERSION
