"""Publishes immutable, versioned copies of the warehouse, so the app serves while a writer works.

DuckDB allows one read-write process or many read-only ones, never both, so the app never opens the file a
writer holds. After every write the writer (which holds the database's lock, so publishers never race)
checkpoints, copies the file to a temporary name in `<db stem>.snapshots/`, fsyncs it, checks it opens,
renames it to the next number (`00000042.duckdb`) and then atomically replaces the pointer file `CURRENT`.
Readers follow the pointer. A writer killed at any point leaves the pointer naming the last complete
snapshot; its temporary files are removed by the next publish. Each version has a file name of its own:
within one process DuckDB hands a reopened path the instance already open, so a name is never reused.
The newest `KEEP` snapshots stay; older ones are deleted (a reader that has one open keeps reading it, as
Linux keeps an unlinked file alive while it is open).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import duckdb

from analytics.warehouse import WarehouseError, connect, connect_read_only

POINTER = "CURRENT"
KEEP = 3
_NAME = re.compile(r"^(\d{8})\.duckdb$")


def folder_for(db_path: Path | str) -> Path:
    """`<db stem>.snapshots/` beside the database (beside the side files, which stay with the database)."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.snapshots")


def _numbers(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _NAME.match(p.name)))


def current(db_path: Path | str) -> Path | None:
    """The snapshot the pointer names, or None when nothing was ever published (serve the database itself).

    A pointer naming a missing file (someone deleted it) falls back to the newest snapshot there is.
    """
    return _pointed(folder_for(db_path))


def _pointed(folder: Path) -> Path | None:
    try:
        name = (folder / POINTER).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if _NAME.match(name) and (folder / name).is_file():
        return folder / name
    numbers = _numbers(folder)
    return folder / f"{numbers[-1]:08d}.duckdb" if numbers else None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _sweep(folder: Path, keep: int) -> None:
    """Remove what killed publishers left (temporary files) and all but the newest `keep` snapshots."""
    for leftover in folder.glob(".*.tmp*"):
        leftover.unlink(missing_ok=True)
    pointed = _pointed(folder)
    for number in _numbers(folder)[:-keep]:
        old = folder / f"{number:08d}.duckdb"
        if old != pointed:
            old.unlink(missing_ok=True)


def publish(con: duckdb.DuckDBPyConnection, db_path: Path | str, *, keep: int = KEEP) -> Path:
    """Publish what `con` (the read-write connection holding `db_path`) has committed; return the snapshot.

    Call it after the write commits, before closing `con`: holding the database's lock is what keeps two
    publishers from racing for the same number.
    """
    db_path = Path(db_path)
    folder = folder_for(db_path)
    folder.mkdir(exist_ok=True)
    _sweep(folder, keep)
    # everything committed into the main file, the write-ahead log emptied: the file alone is the database
    con.execute("CHECKPOINT")
    numbers = _numbers(folder)
    target = folder / f"{(numbers[-1] if numbers else 0) + 1:08d}.duckdb"
    tmp = folder / f".{target.name}.{os.getpid()}.tmp"
    try:
        # A plain copy: measured 0.11 s for a 3.1 M-event (152 MiB) database against 2.95 s for
        # ATTACH + COPY FROM DATABASE, which rewrites every table.
        shutil.copyfile(db_path, tmp)
        _fsync(tmp)
        _check(tmp, con)
        os.replace(tmp, target)
        _write_atomically(folder / POINTER, target.name + "\n")
        _fsync(folder)
    finally:
        tmp.unlink(missing_ok=True)
    _sweep(folder, keep)
    return target


def _check(snapshot: Path, con: duckdb.DuckDBPyConnection) -> None:
    """The copy opens as a Goodhart database read-only and holds the writer's data version."""
    want = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
    copy = connect_read_only(snapshot)
    try:
        got = copy.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
    finally:
        copy.close()
    if got != want:
        raise WarehouseError(f"the snapshot copy of the database does not match it ({got} != {want})")


def publish_path(db_path: Path | str, *, attempts: int = 5) -> Path:
    """Open the database read-write (retrying briefly while another writer holds it) and publish it."""
    for attempt in range(attempts):
        try:
            con = connect(db_path, create=False)
            break
        except WarehouseError as exc:
            if "lock" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    try:
        return publish(con, db_path)
    finally:
        con.close()
