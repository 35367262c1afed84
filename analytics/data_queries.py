"""Questions the Data page asks: per-source completeness, rejected records, unattributed identities, loads."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from analytics.warehouse import sql_text

RAW_SHOWN = 200  # characters of a rejected record shown in the table; the CSV download has them whole
REJECTS_SHOWN = 1_000
REJECTS_EXPORTED = 100_000


def _frame(con: duckdb.DuckDBPyConnection, name: str, **params) -> pd.DataFrame:
    # A cursor per call: Streamlit sessions run in their own threads on one shared connection.
    cur = con.cursor()
    try:
        return cur.execute(sql_text(name), params or None).df()
    finally:
        cur.close()


def sources(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Columns: tool, grain (events | daily | outcomes only), rows_loaded, outcome_rows, first_day, last_day,
    days_with_data, gap_days, tokens, cost_usd, last_loaded_at."""
    return _frame(con, "q_data_sources")


def gaps(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Columns: tool, gap_start, gap_end, days — runs of days with no data inside each source's range."""
    return _frame(con, "q_data_gaps")


def reject_files(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Columns: file, tables, rejected, last_rejected_at."""
    return _frame(con, "q_data_reject_files")


def rejects(
    con: duckdb.DuckDBPyConnection,
    *,
    file: str | None = None,
    max_rows: int = REJECTS_SHOWN,
    raw_chars: int = RAW_SHOWN,
) -> pd.DataFrame:
    """Columns: rejected_at, file, table_name, line, reason, raw_record (cut to `raw_chars`); latest first."""
    return _frame(con, "q_data_rejects", file=file, max_rows=max_rows, raw_chars=raw_chars)


def unattributed(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Columns: identity, tools (comma-separated), tokens, cost_usd, requests, first_day, last_day."""
    return _frame(con, "q_data_unattributed")


def loads(con: duckdb.DuckDBPyConnection, *, max_rows: int = 50) -> pd.DataFrame:
    """Columns: finished_at, file, table_name, format, rows_read, inserted, updated, duplicates, rejected,
    message; latest first."""
    return _frame(con, "q_data_loads", max_rows=max_rows)


def last_load(con: duckdb.DuckDBPyConnection) -> int | None:
    """The latest load's batch id (None before any): part of cache keys, since a load that only rejects
    rows changes no data version."""
    value = _frame(con, "q_data_last_load")["last_batch"].iloc[0]
    return None if pd.isna(value) else int(value)


def describe_gaps(gap_rows: pd.DataFrame, *, most: int = 6) -> dict[str, str]:
    """Each tool's gaps as one short line, e.g. "3 Oct – 5 Oct (3 d), 11 Oct; and 4 more runs"."""
    described: dict[str, str] = {}
    for tool, runs in gap_rows.groupby("tool", sort=True):
        runs = runs.sort_values("gap_start")
        parts = [
            _run(pd.Timestamp(r.gap_start).date(), pd.Timestamp(r.gap_end).date(), int(r.days))
            for r in runs.head(most).itertuples()
        ]
        text = ", ".join(parts)
        if len(runs) > most:
            text += f"; and {len(runs) - most} more run(s)"
        described[str(tool)] = text
    return described


def _run(start: date, end: date, days: int) -> str:
    if days == 1:
        return f"{start:%d %b %Y}"
    return f"{start:%d %b} – {end:%d %b %Y} ({days} d)"


def days_since(day: date | pd.Timestamp | None, today: date) -> int | None:
    """Whole days from `day` to `today` (0 = data from today); None without a day."""
    if day is None or pd.isna(day):
        return None
    return (today - pd.Timestamp(day).date()).days
