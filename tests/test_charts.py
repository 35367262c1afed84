"""Chart builders and small-group suppression: the data they carry, not pixels."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import charts
from analytics.privacy import suppress_small_groups


def test_adoption_chart_carries_both_shares():
    weekly = pd.DataFrame(
        {
            "week": pd.to_datetime(["2026-10-05", "2026-10-12"]),
            "headcount": [10, 10],
            "active": [9, 8],
            "real_active": [5, 6],
            "active_share": [0.9, 0.8],
            "real_share": [0.5, 0.6],
        }
    )
    fig = charts.adoption_over_time(weekly)
    assert [list(t.y) for t in fig.data] == [[0.9, 0.8], [0.5, 0.6]]
    assert [t.customdata.tolist() for t in fig.data] == [[[9, 10], [8, 10]], [[5, 10], [6, 10]]]


def test_usage_chart_stacks_one_trace_per_tool_and_escapes_names():
    weekly = pd.DataFrame(
        {
            "week": ["2026-10-05"] * 2,
            "tool": ["<script>x</script>", "copilot"],
            "tokens": [100, 50],
            "cost_usd": [1.0, 0.5],
        }
    )
    fig = charts.usage_by_tool(weekly, "cost_usd")
    assert fig.layout.barmode == "stack"
    assert {t.name: list(t.y) for t in fig.data} == {"&lt;script&gt;x&lt;/script&gt;": [1.0], "copilot": [0.5]}
    with pytest.raises(KeyError):
        charts.usage_by_tool(weekly, "requests")


def test_org_chart_escapes_org_names():
    orgs = pd.DataFrame({"org_name": ["R&D <b>", "Sales"], "active_share": [0.9, 0.5], "real_share": [0.4, 0.3]})
    fig = charts.org_comparison(orgs)
    assert list(fig.data[0].y) == ["Sales", "R&amp;D &lt;b&gt;"]  # sorted by active share


def test_groups_under_k_are_withheld():
    frame = pd.DataFrame({"org": ["a", "b", "c"], "headcount": [4, 5, None]})
    visible, hidden = suppress_small_groups(frame, k=5, complement=False)
    assert list(visible["org"]) == ["b"] and hidden == 2
    # `a` alone would be the total minus `b`: its complement `b` is held back too
    visible, hidden = suppress_small_groups(frame, k=5)
    assert visible.empty and hidden == 3
    # once the withheld groups hold k people together, the rest can be shown
    more = pd.DataFrame({"org": ["a", "b", "c", "d"], "headcount": [4, 9, 1, 30]})
    visible, hidden = suppress_small_groups(more, k=5)
    assert list(visible["org"]) == ["b", "d"] and hidden == 2
    more.loc[2, "headcount"] = 0  # a group of nobody reveals nobody, but `a` needs a complement: `b`, the smallest
    visible, hidden = suppress_small_groups(more, k=5)
    assert list(visible["org"]) == ["d"] and hidden == 3
    with pytest.raises(ValueError, match="at least 1"):
        suppress_small_groups(frame, k=0)


def test_a_withheld_group_of_nobody_with_a_value_and_overlapping_groups_still_get_a_complement():
    # Sales has no one *now* (its size) but its past tokens are in the total: withholding it alone would let
    # the total minus Engineering show them
    orgs = pd.DataFrame({"org": ["eng", "sales", "ops"], "people": [40, 0, 9], "tokens": [900, 70, 50]})
    assert list(suppress_small_groups(orgs, size_col="people", k=5)[0]["org"]) == ["eng", "ops"]
    visible, hidden = suppress_small_groups(orgs, size_col="people", k=5, value_col="tokens")
    assert list(visible["org"]) == ["eng"] and hidden == 2
    # tools share people: two small tools of 3 users each may be the same 3 people, so the pool needs a tool
    # of k users of its own
    tools = pd.DataFrame({"tool": ["a", "b", "c", "d"], "users": [3, 3, 7, 50]})
    assert list(suppress_small_groups(tools, size_col="users", k=5)[0]["tool"]) == ["c", "d"]
    visible, hidden = suppress_small_groups(tools, size_col="users", k=5, overlapping=True)
    assert list(visible["tool"]) == ["d"] and hidden == 3


def test_rank_slope_escapes_names_and_gathers_places_beyond_the_top():
    rows = pd.DataFrame(
        {
            "entity_name": ["<b>Ann</b>", "Bo", "Cy"],
            "rank_raw": [1, 2, 40],
            "rank_adjusted": [30, 1, 2],
            "tokens": [900, 500, 100],
            "adjusted_tokens": [10, 400, 90],
            "flagged": [True, False, False],
            "scheduled_tokens": [0, 0, 50],
        }
    )
    fig = charts.rank_slope(rows, top=2)
    people = [t for t in fig.data if t.x[0] is not None]
    assert [list(t.y) for t in people] == [[1, 3.5], [2, 1], [3.5, 2]]  # beyond the top: the "below" row
    assert people[0].text == ("&lt;b&gt;Ann&lt;/b&gt; #1", "")
    assert [t.line.color for t in people] == [charts.REAL, charts.SCOREBOARD, charts.AUTOMATION]
    assert list(fig.layout.yaxis.ticktext) == ["1", "2", "below 2"]


def test_decoupling_indexes_four_week_totals_to_100():
    weeks = pd.date_range("2026-09-07", periods=6, freq="7D")
    weekly = pd.DataFrame(
        {"org_name": "Eng", "week": weeks, "tokens": [1, 1, 1, 1, 2, 2], "outcome_units": [1, 1, 1, 1, 1, 1]}
    )
    fig = charts.decoupling(weekly, ["Eng"])
    tokens, outcomes = fig.data
    assert list(tokens.y[3:]) == [100, 125, 150] and list(outcomes.y[3:]) == [100, 100, 100]


def test_the_overview_pools_tools_few_people_used_each_week_with_a_complement():
    from pages.overview import OTHER_TOOLS, pool_small_tools

    week = pd.Timestamp("2026-09-07")
    usage = pd.DataFrame(
        {
            "week": [week] * 4 + [week + pd.Timedelta(days=7)] * 2,
            "tool": ["a", "b", "tiny", "c", "a", "b"],
            "users": [40, 9, 1, 12, 40, 9],
            "tokens": [1000, 300, 777, 200, 900, 250],
            "cost_usd": [10.0, 3.0, 7.0, 2.0, 9.0, 2.5],
        }
    )
    pooled = pool_small_tools(usage, 5)
    first = pooled[pooled["week"] == week].set_index("tool")
    # `tiny` (one person) is never on its own, and the smallest larger tool goes with it into the pool
    assert set(first.index) == {"a", "c", OTHER_TOOLS} and first.loc[OTHER_TOOLS, "tokens"] == 777 + 300
    assert pooled["tokens"].sum() == usage["tokens"].sum()  # nothing lost, only grouped
    assert set(pooled.loc[pooled["week"] != week, "tool"]) == {"a", "b"}  # a week with no small tool is as it was
    assert pool_small_tools(usage, 1).equals(usage)


def _validated_fan(history: pd.DataFrame, fans: dict, *, title: str):
    """The demand fan as it was built before, trace by trace through Plotly's validation."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for column, name, color, extra in (
        ("observed", "Observed history", charts.SCOREBOARD, "observed"),
        ("adjusted", "History without suspected inflation", charts.FAN_COLORS["adjusted"], "without suspected"),
    ):
        fig.add_scatter(
            x=history["day"],
            y=history[column],
            name=name,
            mode="lines",
            line={"color": color, "width": 1.5},
            connectgaps=False,
            hovertemplate=f"%{{y:,.3s}} tokens<extra>{extra}</extra>",
        )
    for key, fan in fans.items():
        color, name = charts.FAN_COLORS[key], charts.FAN_NAMES[key]
        fig.add_scatter(
            x=fan["day"], y=fan["upper"], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"
        )
        fig.add_scatter(
            x=fan["day"],
            y=fan["lower"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=charts._rgba(color, 0.18),
            name=f"{name}: 95 % interval",
            hoverinfo="skip",
        )
        fig.add_scatter(
            x=fan["day"],
            y=fan["mean"],
            mode="lines",
            name=f"{name}: mean",
            line={"color": color, "width": 2.5, "dash": "dot" if key == "scenario" else "solid"},
            hovertemplate="%{y:,.3s} tokens<extra>" + charts._label(key) + "</extra>",
        )
    fig.update_layout(
        title=charts._label(title), yaxis={"title": "tokens per day", "rangemode": "tozero"}, **charts._LAYOUT
    )
    return fig


def test_the_demand_fan_is_the_figure_the_validated_build_gives():
    import json

    import numpy as np
    import plotly.io as pio

    days = pd.date_range("2026-10-01", periods=20, freq="D", name="day")
    future = pd.date_range("2026-10-21", periods=10, freq="D", name="day")
    rng = np.random.default_rng(0)
    observed = rng.uniform(1e9, 2e9, 20)
    observed[5] = np.nan  # a gap day, drawn as a break
    history = pd.DataFrame({"day": days, "observed": observed, "adjusted": observed * 0.8})
    fans = {
        key: pd.DataFrame({"day": future, "mean": m, "lower": m * 0.9, "upper": m * 1.1})
        for key, m in (
            ("observed", rng.uniform(1e9, 2e9, 10)),
            ("adjusted", rng.uniform(1e9, 2e9, 10)),
            ("scenario", np.arange(10, dtype="int64")),
        )
    }
    title = "Tokens per day for the org <R&D>"
    got, want = charts.demand_fan(history, fans, title=title), _validated_fan(history, fans, title=title)
    assert json.loads(got.to_json()) == json.loads(want.to_json())
    # what Streamlit sends (plotly_chart: to_dict, then JSON without validation)
    sent = [json.loads(pio.to_json(fig.to_dict(), validate=False)) for fig in (got, want)]
    assert sent[0] == sent[1]
    assert got.data[-1].name == "Chosen scenario: mean"
    assert got.layout.title.text == "Tokens per day for the org &lt;R&amp;D&gt;"
