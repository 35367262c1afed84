"""Small-group protection: no aggregate over fewer than k people is shown outside its own line.

Hiding a small group is not enough when its total can be worked out: a parent total minus the
groups shown beside it would reveal what was hidden. So when the hidden groups together hold fewer
than k people, the smallest shown groups are hidden with them (complementary suppression) until
what is hidden holds at least k people, and can be shown as one pooled row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_K = 5


def suppress_small_groups(
    frame: pd.DataFrame,
    *,
    size_col: str = "headcount",
    k: int = DEFAULT_K,
    complement: bool = True,
    value_col: str | None = None,
    overlapping: bool = False,
) -> tuple[pd.DataFrame, int]:
    """Rows whose group has at least k people, and how many rows were withheld.

    With `complement` (the default, for groups whose total is shown or known elsewhere), the smallest
    shown groups are withheld too until the total minus the rows shown cannot single out fewer than k
    people: the withheld groups hold at least k people together, or nothing at all. A withheld group of
    no people still counts when its `value_col` (the figure the total adds up) is not zero: its value
    came from someone. With `overlapping` (groups that can share people, such as the tools people use),
    sizes cannot be added up, so the withheld pool must hold one group of at least k people itself.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    sizes = frame[size_col].fillna(0)
    keep = sizes >= k
    values = frame[value_col].fillna(0).abs() if value_col else pd.Series(0, index=frame.index)

    def revealing() -> bool:
        hidden = ~keep
        if not (sizes[hidden].sum() > 0 or values[hidden].sum() > 0):
            return False  # nothing withheld, or groups of nobody with nothing in them
        if overlapping:
            return not (sizes[hidden] >= k).any()
        return sizes[hidden].sum() < k

    if complement:
        # the smallest shown groups join the withheld ones until the pool is safe to subtract
        for index in sizes[keep].sort_values(kind="stable").index:
            if not revealing():
                break
            keep[index] = False
    return frame[keep].reset_index(drop=True), int((~keep).sum())


# -- org trees -------------------------------------------------------------------------------------------

TOP = None  # parent_cell of the cells at the top of a tree (the whole view, whose total is treated as known)


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
    ids = nodes[id_col]
    # ids as Python objects, once: pandas hashes them several times faster than Arrow-backed text
    index = pd.Index(ids.to_numpy(dtype=object))
    if index.hasnans or not index.is_unique:
        raise ValueError(f"`{id_col}` must be unique and never missing")
    if (nodes[size_col].fillna(0) < 0).any():
        raise ValueError(f"`{size_col}` cannot be negative")
    values = [size_col, *sum_cols]
    columns = ["cell_id", "parent_cell", "node_id", "kind", "level", *values, "pooled_nodes", "pooled_direct"]
    n = len(nodes)
    # Whole arrays, not a walk node by node (7,000 teams took 0.1 s): every sum below adds the same numbers in
    # the same order as adding them up the tree one node at a time would, so floats come out to the last bit.
    # -1: a root (no parent, or one that is not a node)
    parent = index.get_indexer(nodes[parent_col].to_numpy(dtype=object))
    parent[parent == np.arange(n)] = -1
    depth = _depths(parent)
    levels = [np.flatnonzero(depth == level) for level in range(int(depth.max(initial=0)) + 1)]
    direct = [_summable(nodes[c]) for c in values]
    total = [d.copy() for d in direct]
    for members in levels[:0:-1]:  # deepest first: a node's subtree is whole before it joins its parent's
        for t in total:
            np.add.at(t, parent[members], t[members])  # children in their order in `nodes`, one after another

    # Each node places its children (and the whole view, group n, the roots): children with people and under k,
    # and its own direct members, pool; when that pool holds 1..k-1 people, the smallest child of k or more
    # (by people, then id as text) joins it, which lifts it to k: one child is always enough.
    group = np.where(parent >= 0, parent, n)
    size = total[0]
    candidate = size >= k
    small = np.flatnonzero((size > 0) & ~candidate)
    pool = [np.concatenate([d, np.zeros(1, dtype=d.dtype)]) for d in direct]
    for p, t in zip(pool, total, strict=True):
        np.add.at(p, group[small], t[small])
    pooled = np.bincount(group[small], minlength=n + 1)
    text = text_rank(ids) if candidate.any() else np.zeros(n, dtype="int64")
    shown = candidate.copy()
    ranked = np.flatnonzero(candidate)
    ranked = ranked[np.lexsort((text[ranked], size[ranked], group[ranked]))]
    smallest = ranked[np.r_[True, group[ranked][1:] != group[ranked][:-1]]] if len(ranked) else ranked
    short = pool[0][group[smallest]]
    taken = smallest[(short > 0) & (short < k)]
    for p, t in zip(pool, total, strict=True):
        np.add.at(p, group[taken], t[taken])
    pooled[group[taken]] += 1
    shown[taken] = False
    # A node none of whose children is shown is one cell with nothing below it (its children would only split a
    # small remainder); the whole view shows nothing when it holds fewer than k people and no child is shown.
    opens = np.bincount(group[shown], minlength=n + 1) > 0
    opens[n] |= pool[0][n] >= k
    for members in levels[1:]:  # a node is shown when its parent is
        shown[members] &= shown[parent[members]]
    opens[:n] &= shown
    pool_cell = opens & (pool[0] > 0)

    # Order: each shown node followed by its shown children (most people first, then id as text) and their cells,
    # then its pool: a node's position is its parent's plus 1 plus the cells of the siblings before it.
    cells_below = shown.astype("int64") + pool_cell[:n]
    for members in levels[:0:-1]:
        members = members[shown[members]]
        np.add.at(cells_below, parent[members], cells_below[members])
    siblings = np.flatnonzero(shown)
    siblings = siblings[np.lexsort((text[siblings], -size[siblings], group[siblings]))]
    before = np.cumsum(cells_below[siblings]) - cells_below[siblings]
    first = np.r_[True, group[siblings][1:] != group[siblings][:-1]] if len(siblings) else np.zeros(0, dtype=bool)
    before -= np.maximum.accumulate(np.where(first, before, 0)) if len(siblings) else 0
    offset = np.zeros(n, dtype="int64")
    offset[siblings] = before
    kids = np.bincount(group[siblings], weights=cells_below[siblings], minlength=n + 1).astype("int64")
    position = np.zeros(n, dtype="int64")
    for level, members in enumerate(levels):
        members = members[shown[members]]
        position[members] = offset[members] + (position[parent[members]] + 1 if level else 0)
    start = np.r_[position + 1, 0]
    pools = np.flatnonzero(pool_cell)
    nodes_shown = np.flatnonzero(shown)
    if not len(nodes_shown) and not len(pools):
        return pd.DataFrame([], columns=columns)

    # text as arrays of Python objects, picked by position (a loop in Python per cell took 5 ms for 9,000 cells);
    # handed over as lists, so pandas gives the columns the types it always has
    names = np.append(index.to_numpy(), None)
    texts = names[:n].tolist() if pd.api.types.is_string_dtype(ids) else [str(i) for i in names[:n].tolist()]
    tag = np.array(texts + [""], dtype=object)
    node_cell = np.append("n:" + tag[:n], None)  # position n (the whole view) is no cell
    top = pools == n
    out = pd.DataFrame(
        {
            "cell_id": ("n:" + tag[nodes_shown]).tolist() + ("p:" + tag[pools]).tolist(),
            "parent_cell": node_cell[np.where(parent[nodes_shown] >= 0, parent[nodes_shown], n)].tolist()
            + node_cell[pools].tolist(),
            "node_id": names[nodes_shown].tolist() + [None] * len(pools),
            "kind": ["node"] * len(nodes_shown) + ["pool"] * len(pools),
            "level": np.r_[depth[nodes_shown], np.where(top, 0, np.r_[depth, 0][pools] + 1)].astype("int64"),
            **{c: np.r_[t[nodes_shown], p[pools]] for c, t, p in zip(values, total, pool, strict=True)},
            "pooled_nodes": np.r_[np.zeros(len(nodes_shown), dtype="int64"), pooled[pools]],
            "pooled_direct": np.r_[
                np.zeros(len(nodes_shown), dtype=bool), ~top & (direct[0][np.minimum(pools, n - 1)] > 0)
            ],
        }
    )
    order = np.argsort(np.r_[position[nodes_shown], start[pools] + kids[pools]], kind="stable")
    out = out.take(order).reset_index(drop=True)
    for c in values:  # keep the input's dtypes (integer people and tokens stay integers)
        out[c] = out[c].astype(nodes[c].dtype if not nodes[c].isna().any() else "float64")
    return out


def _summable(column: pd.Series) -> np.ndarray:
    """A column as the numbers its sums are kept in: 64-bit integers for integers and booleans with nothing
    missing, else floats with missing as 0."""
    if (pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column)) and not column.isna().any():
        return column.to_numpy(dtype="int64")
    return np.nan_to_num(column.to_numpy(dtype="float64", na_value=np.nan), nan=0.0)


def _depths(parent: np.ndarray) -> np.ndarray:
    """Each node's steps from its root (parent -1), by pointer jumping: log2(n) rounds of whole arrays."""
    depth = (parent >= 0).astype("int64")
    up = parent.copy()
    for _ in range(len(parent).bit_length() + 1):
        climbing = np.flatnonzero(up >= 0)
        if not len(climbing):
            return depth
        depth[climbing] += depth[up[climbing]]
        up[climbing] = up[up[climbing]]
    raise ValueError("the tree has a cycle: some nodes are their own ancestors")


def text_rank(ids: pd.Series) -> np.ndarray:
    """Each id's position among the ids ordered as text (str(id), by code point, as Python and pandas sort it)."""
    if pd.api.types.is_string_dtype(ids) and not ids.isna().any():
        order = pc.sort_indices(pa.array(ids, from_pandas=True)).to_numpy()  # UTF-8 bytes sort as code points
    else:
        order = np.argsort(np.array([str(i) for i in ids.tolist()], dtype=str), kind="stable")
    rank = np.empty(len(order), dtype="int64")
    rank[order] = np.arange(len(order))
    return rank
