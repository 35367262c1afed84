"""Rebuilds the staging views and marts that every page and command reads, in one transaction."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import duckdb

from analytics import detect, thresholds
from analytics.warehouse import WarehouseError, get_meta, set_meta, sql_text, transaction


def _detection(con: duckdb.DuckDBPyConnection) -> None:
    try:
        settings = thresholds.load()
    except ValueError as exc:
        raise WarehouseError(f"detection settings: {exc}") from None
    detect.run_and_persist(con, settings)


# Bumped whenever a mart's columns or meaning change; a database whose marts are older is refreshed by the
# next writer and refused (with the command to run) by readers, instead of failing on a missing column.
MARTS_VERSION = "4"  # 2: detection, suspect weeks, scheduled tokens, usage outside employment windows
# 3: mart_demand_day (daily tokens by tool, org and model, split genuine / suspected / automation) for forecasts
# 4: mart_person_week_tool (leaderboards, decoupling monitor)

# Order matters: each step reads the ones before it. A name is a file in analytics/sql/; a function is
# a step done in Python (detection, which marks suspect weeks in mart_person_week).
STEPS = (
    "dim_teams",
    "team_ancestors",
    "dim_people",
    "identity_lookup",
    "price_book",
    "stg_usage",
    "stg_outcomes",
    "mart_person_day_tool",
    "mart_person_week",
    _detection,
    "mart_person_week_tool",
    "mart_org_week",
    "mart_week_tool",
    "mart_demand_day",  # reads the suspect weeks detection set in mart_person_week
)


def refresh(con: duckdb.DuckDBPyConnection) -> float:
    """Recompute every mart from the loaded tables; readers see the old marts until it commits.

    Returns the seconds it took.
    """
    started = time.perf_counter()
    with transaction(con):
        for step in STEPS:
            if callable(step):
                step(con)
            else:
                con.execute(sql_text(step))
        set_meta(con, "data_version", datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ"))
        set_meta(con, "marts_version", MARTS_VERSION)
        last_batch = con.execute("SELECT COALESCE(max(batch_id), 0) FROM ingest_log").fetchone()[0]
        set_meta(con, "marts_batch", str(last_batch))  # the loads these marts include (see `behind`)
    return time.perf_counter() - started


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
