"""The Suspected inflation page's stored tables (detection's evidence by person and day, marts.SUMMARIES'
mart_suspects, mart_suspect_teams, mart_period_automation) give exactly what the queries over events and
det_person gave, for admins and team leads; and a refresh of some weeks leaves the evidence as a whole rebuild."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics import access, demo, detect, ingest, marts
from analytics.queries import OPERATOR, Warehouse
from analytics.warehouse import connect, connect_read_only, sql_text
from tests.test_refresh_incremental import _part


@pytest.fixture(scope="module")
def wh(demo_db):
    warehouse = Warehouse(connect_read_only(demo_db))
    yield warehouse
    warehouse.close()


def _scopes(wh: Warehouse) -> dict[str, access.Scope]:
    out = {"admin": access.Viewer(email="", role="admin", display_name="test admin").scope()}
    for label, viewer in access.demo_viewers(wh.con).items():
        if label.startswith("Team lead of") or label.startswith("Lead of"):
            out[label] = viewer.scope()
    assert len(out) > 1, "the demo offers a lead to compare scoped results with"
    return out


def _bind(scope: access.Scope, text: str, **params) -> dict:
    return {**params, **{k: v for k, v in scope.params().items() if f"${k}" in text}}


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same columns, dtypes and rows in the same order (floating point to 1e-9 relative)."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for column in want.columns:
        a, e = got[column], want[column]
        assert a.dtype == e.dtype, column
        if pd.api.types.is_float_dtype(e):
            np.testing.assert_allclose(a, e, rtol=1e-9, err_msg=column)
        else:
            assert a.astype(str).tolist() == e.astype(str).tolist(), f"{column} differs"


# The queries as they read det_person and dim_people on every view (marts version 7).
SUSPECTS_LIVE = """
SELECT d.user_id, p.display_name, p.team_id, p.team_name, p.org_id, p.org_name, d.suspicion, d.flagged,
       d.families, d.reasons, d.suspect_weeks, d.weeks, d.tokens, d.tokens_at_stake,
       d.first_suspect_week, d.last_suspect_week
FROM det_person d LEFT JOIN dim_people p USING (user_id)
WHERE ($scope_all OR (p.team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
ORDER BY d.flagged DESC, d.suspicion DESC, d.tokens DESC, d.user_id"""

TEAMS_LIVE = """
SELECT p.team_id, any_value(p.team_name) AS team_name, any_value(p.org_name) AS org_name, count(*) AS people,
       count(*) FILTER (WHERE d.flagged) AS flagged, max(d.suspicion) AS top_suspicion,
       array_to_string(list_sort(list_distinct(flatten(
           list(string_split(d.families, ',')) FILTER (WHERE d.flagged)))), ',') AS families,
       CAST(sum(d.tokens) AS BIGINT) AS tokens,
       CAST(sum(d.tokens_at_stake) AS BIGINT) AS tokens_at_stake,
       sum(d.tokens_at_stake) / nullif(sum(d.tokens), 0) AS share_at_stake
FROM det_person d JOIN dim_people p USING (user_id)
WHERE ($scope_all OR (p.team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
GROUP BY p.team_id HAVING count(*) FILTER (WHERE d.flagged) > 0
ORDER BY tokens_at_stake DESC, p.team_id"""


def test_suspects_and_teams_from_the_summaries_equal_the_live_queries(wh):
    for label, scope in _scopes(wh).items():
        got = wh.suspects(scope)
        want = wh.con.execute(SUSPECTS_LIVE, _bind(scope, SUSPECTS_LIVE)).df()
        if not scope.named:
            want = want.drop(columns=["display_name"])
        assert len(want) and (want["flagged"].any() or label != "admin"), label
        _same(got, want)
        got = wh.suspect_teams(scope).sort_values(["tokens_at_stake", "team_id"], ascending=[False, True])
        want = wh.con.execute(TEAMS_LIVE, _bind(scope, TEAMS_LIVE)).df()
        assert len(want) or label != "admin"
        _same(got.reset_index(drop=True), want)


def test_the_flagged_people_and_totals_are_what_the_page_took_from_everyone_scored(wh):
    # the page used to fetch every scored person and keep the flagged ones, their count, tokens and earliest week
    pseudonymous = access.Scope("finance", None, None, False, 5)
    for label, scope in {**_scopes(wh), "pseudonymous": pseudonymous}.items():
        everyone = wh.suspects(scope)
        flagged, totals = wh.suspect_cases(scope)
        assert len(flagged) or label != "admin"
        _same(flagged, everyone[everyone["flagged"]])
        assert flagged.index.equals(everyone[everyone["flagged"]].index)
        assert totals["people"] == len(everyone)
        assert totals["tokens"] == int(everyone["tokens"].sum())
        first = everyone["first_suspect_week"].min()
        assert totals["first_suspect_week"] == (None if pd.isna(first) else pd.Timestamp(first)), label
    # someone not flagged can hold the earliest suspect week (one suspect week is not enough to be flagged)
    everyone = wh.suspects()
    assert everyone.loc[~everyone["flagged"], "first_suspect_week"].notna().any()


def test_automation_lane_reads_its_summary_for_the_default_range_only(wh):
    first, last = wh.date_bounds()
    start = max(first, last - timedelta(weeks=marts.PERIOD_WEEKS) + timedelta(days=1))
    stored = "SELECT DISTINCT stored FROM (" + sql_text("q_automation_lane_stored").rstrip().rstrip(";") + ")"
    for lo, hi, want in (
        (start, last, True),
        (start + timedelta(days=1), last, False),
        (start, last - timedelta(days=1), False),
    ):
        assert wh.con.execute(stored, {"start": lo, "end": hi, "scope_all": True, "scope_teams": []}).fetchall() == [
            (want,)
        ]
    # the summary's rows equal the sums of the same days' rows (the branch any other range takes)
    text = "SELECT * FROM mart_period_automation"
    stored = wh.con.execute(text).df()
    assert len(stored)
    assert (stored["period_start"].dt.date == start).all() and (stored["period_end"].dt.date == last).all()
    for scope in _scopes(wh).values():
        got = wh.automation_lane(start, last, scope).sort_values("user_id", ignore_index=True)
        want = wh._frame("q_automation_lane", scope, start=start, end=last)
        _same(got, want.sort_values("user_id", ignore_index=True))
        # and what the query gave before it read names and teams from the summary (marts version 8)
        params = _bind(scope, LANE_LIVE, start=start, end=last)
        want = wh.con.execute(LANE_LIVE, params).df()
        if not scope.named:
            want = want.drop(columns=["display_name"])
        _same(got, want.sort_values("user_id", ignore_index=True))
    # a scope nobody with declared automation is in: none, typed as the query types none
    team = wh.con.execute(
        "SELECT team_id FROM dim_teams WHERE team_id NOT IN (SELECT ancestor_id FROM team_ancestors WHERE team_id IN "
        "(SELECT team_id FROM mart_period_automation)) ORDER BY team_id LIMIT 1"
    ).fetchone()[0]
    scope = access.Scope("lead", (team,), None, True, 5)
    got = wh.automation_lane(start, last, scope)
    want = wh._frame("q_automation_lane", scope, start=start, end=last)
    assert want.empty
    _same(got, want)
    assert got.dtypes.equals(want.dtypes)
    # another range is summed from its days
    got = wh.automation_lane(start + timedelta(days=1), last, access.Viewer(email="", role="admin").scope())
    _same(got, wh.con.execute(LANE_LIVE, _bind(OPERATOR, LANE_LIVE, start=start + timedelta(days=1), end=last)).df())


LANE_LIVE = """
SELECT l.user_id, p.display_name, p.team_name, l.automation_tokens, l.automation_cost_usd, l.scheduled_requests,
       l.share_of_their_tokens
FROM (
    SELECT user_id, CAST(sum(scheduled_tokens) AS BIGINT) AS automation_tokens,
           sum(scheduled_cost_usd) AS automation_cost_usd,
           CAST(sum(scheduled_requests) AS BIGINT) AS scheduled_requests,
           sum(scheduled_tokens) / nullif(sum(tokens), 0) AS share_of_their_tokens
    FROM mart_person_day_tool
    WHERE is_attributed AND day BETWEEN CAST($start AS DATE) AND CAST($end AS DATE) AND scheduled_tokens > 0
    GROUP BY user_id
) l JOIN dim_people p USING (user_id)
WHERE ($scope_all OR p.team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id)))
ORDER BY l.automation_tokens DESC"""


# The evidence view's queries over the events, as q_evidence_heatmap.sql and q_evidence_gaps.sql define them: the
# person's calls (declared automation excluded) and turn starts on the local days [$start, $end].
HEATMAP_LIVE = """
SELECT isodow(local_ts) AS weekday, hour(local_ts) AS hour, CAST(sum(tokens) AS BIGINT) AS tokens, count(*) AS calls
FROM (
    SELECT timezone(COALESCE(dp.timezone, 'UTC'), timezone('UTC', e.ts)) AS local_ts,
           e.input_tokens + e.output_tokens + e.cache_read_tokens + e.cache_write_tokens AS tokens
    FROM usage_events e JOIN identity_lookup il ON il.identity = lower(e.user_id)
    LEFT JOIN dim_people dp ON dp.user_id = il.user_id
    WHERE il.user_id = $user_id AND e.initiated_by <> 'schedule'
)
WHERE CAST(local_ts AS DATE) BETWEEN CAST($start AS DATE) AND CAST($end AS DATE)
GROUP BY ALL ORDER BY weekday, hour"""

GAPS_LIVE = """
WITH people AS (
    SELECT $user_id AS user_id, 'this person' AS who
    UNION ALL
    SELECT user_id, 'peers' FROM (
        SELECT DISTINCT user_id FROM det_person_week
        WHERE peer_group = (SELECT mode(peer_group) FROM det_person_week WHERE user_id = $user_id)
          AND user_id <> $user_id
        ORDER BY hash(user_id) LIMIT 50)
), starts AS (
    SELECT p.who, il.user_id, e.ts
    FROM usage_events e JOIN identity_lookup il ON il.identity = lower(e.user_id)
    LEFT JOIN dim_people dp ON dp.user_id = il.user_id
    JOIN people p ON p.user_id = il.user_id
    WHERE (e.initiated_by = 'human'
           OR (e.initiated_by = 'unknown' AND (e.prompt_chars IS NOT NULL OR e.prompt_fingerprint IS NOT NULL)))
      AND CAST(timezone(COALESCE(dp.timezone, 'UTC'), timezone('UTC', e.ts)) AS DATE)
          BETWEEN CAST($start AS DATE) AND CAST($end AS DATE)
), gaps AS (
    SELECT who, epoch(ts) - lag(epoch(ts)) OVER (PARTITION BY user_id ORDER BY ts) AS gap FROM starts
), binned AS (
    SELECT who, floor(log10(gap) * 4) / 4 AS log10_gap, count(*) AS n FROM gaps WHERE gap >= 1 GROUP BY ALL
)
SELECT who, log10_gap, n / sum(n) OVER (PARTITION BY who) AS share FROM binned ORDER BY who, log10_gap"""


def _ranges(wh: Warehouse) -> list[tuple[date, date]]:
    first, last = wh.date_bounds()
    default = max(first, last - timedelta(weeks=marts.PERIOD_WEEKS) + timedelta(days=1))
    # the default range, everything, and ranges cutting weeks (and nights) anywhere
    return [
        (default, last),
        (first, last),
        (first + timedelta(days=3), first + timedelta(days=12)),
        (last - timedelta(days=9), last - timedelta(days=1)),
    ]


def test_evidence_from_detection_equals_the_queries_over_events(wh):
    flagged = wh.suspects().query("flagged")["user_id"].tolist()
    others = wh.suspects().query("not flagged and tokens > 0")["user_id"].tolist()
    people = flagged[:4] + others[:2]
    assert len(people) >= 4
    for user_id in people:
        for start, end in _ranges(wh):
            params = {"user_id": user_id, "start": start, "end": end}
            got = wh.evidence(user_id, start, end)
            _same(got["heatmap"], wh.con.execute(HEATMAP_LIVE, params).df())
            want = wh.con.execute(GAPS_LIVE, params).df()
            _same(got["gaps"], want)
            assert set(want["who"]) == {"this person", "peers"} or (start, end) != _ranges(wh)[1]


# What the gap chart read of its peers until marts version 9: the first 50 other than the person among everyone with
# a week in the person's usual peer group, by hash, and their days with a prompt (det_evidence_day), gaps unnested.
PEERS_LIVE = """
SELECT DISTINCT user_id FROM det_person_week
WHERE peer_group = (SELECT mode(peer_group) FROM det_person_week WHERE user_id = $user_id) AND user_id <> $user_id
ORDER BY hash(user_id), user_id LIMIT 50"""

PEER_ROWS_LIVE = """
WITH days AS (
    SELECT * FROM det_evidence_day
    WHERE first_turn_ts IS NOT NULL AND user_id IN (SELECT user_id FROM det_peer_people)
)
SELECT person_hash, user_id, day, first_turn_ts, last_turn_ts, NULL AS log10_gap, NULL AS n, NULL AS since FROM days
UNION ALL
SELECT person_hash, user_id, day, NULL, NULL, g.log10_gap, g.n, day FROM (SELECT *, unnest(gaps) AS g FROM days)
UNION ALL
SELECT person_hash, user_id, day, NULL, NULL, floor(log10(gap) * 4) / 4, 1, since FROM (
    SELECT person_hash, user_id, day, epoch(first_turn_ts) - lag(epoch(last_turn_ts)) OVER w AS gap,
           lag(day) OVER w AS since
    FROM days WINDOW w AS (PARTITION BY user_id ORDER BY day))
WHERE gap >= 1"""


def test_the_stored_peers_are_whom_the_gap_chart_compared_with(wh):
    people = wh.con.execute("SELECT user_id FROM dim_people ORDER BY user_id").df()["user_id"].tolist()
    assert len(people) > 100
    stored = """
        SELECT user_id FROM det_peer_people
        WHERE peer_group = (SELECT mode(peer_group) FROM det_person_week WHERE user_id = $user_id)
          AND user_id <> $user_id
        ORDER BY person_hash, user_id LIMIT 50"""
    sizes = set()
    for user_id in people[::7]:
        want = wh.con.execute(PEERS_LIVE, {"user_id": user_id}).df()["user_id"].tolist()
        assert wh.con.execute(stored, {"user_id": user_id}).df()["user_id"].tolist() == want, user_id
        sizes.add(len(want))
    assert 50 in sizes and len(sizes) > 1, "groups both larger and smaller than the chart's fifty peers"
    # every day with a prompt of theirs, flat: a row of the day's first and last prompt, a row per gap bin
    got = _sorted(wh.con.execute("SELECT * FROM det_evidence_peers").df())
    want = _sorted(wh.con.execute(PEER_ROWS_LIVE).df()).astype(got.dtypes.to_dict())
    assert len(got) and got["log10_gap"].notna().any() and (got["since"] < got["day"]).any()
    _same(got, want)
    assert wh.con.execute("SELECT count(*) FROM det_shared_hashes").fetchone()[0] == 0


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["user_id", "day", "since", "log10_gap"], ignore_index=True, na_position="first")


def test_a_hash_two_people_share_reads_each_one_only_their_own_rows(demo_db, tmp_path):
    # no two of the demo's people have ids with the same hash, so make one: a stranger's rows under a flagged person's
    # hash; once det_shared_hashes names it, the evidence compares the user_id as well and is the person's own again
    copy = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, copy)
    wh = Warehouse(connect_read_only(copy))
    user_id = wh.suspects().query("flagged")["user_id"].iloc[0]
    first, last = wh.date_bounds()
    own = wh.evidence(user_id, first, last)
    wh.close()
    con = connect(copy)
    for table in ("det_evidence_day", "det_evidence_peers"):
        con.execute(
            f"INSERT INTO {table} SELECT * REPLACE ('a stranger' AS user_id) FROM {table} "
            "WHERE user_id = (SELECT user_id FROM det_peer_people WHERE user_id <> $u ORDER BY person_hash LIMIT 1) "
            "OR user_id = $u",
            {"u": user_id},
        )
    con.close()
    wh = Warehouse(connect_read_only(copy))
    tampered = wh.evidence(user_id, first, last)
    assert not tampered["heatmap"].equals(own["heatmap"]) and not tampered["gaps"].equals(own["gaps"])
    wh.close()
    con = connect(copy)
    con.execute("INSERT INTO det_shared_hashes SELECT DISTINCT person_hash FROM det_evidence_peers")
    con.execute("INSERT INTO det_shared_hashes VALUES (hash($u))", {"u": user_id})
    con.close()
    wh = Warehouse(connect_read_only(copy))
    guarded = wh.evidence(user_id, first, last)
    wh.close()
    for part in ("heatmap", "gaps"):
        _same(guarded[part], own[part])


END = date(2026, 11, 20)
# detection's stored evidence and what the evidence view reads of it (each sorted by every column but floats)
EVIDENCE = {
    "det_evidence_day": "user_id, day",
    "det_peer_people": "peer_group, user_id",
    "det_evidence_peers": "user_id, day, since NULLS FIRST, log10_gap NULLS FIRST",
    "det_shared_hashes": "person_hash",
}


def _evidence_rows(con) -> dict[str, pd.DataFrame]:
    return {table: con.execute(f"SELECT * FROM {table} ORDER BY {order}").df() for table, order in EVIDENCE.items()}


@pytest.mark.parametrize(
    "cutoff", ["ts < TIMESTAMP '2026-11-19 06:00:00'", "ts NOT BETWEEN '2026-10-27' AND '2026-11-03'"]
)
def test_evidence_after_a_refresh_of_some_weeks_equals_a_rebuild(tmp_path, cutoff):
    files = tmp_path / "demo"
    demo.generate(files, users=60, days=42, seed=11, end=END)
    con = connect(tmp_path / "w.duckdb")
    for paths in (
        [files / "teams.parquet", files / "people.parquet", files / "usage_daily.parquet"],
        [_part(files, tmp_path, t, "b1", cutoff) for t in ("usage_events", "outcomes")],
    ):
        assert not ingest.ingest(con, paths, refresh=False).failed
    marts.refresh(con)
    assert not ingest.ingest(
        con, [_part(files, tmp_path, t, "b2", f"NOT ({cutoff})") for t in ("usage_events", "outcomes")], refresh=False
    ).failed
    marts.refresh(con)
    assert marts.last_refresh(con).startswith("weeks ")
    got = _evidence_rows(con)
    marts.refresh(con, whole=True)
    want = _evidence_rows(con)
    for table, rows in want.items():
        assert len(rows) or table == "det_shared_hashes", table
        _same(got[table], rows)


def test_peers_joining_or_leaving_a_group_keep_the_stored_peer_days_as_a_rebuild(tmp_path):
    # a refresh of some weeks replaces those days of the peers and adds or drops people whose place among their group's
    # first 51 changed; here the stored state is made to miss some peers and hold a stranger, as a change would leave it
    files = tmp_path / "demo"
    demo.generate(files, users=60, days=42, seed=11, end=END)
    con = connect(tmp_path / "w.duckdb")
    assert not ingest.ingest(con, sorted(files.glob("*.parquet"))).failed
    want = _evidence_rows(con)
    gone = con.execute("SELECT user_id FROM det_peer_people ORDER BY person_hash LIMIT 3").df()["user_id"].tolist()
    con.execute("DELETE FROM det_peer_people WHERE list_contains($gone, user_id)", {"gone": gone})
    con.execute("DELETE FROM det_evidence_peers WHERE list_contains($gone, user_id)", {"gone": gone})
    con.execute("INSERT INTO det_peer_people SELECT 'a group', 42, 'a stranger'")
    con.execute("INSERT INTO det_evidence_peers SELECT * REPLACE (42 AS person_hash, 'a stranger' AS user_id) "
                "FROM det_evidence_peers LIMIT 5")  # fmt: skip
    last = con.execute("SELECT max(day) FROM det_evidence_day").fetchone()[0]
    lo = last - timedelta(days=last.weekday())
    detect._store_peer_days(con, lo, lo + timedelta(days=6), whole=False)
    got = _evidence_rows(con)
    for table, rows in want.items():
        _same(got[table], rows)
