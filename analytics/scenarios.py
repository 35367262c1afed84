"""Finance's named demand scenarios, kept in a small DuckDB file beside the warehouse.

The store is `<db>.scenarios.duckdb` (or `$GOODHART_SCENARIOS`), because the app holds the warehouse
read-only while it serves; each action opens the file, does one thing and closes it (as analytics/reviews.py).
A name is unique: saving under an existing name is refused unless the caller says `replace=True` (the page
asks the user to confirm first), and then the old values are overwritten.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from analytics import sidestore
from analytics.forecast import Scenario

MAX_NAME = 60
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.,()+%-]*$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS scenario (
    name VARCHAR PRIMARY KEY,
    scope VARCHAR NOT NULL,
    horizon_days INTEGER NOT NULL,
    params VARCHAR NOT NULL,
    saved_at TIMESTAMP NOT NULL
);
"""


class ScenarioStoreError(Exception):
    """The scenario store cannot be read or written (locked by another writer, or not a scenario file)."""


class ScenarioExists(ValueError):
    """A scenario of this name is saved already; save again with replace=True to overwrite it."""


def path_for(db_path: Path | str) -> Path:
    return sidestore.path_for(db_path, "scenarios", "GOODHART_SCENARIOS")


def check_name(name: str) -> str:
    """The name, stripped; ValueError when it is empty, too long or has characters outside the allowed set."""
    name = (name or "").strip()
    if not name:
        raise ValueError("a scenario needs a name")
    if len(name) > MAX_NAME:
        raise ValueError(f"scenario names are limited to {MAX_NAME} characters")
    if not NAME_PATTERN.match(name):
        raise ValueError(
            "scenario names use letters, digits, spaces and . , ( ) + % - _ only, and start with a letter or digit"
        )
    return name


def _open(store: Path, *, attempts: int = 5) -> duckdb.DuckDBPyConnection:
    """The store, opened (and its table created); a locked store is retried `attempts` times in all."""
    return sidestore.open_store(store, SCHEMA, ScenarioStoreError, "the scenarios", attempts=attempts)


def save(store: Path, name: str, scenario: Scenario, *, scope: str, horizon_days: int, replace: bool = False) -> str:
    """Save `scenario` under `name` (validated); ScenarioExists when the name is taken and not `replace`.

    Returns the stored name.
    """
    name = check_name(name)
    scenario.validate()
    if not 1 <= horizon_days <= 3650:
        raise ValueError("the horizon must be between 1 and 3650 days")
    con = _open(store)
    try:
        taken = con.execute("SELECT 1 FROM scenario WHERE name = ?", [name]).fetchone()
        if taken and not replace:
            raise ScenarioExists(f"a scenario named {name!r} exists; confirm to replace it")
        con.execute(
            "INSERT OR REPLACE INTO scenario VALUES (?, ?, ?, ?, ?)",
            [
                name,
                scope,
                int(horizon_days),
                json.dumps(scenario.as_dict(), sort_keys=True),
                datetime.now(UTC).replace(tzinfo=None),
            ],
        )
    except duckdb.Error as exc:
        raise ScenarioStoreError(f"cannot save the scenario: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    return name


def load_all(store: Path) -> pd.DataFrame:
    """Every saved scenario, by name: name, scope, horizon_days, saved_at, scenario (a Scenario).

    A row whose values no longer validate is left out rather than breaking the list. A locked store is an
    immediate ScenarioStoreError (one attempt, no retries): the page reads the list on every slider move.
    """
    columns = ["name", "scope", "horizon_days", "saved_at", "scenario"]
    if not store.exists():
        return pd.DataFrame(columns=columns)
    con = _open(store, attempts=1)
    try:
        rows = con.execute("SELECT name, scope, horizon_days, saved_at, params FROM scenario ORDER BY name").fetchall()
    except duckdb.Error as exc:
        raise ScenarioStoreError(f"cannot read the scenarios: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    out = []
    for name, scope, horizon, saved_at, params in rows:
        try:
            out.append((name, scope, horizon, saved_at, Scenario.from_dict(json.loads(params))))
        except Exception:  # any bad row (not an object, wrong types) is skipped, never a crash
            continue
    return pd.DataFrame(out, columns=columns)


def delete(store: Path, name: str) -> bool:
    """Remove a saved scenario; True when there was one."""
    if not store.exists():
        return False
    con = _open(store)
    try:
        gone = con.execute("DELETE FROM scenario WHERE name = ? RETURNING name", [name]).fetchall()
    finally:
        con.close()
    return bool(gone)
