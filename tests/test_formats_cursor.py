"""Cursor Admin API exports: usage events with exact tokens and cost under tool `cursor`, daily usage
data as daily rows and outcomes under `cursor-daily`, deterministic ids, bad records kept with reasons."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analytics import formats, ingest
from tests.formats_helpers import daily, outcomes_by_kind

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "formats" / "cursor"
EVENTS = FIXTURES / "usage-events.json"  # one API page; records 4-6 broken
EVENTS_NDJSON = FIXTURES / "usage-events-display.ndjson"  # dashboard shape; line 3 broken, line 4 a page
DAILY = FIXTURES / "daily-usage.json"  # records 4-6 broken


def events(con) -> list[tuple]:
    return con.execute(
        "SELECT CAST(ts AS VARCHAR), user_id, tool, model, session_id, initiated_by, input_tokens, output_tokens, "
        "cache_read_tokens, cache_write_tokens, cost_usd FROM usage_events ORDER BY ts"
    ).fetchall()


def rejected(con) -> list[tuple]:
    return con.execute("SELECT line, reason FROM rejected_rows ORDER BY line").fetchall()


@pytest.mark.parametrize(
    ("path", "name"), [(EVENTS, "cursor-events"), (EVENTS_NDJSON, "cursor-events"), (DAILY, "cursor-daily")]
)
def test_each_export_is_claimed_by_its_adapter_and_no_other(path, name):
    head = formats.head_text(path)
    assert [a.name for a in formats.registry().values() if a.sniff(head)] == [name]
    assert ingest.discover([path])[0] == [(path, f"telemetry:{name}")]


def test_usage_events_load_with_exact_tokens_and_cost(con):
    summary = ingest.ingest(con, [EVENTS])
    [result] = summary.results
    assert (result.table, result.inserted, result.rejected) == ("usage_events", 3, 3)
    assert events(con) == [
        # no chargedCents: the model cost, 3.5 cents
        (
            "2026-10-05 11:00:00",
            "ada@acme.example",
            "cursor",
            "claude-4-sonnet",
            None,
            "unknown",
            1200,
            300,
            5000,
            100,
            0.035,
        ),
        # request-priced, no tokenUsage: zero tokens, no cost of its own (the price table's)
        ("2026-10-05 11:01:00", "bo@acme.example", "cursor", "gpt-5", None, "unknown", 0, 0, 0, 0, None),
        # chargedCents (21.5, token fee included) wins over the model cost (20.0)
        (
            "2026-10-05 11:02:00",
            "ada@acme.example",
            "cursor",
            "claude-4-opus",
            None,
            "unknown",
            126,
            450,
            11964,
            6112,
            0.215,
        ),
    ]
    assert any("1 event(s) carry no tokenUsage" in w for w in result.warnings)
    assert rejected(con) == [
        (4, "record names no user (no userEmail or owningUser)"),
        (5, 'timestamp is not epoch milliseconds: "soon"'),
        (6, "tokenUsage.inputTokens is negative (-5)"),
    ]


def test_dashboard_events_take_owning_user_conversation_and_headless_agents(con):
    ingest.ingest(con, [EVENTS_NDJSON])
    assert events(con) == [
        ("2026-10-05 12:00:00", "376012765", "cursor", "composer-1", "conv-1", "unknown", 3595, 998, 151103, 0, 0.0345),
        ("2026-10-05 12:00:30", "376012765", "cursor", "composer-1", "conv-1", "agent", 1000, 100, 20000, 500, 0.012),
        # from a whole response page saved on one line
        ("2026-10-06 09:15:00", "376012766", "cursor", "gpt-5", None, "unknown", 10, 20, 0, 0, 0.001),
    ]
    assert rejected(con) == [(3, "line is not valid JSON")]


def test_event_ids_are_deterministic_whatever_the_wrapper(con, tmp_path):
    ingest.ingest(con, [EVENTS, EVENTS_NDJSON])
    before = events(con)
    again = ingest.ingest(con, [EVENTS, EVENTS_NDJSON])
    assert [(r.inserted, r.duplicates) for r in again.results] == [(0, 3), (0, 3)]
    # the same events exported one per line, with keys in another order, are the same events
    page = json.loads(EVENTS.read_text())["usageEvents"][:3]
    lines = tmp_path / "cursor-events-2026-10.ndjson"
    lines.write_text("".join(json.dumps(dict(reversed(e.items()))) + "\n" for e in page))
    [result] = ingest.ingest(con, [lines]).results
    assert (result.inserted, result.duplicates) == (0, 3)
    assert events(con) == before
    ids = con.execute("SELECT event_id FROM usage_events").fetchall()
    assert all(event_id.startswith("cursor:") and len(event_id) == 31 for (event_id,) in ids)


def test_daily_usage_loads_requests_prompts_and_outcomes(con):
    summary = ingest.ingest(con, [DAILY])
    by_table = {r.table: r for r in summary.results}
    assert (by_table["usage_daily"].inserted, by_table["usage_daily"].rejected) == (3, 3)
    assert by_table["outcomes"].inserted == 9
    assert daily(con) == [
        # prompts: composer 4 + chat 6 + agent 3 + Cmd+K 2 = 15; requests add 50 tab completions shown
        ("2026-10-05", "ada@acme.example", "cursor-daily", "", 65, 15, 0, 0, None),
        # the organizations endpoint's shape: a `day` and a user id, no e-mail
        ("2026-10-05", "u-42", "cursor-daily", "", 25, 25, 0, 0, None),
        ("2026-10-06", "ada@acme.example", "cursor-daily", "", 10, 0, 0, 0, None),
    ]
    # accepts 7 + tabs 30, tabs 4, accepts 3; lines from accepted suggestions only
    assert outcomes_by_kind(con) == {"edit_accepted": 44, "edit_rejected": 2, "lines_added": 166, "lines_removed": 22}
    assert con.execute("SELECT DISTINCT tool FROM outcomes").fetchall() == [("cursor-daily",)]
    assert rejected(con) == [
        (4, "record names no user (no email or userId)"),
        (5, "chatRequests is negative (-1)"),
        (6, 'date is not epoch milliseconds: "yesterday"'),
    ]


def test_reloading_daily_usage_changes_nothing_and_a_corrected_day_replaces_its_row(con, tmp_path):
    ingest.ingest(con, [DAILY])
    before = daily(con), outcomes_by_kind(con), len(rejected(con))
    again = ingest.ingest(con, [DAILY])
    assert sum(r.inserted + r.updated for r in again.results) == 0
    assert (daily(con), outcomes_by_kind(con), len(rejected(con))) == before

    report = json.loads(DAILY.read_text())
    report["data"][0]["chatRequests"] = 16  # the day re-pulled later: ten more chats
    report["data"] = report["data"][:3]
    corrected = tmp_path / "cursor-daily-repull.json"
    corrected.write_text(json.dumps(report))
    by_table = {r.table: r for r in ingest.ingest(con, [corrected]).results}
    assert (by_table["usage_daily"].updated, by_table["usage_daily"].inserted) == (1, 0)
    assert by_table["outcomes"].inserted == 0
    assert daily(con)[0][4:6] == (75, 25)


def test_events_and_daily_rows_live_side_by_side_under_two_tool_names(con):
    summary = ingest.ingest(con, [EVENTS, DAILY])
    assert not summary.failed
    grains = con.execute("SELECT tool, grain FROM tool_sources ORDER BY tool").fetchall()
    assert grains == [("cursor", "usage_events"), ("cursor-daily", "usage_daily")]
    assert sum(r.rejected for r in summary.results) == 6  # only the broken records


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_cli_ingest_with_forced_format_and_status(tmp_path):
    db = str(tmp_path / "cursor.duckdb")
    renamed = tmp_path / "export.txt"
    renamed.write_text(EVENTS.read_text())
    out = cli("ingest", str(renamed), "--format", "cursor-events", "--json", "--db", db)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout)
    assert (loaded["inserted"], loaded["rejected"]) == (3, 3)
    status = json.loads(cli("status", "--db", db, "--json").stdout)
    assert status["tokens"] == 1200 + 300 + 5000 + 100 + 126 + 450 + 11964 + 6112
    assert status["unattributed_identities"] == 2  # ada and bo: no people loaded
    assert status["rejected"] == 3
