"""Property test over every telemetry format: whatever part of a real-format file arrives, in whatever line
order, importing it twice changes nothing, and the second import finds every loaded row as a duplicate."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import formats, ingest
from analytics.warehouse import connect

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "formats"
TABLES = ("teams", "people", "usage_events", "usage_daily", "outcomes", "rejected_rows")
# every fixture an adapter recognises (JSON Lines ones can be cut and shuffled line by line)
SAMPLES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix != ".md" and formats.detect(p))


def snapshot(con) -> dict:
    return {t: con.execute(f"SELECT count(*), hash(list(t ORDER BY ALL)) FROM {t} t").fetchone() for t in TABLES}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample=st.sampled_from(SAMPLES), data=st.data())
def test_importing_any_part_of_any_export_twice_changes_nothing(sample, data):
    text = sample.read_text(encoding="utf-8")
    lines = text.splitlines()
    one_per_line = sample.suffix in (".jsonl", ".ndjson") or (sample.suffix == ".csv")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / sample.name
        if one_per_line and len(lines) > 2:
            header, body = (lines[:1], lines[1:]) if sample.suffix == ".csv" else ([], lines)
            keep = data.draw(st.lists(st.sampled_from(range(len(body))), min_size=1, unique=True))
            path.write_text("\n".join(header + [body[i] for i in keep]) + "\n", encoding="utf-8")
        else:
            path.write_text(text, encoding="utf-8")
        # the format is forced: a cut file may lack the lines its sniffer looks for
        name = formats.detect(sample).name
        con = connect(Path(tmp) / "w.duckdb")
        try:
            first = ingest.ingest(con, [path], table=name)
            before = snapshot(con)
            again = ingest.ingest(con, [path], table=name)
            assert snapshot(con) == before
            assert again.totals()["inserted"] == again.totals()["updated"] == 0
            loaded = first.totals()["inserted"] + first.totals()["updated"]
            assert again.totals()["duplicates"] >= loaded - first.totals()["updated"]
            assert [r.status for r in again.results] == [r.status for r in first.results]
        finally:
            con.close()
