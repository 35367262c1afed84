"""GitHub Copilot reports: per-user reports become daily rows and outcomes with hand-checked totals, the
org totals report, seat lists and 28-day totals are refused clearly, and reloading changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analytics import formats, ingest
from tests.conftest import write_csv
from tests.formats_helpers import daily, outcomes_by_kind

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "formats" / "copilot"
ORG_USERS = FIXTURES / "organization-users-1-day-report.json"  # GitHub's sample
ENTERPRISE_USERS = FIXTURES / "enterprise-users-1-day-report.json"  # GitHub's sample
ORG_TOTALS = FIXTURES / "organization-1-day-report.json"  # GitHub's sample
SEATS = FIXTURES / "enterprise_seats_with_duplicates.json"  # GitHub's sample
USERS_NDJSON = FIXTURES / "users-28-day.ndjson"  # hand-written, lines 4-7 broken
ENTERPRISE_28_DAY = FIXTURES / "enterprise-users-28-day-report.json"  # hand-written


def counts(con) -> dict[str, int]:
    tables = ("usage_daily", "outcomes", "rejected_rows")
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (ORG_USERS, "copilot-users"),
        (ENTERPRISE_USERS, "copilot-users"),
        (USERS_NDJSON, "copilot-users"),
        (ENTERPRISE_28_DAY, "copilot-users"),
        (ORG_TOTALS, "copilot-org-totals"),
        (SEATS, "copilot-seats"),
    ],
)
def test_each_report_is_claimed_by_its_adapter_and_no_other(path, name):
    head = formats.head_text(path)
    assert [a.name for a in formats.registry().values() if a.sniff(head)] == [name]
    assert ingest.discover([path])[0] == [(path, f"telemetry:{name}")]


def test_sniffers_leave_canonical_files_and_other_json_alone(tmp_path):
    canonical = write_csv(tmp_path / "events.csv", "event_id,ts,user_id,tool", ["e1,2026-10-01T10:00:00Z,a1,copilot"])
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"data": [{"day": "2026-10-01", "login": "x", "requests": 3}]}))
    for path in (canonical, other):
        head = formats.head_text(path)
        assert not [a.name for a in formats.registry().values() if a.name.startswith("copilot") and a.sniff(head)]


def test_organization_users_report_loads_exact_daily_rows_and_outcomes(con):
    summary = ingest.ingest(con, [ORG_USERS])
    assert not summary.failed
    # hubot: the CLI is its only feature, so requests are the CLI's 187 model requests; 2.5 AI credits
    assert daily(con) == [
        ("2026-04-25", "hubot", "copilot", "", 187, 24, 23229028, 121157, 0.025),
        ("2026-04-25", "octocat", "copilot", "", 31, 0, 616618, 626901, 0.05),
    ]
    # octocat accepted nothing, so only hubot has outcomes, at midday UTC of the report day
    rows = con.execute("SELECT outcome_id, CAST(ts AS VARCHAR), user_id, kind, quantity, tool FROM outcomes ORDER BY 1")
    assert rows.fetchall() == [
        ("copilot:2026-04-25:hubot:edit_accepted", "2026-04-25 12:00:00", "hubot", "edit_accepted", 24, "copilot"),
        ("copilot:2026-04-25:hubot:lines_added", "2026-04-25 12:00:00", "hubot", "lines_added", 435, "copilot"),
        ("copilot:2026-04-25:hubot:lines_removed", "2026-04-25 12:00:00", "hubot", "lines_removed", 29, "copilot"),
    ]
    warnings = [w for r in summary.results for w in r.warnings]
    assert any("tokens only for Copilot CLI" in w for w in warnings)


def test_enterprise_users_report_takes_the_report_day_and_sums_requests_by_feature(con):
    ingest.ingest(con, [ENTERPRISE_USERS])
    # code_completion: 40 generations (no prompts); ask mode: 18 prompts > 15 generations -> 58
    assert daily(con) == [("2026-03-03", "octocat", "copilot", "", 58, 18, 0, 0, 0.037)]
    assert outcomes_by_kind(con) == {"edit_accepted": 38, "lines_added": 145, "lines_removed": 4}


def test_ndjson_report_loads_good_lines_and_rejects_broken_ones_with_line_and_reason(con):
    summary = ingest.ingest(con, [USERS_NDJSON])
    by_table = {r.table: r for r in summary.results}
    assert (by_table["usage_daily"].inserted, by_table["usage_daily"].rejected) == (3, 4)
    assert by_table["outcomes"].inserted == 5
    assert daily(con) == [
        # features 25 + 10, CLI feature replaced by the CLI's 40 requests; 12.5 AI credits
        ("2026-10-05", "alice-gh", "copilot", "", 75, 13, 1000, 200, 0.125),
        # no CLI, no per-feature split: only the CLI request count says bob used it; no credits reported
        ("2026-10-05", "bob-gh", "copilot", "", 7, 0, 500, 50, None),
        ("2026-10-06", "alice-gh", "copilot", "", 2, 2, 0, 0, 0.0),
    ]
    assert outcomes_by_kind(con) == {"edit_accepted": 21, "lines_added": 53, "lines_removed": 5}
    rejected = con.execute("SELECT line, reason, raw_record FROM rejected_rows ORDER BY line").fetchall()
    assert [(line, reason) for line, reason, _ in rejected] == [
        (4, "line is not valid JSON"),
        (5, "record names no user (no user_login, login or user_id)"),
        (6, "loc_added_sum is negative (-4)"),
        (7, "day is not a YYYY-MM-DD date: 2026-13-01"),
    ]
    assert json.loads(rejected[2][2])["user_login"] == "dave-gh"  # the source record is kept


def test_reloading_a_report_changes_nothing(con):
    first = ingest.ingest(con, [USERS_NDJSON, ORG_USERS])
    before = counts(con), daily(con), outcomes_by_kind(con)
    again = ingest.ingest(con, [USERS_NDJSON, ORG_USERS])
    assert sum(r.inserted for r in again.results) == 0
    assert sum(r.updated for r in again.results) == 0
    assert sum(r.duplicates for r in again.results) == sum(r.inserted for r in first.results)
    assert (counts(con), daily(con), outcomes_by_kind(con)) == before


def test_a_reissued_report_replaces_the_daily_row_and_keeps_loaded_outcomes(con, tmp_path):
    ingest.ingest(con, [ORG_USERS])
    report = json.loads(ORG_USERS.read_text())
    report["day_totals"][0]["totals_by_cli"]["request_count"] = 190
    report["day_totals"][0]["code_acceptance_activity_count"] = 25
    corrected = tmp_path / "organization-users-1-day-report-corrected.json"
    corrected.write_text(json.dumps(report))
    summary = ingest.ingest(con, [corrected])
    by_table = {r.table: r for r in summary.results}
    assert by_table["usage_daily"].updated == 1
    assert by_table["outcomes"].rejected == 1  # outcomes are immutable: a changed count is a conflict
    assert daily(con)[0][4] == 190
    assert outcomes_by_kind(con)["edit_accepted"] == 24
    reason = con.execute("SELECT reason FROM rejected_rows WHERE table_name = 'outcomes'").fetchone()[0]
    assert reason == 'outcome_id "copilot:2026-04-25:hubot:edit_accepted" is already loaded with different values'


def test_organization_totals_report_is_skipped_with_one_clear_line(con):
    summary = ingest.ingest(con, [ORG_TOTALS])
    result = summary.results
    assert [r.status for r in result] == ["skipped"] and not summary.failed
    assert "organization totals have no per-user rows; load the users report" in result[0].message
    assert "\n" not in result[0].message
    assert counts(con) == {"usage_daily": 0, "outcomes": 0, "rejected_rows": 0}


def test_seat_list_is_recognised_but_loads_nothing(con):
    result = ingest.ingest(con, [SEATS]).results
    assert [r.status for r in result] == ["skipped"]
    # four entries, two people: each holder is listed once per assigning team
    assert "2 distinct seat holder(s) in 4 entries" in result[0].message
    assert "seats carry no usage" in result[0].message
    assert counts(con) == {"usage_daily": 0, "outcomes": 0, "rejected_rows": 0}


def test_a_28_day_total_without_per_day_rows_is_not_loaded_as_daily_usage(con, tmp_path):
    result = ingest.ingest(con, [ENTERPRISE_28_DAY]).results
    assert [r.status for r in result] == ["skipped"]  # recognised, nothing loadable: like the seat list
    assert "has no per-day rows for 2 user(s)" in result[0].message

    # a file mixing per-day rows and multi-day totals loads the days and says what it left out
    mixed = tmp_path / "users-mixed.ndjson"
    day_row = json.loads(USERS_NDJSON.read_text().splitlines()[1])
    total = {**json.loads(ENTERPRISE_28_DAY.read_text())["user_totals"][1], "report_start_day": "2026-09-10"}
    total["report_end_day"] = "2026-10-07"
    mixed.write_text(json.dumps(day_row) + "\n" + json.dumps(total) + "\n")
    summary = ingest.ingest(con, [mixed])
    assert not summary.failed
    assert [row[:2] for row in daily(con)] == [("2026-10-06", "alice-gh")]
    warnings = [w for r in summary.results for w in r.warnings]
    assert any("has no per-day rows for 1 user(s)" in w and "not loaded as daily usage" in w for w in warnings)


def test_forcing_the_format_loads_a_file_auto_detection_would_skip(con, tmp_path):
    # a bare records array without acceptance counts: nothing in it says "Copilot report" to the sniffer
    records = [
        {
            "login": "OctoCat",
            "day": "2026-03-03",
            "user_initiated_interaction_count": 5,
            "code_generation_activity_count": 9,
            "ai_credits_used": 1,
        }
    ]
    path = tmp_path / "copilot-export.txt"
    path.write_text(json.dumps(records, indent=1))
    with pytest.raises(ValueError, match="cannot tell what"):
        ingest.discover([path])
    summary = ingest.ingest(con, [path], table="copilot-users")
    assert not summary.failed
    assert daily(con) == [("2026-03-03", "octocat", "copilot", "", 9, 5, 0, 0, 0.01)]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_cli_ingest_and_status_count_unattributed_logins_until_people_name_them(tmp_path):
    db = str(tmp_path / "copilot.duckdb")
    out = cli("ingest", str(ORG_USERS), "--json", "--db", db)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout)
    assert (loaded["inserted"], loaded["rejected"], loaded["failed"]) == (5, 0, 0)
    status = json.loads(cli("status", "--db", db, "--json").stdout)
    assert status["unattributed_identities"] == 2  # hubot and octocat: no people yet
    assert status["outcomes_by_kind"] == {"edit_accepted": 24, "lines_added": 435, "lines_removed": 29}
    assert status["tokens"] == 23229028 + 121157 + 616618 + 626901

    org = tmp_path / "org"
    org.mkdir()
    write_csv(org / "teams.csv", "team_id,team_name,parent_team_id,lead_user_id", ["eng,Engineering,,"])
    write_csv(
        org / "people.csv",
        "user_id,display_name,email,login,team_id",
        ["p1,Hubot,hubot@acme.example,HuBot,eng", "p2,Octocat,octocat@acme.example,octocat,eng"],
    )
    assert cli("ingest", str(org), "--db", db).returncode == 0
    status = json.loads(cli("status", "--db", db, "--json").stdout)
    assert status["unattributed_identities"] == 0  # logins match case-insensitively

    skipped = cli("ingest", str(ORG_TOTALS), "--format", "copilot-org-totals", "--db", db)
    assert skipped.returncode == 0  # recognised and explained: nothing failed
    assert "skipped, nothing to load" in skipped.stdout and "no per-user rows" in skipped.stdout
