"""Loads canonical CSV, Parquet and JSON Lines files into the warehouse, set-based and atomically per file.

Each file is read by DuckDB into a temporary table, every value is typed and checked in one SQL pass,
and inside one transaction the good rows are inserted (or replace their key), the bad ones are kept in
`rejected_rows` with their line and reason, and the attempt is written to `ingest_log`. A file that
fails midway rolls back and leaves nothing of itself; loading the same file again changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from analytics import formats, marts
from analytics.canonical import LOAD_ORDER, MAX_COUNT, TABLES, Column, Table, file_format, table_for
from analytics.warehouse import WarehouseError, transaction

COUNTS = ("rows_read", "inserted", "updated", "duplicates", "rejected")
SQL_TYPES = {
    "text": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "count": "BIGINT",
    "number": "DOUBLE",
    "enum": "VARCHAR",
    "fingerprint": "VARCHAR",
}
_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


class FileError(WarehouseError):
    """This file cannot be loaded at all (unreadable, wrong shape); nothing of it is kept."""


@dataclass
class FileResult:
    file: str
    table: str | None
    format: str | None
    status: str = "loaded"  # loaded | failed | skipped (a recognised export with nothing to load)
    message: str = ""
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestSummary:
    results: list[FileResult]
    refreshed: bool = False
    warnings: list[str] = field(default_factory=list)  # about files skipped in folders

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def totals(self) -> dict[str, int]:
        return {k: sum(getattr(r, k) for r in self.results) for k in COUNTS}

    def as_dict(self) -> dict:
        return {
            "files": len(self.results),
            **self.totals(),
            "failed": len(self.failed),
            "marts_refreshed": self.refreshed,
            "warnings": self.warnings,
            "details": [asdict(r) for r in self.results],
        }


TELEMETRY = "telemetry:"  # prefix of a discovered file's kind when an adapter converts it


def discover(paths: Iterable[Path | str], *, table: str | None = None) -> tuple[list[tuple[Path, str]], list[str]]:
    """The (file, kind) pairs to load, in dependency order, and warnings for skipped files.

    A kind is a canonical table, or `telemetry:<adapter>` for a tool's own export. `table` forces one:
    a canonical table name or an adapter name. Without it a file is canonical by its name, else
    telemetry by its content. A folder means every such file directly in it. Raises
    FileNotFoundError for a path that does not exist and ValueError for a file that cannot be told.
    """
    forced = _forced_kind(table)
    found: list[tuple[Path, str]] = []
    warnings: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
        if any(ch in str(path) for ch in "*?["):
            # DuckDB's readers expand these as patterns, which could load some other file
            raise ValueError(f"{path}: names containing *, ? or [ are not supported; rename it")
        if path.is_dir():
            before = len(found)
            for child in sorted(p for p in path.iterdir() if p.is_file()):
                if child.name.startswith("."):
                    continue
                if any(ch in child.name for ch in "*?["):  # (the folder's own path was checked above)
                    warnings.append(f"skipped {child}: names containing *, ? or [ are not supported")
                    continue
                kind = forced or _kind_of(child)
                if kind:
                    found.append((child, kind))
                else:
                    warnings.append(f"skipped {child}: neither a canonical file name nor a known telemetry format")
            if len(found) == before:
                raise ValueError(
                    f"{path} holds no files to load (canonical teams, people, usage_events, usage_daily or "
                    "outcomes as .csv, .parquet or .jsonl, or a known telemetry export)"
                )
            continue
        kind = forced or _kind_of(path)
        if kind is None:
            raise ValueError(
                f"cannot tell what {path.name} holds: name it after a table ({', '.join(TABLES)}), pass "
                "--format canonical-<table>, or pass --format with a telemetry format "
                f"({', '.join(formats.registry())})"
            )
        if not kind.startswith(TELEMETRY) and file_format(path) is None:
            raise ValueError(f"{path.name}: unsupported file type (use .csv, .parquet or .jsonl)")
        found.append((path, kind))
    found.sort(key=lambda item: _load_rank(item[1]))
    return found, warnings


def _forced_kind(name: str | None) -> str | None:
    if name is None:
        return None
    if name in TABLES:
        return name
    if name in formats.registry():
        return TELEMETRY + name
    raise ValueError(
        f"unknown format {name!r}: use a canonical table ({', '.join(TABLES)}) or a telemetry format "
        f"({', '.join(formats.registry())})"
    )


IDENTITY_MAP = "identity_map"  # identity_map.csv / .jsonl: which person an e-mail, login or account id is


def _kind_of(path: Path) -> str | None:
    stem = path.name.split(".")[0].lower()
    if (stem == IDENTITY_MAP or stem.startswith(IDENTITY_MAP + "-")) and file_format(path) in ("csv", "jsonl"):
        return IDENTITY_MAP
    name = table_for(path)
    if name and file_format(path):
        return name
    adapter = formats.detect(path)
    return TELEMETRY + adapter.name if adapter else None


def _load_rank(kind: str) -> tuple[int, int]:
    """Reference data before usage: org trees and canonical teams/people first."""
    if kind.startswith(TELEMETRY):
        return (formats.registry()[kind.removeprefix(TELEMETRY)].order, 0)
    if kind == IDENTITY_MAP:
        return (15, 0)  # after the people it names
    position = LOAD_ORDER.index(kind)
    return ((0 if position < 2 else 20), position)


def ingest(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[Path | str],
    *,
    table: str | None = None,
    now: datetime | None = None,
    refresh: bool = True,
    progress: Callable[[float, str], None] | None = None,
) -> IngestSummary:
    """Load files or folders; refresh the marts when anything changed.

    `table` forces every file into one canonical table (from `--format canonical-<table>`).
    """
    files, warnings = discover(paths, table=table)
    now = now or datetime.now(UTC).replace(tzinfo=None)
    results = []
    for i, (path, name) in enumerate(files):
        if progress:
            progress(i / max(len(files), 1), f"loading {path.name}")
        if name.startswith(TELEMETRY):
            results.extend(load_telemetry(con, path, name.removeprefix(TELEMETRY), now=now))
        elif name == IDENTITY_MAP:
            results.append(_load_identity_map(con, path, now))
        else:
            results.append(load_file(con, path, name, now=now))
    summary = IngestSummary(results, warnings=warnings)
    # also when an earlier run was killed after its loads committed but before the marts caught up
    if refresh and (any(r.inserted or r.updated for r in results) or marts.behind(con)):
        if progress:
            progress(0.95, "refreshing marts")
        marts.refresh(con)
        summary.refreshed = True
    if progress:
        progress(1.0, "done")
    return summary


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_file(con: duckdb.DuckDBPyConnection, path: Path, table_name: str, *, now: datetime) -> FileResult:
    """Load one file into one canonical table, all or nothing."""
    fmt = file_format(path) or "csv"
    result = FileResult(file=str(path), table=table_name, format=fmt)
    started = datetime.now(UTC).replace(tzinfo=None)
    try:
        digest = sha256_of(path)
        with transaction(con):
            batch_id = con.execute("SELECT nextval('batch_seq')").fetchone()[0]
            _Loader(con, TABLES[table_name], path, fmt, digest, batch_id, now, result).run()
            _log_load(con, batch_id, path, digest, result, started)
    except (FileError, duckdb.Error, OSError, UnicodeDecodeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        result = FileResult(
            file=str(path), table=table_name, format=fmt, status="failed", message=message, warnings=result.warnings
        )
    finally:
        _drop_temps(con)
    return result


def _load_identity_map(con: duckdb.DuckDBPyConnection, path: Path, now: datetime) -> FileResult:
    from analytics.identity import load_identity_map

    try:
        out = load_identity_map(con, path, now=now, refresh=False)
    except (WarehouseError, duckdb.Error, OSError, UnicodeDecodeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return FileResult(file=str(path), table=IDENTITY_MAP, format="identity-map", status="failed", message=message)
    return FileResult(
        file=str(path),
        table=IDENTITY_MAP,
        format="identity-map",
        **{k: out[k] for k in COUNTS},
        warnings=list(out["warnings"]),
    )


def load_telemetry(con: duckdb.DuckDBPyConnection, path: Path, adapter_name: str, *, now: datetime) -> list[FileResult]:
    """Convert one telemetry file and load its canonical rows, all tables in one transaction.

    One result per canonical table the file fed (or one failed result); records the adapter could not
    convert are kept in rejected_rows like any bad row.
    """
    adapter = formats.registry()[adapter_name]
    fmt = "telemetry:" + adapter_name
    started = datetime.now(UTC).replace(tzinfo=None)
    try:
        digest = sha256_of(path)
        if path.stat().st_size == 0:
            raise FileError(f"{path.name} is empty")
        converted = adapter.convert(path)
        results: list[FileResult] = []
        with transaction(con):
            names = [t for t in LOAD_ORDER if t in converted.tables and len(converted.tables[t])]
            if not names and not converted.rejects:
                raise FileError(f"{path.name} holds no records that {adapter_name} can load")
            for position, table_name in enumerate(names or [None]):
                # fetchall: DuckDB refuses register() while a result is left half-read
                batch_id = con.execute("SELECT nextval('batch_seq')").fetchall()[0][0]
                result = FileResult(file=str(path), table=table_name or "-", format=fmt)
                if position == 0:  # the file's own notes and unconvertible records, reported once
                    result.warnings.extend(converted.warnings)
                extra = converted.rejects if position == 0 else []
                if table_name is not None:
                    _Loader(
                        con,
                        TABLES[table_name],
                        path,
                        "frame",
                        digest,
                        batch_id,
                        now,
                        result,
                        frame=converted.tables[table_name],
                        extra_rejects=extra,
                    ).run()
                    _drop_temps(con)
                else:
                    _store_conversion_rejects(con, path, digest, adapter_name, batch_id, now, extra, result)
                _log_load(con, batch_id, path, digest, result, started)
                results.append(result)
        return results
    except (FileError, formats.ConversionError, duckdb.Error, OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        status = "skipped" if isinstance(exc, formats.NothingToLoad) else "failed"
        return [FileResult(file=str(path), table=None, format=fmt, status=status, message=message)]
    finally:
        _drop_temps(con)


def _log_load(con, batch_id: int, path: Path, digest: str, result: FileResult, started: datetime) -> None:
    """One ingest_log row per file and table loaded."""
    con.execute(
        "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?, ?, ?)",
        [
            batch_id,
            str(path),
            digest,
            result.table,
            result.format,
            result.rows_read,
            result.inserted,
            result.updated,
            result.duplicates,
            result.rejected,
            "; ".join(result.warnings),
            started,
            datetime.now(UTC).replace(tzinfo=None),
        ],
    )


def _store_conversion_rejects(con, path, digest, adapter_name, batch_id, now, rejects, result) -> None:
    """A file none of whose records converted: keep each with its reason."""
    result.rows_read = result.rejected = len(rejects)
    con.executemany(
        "INSERT INTO rejected_rows SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS "
        "(SELECT 1 FROM rejected_rows r WHERE r.file_sha256 = ? AND r.line = ? AND r.table_name = ?)",
        [
            [batch_id, str(path), digest, adapter_name, line, reason, raw, now, digest, line, adapter_name]
            for line, reason, raw in rejects
        ],
    )


def _drop_temps(con: duckdb.DuckDBPyConnection) -> None:
    temps = con.execute(
        "SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary AND view_name LIKE '\\_%' ESCAPE '\\' "
        "UNION ALL SELECT table_name, 'TABLE' FROM duckdb_tables() "
        "WHERE temporary AND table_name LIKE '\\_%' ESCAPE '\\'"
    ).fetchall()
    for name, kind in temps:
        con.execute("DROP " + kind + " IF EXISTS " + _q(name))
    with contextlib.suppress(duckdb.Error):
        con.unregister("_frame")


def _open_text(path: Path, mode: str = "rt"):
    import gzip

    if path.name.lower().endswith(".gz"):
        return gzip.open(path, mode)
    return open(path, mode)


def _blank_lines(path: Path, limit: int = 100_000) -> list[int]:
    """Physical numbers of the empty lines a CSV reader skips, found at memchr speed."""
    found: list[int] = []
    base, carry = 1, b""  # the line number where `buf` starts; the bytes kept from the last read
    with _open_text(path, "rb") as fh:
        while block := fh.read(1 << 22):
            buf = carry + block
            for pattern in (b"\n\n", b"\n\r\n"):
                at = buf.find(pattern)
                while at != -1 and len(found) <= limit:
                    found.append(base + buf.count(b"\n", 0, at) + 1)
                    at = buf.find(pattern, at + 1)
            carry = buf[-2:]  # a pattern split across two reads is found in the next one
            base += buf.count(b"\n", 0, len(buf) - len(carry))
    return sorted(set(found))


def _first_char(path: Path) -> str:
    """The first non-blank character of a (possibly gzipped) text file."""
    with _open_text(path, "rb") as fh:
        return fh.read(4096).decode("utf-8", "replace").lstrip("\ufeff \t\r\n")[:1]


def _q(name: str) -> str:
    """Quote an identifier (names only ever come from the canonical allow-list or the file's header)."""
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    """A SQL string literal for the fixed message prefixes written in this module."""
    return "'" + text.replace("'", "''") + "'"


class _Loader:
    """One file's load inside the caller's transaction."""

    def __init__(
        self,
        con,
        table: Table,
        path: Path,
        fmt: str,
        digest: str,
        batch_id: int,
        now: datetime,
        result: FileResult,
        *,
        frame: pd.DataFrame | None = None,
        extra_rejects: list[tuple[int, str, str]] = (),
    ):
        self.con, self.table, self.path, self.fmt = con, table, path, fmt
        self.frame, self.extra_rejects = frame, list(extra_rejects)
        self.digest, self.batch_id, self.now, self.result = digest, batch_id, now, result
        self.source_columns: dict[str, tuple[str, str]] = {}  # canonical name -> (source name, type)
        self.source_rows = 0  # rows the reader produced (_src), the reader's rejects apart
        self.checked_sql = ""  # SELECT of every source row typed and checked: _line, the columns, _reason
        self.checked_params: dict | None = None
        self.jsonl_unknown: list[str] = []  # JSON keys that name no column of the table
        self.aside_rows = 0  # events and outcomes: lines resolved in _checked (see _set_aside)

    # Tests set this to set every line aside, resolving the whole file in _checked as one.
    force_aside = False

    def run(self) -> None:
        self._read()
        self._check()
        self._resolve()

    # -- reading ---------------------------------------------------------------------------------------

    def _read(self) -> None:
        path = str(self.path)
        if self.fmt == "frame":
            self._read_frame()
        elif self.path.stat().st_size == 0:
            raise FileError(f"{self.path.name} is empty")
        if self.fmt == "jsonl" and _first_char(self.path) == "[":
            raise FileError(
                f"{self.path.name} holds a JSON array; canonical JSON files are JSON Lines (one object per line)"
            )
        try:
            if self.fmt == "frame":
                pass
            elif self.fmt == "parquet":
                # A view: the file is scanned once by the checks below instead of copied first.
                self.con.execute(
                    "CREATE TEMP VIEW _src AS SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _line "
                    "FROM read_parquet(" + _lit(path) + ", file_row_number = true)"
                )
            elif self.fmt == "csv":
                self._read_csv(path)
            else:
                self._read_jsonl(path)
        except duckdb.Error as exc:
            raise FileError(f"cannot read {self.path.name} as {self.fmt}: {str(exc).splitlines()[0]}") from exc
        described = self.con.execute("DESCRIBE _src").fetchall()
        by_name = {row[0].strip().lower(): (row[0], row[1]) for row in described if row[0] != "_line"}
        if self.fmt in ("jsonl", "frame"):
            by_name = {k: v for k, v in by_name.items() if k not in ("_raw", "_source_line")}
        wanted = set(self.table.column_names)
        unknown = sorted({n for n in by_name if n not in wanted} | set(self.jsonl_unknown))
        if unknown:
            self.result.warnings.append(f"{self.path.name}: ignored unknown columns {', '.join(unknown)}")
        missing = [c.name for c in self.table.columns if c.required and c.name not in by_name]
        if missing:
            raise FileError(f"{self.path.name} lacks required column(s) {', '.join(missing)} for {self.table.name}")
        self.source_columns = {n: v for n, v in by_name.items() if n in wanted}
        self.con.execute("CREATE TEMP TABLE IF NOT EXISTS _bad (line BIGINT, reason VARCHAR)")
        # Lines the reader could not parse never reach _src, but they were read.
        self.source_rows, unparsed = self.con.execute(
            "SELECT (SELECT count(*) FROM _src), (SELECT count(*) FROM _bad)"
        ).fetchone()
        self.result.rows_read = self.source_rows + unparsed

    def _read_frame(self) -> None:
        """Rows an adapter converted: every value is text, `_line` and `_raw` point back at the source."""
        self.con.execute("SELECT 1").fetchall()  # DuckDB refuses register() while an earlier result is unread
        self.con.register("_frame", self.frame)
        # Several rows can come from one source record, so rows get their own ordinal as `_line` and
        # keep the record's position in `_source_line` for rejected rows.
        self.con.execute(
            "CREATE TEMP TABLE _src AS SELECT * EXCLUDE (_line), row_number() OVER () AS _line, "
            "_line AS _source_line FROM _frame"
        )
        self.con.unregister("_frame")
        self.con.execute("CREATE TEMP TABLE _bad (line BIGINT, reason VARCHAR, raw VARCHAR)")
        if self.extra_rejects:
            self.con.executemany("INSERT INTO _bad VALUES (?, ?, ?)", [list(r) for r in self.extra_rejects])

    def _read_csv(self, path: str) -> None:
        read = (
            "CREATE TEMP TABLE _src AS SELECT *, row_number() OVER () + 1 AS _line FROM read_csv(?, "
            "all_varchar = true, header = true, {quoting}store_rejects = true, "
            "rejects_table = '_csv_reject_errors', rejects_scan = '_csv_reject_scans')"
        )
        # RFC 4180 quoting, so one broken quote cannot make the sniffer give up quoting for the whole
        # file; unless that broken quote defeats the sniffer itself, in which case it guesses and the
        # rows it cannot split are rejected one by one. The probe runs on its own cursor, outside this
        # file's transaction, so its failure aborts nothing.
        quoting = "quote = '\"', escape = '\"', "
        probe = self.con.cursor()
        try:
            probe.execute("SELECT * FROM sniff_csv(?, quote = '\"', escape = '\"')", [path])
        except duckdb.Error:
            quoting = ""
        finally:
            probe.close()
        self.con.execute(read.format(quoting=quoting), [path])
        bad = self.con.execute(
            "SELECT line, min(error_message) FROM _csv_reject_errors GROUP BY line ORDER BY line"
        ).fetchall()
        self.con.execute("DROP TABLE IF EXISTS _csv_reject_errors")
        self.con.execute("DROP TABLE IF EXISTS _csv_reject_scans")
        self.con.execute("CREATE TEMP TABLE _bad (line BIGINT, reason VARCHAR)")
        if bad:
            self.con.executemany(
                "INSERT INTO _bad VALUES (?, ?)",
                [(line, "malformed CSV line: " + msg.splitlines()[0][:160]) for line, msg in bad],
            )
        blank = _blank_lines(self.path)
        if not bad and not blank:
            return
        # The reader skipped malformed and blank lines, so records' ordinals drift past them: map the
        # n-th record to the n-th line that is neither.
        self.con.execute(
            "CREATE TEMP TABLE _skipped AS SELECT line FROM _bad UNION SELECT unnest(?::BIGINT[])", [blank]
        )
        self.con.execute(
            """CREATE OR REPLACE TEMP TABLE _src AS
               WITH lines AS (
                   SELECT l AS line, row_number() OVER (ORDER BY l) + 1 AS ordinal_line
                   FROM range(2, (SELECT count(*) FROM _src) + (SELECT count(*) FROM _skipped) + 2) t(l)
                   WHERE l NOT IN (SELECT line FROM _skipped))
               SELECT s.* EXCLUDE (_line), lines.line AS _line
               FROM _src s JOIN lines ON lines.ordinal_line = s._line ORDER BY _line"""
        )

    def _read_jsonl(self, path: str) -> None:
        self.con.execute(
            "CREATE TEMP TABLE _lines AS SELECT row_number() OVER () AS _line, j AS _raw FROM read_csv(?, "
            "columns = {'j': 'VARCHAR'}, header = false, delim = chr(31), quote = '', escape = '', "
            "auto_detect = false)",
            [path],
        )
        self.con.execute("DELETE FROM _lines WHERE _raw IS NULL OR trim(_raw) = ''")
        self.con.execute(
            """CREATE TEMP TABLE _bad AS SELECT _line AS line,
                   CASE WHEN NOT json_valid(_raw) THEN 'line is not valid JSON'
                        ELSE 'line is not a JSON object' END AS reason
               FROM _lines WHERE NOT json_valid(_raw) OR json_type(_raw) <> 'OBJECT'"""
        )
        keys = [
            r[0]
            for r in self.con.execute(
                "SELECT DISTINCT unnest(json_keys(_raw)) FROM _lines "
                "WHERE json_valid(_raw) AND json_type(_raw) = 'OBJECT' ORDER BY 1"
            ).fetchall()
        ]
        # Only the table's own columns are extracted (their names are plain identifiers, safe in a JSON
        # path); other keys are reported as unknown, whatever characters they hold.
        wanted = {k for k in keys if k.strip().lower() in self.table.column_names}
        self.jsonl_unknown = sorted(k for k in keys if k not in wanted)
        if wanted:
            picks = sorted(wanted)
            paths = "[" + ", ".join(_lit("$." + _q(k)) for k in picks) + "]"
            columns = ", ".join(f"v[{i + 1}] AS {_q(k)}" for i, k in enumerate(picks))
            self.con.execute(
                "CREATE TEMP TABLE _src AS SELECT _line, _raw, " + columns + " FROM (SELECT _line, _raw, "
                "json_extract_string(_raw, " + paths + ") AS v FROM _lines "
                "WHERE _line NOT IN (SELECT line FROM _bad))"
            )
        else:
            self.con.execute("CREATE TEMP TABLE _src AS SELECT _line, _raw FROM _lines WHERE false")

    # -- typing and checking ---------------------------------------------------------------------------

    def _column_sql(self, col: Column) -> tuple[str, list[str]]:
        """The typed value expression for a column and its reason expressions (NULL when fine)."""
        present = col.name in self.source_columns
        if not present:
            value = f"CAST({col.default or 'NULL'} AS {SQL_TYPES[col.kind]})"
            return value, []
        src_name, src_type = self.source_columns[col.name]
        raw = _q(src_name)
        # Text formats carry stray spaces; typed Parquet values are taken as they are.
        text = (
            f"NULLIF(CAST({raw} AS VARCHAR), '')"
            if self.fmt == "parquet"
            else f"NULLIF(trim(CAST({raw} AS VARCHAR)), '')"
        )
        shown = f"left({text}, 60)"
        # Values that arrive typed (Parquet numbers and times) cannot be malformed, only absent or out of
        # range, so their checks skip the text conversion that would cost most of the load.
        typed = (
            src_type in _INTEGER_TYPES
            or src_type in ("TIMESTAMP", "DATE", "DOUBLE", "FLOAT")
            or (src_type.startswith("TIMESTAMP WITH TIME ZONE"))
        )
        absent = f"{raw} IS NULL" if typed else f"{text} IS NULL"
        name = col.name
        reasons = []
        if col.required:
            reasons.append(f"CASE WHEN {absent} THEN {_lit('missing ' + name)} END")
        default = col.default or "NULL"
        kind = col.kind
        if kind == "text":
            value = f"COALESCE({text}, {default})"
        elif kind in ("enum", "fingerprint"):
            norm = f"lower({text})"
            if kind == "enum":
                allowed = ", ".join(_lit(v) for v in col.values)
                bad = f"{norm} NOT IN ({allowed})"
                why = _lit(f'{name} "') + f" || {shown} || " + _lit(f'" is not one of {", ".join(col.values)}')
            else:
                bad = f"NOT regexp_full_match({norm}, '[0-9a-f]{{16}}')"
                why = _lit(f'{name} "') + f" || {shown} || " + _lit('" is not 16 hex digits')
            reasons.append(f"CASE WHEN {text} IS NOT NULL AND {bad} THEN {why} END")
            value = f"CASE WHEN {text} IS NULL THEN {default} WHEN NOT ({bad}) THEN {norm} END"
        elif kind in ("timestamp", "date"):
            if kind == "timestamp" and src_type == "TIMESTAMP":
                value = raw
            elif kind == "timestamp" and src_type.startswith("TIMESTAMP WITH TIME ZONE"):
                # The instant is stored as UTC microseconds already: reading them off is ~7x cheaper than
                # timezone('UTC', …), which converts through ICU value by value (4 s of 99 M events).
                value = (
                    f"CASE WHEN isfinite({raw}) THEN make_timestamp(epoch_us({raw})) ELSE timezone('UTC', {raw}) END"
                )
            elif kind == "timestamp":
                value = f"timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ))"
            elif src_type == "DATE":
                value = raw
            else:
                value = f"TRY_CAST({text} AS DATE)"
            label = "an ISO-8601 timestamp" if kind == "timestamp" else "a YYYY-MM-DD date"
            why = _lit(f"{name} is not {label}: ") + f" || {shown}"
            if value != raw:
                reasons.append(f"CASE WHEN NOT ({absent}) AND {value} IS NULL THEN {why} END")
            if col.when_it_happened:
                limit = "CAST($now AS TIMESTAMP) + INTERVAL 1 DAY"
                if kind == "date":
                    limit = f"CAST({limit} AS DATE)"
                future = _lit(f"{name} ") + f" || {shown} || " + _lit(" is more than a day in the future")
                reasons.append(f"CASE WHEN {value} > {limit} THEN {future} END")
        else:  # count | number
            if src_type in _INTEGER_TYPES:
                # Already whole numbers: only the range needs checking.
                value, number, shown = f"TRY_CAST({raw} AS {SQL_TYPES[kind]})", raw, f"CAST({raw} AS VARCHAR)"
                negative = _lit(f"{name} is negative (") + f" || {shown} || ')'"
                huge = _lit(f"{name} ") + f" || {shown} || " + _lit(f" is implausibly large (over {MAX_COUNT:.0e})")
                reasons.append(f"CASE WHEN {raw} < 0 THEN {negative} WHEN {raw} > {MAX_COUNT} THEN {huge} END")
                return (f"COALESCE({value}, {default})" if col.default else value), reasons
            elif kind == "count":
                # Digits go straight to BIGINT (a detour through DOUBLE would round large values);
                # "12.0" is whole and fine, "12.5" is not.
                number = f"TRY_CAST({text} AS DOUBLE)"
                digits = f"regexp_full_match({text}, '\\+?[0-9]+')"
                value = (
                    f"CASE WHEN {digits} THEN TRY_CAST({text} AS BIGINT) "
                    f"WHEN {number} = floor({number}) THEN TRY_CAST({number} AS BIGINT) END"
                )
            else:
                number = f"TRY_CAST({text} AS DOUBLE)"
                value = f"CASE WHEN isfinite({number}) THEN {number} END"
            label = "a whole number" if kind == "count" else "a number"
            why = _lit(f"{name} is not {label}: ") + f" || {shown}"
            reasons.append(
                f"CASE WHEN {text} IS NOT NULL AND {value} IS NULL AND NOT COALESCE({number} > {MAX_COUNT}, false) "
                f"THEN {why} END"
            )
            negative = _lit(f"{name} is negative (") + f" || {shown} || ')'"
            reasons.append(f"CASE WHEN {number} < 0 THEN {negative} END")
            huge = _lit(f"{name} ") + f" || {shown} || " + _lit(f" is implausibly large (over {MAX_COUNT:.0e})")
            reasons.append(f"CASE WHEN {number} > {MAX_COUNT} THEN {huge} END")
            value = f"COALESCE({value}, {default})" if col.default else value
        return value, reasons

    def _check(self) -> None:
        values, reasons = [], []
        for col in self.table.columns:
            value, why = self._column_sql(col)
            values.append(f"{value} AS {_q(col.name)}")
            reasons.extend(why)
        reasons.extend(self._row_rules())
        reason_sql = "concat_ws('; ', " + ", ".join(reasons) + ")" if reasons else "''"
        self.checked_sql = "SELECT _line, " + ", ".join(values) + ", " + reason_sql + " AS _reason FROM _src"
        self.checked_params = {"now": self.now} if "$now" in self.checked_sql else None
        if self.table.immutable:
            return  # _set_aside materialises only the lines that need more than a check (see there)
        self.con.execute("CREATE TEMP TABLE _checked AS " + self.checked_sql, self.checked_params)
        if self.table.name == "teams":
            self._reject_unrooted_teams()

    def _reject_unrooted_teams(self) -> None:
        """A team must reach a root through its parents, in the tree as it will be after this load:
        a loop of parent links (or a parent rejected above) would leave it outside every org."""
        self.con.execute("""
            UPDATE _checked SET _reason = 'team does not reach a root team through parent_team_id '
                || '(a loop of parents, or a parent that was rejected)'
            WHERE _reason = '' AND team_id NOT IN (
                WITH RECURSIVE graph AS (
                    SELECT team_id, parent_team_id FROM _checked WHERE _reason = ''
                    UNION ALL
                    SELECT team_id, parent_team_id FROM teams
                    WHERE team_id NOT IN (SELECT team_id FROM _checked WHERE _reason = '')
                ), reach(team_id) AS (
                    SELECT team_id FROM graph WHERE parent_team_id IS NULL
                    UNION
                    SELECT g.team_id FROM graph g JOIN reach r ON g.parent_team_id = r.team_id
                )
                SELECT team_id FROM reach)""")

    def _row_rules(self) -> list[str]:
        """Checks that span columns or other tables."""
        name, have = self.table.name, self.source_columns
        rules = []
        if name == "teams" and "parent_team_id" in have:
            parent = f"NULLIF(trim(CAST({_q(have['parent_team_id'][0])} AS VARCHAR)), '')"
            team = f"NULLIF(trim(CAST({_q(have['team_id'][0])} AS VARCHAR)), '')"
            # The ids this file brings; NULLs are left out, or NOT IN would match nothing at all.
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE _file_team_ids AS SELECT DISTINCT " + team + " AS id FROM _src "
                "WHERE " + team + " IS NOT NULL"
            )
            rules.append(
                f"CASE WHEN {parent} = {team} THEN 'a team cannot be its own parent' "
                f"WHEN {parent} NOT IN (SELECT team_id FROM teams) AND {parent} NOT IN (SELECT id FROM _file_team_ids) "
                f"THEN 'parent_team_id \"' || {parent} || '\" names no known team' END"
            )
        if name == "people" and "active_from" in have and "active_to" in have:
            rules.append(
                f"CASE WHEN TRY_CAST(NULLIF(trim(CAST({_q(have['active_to'][0])} AS VARCHAR)), '') AS DATE) < "
                f"TRY_CAST(NULLIF(trim(CAST({_q(have['active_from'][0])} AS VARCHAR)), '') AS DATE) "
                "THEN 'active_to is before active_from' END"
            )
        if name == "people" and "timezone" in have:
            tz = f"NULLIF(trim(CAST({_q(have['timezone'][0])} AS VARCHAR)), '')"
            rules.append(
                f"CASE WHEN {tz} IS NOT NULL AND {tz} NOT IN (SELECT name FROM pg_timezone_names()) "
                f"THEN 'timezone \"' || {tz} || '\" is not an IANA time zone name' END"
            )
        if name in ("usage_events", "usage_daily"):
            other = "usage_daily" if name == "usage_events" else "usage_events"
            tool = f"NULLIF(trim(CAST({_q(have['tool'][0])} AS VARCHAR)), '')"
            clash = f'" already reports {other.removeprefix("usage_")}; a tool sends events or daily rows, not both'
            rules.append(
                f"CASE WHEN {tool} IN (SELECT tool FROM tool_sources WHERE grain = {_lit(other)}) "
                f"THEN 'tool \"' || {tool} || {_lit(clash)} END"
            )
        return rules

    # -- resolving against what is loaded ----------------------------------------------------------------

    def _resolve(self) -> None:
        t = self.table
        if t.immutable:
            self._set_aside()
        key = ", ".join(_q(k) for k in t.key)
        cols = ", ".join(_q(c) for c in t.column_names)
        row_hash = "hash(" + ", ".join("{a}." + _q(c) for c in t.column_names) + ")"
        on = " AND ".join(f"k.{_q(k)} = e.{_q(k)}" for k in t.key)
        if self._has_repeats(key):
            # Immutable rows: the first line with a key wins; corrections (mutable): the last one does.
            order = "_line" if t.immutable else "_line DESC"
            self.con.execute(
                "CREATE TEMP TABLE _kept AS SELECT * FROM _checked WHERE _reason = '' "
                "QUALIFY row_number() OVER (PARTITION BY " + key + " ORDER BY " + order + ") = 1"
            )
            same, differ = self.con.execute(
                "SELECT count(*) FILTER (WHERE " + row_hash.format(a="c") + " = " + row_hash.format(a="k") + "), "
                "count(*) FILTER (WHERE " + row_hash.format(a="c") + " <> " + row_hash.format(a="k") + ") "
                "FROM _checked c JOIN _kept k USING (" + key + ") WHERE c._reason = '' AND c._line <> k._line"
            ).fetchone()
            self.result.duplicates += same
            if t.immutable:
                self._reject_repeats(row_hash)
            else:
                self.result.duplicates += differ  # an earlier line superseded by a later one with its key
        else:
            # The common case: every key appears once, so the checked rows are used in place.
            self.con.execute("CREATE TEMP VIEW _kept AS SELECT * FROM _checked WHERE _reason = ''")
        self.con.execute(
            "CREATE TEMP TABLE _match AS SELECT k._line, "
            + row_hash.format(a="k")
            + " = "
            + row_hash.format(a="e")
            + " AS same FROM _kept k JOIN "
            + t.name
            + " e ON "
            + on
        )
        same, differ = self.con.execute(
            "SELECT count(*) FILTER (WHERE same), count(*) FILTER (WHERE NOT same) FROM _match"
        ).fetchone()
        self.result.duplicates += same
        if t.immutable:
            # Re-sent ids with other values are conflicts: events and outcomes never change once loaded.
            self._reject_conflicts()
            skip = "SELECT _line FROM _match"
        else:
            self.con.execute(
                "DELETE FROM "
                + t.name
                + " e USING _kept k WHERE "
                + on
                + " AND k._line IN (SELECT _line FROM _match WHERE NOT same)"
            )
            self.result.updated = differ
            skip = "SELECT _line FROM _match WHERE same"
        written = self.con.execute(
            "INSERT INTO " + t.name + " (" + cols + ", batch_id) SELECT " + cols + ", ? FROM _kept "
            "WHERE _line NOT IN (" + skip + ")",
            [self.batch_id],
        ).fetchone()[0]
        self.result.inserted = written - self.result.updated
        tools = "SELECT tool FROM _kept"
        if t.immutable:
            self.result.inserted += self._insert_the_rest()
            tools += " UNION SELECT tool FROM " + t.name + " WHERE batch_id = $batch"
        if t.name in ("usage_events", "usage_daily"):
            self.con.execute(
                "INSERT INTO tool_sources SELECT DISTINCT tool, $grain FROM (" + tools + ") ON CONFLICT DO NOTHING",
                {"grain": t.name, "batch": self.batch_id} if t.immutable else {"grain": t.name},
            )
        self._store_rejects()

    # Events and outcomes come by the hundred million, too many to copy whole into a temporary table
    # (at 99 M events that copy spilled 17 GB past the writer's memory limit and cost half the load).
    # Most of their lines are new, unique ids that only need their values checked, so those go
    # from the file into the table in one pass; only the lines whose id may repeat in the file or is
    # already loaded are materialised (as _checked) and resolved as before. An id's lines are all set
    # aside or none are, so each id is resolved exactly as if the whole file had been.

    def _set_aside(self) -> None:
        """_checked := the typed and checked lines whose key hash repeats in the file or whose key is loaded."""
        t = self.table
        keys = [self._column_sql(next(c for c in t.columns if c.name == k))[0] for k in t.key]
        # Hashes first: a 64-bit hash per line groups at a fraction of the cost of the keys themselves,
        # and a collision only sets aside a few more lines to be resolved exactly.
        self.con.execute(
            "CREATE TEMP TABLE _repeated_hashes AS SELECT h FROM (SELECT hash(" + ", ".join(keys) + ") AS h "
            "FROM _src) GROUP BY h HAVING count(*) > 1"
        )
        parts = []
        if self.force_aside:
            parts.append("SELECT _line FROM _src")
        if self.con.execute("SELECT count(*) FROM _repeated_hashes").fetchone()[0]:
            parts.append(
                "SELECT _line FROM _src WHERE hash(" + ", ".join(keys) + ") IN (SELECT h FROM _repeated_hashes)"
            )
        if self.con.execute("SELECT EXISTS (SELECT 1 FROM " + t.name + ")").fetchone()[0]:
            on = " AND ".join(f"s._k{i} = e.{_q(k)}" for i, k in enumerate(t.key))
            parts.append(
                "SELECT s._line FROM (SELECT _line, "
                + ", ".join(f"{k} AS _k{i}" for i, k in enumerate(keys))
                + " FROM _src) s JOIN "
                + t.name
                + " e ON "
                + on
            )
        self.con.execute(
            "CREATE TEMP TABLE _aside AS "
            + (" UNION ".join(parts) if parts else "SELECT 0::BIGINT AS _line WHERE false")
        )
        self.aside_rows = self.con.execute("SELECT count(*) FROM _aside").fetchone()[0]
        where = "_line IN (SELECT _line FROM _aside)" if self.aside_rows else "false"
        self.con.execute(
            "CREATE TEMP TABLE _checked AS SELECT * FROM (" + self.checked_sql + ") WHERE " + where,
            self.checked_params,
        )

    def _insert_the_rest(self) -> int:
        """Insert the good lines not set aside straight from the file; keep its bad ones in _checked.

        Returns the number inserted."""
        t = self.table
        cols = ", ".join(_q(c) for c in t.column_names)
        if self.aside_rows == self.source_rows:
            return 0
        rest = "_line NOT IN (SELECT _line FROM _aside)" if self.aside_rows else "true"
        written = self.con.execute(
            "INSERT INTO "
            + t.name
            + " ("
            + cols
            + ", batch_id) SELECT "
            + cols
            + ", $batch FROM ("
            + self.checked_sql
            + ") WHERE _reason = '' AND "
            + rest,
            {**(self.checked_params or {}), "batch": self.batch_id},
        ).fetchone()[0]
        if written < self.source_rows - self.aside_rows:  # some lines broke a rule: find them (a second pass)
            self.con.execute(
                "INSERT INTO _checked SELECT * FROM (" + self.checked_sql + ") WHERE _reason <> '' AND " + rest,
                self.checked_params,
            )
        return written

    def _has_repeats(self, key: str) -> bool:
        return bool(
            self.con.execute(
                "SELECT 1 FROM _checked WHERE _reason = '' GROUP BY " + key + " HAVING count(*) > 1 LIMIT 1"
            ).fetchone()
        )

    def _reject_repeats(self, row_hash: str) -> None:
        name = _q(self.table.key[0])
        self.con.execute(
            "UPDATE _checked c SET _reason = "
            + _lit(self.table.key[0] + ' "')
            + " || c."
            + name
            + " || "
            + _lit('" appears earlier in this file (line ')
            + " || k._line || "
            + _lit(") with different values")
            + " FROM _kept k WHERE c."
            + name
            + " = k."
            + name
            + " AND c._reason = '' AND c._line <> k._line AND "
            + row_hash.format(a="c")
            + " <> "
            + row_hash.format(a="k")
        )

    def _reject_conflicts(self) -> None:
        name = _q(self.table.key[0])
        self.con.execute(
            "UPDATE _checked c SET _reason = "
            + _lit(self.table.key[0] + ' "')
            + " || c."
            + name
            + " || "
            + _lit('" is already loaded with different values')
            + " WHERE c._line IN (SELECT _line FROM _match WHERE NOT same)"
        )

    def _store_rejects(self) -> None:
        if self.fmt == "frame":
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE _bad AS SELECT line, reason, raw AS raw_record FROM _bad "
                "UNION ALL SELECT s._source_line, c._reason, s._raw FROM _checked c JOIN _src s USING (_line) "
                "WHERE c._reason <> ''"
            )
        else:
            if self.fmt == "jsonl":
                raw, join = "(SELECT l._raw FROM _lines l WHERE l._line = b.line)", ""
            else:
                raw = "CASE WHEN s._line IS NOT NULL THEN "
                raw += "json_merge_patch(to_json(s), '{\"_line\": null}')::VARCHAR END"
                join = "LEFT JOIN _src s ON s._line = b.line "
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE _bad AS SELECT b.line, b.reason, " + raw + " AS raw_record "
                "FROM (SELECT line, reason FROM _bad "
                "UNION ALL SELECT _line, _reason FROM _checked WHERE _reason <> '') b " + join
            )
        self.result.rejected = self.con.execute("SELECT count(*) FROM _bad").fetchone()[0]
        self.con.execute(
            "INSERT INTO rejected_rows SELECT ?, ?, ?, ?, b.line, b.reason, b.raw_record, ? FROM _bad b "
            "WHERE NOT EXISTS (SELECT 1 FROM rejected_rows r WHERE r.file_sha256 = ? AND r.line = b.line "
            "AND r.table_name = ? AND r.reason = b.reason)",
            [self.batch_id, str(self.path), self.digest, self.table.name, self.now, self.digest, self.table.name],
        )
