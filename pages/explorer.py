"""Org explorer: the org tree by tokens and adjusted share, drilled from org to team to person, within scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import streamlit as st

from analytics import access, charts, org
from analytics.access import Scope
from pages import overview
from pages._shared import data
from pages._shared.text import md

PAGE = "Org explorer"
# Session state holds only where the viewer has drilled to. Every query is bound to the scope, so a value
# here outside it finds nothing and is reset: it can narrow what is shown, never widen it.
FOCUS = "org.focus"  # the team (node id) drilled into; None is the top of the viewer's tree
DRILL = "org.drill"
PEOPLE = "org.people"
PERSON = "org.person"


def main(loaders: data.Loaders, scope: Scope, start: date, end: date, *, audit: Callable[[str, str], bool]) -> None:
    """The page for one viewer. `audit(page, subject)` records an individual-level view; False withholds it."""
    st.title("Org explorer")
    seen = md(scope.describe())
    st.caption(f"{seen[:1].upper()}{seen[1:]} · weeks overlapping {start:%d %b %Y} – {end:%d %b %Y}")
    if scope.teams == ():
        st.info("The Org explorer shows teams, and your role sees your own usage only: open **My usage** instead.")
        return
    k = 1 if scope.individuals else scope.k
    cells = loaders.org_tree(start, end)
    if cells.empty:
        st.info(
            "Nobody in your view used AI tools in this period"
            + ("" if k == 1 else f", or fewer than {k} people did (no group smaller than {k} is shown)")
            + ". Widen the date range in the sidebar."
        )
        return

    focus = focus_cell(cells)
    breadcrumbs(cells, focus)
    # a viewer shown every team of their line sees groups of a few people: such a view is recorded first, and
    # when it cannot be, the tree (and with it the drill, the totals and the peers) is withheld
    if k > 1 or audit_small_cells(cells, focus, audit):
        drill(cells, focus)
        headline(cells, focus)
        st.plotly_chart(charts.org_treemap(org.subtree(cells, focus), root=focus), key="org_treemap")
        privacy_note(cells, k)

        st.subheader("Against its peers")
        peers_section(cells, focus)
    st.subheader("People")  # recorded on its own before anyone is listed
    people_section(loaders, scope, cells, focus, start, end, k, audit)


def focus_cell(cells: pd.DataFrame) -> str | None:
    """The cell drilled into: the team in session state when the viewer's tree shows it, else the top (the one
    top team, or None when several teams sit at the top)."""
    teams = cells[cells["kind"] == "node"]
    wanted = st.session_state.get(FOCUS)
    if wanted is not None:
        match = teams.loc[teams["node_id"] == wanted, "cell_id"]
        if len(match):
            return match.iloc[0]
        st.session_state[FOCUS] = None
        st.caption("The team you had open is not in your view for this period, so the explorer is back at the top.")
    top = cells[cells["parent_cell"].isna()]
    return top["cell_id"].iloc[0] if len(top) == 1 and top["kind"].iloc[0] == "node" else None


def audit_small_cells(cells: pd.DataFrame, focus: str | None, audit: Callable[[str, str], bool]) -> bool:
    """For a viewer shown every team of their line (k = 1): when a cell shown here (the tree below the focus,
    its peers) covers fewer people than `access.k_configured()`, it is a view of a few individuals (a
    'Direct members' cell can be one sub-team lead), so record it. False (the caller then withholds the
    tree, after `audit` said why) when it could not be recorded."""
    shown = org.subtree(cells, focus)["people"]
    if focus is not None:
        shown = pd.concat([shown, org.peers(cells, focus)["people"]])
    small = shown.astype("float64")
    if not ((small > 0) & (small < access.k_configured())).any():
        return True
    node = cells.loc[cells["cell_id"] == focus, "node_id"].iloc[0] if focus is not None else None
    if audit(PAGE, node or "top of the tree"):
        return True
    st.info(
        f"Teams here include groups of fewer than {access.k_configured()} people, which count as individual-level "
        "data: the tree is shown only once the view is recorded in the audit log."
    )
    return False


def _go(node_id: str | None) -> None:
    st.session_state[FOCUS] = node_id
    st.session_state[DRILL] = None  # nothing chosen in the new place yet
    st.session_state[PERSON] = None


def _drilled() -> None:
    _go(st.session_state.get(DRILL))


def breadcrumbs(cells: pd.DataFrame, focus: str | None) -> None:
    """The path from the top of the viewer's tree to the team drilled into, each step a button back to it."""
    labels = dict(zip(cells["cell_id"], cells["label"], strict=True))
    nodes = dict(zip(cells["cell_id"], cells["node_id"], strict=True))
    path = org.lineage(cells, focus)
    several = int(cells["parent_cell"].isna().sum()) > 1
    with st.container(horizontal=True, gap="small"):
        if several:
            st.button(
                "All teams in view",
                key="org.crumb.top",
                on_click=_go,
                args=(None,),
                type="tertiary",
                disabled=focus is None,
                icon=":material/account_tree:",
            )
        for i, cell in enumerate(path):
            if several or i:
                st.markdown("›")
            st.button(
                md(labels[cell]),
                key=f"org.crumb.{i}",
                on_click=_go,
                args=(nodes[cell],),
                type="tertiary",
                disabled=cell == focus,
            )


def drill(cells: pd.DataFrame, focus: str | None) -> None:
    under = cells["parent_cell"].isna() if focus is None else cells["parent_cell"].eq(focus)
    below = cells[(cells["kind"] == "node") & under]
    if below.empty:
        st.caption("No team below this one is shown on its own: the explorer cannot drill further here.")
        return
    below = below.sort_values("tokens", ascending=False)
    names = dict(zip(below["node_id"], below["label"], strict=True))
    people = dict(zip(below["node_id"], below["people"], strict=True))
    st.selectbox(
        "Drill into a team",
        list(names),
        index=None,
        key=DRILL,
        on_change=_drilled,
        format_func=lambda n: f"{names.get(n, n)} ({people.get(n, 0):,} people)",
        placeholder="Choose a team below this one…",
        help="Open one of the teams shown below this one; the path above leads back. Pooled 'Other' cells "
        "cannot be opened: they exist so that no small group can be picked out.",
    )


def _totals(cells: pd.DataFrame, focus: str | None) -> pd.Series:
    if focus is not None:
        return cells.loc[cells["cell_id"] == focus].iloc[0]
    top = cells[cells["parent_cell"].isna()]
    sums = top[["people", *org.SUM_COLS]].sum()
    return org.with_rates(sums.to_frame().T).iloc[0]


def headline(cells: pd.DataFrame, focus: str | None) -> None:
    row = _totals(cells, focus)
    cols = st.columns(4)
    cols[0].metric("People using AI", f"{int(row['people']):,}", help="People with any AI-tool use in the period.")
    cols[1].metric("Tokens", overview.short_number(float(row["tokens"])), help="Every token, as the scoreboard counts.")
    cols[2].metric(
        "Adjusted share",
        f"{row['adjusted_share']:.0%}",
        help="Quality-adjusted tokens as a share of raw tokens (the Leaderboards page explains the adjustment): "
        "low means much of the use is suspected padding, cheap re-sent context or far below peers' outcomes.",
    )
    cols[3].metric(
        "Suspected share",
        f"{row['suspected_share']:.0%}",
        help="Share of tokens in weeks where detection suspects inflation.",
    )


def privacy_note(cells: pd.DataFrame, k: int) -> None:
    legend = "Area is tokens; colour is the adjusted share, red below the top cell's own and teal above it. "
    if k > 1:
        pools = int((cells["kind"] == "pool").sum())
        st.caption(
            legend + f"Every cell covers at least {k} people who used AI tools, and so does every difference between "
            "a team and the teams shown inside it: smaller teams, and teams whose absence would reveal a small group, "
            f"are pooled into {pools} 'Other' cell(s), which cannot be opened."
        )
    else:
        st.caption(
            legend + "Inside your own management line every team is shown; 'Direct members' are the people placed "
            "directly in a team rather than in a team below it."
        )


def peers_section(cells: pd.DataFrame, focus: str | None) -> None:
    if focus is None:
        st.info("Drill into a team to compare it with comparable teams.")
        return
    if cells.loc[cells["cell_id"] == focus, "parent_cell"].isna().all() and cells["parent_cell"].isna().sum() == 1:
        st.info("This is the top of your view, with no team beside it: drill into a team to compare it with its peers.")
        return
    table = org.peers(cells, focus)
    if len(table) <= 1:
        st.info(
            "No comparable team is shown in your view: peers are the teams beside this one, or at the same level "
            "and of similar size, and only teams shown in the tree above qualify."
        )
        return
    others = table.iloc[1:]
    me = table.iloc[0]
    cols = st.columns(3)
    for col, (field, label, fmt) in zip(
        cols,
        (
            ("tokens_per_person", "Tokens per person", overview.short_number),
            ("adjusted_share", "Adjusted share", lambda v: f"{v:.0%}"),
            ("suspected_share", "Suspected share", lambda v: f"{v:.0%}"),
        ),
        strict=True,
    ):
        median = float(others[field].astype("float64").median())
        value = float(me[field])
        col.metric(
            label,
            fmt(value),
            delta=(fmt(value - median) if field == "tokens_per_person" else f"{(value - median) * 100:+.0f} pts")
            + " vs peer median",
            delta_color="off"
            if field == "tokens_per_person"
            else ("inverse" if field == "suspected_share" else "normal"),
            help=f"This team against the median of the {len(others)} peer team(s) below.",
        )
    st.dataframe(
        table.drop(columns=["cell_id", "node_id"]),
        hide_index=True,
        key="org_peers",
        column_config={
            "label": st.column_config.TextColumn("Team"),
            "relation": st.column_config.TextColumn("Peer because", help="Beside this team, or at its level and size"),
            "people": st.column_config.NumberColumn("People", format="%d"),
            "tokens": st.column_config.NumberColumn("Tokens", format="compact"),
            "tokens_per_person": st.column_config.NumberColumn("Tokens / person", format="compact"),
            "adjusted_share": st.column_config.ProgressColumn(
                "Adjusted share", format="percent", min_value=0, max_value=1
            ),
            "suspected_share": st.column_config.NumberColumn("Suspected share", format="percent"),
            "cost_per_person": st.column_config.NumberColumn("Cost / person", format="dollar"),
            "outcomes_per_person": st.column_config.NumberColumn("Outcomes / person", format="%.1f"),
        },
    )


def people_section(
    loaders: data.Loaders,
    scope: Scope,
    cells: pd.DataFrame,
    focus: str | None,
    start: date,
    end: date,
    k: int,
    audit: Callable[[str, str], bool],
) -> None:
    if not scope.individuals:
        st.caption(
            f"People are not listed for your role: the explorer shows teams of at least {k} people only. Team "
            "leads see the people in their own line; admins see everyone."
        )
        return
    node = cells.loc[cells["cell_id"] == focus, "node_id"].iloc[0] if focus is not None else None
    where = md(cells.loc[cells["cell_id"] == focus, "label"].iloc[0]) if focus is not None else "your view"
    if not st.toggle(
        f"Show the people in {where}",
        key=PEOPLE,
        help="Lists each person in this team and the teams below it. Every such view is recorded in the audit log.",
    ):
        return
    if not audit(PAGE, f"people of {node or scope.describe()}"):
        return
    people = loaders.org_people(start, end, node)
    if people.empty:
        st.info("Nobody here used AI tools in this period.")
        return
    shown = people.assign(name=people.get("display_name", people["user_id"]).fillna(people["user_id"]))
    st.dataframe(
        shown[
            [
                "name",
                "team_name",
                "tokens",
                "adjusted_share",
                "suspected_share",
                "flagged",
                "active_weeks",
                "real_outcomes",
            ]
        ],
        hide_index=True,
        key="org_people",
        column_config={
            "name": st.column_config.TextColumn("Person"),
            "team_name": st.column_config.TextColumn("Team"),
            "tokens": st.column_config.NumberColumn("Tokens", format="compact"),
            "adjusted_share": st.column_config.ProgressColumn(
                "Adjusted share", format="percent", min_value=0, max_value=1
            ),
            "suspected_share": st.column_config.NumberColumn("Suspected share", format="percent"),
            "flagged": st.column_config.CheckboxColumn("Suspected", help="Suspect weeks in the period"),
            "active_weeks": st.column_config.NumberColumn("Weeks used", format="%d"),
            "real_outcomes": st.column_config.NumberColumn("Outcomes", format="%.0f"),
        },
    )
    names = dict(zip(shown["user_id"], shown["name"], strict=True))
    if st.session_state.get(PERSON) not in names:
        st.session_state[PERSON] = None  # someone outside this team (or this period) is not kept open
    person = st.selectbox(
        "Open one person",
        list(names),
        index=None,
        key=PERSON,
        format_func=lambda u: str(names.get(u, u)),
        placeholder="Choose a person…",
        help="Their weeks in this period. Opening a person is recorded in the audit log.",
    )
    if person is None or not audit(PAGE, person):
        return
    person_section(loaders, people[people["user_id"] == person].iloc[0], names[person], start, end)


def person_section(loaders: data.Loaders, row: pd.Series, name: str, start: date, end: date) -> None:
    weeks = loaders.org_person_weeks(row["user_id"], start, end)
    st.markdown(f"#### {md(name)}")
    cols = st.columns(4)
    cols[0].metric("Tokens", overview.short_number(float(row["tokens"])))
    cols[1].metric("Adjusted share", f"{row['adjusted_share']:.0%}" if pd.notna(row["adjusted_share"]) else "–")
    cols[2].metric("Suspect weeks", f"{int(row['suspect_weeks'])} of {int(row['active_weeks'])}")
    cols[3].metric("Outcomes", f"{row['real_outcomes']:,.0f}", help="Outcome events in the period (edits, commits, …).")
    if weeks.empty:
        st.info("No weeks of usage inside your view in this period.")
        return
    chart = pd.DataFrame(
        {
            "Kept tokens": weeks["tokens"] - weeks["suspected_tokens"],
            "Suspected tokens": weeks["suspected_tokens"],
        }
    ).set_index(pd.to_datetime(weeks["week"]))
    st.bar_chart(chart, stack=True, color=[charts.SCOREBOARD, charts.REAL], y_label="tokens per week")
    st.caption("The Suspected inflation page holds the evidence behind any suspect week.")


def page(view) -> None:
    """Entry point for st.navigation: the router hands over the view; the date range comes from the sidebar."""
    start, end = st.session_state["goodhart.range"]
    main(view.loaders, view.scope, start, end, audit=view.audit)
