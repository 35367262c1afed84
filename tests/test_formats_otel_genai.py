"""OpenTelemetry GenAI spans: one event per model call, tokens normalised to the canonical meaning (input
without cache), agent spans not counted twice, Claude Code's own exports left to their importer."""

from __future__ import annotations

import json
from pathlib import Path

from analytics import formats, ingest

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "formats" / "otel_genai"
SPANS = FIXTURES / "genai-spans.jsonl"
DOCUMENT = FIXTURES / "genai-spans-document.json"
CLAUDE_CODE = HERE / "fixtures" / "formats" / "claude_code"


def rejects(con) -> list[tuple[int, str]]:
    rows = con.execute("SELECT line, reason FROM rejected_rows ORDER BY line, reason").fetchall()
    return [(line, reason.split(" (")[0]) for line, reason in rows]


def test_span_files_are_claimed_by_otel_genai_and_claude_code_exports_are_not():
    for path in (SPANS, DOCUMENT):
        assert ingest.discover([path]) == ([(path, "telemetry:otel-genai")], [])
    others = [p for p in (HERE / "fixtures" / "formats").rglob("*") if p.is_file() and p.parent != FIXTURES]
    assert any(p.parent == CLAUDE_CODE for p in others)
    for path in others:
        adapter = formats.detect(path)
        assert adapter is None or adapter.name != "otel-genai", path


def test_spans_become_events_with_cache_taken_out_of_input(con):
    summary = ingest.ingest(con, [SPANS])
    assert not summary.failed
    rows = con.execute(
        "SELECT event_id, user_id, tool, model, session_id, initiated_by, input_tokens, output_tokens, "
        "cache_read_tokens, cache_write_tokens FROM usage_events ORDER BY ts"
    ).fetchall()
    trace1, trace2 = "otel:5b8efff798038103d269b633813fc60c", "otel:0af7651916cd43dd8448eb211c80319c"
    assert rows == [
        # 5000 input includes 4000 cache reads and 500 cache writes: 500 left; the response model wins
        (f"{trace1}:b7ad6b7169203331", "ada@acme.example", "internal-agent", "claude-sonnet-4-5-20250929", "conv-1",
         "agent", 500, 120, 4000, 500),
        (f"{trace1}:53995c3f42cd8ad8", "ada@acme.example", "internal-agent", "claude-sonnet-4-5", "conv-1",
         "agent", 600, 60, 0, 0),
        (f"{trace2}:a3ce929d0e0e4736", "bo@acme.example", "support-bot", "gpt-5", None, "unknown", 800, 50, 200, 0),
        # deprecated prompt_tokens / completion_tokens; user.id as the identity
        (f"{trace2}:d75597dee50b0cac", "bo-gh", "support-bot", "gpt-5-mini", None, "unknown", 300, 40, 0, 0),
        # no service.name: the provider names the tool
        ("otel:4bf92f3577b34da6a3ce929d0e0e4736:100000000000000b", "cy@acme.example", "anthropic",
         "claude-haiku-4-5", None, "unknown", 40, 8, 0, 0),
    ]  # fmt: skip
    totals = con.execute(
        "SELECT sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens) "
        "FROM usage_events"
    ).fetchone()
    assert totals == (2240, 278, 4200, 500)  # the invoke_agent span's own 5600/180 (its children's sum) is not added
    notes = " ".join(w for r in summary.results for w in r.warnings)
    assert "1 × span whose usage is the sum of the usage spans below it" in notes
    assert "1 × span without token usage" in notes


def test_malformed_spans_are_rejected_with_line_and_reason_and_the_rest_loads(con):
    result = ingest.ingest(con, [SPANS]).results
    assert [(r.table, r.inserted, r.rejected) for r in result] == [("usage_events", 5, 5)]
    assert rejects(con) == [
        (3, "line is not valid JSON"),
        (4, "gen_ai.usage.input_tokens"),  # 100 input but 300 cache reads: does not follow the convention
        (4, "gen_ai.usage.input_tokens is negative"),
        (4, "span names nobody"),
        (4, "ts 2099-01-01T00:00:00+00:00 is more than a day in the future"),
    ]
    reason = con.execute("SELECT reason FROM rejected_rows WHERE reason LIKE '%cache reads%'").fetchone()[0]
    assert "(100) is less than its cache reads + writes (300 + 0)" in reason


def test_reloading_and_the_same_spans_as_one_document_change_nothing(con):
    ingest.ingest(con, [SPANS])
    before = con.execute("SELECT * EXCLUDE (batch_id) FROM usage_events ORDER BY event_id").fetchall()
    stored_rejects = con.execute("SELECT count(*) FROM rejected_rows").fetchone()[0]
    for path in (SPANS, DOCUMENT):  # the document holds two of the same spans, pretty-printed
        again = ingest.ingest(con, [path])
        assert again.totals()["inserted"] == 0
    assert again.totals()["duplicates"] == 2
    assert con.execute("SELECT * EXCLUDE (batch_id) FROM usage_events ORDER BY event_id").fetchall() == before
    assert con.execute("SELECT count(*) FROM rejected_rows").fetchone()[0] == stored_rejects


def test_claude_code_spans_in_a_forced_genai_load_are_skipped_not_counted_twice(con, tmp_path):
    batch = json.loads(DOCUMENT.read_text())
    spans = batch["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[0]["name"] = "claude_code.llm_request"
    path = tmp_path / "traces.json"
    path.write_text(json.dumps(batch))
    summary = ingest.ingest(con, [path], table="otel-genai")
    assert con.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 1
    assert "Claude Code span" in " ".join(w for r in summary.results for w in r.warnings)


def test_a_file_that_is_not_json_at_all_fails_with_one_clear_line(con, tmp_path):
    path = tmp_path / "spans.json"
    path.write_text('{\n  "resourceSpans": [ {"gen_ai.usage": \n')
    [result] = ingest.ingest(con, [path], table="otel-genai").results
    assert result.status == "failed" and "not valid JSON" in result.message


def test_a_malformed_batch_is_rejected_whole_and_the_other_batches_load(con, tmp_path):
    # resourceSpans holding a string used to stop the ingest with an AttributeError.
    lines = [line for line in SPANS.read_text().splitlines() if line.strip()]
    path = tmp_path / "spans.jsonl"
    path.write_text("\n".join([*lines, json.dumps({"resourceSpans": ["gen_ai.usage.input_tokens"]})]) + "\n")
    summary = ingest.ingest(con, [path])
    assert not summary.failed
    assert (len(lines) + 1, "not an OTLP/JSON export batch: resourceSpans is not a list of objects") in rejects(con)
    assert con.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 5


def test_a_traces_file_holding_a_claude_code_span_beside_others_is_still_recognised(con, tmp_path):
    # Any "claude_code." in the first 64 KiB used to leave the whole traces file unrecognised.
    batch = json.loads(DOCUMENT.read_text())
    spans = batch["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[0]["name"] = "claude_code.llm_request"
    path = tmp_path / "traces.json"
    path.write_text(json.dumps(batch))
    assert ingest.discover([path]) == ([(path, "telemetry:otel-genai")], [])
    summary = ingest.ingest(con, [path])
    assert con.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 1
    assert "Claude Code span" in " ".join(w for r in summary.results for w in r.warnings)
