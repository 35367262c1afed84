"""The audit log: every view of individual-level data, append-only and tamper-evident.

One JSON object per line in `<db>.audit.jsonl` beside the warehouse (or `$GOODHART_AUDIT`): when,
who looked (e-mail and role), which page, and whose data or which scope. Lines are only ever
appended, under an exclusive lock, and each carries the SHA-256 of the previous line's hash and its
own content, so an edited or deleted line breaks the chain `verify` walks.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analytics import sidestore

COLUMNS = ["at", "viewer", "role", "page", "subject", "scope"]
GENESIS = "0" * 64


class AuditError(Exception):
    """The audit log cannot be written or read; individual-level data is then not shown."""


def path_for(db_path: Path | str) -> Path:
    override = os.environ.get("GOODHART_AUDIT")
    if override:
        return Path(override)
    return sidestore.path_for(db_path, "audit", "GOODHART_AUDIT").with_suffix(".jsonl")


def _digest(previous: str, entry: dict) -> str:
    body = json.dumps({k: entry[k] for k in COLUMNS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256((previous + body).encode()).hexdigest()


def _last_hash(fd: int) -> str:
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return GENESIS
    back = min(size, 4096)
    os.lseek(fd, size - back, os.SEEK_SET)
    tail = os.read(fd, back).decode(errors="replace").rstrip("\n").rsplit("\n", 1)[-1]
    try:
        return json.loads(tail)["hash"]
    except (ValueError, KeyError) as exc:
        raise AuditError(f"the audit log's last line is damaged ({exc}); nothing appended") from None


def record(store: Path, *, viewer: str, role: str, page: str, subject: str, scope: str) -> dict:
    """Append one view. Raises AuditError when the log cannot be written (the caller then withholds the view)."""
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "viewer": viewer or "(demo viewer)",
        "role": role,
        "page": page,
        "subject": subject,
        "scope": scope,
    }
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(store, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise AuditError(f"cannot open the audit log {store.name}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        entry["hash"] = _digest(_last_hash(fd), entry)
        os.write(fd, (json.dumps(entry, ensure_ascii=False) + "\n").encode())
    except OSError as exc:
        raise AuditError(f"cannot append to the audit log {store.name}: {exc.strerror}") from None
    finally:
        os.close(fd)  # closing releases the lock
    return entry


def read(store: Path) -> pd.DataFrame:
    """Every recorded view, newest first (empty when nothing was recorded yet)."""
    if not store.exists():
        return pd.DataFrame(columns=[*COLUMNS, "hash"])
    rows = [json.loads(line) for line in store.read_text().splitlines() if line.strip()]
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "hash"])
    return frame.iloc[::-1].reset_index(drop=True)


def verify(store: Path) -> tuple[bool, int]:
    """(intact, lines checked): False with the 1-based number of the first line whose hash does not follow."""
    if not store.exists():
        return True, 0
    previous = GENESIS
    lines = [line for line in store.read_text().splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
            ok = entry.get("hash") == _digest(previous, entry)
        except (ValueError, KeyError):
            ok = False
        if not ok:
            return False, number
        previous = entry["hash"]
    return True, len(lines)
