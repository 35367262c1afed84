"""Claude Code importers: OpenTelemetry metrics and log events, the Admin API usage report and local session
logs. Totals are hand-computed from the fixture files; rejects keep their line and reason; reloads change nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analytics import formats, ingest
from analytics.formats.claude_code_sessions import prompt_fingerprint
from tests.conftest import write_csv

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "formats" / "claude_code"
METRICS = FIXTURES / "otel-metrics.jsonl"
LOGS = FIXTURES / "otel-logs.jsonl"
MIXED = FIXTURES / "otel-mixed.jsonl"
ADMIN = FIXTURES / "claude-code-admin.json"
SESSION = FIXTURES / "session-ada.jsonl"
SHARED_SESSION = FIXTURES / "ccusage-session-alpha.jsonl"  # ccusage's public fixture, MIT
ADA = "ada@acme.example"
MINE = {"claude-code-otel", "claude-code-admin", "claude-code-sessions", "otel-genai"}


def tokens_by_type(con, table: str) -> tuple:
    return con.execute(
        f"SELECT sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), "
        f"round(sum(cost_usd), 6) FROM {table}"
    ).fetchone()


def outcomes_by_kind(con) -> dict[str, float]:
    return dict(con.execute("SELECT kind, sum(quantity) FROM outcomes GROUP BY kind").fetchall())


def rejects(con) -> list[tuple[int, str]]:
    rows = con.execute("SELECT line, reason FROM rejected_rows ORDER BY line, reason").fetchall()
    return [(line, reason.split(" (")[0]) for line, reason in rows]


def snapshot(con) -> dict[str, list]:
    tables = ("usage_events", "usage_daily", "outcomes", "rejected_rows")
    return {t: sorted(map(str, con.execute(f"SELECT * EXCLUDE (batch_id) FROM {t}").fetchall())) for t in tables}


# -- detection ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [(METRICS, "claude-code-otel"), (LOGS, "claude-code-otel"), (MIXED, "claude-code-otel"),
     (ADMIN, "claude-code-admin"), (SESSION, "claude-code-sessions"), (SHARED_SESSION, "claude-code-sessions")],
)  # fmt: skip
def test_each_file_is_claimed_by_its_adapter(path, name):
    assert ingest.discover([path]) == ([(path, f"telemetry:{name}")], [])


def test_none_of_these_adapters_claims_other_formats_or_canonical_files(tmp_path):
    fixtures = HERE / "fixtures" / "formats"
    others = [p for p in fixtures.rglob("*") if p.is_file() and p.parent.name not in ("claude_code", "otel_genai")]
    for path in others:
        adapter = formats.detect(path)
        assert adapter is None or adapter.name not in MINE, path
    canonical = write_csv(
        tmp_path / "usage_events.csv",
        "event_id,ts,user_id,tool,model,session_id,input_tokens,output_tokens",
        ["e1,2026-10-01T10:00:00Z,ada@acme.example,claude-code,claude-sonnet-4-5,sessionId,1,2"],
    )
    jsonl = tmp_path / "outcomes.jsonl"
    jsonl.write_text('{"outcome_id": "o1", "ts": "2026-10-01T10:00:00Z", "user_id": "a", "kind": "commit"}\n')
    for path in (canonical, jsonl):
        head = formats.head_text(path)
        assert not any(formats.registry()[name].sniff(head) for name in MINE), path
    assert ingest.discover([canonical, jsonl])[0] == [(canonical, "usage_events"), (jsonl, "outcomes")]


# -- OpenTelemetry metrics ----------------------------------------------------------------------------------


def test_metrics_become_daily_rows_per_person_day_and_model_with_exact_totals(con):
    summary = ingest.ingest(con, [METRICS])
    assert not summary.failed
    rows = con.execute(
        "SELECT day::VARCHAR, user_id, tool, model, input_tokens, output_tokens, cache_read_tokens, "
        "cache_write_tokens, round(cost_usd, 6), active_minutes FROM usage_daily ORDER BY user_id, day, model"
    ).fetchall()
    assert rows == [
        ("2026-10-05", "ada@acme.example", "claude-code-metrics", "", 0, 0, 0, 0, None, 15.0),
        (
            "2026-10-05",
            "ada@acme.example",
            "claude-code-metrics",
            "claude-sonnet-4-5",
            1200,
            300,
            5000,
            800,
            0.05,
            None,
        ),
        ("2026-10-06", "ada@acme.example", "claude-code-metrics", "claude-sonnet-4-5", 800, 200, 0, 0, 0.03, None),
        # cumulative series: 100, 250, 400 is 400 tokens, not 750; output 10, 30 is 30
        ("2026-10-05", "cy@acme.example", "claude-code-metrics", "claude-sonnet-4-5", 400, 30, 0, 0, None, None),
        # no e-mail: the account uuid is the identity
        ("2026-10-06", "uuid-bo", "claude-code-metrics", "claude-haiku-4-5", 100, 50, 0, 0, 0.001, None),
    ]
    assert tokens_by_type(con, "usage_daily") == (2500, 580, 5000, 800, 0.081)
    # cy's cumulative lines 5 then 20 are two outcomes, 5 and 15
    assert outcomes_by_kind(con) == {
        "lines_added": 60,
        "lines_removed": 12,
        "commit": 1,
        "pr_opened": 1,
        "edit_accepted": 3,
        "edit_rejected": 1,
    }
    assert con.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 0


def test_metric_rejects_keep_line_and_reason_and_a_resent_batch_counts_once(con):
    summary = ingest.ingest(con, [METRICS])
    assert rejects(con) == [
        (4, "line is not valid JSON"),
        (5, "claude_code.token.usage data point names nobody"),
        (5, 'claude_code.token.usage type "reasoning" is not input, output, cacheRead or cacheCreation'),
        (5, "claude_code.token.usage value is negative"),
        (5, "day 2099-01-01 is more than a day in the future"),
    ]
    notes = " ".join(w for r in summary.results for w in r.warnings)
    assert "repeated metric data point" in notes  # line 6 repeats line 2; the totals above count it once
    assert "claude_code.session.count" in notes


def test_reloading_metrics_and_logs_changes_nothing(con):
    ingest.ingest(con, [METRICS, LOGS])
    before = snapshot(con)
    again = ingest.ingest(con, [METRICS, LOGS])
    assert again.totals()["inserted"] == again.totals()["updated"] == 0
    assert snapshot(con) == before


# -- OpenTelemetry log events --------------------------------------------------------------------------------


def test_api_requests_become_events_with_turns_told_apart(con):
    ingest.ingest(con, [LOGS])
    rows = con.execute(
        "SELECT event_id, user_id, model, session_id, prompt_id, initiated_by, input_tokens, output_tokens, "
        "cache_read_tokens, cache_write_tokens, cost_usd, prompt_chars, prompt_fingerprint "
        "FROM usage_events ORDER BY ts"
    ).fetchall()
    sonnet, haiku = "claude-sonnet-4-5", "claude-haiku-4-5"
    assert rows == [
        # the first call of a typed prompt is the human turn; its prompt text was redacted
        ("claude-code:req_01", ADA, sonnet, "sess-ada-1", "p-1", "human", 10, 200, 3000, 500, 0.02, 42, None),
        # the loop's next call and the sub-agent serve the same turn
        ("claude-code:req_02", ADA, sonnet, "sess-ada-1", "p-1", "agent", 5, 100, 3500, 0, 0.01, None, None),
        ("claude-code:req_03", ADA, haiku, "sess-ada-1", "p-1", "agent", 300, 80, 0, 0, 0.001, None, None),
        # its user_prompt is not in the file, so nobody can say who started it
        ("claude-code:req_10", "uuid-bo", haiku, "sess-bo-1", "p-9", "unknown", 50, 20, 0, 0, 0.002, None, None),
        # prompt text exported: fingerprinted, never stored
        ("claude-code:req_11", "uuid-bo", haiku, "sess-bo-1", "p-10", "human", 70, 30, 0, 0, 0.003, 33,
         prompt_fingerprint("Fix the failing test in parser.py")),
    ]  # fmt: skip
    assert "parser.py" not in str(snapshot(con)["usage_events"])
    assert tokens_by_type(con, "usage_events") == (435, 430, 6500, 500, 0.036)
    assert outcomes_by_kind(con) == {"edit_accepted": 1, "edit_rejected": 1}  # Bash decisions are not edits
    assert rejects(con) == [
        (3, "line is not valid JSON"),
        (4, "api_request names nobody"),
        (4, "input_tokens is negative"),
        (4, 'tool_decision decision "maybe" is not accept or reject'),
        (4, "ts 2099-01-01T00:00:00.000Z is more than a day in the future"),
    ]


def test_within_one_file_events_win_over_metrics_for_the_same_person_and_day(con):
    summary = ingest.ingest(con, [MIXED])
    assert con.execute("SELECT user_id, input_tokens, output_tokens FROM usage_events").fetchall() == [
        ("ada@acme.example", 10, 200)
    ]
    assert con.execute("SELECT user_id, input_tokens, output_tokens FROM usage_daily").fetchall() == [
        ("dee@acme.example", 77, 7)
    ]
    assert outcomes_by_kind(con) == {"edit_accepted": 1}
    notes = " ".join(w for r in summary.results for w in r.warnings)
    assert "already cover" in notes


# -- Admin API usage report ----------------------------------------------------------------------------------


def test_admin_report_loads_daily_rows_per_actor_and_model_and_outcomes(con):
    summary = ingest.ingest(con, [ADMIN])
    rows = con.execute(
        "SELECT day::VARCHAR, user_id, tool, model, input_tokens, output_tokens, cache_read_tokens, "
        "cache_write_tokens, round(cost_usd, 2) FROM usage_daily ORDER BY user_id, model"
    ).fetchall()
    assert rows == [
        # two records for ada that day (two terminals) add up; cents become dollars
        ("2026-10-05", "ada@acme.example", "claude-code-admin", "claude-haiku-4-5", 500, 200, 0, 100, 0.04),
        ("2026-10-05", "ada@acme.example", "claude-code-admin", "claude-sonnet-4-5", 5000, 1600, 20000, 3000, 2.8),
        # the API key's record, repeated word for word in the file, counts once
        ("2026-10-05", "api-key:ci-bot", "claude-code-admin", "claude-sonnet-4-5", 9000, 3000, 0, 0, 9.0),
    ]
    assert outcomes_by_kind(con) == {
        "lines_added": 430,
        "lines_removed": 30,
        "commit": 2,
        "pr_opened": 2,
        "edit_accepted": 16,
        "edit_rejected": 3,
    }
    # noon UTC: the report's day is the local day for people from UTC-11 to UTC+11
    assert {str(t) for (t,) in con.execute("SELECT DISTINCT ts FROM outcomes").fetchall()} == {"2026-10-05 12:00:00"}
    assert rejects(con) == [
        (5, "model_breakdown[0].tokens.output is negative"),
        (6, "record names nobody"),
        (7, "day 2099-01-01 is more than a day in the future"),
        (7, "ts 2099-01-01T12:00:00Z is more than a day in the future"),
        (8, 'date "06/10/2026" is not a YYYY-MM-DD day'),
    ]
    assert "repeated word for word" in " ".join(w for r in summary.results for w in r.warnings)
    before = snapshot(con)
    again = ingest.ingest(con, [ADMIN])
    assert again.totals()["inserted"] == again.totals()["updated"] == 0
    assert snapshot(con) == before


def test_admin_pages_as_json_lines_load_like_the_document(con, tmp_path):
    pages = json.loads(ADMIN.read_text())["data"][:3]
    path = tmp_path / "claude-code-usage-2026-10.jsonl"
    path.write_text(
        json.dumps({"data": pages[:2], "has_more": True}) + "\n" + json.dumps({"data": pages[2:], "has_more": False})
    )
    assert ingest.discover([path])[0] == [(path, "telemetry:claude-code-admin")]
    ingest.ingest(con, [path])
    assert tokens_by_type(con, "usage_daily") == (14500, 4800, 20000, 3100, 11.84)


# -- local session logs ----------------------------------------------------------------------------------------


def test_session_log_merges_repeated_lines_and_tells_turns_apart(con):
    summary = ingest.ingest(con, [SESSION])
    rows = con.execute(
        "SELECT event_id, user_id, prompt_id, initiated_by, input_tokens, output_tokens, cache_read_tokens, "
        "cache_write_tokens, prompt_chars, prompt_fingerprint FROM usage_events ORDER BY ts"
    ).fetchall()
    first, second = "Add a retry with backoff to the HTTP client", "Now add tests for it"
    who = "os-user:ada"  # from cwd /Users/ada/...: an account, not yet a person
    assert rows == [
        # three lines of one response (same message and request id): one event, largest output kept
        ("claude-code:req_01", who, "u-1", "human", 4, 12, 10000, 2000, len(first), prompt_fingerprint(first)),
        ("claude-code:req_02", who, "u-1", "agent", 6, 2, 12000, 300, None, None),  # after a tool result
        ("claude-code:req_03", who, "u-1", "agent", 100, 3, 0, 0, None, None),  # sidechain: a sub-agent
        ("claude-code:req_07", who, "u-13", "human", 3, 1, 15000, 100, len(second), prompt_fingerprint(second)),
    ]  # fmt: skip
    assert rejects(con) == [
        (10, "line is not valid JSON"),
        (11, "input_tokens is negative"),
        (12, "ts 2099-01-01T00:00:00.000Z is more than a day in the future"),
        (15, "line names neither a person nor a session"),
    ]
    notes = " ".join(w for r in summary.results for w in r.warnings)
    assert "2 line(s) repeated a response" in notes
    assert "streaming placeholder" in notes and "under-count" in notes
    assert "<synthetic>" in notes
    assert "loads as unattributed (os-user:ada)" in notes


def test_the_shared_ccusage_sample_loads_three_responses_and_duplicates_collapse(con, tmp_path):
    # the sample holds three responses (msg-alpha-1..3, req-alpha-1..3) for one session and names nobody
    doubled = tmp_path / "chat.jsonl"
    lines = SHARED_SESSION.read_text().splitlines()
    doubled.write_text("\n".join(lines + lines[:2]) + "\n")  # the first two responses written again
    for path in (SHARED_SESSION, doubled):
        ingest.ingest(con, [path])
        assert con.execute("SELECT count(*), count(DISTINCT user_id) FROM usage_events").fetchone() == (3, 1)
        assert tokens_by_type(con, "usage_events") == (600, 250, 70, 75, 1.02)
    assert con.execute("SELECT DISTINCT user_id, initiated_by FROM usage_events").fetchall() == [
        ("claude-code-session:session-alpha", "unknown")
    ]
    assert con.execute("SELECT count(*) FROM rejected_rows").fetchone()[0] == 0


def test_session_log_identity_field_wins_and_the_same_call_from_otel_is_not_counted_twice(con, tmp_path):
    lines = [json.loads(line) for line in SHARED_SESSION.read_text().splitlines()]
    lines[0]["userEmail"] = "ada@acme.example"
    lines[0]["requestId"] = "req_01"  # the call that otel-logs.jsonl also reports
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    summary = ingest.ingest(con, [LOGS, path])  # OpenTelemetry first: its counts are the accurate ones
    assert con.execute(
        "SELECT user_id, output_tokens FROM usage_events WHERE event_id = 'claude-code:req_01'"
    ).fetchone() == (
        "ada@acme.example",
        200,
    )
    assert con.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 5 + 2
    session_result = next(r for r in summary.results if r.file == str(path))
    assert session_result.rejected == 1  # the overlap, reported as a conflict rather than added
    assert (
        "already loaded with different values"
        in con.execute("SELECT reason FROM rejected_rows WHERE file = ?", [str(path)]).fetchone()[0]
    )


def test_prompt_fingerprint_is_16_hex_digits_and_ignores_case_and_spacing():
    a = prompt_fingerprint("Fix the failing test in parser.py")
    assert len(a) == 16 and int(a, 16) >= 0
    assert prompt_fingerprint("  fix THE failing test, in parser.py ") == a
    near = prompt_fingerprint("Fix the failing test in parser.py please")
    far = prompt_fingerprint("Write a haiku about database migrations at night")
    distance = lambda x, y: bin(int(x, 16) ^ int(y, 16)).count("1")  # noqa: E731
    assert distance(a, near) < distance(a, far)
    assert prompt_fingerprint("...") is None


# -- command line -------------------------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analytics", *args], capture_output=True, text=True, cwd=HERE.parent)


def test_cli_ingests_claude_code_files_and_status_counts_their_outcomes(tmp_path):
    db = tmp_path / "cc.duckdb"
    folder = tmp_path / "exports"
    folder.mkdir()
    for path in (METRICS, ADMIN):
        shutil.copy(path, folder / path.name)
    done = cli("ingest", str(folder), "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["files"], report["rejected"]) == (4, 10)  # two files, each feeding daily rows and outcomes
    status = cli("status", "--db", str(db), "--json")
    assert status.returncode == 0, status.stderr
    counts = json.loads(status.stdout)
    assert counts["daily_rows"] == 5 + 3
    assert counts["outcomes_by_kind"]["lines_added"] == 60 + 430
    assert counts["tokens"] == (2500 + 580 + 5000 + 800) + (14500 + 4800 + 20000 + 3100)


# -- odd but plausible input --------------------------------------------------------------------------------


def test_a_malformed_otlp_batch_is_rejected_whole_and_the_other_batches_load(con, tmp_path):
    # A batch whose scopeLogs is a string used to stop the whole ingest with an AttributeError.
    lines = LOGS.read_text().splitlines()
    broken = json.loads(lines[0])
    broken["resourceLogs"][0]["scopeLogs"] = "truncated"
    path = tmp_path / "otel-logs.jsonl"
    path.write_text("\n".join([json.dumps(broken), *lines[1:]]) + "\n")
    summary = ingest.ingest(con, [path])
    assert not summary.failed
    assert (1, "not an OTLP/JSON export batch: scopeLogs is not a list of objects") in rejects(con)
    assert con.execute("SELECT count(*) FROM usage_events").fetchone()[0] > 0


def test_a_metric_point_with_an_unreadable_time_is_rejected_and_the_file_loads(con, tmp_path):
    # A cumulative point whose timeUnixNano is not a number used to fail the whole file with "invalid literal".
    start, end, later = "1760000000000000000", "1760000060000000000", "2025-10-09T10:00:00Z"
    points = [
        {"startTimeUnixNano": start, "timeUnixNano": end, "asInt": "1"},
        {"startTimeUnixNano": start, "timeUnixNano": later, "asInt": "2"},
    ]
    commits = {"name": "claude_code.commit.count", "sum": {"aggregationTemporality": 2, "dataPoints": points}}
    resource = {"attributes": [{"key": "user.email", "value": {"stringValue": ADA}}]}
    batch = {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": [commits]}]}]}
    path = tmp_path / "otel-metrics.jsonl"
    path.write_text(json.dumps(batch) + "\n")
    summary = ingest.ingest(con, [path])
    assert not summary.failed
    assert outcomes_by_kind(con) == {"commit": 1}
    assert rejects(con) == [(1, "claude_code.commit.count data point has no timeUnixNano in nanoseconds since 1970")]


def test_an_admin_record_whose_model_breakdown_is_not_a_list_is_rejected(con, tmp_path):
    document = json.loads(ADMIN.read_text())
    document["data"][0]["model_breakdown"] = {"model": "claude-sonnet-4"}
    path = tmp_path / "claude-code-admin.json"
    path.write_text(json.dumps(document))
    summary = ingest.ingest(con, [path])
    assert not summary.failed
    assert (1, "model_breakdown is not a list") in rejects(con)
