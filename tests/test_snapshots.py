"""Serving while data arrives: published snapshots, the app following them, and writers killed mid-ingest."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from analytics import ingest, marts, snapshots
from analytics.warehouse import connect, connect_read_only

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("teams", "people", "usage_events", "usage_daily", "outcomes", "ingest_log")
CHUNKS = 10


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[Path]:
    """A small demo organisation's canonical files, events and outcomes split so a load is several commits."""
    from analytics import demo

    folder = tmp_path_factory.mktemp("files")
    made = demo.generate(folder / "gen", users=60, days=40, seed=3, end=date(2026, 11, 20))
    out = [made.folder / "teams.parquet", made.folder / "people.parquet", made.folder / "usage_daily.parquet"]
    con = duckdb.connect()
    for table in ("usage_events", "outcomes"):
        source = made.folder / f"{table}.parquet"
        for i in range(CHUNKS):
            target = folder / f"{table}-{i}.parquet"
            con.execute(f"COPY (SELECT * FROM read_parquet('{source}') WHERE hash(ts) % {CHUNKS} = {i}) TO '{target}'")
            out.append(target)
    con.close()
    return out


def counts(path: Path) -> dict[str, int]:
    """Row counts of the database (or snapshot) at `path`, opened as the app opens it."""
    con = connect_read_only(path)
    try:
        got = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        got["mart_tokens"] = con.execute("SELECT COALESCE(sum(tokens), 0) FROM mart_person_day_tool").fetchone()[0]
        got["event_tokens"] = sum(
            con.execute(
                "SELECT COALESCE(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0) "
                f"FROM {t}"
            ).fetchone()[0]
            for t in ("usage_events", "usage_daily")
        )
        return got
    finally:
        con.close()


def run_ingest(db: Path, paths: list[Path]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "analytics", "ingest", "--db", str(db), "--json", *map(str, paths)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


# -- publishing and following the pointer -----------------------------------------------------------------


def test_publish_numbers_versions_and_moves_the_pointer(tmp_path, files):
    db = tmp_path / "usage.duckdb"
    con = connect(db)
    try:
        assert snapshots.current(db) is None  # never published: the app serves the database itself
        first = snapshots.publish(con, db)
        assert first == tmp_path / "usage.snapshots" / "00000001.duckdb"
        assert snapshots.current(db) == first
        ingest.ingest(con, files[:2])
        second = snapshots.publish(con, db)
    finally:
        con.close()
    assert second.name == "00000002.duckdb" and snapshots.current(db) == second
    assert counts(first)["people"] == 0  # a published snapshot never changes
    assert counts(second)["people"] == counts(db)["people"] > 0


def test_old_snapshots_are_pruned_and_leftovers_swept(tmp_path):
    db = tmp_path / "usage.duckdb"
    con = connect(db)
    try:
        published = [snapshots.publish(con, db, keep=2) for _ in range(4)]
        folder = snapshots.folder_for(db)
        # what a publisher killed mid-copy, or between the rename and the pointer, leaves behind
        (folder / ".00000005.duckdb.999.tmp").write_bytes(b"half a database")
        (folder / ".CURRENT.999.tmp").write_text("garbage")
        orphan = folder / "00000005.duckdb"
        orphan.write_bytes(published[-1].read_bytes())
        assert snapshots.current(db) == published[-1]  # the pointer never names an unfinished copy
        newest = snapshots.publish(con, db, keep=2)
    finally:
        con.close()
    assert newest.name == "00000006.duckdb"
    assert sorted(p.name for p in folder.iterdir()) == ["00000005.duckdb", "00000006.duckdb", "CURRENT"]


def test_a_pointer_to_a_missing_file_falls_back_to_the_newest_snapshot(tmp_path):
    db = tmp_path / "usage.duckdb"
    con = connect(db)
    try:
        first, second = snapshots.publish(con, db), snapshots.publish(con, db)
    finally:
        con.close()
    second.unlink()
    assert snapshots.current(db) == first


def test_an_open_snapshot_keeps_serving_after_it_is_pruned(tmp_path, files):
    db = tmp_path / "usage.duckdb"
    con = connect(db)
    try:
        ingest.ingest(con, files[:2])
        first = snapshots.publish(con, db, keep=1)
        reader = connect_read_only(first)
        people = reader.execute("SELECT count(*) FROM people").fetchone()[0]
        snapshots.publish(con, db, keep=1)
    finally:
        con.close()
    assert not first.exists()
    assert reader.execute("SELECT count(*) FROM people").fetchone()[0] == people
    reader.close()


def test_the_app_follows_the_pointer_within_its_check_interval(tmp_path, monkeypatch, files):
    from pages._shared import data

    db = tmp_path / "usage.duckdb"
    monkeypatch.setenv("GOODHART_DB", str(db))
    con = connect(db)
    con.close()
    data.recheck_snapshot()
    before = data.warehouse()  # no snapshot yet: the database itself, read-only
    assert data.serving_path(db) is None
    before.close()
    data._open.clear()
    con = connect(db)  # (the read-only open above is closed, so this process may write)
    try:
        ingest.ingest(con, files[:2])
        published = snapshots.publish(con, db)
        # the writer still holds the database: the app opens the snapshot, never the writer's file
        monkeypatch.setattr(data, "POINTER_CHECK_S", 0.0)
        assert data.serving_path(db) == published
        wh = data.warehouse()
        assert wh.con.execute("SELECT count(*) FROM people").fetchone()[0] > 0
        ingest.ingest(con, files[2:3])
        monkeypatch.setattr(data, "POINTER_CHECK_S", 3600.0)
        newer = snapshots.publish(con, db)
        assert data.serving_path(db) == published  # not re-read yet
        data.recheck_snapshot()
        assert data.serving_path(db) == newer
        assert data.warehouse().con.execute("SELECT count(*) FROM usage_daily").fetchone()[0] > 0
    finally:
        con.close()
        data._open.clear()
        data.recheck_snapshot()


def test_marts_catch_up_after_a_writer_died_between_load_and_refresh(tmp_path, files):
    db = tmp_path / "usage.duckdb"
    con = connect(db)
    try:
        ingest.ingest(con, files, refresh=False)  # as if killed before the marts refresh committed
        assert marts.behind(con)
        again = ingest.ingest(con, files)  # every file already loaded: nothing inserted, yet the marts catch up
        assert sum(r.inserted for r in again.results) == 0 and again.refreshed and not marts.behind(con)
    finally:
        con.close()
    got = counts(db)
    assert got["mart_tokens"] == got["event_tokens"] > 0


# -- a writer killed at random points ---------------------------------------------------------------------


def test_killing_the_ingester_at_random_points_never_breaks_serving(tmp_path, files):
    """SIGKILL a real `ingest` at seeded random moments, at least 10 times: the app's reader keeps opening the
    last published snapshot (no lock error; counts unchanged unless a newer one was completely published),
    and a final run loads exactly what one clean ingest of the same files loads."""
    base, events, outcomes = files[:3], files[3 : 3 + CHUNKS], files[3 + CHUNKS :]
    clean = tmp_path / "clean.duckdb"
    started = time.perf_counter()
    done = run_ingest(clean, files)
    assert done.wait(120) == 0, done.stderr.read().decode()
    full_run_s = time.perf_counter() - started
    want = counts(clean)

    db = tmp_path / "usage.duckdb"
    done = run_ingest(db, base)  # the org first: a snapshot to serve
    assert done.wait(120) == 0, done.stderr.read().decode()
    rng = random.Random(8)
    serving = snapshots.current(db)
    seen = counts(serving)
    kills = 0
    for round_ in range(30):
        if kills >= 10:
            break
        # each round brings two new files (and whatever a killed round left unloaded)
        n = min(round_ + 1, CHUNKS)
        writer = run_ingest(db, [*base, *events[:n], *outcomes[:n]])
        deadline = time.perf_counter() + rng.uniform(0.2, full_run_s)
        while time.perf_counter() < deadline and writer.poll() is None:
            # read while the writer holds the database, as the app does: never a lock error
            now = snapshots.current(db)
            got = counts(now)
            if now == serving:
                assert got == seen
            time.sleep(0.05)
        if writer.poll() is None:
            writer.kill()  # SIGKILL
            kills += 1
        writer.wait()
        now = snapshots.current(db)
        got = counts(now)
        if now == serving:
            assert got == seen, "a killed writer changed the snapshot being served"
        else:  # the writer published before it ended: a newer, complete snapshot
            assert now.name > serving.name
            assert all(got[t] >= seen[t] for t in TABLES)
            serving, seen = now, got
        assert got["mart_tokens"] == got["event_tokens"], "a snapshot whose marts lag its rows"
    assert kills >= 10

    done = run_ingest(db, files)
    assert done.wait(120) == 0, done.stderr.read().decode()
    final = counts(snapshots.current(db))
    for table in ("teams", "people", "usage_events", "usage_daily", "outcomes"):
        assert final[table] == want[table], table
    assert final["mart_tokens"] == want["mart_tokens"] == final["event_tokens"]
    con = connect_read_only(snapshots.current(db))
    try:
        assert con.execute("SELECT count(*) - count(DISTINCT event_id) FROM usage_events").fetchone()[0] == 0
        assert con.execute("SELECT count(*) - count(DISTINCT outcome_id) FROM outcomes").fetchone()[0] == 0
    finally:
        con.close()
    # what killed publishers left (temporary copies) went with the next publish
    assert not [p.name for p in snapshots.folder_for(db).iterdir() if p.name.startswith(".")]
