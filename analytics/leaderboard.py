"""Raw and quality-adjusted leaderboards, and the decoupling monitor.

Quality-adjusted tokens count the tokens that produced outcomes fully and padding not at all:

1. Suspected inflation is removed: every token of a flagged person's suspect weeks except declared
   automation (the same tokens the Suspected inflation page puts at stake).
2. Cache reads count at `CACHE_WEIGHT` (a tenth): re-sending context is cheap to serve and is priced at
   about a tenth of fresh input, so a loop that re-sends it cannot climb the board on volume alone.
3. Tokens are discounted where the person's outcome yield (outcome units per million kept tokens, over
   every tool they use in the period that reports outcomes) is far below comparable peers' median:
   under `FAR_BELOW` of it, the tokens count in proportion (a yield at a sixth of the peer median
   counts half). Peers are people on the same main tool in the same role, falling back to the tool,
   then to everyone, when fewer than `MIN_PEERS` people with a yield are in the group. Yield and
   discount cover only use that outcomes can judge (tools that report outcomes); tokens in tools that
   report none are not discounted: missing is not zero. Outcomes of suspect weeks go with those weeks'
   tokens, which step 1 removed.

Every step only removes tokens, so adjusted tokens never exceed raw tokens.

Outcome units weigh the kinds of done work by how much each says about delivered work (`OUTCOME_WEIGHTS`):
an accepted edit 1, a review 3, a commit 5, a closed ticket 5, a merged pull request 20.

Privacy: nobody is ranked among fewer than k people (the viewer's scope sets k, `analytics/access.py`), teams
under k contributors are withheld with complementary ones, and people are shown by pseudonym unless the
viewer's role may see names.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analytics import privacy

OUTCOME_WEIGHTS = {"edit_accepted": 1.0, "review": 3.0, "commit": 5.0, "ticket_closed": 5.0, "pr_merged": 20.0}
CACHE_WEIGHT = 0.1
FAR_BELOW = 1 / 3
MIN_PEERS = 8
MIN_TOKENS_FOR_YIELD = 100_000  # below this a yield is noise: such people are neither judged nor peers

# Decoupling: an org's tokens grew by at least TOKENS_GROWTH over the last four complete weeks against the
# four before, while its outcome units grew by less than OUTCOME_SHARE of that growth (or fell).
DECOUPLING_WEEKS = 4
TOKENS_GROWTH = 0.10
OUTCOME_SHARE = 0.25

PEOPLE_COLUMNS = [
    "entity_id", "entity_name", "tokens", "adjusted_tokens", "rank_raw", "rank_adjusted", "flagged",
    "suspected_tokens", "scheduled_tokens", "kept_cache_read_tokens", "outcome_units", "yield_per_m",
    "peer_yield_per_m", "yield_factor", "peer_group", "team_id", "team_name", "org_name", "rank_shift",
]  # fmt: skip


@functools.lru_cache(maxsize=100_000)
def pseudonym(user_id: str, key: str) -> str:
    """A stable stand-in name that cannot be reversed without the key (a keyed hash, not a plain one)."""
    digest = hmac.new(key.encode(), str(user_id).encode(), hashlib.sha256).digest()
    return f"Person {base64.b32encode(digest[:5]).decode()}"  # 40 bits: collisions stay rare at 100k people


# the marts' outcome columns, by the kind of done work each counts
UNIT_COLUMNS = {
    "edits_accepted": "edit_accepted",
    "reviews": "review",
    "commits": "commit",
    "tickets_closed": "ticket_closed",
    "prs_merged": "pr_merged",
}


def outcome_units(frame: pd.DataFrame) -> pd.Series:
    """Outcome units of each row of a frame holding the marts' outcome columns (missing counts as none)."""
    return sum(frame[col].fillna(0) * OUTCOME_WEIGHTS[kind] for col, kind in UNIT_COLUMNS.items())


def query_params(start: date, end: date, tool: str | None, subtree: str | None) -> dict:
    w = OUTCOME_WEIGHTS
    return {
        "start": start, "end": end, "tool": tool or None, "subtree": subtree or None,
        "w_edit": w["edit_accepted"], "w_commit": w["commit"], "w_pr": w["pr_merged"], "w_review": w["review"],
        "w_ticket": w["ticket_closed"], "cache_weight": CACHE_WEIGHT, "far_below": FAR_BELOW,
        "min_peers": MIN_PEERS, "min_tokens": MIN_TOKENS_FOR_YIELD,
    }  # fmt: skip


def _id_order(ids: pd.Series) -> np.ndarray:
    """Each id's position among the ids in string order: the tie-break of both ranks, worked out once."""
    strings = ids.astype(str)
    if strings.is_monotonic_increasing:  # the query's order: no sort needed
        return np.arange(len(ids), dtype="int64")
    by_id = np.argsort(strings.to_numpy(dtype=str), kind="stable")
    position = np.empty(len(ids), dtype="int64")
    position[by_id] = np.arange(len(ids))
    return position


def _rank(values: pd.Series, ids: pd.Series, id_order: np.ndarray | None = None) -> pd.Series:
    """1 = most tokens; ties broken by id so ranks are stable and distinct (missing values rank last).
    `id_order`: _id_order(ids), when the caller ranks the same ids more than once."""
    position = _id_order(ids) if id_order is None else id_order
    # numbers sort in numpy (lexsort: last key first), never as Python objects
    order = np.lexsort((position, -values.to_numpy(dtype="float64", na_value=np.nan)))
    ranks = np.empty(len(values), dtype="int64")
    ranks[order] = np.arange(1, len(values) + 1)
    return pd.Series(ranks, index=values.index)


def _finish(board: pd.DataFrame) -> pd.DataFrame:
    board["adjusted_tokens"] = np.minimum(board["adjusted_tokens"].clip(lower=0), board["tokens"])
    id_order = _id_order(board["entity_id"])
    board["rank_raw"] = _rank(board["tokens"], board["entity_id"], id_order)
    board["rank_adjusted"] = _rank(board["adjusted_tokens"], board["entity_id"], id_order)
    board["rank_shift"] = board["rank_raw"] - board["rank_adjusted"]  # positive: climbed once adjusted
    return board.sort_values("rank_raw").reset_index(drop=True)


def people_board(raw: pd.DataFrame, *, key: str, show_names: bool) -> pd.DataFrame:
    """The person leaderboard from q_leaderboard_people: adjusted tokens, both ranks, display names."""
    if raw.empty:
        return pd.DataFrame(columns=PEOPLE_COLUMNS)
    board = raw.copy()
    board["entity_id"] = board["user_id"]
    board["entity_name"] = (
        board["display_name"].fillna(board["user_id"])
        if show_names
        else board["user_id"].map(lambda u: pseudonym(u, key))
    )
    board["adjusted_tokens"] = board["adjusted_tokens"].astype("float64")
    board["flagged"] = board["flagged"].fillna(False).astype(bool)
    board = _finish(board)
    return board[[c for c in PEOPLE_COLUMNS if c in board.columns]]


def team_board(people: pd.DataFrame, *, k: int) -> tuple[pd.DataFrame, int]:
    """Teams (people's own team) with at least k contributors, and how many teams were withheld (small ones, and
    the complementary ones `privacy.suppress_small_groups` holds back with them)."""
    columns = ["entity_id", "entity_name", "tokens", "adjusted_tokens", "rank_raw", "rank_adjusted", "flagged",
               "people", "suspected_people", "suspected_tokens", "scheduled_tokens", "outcome_units", "org_name",
               "rank_shift"]  # fmt: skip
    if people.empty:
        return pd.DataFrame(columns=columns), 0
    merged = people.dropna(subset=["team_id"])  # people without a team are on no team's row
    grouped = merged.groupby("team_id", sort=False).agg(
        entity_name=("team_name", "first"),
        org_name=("org_name", "first"),
        tokens=("tokens", "sum"),
        adjusted_tokens=("adjusted_tokens", "sum"),
        people=("entity_id", "nunique"),
        suspected_people=("flagged", "sum"),
        suspected_tokens=("suspected_tokens", "sum"),
        scheduled_tokens=("scheduled_tokens", "sum"),
        outcome_units=("outcome_units", "sum"),
    )
    grouped = grouped.reset_index().rename(columns={"team_id": "entity_id"})
    grouped["entity_name"] = grouped["entity_name"].fillna(grouped["entity_id"].astype(str))
    grouped["suspected_people"] = grouped["suspected_people"].astype(int)
    grouped["flagged"] = grouped["suspected_people"] > 0
    # small teams withheld, with complementary ones so the total minus the teams shown reveals no small team
    grouped, withheld = privacy.suppress_small_groups(grouped, size_col="people", k=k)
    if grouped.empty:
        return pd.DataFrame(columns=columns), withheld
    return _finish(grouped)[columns], withheld


def cells_board(cells: pd.DataFrame) -> pd.DataFrame:
    """The team board from the Org explorer's cells (analytics/org.py): the cells at the bottom of the shown tree,
    pooled "Other" cells included, so it groups people exactly as the explorer does for the same viewer."""
    columns = ["entity_id", "entity_name", "tokens", "adjusted_tokens", "rank_raw", "rank_adjusted", "flagged",
               "people", "suspected_people", "suspected_tokens", "org_name", "rank_shift"]  # fmt: skip
    if cells.empty:
        return pd.DataFrame(columns=columns)
    parents = set(cells["parent_cell"].dropna())
    labels = dict(zip(cells["cell_id"], cells["label"], strict=True))
    leaves = cells[~cells["cell_id"].isin(parents) & (cells["tokens"] > 0)].copy()
    board = pd.DataFrame(
        {
            "entity_id": leaves["cell_id"],
            "entity_name": leaves["label"],
            "tokens": leaves["tokens"].astype("float64"),
            "adjusted_tokens": leaves["adjusted_tokens"].astype("float64"),
            "people": leaves["people"].astype("int64"),
            "suspected_people": leaves["flagged_people"].astype("int64"),
            "suspected_tokens": leaves["suspected_tokens"],
            # where the cell sits: its parent team, so an "Other" cell says which team's others it holds
            "org_name": leaves["parent_cell"].map(labels).fillna(""),
        }
    )
    board["flagged"] = board["suspected_people"] > 0
    return _finish(board.reset_index(drop=True))[columns]


@dataclass(frozen=True)
class Headline:
    top: int
    kept: int  # of the raw top `top`, how many are still in the adjusted top `top`
    suspected_share: float  # share of the raw top's tokens that was suspected inflation
    raw_tokens: float
    adjusted_tokens: float


def headline(board: pd.DataFrame, top: int = 10) -> Headline | None:
    if board.empty:
        return None
    top = min(top, len(board))
    raw_top = board[board["rank_raw"] <= top]
    kept = int((raw_top["rank_adjusted"] <= top).sum())
    tokens = float(raw_top["tokens"].sum())
    share = float(raw_top["suspected_tokens"].sum()) / tokens if tokens else 0.0
    return Headline(top, kept, share, float(board["tokens"].sum()), float(board["adjusted_tokens"].sum()))


def slope_rows(board: pd.DataFrame, top: int) -> pd.DataFrame:
    """Whoever is in the raw or the adjusted top `top`, for the rank-shift chart."""
    if board.empty:
        return board
    return board[(board["rank_raw"] <= top) | (board["rank_adjusted"] <= top)].reset_index(drop=True)


def decoupling(weekly: pd.DataFrame, *, k: int, weeks: int = DECOUPLING_WEEKS) -> pd.DataFrame:
    """Per org: tokens growth against outcome growth, last `weeks` complete weeks against the `weeks` before.

    `weekly` has one row per org and complete week (org_id, org_name, week, people, tokens, outcome_units,
    measurable_share). Orgs with fewer than k people are left out; orgs whose use mostly cannot be judged by
    outcomes get no verdict (missing is not zero).
    """
    columns = ["org_id", "org_name", "people", "tokens_recent", "tokens_before", "tokens_growth",
               "outcomes_recent", "outcomes_before", "outcomes_growth", "measurable_share", "status"]  # fmt: skip
    if weekly.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for org_id, g in weekly.sort_values("week").groupby("org_id"):
        g = g.tail(2 * weeks)
        if len(g) < 2 * weeks or g["people"].min() < k:
            continue
        before, recent = g.head(weeks), g.tail(weeks)
        t0, t1 = float(before["tokens"].sum()), float(recent["tokens"].sum())
        o0, o1 = float(before["outcome_units"].sum()), float(recent["outcome_units"].sum())
        tokens_growth = t1 / t0 - 1 if t0 > 0 else np.nan
        # from no outcomes to some is growth without bound (a source connected midway), not a fall
        outcomes_growth = o1 / o0 - 1 if o0 > 0 else (np.inf if o1 > 0 else np.nan)
        measurable = float(recent["measurable_share"].mean())
        if measurable < 0.5:
            status = "unknown: outcomes mostly not reported"
        elif np.isnan(tokens_growth):
            status = "no usage before"
        elif np.isnan(outcomes_growth):
            status = "unknown: no outcomes in either period"
        elif tokens_growth >= TOKENS_GROWTH and outcomes_growth < OUTCOME_SHARE * tokens_growth:
            status = "decoupling"
        else:
            status = "in step"
        rows.append({
            "org_id": org_id, "org_name": g["org_name"].iloc[-1], "people": int(recent["people"].min()),
            "tokens_recent": t1, "tokens_before": t0, "tokens_growth": tokens_growth,
            "outcomes_recent": o1, "outcomes_before": o0, "outcomes_growth": outcomes_growth,
            "measurable_share": measurable, "status": status,
        })  # fmt: skip
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("tokens_recent", ascending=False).reset_index(drop=True)
