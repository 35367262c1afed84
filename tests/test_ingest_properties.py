"""Property tests of the importer: whatever a file holds, every row is accounted for and a reload is a no-op."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import ingest
from analytics.warehouse import connect

IDS = st.sampled_from(["e1", "e2", "e3", "e4", "", " e5 "])
TIMES = st.sampled_from(["2026-10-01T10:00:00Z", "2026-10-02 08:30:00+02:00", "2099-01-01T00:00:00Z", "yesterday", ""])
COUNTS = st.one_of(st.integers(-5, 10**6).map(str), st.sampled_from(["", "1.5", "lots", "7.0", "1e3"]))
ROW = st.fixed_dictionaries(
    {
        "event_id": IDS,
        "ts": TIMES,
        "user_id": st.sampled_from(["a1", "B2@x.example", ""]),
        "tool": st.sampled_from(["claude-code", "chat", ""]),
        "initiated_by": st.sampled_from(["human", "agent", "schedule", "", "robot", "HUMAN"]),
        "input_tokens": COUNTS,
        "output_tokens": COUNTS,
    }
)


def write(rows: list[dict], folder: Path) -> Path:
    path = folder / "usage_events.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(ROW_KEYS))
        writer.writeheader()
        writer.writerows(rows)
    return path


ROW_KEYS = ("event_id", "ts", "user_id", "tool", "initiated_by", "input_tokens", "output_tokens")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=12))
def test_every_row_is_accounted_for_and_reloading_changes_nothing(rows):
    with tempfile.TemporaryDirectory() as folder:
        path = write(rows, Path(folder))
        con = connect(Path(folder) / "w.duckdb")
        first = ingest.ingest(con, [path]).results[0]
        assert first.status == "loaded"
        assert first.rows_read == len(rows)
        assert first.inserted + first.duplicates + first.rejected == len(rows)
        stored = con.execute("SELECT count(*) FROM usage_events").fetchone()[0]
        assert stored == first.inserted
        assert con.execute("SELECT count(*) FROM rejected_rows").fetchone()[0] == first.rejected
        snapshot = [
            con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("usage_events", "rejected_rows", "mart_person_day_tool")
        ]
        again = ingest.ingest(con, [path]).results[0]
        assert (again.inserted, again.updated, again.rejected) == (0, 0, first.rejected)
        assert again.duplicates == first.inserted + first.duplicates
        assert [
            con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("usage_events", "rejected_rows", "mart_person_day_tool")
        ] == snapshot
        con.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=0, max_size=6), st.lists(ROW, min_size=1, max_size=12))
def test_setting_lines_aside_gives_what_resolving_the_whole_file_gives(earlier_rows, rows):
    """Events go straight from the file into the table unless their id repeats in it or is loaded already;
    whatever the file and the database hold, that must end as resolving every line in one temporary table."""
    from datetime import datetime

    from analytics.ingest import _Loader

    states = []
    with tempfile.TemporaryDirectory() as folder:
        for whole in (False, True):
            _Loader.force_aside = whole
            try:
                con = connect(Path(folder) / f"w{whole}.duckdb")
                results = []
                for name, part in (("earlier", earlier_rows), ("later", rows)):
                    if not part:
                        continue
                    (Path(folder) / name).mkdir(exist_ok=True)
                    path = write(part, Path(folder) / name)
                    summary = ingest.ingest(con, [path], refresh=False, now=datetime(2026, 11, 1))
                    results += [(r.rows_read, r.inserted, r.duplicates, r.rejected) for r in summary.results]
                states.append(
                    [results]
                    + [
                        con.execute(f"SELECT * {exclude} FROM {t} ORDER BY ALL").fetchall()
                        for t, exclude in (
                            ("usage_events", ""),
                            ("rejected_rows", "EXCLUDE (rejected_at)"),
                            ("tool_sources", ""),
                        )
                    ]
                )
                con.close()
            finally:
                _Loader.force_aside = False
    assert states[0] == states[1]
