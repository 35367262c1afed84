"""Suspected inflation: explainable, peer-relative signals per person and week, grouped into families.

How it decides (every number is in `analytics.thresholds`):

1. SQL (`sql/detect_features.sql`) computes raw features per person and local week from the events,
   daily rows and outcomes in the window. Declared automation (`initiated_by = schedule`) is left out.
2. Each person-week is compared with its peers that week: people whose main tool and role (title
   without seniority words) are the same, falling back to the tool, then everyone, when the group is
   small. A feature fires when it is a robust outlier (modified z >= 3.5) *and* clears an absolute floor.
3. Features belong to independent families: timing, synchrony, content, outcome yield, autonomy,
   cache padding, calendar and change. A week is a *suspect week* when at least two families fire and
   the week's tokens are material (at least the peer median). A person is *suspected* with at least two
   suspect weeks (one in short windows).
4. Missing is not zero: outcome signals need tokens in a tool that reports outcomes; timing, content and
   synchrony need events (daily-only sources give none).

The suspicion score is the mean strength of the person's two strongest families (each 0.5 at its
threshold, 1 at twice its z); people who are not flagged are capped below 0.5, so the score orders a
review queue and never contradicts the flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analytics.thresholds import Thresholds
from analytics.warehouse import WarehouseError, duckdb_types, monday, sql_text, timed, week_chunks

MIN_SHARE_SPREAD = 0.02
FAMILIES = ("timing", "synchrony", "content", "outcome", "autonomy", "cache", "calendar", "change")
FAMILY_LABELS = {
    "timing": "Timing",
    "synchrony": "Synchrony",
    "content": "Repeated prompts",
    "outcome": "Outcome yield",
    "autonomy": "Autonomy",
    "cache": "Cache padding",
    "calendar": "Snapshot bursts",
    "change": "Change",
}
_SENIORITY = re.compile(r"\b(senior|sr|staff|principal|lead|junior|jr|associate|distinguished|[ivx]+|\d+)\b\.?", re.I)


# Seconds the last run in this process spent per part (the benchmark reports them): reading events, the features
# query and its fetches, scoring, storing.
LAST_SPLIT: dict[str, float] = {}


def _part(name: str) -> AbstractContextManager[None]:
    return timed(LAST_SPLIT, name)


@dataclass
class Detection:
    people: pd.DataFrame  # one row per person scored
    weeks: pd.DataFrame  # one row per person and week: features, peer medians, families fired
    partners: pd.DataFrame  # person, week, partner, shared prompts
    since: date
    until: date
    # A refresh of some weeks: the Monday before which `weeks` kept the stored judgements against peers (of those
    # earlier rows it holds only what scoring reads, and what the reasons quote for suspect weeks: the rest is left
    # missing, as persist keeps the stored values), and the stored SPANNING columns of those earlier rows (in
    # `weeks`' order), which persist compares to store only what moved. None otherwise (tables written whole).
    kept_from: date | None = None
    stored: pd.DataFrame | None = None


def window(con: duckdb.DuckDBPyConnection, since: date | None, until: date | None) -> tuple[date, date] | None:
    """The days to score: the given bounds, else everything the marts hold. None when there is no usage."""
    first, last = con.execute("SELECT min(day), max(day) FROM mart_person_day_tool WHERE is_attributed").fetchone()
    if first is None:
        return None
    # Days beyond the data would read as days without use (diluting every baseline), so they are left out.
    return max(since or first, first), min(until or last, last)


# Another engine's reading of the events (con, since, until, lo, hi, settings): it leaves _det_event_week,
# _det_partners and _det_evidence_day as temporary tables of `con`, with the columns detect_events.sql and
# detect_evidence.sql give them here.
EventFeatures = Callable[[duckdb.DuckDBPyConnection, date, date, date, date, Thresholds], None]


def script_params(t: Thresholds, **bounds) -> dict:
    """The detection scripts' parameters: the days and weeks given, and the settings they read."""
    return {
        **bounds,
        "cadence_tolerance": t.cadence_tolerance,
        "near_bits": t.near_bits,
        "min_shared_prompts": t.min_shared_prompts,
        "stock_prompt_people": t.stock_prompt_people,
    }


def run_script(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    for statement in statements(sql_text(name)):
        used = {k: v for k, v in params.items() if f"${k}" in statement}
        con.execute(statement, used or None)


def _event_features(
    con: duckdb.DuckDBPyConnection, since: date, until: date, lo: date, hi: date, t: Thresholds
) -> None:
    """What events tell, for the weeks [lo, hi] from the events of the days [since, until]: _det_event_week and
    _det_partners (temporary tables)."""
    run_script(con, "detect_events", script_params(t, since=since, until=until, lo=lo, hi=hi))


NO_DAYS = (date(2000, 1, 3), date(2000, 1, 2))  # an empty range of days (and of Mondays): tables with no rows


def empty_event_tables(con: duckdb.DuckDBPyConnection, t: Thresholds) -> None:
    """_det_event_week, _det_partners and _det_evidence_day with their columns and no rows: the scripts run over no
    days (another engine's rows are then inserted into them)."""
    _event_features(con, *NO_DAYS, *NO_DAYS, t)
    run_script(con, "detect_evidence", {"lo": NO_DAYS[0], "hi": NO_DAYS[1]})


def _event_features_by_chunk(
    con: duckdb.DuckDBPyConnection,
    since: date,
    until: date,
    lo: date,
    hi: date,
    t: Thresholds,
    keep: Callable[[date, date, bool], None],
) -> None:
    """_event_features for the weeks [lo, hi], CHUNK_WEEKS at a time (each reading its events and a day either
    side, within [since, until]), so a run over a year of a large company's events stays within memory; `keep`
    stores each chunk's tables (its first and last Monday, and whether it is the first chunk)."""
    for first_week, last_week in week_chunks(lo, hi):
        read_since = max(since, first_week - timedelta(days=1))
        read_until = min(until, last_week + timedelta(days=7))
        _event_features(con, read_since, read_until, first_week, last_week, t)
        keep(first_week, last_week, first_week == lo)


def detect(con: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds | None = None) -> Detection:
    """Score the days [since, until] from scratch (the `detect` command); stores nothing."""
    t = t or Thresholds()

    def gather(_first: date, _last: date, start: bool) -> None:
        for table in ("_det_event_week", "_det_partners"):
            if start:
                con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_all AS SELECT * FROM {table}")
            else:
                con.execute(f"INSERT INTO {table}_all SELECT * FROM {table}")

    _event_features_by_chunk(con, since, until, monday(since), monday(until), t, gather)
    for table in ("_det_event_week", "_det_partners"):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}_all")
        con.execute(f"DROP TABLE {table}_all")
    return _score(con, since, until, t)


def _frame(con: duckdb.DuckDBPyConnection, query: str, params: list | dict | None = None) -> pd.DataFrame:
    """A query's rows as pandas, through Arrow: several times faster than DuckDB's own conversion for wide
    frames with missing values. Dates become timestamps and 128-bit sums floats, as DuckDB's own gives them."""
    return duckdb_types(con.sql(query, params=params).to_arrow_table()).to_pandas()


def _score(
    con: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds, fresh_from: date | None = None
) -> Detection:
    """Join the event features (_det_event_week, _det_partners) with the marts and score people and weeks.

    `fresh_from`: a Monday before which the stored det_person_week's judgements against peers still hold."""
    with _part("features"):
        found = _features_query(con, since, until, t, fresh_from)
    with _part("scoring"):
        return _scored(*found, since, until, t, fresh_from, quoted=lambda keys: _stored_quoted(con, keys, t))


def _stored_quoted(con: duckdb.DuckDBPyConnection, keys: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """det_person_week's _quoted_columns for these person-weeks (sorted by person and week), in their order."""
    con.execute("SELECT 1").fetchall()  # DuckDB refuses register() while an earlier result is unread
    con.register("_quoted_keys", pa.Table.from_pandas(keys, preserve_index=False))
    try:
        stored = _frame(
            con,
            f"SELECT d.user_id, d.week, {', '.join(f'd.{c}' for c in _quoted_columns(t))} FROM det_person_week d "
            "JOIN _quoted_keys k ON d.user_id = k.user_id AND d.week = k.week ORDER BY d.user_id, d.week",
        )
    finally:
        con.unregister("_quoted_keys")
    if not (
        pd.array(stored["user_id"]).equals(pd.array(keys["user_id"].reset_index(drop=True)))
        and np.array_equal(stored["week"].to_numpy("datetime64[us]"), keys["week"].to_numpy("datetime64[us]"))
    ):
        raise WarehouseError("det_person_week lacks some of its earlier suspect weeks; run `refresh --whole`")
    return stored


def _features_query(con: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds, fresh_from: date | None):
    """What scoring reads: the features query's rows, fetched (and the temporary tables dropped).

    With `fresh_from`, the weeks before it are the rows det_person_week holds (their own columns, and their
    judgement against peers and SPANNING columns as `known`): only the later weeks are computed from the marts."""
    known = None
    stored = set(_columns(con, "det_person_week")) if fresh_from is not None else set()
    judged = [*_scored_columns(t), *SPANNING]
    keep = set(_peer_columns(t)) <= stored and set(SPANNING) <= stored
    run_script(con, "detect_features", script_params(t, since=since, until=until, fresh=fresh_from if keep else since))
    if keep:
        own = [row[0] for row in con.execute("DESCRIBE _det_week").fetchall()]
        if set(own) <= stored:
            con.execute(
                f"INSERT INTO _det_week SELECT {', '.join(own)} FROM det_person_week WHERE week < ?", [fresh_from]
            )
            known = _frame(
                con,
                f"SELECT user_id, week, {', '.join(judged)} FROM det_person_week WHERE week < ? ORDER BY user_id, week",
                [fresh_from],
            )
        else:  # stored by another version: every week from the marts
            run_script(con, "detect_features", script_params(t, since=since, until=until, fresh=since))
    weeks = _frame(
        con,
        "SELECT w.*, COALESCE(a.active_days, 0) AS active_days FROM _det_week w "
        "LEFT JOIN _det_active a ON a.user_id = w.user_id AND a.week = w.week ORDER BY w.user_id, w.week",
    )
    days = _window_sums(con, since, until, t)
    partners = con.execute(
        "SELECT user_id, week, other_user AS partner, shared FROM _det_partners "
        "WHERE shared >= ? ORDER BY user_id, week, shared DESC",
        [t.min_shared_prompts],
    ).df()
    roles = con.execute("SELECT user_id, title FROM dim_people").df()
    employed = con.execute(
        "SELECT user_id FROM dim_people WHERE (active_from IS NULL OR active_from <= ?) "
        "AND (active_to IS NULL OR active_to >= ?)",
        [until, since],
    ).df()["user_id"]
    for statement in statements(sql_text("detect_cleanup")):
        con.execute(statement)
    return weeks, days, roles, employed, partners, known


def _scored(
    weeks, days, roles, employed, partners, known, since, until, t: Thresholds, fresh_from, quoted=None
) -> Detection:
    """Score weeks and people. `quoted`: the stored _quoted_columns of some earlier weeks (a frame of person and
    week), which a refresh fills in for the earlier suspect weeks, the only ones whose reasons are quoted."""
    if known is not None:
        known["week"] = pd.to_datetime(known["week"]).astype(weeks["week"].dtype)
    weeks = _score_weeks(weeks, days, roles, since, until, t, known=known, fresh_from=fresh_from)
    kept_from = weeks.attrs.pop("kept_from", None)
    if kept_from is not None:
        earlier = (pd.to_datetime(weeks["week"]) < pd.Timestamp(kept_from)).to_numpy()
        rows = np.flatnonzero(earlier & weeks["suspect"].to_numpy(dtype=bool))
        stored = quoted(weeks.iloc[rows][["user_id", "week"]]) if len(rows) else None
        for column in _quoted_columns(t) if len(rows) else ():
            weeks.iloc[rows, weeks.columns.get_loc(column)] = stored[column].to_numpy(dtype=weeks[column].dtype)
    people = _score_people(weeks, since, until, t)
    # Everyone employed in the window is scored; people without usage score 0 and are never flagged.
    idle = sorted(set(employed) - set(people["user_id"]))
    if idle:
        rest = _empty_people().reindex(range(len(idle)))
        rest = rest.assign(
            user_id=idle,
            suspicion=0.0,
            flagged=False,
            families="",
            reasons="",
            suspect_weeks=0,
            weeks=0,
            tokens=0,
            tokens_at_stake=0,
        )
        people = pd.concat(
            [people, rest.astype({k: v for k, v in PEOPLE_COLUMNS.items() if "datetime" not in v})], ignore_index=True
        )
    return Detection(
        people=people,
        weeks=weeks,
        partners=partners,
        since=since,
        until=until,
        kept_from=kept_from,
        stored=None if kept_from is None else known[["user_id", "week", *SPANNING]],
    )


# The columns of det_person_week worked out over all of a person's weeks (the window's ends, snapshot windows, a
# baseline of earlier weeks) or from them: a refresh of later weeks can move them in earlier weeks too. Every other
# column of a week comes from that week's own rows and its peers that week (tests/test_detect.py checks the split).
SPANNING = (
    "full_week", "snapshot_ratio", "calendar_fired", "change_ratio", "yield_change", *(f"s_{f}" for f in FAMILIES),
    "families", "n_families", "suspect",
)  # fmt: skip
# The tables the app reads, each replaced whole by a run (from the frame registered as _persist_frame).
PERSISTED = {
    "det_person": "CREATE OR REPLACE TABLE det_person AS SELECT * FROM _persist_frame",
    "det_person_week": "CREATE OR REPLACE TABLE det_person_week AS SELECT * FROM _persist_frame",
}
# What events tell per person and week (and prompt-sharing partners), kept between refreshes so that a new
# batch re-reads only the events of the weeks it touched; the scoring itself always covers every week.
EVENT_TABLES = {"det_event_week": "_det_event_week", "det_partners": "_det_partners"}
# What the evidence view draws, per person and local day (sql/detect_evidence.sql), kept the same way: a case opens
# by reading a few people's rows, which the order by a hash of the person keeps in a few row groups (each chunk's
# rows are written together, in that order), instead of the period's events. Table: (temporary table, order).
EVIDENCE_TABLES = {"det_evidence_day": ("_det_evidence_day", "person_hash, day")}
# The evidence days with a prompt of the people the gap chart compares with (sql/detect_peer_people.sql), which
# det_evidence_day scatters over every row group, and flat, since reading lists costs several times more than reading
# plain columns: per day one row of its first and last prompt (log10_gap NULL), a row per gap bin with its count
# (`since` = the day), and a row for the gap from the day before's last prompt (PEER_OVERNIGHT: count 1, `since` =
# that day), so that the chart counts a range's gaps as the rows of its days with `since` in it, without ordering
# anyone's days. Each person's rows, ordered by the hash of the person, then day.
PEER_DAYS = """
SELECT d.person_hash, d.user_id, d.day, d.first_turn_ts, d.last_turn_ts, CAST(NULL AS DOUBLE) AS log10_gap,
       CAST(NULL AS BIGINT) AS n, CAST(NULL AS DATE) AS since
FROM det_evidence_day d JOIN {people} p USING (person_hash, user_id) WHERE d.first_turn_ts IS NOT NULL{days}
UNION ALL
SELECT person_hash, user_id, day, NULL, NULL, g.log10_gap, g.n, day FROM (
    SELECT d.person_hash, d.user_id, d.day, unnest(d.gaps) AS g
    FROM det_evidence_day d JOIN {people} p USING (person_hash, user_id) WHERE d.first_turn_ts IS NOT NULL{days})"""
# The gaps overnight of the days from $since on, from the rows of days (as q_evidence_gaps.sql bins the person's).
PEER_OVERNIGHT = """
SELECT person_hash, user_id, day, CAST(NULL AS TIMESTAMP) AS first_turn_ts, CAST(NULL AS TIMESTAMP) AS last_turn_ts,
       floor(log10(gap) * 4) / 4 AS log10_gap, CAST(1 AS BIGINT) AS n, since
FROM (
    SELECT person_hash, user_id, day, epoch(first_turn_ts) - lag(epoch(last_turn_ts)) OVER w AS gap,
           lag(day) OVER w AS since
    FROM {rows} WHERE first_turn_ts IS NOT NULL
    WINDOW w AS (PARTITION BY person_hash, user_id ORDER BY day)
)
WHERE gap >= 1 AND day >= $since"""


def persist(con: duckdb.DuckDBPyConnection, found: Detection) -> None:
    """Store a detection run as the tables the app reads (replacing the last run), inside the caller's
    transaction, and mark the suspect weeks in mart_person_week.

    A run that kept the earlier weeks' judgements against peers (`found.kept_from`) rewrites only the weeks from
    then on, and of the earlier rows only those whose SPANNING columns moved (the other columns of an earlier week
    come from its own unchanged rows and its peers' stored judgement): 1.3 M rows of 110 columns are 2 s to write
    at 100 M events, the rows a batch moves a fraction of that."""
    people = found.people.assign(since=found.since, until=found.until)
    weeks = found.weeks.drop(columns=["title"], errors="ignore")
    _write(con, PERSISTED["det_person"], people)
    if found.kept_from is None or found.stored is None:
        _write(con, PERSISTED["det_person_week"], weeks)
    elif sorted(_columns(con, "det_person_week")) != sorted(weeks.columns):
        # the earlier weeks' stored judgements were read in part only: they cannot be written whole
        raise WarehouseError("det_person_week was stored with other columns; run `refresh --whole`")
    else:
        _persist_weeks_from(con, weeks, found.stored, found.kept_from)
    run_script(con, "detect_apply", {})


def _write(con: duckdb.DuckDBPyConnection, statement: str, frame: pd.DataFrame) -> None:
    """Run a statement that reads the frame as _persist_frame."""
    con.execute("SELECT 1").fetchall()  # DuckDB refuses register() while an earlier result is unread
    # through Arrow: DuckDB reads a wide pandas frame's missing values several times slower
    con.register("_persist_frame", pa.Table.from_pandas(frame, preserve_index=False))
    try:
        con.execute(statement)
    finally:
        con.unregister("_persist_frame")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
            "ORDER BY column_index",
            [table],
        ).fetchall()
    ]


def _persist_weeks_from(
    con: duckdb.DuckDBPyConnection, weeks: pd.DataFrame, stored: pd.DataFrame, kept_from: date
) -> int:
    """det_person_week's rows from `kept_from` on replaced, and the earlier rows whose SPANNING columns differ
    from `stored` (the stored values of the earlier rows, in the same order) updated; returns how many moved."""
    fresh = (pd.to_datetime(weeks["week"]) >= pd.Timestamp(kept_from)).to_numpy()
    earlier = weeks.loc[~fresh, ["user_id", "week", *SPANNING]]
    moved = np.zeros(len(earlier), dtype=bool)
    for column in SPANNING:
        new, old = earlier[column].to_numpy(), stored[column].to_numpy()
        moved |= ~((new == old) | (pd.isna(new) & pd.isna(old)))
    con.execute("DELETE FROM det_person_week WHERE week >= ?", [kept_from])
    _write(con, "INSERT INTO det_person_week BY NAME SELECT * FROM _persist_frame", weeks[fresh])
    if moved.any():
        sets = ", ".join(f"{column} = c.{column}" for column in SPANNING)
        _write(
            con,
            f"UPDATE det_person_week AS d SET {sets} FROM _persist_frame c "
            "WHERE d.user_id = c.user_id AND d.week = c.week",
            earlier[moved],
        )
    return int(moved.sum())


def _store_event_features(
    con: duckdb.DuckDBPyConnection, lo: date, hi: date, t: Thresholds, *, whole: bool, evidence_done: bool = False
) -> None:
    """Replace the weeks [lo, hi] of the stored event features and evidence days (all of them when `whole`) with
    this run's (`evidence_done`: _det_evidence_day is made already, by another engine)."""
    select = {
        "det_event_week": "SELECT * FROM _det_event_week",
        "det_partners": "SELECT user_id, week, other_user AS partner, shared FROM _det_partners "
        f"WHERE shared >= {int(t.min_shared_prompts)} ORDER BY user_id, week, shared DESC",
    }
    for table, query in select.items():
        if whole or not _exists(con, table):
            con.execute(f"CREATE OR REPLACE TABLE {table} AS {query}")
        else:
            con.execute(f"DELETE FROM {table} WHERE week BETWEEN ? AND ?", [lo, hi])
            con.execute(f"INSERT INTO {table} BY NAME {query}")
    if not evidence_done:
        run_script(con, "detect_evidence", {"lo": lo, "hi": hi})
    for table, (temp, order) in EVIDENCE_TABLES.items():
        query = f"SELECT hash(user_id) AS person_hash, * FROM {temp} ORDER BY {order}"
        if whole or not _exists(con, table):
            con.execute(f"CREATE OR REPLACE TABLE {table} AS {query}")
        else:
            con.execute(f"DELETE FROM {table} WHERE day BETWEEN ? AND ?", [lo, hi + timedelta(days=6)])
            con.execute(f"INSERT INTO {table} BY NAME {query}")


# The rows of days of det_evidence_peers a gap overnight from $since on needs: from each person's last before it.
_PEER_DAYS_FROM = """(
    SELECT e.* FROM det_evidence_peers e
    LEFT JOIN (
        SELECT user_id, max(day) AS before FROM det_evidence_peers
        WHERE first_turn_ts IS NOT NULL AND day < $since GROUP BY user_id
    ) b USING (user_id)
    WHERE e.first_turn_ts IS NOT NULL AND e.day >= COALESCE(b.before, $since)
)"""


def _store_peer_days(
    con: duckdb.DuckDBPyConnection, first: date, last: date, *, whole: bool, scored: bool = True
) -> None:
    """det_shared_hashes (sql/detect_shared_hashes.sql); det_peer_people from this run's det_person_week, and
    det_evidence_peers: their evidence days with a prompt (PEER_DAYS, PEER_OVERNIGHT).
    Unless `whole`, only the days [first, last] (those det_evidence_day just redid) are replaced, with the gaps
    overnight from them on, the days of people no longer among the peers dropped and all the days of people new among
    them added; so a refresh of some weeks reads the new days of det_evidence_day, not all of them. Not `scored` (no
    data): no peers."""
    run_script(con, "detect_shared_hashes", {})
    if not scored:
        con.execute(
            "CREATE OR REPLACE TABLE det_peer_people (peer_group VARCHAR, person_hash UBIGINT, user_id VARCHAR)"
        )
    if not scored or whole or not _exists(con, "det_peer_people") or not _exists(con, "det_evidence_peers"):
        if scored:
            run_script(con, "detect_peer_people", {})
        people = "(SELECT DISTINCT person_hash, user_id FROM det_peer_people)"
        con.execute(f"CREATE OR REPLACE TEMP TABLE _peer_days AS {PEER_DAYS.format(people=people, days='')}")
        con.execute(
            "CREATE OR REPLACE TABLE det_evidence_peers AS SELECT * FROM ("
            f"SELECT * FROM _peer_days UNION ALL {PEER_OVERNIGHT.format(rows='_peer_days')}"
            ") ORDER BY person_hash, day, since NULLS FIRST, log10_gap",
            {"since": date.min},
        )
        con.execute("DROP TABLE _peer_days")
        return
    con.execute("CREATE OR REPLACE TEMP TABLE _peer_people_before AS SELECT DISTINCT user_id FROM det_peer_people")
    run_script(con, "detect_peer_people", {})
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _peer_people AS SELECT DISTINCT person_hash, user_id FROM det_peer_people"
    )
    days = {"first": first, "last": last}
    con.execute(
        "DELETE FROM det_evidence_peers WHERE day BETWEEN $first AND $last "
        "OR user_id NOT IN (SELECT user_id FROM _peer_people)",
        days,
    )
    redone = PEER_DAYS.format(people="_peer_people", days=" AND d.day BETWEEN $first AND $last")
    con.execute(f"INSERT INTO det_evidence_peers BY NAME {redone}", days)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _peer_people_new AS SELECT * FROM _peer_people "
        "WHERE user_id NOT IN (SELECT user_id FROM _peer_people_before)"
    )
    since = first
    if con.execute("SELECT count(*) FROM _peer_people_new").fetchone()[0]:
        rest = PEER_DAYS.format(people="_peer_people_new", days=" AND d.day NOT BETWEEN $first AND $last")
        con.execute(f"INSERT INTO det_evidence_peers BY NAME {rest}", days)
        since = date.min  # the new people's gaps overnight on every day
    # a day redone changes the gap overnight to each person's next day with a prompt, wherever that falls
    con.execute("DELETE FROM det_evidence_peers WHERE since < day AND day >= $since", {"since": since})
    con.execute(
        f"INSERT INTO det_evidence_peers BY NAME {PEER_OVERNIGHT.format(rows=_PEER_DAYS_FROM)}", {"since": since}
    )
    for table in ("_peer_people_before", "_peer_people", "_peer_people_new"):
        con.execute(f"DROP TABLE {table}")


def _load_event_features(con: duckdb.DuckDBPyConnection) -> None:
    """The stored event features of every week, as the temporary tables the scoring reads."""
    con.execute("CREATE OR REPLACE TEMP TABLE _det_event_week AS SELECT * FROM det_event_week")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _det_partners AS "
        "SELECT user_id, week, partner AS other_user, shared FROM det_partners"
    )


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main' AND NOT temporary", [table]
        ).fetchone()
    )


def has_event_features(con: duckdb.DuckDBPyConnection) -> bool:
    """The stored event features a refresh of some weeks only builds on."""
    return all(_exists(con, table) for table in (*EVENT_TABLES, *EVIDENCE_TABLES))


def _empty_detection() -> Detection:
    return Detection(
        _empty_people(),
        pd.DataFrame(
            {
                "user_id": pd.Series(dtype=str),
                "week": pd.Series(dtype="datetime64[us]"),
                "suspect": pd.Series(dtype=bool),
            }
        ),
        pd.DataFrame(
            {
                "user_id": pd.Series(dtype=str),
                "week": pd.Series(dtype="datetime64[us]"),
                "partner": pd.Series(dtype=str),
                "shared": pd.Series(dtype="int64"),
            }
        ),
        date.min,
        date.min,
    )


def run_and_persist(
    con: duckdb.DuckDBPyConnection,
    t: Thresholds | None = None,
    weeks: tuple[date, date] | None = None,
    *,
    rescore_all: bool = False,
    events: EventFeatures | None = None,
) -> Detection | None:
    """Score the whole range the marts hold and store it (the refresh step).

    `weeks` (first and last Monday): only these weeks' events and marts changed since the last run, so only
    their event features are recomputed (from their events and a day either side), the rest come from the
    stored ones, and weeks before them keep their stored judgement against peers (unless `rescore_all`: a
    change that reaches every week, such as which tools report outcomes).
    `events`: another engine reads the events (analytics/spark_engine.py), for every week; the scoring stays here.
    """
    if events is not None and weeks is not None:
        raise ValueError("event features from another engine are made for every week")
    t = t or Thresholds()
    bounds = window(con, None, None)
    if bounds is None:
        found = _empty_detection()
        _event_features(con, *NO_DAYS, *NO_DAYS, t)
        _store_event_features(con, date.min, date.min, t, whole=True)
        _load_event_features(con)
        for statement in statements(sql_text("detect_cleanup")):
            con.execute(statement)
        persist(con, found)
        _store_peer_days(con, date.min, date.min, whole=True, scored=False)
        return found
    since, until = bounds
    whole = weeks is None or not has_event_features(con)
    lo, hi = (monday(since), monday(until)) if whole else weeks
    LAST_SPLIT.clear()
    with _part("event features"):
        if events is not None:
            events(con, since, until, lo, hi, t)
            _store_event_features(con, lo, hi, t, whole=True, evidence_done=True)
        else:
            # within the writer's memory limit (analytics/warehouse.py), a couple of weeks of events at a time
            _event_features_by_chunk(
                con,
                since,
                until,
                lo,
                hi,
                t,
                lambda first, last, start: _store_event_features(con, first, last, t, whole=whole and start),
            )
        _load_event_features(con)
    found = _score(con, since, until, t, fresh_from=None if whole or rescore_all else lo)
    with _part("storing"):
        persist(con, found)
        _store_peer_days(con, lo, hi + timedelta(days=6), whole=whole)
    return found


def statements(script: str) -> list[str]:
    body = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


# -- week level ----------------------------------------------------------------------------------------


def _ratio(num, den) -> pd.Series:
    num, den = pd.Series(num, dtype="float64"), pd.Series(den, dtype="float64")
    return num.where(den > 0) / den.where(den > 0)


def _role(title: object) -> str:
    if not isinstance(title, str) or not title.strip():
        return "unknown"
    return re.sub(r"\s+", " ", _SENIORITY.sub(" ", title.lower())).strip() or "unknown"


def _by_person(w: pd.DataFrame) -> np.ndarray:
    """Each row's person as a small integer (rows sorted by person, then week)."""
    return pd.factorize(w["user_id"])[0]


def _trailing_sum(values: pd.Series, person: np.ndarray, n: int) -> pd.Series:
    """The sum over each row and the n - 1 rows before it of the same person (rows sorted by person, week)."""
    running = values.groupby(person).cumsum()
    return running - running.groupby(person).shift(n).fillna(0)


def _earlier_median(values: pd.Series, person: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """Median and count of the non-missing values in the person's rows strictly before each row (rows sorted by
    person, then week): the person's rows laid out as one row of a matrix, one column per position."""
    position = pd.Series(person).groupby(person).cumcount().to_numpy()
    grid = np.full((person.max() + 1 if len(person) else 0, position.max() + 1 if len(person) else 0), np.nan)
    grid[person, position] = values.to_numpy(dtype="float64")
    median = np.full(len(values), np.nan)
    count = np.zeros(len(values))
    seen = ~np.isnan(grid)
    filled = np.where(seen, grid, np.inf)  # missing values sort last
    for k in range(1, grid.shape[1]):
        at = position == k
        rows = person[at]
        ordered = np.sort(filled[rows, :k], axis=1)
        n = seen[rows, :k].sum(axis=1)
        pick = np.arange(len(rows))
        # the middle value, or the mean of the two middle values (as np.nanmedian); none without values
        middle = (ordered[pick, np.maximum(n - 1, 0) // 2] + ordered[pick, n // 2 - (n == 0)]) / 2
        median[at] = np.where(n > 0, middle, np.nan)
        count[at] = n
    return pd.Series(median, index=values.index), pd.Series(count, index=values.index)


def _features(w: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The per-week values the families are judged on (NaN where the data cannot tell)."""
    f = pd.DataFrame(index=w.index)
    has_events = w["event_tokens"] > 0
    enough = w["events"] >= t.timing_min_events
    # local hours only where the person's time zone is known (a missing one is not UTC)
    f["night_share"] = _ratio(w["night_tokens"], w["local_tokens"]).where(enough)
    f["weekend_share"] = _ratio(w["weekend_tokens"], w["local_tokens"]).where(enough)
    f["active_hours_share"] = (w["active_hours"] / 168).where(enough)
    f["cadence_share"] = _ratio(w["regular_pairs"], w["gap_pairs"]).where(w["gap_pairs"] >= t.cadence_min_pairs)
    f["repeat_share"] = _ratio(w["self_repeats"], w["prompts"]).where(w["prompts"] >= t.min_prompts)
    f["shared_share"] = _ratio(w["shared_prompts"], w["prompts"]).where(w["prompts"] >= t.min_prompts)
    f["lockstep_share"] = _ratio(w["lockstep_minutes"], w["turn_minutes"]).where(w["turn_minutes"] >= t.min_prompts)
    # Outcome yield only where a tool that reports outcomes was used (missing is not zero), over the
    # week and the three before it: outcomes land days after the tokens that produced them.
    reporting = w["reporting_tokens"].fillna(0).astype("float64")
    person = _by_person(w)
    tokens_4w = _trailing_sum(reporting, person, 4)
    outcomes_4w = _trailing_sum(w["real_outcomes"].fillna(0).astype("float64"), person, 4)
    f["tokens_per_outcome"] = (tokens_4w / outcomes_4w.clip(lower=1)).where(reporting > 0)
    offered = w["edits_accepted"].fillna(0) + w["edits_rejected"].fillna(0)
    # Negated so that, like every other feature, higher is more suspicious.
    f["acceptance_gap"] = -(w["edits_accepted"].fillna(0) / offered.where(offered >= t.min_edits_offered))
    f["steps_per_prompt"] = _ratio(w["agent_steps"], w["human_turns"].clip(lower=1)).where(has_events)
    # only sessions whose source labels who started the calls can tell
    f["unprompted_share"] = _ratio(w["tokens_without_human"], w["labelled_session_tokens"])
    f["cache_per_call"] = _ratio(w["cache_read_tokens"], w["tool_events"])
    return f


def _peer_stats(values: pd.Series, groups: list[np.ndarray], min_size: int) -> tuple[pd.Series, pd.Series]:
    """Peer median and robust spread per row, on the scale of a modified z-score's MAD.

    The spread is the median absolute deviation; where more than half the peers sit exactly on the
    median (MAD 0, common for shares that are mostly zero) it is taken from the 90th percentile instead,
    scaled so that percentile lands at z = 1.28 as it would for normal data. The first grouping with at
    least `min_size` values for a row wins; the last is the fallback.
    """
    median = pd.Series(np.nan, index=values.index)
    spread = pd.Series(np.nan, index=values.index)
    if values.empty:  # a refresh whose new rows leave no week to judge (all scheduled or unattributed)
        return median, spread
    for i, codes in enumerate(groups):  # each a group number per row (0, 1, … in order of appearance)
        grouped = values.groupby(codes)
        size = grouped.transform("count")
        med = grouped.transform("median")
        mad = (values - med).abs().groupby(codes).transform("median")
        q90 = pd.Series(grouped.quantile(0.9).reindex(range(codes.max() + 1)).to_numpy()[codes], index=values.index)
        mad = mad.where(mad > 0, (q90 - med) * 0.6745 / 1.2816)
        take = median.isna() & ((size >= min_size) | (i == len(groups) - 1))
        median = median.where(~take, med)
        spread = spread.where(~take, mad)
    return median, spread


def _rules(t: Thresholds) -> dict:
    """feature -> (family, floor test on (value, peer median)); log scale for the heavy-tailed volumes."""
    return {
        "night_share": ("timing", lambda v, m: v >= t.night_share),
        "weekend_share": ("timing", lambda v, m: v >= t.weekend_share),
        "cadence_share": ("timing", lambda v, m: v >= t.cadence_share),
        "active_hours_share": ("timing", lambda v, m: v >= t.active_hours_share),
        "shared_share": ("synchrony", lambda v, m: v >= t.shared_share),
        "lockstep_share": ("synchrony", lambda v, m: v >= t.lockstep_share),
        "repeat_share": ("content", lambda v, m: v >= t.repeat_share),
        "tokens_per_outcome": ("outcome", lambda v, m: v >= t.yield_vs_peers * m),
        "acceptance_gap": ("outcome", lambda v, m: -v <= t.acceptance_vs_peers * -m),
        # Many agent steps per prompt is how the heaviest genuine users work, so it is shown, never fires.
        "steps_per_prompt": ("autonomy", lambda v, m: v < 0),
        "unprompted_share": ("autonomy", lambda v, m: v >= t.unprompted_share),
        "cache_per_call": ("cache", lambda v, m: (v >= t.cache_vs_peers * m) & (v >= t.cache_min_per_call)),
    }


_LOGGED = {"tokens_per_outcome", "steps_per_prompt", "cache_per_call"}


def _peer_columns(t: Thresholds) -> list[str]:
    """The columns that judge each week against the same week's peers (and only them)."""
    per_feature = ("", "_peer", "_fired", "_z", "_strength")
    return ["peer_tokens", "material", *(f"{feature}{part}" for feature in _rules(t) for part in per_feature)]


def _scored_columns(t: Thresholds) -> list[str]:
    """The _peer_columns that scoring reads for every week (a refresh reads them stored for the earlier weeks)."""
    return ["peer_tokens", "material", *(f"{feature}_strength" for feature in _rules(t))]


def _quoted_columns(t: Thresholds) -> list[str]:
    """The _peer_columns the reasons quote (_evidence), read for the suspect weeks only."""
    return [f"{feature}{part}" for feature in _rules(t) for part in ("", "_peer", "_fired")]


def _against_peers(w: pd.DataFrame, f: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """Each row against its peers of the same week (every row of a week must be in `w`): _peer_columns."""
    out = pd.DataFrame(index=w.index)
    # peers: the same week and peer group, else the same week and tool, else the same week
    groups = [
        w.groupby(keys, sort=False).ngroup().to_numpy()
        for keys in (["week", "peer_group"], ["week", "peer_tool"], ["week"])
    ]
    token_median, _ = _peer_stats(w["tokens"].astype("float64"), groups, t.min_peer_group)
    out["peer_tokens"] = token_median
    out["material"] = w["tokens"] >= t.material_vs_peer_median * token_median
    for feature, (_family, floor) in _rules(t).items():
        value = f[feature]
        scaled = np.log1p(value) if feature in _LOGGED else value
        med, spread = _peer_stats(scaled, groups, t.min_peer_group)
        if feature not in _LOGGED:
            # shares: a spread under two points would make a trivial difference an "outlier"
            spread = spread.clip(lower=MIN_SHARE_SPREAD)
        z = 0.6745 * (scaled - med) / spread.replace(0, np.nan)
        z = z.fillna(pd.Series(np.where(scaled > med, np.inf, 0.0), index=w.index))
        raw_median = np.expm1(med) if feature in _LOGGED else med
        out[feature] = value
        out[f"{feature}_peer"] = raw_median
        # Past the floor, and either a robust outlier or past twice the floor (for wide-spread volumes,
        # where ten times the peers' tokens per outcome can still sit inside a few MADs).
        clears = floor(value, raw_median).fillna(False)
        doubled = floor(value / 2, raw_median).fillna(False) if feature in _LOGGED else clears & False
        fired = ((z >= t.z) & clears | doubled) & value.notna()
        out[f"{feature}_fired"] = fired
        out[f"{feature}_z"] = z.where(value.notna())
        out[f"{feature}_strength"] = np.where(fired, np.clip(z / (2 * t.z), 0.5, 1.0), np.clip(z / (2 * t.z), 0, 0.49))
    return out


def _score_weeks(
    w, sums, roles, since, until, t: Thresholds, known: pd.DataFrame | None = None, fresh_from: date | None = None
) -> pd.DataFrame:
    """Score every person-week. With `known` (an earlier run's rows) and `fresh_from` (a Monday), the weeks
    before it keep their judgement against peers from `known` (their rows, and so their peers, are unchanged);
    what spans weeks (trailing yield, change, snapshot bursts) is always worked out over every week.

    `w` holds each week's days of use (`active_days`) and `sums` each person's tokens per snapshot window
    (_window_sums)."""
    if w.empty:
        return w.drop(columns=["active_days"], errors="ignore").assign(families="", suspect=False)
    active = w.pop("active_days").astype("int64")
    w["title"] = w["user_id"].map(roles.drop_duplicates("user_id").set_index("user_id")["title"])
    w["peer_tool"] = w["top_tool"].fillna("")
    w["peer_group"] = _peer_groups(w["peer_tool"], w["title"])
    f = _features(w, t)
    peers = None
    if known is not None and fresh_from is not None:
        fresh = (pd.to_datetime(w["week"]) >= pd.Timestamp(fresh_from)).to_numpy()
        peers = _with_known(w, f, known, fresh, t)
    kept_from = fresh_from if peers is not None else None
    if peers is None:
        peers = _against_peers(w, f, t)
    w = pd.concat([w, peers], axis=1)
    strength = {family: pd.Series(0.0, index=w.index) for family in FAMILIES}
    for feature, (family, _floor) in _rules(t).items():
        strength[family] = np.maximum(strength[family], np.nan_to_num(w[f"{feature}_strength"].to_numpy(float)))

    calendar = _calendar(sums, since, until, t, w["week"].dtype)
    w["active_days"] = active
    # A week the window cuts (its first or last) holds fewer days, so it is neither a baseline nor judged
    # for change; nor is a week with a single day of use (a holiday check-in) part of a baseline.
    week_start = pd.to_datetime(w["week"])
    w["full_week"] = (week_start >= pd.Timestamp(since)) & (week_start + pd.Timedelta(days=6) <= pd.Timestamp(until))
    change, yield_change = _change(w, t)
    w = w.merge(calendar, on=["user_id", "week"], how="left")
    w["snapshot_ratio"] = w["snapshot_ratio"].astype("float64")
    calendar_fired = w["calendar_fired"].fillna(False).astype(bool)
    strength["calendar"] = np.where(calendar_fired, 0.75, 0.0)
    w["change_ratio"] = change
    w["yield_change"] = yield_change
    known_yield = yield_change.notna()
    outcomes_kept_up = yield_change < t.change_yield_ratio  # False where unknown: tokens alone decide
    # Without outcomes, a snapshot burst and "leaving the band" are the same tokens seen twice: one family.
    same_evidence = calendar_fired & ~known_yield
    strength["change"] = np.where(
        (change >= t.change_ratio)
        & ~outcomes_kept_up
        & ~same_evidence
        & (w["tokens"] >= t.change_vs_peer_median * w["peer_tokens"]),
        np.clip(np.log(change.fillna(1)) / (2 * np.log(t.change_ratio)), 0.5, 1.0),
        0.0,
    )
    for family in FAMILIES:
        w[f"s_{family}"] = strength[family]
    fired = pd.DataFrame({family: w[f"s_{family}"] >= 0.5 for family in FAMILIES})
    names = pd.Series("", index=w.index)
    for family in FAMILIES:
        names = names + np.where(fired[family], family + ",", "")
    w["families"] = names.str.rstrip(",")
    w["n_families"] = fired.sum(axis=1)
    w["suspect"] = (w["n_families"] >= max(2, t.min_families)) & w["material"]
    w.attrs["kept_from"] = kept_from  # the weeks before it kept their stored judgement against peers
    return w


def _peer_groups(tool: pd.Series, title: pd.Series) -> pd.Series:
    """ "tool / role" per row, the role being the title without seniority words (_role): each distinct title's
    role and each distinct pair's text worked out once, the rows matched to them by number."""
    tools, tool_names = pd.factorize(tool)
    titles, distinct = pd.factorize(title)
    roles, role_names = pd.factorize(np.array([_role(x) for x in distinct] + ["unknown"], dtype=object))
    n = len(role_names)
    codes, pairs = pd.factorize(tools.astype("int64") * n + roles[titles])  # a missing title (-1): "unknown"
    names = np.array([f"{tool_names[p // n]} / {role_names[p % n]}" for p in pairs], dtype=object)
    return pd.Series(names[codes] if len(codes) else np.array([], dtype=object), index=tool.index, dtype=object)


def _with_known(w: pd.DataFrame, f: pd.DataFrame, known: pd.DataFrame, fresh: np.ndarray, t: Thresholds):
    """_peer_columns for every row: worked out anew for the fresh rows, and for the rows before the fresh weeks the
    stored ones `known` holds (sorted by person and week: _scored_columns at least), the others left missing (NaN,
    or False for flags) for _scored to fill where it needs them; None when the stored rows are not exactly the
    earlier rows."""
    columns = _peer_columns(t)
    old = w.loc[~fresh, ["user_id", "week"]]
    if (
        len(known) != len(old)
        or not set(_scored_columns(t)) <= set(known.columns)
        or known["material"].isna().any()
        or not pd.array(known["user_id"]).equals(pd.array(old["user_id"]))  # Arrow's comparison, not Python's
        or not np.array_equal(
            pd.to_datetime(known["week"]).to_numpy("datetime64[us]"),
            pd.to_datetime(old["week"]).to_numpy("datetime64[us]"),
        )
    ):
        return None
    new = _against_peers(w[fresh], f[fresh], t)
    # the stored rows and the new ones, each put in its place in w's order (one array per column, which the
    # frame keeps as it is instead of copying them all into one block)
    old_rows, new_rows = np.flatnonzero(~fresh), np.flatnonzero(fresh)
    out = {}
    for column in columns:
        values = np.empty(len(w), dtype=new[column].dtype)
        if column in known.columns:
            values[old_rows] = known[column].to_numpy(dtype=values.dtype)
        else:
            values[old_rows] = False if values.dtype == bool else np.nan
        values[new_rows] = new[column].to_numpy()
        out[column] = values
    return pd.DataFrame(out, index=w.index, copy=False)


def _snapshot_dates(since: date, until: date, spec: str) -> list[date]:
    if spec.strip() == "month_end":
        out, day = [], since
        while day <= until:
            nxt = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
            end = nxt - timedelta(days=1)
            if since <= end <= until:
                out.append(end)
            day = nxt
        return out
    return sorted(
        d for d in (date.fromisoformat(x.strip()) for x in spec.split(",") if x.strip()) if since <= d <= until
    )


def _windows(since: date, until: date, t: Thresholds) -> dict[date, date]:
    """Each day of a snapshot window (the snapshot_days up to a snapshot date in [since, until]): its snapshot."""
    in_window = {}
    for snap in _snapshot_dates(since, until, t.snapshot_dates):
        for k in range(t.snapshot_days):
            in_window[snap - timedelta(days=k)] = snap
    return in_window


def _window_sums(con: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds) -> pd.DataFrame:
    """Per person and snapshot window (none: the days outside every window), the tokens of _det_day and the first
    day with use: what the calendar family reads, summed where the daily rows are instead of fetching them."""
    in_window = _windows(since, until, t)
    if not in_window:  # no snapshot date in the window: the calendar family has nothing to judge
        return pd.DataFrame({"user_id": [], "snapshot": [], "tokens": [], "first_day": []})
    return _frame(
        con,
        "WITH w AS (SELECT unnest($days) AS day, unnest($snaps) AS snapshot) "
        "SELECT d.user_id, w.snapshot, CAST(sum(d.tokens) AS DOUBLE) AS tokens, "
        "min(d.day) FILTER (WHERE d.tokens > 0) AS first_day "
        "FROM _det_day d LEFT JOIN w ON w.day = d.day GROUP BY ALL",
        {"days": list(in_window), "snaps": list(in_window.values())},
    )


def _calendar(sums: pd.DataFrame, since: date, until: date, t: Thresholds, w_dtype) -> pd.DataFrame:
    """Per person and week holding a snapshot window: the window's mean daily tokens over the person's
    mean day outside all windows (days without use count as zero on both sides). `sums`: _window_sums."""
    cols = ["user_id", "week", "snapshot_ratio", "calendar_fired"]
    snaps = _snapshot_dates(since, until, t.snapshot_dates)
    if sums.empty or not snaps:
        return pd.DataFrame(columns=cols)
    in_window = _windows(since, until, t)
    # A person's usual day counts from their own first day of use (a new hire's empty weeks before
    # joining are not quiet days), over the days outside every snapshot window.
    first = sums.dropna(subset=["first_day"]).groupby("user_id")["first_day"].min()
    window_days = np.array(sorted(d for d in in_window if since <= d <= until), dtype="datetime64[D]")
    starts = first.to_numpy().astype("datetime64[D]")
    later_windows = len(window_days) - np.searchsorted(window_days, starts, side="left")
    span = (np.datetime64(until, "D") - starts).astype("int64") + 1
    outside = pd.Series(np.maximum(span - later_windows, 1), index=first.index, dtype="int64")
    quiet = sums["snapshot"].isna()
    usual = sums[quiet].set_index("user_id")["tokens"] / outside
    burst = sums[~quiet].set_index(["user_id", "snapshot"])["tokens"].sort_index() / t.snapshot_days
    base = burst.index.get_level_values(0).map(usual).to_numpy(dtype="float64")
    ratio = (burst / np.where(base > 0, base, np.nan)).rename("snapshot_ratio").reset_index()
    ratio["hit"] = ratio["snapshot_ratio"] >= t.snapshot_ratio
    hits = ratio.groupby("user_id")["hit"].sum()
    needed = max(t.snapshot_min_hits, int(np.ceil(len(snaps) / 2)))
    ratio["calendar_fired"] = ratio["hit"] & (ratio["user_id"].map(hits) >= needed)
    ratio["week"] = pd.to_datetime(ratio["snapshot"]).dt.to_period("W-SUN").dt.start_time.astype(w_dtype)
    return ratio.groupby(["user_id", "week"], as_index=False).agg(
        snapshot_ratio=("snapshot_ratio", "max"), calendar_fired=("calendar_fired", "any")
    )[cols]


def _change(w: pd.DataFrame, t: Thresholds) -> tuple[pd.Series, pd.Series]:
    """Each full week's tokens, and tokens per outcome, over the median of the person's earlier baseline
    weeks (full weeks with at least two days of use); NaN without enough history, for weeks the window
    cuts, or for yield without outcome-reporting use."""
    ordered = w.sort_values(["user_id", "week"])
    per_outcome = (ordered["reporting_tokens"].fillna(0) / ordered["real_outcomes"].fillna(0).clip(lower=1)).where(
        ordered["reporting_tokens"].fillna(0) > 0
    )
    baseline = ordered["full_week"] & (ordered["active_days"] >= 2)
    frame = pd.DataFrame(
        {
            "user_id": ordered["user_id"],
            "tokens": ordered["tokens"].astype("float64").where(baseline),
            "y": per_outcome.where(baseline),
        }
    )
    person = _by_person(ordered)
    token_base, token_n = _earlier_median(frame["tokens"], person)
    yield_base, yield_n = _earlier_median(frame["y"], person)
    tokens = ordered["tokens"].astype("float64")
    judged = ordered["full_week"]
    tokens_ratio = (tokens / token_base.where(token_base > 0)).where((token_n >= t.change_min_history) & judged)
    yield_ratio = (per_outcome / yield_base.clip(lower=1.0)).where((yield_n >= t.change_min_history) & judged)
    return tokens_ratio.reindex(w.index), yield_ratio.reindex(w.index)


# -- person level --------------------------------------------------------------------------------------


PEOPLE_COLUMNS = {
    "user_id": "object",
    "suspicion": "float64",
    "flagged": "bool",
    "families": "object",
    "reasons": "object",
    "suspect_weeks": "int64",
    "weeks": "int64",
    "tokens": "int64",
    "tokens_at_stake": "int64",
    "first_suspect_week": "datetime64[us]",
    "last_suspect_week": "datetime64[us]",
}


def _empty_people() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in PEOPLE_COLUMNS.items()})


def _score_people(w: pd.DataFrame, since: date, until: date, t: Thresholds) -> pd.DataFrame:
    cols = [
        "user_id",
        "suspicion",
        "flagged",
        "families",
        "reasons",
        "suspect_weeks",
        "weeks",
        "tokens",
        "tokens_at_stake",
        "first_suspect_week",
        "last_suspect_week",
    ]
    if w.empty:
        return _empty_people()
    span_weeks = ((until - since).days + 1) / 7
    needed = 1 if span_weeks < t.short_window_weeks else t.min_suspect_weeks
    strengths = [f"s_{fam}" for fam in FAMILIES]
    suspect = w[w["suspect"]]
    by_user = w.groupby("user_id", sort=True)
    people = pd.DataFrame(
        {
            "weeks": by_user.size(),
            "tokens": by_user["tokens"].sum().astype("int64"),
            "suspect_weeks": suspect.groupby("user_id").size(),
            "tokens_at_stake": suspect.groupby("user_id")["tokens"].sum(),
            "first_suspect_week": suspect.groupby("user_id")["week"].min(),
            "last_suspect_week": suspect.groupby("user_id")["week"].max(),
        }
    )
    people["suspect_weeks"] = people["suspect_weeks"].fillna(0).astype("int64")
    people["flagged"] = people["suspect_weeks"] >= needed
    # Family strength: the median over suspect weeks, or over all weeks for people with none.
    keep = ["user_id", *strengths]
    never = ~w.groupby("user_id", sort=False)["suspect"].transform("any").to_numpy(dtype=bool)
    basis = pd.concat([suspect[keep], w.loc[never, keep]])
    median_strength = basis.groupby("user_id")[strengths].median().reindex(people.index)
    top_two = np.sort(median_strength.to_numpy(), axis=1)[:, -2:].mean(axis=1)
    people["suspicion"] = np.where(people["flagged"], np.maximum(top_two, 0.5), np.minimum(top_two, 0.49)).round(3)
    # A flagged person's families: those firing in at least half their suspect weeks.
    share_fired = (suspect[strengths] >= 0.5).groupby(suspect["user_id"]).mean().reindex(people.index)
    people["families"] = ""
    people["reasons"] = ""
    people["tokens_at_stake"] = people["tokens_at_stake"].where(people["flagged"], 0).fillna(0).astype("int64")
    flagged = people.index[people["flagged"]]
    # the flagged people's suspect weeks: their suspect weeks number at least `needed`
    evidence = _evidence(suspect[suspect.groupby("user_id", sort=False)["suspect"].transform("size") >= needed])
    half = share_fired.loc[flagged, [f"s_{fam}" for fam in FAMILIES]].to_numpy() >= 0.5
    families, reasons = [], []
    for user_id, fired_families in zip(flagged, half, strict=True):
        fams = [fam for fam, on in zip(FAMILIES, fired_families, strict=True) if on]
        families.append(",".join(fams))
        reasons.append("; ".join(_reasons(evidence, user_id, fams)))
    people.loc[flagged, "families"] = families
    people.loc[flagged, "reasons"] = reasons
    people = people.reset_index(names="user_id")[cols]
    return people.sort_values(["suspicion", "tokens"], ascending=False, ignore_index=True)


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _num(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.1f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}k"
    return f"{x:.1f}" if x < 10 else f"{x:.0f}"


# (feature, family, text template with {v} the person's median over suspect weeks, {p} the peers')
_REASONS = (
    ("night_share", "timing", "{v} of tokens between 00:00 and 06:00 local time (peers {p})", _pct),
    ("weekend_share", "timing", "{v} of tokens on weekends (peers {p})", _pct),
    ("cadence_share", "timing", "{v} of prompts arrive at the same interval as the one before, ±10% (peers {p})", _pct),
    ("active_hours_share", "timing", "active in {v} of the week's hours (peers {p})", _pct),
    ("shared_share", "synchrony", "{v} of prompts nearly duplicate other people's (peers {p})", _pct),
    ("lockstep_share", "synchrony", "{v} of active minutes within a minute of a partner's (peers {p})", _pct),
    ("repeat_share", "content", "{v} of prompts repeat a near-identical prompt from another session (peers {p})", _pct),
    ("tokens_per_outcome", "outcome", "{v} tokens per accepted edit, commit, PR or review (peers {p})", _num),
    ("acceptance_gap", "outcome", "{v} of offered edits accepted (peers {p})", lambda x: _pct(-x)),
    ("steps_per_prompt", "autonomy", "{v} agent steps per human prompt (peers {p})", _num),
    ("unprompted_share", "autonomy", "{v} of tokens in sessions with no human turn (peers {p})", _pct),
    ("cache_per_call", "cache", "{v} cache-read tokens per call (peers {p})", _num),
)


def _evidence(suspect: pd.DataFrame) -> dict[str, dict]:
    """Per feature (and for the calendar and change families), each person's medians over their suspect weeks
    in which it fired: what the reasons quote, worked out once for everyone."""
    out: dict[str, dict] = {}
    for feature, *_ in _REASONS:
        fired = suspect[suspect[f"{feature}_fired"].fillna(False).astype(bool)]
        out[feature] = fired.groupby("user_id")[[feature, f"{feature}_peer"]].median().to_dict("index")
    by_user = suspect.groupby("user_id")
    snapshot = by_user["snapshot_ratio"].agg(["median", "count"])
    snapshot = snapshot[snapshot["count"] > 0]
    out["snapshot"] = {
        user: (float(median), int(count))
        for user, median, count in zip(snapshot.index, snapshot["median"], snapshot["count"], strict=True)
    }
    ratios = suspect.dropna(subset=["change_ratio"]).groupby("user_id")["change_ratio"].median()
    first_week = by_user["week"].min()
    out["change"] = {user: (float(r), first_week[user]) for user, r in ratios.items()}
    return out


def _reasons(evidence: dict[str, dict], user_id: str, families: list[str]) -> list[str]:
    out = []
    for feature, family, text, fmt in _REASONS:
        if family not in families or user_id not in evidence[feature]:
            continue
        medians = evidence[feature][user_id]
        value, peer = medians[feature], medians[f"{feature}_peer"]
        if pd.notna(value) and pd.notna(peer):
            out.append(text.format(v=fmt(value), p=fmt(peer)))
    if "calendar" in families:
        median, count = evidence["snapshot"].get(user_id, (float("nan"), 0))
        out.append(f"{median:.0f}x their usual daily tokens in the days before {count} snapshot dates")
    if "change" in families and user_id in evidence["change"]:
        ratio, first = evidence["change"][user_id]
        out.append(f"weekly tokens {ratio:.0f}x their own earlier median since {pd.Timestamp(first):%d %b %Y}")
    return out
