"""The Data and Demand pages read what the refresh keeps (mart_source_rows, mart_tool_day, mart_demand_org_day,
mart_demand_scope) and answer exactly as counting the loaded rows and summing the marts on every view did: on the
demo, after a batch of new events and outcomes, and after a reload that replaces daily rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics import data_queries, demo, ingest, marts
from analytics.queries import Warehouse
from analytics.warehouse import connect, connect_read_only, get_meta, sql_text

# The questions as they were asked of the loaded tables and the big marts before the stored tables
LIVE = {
    "q_data_sources": """
        WITH loaded AS (
            SELECT tool, count(*) AS rows_loaded, max(batch_id) AS last_batch FROM usage_events GROUP BY tool
            UNION ALL
            SELECT tool, count(*), max(batch_id) FROM usage_daily GROUP BY tool
        ), credited AS (
            SELECT COALESCE(tool, '(no tool)') AS tool, count(*) AS outcome_rows, max(batch_id) AS last_batch
            FROM outcomes GROUP BY ALL
        ), covered AS (
            SELECT COALESCE(tool, '(no tool)') AS tool, min(day) AS first_day, max(day) AS last_day,
                   count(DISTINCT day) AS days_with_data, CAST(sum(tokens) AS BIGINT) AS tokens,
                   sum(cost_usd) AS cost_usd
            FROM mart_person_day_tool GROUP BY ALL
        ), finished AS (
            SELECT batch_id, max(finished_at) AS finished_at FROM ingest_log GROUP BY batch_id
        )
        SELECT c.tool,
               CASE s.grain WHEN 'usage_events' THEN 'events' WHEN 'usage_daily' THEN 'daily'
                            ELSE 'outcomes only' END AS grain,
               COALESCE(l.rows_loaded, 0) AS rows_loaded, COALESCE(o.outcome_rows, 0) AS outcome_rows,
               c.first_day, c.last_day, c.days_with_data,
               CAST(c.last_day - c.first_day + 1 - c.days_with_data AS BIGINT) AS gap_days,
               c.tokens, c.cost_usd, f.finished_at AS last_loaded_at
        FROM covered c
        LEFT JOIN tool_sources s ON s.tool = c.tool
        LEFT JOIN loaded l ON l.tool = c.tool
        LEFT JOIN credited o ON o.tool = c.tool
        LEFT JOIN finished f ON f.batch_id = greatest(l.last_batch, o.last_batch)
        ORDER BY c.tokens DESC, c.tool""",
    "q_data_gaps": """
        WITH days AS (
            SELECT DISTINCT COALESCE(tool, '(no tool)') AS tool, day FROM mart_person_day_tool
        ), calendar AS (
            SELECT tool, CAST(unnest(generate_series(CAST(min(day) AS TIMESTAMP), CAST(max(day) AS TIMESTAMP),
                                                     INTERVAL 1 DAY)) AS DATE) AS day
            FROM days GROUP BY tool
        ), missing AS (
            SELECT c.tool, c.day FROM calendar c ANTI JOIN days d ON d.tool = c.tool AND d.day = c.day
        )
        SELECT tool, min(day) AS gap_start, max(day) AS gap_end, count(*) AS days
        FROM (SELECT tool, day,
                     day - CAST(row_number() OVER (PARTITION BY tool ORDER BY day) AS INTEGER) AS run FROM missing)
        GROUP BY tool, run
        ORDER BY tool, gap_start""",
    "q_demand_day": """
        SELECT day, tool, org_id, any_value(org_name) AS org_name,
               CAST(sum(tokens) AS BIGINT) AS tokens, CAST(sum(genuine_tokens) AS BIGINT) AS genuine_tokens,
               CAST(sum(suspected_tokens) AS BIGINT) AS suspected_tokens,
               CAST(sum(automation_tokens) AS BIGINT) AS automation_tokens,
               CAST(sum(input_tokens) AS BIGINT) AS input_tokens, CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
               CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
               CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens,
               sum(cost_usd) AS cost_usd
        FROM mart_demand_day
        GROUP BY day, tool, org_id
        ORDER BY day, tool, org_id""",
    "q_demand_tools": """
        WITH last AS (SELECT max(last_day) AS d FROM mart_identity_tool)
        SELECT tool,
               count(DISTINCT user_id) FILTER (WHERE is_attributed AND last_active_day > last.d - 28) AS people,
               count(DISTINCT user_id) FILTER (WHERE is_attributed AND last_active_day IS NOT NULL) AS people_ever
        FROM mart_identity_tool, last
        WHERE tool IS NOT NULL
        GROUP BY tool
        ORDER BY tool""",
    "q_demand_orgs": """
        WITH last AS (
            SELECT max(last_day) AS d FROM mart_identity_tool
        ), users AS (
            SELECT p.org_id, count(DISTINCT t.user_id) FILTER (WHERE t.last_active_day > last.d - 28) AS headcount,
                   count(DISTINCT t.user_id) AS people_ever
            FROM mart_identity_tool t JOIN dim_people p USING (user_id), last
            WHERE t.is_attributed AND t.last_active_day IS NOT NULL
            GROUP BY p.org_id
        ), orgs AS (
            SELECT org_id, any_value(org_name) AS org_name FROM dim_people GROUP BY org_id
        )
        SELECT o.org_id, o.org_name, COALESCE(u.headcount, 0) AS headcount, COALESCE(u.people_ever, 0) AS people_ever
        FROM orgs o LEFT JOIN users u USING (org_id)
        ORDER BY o.org_name""",
}
KEYS = {
    "q_data_sources": ["tool", "grain"],
    "q_data_gaps": ["tool", "gap_start"],
    "q_demand_day": ["day", "tool", "org_id"],
    "q_demand_tools": ["tool"],
    "q_demand_orgs": ["org_id"],
}
# q_demand_prices' active users as they were counted from the person-days, for any scope
LIVE_ACTIVE_USERS = """
    WITH last AS (
        SELECT max(day) AS d FROM mart_demand_day
        WHERE ($tool IS NULL OR tool = $tool) AND ($org_id IS NULL OR org_id = $org_id)
    )
    SELECT count(DISTINCT t.user_id) AS active_users
    FROM mart_person_day_tool t LEFT JOIN dim_people p USING (user_id), last
    WHERE t.is_attributed AND t.tokens > 0 AND t.day > last.d - 28
      AND ($tool IS NULL OR t.tool = $tool) AND ($org_id IS NULL OR p.org_id = $org_id)"""


def _same(got: pd.DataFrame, want: pd.DataFrame, key: list[str], label: str = "") -> None:
    assert list(got.columns) == list(want.columns), label
    assert len(got) == len(want), f"{label}: {len(got)} rows, live {len(want)}"
    got = got.sort_values(key, ignore_index=True)
    want = want.sort_values(key, ignore_index=True)
    for column in want.columns:
        a, e = got[column], want[column]
        assert a.dtype == e.dtype, f"{label}.{column}: {a.dtype}, live {e.dtype}"
        if pd.api.types.is_float_dtype(e):
            np.testing.assert_allclose(a, e, rtol=1e-9, err_msg=f"{label}.{column}")
        else:
            assert a.astype(str).tolist() == e.astype(str).tolist(), f"{label}.{column} differs"


def _assert_as_live(con: duckdb.DuckDBPyConnection) -> None:
    """Every stored answer of both pages equals the live one on this database."""
    wh = Warehouse(con)
    for name, live in LIVE.items():
        _same(wh._frame(name), con.execute(live).df(), KEYS[name], name)
    # the demand rows in the live query's order too (q_demand_day reads the stored order, without sorting)
    pd.testing.assert_frame_equal(wh.demand_days(), con.execute(LIVE["q_demand_day"]).df(), check_exact=True)
    # the company's model mix (mart_demand_mix) as summed from mart_demand_day, rows in the same order
    live_mix = con.execute(sql_text("q_demand_model_mix"), {"tool": None, "org_id": None}).df()
    got_mix = wh.demand_model_mix(None, None)
    assert got_mix["model"].tolist() == live_mix["model"].tolist()
    _same(got_mix, live_mix, ["model"], "q_demand_model_mix")
    assert data_queries.sources(con).columns.tolist() == con.execute(LIVE["q_data_sources"]).df().columns.tolist()
    # the active users of every scope the Demand page offers, and of scopes it does not (counted live)
    tools = [None, *wh.demand_tools()["tool"], "no-such-tool"]
    orgs = [None, *wh.demand_orgs()["org_id"], "(unattributed)", "no-such-org"]
    scopes = [(t, None) for t in tools] + [(None, o) for o in orgs[1:]] + [(tools[1], orgs[1]), (tools[1], orgs[2])]
    for tool, org_id in scopes:
        got = wh.demand_prices(tool, org_id)
        want = con.execute(LIVE_ACTIVE_USERS, {"tool": tool, "org_id": org_id}).fetchone()[0]
        assert got["active_users"] == want, (tool, org_id)
        stored = wh._row("q_demand_prices", tool=tool, org_id=org_id, stored=False)
        assert got["active_users"] == stored["active_users"], (tool, org_id)
        assert got.keys() == stored.keys()
        for key in ("input", "output", "cache_read", "cache_write", "models"):
            assert (got[key] is None and pd.isna(stored[key])) or got[key] == pytest.approx(stored[key], rel=1e-12)


def test_the_demo_pages_answer_as_the_live_queries(demo_db):
    con = connect_read_only(demo_db)
    try:
        assert Warehouse(con).demand_prices()["active_users"] > 0
        assert len(data_queries.gaps(con)) and len(data_queries.sources(con)) > 1
        _assert_as_live(con)
    finally:
        con.close()


END = date(2026, 11, 20)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stored") / "demo"
    demo.generate(out, users=60, days=42, seed=5, end=END)
    return out


def _part(files: Path, tmp: Path, table: str, name: str, where: str, change: str = "") -> Path:
    """Rows of one generated table as a file of their own (`where` on its columns; `change`: columns replaced)."""
    target = tmp / name / f"{table}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    select = f"* REPLACE ({change})" if change else "*"
    duckdb.execute(
        f"COPY (SELECT {select} FROM read_parquet('{files / f'{table}.parquet'}') WHERE {where}) "
        f"TO '{target}' (FORMAT parquet)"
    ).fetchall()  # completes the statement, so the shared default connection is free for the next test
    return target


def _load(con, paths: list[Path]) -> ingest.IngestSummary:
    summary = ingest.ingest(con, paths)  # loads, then refreshes the marts
    assert not summary.failed, summary.failed
    return summary


def _counted(con) -> pd.DataFrame:
    return con.execute("SELECT * FROM mart_source_rows ORDER BY ALL").df()


def _counted_live(con) -> pd.DataFrame:
    return con.execute(
        " UNION ALL ".join(
            f"SELECT '{t}' AS source, tool, count(*) AS rows_loaded, max(batch_id) AS last_batch FROM {t} GROUP BY tool"
            for t in marts.SOURCE_TABLES
        )
        + " ORDER BY ALL"
    ).df()


@pytest.fixture
def steps(monkeypatch) -> list[str]:
    """The names of the statements _source_rows runs, in order."""
    seen: list[str] = []

    def recording(name: str) -> str:
        seen.append(name)
        return sql_text(name)

    monkeypatch.setattr(marts, "sql_text", recording)
    return seen


def test_batches_are_added_and_a_reload_that_replaces_rows_is_counted_again(files, tmp_path, steps):
    con = connect(tmp_path / "w.duckdb")
    cutoff = "ts < TIMESTAMP '2026-11-12 00:00:00'"
    _load(con, [files / "teams.parquet", files / "people.parquet"])
    _load(
        con,
        [
            _part(files, tmp_path, "usage_events", "b1", cutoff),
            _part(files, tmp_path, "outcomes", "b1", cutoff),
            _part(files, tmp_path, "usage_daily", "b1", "day < DATE '2026-11-12'"),
        ],
    )
    _same(_counted(con), _counted_live(con), ["source", "tool"], "first load")
    _assert_as_live(con)

    # a batch of new events, outcomes and daily rows: only their rows are counted
    steps.clear()
    _load(
        con,
        [
            _part(files, tmp_path, "usage_events", "b2", f"NOT ({cutoff})"),
            _part(files, tmp_path, "outcomes", "b2", f"NOT ({cutoff})"),
            _part(files, tmp_path, "usage_daily", "b2", "day >= DATE '2026-11-12'"),
        ],
    )
    assert marts.last_refresh(con).startswith("weeks ")
    assert "mart_source_rows_add" in steps and "mart_source_rows" not in steps
    assert get_meta(con, "source_rows_batch") == str(con.execute("SELECT max(batch_id) FROM ingest_log").fetchone()[0])
    _same(_counted(con), _counted_live(con), ["source", "tool"], "after a batch")
    _assert_as_live(con)

    # the same files again: duplicates only, nothing changes
    _load(con, [_part(files, tmp_path, "usage_events", "b2", f"NOT ({cutoff})")])
    _same(_counted(con), _counted_live(con), ["source", "tool"], "after duplicates")

    # daily rows re-sent with other values, overlapping the ones loaded, plus new ones: the old rows are replaced
    overlap = "day BETWEEN DATE '2026-11-05' AND DATE '2026-11-15'"
    summary = _load(con, [_part(files, tmp_path, "usage_daily", "b3", overlap, "input_tokens + 7 AS input_tokens")])
    assert sum(r.updated for r in summary.results) > 0
    _same(_counted(con), _counted_live(con), ["source", "tool"], "after a reload")
    replaced = con.execute("SELECT max(batch_id) FROM usage_daily").fetchone()[0]
    assert con.execute("SELECT max(last_batch) FROM mart_source_rows WHERE source = 'usage_daily'").fetchone()[0] == (
        replaced
    )
    _assert_as_live(con)

    # the table gone (an older database): counted whole again
    con.execute("DROP TABLE mart_source_rows")
    marts.refresh(con, whole=True)
    _same(_counted(con), _counted_live(con), ["source", "tool"], "recounted")
    con.close()
