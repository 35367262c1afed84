"""local_clock (analytics/sql/local_clock.sql): local time by a join on quarter hours equals timezone() minute by
minute, across daylight-saving changes and in zones whose offset is not a whole hour."""

from __future__ import annotations

import duckdb
import pytest

from analytics.warehouse import sql_text

# Whole-hour and half-hour zones with DST, a 45-minute zone, a 30-minute DST shift, zones without DST, and UTC.
ZONES = (
    "Europe/Madrid",
    "America/New_York",
    "America/St_Johns",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "UTC",
)


@pytest.fixture
def clock():
    con = duckdb.connect()
    con.execute("CREATE TABLE dim_people (user_id VARCHAR, timezone VARCHAR)")
    con.executemany("INSERT INTO dim_people VALUES (?, ?)", [(f"p{i}", z) for i, z in enumerate(ZONES)])
    con.execute("INSERT INTO dim_people VALUES ('nozone', NULL)")
    # an event every minute of 2026 (the clock spans the quarter hours that hold events)
    con.execute(
        "CREATE TABLE usage_events AS SELECT ts FROM generate_series(TIMESTAMP '2026-01-01 00:00:30', "
        "TIMESTAMP '2026-12-31 23:59:30', INTERVAL 1 MINUTE) s(ts)"
    )
    con.execute(sql_text("local_clock"))
    yield con
    con.close()


def test_every_minute_of_a_year_matches_timezone(clock):
    mismatched, checked = clock.execute(
        """
        WITH t AS (SELECT ts FROM usage_events),
             z AS (SELECT DISTINCT COALESCE(timezone, 'UTC') AS tz FROM dim_people)
        SELECT count(*) FILTER (WHERE t.ts + c.shift IS DISTINCT FROM timezone(z.tz, timezone('UTC', t.ts))), count(*)
        FROM t CROSS JOIN z
        LEFT JOIN local_clock(TIMESTAMP '1000-01-01', TIMESTAMP '9999-12-31') c
            ON c.tz = z.tz AND c.bucket = epoch_us(t.ts) // 900000000
        """
    ).fetchone()
    assert checked == 365 * 24 * 60 * len(ZONES)
    assert mismatched == 0


def test_spans_the_events_within_the_range_asked_for(clock):
    rows = clock.execute(
        "SELECT tz, count(*), min(bucket), max(bucket) FROM local_clock(TIMESTAMP '2026-03-29 00:07', "
        "TIMESTAMP '2026-03-29 01:00') GROUP BY tz ORDER BY tz"
    ).fetchall()
    assert [r[0] for r in rows] == sorted(ZONES)
    start = clock.execute("SELECT epoch_us(TIMESTAMP '2026-03-29 00:00') // 900000000").fetchone()[0]
    # the first event at or after 00:07 is at 00:07:30, the last at or before 01:00 at 00:59:30
    assert {r[1:] for r in rows} == {(4, start, start + 3)}
    # a range as wide as every week's holds one row per zone and quarter hour of the year, not of millennia
    every_week = "SELECT count(*) FROM local_clock(DATE '1000-01-06', DATE '9999-12-27')"
    assert clock.execute(every_week).fetchone()[0] == 365 * 96 * len(ZONES)
    no_events = "SELECT count(*) FROM local_clock(DATE '2030-01-01', DATE '2030-12-31')"
    assert clock.execute(no_events).fetchone()[0] == 0
