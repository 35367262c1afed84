"""Plotly figures, one function per chart: DataFrame in, Figure out (tests check the data, not pixels)."""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

SCOREBOARD = "#9aa5b1"  # what the token scoreboard says
REAL = "#b5442c"  # what the outcomes say
_LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    "hovermode": "x unified",
    "legend": {"orientation": "h", "y": -0.2},
}


def _label(text: object) -> str:
    """Data-derived text for a Plotly label: Plotly reads a subset of HTML in labels, so escape it."""
    return html.escape(str(text), quote=False)


def adoption_over_time(weekly: pd.DataFrame) -> go.Figure:
    """Weekly share of headcount active as the scoreboard counts it, against outcome-backed (real) use.

    `weekly` has week, active_share, real_share, active, real_active, headcount.
    """
    fig = go.Figure()
    series = (
        ("active_share", "active", "Active (scoreboard: any use)", SCOREBOARD),
        ("real_share", "real_active", "Real (use backed by outcomes)", REAL),
    )
    for share, people, name, color in series:
        fig.add_scatter(
            x=weekly["week"],
            y=weekly[share],
            name=name,
            mode="lines+markers",
            line={"color": color, "width": 3},
            customdata=weekly[[people, "headcount"]],
            hovertemplate="%{y:.0%} (%{customdata[0]:,} of %{customdata[1]:,})<extra></extra>",
        )
    fig.update_layout(
        title="Weekly adoption: scoreboard vs real", yaxis={"tickformat": ".0%", "range": [0, 1.02]}, **_LAYOUT
    )
    return fig


def usage_by_tool(weekly: pd.DataFrame, measure: str = "tokens") -> go.Figure:
    """Stacked weekly bars of `measure` (tokens or cost_usd) per tool."""
    label = {"tokens": "Tokens", "cost_usd": "Cost (USD)"}[measure]
    fig = go.Figure()
    for tool, part in weekly.groupby("tool", sort=True):
        fig.add_bar(
            x=part["week"],
            y=part[measure],
            name=_label(tool),
            hovertemplate="%{fullData.name}: "
            + ("%{y:$,.0f}" if measure == "cost_usd" else "%{y:,.3s}")
            + "<extra></extra>",
        )
    fig.update_layout(
        barmode="stack",
        title=f"{label} per week by tool",
        yaxis={"tickprefix": "$" if measure == "cost_usd" else ""},
        **_LAYOUT,
    )
    return fig


def org_comparison(orgs: pd.DataFrame) -> go.Figure:
    """Per top-level org: scoreboard-active share next to real share (horizontal bars)."""
    orgs = orgs.sort_values("active_share")
    fig = go.Figure()
    for share, name, color in (("active_share", "Active (scoreboard)", SCOREBOARD), ("real_share", "Real", REAL)):
        fig.add_bar(
            y=orgs["org_name"].map(_label),
            x=orgs[share],
            name=name,
            orientation="h",
            marker_color=color,
            hovertemplate="%{x:.0%}<extra>" + name + "</extra>",
        )
    fig.update_layout(
        barmode="group",
        title="Top-level orgs: share of headcount, scoreboard vs real",
        xaxis={"tickformat": ".0%", "range": [0, 1.02]},
        **{**_LAYOUT, "hovermode": "y unified"},
    )
    return fig
