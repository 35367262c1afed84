"""Leaderboards: the raw token scoreboard next to the quality-adjusted one, and who moves between them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from analytics import charts
from analytics import leaderboard as lb
from analytics.queries import last_complete_week
from pages import overview
from pages._shared.text import md

PERIODS = ("Sidebar date range", "Last 4 complete weeks", "Last 13 complete weeks")
ALL_TOOLS = "All tools"
WHOLE_COMPANY = "Whole company"


def period_span(choice: str, sidebar: tuple[date, date], bounds: tuple[date, date]) -> tuple[date, date]:
    """The days a period choice covers; complete-week periods end on the last Sunday the data reaches."""
    if choice == PERIODS[0]:
        return sidebar
    weeks = 4 if choice == PERIODS[1] else 13
    monday = last_complete_week(bounds)
    return max(bounds[0], monday - timedelta(weeks=weeks - 1)), min(bounds[1], monday + timedelta(days=6))


def definitions() -> str:
    w = lb.OUTCOME_WEIGHTS
    return (
        "**Raw tokens**: every token processed (input + output + cache read + cache write), what a token "
        "scoreboard counts.\n\n"
        "**Quality-adjusted tokens** count tokens that produced outcomes fully and padding not at all:\n"
        "1. **Suspected inflation is removed**: every token of a suspected person's suspect weeks, except "
        "declared automation (see *Suspected inflation*).\n"
        f"2. **Cache reads count at {lb.CACHE_WEIGHT:.0%}**: re-sent context is cheap to serve and priced at "
        "about a tenth of fresh input, so a loop that re-sends it cannot climb on volume.\n"
        "3. **Outcome yield far below peers is discounted**: tokens count in full up to "
        f"{1 / lb.FAR_BELOW:.0f}× what comparable peers spend for the same outcomes (yield under "
        f"{lb.FAR_BELOW:.0%} of the peer median); beyond that, only the part the outcomes justify. Peers: "
        "the same main tool and role (title without seniority), else the same tool, else everyone, with at "
        f"least {lb.MIN_PEERS} people. Yield is judged on the person's whole use in the period (every tool "
        "that reports outcomes). "
        "Only use that outcomes can judge is discounted: tokens in tools that report no outcomes count as "
        "they are (missing is not zero). Outcomes of suspect weeks go with their removed tokens.\n\n"
        "Each step only removes tokens: adjusted tokens never exceed raw tokens.\n\n"
        f"**Outcome units**: accepted edit {w['edit_accepted']:g}, review {w['review']:g}, commit "
        f"{w['commit']:g}, closed ticket {w['ticket_closed']:g}, merged pull request {w['pr_merged']:g}.\n\n"
        "**Periods** cover whole weeks (Monday to Sunday) overlapping the chosen days, as suspect weeks do."
    )


def filters(loaders) -> tuple[str, str | None, str | None, int]:
    options = loaders.leaderboard_filters()
    tools = options.loc[options["kind"] == "tool", "id"].tolist()
    teams = options[options["kind"] == "team"]
    team_labels = dict(zip(teams["id"], teams["label"], strict=True))
    everyone = WHOLE_COMPANY if loaders.scope.company else "All of your teams"
    cols = st.columns([1.2, 1, 2, 0.8])
    period = cols[0].selectbox(
        "Period",
        PERIODS,
        key="lb_period",
        help="The sidebar's date range, or the most recent complete weeks of data.",
    )
    tool = cols[1].selectbox(
        "Tool",
        [ALL_TOOLS, *tools],
        key="lb_tool",
        help="Count only this tool's tokens. Outcome yield is still judged on all of a person's use.",
    )
    if loaders.scope.individuals:
        subtree = cols[2].selectbox(
            "Org subtree",
            [WHOLE_COMPANY, *team_labels],
            key="lb_subtree",
            format_func=lambda t: everyone if t == WHOLE_COMPANY else team_labels.get(t, t),
            help="Only people in this team and every team below it. Type to search. The list holds the teams your "
            "role may see.",
        )
    else:
        # Two subtrees' boards differ by the people between them (a manager alone in their own team, say): for
        # a role that sees pseudonyms and groups of k, boards cover the whole company; the Org explorer has teams.
        subtree = WHOLE_COMPANY
        cols[2].caption("Whole company. Teams are on the Teams tab, as the Org explorer groups them.")
    top = cols[3].selectbox("Top", (10, 20, 50), key="lb_top", help="How many places the boards and chart show.")
    return period, (None if tool == ALL_TOOLS else tool), (None if subtree == WHOLE_COMPANY else subtree), top


def main(
    loaders,
    sidebar: tuple[date, date],
    bounds: tuple[date, date],
    audit: Callable[[str], bool] | None = None,
) -> None:
    """The boards for the loaders' scope; `audit(subject)` records the view of individual rows first (and
    returns False when it could not, so nothing individual is shown)."""
    head = st.columns([3, 1])
    head[0].title("Leaderboards")
    with head[1].popover("How boards are adjusted", icon=":material/help:"):
        st.markdown(definitions())

    period, tool, subtree, top = filters(loaders)
    start, end = period_span(period, sidebar, bounds)
    st.caption(f"Weeks overlapping {start:%d %b %Y} – {end:%d %b %Y}" + (f" · tool: {md(tool)}" if tool else ""))

    raw = loaders.leaderboard_people(start, end, tool, subtree)
    k, named = loaders.scope.k, loaders.scope.named
    if raw.empty:
        st.info("Nobody used AI tools in this selection. Widen the period, or choose another tool or org.")
        return
    if len(raw) < k:
        st.info(
            f"Fewer than {k} people used AI tools in this selection. Nobody is ranked among fewer than {k} "
            "people, to protect individuals: widen the org subtree or the period."
        )
        return
    if audit is not None and not audit(f"people board of {subtree or 'the whole scope'}"):
        return
    people = lb.people_board(raw, key=loaders.pseudonym_key(), show_names=named)
    if loaders.scope.individuals:
        # the company's default board has its team sums stored (None otherwise: team_board sums the people)
        teams, withheld = lb.team_board(people, k=k, sums=loaders.leaderboard_teams(start, end, tool, subtree))
    else:
        # the Org explorer's own cells (small teams pooled, with their complements), so no page shows a group
        # that another pooled: the same people, all tools
        teams, withheld = lb.cells_board(loaders.org_tree(start, end)), None

    headline_section(lb.headline(people, top))
    tab_people, tab_teams = st.tabs(["People", "Teams"])
    with tab_people:
        people_section(people, raw, top, k, named)
    with tab_teams:
        teams_section(teams, top, withheld, k)


def headline_section(head: lb.Headline | None) -> None:
    if head is None:
        return
    cols = st.columns(4)
    cols[0].metric(
        f"Raw top {head.top} kept",
        f"{head.kept} of {head.top}",
        help="How many of the people the token scoreboard ranks highest keep their place once padding is taken out.",
    )
    cols[1].metric(
        f"Inflation in raw top {head.top}",
        f"{head.suspected_share:.0%}",
        help=f"Share of the raw top {head.top}'s tokens that fell in suspect weeks.",
    )
    cols[2].metric("Raw tokens", overview.short_number(head.raw_tokens), help="Everyone in this selection.")
    share = head.adjusted_tokens / head.raw_tokens if head.raw_tokens else 0
    cols[3].metric(
        "Quality-adjusted tokens",
        overview.short_number(head.adjusted_tokens),
        help=f"{share:.0%} of the raw tokens. See *How boards are adjusted*.",
    )
    st.markdown(
        f"**{head.kept} of the raw top {head.top}** {'is' if head.kept == 1 else 'are'} still in the adjusted "
        f"top {head.top}; **{head.suspected_share:.0%}** of the raw top {head.top}'s tokens was suspected "
        "inflation."
    )


def _marks(board: pd.DataFrame) -> pd.Series:
    automation = board.get("scheduled_tokens", pd.Series(0, index=board.index)).fillna(0) > 0
    flagged = board["flagged"].astype(bool)
    return pd.Series(
        [
            ", ".join(m for m, on in (("suspected", f), ("automation", a)) if on)
            for f, a in zip(flagged, automation, strict=True)
        ],
        index=board.index,
    )


def people_section(people: pd.DataFrame, raw: pd.DataFrame, top: int, k: int, named: bool) -> None:
    shown = people.copy()
    # A team name next to a pseudonym would single out members of a small team.
    team_size = raw.groupby("team_id")["user_id"].transform("nunique")
    small = dict(zip(raw["user_id"], team_size < k, strict=True))
    shown["team"] = [
        "(small team)" if small.get(e, True) else t for e, t in zip(shown["entity_id"], shown["team_name"], strict=True)
    ]
    shown["marks"] = _marks(shown)
    boards(shown, top, "person", extra=["team"])
    st.plotly_chart(charts.rank_slope(lb.slope_rows(shown, top), top), key="people_slope")
    st.download_button(
        "Download the people board (CSV)",
        people_export(shown, top, names=named).to_csv(index=False).encode(),
        file_name="leaderboard-people.csv",
        mime="text/csv",
        help="The people shown on either board, with both ranks.",
        key="people_csv",
    )
    if not named:
        st.caption(
            "People appear under pseudonyms (stable for this database): your role sees aggregates and pseudonyms, "
            "and names only inside a management line."
        )


EXPORT_COLUMNS = ["rank_raw", "entity_name", "tokens", "rank_adjusted", "adjusted_tokens", "rank_shift", "marks"]


def people_export(shown: pd.DataFrame, top: int, *, names: bool) -> pd.DataFrame:
    """What the CSV holds: the rows shown (either top), with the columns shown. Pseudonymous exports carry nothing
    that narrows a pseudonym down (no user id, role, org, or small team's name); with names, also the parts
    of the adjustment."""
    rows = lb.slope_rows(shown, top)
    if names:
        return rows.drop(columns=[c for c in ("team_name",) if c in rows.columns])
    return rows[[*EXPORT_COLUMNS, "team"]]


def teams_section(teams: pd.DataFrame, top: int, withheld: int | None, k: int) -> None:
    if withheld is None:
        st.caption(
            "Teams as the Org explorer groups them, over all tools: a team of fewer than "
            f"{k} people using AI, and what would give it away, is pooled into an “Other” cell under its parent."
        )
    if teams.empty:
        st.info(f"No team in this selection has at least {k} people using AI tools, so none is ranked.")
        return
    shown = teams.copy()
    shown["marks"] = [f"{n} suspected" if n else "" for n in shown["suspected_people"]]  # how many, never who
    boards(shown, top, "team", extra=["org_name", "people"])
    st.plotly_chart(charts.rank_slope(lb.slope_rows(shown, top), top), key="teams_slope")
    st.download_button(
        "Download the team board (CSV)",
        lb.slope_rows(shown, top).to_csv(index=False).encode(),
        file_name="leaderboard-teams.csv",
        mime="text/csv",
        help="The teams shown on either board, with both ranks and their parts.",
        key="teams_csv",
    )
    if withheld:
        st.caption(
            f"{withheld} team(s) are not ranked: fewer than {k} people use AI tools in each, or they are held back "
            "so that the total minus the teams shown does not reveal a smaller one."
        )


def boards(shown: pd.DataFrame, top: int, level: str, extra: list[str]) -> None:
    """The raw and the adjusted board, side by side."""
    noun = "Person" if level == "person" else "Team"
    config = {
        "rank_raw": st.column_config.NumberColumn("Raw #", format="%d", width="small"),
        "rank_adjusted": st.column_config.NumberColumn("Adj. #", format="%d", width="small"),
        "entity_name": st.column_config.TextColumn(noun),
        "tokens": st.column_config.NumberColumn("Tokens", format="compact"),
        "adjusted_tokens": st.column_config.NumberColumn("Adjusted", format="compact"),
        "rank_shift": st.column_config.NumberColumn(
            "Shift", format="%+d", help="Places gained (+) or lost (−) once adjusted", width="small"
        ),
        "marks": st.column_config.TextColumn(
            "Marks", help="suspected: suspect weeks in the period; automation: declared (scheduled) jobs"
        ),
        "team": st.column_config.TextColumn("Team"),
        "org_name": st.column_config.TextColumn("Org"),
        "people": st.column_config.NumberColumn("People", format="%d", width="small"),
    }
    sides = (
        ("Raw token scoreboard", "raw", ["rank_raw", "entity_name", "tokens", "rank_adjusted"]),
        ("Quality-adjusted", "adjusted", ["rank_adjusted", "entity_name", "adjusted_tokens", "rank_shift"]),
    )
    for column, (title, board, columns) in zip(st.columns(2), sides, strict=True):
        with column:
            st.subheader(title)
            st.dataframe(
                shown.sort_values(columns[0]).head(top)[[*columns, "marks", *extra]],
                hide_index=True,
                column_config=config,
                key=f"{level}_{board}_board",
            )


def page(view) -> None:
    """Entry point for st.navigation: the viewer's loaders from the router, the shared filters via session state."""
    main(
        view.loaders,
        st.session_state["goodhart.range"],
        st.session_state["goodhart.bounds"],
        audit=lambda subject: view.audit("Leaderboards", subject),
    )
