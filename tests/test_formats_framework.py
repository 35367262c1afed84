"""The telemetry adapter framework: converted rows go through the canonical checks, line numbers and raw
records point back at the source, one file feeds several tables atomically, and reloading changes nothing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from analytics import formats, ingest
from analytics.formats import Adapter, Converted, frame


def _convert(path):
    out = Converted(warnings=["toy format: a note about this file"])
    events, outcomes = [], []
    for line, record in formats.iter_json_lines(path, out.rejects):
        if "who" not in record:
            out.rejects.append((line, "record names nobody", json.dumps(record)))
            continue
        events.append(
            {
                "_line": line,
                "_raw": record,
                "event_id": f"toy-{record['id']}",
                "ts": record["at"],
                "user_id": record["who"],
                "tool": "toy",
                "input_tokens": record["in"],
                "output_tokens": 3,
            }
        )
        if record.get("accepted"):
            outcomes.append(
                {
                    "_line": line,
                    "_raw": record,
                    "outcome_id": f"toy-o-{record['id']}",
                    "ts": record["at"],
                    "user_id": record["who"],
                    "kind": "edit_accepted",
                }
            )
    out.tables = {"usage_events": frame("usage_events", events), "outcomes": frame("outcomes", outcomes)}
    return out


TOY = Adapter("toy-log", "a toy format for tests", lambda head: '"toy": 1' in head, _convert)


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setattr(formats, "_REGISTRY", {"toy-log": TOY})


def _write(tmp_path, lines):
    path = tmp_path / "export-2026-10.log"
    path.write_text("\n".join(lines) + "\n")
    return path


LINES = [
    '{"toy": 1, "id": 1, "at": "2026-10-01T10:00:00Z", "who": "ada@acme.example", "in": 100, "accepted": true}',
    '{"toy": 1, "id": 2, "at": "2026-10-01T11:00:00Z", "who": "ada@acme.example", "in": -5}',
    "{not json",
    '{"toy": 1, "id": 3, "at": "2026-10-01T12:00:00Z"}',
    '{"toy": 1, "id": 4, "at": "2026-10-01T13:00:00Z", "who": "bo@acme.example", "in": 7}',
]


def test_a_telemetry_file_is_detected_by_content_and_checked_like_canonical_rows(con, tmp_path, toy):
    path = _write(tmp_path, LINES)
    files, _ = ingest.discover([path])
    assert files == [(path, "telemetry:toy-log")]
    summary = ingest.ingest(con, [path])
    by_table = {r.table: r for r in summary.results}
    assert set(by_table) == {"usage_events", "outcomes"}
    assert (by_table["usage_events"].inserted, by_table["usage_events"].rejected) == (2, 3)
    assert by_table["outcomes"].inserted == 1
    assert "toy format: a note about this file" in by_table["usage_events"].warnings
    rejected = con.execute("SELECT line, reason, raw_record FROM rejected_rows ORDER BY line").fetchall()
    assert [(line, reason.split(" (")[0]) for line, reason, _ in rejected] == [
        (2, "input_tokens is negative"),
        (3, "line is not valid JSON"),
        (4, "record names nobody"),
    ]
    assert json.loads(rejected[0][2])["id"] == 2  # the source record, not the converted row
    assert con.execute("SELECT sum(quantity) FROM outcomes").fetchone()[0] == 1


def test_reloading_a_telemetry_file_changes_nothing(con, tmp_path, toy):
    path = _write(tmp_path, LINES)
    ingest.ingest(con, [path])
    before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("usage_events", "rejected_rows")}
    again = ingest.ingest(con, [path])
    assert sum(r.inserted for r in again.results) == 0
    assert sum(r.duplicates for r in again.results) == 3
    after = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("usage_events", "rejected_rows")}
    assert after == before


def test_forcing_an_unknown_format_and_unconvertible_files_fail_clearly(con, tmp_path, toy):
    path = _write(tmp_path, LINES)
    with pytest.raises(ValueError, match="unknown format 'nope'"):
        ingest.discover([path], table="nope")
    bad = tmp_path / "other.log"
    bad.write_text("{not json\n")
    result = ingest.ingest(con, [bad], table="toy-log").results
    assert [(r.status, r.rejected) for r in result] == [("loaded", 1)]
    assert con.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 0


def test_frame_refuses_columns_the_table_does_not_have():
    with pytest.raises(ValueError, match="no column"):
        frame("usage_events", [{"event_id": "x", "tokens": 5}])


def test_a_truncated_gzip_fails_alone_with_one_line_and_the_other_files_load(con, tmp_path, toy):
    # A cut-off download used to stop the whole ingest with an EOFError, in sniffing or in converting.
    whole = gzip.compress(("\n".join(LINES * 2000) + "\n").encode())
    cut = tmp_path / "export-2026-09.log.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    good = _write(tmp_path, LINES)
    assert ingest.discover([cut]) == ([(cut, "telemetry:toy-log")], [])
    summary = ingest.ingest(con, [cut, good])
    failed = [r for r in summary.results if r.status == "failed"]
    assert [Path(r.file).name for r in failed] == [cut.name]
    assert "ended before the end-of-stream marker" in failed[0].message and "\n" not in failed[0].message
    assert con.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 2
    small = gzip.compress(("\n".join(LINES) + "\n").encode())
    cut.write_bytes(small[: len(small) - 12])  # cut inside the sniffed head
    assert ingest.discover([cut]) == ([(cut, "telemetry:toy-log")], [])
