"""The Data page through AppTest: sources and their gaps, rejected records, unattributed identities, uploads."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import data_queries
from analytics.queries import Warehouse
from analytics.warehouse import connect_read_only

EVENT_HEADER = "event_id,ts,user_id,tool,input_tokens,output_tokens"


def data_page_script() -> None:
    from pages import data as data_page

    data_page.page()


def run_page(monkeypatch, db: Path) -> AppTest:
    monkeypatch.setenv("GOODHART_DB", str(db))
    return AppTest.from_function(data_page_script, default_timeout=60).run()


def frame(at: AppTest, column: str) -> pd.DataFrame:
    """The table that has `column` (tables are told apart by what they show)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, f"{len(found)} tables with a {column} column"
    return found[0]


def messages(at: AppTest) -> list[str]:
    return [e.value for e in (*at.success, *at.warning, *at.error)]


@pytest.fixture
def db_copy(demo_db, tmp_path) -> Path:
    """A private copy of the demo database: uploads write to it, never to the shared one."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, path)
    return path


def test_the_page_shows_every_source_and_the_unattributed_identities(monkeypatch, demo_db):
    at = run_page(monkeypatch, demo_db)
    assert not at.exception
    assert at.title[0].value == "Data"
    con = connect_read_only(demo_db)
    try:
        want_sources = data_queries.sources(con)
        want_unattributed = data_queries.unattributed(con)
    finally:
        con.close()
    sources = frame(at, "grain")
    assert sources["tool"].tolist() == want_sources["tool"].tolist()
    assert sources["rows_loaded"].tolist() == want_sources["rows_loaded"].tolist()
    assert {"events", "daily"} <= set(sources["grain"])
    unattributed = frame(at, "identity")
    assert len(unattributed) == len(want_unattributed) > 0
    assert unattributed["tokens"].sum() == want_unattributed["tokens"].sum()
    assert any("identity file" in c.value for c in at.caption)
    assert [b.label for b in at.get("download_button")] == ["Download unattributed identities (CSV)"]
    assert at.file_uploader[0].allowed_type == [".csv", ".parquet", ".jsonl", ".ndjson", ".json", ".gz"]


def test_an_upload_loads_into_the_database_and_shows_up(monkeypatch, db_copy):
    at = run_page(monkeypatch, db_copy)
    before = frame(at, "grain")
    assert "upload-test" not in set(before["tool"])
    csv = (
        EVENT_HEADER
        + "\nup1,2026-11-02T10:00:00Z,u-00001,upload-test,100,20\nup2,2026-11-04T10:00:00Z,u-00001,upload-test,5,5\n"
    )
    csv += "up3,not-a-time,u-00001,upload-test,1,1\n"
    at.file_uploader[0].set_value(("usage_events.csv", csv.encode(), "text/csv")).run()
    at.button(key="load_button").click().run()
    assert not at.exception
    assert messages(at) == ["usage\\_events\\.csv → usage\\_events: 2 inserted, 0 updated, 0 duplicates, 1 rejected"]
    sources = frame(at, "grain").set_index("tool")
    assert sources.loc["upload-test", "rows_loaded"] == 2
    assert sources.loc["upload-test", "tokens"] == 130
    assert sources.loc["upload-test", "gaps"] == "03 Nov 2026"  # a day inside its range with no data
    rejects = frame(at, "reason")
    assert rejects["reason"].iloc[0].startswith("ts is not an ISO-8601 timestamp")
    assert rejects["line"].iloc[0] == 4
    assert not at.file_uploader[0].value  # a fresh uploader for the next files
    con = connect_read_only(db_copy)
    try:
        assert con.execute("SELECT count(*) FROM usage_events WHERE tool = 'upload-test'").fetchone()[0] == 2
    finally:
        con.close()


def test_a_bad_upload_fails_in_one_line_and_loses_nothing(monkeypatch, db_copy):
    con = connect_read_only(db_copy)
    before = Warehouse(con).status()
    con.close()
    at = run_page(monkeypatch, db_copy)
    at.file_uploader[0].set_value(
        [
            ("usage_events.csv", b"event_id,ts\nx1,2026-11-02T10:00:00Z\n", "text/csv"),
            ("mystery.csv", b"a,b\n1,2\n", "text/csv"),
        ]
    ).run()
    at.button(key="load_button").click().run()
    assert not at.exception
    assert len(at.error) == 1 and len(messages(at)) == 1
    assert at.error[0].value.startswith("Nothing was loaded: cannot tell what mystery\\.csv holds")
    at.file_uploader[0].set_value(("usage_events.csv", b"event_id,ts\nx1,2026-11-02T10:00:00Z\n", "text/csv")).run()
    at.button(key="load_button").click().run()
    assert [e.value.split(":")[0] for e in at.error] == ["usage\\_events\\.csv"]
    assert "lacks required column" in at.error[0].value
    con = connect_read_only(db_copy)
    try:
        after = Warehouse(con).status()
    finally:
        con.close()
    assert after == before


def test_a_busy_database_is_reported_and_nothing_is_lost(monkeypatch, db_copy):
    from pages import data as data_page

    monkeypatch.setattr(data_page, "connect", _locked)
    at = run_page(monkeypatch, db_copy)
    at.file_uploader[0].set_value(
        ("usage_events.csv", (EVENT_HEADER + "\nb1,2026-11-02T10:00:00Z,u,t,1,1\n").encode(), "text/csv")
    ).run()
    at.button(key="load_button").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [data_page._plain(data_page.BUSY)]


def _locked(path, **kw):
    from analytics.warehouse import WarehouseError

    raise WarehouseError(f'cannot open {path}: IO Error: Could not set lock on file "{path}": Conflicting lock')


def test_gaps_are_listed_as_compact_runs():
    gaps = pd.DataFrame(
        {
            "tool": ["a", "a", "b"],
            "gap_start": pd.to_datetime(["2026-10-03", "2026-10-11", "2026-10-05"]),
            "gap_end": pd.to_datetime(["2026-10-05", "2026-10-11", "2026-10-05"]),
            "days": [3, 1, 1],
        }
    )
    assert data_queries.describe_gaps(gaps) == {"a": "03 Oct – 05 Oct 2026 (3 d), 11 Oct 2026", "b": "05 Oct 2026"}
    assert data_queries.describe_gaps(gaps, most=1)["a"] == "03 Oct – 05 Oct 2026 (3 d); and 1 more run(s)"
    assert data_queries.days_since(date(2026, 11, 20), date(2026, 11, 25)) == 5


def test_an_upload_with_a_very_long_name_loads(monkeypatch, db_copy):
    # A name past the file system's 255 bytes used to end the page in an OSError traceback.
    at = run_page(monkeypatch, db_copy)
    name = "usage_events-" + "é" * 200 + ".csv"
    csv = EVENT_HEADER + "\nlong1,2026-11-02T10:00:00Z,u-00001,long-name-test,7,3\n"
    at.file_uploader[0].set_value((name, csv.encode(), "text/csv")).run()
    at.button(key="load_button").click().run()
    assert not at.exception
    assert not at.error
    assert frame(at, "grain").set_index("tool").loc["long-name-test", "rows_loaded"] == 1


def test_an_unexpected_error_while_loading_is_one_line_not_a_traceback(monkeypatch, db_copy):
    from analytics import ingest

    def broken(*args, **kwargs):
        raise TypeError("'int' object is not iterable\nTraceback lines")

    monkeypatch.setattr(ingest, "ingest", broken)
    at = run_page(monkeypatch, db_copy)
    csv = EVENT_HEADER + "\nx1,2026-11-02T10:00:00Z,u-00001,t,1,1\n"
    at.file_uploader[0].set_value(("usage_events.csv", csv.encode(), "text/csv")).run()
    at.button(key="load_button").click().run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert error.startswith("Loading stopped at an unexpected TypeError") and "\n" not in error


def test_uploaded_names_lose_folders_patterns_and_control_characters_but_keep_their_extensions():
    from pages.data import NAME_BYTES, _safe_name

    assert _safe_name("../../etc/usage_events.csv") == "usage_events.csv"
    assert _safe_name("C:\\Users\\ada\\Downloads\\usage_events.csv") == "usage_events.csv"
    assert _safe_name("..") == "upload"
    assert _safe_name("people[1]\x00.csv") == "people_1__.csv"
    long = _safe_name("usage_events-" + "x" * 400 + ".jsonl.gz")
    assert long.startswith("usage_events-x") and long.endswith(".jsonl.gz") and len(long.encode()) <= NAME_BYTES
