"""My usage: a person's own AI use, week by week, as the organisation's dashboards count it."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from analytics import charts
from analytics import leaderboard as lb
from pages import overview


def main(loaders, start, end, audit: Callable[[str], bool] | None = None) -> None:
    st.title("My usage")
    st.caption(
        f"Your own AI use in the weeks overlapping {start:%d %b %Y} – {end:%d %b %Y}, as Goodhart's other pages count "
        "it. Nobody else's data is on this page."
    )
    if loaders.scope.user_id is None:
        st.info("Goodhart's data has no person with your e-mail address, so there is no usage of yours to show.")
        return
    weeks = loaders.my_weeks(start, end)
    if weeks.empty:
        st.info("No AI usage of yours in this date range. Widen the range in the sidebar.")
        return
    if audit is not None and not audit("own usage"):
        return
    units = lb.outcome_units(weeks)
    tokens, suspected = int(weeks["tokens"].sum()), int(weeks["suspected_tokens"].sum())
    cols = st.columns(4)
    cols[0].metric("Tokens", overview.short_number(tokens), help="Input, output, cache read and cache write.")
    cols[1].metric("Cost", f"${weeks['cost_usd'].sum():,.0f}", help="As the source reports it, else priced.")
    cols[2].metric(
        "Outcome units",
        f"{units.sum():,.0f}",
        help="Accepted edit 1, review 3, commit 5, closed ticket 5, merged pull request 20 — only from tools "
        "that report outcomes.",
    )
    cols[3].metric(
        "Counted as suspected",
        overview.short_number(suspected),
        help="Tokens in weeks detection marked as suspect. People review every case; nothing happens automatically.",
    )
    st.plotly_chart(charts.usage_by_tool(weeks, "tokens"), key="mine_tokens")
    table = (
        weeks.assign(outcome_units=units)
        .groupby("week", as_index=False)[
            ["tokens", "cost_usd", "suspected_tokens", "scheduled_tokens", "outcome_units"]
        ]
        .sum()
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "week": st.column_config.DateColumn("Week of"),
            "tokens": st.column_config.NumberColumn("Tokens", format="compact"),
            "cost_usd": st.column_config.NumberColumn("Cost", format="dollar"),
            "suspected_tokens": st.column_config.NumberColumn("Suspected", format="compact"),
            "scheduled_tokens": st.column_config.NumberColumn(
                "Declared automation", format="compact", help="Scheduled jobs you declared; never suspected."
            ),
            "outcome_units": st.column_config.NumberColumn("Outcome units", format="%.0f"),
        },
    )
    st.download_button(
        "Download my weeks (CSV)",
        weeks.assign(week=pd.to_datetime(weeks["week"]).dt.date).to_csv(index=False).encode(),
        file_name="my-ai-usage.csv",
        mime="text/csv",
        help="Every week and tool of yours in the date range.",
    )


def page(view) -> None:
    start, end = st.session_state["goodhart.range"]
    main(view.loaders, start, end, audit=lambda subject: view.audit("My usage", subject))
