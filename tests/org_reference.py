"""The org explorer's engine as it was before it worked on whole arrays (analytics/org.py and analytics/privacy.py at
42d15ad, trimmed to what builds the tree): the reference the fast one must equal, to the last bit."""

from __future__ import annotations

import pandas as pd

from analytics.org import CELL_COLUMNS, NO_TEAM, SUM_COLS, TEAM_COLUMNS, pool_label, with_rates
from analytics.privacy import DEFAULT_K


def team_nodes(teams: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """One row per team in view with its direct members' sums: team_id, team_name, parent_team_id, depth,
    people (direct members who used AI tools in the period) and SUM_COLS.

    `teams` is q_org_tree (teams inside the scope, parents outside it cut); `people` is one row per person
    (Warehouse.org_people_frame). People whose team is not in `teams` go to a NO_TEAM root.
    """
    people = people.copy()
    if "flagged" in people.columns:
        people["flagged_people"] = people["flagged"].fillna(False).astype(bool).astype("int64")
    for col in SUM_COLS:
        if col not in people.columns:
            people[col] = 0
    known = set(teams["team_id"])
    people["team_id"] = people["team_id"].where(people["team_id"].isin(known), NO_TEAM)
    people = people[people["tokens"].fillna(0) > 0]
    direct = people.groupby("team_id").agg(people=("user_id", "nunique"), **{c: (c, "sum") for c in SUM_COLS})
    frame = teams[TEAM_COLUMNS].copy()
    if (people["team_id"] == NO_TEAM).any():
        frame = pd.concat(
            [frame, pd.DataFrame([{"team_id": NO_TEAM, "team_name": NO_TEAM, "parent_team_id": None, "depth": 0}])],
            ignore_index=True,
        )
    frame = frame.merge(direct, left_on="team_id", right_index=True, how="left")
    frame["people"] = frame["people"].fillna(0).astype("int64")
    for col in SUM_COLS:
        frame[col] = frame[col].fillna(0)
    for col in ("tokens", "suspected_tokens", "flagged_people"):
        frame[col] = frame[col].astype("int64")
    frame["adjusted_tokens"] = frame["adjusted_tokens"].astype("float64")
    return frame.reset_index(drop=True)


def tree_cells(teams: pd.DataFrame, people: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """The team tree as cells that may be shown to a viewer whose smallest group is k (privacy.safe_tree),
    each with its label and shares: CELL_COLUMNS, parents before children."""
    nodes = team_nodes(teams, people)
    cells = safe_tree(nodes, k=k, size_col="people", sum_cols=SUM_COLS)
    if cells.empty:
        return pd.DataFrame(columns=CELL_COLUMNS)
    names = dict(zip(nodes["team_id"], nodes["team_name"].fillna(nodes["team_id"]), strict=True))
    cells["label"] = [
        names.get(node, str(node)) if kind == "node" else pool_label(n, direct)
        for node, kind, n, direct in zip(
            cells["node_id"], cells["kind"], cells["pooled_nodes"], cells["pooled_direct"], strict=True
        )
    ]
    cells["parent_cell"] = cells["parent_cell"].astype(object).where(cells["parent_cell"].notna(), None)
    cells["node_id"] = cells["node_id"].astype(object).where(cells["node_id"].notna(), None)
    return with_rates(cells)[CELL_COLUMNS]


def safe_tree(
    nodes: pd.DataFrame,
    *,
    k: int = DEFAULT_K,
    id_col: str = "team_id",
    parent_col: str = "parent_team_id",
    size_col: str = "people",
    sum_cols: tuple[str, ...] | list[str] = ("tokens",),
) -> pd.DataFrame:
    """The cells of a tree (an org chart) that may be shown, with no group of 1..k-1 people readable from them.

    Parameters
    ----------
    nodes : one row per node (team): its id, its parent's id (a parent that is not a node makes it a
        root), `size_col` the people directly in the node (not below it), `sum_cols` their additive metrics.
    k : the smallest group a shown cell, or the difference between a shown cell and its shown children,
        may cover (1 shows everything that has people).

    Every shown node cell carries its whole subtree's totals. Below each shown node (and below the whole
    view, whose total other pages show), the node's own direct members and its children whose subtree
    holds fewer than k people are pooled into one "other" cell; when that pool holds 1..k-1 people, the
    smallest shown children join it (complementary suppression) until it holds at least k, or until every
    child is pooled, when the node is shown as one cell with nothing below it. A pooled child's subtree is
    hidden whole. So every shown node's total equals its shown children plus its pool, and each node's
    hidden remainder (direct members plus pooled subtrees) is 0 or at least k people: any sum or difference
    of shown cells is a union of such remainders, never a group of 1..k-1 people. Nodes with no people
    are never shown (they hold nothing).

    Returns
    -------
    DataFrame, parents before children, one row per shown cell: `cell_id` ("n:<id>" for a node, "p:<parent
    id>" for a pool, "p:" for a pool at the top), `parent_cell` (None at the top), `node_id` (None for a
    pool), `kind` ("node" or "pool"), `level` (0 at the top), `size_col` and `sum_cols` over the cell's
    people, `pooled_nodes` (nodes with people whose subtrees a pool holds) and `pooled_direct` (whether it
    holds its parent's direct members).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    missing = [c for c in (id_col, parent_col, size_col, *sum_cols) if c not in nodes.columns]
    if missing:
        raise ValueError(f"nodes lack the columns {missing}")
    ids = nodes[id_col].tolist()
    if any(pd.isna(i) for i in ids) or len(set(ids)) != len(ids):
        raise ValueError(f"`{id_col}` must be unique and never missing")
    sizes = nodes[size_col].fillna(0)
    if (sizes < 0).any():
        raise ValueError(f"`{size_col}` cannot be negative")
    known = set(ids)
    values = [size_col, *sum_cols]
    direct = {
        i: [row[c] if not pd.isna(row[c]) else 0 for c in values]
        for i, row in zip(ids, nodes[values].to_dict("records"), strict=True)
    }
    children: dict[object, list] = {i: [] for i in ids}
    roots = []
    for i, parent in zip(ids, nodes[parent_col].tolist(), strict=True):
        if parent is not None and not pd.isna(parent) and parent in known and parent != i:
            children[parent].append(i)
        else:
            roots.append(i)
    order, stack = [], list(roots)
    while stack:  # top-down walk; nodes it never reaches sit on a cycle
        node = stack.pop()
        order.append(node)
        stack.extend(children[node])
    if len(order) != len(ids):
        raise ValueError("the tree has a cycle: some nodes are their own ancestors")
    total = {}
    for node in reversed(order):  # bottom-up subtree sums
        sums = list(direct[node])
        for child in children[node]:
            sums = [a + b for a, b in zip(sums, total[child], strict=True)]
        total[node] = sums

    cells: list[dict] = []

    def place(parent_cell: str | None, parent: object, kids: list, own: list, level: int) -> None:
        pool = list(own)
        pooled = 0
        shown = []
        for kid in kids:
            if total[kid][0] <= 0:
                continue  # no people: nothing to show or to hide
            if total[kid][0] >= k:
                shown.append(kid)
            else:
                pool = [a + b for a, b in zip(pool, total[kid], strict=True)]
                pooled += 1
        shown.sort(key=lambda n: (total[n][0], str(n)))
        while 0 < pool[0] < k and shown:
            kid = shown.pop(0)
            pool = [a + b for a, b in zip(pool, total[kid], strict=True)]
            pooled += 1
        if not shown and parent_cell is not None:
            return  # the parent is shown as one cell: its children would only split a small remainder
        if not shown and pool[0] < k:
            return  # the whole view holds fewer than k people
        for kid in sorted(shown, key=lambda n: (-total[n][0], str(n))):
            cell = f"n:{kid}"
            cells.append(_cell(cell, parent_cell, kid, "node", level, values, total[kid], 0, False))
            place(cell, kid, children[kid], direct[kid], level + 1)
        if pool[0] > 0:
            cell = f"p:{'' if parent is None else parent}"
            cells.append(_cell(cell, parent_cell, None, "pool", level, values, pool, pooled, own[0] > 0))

    place(None, None, roots, [0] * len(values), 0)
    columns = ["cell_id", "parent_cell", "node_id", "kind", "level", *values, "pooled_nodes", "pooled_direct"]
    out = pd.DataFrame(cells, columns=columns)
    for c in values:  # keep the input's dtypes (integer people and tokens stay integers)
        if len(out):
            out[c] = out[c].astype(nodes[c].dtype if not nodes[c].isna().any() else "float64")
    return out


def _cell(cell_id, parent_cell, node_id, kind, level, values, sums, pooled, pooled_direct) -> dict:
    return {
        "cell_id": cell_id, "parent_cell": parent_cell, "node_id": node_id, "kind": kind, "level": level,
        **dict(zip(values, sums, strict=True)), "pooled_nodes": pooled, "pooled_direct": pooled_direct,
    }  # fmt: skip
