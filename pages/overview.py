"""Overview for leadership: is adoption real, and what does it cost?"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import charts, leaderboard
from analytics.privacy import suppress_small_groups
from pages._shared import data
from pages._shared.text import md


def main(loaders: data.Loaders, start, end) -> None:
    st.title("Overview")
    st.caption(f"Weeks overlapping {start:%d %b %Y} – {end:%d %b %Y}")

    weekly = loaders.weekly_adoption(start, end)
    usage = loaders.weekly_usage_by_tool(start, end)
    if weekly.empty or weekly["headcount"].sum() == 0:
        st.info(
            "No people are on the headcount in this range. Widen the date range in the sidebar, "
            "or load a `people` file with `python -m analytics ingest`."
        )
        return

    # Weeks the data covers only in part (its first and the one in progress) would look like drops.
    first_day, last_day = st.session_state["goodhart.bounds"]
    full = complete_weeks(weekly, first_day, last_day)
    if 0 < len(full) < len(weekly):
        dropped = sorted(set(weekly["week"]) - set(full["week"]))
        st.caption(
            "Left out as the data covers them only in part: week(s) of "
            + ", ".join(f"{pd.Timestamp(w):%d %b}" for w in dropped)
            + "."
        )
        weekly = full
        usage = usage[usage["week"].isin(full["week"])]
    latest = weekly.iloc[-1]
    previous = weekly.iloc[-2] if len(weekly) > 1 else None
    headline(latest, previous, usage)

    st.plotly_chart(charts.adoption_over_time(weekly), key="adoption_chart")
    with st.expander("How these numbers are defined"):
        st.markdown(
            "- **Active (scoreboard)**: people on the headcount who used any AI tool that week — what a "
            "token or usage scoreboard counts.\n"
            "- **Real**: active people whose use that week is backed by outcomes (accepted edits, commits, "
            "pull requests opened or merged, reviews or closed tickets) and is not suspected inflation.\n"
            "- **Tokens**: every token processed — input + output + cache read + cache write.\n"
            "- **Cost**: the source's own cost when it reports one, else tokens priced from the price table "
            "(`python -m analytics prices`).\n"
            "- Weeks start on Monday; a person's activity is placed on their own local calendar day."
        )

    by_tool = pool_small_tools(usage, loaders.scope.k)
    left, right = st.tabs(["Tokens by tool", "Cost by tool"])
    with left:
        st.plotly_chart(charts.usage_by_tool(by_tool, "tokens"), key="tokens_chart")
    with right:
        st.plotly_chart(charts.usage_by_tool(by_tool, "cost_usd"), key="cost_chart")
    if (by_tool["tool"] == OTHER_TOOLS).any():
        st.caption(
            f"{OTHER_TOOLS}: in the weeks marked, tools fewer than {loaders.scope.k} people used are pooled, with the "
            "smallest tool above that size, so no week shows a small group's use."
        )
    split_section(loaders.token_split(start, end), set(weekly["week"]))
    adjusted_section(loaders, start, end)
    decoupling_section(loaders.decoupling_weeks(start, end), set(weekly["week"]), loaders.scope.k)

    orgs_section(loaders.org_comparison(start, end), loaders.scope.k)
    unattributed_note(loaders.unattributed_summary())


OTHER_TOOLS = "Other tools"


def pool_small_tools(usage: pd.DataFrame, k: int) -> pd.DataFrame:
    """Weekly use by tool with, each week, the tools fewer than k people used pooled into OTHER_TOOLS. The week's
    total is shown too, so the pool takes the smallest larger tool with it (tools share people, so the pool must
    hold one tool of k people itself): the total minus the tools shown never isolates a small group."""
    if usage.empty or k <= 1:
        return usage
    parts = []
    for _, week in usage.groupby("week", sort=True):
        shown, _ = suppress_small_groups(week, size_col="users", k=k, value_col="tokens", overlapping=True)
        pooled = week[~week["tool"].isin(shown["tool"])]
        parts.append(shown)
        if len(pooled):
            other = pooled.sum(numeric_only=True).to_frame().T.assign(week=pooled["week"].iloc[0], tool=OTHER_TOOLS)
            parts.append(other[week.columns])
    return pd.concat(parts, ignore_index=True)


def headline(latest: pd.Series, previous: pd.Series | None, usage: pd.DataFrame) -> None:
    week = pd.Timestamp(latest["week"])
    st.subheader(f"Week of {week:%d %b %Y}")
    cols = st.columns(5)
    cols[0].metric("Headcount", f"{int(latest['headcount']):,}", help="People employed during the week.")
    cols[1].metric(
        "Active (scoreboard)",
        f"{latest['active_share']:.0%}",
        delta=_delta(latest, previous, "active_share"),
        help=f"{int(latest['active']):,} people used any AI tool this week.",
    )
    cols[2].metric(
        "Real adoption",
        f"{latest['real_share']:.0%}",
        delta=_delta(latest, previous, "real_share"),
        help=f"{int(latest['real_active']):,} people whose use was backed by outcomes this week "
        "and is not suspected inflation.",
    )
    gap = latest["active_share"] - latest["real_share"]
    cols[3].metric(
        "Goodhart gap",
        f"{gap * 100:.0f} pts",
        help="Scoreboard adoption minus real adoption: activity that outcomes do not back.",
    )
    in_range = usage["tokens"].sum(), usage["cost_usd"].sum()
    cols[4].metric(
        "Tokens in range",
        short_number(in_range[0]),
        help=f"Every token processed in the weeks shown; cost ${in_range[1]:,.0f}.",
    )


def orgs_section(orgs: pd.DataFrame, k: int) -> None:
    st.subheader("Top-level orgs")
    visible, hidden = suppress_small_groups(orgs, k=k)
    if visible.empty:
        st.info(f"No org in this range can be shown without revealing a group under {k} people.")
        return
    st.plotly_chart(charts.org_comparison(visible), key="orgs_chart")
    st.dataframe(
        visible[
            [
                "org_name",
                "headcount",
                "active_share",
                "real_share",
                "tokens",
                "cost_usd",
                "real_outcomes",
                "tokens_per_real_outcome",
                "outcome_coverage",
            ]
        ],
        hide_index=True,
        column_config={
            "org_name": st.column_config.TextColumn("Org"),
            "headcount": st.column_config.NumberColumn(
                "Headcount", format="%d", help="Average per week", width="small"
            ),
            "active_share": st.column_config.ProgressColumn(
                "Active (scoreboard)", format="percent", min_value=0, max_value=1
            ),
            "real_share": st.column_config.ProgressColumn("Real", format="percent", min_value=0, max_value=1),
            "tokens": st.column_config.NumberColumn("Tokens", format="compact", width="small"),
            "cost_usd": st.column_config.NumberColumn("Cost", format="$%.0f", width="small"),
            "real_outcomes": st.column_config.NumberColumn(
                "Outcomes", format="compact", help="Accepted edits, commits, PRs, reviews, tickets"
            ),
            "tokens_per_real_outcome": st.column_config.NumberColumn(
                "Per outcome", format="compact", width="small", help="Tokens per outcome"
            ),
            "outcome_coverage": st.column_config.ProgressColumn(
                "Outcome coverage",
                format="percent",
                min_value=0,
                max_value=1,
                help="Share of the org's active people who use a tool that reports outcomes at all. Use of "
                "a tool that reports none can never count as real: low coverage means missing data, not idle "
                "people.",
            ),
        },
    )
    thin = visible[visible["outcome_coverage"].fillna(0) < 0.5]
    if len(thin):
        st.caption(
            f"In {len(thin)} org(s) most active people use only tools that report no outcomes, so their real "
            "adoption cannot be told from the data (missing is not zero): "
            + ", ".join(str(n).replace("*", "\\*").replace("_", "\\_") for n in thin["org_name"])
            + "."
        )
    if hidden:
        st.caption(
            f"{hidden} org(s) are not shown: each has fewer than {k} people, or is held back so that the company "
            "total minus the orgs shown does not reveal a smaller one."
        )


def split_section(split: pd.DataFrame, weeks: set) -> None:
    """Tokens and cost split into genuine use, suspected inflation and declared automation."""
    split = split[split["week"].isin(weeks)]
    st.subheader("Genuine, suspected, automated")
    if split.empty:
        st.info("No usage in these weeks.")
        return
    totals = split.drop(columns="week").sum()
    tokens = totals[["genuine_tokens", "suspected_tokens", "automation_tokens"]].sum()
    cost = totals[["genuine_cost_usd", "suspected_cost_usd", "automation_cost_usd"]].sum()
    cols = st.columns(3)
    for col, part, label in (
        (cols[0], "genuine", "Genuine"),
        (cols[1], "suspected", "Suspected inflation"),
        (cols[2], "automation", "Declared automation"),
    ):
        share = totals[f"{part}_tokens"] / tokens if tokens else 0
        col.metric(
            f"{label}: share of tokens",
            f"{share:.0%}",
            help=f"{short_number(totals[f'{part}_tokens'])} tokens, ${totals[f'{part}_cost_usd']:,.0f} "
            f"of ${cost:,.0f} in these weeks.",
        )
    left, right = st.tabs(["Tokens", "Cost"])
    with left:
        st.plotly_chart(charts.token_split(split, "tokens"), key="split_tokens_chart")
    with right:
        st.plotly_chart(charts.token_split(split, "cost_usd"), key="split_cost_chart")
    st.caption(
        "Suspected inflation: all tokens of a suspected person in their suspect weeks (see *Suspected "
        "inflation*). Declared automation: scheduled jobs, counted apart and never suspected."
    )


def adjusted_section(loaders: data.Loaders, start, end) -> None:
    """Raw against quality-adjusted token totals (definitions on the Leaderboards page)."""
    board = loaders.leaderboard_totals(start, end, None, None)  # the board's sums only, not its rows
    if not board["people"]:
        return
    tokens, adjusted = board["tokens"], board["adjusted_tokens"]
    cols = st.columns(3)
    cols[0].metric("Raw tokens (people)", short_number(tokens), help="Every token attributed to a person.")
    cols[1].metric(
        "Quality-adjusted tokens",
        short_number(adjusted),
        help="Suspected inflation removed, cache reads at a tenth, and use whose outcome yield is far below "
        "comparable peers' discounted. The Leaderboards page defines it in full.",
    )
    cols[2].metric(
        "Adjusted share of raw",
        f"{adjusted / tokens:.0%}" if tokens else "–",
        help="How much of the token scoreboard survives the quality adjustment.",
    )


def decoupling_section(weekly: pd.DataFrame, weeks: set, k: int) -> None:
    """Per top-level org: is token use growing faster than the outcomes it should produce?"""
    st.subheader("Decoupling monitor")
    weekly = weekly[weekly["week"].isin(weeks)]
    orgs = leaderboard.decoupling(weekly, k=k)
    n = leaderboard.DECOUPLING_WEEKS
    if orgs.empty:
        st.info(f"Needs {2 * n} complete weeks for an org of at least {k} people: widen the date range in the sidebar.")
        return
    st.caption(
        f"Tokens and outcome units in the last {n} complete weeks against the {n} before, per top-level org. "
        f"An org is decoupling when its tokens grew {leaderboard.TOKENS_GROWTH:.0%} or more while its outcomes "
        f"grew by less than a quarter as much."
    )
    decoupled = orgs[orgs["status"] == "decoupling"]  # never from zero outcomes: that growth is unbounded
    for row in decoupled.itertuples():
        outcomes = "fell" if row.outcomes_growth < 0 else f"grew only {row.outcomes_growth:+.0%}"
        st.warning(
            f"{md(row.org_name)}: tokens grew {row.tokens_growth:+.0%} while outcomes {outcomes}.",
            icon=":material/trending_up:",
        )
    if decoupled.empty:
        st.success("No org's token use is outgrowing its outcomes.", icon=":material/check_circle:")
    st.plotly_chart(charts.decoupling(weekly, orgs["org_name"].head(6).tolist()), key="decoupling_chart")
    table = orgs.replace([float("inf")], float("nan"))  # outcomes from none to some: shown blank, not "inf %"
    st.dataframe(
        table[["org_name", "people", "tokens_growth", "outcomes_growth", "measurable_share", "status"]],
        hide_index=True,
        column_config={
            "org_name": st.column_config.TextColumn("Org"),
            "people": st.column_config.NumberColumn("People", format="%d"),
            "tokens_growth": st.column_config.NumberColumn("Tokens growth", format="percent"),
            "outcomes_growth": st.column_config.NumberColumn(
                "Outcomes growth", format="percent", help="Blank when the earlier four weeks had no outcomes."
            ),
            "measurable_share": st.column_config.ProgressColumn(
                "Measurable",
                format="percent",
                min_value=0,
                max_value=1,
                help="Share of the org's tokens spent in tools that report outcomes; under half gives no verdict.",
            ),
            "status": st.column_config.TextColumn("Status"),
        },
        key="decoupling_table",
    )


def unattributed_note(summary: dict) -> None:
    tokens, stray = summary["tokens"], summary["unattributed_tokens"]
    if stray:
        st.caption(
            f"{stray / tokens:.1%} of all tokens come from {summary['unattributed_identities']} telemetry "
            "identities that match no person; they count in tool totals but in no org. "
            "`python -m analytics status` lists them."
        )


def complete_weeks(weekly: pd.DataFrame, first_day, last_day) -> pd.DataFrame:
    """The weeks (Monday starts) that lie wholly inside [first_day, last_day]."""
    monday = pd.to_datetime(weekly["week"])
    inside = (monday >= pd.Timestamp(first_day)) & (monday + pd.Timedelta(days=6) <= pd.Timestamp(last_day))
    return weekly[inside].reset_index(drop=True)


def _delta(latest: pd.Series, previous: pd.Series | None, col: str) -> str | None:
    if previous is None:
        return None
    points = round((latest[col] - previous[col]) * 100)
    return f"{points:+d} pts vs prior week" if points else None  # an unchanged share shows no arrow


def short_number(n: float) -> str:
    """1234567 -> 1.2M: compact figures for metrics."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            return f"{n / size:.1f}{suffix}"
    return f"{n:,.0f}"


def page(view) -> None:
    """Entry point for st.navigation: the viewer's loaders from the router, the shared filters via session state."""
    start, end = st.session_state["goodhart.range"]
    main(view.loaders, start, end)
