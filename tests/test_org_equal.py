"""The org explorer's tree and people, worked out on whole arrays, equal what the straightforward walk gave
(tests/org_reference.py): on random trees to the last bit, and on the demo for the admin and every lead."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import org_reference as ref
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import access, leaderboard, marts, org
from analytics.privacy import safe_tree
from analytics.queries import OPERATOR, Warehouse
from analytics.warehouse import connect_read_only, with_queries


@st.composite
def cases(draw):
    """A random tree of teams (some parents outside it, names missing) and people with float sums, placed in
    those teams, in teams outside the tree or in none, some with no tokens, some user ids repeated or missing."""
    n = draw(st.integers(1, 30))
    ids = draw(st.permutations([f"t{i}" for i in range(n)]))
    parents = [None] + [draw(st.sampled_from([None, "outside", *ids[:i]])) for i in range(1, n)]
    names = [draw(st.sampled_from([f"Team {i}", None])) for i in ids]
    teams = pd.DataFrame({"team_id": ids, "team_name": names, "parent_team_id": parents, "depth": 0})
    m = draw(st.integers(0, 80))
    floats = st.floats(0, 1e6, allow_nan=False)
    people = pd.DataFrame(
        {
            "user_id": [draw(st.sampled_from([f"u{draw(st.integers(0, m))}", None])) for _ in range(m)],
            "team_id": [draw(st.sampled_from([*ids, "elsewhere", None])) for _ in range(m)],
            "tokens": [draw(st.sampled_from([0, draw(st.integers(1, 10**9))])) for _ in range(m)],
            "adjusted_tokens": [draw(floats) for _ in range(m)],
            "suspected_tokens": [draw(st.integers(0, 10**6)) for _ in range(m)],
            "cost_usd": [draw(floats) for _ in range(m)],
            "real_outcomes": [draw(floats) for _ in range(m)],
            "flagged": [draw(st.sampled_from([True, False, None])) for _ in range(m)],
        }
    )
    return teams, people, draw(st.integers(1, 8))


@settings(max_examples=300, deadline=None)
@given(cases())
def test_tree_cells_equal_the_walk_to_the_bit(case):
    teams, people, k = case
    pd.testing.assert_frame_equal(org.team_nodes(teams, people), ref.team_nodes(teams, people), check_exact=True)
    pd.testing.assert_frame_equal(
        org.tree_cells(teams, people, k=k), ref.tree_cells(teams, people, k=k), check_exact=True
    )


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 60), st.integers(1, 9), st.randoms(use_true_random=False))
def test_safe_tree_equals_the_walk_on_deep_and_wide_trees(n, k, rnd):
    ids = list(range(n))  # numeric ids, a parent that is itself, sizes with gaps, a float column with missing values
    parents = [None] + [rnd.choice([i - 1, rnd.randrange(i), None, i, -5]) for i in range(1, n)]
    nodes = pd.DataFrame(
        {
            "team_id": ids,
            "parent_team_id": parents,
            "people": [rnd.choice([0, 0, 1, 2, 3, 5, 8, 13]) for _ in ids],
            "tokens": [rnd.randrange(10**6) for _ in ids],
            "cost_usd": [rnd.choice([np.nan, rnd.random() * 1e3]) for _ in ids],
        }
    )
    got = safe_tree(nodes, k=k, sum_cols=("tokens", "cost_usd"))
    pd.testing.assert_frame_equal(got, ref.safe_tree(nodes, k=k, sum_cols=("tokens", "cost_usd")), check_exact=True)


def test_a_cycle_is_refused_as_before():
    nodes = pd.DataFrame({"team_id": ["a", "b", "c"], "parent_team_id": [None, "c", "b"], "people": 5, "tokens": 1})
    for build in (safe_tree, ref.safe_tree):
        with pytest.raises(ValueError, match="cycle"):
            build(nodes, k=1)


# q_org_people as it was (names from dim_people; no per-person summary of the whole company), the reference
OLD_ORG_PEOPLE = """
WITH weeks AS (
    SELECT user_id, team_id, last_week, tokens, real_outcomes, active_weeks, suspect_weeks
    FROM mart_period_person_team WHERE $stored
    UNION ALL
    SELECT user_id, team_id, week, tokens, real_outcomes, 1, CAST(is_suspected AS INTEGER)
    FROM mart_person_week
    WHERE NOT $stored AND week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE) AND tokens > 0
)
SELECT w.user_id, any_value(d.display_name) AS display_name, arg_max(w.team_id, w.last_week) AS team_id,
       CAST(sum(w.tokens) AS BIGINT) AS tokens, sum(w.real_outcomes) AS real_outcomes,
       CAST(sum(w.active_weeks) AS BIGINT) AS active_weeks, CAST(sum(w.suspect_weeks) AS BIGINT) AS suspect_weeks
FROM weeks w LEFT JOIN dim_people d USING (user_id)
WHERE ($subtree IS NULL OR w.team_id IN (SELECT team_id FROM team_ancestors WHERE ancestor_id = $subtree))
  AND ($scope_all OR (w.team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
GROUP BY w.user_id
ORDER BY tokens DESC, w.user_id"""


@pytest.fixture(scope="module")
def wh(demo_db):
    warehouse = Warehouse(connect_read_only(demo_db))
    yield warehouse
    warehouse.close()


def _old_people(wh: Warehouse, start, end, subtree, scope, board) -> pd.DataFrame:
    params = {"start": start, "end": end, "subtree": subtree, "stored": wh._stored_period(start, end)}
    cur = wh.con
    try:
        scoped = {k: v for k, v in scope.params().items() if k != "scope_user"}
        placed = cur.execute(OLD_ORG_PEOPLE, {**params, **scoped}).df()
    finally:
        cur.close()
    if not scope.named:
        placed = placed.drop(columns="display_name")
    parts = ["user_id", "tokens", "suspected_tokens", "scheduled_tokens", "cost_usd", "adjusted_tokens", "flagged"]
    people = placed.drop(columns="tokens").merge(board[parts], on="user_id", how="inner")
    people["adjusted_tokens"] = np.minimum(people["adjusted_tokens"].astype("float64").clip(lower=0), people["tokens"])
    return people


def _scopes(wh: Warehouse) -> dict[str, access.Scope]:
    out = {"admin": OPERATOR, "leadership": access.Scope("leadership", None, None, False, 5)}
    for label, viewer in access.demo_viewers(wh.con).items():
        if label.startswith("Team lead of"):
            out[label] = viewer.scope()
    return out


@pytest.mark.parametrize("later", [False, True], ids=["default period (stored)", "another period (summed)"])
def test_the_tree_and_people_equal_the_old_queries_and_walk(wh, later):
    first, last = wh.date_bounds()
    start = max(first, last - timedelta(weeks=marts.PERIOD_WEEKS) + timedelta(days=1)) + timedelta(days=7 * later)
    assert wh._stored_period(start, last) is not later
    teams = wh.org_teams()
    subtree = teams.loc[teams["depth"] == teams["depth"].min() + 1, "team_id"].iloc[0]
    for label, scope in _scopes(wh).items():
        for narrowed in (None, subtree):
            # the reference joins the board in pandas; org_tree and org_people sum it in the same query as the rest
            # (DuckDB's sums of floats may differ in the last bit from one run to the next: rtol)
            board = wh.leaderboard_people(start, last, None, narrowed, scope)
            old = _old_people(wh, start, last, narrowed, scope, board)
            if narrowed is None:
                k = 1 if scope.individuals else scope.k
                want = ref.tree_cells(wh.org_teams(scope), old, k=k)
                assert len(want) or label != "admin"
                pd.testing.assert_frame_equal(wh.org_tree(start, last, scope), want, rtol=1e-12, obj=label)
            if scope.individuals:
                want = old.assign(team_name=old["team_id"].map(wh.org_teams(scope).set_index("team_id")["team_name"]))
                tokens = want["tokens"].astype("float64").replace(0, np.nan)
                want["adjusted_share"] = want["adjusted_tokens"] / tokens
                want["suspected_share"] = want["suspected_tokens"] / tokens
                want = want.sort_values(["tokens", "user_id"], ascending=[False, True]).reset_index(drop=True)
                got = wh.org_people(start, last, narrowed, scope)
                pd.testing.assert_frame_equal(got, want, rtol=1e-12, obj=f"{label} people of {narrowed}")


def test_the_company_summary_equals_summing_the_period(wh):
    """mart_period_person against q_org_board_people summed live: the period's weeks and a board ranked anew."""
    first, last = wh.date_bounds()
    start = max(first, last - timedelta(weeks=marts.PERIOD_WEEKS) + timedelta(days=1))
    stored = wh._frame("q_org_people_company", OPERATOR)
    text = with_queries({"board": "q_leaderboard_people", "placed": "q_org_people"}, "q_org_board_people")
    params = {**leaderboard.query_params(start, last, None, None), "stored": False, "board": False}
    params = {k: v for k, v in {**params, **OPERATOR.params()}.items() if f"${k}" in text}
    summed = wh._frame_of(text, params, OPERATOR)
    assert len(stored) > 100 and stored["display_name"].notna().all()
    pd.testing.assert_frame_equal(stored, summed, rtol=1e-9)  # the same rows in the same order
