"""The Parquet event lake: usage events as Parquet files under one folder per UTC day (`day=YYYY-MM-DD/`), the
layout Spark, DuckDB and most lake tools read and write (hive partitioning).

Each file holds usage_events' columns (analytics/warehouse.py, CONTRACT.md section 1) except batch_id, which
may be left out; the `day` of the folder is the UTC date of `ts`. A refresh with `--lake DIR` reads the events
from here instead of the database's usage_events table (which may then be empty); the people, teams,
identities, prices, daily rows and outcomes still come from the database, and the marts and signals are
written to it as always.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from analytics.warehouse import WarehouseError

# usage_events' columns, which every lake file must hold (batch_id may be missing: then NULL).
COLUMNS = (
    "event_id", "ts", "user_id", "tool", "model", "session_id", "prompt_id", "initiated_by", "input_tokens",
    "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd", "prompt_chars", "prompt_fingerprint",
)  # fmt: skip
OPTIONAL = ("batch_id",)


def _literal(path: Path) -> str:
    """A path as a SQL string literal (DuckDB's table functions here take no bound parameters)."""
    return "'" + str(path).replace("'", "''") + "'"


def is_remote(lake: str | Path) -> bool:
    """A lake named by a URI (s3a://, hdfs://, abfss://, gs://): only Spark reads it, and nothing checks it here."""
    return "://" in str(lake)


def files(lake: str | Path) -> str:
    """The glob of every Parquet file of the lake, as a SQL literal; a clear error when there are none."""
    if is_remote(lake):
        raise WarehouseError(f"DuckDB reads a lake on this machine's file system, not {lake}: use --engine spark")
    lake = Path(lake)
    if not lake.is_dir():
        raise WarehouseError(f"no event lake at {lake}: expected a folder of day=YYYY-MM-DD/ Parquet folders")
    if not any(lake.glob("day=*/*.parquet")):
        raise WarehouseError(f"the event lake {lake} holds no day=YYYY-MM-DD/*.parquet files")
    return _literal(lake.resolve() / "day=*" / "*.parquet")


def _source(lake: str | Path) -> str:
    return f"read_parquet({files(lake)}, hive_partitioning = true, union_by_name = true)"


def check(con: duckdb.DuckDBPyConnection, lake: str | Path) -> set[str]:
    """The columns of a lake on this machine, after checking it has files and usage_events' columns: a clear
    error before any refresh work starts. A remote lake (a URI) is Spark's to check."""
    if is_remote(lake):
        return set()
    try:
        held = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {_source(lake)}").fetchall()}
    except duckdb.Error as exc:
        raise WarehouseError(f"the event lake {lake} cannot be read: {str(exc).splitlines()[0]}") from None
    missing = [c for c in COLUMNS if c not in held]
    if missing:
        raise WarehouseError(f"the event lake {lake} lacks usage_events columns: {', '.join(missing)}")
    return held


def open_events(con: duckdb.DuckDBPyConnection, lake: str | Path) -> int:
    """Make `usage_events` read the lake for this connection (a temporary view, which DuckDB finds before the
    database's table of that name) and return how many events it holds. The view has usage_events' columns."""
    held = check(con, lake)
    source = _source(lake)
    batch = "CAST(batch_id AS BIGINT)" if "batch_id" in held else "CAST(NULL AS BIGINT)"
    columns = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in schema(con).items() if c in COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP VIEW usage_events AS SELECT {columns}, {batch} AS batch_id FROM {source}")
    return con.execute("SELECT count(*) FROM usage_events").fetchone()[0]


def close_events(con: duckdb.DuckDBPyConnection) -> None:
    """usage_events is the database's table again."""
    con.execute("DROP VIEW IF EXISTS temp.usage_events")


def schema(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """usage_events' columns and DuckDB types, from the database's table."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE table_name = 'usage_events' AND schema_name = 'main' ORDER BY column_index"
    ).fetchall()
    return dict(rows)


def export(con: duckdb.DuckDBPyConnection, lake: Path) -> int:
    """Write the database's events to a lake folder, one folder per UTC day (the `export-lake` command). Refuses a
    folder that already holds files, so nothing is overwritten. Returns how many events it wrote."""
    lake = Path(lake)
    if lake.exists() and any(lake.iterdir()):
        raise WarehouseError(f"{lake} is not empty: export the lake to a new folder")
    lake.mkdir(parents=True, exist_ok=True)
    con.execute(
        "COPY (SELECT *, CAST(ts AS DATE) AS day FROM usage_events ORDER BY ts) "
        f"TO {_literal(lake.resolve())} (FORMAT parquet, PARTITION_BY (day), COMPRESSION zstd)"
    )
    return con.execute("SELECT count(*) FROM usage_events").fetchone()[0]
