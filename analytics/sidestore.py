"""Small DuckDB files beside the warehouse for what the app itself writes (reviews, scenarios).

The app holds the warehouse read-only while it serves, so each such action opens its own file, does one
thing and closes it. A file is `<db>.<suffix>.duckdb`, or the path in an environment variable.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb


def path_for(db_path: Path | str, suffix: str, env: str) -> Path:
    """`$env` when set, else `<db stem>.<suffix>.duckdb` beside the warehouse."""
    override = os.environ.get(env)
    if override:
        return Path(override)
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.{suffix}.duckdb")


def open_store(
    store: Path, schema: str, error: type[Exception], what: str, *, attempts: int = 5
) -> duckdb.DuckDBPyConnection:
    """The store, read-write with its schema (the same way for reads and writes: DuckDB refuses a second open
    of one file in one process with a different configuration). A locked file is retried `attempts` times
    in all; anything else, or the last attempt, raises `error` naming `what` in one line."""
    for attempt in range(attempts):
        try:
            con = duckdb.connect(str(store))
            con.execute(schema)
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or attempt == attempts - 1:
                raise error(f"cannot open {what} {store.name}: {str(exc).splitlines()[0]}") from None
            time.sleep(0.2 * (attempt + 1))
        except duckdb.Error as exc:
            raise error(f"cannot open {what} {store.name}: {str(exc).splitlines()[0]}") from None
    raise AssertionError("unreachable")
