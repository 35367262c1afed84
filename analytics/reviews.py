"""The review queue's history: who confirmed, dismissed or noted which case, and when. Append-only.

Reviews live in their own small DuckDB file beside the warehouse (`<db>.reviews.duckdb`, or
`$GOODHART_REVIEWS`), because the app holds the warehouse read-only while it serves; each action opens
the file, appends one row and closes it. Nothing here updates or deletes a row.

A case is a person. Its state is its latest confirm or dismiss; a dismissal holds until detection finds
a suspect week later than the evidence the reviewer saw (then the case is open again: new evidence).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from analytics import sidestore

ACTIONS = ("confirm", "dismiss", "note")
MAX_NOTE = 2_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS review_log (
    user_id VARCHAR NOT NULL,
    action VARCHAR NOT NULL CHECK (action IN ('confirm', 'dismiss', 'note')),
    note VARCHAR,
    reviewer VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    evidence_until DATE
);
"""


def path_for(db_path: Path | str) -> Path:
    return sidestore.path_for(db_path, "reviews", "GOODHART_REVIEWS")


class ReviewStoreError(Exception):
    """The review history cannot be read or written (locked by another writer, or not a review file)."""


def _open(store: Path) -> duckdb.DuckDBPyConnection:
    return sidestore.open_store(store, SCHEMA, ReviewStoreError, "the review history")


def record(
    store: Path, user_id: str, action: str, reviewer: str, note: str = "", evidence_until: date | None = None
) -> None:
    """Append one review action. ValueError for a bad action, an empty reviewer or an over-long note."""
    if action not in ACTIONS:
        raise ValueError(f"unknown review action {action!r}: use {', '.join(ACTIONS)}")
    if not reviewer or not reviewer.strip():
        raise ValueError("a review needs the reviewer's name")
    note = (note or "").strip()
    if action == "note" and not note:
        raise ValueError("a note cannot be empty")
    if len(note) > MAX_NOTE:
        raise ValueError(f"notes are limited to {MAX_NOTE:,} characters")
    con = _open(store)
    try:
        con.execute(
            "INSERT INTO review_log VALUES (?, ?, ?, ?, ?, ?)",
            [user_id, action, note or None, reviewer.strip(), datetime.now(UTC).replace(tzinfo=None), evidence_until],
        )
    finally:
        con.close()


def history(store: Path, user_id: str | None = None) -> pd.DataFrame:
    """Every action, newest first (one person's when user_id is given)."""
    columns = ["user_id", "action", "note", "reviewer", "recorded_at", "evidence_until"]
    if not store.exists():
        return pd.DataFrame(columns=columns)
    con = _open(store)
    try:
        where, params = ("WHERE user_id = ?", [user_id]) if user_id else ("", [])
        query = f"SELECT {', '.join(columns)} FROM review_log {where} ORDER BY recorded_at DESC"
        return con.execute(query, params).df()
    finally:
        con.close()


def states(log: pd.DataFrame, suspects: pd.DataFrame) -> pd.Series:
    """Each suspect's review state: open, confirmed, dismissed, or reopened (new evidence since a dismissal).

    `suspects` needs user_id and last_suspect_week; the result is indexed by user_id.
    """
    state = pd.Series("open", index=suspects["user_id"].to_numpy(), dtype=object)
    decided = log[log["action"].isin(["confirm", "dismiss"])].sort_values("recorded_at").groupby("user_id").tail(1)
    last_week = dict(zip(suspects["user_id"], pd.to_datetime(suspects["last_suspect_week"]), strict=True))
    for row in decided.itertuples():
        if row.user_id not in state.index:
            continue
        if row.action == "confirm":
            state[row.user_id] = "confirmed"
            continue
        seen = pd.Timestamp(row.evidence_until) if pd.notna(row.evidence_until) else None
        latest = last_week.get(row.user_id)
        newer = seen is not None and pd.notna(latest) and latest > seen
        state[row.user_id] = "reopened" if newer else "dismissed"
    return state
