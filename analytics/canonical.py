"""The contract's canonical tables: their columns, types and keys, as one allow-list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

INITIATED_BY = ("human", "agent", "schedule", "unknown")
OUTCOME_KINDS = (
    "edit_accepted",
    "edit_rejected",
    "lines_added",
    "lines_removed",
    "commit",
    "pr_opened",
    "pr_merged",
    "review",
    "ticket_closed",
    "other",
)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # text | timestamp | date | count | number | enum | fingerprint
    required: bool = False
    default: str | None = None  # SQL literal used when the value is absent
    values: tuple[str, ...] = ()

    @property
    def when_it_happened(self) -> bool:
        """A time at which usage or an outcome happened: it cannot lie in the future. (Employment
        dates can: people are hired and leave on planned days.)"""
        return self.name in ("ts", "day")


# A single count above this is a corrupt record, not usage: no model call or day processes a trillion
# tokens, and sums over many rows must stay inside 64-bit integers.
MAX_COUNT = 10**12


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # immutable: rows are never changed once loaded (a differing re-send is a conflict);
    # otherwise a re-sent key replaces the row (reports and reference data get corrected).
    immutable: bool

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name, kind="text", required=False, default=None, values=()):
    return Column(name, kind, required, default, values)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "teams",
            (
                _c("team_id", required=True),
                _c("team_name", required=True),
                _c("parent_team_id"),
                _c("lead_user_id"),
            ),
            key=("team_id",),
            immutable=False,
        ),
        Table(
            "people",
            (
                _c("user_id", required=True),
                _c("display_name", required=True),
                _c("email"),
                _c("login"),
                _c("team_id", required=True),
                _c("title"),
                _c("timezone"),
                _c("active_from", "date"),
                _c("active_to", "date"),
            ),
            key=("user_id",),
            immutable=False,
        ),
        Table(
            "usage_events",
            (
                _c("event_id", required=True),
                _c("ts", "timestamp", required=True),
                _c("user_id", required=True),
                _c("tool", required=True),
                _c("model"),
                _c("session_id"),
                _c("prompt_id"),
                _c("initiated_by", "enum", default="'unknown'", values=INITIATED_BY),
                _c("input_tokens", "count", required=True),
                _c("output_tokens", "count", required=True),
                _c("cache_read_tokens", "count", default="0"),
                _c("cache_write_tokens", "count", default="0"),
                _c("cost_usd", "number"),
                _c("prompt_chars", "count"),
                _c("prompt_fingerprint", "fingerprint"),
            ),
            key=("event_id",),
            immutable=True,
        ),
        Table(
            "usage_daily",
            (
                _c("day", "date", required=True),
                _c("user_id", required=True),
                _c("tool", required=True),
                _c("model", default="''"),
                _c("requests", "count"),
                _c("human_prompts", "count"),
                _c("input_tokens", "count", required=True),
                _c("output_tokens", "count", required=True),
                _c("cache_read_tokens", "count", default="0"),
                _c("cache_write_tokens", "count", default="0"),
                _c("cost_usd", "number"),
                _c("active_minutes", "number"),
            ),
            key=("day", "user_id", "tool", "model"),
            immutable=False,
        ),
        Table(
            "outcomes",
            (
                _c("outcome_id", required=True),
                _c("ts", "timestamp", required=True),
                _c("user_id", required=True),
                _c("kind", "enum", required=True, values=OUTCOME_KINDS),
                _c("quantity", "number", default="1"),
                _c("tool"),
                _c("session_id"),
            ),
            key=("outcome_id",),
            immutable=True,
        ),
    )
}

# Reference data first, so a folder's people find the teams loaded beside them.
LOAD_ORDER = ("teams", "people", "usage_events", "usage_daily", "outcomes")

FILE_FORMATS = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson.gz": "jsonl",
}


def file_format(path: Path) -> str | None:
    """csv, parquet or jsonl from the file's extension, or None."""
    name = path.name.lower()
    for ext in sorted(FILE_FORMATS, key=len, reverse=True):
        if name.endswith(ext):
            return FILE_FORMATS[ext]
    return None


def table_for(path: Path) -> str | None:
    """The canonical table a file's name points at (`usage_events-2026-10.parquet` -> usage_events)."""
    stem = path.name.split(".")[0].lower()
    for table in sorted(TABLES, key=len, reverse=True):
        if stem == table or (stem.startswith(table) and stem[len(table)] in "-_."):
            return table
    return None
