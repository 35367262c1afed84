"""Identity mapping files: admins say which person a telemetry identity (e-mail, login, account id) names.

A mapping file is CSV (with a header) or JSON Lines, optionally gzipped, with the columns
`identity`, `user_id` and optionally `source` (where the identity comes from, free text). Rows go to
the `identity_map` table, which the marts consult after a person's own user id and before e-mails and
logins (analytics/sql/identity_lookup.sql).

Rules: both columns must be in the file, else nothing loads. A row needs an identity and a user_id that
names a known person; other rows are kept in `rejected_rows` (table_name `identity_map`) with their
line and reason. Identities compare case-insensitively; a re-sent identity replaces its mapping, and
within one file the last line for an identity wins. The file loads in one transaction, and the marts
are refreshed when a mapping changed.
"""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from analytics import marts
from analytics.warehouse import WarehouseError, transaction

TABLE = "identity_map"
COLUMNS = ("identity", "user_id", "source")
REQUIRED = ("identity", "user_id")


def load_identity_map(
    con: duckdb.DuckDBPyConnection, path: Path | str, *, now: datetime | None = None, refresh: bool = True
) -> dict:
    """Load one mapping file; returns counts (rows_read, inserted, updated, duplicates, rejected), warnings
    and whether the marts were refreshed (`refresh=False` leaves that to the caller, as `ingest` does once
    for all its files). Raises WarehouseError when the file cannot be used at all."""
    from analytics.ingest import sha256_of  # ingest imports marts and formats; keep this module light

    path = Path(path)
    if not path.is_file():
        raise WarehouseError(f"no such file: {path}")
    now = now or datetime.now(UTC).replace(tzinfo=None)
    rows, warnings = _read(path)
    digest = sha256_of(path)
    started = datetime.now(UTC).replace(tzinfo=None)
    counts = {"rows_read": len(rows), "inserted": 0, "updated": 0, "duplicates": 0, "rejected": 0}

    with transaction(con):
        batch_id = con.execute("SELECT nextval('batch_seq')").fetchone()[0]
        people = {u.lower(): u for (u,) in con.execute("SELECT user_id FROM people").fetchall()}
        current = {
            identity.lower(): (identity, user_id, source)
            for identity, user_id, source in con.execute(
                "SELECT identity, user_id, source FROM identity_map"
            ).fetchall()
        }
        rejects: list[tuple[int, str, str]] = []
        wanted: dict[str, tuple[int, str, str, str | None]] = {}  # lower identity -> (line, identity, user, source)
        for line, row in rows:
            if "_problem" in row:
                rejects.append((line, row["_problem"], row["_text"]))
                continue
            identity, user_id, source = (_clean(row.get(c)) for c in COLUMNS)
            raw = json.dumps(row, separators=(",", ":"), default=str)[:10_000]
            if identity is None:
                rejects.append((line, "missing identity", raw))
            elif user_id is None:
                rejects.append((line, "missing user_id", raw))
            elif user_id.lower() not in people:
                rejects.append((line, f'user_id "{user_id}" names no known person (load people first)', raw))
            else:
                if identity.lower() in wanted:
                    counts["duplicates"] += 1  # an earlier line for this identity, superseded
                wanted[identity.lower()] = (line, identity, people[user_id.lower()], source)

        for key, (_line, identity, user_id, source) in wanted.items():
            before = current.get(key)
            if before is not None and (before[1], before[2]) == (user_id, source):
                counts["duplicates"] += 1
                continue
            if before is not None:
                con.execute("DELETE FROM identity_map WHERE lower(identity) = ?", [key])
                counts["updated"] += 1
            else:
                counts["inserted"] += 1
            con.execute("INSERT INTO identity_map VALUES (?, ?, ?)", [identity, user_id, source])

        counts["rejected"] = len(rejects)
        if rejects:
            con.executemany(
                "INSERT INTO rejected_rows SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM "
                "rejected_rows r WHERE r.file_sha256 = ? AND r.line = ? AND r.table_name = ? AND r.reason = ?)",
                [
                    [batch_id, str(path), digest, TABLE, line, reason, raw, now, digest, line, TABLE, reason]
                    for line, reason, raw in rejects
                ],
            )
        con.execute(
            "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?, ?, ?)",
            [
                batch_id,
                str(path),
                digest,
                TABLE,
                "identity-map",
                counts["rows_read"],
                counts["inserted"],
                counts["updated"],
                counts["duplicates"],
                counts["rejected"],
                "; ".join(warnings),
                started,
                datetime.now(UTC).replace(tzinfo=None),
            ],
        )

    refreshed = refresh and bool(counts["inserted"] or counts["updated"])
    if refreshed:
        marts.refresh(con)
    return {"file": str(path), **counts, "warnings": warnings, "marts_refreshed": refreshed}


def _read(path: Path) -> tuple[list[tuple[int, dict]], list[str]]:
    """(line, row) pairs with lower-cased column names, and warnings; WarehouseError when unusable."""
    name = path.name.lower().removesuffix(".gz")
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            if name.endswith((".jsonl", ".ndjson", ".json")):
                rows, columns = _read_json_lines(fh, path)
            else:
                rows, columns = _read_csv(fh, path)
    except UnicodeDecodeError:
        raise WarehouseError(f"{path.name} is not UTF-8 text") from None
    except (OSError, EOFError) as exc:
        raise WarehouseError(f"cannot read {path.name}: {exc}") from None
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise WarehouseError(
            f"{path.name} lacks column(s) {', '.join(missing)}; an identity file has identity, user_id[, source]"
        )
    warnings = []
    unknown = sorted(set(columns) - set(COLUMNS))
    if unknown:
        warnings.append(f"{path.name}: ignored unknown columns {', '.join(unknown)}")
    return rows, warnings


def _read_csv(fh, path: Path) -> tuple[list[tuple[int, dict]], set[str]]:
    reader = csv.reader(fh)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise WarehouseError(f"{path.name} is empty") from None
    rows = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            row = dict(zip(header, cells, strict=False))
            if len(cells) != len(header):
                problem = f"malformed CSV line: {len(cells)} fields where the header has {len(header)}"
                row = {"_text": ",".join(cells)[:10_000], "_problem": problem}
            rows.append((line, row))
    except csv.Error as exc:
        raise WarehouseError(f"{path.name} line {start}: not readable CSV: {exc}") from None
    return rows, set(header)


def _read_json_lines(fh, path: Path) -> tuple[list[tuple[int, dict]], set[str]]:
    rows, columns = [], set()
    for line, text in enumerate(fh, start=1):
        text = text.strip()
        if not text:
            continue
        if not rows and text.startswith("["):
            raise WarehouseError(f"{path.name} holds a JSON array; identity files are JSON Lines (one object per line)")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            rows.append((line, {"_text": text[:10_000], "_problem": "line is not a JSON object"}))
            continue
        row = {str(k).strip().lower(): v for k, v in value.items()}
        columns |= set(row)
        rows.append((line, row))
    if not rows:
        raise WarehouseError(f"{path.name} is empty")
    return rows, columns


def _clean(value) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None
