"""LiteLLM spend logs: detection, the field mapping with cache tokens taken out of the prompt, rejects, reloads."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from analytics import formats, ingest
from analytics.formats import litellm
from tests.conftest import write_csv

FIXTURES = Path(__file__).parent / "fixtures" / "formats" / "litellm"
CSV = FIXTURES / "LiteLLM_SpendLogs.csv"
JSONL = FIXTURES / "spend-logs-2026-10.jsonl"
PAGE = FIXTURES / "spend-logs-page.json"
KIND = "telemetry:litellm-spend-logs"
COLUMNS = "event_id, ts, user_id, tool, model, session_id, input_tokens, output_tokens, cache_read_tokens, "
COLUMNS += "cache_write_tokens, cost_usd"


def events(con) -> list[tuple]:
    return con.execute(f"SELECT {COLUMNS} FROM usage_events ORDER BY event_id").fetchall()


@pytest.mark.parametrize("path", [CSV, JSONL, PAGE])
def test_spend_logs_are_detected_by_content(path):
    assert ingest.discover([path]) == ([(path, KIND)], [])


def test_a_gzipped_export_is_detected_too(tmp_path):
    packed = tmp_path / "spend.csv.gz"
    packed.write_bytes(gzip.compress(CSV.read_bytes()))
    assert ingest.discover([packed]) == ([(packed, KIND)], [])


def test_canonical_files_are_not_taken_for_spend_logs(tmp_path, org):
    usage = write_csv(
        tmp_path / "export.csv",
        "event_id,ts,user_id,tool,input_tokens,output_tokens,cost_usd",
        ["e1,2026-10-01T10:00:00Z,a1,claude-code,1,2,0.1"],
    )
    assert not litellm.sniff(formats.head_text(usage))
    for name in ("teams.csv", "people.csv"):
        assert not litellm.sniff(formats.head_text(org / name))
        assert ingest.discover([org / name])[0] == [(org / name, name.removesuffix(".csv"))]


def test_the_csv_export_maps_field_by_field_and_rejects_what_it_cannot_load(con):
    result = ingest.ingest(con, [CSV]).results
    assert [(r.table, r.rows_read, r.inserted, r.rejected) for r in result] == [("usage_events", 8, 4, 4)]
    assert any("response cache" in w for w in result[0].warnings)
    rows = events(con)
    # (event, ts, who, tool, model, session, input, output, cache read, cache write, cost)
    assert [r[:6] for r in rows] == [
        ("litellm:req-001", _ts("2026-10-01 09:00:00"), "ada@acme.example", "litellm", "claude-sonnet-4-5", "s-1"),
        ("litellm:req-002", _ts("2026-10-01 10:30:00"), "bo@acme.example", "litellm", "gpt-4o", "s-2"),
        ("litellm:req-003", _ts("2026-10-02 08:15:00"), "cy@acme.example", "litellm", "haiku", None),
        ("litellm:req-004", _ts("2026-10-02 09:00:00"), "ada@acme.example", "litellm", "claude-sonnet-4-5", None),
    ]
    assert [r[6:] for r in rows] == [
        (200, 300, 1000, 0, 0.0123),  # 1200 prompt - 1000 cache reads (additional_usage_values)
        (400, 100, 100, 0, 0.002),  # 500 - 100 prompt_tokens_details.cached_tokens
        (50, 50, 0, 250, 0.004),  # 300 - 250 cache writes (usage_object)
        (0, 0, 0, 0, 0.0),  # answered from the proxy's response cache: no model processed anything
    ]
    tokens, cost = con.execute("SELECT sum(tokens), sum(cost_usd) FROM mart_person_day_tool").fetchone()
    assert tokens == 650 + 450 + 1100 + 250
    assert cost == pytest.approx(0.0183)
    rejected = con.execute("SELECT line, reason FROM rejected_rows ORDER BY line").fetchall()
    assert [(line, reason.split(":")[0].split(" (")[0]) for line, reason in rejected] == [
        (6, "record names nobody"),
        (7, "record has no request_id"),
        (8, "ts is not an ISO-8601 timestamp"),
        (9, "input_tokens is negative"),
    ]


def test_json_lines_and_the_api_page_shape_load_too(con):
    result = ingest.ingest(con, [JSONL, PAGE]).results
    assert [(Path(r.file).name, r.inserted, r.rejected) for r in result] == [
        ("spend-logs-2026-10.jsonl", 2, 1),
        ("spend-logs-page.json", 1, 0),
    ]
    assert any("more cached tokens than prompt tokens" in w for w in result[0].warnings)
    assert [r[:3] + r[6:] for r in events(con)] == [
        ("litellm:chatcmpl-a1", _ts("2026-10-03 14:00:00"), "ada@acme.example", 500, 1000, 6000, 1500, 0.05),
        # 15:00 at +02:00 is 13:00 UTC; 900 cached of a 600-token prompt: input 0, not negative
        ("litellm:chatcmpl-a2", _ts("2026-10-03 13:00:00"), "bo@acme.example", 0, 100, 900, 0, 0.01),
        ("litellm:resp-1", _ts("2026-10-04 08:00:00"), "cy@acme.example", 1400, 1000, 500, 100, 0.3),
    ]
    line, reason = con.execute("SELECT line, reason FROM rejected_rows").fetchone()
    assert (line, reason) == (2, "line is not valid JSON")


def test_importing_twice_changes_nothing(con):
    first = ingest.ingest(con, [CSV, JSONL]).totals()
    before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("usage_events", "rejected_rows")}
    again = ingest.ingest(con, [CSV, JSONL]).totals()
    assert (first["inserted"], again["inserted"], again["duplicates"]) == (6, 0, 6)
    after = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("usage_events", "rejected_rows")}
    assert after == before == {"usage_events": 6, "rejected_rows": 5}


def test_the_spend_log_identities_join_people_by_e_mail(con, org):
    ingest.ingest(con, [org, CSV])
    by_person = con.execute(
        "SELECT identity, user_id, sum(tokens) FROM mart_person_day_tool GROUP BY ALL ORDER BY identity"
    ).fetchall()
    assert by_person == [
        ("ada@acme.example", "a1", 1500),
        ("bo@acme.example", "b2", 600),
        ("cy@acme.example", "c3", 350),
    ]


def test_a_file_that_is_not_readable_loads_nothing(con, tmp_path):
    broken = tmp_path / "spend.json"
    shutil.copy(PAGE, broken)
    broken.write_text(PAGE.read_text()[:-40])
    result = ingest.ingest(con, [broken], table="litellm-spend-logs").results
    assert [(r.status, r.message.split(":")[0]) for r in result] == [("failed", "spend.json is not valid JSON")]
    assert con.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 0


def _ts(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_json_lines_whose_first_row_is_longer_than_the_sniffed_head_load(con, tmp_path):
    # Spend logs can keep the prompt: a first row past 64 KiB was read as one broken JSON document.
    rows = [json.loads(line) for line in JSONL.read_text().splitlines() if _is_json(line)]
    rows[0]["messages"] = [{"role": "user", "content": "x" * (formats.SNIFF_BYTES + 10)}]
    path = tmp_path / "spend-logs-long.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    [result] = ingest.ingest(con, [path]).results
    assert result.status == "loaded" and result.inserted == len(rows)


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True
