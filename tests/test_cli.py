"""`python -m analytics` as other tools use it: exit codes, one-line errors, one JSON object, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from analytics.cli import build_demo
from tests.conftest import write_csv

ROOT = Path(__file__).resolve().parents[1]
DATA_TABLES = (
    "teams",
    "people",
    "usage_events",
    "usage_daily",
    "outcomes",
    "eval_personas",
    "mart_person_day_tool",
    "mart_person_week",
    "mart_org_week",
    "mart_week_tool",
)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, text: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert text in lines[0]


def test_demo_json_and_status_agree(tmp_path):
    db = tmp_path / "demo.duckdb"
    out = cli("demo", "--db", str(db), "--users", "80", "--days", "21", "--seed", "2", "--end", "2026-10-31", "--json")
    assert out.returncode == 0, out.stderr
    built = json.loads(out.stdout)
    status = json.loads(cli("status", "--db", str(db), "--json").stdout)
    assert built["people"] == status["people"] == 80
    assert built["events"] == status["events"] and built["outcomes"] == status["outcomes"]
    assert status["last_day"] <= "2026-11-01" and status["rejected"] == 0
    again = cli("demo", "--db", str(db), "--users", "80", "--days", "21")
    assert_one_line_error(again, 1, "already exists; pass --replace")


def test_same_seed_gives_identical_tables(tmp_path):
    dbs = [tmp_path / "a.duckdb", tmp_path / "b.duckdb"]
    for db in dbs:
        build_demo(db, users=90, days=30, seed=11, end=date(2026, 10, 31))
    cons = [duckdb.connect(str(db), read_only=True) for db in dbs]
    for table in DATA_TABLES:
        query = f"SELECT COLUMNS(lambda c: c <> 'batch_id') FROM {table} ORDER BY ALL"
        first, second = (c.execute(query).fetchall() for c in cons)
        assert first == second and first, table
    other = tmp_path / "c.duckdb"
    build_demo(other, users=90, days=30, seed=12, end=date(2026, 10, 31))
    con = duckdb.connect(str(other), read_only=True)
    assert (
        con.execute("SELECT sum(input_tokens) FROM usage_events").fetchone()
        != cons[0].execute("SELECT sum(input_tokens) FROM usage_events").fetchone()
    )


def test_ingest_json_summary_and_failed_file_exit_code(tmp_path):
    db = str(tmp_path / "w.duckdb")
    good = write_csv(
        tmp_path / "usage_events.csv",
        "event_id,ts,user_id,tool,input_tokens,output_tokens",
        ["e1,2026-10-01T10:00:00Z,a1,claude-code,10,5", "e2,oops,a1,claude-code,10,5"],
    )
    out = cli("ingest", "--db", db, str(good), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert {k: summary[k] for k in ("files", "rows_read", "inserted", "updated", "duplicates", "rejected")} == {
        "files": 1,
        "rows_read": 2,
        "inserted": 1,
        "updated": 0,
        "duplicates": 0,
        "rejected": 1,
    }
    broken = write_csv(tmp_path / "outcomes.csv", "outcome_id,ts,user_id", ["o1,2026-10-01T10:00:00Z,a1"])
    out = cli("ingest", "--db", db, str(broken), "--json")
    assert out.returncode == 1
    assert json.loads(out.stdout)["failed"] == 1
    assert_one_line_error(cli("ingest", "--db", db, str(broken)), 1, "lacks required column(s) kind")


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (("ingest", "/no/such/file.csv"), 2, "no such file or folder"),
        (("ingest", "README.md"), 2, "cannot tell what"),
        (("ingest", "--format", "copilot", "README.md"), 2, "unknown --format"),
        (("adoption", "--week", "next-tuesday"), 2, "not a YYYY-MM-DD date"),
        (("demo", "--users", "0"), 2, "must be positive"),
        (("status",), 1, "no database at"),
        (("frobnicate",), 2, "invalid choice"),
    ],
)
def test_bad_usage_is_one_clear_line(tmp_path, args, code, text):
    assert_one_line_error(
        cli(*args[:1], "--db", str(tmp_path / "none.duckdb"), *args[1:]) if args[0] != "frobnicate" else cli(*args),
        code,
        text,
    )


def test_prices_command_round_trip(tmp_path):
    db = str(tmp_path / "p.duckdb")
    shown = json.loads(cli("prices", "--db", db, "--json").stdout)["prices"]
    assert {"model": "*", "token_type": "output", "usd_per_mtok": 15.0, "effective_from": "2024-01-01"} in shown
    bad = write_csv(tmp_path / "prices.csv", "model,token_type,usd_per_mtok,effective_from", ["*,input,-1,2024-01-01"])
    assert_one_line_error(cli("prices", "--db", db, str(bad)), 1, "line 2")
    assert json.loads(cli("prices", "--db", db, "--json").stdout)["prices"] == shown


def test_a_database_goodhart_did_not_create_is_left_alone(tmp_path):
    foreign = tmp_path / "sales.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE sales AS SELECT 1 AS amount")
    con.close()
    for args in (("status",), ("adoption",), ("refresh",), ("prices",)):
        assert_one_line_error(cli(*args, "--db", str(foreign)), 1, "Goodhart")
    events = write_csv(
        tmp_path / "usage_events.csv",
        "event_id,ts,user_id,tool,input_tokens,output_tokens",
        ["e1,2026-10-01T10:00:00Z,a1,claude-code,10,5"],
    )
    assert_one_line_error(cli("ingest", "--db", str(foreign), str(events)), 1, "did not create")
    con = duckdb.connect(str(foreign), read_only=True)
    assert [t for (t,) in con.execute("SHOW TABLES").fetchall()] == ["sales"]


def test_status_works_when_everything_was_rejected(tmp_path):
    db = str(tmp_path / "w.duckdb")
    bad = write_csv(
        tmp_path / "usage_events.csv",
        "event_id,ts,user_id,tool,input_tokens,output_tokens",
        ["e1,never,a1,claude-code,10,5"],
    )
    assert cli("ingest", "--db", db, str(bad)).returncode == 0
    status = json.loads(cli("status", "--db", db, "--json").stdout)
    assert (status["events"], status["rejected"], status["tokens"], status["first_day"]) == (0, 1, 0, None)


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("--end", "2099-01-01"), "--end must lie between 2000 and today"),
        (("--end", "0001-01-03"), "--end must lie between 2000 and today"),
        (("--users", "5"), "at least 20 --users"),
        (("--days", "3"), "at least 20 --users and 7 --days"),
    ],
)
def test_demo_refuses_impossible_sizes_and_dates(tmp_path, args, text):
    db = tmp_path / "demo.duckdb"
    assert_one_line_error(cli("demo", "--db", str(db), *args), 2, text)
    assert not db.exists()


def test_demo_replace_discards_a_stale_write_ahead_log(tmp_path):
    db = tmp_path / "demo.duckdb"
    build_demo(db, users=40, days=10, seed=1, end=date(2026, 10, 31))
    Path(f"{db}.wal").write_bytes(b"left by a killed writer")
    out = cli("demo", "--db", str(db), "--users", "40", "--days", "10", "--end", "2026-10-31", "--replace", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(cli("status", "--db", str(db), "--json").stdout)["people"] == 40
    assert not list(tmp_path.glob(".*.tmp*"))


def test_marts_from_an_older_goodhart_are_refused_by_readers_and_rebuilt_by_refresh(tmp_path):
    db = tmp_path / "old.duckdb"
    build_demo(db, users=40, days=14, seed=3, end=date(2026, 10, 31))
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = '1' WHERE key = 'marts_version'")  # as issue-2 builds left it
    con.close()
    assert_one_line_error(
        cli("status", "--db", str(db)), 1, "built by an older Goodhart: run `python -m analytics refresh"
    )
    assert cli("refresh", "--db", str(db)).returncode == 0
    assert cli("adoption", "--db", str(db), "--json").returncode == 0
