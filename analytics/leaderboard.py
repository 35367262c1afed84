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
import pyarrow as pa
import pyarrow.compute as pc

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


# Pseudonyms already worked out, per key: each key's ids (as Arrow text) and their names. A board of 56,000
# people then finds its names in a few milliseconds (Arrow's hash lookup), instead of hashing, or looking up a
# cache, once per row in Python (30 ms). Only the latest keys are kept.
_PSEUDONYMS: dict[str, tuple[pa.Array, pa.Array]] = {}
_PSEUDONYM_KEYS_KEPT = 4


def pseudonyms(ids: pd.Series, key: str) -> pd.Series:
    """pseudonym(id, key) of each id, as text."""
    wanted = pa.array(ids, type=pa.string())
    known, names = _PSEUDONYMS.get(key) or (pa.array([], type=pa.string()), pa.array([], type=pa.string()))
    position = pc.index_in(wanted, value_set=known)
    if position.null_count:
        new = pc.unique(wanted.filter(position.is_null()))
        known = pa.concat_arrays([known, new])
        names = pa.concat_arrays([names, pa.array([pseudonym(u, key) for u in new.to_pylist()], type=pa.string())])
        if key not in _PSEUDONYMS and len(_PSEUDONYMS) >= _PSEUDONYM_KEYS_KEPT:
            _PSEUDONYMS.clear()
        _PSEUDONYMS[key] = (known, names)  # replaced whole: a reader on another thread sees old or new, never half
        position = pc.index_in(wanted, value_set=known)
    return pd.Series(names.take(position), index=ids.index, dtype="str", name=ids.name)


def people_board(raw: pd.DataFrame, *, key: str, show_names: bool) -> pd.DataFrame:
    """The person leaderboard from q_leaderboard_people: adjusted tokens, both ranks, display names. A board that
    is ranked already (the stored company board, q_period_board) is kept in its order and ranks."""
    if raw.empty:
        return pd.DataFrame(columns=PEOPLE_COLUMNS)
    # a shallow copy: pandas copies on write, so the columns set below never reach `raw` (a deep copy of the
    # company's 56,000 people and 21 columns cost 15 ms of the admin's board)
    board = raw.copy(deep=False)
    board["entity_id"] = board["user_id"]
    board["entity_name"] = (
        board["display_name"].fillna(board["user_id"]) if show_names else pseudonyms(board["user_id"], key)
    )
    board["adjusted_tokens"] = board["adjusted_tokens"].astype("float64")
    board["flagged"] = board["flagged"].fillna(False).astype(bool)
    if "rank_raw" not in board.columns:
        board = _finish(board)
    elif not board["rank_raw"].is_monotonic_increasing:
        board = board.sort_values("rank_raw").reset_index(drop=True)
    return board[[c for c in PEOPLE_COLUMNS if c in board.columns]]


def totals(raw: pd.DataFrame) -> tuple[float, float]:
    """Raw and quality-adjusted tokens of a q_leaderboard_people result, summed as people_board's board sums them
    (adjusted tokens kept within [0, tokens]), without ranking or naming anyone."""
    if raw.empty:
        return 0.0, 0.0
    adjusted = np.minimum(raw["adjusted_tokens"].astype("float64").clip(lower=0), raw["tokens"])
    return float(raw["tokens"].sum()), float(adjusted.sum())


# team_sums' columns: one row per team, before any team is withheld or ranked
TEAM_SUM_COLUMNS = ["entity_id", "entity_name", "org_name", "tokens", "adjusted_tokens", "suspected_people",
                    "suspected_tokens", "scheduled_tokens", "outcome_units", "people"]  # fmt: skip


def team_sums(people: pd.DataFrame) -> pd.DataFrame:
    """Each team's sums of a people board (people's own team; people without one on no team's row), teams in the
    order their first person appears on the board: TEAM_SUM_COLUMNS, names the first present of each team's people.
    The refresh keeps these of the company's default board (mart_period_team, Warehouse.leaderboard_teams)."""
    merged = people.dropna(subset=["team_id"])  # people without a team are on no team's row
    # one groupby, each kind of aggregate over all its columns at once (a named aggregation per column costs
    # several times as much on a board of 56,000 people)
    by_team = merged.groupby("team_id", sort=False)
    grouped = by_team[["team_name", "org_name"]].first().rename(columns={"team_name": "entity_name"})
    sums = by_team[["tokens", "adjusted_tokens", "flagged", "suspected_tokens", "scheduled_tokens", "outcome_units"]]
    grouped = grouped.join(sums.sum().rename(columns={"flagged": "suspected_people"}))
    # a board has one row per person: its rows per team are its people (counted distinct only if not)
    grouped["people"] = by_team.size() if merged["entity_id"].is_unique else by_team["entity_id"].nunique()
    return grouped.reset_index().rename(columns={"team_id": "entity_id"})[TEAM_SUM_COLUMNS]


def team_board(people: pd.DataFrame, *, k: int, sums: pd.DataFrame | None = None) -> tuple[pd.DataFrame, int]:
    """Teams (people's own team) with at least k contributors, and how many teams were withheld (small ones, and
    the complementary ones `privacy.suppress_small_groups` holds back with them). `sums`: team_sums(people) when
    the caller has them already (the refresh's, for the company's default board); summed here when None."""
    columns = ["entity_id", "entity_name", "tokens", "adjusted_tokens", "rank_raw", "rank_adjusted", "flagged",
               "people", "suspected_people", "suspected_tokens", "scheduled_tokens", "outcome_units", "org_name",
               "rank_shift"]  # fmt: skip
    if people.empty:
        return pd.DataFrame(columns=columns), 0
    grouped = team_sums(people) if sums is None else sums.copy()
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
    # plain arrays, one slice per org (pandas per org costs milliseconds each); sums as float(Series.sum()) gave
    ordered = weekly.dropna(subset=["org_id"]).sort_values("week")  # groupby leaves rows of no org out
    orgs = ordered["org_id"].to_numpy(dtype=object)
    by_org = np.argsort(orgs, kind="stable")  # each org's rows together, in week order
    org_ids, starts = np.unique(orgs[by_org], return_index=True)
    ends = np.append(starts[1:], len(by_org))
    names = ordered["org_name"].to_numpy(dtype=object)[by_org]
    people = ordered["people"].to_numpy()[by_org]
    tokens = ordered["tokens"].to_numpy(dtype="float64")[by_org]
    units = ordered["outcome_units"].to_numpy(dtype="float64")[by_org]
    shares = ordered["measurable_share"].to_numpy(dtype="float64")[by_org]
    rows = []
    for org_id, lo, hi in zip(org_ids, starts, ends, strict=True):
        lo = max(lo, hi - 2 * weeks)
        if hi - lo < 2 * weeks or people[lo:hi].min() < k:
            continue
        mid = hi - weeks
        t0, t1 = float(tokens[lo:mid].sum()), float(tokens[mid:hi].sum())
        o0, o1 = float(units[lo:mid].sum()), float(units[mid:hi].sum())
        tokens_growth = t1 / t0 - 1 if t0 > 0 else np.nan
        # from no outcomes to some is growth without bound (a source connected midway), not a fall
        outcomes_growth = o1 / o0 - 1 if o0 > 0 else (np.inf if o1 > 0 else np.nan)
        measurable = float(shares[mid:hi].mean())
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
        rows.append((
            org_id, names[hi - 1], int(people[mid:hi].min()), t1, t0, tokens_growth, o1, o0, outcomes_growth,
            measurable, status,
        ))  # fmt: skip
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("tokens_recent", ascending=False).reset_index(drop=True)
