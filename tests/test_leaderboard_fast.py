"""The board's fast paths give what the plain ones gave: decoupling for every org at once, and pseudonyms looked up
by Arrow, against straightforward references kept here."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import leaderboard as lb
from analytics.warehouse import sql_text


def _reference_decoupling(weekly: pd.DataFrame, *, k: int, weeks: int = lb.DECOUPLING_WEEKS) -> pd.DataFrame:
    """decoupling() as it was written first: one org at a time."""
    columns = ["org_id", "org_name", "people", "tokens_recent", "tokens_before", "tokens_growth",
               "outcomes_recent", "outcomes_before", "outcomes_growth", "measurable_share", "status"]  # fmt: skip
    rows = []
    for org_id, g in weekly.sort_values("week").groupby("org_id"):
        g = g.tail(2 * weeks)
        if len(g) < 2 * weeks or g["people"].min() < k:
            continue
        before, recent = g.head(weeks), g.tail(weeks)
        t0, t1 = float(before["tokens"].sum()), float(recent["tokens"].sum())
        o0, o1 = float(before["outcome_units"].sum()), float(recent["outcome_units"].sum())
        tokens_growth = t1 / t0 - 1 if t0 > 0 else np.nan
        outcomes_growth = o1 / o0 - 1 if o0 > 0 else (np.inf if o1 > 0 else np.nan)
        measurable = float(recent["measurable_share"].mean())
        if measurable < 0.5:
            status = "unknown: outcomes mostly not reported"
        elif np.isnan(tokens_growth):
            status = "no usage before"
        elif np.isnan(outcomes_growth):
            status = "unknown: no outcomes in either period"
        elif tokens_growth >= lb.TOKENS_GROWTH and outcomes_growth < lb.OUTCOME_SHARE * tokens_growth:
            status = "decoupling"
        else:
            status = "in step"
        rows.append({
            "org_id": org_id, "org_name": g["org_name"].iloc[-1], "people": int(recent["people"].min()),
            "tokens_recent": t1, "tokens_before": t0, "tokens_growth": tokens_growth,
            "outcomes_recent": o1, "outcomes_before": o0, "outcomes_growth": outcomes_growth,
            "measurable_share": measurable, "status": status,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=columns).sort_values("tokens_recent", ascending=False).reset_index(drop=True)


ORG_WEEKS = st.lists(
    st.tuples(
        st.sampled_from(["o1", "o2", "o3", "o4"]),
        st.integers(0, 11),  # week number
        st.integers(0, 12),  # people
        st.sampled_from([0, 1, 50, 1_000, 1_100, 10_000]),  # tokens
        st.sampled_from([0.0, 1.0, 3.0, 20.0, 25.0]),  # outcome units
        st.sampled_from([0.0, 0.3, 0.5, 0.9, 1.0]),  # measurable share
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(ORG_WEEKS, st.integers(1, 6))
def test_decoupling_for_all_orgs_at_once_equals_one_org_at_a_time(rows, k):
    monday = date(2026, 1, 5)
    weekly = pd.DataFrame(
        [
            {"org_id": o, "org_name": f"Org {o} w{w}", "week": pd.Timestamp(monday + timedelta(weeks=w)),
             "people": p, "tokens": t, "outcome_units": u, "measurable_share": m}
            for o, w, p, t, u, m in rows
        ],
        columns=["org_id", "org_name", "week", "people", "tokens", "outcome_units", "measurable_share"],
    ).drop_duplicates(["org_id", "week"])  # fmt: skip
    got = lb.decoupling(weekly, k=k)
    want = _reference_decoupling(weekly, k=k)
    assert list(got.columns) == list(want.columns)
    if want.empty:
        assert got.empty
        return
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_decoupling_sees_an_org_whose_tokens_grew_without_outcomes():
    weeks = [pd.Timestamp(date(2026, 1, 5) + timedelta(weeks=w)) for w in range(8)]
    weekly = pd.DataFrame(
        {"org_id": "o", "org_name": "Org", "week": weeks, "people": 10, "tokens": [100] * 4 + [200] * 4,
         "outcome_units": 10.0, "measurable_share": 1.0}
    )  # fmt: skip
    assert lb.decoupling(weekly, k=5)["status"].tolist() == ["decoupling"]
    assert lb.decoupling(weekly, k=11).empty  # an org of fewer than k people gets no row


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8), max_size=40), st.sampled_from(["key one", "key two"]))
def test_pseudonyms_by_lookup_are_the_keyed_hash_of_each_id(ids, key):
    series = pd.Series(ids, dtype="str", name="user_id", index=range(100, 100 + len(ids)))
    got = lb.pseudonyms(series, key)
    want = pd.Series([lb.pseudonym(u, key) for u in ids], dtype="str", name="user_id", index=series.index)
    pd.testing.assert_series_equal(got, want)


def test_totals_are_the_sums_of_the_board():
    raw = pd.DataFrame(
        {"user_id": ["a", "b", "c"], "tokens": [100, 50, 10], "adjusted_tokens": [120.0, -5.0, 7.5],
         "flagged": [False, True, None], "display_name": ["A", "B", "C"]}
    )  # fmt: skip
    board = lb.people_board(raw, key="k", show_names=False)
    assert lb.totals(raw) == (float(board["tokens"].sum()), float(board["adjusted_tokens"].sum())) == (160.0, 107.5)
    assert lb.totals(raw.iloc[:0]) == (0.0, 0.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.one_of(st.none(), st.floats(-1e9, 2e9))), max_size=30))
def test_board_totals_in_duckdb_are_the_totals_of_the_board(rows):
    """q_board_totals (the Overview's totals, summed in DuckDB) keeps adjusted tokens within [0, tokens] and skips
    missing ones as leaderboard.totals does."""
    raw = pd.DataFrame(rows, columns=["tokens", "adjusted_tokens"]).astype({"adjusted_tokens": "float64"})
    con = duckdb.connect()
    con.register("rows", raw)
    got = con.execute("WITH board AS (SELECT * FROM rows) " + sql_text("q_board_totals")).fetchone()
    tokens, adjusted = lb.totals(raw)
    assert got[0] == len(raw) and float(got[1]) == tokens
    np.testing.assert_allclose(float(got[2]), adjusted, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("show_names", [True, False])
@pytest.mark.parametrize("ranked", [True, False])
def test_people_board_leaves_the_rows_it_was_given_as_they_were(show_names, ranked):
    """people_board copies the rows shallowly (pandas copies on write): the caller's frame, which the page reads
    again for team sizes, keeps its columns and values."""
    raw = pd.DataFrame(
        {"user_id": ["b", "a", "c"], "display_name": ["B", None, "C"], "team_id": ["t", "t", None],
         "tokens": [50, 100, 10], "adjusted_tokens": [60, 20, 5], "flagged": [None, True, False]}
    )  # fmt: skip
    if ranked:
        raw = raw.assign(rank_raw=[2, 1, 3], rank_adjusted=[1, 2, 3], rank_shift=[1, -1, 0])
    before = raw.copy()
    board = lb.people_board(raw, key="k", show_names=show_names)
    pd.testing.assert_frame_equal(raw, before)
    assert board["rank_raw"].tolist() == [1, 2, 3] and board["entity_id"].tolist() == ["a", "b", "c"]
    assert board["adjusted_tokens"].dtype == "float64" and board["flagged"].tolist() == [True, False, False]


def _reference_team_sums(people: pd.DataFrame) -> pd.DataFrame:
    merged = people.dropna(subset=["team_id"])
    return merged.groupby("team_id", sort=False).agg(
        entity_name=("team_name", "first"), org_name=("org_name", "first"), tokens=("tokens", "sum"),
        adjusted_tokens=("adjusted_tokens", "sum"), people=("entity_id", "nunique"),
        suspected_people=("flagged", "sum"), suspected_tokens=("suspected_tokens", "sum"),
        scheduled_tokens=("scheduled_tokens", "sum"), outcome_units=("outcome_units", "sum"),
    )  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["t1", "t2", "t3", None]),
            st.sampled_from(["Team A", None]),
            st.integers(0, 10**6),
            st.floats(0, 10**6),
            st.booleans(),
            st.integers(0, 1000),
            st.floats(0, 50),
        ),
        max_size=40,
    ),
    st.integers(1, 4),
)
def test_team_board_sums_each_team_as_a_named_aggregation_did(rows, k):
    people = pd.DataFrame(
        [
            {"entity_id": f"u{i}", "team_id": t, "team_name": n, "org_name": "Org", "tokens": tok,
             "adjusted_tokens": min(adj, tok), "flagged": f, "suspected_tokens": sus, "scheduled_tokens": 0,
             "outcome_units": units}
            for i, (t, n, tok, adj, f, sus, units) in enumerate(rows)
        ],
        columns=["entity_id", "team_id", "team_name", "org_name", "tokens", "adjusted_tokens", "flagged",
                 "suspected_tokens", "scheduled_tokens", "outcome_units"],
    )  # fmt: skip
    teams, withheld = lb.team_board(people, k=k)
    want = _reference_team_sums(people)
    shown = want[want["people"] >= k]
    assert withheld >= len(want) - len(shown)
    for row in teams.itertuples():
        expected = want.loc[row.entity_id]
        assert (row.tokens, row.people, row.suspected_people) == (
            expected["tokens"],
            expected["people"],
            expected["suspected_people"],
        )
        assert row.adjusted_tokens == expected["adjusted_tokens"]
        assert row.entity_name == (expected["entity_name"] if pd.notna(expected["entity_name"]) else row.entity_id)
    assert len(teams) + withheld == len(want)
