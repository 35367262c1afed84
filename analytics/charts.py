"""Plotly figures, one function per chart: DataFrame in, Figure out (tests check the data, not pixels)."""

from __future__ import annotations

import html

import numpy as np
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
        ("real_share", "real_active", "Real (backed by outcomes, not suspected)", REAL),
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


SPLIT_COLORS = {"genuine": "#2f6f4f", "suspected": REAL, "automation": SCOREBOARD}
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def token_split(split: pd.DataFrame, measure: str = "tokens") -> go.Figure:
    """Weekly tokens (or cost) stacked as genuine, suspected inflation and declared automation.

    `split` has week and genuine_/suspected_/automation_ + `tokens` or `cost_usd`.
    """
    fig = go.Figure()
    names = {
        "genuine": "Genuine",
        "suspected": "Suspected inflation",
        "automation": "Declared automation",
    }
    for part, name in names.items():
        fig.add_bar(x=split["week"], y=split[f"{part}_{measure}"], name=name, marker_color=SPLIT_COLORS[part])
    title = "Tokens per week" if measure == "tokens" else "Cost per week (USD)"
    fig.update_layout(barmode="stack", title=title, **_LAYOUT)
    return fig


def hour_heatmap(cells: pd.DataFrame) -> go.Figure:
    """Tokens by local weekday and hour; `cells` has weekday (1 = Monday), hour, tokens."""
    grid = pd.DataFrame(0.0, index=range(1, 8), columns=range(24))
    for row in cells.itertuples():
        grid.at[int(row.weekday), int(row.hour)] = float(row.tokens)
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[f"{h:02d}" for h in range(24)],
            y=list(_WEEKDAYS),
            colorscale="Reds",
            colorbar={"title": "tokens"},
            hovertemplate="%{y} %{x}:00 local<br>%{z:,.0f} tokens<extra></extra>",
        )
    )
    fig.update_layout(title="When the tokens were used (person's local time)", margin=_LAYOUT["margin"])
    fig.update_yaxes(autorange="reversed")
    return fig


def gap_histogram(gaps: pd.DataFrame) -> go.Figure:
    """Share of gaps between consecutive prompts per log-spaced bin, for the person and their peers."""
    fig = go.Figure()
    for who, color in (("peers", SCOREBOARD), ("this person", REAL)):
        part = gaps[gaps["who"] == who]
        fig.add_bar(x=10 ** part["log10_gap"], y=part["share"], name=who.capitalize(), marker_color=color, opacity=0.75)
    fig.update_layout(barmode="overlay", title="Time between prompts (a loop shows as one narrow spike)", **_LAYOUT)
    fig.update_xaxes(type="log", title="seconds")
    fig.update_yaxes(tickformat=".0%", title="share of gaps")
    return fig


def tokens_vs_outcomes(weeks: pd.DataFrame) -> go.Figure:
    """Weekly tokens against real outcomes for one person, suspect weeks marked."""
    fig = go.Figure()
    fig.add_bar(x=weeks["week"], y=weeks["tokens"], name="Tokens", marker_color=SCOREBOARD)
    fig.add_scatter(
        x=weeks["week"], y=weeks["peer_tokens"], name="Peer median tokens", mode="lines", line={"dash": "dot"}
    )
    fig.add_scatter(
        x=weeks["week"],
        y=weeks["real_outcomes"],
        name="Real outcomes",
        mode="lines+markers",
        yaxis="y2",
        line={"color": "#2f6f4f", "width": 3},
    )
    suspect = weeks[weeks["suspect"].astype(bool)]
    fig.add_scatter(
        x=suspect["week"],
        y=suspect["tokens"],
        name="Suspect week",
        mode="markers",
        marker={"color": REAL, "size": 10, "symbol": "x"},
    )
    fig.update_layout(
        title="Tokens against outcomes, week by week",
        yaxis={"title": "tokens"},
        yaxis2={"title": "outcomes", "overlaying": "y", "side": "right", "rangemode": "tozero"},
        **_LAYOUT,
    )
    return fig


AUTOMATION = "#4a6fa5"  # declared automation


def rank_slope(rows: pd.DataFrame, top: int) -> go.Figure:
    """Each entity's raw rank joined to its quality-adjusted rank; suspects and declared automation marked.

    `rows` has entity_name, rank_raw, rank_adjusted, tokens, adjusted_tokens, flagged and optionally
    scheduled_tokens. Ranks beyond `top` are drawn at the bottom edge, labelled with their number.
    """
    fig = go.Figure()
    floor = top + 1.5
    automation = rows.get("scheduled_tokens", pd.Series(0, index=rows.index)).fillna(0) > 0
    for i, row in rows.reset_index(drop=True).iterrows():
        kind = "suspected" if row["flagged"] else ("automation" if automation.iloc[i] else "other")
        color = {"suspected": REAL, "automation": AUTOMATION, "other": SCOREBOARD}[kind]
        ranks = (int(row["rank_raw"]), int(row["rank_adjusted"]))
        name = _label(row["entity_name"])
        # places beyond the top meet on one "below" row, unlabelled (the hover says where they went)
        fig.add_scatter(
            x=["Raw tokens", "Quality-adjusted"],
            y=[min(r, floor) for r in ranks],
            mode="lines+markers+text",
            line={"color": color, "width": 3 if kind != "other" else 2},
            marker={"size": 9, "symbol": "x" if kind == "suspected" else "circle"},
            text=[f"{name} #{ranks[0]}" if ranks[0] <= top else "", f"#{ranks[1]} {name}" if ranks[1] <= top else ""],
            textposition=["middle left", "middle right"],
            name=name,
            showlegend=False,
            hovertemplate=f"{name}<br>raw #{ranks[0]}: {row['tokens']:,.0f} tokens<br>"
            f"adjusted #{ranks[1]}: {row['adjusted_tokens']:,.0f}<extra>{kind}</extra>",
        )
    for kind, color, symbol in (("Suspected", REAL, "x"), ("Declared automation", AUTOMATION, "circle"),
                                ("Other", SCOREBOARD, "circle")):  # fmt: skip
        fig.add_scatter(x=[None], y=[None], mode="markers", marker={"color": color, "symbol": symbol, "size": 9},
                        name=kind)  # fmt: skip
    fig.update_layout(
        title=f"Rank shift: raw top {top} and adjusted top {top}",
        height=max(360, 28 * (top + 2)),
        yaxis={
            "autorange": "reversed",
            "range": [floor + 0.5, 0.5],
            "title": "rank",
            "tickvals": [*range(1, top + 1, 1 if top <= 20 else 5), floor],
            "ticktext": [*(str(r) for r in range(1, top + 1, 1 if top <= 20 else 5)), f"below {top}"],
        },
        xaxis={"range": [-0.9, 1.9]},
        **{**_LAYOUT, "hovermode": "closest"},
    )
    fig.add_hline(y=top + 0.75, line={"dash": "dot", "color": "#bbbbbb"})
    return fig


def decoupling(weekly: pd.DataFrame, orgs: list[str]) -> go.Figure:
    """Per org: tokens and outcome units as indices (first four weeks = 100), four-week rolling sums.

    `weekly` has org_name, week, tokens, outcome_units (complete weeks only).
    """
    fig = go.Figure()
    palette = ["#1b6ca8", "#b5442c", "#2f6f4f", "#7a4fa0", "#c28a00", "#4a6fa5", "#8c564b", "#555555"]
    for i, org in enumerate(orgs):
        part = weekly[weekly["org_name"] == org].sort_values("week")
        if len(part) < 5:
            continue
        color = palette[i % len(palette)]
        for measure, dash, label in (("tokens", "solid", "tokens"), ("outcome_units", "dot", "outcomes")):
            rolling = part[measure].rolling(4).sum()
            base = rolling.dropna().iloc[0] if rolling.notna().any() else None
            if not base:
                continue
            fig.add_scatter(
                x=part["week"],
                y=rolling / base * 100,
                name=f"{_label(org)}: {label}",
                mode="lines",
                line={"color": color, "dash": dash, "width": 2.5},
                legendgroup=_label(org),
                hovertemplate="%{y:.0f}<extra>%{fullData.name}</extra>",
            )
    fig.update_layout(
        title="Tokens (solid) against outcomes (dotted), four-week totals indexed to 100",
        yaxis={"title": "index"},
        **_LAYOUT,
    )
    return fig


FAN_COLORS = {"observed": SCOREBOARD, "adjusted": "#2f6f4f", "scenario": REAL}
FAN_NAMES = {
    "observed": "Observed (as the scoreboard counts)",
    "adjusted": "Without suspected inflation",
    "scenario": "Chosen scenario",
}


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def demand_fan(history: pd.DataFrame, fans: dict[str, pd.DataFrame], *, title: str) -> go.Figure:
    """Daily tokens: the history (observed and without suspected inflation), then one fan per forecast.

    `history` has day, observed, adjusted (NaN on gap days, drawn as breaks); each fan (keys observed,
    adjusted, scenario) has day, mean, lower, upper (95 % interval).

    Redrawn on every scenario change, so built from plain values without Plotly's per-property validation (11
    traces: 10 ms of a 12 ms build at 100 M events); the figure, and its JSON, are what the validated build of
    the same traces gives (tests/test_charts.py compares them), keys in Plotly's order and `type` last.
    """

    def line(x, y, **props) -> dict:
        return {**props, "x": np.asarray(x), "y": np.asarray(y), "type": "scatter"}

    traces = []
    for column, name, color, extra in (
        ("observed", "Observed history", SCOREBOARD, "observed"),
        ("adjusted", "History without suspected inflation", FAN_COLORS["adjusted"], "without suspected"),
    ):
        traces.append(
            line(
                history["day"],
                history[column],
                connectgaps=False,
                hovertemplate=f"%{{y:,.3s}} tokens<extra>{extra}</extra>",
                line={"color": color, "width": 1.5},
                mode="lines",
                name=name,
            )
        )
    for key, fan in fans.items():
        color, name = FAN_COLORS[key], FAN_NAMES[key]
        day = fan["day"]
        traces.append(line(day, fan["upper"], hoverinfo="skip", line={"width": 0}, mode="lines", showlegend=False))
        traces.append(
            line(
                day,
                fan["lower"],
                fill="tonexty",
                fillcolor=_rgba(color, 0.18),
                hoverinfo="skip",
                line={"width": 0},
                mode="lines",
                name=f"{name}: 95 % interval",
            )
        )
        traces.append(
            line(
                day,
                fan["mean"],
                hovertemplate="%{y:,.3s} tokens<extra>" + _label(key) + "</extra>",
                line={"color": color, "dash": "dot" if key == "scenario" else "solid", "width": 2.5},
                mode="lines",
                name=f"{name}: mean",
            )
        )
    layout = {"title": {"text": _label(title)}, "yaxis": {"rangemode": "tozero", "title": {"text": "tokens per day"}}}
    return go.Figure(data=traces, layout={**layout, **_LAYOUT}, _validate=False)


# Adjusted share: low (most tokens padding or discounted) in the outcomes colour, high in a calm teal.
ADJUSTED_SCALE = [[0.0, REAL], [0.5, "#eadfc8"], [1.0, "#2f7f7a"]]


def _centred_scale(shares: pd.Series, mid: float) -> dict:
    """A colour range on [0, 1] as wide above `mid` as below it (cut at 0 and 1), the neutral colour at `mid`."""
    spread = max(float(shares.max()) - mid, mid - float(shares.min()), 0.02)
    low, high = max(0.0, mid - spread), min(1.0, mid + spread)
    at = (mid - low) / (high - low) if high > low else 0.5
    scale = [[0.0, ADJUSTED_SCALE[0][1]], [at, ADJUSTED_SCALE[1][1]], [1.0, ADJUSTED_SCALE[2][1]]]
    return {"colorscale": scale, "cmin": low, "cmax": high}


def org_treemap(cells: pd.DataFrame, *, root: str | None = None, maxdepth: int = 3) -> go.Figure:
    """The org tree as a treemap: area by tokens, colour by adjusted share (adjusted / raw tokens), centred on the
    root's share so that teams below the whole show red and teams above it teal.

    `cells` has cell_id, parent_cell, label, people, tokens, adjusted_tokens, suspected_tokens, adjusted_share and
    suspected_share (analytics/org.py tree_cells), a parent's tokens the sum of its children's. `root` is the cell
    drawn at the top (its parent is cut); several cells at the top are gathered under one "All teams in view".
    """
    cells = cells.copy()
    if root is not None:
        cells.loc[cells["cell_id"] == root, "parent_cell"] = None
    top = cells["parent_cell"].isna()
    rows = pd.DataFrame(
        {
            "id": cells["cell_id"].astype(str),
            "parent": cells["parent_cell"].where(~top, "").astype(str),
            "label": cells["label"].map(_label),
            "tokens": cells["tokens"].astype("int64"),
            "people": cells["people"].astype("float64"),
            "adjusted_share": cells["adjusted_share"].astype("float64").fillna(0),
            "suspected_share": cells["suspected_share"].astype("float64").fillna(0),
        }
    )
    if top.sum() > 1:
        sums = cells.loc[top, ["people", "tokens", "adjusted_tokens", "suspected_tokens"]].astype("float64").sum()
        whole = {
            "id": "all",
            "parent": "",
            "label": "All teams in view",
            "tokens": int(cells.loc[top, "tokens"].sum()),
            "people": sums["people"],
            "adjusted_share": sums["adjusted_tokens"] / sums["tokens"] if sums["tokens"] else 0.0,
            "suspected_share": sums["suspected_tokens"] / sums["tokens"] if sums["tokens"] else 0.0,
        }
        rows["parent"] = rows["parent"].where(rows["parent"] != "", "all")
        rows = pd.concat([pd.DataFrame([whole]), rows], ignore_index=True)
    fig = go.Figure(
        go.Treemap(
            ids=rows["id"],
            labels=rows["label"],
            parents=rows["parent"],
            values=rows["tokens"],
            branchvalues="total",
            maxdepth=maxdepth,
            marker={
                "colors": rows["adjusted_share"],
                **_centred_scale(rows["adjusted_share"], float(rows["adjusted_share"].iloc[0])),
                "colorbar": {"title": {"text": "Adjusted share"}, "tickformat": ".0%"},
            },
            customdata=rows[["people", "adjusted_share", "suspected_share"]].to_numpy(),
            hovertemplate="<b>%{label}</b><br>%{value:,.3s} tokens · %{customdata[0]:,.0f} people<br>"
            "adjusted share %{customdata[1]:.0%} · suspected %{customdata[2]:.0%}<extra></extra>",
            texttemplate="%{label}<br>%{customdata[1]:.0%} adjusted",
            pathbar={"visible": True},
        )
    )
    fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=560)
    return fig
