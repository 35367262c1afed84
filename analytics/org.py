"""The org explorer's engine: people's usage summed up the team tree, made safe to show, and a team's peers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.privacy import safe_tree, text_rank

# Additive per-person metrics summed up the tree; `people` (who used AI tools in the period) is the group size
# k protects: every aggregate shown is a sum over exactly those people.
SUM_COLS = ("tokens", "adjusted_tokens", "suspected_tokens", "cost_usd", "real_outcomes", "flagged_people")
NO_TEAM = "(no team)"  # people the org data places in no team (only a company-wide view holds them)
TEAM_COLUMNS = ["team_id", "team_name", "parent_team_id", "depth"]
CELL_COLUMNS = [
    "cell_id", "parent_cell", "node_id", "kind", "level", "label", "people", *SUM_COLS, "pooled_nodes",
    "pooled_direct", "adjusted_share", "suspected_share", "tokens_per_person", "cost_per_person",
    "outcomes_per_person",
]  # fmt: skip
PEER_COLUMNS = [
    "cell_id", "node_id", "label", "relation", "people", "tokens", "tokens_per_person", "adjusted_share",
    "suspected_share", "cost_per_person", "outcomes_per_person",
]  # fmt: skip
MIN_SIBLINGS = 3  # fewer sibling teams than this and teams at the same level of similar size join the peers
SIZE_RATIO = 2.0  # "similar size": at most this many times larger or smaller


def team_nodes(teams: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """One row per team in view with its direct members' sums: team_id, team_name, parent_team_id, depth,
    people (direct members who used AI tools in the period) and SUM_COLS.

    `teams` is q_org_tree (teams inside the scope, parents outside it cut); `people` is one row per person
    (Warehouse._org_people): distinct `user_id`s are counted, and without that column each row is one person.
    People whose team is not in `teams` go to a NO_TEAM root.
    """
    frame = teams[TEAM_COLUMNS].copy()
    used = people["tokens"].fillna(0).to_numpy() > 0 if "tokens" in people.columns else np.zeros(len(people), bool)
    people = people[used]
    # each person's row in `frame` (team_id is unique there, as q_org_tree gives it): a team not in it, or none,
    # is NO_TEAM's row, after the teams; worked out once per distinct team, not once per person
    codes, found = pd.factorize(people["team_id"])
    place = pd.Index(frame["team_id"]).get_indexer(found)
    place[place < 0] = len(frame)
    row = np.append(place, len(frame))[codes]  # factorize's -1 (no team) takes the appended NO_TEAM row
    if (row == len(frame)).any():
        frame = pd.concat(
            [frame, pd.DataFrame([{"team_id": NO_TEAM, "team_name": NO_TEAM, "parent_team_id": None, "depth": 0}])],
            ignore_index=True,
        )
    sums = pd.DataFrame(index=people.index)
    for col in SUM_COLS:
        if col == "flagged_people" and "flagged" in people.columns:
            sums[col] = people["flagged"].fillna(False).astype(bool).astype("int64")
        else:
            sums[col] = people[col] if col in people.columns else 0
    # pandas' grouped float sums depend on the group numbers as well as the rows' order: number the teams as
    # grouping by their ids would (in id order), so the sums come out as they always have, to the last bit
    held = np.flatnonzero(np.bincount(row, minlength=len(frame)))
    rank = text_rank(frame["team_id"].iloc[held])
    label = np.empty(len(frame), dtype="int64")
    label[held] = rank
    direct = sums.groupby(label[row]).sum()
    direct.index = held[np.argsort(rank)][direct.index.to_numpy()] if len(held) else direct.index
    users = people["user_id"] if "user_id" in people.columns else None
    direct.insert(0, "people", _distinct_per_row(row, users).reindex(direct.index))
    direct = direct.reindex(pd.RangeIndex(len(frame)))
    for col in direct.columns:
        frame[col] = direct[col].to_numpy()
    frame["people"] = frame["people"].fillna(0).astype("int64")
    for col in SUM_COLS:
        frame[col] = frame[col].fillna(0)
    for col in ("tokens", "suspected_tokens", "flagged_people"):
        frame[col] = frame[col].astype("int64")
    frame["adjusted_tokens"] = frame["adjusted_tokens"].astype("float64")
    return frame.reset_index(drop=True)


def _distinct_per_row(row: np.ndarray, users: pd.Series | None) -> pd.Series:
    """How many distinct users (missing ones not counted) each row number holds; without users, how many rows."""
    codes = pd.factorize(users)[0] if users is not None else np.arange(len(row))
    known = codes >= 0
    if known.all() and codes.max(initial=-1) + 1 == len(codes):  # one row per person, as the queries give
        counts = np.bincount(row, minlength=0)
        return pd.Series(counts[counts > 0], index=np.flatnonzero(counts))
    pairs = pd.DataFrame({"row": row[known], "user": codes[known]}).drop_duplicates()
    return pairs.groupby("row").size().reindex(np.unique(row), fill_value=0)


def tree_cells(teams: pd.DataFrame, people: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """The team tree as cells that may be shown to a viewer whose smallest group is k (privacy.safe_tree),
    each with its label and shares: CELL_COLUMNS, parents before children."""
    return node_cells(team_nodes(teams, people), k=k)


def node_cells(nodes: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """tree_cells from team_nodes' rows (one per team with its direct members' count and sums, as q_org_nodes gives
    them)."""
    cells = safe_tree(nodes, k=k, size_col="people", sum_cols=SUM_COLS)
    if cells.empty:
        return pd.DataFrame(columns=CELL_COLUMNS)
    # a team cell's label is its team's name, picked by position (a look-up per cell in Python took 3 ms for 9,000
    # cells); the few pools are worded one by one
    names = np.array(nodes["team_name"].fillna(nodes["team_id"]).tolist(), dtype=object)
    label = names[np.maximum(pd.Index(nodes["team_id"]).get_indexer(cells["node_id"]), 0)]
    pools = np.flatnonzero((cells["kind"] == "pool").to_numpy())
    for row, n, direct in zip(
        pools.tolist(),
        cells["pooled_nodes"].to_numpy()[pools].tolist(),
        cells["pooled_direct"].to_numpy()[pools].tolist(),
        strict=True,
    ):
        label[row] = pool_label(n, direct)
    cells["label"] = label.tolist()
    cells["parent_cell"] = cells["parent_cell"].astype(object).where(cells["parent_cell"].notna(), None)
    cells["node_id"] = cells["node_id"].astype(object).where(cells["node_id"].notna(), None)
    return with_rates(cells)[CELL_COLUMNS]


def pool_label(teams: int, direct: bool) -> str:
    """What an "other" cell holds, in words (never which teams: that is the point of pooling them)."""
    plural = "team" if teams == 1 else "teams"
    if direct and teams:
        return f"Other (direct members + {teams} {plural})"
    if direct:
        return "Direct members"
    return f"Other ({teams} {plural})"


def with_rates(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy(deep=False)  # copy-on-write: the caller's frame is left as it was, without copying its text
    tokens = frame["tokens"].astype("float64").replace(0, np.nan)
    people = frame["people"].astype("float64").replace(0, np.nan)
    frame["adjusted_share"] = (frame["adjusted_tokens"] / tokens).clip(0, 1)
    frame["suspected_share"] = (frame["suspected_tokens"] / tokens).clip(0, 1)
    frame["tokens_per_person"] = frame["tokens"] / people
    frame["cost_per_person"] = frame["cost_usd"] / people
    frame["outcomes_per_person"] = frame["real_outcomes"] / people
    return frame


def lineage(cells: pd.DataFrame, cell_id: str | None) -> list[str]:
    """The cell ids from the top of the tree down to `cell_id` (empty for None or a cell not shown)."""
    parents = dict(zip(cells["cell_id"], cells["parent_cell"], strict=True))
    path: list[str] = []
    while cell_id is not None and cell_id in parents and cell_id not in path:
        path.append(cell_id)
        cell_id = parents[cell_id]
    return path[::-1]


def subtree(cells: pd.DataFrame, cell_id: str | None) -> pd.DataFrame:
    """`cell_id` and every shown cell below it (the whole tree for None), parents before children."""
    if cell_id is None:
        return cells
    keep, frontier = {cell_id}, {cell_id}
    while frontier:
        frontier = set(cells.loc[cells["parent_cell"].isin(frontier), "cell_id"]) - keep
        keep |= frontier
    return cells[cells["cell_id"].isin(keep)]


def peers(cells: pd.DataFrame, cell_id: str, *, limit: int = 8) -> pd.DataFrame:
    """The team `cell_id` and comparable shown teams: its siblings, and when they are fewer than MIN_SIBLINGS,
    shown teams at the same level within SIZE_RATIO of its size, nearest size first. Never its own ancestors
    or descendants, and only cells already made safe to show, so peers reveal nothing the tree does not.

    Returns PEER_COLUMNS, the team itself first (relation "this team"), then up to `limit` peers.
    """
    teams = cells[cells["kind"] == "node"]
    me = teams[teams["cell_id"] == cell_id]
    if me.empty:
        return pd.DataFrame(columns=PEER_COLUMNS)
    me = me.iloc[0]
    related = set(lineage(cells, cell_id)) | set(subtree(cells, cell_id)["cell_id"])
    others = teams[~teams["cell_id"].isin(related)]
    parent = me["parent_cell"]
    siblings = others[others["parent_cell"].isna() if parent is None else others["parent_cell"].eq(parent)].copy()
    siblings["relation"] = "sibling team"
    siblings = siblings.sort_values("people", key=lambda s: (np.log(s / me["people"])).abs(), kind="stable")
    chosen = siblings.head(limit)
    if len(siblings) < MIN_SIBLINGS:
        level = others[(others["level"] == me["level"]) & ~others["cell_id"].isin(siblings["cell_id"])].copy()
        ratio = np.log(level["people"] / me["people"]).abs()
        level = level[ratio <= np.log(SIZE_RATIO)].assign(_d=ratio).sort_values(["_d", "cell_id"])
        level["relation"] = "same level, similar size"
        chosen = pd.concat([chosen, level.drop(columns="_d")]).head(limit)
    out = pd.concat([me.to_frame().T.assign(relation="this team"), chosen], ignore_index=True)
    return out[PEER_COLUMNS].reset_index(drop=True)
