"""Demand & scenarios: daily token demand with and without suspected inflation, and finance's scenarios."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
import streamlit as st

from analytics import charts, scenarios
from analytics import forecast as fcast
from analytics.privacy import suppress_small_groups
from pages._shared import data
from pages.overview import short_number
from pages.suspects import md

MASE_LABEL = "MASE observed / adjusted (in-sample choice)"
COVERAGE_LABEL = "95 % interval coverage (in-sample choice)"
SCOPES = {"company": "The whole company", "tool": "One tool", "org": "One top-level org"}
QUANTILE_HELP = (
    "Capacity covers the busiest day of each simulated future. p50: half the futures have a busier day; "
    "p90 / p95: only one in ten / one in twenty do."
)


@dataclass(frozen=True)
class Scope:
    key: str  # used in widget keys, so each scope keeps its own prices and dates
    label: str
    tool: str | None = None
    org_id: str | None = None


def main(loaders: data.Loaders, store) -> None:
    st.title("Demand & scenarios")
    st.caption(
        "Daily tokens forecast with 95 % intervals, as the scoreboard counts them and without the suspected "
        "inflation, and what capacity and money each future needs. Every figure comes from simulated futures; "
        "the backtest at the bottom says how far to trust them. The forecast uses all the history; the sidebar's "
        "date range does not apply here."
    )
    rows = loaders.demand_days()
    if rows.empty:
        st.info(
            "No usage is loaded yet, so there is nothing to forecast. Load telemetry on the **Data** page or with "
            f"`python -m analytics ingest`; a forecast needs at least {fcast.MIN_FIT_DAYS} days of it."
        )
        return
    scope = scope_picker(loaders, rows)
    if scope is None:
        return
    with st.spinner("Backtesting the models and simulating this scope's demand (once per data load)…"):
        fc = loaders.demand_forecast(scope.tool, scope.org_id)
    if isinstance(fc, str):
        more = (
            ""
            if "stopped reporting" in fc
            else f" From {fcast.MIN_FIT_DAYS} days with data the page shows the seasonal-naive baseline; from "
            f"{fcast.MIN_BACKTEST_DAYS} a backtest picks the model."
        )
        st.info(f"No forecast for {md(scope.label)}: {md(fc)}.{more}")
        return
    refitting = loaders.demand_refitting(scope.tool, scope.org_id)
    if refitting is not None:
        st.caption(
            f"Fitted on the data up to {fc.history.index[-1]:%Y-%m-%d}. The forecast on the newest data (up to "
            f"{refitting:%Y-%m-%d}) is being fitted and replaces this one as soon as it is ready."
        )
    headline(fc)
    prices = loaders.demand_prices(scope.tool, scope.org_id)
    mix = fcast.token_mix(fcast.scope_rows(rows, tool=scope.tool, org_id=scope.org_id))
    scenario_panel(fc, scope, mix, prices, loaders.demand_model_mix(scope.tool, scope.org_id), store)
    backtest_panel(fc)


def scope_picker(loaders: data.Loaders, rows: pd.DataFrame) -> Scope | None:
    k = loaders.scope.k
    left, right = st.columns([1, 2])
    kind = left.radio(
        "Forecast for",
        list(SCOPES),
        format_func=SCOPES.get,
        key="demand.scope",
        help="The company's total, one tool's, or one top-level org's. Each is fitted and backtested on its own.",
    )
    if kind == "tool":
        listed = loaders.demand_tools()
        # Each tool's series covers all history, and the company's is their sum: judged on everyone who ever
        # used a tool, with a complement (tools share people, so the withheld pool must hold a tool of k people
        # itself), so the company minus the tools offered never shows fewer than k people's use.
        tools, _ = suppress_small_groups(listed, size_col="people_ever", k=k, overlapping=True)
        # then, of those, the ones with k people lately and still reporting (nothing current to forecast else)
        tools = tools[(tools["people"] >= k) & tools["tool"].isin(fcast.current_tools(rows))]
        hidden = len(listed) - len(tools)
        if tools.empty:
            right.info(f"No tool was used by at least {k} people in the last 28 days, so none can be shown on its own.")
            return None
        tool = right.selectbox(
            "Tool",
            list(tools["tool"]),
            key="demand.tool",
            help=f"Tools still reporting that at least {k} people used in the last 28 days"
            + (
                f"; {hidden} tool(s) used by fewer (or no longer reporting) are left out to protect individuals."
                if hidden
                else "."
            ),
        )
        return Scope(f"tool.{tool}", f"the tool {tool}", tool=tool)
    if kind == "org":
        listed = loaders.demand_orgs()
        # as for tools: judged on everyone whose use is in the org's series, with a complement, then recency
        orgs, _ = suppress_small_groups(listed, size_col="people_ever", k=k)
        orgs = orgs[(orgs["headcount"] >= k) & orgs["org_id"].isin(set(rows["org_id"]))]
        hidden = len(listed) - len(orgs)
        if orgs.empty:
            right.info(
                f"No top-level org has at least {k} people who used AI in the last 28 days, so none can be "
                "shown on its own."
            )
            return None
        names = dict(zip(orgs["org_id"], orgs["org_name"], strict=True))
        org_id = right.selectbox(
            "Top-level org",
            list(names),
            format_func=names.get,
            key="demand.org",
            help=f"Orgs with at least {k} people who used AI in the last 28 days"
            + (
                f"; {hidden} other org(s) are left out: smaller, quiet lately, or held back so the company minus the "
                "orgs shown reveals no small group."
                if hidden
                else "."
            ),
        )
        return Scope(f"org.{org_id}", f"the org {names[org_id]}", org_id=org_id)
    return Scope("company", "the whole company")


SHORT = {"seasonal_naive": "Naive", "ets": "ETS", "uc": "UC"}


def models_used(choice: dict[str, str]) -> str:
    """'ETS', or 'Naive + ETS' (genuine use and automation + suspected inflation)."""
    main, suspected = choice["genuine"], choice["suspected"]
    if main == suspected:
        return {"seasonal_naive": "Seasonal naive", "ets": "ETS", "uc": "Unobserved comp."}[main]
    return f"{SHORT[main]} + {SHORT[suspected]}"


def headline(fc: fcast.Forecast) -> None:
    bt = fc.backtest
    cols = st.columns(4)
    cols[0].metric(
        "Model used",
        models_used(fc.choice),
        help=f"Genuine use and automation: {fcast.MODEL_LABELS[fc.choice['genuine']]}. Suspected inflation: "
        f"{fcast.MODEL_LABELS[fc.choice['suspected']]}. Chosen by the rolling-origin backtest below.",
    )
    mase = [bt.mase("chosen", s) for s in fcast.SERIES]
    held_mase = [bt.mase("held_out", s) for s in fcast.SERIES]
    held = (
        " Chosen on the earlier origins alone and scored on the later ones (an honest out-of-sample check), the "
        "choice rule scores " + " / ".join(f"{v:.2f}" for v in held_mase) + "."
        if all(pd.notna(v) for v in held_mase)
        else ""
    )
    cols[1].metric(
        MASE_LABEL,
        " / ".join(f"{v:.2f}" for v in mase) if all(pd.notna(v) for v in mase) else "–",
        help="28 days ahead, for the models used: mean absolute error divided by the in-sample error of "
        "'same weekday last week', for observed demand and demand without suspected inflation. Compare with "
        "seasonal naive's own MASE in the backtest below: lower is better. Four weeks ahead is harder than "
        "one, so values above 1 are usual. In-sample choice: these are the best of the 9 model pairings on the "
        "same backtest origins they were chosen on, so they flatter the models." + held,
    )
    cover = [bt.coverage("chosen", s) for s in fcast.SERIES]
    cols[2].metric(
        COVERAGE_LABEL,
        " / ".join(f"{v:.0%}" for v in cover) if all(pd.notna(v) for v in cover) else "–",
        help="Observed / adjusted: share of backtest days whose actual tokens fell inside the 95 % interval, for "
        "the pairing chosen on those same days (in-sample choice). Near 95 % is honest; far below means the fans "
        "are too narrow, far above that they are wider than they need be.",
    )
    cols[3].metric(
        "History",
        f"{fcast.observed_days(fc.history)} days",
        help=f"Days with data, {fc.history.index[0]:%d %b %Y} to {fc.history.index[-1]:%d %b %Y}; "
        f"{int(fc.history['total'].isna().sum())} gap day(s) where a source did not report (missing, not zero).",
    )
    if not fc.beats_baseline:
        st.warning(fc.note, icon=":material/info:")
    else:
        st.caption(fc.note)


@st.fragment
def scenario_panel(fc: fcast.Forecast, scope: Scope, mix: dict, prices: dict, models: pd.DataFrame, store) -> None:
    """Controls, fan chart, capacity table and scenario store; a change reruns only this fragment."""
    start = fc.days[0].date()
    last = fc.days[-1].date()
    active_users = int(prices.get("active_users") or 0)
    st.subheader("Scenario")
    c1, c2, c3 = st.columns(3)
    horizon = c1.slider(
        "Horizon (days)",
        28,
        data.PAGE_HORIZON,
        90,
        step=7,
        key="demand.horizon",
        help="How far ahead to look. The model is fitted once; a shorter horizon shows the first days of it.",
    )
    kept = c1.slider(
        "Inflation that continues (%)",
        0,
        100,
        0,
        key="demand.kept",
        help="Share of the suspected inflated use that carries on once incentives change. 100 % gives the "
        "observed forecast; 0 % the one without suspected inflation.",
    )
    change = c2.date_input(
        "Incentives change on",
        value=start,
        min_value=start,
        max_value=last,
        key=f"demand.change.{scope.key}.{start}",  # new data, new first day: a fresh default
        help="Until this day all suspected inflation continues; from it, it fades to the share above.",
    )
    fade_weeks = c2.slider(
        "Fade-out (weeks)",
        0,
        26,
        0,
        key="demand.fade",
        help="How long the inflation takes to fall, linearly, to the share that continues. 0: at once.",
    )
    growth = c3.slider(
        "Organic growth of genuine use (% a year)",
        -50,
        200,
        0,
        step=5,
        key="demand.growth",
        help="Growth of genuine use on top of the trend the model found, compounding from the first forecast day.",
    )
    rollout_people = c3.number_input(
        "People added by a rollout",
        min_value=0,
        max_value=1_000_000,
        value=0,
        step=50,
        key=f"demand.rollout_people.{scope.key}",
        help=f"Each new person uses as much genuine AI as the average of the {active_users:,} people who used "
        "this scope in its last 28 days.",
    )
    rollout_date = c3.date_input(
        "Rollout date",
        value=min(start + timedelta(days=30), last),
        min_value=start,
        max_value=last,
        key=f"demand.rollout_date.{scope.key}.{start}",
        help="The day the new people start.",
    )
    if rollout_people and active_users <= 0:
        c3.warning(
            "The rollout is left out: nobody used this scope in its last 28 days, so there is no use per head "
            "to give the new people.",
            icon=":material/warning:",
        )
    with st.expander("Prices and capacity assumptions"):
        p1, p2, p3 = st.columns(3)
        price = {}
        defaults = fcast.Scenario()
        for i, t in enumerate(fcast.TOKEN_TYPES):
            seen = prices.get(t)
            value = float(seen) if seen is not None and pd.notna(seen) else getattr(defaults, f"usd_per_mtok_{t}")
            price[t] = (p1 if i < 2 else p2).number_input(
                f"USD per million {t.replace('_', ' ')} tokens",
                min_value=0.0,
                max_value=10_000.0,
                value=round(value, 4),
                step=0.05,
                format="%.4f",
                key=f"demand.price.{t}.{scope.key}",
                help=f"Default: the price book blended over this scope's model mix ({prices.get('models') or 0} "
                f"model(s)) in its last 28 days. Tokens are {mix.get(t, 0):.0%} {t.replace('_', ' ')}.",
            )
        per_gpu_hour = p3.number_input(
            "Tokens per GPU-hour",
            min_value=1_000.0,
            max_value=1e12,
            value=defaults.tokens_per_gpu_hour,
            step=500_000.0,
            format="%.0f",
            key="demand.tph",
            help="Throughput of one GPU serving your model mix, all token types together.",
        )
        gpu_cost = p3.number_input(
            "USD per GPU-hour",
            min_value=0.0,
            max_value=1_000.0,
            value=defaults.usd_per_gpu_hour,
            step=0.25,
            key="demand.gpu_usd",
            help="What one GPU-hour costs you (owned or rented).",
        )
        quantile = p3.radio(
            "Provision for", list(fcast.QUANTILES), index=1, horizontal=True, key="demand.q", help=QUANTILE_HELP
        )
        model_mix(models)
    scenario = fcast.Scenario(
        inflation_kept=kept / 100,
        change_date=change,
        fade_days=fade_weeks * 7,
        growth_pct_per_year=float(growth),
        rollout_date=rollout_date if rollout_people else None,
        rollout_headcount=int(rollout_people),
        usd_per_mtok_input=price["input"],
        usd_per_mtok_output=price["output"],
        usd_per_mtok_cache_read=price["cache_read"],
        usd_per_mtok_cache_write=price["cache_write"],
        tokens_per_gpu_hour=per_gpu_hour,
        usd_per_gpu_hour=gpu_cost,
        quantile=quantile,
    )
    shown = fc.truncate(horizon)
    paths = fcast.apply_scenario(shown, scenario, headcount=active_users)
    fans = fcast.fans(shown, scenario, paths, headcount=active_users)
    recent = fc.history.iloc[-max(horizon, 56) :]
    history = pd.DataFrame(
        {"day": recent.index, "observed": recent["total"], "adjusted": recent["genuine"] + recent["automation"]}
    )
    st.plotly_chart(charts.demand_fan(history, fans, title=f"Tokens per day for {scope.label}"), key="demand_fan_chart")
    table = capacity_table(paths, scenario, mix, fans, shown)
    save_and_compare(shown, scope, scenario, mix, active_users, horizon, store, current=(paths, table))


def model_mix(models: pd.DataFrame) -> None:
    if models.empty:
        return
    st.caption(
        "The model mix the default prices are blended over (last 28 days, prices in force on the last day; "
        "change them with `python -m analytics prices`). Models without prices of their own take the default row."
    )
    st.dataframe(
        models,
        hide_index=True,
        width="stretch",
        key="demand_model_mix",
        column_config={
            "model": "Model",
            "tokens": st.column_config.NumberColumn("Tokens", format="compact"),
            "share": st.column_config.NumberColumn("Share", format="percent"),
            "input": st.column_config.NumberColumn("Input $/Mtok", format="%.3f"),
            "output": st.column_config.NumberColumn("Output $/Mtok", format="%.3f"),
            "cache_read": st.column_config.NumberColumn("Cache read $/Mtok", format="%.3f"),
            "cache_write": st.column_config.NumberColumn("Cache write $/Mtok", format="%.3f"),
            "default_prices": st.column_config.CheckboxColumn("Default prices"),
        },
    )


CAPPED = f"not bounded by the model: capped at {fcast.CAP_MULTIPLE:g}× history, at least this"


def capacity_table(paths, scenario: fcast.Scenario, mix: dict, fans: dict, fc: fcast.Forecast) -> pd.DataFrame:
    """Draws the scenario's capacity table and returns it (fcast.capacity's), which the comparison reuses."""
    st.markdown("**Capacity and cost of the chosen scenario**")
    capped = fcast.capped_paths(fc, scenario)
    table = fcast.capacity(paths, scenario, mix, capped=capped)
    totals = {k: float(f["mean"].sum()) for k, f in fans.items()}
    st.caption(
        f"Over {fc.horizon} days: {short_number(totals['observed'])} tokens as observed, "
        f"{short_number(totals['adjusted'])} without suspected inflation, {short_number(totals['scenario'])} "
        f"in this scenario (means). Blended price ${fcast.price_per_token(scenario, mix) * 1e6:,.2f} per million "
        "tokens. GPUs cover the busiest day of the horizon in that share of simulated futures (p90: nine in "
        "ten futures never need more), assuming that day's load is spread evenly over 24 hours: the busiest "
        "hour needs more."
    )
    if not table["bounded"].all():
        unbounded = ", ".join(table.loc[~table["bounded"], "quantile"])
        st.warning(
            f"In {capped.mean():.0%} of the simulated futures some day reaches the guard of "
            f"{fcast.CAP_MULTIPLE:g}× the highest day seen, so at {unbounded} the peak and GPUs are set by that cap, "
            "not by the model: the true figure is higher and unknown. The backtest scores 28 days ahead; shorten "
            "the horizon for figures the model supports.",
            icon=":material/warning:",
        )
    st.dataframe(
        table.assign(
            chosen=table["chosen"].map({True: "◀ chosen", False: ""}),
            bounded=table["bounded"].map({True: "", False: CAPPED}),
        ),
        hide_index=True,
        width="stretch",
        key="demand_capacity",
        column_config={
            "quantile": "Quantile",
            "peak_tokens_per_day": st.column_config.NumberColumn("Peak tokens/day", format="compact"),
            "gpus": st.column_config.NumberColumn("GPUs needed", format="%d"),
            "gpu_usd_per_year": st.column_config.NumberColumn("GPU cost / year", format="dollar"),
            "tokens_per_day": st.column_config.NumberColumn("Mean tokens/day", format="compact"),
            "token_usd_per_year": st.column_config.NumberColumn("Token cost / year", format="dollar"),
            "chosen": "",
            "bounded": "Note",
        },
    )
    return table


def save_and_compare(
    fc, scope: Scope, scenario, mix, active_users: int, horizon: int, store, *, current: tuple | None = None
) -> None:
    """The save form and the comparison; `current`: the current scenario's paths and capacity table, if known."""
    st.markdown("**Saved scenarios**")
    with st.form("demand-save", clear_on_submit=False):
        name = st.text_input(
            "Scenario name",
            max_chars=scenarios.MAX_NAME,
            key="demand.name",
            help="Letters, digits, spaces and . , ( ) + % - _ ; saved with every control above.",
        )
        replace = st.checkbox(
            "Replace a saved scenario of the same name",
            key="demand.replace",
            help="Without this, a name already saved is refused rather than overwritten.",
        )
        submitted = st.form_submit_button("Save scenario")
    if submitted:
        try:
            saved = scenarios.save(store, name, scenario, scope=scope.key, horizon_days=horizon, replace=replace)
        except scenarios.ScenarioExists as exc:
            st.warning(f"Not saved: {md(exc)}. Tick 'Replace' to overwrite it.")
        except scenarios.ScenarioStoreError as exc:
            st.warning(f"Not saved, the scenario store is unavailable: {md(exc)}")
        except ValueError as exc:
            st.error(f"Not saved: {md(exc)}")
        else:
            st.success(f"Saved as “{md(saved)}”.")
    try:
        saved_list = scenarios.load_all(store)
    except scenarios.ScenarioStoreError as exc:
        st.warning(f"Saved scenarios are unavailable right now: {md(exc)}")
        saved_list = None
    named = {"Current (unsaved)": scenario}
    if saved_list is not None and saved_list.empty:
        st.caption("No saved scenarios yet: name this one above to keep it and compare it with others.")
    elif saved_list is not None:
        picked = st.multiselect(
            "Compare with",
            list(saved_list["name"]),
            default=list(saved_list["name"])[:4],
            key="demand.compare",
            help="Saved scenarios applied to this scope's forecast over the current horizon, side by side.",
        )
        by_name = dict(zip(saved_list["name"], saved_list["scenario"], strict=True))
        named.update({n: by_name[n] for n in picked})
    computed = {"Current (unsaved)": current} if current is not None else None
    table = fcast.compare(fc, named, mix, headcount=active_users, computed=computed)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="demand_compare",
        column_config={
            "scenario": "Scenario",
            "inflation_kept": st.column_config.NumberColumn("Inflation kept", format="percent"),
            "change_date": "Incentives change",
            "fade_days": "Fade (days)",
            "growth_pct_per_year": st.column_config.NumberColumn("Growth %/yr", format="%.0f"),
            "rollout_date": "Rollout",
            "rollout_headcount": "People added",
            "quantile": "Quantile",
            "tokens": st.column_config.NumberColumn("Tokens over horizon", format="compact"),
            "tokens_per_day": st.column_config.NumberColumn("Mean tokens/day", format="compact"),
            "peak_tokens_per_day": st.column_config.NumberColumn("Peak tokens/day", format="compact"),
            "gpus": "GPUs",
            "gpu_usd_per_year": st.column_config.NumberColumn("GPU cost / year", format="dollar"),
            "token_usd_per_year": st.column_config.NumberColumn("Token cost / year", format="dollar"),
            "bounded": st.column_config.CheckboxColumn(
                "Bounded by the model", help=f"Unticked: the peak is set by the cap ({CAPPED})."
            ),
        },
    )
    left, right = st.columns(2)
    left.download_button(
        "Download the comparison (CSV)",
        table.to_csv(index=False),
        file_name="demand-scenarios.csv",
        mime="text/csv",
        key="demand.export_compare",
        help="One row per scenario, as in the table above.",
    )
    right.download_button(
        "Download this scenario day by day (CSV)",
        fcast.scenario_table(fc, scenario, headcount=active_users).to_csv(index=False),
        file_name="demand-forecast.csv",
        mime="text/csv",
        key="demand.export_days",
        help="Per future day: observed, without suspected inflation and this scenario; mean and 95 % interval.",
    )


def backtest_panel(fc: fcast.Forecast) -> None:
    st.subheader("How accurate is this forecast?")
    bt = fc.backtest
    if bt.table.empty:
        st.info(
            f"Not enough history for a backtest: it needs {fcast.MIN_BACKTEST_DAYS} days (four weeks to fit, "
            f"{fcast.BACKTEST_HORIZON} to score) and this scope has {len(fc.history)}. The seasonal-naive baseline "
            "is used until then."
        )
        return
    st.markdown(
        f"Rolling-origin backtest: the models were fitted on the history up to each of {len(bt.origins)} weekly "
        f"origins ({bt.origins[0]:%d %b} to {bt.origins[-1]:%d %b %Y}) and scored on the {bt.horizon} days after "
        "it. **MASE** divides the mean absolute error by the in-sample error of the seasonal-naive forecast "
        "('same weekday last week', one week ahead), so compare each model with the seasonal-naive row: lower is "
        "better. **Coverage** is the share of days inside the 95 % interval: near 95 % is honest, well below "
        "means the fans are too narrow, well above that they are wider than they need be. The **Used** row is "
        "the best of 9 pairings on these same origins, an in-sample choice that flatters it; the **held out** "
        "row makes the same choice on the earlier half of the origins and scores it on the later half only."
    )
    labels = {
        **fcast.MODEL_LABELS,
        "chosen": f"Used: {models_used(fc.choice)} (best of 9 on these origins: in-sample choice)",
        "held_out": "Choice rule held out (picked on the earlier origins, scored on the later ones)",
    }
    table = bt.table.assign(
        model=bt.table["model"].map(labels),
        series=bt.table["series"].map({"observed": "Observed", "adjusted": "Without suspected inflation"}),
    )
    st.dataframe(
        table[["model", "series", "mase", "coverage", "folds", "days"]],
        hide_index=True,
        width="stretch",
        key="demand_backtest",
        column_config={
            "model": "Model",
            "series": "Series",
            "mase": st.column_config.NumberColumn("MASE", format="%.2f"),
            "coverage": st.column_config.NumberColumn("95 % coverage", format="percent"),
            "folds": "Origins",
            "days": "Days scored",
        },
    )
    st.caption(fc.note)


def page(view) -> None:
    main(view.loaders, scenarios.path_for(data.db_path()))
