"""The audit log: every view of individual-level data, append-only and tamper-evident.

One JSON object per line in `<db>.audit.jsonl` beside the warehouse (or `$GOODHART_AUDIT`): when,
who looked (e-mail and role), which page, and whose data or which scope (each text field at most
1,000 characters). Lines are only ever appended, under an exclusive lock, and each carries the SHA-256
of the previous line's hash and its own content, so an edited or deleted line breaks the chain
`verify` walks.

Deleting lines from the end leaves a shorter chain that is still intact, so beside the log sits a
head file, `<log>.head`: JSON with the number of lines written and the last line's hash, replaced
atomically (`os.replace`) after every append under the same lock. `verify` reports a log with fewer
lines than the head says, or whose line at that count has another hash. (Removing the log and its
head together is not detectable from the files alone: keep copies elsewhere when that matters.)

`read` skips lines it cannot parse and says how many (`frame.attrs["unreadable"]`); `verify` names
the first of them as where the chain breaks.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analytics import sidestore

COLUMNS = ["at", "viewer", "role", "page", "subject", "scope"]
GENESIS = "0" * 64
MAX_FIELD = 1000  # characters kept of any one field; longer text ends in "…"
CHUNK = 4096


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


def head_path(store: Path) -> Path:
    """The head file beside the log: how many lines were written and the last one's hash."""
    return store.with_name(store.name + ".head")


def _clip(text: object) -> str:
    text = str(text)
    return text if len(text) <= MAX_FIELD else text[: MAX_FIELD - 1] + "…"


def _last_line(fd: int) -> bytes:
    """The last non-blank line of the file, however long: read backwards from the end in growing chunks until
    a newline precedes it (or the file's start does)."""
    size = os.lseek(fd, 0, os.SEEK_END)
    back = CHUNK
    while True:
        back = min(back, size)
        tail = os.pread(fd, back, size - back).rstrip()
        if b"\n" in tail or back == size:
            return tail.rsplit(b"\n", 1)[-1].strip()
        back *= 2


def _last_hash(fd: int) -> str:
    tail = _last_line(fd)
    if not tail:
        return GENESIS
    try:
        return json.loads(tail)["hash"]
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditError(f"the audit log's last line is damaged ({exc}); nothing appended") from None


def _read_head(store: Path) -> dict | None:
    """The head file's {"lines": int, "hash": str}, or None when it is missing or unreadable."""
    try:
        head = json.loads(head_path(store).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(head, dict) or not isinstance(head.get("lines"), int) or not isinstance(head.get("hash"), str):
        return None
    return head


def _count_lines(fd: int) -> int:
    """Non-blank lines in the file (as `verify` counts them): only for a log without a head file."""
    size, chunks, pos = os.lseek(fd, 0, os.SEEK_END), [], 0
    while pos < size:
        chunk = os.pread(fd, min(1 << 20, size - pos), pos)
        if not chunk:
            break
        chunks.append(chunk)
        pos += len(chunk)
    return sum(1 for line in b"".join(chunks).splitlines() if line.strip())


def _write_head(store: Path, lines: int, last: str) -> None:
    head = head_path(store)
    fd, tmp = tempfile.mkstemp(prefix=head.name + ".", suffix=".tmp", dir=head.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump({"lines": lines, "hash": last}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, head)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def record(store: Path, *, viewer: str, role: str, page: str, subject: str, scope: str) -> dict:
    """Append one view. Raises AuditError when the log cannot be written (the caller then withholds the view)."""
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "viewer": _clip(viewer or "(demo viewer)"),
        "role": _clip(role),
        "page": _clip(page),
        "subject": _clip(subject),
        "scope": _clip(scope),
    }
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(store, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise AuditError(f"cannot open the audit log {store.name}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        entry["hash"] = _digest(_last_hash(fd), entry)
        head = _read_head(store)
        # the head counts every line ever written; without one (a log from before heads) count the file once
        written = head["lines"] if head is not None else _count_lines(fd)
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
        size = os.lseek(fd, 0, os.SEEK_END)
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line  # a last line cut short of its newline must not run into this one
        os.write(fd, line)
        _write_head(store, written + 1, entry["hash"])
    except OSError as exc:
        raise AuditError(f"cannot append to the audit log {store.name}: {exc.strerror}") from None
    finally:
        os.close(fd)  # closing releases the lock
    return entry


def _lines(store: Path) -> list[str]:
    return [line for line in store.read_bytes().decode(errors="replace").splitlines() if line.strip()]


def read(store: Path) -> pd.DataFrame:
    """Every recorded view, newest first (empty when nothing was recorded yet).

    Lines that cannot be parsed are skipped; how many is in `frame.attrs["unreadable"]` (`verify` says where).
    """
    rows, unreadable = [], 0
    if store.exists():
        for line in _lines(store):
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if isinstance(entry, dict):
                rows.append(entry)
            else:
                unreadable += 1
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "hash"]).iloc[::-1].reset_index(drop=True)
    frame.attrs["unreadable"] = unreadable
    return frame


@dataclass(frozen=True)
class Check:
    """What `check` found. `problem` is one of "", "chain" (a line edited, removed or unreadable: at
    `line`), "truncated" (fewer lines than the head says were written), "head" (the line the head
    names has another hash: at `line`) or "no head" (a log without its head file: trailing lines could
    have been removed undetected; a warning, not a break)."""

    intact: bool
    lines: int  # non-blank lines in the log
    line: int  # the first line that does not follow; for "truncated", the first missing one; else `lines`
    problem: str = ""
    written: int | None = None  # lines the head says were written (None: no readable head)


def check(store: Path) -> Check:
    """Walk the hash chain, then hold the log against its head file."""
    head = _read_head(store)
    lines = _lines(store) if store.exists() else []
    previous, hashes = GENESIS, []
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
            ok = entry.get("hash") == _digest(previous, entry)
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            return Check(False, len(lines), number, "chain", None if head is None else head["lines"])
        previous = entry["hash"]
        hashes.append(previous)
    if head is None:
        if head_path(store).exists() or lines:
            return Check(True, len(lines), len(lines), "no head")
        return Check(True, 0, 0)
    written = head["lines"]
    if len(lines) < written:
        return Check(False, len(lines), len(lines) + 1, "truncated", written)
    if written and hashes[written - 1] != head["hash"]:
        return Check(False, len(lines), written, "head", written)
    return Check(True, len(lines), len(lines), "", written)


def verify(store: Path) -> tuple[bool, int]:
    """(intact, lines checked): False with the 1-based number of the first line whose hash does not follow,
    or, when lines were removed from the end, the first line the head file says is missing."""
    found = check(store)
    return found.intact, found.line
