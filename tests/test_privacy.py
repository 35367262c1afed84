"""Hierarchical small-group protection: what an org tree may show, checked on hand-made orgs and random trees."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.privacy import safe_tree


def org(*rows: tuple) -> pd.DataFrame:
    """Nodes from (team_id, parent_team_id, people directly in it); tokens are 10 per person plus 1 per team."""
    frame = pd.DataFrame(rows, columns=["team_id", "parent_team_id", "people"])
    frame["tokens"] = frame["people"] * 10 + 1
    return frame


def subtree_totals(nodes: pd.DataFrame, col: str = "people") -> dict:
    parent = dict(zip(nodes["team_id"], nodes["parent_team_id"], strict=True))
    totals = dict.fromkeys(nodes["team_id"], 0)
    for team, value in zip(nodes["team_id"], nodes[col], strict=True):
        seen = set()
        while team in totals and team not in seen:
            totals[team] += value
            seen.add(team)
            team = parent[team]
    return totals


def shown_nodes(cells: pd.DataFrame) -> dict:
    teams = cells[cells["kind"] == "node"]
    return dict(zip(teams["node_id"], teams["people"], strict=True))


def assert_safe(nodes: pd.DataFrame, cells: pd.DataFrame, k: int) -> None:
    """No shown cell covers 1..k-1 people, and no shown parent minus its shown children does either: with or
    without the pooled 'other' cells counted as shown, and at the top (the whole view, whose total is known)."""
    whole = int(nodes["people"].sum())
    if cells.empty:  # nothing at all is shown only when the whole view is under k
        assert whole < k
        return
    assert (cells["people"] >= k).all() and (cells["people"] > 0).all()
    parents = {"<top>": whole, **dict(zip(cells["cell_id"], cells["people"], strict=True))}
    above = cells["parent_cell"].where(cells["parent_cell"].notna(), "<top>")
    for parent, total in parents.items():
        for only_teams in (False, True):
            below = cells[(above == parent) & ((cells["kind"] == "node") | (not only_teams))]["people"].sum()
            rest = total - below
            assert rest == 0 or rest >= k, f"{parent}: {total} minus shown children {below} leaves {rest} < k={k}"
    # and what is shown is true: a node cell carries its whole subtree
    truth = subtree_totals(nodes)
    assert all(truth[node] == people for node, people in shown_nodes(cells).items())
    tokens = subtree_totals(nodes, "tokens")
    node_cells = cells[cells["kind"] == "node"]
    assert all(tokens[n] == t for n, t in zip(node_cells["node_id"], node_cells["tokens"], strict=True))


def test_the_subtraction_case_hides_the_big_sibling_too():
    # Showing Eng (11) and Web (8) would reveal Ops (3) as Eng minus Web: Web is withheld with it.
    nodes = org(("eng", None, 0), ("web", "eng", 8), ("ops", "eng", 3))
    cells = safe_tree(nodes, k=5)
    assert cells[["cell_id", "people"]].values.tolist() == [["n:eng", 11]]
    assert_safe(nodes, cells, 5)


def test_small_teams_and_direct_members_pool_into_one_other_cell():
    nodes = org(("eng", None, 2), ("web", "eng", 8), ("api", "eng", 6), ("ops", "eng", 3))
    cells = safe_tree(nodes, k=5)
    assert shown_nodes(cells) == {"eng": 19, "web": 8, "api": 6}
    pool = cells[cells["kind"] == "pool"].iloc[0]
    assert (pool["parent_cell"], pool["people"], pool["pooled_nodes"], pool["pooled_direct"]) == ("n:eng", 5, 1, True)
    assert pool["tokens"] == 2 * 10 + 1 + 3 * 10 + 1  # eng's own members and ops
    assert_safe(nodes, cells, 5)


def test_a_pool_under_k_takes_the_smallest_shown_sibling():
    nodes = org(("eng", None, 0), ("web", "eng", 8), ("api", "eng", 6), ("ops", "eng", 1))
    cells = safe_tree(nodes, k=5)
    assert shown_nodes(cells) == {"eng": 15, "web": 8}  # api (6), the smallest, joins ops (1)
    pool = cells[cells["kind"] == "pool"].iloc[0]
    assert (pool["people"], pool["pooled_nodes"], pool["pooled_direct"]) == (7, 2, False)
    assert_safe(nodes, cells, 5)


def test_a_subtree_under_k_is_hidden_whole_at_its_parents_level():
    nodes = org(
        ("co", None, 0),
        ("eng", "co", 0),
        ("web", "eng", 9),
        ("api", "eng", 7),
        ("sales", "co", 0),
        ("emea", "sales", 2),  # sales holds 4 people in all, so neither it nor emea nor apac is shown
        ("apac", "sales", 2),
        ("hr", "co", 6),
    )
    cells = safe_tree(nodes, k=5)
    # the 4 of sales alone would be readable as co - eng - hr: hr, the smallest shown, pools with them
    assert shown_nodes(cells) == {"co": 26, "eng": 16, "web": 9, "api": 7}
    pools = cells[cells["kind"] == "pool"]
    assert pools[["parent_cell", "people"]].values.tolist() == [["n:co", 10]]
    assert_safe(nodes, cells, 5)


def test_pooled_siblings_take_their_whole_subtree_with_them():
    # api (6) is pooled to cover ops (1); showing api's child would let api's total be worked out
    nodes = org(("eng", None, 0), ("web", "eng", 9), ("api", "eng", 0), ("api-a", "api", 6), ("ops", "eng", 1))
    cells = safe_tree(nodes, k=5)
    assert set(shown_nodes(cells)) == {"eng", "web"}
    assert_safe(nodes, cells, 5)


def test_several_roots_sit_under_the_whole_view():
    nodes = org(("a", None, 9), ("b", None, 8), ("c", None, 2))
    cells = safe_tree(nodes, k=5)
    assert shown_nodes(cells) == {"a": 9}  # c (2) needs company: b (8) the smallest
    top_pool = cells[(cells["kind"] == "pool") & cells["parent_cell"].isna()]
    assert top_pool[["cell_id", "people", "pooled_nodes"]].values.tolist() == [["p:", 10, 2]]
    assert_safe(nodes, cells, 5)


def test_a_view_under_k_shows_nothing_and_k_of_one_shows_everything():
    nodes = org(("a", None, 2), ("b", "a", 1), ("c", "a", 1))
    assert safe_tree(nodes, k=5).empty
    everything = safe_tree(nodes, k=1)
    assert shown_nodes(everything) == {"a": 4, "b": 1, "c": 1}
    assert everything[everything["kind"] == "pool"][["parent_cell", "people"]].values.tolist() == [["n:a", 2]]


def test_teams_without_people_are_neither_shown_nor_counted():
    nodes = org(("a", None, 0), ("b", "a", 6), ("c", "a", 0), ("d", "a", 7))
    cells = safe_tree(nodes, k=5)
    assert shown_nodes(cells) == {"a": 13, "b": 6, "d": 7}
    assert not (cells["kind"] == "pool").any()


def test_parents_come_before_children_and_ids_survive_odd_names():
    nodes = org(("p:x", None, 0), ("n:y", "p:x", 6), ("z", "n:y", 5), ("w", "n:y", 6))
    cells = safe_tree(nodes, k=5)
    seen = set()
    for cell, parent in zip(cells["cell_id"], cells["parent_cell"], strict=True):
        assert pd.isna(parent) or parent in seen
        seen.add(cell)
    assert cells["cell_id"].is_unique


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="k must be at least 1"):
        safe_tree(org(("a", None, 5)), k=0)
    with pytest.raises(ValueError, match="cycle"):
        safe_tree(org(("a", None, 5), ("b", "c", 1), ("c", "b", 1)), k=5)
    with pytest.raises(ValueError, match="unique"):
        safe_tree(org(("a", None, 5), ("a", None, 1)), k=5)
    with pytest.raises(ValueError, match="negative"):
        safe_tree(org(("a", None, -1)), k=5)
    with pytest.raises(ValueError, match="columns"):
        safe_tree(org(("a", None, 5)).drop(columns="tokens"), k=5)


@st.composite
def trees(draw):
    n = draw(st.integers(1, 25))
    parents = [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, n)]
    sizes = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    rows = [(f"t{i}", None if p is None else f"t{p}", s) for i, (p, s) in enumerate(zip(parents, sizes, strict=True))]
    return org(*rows), draw(st.integers(1, 8))


@settings(max_examples=200, deadline=None)
@given(trees())
def test_no_group_smaller_than_k_is_shown_or_left_to_subtraction(case):
    nodes, k = case
    cells = safe_tree(nodes, k=k)
    assert_safe(nodes, cells, k)
    # every shown node hangs under its own parent's cell, or is a root at the top
    parent = dict(zip(nodes["team_id"], nodes["parent_team_id"], strict=True))
    for node, above in zip(cells["node_id"], cells["parent_cell"], strict=True):
        if isinstance(node, str):
            assert (pd.isna(above) and pd.isna(parent[node])) or above == f"n:{parent[node]}"
    if k == 1:  # nothing needs hiding: every team with people is shown
        assert set(shown_nodes(cells)) == {t for t, v in subtree_totals(nodes).items() if v > 0}
