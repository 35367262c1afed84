"""The importer: every bad-row kind the contract names, duplicates, conflicts, atomicity, idempotence."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from analytics import ingest
from analytics.ingest import _Loader
from tests.conftest import write_csv

EVENT_HEADER = "event_id,ts,user_id,tool,model,initiated_by,input_tokens,output_tokens,cache_read_tokens"


def good_events(n: int = 10, user: str = "a1") -> list[str]:
    return [
        f"g{i},2026-10-0{1 + i % 9}T10:{i:02d}:00Z,{user},claude-code,claude-sonnet-4-5,human,100,20,5"
        for i in range(n)
    ]


BROKEN = {
    # line text -> the reason it must be rejected with
    "b01,not-a-time,a1,claude-code,m,human,1,1,0": "ts is not an ISO-8601 timestamp",
    "b02,,a1,claude-code,m,human,1,1,0": "missing ts",
    ",2026-10-01T10:00:00Z,a1,claude-code,m,human,1,1,0": "missing event_id",
    "b04,2026-10-01T10:00:00Z,,claude-code,m,human,1,1,0": "missing user_id",
    "b05,2026-10-01T10:00:00Z,a1,,m,human,1,1,0": "missing tool",
    "b06,2026-10-01T10:00:00Z,a1,claude-code,m,human,,1,0": "missing input_tokens",
    "b07,2026-10-01T10:00:00Z,a1,claude-code,m,human,-4,1,0": "input_tokens is negative",
    "b08,2026-10-01T10:00:00Z,a1,claude-code,m,human,12.5,1,0": "input_tokens is not a whole number",
    "b09,2026-10-01T10:00:00Z,a1,claude-code,m,human,lots,1,0": "input_tokens is not a whole number",
    "b10,2026-10-01T10:00:00Z,a1,claude-code,m,robot,1,1,0": 'initiated_by "robot" is not one of',
    "b11,2099-01-01T00:00:00Z,a1,claude-code,m,human,1,1,0": "more than a day in the future",
    "b12,2026-10-01T10:00:00Z,a1,claude-code,m,human,1,1,-1": "cache_read_tokens is negative",
    "b13,2026-10-01T10:00:00Z,a1,claude-code,m,human,1,1,0,surplus": "malformed CSV line",
}


def load(con, *paths, **kw):
    return ingest.ingest(con, list(paths), **kw)


def table_rows(con, table: str) -> list[tuple]:
    return con.execute(f"SELECT COLUMNS(lambda c: c <> 'batch_id') FROM {table} ORDER BY ALL").fetchall()


def test_every_broken_row_is_rejected_with_its_reason_and_good_rows_load(con, tmp_path):
    rows = good_events(10) + list(BROKEN)
    path = write_csv(tmp_path / "usage_events.csv", EVENT_HEADER, rows)
    result = load(con, path).results[0]
    assert (result.rows_read, result.inserted, result.rejected) == (10 + len(BROKEN), 10, len(BROKEN))
    stored = con.execute("SELECT line, reason FROM rejected_rows ORDER BY line").fetchall()
    assert len(stored) == len(BROKEN)
    for (line, reason), (text, expected) in zip(stored, BROKEN.items(), strict=True):
        assert line == 12 + list(BROKEN).index(text), (line, text)  # header is line 1, 10 good rows first
        assert expected in reason, (text, reason)


def test_reloading_the_same_file_changes_nothing(con, tmp_path):
    path = write_csv(tmp_path / "usage_events.csv", EVENT_HEADER, good_events(10) + list(BROKEN)[:3])
    first = load(con, path).totals()
    before = {t: table_rows(con, t) for t in ("usage_events", "rejected_rows", "mart_person_day_tool")}
    again = load(con, path).totals()
    assert first["inserted"] == 10 and again["inserted"] == 0 and again["updated"] == 0
    assert again["duplicates"] == 10 and again["rejected"] == 3
    assert {t: table_rows(con, t) for t in before} == before


def test_duplicate_ids_are_told_apart_from_conflicts(con, tmp_path):
    rows = good_events(3) + [
        "g0,2026-10-01T10:00:00Z,a1,claude-code,claude-sonnet-4-5,human,100,20,5",  # same values: duplicate
        "g1,2026-10-02T10:01:00Z,a1,claude-code,claude-sonnet-4-5,human,999,20,5",  # other values: conflict
    ]
    result = load(con, write_csv(tmp_path / "usage_events.csv", EVENT_HEADER, rows)).results[0]
    assert (result.inserted, result.duplicates, result.rejected) == (3, 1, 1)
    reason = con.execute("SELECT reason FROM rejected_rows").fetchone()[0]
    assert reason == 'event_id "g1" appears earlier in this file (line 3) with different values'

    later = write_csv(
        tmp_path / "usage_events-late.csv",
        EVENT_HEADER,
        [
            "g2,2026-10-03T10:02:00Z,a1,claude-code,claude-sonnet-4-5,human,100,20,5",
            "g2b,2026-10-03T10:02:00Z,a1,claude-code,claude-sonnet-4-5,human,100,20,5",
            "g0,2026-10-01T10:00:00Z,a1,claude-code,claude-sonnet-4-5,agent,100,20,5",
        ],
    )
    result = load(con, later).results[0]
    assert (result.inserted, result.duplicates, result.rejected) == (1, 1, 1)
    assert con.execute("SELECT input_tokens FROM usage_events WHERE event_id = 'g1'").fetchone()[0] == 100
    assert (
        con.execute(
            "SELECT count(*) FROM rejected_rows WHERE reason LIKE '%already loaded with different%'"
        ).fetchone()[0]
        == 1
    )


def test_a_file_that_fails_midway_leaves_nothing(con, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "usage_events.csv", EVENT_HEADER, good_events(5) + list(BROKEN)[:2])

    def explode(self):
        raise duckdb.IOException("disk went away")

    monkeypatch.setattr(_Loader, "_store_rejects", explode)  # after the good rows were inserted
    result = load(con, path).results[0]
    assert result.status == "failed" and "disk went away" in result.message
    for table in ("usage_events", "rejected_rows", "ingest_log"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_missing_required_column_fails_the_file_and_keeps_the_rest(con, tmp_path, org):
    bad = write_csv(
        tmp_path / "usage_events.csv",
        "event_id,ts,user_id,tool,output_tokens",
        ["x,2026-10-01T10:00:00Z,a1,claude-code,5"],
    )
    summary = load(con, org / "teams.csv", bad)
    assert [r.status for r in summary.results] == ["loaded", "failed"]
    assert "lacks required column(s) input_tokens" in summary.results[1].message
    assert con.execute("SELECT count(*) FROM teams").fetchone()[0] == 4


def test_unknown_columns_are_ignored_with_a_warning(con, tmp_path):
    path = write_csv(tmp_path / "usage_events.csv", EVENT_HEADER + ",mood", [r + ",happy" for r in good_events(2)])
    result = load(con, path).results[0]
    assert result.inserted == 2
    assert result.warnings == ["usage_events.csv: ignored unknown columns mood"]


def test_parquet_and_jsonl_load_the_same_rows_as_csv(tmp_path, org):
    from analytics.warehouse import connect

    csv_path = write_csv(tmp_path / "usage_events.csv", EVENT_HEADER, good_events(12))
    one = connect(tmp_path / "one.duckdb")
    load(one, csv_path)
    parquet = tmp_path / "usage_events.parquet"
    one.execute(f"COPY (SELECT * EXCLUDE (batch_id) FROM usage_events) TO '{parquet}' (FORMAT parquet)")
    jsonl = tmp_path / "usage_events.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps({**r, "ts": r["ts"].isoformat() + "Z"})
            for r in one.execute("SELECT * EXCLUDE (batch_id) FROM usage_events")
            .df()
            .astype(object)
            .where(lambda f: f.notna(), None)
            .to_dict("records")
        )
        + "\n{not json}\n[1, 2]\n"
    )
    want = table_rows(one, "usage_events")
    for path, rejected in ((parquet, 0), (jsonl, 2)):
        other = connect(tmp_path / f"{path.suffix[1:]}.duckdb")
        result = load(other, path).results[0]
        assert (result.inserted, result.rejected) == (12, rejected), path
        assert table_rows(other, "usage_events") == want, path
        other.close()
    reasons = [
        r
        for (r,) in connect(tmp_path / "jsonl.duckdb")
        .execute("SELECT reason FROM rejected_rows ORDER BY line")
        .fetchall()
    ]
    assert reasons == ["line is not valid JSON", "line is not a JSON object"]


def test_timestamps_with_offsets_are_stored_in_utc(con, tmp_path):
    path = write_csv(
        tmp_path / "usage_events.csv",
        EVENT_HEADER,
        [
            "t1,2026-10-01T10:00:00+02:00,a1,claude-code,m,human,1,1,0",
            "t2,2026-10-01 10:00:00,a1,claude-code,m,human,1,1,0",
        ],
    )
    load(con, path)
    got = dict(con.execute("SELECT event_id, strftime(ts, '%H:%M') FROM usage_events").fetchall())
    assert got == {"t1": "08:00", "t2": "10:00"}


def test_daily_rows_are_replaced_by_key(con, tmp_path):
    header = "day,user_id,tool,model,requests,input_tokens,output_tokens"
    load(
        con,
        write_csv(
            tmp_path / "usage_daily.csv",
            header,
            ["2026-10-01,a1,copilot,gpt-4.1,10,1000,50", "2026-10-02,a1,copilot,gpt-4.1,5,500,20"],
        ),
    )
    result = load(
        con,
        write_csv(
            tmp_path / "usage_daily-fix.csv",
            header,
            ["2026-10-01,a1,copilot,gpt-4.1,12,1200,60", "2026-10-02,a1,copilot,gpt-4.1,5,500,20"],
        ),
    ).results[0]
    assert (result.inserted, result.updated, result.duplicates) == (0, 1, 1)
    assert con.execute("SELECT sum(input_tokens), count(*) FROM usage_daily").fetchone() == (1700, 2)


def test_a_tool_reports_events_or_daily_rows_not_both(con, tmp_path):
    load(con, write_csv(tmp_path / "usage_events.csv", EVENT_HEADER, good_events(2)))
    result = load(
        con,
        write_csv(
            tmp_path / "usage_daily.csv",
            "day,user_id,tool,input_tokens,output_tokens",
            ["2026-10-01,a1,claude-code,10,1", "2026-10-01,a1,copilot,10,1"],
        ),
    ).results[0]
    assert (result.inserted, result.rejected) == (1, 1)
    assert "already reports events" in con.execute("SELECT reason FROM rejected_rows").fetchone()[0]


def test_reference_data_rules(con, tmp_path, org):
    load(con, org)
    teams = write_csv(
        tmp_path / "teams.csv",
        "team_id,team_name,parent_team_id",
        ["x1,Lost,nowhere", "x2,Self,x2", "web,Web Platform,eng"],
    )
    people = write_csv(
        tmp_path / "people.csv",
        "user_id,display_name,team_id,timezone,active_from,active_to",
        ["z1,Zed,web,Mars/Olympus,,", "z2,Zoe,web,UTC,2026-05-01,2026-04-01"],
    )
    summary = load(con, teams, people)
    assert [(r.inserted, r.updated, r.rejected) for r in summary.results] == [(0, 1, 2), (0, 0, 2)]
    reasons = {r for (r,) in con.execute("SELECT reason FROM rejected_rows").fetchall()}
    assert reasons == {
        'parent_team_id "nowhere" names no known team',
        "a team cannot be its own parent",
        'timezone "Mars/Olympus" is not an IANA time zone name',
        "active_to is before active_from",
    }
    assert con.execute("SELECT team_name FROM teams WHERE team_id = 'web'").fetchone()[0] == "Web Platform"


def test_unknown_identities_load_as_unattributed_and_join_when_a_person_names_them(con, tmp_path, org):
    load(con, org / "teams.csv")
    events = write_csv(
        tmp_path / "usage_events.csv",
        EVENT_HEADER,
        [
            *good_events(3, user="ADA@acme.example"),
            "h1,2026-10-01T10:00:00Z,ghost-7,claude-code,m,human,10,0,0",
            "h2,2026-10-01T10:00:00Z,Ghost-7,claude-code,m,human,10,0,0",
        ],
    )
    load(con, events)
    assert (
        con.execute("SELECT count(DISTINCT identity) FROM mart_person_day_tool WHERE NOT is_attributed").fetchone()[0]
        == 2
    )
    load(con, org / "people.csv")  # names Ada by e-mail (case differs) and refreshes the marts
    got = con.execute("SELECT identity, user_id FROM mart_person_day_tool GROUP BY ALL ORDER BY 1").fetchall()
    assert got == [("ada@acme.example", "a1"), ("ghost-7", None)]


def test_discover_orders_a_folder_and_refuses_unknown_names(tmp_path, org):
    (org / "notes.txt").write_text("hello")
    files, warnings = ingest.discover([org])
    assert [t for _, t in files] == ["teams", "people"]
    assert any("notes.txt" in w for w in warnings)
    with pytest.raises(ValueError, match=r"cannot tell what notes\.txt holds"):
        ingest.discover([org / "notes.txt"])
    with pytest.raises(FileNotFoundError):
        ingest.discover([tmp_path / "missing.csv"])


def test_unreadable_files_fail_alone_with_a_clear_reason(con, tmp_path):
    empty = tmp_path / "usage_events-empty.csv"
    empty.write_text("")
    array = tmp_path / "usage_events-array.json"
    array.write_text('[{"event_id": "j1"}]\n')
    junk = tmp_path / "usage_events-junk.parquet"
    junk.write_bytes(b"\x00\x01 not parquet")
    good = write_csv(tmp_path / "usage_events-good.csv", EVENT_HEADER, good_events(2))
    summary = load(con, empty, array, junk, good)
    messages = {Path(r.file).name: r.message for r in summary.results if r.status == "failed"}
    assert messages["usage_events-empty.csv"] == "usage_events-empty.csv is empty"
    assert "holds a JSON array" in messages["usage_events-array.json"]
    assert messages["usage_events-junk.parquet"].startswith("cannot read usage_events-junk.parquet as parquet")
    assert summary.totals()["inserted"] == 2


def test_quoted_fields_keep_their_commas(con, tmp_path):
    path = write_csv(
        tmp_path / "usage_events.csv",
        EVENT_HEADER,
        ['"q1","2026-10-01T10:00:00Z","Smith, Ann","claude-code","m","human",1,2,0'],
    )
    assert load(con, path).results[0].inserted == 1
    assert con.execute("SELECT user_id FROM usage_events").fetchone() == ("Smith, Ann",)


def test_team_trees_must_reach_a_root(con, tmp_path):
    teams = write_csv(
        tmp_path / "teams.csv",
        "team_id,team_name,parent_team_id",
        ["root,Acme,", "x1,Lost,nowhere", ",No id,root", "a,A,b", "b,B,a", "c,C,root"],
    )
    result = load(con, teams).results[0]
    reasons = dict(con.execute("SELECT line, reason FROM rejected_rows").fetchall())
    assert reasons[3] == 'parent_team_id "nowhere" names no known team'
    assert reasons[4] == "missing team_id"
    assert reasons[5].startswith("team does not reach a root") and reasons[6].startswith("team does not reach")
    assert (result.inserted, result.rejected) == (2, 4)
    assert dict(con.execute("SELECT team_id, org_id FROM dim_teams").fetchall()) == {"root": "root", "c": "c"}
    # a later file may not close a loop through teams already loaded
    later = write_csv(tmp_path / "teams-2.csv", "team_id,team_name,parent_team_id", ["root,Acme,c"])
    assert load(con, later).results[0].rejected == 1


def test_future_employment_dates_are_fine_and_absurd_counts_are_not(con, tmp_path):
    people = write_csv(
        tmp_path / "people.csv",
        "user_id,display_name,team_id,active_from,active_to",
        ["n1,New Hire,t,2031-01-01,", "l1,Leaver,t,2020-01-01,2030-12-31"],
    )
    assert load(con, people).results[0].inserted == 2
    events = write_csv(
        tmp_path / "usage_events.csv",
        EVENT_HEADER,
        [
            "h1,2026-10-01T10:00:00Z,a1,claude-code,m,human,9000000000000000000,1,0",
            "h2,2026-10-01T10:00:00Z,a1,claude-code,m,human,999999999999,1,0",
        ],
    )
    result = load(con, events).results[0]
    assert (result.inserted, result.rejected) == (1, 1)
    assert "implausibly large" in con.execute("SELECT reason FROM rejected_rows").fetchone()[0]
    assert con.execute("SELECT input_tokens FROM usage_events").fetchone() == (999999999999,)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_numbers_count_blank_lines(con, tmp_path, newline):
    lines = [
        EVENT_HEADER,
        *good_events(1),
        "",
        "e3,bad,a1,claude-code,m,human,1,1,0",
        "",
        "",
        "e5,2026-10-01T10:00:00Z,a1,claude-code,m,human,1,1,0,9",
        "e6,x,a1,claude-code,m,human,1,1,0",
        "",
    ]
    path = tmp_path / "usage_events.csv"
    path.write_bytes(newline.join(lines).encode())
    result = load(con, path).results[0]
    assert (result.inserted, result.rejected) == (1, 3)
    got = [line for (line,) in con.execute("SELECT line FROM rejected_rows ORDER BY line").fetchall()]
    assert got == [4, 7, 8]


def test_odd_json_keys_are_reported_not_fatal(con, tmp_path):
    path = tmp_path / "usage_events.jsonl"
    path.write_text(
        json.dumps(
            {
                "event_id": "j1",
                "ts": "2026-10-01T10:00:00Z",
                "user_id": "a1",
                "tool": "t",
                "input_tokens": 1,
                "output_tokens": 2,
                'we"ird': 1,
                "$.x": 2,
            }
        )
        + "\n"
    )
    result = load(con, path).results[0]
    assert result.inserted == 1
    assert result.warnings == ['usage_events.jsonl: ignored unknown columns $.x, we"ird']


def test_paths_that_duckdb_would_expand_are_refused(tmp_path):
    (tmp_path / "usage_events-a.csv").write_text("x")
    odd = write_csv(tmp_path / "usage_events-[ab].csv", EVENT_HEADER, good_events(1))
    with pytest.raises(ValueError, match="not supported"):
        ingest.discover([odd])
    files, warnings = ingest.discover([tmp_path])
    assert [p.name for p, _ in files] == ["usage_events-a.csv"]
    assert any("usage_events-[ab].csv" in w for w in warnings)


def test_a_folder_without_canonical_files_is_an_error(tmp_path):
    (tmp_path / "usage_events.xlsx").write_text("x")
    with pytest.raises(ValueError, match="holds no files to load"):
        ingest.discover([tmp_path])


def _state(con) -> dict[str, list[tuple]]:
    """Everything a load leaves behind that does not depend on the clock."""
    return {
        "usage_events": con.execute("SELECT * FROM usage_events ORDER BY ALL").fetchall(),
        "outcomes": con.execute("SELECT * FROM outcomes ORDER BY ALL").fetchall(),
        "rejected_rows": con.execute("SELECT * EXCLUDE (rejected_at) FROM rejected_rows ORDER BY ALL").fetchall(),
        "tool_sources": con.execute("SELECT * FROM tool_sources ORDER BY ALL").fetchall(),
        "ingest_log": con.execute("SELECT * EXCLUDE (started_at, finished_at) FROM ingest_log ORDER BY ALL").fetchall(),
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_lines_set_aside_resolve_exactly_as_the_whole_file_would(tmp_path, monkeypatch, fmt):
    """Events are inserted straight from the file except the lines whose id repeats in it or is already
    loaded; resolving every line in the temporary table instead must give the same rows, counts and rejects."""
    from analytics.warehouse import connect

    earlier = write_csv(tmp_path / "usage_events-1.csv", EVENT_HEADER, good_events(4, user="x9"))
    rows = (
        good_events(12)
        + list(BROKEN)[:12]  # every rule but the malformed line, which only CSV has
        + [
            # g0 to g3 are loaded already (for x9), so their first lines here (for a1) are conflicts
            "g0,2026-10-01T10:00:00Z,a1,claude-code,claude-sonnet-4-5,human,100,20,5",  # repeat, same: duplicate
            "g1,2026-10-02T10:01:00Z,a1,claude-code,claude-sonnet-4-5,human,999,20,5",  # repeat, other values
            "g1,2026-10-02T10:01:00Z,a1,claude-code,claude-sonnet-4-5,human,998,20,5",  # and again
            "b02,2026-10-01T10:00:00Z,a1,claude-code,m,human,1,1,0",  # its first line was rejected: this one loads
            "g0,2026-10-01T10:00:00Z,x9,claude-code,claude-sonnet-4-5,human,100,20,5",  # as loaded; not as line 2
            "g2,2026-10-03T10:02:00Z,x9,claude-code,claude-sonnet-4-5,agent,100,20,5",
            "g3,2026-10-04T10:03:00Z,x9,claude-code,claude-sonnet-4-5,human,100,20,5",
            ",2026-10-01T10:00:00Z,a1,claude-code,m,human,1,1,0",  # a second line without an id
        ]
    )
    path = write_csv(tmp_path / "usage_events-2.csv", EVENT_HEADER, rows)
    if fmt == "parquet":
        # typed columns, as exporters write them: timestamps with a zone, counts as integers
        with duckdb.connect() as scratch:
            scratch.execute("SET TimeZone = 'UTC'")
            scratch.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv('{path}', all_varchar = true)")
            scratch.execute(  # what cannot be typed arrives empty
                "COPY (SELECT * REPLACE (TRY_CAST(ts AS TIMESTAMPTZ) AS ts, TRY_CAST(input_tokens AS BIGINT) "
                f"AS input_tokens) FROM raw) TO '{tmp_path / 'usage_events-2.parquet'}' (FORMAT parquet)"
            )
        path = tmp_path / "usage_events-2.parquet"
    aside: list[tuple[int, int]] = []
    set_aside = _Loader._set_aside

    def spy(self):
        set_aside(self)
        aside.append((self.aside_rows, self.source_rows))

    monkeypatch.setattr(_Loader, "_set_aside", spy)
    states, counts = [], []
    for whole in (False, True):
        monkeypatch.setattr(_Loader, "force_aside", whole)
        con = connect(tmp_path / f"whole{whole}.duckdb")
        summary = ingest.ingest(con, [earlier, path], refresh=False, now=datetime(2026, 11, 1))
        counts.append([(r.status, r.rows_read, r.inserted, r.duplicates, r.rejected) for r in summary.results])
        states.append(_state(con))
        con.close()
    assert counts[0] == counts[1]
    assert states[0] == states[1]
    # the streamed load set aside only the 14 lines of g0 to g3, b02 and no id, not the whole file
    assert aside[1] == (14, len(rows))
    assert [a == s for a, s in aside[2:]] == [True, True]
    status, read, inserted, duplicates, rejected = counts[0][1]
    assert status == "loaded"
    assert read == len(rows)
    assert inserted + duplicates + rejected == read
    reasons = [r[5] for r in states[0]["rejected_rows"]]
    assert sum("appears earlier in this file" in r for r in reasons) == 5  # g1 twice, g0, g2, g3
    assert sum("already loaded with different values" in r for r in reasons) == 4
    # g4 to g11 and the second b02 (and b08, whose "12.5" became 13 in the Parquet file); the repeated g0
    assert (inserted, duplicates) == (9 + (fmt == "parquet"), 1)


def test_bad_lines_of_a_streamed_file_are_found_without_repeats_or_loaded_ids(con, tmp_path):
    """A file whose ids are all new and unique is inserted in one pass; its broken lines still are kept."""
    rows = good_events(5) + list(BROKEN)[:12]
    result = load(con, write_csv(tmp_path / "usage_events.csv", EVENT_HEADER, rows), refresh=False).results[0]
    assert (result.inserted, result.duplicates, result.rejected) == (5, 0, 12)
    assert con.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 5
    assert con.execute("SELECT count(DISTINCT line) FROM rejected_rows").fetchone()[0] == 12
    assert con.execute("SELECT tool FROM tool_sources").fetchall() == [("claude-code",)]


def test_parquet_timestamps_with_a_zone_are_stored_in_utc(con, tmp_path):
    """Zoned Parquet times are read as their UTC instant, infinity included (rejected as in the future)."""
    path = tmp_path / "usage_events.parquet"
    con.execute("SET TimeZone = 'America/New_York'")  # the session's zone must not matter
    con.execute(
        f"""COPY (SELECT * FROM (VALUES
              ('z1', TIMESTAMPTZ '2026-10-01 10:00:00.123456+02', 'a1', 'claude-code', 'human', 1, 1),
              ('z2', TIMESTAMPTZ '1969-12-31 23:59:59+00', 'a1', 'claude-code', 'human', 1, 1),
              ('z3', TIMESTAMPTZ 'infinity', 'a1', 'claude-code', 'human', 1, 1))
            t(event_id, ts, user_id, tool, initiated_by, input_tokens, output_tokens))
            TO '{path}' (FORMAT parquet)"""
    )
    con.execute("SET TimeZone = 'UTC'")
    result = load(con, path, refresh=False).results[0]
    assert (result.inserted, result.rejected) == (2, 1)
    assert con.execute("SELECT event_id, ts FROM usage_events ORDER BY event_id").fetchall() == [
        ("z1", datetime(2026, 10, 1, 8, 0, 0, 123456)),
        ("z2", datetime(1969, 12, 31, 23, 59, 59)),
    ]
    assert "more than a day in the future" in con.execute("SELECT reason FROM rejected_rows").fetchone()[0]
