"""Data, for admins: is every source complete and fresh, what was rejected and why, whom telemetry names
that no person matches, and loading new files."""

from __future__ import annotations

import gc
import re
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from analytics import data_queries, ingest, snapshots
from analytics.queries import Warehouse
from analytics.warehouse import WarehouseError, connect
from pages._shared import data

UPLOAD_TYPES = ["csv", "parquet", "jsonl", "ndjson", "json", "gz"]
RESULT_KEY = "goodhart.data.last_load"
UPLOADER_KEY = "goodhart.data.uploader"
BUSY = (
    "The database is busy (another process or session is using it for writing); nothing was loaded and "
    "nothing is lost. Try again in a moment."
)
_UPLOAD_LOCK = threading.Lock()  # one upload at a time per server: each needs the database to itself


# -- cached loaders: keyed by database, data version and the latest load, so a new load shows at once ----


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _sources(_wh: Warehouse, key: tuple) -> pd.DataFrame:
    return data_queries.sources(_wh.con)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _gaps(_wh: Warehouse, key: tuple) -> pd.DataFrame:
    return data_queries.gaps(_wh.con)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _reject_files(_wh: Warehouse, key: tuple) -> pd.DataFrame:
    return data_queries.reject_files(_wh.con)


@st.cache_data(ttl=600, max_entries=64, show_spinner=False)
def _rejects(_wh: Warehouse, key: tuple, file: str | None) -> pd.DataFrame:
    return data_queries.rejects(_wh.con, file=file)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _rejects_csv(_wh: Warehouse, key: tuple, file: str | None) -> bytes:
    rows = data_queries.rejects(_wh.con, file=file, max_rows=data_queries.REJECTS_EXPORTED, raw_chars=10_000)
    return rows.to_csv(index=False).encode()


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _unattributed(_wh: Warehouse, key: tuple) -> pd.DataFrame:
    return data_queries.unattributed(_wh.con)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _loads(_wh: Warehouse, key: tuple) -> pd.DataFrame:
    return data_queries.loads(_wh.con)


class DataLoaders:
    """What the Data page reads, cached per database state."""

    def __init__(self, wh: Warehouse, db_path: Path):
        self.wh = wh
        self.key = (str(db_path), wh.data_version, data_queries.last_load(wh.con))

    def sources(self) -> pd.DataFrame:
        return _sources(self.wh, self.key)

    def gaps(self) -> pd.DataFrame:
        return _gaps(self.wh, self.key)

    def reject_files(self) -> pd.DataFrame:
        return _reject_files(self.wh, self.key)

    def rejects(self, file: str | None) -> pd.DataFrame:
        return _rejects(self.wh, self.key, file)

    def rejects_csv(self, file: str | None) -> bytes:
        return _rejects_csv(self.wh, self.key, file)

    def unattributed(self) -> pd.DataFrame:
        return _unattributed(self.wh, self.key)

    def loads(self) -> pd.DataFrame:
        return _loads(self.wh, self.key)


# -- the page ------------------------------------------------------------------------------------------


def main(loaders: DataLoaders, *, today: date, upload: Callable[[list[tuple[str, bytes]]], list[tuple[str, str]]]):
    st.title("Data")
    st.caption("Everything the database holds, whatever the date range in the sidebar.")
    sources_section(loaders.sources(), loaders.gaps(), today)
    rejects_section(loaders)
    unattributed_section(loaders.unattributed())
    upload_section(upload)
    loads_section(loaders.loads())


def sources_section(sources: pd.DataFrame, gaps: pd.DataFrame, today: date) -> None:
    st.subheader("Sources")
    if sources.empty:
        st.info("No source has sent data yet. Load files below.")
        return
    table = sources.copy()
    table["days_since_data"] = [data_queries.days_since(d, today) for d in table["last_day"]]
    described = data_queries.describe_gaps(gaps)
    table["gaps"] = [described.get(str(t), "") for t in table["tool"]]
    st.dataframe(
        table[
            [
                "tool",
                "grain",
                "first_day",
                "last_day",
                "days_since_data",
                "rows_loaded",
                "outcome_rows",
                "tokens",
                "cost_usd",
                "gap_days",
                "gaps",
                "last_loaded_at",
            ]
        ],
        hide_index=True,
        key="sources_table",
        column_config={
            "tool": st.column_config.TextColumn("Source"),
            "grain": st.column_config.TextColumn(
                "Grain", help="events: one row per call; daily: one row per person per day; or outcomes only"
            ),
            "first_day": st.column_config.DateColumn("First day"),
            "last_day": st.column_config.DateColumn("Last day"),
            "days_since_data": st.column_config.NumberColumn(
                "Days since data", format="%d", help="Freshness: days from the source's last day of data to today"
            ),
            "rows_loaded": st.column_config.NumberColumn("Rows", format="compact", help="Events or daily rows"),
            "outcome_rows": st.column_config.NumberColumn("Outcomes", format="compact"),
            "tokens": st.column_config.NumberColumn("Tokens", format="compact"),
            "cost_usd": st.column_config.NumberColumn("Cost", format="$%.0f"),
            "gap_days": st.column_config.NumberColumn(
                "Gap days", format="%d", help="Days between the first and last day with no data from this source"
            ),
            "gaps": st.column_config.TextColumn("Gaps", help="The days with no data, as runs", width="large"),
            "last_loaded_at": st.column_config.DatetimeColumn("Last loaded (UTC)", format="YYYY-MM-DD HH:mm"),
        },
    )
    st.caption(
        "A gap is a day with no data at all from that source: a missing export, or a day nobody used the tool. "
        "Gaps are shown as gaps, never filled with zeros."
    )


def rejects_section(loaders: DataLoaders) -> None:
    st.subheader("Rejected records")
    files = loaders.reject_files()
    if files.empty:
        st.caption("No record has been rejected.")
        return
    total = int(files["rejected"].sum())
    st.caption(
        f"{total:,} record(s) in {len(files)} file(s) broke the contract and were not loaded; the rest of each "
        "file loaded. Fix them at the source and load the file again."
    )
    options = [None, *files["file"].tolist()]
    counts = dict(zip(files["file"], files["rejected"], strict=True))
    chosen = st.selectbox(
        "File",
        options,
        format_func=lambda f: "All files" if f is None else f"{f} ({counts[f]:,})",
        key="rejects_file",
    )
    rows = loaders.rejects(chosen)
    st.dataframe(
        rows,
        hide_index=True,
        key="rejects_table",
        column_config={
            "rejected_at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm"),
            "file": st.column_config.TextColumn("File"),
            "table_name": st.column_config.TextColumn("Table / format"),
            "line": st.column_config.NumberColumn("Line", format="%d"),
            "reason": st.column_config.TextColumn("Reason", width="large"),
            "raw_record": st.column_config.TextColumn(
                "Record", help=f"The source record, cut to {data_queries.RAW_SHOWN} characters", width="large"
            ),
        },
    )
    shown = len(rows)
    of = total if chosen is None else counts[chosen]
    if shown < of:
        st.caption(
            f"Showing the latest {shown:,} of {of:,}; the download holds up to {data_queries.REJECTS_EXPORTED:,}."
        )
    st.download_button(
        "Download rejected records (CSV)",
        data=lambda: loaders.rejects_csv(chosen),
        file_name="rejected-records.csv",
        mime="text/csv",
        key="rejects_download",
        on_click="ignore",
    )


def unattributed_section(identities: pd.DataFrame) -> None:
    st.subheader("Unattributed identities")
    if identities.empty:
        st.caption("Every telemetry identity matches a person.")
        return
    st.caption(
        f"{len(identities):,} telemetry identit(ies) (e-mails, logins, account ids) match no person, so their "
        f"{int(identities['tokens'].sum()):,} tokens count in tool totals but in no team. Map these with an "
        "identity file (columns identity, user_id[, source]): the usage then joins the right person."
    )
    st.dataframe(
        identities,
        hide_index=True,
        key="unattributed_table",
        column_config={
            "identity": st.column_config.TextColumn("Identity"),
            "tools": st.column_config.TextColumn("Tools"),
            "tokens": st.column_config.NumberColumn("Tokens", format="compact"),
            "cost_usd": st.column_config.NumberColumn("Cost", format="$%.2f"),
            "requests": st.column_config.NumberColumn("Requests", format="compact"),
            "first_day": st.column_config.DateColumn("First day"),
            "last_day": st.column_config.DateColumn("Last day"),
        },
    )
    st.download_button(
        "Download unattributed identities (CSV)",
        data=identities.to_csv(index=False).encode(),
        file_name="unattributed-identities.csv",
        mime="text/csv",
        key="unattributed_download",
        on_click="ignore",
    )


def upload_section(upload: Callable[[list[tuple[str, bytes]]], list[tuple[str, str]]]) -> None:
    st.subheader("Load files")
    st.caption(
        "Canonical files (teams, people, usage_events, usage_daily, outcomes as CSV, Parquet or JSON Lines, "
        "named after their table), identity maps (`identity_map.csv`: identity, user_id), and known "
        "telemetry exports, told by their content. Bad rows are kept with their reason; loading a file "
        "again changes nothing."
    )
    generation = st.session_state.get(UPLOADER_KEY, 0)
    files = st.file_uploader(
        "Files to load", type=UPLOAD_TYPES, accept_multiple_files=True, key=f"{UPLOADER_KEY}.{generation}"
    )
    if st.button("Load", type="primary", disabled=not files, key="load_button"):
        st.session_state[RESULT_KEY] = upload([(f.name, f.getvalue()) for f in files])
        st.session_state[UPLOADER_KEY] = generation + 1  # a fresh, empty uploader
        st.rerun()
    for kind, text in st.session_state.get(RESULT_KEY, []):
        {"ok": st.success, "warning": st.warning, "error": st.error}[kind](_plain(text))


def loads_section(loads: pd.DataFrame) -> None:
    if loads.empty:
        return
    with st.expander("Recent loads"):
        st.dataframe(loads, hide_index=True, key="loads_table")


# -- loading uploads -------------------------------------------------------------------------------------


def load_files(db_path: Path, files: list[tuple[str, bytes]], wh: Warehouse | None) -> list[tuple[str, str]]:
    """Load uploaded (name, content) pairs into the database at `db_path`; one (kind, line) per message.

    The app serves a published snapshot, so the database itself is free to open read-write; after the load
    a new snapshot is published and the next run serves it. A database with no snapshot yet is served
    itself, read-only, and DuckDB refuses a read-write open beside that in one process, so then the
    read-only connection is closed first and reopened by the next run.
    """
    bar = st.progress(0.0, text="Saving the uploaded files…")
    # The folder's name stays in the load log and beside rejected records: say it was an upload, and when.
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with tempfile.TemporaryDirectory(prefix=f"goodhart-upload-{stamp}-") as folder:
        paths = []
        for i, (name, content) in enumerate(files):
            target = Path(folder) / str(i) / _safe_name(name)  # own folder each: same names do not collide
            target.parent.mkdir()
            target.write_bytes(content)
            paths.append(target)
        with _UPLOAD_LOCK:
            con = _open_for_writing(db_path, wh)
            if isinstance(con, str):
                bar.empty()
                return [("error", con)]
            try:
                summary = ingest.ingest(
                    con, paths, progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=_plain(m))
                )
                snapshots.publish(con, db_path)  # what committed, even when a file failed
            except (ValueError, FileNotFoundError, WarehouseError, duckdb.Error) as exc:
                return [("error", "Nothing was loaded: " + re.sub(re.escape(folder) + r"/\d+/", "", _one_line(exc)))]
            except Exception as exc:  # a bug of ours: one line, never a traceback; each file loads whole or not
                text = re.sub(re.escape(folder) + r"/\d+/", "", _one_line(exc))
                return [
                    (
                        "error",
                        f"Loading stopped at an unexpected {type(exc).__name__}: {text}. Files loaded before it "
                        "stay loaded (see Recent loads); the file it stopped at loaded nothing.",
                    )
                ]
            finally:
                con.close()
                _forget_read_only(db_path)
                bar.empty()
    return summarize(summary, folder)


def _open_for_writing(db_path: Path, wh: Warehouse | None) -> duckdb.DuckDBPyConnection | str:
    """A read-write connection, or the one-line reason there is none."""
    if snapshots.current(db_path) is None:  # the app serves the database itself: let go of it first
        if wh is not None:
            wh.close()
        _forget_read_only(db_path)
    for attempt in range(4):
        try:
            return connect(db_path, create=False)
        except WarehouseError as exc:
            text = str(exc).lower()
            if not any(sign in text for sign in ("lock", "configuration", "conflict", "in use")):
                return "Nothing was loaded: " + _one_line(exc)
            # Held elsewhere, or another session is still finishing a query on the read-only instance.
            time.sleep(0.2 * (attempt + 1))
            gc.collect()
    return BUSY


def _forget_read_only(db_path: Path) -> None:
    """Serve what was just published (or reopen the database) on the next run."""
    data.recheck_snapshot()
    if snapshots.current(db_path) is None:
        data._open.clear()  # the cached read-only Warehouse; its connection closes with it
        gc.collect()


def summarize(summary: ingest.IngestSummary, folder: str = "") -> list[tuple[str, str]]:
    """One line per file and table loaded, per warning and per failure (upload folders left out)."""

    def local(text: str) -> str:
        return re.sub(re.escape(folder) + r"/\d+/", "", text) if folder else text

    lines: list[tuple[str, str]] = []
    for r in summary.results:
        name = Path(r.file).name
        if r.status == "failed":
            lines.append(("error", f"{name}: not loaded: {local(r.message)}"))
            continue
        if r.status == "skipped":
            lines.append(("warning", f"{name}: skipped, nothing to load: {local(r.message)}"))
            continue
        lines.append(
            (
                "ok",
                f"{name} → {r.table}: {r.inserted:,} inserted, {r.updated:,} updated, "
                f"{r.duplicates:,} duplicates, {r.rejected:,} rejected",
            )
        )
        lines.extend(("warning", local(w)) for w in r.warnings)
    lines.extend(("warning", local(w)) for w in summary.warnings)
    return lines


NAME_BYTES = 200  # file systems allow 255 bytes a name; the rest is room for what DuckDB adds


def _safe_name(name: str) -> str:
    """An uploaded file's name, safe to create in the upload folder: no folders (either slash), no
    characters DuckDB reads as patterns or a file system refuses, and short enough, keeping its extensions
    (they, and its start, say what the file holds)."""
    base = re.split(r"[\\/]", name)[-1].lstrip(".") or "upload"
    base = "".join("_" if ch in "*?[]" or ord(ch) < 32 else ch for ch in base)
    if len(base.encode()) <= NAME_BYTES:
        return base
    suffix = "".join(s for s in Path(base).suffixes[-2:] if len(s) <= 12)
    stem = base[: len(base) - len(suffix)]
    room = NAME_BYTES - len(suffix.encode())
    return stem.encode()[:room].decode(errors="ignore") + suffix


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _plain(text: str) -> str:
    """Text shown through Streamlit's markdown without any of it acting as markup."""
    return "".join("\\" + ch if ch in "\\`*_{}[]<>()#+-.!|~$" else ch for ch in str(text))


def page(view=None) -> None:
    """Entry point for st.navigation (the router offers it to admins, or to anyone while the database is empty)."""
    if view is not None and view.viewer.role != "admin":  # a second lock behind the router's
        st.error("The Data page is for admins.")
        return
    path = data.db_path()
    wh = data.warehouse()
    loaders = DataLoaders(wh, path)
    main(loaders, today=datetime.now(UTC).date(), upload=lambda files: load_files(path, files, wh))
