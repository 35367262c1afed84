"""The org explorer's engine and queries: team sums, peers, the treemap's data, and scope in SQL."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import charts, org
from analytics.access import AccessError, Scope
from analytics.queries import Warehouse
from analytics.warehouse import connect_read_only

LEADERSHIP = Scope("leadership", None, None, False, 5)
ADMIN = Scope("admin", None, None, True, 5)


def lead(team: str) -> Scope:
    return Scope("lead", (team,), None, True, 1)


TEAMS = pd.DataFrame(
    [
        ("co", "Acme", None, 0),
        ("eng", "Engineering", "co", 1),
        ("web", "Web", "eng", 2),
        ("api", "API", "eng", 2),
        ("data", "Data", "eng", 2),
        ("ops", "Operations", "co", 1),
        ("sec", "Security", "co", 1),
    ],
    columns=org.TEAM_COLUMNS,
)


def people_in(sizes: dict[str, int], tokens: int = 100) -> pd.DataFrame:
    rows = []
    for team, n in sizes.items():
        for i in range(n):
            rows.append(
                {"user_id": f"{team}-{i}", "team_id": team, "tokens": tokens, "adjusted_tokens": tokens / 2,
                 "suspected_tokens": tokens // 4, "cost_usd": 1.0, "real_outcomes": 2.0, "flagged": i == 0}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_team_nodes_sum_direct_members_and_keep_strays_under_no_team():
    people = people_in({"web": 3, "co": 1, "elsewhere": 2})
    people.loc[people["user_id"] == "web-2", "tokens"] = 0  # no use in the period: not counted
    nodes = org.team_nodes(TEAMS, people).set_index("team_id")
    assert nodes.loc["web", ["people", "tokens", "flagged_people"]].tolist() == [2, 200, 1]
    assert nodes.loc["co", "people"] == 1 and nodes.loc["api", "people"] == 0
    assert nodes.loc[org.NO_TEAM, ["people", "parent_team_id"]].tolist()[0] == 2
    assert pd.isna(nodes.loc[org.NO_TEAM, "parent_team_id"])


def test_tree_cells_label_pools_and_carry_shares():
    cells = org.tree_cells(TEAMS, people_in({"co": 1, "web": 9, "api": 7, "data": 6, "ops": 8, "sec": 2}), k=5)
    assert list(cells.columns) == org.CELL_COLUMNS
    pools = cells[cells["kind"] == "pool"].set_index("parent_cell")["label"].to_dict()
    assert pools == {"n:co": "Other (direct members + 2 teams)"}  # co's 1 + sec's 2 need ops (8), the smallest
    assert (cells["adjusted_share"] == 0.5).all() and (cells["suspected_share"] == 0.25).all()
    assert cells.loc[cells["node_id"] == "web", "tokens_per_person"].item() == 100
    assert org.pool_label(1, False) == "Other (1 team)" and org.pool_label(0, True) == "Direct members"


def test_peers_are_shown_siblings_then_similar_teams_at_the_same_level():
    cells = org.tree_cells(TEAMS, people_in({"web": 9, "api": 7, "data": 30, "ops": 8, "sec": 6}), k=5)
    table = org.peers(cells, "n:web")
    assert table["label"].tolist()[0] == "Web" and table["relation"].tolist()[0] == "this team"
    assert table["label"].tolist()[1:] == ["API", "Data"]  # nearest size first
    assert set(table["relation"][1:]) == {"sibling team"}
    # siblings are peers whatever their size
    assert org.peers(cells, "n:ops")["label"].tolist() == ["Operations", "Security", "Engineering"]
    eng = org.peers(cells, "n:eng")
    assert "Web" not in eng["label"].tolist()  # never its own teams
    assert org.peers(cells, "p:co").empty  # a pool is no team


def test_too_few_siblings_bring_in_similar_teams_at_the_same_level():
    teams = pd.DataFrame(
        [("co", "Acme", None, 0), ("eng", "Eng", "co", 1), ("ops", "Ops", "co", 1), ("web", "Web", "eng", 2),
         ("api", "API", "eng", 2), ("infra", "Infra", "ops", 2), ("desk", "Desk", "ops", 2)],
        columns=org.TEAM_COLUMNS,
    )  # fmt: skip
    cells = org.tree_cells(teams, people_in({"web": 10, "api": 30, "infra": 12, "desk": 21}), k=5)
    table = org.peers(cells, "n:web")
    assert table["label"].tolist() == ["Web", "API", "Infra"]  # Desk (21) is over twice Web's size
    assert table["relation"].tolist() == ["this team", "sibling team", "same level, similar size"]


def test_peers_never_include_what_the_tree_hides():
    cells = org.tree_cells(TEAMS, people_in({"web": 9, "api": 3, "data": 6, "ops": 8}), k=5)
    shown = set(cells.loc[cells["kind"] == "node", "cell_id"])
    for cell in shown:
        assert set(org.peers(cells, cell)["cell_id"]) <= shown
    assert "n:api" not in shown and "n:data" not in shown  # api (3) needs data (6) to hide it


def test_lineage_and_subtree():
    cells = org.tree_cells(TEAMS, people_in({"web": 9, "api": 7, "ops": 8}), k=1)
    assert org.lineage(cells, "n:web") == ["n:co", "n:eng", "n:web"]
    assert org.lineage(cells, "n:nowhere") == [] and org.lineage(cells, None) == []
    assert set(org.subtree(cells, "n:eng")["cell_id"]) == {"n:eng", "n:web", "n:api"}
    assert len(org.subtree(cells, None)) == len(cells)


def test_treemap_sizes_by_tokens_colours_by_adjusted_share_and_escapes_names():
    teams = TEAMS.copy()
    teams.loc[teams["team_id"] == "web", "team_name"] = "<b>Web</b>"
    cells = org.tree_cells(teams, people_in({"web": 9, "api": 7, "ops": 8}), k=5)
    trace = charts.org_treemap(cells).data[0]
    assert list(trace.ids) == cells["cell_id"].tolist()
    assert list(trace.values) == cells["tokens"].tolist()
    assert list(trace.marker.colors) == cells["adjusted_share"].tolist()
    assert "&lt;b&gt;Web&lt;/b&gt;" in trace.labels and trace.branchvalues == "total"
    # a parent is never smaller than its children (else plotly draws nothing)
    values = dict(zip(trace.ids, trace.values, strict=True))
    for parent in set(trace.parents) - {""}:
        assert values[parent] >= sum(
            v for i, v, p in zip(trace.ids, trace.values, trace.parents, strict=True) if p == parent
        )
    # drilled in: the focus is the root; several top cells gather under one
    focused = charts.org_treemap(org.subtree(cells, "n:eng"), root="n:eng").data[0]
    assert focused.parents[0] == "" and set(focused.ids) == {"n:eng", "n:web", "n:api"}
    forest = pd.DataFrame([("a", None, "A", 0), ("b", None, "B", 0)], columns=org.TEAM_COLUMNS)
    both = charts.org_treemap(org.tree_cells(forest, people_in({"a": 5, "b": 6}), k=5)).data[0]
    assert both.ids[0] == "all" and both.values[0] == 1100 and list(both.parents) == ["", "all", "all"]


@pytest.fixture(scope="module")
def wh(demo_db):
    return Warehouse(connect_read_only(demo_db))


def subtree_teams(wh: Warehouse, team: str) -> set[str]:
    rows = wh.con.execute("SELECT team_id FROM team_ancestors WHERE ancestor_id = ?", [team]).fetchall()
    return {r[0] for r in rows}


def test_a_leads_tree_and_people_stay_in_their_subtree(wh):
    team = "t-0003"
    inside = subtree_teams(wh, team)
    start, end = wh.date_bounds()
    cells = wh.org_tree(start, end, lead(team))
    nodes = set(cells.loc[cells["kind"] == "node", "node_id"])
    assert nodes and nodes <= inside and cells["parent_cell"].isna().sum() == 1
    people = wh.org_people(start, end, None, lead(team))
    assert set(people["team_id"]) <= inside and people["display_name"].notna().all()
    # the whole line is shown to its lead (k = 1), and the tree adds up to the people listed
    assert cells.loc[cells["parent_cell"].isna(), "tokens"].item() == people["tokens"].sum()
    assert cells.loc[cells["parent_cell"].isna(), "people"].item() == len(people)
    # narrowing to a team outside the scope finds nobody
    assert wh.org_people(start, end, "t-0014", lead(team)).empty
    assert wh.org_person_weeks(people["user_id"].iloc[0], start, end, lead("t-0014")).empty


def test_leadership_gets_teams_of_k_only_and_never_people(wh):
    start, end = wh.date_bounds()
    cells = wh.org_tree(start, end, LEADERSHIP)
    assert (cells["people"] >= 5).all()
    assert cells.loc[cells["parent_cell"].isna(), "tokens"].sum() == wh.org_tree(start, end, ADMIN).iloc[0]["tokens"]
    with pytest.raises(AccessError):
        wh.org_people(start, end, None, LEADERSHIP)
    with pytest.raises(AccessError):
        wh.org_person_weeks("u-00001", start, end, LEADERSHIP)
    stricter = wh.org_tree(start, end, Scope("finance", None, None, False, 40))
    assert len(stricter) and (stricter["people"] >= 40).all()


def test_adjusted_tokens_are_the_leaderboards(wh):
    start, end = wh.date_bounds()
    people = wh.org_people(start, end, None, ADMIN)
    board = wh.leaderboard_people(start, end, None, None, ADMIN).set_index("user_id")
    assert len(people) == len(board)
    joined = people.set_index("user_id")
    assert (joined["tokens"] == board.loc[joined.index, "tokens"]).all()
    assert (joined["adjusted_tokens"] <= joined["tokens"]).all()
    assert joined["adjusted_tokens"].sum() == pytest.approx(board["adjusted_tokens"].clip(lower=0).sum(), rel=1e-9)
