"""Identity mapping files: telemetry identities mapped to people, bad rows kept with reasons, re-sends replace."""

from __future__ import annotations

import json

import pytest

from analytics import ingest
from analytics.identity import load_identity_map
from analytics.warehouse import WarehouseError
from tests.conftest import write_csv

HEADER = "identity,user_id,source"


@pytest.fixture
def loaded(con, org, tmp_path):
    """The two-team org, plus usage from two identities that no person matches yet."""
    usage = write_csv(
        tmp_path / "usage_events.csv",
        "event_id,ts,user_id,tool,input_tokens,output_tokens",
        [
            "e1,2026-10-08T10:00:00Z,ADA-LAPTOP,claude-code,100,20",
            "e2,2026-10-08T11:00:00Z,contractor@vendor.example,cursor,10,5",
        ],
    )
    ingest.ingest(con, [org, usage])
    return con


def owners(con) -> dict:
    return dict(con.execute("SELECT identity, user_id FROM mart_person_day_tool").fetchall())


def test_a_mapping_file_attributes_usage_and_keeps_bad_rows_with_reasons(loaded, tmp_path):
    con = loaded
    assert owners(con) == {"ada-laptop": None, "contractor@vendor.example": None}
    path = write_csv(
        tmp_path / "identities.csv",
        HEADER,
        [
            "ada-laptop,a1,okta",  # line 2
            ",a1,",  # 3: no identity
            "someone@else.example,,",  # 4: no user_id
            "Contractor@Vendor.example,B2,",  # 5: identities and user ids match whatever their case
            "ghost@x.example,zz,",  # 6: names nobody
            "too,many,fields,here",  # 7
        ],
    )
    result = load_identity_map(con, path)
    assert {k: result[k] for k in ("rows_read", "inserted", "updated", "duplicates", "rejected")} == {
        "rows_read": 6,
        "inserted": 2,
        "updated": 0,
        "duplicates": 0,
        "rejected": 4,
    }
    assert result["marts_refreshed"] is True
    assert con.execute("SELECT identity, user_id, source FROM identity_map ORDER BY 1").fetchall() == [
        ("Contractor@Vendor.example", "b2", None),
        ("ada-laptop", "a1", "okta"),
    ]
    assert owners(con) == {"ada-laptop": "a1", "contractor@vendor.example": "b2"}
    rejected = con.execute("SELECT table_name, line, reason FROM rejected_rows ORDER BY line").fetchall()
    assert rejected == [
        ("identity_map", 3, "missing identity"),
        ("identity_map", 4, "missing user_id"),
        ("identity_map", 6, 'user_id "zz" names no known person (load people first)'),
        ("identity_map", 7, "malformed CSV line: 4 fields where the header has 3"),
    ]


def test_a_re_sent_identity_replaces_its_mapping_and_a_reload_changes_nothing(loaded, tmp_path):
    con = loaded
    load_identity_map(con, write_csv(tmp_path / "first.csv", HEADER, ["ada-laptop,a1,okta"]))
    second = write_csv(
        tmp_path / "second.csv",
        HEADER,
        ["ADA-LAPTOP,c3,hr", "contractor@vendor.example,a1,", "contractor@vendor.example,b2,"],  # last line wins
    )
    result = load_identity_map(con, second)
    assert (result["inserted"], result["updated"], result["duplicates"]) == (1, 1, 1)
    assert con.execute("SELECT identity, user_id, source FROM identity_map ORDER BY 1").fetchall() == [
        ("ADA-LAPTOP", "c3", "hr"),
        ("contractor@vendor.example", "b2", None),
    ]
    assert owners(con) == {"ada-laptop": "c3", "contractor@vendor.example": "b2"}
    version = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0]
    again = load_identity_map(con, second)
    assert (again["inserted"], again["updated"], again["duplicates"], again["marts_refreshed"]) == (0, 0, 3, False)
    assert con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0] == version


def test_json_lines_work_too(loaded, tmp_path):
    path = tmp_path / "identities.jsonl"
    path.write_text(
        json.dumps({"identity": "ada-laptop", "user_id": "a1", "source": "okta"})
        + "\n{broken\n"
        + json.dumps({"identity": "contractor@vendor.example", "user_id": "b2", "note": "x"})
        + "\n"
    )
    result = load_identity_map(loaded, path)
    assert (result["inserted"], result["rejected"]) == (2, 1)
    assert result["warnings"] == ["identities.jsonl: ignored unknown columns note"]
    assert loaded.execute("SELECT line, reason FROM rejected_rows").fetchall() == [(2, "line is not a JSON object")]


def test_a_file_without_the_columns_loads_nothing(loaded, tmp_path):
    path = write_csv(tmp_path / "identities.csv", "email,person", ["ada-laptop,a1"])
    with pytest.raises(WarehouseError, match="lacks column"):
        load_identity_map(loaded, path)
    assert loaded.execute("SELECT count(*) FROM identity_map").fetchone()[0] == 0
    assert loaded.execute("SELECT count(*) FROM ingest_log WHERE table_name = 'identity_map'").fetchone()[0] == 0


def test_ingest_loads_a_file_named_identity_map_with_the_rest_of_a_folder(con, org, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    write_csv(
        folder / "usage_events.csv",
        "event_id,ts,user_id,tool,input_tokens,output_tokens",
        ["e1,2026-10-08T10:00:00Z,ADA-LAPTOP,claude-code,100,20"],
    )
    write_csv(folder / "identity_map.csv", HEADER, ["ada-laptop,a1,laptop", "ghost,nobody,x"])
    files, _ = ingest.discover([org, folder])
    assert [kind for _, kind in files] == ["teams", "people", "identity_map", "usage_events"]
    summary = ingest.ingest(con, [org, folder])
    mapped = next(r for r in summary.results if r.table == "identity_map")
    assert (mapped.status, mapped.inserted, mapped.rejected) == ("loaded", 1, 1)
    assert owners(con) == {"ada-laptop": "a1"}
    again = ingest.ingest(con, [folder])
    assert sum(r.inserted for r in again.results) == 0
